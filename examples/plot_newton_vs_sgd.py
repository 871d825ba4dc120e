"""Newton's method against stochastic gradient descent on one convergence plot.

Fits mlbasics.LogisticRegression (L2, C=1) on scikit-learn's breast-cancer data (standardised, 569
samples, 30 features) with Newton's method and with four stochastic gradient variants, all on the
same objective ``F``, and draws the suboptimality ``F(W_k) - F*`` against the number of passes over
the data and against wall-clock time. ``F*`` is the objective of a Newton fit at ``tol=1e-12``.

The SGD variants:

* plain SGD, one sample per update, Bottou's ``"optimal"`` schedule (the compiled loop);
* the same, averaged from the first update (Polyak-Ruppert: the estimate is the mean of the
  iterates, ``average=True``);
* Adam on mini-batches of 32 samples at a constant rate 0.01;
* momentum (0.9) on mini-batches of 32 samples at a constant rate 0.01.

Every SGD variant is fitted once before the runs that are plotted, so that the times do not include
loading the compiled (numba) loop.

How the passes are counted. One SGD epoch is one pass. For Newton the count is exact for the method
``solver="newton"`` picks on these data (a Cholesky solve of the full Hessian; the script checks it):
the start costs two passes (scores ``X W_0`` and the gradient ``X^T R``), and every iteration three:
the Hessian ``X^T D X``, the scores of the direction ``X d`` (the line search then moves the scores
along ``X d`` without touching ``X``) and the gradient at the new point. The Hessian pass costs about
``d / 2`` times the flops of a gradient pass, which is why the time axis is drawn too. Neither count
includes the evaluation of ``F`` and of the optimality measure that every fit records after each
iteration or epoch (``convergence_``; SGD's stopping rule reads it): it is in the times, for both
methods, since the recorded times are those of the fit.

What to look for: Newton's suboptimality falls slowly for a step or two and then squares at every
iteration (quadratic convergence), reaching the rounding floor in under ten iterations and a few
milliseconds; the stochastic methods gain 0.4 (averaged SGD) to 1.0 digit of ``F - F*`` (relative to the
start) in their first two epochs and their second after 9 (plain SGD) to 39 (momentum) epochs, and crawl:
plain SGD along the ``O(1/t)`` rate of decaying steps, the constant-rate mini-batch methods down to a
noise level set by their rate. The average of the iterates since the *first* update still carries
the large early steps of the ``"optimal"`` schedule and forgets them only as ``1/t``: on this problem
it lags plain SGD (starting the average later, ``average=k``, helps). See the documentation page
"Stochastic gradient descent for logistic regression" (``docs/theory/sgd.rst``).

Run: ``python examples/plot_newton_vs_sgd.py [--output FILE] [--quick]``.
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from mlbasics import LogisticRegression

PROBLEM = dict(penalty="l2", C=1.0)
SGD_VARIANTS = {
    "SGD (optimal)": dict(),
    "averaged SGD": dict(average=True),
    "Adam, batch 32": dict(optimizer="adam", batch_size=32, learning_rate="constant", eta0=0.01),
    "momentum, batch 32": dict(
        optimizer="momentum", batch_size=32, learning_rate="constant", eta0=0.01
    ),
}
EPOCHS = {"full": 100, "quick": 5}


def newton_passes(n_records):
    """Passes over X made by Newton-Cholesky to reach iterate k = 0, 1, ...: 0, then 2 + 3 k."""
    k = np.arange(n_records)
    return np.where(k == 0, 0, 2 + 3 * k)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="newton_vs_sgd.png")
    parser.add_argument("--quick", action="store_true", help=f"{EPOCHS['quick']} epochs (for CI)")
    args = parser.parse_args(argv)
    epochs = EPOCHS["quick" if args.quick else "full"]
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)

    best = LogisticRegression(**PROBLEM, tol=1e-12).fit(X, y).objective_
    # A tolerance tight enough to show the quadratic phase down to the rounding floor.
    newton = LogisticRegression(**PROBLEM, solver="newton", tol=1e-10).fit(X, y)
    if newton.solver_ != "newton-cholesky":
        raise RuntimeError(f"the pass count assumes newton-cholesky, got {newton.solver_}")
    runs = {
        f"Newton [{newton.solver_}]": (newton.convergence_, newton_passes(len(newton.convergence_)))
    }
    for label, params in SGD_VARIANTS.items():
        model = LogisticRegression(
            **PROBLEM, solver="sgd", max_iter=epochs, tol=None, random_state=0, **params
        )
        model.set_params(max_iter=1).fit(X, y)  # warm-up: load the compiled loop
        model.set_params(max_iter=epochs).fit(X, y)
        runs[label] = (model.convergence_, np.arange(len(model.convergence_)))

    floor = 1e-15 * abs(best)  # a zero gap would vanish from a log axis
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    print(f"F* = {best:.12g}")
    for label, (trace, passes) in runs.items():
        gap = np.maximum(trace.objective - best, floor)
        style = dict(marker="o", ms=4, lw=2) if label.startswith("Newton") else dict(lw=1.5)
        axes[0].semilogy(passes, gap, label=label, **style)
        axes[1].loglog(np.maximum(trace.time, 1e-5) * 1e3, gap, label=label, **style)
        print(f"{label:>26}: {len(trace) - 1:4d} iterations/epochs, {passes[-1]:4d} passes, "
              f"{trace.time[-1] * 1e3:8.1f} ms, F - F* = {trace.objective[-1] - best:.3e}")  # fmt: skip
    axes[0].set(xlabel="passes over the data", title="per pass over the data")
    axes[1].set(xlabel="wall-clock time of the fit (ms, log scale)", title="per time")
    for ax in axes:
        ax.set_ylabel(r"$F(W_k) - F^*$")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    fig.suptitle(
        "LogisticRegression, L2, C=1, on breast cancer (standardised): Newton vs SGD, "
        f"{epochs} epochs"
    )
    fig.savefig(args.output, dpi=110)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
