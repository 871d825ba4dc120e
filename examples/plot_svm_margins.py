"""Margins, support vectors, kernels and the surrogates of the 0/1 loss, for mlbasics.SVC.

Top row, left and middle: two interleaved half-moons (``make_moons``, noise 0.25) fitted by an RBF
``SVC`` (C=1, gamma="scale") with the hinge loss and with the logistic loss. The solid line is the
decision boundary ``f(x) = 0``, the dashed lines are the level sets ``f(x) = -1`` and ``f(x) = +1``.

* Hinge loss: the dashed lines are the margins. Only the circled samples are support vectors
  (``alpha_i > 0``); the ones circled in black are *free* (``0 < alpha_i < C``) and lie on the
  margins (``y_i f(x_i) = 1`` up to ``tol``), the ones circled in red are *at the bound*
  (``alpha_i = C``): inside the margin or misclassified. Every other sample could be removed without
  changing the classifier.
* Logistic loss (kernel logistic regression): every sample is a support vector, with
  ``alpha_i / C = sigmoid(-y_i f(x_i))``, the probability the model gives to the wrong label; a
  marker's area is proportional to it. Points far on the right side of the boundary have tiny but
  non-zero weights. The dashed lines are where ``predict_proba`` is ``sigmoid(1) = 0.73``.

Top right: the four convex surrogates of the 0/1 loss that the documentation derives duals for,
as functions of the margin ``z = y f(x)`` (all from ``mlbasics.losses``): hinge, squared hinge,
logistic (also divided by ``log 2``, which makes it an upper bound of the 0/1 loss) and exponential.

Bottom row, the kernel zoo on the same data and the hinge loss: linear (a straight boundary cannot
follow the moons), polynomial (degree 3, coef0=1) and RBF.

The script prints, per model, the support-vector counts, the range of the margins of the free
support vectors, the SMO iterations and the dual objective, and for the logistic loss the largest
deviation from ``alpha_i / C = sigmoid(-z_i)``. See the documentation page "Support vector machines"
(``docs/theory/svm.rst``).

Run: ``python examples/plot_svm_margins.py [--output FILE] [--quick]``.
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons

from mlbasics import SVC
from mlbasics.losses import exponential, hinge, logistic, sigmoid, squared_hinge, zero_one

C = 1.0
SETTINGS = {"full": dict(n_samples=300, grid=300), "quick": dict(n_samples=120, grid=80)}
KERNELS = {
    "linear": dict(kernel="linear"),
    "poly (degree 3, coef0=1)": dict(kernel="poly", degree=3, coef0=1.0),
    "rbf (gamma='scale')": dict(kernel="rbf"),
}


def grid_for(X, size):
    """A ``size x size`` grid covering the data with a margin, and its points as rows."""
    lo = X.min(axis=0) - 0.5
    hi = X.max(axis=0) + 0.5
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], size), np.linspace(lo[1], hi[1], size))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def dual_weights(model, n_samples):
    """``alpha_i`` of every training sample (0 for non-support vectors); binary problems only."""
    alpha = np.zeros(n_samples)
    alpha[model.support_] = np.abs(model.dual_coef_[0])
    return alpha


def draw_boundary(ax, model, X, y, grid, title):
    """Decision values as a background, the levels f = -1, 0, +1 and the samples."""
    xx, yy, points = grid
    f = model.decision_function(points).reshape(xx.shape)
    limit = np.percentile(np.abs(f), 98)
    ax.contourf(xx, yy, f, levels=np.linspace(-limit, limit, 21), cmap="RdBu", alpha=0.5,
                extend="both")  # fmt: skip
    ax.contour(xx, yy, f, levels=[-1.0, 0.0, 1.0], colors="k", linestyles=["--", "-", "--"],
               linewidths=[1.0, 1.8, 1.0])  # fmt: skip
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", vmin=-0.3, vmax=1.3, s=14, edgecolors="none")
    ax.set(title=title, xticks=[], yticks=[])


def describe(name, model, X, y):
    """Print what the KKT conditions say about the fitted dual; return the margins and alphas."""
    signs = np.where(y == model.classes_[1], 1.0, -1.0)
    margins = signs * model.decision_function(X)
    alpha = dual_weights(model, len(y))
    at_bound = np.isclose(alpha, C, rtol=1e-9, atol=0.0)
    free = (alpha > 0) & ~at_bound
    line = (
        f"{name:>30}: {model.n_support_.sum():4d} SVs ({free.sum():3d} free, "
        f"{at_bound.sum():3d} at C), {model.n_iter_[0]:5d} SMO iterations, "
        f"dual objective {model.objective_[0]:.6f}, train accuracy {model.score(X, y):.3f}"
    )
    if model.loss != "logistic" and free.any():
        line += f", free-SV margins in [{margins[free].min():.4f}, {margins[free].max():.4f}]"
    print(line)
    return margins, alpha, free, at_bound


def draw_losses(ax):
    """The 0/1 loss and its four convex surrogates, as functions of the margin z."""
    z = np.linspace(-2.0, 3.0, 501)
    ax.plot(z, zero_one(z), color="k", lw=2.2, label="0/1")
    ax.plot(z, hinge(z), lw=1.8, label="hinge")
    ax.plot(z, squared_hinge(z), lw=1.8, label="squared hinge")
    ax.plot(z, logistic(z), lw=1.8, label="logistic")
    ax.plot(z, logistic(z) / np.log(2.0), lw=1.2, ls=":", color="C2", label="logistic / log 2")
    ax.plot(z, exponential(z), lw=1.8, label="exponential")
    ax.axvline(1.0, color="0.6", lw=0.8, ls="--")
    ax.set(xlim=(-2, 3), ylim=(0, 4), xlabel="margin z = y f(x)", ylabel="loss",
           title="surrogates of the 0/1 loss")  # fmt: skip
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="svm_margins.png")
    parser.add_argument("--quick", action="store_true", help="fewer samples, coarser grid (for CI)")
    args = parser.parse_args(argv)
    settings = SETTINGS["quick" if args.quick else "full"]
    X, y = make_moons(settings["n_samples"], noise=0.25, random_state=0)
    grid = grid_for(X, settings["grid"])

    fig, axes = plt.subplots(2, 3, figsize=(15, 10), constrained_layout=True)
    for ax in axes.flat:
        ax.set_box_aspect(0.85)

    hinge_model = SVC(C=C, loss="hinge").fit(X, y)
    _, _, free, at_bound = describe("rbf, hinge", hinge_model, X, y)
    ax = axes[0, 0]
    draw_boundary(ax, hinge_model, X, y, grid,
                  f"hinge loss: {hinge_model.n_support_.sum()} of {len(y)} samples are SVs")  # fmt: skip
    ax.scatter(*X[free].T, s=70, facecolors="none", edgecolors="k", lw=1.2,
               label=f"free SV, 0 < α < C ({free.sum()})")  # fmt: skip
    ax.scatter(*X[at_bound].T, s=70, facecolors="none", edgecolors="crimson", lw=1.2,
               label=f"bound SV, α = C ({at_bound.sum()})")  # fmt: skip
    ax.legend(loc="lower left", fontsize=8)

    logistic_model = SVC(C=C, loss="logistic").fit(X, y)
    margins, alpha, _, _ = describe("rbf, logistic", logistic_model, X, y)
    deviation = np.max(np.abs(alpha / C - sigmoid(-margins)))
    print(f"{'':>30}  max |alpha_i / C - sigmoid(-z_i)| = {deviation:.2e}")
    ax = axes[0, 1]
    draw_boundary(ax, logistic_model, X, y, grid,
                  f"logistic loss: all {logistic_model.n_support_.sum()} samples are SVs")  # fmt: skip
    ax.scatter(*X.T, s=400 * alpha / C, facecolors="none", edgecolors="k", lw=0.8,
               label="area ∝ α/C = σ(−z)")  # fmt: skip
    ax.legend(loc="lower left", fontsize=8)

    draw_losses(axes[0, 2])

    for ax, (name, params) in zip(axes[1], KERNELS.items(), strict=True):
        model = SVC(C=C, **params).fit(X, y)
        describe(name, model, X, y)
        draw_boundary(ax, model, X, y, grid,
                      f"{name}: {model.n_support_.sum()} SVs, accuracy {model.score(X, y):.2f}")  # fmt: skip
        ax.scatter(*X[model.support_].T, s=60, facecolors="none", edgecolors="k", lw=0.8)

    fig.suptitle(
        f"mlbasics.SVC (C={C}) on {len(y)} half-moon samples: solid f = 0, dashed f = ±1; "
        "top: hinge vs logistic (RBF) and the surrogate losses; bottom: the kernel zoo (hinge)"
    )
    fig.savefig(args.output, dpi=100)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
