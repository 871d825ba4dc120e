"""Shared datasets for the tests: built once per session, never at import."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_breast_cancer, load_iris, load_wine, make_classification
from sklearn.preprocessing import StandardScaler


def _standardised(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def breast_cancer():
    """Binary, 569 x 30, standardised."""
    return _standardised(load_breast_cancer)


@pytest.fixture(scope="session")
def wine():
    """Three classes, 178 x 13, standardised."""
    return _standardised(load_wine)


@pytest.fixture(scope="session")
def iris():
    """Three classes, 150 x 4, standardised."""
    return _standardised(load_iris)


@pytest.fixture(scope="session")
def small_binary():
    """A non-separable binary problem, 200 x 8, labels drawn from a logistic model."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 8))
    w = rng.standard_normal(8)
    y = (rng.random(200) < 1.0 / (1.0 + np.exp(-(X @ w + 0.5)))).astype(int)
    return X, y


@pytest.fixture(scope="session")
def sparse_binary():
    """A sparse CSR binary problem, 600 x 300 with 3% density, labels from a logistic model."""
    rng = np.random.default_rng(1)
    X = sparse.random(600, 300, density=0.03, format="csr", random_state=rng)
    X.data = rng.standard_normal(X.nnz) * 3
    w = rng.standard_normal(300)
    y = (rng.random(600) < 1.0 / (1.0 + np.exp(-(X @ w)))).astype(int)
    return X, y


@pytest.fixture(scope="session")
def sparse_multiclass():
    """A sparse CSR four-class problem, 500 x 120."""
    X, y = make_classification(
        n_samples=500, n_features=120, n_informative=20, n_classes=4, random_state=2
    )
    X[np.abs(X) < 1.0] = 0.0
    return sparse.csr_matrix(X), y


@pytest.fixture(params=[0, 1, 2], ids=lambda s: f"seed{s}")
def seed(request):
    """A test that takes this fixture must hold for any seed."""
    return request.param


@pytest.fixture(scope="session")
def shifted_binary():
    """Binary, 300 x 5, features with large means (30 to 500): tests the centring of columns."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((300, 5))
    w = np.array([1.5, -1.0, 0.0, 0.7, 0.0])
    y = (rng.random(300) < 1.0 / (1.0 + np.exp(-(X @ w)))).astype(int)
    return X + np.array([30.0, -100.0, 500.0, 0.0, 50.0]), y
