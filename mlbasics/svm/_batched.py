"""Batched working sets for the SVC duals ("thunder" SMO), in plain Python around compiled kernels.

The pair SMO of :mod:`mlbasics.svm._smo` moves two variables per iteration and needs the two kernel
rows ``K[i, :]``, ``K[j, :]`` of that pair: one matrix-vector product each, a few thousand times. The
method of ThunderSVM (Wen, Shi, Li, He and Chen 2018), which Intel's oneDAL calls "thunder", moves
``q`` variables per *round* instead, and so gets its rows ``q / 2`` at a time from one matrix
product: 1.4 ns per kernel value, product and exponential, for 64 or 128 rows per product at
n = 10 000 and 20 000, against 4.5 to 7.7 ns for the pair SMO's matrix-vector product per row
(one BLAS thread). The problem is the hinge dual of the module docstring of
:mod:`mlbasics.svm._smo`,

    ``min 1/2 a'Qa - e'a``,  ``0 <= a_i <= C_i``,  ``y'a = 0``,  ``Q_ij = y_i y_j K_ij``,

(or the squared-hinge dual: ``Q + diag(1 / (2 C_i))``, no upper bound), in the variables of the
SMO kernels: ``F = y * G`` with ``G = (Q + diag(extra)) a - e``, so ``F = (K + diag(extra)) c - y``
for ``c = y * a``; I_up and I_low as in libsvm, kept in the masks ``pen_up`` / ``pen_low``
(0 inside, ``-BIG`` outside). A round of :func:`solve_batched` is:

1. *Violation and stopping rule.* ``m(a) - M(a) = max_{I_up} -F + max_{I_low} F``
   (:func:`~mlbasics.svm._dual.violations`); stop when it is below ``tol``, the rule of libsvm
   and of the pair SMO.
2. *Selection* (:func:`_pick`, first order). The first round takes ``q`` variables, alternately
   those of I_up with the largest ``-F`` and those of I_low with the largest ``F``, most violating
   first. Every later round keeps the ``q / 2`` variables that joined last (the newest half stays:
   ThunderSVM's rule, which lets a variable that is still moving keep its place for a second
   round) and fills the other ``q / 2`` places the same way from all other variables, the oldest
   half included (a variable chosen again keeps its cached row). The maximal violating pair of
   step 1 is therefore always in ``B`` (kept, or the best candidate of its side), the local gap of
   step 4 starts at the global one, and every round makes progress. (Excluding the whole old
   ``B`` instead, as a literal reading of the rule would, can drop that pair: on an indefinite
   sigmoid kernel this stalled a round with no pair to update.)
3. *Kernel rows*: ``B``'s rows come from a row cache (the pair SMO's LRU layout,
   :func:`mlbasics.svm._dual._cache`, within ``cache_size``). The slots are claimed in one pass
   (:func:`~mlbasics.svm._batched_kernels.claim_slots`; the kept half is claimed first, so it
   is never evicted by the new half) and the missing rows come from *one* float64 matrix product
   ``X[missing] @ X.T`` (in pieces of at most :data:`PRODUCT_BYTES` on large data) turned into
   kernel values in place
   (:func:`~mlbasics.svm._batched_kernels.fill_rows`, the SMO's vectorised exponential for rbf).
4. *Local SMO*: the ``q``-variable sub-problem, with every variable outside ``B`` held fixed, is
   the same kind of dual with the block ``K_BB``
   (:func:`~mlbasics.svm._batched_kernels.gather_block`) as a precomputed kernel and the current
   ``F_B`` as its gradient. It is solved by the pair SMO's own compiled iterations
   (:func:`~mlbasics.svm._smo_kernels.smo_dual`, second-order pair choice, libsvm's clipped step,
   no shrinking) until its gap is below ``max(LOCAL_FLOOR tol, LOCAL_FRACTION (m - M))`` or after
   ``LOCAL_CAP q`` pair updates. A loose local stop is enough: the next round brings fresh
   violators anyway. A squared-hinge pair whose curvature the float32 block rounds to ``<= 0``
   (an unbounded dual, if true) sends the round back to its start with ``K_BB`` computed in
   float64 (:func:`_exact_block`), from which the local SMO confirms or refutes it.
5. *One gradient update*: ``F += K[B, :]' dc_B + extra_B dc_B`` with ``dc_B = y_B (a_B(new) -
   a_B(old))`` over all ``n`` entries, one float64 pass per moved row
   (:func:`~mlbasics.svm._batched_kernels.add_rows`).

``n_iter`` counts the pair updates of the local SMOs, as the pair SMO counts its own; the objective
follows the exact change of each of them. After the last round, the bias, objective and primal
certificate are formed from ``F`` exactly as the pair SMO forms them
(:func:`~mlbasics.svm._smo_kernels.rho_from_gradient`: the mean of ``F`` over the free variables,
the midpoint of the feasible interval when there are none); the objective, gap and primal value
of a run that did not converge come from the float64 gradient at its ``alpha``
(:func:`~mlbasics.svm._dual.unconverged_gradient`).

Why the cache across rounds matters (measured by ``benchmarks/experiment_batched_smo.py`` at
n = 10 000, rbf, ``make_classification`` d = 20, C = 1, ``q = 256``): ThunderSVM as published keeps
only ``B``'s rows, and a variable that leaves ``B`` and comes back pays its row again: 10 112 rows
for 3 716 distinct samples, 101 M kernel values against the pair SMO's 32.6 M, which eats most of
the gain of the matrix product (0.75-0.87 of the pair SMO's time). Kept in an LRU cache of the pair
SMO's 200 MB budget the count falls to 37.5 M here (3 750 rows). The method takes about four times
more pair updates than the pair SMO (25 219 against 6 597), but they run on a ``q x q`` block, in
82 rounds that each pay one O(n) selection and one ``O(q n)`` update. Where the time goes then
(n = 10 000, 0.24 s in all): rows 0.10 s (product 0.03, exponential 0.055, slots 0.012), local
SMO 0.08 s (the gather of ``K_BB`` 0.028 of it), gradient update 0.04 s, selection 0.013 s. The
solve takes 0.77 of the pair SMO's CPU time at n = 10 000 and 0.66 at 20 000 (see
:data:`BATCHED_MIN`).

Progress is reported as the pair SMO reports it: a round's local SMO stops at the next multiple
of :data:`~mlbasics.svm._dual.CHUNK` pair updates, where the trace is recorded and the hook called,
so a run capped by ``max_iter = k CHUNK`` ends at the iterate the hook saw after ``k`` chunks.

BLAS runs on one thread around the solve (:func:`mlbasics._threads.one_blas_thread`): on a
machine shared with other work, OpenBLAS's threaded products cost 10 to 90 ns per value against
0.7 to 0.9 ns on one thread, and the pair SMO and libsvm are single-threaded anyway.

Not covered (the pair SMO stays in charge, :func:`batched_applies`): sparse input, precomputed and
callable kernels, the logistic loss, and problems below :data:`BATCHED_MIN` samples. There is no
shrinking: the rounds already spend their kernel rows on the violators.
"""

