"""The paired tests against hand computations, scipy and mlxtend."""

import warnings
from functools import partial

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from mlbasics.model_selection import (
    TestResult,
    combined_ftest_5x2cv,
    compare_estimators,
    corrected_resampled_ttest,
    holm_correction,
    mcnemar_test,
    paired_ttest_5x2cv,
)

# A fixed 2 x 10 score matrix (10-fold CV, 90 training and 10 test samples per fold).
SCORES_A = np.array([0.91, 0.88, 0.93, 0.90, 0.87, 0.92, 0.89, 0.94, 0.90, 0.91])
SCORES_B = np.array([0.89, 0.87, 0.90, 0.91, 0.85, 0.90, 0.86, 0.93, 0.88, 0.90])


def test_corrected_t_reproduces_a_hand_computation_on_a_fixed_score_matrix():
    d = [a - b for a, b in zip(SCORES_A, SCORES_B, strict=True)]
    J = len(d)
    mean = sum(d) / J
    s2 = sum((x - mean) ** 2 for x in d) / (J - 1)
    t = mean / ((1 / J + 10 / 90) * s2) ** 0.5
    # by hand: d sums to 0.16, mean 0.016; squared deviations sum to 1240e-6, s^2 = 1.3778e-4;
    # t = 0.016 / sqrt((1/10 + 1/9) * 1.3778e-4) = 0.016 / 0.0053931 = 2.9667
    assert t == pytest.approx(2.9667, abs=1e-4)
    res = corrected_resampled_ttest(SCORES_A, SCORES_B, n_train=90, n_test=10)
    assert res.statistic == pytest.approx(t, rel=1e-12)
    assert res.pvalue == pytest.approx(2 * stats.t.sf(t, J - 1), rel=1e-12)


def test_corrected_t_without_the_correction_term_is_scipys_paired_t_test():
    naive = stats.ttest_rel(SCORES_A, SCORES_B)
    res = corrected_resampled_ttest(SCORES_A, SCORES_B, n_train=1e15, n_test=1)
    assert res.statistic == pytest.approx(naive.statistic, rel=1e-9)
    assert res.pvalue == pytest.approx(naive.pvalue, rel=1e-9)


def test_corrected_t_is_more_conservative_than_the_naive_test():
    naive = corrected_resampled_ttest(SCORES_A, SCORES_B, n_train=1e15, n_test=1)
    corrected = corrected_resampled_ttest(SCORES_A, SCORES_B, n_train=90, n_test=10)
    assert abs(corrected.statistic) < abs(naive.statistic)
    assert corrected.pvalue > naive.pvalue


def test_identical_scores_give_t_zero_and_p_one():
    for test in (paired_ttest_5x2cv, combined_ftest_5x2cv):
        assert test(SCORES_A, SCORES_A).pvalue == 1.0
    res = corrected_resampled_ttest(SCORES_A, SCORES_A, n_train=90, n_test=10)
    assert (res.statistic, res.pvalue) == (0.0, 1.0)


@pytest.mark.parametrize(
    "difference, dtype",
    [(0.1, np.float64), (1e-4, np.float64), (0.1, np.float32), (1e-3, np.float32),
     (1e-4, np.longdouble)],
)  # fmt: skip
def test_differences_equal_up_to_rounding_take_the_zero_variance_limit(difference, dtype):
    # 0.9 - 0.8, 0.8 - 0.7, ... are 0.1 only up to rounding: a spread of ~1e-16 is no evidence.
    # The spread is the scores' rounding, not the differences': 0.9001 - 0.9 and 0.8001 - 0.8
    # are 1e-12 apart relative to 1e-4, and float32 scores 1e-7 (t of 1e12 and 1e6 before).
    decimals = np.array([0.91, 0.82, 0.73, 0.64, 0.55, 0.9, 0.8, 0.7, 0.6, 0.5])
    a = np.round(decimals + difference, 6).astype(dtype)  # the floats nearest the decimals
    b = decimals.astype(dtype)
    assert np.ptp(a - b) > 0.0  # the rounding this test is about
    for test in (partial(corrected_resampled_ttest, n_train=90, n_test=10),
                 paired_ttest_5x2cv, combined_ftest_5x2cv):  # fmt: skip
        with pytest.warns(
            UserWarning, match="(same non-zero number|every repetition).* not evidence"
        ):
            res = test(a, b)
        assert res.statistic == np.inf and res.pvalue == 0.0
    # a real spread, however small against the scores, is still a spread
    res = corrected_resampled_ttest(a, b + np.linspace(0.0, 1e-6, 10), n_train=90, n_test=10)
    assert np.isfinite(res.statistic) and res.pvalue > 0.0


