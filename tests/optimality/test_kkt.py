"""check_kkt passes on solved problems, fails (naming the condition) on perturbed ones."""

from __future__ import annotations

import copy
import warnings

import cvxpy as cp
import numpy as np
import pytest
from scipy import sparse
from sklearn import linear_model as sk_linear
from sklearn import svm as sk_svm
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from mlbasics import SVC, LogisticRegression
from mlbasics.optimality import CONDITIONS, KKTReport, assert_kkt, check_kkt, duality_gaps
from mlbasics.optimality._report import N_WORST, worst_indices

SVCS = {"mlbasics": SVC, "sklearn": sk_svm.SVC}


def fitted(kind, X, y, **params):
    return SVCS[kind](**params).fit(X, y)


# -- passes on converged models ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mlbasics", "sklearn"])
@pytest.mark.parametrize("kernel", ["rbf", "linear", "poly"])
@pytest.mark.parametrize("dataset", ["breast_cancer", "wine"])
def test_converged_svc_passes(kind, kernel, dataset, request):
    X, y = request.getfixturevalue(dataset)
    model = fitted(kind, X, y, kernel=kernel, C=1.0, tol=1e-3)
    report = check_kkt(model, X, y, tol=1e-3)
    assert report.ok, str(report)
    assert set(report.violations) == set(CONDITIONS)
    assert report.duality_gap >= -1e-9 * report.primal_objective  # weak duality
    # at tol=1e-6 the solvers leave residuals below 1e-6
    tight = fitted(kind, X, y, kernel=kernel, C=1.0, tol=1e-6)
    assert_kkt(tight, X, y, tol=1e-5)


@pytest.mark.parametrize("loss", ["squared_hinge", "logistic"])
def test_our_surrogate_svcs_pass(breast_cancer, wine, loss):
    for X, y in (breast_cancer, wine):
        model = SVC(loss=loss, tol=1e-4).fit(X, y)
        assert_kkt(model, X, y, tol=1e-3)
        # the loss's own condition replaces complementary slackness
        assert "complementary slackness" not in check_kkt(model, X, y).violations


def test_sklearn_svc_after_sparse_fit_with_weights_passes(breast_cancer):
    X, y = breast_cancer
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    X_csr = sparse.csr_matrix(X)
    model = sk_svm.SVC(C=3.0, class_weight="balanced").fit(X_csr, y, sample_weight=weights)
    assert sparse.issparse(model.dual_coef_)
    assert_kkt(model, X_csr, y, sample_weight=weights)
    # without the weights the bounds C_i are wrong, and the checker sees it
    assert not check_kkt(model, X_csr, y).ok


def test_precomputed_kernel_and_pipeline(wine):
    X, y = wine
    gram = X @ X.T
    assert_kkt(sk_svm.SVC(kernel="precomputed").fit(gram, y), gram, y)
    raw = X * 10 + 3
    pipe = make_pipeline(StandardScaler(), SVC()).fit(raw, y)
    assert_kkt(pipe, raw, y)


def test_duality_gap_equals_primal_minus_dual_of_libsvm(breast_cancer):
    """The gap of the report is P - D computed from the formulas by hand."""
    X, y = breast_cancer
    C = 0.5
    model = sk_svm.SVC(kernel="linear", C=C).fit(X, y)
    coef = model.dual_coef_[0]
    w = coef @ model.support_vectors_
    signs = np.where(y == 1, 1.0, -1.0)
    margins = signs * (X @ w + model.intercept_[0])
    primal = 0.5 * w @ w + C * np.maximum(0, 1 - margins).sum()
    dual = np.abs(coef).sum() - 0.5 * w @ w
    report = check_kkt(model, X, y)
    np.testing.assert_allclose(report.primal_objective, primal, rtol=1e-10)
    np.testing.assert_allclose(report.dual_objective, dual, rtol=1e-10)
    np.testing.assert_allclose(duality_gaps(model, X, y), [primal - dual], rtol=1e-8)


# -- fails, naming the condition, on perturbed models ------------------------------------------


def svm_alpha_positions(model, y, pair=0):
    """(free, at_upper) positions in dual_coef_[0] of a binary model's support vectors."""
    C = model.C
    alpha = np.abs(model.dual_coef_[pair])
    return np.flatnonzero((alpha > 1e-6 * C) & (alpha < (1 - 1e-6) * C)), np.flatnonzero(
        alpha >= (1 - 1e-6) * C
    )