from __future__ import annotations

import math
from itertools import zip_longest

import numpy as np
from scipy import sparse

from .._result import TraceRecorder
from .._threads import one_blas_thread
from ..kernels import KernelSpec
from . import _smo_kernels as K
from ._batched_kernels import add_rows, claim_slots, fill_rows, gather_block
from ._dual import (
    _ENTRY_BYTES,
    CHUNK,
    MAX_REFINEMENTS,
    PRECISION,
    DualSolution,
    _cache,
    _data,
    _kern,
    check_unbounded_direction,
    current_iterate,
    default_max_iter,
    float64_gradient,
    hinge_finish,
    hinge_objective,
    hinge_start,
    needs_float64_check,
    stop_message,
    unbounded_error,
    unconverged_gradient,
    violations,
)

__all__ = ["BATCHED_LOSSES", "BATCHED_MIN", "WORKING_SET", "batched_applies", "solve_batched"]

#: The duals the batched solver handles (dense input, a named kernel); the logistic dual stays on
#: the pair SMO.
BATCHED_LOSSES = ("hinge", "squared_hinge")

#: Samples from which :func:`mlbasics.svm._smo.solve_dual` hands a problem to the batched solver.
#: Measured: CPU time of :func:`solve_batched` over the pair SMO's (rbf, ``make_classification``
#: d = 20, C = 1, gamma="scale", tol = 1e-3; thread time, medians of 7 alternating runs in one
#: process) 1.03 at n = 4 000, 1.06 at 5 000, 0.94 at 6 000, 0.86 at 7 000, 0.78 at 8 000, 0.77 at
#: 10 000, 0.67 at 14 000, 0.66 at 20 000. The crossover moves little with the dimension (d = 5:
#: 0.97 at 6 000; d = 100: 0.68), and at n = 8 000 every kernel and loss gains (linear 0.45 hinge /
#: 0.20 squared hinge, poly 0.60 / 0.41, sigmoid (gamma = 0.002) 0.78, rbf 0.79 / 0.42).
BATCHED_MIN = 6_000

