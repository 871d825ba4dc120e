"""Rounding in the logistic objective's curvature terms and in the predicted probabilities.

References are computed here directly in float64 from the centred dense matrix ``X - mu`` (no
expansion of the squares), so they are accurate to a few ulps whatever the feature means.
"""

import re
import warnings

import numpy as np
import pytest
from scipy import sparse
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from mlbasics import LogisticRegression
from mlbasics.linear_model import _objective, logistic_objective
from mlbasics.linear_model._objective import LogisticObjective, Penalty, target_matrix
from mlbasics.optimality import check_kkt

FORMATS = {"dense": np.asarray, "csr": sparse.csr_array, "csc": sparse.csc_array}


def large_mean_problem(mean, n_classes=2, n=1000, seed=0):
    """Features ``mean + 0.01 noise`` (fully stored), ``mean + noise`` with 30% zeros, and a
    standard one; weights that are not all equal."""
    rng = np.random.default_rng(seed)
    tight = mean + 0.01 * rng.standard_normal(n)
    holey = (mean + rng.standard_normal(n)) * (rng.random(n) < 0.7)
    X = np.column_stack([tight, holey, rng.standard_normal(n)])
    Y = target_matrix(rng.integers(0, n_classes, n), n_classes)
    weights = np.linspace(0.5, 1.5, n)
    return X, Y, weights


def centred_reference(obj, X, H):
    """``sum_i H_ik (x_ij - mu_j)^2`` from the centred dense matrix."""
    Xc = X - obj.mu
    return H.T @ (Xc * Xc)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mean", [1e8, 1e6, 1e3, 0.0])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_centred_square_sums_have_no_cancellation(fmt, mean, n_classes):
    """The column spread, the Hessian diagonal and the Lipschitz bound against the centred
    reference. The expansion ``sum c x^2 - 2 mu sum c x + sum c mu^2`` used before gave, for
    ``1e8 + 0.01 noise``, a spread of 14336 (true 0.095) dense and 0 sparse, and a Lipschitz
    bound of 4859 dense and -8453 sparse (true 512.5)."""
    X, Y, weights = large_mean_problem(mean, n_classes)
    obj = LogisticObjective.from_data(
        FORMATS[fmt](X), Y, weights, Penalty(0.0, 0.3), fit_intercept=True
    )
    spread = centred_reference(obj, X, weights[:, None])[0]
    np.testing.assert_allclose(obj._column_spread, spread, rtol=1e-10)

    rng = np.random.default_rng(1)
    coef = obj.to_internal(rng.standard_normal(obj.shape) * [1e-2, 1e-2, 1.0, 0.5])
    Z = obj.scores(coef)
    h = obj.curvature(Z)
    D = obj.hessian_diagonal(Z)
    np.testing.assert_allclose(D[:, :-1], centred_reference(obj, X, h) + 0.3, rtol=1e-10)
    np.testing.assert_allclose(D[:, -1], h.sum(axis=0), rtol=1e-12)

    q = 0.5 if n_classes > 2 else 0.25
    L = obj.lipschitz_bound()
    assert L == pytest.approx(q * (spread.sum() + weights.sum()) + 0.3, rel=1e-10)
    # The largest eigenvalue it bounds: that of q A^T diag(c) A (+ l2), A = [X - mu, 1].
    A = np.column_stack([X - obj.mu, np.ones(len(X))])
    largest = np.linalg.eigvalsh(q * A.T @ (weights[:, None] * A)).max() + 0.3
    assert L >= largest * (1 - 1e-12)


