"""Optimality conditions of a fitted kernel SVM, read from scikit-learn's fitted attributes.

Works for :class:`mlbasics.SVC` (every loss and solver) and :class:`sklearn.svm.SVC` alike: both
store ``dual_coef_`` (``y_i alpha_i`` of the support vectors in libsvm's one-vs-one layout),
``support_``, ``n_support_``, ``intercept_`` and ``classes_``, and the kernel's parameters.
"""

from __future__ import annotations

import dataclasses
import math
from itertools import combinations

import numpy as np
from scipy import sparse
from scipy.special import expit

from .. import losses
from .._ovo import pair_coefficients
from .._validation import canonical_sparse, class_weights
from ..kernels import (
    KernelSpec,
    callable_kernel_rows,
    fitted_kernel,
    rbf_centre,
    resolve_gamma,
    row_blocks,
    subtract_centre,
)
from ._report import KKTReport, merge_worst, worst_entries

__all__ = [
    "BOUND_RTOL",
    "SVM_ATTRIBUTES",
    "gap_scale",
    "logistic_dual_at",
    "released_logistic",
    "svm_report",
]

#: Fitted attributes (and parameters) a kernel SVM must have to be judged.
SVM_ATTRIBUTES = ("dual_coef_", "support_", "n_support_", "intercept_", "classes_", "C", "kernel")

#: ``alpha_i`` within ``BOUND_RTOL * C_i`` of ``C_i`` counts as at that bound (solvers store
#: bounded variables exactly, up to the rounding of ``C_i`` computed in another order); within
#: ``BOUND_RTOL * min(C_i, max_j alpha_j)`` of 0, as at 0. The lower bound has no scale of its own:
#: relative to ``C_i`` alone, a ``C`` far above the solution's scale (the hard-margin limit) read
#: every support vector as 0 and exempted it from complementary slackness (features of order
#: 1000, ``C = 1000``: every ``alpha_i`` was ``2e-9 C_i``, and a model with ``dual_coef_`` doubled,
#: four times the optimal objective, passed). The QP solver snaps to 0 by a rule of the same form
#: (``svm._qp._clean``, with its own, larger tolerance): what it snaps is exactly 0 here.
BOUND_RTOL = 1e-8

#: The logistic dual saturates within this fraction of its bounds (the SMO solver's
#: ``svm._smo_kernels.LOGISTIC_EPS``, which a test holds equal to it).
LOGISTIC_SATURATION = 1e-12

#: Relative slack on :data:`LOGISTIC_SATURATION` when reading a variable as saturated: the solver
#: stores ``alpha_i = 1e-12 C_i`` or ``(1 - 1e-12) C_i`` with its own rounding of ``C_i``, and
#: ``u = alpha_i / C_i`` lands a few ulps either side (near 1 an ulp is 1e-4 of 1e-12).
SATURATION_RTOL = 1e-3

_LOSSES = ("hinge", "squared_hinge", "logistic")

#: Where scikit-learn's SVC with a callable kernel keeps its training X (private, as of 1.9; there
#: is no public equivalent). Optional: used to tell wrong data apart, never needed to judge.
SKLEARN_FITTED_X = "_BaseLibSVM__Xfit"

_CONJUGATES = {
    "hinge": losses.hinge_conjugate,
    "squared_hinge": losses.squared_hinge_conjugate,
    "logistic": losses.logistic_conjugate,
}


def _dense(a):
    return a.toarray() if sparse.issparse(a) else np.asarray(a)


def _kernel_products(model, X, W, rows, left=None):
    """``K(X, SV) @ W``, by blocks of rows of bounded memory (never the whole ``n x n_SV``).

    ``rows`` are the rows of ``X`` that are the support vectors (see :func:`_support_rows`);
    ``left``, when given, the rows of ``X`` to compute the products for (default: all).
    """
    kernel = fitted_kernel(model)
    if isinstance(kernel, str) and kernel == "precomputed":
        return _dense((X if left is None else X[left])[:, rows]) @ W
    SV = model.support_vectors_
    if callable(kernel) and SV.shape[0] != len(rows):
        SV = X[rows]  # scikit-learn keeps no support vectors for a callable
    spec = _kernel_spec(model, X, kernel)
    X_left = X if left is None else X[left]
    if kernel == "linear":
        # X (SV' W): the same products, rounded at the size of x'w rather than of x'x_j (rows
        # far from the origin: a column of 1e5 put 0.1 of rounding on the margins of an optimal
        # model in the kernel form)
        weights = np.asarray(SV.T @ W) if sparse.issparse(SV) else SV.T @ W
        return np.asarray(X_left @ weights)
    if kernel == "rbf":
        # (differences of rows only: taken near the data, as SVC does, so that the norms in
        # ||x||^2 + ||z||^2 - 2 x'z do not cancel them for data far from the origin; sparse
        # rows in their mostly filled columns only, where the centre is not 0)
        centre = rbf_centre(X)
        if np.any(centre):  # (a centre of 0 moves nothing)
            X_left, SV = subtract_centre(X_left, centre), subtract_centre(SV, centre)
    out = np.empty((X_left.shape[0], W.shape[1]))
    for block, values in spec.blocks(X_left, SV):
        out[block] = values @ W
    return out


