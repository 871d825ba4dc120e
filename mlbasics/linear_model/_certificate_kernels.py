"""The objective and its optimality measure in one compiled pass over the data (numba).

Private kernels for ``_sgd.py``, which records after every epoch what the Newton solvers record
after every iteration: the objective ``F(W)`` and the optimality measure of
:meth:`LogisticObjective.optimality <mlbasics.linear_model._objective.LogisticObjective.optimality>`
(uncentred columns only: ``mu = None``). Computed from the methods of the objective that costs
two products with ``X`` (the scores ``Z = X W^T``, then the gradient ``X^T R``) and a few arrays of
``n_samples`` entries; here one pass over the rows does both, with no temporary array:

for each row ``i`` (the dense row, or the ``(indices, values)`` of a CSR row),

1. scores ``z_k = w_k . x_i + b_k``; a score that is not finite stops the pass (divergence);
2. the loss, in the forms that never overflow: ``log(1 + exp(-m)) = max(-m, 0) +
   log1p(exp(-|m|))`` of the margin ``m = (2 y - 1) z`` (binary), ``(z_t - z_y) +
   log1p(sum_{k != t} exp(z_k - z_t))`` with ``t`` the arg max (multinomial: two non-negative
   terms, no cancellation when the loss is tiny);
3. the residuals ``r_k = c_i (p_k - y_k)`` (stable sigmoid, or softmax; the label's without the
   cancellation of ``p - 1``) and the gradient
   ``G[k, :] += r_k x_i`` (a scatter-add over the nonzero entries of a CSR row), ``G[k, -1] += r_k``
   for the intercept.

The rows are taken in blocks (``start:stop``), each with its own gradient, so that two threads can
share one certificate; :func:`finish_certificate` then adds the penalty terms, ``l2 W`` to the
gradient of the penalised columns, and takes the largest distance of ``-G`` to the subdifferential
of the L1 term. The kernels release the GIL.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._sgd_kernels import residuals_in_place

# Sums may be reassociated so that the row products vectorise (no NaN/inf assumptions: the
# finiteness test of the scores must stay).
FASTMATH = {"reassoc", "contract", "arcp"}


@njit(cache=True, nogil=True, inline="always")
def _loss_and_residuals(z, y, c):
    """Loss of one sample from its scores ``z``; turns ``z`` into the residuals ``c (p - y)``
    (:func:`~mlbasics.linear_model._sgd_kernels.residuals_in_place`, the SGD step's)."""
    K = z.shape[0]
    if K == 1:
        m = z[0] if y[0] > 0.5 else -z[0]
        loss = max(-m, 0.0) + np.log1p(np.exp(-abs(m)))
        residuals_in_place(z, y, c)
        return loss
    picked = 0.0
    for k in range(K):
        picked += y[k] * z[k]
    top, rest = residuals_in_place(z, y, c)
    return (top - picked) + np.log1p(rest)


@njit(cache=True, nogil=True)
def finish_certificate(coef, G, fit_intercept, loss, l1, l2):
    """``(F, optimality)`` from the data-fit ``loss`` and its gradient ``G`` (unchanged)."""
    K = coef.shape[0]
    p = coef.shape[1] - int(fit_intercept)
    squares = 0.0
    absolutes = 0.0
    worst = 0.0
    for k in range(K):
        for j in range(p):
            w = coef[k, j]
            squares += w * w
            absolutes += abs(w)
            g = G[k, j] + l2 * w
            if l1 == 0.0:
                distance = abs(g)
            elif w > 0.0:
                distance = abs(g + l1)
            elif w < 0.0:
                distance = abs(g - l1)
            else:
                distance = max(abs(g) - l1, 0.0)
            worst = max(worst, distance)
        if fit_intercept:
            worst = max(worst, abs(G[k, p]))
    value = loss
    if l2 != 0.0:
        value += 0.5 * l2 * squares
    if l1 != 0.0:
        value += l1 * absolutes
    return value, worst


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def certificate_rows_dense(X, Y, c, coef, fit_intercept, start, stop, G):
    """The data-fit term ``sum_i c_i loss_i`` over the rows ``start:stop`` of a dense C-ordered
    ``X``, its gradient written to ``G`` (shape of ``coef``); ``inf`` when a score is not finite."""
    p = X.shape[1]
    K = coef.shape[0]
    G[:] = 0.0
    z = np.empty(K)
    loss = 0.0
    for i in range(start, stop):
        x = X[i]
        for k in range(K):
            acc = 0.0
            for j in range(p):
                acc += coef[k, j] * x[j]
            z[k] = acc + coef[k, p] if fit_intercept else acc
            if not np.isfinite(z[k]):
                return np.inf
        loss += c[i] * _loss_and_residuals(z, Y[i], c[i])
        for k in range(K):
            r = z[k]
            if r != 0.0:
                for j in range(p):
                    G[k, j] += r * x[j]
            if fit_intercept:
                G[k, p] += r
    return loss


@njit(cache=True, nogil=True)  # vectorised gathers (what FASTMATH allows) are slower here
def certificate_rows_csr(data, indices, indptr, Y, c, coef, fit_intercept, start, stop, G):
    """:func:`certificate_rows_dense` for a CSR matrix: ``O(nnz)`` (a scatter-add for ``G``)."""
    p = coef.shape[1] - int(fit_intercept)
    K = coef.shape[0]
    G[:] = 0.0
    z = np.empty(K)
    loss = 0.0
    for i in range(start, stop):
        lo, hi = indptr[i], indptr[i + 1]
        for k in range(K):
            acc = 0.0
            for jj in range(lo, hi):
                acc += coef[k, indices[jj]] * data[jj]
            z[k] = acc + coef[k, p] if fit_intercept else acc
            if not np.isfinite(z[k]):
                return np.inf
        loss += c[i] * _loss_and_residuals(z, Y[i], c[i])
        for k in range(K):
            r = z[k]
            if r != 0.0:
                for jj in range(lo, hi):
                    G[k, indices[jj]] += r * data[jj]
            if fit_intercept:
                G[k, p] += r
    return loss
