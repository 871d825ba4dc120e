"""Paired tests of two estimators scored on the same resampling splits, and Holm's correction.

Every function takes plain arrays (scores per split, or per-sample correctness) and knows nothing
of estimators: :func:`~mlbasics.model_selection.compare_estimators` produces the arrays and calls
them once per pair of estimators.

Sign convention: the differences are ``d = scores_a - scores_b``, so a positive statistic means
that ``a`` scored higher.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

import numpy as np
from scipy import stats
from sklearn.utils._param_validation import Interval

from .._validation import warn_at_caller
from ._params import validate_params


@dataclass(frozen=True)
class TestResult:
    """Outcome of one paired test.

    Attributes
    ----------
    statistic : float
        The test statistic (t, F, or for McNemar's exact test the smaller discordant count).
    pvalue : float
        Two-sided p-value under the null hypothesis of equal expected scores.
    """

    __test__ = False  # not a pytest test class, despite the name

    statistic: float
    pvalue: float


#: Two differences closer than this many machine epsilons of the scores' type (float64 for
#: integers), half of it relative to the larger score of each difference's split, are taken as
#: equal (all of them for the corrected t-test, the two of each repetition for the 5x2cv tests).
#: Each score is off its decimal value by half an epsilon of its magnitude, so two differences of
#: equal decimal scores are at most about two apart: 0.91 - 0.9 and 0.82 - 0.81 differ by
#: 1.1e-16, and 0.9 - 0.8 and 0.8 - 0.7 in float32 by 6e-8. Per split, not relative to the
#: largest score of all: beside one fold scored -1e8 (a mean squared error), differences of 3e-8
#: on folds scored -1 are real, not rounding.
SAME_DIFFERENCE = 4

# Why a test's variance is 0, for the warning (see _warn_degenerate).
ALL_EQUAL = "every paired difference is the same non-zero number"
REPETITIONS_EQUAL = "the two paired differences of every repetition are equal (every s_i^2 = 0)"


def _as_floats(values, name):
    """``values`` as a float array; strings, complex numbers and objects are errors naming it.

    ``np.asarray(values, dtype=float)`` would drop the imaginary part of complex numbers (with a
    ``ComplexWarning``) and parse numeric strings.
    """
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        kind = "complex numbers" if array.dtype.kind == "c" else f"dtype {array.dtype}"
        raise ValueError(f"{name} must hold real numbers, got {kind}")
    return array.astype(float)


def _paired_differences(scores_a, scores_b, *, allowed, shapes_doc):
    """The differences ``a - b``, in units of a power of two (every test is scale-invariant), and
    the rounding of each (its radius: two differences closer than their radii added are equal).

    The scores must have the same shape, one for which ``allowed(shape)`` is true
    (``shapes_doc`` says which in words), and are paired entry by entry: arrays of the same size
    and different shapes, ``(2, 3)`` and ``(3, 2)``, would pair scores of different splits once
    ravelled.

    The scores are subtracted as they are (halved first, which is exact, when a difference
    would overflow: scores of 1.5e308 and -7.5e307), and the differences and their radii then
    divided by the power of two just above the largest difference's magnitude, also exact: their
    squares stay finite for scores near the overflow threshold (1e200, 1e308), do not underflow
    for tiny ones (1e-300), nor for ordinary differences beside a pair of huge equal scores.
    (Dividing the scores themselves by the largest one's power of two first, as before, pushed
    scores of 1e-20 beside a pair of 1e300 into the subnormal range: t = 0.8055 against the exact
    0.8012, and at 1e-25 t = 0 silently; a review.)
    """
    a = _as_floats(scores_a, "scores_a")
    b = _as_floats(scores_b, "scores_b")
    kinds = [np.asarray(s).dtype for s in (scores_a, scores_b)]
    # (never below float64's: the scores are compared in float64, longdouble ones too)
    eps = max(float(np.finfo(k if k.kind == "f" else np.float64).eps) for k in kinds)
    eps = max(eps, float(np.finfo(np.float64).eps))
    if a.shape != b.shape:
        raise ValueError(
            "scores_a and scores_b must hold one score per split each, in the same shape; got "
            f"{a.shape} and {b.shape}"
        )
    if not allowed(a.shape):
        raise ValueError(f"scores_a and scores_b must {shapes_doc}; got shape {a.shape}")
    a, b = a.ravel(), b.ravel()
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("the scores contain NaN or infinite values (failed folds?)")
    with np.errstate(over="ignore"):
        d = a - b
    if not np.isfinite(d).all():  # a difference beyond the float range: all of them in halves
        a, b = 0.5 * a, 0.5 * b
        d = a - b
    radius = 0.5 * SAME_DIFFERENCE * eps * np.maximum(np.abs(a), np.abs(b))
    spread = float(np.abs(d).max(initial=0.0))
    if spread > 0:  # then in units of the differences' own largest power of two: beside a pair
        # of equal scores of 1e200 the others' differences were 1e-200 and their squares 0 (t =
        # inf, p = 0, where t = 0.94: a review). A radius beyond the float range (differences
        # near the smallest float) is inf: every difference is then within it.
        shift = int(np.frexp(spread)[1])
        with np.errstate(over="ignore"):
            d, radius = np.ldexp(d, -shift), np.ldexp(radius, -shift)
    lo, hi = np.max(d - radius, initial=-np.inf), np.min(d + radius, initial=np.inf)
    if d.size and lo <= hi:
        # every difference within its rounding of one value (0.9 - 0.8 != 0.8 - 0.7): equal, so
        # that the tests take their zero-variance limit instead of a t of 1e15 made of rounding
        # noise. Equal to 0 if 0 is such a value, else to their mean (kept within every one's
        # rounding): not to the first one, which made the verdict depend on the order of the
        # splits (+1 ulp first: t = inf; -1 ulp first: -inf).
        d[:] = 0.0 if lo <= 0.0 <= hi else min(max(float(d.mean()), lo), hi)
    return d, radius


def _warn_degenerate(statistic, cause):
    warn_at_caller(
        f"{cause}, so the variance the {statistic} statistic divides by is 0: an infinite "
        f"{statistic} and p = 0 are the test's limit, not evidence that the difference is real "
        "(scores this coarse, such as accuracies on small test folds, say little); use more "
        "data, more repeats or another test",
        UserWarning,
    )


def _t_from_mean_and_scale(mean, scale, dof, cause):
    """t = mean / scale with two-sided p on ``dof`` degrees of freedom; scale 0 is a limit.

    The caller makes sure that scale 0 with mean 0 means every difference is 0 (t = 0, p = 1);
    ``cause`` says why the scale is 0 otherwise.
    """
    if scale > 0:
        t = mean / scale
    elif mean == 0:
        return TestResult(0.0, 1.0)
    else:  # the limit of t is infinite
        _warn_degenerate("t", cause)
        t = np.copysign(np.inf, mean)
    return TestResult(float(t), float(2.0 * stats.t.sf(abs(t), dof)))


@validate_params(
    {
        "n_train": [Interval(Real, 0, None, closed="neither")],
        "n_test": [Interval(Real, 0, None, closed="neither")],
    }
)
def corrected_resampled_ttest(scores_a, scores_b, *, n_train, n_test):
    """Nadeau and Bengio's corrected resampled t-test of two estimators on the same splits.

    With ``J`` splits (folds times repeats) and per-split differences ``d_j = a_j - b_j``,

    .. math::

        t = \\frac{\\bar d}{\\sqrt{\\left(\\frac{1}{J} + \\frac{n_\\text{test}}{n_\\text{train}}
        \\right) s_d^2}}, \\qquad s_d^2 = \\frac{1}{J - 1} \\sum_j (d_j - \\bar d)^2,

    compared with Student's t on ``J - 1`` degrees of freedom. The naive paired t-test uses
    ``1 / J`` alone and treats the ``J`` differences as independent; they are not (the training
    sets overlap), and the extra term ``n_test / n_train`` makes up for the correlation.

    Parameters
    ----------
    scores_a, scores_b : array-like of shape (n_splits,)
        Scores of the two estimators, split by split (the same splits, in the same order).
    n_train, n_test : float > 0
        Number of training and test samples in a split (the mean over splits if they vary);
        finite.

    Returns
    -------
    TestResult
        ``statistic`` is ``t``; ``pvalue`` is two-sided.

    References
    ----------
    .. [1] C. Nadeau, Y. Bengio. Inference for the generalization error. Machine Learning 52,
       239-281, 2003.
    .. [2] R. Bouckaert, E. Frank. Evaluating the replicability of significance tests for
       comparing learning algorithms. PAKDD 2004.

    Examples
    --------
    >>> from mlbasics.model_selection import corrected_resampled_ttest
    >>> a = [0.90, 0.92, 0.88, 0.91, 0.93]
    >>> b = [0.85, 0.90, 0.86, 0.88, 0.90]
    >>> res = corrected_resampled_ttest(a, b, n_train=80, n_test=20)
    >>> round(res.statistic, 3)  # mean 0.03, s^2 = 0.00015: 0.03 / sqrt((1/5 + 1/4) s^2)
    3.651
    >>> round(res.pvalue, 4)  # Student's t with 4 degrees of freedom
    0.0217
    """
    d, _ = _paired_differences(
        scores_a,
        scores_b,
        allowed=lambda shape: len(shape) == 1,
        shapes_doc="be one-dimensional, one score per split",
    )
    J = d.size
    if J < 2:
        raise ValueError(f"the corrected t-test needs at least 2 splits, got {J}")
    # (all equal: exactly 0; np.var of ten copies of 0.6 is 3.4e-33, the mean's rounding, which
    # gave t = 1.1e16 without the warning)
    variance = 0.0 if np.ptp(d) == 0.0 else np.var(d, ddof=1)
    scale = np.sqrt((1.0 / J + n_test / n_train) * variance)
    return _t_from_mean_and_scale(d.mean(), scale, J - 1, ALL_EQUAL)


def _five_by_two(scores_a, scores_b):
    d, radius = _paired_differences(
        scores_a,
        scores_b,
        allowed=lambda shape: shape in ((10,), (5, 2)),
        shapes_doc=(
            "hold the scores of 5 repetitions of 2-fold cross-validation, 10 scores per "
            "estimator: shape (10,) ordered repetition by repetition or (5, 2) with one row per "
            "repetition"
        ),
    )
    d, radius = d.reshape(5, 2), radius.reshape(5, 2)
    # a difference within its scores' rounding of 0 is 0 (0.1 + 0.2 against 0.3: the t-test's
    # numerator d_1^(1) = 5.6e-17 gave t = +-inf by the order of the two estimators)
    d = np.where(np.abs(d) <= radius, 0.0, d)
    variances = ((d - d.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)  # s_i^2, i = 1..5
    # two differences equal up to rounding (0.9 - 0.8, 0.8 - 0.7) make s_i^2 = 0, not ~1e-33
    # of noise that would give t ~ 1e15 instead of the zero-variance limit
    variances[np.abs(d[:, 0] - d[:, 1]) <= radius.sum(axis=1)] = 0.0
    return d, variances


def paired_ttest_5x2cv(scores_a, scores_b):
    """Dietterich's 5x2cv paired t-test.

    Five times, the data are split in two halves; each estimator is trained on one half and scored
    on the other, then the other way round. With ``d_i^(k)`` the difference on fold ``k`` of
    repetition ``i``, its mean ``\\bar d_i`` and ``s_i^2 = \\sum_k (d_i^{(k)} - \\bar d_i)^2``,

    .. math::

        t = \\frac{d_1^{(1)}}{\\sqrt{\\frac15 \\sum_{i=1}^5 s_i^2}} \\sim t_5 .

    Parameters
    ----------
    scores_a, scores_b : array-like of shape (10,) or (5, 2)
        Scores in the order repetition 1 fold 1, repetition 1 fold 2, repetition 2 fold 1, ...

    Returns
    -------
    TestResult
        When every ``s_i^2`` is 0 (the two differences of each repetition are equal, up to
        rounding) the denominator is 0: a non-zero ``d_1^(1)`` gives ``t = ±inf`` and p = 0 with a
        ``UserWarning`` (the limit, not evidence); ``d_1^(1) = 0`` makes ``t`` 0/0, and the
        statistic and p-value are NaN with a ``UserWarning``, unless every difference is 0
        (identical scores: ``t = 0``, p = 1).

    References
    ----------
    .. [1] T. G. Dietterich. Approximate statistical tests for comparing supervised
       classification learning algorithms. Neural Computation 10(7), 1998.
    """
    d, variances = _five_by_two(scores_a, scores_b)
    if not variances.any() and d[0, 0] == 0 and d.any():  # t = 0 / 0, the scores not identical
        warn_at_caller(
            f"{REPETITIONS_EQUAL} and the numerator d_1^(1) is 0, while other differences are "
            "not: the 5x2cv t statistic is 0/0, undefined, and the statistic and p-value "
            "returned are NaN; combined_ftest_5x2cv uses all ten differences",
            UserWarning,
        )
        return TestResult(np.nan, np.nan)
    return _t_from_mean_and_scale(d[0, 0], np.sqrt(variances.mean()), 5, REPETITIONS_EQUAL)


def combined_ftest_5x2cv(scores_a, scores_b):
    """Alpaydin's combined 5x2cv F-test.

    Uses all ten differences instead of the first one only (see :func:`paired_ttest_5x2cv`):

    .. math::

        f = \\frac{\\sum_{i=1}^5 \\sum_{k=1}^2 \\bigl(d_i^{(k)}\\bigr)^2}{2 \\sum_{i=1}^5 s_i^2}
        \\sim F(10, 5) .

    Parameters
    ----------
    scores_a, scores_b : array-like of shape (10,) or (5, 2)
        Scores in the order repetition 1 fold 1, repetition 1 fold 2, repetition 2 fold 1, ...

    Returns
    -------
    TestResult
        ``statistic`` is ``f`` (never negative: the test has no direction). When every ``s_i^2``
        is 0 (up to rounding) and some difference is not, ``f = inf`` and p = 0 with a
        ``UserWarning`` (the limit, not evidence); identical scores give ``f = 0``, p = 1.

    References
    ----------
    .. [1] E. Alpaydin. Combined 5 x 2 cv F test for comparing supervised classification learning
       algorithms. Neural Computation 11(8), 1999.
    """
    d, variances = _five_by_two(scores_a, scores_b)
    numerator, denominator = (d**2).sum(), 2.0 * variances.sum()
    if denominator > 0:
        f = numerator / denominator
    elif numerator == 0:
        return TestResult(0.0, 1.0)
    else:
        _warn_degenerate("F", REPETITIONS_EQUAL)
        f = np.inf
    return TestResult(float(f), float(stats.f.sf(f, 10, 5)))


def _as_correctness(values, name):
    """A 1-D boolean array from booleans or 0/1 numbers; anything else is an error.

    ``np.asarray(x, dtype=bool)`` would take every non-zero number, NaN included, for True, so
    that scores or probabilities passed by mistake would give a p-value of the wrong thing.
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be one-dimensional (one entry per test sample), got shape {array.shape}"
        )
    if array.dtype.kind == "b":
        return array
    if array.dtype.kind in "iuf":
        bad = array[~np.isin(array, (0, 1))]
        if bad.size:
            raise ValueError(
                f"{name} must say whether each test sample was predicted correctly: booleans "
                f"or 0/1, got {bad[0].item()!r} among its values (pass predictions == y_test)"
            )
        return array.astype(bool)
    raise ValueError(
        f"{name} must be booleans or 0/1 (whether each test sample was predicted correctly), "
        f"got an array of dtype {array.dtype}"
    )