#: Working-set size ``q``. Measured by ``benchmarks/experiment_batched_smo.py`` (n = 10 000 and
#: 20 000, with the row cache, times relative to the pair SMO of then): q = 256 0.53-0.58, q = 128
#: 0.55-0.63, q = 512 0.60-0.78 (a long local SMO and rows for variables that never move); q = 64
#: pays too many O(n) rounds (0.95-1.08 without a cache).
WORKING_SET = 256

#: The local SMO stops at a gap of ``max(LOCAL_FLOOR tol, LOCAL_FRACTION (m - M))``. ThunderSVM's
#: fraction 0.1 and 0.01 were within noise of each other; 0.5 took 1.6-3 times more rounds and was
#: slower (``benchmarks/experiment_batched_smo.py --sweep``, n = 10 000).
LOCAL_FRACTION = 0.01

#: The floor of the local stop, in units of ``tol``: near the end, when the outer gap is close to
#: ``tol``, the sub-problem stops at ``tol / 10`` rather than being solved to rounding error.
LOCAL_FLOOR = 0.1

#: At most ``LOCAL_CAP q`` pair updates per round, a guard that does not bind: with the local stop
#: above an rbf round takes about ``1.2 q`` pairs (n = 10 000: 25 219 in 82 rounds), and a round
#: also ends at the next multiple of ``CHUNK`` (which shortens the long rounds of the linear
#: kernel). Caps of q / 2 or q / 4 added rounds and saved nothing (with ThunderSVM's fraction 0.1).
LOCAL_CAP = 100
#: The default cap on local pair updates is this many times the pair SMO's
#: (:func:`~mlbasics.svm._dual.default_max_iter`): the local SMOs make 4 to 7 times as many
#: updates as the pair SMO on the same problem (6 200 samples, rbf kernel: 6.6 times at C = 100,
#: 4.3 times at C = 1e4, where the pair SMO's cap of 10 million stopped the batched run short
#: while the pair SMO converged in 4.3 million updates and libsvm in 4.7 million: a review).
BATCHED_ITER_FACTOR = 10

#: Largest block of one matrix product of kernel rows, in bytes (the rows of a round come in
#: pieces of at most this). The whole ``q x n`` block at once added 102 MB (float32; 205 MB for
#: the float64 products) beside the 200 MB cache at n = 100 000: peak 637 MB against 293 MB
#: before the fit. 16 MB still holds all ``q / 2`` new rows of a round up to n = 16 000 (float64
#: products; 32 000 when they were float32), and a product of 40 rows costs little more per value
#: than one of 128 (1.77 ns for 32 rows, 1.4 ns for 64 or 128, float32,
#: ``benchmarks/experiment_batched_smo.py``).
PRODUCT_BYTES = 16 * 2**20

_PRECOMPUTED = KernelSpec("precomputed")
_LOCAL_KERN = _kern(_PRECOMPUTED)


