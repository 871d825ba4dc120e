"""Larger problems against scikit-learn (run with ``pytest -m slow``)."""

import numpy as np
import pytest
from scipy import sparse
from sklearn import linear_model as sk
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from mlbasics import LogisticRegression
from mlbasics.linear_model import logistic_objective

pytestmark = pytest.mark.slow


def logistic_data(n, d, *, density=None, seed=0):
    rng = np.random.default_rng(seed)
    if density is None:
        X = rng.standard_normal((n, d))
    else:
        X = sparse.random(n, d, density=density, format="csr", random_state=rng)
        X.data = rng.standard_normal(X.nnz)
    w = rng.standard_normal(d) * (rng.random(d) < 0.2) * 2
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w)))).astype(int)
    return X, y


def test_dense_l1_matches_saga_support_and_objective():
    X, y = logistic_data(4000, 150, seed=3)
    C = 0.05
    ours = LogisticRegression("l1", C=C, tol=1e-10).fit(X, y)
    ref = sk.LogisticRegression(C=C, l1_ratio=1.0, solver="saga", tol=1e-10, max_iter=100_000)
    ref.fit(X, y)
    reference = logistic_objective(X, y, ref.coef_, ref.intercept_, C=C, penalty="l1")
    assert abs(ours.objective_ - reference) <= 1e-6 * reference
    np.testing.assert_array_equal(ours.coef_ != 0, ref.coef_ != 0)
    assert 0 < np.sum(ours.coef_ != 0) < 150


def test_sparse_l2_matches_newton_cg():
    X, y = logistic_data(20_000, 5_000, density=2e-3, seed=4)
    ours = LogisticRegression(C=1.0, tol=1e-10).fit(X, y)
    ref = sk.LogisticRegression(C=1.0, l1_ratio=0.0, solver="newton-cg", tol=1e-12).fit(X, y)
    reference = logistic_objective(X, y, ref.coef_, ref.intercept_, C=1.0)
    assert abs(ours.objective_ - reference) <= 1e-6 * reference


@pytest.mark.parametrize("solver", ["newton", "newton-cholesky", "newton-cg", "lbfgs"])
def test_digits_multinomial_l2_matches_lbfgs(solver):
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = LogisticRegression(C=0.5, solver=solver, tol=1e-10, max_iter=2000).fit(X, y)
    ref = sk.LogisticRegression(C=0.5, l1_ratio=0.0, solver="lbfgs", tol=1e-12, max_iter=20_000)
    ref.fit(X, y)
    reference = logistic_objective(X, y, ref.coef_, ref.intercept_, C=0.5)
    assert abs(ours.objective_ - reference) <= 1e-6 * reference