def test_differences_within_rounding_of_zero_do_not_depend_on_the_order_of_the_splits():
    # +1 ulp, -1 ulp and zeros: no evidence either way. The differences were all set to the
    # first one: t = +inf (p = 0), -inf (p = 0) or 0 (p = 1) by the order alone.
    up, down = np.nextafter(0.3, 1.0), np.nextafter(0.3, 0.0)
    b = np.full(10, 0.3)
    for first in (up, down, 0.3):
        a = np.r_[first, np.full(9, 0.3)]
        a[1:3] = [x for x in (up, down, 0.3) if x != first][:2]
        res = corrected_resampled_ttest(a, b, n_train=90, n_test=10)
        assert (res.statistic, res.pvalue) == (0.0, 1.0)
        for test in (paired_ttest_5x2cv, combined_ftest_5x2cv):
            assert test(a, b).pvalue == 1.0
    # differences equal up to rounding and not near 0 are their mean, whichever comes first
    a = np.array([0.91, 0.82, 0.73, 0.64, 0.55, 0.9, 0.8, 0.7, 0.6, 0.5]) + 0.1
    b = a - 0.1
    for order in (np.arange(10), np.arange(10)[::-1]):
        with pytest.warns(UserWarning, match="same non-zero number"):
            res = corrected_resampled_ttest(a[order], b[order], n_train=90, n_test=10)
        assert res.statistic == np.inf


def test_equal_differences_whose_float_mean_is_off_still_take_the_zero_variance_limit():
    # A right on 3 more of 5 test samples in every split: ten differences of 0.6, whose float
    # mean is not 0.6, so np.var gave 3.4e-33 and t = 1.1e16 without the warning
    b = np.array([2, 0, 2, 0, 1, 2, 1, 0, 1, 1]) / 5
    with pytest.warns(UserWarning, match="same non-zero number"):
        res = corrected_resampled_ttest(b + 3 / 5, b, n_train=45, n_test=5)
    assert (res.statistic, res.pvalue) == (np.inf, 0.0)


def test_rounding_is_judged_per_split_not_against_the_largest_score():
    # one fold scored -1e8 (a mean squared error) beside nine scored about -1, where A is better
    # by 3e-8 to 4.5e-8: 1e8 ulps of those scores, yet they were collapsed to t = 0, p = 1
    b = np.array([-1e8, -1.0, -1.1, -0.9, -1.2, -0.95, -1.05, -1.0, -1.15, -0.85])
    a = b + np.r_[0.0, 3e-8 * np.linspace(1.0, 1.5, 9)]
    d = a - b
    t = d.mean() / np.sqrt((1 / 10 + 10 / 90) * d.var(ddof=1))
    for order in (np.arange(10), np.arange(10)[::-1]):
        res = corrected_resampled_ttest(a[order], b[order], n_train=90, n_test=10)
        assert res.statistic == pytest.approx(t, rel=1e-9)
        assert res.pvalue == pytest.approx(2 * stats.t.sf(t, 9), rel=1e-6)


def test_a_5x2cv_numerator_within_rounding_of_zero_is_zero():
    # 0.1 + 0.2 against 0.3: d_1^(1) = +-5.6e-17 gave t = +-inf by the order of the estimators,
    # where equal scores give the documented 0/0 (NaN with a warning)
    rest_a = [[0.75, 0.75], [0.5, 0.5], [0.75, 0.75], [0.75, 0.75]]
    rest_b = [[0.5, 0.5], [0.25, 0.25], [0.5, 0.5], [0.25, 0.25]]
    for first_a, first_b in [(0.1 + 0.2, 0.3), (0.3, 0.1 + 0.2), (0.3, 0.3)]:
        a, b = np.array([[first_a, 0.7], *rest_a]), np.array([[first_b, 0.7], *rest_b])
        with pytest.warns(UserWarning, match="0/0, undefined"):
            res = paired_ttest_5x2cv(a, b)
        assert np.isnan(res.statistic) and np.isnan(res.pvalue)


