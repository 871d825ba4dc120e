"""Experiment: batched ("thunder") working sets for the SVC hinge dual, against SMO and libsvm.

The method now lives in the package (:mod:`mlbasics.svm._batched`, used by ``solve_dual`` from
``BATCHED_MIN`` samples); this script keeps the experiment that chose it (no cache against a cache,
q, local stops, the gradient update, BLAS threads), with its own driver, and takes the gather of
the working set's block and the gradient update from :mod:`mlbasics.svm._batched_kernels`.

Measured conclusion (commit cbabc01, 2-core machine shared with other jobs, BLAS held to one
thread; two runs of ``--repeats 5``, medians of alternating runs; ratios of CPU time, which the
load disturbs least, the wall-clock ratios being close):

* ThunderSVM's scheme as published (no row cache: the ``q`` rows of the working set only) takes
  0.75 to 0.87 of SMO's time at n = 10 000 and 0.66 to 0.92 at n = 20 000 for q >= 128 (best
  q = 256; q = 64: 0.95 to 1.08), and more at n = 2 000 (1.16 to 2.4). Each kernel value costs
  half as much (2.3 to 3.8 ns for 128 rows per matrix product, of which the product is 0.7 to
  0.9 ns, against 4.5 to 7.7 ns for SMO's one matrix-vector product per row), but it computes
  three times as many: a variable leaves the working set and comes back, and each return costs
  its row again (n = 10 000, q = 256: 101 M values, 10 112 rows for 3 716 distinct samples,
  against SMO's 32.6 M).
* With an LRU cache of rows across rounds (the same 200 MB budget as SMO's ``cache_size``) the
  count falls to SMO's (34 to 40 M at n = 10 000; 147 to 180 M against 135 M at n = 20 000,
  where 200 MB holds 2 621 of the 7 124 rows) and the batched solver takes 0.53 to 0.58 of SMO's
  time at n = 10 000 and 0.54 to 0.58 at n = 20 000 (q = 256; q = 128: 0.55 to 0.63; q = 512:
  0.60 to 0.78), 0.17 to 0.24 of libsvm's. At n = 2 000 it is not faster (0.87 to 1.09 for
  q = 64, 1.03 to 1.16 for q = 128 and 256). An earlier run timed by the wall clock only, under
  heavier load, gave 0.51 to 1.05 at n = 10 000 and 0.37 to 0.39 at n = 20 000 (q = 128 to
  512): the gain is real at n >= 10 000, its size uncertain by about 0.1 to 0.2.
* Where the time goes (n = 20 000, q = 256, cache): kernel rows about half, the gradient update
  over the q rows a quarter, the local SMO on K_BB and the selection the rest. The method needs
  2 to 6 times more pair updates than SMO (13 135 to 40 452 against 6 623 at n = 10 000, q = 256,
  by local stop), but they run on a q x q matrix, in 36 to 660 rounds that each pay one O(n)
  selection and one update over the q rows.
* Best settings: q = 128 or 256 (q = 64 pays too many O(n) rounds, q = 512 too long a local
  SMO and too many rows for variables that never move); a local stop at
  ``max(tol / 10, 0.1 * gap)`` (ThunderSVM's, with its floor tol / 10 here) or ``0.01 * gap``
  are within noise of each other (the table uses 0.01), ``0.5 * gap`` takes 1.6 to 3 times more
  rounds and is slower, and caps of q / 2 or q / 4 pair updates per round add rounds without
  saving time (with 0.1 * gap a round takes about 0.6 q pairs, so a cap of q never binds). The
  float64 update loop over the rows that moved beats a float32 BLAS gemv over all q rows (0.38 to
  0.48 s CPU against 0.51 to 0.65 s at n = 10 000).
* BLAS on two threads is a loss here: with the other core busy, OpenBLAS's threaded matrix
  products cost 10 to 90 ns per value, and the fit takes 1.3 to 2 times SMO's time at
  n >= 10 000 (5 to 9 times at n = 2 000); an integration must hold BLAS to one thread around
  them (threadpoolctl).

The method (ThunderSVM, Wen et al. 2018; oneDAL's "thunder" method) solves
``min 1/2 a'Qa - e'a`` subject to ``0 <= a <= C`` and ``y'a = 0``, ``Q_ij = y_i y_j K(x_i, x_j)``,
by rounds on a working set ``B`` of ``q`` variables instead of pairs:

1. *Selection* (first order): with ``F = y * G`` (``G = Qa - e``, the notation of
   :mod:`mlbasics.svm._smo_kernels`), take alternately the variables of I_up with the largest
   ``-F`` and those of I_low with the largest ``F``, the most violating first. The first round fills
   all ``q`` places; every later round keeps the ``q/2`` variables it chose last (ThunderSVM's
   rule: the newest half stays, the oldest half leaves) and chooses ``q/2`` new ones.
2. *Kernel rows*: the missing rows ``K[B_new, :]`` in one float32 matrix product
   ``X[B_new] @ X.T`` (BLAS) followed by the vectorised float32 exponential of the SMO
   (:func:`mlbasics.svm._smo_kernels._rbf_row32`), on the same centred float32 copy of ``X``. The
   kept half's rows are reused; without a cache a round computes ``q/2 n`` kernel values, with
   one (``cache_mb``) only the rows not computed in an earlier round and not evicted since.
3. *Local SMO* on the ``q``-variable sub-problem with ``K_BB`` (read from those rows): libsvm's
   second-order pair choice inside ``B`` and its clipped pair step
   (:func:`mlbasics.svm._smo_kernels._pair_step`), the local gradient kept up to date with
   ``K_BB``; it stops at a local gap ``max(tol_floor, frac * outer gap)`` or after a cap of pair
   updates.
4. *One gradient update* ``F += K[B, :]' (y_B * delta a_B)`` over the ``q`` rows (float64
   accumulation in a compiled loop over the rows that moved, or a float32 BLAS gemv:
   ``--update``).
5. Stop when the global gap ``m(a) - M(a) = max_{I_up} -F + max_{I_low} F < tol``, the rule of
   libsvm and of our SMO.

No shrinking, as in ThunderSVM.

The check of correctness: the dual objective ``1/2 c'Kc - sum |c|`` (``c = y a`` on the support
vectors) is computed for the three solvers by the same float64 code
(``bench_svc.dual_objective``) and must agree to 1e-4 relative (it does to 1e-7: the batched
objective is lower than libsvm's by 5e-8 to 9e-8 relative, its local stop at ``tol / 10`` solves
a little further); the support vectors are counted (within 2 of libsvm's). The timings compare
``solve_batched`` (data preparation included) with ``mlbasics.SVC().fit`` and scikit-learn's
``SVC().fit`` (libsvm) in the same process, alternating the order in every round, medians of the
wall-clock and of the process CPU time. This machine has 2 cores: OpenBLAS would run the batched
solver's matrix products on both, while SMO and libsvm run on one; the batched rows run with BLAS
held to one thread, except the one marked "BLAS 2 threads". SMO's kernel values are read from its
row cache's counter (``mlbasics.svm._smo._cache`` is wrapped during its fits; the package is not
changed).

    python benchmarks/experiment_batched_smo.py              # the table (about 10 minutes)
    python benchmarks/experiment_batched_smo.py --sweep      # + local stops and updates, n = 10 000
    python benchmarks/experiment_batched_smo.py --quick      # n = 600, one round: CI smoke run
"""