def _kernel_spec(model, X, kernel) -> KernelSpec:
    """The :class:`~mlbasics.kernels.KernelSpec` of a fitted SVM (not precomputed)."""
    if callable(kernel):
        return KernelSpec(kernel)
    fitted = getattr(model, "_kernel_spec", None)
    if fitted is not None:
        return fitted
    gamma = resolve_gamma(model.gamma, X) if kernel in ("rbf", "poly", "sigmoid") else 1.0
    return KernelSpec(kernel, gamma, float(model.coef0), int(model.degree))


def _definiteness_note(model, X, used, support) -> str:
    """A note for the report when the kernel matrix is not shown positive semidefinite.

    Everything the report computes assumes a convex primal. A kernel that is not PSD by
    construction (sigmoid, polynomial with ``coef0 < 0``, precomputed, callable) has its matrix
    on the training samples of positive weight ``used`` checked (up to
    :data:`~mlbasics.svm._checks.EIGENVALUE_CHECK_MAX` of them, else on the support vectors, and
    the note then says that the other rows were not checked):
    an eigenvalue below ``-INDEFINITE_RTOL`` times the largest (the QP solver's threshold for
    rounding) makes the primal unbounded below, and a passing report a KKT point only (a review:
    a sigmoid fit on iris passed at 1e-6, its primal falling to -2.3e6 along an eigenvector of
    eigenvalue -4.67). Empty when the matrix is PSD or the kernel is PSD by construction.
    """
    from ..svm._checks import EIGENVALUE_CHECK_MAX
    from ..svm._qp import INDEFINITE_RTOL

    kernel = fitted_kernel(model)
    named = isinstance(kernel, str)
    if named and (kernel in ("linear", "rbf") or (kernel == "poly" and model.coef0 >= 0)):
        return ""
    what = f"{kernel} kernel" if named else "callable kernel"
    unchecked = (
        f"note: a {what} need not be positive semidefinite; {{}} (at most "
        f"{EIGENVALUE_CHECK_MAX}): a pass certifies a KKT point, an optimum only if that matrix "
        "is PSD"
    )
    rows, partial = used, ""
    if len(rows) > EIGENVALUE_CHECK_MAX:
        rows, partial = support, " (rows beyond the support vectors unchecked)"
    if len(rows) > EIGENVALUE_CHECK_MAX:
        return unchecked.format(f"its matrix on {len(rows)} support vectors was not checked")
    if named and kernel == "precomputed":
        gram = _dense(X[rows][:, rows])
    else:
        gram = _kernel_spec(model, X, kernel).matrix(X[rows], X[rows])
    from scipy.linalg import eigvalsh

    values = eigvalsh(0.5 * (gram + gram.T))
    where = "support vectors" if partial else "training samples"
    if len(values) == 0 or values[0] >= -INDEFINITE_RTOL * max(values[-1], 0.0):
        # (a PSD block of the support vectors says nothing of the other rows: a review)
        return partial and unchecked.format(
            f"its matrix on the {len(rows)} support vectors is, on the {len(used)} training "
            "samples it was not checked"
        )
    return (
        f"note: the {what}'s matrix on the {where} has eigenvalues down to {values[0]:.3g} "
        f"(largest {values[-1]:.3g}){partial}: not positive semidefinite, so the primal is not "
        "convex (unbounded below): a pass certifies a KKT point, not an optimum, and P - D "
        "bounds nothing"
    )


