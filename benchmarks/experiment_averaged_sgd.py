"""Experiment: how close to the optimum can averaged SGD get in 30 epochs on breast cancer?

The SGD issue asks for averaged SGD within 1e-3 (relative) of Newton's optimum in at most 30
epochs on standardised breast-cancer data, L2, C = 1. ``tests/linear_model/test_sgd.py`` keeps
that point as a strict xfail; this script holds the evidence behind it, in two parts.

1. **The floor of averaging.** For SGD that draws its samples independently, Polyak and Juditsky
   (1992) show that the averaged iterate after T updates satisfies, asymptotically,
   ``E f(w_T) - f* = tr(H^{-1} S) / (2 T)``, with ``f = F / n`` the per-sample objective, ``H``
   its Hessian at the optimum and ``S`` the covariance of the per-sample gradients there;
   asymptotically no method that sees T independent noisy gradients does better (the Cramér-Rao
   bound of the problem). The script computes that number at T = 30 n. Only sampling *without* replacement
   (a new permutation every epoch, what ``shuffle=True`` does) can go below it.
2. **Runs.** Worst and median relative gap over ``--seeds`` seeds for the settings tried:
   mlbasics with a constant rate and the average over the last epochs (plain and AdaGrad, the
   best found), scikit-learn's ``SGDClassifier`` with the same problem (``alpha = 1 / n``), and a
   rate that decays linearly to zero over the 30 epochs (emulated with ``warm_start``: one
   1-epoch fit per rate; its last iterate, since averaging the tail of such a run gains nothing).

Measured conclusion (2026-12-04, ``--seeds 10``): the floor for independent sampling is
2.9e-3. Every averaged setting stays above 1e-3 for the median seed already: the best is AdaGrad,
rate 0.3, averaged over the last 10 epochs (worst 2.6e-3, median 1.7e-3); a constant rate 0.05
averaged over the last 20 epochs gives 4.3e-3 / 3.7e-3, scikit-learn's SGDClassifier with the
same settings 5.0e-3 / 3.9e-3. The linear decay comes closest: 1.28e-3 worst, 0.88e-3 median.
A numba prototype of plain SGD with reshuffling (not kept) searched step decays (halving every 6
to 12 epochs, x0.3, 1/k, 1/sqrt(k), cosine, linear) with the average of all iterates or of the
epoch ends from epoch 15 to 29, over 20 seeds: best worst case 1.15e-3. An implicit-update
variant (the loss step solved exactly per sample) and AdaGrad with the same decays did worse
(1.6e-3 and 1.7e-3 at best).

A second prototype (2026-12-04, not kept either) tried Richardson-Romberg extrapolation of
constant-rate averages (Dieuleveut, Durmus and Bach, 2017): ``2 avg(gamma) - avg(2 gamma)`` removes
most of the bias of a constant rate (from 2.5e-3 to 3e-5 at gamma = 0.02 on long runs), but two
runs of 15 epochs each cannot shed their start-up transient: the smallest ten or so Hessian
eigenvalues are within 1.2 alpha, and ``alpha n = 1`` here, so those directions shrink by only
about gamma per epoch. Best two-run result: 9.2e-3 worst (20 + 10 epochs); 3.4e-3 at 30 + 30.
The only setting under 1e-3 on 20 seeds was contrived for this problem: each epoch's
permutation followed by its reverse, a rate of 0.08 for 5 epochs and then linear to 0 at epoch
30, and the estimate 1.6 mean(epochs 28-29) - 0.6 mean(epochs 18-27). It was chosen on seeds
0-19 (worst 7.9e-4) and held on seeds 20-39 (7.9e-4), but over 1000 fresh seeds its worst is
1.36e-3 and 0.9% of runs miss 1e-3; a first rate of 0.07 or 0.1 instead of 0.08, or plain
averaging (weights 1 and 0), puts its worst above 1e-3 on seeds 20-139 (1.05e-3, 1.04e-3,
1.25e-3). It was not made an estimator option.

A third prototype (2026-12-06, not kept) ordered each epoch by gradient balancing (GraB, Lu, Guo
and De Sa 2022: the next epoch's order from greedy signs that keep the running sum of the
previous epoch's centred gradients small), plain SGD from a random first permutation. Best
found: rate 0.1 decaying linearly to 0 over the 30 epochs, the last epoch's iterates averaged:
over 100 seeds median 0.72e-3, worst 1.36e-3, 5% of the seeds above 1e-3 (constant rates,
longer averages, cosine or hold-then-decay schedules, and rates 0.08 to 0.5 all did worse).

Usage::

    python benchmarks/experiment_averaged_sgd.py              # 10 seeds (about a minute)
    python benchmarks/experiment_averaged_sgd.py --quick      # 2 seeds (CI smoke run)
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.preprocessing import StandardScaler

from mlbasics import LogisticRegression
from mlbasics.linear_model import logistic_objective

EPOCHS = 30
TARGET = 1e-3


def averaging_floor(X, y, newton):
    """``tr(H^{-1} S) / (2 T)`` at ``T = EPOCHS n``, relative to ``f*`` (see the module)."""
    n, d = X.shape
    Z = np.hstack([X, np.ones((n, 1))])  # the intercept as a last, unpenalised column
    theta = np.r_[newton.coef_.ravel(), newton.intercept_]
    p = 1.0 / (1.0 + np.exp(-(Z @ theta)))  # P(y = 1)
    lam = np.r_[np.full(d, 1.0 / n), 0.0]  # f = mean loss + ||w||^2 / (2 n)
    H = (Z * (p * (1.0 - p))[:, None]).T @ Z / n + np.diag(lam)
    G = (p - y)[:, None] * Z + lam * theta  # per-sample gradients; their mean is ~0
    S = G.T @ G / n
    f_star = newton.objective_ / n
    return np.trace(np.linalg.solve(H, S)) / (2.0 * EPOCHS * n) / f_star


def gaps_of(fit_one, seeds, F_star):
    """Relative gaps ``(F - F*) / F*`` of ``fit_one(seed) -> (coef, intercept)``."""
    gaps = []
    for seed in seeds:
        coef, intercept = fit_one(seed)
        gaps.append((logistic_objective(X_, y_, coef, intercept) - F_star) / F_star)
    return np.array(gaps)


def ours(max_iter=EPOCHS, **params):
    def fit(seed):
        model = LogisticRegression(solver="sgd", max_iter=max_iter, tol=None, random_state=seed,
                                   **params).fit(X_, y_)  # fmt: skip
        return model.coef_, model.intercept_

    return fit


def sklearn_sgd(**params):
    def fit(seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = SGDClassifier(loss="log_loss", alpha=1.0 / len(y_), max_iter=EPOCHS, tol=None,
                                  random_state=seed, **params).fit(X_, y_)  # fmt: skip
        return model.coef_, model.intercept_

    return fit


def linear_decay(eta0):
    def fit(seed):
        model = LogisticRegression(solver="sgd", learning_rate="constant", max_iter=1, tol=None,
                                   warm_start=True)  # fmt: skip
        for k in range(EPOCHS):
            model.set_params(eta0=eta0 * (1.0 - k / EPOCHS), random_state=1000 * seed + k)
            model.fit(X_, y_)
        return model.coef_, model.intercept_

    return fit


X_, y_ = load_breast_cancer(return_X_y=True)
X_ = StandardScaler().fit_transform(X_)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="2 seeds (smoke run)")
    args = parser.parse_args(argv)
    seeds = range(2 if args.quick else args.seeds)
    n = len(y_)
    newton = LogisticRegression(tol=1e-10).fit(X_, y_)
    F_star = newton.objective_
    print(f"standardised breast cancer, n = {n}, L2, C = 1; F* = {F_star:.10g} (Newton)")
    print(f"averaging floor for independent sampling at T = {EPOCHS} n: "
          f"{averaging_floor(X_, y_, newton):.2e} relative")  # fmt: skip
    settings = {
        "mlbasics sgd, constant 0.05, average last 20 epochs": ours(
            learning_rate="constant", eta0=0.05, average=10 * n),
        "mlbasics sgd, constant 0.05, average last 15 epochs": ours(
            learning_rate="constant", eta0=0.05, average=15 * n),
        "mlbasics adagrad, constant 0.3, average last 10 epochs": ours(
            optimizer="adagrad", learning_rate="constant", eta0=0.3, average=20 * n),
        "mlbasics sgd, 'optimal', average from the start": ours(average=True),
        "scikit-learn, constant 0.05, average last 20 epochs": sklearn_sgd(
            learning_rate="constant", eta0=0.05, average=10 * n),
        "scikit-learn, 'optimal', average from the start": sklearn_sgd(average=True),
        "mlbasics sgd, rate 0.1 (1 - k/30) in epoch k, last iterate": linear_decay(0.1),
    }  # fmt: skip
    print(f"\nrelative gap (F - F*) / F* after {EPOCHS} epochs over {len(seeds)} seeds "
          f"(target {TARGET:g})")  # fmt: skip
    print(f"{'setting':<62} {'worst':>9} {'median':>9}  every seed")
    for name, fit in settings.items():
        gaps = gaps_of(fit, seeds, F_star)
        status = "met" if gaps.max() <= TARGET else "not met"
        print(f"{name:<62} {gaps.max():9.2e} {np.median(gaps):9.2e}  {status}")

    print("\nthe same with more epochs: averaged AdaGrad, rate 0.3, average of the last third")
    print(f"{'epochs':<62} {'worst':>9} {'median':>9}  every seed")
    for epochs in (30, 45, 60, 90):
        fit = ours(optimizer="adagrad", learning_rate="constant", eta0=0.3,
                   average=(2 * epochs // 3) * n, max_iter=epochs)  # fmt: skip
        gaps = gaps_of(fit, seeds, F_star)
        status = "met" if gaps.max() <= TARGET else "not met"
        print(f"{epochs:<62} {gaps.max():9.2e} {np.median(gaps):9.2e}  {status}")


if __name__ == "__main__":
    main()
