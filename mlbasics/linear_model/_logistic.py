"""The LogisticRegression estimator: validates, picks a solver, stores the certificate."""

from __future__ import annotations

import copy
import math
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.callback import with_callbacks
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._callbacks import CallbackSupport
from .._threads import serial_dot
from .._validation import (
    abs_max,
    canonical_sparse,
    check_class_weights,
    check_partial_fit_classes,
    class_weights,
    classes_and_weights,
    forget_fit,
    refuse_huge_integers,
    warn_at_caller,
)
from ..kernels import squared_norms
from ..optimality._logistic import (
    L1_TOL_CAP,
    l1_capped_tol,
    l1_resolution_advice,
    logistic_report,
)
from ._newton import (
    cholesky_step_cost,
    hessian_product_cost,
    lbfgs,
    newton_smooth,
    prox_newton,
)
from ._objective import (
    LogisticObjective,
    Penalty,
    add_intercept_column,
    penalty_that_runs,
    target_matrix,
)
from ._separation import separating_direction_exists
from ._sgd import OPTIMIZERS, SCHEDULES, SGDSettings, make_run, sgd

# solver="newton" on a smooth problem: a Newton step by Cholesky costs one Hessian build,
# n * m^2 / 2 flops for m = n_outputs * n_dof coefficients, plus m^3 / 3 to factor it; by
# truncated Newton-CG it costs about CG_PRODUCTS_PER_STEP Hessian-vector products of 2 n m flops
# each (measured on standardised data, see docs/benchmarks.rst). The cheaper one is used, and a
# CG run on dense X changes to Cholesky when one of its steps costs more (newton_smooth's switch).
CG_PRODUCTS_PER_STEP = 10

#: ``partial_fit`` warns above this many times the all-zero model's objective on its chunk (fit:
#: above it at all). Its first calls are the start of a run, whose first, longest steps can leave
#: a chunk's objective above the zero model's on standardised data (breast cancer in 4 chunks
#: with ``C n / m``, ``shuffle=False``: 1.8 and 1.3 times it after calls 1 and 2, below from
#: call 3; the same updates made by ``fit`` end the epoch below it); steps that do not suit the
#: features' scale leave it hundreds of times above (470 on features of scale 100).
STREAM_ZERO_MODEL_FACTOR = 10.0

#: ``fit``'s exemption from that check: a duality gap below this fraction of ``F(0)`` shows the
#: run (and the zero model) next to the optimum. SGD's own noise where the optimum is the zero
#: model (constant features, balanced classes: up to 2.8e-4 of ``F(0)`` above it, 5 seeds of 5)
#: was called "steps that do not suit the features' scale", with ``converged_`` False.
ZERO_MODEL_GAP_RTOL = 0.01

#: What ``partial_fit`` continues from (kept beside the fitted attributes by an SGD fit).
SGD_STATE = ("_sgd_run", "_sgd_rng")


def _check_feature_scale(X, weight=1.0):
    """Raise a ``ValueError`` when sums of squares of ``X``'s entries can overflow float64.

    ``weight``: the largest per-sample weight ``c_i = C s_i`` (at least 1) that multiplies the
    sums over samples; ``fit`` checks again with it when it exceeds 1 (X at 1e150 passed the
    unweighted check, and at ``C = 1e8`` the L2 fit ended at the zero model under overflow
    warnings, the L1 fit in a bare error from scipy's eigh: a review).

    Every solver squares the entries of X and sums them, over the n samples (the Hessian
    X^T D X, the curvature bounds) or over the p features (the squared sample norms of SGD's
    steps): entries above ``sqrt(float max / max(n, p))`` (about 1e153 for 100 samples of 10
    features) can make these sums overflow. Such X is refused here instead of ending in an
    all-zero model under a flood of overflow warnings.
    """
    data = X.data if sparse.issparse(X) else X
    if not data.size:
        return
    flat = np.ravel(data, order="K")  # a view of contiguous data
    # numpy's loops, not BLAS: after a threaded ddot OpenBLAS's threads spin for about 100 ms,
    # and SGD's certificate thread and epochs then share the two cores with them (the first two
    # epochs of bench_sgd's CSR fit took 35 and 60 ms instead of 30: perf showed an OpenBLAS
    # thread busy from this line on). Still one pass, faster than max and min.
    weight = max(float(weight), 1.0)
    with np.errstate(over="ignore"):
        total = serial_dot(flat, flat) * weight  # (inf on overflow)
    if total <= np.finfo(np.float64).max:
        return  # it bounds every sum of squares over samples or features
    largest = abs_max(X)
    limit = np.sqrt(np.finfo(np.float64).max / (max(X.shape) * weight))
    if largest > limit:
        weighted = (
            f", weighted by C times the sample weights (class weights included) up to {weight:.3g}"
            if weight > 1.0
            else ""
        )
        raise ValueError(
            f"X has entries up to {largest:.3g} in absolute value: the solvers sum their squares "
            f"over the {X.shape[0]} samples and the {X.shape[1]} features (the Hessian X^T D X, "
            f"the squared sample norms{weighted}), which overflows float64 for entries above "
            f"{limit:.3g}. Scale the features, e.g. with "
            "sklearn.preprocessing.StandardScaler in a Pipeline"
            + (", or use a smaller C or smaller sample or class weights." if weight > 1.0 else ".")
        )


#: Without a penalty, a column whose entries are all below this in absolute value (but not all
#: zero) is refused: ``sqrt`` of float64's smallest normal number, where the squares in the
#: Hessian's diagonal leave the normal range.
TINY_FEATURE = float(np.sqrt(np.finfo(np.float64).tiny))


def _check_tiny_features(X):
    """Without a penalty, raise a ``ValueError`` when a column of ``X`` is nonzero but entirely
    below :data:`TINY_FEATURE` in absolute value.

    The unpenalised problem does not depend on the features' units, but its solution scales as
    their inverse, and the solvers square the entries: in units of 1e-170 the Hessian's entries
    underflow to 0, the columns look flat, and every solver stopped at the intercept-only model,
    73% above the optimum, with ``converged_`` True and no warning (a review). With a penalty
    such a column's coefficient stays bounded and its contribution is below rounding: the
    solvers are right to leave it.
    """
    top, bottom = X.max(axis=0), X.min(axis=0)  # (no copy of |X|)
    if sparse.issparse(X):
        top, bottom = top.toarray(), bottom.toarray()
    largest = np.maximum(np.ravel(top), -np.ravel(bottom))
    tiny = np.flatnonzero((largest > 0.0) & (largest < TINY_FEATURE))
    if tiny.size:
        raise ValueError(
            f"X has {tiny.size} column(s) whose entries are all below {TINY_FEATURE:.3g} in "
            f"absolute value (column {int(tiny[0])}: at most {largest[tiny[0]]:.3g}). Without a "
            "penalty the coefficients scale as the inverse of the features' units, and the "
            "solvers' squares of these entries underflow float64 (the columns would look "
            "constant). Scale the features, e.g. with sklearn.preprocessing.StandardScaler in a "
            "Pipeline."
        )


