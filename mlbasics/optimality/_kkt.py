"""``check_kkt`` and ``assert_kkt``: judge a fitted model from its attributes alone."""

from __future__ import annotations

import numbers

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.utils import check_array
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from .._validation import canonical_sparse
from ..kernels import callable_kernel_input, callable_kernel_rows, is_two_d
from ._logistic import LOGISTIC_ATTRIBUTES, logistic_report
from ._report import KKTReport, model_name
from ._svm import SVM_ATTRIBUTES, svm_report

__all__ = ["assert_kkt", "check_kkt", "duality_gaps"]


def _missing(model, names) -> list[str]:
    return [name for name in names if not hasattr(model, name)]


def _parameters(model) -> dict:
    """The model's parameters (``get_params``), or an empty dict when it has none."""
    get_params = getattr(model, "get_params", None)
    try:
        return dict(get_params(deep=False)) if callable(get_params) else {}
    except (TypeError, AttributeError, ValueError):  # a get_params that is not scikit-learn's
        return {}


class _RefitModel:
    """A fitted cross-validated logistic regression (scikit-learn's ``LogisticRegressionCV``)
    read as the model it refit on the whole data: ``C`` and ``l1_ratio`` are the chosen ``C_``
    and ``l1_ratio_``, ``intercept_scaling`` the one of the refit (see :func:`_refit_models`),
    every other attribute is the model's own. Reports name the model's class."""

    def __init__(self, model, C, l1_ratio, intercept_scaling):
        self._model, self.C, self.l1_ratio = model, C, l1_ratio
        self.intercept_scaling = intercept_scaling
        self.report_name = type(model).__name__

    def __getattr__(self, name):
        return getattr(self._model, name)


def _check_feature_names(model, X) -> None:
    """A DataFrame ``X`` has the columns the model was fitted on, in their order (reordered
    columns were judged as other data: a failed report where ``predict`` raises, a review)."""
    fitted = getattr(model, "feature_names_in_", None)
    if fitted is None or not hasattr(X, "columns"):
        return
    given = np.asarray(X.columns, dtype=object)
    fitted = np.asarray(fitted, dtype=object)
    if given.shape != fitted.shape or np.any(given != fitted):
        raise ValueError(
            f"X's columns are not the features {model_name(model)} was fitted on, in their "
            f"order: fitted on {fitted.tolist()[:8]}, given {given.tolist()[:8]} (first 8). "
            "Pass X[model.feature_names_in_]."
        )


def _refit_models(model) -> list:
    """``[model]``, or the readings (:class:`_RefitModel`) of a fitted ``LogisticRegressionCV``
    (which has ``C_`` where a logistic regression has ``C``) as the model it refit.

    Two readings with liblinear and an ``intercept_scaling`` other than 1: scikit-learn (1.9)
    refits without passing it on, at 1, while its folds used it (the refit equals
    ``LogisticRegression(intercept_scaling=1)`` to the last digit, and judged at 5 it failed:
    a review); both are judged and the one under which the model is optimal reported."""
    if hasattr(model, "C") or not hasattr(model, "C_") or not hasattr(model, "coef_"):
        return [model]
    name = type(model).__name__
    if _parameters(model).get("refit", True) is False:
        raise ValueError(
            f"check_kkt cannot judge this {name}: with refit=False its coef_ is the mean of the "
            "folds' models, the optimum of no single problem. Fit it with refit=True (the "
            "default), or judge one fold's model on that fold's training rows."
        )
    values = {}
    for attribute in ("C_", "l1_ratio_"):
        chosen = list(dict.fromkeys(np.ravel(getattr(model, attribute, None)).tolist()))
        if len(chosen) != 1:
            raise ValueError(
                f"check_kkt cannot judge this {name}: its {attribute} holds several values "
                f"({chosen!r}), one problem per class, not one multinomial problem."
            )
        values[attribute] = chosen[0]
    scalings = [float(getattr(model, "intercept_scaling", 1.0))]
    if getattr(model, "solver", None) == "liblinear" and getattr(model, "fit_intercept", True):
        scalings = list(dict.fromkeys([*scalings, 1.0]))
    return [_RefitModel(model, values["C_"], values["l1_ratio_"], s) for s in scalings]


