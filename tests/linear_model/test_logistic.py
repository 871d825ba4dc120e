"""LogisticRegression's behaviour: input checks, warnings, predictions, certificates."""

import re
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlbasics import LogisticRegression, Trace
from mlbasics.linear_model import logistic_objective
from mlbasics.optimality import check_kkt, duality_gaps

# -- bad input: a clear ValueError naming the problem --------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X_is_rejected(small_binary, bad):
    X, y = small_binary
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match=r"(?i)(NaN|infinity)"):
        LogisticRegression().fit(X, y)


def test_nan_in_sparse_X_is_rejected(sparse_binary):
    X, y = sparse_binary
    X = X.copy()
    X.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LogisticRegression().fit(X, y)


def test_wrong_dimensions_are_rejected(small_binary):
    X, y = small_binary
    with pytest.raises(ValueError, match="2D array"):
        LogisticRegression().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="dim"):
        LogisticRegression().fit(X[:, :, None], y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LogisticRegression().fit(X, y[:-1])
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :-1])


def test_single_class_is_rejected(small_binary):
    X, _ = small_binary
    with pytest.raises(ValueError, match=r"at least 2 classes.*only one class"):
        LogisticRegression().fit(X, np.ones(len(X)))


def test_empty_data_is_rejected():
    with pytest.raises(ValueError, match="0 sample"):
        LogisticRegression().fit(np.empty((0, 3)), np.empty(0))


def test_nan_labels_are_rejected(small_binary):
    X, y = small_binary
    with pytest.raises(ValueError, match="NaN"):
        LogisticRegression().fit(X, np.where(np.arange(len(y)) == 0, np.nan, y))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"C": 0.0}, "'C' parameter"),
        ({"C": -1.0}, "'C' parameter"),
        ({"penalty": "l3"}, "'penalty' parameter"),
        ({"solver": "saga"}, "'solver' parameter"),
        ({"penalty": "elasticnet", "l1_ratio": 1.5}, "'l1_ratio' parameter"),
        ({"penalty": "elasticnet", "l1_ratio": -0.1}, "'l1_ratio' parameter"),
        ({"penalty": "elasticnet", "l1_ratio": None}, "needs l1_ratio"),
        ({"penalty": "l1", "solver": "lbfgs"}, "needs proximal Newton"),
        ({"penalty": "l1", "solver": "newton-cg"}, "needs proximal Newton"),
        ({"tol": -1.0}, "'tol' parameter"),
        ({"max_iter": -1}, "'max_iter' parameter"),
    ],
)
def test_bad_parameters_are_rejected(small_binary, params, message):
    X, y = small_binary
    with pytest.raises(ValueError, match=re.escape(message) if "'" in message else message):
        LogisticRegression(**params).fit(X, y)


def test_cholesky_with_sparse_input_is_rejected(sparse_binary):
    X, y = sparse_binary
    with pytest.raises(ValueError, match="needs dense X"):
        LogisticRegression(solver="newton-cholesky").fit(X, y)


def test_negative_sample_weight_is_rejected(small_binary):
    X, y = small_binary
    with pytest.raises(ValueError, match=r"[Nn]egative"):
        LogisticRegression().fit(X, y, sample_weight=-np.ones(len(y)))


@pytest.mark.parametrize("solver", ["newton", "sgd"])
@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_negative_or_non_finite_class_weight_is_rejected(small_binary, solver, bad):
    # a negative weight makes the loss of class 0 a gain: the objective has no minimum
    X, y = small_binary
    with pytest.raises(ValueError, match=r"class_weight must be finite and non-negative.*class 0"):
        LogisticRegression(solver=solver, class_weight={0: bad, 1: 1.0}).fit(X, y)


@pytest.mark.parametrize("weights", ["class_weight", "sample_weight", "balanced"])
def test_fewer_than_two_classes_of_positive_weight_are_rejected(small_binary, weights):
    # with the intercept unpenalised, the objective of the other class alone has no minimum.
    # "balanced" divides by each class's total weight: the check comes first, so neither
    # scikit-learn's divide-by-zero warning nor an "inf" class weight reaches the user.
    X, y = small_binary
    params = {"class_weight": {0: 1.0, 1: 0.0}} if weights == "class_weight" else {}
    if weights == "balanced":
        params = {"class_weight": "balanced"}
    fit_params = {"sample_weight": np.where(y == 1, 0.0, 1.0)} if weights != "class_weight" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="positive weight in at least 2 classes; only class 0"):
            LogisticRegression(**params).fit(X, y, **fit_params)


