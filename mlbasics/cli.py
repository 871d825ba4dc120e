"""The ``mlbasics`` command (also ``python -m mlbasics``).

``mlbasics compare`` cross-validates the mlbasics estimators beside their scikit-learn counterparts on
the same folds and prints mean accuracy, fit time and the final objective of each.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn import datasets
from sklearn import linear_model as sk_linear_model
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import __version__
from .linear_model import LogisticRegression, logistic_objective

DATASETS = {
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
    "wine": datasets.load_wine,
    "iris": datasets.load_iris,
}


@dataclass(frozen=True)
class Entry:
    """One row of the comparison: an estimator and the objective it minimises."""

    name: str
    estimator: object
    penalty: str | None
    C: float


def default_entries(C: float = 1.0) -> list[Entry]:
    """mlbasics estimators beside their scikit-learn counterparts (same objective, same C)."""
    return [
        Entry("mlbasics LR newton L2", LogisticRegression("l2", C=C), "l2", C),
        Entry(
            "sklearn  LR lbfgs  L2", sk_linear_model.LogisticRegression(C=C, l1_ratio=0.0), "l2", C
        ),
        Entry("mlbasics LR newton L1", LogisticRegression("l1", C=C), "l1", C),
        Entry(
            "sklearn  LR saga   L1",
            sk_linear_model.LogisticRegression(C=C, l1_ratio=1.0, solver="saga", max_iter=5000),
            "l1",
            C,
        ),
    ]


def load_data(args) -> tuple[np.ndarray, np.ndarray, str]:
    if args.csv is not None:
        import pandas as pd  # optional: only needed for user CSV files

        try:
            frame = pd.read_csv(args.csv)
        except (OSError, ValueError) as exc:
            raise SystemExit(f"error: cannot read {args.csv}: {exc}") from None
        if args.target not in frame.columns:
            raise SystemExit(f"error: --target {args.target!r} is not a column of {args.csv}")
        y = frame.pop(args.target)
        if y.isna().any():
            raise SystemExit(f"error: the target column {args.target!r} has missing values")
        numeric = frame.select_dtypes("number")
        dropped = [c for c in frame.columns if c not in numeric.columns]
        if dropped:
            print(f"note: non-numeric columns left out: {', '.join(map(str, dropped))}")
        missing = [c for c in numeric.columns if not np.isfinite(numeric[c].to_numpy(float)).all()]
        if missing:
            raise SystemExit(
                f"error: columns with missing or infinite values: {', '.join(map(str, missing))}"
                " (drop or impute them first)"
            )
        if numeric.shape[1] == 0:
            raise SystemExit(f"error: {args.csv} has no numeric feature columns")
        return numeric.to_numpy(dtype=float), y.to_numpy(), str(args.csv)
    X, y = DATASETS[args.dataset](return_X_y=True)
    return X, y, args.dataset


def compare(X, y, entries, *, cv=5, random_state=0, out=None):
    """Cross-validate every entry on the same stratified folds and print a table.

    Returns a list of dicts (name, accuracy mean/std, fit time, objective) for programmatic use.
    """
    out = sys.stdout if out is None else out
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    rows = []
    for entry in entries:
        pipe = make_pipeline(StandardScaler(), entry.estimator)
        # One untimed fit first, so that fit times exclude one-off costs (loading compiled
        # kernels, first-touch of memory) for both libraries alike.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clone(pipe).fit(X, y)
        res = cross_validate(
            pipe, X, y, cv=folds, return_estimator=True, return_indices=True, error_score="raise"
        )
        objectives = []
        for fitted, train in zip(res["estimator"], res["indices"]["train"], strict=True):
            model = fitted[-1]
            Xt = fitted[:-1].transform(X[train])
            objectives.append(
                logistic_objective(
                    Xt, y[train], model.coef_, model.intercept_, C=entry.C, penalty=entry.penalty
                )
            )
        rows.append(
            {
                "name": entry.name,
                "accuracy": float(np.mean(res["test_score"])),
                "accuracy_std": float(np.std(res["test_score"])),
                "fit_time": float(np.mean(res["fit_time"])),
                "objective": float(np.mean(objectives)),
            }
        )
    header = f"{'estimator':<24}{'accuracy':>18}{'fit time (s)':>14}{'objective':>16}"
    print(header, file=out)
    print("-" * len(header), file=out)
    for r in rows:
        acc = f"{r['accuracy']:.4f} ± {r['accuracy_std']:.4f}"
        print(f"{r['name']:<24}{acc:>18}{r['fit_time']:>14.4f}{r['objective']:>16.6f}", file=out)
    print("objective: C·Σ loss + penalty on each training fold (mean over folds)", file=out)
    return rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlbasics", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"mlbasics {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser(
        "compare", help="K-fold comparison of mlbasics estimators with scikit-learn's"
    )
    cmp.add_argument("--dataset", choices=sorted(DATASETS), default="breast_cancer")
    cmp.add_argument("--csv", help="a CSV file of your own (numeric features)")
    cmp.add_argument("--target", help="the label column of --csv")
    cmp.add_argument("--cv", type=int, default=5, help="number of folds (default 5)")
    cmp.add_argument("--C", type=float, default=1.0, help="inverse regularisation strength")
    cmp.add_argument("--random-state", type=int, default=0, help="seed of the fold shuffling")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "compare":
        if (args.csv is None) != (args.target is None):
            parser.error("--csv and --target go together")
        if args.cv < 2:
            parser.error("--cv must be at least 2")
        if args.C <= 0:
            parser.error("--C must be positive")
        X, y, name = load_data(args)
        _, counts = np.unique(y, return_counts=True)
        if len(counts) < 2:
            parser.error("the target has a single class; nothing to classify")
        if args.cv > counts.min():
            parser.error(
                f"--cv {args.cv} exceeds the size of the smallest class ({counts.min()} samples)"
            )
        print(f"mlbasics {__version__}: {args.cv}-fold comparison on {name} "
              f"({X.shape[0]} samples, {X.shape[1]} features, {len(np.unique(y))} classes)")  # fmt: skip
        start = time.perf_counter()
        compare(X, y, default_entries(args.C), cv=args.cv, random_state=args.random_state)
        print(f"total {time.perf_counter() - start:.1f} s")
    return 0
