"""kfold_errors: scikit-learn's cross_validate numbers, fold indices, failures and bad input."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris, make_regression
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from mlbasics.model_selection import bias_variance_decomposition, kfold_errors
from mlbasics.model_selection._folds import fit_and_score

from ._estimators import FailsWithoutRow


def test_classifier_folds_equal_cross_validate_on_the_same_splitter():
    X, y = load_iris(return_X_y=True)
    splitter = StratifiedKFold(5, shuffle=True, random_state=4)
    model = LogisticRegression(max_iter=500)
    ref = cross_validate(model, X, y, cv=splitter, return_train_score=True, return_indices=True)
    res = kfold_errors(model, X, y, cv=splitter)
    np.testing.assert_array_equal(res.test_scores, ref["test_score"])
    np.testing.assert_array_equal(res.train_scores, ref["train_score"])
    np.testing.assert_array_equal(res.test_errors, 1 - ref["test_score"])
    np.testing.assert_array_equal(res.train_errors, 1 - ref["train_score"])
    for mine, theirs in zip(res.test_indices, ref["indices"]["test"], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    for mine, theirs in zip(res.train_indices, ref["indices"]["train"], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert res.fit_times.shape == (5,) and np.all(res.fit_times > 0)


def test_regressor_errors_are_mean_squared_errors_of_cross_validate():
    X, y = make_regression(n_samples=80, n_features=5, noise=5.0, random_state=0)
    splitter = KFold(4, shuffle=True, random_state=0)
    ref = cross_validate(
        Ridge(), X, y, cv=splitter, scoring="neg_mean_squared_error", return_train_score=True
    )
    res = kfold_errors(Ridge(), X, y, cv=splitter)
    assert res.scoring == "neg_mean_squared_error"
    np.testing.assert_array_equal(res.test_errors, -ref["test_score"])
    np.testing.assert_array_equal(res.train_errors, -ref["train_score"])
    # and the error is the mean squared error, computed by hand on the first fold
    train, test = res.train_indices[0], res.test_indices[0]
    fitted = Ridge().fit(X[train], y[train])
    assert res.test_errors[0] == pytest.approx(np.mean((fitted.predict(X[test]) - y[test]) ** 2))


def test_summary_has_means_and_sample_standard_deviations():
    X, y = load_iris(return_X_y=True)
    res = kfold_errors(DecisionTreeClassifier(random_state=0), X, y, cv=5, random_state=0)
    summary = res.summary()
    assert summary["mean_test_error"] == pytest.approx(np.mean(res.test_errors))
    assert summary["std_test_error"] == pytest.approx(np.std(res.test_errors, ddof=1))
    assert summary["mean_train_error"] == 0.0  # a full tree memorises its training folds
    assert "fold" in str(res) and "validation error" in str(res)


def test_an_int_cv_is_a_shuffled_stratified_kfold_reproducible_by_random_state():
    X, y = load_iris(return_X_y=True)
    a = kfold_errors(DecisionTreeClassifier(), X, y, cv=3, random_state=7)
    b = kfold_errors(DecisionTreeClassifier(), X, y, cv=3, random_state=7)
    np.testing.assert_array_equal(a.test_scores, b.test_scores)
    ref = list(StratifiedKFold(3, shuffle=True, random_state=np.random.RandomState(7)).split(X, y))
    for test, (_, ref_test) in zip(a.test_indices, ref, strict=True):
        np.testing.assert_array_equal(test, ref_test)
        assert np.ptp(np.bincount(y[test])) <= 1  # stratified: classes spread evenly


def test_cv_none_is_the_default_five_fold():
    # None passed the parameter check and gave an unshuffled StratifiedKFold(5), whatever
    # random_state said.
    X, y = load_iris(return_X_y=True)
    none = kfold_errors(DecisionTreeClassifier(), X, y, cv=None, random_state=7)
    ref = list(StratifiedKFold(5, shuffle=True, random_state=np.random.RandomState(7)).split(X, y))
    for test, (_, ref_test) in zip(none.test_indices, ref, strict=True):
        np.testing.assert_array_equal(test, ref_test)


def test_scorer_without_an_error_form_keeps_scores_only():
    X, y = load_iris(return_X_y=True)
    res = kfold_errors(DecisionTreeClassifier(), X, y, cv=3, scoring="f1_macro", random_state=0)
    assert res.test_scores.shape == (3,)
    with pytest.raises(ValueError, match="no error form"):
        res.test_errors


def test_a_failed_fold_gives_nan_and_a_warning_naming_the_fold(rows_dataset):
    X, y = rows_dataset
    splitter = KFold(4, shuffle=True, random_state=0)
    failing_fold = next(k for k, (_, test) in enumerate(splitter.split(X)) if 0 in test)
    with pytest.warns(FitFailedWarning, match=rf"fold {failing_fold + 1} of 4.*row 0 is missing"):
        res = kfold_errors(FailsWithoutRow(row=0), X, y, cv=splitter)
    assert np.isnan(res.test_scores[failing_fold])
    assert np.isfinite(np.delete(res.test_scores, failing_fold)).all()
    assert np.isfinite(res.summary()["mean_test_score"])  # failed folds left out of the means


def test_the_fit_failed_warning_points_at_the_callers_line(rows_dataset):
    X, y = rows_dataset
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        kfold_errors(FailsWithoutRow(row=0), X, y, cv=4, random_state=0)
    assert [w.category for w in record] == [FitFailedWarning]
    assert record[0].filename == __file__


def test_error_score_raise_propagates_the_original_error(rows_dataset):
    X, y = rows_dataset
    with pytest.raises(RuntimeError, match="row 0 is missing"):
        kfold_errors(FailsWithoutRow(row=0), X, y, cv=4, error_score="raise")


def test_every_fold_failing_is_a_value_error(rows_dataset):
    X, y = rows_dataset
    with pytest.raises(ValueError, match=r"all 3 fits failed.*row 999 is missing"):
        with pytest.warns(FitFailedWarning):
            kfold_errors(FailsWithoutRow(row=999), X, y, cv=3)


def test_nan_features_for_an_estimator_that_rejects_them_raise_a_clear_error():
    X, y = load_iris(return_X_y=True)
    X = X.copy()
    X[:, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        with pytest.warns(FitFailedWarning):
            kfold_errors(LogisticRegression(), X, y, cv=3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(cv=10), "cv=10 folds need at least 10 samples, got 6"),
        (dict(cv=1), "cv"),
        (dict(cv=3, n_jobs="two"), "n_jobs"),
        (dict(cv=3, scoring="accurasy"), "scoring='accurasy' is not a scikit-learn scorer name"),
    ],
)
def test_bad_arguments_are_clear_value_errors(kwargs, message):
    X = np.arange(12.0).reshape(6, 2)
    y = np.array([0, 1] * 3)
    with pytest.raises(ValueError, match=message):
        kfold_errors(DecisionTreeClassifier(), X, y, **kwargs)


def test_inputs_are_not_modified():
    X, y = load_iris(return_X_y=True)
    X0, y0 = X.copy(), y.copy()
    kfold_errors(LogisticRegression(max_iter=500), X, y, cv=3, random_state=0)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_groups_reach_a_group_aware_splitter():
    X, y = load_iris(return_X_y=True)
    groups = np.arange(len(y)) % 10
    res = kfold_errors(
        DecisionTreeClassifier(random_state=0), X, y, groups=groups, cv=GroupKFold(5)
    )
    for train, test in zip(res.train_indices, res.test_indices, strict=True):
        assert not set(groups[train]) & set(groups[test])


def test_error_score_raise_names_the_estimator_whose_parameter_is_bad():
    # scikit-learn's validate_params would rename it "The 'C' parameter of kfold_errors"
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="The 'C' parameter of LogisticRegression must be"):
        kfold_errors(LogisticRegression(C=-1), X, y, cv=3, error_score="raise")


def test_the_parameters_of_the_estimator_are_validated_not_skipped():
    # a nested validation skipped would fit max_depth=-1 as if it meant something
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="'max_depth' parameter of DecisionTreeClassifier"):
        kfold_errors(DecisionTreeClassifier(max_depth=-1), X, y, cv=3, error_score="raise")


@pytest.mark.parametrize(
    "cv, message",
    [
        ([(np.arange(10), np.arange(100, 110))], r"split 1 of 1: the test indices must lie in "
         r"\[0, 59\] \(X has 60 rows\), got indices from 100 to 109"),
        ([(np.arange(30), np.arange(30, 60)), (np.arange(-5, 30), np.arange(30, 60))],
         r"split 2 of 2: the training indices must lie in \[0, 59\].*from -5 to 29"),
        ([(np.arange(60), np.arange(0))], "split 1 of 1: the test set is empty"),
        ([(np.arange(30.0), np.arange(30, 60))], "training indices must be integers"),
        ([(np.ones(5, bool), np.arange(30, 60))], "training mask has 5 entries for 60 samples"),
        ([(np.arange(30),)], r"cv must yield \(train, test\) pairs"),
    ],
)  # fmt: skip
def test_bad_splits_given_as_index_pairs_are_clear_value_errors(cv, message):
    X = np.random.default_rng(0).standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match=message):
        kfold_errors(DecisionTreeClassifier(), X, y, cv=cv)


def test_boolean_masks_as_splits_become_indices():
    X = np.random.default_rng(0).standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    mask = np.arange(60) < 40
    res = kfold_errors(DecisionTreeClassifier(random_state=0), X, y, cv=[(mask, ~mask)])
    np.testing.assert_array_equal(res.train_indices[0], np.arange(40))
    np.testing.assert_array_equal(res.test_indices[0], np.arange(40, 60))


# -- fit parameters --------------------------------------------------------------------------------


class _RecordsFitParams(Ridge):
    def fit(self, X, y, sample_weight=None, tag=None):
        self.tag_ = tag
        self.n_weights_ = None if sample_weight is None else len(sample_weight)
        return super().fit(X, y, sample_weight=sample_weight)


def test_sample_weights_in_params_give_cross_validates_scores():
    X, y = make_regression(80, 4, noise=20.0, random_state=0)
    weight = np.random.default_rng(0).uniform(0, 3, 80)
    cv = KFold(4, shuffle=True, random_state=0)
    ours = kfold_errors(Ridge(alpha=30.0), X, y, cv=cv, params={"sample_weight": weight})
    theirs = cross_validate(
        Ridge(alpha=30.0),
        X,
        y,
        cv=cv,
        params={"sample_weight": weight},
        scoring="neg_mean_squared_error",
        return_train_score=True,
    )
    np.testing.assert_allclose(ours.test_scores, theirs["test_score"], rtol=1e-12)
    np.testing.assert_allclose(ours.train_scores, theirs["train_score"], rtol=1e-12)
    unweighted = kfold_errors(Ridge(alpha=30.0), X, y, cv=cv)
    assert not np.allclose(unweighted.test_scores, ours.test_scores)  # the weights did act


def test_per_sample_params_are_split_and_others_passed_whole():
    X, y = make_regression(30, 2, random_state=0)
    cv = KFold(3)
    params = {"sample_weight": np.ones(30), "tag": "x"}
    kfold_errors(_RecordsFitParams(), X, y, cv=cv, params=params, error_score="raise")
    outcome = fit_and_score(
        _RecordsFitParams(),
        X,
        y,
        np.arange(20),
        np.arange(20, 30),
        scoring="r2",
        return_estimator=True,
        fit_params=params,
    )
    assert outcome.estimator.n_weights_ == 20
    assert outcome.estimator.tag_ == "x"


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"sample_weight": np.ones(29)}, "29 values for 30 samples"),
        ([("sample_weight", np.ones(30))], "params"),
    ],
)
def test_bad_params_are_refused_before_any_fit(params, match):
    X, y = make_regression(30, 2, random_state=0)
    with pytest.raises((ValueError, TypeError), match=match):
        kfold_errors(Ridge(), X, y, cv=3, params=params)


def test_a_scalar_sample_weight_in_params_is_passed_whole():
    # cross_validate passes a value that is not per-sample whole; len() of it failed here
    X, y = make_regression(30, 2, random_state=0)
    ours = kfold_errors(Ridge(), X, y, cv=KFold(3), params={"sample_weight": 2.0})
    theirs = cross_validate(Ridge(), X, y, cv=KFold(3), params={"sample_weight": 2.0},
                            scoring="neg_mean_squared_error")  # fmt: skip
    np.testing.assert_allclose(ours.test_scores, theirs["test_score"], rtol=1e-12)


def test_training_errors_of_a_model_transforming_in_place():
    # The training score read the rows fit had standardised in place (StandardScaler(copy=False)):
    # a training MSE of 145 713 beside the model's 2 848 (cross_validate reports the same wrong
    # number: a review). The same pipeline with a copying scaler is the reference.

    X, y = load_diabetes(return_X_y=True)
    X = 10.0 * X + 3.0
    splitter = KFold(5, shuffle=True, random_state=0)
    ref = kfold_errors(make_pipeline(StandardScaler(), Ridge()), X, y, cv=splitter)
    X_given = X.copy()
    got = kfold_errors(make_pipeline(StandardScaler(copy=False), Ridge()), X_given, y, cv=splitter)
    np.testing.assert_allclose(got.train_errors, ref.train_errors, rtol=1e-10)
    np.testing.assert_allclose(got.test_errors, ref.test_errors, rtol=1e-10)
    np.testing.assert_array_equal(X_given, X)


@pytest.mark.parametrize("missing", [None, np.nan, "pandas.NA"])
def test_a_missing_string_label_is_named(missing):
    pd = pytest.importorskip("pandas")
    missing = pd.NA if missing == "pandas.NA" else missing
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 2))
    y = np.array(["a", "b"] * 10, dtype=object)
    y[7] = missing
    with pytest.raises(ValueError, match=r"y has missing labels .* positions \[7\]"):
        kfold_errors(DummyClassifier(), X, y, cv=2)
    with pytest.raises(ValueError, match=r"y_train has missing labels"):
        bias_variance_decomposition(DummyClassifier(), X, y, X, y, loss="0-1", n_rounds=2)


def test_the_summary_of_all_nan_folds_is_nan_without_a_warning_and_the_header_counts_splits():
    # R² on test folds of one sample is NaN in every fold: numpy's "Mean of empty slice" came
    # out of the summary; the header said "3-fold" for any splitter (a review).
    from sklearn.model_selection import RepeatedKFold

    X, y = make_regression(3, 2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)  # (scikit-learn's R² with one sample)
        result = kfold_errors(Ridge(), X, y, cv=KFold(3), scoring="r2")
        summary = result.summary()
        text = str(result)
    assert np.isnan(summary["mean_test_score"])
    assert "over 3 train/validation splits" in text
    repeated = kfold_errors(Ridge(), *make_regression(30, 2, random_state=0),
                            cv=RepeatedKFold(n_splits=3, n_repeats=2, random_state=0))  # fmt: skip
    assert "over 6 train/validation splits" in str(repeated)