# Differences per repetition (rows): the two of each repetition are equal, the repetitions are
# not. In exact arithmetic every s_i^2 = 0, so the 5x2cv denominators are 0.
D_EQUAL_WITHIN = np.array([[0.5, 0.5], [0.5, 0.5], [0.25, 0.25], [0.5, 0.5], [0.5, 0.5]])


def test_five_by_two_differences_equal_within_repetitions_up_to_rounding_take_the_limit():
    # 0.9 - 0.8 and 0.8 - 0.7 are both 0.1 up to rounding, 0.7 - 0.5 and 0.6 - 0.4 both 0.2:
    # every s_i^2 is 0, the limit is an infinite statistic, p = 0 and the warning, not t ~ 1e15
    a = np.array([0.9, 0.8, 0.7, 0.6, 0.9, 0.8, 0.7, 0.6, 0.9, 0.8])
    b = np.array([0.8, 0.7, 0.5, 0.4, 0.8, 0.7, 0.6, 0.5, 0.8, 0.7])
    assert np.ptp((a - b).reshape(5, 2), axis=1).any()  # the rounding this test is about
    for test in (paired_ttest_5x2cv, combined_ftest_5x2cv):
        with pytest.warns(UserWarning, match="every repetition are equal.* not evidence"):
            res = test(a, b)
        assert res.statistic == np.inf and res.pvalue == 0.0


def test_the_zero_variance_warning_of_the_five_by_two_tests_is_true_of_the_data():
    a = np.full(10, 0.75)
    b = a - D_EQUAL_WITHIN.ravel()  # not every difference is the same number
    for test in (paired_ttest_5x2cv, combined_ftest_5x2cv):
        with pytest.warns(UserWarning) as record:
            res = test(a, b)
        message = str(record[0].message)
        assert "two paired differences of every repetition are equal" in message
        assert "every paired difference is the same" not in message
        assert res.statistic == np.inf and res.pvalue == 0.0


def test_five_by_two_t_is_nan_with_a_warning_when_it_is_zero_over_zero():
    d = D_EQUAL_WITHIN.copy()
    d[0] = 0.0  # numerator d_1^(1) = 0 and every s_i^2 = 0: t = 0 / 0
    a = np.full(10, 0.75)
    with pytest.warns(UserWarning, match="0/0, undefined"):
        res = paired_ttest_5x2cv(a, a - d.ravel())
    assert np.isnan(res.statistic) and np.isnan(res.pvalue)
    # identical scores are t = 0, p = 1, without a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert paired_ttest_5x2cv(a, a) == TestResult(0.0, 1.0)
        assert combined_ftest_5x2cv(a, a) == TestResult(0.0, 1.0)


def test_the_zero_variance_warnings_point_at_the_callers_line():
    a = np.full(10, 0.75)
    d0 = D_EQUAL_WITHIN.copy()
    d0[0] = 0.0
    calls = [
        lambda: corrected_resampled_ttest(a, a - 0.25, n_train=9, n_test=1),
        lambda: paired_ttest_5x2cv(a, a - D_EQUAL_WITHIN.ravel()),
        lambda: paired_ttest_5x2cv(a, a - d0.ravel()),
        lambda: combined_ftest_5x2cv(a, a - D_EQUAL_WITHIN.ravel()),
    ]
    for call in calls:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            call()
        assert [w.filename for w in record] == [__file__]


