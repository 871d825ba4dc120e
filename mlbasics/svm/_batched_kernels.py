"""Compiled parts of the batched SMO (numba): slots of a batch of rows, the rows from one matrix
product, the working set's kernel block, and the gradient update over the working set's rows.

The arrays are those of :mod:`mlbasics.svm._smo_kernels` (the ``data``, ``kern`` and ``cache``
tuples documented there); :mod:`mlbasics.svm._batched` drives these functions from Python. The SMO
*inside* a working set is not here: it is :func:`~mlbasics.svm._smo_kernels.smo_dual` itself, run
on the ``q x q`` sub-problem.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._smo_kernels import _rbf_row32, get_row, gram_from_dots


@njit(cache=True)
def claim_slots(idx, data, kern, cache, slots):
    """``slots[a]`` = the cache slot of row ``idx[a]``, in order; returns how many rows are missing.

    :func:`~mlbasics.svm._smo_kernels.get_row` asked for a row of length 0 finds the row's slot or
    evicts the least recently used one for it, without computing anything; a slot whose cached
    length is below ``n`` afterwards is a miss (its row is computed by :func:`fill_rows`). Rows
    claimed later in the loop are more recent, so a batch of at most ``n_slots`` rows never evicts
    one of its own.
    """
    length = cache[3]
    n = cache[1].shape[0]
    missing = 0
    for a in range(idx.shape[0]):
        s = get_row(idx[a], 0, data, kern, cache)
        slots[a] = s
        if length[s] < n:
            missing += 1
    return missing


@njit(cache=True)
def fill_rows(cache, slots, dots, idx, data, kern):
    """Cache row ``slots[r]`` := ``K(x_idx[r], X)`` (float32) from the products ``dots[r] = X x_idx[r]``.

    The products are float64. RBF: the SMO's vectorised float32 exponential
    (:func:`~mlbasics.svm._smo_kernels._rbf_row32`) straight from them. The other kernels: the
    kernel function of :func:`~mlbasics.svm._smo_kernels.gram_from_dots` (``dots`` overwritten),
    then float32. The slots are marked complete and the cache's counters (rows and values computed)
    advance as in :func:`~mlbasics.svm._smo_kernels.get_row`.
    """
    rows, length, stats = cache[0], cache[3], cache[6]
    sqn, bits = data[1], data[10]
    n = dots.shape[1]
    if kern[0] != 2:
        gram_from_dots(dots, sqn[idx], sqn, kern, bits)
    for r in range(idx.shape[0]):
        row = rows[slots[r]]
        if kern[0] == 2:
            _rbf_row32(row, dots[r], 0, n, sqn, sqn[idx[r]], kern[1], bits)
        else:
            for k in range(n):
                row[k] = np.float32(dots[r, k])
        length[slots[r]] = n
    stats[0] += idx.shape[0]
    stats[1] += idx.shape[0] * n


@njit(cache=True)
def gather_block(rows, slots, ws, block):
    """``block[a, b] = K[ws[a], ws[b]]`` (float32), exactly symmetric.

    One triangle is read from the cached rows and mirrored: two float32 rows computed by different
    products may differ in the last bit at the mirrored entries, and the local SMO wants a
    symmetric matrix.
    """
    q = ws.shape[0]
    for a in range(q):
        row = rows[slots[a]]
        for b in range(a, q):
            v = row[ws[b]]
            block[a, b] = v
            block[b, a] = v


@njit(cache=True, fastmath=True)
def add_rows(F, rows, slots, coef):
    """``F += sum_a coef[a] rows[slots[a]]``, accumulated in float64, skipping zero coefficients.

    The one gradient update of a round: ``coef = y_B * (alpha_B(new) - alpha_B(old))`` is nonzero
    only for the variables the local SMO moved (about half of ``q``). Four rows per pass over
    ``F``, so ``F`` is loaded and stored a quarter as often: 0.45 ms against 0.70-0.92 ms for one
    row per pass (150 moved rows, n = 20 000). Measured faster than a float32 BLAS matrix-vector
    product over all ``q`` rows (0.38-0.48 s against 0.51-0.65 s CPU for the whole fit at
    n = 10 000, ``benchmarks/experiment_batched_smo.py --sweep``, with one row per pass).
    """
    n = F.shape[0]
    moved = np.flatnonzero(coef)
    m = moved.shape[0]
    a = 0
    while a + 4 <= m:
        r0, r1 = rows[slots[moved[a]]], rows[slots[moved[a + 1]]]
        r2, r3 = rows[slots[moved[a + 2]]], rows[slots[moved[a + 3]]]
        c0, c1, c2, c3 = coef[moved[a]], coef[moved[a + 1]], coef[moved[a + 2]], coef[moved[a + 3]]
        for k in range(n):
            F[k] += (c0 * r0[k] + c1 * r1[k]) + (c2 * r2[k] + c3 * r3[k])
        a += 4
    for b in range(a, m):
        row, c = rows[slots[moved[b]]], coef[moved[b]]
        for k in range(n):
            F[k] += c * row[k]
