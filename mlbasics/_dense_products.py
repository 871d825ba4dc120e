"""Products with a dense ``X`` in one compiled pass over its rows (numba), for one output.

Private kernels for :class:`~mlbasics.linear_model._objective.LogisticObjective` and the Newton
decrement of :mod:`mlbasics.optimality` (:func:`one_pass_ready` says when). A binary Newton-CG
step spends most of its time in Hessian-vector products ``A^T (h * (A v))``: with BLAS, two passes
over ``X`` (``X v``, then ``X^T u``), and the second, a matrix-vector product with the transpose
of a C-ordered array, runs at about half the speed of the first on the machines measured (6.3
against 3.6 ms for 100 000 x 100 float64). Here each row is read once, while it is in cache:

for each row ``x_i`` of the rows ``start:stop``,

1. ``s = x_i . v + offset`` (the row's score of the direction; ``offset`` carries the intercept
   and the centring, as :meth:`~mlbasics.linear_model._objective.LogisticObjective.scores` adds
   them);
2. ``u = h_i s``;
3. ``out += u x_i`` and ``total += u`` (the column sum, for the intercept and the centring).

One thread takes 3.5 ms for the product that costs 9.6 ms through BLAS on two (the same data; two
threads splitting the rows were slower, 4.3 ms: the pass is bound by memory). The gradient's
``X^T r`` alone is the same loop without step 1. The sums are reassociated so that the row loops
vectorise: results differ from BLAS's in the last digits only (1e-14 relative on the example).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Reassociation lets the dot products and the row updates vectorise (no NaN/inf assumptions).
FASTMATH = {"reassoc", "contract", "arcp"}


def one_pass_ready(X, n_outputs) -> bool:
    """Whether the products with ``X`` may take these loops: one output, ``X`` a dense
    C-ordered float64 array (a Fortran-ordered one is read by rows at a stride, where BLAS's
    transposed product is the fast one)."""
    return (
        n_outputs == 1
        and isinstance(X, np.ndarray)
        and X.dtype == np.float64
        and X.flags.c_contiguous
    )


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def curvature_product_dense(X, v, offset, h, out):
    """``out = X^T u`` with ``u = h * (X v + offset)``; returns ``sum(u)``. ``X`` C-ordered float64
    of shape (n, p), ``v`` and ``out`` of length p, ``h`` of length n."""
    n, p = X.shape
    out[:] = 0.0
    total = 0.0
    for i in range(n):
        x = X[i]
        s = 0.0
        for j in range(p):
            s += x[j] * v[j]
        u = h[i] * (s + offset)
        total += u
        if u != 0.0:
            for j in range(p):
                out[j] += u * x[j]
    return total


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def transpose_product_dense(X, r, out):
    """``out = X^T r`` for a C-ordered float64 ``X`` of shape (n, p) and ``r`` of length n."""
    n, p = X.shape
    out[:] = 0.0
    for i in range(n):
        u = r[i]
        if u != 0.0:
            x = X[i]
            for j in range(p):
                out[j] += u * x[j]
