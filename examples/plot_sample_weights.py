"""Sample weights across mlbasics: one imbalanced problem, every estimator, weighted and not.

A binary problem with 9 negatives for every positive (``make_classification``, 2 000 samples,
20 features). Weights of ``n / (2 n_class)`` per sample make both classes weigh the same in the
objective. Each estimator is scored by 5-fold cross-validation with and without them
(:func:`mlbasics.model_selection.kfold_errors`, the weights passed to every fit through
``params={"sample_weight": w}`` and cut to each fold's training rows); the score is the balanced
accuracy, the mean of the two recalls, which the weights are meant to raise. Then each weighted
model, fitted on all the data, is judged by its certificate with the same weights
(:func:`mlbasics.optimality.check_kkt`; the MLP has none: its objective is not convex).

What the weights mean in each estimator (the theory pages say more): ``LogisticRegression`` and
``SVC`` multiply ``C`` by ``s_i`` per sample; ``MLPClassifier`` divides the weights by their mean
and averages ``w_i loss_i`` over each mini-batch, an unbiased estimate of the weighted mean loss
(samples of weight 0 are left out).

What to look for (a run on 2026-12-06): every weighted model recalls more of the rare class, so
its balanced accuracy rises (0.75 to 0.81 unweighted, 0.82 to 0.86 weighted). The certificates of
Newton's logistic regression and of the SVC pass with the weights they were fitted with; SGD's
fails, truthfully: SGD stops when its objective stops improving by ``tol`` per epoch, not at the
optimality that ``check_kkt`` measures (10^-3 of the weighted objective's scale), which takes it
far more epochs (see the theory page on SGD).

Run: ``python examples/plot_sample_weights.py [--output FILE] [--quick]``.
"""

import argparse
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from mlbasics import SVC, LogisticRegression
from mlbasics.model_selection import kfold_errors
from mlbasics.nn import MLPClassifier
from mlbasics.optimality import check_kkt

ESTIMATORS = {
    "logistic (Newton)": lambda: LogisticRegression(C=1.0),
    "logistic (SGD)": lambda: LogisticRegression(C=1.0, solver="sgd", random_state=0),
    "SVC (rbf, SMO)": lambda: SVC(C=1.0),
    "MLP": lambda: MLPClassifier((32,), max_epochs=60, random_state=0),
}


def balancing_weights(y):
    """``n / (2 n_class)`` per sample: both classes weigh ``n / 2`` in total."""
    counts = np.bincount(y)
    return len(y) / (2.0 * counts[y])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default="sample_weights.png")
    parser.add_argument("--quick", action="store_true", help="600 samples, 3 folds (CI)")
    args = parser.parse_args(argv)
    n, folds = (600, 3) if args.quick else (2000, 5)
    X, y = make_classification(n, 20, n_informative=6, weights=[0.9, 0.1], flip_y=0.02,
                               random_state=0)  # fmt: skip
    X = StandardScaler().fit_transform(X)
    weight = balancing_weights(y)
    cv = StratifiedKFold(folds, shuffle=True, random_state=0)
    print(f"{n} samples, {int(y.sum())} positives; {folds}-fold balanced accuracy (mean)")
    print(f"{'estimator':20s} {'unweighted':>11s} {'weighted':>9s}   certificate (weighted fit)")
    scores = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, make in ESTIMATORS.items():
            plain = kfold_errors(make(), X, y, cv=cv, scoring="balanced_accuracy")
            weighted = kfold_errors(make(), X, y, cv=cv, scoring="balanced_accuracy",
                                    params={"sample_weight": weight})  # fmt: skip
            scores[name] = (plain.test_scores.mean(), weighted.test_scores.mean())
            model = make().fit(X, y, sample_weight=weight)
            if isinstance(model, MLPClassifier):
                verdict = "none (not convex)"
            else:
                report = check_kkt(model, X, y, sample_weight=weight)
                verdict = "ok" if report.ok else "FAILED"
                if not report.ok and model.solver == "sgd":
                    verdict += " (SGD stops on progress, not at optimality)"
            print(f"{name:20s} {scores[name][0]:11.3f} {scores[name][1]:9.3f}   {verdict}")

    names = list(scores)
    positions = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(positions - 0.2, [scores[k][0] for k in names], 0.4, label="unweighted")
    ax.bar(positions + 0.2, [scores[k][1] for k in names], 0.4, label="weighted n / (2 n_class)")
    ax.set_xticks(positions, names)
    ax.set_ylim(0.5, 1.0)
    ax.set_ylabel("balanced accuracy (CV mean)")
    ax.set_title("Class-balancing sample weights, 9:1 imbalance")
    ax.legend(loc="upper left", ncols=2)
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
