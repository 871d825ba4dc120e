"""The gap of SMO falling, watched through scikit-learn's callbacks.

Fits mlbasics.SVC (RBF kernel, C=10, hinge loss, the default tol=1e-3) on a standardised
``make_classification`` problem of 20 000 training samples, 20 features and 5% flipped labels
(2 000 with ``--quick``), twice:

1. with a recording callback, :class:`ChunkRecorder`, that keeps, at the end of every SMO chunk
   (2 000 pair updates), the iteration count, the seconds since the solver started, the dual
   objective ``D(alpha)`` (minimised form, libsvm's ``obj``) and the gap ``m(alpha) - M(alpha)``,
   all read from the model the callback is handed (``fitted_estimator``);
2. with the same recorder and a stopping callback, :class:`GapTarget`, that ends the fit at the
   first chunk whose gap is below ``GAP_TARGET`` (fifty times ``tol``).

It draws the gap (log scale) against the iterations and against the seconds, and the dual
objective above its final value, prints one line per chunk, and compares the stopped model with
the converged one. The script also checks what the documentation says of a stopped fit: no
ConvergenceWarning, ``converged_`` False, a feasible dual point (``0 <= alpha_i <= C`` and
``sum_i y_i alpha_i = 0``) and the same path as the full run up to the stop (the solver is
deterministic).

Which solver: 20 000 samples of dense data with a named kernel and the hinge loss are at least
``BATCHED_MIN`` (6 000), so the fit goes to the batched working sets of
``mlbasics.svm._batched``: rounds of 256 variables, each solved by a local SMO on its 256 x 256
kernel block, the gradient of all samples updated once per round, and no shrinking. An iteration
is one pair update of a local SMO, O(256) work where a pair update of the plain SMO is O(n), so the
run takes several times as many of them. The hook still comes every 2 000 of them. With
``--quick`` the plain pair SMO, with shrinking, solves the problem.

What to look for (full size): against the iterations the gap stays between 4.9 and 7.5 for the
first ten chunks, while the rounds bring the support vectors in (about 600 of the final 5 400 after
the first chunk, 4 500 after the tenth), then falls roughly geometrically (close to a straight line
on the log axis), but not monotonically: a round brings its own 256 variables near their optimum,
and its gradient update moves the optimality conditions of all the others. The dual objective falls
at every pair update, and its distance to its final value falls steadily. Against the seconds the
first four chunks are the slow ones: each round computes the kernel rows of its new variables, and
the first 2 621 rows are also the first writes to the 200 MB row cache, whose memory the operating
system maps then. Later chunks take a few hundredths of a second, a little more near the end, where
a round makes fewer pair updates. The one flat step is the last record: at ``tol=1e-3`` this problem
is close enough to the rounding of the float32 cache that the solver recomputes the gradient of the
converged run with float64 kernel values (a second record at the same iteration count, printed with
"float64 check"), which costs about as much as a prediction on the training set; that record's
objective is recomputed from the float64 gradient too (the model's ``objective_``), a little below
the one the solver kept by summing its steps on float32 rows, the reference of the third panel. The two runs
follow the same path iteration for iteration, but their seconds differ: the stopped run, the second
fit in the process, usually reaches a given chunk sooner, the first chunks of a process's first large
fit being the slow ones (compiled code loaded, memory written for the first time; timings on a
shared machine are noisy, the iterations are exact). The model stopped at the gap target predicts the held-out samples
almost exactly as the converged one, in half of the iterations.
See the documentation page "Watching a fit" (``docs/theory/watching_a_fit.rst``).

Run: ``python examples/plot_watching_a_fit.py [--output FILE] [--quick]``.
"""

import argparse
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import EngFormatter
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from mlbasics import SVC

PROBLEM = dict(kernel="rbf", C=10.0, tol=1e-3)
SIZES = {"full": (20_000, 5_000), "quick": (2_000, 500)}  # training, held-out samples
GAP_TARGET = 0.05


