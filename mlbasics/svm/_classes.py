"""The SVC estimator: validates, splits into one-vs-one problems, calls the SMO solver, stores the model."""

from __future__ import annotations

import functools
from itertools import combinations
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from scipy.special import log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.callback import with_callbacks
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._callbacks import CallbackSupport
from .._ovo import pair_coefficients
from .._validation import (
    canonical_sparse,
    classes_and_weights,
    forget_fit,
    refuse_huge_integers,
    warn_at_caller,
)
from ..kernels import (
    PREDICT_BLOCK_BYTES,
    KernelSpec,
    callable_kernel_input,
    callable_kernel_rows,
    fitted_kernel,
    is_two_d,
    rbf_centre,
    resolve_gamma,
    squared_norms,
    subtract_centre,
)
from ._checks import (
    EIGENVALUE_CHECK_MAX,
    MAX_SQUARED_NORM,
    NEGLIGIBLE_SQUARED_HINGE_C,
    check_bounds,
    check_feature_scale,
    check_kernel_range,
    check_solution,
    check_symmetric,
    exact_kernel_block,
    kernel_bounds,
    smallest_eigenvalue,
    sparse_rbf_rounding,
)
from ._dual import dual_value
from ._smo import LOSSES, solve_dual
from ._smo_kernels import gram_from_dots

__all__ = ["SVC"]

#: The squared hinge's samples left out for a negligible ``C_i``
#: (:data:`~mlbasics.svm._checks.NEGLIGIBLE_SQUARED_HINGE_C`) are settled at their optimum given
#: the others' solution, provided that this moves the decision values at the support vectors by
#: at most this (the margins are 1); otherwise the pair is solved whole. Six samples of weight
#: 1e16 beside 34 of weight 1 are a hard margin whose ``alpha`` stay of order 1: the settled
#: ``alpha`` of the others reached 650, and the model was 800 times off its optimum with
#: converged_ True; one sample of weight 1e-20 at 1e9 on the wrong side (linear kernel) had a
#: settled ``alpha`` of 2.2e-11 that moved ``w`` by 0.02.
NEGLIGIBLE_SETTLED_EFFECT = 1e-12

#: The linear kernel is solved on centred rows when the centre's squared norm exceeds this many
#: times the median squared distance of a row from it: the float32 kernel rows then keep fewer
#: than five of their seven digits for the part that differs between rows (at 100, C = 1000 left
#: decision values 1.3 off uncentred, 1.7e-3 centred). The median, not the largest distance: one
#: far row turned centring off. Ordinary raw data stay below it (iris 24, wine and breast cancer
#: 11, digits 2.4).
LINEAR_CENTRE_RATIO = 100.0


def ovr_from_ovo(decision: np.ndarray, n_classes: int, *, zero_to_first=True) -> np.ndarray:
    """One-vs-rest scores from one-vs-one decision values (libsvm's pair order).

    Each class gets its number of pairwise wins plus a tie-breaking term in (-1/3, 1/3): its summed
    pairwise decision values ``s`` squashed as ``s / (3 (|s| + 1))``. The votes therefore decide,
    and the confidences only order classes with equal votes (scikit-learn's aggregation). A pair
    whose decision value is exactly 0 votes for its first class, as scikit-learn's
    ``decision_function`` counts it; ``zero_to_first=False`` gives it to the second, as libsvm's
    vote in ``predict`` does.
    """
    n = decision.shape[0]
    votes = np.zeros((n, n_classes))
    for p, (a, b) in enumerate(combinations(range(n_classes), 2)):
        wins_a = decision[:, p] >= 0 if zero_to_first else decision[:, p] > 0
        votes[wins_a, a] += 1
        votes[~wins_a, b] += 1
    with np.errstate(over="ignore", invalid="ignore"):  # (overflows replaced below)
        confidence = class_sums(decision, n_classes)
        squashed = confidence / (3 * (np.abs(confidence) + 1))
    # Pairwise values near 1e308 (a review): a running sum that overflowed stays infinite (of
    # the sign of its overflow, not of the whole sum), and inf / inf made NaN scores, so that
    # predict answered a class of no votes. The sums of the values divided by n_classes cannot
    # overflow (n_classes - 1 terms of at most max / n_classes). Where the plain sum is not
    # finite, or 3 (|s| + 1) may overflow, the squash is taken from them: +-1/3 (to rounding)
    # beyond max / 4.
    top = np.finfo(float).max / 4
    redo = ~(np.abs(confidence) <= top)  # (also NaN)
    rows = redo.any(axis=1)
    if rows.any():
        shares = class_sums(decision[rows] / n_classes, n_classes)[redo[rows]]
        with np.errstate(over="ignore"):  # (clipped: used only below top)
            exact = np.clip(shares * n_classes, -top, top)
        squashed[redo] = np.where(
            np.abs(shares) > top / n_classes, np.sign(shares) / 3,
            exact / (3 * (np.abs(exact) + 1)),
        )  # fmt: skip
    return votes + squashed


def class_sums(values, n_classes: int) -> np.ndarray:
    """Each class's sum of its pairwise ``values`` (libsvm's pair order): plus as a pair's first
    class, minus as its second."""
    sums = np.zeros((values.shape[0], n_classes))
    for p, (a, b) in enumerate(combinations(range(n_classes), 2)):
        sums[:, a] += values[:, p]
        sums[:, b] -= values[:, p]
    return sums


def kernel_block(spec: KernelSpec, A, B, sq_b=None) -> np.ndarray:
    """``K(A, B)`` of a named kernel as prediction computes it, block after block.

    One BLAS product ``A @ B'``, turned into kernel values in place by the compiled
    :func:`~mlbasics.svm._smo_kernels.gram_from_dots` (libsvm's formulas, from the inner products
    and the squared norms): the same values as scikit-learn's pairwise kernels
    (:meth:`~mlbasics.kernels.KernelSpec.matrix`) up to rounding, and faster for rbf (0.11 s
    against 0.19 s for 10 000 x 3 000 kernel values of 20 features). A block whose kernel
    arguments or values may overflow float64 (:func:`~mlbasics.svm._checks.kernel_bounds`: rows
    far beyond the training data's scale) is computed by
    :func:`~mlbasics.svm._checks.exact_kernel_block` instead. ``sq_b``: the squared norms of
    ``B``'s rows when the caller has them (the support vectors', the same for every block).
    """
    sq_a = squared_norms(A)
    sq_b = squared_norms(B) if sq_b is None else sq_b
    top_a, top_b = float(sq_a.max(initial=0.0)), float(sq_b.max(initial=0.0))
    argument, value = kernel_bounds(spec, top_a, top_b)
    if not max(top_a, argument, value) <= MAX_SQUARED_NORM:
        # rows far beyond the training data's scale: IEEE infinities, exact RBF zeros, each such
        # row on its own (exact_kernel_block scales a block by its largest entry: the ordinary
        # rows of a block holding one row of 1e200 came out at kernel value 1 from every support
        # vector)
        far = np.array(
            [not max(s, *kernel_bounds(spec, float(s), top_b)) <= MAX_SQUARED_NORM for s in sq_a]
        )
        gram = np.empty((A.shape[0], B.shape[0]))
        for i in np.flatnonzero(far):
            gram[i] = exact_kernel_block(spec, A[i : i + 1], B)[0]
        near = np.flatnonzero(~far)
        if near.size:
            gram[near] = kernel_block(spec, A[near], B, sq_b=sq_b)
        return gram
    kern = (np.int64(spec.code), spec.gamma, spec.coef0, np.int64(spec.degree))
    gram = np.ascontiguousarray(safe_sparse_dot(A, B.T, dense_output=True))
    gram_from_dots(gram, sq_a, sq_b, kern, np.empty(B.shape[0], dtype=np.int64))
    return gram


