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

* gradient of the loss: ``A^T R`` with residuals ``R = c * (P - Y)``;
* Hessian of the loss: ``sum_i c_i (diag(P_i) - P_i P_i^T) kron a_i a_i^T`` (for one output this is
  ``c_i P_i (1 - P_i) a_i a_i^T``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..losses import logistic, multinomial, multinomial_probabilities, sigmoid


@dataclass(frozen=True)
class Penalty:
    """``l1 * ||W||_1 + l2 / 2 * ||W||^2`` on the non-intercept coefficients."""

    l1: float = 0.0
    l2: float = 0.0

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
            return cls(float(l1_ratio), 1.0 - float(l1_ratio))
        raise ValueError(f"Unknown penalty {penalty!r}; expected 'l2', 'l1', 'elasticnet' or None.")


def add_intercept_column(X):
    """The design matrix ``A = [X, 1]`` in float64 (a sparse copy for sparse X, never densified)."""
    n = X.shape[0]
    if sparse.issparse(X):
        ones = sparse.csr_array(np.ones((n, 1)))
        return sparse.hstack([X, ones], format="csr", dtype=np.float64)
    return np.hstack([np.asarray(X, dtype=np.float64), np.ones((n, 1))])


def design_matrix(X, weights, *, fit_intercept):
    """The design matrix the solvers work on, built with one copy of X.

    Dense X with an intercept: ``A = [X - mu, 1]`` in float64 and column-major order (coordinate
    descent reads columns), ``mu`` the ``weights``-weighted column means. Since
    ``x w + b = (x - mu) w + (b + mu w)``, this is an exact change of variables: scores, objective
    and penalised weights are unchanged, only the intercept moves (see
    :meth:`LogisticObjective.to_original`). It removes the near-collinearity between the
    intercept column and features with large means, which otherwise slows coordinate descent,
    conjugate gradients and L-BFGS by orders of magnitude. Sparse X is never centred (that would
    densify it): ``A = [X, 1]`` as a sparse copy.

    Returns
    -------
    A : ndarray or sparse matrix of shape (n_samples, n_features + fit_intercept)
    mu : ndarray of shape (n_features,) or None
    """
    if sparse.issparse(X):
        A = add_intercept_column(X) if fit_intercept else X.astype(np.float64)
        return A, None
    n, d = X.shape
    if not fit_intercept:
        return np.asfortranarray(X, dtype=np.float64), None
    mu = (weights @ X) / max(float(weights.sum()), np.finfo(float).tiny)
    A = np.empty((n, d + 1), order="F")
    np.subtract(X, mu, out=A[:, :d])
    A[:, d] = 1.0
    return A, mu


class LogisticObjective:
    """Value, gradient and curvature of the penalised logistic objective.

    Parameters
    ----------
    A : ndarray or sparse matrix of shape (n_samples, n_dof)
        Design matrix, with the column of ones last when ``fit_intercept``. Build it with
        :meth:`from_data` (which centres dense columns, see :func:`design_matrix`) or
        :func:`add_intercept_column`.
    Y : ndarray of shape (n_samples, n_outputs)
        0/1 targets: a single column for a binary problem, one-hot for the multinomial loss.
    weights : ndarray of shape (n_samples,)
        ``c_i``: sample weights times class weights times ``C`` (times 1 when there is no penalty).
    penalty : Penalty
    fit_intercept : bool
        Whether the last column of ``A`` is the unpenalised intercept.
    """

    def __init__(self, A, Y, weights, penalty: Penalty, *, fit_intercept: bool):
        self.A = A
        self.Y = Y
        self.weights = weights
        self.penalty = penalty
        self.fit_intercept = fit_intercept
        self.n_samples, self.n_dof = A.shape
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
        # Weighted means subtracted from the feature columns (see design_matrix), or None.
        self.mu = None

    @classmethod
    def from_data(cls, X, Y, weights, penalty: Penalty, *, fit_intercept: bool):
        """Build the objective from a data matrix, with the design of :func:`design_matrix`."""
        A, mu = design_matrix(X, weights, fit_intercept=fit_intercept)
        objective = cls(A, Y, weights, penalty, fit_intercept=fit_intercept)
        objective.mu = mu
        return objective

    @property
    def multinomial(self) -> bool:
        return self.n_outputs > 1

    # -- scores and probabilities ------------------------------------------------------------
    def scores(self, coef):
        """``Z = A W^T``, shape (n_samples, n_outputs)."""
        Z = self.A @ coef.T
        return np.asarray(Z)

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
        return float(self.weights @ per_sample)

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
    def residuals(self, P):
        """``R = c * (P - Y)``: derivative of the data-fit with respect to the scores."""
        return self.weights[:, None] * (P - self.Y)

    def rmatvec(self, R):
        """``R^T A`` as an array of the coefficient shape."""
        return np.asarray((self.A.T @ R).T)

    def smooth_gradient(self, coef, P):
        """Gradient of the smooth part (data-fit plus the L2 term)."""
        G = self.rmatvec(self.residuals(P))
        if self.penalty.l2 != 0.0:
            G[:, self.penalized] += self.penalty.l2 * coef[:, self.penalized]
        return G

    def optimality(self, coef, G):
        """Largest distance of ``-G`` to the subdifferential of the L1 term, entry by entry.

        With no L1 term this is ``max |G|``. For a penalised entry ``w``: ``|G + l1 sign(w)|`` when
        ``w != 0`` and ``max(|G| - l1, 0)`` when ``w == 0`` (the minimum-norm subgradient).
        """
        l1 = self.penalty.l1
        if l1 == 0.0:
            return float(np.abs(G).max(initial=0.0))
        V = np.abs(G)
        Gp, Wp = G[:, self.penalized], coef[:, self.penalized]
        V[:, self.penalized] = np.where(
            Wp != 0.0, np.abs(Gp + l1 * np.sign(Wp)), np.maximum(np.abs(Gp) - l1, 0.0)
        )
        return float(V.max(initial=0.0))

    # -- second order --------------------------------------------------------------------------
    def curvature(self, P):
        """``c_i P_i (1 - P_i)``: the diagonal curvature weights, shape (n_samples, n_outputs)."""
        return self.weights[:, None] * P * (1.0 - P)

    def hessp(self, P, V):
        """Hessian-vector product ``H V`` of the smooth part, with ``V`` of the coefficient shape."""
        Zv = self.scores(V)
        if self.multinomial:
            U = P * (Zv - np.einsum("ij,ij->i", P, Zv)[:, None])
        else:
            U = P * (1.0 - P) * Zv
        HV = self.rmatvec(self.weights[:, None] * U)
        if self.penalty.l2 != 0.0:
            HV[:, self.penalized] += self.penalty.l2 * V[:, self.penalized]
        return HV

    @functools.cached_property
    def A_squared(self):
        """``A * A`` entry by entry (sparse stays sparse), computed once: the Hessian diagonal
        is ``(A * A)^T`` times the curvature weights."""
        return self.A.multiply(self.A).tocsr() if sparse.issparse(self.A) else self.A * self.A

    def hessian_diagonal(self, P):
        """Diagonal of the Hessian of the smooth part, of the coefficient shape.

        Exact for the binary loss; for the multinomial one it is the diagonal of the full
        Hessian too, since the ``(k, j), (k, j)`` entry only involves ``P_k (1 - P_k)``.
        """
        D = np.asarray((self.A_squared.T @ self.curvature(P)).T)
        D[:, self.penalized] += self.penalty.l2
        return D

    def hessian(self, P):
        """The full Hessian of the smooth part, shape ``(n_outputs * n_dof, n_outputs * n_dof)``.

        Rows and columns follow ``coef.ravel()`` (output-major). Dense ``A`` only: it costs
        ``n_samples * (n_outputs * n_dof)^2 / 2`` operations and is meant for small ``n_dof``.
        """
        A, K, d = self.A, self.n_outputs, self.n_dof
        H = np.empty((K * d, K * d))
        c = self.weights
        for k in range(K):
            for l in range(k, K):
                if k == l:
                    h = c * P[:, k] * (1.0 - P[:, k])
                else:
                    h = -c * P[:, k] * P[:, l]
                block = A.T @ (h[:, None] * A)
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


def logistic_objective(X, y, coef, intercept, *, C=1.0, penalty="l2", l1_ratio=None,
                       sample_weight=None):  # fmt: skip
    """Value of the objective for given coefficients, from any fitted linear model.

    Evaluates ``C * sum_i s_i loss_i + R(W)`` exactly as :class:`LogisticRegression` minimises it,
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
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
    l1_ratio : float, default=None
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    float
    """
    coef = np.atleast_2d(np.asarray(coef, dtype=float))
    intercept = np.asarray(intercept, dtype=float).reshape(-1)
    classes, y_index = np.unique(np.asarray(y), return_inverse=True)
    n = len(y_index)
    if coef.shape[0] == 1:
        Y = (y_index == len(classes) - 1).astype(float).reshape(-1, 1)
    else:
        Y = np.zeros((n, len(classes)))
        Y[np.arange(n), y_index] = 1.0
    pen = Penalty.from_params(penalty, l1_ratio)
    weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if pen != Penalty(0.0, 0.0):
        weights = C * weights
    A = add_intercept_column(X)
    obj = LogisticObjective(A, Y, weights, pen, fit_intercept=True)
    return obj.value(np.hstack([coef, intercept[:, None]]))
