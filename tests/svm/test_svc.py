"""SVC against libsvm, against an independent primal solution, and against its own duality gap."""

from __future__ import annotations

import pickle
import warnings
from fractions import Fraction
from functools import partial
from itertools import combinations

import cvxpy as cp
import numpy as np
import pytest
from scipy import sparse
from scipy.special import softmax
from sklearn import svm
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.feature_selection import RFE
from sklearn.metrics.pairwise import chi2_kernel, pairwise_kernels, rbf_kernel
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from mlbasics import SVC, losses
from mlbasics.kernels import KernelSpec, resolve_gamma
from mlbasics.optimality import check_kkt
from mlbasics.svm._classes import kernel_block, ovr_from_ovo
from mlbasics.svm._smo import solve_dual

KERNELS = ["linear", "poly", "rbf", "sigmoid"]


def pair_dual_objectives(model, K_train_sv):
    """``1/2 c'Kc - sum |c|`` of every one-vs-one problem, from public attributes only.

    ``c`` are the ``y_i alpha_i`` of the pair's support vectors (libsvm layout: the pair (a, b) keeps
    class a's coefficients in row b - 1 and class b's in row a of ``dual_coef_``). Works for
    scikit-learn's fitted SVC as well as ours.
    """
    n_classes = len(model.classes_)
    bounds = np.concatenate([[0], np.cumsum(model.n_support_)])
    dual_coef = model.dual_coef_
    if sparse.issparse(dual_coef):  # scikit-learn's after a sparse fit
        dual_coef = dual_coef.toarray()
    if sparse.issparse(K_train_sv):
        K_train_sv = K_train_sv.toarray()
    values = []
    for a, b in combinations(range(n_classes), 2):
        ga = np.arange(bounds[a], bounds[a + 1])
        gb = np.arange(bounds[b], bounds[b + 1])
        idx = np.concatenate([ga, gb])
        c = np.concatenate([dual_coef[b - 1, ga], dual_coef[a, gb]])
        values.append(0.5 * c @ K_train_sv[np.ix_(idx, idx)] @ c - np.abs(c).sum())
    return np.array(values)


def split(X, y):
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def assert_matches_libsvm(X, y, **params):
    if params.get("kernel") == "precomputed":
        train, test = train_test_split(np.arange(len(y)), test_size=0.3, random_state=0, stratify=y)
        X_train, X_test = X[np.ix_(train, train)], X[np.ix_(test, train)]
        y_train = y[train]
    else:
        X_train, X_test, y_train, _ = split(X, y)
    ours = SVC(**params).fit(X_train, y_train)
    ref = svm.SVC(**params).fit(X_train, y_train)
    kernel = params.get("kernel", "rbf")
    if kernel == "precomputed":
        gram = X_train[:, ours.support_][ours.support_]
        gram_ref = X_train[:, ref.support_][ref.support_]
    else:
        spec = ours._kernel_spec
        gram = spec.matrix(ours.support_vectors_, ours.support_vectors_)
        gram_ref = spec.matrix(ref.support_vectors_, ref.support_vectors_)
    ours_obj = pair_dual_objectives(ours, gram)
    ref_obj = pair_dual_objectives(ref, gram_ref)
    np.testing.assert_allclose(ours.objective_, ours_obj, rtol=1e-5)  # the certificate is right
    np.testing.assert_allclose(ours_obj, ref_obj, rtol=1e-3)
    agreement = np.mean(ours.predict(X_test) == ref.predict(X_test))
    assert agreement >= 0.995, agreement
    np.testing.assert_allclose(ours.n_support_, ref.n_support_, rtol=0.05, atol=2)
    return ours, ref


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dataset", ["breast_cancer", "wine"])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_smo_matches_libsvm(kernel, dataset, fmt, request):
    X, y = request.getfixturevalue(dataset)
    if fmt == "csr":
        X = sparse.csr_matrix(X)
    assert_matches_libsvm(X, y, kernel=kernel, C=2.0)


def test_smo_matches_libsvm_on_sparse_text_like_data(sparse_multiclass):
    X, y = sparse_multiclass
    assert_matches_libsvm(X, y, kernel="linear", C=0.5)
    assert_matches_libsvm(X, y, kernel="rbf", C=5.0)


def test_sparse_input_with_64_bit_indices_gives_the_same_model(sparse_multiclass):
    # libsvm refuses them; the solvers here narrow them to 32 bits on a copy.
    X, y = sparse_multiclass
    wide = X.copy()
    wide.indices, wide.indptr = wide.indices.astype(np.int64), wide.indptr.astype(np.int64)
    model = SVC(kernel="rbf", C=5.0).fit(wide, y)
    reference = SVC(kernel="rbf", C=5.0).fit(X, y)
    np.testing.assert_array_equal(model.dual_coef_, reference.dual_coef_)
    np.testing.assert_array_equal(model.decision_function(wide), reference.decision_function(X))
    assert wide.indices.dtype == np.int64  # not modified


@pytest.mark.parametrize("dataset", ["breast_cancer", "wine"])
def test_smo_matches_libsvm_with_precomputed_kernel(dataset, request):
    X, y = request.getfixturevalue(dataset)
    gram = pairwise_kernels(X, metric="rbf", gamma=0.05)
    assert_matches_libsvm(gram, y, kernel="precomputed", C=3.0)


def test_class_and_sample_weights_match_libsvm(wine):
    X, y = wine
    rng = np.random.default_rng(0)
    weights = rng.uniform(0.2, 3.0, size=len(y))
    params = {"C": 1.5, "class_weight": {0: 2.0, 1: 0.5, 2: 1.0}}
    ours = SVC(**params).fit(X, y, sample_weight=weights)
    ref = svm.SVC(**params).fit(X, y, sample_weight=weights)
    gram = ours._kernel_spec.matrix(ours.support_vectors_, ours.support_vectors_)
    gram_ref = ours._kernel_spec.matrix(ref.support_vectors_, ref.support_vectors_)
    np.testing.assert_allclose(
        pair_dual_objectives(ours, gram), pair_dual_objectives(ref, gram_ref), rtol=1e-3
    )
    assert np.mean(ours.predict(X) == ref.predict(X)) >= 0.995


@pytest.mark.parametrize("shape", ["ovr", "ovo"])
@pytest.mark.parametrize("break_ties", [False, True])
def test_multiclass_decisions_match_libsvm(iris, shape, break_ties):
    if break_ties and shape == "ovo":
        pytest.skip("break_ties needs ovr")
    X, y = iris
    params = {"decision_function_shape": shape, "break_ties": break_ties, "tol": 1e-8}
    ours = SVC(**params).fit(X, y)
    ref = svm.SVC(**params).fit(X, y)
    assert ours.decision_function(X).shape == ref.decision_function(X).shape
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-5)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)


@pytest.mark.parametrize("solver", ["smo", "qp"])
def test_exact_pairwise_ties_are_counted_as_scikit_learn_and_libsvm_count_them(solver):
    # Far from three training points the rbf kernel values are exactly 0 and so is every
    # pairwise decision value. scikit-learn's ovr scores give such a pair to its first class,
    # libsvm's vote in predict to its second: the ovr scores gave it to the second, and
    # predict(break_ties=True) answered 2 where scikit-learn answers 0.
    X, y = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), np.array([0, 1, 2])
    far = np.array([[100.0, 100.0]])
    ours = SVC(kernel="rbf", solver=solver).fit(X, y)
    ref = svm.SVC(kernel="rbf").fit(X, y)
    assert not ref.set_params(decision_function_shape="ovo").decision_function(far).any()
    ref.set_params(decision_function_shape="ovr")
    np.testing.assert_array_equal(ours.decision_function(far), ref.decision_function(far))
    np.testing.assert_array_equal(ours.predict(far), ref.predict(far))
    ours.set_params(break_ties=True)
    ref.set_params(break_ties=True)
    np.testing.assert_array_equal(ours.predict(far), ref.predict(far))


def test_break_ties_with_ovo_set_after_fit_is_refused_by_predict(iris):
    # fit refuses the pair; set with set_params afterwards, predict answered the plain vote
    # silently (a review). scikit-learn's SVC raises in predict.
    X, y = iris
    model = (
        SVC(kernel="linear").fit(X, y).set_params(break_ties=True, decision_function_shape="ovo")
    )
    with pytest.raises(ValueError, match="break_ties=True needs decision_function_shape='ovr'"):
        model.predict(X[:3])
    with pytest.raises(NotFittedError):  # (an unfitted model says so first, as scikit-learn's)
        SVC(break_ties=True, decision_function_shape="ovo").predict(X[:3])
    reference = svm.SVC(kernel="linear").fit(X, y)
    reference.set_params(break_ties=True, decision_function_shape="ovo")
    with pytest.raises(ValueError, match="break_ties"):
        reference.predict(X[:3])


@pytest.mark.parametrize("fitted, later", [("hinge", "logistic"), ("logistic", "squared_hinge")])
def test_a_loss_set_after_the_fit_changes_no_prediction_nor_certificate(iris, fitted, later):
    # Predictions and check_kkt read the parameter: a hinge model given loss="logistic" by
    # set_params returned softmax "probabilities" of its hinge scores, and its scores changed
    # by up to 1.8 (a review). They follow the fitted model until it is fitted again.
    X, y = iris
    X = StandardScaler().fit_transform(X)
    model = SVC(loss=fitted, tol=1e-6).fit(X, y)
    scores, labels = model.decision_function(X), model.predict(X)
    model.set_params(loss=later)
    np.testing.assert_array_equal(model.decision_function(X), scores)
    np.testing.assert_array_equal(model.predict(X), labels)
    assert hasattr(model, "predict_proba") == (fitted == "logistic")
    assert check_kkt(model, X, y, tol=1e-6)  # judged as the loss it solved
    assert hasattr(model.fit(X, y), "predict_proba") == (later == "logistic")  # refit: the new one


