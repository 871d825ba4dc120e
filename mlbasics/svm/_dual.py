"""What the solvers of one binary SVM dual share, below the solvers themselves.

The dual (labels in {-1, +1}, bounds ``C_i``, the three losses) is the table of
:mod:`mlbasics.svm._smo`. Its pair SMO (:func:`~mlbasics.svm._smo.solve_dual`) hands large problems
to the batched working sets of :mod:`mlbasics.svm._batched`, and both build on this module, which
imports neither of them. The cvxpy reference :mod:`mlbasics.svm._qp` returns the same
:class:`DualSolution`. Here:

* the result and its certificate: :class:`DualSolution`, :func:`primal_objective`,
  :func:`dual_value`; why a run stopped (:func:`stop_message`, :func:`unbounded_error`,
  :func:`negative_curvature`); the iteration cap (:func:`default_max_iter`) and the reporting
  period (:data:`CHUNK`);
* the arrays of the compiled kernels (:mod:`mlbasics.svm._smo_kernels`): the row cache
  (:func:`_cache`), the ``data`` and ``kern`` tuples (:func:`_data`, :func:`_kern`);
* the hinge and squared-hinge duals in the kernels' variables ``F = y G``: :func:`hinge_start`,
  :func:`hinge_finish`, the gap ``m - M`` (:func:`violations`) and the iterate between two
  chunks (:func:`current_iterate`);
* the float64 check of a converged run (:func:`needs_float64_check`, :func:`float64_gradient`),
  which gives up after :data:`MAX_REFINEMENTS` restarts with the code :data:`PRECISION`, and the
  float64 gradient of a run that did not converge (:func:`unconverged_gradient`), which its
  objective, gap and primal value come from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .. import losses
from .._result import STOPPED_BY_HOOK, Trace
from ..kernels import PRECOMPUTED_CODE, KernelSpec, rbf_centre, squared_norms
from . import _smo_kernels as K

__all__ = [
    "CHUNK",
    "MAX_REFINEMENTS",
    "PRECISION",
    "DualSolution",
    "current_iterate",
    "default_max_iter",
    "dual_value",
    "float64_gradient",
    "hinge_finish",
    "hinge_start",
    "needs_float64_check",
    "negative_curvature",
    "primal_objective",
    "stop_message",
    "unbounded_error",
    "unconverged_gradient",
    "violations",
]

#: Iterations between two returns to Python (trace, verbose output, hook).
CHUNK = 2000

#: Bytes of one float32 cache entry.
_ENTRY_BYTES = 4

#: Relative error of one cached kernel value, as the estimate of :func:`rounding_estimate` takes
#: it: ``2**-24`` (6e-8) for a float64 value rounded to float32, and at most ``1.2e-7 (1 + |v|)``
#: for the float32 exponential of the rbf rows (:func:`~mlbasics.svm._smo_kernels._rbf_row32`),
#: ``K |v| <= 1/e``; the products behind them are float64.
CACHE_ROUNDING = 2.5e-7

#: The final gradient is recomputed in float64 when ``tol < CHECK_FACTOR * rounding_estimate``.
CHECK_FACTOR = 20.0

#: Restarts of SMO from the float64 gradient before a run is declared unconverged (the float32
#: cache cannot resolve ``tol``).
MAX_REFINEMENTS = 3


def primal_objective(loss, alpha, y, upper, k_alpha_y, rho) -> float:
    """``1/2 ||f||^2 + sum_i C_i loss(m_i)`` for ``f = sum_j y_j alpha_j K(x_j, .) - rho``.

    ``k_alpha_y = K (y * alpha)`` on the training points, so ``||f||^2 = (y alpha)' K (y alpha)`` and
    the margins are ``m_i = y_i (k_alpha_y_i - rho)``; ``upper`` holds the ``C_i``.
    """
    margins = y * (k_alpha_y - rho)
    data_term = {"hinge": losses.hinge, "squared_hinge": losses.squared_hinge}.get(
        loss, losses.logistic
    )(margins)
    return float(0.5 * (y * alpha) @ k_alpha_y + upper @ data_term)


def logistic_link(alpha, upper):
    """``log(alpha / (C - alpha))``: the derivative of the logistic dual's entropy term.

    Taken as two logarithms: near the box's ends (``alpha`` or ``C - alpha`` within ``1e-300`` of
    zero) the quotient alone would underflow or overflow.
    """
    return np.log(alpha) - np.log(upper - alpha)


def logistic_entropy(alpha, upper) -> float:
    """``sum_i alpha_i log alpha_i + (C_i - alpha_i) log(C_i - alpha_i)``, the logistic dual's
    non-quadratic term (``C l*(-alpha / C)`` of :func:`mlbasics.losses.logistic_conjugate`, less the
    constant ``C log C``)."""
    rest = upper - alpha
    return float((alpha * np.log(alpha)).sum() + (rest * np.log(rest)).sum())


def dual_value(loss, objective, upper) -> float:
    """The dual function's value from the minimised objective the solvers report.

    ``-objective``, plus ``sum_i C_i log C_i`` for the logistic loss (the entropy form of its
    dual drops that constant). Weak duality: ``primal >= dual_value``; equality at the optimum.
    """
    value = -float(objective)
    if loss == "logistic":
        value += float(upper @ np.log(upper))
    return value


def default_max_iter(n_samples: int) -> int:
    """The iteration cap used when ``max_iter=None``: ``max(10**7, 100 n)``, libsvm's own bound."""
    return max(10_000_000, 100 * n_samples)


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class DualSolution:
    """The solution of one binary dual.

    Attributes
    ----------
    alpha : ndarray of shape (n_samples,)
        Dual variables, in the order of the input rows.
    rho : float
        Offset: ``f(x) = sum_i y_i alpha_i K(x_i, x) - rho``.
    objective : float
        Dual objective (the minimised form of the table of :mod:`mlbasics.svm._smo`) at ``alpha``.
    gap : float
        Final ``m(alpha) - M(alpha)``, the maximal violating pair's gap; below ``tol`` when converged.
    n_iter : int
        Number of pair updates.
    converged : bool
        Whether the gap fell below ``tol`` before ``max_iter``.
    trace : Trace
        Objective and gap after every chunk of iterations, as the solver kept them (the last
        entry of a run that did not converge may differ from ``objective`` and ``gap``, which
        come from the float64 gradient, :func:`unconverged_gradient`).
    primal : float
        Primal objective ``1/2 ||f||^2 + sum_i C_i loss(y_i f(x_i))`` of the solution's ``f``
        (:func:`primal_objective`); ``primal - dual`` is the duality gap, with the dual value from
        :func:`dual_value`.
    stopped : bool
        Whether the hook asked the solver to stop (``converged`` is then False).
    message : str
        Why the solver stopped, in words; when it did not converge, with advice that fits the
        reason (:class:`~mlbasics.SVC` puts it in its ConvergenceWarning).
    clipped_margin : float
        QP only: a bound on how far the margins on the kernel matrix ``K`` are from those on
        ``K+``, the matrix with its negative eigenvalues (rounding, e.g. of a float32 matrix)
        clipped to 0, whose problem the QP solved: ``|lambda_min(K)| ||alpha||`` (0 for a
        matrix without negative eigenvalues).
    """

    alpha: np.ndarray
    rho: float
    objective: float
    gap: float
    n_iter: int
    converged: bool
    trace: Trace
    primal: float = np.nan
    stopped: bool = False
    message: str = ""
    clipped_margin: float = 0.0