def _balanced(y, alpha):
    """``alpha`` with ``sum_i alpha_i y_i = 0`` restored: the class with the excess scaled down.

    Returns ``(alpha', kappa, excess_class)``: the ``alpha_i`` of the class (``+1`` or ``-1``)
    whose sum is the larger are multiplied by ``kappa = (other sum) / (larger sum)`` in
    ``[0, 1)``, which keeps them in ``[0, C_i]``; ``kappa = 1`` (nothing to do) when the sums are
    equal or an ``alpha_i`` is negative (the point is then infeasible anyway: the box decides).
    """
    if np.any(alpha < 0):
        return alpha, 1.0, 0.0
    positive = y > 0
    sums = float(alpha[positive].sum()), float(alpha[~positive].sum())
    if sums[0] == sums[1]:
        return alpha, 1.0, 0.0
    excess_class = 1.0 if sums[0] > sums[1] else -1.0
    kappa = min(sums) / max(sums)
    scaled = np.where(y == excess_class, kappa * alpha, alpha)
    return scaled, kappa, excess_class


def _check_training_data(model, X):
    """What can be checked of ``X`` as a whole: its number of rows, its shape for a precomputed
    kernel, and for scikit-learn's callable kernels the training X it keeps."""
    shape = getattr(model, "shape_fit_", None)
    if shape is not None and X.shape[0] != shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} rows but the model was fitted on {shape[0]}: the KKT conditions "
            "are about the training data; pass X (and y, sample_weight) as given to fit."
        )
    if isinstance(fitted_kernel(model), str) and fitted_kernel(model) == "precomputed":
        n_fit = X.shape[0] if shape is None else shape[0]
        if X.shape != (n_fit, n_fit):
            raise ValueError(
                f"kernel='precomputed': X must be the training kernel matrix of shape "
                f"({n_fit}, {n_fit}); got {X.shape}."
            )
        return
    # scikit-learn's SVC with a callable kernel stores no support vectors (support_vectors_ is
    # empty) and no public attribute holds its training X; it keeps it in a private one, read
    # only if it is there and an array of rows (a list of strings, 2-D features, 3-D series: as
    # given to fit). Without it only the number of rows is checked.
    fitted_X = getattr(model, SKLEARN_FITTED_X, None) if callable(fitted_kernel(model)) else None
    if fitted_X is None:
        return
    # read as check_kkt read X: ragged lists and records become object arrays of their rows
    # (compared row by row below: a ragged list was not compared at all), sparse entries summed
    # in the same order (float32 sums of duplicates in stored order were 1 ulp off: a review)
    fitted_X = callable_kernel_rows(fitted_X)
    if sparse.issparse(fitted_X):
        fitted_X = canonical_sparse(fitted_X)
    try:
        fitted_X = np.asarray(_dense(fitted_X))
    except (TypeError, ValueError):  # not an array of rows: nothing to compare with
        return
    if fitted_X.ndim == 0:
        return
    if fitted_X.ndim == X.ndim == 2 and fitted_X.shape[1] != X.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features but {type(model).__name__} was fitted on "
            f"{fitted_X.shape[1]} features: the KKT conditions are about the training data; pass "
            "X as given to fit."
        )
    if fitted_X.shape != X.shape or not _same_data(_dense(X), fitted_X):
        raise ValueError(
            "X differs from the data the model was fitted on: X is not the training data of this "
            "model (in the same row order)."
        )


def _same_data(A, B) -> bool:
    """Whether two arrays of the same shape hold the same data: numbers to 1e-12 (NaN where the
    other has NaN: a callable kernel may read missing values), anything else (the strings or
    indices a callable kernel reads) exactly."""
    A, B = np.asarray(A), np.asarray(B)
    if A.dtype.kind in "biuf" and B.dtype.kind in "biuf":
        # (rtol too: allclose's default 1e-5 let a support vector changed by 1e-6 pass: a review)
        return bool(np.allclose(A, B, rtol=1e-12, atol=1e-12, equal_nan=True))
    if A.dtype == object or B.dtype == object:  # rows that are arrays (ragged sequences), ...
        return A.shape == B.shape and all(
            _same_row(a, b) for a, b in zip(A.ravel(), B.ravel(), strict=True)
        )
    return bool(np.array_equal(A, B))