@pytest.mark.parametrize("later", [{"kernel": "linear"}, {"gamma": 5.0}, {"kernel": "poly"}])
def test_a_kernel_set_after_the_fit_changes_no_prediction_nor_certificate(iris, later):
    # predict's linear shortcut read the kernel parameter (an rbf model given kernel="linear"
    # changed 32 of 150 labels) and check_kkt built the kernel from the parameters (an optimal
    # model failed after set_params(gamma=5)): a review. Both follow the fitted kernel.
    X, y = iris
    X = StandardScaler().fit_transform(X)
    model = SVC(gamma=0.5, tol=1e-6).fit(X, y)
    scores = model.decision_function(X)
    model.set_params(**later)
    np.testing.assert_array_equal(model.decision_function(X), scores)
    assert check_kkt(model, X, y, tol=1e-6)
    with pytest.raises(AttributeError, match="only available with kernel='linear'"):
        _ = model.coef_  # (the fitted kernel is rbf)


def test_a_precomputed_model_given_another_kernel_after_the_fit_predicts_as_fitted(iris):
    # predict read the kernel parameter for the precomputed branch: "a precomputed kernel has
    # no matrix to compute" (a review)
    X, y = iris
    K = X @ X.T
    model = SVC(kernel="precomputed").fit(K, y)
    labels = model.predict(K)
    model.set_params(kernel="linear")
    np.testing.assert_array_equal(model.predict(K), labels)
    assert "precomputed kernel" in str(check_kkt(model, K, y))


def _exact_class_sums(ovo, n_classes):
    """Each class's sum of its pairwise values (+ as a pair's first class, - as its second),
    in exact rational arithmetic, then rounded: the reference where float64 sums overflow."""
    sums = np.zeros((len(ovo), n_classes))
    for i, row in enumerate(ovo):
        exact = [Fraction(0)] * n_classes
        for p, (a, b) in enumerate(combinations(range(n_classes), 2)):
            exact[a] += Fraction(float(row[p]))
            exact[b] -= Fraction(float(row[p]))
        sums[i] = [
            float(x) if abs(x) <= np.finfo(float).max else np.sign(x) * np.inf for x in exact
        ]
    return sums


def _squash(sums):
    """scikit-learn's confidence ``s / (3 (|s| + 1))``, taken as ``sign(s) / 3`` where that
    formula's ``3 (|s| + 1)`` overflows (it is ``sign(s) / 3`` to rounding there)."""
    with np.errstate(over="ignore", invalid="ignore"):
        squash = sums / (3 * (np.abs(sums) + 1))
    return np.where(np.abs(sums) > 1e300, np.sign(sums) / 3, squash)


def _libsvm_votes(ovo, n_classes):
    votes = np.zeros((len(ovo), n_classes))
    for p, (a, b) in enumerate(combinations(range(n_classes), 2)):
        votes[ovo[:, p] > 0, a] += 1
        votes[ovo[:, p] <= 0, b] += 1
    return votes


@pytest.mark.parametrize("loss", ["hinge", "logistic"])
def test_one_vs_rest_scores_of_pairwise_values_near_the_float64_maximum(iris, loss):
    # Finite pairwise values whose sums overflow: inf / inf made the ovr scores NaN and predict
    # answered a class with no votes (a review). References: libsvm's vote from the signs, and
    # the classes' sums of pairwise values in exact arithmetic (the confidence beyond 1e308 is
    # +-1/3 of their sign; the logistic class log-odds are a third of them).
    X, y = iris
    X = StandardScaler().fit_transform(X)
    model = SVC(kernel="linear", loss=loss, tol=1e-8).fit(X, y)
    rows = X[:4] * (1.7e308 / np.abs(X[:4] @ model.coef_.T).max(axis=1))[:, None]
    ovo = model.set_params(decision_function_shape="ovo").decision_function(rows)
    model.set_params(decision_function_shape="ovr")
    assert np.all(np.isfinite(ovo)) and np.abs(ovo).max() > 1e308
    votes, sums = _libsvm_votes(ovo, 3), _exact_class_sums(ovo, 3)
    scores = model.decision_function(rows)
    assert np.all(np.isfinite(scores))
    if loss == "logistic":
        u = _exact_class_sums(ovo / 3.0, 3)  # (thirds: the sums stay finite)
        np.testing.assert_allclose(scores, u, rtol=1e-12)
        np.testing.assert_array_equal(model.predict(rows), np.argmax(u, axis=1))
        np.testing.assert_allclose(model.predict_proba(rows), softmax(u, axis=1), atol=1e-12)
    else:
        assert np.any(~np.isfinite(sums))  # (where the float64 sums overflow)
        np.testing.assert_allclose(scores, votes + _squash(sums), rtol=1e-15)
        np.testing.assert_array_equal(model.predict(rows), np.argmax(votes, axis=1))


def test_one_vs_rest_confidence_takes_the_sign_of_the_whole_sum():
    # Five classes: class 0's running sum 1.7e308 + 1.7e308 overflows to +inf though its whole
    # sum is -1e307, and a first fix squashed the inf to +1/3 (a review). Reference: the
    # confidences from the exact sums, by scikit-learn's formula s / (3 (|s| + 1)).
    rng = np.random.default_rng(0)
    ovo = np.empty((50, 10))
    ovo[:, 4:] = rng.standard_normal((50, 6)) * rng.choice([1.0, 1e300, 1e307], (50, 6))
    ovo[:25, :4] = [1.7e308, 1.7e308, -1.75e308, -1.75e308]  # the pairs (0, b)
    ovo[25:, :4] = rng.standard_normal((25, 4))  # (ordinary rows, beside)
    sums = _exact_class_sums(ovo, 5)
    expected = _squash(sums)
    assert np.all(sums[:25, 0] < 0) and np.any(np.abs(sums) < 1e300)
    scores = ovr_from_ovo(ovo, 5)
    np.testing.assert_allclose(scores - _libsvm_votes(ovo, 5), expected, rtol=1e-12, atol=1e-300)


def test_binary_sign_conventions_match_libsvm(breast_cancer):
    X, y = breast_cancer
    ours = SVC(tol=1e-8).fit(X, y)
    ref = svm.SVC(tol=1e-8).fit(X, y)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    # equal up to the float32 kernel rows (libsvm computes in float64 and caches float32)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-4)


def test_linear_kernel_equals_primal_soft_margin(breast_cancer):
    """w = sum_i y_i alpha_i x_i and b from SMO equal the primal QP solved by cvxpy."""
    X, y = breast_cancer
    X, y = X[:200], y[:200]
    C = 0.7
    model = SVC(kernel="linear", C=C, tol=1e-8).fit(X, y)
    w_dual = model.dual_coef_[0] @ model.support_vectors_
    signs = np.where(y == model.classes_[1], 1.0, -1.0)
    w, b, xi = cp.Variable(X.shape[1]), cp.Variable(), cp.Variable(len(y))
    problem = cp.Problem(
        cp.Minimize(0.5 * cp.sum_squares(w) + C * cp.sum(xi)),
        [cp.multiply(signs, X @ w + b) >= 1 - xi, xi >= 0],
    )
    problem.solve(solver=cp.CLARABEL)
    np.testing.assert_allclose(w_dual, w.value, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.intercept_[0], b.value, atol=1e-4)
    margins = signs * (X @ w_dual + model.intercept_[0])
    primal = 0.5 * w_dual @ w_dual + C * losses.hinge(margins).sum()
    np.testing.assert_allclose(primal, problem.value, rtol=1e-6)
    # strong duality: the primal optimum is minus the (minimised) dual objective
    np.testing.assert_allclose(problem.value, -model.objective_[0], rtol=1e-6)


def primal_and_dual(model, X, y, C, loss):
    """Primal objective at the fitted f and the dual objective, for a binary model."""
    signs = np.where(y == model.classes_[1], 1.0, -1.0)
    gram = model._kernel_spec.matrix(model.support_vectors_, model.support_vectors_)
    coef = model.dual_coef_[0]
    margins = signs * model.decision_function(X)
    norm = coef @ gram @ coef
    loss_fn = {"hinge": losses.hinge, "squared_hinge": losses.squared_hinge}.get(
        loss, losses.logistic
    )
    primal = 0.5 * norm + C * loss_fn(margins).sum()
    dual = -model.objective_[0]
    if loss == "logistic":
        dual += len(y) * C * np.log(C)  # the entropy form drops sum_i C log C
    return primal, dual


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "logistic"])
@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_duality_gap_closes(breast_cancer, loss, kernel):
    X, y = breast_cancer
    C = 0.5
    model = SVC(C=C, kernel=kernel, loss=loss, tol=1e-6).fit(X, y)
    primal, dual = primal_and_dual(model, X, y, C, loss)
    # weak duality, up to the float32 rounding of the kernel rows behind the dual objective
    assert primal - dual >= -1e-6 * abs(primal)
    assert (primal - dual) / abs(primal) < 1e-5