class ChunkRecorder:
    """Records iterations, seconds, dual objective and gap at the end of every SMO chunk.

    For a binary SVC: the model handed over mid-fit has one trace, ``convergence_[0]``, that of
    the run so far, the last entry being this chunk (with more classes, the problem being solved
    is the last trace).
    """

    def __init__(self):
        self.rows = []

    def setup(self, estimator, context):
        self.rows = []  # one fit, one record

    def on_fit_task_begin(self, estimator, context):
        pass  # solver iterations are reported when they are over: nothing to do here

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name == "smo chunk" and fitted_estimator is not None:
            trace = fitted_estimator.convergence_[0]
            self.rows.append(
                (
                    int(fitted_estimator.n_iter_[0]),
                    trace.time[-1],
                    trace.objective[-1],
                    trace.optimality[-1],
                )
            )
        return False  # a recorder never asks to stop

    def teardown(self, estimator, context):
        pass

    def as_arrays(self):
        """``iterations, seconds, objective, gap``: one array each, one entry per chunk."""
        return tuple(np.array(column) for column in zip(*self.rows, strict=True))


class GapTarget:
    """Asks SMO to stop at the end of the first chunk whose gap m - M is below ``gap``."""

    def __init__(self, gap):
        self.gap = gap

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name != "smo chunk" or fitted_estimator is None:
            return False
        return bool(fitted_estimator.convergence_[0].optimality[-1] < self.gap)

    def teardown(self, estimator, context):
        pass