def _kind(model) -> str:
    """ "svm" or "logistic" from the attributes the model has, or a TypeError naming the gaps."""
    svm_missing = _missing(model, SVM_ATTRIBUTES)
    if not svm_missing and "nu" in _parameters(model):
        # scikit-learn's NuSVC has every attribute of a C-SVM, with C = 0.0 (unused); its SVC has
        # an attribute nu = 0.0 too, but no parameter nu
        raise TypeError(
            f"check_kkt cannot judge {model_name(model)}: it is a nu-SVC (nu={model.nu!r}), "
            "whose problem bounds the dual variables through nu, not C; nu-SVC is not a "
            "supported kind (check_kkt judges C-SVMs and logistic regressions)."
        )
    if not svm_missing:
        return "svm"
    logistic_missing = _missing(model, LOGISTIC_ATTRIBUTES)
    loss = getattr(model, "loss", None)
    if not logistic_missing and loss in (None, "log_loss", "logistic"):
        return "logistic"
    if not logistic_missing:
        logistic_missing = [f"a logistic loss (it has loss={loss!r})"]
    fitted = hasattr(model, "classes_") or hasattr(model, "coef_")
    raise TypeError(
        f"check_kkt cannot judge {model_name(model)}: a kernel SVM needs "
        f"{', '.join(SVM_ATTRIBUTES)} (missing: {', '.join(svm_missing)}); a logistic "
        f"regression needs {', '.join(LOGISTIC_ATTRIBUTES)} (missing: "
        f"{', '.join(logistic_missing)}). "
        + (
            "The model is fitted: it is not one of the kinds check_kkt judges."
            if fitted
            else "Fit the model first if it is one of those."
        )
    )


def _check_tol(tol) -> float:
    """``tol`` as a float: any real number (numpy's included) that is positive and finite."""
    if (
        isinstance(tol, (bool, np.bool_))
        or not isinstance(tol, numbers.Real)
        or not (np.isfinite(tol) and tol > 0)  # also rejects NaN
    ):
        raise ValueError(f"tol must be a positive finite number; got {tol!r}.")
    return float(tol)


def _check_C(model, kind) -> None:
    """The model's ``C``: a real number (not a bool), positive; finite for an SVM (a logistic
    regression reads ``C = inf`` as no penalty, scikit-learn's convention)."""
    C = model.C
    if isinstance(C, (bool, np.bool_)) or not isinstance(C, numbers.Real):
        raise TypeError(
            f"{model_name(model)}.C must be a real number; got {C!r} of type {type(C).__name__}."
        )
    finite = bool(np.isfinite(C)) or kind == "logistic"
    if not (C > 0 and finite):  # also rejects NaN
        what = "positive and finite" if kind == "svm" else "positive"
        raise ValueError(f"{model_name(model)}.C must be {what}; got C={C!r}.")


def _expected_features(model, kind):
    """The number of columns of the training X, from the fitted model (None when unknown)."""
    n_features = getattr(model, "n_features_in_", None)
    if n_features is not None:
        return int(n_features)
    if kind == "logistic":
        return None  # coef_ tells, and logistic_report checks it against X
    SV = getattr(model, "support_vectors_", None)
    if SV is not None and len(SV.shape) == 2 and SV.shape[0] > 0:
        return int(SV.shape[1])
    return None


def _check_features(model, kind, X):
    if kind == "svm" and isinstance(model.kernel, str) and model.kernel == "precomputed":
        return  # X is the kernel matrix; its shape is checked against shape_fit_ by svm_report
    expected = _expected_features(model, kind)
    if expected is not None and X.ndim != 2:  # (a callable kernel's X, as given)
        raise ValueError(
            f"X has {X.ndim} dimension(s) but {model_name(model)} was fitted on rows of "
            f"{expected} features: the KKT conditions are about the training data; pass X as "
            "given to fit."
        )
    if expected is not None and X.shape[1] != expected:
        raise ValueError(
            f"X has {X.shape[1]} features but {model_name(model)} was fitted on {expected} "
            "features: the KKT conditions are about the training data; pass X as given to fit."
        )


