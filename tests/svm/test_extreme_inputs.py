"""SVC on inputs at the edges of floating point: a right answer, or an error that names the problem.

From a fuzz review: features scaled by 1e150 gave NaN models marked converged, an indefinite kernel
with the squared hinge an infinite one, ``C = 1e30`` with ``solver="qp"`` a model without support
vectors, and a tiny ``C`` with the logistic loss a bare ZeroDivisionError. Every fit and predict
here runs with warnings turned into errors: no RuntimeWarning may leak on the way.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import sparse
from scipy.linalg import eigvalsh
from sklearn import svm
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import rbf_kernel, sigmoid_kernel
from sklearn.preprocessing import StandardScaler

from mlbasics import SVC
from mlbasics.optimality import check_kkt
from mlbasics.svm import _batched, _checks


@pytest.fixture(scope="module")
def small():
    """40 x 3, the labels the sign of the first feature (separable)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    return X, (X[:, 0] > 0).astype(int)


@pytest.fixture(autouse=True)
def no_warnings():
    """Any warning (an overflow's RuntimeWarning above all) fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# -- features whose scale the solvers cannot hold -------------------------------------------------


@pytest.mark.parametrize("kernel", ["linear", "poly", "rbf", "sigmoid"])
@pytest.mark.parametrize("solver", ["smo", "qp"])
def test_features_beyond_float64_are_an_error_before_anything_overflows(small, kernel, solver):
    """1e300: the squared norms overflow float64 (and gamma="scale", one over their variance,
    was 0: the RBF model predicted one class)."""
    X, y = small
    with pytest.raises(ValueError, match=r"entries up to 2\.33e\+300.*overflow.*Scale the feat"):
        SVC(kernel=kernel, solver=solver).fit(X * 1e300, y)


def test_features_at_the_float64_maximum_are_an_error_at_fit(small):
    """scikit-learn's NaN check sums X first: with entries of 1.7e308 that sum overflowed with a
    RuntimeWarning before the fit's own error."""
    X, y = small
    extreme = np.where(X > 0, 1.7e308, -1.7e308)
    with pytest.raises(ValueError, match=r"entries up to 1\.7e\+308.*Scale the features"):
        SVC().fit(extreme, y)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_features_whose_squares_underflow_are_an_error(small, kernel):
    X, y = small
    with pytest.raises(ValueError, match=r"at most 2\.33e-160.*underflow"):
        SVC(kernel=kernel).fit(X * 1e-160, y)


@pytest.mark.parametrize("solver", ["smo", "qp"])
@pytest.mark.parametrize(
    ("params", "scale", "match"),
    [
        # the linear kernel's values are the products: 7e300 and 7e40 do not fit float32
        ({"kernel": "linear"}, 1e150, r"linear kernel is out of range: .* reach 7\.01e\+300"),
        ({"kernel": "linear"}, 1e20, r"linear kernel .* reach 7\.01e\+40 .* beyond 3\.4e\+38"),
        ({"kernel": "poly", "degree": 200}, 1.0, r"poly kernel .* \(2\.56\)\^200 = 4\.8e\+81"),
        ({"kernel": "poly", "gamma": 1e100}, 1.0, r"poly kernel is out of range.*smaller degree"),
        ({"kernel": "sigmoid", "gamma": 1e307}, 1.0, r"sigmoid kernel's argument .* overflows"),
        ({"kernel": "rbf", "gamma": 1e307}, 1.0, r"rbf kernel's argument .* smaller gamma"),
    ],
)
def test_kernel_values_beyond_float32_are_an_error(small, solver, params, scale, match):
    """SMO caches kernel rows in float32: beyond 3.4e38 they were inf, and the model NaN."""
    X, y = small
    with pytest.raises(ValueError, match=match):
        SVC(solver=solver, **params).fit(X * scale, y)


@pytest.mark.parametrize("kind", ["precomputed", "callable"])
def test_a_kernel_matrix_beyond_float32_is_an_error_with_the_exact_rescaling(small, kind):
    """Precomputed K * 1e300 gave a NaN intercept marked converged. The message's advice holds:
    K / s with C * s gives the same decisions."""
    X, y = small
    gram = rbf_kernel(X, gamma=0.5)
    if kind == "precomputed":
        model, data = SVC(kernel="precomputed"), gram * 1e300
    else:
        model, data = SVC(kernel=lambda A, B: rbf_kernel(A, B, gamma=0.5) * 1e300), X
    with pytest.raises(ValueError, match=r"entries up to 1e\+300.*multiply C by s"):
        model.fit(data, y)
    plain = SVC(kernel="precomputed").fit(gram, y)
    rescaled = SVC(kernel="precomputed", C=1e3).fit(gram / 1e3, y)
    np.testing.assert_allclose(
        rescaled.decision_function(gram / 1e3), plain.decision_function(gram), atol=1e-6
    )
    np.testing.assert_allclose(rescaled.dual_coef_, 1e3 * plain.dual_coef_, rtol=1e-5)


@pytest.mark.parametrize("kernel", ["rbf", "poly", "sigmoid"])
def test_scale_invariant_kernels_give_the_same_model_at_any_power_of_two_scale(small, kernel):
    """With gamma="scale" these kernels do not see the scale of X. Scaled by a power of two the
    arithmetic is exact and the model is the same to the last bit; the float32 copy of X used to
    overflow above ~1e19 (2**70: other support vectors, no warning) and underflow below ~1e-19."""
    X, y = small
    reference = SVC(kernel=kernel).fit(X, y)
    for scale in [2.0**-300, 2.0**-100, 2.0**70, 2.0**500]:
        model = SVC(kernel=kernel).fit(X * scale, y)
        np.testing.assert_array_equal(model.support_, reference.support_)
        np.testing.assert_array_equal(model.dual_coef_, reference.dual_coef_)
        np.testing.assert_array_equal(model.intercept_, reference.intercept_)


