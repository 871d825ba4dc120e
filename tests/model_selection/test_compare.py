"""compare_estimators: the same folds for everyone, real differences found, none invented."""

import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import VotingClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, SGDClassifier
from sklearn.model_selection import KFold, RepeatedStratifiedKFold, cross_validate
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, ExtraTreeClassifier

from mlbasics.model_selection import compare_estimators, holm_correction, mcnemar_test

from ._estimators import FailsWithoutRow, RowRecorder


def test_every_estimator_is_fitted_and_scored_on_exactly_the_same_rows(rows_dataset):
    X, y = rows_dataset
    res = compare_estimators(
        {"a": RowRecorder(), "b": RowRecorder(), "c": RowRecorder()},
        X,
        y,
        cv=RepeatedStratifiedKFold(n_splits=4, n_repeats=2, random_state=0),
        return_estimators=True,
    )
    assert res.n_splits == 8
    for per_split in res.estimators:
        for s, fitted in enumerate(per_split):
            np.testing.assert_array_equal(
                np.sort(fitted.fitted_rows_), np.sort(res.train_indices[s])
            )
            np.testing.assert_array_equal(
                np.sort(fitted.predicted_rows_), np.sort(res.test_indices[s])
            )


def test_default_resampling_is_10_by_10_stratified_for_small_data(rows_dataset):
    X, y = rows_dataset
    res = compare_estimators({"a": DummyClassifier(), "b": GaussianNB()}, X, y, random_state=0)
    assert res.scores.shape == (2, 100)
    assert "10-fold x 10 repeats" in res.splitter
    for s in range(10):  # the first repeat partitions the rows, stratified 8:4 per fold
        assert np.bincount(y[res.test_indices[s]]).tolist() == [8, 4]
    first_repeat = np.sort(np.concatenate(res.test_indices[:10]))
    np.testing.assert_array_equal(first_repeat, np.arange(len(y)))


def test_default_resampling_has_fewer_repeats_for_larger_data():
    X, y = make_classification(n_samples=3000, n_features=4, random_state=0)
    res = compare_estimators({"a": DummyClassifier(), "b": GaussianNB()}, X, y, random_state=0)
    assert res.scores.shape == (2, 30)


@pytest.mark.parametrize("n_samples, folds", [(15, 7), (19, 9), (20, 10), (4, 2)])
def test_default_resampling_of_regressors_keeps_two_samples_per_test_fold(n_samples, folds):
    # R², the default score of regressors, is NaN on a one-sample fold: K-fold with K = n would
    # leave half of the splits unscored and every p-value NaN
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, 2))
    y = X @ [1.0, -2.0] + rng.normal(size=n_samples)
    res = compare_estimators({"ols": LinearRegression(), "ridge": Ridge(alpha=10.0)}, X, y,
                             random_state=0)  # fmt: skip
    assert f"{folds}-fold x 10 repeats" in res.splitter
    assert min(len(rows) for rows in res.test_indices) >= 2
    assert not np.isnan(res.scores).any()
    assert not np.isnan(res.raw_pvalues).any()


def test_default_resampling_of_a_regressor_refuses_three_samples_for_r2_only():
    X, y = np.arange(3.0).reshape(-1, 1), np.array([0.0, 1.0, 3.0])
    models = {"ols": LinearRegression(), "ridge": Ridge()}
    with pytest.raises(ValueError, match="at least 4 samples"):
        compare_estimators(models, X, y)
    # the mean absolute error is defined on one sample: K = n as before
    res = compare_estimators(models, X, y, scoring="neg_mean_absolute_error", random_state=0)
    assert "3-fold x 10 repeats" in res.splitter and not np.isnan(res.scores).any()


def test_a_majority_vote_loses_to_logistic_regression_on_breast_cancer(breast_cancer):
    X, y = breast_cancer
    cv = RepeatedStratifiedKFold(n_splits=10, n_repeats=3, random_state=0)
    res = compare_estimators(
        {"dummy": DummyClassifier(), "logistic": LogisticRegression()}, X, y, cv=cv
    )
    assert res.pvalues[0, 1] < 0.01
    assert res.significant_differences(alpha=0.01) == [("logistic", "dummy", res.pvalues[0, 1])]
    assert res.ranks.tolist() == [2.0, 1.0]