def check_kkt(model, X, y, *, tol=1e-3, sample_weight=None, refine="auto") -> KKTReport:
    """Residuals of the KKT conditions of a fitted model on its training data, and its duality gap.

    The model is read through its fitted attributes only (duck typing), so scikit-learn's
    estimators are judged as well as mlbasics' own:

    * kernel SVMs (``dual_coef_``, ``support_``, ``n_support_``, ``intercept_``, ``classes_``
      and the kernel's parameters): :class:`mlbasics.SVC` with every loss and solver, and
      :class:`sklearn.svm.SVC`, binary or one-vs-one multiclass;
    * logistic regressions (``coef_``, ``intercept_``, ``classes_``, ``C``):
      :class:`mlbasics.LogisticRegression` and :class:`sklearn.linear_model.LogisticRegression`
      with the L2, L1, elastic-net or no penalty, binary or multinomial; also
      :class:`sklearn.linear_model.LogisticRegressionCV` (``refit=True``), judged as the model
      it refit on the whole data, at the chosen ``C_`` and ``l1_ratio_`` (with liblinear, at
      its ``intercept_scaling`` and at 1, where scikit-learn's refit puts it: the better
      report);
    * a :class:`~sklearn.pipeline.Pipeline` ending in one of those: ``X`` goes through the
      other steps' ``transform`` first. That is the data the last step was fitted on only when
      each step's ``fit_transform`` equals its ``fit`` then ``transform``; for a step that
      cross-fits (:class:`~sklearn.preprocessing.TargetEncoder`) or resamples, judge the last
      step alone on the data it was fitted on.

    Parameters
    ----------
    model : fitted estimator
        The model to judge.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The training data, as given to ``fit`` (the kernel matrix for ``kernel="precomputed"``).
    y : array-like of shape (n_samples,)
        The training labels.
    tol : float, default=1e-3
        Largest residual accepted by the verdict ``ok``: a positive finite real number (Python's
        or numpy's; not a bool). For a logistic regression with an L1 term the stationarity
        residual is judged at ``tol`` capped at a tenth of the L1 strength per unit of ``c``,
        ``0.1 l1 / sum_i c_i`` (not below ``1e3 eps min(sum_i c_i, P) / sum_i c_i``, what float64
        resolves in the gradient), the threshold of the proximal Newton solver's stopping rule
        (``KKTReport.thresholds``; the report's model line says so): a larger ``tol`` does not
        loosen that condition.
    sample_weight : array-like of shape (n_samples,), default=None
        The weights given to ``fit``; they set the per-sample bounds ``C_i`` and weights ``c_i``.
    refine : int or "auto", default="auto"
        Logistic regressions with an L2 or a pure L1 penalty: also build the dual point from the
        residuals of the point ``refine`` steps of Newton's method away from the model (conjugate
        residuals, two passes over ``X`` a step; with L1, on the model's nonzero coefficients
        and the zero ones whose gradient exceeds the L1 strength, the signs held), and keep the
        better bound. The plain dual point
        overstates ``P - P*`` by about the ratio of the Hessian's curvature to the penalty,
        which grows with the number of samples: on 100 000 samples a model 2.5e-7 (relative)
        from the optimum fails ``tol=1e-4`` on its gap, and passes with ``refine=3``. ``"auto"``
        refines only when that can change the verdict, stationarity passing ``tol`` and the
        plain gap not: it evaluates the dual after 1, 3, 10, 30 and 100 steps, and in between
        where the quadratic model predicts that it settles the verdict, stops once the verdict
        is settled and keeps the best point (the report's ``model`` line says which).
        ``0`` keeps the plain point, the one of the estimators' ``duality_gap_``. Any feasible
        dual point bounds ``P*`` from below, so a refined gap is as valid as the plain one.
        Ignored for other models.

    Returns
    -------
    KKTReport
        Residual per condition, worst samples, objectives, duality gap and the verdict.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        When the model is a scikit-learn estimator (or has ``__sklearn_is_fitted__``) that is
        not fitted.
    TypeError
        When the model is of a kind this function cannot judge (the message names the missing
        attributes; scikit-learn's NuSVC, SVR and OneClassSVM among them), or its ``C`` is not
        a real number.
    ValueError
        When ``X``, ``y`` or ``sample_weight`` are not valid or cannot be the training data
        (another number of features; for an SVM, support vectors that are not rows of ``X``), ``tol`` is not a positive finite number, or the model's
        attributes are not those of a fitted model: ``C`` not positive (not finite, for an SVM),
        coefficients or intercepts that are not finite or not of the shapes their classes and
        support vectors imply.

    Notes
    -----
    Kernel SVM, for every binary problem, with margins ``m_i = y_i f(x_i)``, dual variables
    ``alpha_i = y_i c_i`` read from ``dual_coef_`` and bounds ``C_i`` (``C`` times sample and class
    weights). Residuals are in the units of the margin, except the two on ``alpha``, which are
    relative to the bounds:

    ====================== ================================================================
    stationarity           ``|sum_i alpha_i y_i| / max_i C_i`` (the derivative in ``b``); for
                           the squared hinge also ``|m_i - (1 - alpha_i / (2 C_i))|`` where
                           ``alpha_i > 0`` and ``max(0, 1 - m_i)`` where ``alpha_i = 0``, for
                           the logistic loss ``|m_i - log((C_i - alpha_i) / alpha_i)|`` (the
                           derivative in the margins: ``alpha_i = -C_i l'(m_i)``)
    primal feasibility     hinge, ``alpha_i = 0``: ``max(0, 1 - m_i)``
    dual feasibility       ``alpha_i`` out of ``[0, C_i]`` (``[0, inf)`` for the squared
                           hinge), divided by ``C_i``
    complementary          hinge, ``0 < alpha_i < C_i``: ``|m_i - 1|``; ``alpha_i = C_i``:
    slackness              ``max(0, m_i - 1)``
    duality gap            ``|P - D| / sum_i C_i``, largest over the binary problems; for the
                           logistic loss ``|P - D| / min(sum_i C_i, P)``
    ====================== ================================================================

    with ``P = 1/2 ||f||^2 + sum_i C_i l(m_i)`` and ``D = -1/2 ||f||^2 - sum_i C_i l*(-alpha_i /
    C_i)`` (the conjugates of :mod:`mlbasics.losses`). A variable within 1e-8 ``C_i`` of ``C_i``
    counts as on it, within 1e-8 ``min(C_i, max_j alpha_j)`` of 0 as 0. Each term of ``P - D = sum_i
    [C_i l(m_i) + C_i l*(-alpha_i / C_i) + alpha_i m_i] - b sum_i alpha_i y_i`` is at most ``C_i``
    times the residual of sample ``i``, so the gap per unit of ``C`` is within ``tol`` whenever the
    other conditions are; a negative gap (beyond rounding) means the dual point is infeasible. ``D``
    is evaluated at a feasible point: ``-inf`` for an ``alpha`` outside the box; for one in the box
    whose ``sum_i alpha_i y_i`` is not 0, at ``alpha`` with the ``alpha_i`` of the class of the
    larger sum scaled down to balance the other's (they stay in the box), so that ``P - D`` bounds
    ``P - P*``; the residuals are those of the model's ``alpha``. The logistic solvers keep
    ``alpha_i`` in ``[1e-12 C_i, (1 - 1e-12) C_i]``, and a variable held there only needs its margin
    beyond ``log(1e12)``; ``D`` is also evaluated with those variables released to ``C_i
    sigmoid(-m_i)`` (the larger ``D`` is kept), and the gap is judged relative to ``P`` too: that
    catches a ``C`` so large that the box changes the model. All of this assumes a positive
    semi-definite kernel matrix; for an indefinite one (the sigmoid kernel, some callables) the
    primal is not convex and can be unbounded below, so a passing report certifies a KKT point, not
    a minimum.

    Logistic regression: ``stationarity`` is the largest distance of ``-grad`` to the
    subdifferential of the penalty (``|g_j|`` for a smooth one; with an L1 term
    ``|g_j + lambda_1 sign(w_j)|`` where ``w_j != 0`` and ``max(|g_j| - lambda_1, 0)`` where
    ``w_j = 0``), the intercept's derivative included, divided by ``sum_i c_i`` (the unit of the
    solvers' ``tol``); ``worst`` names the features (columns) there, the intercept as column
    ``n_features`` (printed ``intercept``). The dual point is
    ``theta_i = t c_i (y_i - p_i)`` at the intercept that balances ``sum_i theta_i = 0`` exactly,
    with ``t = min(1, lambda_1 / ||X' theta||_inf)`` for a pure L1 penalty, and
    ``D = sum_i c_i H(q_i) - R*(X' theta)`` with ``H`` the entropy of ``q_i = y_i - theta_i /
    c_i``; it is exact at the optimum. ``duality gap`` is, for an L2 penalty or an elastic net,
    ``|P - D| / min(sum_i c_i, P)`` (at a large ``C`` on nearly separable data ``P*`` is far
    below ``sum_i c_i``, and the gap relative to ``P`` bounds the relative suboptimality; the
    divisor never falls below ``1e-10 P / tol``, what the gap resolves: below ``tol=1e-10``
    it is judged to about ``1e-10 P`` only; where the gap cannot resolve ``tol`` at a huge
    ``C``, the Newton decrement judges instead, see :doc:`/theory/duality`); for a pure L1
    penalty the same, the divisor also never below ``2e3 eps sum_j |w_j| sum_i c_i |r_i x_ij| /
    tol`` (``W`` with liblinear's intercept column; ``eps`` the machine epsilon, ``r`` the
    residuals ``p - y``): the rescaled point's gap is linear in the stationarity residual, and
    that is what the rounding of the gradient's entries may leave in the gap of an optimal
    model (it does not depend on the features' units). ``duality_gap``
    itself, ``P - D``, is unscaled and bounds ``P - P*`` for every penalty. Without a
    penalty there is no finite dual to evaluate: stationarity is checked and, when it passes,
    the ``Newton decrement`` (half of ``g' H^+ g``, an estimate of ``P - P*`` that, unlike the
    gradient, does not shrink with the features' units, divided by ``min(sum_i c_i, P)``; or
    ``P / sum_i c_i`` when that is smaller, since ``P - P* <= P``). With an L2 penalty at
    a ``C`` so large that the gradient's rounding alone, squared over ``2 lambda_2``, exceeds
    ``tol`` times the gap's divisor (standardised iris from ``C = 1e25`` at ``tol=1e-3``), the
    gap cannot be relied on: once stationarity passes and the (refined) gap fails there, the
    ``Newton decrement``
    (``g' (H + l2 I)^-1 g / 2`` divided by ``min(sum_i c_i, P)``, the solvers' own rule there)
    is judged in place of the
    ``duality gap`` (still reported), and the report's ``model`` line says so. When a number
    leaves the float range (``C`` or weights near 1e300) the same quantities are computed per unit
    of a power of two near ``max c_i``: the residuals and the gap per unit of ``c`` come out
    finite when they are representable, and ``P``, ``D``, ``P - D`` that are not are ``+-inf``.

    scikit-learn's :class:`~sklearn.svm.SVC` with a callable kernel is judged with the kernel
    evaluated on ``X``. When some sample weights are 0, its ``support_`` indexes the samples of
    positive weight only (libsvm drops the others before training); the checker reads it that
    way when that is what fits ``X``, ``y`` and ``support_vectors_``.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.svm import SVC
    >>> from mlbasics.optimality import check_kkt
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> report = check_kkt(SVC(tol=1e-3).fit(X, y), X, y, tol=1e-3)
    >>> bool(report), sorted(report.violations)[:2]
    (True, ['complementary slackness', 'dual feasibility'])
    >>> bool(0 <= report.relative_gap < 1e-3)
    True
    """
    tol = _check_tol(tol)
    auto = isinstance(refine, str) and refine == "auto"
    if not auto and (
        isinstance(refine, (bool, np.bool_))
        or not isinstance(refine, numbers.Integral)
        or refine < 0
    ):
        raise ValueError(
            f"refine must be 'auto' or a non-negative integer (Newton steps); got {refine!r}."
        )
    if isinstance(model, BaseEstimator) or hasattr(model, "__sklearn_is_fitted__"):
        # not the list of attributes an unfitted model lacks (other objects are read through
        # their attributes alone, whatever provides them)
        check_is_fitted(model)
    if not hasattr(model, "steps"):  # (a pipeline's steps read columns their own way, by name)
        _check_feature_names(model, X)
    while hasattr(model, "steps") and hasattr(model, "__getitem__"):  # a Pipeline (nested too)
        if len(model.steps) > 1:
            X = model[:-1].transform(X)
        model = model[-1]
    readings = _refit_models(model)
    model = readings[0]
    kind = _kind(model)
    _check_C(model, kind)
    # a callable kernel alone reads X (integer indices, strings): kept as given, as in fit
    as_given = kind == "svm" and callable(model.kernel)
    if as_given:
        X = callable_kernel_rows(X)
        X = check_array(X, accept_sparse="csr", **callable_kernel_input(is_two_d(X)))
    else:
        X = check_array(X, accept_sparse="csr", dtype=np.float64)
    if sparse.issparse(X):  # repeated entries summed (on a copy), as fit reads them
        X = canonical_sparse(X)
    _check_features(model, kind, X)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must be one label per row of X: X has {X.shape[0]} rows, y has shape {y.shape}."
        )
    classes = np.asarray(model.classes_)
    try:
        y_index = np.searchsorted(classes, y)
    except TypeError:  # labels that cannot be ordered against each other or the classes
        raise ValueError(
            f"y's labels cannot be compared with the model's classes_ {classes!r}: y mixes label "
            "types (strings and numbers) or holds labels of another type than classes_."
        ) from None
    y_index = np.clip(y_index, 0, len(classes) - 1)
    unknown = classes[y_index] != y
    if np.any(unknown):
        raise ValueError(
            f"y holds labels the model was not fitted on: {np.unique(y[unknown])[:5]!r} "
            f"(classes_: {classes!r})."
        )
    sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
    if np.any(sample_weight < 0):
        raise ValueError(
            "sample_weight has negative values, which no problem judged here allows. "
            "scikit-learn's SVC accepts them and leaves those samples out (libsvm drops the "
            "samples of weight <= 0): to judge such a model pass np.clip(sample_weight, 0, None)."
        )
    if kind == "svm":
        return svm_report(model, X, y_index, sample_weight, tol)
    reports = [
        logistic_report(
            reading, X, y_index, sample_weight, tol, refine="auto" if auto else int(refine)
        )
        for reading in readings
    ]
    return min(reports, key=lambda r: (not r.ok, max(r.violations.values())))