def _cholesky_is_cheaper(n_samples, n_coef) -> bool:
    n, m = n_samples, n_coef
    return cholesky_step_cost(n, m) <= CG_PRODUCTS_PER_STEP * hessian_product_cost(n, m)


#: ``C`` times the sum of the weights above which the objective (up to ``log K`` times that at
#: ``W = 0``) and the solvers' sums leave float64's range.
MAX_WEIGHT_TOTAL = 1e305


def _check_weight_total(C, sample_weight, penalty):
    """A ValueError when ``C sum_i s_i`` (class weights included) is beyond
    :data:`MAX_WEIGHT_TOTAL`: past float64's largest number the solvers' scale is inf, the
    scaled gradient 0, and a fit at C = 1e307 stopped at once, converged_, far from the optimum."""
    with np.errstate(over="ignore"):
        total = float(np.sum(C * sample_weight))
    if total <= MAX_WEIGHT_TOTAL:
        return
    remedy = (
        "scale sample_weight down (without a penalty only the weights' ratios matter)"
        if penalty.is_zero
        else "use a smaller C or smaller sample_weight (from C near 1e12 the solution on "
        "separable data changes little)"
    )
    raise ValueError(
        f"C times the sum of the sample weights (class weights included) is {total:.3g}, beyond "
        f"{MAX_WEIGHT_TOTAL:.3g}: the objective C sum_i s_i loss_i + penalty leaves the float64 "
        f"range. To fit this problem, {remedy}."
    )