from __future__ import annotations

import argparse
import gc
import time
import types
import warnings

import numpy as np
from bench_logistic import describe_environment, format_table
from bench_svc import PARAMS, dual_objective, make_dense
from numba import njit
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import SVC as SkSVC
from threadpoolctl import threadpool_limits

import mlbasics
from mlbasics.kernels import resolve_gamma
from mlbasics.svm import _smo
from mlbasics.svm._batched_kernels import add_rows as _update_gradient64
from mlbasics.svm._batched_kernels import gather_block as _gather_kbb
from mlbasics.svm._smo_kernels import TAU, _pair_step, _rbf_row32, evict_for

BIG = 1e300


# -- compiled pieces ------------------------------------------------------------------------------
@njit(cache=True)
def _rbf_rows(store, slots, dots, sqn, idx, gamma, bits):
    """RBF row ``r`` into ``store[slots[r]]``, from ``dots[r, k] = <x_idx[r], x_k>``."""
    n = dots.shape[1]
    for r in range(dots.shape[0]):
        _rbf_row32(store[slots[r]], dots[r], 0, n, sqn, sqn[idx[r]], gamma, bits)


@njit(cache=True)
def _scores(F, y, alpha, C, in_ws, s_up, s_low):
    """Selection scores and the global gap in one pass.

    ``s_up[t] = -F_t`` for t in I_up outside the working set (``-BIG`` otherwise),
    ``s_low[t] = F_t`` for t in I_low outside it; returns the global gap
    ``max_{I_up} -F + max_{I_low} F`` over all variables.
    """
    m_up = -BIG
    m_low = -BIG
    for t in range(F.shape[0]):
        if y[t] > 0:
            up = alpha[t] < C
            low = alpha[t] > 0.0
        else:
            up = alpha[t] > 0.0
            low = alpha[t] < C
        s_up[t] = -BIG
        s_low[t] = -BIG
        if up:
            m_up = max(m_up, -F[t])
            if not in_ws[t]:
                s_up[t] = -F[t]
        if low:
            m_low = max(m_low, F[t])
            if not in_ws[t]:
                s_low[t] = F[t]
    return m_up + m_low


