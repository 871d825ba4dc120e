"""Bias-variance decompositions: the identities, the textbook cases, mlxtend as a reference."""

from functools import partial

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from mlbasics.model_selection import (
    bias_variance_curve,
    bias_variance_decomposition,
    mse_decomposition,
    zero_one_decomposition,
)

from ._estimators import MembershipRegressor


def quadratic(x):
    return x**2


@pytest.fixture(scope="module")
def regression():
    """y = x^2 + N(0, 0.3^2) on [-1, 1]: 100 training points, 400 test points (with f known)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(500, 1))
    f = quadratic(X[:, 0])
    y = f + 0.3 * rng.standard_normal(500)
    return X[:100], y[:100], X[100:], y[100:], f[100:]


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=3, flip_y=0.05, random_state=0
    )
    return X[:150], y[:150], X[150:], y[150:]


@pytest.mark.parametrize(
    "estimator", [LinearRegression(), DecisionTreeRegressor(random_state=0)], ids=["line", "tree"]
)
def test_mse_loss_is_bias_squared_plus_variance_on_the_sample(regression, estimator):
    X_train, y_train, X_test, y_test, _ = regression
    res = bias_variance_decomposition(
        estimator, X_train, y_train, X_test, y_test, n_rounds=40, random_state=0
    )
    assert res.expected_loss == pytest.approx(res.bias_squared + res.variance, abs=1e-10)
    point = res.pointwise
    np.testing.assert_allclose(
        point["expected_loss"], point["bias_squared"] + point["variance"], rtol=0, atol=1e-10
    )
    # the parts recomputed from the stored predictions, straight from the definitions
    F = res.predictions
    assert res.expected_loss == pytest.approx(np.mean((F - y_test) ** 2), rel=1e-12)
    assert res.variance == pytest.approx(np.mean(F.var(axis=0)), rel=1e-12)


def _population(seed):
    """y = x^2 + N(0, 0.3^2): a pool of 3000 training points (30 disjoint sets of 100), and 400
    test points with their noise-free targets f(x)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(3400, 1))
    y = quadratic(X[:, 0]) + 0.3 * rng.standard_normal(3400)
    return X[:3000], y[:3000], X[3000:], quadratic(X[3000:, 0])


def test_a_straight_line_fitted_to_a_parabola_is_bias_dominated(seed):
    X_train, y_train, X_test, f_test = _population(seed)
    res = bias_variance_decomposition(
        LinearRegression(), X_train, y_train, X_test, f_test, n_rounds=30, sampling="disjoint",
        random_state=seed,
    )  # fmt: skip
    # the best line through x^2 on [-1, 1] is the constant 1/3: bias^2 = 1/5 - 1/9 = 0.089
    assert res.bias_squared == pytest.approx(4 / 45, rel=0.15)
    assert res.bias_squared > 10 * res.variance


def test_a_deep_tree_is_variance_dominated(seed):
    X_train, y_train, X_test, f_test = _population(seed)
    res = bias_variance_decomposition(
        DecisionTreeRegressor(), X_train, y_train, X_test, f_test, n_rounds=30,
        sampling="disjoint", random_state=seed,
    )  # fmt: skip
    # a fully grown tree predicts one noisy neighbour: its variance is about the noise, 0.09
    assert res.variance == pytest.approx(0.3**2, rel=0.25)
    assert res.variance > 10 * res.bias_squared


def test_against_noisy_targets_bias_squared_also_holds_the_noise(regression):
    X_train, y_train, X_test, y_test, f_test = regression
    kwargs = dict(n_rounds=60, random_state=0)
    noisy = bias_variance_decomposition(
        LinearRegression(), X_train, y_train, X_test, y_test, **kwargs
    )
    clean = bias_variance_decomposition(
        LinearRegression(), X_train, y_train, X_test, f_test, **kwargs
    )
    assert noisy.variance == pytest.approx(clean.variance, rel=1e-12)  # same fits, same predictions
    assert noisy.bias_squared - clean.bias_squared == pytest.approx(0.3**2, abs=0.02)


