"""Does the unpenalised maximum-likelihood estimate exist? A linear program decides.

Without a penalty the logistic objective has a minimiser if and only if the data are *overlapping*
(Albert and Anderson 1984): there is no non-zero direction ``V`` of the coefficients that weakly
separates the classes, i.e. with every sample's true score at least every other score,

    (v_{y_i} - v_k)^T a_i >= 0   for all samples i (of positive weight) and classes k != y_i,

and strictly for at least one pair. Along such a direction the loss never increases and tends to a
limit at infinity, so the "optimum" is at infinity. Complete separation (all strict) and
quasi-complete separation (some ties) are both caught by maximising the total margin
``sum_i sum_k (v_{y_i} - v_k)^T a_i`` under these constraints and ``-1 <= V <= 1``: the maximum is
positive exactly when such a direction exists (Konis 2007). For two classes ``V`` is one vector and
the constraints read ``y_i v^T a_i >= 0`` with ``y_i`` in {-1, +1}.

The LP is solved in floating point, with HiGHS's feasibility tolerance (about 1e-7 a row): the
columns are scaled to a largest entry of 1 (and, with an intercept, centred when they have no
zeros), and a direction counts only if its margins pass :data:`MIN_MARGIN`. What lies below that
resolution is not seen: a column with a large offset over its spread and a few zeros (1e5 +
1e-3 x, one entry 0) carries its information in the eighth digit, and overlapping classes can
then be called separable.

On tall data the LP on all rows costs tens of times the fit, so the two common verdicts are
sought first by cheaper means. Complete separation is usually shown by the fitted coefficients
themselves (:func:`_separates`): when every margin of the fit's direction is positive beyond the
rounding of its products, that direction separates, and no LP is needed. Overlap is sought on
random samples of the rows (:func:`_overlap_on_a_sample`): overlap on a sample whose rows span
all the others is overlap of all the rows. Quasi-complete separation, and samples that do not
span the rest well enough, go on to the LP on all rows.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.optimize
from scipy import sparse

# Above this many non-zeros in the constraint matrix the check is skipped (it is a diagnosis, not
# part of the fit, and must stay cheap next to it).
MAX_CONSTRAINT_NONZEROS = 20_000_000
# A direction separates when its largest margin exceeds this (the rows' entries are at most 1
# after scaling, the direction in [-1, 1]) and none is below -MIN_MARGIN times the largest.
MIN_MARGIN = 1e-6
# The sampled shortcut (:func:`_overlap_on_a_sample`): rows of a sample per column of the
# design (for each class, with more than two), tried only up to this many columns.
SAMPLE_ROWS_PER_COLUMN = 20
MAX_SAMPLED_COLUMNS = 2000
# A row counts as a combination of the sample's rows when its part outside their span is below
# MAX_OUTSIDE_SPAN (l1; a margin changes by at most that, a hundredth of MIN_MARGIN), with
# weights of l1 norm at most MAX_COMBINATION_WEIGHT. The span is that of the sample's singular
# directions above SPAN_RESOLUTION times the largest (the Gram matrix's eigenvalues, whose
# rounding is eps times the largest, resolve no finer).
MAX_OUTSIDE_SPAN = 1e-8
MAX_COMBINATION_WEIGHT = 1e3
SPAN_RESOLUTION = 1e-7
# A margin of a given direction counts as positive when it exceeds this times the sum of the
# absolute values of its products (the rounding of a float64 dot product of p terms is at most
# about p * 1.1e-16 times that sum: this covers p up to about 10^7).
ROUNDING_MARGIN = 1e-9


def separating_direction_exists(A, Y, weights, *, intercept=False, direction=None) -> bool | None:
    """True if the samples of positive weight are (quasi-)completely separable, else False.

    Parameters
    ----------
    A : ndarray or sparse matrix of shape (n_samples, n_dof)
        The design matrix (with the column of ones when an intercept is fitted).
    Y : ndarray of shape (n_samples, n_outputs)
        0/1 targets, one column for two classes, one-hot otherwise.
    weights : ndarray of shape (n_samples,)
    intercept : bool, default=False
        Whether the last column of ``A`` is the intercept's column of ones. Then a class of total
        weight 0 is left out: its intercept goes to -inf whatever the data (documented with
        ``sample_weight``), and the question is whether the others separate. Without an
        intercept such a class stays in: lowering its scores is a direction to infinity only
        when the samples lie in an open half-space.
    direction : ndarray of shape (n_outputs, n_dof), optional
        A candidate direction, in the columns of ``A`` (the fitted coefficients, intercept last):
        if its margins are all positive the data are separable and the LP is skipped.

    Returns
    -------
    bool or None
        None when the problem is too large for the check or the LP solver fails.
    """
    used = weights > 0
    if not used.any():  # no loss at all: every coefficient is a minimiser
        return False
    if not used.all():
        A = A[used]
        Y = Y[used]
    if intercept and Y.shape[1] > 1:
        present = Y.sum(axis=0) > 0
        Y = Y[:, present]  # (see intercept above)
        if direction is not None:
            direction = direction[present]
    if direction is not None and _separates(A, Y, direction):
        return True
    A = _scaled(A, intercept)
    if _overlap_on_a_sample(A, Y):
        return False
    return _lp_verdict(A, Y, MIN_MARGIN)


def _separates(A, Y, V) -> bool:
    """True when every margin of the direction ``V`` is positive: ``V`` separates the rows.

    The margins are ``(v_{y_i} - v_k)^T a_i`` for every class ``k != y_i`` (``y_i v^T a_i``,
    ``y_i = +-1``, for two classes), each required to exceed :data:`ROUNDING_MARGIN` times the
    absolute products ``|a_i|^T (|v_{y_i}| + |v_k|)`` and the smallest normal float, so that no
    rounding of the scores can have made it positive. This is complete separation, proven by
    ``V`` itself; an unpenalised fit on such data ends on such a direction (4 classes, 40,000 x
    50: smallest margin 8.5, where the LP on all rows took 56 to 81 s). Quasi-complete
    separation (some ties) is left to the LP.
    """
    V = np.asarray(V, dtype=np.float64)
    if A.shape[0] == 0 or V.shape != (Y.shape[1], A.shape[1]) or not np.isfinite(V).all():
        return False
    scores = np.asarray(A @ V.T)
    # (at least the smallest normal float: products in the subnormal range round by an absolute
    # 2.5e-324 each, which the relative bound, underflowed to 0, let through: a review)
    bounds = np.maximum(ROUNDING_MARGIN * np.asarray(abs(A) @ np.abs(V).T), np.finfo(float).tiny)
    if Y.shape[1] == 1:
        sign = 2.0 * Y[:, 0] - 1.0
        return bool((sign * scores[:, 0] > bounds[:, 0]).all())
    rows = np.arange(A.shape[0])
    label = Y.argmax(axis=1)
    true = scores[rows, label] - bounds[rows, label]
    others = scores + bounds
    others[rows, label] = -np.inf
    return bool((true > others.max(axis=1)).all())


def _scaled(A, intercept):
    """The design as the LP sees it: columns scaled to a largest magnitude of 1, the columns
    without zeros centred when there is an intercept (a new array; dense stays dense).

    Separability does not depend on the columns' units, the LP's box and tolerances do: features
    in units of 1e-9 beside the intercept's ones were "separable" by HiGHS's feasibility
    tolerance, and separable data in units of 1e-12 were not. With an intercept it does not
    depend on the columns' offsets either: the columns without zeros are centred first (1e5 +
    1e-3 x, scaled, was the ones column to 1e-8, and overlapping iris classes were "separable");
    the others keep their zeros (centred, 0/1 columns filled the constraint matrix: 40 times
    slower, or beyond MAX_CONSTRAINT_NONZEROS and no check at all). Dense input stays dense (as
    sparse, its conversions took 1 to 2 s of a 2.5 s check on 100,000 x 100).
    """
    if not sparse.issparse(A):  # (whole-array passes, no temporaries of A's size but one)
        A = np.array(A, dtype=np.float64)
        if intercept and A.shape[0]:
            full = np.count_nonzero(A, axis=0) == A.shape[0]
            full[-1] = False  # the intercept's ones
            A -= np.where(full, A.mean(axis=0), 0.0)
        if A.shape[0]:
            largest = np.maximum(A.max(axis=0), -A.min(axis=0))
            A *= 1.0 / np.where(largest > 0, largest, 1.0)
        return A
    A = sparse.csc_array(A, dtype=np.float64, copy=True)
    A.sum_duplicates()
    A.eliminate_zeros()
    if intercept:
        counts = np.diff(A.indptr)
        full = counts == A.shape[0]
        full[-1] = False  # the intercept's ones
        column = np.repeat(np.arange(A.shape[1]), counts)
        means = np.asarray(A.sum(axis=0)).ravel() / max(A.shape[0], 1)
        A.data -= np.where(full[column], means[column], 0.0)
    A = sparse.csr_array(A)
    largest = np.asarray(abs(A).max(axis=0).toarray()).ravel()
    return A @ sparse.diags_array(1.0 / np.where(largest > 0, largest, 1.0))


def _lp_verdict(A, Y, min_margin) -> bool | None:
    """The LP of the module on the (scaled) rows ``A``: True, False or None (see above)."""
    margins = _lp_margins(A, Y)
    if margins is None:
        return None
    # The direction is judged by its margins, not by the LP's objective alone: HiGHS's
    # feasibility tolerance (about 1e-7 a row) admits directions whose margins are numbers of
    # that size and both signs (float32 features with a redundant column, 132 of 400 margins
    # negative: "separable" beside a finite optimum at 72% accuracy).
    top = float(margins.max(initial=0.0))
    return bool(top > min_margin and float(margins.min(initial=0.0)) >= -min_margin * top)


def _lp_margins(A, Y):
    """The margins of the LP's direction on the rows of ``A`` (None: too large, or no solution)."""
    rows = _constraint_rows(A, Y)
    if rows.nnz > MAX_CONSTRAINT_NONZEROS:
        return None
    total = np.asarray(rows.sum(axis=0)).ravel()
    result = scipy.optimize.linprog(
        -total, A_ub=-rows, b_ub=np.zeros(rows.shape[0]), bounds=(-1.0, 1.0), method="highs"
    )
    return rows @ result.x if result.status == 0 else None