def mutate(model, **changes):
    bad = copy.deepcopy(model)
    for name, fn in changes.items():
        setattr(bad, name, fn(np.array(getattr(bad, name), dtype=float)))
    return bad


@pytest.fixture(params=["mlbasics", "sklearn"])
def binary_svc(request, breast_cancer):
    X, y = breast_cancer
    return fitted(request.param, X, y, C=1.0, tol=1e-6), X, y


def test_alpha_off_the_box_fails_dual_feasibility(binary_svc):
    model, X, y = binary_svc
    _, at_upper = svm_alpha_positions(model, y)

    def push(c):
        c[0, at_upper[0]] *= 1.2
        return c

    report = check_kkt(mutate(model, dual_coef_=push), X, y)
    assert "dual feasibility" in report.failed
    np.testing.assert_allclose(report.violations["dual feasibility"], 0.2, rtol=1e-6)


def test_broken_balance_fails_stationarity(binary_svc):
    model, X, y = binary_svc

    def shrink_positive(c):
        c[0, c[0] > 0] *= 0.99
        return c

    report = check_kkt(mutate(model, dual_coef_=shrink_positive), X, y)
    assert "stationarity" in report.failed


def test_nudged_free_alpha_fails(binary_svc):
    model, X, y = binary_svc
    free, _ = svm_alpha_positions(model, y)

    def nudge(c):
        c[0, free[0]] += 0.05 * np.sign(c[0, free[0]])
        return c

    report = check_kkt(mutate(model, dual_coef_=nudge), X, y)
    assert {"stationarity", "complementary slackness"} <= set(report.failed)
    assert model.support_[free[0]] in report.worst["complementary slackness"]


def test_shifted_intercept_fails_complementary_slackness(binary_svc):
    model, X, y = binary_svc
    report = check_kkt(mutate(model, intercept_=lambda b: b + 0.05), X, y)
    assert "complementary slackness" in report.failed
    assert "stationarity" not in report.failed
    np.testing.assert_allclose(report.violations["complementary slackness"], 0.05, rtol=0.05)


@pytest.mark.parametrize("kind", ["mlbasics", "sklearn"])
def test_multiclass_mutations_fail(wine, kind):
    X, y = wine
    model = fitted(kind, X, y, tol=1e-6)
    assert_kkt(model, X, y, tol=1e-5)
    shifted = mutate(model, intercept_=lambda b: b + np.array([0.0, 0.05, 0.0]))
    assert "complementary slackness" in check_kkt(shifted, X, y).failed

    def off_box(c):
        c[0, np.argmax(np.abs(c[0]))] *= 1.5
        return c

    assert "dual feasibility" in check_kkt(mutate(model, dual_coef_=off_box), X, y).failed


def test_assert_kkt_raises_with_the_report(binary_svc):
    model, X, y = binary_svc
    bad = mutate(model, intercept_=lambda b: b + 0.1)
    with pytest.raises(AssertionError, match=r"FAILED: .*complementary slackness"):
        assert_kkt(bad, X, y)
    report = check_kkt(bad, X, y)
    assert not bool(report)
    assert "VIOLATED" in str(report) and "worst samples" in str(report)


# -- logistic regression -----------------------------------------------------------------------

LOGISTIC_CASES = {
    "ours-l2": lambda: LogisticRegression(C=1.0, tol=1e-8),
    "ours-l1": lambda: LogisticRegression(penalty="l1", C=0.1, tol=1e-8),
    "ours-en": lambda: LogisticRegression(penalty="elasticnet", l1_ratio=0.5, C=0.5, tol=1e-8),
    "sk-l2": lambda: sk_linear.LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000),
    "sk-l1": lambda: sk_linear.LogisticRegression(
        C=0.1, l1_ratio=1.0, solver="saga", tol=1e-10, max_iter=20_000
    ),
    "sk-liblinear": lambda: sk_linear.LogisticRegression(solver="liblinear", tol=1e-10),
}


@pytest.mark.parametrize("case", sorted(LOGISTIC_CASES))
def test_converged_logistic_regression_passes(breast_cancer, wine, case):
    for X, y in (breast_cancer, wine):
        if case == "sk-liblinear" and len(np.unique(y)) > 2:
            continue  # liblinear is binary only
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # saga's and the penalty's deprecation chatter
            model = LOGISTIC_CASES[case]().fit(X, y)
        report = assert_kkt(model, X, y, tol=1e-5)
        assert report.duality_gap >= -1e-8 * report.primal_objective


