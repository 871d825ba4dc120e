"""The ranges an SVC problem must fit in floating point, and the checks that say when it does not.

The SMO solver keeps kernel rows in float32 (:mod:`mlbasics.svm._smo_kernels`) and everything else
in float64; the QP reference forms the kernel matrix in float64. Inputs beyond these ranges used
to give NaN models marked converged, or one-class models with at most a RuntimeWarning
("overflow encountered in cast"). :class:`~mlbasics.SVC` calls these checks before solving and on
each solution, so that such inputs get a ``ValueError`` naming the problem instead:

* :func:`check_feature_scale`: the squared norms of the samples (named kernels) within float64,
  before ``gamma="scale"`` is computed from them;
* :func:`check_kernel_range`: the kernel values within float32, from a bound per kernel (or the
  matrix itself, for a precomputed or callable kernel);
* :func:`check_bounds`: finite ``C_i``, and for the logistic loss above :data:`LOGISTIC_MIN_C`;
* :func:`check_solution`: a finite ``alpha``, offset and objective after solving (what the
  checks above do not foresee, e.g. the logistic dual with ``C = 1e200``).

At prediction, a block of rows whose kernel arguments may overflow (:func:`kernel_bounds`: rows
far beyond the training data's scale) is computed by :func:`exact_kernel_block` in numpy's IEEE
arithmetic, which gives libsvm's answers (an RBF kernel of 0, a sigmoid of +-1); decision values
that still are not finite are a ``ValueError``, never NaN.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse
from sklearn.utils.extmath import safe_sparse_dot

from ..kernels import KernelSpec, squared_norms

__all__ = [
    "FLOAT32_MAX",
    "FLOAT64_MAX",
    "LOGISTIC_MIN_C",
    "MAX_SQUARED_NORM",
    "MIN_SQUARED_NORM",
    "check_bounds",
    "check_feature_scale",
    "check_kernel_range",
    "check_solution",
    "exact_kernel_block",
    "kernel_bounds",
]

#: The largest float64 number.
FLOAT64_MAX = float(np.finfo(np.float64).max)

#: The largest kernel value the solvers accept: float32's largest number. SMO caches kernel rows in
#: float32, where anything larger is infinite (and the dual then NaN).
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: The smallest normal float32 (about 1.2e-38). Below it the float32 cache keeps fewer digits; the
#: entries of a kernel whose largest value is at least this keep an absolute rounding below
#: float32's relative precision of that value, so SMO resolves the problem as well as at any
#: other scale. A kernel whose every value is smaller is refused.
FLOAT32_TINY = float(np.finfo(np.float32).tiny)

#: The largest squared norm of a sample accepted with a named kernel (about 1.1e307): the squared
#: distances ``||x||^2 + ||z||^2 - 2 x'z`` (up to four times this) stay finite in float64.
MAX_SQUARED_NORM = float(np.finfo(np.float64).max) / 16

#: The smallest largest-squared-norm accepted when ``X`` is not all zeros (about 1e-292): below
#: it the squares of the entries are subnormal or zero in float64, and ``gamma="scale"`` (one over
#: their variance) and every kernel value lose their digits.
MIN_SQUARED_NORM = float(np.finfo(np.float64).tiny / np.finfo(np.float64).eps)

#: The smallest ``C_i`` the logistic loss accepts. Its dual keeps ``alpha_i`` within
#: ``[EPS C_i, (1 - EPS) C_i]`` (``EPS = 1e-12``, :data:`~mlbasics.svm._smo_kernels.LOGISTIC_EPS`)
#: and divides by ``alpha_i (C_i - alpha_i) >= EPS C_i^2``, which underflows to 0 for ``C_i``
#: below about 1.5e-148 (``C = 1e-300`` raised a bare ZeroDivisionError); 1e-100 leaves room.
LOGISTIC_MIN_C = 1e-100
#: The squared hinge leaves out the samples whose ``C_i`` is below this fraction of the largest in
#: their class, as it leaves out those of weight 0 (a class whose weights are all tiny is solved
#: whole: SMO handles it, in 30 to 190 iterations on a review's cases). Such a sample's optimal ``alpha_i =
#: 2 C_i (1 - z_i)_+`` moves the decision values by about ``1e-15`` of the others' share, the
#: rounding of float64, while its curvature ``1 / (2 C_i)`` in the dual, above ``1e15`` times the
#: others', stalled SMO (weights of 1e-18 to 1e-30 ran to max_iter at a gap of 0.1, the intercept
#: 0.2 off; 1e-16 converged). The hinge's and the logistic loss's bounds have no such curvature.
NEGLIGIBLE_SQUARED_HINGE_C = 1e-15
#: The squared hinge's dual has ``1 / (2 C_i)`` on its diagonal, and SMO's pair step adds two of
#: them: beyond float64 for ``C_i`` below ``1 / max float`` (5.6e-309; at 5e-309 SMO made no step
#: and ran to max_iter). The samples SVC solves (above :data:`NEGLIGIBLE_SQUARED_HINGE_C` of their
#: class's largest) must be at least this, with a factor 4 of room (``C = 1e-310`` ended in "not
#: finite ... use a smaller C").
SQUARED_HINGE_MIN_C = 4.0 / float(np.finfo(np.float64).max)

_SCALE_ADVICE = "Scale the features, e.g. with sklearn.preprocessing.StandardScaler"


def _largest_entry(X) -> float:
    data = X.data if sparse.issparse(X) else X
    return max(float(data.max(initial=0.0)), -float(data.min(initial=0.0)))


def check_feature_scale(X) -> float:
    """The largest squared norm of a sample of ``X`` (dense or CSR), checked against float64.

    Raises a ``ValueError`` when it exceeds :data:`MAX_SQUARED_NORM` (the kernel computations and
    ``gamma="scale"`` would overflow) or, for an ``X`` that is not all zeros, falls below
    :data:`MIN_SQUARED_NORM` (they would underflow).
    """
    with np.errstate(over="ignore", under="ignore"):
        top = float(squared_norms(X).max(initial=0.0))
    if not top <= MAX_SQUARED_NORM:
        raise ValueError(
            f"X has entries up to {_largest_entry(X):.3g} in absolute value: the squared norms "
            f"of its samples (up to {top:.3g}) overflow the kernel computations, which need them "
            f"below {MAX_SQUARED_NORM:.3g}. {_SCALE_ADVICE}."
        )
    if top < MIN_SQUARED_NORM and _largest_entry(X) > 0.0:
        raise ValueError(
            f"X has entries of at most {_largest_entry(X):.3g} in absolute value: the squared "
            f"norms of its samples (at most {top:.3g}) underflow the kernel computations, which "
            f"need the largest above {MIN_SQUARED_NORM:.3g}. {_SCALE_ADVICE}."
        )
    return top


#: Up to this many samples, a squared-hinge problem whose solution overflowed on a kernel that
#: may be indefinite gets the smallest eigenvalue of its ``Q + D`` computed (about a second).
EIGENVALUE_CHECK_MAX = 2000


def smallest_eigenvalue(gram, labels, upper) -> float | None:
    """The smallest eigenvalue of the squared-hinge dual's ``Q + diag(1 / (2 C_i))``, ``Q_ij =
    y_i y_j K_ij``, as a negative number only beyond its rounding (else 0); None above
    :data:`EIGENVALUE_CHECK_MAX` samples."""
    if len(labels) > EIGENVALUE_CHECK_MAX:
        return None
    with np.errstate(divide="ignore"):
        Q = np.outer(labels, labels) * np.asarray(gram, dtype=float)
        Q[np.diag_indices_from(Q)] += 1.0 / (2.0 * np.asarray(upper, dtype=float))
    finite = np.isfinite(Q)
    if not finite.all():  # (C_i = 0: a sample that does not count)
        keep = np.all(finite, axis=1)
        Q = Q[np.ix_(keep, keep)]
    if Q.size == 0:
        return 0.0
    from scipy.linalg import eigvalsh

    values = eigvalsh(Q)
    # An eigenvalue is computed to about eps ||Q||_2; the rounding allowed is n eps ||Q||_2
    # (numpy's matrix_rank convention). Thresholds from max |Q|, which one tiny C_i's 1/(2 C_i)
    # dominates, hid -3.89 beside C_i = 1e-10 (100 n eps max |Q|) and 1e-13 (reviews).
    rounding = len(Q) * np.finfo(float).eps * float(max(abs(values[0]), abs(values[-1])))
    return float(values[0]) if values[0] < -rounding else 0.0


#: The rows at which :func:`sparse_rbf_rounding` evaluates the decision values' rounding: this
#: many spread evenly over the training rows, and as many support vectors of the largest squared
#: norms (a block of kernel values against the support vectors, whatever ``n``).
SPARSE_RBF_ROWS = 256
#: Support vectors per block of kernel values in :func:`sparse_rbf_rounding` (16 MB of them).
SPARSE_RBF_BLOCK = 4096


def sparse_rbf_rounding(X, spec: KernelSpec, support, W) -> float:
    """How far the RBF kernel's rounding can move the decision values of a fit on the sparse
    rows ``X``, the fitted dual held fixed (``support``: the support vectors' rows of ``X``;
    ``W``: the coefficients of every binary problem, one column each, as
    :func:`~mlbasics._ovo.pair_coefficients` lays them out).

    Dense rows are centred before their kernel values are computed
    (:func:`~mlbasics.kernels.rbf_centre`); sparse ones only in their mostly filled columns (the
    others have the median 0: centring them would fill them in), and their squared distances ``||x||^2 + ||z||^2 - 2 x'z``, sums over the ``m`` stored entries of
    a row, carry a rounding of about ``2 sqrt(m) eps (||x||^2 + ||z||^2)`` (``sqrt(m)``: the
    roundings of a sum's ``m`` terms add up like a random walk; ``m`` would be the worst case),
    which ``K = exp(-gamma d^2)`` passes on times ``gamma K``. A decision value
    ``sum_i W_i K(x_i, x) + b`` of one binary problem then moves by about
    ``2 sqrt(m) eps gamma sum_i |W_i| K(x_i, x) (||x_i||^2 + ||x||^2)`` (the terms of the same
    sign, ``m`` the most entries of a row): returned as the largest over the binary problems and
    over :data:`SPARSE_RBF_ROWS` rows spread evenly over ``X`` and as many support vectors of the
    largest norms (where the rounding is largest: a small cluster of far rows between evenly
    spaced ones was missed, a review). A row's kernel value with itself counts too: the norms and
    the products are summed in different orders, and ``K(x, x)`` of a row of ten entries near
    1e7 came out 0.78; without the ``sqrt(m)``, 60 rows of 50 entries near 1e4 moved 1.3 times
    the estimate (reviews).

    The kernel factor matters: a row far from all the others has kernel values 0 with them, so
    only its own term counts, where a bound with ``K <= 1`` summed its norm into every row's; so
    does taking each problem alone (the ``|alpha_i|`` of eight classes summed over their problems
    warned on fits as close as unshifted ones; reviews). It leaves out the solver's response:
    the dual is solved with the rounded kernel and can move further or less.
    """
    n = X.shape[0]
    W = np.abs(np.asarray(W, dtype=float))
    if n == 0 or W.size == 0 or not np.any(W):
        return 0.0
    count = min(n, SPARSE_RBF_ROWS)
    norms = squared_norms(X)
    spread = np.linspace(0, n - 1, count).astype(np.intp)
    # the largest norms among the support vectors: rows of weight 0 carry none of the sum
    # (256 far rows of sample_weight 0 crowded six far support vectors out: a review)
    support = np.asarray(support)
    top = min(len(support), SPARSE_RBF_ROWS)
    largest = support[np.argpartition(norms[support], len(support) - top)[len(support) - top :]]
    rows = np.union1d(spread, largest)
    at, at_norms = X[rows], norms[rows][:, None]
    stored = np.diff(sparse.csr_array(X).indptr)  # entries per row
    entries = max(int(stored[rows].max()), int(stored[support].max()), 1)
    # sum_i |W_i| K(x_i, x) (||x_i||^2 + ||x||^2) for every sampled row x and binary problem, the
    # support vectors taken in blocks (the kernel block at most 512 x SPARSE_RBF_BLOCK values)
    moved = np.zeros((len(rows), W.shape[1]))
    for start in range(0, len(support), SPARSE_RBF_BLOCK):
        part = support[start : start + SPARSE_RBF_BLOCK]
        K = spec.matrix(at, X[part])
        coef = W[start : start + SPARSE_RBF_BLOCK]
        moved += (K * norms[part][None, :]) @ coef + at_norms * (K @ coef)
    return 2.0 * np.sqrt(entries) * np.finfo(float).eps * spec.gamma * float(moved.max())


def kernel_bounds(spec: KernelSpec, top_a: float, top_b: float) -> tuple[float, float]:
    """Upper bounds ``(argument, value)`` of a named kernel between rows of squared norms at most
    ``top_a`` and ``top_b`` (infinite when they overflow).

    By Cauchy-Schwarz ``|x'z| <= sqrt(top_a top_b)`` and ``||x - z||^2 <= (sqrt(top_a) +
    sqrt(top_b))^2``. ``argument`` bounds ``gamma x'z + |coef0|`` (poly, sigmoid) or
    ``gamma ||x - z||^2`` (rbf), 0 for the linear kernel; ``value`` bounds ``|K(x, z)|``:
    ``sqrt(top_a top_b)`` (linear, attained on the diagonal), ``argument^degree`` (poly, attained
    there when ``coef0 >= 0``), 1 (rbf, sigmoid).
    """
    kernel, gamma, coef0 = spec.kernel, spec.gamma, spec.coef0
    root_a, root_b = math.sqrt(top_a), math.sqrt(top_b)
    product = root_a * root_b  # Python floats overflow to inf, silently
    if kernel == "linear":
        return 0.0, product
    if kernel == "rbf":
        return gamma * (root_a + root_b) ** 2, 1.0
    argument = gamma * product + abs(coef0)
    if kernel == "sigmoid":
        return argument, 1.0
    with np.errstate(over="ignore"):
        return argument, float(np.power(np.float64(argument), spec.degree))


#: A kernel matrix is symmetric when every ``|K_ij - K_ji|`` is at most this times the scale of
#: the entry, ``max(sqrt(|K_ii K_jj|), |K_ij|, |K_ji|)`` (a kernel's entries are bounded by the
#: first): above the rounding of a kernel computed in float64 (an rbf callable on features near
#: 1e4 is asymmetric by 3.5e-8 of its values) and of SMO's float32 cache (6e-8), far below a
#: matrix that is not a kernel's. (Relative to the largest entry, one far row let an asymmetry of
#: 0.5 between entries of size 2 through.)
SYMMETRY_RTOL = 1e-6
#: Rows per block of :func:`check_symmetric` (no ``n x n`` copy of the matrix).
SYMMETRY_BLOCK = 256


def check_symmetric(K) -> None:
    """A ``ValueError`` unless the square ``K`` is symmetric, entry by entry, to
    :data:`SYMMETRY_RTOL` of each entry's scale. An asymmetric matrix is no kernel matrix: SMO
    reads rows where the gradient's float64 check reads columns (its "converged" models, or
    max_iter with advice about ``tol``), the QP would solve another problem."""
    n = K.shape[0]
    root = np.sqrt(np.abs(np.diagonal(K)).astype(np.float64))
    # (an absolute floor at the rounding of the largest entry, for entries and diagonals of 0)
    floor = (
        64 * np.finfo(np.float64).eps * max(float(K.max(initial=0.0)), -float(K.min(initial=0.0)))
    )
    worst, where = 0.0, (0, 0)
    for start in range(0, n, SYMMETRY_BLOCK):
        rows = slice(start, min(start + SYMMETRY_BLOCK, n))
        upper, lower = K[rows], K[:, rows].T
        scale = np.maximum(np.outer(root[rows], root), np.maximum(np.abs(upper), np.abs(lower)))
        ratio = (np.abs(upper - lower) - floor) / np.maximum(scale, np.finfo(np.float64).tiny)
        i, j = np.unravel_index(np.argmax(ratio), ratio.shape)
        if ratio[i, j] > worst:
            worst, where = float(ratio[i, j]), (start + i, j)
    if worst > SYMMETRY_RTOL:
        i, j = where
        raise ValueError(
            f"the kernel matrix is not symmetric: K[{i}, {j}] = {K[i, j]:.10g} and K[{j}, {i}] = "
            f"{K[j, i]:.10g} differ by {abs(float(K[i, j]) - float(K[j, i])):.3g}, more than "
            f"{SYMMETRY_RTOL:g} of their scale (max(sqrt(|K_ii K_jj|), |K_ij|)); a kernel matrix "
            "K[i, j] = k(x_i, x_j) must be symmetric."
        )


def check_kernel_range(spec: KernelSpec, top_squared_norm: float = 0.0, gram=None) -> None:
    """Raise a ``ValueError`` when the kernel's values can exceed :data:`FLOAT32_MAX`.

    ``gram`` is the kernel matrix of a precomputed or callable kernel (its largest entry is
    checked); for a named kernel the bounds of :func:`kernel_bounds` between the samples, from
    ``top_squared_norm``, the largest ``||x||^2`` (:func:`check_feature_scale`): the value must fit
    float32, and the argument of the RBF, polynomial and sigmoid kernels float64 (at most
    :data:`MAX_SQUARED_NORM`).
    """
    if gram is not None:
        top = max(float(gram.max(initial=0.0)), -float(gram.min(initial=0.0)))  # no n x n copy
        if top > FLOAT32_MAX:
            raise ValueError(
                f"the kernel matrix has entries up to {top:.3g} in absolute value, beyond "
                f"{FLOAT32_MAX:.3g}: SVC takes kernel values within float32's range (SMO caches "
                "them in float32; solver='qp' is held to the same range). Divide the kernel "
                "matrices (of fit and of predict) by a constant s and multiply C by s: the "
                "decisions are the same (dual_coef_ is multiplied by s)."
            )
        if 0.0 < top < FLOAT32_TINY:
            raise ValueError(
                f"the kernel matrix has entries only up to {top:.3g} in absolute value, below "
                f"{FLOAT32_TINY:.3g}, the smallest normal float32: SVC takes kernel values within "
                "float32's range (SMO caches them in float32 and would lose their digits; "
                "solver='qp' is held to the same range). Multiply the kernel matrices (of fit and "
                "of predict) by a constant s and divide C by s: the decisions are the same "
                "(dual_coef_ is divided by s)."
            )
        return
    kernel, gamma, degree = spec.kernel, spec.gamma, spec.degree
    argument, bound = kernel_bounds(spec, top_squared_norm, top_squared_norm)
    if not argument <= MAX_SQUARED_NORM:
        what = "gamma ||x - z||^2" if kernel == "rbf" else "gamma x'z + coef0"
        raise ValueError(
            f"the {kernel} kernel's argument {what} reaches {argument:.3g} (gamma={gamma:.3g}, "
            f"largest squared norm of a sample {top_squared_norm:.3g}), which overflows float64. "
            f"Use a smaller gamma{' or coef0' if kernel != 'rbf' else ''}, or scale the features."
        )
    if not bound <= FLOAT32_MAX:
        if kernel == "linear":
            cause = f"its values x'z reach {bound:.3g} (the largest squared norm of a sample)"
            advice = _SCALE_ADVICE
        else:
            cause = (
                f"its values (gamma x'z + coef0)^degree can reach ({argument:.3g})^{degree} = "
                f"{bound:.3g} (gamma={gamma:.3g}, largest squared norm of a sample "
                f"{top_squared_norm:.3g})"
            )
            advice = "Use a smaller degree, gamma or coef0, or scale the features"
        raise ValueError(
            f"the {kernel} kernel is out of range: {cause}, beyond {FLOAT32_MAX:.3g}, the "
            f"largest value SVC takes (SMO's kernel cache is float32; solver='qp' is held to "
            f"the same range). {advice}."
        )
    # The largest value, bounded above: the diagonal's for the linear and polynomial kernels,
    # the argument's bound for the sigmoid (|tanh(t)| <= |t|; the RBF's diagonal is 1).
    largest = bound if kernel in ("linear", "poly") else argument if kernel == "sigmoid" else 1.0
    if 0.0 < top_squared_norm and largest < FLOAT32_TINY:
        advice = (
            _SCALE_ADVICE
            if kernel == "linear"
            else "Use a larger gamma or coef0, or scale the features"
        )
        at_most = f"{largest:.3g}"
        if largest == 0.0 and kernel == "poly" and argument > 0.0:  # (its power underflowed)
            at_most = f"({argument:.3g})^{degree}, about 1e{degree * math.log10(argument):.0f}"
        raise ValueError(
            f"the {kernel} kernel's values are at most {at_most} (largest squared norm of a "
            f"sample {top_squared_norm:.3g}), below {FLOAT32_TINY:.3g}, the smallest normal "
            "float32: SMO keeps kernel values in float32 (as libsvm does) and would lose their "
            f"digits, and solver='qp' is held to the same range. {advice} (the same problem at another scale: multiplying the features by s "
            "divides the linear kernel's C by s^2)."
        )


def exact_kernel_block(spec: KernelSpec, A, B) -> np.ndarray:
    """``K(A, B)`` of a named kernel in plain numpy, for rows too large for the compiled path.

    Prediction on rows whose kernel arguments may overflow (:func:`kernel_bounds`): numpy's
    infinities are IEEE's (``tanh(inf) = 1``, ``exp(-inf) = 0``), where the compiled kernels
    assume finite numbers. The RBF distances are formed on copies scaled by a power of two
    ``2**-e`` (exact) and scaled back in the exponent, to infinity when it overflows: a row of
    norm ``1e300`` is at kernel value 0 from every support vector, libsvm's answer too. So are the
    sigmoid kernel's arguments, ``gamma <a, b>`` to ``+-inf`` with its sign, where ``tanh`` is
    ``+-1``: the plain product overflowed to ``+-inf`` in whatever order BLAS summed its terms
    and flipped kernel values (wrong classes, no warning). The linear and polynomial kernels keep
    what overflows (and :class:`~mlbasics.SVC` refuses a decision value that is not finite).
    """
    if spec.kernel == "rbf":
        exponent = math.frexp(max(_largest_entry(A), _largest_entry(B)))[1]
        scale = math.ldexp(1.0, -exponent)
        A, B = A * scale, B * scale
        with np.errstate(over="ignore", under="ignore"):
            d2 = squared_norms(A)[:, None] + squared_norms(B)[None, :]
            d2 -= 2.0 * safe_sparse_dot(A, B.T, dense_output=True)
            return np.exp(-np.ldexp(spec.gamma * np.maximum(d2, 0.0), 2 * exponent))
    if spec.kernel == "sigmoid":
        e_a, e_b = (math.frexp(_largest_entry(M))[1] for M in (A, B))
        mantissa, e_gamma = math.frexp(spec.gamma)
        dots = safe_sparse_dot(A * math.ldexp(1.0, -e_a), (B * math.ldexp(1.0, -e_b)).T,
                               dense_output=True)  # fmt: skip
        with np.errstate(over="ignore", under="ignore"):
            return np.tanh(np.ldexp(mantissa * dots, e_a + e_b + e_gamma) + spec.coef0)
    with np.errstate(over="ignore", invalid="ignore"):
        dots = safe_sparse_dot(A, B.T, dense_output=True)
        if spec.kernel == "linear":
            return dots
        return (spec.gamma * dots + spec.coef0) ** spec.degree  # poly


def check_bounds(upper, loss: str, y_index=None) -> None:
    """Raise a ``ValueError`` when a ``C_i`` is infinite, (``loss="logistic"``) when a positive
    one is below :data:`LOGISTIC_MIN_C`, or (``loss="squared_hinge"``, given the class index of
    each sample) when one that SVC solves is below :data:`SQUARED_HINGE_MIN_C`."""
    if not np.all(np.isfinite(upper)):
        raise ValueError(
            f"C x sample_weight x class_weight overflows float64 (C_i up to {upper.max():.3g}): "
            "use a smaller C or smaller weights."
        )
    if loss == "squared_hinge" and y_index is not None:
        tops = np.zeros(int(y_index.max(initial=0)) + 1)
        np.maximum.at(tops, y_index, upper)
        solved = upper > NEGLIGIBLE_SQUARED_HINGE_C * tops[y_index]
        low = float(upper[solved].min(initial=math.inf))
        if low < SQUARED_HINGE_MIN_C:
            raise ValueError(
                f"loss='squared_hinge' needs C_i = C x sample_weight x class_weight of at least "
                f"{SQUARED_HINGE_MIN_C:.3g} on the samples it solves (those above "
                f"{NEGLIGIBLE_SQUARED_HINGE_C:g} of their class's largest C_i); the smallest is "
                f"{low:.3g}, near where 1 / (2 C_i) + 1 / (2 C_j) in the dual's pair steps overflows "
                "float64. Use a larger C or larger weights."
            )
    if loss != "logistic":
        return
    smallest = float(upper[upper > 0].min(initial=math.inf))
    if smallest < LOGISTIC_MIN_C:
        raise ValueError(
            f"loss='logistic' needs every C_i = C x sample_weight x class_weight of at least "
            f"{LOGISTIC_MIN_C:g}; the smallest is {smallest:.3g}, for which the entropy terms of "
            "its dual underflow. Use a larger C or larger weights, or give such samples weight 0 "
            "(they are then left out)."
        )


def check_solution(
    solution, problem: str, upper=None, kernel_top: float | None = None, indefinite=None
) -> None:
    """Raise a ``ValueError`` when the solution of a binary problem is not finite.

    ``problem`` names it in the message ("0 vs 1"). What is checked: ``alpha``, the offset
    ``rho`` and the dual objective; a model with any of them NaN or infinite predicts nothing
    meaningful (scikit-learn's SVC raises the same way). With the bounds ``upper`` (the ``C_i``)
    and ``kernel_top`` (a bound on ``|K(x, z)|``), the message says whether the ``C_i`` alone
    explain the overflow: the dual variables are of the order of the ``C_i``, and the quadratic
    term of the dual up to ``1/2 (sum C_i)^2 max |K|``, which reaches it whenever the kernel is
    indefinite (the sigmoid's: the minimum is then at a corner of the box) or the data not
    separable. When that bound overflows float64 (e.g. ``sample_weight=1e300``) the advice is a
    smaller C; otherwise it is the scale of the features and the kernel's parameters.
    ``indefinite``, given for the squared hinge on a kernel that may not be positive semidefinite,
    returns :func:`smallest_eigenvalue` of the problem: when it is negative (or unknown, None)
    the message says the dual is unbounded and names the kernel, not the scale, as the cause.
    """
    bad = [
        name
        for name, value in (
            ("dual coefficients", solution.alpha),
            ("intercept", solution.rho),
            ("dual objective", solution.objective),
        )
        if not np.all(np.isfinite(value))
    ]
    if not bad:
        return
    smallest = indefinite() if indefinite is not None else 0.0
    if smallest is None or smallest < 0.0:
        # ``indefinite`` (the squared hinge, whose dual variables no upper bound holds, on a
        # kernel that may not be positive semidefinite): the smallest eigenvalue of Q + D, or
        # None when the problem is too large to compute it. With a positive semidefinite kernel
        # that dual is strongly convex (the 1/(2 C_i) on its diagonal) and its solution of the
        # order of the C_i; a negative eigenvalue makes it unbounded along a direction that the
        # solvers' own tests (a pair; alpha's direction, unless it overflowed first) can miss,
        # and the advice to scale the features could not help (a review: a sigmoid kernel whose
        # Q + D had the eigenvalue -3.95). A positive semidefinite one can overflow too where
        # the float32 cache cannot resolve it (a Gram matrix of rows far from the origin).
        evidence = (
            "the smallest eigenvalue of its Q + diag(1 / (2 C_i)) is "
            f"{smallest:.3g}: with it the dual decreases without limit"
            if smallest is not None
            else "with a kernel matrix that is not positive semidefinite (the sigmoid kernel "
            "generally, or a precomputed or callable matrix with negative eigenvalues) its dual "
            "decreases without limit"
        )
        raise ValueError(
            f"the solution of the binary problem {problem} is not finite ({', '.join(bad)}): "
            "its dual variables grew until they overflowed. loss='squared_hinge' has no upper "
            f"bound on them and needs a positive semidefinite kernel; {evidence}. Use "
            "loss='hinge' or 'logistic', which SMO solves on indefinite kernels as libsvm "
            "does, or a positive semidefinite kernel."
            + (
                ""
                if smallest is not None
                else " (If the kernel is positive semidefinite: scale the features, use a "
                "smaller C, or try solver='qp', which works in float64.)"
            )
        )
    reach = 0.0
    if upper is not None and kernel_top is not None:
        with np.errstate(over="ignore"):
            reach = float(0.5 * np.float64(np.sum(upper)) ** 2 * kernel_top)
    if not reach <= FLOAT64_MAX:
        raise ValueError(
            f"the solution of the binary problem {problem} is not finite ({', '.join(bad)}): "
            "its arithmetic overflowed. Its dual variables are of the order of the C_i = C x "
            f"sample_weight x class_weight (up to {float(np.max(upper)):.3g}), and its dual "
            f"objective can reach 1/2 (sum C_i)^2 max |K| (kernel values up to {kernel_top:.3g}), "
            f"beyond float64's {FLOAT64_MAX:.3g} (an indefinite kernel, as the sigmoid kernel "
            "generally is, puts the minimum there). Use a smaller C or smaller weights."
        )
    raise ValueError(
        f"the solution of the binary problem {problem} is not finite ({', '.join(bad)}): "
        "its arithmetic overflowed. Scale the features (e.g. with "
        "sklearn.preprocessing.StandardScaler), or use a smaller C, gamma or degree. (SMO "
        "caches kernel rows in float32, about seven digits: a kernel whose values are large "
        "beside their differences, such as a precomputed Gram matrix X X' of rows far from the "
        "origin or a large coef0, loses the differences; centre the rows before computing it, "
        "or try solver='qp', which works in float64.)"
    )
