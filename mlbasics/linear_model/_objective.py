"""The regularised logistic-regression objective: data, not a solver.

.. math::

    F(W) = \\sum_i c_i \\, \\ell(y_i, z_i) + \\lambda_1 \\|W\\|_1 + \\frac{\\lambda_2}{2} \\|W\\|_F^2,
    \\qquad z_i = W a_i,

with ``c_i = C * s_i`` (``s_i`` the sample weight times the class weight), ``a_i = [x_i, 1]`` the sample
with a constant appended when an intercept is fitted, and the intercept column left out of both
penalties.

Coefficient layout (the one used everywhere in :mod:`mlbasics.linear_model`)
-----------------------------------------------------------------------------
``coef`` has shape ``(n_outputs, n_dof)`` with ``n_dof = n_features + fit_intercept`` and the intercept
in the **last column**. ``n_outputs`` is 1 for a binary problem (one weight vector; class 1 is the
positive class) and ``n_classes`` for the multinomial loss.

Binary and multinomial share every formula once the scores are turned into probabilities: with
``P = sigmoid(z)`` (binary) or ``P = softmax(z)`` (multinomial) and ``Y`` the 0/1 targets,

* gradient of the loss: ``A^T R`` with residuals ``R = c * (P - Y)`` (formed without
  cancellation where ``P`` rounds to ``Y``: :meth:`LogisticObjective.residuals`);
* Hessian of the loss: ``sum_i c_i (diag(P_i) - P_i P_i^T) kron a_i a_i^T`` (for one output this is
  ``c_i P_i (1 - P_i) a_i a_i^T``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .._dense_products import (
    curvature_product_dense,
    one_pass_ready,
    transpose_product_dense,
)
from .._threads import serial_column_sums, serial_dot
from .._validation import abs_max, flat_columns
from ..kernels import row_blocks
from ..losses import (
    logistic,
    multinomial,
    multinomial_probabilities,
    probability_residuals,
    probability_variances,
    sigmoid,
    softmax_jacobian_product,
)
from ._cd_kernels import centred_copy_column_major

# Memory of the row block of X whose centred squares are summed at a time (dense X): one buffer,
# reused for every block and small enough to stay in cache (8 MB blocks, each a fresh array,
# took 30 ms of a 0.18 s fit on 100 000 x 100; 256 KB in one buffer, 12 ms).
SQUARE_BLOCK_BYTES = 256 * 2**10


@dataclass(frozen=True)
class Penalty:
    """``l1 * ||W||_1 + l2 / 2 * ||W||^2`` on the non-intercept coefficients."""

    l1: float = 0.0
    l2: float = 0.0

    @property
    def is_zero(self) -> bool:
        """No penalty at all: ``C`` is then meaningless and the optimum may be at infinity."""
        return self.l1 == 0.0 and self.l2 == 0.0

    @classmethod
    def from_params(cls, penalty, l1_ratio=None) -> Penalty:
        """Translate scikit-learn's ``penalty`` / ``l1_ratio`` into the two strengths."""
        if penalty is None:
            return cls(0.0, 0.0)
        if penalty == "l2":
            return cls(0.0, 1.0)
        if penalty == "l1":
            return cls(1.0, 0.0)
        if penalty == "elasticnet":
            if l1_ratio is None:
                raise ValueError("penalty='elasticnet' needs l1_ratio, a number in [0, 1].")
            return cls(float(l1_ratio), 1.0 - float(l1_ratio))
        raise ValueError(f"Unknown penalty {penalty!r}; expected 'l2', 'l1', 'elasticnet' or None.")


def penalty_that_runs(penalty, l1_ratio, C):
    """The ``penalty`` name :meth:`Penalty.from_params` takes for the estimator's parameters:
    ``"auto"`` becomes the one ``l1_ratio`` names (0 ``"l2"``, 1 ``"l1"``, between
    ``"elasticnet"``; scikit-learn 1.8's convention), and ``C = inf`` is no penalty (None)
    whatever ``penalty`` says."""
    if not np.isfinite(C):
        return None
    if penalty != "auto":
        return penalty
    ratio = 0.0 if l1_ratio is None else float(l1_ratio)
    return "l2" if ratio == 0.0 else "l1" if ratio == 1.0 else "elasticnet"


