"""The LogisticRegression estimator: validates, picks a solver, stores the certificate."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._newton import lbfgs, newton_smooth, prox_newton
from ._objective import LogisticObjective, Penalty, add_intercept_column
from ._separation import separating_direction_exists

# solver="newton" on a smooth problem: a Newton step by Cholesky costs one Hessian build,
# n * m^2 / 2 flops for m = n_outputs * n_dof coefficients, plus m^3 / 3 to factor it; by
# truncated Newton-CG it costs about CG_PRODUCTS_PER_STEP Hessian-vector products of 2 n m flops
# each (measured on standardised data, see docs/benchmarks.rst). The cheaper one is used.
CG_PRODUCTS_PER_STEP = 10


def _cholesky_is_cheaper(n_samples, n_coef) -> bool:
    n, m = n_samples, n_coef
    return n * m * m / 2 + m**3 / 3 <= CG_PRODUCTS_PER_STEP * 2 * n * m


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression fitted by Newton-type solvers, with an optimality certificate.

    Minimises, over the coefficients ``W`` and the intercepts ``b``,

    .. math::

        C \\sum_i s_i \\, \\ell(y_i, W x_i + b) + R(W),

    where ``s_i`` is the sample weight times the class weight, ``ell`` is the logistic loss (binary)
    or the softmax cross-entropy (three or more classes), and ``R`` is ``||W||^2 / 2`` (``"l2"``),
    ``||W||_1`` (``"l1"``), ``l1_ratio ||W||_1 + (1 - l1_ratio) ||W||^2 / 2`` (``"elasticnet"``) or
    zero (``None``). The intercept is never penalised. This is scikit-learn's objective, so the two
    can be compared number for number.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        The regulariser ``R``.
    C : float, default=1.0
        Inverse regularisation strength (weight of the data term); must be positive. Ignored when
        ``penalty=None``.
    l1_ratio : float in [0, 1], default=None
        Mixing parameter of the elastic net; required when ``penalty="elasticnet"`` and only used
        then.
    solver : {"newton", "newton-cholesky", "newton-cg", "lbfgs"}, default="newton"
        ``"newton"`` picks the second-order method that fits the problem: proximal Newton with
        coordinate descent when there is an L1 term; otherwise Newton with a Cholesky solve of the
        Hessian for small dense problems and Hessian-free truncated Newton-CG for large or sparse
        ones. ``"newton-cholesky"`` and ``"newton-cg"`` force one of the two (L2 or no penalty).
        ``"lbfgs"`` is quasi-Newton from :func:`scipy.optimize.minimize` (L2 or no penalty).
    fit_intercept : bool, default=True
        Whether to fit the unpenalised intercept ``b``.
    tol : float, default=1e-4
        Stop when the largest entry of the (sub)gradient, divided by ``C * sum_i s_i``, is below
        ``tol`` (and, for Newton, half the squared Newton decrement divided likewise).
    max_iter : int, default=100
        Maximum number of outer (Newton or quasi-Newton) iterations.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``s_i`` as in scikit-learn.
    warm_start : bool, default=False
        Start from the previous solution when the shapes agree.
    random_state : int, RandomState instance or None, default=None
        Reserved for the stochastic solvers; the Newton solvers are deterministic.
    verbose : int, default=0
        Print the objective and the optimality measure at every iteration when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients; one row for a binary problem (for ``classes_[1]``).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros when ``fit_intercept=False``).
    n_iter_ : ndarray of shape (1,)
        Number of outer iterations of the solver.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features, when ``X`` has string column names.
    objective_ : float
        Final value of the objective above.
    convergence_ : mlbasics.Trace
        Objective, optimality measure and time at every iteration (entry 0 is the start).
    converged_ : bool
        Whether the stopping rule was met.
    solver_ : str
        The method that ran: ``"newton-cholesky"``, ``"newton-cg"``, ``"prox-newton"`` or
        ``"lbfgs"`` (``solver="newton"`` picks one of the first three).

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same model, solved by lbfgs, liblinear, saga, ...

    Notes
    -----
    The gradient of the data term is ``A^T R`` with residuals ``R = c (P - Y)``; its Hessian is
    ``sum_i c_i (diag(P_i) - P_i P_i^T) kron a_i a_i^T``. See the theory page of the documentation
    and :mod:`mlbasics.linear_model._objective` for the code of each formula.

    References
    ----------
    .. [1] G.-X. Yuan, C.-H. Ho, C.-J. Lin. An improved GLMNET for L1-regularized logistic
       regression. JMLR 13, 2012.
    .. [2] C.-Y. Hsia, W.-L. Chiang, C.-J. Lin. Preconditioned conjugate gradient methods in
       truncated Newton frameworks for large-scale linear classification. ACML 2018.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from mlbasics import LogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), LogisticRegression(penalty="l1", C=0.1)).fit(X, y)
    >>> clf = model[-1]
    >>> bool(clf.converged_), bool(clf.objective_ == clf.convergence_.objective[-1])
    (True, True)
    >>> bool(0 < (clf.coef_ == 0).sum() < X.shape[1])  # L1: some coefficients exactly zero
    True
    >>> bool(model.score(X, y) > 0.95)
    True
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "C": [Interval(Real, 0, None, closed="neither")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "solver": [StrOptions({"newton", "newton-cholesky", "newton-cg", "lbfgs"})],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        penalty="l2",
        *,
        C=1.0,
        l1_ratio=None,
        solver="newton",
        fit_intercept=True,
        tol=1e-4,
        max_iter=100,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self.solver != "newton-cholesky"  # it forms a dense Hessian
        return tags

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; CSR or CSC sparse matrices are used as they are (never densified).
        y : array-like of shape (n_samples,)
            Class labels (any type scikit-learn accepts: integers, strings, ...).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : LogisticRegression
        """
        self._validate_params()
        penalty = self._penalty()
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            accept_large_sparse=False,
        )
        if sparse.issparse(X) and not X.has_canonical_format:
            X = X.copy()  # repeated entries would break the squared-column sums
            X.sum_duplicates()
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                "LogisticRegression needs samples of at least 2 classes in the data, but the data "
                f"contain only one class: {str(self.classes_[0])!r}."
            )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        if self.class_weight is not None:
            per_class = compute_class_weight(
                self.class_weight, classes=self.classes_, y=y, sample_weight=sample_weight
            )
            sample_weight = sample_weight * per_class[y_index]
        C = 1.0 if penalty.is_zero else float(self.C)
        weights = C * sample_weight

        if n_classes == 2:
            Y = y_index.reshape(-1, 1).astype(np.float64)
        else:
            Y = np.zeros((X.shape[0], n_classes))
            Y[np.arange(X.shape[0]), y_index] = 1.0
        n_dof = X.shape[1] + self.fit_intercept
        self.solver_ = self._solver_method(penalty, X, Y.shape[1] * n_dof)
        # Columns are centred (implicitly), except for coordinate descent on sparse X with the
        # multinomial loss, which needs the explicit columns and must not densify them.
        center = not (sparse.issparse(X) and self.solver_ == "prox-newton" and Y.shape[1] > 1)
        X = X.astype(np.float64) if X.dtype != np.float64 else X
        objective = LogisticObjective.from_data(
            X, Y, weights, penalty, fit_intercept=self.fit_intercept, center=center
        )
        result = SOLVERS[self.solver_](
            objective,
            objective.to_internal(self._initial_coef(objective)),
            tol=self.tol,
            max_iter=self.max_iter,
            hook=self._hook(),
        )
        coef = objective.to_original(result.coef)
        if self.fit_intercept:
            self.coef_, self.intercept_ = coef[:, :-1].copy(), coef[:, -1].copy()
        else:
            self.coef_, self.intercept_ = coef.copy(), np.zeros(coef.shape[0])
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.objective_ = result.objective
        self.convergence_ = result.trace
        self.converged_ = result.converged
        if not result.converged and self.max_iter > 0:
            advice = (
                "Increase max_iter, loosen tol,"
                if result.n_iter >= self.max_iter
                else "The objective no longer decreases in floating point: loosen tol,"
            )
            warnings.warn(
                f"LogisticRegression(solver={self.solver!r}) stopped before the optimality "
                f"criterion was met ({result.message}; scaled optimality "
                f"{result.optimality / objective.scale:.2e} > tol={self.tol:g}). {advice} "
                "or standardise the features (StandardScaler in a Pipeline).",
                ConvergenceWarning,
                stacklevel=2,
            )
        if penalty.is_zero:
            self._warn_if_separated(objective)
        return self

    def _penalty(self):
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("penalty='elasticnet' needs l1_ratio, a number in [0, 1].")
        if self.penalty != "elasticnet" and self.l1_ratio is not None:
            warnings.warn(
                f"l1_ratio={self.l1_ratio} is only used with penalty='elasticnet'; "
                f"it is ignored with penalty={self.penalty!r}.",
                UserWarning,
                stacklevel=3,
            )
        return Penalty.from_params(self.penalty, self.l1_ratio)

    def _solver_method(self, penalty, X, n_coef) -> str:
        """The method that runs: "prox-newton", "newton-cholesky", "newton-cg" or "lbfgs"."""
        smooth = penalty.l1 == 0.0
        if self.solver == "newton":
            if not smooth:
                return "prox-newton"
            cholesky = not sparse.issparse(X) and _cholesky_is_cheaper(X.shape[0], n_coef)
            return "newton-cholesky" if cholesky else "newton-cg"
        if not smooth:
            raise ValueError(
                f"solver={self.solver!r} handles penalty='l2' or None only; "
                f"penalty={self.penalty!r} needs proximal Newton: use solver='newton'."
            )
        if self.solver == "newton-cholesky" and sparse.issparse(X):
            raise ValueError(
                "solver='newton-cholesky' forms a dense Hessian and needs dense X; "
                "use solver='newton-cg' (or 'newton') for sparse input."
            )
        return self.solver

    def _initial_coef(self, objective):
        shape = objective.shape
        if self.warm_start and hasattr(self, "coef_"):
            previous = np.hstack([self.coef_, self.intercept_[:, None]])
            if not self.fit_intercept:
                previous = previous[:, :-1]
            if previous.shape == shape:
                return previous
        return np.zeros(shape)

    def _hook(self):
        if not self.verbose:
            return None
        name = self.solver_

        def hook(iteration, objective, optimality):
            print(f"[{name}] iter {iteration:4d}  objective {objective:.12g}  "
                  f"optimality {optimality:.3e}")  # fmt: skip

        return hook

    def _warn_if_separated(self, objective):
        """Warn when the unpenalised optimum does not exist: the data are separable.

        Complete or quasi-complete separation (some direction of the coefficients that never
        increases any sample's loss) is decided by a linear program
        (:func:`~mlbasics.linear_model._separation.separating_direction_exists`); the fitted
        coefficients are then only as large as the iteration budget allowed.
        """
        X = objective.X
        A = add_intercept_column(X) if objective.fit_intercept else X
        separable = separating_direction_exists(A, objective.Y, objective.weights)
        if separable:
            warnings.warn(
                "The training data are linearly separable and penalty=None: the unpenalised "
                "optimum lies at infinity and coef_ grows without bound with more iterations. "
                "Use penalty='l2' (or 'l1') with a finite C.",
                ConvergenceWarning,
                stacklevel=3,
            )

    # -- prediction ----------------------------------------------------------------------------
    def decision_function(self, X):
        """Scores ``X W^T + b``: shape (n_samples,) for two classes, (n_samples, n_classes) else."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Most probable class of each sample."""
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1.0 - p, p])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably (no ``log(0)``)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return log_softmax(scores, axis=1)


def _newton_with(inner):
    def solve(objective, coef0, *, tol, max_iter, hook=None):
        return newton_smooth(objective, coef0, tol=tol, max_iter=max_iter, inner=inner, hook=hook)

    return solve


SOLVERS = {
    "prox-newton": prox_newton,
    "newton-cholesky": _newton_with("cholesky"),
    "newton-cg": _newton_with("cg"),
    "lbfgs": lbfgs,
}