@pytest.mark.parametrize("test", ["corrected_t", "5x2cv_t", "5x2cv_f"])
def test_two_copies_of_a_randomised_estimator_show_no_significant_difference(breast_cancer, test):
    X, y = breast_cancer
    # random_state=None on the estimators: each copy and each split gets its own seed, so the
    # two copies really differ, fit by fit, yet only by chance
    sgd = SGDClassifier(loss="log_loss")
    res = compare_estimators({"one": sgd, "two": sgd}, X, y, test=test, random_state=0)
    assert not np.array_equal(res.scores[0], res.scores[1])
    assert res.pvalues[0, 1] > 0.05


def test_two_copies_of_a_deterministic_estimator_tie_exactly(rows_dataset):
    X, y = rows_dataset
    res = compare_estimators({"a": GaussianNB(), "b": GaussianNB()}, X, y, cv=5, random_state=0)
    assert res.statistics[0, 1] == 0.0 and res.pvalues[0, 1] == 1.0


def test_p_values_are_symmetric_and_holm_adjusted_across_pairs(breast_cancer):
    X, y = breast_cancer
    ests = {
        "dummy": DummyClassifier(),
        "nb": GaussianNB(),
        "stump": DecisionTreeClassifier(max_depth=1, random_state=0),
        "lr": LogisticRegression(),
    }
    res = compare_estimators(ests, X, y, cv=5, random_state=0)
    np.testing.assert_array_equal(res.pvalues, res.pvalues.T)
    np.testing.assert_array_equal(np.diag(res.pvalues), 1.0)
    np.testing.assert_array_equal(res.statistics, -res.statistics.T)  # t of row minus column
    upper = np.triu_indices(4, k=1)
    np.testing.assert_allclose(res.pvalues[upper], holm_correction(res.raw_pvalues[upper]))
    raw = compare_estimators(ests, X, y, cv=5, random_state=0, correction=None)
    np.testing.assert_array_equal(raw.pvalues, res.raw_pvalues)


def test_mcnemar_runs_on_one_stratified_hold_out_with_the_predictions(breast_cancer):
    X, y = breast_cancer
    res = compare_estimators(
        {"nb": GaussianNB(), "lr": LogisticRegression()},
        X,
        y,
        test="mcnemar",
        random_state=0,
        return_estimators=True,
    )
    assert res.n_splits == 1
    test = res.test_indices[0]
    assert len(test) == pytest.approx(0.25 * len(y), abs=1)
    correct = [fitted[0].predict(X[test]) == y[test] for fitted in res.estimators]
    ref = mcnemar_test(*correct)
    assert res.raw_pvalues[0, 1] == ref.pvalue
    np.testing.assert_array_equal(
        res.scores[:, 0], [c.mean() for c in correct]
    )  # accuracy on the hold-out


def test_mcnemar_takes_a_column_y_as_its_vector_and_refuses_multi_output(breast_cancer):
    # A column y broadcast against the 1-D predictions into a (k, k) table of "correct"
    # answers, and the fits ended in an error about correct_a, an argument the caller never saw.
    X, y = breast_cancer
    ests = {"nb": GaussianNB(), "lr": DecisionTreeClassifier(random_state=0)}
    vector = compare_estimators(ests, X, y, test="mcnemar", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the classifiers' DataConversionWarning on a column y
        column = compare_estimators(ests, X, y[:, None], test="mcnemar", random_state=0)
    np.testing.assert_array_equal(column.scores, vector.scores)
    assert column.raw_pvalues[0, 1] == vector.raw_pvalues[0, 1]
    with pytest.raises(ValueError, match=r"one label per sample; y has shape \(569, 2\)"):
        compare_estimators(ests, X, np.c_[y, y], test="mcnemar", random_state=0)


def test_a_failing_estimator_gets_nan_scores_and_nan_p_values_but_the_rest_goes_on(rows_dataset):
    X, y = rows_dataset
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0)
    with pytest.warns(FitFailedWarning, match=r"flaky: the fit on split \d of 6 failed.*row 0"):
        res = compare_estimators(
            {"flaky": FailsWithoutRow(row=0), "nb": GaussianNB(), "dummy": DummyClassifier()},
            X,
            y,
            cv=cv,
        )
    assert res.n_failed.tolist() == [2, 0, 0]  # row 0 is held out once per repeat
    assert np.isnan(res.pvalues[0, 1]) and np.isnan(res.pvalues[0, 2])
    assert np.isfinite(res.pvalues[1, 2])
    assert "failed" in str(res) and "n/a" in str(res)