@pytest.mark.parametrize("kernel", ["rbf", "poly", "sigmoid"])
@pytest.mark.parametrize("scale", [1e-100, 1e-30, 1e20, 1e150])
def test_scale_invariant_kernels_match_the_unscaled_fit_and_libsvm(small, kernel, scale):
    """At 1e20 the fit had 4 support vectors instead of 22 and 77 % training accuracy (libsvm:
    100 %). Other scales round X differently: equal to the tolerance of the fits."""
    X, y = small
    Xs = X * scale
    Xs_copy = Xs.copy()
    reference = SVC(kernel=kernel, tol=1e-8).fit(X, y)
    model = SVC(kernel=kernel, tol=1e-8).fit(Xs, y)
    np.testing.assert_array_equal(Xs, Xs_copy)  # the input is not modified
    np.testing.assert_array_equal(model.support_, reference.support_)
    np.testing.assert_allclose(model.dual_coef_, reference.dual_coef_, atol=1e-5)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, atol=1e-6)
    libsvm = svm.SVC(kernel=kernel).fit(Xs, y)
    np.testing.assert_array_equal(model.predict(Xs), libsvm.predict(Xs))


def test_batched_working_sets_are_scale_invariant_too(small, monkeypatch):
    """The batched solver (n >= 6 000) shares the scaled float32 copy; at 1e150 its products gave
    "invalid value encountered in matmul"."""
    monkeypatch.setattr(_batched, "BATCHED_MIN", 0)
    monkeypatch.setattr(_batched, "WORKING_SET", 16)
    X, y = small
    for kernel in ["rbf", "poly"]:
        reference = SVC(kernel=kernel).fit(X, y)
        np.testing.assert_array_equal(
            SVC(kernel=kernel).fit(X * 2.0**500, y).dual_coef_, reference.dual_coef_
        )
        model = SVC(kernel=kernel, tol=1e-8).fit(X * 1e150, y)
        np.testing.assert_array_equal(model.support_, reference.support_)
        tight = SVC(kernel=kernel, tol=1e-8).fit(X, y)
        np.testing.assert_allclose(model.dual_coef_, tight.dual_coef_, atol=1e-5)
    with pytest.raises(ValueError, match="linear kernel is out of range"):
        SVC(kernel="linear").fit(X * 1e150, y)


# -- prediction -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_decision_values_that_overflow_are_an_error_not_nan(small, fmt):
    """Where libsvm returns NaN: (gamma x'z + coef0)^3 beyond float64, x'w of 1.7e308 entries."""
    X, y = small
    as_input = sparse.csr_matrix if fmt == "csr" else np.asarray
    poly = SVC(kernel="poly").fit(X, y)
    with pytest.raises(ValueError, match=r"not finite.*entries up to 2\.33e\+160.*as the training"):
        poly.decision_function(as_input(X * 1e160))
    with pytest.raises(ValueError, match="not finite"):
        poly.predict(as_input(X * 1e160))
    linear = SVC(kernel="linear").fit(X, y)
    with pytest.raises(ValueError, match=r"not finite.*entries up to 1\.7e\+308"):
        linear.decision_function(as_input(np.where(X > 0, 1.7e308, -1.7e308)))


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_far_points_get_the_exact_decision_values_as_in_libsvm(small, fmt):
    """Rows far beyond the training data's scale, whose squared norms or kernel arguments overflow,
    go through numpy's IEEE arithmetic: the RBF kernel is 0 there (the decision value is the
    intercept), the sigmoid kernel +-1 as for rows 1e10 away, the linear one s x'w. Only values
    that do not exist in float64 are refused (above)."""
    X, y = small
    as_input = sparse.csr_matrix if fmt == "csr" else np.asarray
    rbf = SVC().fit(X, y)
    libsvm = svm.SVC().fit(X, y)
    for far in [X[:5] * 1e100, X[:5] * 1e200, np.where(X[:5] > 0, 1.7e308, -1.7e308)]:
        np.testing.assert_array_equal(rbf.decision_function(as_input(far)), rbf.intercept_[0])
        np.testing.assert_allclose(libsvm.decision_function(far), rbf.intercept_[0], atol=1e-6)
    sigmoid = SVC(kernel="sigmoid").fit(X, y)
    saturated = sigmoid.decision_function(X[:5] * 1e10)
    np.testing.assert_array_equal(sigmoid.decision_function(as_input(X[:5] * 1e300)), saturated)
    linear = SVC(kernel="linear").fit(X, y)
    slope = linear.decision_function(X[:5]) - linear.intercept_[0]
    np.testing.assert_allclose(linear.decision_function(as_input(X[:5] * 1e300)), slope * 1e300)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_sigmoid_arguments_that_overflow_keep_their_signs(fmt):
    # Rows at 1e250 against support vectors at 1e100: the plain products overflowed to +-inf in
    # whatever order BLAS summed them, tanh made them +-1 with wrong signs: two classes flipped,
    # no warning. gamma <t, s> keeps its sign when its magnitude overflows.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=40) > 0).astype(int)
    T = rng.normal(size=(6, 3))
    model = SVC(kernel="sigmoid", gamma="scale", coef0=-0.5).fit(X * 1e100, y)
    as_input = sparse.csr_matrix if fmt == "csr" else np.asarray
    got = model.decision_function(as_input(T * 1e250))
    gamma = 1.0 / (3 * (X * 1e100).var())
    with np.errstate(over="ignore"):  # (gamma 1e100 = 1e-100, then 1e250 <t, x>: overflows)
        argument = (gamma * 1e100) * 1e250 * (T @ (model.support_vectors_ / 1e100).T)
    reference = np.tanh(argument + model.coef0) @ model.dual_coef_[0] + model.intercept_[0]
    np.testing.assert_allclose(got, reference, rtol=1e-12)


