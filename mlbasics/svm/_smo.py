"""SMO for the duals of the soft-margin SVM, in plain Python around compiled kernels.

One binary problem, labels ``y`` in {-1, +1}, per-sample bounds ``C_i``, margins ``z_i = y_i f(x_i)``
of ``f(x) = sum_i y_i alpha_i K(x_i, x) - rho``, and ``Q_ij = y_i y_j K(x_i, x_j)``:

==============  ==========================================================  ==================
loss            dual (minimised)                                             constraints
==============  ==========================================================  ==================
hinge           ``1/2 a'Qa - sum a``                                         ``0 <= a <= C``
squared_hinge   ``1/2 a'(Q + diag(1 / (2C)))a - sum a``                      ``a >= 0``
logistic        ``1/2 a'Qa + sum a log a + (C - a) log(C - a)``              ``0 < a < C``
==============  ==========================================================  ==================

and ``y'a = 0`` in every case. :func:`solve_dual` sets up the arrays, runs the compiled iterations
(:func:`~mlbasics.svm._smo_kernels.smo_dual` or :func:`~mlbasics.svm._smo_kernels.smo_logistic`) in
chunks of :data:`CHUNK` iterations, records the objective and the gap ``m(alpha) - M(alpha)`` after
each chunk, and returns a :class:`DualSolution`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .. import losses
from .._result import Trace, TraceRecorder
from ..kernels import KernelSpec, squared_norms
from . import _smo_kernels as K

__all__ = [
    "LOSSES",
    "DualSolution",
    "default_max_iter",
    "dual_value",
    "primal_objective",
    "solve_dual",
]

LOSSES = ("hinge", "squared_hinge", "logistic")

#: Iterations between two returns to Python (trace, verbose output, hook).
CHUNK = 2000

#: Bytes of one float32 cache entry.
_ENTRY_BYTES = 4


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
        Dual objective (the minimised form of the table above) at ``alpha``.
    gap : float
        Final ``m(alpha) - M(alpha)``, the maximal violating pair's gap; below ``tol`` when converged.
    n_iter : int
        Number of pair updates.
    converged : bool
        Whether the gap fell below ``tol`` before ``max_iter``.
    trace : Trace
        Objective and gap after every chunk of iterations.
    primal : float
        Primal objective ``1/2 ||f||^2 + sum_i C_i loss(y_i f(x_i))`` of the solution's ``f``
        (:func:`primal_objective`); ``primal - dual`` is the duality gap, with the dual value from
        :func:`dual_value`.
    stopped : bool
        Whether the hook asked the solver to stop (``converged`` is then False).
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


def _cache(n: int, cache_size_mb: float):
    """Empty LRU cache of float32 rows within ``cache_size_mb`` (at least two rows).

    ``np.empty`` does not touch the memory: pages are mapped as rows are first written, so a large
    budget costs nothing until it is used.
    """
    n_slots = int(cache_size_mb * 2**20 // (_ENTRY_BYTES * n))
    n_slots = max(2, min(n, n_slots))
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

    ``kern`` is :func:`_kern` of ``spec``, with ``gamma`` adjusted to the scaling of the float32
    copy of dense data (see below).
    """
    n = y.shape[0]
    empty2 = np.empty((0, 0))
    empty2_32 = np.empty((0, 0), dtype=np.float32)
    empty_f = np.empty(0)
    empty_i = np.empty(0, dtype=np.int32)
    empty_ptr = np.empty(0, dtype=np.int64)
    work = np.empty(n)
    bits = np.empty(n, dtype=np.int64)
    perm = np.arange(n, dtype=np.int64)
    y = np.array(y, dtype=np.float64)
    no_index = (empty_f, empty_i, empty_ptr, empty_ptr)  # the CSC index of sparse X (below)
    kern = _kern(spec)
    if spec.code == 4:  # precomputed (or a callable, computed once)
        gram = X if spec.kernel == "precomputed" else spec.matrix(X, X)
        gram = np.ascontiguousarray(gram, dtype=np.float64)
        diag = np.diag(gram).copy()
        data = (
            empty2_32,
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
        data = (empty2_32, sqn, y, perm, X.data, indices, indptr, scratch, empty2, work, bits)
        return (*data, *index), diag, kern
    # A float32 copy (the solver permutes its rows): the row products run twice as fast, and the
    # cache keeps float32 rows anyway. The RBF kernel only sees differences of rows, so the data are
    # centred first, which keeps the float32 norms small and the distances accurate.
    if spec.kernel == "rbf":
        X = X - X.mean(axis=0)
    # Scaled by a power of two 2**-e that brings the largest row norm into [1/2, 1), with gamma
    # multiplied by 2**(2e): the products gamma x'z (poly, sigmoid) and gamma ||x - z||^2 (rbf) are
    # then those of the unscaled copy to the last bit (a power of two changes no rounding), and
    # data of any scale fit float32: unscaled, rows of norm above ~1e19 overflowed its products
    # and rows below ~1e-19 underflowed them, and the fit gave a wrong model without an error.
    # The linear kernel's values are the products themselves: its copy is not scaled (its values
    # must fit float32 anyway, :func:`~mlbasics.svm._checks.check_kernel_range`).
    scale = 1.0
    if spec.kernel != "linear":
        top = float(squared_norms(X).max(initial=0.0))
        if 0.0 < top < math.inf:
            exponent = math.frexp(math.sqrt(top))[1]
            scale = math.ldexp(1.0, -exponent)
            kern = (kern[0], math.ldexp(kern[1], 2 * exponent), kern[2], kern[3])
    Xp = np.empty(X.shape, dtype=np.float32)
    np.multiply(X, scale, out=Xp, casting="unsafe")
    sqn = np.einsum("ij,ij->i", Xp.astype(np.float64), Xp.astype(np.float64))
    data = (Xp, sqn, y, perm, empty_f, empty_i, empty_ptr, empty_f, empty2, work, bits)
    return (*data, *no_index), diag, kern


def _kern(spec: KernelSpec):
    return (np.int64(spec.code), float(spec.gamma), float(spec.coef0), np.int64(spec.degree))


def _logistic_start(y, upper, spec, X):
    """A feasible interior start for the logistic dual and its gradient ``Q a + log(a / (C - a))``.

    ``alpha_i = s_y C_i`` with one fraction per class, chosen so that ``y'alpha = 0`` and both
    fractions are at most 1/2. ``Q alpha`` is formed once, by blocks of kernel rows.
    """
    pos = y > 0
    total_pos = upper[pos].sum()
    total_neg = upper[~pos].sum()
    target = 0.5 * min(total_pos, total_neg)
    alpha = np.where(pos, target / total_pos, target / total_neg) * upper
    v = y * alpha
    if spec.code == 4:
        gram = X if spec.kernel == "precomputed" else spec.matrix(X, X)
        kv = np.asarray(gram) @ v
    else:
        kv = np.empty(len(y))
        for rows, block in spec.blocks(X, X):
            kv[rows] = block @ v
    G = y * kv + np.log(alpha) - np.log(upper - alpha)
    return alpha, G


def solve_dual(
    X,
    y,
    upper,
    spec: KernelSpec,
    *,
    loss: str = "hinge",
    tol: float = 1e-3,
    max_iter: int | None = None,
    shrinking: bool = True,
    cache_size: float = 200.0,
    hook=None,
    verbose: int = 0,
) -> DualSolution:
    """Solve one binary SVM dual by SMO.

    Dense problems of at least :data:`~mlbasics.svm._batched.BATCHED_MIN` samples with a named
    kernel and the hinge or squared-hinge loss go to the batched-working-set solver
    :func:`~mlbasics.svm._batched.solve_batched` instead (same arguments and result; it does not
    shrink), when its rows fit ``cache_size`` (:func:`~mlbasics.svm._batched.batched_applies`).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), CSR matrix, or ndarray of shape (n, n)
        Training rows, or the kernel matrix when ``spec.kernel == "precomputed"``.
    y : ndarray of shape (n_samples,)
        Labels in {-1, +1}.
    upper : ndarray of shape (n_samples,)
        ``C_i`` (``C`` times class and sample weights), all positive.
    spec : KernelSpec
        The kernel.
    loss : {"hinge", "squared_hinge", "logistic"}
        Which dual (see the module docstring).
    tol : float
        Stop when ``m(alpha) - M(alpha) < tol``.
    max_iter : int or None
        Cap on pair updates; None means :func:`default_max_iter`.
    shrinking : bool
        Use libsvm's shrinking heuristic (hinge and squared hinge).
    cache_size : float
        Kernel-row cache budget in megabytes.
    hook : callable, optional
        Called as ``hook(chunk, objective, gap, iterate)`` at the start and after every chunk of
        ``CHUNK`` pair updates, with ``iterate = (alpha, rho, n_iter)``: the current (feasible)
        ``alpha`` in the order of the input rows and the bias of the variables still active
        (:func:`current_iterate`). A true return value stops the solver there; the returned
        solution's bias and certificate are then computed from the full gradient, as after a
        converged run.
    verbose : int
        Print the gap as it falls when positive.

    Raises
    ------
    ValueError
        When the squared-hinge dual is found unbounded below (a kernel that is not positive
        semidefinite, :func:`unbounded_error`). Other overflow is left in the result: a NaN or
        infinite objective ends the run at the end of its chunk, and the caller checks.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}.")
    from . import _batched  # not at the top: _batched imports this module

    if _batched.batched_applies(X, spec, loss, cache_size):
        return _batched.solve_batched(
            X,
            y,
            upper,
            spec,
            loss=loss,
            tol=tol,
            max_iter=max_iter,
            cache_size=cache_size,
            hook=hook,
            verbose=verbose,
        )
    # Overflow shows in the result (a NaN or infinite objective ends the run early), which
    # :class:`~mlbasics.SVC` turns into an error naming it: no RuntimeWarning on the way.
    with np.errstate(all="ignore"):
        return _solve_pairs(
            X, y, upper, spec, loss, tol, max_iter, shrinking, cache_size, hook, verbose
        )


def unbounded_error() -> ValueError:
    """The error of a squared-hinge dual found unbounded below (``UNBOUNDED`` of the kernels)."""
    return ValueError(
        "loss='squared_hinge' needs a positive semidefinite kernel, and this kernel matrix is "
        "not one: two samples i, j of different classes have K_ii + K_jj - 2 K_ij + 1/(2 C_i) + "
        "1/(2 C_j) <= 0, and along that pair the squared-hinge dual (whose variables have no "
        "upper bound) decreases without limit. Use loss='hinge' or 'logistic', which SMO solves "
        "on indefinite kernels as libsvm does, or a positive semidefinite kernel (e.g. clip the "
        "matrix's negative eigenvalues)."
    )


def _solve_pairs(X, y, upper, spec, loss, tol, max_iter, shrinking, cache_size, hook, verbose):
    """The pair SMO of :func:`solve_dual` (same arguments)."""
    n = y.shape[0]
    max_iter = default_max_iter(n) if max_iter is None else int(max_iter)
    upper = np.asarray(upper, dtype=np.float64)
    data, diag, kern = _data(X, y, spec)
    cache = _cache(n, cache_size)
    istate = np.zeros(4, dtype=np.int64)
    istate[K.I_ACTIVE] = n
    istate[K.I_COUNTER] = min(n, 1000) + 1
    fstate = np.zeros(2)
    y_float = data[2]
    recorder = TraceRecorder(hook=hook)

    if loss == "logistic":
        alpha, G = _logistic_start(y_float, upper, spec, X)
        F = y_float * G  # y * gradient
        QD = diag.astype(np.float64)
        extra = np.zeros(n)
        fstate[K.F_OBJECTIVE] = _logistic_objective(alpha, G, upper)
        status = np.full(n, K.FREE, dtype=np.int8)
    else:
        alpha = np.zeros(n)
        upper, extra, QD, F, status = hinge_start(loss, upper, diag, y_float)
    yp = -y_float  # y * p, with p = -1 (hinge losses; unused by the logistic dual)
    pen_up = np.zeros(n)
    pen_low = np.zeros(n)
    hess = np.zeros(n)
    state = (alpha, F, np.zeros(n), upper, extra, QD, yp, pen_up, pen_low, hess, np.empty(n))
    if loss == "logistic":
        for t in range(n):
            K._logistic_masks(t, y_float, alpha, upper, pen_up, pen_low, hess)
        run = lambda stop: K.smo_logistic(  # noqa: E731
            data, kern, cache, state, istate, fstate, tol, stop
        )
    else:
        for t in range(n):
            K._set_masks(t, y_float, status, pen_up, pen_low)
        run = lambda stop: K.smo_dual(  # noqa: E731
            data, kern, cache, state, status, istate, fstate, tol, shrinking, stop
        )

    recorder.record(fstate[K.F_OBJECTIVE], np.inf)
    converged = False
    while True:
        stop = min(istate[K.I_ITER] + CHUNK, max_iter)
        code = run(stop)
        converged = code == K.CONVERGED
        if verbose:
            print(
                f"[SMO] iter {istate[K.I_ITER]:>8d}  gap {fstate[K.F_GAP]:.3e}  "
                f"dual objective {fstate[K.F_OBJECTIVE]:.8e}"
            )
        iterate = None if hook is None else current_iterate(data, state, status, istate)
        stop = recorder.record(fstate[K.F_OBJECTIVE], fstate[K.F_GAP], iterate)
        if code != K.RUNNING or istate[K.I_ITER] >= max_iter or stop:
            break
        if not math.isfinite(fstate[K.F_OBJECTIVE]):
            break  # overflowed: no later iteration repairs it (the caller reports it)
    if code == K.UNBOUNDED:
        raise unbounded_error()

    C = upper if loss != "squared_hinge" else 0.5 / extra  # the C_i (squared hinge: upper is inf)
    if loss == "logistic":
        objective = _logistic_objective(alpha, y_float * F, upper)
        # Free: strictly inside the saturation box of the logistic dual (almost every variable).
        status[alpha <= K.LOGISTIC_EPS * upper] = K.LOWER
        status[alpha >= (1 - K.LOGISTIC_EPS) * upper] = K.UPPER
        rho = float(K.rho_from_gradient(F, status, y_float))
        # K (y alpha) on the training points, from the final gradient (no kernel evaluation)
        k_alpha_y = F - y_float * (np.log(alpha) - np.log(upper - alpha))
        primal = primal_objective(loss, alpha, y_float, C, k_alpha_y, rho)
    else:
        K.reconstruct_gradient(n, data, kern, cache, state, status, istate)
        istate[K.I_ACTIVE] = n
        objective, rho, primal = hinge_finish(loss, alpha, F, y_float, status, C, extra)
    perm = data[3]
    alpha_out = np.empty(n)
    alpha_out[perm] = alpha
    return DualSolution(
        alpha=alpha_out,
        rho=rho,
        objective=objective,
        gap=float(fstate[K.F_GAP]),
        n_iter=int(istate[K.I_ITER]),
        converged=converged,
        trace=recorder.freeze(),
        primal=primal,
        stopped=recorder.stopped and not converged,
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


def hinge_finish(loss, alpha, F, y, status, C, extra):
    """``(objective, rho, primal)`` of a hinge or squared-hinge dual from its final ``F = y G``.

    No kernel evaluation: ``1/2 a'(Q + D)a - e'a = 1/2 a'(G - e)``, the bias by libsvm's rule
    (:func:`~mlbasics.svm._smo_kernels.rho_from_gradient`), and ``K (y a) = F - y D a + y`` on
    the training points for the primal value.
    """
    objective = 0.5 * float(alpha @ (y * F - 1.0))
    rho = float(K.rho_from_gradient(F, status, y))
    k_alpha_y = F - y * extra * alpha + y
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


def _logistic_objective(alpha, G, upper) -> float:
    """``1/2 a'Qa + sum a log a + (C - a) log(C - a)`` from the gradient ``Qa + log(a / (C - a))``."""
    logit = np.log(alpha) - np.log(upper - alpha)
    entropy = alpha * np.log(alpha) + (upper - alpha) * np.log(upper - alpha)
    return float(0.5 * alpha @ (G - logit) + entropy.sum())