def assert_kkt(model, X, y, *, tol=1e-3, sample_weight=None, refine="auto") -> KKTReport:
    """:func:`check_kkt`, raising ``AssertionError`` with the report when a condition fails.

    For tests: ``assert_kkt(model, X, y, tol=1e-4)``. Returns the report when it passes.

    Parameters
    ----------
    model : fitted estimator
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    tol : float, default=1e-3
    sample_weight : array-like of shape (n_samples,), default=None
    refine : int or "auto", default="auto"
        As in :func:`check_kkt`.

    Returns
    -------
    KKTReport
    """
    report = check_kkt(model, X, y, tol=tol, sample_weight=sample_weight, refine=refine)
    if not report.ok:
        raise AssertionError(str(report))
    return report


def duality_gaps(model, X, y, *, sample_weight=None) -> np.ndarray:
    """``P - D`` of every binary problem of a fitted SVM (one entry for other models).

    What an estimator stores in ``duality_gap_`` after ``fit``: call it with the training data.
    For a logistic regression this is the plain dual point's gap (``check_kkt(..., refine=0)``),
    which on many samples can be larger than the one :func:`check_kkt` reports by default.

    Parameters
    ----------
    model : fitted estimator
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    ndarray of shape (n_problems,)
    """
    return check_kkt(model, X, y, sample_weight=sample_weight, refine=0).problem_gaps