@pytest.mark.parametrize("loss", ["squared_hinge", "logistic"])
def test_surrogate_duals_satisfy_their_optimality_conditions(wine, loss):
    """m(alpha) - M(alpha) <= tol, with the gradient recomputed from scratch for every pair."""
    X, y = wine
    C, tol = 2.0, 1e-3
    model = SVC(C=C, loss=loss, tol=tol).fit(X, y)
    gram_all = model._kernel_spec.matrix(X, X)
    bounds = np.concatenate([[0], np.cumsum(model.n_support_)])
    for a, b in combinations(range(3), 2):
        rows = np.flatnonzero((y == a) | (y == b))
        labels = np.where(y[rows] == a, 1.0, -1.0)
        alpha = np.zeros(len(y))
        sv = model.support_
        ga, gb = slice(bounds[a], bounds[a + 1]), slice(bounds[b], bounds[b + 1])
        alpha[sv[ga]] = np.abs(model.dual_coef_[b - 1, ga])
        alpha[sv[gb]] = np.abs(model.dual_coef_[a, gb])
        alpha = alpha[rows]
        Q = labels[:, None] * labels[None, :] * gram_all[np.ix_(rows, rows)]
        if loss == "squared_hinge":
            G = Q @ alpha + alpha / (2 * C) - 1.0
            up = (labels > 0) | (alpha > 0)  # I_up: y=+1 (no upper bound) or y=-1 with alpha > 0
            low = (labels < 0) | (alpha > 0)
            gap = np.max(-labels[up] * G[up]) - np.min(-labels[low] * G[low])
        else:
            assert np.all((alpha > 0) & (alpha < C))  # strictly inside: every sample is a SV
            G = Q @ alpha + np.log(alpha / (C - alpha))
            # alpha saturates within 1e-12 C of a bound (the solver's LOGISTIC_EPS); such a
            # variable can only move inwards, as at a box bound
            movable_up = np.where(labels > 0, alpha < (1 - 1e-12) * C, alpha > 1e-12 * C)
            movable_down = np.where(labels > 0, alpha > 1e-12 * C, alpha < (1 - 1e-12) * C)
            score = -labels * G
            gap = score[movable_up].max() - score[movable_down].min()
        assert gap <= 1.05 * tol, (a, b, gap)
        assert abs(labels @ alpha) <= 1e-8 * C * len(rows)


@pytest.mark.parametrize("loss", ["squared_hinge", "logistic"])
def test_surrogates_predict_about_as_well_as_hinge(breast_cancer, wine, loss):
    for X, y in (breast_cancer, wine):
        X_train, X_test, y_train, y_test = split(X, y)
        hinge = SVC().fit(X_train, y_train).score(X_test, y_test)
        other = SVC(loss=loss).fit(X_train, y_train).score(X_test, y_test)
        assert other >= hinge - 0.03, (hinge, other)


def test_logistic_loss_gives_probabilities_consistent_with_predict(wine, breast_cancer):
    for X, y in (breast_cancer, wine):
        model = SVC(loss="logistic").fit(X, y)
        proba = model.predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], model.predict(X))
        np.testing.assert_allclose(np.log(proba), model.predict_log_proba(X), atol=1e-12)
        assert len(model.support_) == len(y)  # every sample is a support vector
    binary = SVC(loss="logistic").fit(*breast_cancer)
    f = binary.decision_function(breast_cancer[0])
    np.testing.assert_allclose(binary.predict_proba(breast_cancer[0])[:, 1], 1 / (1 + np.exp(-f)))


@pytest.mark.parametrize("solver", ["smo", "qp"])
def test_logistic_predict_follows_the_decision_values_below_the_probabilities_rounding(solver):
    # At C = 1e-20 every |f| is about 1e-20: the probabilities round to 1/2 each, and predict
    # (their argmax) gave classes_[0] to every sample (accuracy 0.50) though the signs of f were
    # those of the exact small-C limit, f = C/2 (K y - mean(K y)) (accuracy 0.95).
    X, y = make_classification(60, 4, random_state=1, flip_y=0.1)
    X = StandardScaler().fit_transform(X)
    labels = np.where(y == 1, 1.0, -1.0)
    limit = X @ (X.T @ labels)
    limit -= limit.mean()
    model = SVC(kernel="linear", loss="logistic", C=1e-20, solver=solver).fit(X, y)
    f = model.decision_function(X)
    np.testing.assert_array_equal(np.sign(f), np.sign(limit))  # (the QP's intercept was 1e-16)
    np.testing.assert_array_equal(model.predict(X), model.classes_[(f > 0).astype(int)])
    assert np.all(model.predict_proba(X) == 0.5)  # the rounding this test is about


def test_multiclass_logistic_probabilities_are_the_softmax_of_least_squares_log_odds(wine):
    """The class scores u fit the pairwise log-odds f_ab in least squares, u_a - u_b ~ f_ab
    (docs/theory/svm.rst), and predict_proba is softmax(u). Here u comes from numpy's lstsq on the
    one-vs-one decision values, not from a closed form: its minimum-norm solution has sum u = 0,
    and softmax does not see the constant anyway."""
    X, y = wine
    model = SVC(loss="logistic", decision_function_shape="ovo").fit(X, y)
    f = model.decision_function(X)  # (n, n_pairs), positive for the first class of each pair
    k = len(model.classes_)
    D = np.zeros((f.shape[1], k))  # (u_a - u_b) for every pair (a, b), libsvm's order
    for p, (a, b) in enumerate(combinations(range(k), 2)):
        D[p, a], D[p, b] = 1.0, -1.0
    u = np.linalg.lstsq(D, f.T, rcond=None)[0].T
    np.testing.assert_allclose(model.predict_proba(X), softmax(u, axis=1), rtol=1e-9, atol=1e-15)
    ovr = SVC(loss="logistic").fit(X, y)  # decision_function "ovr" is u itself
    np.testing.assert_allclose(ovr.decision_function(X), u, rtol=1e-9, atol=1e-12)


def test_hinge_has_no_predict_proba_but_calibrates(breast_cancer):
    X, y = breast_cancer
    assert not hasattr(SVC(), "predict_proba")
    calibrated = CalibratedClassifierCV(SVC(), ensemble=False).fit(X, y)
    proba = calibrated.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert calibrated.score(X, y) > 0.95


@pytest.mark.parametrize("solver", ["smo", "qp"])
@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "logistic"])
@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_sample_weight_equals_repetition(iris, kernel, loss, solver):
    """Integer weights (0 included) against the rows repeated that many times, at a tight tol:
    the same primal problem, so the same decision function and dual optimum. The rbf kernel has
    a numeric gamma: "scale" would see a different X.var() in the two data sets (the reason
    scikit-learn's check fails with the defaults, tests/test_sklearn_compat.py). The logistic
    dual's reported objective leaves out sum_i C_i log C_i, which differs between one sample of
    weight 2 (2 C log 2C) and two copies (2 C log C): the dual values are compared."""
    X, y = iris
    X, y = X[::2], y[::2]  # 75 samples, three classes: three binary problems
    weights = np.random.default_rng(0).integers(0, 4, size=len(y))  # 0 to 3
    repeated = np.repeat(np.arange(len(y)), weights)
    # (the QP solves to 1e-12 whatever tol, which only judges its solution: 1e-6 for that)
    tol = 1e-10 if solver == "smo" else 1e-6
    params = {"kernel": kernel, "loss": loss, "solver": solver, "tol": tol, "C": 2.0}
    if kernel == "rbf":
        params["gamma"] = 0.2
    weighted = SVC(**params).fit(X, y, sample_weight=weights)
    copies = SVC(**params).fit(X[repeated], y[repeated])
    np.testing.assert_allclose(
        weighted.decision_function(X), copies.decision_function(X), rtol=1e-6, atol=1e-6
    )
    values = []
    for model, C in ((weighted, 2.0 * weights), (copies, np.full(len(repeated), 2.0))):
        labels = y if model is weighted else y[repeated]
        value = -model.objective_
        if loss == "logistic":
            for p, (a, b) in enumerate(combinations(range(3), 2)):
                c = C[((labels == a) | (labels == b)) & (C > 0)]
                value[p] += c @ np.log(c)
        values.append(value)
    np.testing.assert_allclose(values[0], values[1], rtol=1e-7)


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_cache_and_shrinking_do_not_change_the_iterates(breast_cancer, loss):
    """A two-row cache (constant eviction) and no shrinking give the same alphas as the defaults."""
    X, y = breast_cancer
    default = SVC(loss=loss).fit(X, y)
    tiny_cache = SVC(loss=loss, cache_size=1e-3).fit(X, y)
    no_shrinking = SVC(loss=loss, shrinking=False).fit(X, y)
    for other in (tiny_cache, no_shrinking):
        np.testing.assert_array_equal(other.support_, default.support_)
        np.testing.assert_allclose(other.dual_coef_, default.dual_coef_, atol=1e-5)
    assert tiny_cache.n_iter_[0] == default.n_iter_[0]


_STUCK_X = np.array([
    [-0.47137749319831695, -1.072822420682492, 0.5879554915597687],
    [-2.898614617024146, -0.774015279292408, 1.2674952300868871],
    [1.0507760296067028, -0.18549136253838838, -0.6394923529564971],
    [-0.804998969017241, 0.5216492324305687, -0.6191295508246943],
    [-0.42700390998073806, 1.4880909584078001, -0.14079386165808747],
    [0.0726676372661932, 0.9252985108569339, -1.9058651257910082],
    [-1.1777333935736278, 1.826289676185761, -1.634458097876963],
    [-0.5967857202585577, 0.06297177296515619, -1.241494570113807],
    [-0.10051772812703341, 0.3737700871414614, 0.07718806994273542],
    [0.11133663404623863, -0.42843394393473433, -1.0750486070208756],
    [-0.8146839128650593, -1.8233400902229673, -1.3025992269765545],
    [-0.15018461476743517, 0.7290703037789381, 1.2627625246953975],
    [-0.411895144076866, -0.5328701420203189, -0.4725583048107592],
    [-1.70492368466658, 1.179859259575023, 2.0261623822302717],
    [-1.0221329370242525, -0.06696243486031475, 1.1544312849330742],
    [0.10801086410224713, -2.4552627587762625, 1.0533540835372917],
    [-0.13317951668875577, 0.761400524515282, -0.9783194070397829],
    [0.9237541947754802, 1.0846787632235095, -0.7275971667792466],
])  # fmt: skip