def test_five_by_two_statistics_match_the_formulas_by_hand():
    d = (SCORES_A - SCORES_B).reshape(5, 2)
    s2 = [(row[0] - row.mean()) ** 2 + (row[1] - row.mean()) ** 2 for row in d]
    t = d[0, 0] / np.sqrt(np.mean(s2))
    f = np.sum(d**2) / (2 * np.sum(s2))
    assert paired_ttest_5x2cv(SCORES_A, SCORES_B).statistic == pytest.approx(t, rel=1e-12)
    assert paired_ttest_5x2cv(SCORES_A, SCORES_B).pvalue == pytest.approx(
        2 * stats.t.sf(abs(t), 5), rel=1e-12
    )
    assert combined_ftest_5x2cv(SCORES_A, SCORES_B).statistic == pytest.approx(f, rel=1e-12)
    assert combined_ftest_5x2cv(SCORES_A, SCORES_B).pvalue == pytest.approx(
        stats.f.sf(f, 10, 5), rel=1e-12
    )


def _mlxtend_splits(n_samples, seed):
    """The ten splits mlxtend's 5x2cv functions make: 5 half/half splits, each used both ways."""
    rng = np.random.RandomState(seed)
    splits = []
    for _ in range(5):
        first, second = train_test_split(
            np.arange(n_samples), test_size=0.5, random_state=rng.randint(low=0, high=32767)
        )
        splits += [(first, second), (second, first)]
    return splits


@pytest.mark.parametrize("seed", [0, 1])
def test_five_by_two_tests_match_mlxtend_on_the_same_splits(seed):
    evaluate = pytest.importorskip("mlxtend.evaluate")
    X, y = load_breast_cancer(return_X_y=True)
    X, y = X[:240], y[:240]
    lr = make_pipeline(StandardScaler(), LogisticRegression())
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    t_ref, p_ref = evaluate.paired_ttest_5x2cv(lr, tree, X, y, random_seed=seed)
    f_ref, pf_ref = evaluate.combined_ftest_5x2cv(lr, tree, X, y, random_seed=seed)

    splits = _mlxtend_splits(len(y), seed)
    ests = {"lr": lr, "tree": tree}
    res_t = compare_estimators(ests, X, y, cv=splits, test="5x2cv_t")
    res_f = compare_estimators(ests, X, y, cv=splits, test="5x2cv_f")
    assert res_t.statistics[0, 1] == pytest.approx(t_ref, rel=1e-10)
    assert res_t.raw_pvalues[0, 1] == pytest.approx(p_ref, rel=1e-10)
    assert res_f.statistics[0, 1] == pytest.approx(f_ref, rel=1e-10)
    assert res_f.raw_pvalues[0, 1] == pytest.approx(pf_ref, rel=1e-10)


@pytest.mark.parametrize("exact", [True, False])
def test_mcnemar_matches_mlxtend(exact):
    evaluate = pytest.importorskip("mlxtend.evaluate")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    pred_a = np.where(rng.random(200) < 0.85, y, 1 - y)
    pred_b = np.where(rng.random(200) < 0.75, y, 1 - y)
    table = evaluate.mcnemar_table(y_target=y, y_model1=pred_a, y_model2=pred_b)
    _, p_ref = evaluate.mcnemar(table, exact=exact, corrected=True)
    res = mcnemar_test(pred_a == y, pred_b == y, exact=exact)
    assert res.pvalue == pytest.approx(p_ref, rel=1e-10)


def test_mcnemar_exact_p_is_the_binomial_tail_by_hand():
    # b = 1 discordant sample for a, c = 7 for b: p = 2 * P(Bin(8, 1/2) <= 1) = 2 * 9 / 256
    correct_a = np.array([True] * 1 + [False] * 7 + [True] * 10)
    correct_b = np.array([False] * 1 + [True] * 7 + [True] * 10)
    res = mcnemar_test(correct_a, correct_b)
    assert res.statistic == 1
    assert res.pvalue == pytest.approx(18 / 256, rel=1e-12)
    assert mcnemar_test(correct_a, correct_a).pvalue == 1.0


