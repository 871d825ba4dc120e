"""Optimality conditions and the duality gap of a fitted (penalised) logistic regression.

Works for :class:`mlbasics.LogisticRegression` and :class:`sklearn.linear_model.LogisticRegression`
alike, which minimise the same objective

.. math::

    P(W, b) = \\sum_i c_i\\, \\ell(y_i, W x_i + b) + \\lambda_1 \\|W\\|_1
              + \\frac{\\lambda_2}{2} \\|W\\|^2,\\qquad c_i = C s_i,

(binary logistic loss with one row of ``W``, softmax cross-entropy with one row per class), with
``(lambda_1, lambda_2) = (rho, 1 - rho)`` for the L1 ratio ``rho`` and the intercept unpenalised.
scikit-learn's ``liblinear`` penalises the intercept as the weight of a constant feature
``intercept_scaling``; that is handled too.
"""

from __future__ import annotations

import dataclasses
import textwrap

import numpy as np
from scipy import sparse
from scipy.special import expit, softmax, xlog1py, xlogy

from .. import losses
from .._dense_products import curvature_product_dense, one_pass_ready
from .._threads import serial_dot
from .._validation import abs_max, class_weights, flat_columns
from ..kernels import row_blocks
from ._report import KKTReport, model_name, worst_indices

__all__ = ["LOGISTIC_ATTRIBUTES", "logistic_report", "penalty_strengths"]

#: With an L1 term the stationarity residual (per unit of ``c``) is judged at ``tol`` capped at
#: ``L1_TOL_CAP l1 / sum c`` (a tenth of the L1 strength), by this checker and by the proximal
#: Newton solver's stopping rule alike. Beyond ``l1`` the subgradient test accepts at zero any
#: coefficient whose gradient is within twice the threshold (it certifies nothing about which
#: coefficients are zero), which a large ``C`` makes the default ``tol`` do: at ``C = 1e4`` on
#: breast cancer ``tol = 1e-3`` is 57 000 times ``l1 / sum c``, and a model 95% of whose
#: objective was duality gap passed.
L1_TOL_CAP = 0.1
#: ... but the cap never goes below what float64 resolves in the gradient: ``L1_TOL_FLOOR``
#: times ``min(sum c, P)`` (per unit of ``c``: divided by ``sum c``). The gradient sums terms
#: ``c_i r_i x_ij`` with ``|r_i| <= loss_i`` (``u / (1 + u) <= log(1 + u)``), so its rounding is
#: of order ``eps sum_i c_i loss_i <= eps P`` (standardised features). An elastic net with
#: ``l1_ratio=1e-12`` put the cap at 5e-18 per unit of ``c``, and every fit ran to ``max_iter`` at
#: the optimum (scaled optimality 1.4e-17). A floor of ``1e3 eps`` per unit of ``c`` alone was
#: 13 times ``l1`` at ``C = 1e12`` on separable data (``P = 443``, ``sum c = 6e13``): it passed a
#: model 9% above the optimum whose gradient was 11 times ``l1``.
L1_TOL_FLOOR = 1e3 * np.finfo(float).eps


def _l1_floor(scale, primal) -> float:
    """:data:`L1_TOL_FLOOR` ``min(scale, primal) / scale``: what float64 resolves in the gradient,
    per unit of ``c``."""
    return L1_TOL_FLOOR * (min(primal, scale) / scale if primal > 0 else 1.0)


def l1_capped_tol(tol, l1, scale, primal=np.inf):
    """``tol`` per unit of ``c``, capped at ``L1_TOL_CAP l1 / scale`` when there is an L1 term
    (the cap not below :data:`L1_TOL_FLOOR` ``min(scale, primal) / scale``, ``primal`` the
    objective of the model judged)."""
    if not l1 > 0:
        return tol
    return min(tol, max(L1_TOL_CAP * l1 / scale, _l1_floor(scale, primal)))


def l1_below_resolution(l1, scale, primal=np.inf) -> bool:
    """Whether the L1 term is below what float64 resolves in the gradient: ``L1_TOL_CAP l1 /
    scale`` under the floor of :func:`l1_capped_tol` (a ``C`` so large that ``sum c`` is beyond
    about ``1e11 l1``). The dual point is then scaled into the L1 ball by the gradient's
    rounding rather than by the model's distance from the optimum, and the gap of an optimal
    model can fail any ``tol``: on 5000 samples at ``C = 1e12`` a model within 5e-16 of its
    optimum (an independent bound) had a judged gap of 1.4e-2, at ``C = 1e14`` 0.18 (a review).
    Such a ``C`` leaves the L1 term without effect; the checker and the solvers say so."""
    return bool(l1 > 0 and L1_TOL_CAP * l1 / scale < _l1_floor(scale, primal))


#: The advice of a report, and of the solvers' warning, when :func:`l1_below_resolution`.
L1_BELOW_RESOLUTION_ADVICE = (
    "the L1 term is below what float64 resolves in the gradient at this C ({factor:g} l1 / sum c "
    "= {cap:.2g} under the floor {floor:.2g}): the dual point is scaled into the L1 ball by the "
    "gradient's rounding, and its gap may fail at the optimum itself. At this C the L1 term no "
    "longer acts (a pure L1 model is as good as unpenalised); a smaller C, or an elastic net's "
    "l1_ratio=0, can be certified."
)


def l1_resolution_advice(l1, scale, primal=np.inf) -> str:
    """:data:`L1_BELOW_RESOLUTION_ADVICE` with its numbers, or "" when the L1 term is resolved."""
    if not l1_below_resolution(l1, scale, primal):
        return ""
    return L1_BELOW_RESOLUTION_ADVICE.format(
        factor=L1_TOL_CAP, cap=L1_TOL_CAP * l1 / scale, floor=_l1_floor(scale, primal)
    )


def gap_within_tol(
    X, Y, c, coef, intercept, free_intercept, l1, l2, tol, record=None, damped=False, x_max=None
) -> bool:
    """Whether the duality gap of ``(coef, intercept)``, in :func:`~mlbasics.optimality.check_kkt`'s
    units, is at most ``tol``: the last part of the solvers' stopping rules with a penalty.

    With the L2 penalty the dual point is refined by up to :data:`SOLVER_REFINE_MAX_STEPS` Newton
    steps when the model's own residuals do not settle it (as ``check_kkt(refine="auto")`` does,
    with fewer steps: one more iteration of the solver costs less than many), and a gap that
    leaves the float range (``C = 1e200``: ``||X' theta||^2`` overflows) cannot be judged here:
    True, the gradient rule alone decides, as before the gap was tested.

    With a pure L1 term the dual point is the residual vector scaled into the L1 ball by
    ``t = l1 / ||X' theta||_inf``, refined by Newton's method on the model's support (see
    :func:`_newton_points`) and evaluated after :data:`L1_SOLVER_REFINE_STEPS` steps (with
    ``damped``, at ``check_kkt``'s checkpoints): the plain point's gap is first order in the
    stationarity residual, and on the dense L1 benchmark the fourth outer iteration, 5e-8
    above the optimum, had a plain gap of 3.2e-3 ``P`` (tol 1e-3: a fifth iteration), 1.7e-4
    after three steps; with weights over eight decades the plain gap stayed at 1.6e-8 ``P`` at
    the optimum itself, above ``tol=1e-8`` (a review). That gap also has a term
    quadratic in ``1 - t`` that grows with ``sum c``: at the capped stationarity threshold
    ``1 - t`` can be 0.1, and converged fits at a large ``C`` failed ``check_kkt`` on their gaps
    (22 of 279 pure-L1 fits in a random sweep, each one Newton step from passing) before the
    solver tested it too.

    ``record`` (a dict), when given, gets the gap of the plain dual point (``"plain_gap"``: that
    of :func:`~mlbasics.optimality.duality_gaps`, NaN when there is none) whatever the refinement
    found. ``damped``: refine as ``check_kkt(refine="auto")`` does, with its checkpoints and damped
    Newton iterations for L2, for a pure L1 penalty on the support and the violating zero
    coefficients (for a solver whose objective no longer decreases, or whose run ends: its last
    word). ``x_max``: ``max |x_ij|``
    when known (:class:`GapJudge`; a solver tests many models on one ``X``).
    """
    penalty = penalty_name(l1, l2)
    judge = GapJudge(X, Y, coef, intercept, c, penalty, tol, x_max)
    steps, settled = (), None
    if penalty in ("l2", "l1"):
        if damped:
            steps = AUTO_REFINE_STEPS
        else:  # (L1: no prediction between the steps; the checkpoints up to the same last step)
            steps = (SOLVER_REFINE_MAX_STEPS,) if penalty == "l2" else L1_SOLVER_REFINE_STEPS

        def settled(primal, dual, stationarity, scale):
            return primal - dual <= 0.0 or judge(primal, dual, scale) <= tol

    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        primal, dual, _, _, scale, _ = _certificate(
            X, Y, coef, intercept, free_intercept, penalty, c, l1, l2, steps=steps,
            settled=settled, record=record, damped=DAMPED_NEWTON_ITERATIONS if damped else 0,
        )  # fmt: skip
        gap = primal - dual
        if record is not None:
            record["plain_gap"] = float(primal - record.get("plain_dual", np.nan))
        if penalty == "l2" and np.isinf(gap):  # (NaN: no feasible dual point, no pass)
            return True
        return judge(primal, dual, scale) <= tol


def _capped_by(threshold, l1, scale) -> str:
    """How the report names a stationarity threshold below ``tol``."""
    cap = L1_TOL_CAP * l1 / scale
    if threshold == cap:
        return f"{L1_TOL_CAP:g} l1 / sum c = {threshold:.3g}"
    return f"the float64 floor {threshold:.3g} ({L1_TOL_CAP:g} l1 / sum c = {cap:.3g} is below it)"