@pytest.mark.parametrize("fmt", FORMATS)
def test_centred_square_sums_in_row_blocks(fmt, monkeypatch):
    """Many row blocks (a block of a few rows) give the one-block sums to rounding; sparse input
    with duplicate entries is summed as the matrix it represents, and is left unchanged."""
    X, Y, weights = large_mean_problem(1e6, n_classes=3, n=300)
    H = np.random.default_rng(2).random((len(X), 3))
    Xf = FORMATS[fmt](X)
    if fmt != "dense":  # split every stored entry into two duplicates
        split = np.repeat(Xf.data, 2) * np.tile([0.25, 0.75], Xf.nnz)
        Xf = FORMATS[fmt]((split, np.repeat(Xf.indices, 2), 2 * Xf.indptr), shape=X.shape)
        assert not Xf.has_canonical_format
        stored = Xf.data.copy()
    monkeypatch.setattr(_objective, "SQUARE_BLOCK_BYTES", 8 * 3 * 7)  # 7 rows per block
    obj = LogisticObjective.from_data(Xf, Y, weights, Penalty(0.0, 1.0), fit_intercept=True)
    np.testing.assert_allclose(obj.centred_square_sums(H), centred_reference(obj, X, H), rtol=1e-10)
    if fmt != "dense":
        np.testing.assert_array_equal(Xf.data, stored)


@pytest.mark.parametrize("fmt", FORMATS)
def test_square_sums_without_centring(fmt):
    X, Y, weights = large_mean_problem(1e3)
    obj = LogisticObjective(FORMATS[fmt](X), Y, weights, Penalty(0.0, 1.0), fit_intercept=False)
    np.testing.assert_allclose(obj._column_spread, weights @ (X * X), rtol=1e-12)
    assert obj.lipschitz_bound() == pytest.approx(0.25 * weights @ (X * X).sum(axis=1) + 1.0)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("column_major", [True, False])
def test_design_is_the_centred_matrix_with_ones(order, center, column_major):
    # 150 x 70: tiles of the column-major copy that do not fill the last rows and columns.
    rng = np.random.default_rng(3)
    X = np.asarray(5.0 + rng.standard_normal((150, 70)), order=order)
    Y = target_matrix(rng.integers(0, 2, 150), 2)
    before = X.copy()
    obj = LogisticObjective.from_data(X, Y, np.ones(150), Penalty.from_params("l1"),
                                      fit_intercept=True, center=center)  # fmt: skip
    A = obj.design(column_major=column_major)
    expected = np.hstack([X - obj.mu if center else X, np.ones((150, 1))])
    assert np.array_equal(A, expected)
    assert A.flags.f_contiguous if column_major else A.flags.c_contiguous
    assert np.array_equal(X, before)