@pytest.mark.parametrize("b, c", [(1, 1), (5, 5), (20, 20), (3, 2)])
def test_mcnemar_continuity_correction_never_lowers_the_p_value(b, c):
    # Edwards' correction shrinks |b - c| by 1 towards 0 and stops at 0: b = c (or |b - c| = 1)
    # gives chi2 = 0 and p = 1, as the exact test does, not (0 - 1)^2 / (b + c) > 0
    correct_a = np.array([True] * b + [False] * c)
    correct_b = ~correct_a
    corrected = mcnemar_test(correct_a, correct_b, exact=False)
    uncorrected_chi2 = (b - c) ** 2 / (b + c)
    assert corrected.statistic == 0.0
    assert corrected.pvalue == 1.0
    assert corrected.pvalue >= stats.chi2.sf(uncorrected_chi2, 1)
    assert mcnemar_test(correct_a, correct_b).pvalue == 1.0


def test_holm_adjusts_p_values_step_down_as_by_hand():
    # m = 5: sorted p times (5, 4, 3, 2, 1) = (0.05, 0.08, 0.09, 0.08, 0.05), then running maximum
    p = [0.04, 0.01, 0.05, 0.03, 0.02]
    expected = [0.09, 0.05, 0.09, 0.09, 0.08]
    np.testing.assert_allclose(holm_correction(p), expected, rtol=1e-12)


def test_holm_lies_between_the_raw_p_values_and_bonferroni():
    p = np.random.default_rng(1).random(12) ** 3
    adjusted = holm_correction(p)
    assert np.all(adjusted >= p)
    assert np.all(adjusted <= np.minimum(1, 12 * p) + 1e-15)


def test_holm_keeps_nan_and_does_not_count_it():
    adjusted = holm_correction([0.01, np.nan, 0.02])
    assert np.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[[0, 2]], [0.02, 0.02])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: corrected_resampled_ttest([0.9, 0.8], [0.9], n_train=9, n_test=1), "one score"),
        (lambda: corrected_resampled_ttest([0.9], [0.8], n_train=9, n_test=1), "at least 2"),
        (lambda: corrected_resampled_ttest([np.nan, 1], [1, 1], n_train=9, n_test=1), "NaN"),
        (lambda: corrected_resampled_ttest([1, 1], [1, 1], n_train=0, n_test=1), "n_train"),
        (lambda: paired_ttest_5x2cv(np.ones(8), np.ones(8)), "10 scores"),
        (lambda: mcnemar_test([True, False], [True]), "one entry per test sample"),
    ],
)
def test_bad_scores_are_rejected_clearly(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "pvalues, message",
    [
        (
            [-0.1, 0.5, 1.5, np.nan],
            r"p-values lie in \[0, 1\]; pvalues holds 2 outside it, such as -0.1",
        ),
        ([0.01, 1.5], r"outside it, such as 1.5"),
        ([0.01, np.inf], r"outside it, such as inf"),
        ([[0.01, 0.2], [0.3, 0.4]], r"one-dimensional, got shape \(2, 2\)"),
    ],
)
def test_holm_rejects_values_that_are_not_p_values(pvalues, message):
    with pytest.raises(ValueError, match=message):
        holm_correction(pvalues)


@pytest.mark.parametrize(
    "correct_a, message",
    [
        (np.array([0.5, 1.5, 0.5, 1.5]), "booleans or 0/1, got 0.5"),
        (np.array([np.nan, 0.0, 1.0, 1.0]), "booleans or 0/1, got nan"),
        (np.array([3, 0, 3, 0]), "booleans or 0/1, got 3"),
        (np.array(["yes", "no", "yes", "no"]), "booleans or 0/1 .* dtype <U3"),
        (np.ones((2, 2), bool), r"one-dimensional .* shape \(2, 2\)"),
    ],
)
def test_mcnemar_takes_only_booleans_or_zeros_and_ones(correct_a, message):
    correct_b = np.array([True, False, False, True])
    with pytest.raises(ValueError, match=rf"correct_a must .*{message}"):
        mcnemar_test(correct_a, correct_b)


def test_mcnemar_of_zeros_and_ones_is_mcnemar_of_booleans_and_empty_input_is_refused():
    rng = np.random.default_rng(0)
    correct_a, correct_b = rng.random(30) > 0.3, rng.random(30) > 0.5
    expected = mcnemar_test(correct_a, correct_b)
    assert mcnemar_test(correct_a.astype(int), correct_b.astype(float)) == expected
    with pytest.raises(ValueError, match="empty"):
        mcnemar_test(correct_a[:0], correct_b[:0])


