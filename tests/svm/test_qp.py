"""The cvxpy duals (solver="qp") against SMO, against the primal, and their error paths."""

from __future__ import annotations

import warnings

import cvxpy as cp
import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC as LibSVC

from mlbasics import SVC
from mlbasics.kernels import KernelSpec, resolve_gamma
from mlbasics.optimality import check_kkt
from mlbasics.svm import _qp
from mlbasics.svm._classes import _qp_short_of_tol
from mlbasics.svm._qp import kernel_factor, primal_linear_qp, solve_dual_qp
from mlbasics.svm._smo import solve_dual

LOSSES = ["hinge", "squared_hinge", "logistic"]
PSD_KERNELS = ["linear", "rbf", "poly"]


def binary(X, y):
    """Labels in {-1, +1} of a 0/1 problem."""
    return np.where(y == 1, 1.0, -1.0)


def spec_for(kernel, X):
    return KernelSpec(kernel, resolve_gamma("scale", X), 1.0 if kernel == "poly" else 0.0, 3)


def assert_qp_matches_smo(X, y, upper, spec, loss):
    qp = solve_dual_qp(X, y, upper, spec, loss=loss)
    smo = solve_dual(X, y, upper, spec, loss=loss, tol=1e-7)
    assert qp.converged
    np.testing.assert_allclose(qp.objective, smo.objective, rtol=1e-4)
    np.testing.assert_allclose(qp.rho, smo.rho, atol=1e-3)
    return qp, smo


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("kernel", PSD_KERNELS)
def test_qp_matches_smo_dual_objective_and_intercept(breast_cancer, kernel, loss):
    X, y = breast_cancer
    X, y = X[:350], y[:350]
    upper = np.full(len(y), 0.8)
    assert_qp_matches_smo(X, binary(X, y), upper, spec_for(kernel, X), loss)


@pytest.mark.parametrize("working_sets", [False, True])
@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_a_small_C_takes_libsvms_intercept_not_an_arbitrary_optimal_one(
    loss, working_sets, monkeypatch
):
    # At C = 1e-5 every alpha_i is at a bound (hinge) or the margins leave b a whole interval of
    # optimal values: the multiplier of y'alpha = 0 is one of them, and one of size 1e-3 beside
    # kernel terms of 1e-5 made every prediction the same class. libsvm takes the midpoint.
    X, y = make_classification(60, 4, random_state=1, flip_y=0.1)
    X = StandardScaler().fit_transform(X)
    if working_sets:
        monkeypatch.setattr(_qp, "WORKING_SET_MIN", 20)
        monkeypatch.setattr(_qp, "FIRST_WORKING_SET", 30)
    qp = SVC(C=1e-5, loss=loss, solver="qp").fit(X, y)
    smo = SVC(C=1e-5, loss=loss, tol=1e-8).fit(X, y)
    assert qp.intercept_[0] == pytest.approx(smo.intercept_[0], abs=1e-9)
    assert qp.score(X, y) == smo.score(X, y) > 0.9
    if loss == "hinge":
        assert qp.intercept_[0] == pytest.approx(LibSVC(C=1e-5).fit(X, y).intercept_[0], abs=1e-9)


@pytest.mark.parametrize("working_sets", [False, True])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("case", ["C=1e-8", "C=1e-30", "five weights 1e-9"])
def test_bounds_far_below_one_are_resolved(case, loss, working_sets, monkeypatch):
    # The interior point resolves alpha to about 1e-12 absolutely: at C = 1e-8 every variable
    # came back neither at a bound nor free (gap m - M of 2, converged_ False, "lower C" as
    # advice), at C = 1e-30 the objective was 10 times SMO's. Solved in alpha / max C_i, and
    # with the variables of tiny bounds beside large ones settled by their margins, the QP
    # model is SMO's. (The logistic intercept balanced sums of C_i / 2 in float64: their
    # rounding put b at 1e-16, far above kernel terms of 1e-30; now summed exactly, in tanh.)
    if working_sets and loss == "logistic":
        pytest.skip("the logistic dual is always solved whole")
    X, y = make_classification(60, 4, random_state=1, flip_y=0.1)
    X = StandardScaler().fit_transform(X)
    weights = np.ones(len(y))
    C = {"C=1e-8": 1e-8, "C=1e-30": 1e-30, "five weights 1e-9": 3.0}[case]
    if case == "five weights 1e-9":
        weights[:5] = 1e-9  # (logistic: kept at C_i, converged_ with a stationarity of 21)
    if working_sets:
        monkeypatch.setattr(_qp, "WORKING_SET_MIN", 20)
        monkeypatch.setattr(_qp, "FIRST_WORKING_SET", 30)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        qp = SVC(C=C, loss=loss, solver="qp").fit(X, y, sample_weight=weights)
    smo = SVC(C=C, loss=loss, tol=1e-10).fit(X, y, sample_weight=weights)
    assert qp.converged_
    np.testing.assert_allclose(qp.objective_, smo.objective_, rtol=1e-6)
    scale = np.abs(smo.decision_function(X)).max()
    np.testing.assert_allclose(qp.decision_function(X), smo.decision_function(X),
                               atol=2e-3 * scale)  # fmt: skip
    assert check_kkt(qp, X, y, sample_weight=weights).ok