def test_a_numeric_error_score_is_tested_as_a_score_and_its_failures_still_counted(
    rows_dataset,
):
    X, y = rows_dataset
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0)
    with pytest.warns(FitFailedWarning):
        res = compare_estimators(
            {"flaky": FailsWithoutRow(row=0), "nb": GaussianNB()}, X, y, cv=cv, error_score=0.0
        )
    splits = list(cv.split(X, y))
    held_out = np.array([0 in test for _, test in splits])  # the fits without row 0 raise
    assert res.n_failed.tolist() == [2, 0]
    np.testing.assert_array_equal(res.fit_failed, [held_out, np.zeros(6, bool)])
    assert (res.scores[0, held_out] == 0.0).all()
    assert "failed" in str(res)
    # the p-value is Nadeau and Bengio's, by hand, on the scores with 0.0 standing in
    d = res.scores[0] - res.scores[1]
    n_train, n_test = np.mean([len(tr) for tr, _ in splits]), np.mean([len(te) for _, te in splits])
    t = d.mean() / np.sqrt((1 / 6 + n_test / n_train) * d.var(ddof=1))
    assert res.raw_pvalues[0, 1] == pytest.approx(2 * stats.t.sf(abs(t), 5), rel=1e-12)


def test_warnings_point_at_the_callers_line(rows_dataset):
    X, y = rows_dataset
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        compare_estimators({"flaky": FailsWithoutRow(row=0), "nb": GaussianNB()}, X, y, cv=3,
                           random_state=0)  # fmt: skip
        # stratified folds of 20 + 10 samples: accuracies 2/3 and 1/3 on every fold, so every
        # difference is 1/3 and the t-test warns of its zero-variance limit
        minority = DummyClassifier(strategy="constant", constant=1)
        compare_estimators({"majority": DummyClassifier(), "minority": minority}, X, y, cv=4,
                           random_state=0)  # fmt: skip
    assert {w.category for w in record} == {FitFailedWarning, UserWarning}
    assert all(w.filename == __file__ for w in record)
    # the zero-variance warning names its pair (with three estimators it did not say which)
    (limit,) = [w for w in record if w.category is UserWarning]
    assert str(limit.message).startswith("majority vs minority: ")


def test_the_result_prints_a_table_and_converts_to_data_frames(rows_dataset):
    pd = pytest.importorskip("pandas")
    X, y = rows_dataset
    res = compare_estimators({"dummy": DummyClassifier(), "nb": GaussianNB()}, X, y, cv=4,
                             random_state=0)  # fmt: skip
    text = str(res)
    for piece in ("dummy", "nb", "accuracy (mean ± std)", "fit time", "rank", "p-values", "Holm"):
        assert piece in text
    summary = res.to_frame()
    assert list(summary.index) == ["dummy", "nb"]
    np.testing.assert_allclose(summary["mean"], res.scores.mean(axis=1))
    long = res.to_frame("scores")
    assert isinstance(long, pd.DataFrame) and len(long) == 8
    assert res.to_frame("pvalues").loc["dummy", "nb"] == res.pvalues[0, 1]


def test_a_list_of_pairs_is_accepted(rows_dataset):
    X, y = rows_dataset
    res = compare_estimators([("x", DummyClassifier()), ("y", GaussianNB())], X, y, cv=3)
    assert res.names == ["x", "y"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(test="wilcoxon"), "test"),
        (dict(cv=200), "cv=200 folds need at least 200 samples"),
        (dict(test="5x2cv_t", cv=5), "10 splits"),
        (dict(test="mcnemar", cv=3), "one hold-out set"),
        (dict(correction="bonferroni"), "correction"),
    ],
)
def test_bad_arguments_are_clear_value_errors(rows_dataset, kwargs, message):
    X, y = rows_dataset
    with pytest.raises(ValueError, match=message):
        compare_estimators({"a": DummyClassifier(), "b": GaussianNB()}, X, y, **kwargs)


def test_estimator_lists_are_checked(rows_dataset):
    X, y = rows_dataset
    with pytest.raises(ValueError, match="at least 2 estimators"):
        compare_estimators({"a": DummyClassifier()}, X, y)
    with pytest.raises(ValueError, match="unique"):
        compare_estimators([("a", DummyClassifier()), ("a", GaussianNB())], X, y)
    with pytest.raises(TypeError, match="no fit method"):
        compare_estimators({"a": DummyClassifier(), "b": "not a model"}, X, y)


class _NoFit(GaussianNB):
    def fit(self, X, y):
        raise AssertionError("fitted before the splits were checked")