def _same_row(a, b) -> bool:
    """Whether two rows of an object array hold the same data, as :func:`_same_data` compares
    arrays: numbers to 1e-12 with NaN equal to NaN, and, recursively, sequences numpy cannot
    stack and dicts (elementwise ``==`` of numpy arrays made ``array_equal`` ask for the truth
    value of an array, and exact ``==`` told a reloaded model's rows with NaN apart from the
    training data's: reviews)."""
    if a is b:
        return True
    a, b = (v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v for v in (a, b))
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_same_row(a[k], b[k]) for k in a)
        )
    try:
        A, B = np.asarray(a), np.asarray(b)
    except ValueError:  # sequences of sequences of different lengths
        A = B = None
    if A is None or A.dtype == object or B.dtype == object:
        if isinstance(a, (list, tuple, np.ndarray)) and isinstance(b, (list, tuple, np.ndarray)):
            return len(a) == len(b) and all(_same_row(x, z) for x, z in zip(a, b, strict=True))
        try:
            return bool(a == b)
        except (TypeError, ValueError):  # objects whose == is not a truth value
            return False
    return A.shape == B.shape and _same_data(A, B)


def _same_support_vectors(A, B) -> bool:
    """:func:`_same_data` of the rows ``A`` and the support vectors ``B`` (same shape), sparse
    ones densified a block of rows at a time (whole, 3000 sparse rows of 50 001 features took
    3.9 GB where the fit had taken 104 MB: a review)."""
    if not (sparse.issparse(A) or sparse.issparse(B)):
        return _same_data(A, B)
    A, B = (sparse.csr_array(M) if sparse.issparse(M) else M for M in (A, B))
    return all(
        _same_data(_dense(A[block]), _dense(B[block]))
        for block in row_blocks(A.shape[0], A.shape[1], max_bytes=8 * 2**20)
    )


def _reading_problem(model, X, y_index, rows):
    """Why ``rows`` cannot be the rows of the support vectors in ``X``, or None when they can."""
    if rows.size and (rows.min() < 0 or rows.max() >= X.shape[0]):
        return f"support_ points outside the {X.shape[0]} rows of X"
    precomputed = isinstance(fitted_kernel(model), str) and fitted_kernel(model) == "precomputed"
    if not precomputed:
        SV = model.support_vectors_
        if SV.shape[0] and (
            SV.shape != (len(rows), *X.shape[1:]) or not _same_support_vectors(X[rows], SV)
        ):
            return "X[support_] differs from support_vectors_"
    n_support = np.asarray(model.n_support_)
    n_classes = len(model.classes_)
    if len(n_support) == n_classes and int(n_support.sum()) == len(rows):
        # support vectors come grouped by class, n_support_[k] of class k
        if not np.array_equal(y_index[rows], np.repeat(np.arange(n_classes), n_support)):
            return "the labels y[support_] are not the classes n_support_ groups them in"
    return None


def _support_rows(model, X, y_index, sample_weight) -> list[np.ndarray]:
    """The rows of ``X`` that ``support_`` designates: every reading of it that fits the data.

    mlbasics' ``support_`` indexes the rows of ``X``. scikit-learn's libsvm drops the samples of
    weight 0 before it trains and its ``support_`` indexes the samples left (as of scikit-learn
    1.9; its pull request 27763 would change that), so when some weights are 0 that reading is
    tried too. A reading fits when its rows hold ``support_vectors_`` (when the model keeps them)
    and carry the labels of the class blocks of ``n_support_``. Readings whose rows all have a
    positive weight come first and the others are dropped; more than one is left only when the
    data cannot tell them apart (e.g. a precomputed kernel), and the caller judges each.

    Raises ``ValueError`` naming the mismatch when no reading fits.
    """
    support = np.asarray(model.support_, dtype=np.intp)
    readings = [support]
    kept = np.flatnonzero(sample_weight > 0)
    if len(kept) < X.shape[0] and support.size and 0 <= support.min() <= support.max() < len(kept):
        dropped = kept[support]  # libsvm's reading: indices among the samples of positive weight
        if not np.array_equal(dropped, support):
            readings.append(dropped)
    fitting, problems = [], []
    for rows in readings:
        problem = _reading_problem(model, X, y_index, rows)
        if problem is None:
            fitting.append(rows)
        else:
            problems.append(problem)
    if not fitting:
        raise ValueError(
            f"{problems[0]}: X is not the training data of this model (in the same row order), "
            "or y, sample_weight are not the labels and weights given to fit."
        )
    positive = [rows for rows in fitting if np.all(sample_weight[rows] > 0)]
    return positive or fitting