@pytest.mark.parametrize("seed", [3, 4, 6, 7])
def test_the_logistic_dual_with_one_heavier_sample_is_solved(seed):
    # In alpha itself the entropy terms spanned [0, C_i]: one sample of weight 100 among 99 of
    # weight 1 (C_i K_ii about 1e3) made Clarabel fail on seeds 3, 4 and 6 ("Try another
    # qp_solver"). Written in alpha / C_i, it gives SMO's model.
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((100, 3))
    y = (X[:, 0] + 0.5 * rng.standard_normal(100) > 0).astype(int)
    weights = np.ones(100)
    weights[0] = 100.0
    qp = SVC(kernel="linear", loss="logistic", solver="qp").fit(X, y, sample_weight=weights)
    smo = SVC(kernel="linear", loss="logistic", tol=1e-10).fit(X, y, sample_weight=weights)
    assert qp.converged_
    np.testing.assert_allclose(qp.decision_function(X), smo.decision_function(X), atol=1e-5)
    assert check_kkt(qp, X, y, sample_weight=weights, tol=1e-4).ok


def test_the_logistic_dual_with_many_small_weights_reaches_smos_model():
    # 160 of 200 samples of weight below 1e-4 at C = 1000: solved in alpha, the dual ended
    # 'optimal_inaccurate' with a gap m - M of 3.9 and decision values 1.4e-3 from SMO's
    # (converged_ False); in alpha / C_i, tried first now, it is SMO's model.
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 2))
    y = (X[:, 0] * X[:, 1] + 0.3 * rng.standard_normal(200) > 0).astype(int)
    weights = np.ones(200)
    weights[40:] = 9e-5 * rng.uniform(0.1, 1.0, 160)
    qp = SVC(C=1000.0, loss="logistic", solver="qp").fit(X, y, sample_weight=weights)
    smo = SVC(C=1000.0, loss="logistic", tol=1e-9, max_iter=10**7).fit(X, y, sample_weight=weights)
    assert qp.converged_
    np.testing.assert_allclose(qp.decision_function(X), smo.decision_function(X), atol=1e-6)


def test_a_logistic_dual_that_fails_in_both_forms_says_so(monkeypatch):
    def fail(*args, **kwargs):
        raise _qp._SolverFailure("the CLARABEL solver failed")

    monkeypatch.setattr(_qp, "_solve", fail)
    X, y = make_classification(40, 3, n_informative=2, n_redundant=0, random_state=0)
    with pytest.raises(
        RuntimeError, match=r"in alpha / C_i: the CLARABEL solver failed; in alpha: the CLARABEL"
    ) as info:
        SVC(loss="logistic", solver="qp").fit(X, y)
    causes, cause = [], info.value
    while cause is not None:
        causes.append(cause)
        cause = cause.__cause__
    assert any(isinstance(c, _qp._SolverFailure) for c in causes)  # the chain is kept


