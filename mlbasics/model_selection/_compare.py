"""Several estimators on the same folds, and which of their differences are real."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from itertools import combinations
from numbers import Integral, Real

import numpy as np
from scipy.stats import rankdata
from sklearn.base import is_classifier, is_regressor
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from .._validation import warn_at_caller
from ._callbacks import (
    CompareEstimators,
    check_callbacks,
    map_with_callbacks,
)
from ._folds import (
    check_data,
    check_fit_params,
    check_scoring_once,
    finite_mean,
    fit_and_score,
    make_splitter,
    materialise_splits,
    repeated_splitter,
    report_failures,
    smallest_class_size,
)
from ._parallel import seeds_for
from ._params import validate_params
from ._stats import (
    PAIRED_TESTS,
    combined_ftest_5x2cv,
    corrected_resampled_ttest,
    holm_correction,
    mcnemar_test,
    paired_ttest_5x2cv,
)

# Default resampling of the corrected t-test: 10 x 10 repeated K-fold (Bouckaert & Frank), fewer
# repeats for larger data: (largest n_samples, n_repeats), the first row that fits wins.
DEFAULT_FOLDS = 10
DEFAULT_REPEATS = ((2_000, 10), (20_000, 3), (np.inf, 1))
MCNEMAR_TEST_SIZE = 0.25


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class ComparisonResult:
    """Scores of several estimators on the same splits, and the pairwise tests between them.

    Attributes
    ----------
    names : list of str
        The estimators, in the order given.
    scores : ndarray of shape (n_estimators, n_splits)
        Held-out score of every estimator on every split (greater is better); a fit that raised
        has ``error_score`` (NaN by default).
    fit_times : ndarray of shape (n_estimators, n_splits)
        Seconds spent in ``fit``.
    pvalues : ndarray of shape (n_estimators, n_estimators)
        Two-sided p-values of the pairwise tests, adjusted for multiple comparisons (Holm) unless
        ``correction=None``; symmetric, 1 on the diagonal, NaN for a pair that was not tested (a
        NaN score, such as a failed fit's with the default ``error_score``, or an undefined
        5x2cv t: see :func:`paired_ttest_5x2cv`).
    raw_pvalues : ndarray of shape (n_estimators, n_estimators)
        The same before the adjustment.
    statistics : ndarray of shape (n_estimators, n_estimators)
        The test statistic of row minus column (t is antisymmetric; F and McNemar's count are
        symmetric).
    test : str
        The test: ``"corrected_t"``, ``"5x2cv_t"``, ``"5x2cv_f"`` or ``"mcnemar"``.
    correction : str or None
        ``"holm"`` or None.
    scoring : str
        The scorer's name.
    train_indices, test_indices : tuple of ndarray
        The splits; every estimator was fitted and scored on exactly these rows.
    splitter : str
        Description of the resampling.
    estimators : list of list or None
        The fitted estimators, ``estimators[i][s]`` for estimator ``i`` on split ``s``, when
        ``return_estimators=True``.
    fit_failed : ndarray of bool of shape (n_estimators, n_splits) or None
        Whether the fit (or scoring) of each estimator on each split raised, whatever
        ``error_score`` stood in for its score; None: not recorded (taken as no failure).
    """

    names: list
    scores: np.ndarray
    fit_times: np.ndarray
    pvalues: np.ndarray
    raw_pvalues: np.ndarray
    statistics: np.ndarray
    test: str
    correction: str | None
    scoring: str
    train_indices: tuple
    test_indices: tuple
    splitter: str
    estimators: list | None = None
    fit_failed: np.ndarray | None = None

    @property
    def n_splits(self) -> int:
        return self.scores.shape[1]

    @property
    def mean_scores(self) -> np.ndarray:
        """Mean score of each estimator over the splits whose score is not NaN (a numeric
        ``error_score`` counts as the score of a failed split, as in scikit-learn)."""
        return _nanmean_rows(self.scores)

    @property
    def std_scores(self) -> np.ndarray:
        """Standard deviation (ddof=1) of each estimator's scores over the splits."""
        out = np.full(len(self.names), np.nan)
        for i, row in enumerate(self.scores):
            finite = row[~np.isnan(row)]
            if finite.size > 1:
                out[i] = np.std(finite, ddof=1)
        return out

    @property
    def mean_fit_times(self) -> np.ndarray:
        return _nanmean_rows(self.fit_times)

    @property
    def n_failed(self) -> np.ndarray:
        """Number of failed splits, for each estimator: the fit or scoring raised
        (:attr:`fit_failed`, whatever ``error_score`` stood in), or the score is NaN (the scorer
        returned NaN on that test fold)."""
        failed = np.isnan(self.scores)
        if self.fit_failed is not None:
            failed |= self.fit_failed
        return failed.sum(axis=1)

    @property
    def ranks(self) -> np.ndarray:
        """Rank of each estimator by mean score (1 = best, ties share the mean rank).

        Means that differ only by the rounding of their sums tie: two classifiers with 6 errors
        each over the same equal folds have the same mean, 564/570, but summing different fold
        scores left them 1 ulp apart and they were ranked 1 and 2 (a review; 14 pairs in 100).
        """
        means = np.nan_to_num(self.mean_scores, nan=-np.inf)
        with np.errstate(invalid="ignore"):
            magnitudes = np.nan_to_num(np.nanmax(np.abs(self.scores), axis=1, initial=0.0))
        return rankdata(-_ties_within_rounding(means, magnitudes, self.scores.shape[1]))

    def significant_differences(self, alpha=0.05):
        """Pairs whose (adjusted) p-value is below ``alpha``, the better one first.

        Returns
        -------
        list of tuple (str, str, float)
            ``(better, worse, pvalue)``, smallest p-value first.
        """
        found = []
        for i, j in combinations(range(len(self.names)), 2):
            p = self.pvalues[i, j]
            if np.isnan(p) or p >= alpha:
                continue
            # the direction the test judged: the means' order (or their ranks, which tie within
            # rounding) named the worse one first where a significant difference was below it
            # (reviews). The 5x2cv t's numerator is the first split's difference alone (a review:
            # t = +7.9 for a over b, while the sum of all differences favoured b); the other tests
            # judge the paired differences' exact sum over the splits both scored
            if self.test == "5x2cv_t":
                total = float(self.statistics[i, j])
            else:
                both = ~(np.isnan(self.scores[i]) | np.isnan(self.scores[j]))
                total = math.fsum(self.scores[i][both] - self.scores[j][both])
            better, worse = (i, j) if total >= 0.0 else (j, i)
            found.append((self.names[better], self.names[worse], float(p)))
        return sorted(found, key=lambda row: row[2])

    def table(self, *, alpha=0.05) -> str:
        """The summary as text: mean ± std, fit time, rank, then the matrix of p-values."""
        width = max(12, *(len(n) for n in self.names)) + 2
        header = f"{'estimator':<{width}}{self.scoring + ' (mean ± std)':>26}{'fit time (s)':>14}"
        header += f"{'rank':>7}"
        show_failed = bool(self.n_failed.any())
        if show_failed:
            header += f"{'failed':>8}"
        plural = "s" if self.n_splits != 1 else ""
        lines = [f"{self.n_splits} split{plural} ({self.splitter})", header, "-" * len(header)]
        for i, name in enumerate(self.names):
            spread = self.std_scores[i]  # undefined for a single split
            score = f"{self.mean_scores[i]:.4f} ± " + ("-" if np.isnan(spread) else f"{spread:.4f}")
            row = f"{name:<{width}}{score:>26}{self.mean_fit_times[i]:>14.4f}{self.ranks[i]:>7g}"
            if show_failed:
                row += f"{self.n_failed[i]:>8d}"
            lines.append(row)
        adjusted = ", Holm-adjusted" if self.correction == "holm" else ""
        lines += ["", f"p-values ({PAIRED_TESTS[self.test]}{adjusted}; * below {alpha:g}):"]
        labels = [f"[{i + 1}]" for i in range(len(self.names))]
        lines.append(" " * (width + 4) + "".join(f"{label:>10}" for label in labels))
        for i, name in enumerate(self.names):
            cells = []
            for j in range(len(self.names)):
                p = self.pvalues[i, j]
                if i == j:
                    cells.append(f"{'-':>10}")
                elif np.isnan(p):
                    cells.append(f"{'n/a':>10}")
                else:
                    cells.append(f"{_format_p(p) + ('*' if p < alpha else ' '):>10}")
            lines.append(f"{labels[i]:<4}{name:<{width}}" + "".join(cells))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_frame(self, kind="summary"):
        """The result as a :class:`pandas.DataFrame` (needs pandas).

        Parameters
        ----------
        kind : {"summary", "scores", "pvalues"}, default="summary"
            ``"summary"``: one row per estimator (mean, std, fit time, rank, failed);
            ``"scores"``: one row per estimator and split (long format, for plotting);
            ``"pvalues"``: the matrix of p-values, labelled by name.
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "ComparisonResult.to_frame needs pandas, which is not installed: pip install pandas"
            ) from None
        if kind == "summary":
            return pd.DataFrame(
                {
                    "mean": self.mean_scores,
                    "std": self.std_scores,
                    "fit_time": self.mean_fit_times,
                    "rank": self.ranks,
                    "failed": self.n_failed,
                },
                index=pd.Index(self.names, name="estimator"),
            )
        if kind == "scores":
            n = len(self.names)
            return pd.DataFrame(
                {
                    "estimator": np.repeat(self.names, self.n_splits),
                    "split": np.tile(np.arange(self.n_splits), n),
                    "score": self.scores.ravel(),
                    "fit_time": self.fit_times.ravel(),
                }
            )
        if kind == "pvalues":
            return pd.DataFrame(self.pvalues, index=self.names, columns=self.names)
        raise ValueError(f"kind must be 'summary', 'scores' or 'pvalues', got {kind!r}")


def _ties_within_rounding(values, magnitudes, terms):
    """``values`` (means of ``terms`` scores each) with those that lie within the rounding of
    their sums of the first of a run of ascending values set equal to it. The rounding of two
    means is ``4 terms eps`` times the larger magnitude of the two estimators' scores: the
    largest over all estimators (a diverged regressor's MSE of 9e14) tied means of -1.8 and -1.0
    and ordered a significant pair the wrong way round (a review)."""
    out = np.array(values, dtype=float)
    finite = np.isfinite(out)
    order = np.flatnonzero(finite)[np.argsort(out[finite], kind="stable")]
    anchor = None
    for index in order:
        if anchor is not None:
            scale = max(magnitudes[anchor], magnitudes[index], abs(values[anchor]))
            if values[index] - values[anchor] <= 4.0 * max(terms, 1) * np.finfo(float).eps * scale:
                out[index] = out[anchor]
                continue
        anchor = index
    return out


def _nanmean_rows(values):
    return np.array([finite_mean(row) for row in values])


def _format_p(p):
    return f"{p:.3f}" if p >= 1e-3 else f"{p:.0e}"


def _check_estimators(estimators):
    pairs = list(estimators.items()) if isinstance(estimators, dict) else list(estimators)
    # (a two-step Pipeline unpacks into two items too: its first step was taken for a name and
    # its last one fitted alone, silently: a review)
    odd = [p for p in pairs if not (isinstance(p, (tuple, list)) and len(p) == 2)]
    if odd:
        raise TypeError(
            "estimators must be a dict name -> estimator or a list of (name, estimator) pairs; "
            f"got an item of type {type(odd[0]).__name__} (name each estimator: "
            "[('svc', make_pipeline(...)), ...])"
        )
    names = [str(name) for name, _ in pairs]
    models = [model for _, model in pairs]
    if len(pairs) < 2:
        raise ValueError(f"compare_estimators needs at least 2 estimators, got {len(pairs)}")
    if len(set(names)) != len(names):
        raise ValueError(f"the estimator names must be unique, got {names}")
    for name, model in zip(names, models, strict=True):
        if not hasattr(model, "fit"):
            raise TypeError(f"estimator {name!r} has no fit method: {model!r}")
    return names, models


def _default_splitter(test, y, n_samples, *, classifier, random_state, r2=False):
    """The resampling each test is built for (see :func:`compare_estimators`); ``r2``: the
    scores are R² (undefined on one test sample)."""
    if test == "mcnemar":
        from sklearn.model_selection import StratifiedShuffleSplit

        return StratifiedShuffleSplit(
            n_splits=1, test_size=MCNEMAR_TEST_SIZE, random_state=random_state
        )
    if test in ("5x2cv_t", "5x2cv_f"):
        return repeated_splitter(2, 5, y, classifier=classifier, random_state=random_state)
    n_splits = DEFAULT_FOLDS
    if classifier:
        smallest, _ = smallest_class_size(y)
        if smallest < 2:
            raise ValueError(
                "the smallest class has 1 sample: stratified K-fold needs at least 2 per class"
            )
        n_splits = min(n_splits, smallest)
    elif r2:
        # every test fold keeps at least 2 samples: R² is undefined on one
        n_splits = min(n_splits, n_samples // 2)
        if n_splits < 2:
            raise ValueError(
                f"the default K-fold of a regressor needs at least 4 samples (2 folds of 2, as "
                f"R² is undefined on one sample), got {n_samples}"
            )
    n_splits = min(n_splits, n_samples)
    n_repeats = next(r for limit, r in DEFAULT_REPEATS if n_samples <= limit)
    return repeated_splitter(
        n_splits, n_repeats, y, classifier=classifier, random_state=random_state
    )


def _describe(splitter, splits):
    n_repeats = getattr(splitter, "n_repeats", None)
    if n_repeats is not None:
        repeats = f"{n_repeats} repeat{'s' if n_repeats != 1 else ''}"
        return f"{len(splits) // n_repeats}-fold x {repeats}, {type(splitter).__name__}"
    name = type(splitter).__name__
    return "the given splits" if name.startswith("_") else name


def _check_splits_for_test(test, splits):
    if test == "corrected_t" and len(splits) < 2:
        raise ValueError(
            f"the corrected t-test needs at least 2 splits (their differences' variance); cv gave "
            f"{len(splits)}"
        )
    if test == "mcnemar" and len(splits) != 1:
        raise ValueError(
            f"McNemar's test compares predictions on one hold-out set; cv gave {len(splits)} splits"
        )
    if test in ("5x2cv_t", "5x2cv_f"):
        if len(splits) != 10:
            raise ValueError(
                f"test={test!r} needs 5 repetitions of 2-fold CV (10 splits), cv gave {len(splits)}"
            )
        for r in range(5):
            (train_a, test_a), (train_b, test_b) = splits[2 * r], splits[2 * r + 1]
            if not (
                np.array_equal(np.sort(train_a), np.sort(test_b))
                and np.array_equal(np.sort(test_a), np.sort(train_b))
            ):
                raise ValueError(
                    f"test={test!r}: splits {2 * r + 1} and {2 * r + 2} must swap the two halves "
                    "of one 2-fold partition"
                )


def _pair_test(test, a, b, *, n_train, n_test, correct_a=None, correct_b=None):
    if test == "mcnemar":
        if correct_a is None or correct_b is None:  # a failed fit
            return None
        return mcnemar_test(correct_a, correct_b)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return None  # a failed fit's NaN, or an infinite score (a diverged fit's MSE or R^2)
    if test == "corrected_t":
        return corrected_resampled_ttest(a, b, n_train=n_train, n_test=n_test)
    if test == "5x2cv_t":
        return paired_ttest_5x2cv(a, b)
    return combined_ftest_5x2cv(a, b)


def _compare_task(estimator, X, y, train, test, scoring, seed, error_score, correct, keep,
                  params, ctx=None, run=None):  # fmt: skip
    return fit_and_score(
        estimator,
        X,
        y,
        train,
        test,
        scoring=scoring,
        seed=seed,
        return_estimator=keep,
        return_correct=correct,
        error_score=error_score,
        fit_params=params,
        callback_ctx=ctx,
        caller=run,
    )


def _check_one_default_score(names, models):
    """A ValueError when ``scoring=None`` would score the estimators by different measures
    (classifiers by accuracy, regressors by R²): a Ridge beside a LogisticRegression gave
    0.37 against 0.83 and p = 1e-5, a comparison of two units."""
    kinds = {}
    for name, model in zip(names, models, strict=True):
        kind = (
            "classifiers"
            if is_classifier(model)
            else ("regressors" if is_regressor(model) else "other estimators")
        )
        kinds.setdefault(kind, []).append(name)
    if len(kinds) > 1:
        listed = "; ".join(f"{kind}: {', '.join(map(str, group))}" for kind, group in kinds.items())
        raise ValueError(
            f"compare_estimators was given estimators of different kinds ({listed}), whose "
            "default scores (accuracy, R², their own score) are different measures. Pass a "
            "scoring that applies to all of them (e.g. scoring='neg_mean_squared_error')."
        )


@validate_params(
    {
        "estimators": [dict, list, tuple],
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "groups": ["array-like", None],
        "cv": ["cv_object"],  # (an int >= 2, a splitter, an iterable of splits or None)
        "scoring": [str, callable, None],
        "test": [StrOptions(set(PAIRED_TESTS))],
        "correction": [StrOptions({"holm"}), None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "error_score": [StrOptions({"raise"}), Real],
        "return_estimators": ["boolean"],
        "callbacks": "no_validation",  # checked by check_callbacks: a clearer TypeError
        "params": [dict, None],
    }
)
def compare_estimators(
    estimators,
    X,
    y,
    *,
    groups=None,
    cv=None,
    scoring=None,
    test="corrected_t",
    correction="holm",
    n_jobs=None,
    random_state=None,
    verbose=0,
    error_score=np.nan,
    return_estimators=False,
    callbacks=None,
    params=None,
):
    """Cross-validate several estimators on the same splits and test their pairwise differences.

    Every estimator is fitted and scored on exactly the same splits, so the differences of scores
    are paired: split by split, the data are held fixed and only the estimator changes. Each pair
    is then tested for a difference in expected score, and the p-values are adjusted for the
    number of pairs (Holm), so that "significant" keeps its meaning with many estimators.

    Parameters
    ----------
    estimators : dict or list of (str, estimator)
        Named estimators (at least two).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    groups : array-like of shape (n_samples,), default=None
        Group labels for a group-aware splitter (:class:`~sklearn.model_selection.GroupKFold`).
        The splitter an int ``cv`` builds ignores them (scikit-learn warns that it does): to keep
        each group in one fold, pass a group-aware splitter as ``cv``.
    cv : int, cross-validation splitter, iterable of splits or None, default=None
        None picks the resampling the test is built for: for ``"corrected_t"``, 10 x 10 repeated
        K-fold (stratified for classifiers) as Bouckaert and Frank recommend, with 3 repeats above
        2,000 samples and 1 above 20,000, and fewer folds if the smallest class has fewer than 10
        samples (with R² as the score, the default for regressors, if there are fewer than 20
        samples: every test fold keeps 2, since R² is undefined on one); for the 5x2cv tests,
        5 repeats of 2-fold; for ``"mcnemar"``, one stratified hold-out of 25%. An int ``K`` is
        one shuffled K-fold.
    scoring : str, callable or None, default=None
        A scikit-learn scorer; None is accuracy for classifiers and R² for regressors (each
        estimator's own ``score`` for other kinds), and a ValueError for a mix of kinds, whose
        default scores no paired test can compare.
    test : {"corrected_t", "5x2cv_t", "5x2cv_f", "mcnemar"}, default="corrected_t"
        The paired test: :func:`corrected_resampled_ttest`, :func:`paired_ttest_5x2cv`,
        :func:`combined_ftest_5x2cv` or :func:`mcnemar_test` (classifiers, one split; it
        tests the labels of ``predict``, so ``scoring`` must be accuracy).
    correction : {"holm"} or None, default="holm"
        Adjustment of the p-values for the ``k (k - 1) / 2`` pairs (:func:`holm_correction`).
    n_jobs : int or None, default=None
        The ``n_estimators x n_splits`` fits run in parallel through joblib; a
        ``joblib.parallel_config(backend="dask")`` context sends them to a Dask cluster.
    random_state : int, RandomState instance or None, default=None
        Seeds the splits (when ``cv`` is None or an int) and every ``random_state`` parameter of
        the estimators left at None (seeds per estimator and split, a different one for each
        such parameter, nested ones included). With a fixed value the result does not depend
        on ``n_jobs``.
    verbose : int, default=0
        A progress bar over the fits when positive (needs tqdm).
    error_score : "raise" or float, default=np.nan
        Score of a fit that raises, with a :class:`~sklearn.exceptions.FitFailedWarning` naming the
        estimator, the split and the error; the fit counts in ``n_failed`` either way. With NaN,
        pairs involving it get a NaN p-value; a number stands in as that split's score, and the
        tests use it as one (as the scores of scikit-learn's ``cross_validate`` would be used).
        ``"raise"`` re-raises. An estimator whose every fit fails raises a ``ValueError``.
    return_estimators : bool, default=False
        Keep the fitted estimators in the result.
    callbacks : callback or list of callbacks, default=None
        scikit-learn callbacks (:mod:`sklearn.callback`, such as
        :class:`~sklearn.callback.ProgressBar`). The run is one task (``CompareEstimators``) with
        one subtask per estimator and one per split under each; auto-propagated callbacks reach
        every fitted estimator that supports callbacks (it has ``set_callbacks``), so its own
        iterations show under its split. An estimator without callback support is fitted as it
        is, its splits being leaf tasks, without a warning. Works with ``n_jobs`` (the events
        come back from the worker processes) and independently of ``verbose``; the scores do
        not change. See :ref:`theory-model-selection-callbacks`.
    params : dict or None, default=None
        Keyword arguments of every estimator's ``fit`` (each must accept them), as
        ``cross_validate``'s ``params``: one with a value per sample (``sample_weight``) is
        restricted to each split's training rows, others are passed whole. The scores, and the
        paired tests on them, are unweighted.

    Returns
    -------
    ComparisonResult
        Prints as a table; ``to_frame()`` converts it, :class:`mlbasics.plotting.ComparisonDisplay`
        draws it.

    See Also
    --------
    kfold_errors : Training and validation errors of one estimator.

    Notes
    -----
    The splits overlap (two training sets of 10-fold CV share 8/9 of their samples), so the
    scores of one estimator on different splits are correlated and the naive paired t-test,
    which assumes independence, finds differences that are not there. The corrected t-test
    inflates the variance by ``1 + J n_test / n_train``; the 5x2cv tests use training sets that
    do not overlap within a repetition. See :ref:`theory-model-selection`.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from mlbasics.model_selection import compare_estimators
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> res = compare_estimators(
    ...     {"majority": DummyClassifier(),
    ...      "logistic": make_pipeline(StandardScaler(), LogisticRegression())},
    ...     X, y, cv=5, random_state=0)
    >>> res.scores.shape
    (2, 5)
    >>> res.significant_differences()[0][:2]
    ('logistic', 'majority')
    """
    names, models = _check_estimators(estimators)
    callbacks = check_callbacks(callbacks, models, names)
    X, y, n_samples = check_data(X, y)
    params = check_fit_params(params, n_samples)
    classifier = all(is_classifier(m) for m in models)
    if scoring is None:
        _check_one_default_score(names, models)
    if test == "mcnemar" and not classifier:
        raise ValueError("McNemar's test compares classifiers; use test='corrected_t'")
    if test == "mcnemar" and scoring not in (None, "accuracy"):
        # the p-value judges predict's labels: another score would order the pair by one
        # measure and test it by another (roc_auc named the less accurate classifier the better
        # at p = 4e-10, the accuracy counts favouring the other 59 to 9: a review)
        raise ValueError(
            "McNemar's test counts the test samples each classifier labels right: it tests "
            f"accuracy, so scoring must be 'accuracy' or None; got scoring={scoring!r}. For "
            "another score use test='corrected_t'."
        )
    if test == "mcnemar" and np.ndim(y) == 2 and np.shape(y)[1] != 1:
        raise ValueError(
            "McNemar's test counts the test samples each classifier labels right, which needs "
            f"one label per sample; y has shape {np.shape(y)} (multi-output): use "
            "test='corrected_t' with a score"
        )
    rng = check_random_state(random_state)
    if cv is None:
        r2 = scoring == "r2" or (scoring is None and not classifier)
        splitter = _default_splitter(
            test, y, n_samples, classifier=classifier, random_state=rng, r2=r2
        )
    else:
        splitter = make_splitter(
            cv, y, classifier=classifier, random_state=rng, n_samples=n_samples
        )
    splits = materialise_splits(splitter, X, y, groups)
    _check_splits_for_test(test, splits)
    if scoring is None:
        scoring = "accuracy" if classifier else ("r2" if all(map(is_regressor, models)) else None)
    check_scoring_once(models[0], scoring)
    n_est, n_splits = len(models), len(splits)
    seeds = seeds_for(rng, n_est * n_splits).reshape(n_est, n_splits)
    tasks = [
        (
            model,
            X,
            y,
            train,
            test_rows,
            scoring,
            seeds[i, s],
            error_score,
            test == "mcnemar",
            return_estimators,
            params,
        )
        for i, model in enumerate(models)
        for s, (train, test_rows) in enumerate(splits)
    ]
    outcomes = map_with_callbacks(
        _compare_task,
        tasks,
        callbacks=callbacks,
        run_class=CompareEstimators,
        task_name=f"{n_est} estimators x {n_splits} splits",
        leaf_name="split",
        groups=[(name, n_splits) for name in names],
        X=X,
        y=y,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    outcomes = [outcomes[i * n_splits : (i + 1) * n_splits] for i in range(n_est)]
    labels = [f"split {s + 1} of {n_splits}" for s in range(n_splits)]
    for name, row in zip(names, outcomes, strict=True):
        report_failures(name, row, labels)

    scores = np.array([[o.test_score for o in row] for row in outcomes])
    fit_times = np.array([[o.fit_time for o in row] for row in outcomes])
    n_train = float(np.mean([len(train) for train, _ in splits]))
    n_test = float(np.mean([len(test_rows) for _, test_rows in splits]))
    statistics = np.zeros((n_est, n_est))
    raw = np.eye(n_est)
    pairs = list(combinations(range(n_est), 2))
    for i, j in pairs:
        # a test's warning (a zero variance) names the pair it is about, as the caller's line
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = _pair_test(
                test,
                scores[i],
                scores[j],
                n_train=n_train,
                n_test=n_test,
                correct_a=outcomes[i][0].correct,
                correct_b=outcomes[j][0].correct,
            )
        for warning in caught:
            warn_at_caller(f"{names[i]} vs {names[j]}: {warning.message}", warning.category)
        if result is None:
            statistics[i, j] = statistics[j, i] = raw[i, j] = raw[j, i] = np.nan
            continue
        antisymmetric = test in ("corrected_t", "5x2cv_t")
        statistics[i, j] = result.statistic
        statistics[j, i] = -result.statistic if antisymmetric else result.statistic
        raw[i, j] = raw[j, i] = result.pvalue
    adjusted = np.eye(n_est)
    if pairs:
        upper = np.array([raw[i, j] for i, j in pairs])
        upper = holm_correction(upper) if correction == "holm" else upper
        for (i, j), p in zip(pairs, upper, strict=True):
            adjusted[i, j] = adjusted[j, i] = p
    return ComparisonResult(
        names=names,
        scores=scores,
        fit_times=fit_times,
        pvalues=adjusted,
        raw_pvalues=raw,
        statistics=statistics,
        test=test,
        correction=correction,
        scoring=scoring if isinstance(scoring, str) else "score",
        train_indices=tuple(train for train, _ in splits),
        test_indices=tuple(test_rows for _, test_rows in splits),
        splitter=_describe(splitter, splits),
        estimators=[[o.estimator for o in row] for row in outcomes] if return_estimators else None,
        fit_failed=np.array([[o.error is not None for o in row] for row in outcomes]),
    )