def add_intercept_column(X):
    """The design matrix ``A = [X, 1]`` in float64 (a sparse copy for sparse X, never densified)."""
    n = X.shape[0]
    if sparse.issparse(X):
        ones = sparse.csr_array(np.ones((n, 1)))
        return sparse.hstack([X, ones], format="csr", dtype=np.float64)
    return np.hstack([np.asarray(X, dtype=np.float64), np.ones((n, 1))])


def target_matrix(y_index, n_classes):
    """The 0/1 targets ``Y`` of the objective from class indices: one column (class 1 against
    class 0) for two classes, one-hot columns for more."""
    if n_classes == 2:
        return y_index.reshape(-1, 1).astype(np.float64)
    Y = np.zeros((len(y_index), n_classes))
    Y[np.arange(len(y_index)), y_index] = 1.0
    return Y


def feature_means(X, weights):
    """The ``weights``-weighted column means of X (dense or sparse)."""
    return np.asarray(weights @ X).ravel() / max(float(weights.sum()), np.finfo(float).tiny)


class LogisticObjective:
    """Value, gradient and curvature of the penalised logistic objective.

    The design matrix ``A = [X - mu, 1]`` is never formed for the smooth solvers: products with it
    are products with ``X`` plus rank-one corrections (:meth:`scores`, :meth:`rmatvec`), so a
    dense ``X`` is used without a copy and a sparse one stays sparse. Centring the columns by
    ``mu`` is an exact change of variables, ``x w + b = (x - mu) w + (b + mu w)``: scores,
    objective and penalised weights are unchanged and only the intercept moves
    (:meth:`to_internal`, :meth:`to_original`). It removes the near-collinearity between the
    intercept and features with large means that otherwise slows coordinate descent, conjugate
    gradients and L-BFGS by orders of magnitude.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Features, float64 (CSR or CSC when sparse).
    Y : ndarray of shape (n_samples, n_outputs)
        0/1 targets: a single column for a binary problem, one-hot for the multinomial loss.
    weights : ndarray of shape (n_samples,)
        ``c_i``: sample weights times class weights times ``C`` (times 1 when there is no penalty).
    penalty : Penalty
    fit_intercept : bool
        Whether the coefficients carry an unpenalised intercept (their last column).
    mu : ndarray of shape (n_features,), default=None
        Column offsets (see above); only with an intercept.
    """

    def __init__(self, X, Y, weights, penalty: Penalty, *, fit_intercept: bool, mu=None):
        if mu is not None and not fit_intercept:
            raise ValueError("Centring the columns needs an intercept to absorb the means.")
        self.X = X
        self.Y = Y
        self.weights = weights
        self.penalty = penalty
        self.fit_intercept = fit_intercept
        self.mu = mu
        self.n_samples, self.n_features = X.shape
        self.n_dof = self.n_features + int(fit_intercept)
        self.n_outputs = Y.shape[1]
        self.shape = (self.n_outputs, self.n_dof)
        # Columns of W that the penalties act on (everything but the intercept).
        self.penalized = np.ones(self.n_dof, dtype=bool)
        if fit_intercept:
            self.penalized[-1] = False
        # Scale of the objective: the stopping rules compare ``tol`` with gradients divided by it,
        # which makes ``tol`` mean the same as in scikit-learn (whose objective is divided by n).
        self.scale = max(float(weights.sum()), np.finfo(float).tiny)
        # Margins sign for the binary case: +1 for class 1, -1 for class 0.
        self._sign = 2.0 * Y[:, 0] - 1.0 if self.n_outputs == 1 else None
        # (coef, gap): the plain duality gap a solver's stopping test computed, at coef
        # (_newton._gap_within_tol); fit takes it as duality_gap_ when coef is the solution
        self.certified = None
        # (coef, KnownDecrement): the same for the Newton decrement of an unpenalised fit
        # (_newton._certified_decrement_passes), which fit hands to check_kkt's report
        self.certified_decrement = None
        # (P, its rows' arg max): the products of one Newton step share them (hessp)
        self._top = None
        # One output on a dense C-ordered float64 X: X^T r and the Hessian products by the
        # compiled one-pass loops of mlbasics._dense_products (BLAS's X^T r is the slow half of them)
        self._row_loops = one_pass_ready(X, self.n_outputs)

    @classmethod
    def from_data(cls, X, Y, weights, penalty: Penalty, *, fit_intercept, center=True):
        """The objective with centred columns when there is an intercept and ``center``."""
        mu = feature_means(X, weights) if fit_intercept and center else None
        return cls(X, Y, weights, penalty, fit_intercept=fit_intercept, mu=mu)

    def design(self, *, column_major=False):
        """The design matrix ``A = [X - mu, 1]`` formed explicitly (a copy).

        Needed by the Cholesky direction and by coordinate descent. Dense: float64, column-major
        when asked. Sparse: CSC with the column of ones appended (only without centring, which
        would densify it).
        """
        if sparse.issparse(self.X):
            if self.mu is not None:
                raise ValueError("A centred sparse design would be dense; build it uncentred.")
            A = add_intercept_column(self.X) if self.fit_intercept else self.X
            A = sparse.csc_array(A, dtype=np.float64, copy=True)  # never touch the caller's X
            A.sum_duplicates()  # canonical: sorted indices, no repeated entries
            return A
        A = np.empty((self.n_samples, self.n_dof), order="F" if column_major else "C")
        p = self.n_features
        if column_major and self.X.flags.c_contiguous and self.X.dtype == np.float64:
            # the layout changes: copy by tiles (the compiled copy takes native float64 only)
            mu = self.mu if self.mu is not None else np.zeros(p)
            centred_copy_column_major(self.X, mu, A)
        elif self.mu is None:
            A[:, :p] = self.X
        else:
            np.subtract(self.X, self.mu, out=A[:, :p])
        if self.fit_intercept:
            A[:, p] = 1.0
        return A

    @property
    def multinomial(self) -> bool:
        return self.n_outputs > 1

    # -- scores and probabilities ------------------------------------------------------------
    def scores(self, coef):
        """``Z = A W^T = X W_x^T + (b - W_x mu)``, shape (n_samples, n_outputs)."""
        p = self.n_features
        W = coef[:, :p]
        Z = np.asarray(self.X @ W.T)
        if self.fit_intercept:
            offset = coef[:, p] - (np.einsum("kj,j->k", W, self.mu) if self.mu is not None else 0.0)
            Z += offset
        return Z

    def probabilities(self, Z):
        """``sigmoid(Z)`` (binary) or ``softmax(Z)`` (multinomial)."""
        return multinomial_probabilities(Z) if self.multinomial else sigmoid(Z)

    # -- values --------------------------------------------------------------------------------
    def loss(self, Z) -> float:
        """``sum_i c_i loss(y_i, z_i)``: the data-fit term (stable for any score)."""
        if self.multinomial:
            per_sample = multinomial(Z, self.Y)
        else:
            per_sample = logistic(self._sign * Z[:, 0])
        return serial_dot(self.weights, per_sample)

    def l2_value(self, coef) -> float:
        if self.penalty.l2 == 0.0:
            return 0.0
        W = coef[:, self.penalized]
        return 0.5 * self.penalty.l2 * float(np.vdot(W, W))

    def l1_value(self, coef) -> float:
        if self.penalty.l1 == 0.0:
            return 0.0
        return self.penalty.l1 * float(np.abs(coef[:, self.penalized]).sum())

    def value(self, coef, Z=None) -> float:
        """The full objective ``F(W)``."""
        if Z is None:
            Z = self.scores(coef)
        return self.loss(Z) + self.l2_value(coef) + self.l1_value(coef)

    # -- first order ---------------------------------------------------------------------------
    def residuals(self, Z, P=None):
        """``R = c * (P - Y)``: derivative of the data-fit with respect to the scores ``Z``.

        Formed without cancellation (:func:`~mlbasics.losses.probability_residuals`): a sample
        past a margin of about 37 has ``P == Y`` in float64, and at a large ``C`` its residual is
        what the gradient is made of. Binary: ``-s * sigmoid(-s z)`` (``s`` the label's sign);
        multinomial: from ``P`` (:meth:`probabilities` at ``Z``, when the caller has them), the
        label's entry minus the sum of the others.
        """
        return self.weights[:, None] * probability_residuals(Z, self.Y, P)

    def rmatvec(self, R):
        """``R^T A`` as an array of the coefficient shape: ``[R^T X - (sum R) mu, sum R]``."""
        p = self.n_features
        out = np.empty(self.shape)
        if self._row_loops:
            transpose_product_dense(self.X, np.ascontiguousarray(R[:, 0]), out[0, :p])
        else:
            out[:, :p] = np.asarray(self.X.T @ R).T
        if self.fit_intercept:
            column_sums = serial_column_sums(R)
            out[:, p] = column_sums
            if self.mu is not None:
                out[:, :p] -= np.outer(column_sums, self.mu)
        return out

    def smooth_gradient(self, coef, Z, P=None):
        """Gradient of the smooth part (data-fit plus the L2 term) at the scores ``Z`` of ``coef``
        (``P``: the probabilities there, when the caller has them)."""
        G = self.rmatvec(self.residuals(Z, P))
        if self.penalty.l2 != 0.0:
            G[:, self.penalized] += self.penalty.l2 * coef[:, self.penalized]
        return G

    def optimality(self, coef, G, *, original=True):
        """Largest distance of ``-G`` to the subdifferential of the L1 term, entry by entry, in the
        coordinates of the original (uncentred) problem.

        With no L1 term this is ``max |G|``. For a penalised entry ``w``: ``|G + l1 sign(w)|`` when
        ``w != 0`` and ``max(|G| - l1, 0)`` when ``w == 0`` (the minimum-norm subgradient). ``G``
        is the gradient of this (centred) objective; the measure is taken on
        :meth:`original_gradient`, the one :func:`mlbasics.optimality.check_kkt` computes from the
        fitted model, so that a run stopped at ``tol`` passes ``check_kkt`` at ``tol``.
        ``original=False`` measures ``G`` itself, the gradient in the variables the solvers move.
        """
        if original:
            G = self.original_gradient(G)
        l1 = self.penalty.l1
        if l1 == 0.0:
            return float(np.abs(G).max(initial=0.0))
        V = np.abs(G)
        Gp, Wp = G[:, self.penalized], coef[:, self.penalized]
        V[:, self.penalized] = np.where(
            Wp != 0.0, np.abs(Gp + l1 * np.sign(Wp)), np.maximum(np.abs(Gp) - l1, 0.0)
        )
        return float(V.max(initial=0.0))

    def original_gradient(self, G):
        """``G`` (the gradient in the centred variables ``(w, b')``) -> the gradient in ``(w, b)``.

        With ``b = b' - w mu`` the scores are the same, and by the chain rule the derivative in
        ``w`` of the original problem is ``G_w + G_b mu`` (the intercept's is unchanged). The two
        vanish together, but while the derivative in the intercept is not yet 0 a feature with a
        large mean multiplies it: at ``mu = 1e4`` a centred measure of ``1e-9`` was ``1e-5`` in
        the original coordinates.
        """
        if self.mu is None:
            return G
        p = self.n_features
        out = np.array(G, dtype=float)
        out[:, :p] += np.outer(out[:, p], self.mu)
        return out

    # -- second order --------------------------------------------------------------------------
    def curvature(self, Z, P=None):
        """``c_i P_ik (1 - P_ik)``: the diagonal curvature weights, shape (n_samples, n_outputs).

        Computed from the scores so that it stays positive when a probability rounds to 0 or 1:
        ``sigmoid(z) sigmoid(-z)`` for one output; for the softmax, ``1 - P_ik`` is the sum of the
        other probabilities, summed directly for the largest one (where ``1 - P`` would cancel).
        A zero curvature would stall coordinate descent on a coordinate that is not optimal.
        ``P``: :meth:`probabilities` at ``Z`` when the caller has them (saves a softmax).
        """
        return self.weights[:, None] * probability_variances(Z, P)

    def hessp(self, P, h, V):
        """Hessian-vector product ``H V`` of the smooth part, with ``V`` of the coefficient shape.

        ``P`` are the probabilities and ``h`` the curvature weights :meth:`curvature` at the same
        scores (computed once per point, not once per product). One output:
        ``H V = A^T (h * (A V^T))``, the curvature of :meth:`hessian` and :meth:`hessian_diagonal`
        (``c P (1 - P)`` would round to 0 for scores beyond about 37). Multinomial:
        ``A^T (c P * (Zv - <P, Zv>))`` with ``Zv = A V^T``, taken relative to each row's most
        probable class (:func:`~mlbasics.losses.softmax_jacobian_product`: no cancellation where
        that probability rounds to 1).
        """
        if self._row_loops:
            HV = self._curvature_product(h, V)
        else:
            HV = self._hessp_products(P, h, V)
        if self.penalty.l2 != 0.0:
            HV[:, self.penalized] += self.penalty.l2 * V[:, self.penalized]
        return HV

    def _curvature_product(self, h, V):
        """``A^T (h * (A V^T))`` (one output, dense ``X``) in one compiled pass over the rows:
        the scores of ``V`` as :meth:`scores` forms them, then :meth:`rmatvec`'s correction."""
        p = self.n_features
        w = np.ascontiguousarray(V[0, :p])
        offset = 0.0
        if self.fit_intercept:
            offset = V[0, p] - (
                float(np.einsum("j,j->", w, self.mu)) if self.mu is not None else 0.0
            )
        out = np.empty(self.shape)
        total = curvature_product_dense(
            self.X, w, offset, np.ascontiguousarray(h[:, 0]), out[0, :p]
        )
        if self.fit_intercept:
            out[0, p] = total
            if self.mu is not None:
                out[0, :p] -= total * self.mu
        return out

    def _hessp_products(self, P, h, V):
        """The data-fit part of :meth:`hessp` by two products with ``X`` (``scores``, ``rmatvec``)."""
        Zv = self.scores(V)
        if self.multinomial:
            if self._top is None or self._top[0] is not P:  # (one arg max per point)
                self._top = (P, P.argmax(axis=1))
            U = self.weights[:, None] * softmax_jacobian_product(P, Zv, self._top[1])
        else:
            U = h * Zv
        return self.rmatvec(U)

    def centred_square_sums(self, H):
        """``sum_i H_ik (x_ij - mu_j)^2`` for every output ``k`` and feature ``j``, shape (K, p).

        ``H`` has shape (n_samples, K) (weights or curvatures). The centred values are formed
        entry by entry, never expanded as ``sum H x^2 - 2 mu sum H x + mu^2 sum H``: for a feature
        with a large mean and a small spread (``1e8 + 0.01 * noise``) the three terms agree to
        more digits than float64 holds and the expansion returns rounding noise, thousands of
        times the true value or negative. Dense ``X``: ``H^T (X - mu)^2`` in row blocks of
        bounded memory. Sparse ``X`` (never densified): the stored entries give
        ``sum_stored H_ik (x_ij - mu_j)^2`` and the implicit zeros ``mu_j^2`` times their weight,
        ``sum_i H_ik - sum_stored H_ik`` (exactly 0 for a column without implicit zeros; otherwise
        its rounding, a few ulps of ``sum_i H_ik``, matters only if the implicit zeros carry less
        than about ``1e-13`` of the weight).
        """
        H = np.asarray(H, dtype=np.float64)
        mu = self.mu
        n, p = self.X.shape
        if not sparse.issparse(self.X):
            out = np.zeros((H.shape[1], p))
            buffer = np.empty(min(n * p, max(p, SQUARE_BLOCK_BYTES // 8)))
            for rows in row_blocks(n, p, SQUARE_BLOCK_BYTES):
                block = buffer[: (rows.stop - rows.start) * p].reshape(-1, p)
                np.subtract(self.X[rows], 0.0 if mu is None else mu, out=block)
                out += H[rows].T @ np.square(block, out=block)
            return out
        # New arrays on X's own structure (CSR or CSC, no format conversion; the caller's X is
        # never touched). Duplicate entries are summed first: (a + b - mu)^2 is not
        # (a - mu)^2 + (b - mu)^2.
        X = self.X
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        A = X.__class__((X.data.astype(np.float64), X.indices, X.indptr), shape=X.shape)
        column = A.indices if A.format == "csr" else np.repeat(np.arange(p), np.diff(A.indptr))
        if mu is not None:
            A.data -= mu[column]
        np.square(A.data, out=A.data)
        out = np.asarray(A.T @ H).T
        if mu is not None:
            A.data[:] = 1.0
            stored = np.asarray(A.T @ H).T
            zeros_weight = np.maximum(H.sum(axis=0)[:, None] - stored, 0.0)
            zeros_weight[:, np.bincount(column, minlength=p) == n] = 0.0
            out += zeros_weight * mu**2
        return out

    @functools.cached_property
    def x_max(self) -> float:
        """``max |x_ij|`` of ``X``, once (the L1 gap test's bound on its float64 floor reads it:
        :class:`~mlbasics.optimality._logistic.GapJudge`)."""
        return abs_max(self.X)

    @functools.cached_property
    def _column_spread(self):
        """``sum_i c_i (x_ij - mu_j)^2`` per feature (one pass over X, computed once)."""
        return self.centred_square_sums(self.weights[:, None])[0]

    @functools.cached_property
    def flat_columns(self):
        """The features flat for the objective without a penalty
        (:func:`~mlbasics._validation.flat_columns`): treating a feature of large mean and tiny
        spread as constant left a fit at the intercept-only model."""
        return flat_columns(self.X, self.weights, self.fit_intercept)

    @functools.cached_property
    def duplicate_columns(self):
        """Dense ``X``: the features equal to an earlier one on the samples of positive weight
        (with an intercept: up to a constant, compared after subtracting the first such row).
        Sparse ``X``: none are looked for (all False)."""
        p = self.n_features
        duplicate = np.zeros(p, dtype=bool)
        X = self.X
        positive = self.weights > 0
        if sparse.issparse(X) or p < 2 or not positive.any():
            return duplicate
        if not positive.all():
            X = X[positive]
        origin = X[0] if self.fit_intercept else np.zeros(p)
        # candidates: equal column sums (identical columns sum identically, row by row), then
        # an exact comparison within each group; no copy of X beyond a block of rows
        sums = np.zeros(p)
        for rows in row_blocks(X.shape[0], p, SQUARE_BLOCK_BYTES):
            sums += (X[rows] - origin).sum(axis=0)
        _, group = np.unique(sums, return_inverse=True)
        for label in np.flatnonzero(np.bincount(group) > 1):
            members = np.flatnonzero(group == label)
            columns = X[:, members] - origin[members]
            for k in range(1, len(members)):
                same = [i for i in range(k) if np.array_equal(columns[:, i], columns[:, k])]
                duplicate[members[k]] = bool(same)
        return duplicate

    def approximate_hessian_diagonal(self, Z, h=None):
        """The Hessian diagonal with the curvature averaged over samples: cheap, for preconditioning.

        Entry ``(k, j)`` is ``hbar_k sum_i c_i (x_ij - mu_j)^2 (+ l2)`` with
        ``hbar_k = sum_i h_ik / sum_i c_i``: it keeps what matters most to a Jacobi
        preconditioner, the scale of each column, and costs no pass over ``X`` per iteration
        (the exact :meth:`hessian_diagonal` costs one). The intercept entry is exact. ``h``:
        :meth:`curvature` at ``Z`` when the caller has it already.
        """
        if h is None:
            h = self.curvature(Z)
        h_sums = h.sum(axis=0)
        p = self.n_features
        D = np.empty(self.shape)
        D[:, :p] = np.outer(h_sums / self.scale, self._column_spread)
        if self.fit_intercept:
            D[:, p] = h_sums
        D[:, self.penalized] += self.penalty.l2
        return D

    def hessian_diagonal(self, Z):
        """Diagonal of the Hessian of the smooth part, of the coefficient shape.

        Entry ``(k, j)`` is ``sum_i h_ik (x_ij - mu_j)^2 (+ l2)``
        (:meth:`centred_square_sums`: no centred copy of ``X`` is kept). For the multinomial
        loss it is the diagonal of the full Hessian too: entry ``(k, j), (k, j)`` only involves
        ``P_k (1 - P_k)``.
        """
        h = self.curvature(Z)
        p = self.n_features
        D = np.empty(self.shape)
        D[:, :p] = self.centred_square_sums(h)
        if self.fit_intercept:
            D[:, p] = h.sum(axis=0)
        D[:, self.penalized] += self.penalty.l2
        return D

    @functools.cached_property
    def _dense_design(self):
        return self.design()

    def hessian(self, P, h):
        """The full Hessian of the smooth part, shape ``(n_outputs * n_dof, n_outputs * n_dof)``.

        ``P`` are the probabilities and ``h`` the curvature weights :meth:`curvature` at the same
        scores: diagonal blocks ``A^T diag(h_k) A``, off-diagonal ones ``-A^T diag(c P_k P_l) A``.
        Rows and columns follow ``coef.ravel()`` (output-major). Dense ``X`` only: it forms the
        design (:meth:`design`, once) and costs ``n_samples * (n_outputs * n_dof)^2 / 2``
        operations, so it is meant for a small number of coefficients.
        """
        A, K, d = self._dense_design, self.n_outputs, self.n_dof
        H = np.empty((K * d, K * d))
        c = self.weights
        for k in range(K):
            for l in range(k, K):
                w = h[:, k] if k == l else -c * P[:, k] * P[:, l]
                block = A.T @ (w[:, None] * A)
                H[k * d : (k + 1) * d, l * d : (l + 1) * d] = block
                if l != k:
                    H[l * d : (l + 1) * d, k * d : (k + 1) * d] = block.T
        if self.penalty.l2 != 0.0:
            diag = np.tile(self.penalized * self.penalty.l2, K)
            H[np.diag_indices_from(H)] += diag
        return H

    # -- centred columns --------------------------------------------------------------------------
    def to_internal(self, coef):
        """Coefficients of the original problem -> those of this (column-centred) one."""
        if self.mu is None:
            return coef
        coef = np.array(coef, dtype=float)
        coef[:, -1] += coef[:, :-1] @ self.mu
        return coef

    def to_original(self, coef):
        """Inverse of :meth:`to_internal`: the intercept of the uncentred features."""
        if self.mu is None:
            return coef
        coef = np.array(coef, dtype=float)
        coef[:, -1] -= coef[:, :-1] @ self.mu
        return coef

    def lipschitz_bound(self):
        """An upper bound ``L`` on the largest eigenvalue of the Hessian of the smooth part.

        The logistic curvature is at most 1/4 (binary) and the softmax's ``diag(P) - P P^T`` at
        most 1/2 in spectral norm, so ``L = q sum_i c_i ||a_i||^2 + l2`` with ``q`` that bound:
        a gradient step of length ``1 / L`` always decreases the objective.
        """
        q = 0.5 if self.multinomial else 0.25
        total = float(self._column_spread.sum())  # sum_i c_i ||x_i - mu||^2, centred entrywise
        if self.fit_intercept:
            total += float(self.weights.sum())
        return q * total + self.penalty.l2

    # -- the multinomial's flat directions ------------------------------------------------------
    def remove_class_mean(self, V):
        """Remove the class mean of each column: the softmax is blind to it.

        Adding the same vector to every class's coefficients leaves every probability unchanged,
        so the multinomial Hessian is singular along those directions (for the intercept always,
        for the weights when there is no L2 term). Newton directions are kept in the orthogonal
        complement; with a centred start this loses nothing, since the gradient lies there too.
        """
        if not self.multinomial:
            return V
        return V - V.mean(axis=0, keepdims=True)

    def best_class_shift(self, coef):
        """The per-column shift across classes that minimises the penalty, for the multinomial loss.

        Adding ``s_j`` to every class's coefficient of feature ``j`` leaves the loss unchanged, so
        the best ``s_j`` minimises ``l1 sum_k |W_kj - s| + l2/2 sum_k (W_kj - s)^2``: the median of
        the column for pure L1, the mean for pure L2, and in between the root of the monotone
        derivative (found by bisection, all columns at once). Without this step proximal Newton
        crawls along the flat direction when ``C`` is large (Friedman, Hastie, Tibshirani 2010).
        Returns ``s`` of shape (n_dof,), zero for the intercept.
        """
        W = coef[:, self.penalized]
        l1, l2 = self.penalty.l1, self.penalty.l2

        def cost(s):
            return l1 * np.abs(W - s).sum(axis=0) + 0.5 * l2 * ((W - s) ** 2).sum(axis=0)

        lo, hi = W.min(axis=0), W.max(axis=0)
        for _ in range(60):  # 60 halvings: the bracket down to float64's resolution of it
            mid = 0.5 * (lo + hi)
            slope = l1 * np.sign(mid - W).sum(axis=0) + l2 * (mid - W).sum(axis=0)
            lo = np.where(slope < 0.0, mid, lo)
            hi = np.where(slope < 0.0, hi, mid)
        # Candidates: no shift, every breakpoint W_kj (where a coefficient becomes exactly zero;
        # the optimum for pure L1 is always one), and the bisection point. Ties go to the
        # earlier candidate, so the shift never moves a coefficient off an exact zero for
        # nothing and the solver does not chase rounding.
        candidates = np.vstack([np.zeros((1, W.shape[1])), W, 0.5 * (lo + hi)[None, :]])
        costs = np.array([cost(c) for c in candidates])
        noise = 1e-12 * (1.0 + costs[0])  # costs this close are equal up to the sums' rounding
        best = np.argmax(costs <= costs.min(axis=0) + noise, axis=0)
        shift = np.zeros(self.n_dof)
        shift[self.penalized] = candidates[best, np.arange(W.shape[1])]
        return shift


def logistic_objective(X, y, coef, intercept, *, C=1.0, penalty="l2", l1_ratio=0.0,
                       sample_weight=None):  # fmt: skip
    """Value of the objective for given coefficients, from any fitted linear model.

    Evaluates ``C * sum_i s_i loss_i + R(W)`` exactly as :class:`~mlbasics.LogisticRegression` minimises it,
    for coefficients of either library (``coef`` of shape (1, n_features) for a binary problem, one
    row per class for the multinomial loss). Used to put scikit-learn's solutions and ours on the
    same scale.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    coef : array-like of shape (n_outputs, n_features)
    intercept : array-like of shape (n_outputs,)
    C : float, default=1.0
    penalty : {"auto", "l2", "l1", "elasticnet"} or None, default="l2"
        As the estimator reads it: ``"auto"`` takes the penalty ``l1_ratio`` names, and
        ``C=np.inf`` is no penalty whatever ``penalty`` says.
    l1_ratio : float, default=0.0
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    float
    """
    coef = np.atleast_2d(np.asarray(coef, dtype=float))
    intercept = np.asarray(intercept, dtype=float).reshape(-1)
    classes, y_index = np.unique(np.asarray(y), return_inverse=True)
    n = len(y_index)
    n_outputs = 1 if len(classes) == 2 else len(classes)
    if coef.shape[0] != n_outputs or intercept.shape != (n_outputs,):
        raise ValueError(
            f"{len(classes)} classes need coef of shape ({n_outputs}, n_features) and intercept "
            f"of shape ({n_outputs},); got {coef.shape} and {intercept.shape}."
        )
    if X.shape != (n, coef.shape[1]):
        raise ValueError(f"X has shape {X.shape}; expected ({n}, {coef.shape[1]}) from y and coef.")
    Y = target_matrix(y_index, len(classes))
    pen = Penalty.from_params(penalty_that_runs(penalty, l1_ratio, C), l1_ratio)
    weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if not pen.is_zero:
        weights = C * weights
    X = X.astype(np.float64) if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
    obj = LogisticObjective(X, Y, weights, pen, fit_intercept=True)
    return obj.value(np.hstack([coef, intercept[:, None]]))