def test_a_run_whose_shrunk_problem_stalls_brings_the_variables_back():
    # The first four rows repeated: a shrink set aside 13 of the 22 variables (a whole class)
    # while the 9 left hovered at the float32 cache's resolution, above tol and above the 10 tol
    # that brings variables back: ten million steps, w = 0, one class predicted (a review).
    # libsvm's objective and our run without shrinking are the references.
    X = np.vstack([_STUCK_X, _STUCK_X[:4]])
    y = np.array([0, 0, 0, 3, 0, 3, 0, 3, 3, 3, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 3])
    model = SVC(kernel="linear", C=100.0, tol=1e-6).fit(X, y)
    reference = SVC(kernel="linear", C=100.0, tol=1e-6, shrinking=False).fit(X, y)
    libsvm = svm.SVC(kernel="linear", C=100.0, tol=1e-6).fit(X, y)
    c = libsvm.dual_coef_.ravel()
    sv = X[libsvm.support_]
    libsvm_objective = 0.5 * c @ (sv @ sv.T) @ c - np.abs(c).sum()
    assert model.converged_ and model.n_iter_[0] < 100_000
    assert model.objective_[0] == pytest.approx(reference.objective_[0], rel=1e-9)
    assert model.objective_[0] <= libsvm_objective + 1e-6 * abs(libsvm_objective)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-5)


def test_a_cache_budget_near_the_float64_maximum_is_taken_as_unlimited(iris):
    # 1e308 MB in bytes overflowed to inf, and int(inf // ...) raised "cannot convert float NaN
    # to integer" (a review); scikit-learn's SVC takes it
    X, y = iris
    model = SVC(cache_size=1e308).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), SVC().fit(X, y).predict(X))


def test_check_kkt_judges_the_gap_where_the_sum_of_c_overflows(iris):
    # sum C_i overflowed to inf at C near 1e307 and every gap read 0, "ok" (a review). The gap
    # per unit of sum C_i does not depend on C once every variable is free: C = 1e300 the
    # reference, where the sum is finite.
    X, y = iris
    X, y = StandardScaler().fit_transform(X[y > 0]), y[y > 0]
    rows = {}
    for C in (1e300, 1e308):
        report = check_kkt(SVC(C=C).fit(X, y), X, y)
        rows[C] = float(np.max(report.violations["duality gap"]))
    assert rows[1e308] > 0.0
    assert rows[1e308] == pytest.approx(rows[1e300], rel=1e-6)


def test_callable_kernel_equals_named_kernel(wine):
    X, y = wine
    gamma = 0.07

    def rbf(A, B):
        return pairwise_kernels(A, B, metric="rbf", gamma=gamma)

    named = SVC(kernel="rbf", gamma=gamma).fit(X, y)
    custom = SVC(kernel=rbf).fit(X, y)
    np.testing.assert_allclose(custom.decision_function(X), named.decision_function(X), atol=1e-8)
    np.testing.assert_array_equal(custom.support_, named.support_)


def _letter_counts(A, B):
    """A string kernel: the inner product of the letter counts of two words."""
    count = lambda words: np.array([[w.count(c) for c in "abc"] for w in np.ravel(words)], float)  # noqa: E731
    return count(A) @ count(B).T


WORDS = np.array([["aab"], ["abb"], ["bbb"], ["aaa"], ["aba"], ["bab"], ["bba"], ["baa"],
                  ["abc"], ["cab"], ["bca"], ["ccc"]], dtype=object)  # fmt: skip
WORD_LABELS = np.array([1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0])


@pytest.mark.parametrize("solver", ["smo", "qp"])
def test_a_string_kernel_reads_strings_as_scikit_learn_does(solver):
    """Only the callable reads X: strings were converted to float64 in fit and raised."""
    ours = SVC(kernel=_letter_counts, C=1.0, tol=1e-10, solver=solver).fit(WORDS, WORD_LABELS)
    theirs = svm.SVC(kernel=_letter_counts, C=1.0, tol=1e-10).fit(WORDS, WORD_LABELS)
    new = np.array([["aaab"], ["bbbc"], ["cc"]], dtype=object)
    np.testing.assert_allclose(
        ours.decision_function(new), theirs.decision_function(new), atol=1e-6
    )
    assert ours.support_vectors_.dtype == object
    assert check_kkt(ours, WORDS, WORD_LABELS, tol=1e-6).ok
    assert check_kkt(theirs, WORDS, WORD_LABELS, tol=1e-6).ok


def _missing_aware_rbf(A, B):
    """An RBF kernel that skips missing coordinates (NaN) of either row."""
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    return np.exp(-0.5 * np.nansum((A[:, None, :] - B[None, :, :]) ** 2, axis=-1))


def _series_rbf(A, B):
    """An RBF kernel on whole series: rows of shape (time, channels)."""
    A, B = np.asarray(A), np.asarray(B)
    return np.exp(-0.1 * ((A[:, None] - B[None]) ** 2).sum(axis=(-2, -1)))


def _sequence_rbf(A, B):
    """An RBF kernel on the mean and spread of sequences of any lengths, their missing values
    (NaN) skipped."""

    def features(rows):
        return np.array([[np.nanmean(r), np.nanstd(r)] for r in rows])

    a, b = features(A), features(B)
    return np.exp(-((a[:, None] - b[None]) ** 2).sum(axis=-1))


def _callable_inputs():
    rng = np.random.default_rng(0)
    sequences = [list(rng.normal(i % 2, 1.0, rng.integers(3, 9))) for i in range(30)]
    arrays = np.empty(30, dtype=object)  # the same sequences as numpy arrays
    arrays[:] = [np.array(s) for s in sequences]
    with_nan = rng.standard_normal((30, 3))
    nan_labels = (with_nan[:, 0] > 0).astype(int)
    with_nan[3, 1] = with_nan[7, 2] = np.nan
    series = rng.standard_normal((30, 4, 2))
    words = [str(w[0]) for w in WORDS]
    return {
        "a list of strings": (_letter_counts, words, WORD_LABELS),
        "missing values": (_missing_aware_rbf, with_nan, nan_labels),
        "3-D series": (_series_rbf, series, (series[:, 0, 0] > 0).astype(int)),
        "ragged sequences": (_sequence_rbf, sequences, np.arange(30) % 2),
        # (check_kkt compared such rows with ==, whose arrays have no single truth value)
        "ragged arrays": (_sequence_rbf, arrays, np.arange(30) % 2),
    }


@pytest.mark.parametrize(
    "case",
    ["a list of strings", "missing values", "3-D series", "ragged sequences", "ragged arrays"],
)
def test_a_callable_kernel_reads_any_rows_as_scikit_learn_does(case):
    # X was checked as 2-D finite features although only the callable reads it: a plain list
    # of strings, NaN for a kernel that handles them and 3-D series were refused, where
    # scikit-learn's SVC fits them (a review). Reference: scikit-learn's SVC, and its
    # certificate by check_kkt.
    kernel, X, y = _callable_inputs()[case]
    ours = SVC(kernel=kernel, tol=1e-10).fit(X, y)
    theirs = svm.SVC(kernel=kernel, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert check_kkt(ours, X, y, tol=1e-6).ok
    assert check_kkt(theirs, X, y, tol=1e-6).ok
    if case in (
        "missing values",
        "3-D series",
    ):  # other rows than the training data's are told apart
        other = np.array(X, dtype=float) + 0.5
        with pytest.raises(ValueError, match=r"X differs|X\[support_\] differs"):
            check_kkt(theirs if case == "missing values" else ours, other, y)


def test_check_kkt_knows_ragged_rows_with_missing_values_after_a_reload():
    # A pickled model's support vectors are new objects: exact == told its ragged rows with a
    # NaN apart from the training data ("X[support_] differs", also for scikit-learn's model:
    # "X differs"), where the identity of the objects had hidden it (a review). The data passed
    # are the training data themselves (pickled copies); one changed value is still refused.
    rng = np.random.default_rng(0)
    X = np.empty(30, dtype=object)
    X[:] = [rng.normal(i % 2, 1.0, rng.integers(3, 9)) for i in range(30)]
    for row in X:
        row[0] = np.nan
    y = np.arange(30) % 2
    for model in (SVC(kernel=_sequence_rbf), svm.SVC(kernel=_sequence_rbf)):
        loaded = pickle.loads(pickle.dumps(model.fit(X, y)))
        assert check_kkt(loaded, X, y).ok
        assert check_kkt(loaded, pickle.loads(pickle.dumps(X)), y).ok
        changed = pickle.loads(pickle.dumps(X))
        changed[int(np.ravel(model.support_)[0])][1] += 1.0
        with pytest.raises(ValueError, match=r"X differs|X\[support_\] differs"):
            check_kkt(loaded, changed, y)


def _record_kernel(A, B):
    """An RBF kernel on records (name, weight): the name's length and the weight, as given."""

    def features(rows):
        return np.array([[len(name), weight] for name, weight in rows], dtype=float)

    a, b = features(A), features(B)
    if not all(isinstance(weight, float) for _, weight in A):
        raise TypeError("the weights reached the kernel as something else than floats")
    return np.exp(-0.5 * ((a[:, None] - b[None]) ** 2).sum(axis=-1))


def test_records_reach_a_callable_kernel_as_given():
    # A list of (str, float) tuples was stacked by numpy into strings: the kernel read '1.5',
    # scikit-learn's model failed check_kkt on its own data and ours fitted another model (a
    # review). Reference: scikit-learn's SVC, which passes the list as given.
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    X = [("ab" * (i % 3 + 1), float(rng.normal(2 * y[i], 1.0))) for i in range(40)]
    ours = SVC(kernel=_record_kernel, C=10.0, tol=1e-8).fit(X, y)
    theirs = svm.SVC(kernel=_record_kernel, C=10.0, tol=1e-8).fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), atol=1e-6)
    assert check_kkt(ours, X, y, tol=1e-6).ok and check_kkt(theirs, X, y, tol=1e-6).ok