def _reduced_optimum(X, y, weight, keep, C):
    """The multinomial objective on the classes ``keep`` alone (their rows of W penalised, a
    free intercept each) minimised by scipy: the infimum of the problem whose other classes
    weigh 0 (their intercepts at -inf)."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    p = X.shape[1]
    rows = np.isin(y, keep)
    Xk, yk, ck = X[rows], np.searchsorted(keep, y[rows]), C * weight[rows]
    K = len(keep)

    def f(theta):
        W, b = theta[: K * p].reshape(K, p), theta[K * p :]
        Z = Xk @ W.T + b
        value = ck @ (logsumexp(Z, axis=1) - Z[np.arange(len(yk)), yk]) + 0.5 * (W**2).sum()
        P = np.exp(Z - logsumexp(Z, axis=1)[:, None])
        P[np.arange(len(yk)), yk] -= 1.0
        R = ck[:, None] * P
        return value, np.concatenate([(R.T @ Xk + W).ravel(), R.sum(axis=0)])

    result = minimize(f, np.zeros(K * (p + 1)), jac=True, method="L-BFGS-B",
                      options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000})  # fmt: skip
    return result.fun


@pytest.mark.parametrize("solver", ["newton", "newton-cg", "lbfgs"])
def test_a_class_of_zero_total_weight_tends_to_probability_zero(wine, solver):
    # (BaggingClassifier draws its bootstrap as weights and leaves a rare class out.) There is no
    # finite optimum: the class's probabilities tend to 0, its intercept to -inf, and the
    # infimum is the objective of the other classes alone. Such fits were refused; they now stop
    # as scikit-learn's do, certified against that infimum.
    X, y = wine
    weight = np.where(y == 2, 0.0, 1.0)
    model = LogisticRegression(solver=solver, tol=1e-6).fit(X, y, sample_weight=weight)
    infimum = _reduced_optimum(X, y, weight, [0, 1], C=1.0)
    assert model.converged_
    assert 0.0 <= model.objective_ - infimum <= 1e-5 * infimum
    assert model.predict_proba(X)[:, 2].max() < 1e-3
    report = check_kkt(model, X, y, sample_weight=weight, tol=1e-6)
    assert report.ok, str(report)
    assert 0.0 <= report.duality_gap  # a bound on model.objective_ - infimum
    assert model.objective_ - infimum <= report.duality_gap + 1e-9 * infimum


def test_a_class_of_zero_weight_is_not_taken_for_separable_data():
    # penalty=None, labels independent of X (the weighted classes overlap): the separation LP
    # kept the empty class's column and found its intercept's direction, "linearly separable"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = rng.integers(0, 3, 300)
    weight = np.where(y == 2, 0.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LogisticRegression(penalty=None, tol=1e-8).fit(X, y, sample_weight=weight)
    assert model.converged_ and np.all(np.abs(model.coef_) < 1.0)
    # without an intercept, samples in an open half-space (all features positive) let the empty
    # class's scores fall together: the optimum is at infinity and the warning stays
    positive = np.abs(X) + 0.1
    with pytest.warns(UserWarning, match="linearly separable"):
        LogisticRegression(penalty=None, fit_intercept=False).fit(positive, y, sample_weight=weight)
    # separable weighted classes are still said to be
    separable = np.where(y == 1, X[:, 0] + 5.0, X[:, 0] - 5.0)[:, None]
    with pytest.warns(UserWarning, match="linearly separable"):
        LogisticRegression(penalty=None).fit(np.hstack([separable, X]), y, sample_weight=weight)


def test_class_weight_balanced_with_a_class_of_zero_total_weight(wine):
    # scikit-learn's formula (n / (K * class total), K counting every class of y) for the others;
    # the empty class's factor multiplies only zeros
    X, y = wine
    weight = np.where(y == 2, 0.0, 1.0)
    balanced = LogisticRegression(class_weight="balanced").fit(X, y, sample_weight=weight)
    totals = np.bincount(y, weights=weight)
    per_class = {k: weight.sum() / (3 * totals[k]) for k in (0, 1)} | {2: 1.0}
    explicit = LogisticRegression(class_weight=per_class).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(balanced.coef_, explicit.coef_, rtol=1e-10)


def test_bagging_with_a_rare_class_fits():
    # 2 samples of a third class: each bootstrap leaves it out with probability 0.13
    from sklearn.ensemble import BaggingClassifier

    X, y = make_classification(100, 4, n_informative=3, n_redundant=0, random_state=0)
    y[:2] = 2
    ours = BaggingClassifier(LogisticRegression(), n_estimators=10, random_state=0).fit(X, y)
    reference = BaggingClassifier(SklearnLogisticRegression(), n_estimators=10, random_state=0)
    reference.fit(X, y)
    assert np.mean(ours.predict(X) == reference.predict(X)) >= 0.97


def test_l1_ratio_against_an_explicit_penalty_warns(small_binary):
    X, y = small_binary
    with pytest.warns(UserWarning, match="ignored with penalty='l2'"):
        LogisticRegression(penalty="l2", l1_ratio=0.5).fit(X, y)
    with pytest.warns(UserWarning, match="ignored with penalty='l1'"):
        LogisticRegression(penalty="l1", l1_ratio=0.5).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # l1_ratio that agrees with the penalty says nothing
        LogisticRegression(penalty="l1").fit(X, y)
        LogisticRegression(penalty="l1", l1_ratio=1.0).fit(X, y)
        LogisticRegression(l1_ratio=0.5).fit(X, y)  # penalty="auto": the elastic net
    # penalty='elasticnet' at the default l1_ratio is the L2 penalty
    l2 = LogisticRegression().fit(X, y)
    elastic = LogisticRegression(penalty="elasticnet").fit(X, y)
    np.testing.assert_allclose(elastic.objective_, l2.objective_, rtol=1e-8)


@pytest.mark.parametrize(
    "auto, explicit",
    [
        ({"l1_ratio": 1.0, "C": 0.1}, {"penalty": "l1", "C": 0.1}),
        ({"l1_ratio": 0.5, "C": 0.1}, {"penalty": "elasticnet", "l1_ratio": 0.5, "C": 0.1}),
        ({"l1_ratio": 0.0}, {"penalty": "l2"}),
        ({"C": np.inf}, {"penalty": None}),
        ({"penalty": "l2", "C": np.inf}, {"penalty": None}),
        ({"penalty": "elasticnet", "l1_ratio": 0.5, "C": np.inf}, {"penalty": None}),
    ],
)
def test_scikit_learn_1_8_penalty_convention(small_binary, auto, explicit):
    # penalty="auto" (the default) reads the penalty from l1_ratio, and C=np.inf is no penalty,
    # as in scikit-learn 1.8+ (whose LogisticRegression(l1_ratio=1) is an L1 fit)
    X, y = small_binary
    ours = LogisticRegression(tol=1e-10, **auto).fit(X, y)
    reference = LogisticRegression(tol=1e-10, **explicit).fit(X, y)
    np.testing.assert_allclose(ours.coef_, reference.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.objective_, reference.objective_, rtol=1e-12)
    assert check_kkt(ours, X, y, tol=1e-6).ok  # the checker reads the same convention
    # and so does logistic_objective, given the model's own parameters (it refused "auto" and
    # returned inf for C=np.inf)
    own = {"penalty": "auto", "C": 1.0, "l1_ratio": 0.0, **auto}
    value = logistic_objective(X, y, ours.coef_, ours.intercept_, **own)
    np.testing.assert_allclose(value, ours.objective_, rtol=1e-10)
    # and scikit-learn's own fit of the same parameters reaches the same objective
    params = {k: v for k, v in auto.items() if k != "penalty"}
    l1 = params.get("l1_ratio", 0.0) > 0 and np.isfinite(params.get("C", 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "l1_ratio parameter is only used", UserWarning)
        sk = SklearnLogisticRegression(
            solver="saga" if l1 else "lbfgs", tol=1e-12, max_iter=100_000, **params
        ).fit(X, y)
    penalty = explicit["penalty"]
    sk_value = logistic_objective(
        X, y, sk.coef_, sk.intercept_, C=explicit.get("C", 1.0), penalty=penalty,
        l1_ratio=explicit.get("l1_ratio", 0.0),
    )  # fmt: skip
    np.testing.assert_allclose(sk_value, ours.objective_, rtol=1e-6)


@pytest.mark.parametrize(
    "params",
    [{}, {"solver": "newton-cg"}, {"solver": "lbfgs"}, {"penalty": "l1"}, {"solver": "sgd"}],
)
def test_max_iter_0_is_the_starting_point_with_its_objective(small_binary, params):
    X, y = small_binary
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # documented: no ConvergenceWarning
        model = LogisticRegression(**params, C=2.0, max_iter=0).fit(X, y)
    assert model.n_iter_[0] == 0 and not model.converged_
    assert not model.coef_.any() and not model.intercept_.any()
    # every probability is 1/2: C sum_i log 2
    assert model.objective_ == pytest.approx(2.0 * len(y) * np.log(2.0), rel=1e-12)
    # from a warm start at the optimum too, no iteration is judged: L-BFGS (on its gradient test
    # alone) and proximal Newton (its test after the loop) reported converged_ True
    model.set_params(max_iter=100, warm_start=True).fit(X, y)
    optimum = model.coef_.copy()
    model.set_params(max_iter=0).fit(X, y)
    assert not model.converged_ and model.n_iter_[0] == 0
    np.testing.assert_array_equal(model.coef_, optimum)


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_select_from_model_takes_the_default_threshold(breast_cancer, penalty):
    # SelectFromModel picks its default threshold by the class name LogisticRegression and
    # computes np.isclose(l1_ratio, 1.0): l1_ratio=None raised a TypeError inside fit.
    from sklearn.feature_selection import SelectFromModel

    X, y = breast_cancer
    selector = SelectFromModel(LogisticRegression(penalty, C=0.1)).fit(X, y)
    importance = np.abs(selector.estimator_.coef_).ravel()
    # scikit-learn's rules: 1e-5 for an L1 model (its exact zeros dropped), the mean otherwise
    expected = 1e-5 if penalty == "l1" else importance.mean()
    assert selector.threshold_ == pytest.approx(expected)
    np.testing.assert_array_equal(selector.get_support(), importance >= expected)


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_inputs_are_not_modified(sparse_binary, penalty):
    X, y = sparse_binary
    w = np.linspace(0.5, 2.0, len(y))
    copies = [X.copy(), y.copy(), w.copy()]
    LogisticRegression(penalty).fit(X, y, sample_weight=w)
    Xd = X.toarray()
    Xd_copy = Xd.copy()
    LogisticRegression(penalty, class_weight="balanced").fit(Xd, y, sample_weight=w)
    assert (X != copies[0]).nnz == 0
    np.testing.assert_array_equal(y, copies[1])
    np.testing.assert_array_equal(w, copies[2])
    np.testing.assert_array_equal(Xd, Xd_copy)


# -- labels and containers ------------------------------------------------------------------------


def test_string_labels_and_dataframes(wine):
    pd = pytest.importorskip("pandas")
    X, y = wine
    names = np.array(["a-barolo", "b-grignolino", "c-barbera"])[y]  # sorted like 0, 1, 2
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = LogisticRegression().fit(frame, names)
    np.testing.assert_array_equal(model.classes_, np.sort(np.unique(names)))
    np.testing.assert_array_equal(model.feature_names_in_, frame.columns)
    assert set(model.predict(frame)) <= set(names)
    assert model.score(frame, names) > 0.95
    plain = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(model.predict_proba(frame), plain.predict_proba(X), atol=1e-10)


def test_binary_coef_is_for_the_second_class(small_binary):
    X, y = small_binary
    labels = np.where(y == 1, "yes", "no")
    model = LogisticRegression().fit(X, labels)
    assert model.coef_.shape == (1, X.shape[1]) and model.intercept_.shape == (1,)
    scores = model.decision_function(X)
    np.testing.assert_array_equal(model.predict(X), np.where(scores > 0, "yes", "no"))
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], 1 / (1 + np.exp(-scores)))


def test_multiclass_shapes_and_probabilities(wine):
    X, y = wine
    model = LogisticRegression(C=0.1).fit(X, y)
    assert model.coef_.shape == (3, X.shape[1]) and model.intercept_.shape == (3,)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), proba, rtol=1e-12)


def test_log_proba_is_finite_for_extreme_scores(small_binary):
    X, y = small_binary
    model = LogisticRegression().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_proba = model.predict_log_proba(X * 1e6)
    assert np.all(np.isfinite(log_proba))


# -- warnings that say what to do ------------------------------------------------------------------


@pytest.mark.parametrize("penalty, solver", [("l2", "newton"), ("l1", "newton"), ("l2", "lbfgs")])
def test_max_iter_reached_warns_with_advice(breast_cancer, penalty, solver):
    X, y = breast_cancer
    with pytest.warns(ConvergenceWarning, match="Increase max_iter"):
        model = LogisticRegression(penalty, solver=solver, max_iter=1, tol=1e-12).fit(X, y)
    assert not model.converged_


def test_separable_unpenalised_data_warn(iris):
    X, y = iris
    separable = y != 2  # setosa against versicolor: linearly separable
    with pytest.warns(ConvergenceWarning, match="linearly separable"):
        LogisticRegression(None).fit(X[separable], y[separable])


@pytest.mark.parametrize("solver", ["newton", "newton-cg", "lbfgs", "sgd"])
@pytest.mark.parametrize("classes", [(0, 1), (0, 1, 2)])
def test_a_fit_that_separates_the_data_is_its_own_proof(monkeypatch, iris, solver, classes):
    # The fitted coefficients of completely separated data separate them: the warning needs no
    # LP (4 classes, 40,000 x 50: the LP on all rows took 60 to 80 s of a 120 s fit).
    from mlbasics.linear_model import _separation

    X, y = iris
    if len(classes) == 3:  # setosa, then the others split at the median of petal width
        y = np.where(y == 0, 0, np.where(X[:, 3] < np.median(X[y > 0, 3]), 1, 2))
    rows = np.isin(y, classes)

    def no_lp(*args):
        raise AssertionError("the LP ran")

    monkeypatch.setattr(_separation, "_lp_margins", no_lp)
    with pytest.warns(ConvergenceWarning, match="linearly separable"):
        model = LogisticRegression(None, solver=solver, max_iter=200, learning_rate="constant",
                                   eta0=0.1, random_state=0)  # fmt: skip
        model.fit(X[rows], y[rows])
    assert model.score(X[rows], y[rows]) == 1.0


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("units, offset", [(1.0, 0.0), (1e-9, 0.0), (1e-12, 0.0), (1e-3, 1e5),
                                            (1.0, 1e8)])  # fmt: skip
def test_the_separation_check_does_not_depend_on_the_features_units(iris, units, offset, fmt):
    # The LP's box [-1, 1] and HiGHS's tolerances met features of tiny units beside the
    # intercept's ones: overlapping data in units of 1e-9 were "separable" (a warning that the
    # optimum lies at infinity beside a finite, converged fit), separable data in units of 1e-12
    # were not. The truth: setosa and versicolor separate, versicolor and virginica do not.
    from mlbasics.linear_model._separation import separating_direction_exists

    X, y = iris
    X3, y3 = make_classification(
        500, 20, n_informative=10, n_redundant=0, n_classes=3, random_state=0, flip_y=0.2
    )
    cases = [(X[y != 2], y[y != 2], True), (X[y != 0], y[y != 0], False), (X3, y3, False)]
    for features, labels, separable in cases:
        # (with an intercept, offsets do not matter either: scaled alone, 1e5 + 1e-3 x was the
        # ones column to 1e-8, and overlapping classes were "separable")
        A = np.c_[features * units + offset, np.ones(len(labels))]
        Y = np.eye(3)[labels][:, np.unique(labels)]
        Y = Y[:, 1:] if Y.shape[1] == 2 else Y  # one column for two classes
        A = A if fmt == "dense" else sparse.csr_matrix(A)
        found = separating_direction_exists(A, Y, np.ones(len(labels)), intercept=True)
        assert found is separable


def test_the_separation_check_keeps_the_zeros_of_sparse_columns(monkeypatch):
    # Centring every dense column filled the constraint matrix of 0/1 features: 40 times
    # slower, or beyond MAX_CONSTRAINT_NONZEROS and no check (no warning on separable data).
    from mlbasics.linear_model import _separation

    rng = np.random.default_rng(0)
    X = (rng.random((2000, 50)) < 0.03).astype(float)
    y = X[:, 0] + 2 * X[:, 1]  # four classes, decided by two features: separable
    Y = np.eye(4)[y.astype(int)]
    A = np.c_[X, np.ones(len(y))]
    rows = 3 * len(y)  # one constraint per sample and other class
    # about as many non-zeros as A's, per constraint row: far below the rows' full width
    monkeypatch.setattr(_separation, "MAX_CONSTRAINT_NONZEROS", 2 * rows * (A != 0).sum(1).max())
    found = _separation.separating_direction_exists(A, Y, np.ones(len(y)), intercept=True)
    assert found is True


def test_float32_features_with_a_redundant_column_are_not_called_separable():
    # float32 rounding turned the redundant column's exact collinearity into a direction 1e-8
    # thin, and the LP's feasibility tolerance let margins of both signs through: a warning
    # that the optimum lies at infinity beside a finite fit at 72% training accuracy.
    from mlbasics.linear_model._separation import separating_direction_exists

    X, y = make_classification(200, 5, n_informative=3, n_redundant=1, n_classes=3,
                               random_state=5, flip_y=0.1)  # fmt: skip
    X32 = (X * 1e5).astype(np.float32)
    A = np.c_[X32.astype(float), np.ones(len(y))]
    assert separating_direction_exists(A, np.eye(3)[y], np.ones(len(y)), intercept=True) is False
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model = LogisticRegression(None, tol=1e-8, max_iter=500).fit(X32, y)
    assert model.score(X32, y) < 0.9  # overlapping classes (separable data fit to 1.0)


def test_non_separable_unpenalised_data_do_not_warn(small_binary):
    X, y = small_binary
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LogisticRegression(None).fit(X, y)


# -- the certificate --------------------------------------------------------------------------------


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_convergence_trace_is_a_certificate(breast_cancer, penalty, solver):
    if penalty != "l2" and solver == "lbfgs":
        pytest.skip("lbfgs is L2 only")
    X, y = breast_cancer
    model = LogisticRegression(penalty, l1_ratio=0.5 if penalty == "elasticnet" else None,
                               solver=solver, tol=1e-8).fit(X, y)  # fmt: skip
    trace = model.convergence_
    assert isinstance(trace, Trace)
    assert len(trace) == model.n_iter_[0] + 1
    assert trace.objective[-1] == pytest.approx(model.objective_)
    assert np.all(np.diff(trace.objective) <= 1e-12 * abs(trace.objective[0]))  # monotone
    assert trace.optimality[-1] <= 1e-8 * len(y)  # tol times C * sum of weights
    assert np.all(np.diff(trace.time) >= 0)


def test_newton_converges_quadratically(breast_cancer):
    """Near the optimum each Newton step roughly squares the (scaled) gradient norm."""
    X, y = breast_cancer
    model = LogisticRegression(tol=1e-14, solver="newton-cholesky").fit(X, y)
    g = model.convergence_.optimality / len(y)
    phase = np.flatnonzero((g[:-1] < 1e-3) & (g[1:] > 1e-13))  # before the rounding floor
    assert len(phase) >= 2
    assert np.all(g[phase + 1] <= 1e3 * g[phase] ** 2), g  # g_{k+1} <= M g_k^2
    assert model.n_iter_[0] <= 12


def test_l1_gives_exact_zeros_and_elasticnet_fewer(breast_cancer):
    X, y = breast_cancer
    l1 = LogisticRegression("l1", C=0.05).fit(X, y)
    enet = LogisticRegression("elasticnet", C=0.05, l1_ratio=0.5).fit(X, y)
    l2 = LogisticRegression("l2", C=0.05).fit(X, y)
    assert 0 < np.sum(l1.coef_ == 0) < X.shape[1]
    assert np.sum(enet.coef_ == 0) < np.sum(l1.coef_ == 0)
    assert np.sum(l2.coef_ == 0) == 0


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_warm_start_restarts_from_the_solution(wine, penalty):
    X, y = wine
    model = LogisticRegression(penalty, warm_start=True, tol=1e-8).fit(X, y)
    first = model.objective_
    model.fit(X, y)
    assert model.n_iter_[0] <= 1
    assert model.objective_ == pytest.approx(first, rel=1e-10)


def test_verbose_prints_the_objective(breast_cancer, capsys):
    X, y = breast_cancer
    LogisticRegression(verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "objective" in out and "optimality" in out
    assert len(out.strip().splitlines()) >= 3


def test_newton_auto_picks_cholesky_for_small_dense_and_cg_for_sparse(breast_cancer, sparse_binary):
    for X, y in (breast_cancer, sparse_binary):
        auto = LogisticRegression(tol=1e-10).fit(X, y)
        chosen = "newton-cg" if sparse.issparse(X) else "newton-cholesky"
        forced = LogisticRegression(solver=chosen, tol=1e-10).fit(X, y)
        np.testing.assert_array_equal(auto.coef_, forced.coef_)


# -- the scikit-learn ecosystem -----------------------------------------------------------------------


def test_pipeline_grid_search_and_cross_val_score(breast_cancer):
    X, y = breast_cancer
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.95
    grid = GridSearchCV(pipe, {"logisticregression__C": [0.01, 1.0],
                               "logisticregression__penalty": ["l1", "l2"]}, cv=3)  # fmt: skip
    grid.fit(X, y)
    assert grid.best_score_ > 0.95


def test_separable_multiclass_unpenalised_data_warn(iris):
    X, y = iris
    keep = np.isin(np.arange(len(y)), np.r_[0:10, 50:60, 100:110])
    with pytest.warns(ConvergenceWarning, match="linearly separable"):
        LogisticRegression(None).fit(X[keep] * 10, y[keep])


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_with_64_bit_indices_is_fitted(sparse_binary, fmt):
    # scipy gives int64 indices to matrices built from large parts; they used to be refused with
    # scikit-learn's message asking for a report on its tracker.
    X, y = sparse_binary
    X = X.asformat(fmt)
    wide = X.copy()
    wide.indices, wide.indptr = wide.indices.astype(np.int64), wide.indptr.astype(np.int64)
    for params in ({}, {"penalty": "l1"}, {"solver": "sgd", "max_iter": 3, "tol": None}):
        model = LogisticRegression(**params, random_state=0).fit(wide, y)
        reference = LogisticRegression(**params, random_state=0).fit(X, y)
        np.testing.assert_array_equal(model.coef_, reference.coef_)
    assert wide.indices.dtype == np.int64  # not modified


def test_unsorted_csc_input_is_not_modified(sparse_binary):
    X, y = sparse_binary
    csc = X.tocsc()
    order = np.arange(csc.nnz)
    for j in range(csc.shape[1]):  # reverse the row order inside each column
        a, b = csc.indptr[j], csc.indptr[j + 1]
        order[a:b] = order[a:b][::-1]
    unsorted = sparse.csc_matrix((csc.data[order], csc.indices[order], csc.indptr), csc.shape)
    before = (unsorted.data.copy(), unsorted.indices.copy())
    for fit_intercept in (True, False):
        LogisticRegression("l1", fit_intercept=fit_intercept).fit(unsorted, y)
    np.testing.assert_array_equal(unsorted.data, before[0])
    np.testing.assert_array_equal(unsorted.indices, before[1])


@pytest.mark.parametrize("container", [np.asarray, sparse.csr_matrix])
def test_quasi_complete_separation_warns(container):
    """Rows at x = 0 carry both labels, all others are separated by the sign of x: the
    maximum-likelihood estimate does not exist although no direction separates strictly."""
    x = np.r_[np.zeros(5), np.linspace(1, 3, 10), -np.linspace(1, 3, 10)]
    y = np.r_[0, 1, 0, 1, 0, np.ones(10), np.zeros(10)].astype(int)
    with pytest.warns(ConvergenceWarning, match="linearly separable"):
        LogisticRegression(None).fit(container(x[:, None]), y)
    # the same rows with one positive at negative x overlap: the optimum exists, no warning
    y_overlap = y.copy()
    y_overlap[-1] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LogisticRegression(None).fit(container(x[:, None]), y_overlap)


def test_duality_gap_certifies_the_newton_solution(breast_cancer, wine):
    # The gap bounds the distance to the optimum (here from a fit at tol=1e-13) from above, and
    # at tol=1e-8 it is small: at rounding level for L2 (Newton converges quadratically); for L1
    # the dual point is built from the primal one and the measured gaps are 1e-7 to 4e-7 of F.
    for X, y in (breast_cancer, wine):
        for penalty, bound in (("l2", 1e-11), ("l1", 1e-5)):
            model = LogisticRegression(penalty=penalty, C=0.5, tol=1e-8).fit(X, y)
            tight = LogisticRegression(penalty=penalty, C=0.5, tol=1e-13).fit(X, y)
            assert 0 <= model.duality_gap_ <= bound * model.objective_
            assert model.objective_ - tight.objective_ <= model.duality_gap_ + 1e-12
    with pytest.warns(ConvergenceWarning):
        unpenalised = LogisticRegression(penalty=None, max_iter=5).fit(*wine)
    assert np.isnan(unpenalised.duality_gap_)


@pytest.mark.parametrize("container", [np.asarray, sparse.csr_array, sparse.csc_array])
@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(penalty="l1", C=0.3),
        dict(penalty="elasticnet", l1_ratio=0.5, class_weight="balanced"),
        dict(solver="sgd", max_iter=3, tol=None, random_state=0),
        dict(fit_intercept=False, C=100.0),
        dict(solver="lbfgs", C=100.0),
        dict(solver="newton-cg", C=1000.0, tol=1e-3),
    ],
    ids=["l2", "l1", "elasticnet-balanced", "sgd", "no-intercept", "lbfgs", "newton-cg"],
)
def test_stored_duality_gap_is_the_public_checkers(wine, container, params):
    # fit certifies itself from the arrays it has already checked (no second validation pass),
    # or keeps the plain gap its solver's stopping test computed at the solution (also where
    # that test refined its dual point); the number must be the one check_kkt computes from the
    # raw input, for every input kind.
    X, y = wine
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(**params).fit(container(X), y, sample_weight=weights)
    expected = duality_gaps(model, X, y, sample_weight=weights)[0]
    assert np.isfinite(model.duality_gap_)
    assert model.duality_gap_ == pytest.approx(expected, rel=1e-9, abs=1e-9 * model.objective_)


def test_fit_certifies_without_the_advices_passes(wine, monkeypatch):
    # fit keeps only duality_gap_; the scores' rounding (two passes over |X|, for the advice of a
    # failing stationarity) took 67 ms of a 0.65 s SGD fit on bench_sgd's CSR case. check_kkt
    # still computes it for the same model (the patched function is the one it calls).
    from mlbasics.optimality import _logistic as certificate

    calls = []
    original = certificate._stationarity_rounding

    def counted(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(certificate, "_stationarity_rounding", counted)
    X, y = wine
    model = LogisticRegression(solver="sgd", max_iter=2, tol=None, random_state=0).fit(X, y)
    assert np.isfinite(model.duality_gap_) and calls == []
    report = check_kkt(model, X, y, tol=1e-3)
    assert not report.ok and len(calls) == 1
    assert report.duality_gap == pytest.approx(model.duality_gap_, rel=1e-9)


@pytest.mark.parametrize("how", ["C", "sample_weight", "class_weight"])
def test_a_weight_total_beyond_float64_is_refused_by_name(small_binary, how):
    # C * sum(s) = inf: the solvers' scale was inf, the scaled gradient 0, and C = 1e307 stopped
    # at once, converged_, with coefficients a third of the optimum's (Newton) or zero.
    X, y = small_binary
    huge = {"C": dict(C=1e307), "class_weight": dict(class_weight={0: 1e307, 1: 1e307})}
    model = LogisticRegression(**huge.get(how, {}))
    weights = np.full(len(y), 1e307) if how == "sample_weight" else None
    for solver in ("newton", "lbfgs", "sgd"):
        with pytest.raises(ValueError, match="C times the sum of the sample weights"):
            model.set_params(solver=solver).fit(X, y, sample_weight=weights)
    with pytest.raises(ValueError, match="C times the sum of the sample weights"):
        LogisticRegression(solver="sgd", **huge.get(how, {})).partial_fit(
            X, y, classes=[0, 1], sample_weight=weights
        )
    # just below the limit: fitted without an overflow warning, to scikit-learn's large-C model
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        below = LogisticRegression(C=0.9e305 / len(y), tol=1e-10, max_iter=1000).fit(X, y)
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression

    reference = SkLogisticRegression(C=1e10, tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(below.coef_, reference.coef_, rtol=1e-5)


@pytest.mark.parametrize(
    "params, fit_args",
    [({"max_iter": 1}, {}), ({"solver": "sgd", "max_iter": 2, "random_state": 0}, {}),
     ({"penalty": "l2", "l1_ratio": 0.5}, {}), ({"solver": "sgd", "random_state": 0}, {"scale": 100.0})],
    ids=["newton max_iter", "sgd max_iter", "l1_ratio ignored", "sgd above the zero model"],
)  # fmt: skip
def test_warnings_point_at_the_callers_line(breast_cancer, params, fit_args):
    # a fixed stacklevel named scikit-learn's callback wrapper around fit (or, from partial_fit,
    # a frame above the caller's)
    X, y = breast_cancer
    X = X * fit_args.get("scale", 1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LogisticRegression(**params).fit(X, y)
        if params.get("solver") == "sgd":
            LogisticRegression(**params).partial_fit(X, y, classes=[0, 1])
    assert caught and all(w.filename == __file__ for w in caught)


def test_warnings_through_scikit_learn_point_at_the_callers_line(breast_cancer):
    # scikit-learn's frames (Pipeline, GridSearchCV, cross_val_score through joblib) sit between
    # the caller and fit: the warnings named pipeline.py, _validation.py or joblib's parallel.py
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = breast_cancer
    model = LogisticRegression(max_iter=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_pipeline(StandardScaler(), model).fit(X, y)
        GridSearchCV(model, {"C": [1.0]}, cv=2).fit(X, y)
        cross_val_score(model, X, y, cv=2)
    assert len(caught) >= 3 and all(w.filename == __file__ for w in caught)


def test_a_warning_in_a_worker_thread_names_no_python_pool(breast_cancer):
    # a worker's stack holds no user frame: skipping every library frame ended in Python's
    # multiprocessing/pool.py; the first frame outside mlbasics (scikit-learn's) is named instead
    import joblib
    from sklearn.model_selection import cross_val_score

    X, y = breast_cancer
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with joblib.parallel_backend("threading", n_jobs=2):
            cross_val_score(LogisticRegression(max_iter=1), X, y, cv=2, n_jobs=2)
    assert caught
    assert all("sklearn" in w.filename and "callback" not in w.filename for w in caught)