def test_mse_matches_mlxtend_bias_variance_decomp(regression):
    evaluate = pytest.importorskip("mlxtend.evaluate")
    X_train, y_train, X_test, y_test, _ = regression
    loss, bias2, var = evaluate.bias_variance_decomp(
        LinearRegression(), X_train, y_train, X_test, y_test, loss="mse", num_rounds=50,
        random_seed=3,
    )  # fmt: skip
    res = bias_variance_decomposition(
        LinearRegression(), X_train, y_train, X_test, y_test, n_rounds=50, random_state=3
    )
    assert (res.expected_loss, res.bias_squared, res.variance) == pytest.approx(
        (loss, bias2, var), rel=1e-12
    )


def test_zero_one_matches_mlxtend_on_integer_labels(binary):
    evaluate = pytest.importorskip("mlxtend.evaluate")
    X_train, y_train, X_test, y_test = binary
    tree = DecisionTreeClassifier(max_depth=4, random_state=0)
    loss, bias, var = evaluate.bias_variance_decomp(
        tree, X_train, y_train, X_test, y_test, loss="0-1_loss", num_rounds=40, random_seed=1
    )
    res = bias_variance_decomposition(
        tree, X_train, y_train, X_test, y_test, loss="0-1", n_rounds=40, random_state=1
    )
    # mlxtend's variance is the total V = V_unbiased + V_biased (so its loss != bias + var)
    assert (res.expected_loss, res.bias, res.variance) == pytest.approx((loss, bias, var))


def test_zero_one_identities_hold_on_the_sample_for_two_classes(binary):
    X_train, y_train, X_test, y_test = binary
    res = bias_variance_decomposition(
        DecisionTreeClassifier(), X_train, y_train, X_test, y_test, loss="0-1", n_rounds=30,
        random_state=0,
    )  # fmt: skip
    assert res.expected_loss == pytest.approx(res.bias + res.net_variance, abs=1e-12)
    assert res.variance == pytest.approx(res.variance_unbiased + res.variance_biased, abs=1e-12)
    assert res.net_variance == pytest.approx(res.variance_unbiased - res.variance_biased)
    p = res.pointwise
    np.testing.assert_allclose(p["expected_loss"], p["bias"] + p["net_variance"], atol=1e-12)
    assert set(np.unique(p["bias"])) <= {0.0, 1.0}
    assert 0 < res.variance_biased and 0 < res.variance_unbiased  # both kinds occur here


def test_labels_may_be_strings(binary):
    X_train, y_train, X_test, y_test = binary
    names = np.array(["no", "yes"])  # sorted like 0 < 1, so ties and trees behave the same
    tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    kwargs = dict(loss="0-1", n_rounds=25, random_state=2)
    coded = bias_variance_decomposition(tree, X_train, y_train, X_test, y_test, **kwargs)
    named = bias_variance_decomposition(
        tree, X_train, names[y_train], X_test, names[y_test], **kwargs
    )
    assert (named.expected_loss, named.bias, named.net_variance) == (
        coded.expected_loss,
        coded.bias,
        coded.net_variance,
    )
    np.testing.assert_array_equal(named.main_prediction, names[coded.main_prediction])


def test_with_three_classes_the_loss_is_at_least_bias_plus_net_variance():
    predictions = np.array([["a", "b", "c"], ["b", "b", "c"], ["c", "a", "a"], ["c", "b", "b"]])
    y = np.array(["a", "b", "c"])
    res = zero_one_decomposition(predictions, y)
    p = res.pointwise
    # point 0: votes a, b, c, c -> main c (wrong), loss 3/4, variance 1/2: 3/4 >= 1 - 1/2
    assert res.main_prediction.tolist() == ["c", "b", "c"]
    assert p["expected_loss"][0] == 0.75 and p["bias"][0] == 1 and p["variance"][0] == 0.5
    assert np.all(p["expected_loss"] >= p["bias"] + p["net_variance"] - 1e-12)


def test_ties_of_the_vote_go_to_the_first_label_in_sorted_order():
    res = zero_one_decomposition(np.array([["y"], ["x"]]), np.array(["x"]))
    assert res.main_prediction.tolist() == ["x"] and res.bias == 0.0