def gap_scale(loss, upper, primal) -> float:
    """What the duality gap ``P - D`` of one binary problem is divided by to be judged at ``tol``.

    ``sum C_i`` for the hinge losses: a sample at ``alpha_i = 0`` whose margin is ``1 - tol``
    (within ``tol``, so the solver stops) adds ``C_i tol`` to ``P``. The logistic loss is smooth:
    a margin residual ``r_i`` leaves a bracket of about ``alpha_i r_i^2 / 2`` and ``sum alpha_i``
    is at most ``P``, so its gap is judged relative to ``P`` as well, ``min(sum C_i, P)``, with
    ``D`` taken at the released point of :func:`_released_dual`.
    """
    total = float(np.sum(upper))
    if loss == "logistic" and primal > 0.0:
        return min(total, float(primal))
    return total


def _relative_gap(gap, loss, upper, primal) -> float:
    """``gap / gap_scale(...)``; where ``sum C_i`` overflows (``C`` near 1e307), in units of the
    largest ``C_i`` (the overflowed sum made every gap 0, "ok": a review)."""
    scale = gap_scale(loss, upper, primal)
    if math.isfinite(scale):
        return gap / scale
    top = float(np.max(upper))
    return (gap / top) / float(np.sum(upper / top))


def _saturated(u):
    """``(low, high)``: the logistic variables ``u = alpha / C`` at the floor or the ceiling of the
    solvers' box; read as interior, a saturated ``u`` an ulp inside its bound would compare
    ``m_i`` with ``log(1e12)``."""
    edge = LOGISTIC_SATURATION * (1.0 + SATURATION_RTOL)
    return u <= edge, u >= 1.0 - edge


def _logistic_link(alpha, upper):
    """``log((C_i - alpha_i) / alpha_i)``, the margin at which ``alpha_i = C_i sigmoid(-m_i)``.

    From ``C_i - alpha_i``, exact where ``alpha_i`` is near ``C_i`` (Sterbenz), not from ``1 - u``
    with ``u = alpha_i / C_i``, whose rounding near 1 is relative to ``1 - u``: at ``1 - u =
    5e-11`` the link was 6e-7 off and a logistic fit converged at ``tol=1e-6`` (residual 5.5e-7)
    failed it with 1.1e-6 (a review; the solver's own link is this form).
    """
    return np.log(upper - alpha) - np.log(alpha)


def released_logistic(y, alpha, upper, margins):
    """``(released, held)``: the logistic dual variables with those the saturation box holds away
    from their optimum given their margin set to it, ``C_i sigmoid(-m_i)``, then balanced
    (:func:`_balanced`), and the mask of the held ones.

    Held: at the floor ``1e-12 C_i`` with a margin beyond ``log(1e12)``, or at the ceiling with
    one below ``-log(1e12)``. :func:`_released_dual` evaluates ``D`` at the released point, and the
    SMO solver does the same when it stops (:func:`logistic_dual_at`).
    """
    u = alpha / upper
    with np.errstate(divide="ignore", invalid="ignore"):
        link = _logistic_link(np.clip(alpha, 0.0, upper), upper)
    low, high = _saturated(u)
    held = (low & (margins > link)) | (high & (margins < link))
    released = alpha.copy()
    released[held] = upper[held] * expit(-margins[held])
    if held.any():
        released, _, _ = _balanced(y, released)
    return released, held


def logistic_dual_at(alpha, upper, quadratic) -> float:
    """``D = -1/2 v'Kv - sum_i C_i l*(-alpha_i / C_i)`` of the logistic loss, given ``v'Kv``
    (``-inf`` where it is not finite)."""
    with np.errstate(invalid="ignore"):
        dual = -0.5 * quadratic - float(upper @ losses.logistic_conjugate(-alpha / upper))
    return dual if np.isfinite(dual) else -np.inf