@pytest.mark.parametrize("big", [1e160, 1e200, 1e300])
def test_a_pair_of_huge_equal_scores_leaves_the_others_differences_intact(big, recwarn):
    # One power of two for all scores (the largest's) made the squares of ordinary differences
    # underflow: t = inf, p = 0 and an untrue "every difference is the same" warning, where the
    # direct formula gives t = 0.94 (a review). The reference: scipy's paired t on the
    # differences, corrected by hand (Nadeau and Bengio: 1/J -> 1/J + n_test/n_train).
    a = np.array([-big, 0.90, 0.80, 0.85, 0.95])
    b = np.array([-big, 0.80, 0.85, 0.70, 0.90])
    d = np.array([0.0, *(a[1:] - b[1:])])
    t_plain = stats.ttest_1samp(d, 0.0).statistic  # mean / sqrt(s^2 / J)
    t = t_plain * np.sqrt((1 / 5) / (1 / 5 + 20 / 80))
    result = corrected_resampled_ttest(a, b, n_train=80, n_test=20)
    assert result.statistic == pytest.approx(t, rel=1e-12)
    assert result.pvalue == pytest.approx(2 * stats.t.sf(abs(t), 4), rel=1e-10)
    assert not recwarn.list


@pytest.mark.parametrize("small", [1e-10, 1e-20, 1e-25, 1e-30])
def test_tiny_scores_beside_a_huge_equal_pair_keep_their_digits(small, recwarn):
    # Scaled by the largest score's power of two before the subtraction, scores of 1e-20 beside
    # a pair of 1e300 became subnormal: t = 0.8055 for 0.8012, and at 1e-25 t = 0 (a review).
    # Reference: the same scores without the factor (every test is scale-invariant) by scipy.
    ordinary_a = np.array([0.90, 0.80, 0.85, 0.95])
    ordinary_b = np.array([0.80, 0.85, 0.70, 0.92])
    reference = stats.ttest_rel(np.r_[0.0, ordinary_a], np.r_[0.0, ordinary_b]).statistic
    a, b = np.r_[1e300, small * ordinary_a], np.r_[1e300, small * ordinary_b]
    t = reference * np.sqrt((1 / 5) / (1 / 5 + 20 / 80))
    result = corrected_resampled_ttest(a, b, n_train=80, n_test=20)
    assert result.statistic == pytest.approx(t, rel=1e-12)
    assert not recwarn.list


@pytest.mark.parametrize("scale", [1e200, 1e300, 1e-300])
def test_the_tests_are_scale_invariant_without_overflow_or_warnings(scale, recwarn):
    expected = [
        paired_ttest_5x2cv(SCORES_A, SCORES_B),
        combined_ftest_5x2cv(SCORES_A, SCORES_B),
        corrected_resampled_ttest(SCORES_A, SCORES_B, n_train=90, n_test=10),
    ]
    a, b = SCORES_A * scale, SCORES_B * scale
    got = [
        paired_ttest_5x2cv(a, b),
        combined_ftest_5x2cv(a, b),
        corrected_resampled_ttest(a, b, n_train=90, n_test=10),
    ]
    for mine, reference in zip(got, expected, strict=True):
        assert mine.statistic == pytest.approx(reference.statistic, rel=1e-12)
        assert mine.pvalue == pytest.approx(reference.pvalue, rel=1e-12)
    assert not recwarn.list  # no "overflow encountered in square"


def test_scores_whose_difference_exceeds_the_largest_float_are_still_tested(recwarn):
    a = np.full(10, 1.5e308) * np.array([1, -1, 1, 1, -1, 1, 1, -1, 1, 1])
    b = -a / 2  # a - b = 1.5 a: beyond 1.8e308, but its units are fine
    reference = paired_ttest_5x2cv(a / 1e300, b / 1e300)
    res = paired_ttest_5x2cv(a, b)
    assert res.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert res.pvalue == pytest.approx(reference.pvalue, rel=1e-12)
    assert not recwarn.list