def test_small_problems_with_ties_and_duplicates_give_libsvms_model():
    # Two duplicated points of opposite labels and one more: the solver left alpha 5.5e-7 off
    # its bounds, libsvm's rule left those out as unsure, the others bounded b on one side
    # only, and b = -inf was reported as an overflow "of the features" (24 of 141 such
    # problems, with invalid-value warnings). libsvm's optimum: alpha = (1, 1, 0), b = 1.
    X, y = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]]), np.array([0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        qp = SVC(kernel="linear", solver="qp").fit(X, y)
    ref = LibSVC(kernel="linear", tol=1e-10).fit(X, y)
    np.testing.assert_allclose(qp.intercept_, ref.intercept_, atol=1e-6)
    rng = np.random.default_rng(0)
    for trial in range(40):  # points on an integer grid: duplicates, conflicting labels
        n = rng.integers(3, 11)
        X, y = rng.integers(0, 3, size=(n, 2)).astype(float), rng.integers(0, 2, size=n)
        if len(set(y)) < 2:
            continue
        kernel, C = ["linear", "rbf"][trial % 2], [0.1, 1.0, 10.0][trial % 3]
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            qp = SVC(kernel=kernel, C=C, solver="qp").fit(X, y)
        ref = LibSVC(kernel=kernel, C=C, tol=1e-10).fit(X, y)
        np.testing.assert_allclose(qp.decision_function(X), ref.decision_function(X), atol=1e-4)


@pytest.mark.parametrize("working_sets", [False, True])
@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_weights_over_twelve_decades_give_smos_intercept(kernel, working_sets, monkeypatch):
    # C = 1e-7 with weights 10**U(-6, 6): variables of C_i near 1e-8 came back at 0.998 C_i,
    # neither snapped nor settled, and libsvm's mean over "free" variables took them in: b =
    # -0.68 where the two free ones (and SMO) say -0.956, complementary slackness 0.27.
    X, y = make_classification(80, 5, n_informative=3, random_state=0, flip_y=0.1)
    X = StandardScaler().fit_transform(X)
    weights = 10 ** np.random.default_rng(3).uniform(-6, 6, len(y))
    if working_sets:
        monkeypatch.setattr(_qp, "WORKING_SET_MIN", 20)
        monkeypatch.setattr(_qp, "FIRST_WORKING_SET", 30)
    qp = SVC(C=1e-7, kernel=kernel, solver="qp").fit(X, y, sample_weight=weights)
    smo = SVC(C=1e-7, kernel=kernel, tol=1e-10).fit(X, y, sample_weight=weights)
    assert qp.intercept_[0] == pytest.approx(smo.intercept_[0], abs=1e-6)
    assert qp.converged_ and check_kkt(qp, X, y, sample_weight=weights).ok


def test_a_variable_left_just_off_its_bound_is_put_on_it_by_its_margin():
    # 100 duplicated rows with flipped labels, 600 samples (working sets): one variable came
    # back at 1.5e-7 C with margin 1.0015 (its place is 0), above the bound snap of 1e-7 C;
    # the gap m - M of 1.5e-3 failed tol=1e-3 with advice to lower C, for an optimal model.
    X, y = make_classification(500, 5, random_state=4, flip_y=0.1)
    X = StandardScaler().fit_transform(X)
    X, y = np.vstack([X, X[:100]]), np.r_[y, 1 - y[:100]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        qp = SVC(C=10.0, solver="qp").fit(X, y)
    ref = LibSVC(C=10.0, tol=1e-8).fit(X, y)
    assert qp.converged_ and check_kkt(qp, X, y).ok
    np.testing.assert_allclose(qp.decision_function(X), ref.decision_function(X), atol=1e-4)


@pytest.mark.parametrize("loss", LOSSES)
def test_qp_matches_smo_with_precomputed_kernel_and_sample_bounds(breast_cancer, loss):
    X, y = breast_cancer
    X, y = X[:300], y[:300]
    gram = pairwise_kernels(X, metric="rbf", gamma=0.02)
    upper = np.random.default_rng(0).uniform(0.2, 2.0, size=len(y))
    assert_qp_matches_smo(gram, binary(X, y), upper, KernelSpec("precomputed"), loss)


@pytest.mark.parametrize("loss", LOSSES)
def test_qp_matches_smo_on_sparse_linear_data(sparse_binary, loss):
    X, y = sparse_binary
    X = X[:300, :]  # 300 samples, 300 features: the factor is the pivoted Cholesky of X X'
    assert_qp_matches_smo(X, binary(X, y[:300]), np.full(300, 0.5), KernelSpec("linear"), loss)


@pytest.mark.slow
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("kernel", PSD_KERNELS)
def test_qp_matches_smo_at_n_1000(kernel, loss):
    X, y = make_classification(1000, 20, n_informative=10, flip_y=0.05, random_state=3)
    X = StandardScaler().fit_transform(X)
    assert_qp_matches_smo(X, binary(X, y), np.ones(1000), spec_for(kernel, X), loss)


@pytest.mark.parametrize("qp_solver", ["osqp", "scs"])
def test_other_qp_solvers_agree_with_clarabel(iris, qp_solver):
    X, y = iris
    X, y = X[y > 0], np.where(y[y > 0] == 1, 1.0, -1.0)
    spec = KernelSpec("rbf", 0.25)
    for loss in ["hinge", "squared_hinge"] + (["logistic"] if qp_solver == "scs" else []):
        ref = solve_dual_qp(X, y, np.ones(len(y)), spec, loss=loss)
        other = solve_dual_qp(X, y, np.ones(len(y)), spec, loss=loss, qp_solver=qp_solver)
        np.testing.assert_allclose(other.objective, ref.objective, rtol=1e-6)
        np.testing.assert_allclose(other.rho, ref.rho, atol=1e-4)


@pytest.mark.parametrize("loss", LOSSES)
def test_linear_primal_equals_dual_strong_duality(breast_cancer, loss):
    """p* = d* (Slater holds), and w = sum_i y_i alpha_i x_i, b = -rho."""
    X, y = breast_cancer
    X, y = X[:250], binary(X, breast_cancer[1][:250])
    upper = np.full(len(y), 0.6)
    primal = primal_linear_qp(X, y, upper, loss=loss)
    dual = solve_dual_qp(X, y, upper, KernelSpec("linear"), loss=loss)
    d_star = -dual.objective
    if loss == "logistic":
        d_star += float((upper * np.log(upper)).sum())  # the constant the entropy form drops
    np.testing.assert_allclose(primal.objective, d_star, rtol=1e-7)
    np.testing.assert_allclose(X.T @ (y * dual.alpha), primal.w, atol=1e-5)
    np.testing.assert_allclose(-dual.rho, primal.b, atol=1e-5)


def test_low_rank_kernel_gets_low_rank_factor():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    F, how = kernel_factor(X, KernelSpec("poly", 1.0, 1.0, 2))  # degree 2 in 3 dims: rank 10
    assert F.shape == (300, 10), how
    np.testing.assert_allclose(
        F @ F.T, pairwise_kernels(X, metric="poly", degree=2, coef0=1.0, gamma=1.0), atol=1e-9
    )
    F_lin, _ = kernel_factor(X, KernelSpec("linear"))
    assert F_lin is X  # the data themselves


def test_factor_of_full_rank_rbf_is_exact(breast_cancer):
    X = breast_cancer[0][:200]
    F, _ = kernel_factor(X, KernelSpec("rbf", 0.05))
    np.testing.assert_allclose(F @ F.T, pairwise_kernels(X, metric="rbf", gamma=0.05), atol=1e-10)


def _float32_rbf_gram(n=300):
    """An rbf Gram matrix rounded to float32: negative eigenvalues of about 2e-9 lambda_max."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    return pairwise_kernels(X, metric="rbf", gamma=0.05).astype(np.float32), y


def test_factor_of_a_rounded_gram_matrix_is_its_clipped_matrix():
    # Pivoted Cholesky stops on the remainder's diagonal, a bound only for a PSD remainder: on a
    # float32 Gram matrix it stopped at rank 92 of 300 and left out entries of 4e-6 (||K - FF'||
    # 7.7e-5, the documented bound 3e-10: a review). The factor is now K+'s, K with its negative
    # eigenvalues clipped (numpy's eigendecomposition the reference).
    K32, _ = _float32_rbf_gram()
    K = K32.astype(np.float64)
    eigenvalues, vectors = np.linalg.eigh(K)
    assert eigenvalues[0] < 0.0
    K_plus = (vectors * np.maximum(eigenvalues, 0.0)) @ vectors.T
    F, how = kernel_factor(K32, KernelSpec("precomputed"))
    assert "clipped" in how
    assert np.linalg.norm(K_plus - F @ F.T, 2) <= 1e-9 * eigenvalues[-1]
    assert np.linalg.norm(K - F @ F.T, 2) <= 1.01 * -eigenvalues[0]


@pytest.mark.parametrize("loss", LOSSES)
def test_qp_on_a_rounded_gram_matrix_solves_the_clipped_problem(loss):
    # C = 10: converged, and within reach of SMO's solution on the same matrix (the two
    # problems, K and K+, differ by 5e-7 in the quadratic term); C = 1000: the margins on K of
    # K+'s optimum are off by more than tol, and the warning names the clipping (it said "the
    # problem is well scaled").
    K32, y = _float32_rbf_gram()
    qp = SVC(kernel="precomputed", loss=loss, solver="qp", C=10.0, tol=1e-4).fit(K32, y)
    smo = SVC(kernel="precomputed", loss=loss, C=10.0, tol=1e-6).fit(K32, y)
    assert qp.converged_
    assert qp.objective_ == pytest.approx(smo.objective_, rel=1e-7)
    with pytest.warns(ConvergenceWarning, match="which the QP clips to 0"):
        SVC(kernel="precomputed", loss=loss, solver="qp", C=1000.0, tol=1e-4).fit(K32, y)


def test_working_sets_on_a_rounded_gram_matrix_solve_the_clipped_problem():
    # 600 samples take the working sets: they coupled the blocks and picked violators on K while
    # the blocks' factors were K+'s, and ended 4e-4 short of tol on both matrices (a review).
    # The hinge dual's maximal violating pair on K+, by hand (numpy's eigendecomposition).
    K32, y = _float32_rbf_gram(600)
    K = K32.astype(np.float64)
    eigenvalues, vectors = np.linalg.eigh(K)
    K_plus = (vectors * np.maximum(eigenvalues, 0.0)) @ vectors.T
    C, tol = 1000.0, 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # (on K itself m - M is above tol)
        model = SVC(kernel="precomputed", solver="qp", C=C, tol=tol).fit(K32, y)
    signs = np.where(y == 1, 1.0, -1.0)
    coef = np.zeros(len(y))
    coef[model.support_] = model.dual_coef_[0]  # y_i alpha_i
    alpha = signs * coef
    v = -signs * (signs * (K_plus @ coef) - 1.0)
    up = ((signs > 0) & (alpha < C)) | ((signs < 0) & (alpha > 0))
    low = ((signs > 0) & (alpha > 0)) | ((signs < 0) & (alpha < C))
    assert v[up].max() - v[low].min() <= tol


@pytest.mark.parametrize("loss", LOSSES)
def test_svc_qp_passes_kkt_binary_and_multiclass(breast_cancer, wine, loss):
    # (at tol=1e-4: the interior point leaves the logistic margins near a bound a few 1e-6 off
    # on some problems, 4e-6 on breast cancer here, and a fit asked for tol=1e-6 says so with a
    # ConvergenceWarning; solver='smo' reaches them)
    for X, y in (breast_cancer, wine):
        model = SVC(solver="qp", loss=loss, C=2.0).fit(X, y)
        report = check_kkt(model, X, y, tol=1e-4)
        assert report.ok, str(report)
        smo = SVC(loss=loss, C=2.0, tol=1e-6).fit(X, y)
        np.testing.assert_allclose(model.objective_, smo.objective_, rtol=1e-4)
        np.testing.assert_allclose(model.intercept_, smo.intercept_, atol=1e-3)


@pytest.mark.parametrize("kernel, C", [("linear", 0.8), ("linear", 10.0), ("poly", 1.0)])
def test_logistic_qp_variables_it_cannot_resolve_are_settled_by_their_margin(
    breast_cancer, kernel, C
):
    # Clarabel leaves alpha_i of samples far beyond the margin at its absolute accuracy, 1e-12
    # to 1e-10 C_i, whose logit is not their margin: these converged fits failed check_kkt at
    # their own tol=1e-3, with stationarity residuals of 0.017, 0.27 and 0.011. Set from their
    # margins within 1e-10 C_i, they pass it (5e-5, 8e-4, 1.4e-4 measured), as the SMO's do.
    X, y = breast_cancer
    model = SVC(solver="qp", loss="logistic", kernel=kernel, C=C).fit(X, y)
    assert model.converged_
    report = check_kkt(model, X, y, tol=model.tol)
    assert report.ok, str(report)
    smo = SVC(loss="logistic", kernel=kernel, C=C, tol=1e-6).fit(X, y)
    np.testing.assert_allclose(model.objective_, smo.objective_, rtol=1e-6)


@pytest.mark.parametrize("seed, C", [(13, 0.1), (20, 1.0)])
def test_an_optimal_inaccurate_answer_is_judged_by_its_gap(seed, C):
    """Clarabel ends these logistic duals "almost solved" (cvxpy's 'optimal_inaccurate') at
    every tolerance it is given; the fit raised a RuntimeError, although the answer's gap m - M
    (4.4e-4 and 1.6e-4) meets tol=1e-3 and its model is SMO's. It is now kept and judged."""
    X, y = make_classification(100, 4, n_informative=3, n_redundant=0, random_state=seed)
    X = StandardScaler().fit_transform(X)
    params = {"C": C, "gamma": 0.1, "loss": "logistic"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        qp = SVC(solver="qp", **params).fit(X, y)
    smo = SVC(tol=1e-9, **params).fit(X, y)
    assert qp.converged_ and check_kkt(qp, X, y, tol=qp.tol).ok
    np.testing.assert_allclose(qp.decision_function(X), smo.decision_function(X), atol=1e-4)


def test_the_warning_says_how_the_solver_ended():
    text = _qp_short_of_tol(
        SVC(solver="qp"), 0.002, np.ones(5), 1.0,
        "the clarabel solver ended 'optimal_inaccurate', short of its own tolerances",
    )  # fmt: skip
    assert text.startswith("solver='qp': the clarabel solver ended 'optimal_inaccurate', short")
    assert "gap m - M = 0.002 is above tol=0.001" in text


def test_squared_hinge_variables_of_tiny_bound_are_set_by_their_margin():
    """Weights over six decades: the interior point's absolute error on alpha, divided by
    2 C_i in the gradient, left nine variables of C_i near 1e-5 at 1e-11 to 1e-8 with margins
    1.03 to 1.7 (optimum 0) and one at 4.1e-7 for an optimum of 2.8e-7: SMO's model, reported
    not converged (gap m - M 1.1), with nine extra support vectors, failing check_kkt."""
    X, y = make_classification(200, 8, n_informative=5, flip_y=0.1, random_state=0)
    X = StandardScaler().fit_transform(X)
    weights = 10 ** np.random.default_rng(0).uniform(-4, 2, 200)
    params = {"C": 0.1, "loss": "squared_hinge"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        qp = SVC(solver="qp", **params).fit(X, y, sample_weight=weights)
    smo = SVC(tol=1e-10, **params).fit(X, y, sample_weight=weights)
    assert qp.converged_ and check_kkt(qp, X, y, sample_weight=weights).ok
    np.testing.assert_array_equal(qp.support_, smo.support_)
    np.testing.assert_allclose(qp.decision_function(X), smo.decision_function(X), atol=1e-6)


def test_at_a_tiny_C_the_support_vectors_are_libsvms():
    """C = 1e-6: every margin is within a few 1e-6 of 1, inside the fixed band of 1e-4 that
    decided which variables the margin puts at 0, so seven variables left at 1e-7 to 8e-5 C
    by the interior point stayed support vectors (51 against libsvm's 44). The band now scales
    with the kernel term."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] + 0.8 * rng.normal(size=60) > 0.3).astype(int)
    qp = SVC(C=1e-6, solver="qp").fit(X, y)
    ref = LibSVC(C=1e-6, tol=1e-10).fit(X, y)
    np.testing.assert_array_equal(np.sort(qp.support_), np.sort(ref.support_))
    assert qp.converged_ and check_kkt(qp, X, y).ok


# -- bad input ---------------------------------------------------------------------------------


def test_too_many_samples_for_memory_is_refused_with_advice():
    X = np.random.default_rng(0).standard_normal((300_000, 2))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(MemoryError, match=r"solver='smo'"):
        SVC(solver="qp").fit(X, y)


def test_memory_estimate_grows_as_n_squared():
    assert _qp.memory_estimate(2000) == 4 * _qp.memory_estimate(1000)
    assert _qp.memory_estimate(1000, rank=10, dense=False) < _qp.memory_estimate(1000) / 10


def test_solver_not_installed_is_a_clear_error(iris, monkeypatch):
    monkeypatch.setattr(cp, "installed_solvers", lambda: ["CLARABEL", "SCS"])
    X, y = iris
    with pytest.raises(ValueError, match="OSQP solver, which is not installed"):
        SVC(solver="qp", qp_solver="osqp").fit(X, y)


def test_osqp_cannot_solve_the_logistic_dual(iris):
    X, y = iris
    with pytest.raises(ValueError, match="exponential cone"):
        SVC(solver="qp", qp_solver="osqp", loss="logistic").fit(X, y)


def test_indefinite_precomputed_kernel_is_refused(iris):
    X, y = iris
    gram = -pairwise_kernels(X, metric="rbf")  # negative definite: not a kernel
    with pytest.raises(ValueError, match="not positive semidefinite"):
        SVC(solver="qp", kernel="precomputed").fit(gram, y)
    similarity = np.tanh(X @ X.T + 1.0)  # a sigmoid "kernel": indefinite on these data
    with pytest.raises(ValueError, match="smallest eigenvalue"):
        SVC(solver="qp", kernel="precomputed").fit(similarity, y)


def test_sigmoid_kernel_outside_its_psd_range_is_refused(breast_cancer):
    X, y = breast_cancer
    with pytest.raises(ValueError, match="sigmoid kernel matrix is not positive semidefinite"):
        SVC(solver="qp", kernel="sigmoid").fit(X, y)


def test_rounding_level_negative_eigenvalues_are_accepted(iris):
    X, y = iris
    gram = X @ X.T  # rank 4: 146 zero eigenvalues that rounding moves both ways
    noisy = gram + 1e-9 * np.random.default_rng(0).standard_normal(gram.shape)
    noisy = (noisy + noisy.T) / 2  # tiny negative eigenvalues, inside INDEFINITE_RTOL
    eigenvalues = np.linalg.eigvalsh(noisy)
    assert -_qp.INDEFINITE_RTOL * eigenvalues[-1] < eigenvalues[0] < 0
    model = SVC(solver="qp", kernel="precomputed").fit(noisy, y)
    ref = SVC(solver="qp", kernel="precomputed").fit(gram, y)
    np.testing.assert_allclose(model.objective_, ref.objective_, rtol=1e-5)


def test_asymmetric_or_nonfinite_precomputed_kernel_is_refused(iris):
    X, y = iris
    gram = pairwise_kernels(X, metric="rbf")
    gram[0, 1] += 0.5
    with pytest.raises(ValueError, match="not symmetric"):
        SVC(solver="qp", kernel="precomputed").fit(gram, y)


def test_a_solver_that_stops_early_is_an_error_naming_solver_and_status(iris, monkeypatch):
    monkeypatch.setitem(_qp._SOLVER_OPTIONS, "osqp", {"max_iter": 2, "polishing": False})
    X, y = iris
    with pytest.raises(RuntimeError, match=r"OSQP solver stopped with status '.*'") as error:
        SVC(solver="qp", qp_solver="osqp").fit(X, y)
    # C = 1 on standardised data: nothing to blame on the scale
    assert "another qp_solver" in str(error.value) and "scaled" not in str(error.value)
    assert str(error.value).startswith("on the problem 0 vs 1: ")  # three classes: which pair


def test_clarabel_stuck_at_the_tight_tolerances_is_solved_at_looser_ones():
    """A poly kernel of rank 10 on 20 samples (the problems 0 vs 3, a class of one sample, and 1 vs
    2): Clarabel raised "insufficient progress" at tol_feas = 1e-12 (its primal residual rose to
    2.6e-10 at the last steps), a RuntimeError that blamed C and the features' scale. The looser
    attempt it now falls back to solves it: the same model as OSQP's and SMO's."""
    X, _ = make_classification(40, 3, n_informative=2, n_redundant=0, random_state=0)
    y = np.digitize(X[:, 0], [-0.4, 0.4])
    y[0] = 3
    params = {"kernel": "poly", "loss": "squared_hinge"}
    model = SVC(solver="qp", **params).fit(X, y)
    assert model.converged_
    for reference in (
        SVC(solver="qp", qp_solver="osqp", **params).fit(X, y),
        SVC(tol=1e-10, **params).fit(X, y),
    ):
        np.testing.assert_allclose(model.objective_, reference.objective_, rtol=1e-8)
        np.testing.assert_allclose(
            model.decision_function(X), reference.decision_function(X), atol=1e-7
        )


@pytest.mark.parametrize("loss", ["hinge", "logistic"])
@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_qp_on_a_C_far_above_the_kernel_is_a_value_error_naming_C(kernel, loss):
    """C = 1e12 on standardised noisy data: Clarabel ends the hinge dual (bounded by its box) with
    the status "unbounded" and the logistic one with "infeasible" or a failure. The dual variables
    then span twelve orders of magnitude; the error says so, and to lower C."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] + 0.5 * rng.standard_normal(40) > 0).astype(int)
    with pytest.raises(ValueError, match=r"badly scaled.*C_i up to 1e\+12.*smaller C"):
        SVC(solver="qp", kernel=kernel, loss=loss, C=1e12).fit(X, y)


@pytest.mark.parametrize("failure", ["status", "raises"])
def test_a_working_set_round_that_fails_with_the_small_settings_is_solved_with_the_defaults(
    failure, monkeypatch
):
    """The rounds first run Clarabel on one thread without equilibration or refinement; a round
    that does not end "optimal" that way (here forced: two iterations, or an error) is solved
    again with Clarabel's defaults instead of failing the fit."""
    X, y = make_classification(500, 20, n_informative=10, flip_y=0.05, random_state=7)
    X = StandardScaler().fit_transform(X)
    labels, spec = binary(X, y), spec_for("rbf", X)
    assert len(y) >= _qp.WORKING_SET_MIN
    if failure == "status":
        monkeypatch.setattr(_qp, "_CLARABEL_SMALL", {**_qp._CLARABEL_SMALL, "max_iter": 2})
    else:  # as Clarabel's "insufficient progress" or "numerical error" reach us through cvxpy
        solve = cp.Problem.solve

        def raising(problem, *args, **kwargs):
            if kwargs.get("equilibrate_enable") is False:
                raise cp.error.SolverError("Solver 'CLARABEL' failed (forced).")
            return solve(problem, *args, **kwargs)

        monkeypatch.setattr(cp.Problem, "solve", raising)
    _qp._clarabel_small.cache_clear()
    try:
        assert_qp_matches_smo(X, labels, np.ones(len(y)), spec, "hinge")
    finally:
        _qp._clarabel_small.cache_clear()


def test_bad_labels_and_bounds_are_refused(iris):
    X = iris[0][:20]
    spec = KernelSpec("rbf", 1.0)
    with pytest.raises(ValueError, match="-1 or \\+1"):
        solve_dual_qp(X, np.arange(20.0), np.ones(20), spec)
    y = np.where(np.arange(20) < 10, 1.0, -1.0)
    with pytest.raises(ValueError, match="positive and finite"):
        solve_dual_qp(X, y, np.zeros(20), spec)
    with pytest.raises(ValueError, match="loss must be one of"):
        solve_dual_qp(X, y, np.ones(20), spec, loss="exponential")


def test_inputs_are_not_modified(breast_cancer):
    X, y = breast_cancer
    X = X[:100].copy()
    labels = binary(X, y[:100])
    upper = np.ones(100)
    copies = X.copy(), labels.copy(), upper.copy()
    solve_dual_qp(X, labels, upper, KernelSpec("rbf", 0.1))
    for before, after in zip(copies, (X, labels, upper), strict=True):
        np.testing.assert_array_equal(before, after)


def test_csr_and_dense_give_the_same_qp_solution(breast_cancer):
    X, y = breast_cancer
    X, labels = X[:200], binary(X, y[:200])
    spec = KernelSpec("rbf", 0.05)
    dense = solve_dual_qp(X, labels, np.ones(200), spec)
    csr = solve_dual_qp(sparse.csr_matrix(X), labels, np.ones(200), spec)
    np.testing.assert_allclose(csr.objective, dense.objective, rtol=1e-9)


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_working_sets_reach_the_full_qp_optimum(breast_cancer, monkeypatch, loss):
    """The decomposition (forced here on 569 samples) ends at the optimum of the whole dual."""
    X, y = breast_cancer
    labels, upper = binary(X, y), np.full(len(y), 2.0)
    spec = KernelSpec("rbf", 0.05)
    whole = solve_dual_qp(X, labels, upper, spec, loss=loss)
    monkeypatch.setattr(_qp, "WORKING_SET_MIN", 100)
    monkeypatch.setattr(_qp, "FIRST_WORKING_SET", 120)
    parts = solve_dual_qp(X, labels, upper, spec, loss=loss)
    assert len(parts.trace) >= 4  # start, at least two working sets, end
    np.testing.assert_allclose(parts.objective, whole.objective, rtol=1e-8)
    np.testing.assert_allclose(parts.rho, whole.rho, atol=1e-6)
    np.testing.assert_allclose(parts.alpha, whole.alpha, atol=1e-5 * 2.0)


def test_dense_and_factored_hinge_forms_reach_the_same_optimum(breast_cancer, monkeypatch):
    """quad_form(psd_wrap(G G')) on our factor and sum_squares(G' a) are the same QP."""
    X, y = breast_cancer
    X, labels = X[:300], binary(X, y[:300])
    spec, upper = KernelSpec("rbf", 0.05), np.full(300, 1.5)
    F, _ = kernel_factor(X, spec)
    assert F.shape[1] > _qp.DENSE_RANK_FRACTION * 300  # full rank: the dense form by default
    assert _qp._dense_quadratic(F, "hinge")
    assert not _qp._dense_quadratic(F, "squared_hinge")
    assert not _qp._dense_quadratic(F, "logistic")
    dense = solve_dual_qp(X, labels, upper, spec)
    monkeypatch.setattr(_qp, "DENSE_RANK_FRACTION", 1.0)  # rank can never exceed n: factored
    assert not _qp._dense_quadratic(F, "hinge")
    factored = solve_dual_qp(X, labels, upper, spec)
    np.testing.assert_allclose(dense.objective, factored.objective, rtol=1e-9)
    np.testing.assert_allclose(dense.rho, factored.rho, atol=1e-7)
    np.testing.assert_allclose(dense.alpha, factored.alpha, atol=1e-6 * 1.5)


def test_low_rank_factor_keeps_the_factored_form():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    F, _ = kernel_factor(X, KernelSpec("poly", 1.0, 1.0, 2))  # rank 10 of 200
    assert not _qp._dense_quadratic(F, "hinge")


def test_working_sets_with_loose_rounds_end_certified_at_the_smo_optimum():
    """The benchmark's problem family at n = 700: working sets (loose rounds, then tight ones),
    checked against SMO at tol 1e-7 and by the KKT certificate of every sample."""
    X, y = make_classification(700, 20, n_informative=10, flip_y=0.05, random_state=5)
    X = StandardScaler().fit_transform(X)
    assert len(y) >= _qp.WORKING_SET_MIN
    labels, spec = binary(X, y), spec_for("rbf", X)
    logged = []
    qp = solve_dual_qp(X, labels, np.ones(700), spec, log=logged.append)
    rounds = [line for line in logged if "violators" in line]
    assert any("(loose)" in line for line in rounds)  # some rounds only moved the working set
    assert "(loose)" not in rounds[-1] and rounds[-1].endswith(" 0 violators outside")
    smo = solve_dual(X, labels, np.ones(700), spec, tol=1e-7)
    np.testing.assert_allclose(qp.objective, smo.objective, rtol=1e-4)
    np.testing.assert_allclose(qp.rho, smo.rho, atol=1e-3)
    assert len(qp.trace) >= 4  # start, at least two working sets, end
    assert qp.gap < 1e-6  # SMO's maximal violating pair, recomputed with the full kernel
    model = SVC(solver="qp", C=1.0).fit(X, y)
    report = check_kkt(model, X, y, tol=1e-6)
    assert report.ok, str(report)
    assert abs(report.duality_gap) <= 1e-6 * abs(report.primal_objective)


def test_working_sets_converge_on_a_kernel_scaled_by_1000():
    """Loose rounds put near-bound variables on the bound only as far as it moves their margin by
    LOOSE_SNAP_MARGIN: with a kernel of entries up to 1 000 a snap of 1e-3 C moved margins by 1
    and the rounds undid each other without end."""
    X, y = make_classification(500, 20, n_informative=10, flip_y=0.05, random_state=7)
    X = StandardScaler().fit_transform(X)
    gram = 1e3 * pairwise_kernels(X, metric="rbf", gamma=0.05)
    upper = np.random.default_rng(0).uniform(0.5, 2.0, size=500)
    assert 500 >= _qp.WORKING_SET_MIN
    assert_qp_matches_smo(gram, binary(X, y), upper, KernelSpec("precomputed"), "hinge")


def test_placement_at_the_upper_bound_keeps_the_balance_within_reach():
    """Ten deep samples of the positive class, none of the negative one: with a working set of
    total bound 20 and PLACE_IMBALANCE 0.1 the excess may be 2, so the two deepest are placed."""
    n = 30
    y = np.where(np.arange(n) < 20, 1.0, -1.0)
    upper = np.ones(n)
    in_set = np.zeros(n, dtype=bool)
    in_set[10:30] = True  # 10 positives and 10 negatives: total bound 20
    margins = np.full(n, 1.0)
    margins[:10] = np.linspace(-1.0, 0.0, 10)  # outside, all below PLACE_AT_UPPER_BELOW
    alpha = np.zeros(n)
    placed = _qp._place_at_upper(alpha, in_set, margins, y, upper)
    assert _qp.PLACE_IMBALANCE == 0.1
    np.testing.assert_array_equal(np.flatnonzero(placed), [0, 1])  # margins -1 and -8/9
    np.testing.assert_array_equal(alpha[:2], [1.0, 1.0])
    assert not alpha[2:].any()


@pytest.mark.parametrize(
    "bounds, kernel_top, says, not_says",
    [
        (np.full(5, 1e-8), 1.0, "raise C", "lower C"),
        (np.r_[np.full(4, 3.0), 3e-9], 1.0, "drop samples of near-zero weight", "lower C"),
        (np.full(5, 1e8), 1.0, "lower C or scale the features", "raise C"),
        (np.full(5, 10.0), 1.0, "well scaled", "C"),
    ],
)
def test_the_qp_warning_advises_what_the_bounds_call_for(bounds, kernel_top, says, not_says):
    text = _qp_short_of_tol(SVC(solver="qp"), 0.002, bounds, kernel_top)
    advice = text.split("to that tolerance. ")[1]
    assert says in advice and not_says not in advice.replace("solver='smo'", "")


def test_the_qp_warning_of_the_logistic_loss_speaks_of_no_bound():
    # every logistic alpha_i is strictly inside (0, C_i): "stopped near, not at, a bound" was
    # said of a kernel logistic problem with u = alpha / C in [0.010, 0.68] (a review)
    text = _qp_short_of_tol(SVC(solver="qp", loss="logistic"), 0.002, np.full(5, 10.0), 1.0)
    assert "well scaled" in text and "bound" not in text


def _raw_primal(X, y, C, loss):
    """Decision values of the primal optimum on the rows as given (cvxpy, written here)."""
    labels = np.where(y == 1, 1.0, -1.0)
    w, b = cp.Variable(X.shape[1]), cp.Variable()
    margins = cp.multiply(labels, X @ w + b)
    data = {"hinge": cp.sum(cp.pos(1 - margins)),
            "squared_hinge": cp.sum(cp.square(cp.pos(1 - margins))),
            "logistic": cp.sum(cp.logistic(-margins))}[loss]  # fmt: skip
    cp.Problem(cp.Minimize(0.5 * cp.sum_squares(w) + C * data)).solve(solver="CLARABEL")
    return X @ w.value + b.value


@pytest.mark.parametrize(
    "loss, C, offset", [("hinge", 1e4, 1e5), ("squared_hinge", 1e4, 1e4), ("logistic", 1e5, 1e4)]
)
def test_snapping_onto_the_bounds_keeps_y_alpha_balanced(breast_cancer, loss, C, offset):
    # The snaps onto the bounds (and the logistic clip into [EPS C, (1 - EPS) C]) moved mass
    # without giving it back: y'alpha went from 1e-13 to 1e-8 .. 1e-5. The dual point was then
    # infeasible (a logistic duality_gap_ of -5.7e-6), and a centred linear fit (a column far
    # from 0, not constant) moved its decision values by y'alpha c'(x - c): 0.26 at an offset of
    # 1e4 (squared hinge), converged_ with check_kkt failing.
    X, y = breast_cancer
    rows = np.random.default_rng(0).choice(len(y), 120, replace=False)
    X, y = X[rows][:, :6], y[rows]
    shifted = X.copy()
    shifted[:, 0] += offset
    model = SVC(kernel="linear", solver="qp", loss=loss, C=C).fit(shifted, y)
    assert model.converged_ and check_kkt(model, shifted, y).ok
    assert abs(model.dual_coef_.sum()) <= 1e-12 * np.abs(model.dual_coef_).sum()
    reference = _raw_primal(shifted, y, C, loss)
    np.testing.assert_allclose(model.decision_function(shifted), reference, rtol=0, atol=2e-3)
    plain = SVC(kernel="linear", solver="qp", loss=loss, C=C).fit(X, y)
    assert plain.duality_gap_[0] >= 0.0  # P(f) >= D(alpha) for a feasible alpha


def test_the_logistic_rebalance_keeps_a_weighted_fit_converged():
    # Shared in proportion to the room, the mass of the clipped variables went mostly to
    # variables near a bound and moved their logits: gap m - M 0.024 (the solver's: 4e-7),
    # converged_ False and check_kkt failing on a model as good as before.
    X, y = make_classification(120, 6, random_state=6, flip_y=0.05, class_sep=1.5)
    X = StandardScaler().fit_transform(X)
    weight = 10.0 ** np.random.default_rng(6).uniform(-1, 1, 120)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SVC(kernel="linear", loss="logistic", C=1000.0, solver="qp").fit(
            X, y, sample_weight=weight
        )
    assert model.converged_ and check_kkt(model, X, y, sample_weight=weight).ok
    assert abs(model.dual_coef_.sum()) <= 1e-12 * np.abs(model.dual_coef_).sum()


@pytest.mark.parametrize("margin", [5.0, 20.0, 38.0])
def test_the_logistic_intercept_is_exact_at_large_margins(margin):
    # the balance in tanh alone lost the terms C exp(-m) below eps C: an intercept 0.15 off at
    # margins near 38. Reference: bisection on the balance summed from expit (exact there).
    import math

    from scipy.special import expit

    rng = np.random.default_rng(0)
    y = np.r_[np.ones(20), -np.ones(20)]
    Kv = y * (margin + rng.uniform(0, 3, 40)) + 0.7
    upper = 10 ** rng.uniform(-1, 1, 40)
    lo, hi = -50.0, 50.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if math.fsum(y * upper * expit(-y * (Kv + mid))) > 0:
            lo = mid
        else:
            hi = mid
    assert _qp._logistic_offset(y, Kv, upper, 0.0) == pytest.approx(lo, abs=1e-14)


def test_the_logistic_rebalance_falls_back_to_the_room_when_a_share_does_not_fit():
    # shares in proportion to a (C - a) / C were applied all or nothing: where one did not fit
    # its variable's room the label kept the whole imbalance (y'alpha moved by 1e-7) although
    # the label's total room was 1
    upper = np.ones(5)
    y = np.array([1.0, 1.0, 1.0, 1.0, -1.0])
    before = np.array([1 - 1e-7, 2e-8, 3e-8, 1 - 1e-9, 0.5])
    alpha = before.copy()
    alpha[0] = 1 - 1e-12  # snapped up: it gained about 1e-7
    out = _qp._rebalance(alpha, before, y, upper, "logistic", alpha != before)
    assert abs(y @ out - y @ before) <= 1e-15
    assert np.all(out > 0.0) and np.all(out < upper)