def batched_applies(X, spec: KernelSpec, loss: str, cache_size: float) -> bool:
    """Whether :func:`mlbasics.svm._smo.solve_dual` should hand this problem to :func:`solve_batched`.

    Dense ``X``, a named kernel (computed from inner products), the hinge or squared-hinge dual, at
    least :data:`BATCHED_MIN` samples, and :data:`WORKING_SET` float32 rows within ``cache_size``
    megabytes. The constants are read at every call, so a test can set them.
    """
    n = X.shape[0]
    return (
        loss in BATCHED_LOSSES
        and spec.is_named
        and not sparse.issparse(X)
        and n >= BATCHED_MIN
        and WORKING_SET * n * _ENTRY_BYTES <= cache_size * 2**20
    )


def _pick(s_up, s_low, k):
    """At most ``k`` distinct indices, alternately the next best of ``s_up`` and of ``s_low``.

    Scores at ``-BIG`` (outside the set, or kept in the working set) are never chosen.
    """
    sides = []
    for score in (s_up, s_low):
        m = min(k, score.shape[0])
        top = np.argpartition(-score, m - 1)[:m]
        top = top[np.argsort(-score[top], kind="stable")]
        sides.append(top[score[top] > -0.5 * K.BIG].tolist())
    chosen = []
    seen = set()
    for pair in zip_longest(*sides):
        for t in pair:
            if t is not None and t not in seen and len(chosen) < k:
                seen.add(t)
                chosen.append(t)
    return np.array(chosen, dtype=np.int64)


def solve_batched(
    X,
    y,
    upper,
    spec: KernelSpec,
    *,
    loss: str = "hinge",
    tol: float = 1e-3,
    max_iter: int | None = None,
    cache_size: float = 200.0,
    hook=None,
    log=None,
    q: int | None = None,
) -> DualSolution:
    """Solve one binary hinge or squared-hinge dual by batched working sets of ``q`` variables.

    The arguments and the result are those of :func:`mlbasics.svm._smo.solve_dual` (no
    ``shrinking``: the method does not shrink), with ``X`` dense and ``spec`` a named kernel.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training rows.
    y : ndarray of shape (n_samples,)
        Labels in {-1, +1}.
    upper : ndarray of shape (n_samples,)
        ``C_i``, all positive.
    spec : KernelSpec
        A named kernel ("linear", "poly", "rbf", "sigmoid").
    loss : {"hinge", "squared_hinge"}
        Which dual.
    tol : float
        Stop when ``m(alpha) - M(alpha) < tol``.
    max_iter : int or None
        Cap on pair updates (of the local SMOs); None means :data:`BATCHED_ITER_FACTOR` times
        :func:`~mlbasics.svm._dual.default_max_iter`.
    cache_size : float
        Kernel-row cache budget in megabytes; at least ``q`` rows are kept whatever the budget.
    hook : callable, optional
        ``hook(record, objective, gap, iterate)`` at the start, after every
        :data:`~mlbasics.svm._dual.CHUNK` pair updates (a round's local SMO stops at the multiple
        of ``CHUNK``, so the records fall where the pair SMO's do) and at the end, with
        ``iterate = (alpha, rho, n_iter)``; a true return value stops the solver there.
    log : callable, optional
        Called with each line of progress (``log(line)``, a str without newline): the gap and the
        objective after every round and after each check of the float64 gradient, and the counts
        of rounds, pair updates and kernel rows at the end. None (the default) is silent.
    q : int or None
        Working-set size, at least 4 so that the ``q / 2`` new places hold the maximal violating
        pair (at most ``n_samples`` are used); None means :data:`WORKING_SET`.

    Returns
    -------
    DualSolution
    """
    if loss not in BATCHED_LOSSES:
        raise ValueError(f"the batched solver handles the losses {BATCHED_LOSSES}; got {loss!r}.")
    if sparse.issparse(X) or not spec.is_named:
        raise ValueError("the batched solver needs dense X and a named kernel.")
    q = WORKING_SET if q is None else int(q)
    if q < 4:
        raise ValueError(f"q must be at least 4; got q={q}.")
    # as in the pair SMO: overflow shows in the result (and ends the run), not as RuntimeWarnings
    with one_blas_thread(), np.errstate(all="ignore"):
        return _solve(X, y, upper, spec, loss, tol, max_iter, cache_size, hook, log, q)