def _no_margin_above(A, Y, bound) -> bool:
    """True when the LP on the rows of ``A`` finds no margin above ``bound``: no direction
    separates them at that resolution. (Not the negation of :func:`_lp_verdict`, which also
    says False for a direction whose margins of both signs are the LP's tolerance: a separable
    sample with ties broken by 3e-9 was taken for proof of overlap: a review.)"""
    margins = _lp_margins(A, Y)
    return margins is not None and float(margins.max(initial=0.0)) <= bound


def _constraint_rows(A, Y):
    """The rows whose products with a direction are its margins (see the module), sparse."""
    A = sparse.csr_array(A)
    d = A.shape[1]
    if Y.shape[1] == 1:
        sign = 2.0 * Y[:, 0] - 1.0
        rows = A.multiply(sign[:, None]).tocsr()  # y_i a_i
    else:
        K = Y.shape[1]
        label = Y.argmax(axis=1)
        blocks = []
        for k in range(K):  # the rows of the pairs (i, k) with y_i != k
            others = np.flatnonzero(label != k)
            part = sparse.coo_array(A[others])
            # +a_i in the block of class y_i, -a_i in the block of class k
            cols = np.concatenate([label[others][part.row] * d + part.col, k * d + part.col])
            blocks.append(
                sparse.csr_array(
                    (np.concatenate([part.data, -part.data]), (np.tile(part.row, 2), cols)),
                    shape=(len(others), K * d),
                )
            )
        rows = sparse.vstack(blocks, format="csr")
    return rows