@validate_params({"exact": ["boolean"]})
def mcnemar_test(correct_a, correct_b, *, exact=True):
    """McNemar's test of two classifiers on one hold-out set.

    Only the discordant samples count: ``b`` = right by ``a`` and wrong by ``b``, ``c`` = the
    reverse. Under the null hypothesis each discordant sample falls on either side with
    probability 1/2.

    Parameters
    ----------
    correct_a, correct_b : array-like of bool or of 0/1, shape (n_test,)
        Whether each estimator predicted each test sample correctly (any other value, NaN
        included, is an error).
    exact : bool, default=True
        ``True``: the exact two-sided binomial test of ``b`` out of ``b + c`` (valid for any
        counts); the statistic is ``min(b, c)``. ``False``: the chi-square approximation with
        Edwards' continuity correction, ``max(|b - c| - 1, 0)^2 / (b + c)`` on 1 degree of
        freedom (the correction moves ``|b - c|`` towards 0 and stops there: ``b = c`` gives 0
        and p-value 1, never a smaller p-value than the uncorrected statistic's).

    Returns
    -------
    TestResult
        No discordant sample gives statistic 0 and p-value 1.

    References
    ----------
    .. [1] Q. McNemar. Note on the sampling error of the difference between correlated
       proportions or percentages. Psychometrika 12(2), 1947.
    .. [2] T. G. Dietterich. Approximate statistical tests for comparing supervised
       classification learning algorithms. Neural Computation 10(7), 1998.
    """
    a = _as_correctness(correct_a, "correct_a")
    b_ = _as_correctness(correct_b, "correct_b")
    if a.shape != b_.shape:
        raise ValueError(
            f"correct_a and correct_b must have one entry per test sample, got {a.size} and "
            f"{b_.size}"
        )
    if a.size == 0:
        raise ValueError("correct_a and correct_b are empty: McNemar's test needs test samples")
    b = int(np.sum(a & ~b_))
    c = int(np.sum(~a & b_))
    if b + c == 0:
        return TestResult(0.0, 1.0)
    if exact:
        return TestResult(float(min(b, c)), float(stats.binomtest(b, b + c, 0.5).pvalue))
    chi2 = max(abs(b - c) - 1.0, 0.0) ** 2 / (b + c)
    return TestResult(float(chi2), float(stats.chi2.sf(chi2, 1)))


