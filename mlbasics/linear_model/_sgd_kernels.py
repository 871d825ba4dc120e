"""Compiled per-sample loops of plain stochastic gradient descent (numba).

Private kernels that take only arrays and scalars; the plain-Python solver in ``_sgd.py`` calls them.
The dense and the CSR variants sit side by side with the same name and a suffix; both call the same
per-sample step, which sees a sample as ``(indices, values)`` of its nonzero entries (gathered from a
dense row on the fly), and both give a row with no zero entry to the full-row step (direct
indexing, vectorised), so dense and CSR input give the same iterates, bit for bit.

The iterate is stored as ``W = wscale * V`` (penalised columns; shape ``(K, n_features)``) plus the
intercepts ``b`` (shape ``(K,)``, never scaled nor penalised). One update with rate ``eta`` on sample
``i`` (0/1 targets ``y_i``, weight ``s_i``, scores ``z_i = W x_i + b``):

1. ``g = s_i (p(z_i) - y_i)`` with ``p`` the sigmoid (``K = 1``) or the softmax (``K > 1``);
2. L2 decay, one multiplication: ``wscale *= 1 - eta * alpha2`` (``W <- (1 - eta alpha2) W``);
3. loss step, ``O(nnz(x_i) K)``: ``V[:, j] -= eta g x_ij / wscale`` and ``b -= eta r g``, with
   ``r`` the ``intercept_rate`` (0 without an intercept; see ``_sgd.intercept_rate``);
4. L1 by the cumulative penalty of Tsuruoka, Tsujii and Ananiadou (2009): ``u += eta * alpha1``
   and, for the features ``j`` of the sample only, ``w <- max(0, w - (u + q_j))`` when ``w > 0``,
   ``w <- min(0, w + (u - q_j))`` when ``w < 0``, with ``q_j`` the penalty ``w_j`` has received so
   far: a weight that would cross zero stops at exactly zero, and a feature absent from many
   samples receives its whole pending penalty at its next appearance (lazy).

Averaged SGD (``S = sum_t W_t`` from the update ``avg_start`` on) is kept lazily too, as in Xu
(2011): ``S = acorr + ssum * V`` with ``ssum = sum_t wscale_t``. A step that changes ``V[k, j]`` by
``d`` adds ``-ssum * d`` to ``acorr[k, j]``, so that the iterates already summed keep their old
value; that is one more multiply-add per touched coefficient, in the loop of the step itself:
``O(nnz(x_i) K)`` per update. With an L1 term the correction is taken once, after the clip, from
the net change of ``V`` (:func:`_save_for_correction`), so that a weight that stays at zero adds
exactly nothing and averages to an exact zero. While averaging, ``wscale`` is folded into ``V``
as soon as it falls below ``AVERAGE_FOLD`` and ``S`` is written into ``acorr`` (``ssum = 0``):
since ``wscale`` only decreases between folds, from at most 1, ``ssum |V[:, j]|`` is at most
``m |W_t[:, j]| / AVERAGE_FOLD`` for the ``m`` iterates summed since the last fold, and the
cancellation in ``acorr + ssum * V`` costs at most four digits relative to ``m |W_t|``.

The scalar state lives in ``scal = [wscale, u, ssum, n_avg, t]`` (``t`` = number of updates made).

Speed. The per-sample steps are inlined into the epoch loops, and the loops are instantiated with
constant arguments for the common cases (no averaging; no L1 term), so that the compiler drops the
code of the lazy averages and of the cumulative penalty from the loop: 10 to 20% of the time of
an epoch, for the same arithmetic (the iterates are identical bit for bit). The epoch
kernels release the GIL, so that ``_sgd.py`` can compute the certificate of one epoch on another
thread while the next one runs.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# The loops may reassociate sums so that they vectorise (no NaN/inf assumptions).
FASTMATH = {"reassoc", "contract", "arcp"}

# Below this, wscale is folded into V (V *= wscale, wscale = 1) so that V does not overflow
# (scikit-learn's threshold); while averaging, below AVERAGE_FOLD instead.
WSCALE_THRESHOLD = 1e-9
#: The fold threshold of the scale while averaging: it bounds the cancellation in
#: ``acorr + ssum * V`` to four digits (see the module).
AVERAGE_FOLD = 1e-4

WSCALE, CUM_L1, SSUM, N_AVG, T = 0, 1, 2, 3, 4

#: The epoch loops ask the CPU to start loading the row of the update this many updates ahead.
#: Rows are visited in a shuffled order, so each one sits at an address the hardware prefetcher
#: cannot guess; without the hint every update begins with a wait on main memory (about a third
#: of an update on the CSR benchmark of ``benchmarks/bench_sgd.py``). One CSR epoch there, alone
#: on a core: 35 to 37 ms at distance 4, 30 to 31 ms at 8 and 12 (19.5 ms for rows in storage
#: order); whole fits 0.81 to 0.88 of scikit-learn's time at 8 (six runs), 0.87 at 12, 0.86 at 16,
#: 1.02 to 1.06 at 4. The hint changes no result.
PREFETCH_AHEAD = 8


def diverged_at(status):
    """The index in the epoch of the update whose score stopped being finite, from an epoch
    loop's return value ``-1 - s``; None when the epoch went through (the number of updates)."""
    return -1 - status if status < 0 else None