def test_disjoint_sampling_gives_each_round_its_own_rows():
    n = 60
    X_train = np.arange(n, dtype=float)[:, None]
    res = bias_variance_decomposition(
        MembershipRegressor(), X_train, np.zeros(n), X_train, np.zeros(n), n_rounds=6,
        sampling="disjoint", random_state=0,
    )  # fmt: skip
    membership = res.predictions  # (round, row): 1 where the row was in that round's training set
    np.testing.assert_array_equal(membership.sum(axis=1), 10)
    np.testing.assert_array_equal(membership.sum(axis=0), 1)


def test_bootstrap_samples_are_drawn_with_replacement():
    n = 200
    X_train = np.arange(n, dtype=float)[:, None]
    res = bias_variance_decomposition(
        MembershipRegressor(), X_train, np.zeros(n), X_train, np.zeros(n), n_rounds=20,
        random_state=0,
    )  # fmt: skip
    distinct = res.predictions.sum(axis=1) / n  # about 1 - 1/e = 0.632 of the rows per round
    assert np.all(np.abs(distinct - (1 - np.exp(-1))) < 0.08)


def test_the_curve_trades_bias_for_variance_as_the_degree_grows(regression):
    X_train, y_train, X_test, _, f_test = regression
    model = make_pipeline(PolynomialFeatures(), LinearRegression())
    curve = bias_variance_curve(
        model, "polynomialfeatures__degree", [1, 2, 12], X_train, y_train, X_test, f_test,
        n_rounds=40, random_state=0,
    )  # fmt: skip
    assert curve.bias_squared[0] > 10 * curve.bias_squared[1]  # a line cannot bend
    assert curve.variance[2] > 3 * curve.variance[1]  # degree 12 chases the noise
    assert curve.best_index == 1
    assert "<- smallest loss" in str(curve)


def test_each_point_of_the_curve_is_the_decomposition_with_that_parameter(regression):
    X_train, y_train, X_test, y_test, _ = regression
    tree = DecisionTreeRegressor(max_features=None)
    curve = bias_variance_curve(
        tree, "max_depth", [2, 5], X_train, y_train, X_test, y_test, n_rounds=20, random_state=4
    )
    single = bias_variance_decomposition(
        tree.set_params(max_depth=5), X_train, y_train, X_test, y_test, n_rounds=20,
        random_state=4,
    )  # fmt: skip
    np.testing.assert_array_equal(curve.results[1].predictions, single.predictions)


def test_n_jobs_does_not_change_the_numbers(binary):
    X_train, y_train, X_test, y_test = binary
    # a random learner with random_state=None: each round is seeded from random_state
    tree = DecisionTreeClassifier(max_features=2)
    kwargs = dict(loss="0-1", n_rounds=12, random_state=5)
    one = bias_variance_decomposition(tree, X_train, y_train, X_test, y_test, n_jobs=1, **kwargs)
    two = bias_variance_decomposition(tree, X_train, y_train, X_test, y_test, n_jobs=2, **kwargs)
    np.testing.assert_array_equal(one.predictions, two.predictions)
    assert one.expected_loss == two.expected_loss