def _overlap_on_a_sample(A, Y) -> bool:
    """True when random samples of the rows prove that the classes overlap; False: not shown.

    **Two classes.** A sample ``S`` of the rows decides for all of them when (i) the classes
    overlap on ``S`` (the LP on ``S`` finds no separating direction) and (ii) every row is a
    combination of the rows of ``S``: a direction whose margins ``y_i a_i^T v`` are >= 0
    everywhere has margins >= 0 on ``S``, hence 0 there by (i), and by (ii) every other margin is
    a combination of those zeros, 0 too: the direction separates nothing.

    **More classes.** Take ``S_r``, a sample of the largest class ``r``, with (ii) for ``S_r``,
    and for every other class ``k`` the binary LP of ``r`` against ``k`` on ``S_r`` and a sample
    of ``k``. If all K - 1 pairs overlap, a direction ``V`` with margins >= 0 everywhere has
    ``(v_r - v_k)^T a_j = 0`` on ``S_r`` for every ``k`` (those are margins of the pair's LP, >= 0
    and not separating), so by (ii) ``(v_r - v_k)^T a_i = 0`` for every row ``i``: every margin
    ``(v_c - v_k)^T a_i`` is a difference of two zeros.

    In floating point (ii) is measured: the part of each row outside the span of the sample
    must be below :data:`MAX_OUTSIDE_SPAN` (l1 norm), and the weights ``beta_i`` of the
    least-norm combination ``a_i = sum_j beta_ij a_j`` are bounded through
    ``||beta_i||_1 <= sqrt(m) ||Sigma^-1 Q^T a_i||_2`` (``Q Sigma^2 Q^T`` the sample's Gram
    matrix, ``m`` its rows). A margin outside the sample is then at most ``max ||beta_i||_1``
    times the sample's largest (twice that with more classes), so a sample proves overlap only
    when its LPs find no margin above :data:`MIN_MARGIN` divided by that bound; the sample is not
    trusted when the bound exceeds :data:`MAX_COMBINATION_WEIGHT` (a rare feature, say, that the
    sample barely sees).

    Only tall problems try it (the sample at most a quarter of the rows): for 100,000 x 100
    dense overlapping data it costs 0.4 s where the LP on all rows costs 18 s. Separable data
    fail (i) and go on to the full LP.
    """
    n, p = A.shape
    if p > MAX_SAMPLED_COLUMNS:
        return False
    rng = np.random.default_rng(0)  # a diagnosis: the same verdict on every run
    two = Y.shape[1] == 1
    if two:
        pool = np.arange(n)
    else:
        label = Y.argmax(axis=1)
        members = [np.flatnonzero(label == k) for k in range(Y.shape[1])]
        anchor = int(np.argmax([len(m) for m in members]))
        pool = members[anchor]
    size = SAMPLE_ROWS_PER_COLUMN * p
    for _ in range(2):
        if len(pool) < 4 * size:
            return False
        base = rng.choice(pool, size, replace=False)
        weight = _combination_weight(A, A[base])
        if weight <= MAX_COMBINATION_WEIGHT:
            if two:
                pairs = [(base, Y[base])]
            else:
                weight *= 2.0
                pairs = []
                for k in range(Y.shape[1]):
                    if k != anchor:
                        other = rng.choice(members[k], min(size, len(members[k])), replace=False)
                        rows = np.concatenate([base, other])
                        pairs.append((rows, (label[rows] == anchor)[:, None].astype(float)))
            if all(
                _no_margin_above(A[rows], target, MIN_MARGIN / weight) for rows, target in pairs
            ):
                return True
        size *= 4
    return False