def gap_scale(scale, primal, penalty, tol) -> float:
    """What the duality gap is divided by to be compared with ``tol`` (:class:`GapJudge`).

    ``min(sum c, P)`` with a penalty (``sum c`` is the unit of the stationarity residual, and the
    objective of ``W = 0`` up to a factor ``log K``), ``sum c`` without. With L2 at a large ``C`` on
    nearly separable data the optimum ``P*`` is far below ``sum c`` (40 samples, ``C = 1e8``:
    ``P* = 8.6e3`` beside ``sum c = 4e9``), and a gap of ``tol sum c`` would pass a model whose
    objective is many times the optimum (a Newton fit stopped at 27 times it, ``converged_``
    True); judged against ``P`` the gap bounds the relative suboptimality ``(P - P*) / P`` (an
    elastic net at ``C = 2.9e5`` stopped 1.6e-4 above its optimum at ``tol = 1e-8`` per unit of
    ``sum c``). A pure L1 penalty too: judged per unit of ``sum c max(1, 2 ||W||_1)`` (its gap
    is linear in the stationarity residual, with the coefficients' size as unit), converged
    fits ended 1.2e-5 (breast cancer) and 4.7e-4 (digits) above their optimum at ``C = 1e3`` and
    ``tol = 1e-6``, 66 times it on five weighted samples (reviews); :class:`GapJudge` keeps
    only the part of that unit that float64 imposes (:func:`l1_gap_floor`).

    ``P`` and ``D`` are made of a few sums of non-negative terms (losses and the penalty;
    entropies and the penalty's conjugate, which ``D`` subtracts), each sum at most a small
    multiple of ``P`` near the optimum (at saturation the entropies are about twice ``P``) and
    each term formed to its last digits: the residuals ``P - Y`` and the entropies' ``1 - q``
    are never subtractions (:func:`~mlbasics.losses.probability_residuals`, :func:`_entropy`).
    So ``P - D`` is known to a small multiple of ``eps P``: :data:`GAP_RESOLUTION` ``P``, as
    measured, and the unit is never so small that ``tol`` of it falls below that. (Formed by subtraction, a saturated sample's terms
    were rounding of ``c``, the floor had to be ``GAP_ROUNDING sum c``, up to 1e24 times ``P``
    on separable data at a large ``C``, and it passed fits 1.5% to 1e6 times above their
    optimum: reviews.)
    """
    if penalty != "none" and 0.0 < primal < scale:
        return max(float(primal), GAP_RESOLUTION * float(primal) / tol)
    return float(scale)


