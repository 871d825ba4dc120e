"""Compiled parts of the SMO solver (numba): kernel rows, the row cache, and the SMO iterations.

Only arrays and scalars cross this boundary; :mod:`mlbasics.svm._smo` builds them and reads the
result. The state is grouped in three tuples so the signatures stay short:

``data = (Xp, sqn, y, perm, sp_data, sp_indices, sp_indptr, scratch, K, work, bits)``
    ``Xp`` the dense training rows *in the solver's order* (empty when sparse or precomputed), ``sqn``
    their squared norms, ``y`` the labels in {-1, +1}, ``perm[p]`` the original index of position ``p``,
    the CSR arrays of X in the *original* order (empty when dense), ``scratch`` a dense buffer of
    ``n_features`` zeros, ``K`` the full precomputed kernel in the original order (empty otherwise),
    ``work`` (float64) and ``bits`` (int64) buffers of length n.
``kern = (code, gamma, coef0, degree)``
    The kernel, with the codes of :data:`mlbasics.kernels.NAMED_KERNELS` and 4 for precomputed.
``cache = (rows, slot_of, owner, length, last_used, clock, stats)``
    The kernel-row cache: ``rows[s, :length[s]]`` holds ``Q[owner[s], :length[s]]`` in float32, with
    ``Q_pq = y_p y_q K(x_p, x_q)`` (the diagonal term of the squared hinge is kept apart);
    ``slot_of[p]`` is the slot of position ``p`` or -1; the least recently used slot is evicted;
    ``stats`` counts the rows computed and the kernel values they took.

Like libsvm, the solver permutes its variables so that the *active* ones (not shrunk) are the prefix
``[0, active)`` of every array; a cached row only needs its first ``active`` entries, and shorter rows
mean cheaper misses. The permutation is applied in one gather per shrinking step.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Curvature used when a pair's second derivative is not positive (non-PSD kernels), as in libsvm.
TAU = 1e-12

LOWER, UPPER, FREE = 0, 1, 2

# Solver return codes.
RUNNING, CONVERGED = 0, 1

# istate slots (int64) of the hinge / squared-hinge solver.
I_ITER, I_ACTIVE, I_UNSHRUNK, I_COUNTER = 0, 1, 2, 3
# fstate slots (float64).
F_OBJECTIVE, F_GAP = 0, 1

_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00


@njit(cache=True, fastmath=True)
def _rbf_inplace(x, start, stop, sqn, sq_i, gamma, bits):
    """``x[k] = exp(-gamma ||x_i - x_k||^2)`` from ``x[k] = <x_i, x_k>``, for k in [start, stop).

    The squared distance is ``sq_i + sqn[k] - 2 <x_i, x_k>`` (clipped at 0 against rounding).
    ``math.exp`` in a numba loop is a scalar libm call, about 4x slower than numpy's SIMD exp, and
    it dominates RBF rows; this loop vectorises instead: range reduction ``v = k ln2 + r`` with
    ``|r| <= ln2 / 2``, a degree-11 Taylor polynomial for ``exp(r)`` (relative error below 1e-14),
    and ``2**k`` written into the exponent bits.
    """
    scale = bits.view(np.float64)
    for t in range(start, stop):
        v = max(-gamma * max(sq_i + sqn[t] - 2.0 * x[t], 0.0), -700.0)
        k = math.floor(v * _INV_LN2 + 0.5)
        r = v - k * _LN2_HI - k * _LN2_LO
        p = 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        x[t] = p * r + 1.0
        bits[t] = (np.int64(k) + 1023) << 52
    for t in range(start, stop):
        x[t] *= scale[t]


@njit(cache=True)
def _kernel_values(i, start, stop, data, kern):
    """``work[start:stop] = K(x_i, x_k)`` for positions k in [start, stop)."""
    Xp, sqn, _y, perm, sp_data, sp_indices, sp_indptr, scratch, K, work, bits = data
    code, gamma, coef0, degree = kern
    if code == 4:
        row = perm[i]
        for k in range(start, stop):
            work[k] = K[row, perm[k]]
        return
    if Xp.shape[0] > 0:
        work[start:stop] = np.dot(Xp[start:stop], Xp[i])
    else:
        row = perm[i]
        for idx in range(sp_indptr[row], sp_indptr[row + 1]):
            scratch[sp_indices[idx]] = sp_data[idx]
        for k in range(start, stop):
            other = perm[k]
            acc = 0.0
            for idx in range(sp_indptr[other], sp_indptr[other + 1]):
                acc += sp_data[idx] * scratch[sp_indices[idx]]
            work[k] = acc
        for idx in range(sp_indptr[row], sp_indptr[row + 1]):
            scratch[sp_indices[idx]] = 0.0
    if code == 1:
        for k in range(start, stop):
            work[k] = (gamma * work[k] + coef0) ** degree
    elif code == 2:
        _rbf_inplace(work, start, stop, sqn, sqn[i], gamma, bits)
    elif code == 3:
        for k in range(start, stop):
            work[k] = math.tanh(gamma * work[k] + coef0)


@njit(cache=True)
def get_row(i, length, data, kern, cache):
    """Slot of the cache holding ``Q[i, :length]``, computing the missing entries if needed."""
    rows, slot_of, owner, cached_len, last_used, clock, stats = cache
    y = data[2]
    work = data[9]
    s = slot_of[i]
    start = 0
    if s >= 0:
        start = cached_len[s]
    else:
        s = 0
        oldest = last_used[0]
        for t in range(1, rows.shape[0]):
            if last_used[t] < oldest:
                oldest = last_used[t]
                s = t
        if owner[s] >= 0:
            slot_of[owner[s]] = -1
        owner[s] = i
        slot_of[i] = s
        cached_len[s] = 0
    if start < length:
        stats[0] += 1
        stats[1] += length - start
        _kernel_values(i, start, length, data, kern)
        y_i = y[i]
        for k in range(start, length):
            rows[s, k] = np.float32(y_i * y[k] * work[k])
        cached_len[s] = length
    clock[0] += 1
    last_used[s] = clock[0]
    return s


@njit(cache=True)
def _status(alpha, upper):
    if alpha >= upper:
        return UPPER
    if alpha <= 0.0:
        return LOWER
    return FREE


@njit(cache=True)
def _permute_prefix(order, n_active, data, kern, cache, vectors):
    """Reorder positions ``[0, n_active)`` so that position ``q`` holds what was at ``order[q]``.

    Every per-position array moves, and so does every cached row (entries that would come from
    beyond a row's cached length are dropped by shortening it).
    """
    Xp, sqn, y, perm = data[0], data[1], data[2], data[3]
    rows, slot_of, owner, cached_len = cache[0], cache[1], cache[2], cache[3]
    work = data[9]
    new_of = np.empty(n_active, dtype=np.int64)
    for q in range(n_active):
        new_of[order[q]] = q
    for vec in vectors:
        for q in range(n_active):
            work[q] = vec[order[q]]
        vec[:n_active] = work[:n_active]
    for arr in (sqn, y):
        for q in range(n_active):
            work[q] = arr[order[q]]
        arr[:n_active] = work[:n_active]
    old_perm = perm[:n_active].copy()
    for q in range(n_active):
        perm[q] = old_perm[order[q]]
    if Xp.shape[0] > 0:
        old_rows = Xp[:n_active].copy()
        for q in range(n_active):
            Xp[q] = old_rows[order[q]]
    old_slot = slot_of[:n_active].copy()
    for q in range(n_active):
        slot_of[q] = old_slot[order[q]]
    buf = np.empty(n_active, dtype=np.float32)
    for s in range(rows.shape[0]):
        if owner[s] < 0:
            continue
        if owner[s] < n_active:
            owner[s] = new_of[owner[s]]
        length = cached_len[s]
        valid = 0
        while valid < n_active and order[valid] < length:
            valid += 1
        if length >= n_active:
            valid = n_active
        for q in range(valid):
            buf[q] = rows[s, order[q]]
        rows[s, :valid] = buf[:valid]
        if length < n_active or valid < n_active:
            cached_len[s] = min(length, valid)


@njit(cache=True)
def _select_pair(active, y, G, status, QD, data, kern, cache, tol, fstate, i, g_max):
    """Second-order working-set selection (Fan, Chen and Lin 2005). Returns (i, j) or (-1, -1).

    ``i`` maximises ``-y_t G_t`` over I_up; ``j`` minimises ``-b^2 / a`` over the t in I_low with
    ``b = G_max + y_t G_t > 0``, where ``a`` is the curvature of the pair (``TAU`` if not positive).
    The pair is (-1, -1) when ``m(alpha) - M(alpha) = G_max + G_max2 < tol``. A caller that already
    knows ``i`` and ``G_max`` (found while updating the gradient) passes them; ``i = -1`` searches.
    """
    rows = cache[0]
    if i < 0:
        g_max = -np.inf
        for t in range(active):
            if y[t] > 0:
                if status[t] != UPPER and -G[t] >= g_max:
                    g_max = -G[t]
                    i = t
            elif status[t] != LOWER and G[t] >= g_max:
                g_max = G[t]
                i = t
    g_max2 = -np.inf
    j = -1
    best = np.inf
    if i >= 0:
        s = get_row(i, active, data, kern, cache)
        y_i = y[i]
        qd_i = QD[i]
        for t in range(active):
            if y[t] > 0:
                if status[t] != LOWER:
                    diff = g_max + G[t]
                    if G[t] >= g_max2:
                        g_max2 = G[t]
                    if diff > 0.0:
                        a = qd_i + QD[t] - 2.0 * y_i * rows[s, t]
                        score = -(diff * diff) / (a if a > 0.0 else TAU)
                        if score <= best:
                            best = score
                            j = t
            elif status[t] != UPPER:
                diff = g_max - G[t]
                if -G[t] >= g_max2:
                    g_max2 = -G[t]
                if diff > 0.0:
                    a = qd_i + QD[t] + 2.0 * y_i * rows[s, t]
                    score = -(diff * diff) / (a if a > 0.0 else TAU)
                    if score <= best:
                        best = score
                        j = t
    fstate[F_GAP] = g_max + g_max2
    if g_max + g_max2 < tol or j == -1:
        return -1, -1
    return i, j


@njit(cache=True)
def _can_shrink(t, y, G, status, g_max1, g_max2):
    if status[t] == UPPER:
        return -G[t] > g_max1 if y[t] > 0 else -G[t] > g_max2
    if status[t] == LOWER:
        return G[t] > g_max2 if y[t] > 0 else G[t] > g_max1
    return False


@njit(cache=True)
def reconstruct_gradient(n, alpha, G, G_bar, status, p, data, kern, cache, istate):
    """Rebuild ``G`` for the shrunk variables: ``G = G_bar + p + sum over free j of alpha_j Q_:j``."""
    active = istate[I_ACTIVE]
    if active == n:
        return
    rows = cache[0]
    for t in range(active, n):
        G[t] = G_bar[t] + p[t]
    n_free = 0
    for t in range(active):
        if status[t] == FREE:
            n_free += 1
    if n_free * n > 2 * active * (n - active):
        for t in range(active, n):
            s = get_row(t, active, data, kern, cache)
            acc = 0.0
            for f in range(active):
                if status[f] == FREE:
                    acc += alpha[f] * rows[s, f]
            G[t] += acc
    else:
        for f in range(active):
            if status[f] == FREE:
                s = get_row(f, n, data, kern, cache)
                a_f = alpha[f]
                for t in range(active, n):
                    G[t] += a_f * rows[s, t]


@njit(cache=True)
def _shrink(n, alpha, G, G_bar, status, upper, extra, QD, p, data, kern, cache, istate, tol):
    y = data[2]
    active = istate[I_ACTIVE]
    g_max1 = -np.inf  # max of -y G over I_up
    g_max2 = -np.inf  # max of y G over I_low
    for t in range(active):
        if y[t] > 0:
            if status[t] != UPPER:
                g_max1 = max(g_max1, -G[t])
            if status[t] != LOWER:
                g_max2 = max(g_max2, G[t])
        else:
            if status[t] != UPPER:
                g_max2 = max(g_max2, -G[t])
            if status[t] != LOWER:
                g_max1 = max(g_max1, G[t])
    if istate[I_UNSHRUNK] == 0 and g_max1 + g_max2 <= 10.0 * tol:
        # Close to the end: bring every variable back once and rebuild the full gradient.
        istate[I_UNSHRUNK] = 1
        reconstruct_gradient(n, alpha, G, G_bar, status, p, data, kern, cache, istate)
        istate[I_ACTIVE] = n
        active = n
    keep = 0
    order = np.empty(active, dtype=np.int64)
    for t in range(active):
        if not _can_shrink(t, y, G, status, g_max1, g_max2):
            order[keep] = t
            keep += 1
    if keep == active:
        return
    dropped = keep
    for t in range(active):
        if _can_shrink(t, y, G, status, g_max1, g_max2):
            order[dropped] = t
            dropped += 1
    status_f = status.astype(np.float64)
    _permute_prefix(
        order, active, data, kern, cache, (alpha, G, G_bar, upper, extra, QD, p, status_f)
    )
    for t in range(active):
        status[t] = np.int8(status_f[t])
    istate[I_ACTIVE] = keep


@njit(cache=True)
def smo_dual(
    alpha, G, G_bar, status, upper, extra, QD, p, data, kern, cache, istate, fstate,
    tol, shrinking, stop_iter,
):  # fmt: skip
    """Run SMO on ``min 1/2 a'(Q + diag(extra))a + p'a, y'a = 0, 0 <= a <= upper`` until convergence
    or until the iteration counter reaches ``stop_iter``. Returns CONVERGED or RUNNING.

    ``G = (Q + diag(extra)) alpha + p`` is kept up to date on the active positions. The step on a
    pair is libsvm's: the exact minimiser along the feasible direction, clipped to the box.
    ``fstate[F_OBJECTIVE]`` is updated by the exact change of the objective at every step.
    """
    n = alpha.shape[0]
    y = data[2]
    rows = cache[0]
    i_next = -1  # the next i, when the gradient update found it
    g_next = -np.inf
    while istate[I_ITER] < stop_iter:
        istate[I_COUNTER] -= 1
        if istate[I_COUNTER] == 0:
            istate[I_COUNTER] = min(n, 1000)
            if shrinking:
                _shrink(
                    n, alpha, G, G_bar, status, upper, extra, QD, p, data, kern, cache, istate, tol
                )
                i_next = -1
        active = istate[I_ACTIVE]
        i, j = _select_pair(
            active, y, G, status, QD, data, kern, cache, tol, fstate, i_next, g_next
        )
        if i == -1:
            if active == n:
                return CONVERGED
            # Optimal on the shrunk problem: check every variable before stopping.
            reconstruct_gradient(n, alpha, G, G_bar, status, p, data, kern, cache, istate)
            istate[I_ACTIVE] = n
            active = n
            i, j = _select_pair(
                active, y, G, status, QD, data, kern, cache, tol, fstate, -1, -np.inf
            )
            if i == -1:
                return CONVERGED
            istate[I_COUNTER] = 1  # shrink again at the next iteration
        istate[I_ITER] += 1

        s_i = get_row(i, active, data, kern, cache)
        s_j = get_row(j, active, data, kern, cache)
        q_ij = rows[s_i, j]
        c_i = upper[i]
        c_j = upper[j]
        old_i = alpha[i]
        old_j = alpha[j]
        a_i = old_i
        a_j = old_j
        if y[i] != y[j]:
            quad = QD[i] + QD[j] + 2.0 * q_ij
            if quad <= 0.0:
                quad = TAU
            delta = (-G[i] - G[j]) / quad
            diff = a_i - a_j
            a_i += delta
            a_j += delta
            if diff > 0.0:
                if a_j < 0.0:
                    a_j = 0.0
                    a_i = diff
            elif a_i < 0.0:
                a_i = 0.0
                a_j = -diff
            if diff > c_i - c_j:
                if a_i > c_i:
                    a_i = c_i
                    a_j = c_i - diff
            elif a_j > c_j:
                a_j = c_j
                a_i = c_j + diff
        else:
            quad = QD[i] + QD[j] - 2.0 * q_ij
            if quad <= 0.0:
                quad = TAU
            delta = (G[i] - G[j]) / quad
            total = a_i + a_j
            a_i -= delta
            a_j += delta
            if total > c_i:
                if a_i > c_i:
                    a_i = c_i
                    a_j = total - c_i
            elif a_j < 0.0:
                a_j = 0.0
                a_i = total
            if total > c_j:
                if a_j > c_j:
                    a_j = c_j
                    a_i = total - c_j
            elif a_i < 0.0:
                a_i = 0.0
                a_j = total
        d_i = a_i - old_i
        d_j = a_j - old_j
        fstate[F_OBJECTIVE] += (
            G[i] * d_i
            + G[j] * d_j
            + 0.5 * (QD[i] * d_i * d_i + QD[j] * d_j * d_j)
            + q_ij * d_i * d_j
        )
        alpha[i] = a_i
        alpha[j] = a_j
        for t in (i, j):
            was_upper = status[t] == UPPER
            status[t] = _status(alpha[t], upper[t])
            now_upper = status[t] == UPPER
            if was_upper != now_upper:
                s_t = get_row(t, n, data, kern, cache)
                c_t = upper[t] if now_upper else -upper[t]
                for k in range(n):
                    G_bar[k] += c_t * rows[s_t, k]
        # (Those fetches only extend the rows of i and j in place: no slot was evicted.)
        G[i] += extra[i] * d_i
        G[j] += extra[j] * d_j
        # Update the gradient and, in the same pass, find the next i (the largest -y_t G_t in I_up).
        i_next = -1
        g_next = -np.inf
        for k in range(active):
            g = G[k] + rows[s_i, k] * d_i + rows[s_j, k] * d_j
            G[k] = g
            if y[k] > 0:
                if -g >= g_next and status[k] != UPPER:
                    g_next = -g
                    i_next = k
            elif g >= g_next and status[k] != LOWER:
                g_next = g
                i_next = k
    return RUNNING


@njit(cache=True)
def rho_from_gradient(y, G, alpha, status):
    """The offset ``rho`` of ``f(x) = sum_i y_i alpha_i K(x_i, x) - rho`` (libsvm's rule).

    The mean of ``y_i G_i`` over free variables; with none free, the midpoint of the interval the
    bounded variables allow.
    """
    upper_bound = np.inf
    lower_bound = -np.inf
    n_free = 0
    total = 0.0
    for t in range(alpha.shape[0]):
        yg = y[t] * G[t]
        if status[t] == UPPER:
            if y[t] < 0:
                upper_bound = min(upper_bound, yg)
            else:
                lower_bound = max(lower_bound, yg)
        elif status[t] == LOWER:
            if y[t] > 0:
                upper_bound = min(upper_bound, yg)
            else:
                lower_bound = max(lower_bound, yg)
        else:
            n_free += 1
            total += yg
    if n_free > 0:
        return total / n_free
    return 0.5 * (upper_bound + lower_bound)


# -- logistic dual --------------------------------------------------------------------------------

#: The logistic dual keeps ``EPS C_i <= alpha_i <= (1 - EPS) C_i``. The exact solution is strictly
#: inside (0, C_i), but ``alpha_i = C_i sigmoid(-margin_i)`` is closer to a bound than float64 can
#: resolve once ``|margin_i|`` exceeds about 37; saturating at ``log(1 / EPS) ~ 27.6`` changes the
#: dual objective by at most ``n C EPS (1 + log(1 / EPS))``.
LOGISTIC_EPS = 1e-12

#: Return code of a run that could not make progress on the selected pair (not converged).
STALLED = 2


@njit(cache=True)
def _logit(a, c):
    return math.log(a) - math.log(c - a)


@njit(cache=True)
def _entropy_term(a, c):
    return a * math.log(a) + (c - a) * math.log(c - a)


@njit(cache=True)
def _room(a, c, s):
    """How far ``a`` can move in direction ``s`` (+1 or -1) inside ``[EPS c, (1 - EPS) c]``."""
    if s > 0:
        return max((1.0 - LOGISTIC_EPS) * c - a, 0.0)
    return max(a - LOGISTIC_EPS * c, 0.0)


@njit(cache=True)
def _pair_newton(b, a_k, a_i, c_i, s_i, a_t, c_t, s_t):
    """Minimise ``phi(d)`` for the logistic dual along ``alpha_i += s_i d, alpha_t += s_t d``.

    ``phi'(0) = -b < 0`` and ``phi'(d) = -b + a_k d + s_i [L(alpha_i + s_i d) - L(alpha_i)]
    + s_t [L(alpha_t + s_t d) - L(alpha_t)]`` with ``L(a) = log(a / (C - a))``. If ``phi'`` is still
    negative where the first variable reaches its bound, the step goes there; otherwise Newton's
    method, safeguarded by bisection on the bracket where ``phi'`` changes sign, finds the root.
    """
    d_max = min(_room(a_i, c_i, s_i), _room(a_t, c_t, s_t))
    log_i = _logit(a_i, c_i)
    log_t = _logit(a_t, c_t)

    def slope(d):
        return (
            -b
            + a_k * d
            + s_i * (_logit(a_i + s_i * d, c_i) - log_i)
            + s_t * (_logit(a_t + s_t * d, c_t) - log_t)
        )

    if slope(d_max) <= 0.0:
        return d_max
    lo = 0.0
    hi = d_max
    d = 0.0
    for _ in range(60):
        value = slope(d)
        if value < 0.0:
            lo = d
        else:
            hi = d
        if abs(value) <= 1e-12 * (1.0 + b) or hi - lo <= 1e-15 * d_max:
            break
        ni = a_i + s_i * d
        nt = a_t + s_t * d
        curv = a_k + c_i / (ni * (c_i - ni)) + c_t / (nt * (c_t - nt))
        step = d - value / curv if curv > 0.0 else -1.0
        if step <= lo or step >= hi:
            step = 0.5 * (lo + hi)
        d = step
    return d


@njit(cache=True)
def _in_up(y_t, a, c):
    """Can ``y_t alpha_t`` grow (``-y_t G_t`` is a candidate for the maximum)?"""
    return _room(a, c, 1.0 if y_t > 0 else -1.0) > 0.0


@njit(cache=True)
def _in_low(y_t, a, c):
    """Can ``y_t alpha_t`` shrink?"""
    return _room(a, c, -1.0 if y_t > 0 else 1.0) > 0.0


@njit(cache=True)
def smo_logistic(alpha, G, upper, QD, data, kern, cache, istate, fstate, tol, stop_iter):
    """SMO for the logistic dual ``min 1/2 a'Qa + sum a log a + (C - a) log(C - a)``, ``y'a = 0``.

    The gradient is ``G = Q alpha + log(alpha / (C - alpha))``; ``alpha`` stays inside
    ``[EPS C, (1 - EPS) C]`` (see :data:`LOGISTIC_EPS`), and the maximal violating pair is taken
    over the variables that can still move, as for the hinge loss. The pair is chosen with
    second-order information that includes the entropy's curvature ``C / (a (C - a))`` (Keerthi,
    Duan, Shevade and Poo 2005); the step along it is :func:`_pair_newton`. No shrinking.
    """
    n = alpha.shape[0]
    y = data[2]
    rows = cache[0]
    while istate[I_ITER] < stop_iter:
        g_max = -np.inf
        g_min = np.inf
        i = -1
        for t in range(n):
            v = -y[t] * G[t]
            if v >= g_max and _in_up(y[t], alpha[t], upper[t]):
                g_max = v
                i = t
            if v < g_min and _in_low(y[t], alpha[t], upper[t]):
                g_min = v
        fstate[F_GAP] = g_max - g_min
        if g_max - g_min < tol or i == -1:
            return CONVERGED
        s_i = get_row(i, n, data, kern, cache)
        h_i = upper[i] / (alpha[i] * (upper[i] - alpha[i]))
        j = -1
        best = np.inf
        for t in range(n):
            b = g_max + y[t] * G[t]
            if b > 0.0 and _in_low(y[t], alpha[t], upper[t]):
                a = QD[i] + QD[t] - 2.0 * y[i] * y[t] * rows[s_i, t]
                a += h_i + upper[t] / (alpha[t] * (upper[t] - alpha[t]))
                score = -(b * b) / (a if a > 0.0 else TAU)
                if score <= best:
                    best = score
                    j = t
        if j == -1:
            return CONVERGED
        istate[I_ITER] += 1
        s_j = get_row(j, n, data, kern, cache)
        b = g_max + y[j] * G[j]
        a_k = QD[i] + QD[j] - 2.0 * y[i] * y[j] * rows[s_i, j]
        d = _pair_newton(b, a_k, alpha[i], upper[i], y[i], alpha[j], upper[j], -y[j])
        old_i = alpha[i]
        old_j = alpha[j]
        new_i = min(max(old_i + y[i] * d, LOGISTIC_EPS * upper[i]), (1 - LOGISTIC_EPS) * upper[i])
        new_j = min(max(old_j - y[j] * d, LOGISTIC_EPS * upper[j]), (1 - LOGISTIC_EPS) * upper[j])
        d_i = new_i - old_i
        d_j = new_j - old_j
        if d_i == 0.0 and d_j == 0.0:
            return STALLED
        q_ij = rows[s_i, j]
        quad_i = G[i] - _logit(old_i, upper[i])
        quad_j = G[j] - _logit(old_j, upper[j])
        fstate[F_OBJECTIVE] += (
            quad_i * d_i
            + quad_j * d_j
            + 0.5 * (QD[i] * d_i * d_i + QD[j] * d_j * d_j)
            + q_ij * d_i * d_j
            + _entropy_term(new_i, upper[i])
            - _entropy_term(old_i, upper[i])
            + _entropy_term(new_j, upper[j])
            - _entropy_term(old_j, upper[j])
        )
        for k in range(n):
            G[k] += rows[s_i, k] * d_i + rows[s_j, k] * d_j
        G[i] += _logit(new_i, upper[i]) - _logit(old_i, upper[i])
        G[j] += _logit(new_j, upper[j]) - _logit(old_j, upper[j])
        alpha[i] = new_i
        alpha[j] = new_j
    return RUNNING