def test_one_split_for_the_corrected_t_test_is_refused_before_any_fit(rows_dataset):
    # the test itself refuses J = 1 (no variance of the differences), but only after every fit
    X, y = rows_dataset
    with pytest.raises(ValueError, match=r"corrected t-test needs at least 2 splits.* gave 1"):
        compare_estimators({"a": _NoFit(), "b": _NoFit()}, X, y,
                           cv=[(np.arange(60), np.arange(60, 120))])  # fmt: skip


def test_5x2cv_splits_that_do_not_swap_halves_are_rejected(rows_dataset):
    X, y = rows_dataset
    cv = RepeatedStratifiedKFold(n_splits=2, n_repeats=5, random_state=0)
    splits = list(cv.split(X, y))
    splits[1], splits[2] = splits[2], splits[1]
    with pytest.raises(ValueError, match="must swap the two halves"):
        compare_estimators({"a": DummyClassifier(), "b": GaussianNB()}, X, y, cv=splits,
                           test="5x2cv_t")  # fmt: skip


def test_error_score_raise_names_the_estimator_and_bad_splits_name_the_split(rows_dataset):
    X, y = rows_dataset
    with pytest.raises(ValueError, match="The 'C' parameter of LogisticRegression must be"):
        compare_estimators(
            {"a": DummyClassifier(), "b": LogisticRegression(C=-1)}, X, y, cv=3,
            error_score="raise",
        )  # fmt: skip
    splits = [(np.arange(60), np.arange(60, 120)), (np.arange(60, 120), np.arange(60, 130))]
    with pytest.raises(ValueError, match=r"split 2 of 2: the test indices .* from 60 to 129"):
        compare_estimators({"a": DummyClassifier(), "b": GaussianNB()}, X, y, cv=splits)


def test_sample_weights_in_params_reach_every_estimator_on_the_same_splits():
    X, y = make_regression(90, 4, noise=20.0, random_state=1)
    weight = np.random.default_rng(1).uniform(0, 3, 90)
    cv = KFold(5, shuffle=True, random_state=0)
    models = {"ridge-1": Ridge(alpha=1.0), "ridge-100": Ridge(alpha=100.0)}
    result = compare_estimators(models, X, y, cv=cv, params={"sample_weight": weight})
    for row, model in enumerate(models.values()):
        reference = cross_validate(model, X, y, cv=cv, params={"sample_weight": weight})
        np.testing.assert_allclose(result.scores[row], reference["test_score"], rtol=1e-12)


def test_a_classifier_and_a_regressor_need_an_explicit_common_scoring():
    # scoring=None scored the Ridge by R² and the LogisticRegression by accuracy, and the paired
    # test compared the two units (0.37 against 0.83, p = 1e-5).
    X, y = make_classification(200, 5, random_state=0)
    estimators = {"ridge": Ridge(), "logreg": LogisticRegression()}
    with pytest.raises(
        ValueError, match=r"different kinds \(regressors: ridge; classifiers: logreg"
    ):
        compare_estimators(estimators, X, y, random_state=0)
    result = compare_estimators(estimators, X, y, scoring="neg_mean_squared_error", random_state=0)
    assert result.scoring == "neg_mean_squared_error"
    train, test = result.train_indices[0], result.test_indices[0]
    for i, model in enumerate(estimators.values()):  # one measure for both, split by split
        fitted = model.fit(X[train], y[train])
        expected = -np.mean((fitted.predict(X[test]) - y[test]) ** 2)
        assert result.scores[i][0] == pytest.approx(expected, rel=1e-12)


class _WrongOn(ClassifierMixin, BaseEstimator):
    """Predicts the label kept in column 1, wrongly on the rows whose id (column 0) is listed."""

    def __init__(self, wrong=()):
        self.wrong = wrong

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        labels = X[:, 1].astype(int)
        return np.where(np.isin(X[:, 0].astype(int), self.wrong), 1 - labels, labels)


def test_equal_mean_scores_share_their_rank():
    # The same number of errors over the same ten equal folds: equal means (564/570 for six
    # errors), but sums of different fold scores left them an ulp apart and the ranks were 1
    # and 2 in 14 of 100 such pairs (a review). One error more is still ranked below.
    n = 570
    y = np.random.default_rng(0).integers(0, 2, n)
    X = np.column_stack([np.arange(n), y])
    splits = list(KFold(10).split(X))
    for trial in range(40):
        rng = np.random.default_rng(trial)
        k = int(rng.integers(2, 8))
        a, b = (
            tuple(int(splits[f][1][i]) for i, f in enumerate(rng.integers(0, 10, k)))
            for _ in range(2)
        )
        result = compare_estimators({"a": _WrongOn(a), "b": _WrongOn(b)}, X, y, cv=splits)
        assert result.ranks.tolist() == [1.5, 1.5], (trial, result.mean_scores)
    worse = compare_estimators(
        {"a": _WrongOn(a), "b": _WrongOn((*b, int(splits[0][1][-1])))}, X, y, cv=splits
    )
    assert worse.ranks.tolist() == [1.0, 2.0]