def unpenalised_decrement(decrement, primal, scale) -> float:
    """The verdict on an unpenalised model's Newton ``decrement`` (an estimate of ``P - P*``):
    the smaller of ``decrement / min(sum c, P)``, as the L2 gap is judged (:func:`gap_scale`),
    and ``P / sum c``, since the loss is not negative and ``P - P* <= P``. Per unit of ``sum c``
    alone, a model 1.9 times the optimum's objective passed at ``tol=1e-3`` on nearly separable
    data (``P* = 43`` beside ``sum c = 2e4``: a review); per unit of ``P`` alone, no model would
    pass on separable data, where ``P* = 0`` is approached but never reached."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        relative = decrement / min(scale, primal) if primal > 0.0 else 0.0
        return float(min(relative, primal / scale))


def penalty_name(l1, l2) -> str:
    """``"none"``, ``"l2"``, ``"l1"`` or ``"elasticnet"`` from the two strengths."""
    if l1 == 0:
        return "none" if l2 == 0 else "l2"
    return "l1" if l2 == 0 else "elasticnet"


#: Fitted attributes (and parameters) a logistic regression must have to be judged.
LOGISTIC_ATTRIBUTES = ("coef_", "intercept_", "classes_", "C")

#: With a free intercept the residuals are a feasible dual point only when they sum to 0 in
#: every class; column sums up to this fraction of ``sum c`` are rounding, which
#: :func:`_products` projects away (:func:`_balanced`). The intercepts' search
#: (:func:`_intercept_shift`) balances far below it where it converges; where it stalled (its
#: Hessian's diagonal by subtraction, at saturation) a point 1e-7 to 1e-2 of ``P`` off balance
#: passed the test at a large ``C``, its ``D`` above ``P*``, and models 5 tol above their
#: optimum passed (a review).
BALANCE_RTOL = 1e-8

#: The Newton steps (conjugate residuals, :func:`_newton_points`) at which ``refine="auto"``
#: evaluates the dual, while an L2 model's stationarity passes ``tol`` and its gap does not
#: (and in between, where the prediction settles the verdict: :func:`_certificate`). The last
#: is beyond the dimension of most dense problems, where conjugate residuals reach Newton's
#: point: on 100 000 x 50 correlated features the gap was 25 after 10 steps, 12 after 30 and
#: 0.90 after 60 or 100, for a model 0.81 above the optimum.
AUTO_REFINE_STEPS = (1, 3, 10, 30, 100)
#: ``refine="auto"``: where the dual points of one Newton system leave an L2 gap failing while
#: stationarity passes, up to this many iterations of damped Newton's method from the model
#: give further dual points (:func:`_damped_newton_points`).
DAMPED_NEWTON_ITERATIONS = 20
#: The rounding of a duality gap per unit of ``P`` (:func:`gap_scale`): 64 machine epsilons.
GAP_ROUNDING = 64 * np.finfo(float).eps
#: What an L2 gap resolves per unit of ``P`` (:func:`gap_scale`), measured: the gaps of optimal
#: models reached 1.6e-11 ``P`` (breast cancer at ``C = 1e300``, weights spread over twelve
#: decades, features of mean 1e4; the rounding of ``X' theta`` in the conjugate term), 700 times
#: :data:`GAP_ROUNDING`: optimal models failed ``tol`` below 1e-11 (a review).
GAP_RESOLUTION = 1e-10
#: The rounding of a gradient entry per unit of ``sqrt(sum_i (c_i x_ij)^2)`` (:func:`gap_floor`).
GRADIENT_ROUNDING = 8 * np.finfo(float).eps
#: The most steps of the refinement in the solvers' gap test (:func:`gap_within_tol`), which
#: otherwise refines as ``refine="auto"`` does.
SOLVER_REFINE_MAX_STEPS = 10
#: The steps at which the solvers' L1 gap test evaluates the refined dual point (the L2 test
#: also evaluates where the quadratic model predicts a pass; the L1 point has no such
#: prediction).
L1_SOLVER_REFINE_STEPS = (1, 3, SOLVER_REFINE_MAX_STEPS)
#: Without a penalty there is no dual bound, and stationarity alone is not invariant to the
#: features' units: in units of 1e-4 the gradient of breast cancer's model at ``W = 0`` passes
#: ``tol=1e-4`` at 3.4 times the optimal objective (scikit-learn's ``C=np.inf`` fit stops there).
#: The report then also judges half the squared Newton decrement ``g' H^+ g / 2`` (the estimate
#: of ``P - P*`` the solvers stop on, :func:`unpenalised_decrement`), which does not depend on
#: the units, by Jacobi-preconditioned conjugate gradients: at most this many steps (each two
#: passes over ``X``, one for a binary problem on a dense ``X``: ``mlbasics._dense_products``),
#: until the preconditioned residual is :data:`DECREMENT_RTOL` of the gradient's (a
#: rule on the estimate's own progress read a stall of CG on an ill-conditioned Hessian as
#: convergence: 1.3e-5 for a decrement of 7.3e-3), or a direction's curvature is below
#: :data:`DECREMENT_NULL_CURVATURE` of its size in the preconditioner's metric.
DECREMENT_MAX_STEPS = 100
DECREMENT_RTOL = 1e-8
#: (1e-20: the null space of exactly collinear columns measured 1e-26 to 3e-21 of a direction's
#: size; two columns that differ by 1e-6 of their scale, 2e-13, which a cut at 1e-12 left out,
#: and a model 3.2 above its optimum, 3.6e-3 of it, passed at ``tol=1e-7``; a review. No cut
#: separates all null directions from real ones: columns that differ by 1e-10 of their scale
#: curve at 5e-21, and a model 40% above its optimum there passes; redundant columns shifted by
#: 1e6 leave null directions of 4e-19, counted as real.)
DECREMENT_NULL_CURVATURE = 1e-20
#: With an L2 term, problems of at most this many coefficients (and intercepts) take the
#: decrement from the explicit Hessian (:func:`_dense_decrement`): conjugate gradients on
#: raw breast cancer at ``C = 1e20`` (31 unknowns, condition number 5e14) needed 133 steps, and
#: cut at :data:`DECREMENT_MAX_STEPS` gave no estimate for a fit 1.3e-11 from its optimum.
DENSE_DECREMENT_UNKNOWNS = 300


def penalty_strengths(model) -> tuple[float, float, float]:
    """``(c, lambda_1, lambda_2)``: the data weight and the two penalty strengths of the model.

    Reads ``penalty``, ``l1_ratio`` and ``C`` as either library means them: scikit-learn 1.9
    (``penalty="deprecated"``, the mix in ``l1_ratio``, ``C=inf`` for no penalty) or mlbasics
    (the same with ``penalty="auto"``; ``penalty`` in {"l2", "l1", "elasticnet", None}, where
    ``l1_ratio`` counts for the elastic net only).
    Without a penalty ``c = 1`` and both strengths are 0.
    """
    penalty = getattr(model, "penalty", "l2")
    ratio = getattr(model, "l1_ratio", None)
    C = float(model.C)
    if penalty is None or penalty == "none" or not np.isfinite(C):
        return 1.0, 0.0, 0.0
    if penalty in ("deprecated", "auto", "elasticnet"):
        rho = 0.0 if ratio is None else float(ratio)
    elif penalty == "l1":
        rho = 1.0
    elif penalty == "l2":
        rho = 0.0
    else:
        raise TypeError(f"check_kkt does not know the penalty {penalty!r}.")
    return C, rho, 1.0 - rho


def _probabilities(Z):
    """The softmax of the scores, which the multinomial's formulas take; ``None`` for a single
    column, whose residuals and curvatures are sigmoids of the scores themselves
    (:func:`~mlbasics.losses.probability_residuals`,
    :func:`~mlbasics.losses.probability_variances`): an unused pass over the samples otherwise
    (a review)."""
    return None if Z.shape[1] == 1 else softmax(Z, axis=1)


def _stationarity_rounding(X, coef, intercept, c) -> float:
    """An estimate of what the rounding of the scores alone puts into the stationarity residual
    (per unit of ``c``, like the residual).

    Each score ``x_i w + b`` carries about ``eps (|x_i| |w| + |b|)``; the gradient multiplies that
    by ``c_i p_i (1 - p_i) |x_ij|`` and sums over samples. Features with large values or means
    (raw timestamps of 1.7e9) make it large: a model whose duality gap was 1e-8 failed
    stationarity by 4 per unit of ``c`` in the original coordinates, where its solver, working on
    centred ones, had met ``tol``.
    """
    absolute = abs(X) if sparse.issparse(X) else np.abs(X)
    h = c[:, None] * losses.probability_variances(np.asarray(X @ coef.T) + intercept)
    score_error = np.finfo(float).eps * (np.asarray(absolute @ np.abs(coef).T) + np.abs(intercept))
    gradient_error = np.asarray(absolute.T @ (h * score_error))
    return float(gradient_error.max(initial=0.0)) / max(float(c.sum()), np.finfo(float).tiny)


def _losses(Z, Y):
    if Z.shape[1] == 1:
        return losses.logistic((2.0 * Y[:, 0] - 1.0) * Z[:, 0])
    return losses.multinomial(Z, Y)


def _entropy(E, Y):
    """Entropy of each row of the probabilities ``Q = Y + E``, from the residuals ``E`` (a single
    column: the Bernoulli entropy), without forming ``1 - q`` by a subtraction.

    Where a sample is classified with a large margin its ``q`` of the label rounds to 1 and ``q
    log q`` to 0, while ``-q log q`` is about ``|E|``: on separable data at a large ``C`` those
    terms, times ``c``, make most of the dual objective, and ``D`` came out 1e5 times ``P``
    below it. Here the label's term is ``(1 + e) log1p(e)`` and the others ``e log e``.

    The residuals are clipped to the probabilities' range first: where the label's probability
    underflowed, the others' rounded sum could exceed 1 by 2^-52, ``e`` fell below -1 and its
    ``log1p`` gave NaN (6 classes, a sample of weight 1e-6: a fit warned with no gap; a review).
    """
    if E.shape[1] == 1:
        a = np.minimum(np.abs(E[:, 0]), 1.0)  # the other class's probability, whatever the label
        return -(xlogy(a, a) + xlog1py(1.0 - a, -a))
    off = np.where(Y > 0.5, 0.0, np.clip(E, 0.0, 1.0))
    on = np.where(Y > 0.5, np.clip(E, -1.0, 0.0), 0.0)
    return -(xlogy(off, off).sum(axis=1) + xlog1py(1.0 + on, on).sum(axis=1))


def _intercept_shift(Z, Y, c, P):
    """``delta`` with ``sum_i c_i (P(Z_i + delta) - Y_i) = 0``: the exact intercept for fixed W.

    Makes the dual point built from the residuals satisfy the intercept's constraint
    ``sum_i theta_i = 0`` exactly. One output: the root of an increasing function of one variable
    (:func:`_balancing_shift`). Several: Newton's method on the convex
    ``sum_i c_i lse(Z_i + delta) - delta' Y'c``, started from ``delta = 0``, with backtracking
    on the norm of the residual ``sum_i c_i (P_i - Y_i)`` (Newton's direction descends on it), run
    down to the rounding of the class masses: it stops when no step along Newton's direction
    lowers the residual, or when, below ``1e-8 sum c``, a full step no longer halves it. (Halving
    as the only test stopped a start 0.1 of ``sum c`` off balance at its first full step, in 148
    of 1 826 random cases.) The entropy term of ``D`` is evaluated at these probabilities, so
    a residual ``r`` left over overstates ``D`` by about ``|r|`` times the largest score: a stop
    at ``1e-13 sum c`` left ``3e-10`` on a three-class fit with ``sum c = 1.8e4`` and ``P = 4e-3``,
    and its gap came out ``-1e-9``, where ``P``'s rounding is ``3e-12``. ``P`` are the
    probabilities at ``Z``; returns ``(delta, E)``, ``E = P(Z + delta) - Y`` formed without
    cancellation (:func:`~mlbasics.losses.probability_residuals`), as are the class masses'
    residuals the search balances: by subtraction, the masses of saturated samples were lost.
    """

    def residuals(Zs, Ps=None):
        return losses.probability_residuals(Zs, Y, Ps)

    target = np.einsum("ik,i->k", Y, c)  # numpy's loops, not a threaded BLAS call (_threads)
    if Z.shape[1] == 1:
        total = float(c.sum())
        if total > 0.0 and target[0] <= 0.0:
            # a class of total weight 0 (here the positive one) has no finite optimum: the dual
            # point takes the limit, every probability 0 (the intercept at -inf), as the
            # multinomial branch does below; the unshifted point gave D above P (-5e-12)
            return np.array([-np.inf]), -Y
        if total > 0.0 and target[0] >= total:  # the negative class has weight 0
            return np.array([np.inf]), 1.0 - Y
        if not 0.0 < target[0] < total:
            return np.zeros(1), residuals(Z)  # no weight at all: nothing to balance
        delta = np.array([_balancing_shift(Z[:, 0], c, 2.0 * Y[:, 0] - 1.0)])
        return delta, residuals(Z + delta)
    delta = np.zeros(Z.shape[1])
    empty = target <= 0.0
    if np.count_nonzero(~empty) == 1:
        # one class of positive weight: the limit gives it every probability (D = 0 = inf P)
        delta[empty] = -np.inf
        return delta, np.where(empty, 0.0, 1.0) * np.ones_like(P) - Y
    if not (~empty).any():
        return delta, residuals(Z, P)  # no weight at all: nothing to balance
    if empty.any():
        # a class of total weight 0 has no finite optimum: its probabilities tend to 0 (its
        # intercept to -inf), and the dual point takes that limit, balancing the others alone
        # (a sample of weight 0 labelled with such a class keeps a residual of its own: -1)
        delta[empty] = -np.inf
        keep = ~empty
        delta[keep], E_keep = _intercept_shift(
            Z[:, keep], Y[:, keep], c, softmax(Z[:, keep], axis=1)
        )
        E = -np.array(Y, dtype=float)
        E[:, keep] = E_keep
        return delta, E
    E = residuals(Z, P)
    imbalance = np.einsum("ik,i->k", E, c)
    size = float(np.linalg.norm(imbalance))
    floor = 1e-8 * float(c.sum())  # below it, a full step that does not halve the residual ends
    for _ in range(50):
        if size == 0.0:
            break
        # (the diagonal sum c P (1 - P) as the sum of the row's off-diagonal terms, P_k (1 -
        # P_k) = P_k sum_{l != k} P_l: by subtraction, mass - sum c P^2, it cancelled where
        # probabilities round to 0 or 1, and the search stalled 1e-7 to 1e-2 of P off
        # balance: a review)
        H = -(P * c[:, None]).T @ P
        np.fill_diagonal(H, 0.0)
        np.fill_diagonal(H, -H.sum(axis=1))
        if not np.all(np.isfinite(H)):
            break  # (no Newton step from probabilities that are not numbers)
        step = np.linalg.lstsq(H, imbalance, rcond=None)[0]
        if not np.all(np.isfinite(step)):
            break  # curvatures below float64's normal range (a saturated run): no Newton step
        step -= step.mean()
        t = 1.0
        while t >= 2.0**-20:  # backtracking on the residual, for which Newton's step descends
            if t < 1.0 and size <= floor:
                t = 0.0  # at the rounding floor a shorter step gains nothing: stop
                break
            trial = delta - t * step
            P_t = softmax(Z + trial, axis=1)
            E_t = residuals(Z + trial, P_t)
            imbalance_t = np.einsum("ik,i->k", E_t, c)
            size_t = float(np.linalg.norm(imbalance_t))
            if size_t < size:
                break
            t *= 0.5
        if not t >= 2.0**-20:
            break  # no decrease along Newton's direction: the rounding floor
        settled = t == 1.0 and size <= floor and not size_t < 0.5 * size
        delta, P, E, imbalance, size = trial, P_t, E_t, imbalance_t, size_t
        if settled:
            break
    return delta, E


def _balancing_shift(z, c, sign, max_iter=200) -> float:
    """The root ``d`` of ``f(d) = sum_i c_i (sigmoid(z_i + d) - y_i)``, ``sign = 2 y - 1`` the
    labels' signs (both classes of positive weight).

    ``f`` increases, from ``-sum_{y=1} c`` to ``sum_{y=0} c``; each term is formed as ``-s_i
    sigmoid(-s_i (z_i + d))`` (:func:`~mlbasics.losses.probability_residuals`), so that
    saturated samples keep their share. Newton's method from ``d = 0`` (a fitted intercept is
    close to balanced, so a few steps reach machine precision), kept inside the bracket that the
    signs of ``f`` have established so far, with bisection when a step would leave it or the
    slope vanishes; until both ends are known the bracket widens by doubling. Each step costs
    two sigmoids of ``z`` (Brent's method took about three times as many).
    """
    lo, hi = -np.inf, np.inf
    d = 0.0
    for _ in range(max_iter):
        up, down = expit(z + d), expit(-(z + d))
        f = serial_dot(c, np.where(sign > 0.0, -down, up))  # -s sigmoid(-s (z + d))
        if f == 0.0:
            return d
        if f > 0.0:
            hi = d
        else:
            lo = d
        slope = serial_dot(c, up * down)
        step = d - f / slope if slope > 0.0 else np.nan
        if not lo < step < hi:  # also catches nan
            if np.isfinite(lo) and np.isfinite(hi):
                step = 0.5 * (lo + hi)
            else:
                step = d + (1.0 if f < 0.0 else -1.0) * 2.0 * max(1.0, abs(d))
        if abs(step - d) <= 4.0 * np.finfo(float).eps * max(1.0, abs(d)):
            return step
        d = step
    return d


def _power_sum(a, factor, power) -> float:
    """``sum((factor * |a|) ** power)`` (power 1 or 2) without overflow in the terms: inf only
    when the sum itself is out of range (numpy arithmetic, under the caller's ``errstate``)."""
    a = np.abs(np.asarray(a, dtype=float)).ravel()
    top = np.float64(a.max(initial=0.0))
    if top == 0.0:
        return 0.0
    if not np.isfinite(top):
        return float(np.sum((factor * a) ** power))
    head = np.float64(factor) * top
    return float(head**power * np.sum((a / top) ** power))


def gap_floor(X, U, l2) -> float:
    """What the gradient's rounding alone puts into the plain L2 gap ``||grad||^2 / (2 l2)``,
    from ``U``, the rounding of each residual ``R_ik`` (:func:`residual_rounding`): a gradient
    entry ``sum_i R_ik x_ij + l2 w_kj`` sums terms whose roundings are as good as independent,
    so it is known to about ``sqrt(sum_i (U_ik x_ij)^2)``; squared over ``2 l2`` and summed over
    the coefficients. It grows with ``C^2`` against ``P``'s ``C``. (A first version took
    ``64 eps sum c max|x|`` per entry, thousands of times too large: a review.) One pass over
    ``X``."""
    squares = X.power(2) if sparse.issparse(X) else np.square(X)
    with np.errstate(over="ignore", under="ignore"):
        # (U_ik x_ij)^2 summed as U_ik^2 times x_ij^2, scaled by the largest U against overflow
        top = float(np.max(U, initial=0.0))
        if top == 0.0:
            return 0.0
        sums = np.asarray(squares.T @ np.square(U / top), dtype=float)
        rho = top * np.sqrt(sums)
        return float(np.sum(rho * (rho / (2.0 * l2))))


def residual_rounding(X, Y, coef, intercept, c):
    """The rounding of the model's residuals ``R = c (P - Y)`` (``A = [X, 1]``), entry by entry:
    :data:`GRADIENT_ROUNDING` ``(|R_ik| + h_ik s_ik)``. The first term is that of the residual
    itself, formed to a few ulps of its size (never by the subtraction ``p - 1``:
    :func:`~mlbasics.losses.probability_residuals`; by subtraction it was ``eps c_i`` whatever
    the size, far above the gap's rounding on separable data). The second is that of the score
    it comes from: ``z_ik`` carries about ``eps s_ik``, ``s = |X| |W|' + |b|``, which moves
    ``R_ik`` by its curvature ``h_ik = c_i P_ik (1 - P_ik)`` times that; features with large
    means make it the larger one (iris standardised plus 1e3 at ``C = 1e20``: without it a fit
    within ``tol`` failed on a gap of 1.6e11 ``P`` taken as resolvable; a review)."""
    Z = np.asarray(X @ coef.T) + intercept
    P = _probabilities(Z)
    R = c[:, None] * losses.probability_residuals(Z, Y, P)
    h = c[:, None] * losses.probability_variances(Z, P)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        size = np.asarray(abs(X) @ np.abs(coef).T) + np.abs(intercept)
        return GRADIENT_ROUNDING * (np.abs(R) + h * size)


def gap_unresolvable(floor, scale, primal, tol) -> bool:
    """Whether an L2 gap cannot resolve ``tol`` in float64, whatever the model: its rounding
    floor (:func:`gap_floor`) exceeds ``tol`` times the gap's unit (:func:`gap_scale`). That
    happens at a ``C`` huge for the data: standardised iris (3 classes, fitted to
    ``tol=1e-10``) from about ``C = 1e25`` at ``tol=1e-3`` and from ``1e20`` at ``1e-8``. There the
    solvers and :func:`~mlbasics.optimality.check_kkt` judge the Newton decrement instead
    (:func:`model_decrement`). ``floor``, ``scale`` and ``primal`` are in the same units of
    ``c``."""
    return bool(floor > tol * gap_scale(scale, primal, "l2", tol))


def decrement_tol(floor, scale, primal, tol) -> float:
    """The tol at which the Newton decrement judges a model whose L2 gap fails (stationarity
    passing): ``tol`` where the gap cannot resolve it (:func:`gap_unresolvable`); else the
    largest tighter tol at which it could not, ``floor / min(sum c, P)``, where one exists (0
    otherwise: the gap's verdict stands). Judging there keeps the verdict monotone in ``tol``: a
    model that passed ``tol=1e-8`` on its decrement failed ``1e-7`` to ``1e-5`` on a gap the
    refinement could not close (iris at ``C = 1e20``; a review). ``floor``, ``scale`` and
    ``primal`` are in the same units of ``c``."""
    if gap_unresolvable(floor, scale, primal, tol):
        return tol
    small = 0.0 < primal < scale
    if small and not floor > GAP_RESOLUTION * primal:
        return 0.0
    return min(tol, floor / (primal if small else scale))


@dataclasses.dataclass(frozen=True)
class KnownDecrement:
    """A :func:`model_decrement` without a penalty already computed, with its inputs: an
    unpenalised solver's last stopping test computes the one :func:`logistic_report` judges
    (``_newton._certified_decrement_passes``), and the report takes it for exactly these inputs
    (the same ``X`` object, equal arrays) instead of computing it again (0.2 to 0.3 s of a 1.5 s
    unpenalised fit on 100,000 x 100 dense features)."""

    X: object
    Y: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    free_intercept: bool
    c: np.ndarray
    value: float

    def value_for(self, X, Y, coef, intercept, free_intercept, c):
        """The value when the inputs are these, else None."""
        same = X is self.X and free_intercept == self.free_intercept
        pairs = ((Y, self.Y), (coef, self.coef), (intercept, self.intercept), (c, self.c))
        return self.value if same and all(np.array_equal(a, b) for a, b in pairs) else None


def model_decrement(X, Y, coef, intercept, free_intercept, c, l2) -> float:
    """Half the squared Newton decrement ``g' H^+ g / 2`` at the model (:func:`_newton_decrement`,
    ``g`` and ``H`` with the L2 term ``l2``): an estimate of ``P - P*`` that needs no dual
    point. (Without ``l2`` in ``H``, a model moved along the data term's null space, 1% to 20%
    above its optimum by its penalty alone, had a decrement of 1e-12, and near-null curvatures
    made one of 7.6 read 5e50: a review.)

    A multinomial's class mean of ``W`` (the same vector added to every class) leaves the
    scores' differences, hence the data term, unchanged: the Hessian is ``l2`` there and maps
    the rest into the rest, and the gradient's class mean is ``l2`` times that of ``W``, so that
    part is taken exactly, ``K l2 ||mean_k w_k||^2 / 2``, and the solve sees the gradient with
    its class mean removed. (Solved together, at a huge ``C``
    the least squares' cutoff dropped those directions, whose curvature ``l2`` is 1e-30 of the
    data's: models 1% and 10% above the optimum, moved along them, passed at ``C = 1e30``; a
    review.)"""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        Z, P, G, gb = _model_gradient(X, Y, coef, intercept, free_intercept, c, l2)
        mean_part = 0.0
        if coef.shape[0] > 1 and l2 > 0.0:  # (the data term's part of the class mean is 0
            # exactly, not its rounding, which at C = 1e30 read 1.8e-3 P on an optimal fit)
            mean = coef.mean(axis=0)
            mean_part = 0.5 * coef.shape[0] * l2 * float(mean @ mean)
            G = G - G.mean(axis=0)
        unknowns = coef.shape[0] * (X.shape[1] + int(free_intercept))
        small = unknowns <= DENSE_DECREMENT_UNKNOWNS and X.shape[0] * unknowns <= 2e7
        if l2 > 0.0 and small:  # (the explicit Hessian: O(n unknowns^2) work, n x m memory)
            return mean_part + _dense_decrement(X, Z, P, c, G, gb, l2)
        return mean_part + _newton_decrement(X, Z, P, c, G, gb, l2)


def _model_gradient(X, Y, coef, intercept, free_intercept, c, l2):
    """``(Z, P, G, gb)`` at the model: its scores, the softmax (``None`` for one column:
    :func:`_probabilities`), the gradient in ``W`` (with the L2 term) and the free intercept's
    (``None`` without one; a multinomial's projected off the class sum, which the softmax
    ignores: rounding there)."""
    Z = np.asarray(X @ coef.T) + intercept
    P = _probabilities(Z)
    R = c[:, None] * losses.probability_residuals(Z, Y, P)
    G = np.asarray(X.T @ R).T + l2 * coef
    gb = R.sum(axis=0) if free_intercept else None
    if free_intercept and coef.shape[0] > 1:
        gb = gb - gb.mean()
    return Z, P, G, gb


def _dense_decrement(X, Z, P, c, G, gb, l2) -> float:
    """``g' (H + l2 I)^+ g / 2`` from the explicit Hessian (``l2`` on the coefficients, not the
    intercepts), by least squares on the Hessian scaled by its diagonal, ``D H D`` with ``D =
    diag(H)^-1/2`` (the decrement does not depend on the features' units; the unscaled least
    squares' cutoff did, and dropped real directions: 12% above the optimum read 4e-15, a
    review). A multinomial's intercept gradient comes projected off the class sum, which the
    softmax ignores (rounding there: :func:`model_decrement`). ``inf`` when the value is not a
    finite non-negative number: no estimate. At a huge ``C`` the cutoff drops the directions
    whose only curvature is ``l2``: a multinomial's class mean of ``W`` comes removed
    (:func:`model_decrement` takes it exactly); others, as duplicated columns, are still
    underestimated (a review)."""
    A = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=float)
    free = gb is not None
    if free:
        A = np.hstack([A, np.ones((A.shape[0], 1))])
    m = A.shape[1]
    K = G.shape[0]
    g = np.hstack([G, np.reshape(gb, (K, 1))]) if free else np.asarray(G, dtype=float)
    penalty = np.r_[np.full(X.shape[1], l2), np.zeros(int(free))]
    variances = losses.probability_variances(Z, P)  # (P (1 - P) without cancellation)
    if K == 1:
        H = (A * (c * variances[:, 0])[:, None]).T @ A + np.diag(penalty)
    else:  # blocks (k, l): A' diag(c (P_k delta_kl - P_k P_l)) A
        H = np.empty((K * m, K * m))
        for k in range(K):
            for j in range(K):
                weight = c * (variances[:, k] if k == j else -P[:, k] * P[:, j])
                H[k * m : (k + 1) * m, j * m : (j + 1) * m] = (A * weight[:, None]).T @ A
        H += np.diag(np.tile(penalty, K))
    flat = g.ravel()
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(flat))):
        return np.inf
    diagonal = np.diag(H)
    scaling = np.where(diagonal > 0.0, 1.0 / np.sqrt(np.where(diagonal > 0.0, diagonal, 1.0)), 1.0)
    scaled = flat * scaling
    d = np.linalg.lstsq(H * np.outer(scaling, scaling), scaled, rcond=None)[0]
    value = 0.5 * float(scaled @ d)
    # (a Hessian indefinite by rounding, as a saturated softmax's at C = 1e250, gave -2: a
    # review) the value of a semidefinite H is never negative: no estimate then
    return value if np.isfinite(value) and value >= 0.0 else np.inf