@intrinsic
def _prefetch(typingctx, array, index):
    """Hint that ``array[index]`` will be read soon (LLVM's ``llvm.prefetch``, for reading, kept in
    every cache level). A hint only: it never faults and changes no value."""
    if (
        not isinstance(array, types.Array)
        or array.ndim != 1
        or not isinstance(index, types.Integer)
    ):
        return None

    def codegen(context, builder, signature, args):
        arraytype = signature.args[0]
        view = context.make_array(arraytype)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(
            context, builder, arraytype, view, [args[1]], wraparound=False, boundscheck=False
        )
        byte_pointer = builder.bitcast(pointer, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_pointer.type, i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        builder.call(prefetch, [byte_pointer, i32(0), i32(3), i32(1)])  # read, keep, data
        return context.get_dummy_value()

    return types.void(array, index), codegen


@njit(cache=True, inline="always")
def _prefetch_csr_row(data, indices, indptr, i):
    """Start loading row ``i`` of a CSR matrix: every cache line of its values and indices."""
    for jj in range(indptr[i], indptr[i + 1], 8):  # 8 float64 values a 64-byte line
        _prefetch(data, jj)
    for jj in range(indptr[i], indptr[i + 1], 16):  # 16 int32 indices a line
        _prefetch(indices, jj)


@njit(cache=True, inline="always")
def _prefetch_dense_row(row):
    for j in range(0, row.shape[0], 8):
        _prefetch(row, j)


@njit(cache=True)
def _fold_scale(V, scal, acorr, averaging):
    """``V *= wscale; wscale = 1``; while averaging, the sum so far moves into ``acorr``."""
    if averaging:
        ssum = scal[SSUM]
        if ssum != 0.0:
            for k in range(V.shape[0]):
                for j in range(V.shape[1]):
                    acorr[k, j] += ssum * V[k, j]
        scal[SSUM] = 0.0
    V *= scal[WSCALE]
    scal[WSCALE] = 1.0


@njit(cache=True)
def _clip_l1(V, q, scal, acorr, averaging, k, j):
    """Tsuruoka's step for coefficient ``(k, j)``: collect the pending L1 penalty, stop at zero."""
    wscale = scal[WSCALE]
    u = scal[CUM_L1]
    w = wscale * V[k, j]
    if w > 0.0:
        new = max(0.0, w - (u + q[k, j]))
    elif w < 0.0:
        new = min(0.0, w + (u - q[k, j]))
    else:
        return
    q[k, j] += new - w
    if averaging:
        acorr[k, j] -= scal[SSUM] * (new / wscale - V[k, j])
    V[k, j] = new / wscale


@njit(cache=True)
def _start_average(acorr, bsum, scal):
    acorr[:] = 0.0
    bsum[:] = 0.0
    scal[SSUM] = 0.0
    scal[N_AVG] = 0.0


@njit(cache=True, nogil=True, inline="always")
def _stable_sigmoid(t):
    """``1 / (1 + exp(-t))`` without overflow: ``exp`` only of a number that is not positive."""
    if t >= 0.0:
        return 1.0 / (1.0 + np.exp(-t))
    e = np.exp(t)
    return e / (1.0 + e)


@njit(cache=True, nogil=True, inline="always")
def residuals_in_place(z, y, c):
    """Turn the scores ``z`` of one sample into its residuals ``c (p(z) - y)`` in place.

    ``p`` is the sigmoid (``K = 1``) or the softmax with the largest score taken out before the
    exponentials. The label's residual is never a subtraction ``p - 1``, which is exactly 0 past
    a margin of about 37: ``-sigmoid(-z)`` (one output, positive label), or minus the sum of the
    other classes' probabilities (:func:`mlbasics.losses.probability_residuals`). Returns
    ``(top, rest)``, the largest score and ``sum_k exp(z_k - top)`` without the arg max's own
    term 1 (``(0, 0)`` for one output), so that a caller can form the loss ``top - z_y +
    log1p(rest)`` without a second pass and without cancellation; the SGD step ignores them.
    Shared by the SGD step and the certificate of ``_certificate_kernels.py``. (numba's cache
    does not see changes of a function defined in another file: after editing this one, clear
    the ``__pycache__`` of both.)
    """
    K = z.shape[0]
    if K == 1:
        if y[0] > 0.5:
            z[0] = -c * _stable_sigmoid(-z[0])
        else:
            z[0] = c * _stable_sigmoid(z[0])
        return 0.0, 0.0
    arg = 0
    for k in range(1, K):
        if z[k] > z[arg]:
            arg = k
    top = z[arg]
    rest = 0.0
    others = 0.0  # the probability mass off the label, times the normaliser
    for k in range(K):
        e = np.exp(z[k] - top)
        z[k] = e
        if k != arg:
            rest += e
        others += e * (1.0 - y[k])
    norm = 1.0 + rest
    for k in range(K):
        z[k] = c * (z[k] * (1.0 - y[k]) - y[k] * others) / norm
    return top, rest


@njit(cache=True, inline="always")
def _begin(scal, avg_start, acorr, bsum):
    """Start the averages at update ``avg_start``; return whether this update is averaged."""
    t = scal[T]
    averaging = avg_start >= 0 and t >= avg_start
    if averaging and t == avg_start:
        _start_average(acorr, bsum, scal)
    return averaging


@njit(cache=True, inline="always")
def _decay(scal, eta, alpha2, V, acorr, averaging):
    """L2 decay through the scale (one multiplication); fold it into V when it gets small."""
    if alpha2 > 0.0:
        scal[WSCALE] *= max(0.0, 1.0 - eta * alpha2)  # (MiniBatchRun.decay: the same clamp)
        if scal[WSCALE] < (AVERAGE_FOLD if averaging else WSCALE_THRESHOLD):
            _fold_scale(V, scal, acorr, averaging)


@njit(cache=True, inline="always")
def _finish(scal, b, bsum, averaging):
    if averaging:
        scal[SSUM] += scal[WSCALE]
        scal[N_AVG] += 1.0
        for k in range(b.shape[0]):
            bsum[k] += b[k]
    scal[T] += 1.0


@njit(cache=True, inline="always")
def _save_for_correction(averaging, alpha1, V, ind, old):
    """With averaging and an L1 term, keep ``V[:, ind]`` in ``old`` and return True: the
    correction of the averages is then taken once, after the clip, from the net change
    (:func:`_correct_after_clip`). Taken in the loss step and again in the clip, the two
    roundings of the same change would not cancel, and a coefficient that stays at zero would
    average to 1e-17 instead of an exact zero."""
    if not (averaging and alpha1 > 0.0):
        return False
    for k in range(V.shape[0]):
        for jj in range(ind.shape[0]):
            old[k, jj] = V[k, ind[jj]]
    return True


@njit(cache=True, inline="always")
def _correct_after_clip(V, acorr, ssum, ind, old):
    """``acorr[:, ind] -= ssum * (V[:, ind] - old)``: nothing for a coefficient that did not move."""
    for k in range(V.shape[0]):
        for jj in range(ind.shape[0]):
            j = ind[jj]
            acorr[k, j] -= ssum * (V[k, j] - old[k, jj])


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _sample_step(ind, val, y, sw, eta, alpha2, alpha1, intercept_rate, avg_start,
                 V, b, scal, q, acorr, bsum, g, old):  # fmt: skip
    """One SGD update on one sample ``(ind, val)``; returns False when the scores are not finite."""
    K = V.shape[0]
    nnz = ind.shape[0]
    averaging = _begin(scal, avg_start, acorr, bsum)
    # 1. derivative of the loss with respect to the scores
    wscale = scal[WSCALE]
    for k in range(K):
        acc = 0.0
        for jj in range(nnz):
            acc += V[k, ind[jj]] * val[jj]
        g[k] = wscale * acc + b[k]
        if not np.isfinite(g[k]):
            return False
    residuals_in_place(g, y, sw)
    # 2. L2 decay through the scale
    _decay(scal, eta, alpha2, V, acorr, averaging)
    # 3. loss step on the features of the sample, and on the intercept; while averaging, the
    # correction -ssum * (change of V) that keeps the iterates already summed (see the module)
    step = eta / scal[WSCALE]
    after_clip = _save_for_correction(averaging, alpha1, V, ind, old)
    for k in range(K):
        gk = g[k] * step
        if gk != 0.0:
            if averaging and not after_clip:
                gs = gk * scal[SSUM]
                for jj in range(nnz):
                    V[k, ind[jj]] -= gk * val[jj]
                    acorr[k, ind[jj]] += gs * val[jj]
            else:
                for jj in range(nnz):
                    V[k, ind[jj]] -= gk * val[jj]
        if intercept_rate > 0.0:
            b[k] -= eta * intercept_rate * g[k]
    # 4. cumulative L1 penalty, lazily on the features of the sample
    if alpha1 > 0.0:
        scal[CUM_L1] += eta * alpha1
        for jj in range(nnz):
            for k in range(K):
                _clip_l1(V, q, scal, acorr, False, k, ind[jj])
        if after_clip:
            _correct_after_clip(V, acorr, scal[SSUM], ind, old)
    _finish(scal, b, bsum, averaging)
    return True


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _full_row_step(x, y, sw, eta, alpha2, alpha1, intercept_rate, avg_start,
                   V, b, scal, q, acorr, bsum, g, every, old):  # fmt: skip
    """:func:`_sample_step` for a dense row with no zero entry (every feature is touched).

    The same arithmetic with direct indexing, so that the loops vectorise (their sums in another
    order than :func:`_sample_step`'s); used by both kernels whenever a row is full (in CSR: it
    stores all ``p`` entries, none of them zero), which keeps dense and CSR input on identical
    iterates.
    """
    K = V.shape[0]
    p = x.shape[0]
    averaging = _begin(scal, avg_start, acorr, bsum)
    wscale = scal[WSCALE]
    for k in range(K):
        acc = 0.0
        for j in range(p):
            acc += V[k, j] * x[j]
        g[k] = wscale * acc + b[k]
        if not np.isfinite(g[k]):
            return False
    residuals_in_place(g, y, sw)
    _decay(scal, eta, alpha2, V, acorr, averaging)
    step = eta / scal[WSCALE]
    after_clip = _save_for_correction(averaging, alpha1, V, every, old)
    for k in range(K):
        gk = g[k] * step
        if gk != 0.0:
            if averaging and not after_clip:
                gs = gk * scal[SSUM]
                for j in range(p):
                    V[k, j] -= gk * x[j]
                    acorr[k, j] += gs * x[j]
            else:
                for j in range(p):
                    V[k, j] -= gk * x[j]
        if intercept_rate > 0.0:
            b[k] -= eta * intercept_rate * g[k]
    if alpha1 > 0.0:
        scal[CUM_L1] += eta * alpha1
        for j in range(p):
            for k in range(K):
                _clip_l1(V, q, scal, acorr, False, k, j)
        if after_clip:
            _correct_after_clip(V, acorr, scal[SSUM], every, old)
    _finish(scal, b, bsum, averaging)
    return True


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def sgd_epoch_dense(X, Y, sw, order, rates, alpha2, alpha1, intercept_rate, avg_start,
                    V, b, scal, q, acorr, bsum):  # fmt: skip
    """One pass of plain SGD over the rows ``order`` of a dense C-ordered ``X``.

    ``rates[s]`` is the learning rate of the ``s``-th update. Returns the number of updates made,
    or ``-1 - s`` when the score of the ``s``-th update stopped being finite (:func:`diverged_at`).
    """
    # The loop is inlined with constants for the common cases (see the module): same arithmetic.
    if avg_start < 0 and alpha1 == 0.0:
        return _epoch_dense(X, Y, sw, order, rates, alpha2, 0.0, intercept_rate, -1,
                            V, b, scal, q, acorr, bsum)  # fmt: skip
    if avg_start < 0:
        return _epoch_dense(X, Y, sw, order, rates, alpha2, alpha1, intercept_rate, -1,
                            V, b, scal, q, acorr, bsum)  # fmt: skip
    if alpha1 == 0.0:
        return _epoch_dense(X, Y, sw, order, rates, alpha2, 0.0, intercept_rate, avg_start,
                            V, b, scal, q, acorr, bsum)  # fmt: skip
    return _epoch_dense(X, Y, sw, order, rates, alpha2, alpha1, intercept_rate, avg_start,
                        V, b, scal, q, acorr, bsum)  # fmt: skip


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _epoch_dense(X, Y, sw, order, rates, alpha2, alpha1, intercept_rate, avg_start,
                 V, b, scal, q, acorr, bsum):  # fmt: skip
    p = X.shape[1]
    ind = np.empty(p, dtype=np.int64)
    val = np.empty(p)
    g = np.empty(V.shape[0])
    # the indices of a full row, and V before the step (both for averaging with L1 only)
    lazy_l1 = avg_start >= 0 and alpha1 > 0.0
    every = np.arange(p if lazy_l1 else 0)
    old = np.empty((V.shape[0], p if lazy_l1 else 0))
    m = order.shape[0]
    for s in range(m):
        if s + PREFETCH_AHEAD < m:
            _prefetch_dense_row(X[order[s + PREFETCH_AHEAD]])
        i = order[s]
        # The nonzero entries of the row, so that the lazy steps (L1, averaging) are the same
        # as on the CSR form of the same matrix; a full row takes the direct-indexing step.
        x = X[i]
        zeros = 0
        for j in range(p):
            zeros += x[j] == 0.0
        if zeros == 0:
            ok = _full_row_step(x, Y[i], sw[i], rates[s], alpha2, alpha1, intercept_rate,
                                avg_start, V, b, scal, q, acorr, bsum, g, every, old)  # fmt: skip
        else:
            nnz = 0
            for j in range(p):
                if x[j] != 0.0:
                    ind[nnz] = j
                    val[nnz] = x[j]
                    nnz += 1
            ok = _sample_step(ind[:nnz], val[:nnz], Y[i], sw[i], rates[s], alpha2, alpha1,
                              intercept_rate, avg_start, V, b, scal, q, acorr, bsum, g, old)  # fmt: skip
        if not ok:
            return -1 - s
    return order.shape[0]


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def sgd_epoch_csr(data, indices, indptr, Y, sw, order, rates, alpha2, alpha1, intercept_rate,
                  avg_start, V, b, scal, q, acorr, bsum):  # fmt: skip
    """One pass of plain SGD over the rows ``order`` of a CSR matrix: ``O(nnz)`` per update."""
    # As in sgd_epoch_dense: constants for the common cases, the same arithmetic.
    if avg_start < 0 and alpha1 == 0.0:
        return _epoch_csr(data, indices, indptr, Y, sw, order, rates, alpha2, 0.0,
                          intercept_rate, -1, V, b, scal, q, acorr, bsum)  # fmt: skip
    if avg_start < 0:
        return _epoch_csr(data, indices, indptr, Y, sw, order, rates, alpha2, alpha1,
                          intercept_rate, -1, V, b, scal, q, acorr, bsum)  # fmt: skip
    if alpha1 == 0.0:
        return _epoch_csr(data, indices, indptr, Y, sw, order, rates, alpha2, 0.0,
                          intercept_rate, avg_start, V, b, scal, q, acorr, bsum)  # fmt: skip
    return _epoch_csr(data, indices, indptr, Y, sw, order, rates, alpha2, alpha1, intercept_rate,
                      avg_start, V, b, scal, q, acorr, bsum)  # fmt: skip


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _epoch_csr(data, indices, indptr, Y, sw, order, rates, alpha2, alpha1, intercept_rate,
               avg_start, V, b, scal, q, acorr, bsum):  # fmt: skip
    p = V.shape[1]
    g = np.empty(V.shape[0])
    # V before the step, and the indices of a full row (both for averaging with L1 only); a row
    # has at most p entries
    lazy_l1 = avg_start >= 0 and alpha1 > 0.0
    every = np.arange(p if lazy_l1 else 0)
    old = np.empty((V.shape[0], p if lazy_l1 else 0))
    m = order.shape[0]
    for s in range(m):
        if s + PREFETCH_AHEAD < m:
            _prefetch_csr_row(data, indices, indptr, order[s + PREFETCH_AHEAD])
        i = order[s]
        lo, hi = indptr[i], indptr[i + 1]
        if hi - lo == p:
            # a full row (canonical CSR: sorted, no stored zero) takes the dense kernel's step
            # for full rows, whose sums are vectorised in their own order: the same arithmetic
            # for both formats (through _sample_step, a CSR copy of dense data ended 0.7 apart
            # in a coefficient after two epochs of the long early 'optimal' steps: a review)
            ok = _full_row_step(data[lo:hi], Y[i], sw[i], rates[s], alpha2, alpha1,
                                intercept_rate, avg_start, V, b, scal, q, acorr, bsum, g, every,
                                old)  # fmt: skip
        else:
            ok = _sample_step(indices[lo:hi], data[lo:hi], Y[i], sw[i], rates[s], alpha2, alpha1,
                              intercept_rate, avg_start, V, b, scal, q, acorr, bsum, g, old)  # fmt: skip
        if not ok:
            return -1 - s
    return order.shape[0]


@njit(cache=True, nogil=True)
def l1_catch_up(V, q, scal, acorr, averaging):
    """Give every coefficient its pending cumulative L1 penalty (at the end of an epoch).

    Features absent from the last samples have not yet received their share; after this every
    coefficient is what it would be had all features been touched at the last update.
    """
    for j in range(V.shape[1]):
        for k in range(V.shape[0]):
            _clip_l1(V, q, scal, acorr, averaging, k, j)