@pytest.mark.parametrize("form", ["zip", "tuple of tuples", "index tuples"])
def test_numeric_tuples_are_stacked_as_scikit_learns_kernels_expect(form):
    # A first fix made every list of tuples an object array of them: the tuples of zip(x1, x2)
    # no longer reached rbf_kernel as numbers and fit crashed inside the kernel (a review).
    # Reference: scikit-learn's SVC on the same list.
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(30), rng.standard_normal(30)
    y = (a > 0).astype(int)
    if form == "index tuples":
        table = np.c_[a, b]
        X = [(i,) for i in range(30)]

        def kernel(A, B):
            return rbf_kernel(
                table[np.asarray(A, dtype=int)[:, 0]], table[np.asarray(B, dtype=int)[:, 0]]
            )
    else:
        X = list(zip(a, b, strict=True))
        X = tuple(X) if form == "tuple of tuples" else X
        kernel = rbf_kernel
    ours = SVC(kernel=kernel, tol=1e-10).fit(X, y)
    theirs = svm.SVC(kernel=kernel, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), atol=1e-6)
    assert check_kkt(ours, X, y, tol=1e-6).ok and check_kkt(theirs, X, y, tol=1e-6).ok


def test_check_kkt_sums_float32_duplicates_of_scikit_learns_training_x_as_it_sums_x():
    # check_kkt summed X's duplicate entries in sorted order, the fitted X in stored order: in
    # float32 one ulp apart, and rtol=1e-12 then refused scikit-learn's model on its own data
    # (a review). Reference: the very matrix given to fit.
    rng = np.random.default_rng(1)
    dense = rng.normal(0.0, 1.0, (120, 8))
    dense[rng.random((120, 8)) < 0.5] = 0.0
    y = (dense[:, 0] + dense[:, 1] > 0).astype(int)
    data, indices, indptr = [], [], [0]
    for row in dense:  # each entry stored as three unsorted parts 0.1, 0.2 and 0.7 of it
        parts = [(j, f * row[j]) for j in np.flatnonzero(row) for f in (0.1, 0.2, 0.7)]
        for k in rng.permutation(len(parts)):
            indices.append(parts[k][0])
            data.append(parts[k][1])
        indptr.append(len(data))
    X = sparse.csr_matrix((np.array(data, np.float32), indices, indptr), shape=(120, 8))

    def linear(A, B):
        return (A @ B.T).toarray().astype(float)

    theirs = svm.SVC(kernel=linear, C=10.0).fit(X.copy(), y)
    assert check_kkt(theirs, X, y).ok


def test_check_kkt_refuses_support_vectors_off_by_a_millionth():
    # Numbers were compared with allclose's default rtol of 1e-5 (the docstring said 1e-12):
    # a support vector scaled by 1 + 1e-6 passed for the training data (a review).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = (X[:, 0] > 0).astype(int)

    def linear(A, B):
        return np.asarray(A) @ np.asarray(B).T

    model = SVC(kernel=linear).fit(X, y)
    changed = X.copy()
    changed[model.support_[0]] *= 1.0 + 1e-6
    with pytest.raises(ValueError, match=r"X\[support_\] differs"):
        check_kkt(model, changed, y)
    assert check_kkt(model, X.copy(), y).ok


def test_scikit_learns_model_on_ragged_lists_is_compared_with_x():
    # Its training X, a list numpy cannot stack, was not compared at all: a reversed row passed
    # (a review). Reference: the training data themselves pass.
    rng = np.random.default_rng(0)
    X = [list(rng.normal(i % 2, 1.0, rng.integers(3, 9))) for i in range(30)]
    y = np.arange(30) % 2
    theirs = svm.SVC(kernel=_sequence_rbf).fit(X, y)
    assert check_kkt(theirs, [list(row) for row in X], y).ok
    changed = [list(row) for row in X]
    changed[int(theirs.support_[0])].reverse()
    with pytest.raises(ValueError, match="X differs"):
        check_kkt(theirs, changed, y)


def test_a_callable_kernel_gets_the_rows_themselves():
    # The array is copied for the callable, not the objects in it (a deep copy broke a kernel
    # that looks rows up by identity, and rows that cannot be copied: a review). Reference:
    # scikit-learn's SVC, which passes X as given.
    rows = [[float(i % 3), float(i % 2)] + [0.0] * (i % 4) for i in range(24)]
    y = np.array([i % 2 for i in range(24)])
    known = {id(row): i for i, row in enumerate(rows)}

    def by_identity(A, B):
        a = np.array([rows[known[id(r)]][:2] for r in A])
        b = np.array([rows[known[id(r)]][:2] for r in B])
        return a @ b.T

    ours = SVC(kernel=by_identity).fit(rows, y)
    theirs = svm.SVC(kernel=by_identity).fit(rows, y)
    np.testing.assert_allclose(
        ours.decision_function(rows), theirs.decision_function(rows), atol=1e-6
    )


def test_a_callable_kernel_on_columns_counts_them_and_a_refit_on_strings_forgets_them():
    # With X read as given, n_features_in_ was no longer set: predict on 5 columns of a model
    # fitted on 3 failed inside the kernel, and a model refitted on strings kept an earlier
    # fit's count, so that check_kkt refused its training data (a review).
    def linear(A, B):
        return np.asarray(A, dtype=float) @ np.asarray(B, dtype=float).T

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    y = (X[:, 0] > 0).astype(int)
    model = SVC(kernel=linear).fit(X, y)
    assert model.n_features_in_ == 3
    with pytest.raises(ValueError, match="X has 5 features, but SVC is expecting 3 features"):
        model.predict(rng.standard_normal((4, 5)))
    with pytest.raises(ValueError, match="Expected 2D array"):
        model.predict(X[0])
    words = [str(w[0]) for w in WORDS]
    model.set_params(kernel=_letter_counts).fit(words, WORD_LABELS)
    assert not hasattr(model, "n_features_in_")
    assert check_kkt(model, words, WORD_LABELS, tol=1e-3).ok  # (the fit's tol)
    np.testing.assert_array_equal(
        model.predict(words), svm.SVC(kernel=_letter_counts).fit(words, WORD_LABELS).predict(words)
    )


def test_an_index_kernel_gets_integer_indices(wine):
    """X holding row indices into a precomputed table: the indices were converted to float64 and
    the kernel's indexing raised. The model equals the one fitted on the table itself."""
    X, y = wine
    table = pairwise_kernels(X, metric="rbf", gamma=0.07)
    seen = []

    def index_kernel(A, B):
        seen.append((A.dtype, B.dtype))
        return table[np.ravel(A)][:, np.ravel(B)]

    rows = np.arange(len(y)).reshape(-1, 1)
    by_index = SVC(kernel=index_kernel, tol=1e-10).fit(rows, y)
    by_table = SVC(kernel="precomputed", tol=1e-10).fit(table, y)
    np.testing.assert_allclose(
        by_index.decision_function(rows[:20]), by_table.decision_function(table[:20]), atol=1e-8
    )
    assert all(np.issubdtype(a, np.integer) and np.issubdtype(b, np.integer) for a, b in seen)
    assert check_kkt(by_index, rows, y, tol=1e-6).ok


@pytest.mark.parametrize("gamma", ["scale", "auto", 0.3])
def test_gamma_is_resolved_as_in_scikit_learn(wine, gamma):
    X, y = wine
    ref = svm.SVC(gamma=gamma).fit(X, y)
    assert resolve_gamma(gamma, X) == pytest.approx(ref._gamma)
    assert resolve_gamma(gamma, sparse.csr_matrix(X)) == pytest.approx(ref._gamma)