def _certificate(
    X, Y, coef, intercept, free_intercept, penalty, c, l1, l2, robust=False, steps=(), settled=None,
    record=None, damped=0,
):  # fmt: skip
    """``(P, D, stationarity, distance, sum c, used)`` of the model ``(coef, intercept)``.

    ``distance`` is the distance of ``-grad`` to the subdifferential of the penalty, per
    coefficient (a free intercept's derivative as a last column); ``D`` is NaN without a penalty. ``penalty`` is the name of the model's penalty
    ("none", "l2", "l1" or "elasticnet"): in the scaled call ``l1`` or ``l2`` may have
    underflowed to 0 while the model has them. ``P``, ``D``, ``distance`` and ``sum c`` are
    homogeneous of degree 1 in ``(c, l1, l2)``; ``stationarity`` does not depend on their scale.
    ``robust`` evaluates the norms without overflow in their terms (for the scaled call, where
    ``l2`` may be tiny and the norms huge); the plain form is kept otherwise, so that ordinary
    inputs keep their numbers to the last bit.

    ``steps`` (L2 or pure L1 penalty): also evaluate the dual at the residuals of the points
    that many steps of Newton's method, solved by conjugate residuals (:func:`_newton_points`;
    for L1 on the model's support and the zero coefficients whose gradient exceeds ``l1``, the
    signs held), away from the model, in increasing
    order, and keep the largest ``D``; ``used`` is ``(k, reached,
    iterations)``, the steps of the point that gave it (0: the model's own), those of the last
    point evaluated, and the damped Newton iterations of the point that gave it (below).
    ``settled(P, D, stationarity, sum c)`` ends the refinement early (and skips it when the
    plain point already settles it); with it, ``D`` (a pass over ``X`` and the intercept's
    search) is also evaluated between the steps listed where the quadratic model's prediction
    of the gap (:func:`_newton_points`), doubled, settles it, not before step ``2k`` after an
    evaluation at step ``k``: the prediction was within 5% of the gap on standardised binary
    problems, two to four times too small on ten classes, a hundred times on unscaled
    features (the L1 point has no such prediction). The solvers list only their last step
    (:data:`SOLVER_REFINE_MAX_STEPS`; with L1, :data:`L1_SOLVER_REFINE_STEPS`), the checker its
    checkpoints (a failing model's report keeps the best bound). ``damped``: when
    the steps leave the verdict unsettled, also up to that many iterations of damped Newton from
    the model (:func:`_damped_newton_points`), the dual evaluated at each. ``record`` (a dict),
    when given, gets the plain point's ``D`` (``"plain_dual"``) whatever the refinement found.

    Rows of weight ``c_i = 0`` are left out: they are in neither ``P`` nor ``D``, and one whose
    label probability underflowed made ``D`` NaN (6 classes, one such row: a converged
    Newton-CG fit warned and reported no gap; a review).
    """
    weighted = c > 0
    if not weighted.all() and weighted.any():
        X, Y, c = X[weighted], Y[weighted], c[weighted]
    Z = np.asarray(X @ coef.T) + intercept

    # primal and the (sub)gradient; the residuals of the dual point ride along in the same
    # product with X' (one pass over X for both)
    data = serial_dot(c, _losses(Z, Y))
    if robust:
        primal = data + _power_sum(coef, l1, 1) + 0.5 * _power_sum(coef, np.sqrt(l2), 2)
    else:
        primal = data + l1 * np.abs(coef).sum() + 0.5 * l2 * float((coef**2).sum())
    P = _probabilities(Z)
    E = losses.probability_residuals(Z, Y, P)  # P - Y without cancellation
    R = c[:, None] * E
    with_dual = penalty != "none"
    if with_dual:
        # the dual point: residuals at the exactly balancing intercept, scaled into the L1 ball
        Ed = E
        if free_intercept:
            _, Ed = _intercept_shift(Z, Y, c, P)
        # the gradient and the dual point's product with X in one pass (projected: _products)
        XR, V, sums = _products(X, R, c[:, None] * Ed, c, free_intercept)
        G = XR + l2 * coef
    else:
        G = np.asarray(X.T @ R).T + l2 * coef
    if l1 > 0:
        distance = np.where(
            coef != 0.0, np.abs(G + l1 * np.sign(coef)), np.maximum(np.abs(G) - l1, 0.0)
        )
    else:
        distance = np.abs(G)
    scale = max(float(c.sum()), np.finfo(float).tiny)
    if free_intercept:  # the intercept's derivative, as one more column
        distance = np.hstack([distance, np.abs(R.sum(axis=0))[:, None]])
    stationarity = float(distance.max(initial=0.0)) / scale

    if not with_dual:
        return primal, np.nan, stationarity, distance, scale, (0, 0, 0)
    if free_intercept and not _balanced(Ed, c):
        return primal, np.nan, stationarity, distance, scale, (0, 0, 0)  # no feasible dual point
    dual = _dual_value(V, Ed, Y, c, l1, l2, penalty, robust)
    if record is not None:
        record["plain_dual"] = dual
    used = reached = iterations = 0

    def done():
        return dual >= primal or (
            settled is not None and settled(primal, dual, stationarity, scale)
        )

    if steps and penalty in ("l2", "l1") and not robust and not done():
        gb = R.sum(axis=0) if free_intercept else None
        if penalty == "l1":  # Newton on the support, the signs held (see _newton_points)
            # the zero coefficients whose gradient exceeds l1 join, with the sign they would
            # take (on the support alone the benchmark's fourth iterate stayed at 1.5e-3 P)
            signs = np.where(coef != 0.0, np.sign(coef), np.where(np.abs(G) > l1, -np.sign(G), 0.0))
            support = signs != 0.0
            points = _newton_points(X, coef, Z, P, c, 0.0, G + l1 * signs, gb, support)
        else:
            points = _newton_points(X, coef, Z, P, c, l2, G, gb)
        last, earliest = max(steps), 1
        k, Zp = 0, None
        try:  # a refined point is optional: one that leaves the float range is dropped
            for k, (Zp, decrease, slack, _, _) in enumerate(points, start=1):
                wanted = k in steps
                if settled is not None and not wanted and k >= earliest:
                    # where the quadratic model predicts, with a factor 2, that D settles
                    guess = primal - 2.0 * (decrease + slack)
                    wanted = settled(primal, guess, stationarity, scale)
                if wanted or k >= last:
                    value, reached = _dual_at(X, Y, Zp, c, l1, l2, penalty, free_intercept, sums), k
                    if np.isfinite(value) and value > dual:
                        dual, used = value, k
                    Zp, earliest = None, 2 * k  # evaluated; a prediction that failed waits
                    if k >= last or done():
                        break
            if Zp is not None:  # the steps ended early (no curvature left): their last point
                value, reached = _dual_at(X, Y, Zp, c, l1, l2, penalty, free_intercept, sums), k
                if np.isfinite(value) and value > dual:
                    dual, used = value, k
        except FloatingPointError:
            pass
        if damped and penalty == "l2" and not done():
            newton = _damped_newton_points(
                X, Y, coef, intercept, free_intercept, c, l2, primal, max(steps), damped
            )
            try:
                for i, Zi in enumerate(newton, start=1):
                    value = _dual_at(X, Y, Zi, c, l1, l2, penalty, free_intercept, sums)
                    if np.isfinite(value) and value > dual:
                        dual, iterations = value, i
                    if done():
                        break
            except FloatingPointError:
                pass
    return primal, dual, stationarity, distance, scale, (used, reached, iterations)


