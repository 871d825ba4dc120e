"""The KKT conditions of a kernel SVM, read on a fitted model: SMO against the cvxpy dual.

Fits one binary problem (scikit-learn's two moons, rbf kernel, C=1) twice, by SMO
(``SVC(solver="smo")``) and by the dual handed to Clarabel through cvxpy (``SVC(solver="qp")``),
and prints the two :class:`mlbasics.optimality.KKTReport`: the residual of every KKT condition,
the primal and dual objectives and the duality gap. Then it shows the certificate at work:

* left: the duality gap ``P - D`` and the largest KKT residual of SMO stopped after k pair
  updates (``max_iter=k``), falling towards zero as k grows; the dashed line is the QP's gap;
* right: the samples coloured by their KKT category, read from ``dual_coef_``: ``alpha = 0``
  (outside the margin, no influence on the model), ``0 < alpha < C`` (free support vectors, on
  the margin ``|f(x)| = 1``) and ``alpha = C`` (inside the margin or misclassified), with the
  decision boundary ``f = 0`` and the margins ``f = +-1``.

See the documentation page "Duality, the KKT conditions and certificates"
(``docs/theory/duality.rst``).

Run: ``python examples/svm_kkt_walkthrough.py [--output FILE] [--quick]``.
"""

import argparse
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning

from mlbasics import SVC
from mlbasics.optimality import check_kkt

PARAMS = {"C": 1.0, "kernel": "rbf", "gamma": 1.0}
SIZES = {"full": 400, "quick": 120}


def kkt_categories(model, n_samples):
    """0: alpha = 0, 1: free (0 < alpha < C), 2: alpha = C, for every training sample."""
    alpha = np.zeros(n_samples)
    alpha[model.support_] = np.abs(model.dual_coef_[0])
    C = model.C
    return np.where(alpha <= 1e-8 * C, 0, np.where(alpha >= (1 - 1e-8) * C, 2, 1))


def gap_along_smo(X, y, steps):
    """(pair updates, duality gap, largest KKT residual) of SMO stopped after each of ``steps``."""
    rows = []
    for k in steps:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # stopped early on purpose
            model = SVC(**PARAMS, max_iter=int(k), tol=1e-8).fit(X, y)
        report = check_kkt(model, X, y)
        residual = max(v for name, v in report.violations.items() if name != "duality gap")
        rows.append((int(model.n_iter_[0]), report.duality_gap, residual))
    return np.array(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="svm_kkt_walkthrough.png")
    parser.add_argument("--quick", action="store_true", help="fewer samples (for CI)")
    args = parser.parse_args(argv)
    n = SIZES["quick" if args.quick else "full"]
    X, y = make_moons(n, noise=0.3, random_state=0)

    smo = SVC(**PARAMS, solver="smo", tol=1e-3).fit(X, y)
    qp = SVC(**PARAMS, solver="qp").fit(X, y)
    smo_report = check_kkt(smo, X, y, tol=1e-3)
    qp_report = check_kkt(qp, X, y, tol=1e-3)
    print("SMO, tol=1e-3:")
    print(smo_report)
    print("\nQP (cvxpy + Clarabel):")
    print(qp_report)
    print(
        f"\nrelative difference of the dual objectives: "
        f"{abs(smo.objective_[0] - qp.objective_[0]) / abs(qp.objective_[0]):.2e}; "
        f"intercepts {smo.intercept_[0]:.5f} (SMO) and {qp.intercept_[0]:.5f} (QP)"
    )

    steps = np.unique(np.geomspace(1, 30 * n, 12 if args.quick else 25).astype(int))
    curve = gap_along_smo(X, y, steps)
    categories = kkt_categories(smo, n)
    counts = np.bincount(categories, minlength=3)
    print(
        f"KKT categories (SMO): alpha = 0: {counts[0]}, free: {counts[1]}, alpha = C: {counts[2]}"
    )

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    left.loglog(curve[:, 0], np.maximum(curve[:, 1], 1e-16), "o-", label="duality gap P - D")
    left.loglog(curve[:, 0], np.maximum(curve[:, 2], 1e-16), "s-", label="largest KKT residual")
    left.axhline(max(qp_report.duality_gap, 1e-16), ls="--", c="k", label="gap of the QP")
    left.set_xlabel("SMO pair updates (max_iter)")
    left.set_ylabel("value")
    left.set_title("The certificate closing along the SMO iterations")
    left.legend()

    xx, yy = np.meshgrid(
        np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 200),
        np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, 200),
    )
    f = smo.decision_function(np.c_[xx.ravel(), yy.ravel()]).reshape(xx.shape)
    right.contour(xx, yy, f, levels=[-1, 0, 1], colors="k", linestyles=["--", "-", "--"])
    names = ["alpha = 0", "0 < alpha < C (free)", "alpha = C"]
    colours = ["lightgray", "tab:green", "tab:red"]
    markers = np.array(["o", "^"])[y]
    for c, (name, colour) in enumerate(zip(names, colours, strict=True)):
        for m in ("o", "^"):
            sel = (categories == c) & (markers == m)
            right.scatter(
                X[sel, 0],
                X[sel, 1],
                c=colour,
                marker=m,
                edgecolor="k",
                s=30,
                label=f"{name}" if m == "o" else None,
            )
    right.set_title("Samples by KKT category (o / ^: the two classes)")
    right.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
