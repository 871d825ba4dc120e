"""Folds: building the splitter, fitting one estimator on one split, reporting failed fits.

One split is fitted and scored as :func:`sklearn.model_selection.cross_validate` does it (a clone,
the rows of the split, the scorer of ``scoring``; ``tests/model_selection/test_kfold.py`` checks
the numbers against it), but here, so that the fit can run as a task of a callback tree. What this
module adds is the bookkeeping around it: a fit that raises is recorded with the fold it happened
on instead of stopping the whole run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Integral, Number

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import (
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedKFold,
    check_cv,
)
from sklearn.utils import _safe_indexing, get_tags, indexable
from sklearn.utils._missing import is_pandas_na, is_scalar_nan
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _check_method_params

from .._validation import warn_at_caller
from ._callbacks import leaf_task
from ._parallel import with_seeded_random_states

# Scorers whose "error" is 1 - score, and the prefix of those whose error is -score.
ONE_MINUS_SCORE = frozenset({"accuracy", "balanced_accuracy", "top_k_accuracy"})
NEGATED_PREFIX = "neg_"


@dataclass
class FoldOutcome:
    """What one fit of one estimator on one split produced (``error`` is set when it failed)."""

    test_score: float
    train_score: float
    fit_time: float
    score_time: float
    estimator: object = None
    correct: np.ndarray | None = None
    error: str | None = None


def default_scoring(estimator):
    """The scorer name used when ``scoring=None``: accuracy for classifiers, MSE for regressors."""
    if is_classifier(estimator):
        return "accuracy"
    if is_regressor(estimator):
        return "neg_mean_squared_error"
    return None


def check_scoring_once(estimator, scoring):
    """Fail on a bad ``scoring`` before any fit, not once per fold.

    An unknown name is refused here with a short message: scikit-learn's own check would list
    all of its scorer names under the name of its internal ``check_scoring``.
    """
    if isinstance(scoring, str) and scoring not in get_scorer_names():
        raise ValueError(
            f"scoring={scoring!r} is not a scikit-learn scorer name; "
            "sklearn.metrics.get_scorer_names() lists them"
        )
    check_scoring(estimator, scoring=scoring)


def error_form(scoring):
    """How an error is read off the score: ``"1 - score"``, ``"-score"`` or None (no error)."""
    if not isinstance(scoring, str):
        return None
    if scoring in ONE_MINUS_SCORE:
        return "1 - score"
    if scoring.startswith(NEGATED_PREFIX):
        return "-score"
    return None


def check_data(X, y):
    """Indexable X and y of one length, at least two samples, no missing labels."""
    if y is None:
        raise ValueError("y is required: the model-selection tools compare supervised estimators")
    X, y = indexable(X, y)
    n_samples = len(y)
    if n_samples < 2:
        raise ValueError(f"at least 2 samples are needed to split the data, got {n_samples}")
    check_labels(y, "y")
    return X, y, n_samples


def check_labels(y, name):
    """Refuse NaN or inf among float targets, and None, NaN or pandas.NA among object labels.

    (A missing label in a column of strings reached ``np.unique`` and failed there with
    "'<' not supported between instances of 'float' and 'str'": a review.)
    """
    values = np.asarray(y)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if values.dtype.kind == "O":
        missing = [v is None or is_scalar_nan(v) or is_pandas_na(v) for v in values.ravel()]
        if any(missing):
            raise ValueError(
                f"{name} has missing labels (None, NaN or pandas.NA) at positions "
                f"{np.flatnonzero(missing)[:5].tolist()}{' ...' if sum(missing) > 5 else ''}"
            )


def finite_mean(values) -> float:
    """The mean of the non-NaN ``values``; NaN, without numpy's warning, when there are none
    (a failed split's score is NaN; R² on test folds of one sample is NaN in every fold)."""
    finite = np.asarray(values)[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")


def smallest_class_size(y):
    _, counts = np.unique(np.asarray(y), return_counts=True)
    return int(counts.min()), len(counts)


def make_splitter(cv, y, *, classifier, random_state, n_samples):
    """An int becomes a shuffled (stratified) K-fold seeded by ``random_state``."""
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds, got {cv}")
        if cv > n_samples:
            raise ValueError(f"cv={cv} folds need at least {cv} samples, got {n_samples}")
        stratify = classifier and type_of_target(y) in ("binary", "multiclass")
        splitter_class = StratifiedKFold if stratify else KFold
        return splitter_class(cv, shuffle=True, random_state=random_state)
    if not hasattr(cv, "split") and isinstance(cv, Iterable) and not isinstance(cv, str):
        cv = list(cv)  # the splits themselves: check that they are pairs before anything else
        for k, split in enumerate(cv):
            if not (isinstance(split, Sequence | np.ndarray) and len(split) == 2):
                raise ValueError(
                    f"cv must yield (train, test) pairs of index arrays; split {k + 1} of "
                    f"{len(cv)} is {type(split).__name__} {_short(split)}"
                )
    return check_cv(cv, y, classifier=classifier)


def _short(value, width=60):
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def repeated_splitter(n_splits, n_repeats, y, *, classifier, random_state):
    stratify = classifier and type_of_target(y) in ("binary", "multiclass")
    splitter_class = RepeatedStratifiedKFold if stratify else RepeatedKFold
    return splitter_class(n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)


def materialise_splits(splitter, X, y, groups=None):
    """The list of (train, test) index arrays; the same list is handed to every estimator.

    Every split is checked (a splitter of one's own, or a list of index pairs, may be wrong):
    integer indices of rows of ``X`` (boolean masks of ``n_samples`` entries become indices),
    no empty training or test part.
    """
    n_samples = len(y)
    splits = [(np.asarray(train), np.asarray(test)) for train, test in splitter.split(X, y, groups)]
    if not splits:
        raise ValueError("the cross-validation splitter produced no splits")
    return [
        tuple(
            _checked_rows(rows, part, f"split {k + 1} of {len(splits)}", n_samples)
            for part, rows in (("training", train), ("test", test))
        )
        for k, (train, test) in enumerate(splits)
    ]


def _checked_rows(rows, part, where, n_samples):
    """The row indices of one part of one split, or a ValueError naming the split."""
    if rows.ndim != 1:
        raise ValueError(
            f"{where}: the {part} indices must be a one-dimensional array, got shape {rows.shape}"
        )
    if rows.dtype.kind == "b":
        if rows.size != n_samples:
            raise ValueError(
                f"{where}: the {part} mask has {rows.size} entries for {n_samples} samples"
            )
        rows = np.flatnonzero(rows)
    elif rows.size and rows.dtype.kind not in "iu":
        raise ValueError(
            f"{where}: the {part} indices must be integers (row numbers of X), got dtype "
            f"{rows.dtype}"
        )
    if rows.size == 0:
        raise ValueError(f"{where}: the {part} set is empty")
    low, high = int(rows.min()), int(rows.max())
    if low < 0 or high >= n_samples:
        raise ValueError(
            f"{where}: the {part} indices must lie in [0, {n_samples - 1}] (X has {n_samples} "
            f"rows), got indices from {low} to {high}"
        )
    return rows


def fit_and_score(
    estimator,
    X,
    y,
    train,
    test,
    *,
    scoring,
    seed=None,
    return_train_score=False,
    return_estimator=False,
    return_correct=False,
    error_score=np.nan,
    fit_params=None,
    callback_ctx=None,
    caller=None,
):
    """Fit a clone of ``estimator`` on ``train`` and score it on ``test`` (one split).

    The rows are split as :func:`sklearn.model_selection.cross_validate` splits them (the square
    block of a precomputed kernel for a pairwise estimator), the clone is fitted, and the scorer
    of ``scoring`` applied. An exception becomes a :class:`FoldOutcome` with ``error`` set and the
    scores equal to ``error_score`` (or propagates when ``error_score="raise"``).
    ``return_correct`` adds, per test sample, whether ``predict`` was right (McNemar's test).
    ``seed`` (if not None) seeds the estimator's unset ``random_state`` parameters
    (``with_seeded_random_states``).
    ``fit_params`` go to ``fit``, those of one value per sample restricted to ``train`` (see
    :func:`check_fit_params`).

    With a callback context (the leaf task of this split, see :mod:`._callbacks`) the fit runs
    as that task, and the context is propagated to the clone. (``cross_validate`` itself is not
    used: it would clone the estimator again and lose the context.)
    """
    estimator = clone(estimator)
    if seed is not None:
        with_seeded_random_states(estimator, seed)
    X_train, y_train = _rows(estimator, X, y, train)
    X_test, y_test = _rows(estimator, X, y, test, train)
    fit_params = _check_method_params(X, params=fit_params or {}, indices=train)
    try:
        start = time.time()
        with leaf_task(callback_ctx, caller, estimator, (X_train, y_train)):
            estimator.fit(X_train, y_train, **fit_params)
        fit_time = time.time() - start
        scorer = check_scoring(estimator, scoring=scoring)
        test_score = _checked_score(scorer(estimator, X_test, y_test))
        score_time = time.time() - start - fit_time
        # The training score and McNemar's predictions each get rows of their own: fit, and
        # the scorer, may have transformed theirs in place (StandardScaler(copy=False) in a
        # pipeline: a training error 50 times the right one, and two equal models "different"
        # at p = 6e-15, as their hold-out was standardised twice: a review).
        train_score = np.nan
        if return_train_score:
            del X_train  # (the block fit had goes before the fresh one comes: one in memory)
            X_train, y_train = _rows(estimator, X, y, train)
            train_score = _checked_score(scorer(estimator, X_train, y_train))
        correct = None
        if return_correct:
            X_test, y_test = _rows(estimator, X, y, test, train)
            predicted, truth = np.asarray(estimator.predict(X_test)), np.asarray(y_test)
            if predicted.ndim == 1 and truth.shape == (predicted.size, 1):
                truth = truth.ravel()  # a column y, which classifiers take as a vector
            correct = predicted == truth
    except Exception as exc:
        if error_score == "raise":
            raise
        return FoldOutcome(
            test_score=float(error_score),
            train_score=float(error_score),
            fit_time=np.nan,
            score_time=np.nan,
            error=f"{type(exc).__name__}: {exc}",
        )
    return FoldOutcome(
        test_score=test_score,
        train_score=train_score,
        fit_time=fit_time,
        score_time=score_time,
        estimator=estimator if return_estimator else None,
        correct=correct,
    )


def check_fit_params(params, n_samples):
    """``params`` (the keyword arguments of every ``fit``) as a dict, checked up front.

    As in :func:`sklearn.model_selection.cross_validate`: a value with one entry per sample (an
    array-like of length ``n_samples``, such as ``sample_weight``) is restricted to each split's
    training rows, any other value is passed whole. The scorers get none of them: a score is
    unweighted, as ``cross_validate``'s without metadata routing. A ``sample_weight`` whose
    length is not ``n_samples`` would be passed whole and fail in every fit, so it is refused
    here.
    """
    if params is None:
        return {}
    if not isinstance(params, dict) or not all(isinstance(key, str) for key in params):
        raise ValueError(
            f"params must be a dict of fit's keyword arguments, e.g. {{'sample_weight': w}}; "
            f"got {params!r}."
        )
    weight = params.get("sample_weight")
    if weight is not None and np.ndim(weight) > 0 and len(weight) != n_samples:
        raise ValueError(
            f"params['sample_weight'] has {len(weight)} values for {n_samples} samples."
        )
    return dict(params)


def _rows(estimator, X, y, rows, columns=None):
    """``X`` and ``y`` restricted to ``rows``, as ``cross_validate`` splits them.

    A pairwise estimator (a precomputed kernel) takes the square block ``X[rows][:, rows]`` for
    training and ``X[rows][:, columns]`` (``columns`` the training rows) for scoring.
    """
    if get_tags(estimator).input_tags.pairwise:
        if not hasattr(X, "shape"):
            raise ValueError("a precomputed kernel or affinity matrix must be an array")
        if X.shape[0] != X.shape[1]:
            raise ValueError("X should be a square kernel matrix")
        X_part = X[np.ix_(rows, rows if columns is None else columns)]
    else:
        X_part = _safe_indexing(X, rows)
    return X_part, _safe_indexing(y, rows)


def _checked_score(value):
    """A scorer's value as a float; anything but a number is an error, as in cross_validate."""
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:
        value = value.item()
    if not isinstance(value, Number):
        raise ValueError(f"scoring must return a number, got {value!r} ({type(value).__name__})")
    return float(value)


def report_failures(name, outcomes, fold_labels):
    """Warn once per failed fold (naming it and the error); raise if every fold failed.

    This is scikit-learn's ``error_score`` behaviour (a :class:`FitFailedWarning`, and a
    ``ValueError`` when all fits fail), with the fold named in the message.
    """
    failed = [(label, o.error) for label, o in zip(fold_labels, outcomes, strict=True) if o.error]
    for label, error in failed:
        warn_at_caller(
            f"{name}: the fit on {label} failed and its score is set to error_score: {error}",
            FitFailedWarning,
        )
    if failed and len(failed) == len(outcomes):
        raise ValueError(
            f"{name}: all {len(outcomes)} fits failed; the first error was: {failed[0][1]}"
        )