def make_problem(n_train, n_test):
    X, y = make_classification(n_train + n_test, 20, n_informative=10, flip_y=0.05, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=n_train, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def check_stopped_fit(stopped, full_record, stopped_record, y_train):
    """What a fit stopped by a callback must be; raises if it is not."""
    if stopped.converged_ or stopped.fit_status_ != 1:
        raise RuntimeError("a fit stopped by a callback must say that it did not converge")
    # dual_coef_ holds y_i alpha_i, with y_i = +1 for classes_[1] (scikit-learn's binary sign)
    sign = np.where(y_train[stopped.support_] == stopped.classes_[1], 1.0, -1.0)
    alpha = sign * stopped.dual_coef_[0]
    if not (alpha.min() > 0 and alpha.max() <= PROBLEM["C"] * (1 + 1e-12)):
        raise RuntimeError(f"alpha leaves (0, C]: from {alpha.min()} to {alpha.max()}")
    balance = abs(stopped.dual_coef_[0].sum())
    if balance > 1e-9 * PROBLEM["C"] * len(y_train):
        raise RuntimeError(f"sum_i y_i alpha_i = {balance:.3g} is not 0")
    k = len(stopped_record.rows)
    for name, full, short in zip(
        ("iterations", "objective", "gap"),
        np.array(full_record.rows)[:k, [0, 2, 3]].T,
        np.array(stopped_record.rows)[:, [0, 2, 3]].T,
        strict=True,
    ):
        if not np.array_equal(full, short):
            raise RuntimeError(f"the stopped run left the full run's path ({name})")
    return balance


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="watching_a_fit.png")
    parser.add_argument("--quick", action="store_true", help="2 000 training samples (for CI)")
    args = parser.parse_args(argv)
    n_train, n_test = SIZES["quick" if args.quick else "full"]
    X_train, X_test, y_train, y_test = make_problem(n_train, n_test)
    SVC(**PROBLEM).fit(X_train[:200], y_train[:200])  # warm-up: load the compiled SMO

    record = ChunkRecorder()
    start = time.perf_counter()
    full = SVC(**PROBLEM).set_callbacks(record).fit(X_train, y_train)
    full_seconds = time.perf_counter() - start

    stopped_record = ChunkRecorder()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a requested stop is no failure
        stopped = (
            SVC(**PROBLEM)
            .set_callbacks(stopped_record, GapTarget(GAP_TARGET))
            .fit(X_train, y_train)
        )
    stopped_seconds = time.perf_counter() - start
    balance = check_stopped_fit(stopped, record, stopped_record, y_train)

    iterations, seconds, objective, gap = record.as_arrays()
    print(f"SVC(rbf, C={PROBLEM['C']:g}, tol={PROBLEM['tol']:g}) on {n_train} samples, 20 features")
    print(
        f"{'chunk':>5} {'iterations':>10} {'seconds':>8} {'dual objective':>16} {'gap m - M':>10}"
    )
    for chunk, row in enumerate(record.rows, start=1):
        # a record at the iterate of the one before: the gap of the float64 gradient, which SMO
        # checks at the end when the float32 cache's rounding may matter at tol
        again = chunk > 1 and row[0] == record.rows[chunk - 2][0]
        note = "  (float64 check)" if again else ""
        print(f"{chunk:5d} {row[0]:10d} {row[1]:8.2f} {row[2]:16.6f} {row[3]:10.2e}{note}")
    agree = np.mean(stopped.predict(X_test) == full.predict(X_test))
    print(
        f"full run:    {full.n_iter_[0]:6d} iterations, {full_seconds:6.2f} s, converged_="
        f"{full.converged_}, duality gap P - D = {full.duality_gap_[0]:.3g}, "
        f"held-out accuracy {full.score(X_test, y_test):.4f}"
    )
    print(
        f"gap < {GAP_TARGET:g}: {stopped.n_iter_[0]:6d} iterations, {stopped_seconds:6.2f} s, "
        f"converged_={stopped.converged_}, duality gap P - D = {stopped.duality_gap_[0]:.3g}, "
        f"held-out accuracy {stopped.score(X_test, y_test):.4f}"
    )
    print(
        f"the two agree on {agree:.2%} of the held-out samples; the stopped run followed the "
        f"full run's path for its {len(stopped_record.rows)} chunks; |sum y alpha| = {balance:.1e}"
    )

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), constrained_layout=True)
    stop_iterations, stop_seconds, _, stop_gap = stopped_record.as_arrays()
    for ax, x, x_stop in ((axes[0], iterations, stop_iterations), (axes[1], seconds, stop_seconds)):
        ax.semilogy(x, gap, "o-", ms=3, label="full run (recorded)")
        ax.semilogy(x_stop, stop_gap, "x", ms=8, label=f"run stopped by GapTarget({GAP_TARGET:g})")
        ax.axhline(PROBLEM["tol"], color="k", ls=":", lw=1, label="tol (SMO's own stop)")
        ax.axhline(GAP_TARGET, color="C1", ls="--", lw=1, label="gap target")
        ax.set_ylabel(r"gap $m(\alpha) - M(\alpha)$")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set(xlabel="SMO iterations (pair updates)", title="gap per chunk of 2000 iterations")
    axes[1].set(xlabel="seconds since the solver started", title="the same, against time")
    axes[0].legend()
    # the reference is the first entry at the final iterate: the objective as the solver kept it,
    # a sum of steps on float32 kernel rows like every entry before it (the float64 check's record
    # after it, if any, is the objective_ of the model, recomputed from the float64 gradient)
    before = iterations < iterations[-1]
    above = objective[before] - objective[np.argmax(~before)]
    axes[2].semilogy(iterations[before], np.maximum(above, 1e-12), "o-", ms=3)
    axes[2].set(
        xlabel="SMO iterations (pair updates)",
        ylabel=r"$D(\alpha_k) - D(\alpha_{\mathrm{final}})$",
        title="dual objective above its final value",
    )
    axes[2].grid(True, which="both", alpha=0.3)
    for ax in (axes[0], axes[2]):
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))  # 100k: the counts run to 6 digits
    fig.suptitle(
        f"mlbasics.SVC (rbf, C={PROBLEM['C']:g}) on {n_train} samples: "
        "what a recording callback sees after each SMO chunk"
    )
    fig.savefig(args.output, dpi=110)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
