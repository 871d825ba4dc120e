"""The bias-variance trade-off, measured: polynomial degree (squared error) and SVM gamma (0-1 loss).

Left: polynomial regression of ``y = sin(x) + N(0, 0.3^2)`` on ``[-3, 3]`` by least squares on
the features ``1, x, ..., x^d``. The training sets are *independent*: a pool of 3,000 points is cut
into disjoint sets of 40 (``sampling="disjoint"``), one per round, so each round sees fresh noise,
as the theory assumes. The test targets are the noise-free ``sin(x)``, so the blue curve is the
squared bias alone, and the expected loss on noisy targets would be the black curve plus the noise
``0.09``. Degrees 1 and 2 cannot follow the sine (high bias); from degree 3 the bias is nearly
gone and the variance of the high-degree fits, which chase the noise of 40 points and swing at the
ends of the interval, takes over (note the logarithmic axis).

Right: an RBF support vector classifier on two interleaved half-moons (300 training points,
bootstrap rounds), over the kernel width ``gamma``, with Domingos' decomposition of the 0-1 loss:
bias (the majority vote over rounds is wrong), net variance (variance on unbiased points minus
variance on biased points) and the total variance (dashed). Small ``gamma`` gives a nearly linear
boundary (high bias, little variance); large ``gamma`` draws islands around single training
points, which move with every sample (the variance grows), and away from them the classifier falls
back to one class everywhere (the bias grows again).

A dotted line marks the value with the lowest expected loss. See the documentation page "Model
selection" (``docs/theory/model_selection.rst``).

Run: ``python examples/plot_bias_variance_tradeoff.py [--output FILE] [--quick] [--n-jobs N]``.
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.svm import SVC

from mlbasics.model_selection import bias_variance_curve
from mlbasics.plotting import BiasVarianceDisplay

SETTINGS = {
    "full": dict(rounds_poly=75, rounds_svc=100, degrees=range(1, 11), gammas=np.geomspace(0.01, 100, 9)),
    "quick": dict(rounds_poly=10, rounds_svc=10, degrees=[1, 3, 6, 10], gammas=[0.1, 3, 100]),
}  # fmt: skip
POINTS_PER_SET = 40
NOISE = 0.3


def sine_problem(n_rounds, rng):
    """A pool of n_rounds disjoint training sets of POINTS_PER_SET points, and a test grid."""
    X = rng.uniform(-3, 3, size=(n_rounds * POINTS_PER_SET, 1))
    y = np.sin(X[:, 0]) + NOISE * rng.standard_normal(len(X))
    X_test = np.linspace(-3, 3, 200)[:, None]
    return X, y, X_test, np.sin(X_test[:, 0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="bias_variance_tradeoff.png")
    parser.add_argument("--quick", action="store_true", help="few rounds and values (for CI)")
    parser.add_argument("--n-jobs", type=int, default=None)
    args = parser.parse_args(argv)
    settings = SETTINGS["quick" if args.quick else "full"]
    rng = np.random.default_rng(0)

    X, y, X_test, f_test = sine_problem(settings["rounds_poly"], rng)
    poly = make_pipeline(PolynomialFeatures(), StandardScaler(), LinearRegression())
    poly_curve = bias_variance_curve(
        poly, "polynomialfeatures__degree", list(settings["degrees"]), X, y, X_test, f_test,
        n_rounds=settings["rounds_poly"], sampling="disjoint", random_state=0, n_jobs=args.n_jobs,
    )  # fmt: skip
    print(poly_curve.table(label="degree"), end="\n\n")

    X, y = make_moons(n_samples=1300, noise=0.3, random_state=0)
    svc_curve = bias_variance_curve(
        SVC(C=1.0), "gamma", [float(g) for g in settings["gammas"]], X[:300], y[:300], X[300:],
        y[300:], loss="0-1", n_rounds=settings["rounds_svc"], random_state=0, n_jobs=args.n_jobs,
    )  # fmt: skip
    print(svc_curve.table(label="gamma"))

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    left = BiasVarianceDisplay.from_result(poly_curve, ax=axes[0])
    left.ax_.set(
        xlabel="polynomial degree",
        title=f"least squares, {POINTS_PER_SET} points per training set",
    )
    left.ax_.set_yscale("log")
    right = BiasVarianceDisplay.from_result(svc_curve, ax=axes[1])
    right.ax_.set(xlabel="RBF gamma", title="SVC (C=1) on half-moons, 300 training points")
    fig.suptitle("The bias-variance trade-off: squared error (left), 0-1 loss (right)")
    fig.savefig(args.output, dpi=110)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