@njit(cache=True)
def _local_smo(KBB, yB, FB, aB, C, eps, max_iter):
    """SMO on the working set: libsvm's second-order pair choice and step, local gradient ``FB``.

    Stops when the local gap ``max_{up} -FB + max_{low} FB`` is below ``eps`` or after
    ``max_iter`` pair updates; returns (pair updates, local gap at the start, at the end).
    """
    q = yB.shape[0]
    it = 0
    first = -1.0
    gap = 0.0
    while True:
        g_max = -BIG
        g_low = -BIG
        i = -1
        for t in range(q):
            up = aB[t] < C if yB[t] > 0 else aB[t] > 0.0
            low = aB[t] > 0.0 if yB[t] > 0 else aB[t] < C
            if up and -FB[t] >= g_max:
                g_max = -FB[t]
                i = t
            if low and FB[t] > g_low:
                g_low = FB[t]
        gap = g_max + g_low
        if first < 0.0:
            first = gap
        if gap < eps or it >= max_iter or i < 0:
            break
        best = BIG
        j = -1
        kii = KBB[i, i]
        for t in range(q):
            low = aB[t] > 0.0 if yB[t] > 0 else aB[t] < C
            b = g_max + FB[t]
            if low and b > 0.0:
                a = kii + KBB[t, t] - 2.0 * KBB[i, t]
                if a <= 0.0:
                    a = TAU
                v = -b * b / a
                if v <= best:
                    best = v
                    j = t
        if j < 0:
            break
        y_i, y_j = yB[i], yB[j]
        old_i, old_j = aB[i], aB[j]
        a_i, a_j = _pair_step(
            y_i, y_j, y_i * FB[i], y_j * FB[j], kii, KBB[j, j], y_i * y_j * KBB[i, j],
            old_i, old_j, C, C,
        )  # fmt: skip
        aB[i] = a_i
        aB[j] = a_j
        c_i = y_i * (a_i - old_i)
        c_j = y_j * (a_j - old_j)
        row_i, row_j = KBB[i], KBB[j]
        for t in range(q):
            FB[t] += c_i * row_i[t] + c_j * row_j[t]
        it += 1
    return it, first, gap


@njit(cache=True)
def _assign_slots(new, slot_of, owner, last_used, clock, out_slot, miss):
    """Slots of the rows of ``new``: cached ones are hits, the others evict the least recently used
    slot. Writes the slots in ``out_slot``, the positions (in ``new``) of the misses in ``miss``,
    and returns how many misses there are."""
    n_miss = 0
    for a in range(new.shape[0]):
        i = new[a]
        s = slot_of[i]
        if s < 0:
            s = evict_for(i, slot_of, owner, last_used)
            miss[n_miss] = a
            n_miss += 1
        last_used[s] = clock
        out_slot[a] = s
    return n_miss