def test_a_diverged_estimator_does_not_tie_the_others_ranks():
    # The tie tolerance was taken from the largest mean of all estimators: a constant regressor
    # with an MSE of 9e14 made it 4.0, tied -1.83 with -1.04 and reversed their significant
    # pair (a review). Reference: scipy's rankdata of the means and the t statistic's sign.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3))
    y = X @ np.array([1.0, 2.0, 0.5]) + rng.standard_normal(400)
    estimators = [
        ("ridge", Ridge(alpha=200.0)),
        ("ols", LinearRegression()),
        ("diverged", DummyRegressor(strategy="constant", constant=3e7)),
    ]
    result = compare_estimators(
        estimators, X, y, scoring="neg_mean_squared_error", cv=5, random_state=0
    )
    np.testing.assert_array_equal(result.ranks, stats.rankdata(-result.mean_scores))
    assert result.statistics[0, 1] < 0 and result.pvalues[0, 1] < 0.05
    assert ("ols", "ridge", result.pvalues[0, 1]) in result.significant_differences()


@pytest.mark.parametrize("reverse", [False, True])
def test_a_significant_pair_below_the_ranks_rounding_is_ordered_by_its_differences(reverse):
    # Two constants 2e-13 apart: the better one wins on all 100 splits (p = 3e-118) while the
    # means tie within the rounding of their sums; the pair was ordered by the ranks, so by
    # the listing (a review). Reference: the sign of every paired difference.
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((300, 2)), rng.standard_normal(300)
    estimators = [
        ("worse", DummyRegressor(strategy="constant", constant=-10.0)),
        ("better", DummyRegressor(strategy="constant", constant=-10.0 + 2e-13)),
    ]
    result = compare_estimators(
        estimators[::-1] if reverse else estimators, X, y, scoring="neg_mean_squared_error",
        random_state=0,
    )  # fmt: skip
    better = result.names.index("better")
    assert np.all(result.scores[better] > result.scores[1 - better])
    (pair,) = result.significant_differences()
    assert pair[:2] == ("better", "worse")


def test_the_members_of_an_ensemble_get_seeds_of_their_own(breast_cancer):
    # Every unset random_state was given the same seed: a vote of five ExtraTreeClassifier()
    # became five copies of one tree and scored exactly as one tree (a review; scikit-learn's
    # cross_validate, members left unseeded, 0.954 against 0.923 on these data). Reference:
    # the fitted members' own parameters and predictions.
    X, y = breast_cancer
    vote = VotingClassifier([(f"t{k}", ExtraTreeClassifier()) for k in range(5)], voting="soft")
    result = compare_estimators(
        {"vote": vote, "tree": ExtraTreeClassifier()}, X, y, cv=KFold(3), return_estimators=True
    )
    for fitted in result.estimators[0]:
        members = fitted.estimators_
        assert len({m.random_state for m in members}) == len(members)
        predictions = np.array([m.predict_proba(X)[:, 1] for m in members])
        assert not np.all(predictions == predictions[0])
    assert not np.array_equal(result.scores[0], result.scores[1])


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # (scikit-learn's MSE)
def test_an_infinite_score_leaves_its_pairs_untested_and_the_others_tested():
    # A diverged regressor's finite but huge predictions score -inf in scikit-learn's MSE;
    # the comparison raised after every fit (a review). Now as a failed fit's NaN: its pairs
    # get NaN p-values, the others are tested.
    X, y = make_regression(60, 3, noise=1.0, random_state=0)
    diverged = DummyRegressor(strategy="constant", constant=1e200)
    result = compare_estimators(
        {"ridge": Ridge(), "ols": LinearRegression(), "diverged": diverged},
        X, y, cv=5, scoring="neg_mean_squared_error", random_state=0,
    )  # fmt: skip
    assert np.all(np.isneginf(result.scores[2]))
    assert np.isnan(result.pvalues[0, 2]) and np.isnan(result.pvalues[1, 2])
    assert np.isfinite(result.pvalues[0, 1])