class LogisticRegression(CallbackSupport, ClassifierMixin, BaseEstimator):
    """Logistic regression fitted by Newton-type or stochastic gradient solvers, with a certificate.

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
    penalty : {"auto", "l2", "l1", "elasticnet"} or None, default="auto"
        The regulariser ``R``. ``"auto"`` reads it from ``l1_ratio``, scikit-learn 1.8's
        convention: 0 is ``"l2"``, 1 is ``"l1"``, a value in between ``"elasticnet"``. With
        ``None`` (or ``C=np.inf``) the coefficients scale as the inverse of the features' units,
        and a nonzero column entirely below ``1.49e-154`` in absolute value (where its squares
        leave float64's normal range) is refused: scale the features.
    C : float, default=1.0
        Inverse regularisation strength (weight of the data term); must be positive.
        ``C=np.inf`` is the unpenalised problem (the limit of the minimiser as ``C`` grows, and
        scikit-learn's convention), whatever ``penalty`` says; ``C`` is ignored when
        ``penalty=None``. ``C`` times the sum of the sample weights (class weights included) must
        not exceed 1e305, or the objective leaves float64's range (a ValueError says so).
    l1_ratio : float in [0, 1], default=0.0
        Mixing parameter of the elastic net: the penalty is ``l1_ratio ||W||_1 + (1 - l1_ratio)
        ||W||^2 / 2``. Read with ``penalty="auto"`` (which it turns into ``"l2"``, ``"l1"`` or
        ``"elasticnet"``) and ``penalty="elasticnet"``; with ``"l2"``, ``"l1"`` or ``None`` a value
        that contradicts the penalty is ignored, with a warning. The default is numeric, as in
        scikit-learn 1.8+, for the code that reads it by name:
        :class:`sklearn.feature_selection.SelectFromModel` computes ``np.isclose(l1_ratio, 1.0)``
        for any estimator called ``LogisticRegression``.
    solver : {"newton", "newton-cholesky", "newton-cg", "lbfgs", "sgd"}, default="newton"
        ``"newton"`` picks the second-order method that fits the problem: proximal Newton with
        coordinate descent when there is an L1 term; otherwise Newton with a Cholesky solve of the
        Hessian for small dense problems and Hessian-free truncated Newton-CG for large or sparse
        ones. ``"newton-cholesky"`` and ``"newton-cg"`` force one of the two (L2 or no penalty).
        ``"lbfgs"`` is quasi-Newton from :func:`scipy.optimize.minimize` (L2 or no penalty).
        ``"sgd"`` is stochastic gradient descent on the same objective (any penalty), configured
        by ``optimizer``, ``learning_rate``, ``eta0``, ``power_t``, ``batch_size``, ``average``,
        ``shuffle``, ``early_stopping``, ``validation_fraction`` and ``n_iter_no_change``
        (ignored by the other solvers); it also offers :meth:`partial_fit`.
    fit_intercept : bool, default=True
        Whether to fit the unpenalised intercept ``b``.
    tol : float or None, default=1e-4
        Stop when the largest entry of the (sub)gradient, divided by ``C * sum_i s_i``, is below
        ``tol`` (and, for Newton, half the squared Newton decrement divided likewise, or by the
        objective ``F`` when that is smaller and the penalty is L2; with L2 Newton-CG and L-BFGS
        also confirm the stop by the duality gap relative to ``F`` (where its rounding cannot
        resolve ``tol``, by the certificate's Newton decrement), and Newton with Cholesky
        directions where ``F < 0.1 C sum_i s_i``): the
        stationarity residual of :func:`~mlbasics.optimality.check_kkt`. With an L1 term the
        threshold ``tol * C * sum_i s_i`` is also capped at ``0.1`` times the L1 strength
        (``l1_ratio``, 1 for ``"l1"``; ``optimality._logistic.L1_TOL_CAP``), since a looser one
        would accept any zero coefficient; :func:`~mlbasics.optimality.check_kkt` applies the
        same cap. For
        ``solver="sgd"``: stop after ``n_iter_no_change`` epochs in which the objective divided by
        ``C * sum_i s_i`` (or, with ``early_stopping``, the validation accuracy) did not improve
        by at least ``tol``: scikit-learn's rule, applied to the objective at the end of each
        epoch (scikit-learn's SGD watches the epoch's running average of loss and penalty, so
        the two may stop at different epochs); ``None`` (SGD only) runs exactly ``max_iter``
        epochs.
    max_iter : int, default=100
        Maximum number of outer (Newton or quasi-Newton) iterations; of epochs (passes over the
        data) for ``solver="sgd"``. ``max_iter=0`` fits nothing: the model is its starting point
        (zeros, or the warm start) with its certificate (``objective_``, ``converged_=False``),
        and no ConvergenceWarning, since no iteration was asked for.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``s_i`` as in scikit-learn.
    warm_start : bool, default=False
        Start from the previous solution when the shapes agree (for SGD the learning-rate
        schedule and the optimizer's state restart, as in scikit-learn).
    random_state : int, RandomState instance or None, default=None
        Seeds the order of the samples and the validation split of ``solver="sgd"`` (through a
        :class:`numpy.random.Generator`); the Newton solvers are deterministic.
    verbose : int, default=0
        Print the objective and the optimality measure at every iteration (epoch) when positive.
    optimizer : {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", \
            "nadam"}, default="sgd"
        Update rule of ``solver="sgd"``, from :mod:`mlbasics.optim` with its default
        hyper-parameters. Plain ``"sgd"`` with ``batch_size=1`` runs in a compiled loop (numba);
        the others, and mini-batches, in a Python loop over BLAS batch gradients. Every rule
        applies an L1 term in its own step size (``step_scale``), so that its fixed point is the
        L1 optimum: the cumulative penalty for ``"sgd"``, ``"momentum"`` and ``"nesterov"``, a
        proximal step in the per-coordinate metric for the adaptive rules (which, under gradient
        noise, leaves fewer coefficients exactly zero).
    learning_rate : {"optimal", "constant", "invscaling", "adaptive"}, default="optimal"
        Schedule of the rate ``eta_t`` (``t`` = updates made): ``"optimal"`` is Bottou's
        ``1 / (alpha (t0 + t))`` with ``alpha = 1 / (C n)``, ``t0 = alpha ** -0.75`` (needs a
        penalty; ignores ``eta0``; its decay rests on the L2 term's strong convexity: with
        ``penalty="l1"`` runs stop on a plateau far above the optimum, 4.5 times it on wine at
        ``C=5``, as scikit-learn's do: prefer ``"constant"`` or ``"invscaling"`` there, and read
        ``duality_gap_``); ``"constant"`` is ``eta0``; ``"invscaling"`` is
        ``eta0 / (t + 1) ** power_t``; ``"adaptive"`` keeps ``eta0`` and divides it by 5 after
        ``n_iter_no_change`` epochs without an improvement of ``tol``, stopping below 1e-6.
        ``"optimal"`` suits plain SGD; for the adaptive rules use ``"constant"``.
    eta0 : float, default=0.01
        Initial rate of the ``"constant"``, ``"invscaling"`` and ``"adaptive"`` schedules; > 0.
        0.01 is scikit-learn's default and a sensible step for Adam, RMSProp and momentum on
        standardised data. AdaDelta's rate is a factor on Zeiler's step: ``eta0=1.0`` with
        ``"constant"`` is his method.
    power_t : float, default=0.5
        Exponent of ``"invscaling"``, >= 0.
    batch_size : int, default=1
        Samples per update: 1 is stochastic gradient descent, more is mini-batch, ``n`` is
        (full-batch) gradient descent.
    average : bool or int, default=False
        Averaged SGD: return the mean of the iterates from the first update (``True``) or from
        the ``average``-th update on (an int > 1), as scikit-learn. Updates are counted over
        the whole run, one per mini-batch: with ``batch_size=1`` that is scikit-learn's count
        of samples seen, with larger batches it is ``batch_size`` times fewer.
    shuffle : bool, default=True
        Visit the samples in a new random order at every epoch (else in their order).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified; at random where a class is
        too rare to appear in both parts) and monitor the accuracy on it
        instead of the training objective, weighted by ``sample_weight`` (not by
        ``class_weight``, as in scikit-learn's ``SGDClassifier``); held-out samples that all
        weigh 0 are a ``ValueError``.
    validation_fraction : float in (0, 1), default=0.1
        Size of that held-out part.
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping (or before the ``"adaptive"`` rate drops).
    intercept_rate : "auto" or float in (0, 1], default="auto"
        Factor on the intercept's step in ``solver="sgd"`` (on the step, not the gradient, so
        that it holds for every ``optimizer``). ``"auto"`` is scikit-learn's ``SGDClassifier``
        for the rules whose step is the gradient times a rate (``"sgd"``, ``"momentum"``,
        ``"nesterov"``): 0.01 on sparse input (its ``SPARSE_INTERCEPT_DECAY``; the intercept,
        present in every sample, otherwise takes the noisiest steps of all on sparse data), 1 on
        dense input; 1 for the adaptive rules, whose step per coordinate is already normalised
        by that coordinate's gradients. A number applies to both formats, so that dense and
        sparse forms of one matrix give the same iterates. It rescales a step, not the
        objective: the optimum is the same.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients; one row for a binary problem (for ``classes_[1]``).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros when ``fit_intercept=False``).
    n_iter_ : ndarray of shape (1,)
        Number of outer iterations of the solver (epochs for ``solver="sgd"``).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features, when ``X`` has string column names.
    objective_ : float
        Final value of the objective above (for SGD at the returned, averaged if ``average``,
        coefficients, on the training part of the data when ``early_stopping``; for
        :meth:`partial_fit` on the data of the last call).
    duality_gap_ : float
        Objective minus the value of a feasible point of the dual problem built from the fitted
        coefficients (:func:`mlbasics.optimality.duality_gaps`): an upper bound on the distance
        to the optimum, computed on the data passed to ``fit``. NaN without a penalty (the dual
        bound needs one), and when the intercepts are so far from balancing the classes that no
        feasible dual point can be built (a run cut short with saturated probabilities); NaN
        after :meth:`partial_fit`, which does not compute it.
    convergence_ : mlbasics.Trace
        Objective, optimality measure and time at every iteration (entry 0 is the start); for
        SGD once per epoch, so Newton and SGD draw on one convergence plot.
    converged_ : bool
        Whether the stopping rule was met. For SGD, also False when the run ended above the
        objective of all-zero coefficients, ``sum_i c_i log K`` (steps too long for the scale
        of the features; a ``ConvergenceWarning`` says so). The gradient rules are in units of
        ``C * sum_i s_i``, not of the objective; with a penalty the Newton-type solvers also
        ask the duality gap to pass ``tol`` relative to ``min(C sum_i s_i, objective_)``, as
        :func:`~mlbasics.optimality.check_kkt` judges it, possibly at a refined dual point.
        ``duality_gap_ / objective_`` bounds the relative distance to the optimum; it is the
        plain dual point's gap, which can be far looser than the refined one that passed (a
        pure L1 fit at ``C = 1e8``, at its optimum to rounding: 3.7e-3 at ``tol=1e-8``, the
        refined gap 4.5e-11).
    solver_ : str
        The method that ran: ``"newton-cholesky"``, ``"newton-cg"``, ``"prox-newton"``,
        ``"lbfgs"`` or ``"sgd"`` (``solver="newton"`` picks one of the first three). Where the
        method changed during the run, the last one: ``solver="newton"`` on dense ``X`` changes
        from Newton-CG to Cholesky once a CG step costs more than a Cholesky step, and a Newton
        run whose line search fails finishes with L-BFGS.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same model, solved by lbfgs, liblinear, saga, ...

    Notes
    -----
    The gradient of the data term is ``A^T R`` with residuals ``R = c (P - Y)``; its Hessian is
    ``sum_i c_i (diag(P_i) - P_i P_i^T) kron a_i a_i^T``. See the theory page of the documentation
    and :mod:`mlbasics.linear_model._objective` for the code of each formula.

    ``solver="sgd"`` minimises the same objective divided by ``C n``,
    ``(1/n) sum_i s_i l_i + R(W) / (C n)``, whose gradient on one sample,
    ``s_i grad l_i + grad R / (C n)``, is unbiased: scikit-learn's ``SGDClassifier`` with
    ``alpha = 1 / (C n)``. Plain SGD on sample ``i`` at rate ``eta``:
    ``W <- max(0, 1 - eta alpha_2) W - eta s_i (p_i - y_i) x_i^T`` (the decay kept as a scalar
    factor, so a sparse sample costs O(nnz)), ``b <- b - r eta s_i (p_i - y_i)`` (``r`` the
    ``intercept_rate``: 0.01 on sparse input, 1 on dense, by default); the L1 part by Tsuruoka's
    cumulative penalty (exact zeros). See :mod:`mlbasics.linear_model._sgd`.

    Callbacks (``set_callbacks``, :mod:`sklearn.callback`): each Newton, L-BFGS or proximal Newton
    iteration, or SGD epoch, is one subtask of the fit; a monitor can score the model at the end of
    each (``coef_`` and ``intercept_`` of that iterate), and a callback returning True ends the fit
    there with a usable model, ``n_iter_`` iterations and ``converged_ = False`` (True only
    when that iterate meets the stopping rule anyway).
    ``partial_fit`` reports nothing.

    References
    ----------
    .. [1] G.-X. Yuan, C.-H. Ho, C.-J. Lin. An improved GLMNET for L1-regularized logistic
       regression. JMLR 13, 2012.
    .. [2] C.-Y. Hsia, W.-L. Chiang, C.-J. Lin. Preconditioned conjugate gradient methods in
       truncated Newton frameworks for large-scale linear classification. ACML 2018.
    .. [3] L. Bottou. Stochastic gradient descent tricks. Neural Networks: Tricks of the Trade,
       2nd edition, LNCS 7700, 2012.
    .. [4] Y. Tsuruoka, J. Tsujii, S. Ananiadou. Stochastic gradient descent training for
       L1-regularized log-linear models with cumulative penalty. ACL 2009.

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

    The same objective by stochastic gradients, 30 epochs:

    >>> sgd = make_pipeline(StandardScaler(), LogisticRegression(penalty="l1", C=0.1,
    ...     solver="sgd", max_iter=30, tol=None, random_state=0)).fit(X, y)
    >>> bool(abs(sgd[-1].objective_ - clf.objective_) < 0.05 * clf.objective_)
    True
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"auto", "l2", "l1", "elasticnet"}), None],
        "C": [Interval(Real, 0, None, closed="right")],  # (np.inf: no penalty)
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "solver": [StrOptions({"newton", "newton-cholesky", "newton-cg", "lbfgs", "sgd"})],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "learning_rate": [StrOptions(set(SCHEDULES))],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "average": ["boolean", Interval(Integral, 0, None, closed="left")],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "intercept_rate": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="right")],
    }

    def __init__(
        self,
        penalty="auto",
        *,
        C=1.0,
        l1_ratio=0.0,
        solver="newton",
        fit_intercept=True,
        tol=1e-4,
        max_iter=100,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        optimizer="sgd",
        learning_rate="optimal",
        eta0=0.01,
        power_t=0.5,
        batch_size=1,
        average=False,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        intercept_rate="auto",
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
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.batch_size = batch_size
        self.average = average
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.intercept_rate = intercept_rate

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self.solver != "newton-cholesky"  # it forms a dense Hessian
        return tags

    # -- fitting -------------------------------------------------------------------------------
    @with_callbacks
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; CSR or CSC sparse matrices are used as they are (never densified).
        y : array-like of shape (n_samples,)
            Class labels (any type scikit-learn accepts: integers, strings, ...).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples. At least two classes need a positive total
            weight. With ``fit_intercept``, a class whose samples all weigh 0 (a bootstrap drawn
            as weights, as ``BaggingClassifier`` draws it, can leave a rare class out) has no
            finite optimum: its probabilities go to 0 and its intercept to -inf. The Newton
            solvers and L-BFGS stop, as scikit-learn's, once those probabilities are too small
            to matter at ``tol``, and the certificate's dual point takes the limit (the
            objective's infimum is that of the other classes alone); SGD's intercept moves as
            its steps allow (slowly with ``intercept_rate`` 0.01 on sparse input). Without an
            intercept the optimum is finite with a penalty (without one, only when the samples
            do not lie in an open half-space).

        Returns
        -------
        self : LogisticRegression
        """
        self._validate_params()
        refuse_huge_integers(self)
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:  # a fit that fails (or is interrupted) leaves no model
            forget_fit(self, *SGD_STATE)
            raise

    def _fit(self, X, y, sample_weight):
        # partial_fit must not continue an earlier fit's SGD run (neither this model nor a copy
        # of it handed to callbacks mid-fit: the compiled loops would index it with new shapes)
        for name in SGD_STATE:
            self.__dict__.pop(name, None)
        penalty = self._penalty()
        X, y = self._validate_training_data(X, y, reset=True)
        weighted = sample_weight is not None
        self.classes_, y_index, given_weight, sample_weight, _ = classes_and_weights(
            self, X, y, sample_weight, every_class=False
        )
        n_classes = len(self.classes_)
        C = 1.0 if penalty.is_zero else float(self.C)
        _check_weight_total(C, sample_weight, penalty)
        if penalty.is_zero:
            _check_tiny_features(X)
        top_weight = C * float(np.max(sample_weight, initial=0.0))
        if top_weight > 1.0:  # (validation checked X with weights of 1)
            _check_feature_scale(X, top_weight)
        Y = target_matrix(y_index, n_classes)
        # (callbacks get the weights only if fit did: a scorer that takes none must still work)
        task = self._open_fit_task(
            X, y, given_weight if weighted else None, max_subtasks=self.max_iter
        )
        X = X.astype(np.float64) if X.dtype != np.float64 else X
        certified = known_decrement = None
        if self.solver == "sgd":
            objective, stopped = self._fit_sgd(
                X, Y, y_index, sample_weight, C, penalty, task, given_weight
            )
        else:
            certified, known_decrement = self._fit_newton(X, Y, C * sample_weight, penalty, task)
        if certified is None:
            report = self._certify(X, y_index, given_weight, known_decrement)
            if self.solver != "sgd" and penalty.is_zero and self.converged_:
                self._unconverged_by_the_certificate(report)
        else:  # the solver's stopping test computed it at these coefficients
            self.duality_gap_ = certified
        if self.solver == "sgd" and not stopped and self.max_iter > 0:
            self._check_beats_zero_model(objective, X, gap=self.duality_gap_)
        task.end({})
        return self

    def _fit_newton(self, X, Y, weights, penalty, task):
        """The second-order solvers (and L-BFGS) on the whole objective. Returns what the solver's
        stopping test computed at the solution, or None for each: the duality gap from the plain
        dual point (the ``duality_gap_`` of :func:`~mlbasics.optimality.duality_gaps`), and
        without a penalty the Newton decrement of the certificate (a
        :class:`~mlbasics.optimality._logistic.KnownDecrement`)."""
        n_dof = X.shape[1] + self.fit_intercept
        self.solver_ = self._solver_method(penalty, X, Y.shape[1] * n_dof)
        # Columns are centred (implicitly: sparse X is never densified)
        objective = LogisticObjective.from_data(
            X, Y, weights, penalty, fit_intercept=self.fit_intercept, center=True
        )
        solve = SOLVERS[self.solver_]
        if self.solver == "newton" and self.solver_ == "newton-cg":  # (the estimator's choice)
            solve = _newton_with("cg", switch=True)
        result = solve(
            objective,
            objective.to_internal(self._initial_coef(objective)),
            tol=self.tol,
            max_iter=self.max_iter,
            hook=task.hook(
                f"{self.solver_} iteration",
                reconstruct=lambda coef, trace: self._coef_attributes(
                    objective.to_original(coef), trace
                ),
                echo=self._hook(),
            ),
        )
        self._store_result(objective.to_original(result.coef), result)
        if result.method:  # the solver changed method during the run
            self.solver_ = result.method
        if not (result.converged or result.stopped) and self.max_iter > 0:
            threshold = l1_capped_tol(
                self.tol, objective.penalty.l1, objective.scale, result.objective
            )
            # (a larger tol does not loosen a capped threshold: the same fit at tol 1e-4 to 100
            # was told to loosen it, a review)
            loosen = " lower C," if threshold < self.tol else " loosen tol,"
            advice = (
                "Increase max_iter," + loosen
                if result.n_iter >= self.max_iter
                else "The objective no longer decreases in floating point:" + loosen
            )
            capped = (
                f" (tol={self.tol:g} capped at {L1_TOL_CAP:g} l1 / sum c, not below float64's"
                " resolution)"
                if threshold < self.tol
                else ""
            )
            scaled = result.optimality / objective.scale
            where = (
                f"scaled optimality {scaled:.2e} > {threshold:.3g}{capped}"
                if not scaled <= threshold
                else f"scaled optimality {scaled:.2e} <= {threshold:.3g}{capped}, but the "
                + ("Newton decrement" if penalty.is_zero else "duality gap")
                + " had not confirmed it"
            )
            below = l1_resolution_advice(objective.penalty.l1, objective.scale, result.objective)
            if below:  # (loosening tol or scaling the features would not help)
                stopped_by_max_iter = result.n_iter >= self.max_iter
                advice = f"Increase max_iter. Also: {below}" if stopped_by_max_iter else below
                advice = advice[0].upper() + advice[1:]
            else:
                advice += " or standardise the features (StandardScaler in a Pipeline)."
            warn_at_caller(
                f"LogisticRegression(solver={self.solver!r}) stopped before the optimality "
                f"criterion was met ({result.message}; {where}). {advice}",
                ConvergenceWarning,
            )
        if penalty.is_zero:
            self._warn_if_separated(objective, objective.to_original(result.coef))
        found = []
        for certified in (objective.certified, objective.certified_decrement):
            at_solution = certified is not None and np.array_equal(certified[0], result.coef)
            found.append(certified[1] if at_solution else None)
        return tuple(found)

    def _certify(self, X, y_index, sample_weight, known_decrement=None):
        """Store ``duality_gap_``: primal minus the dual bound of :mod:`mlbasics.optimality`.

        The report :func:`~mlbasics.optimality.duality_gaps` makes, built from the arrays ``fit``
        has already checked: ``check_kkt`` would check ``X`` again, a pass over the data (5 ms of
        a 0.15 s fit on 100 000 x 100 dense features).
        """
        # (the report's tol sets its pass/fail, which only unpenalised Newton fits read: tol=None
        # or 0 are SGD's)
        report = logistic_report(
            self, X, y_index, sample_weight, tol=self.tol or 1e-3, advise=False,
            known_decrement=known_decrement,
        )  # fmt: skip
        self.duality_gap_ = float(report.duality_gap)
        return report

    def _unconverged_by_the_certificate(self, report):
        """An unpenalised Newton or L-BFGS fit whose stopping test passed, but whose Newton
        decrement, as :func:`~mlbasics.optimality.check_kkt` computes it on the stored model,
        fails ``tol``: ``converged_`` False, with a warning. Newton-Cholesky trusts its decrement
        as exact, and where its factorisation fails (columns within 1e-8 of each other) the
        floored eigenvalues make it inexact: models 0.7% to 40% above the optimum were
        ``converged_`` (a review). (A stationarity that fails only in the stored, uncentred
        coordinates is the rounding of features with large means, which the solvers' centred
        measure does not have: ``check_kkt``'s report says so; it is not judged here.) The report
        is the one ``duality_gap_`` comes from: no further pass over the data."""
        decrement = report.violations.get("Newton decrement", 0.0)
        if decrement <= report.threshold("Newton decrement"):
            return
        self.converged_ = False
        warn_at_caller(
            f"LogisticRegression(solver={self.solver!r}, no penalty) met its stopping test, but "
            f"the stored model's Newton decrement, as check_kkt computes it, is {decrement:.2e} "
            f"> tol={self.tol:g}: the unpenalised problem is ill-conditioned (nearly collinear "
            "columns). Add a penalty (penalty='l2' with a finite C), drop redundant columns, or "
            "try solver='newton-cg'.",
            ConvergenceWarning,
        )

    def _coef_attributes(self, coef, trace=None):
        """``coef_`` and ``intercept_`` from the coefficients of the original features.

        With the ``trace`` of a run so far (a model handed to callbacks mid-fit), also
        ``n_iter_``, ``objective_`` and ``convergence_`` as they stand, ``converged_`` False and
        ``duality_gap_`` NaN (not computed mid-fit; a previous fit's values must not show through).
        """
        if self.fit_intercept:
            attributes = {"coef_": coef[:, :-1].copy(), "intercept_": coef[:, -1].copy()}
            if coef.shape[0] > 1:
                # the softmax ignores a shift common to every class's intercept: the one that
                # sums to zero, whatever the solver (with L1 the columns of coef_ do not, and the
                # intercepts of dense and sparse fits differed by a constant)
                attributes["intercept_"] -= attributes["intercept_"].mean()
        else:
            attributes = {"coef_": coef.copy(), "intercept_": np.zeros(coef.shape[0])}
        if trace is not None:
            attributes.update(
                n_iter_=np.array([len(trace) - 1], dtype=np.int32),
                objective_=float(trace.objective[-1]),
                convergence_=trace,
                converged_=False,
                duality_gap_=np.nan,
            )
        return attributes

    def _store_result(self, coef, result):
        """``coef_``, ``intercept_`` and the certificate from a solver's result."""
        for name, value in self._coef_attributes(coef).items():
            setattr(self, name, value)
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.objective_ = result.objective
        self.convergence_ = result.trace
        self.converged_ = result.converged

    # -- stochastic gradient -------------------------------------------------------------------
    def _sgd_settings(self):
        return SGDSettings(
            optimizer=self.optimizer,
            learning_rate=self.learning_rate,
            eta0=float(self.eta0),
            power_t=float(self.power_t),
            batch_size=int(self.batch_size),
            average=self.average,
            shuffle=bool(self.shuffle),
            intercept_rate=self.intercept_rate,
        )

    def _generator(self):
        """A numpy Generator seeded from ``random_state`` (int, RandomState or None)."""
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        return np.random.default_rng(seed)

    def _early_stopping_split(self, y_index, rng):
        """The rows ``(train, validation)`` of ``early_stopping``: stratified, or at random
        where a class is too rare to appear in both parts (as the MLP estimators split;
        scikit-learn's ``SGDClassifier`` raises ``train_test_split``'s error, which names
        neither ``early_stopping`` nor ``validation_fraction``)."""
        n = len(y_index)
        n_val = int(np.ceil(self.validation_fraction * n))
        if n - n_val < 1:
            raise ValueError(
                f"early_stopping holds out {n_val} of the {n} samples (validation_fraction="
                f"{self.validation_fraction:g}) and leaves none to train on: use more data, a "
                "smaller validation_fraction or early_stopping=False."
            )
        rows, seed = np.arange(n), int(rng.integers(np.iinfo(np.int32).max))
        try:
            return train_test_split(
                rows, test_size=self.validation_fraction, stratify=y_index, random_state=seed
            )
        except ValueError:  # a class too rare to appear in both parts
            return train_test_split(rows, test_size=self.validation_fraction, random_state=seed)

    def _fit_sgd(self, X, Y, y_index, sample_weight, C, penalty, task, given_weight):
        """SGD on ``sample_weight`` (the user's weights times the class weights); with
        ``early_stopping``, the held-out accuracy is weighted by ``given_weight``, the user's
        weights alone (scikit-learn's ``SGDClassifier``: ``class_weight`` shapes the training
        objective, not the score that decides when to stop)."""
        self.solver_ = "sgd"
        if self.tol is None and self.early_stopping:
            raise ValueError("early_stopping=True needs a tol (a number), not tol=None.")
        rng = self._generator()
        validation_score = None
        if self.early_stopping:
            train, val = self._early_stopping_split(y_index, rng)
            train, val = np.sort(train), np.sort(val)  # (shuffle=False: visited in their order)
            X_val, y_val, w_val = X[val], y_index[val], given_weight[val]
            if not w_val.sum() > 0.0:  # a constant score of 0 would stop the run, "converged"
                raise ValueError(
                    f"the {len(val)} samples held out for early stopping (validation_fraction="
                    f"{self.validation_fraction:g}) all have sample_weight 0, so their accuracy "
                    "is undefined: use another random_state, a larger validation_fraction or "
                    "early_stopping=False."
                )
            X, Y, sample_weight = X[train], Y[train], sample_weight[train]

            def validation_score(coef):
                return _weighted_accuracy(coef, X_val, y_val, w_val, self.fit_intercept)

        objective = LogisticObjective.from_data(
            X, Y, C * sample_weight, penalty, fit_intercept=self.fit_intercept, center=False
        )
        run = make_run(
            self._initial_coef(objective), self._sgd_settings(), fit_intercept=self.fit_intercept
        )
        result = sgd(
            objective,
            run,
            data_weight=C,
            max_iter=self.max_iter,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            rng=rng,
            validation_score=validation_score,
            hook=task.hook("sgd epoch", reconstruct=self._coef_attributes, echo=self._hook()),
        )
        self._sgd_run, self._sgd_rng = run, rng
        self._store_result(result.coef, result)
        if not (result.converged or result.stopped) and self.tol is not None and self.max_iter > 0:
            if self.learning_rate == "adaptive":  # (a plateau divides the rate; a tiny rate stops)
                rule = (f"learning_rate='adaptive' stops once its rate, divided by 5 after every "
                        f"n_iter_no_change={self.n_iter_no_change} epochs without an improvement "
                        f"above tol={self.tol:g}, falls below 1e-6")  # fmt: skip
            else:
                rule = (f"no improvement above tol={self.tol:g} for "
                        f"n_iter_no_change={self.n_iter_no_change} epochs")  # fmt: skip
            warn_at_caller(
                f"LogisticRegression(solver='sgd') ran max_iter={self.max_iter} epochs without "
                f"its stopping rule firing ({rule}). Increase max_iter, loosen tol, or "
                "standardise the features (StandardScaler in a Pipeline).",
                ConvergenceWarning,
            )
        if penalty.is_zero:
            self._warn_if_separated(objective, objective.to_original(result.coef))
        return objective, result.stopped

    def _check_beats_zero_model(self, objective, X, factor=1.0, gap=np.nan):
        """Warn, and set ``converged_`` False, when SGD ends above ``factor`` times the all-zero
        model's objective, unless its duality ``gap`` shows the run next to the optimum.

        ``F(0) = sum_i c_i log K`` is what no fit at all achieves; an SGD run that stops above it
        met its stopping rule on a noise floor set by steps far too long for the scale of the
        features (unscaled data: the floor grows with the squared sample norms). A finite
        objective, so :func:`~mlbasics.linear_model._sgd.sgd` raised no divergence error, but
        no answer either. ``partial_fit`` passes :data:`STREAM_ZERO_MODEL_FACTOR`.

        ``fit`` passes its duality gap: where the zero model is (nearly) the optimum (constant
        features, balanced classes), SGD ends its noise above it, and ``F > F(0) >= F*`` with
        ``F - F* <= gap``: a gap below :data:`ZERO_MODEL_GAP_RTOL` ``F(0)`` says that both the
        run and the zero model are that close to the optimum, which is no failure. (A margin on
        ``F`` alone could not tell this from ``C = 1e-8``, whose run barely moves from 0 while
        ``F*`` is 6% below ``F(0)``.)
        """
        # F(0): every class at probability 1/K (1/2 for one output), no penalty
        n_classes = max(objective.shape[0], 2)
        zero_model = float(np.sum(objective.weights)) * math.log(n_classes)
        # objective_ sums the n losses one by one: F(0) itself comes out up to n eps F(0) above
        rounding = objective.n_samples * np.finfo(float).eps * zero_model
        if self.objective_ <= factor * zero_model + rounding:
            return
        if gap <= ZERO_MODEL_GAP_RTOL * zero_model:  # (False for a NaN gap: no dual point)
            return
        self.converged_ = False
        largest_norm = float(squared_norms(X).max(initial=0.0))
        if self.learning_rate == "optimal":
            steps = "learning_rate='constant' with a small eta0 (the 'optimal' rates follow alpha)"
            penalty = objective.penalty
            alpha = (penalty.l1 + penalty.l2) / (float(self.C) * objective.n_samples)
            if alpha >= 1.0:  # C n <= 1: the rates 1 / (alpha (t0 + t)) are far too short
                steps = (
                    f"the 'optimal' rates 1 / (alpha (t0 + t)) are tiny with alpha = 1 / (C n) = "
                    f"{alpha:.3g}: a larger C, or learning_rate='constant' with eta0 near 0.01"
                )
        else:
            steps = "a smaller eta0"
        warn_at_caller(
            f"LogisticRegression(solver='sgd') ended at objective {self.objective_:.4g}, above "
            f"{'' if factor == 1.0 else f'{factor:g} times '}{zero_model:.4g}, the objective "
            "of all-zero coefficients: its steps do not suit "
            f"features of this scale (largest squared sample norm {largest_norm:.3g}). "
            f"Standardise the features (StandardScaler in a Pipeline) or change the steps: "
            f"{steps}. (If they are standardised and the run is close to that objective, the "
            "optimum may be near the zero model, the features carrying little signal: compare "
            "with solver='newton'.)",
            ConvergenceWarning,
        )

    def _uses_sgd(self):
        return self.solver == "sgd"

    @available_if(_uses_sgd)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of SGD over ``X`` from the current coefficients (``solver="sgd"`` only).

        Every call continues the same run: coefficients, update count of the learning-rate
        schedule, cumulative L1 penalty, averages and optimizer state. The first call on a model
        fitted by ``fit`` with another solver (``set_params(solver="sgd")`` in between) starts
        the run from its coefficients, as scikit-learn's ``SGDClassifier`` does (with
        ``fit_intercept`` changed since, the intercepts dropped or started at 0). A call that
        fails leaves the model as it was. The samples of one call
        are visited in a random order when ``shuffle`` (else in order); there is no stopping
        rule and no early stopping.

        Each call makes one pass over the objective of *its* data: the per-sample penalty
        strength is ``1 / (C n_call)``. For a stream of chunks of ``m`` samples standing for a
        data set of ``n``, use ``C * n / m`` to get the penalty of ``C`` on the whole data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream; required on the first call (unless the model is fitted),
            and if given later it must be the same.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : LogisticRegression
        """
        first = not hasattr(self, "_sgd_run")
        fitted = first and hasattr(self, "coef_")  # by fit with another solver: go on from it
        self._validate_params()  # every call, as parameters may have been set in between
        refuse_huge_integers(self)
        before = dict(vars(self)) if fitted else None
        try:
            return self._partial_fit(X, y, classes, sample_weight, first, fitted)
        except BaseException:
            if fitted:  # the fitted model stays as it was: the next call starts from it again
                self.__dict__.clear()
                self.__dict__.update(before)
            elif first:  # a failed first call leaves no half-set model
                forget_fit(self, *SGD_STATE)
            raise

    def _partial_fit(self, X, y, classes, sample_weight, first, fitted):
        penalty = self._penalty()
        settings = self._sgd_settings()
        if not first:
            self._continue_run_with(settings)
        X, y = self._validate_training_data(X, y, reset=first and not fitted)
        if first and not fitted:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self.classes_ = check_partial_fit_classes(classes)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"partial_fit needs at least 2 classes; got classes={self.classes_!r}."
                )
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes={np.unique(classes)!r} is not the fitted model's classes_ "
                f"({self.classes_!r})."
            )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"y contains labels {unknown!r} not in classes {self.classes_!r}.")
        y_index = np.searchsorted(self.classes_, y)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        if isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight='balanced' needs the class counts of the whole data and is not "
                "supported by partial_fit; pass a dict of weights per class."
            )
        if self.class_weight is not None:
            per_class = class_weights(self.class_weight, self.classes_, y_index, sample_weight)
            check_class_weights(per_class, self.classes_)
            sample_weight = sample_weight * per_class[y_index]
        C = 1.0 if penalty.is_zero else float(self.C)
        _check_weight_total(C, sample_weight, penalty)
        Y = target_matrix(y_index, len(self.classes_))
        X = X.astype(np.float64) if X.dtype != np.float64 else X
        objective = LogisticObjective.from_data(
            X, Y, C * sample_weight, penalty, fit_intercept=self.fit_intercept, center=False
        )
        self.solver_ = "sgd"
        if first:
            start = self._fitted_coef(objective.shape) if fitted else None
            self._sgd_run = make_run(
                np.zeros(objective.shape) if start is None else start,
                settings,
                fit_intercept=self.fit_intercept,
            )
            self._sgd_rng = self._generator()
            before = None
        else:  # the epoch updates the run in place: a failed one must not leave it half-done
            before = copy.deepcopy((self._sgd_run, self._sgd_rng))
        try:
            result = sgd(
                objective,
                self._sgd_run,
                data_weight=C,
                max_iter=1,
                tol=None,
                rng=self._sgd_rng,
                hook=self._hook(),
                settle_l1=False,  # the next chunk continues the same epoch's lazy L1 penalty
            )
        except BaseException:
            # A diverged epoch leaves inf/NaN in the run, which every later call would continue
            # from (and blame on its own, sane, learning rate): keep the run of the last good call
            # (partial_fit forgets the model after a failed first call).
            if before is not None:
                self._sgd_run, self._sgd_rng = before
            raise
        self._store_result(result.coef, result)
        self.duality_gap_ = np.nan  # not computed here: an earlier fit's must not show through
        if not result.stopped:
            self._check_beats_zero_model(objective, X, factor=STREAM_ZERO_MODEL_FACTOR)
        return self

    def _continue_run_with(self, settings):
        """Let a later ``partial_fit`` call use parameters set since the last one.

        The learning-rate parameters and ``shuffle`` apply from this call on (the update count
        of the schedule goes on); the optimizer, ``batch_size``, ``average`` and
        ``fit_intercept`` shape the state of the run and cannot change in the middle of it.
        """
        run = self._sgd_run
        fixed = ("optimizer", "batch_size", "average", "intercept_rate")
        changed = [name for name in fixed if getattr(settings, name) != getattr(run.settings, name)]
        if run.fit_intercept != self.fit_intercept:
            changed.append("fit_intercept")
        if changed:
            raise ValueError(
                f"{', '.join(changed)} changed since the run began (the last fit or the first "
                "call to partial_fit); they shape the state of the run. Call fit, or start a new "
                "estimator, to use the new value."
            )
        run.settings = settings

    def _validate_training_data(self, X, y, *, reset):
        """Checked X (dense, or CSR/CSC made canonical by ``canonical_sparse``) and classification y."""
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            reset=reset,
        )
        if sparse.issparse(X):
            X = canonical_sparse(X)
        _check_feature_scale(X)
        check_classification_targets(y)
        return X, y

    def _penalty_name(self):
        """The penalty that runs (:func:`~mlbasics.linear_model._objective.penalty_that_runs`)."""
        return penalty_that_runs(self.penalty, self.l1_ratio, self.C)

    def _penalty(self):
        name = self._penalty_name()
        if name == "elasticnet" and self.l1_ratio is None:
            raise ValueError("penalty='elasticnet' needs l1_ratio, a number in [0, 1].")
        # l1_ratio that contradicts an explicit penalty (1 agrees with "l1")
        agrees = {"l1": (None, 0.0, 1.0)}.get(self.penalty, (None, 0.0))
        if self.penalty not in ("auto", "elasticnet") and self.l1_ratio not in agrees:
            warn_at_caller(
                f"l1_ratio={self.l1_ratio} is only used with penalty='auto' or 'elasticnet'; "
                f"it is ignored with penalty={self.penalty!r}.",
                UserWarning,
            )
        return Penalty.from_params(name, self.l1_ratio)

    def _solver_method(self, penalty, X, n_coef) -> str:
        """The method that runs: "prox-newton", "newton-cholesky", "newton-cg" or "lbfgs"."""
        smooth = penalty.l1 == 0.0
        if self.tol is None:
            raise ValueError(
                f"tol=None (run exactly max_iter epochs) is for solver='sgd' only; "
                f"solver={self.solver!r} needs a number."
            )
        if self.solver == "newton":
            if not smooth:
                return "prox-newton"
            cholesky = not sparse.issparse(X) and _cholesky_is_cheaper(X.shape[0], n_coef)
            return "newton-cholesky" if cholesky else "newton-cg"
        if not smooth:
            raise ValueError(
                f"solver={self.solver!r} handles penalty='l2' or None only; "
                f"penalty={self._penalty_name()!r} (penalty={self.penalty!r}, "
                f"l1_ratio={self.l1_ratio!r}) needs proximal Newton: use solver='newton'."
            )
        if self.solver == "newton-cholesky" and sparse.issparse(X):
            raise ValueError(
                "solver='newton-cholesky' forms a dense Hessian and needs dense X; "
                "use solver='newton-cg' (or 'newton') for sparse input."
            )
        return self.solver

    def _fitted_coef(self, shape):
        """The fitted coefficients, the intercepts as a last column with ``fit_intercept``, if
        they have ``shape`` (else None)."""
        if not hasattr(self, "coef_"):
            return None
        previous = np.hstack([self.coef_, self.intercept_[:, None]])
        if not self.fit_intercept:
            previous = previous[:, :-1]
        return previous if previous.shape == shape else None

    def _initial_coef(self, objective):
        previous = self._fitted_coef(objective.shape) if self.warm_start else None
        return np.zeros(objective.shape) if previous is None else previous

    def _hook(self):
        if not self.verbose:
            return None
        name = self.solver_

        def hook(iteration, objective, optimality, coef=None):
            print(f"[{name}] iter {iteration:4d}  objective {objective:.12g}  "
                  f"optimality {optimality:.3e}")  # fmt: skip

        return hook

    def _warn_if_separated(self, objective, coef):
        """Warn when the unpenalised optimum does not exist: the data are separable.

        Complete or quasi-complete separation (some direction of the coefficients that never
        increases any sample's loss) is decided by a linear program
        (:func:`~mlbasics.linear_model._separation.separating_direction_exists`), which first
        asks whether the fitted coefficients ``coef`` separate the rows themselves; the fitted
        coefficients are then only as large as the iteration budget allowed.
        """
        X = objective.X
        A = add_intercept_column(X) if objective.fit_intercept else X
        separable = separating_direction_exists(
            A, objective.Y, objective.weights, intercept=objective.fit_intercept, direction=coef
        )
        if separable:
            warn_at_caller(
                f"The training data are linearly separable and there is no penalty "
                f"(penalty={self.penalty!r}, C={self.C!r}): the unpenalised optimum lies at "
                "infinity and coef_ grows without bound with more iterations. Use a penalty "
                "(penalty='l2' or 'l1') with a finite C.",
                ConvergenceWarning,
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
            # expit(-s), not 1 - expit(s): P(class 0) keeps its relative accuracy at large s
            # (at s = 40 it is 4.2e-18, where 1 - expit(s) rounds to 0).
            return np.column_stack([expit(-scores), expit(scores)])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably (no ``log(0)``)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return log_softmax(scores, axis=1)


def _newton_with(inner, switch=False):
    def solve(objective, coef0, *, tol, max_iter, hook=None):
        return newton_smooth(objective, coef0, tol=tol, max_iter=max_iter, inner=inner,
                             switch=switch, hook=hook)  # fmt: skip

    return solve


def _weighted_accuracy(coef, X, y_index, weights, fit_intercept):
    """Accuracy of the coefficients ``coef`` (layout of ``_objective.py``) on held-out data."""
    p = X.shape[1]
    scores = np.asarray(X @ coef[:, :p].T)
    if fit_intercept:
        scores = scores + coef[:, p]
    pred = (scores[:, 0] > 0).astype(int) if scores.shape[1] == 1 else scores.argmax(axis=1)
    return float(np.average(pred == y_index, weights=weights))


SOLVERS = {
    "prox-newton": prox_newton,
    "newton-cholesky": _newton_with("cholesky"),
    "newton-cg": _newton_with("cg"),
    "lbfgs": lbfgs,
}