def test_an_estimator_valued_parameter_is_cloned_for_every_round(regression):
    # The user's step went into every round's pipeline: it was fitted and seeded in place, and
    # with n_jobs=1 the rounds after the first kept the first round's seed.
    X_train, y_train, X_test, y_test, _ = regression
    pipe = make_pipeline(PolynomialFeatures(2), DecisionTreeRegressor())
    kwargs = dict(n_rounds=12, random_state=3)
    steps = [DecisionTreeRegressor(max_features=1, max_depth=d) for d in (2, 6)]
    curve = bias_variance_curve(pipe, "decisiontreeregressor", steps, X_train, y_train, X_test,
                                y_test, n_jobs=1, **kwargs)  # fmt: skip
    assert [s.random_state for s in steps] == [None, None]
    assert not any(hasattr(s, "tree_") for s in steps)
    for step, result in zip(steps, curve.results, strict=True):
        # the same rounds as the decomposition of a pipeline that holds (a copy of) the step
        single = bias_variance_decomposition(
            make_pipeline(PolynomialFeatures(2), step), X_train, y_train, X_test, y_test, **kwargs
        )
        np.testing.assert_array_equal(result.predictions, single.predictions)
    # a learner seeded per round: its predictions differ from round to round
    assert np.ptp(curve.results[1].predictions, axis=0).max() > 0


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(n_rounds=1), "n_rounds"),
        (dict(loss="hinge"), "loss"),
        (dict(sampling="jackknife"), "sampling"),
        (dict(sampling="disjoint", n_rounds=100), "use fewer rounds"),
        (dict(y_test_labels=[0, 1, 2]), "labels that y_train does not: \\[2\\]"),
        (dict(y_train_labels=[0]), "single class"),
    ],
)
def test_bad_input_is_a_clear_value_error(binary, change, message):
    X_train, y_train, X_test, y_test = binary
    y_train, y_test = y_train.copy(), y_test.copy()
    if "y_test_labels" in change:
        y_test[: len(change.pop("y_test_labels"))] = [0, 1, 2]
    if "y_train_labels" in change:
        change.pop("y_train_labels")
        y_train[:] = 0
    kwargs = dict(loss="0-1", n_rounds=5, random_state=0) | change
    with pytest.raises(ValueError, match=message):
        bias_variance_decomposition(
            LogisticRegression(), X_train, y_train, X_test, y_test, **kwargs
        )


def test_regression_targets_with_nan_are_rejected(regression):
    X_train, y_train, X_test, y_test, _ = regression
    y_bad = y_test.copy()
    y_bad[3] = np.nan
    with pytest.raises(ValueError, match="y_test contains NaN"):
        bias_variance_decomposition(LinearRegression(), X_train, y_train, X_test, y_bad)


def test_an_unknown_curve_parameter_is_rejected(regression):
    X_train, y_train, X_test, y_test, _ = regression
    with pytest.raises(ValueError, match="has no parameter 'depth'"):
        bias_variance_curve(
            DecisionTreeRegressor(), "depth", [1, 2], X_train, y_train, X_test, y_test
        )


def test_a_round_that_cannot_fit_is_reported_with_its_number():
    X = np.arange(20.0)[:, None]
    y = np.array([0] * 19 + [1])  # most bootstrap samples miss class 1
    with pytest.raises(ValueError, match=r"round \d+ of 10: fitting on its bootstrap sample"):
        bias_variance_decomposition(
            LogisticRegression(), X, y, X, y, loss="0-1", n_rounds=10, random_state=0
        )


def test_a_round_whose_prediction_fails_says_so():
    # The message said the fit had failed when predict did (a review).
    rng = np.random.default_rng(0)
    X_train, y_train = rng.standard_normal((30, 2)), rng.standard_normal(30)
    X_test = rng.standard_normal((10, 3))  # one feature too many for the fitted model
    with pytest.raises(ValueError, match=r"round 1 of 5: predicting X_test after fitting on its"):
        bias_variance_decomposition(
            LinearRegression(), X_train, y_train, X_test, rng.standard_normal(10), n_rounds=5
        )


@pytest.mark.parametrize(
    "predictions, y_test, message",
    [
        (np.zeros((5, 10, 1)), np.zeros(10), r"two-dimensional.*got shape \(5, 10, 1\)"),
        (np.zeros(10), np.zeros(10), r"two-dimensional.*got shape \(10,\)"),
        (np.zeros((0, 10)), np.zeros(10), r"predictions is empty \(shape \(0, 10\)\)"),
        (np.zeros((5, 0)), np.zeros(0), r"predictions is empty \(shape \(5, 0\)\)"),
        (np.zeros((5, 10)), np.zeros(9), r"one target per column .* got shape \(9,\)"),
        (np.full((5, 10), np.nan), np.zeros(10), "predictions contains NaN"),
        (np.zeros((5, 10)), np.full(10, np.inf), "y_test contains infinity"),
        (np.zeros((5, 10)).astype(str), np.zeros(10), "dtype='numeric' is not compatible"),
    ],
)
def test_mse_decomposition_checks_shapes_emptiness_and_values(predictions, y_test, message):
    with pytest.raises(ValueError, match=message):
        mse_decomposition(predictions, y_test)