def _balanced(E, c) -> bool:
    """Whether the residuals ``c E`` (``E = P - Y``) sum to 0 in every class, up to the
    :data:`BALANCE_RTOL` that :func:`_products` projects away: only then are they a feasible
    dual point (with a free intercept), whose ``D`` bounds ``P*``."""
    residual = np.abs(np.einsum("ik,i->k", E, c)).max(initial=0.0)
    return bool(residual <= BALANCE_RTOL * float(c.sum()))


def _dual_at(X, Y, Z, c, l1, l2, penalty, free_intercept, sums=None):
    """``D`` at the dual point built from the residuals of the scores ``Z`` (as for the model;
    ``sums``: ``X' c``, from the model's :func:`_products`, when known);
    ``-inf`` when the intercept shift could not balance it (then it is not a feasible point), or
    when the scores are not finite (a refinement's Newton point beyond the float range, at
    ``C`` of 1e140: its NaN probabilities made ``lstsq`` fail with a LinAlgError)."""
    if not np.all(np.isfinite(Z)):
        return -np.inf
    P = _probabilities(Z)
    if free_intercept:
        _, E = _intercept_shift(Z, Y, c, P)
        if not _balanced(E, c):
            return -np.inf
    else:
        E = losses.probability_residuals(Z, Y, P)
    _, V, _ = _products(X, None, c[:, None] * E, c, free_intercept, sums)
    return _dual_value(V, E, Y, c, l1, l2, penalty, False)


def _products(X, R, Theta, c, free_intercept, sums=None):
    """``(R' X, -Theta' X, X' c)`` in one pass over ``X``, ``Theta = c (P - Y)`` minus the dual
    point (``R' X`` None when ``R`` is; ``X' c`` only with a free intercept, and not computed
    again when given as ``sums``: the refined points' products then take one column fewer, 5
    instead of 15 ms on 100 000 x 100 binary features, where a dual evaluation is about 25 ms).

    With a free intercept, Theta's column sums are 0 only to rounding (1e-13 of sum c), and
    ``X' Theta`` multiplies what is left by the column means: at means of 1e4 the gap came out
    negative (-0.3 on a problem whose true suboptimality was 0.003). Theta is projected onto its
    constraint along c, ``Theta - c r' / sum c`` (r its column sums), which takes
    ``(X' c / sum c) r'`` off ``X' Theta``: the c-weighted means, from the same product. Only a
    rounding residual is removed: a point whose column sums exceed :data:`BALANCE_RTOL` of
    ``sum c`` gives no ``D`` (:func:`_balanced`). The entropy term keeps ``Theta`` itself: the
    difference is about ``|r|`` times the largest logit, which the intercepts' search keeps at
    the rounding of the class masses (1e-15 of ``P`` on saturated 3-class problems).
    """
    first = [] if R is None else [R]
    extra = [c[:, None]] if free_intercept and sums is None else []
    both = np.asarray(X.T @ np.hstack([*first, Theta, *extra])).T
    k = 0 if R is None else R.shape[1]
    XR, XT = (None if R is None else both[:k]), both[k : k + Theta.shape[1]]
    if free_intercept:
        sums = both[-1] if sums is None else sums
        total = max(float(c.sum()), np.finfo(float).tiny)
        XT = XT - np.outer(Theta.sum(axis=0), sums / total)
    return XR, -XT, sums


def _dual_value(V, E, Y, c, l1, l2, penalty, robust):
    """``D`` at the dual point ``-t c E`` (``E = Pd - Y``, the residuals of the dual's
    probabilities), whose product with ``X`` is ``V`` before ``t``."""
    t = 1.0
    if penalty == "l1":
        top = float(np.abs(V).max(initial=0.0))
        t = min(1.0, l1 / top) if top > 0 else 1.0
    excess = np.maximum(np.abs(t * V) - l1, 0.0)
    if penalty == "l1":
        conjugate = 0.0
    elif robust:
        # ||excess||^2 / (2 l2), inf when l2 underflowed (a penalty 1e-600 times the data's)
        conjugate = 0.5 * _power_sum(excess, 1.0 / np.sqrt(l2) if l2 else np.inf, 2)
    else:
        conjugate = float((excess**2).sum()) / (2.0 * l2)
    return serial_dot(c, _entropy(t * E, Y)) - conjugate