def _fitted_loss(estimator) -> str:
    """The loss the model was fitted with (its parameter before a fit): predictions follow the
    fitted model, not a ``loss`` set after the fit with ``set_params`` (a hinge model then gave
    softmax "probabilities" of its hinge scores: a review)."""
    return getattr(estimator, "_loss", estimator.loss)


def _is_logistic(estimator) -> bool:
    return _fitted_loss(estimator) == "logistic"


def _qp_short_of_tol(model, gap, bounds, kernel_top, ended=None, clipped_margin=0.0):
    """The warning's text for a QP solution whose gap ``m - M`` is above ``tol``; ``ended``
    says how the solver ended (the solution's ``message``; default: "optimal");
    ``clipped_margin``, the solution's bound on the margins' change by the clipped negative
    eigenvalues of the kernel matrix (:class:`~mlbasics.svm._dual.DualSolution`).

    The advice follows the evidence: the interior-point solvers resolve ``alpha`` to an absolute
    accuracy, so bounds ``C_i`` far below 1 (a small ``C``, tiny sample weights) leave variables
    neither at a bound nor free, and ``C_i K_ii`` far above 1 makes the margins sensitive to that
    accuracy. Said only where it applies ("lower C" used to be said for an optimal model at
    ``C = 10`` and for weights of 1e-9 alike).
    """
    smallest, largest = float(bounds.min()), float(bounds.max())
    causes = []
    if smallest < 1e-6:
        causes.append(
            f"bounds C_i down to {smallest:.3g} are within the solvers' absolute accuracy on "
            "alpha: raise C, or drop samples of near-zero weight"
        )
    if largest * kernel_top > 1e4:
        causes.append(
            f"C_i K_ii up to {largest * kernel_top:.3g} makes the margins sensitive to that "
            "accuracy: lower C or scale the features"
        )
    if gap <= 2.0 * clipped_margin:  # m and M each move by up to clipped_margin
        why = (
            "The kernel matrix has negative eigenvalues (e.g. from rounding in float32), which "
            "the QP clips to 0: it solved the clipped matrix's problem, whose margins differ "
            f"from the matrix's by up to {clipped_margin:.3g}. Use solver='smo', which solves the "
            "problem of the matrix as given"
        )
        given = model.kernel == "precomputed" or callable(model.kernel)
        why += ", or compute the kernel matrix in float64." if given else "."
    elif model.tol < 1e-6:
        why = (
            "The interior-point solvers end near their own tolerances (gaps of about 1e-8 at "
            "best): use solver='smo' for a tol this small."
        )
    elif causes:
        why = "The QP solvers' accuracy on alpha is absolute: " + "; ".join(causes) + "; or use "
        why += "solver='smo'."
    elif _fitted_loss(model) == "logistic":  # no variable at a bound: 0 < alpha_i < C_i
        why = (
            "The problem is well scaled: the interior point's accuracy on alpha leaves the "
            "margins off by more than tol; solver='smo' reaches this tol."
        )
    else:
        why = (
            "The problem is well scaled: the interior point stopped near, not at, a bound; "
            "solver='smo' reaches this tol."
        )
    if ended is None:
        ended = f"the {model.qp_solver} solver ended 'optimal' by its own tolerances"
    return (
        f"solver='qp': {ended}, but its solution's gap m - M = {gap:.3g} is above "
        f"tol={model.tol}: it is not the optimum to that tolerance. {why}"
    )


def _overflow_at_predict(X) -> ValueError:
    """The error of decision values that overflow (NaN or infinite: never returned)."""
    values = X.data if sparse.issparse(X) else X
    largest = float(np.abs(values).max(initial=0.0))
    return ValueError(
        "the decision values on X are not finite: its kernel values against the support vectors "
        f"overflow (X has entries up to {largest:.3g} in absolute value). Transform X as the "
        "training data were (e.g. with the same fitted StandardScaler)."
    )


def _primal_weights(dual_coef, n_support, support_vectors):
    """``w`` of every binary problem (linear kernel): ``dual_coef_`` in pair layout times the
    support vectors. One function for ``coef_`` and for the intercept of a centred fit, which
    must round ``w`` alike."""
    W = pair_coefficients(dual_coef, n_support)
    return np.asarray(safe_sparse_dot(W.T, support_vectors, dense_output=True))


