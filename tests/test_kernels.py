"""mlbasics.kernels.KernelSpec: its parameters checked, its matrices against scikit-learn's."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.metrics.pairwise import pairwise_kernels

from mlbasics.kernels import KernelSpec


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(kernel="poly", degree=2.5), "degree must be an integer"),
        (dict(kernel="poly", degree=True), "degree must be an integer"),
        (dict(kernel="rbf", gamma=0.0), "gamma must be a positive finite number"),
        (dict(kernel="rbf", gamma=np.nan), "gamma must be a positive finite number"),
        (dict(kernel="sigmoid", gamma=np.inf), "gamma must be a positive finite number"),
        (dict(kernel="poly", gamma="scale"), r"resolve 'scale' or 'auto' first"),
        (dict(kernel="sigmoid", coef0=np.nan), "coef0 must be a finite number"),
    ],
)
def test_bad_parameters_are_refused(params, message):
    # a degree of 2.5 gave NaN in matrix and degree 2 in the compiled rows; gamma <= 0, NaN or
    # inf, an unresolved "scale" and a NaN coef0 were taken (SVC refuses them first: a review)
    with pytest.raises(ValueError, match=message):
        KernelSpec(**params)


@pytest.mark.parametrize("kernel", ["linear", "poly", "rbf", "sigmoid"])
def test_a_sparse_matrix_with_repeated_entries_is_read_as_their_sum(kernel):
    # scikit-learn's row norms read the stored entries as they are (the repeated one once), the
    # products sum them: rbf was 0.94 off (a review). The dense matrix is the reference.
    data, indices, indptr = [1.0, 2.0, 3.0, -1.0], [0, 0, 1, 1], [0, 2, 4]
    X = sparse.csr_matrix((data, indices, indptr), shape=(2, 2))
    assert not X.has_canonical_format
    spec = KernelSpec(kernel, 0.5, 1.0, 2)
    expected = pairwise_kernels(X.toarray(), metric=kernel, **spec._pairwise_params())
    np.testing.assert_allclose(spec.matrix(X, X), expected, rtol=1e-14, atol=1e-15)
    assert len(X.data) == 4  # the caller's matrix is left as it was