def _newton_points(X, coef, Z, P, c, l2, G, gb, support=None):
    """The points ``d_k`` of conjugate residuals on Newton's system ``H d = -g`` away from the
    model, one per step, until the residual or the curvature vanishes (``A = [X, 1]``, the ones
    when ``gb``, the intercept's derivative, is given; ``G`` the derivative in ``W``): for each,
    ``(Z + A d_k, -q(d_k), ||r_k||^2 / (2 lambda_2), d_k)``, its scores, the decrease of the
    quadratic model ``q(d) = <g, d> + <d, H d> / 2``, the plain gap that a gradient equal to the
    residual ``r_k = -(g + H d_k)`` in ``W`` would leave (inf when ``lambda_2 = 0``), and the
    step itself (its ``W`` and intercept parts).

    ``support`` (a boolean mask of ``coef``'s shape), when given, holds the other coefficients
    at 0: the system is Newton's on those coefficients and the intercepts only (``G`` then
    carries the L1 term's ``l1 s`` with ``s`` the signs held, so that this is Newton's method
    on the smooth problem with the signs held). :func:`_certificate` takes the model's nonzero
    coefficients and the zero ones whose gradient exceeds ``l1`` (with the sign they would
    take, ``-sign(g_j)``): near an L1 optimum that is the optimum's support, and the residuals
    of the Newton point leave every ``s_j`` (:func:`l1_gap_floor`) at second order in the
    gradient, where the plain point's gap is first order. A scikit-learn ``saga`` fit 3e-10
    above its optimum had a plain gap of 3.6e-6 ``P``, about 2e-7 refined. With a support the
    system is scaled by its diagonal (:func:`_jacobi_scales`), so that the features' units do
    not matter.

    With theta the residuals of the model, ``P - D`` is exactly ``||grad P||^2 / (2 lambda_2)``,
    while ``P - P*`` is about ``g' H^-1 g / 2``: the bound is loose by the ratio of the Hessian's
    curvature to ``lambda_2``, which grows with the number of samples. The residuals of a point
    ``w'`` closer to the optimum give a dual point closer to the dual optimum, and any dual point
    gives a valid bound, however it was found: ``P(w) - D(theta(w')) = P(w) - P(w') + ||grad
    P(w')||^2 / (2 lambda_2)``, which the quadratic model predicts as ``-q(d_k) + ||r_k||^2 /
    (2 lambda_2)`` (:func:`_certificate` evaluates ``D`` where that prediction settles the test).
    What matters is the gradient at the new point, so the steps are those of conjugate
    residuals, which make ``||H d + g||`` smaller at every step; conjugate gradients make the
    quadratic model smaller but not its gradient, and on 100 000 x 50 correlated features (the
    Hessian's condition number 6e3) their points gave worse bounds than the model's own after
    1, 3, 10 and 30 steps. Each step is one product with ``H`` (two passes over ``X``); the
    scores of the steps' directions are carried along, so the new points' scores cost no
    further pass.
    """
    K = coef.shape[0]
    free = gb is not None

    variances = losses.probability_variances(Z, P)
    top = None if P is None else P.argmax(axis=1)  # (once for all the products)
    # the coefficients that move, each in the unit of its curvature (with a support: see below)
    sw, sb = (1.0, 1.0) if support is None else _jacobi_scales(X, c, variances, support, free)

    def product(Vw, Vb):  # S H S v, S = diag(sw, sb); the scores are those of A S v
        Zv, Hw, Hb = _hessian_product(X, P, variances, top, c, l2, free, Vw * sw, Vb * sb)
        return Zv, Hw * sw, Hb * sb

    gw = np.array(G, dtype=float) * sw
    gb = np.array(gb, dtype=float) * sb if free else np.zeros(K)
    rw, rb = -gw, -gb
    Zr, Arw, Arb = product(rw, rb)
    pw, pb, Zp, Apw, Apb = rw, rb, Zr, Arw, Arb  # the direction, its scores and A p
    dw, db = np.zeros_like(rw), np.zeros_like(rb)
    rAr = serial_dot(rw, Arw) + serial_dot(rb, Arb)
    Zd = np.zeros_like(Z)
    while True:
        ApAp = serial_dot(Apw, Apw) + serial_dot(Apb, Apb)
        if not (rAr > 0.0 and ApAp > 0.0):
            return
        a = rAr / ApAp
        Zd = Zd + a * Zp
        dw, db = dw + a * pw, db + a * pb
        rw, rb = rw - a * Apw, rb - a * Apb
        # q(d) = <g, d> + <d, H d>/2 with H d = -g - r: (<g, d> - <r, d>) / 2
        q = 0.5 * (serial_dot(gw - rw, dw) + serial_dot(gb - rb, db))
        # (the slack: inf, not an error, if huge)
        slack = serial_dot(rw, rw) / (2.0 * float(l2)) if l2 > 0.0 else np.inf
        yield Z + Zd, -q, slack, dw * sw, db * sb
        Zr, Arw, Arb = product(rw, rb)
        rAr_next = serial_dot(rw, Arw) + serial_dot(rb, Arb)
        beta = rAr_next / rAr
        pw, pb = rw + beta * pw, rb + beta * pb
        Zp, Apw, Apb = Zr + beta * Zp, Arw + beta * Apw, Arb + beta * Apb
        rAr = rAr_next


def _jacobi_scales(X, c, variances, support, free):
    """``(sw, sb)``: one over the square root of the Hessian's diagonal for the coefficients of
    ``support`` (0 elsewhere: they do not move) and for the intercepts (1 without one), so that
    :func:`_newton_points` runs on a system whose diagonal is 1. Without them the steps of
    conjugate residuals, in the raw coordinates, barely moved the coefficients when the
    features were in small units (``1e-100``: their curvature ``1e-200`` times the intercept's),
    and an optimal L1 model failed ``tol=1e-10`` on its gap (a review). A diagonal of 0 (a
    column that is 0 on every sample of positive weight) gets the scale 0 too."""
    diag_w, diag_b = _hessian_diagonal(X, c, variances)
    with np.errstate(divide="ignore"):
        sw = np.where(support & (diag_w > 0.0), 1.0 / np.sqrt(diag_w), 0.0)
        sb = np.where(diag_b > 0.0, 1.0 / np.sqrt(diag_b), 1.0) if free else 1.0
    return sw, sb


def _hessian_diagonal(X, c, variances):
    """``(diag_w, diag_b)``: the diagonal of the data term's Hessian in ``W`` (one row per
    output, ``sum_i c_i v_ik x_ij^2``) and in the intercepts (``sum_i c_i v_ik``), ``v`` the
    probabilities' variances. Dense ``X`` is squared in blocks of rows (a copy of all of
    ``X**2`` is as large as ``X``: 80 MB on the dense L1 benchmark)."""
    h = c[:, None] * variances  # the diagonal blocks' curvatures (binary: the Hessian's)
    if sparse.issparse(X):
        diag_w = np.asarray(X.power(2).T @ h).T
    else:
        diag_w = np.zeros((h.shape[1], X.shape[1]))
        for rows in row_blocks(X.shape[0], X.shape[1], max_bytes=8 * 2**20):
            diag_w += (np.square(X[rows]).T @ h[rows]).T
    return diag_w, h.sum(axis=0)


def _damped_newton_points(X, Y, coef, intercept, free, c, l2, primal, max_steps, iterations):
    """The scores of the iterates of damped Newton's method from the model, one per iteration,
    for the dual points of :func:`_certificate` where those of one Newton system fail.

    At a huge ``C`` on nearly separable data the objective is far from quadratic along the
    directions that push margins past about 37 (their curvature ``c e^-m`` changes by a factor
    ``e`` per unit of margin), and the points of one Newton system from a model within
    ``1e-10`` of the optimum keep gradients whose plain gap ``||grad||^2 / (2 lambda_2)`` is
    large: standardised iris (3 classes) at ``C = 1e20`` kept a refined gap of 0.11 ``P``
    after 100 steps, and ``1e4 P`` at ``1e25``. Newton's iterates converge there only
    linearly (each moves the margins by about one unit), but every iteration takes the gradient
    down by a factor of 5 to 10. Each iteration: the point of conjugate residuals on the Newton
    system (:func:`_newton_points`; at most ``max_steps`` steps, fewer once the residual's gap
    is below 1e-12 of ``P``), then a backtracking line search on ``P`` (Armijo, factor
    ``1e-4``) that accepts a step within ``P``'s rounding (:data:`GAP_ROUNDING` ``P``: near the
    optimum the decrease of an iteration that still takes the gradient down by a factor 8 is
    below it). Ends after ``iterations``, or when the line search finds no step."""
    W = np.array(coef, dtype=float)
    b = np.array(intercept, dtype=float) if free else np.zeros(W.shape[0])
    F = primal
    for _ in range(iterations):
        Z, P, G, gb = _model_gradient(X, Y, W, b, free, c, l2)
        point = None
        for k, point in enumerate(_newton_points(X, W, Z, P, c, l2, G, gb), start=1):
            if k >= max_steps or point[2] <= 1e-12 * F:
                break
        if point is None:
            return
        Zn, _, _, dw, db = point
        slope = min(serial_dot(G, dw) + (serial_dot(gb, db) if free else 0.0), 0.0)
        noise = GAP_ROUNDING * abs(F)  # P's rounding: a step within it is as good (any point
        t = 1.0  # gives a valid dual bound; the iterates only need to approach the optimum)
        while True:
            Zt = Z + t * (Zn - Z)
            Wt = W + t * dw
            Ft = serial_dot(c, _losses(Zt, Y)) + 0.5 * l2 * float((Wt**2).sum())
            if Ft <= F + 1e-4 * t * slope + noise:
                break
            t *= 0.5
            if t < 2.0**-30:
                return
        W, b, F = Wt, (b + t * db if free else b), Ft
        yield Zt


