"""One pass of the compiled coordinate-descent kernels against a plain numpy transcription.

The proximal-Newton tests judge the solutions only; a wrong curvature in the kernels changes how
fast coordinate descent converges, not what it converges to, so those tests cannot see it. One
pass (``max_passes=1``) from ``D = 0`` is deterministic: every step depends on the curvature
and on the model gradient, so the reference below pins both.
"""

import numpy as np
import pytest
from scipy import sparse

from mlbasics.linear_model._cd_kernels import cd_model_csc, cd_model_dense, cd_model_gram


def one_pass_reference(A, c, P, curv, G, W, active_k, active_j, penalized, l1, l2, D0=None):
    """The model of ``_cd_kernels`` (module docstring), one cyclic pass, in numpy, from ``D0``
    (default zero)."""
    K = P.shape[1]
    D = np.zeros_like(W) if D0 is None else D0.copy()
    Zd = A @ D.T
    s = (P * Zd).sum(axis=1)
    for k, j in zip(active_k, active_j, strict=True):
        a = A[:, j]
        pen = penalized[j]
        h = a**2 @ curv[:, k] + (l2 if pen else 0.0)
        if K == 1:
            model_grad = a @ (curv[:, 0] * Zd[:, 0])
        else:
            model_grad = a @ (c * P[:, k] * (Zd[:, k] - s))
        grad = G[k, j] + model_grad + (l2 * D[k, j] if pen else 0.0)
        w = W[k, j] + D[k, j]
        if pen:
            z = w - grad / h
            delta = np.sign(z) * max(abs(z) - l1 / h, 0.0) - w
        else:
            delta = -grad / h
        D[k, j] += delta
        Zd[:, k] += delta * a
        if K > 1:
            s += P[:, k] * delta * a
    return D, Zd


def problem(n_outputs, seed=0, n=60, p=7):
    rng = np.random.default_rng(seed)
    A = np.hstack([rng.standard_normal((n, p)) * (rng.random((n, p)) < 0.6), np.ones((n, 1))])
    c = rng.uniform(0.5, 2.0, n)
    if n_outputs == 1:
        P = rng.uniform(0.05, 0.95, (n, 1))
    else:
        P = rng.dirichlet(np.ones(n_outputs), size=n)
    curv = c[:, None] * P * (1.0 - P)
    G = rng.standard_normal((n_outputs, p + 1))
    W = rng.standard_normal((n_outputs, p + 1)) * (rng.random((n_outputs, p + 1)) < 0.5)
    penalized = np.r_[np.ones(p, dtype=bool), False]  # the last column is the intercept
    return A, c, P, curv, G, W, penalized


@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("l1, l2", [(0.3, 0.0), (0.3, 0.2), (0.0, 0.5)])
def test_one_pass_matches_the_numpy_transcription(fmt, n_outputs, l1, l2):
    A, c, P, curv, G, W, penalized = problem(n_outputs)
    active_k, active_j = (a.astype(np.int64) for a in np.nonzero(np.ones(W.shape, dtype=bool)))
    D_ref, Zd_ref = one_pass_reference(A, c, P, curv, G, W, active_k, active_j, penalized, l1, l2)
    assert np.count_nonzero(D_ref) > W.size // 2  # most coordinates move in the pass
    D = np.zeros_like(W)
    Zd = np.zeros((A.shape[0], n_outputs))
    if fmt == "dense":
        columns = (np.asfortranarray(A),)
        kernel = cd_model_dense
    else:
        S = sparse.csc_array(A)
        columns = (S.data, S.indices.astype(np.int64), S.indptr.astype(np.int64))
        kernel = cd_model_csc
    passes = kernel(*columns, c, P, curv, G, W, active_k, active_j, penalized, l1, l2,
                    0.0, 1, D, Zd)  # fmt: skip
    assert passes == 1
    np.testing.assert_allclose(D, D_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(Zd, Zd_ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kernel", [cd_model_dense, cd_model_csc])
def test_an_empty_active_set_moves_nothing(kernel):
    A, c, P, curv, G, W, penalized = problem(1)
    none = np.zeros(0, dtype=np.int64)
    D, Zd = np.zeros_like(W), np.zeros((A.shape[0], 1))
    if kernel is cd_model_dense:
        columns = (np.asfortranarray(A),)
    else:
        S = sparse.csc_array(A)
        columns = (S.data, S.indices.astype(np.int64), S.indptr.astype(np.int64))
    passes = kernel(*columns, c, P, curv, G, W, none, none, penalized, 0.3, 0.0, 0.0, 5, D, Zd)
    assert passes == 1  # the violation over no coordinates is 0: done after one pass
    assert not D.any() and not Zd.any()


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_a_warm_started_pass_continues_from_the_direction_given(n_outputs):
    # Proximal Newton resumes the passes after a Newton step on the support, from D != 0 with
    # Zd = A D^T: the multinomial kernel's running sum of P Zd over classes started at zero (it
    # assumed D = 0), and the Gram kernel's H D too.
    A, c, P, curv, G, W, penalized = problem(n_outputs, seed=3)
    D0 = np.random.default_rng(4).standard_normal(W.shape) * 0.3
    active_k, active_j = (a.astype(np.int64) for a in np.nonzero(np.ones(W.shape, dtype=bool)))
    D_ref, Zd_ref = one_pass_reference(A, c, P, curv, G, W, active_k, active_j, penalized,
                                       0.3, 0.2, D0=D0)  # fmt: skip
    D, Zd = D0.copy(), A @ D0.T
    cd_model_dense(np.asfortranarray(A), c, P, curv, G, W, active_k, active_j, penalized, 0.3,
                   0.2, 0.0, 1, D, Zd)  # fmt: skip
    np.testing.assert_allclose(D, D_ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(Zd, Zd_ref, rtol=1e-12, atol=1e-13)
    if n_outputs == 1:  # the Gram kernel: the same pass through H = A^T diag(h) A + l2 I_pen
        H = A.T @ (curv[:, :1] * A) + np.diag(0.2 * penalized)
        D_gram = D0[0].copy()
        cd_model_gram(H, G[0], W[0], penalized, 0.3, 0.0, 1, D_gram)
        np.testing.assert_allclose(D_gram, D_ref[0], rtol=1e-10, atol=1e-12)
