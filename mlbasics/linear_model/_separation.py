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
"""

from __future__ import annotations

import numpy as np
import scipy.optimize
from scipy import sparse

# Above this many non-zeros in the constraint matrix the check is skipped (it is a diagnosis, not
# part of the fit, and must stay cheap next to it).
MAX_CONSTRAINT_NONZEROS = 20_000_000
# A direction separates when its largest margin exceeds this (the rows' entries are at most 1
# after scaling, the direction in [-1, 1]) and none is below -MIN_MARGIN times the largest.
MIN_MARGIN = 1e-6


def separating_direction_exists(A, Y, weights, *, intercept=False) -> bool | None:
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

    Returns
    -------
    bool or None
        None when the problem is too large for the check or the LP solver fails.
    """
    used = weights > 0
    A = A[used]
    Y = Y[used]
    if intercept and Y.shape[1] > 1:
        Y = Y[:, Y.sum(axis=0) > 0]  # (see intercept above)
    # Separability does not depend on the columns' units, the LP's box and tolerances do: each
    # column is divided by its largest magnitude (features in units of 1e-9 beside the
    # intercept's ones were "separable" by HiGHS's feasibility tolerance, and separable data in
    # units of 1e-12 were not). With an intercept it does not depend on the columns' offsets
    # either: the columns without zeros are centred first (1e5 + 1e-3 x, scaled, was the ones
    # column to 1e-8, and overlapping iris classes were "separable"); the others keep their
    # zeros (centred, 0/1 columns filled the constraint matrix: 40 times slower, or beyond
    # MAX_CONSTRAINT_NONZEROS and no check at all).
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
    A = A @ sparse.diags_array(1.0 / np.where(largest > 0, largest, 1.0))
    d = A.shape[1]
    if Y.shape[1] == 1:
        sign = 2.0 * Y[:, 0] - 1.0
        rows = A.multiply(sign[:, None]).tocsr()  # y_i a_i
    else:
        K = Y.shape[1]
        label = Y.argmax(axis=1)
        A = sparse.csr_array(A)
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
    if rows.nnz > MAX_CONSTRAINT_NONZEROS:
        return None
    total = np.asarray(rows.sum(axis=0)).ravel()
    result = scipy.optimize.linprog(
        -total, A_ub=-rows, b_ub=np.zeros(rows.shape[0]), bounds=(-1.0, 1.0), method="highs"
    )
    if result.status != 0:
        return None
    # The direction is judged by its margins, not by the LP's objective alone: HiGHS's
    # feasibility tolerance (about 1e-7 a row) admits directions whose margins are numbers of
    # that size and both signs (float32 features with a redundant column, 132 of 400 margins
    # negative: "separable" beside a finite optimum at 72% accuracy).
    margins = rows @ result.x
    top = float(margins.max(initial=0.0))
    return top > MIN_MARGIN and float(margins.min(initial=0.0)) >= -MIN_MARGIN * top