def test_kernel_spec_diagonal_matches_matrix(wine):
    X = wine[0][:20]
    for kernel in KERNELS:
        spec = KernelSpec(kernel, gamma=0.1, coef0=0.5, degree=2)
        np.testing.assert_allclose(spec.diagonal(X), np.diag(spec.matrix(X, X)), rtol=1e-12)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_prediction_blocks_are_scikit_learns_kernel_values_in_the_same_blocks(wine, kernel, fmt):
    """SVC predicts with its own arithmetic for the named kernels (kernel_block: one BLAS product
    finished by compiled code), through the blocks of KernelSpec.blocks; the values are those of
    scikit-learn's pairwise kernels up to rounding."""
    X = wine[0]
    if fmt == "csr":
        X = sparse.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    spec = KernelSpec(kernel, gamma=0.1, coef0=0.5, degree=2)
    Z = X[::3]
    budget = 8 * Z.shape[0] * 40  # blocks of 40 rows: 40, 40, 40, 40, 18
    ours = list(spec.blocks(X, Z, budget, block=partial(kernel_block, spec)))
    reference = list(spec.blocks(X, Z, budget))
    expected = [slice(0, 40), slice(40, 80), slice(80, 120), slice(120, 160), slice(160, 178)]
    assert [rows for rows, _ in ours] == [rows for rows, _ in reference] == expected
    for (_, mine), (_, theirs) in zip(ours, reference, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("start", [0, 3])
def test_compiled_rbf_exponentials_match_numpy(start):
    """The vectorised exponentials of the SMO rows (float32) and of prediction (float64), over the
    whole range of exponents: 0 (a point against itself), the clipping points (-87 and -700), and
    distances that would be negative by rounding."""
    from mlbasics.svm._smo_kernels import _rbf_inplace, _rbf_row32

    rng = np.random.default_rng(0)
    n, gamma, sq_i = 4000, 0.7, 2.0
    exponent = np.concatenate([[0.0, 1e-9, 50.0, 87.0, 90.0, 700.0, 800.0], rng.uniform(0, 120, n)])
    sqn = rng.uniform(0.0, 4.0, exponent.size)
    dots = 0.5 * (sq_i + sqn - exponent / gamma)
    dots[1] += 1e-6  # a squared distance below 0 by rounding: clipped to exp(0) = 1
    expected = np.exp(-gamma * np.maximum(sq_i + sqn - 2.0 * dots, 0.0))
    stop = exponent.size
    bits = np.empty(stop, dtype=np.int64)

    row = np.full(stop, -1.0, dtype=np.float32)
    _rbf_row32(row, dots[start:].astype(np.float32), start, stop, sqn, sq_i, gamma, bits)
    assert np.all(row[:start] == -1.0)  # untouched outside [start, stop)
    exponent32 = gamma * np.maximum(sq_i + sqn - 2.0 * dots.astype(np.float32), 0.0)
    exact32 = np.exp(-exponent32)
    # The exponent v is rounded to float32 (absolute error |v| 6e-8), so the relative error grows
    # with |v| while the absolute error stays below float32's resolution at 1.
    v = np.minimum(exponent32[start:], 87.0)
    big = exact32[start:] > np.exp(-87.0)
    error = np.abs(row[start:] - exact32[start:])
    assert np.all(error[big] <= exact32[start:][big] * 1.2e-7 * (1.0 + v[big]))
    assert error.max() <= 1.2e-7
    assert np.all(row[start:][~big] <= np.float32(np.exp(-87.0)) * 1.000001)

    values = dots.copy()
    _rbf_inplace(values, start, stop, sqn, sq_i, gamma, bits)
    np.testing.assert_array_equal(values[:start], dots[:start])
    fine = expected[start:] > np.exp(-700.0)
    np.testing.assert_allclose(values[start:][fine], expected[start:][fine], rtol=1e-13)
    assert np.all(values[start:][~fine] <= np.exp(-700.0) * (1 + 1e-13))


@pytest.mark.parametrize("route", ["inverted index", "direct"])
def test_sparse_kernel_rows_by_either_route_equal_the_dense_products(route):
    """Sparse rows come through the inverted index (CSC) or row-by-row dot products, whichever
    is cheaper; both give the inner products of the dense matrix, in the solver's order."""
    from mlbasics.svm._dual import _data
    from mlbasics.svm._smo_kernels import _sparse_dots

    rng = np.random.default_rng(1)
    X = sparse.random(300, 500, density=0.02, format="csr", random_state=1)
    y = np.where(rng.random(300) < 0.5, -1.0, 1.0)
    data, _, _ = _data(X, y, KernelSpec("rbf", gamma=1.0))
    perm = data[3]
    rng.shuffle(perm)  # the solver's positions after some shrinking steps
    postings = data[14]
    postings[:] = 0 if route == "inverted index" else 10**12
    dense = X.toarray()
    for i, (start, stop) in [(0, (0, 300)), (17, (5, 120)), (299, (0, 1))]:
        _sparse_dots(i, start, stop, data)
        expected = dense[perm[start:stop]] @ dense[perm[i]]
        np.testing.assert_allclose(data[9][start:stop], expected, rtol=1e-12, atol=1e-15)
        assert not data[7].any()  # the scratch buffer is left zeroed


def test_sigmoid_kernel_is_not_psd_and_smo_still_terminates():
    X, y = make_classification(300, 5, random_state=0)
    model = SVC(kernel="sigmoid", gamma=2.0, coef0=1.0, C=10.0, max_iter=200_000)
    eigenvalues = np.linalg.eigvalsh(pairwise_kernels(X, metric="sigmoid", gamma=2.0, coef0=1.0))
    assert eigenvalues.min() < -1e-6  # genuinely indefinite
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert np.all(np.isfinite(model.decision_function(X)))


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("to_input", [np.asarray, sparse.csr_matrix])
def test_linear_kernel_exposes_scikit_learns_coef(iris, classes, to_input):
    # coef_ (one row per pair, in intercept_'s order) is what RFE and SelectFromModel read.
    X, y = iris
    y = y if classes == 3 else (y == 2).astype(int)
    model = SVC(kernel="linear", tol=1e-10).fit(to_input(X), y)
    reference = svm.SVC(kernel="linear", tol=1e-10).fit(X, y)
    assert isinstance(model.coef_, np.ndarray)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-4)
    ovo = SVC(kernel="linear", decision_function_shape="ovo").fit(X, y)
    np.testing.assert_allclose(X @ ovo.coef_.T + ovo.intercept_,
                               ovo.decision_function(X).reshape(len(X), -1), atol=1e-10)  # fmt: skip
    selector = RFE(SVC(kernel="linear"), n_features_to_select=2).fit(X, y)
    reference_selector = RFE(svm.SVC(kernel="linear"), n_features_to_select=2).fit(X, y)
    np.testing.assert_array_equal(selector.support_, reference_selector.support_)


def test_coef_is_for_the_linear_kernel_only(iris):
    X, y = iris
    assert not hasattr(SVC(kernel="linear"), "coef_")  # not fitted
    model = SVC().fit(X, y)
    assert not hasattr(model, "coef_")
    with pytest.raises(AttributeError, match="only available with kernel='linear'"):
        _ = model.coef_


def test_coef_is_read_only_as_in_scikit_learn(iris):
    # coef_ is computed from the dual variables at each access: a write went into a copy that
    # nothing reads (predictions unchanged, no error); scikit-learn's coef_ refuses the write
    X, y = iris
    model = SVC(kernel="linear").fit(X, y)
    reference = svm.SVC(kernel="linear").fit(X, y)
    with pytest.raises(ValueError, match="read-only"):
        reference.coef_[0, 0] = 99.0
    with pytest.raises(ValueError, match="read-only"):
        model.coef_[0, 0] = 99.0


def test_class_weight_is_stored_as_scikit_learns_svc_stores_it(iris):
    X, y = iris[0][20:], iris[1][20:]  # unequal classes
    for class_weight in (None, "balanced", {0: 2.0, 2: 0.5}):
        ours = SVC(class_weight=class_weight).fit(X, y)
        reference = svm.SVC(class_weight=class_weight).fit(X, y)
        np.testing.assert_allclose(ours.class_weight_, reference.class_weight_, rtol=1e-12)


def test_max_iter_minus_one_is_scikit_learns_no_limit(iris):
    X, y = iris
    model = SVC(max_iter=-1).fit(X, y)
    np.testing.assert_array_equal(model.dual_coef_, SVC().fit(X, y).dual_coef_)
    with pytest.raises(ValueError, match="max_iter"):
        SVC(max_iter=-2).fit(X, y)


def test_a_fit_warns_once_for_all_its_unconverged_problems(iris):
    X, y = iris
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SVC(max_iter=3).fit(X, y)
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert len(messages) == 1
    assert "3 of 3 binary problems stopped short (0 vs 1, 0 vs 2, 1 vs 2)" in messages[0]


def test_qp_asked_for_a_tol_below_its_reach_is_told_to_use_smo(wine):
    X, y = wine
    X, y = X[y < 2], y[y < 2]
    with pytest.warns(ConvergenceWarning, match=r"gaps of about 1e-8 at best.*solver='smo'"):
        model = SVC(solver="qp", tol=1e-12).fit(X, y)
    assert not model.converged_


def test_max_iter_warns_and_leaves_a_usable_model(breast_cancer):
    X, y = breast_cancer
    with pytest.warns(ConvergenceWarning, match="increase max_iter|Increase max_iter"):
        model = SVC(max_iter=5).fit(X, y)
    assert model.n_iter_[0] == 5
    assert model.fit_status_ == 1 and not model.converged_
    assert model.predict(X).shape == y.shape


def test_verbose_prints_the_falling_gap(capsys):
    # a problem of several chunks (breast cancer converges within the first): one line per chunk
    X, y = make_classification(3000, 20, n_informative=10, flip_y=0.1, random_state=0)
    X = StandardScaler().fit_transform(X)
    model = SVC(C=10, tol=1e-6, verbose=1).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[SMO]")]
    iterations = [int(line.split("iter")[1].split()[0]) for line in lines]
    gaps = [float(line.split("gap")[1].split()[0]) for line in lines]
    objectives = [float(line.split("dual objective")[1].split()[0]) for line in lines]
    assert len(lines) >= 3 and iterations[-1] == model.n_iter_[0]
    # at tol=1e-6 the last line is the check of the float64 gradient (_dual.needs_float64_check)
    assert lines[-1].endswith("(float64 gradient)")
    assert gaps[-1] <= 1e-6 < gaps[0]
    assert gaps[-1] == pytest.approx(model.convergence_[0].optimality[-1], rel=1e-3)
    assert objectives[-1] == pytest.approx(model.objective_[0], rel=1e-6)  # as the trace
    assert np.all(np.diff(objectives) <= 0)  # SMO decreases the dual (minimised form)