@pytest.mark.parametrize(
    "predictions, classes, message",
    [
        (np.zeros((0, 4), int), None, "predictions is empty"),
        (np.array([[0, 1, 2, 1]] * 3), [0, 1], r"labels that are not in classes: \[2\]"),
        (np.array([[0, 1, 1, 0]] * 3), [1, 0], "classes must be sorted"),
        (np.array([[0.0, np.nan, 1.0, 0.0]] * 3), None, "predictions contains NaN"),
    ],
)
def test_zero_one_decomposition_checks_its_input(predictions, classes, message):
    with pytest.raises(ValueError, match=message):
        zero_one_decomposition(predictions, np.array([0, 1, 1, 0]), classes=classes)


@pytest.mark.parametrize(
    "predictions, y_test, classes, message",
    [
        ([[0, "a"]], [0, "a"], None, r"predictions and y_test mix .* \(int, str\)"),
        ([[None, 1]], [1, 1], None, r"predictions and y_test mix .* \(NoneType, int\)"),
        ([[0, 1]], [0, 1], [0, "a"], r"classes mix .* \(int, str\)"),
        ([["a", "b"]], ["a", "b"], [0, 1], r"classes, predictions and y_test mix .* \(int, str\)"),
    ],
)
def test_zero_one_decomposition_names_labels_that_cannot_be_ordered(
    predictions, y_test, classes, message
):
    as_objects = partial(np.array, dtype=object)
    if classes is not None:
        classes = as_objects(classes)
    with pytest.raises(TypeError, match=message):
        zero_one_decomposition(as_objects(predictions), as_objects(y_test), classes=classes)


def test_a_bad_parameter_value_of_the_curve_is_not_fitted_silently(regression):
    # the estimator's own parameter validation runs: max_depth=-1 is an error, not a tree
    X_train, y_train, X_test, y_test, _ = regression
    with pytest.raises(ValueError, match="'max_depth' parameter of DecisionTreeRegressor"):
        bias_variance_curve(
            DecisionTreeRegressor(), "max_depth", [-1], X_train, y_train, X_test, y_test,
            n_rounds=2,
        )  # fmt: skip


def test_mse_decomposition_of_huge_values_is_exact_when_the_result_is_finite(recwarn):
    # the naive sums overflow (mean of 1e308 over rounds, sum over rounds of squares near
    # 2^1020) although every result fits in float64
    same = mse_decomposition(np.full((5, 4), 1e308), np.full(4, 1e308))
    assert (same.expected_loss, same.bias_squared, same.variance) == (0.0, 0.0, 0.0)
    np.testing.assert_array_equal(same.main_prediction, np.full(4, 1e308))

    rng = np.random.default_rng(0)
    F, y = rng.uniform(-1, 1, (50, 6)), rng.uniform(-1, 1, 6)
    F_in, y_in = np.ldexp(F, 510), np.ldexp(y, 510)
    F_copy, y_copy = F_in.copy(), y_in.copy()
    reference = mse_decomposition(F, y)
    huge = mse_decomposition(F_in, y_in)
    for name in ("expected_loss", "bias_squared", "variance"):
        assert getattr(huge, name) == pytest.approx(np.ldexp(getattr(reference, name), 1020))
        np.testing.assert_allclose(
            huge.pointwise[name], np.ldexp(reference.pointwise[name], 1020), rtol=1e-14
        )
    np.testing.assert_allclose(huge.main_prediction, np.ldexp(reference.main_prediction, 510))
    assert huge.expected_loss == pytest.approx(huge.bias_squared + huge.variance, rel=1e-12)
    np.testing.assert_array_equal(F_in, F_copy)
    np.testing.assert_array_equal(y_in, y_copy)
    assert not recwarn.list


@pytest.mark.parametrize("big", [1e160, 1e200, 1e300])
def test_a_huge_test_point_leaves_the_others_losses_intact(big, recwarn):
    # One power of two for every point (the largest's) made the squares of ordinary points
    # underflow beside one of 1e200: the expected loss 2.5 came out 0 (a review). Point 0 is
    # predicted exactly; point 1 (target 0) by 1 and 3: loss (1 + 9) / 2 = 5 there, variance 1.
    F = np.array([[big, 1.0], [big, 3.0]])
    result = mse_decomposition(F, np.array([big, 0.0]))
    assert (result.expected_loss, result.variance, result.bias_squared) == (2.5, 0.5, 2.0)
    np.testing.assert_array_equal(result.pointwise["expected_loss"], [0.0, 5.0])
    np.testing.assert_array_equal(result.main_prediction, [big, 2.0])
    assert not recwarn.list