def test_l1_zero_coefficient_set_to_epsilon_fails(breast_cancer):
    X, y = breast_cancer
    model = LogisticRegression(penalty="l1", C=0.1, tol=1e-8).fit(X, y)
    zeros = np.flatnonzero(model.coef_[0] == 0)
    assert zeros.size
    bad = mutate(model, coef_=lambda w: w + np.where(np.arange(w.size) == zeros[0], 1e-3, 0.0))
    report = check_kkt(bad, X, y, tol=1e-4)
    assert report.failed[0] == "stationarity"
    assert report.worst["stationarity"][0] == zeros[0]


def cvxpy_primal(X, y, C, l1, l2, weights=None):
    """min sum c_i log(1 + exp(-s_i (x_i'w + b))) + l1 |w|_1 + l2/2 |w|^2, by cvxpy."""
    s = np.where(y == 1, 1.0, -1.0)
    c = C * (np.ones(len(y)) if weights is None else weights)
    w, b = cp.Variable(X.shape[1]), cp.Variable()
    data = cp.sum(cp.multiply(c, cp.logistic(-cp.multiply(s, X @ w + b))))
    objective = data + l1 * cp.norm1(w) + 0.5 * l2 * cp.sum_squares(w)
    problem = cp.Problem(cp.Minimize(objective), [])
    problem.solve(solver=cp.CLARABEL)
    return problem.value, w, b, objective


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
def test_logistic_gap_matches_the_cvxpy_primal_dual_difference(breast_cancer, penalty):
    X, y = breast_cancer
    X, y = X[:300], y[:300]
    C = 0.3
    l1, l2 = {"l2": (0.0, 1.0), "l1": (1.0, 0.0), "elasticnet": (0.5, 0.5)}[penalty]
    p_star, w, b, objective = cvxpy_primal(X, y, C, l1, l2)
    params = {"penalty": penalty, "C": C, "l1_ratio": 0.5 if penalty == "elasticnet" else None}

    # converged: the gap is the (tiny) difference P(w) - p*, and D <= p* <= P
    model = LogisticRegression(**params, tol=1e-10).fit(X, y)
    report = check_kkt(model, X, y)
    w.value, b.value = model.coef_[0], model.intercept_[0]
    np.testing.assert_allclose(report.primal_objective, objective.value, rtol=1e-12)
    assert report.dual_objective <= p_star * (1 + 1e-7)
    np.testing.assert_allclose(report.duality_gap, report.primal_objective - p_star, atol=1e-6)

    # stopped early: P - D still bounds the suboptimality P - p*, and D is a lower bound
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        early = LogisticRegression(**params, max_iter=1).fit(X, y)
    rough = check_kkt(early, X, y)
    w.value, b.value = early.coef_[0], early.intercept_[0]
    np.testing.assert_allclose(rough.primal_objective, objective.value, rtol=1e-12)
    assert rough.primal_objective - p_star > 1e-4  # really not converged
    assert rough.dual_objective <= p_star * (1 + 1e-7)
    assert rough.duality_gap >= rough.primal_objective - p_star


def test_logistic_dual_optimum_equals_primal_optimum(breast_cancer):
    """The dual of the docs (entropy, intercept constraint, L2 conjugate) has d* = p*."""
    X, y = breast_cancer
    X, y = X[:200], y[:200]
    C = 0.5
    p_star, *_ = cvxpy_primal(X, y, C, 0.0, 1.0)
    s = np.where(y == 1, 1.0, -1.0)
    u = cp.Variable(len(y))  # theta_i = C u_i s_i, u in [0, 1]
    entropy = C * cp.sum(cp.entr(u) + cp.entr(1 - u))
    v = X.T @ cp.multiply(C * s, u)
    problem = cp.Problem(cp.Maximize(entropy - 0.5 * cp.sum_squares(v)), [s @ u == 0])
    problem.solve(solver=cp.CLARABEL)
    np.testing.assert_allclose(problem.value, p_star, rtol=1e-6)
    report = check_kkt(LogisticRegression(C=C, tol=1e-10).fit(X, y), X, y)
    np.testing.assert_allclose(report.dual_objective, problem.value, rtol=1e-6)