@njit(cache=True)
def _rows_one_at_a_time(Xc, sqn, idx, gamma, bits, out):
    """SMO's way (``_smo_kernels._kernel_values``, dense rbf): one matrix-vector product per row."""
    n = Xc.shape[0]
    for r in range(idx.shape[0]):
        i = idx[r]
        dots = np.dot(Xc, Xc[i])
        _rbf_row32(out[r], dots, 0, n, sqn, sqn[i], gamma, bits)


# -- the solver -----------------------------------------------------------------------------------
def _pick(s_up, s_low, k):
    """k distinct indices, alternately the best of I_up (by ``s_up``) and of I_low (``s_low``)."""
    m = min(k, s_up.shape[0] - 1)
    cand = []
    for score in (s_up, s_low):
        top = np.argpartition(-score, m)[: m + 1]
        top = top[np.argsort(-score[top], kind="stable")]
        cand.append(top[score[top] > -BIG])
    chosen = []
    seen = set()
    pos = [0, 0]
    side = 0
    while len(chosen) < k and (pos[0] < len(cand[0]) or pos[1] < len(cand[1])):
        if pos[side] < len(cand[side]):
            t = int(cand[side][pos[side]])
            pos[side] += 1
            if t not in seen:
                seen.add(t)
                chosen.append(t)
        side = 1 - side
    return np.array(chosen, dtype=np.int64)