def _combination_weight(rows, sample) -> float:
    """Bound on ``||beta_i||_1`` over ``rows`` (see :func:`_overlap_on_a_sample`); inf if outside."""
    gram = sample.T @ sample  # (sparse stays sparse: a dense sample of 20 rows a column was
    gram = _dense(gram)  # 20 p^2 numbers, 2.6 GB at p = 2000 in the second round: a review)
    eigenvalues, vectors = scipy.linalg.eigh(gram)
    keep = eigenvalues > SPAN_RESOLUTION**2 * max(eigenvalues[-1], 0.0)
    if not keep.any():
        return np.inf
    Q = vectors[:, keep]
    inverse_sigma = 1.0 / np.sqrt(eigenvalues[keep])
    worst = 0.0
    chunk = max(1, 2**21 // rows.shape[1])  # rows of 16 MB dense blocks
    for start in range(0, rows.shape[0], chunk):
        block = _dense(rows[start : start + chunk])
        coordinates = block @ Q
        outside = np.abs(block - coordinates @ Q.T).sum(axis=1)
        if outside.max() > MAX_OUTSIDE_SPAN:
            return np.inf
        worst = max(worst, float(np.linalg.norm(coordinates * inverse_sigma, axis=1).max()))
    return float(np.sqrt(sample.shape[0]) * worst)


def _dense(A):
    return A.toarray() if sparse.issparse(A) else A
