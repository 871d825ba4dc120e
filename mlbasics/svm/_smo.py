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
chunks of :data:`~mlbasics.svm._dual.CHUNK` iterations, records the objective and the gap
``m(alpha) - M(alpha)`` after each chunk, and returns a :class:`~mlbasics.svm._dual.DualSolution`.
Large dense problems go to the batched working sets of :mod:`mlbasics.svm._batched` instead; what
both solvers share (the result, the arrays of the compiled kernels, the start and end of the hinge
duals, the float64 check) is in :mod:`mlbasics.svm._dual`.
"""

from __future__ import annotations

import math

import numpy as np

from .._result import TraceRecorder
from ..kernels import PRECOMPUTED_CODE, KernelSpec
from ..optimality._svm import gap_scale, logistic_dual_at, released_logistic
from . import _batched
from . import _smo_kernels as K
from ._dual import (
    CHUNK,
    MAX_REFINEMENTS,
    PRECISION,
    DualSolution,
    _cache,
    _data,
    check_unbounded_direction,
    current_iterate,
    default_max_iter,
    dual_value,
    float64_gradient,
    hinge_finish,
    hinge_objective,
    hinge_start,
    kernel_bound,
    kernel_times,
    logistic_entropy,
    logistic_link,
    needs_float64_check,
    primal_objective,
    stop_message,
    unbounded_error,
    unconverged_gradient,
    violations,
)

__all__ = ["LOSSES", "solve_dual"]

LOSSES = ("hinge", "squared_hinge", "logistic")

#: Chunks of iterations on a shrunk problem whose gap ``m - M`` does not fall below half its best
#: before the run brings every variable back and goes on without shrinking. A shrink can set
#: aside variables the answer needs while the shrunk problem's own gap hovers at the float32
#: cache's resolution, above ``tol`` and above the ``10 tol`` at which the variables come back
#: (22 samples, 4 duplicated, linear kernel, C = 100, tol = 1e-6: ten million steps and w = 0,
#: where shrinking=False and libsvm take 1 600: a review).
SHRUNK_STALL_CHUNKS = 10
#: Chunks after which a run on every variable whose ``alpha`` moved by at most
#: :data:`STALL_MOVE_RTOL` of its largest entry, and whose gap did not halve, ends as STALLED
#: (refined from the float64 gradient where that is checked). Below ``tol`` near 1e-11 SMO can
#: spin: a logistic variable of 1.5e-12 shuttled by 1.9e-23 while its partner's steps rounded to
#: nothing (breast cancer, linear kernel, tol=1e-11), a hinge run at tol=1e-13 moved no alpha for
#: millions of steps; both ran to max_iter (16 to 33 s) and warned to increase it (a review).
STALL_CHUNKS = 10
STALL_MOVE_RTOL = 1e-12


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
    if spec.code == PRECOMPUTED_CODE:
        gram = X if spec.kernel == "precomputed" else spec.matrix(X, X)
        kv = np.asarray(gram) @ v
    else:
        kv = np.empty(len(y))
        for rows, block in spec.blocks(X, X):
            kv[rows] = block @ v
    G = y * kv + logistic_link(alpha, upper)
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
    log=None,
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
        Cap on pair updates; None means :func:`~mlbasics.svm._dual.default_max_iter` (ten times
        that where the batched solver takes the problem: its ``BATCHED_ITER_FACTOR``).
    shrinking : bool
        Use libsvm's shrinking heuristic (hinge and squared hinge).
    cache_size : float
        Kernel-row cache budget in megabytes.
    hook : callable, optional
        Called as ``hook(chunk, objective, gap, iterate)`` at the start and after every chunk of
        ``CHUNK`` pair updates, with ``iterate = (alpha, rho, n_iter)``: the current (feasible)
        ``alpha`` in the order of the input rows and the bias of the variables still active
        (:func:`~mlbasics.svm._dual.current_iterate`). A true return value stops the solver
        there; the returned solution's bias and certificate are then computed from the full
        gradient, as after a converged run.
    log : callable, optional
        Called with each line of progress (``log(line)``, a str without newline): the gap and the
        objective after every chunk (the batched solver: after every round, and a summary at the
        end), and after each check of the float64 gradient. None (the default) is silent;
        :class:`~mlbasics.SVC` passes ``print`` when ``verbose``.

    Returns
    -------
    DualSolution
        ``converged`` only when the gap is below ``tol``. Kernel rows are cached in float32 (from
        float64 products, as libsvm does), which leaves an error in the float64 gradient: where it
        may matter (:func:`~mlbasics.svm._dual.needs_float64_check`, e.g. ``tol=1e-6``), the
        gradient of a converged run (of the logistic dual: always) is recomputed with float64 kernel
        values, its gap decides, and SMO goes on from it (up to
        :data:`~mlbasics.svm._dual.MAX_REFINEMENTS` times) while that gap is not below ``tol``. A
        run that did not converge (``max_iter``, a stall, the hook) takes its objective, gap and
        primal value from the float64 gradient at its ``alpha``
        (:func:`~mlbasics.svm._dual.unconverged_gradient`). If that gap is below ``tol`` (and no
        hook stopped the run), it counts as converged and its bias too comes from that gradient;
        otherwise the bias is the kept gradient's, that of the model a hook was shown at that point.
        ``message`` says why the run stopped (:func:`~mlbasics.svm._dual.stop_message`).

    Raises
    ------
    ValueError
        When the squared-hinge dual is found unbounded below (a kernel that is not positive
        semidefinite, :func:`~mlbasics.svm._dual.unbounded_error`): a pair of negative curvature,
        or a run that overflowed along a direction of negative curvature
        (:func:`~mlbasics.svm._dual.negative_curvature`). Other overflow is left in the
        result: a NaN or infinite objective ends the run at the end of its chunk, and the caller
        checks.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}.")
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
            log=log,
        )
    # Overflow shows in the result (a NaN or infinite objective ends the run early), which
    # :class:`~mlbasics.SVC` turns into an error naming it: no RuntimeWarning on the way.
    with np.errstate(all="ignore"):
        return _solve_pairs(
            X, y, upper, spec, loss, tol, max_iter, shrinking, cache_size, hook, log
        )


def _solve_pairs(X, y, upper, spec, loss, tol, max_iter, shrinking, cache_size, hook, log):
    """The pair SMO of :func:`solve_dual` (same arguments)."""
    n = y.shape[0]
    max_iter = default_max_iter(n) if max_iter is None else int(max_iter)
    upper = np.asarray(upper, dtype=np.float64)
    data, diag, kern = _data(X, y, spec)
    cache = _cache(n, cache_size)
    istate = np.zeros(K.N_ISTATE, dtype=np.int64)
    istate[K.I_ACTIVE] = n
    istate[K.I_COUNTER] = min(n, K.SHRINK_EVERY) + 1
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
    shrink = shrinking
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
            data, kern, cache, state, status, istate, fstate, tol, shrink, stop
        )

    stall = {"best": np.inf, "chunks": 0}

    def unshrink_on_stall(gap):
        """After a chunk: a shrunk run whose gap stalls gets every variable back, for good."""
        nonlocal shrink
        if not shrink or istate[K.I_ACTIVE] == n:
            stall.update(best=np.inf, chunks=0)
            return
        if gap < 0.5 * stall["best"]:
            stall.update(best=gap, chunks=0)
            return
        stall["chunks"] += 1
        if stall["chunks"] >= SHRUNK_STALL_CHUNKS:
            K.reconstruct_gradient(n, data, kern, cache, state, status, istate)
            istate[K.I_ACTIVE] = n
            shrink = False
            if log is not None:
                log(
                    f"[SMO] iter {istate[K.I_ITER]:>8d}  shrunk gap stalled: unshrunk, no more shrinking"
                )

    recorder.record(fstate[K.F_OBJECTIVE], np.inf)
    refinements = 0
    while True:
        code = _run_chunks(
            run, istate, fstate, max_iter, log, recorder, data, state, status,
            after_chunk=unshrink_on_stall if loss != "logistic" else None,
        )  # fmt: skip
        if code == K.UNBOUNDED:
            raise unbounded_error()
        if loss != "logistic":
            K.reconstruct_gradient(n, data, kern, cache, state, status, istate)
            istate[K.I_ACTIVE] = n
        exact = False  # whether F is the float64 gradient at the final alpha
        # The logistic dual's gradient is always checked: its error grows with the path of alpha
        # (every update adds a float32 row times the step), not with the final alpha that
        # needs_float64_check reads. With every variable free and no reconstruction at the end,
        # wine at C = 1000 (linear kernel) stopped at a gap m - M below tol=1e-3 whose float64
        # value left margin residuals of 2.1e-3.
        # After a refinement the check is made whatever alpha is: a run restarted from the
        # float64 gradient can end at alpha = 0 (no rounding estimate) on a kept gradient that
        # drifted (a constant column of 1e4: kept gap -3.9, true gap 2, converged_ at alpha = 0).
        check = (
            loss == "logistic" or refinements > 0 or needs_float64_check(tol, alpha, X, spec, data)
        )
        # A stall (no step the kept float32 gradient allows) is refined too: the logistic dual at
        # tol=1e-12 stalled at a true gap of 1e-6 that the float64 gradient then took to 1e-12.
        if code not in (K.CONVERGED, K.STALLED) or not check:
            break
        # The float32 cache's rounding may matter at this tol: the gap of the float64 gradient
        # decides, and SMO goes on from that gradient when it is not below tol.
        F_exact = float64_gradient(X, spec, data, alpha, loss, extra, upper)
        gap = violations(F_exact, pen_up, pen_low)[0]
        fstate[K.F_GAP] = gap
        F[:] = F_exact  # the bias, objective and primal value below come from it too
        exact = True
        # the objective too: the one kept step by step follows the float32 rows (the trace's
        # last entry is then objective_, and the run goes on from the true value)
        fstate[K.F_OBJECTIVE] = (
            _logistic_objective(alpha, y_float * F, upper)
            if loss == "logistic"
            else hinge_objective(alpha, F, y_float)
        )
        if log is not None:
            log(
                f"[SMO] iter {istate[K.I_ITER]:>8d}  gap {gap:.3e}  "
                f"dual objective {fstate[K.F_OBJECTIVE]:.8e}  (float64 gradient)"
            )
        if recorder.stopped:  # the hook asked to stop at the chunk that converged: no new record
            code = K.CONVERGED if gap < tol else K.RUNNING
            break
        iterate = None if hook is None else current_iterate(data, state, status, istate)
        stop = recorder.record(fstate[K.F_OBJECTIVE], gap, iterate)
        if gap < tol:
            code = K.CONVERGED
            break
        if stop:
            code = K.RUNNING
            break
        if refinements == MAX_REFINEMENTS:
            code = PRECISION
            break
        refinements += 1
        shrink = False  # the shrunk gradient would be rebuilt from F_bar, in float32 precision
    check_unbounded_direction(loss, fstate[K.F_OBJECTIVE], X, spec, data, alpha, extra)
    F_exact = F
    kept_gap = None  # the kept gradient's gap at the final alpha, where the float64 one replaces it
    if code != K.CONVERGED and not exact and math.isfinite(fstate[K.F_OBJECTIVE]):
        # (at the final alpha: the gap SMO last recorded is the one before its last step, which
        # differs from the final one in any run, drift or not: a review)
        kept_gap = float(violations(F, pen_up, pen_low)[0])
        # An unconverged run's objective, gap and primal value come from the float64 gradient at
        # its alpha, not from the kept one (_dual.unconverged_gradient); its bias stays F's (the
        # model a hook was shown at that point).
        F_exact, gap = unconverged_gradient(
            X, spec, data, alpha, loss, extra, upper, pen_up, pen_low
        )
        fstate[K.F_GAP] = gap
        if gap < tol and not recorder.stopped:
            # the kept gradient's gap was not below tol, but this one, the true gap at alpha, is:
            # converged, and the bias too comes from it, as after the float64 check above
            code = K.CONVERGED
            F[:] = F_exact
    converged = code == K.CONVERGED
    message = None
    # a run in which no shrink set a variable aside (stopped before the first shrink, or
    # restarted without shrinking from the float64 gradient) is the run shrinking=False makes
    shrank = bool(istate[K.I_SHRANK])

    C = upper if loss != "squared_hinge" else 0.5 / extra  # the C_i (squared hinge: upper is inf)
    if loss == "logistic":
        objective = _logistic_objective(alpha, y_float * F_exact, upper)
        # Free: strictly inside the saturation box of the logistic dual (almost every variable).
        status[alpha <= K.LOGISTIC_EPS * upper] = K.LOWER
        status[alpha >= (1 - K.LOGISTIC_EPS) * upper] = K.UPPER
        rho = float(K.rho_from_gradient(F, status, y_float))
        # K (y alpha) on the training points, from the final gradient (no kernel evaluation
        # beyond the float64 pass of an unconverged run)
        k_alpha_y = F_exact - y_float * logistic_link(alpha, upper)
        primal = primal_objective(loss, alpha, y_float, C, k_alpha_y, rho)
        if converged:
            converged, message = _check_saturation(
                X, spec, data, alpha, upper, y_float, k_alpha_y, rho, primal, objective, tol
            )
    else:
        objective, rho, primal = hinge_finish(
            loss, alpha, F, y_float, status, C, extra, exact=F_exact
        )
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
        message=message
        or stop_message(  # advice on shrinking once it has run (the logistic dual never shrinks)
            code, recorder.stopped, fstate[K.F_GAP], tol, max_iter, shrank, kept_gap
        ),
    )


def _check_saturation(X, spec, data, alpha, upper, y, k_alpha_y, rho, primal, objective, tol):
    """``(converged, message)`` of a converged logistic run, judged as
    :func:`~mlbasics.optimality.check_kkt` judges its gap: at the better of ``alpha`` and the
    point where the variables the saturation box holds are released
    (:func:`~mlbasics.optimality._svm.released_logistic`), relative to
    :func:`~mlbasics.optimality._svm.gap_scale`. Releasing moves ``alpha`` by ``excess`` in sum
    and balancing by as much again, so ``||f - f_released||^2 / 2 <= 2 excess^2 max|K|``: below
    ``tol`` times the scale the box cannot matter and the kernel pass is skipped."""
    released, _ = released_logistic(y, alpha, upper, y * (k_alpha_y - rho))
    excess = float(np.abs(alpha - released).sum())
    scale = gap_scale("logistic", upper, primal)
    if 2.0 * excess * excess * kernel_bound(X, spec, data) <= tol * scale:
        return True, None
    quadratic = float((y * released) @ kernel_times(X, spec, data, released))
    dual = max(
        dual_value("logistic", objective, upper), logistic_dual_at(released, upper, quadratic)
    )
    gap = primal - dual
    if gap <= tol * scale:
        return True, None
    return False, (
        f"the logistic dual keeps every alpha_i in [{K.LOGISTIC_EPS:g} C_i, "
        f"(1 - {K.LOGISTIC_EPS:g}) C_i], where float64 still resolves the margins, and with C far "
        f"above the solution's scale (C_i up to {float(upper.max()):.3g}) those bounds change the "
        f"model: the duality gap, with the variables held there released, is {gap / primal:.3g} "
        f"of the objective, above tol={tol}. Lower C: the optimal alpha_i / C_i must stay well "
        f"above {K.LOGISTIC_EPS:g}."
    )


def _run_chunks(run, istate, fstate, max_iter, log, recorder, data, state, status,
                after_chunk=None):  # fmt: skip
    """Run the compiled iterations ``run(stop)`` by chunks of :data:`~mlbasics.svm._dual.CHUNK`
    until they return something other than RUNNING, ``max_iter`` is reached, the hook asks to stop
    or the objective overflows; record the trace and ``log`` a line after each chunk, and call
    ``after_chunk(gap)`` before the next one. Returns the last code, STALLED when a run on every
    variable made no progress for :data:`STALL_CHUNKS` chunks (see there)."""
    alpha = state[0]
    start = None  # (alpha, gap) at the start of the stall window, ``chunks`` chunks ago
    chunks = 0
    while True:
        stop = min(istate[K.I_ITER] + CHUNK, max_iter)
        code = run(stop)
        if log is not None:
            log(
                f"[SMO] iter {istate[K.I_ITER]:>8d}  gap {fstate[K.F_GAP]:.3e}  "
                f"dual objective {fstate[K.F_OBJECTIVE]:.8e}"
            )
        iterate = None if recorder.hook is None else current_iterate(data, state, status, istate)
        stop = recorder.record(fstate[K.F_OBJECTIVE], fstate[K.F_GAP], iterate)
        if code != K.RUNNING or istate[K.I_ITER] >= max_iter or stop:
            return code
        if not math.isfinite(fstate[K.F_OBJECTIVE]):
            return code  # overflowed: no later iteration repairs it (the caller reports it)
        if after_chunk is not None:
            after_chunk(fstate[K.F_GAP])
        if istate[K.I_ACTIVE] < alpha.shape[0]:  # (shrunk: after_chunk watches that run)
            start = None
            continue
        if start is not None and chunks == STALL_CHUNKS:
            moved = float(np.abs(alpha - start[0]).max(initial=0.0))
            largest = float(np.abs(alpha).max(initial=0.0))
            if moved <= STALL_MOVE_RTOL * largest and not fstate[K.F_GAP] < 0.5 * start[1]:
                return K.STALLED
            start = None
        if start is None:
            start, chunks = (alpha.copy(), fstate[K.F_GAP]), 0
        chunks += 1


def _logistic_objective(alpha, G, upper) -> float:
    """``1/2 a'Qa + sum a log a + (C - a) log(C - a)`` from the gradient ``Qa + log(a / (C - a))``."""
    return float(0.5 * alpha @ (G - logistic_link(alpha, upper))) + logistic_entropy(alpha, upper)