def test_squared_errors_beyond_the_largest_float_are_a_clear_error(regression, recwarn):
    F = np.full((5, 4), 1e200) * np.arange(1, 6)[:, None]
    with pytest.raises(ValueError, match=r"squared errors overflow float64.*rescale"):
        mse_decomposition(F, np.ones(4))
    X_train, y_train, X_test, y_test, _ = regression
    with pytest.raises(ValueError, match=r"squared errors overflow float64.*rescale"):
        bias_variance_decomposition(
            DecisionTreeRegressor(max_depth=2), X_train, y_train * 1e200, X_test,
            y_test * 1e200, n_rounds=3, random_state=0,
        )  # fmt: skip
    assert not recwarn.list


def test_a_model_transforming_in_place_leaves_x_test_and_the_numbers_alone():
    # Every round predicted the caller's own X_test: with n_jobs=1 a pipeline standardising in
    # place rescaled it once more per round (expected loss 40.2 instead of 0.87, X_test changed
    # by up to 15: a review). The same pipeline with copying scaler is the reference.

    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 2.0, size=(300, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=300)
    X_test = X[200:].copy()
    common = dict(n_rounds=10, random_state=0)
    ref = bias_variance_decomposition(
        make_pipeline(StandardScaler(), Ridge()), X[:200], y[:200], X[200:], y[200:], **common
    )
    in_place = make_pipeline(StandardScaler(copy=False), Ridge())
    got = bias_variance_decomposition(in_place, X[:200], y[:200], X_test, y[200:], **common)
    np.testing.assert_array_equal(X_test, X[200:])
    assert got.expected_loss == pytest.approx(ref.expected_loss, rel=1e-12)
    assert got.variance == pytest.approx(ref.variance, rel=1e-10)


def test_rounds_that_would_not_fit_in_memory_are_refused_before_any_fit(regression):
    # every round's training rows are drawn before the first fit (so that the result does not
    # depend on n_jobs): 10**23 rounds grew without bound (a review)
    X_train, y_train, X_test, y_test, _ = regression
    with pytest.raises(MemoryError, match=r"n_rounds=10+ \(the rounds.* needs about .* GiB"):
        bias_variance_decomposition(
            LinearRegression(), X_train, y_train, X_test, y_test, n_rounds=10**23
        )


@pytest.mark.parametrize("sampling", ["bootstrap", "disjoint"])
@pytest.mark.parametrize("loss", ["0-1", "mse"])
def test_a_precomputed_kernel_is_cut_to_the_rounds_rows(binary, regression, loss, sampling):
    # A pairwise estimator trains on the block of a round's rows and predicts from those rows'
    # columns of the test kernel: the same predictions as the kernel computed on the features.
    # (Cut by rows alone, a bootstrap block was square and accepted: 0.78 instead of 0.09.)
    if loss == "0-1":
        X_train, y_train, X_test, y_test = binary
        on_features, precomputed = SVC(kernel="rbf", gamma=0.2), SVC(kernel="precomputed")
    else:
        X_train, y_train, X_test, y_test, _ = regression
        on_features = KernelRidge(kernel="rbf", gamma=0.2, alpha=0.1)
        precomputed = KernelRidge(kernel="precomputed", alpha=0.1)
    common = dict(loss=loss, n_rounds=5, sampling=sampling, random_state=0)
    ref = bias_variance_decomposition(on_features, X_train, y_train, X_test, y_test, **common)
    K_train = rbf_kernel(X_train, X_train, gamma=0.2)
    K_test = rbf_kernel(X_test, X_train, gamma=0.2)
    res = bias_variance_decomposition(precomputed, K_train, y_train, K_test, y_test, **common)
    np.testing.assert_allclose(res.predictions, ref.predictions, rtol=1e-9, atol=1e-9)
    assert res.expected_loss == pytest.approx(ref.expected_loss, rel=1e-9, abs=1e-12)