def test_verbose_prints_what_the_solver_logs_and_the_solver_prints_nothing(breast_cancer, capsys):
    """The estimator decides where the progress lines go (print, with verbose); the solver only
    hands them to the log it is given."""
    X, y = breast_cancer
    SVC(C=10, tol=1e-6, verbose=1).fit(X, y)
    printed = capsys.readouterr().out.splitlines()
    logged = []
    labels = np.where(y == 0, 1.0, -1.0)  # +1 for classes_[0], as SVC sets its binary problem up
    spec = KernelSpec("rbf", resolve_gamma("scale", X))
    solve_dual(X, labels, np.full(len(y), 10.0), spec, tol=1e-6, log=logged.append)
    assert capsys.readouterr().out == ""
    assert logged[-1].endswith("(float64 gradient)")
    assert printed == ["[SVC] binary problem 0 vs 1", *logged]
    SVC(C=10, tol=1e-6).fit(X, y)
    assert capsys.readouterr().out == ""


def test_convergence_trace_records_a_falling_objective(breast_cancer):
    model = SVC(tol=1e-6).fit(*breast_cancer)
    trace = model.convergence_[0]
    assert trace.objective[0] == 0.0
    assert trace.optimality[-1] < 1e-6
    # the last record is the float64 check's, whose objective is objective_ (it was the sum of
    # the steps on float32 rows, off by 2.4e-3 on 20 000 samples)
    np.testing.assert_allclose(trace.objective[-1], model.objective_[0], rtol=1e-14)
    # SMO decreases the dual at every step; the float64 check's recomputed value may sit above
    # the kept sum by that sum's rounding (1e-7 relative at most, at 348 201 steps)
    assert np.all(np.diff(trace.objective) <= 1e-7 * abs(model.objective_[0]))


def test_fit_is_repeatable_and_pickles(wine):
    X, y = wine
    first = SVC(random_state=0).fit(X, y)
    second = SVC(random_state=1).fit(X, y)
    np.testing.assert_array_equal(first.dual_coef_, second.dual_coef_)
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.decision_function(X), first.decision_function(X))


def test_inputs_are_not_modified(wine):
    X, y = wine
    X_copy, y_copy = X.copy(), y.copy()
    weights = np.linspace(0.5, 2.0, len(y))
    weights_copy = weights.copy()
    SVC().fit(X, y, sample_weight=weights).predict(X)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(weights, weights_copy)


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"C": 0.0}, "C"),
        ({"C": -1.0}, "C"),
        ({"gamma": 0.0}, "gamma"),
        ({"gamma": -0.5}, "gamma"),
        ({"degree": -1}, "degree"),
        ({"tol": 0.0}, "tol"),
        ({"loss": "exponential"}, "loss"),
        ({"kernel": "cosine"}, "kernel"),
        ({"decision_function_shape": "ovo", "break_ties": True}, "break_ties"),
    ],
)
def test_bad_parameters_are_rejected(wine, params, match):
    with pytest.raises(ValueError, match=match):
        SVC(**params).fit(*wine)


def test_single_class_is_rejected(wine):
    X, y = wine
    with pytest.raises(ValueError, match="at least 2 classes"):
        SVC().fit(X[y == 0], y[y == 0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_are_rejected(wine, bad):
    X, y = wine
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match=r"NaN|infinity"):
        SVC().fit(X, y)


def test_callable_kernel_returning_wrong_shape_or_nan_is_rejected(wine):
    X, y = wine
    with pytest.raises(ValueError, match="shape"):
        SVC(kernel=lambda A, B: A @ B[:-1].T).fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        SVC(kernel=lambda A, B: np.full((len(A), len(B)), np.nan)).fit(X, y)


@pytest.mark.parametrize("solver", ["smo", "qp"])
def test_callable_kernel_cannot_write_into_the_callers_data(small_binary, solver):
    """The kernel gets copies: whatever it writes into them, the caller's X (which fit hands on
    without a copy when it is float64) and the model's support vectors stay as they were."""
    X, y = small_binary
    X = X[:60].copy()  # float64 and C-contiguous: fit uses it without a copy
    y = y[:60]
    before = X.copy()

    def scaling_in_place(A, B):
        A *= 2.0  # a kernel "normalising" its argument
        return A @ B.T

    SVC(kernel=scaling_in_place, solver=solver).fit(X, y)
    np.testing.assert_array_equal(X, before)

    def writes_into_both(A, B):
        A[:] = 0.0
        B[:] = 0.0
        return np.ones((len(A), len(B)))

    model = SVC(kernel="linear", solver=solver).fit(X, y)
    support = model.support_vectors_.copy()
    model.set_params(kernel=writes_into_both)  # the same support vectors, a writing kernel
    model.decision_function(X)
    np.testing.assert_array_equal(model.support_vectors_, support)
    np.testing.assert_array_equal(X, before)


def test_compiled_callable_kernels_that_never_write_still_work(small_binary):
    """scikit-learn's chi2_kernel (compiled) refuses read-only buffers: the copies keep it usable;
    the model equals the one fitted on its precomputed Gram matrix."""
    X, y = small_binary
    X = np.abs(X[:60])
    y = y[:60]
    model = SVC(kernel=chi2_kernel).fit(X, y)
    ref = SVC(kernel="precomputed").fit(chi2_kernel(X, X), y)
    np.testing.assert_allclose(
        model.decision_function(X), ref.decision_function(chi2_kernel(X, X)), rtol=1e-10, atol=1e-12
    )


def test_callable_kernel_returning_complex_values_is_rejected(wine):
    """numpy's cast to float64 would drop the imaginary parts with a ComplexWarning."""
    X, y = wine
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="complex"):
            SVC(kernel=lambda A, B: (A @ B.T) * (1 + 1j)).fit(X, y)
        with pytest.raises(ValueError, match="complex"):  # even with a zero imaginary part
            SVC(kernel=lambda A, B: (A @ B.T).astype(complex)).fit(X, y)


def test_precomputed_kernel_must_be_square_and_match_at_predict(wine):
    X, y = wine
    with pytest.raises(ValueError, match="square"):
        SVC(kernel="precomputed").fit(X @ X[:50].T, y)
    model = SVC(kernel="precomputed").fit(X @ X.T, y)
    with pytest.raises(ValueError, match="178 features"):
        model.predict(X[:5] @ X[:50].T)


@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_all_weight_removed_from_a_class_is_rejected(wine, class_weight):
    X, y = wine
    weights = np.where(y == 1, 0.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "balanced" would divide by the class's zero total
        with pytest.raises(ValueError, match="class 1 has no sample with positive weight"):
            SVC(class_weight=class_weight).fit(X, y, sample_weight=weights)


def test_logistic_smo_takes_at_most_ten_pair_updates_per_sample():
    """The maximal-violating-pair fallback keeps the logistic dual from stalling on tiny alphas."""
    X, y = make_classification(1500, 20, n_informative=10, flip_y=0.05, random_state=0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    model = SVC(loss="logistic").fit(X, y)
    assert model.converged_
    assert model.n_iter_[0] <= 10 * len(y), model.n_iter_


@pytest.mark.parametrize("kernel, C", [("linear", 0.8), ("linear", 10.0), ("poly", 1.0)])
def test_logistic_smo_does_not_shuttle_tiny_alphas_on_nearly_separable_data(
    breast_cancer, kernel, C
):
    """With the maximal violating pair taken whenever the second-order j fell short, these fits
    took 1.2 to 1.7 million pair steps (4 to 5 s); choosing the pair by violation times exact
    step, 4 784, 8 186 and 3 400 (the float64 re-check of a converged run adds a few). The QP is the independent reference for the optimum."""
    X, y = breast_cancer
    model = SVC(loss="logistic", kernel=kernel, C=C).fit(X, y)
    assert model.converged_
    assert model.n_iter_[0] <= 20 * len(y), model.n_iter_
    reference = SVC(loss="logistic", kernel=kernel, C=C, solver="qp").fit(X, y)
    np.testing.assert_allclose(model.objective_, reference.objective_, rtol=1e-7)


def test_logistic_smo_converges_with_weights_over_four_decades():
    """Found by a differential test: 60 samples, linear kernel, weights from 1e-2 to 1e2. The
    run cycled on an alpha of 5e-12 C_i paired with two large ones and did not reach tol=1e-5
    in 10 million steps (0.04 above the QP's optimum); now 4 954 steps."""
    rng = np.random.default_rng(5)
    y = np.arange(60) % 2
    X = rng.normal(size=(60, 3)) + 0.8 * y[:, None]
    weights = 10 ** rng.uniform(-2, 2, 60)
    params = dict(kernel="linear", loss="logistic", C=20.0)
    model = SVC(**params, tol=1e-5, max_iter=100_000).fit(X, y, sample_weight=weights)
    assert model.converged_ and model.n_iter_[0] <= 20_000
    assert check_kkt(model, X, y, sample_weight=weights, tol=1e-5).ok
    # The QP's alpha is feasible, so its dual objective bounds the minimum from above (its own
    # gap m - M is 17 here, from variables it resolves poorly, and it warns so).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = SVC(**params, solver="qp").fit(X, y, sample_weight=weights)
    assert model.objective_[0] <= reference.objective_[0] + 1e-6


@pytest.mark.parametrize("solver", ["smo", "qp"])
@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "logistic"])
def test_duality_gap_attribute_matches_the_independent_checker(wine, loss, solver):
    """duality_gap_ (from the solver's own gradient) against mlbasics.optimality (from scratch)."""
    from mlbasics.optimality import duality_gaps

    X, y = wine
    model = SVC(loss=loss, solver=solver, C=2.0).fit(X, y)
    independent = duality_gaps(model, X, y)
    scale = 2.0 * len(y)  # sum of the C_i: the units of the gap
    np.testing.assert_allclose(model.duality_gap_, independent, rtol=1e-3, atol=1e-8 * scale)
    assert np.all(model.duality_gap_ >= -1e-6 * scale)
    assert np.all(model.duality_gap_ <= 1e-3 * scale)