@pytest.mark.parametrize(
    "offset, spread, fraction",
    [(0.0, 1.0, 0.5), (3.0, 0.1, 0.5), (-40.0, 5.0, 0.01), (0.0, 30.0, 0.999), (25.0, 1e-3, 1e-6)],
)
def test_binary_balancing_shift_is_the_root_scipy_finds(offset, spread, fraction):
    """The intercept shift that balances the dual point (Newton in a bracket) against brentq."""
    from scipy.optimize import brentq
    from scipy.special import expit

    from mlbasics.optimality._logistic import _balancing_shift

    rng = np.random.default_rng(0)
    z = offset + spread * rng.standard_normal(500)
    c = rng.uniform(0.5, 2.0, 500)
    target = fraction * c.sum()

    def f(d):
        return float(c @ expit(z + d)) - target

    lo, hi = -1.0, 1.0
    while f(lo) > 0:
        lo *= 2.0
    while f(hi) < 0:
        hi *= 2.0
    expected = brentq(f, lo, hi, xtol=1e-15, rtol=1e-15)
    d = _balancing_shift(z, c, target)
    assert d == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert abs(f(d)) <= abs(f(np.nextafter(d, np.inf))) + abs(f(np.nextafter(d, -np.inf)))


def test_multinomial_gap_is_small_and_nonnegative(wine):
    X, y = wine
    for model in (LogisticRegression(C=0.5, tol=1e-10), sk_linear.LogisticRegression(C=0.5)):
        report = check_kkt(model.fit(X, y), X, y)
        assert report.ok, str(report)
        assert -1e-9 <= report.duality_gap <= 1e-3 * report.primal_objective


# -- what it cannot judge ---------------------------------------------------------------------


def test_unsupported_models_get_a_type_error_naming_what_is_missing(breast_cancer):
    X, y = breast_cancer
    tree = DecisionTreeClassifier(max_depth=2).fit(X, y)
    with pytest.raises(TypeError, match="missing: dual_coef_, support_"):
        check_kkt(tree, X, y)
    with pytest.raises(TypeError, match="KMeans"):
        check_kkt(KMeans(2, n_init=1).fit(X), X, y)
    sgd = sk_linear.SGDClassifier(loss="hinge").fit(X, y)
    with pytest.raises(TypeError, match="missing: C"):
        check_kkt(sgd, X, y)
    with pytest.raises(TypeError, match="missing"):
        check_kkt(SVC(), X, y)  # not fitted


def test_wrong_data_is_a_value_error(breast_cancer, wine):
    X, y = breast_cancer
    model = sk_svm.SVC().fit(X, y)
    with pytest.raises(ValueError, match="fitted on 569"):
        check_kkt(model, X[:100], y[:100])
    with pytest.raises(ValueError, match="not the training data"):
        check_kkt(model, X[::-1], y[::-1])
    with pytest.raises(ValueError, match="labels the model was not fitted on"):
        check_kkt(model, X, y + 5)
    with pytest.raises(ValueError, match="one label per row"):
        check_kkt(model, X, y[:-1])
    with pytest.raises(ValueError, match="tol must be a positive"):
        check_kkt(model, X, y, tol=0)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        check_kkt(model, X_nan, y)


def test_report_fields_and_string(breast_cancer):
    X, y = breast_cancer
    report = check_kkt(SVC().fit(X, y), X, y)
    assert isinstance(report, KKTReport)
    assert bool(report) is report.ok is True
    assert report.failed == []
    text = str(report)
    for name in CONDITIONS:
        assert name in text
    np.testing.assert_allclose(
        report.duality_gap, report.primal_objective - report.dual_objective, rtol=1e-12
    )


def test_worst_indices_are_the_largest_positive_residuals_in_stable_order():
    """The partial selection before the sort keeps what a full stable sort would: the N_WORST
    largest positive residuals, worst first, ties in the order of the index."""
    rng = np.random.default_rng(0)
    for trial in range(500):
        n = int(rng.integers(1, 40))
        if trial % 2:  # many ties
            residual = rng.integers(-3, 4, size=n).astype(float)
        else:
            residual = rng.standard_normal(n)
        index = rng.permutation(n) + 100
        positive = [i for i in range(n) if residual[i] > 0]
        expected = sorted(positive, key=lambda i: (-residual[i], i))[:N_WORST]
        np.testing.assert_array_equal(worst_indices(residual, index), index[expected])