def solve_batched(
    X,
    y,
    *,
    C=1.0,
    gamma="scale",
    tol=1e-3,
    q=256,
    local_frac=0.1,
    local_floor=None,
    local_cap=None,
    update="numba64",
    cache_mb=0.0,
    max_rounds=200_000,
):
    """Batched-working-set solver of the hinge dual; returns a dict (alpha, counts, timings).

    ``y`` in {-1, +1}. ``local_floor`` defaults to ``tol / 10``; ``local_cap`` (pair updates per
    round) to ``100 q``. ``update`` is ``"numba64"`` (float64 accumulation) or ``"blas32"``.
    ``cache_mb=0`` keeps only the working set's ``q`` rows (ThunderSVM); a positive budget keeps
    the rows of earlier rounds too, least recently used out first (a row computed again when its
    variable re-enters the working set is then a hit).
    """
    t_start = time.perf_counter()
    n = X.shape[0]
    q = int(min(q, 2 * (n // 4)))  # the first round needs q candidates: n >= 2q is enough
    half = q // 2
    gamma = resolve_gamma(gamma, X)
    local_floor = tol / 10 if local_floor is None else local_floor
    local_cap = 100 * q if local_cap is None else int(local_cap)
    Xc = np.array(X - X.mean(axis=0), dtype=np.float32, order="C")  # as the SMO does
    X64 = Xc.astype(np.float64)
    sqn = np.einsum("ij,ij->i", X64, X64)
    y = np.asarray(y, dtype=np.float64)
    bits = np.empty(n, dtype=np.int64)
    alpha = np.zeros(n)
    F = -y.copy()  # alpha = 0: G = -e
    in_ws = np.zeros(n, dtype=np.bool_)
    entered = np.zeros(n, dtype=np.bool_)  # samples that were ever in the working set
    s_up = np.empty(n)
    s_low = np.empty(n)
    n_slots = q if cache_mb <= 0 else max(q, min(n, int(cache_mb * 2**20 // (4 * n))))
    store = np.empty((n_slots, n), dtype=np.float32)  # pages are mapped as rows are written
    slot_of = np.full(n, -1, dtype=np.int64)
    owner = np.full(n_slots, -1, dtype=np.int64)
    last_used = np.full(n_slots, -1, dtype=np.int64)
    ws = np.empty(q, dtype=np.int64)
    ws_slot = np.empty(q, dtype=np.int64)
    miss = np.empty(q, dtype=np.int64)
    dots_buf = np.empty((q, n), dtype=np.float32)
    KBB = np.empty((q, q))
    stats = {"rows": 0, "local_iter": 0, "rounds": 0}
    clock = dict.fromkeys(("select", "rows", "local", "update"), 0.0)
    gap = np.inf
    converged = False
    fresh = None  # which half of the working set the next round refills
    for r in range(max_rounds):
        t0 = time.perf_counter()
        gap = _scores(F, y, alpha, C, in_ws, s_up, s_low)
        if gap < tol:
            converged = True
            break
        if fresh is None:  # first round: fill all q places
            new = _pick(s_up, s_low, q)
            lo = 0
        else:  # replace the older half (fewer when fewer candidates are left)
            new = _pick(s_up, s_low, half)
            lo = fresh * half
            in_ws[ws[lo : lo + len(new)]] = False
            last_used[ws_slot[half - lo : 2 * half - lo]] = r + 1  # the kept half stays
        if len(new) == 0:
            break
        hi = lo + len(new)
        ws[lo:hi] = new
        in_ws[new] = True
        entered[new] = True
        t1 = time.perf_counter()
        n_miss = _assign_slots(new, slot_of, owner, last_used, r + 1, ws_slot[lo:hi], miss)
        if n_miss:
            missing = miss[:n_miss]
            dots = np.matmul(Xc[new[missing]], Xc.T, out=dots_buf[:n_miss])
            _rbf_rows(store, ws_slot[lo:hi][missing], dots, sqn, new[missing], gamma, bits)
            stats["rows"] += n_miss
        t2 = time.perf_counter()
        size = len(new) if fresh is None else q
        cur, cur_slot = ws[:size], ws_slot[:size]
        kbb = KBB[:size, :size]
        _gather_kbb(store, cur_slot, cur, kbb)
        yB = y[cur]
        aB = alpha[cur].copy()
        FB = F[cur].copy()
        eps = max(local_floor, local_frac * gap)
        it, _first, _last = _local_smo(kbb, yB, FB, aB, C, eps, local_cap)
        stats["local_iter"] += it
        t3 = time.perf_counter()
        coef = yB * (aB - alpha[cur])
        alpha[cur] = aB
        if update == "blas32":
            F += coef.astype(np.float32) @ store[cur_slot]
        else:
            _update_gradient64(F, store, cur_slot, coef)
        t4 = time.perf_counter()
        clock["select"] += t1 - t0
        clock["rows"] += t2 - t1
        clock["local"] += t3 - t2
        clock["update"] += t4 - t3
        stats["rounds"] += 1
        fresh = 0 if fresh is None else 1 - fresh
    return {
        "alpha": alpha,
        "gap": gap,
        "converged": converged,
        "kernel_values": stats["rows"] * n,
        "distinct": int(np.count_nonzero(entered)),
        "seconds": time.perf_counter() - t_start,
        "clock": clock,
        **stats,
    }


# -- measurement ----------------------------------------------------------------------------------
Q_VALUES = (64, 128, 256, 512)
SIZES = (2_000, 10_000, 20_000)

#: Local stop of the table: ``(frac, floor, cap)``, the sub-problem is solved until its gap is below
#: ``max(floor * tol, frac * outer gap)`` or ``cap * q`` pair updates (chosen by ``--sweep``).
LOCAL = (0.01, 0.1, 100)

#: Local-stop settings compared by ``--sweep``.
SWEEP_LOCAL = [
    (0.1, 0.1, 100),  # ThunderSVM's rule (its floor is tol itself, here tol / 10)
    (0.1, 0.1, 0.5),  # at most q / 2 pair updates
    (0.1, 0.1, 0.25),  # at most q / 4
    (0.5, 0.1, 100),  # a looser sub-problem
    (0.01, 0.1, 100),  # a tighter one
    (0.0, 0.1, 100),  # solved to tol / 10
]

#: Row cache of the batched solver with a cache (the budget of ``PARAMS["cache_size"]``).
CACHE_MB = float(PARAMS["cache_size"])


class CountKernelValues:
    """While active, records the row caches our SMO creates; ``values`` sums their counters.

    The cache's ``stats[1]`` is the number of kernel values the solver computed
    (:func:`mlbasics.svm._smo_kernels.get_row`); the module function that builds the cache is
    wrapped for the duration (the package is not changed).
    """

    def __init__(self):
        self.caches = []

    def __enter__(self):
        self._original = _smo._cache

        def recording(*args):
            cache = self._original(*args)
            self.caches.append(cache)
            return cache

        _smo._cache = recording
        return self

    def __exit__(self, *exc):
        _smo._cache = self._original

    @property
    def values(self):
        return int(sum(cache[6][1] for cache in self.caches))


def _objective_of(alpha, y_pm, X):
    sv = alpha > 0
    fitted = types.SimpleNamespace(dual_coef_=(y_pm * alpha)[sv][None, :], support_vectors_=X[sv])
    return dual_objective(fitted, X), int(sv.sum())


def _timed(call):
    """(wall seconds, CPU seconds of the process, all threads, result)."""
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start, cpu = time.perf_counter(), time.process_time()
        out = call()
        return time.perf_counter() - start, time.process_time() - cpu, out


def row_cost(n, block, n_rows=1024, repeats=5):
    """ns per kernel value: rows one at a time (SMO) against ``block`` rows per matrix product
    (batched), written into memory already touched; and the first write of fresh memory alone.
    """
    X, _ = make_dense(n)
    Xc = np.array(X - X.mean(axis=0), dtype=np.float32, order="C")
    X64 = Xc.astype(np.float64)
    sqn = np.einsum("ij,ij->i", X64, X64)
    gamma = resolve_gamma("scale", X)
    bits = np.empty(n, dtype=np.int64)
    idx = np.random.default_rng(0).choice(n, n_rows, replace=False)
    out = np.zeros((n_rows, n), dtype=np.float32)
    dots = np.empty((block, n), dtype=np.float32)
    slots = np.arange(n_rows)

    def one_at_a_time():
        _rows_one_at_a_time(Xc, sqn, idx, gamma, bits, out)

    def batched():
        for lo in range(0, n_rows, block):
            part = idx[lo : lo + block]
            np.matmul(Xc[part], Xc.T, out=dots[: len(part)])
            _rbf_rows(out, slots[lo : lo + block], dots[: len(part)], sqn, part, gamma, bits)

    def products_only():
        for lo in range(0, n_rows, block):
            part = idx[lo : lo + block]
            np.matmul(Xc[part], Xc.T, out=dots[: len(part)])

    def first_touch():
        fresh = np.empty((n_rows, n), dtype=np.float32)
        fresh[:] = 1.0

    one_at_a_time()
    batched()
    times = {
        "one row per product (SMO)": [],
        f"{block} rows per product": [],
        "(of which the products)": [],
        "first write of fresh memory": [],
    }
    calls = dict(zip(times, (one_at_a_time, batched, products_only, first_touch), strict=True))
    with threadpool_limits(1):
        for r in range(repeats):
            for name in list(times)[:: 1 if r % 2 == 0 else -1]:
                start = time.perf_counter()
                calls[name]()
                times[name].append(time.perf_counter() - start)
    return {name: 1e9 * float(np.median(t)) / (n_rows * n) for name, t in times.items()}


def make_solvers(X, y, qs, local, update, threads_q, caches=(0.0, CACHE_MB)):
    """name -> (BLAS threads or None for the default, callable returning a summary dict)."""
    y_pm = np.where(y == np.unique(y)[1], 1.0, -1.0)
    frac, floor, cap = local

    def libsvm():
        model = SkSVC(**PARAMS).fit(X, y)
        return {"model": model, "n_sv": int(model.n_support_.sum()), "work": "-", "values": None}

    def smo():
        with CountKernelValues() as counter:
            model = mlbasics.SVC(**PARAMS).fit(X, y)
        return {
            "model": model,
            "n_sv": int(model.n_support_.sum()),
            "work": f"{int(np.sum(model.n_iter_))} pairs",
            "values": counter.values,
        }

    def batched(q, cache_mb):
        def run():
            out = solve_batched(
                X, y_pm, C=PARAMS["C"], gamma=PARAMS["gamma"], tol=PARAMS["tol"], q=q,
                local_frac=frac, local_floor=floor * PARAMS["tol"], local_cap=int(cap * q),
                update=update, cache_mb=cache_mb,
            )  # fmt: skip
            out["work"] = (
                f"{out['rounds']} rounds, {out['local_iter']} pairs, "
                f"{out['rows']} rows of {out['distinct']} samples"
            )
            out["values"] = out["kernel_values"]
            return out

        return run

    solvers = {"libsvm (sklearn)": (1, libsvm), "SMO (mlbasics)": (1, smo)}
    for cache_mb in caches:
        for q in qs:
            name = f"batched q={q}" + (f", {cache_mb:g} MB cache" if cache_mb else "")
            solvers[name] = (1, batched(q, cache_mb))
    if threads_q is not None:
        name = f"batched q={threads_q}, {caches[-1]:g} MB cache, BLAS 2 threads"
        solvers[name] = (None, batched(threads_q, caches[-1]))
    return solvers, y_pm


def measure(n, repeats, qs, local=LOCAL, update="numba64", threads_q=None):
    """Time every solver ``repeats`` times on ``make_dense(n)``, rotating the order each round."""
    X, y = make_dense(n)
    solvers, y_pm = make_solvers(X, y, qs, local, update, threads_q)
    names = list(solvers)
    times = {name: [] for name in names}
    cpu_times = {name: [] for name in names}
    last = {}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        if r % 2:
            order = order[::-1]
        for name in order:
            threads, call = solvers[name]
            with threadpool_limits(threads):
                seconds, cpu, out = _timed(call)
            times[name].append(seconds)
            cpu_times[name].append(cpu)
            last[name] = out
    results = {}
    for name in names:
        out = last[name]
        if "model" in out:
            objective = dual_objective(out["model"], X)
        else:
            objective, out["n_sv"] = _objective_of(out["alpha"], y_pm, X)
        results[name] = {
            **out,
            "objective": objective,
            "median": float(np.median(times[name])),
            "cpu": float(np.median(cpu_times[name])),
        }
    return results


def table_rows(n, results):
    base_smo = results["SMO (mlbasics)"]
    base_lib = results["libsvm (sklearn)"]
    rows = []
    for name, res in results.items():
        rel = abs(res["objective"] - base_lib["objective"]) / abs(base_lib["objective"])
        values = res["values"]
        per_value = "-"
        if "clock" in res:
            per_value = f"{1e9 * res['clock']['rows'] / res['kernel_values']:.1f}"
        rows.append([
            f"{n}",
            name,
            f"{res['median']:.3f}",
            f"{res['median'] / base_smo['median']:.2f}",
            f"{res['median'] / base_lib['median']:.2f}",
            f"{res['cpu']:.3f}",
            f"{res['cpu'] / base_smo['cpu']:.2f}",
            f"{res['cpu'] / base_lib['cpu']:.2f}",
            f"{res['objective']:.7f}",
            f"{rel:.1e}" + ("" if rel <= 1e-4 else " FAIL"),
            f"{res['n_sv']}",
            res["work"],
            "-" if values is None else f"{values / 1e6:.1f}",
            per_value,
        ])  # fmt: skip
    return rows


def breakdown_rows(n, results):
    rows = []
    for name, res in results.items():
        if "clock" in res:
            c = res["clock"]
            rows.append(
                [f"{n}", name] + [f"{c[k]:.3f}" for k in ("select", "rows", "local", "update")]
            )
    return rows


HEADER = ["n", "solver", "wall s", "/ SMO", "/ libsvm", "CPU s", "/ SMO", "/ libsvm",
          "dual objective", "rel. diff",
          "n_SV", "work", "kernel values (M)", "ns / value (rows)"]  # fmt: skip


def sweep(n, repeats, cache_mb=CACHE_MB):
    """Local-stop settings and gradient updates for every q at one size (single BLAS thread)."""
    X, y = make_dense(n)
    y_pm = np.where(y == np.unique(y)[1], 1.0, -1.0)
    configs = [(q, local, "numba64") for q in Q_VALUES for local in SWEEP_LOCAL]
    configs += [(q, LOCAL, "blas32") for q in Q_VALUES]
    times = {c: [] for c in configs}
    last = {}
    for r in range(repeats):
        order = configs if r % 2 == 0 else configs[::-1]
        for config in order:
            q, (frac, floor, cap), update = config
            with threadpool_limits(1):
                _wall, cpu, out = _timed(
                    lambda q=q, frac=frac, floor=floor, cap=cap, update=update: solve_batched(
                        X, y_pm, tol=PARAMS["tol"], q=q, local_frac=frac,
                        local_floor=floor * PARAMS["tol"], local_cap=int(cap * q), update=update,
                        cache_mb=cache_mb,
                    )
                )  # fmt: skip
            times[config].append(cpu)
            last[config] = out
    rows = []
    for config in configs:
        q, (frac, floor, cap), update = config
        out = last[config]
        objective, n_sv = _objective_of(out["alpha"], y_pm, X)
        rows.append([
            f"{q}",
            f"max({floor:g} tol, {frac:g} gap), {cap:g} q pairs",
            update,
            f"{np.median(times[config]):.3f}",  # CPU seconds (one thread)
            f"{out['rounds']}",
            f"{out['local_iter']}",
            f"{out['kernel_values'] / 1e6:.1f}",
            f"{objective:.7f}",
            f"{n_sv}",
            "yes" if out["converged"] else "NO",
        ])  # fmt: skip
    header = ["q", "local stop", "update", "CPU s", "rounds", "pairs", "kernel values (M)",
              "dual objective", "n_SV", "converged"]  # fmt: skip
    return format_table(header, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n = 600, one round (CI smoke run)")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 5)")
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="values of n")
    parser.add_argument("--q", type=int, nargs="+", default=None, help="working-set sizes")
    parser.add_argument("--update", choices=("numba64", "blas32"), default="numba64")
    parser.add_argument("--sweep", action="store_true", help="local-stop settings at --sweep-n")
    parser.add_argument("--sweep-n", type=int, default=10_000)
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 5)
    sizes = args.sizes or ([600] if args.quick else SIZES)
    qs = args.q or ((64, 256) if args.quick else Q_VALUES)
    threads_q = None if args.quick else 256

    print(describe_environment())
    print(
        "NOTE: this machine has 2 cores. OpenBLAS would run the batched solver's matrix\n"
        "products on both, while our SMO and libsvm use one: the batched rows below run with\n"
        "BLAS held to one thread (threadpoolctl), except the row marked 'BLAS 2 threads'. Other\n"
        "jobs share the machine: times are medians of alternating runs, and the ratios are the\n"
        "numbers to read (CPU time, all threads of the process, is the least disturbed)."
    )
    print(
        f"SVC{tuple(sorted(PARAMS.items()))}; {repeats} timed round(s); local stop "
        f"max({LOCAL[1]:g} tol, {LOCAL[0]:g} gap) or {LOCAL[2]} q pair updates; "
        f"update {args.update}"
    )
    # compile outside the timed rounds
    measure(200, 1, (64,), update=args.update)
    rows, parts = [], []
    for n in sizes:
        results = measure(n, repeats, qs, update=args.update, threads_q=threads_q)
        rows += table_rows(n, results)
        parts += breakdown_rows(n, results)
        print(format_table(HEADER, table_rows(n, results)), flush=True)
    print("\nAll sizes (rel. diff: |dual objective - libsvm's| / |libsvm's|, must be <= 1e-4):")
    print(format_table(HEADER, rows))
    print("\nBatched solver, seconds by phase (last run):")
    print(format_table(["n", "solver", "select", "rows", "local SMO", "update"], parts))
    for n in sizes:
        cost = row_cost(n, 128 if n > 1000 else 32, n_rows=256 if args.quick else 1024)
        print(
            f"\nCost of a kernel value, n = {n}, BLAS 1 thread (ns per value, medians): "
            + ", ".join(f"{name} {value:.2f}" for name, value in cost.items())
        )
    if args.quick:
        print("(quick size: a smoke test; these times say nothing about the method)")
    if args.sweep:
        print(f"\nLocal stop and gradient update, n = {args.sweep_n}, medians of {repeats}:")
        print(sweep(args.sweep_n, repeats))


if __name__ == "__main__":
    main()