def holm_correction(pvalues):
    """Holm's step-down adjustment of p-values for multiple comparisons.

    Sort the ``m`` p-values, ``p_(1) <= ... <= p_(m)``; the adjusted values are
    ``max_{k <= i} min(1, (m - k + 1) p_(k))``, returned in the original order. Rejecting where
    the adjusted value is below ``alpha`` controls the family-wise error rate at ``alpha``, and
    is never less powerful than Bonferroni. NaN entries (pairs that could not be tested) are kept
    as NaN and do not count in ``m``.

    Parameters
    ----------
    pvalues : array-like of shape (m,)
        Values in [0, 1] or NaN; anything else (a negative number, 1.5, infinity) is a
        ``ValueError``.

    Returns
    -------
    ndarray of shape (m,)

    References
    ----------
    .. [1] S. Holm. A simple sequentially rejective multiple test procedure. Scandinavian Journal
       of Statistics 6(2), 1979.

    Examples
    --------
    >>> from mlbasics.model_selection import holm_correction
    >>> holm_correction([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p = _as_floats(pvalues, "pvalues")
    if p.ndim != 1:
        raise ValueError(f"pvalues must be one-dimensional, got shape {p.shape}")
    outside = p[~np.isnan(p) & ~((p >= 0) & (p <= 1))]
    if outside.size:
        raise ValueError(
            f"p-values lie in [0, 1]; pvalues holds {outside.size} outside it, such as "
            f"{outside[0].item()!r} (NaN marks a pair that was not tested)"
        )
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = valid.size
    if m == 0:
        return adjusted
    order = valid[np.argsort(p[valid], kind="stable")]
    steps = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted[order] = np.maximum.accumulate(steps)
    return adjusted


#: The paired tests of :func:`compare_estimators`: each value of its ``test`` parameter and the
#: test's name in words (as printed by :class:`ComparisonResult` and ``mlbasics compare``).
PAIRED_TESTS = {
    "corrected_t": "Nadeau-Bengio corrected resampled t-test",
    "5x2cv_t": "Dietterich's 5x2cv paired t-test",
    "5x2cv_f": "Alpaydin's combined 5x2cv F-test",
    "mcnemar": "McNemar's test on one hold-out set",
}