def _hessian_product(X, P, h, top, c, l2, free, Vw, Vb, scores=True):
    """``(A v's scores, (H v)_W, (H v)_b)`` for ``v = (Vw, Vb)``, ``H`` the Hessian of ``P`` at
    the probabilities ``P``, ``h`` their variances
    (:func:`~mlbasics.losses.probability_variances`) and ``top`` the rows' arg max of ``P``
    (``A = [X, 1]``, the ones only with a ``free`` intercept). ``scores=False``: the scores are
    not wanted (None), and one output on a dense C-ordered ``X`` takes the one-pass loop of
    :func:`~mlbasics._dense_products.curvature_product_dense` (one read of ``X``, not two)."""
    if not scores and one_pass_ready(X, Vw.shape[0]):
        Hw = np.empty_like(Vw)
        offset = float(Vb[0]) if free else 0.0
        total = curvature_product_dense(X, np.ascontiguousarray(Vw[0]), offset,
                                        np.ascontiguousarray(c * h[:, 0]), Hw[0])  # fmt: skip
        Hw += l2 * Vw
        return None, Hw, (np.array([total]) if free else 0.0 * Vb)
    Zv = np.asarray(X @ Vw.T) + (Vb if free else 0.0)
    if Vw.shape[0] == 1:  # one output: the sigmoid's curvature (P may be None: _probabilities)
        U = c[:, None] * h * Zv
    else:
        U = c[:, None] * losses.softmax_jacobian_product(P, Zv, top)
    return Zv, np.asarray(X.T @ U).T + l2 * Vw, (U.sum(axis=0) if free else 0.0 * Vb)


def _newton_decrement(X, Z, P, c, G, gb, l2=0.0) -> float:
    """Half the squared Newton decrement ``g' H^+ g / 2`` of the objective with the L2 term
    ``l2`` (0: unpenalised), by conjugate gradients on ``H d = -g`` preconditioned by ``H``'s
    exact diagonal (so that the features' units do not matter); see
    :data:`DECREMENT_MAX_STEPS`. The quadratic model's decrease ``-q(d) = -(<g, d> - <r, d>) /
    2`` at the CG iterate is a lower bound that rises to the decrement; ``gb`` is the free
    intercept's derivative (None without one).

    With ``l2`` (``H + l2 I`` definite but for a multinomial's intercepts, whose class sum the
    softmax ignores: that component of ``gb``, rounding, comes projected out) a CG that breaks
    down (a curvature at the rounding level) or stops at :data:`DECREMENT_MAX_STEPS` short of
    :data:`DECREMENT_RTOL` gives ``inf``, no estimate: on wine at ``C = 1e18`` the intercepts'
    class sum of 74.6 (rounding of ``c (P - Y)``) blew CG up, the clipped decrease read 0 and
    a model 70% above its optimum passed; a truncated run passed one 1.6e-4 above at
    ``tol = 1e-4`` (a review). Unpenalised, a null curvature is the end of the flat directions
    (see below), and the lower bound is kept."""
    free = gb is not None
    K = G.shape[0]
    strict = l2 > 0.0
    # Unpenalised, a flat column (constant on the samples of positive weight, with a free
    # intercept; zero there, without) has a gradient and a curvature of rounding: CG divided
    # one by the other (a constant column of 1e4 beside an optimal model: a decrement of 0.08
    # per unit of c). Its components are held at 0. With l2 its curvature is l2: it counts.
    flat = flat_columns(X, c, free) if l2 == 0.0 else np.zeros(X.shape[1], dtype=bool)
    variances = losses.probability_variances(Z, P)
    top = None if P is None else P.argmax(axis=1)  # (once for all the products)
    diag_w, diag_b = _hessian_diagonal(X, c, variances)
    diag_w = diag_w + l2
    Mw = np.where(diag_w > 0.0, diag_w, 1.0)
    Mb = np.where(diag_b > 0.0, diag_b, 1.0)
    gw, gbv = np.array(G, dtype=float), (np.array(gb, dtype=float) if free else np.zeros(K))
    gw[:, flat] = 0.0
    dw, db = np.zeros_like(gw), np.zeros_like(gbv)
    rw, rb = -gw, -gbv
    decrease = 0.0
    center = free and K > 1  # keep the intercepts' part off the softmax's class sum

    def precondition(rw, rb):
        zb = rb / Mb if free else 0.0 * rb
        return rw / Mw, (zb - zb.mean() if center else zb)

    zw, zb = precondition(rw, rb)
    pw, pb = zw.copy(), zb.copy()
    rz = serial_dot(rw, zw) + serial_dot(rb, zb)
    rz_start = rz
    for _ in range(DECREMENT_MAX_STEPS):
        if not rz > 0.0:  # a zero gradient: the decrement is 0
            return max(decrease, 0.0)
        _, Hw, Hb = _hessian_product(X, P, variances, top, c, l2, free, pw, pb, scores=False)
        Hw[:, flat] = 0.0
        curvature = serial_dot(pw, Hw) + serial_dot(pb, Hb)
        # a direction of rounding curvature in the preconditioned metric (p'Mp: H's diagonal
        # weighs every coordinate alike) lies in H's null space, where the gradient is
        # rounding too: a column that is 1e4 times another gave 2.1 per unit of c
        size = serial_dot(pw * Mw, pw) + (serial_dot(pb * Mb, pb) if free else 0.0)
        if not curvature > DECREMENT_NULL_CURVATURE * size:
            return np.inf if strict else max(decrease, 0.0)
        a = rz / curvature
        dw, db = dw + a * pw, db + a * pb
        rw, rb = rw - a * Hw, rb - a * Hb
        previous = decrease
        decrease = -0.5 * (serial_dot(gw, dw) + serial_dot(gbv, db) - serial_dot(rw, dw)
                           - serial_dot(rb, db))  # fmt: skip
        if strict and not decrease >= 0.5 * previous:  # CG's decrease rises: a fall is a breakdown
            return np.inf
        zw, zb = precondition(rw, rb)
        rz_next = serial_dot(rw, zw) + serial_dot(rb, zb)
        if rz_next <= DECREMENT_RTOL**2 * rz_start:  # the residual down by DECREMENT_RTOL
            return max(decrease, 0.0)
        pw, pb = zw + (rz_next / rz) * pw, zb + (rz_next / rz) * pb
        rz = rz_next
    return np.inf if strict else max(decrease, 0.0)  # (strict: short of DECREMENT_RTOL)


class GapJudge:
    """The duality gap in :func:`~mlbasics.optimality.check_kkt`'s units, for one model.

    ``judge(primal, dual, scale)`` is ``|P - D|`` divided by :func:`gap_scale`, and with a pure
    L1 penalty by no less than ``floor / tol``, ``floor`` the gap an optimal model may still hold
    in float64 (:func:`l1_gap_floor`; computed once, and only when the gap fails without it: a
    pass over ``X``). ``X, Y, coef, intercept, c`` are the model's problem in the units of
    ``primal``, ``dual`` and ``scale``.
    """

    def __init__(self, X, Y, coef, intercept, c, penalty, tol, x_max=None):
        self.problem, self.penalty, self.tol = (X, Y, coef, intercept, c), penalty, tol
        self.x_max = x_max  # max |x_ij|, when the caller knows it
        self._floor = None

    def __call__(self, primal, dual, scale) -> float:
        unit = gap_scale(scale, primal, self.penalty, self.tol)
        with np.errstate(over="ignore", invalid="ignore"):
            gap = float(abs(primal - dual))
            judged = gap / unit
            if self.penalty == "l1" and judged > self.tol and gap <= self._floor_bound(primal):
                if self._floor is None:
                    self._floor = l1_gap_floor(*self.problem)
                judged = gap / max(unit, self._floor / self.tol)
        return judged

    def _floor_bound(self, primal) -> float:
        """An upper bound on :func:`l1_gap_floor` without its pass over ``X``: ``sum_k |r_ik|``
        is at most twice the sample's loss (``|p - y| <= -log p_y``), so the floor is at most
        ``4 L1_TOL_FLOOR P max|x| ||W||_1``. A gap above it fails whatever the floor (the
        floor's pass took a tenth of the dense L1 benchmark's fit, where it never mattered)."""
        X, coef = self.problem[0], self.problem[2]
        if self.x_max is None:
            self.x_max = abs_max(X)
        return 4.0 * L1_TOL_FLOOR * primal * self.x_max * float(np.abs(coef).sum())


def l1_gap_floor(X, Y, coef, intercept, c) -> float:
    """What the L1 dual point's gap may hold at an optimal model in float64:
    ``2 sum_j |w_j| rho_j`` with ``rho_j = L1_TOL_FLOOR sum_i c_i |r_i| |x_ij|``, the rounding
    of the gradient entry ``g_j`` (with the factor of :data:`L1_TOL_FLOOR`; ``r`` the residuals
    ``P - Y``).

    The L1 dual point is the residual vector shrunk by ``t = lambda_1 / ||X' theta||_inf``; to
    first order its gap is ``sum_j (e - s_j) |w_j|`` with ``s_j = |(X' theta)_j| - lambda_1``
    and ``e = max_j s_j``: linear in the stationarity residual, where the smooth penalties' gap
    is quadratic. With the ``s_j`` at the rounding of the gradient, that is the floor above.
    It does not depend on the features' units (``w_j`` scales as the inverse of ``x_ij``): a
    first floor, ``2 L1_TOL_FLOOR ||W||_1 min(sum c, P)``, grew as the features shrank, and
    passed models 64 ``tol`` above their optimum with features in units of 1e-8 (a review).
    ``coef`` includes liblinear's intercept column. See :doc:`/theory/duality`.
    """
    Z = np.asarray(X @ coef.T) + intercept
    E = np.abs(losses.probability_residuals(Z, Y, _probabilities(Z)))
    A = np.abs(coef).T
    with np.errstate(over="ignore"):
        if sparse.issparse(X):
            spread = np.asarray(abs(X) @ A)  # sum_j |x_ij| |w_kj|
        else:  # |X| in blocks of rows (a copy of all of it: 80 MB on the dense L1 benchmark)
            spread = np.empty_like(Z)
            for rows in row_blocks(X.shape[0], X.shape[1], max_bytes=8 * 2**20):
                spread[rows] = np.abs(X[rows]) @ A
        return 2.0 * L1_TOL_FLOOR * float(np.sum(c[:, None] * E * spread))