class _SplitOffset(RegressorMixin, BaseEstimator):
    """Predicts ``offsets[s]`` on split ``s``, found from the training rows (X holds row ids)."""

    def __init__(self, offsets=None, splits=None):
        self.offsets = offsets
        self.splits = splits

    def fit(self, X, y):
        rows = np.sort(np.asarray(X)[:, 0]).astype(int)
        self.split_ = next(s for s, (tr, _) in enumerate(self.splits) if np.array_equal(tr, rows))
        return self

    def predict(self, X):
        return np.full(len(X), self.offsets[self.split_])


def test_5x2cv_t_names_the_better_estimator_by_its_statistics_sign():
    # The 5x2cv t's numerator is the first split's difference alone: here +0.1 for "a", while
    # the other nine favour "b" (their sum does too); t = +7.9, p = 5e-4, and the pair was named
    # ("b", "a") (a review). Reference: Dietterich's formula by hand.
    n = 40
    X, y = np.arange(n, dtype=float)[:, None], np.zeros(n)
    rng = np.random.RandomState(0)
    splits = []
    for _ in range(5):
        order = rng.permutation(n)
        first, second = np.sort(order[:20]), np.sort(order[20:])
        splits += [(first, second), (second, first)]
    d = np.array([0.10, 0.10, -0.06, -0.04, -0.06, -0.04, -0.06, -0.04, -0.06, -0.04])
    a = _SplitOffset(offsets=tuple(1.0 - d), splits=splits)
    b = _SplitOffset(offsets=(1.0,) * 10, splits=splits)
    result = compare_estimators(
        {"a": a, "b": b}, X, y, cv=splits, test="5x2cv_t", scoring="neg_mean_absolute_error"
    )
    pairs = d.reshape(5, 2)
    t = pairs[0, 0] / np.sqrt(np.mean(np.sum((pairs - pairs.mean(axis=1, keepdims=True)) ** 2, 1)))
    assert result.statistics[0, 1] == pytest.approx(t, rel=1e-9) and t > 0
    assert np.sum(result.scores[0] - result.scores[1]) < 0
    assert [pair[:2] for pair in result.significant_differences()] == [("a", "b")]


def test_mcnemar_refuses_a_score_other_than_accuracy():
    # McNemar's p-value is about predict's labels; with scoring="roc_auc" the pair was ordered by
    # AUC and named the less accurate classifier the better at p = 4e-10 (a review).
    X, y = make_classification(n_samples=200, random_state=0)
    models = {"a": LogisticRegression(), "b": GaussianNB()}
    with pytest.raises(ValueError, match=r"McNemar's test .* tests accuracy, so scoring must be"):
        compare_estimators(models, X, y, test="mcnemar", scoring="roc_auc")
    assert compare_estimators(models, X, y, test="mcnemar", scoring="accuracy").n_splits == 1


def test_mcnemar_of_one_model_transforming_in_place_is_no_difference():
    # Its predictions were taken on the hold-out the scorer had already standardised in place:
    # two copies of one model came out different at p = 6e-15 (a review). Equal models: b = c = 0.

    X, y = make_classification(n_samples=400, random_state=0)
    X = 10.0 * X + 5.0
    models = {
        "copying": make_pipeline(StandardScaler(), LogisticRegression()),
        "in place": make_pipeline(StandardScaler(copy=False), LogisticRegression()),
    }
    res = compare_estimators(models, X, y, test="mcnemar", random_state=0)
    assert res.scores[0, 0] == res.scores[1, 0]
    assert res.raw_pvalues[0, 1] == 1.0


def test_a_list_of_unnamed_two_step_pipelines_is_refused():
    # A two-step Pipeline unpacks into two items: its first step was taken for a name and its
    # final estimator fitted alone (breast cancer: 0.921 / 0.949 for the bare SVC and logistic
    # regression where the pipelines score 0.977 / 0.967: the ranking reversed; a review).
    X, y = make_classification(60, 4, random_state=0)
    pipes = [make_pipeline(StandardScaler(), GaussianNB()),
             make_pipeline(StandardScaler(), DummyClassifier())]  # fmt: skip
    with pytest.raises(TypeError, match="got an item of type Pipeline"):
        compare_estimators(pipes, X, y)
    named = compare_estimators([("nb", pipes[0]), ["dummy", pipes[1]]], X, y, cv=3)
    assert list(named.names) == ["nb", "dummy"]