def _released_dual(model, X, support, rows, y, alpha, margins, upper) -> float:
    """The logistic dual at ``alpha`` with the saturated variables released: ``-inf`` if none.

    The solvers keep ``alpha_i`` in ``[1e-12 C_i, (1 - 1e-12) C_i]``. A variable held at that
    floor while its margin is beyond ``log(1e12)`` has its optimum, given the margin,
    ``C_i sigmoid(-m_i)``, outside the box; at ``alpha`` it adds about ``1e-12 C_i (m_i - 28.6)``
    to ``P - D``, a first-order term, though it moves ``P`` only to second order. Released to
    that value (then balanced, :func:`_balanced`) the dual point keeps only the second-order
    part, ``||f - f_released||^2 / 2``, and its ``D`` is as valid a lower bound. Costs one kernel
    product over the support vectors.
    """
    if np.any(alpha < 0):
        return -np.inf
    released, held = released_logistic(y, alpha, upper, margins)
    if not held.any():
        return -np.inf
    position = np.full(X.shape[0], -1)  # where each row of X sits among the support vectors
    position[support] = np.arange(len(support))
    if np.any(position[rows] < 0):
        return -np.inf
    v = np.zeros(len(support))
    v[position[rows]] = y * released
    quadratic = float(v @ _kernel_products(model, X, v[:, None], support, left=support)[:, 0])
    return logistic_dual_at(released, upper, quadratic)


def _bounds(model, y_index, sample_weight):
    """``C_i``: ``C`` times the sample weight times the class weight."""
    classes = model.classes_
    per_class = getattr(model, "class_weight_", None)  # scikit-learn's SVC stores it
    if per_class is None:
        class_weight = getattr(model, "class_weight", None)
        if class_weight is None:
            per_class = np.ones(len(classes))
        else:
            per_class = class_weights(class_weight, classes, y_index, sample_weight)
    return float(model.C) * sample_weight * np.asarray(per_class, dtype=float)[y_index]


def _problem(loss, y, alpha, margins, upper, quadratic, index, dual_point=None):
    """Residuals, objectives and worst samples of one binary problem.

    ``y`` labels in {-1, +1}, ``alpha`` dual variables, ``margins`` ``y_i f(x_i)``, ``upper``
    ``C_i``, ``quadratic`` ``v'Kv`` with ``v = y * alpha``, ``index`` the rows of X.
    ``dual_point``, when given, is ``(alpha', v'Kv')`` of the point ``D`` is evaluated at (``alpha``
    balanced by :func:`_balanced`); the residuals are always those of ``alpha``.
    """
    res: dict[str, np.ndarray | float] = {}
    scale = float(upper.max())
    balance = abs(float(y @ alpha)) / scale
    u = alpha / upper
    # at 0: within BOUND_RTOL of it relative to C_i or to the largest alpha, whichever is smaller
    lower = alpha <= BOUND_RTOL * np.minimum(upper, alpha.max(initial=0.0))
    if loss == "hinge":
        res["dual feasibility"] = np.maximum(np.maximum(-u, u - 1.0), 0.0)
        at_upper = u >= 1.0 - BOUND_RTOL
        free = ~(lower | at_upper)
        res["primal feasibility"] = np.where(lower, np.maximum(1.0 - margins, 0.0), 0.0)
        res["complementary slackness"] = np.where(
            free, np.abs(margins - 1.0), np.where(at_upper, np.maximum(margins - 1.0, 0.0), 0.0)
        )
        res["stationarity"] = balance
        loss_values, conjugate = losses.hinge(margins), losses.hinge_conjugate(-u)
    elif loss == "squared_hinge":
        res["dual feasibility"] = np.maximum(-u, 0.0)
        target = 1.0 - alpha / (2.0 * upper)  # alpha_i = 2 C_i (1 - m_i)_+
        per_sample = np.where(lower, np.maximum(1.0 - margins, 0.0), np.abs(margins - target))
        res["stationarity"] = np.maximum(per_sample, balance)
        res["_stationarity_samples"] = per_sample
        loss_values, conjugate = losses.squared_hinge(margins), losses.squared_hinge_conjugate(-u)
    else:
        res["dual feasibility"] = np.maximum(np.maximum(-u, u - 1.0), 0.0)
        inside = (u > 0.0) & (u < 1.0)
        safe = np.clip(alpha, LOGISTIC_SATURATION * upper, (1.0 - LOGISTIC_SATURATION) * upper)
        link = _logistic_link(safe, upper)  # alpha_i = C_i sigmoid(-m_i): m_i = log((1-u)/u)
        per_sample = np.abs(margins - link)
        low, high = _saturated(u)
        per_sample = np.where(low, np.maximum(link - margins, 0.0), per_sample)
        per_sample = np.where(high, np.maximum(margins - link, 0.0), per_sample)
        per_sample = np.where(inside | low | high, per_sample, 0.0)
        res["stationarity"] = np.maximum(per_sample, balance)
        res["_stationarity_samples"] = per_sample
        loss_values, conjugate = losses.logistic(margins), losses.logistic_conjugate(-u)
    primal = 0.5 * quadratic + float(upper @ loss_values)
    if dual_point is not None:  # D at alpha balanced: y'alpha = 0, the dual's equality
        u = dual_point[0] / upper
        quadratic = dual_point[1]
        conjugate = _CONJUGATES[loss](-u)
    if float(np.max(res["dual feasibility"], initial=0.0)) <= BOUND_RTOL:
        # bounds C_i rounded differently by the solver: evaluate the conjugate on the box
        hi = np.inf if loss == "squared_hinge" else 1.0
        conjugate = _CONJUGATES[loss](-np.clip(u, 0.0, hi))
    with np.errstate(invalid="ignore"):
        dual = -0.5 * quadratic - float(upper @ conjugate)
    if not np.isfinite(dual):
        dual = -np.inf
    violations, worst = {}, {}
    for name, value in res.items():
        if name.startswith("_"):
            continue
        value = np.asarray(value, dtype=float)
        violations[name] = float(value.max(initial=0.0))
        samples = res.get("_" + name.replace(" ", "_") + "_samples", value)
        if np.ndim(samples):
            worst[name] = worst_entries(np.asarray(samples), index)
    return violations, worst, primal, dual