def logistic_report(
    model, X, y_index, sample_weight, tol, refine=0, advise=True, known_decrement=None
) -> KKTReport:
    """The :class:`KKTReport` of a fitted logistic regression on its training data.

    ``refine``: the Newton steps of the refined dual point (L2 or pure L1 penalty), or ``"auto"``:
    none while the plain gap passes ``tol`` or stationarity fails it (the verdict cannot change
    then), else the points of :data:`AUTO_REFINE_STEPS` in turn (and where the prediction
    settles it) until the gap passes. ``advise=False`` skips what only the advice reads (the
    scores' rounding, two passes over ``|X|``: 67 ms of a 0.65 s SGD fit on the CSR benchmark,
    whose ``duality_gap_`` is all the estimator keeps). ``known_decrement``: a
    :class:`KnownDecrement` the fit computed, used where its inputs are the report's.
    """
    classes = model.classes_
    n_classes = len(classes)
    coef = model.coef_  # dense, or sparse after scikit-learn's sparsify()
    coef = np.atleast_2d(np.asarray(coef.toarray() if sparse.issparse(coef) else coef, dtype=float))
    intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=float))
    n_outputs = 1 if n_classes == 2 else n_classes
    if coef.shape != (n_outputs, X.shape[1]):
        raise ValueError(
            f"coef_ has shape {coef.shape}; with {n_classes} classes and {X.shape[1]} features "
            f"check_kkt expects ({n_outputs}, {X.shape[1]}) (binary: one row; more: one row per "
            "class, the multinomial loss)."
        )
    if intercept.ndim != 1 or intercept.shape[0] not in (1, n_outputs):
        raise ValueError(
            f"intercept_ has shape {np.shape(model.intercept_)}; with {n_classes} classes "
            f"check_kkt expects ({n_outputs},)."
        )
    for name, value in (("coef_", coef), ("intercept_", intercept)):
        if not np.all(np.isfinite(value)):
            raise ValueError(
                f"{model_name(model)}.{name} holds NaN or infinite values: not a fitted model "
                "whose optimality can be judged."
            )
    C, l1, l2 = penalty_strengths(model)
    class_weight = getattr(model, "class_weight", None)
    per_class = (
        np.ones(n_classes)
        if class_weight is None
        else class_weights(class_weight, classes, y_index, sample_weight)
    )
    if n_outputs == 1:
        Y = y_index.reshape(-1, 1).astype(float)
    else:
        Y = np.zeros((len(y_index), n_classes))
        Y[np.arange(len(y_index)), y_index] = 1.0

    n_features = X.shape[1]  # in the report, index n_features names the intercept
    fit_intercept = bool(getattr(model, "fit_intercept", True))
    # liblinear penalises the intercept: it is the weight of a constant feature.
    penalised_intercept = fit_intercept and getattr(model, "solver", None) == "liblinear"
    if penalised_intercept:
        s = float(getattr(model, "intercept_scaling", 1.0))
        ones = np.full((X.shape[0], 1), s)
        X = sparse.hstack([X, ones], format="csr") if sparse.issparse(X) else np.hstack([X, ones])
        coef = np.hstack([coef, intercept[:, None] / s])
        intercept = np.zeros(n_outputs)
    name_penalty = penalty_name(l1, l2)
    problem = (X, Y, coef, intercept, fit_intercept and not penalised_intercept, name_penalty)

    exponent = 0
    settled = None
    damped = DAMPED_NEWTON_ITERATIONS if refine == "auto" else 0
    if name_penalty not in ("l2", "l1") or not refine:
        steps = ()
    elif refine == "auto":
        steps = AUTO_REFINE_STEPS

        def settled(primal, dual, stationarity, scale):  # the verdict no longer depends on D
            fails = judge(primal, dual, scale) > tol
            return not (stationarity <= l1_capped_tol(tol, l1, scale, primal) and fails)
    else:
        steps = (refine,)
    try:  # underflow (of exp(-margin) and the like) is benign here: it never warns
        with np.errstate(over="raise", under="ignore"):
            c = C * sample_weight * per_class[y_index]
            judge = GapJudge(*problem[:4], c, name_penalty, tol)  # (settled reads it)
            primal, dual, stationarity, distance, scale, (used, reached, newton) = _certificate(
                *problem, c, l1, l2, steps=steps, settled=settled, damped=damped
            )
        plain = bool(np.isfinite([primal, stationarity, scale]).all()) and not np.isinf(dual)
    except FloatingPointError:
        plain = False
    if not plain:
        # Some number left the float range (e.g. C=1e300: ||X' theta||^2 with theta ~ c). The
        # same computation per unit 2**exponent of c: c and the penalty strengths scaled by that
        # power of two, exactly; the residuals and the gap per unit of c come out finite whenever
        # they are representable, and P, D, P - D are scaled back at the end (+-inf beyond range).
        factors = (C, sample_weight, per_class[y_index])
        exponents = [int(np.frexp(float(np.max(f, initial=0.0)))[1]) for f in factors]
        exponent = sum(exponents)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            c = np.ones(len(y_index))
            for factor, e in zip(factors, exponents, strict=True):
                c = c * np.ldexp(factor, -e)
            l1_unit, l2_unit = (float(np.ldexp(v, -exponent)) for v in (l1, l2))
            judge = GapJudge(*problem[:4], c, name_penalty, tol)
            primal, dual, stationarity, distance, scale, (used, reached, newton) = _certificate(
                *problem, c, l1_unit, l2_unit, robust=True
            )
    # the stationarity threshold, from l1 and scale in the same units (per 2**exponent of c)
    l1_here, l2_here = (l1_unit, l2_unit) if exponent else (l1, l2)
    stationarity_tol = l1_capped_tol(tol, l1_here, scale, primal)
    primal_here = primal  # in the units of c, scale and l2_here
    with np.errstate(over="ignore", invalid="ignore"):
        gap = primal - dual
        relative = gap / gap_scale(scale, primal, name_penalty, tol)  # per unit of c or of P
        judged = judge(primal, dual, scale) if not np.isnan(dual) else np.nan
        if exponent:
            primal, dual, gap = (float(np.ldexp(v, exponent)) for v in (primal, dual, gap))
    if np.isnan(relative) and not np.isnan(dual):  # inf - inf: beyond the float range
        gap = relative = judged = np.inf

    per_feature = distance.max(axis=0)
    violations = {"stationarity": stationarity}
    advice = ""
    if not np.isnan(dual):
        violations["duality gap"] = judged
        if name_penalty == "l2" and stationarity <= tol < violations["duality gap"]:
            refined = f"up to {reached} Newton steps" + (
                f" and up to {damped} damped Newton iterations" if damped else ""
            )
            advice = "the gap fails while stationarity passes: " + (
                f"also with dual points refined by\n  {refined}.\n  Either the model is "
                "further from the optimum than its gradient suggests (along a flat\n  "
                "direction), or more steps (check_kkt(..., refine=k)) tighten the bound."
                if reached
                else "on many samples the dual point built from the\n  model's residuals "
                "overstates P - P*; check_kkt(..., refine=3) builds a tighter one."
            )
    elif name_penalty != "none":  # a penalty, but no feasible dual point to bound P* with
        violations["duality gap"] = np.inf
        advice = (
            "no dual bound: the intercepts could not balance the classes' residuals (a model\n"
            "  far from its optimum, with saturated probabilities)."
            if fit_intercept
            else "no dual bound: the dual point's value is not a number (saturated\n"
            "  probabilities of a model far from its optimum)."
        )
    elif stationarity <= tol:  # see DECREMENT_MAX_STEPS (c in either units)
        known = known_decrement and known_decrement.value_for(*problem[:5], c)
        decrement = model_decrement(*problem[:5], c, 0.0) if known is None else known
        violations["Newton decrement"] = unpenalised_decrement(decrement, primal_here, scale)
    judge_at, unresolved, decides, estimate = 0.0, False, False, None
    if name_penalty == "l2" and stationarity <= tol < violations.get("duality gap", 0.0):
        floor = gap_floor(X, residual_rounding(*problem[:4], c), l2_here)
        unresolved = gap_unresolvable(floor, scale, primal_here, tol)
        judge_at = decrement_tol(floor, scale, primal_here, tol)
        if judge_at > 0.0 or (advice and reached):  # (per unit of min(sum c, P))
            estimate = model_decrement(*problem[:5], c, l2_here) / min(scale, primal_here)
        decides = judge_at > 0.0 and (unresolved or estimate <= judge_at)
    if decides:  # the decrement judges (see decrement_tol), per unit of min(sum c, P):
        # (when gap_scale's floor was 64 eps sum c / tol, 1e4 times P on separable iris at
        # C = 1e20, a decrement judged in it passed a model 6500 times its optimum's objective)
        violations["Newton decrement"] = estimate
        advice = ""
    elif advice and reached:  # the refined gap fails while stationarity passes: an estimate
        advice += (
            f"\n  The Newton decrement estimates (P - P*) / P at {estimate:.2g} (not judged: "
            "an estimate, where\n  the gap is a bound; at a huge C on nearly separable data "
            "the bound may not get\n  tighter in float64)."
        )
    if stationarity <= stationarity_tol < tol and violations.get("duality gap", 0.0) > tol:
        below = l1_resolution_advice(l1_here, scale, primal_here)
        if below:  # (the gap's verdict stands: the stationarity floor alone passed a model 9%
            # above its optimum on separable data; see L1_TOL_FLOOR)
            advice = (advice + "\n  " if advice else "") + textwrap.fill(
                below, width=96, subsequent_indent="  "
            )
    if advise and stationarity > stationarity_tol and not exponent and np.isfinite(stationarity):
        floor = _stationarity_rounding(X, coef, intercept, c)
        if stationarity <= 10.0 * floor:
            advice = (advice + "\n  " if advice else "") + (
                "the stationarity residual is within the rounding of the original coordinates: "
                f"the\n  scores' rounding alone puts up to about {floor:.2g} per unit of c into "
                "the gradient (features with\n  large values or means amplify it). Standardise "
                "the features (StandardScaler in a Pipeline)\n  to check the model."
            )
    described = f"{model_name(model)} (logistic, {name_penalty} penalty, {n_classes} classes"
    if newton:
        described += f"; dual point from {newton} damped Newton iterations"
    elif used:
        described += f"; dual point from {used} Newton steps"
    thresholds = {}
    if decides and unresolved:
        described += (
            "; its gap cannot resolve tol in float64 at this C: judged by the Newton decrement"
        )
    elif decides:
        described += (
            f"; its gap cannot resolve {judge_at:.2g} in float64 at this C: judged by the Newton "
            "decrement at that tol"
        )
        thresholds["Newton decrement"] = judge_at
    if decides:
        thresholds["duality gap"] = np.inf
    if stationarity_tol < tol:
        thresholds["stationarity"] = stationarity_tol
        described += f"; stationarity judged at {_capped_by(stationarity_tol, l1_here, scale)}"
    return KKTReport(
        violations=violations,
        worst={"stationarity": worst_indices(per_feature, np.arange(len(per_feature)))},
        intercept_index=n_features if fit_intercept else None,
        primal_objective=primal,
        dual_objective=dual,
        duality_gap=gap,
        problem_gaps=np.array([gap]),
        tol=float(tol),
        thresholds=thresholds,
        model=described + ")",
        advice=advice,
        worst_of="features",
    )