def test_a_model_without_support_vectors_still_predicts_and_fails_its_certificate(breast_cancer):
    """tol larger than the initial gap (2): SMO stops at alpha = 0; the model is a constant."""
    X, y = breast_cancer
    model = SVC(tol=10.0).fit(X, y)
    assert len(model.support_) == 0 and model.n_iter_[0] == 0
    assert np.all(model.decision_function(X) == model.intercept_[0])
    report = check_kkt(model, X, y)
    assert not report.ok and "primal feasibility" in str(report)
    assert model.duality_gap_[0] == pytest.approx(len(y))  # P = sum of hinge losses, D = 0


@pytest.mark.parametrize("n_samples", [600, 7000], ids=["pair", "batched"])
def test_the_float64_checks_record_is_objective_(n_samples):
    # objective_ came from the float64 gradient after the check, the trace's last entry from the
    # sum of float32 steps: the docs' "the trace ends at objective_" failed (breast cancer at
    # tol=1e-6: -26.5254552 against -26.5254538; 20 000 samples: 2.4e-3 apart)
    X, y = make_classification(n_samples, 20, n_informative=10, flip_y=0.05, random_state=0)
    X = StandardScaler().fit_transform(X)
    model = SVC(C=10.0, tol=1e-5).fit(X, y)
    assert model.converged_
    a, S = model.dual_coef_[0], model.support_vectors_
    gamma = 1.0 / (X.shape[1] * X.var())
    exact = 0.5 * a @ rbf_kernel(S, S, gamma=gamma) @ a - np.abs(a).sum()  # float64, from alpha
    np.testing.assert_allclose(model.objective_[0], exact, rtol=1e-11)
    assert model.convergence_[0].objective[-1] == model.objective_[0]


# -- large offsets: the float32 cache's resolution ------------------------------------------------


def _offset_problem(seed, n=200):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, 2))
    y = (Z[:, 0] > 0).astype(int)
    return np.hstack([np.full((n, 1), 1e4), Z]), Z, y


@pytest.mark.parametrize("form", ["dense", "csr"])
@pytest.mark.parametrize("solver, loss", [("smo", "hinge"), ("smo", "squared_hinge"),
                                          ("smo", "logistic"), ("qp", "hinge")])  # fmt: skip
def test_the_linear_kernel_ignores_a_large_constant_column(solver, loss, form):
    # With y'alpha = 0 a constant column changes nothing in the dual; beside it the float32
    # kernel rows were 1e8 + O(1), stored 8 apart: SMO ended at alpha = 0 (accuracy 0.49, the
    # squared hinge called the kernel "not positive semidefinite"). The rows are centred in fit,
    # sparse ones too (they were not: hinge and logistic ended unconverged up to 2 sum C above
    # the optimum, the squared hinge overflowed: a review).
    X, Z, y = _offset_problem(0)
    X = sparse.csr_matrix(X) if form == "csr" else X
    params = dict(kernel="linear", solver=solver, loss=loss, tol=1e-6)
    ours = SVC(**params).fit(X, y)
    reference = SVC(**params).fit(Z, y)
    assert ours.converged_ and check_kkt(ours, X, y).ok
    np.testing.assert_allclose(ours.objective_, reference.objective_, rtol=1e-6)
    np.testing.assert_allclose(ours.decision_function(X), reference.decision_function(Z),
                               rtol=1e-5, atol=1e-5)  # fmt: skip


@pytest.mark.parametrize("loss, C, n_classes", [("hinge", 1000.0, 2), ("squared_hinge", 100.0, 3)])
def test_a_centred_linear_fit_predicts_as_its_centred_problem(loss, C, n_classes):
    # Medians exactly 0 in Z: X - c is [0 | Z] bit for bit, so the fits on X and on [0 | Z] take
    # the same steps. The intercept of the centred fit once rounded w'c differently from the
    # coef_ that predict multiplies: eps sum |alpha| c'c, 5e-2 on the decision values here, 5
    # predictions changed, converged_ with check_kkt failing (its kernel form on the raw rows
    # rounded at 1e10 too).
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((201, 2))
    Z -= np.median(Z, axis=0)
    y = np.digitize(Z[:, 0] + 0.3 * rng.standard_normal(201), [-0.5, 0.5][: n_classes - 1])
    X = np.hstack([np.full((201, 1), 1e5), Z])
    params = dict(kernel="linear", loss=loss, C=C, tol=1e-6)
    ours = SVC(**params).fit(X, y)
    reference = SVC(**params).fit(np.hstack([np.zeros((201, 1)), Z]), y)
    np.testing.assert_array_equal(ours.dual_coef_, reference.dual_coef_)
    np.testing.assert_allclose(ours.decision_function(X), reference.decision_function(X - [1e5, 0, 0]),
                               rtol=0, atol=1e-9)  # fmt: skip
    assert ours.converged_ and check_kkt(ours, X, y).ok


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "logistic"])
def test_sparse_rows_with_one_filled_far_column_are_centred_in_that_column_only(loss):
    # Text-like sparse features (5% stored) beside one column near 1e4 stored in every row: its
    # median is the only nonzero entry of the centre, so the rows the solver sees gain no
    # stored entry elsewhere, and the sparse fit is the dense one's (libsvm on the centred rows
    # as the reference for the hinge).
    rng = np.random.default_rng(5)
    n, p = 200, 60
    T = sparse.random(n, p, density=0.05, random_state=rng, format="csr")
    T.data = rng.standard_normal(T.nnz)
    far = 1e4 + rng.standard_normal(n)
    y = (np.asarray(T[:, :3].sum(axis=1)).ravel() + 0.2 * (far - 1e4) > 0).astype(int)
    X = sparse.hstack([T, far[:, None]], format="csr")
    centre = np.median(X.toarray(), axis=0)
    assert np.flatnonzero(centre).tolist() == [p]
    params = dict(kernel="linear", loss=loss, C=10.0, tol=1e-6)
    ours = SVC(**params).fit(X, y)
    dense = SVC(**params).fit(X.toarray(), y)
    assert ours.converged_ and check_kkt(ours, X, y).ok
    np.testing.assert_allclose(ours.objective_, dense.objective_, rtol=1e-6)
    np.testing.assert_allclose(ours.decision_function(X), dense.decision_function(X.toarray()),
                               atol=1e-4)  # fmt: skip
    if loss == "hinge":
        libsvm = svm.SVC(kernel="linear", C=10.0, tol=1e-8).fit(X.toarray() - centre, y)
        np.testing.assert_allclose(ours.decision_function(X),
                                   libsvm.decision_function(X.toarray() - centre), atol=1e-3)  # fmt: skip


def test_one_far_row_does_not_turn_the_linear_centring_off():
    # the largest distance from the centre once decided: a single row with 0 in the column of
    # 1e4 left the rest uncentred (accuracy 0.61; libsvm 0.895, centred 0.985)
    X, _, y = _offset_problem(1)
    X[0, 0] = 0.0
    model = SVC(kernel="linear").fit(X, y)
    assert model.converged_ and check_kkt(model, X, y).ok
    assert np.mean(model.predict(X) == y) >= 0.95


def test_a_float64_refinement_is_checked_again_whatever_alpha_is():
    # A precomputed Gram of rows with a column of 1e4 (not centred: the solver only sees K):
    # the first run's kept gap passed, the float64 check found 451, SMO restarted and ended at
    # alpha = 0 on a drifted gradient; alpha = 0 has no rounding estimate, so the second check
    # was skipped and the model reported converged_ with a gap of 0 (check_kkt: 344).
    X, _, y = _offset_problem(0, n=100)
    gram = X @ X.T
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SVC(kernel="precomputed").fit(gram, y)
    assert not model.converged_ or check_kkt(model, gram, y).ok


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_the_squared_hinge_confirms_a_negative_pair_curvature_in_float64(seed):
    # K + diag(1 / (2 C)) is positive definite (smallest eigenvalue 0.5), but the float32
    # K_ij ~ 1e8 rounded a pair's curvature to <= 0: the error said the kernel was not positive
    # semidefinite. SMO may still fail on such a kernel (the cache cannot resolve it), but not
    # with that diagnosis.
    X, _, y = _offset_problem(seed, n=100)
    gram = X @ X.T
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            SVC(kernel="precomputed", loss="squared_hinge").fit(gram, y)
    except ValueError as exc:
        assert "positive semidefinite" not in str(exc)


def test_the_convergence_warning_points_at_the_callers_line():
    X, y = make_classification(60, 4, random_state=0)
    with pytest.warns(ConvergenceWarning) as record:
        SVC(max_iter=2).fit(X, y)
    assert record[0].filename == __file__


def test_the_logistic_loss_is_not_advised_to_stop_shrinking():
    X, y = make_classification(60, 4, random_state=0)
    with pytest.warns(ConvergenceWarning) as record:
        SVC(loss="logistic", max_iter=2).fit(X, y)
    assert "shrinking" not in str(record[0].message)


def test_a_nearly_constant_kernel_is_named_when_smo_cannot_resolve_it():
    # poly with coef0 = 1e3 on standardised features: K = (x'z / 3 + 1e3)^3 is about 1e9
    # everywhere, its rows cached in float32 (a resolution of 64); the float64 gap stayed at 244
    # at tol 1e-3 and 0.1 alike, and the warning blamed tol and the features' scale only
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
    with pytest.warns(ConvergenceWarning, match="nearly constant.*lower coef0"):
        SVC(kernel="poly", coef0=1e3, gamma=1 / 3).fit(X, y)