def _check_attributes(model) -> None:
    """Raise a ``ValueError`` when the fitted attributes do not fit together (libsvm's layout):
    ``n_support_`` one count per class, ``support_`` as many indices as they add up to,
    ``dual_coef_`` of shape ``(n_classes - 1, n_SV)`` and ``intercept_`` one offset per pair of
    classes, both finite."""
    n_classes = len(model.classes_)
    n_pairs = n_classes * (n_classes - 1) // 2
    n_support = np.asarray(model.n_support_)
    support = np.asarray(model.support_)
    dual_coef = _dense(model.dual_coef_)
    intercept = np.asarray(model.intercept_)
    name = type(model).__name__
    if n_support.ndim == 1 and n_support.shape[0] < n_classes:
        raise ValueError(
            f"{name}.n_support_ has {n_support.shape[0]} counts for {n_classes} classes: the "
            "model was trained on fewer classes than classes_ names (libsvm leaves out a class "
            "whose samples all weigh 0), so the one-vs-one problems of the others were never "
            "solved, and there is no optimality to judge for them."
        )
    if n_support.shape != (n_classes,) or support.ndim != 1:
        problem = f"n_support_ of shape {n_support.shape}, support_ of shape {support.shape}"
        expected = f"({n_classes},) for {n_classes} classes and one dimension"
    elif int(n_support.sum()) != support.shape[0]:
        problem = f"n_support_ adds up to {int(n_support.sum())}, support_ has {len(support)}"
        expected = "the same number of support vectors"
    elif dual_coef.shape != (n_classes - 1, len(support)):
        problem = f"dual_coef_ of shape {dual_coef.shape}"
        expected = f"(n_classes - 1, n_SV) = ({n_classes - 1}, {len(support)})"
    elif intercept.shape != (n_pairs,):
        problem = f"intercept_ of shape {intercept.shape}"
        expected = f"one offset per pair of classes, ({n_pairs},)"
    else:
        for attribute, value in (("dual_coef_", dual_coef), ("intercept_", intercept)):
            if not np.all(np.isfinite(value.astype(float))):
                raise ValueError(
                    f"{name}.{attribute} holds NaN or infinite values: not a fitted model whose "
                    "optimality can be judged."
                )
        return
    raise ValueError(
        f"{name}'s fitted attributes do not fit together: {problem}; expected {expected} "
        "(libsvm's one-vs-one layout)."
    )


def svm_report(model, X, y_index, sample_weight, tol) -> KKTReport:
    """The :class:`KKTReport` of a fitted kernel SVM on its training data."""
    # (mlbasics' SVC: the loss it was fitted with, whatever set_params said since)
    loss = getattr(model, "_loss", getattr(model, "loss", "hinge"))
    if loss not in _LOSSES:
        raise TypeError(
            f"check_kkt judges kernel SVMs with loss in {_LOSSES}; this model has loss={loss!r}."
        )
    _check_attributes(model)
    _check_training_data(model, X)
    upper_all = _bounds(model, y_index, sample_weight)
    support_readings = list(_support_rows(model, X, y_index, sample_weight))
    reports = [
        _report_at(model, X, y_index, upper_all, rows, loss, tol) for rows in support_readings
    ]
    # several readings of support_ fit the data only when it cannot tell them apart: the model
    # is the one under which it is optimal
    best, support = min(
        zip(reports, support_readings, strict=True),
        key=lambda pair: (not pair[0].ok, max(pair[0].violations.values())),
    )
    note = _definiteness_note(model, X, np.flatnonzero(upper_all > 0), support)
    return dataclasses.replace(best, caveat=note) if note else best