@pytest.mark.parametrize(
    "scores_a, scores_b, message",
    [
        (np.ones((2, 3)), np.zeros((3, 2)), r"same shape.*got \(2, 3\) and \(3, 2\)"),
        (np.ones((2, 3)), np.zeros((2, 3)), r"one-dimensional.*got shape \(2, 3\)"),
        (np.ones(6), np.zeros((6, 1)), r"same shape.*got \(6,\) and \(6, 1\)"),
        (np.ones(5), np.array([0.1, 0.2, 0.3, 0.4, 0.5j]), "scores_b .*complex"),
        (np.array(["0.9", "0.8"]), np.zeros(2), "scores_a .*numbers"),
    ],
)
def test_corrected_t_pairs_only_one_dimensional_scores_of_the_same_shape(
    scores_a, scores_b, message
):
    # ravelling (2, 3) and (3, 2) pairs a score with one of another split: a wrong answer
    with pytest.raises(ValueError, match=message):
        corrected_resampled_ttest(scores_a, scores_b, n_train=90, n_test=10)


@pytest.mark.parametrize("test", [paired_ttest_5x2cv, combined_ftest_5x2cv])
def test_five_by_two_tests_take_only_the_documented_shapes(test):
    a, b = SCORES_A.reshape(5, 2), SCORES_B.reshape(5, 2)
    assert test(a, b) == test(SCORES_A, SCORES_B)  # one row per repetition: the same scores
    # (2, 5) would be read as rows of a 5 x 2 matrix after ravelling: repetitions mixed up
    with pytest.raises(ValueError, match=r"shape \(10,\) .* or \(5, 2\).*got shape \(2, 5\)"):
        test(a.reshape(2, 5), b.reshape(2, 5))
    with pytest.raises(ValueError, match=r"shape \(10,\) .* or \(5, 2\).*got shape \(10, 1\)"):
        test(a.reshape(10, 1), b.reshape(10, 1))
    with pytest.raises(ValueError, match=r"same shape.*got \(5, 2\) and \(10,\)"):
        test(a, SCORES_B)


@pytest.mark.parametrize("exact", ["no", "False", 0, 1, None])
def test_mcnemar_exact_must_be_a_boolean(exact):
    # any non-empty string is truthy: exact="no" used to run the exact test
    correct_a = np.array([True, False, True, True, False, True])
    correct_b = np.array([False, False, True, False, True, True])
    with pytest.raises((TypeError, ValueError), match="'exact' parameter of mcnemar_test"):
        mcnemar_test(correct_a, correct_b, exact=exact)
    assert mcnemar_test(correct_a, correct_b, exact=np.bool_(False)) == mcnemar_test(
        correct_a, correct_b, exact=False
    )


@pytest.mark.parametrize("name", ["n_train", "n_test"])
@pytest.mark.parametrize("value", ["80", None, [80], np.inf])
def test_corrected_t_sample_sizes_must_be_positive_finite_numbers(name, value):
    sizes = {"n_train": 90, "n_test": 10, name: value}
    with pytest.raises((TypeError, ValueError), match=f"'{name}' parameter of corrected_re"):
        corrected_resampled_ttest(SCORES_A, SCORES_B, **sizes)


def test_corrected_t_takes_sample_sizes_as_numpy_numbers_and_means():
    expected = corrected_resampled_ttest(SCORES_A, SCORES_B, n_train=90, n_test=10)
    assert (
        corrected_resampled_ttest(SCORES_A, SCORES_B, n_train=np.int64(90), n_test=np.float64(10.0))
        == expected
    )
    # compare_estimators passes the mean sizes over the splits, which need not be integers
    res = corrected_resampled_ttest(SCORES_A, SCORES_B, n_train=89.5, n_test=10.5)
    assert np.isfinite(res.statistic)


def test_holm_names_pvalues_when_they_are_not_numbers():
    with pytest.raises(ValueError, match=r"pvalues .*numbers"):
        holm_correction(np.array(["0.01", "0.2"]))
    with pytest.raises(ValueError, match=r"pvalues .*complex"):
        holm_correction(np.array([0.01, 0.2j]))