def _cache(n: int, cache_size_mb: float):
    """Empty LRU cache of float32 rows within ``cache_size_mb`` (at least two rows).

    ``np.empty`` does not touch the memory: pages are mapped as rows are first written, so a large
    budget costs nothing until it is used.
    """
    slots = cache_size_mb * 2**20 // (_ENTRY_BYTES * n)  # (inf for a budget near 1e308 MB)
    n_slots = max(2, n if not slots < n else int(slots))
    return (
        np.empty((n_slots, n), dtype=np.float32),
        np.full(n, -1, dtype=np.int64),
        np.full(n_slots, -1, dtype=np.int64),
        np.zeros(n_slots, dtype=np.int64),
        np.full(n_slots, -1, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        np.zeros(2, dtype=np.int64),
    )


def _data(X, y, spec: KernelSpec):
    """The ``data`` tuple of the compiled kernels, the kernel diagonal and the ``kern`` tuple.

    ``kern`` is :func:`_kern` of ``spec``, with ``gamma`` adjusted to the scaling of the float64
    copy of dense data (see below).
    """
    n = y.shape[0]
    empty2 = np.empty((0, 0))
    empty_f = np.empty(0)
    empty_i = np.empty(0, dtype=np.int32)
    empty_ptr = np.empty(0, dtype=np.int64)
    work = np.empty(n)
    bits = np.empty(n, dtype=np.int64)
    perm = np.arange(n, dtype=np.int64)
    y = np.array(y, dtype=np.float64)
    no_index = (empty_f, empty_i, empty_ptr, empty_ptr)  # the CSC index of sparse X (below)
    kern = _kern(spec)
    if spec.code == PRECOMPUTED_CODE:  # precomputed (or a callable, computed once)
        gram = X if spec.kernel == "precomputed" else spec.matrix(X, X)
        gram = np.ascontiguousarray(gram, dtype=np.float64)
        diag = np.diag(gram).copy()
        data = (
            empty2,
            np.zeros(n),
            y,
            perm,
            empty_f,
            empty_i,
            empty_ptr,
            empty_f,
            gram,
            work,
            bits,
            *no_index,
        )
        return data, diag, kern
    diag = spec.diagonal(X)
    if sparse.issparse(X):
        X = sparse.csr_matrix(X, dtype=np.float64)
        X.sum_duplicates()
        X.sort_indices()
        sqn = squared_norms(X)
        indices = X.indices.astype(np.int32, copy=False)
        indptr = X.indptr.astype(np.int64, copy=False)
        scratch = np.zeros(max(X.shape[1], n))
        columns = X.tocsc()  # the inverted index: which samples use each feature
        columns.sort_indices()
        frequency = np.diff(columns.indptr).astype(np.float64)
        postings = np.asarray(X.astype(bool) @ frequency, dtype=np.int64).ravel()
        index = (
            columns.data,
            columns.indices.astype(np.int32, copy=False),
            columns.indptr.astype(np.int64, copy=False),
            postings,
        )
        data = (empty2, sqn, y, perm, X.data, indices, indptr, scratch, empty2, work, bits)
        return (*data, *index), diag, kern
    # A float64 copy, C-contiguous (the solver permutes its rows). The row products accumulate in
    # float64 and only the kernel values are rounded to float32, when stored in the cache: libsvm's
    # arithmetic. The products of a float32 copy (the solver's until then) were twice as fast but
    # off by 1.9e-6 in the rbf rows of n = 400, p = 50, gamma = 1 (float64 products: 1e-14), and a
    # fit at tol=1e-6 reported converged with complementary slackness at 1.2e-5 (libsvm: 7e-7).
    # The RBF kernel only sees differences of rows, so the data are centred first (on the
    # features' medians, :func:`~mlbasics.kernels.rbf_centre`), which keeps the norms small and
    # the distances accurate.
    Xp = np.empty(X.shape)
    if spec.kernel == "rbf":
        np.subtract(X, rbf_centre(X), out=Xp)
    else:
        Xp[...] = X
    # Scaled by a power of two 2**-e that brings the largest row norm into [1/2, 1), with gamma
    # multiplied by 2**(2e): the products gamma x'z (poly, sigmoid) and gamma ||x - z||^2 (rbf) are
    # then those of the unscaled copy to the last bit (a power of two changes no rounding), and
    # data of any scale give finite products (the float32 copy of before overflowed above row
    # norms of ~1e19 and underflowed below ~1e-19, and the fit gave a wrong model without an
    # error). The linear kernel's values are the products themselves: its copy is not scaled (its
    # values must fit the float32 cache anyway, :func:`~mlbasics.svm._checks.check_kernel_range`).
    if spec.kernel != "linear":
        top = float(squared_norms(Xp).max(initial=0.0))
        if 0.0 < top < math.inf:
            exponent = math.frexp(math.sqrt(top))[1]
            Xp *= math.ldexp(1.0, -exponent)
            kern = (kern[0], math.ldexp(kern[1], 2 * exponent), kern[2], kern[3])
    sqn = np.einsum("ij,ij->i", Xp, Xp)
    data = (Xp, sqn, y, perm, empty_f, empty_i, empty_ptr, empty_f, empty2, work, bits)
    return (*data, *no_index), diag, kern


def _kern(spec: KernelSpec):
    return (np.int64(spec.code), float(spec.gamma), float(spec.coef0), np.int64(spec.degree))


def unbounded_error(direction: bool = False) -> ValueError:
    """The error of a squared-hinge dual found unbounded below: ``UNBOUNDED`` of the kernels (a
    pair of negative curvature), or with ``direction`` a run that overflowed along a direction of
    negative curvature (:func:`negative_curvature`)."""
    if direction:
        evidence = (
            "the dual variables grew until the dual objective overflowed, along a direction d >= 0 "
            "with y'd = 0 and d'(Q + diag(1/(2 C)))d < 0 (Q_ij = y_i y_j K_ij)"
        )
    else:
        evidence = (
            "two samples i, j of different classes have K_ii + K_jj - 2 K_ij + 1/(2 C_i) + "
            "1/(2 C_j) <= 0"
        )
    return ValueError(
        "loss='squared_hinge' needs a positive semidefinite kernel, and this kernel matrix is "
        f"not one: {evidence}, and along that direction the squared-hinge dual (whose variables "
        "have no upper bound) decreases without limit. Use loss='hinge' or 'logistic', which SMO "
        "solves on indefinite kernels as libsvm does, or a positive semidefinite kernel (e.g. "
        "clip the matrix's negative eigenvalues)."
    )


def negative_curvature(X, spec: KernelSpec, data, alpha, extra) -> bool:
    """Whether the squared-hinge dual decreases without limit along ``alpha``'s direction.

    SMO's pair test (:func:`~mlbasics.svm._smo_kernels._pair_step`) only sees a pair of negative
    curvature. An indefinite kernel whose pairs all have positive curvature (a sigmoid kernel on
    standardised data: the smallest eigenvalue of ``Q + D`` -7.8) still makes ``alpha`` grow
    geometrically, pair after pair, until the objective overflows. Then ``d = alpha / max(alpha)``
    is feasible (``d >= 0``, ``y'd = 0``) and, computed with float64 kernel values,
    ``d'(Q + diag(extra))d`` is negative beyond its rounding (``1e-12 (sum d)^2 max |K|``): the
    dual is unbounded along ``d``. ``alpha`` and ``extra`` are in the solver's order.
    """
    top = float(np.max(alpha, initial=0.0))
    if not (0.0 < top < math.inf and np.all(np.isfinite(alpha))):
        return False
    d = alpha / top
    # F = K (y d) + y extra d - y (the gradient at d), so y F + 1 = (Q + diag(extra)) d
    F = float64_gradient(X, spec, data, d, "squared_hinge", extra, None)
    curvature = float(d @ (data[2] * F + 1.0))
    rounding = 1e-12 * float(d.sum()) ** 2 * kernel_bound(X, spec, data)
    return curvature < -rounding


def check_unbounded_direction(loss, objective, X, spec: KernelSpec, data, alpha, extra) -> None:
    """Raise :func:`unbounded_error` when a squared-hinge run overflowed along a direction of
    negative curvature (:func:`negative_curvature`); both SMO solvers call it at the end."""
    if (
        loss == "squared_hinge"
        and not math.isfinite(objective)
        and negative_curvature(X, spec, data, alpha, extra)
    ):
        raise unbounded_error(direction=True)


#: Return code of a run whose float64 gradient kept a gap above ``tol`` after
#: :data:`MAX_REFINEMENTS` restarts (beside the codes of :mod:`~mlbasics.svm._smo_kernels`).
PRECISION = 4
assert PRECISION not in (K.RUNNING, K.CONVERGED, K.STALLED, K.UNBOUNDED)


def rounding_estimate(alpha, kernel_bound: float) -> float:
    """An estimate of the error the float32 cache leaves in the gradient ``F``.

    ``F = K (y alpha) + ...`` is accumulated in float64 from cached rows whose entries are off by
    at most :data:`CACHE_ROUNDING` times ``|K_tj| <= kernel_bound``; errors of independent signs
    add up to about ``CACHE_ROUNDING kernel_bound ||alpha||_2`` (the sum ``||alpha||_1`` is the
    worst case, 50 times larger on the benchmark's n = 10 000: too pessimistic to act on).
    Measured there (rbf, C = 1, ``||alpha||_2 = 48.7``): the estimate 1.2e-5, the gap of the
    float64 gradient 1.4e-6 to 2.8e-6 above the solver's.
    """
    return CACHE_ROUNDING * kernel_bound * float(np.sqrt(alpha @ alpha))


def kernel_bound(X, spec: KernelSpec, data) -> float:
    """A bound on ``|K(x, z)|`` over the training rows (``data`` of :func:`_data`: the Gram
    matrix of a precomputed or callable kernel is its entry 8)."""
    if spec.code == PRECOMPUTED_CODE:
        return float(np.abs(data[8]).max(initial=0.0))
    if spec.kernel in ("rbf", "sigmoid"):
        return 1.0
    top = float(squared_norms(X).max(initial=0.0))
    if spec.kernel == "linear":
        return top
    return (spec.gamma * top + abs(spec.coef0)) ** spec.degree


def needs_float64_check(tol, alpha, X, spec, data) -> bool:
    """Whether a converged run's gap is checked on the float64 gradient: when ``tol`` is within
    :data:`CHECK_FACTOR` of :func:`rounding_estimate` (e.g. ``tol=1e-6``; not at the default
    ``tol=1e-3`` of the benchmark's rbf problems, where the estimate is below ``tol / 40``).
    The check costs one pass of float64 kernel values over the support vectors, as a
    prediction on the training set does."""
    return tol < CHECK_FACTOR * rounding_estimate(alpha, kernel_bound(X, spec, data))


def kernel_times(X, spec: KernelSpec, data, alpha) -> np.ndarray:
    """``K (y alpha)`` with float64 kernel values, by blocks over the support vectors; ``alpha``
    and the result in the solver's order (``data[3]`` maps it to the rows of ``X``)."""
    y, perm = data[2], data[3]
    v = np.zeros(len(alpha))
    v[perm] = y * alpha  # in the order of the rows of X
    support = np.flatnonzero(v)
    kv = np.zeros(len(alpha))
    if spec.code == PRECOMPUTED_CODE:
        kv = data[8][:, support] @ v[support]
    elif support.size:
        Z = X[support]
        for rows, block in spec.blocks(X, Z):
            kv[rows] = block @ v[support]
    return kv[perm]  # back to the solver's order


def float64_gradient(X, spec: KernelSpec, data, alpha, loss, extra, upper) -> np.ndarray:
    """The gradient ``F = y G`` of the dual at ``alpha``, with float64 kernel values.

    ``alpha``, ``extra``, ``upper`` and the result are in the solver's order (``data[3]`` maps it
    to the rows of ``X``); ``F = K (y alpha) + y extra alpha - y`` for the hinge and squared-hinge
    duals, ``K (y alpha) + y log(alpha / (C - alpha))`` for the logistic one. The kernel values
    are those of :meth:`~mlbasics.kernels.KernelSpec.matrix`, by blocks over the support vectors.
    """
    y = data[2]
    kv = kernel_times(X, spec, data, alpha)
    if loss == "logistic":
        return kv + y * logistic_link(alpha, upper)
    return kv + y * extra * alpha - y


def unconverged_gradient(X, spec: KernelSpec, data, alpha, loss, extra, upper, pen_up, pen_low):
    """``(F, gap)``: the float64 gradient (:func:`float64_gradient`) at the final ``alpha`` of a run
    that did not converge (``max_iter``, a stall, the hook), and its gap ``m - M``
    (:func:`violations`), from which that run's objective, gap and primal value are reported.

    The gradient the solvers keep is built from float32 kernel rows (:data:`CACHE_ROUNDING`) and
    updated pair after pair: a converged run is checked in float64 where that may matter
    (:func:`needs_float64_check`), but one that stopped early is not, and after many updates its
    gradient describes another ``alpha``. Measured (linear kernel, squared hinge, n = 60, features
    of scales 30 to 0.1, sample weights 1e-2 to 1e2, ``C = 10``, ``tol=1e-5``, stopped at
    ``max_iter=10**7``): objective -2034.34 from the kept gradient, below the dual optimum
    -2028.91 (impossible at a feasible point), and a duality gap of 3e-6, where at the returned
    ``alpha`` the objective was -2028.83 and the gap 0.145. The cost is one pass of float64 kernel
    values over the support vectors, once per fit, and only for a run that did not converge.
    """
    F = float64_gradient(X, spec, data, alpha, loss, extra, upper)
    return F, violations(F, pen_up, pen_low)[0]


def violations(F, pen_up, pen_low):
    """``(m - M, s_up, s_low)``: the gap and the selection scores ``s_up = -F`` on I_up,
    ``s_low = F`` on I_low (about ``-BIG`` outside), from a gradient ``F`` held in Python (the
    compiled loops keep their own)."""
    s_up = pen_up - F
    s_low = F + pen_low
    return float(s_up.max() + s_low.max()), s_up, s_low


def stop_message(code, stopped, gap, tol, max_iter, shrinking=False, kept_gap=None) -> str:
    """Why SMO stopped (``code`` from the compiled kernels or :data:`PRECISION`), with advice when
    it did not converge: :attr:`DualSolution.message`. ``shrinking``: whether a shrink set a
    variable aside during the run (if none did, ``shrinking=False`` makes the same run: the
    advice misled there; if one did, even a run with every variable back at the end may have
    been slowed by it). ``kept_gap``: the gap of the gradient SMO kept (updated with float32
    kernel rows) where ``gap`` is that of the float64 one at the same ``alpha``; at
    ``max_iter``, a kept gap far below the true one says that the rows' rounding may be what
    holds SMO above ``tol`` (moons at C = 1e4, linear kernel, ``tol=1e-6``: kept about 5e-5,
    true 2.9e-3 after ten million steps as after one million: a review)."""
    if code == K.CONVERGED:
        return f"converged: gap m - M = {gap:.3g} < tol={tol}"
    if stopped:
        return STOPPED_BY_HOOK
    if code == K.STALLED:
        return (
            f"SMO stalled with gap m - M = {gap:.3g} > tol={tol}: no pair of variables can move "
            "any more (their steps round to nothing in float64), so a larger max_iter would not "
            "help. Loosen tol: a stall at a gap near 1e-12 is the float64 rounding of the "
            "gradient; at a larger gap, variables are pinned at the ends of their range (lower C "
            "or standardise the features)."
        )
    if code == PRECISION:
        return (
            f"the gap m - M of the float64 gradient stayed at {gap:.3g} > tol={tol} after "
            f"{MAX_REFINEMENTS} restarts of SMO from it: tol is below what SMO resolves on this "
            "problem (float32 kernel rows, float64 arithmetic), so a larger max_iter would not "
            "help. Loosen tol, lower C (the rounding grows with the dual variables), or "
            "standardise the features: a kernel whose values are large beside their differences "
            "(features far from 0 with the linear or polynomial kernel) loses those differences "
            "in float32. A kernel nearly constant over the data loses them the same way on "
            "standardised features, and no tol helps there: the polynomial or sigmoid kernel "
            "with coef0 large beside gamma x'z, (gamma x'z + coef0)^d = gamma^d (x'z + "
            "coef0 / gamma)^d, whose constant part drops out of the dual; lower coef0 / gamma."
        )
    if not math.isfinite(gap):
        return "SMO stopped: the dual objective or its gradient overflowed"
    # (shrinking can hold SMO on the variables it kept, as libsvm's: on an ill-conditioned 1-D
    # problem both sat at a gap of 2 for 10 million steps, where shrinking=False got to 3e-3)
    unshrink = (
        ", or try shrinking=False (it can set variables aside too early)" if shrinking else ""
    )
    if kept_gap is not None and gap > 2.0 * kept_gap and gap - kept_gap > tol:
        # (not "a larger max_iter would not help": a run on a drifted gradient is repaired by
        # the float64 restart once its kept gap reaches tol, which more steps may still bring;
        # 18 of a sweep at tol=1e-5 and 1e-6 converged with 1000 times the steps: a review)
        return (
            f"SMO stopped at max_iter={max_iter} with gap m - M = {gap:.3g} > tol={tol} in "
            f"float64, where the gradient it steered by, updated with float32 kernel rows, "
            f"showed {kept_gap:.3g}: at this tol their rounding can hold SMO above it however "
            "long it runs. Increase max_iter; if that does not help, loosen tol (a tol tighter "
            "than the rows resolve can end further from the optimum), lower C (the rounding "
            "grows with the dual variables), standardise the features, or use solver='qp' "
            "(float64 throughout)."
        )
    # (at a large C on standardised features, standardising is no remedy: the linear kernel at
    # C = 1e4 on 80 samples ran ten million steps short of tol=1e-5, where the QP solver took
    # 17 iterations: a review)
    return (
        f"SMO stopped at max_iter={max_iter} with gap m - M = {gap:.3g} > tol={tol}. Increase "
        "max_iter, loosen tol, standardise the features (an ill-scaled kernel slows SMO down), "
        "lower C (a large C makes the dual ill-conditioned), or use solver='qp' (an "
        f"interior-point method, not slowed by the conditioning; for small problems){unshrink}."
    )


def hinge_start(loss, upper, diag, y):
    """``(upper, extra, QD, F, status)`` of the hinge or squared-hinge dual at ``alpha = 0``.

    The squared hinge moves ``1 / (2 C_i)`` to the diagonal (``extra``) and has no upper bound;
    at ``alpha = 0`` the gradient is ``G = -e``, so ``F = y G = -y``, and every variable is at
    its lower bound.
    """
    n = y.shape[0]
    if loss == "squared_hinge":
        extra, upper = 0.5 / upper, np.full(n, np.inf)
    else:
        extra, upper = np.zeros(n), upper.copy()
    return upper, extra, diag + extra, -y, np.full(n, K.LOWER, dtype=np.int8)


def hinge_objective(alpha, F, y) -> float:
    """The hinge or squared-hinge dual objective ``1/2 a'(Q + D)a - e'a = 1/2 a'(G - e)`` from
    ``F = y G`` (no kernel evaluation)."""
    return 0.5 * float(alpha @ (y * F - 1.0))


def hinge_finish(loss, alpha, F, y, status, C, extra, exact=None):
    """``(objective, rho, primal)`` of a hinge or squared-hinge dual from its final ``F = y G``.

    No kernel evaluation: ``1/2 a'(Q + D)a - e'a = 1/2 a'(G - e)``, the bias by libsvm's rule
    (:func:`~mlbasics.svm._smo_kernels.rho_from_gradient`), and ``K (y a) = F - y D a + y`` on
    the training points for the primal value. ``exact``, the float64 gradient of a run that did
    not converge (:func:`unconverged_gradient`), gives the objective and the primal value instead
    of ``F``; the bias stays the rule's on the solver's ``F``, so that a run capped at ``max_iter``
    returns the model a hook was shown at that point (:func:`current_iterate`), and the
    certificate is that of this model.
    """
    exact = F if exact is None else exact
    objective = hinge_objective(alpha, exact, y)
    rho = float(K.rho_from_gradient(F, status, y))
    k_alpha_y = exact - y * extra * alpha + y
    return objective, rho, primal_objective(loss, alpha, y, C, k_alpha_y, rho)


def current_iterate(data, state, status, istate):
    """``(alpha, rho, n_iter)`` of a run between two chunks, ``alpha`` in the input's row order.

    The bias is libsvm's rule on the variables still active: with shrinking, the gradient of the
    others is stale until it is reconstructed at the end (which costs kernel rows). Cheap: O(n).
    """
    alpha, F = state[0], state[1]
    y, perm = data[2], data[3]
    active = int(istate[K.I_ACTIVE])
    rho = float(K.rho_from_gradient(F[:active], status[:active], y[:active]))
    alpha_out = np.empty_like(alpha)
    alpha_out[perm] = alpha
    return alpha_out, rho, int(istate[K.I_ITER])