class SVC(CallbackSupport, ClassifierMixin, BaseEstimator):
    """Kernel support vector classifier, trained in the dual by SMO (or by a cvxpy solver).

    For labels ``y_i`` in {-1, +1} (the pair of classes of one binary problem) the model is
    ``f(x) = sum_i y_i alpha_i K(x_i, x) + b``, the solution of the soft-margin problem

    .. math::

        \\min_{f}\\; \\tfrac12 \\|f\\|_{\\mathcal H}^2 + \\sum_i C_i\\, \\ell(y_i f(x_i)),

    where ``C_i`` is ``C`` times the sample and class weights and ``ell`` is a convex surrogate of
    the 0/1 loss: the hinge ``max(0, 1 - z)``, the squared hinge ``max(0, 1 - z)^2`` or the logistic
    ``log(1 + exp(-z))``. The dual of each, solved by :func:`~mlbasics.svm._smo.solve_dual`
    (``solver="smo"``) or :func:`~mlbasics.svm._qp.solve_dual_qp` (``solver="qp"``), is in
    :doc:`/theory/svm`. With three or more classes, one binary problem is solved for every pair of
    classes (one-vs-one, as libsvm) and the pairs vote.

    Parameters
    ----------
    C : float, default=1.0
        Weight of the data term; must be positive.
    kernel : {"linear", "poly", "rbf", "sigmoid", "precomputed"} or callable, default="rbf"
        The kernel (see :mod:`mlbasics.kernels`). With "precomputed", ``X`` is the kernel matrix
        (``fit``: square, training x training; ``predict``: test x training). A callable
        ``kernel(X, Z)`` returns the matrix; it is checked for shape and finite real values, and
        gets copies of the arrays ``X`` and ``Z`` (so it cannot change the caller's arrays; the
        Python objects in an object array, such as ragged sequences, are passed as they are). As in
        scikit-learn, only the callable reads ``X``, which keeps its dtype and shape: integer
        indices into a table stay integers, strings (for a string kernel) stay strings, from a
        plain list too; 3-D series and missing values (NaN) reach the callable as given.
    degree : int, default=3
        Degree of the polynomial kernel.
    gamma : {"scale", "auto"} or float, default="scale"
        Kernel coefficient of "rbf", "poly" and "sigmoid": ``1 / (n_features * X.var())``,
        ``1 / n_features``, or a positive number.
    coef0 : float, default=0.0
        Constant term of "poly" and "sigmoid".
    loss : {"hinge", "squared_hinge", "logistic"}, default="hinge"
        Surrogate of the 0/1 loss. With "logistic" the model is kernel logistic regression: every
        training sample has ``0 < alpha_i < C_i`` and is a support vector, and
        :meth:`predict_proba` is available. A fitted model predicts (and is certified) with the
        loss it was fitted with: a ``loss`` set afterwards takes effect at the next fit.
    solver : {"smo", "qp"}, default="smo"
        "smo": sequential minimal optimisation (numba), with second-order working-set selection,
        shrinking and a kernel-row cache. "qp": the same dual written in cvxpy and handed to an
        interior-point or operator-splitting solver (``qp_solver``); an independent reference
        for small problems (it forms a factor of the kernel matrix).
    qp_solver : {"clarabel", "osqp", "scs"}, default="clarabel"
        The cvxpy solver used when ``solver="qp"``.
    tol : float, default=1e-3
        Stop when the maximal violating pair's gap ``m(alpha) - M(alpha)`` is below ``tol``
        (libsvm's criterion and default). With ``solver="qp"``, the gap the QP solver's solution
        is checked against (``converged_``).
    cache_size : float, default=200
        Kernel-row cache in megabytes.
    shrinking : bool, default=True
        Use the shrinking heuristic (hinge and squared hinge; the logistic dual has no bounds to
        shrink at). Binary problems of dense data with at least ``BATCHED_MIN`` (6 000) samples,
        a named kernel, the hinge or squared-hinge loss and ``cache_size`` room for 256 kernel rows
        are solved by batched working sets, which do not shrink: ``shrinking`` has no effect
        there (see the SVM theory page).
    max_iter : int or None, default=None
        Cap on SMO pair updates per binary problem. None (or -1, scikit-learn's spelling of "no
        limit") means ``max(10**7, 100 n)``, ten times that for the batched working sets (their
        local SMOs make 4 to 7 times as many pair updates as the pair SMO on the same problem):
        always finite, and a :class:`~sklearn.exceptions.ConvergenceWarning` says when it was
        reached.
    class_weight : dict, "balanced" or None, default=None
        Multiplies ``C`` per class. "balanced" weighs class ``k`` by ``n / (n_classes n_k)`` with
        ``n_k`` the class's total sample weight (the convention of scikit-learn's
        ``LogisticRegression``: integer weights act as repeated rows); scikit-learn's ``SVC``
        counts the samples instead, so with ``sample_weight`` the two differ.
    decision_function_shape : {"ovr", "ovo"}, default="ovr"
        Shape of :meth:`decision_function` with three or more classes: per class (votes plus a
        confidence in (-1/3, 1/3)) or per pair of classes.
    break_ties : bool, default=False
        With "ovr" and three or more classes, predict the argmax of :meth:`decision_function`
        (ties broken by the confidences) instead of the plain vote (ties to the first class).
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility with scikit-learn's ``SVC``. The SMO solver makes no random
        choices, so a fit is repeatable whatever its value.
    verbose : int, default=0
        Print the gap of every binary problem as it falls.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    support_ : ndarray of shape (n_SV,)
        Indices of the support vectors (samples with ``alpha_i > 0`` in some binary problem),
        grouped by class.
    support_vectors_ : ndarray or sparse matrix of shape (n_SV, n_features)
        The support vectors (empty for a precomputed kernel).
    n_support_ : ndarray of shape (n_classes,)
        Number of support vectors per class.
    dual_coef_ : ndarray of shape (n_classes - 1, n_SV)
        ``y_i alpha_i`` in libsvm's one-vs-one layout (scikit-learn's ``SVC.dual_coef_``); for two
        classes the sign is such that positive decisions mean ``classes_[1]``.
    intercept_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        The offsets ``b`` of the binary problems.
    coef_ : ndarray of shape (n_classes * (n_classes - 1) / 2, n_features)
        Linear kernel only: the primal weights ``w`` of the binary problems, rows in the order of
        ``intercept_`` (one row for two classes), so that the decision values are
        ``X @ coef_.T + intercept_``. A dense array, computed from ``dual_coef_`` on access.
    class_weight_ : ndarray of shape (n_classes,)
        The weight of each class (ones without ``class_weight``).
    n_iter_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        Iterations of every binary problem: SMO's pair updates, or with ``solver="qp"`` the QP
        solver's iterations (summed over the working-set rounds).
    objective_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        Dual objective of every binary problem at its ``dual_coef_``, in minimised form (libsvm's
        ``obj``).
    duality_gap_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        Primal minus dual objective of every binary problem: ``P(f) - D(alpha) >= 0``, zero at the
        optimum, up to rounding (-2.9e-6, 2e-9 of the objective, for the logistic loss with an
        rbf kernel at ``C = 1e8``). ``P`` is evaluated at the fitted ``f`` with the solver's final gradient (no extra
        kernel evaluation; for a problem that did not converge, and for one checked in float64
        (small ``tol``), that gradient is recomputed with float64 kernel values over the support
        vectors); :func:`mlbasics.optimality.check_kkt` recomputes it independently from the
        fitted attributes (for ``loss="logistic"`` at the better of ``alpha`` and its released
        point, so its gap can be smaller: 1.6e-4 against 6.4e-3 on separable data at
        ``C = 1e8``).
    convergence_ : tuple of Trace
        Objective and gap ``m(alpha) - M(alpha)`` during each binary problem's run, as the solver
        kept them (from float32 kernel rows): the last entry of a problem that did not converge
        can differ from ``objective_``, which is recomputed in float64.
    converged_ : bool
        Whether every binary problem met ``tol``. With ``solver="qp"``: whether the gap
        ``m(alpha) - M(alpha)`` of every solution the QP solver returned is below ``tol`` (a
        :class:`~sklearn.exceptions.ConvergenceWarning` says when not).
    fit_status_ : int
        0 when every problem converged, 1 otherwise (scikit-learn's convention).
    shape_fit_ : tuple of int
        Shape of the training ``X``.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    sklearn.svm.SVC : libsvm's solver, the reference these numbers are tested against.

    Notes
    -----
    The solver is libsvm's decomposition method re-written for numba (Fan, Chen and Lin 2005): the
    maximal violating pair with second-order working-set selection, the pair solved in closed form
    and clipped to the box, the gradient kept up to date, variables that sit at a bound and cannot
    move "shrunk" away, and kernel rows kept in an LRU cache of float32 rows. The logistic dual
    has an entropy term instead of a box; its pair step is a safeguarded Newton iteration
    (Keerthi, Duan, Shevade and Poo 2005).

    Probabilities for the hinge losses: use
    ``sklearn.calibration.CalibratedClassifierCV(SVC(), ensemble=False)``.

    Callbacks (``set_callbacks``, :mod:`sklearn.callback`): with more than two classes each
    one-vs-one problem is a subtask of the fit; SMO reports every chunk of 2000 pair updates as a
    subtask below it (its count is not known in advance), the objective and gap m - M in the
    trace. A callback returning True at the end of a chunk ends that problem's SMO there: the
    solution is feasible and its bias and certificate are computed as after a converged run;
    the next problems still run (each has its own chunks to stop; True at the end of a
    one-vs-one problem's own task is ignored, since the model needs every problem). The QP solver
    reports no chunks: a callback cannot stop it. The callbacks get the model as it
    stands after each chunk: the current alpha, the bias of the variables still active,
    ``n_iter_``, ``objective_`` and ``convergence_`` so far (the last optimality entry of the last
    trace is the current gap m - M); with more than two classes, the problems not yet started
    count with alpha = 0 and bias 0.

    References
    ----------
    R.-E. Fan, P.-H. Chen and C.-J. Lin (2005). Working set selection using second order
    information for training support vector machines. JMLR 6, 1889-1918.

    S. S. Keerthi, K. B. Duan, S. K. Shevade and A. N. Poo (2005). A fast dual algorithm for kernel
    logistic regression. Machine Learning 61, 151-165.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from mlbasics import SVC
    >>> X, y = make_moons(200, noise=0.2, random_state=0)
    >>> model = SVC(C=1.0, kernel="rbf").fit(X, y)
    >>> bool(model.converged_), int(model.n_support_.sum()) == len(model.support_)
    (True, True)

    The same problem as libsvm's, solved to the same tolerance:

    >>> from sklearn.svm import SVC as LibsvmSVC
    >>> reference = LibsvmSVC(C=1.0, kernel="rbf").fit(X, y)
    >>> bool((model.predict(X) == reference.predict(X)).all())
    True
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "kernel": [StrOptions({"linear", "poly", "rbf", "sigmoid", "precomputed"}), callable],
        "degree": [Interval(Integral, 0, None, closed="left")],
        "gamma": [StrOptions({"scale", "auto"}), Interval(Real, 0, None, closed="neither")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "loss": [StrOptions(set(LOSSES))],
        "solver": [StrOptions({"smo", "qp"})],
        "qp_solver": [StrOptions({"clarabel", "osqp", "scs"})],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "cache_size": [Interval(Real, 0, None, closed="neither")],
        "shrinking": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None, Options(Integral, {-1})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "decision_function_shape": [StrOptions({"ovr", "ovo"})],
        "break_ties": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        C=1.0,
        *,
        kernel="rbf",
        degree=3,
        gamma="scale",
        coef0=0.0,
        loss="hinge",
        solver="smo",
        qp_solver="clarabel",
        tol=1e-3,
        cache_size=200,
        shrinking=True,
        max_iter=None,
        class_weight=None,
        decision_function_shape="ovr",
        break_ties=False,
        random_state=None,
        verbose=0,
    ):
        self.C = C
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.loss = loss
        self.solver = solver
        self.qp_solver = qp_solver
        self.tol = tol
        self.cache_size = cache_size
        self.shrinking = shrinking
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.decision_function_shape = decision_function_shape
        self.break_ties = break_ties
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self.kernel != "precomputed"
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags

    # -- fitting -------------------------------------------------------------------------------
    @with_callbacks
    def fit(self, X, y, sample_weight=None):
        """Fit the one-vs-one binary problems by SMO, or by cvxpy with ``solver="qp"``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, or the training kernel matrix of shape (n_samples, n_samples) when
            ``kernel="precomputed"``. Sparse input is kept sparse (CSR).
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; they multiply ``C`` per sample. Samples of weight 0 are left out.
            With ``loss="squared_hinge"``, those whose ``C_i`` is below 1e-15 of the largest in
            their class are left out of the solver (their dual variables would be below the
            others' rounding, and their curvature ``1 / (2 C_i)`` stalls SMO) and then given
            their optimum given the rest, ``alpha_i = 2 C_i (1 - z_i)_+``: they can appear in
            ``support_`` with dual coefficients of that size. Every class of ``y`` needs a positive total
            weight (a ``ValueError`` otherwise).

        Returns
        -------
        self : SVC

        Raises
        ------
        ValueError
            Besides invalid parameters and data: when the problem does not fit floating point
            (:mod:`mlbasics.svm._checks`), i.e. samples whose squared norms overflow or underflow
            float64 (named kernels), kernel values beyond float32's 3.4e38 (the kernel cache;
            e.g. the linear kernel on features of 1e20, ``degree=200``), ``C_i`` below 1e-100
            with ``loss="logistic"``, a solution that is not finite, and
            ``loss="squared_hinge"`` with a kernel matrix found not positive semidefinite (its
            dual is then unbounded below). The RBF, polynomial and sigmoid kernels with
            ``gamma="scale"`` give the same model whatever the scale of ``X``, as libsvm. With
            ``solver="qp"``, also a kernel matrix that is not PSD and a solver failure on a
            badly scaled problem (:func:`~mlbasics.svm._qp.solve_dual_qp`).
        RuntimeError
            With ``solver="qp"``: the solver failed or stopped with no usable answer on a problem
            of ordinary scale. The QP's errors name the binary problem (``on the problem 0 vs
            1: ...``).
        MemoryError
            With ``solver="qp"``: the dense kernel matrix and the solver's system would not fit
            in memory.
        """
        self._validate_params()
        refuse_huge_integers(self)
        self._check_break_ties()
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:  # a fit that fails (or is interrupted) leaves no model
            forget_fit(self, "_kernel_spec", "_rbf_offset", "_linear_offset")
            raise

    def _fit(self, X, y, sample_weight):
        precomputed = self.kernel == "precomputed"
        X, checks = self._input_checks(X, fitting=True)
        # (its check for NaN sums X first, which overflows on entries near the float64 maximum)
        with np.errstate(over="ignore", invalid="ignore"):
            X, y = validate_data(
                self, X, y, accept_sparse=False if precomputed else "csr", **checks
            )
        if not checks.get("ensure_2d", True):  # no columns: an earlier fit's count must go
            self.__dict__.pop("n_features_in_", None)
        if sparse.issparse(X):
            X = canonical_sparse(X)
        if precomputed and X.shape[0] != X.shape[1]:
            raise ValueError(
                f"kernel='precomputed' needs the square training kernel matrix of shape "
                f"(n_samples, n_samples); got X of shape {X.shape}."
            )
        check_classification_targets(y)
        self.classes_, y_index, _, weight, self.class_weight_ = classes_and_weights(
            self, X, y, sample_weight
        )
        with np.errstate(over="ignore"):
            upper = float(self.C) * weight
        check_bounds(upper, self.loss, y_index)
        named = not (precomputed or callable(self.kernel))
        # before gamma="scale" is computed from X's variance, which overflows with it
        top_squared_norm = check_feature_scale(X) if named else 0.0
        n_pairs = len(self.classes_) * (len(self.classes_) - 1) // 2
        per_problem = 0 if self.solver == "qp" else None  # SMO chunks: as many as it takes
        task = self._open_fit_task(
            X, y, sample_weight, max_subtasks=n_pairs if n_pairs > 1 else per_problem
        )

        gamma = 1.0 if precomputed or callable(self.kernel) else resolve_gamma(self.gamma, X)
        self._kernel_spec = KernelSpec(self.kernel, gamma, float(self.coef0), int(self.degree))
        self._loss = self.loss
        # The RBF kernel reads differences of rows only: the solvers and predict work on dense
        # rows minus rbf_centre (the features' medians), whose norms are small, so that
        # ||x||^2 + ||z||^2 - 2 x'z keeps the differences of data far from the origin (features of
        # 1e6 + N(0, 1): decision values off by 1.6e-3, and the float64 check at tol=1e-6 moved
        # the model by 1.2e-3).
        # Sparse rows too where a column mostly filled has a median that is not 0 (rbf_centre:
        # the columns that store fewer than half their entries keep a centre of 0 and stay
        # sparse); otherwise sparse rows are taken as given (_warn_if_sparse_rbf_rounds).
        self._rbf_offset = rbf_centre(X) if self.kernel == "rbf" else None
        if self._rbf_offset is not None and sparse.issparse(X) and not np.any(self._rbf_offset):
            self._rbf_offset = None
        # The linear kernel's dual does not change when every row moves by the same c: with
        # y'alpha = 0 the terms of c cancel, and only the intercept moves (by w'c). Where the
        # offset costs the float32 kernel rows their digits (a column of 1e4 beside unit
        # features: K_ij = 1e8 + O(1), stored 8 apart, and SMO ended at alpha = 0) the solvers
        # work on centred rows (only in fit: coef_ and intercept_ are of the rows as given).
        # Not always: y'alpha = 0 holds to rounding (eps n C; the QP restores it after its snaps
        # onto the bounds, which broke it by up to 1e-5), and that rounding times c'(x - c)
        # is what centring puts on the public decision values (raw digits at C = 1e5: 6.7e-8 on
        # the margins, above tol=1e-8).
        self._linear_offset = None
        train = X
        if self._rbf_offset is not None:
            train = subtract_centre(X, self._rbf_offset)
        elif self.kernel == "linear":
            # (sparse X too: its centre moves only the columns that are mostly filled already,
            # so the centred rows stay sparse; uncentred, a column of 1e4 in every row left the
            # fit 2 sum C above the optimum, and the squared hinge overflowed: a review)
            centre = rbf_centre(X)
            if np.any(centre):
                centred = subtract_centre(X, centre)
                if float(centre @ centre) > LINEAR_CENTRE_RATIO * float(
                    np.median(squared_norms(centred))
                ):
                    self._linear_offset, train = centre, centred
        elif callable(self.kernel):  # evaluated once, into the matrix the solver works on
            train = self._kernel_spec.matrix(X, X)
        solver_spec = KernelSpec("precomputed") if callable(self.kernel) else self._kernel_spec
        check_kernel_range(self._kernel_spec, top_squared_norm, gram=None if named else train)
        if not named and self.solver != "qp":  # (the QP checks its Gram matrix itself)
            check_symmetric(train)
        if named:
            kernel_top = kernel_bounds(self._kernel_spec, top_squared_norm, top_squared_norm)[1]
        else:
            kernel_top = max(float(train.max(initial=0.0)), -float(train.min(initial=0.0)))

        is_gram = precomputed or callable(self.kernel)
        self._fit_one_vs_one(train, X, y_index, upper, solver_spec, is_gram, task, kernel_top)
        if self.kernel == "rbf" and sparse.issparse(X):
            self._warn_if_sparse_rbf_rounds(train)
        task.end({})
        return self

    def _warn_if_sparse_rbf_rounds(self, X):
        """Warn when the kernel's rounding on the sparse rows ``X`` as solved (centred only in
        their mostly filled columns) moves the decision values of the fitted dual by more than
        ``tol`` (:func:`~._checks.sparse_rbf_rounding`)."""
        tol = float(self.tol)
        W = pair_coefficients(self.dual_coef_, self.n_support_)
        moved = sparse_rbf_rounding(X, self._kernel_spec, self.support_, W)
        if moved > tol:
            warn_at_caller(
                "the rows of the sparse X are far from the origin beside their distances: the RBF "
                "kernel's ||x||^2 + ||z||^2 - 2 x'z rounds, and that alone can move the "
                f"decision values by up to about {moved:.2g}, more than tol={tol:g} (the "
                "certificate shares the rounding and cannot see it). Pass X dense (its rows are "
                "then centred in every column) or centre the features.",
                UserWarning,
            )

    def _input_checks(self, X, *, fitting):
        """``(X, options)``: how ``validate_data`` reads ``X``. Finite float64 rows, or for a
        callable kernel anything it can index by rows (:func:`callable_kernel_input`): rows of
        features when ``X`` is 2-D in ``fit``, and in ``predict`` when the fit's was (a model
        fitted on strings or series has no ``n_features_in_``)."""
        if not callable(self.kernel if fitting else fitted_kernel(self)):
            return X, {"dtype": np.float64}
        X = callable_kernel_rows(X)
        two_d = is_two_d(X) if fitting else hasattr(self, "n_features_in_")
        return X, callable_kernel_input(two_d)

    def _smallest_eigenvalue(self, part, labels, upper, is_gram):
        """:func:`~._checks.smallest_eigenvalue` of a binary problem (its rows ``part``, or
        their Gram block), for the message of a squared-hinge solution that overflowed."""
        if len(labels) > EIGENVALUE_CHECK_MAX:
            return None
        gram = part if is_gram else self._kernel_spec.matrix(part, part)
        return smallest_eigenvalue(gram, labels, upper)

    def _fit_one_vs_one(self, train, X, y_index, upper, spec, is_gram, task, kernel_top):
        n_classes = len(self.classes_)
        max_iter = None if self.max_iter in (None, -1) else self.max_iter
        log = self._log()
        alphas, rhos, n_iter, objectives, traces, converged, gaps = [], [], [], [], [], [], []
        short = []  # (pair, message) of the problems that stopped short of tol
        # the squared hinge (no upper bound on its dual variables) on a kernel that need not be
        # positive semidefinite: an overflow is checked for an unbounded dual (check_solution)
        unbounded = self.loss == "squared_hinge" and (
            is_gram or self.kernel == "sigmoid" or (self.kernel == "poly" and self.coef0 < 0)
        )
        pairs = list(combinations(range(n_classes), 2))
        for a, b in pairs:
            label_a, label_b = self.classes_[[a, b]].tolist()  # for messages: 1, not np.int64(1)
            pair = f"{label_a!r} vs {label_b!r}"
            in_pair = (y_index == a) | (y_index == b)
            smallest = np.zeros(len(y_index))  # a sample's C_i must exceed this to be solved
            if self.loss == "squared_hinge":  # relative to the largest C_i of its own class
                for cls in (a, b):
                    own = y_index == cls
                    smallest[own] = NEGLIGIBLE_SQUARED_HINGE_C * upper[own].max(initial=0.0)
            rows = np.flatnonzero(in_pair & (upper > smallest))
            negligible = np.flatnonzero(in_pair & (upper > 0.0) & (upper <= smallest))
            problem = task
            if len(pairs) > 1:
                name = f"{self.classes_[a]} vs {self.classes_[b]}"
                problem = task.subtask(name, max_subtasks=0 if self.solver == "qp" else None)

            def solve(rows, a=a, b=b, pair=pair, problem=problem):
                """The pair's dual on ``rows``: ``(solution, y_i alpha_i on every sample)``."""
                labels = np.where(y_index[rows] == a, 1.0, -1.0)
                for cls, sign in ((a, 1.0), (b, -1.0)):
                    if not np.any(labels == sign):
                        raise ValueError(
                            f"class {self.classes_[cls].tolist()!r} has no sample with positive "
                            "weight; every class needs one (check sample_weight and class_weight)."
                        )
                part = train[np.ix_(rows, rows)] if is_gram else train[rows]

                def reconstruct(iterate, trace, rows=rows, labels=labels):
                    alpha, rho, iterations = iterate
                    full = np.zeros(len(y_index))
                    full[rows] = alpha * labels
                    done = (alphas, rhos, n_iter, objectives, traces)
                    current = (full, rho, iterations, trace.objective[-1], trace)
                    return self._attributes_mid_fit(done, current, len(pairs), y_index, X, is_gram)

                if log is not None:
                    log(f"[SVC] binary problem {pair}")
                if self.solver == "qp":
                    from ._qp import solve_dual_qp  # cvxpy is only imported when asked for

                    try:
                        solution = solve_dual_qp(
                            part,
                            labels,
                            upper[rows],
                            spec,
                            loss=self.loss,
                            qp_solver=self.qp_solver,
                            tol=float(self.tol),
                            log=log,
                            solver_verbose=self.verbose,
                        )
                    except (ValueError, RuntimeError, MemoryError) as exc:
                        if type(exc) not in (ValueError, RuntimeError, MemoryError):
                            raise  # a subclass may not take a message alone
                        raise type(exc)(f"on the problem {pair}: {exc}") from exc
                else:
                    solution = solve_dual(
                        part,
                        labels,
                        upper[rows],
                        spec,
                        loss=self.loss,
                        tol=float(self.tol),
                        max_iter=None if max_iter is None else int(max_iter),
                        shrinking=bool(self.shrinking),
                        cache_size=float(self.cache_size),
                        hook=problem.hook("smo chunk", reconstruct=reconstruct),
                        log=log,
                    )
                check_solution(
                    solution, pair, upper[rows], kernel_top,
                    indefinite=(lambda: self._smallest_eigenvalue(part, labels, upper[rows], is_gram))
                    if unbounded else None,
                )  # fmt: skip
                full = np.zeros(len(y_index))
                full[rows] = solution.alpha * labels
                return solution, full

            solution, full = solve(rows)
            if negligible.size:
                signs = np.where(y_index[negligible] == a, 1.0, -1.0)
                settled, effect = self._settled_alpha(
                    train, is_gram, spec, rows, full[rows], solution.rho, negligible, signs, upper
                )
                if effect <= NEGLIGIBLE_SETTLED_EFFECT:
                    full[negligible] = signs * settled
                else:  # not negligible beside the solution after all: the pair solved whole
                    rows = np.flatnonzero(in_pair & (upper > 0.0))
                    solution, full = solve(rows)
            if problem is not task:
                problem.end()  # the remaining problems run whatever a callback says here
            alphas.append(full)
            rhos.append(solution.rho)
            n_iter.append(solution.n_iter)
            objectives.append(solution.objective)
            gaps.append(solution.primal - dual_value(self.loss, solution.objective, upper[rows]))
            traces.append(solution.trace)
            converged.append(solution.converged)
            if not (solution.converged or solution.stopped) and self.solver == "qp":
                message = _qp_short_of_tol(
                    self, solution.gap, upper[rows], kernel_top, solution.message,
                    solution.clipped_margin,
                )  # fmt: skip
                short.append((pair, message))
            elif not (solution.converged or solution.stopped):
                short.append((pair, solution.message))

        if short:  # one warning for the fit, however many of its problems stopped short
            first, message = short[0]
            count = ""
            if len(pairs) > 1:
                names = ", ".join(pair for pair, _ in short)
                count = f"{len(short)} of {len(pairs)} binary problems stopped short ({names}); "
            text = f"{count}on the problem {first}: {message}"
            # (user's fit -> callbacks' wrapper -> fit -> _fit -> here)
            warn_at_caller(text, ConvergenceWarning)
        for name, value in self._model_attributes(alphas, rhos, y_index, X, is_gram).items():
            setattr(self, name, value)
        self.n_iter_ = np.array(n_iter, dtype=np.int32)
        self.objective_ = np.array(objectives)
        self.duality_gap_ = np.array(gaps)
        self.convergence_ = tuple(traces)
        self.converged_ = bool(all(converged))
        self.fit_status_ = 0 if self.converged_ else 1

    @staticmethod
    def _settled_alpha(train, is_gram, spec, rows, coef, rho, negligible, signs, upper):
        """The squared hinge's ``alpha_i = 2 C_i (1 - z_i)_+`` of the samples left out for a
        negligible ``C_i`` (:data:`NEGLIGIBLE_SQUARED_HINGE_C`), at the margins ``z_i`` of the
        solution on the others: their optimum given the rest, so that the certificate holds for
        them too; and the largest change they make to the decision values at the support vectors
        (negligible where they move the others by less than the rounding)."""
        support = np.flatnonzero(coef)
        if is_gram:
            kernel = np.asarray(train[np.ix_(negligible, rows[support])], dtype=np.float64)
        else:
            kernel = spec.matrix(train[negligible], train[rows[support]])
        margins = signs * (kernel @ coef[support] - rho)
        settled = 2.0 * upper[negligible] * np.maximum(1.0 - margins, 0.0)
        effect = float(np.abs(kernel.T @ (signs * settled)).max(initial=0.0))
        return settled, effect

    def _log(self):
        """Where the progress lines of the fit and its solvers go: ``print`` with ``verbose``,
        nowhere (None) without. The solvers only call the ``log`` they are given."""
        return print if self.verbose else None

    def _attributes_mid_fit(self, done, current, n_pairs, y_index, X, is_gram):
        """The model as it stands after an SMO chunk, for callbacks (a dict of attributes).

        ``done`` holds the lists of the problems already solved, ``current`` the iterate and trace
        of the one being solved; the problems not started count with alpha = 0 and rho = 0 (their
        decision value is 0; ``objective_`` NaN, ``n_iter_`` 0). ``convergence_`` holds the
        traces of the problems started, the last one the current run's so far.
        """
        alphas, rhos, n_iter, objectives, traces = (list(part) for part in done)
        for part, value in zip((alphas, rhos, n_iter, objectives, traces), current, strict=True):
            part.append(value)
        left = n_pairs - len(alphas)
        attributes = self._model_attributes(
            alphas + [np.zeros(len(y_index))] * left, rhos + [0.0] * left, y_index, X, is_gram
        )
        attributes.update(
            n_iter_=np.array(n_iter + [0] * left, dtype=np.int32),
            objective_=np.array(objectives + [np.nan] * left),
            convergence_=tuple(traces),
            converged_=False,
            fit_status_=1,
            duality_gap_=np.full(n_pairs, np.nan),  # needs K(y alpha) on every sample: not mid-fit
        )
        return attributes

    def _model_attributes(self, alphas, rhos, y_index, X, is_gram):
        """The fitted attributes that predict, from ``y_i alpha_i`` and ``rho`` of every problem.

        Support vectors are the samples with alpha > 0 in some problem, grouped by class (libsvm's
        layout, read back by :func:`~mlbasics._ovo.pair_coefficients`).
        """
        n_classes = len(self.classes_)
        coef = np.array(alphas)  # (n_pairs, n_samples): y_i alpha_i, 0 outside the pair
        is_support = np.any(coef != 0, axis=0)
        order = np.lexsort((np.arange(len(y_index)), y_index))
        support = order[is_support[order]]
        dual_coef = np.zeros((n_classes - 1, len(support)))
        support_class = y_index[support]
        for p, (a, b) in enumerate(combinations(range(n_classes), 2)):
            in_a = support_class == a
            in_b = support_class == b
            dual_coef[b - 1, in_a] = coef[p, support[in_a]]
            dual_coef[a, in_b] = coef[p, support[in_b]]
        intercept = -np.array(rhos, dtype=float)
        if n_classes == 2:  # positive decision values mean classes_[1], as in scikit-learn
            dual_coef = -dual_coef
            intercept = -intercept
        n_support = np.bincount(support_class, minlength=n_classes).astype(np.int32)
        precomputed = is_gram and self.kernel == "precomputed"
        support_vectors = np.empty((0, 0)) if precomputed else X[support]
        if self._linear_offset is not None:
            # solved on X - c: w'(x - c) + b = w'x + (b - w'c), with w the very coef_ that
            # predict multiplies (another rounding of w'c, such as coef (X - c) c + (y'alpha) c'c,
            # left eps sum |alpha| c'c on the decision values: 5e-2 beside a column of 1e5)
            w = _primal_weights(dual_coef, n_support, support_vectors)
            intercept = intercept - w @ self._linear_offset
        return {
            "support_": support.astype(np.int32),
            "n_support_": n_support,
            "dual_coef_": dual_coef,
            "intercept_": intercept,
            "support_vectors_": support_vectors,
            "shape_fit_": X.shape,  # (a precomputed kernel at predict is checked against it)
        }

    # -- prediction ----------------------------------------------------------------------------
    def _kernel_blocks(self, X):
        """``(rows, K(X[rows], support vectors))`` in memory-bounded blocks.

        Named kernels by :func:`kernel_block` (one BLAS product per block, finished by compiled
        code), a callable by :meth:`~mlbasics.kernels.KernelSpec.matrix`, both in the blocks of
        :meth:`~mlbasics.kernels.KernelSpec.blocks`; a precomputed ``X`` is already the kernel
        (one block of its support vectors' columns).
        """
        if fitted_kernel(self) == "precomputed":
            if X.shape[1] != self.shape_fit_[0]:
                raise ValueError(
                    f"kernel='precomputed': X must have one column per training sample "
                    f"({self.shape_fit_[0]}); got X of shape {X.shape}."
                )
            yield slice(0, X.shape[0]), X[:, self.support_]
            return
        spec = self._kernel_spec
        support = self.support_vectors_
        block = None
        # rbf fitted on centred rows: rows minus its centre, as the solver saw them (sparse test
        # rows against dense support vectors densified a few at a time: a block is sized for
        # its kernel values, not for rows of every feature; uncentred, they lost the digits the
        # centre keeps); a sparse fit's support vectors and sparse rows stay sparse
        offset = getattr(self, "_rbf_offset", None)  # (None in a model pickled before it)
        if offset is not None:
            support = subtract_centre(support, offset)
            sq_support = squared_norms(support)
            step = max(1, PREDICT_BLOCK_BYTES // (8 * max(len(offset), 1)))

            def block(A, B):
                if sparse.issparse(A) and sparse.issparse(B):
                    return kernel_block(spec, subtract_centre(A, offset), B, sq_b=sq_support)
                if sparse.issparse(A):
                    return np.vstack(
                        [block(A[i : i + step].toarray(), B) for i in range(0, A.shape[0], step)]
                    )
                with np.errstate(over="ignore"):  # (rows near the float64 maximum: inf, as in fit)
                    return kernel_block(spec, A - offset, B, sq_b=sq_support)

        elif spec.is_named:
            block = functools.partial(kernel_block, spec, sq_b=squared_norms(support))
        yield from spec.blocks(X, support, block=block)

    def _ovo_decision(self, X) -> np.ndarray:
        """Decision values of every binary problem, shape (n_samples, n_pairs)."""
        check_is_fitted(self)
        precomputed = fitted_kernel(self) == "precomputed"
        X, checks = self._input_checks(X, fitting=False)
        with np.errstate(over="ignore", invalid="ignore"):  # as in fit
            X = validate_data(
                self, X, accept_sparse=False if precomputed else "csr", reset=False, **checks
            )
        W = pair_coefficients(self.dual_coef_, self.n_support_)
        out = np.empty((X.shape[0], W.shape[1]))
        with np.errstate(over="ignore", invalid="ignore"):  # checked below
            if fitted_kernel(self) == "linear":
                # X w + b with w = coef_: what coef_ and intercept_ promise, in O(p) per row. The
                # kernel form sums dual_coef_ times x_j'x, which rounds at the size of x_j'x
                # (rows far from the origin: 1.7e-5 on iris shifted by 1e3 beside a column of 1e5)
                out[:] = safe_sparse_dot(X, self.coef_.T, dense_output=True)
            else:
                for rows, gram in self._kernel_blocks(X):
                    out[rows] = gram @ W
            out += self.intercept_
        if not np.all(np.isfinite(out)):
            raise _overflow_at_predict(X)
        return out

    @property
    def coef_(self):
        """Primal weights ``w`` of the binary problems (linear kernel only): ``dual_coef_`` in pair
        layout times ``support_vectors_``, so that ``decision = X @ coef_.T + intercept_``.

        Computed from the dual variables at each access, and read-only (as scikit-learn's): a
        write to it would change nothing the model uses."""
        kernel = fitted_kernel(self)
        if kernel != "linear":
            raise AttributeError(
                f"coef_ is only available with kernel='linear' (got kernel={kernel!r}): other "
                "kernels have no weight vector in the input space."
            )
        check_is_fitted(self)
        weights = _primal_weights(self.dual_coef_, self.n_support_, self.support_vectors_)
        weights.flags.writeable = False
        return weights

    def decision_function(self, X):
        """Decision values.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples (or their kernel against the training set, for "precomputed").

        Returns
        -------
        ndarray of shape (n_samples,), (n_samples, n_classes) or (n_samples, n_pairs)
            Two classes: ``f(x)``, positive for ``classes_[1]``. More: the pairwise values,
            positive for the first class of each pair (``decision_function_shape="ovo"``), or one
            score per class (``"ovr"``): votes plus a confidence in (-1/3, 1/3) for the hinge
            losses, the fitted class log-odds ``u`` of :meth:`predict_proba` for the logistic loss.
            The argmax is the prediction for the logistic loss, and for the hinge losses wherever
            the votes do not tie and no pairwise value is exactly 0 (the scores count it for the
            pair's first class, as scikit-learn's, :meth:`predict` for its second, as libsvm):
            :meth:`predict` gives a tie to the first class of the tie unless
            ``break_ties=True`` (as scikit-learn's ``SVC``), the argmax breaks it by the
            confidences.
        """
        ovo = self._ovo_decision(X)
        n_classes = len(self.classes_)
        if n_classes == 2:
            return ovo[:, 0]
        if self.decision_function_shape == "ovo":
            return ovo
        if _fitted_loss(self) == "logistic":
            return self._pairwise_log_odds(ovo)
        return ovr_from_ovo(ovo, n_classes)

    def _check_break_ties(self):
        """Refuse ``break_ties=True`` with ``"ovo"``, in ``fit`` and in ``predict`` (set after a
        fit with ``set_params``, the plain vote was answered silently: a review)."""
        if self.break_ties and self.decision_function_shape == "ovo":
            raise ValueError(
                "break_ties=True needs decision_function_shape='ovr': the ties are broken with the "
                "one-vs-rest scores."
            )

    def predict(self, X):
        """Predicted class labels.

        One-vs-one votes (a pairwise value of exactly 0 votes for the pair's second class, as in
        libsvm; ties to the first class), or the argmax of the one-vs-rest scores with
        ``break_ties=True``. With ``loss="logistic"`` the argmax of the class scores whose
        softmax is :meth:`predict_proba`: its most probable class, and where the probabilities
        round to a tie (``|f| < 1e-16`` for two classes) the class the scores favour (the
        argmax of the rounded probabilities gave every such sample ``classes_[0]``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        self._check_break_ties()
        if _fitted_loss(self) == "logistic":
            scores = self._class_scores(X)
            return self.classes_[np.argmax(scores, axis=1)]
        ovo = self._ovo_decision(X)
        n_classes = len(self.classes_)
        if n_classes == 2:
            return self.classes_[(ovo[:, 0] >= 0).astype(int)]
        if self.break_ties and self.decision_function_shape == "ovr":
            scores = ovr_from_ovo(ovo, n_classes)  # decision_function's scores
        else:  # libsvm's votes alone (integers), a pair's 0 to its second class
            scores = np.floor(ovr_from_ovo(ovo, n_classes, zero_to_first=False) + 0.5)
        return self.classes_[np.argmax(scores, axis=1)]

    def _pairwise_log_odds(self, ovo):
        """Class scores ``u`` whose differences fit the pairwise log-odds in least squares.

        With the logistic loss, ``f_ab(x)`` estimates ``log P(a | x) - log P(b | x)``. The ``u`` with
        ``u_a - u_b`` closest to every ``f_ab`` (and ``sum u = 0``) is ``u_a = mean_b f_ab`` (with
        ``f_aa = 0`` and ``f_ba = -f_ab``); the probabilities are ``softmax(u)``.
        """
        n_classes = len(self.classes_)
        # (divided first: the sum of finite values near 1e308 overflowed)
        return class_sums(ovo / n_classes, n_classes)

    @available_if(_is_logistic)
    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba` (``loss="logistic"`` only), computed stably.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return log_softmax(self._class_scores(X), axis=1)

    def _class_scores(self, X):
        """The logistic model's class scores, whose softmax is :meth:`predict_proba`: ``(-f/2,
        f/2)`` for two classes, the least-squares log-odds of :meth:`_pairwise_log_odds` for
        more."""
        ovo = self._ovo_decision(X)
        if len(self.classes_) == 2:
            return np.column_stack([-0.5 * ovo[:, 0], 0.5 * ovo[:, 0]])
        return self._pairwise_log_odds(ovo)

    @available_if(_is_logistic)
    def predict_proba(self, X):
        """Class probabilities of the kernel logistic model (``loss="logistic"`` only).

        Two classes: ``P(classes_[1] | x) = sigmoid(f(x))``. More: ``softmax(u)`` with ``u`` the
        least-squares fit of the pairwise log-odds (see :meth:`predict`).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return np.exp(self.predict_log_proba(X))