def _report_at(model, X, y_index, upper_all, support, loss, tol) -> KKTReport:
    """The report with the support vectors at the rows ``support`` of ``X``."""
    classes = model.classes_
    n_classes = len(classes)
    dual_coef = _dense(model.dual_coef_).astype(float)
    W = pair_coefficients(dual_coef, np.asarray(model.n_support_))
    products = _kernel_products(model, X, W, support)  # K(X, SV) W; its support rows: K(SV, SV) W
    quadratic = np.einsum("sp,sp->p", W, products[support])
    decision = products + np.asarray(model.intercept_, dtype=float)

    pairs = [(0, 1)] if n_classes == 2 else list(combinations(range(n_classes), 2))
    all_violations: dict[str, float] = {}
    all_worst: dict[str, list] = {}
    primal_total = dual_total = 0.0
    gaps, relative = [], []
    for p, (a, b) in enumerate(pairs):
        positive = 1 if n_classes == 2 else a  # binary: positive decisions mean classes_[1]
        rows = np.flatnonzero(((y_index == a) | (y_index == b)) & (upper_all > 0))
        y = np.where(y_index[rows] == positive, 1.0, -1.0)
        coef = np.zeros(len(y_index))
        coef[support] = W[:, p]
        # samples left out of the problem (weight 0, other classes) must carry no coefficient
        outside = np.ones(len(y_index), dtype=bool)
        outside[rows] = False
        stray = float(np.abs(coef[outside]).max(initial=0.0)) / float(upper_all.max())
        alpha = y * coef[rows]
        margins = y * decision[rows, p]
        dual_point = None
        balanced, kappa, excess_class = _balanced(y, alpha)
        if kappa != 1.0:
            # D is evaluated where the dual's equality y'alpha = 0 holds: v' = v - (1 - kappa)
            # v_e (v_e the part of v = y alpha of the class with the excess), so v'Kv' needs
            # K v_e on the support rows as well as the K v already there
            in_excess = np.zeros(len(y_index), dtype=bool)
            in_excess[rows[y == excess_class]] = True
            v_excess = np.where(in_excess[support], W[:, p], 0.0)
            Kv = products[support, p]
            Kv_excess = _kernel_products(model, X, v_excess[:, None], support, left=support)[:, 0]
            shrink = 1.0 - kappa
            balanced_quadratic = (
                float(quadratic[p])
                - 2.0 * shrink * float(v_excess @ Kv)
                + shrink**2 * float(v_excess @ Kv_excess)
            )
            dual_point = (balanced, balanced_quadratic)
        violations, worst, primal, dual = _problem(
            loss, y, alpha, margins, upper_all[rows], float(quadratic[p]), rows, dual_point
        )
        violations["dual feasibility"] = max(violations["dual feasibility"], stray)
        if loss == "logistic":
            released = _released_dual(model, X, support, rows, y, alpha, margins, upper_all[rows])
            dual = max(dual, released)
        gap = primal - dual
        gaps.append(gap)
        relative.append(_relative_gap(gap, loss, upper_all[rows], primal))
        primal_total += primal
        dual_total += dual
        for name, value in violations.items():
            all_violations[name] = max(all_violations.get(name, 0.0), value)
        for name, entries in worst.items():
            all_worst.setdefault(name, []).append(entries)
    relative = np.array(relative)
    all_violations["duality gap"] = float(np.max(np.abs(relative)))
    worst_out = {name: merge_worst(entries) for name, entries in all_worst.items()}
    kernel = fitted_kernel(model) if isinstance(fitted_kernel(model), str) else "callable"
    name = f"{type(model).__name__} ({loss}, {kernel} kernel, {n_classes} classes)"
    return KKTReport(
        violations=all_violations,
        worst=worst_out,
        primal_objective=float(primal_total),
        dual_objective=float(dual_total),
        duality_gap=float(primal_total - dual_total),
        problem_gaps=np.array(gaps),
        tol=float(tol),
        model=name,
    )