def _solve(X, y, upper, spec, loss, tol, max_iter, cache_size, hook, log, q):
    n = y.shape[0]
    q = min(q, n)
    max_iter = BATCHED_ITER_FACTOR * default_max_iter(n) if max_iter is None else int(max_iter)
    upper = np.asarray(upper, dtype=np.float64)
    data, diag, kern = _data(X, y, spec)
    Xp, y = data[0], data[2]
    cache = _cache(n, max(cache_size, q * n * _ENTRY_BYTES / 2**20))
    rows, length, stats = cache[0], cache[3], cache[6]  # see the cache layout of _smo_kernels
    C = upper  # the C_i (the squared hinge's upper bound becomes inf)
    upper, extra, QD, F, status = hinge_start(loss, upper, diag, y)
    alpha = np.zeros(n)
    pen_up, pen_low = np.empty(n), np.empty(n)
    for t in range(n):
        K._set_masks(t, y, status, pen_up, pen_low)
    # The products in float64, from the float64 copy of X (:func:`~mlbasics.svm._dual._data`),
    # for every kernel; only the kernel values are rounded to float32, in the cache. OpenBLAS's
    # sgemm was off by 1.3e-6 rms on the linear kernel of standardised breast cancer, which left
    # complementary slackness at 2.6e-5 after a fit at tol=1e-6; on rbf rows (n = 400, p = 50,
    # gamma = 1) float32 products were off by 1.9e-6 and left it at 1.2e-5 (libsvm: 7e-7).
    chunk = max(1, min(q, PRODUCT_BYTES // (n * Xp.itemsize)))  # rows per matrix product
    dots = np.empty((chunk, n))
    local = (_cache(q, q * q * _ENTRY_BYTES / 2**20), np.empty((q, q)))  # the sub-problem's block
    ws = np.empty(0, dtype=np.int64)  # the working set, oldest first

    recorder = TraceRecorder(hook=hook)
    # as in the pair SMO, a stop asked at the start takes effect at the first record (after the
    # first chunk of pair updates): the model then has something to show
    recorder.record(0.0, np.inf)
    stop = False
    objective = 0.0
    n_iter = rounds = 0
    next_record = CHUNK
    refinements = 0
    outcome = K.RUNNING  # why the rounds stopped, for the message
    exact = False  # whether F is the float64 gradient at the current alpha
    gap, s_up, s_low = violations(F, pen_up, pen_low)
    while not stop:
        # (after a refinement always checked, whatever alpha is: as in the pair SMO)
        if gap < tol and refinements == 0 and not needs_float64_check(tol, alpha, X, spec, data):
            outcome = K.CONVERGED
            break
        if gap < tol:
            # the float32 cache's rounding may matter at this tol: the float64 gradient decides,
            # and the rounds go on from it when its gap is not below tol (as in the pair SMO)
            F[:] = float64_gradient(X, spec, data, alpha, loss, extra, upper)
            exact = True
            objective = hinge_objective(alpha, F, y)  # (not the sum of float32 steps)
            gap, s_up, s_low = violations(F, pen_up, pen_low)
            if log is not None:
                log(
                    f"[batched SMO] round {rounds:>6d}  iter {n_iter:>8d}  gap {gap:.3e}  "
                    f"dual objective {objective:.8e}  (float64 gradient)"
                )
            istate = _run_state(n_iter, n)
            iterate = None if hook is None else current_iterate(data, (alpha, F), status, istate)
            stop = recorder.record(objective, gap, iterate)
            if gap < tol:
                outcome = K.CONVERGED
                break
            if stop:
                break
            if refinements == MAX_REFINEMENTS:
                outcome = PRECISION
                break
            refinements += 1
        if n_iter >= max_iter:
            break
        # 2. selection: the newest q - q/2 stay, q/2 violators (q in the first round) join them
        kept = ws[max(0, ws.shape[0] - (q - q // 2)) :]
        s_up[kept] = -K.BIG
        s_low[kept] = -K.BIG
        ws = np.concatenate([kept, _pick(s_up, s_low, q - kept.shape[0])])
        # 3. kernel rows: the missing ones by one matrix product (or a few, on large data)
        slots = np.empty(ws.shape[0], dtype=np.int64)
        if claim_slots(ws, data, kern, cache, slots):
            miss = np.flatnonzero(length[slots] < n)
            for part in np.array_split(miss, max(1, -(-miss.shape[0] // chunk))):
                block = np.matmul(Xp[ws[part]], Xp.T, out=dots[: part.shape[0]])
                fill_rows(cache, slots[part], block, ws[part], data, kern)
        # 4. local SMO on the q x q sub-problem
        args = (rows, slots, ws, y, alpha, F, upper, extra, QD, status, pen_up, pen_low, objective)
        eps = max(LOCAL_FLOOR * tol, LOCAL_FRACTION * gap)
        cap = min(LOCAL_CAP * q, max_iter - n_iter, next_record - n_iter)
        result = _local_smo(local, *args, eps=eps, cap=cap)
        if result[0] == K.UNBOUNDED:
            # The block was copied from the float32 cache, which can round a positive pair
            # curvature to <= 0 (rows far from the origin). The round starts again with the
            # block in float64, where smo_dual confirms a pair's curvature before calling the
            # dual unbounded (as the pair SMO does from its float64 kernel values).
            block64 = _exact_block(ws, data, kern)
            result = _local_smo(local, *args, eps=eps, cap=cap, exact=block64)
        code, pairs, objective, a_B, status_B, up_B, low_B = result
        if code == K.UNBOUNDED:
            raise unbounded_error()
        # 5. one gradient update over the rows of the variables that moved
        coef = y[ws] * (a_B - alpha[ws])
        add_rows(F, rows, slots, coef)
        F[ws] += extra[ws] * coef
        exact = False
        alpha[ws], status[ws], pen_up[ws], pen_low[ws] = a_B, status_B, up_B, low_B
        n_iter += pairs
        rounds += 1
        gap, s_up, s_low = violations(F, pen_up, pen_low)
        if log is not None:
            log(
                f"[batched SMO] round {rounds:>6d}  iter {n_iter:>8d}  gap {gap:.3e}  "
                f"dual objective {objective:.8e}"
            )
        finite = math.isfinite(objective) and math.isfinite(gap)
        last = gap < tol or n_iter >= max_iter or pairs == 0 or not finite
        if n_iter == next_record or last:
            next_record += CHUNK
            istate = _run_state(n_iter, n)
            iterate = None if hook is None else current_iterate(data, (alpha, F), status, istate)
            stop = recorder.record(objective, gap, iterate)
        if pairs == 0 or not finite:  # numerically stuck, or overflowed: stop unconverged
            outcome = K.STALLED if finite else outcome
            break
    if log is not None:
        log(f"[batched SMO] {rounds} rounds, {n_iter} pair updates, {stats[0]} kernel rows")

    check_unbounded_direction(loss, objective, X, spec, data, alpha, extra)
    F_exact = F
    if outcome != K.CONVERGED and not exact and math.isfinite(objective):
        # as in the pair SMO: an unconverged run's objective, gap and primal value come from the
        # float64 gradient at its alpha (_dual.unconverged_gradient); the bias stays F's
        F_exact, gap = unconverged_gradient(
            X, spec, data, alpha, loss, extra, upper, pen_up, pen_low
        )
        if gap < tol and not recorder.stopped:  # converged after all: the bias from it too
            outcome = K.CONVERGED
            F[:] = F_exact
    objective, rho, primal = hinge_finish(loss, alpha, F, y, status, C, extra, exact=F_exact)
    converged = outcome == K.CONVERGED
    return DualSolution(
        alpha=alpha,
        rho=rho,
        objective=objective,
        gap=gap,
        n_iter=n_iter,
        converged=converged,
        trace=recorder.freeze(),
        primal=primal,
        stopped=recorder.stopped and not converged,
        message=stop_message(outcome, recorder.stopped, gap, tol, max_iter),
    )


def _run_state(n_iter, n):
    """The compiled solver's ``istate`` of a batched run with every variable active (what
    :func:`~mlbasics.svm._dual.current_iterate` reads)."""
    istate = np.zeros(K.N_ISTATE, dtype=np.int64)
    istate[K.I_ITER], istate[K.I_ACTIVE] = n_iter, n
    return istate


def _exact_block(ws, data, kern):
    """``K[ws][:, ws]`` in float64, from the float64 rows of X (dense: the batched SMO's input)."""
    Xp, sqn, bits = data[0], data[1], data[10]
    block = Xp[ws] @ Xp[ws].T
    K.gram_from_dots(block, sqn[ws], sqn[ws], kern, bits[: ws.shape[0]])
    return block


def _local_smo(
    local, rows, slots, ws, y, alpha, F, upper, extra, QD, status, pen_up, pen_low, objective,
    *, eps, cap, exact=None,
):  # fmt: skip
    """Run :func:`~mlbasics.svm._smo_kernels.smo_dual` on the working set's sub-problem.

    ``K_BB`` is gathered from the cached rows (``rows[slots]``) straight into a row cache of the
    sub-problem, every row present, so the local SMO never computes one; the same block in
    float64 is its precomputed kernel, read only to confirm a pair curvature found <= 0 (``exact``,
    the block computed in float64, takes its place when given). ``local`` holds
    that cache and block for ``q`` variables, reused by every round that has ``q`` (allocating
    them each round maps fresh memory). The
    sub-problem's variables start from ``alpha_B`` with the gradient ``F_B`` (the variables outside
    ``B`` are constant: they only shift the linear term, which ``F_B`` already holds). Returns
    :func:`~mlbasics.svm._smo_kernels.smo_dual`'s return code (UNBOUNDED: the squared-hinge
    dual has no minimum), the pair updates, the objective after them (the global one: each step
    changes it by what it changes the sub-problem's), and the new ``alpha_B``, status and masks.
    """
    size = ws.shape[0]
    cache, block = local
    if size != cache[1].shape[0]:  # slot_of: one entry per variable of the sub-problem
        cache = _cache(size, size * size * _ENTRY_BYTES / 2**20)  # one slot per variable of B
        block = np.empty((size, size))
    # the cache layout of _smo_kernels: (rows, slot_of, owner, length, last_used, clock, stats)
    local_rows, slot_of, owner, length = cache[:4]
    gather_block(rows, slots, ws, local_rows)
    slot_of[:] = owner[:] = np.arange(size)  # variable a of B in slot a
    length[:] = size  # every row complete
    block[:] = local_rows if exact is None else exact
    data, _, _ = _data(block, y[ws], _PRECOMPUTED)
    y_B = data[2]
    a_B = alpha[ws]
    state = (
        a_B, F[ws], np.zeros(size), upper[ws], extra[ws], QD[ws], -y_B,
        pen_up[ws], pen_low[ws], np.zeros(size), np.empty(size),
    )  # fmt: skip
    status_B = status[ws]
    istate = np.zeros(K.N_ISTATE, dtype=np.int64)
    istate[K.I_ACTIVE] = size
    istate[K.I_COUNTER] = size + 1
    fstate = np.array([objective, np.inf])
    code = K.smo_dual(data, _LOCAL_KERN, cache, state, status_B, istate, fstate, eps, False, cap)
    up_B, low_B = state[7], state[8]  # the masks pen_up, pen_low of B, updated by smo_dual
    iterations, objective = int(istate[K.I_ITER]), float(fstate[K.F_OBJECTIVE])
    return code, iterations, objective, a_B, status_B, up_B, low_B