# -- the squared hinge on an indefinite kernel ------------------------------------------------------


def test_squared_hinge_on_an_indefinite_kernel_is_an_error_like_the_qp(small):
    """-K: every pair of opposite labels has negative curvature and no upper bound, and the dual
    decreases without limit (it gave dual_coef_ = [-inf, -1.4e303, ...] marked converged)."""
    X, y = small
    negative = -rbf_kernel(X, gamma=0.5)
    with pytest.raises(ValueError, match="loss='squared_hinge' needs a positive semidefinite"):
        SVC(kernel="precomputed", loss="squared_hinge").fit(negative, y)
    with pytest.raises(ValueError, match="not positive semidefinite"):
        SVC(kernel="precomputed", loss="squared_hinge", solver="qp").fit(negative, y)
    # the hinge and logistic duals are bounded (box, entropy): SMO answers at a stationary point
    for loss in ["hinge", "logistic"]:
        model = SVC(kernel="precomputed", loss=loss).fit(negative, y)
        assert np.all(np.isfinite(model.dual_coef_)) and np.isfinite(model.intercept_).all()


def _blobs(n, classes=2, seed=4):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, 3))
    score = Z[:, 0] + 0.5 * rng.normal(size=n)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    return Z, y


def test_sparse_rbf_rows_far_from_the_origin_are_centred_or_named():
    """Dense rows are centred before the RBF kernel; sparse ones in their mostly filled columns
    (``rbf_centre``: a column that stores fewer than half its entries has the median 0). Before,
    sparse rows were never centred, and at tol=1e-8 with every row shifted by 1e5 a sparse fit
    ended 5.4e-4 from the dense fit's decision values, converged_, silently (a review); then a
    warning said so. Shifted columns are now centred: the cases below (from the reviews of that
    warning) fit as their dense form, within tol beyond the two fits' difference on unshifted
    rows, with no warning. Rows far from the others in columns mostly empty cannot be centred
    that way, and the warning stays for them: where the kernel's rounding, the fitted dual held
    fixed, can move the decision values by more than tol (a row's kernel with itself is not
    exact: a far row of ten entries near 1e7 had K(x, x) = 0.78, its decision value 0.22 off,
    unwarned once; evenly spaced sample rows missed a small far cluster)."""
    cases = [  # (rows, classes, C, gamma, shift of the columns, tol)
        (60, 2, 100.0, 0.5, [1e2, 0.0, -50.0], 1e-8),
        (60, 2, 100.0, 0.5, [1e5, 0.0, -5e4], 1e-8),
        (60, 2, 1e4, 0.5, [1e4, 0.0, -5e3], 1e-6),
        (300, 2, 100.0, 0.5, [1e5, 0.0, -5e4], 1e-3),
        (60, 2, 1.0, "scale", [1e5, 0.0, -5e4], 1e-8),
        (240, 8, 100.0, 0.5, [1e4, 0.0, -5e3], 1e-3),
        (240, 8, 100.0, 0.5, [3e4, 0.0, -1.5e4], 1e-3),
    ]
    for n, classes, C, gamma, shift, tol in cases:
        Z, y = _blobs(n, classes)
        apart = []
        for offset in (np.zeros(3), np.array(shift)):
            X = Z + offset
            params = dict(C=C, gamma=gamma, tol=tol, decision_function_shape="ovo")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fitted = SVC(**params).fit(sparse.csr_matrix(X), y)
            reference = SVC(**params).fit(X, y)
            apart.append(np.abs(fitted.decision_function(X) - reference.decision_function(X)).max())
            assert not any("far from the origin" in str(w.message) for w in caught), (n, shift)
        assert apart[1] - apart[0] <= tol, (n, classes, C, gamma, shift, tol, apart)
    rng = np.random.default_rng(0)
    # one far, mislabelled row of ten entries near 1e7: its own kernel value can round (0.78,
    # and its decision value 0.22 off, before the filled columns were centred; centred, the
    # median does not move for one row, which stays 1e7 away, and is still named: a worst case)
    Z = rng.standard_normal((60, 10))
    y = (Z[:, 0] > 0).astype(int)
    Z[7], y[7] = 1e7 + rng.standard_normal(10), 1 - y[7]
    with pytest.warns(UserWarning, match="far from the origin"):
        SVC(gamma=1.0).fit(sparse.csr_matrix(Z), y)
    # six far rows among 2000, none of them where evenly spaced sample rows fall
    Z = rng.standard_normal((2000, 10))
    y = rng.integers(0, 2, 2000)
    Z[1:7] += 1e6
    y[1:7] = np.arange(6) % 2
    with pytest.warns(UserWarning, match="far from the origin"):
        SVC(C=10.0, gamma=0.1, tol=1e-4).fit(sparse.csr_matrix(Z), y)
    # ... also beside 300 rows of larger norms that weigh 0 (never support vectors)
    weights = np.ones(2000)
    ghosts = np.setdiff1d(np.arange(10, 2000), np.linspace(0, 1999, 256).astype(int))[:300]
    Z[ghosts] += 1e7 * (1.0 + np.arange(300))[:, None]
    weights[ghosts] = 0.0
    with pytest.warns(UserWarning, match="far from the origin"):
        SVC(C=10.0, gamma=0.1, tol=1e-4).fit(sparse.csr_matrix(Z), y, sample_weight=weights)
    # ordinary sparse data and rows mostly equal to each other stay quiet
    rng = np.random.default_rng(4)
    one_hot = sparse.csr_matrix(np.eye(6)[np.r_[np.zeros(4999, dtype=int), 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SVC(tol=1e-8, max_iter=100).fit(one_hot, np.r_[np.zeros(4999, dtype=int), 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text_like = sparse.random_array((80, 200), density=0.05, rng=rng, format="csr")
        SVC().fit(text_like, (np.arange(80) % 2))


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "logistic"])
def test_sparse_rbf_rows_are_centred_in_their_filled_columns(loss):
    # Text-like features (5% stored) beside a column near 1e5 stored in every row: only that
    # column is centred, and the sparse fit is the dense one's. Uncentred, the sparse fit ended
    # 1.9e-5 from the dense one at tol=1e-8 (with the warning), and check_kkt on the sparse
    # rows failed the dense model; libsvm on the centred dense rows is the reference.
    rng = np.random.default_rng(5)
    T = sparse.random(200, 60, density=0.05, random_state=rng, format="csr")
    T.data = rng.standard_normal(T.nnz)
    far = 1e5 + rng.standard_normal(200)
    y = (np.asarray(T[:, :3].sum(axis=1)).ravel() + 0.5 * (far - 1e5) > 0).astype(int)
    X = sparse.hstack([T, far[:, None]], format="csr")
    params = dict(gamma=0.2, C=10.0, loss=loss, tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = SVC(**params).fit(X, y)
    dense = SVC(**params).fit(X.toarray(), y)
    for rows in (X, X.toarray()):
        np.testing.assert_allclose(ours.decision_function(rows),
                                   dense.decision_function(X.toarray()), atol=1e-7)  # fmt: skip
    assert ours.converged_ and check_kkt(ours, X, y, tol=1e-6).ok
    assert check_kkt(dense, X, y, tol=1e-6).ok
    if loss == "hinge":
        centred = X.toarray() - np.median(X.toarray(), axis=0)
        libsvm = svm.SVC(kernel="rbf", gamma=0.2, C=10.0, tol=1e-10).fit(centred, y)
        np.testing.assert_allclose(ours.decision_function(X), libsvm.decision_function(centred),
                                   atol=1e-5)  # fmt: skip


def test_sparse_rbf_rounding_bounds_the_kernel_change_at_the_fitted_dual(monkeypatch):
    # the estimate holds the dual fixed: the decision values from the sparse kernel (rounded
    # expansion) and from the exact one (dense rows, centred first), with the same W, differ by
    # at most it. Reference: the same kernel on centred dense rows, where nothing cancels.
    from mlbasics._ovo import pair_coefficients
    from mlbasics.svm._checks import sparse_rbf_rounding

    for classes, shift in [(2, [1e5, 0.0, -5e4]), (3, [3e4, 0.0, -1.5e4])]:
        Z, y = _blobs(120, classes)
        X = Z + np.array(shift)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # (the warning of the test above)
            model = SVC(C=100.0, gamma=0.5, tol=1e-6).fit(sparse.csr_matrix(X), y)
        W = pair_coefficients(model.dual_coef_, model.n_support_)
        spec = model._kernel_spec
        rounded = spec.matrix(sparse.csr_matrix(X), sparse.csr_matrix(X[model.support_])) @ W
        exact = spec.matrix(Z, Z[model.support_]) @ W  # (centred: the shift drops out)
        moved = sparse_rbf_rounding(sparse.csr_matrix(X), spec, model.support_, W)
        assert 0.0 < np.abs(rounded - exact).max() <= moved
        # the support vectors taken in blocks of 7 (of 4096): the same estimate
        with monkeypatch.context() as patch:
            patch.setattr("mlbasics.svm._checks.SPARSE_RBF_BLOCK", 7)
            blocked = sparse_rbf_rounding(sparse.csr_matrix(X), spec, model.support_, W)
        assert blocked == pytest.approx(moved, rel=1e-12)


def test_the_smallest_eigenvalue_is_not_hidden_by_a_small_c():
    # One C_i = 1e-10 puts 5e9 on Q + D's diagonal; a threshold of 1e-10 n max |Q| read the
    # eigenvalue -3.89 as rounding, and 100 n eps max |Q| at C_i = 1e-13 (reviews). Reference:
    # numpy's eigvalsh.
    from mlbasics.svm._checks import smallest_eigenvalue

    rng = np.random.default_rng(11)
    X = rng.normal(size=(40, 3))
    labels = np.where(X[:, 0] + 0.5 * rng.normal(size=40) > 0, 1.0, -1.0)
    K = sigmoid_kernel(X, X, gamma=1.0, coef0=1.0)
    for small in [1e-6, 1e-10, 1e-13, 1e-14]:
        upper = np.ones(40)
        upper[0] = small
        reference = np.linalg.eigvalsh(np.outer(labels, labels) * K + np.diag(0.5 / upper))[0]
        assert reference < -3.0
        # (both to about eps times the norm of Q + D, up to 5e13 here)
        assert smallest_eigenvalue(K, labels, upper) == pytest.approx(reference, abs=0.1)


@pytest.mark.parametrize("coef0", [1.0, 2.0])
@pytest.mark.parametrize("precomputed", [False, True])
def test_squared_hinge_overflowing_on_a_sigmoid_kernel_names_the_kernel(coef0, precomputed):
    """Pairs of positive curvature, and alpha overflowed before its direction could be tested:
    the message advised scaling the features or a smaller C, which cannot help. Reference: the
    smallest eigenvalue of Q + I / (2C), -3.95 and -4.66 (a review)."""
    rng = np.random.default_rng(11)
    for _ in range(int(coef0) + 2):  # the review's third and fourth draws
        X = rng.normal(size=(40, 3))
        y = (X[:, 0] + 0.5 * rng.normal(size=40) > 0).astype(int)
    K = sigmoid_kernel(X, X, gamma=1.0, coef0=coef0)
    signs = np.where(y == 1, 1.0, -1.0)
    smallest = np.linalg.eigvalsh(np.outer(signs, signs) * K + np.eye(40) / 2.0).min()
    assert smallest < -3.0
    model = (
        SVC(kernel="precomputed", loss="squared_hinge", C=1.0)
        if precomputed
        else SVC(kernel="sigmoid", gamma=1.0, coef0=coef0, loss="squared_hinge", C=1.0)
    )
    with pytest.raises(ValueError, match="needs a positive semidefinite kernel") as error:
        model.fit(K if precomputed else X, y)
    assert "Use loss='hinge' or 'logistic'" in str(error.value)
    assert f"smallest eigenvalue of its Q + diag(1 / (2 C_i)) is {smallest:.3g}" in str(error.value)


@pytest.mark.parametrize("path", ["pair SMO", "batched"])
def test_squared_hinge_unbounded_on_a_named_kernel_is_the_same_error(monkeypatch, path):
    """A sigmoid kernel on pairs (u, 2u) of opposite labels, |u| = 1, gamma = 1, coef0 = -1:
    K_ii + K_jj - 2 K_ij = tanh(0) + tanh(3) - 2 tanh(1) = -0.53, below -1/C."""
    if path == "batched":
        monkeypatch.setattr(_batched, "BATCHED_MIN", 0)
        monkeypatch.setattr(_batched, "WORKING_SET", 16)
    U = np.random.default_rng(0).standard_normal((40, 3))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    X, y = np.vstack([U, 2 * U]), np.repeat([1, 0], 40)
    params = {"kernel": "sigmoid", "gamma": 1.0, "coef0": -1.0, "C": 10.0}
    with pytest.raises(ValueError, match="loss='squared_hinge' needs a positive semidefinite"):
        SVC(loss="squared_hinge", **params).fit(X, y)
    for loss in ["hinge", "logistic"]:
        model = SVC(loss=loss, **params).fit(X, y)
        assert model.converged_ and np.all(np.isfinite(model.dual_coef_))


@pytest.mark.parametrize("path", ["pair SMO", "batched"])
def test_squared_hinge_on_a_sigmoid_kernel_whose_pairs_all_curve_upwards(monkeypatch, path):
    """Standardised data, gamma="scale": every pair of opposite labels has positive curvature, so
    the pair test never fires, yet Q + diag(1/(2C)) has eigenvalues down to -3.7 and the alphas
    grew until the objective overflowed ("not finite ... Scale the features", the wrong advice).
    The direction the alphas took is a certificate of the unbounded dual."""
    if path == "batched":
        monkeypatch.setattr(_batched, "BATCHED_MIN", 0)
        monkeypatch.setattr(_batched, "WORKING_SET", 16)
    X, y = make_classification(100, 4, random_state=0)
    X = StandardScaler().fit_transform(X)
    # SVC's kernel: coef0=0 (sigmoid_kernel's default is 1, whose matrix reaches -7.8: a review)
    K = sigmoid_kernel(X, gamma=1.0 / (X.shape[1] * X.var()), coef0=0.0)
    labels = np.where(y == 1, 1.0, -1.0)
    Q = np.outer(labels, labels) * K + np.eye(len(y)) / 2.0  # C = 1
    assert eigvalsh(Q)[0] < -1.0
    opposite = np.not_equal.outer(labels, labels)
    curvature = np.add.outer(np.diag(K), np.diag(K)) - 2.0 * K + 1.0
    assert curvature[opposite].min() > 0.0
    with pytest.raises(ValueError, match="loss='squared_hinge' needs a positive semidefinite"):
        SVC(kernel="sigmoid", loss="squared_hinge").fit(X, y)


# -- C and the sample weights ------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["C", "sample_weight", "class_weight"])
def test_logistic_loss_with_a_vanishing_C_i_is_an_error(small, where):
    """C_i = 1e-300: alpha (C - alpha) underflowed to 0, a bare ZeroDivisionError in numba."""
    X, y = small
    kwargs, fit_kwargs = {}, {}
    if where == "C":
        kwargs["C"] = 1e-300
    elif where == "sample_weight":
        fit_kwargs["sample_weight"] = np.full(len(y), 1e-300)
    else:
        kwargs["class_weight"] = {0: 1e-300, 1: 1.0}
    for solver in ["smo", "qp"]:
        with pytest.raises(
            ValueError, match=r"C x sample_weight x class_weight of at least 1e-100"
        ):
            SVC(loss="logistic", solver=solver, **kwargs).fit(X, y, **fit_kwargs)


@pytest.mark.parametrize("solver", ["smo", "qp"])
def test_squared_hinge_with_a_class_of_subnormal_C_is_named(small, solver):
    # C = 1e-310: 1 / (2 C) in the dual is beyond float64; the error said "not finite ... use a
    # smaller C". Samples of such C_i beside ordinary ones are left out and settled (accepted).
    X, y = small
    for C in (1e-310, 5e-309):  # (5e-309: the pair step's 1/(2 C_i) + 1/(2 C_j) overflows)
        with pytest.raises(ValueError, match=r"at least 2.2\de-308 on the samples it solves"):
            SVC(loss="squared_hinge", solver=solver, C=C).fit(X, y)
    # 1 / (2e-295) is finite: solved (it was refused by a first, too wide, rule)
    model = SVC(loss="squared_hinge", solver=solver, C=1e-295).fit(X, y)
    assert model.converged_ and check_kkt(model, X, y).ok
    weight = np.ones(len(y))
    weight[::3] = 1e-310
    model = SVC(loss="squared_hinge", solver=solver).fit(X, y, sample_weight=weight)
    assert check_kkt(model, X, y, sample_weight=weight).ok


@pytest.mark.parametrize("solver", ["smo", "qp"])
def test_an_asymmetric_precomputed_kernel_is_refused_by_every_solver(small, solver):
    # SMO read rows where its float64 check read columns: "converged" fits, or 10 million
    # iterations and advice about tol; the QP refused it already
    X, y = small
    K = X @ X.T
    K[0, 1] += 0.3 * np.abs(K).max()
    with pytest.raises(ValueError, match="the kernel matrix is not symmetric"):
        SVC(kernel="precomputed", solver=solver).fit(K, y)
    with pytest.raises(ValueError, match="the kernel matrix is not symmetric"):
        SVC(kernel=lambda A, B: A @ B.T + (A[:, :1] - B[:, :1].T), solver=solver).fit(X, y)
    # judged entry by entry: one far row (entries up to 1e6) let an asymmetry of 0.5 between
    # entries of a few units through a tolerance relative to the largest entry
    far = np.vstack([X, 1e3 * X[:1]])
    K = far @ far.T
    K[3, 4] += 0.5
    with pytest.raises(ValueError, match=r"not symmetric: K\[3, 4\] = .* differ by 0\.5"):
        SVC(kernel="precomputed", solver=solver).fit(K, np.append(y, y[0]))
    # a kernel's own rounding passes: rbf on features near 1e4, asymmetric by about 3e-8
    SVC(kernel=lambda A, B: rbf_kernel(A, B, gamma=0.3), solver=solver).fit(X + 1e4, y)


def test_logistic_loss_at_the_smallest_accepted_C_matches_a_moderate_one(small):
    """Below C ~ 1e-8 the logistic model no longer depends on C (alpha_i ~ C/2, K alpha ~ 0): the
    smallest accepted C gives the intercept of C = 1e-8."""
    X, y = small
    tiny = SVC(loss="logistic", C=_checks.LOGISTIC_MIN_C).fit(X, y)
    moderate = SVC(loss="logistic", C=1e-8).fit(X, y)
    assert tiny.converged_
    np.testing.assert_allclose(tiny.intercept_, moderate.intercept_, rtol=1e-6)


def test_C_times_weights_that_overflow_are_an_error(small):
    X, y = small
    with pytest.raises(ValueError, match="overflows float64"):
        SVC(C=1e300, class_weight={0: 1e10, 1: 1.0}).fit(X, y)


@pytest.mark.parametrize("loss", ["hinge", "logistic"])
def test_weights_whose_dual_overflows_are_an_error_that_names_C(small, loss):
    """sample_weight=1e300 on an indefinite sigmoid kernel: the box's corner, where the hinge dual's
    minimum lies, has objective of order -(sum C_i)^2. The cause is C_i, not the features (the
    sigmoid kernel is bounded by 1), and the message says so."""
    X, y = small
    with pytest.raises(ValueError, match=r"not finite.*up to 1e\+300.*smaller C") as error:
        SVC(kernel="sigmoid", loss=loss).fit(X, y, sample_weight=np.full(len(y), 1e300))
    assert "Scale the features" not in str(error.value)


def test_a_solution_that_overflows_is_an_error_not_a_nan_model(small):
    """The logistic dual at C = 1e200: its objective overflows at the start (NaN before, with
    overflow RuntimeWarnings and ten million iterations); the run now stops at the first chunk."""
    X, y = small
    with pytest.raises(ValueError, match=r"not finite \(dual objective\).*smaller C"):
        SVC(loss="logistic", C=1e200).fit(X, y)


# -- the QP reference with a very large C ---------------------------------------------------------


@pytest.mark.parametrize("C", [1e8, 1e20, 1e30])
def test_qp_with_a_huge_C_finds_the_hard_margin_solution(small, C):
    """The QP's clean-up put every alpha below 1e-7 C on 0: at C = 1e30 the model had no support
    vector and predicted one class, marked converged. On separable data any C this large gives
    the hard-margin solution: libsvm's and SMO's at a tight tol."""
    X, y = small
    model = SVC(solver="qp", C=C).fit(X, y)
    smo = SVC(C=C, tol=1e-9).fit(X, y)
    libsvm = svm.SVC(C=C, tol=1e-9).fit(X, y)
    assert model.converged_
    for reference in (smo, libsvm):
        np.testing.assert_array_equal(model.support_, reference.support_)
        np.testing.assert_allclose(model.dual_coef_, reference.dual_coef_, atol=1e-5)
        np.testing.assert_allclose(model.intercept_, reference.intercept_, atol=1e-6)


def test_qp_solution_that_misses_tol_warns_and_is_not_converged(small):
    """Clarabel ends "optimal" by its own tolerances on this badly scaled problem (C = 1e10, the
    squared hinge on a linear kernel, labels with noise), yet its gap m - M is 1.6."""
    X, _ = small
    y = (X[:, 0] + np.random.default_rng(0).standard_normal(len(X)) > 0).astype(int)
    with pytest.warns(ConvergenceWarning, match=r"solver='qp'.*gap m - M = .* lower C"):
        model = SVC(solver="qp", kernel="linear", loss="squared_hinge", C=1e10).fit(X, y)
    assert not model.converged_ and model.fit_status_ == 1


# -- the checks themselves --------------------------------------------------------------------------


def test_check_solution_names_what_is_not_finite():
    from mlbasics.svm._dual import DualSolution

    solution = DualSolution(np.array([1.0, np.inf]), np.nan, -1.0, 0.0, 1, True, None)
    with pytest.raises(ValueError, match=r"problem 0 vs 1 is not finite \(dual coefficients, int"):
        _checks.check_solution(solution, "0 vs 1")


@pytest.mark.parametrize("solver", ["smo", "qp"])
def test_kernels_below_float32s_normal_range_are_refused_by_name(small, solver):
    # Features at 1e-22 with C = 1e44 are the problem (X, C=1) rescaled; the float32 cache kept its
    # kernel values (1e-44, subnormal) with few digits, and SMO returned converged_=True models
    # that failed check_kkt and were off by 0.9 in their decision values.
    X, y = small
    with pytest.raises(ValueError, match=r"linear kernel's values are at most .* smallest normal"):
        SVC(kernel="linear", C=1e44, solver=solver).fit(X * 1e-22, y)
    with pytest.raises(ValueError, match=r"kernel matrix has entries only up to .* divide C by s"):
        SVC(kernel="precomputed", C=1e44, solver=solver).fit((X @ X.T) * 1e-44, y)
    with pytest.raises(ValueError, match=r"poly kernel's values are at most"):
        SVC(kernel="poly", degree=3, gamma=1e-14, coef0=0.0, solver=solver).fit(X, y)


def test_kernels_just_above_float32s_normal_range_give_the_rescaled_answer(small):
    X, y = small
    reference = SVC(kernel="linear", C=1.0, tol=1e-6).fit(X, y)
    scaled = SVC(kernel="linear", C=1e36, tol=1e-6).fit(X * 1e-18, y)
    np.testing.assert_allclose(
        scaled.decision_function(X * 1e-18), reference.decision_function(X), atol=1e-4
    )


def test_gamma_scale_of_constant_data_that_float64_does_not_hold_exactly_is_one():
    # X full of 0.1: the computed variance is 1.9e-34 (rounding), gamma = 5e33 made the
    # polynomial kernel "out of range" (scikit-learn fails the same way); a constant X gives 1.
    from mlbasics.kernels import resolve_gamma

    X = np.full((20, 3), 0.1)
    assert X.var() > 0  # (1.7e-33 here)
    assert resolve_gamma("scale", X) == 1.0
    assert resolve_gamma("scale", sparse.csr_matrix(X)) == 1.0
    y = np.arange(20) % 2
    model = SVC(kernel="poly").fit(X, y)  # every sample alike: one class predicted, no error
    assert model.predict(X).shape == (20,)
    spread = np.random.default_rng(0).normal(size=(30, 3))
    assert resolve_gamma("scale", spread) == pytest.approx(1.0 / (3 * spread.var()), rel=1e-15)


def test_gamma_scale_is_the_same_for_dense_and_sparse_copies():
    # The sparse variance was E[x^2] - E[x]^2, which lost the digits of features 1 + 3e-8 noise
    # (gamma 1 against the dense 2.3e14); both are now two-pass.
    from mlbasics.kernels import resolve_gamma

    X = 1.0 + 3e-8 * np.random.default_rng(0).normal(size=(200, 5))
    dense = resolve_gamma("scale", X)
    assert dense == pytest.approx(1.0 / (5 * X.var()), rel=1e-12)
    assert resolve_gamma("scale", sparse.csr_matrix(X)) == pytest.approx(dense, rel=1e-9)


def test_gamma_scale_of_sparse_input_with_duplicates_or_huge_values():
    from mlbasics.kernels import resolve_gamma

    # duplicates (0.5 + 0.5 at (0, 0)) are one entry of 1.0, as in the dense copy; X untouched
    X = sparse.csr_matrix(([0.5, 0.5, 2.0], [0, 0, 1], [0, 2, 3]), shape=(2, 2))
    assert resolve_gamma("scale", X) == pytest.approx(resolve_gamma("scale", X.toarray()))
    assert X.nnz == 3
    # a constant X of 1e200: variance 0, gamma 1 (the Python float mean**2 overflowed)
    assert resolve_gamma("scale", sparse.csr_matrix(np.full((4, 2), 1e200))) == 1.0


@pytest.mark.parametrize("as_sparse", [False, True])
def test_gamma_scale_of_entries_whose_squares_overflow(as_sparse):
    # X = [[1, -1], [2, 0]] times 2**520: Var = 5/4 * 2**1040 overflows, gamma = 1 / (2 Var) =
    # 2**-1040 * 2/5 is a (subnormal) float; at 1e300, 1e600 is beyond float64: a named error
    from fractions import Fraction

    from mlbasics.kernels import resolve_gamma

    base = np.array([[1.0, -1.0], [2.0, 0.0]])
    wrap = sparse.csr_matrix if as_sparse else np.asarray
    expected = float(Fraction(2, 5) / 2**1040)
    assert expected > 0.0
    assert resolve_gamma("scale", wrap(base * 2.0**520)) == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match=r"X.var\(\) about 10\*\*600: it underflows to 0"):
        resolve_gamma("scale", wrap(base * 1e300))


@pytest.mark.parametrize("as_sparse", [False, True])
def test_gamma_scale_of_float32_input_is_that_of_its_float64_copy(as_sparse):
    # the variance was computed in float32 and judged against float64's rounding: a constant
    # float32 X of 0.1 gave gamma 6.7e14 (dense) and 5.4e16 (3 sparse rows) instead of 1
    from mlbasics.kernels import resolve_gamma

    wrap = sparse.csr_matrix if as_sparse else np.asarray
    constant = np.full((1000, 3), 0.1, dtype=np.float32)
    assert resolve_gamma("scale", wrap(constant)) == 1.0
    assert resolve_gamma("scale", wrap(constant[:3])) == 1.0
    spread = np.random.default_rng(0).normal(size=(300, 4)).astype(np.float32)
    exact = 1.0 / (4 * spread.astype(np.float64).var())
    assert resolve_gamma("scale", wrap(spread)) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("as_sparse", [False, True])
def test_gamma_scale_beyond_the_largest_float_is_a_named_error(as_sparse):
    # entries of 1e-160: X.var() = 2.5e-321, and gamma = 1 / (2 X.var()) is beyond float64; it
    # came back inf (a numeric gamma=inf is refused); entries of 2**-520 have a representable
    # gamma, computed in units of a power of two
    from fractions import Fraction

    from mlbasics.kernels import resolve_gamma

    wrap = sparse.csr_matrix if as_sparse else np.asarray
    with pytest.raises(ValueError, match=r"X.var\(\) about 10\*\*-321: it overflows"):
        resolve_gamma("scale", wrap(np.array([[1e-160, 0.0], [0.0, 1e-160]])))
    base = np.array([[1.0, -1.0], [2.0, 0.0]])  # Var = 5/4, gamma = 2/5, times 2**1000 here
    expected = float(Fraction(2, 5) * 2**1000)
    assert resolve_gamma("scale", wrap(base * 2.0**-500)) == pytest.approx(expected, rel=1e-12)
    # subnormal entries (X.var() = 2.5e-621): the scaling 2**1030 is beyond float64 itself (an
    # OverflowError)
    with pytest.raises(ValueError, match=r"X.var\(\) about 10\*\*-621: it overflows"):
        resolve_gamma("scale", wrap(np.array([[1e-310, 0.0], [0.0, 1e-310]])))


@pytest.mark.parametrize("as_sparse", [False, True])
def test_gamma_scale_of_entries_whose_sum_overflows(as_sparse):
    # 200 entries of 1e308 and 200 of -1e308: the sum is inf - inf = NaN, and gamma came back 1.0
    # with an "invalid value" warning; X.var() is 1e616, gamma underflows
    from mlbasics.kernels import resolve_gamma

    X = np.where(np.arange(400).reshape(20, 20) % 2 == 0, 1e308, -1e308)
    wrap = sparse.csr_matrix if as_sparse else np.asarray
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"X.var\(\) about 10\*\*616: it underflows"):
            resolve_gamma("scale", wrap(X))


@pytest.mark.parametrize(
    ("gamma", "X", "message"),
    [
        ("scale", np.ones(3), r"X must be a 2-D array of real numbers, got shape \(3,\)"),
        (0.5, np.array([["a", "b"]]), r"X must be a 2-D array of real numbers.*dtype <U1"),
        ("auto", np.zeros((3, 0)), r"gamma='auto' needs a non-empty X; got shape \(3, 0\)"),
        ("scale", np.zeros((0, 2)), r"gamma='scale' needs a non-empty X; got shape \(0, 2\)"),
        ("scale", np.array([[1.0, np.nan]]), "X contains NaN or infinity"),
        (np.inf, np.eye(2), "gamma must be a finite positive number; got gamma=inf"),
        (10**400, np.eye(2), "gamma must be a finite positive number; got gamma=inf"),
        ([0.5], np.eye(2), r"gamma must be 'scale', 'auto' or a positive number; got \[0.5\]"),
    ],
    ids=["1-D", "strings", "no-column", "no-row", "nan", "inf", "huge-int", "list"],
)
def test_resolve_gamma_names_bad_input(gamma, X, message):
    from mlbasics.kernels import resolve_gamma

    with pytest.raises(ValueError, match=message):
        resolve_gamma(gamma, X)


def test_resolve_gamma_takes_a_nested_list():
    from mlbasics.kernels import resolve_gamma

    # entries 1, 2, 3, 4: variance 5/4, gamma = 1 / (2 * 5/4)
    assert resolve_gamma("scale", [[1.0, 2.0], [3.0, 4.0]]) == pytest.approx(0.4, rel=1e-15)
    assert resolve_gamma("auto", [[1.0, 2.0], [3.0, 4.0]]) == 0.5


def test_kernel_spec_and_svc_name_an_unknown_kernel_and_a_degree_beyond_int64(small):
    from mlbasics.kernels import KernelSpec

    with pytest.raises(ValueError, match=r"kernel must be one of .*; got 'bogus'"):
        KernelSpec("bogus")
    X, y = small
    for kernel in ("rbf", "poly"):
        with pytest.raises(ValueError, match=r"degree must be an integer from 0 to 2\*\*63 - 1"):
            SVC(kernel=kernel, degree=10**30).fit(X, y)
    # the largest int64 degree gets through to the kernel's range check: (gamma x'z)^degree,
    # |gamma x'z| < 1, underflows to 0; the message gives the power, not the 0 (a review)
    with pytest.raises(ValueError, match=r"values are at most \(\S+\)\^9223372036854775807, about"):
        SVC(kernel="poly", gamma=0.01, degree=2**63 - 1).fit(X, y)
    with pytest.raises(ValueError, match=r"values are at most \(\S+\)\^2, about 1e-(39|40)\d "):
        SVC(kernel="poly", gamma=1e-200, degree=2).fit(X, y)


def test_qp_with_C_near_the_largest_float_fits_without_a_warning(small):
    # the clean-up's scale test C * max K overflowed (a RuntimeWarning) before it said "too large"
    X, y = small
    model = SVC(solver="qp", kernel="poly", C=1e308).fit(X, y)
    assert np.all(np.isfinite(model.intercept_))
    assert np.all(np.isfinite(model.dual_coef_))
