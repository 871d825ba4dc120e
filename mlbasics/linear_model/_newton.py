"""Second-order solvers for the logistic objective of ``_objective.py``.

Three solvers, each a plain function ``solver(objective, coef0, *, tol, max_iter, ...) -> SolverResult``
(``hook`` for the estimator's callbacks; ``inner`` picks Newton's direction, ``recorder`` lets
L-BFGS continue another solver's trace):

* :func:`newton_smooth` -- Newton's method for the smooth (L2 or unpenalised) objective, with the
  direction from a Cholesky solve of the full Hessian (``inner="cholesky"``, small ``n_outputs * n_dof``)
  or from preconditioned conjugate gradients on Hessian-vector products (``inner="cg"``, truncated
  Newton: the Hessian is never formed, and sparse ``A`` is never densified).
* :func:`prox_newton` -- proximal Newton for L1 and elastic net (newGLMNET style): a quadratic model of
  the smooth part minimised by coordinate descent with soft-thresholding over an active set, then a line
  search on the composite objective.
* :func:`lbfgs` -- quasi-Newton through :func:`scipy.optimize.minimize` (L-BFGS-B), for comparison.

The Newton solvers follow one template (:func:`newton_smooth` is the plainest):

    setup -> ( direction -> line search -> gradient at the new point -> record -> stopping rule )*

Their stopping rules share a unit, not a formula: ``tol`` is per unit of ``scale = sum_i c_i``
(what it means in scikit-learn, whose objective is divided by the number of samples). Newton
tests the largest gradient entry and the Newton decrement, L-BFGS its projected gradient and the
Jacobi (and, unpenalised, CG) decrement, proximal Newton the L1 optimality with ``tol`` capped by
the L1 strength (:func:`~mlbasics.optimality._logistic.l1_capped_tol`). Each confirms a stop by
the certificate's duality gap (with a penalty): always, except Newton with its exact (Cholesky)
decrement where ``F`` is at least :data:`GAP_TEST_BELOW` ``scale``. Without a penalty, where
there is no gap, Newton-CG and L-BFGS confirm it by the certificate's Newton decrement
(:func:`_certified_decrement_passes`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg
import scipy.optimize
from scipy import sparse

from .._result import STOPPED_BY_HOOK, SolverResult, TraceRecorder
from .._threads import one_blas_thread, scipy_blas_on_one_thread, serial_dot
from ..optimality._logistic import (
    KnownDecrement,
    decrement_tol,
    gap_floor,
    gap_within_tol,
    l1_capped_tol,
    model_decrement,
    residual_rounding,
    unpenalised_decrement,
)
from ._cd_kernels import (
    cd_binary_csc_centered,
    cd_model_csc,
    cd_model_dense,
    cd_model_gram,
    cd_multinomial_csc_centered,
)
from ._objective import LogisticObjective

# Armijo's sufficient-decrease constant and the number of step halvings before giving up.
ARMIJO_SIGMA = 1e-4
MAX_HALVINGS = 40
# Truncated Newton: at most this many CG iterations per Newton step; the preconditioner is
# (1 - PRECOND_ALPHA) I + PRECOND_ALPHA diag(H) (Hsia, Chiang and Lin 2018, used by liblinear)
# with the L2 penalty, whose I it is, and diag(H) without, with diag(H) approximated by
# averaging the curvature over samples (no pass over X per step).
MAX_CG_ITER = 250
# The stopping rule's check of the decrement runs CG to this relative change of its quadratic
# model (Nash and Sofer 1990; see _newton_direction_cg).
CG_DECREMENT_RTOL = 1e-3
PRECOND_ALPHA = 0.01
# Without a penalty, CG stops at a direction whose curvature is below CG_NULL_CURVATURE of its
# size in the Jacobi preconditioner's metric: the Hessian's null space (columns that are exact
# linear combinations of others and the intercept), where curvature and gradient are rounding
# noise and their ratio a step of any size. No cut separates those from real, nearly flat
# directions (see _newton_direction_cg).
CG_NULL_CURVATURE = 1e-20
# Proximal Newton: inner coordinate descent stops when the model's optimality falls below
# INNER_TOL_FACTOR times the outer one, or after a budget of passes over the active set: first
# MAX_INNER_PASSES, doubled after every outer iteration that used it up, to at most
# INNER_PASSES_LIMIT. (A fixed 100 cut 94% of the inner solves on standardised breast cancer at
# C = 1e3 and 1e4, and the fit ended 1.48 and 7.2 times above the cvxpy optimum after max_iter=100
# iterations, 1.03 and 1.96 after 1000: a review; the doubling budget converges in 24 to 40.)
# The budget is also held to INNER_WORK_LIMIT multiply-adds per outer iteration (stored entries
# of the active columns times passes: about a second of the compiled loop), so that a large
# problem keeps the outer iterations coming.
INNER_TOL_FACTOR = 0.1
MAX_INNER_PASSES = 100
INNER_PASSES_LIMIT = 100 * 2**10
INNER_WORK_LIMIT = 1e9
# Binary dense problems switch to coordinate descent on the Gram matrix of the active set (at
# most GRAM_MAX_ACTIVE columns) when it is cheaper; GRAM_SPEEDUP is the measured speed ratio of a
# BLAS matrix product to the compiled per-coordinate loop, per operation.
GRAM_MAX_ACTIVE = 2000
GRAM_SPEEDUP = 10.0
FIRST_GUESS_PASSES = 5
# Dense X: coordinate descent that has not met the inner tolerance after SUPPORT_NEWTON_EVERY
# passes alternates with Newton steps on the support of its solution, the signs held
# (_support_newton), once such a step costs at most what the passes since the last one did
# (until then the passes go on, as they would without it); at most
# SUPPORT_NEWTON_ROUNDS orthant clips per step. Coordinate descent moves one coefficient at a
# time, and where the model couples them strongly (uncentred columns without an intercept share
# a large offset) each move is tiny: 110 x 29, 10 classes, C = 80.8, columns of means up to 100
# ran 100 outer iterations (199 s) and stopped 2e-5 above the optimum; with these steps it
# converges in 23 (0.8 s; a review).
SUPPORT_NEWTON_EVERY = 100
SUPPORT_NEWTON_ROUNDS = 50
# Proximal Newton's step along the null space of the (centred, weighted) features: computed once
# the inner coordinate descent runs out of passes, for dense X of at most NULL_SPACE_MAX_FEATURES
# columns and n p^2 at most NULL_SPACE_MAX_WORK (the Gram matrix: about 1 s on two cores); an
# eigenvalue of the weighted Gram matrix below NULL_SPACE_RTOL of the largest is null.
NULL_SPACE_MAX_FEATURES = 2000
NULL_SPACE_MAX_WORK = 1e10
# ... only with more samples of positive weight than features (with fewer the null space is
# that of every p > n problem, where L1 picks a support and coordinate descent is the method),
# of dimension r with NULL_SPACE_ADMM_ITER K p r at most NULL_SPACE_MAX_STEP_WORK, and given up
# after NULL_SPACE_MAX_REJECTED steps that did not lower the objective.
NULL_SPACE_MAX_STEP_WORK = 1e9
NULL_SPACE_MAX_REJECTED = 2
NULL_SPACE_RTOL = 1e-13
NULL_SPACE_ADMM_ITER = 2000
# The message of a proximal Newton run that met both tests of its stopping rule.
CONVERGED_L1 = "subgradient optimality and duality gap below tol"
# A run stops after STALL_LIMIT steps that change the objective only within rounding noise.
STALL_LIMIT = 3
# Newton-Cholesky (L2) confirms its stop by the duality gap when F < GAP_TEST_BELOW * scale;
# Newton-CG and L-BFGS always (their decrements are estimates: _gap_confirms).
GAP_TEST_BELOW = 0.1


def _line_search(obj: LogisticObjective, coef, Z, D, Zd, F0, slope):
    """Backtracking (Armijo) on ``F(coef + t D)``; ``slope`` is the predicted decrease per unit t.

    Each trial costs O(n_samples * n_outputs) since the scores of the direction ``Zd`` are known.
    A trial is also accepted when its change is below rounding noise of ``F0``: the direction
    can then not do better in floating point. Returns ``(coef, Z, F, in_noise)`` (``in_noise``:
    the objective decreased by no more than its rounding noise) or ``None``.
    """
    noise = 64 * np.finfo(float).eps * abs(F0)
    t = 1.0
    for _ in range(MAX_HALVINGS):
        new_coef = coef + t * D
        new_Z = Z + t * Zd
        F = obj.value(new_coef, new_Z)
        if F <= F0 + ARMIJO_SIGMA * t * slope:
            # (once sigma t slope is below F0's last digit this is F <= F0: a step that leaves
            # F unchanged passes Armijo's test, but it is a step within the noise all the same)
            return new_coef, new_Z, F, F0 - F <= noise
        if F <= F0 + noise and -slope * t <= noise:
            return new_coef, new_Z, F, True
        t *= 0.5
    return None


class _StallGuard:
    """Stops a run whose steps are accepted only within rounding noise without improving the
    optimality measure: ``tol`` is then below what float64 resolves (e.g. ``tol=0``)."""

    def __init__(self):
        self.best, self.count = np.inf, 0

    def stalled(self, in_noise, optimality):
        if in_noise and optimality >= self.best:
            self.count += 1
        else:
            self.count = 0
        self.best = min(self.best, optimality)
        return self.count >= STALL_LIMIT


ROUNDING_FLOOR = "reached the rounding floor: the objective no longer changes in float64"


def _softmax_if_multinomial(obj: LogisticObjective, Z):
    """The probabilities the smooth solvers' formulas take: the multinomial's (its residuals and
    Hessian products); ``None`` for one output, whose residuals and curvatures are sigmoids of
    the scores (:meth:`.LogisticObjective.residuals`, :meth:`.LogisticObjective.curvature`), so
    that no unused pass over the samples is made."""
    return obj.probabilities(Z) if obj.multinomial else None


CERTIFIED_AT_THE_FLOOR = (
    "gradient below tol, the objective at its rounding floor, and the duality gap below tol "
    "with dual points from damped Newton iterations"
)


def _certified_at_the_floor(obj: LogisticObjective, coef, opt, tol) -> bool:
    """Where a smooth L2 solver's objective no longer decreases in float64 (Newton's stall,
    L-BFGS's end) with the gradient rule met but the gap unconfirmed, whether the certificate
    with ``check_kkt(refine="auto")``'s refinement, damped Newton dual points included, passes
    the gap: the checker's verdict, so that the two agree. At a huge ``C`` (a sparse 3-class
    problem at ``C = 1e25``, fits 1e-14 from the optimum) the solvers' own ten-step refinement
    could not close the gap, and optimal fits ended ``converged_`` False while check_kkt passed
    them (a review). One such certificate per fit at most: its cost (up to 20 Newton systems)
    is paid only where the run would otherwise end unconverged."""
    if obj.penalty.l1 != 0.0 or obj.penalty.l2 == 0.0 or not opt <= tol * obj.scale:
        return False
    return _gap_within_tol(obj, coef, tol, damped=True)


def _newton_direction_cholesky(obj: LogisticObjective, Z, P, G):
    """Solve ``H D = -G`` with the full Hessian (Cholesky; eigen-decomposition if it fails)."""
    H = obj.hessian(P, obj.curvature(Z, P))
    if obj.multinomial:
        # Lift the flat directions of the softmax (see LogisticObjective.remove_class_mean) so
        # that H is positive definite; the gradient is orthogonal to them: same solution.
        # Each column is lifted by its own curvature: one lift for all (the mean of diag H) was
        # 2e11 beside a column scaled by 1e-6 (curvature 4e-12), whose Newton direction it
        # erased, and the decrement then passed the stopping rule 1% above the optimum.
        K, n_dof = obj.shape
        flat = ~obj.penalized if obj.penalty.l2 > 0.0 else np.ones(n_dof, dtype=bool)
        diagonal = np.diag(H).copy()
        fallback = max(float(np.mean(diagonal)), np.finfo(float).tiny)
        for j in np.flatnonzero(flat):
            idx = np.arange(K) * n_dof + j
            own = float(np.mean(diagonal[idx]))
            H[np.ix_(idx, idx)] += (own if own > 0.0 else fallback) / K
    g = G.ravel()
    step = np.zeros_like(g)
    keep = slice(None)
    if obj.penalty.l2 == 0.0:
        # Without a penalty a column that is constant (with an intercept) or zero is flat
        # exactly: its coefficient stays where it is, and the gradient's part along it is
        # rounding noise (which divided by a floor stepped by 2e4 along a constant column, moved
        # into the intercept as -6e10: the run never met tol). Curvature that is merely small (a
        # feature in units of 1e-8: 1e-16 of the intercept's) is real: dropped as if flat, it
        # stopped fits at twice the optimum.
        flat = _redundant_columns(obj)
        if flat.any():
            keep = ~np.broadcast_to(flat, obj.shape).ravel()
            H = H[np.ix_(keep, keep)]
    try:
        step[keep] = _cholesky_solve(H, -g[keep])
    except np.linalg.LinAlgError:
        step[keep] = _equilibrated_eigen_step(H, g[keep])
    return step.reshape(obj.shape)


def _equilibrated_eigen_step(H, g):
    """``-H^-1 g`` for a singular ``H`` (separable data, nearly collinear features), with ``H``
    equilibrated by its diagonal and its small eigenvalues floored at ``n eps`` times the
    largest. Equilibrated, a column of tiny units (curvature 1e-16 of the intercept's) is of unit
    scale and keeps its step (dropped, fits stopped at twice the optimum), and the rounding noise
    of a dependent direction, of order eps there, makes a step of order 1, not 1e4 (floored on
    the raw Hessian, a constant column's noise made a step of 2e4). Exactly redundant columns
    are left out before (:func:`_redundant_columns`); nearly collinear real ones keep a damped
    step along their difference (dropped, 73% above the optimum at a difference of 3e-8)."""
    d = np.sqrt(np.maximum(np.diag(H), np.finfo(float).tiny))
    with scipy_blas_on_one_thread():
        evals, evecs = scipy.linalg.eigh(H / np.outer(d, d), check_finite=False)
    floor = np.finfo(float).eps * H.shape[0] * max(evals.max(), 1.0)
    return -(evecs @ ((evecs.T @ (g / d)) / np.maximum(evals, floor))) / d


def _cholesky_solve(H, b):
    with scipy_blas_on_one_thread():
        factor = scipy.linalg.cho_factor(H, check_finite=False)
        return scipy.linalg.cho_solve(factor, b, check_finite=False)


def _flat_columns(obj: LogisticObjective):
    """Which coefficients of the layout are flat without a penalty: those of
    :attr:`.LogisticObjective.flat_columns`, never the intercept."""
    flat = obj.flat_columns
    return np.append(flat, False) if obj.fit_intercept else flat


def _redundant_columns(obj: LogisticObjective):
    """:func:`_flat_columns`, and (dense ``X``) the columns equal to an earlier one on the samples
    of positive weight (with an intercept: up to a constant). Without a penalty the objective is
    flat along the difference of two such coefficients; Cholesky may still succeed on their
    singular Hessian, with a pivot of rounding size (2e-16 to 4e-16 of its diagonal entry), and
    its solve stepped by 8e8 along the difference (two equal columns near 1.7e9: coefficients of
    +-3.8e6, the objective 30% above the optimum). No threshold on the pivot separates that from
    real, nearly collinear columns (a difference of 3e-8 of their scale has a pivot of 1e-15)."""
    redundant = _flat_columns(obj).copy()
    redundant[: obj.n_features] |= obj.duplicate_columns
    return redundant


def _newton_direction_cg(obj: LogisticObjective, Z, P, G, scale, *, decrement=False):
    """Truncated Newton: preconditioned CG on ``H D = -G`` with Hessian-vector products only.
    Returns the direction and the number of Hessian-vector products it took.

    CG stops when the residual falls below ``eta * ||G||`` with the forcing term
    ``eta = min(0.5, sqrt(||G|| / scale))``, which gives superlinear convergence of the outer loop
    (Eisenstat and Walker 1996) while keeping early steps cheap.

    A small residual is not a small error when the Hessian is badly scaled: along a feature in
    units of 1e-4 the curvature is 1e-8 times the intercept's, the gradient there is tiny, and a
    direction that ignores it meets the residual test while its decrement ``-<G, D>/2`` (the
    stopping rule's estimate of ``F - F*``) misses most of ``F - F*`` (0.0024 against 0.93, a fit
    stopped 2% above the optimum). ``decrement=True`` (the stopping rule's check) stops instead
    on the quadratic model ``q(D) = <G, D> + <D, H D>/2`` itself, the rule of Nash and Sofer
    (1990): when ``i (q_(i-1) - q_i) <= CG_DECREMENT_RTOL |q_i|`` at CG iteration ``i``, so
    ``-q ~ -<G, D>/2`` is the decrement to a few digits on badly scaled features. (Not on every
    ill-conditioned Hessian: beside correlated columns the model's progress stalled and the
    rule gave 0.34 for an exact 2041; the duality gap backs it, :func:`_gap_confirms`.)

    Without a penalty, columns that are exact linear combinations of others (and of the
    intercept) leave ``H`` a null space that rounding fills with curvatures and gradients of
    noise: CG's step along it, one divided by the other, took three collinear columns shifted by
    1e3 (``make_classification``'s redundant features) to coefficients of 3e10 at ``tol=1e-10``,
    whose scores lost their digits (an objective 1.3e-3 off the stored model's, 4% of the
    predictions changed by a relative perturbation of 1e-15 of X, ``converged_`` for a model
    that failed ``check_kkt``). The curvatures CG met there were 1e-26 to 3e-21 of the
    directions' size in the preconditioner's metric; real, nearly flat directions measured 2e-13
    for two columns that differ by 1e-6 of their scale, 2e-16 at 3e-8, 5e-19 at 1e-9 and 5e-21
    at 1e-10, and redundant columns shifted by 1e5 to 1e6 left null directions of 2e-20 to 4e-19
    (two reviews): no cut separates them. CG stops at a direction below
    :data:`CG_NULL_CURVATURE` (1e-20), as the certificate's decrement does
    (``DECREMENT_NULL_CURVATURE``), a compromise: the collinear fit above ends at
    Newton-Cholesky's objective (to 1e-11), the columns that differ by 1e-6 at their optimum;
    columns shifted by 1e5 still walk to coefficients of 1e7, and columns within 1e-10 of each
    other stop short. Without a penalty ``fit`` also reads the stored model's Newton decrement
    from ``check_kkt``'s report (``LogisticRegression._unconverged_by_the_certificate``).

    CG runs on ``H / scale`` and ``G / scale``, which have the same solution, with the
    preconditioner ``M / scale`` (which gives the same iterates as ``M``): its inner products
    square the residuals, which overflowed for ``C`` near 1e200 on ``G`` itself. (At ``C`` near
    1e-300 the Hessian products underflow before the division, and the run still fails.)
    """
    h = obj.curvature(Z, P)  # once per step: the preconditioner and (one output) the products
    diagonal = obj.approximate_hessian_diagonal(Z, h)
    if obj.penalty.l2:
        M = (1.0 - PRECOND_ALPHA) + PRECOND_ALPHA * diagonal
    else:  # no identity in H to mix with: Jacobi, whose iterates do not depend on the units
        M = np.where(diagonal > 0.0, diagonal, 1.0)
    M /= scale
    G = G / scale
    # Without a penalty a flat column (constant on the samples of positive weight) has a
    # curvature and a gradient of rounding noise: CG's steps divided one by the other (a
    # constant column's coefficient reached 1e9 to 1e18, objective_ below the optimum). Its
    # components stay 0, as the Cholesky direction leaves them out (_redundant_columns).
    frozen = np.flatnonzero(_flat_columns(obj)) if not obj.penalty.l2 else []
    null_curvature = 0.0 if obj.penalty.l2 else CG_NULL_CURVATURE
    G[:, frozen] = 0.0
    gnorm = np.sqrt(serial_dot(G, G))
    target = min(0.5, np.sqrt(gnorm)) * gnorm
    D = np.zeros_like(G)
    R = -G
    Zp = R / M
    Pdir = Zp.copy()
    rz = serial_dot(R, Zp)
    q = 0.0  # the quadratic model at D: <G, D> + <D, H D>/2 = (<G, D> - <R, D>) / 2
    products = 0
    for i in range(1, min(MAX_CG_ITER, G.size) + 1):
        Hp = obj.hessp(P, h, Pdir) / scale
        products = i
        if len(frozen):
            Hp[:, frozen] = 0.0
        curvature = serial_dot(Pdir, Hp)
        if curvature <= null_curvature * serial_dot(Pdir * M, Pdir):  # (0 with a penalty)
            break
        step = rz / curvature
        D += step * Pdir
        R -= step * Hp
        if decrement:
            q, previous = 0.5 * (serial_dot(G, D) - serial_dot(R, D)), q
            if i * (previous - q) <= CG_DECREMENT_RTOL * abs(q):
                break
        elif np.sqrt(serial_dot(R, R)) <= target:
            break
        Zp = R / M
        rz_new = serial_dot(R, Zp)
        Pdir = Zp + (rz_new / rz) * Pdir
        rz = rz_new
    if not np.any(D):
        D = -G / M
    return D, products  # the same direction for H and G: its length is scale-free


def cholesky_step_cost(n_samples, n_coef) -> float:
    """Multiply-adds of a Cholesky Newton step: form the Hessian (``n m^2 / 2``), factor it
    (``m^3 / 3``), for ``m`` coefficients."""
    return n_samples * n_coef * n_coef / 2 + n_coef**3 / 3


def hessian_product_cost(n_samples, n_coef) -> float:
    """Multiply-adds of one Hessian-vector product (two passes over the design): ``2 n m``."""
    return 2 * n_samples * n_coef


def newton_smooth(
    obj: LogisticObjective, coef0, *, tol, max_iter, inner="cholesky", switch=False, hook=None
) -> SolverResult:
    """Damped Newton's method for the smooth objective (L2 or no penalty).

    Call order: setup (scores, gradient) -> for each iteration: direction (``inner``), Armijo line
    search, gradient at the new point, record, stopping rule. Stops when the largest gradient entry
    is below ``tol * scale`` and half the squared Newton decrement ``-<G, D>/2`` (the predicted
    decrease, an estimate of ``F - F*`` near the optimum) below ``tol * min(scale, F)`` with the
    L2 penalty (``tol * scale`` without): the certificate judges the L2 gap in the same units
    (:func:`~mlbasics.optimality._logistic.gap_scale`). At a large ``C`` on separable data, where
    ``F*`` is far below ``scale``, ``tol * scale`` for both passed points at 27 times the optimal
    objective. There (``F`` below :data:`GAP_TEST_BELOW` ``scale``) the decrement alone still
    passed points 4e-4 to 1.3e-3 above the optimum at ``tol=1e-4`` (inexact Newton-CG steps,
    sparse problems at ``C`` 1e6 to 1e10), so the certificate's duality gap must pass too
    (:func:`~mlbasics.optimality._logistic.gap_within_tol`), as in L-BFGS; with Newton-CG, whose
    decrement is an estimate, at any ``F`` (:func:`_gap_confirms`). If the line search
    fails, the run continues with L-BFGS from the current point instead of looping.

    ``switch`` (``inner="cg"``, dense ``X``): once a CG direction has taken more Hessian-vector
    products than a Cholesky step costs (:func:`cholesky_step_cost`), the run continues with
    the Cholesky direction. ``solver="newton"`` picks CG expecting a few products per step;
    badly scaled columns can need up to :data:`MAX_CG_ITER` per step and a hundred steps (110
    samples of 29 columns of scales 0.3 to 220, ten classes, no intercept: ``max_iter`` reached
    with the gap at 0.99, where Cholesky needs 11 iterations). The result's ``method`` then
    names the direction of the last steps.
    """
    if obj.penalty.l1 != 0.0:
        raise ValueError("newton_smooth handles L2 or no penalty; use prox_newton for L1 terms.")
    if inner not in ("cholesky", "cg"):
        raise ValueError(f"inner must be 'cholesky' or 'cg', got {inner!r}.")
    if inner == "cholesky" and sparse.issparse(obj.X):
        raise ValueError("The Cholesky direction needs a dense design matrix; use inner='cg'.")
    rec = TraceRecorder(hook)
    tol_abs = tol * obj.scale
    cholesky_after = None  # the products of one CG direction beyond which to switch
    if switch and inner == "cg" and not sparse.issparse(obj.X):
        m = obj.n_outputs * obj.n_dof
        n = obj.n_samples
        cholesky_after = cholesky_step_cost(n, m) / hessian_product_cost(n, m)
    coef = obj.remove_class_mean(np.array(coef0, dtype=float))
    Z = obj.scores(coef)
    F = obj.value(coef, Z)
    P = _softmax_if_multinomial(obj, Z)
    G = obj.smooth_gradient(coef, Z, P)
    opt = obj.optimality(coef, G)
    rec.record(F, opt, coef)
    converged, message, n_iter = False, f"reached max_iter={max_iter}", 0
    guard = _StallGuard()

    checked = None  # a direction computed by the stopping rule's check (CG), not yet taken
    while n_iter < max_iter:
        if checked is not None:
            D, checked = checked, None
        elif inner == "cholesky":
            D = _newton_direction_cholesky(obj, Z, P, G)
        else:
            D, products = _newton_direction_cg(obj, Z, P, G, obj.scale)
            if cholesky_after is not None and products > cholesky_after:
                inner = "cholesky"  # (from the next step on)
        D = obj.remove_class_mean(D)
        slope = serial_dot(G, D)
        if slope >= 0.0:  # rounding has destroyed the direction: use steepest descent
            D, slope = -G, -serial_dot(G, G)
        small_decrement = -0.5 * slope <= tol * _decrement_unit(obj, F, tol)
        step = _line_search(obj, coef, Z, D, obj.scores(D), F, slope)
        if step is None:  # continue with L-BFGS from here, recording into the same trace
            fallback = lbfgs(obj, coef, tol=tol, max_iter=max_iter - n_iter, recorder=rec)
            return dataclasses.replace(
                fallback,
                n_iter=n_iter + fallback.n_iter,
                message="Newton line search failed; finished with L-BFGS: " + fallback.message,
                method="lbfgs",
            )
        coef, Z, F, in_noise = step
        n_iter += 1
        P = _softmax_if_multinomial(obj, Z)
        G = obj.smooth_gradient(coef, Z, P)
        opt = obj.optimality(coef, G)
        stop = rec.record(F, opt, coef)
        if opt <= tol_abs and small_decrement and inner == "cg":
            # CG's direction may have missed the flat directions of a badly scaled Hessian
            # (_newton_direction_cg). Where the Jacobi estimate of the decrement, with the
            # columns' own curvatures, does not pass, the decrement must hold here too, from a
            # direction whose decrement is accurate (more CG iterations: so only then).
            if not _jacobi_decrement_passes(obj, Z, P, G, F, tol):
                check, _ = _newton_direction_cg(obj, Z, P, G, obj.scale, decrement=True)
                check = obj.remove_class_mean(check)
                if -0.5 * serial_dot(G, check) > tol * _decrement_unit(obj, F, tol):
                    small_decrement, checked = False, check  # the next iteration takes it
        exact = inner == "cholesky"
        if opt <= tol_abs and small_decrement and _gap_confirms(obj, coef, F, tol, exact):
            converged, message = True, "gradient and Newton decrement below tol"
            break
        if stop:
            message = STOPPED_BY_HOOK
            break
        if guard.stalled(in_noise, opt):
            if _certified_at_the_floor(obj, coef, opt, tol):
                converged, message = True, CERTIFIED_AT_THE_FLOOR
            else:
                message = ROUNDING_FLOOR
            break
    method = "newton-cholesky" if cholesky_after is not None and inner == "cholesky" else ""
    return SolverResult(coef, n_iter, converged, F, opt, rec.freeze(), message, rec.stopped, method)


def lbfgs(
    obj: LogisticObjective, coef0, *, tol, max_iter, hook=None, recorder=None
) -> SolverResult:
    """L-BFGS-B from :mod:`scipy.optimize` on the smooth objective (not hand-written).

    scipy minimises ``F / scale`` (``scale = sum_i c_i``), so ``gtol`` is ``tol`` on its largest
    gradient entry: the same measure as the Newton solvers' ``tol * scale`` on ``F``. That is the
    gradient in the centred variables; the stopping rule is on the original problem's (see
    :meth:`.LogisticObjective.optimality`), at most ``1 + max |mu|`` times larger, so ``gtol`` is
    divided by that (a fit on features of mean 1e4 used to stop at 2e-2 on the original measure
    with ``tol=1e-4``, and warn). The division
    keeps the values near 1 whatever ``C`` and the weights are: on ``F`` itself, ``C = 1e200``
    made the first step overflow, and ``C = 1e-8`` stopped L-BFGS-B early, since its ``ftol`` rule
    compares decreases with ``max(|F|, 1)``. ``ftol`` is a few machine epsilons so that the
    gradient rule decides, and the run counts as converged only if that rule holds at the end.
    That floor of 1 makes the ``ftol`` rule absolute once ``F`` is far below ``scale``: on 12
    samples with ``C = 1000`` and badly scaled features (``F / scale = 1.6e-8``) it stopped at
    1.8 times the optimal ``F``. So a run that the ``ftol`` rule ended, short of the gradient rule,
    with ``F < scale / 2``, goes on from where it stopped with ``F`` itself as the unit (and
    ``gtol`` scaled to match); that run converged in 41 iterations in all. With the L2 penalty
    the gradient rule is confirmed by the certificate's duality gap
    (:func:`~mlbasics.optimality._logistic.gap_within_tol`; at a large ``C`` on separable data
    the gradient rule at ``tol * scale`` passed a point at 54 times the optimal objective, and
    beside correlated columns, with ``F`` at 0.6 ``scale``, one 6% above it): while the gap fails,
    L-BFGS-B goes on with ``gtol`` ten times tighter. The gradient rule is also confirmed by the
    Newton decrement
    (:func:`_decrement_passes`: its Jacobi estimate, one pass over the data, and without a
    penalty a CG direction's), in the same way: on features in units of 1e-4 it held at
    ``W = 0``, and an unpenalised fit stopped there, ``converged_`` at 38% above the optimum.
    ``recorder`` continues an existing trace (whose last record is ``coef0``), as when Newton
    falls back to L-BFGS.
    """
    if obj.penalty.l1 != 0.0:
        raise ValueError("L-BFGS needs a smooth objective; use prox_newton for L1 terms.")
    continuing = recorder is not None
    rec = recorder if continuing else TraceRecorder(hook)
    shape = obj.shape
    last = {}

    def fun(x):
        # The point just evaluated comes back twice per run (the start, recorded before scipy
        # evaluates it, and the end): two passes over X saved out of about 12.
        if "x" not in last or not np.array_equal(last["x"], x):
            coef = x.reshape(shape)
            Z = obj.scores(coef)
            P = _softmax_if_multinomial(obj, Z)
            last.update(
                x=x.copy(), F=obj.value(coef, Z), G=obj.smooth_gradient(coef, Z, P), Z=Z, P=P
            )
        return last["F"] / unit[0], last["G"].ravel() / unit[0]

    def record(x):
        fun(x)
        coef = x.reshape(shape)
        if rec.record(last["F"], obj.optimality(coef, last["G"]), coef):
            raise StopIteration  # scipy ends the run and returns this iterate

    # scipy tests the gradient it is given, the centred one; the stopping rule is on the original
    # problem's, G_w + mu G_b, at most (1 + max |mu|) times larger (LogisticObjective.optimality)
    spread = 1.0 + (float(np.abs(obj.mu).max(initial=0.0)) if obj.mu is not None else 0.0)
    unit = [obj.scale]  # scipy minimises F / unit[0]
    x0 = obj.remove_class_mean(np.array(coef0, dtype=float)).ravel()
    if not continuing:
        record(x0)
    if max_iter == 0:
        fun(x0)
        F, G = last["F"], last["G"]
        opt = obj.optimality(x0.reshape(shape), G)
        # no iteration asked for, none judged: converged is False (as for the other solvers)
        return SolverResult(x0.reshape(shape), 0, False, F, opt, rec.freeze(), "max_iter=0")
    n_iter, tighter, gap_failed = 0, 1.0, False
    while True:
        with scipy_blas_on_one_thread():  # its threads would compete with the products in fun
            res = scipy.optimize.minimize(
                fun,
                x0,
                jac=True,
                method="L-BFGS-B",
                callback=lambda intermediate_result: record(intermediate_result.x),
                options={
                    "maxiter": max_iter - n_iter,
                    "maxls": 50,  # scipy's default is 20; badly scaled starts need more
                    "gtol": tighter * tol * obj.scale / unit[0] / spread,
                    "ftol": 64 * np.finfo(float).eps,
                },
            )
        n_iter += int(res.nit)
        coef = res.x.reshape(shape)
        fun(res.x)
        F, G = last["F"], last["G"]
        opt = obj.optimality(coef, G)
        converged = opt <= tol * obj.scale
        if converged:  # (fun(res.x) above left the scores of coef in last)
            if not _decrement_passes(obj, last["Z"], last["P"], G, F, tol):
                unconfirmed = "the estimated Newton decrement"
            elif not _gap_confirms(obj, coef, F, tol):
                unconfirmed = (
                    "check_kkt's Newton decrement" if obj.penalty.is_zero else "the duality gap"
                )
            else:
                unconfirmed = None
        if converged and unconfirmed:
            # the gradient rule holds but the decrement (features of tiny units) or the gap (L2
            # at a large C: see gap_scale) does not: run on with a gradient tolerance ten times
            # tighter
            converged, tighter, gap_failed = False, tighter / 10.0, True
            # (twelve tightenings: gtol then far below any gradient float64 resolves)
            if rec.stopped or not res.success or n_iter >= max_iter or tighter < 1e-12:
                break
            if abs(F) < 0.5 * unit[0]:  # as below: scipy's ftol rule, absolute once F < unit
                unit[0] = max(abs(F), np.finfo(float).tiny)
            x0 = res.x
            continue
        gap_failed = False
        # scipy's success without the gradient rule is its ftol rule, whose decreases are
        # relative to max(|F| / unit, 1): absolute once F < unit. There, run on with F as unit.
        tiny = abs(F) < 0.5 * unit[0]
        if converged or rec.stopped or not res.success or not tiny or n_iter >= max_iter:
            break
        unit[0] = max(abs(F), np.finfo(float).tiny)
        x0 = res.x
    message = STOPPED_BY_HOOK if rec.stopped else str(res.message)
    if gap_failed and not rec.stopped:
        if unconfirmed == "the duality gap" and _certified_at_the_floor(obj, coef, opt, tol):
            converged, gap_failed = True, False
            message = f"{message}; {CERTIFIED_AT_THE_FLOOR}"
        else:
            message = f"{message}; the gradient rule holds, {unconfirmed} is above tol"
    return SolverResult(coef, n_iter, converged, F, opt, rec.freeze(), message, rec.stopped)


def _gram_is_cheaper(n_active, previous_passes):
    """Form the active Hessian (BLAS) instead of passing over the samples coordinate by coordinate?

    A pass of plain coordinate descent costs ``2 n m`` loop operations for ``m`` active
    coordinates; the Gram matrix costs ``n m^2 / 2`` BLAS operations, about GRAM_SPEEDUP times
    faster each, after which passes are ``O(m^2)``. Worth it when the passes expected (those of
    the previous outer iteration, or FIRST_GUESS_PASSES at the start) exceed
    ``m / (4 GRAM_SPEEDUP)``, and the matrix is not too large.
    """
    passes = previous_passes or FIRST_GUESS_PASSES
    return n_active <= GRAM_MAX_ACTIVE and passes > n_active / (4 * GRAM_SPEEDUP)


def _support_newton(W, D, G, penalized, l1, hess_times, hessian_block):
    """The inner solution ``D`` improved by Newton steps on its support, its signs held, or None.

    The model is ``q(V) = <G, V> + <V, H V> / 2 + l1 sum_pen |W + V|`` over a set of coordinates
    (flat vectors): ``hess_times(V)`` is ``H V``, ``hessian_block(idx)`` the dense block
    ``H[idx, idx]``. On the support ``S`` of ``U = W + D`` (with the unpenalised coordinates),
    the signs ``s`` of ``U`` held, the L1 term is linear and ``q`` a quadratic whose minimum is
    the Newton step ``delta = -H_SS^-1 (G + H D + l1 s)_S``. The full step projected onto the
    orthant of ``s`` (a coefficient that would change sign set to zero) is taken if it lowers
    ``q``; else the step up to the first change of sign, which lowers ``q`` (on that segment
    ``q`` is the quadratic, and ``delta`` points to its minimum). The coefficients set to zero
    leave the support and the step is repeated on the rest, at most SUPPORT_NEWTON_ROUNDS times
    (an active-set method). This is what coordinate descent lacks on a strongly coupled model:
    it solves the support's quadratic exactly, while the passes decide which coefficients are
    zero.
    """

    def model(V):
        U = W + V
        value = serial_dot(G, V) + 0.5 * serial_dot(V, hess_times(V))
        return value + l1 * float(np.abs(U[penalized]).sum())

    U = W + D
    support = np.flatnonzero((U != 0.0) | ~penalized)
    if not len(support):
        return None
    H_support = hessian_block(support)
    signs = np.where(penalized, np.sign(U), 0.0)[support]
    best = first = model(D)
    keep = np.ones(len(support), dtype=bool)  # the support's coefficients still nonzero
    for _ in range(SUPPORT_NEWTON_ROUNDS):
        idx = support[keep]
        s = signs[keep]
        H = H_support[np.ix_(keep, keep)]
        r = (G + hess_times(D))[idx] + l1 * s
        try:
            delta = _cholesky_solve(H, -r)
        except np.linalg.LinAlgError:
            delta = _equilibrated_eigen_step(H, r)
        u = W[idx] + D[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(s * delta < 0.0, -u / delta, np.inf)  # where the sign would change
        zeroed = ratio <= 1.0
        trial = D.copy()
        trial[idx] = np.where(zeroed, -W[idx], D[idx] + delta)  # the projected full step
        value = model(trial)
        if not value < best and zeroed.any():
            t = float(ratio.min())  # the step to the first change of sign
            zeroed = ratio <= t
            trial[idx] = np.where(zeroed, -W[idx], D[idx] + t * delta)
            value = model(trial)
        if not value < best:
            break
        D, best = trial, value
        if not zeroed.any():  # the orthant's minimum: done
            break
        keep[np.flatnonzero(keep)[zeroed]] = False
        if not keep.any():
            break
    return D if best < first else None


def _support_newton_affordable(n_support, build_cost, passes_cost):
    """Whether :func:`_support_newton` (its Hessian block, ``build_cost``, and a factor of it)
    costs at most what the passes since the last one did (``passes_cost``), in multiply-adds.
    Until it does, the passes go on."""
    return build_cost + n_support**3 / 3 <= passes_cost


def _alternate_with_support_steps(run_passes, support_step, max_passes):
    """Runs of at most SUPPORT_NEWTON_EVERY passes (``run_passes(chunk)`` -> passes made),
    each that misses the inner tolerance followed by ``support_step(since)``, which takes a
    Newton step on the support where it is affordable given the passes ``since`` the last one
    and says whether it did; until it does, the passes go on. Returns the passes made."""
    passes = since = 0
    while passes < max_passes:
        chunk = min(SUPPORT_NEWTON_EVERY, max_passes - passes)
        used = run_passes(chunk)
        passes += used
        since += used
        if used < chunk:  # the inner tolerance is met
            break
        with one_blas_thread():  # small products and factors (see mlbasics._threads)
            if support_step(since):
                since = 0
    return passes


def _cd_with_gram(obj: LogisticObjective, h, G, coef, active_j, tol, D, max_passes):
    """Binary dense case: coordinate descent through the Gram matrix of the active columns.

    The active columns of the centred design are gathered straight from ``X`` (no copy of the
    whole design), scaled by ``sqrt(h)``: ``H = B^T B + l2 I`` on the penalised ones. Passes
    alternate with :func:`_support_newton` (see :data:`SUPPORT_NEWTON_EVERY`).
    """
    p = obj.n_features
    features = active_j[active_j < p]
    root_h = np.sqrt(h)
    B = np.empty((obj.n_samples, len(active_j)), order="F")
    columns = obj.X[:, features]
    if obj.mu is not None:
        columns -= obj.mu[features]
    np.multiply(columns, root_h[:, None], out=B[:, : len(features)])
    if len(features) < len(active_j):  # the intercept, last in active_j
        B[:, -1] = root_h
    H = B.T @ B
    pen = obj.penalized[active_j]
    H[np.diag_indices_from(H)] += obj.penalty.l2 * pen
    m = len(active_j)
    D_act = np.zeros(m)
    g, w, l1 = G[0, active_j], coef[0, active_j], obj.penalty.l1

    def support_step(since):
        n_support = np.count_nonzero((w + D_act)[pen]) + np.count_nonzero(~pen)
        if not _support_newton_affordable(n_support, 0.0, since * m * m):
            return False
        refined = _support_newton(w, D_act, g, pen, l1, lambda V: H @ V,
                                  lambda idx: H[np.ix_(idx, idx)])  # fmt: skip
        if refined is not None:
            D_act[:] = refined
        return True

    passes = _alternate_with_support_steps(
        lambda chunk: cd_model_gram(H, g, w, pen, l1, tol, chunk, D_act), support_step, max_passes
    )
    D[0, active_j] = D_act
    return obj.scores(D), passes


def _support_hessian(obj: LogisticObjective, A, P, h, idx):
    """The block ``H[idx, idx]`` of the smooth part's Hessian (:meth:`.LogisticObjective.hessian`)
    on coefficients ``idx`` of ``coef.ravel()``, from the explicit dense design ``A``. A column
    whose every class is in ``idx`` and that the softmax leaves flat (unpenalised, or no L2) is
    lifted by its own curvature along the flat direction, as in the Cholesky direction."""
    K, n_dof = obj.shape
    k_of, j_of = np.divmod(idx, n_dof)
    c = obj.weights
    H = np.empty((len(idx), len(idx)))
    rows = [np.flatnonzero(k_of == k) for k in range(K)]
    for k in range(K):
        for l in range(k, K):
            if not len(rows[k]) or not len(rows[l]):
                continue
            w = h[:, k] if k == l else -c * P[:, k] * P[:, l]
            block = A[:, j_of[rows[k]]].T @ (w[:, None] * A[:, j_of[rows[l]]])
            H[np.ix_(rows[k], rows[l])] = block
            if l != k:
                H[np.ix_(rows[l], rows[k])] = block.T
    pen = obj.penalized[j_of]
    H[np.diag_indices_from(H)] += obj.penalty.l2 * pen
    if K > 1:
        diagonal = np.diag(H).copy()
        flat = ~pen if obj.penalty.l2 > 0.0 else np.ones(len(idx), dtype=bool)
        for j in np.unique(j_of[flat]):
            at = np.flatnonzero(j_of == j)
            if len(at) == K:
                lift = max(float(np.mean(diagonal[at])), np.finfo(float).tiny) / K
                H[np.ix_(at, at)] += lift
    return H


def _cd_dense(obj: LogisticObjective, A, P, curv, G, coef, active_k, active_j, tol, D, max_passes):
    """Coordinate descent on the model over the active coordinates of the explicit dense design
    ``A`` (column-major), alternating with :func:`_support_newton` (see
    :data:`SUPPORT_NEWTON_EVERY`). ``D`` is updated in place; returns ``(Zd, passes)``."""
    K = obj.n_outputs
    Zd = np.zeros((obj.n_samples, K))
    ak, aj = active_k.astype(np.int64), active_j.astype(np.int64)
    l1, l2, pen = obj.penalty.l1, obj.penalty.l2, obj.penalized
    flat_pen = np.broadcast_to(pen, obj.shape).ravel()
    pass_cost = 2.0 * obj.n_samples * len(active_j)

    def support_step(since):
        n_support = np.count_nonzero((coef + D)[:, pen]) + K * np.count_nonzero(~pen)
        build = obj.n_samples * n_support**2 / 2
        if not _support_newton_affordable(n_support, build, since * pass_cost):
            return False
        refined = _support_newton(
            coef.ravel(), D.ravel(), G.ravel(), flat_pen, l1,
            lambda V: obj.hessp(P, curv, V.reshape(obj.shape)).ravel(),
            lambda idx: _support_hessian(obj, A, P, curv, idx),
        )  # fmt: skip
        if refined is not None:
            D[:] = refined.reshape(obj.shape)
            Zd[:] = obj.scores(D)  # (the kernel continues from both, in place)
        return True

    def run_passes(chunk):
        return cd_model_dense(A, obj.weights, P, curv, G, coef, ak, aj, pen, l1, l2, tol, chunk,
                              D, Zd)  # fmt: skip

    return Zd, _alternate_with_support_steps(run_passes, support_step, max_passes)


def prox_newton(obj: LogisticObjective, coef0, *, tol, max_iter, hook=None) -> SolverResult:
    """Proximal Newton for ``smooth(W) + l1 * ||W||_1`` (L1 and elastic net).

    Each outer iteration builds the quadratic model of the smooth part at ``W`` and minimises model
    plus L1 term by cyclic coordinate descent (compiled, ``_cd_kernels.py``): every coordinate step
    is a soft-threshold, so coefficients become exactly zero. Only an active set is visited: a zero
    coefficient whose gradient is well inside ``[-l1, l1]`` (``|G_j| < l1 - M / n`` with ``M`` the
    previous outer optimality, as in newGLMNET; in the first iteration, by the strong rule of
    Tibshirani et al. 2012, ``|G_j| < 2 l1 - max |G|``) is skipped. The direction is then damped by an
    Armijo search on the composite objective with the decrease predicted by
    ``<G, D> + l1 (||W + D||_1 - ||W||_1)`` (Tseng and Yun 2009). On dense data, passes that do
    not meet the inner tolerance alternate with Newton steps on the support of ``D``, its signs
    held (:func:`_support_newton`), which coordinate descent needs where the model couples the
    coefficients strongly (uncentred columns without an intercept). For the multinomial loss each
    step ends with the penalty-minimising shift of every column across classes
    (:meth:`.LogisticObjective.best_class_shift`). If the model gives no descent (curvature lost to
    rounding, or a failed line search), a proximal-gradient step of length ``1 / L`` is taken
    instead, which always decreases the objective.

    Stops when the largest distance of ``-G`` to the subdifferential is below
    ``min(tol * scale, L1_TOL_CAP * l1)``, not below what float64 resolves in the gradient at the
    current objective (:func:`~mlbasics.optimality._logistic.l1_capped_tol`, which the certificate
    applies too) and
    the certificate's duality gap passes ``tol``
    (:func:`~mlbasics.optimality._logistic.gap_within_tol`, its dual point refined by Newton's
    method on the support; where the objective no longer decreases or the run ends, as far as
    check_kkt refines it): a converged fit passes :func:`~mlbasics.optimality.check_kkt` at its
    own ``tol``.
    """
    rec = TraceRecorder(hook)
    l1, l2 = obj.penalty.l1, obj.penalty.l2

    def tol_abs(F):  # the certificate's threshold, at the objective F
        return l1_capped_tol(tol, l1, obj.scale, F) * obj.scale

    penalized = obj.penalized
    K = obj.n_outputs
    is_sparse = sparse.issparse(obj.X)
    implicit_centring = is_sparse and obj.mu is not None
    columns = _ColumnAccess(obj, implicit_centring)
    null_space = _NullSpace(obj)
    coef = np.array(coef0, dtype=float)
    Z = obj.scores(coef)
    F = obj.value(coef, Z)
    P = obj.probabilities(Z)
    G = obj.smooth_gradient(coef, Z, P)
    opt = obj.optimality(coef, G)
    opt_moved = obj.optimality(coef, G, original=False)
    rec.record(F, opt, coef)
    converged, message, n_iter = False, f"reached max_iter={max_iter}", 0
    previous_opt, passes = np.inf, 0
    budget = MAX_INNER_PASSES  # of the inner coordinate descent (see INNER_PASSES_LIMIT)
    density = obj.X.nnz / max(obj.X.shape[0] * obj.X.shape[1], 1) if is_sparse else 1.0
    guard = _StallGuard()

    def done(last_word=False) -> bool:  # the stopping rule, at the current point (coef, F, opt)
        # last_word: where the objective no longer decreases (or the run ends), the dual point
        # refined as far as check_kkt refines it (the test refines up to ten Newton steps
        # otherwise: see gap_within_tol)
        return opt <= tol_abs(F) and (
            _gap_within_tol(obj, coef, tol)
            or (last_word and _gap_within_tol(obj, coef, tol, damped=True))
        )

    in_noise = False
    while n_iter < max_iter:
        if done(last_word=in_noise):
            converged, message = True, CONVERGED_L1
            break
        if n_iter == 0:  # strong rule (Tibshirani et al. 2012) at the start, newGLMNET after
            threshold = 2.0 * l1 - np.abs(G[:, penalized]).max(initial=0.0)
        else:
            threshold = l1 - previous_opt / obj.n_samples
        active = (coef != 0.0) | ~penalized | (np.abs(G) >= threshold)
        active_k, active_j = np.nonzero(active)
        curv = obj.curvature(Z, P)
        D = np.zeros(obj.shape)
        # The inner tolerance and the active set follow the measure in the variables that move
        # (centred columns); the original problem's measure decides when to stop.
        inner_tol = INNER_TOL_FACTOR * opt_moved
        gram = (
            not implicit_centring
            and K == 1
            and not is_sparse
            and _gram_is_cheaper(len(active_j), passes)
        )
        # a pass costs the stored entries of the active columns, or on the Gram matrix their
        # number squared (counted as the former, tall data were held to a few hundred passes
        # and the stall came back: 3.4 times the optimum at n = 56 900, a review)
        per_pass = len(active_j) ** 2 if gram else obj.n_samples * len(active_j) * density
        budget = max(MAX_INNER_PASSES, min(budget, int(INNER_WORK_LIMIT / max(per_pass, 1.0))))
        if implicit_centring and K == 1:
            Zd = np.zeros((obj.n_samples, 1))
            passes = cd_binary_csc_centered(
                *columns.csc(), curv[:, 0], G, coef, active_j.astype(np.int64),
                penalized, l1, l2, inner_tol, budget, D, Zd,
            )  # fmt: skip
            Zd = columns.mend_scores(D, Zd)
        elif implicit_centring:
            Zd = np.zeros((obj.n_samples, K))
            passes = cd_multinomial_csc_centered(
                *columns.csc(), obj.weights, P, curv, G, coef,
                active_k.astype(np.int64), active_j.astype(np.int64), penalized,
                l1, l2, inner_tol, budget, D, Zd,
            )  # fmt: skip
            Zd = columns.mend_scores(D, Zd)
        elif gram:
            Zd, passes = _cd_with_gram(obj, curv[:, 0], G, coef, active_j, inner_tol, D, budget)
        elif is_sparse:
            Zd = np.zeros((obj.n_samples, K))
            passes = cd_model_csc(
                *columns.explicit(), obj.weights, P, curv, G, coef,
                active_k.astype(np.int64), active_j.astype(np.int64), penalized,
                l1, l2, inner_tol, budget, D, Zd,
            )  # fmt: skip
        else:
            (A,) = columns.explicit()
            Zd, passes = _cd_dense(obj, A, P, curv, G, coef, active_k, active_j, inner_tol, D,
                                   budget)  # fmt: skip
        # Predicted decrease, the L1 change taken entry by entry so untouched entries add 0.
        l1_change = np.abs(coef + D)[:, penalized] - np.abs(coef)[:, penalized]
        slope = serial_dot(G, D) + l1 * float(l1_change.sum())
        # Near the optimum the predicted decrease can fall below rounding noise (and even come
        # out positive); the line search then accepts the step if F does not rise above noise.
        step = _line_search(obj, coef, Z, D, Zd, F, min(slope, 0.0))
        if step is None or not np.any(D):
            step = _proximal_gradient_step(obj, coef, Z, G, F)
            if step is None:
                message = "no descent from the model nor from a proximal-gradient step"
                break
        coef, Z, F, in_noise = step
        if K > 1:  # the softmax is blind to a common shift of a column: take the cheapest one
            shift = obj.best_class_shift(coef)
            coef = coef - shift
            Z = Z - obj.scores(shift[None, :])
            F = obj.value(coef, Z)
        if passes >= budget:
            if null_space.basis() is not None:
                coef, Z, F = null_space.step(coef, Z, F)
            budget = min(2 * budget, INNER_PASSES_LIMIT)
        n_iter += 1
        previous_opt = opt_moved
        P = obj.probabilities(Z)
        G = obj.smooth_gradient(coef, Z, P)
        opt = obj.optimality(coef, G)
        opt_moved = obj.optimality(coef, G, original=False)
        if rec.record(F, opt, coef):
            converged = done(last_word=in_noise)
            message = CONVERGED_L1 if converged else STOPPED_BY_HOOK
            break
        if guard.stalled(in_noise, opt):
            converged = done(last_word=True)
            message = CONVERGED_L1 if converged else ROUNDING_FLOOR
            break
    else:
        if max_iter > 0 and done(last_word=True):  # (max_iter=0: no iteration asked for)
            converged, message = True, CONVERGED_L1
        elif opt <= tol_abs(F):
            message = f"reached max_iter={max_iter} with the duality gap above tol"
    return SolverResult(coef, n_iter, converged, F, opt, rec.freeze(), message, rec.stopped)


def _gap_confirms(obj: LogisticObjective, coef, F, tol, exact_decrement=False) -> bool:
    """The smooth solvers' last stopping test: the duality gap passes ``tol``. Not tested where
    the decrement was exact (Newton's Cholesky direction) and ``F`` is at least
    :data:`GAP_TEST_BELOW` ``scale``: there ``tol * scale`` is at most ten times ``tol * F`` and
    the gap's refinement is not worth its cost. Estimated decrements are not trusted that far:
    with correlated columns (the Jacobi estimate ignores them) and an ill-conditioned Hessian
    (CG's stalls), Newton-CG and L-BFGS stopped, ``converged_``, 0.4% to 6% above the optimum
    with ``F`` at 0.6 ``scale``; the gap does not pass them."""
    if exact_decrement and F >= GAP_TEST_BELOW * obj.scale:
        return True
    if obj.penalty.is_zero:  # no dual bound: the certificate's decrement instead
        return exact_decrement or _certified_decrement_passes(obj, coef, F, tol)
    return _gap_within_tol(obj, coef, tol) or _decrement_decides(obj, coef, F, tol)


def _certified_decrement_passes(obj: LogisticObjective, coef, F, tol) -> bool:
    """Without a penalty, where no duality gap backs an estimated decrement: whether the Newton
    decrement that :func:`~mlbasics.optimality.check_kkt` judges
    (:func:`~mlbasics.optimality._logistic.model_decrement`, CG with the exact diagonal run to a
    residual of 1e-8, judged by :func:`~mlbasics.optimality._logistic.unpenalised_decrement`)
    passes ``tol``. The solvers' own estimates stop on CG's progress, and along a nearly flat
    real direction (two columns that differ by 1e-6 of their scale, the label carried by the
    difference) Newton-CG stopped ``converged_`` 3.2 above the optimum (3.6e-3 of it) at
    ``tol=1e-7``: a review. With this test a model reported converged passes the certificate."""
    W, b = _original_model(obj, coef)
    decrement = model_decrement(obj.X, obj.Y, W, b, obj.fit_intercept, obj.weights, 0.0)
    known = KnownDecrement(obj.X, obj.Y, W, b, obj.fit_intercept, obj.weights, decrement)
    obj.certified_decrement = (coef.copy(), known)
    return unpenalised_decrement(decrement, F, obj.scale) <= tol


def _decrement_decides(obj: LogisticObjective, coef, F, tol) -> bool:
    """Where an L2 gap cannot resolve ``tol``, whether the Newton decrement, computed as the
    certificate computes it (:func:`~mlbasics.optimality._logistic.model_decrement`: from the
    explicit Hessian scaled by its diagonal for small problems, else CG with the exact diagonal
    run until its residual is 1e-8 of the gradient's), passes it instead.

    The gap's plain value is ``||grad||^2 / (2 l2)``; when the gradient's own rounding
    (:func:`~mlbasics.optimality._logistic.gap_floor`), squared and divided by ``l2``, exceeds
    what ``tol`` allows (:func:`~mlbasics.optimality._logistic.gap_unresolvable`), no gap can
    pass: optimal fits at ``C`` of 1e24 ran to ``max_iter``. Excusing the gap there, with only the solvers' estimated
    decrements left, passed fits 2 to 815 times ``tol`` above the optimum (a review); the
    certificate's decrement did not. Only asked when the gap fails."""
    l2 = obj.penalty.l2
    if l2 == 0.0 or obj.penalty.l1 != 0.0:
        return False
    W, b = _original_model(obj, coef)
    floor = gap_floor(obj.X, residual_rounding(obj.X, obj.Y, W, b, obj.weights), l2)
    judge_at = decrement_tol(floor, obj.scale, F, tol)  # (tol, or a tighter one: check_kkt's)
    if not judge_at > 0.0:
        return False
    decrement = model_decrement(obj.X, obj.Y, W, b, obj.fit_intercept, obj.weights, l2)
    return decrement <= judge_at * _decrement_unit(obj, F, tol)


def _jacobi_decrement_passes(obj: LogisticObjective, Z, P, G, F, tol) -> bool:
    """Whether the Jacobi estimate of the half squared Newton decrement, ``sum G^2 / diag H / 2``
    with the columns' own curvatures (:meth:`.LogisticObjective.approximate_hessian_diagonal`),
    passes the decrement test of :func:`newton_smooth`: a check that a gradient small only
    because the features' units are small (1e-4: the gradient test passes at ``W = 0``) is not
    taken for convergence. Computed per unit of ``scale`` (no overflow at ``C = 1e200``)."""
    diagonal = obj.approximate_hessian_diagonal(Z, obj.curvature(Z, P)) / obj.scale
    with np.errstate(over="ignore", under="ignore"):
        g = G / obj.scale
        terms = g * (g / np.maximum(diagonal, np.finfo(float).tiny))
    if obj.penalty.l2 == 0.0:  # a flat column's gradient is rounding noise over a 0 curvature
        terms = terms[:, ~_flat_columns(obj)]
    jacobi = 0.5 * float(np.sum(terms))
    return jacobi <= tol * _decrement_unit(obj, F, tol) / obj.scale


def _decrement_passes(obj: LogisticObjective, Z, P, G, F, tol) -> bool:
    """L-BFGS's confirmation of its gradient rule by the Newton decrement: the Jacobi estimate
    (:func:`_jacobi_decrement_passes`), and without a penalty, where no gap backs it, the
    decrement of a Jacobi-preconditioned CG direction, run until its quadratic model stops
    improving (Nash and Sofer's rule, :data:`CG_DECREMENT_RTOL`; the certificate's own CG,
    ``optimality._logistic._newton_decrement``, runs to a residual of 1e-8 with the exact
    diagonal, stricter, as it judges models it did not fit). The diagonal alone misses what correlated columns add: six
    correlated features of scales 1e-5 to 1e2 passed it at up to 0.12 per sample above the
    optimum (``tol=1e-4``, 12 seeds in 60), ``converged_``."""
    if not _jacobi_decrement_passes(obj, Z, P, G, F, tol):
        return False
    if obj.penalty.l2:
        return True
    D, _ = _newton_direction_cg(obj, Z, P, G, obj.scale, decrement=True)
    D = obj.remove_class_mean(D)
    return -0.5 * serial_dot(G, D) <= tol * _decrement_unit(obj, F, tol)


def _decrement_unit(obj: LogisticObjective, F, tol) -> float:
    """What the decrement test multiplies ``tol`` by. ``-<G, D>/2`` estimates ``F - F*``: with L2,
    in units of ``F`` once ``F`` is below ``scale`` (at a large ``C`` on separable data ``F* <<
    scale``, and ``tol * scale`` passed 27 ``F*``; see ``gap_scale``). Without a penalty too (on
    nearly separable data, 20 000 samples with ``F* = 43``, ``tol * scale`` stopped Newton 22%
    above ``F*``, ``converged_`` True: a review), except where ``F`` itself is at most
    ``tol * scale``: the loss is not negative, so ``F - F* <= F`` is then certified in the units
    of ``scale`` (:func:`~mlbasics.optimality._logistic.unpenalised_decrement`). That is how a
    run on separable data ends, where ``F* = 0`` is approached but never reached."""
    if obj.penalty.l2 and F > 0.0:
        return min(obj.scale, F)
    if obj.penalty.is_zero and tol * obj.scale < F < obj.scale:
        return F
    return obj.scale


def _original_model(obj: LogisticObjective, coef):
    """``(W, b)`` of ``coef`` (internal layout) on the original features, as ``fit`` stores
    them: a multinomial model's intercepts less their mean (the softmax ignores their common
    shift, the certificate's dual point not quite: an L1 gap came out 12374.72 against
    12373.95 for the intercepts stored)."""
    full = obj.to_original(coef)
    if not obj.fit_intercept:
        return full, np.zeros(obj.n_outputs)
    b = full[:, -1]
    return full[:, :-1], (b - b.mean() if obj.n_outputs > 1 else b)


def _gap_within_tol(obj: LogisticObjective, coef, tol, damped=False) -> bool:
    """:func:`~mlbasics.optimality._logistic.gap_within_tol` at ``coef`` (internal layout): the
    certificate's gap test, on the original (uncentred) problem. True without a penalty (no
    dual bound). When it passes, the gap of the plain dual point is kept in ``obj.certified``
    (``(coef, gap)``): it is the ``duality_gap_`` that ``fit`` would compute again at the same
    coefficients (a pass over the data, 0.02-0.03 s of a 0.2 s fit on 100 000 samples)."""
    if obj.penalty.l1 == 0 and obj.penalty.l2 == 0:
        return True
    W, b = _original_model(obj, coef)
    pen = obj.penalty
    record = {}
    passed = gap_within_tol(
        obj.X, obj.Y, obj.weights, W, b, obj.fit_intercept, pen.l1, pen.l2, tol, record=record,
        damped=damped, x_max=obj.x_max if pen.l1 > 0.0 else None,
    )  # fmt: skip
    if passed and np.isfinite(record.get("plain_gap", np.nan)):
        obj.certified = (coef.copy(), record["plain_gap"])
    return passed


class _ColumnAccess:
    """The columns coordinate descent reads, built on first use only (they are a copy of X)."""

    def __init__(self, obj: LogisticObjective, implicit_centring):
        self.obj, self.implicit_centring = obj, implicit_centring
        self._arrays, self._mended = None, False

    def csc(self):
        """``X`` in canonical CSC and the means, for the implicitly centred kernels.

        A column stored in full on the samples of positive weight is centred here, its mean set
        to 0: the kernels' expansions (``sum h (x - mu)^2 = sum h x^2 - 2 mu sum h x + mu^2 sum
        h``, and the scores' offset ``-mu D``) cancel catastrophically for a large mean and a
        small spread (``1e8 + 0.01 z``: a curvature of 0 or 1024 for 0.049, coordinate descent
        diverging). A column with implicit zeros on samples of weight ``c_i > 0`` spreads (in
        the weighted sense) by at least ``|mu| sqrt(min c_i / sum c)``, which bounds the loss.
        """
        if self._arrays is None:
            A = sparse.csc_array(self.obj.X, dtype=np.float64, copy=True)
            A.sum_duplicates()
            counts = np.diff(A.indptr)
            column = np.repeat(np.arange(A.shape[1]), counts)
            used = self.obj.weights > 0
            # stored on every sample of positive weight (those of weight 0 weigh nothing in the
            # kernels' sums; their scores are mended in mend_scores)
            full = np.bincount(column, weights=used[A.indices], minlength=A.shape[1])
            full = full == np.count_nonzero(used)
            mu = self.obj.mu.copy()
            if full.any():
                A.data -= np.where(full[column], mu[column], 0.0)
                mu[full] = 0.0
            self._mended = full.any() and not (counts[full] == A.shape[0]).all()
            self._arrays = (A.data, A.indices.astype(np.int64), A.indptr.astype(np.int64), mu)
        return self._arrays

    def mend_scores(self, D, Zd):
        """The scores ``Zd`` of the direction ``D`` from the kernels, with those of the samples
        of weight 0 recomputed where a column centred in :meth:`csc` does not store them (the
        kernels take their entry as 0, not as ``-mu``)."""
        if not self._mended:
            return Zd
        zero = self.obj.weights == 0
        Zd = Zd.copy()
        Zd[zero] = self.obj.scores(D)[zero]
        return Zd

    def explicit(self):
        """The explicit design: column-major dense array, or CSC arrays."""
        if self._arrays is None:
            A = self.obj.design(column_major=True)
            if sparse.issparse(A):
                self._arrays = (A.data, A.indices.astype(np.int64), A.indptr.astype(np.int64))
            else:
                self._arrays = (A,)
        return self._arrays


class _NullSpace:
    """Proximal Newton's step along directions of the coefficients that leave every score as it
    is: the null space of the (centred) features on the samples of positive weight.

    With exactly collinear features (``make_classification``'s default redundant ones), the loss
    is flat along such a direction and the L1 term is not; the quadratic model is flat there too,
    and cyclic coordinate descent, which moves one coefficient at a time, creeps along it by
    about ``l1 / H_jj`` a pass: at ``C = 1000`` most fits ran to ``max_iter`` (a gap of 3e4 after
    100 iterations at ``C = 1e4``; 3 493 iterations to converge). This step minimises the
    penalty over the null directions ``V`` exactly, ``min_t l1 ||w + V t||_1 + l2/2 ||w +
    V t||^2``, by ADMM (:func:`_penalty_minimum`); for the multinomial loss jointly with the
    shift common to the classes (see :meth:`.LogisticObjective.best_class_shift`): alternating
    the two creeps too. The step is kept only if the objective decreases, since ``V`` is null
    only to rounding.

    The basis costs one weighted Gram matrix and its eigen-decomposition (``n p^2 / 2 + O(p^3)``),
    once per fit and only when coordinate descent has run out of passes; dense ``X`` of at most
    :data:`NULL_SPACE_MAX_FEATURES` columns, fewer than its samples, and
    :data:`NULL_SPACE_MAX_WORK` for ``n p^2``; a null space too large for the ADMM's budget
    (:data:`NULL_SPACE_MAX_STEP_WORK`) is not used, nor one whose steps were rejected
    :data:`NULL_SPACE_MAX_REJECTED` times (with ``p`` close to ``n`` the step was retried after
    every iteration: fits 100 to 3 000 times slower).
    """

    def __init__(self, obj: LogisticObjective):
        self.obj, self._basis, self._done, self._rejected = obj, None, False, 0

    def basis(self):
        """Orthonormal null vectors of the features, shape (n_features, r), or None."""
        obj = self.obj
        if self._done:
            return self._basis
        self._done = True
        used = obj.weights > 0
        p, n_used = obj.n_features, np.count_nonzero(used)
        if (
            sparse.issparse(obj.X)
            or p > NULL_SPACE_MAX_FEATURES
            or n_used <= p
            or n_used * p * p > NULL_SPACE_MAX_WORK
        ):
            return None
        X = obj.X[used]
        if obj.mu is not None:
            X = X - obj.mu
        gram = X.T @ (X * obj.weights[used][:, None])
        values, vectors = scipy.linalg.eigh(gram)
        null = values <= NULL_SPACE_RTOL * max(values[-1], 0.0)
        r = np.count_nonzero(null)
        step_work = NULL_SPACE_ADMM_ITER * obj.n_outputs * p * r
        if values[-1] > 0.0 and r and step_work <= NULL_SPACE_MAX_STEP_WORK:
            self._basis = vectors[:, null]
        return self._basis

    def step(self, coef, Z, F):
        """``coef`` moved to the penalty's minimum over the null directions, if ``F`` drops."""
        obj, V = self.obj, self._basis
        p = obj.n_features
        multinomial = coef.shape[0] > 1

        def project(D):  # onto the null directions: V V^T per class, and with the softmax any
            mean = D.mean(axis=0) if multinomial else 0.0  # shift common to the classes
            return mean + ((D - mean) @ V) @ V.T

        W = coef[:, :p]
        new = coef.copy()
        new[:, :p] = W + project(_penalty_minimum(W, project, obj.penalty.l1, obj.penalty.l2) - W)
        change = new - coef
        if not np.any(change):
            return coef, Z, F
        new_Z = Z + obj.scores(change)
        new_F = obj.value(new, new_Z)
        if new_F < F:
            return new, new_Z, new_F
        self._rejected += 1
        if self._rejected >= NULL_SPACE_MAX_REJECTED:
            self._basis = None  # (basis() keeps answering None)
        return coef, Z, F


def _penalty_minimum(W, project, l1, l2):
    """``min l1 ||U||_1 + l2/2 ||U||^2`` over ``U`` in ``W + N`` (``project``: onto ``N``), by ADMM.

    The splitting ``U = Z``: the ``U``-update is the penalty's prox (a soft threshold, then a
    shrink by ``1 + l2 / rho``), the ``Z``-update the projection onto the affine set
    ``Z = W + project(x - W)``. ``rho`` is chosen for the scale of ``W``; it changes the speed,
    not the limit.
    """
    scale = float(np.abs(W).max())
    if scale == 0.0:
        return W
    rho = l2 + l1 / scale
    Zk, Yk = W.copy(), np.zeros_like(W)
    for _ in range(NULL_SPACE_ADMM_ITER):
        X = Zk - Yk
        U = np.sign(X) * np.maximum(np.abs(X) - l1 / rho, 0.0) / (1.0 + l2 / rho)
        previous = Zk
        Zk = W + project(U + Yk - W)
        Yk += U - Zk
        if max(np.abs(U - Zk).max(), np.abs(Zk - previous).max()) <= 1e-12 * scale:
            break
    return Zk


def _proximal_gradient_step(obj: LogisticObjective, coef, Z, G, F):
    """``W+ = prox_{l1 / L}(W - G / L)``: a step that always decreases the objective.

    With ``L`` the bound of :meth:`.LogisticObjective.lipschitz_bound`, the quadratic upper bound
    of the smooth part makes the step a descent step (Beck and Teboulle 2009). Slow, but it is
    only the rescue when the Newton model gives nothing. Returns the line-search tuple or None.
    """
    L = obj.lipschitz_bound()
    target = coef - G / L
    new = target.copy()
    pen = obj.penalized
    l1 = obj.penalty.l1
    new[:, pen] = np.sign(target[:, pen]) * np.maximum(np.abs(target[:, pen]) - l1 / L, 0.0)
    D = new - coef
    if not np.any(D):
        return None
    Zd = obj.scores(D)  # scores are linear in the coefficients: these are A D^T
    F_new = obj.value(new, Z + Zd)
    if F_new > F:
        return None
    return new, Z + Zd, F_new, F_new > F - 64 * np.finfo(float).eps * abs(F)