def test_binary_hessian_keeps_its_curvature_at_large_scores():
    """``hessian``, ``hessp`` and ``hessian_diagonal`` share one binary curvature,
    ``c sigmoid(z) sigmoid(-z)``: at scores beyond 37, ``c P (1 - P)`` is exactly 0 (it was in
    ``hessian`` and ``hessp``) while the true curvature is ``c exp(-|z|)``."""
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 2.0, size=(50, 2))
    Y = target_matrix(rng.integers(0, 2, 50), 2)
    weights = np.linspace(0.5, 1.5, 50)
    obj = LogisticObjective(X, Y, weights, Penalty(0.0, 0.0), fit_intercept=True)
    coef = np.array([[14.0, 14.0, 12.0]])  # scores 40 to 68
    Z = obj.scores(coef)
    P, h = obj.probabilities(Z), obj.curvature(Z)
    A = np.column_stack([X, np.ones(50)])
    curvature = weights * expit(Z[:, 0]) * expit(-Z[:, 0])
    assert np.all(curvature > 0) and np.all(P == 1.0)
    H_ref = A.T @ (curvature[:, None] * A)
    H = obj.hessian(P, h)
    np.testing.assert_allclose(H, H_ref, rtol=1e-12)
    V = rng.standard_normal(obj.shape)
    np.testing.assert_allclose(obj.hessp(P, h, V).ravel(), H_ref @ V.ravel(), rtol=1e-12)
    np.testing.assert_allclose(obj.hessian_diagonal(Z).ravel(), np.diag(H_ref), rtol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_hessian_matches_its_products_and_diagonal(n_classes):
    """Moderate scores, multinomial too: the full Hessian, its products and its diagonal agree."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 4))
    Y = target_matrix(rng.integers(0, n_classes, 80), n_classes)
    obj = LogisticObjective.from_data(X, Y, rng.random(80), Penalty(0.0, 0.5), fit_intercept=True)
    coef = rng.standard_normal(obj.shape)
    Z = obj.scores(coef)
    P, h = obj.probabilities(Z), obj.curvature(Z)
    H = obj.hessian(P, h)
    V = rng.standard_normal(obj.shape)
    np.testing.assert_allclose(obj.hessp(P, h, V).ravel(), H @ V.ravel(), rtol=1e-10)
    np.testing.assert_allclose(obj.hessian_diagonal(Z).ravel(), np.diag(H), rtol=1e-10)


def test_predict_proba_keeps_relative_accuracy_at_large_scores():
    """``P(class 0) = sigmoid(-s)``, not ``1 - sigmoid(s)`` (0.0 at ``s = 40`` before, where
    ``exp(predict_log_proba)`` gives 4.2e-18): the two methods agree in relative terms."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 1))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression(C=1.0).fit(X, y)
    scores = np.array([-700.0, -300.0, -40.0, -38.0, -1.0, 0.0, 1.0, 38.0, 40.0, 300.0, 700.0])
    Xs = ((scores - model.intercept_[0]) / model.coef_[0, 0])[:, None]
    s = model.decision_function(Xs)
    proba = model.predict_proba(Xs)
    np.testing.assert_allclose(proba, np.exp(model.predict_log_proba(Xs)), rtol=1e-12, atol=0)
    np.testing.assert_allclose(proba[:, 0], expit(-s), rtol=1e-15, atol=0)
    assert np.all(proba > 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_sgd_zero_model_warning_names_the_largest_squared_norm(breast_cancer, fmt):
    """The warning of an SGD run that ends above the all-zero model quotes max_i ||x_i||^2."""
    X, y = breast_cancer
    X = FORMATS[fmt](100.0 * X)
    model = LogisticRegression(solver="sgd", max_iter=5, tol=None, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    largest = X.multiply(X).sum(axis=1).max() if sparse.issparse(X) else (X * X).sum(axis=1).max()
    expected = f"largest squared sample norm {float(largest):.3g})"
    assert any(re.search(re.escape(expected), m) for m in messages), messages


# ---- extreme scales of X, C and the weights ---------------------------------------------------


@pytest.fixture(scope="module")
def overlapping():
    """Two overlapping Gaussian classes (not separable: the optimum stays finite as C grows)."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((200, 3))
    y = (X[:, 0] + 0.8 * rng.standard_normal(200) > 0.3).astype(int)
    return X, y


@pytest.mark.parametrize("solver", ["newton", "newton-cg", "lbfgs", "sgd"])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_unpenalised_columns_whose_squares_underflow_are_refused_by_name(solver, fmt):
    # Without a penalty the solution scales as 1 / the features' units: in units of 1e-170
    # every solver stopped at the intercept-only model, 73% above the optimum, converged_ True,
    # no warning (a review; the Hessian's squares underflow and the columns look flat).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = (X[:, 0] + rng.normal(size=50) > 0).astype(int)
    tiny = X * 1e-170
    tiny[:, 2] = X[:, 2]  # one ordinary column: the others are named
    tiny_in = sparse.csr_matrix(tiny) if fmt == "csr" else tiny
    with pytest.raises(ValueError, match=r"2 column\(s\) whose entries are all below 1\.49e-154 .*"
                       r"column 0: at most 2\.37e-170.*Scale the features"):  # fmt: skip
        LogisticRegression(penalty=None, solver=solver).fit(tiny_in, y)
    before = tiny.copy()
    # with a penalty such a column's coefficient stays bounded: the fit is right to ignore it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(solver=solver, random_state=0).fit(tiny_in, y)
    assert np.all(np.abs(model.coef_[0, :2]) < 1e-100)
    np.testing.assert_array_equal(tiny, before)
    # a zero column is not tiny (constant: its coefficient is 0) and units of 1e-150 still fit
    zero = X * 1e-150
    zero[:, 1] = 0.0
    reference = LogisticRegression(penalty=None, solver="newton").fit(X[:, [0, 2]], y)
    model = LogisticRegression(penalty=None, solver="newton").fit(zero, y)
    np.testing.assert_allclose(model.coef_[0, [0, 2]] * 1e-150, reference.coef_[0], rtol=1e-6)


@pytest.mark.parametrize("solver", ["newton-cholesky", "newton-cg", "lbfgs", "sgd"])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_entries_whose_squares_overflow_are_refused_by_name(overlapping, solver, fmt):
    if solver == "newton-cholesky" and fmt == "csr":
        pytest.skip("the Cholesky solver needs dense X")
    X, y = overlapping
    with pytest.raises(ValueError, match=r"X has entries up to 3\.2\de\+155 .*StandardScaler"):
        LogisticRegression(solver=solver).fit(FORMATS[fmt](X * 1e155), y)


@pytest.mark.parametrize("penalty, solver", [("l2", "newton"), ("l2", "newton-cg"),
                                             ("l1", "newton")])  # fmt: skip
@pytest.mark.parametrize("C, weight, class_weight", [(1e8, 1.0, None), (1.0, 1e8, None),
                                                     (1.0, 1.0, {0: 1.0, 1: 1e8})])  # fmt: skip
def test_entries_whose_weighted_squares_overflow_are_refused_by_name(
    penalty, solver, C, weight, class_weight
):
    # X near 1e150 passed the check of its squares, but C s_i multiplies the sums over samples:
    # at C = 1e8 the L2 fits ended at the zero model under overflow warnings and the L1 fit in
    # a bare "array must not contain infs or NaNs" from scipy's eigh (a review)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = (X[:, 0] + rng.normal(size=50) > 0).astype(int)
    # (the weight may come from class_weight: the message once named C sample_weight alone)
    model = LogisticRegression(penalty, C=C, solver=solver, class_weight=class_weight)
    with pytest.raises(
        ValueError,
        match=r"entries up to 2\.37e\+150 .*weighted by C times the sample weights "
        r"\(class weights included\).* smaller sample or class weights",
    ):
        model.fit(X * 1e150, y, sample_weight=np.full(50, weight))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.set_params(C=1.0, class_weight=None).fit(X * 1e150, y)  # unweighted: accepted


@pytest.mark.parametrize("solver", ["newton-cg", "lbfgs"])
@pytest.mark.parametrize("C, weight", [(1e200, 1.0), (1.0, 1e200), (1e-8, 1.0), (1e-12, 1.0)])
def test_extreme_c_or_weights_give_the_cholesky_answer_without_warnings(
    overlapping, solver, C, weight
):
    # F / C is the same problem for every C once C is huge (the penalty vanishes) and tends to
    # the intercept-only model as C -> 0, whose intercept is logit(mean y): the reference for
    # the smallest C is that closed form, for the others the Cholesky solver.
    # (At C <= 1e-8 the default tol: the penalty's curvature is 1 / (C n) times the loss's, and
    # L-BFGS's decrease of F stalls in rounding near a scaled optimality of 5e-5.)
    X, y = overlapping
    w = np.full(len(y), weight)
    tol = 1e-4 if C < 1e-6 else 1e-8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LogisticRegression(solver=solver, C=C, tol=tol).fit(X, y, sample_weight=w)
        ref = LogisticRegression(solver="newton-cholesky", C=C, tol=tol).fit(X, y, sample_weight=w)
    assert model.converged_
    if C < 1e-6:
        logit = np.log(y.mean() / (1.0 - y.mean()))
        np.testing.assert_allclose(model.intercept_, [logit], rtol=2e-4)
        np.testing.assert_allclose(model.coef_, 0.0, atol=1e-5)
    else:
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-5)
        np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("n_classes, tol, at_least", [(2, 1e-4, 5), (2, 1e-6, 2), (3, 1e-4, 1)])
def test_lbfgs_claims_convergence_only_when_check_kkt_agrees_with_large_feature_means(
    n_classes, tol, at_least
):
    # With means of 1e4, whether L-BFGS-B gets below tol before F's rounding stops it is luck
    # (the test above): over these 10 seeds it converged in 9, 6 and 2 runs (measured). Every
    # run that claims convergence must pass check_kkt at tol; every other one must warn.
    converged = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, n_classes, 200)
        X = 1e4 + rng.standard_normal((200, 4)) + 0.7 * y[:, None]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = LogisticRegression(solver="lbfgs", tol=tol).fit(X, y)
        if model.converged_:
            converged += 1
            assert not caught
            assert check_kkt(model, X, y, tol=tol).ok
        else:
            assert [w.category for w in caught] == [ConvergenceWarning]
    assert converged >= at_least


def test_lbfgs_runs_on_when_the_objective_is_far_below_the_weight_sum():
    # scipy's ftol rule divides decreases by max(|f|, 1) with f = F / sum(c): absolute once the
    # model fits nearly perfectly. On this problem (found by a differential test against
    # Newton) F / sum(c) is 1e-8 and L-BFGS stopped at 1.8 times the optimal F, blaming
    # floating point; run on with F as the unit it reaches Newton's optimum.
    rng = np.random.default_rng(18)
    y = np.arange(12) % 2
    X = (rng.normal(size=(12, 10)) + 3 * rng.normal(size=(2, 10))[y]) * 10 ** rng.uniform(-3, 3, 10)
    X[:, :3] += 1e4
    ref = LogisticRegression(C=1000.0, solver="newton-cholesky", tol=1e-10).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LogisticRegression(C=1000.0, solver="lbfgs", tol=1e-8, max_iter=1000).fit(X, y)
    assert model.converged_
    assert model.objective_ / (1000.0 * 12) < 1e-7  # the regime of the ftol rule's floor
    assert model.objective_ == pytest.approx(ref.objective_, rel=1e-6)
    assert check_kkt(model, X, y, tol=1e-8).ok


@pytest.mark.parametrize("solver", ["newton-cholesky", "newton-cg", "lbfgs"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_large_C_on_separable_data_is_solved_to_the_optimum_not_to_tol_times_sum_c(
    solver, n_classes
):
    # At C = 1e8 on 40 separable samples the optimum is 8.6e3 beside sum c = 4e9: a gradient
    # and a Newton decrement below tol * sum c passed points at 27 to 54 times the optimal
    # objective, with converged_ True and no warning. The reference is scikit-learn's L-BFGS
    # run to tol=1e-12.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
    if n_classes == 3:
        y = np.digitize(X[:, 0], [-0.5, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = SkLogisticRegression(C=1e8, tol=1e-12, max_iter=100_000).fit(X, y)
    best = logistic_objective(X, y, ref.coef_, ref.intercept_, C=1e8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LogisticRegression(C=1e8, solver=solver).fit(X, y)
    assert model.converged_
    assert model.objective_ <= best * (1 + 1e-4)
    assert check_kkt(model, X, y, tol=1e-4).ok


@pytest.mark.parametrize("tol", [1e-4, 1e-8])
def test_multinomial_cholesky_keeps_the_direction_of_a_tiny_column_beside_a_huge_one(tol):
    # Without a penalty the objective does not change when a column is rescaled (its weights
    # scale back): the columns scaled by 1e6 and 1e-6 must reach the optimum of the unscaled
    # problem. One lift of the softmax's flat directions for every column (the mean of diag H,
    # 2e11) erased the small column's curvature (4e-12): 1% above the optimum, converged_ True.
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 4))
    y = np.digitize(X[:, 0] + X[:, 2] + rng.normal(size=60), [-0.5, 0.5])
    ref = LogisticRegression(penalty=None, solver="newton-cholesky", tol=1e-10).fit(X, y)
    scaled = X * [1e6, 1e-6, 1.0, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LogisticRegression(penalty=None, solver="newton-cholesky", tol=tol).fit(scaled, y)
    assert model.converged_
    assert model.objective_ == pytest.approx(ref.objective_, rel=1e-7)


@pytest.mark.parametrize("penalty, l1_ratio", [("l1", None), ("elasticnet", 0.5)])
@pytest.mark.parametrize("offset", [0.0, 100.0, 1e4])
def test_sparse_multinomial_l1_with_a_large_mean_feature_equals_the_dense_fit(
    penalty, l1_ratio, offset
):
    # Sparse X keeps its columns uncentred in memory; coordinate descent on the explicit columns
    # crawled along a feature of mean 100, nearly collinear with the intercepts (7% above the
    # optimum after 100 iterations, 39% at mean 1e4). The implicitly centred kernel follows the
    # dense fit, whose columns are centred explicitly.
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 4))
    y = np.digitize(X[:, 0] + X[:, 2] + rng.normal(size=60), [-0.5, 0.5])
    X[:, 2] += offset
    params = dict(penalty=penalty, C=3.0, l1_ratio=l1_ratio, tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dense = LogisticRegression(**params).fit(X, y)
        csr = LogisticRegression(**params).fit(sparse.csr_array(X), y)
    assert dense.solver_ == csr.solver_ == "prox-newton"
    assert dense.converged_ and csr.converged_
    assert csr.objective_ == pytest.approx(dense.objective_, rel=1e-9)
    np.testing.assert_allclose(csr.coef_, dense.coef_, atol=1e-6)
    np.testing.assert_array_equal(csr.coef_ == 0, dense.coef_ == 0)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet", "l2"])
def test_multinomial_intercepts_sum_to_zero_on_dense_and_sparse_data(penalty):
    # The softmax ignores a shift common to every intercept; with L1 the solvers' columns are not
    # centred across classes, and dense and sparse fits returned intercepts differing by 1e-4 in
    # every class (the same probabilities). Both now give the intercepts that sum to 0.
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 4))
    y = np.digitize(X[:, 0] + X[:, 2] + rng.normal(size=60), [-0.5, 0.5])
    X[:, 2] += 100.0
    l1_ratio = 0.5 if penalty == "elasticnet" else None
    fits = [LogisticRegression(penalty=penalty, C=3.0, l1_ratio=l1_ratio, tol=1e-10).fit(A, y)
            for A in (X, sparse.csr_array(X))]  # fmt: skip
    for fit in fits:
        assert abs(fit.intercept_.sum()) <= 1e-12 * np.abs(fit.intercept_).max()
    np.testing.assert_allclose(fits[0].intercept_, fits[1].intercept_, atol=1e-7)
    np.testing.assert_allclose(fits[0].predict_proba(X), fits[1].predict_proba(X), atol=1e-9)


def test_an_elastic_net_with_a_vanishing_l1_part_converges():
    # The L1 part's stationarity cap (a tenth of l1 / sum c) fell to 5e-18 at l1_ratio=1e-12,
    # below float64's resolution: every fit ran to max_iter at the optimum and warned.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 10))
    y = (X[:, 0] + X[:, 1] + rng.normal(size=2000) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LogisticRegression(penalty="elasticnet", l1_ratio=1e-12, C=10.0).fit(X, y)
    ridge = LogisticRegression(C=10.0, tol=1e-10).fit(X, y)
    at_ridge = logistic_objective(X, y, ridge.coef_, ridge.intercept_, C=10.0,
                                  penalty="elasticnet", l1_ratio=1e-12)  # fmt: skip
    assert model.converged_ and model.n_iter_[0] < 100
    assert model.objective_ <= at_ridge * (1 + 1e-12)
    assert check_kkt(model, X, y, tol=1e-4).ok


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("C", [1e6, 1e8])
def test_newton_far_below_sum_c_stops_only_on_a_passing_gap(fmt, C):
    # Sparse non-negative features, two classes at C = 1e6: with F far below sum c the
    # decrement test alone stopped Newton at 1.8e-4 above the optimum at tol=1e-4 (converged_
    # True, check_kkt failing); the duality gap now confirms it.
    rng = np.random.default_rng(1)
    X = sparse.random(200, 60, density=0.1, random_state=1, format="csr")
    X.data = rng.exponential(3.0, X.data.size)
    y = np.argmax(X @ rng.normal(size=(60, 3)) + rng.gumbel(size=(200, 3)), axis=1) == 0
    X = X.toarray() if fmt == "dense" else X
    best = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-13, max_iter=1000).fit(
        sparse.csr_array(X).toarray(), y
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LogisticRegression(C=C).fit(X, y)
    assert model.objective_ < 0.1 * C * len(y)  # the regime of the gap test
    assert model.converged_
    assert model.objective_ <= best.objective_ * (1 + 1e-4)
    assert check_kkt(model, X, y, tol=model.tol).ok


def test_the_limit_on_entries_counts_features_too():
    # 6 samples of 1000 features at 5e152: each sample's squared norm (SGD's steps) overflows
    # although a sum over 6 samples would not.
    X = np.full((6, 1000), 5e152) * np.r_[1.0, -1.0, 1.0, -1.0, 1.0, -1.0][:, None]
    y = np.array([0, 1, 0, 1, 0, 1])
    assert np.isfinite(6 * 5e152**2) and not np.isfinite(1000 * 5e152**2)
    for solver in ("lbfgs", "sgd"):
        with pytest.raises(ValueError, match="the 1000 features"):
            LogisticRegression(solver=solver).fit(X, y)


@pytest.mark.parametrize("tol", [1e-4, 1e-6])
@pytest.mark.parametrize(
    "penalty, solver",
    [
        ("l2", "newton-cholesky"),
        ("l2", "newton-cg"),
        ("l2", "lbfgs"),
        ("l1", "newton"),
        ("elasticnet", "newton"),
    ],
)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_run_converged_at_tol_passes_check_kkt_at_tol_with_large_feature_means(
    n_classes, penalty, solver, tol
):
    # The solvers work on centred columns (w, b' = b + w mu). The derivative in w of the problem
    # as posed is the centred one plus mu times the intercept's; at mean 1e4 the stopping rule
    # once measured the centred one: converged_ True while check_kkt, which reads the problem as
    # posed, found residuals up to 3000 times tol.
    rng = np.random.default_rng(0)
    y = rng.integers(0, n_classes, 200)
    X = 1e4 + rng.standard_normal((200, 4)) + 0.7 * y[:, None]
    l1_ratio = 0.5 if penalty == "elasticnet" else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LogisticRegression(penalty, l1_ratio=l1_ratio, solver=solver, tol=tol).fit(X, y)
    if solver == "lbfgs" and not model.converged_:
        # L-BFGS-B's line search compares values of F, and the last factor 1e4 of the intercept's
        # derivative changes F by less than its rounding: whether it gets below a tight tol is
        # luck of the rounding. Over 30 seeds of this problem, with either order of summation
        # in F, it converged in 23-25 at tol=1e-4 and 8-11 at 1e-6 (binary), 16-19 and 0-1
        # (three classes). When it stops short it must say so; when it claims convergence the
        # checks below hold.
        assert [w.category for w in caught] == [ConvergenceWarning]
        assert "no longer decreases in floating point" in str(caught[0].message)
        return
    assert model.converged_ and not caught
    report = check_kkt(model, X, y, tol=tol)
    assert report.violations["stationarity"] <= 1.05 * tol
    # The trace records that measure too. The two agree up to the rounding of b = b' - w mu
    # (b is about -2e4 here: 4e-12 in every score, which mu turns into about 1e-8).
    recorded = model.convergence_.optimality[-1] / len(y)
    assert recorded == pytest.approx(report.violations["stationarity"], rel=0.05, abs=2e-8)


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_tol_zero_stops_at_the_rounding_floor_not_at_max_iter(breast_cancer, penalty):
    # Once Armijo's sigma t slope is below the last digit of F, its test reads F <= F: steps that
    # left F unchanged counted as real ones, and tol=0 ran all 1000 iterations ("Increase
    # max_iter") with F constant to the last bit from iteration 15.
    X, y = breast_cancer
    with pytest.warns(ConvergenceWarning, match="rounding floor"):
        model = LogisticRegression(penalty, tol=0.0, max_iter=1000).fit(X, y)
    assert model.n_iter_[0] < 100
    objective = np.asarray(model.convergence_.objective)
    # the last steps changed F within its rounding noise only
    assert abs(objective[-1] - objective[-4]) <= 64 * np.finfo(float).eps * objective[-1]
    reference = LogisticRegression(penalty, tol=1e-10).fit(X, y)  # far from the floor
    assert model.objective_ <= reference.objective_ * (1 + 1e-12)


@pytest.mark.parametrize("intercept, center", [(True, True), (True, False), (False, False)])
def test_one_pass_products_equal_the_blas_products(intercept, center):
    # one output on a dense C-ordered X: rmatvec and hessp run the compiled one-pass loops of
    # mlbasics._dense_products; the same objective on a Fortran-ordered copy takes BLAS's two products
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 7)) * 10.0 ** rng.uniform(-2, 2, 7) + rng.uniform(-50, 50, 7)
    y = (rng.random(500) < 0.5).astype(float)[:, None]
    weights = rng.uniform(0.0, 2.0, 500) * (rng.random(500) > 0.2)  # zero weights: h = 0 rows
    objectives = [
        LogisticObjective.from_data(
            data, y, weights, Penalty(0.0, 0.3), fit_intercept=intercept, center=center
        )
        for data in (X, np.asfortranarray(X))
    ]
    compiled, blas = objectives
    assert compiled._row_loops and not blas._row_loops
    coef = rng.standard_normal(compiled.shape) * 0.1
    Z = compiled.scores(coef)
    P = compiled.probabilities(Z)
    h = compiled.curvature(Z, P)
    R = compiled.residuals(Z, P)
    V = rng.standard_normal(compiled.shape)
    np.testing.assert_allclose(compiled.rmatvec(R), blas.rmatvec(R), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(compiled.hessp(P, h, V), blas.hessp(P, h, V), rtol=1e-12, atol=1e-11)
    # a read-only X (a memmap, scikit-learn's checks) takes the same loops: a separate copy, so
    # that the comparison is with the writeable array's products
    frozen_X = X.copy()
    frozen_X.flags.writeable = False
    frozen = LogisticObjective.from_data(frozen_X, y, weights, Penalty(0.0, 0.3),
                                         fit_intercept=intercept, center=center)  # fmt: skip
    assert frozen._row_loops
    np.testing.assert_array_equal(frozen.hessp(P, h, V), compiled.hessp(P, h, V))
    np.testing.assert_array_equal(frozen.rmatvec(R), compiled.rmatvec(R))


@pytest.mark.parametrize("free", [True, False])
def test_the_certificates_one_pass_hessian_product_equals_the_blas_one(free):
    # the Newton decrement of check_kkt takes the one-pass loop for one output on a dense X
    from mlbasics.optimality._logistic import _hessian_product

    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 6)) * 10.0 ** rng.uniform(-2, 2, 6) + 30.0
    c = rng.uniform(0.0, 3.0, 400)
    h = rng.uniform(0.0, 0.25, (400, 1))
    Vw, Vb = rng.standard_normal((1, 6)), rng.standard_normal(1)
    _, blas_w, blas_b = _hessian_product(X, None, h, None, c, 0.7, free, Vw, Vb)
    none, one_w, one_b = _hessian_product(X, None, h, None, c, 0.7, free, Vw, Vb, scores=False)
    assert none is None
    np.testing.assert_allclose(one_w, blas_w, rtol=1e-12, atol=1e-12 * np.abs(blas_w).max())
    np.testing.assert_allclose(one_b, blas_b, rtol=1e-12, atol=1e-12)
    # a Fortran-ordered X keeps BLAS's products (and still gives no scores when not asked)
    _, fortran_w, _ = _hessian_product(np.asfortranarray(X), None, h, None, c, 0.7, free, Vw, Vb,
                                       scores=False)  # fmt: skip
    np.testing.assert_allclose(fortran_w, blas_w, rtol=1e-12)
