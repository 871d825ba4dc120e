"""Input checks shared by the classifiers (floor 1): classes, per-sample weights, flat columns."""

from __future__ import annotations

import math
import os
import sys
import warnings

import joblib
import numpy as np
import sklearn
from scipy import sparse
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import _check_sample_weight


def as_float(value) -> float:
    """``float(value)`` for a real number; ``+-inf`` for an integer beyond float64's range, which
    ``float`` refuses with an OverflowError (parameters such as ``10**400`` pass the type checks)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def forget_fit(estimator, *private) -> None:
    """Remove what fitting learned: the attributes whose names end in ``_`` and the ``private``
    ones named. An estimator whose fit failed is then not fitted, rather than holding half a new
    model beside half of the earlier one (new ``classes_`` or ``n_features_in_`` with the old
    coefficients)."""
    learned = [name for name in vars(estimator) if name.endswith("_") and not name.startswith("__")]
    for name in (*learned, *private):
        estimator.__dict__.pop(name, None)


def classes_and_weights(estimator, X, y, sample_weight, *, every_class=True):
    """``(classes, y_index, sample_weight, weight, per_class)`` for a classifier's ``fit``.

    ``sample_weight`` is the checked, non-negative user weight (ones when None); ``per_class`` the
    weight of each class from ``estimator.class_weight`` (ones when None; "balanced" counts each
    class by its sample weight, as scikit-learn's ``LogisticRegression`` does), and ``weight`` the
    product, per sample. Data with a single class, a class weight that is negative or not
    finite, or a class whose samples all weigh zero (with ``every_class``; without it, fewer
    than two classes of positive weight) raise a ``ValueError`` naming the estimator or the
    class.
    """
    classes, y_index = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes in the data, but the "
            f"data contain only one class: {str(classes[0])!r}."
        )
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    weight = sample_weight
    per_class = np.ones(len(classes))
    _check_class_totals(estimator, classes, y_index, sample_weight, every_class)
    if estimator.class_weight is not None:
        per_class = class_weights(estimator.class_weight, classes, y_index, sample_weight)
        check_class_weights(per_class, classes)
        weight = sample_weight * per_class[y_index]
        _check_class_totals(estimator, classes, y_index, weight, every_class)  # a class weight 0
    return classes, y_index, sample_weight, weight, per_class


def class_weights(class_weight, classes, y_index, sample_weight):
    """The weight of each class from ``class_weight`` (a dict, or "balanced": each class counted
    by its sample weight, as scikit-learn's ``LogisticRegression`` does). A class of total weight
    0 gets 1 for "balanced" (scikit-learn's formula divides by 0 there; the factor only
    multiplies zero weights)."""
    with np.errstate(divide="ignore"):
        per_class = compute_class_weight(
            class_weight, classes=classes, y=classes[y_index], sample_weight=sample_weight
        )
    empty = np.bincount(y_index, weights=sample_weight, minlength=len(classes)) == 0.0
    per_class[empty & ~np.isfinite(per_class)] = 1.0
    return per_class


def _check_class_totals(estimator, classes, y_index, weight, every_class):
    """A ``ValueError`` naming the first class whose samples all weigh zero (``every_class``), or
    (without it) saying that fewer than two classes have samples of positive weight. Checked on
    the sample weights before ``class_weight`` too."""
    totals = np.bincount(y_index, weights=weight, minlength=len(classes))
    weighed = totals > 0.0
    if every_class and not np.all(weighed):
        empty = _label(classes, np.flatnonzero(~weighed)[0])
        raise ValueError(
            f"class {empty!r} has no sample with positive weight; every class needs one (check "
            "sample_weight and class_weight; a bootstrap drawn as weights, as BaggingClassifier "
            "draws it, can leave a rare class out)."
        )
    if not every_class and np.count_nonzero(weighed) < 2:
        which = (
            "no class"
            if not weighed.any()
            else f"only class {_label(classes, np.argmax(weighed))!r}"
        )
        raise ValueError(
            f"{type(estimator).__name__} needs samples of positive weight in at least 2 classes; "
            f"{which} has any (check sample_weight and class_weight)."
        )


def check_partial_fit_classes(classes):
    """``partial_fit``'s list of every class as sorted unique labels; a ``ValueError`` if some
    are NaN or infinite, or if strings and numbers are mixed (``np.asarray`` would silently turn
    the numbers into strings, which no label in ``y`` then matches)."""
    values = np.asarray(classes)
    if values.dtype.kind in "fc" and not np.all(np.isfinite(values)):
        raise ValueError(
            f"classes contains NaN or infinity: {values!r}; the classes must not contain NaN or "
            "infinity, as they are labels."
        )
    try:
        return unique_labels(classes)
    except TypeError as error:  # an object array of strings and numbers cannot be sorted
        raise ValueError(f"classes mixes label types (strings and numbers): {values!r}.") from error


def check_class_weights(per_class, classes):
    """Raise a ``ValueError`` unless every class weight is finite and non-negative.

    A negative weight turns the loss of a class into a gain (the objective has no minimum); a
    NaN or infinite one makes every number of the fit meaningless.
    """
    bad = ~(np.isfinite(per_class) & (per_class >= 0.0))
    if np.any(bad):
        k = np.flatnonzero(bad)[0]
        raise ValueError(
            f"class_weight must be finite and non-negative for every class; got "
            f"{float(per_class[k])!r} for class {_label(classes, k)!r}."
        )


def _label(classes, k):
    """Class ``k`` as a Python object (``1``, ``'cat'``), for messages: not ``np.int64(1)``."""
    return np.asarray(classes)[k : k + 1].tolist()[0]


def canonical_sparse(X):
    """A CSR or CSC ``X`` as the compiled solvers read it: 32-bit indices, sorted, no repeated
    entries and no stored zeros. A copy when ``X`` is not already so; ``X`` is never modified.

    Stored zeros would change an answer: SGD's lazy L1 penalty visits the stored entries of a row
    (a dense row's zeros are skipped), so a stored zero would clip its coefficient. scipy gives
    64-bit indices to matrices built from large parts; they are narrowed when they fit.
    """
    limit = np.iinfo(np.int32).max
    if X.nnz > limit or max(X.shape) > limit:
        raise ValueError(
            f"X has {X.nnz} stored entries and shape {X.shape}; the solvers index sparse matrices "
            f"with 32-bit integers (at most {limit} entries, rows and columns)."
        )
    narrow = X.indices.dtype != np.int32 or X.indptr.dtype != np.int32
    zeros = bool(np.any(X.data == 0))
    if not (narrow or zeros or not X.has_canonical_format):
        return X
    X = X.copy()
    if narrow:
        X.indices = X.indices.astype(np.int32)
        X.indptr = X.indptr.astype(np.int32)
    X.sum_duplicates()  # sorts the indices too
    X.eliminate_zeros()
    return X


def flat_columns(X, weights, fit_intercept):
    """The features that are constant on the samples of positive weight (with an intercept) or
    zero there: their coefficient moves every score alike with the intercept's (or not at all),
    so without a penalty the logistic objective is flat along it. Exactly constant: a feature of
    large mean and tiny spread (1e8 + 1e-5 noise) is a real one. Shared by the solvers
    (:attr:`LogisticObjective.flat_columns <mlbasics.linear_model._objective.LogisticObjective.flat_columns>`)
    and the certificate's Newton decrement."""
    X = X[weights > 0]
    if X.shape[0] == 0:
        return np.ones(X.shape[1], dtype=bool)
    high, low = X.max(axis=0), X.min(axis=0)
    if hasattr(high, "toarray"):  # sparse
        high, low = high.toarray(), low.toarray()
    high, low = np.asarray(high).ravel(), np.asarray(low).ravel()
    return (high == low) & (True if fit_intercept else high == 0.0)


# The mlbasics, scikit-learn and joblib package directories: frames of files under them are not
# the user's (scikit-learn's: the callback wrapper around ``fit``, and Pipeline, GridSearchCV or
# cross_val_score fitting our estimators, through joblib even with n_jobs=1).
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SKLEARN_DIR = os.path.dirname(os.path.abspath(sklearn.__file__)) + os.sep
_LIBRARY_DIRS = (
    _PACKAGE_DIR,
    _SKLEARN_DIR,
    os.path.dirname(os.path.abspath(joblib.__file__)) + os.sep,
)
# The frames scikit-learn's callback API puts around fit: never the place to name.
_OURS = (_PACKAGE_DIR, os.path.join(_SKLEARN_DIR, "callback") + os.sep)
# Python's own modules (threading, multiprocessing): the bottom of a worker's stack.
_STDLIB_DIR = os.path.dirname(os.path.abspath(os.__file__)) + os.sep


def warn_at_caller(message, category):
    """``warnings.warn`` attributed to the innermost frame outside mlbasics: the user's call.

    However many library frames lie in between (helpers, ``fit`` calling ``_fit``, scikit-learn's
    callback wrapper around ``fit``, a Pipeline or a grid search, ``compare_estimators`` calling a
    test), the warning names the line of the user's code that called into either library; a
    fixed ``stacklevel`` named scikit-learn's callback wrapper once ``fit`` was wrapped. In a
    worker (joblib's processes or threads), whose stack holds no user frame, it names the first
    frame outside mlbasics, as scikit-learn's own warnings there do, not Python's pool.
    """
    frame, stacklevel = sys._getframe(1), 2  # stacklevel 2: the caller of this function
    first_outside = None  # the stacklevel of the first frame outside mlbasics (and its wrapper)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        if first_outside is None and not frame.f_code.co_filename.startswith(_OURS):
            first_outside = stacklevel
        frame, stacklevel = frame.f_back, stacklevel + 1
    where = frame.f_code.co_filename
    if where.startswith(_STDLIB_DIR) and "site-packages" not in where and first_outside:
        stacklevel = first_outside  # a worker's stack: no user frame below the libraries
    warnings.warn(message, category, stacklevel=stacklevel)


def refuse_huge_integers(estimator) -> None:
    """A ValueError naming any parameter that is an integer beyond float64's range.

    scikit-learn's parameter validation takes ``C=10**400`` as a real number, and the first
    ``float(C)`` then raised a bare "int too large to convert to float" naming no parameter (a
    review). No parameter of the package needs such a value.
    """
    for name, value in estimator.get_params(deep=False).items():
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and as_float(value)
            in (
                math.inf,
                -math.inf,
            )
        ):
            digits = len(str(abs(value)))
            raise ValueError(
                f"{name} is an integer of {digits} digits, beyond the range of float64 "
                f"(about 1.8e308); got {name}={str(value)[:12]}..."
            )


#: A job whose estimated memory exceeds this fraction of the memory available is refused.
MEMORY_FRACTION = 0.5


def check_memory(needed: int, what: str, advice: str) -> None:
    """A MemoryError when ``needed`` bytes exceed :data:`MEMORY_FRACTION` of the memory available:
    ``what`` needs about so many GiB, ``advice`` says what to change."""
    available = available_memory()
    if available is not None and needed > MEMORY_FRACTION * available:
        raise MemoryError(
            f"{what} needs about {needed / 2**30:.3g} GiB, more than {MEMORY_FRACTION:.0%} of "
            f"the {available / 2**30:.1f} GiB available: {advice}"
        )


def available_memory() -> int | None:
    """Bytes of memory available now (psutil when installed, else the OS's free pages)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is present wherever cvxpy's deps are
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    return int(psutil.virtual_memory().available)


def abs_max(X) -> float:
    """``max |x_ij|`` of a dense or sparse matrix (0 when empty), without a copy of ``|X|``."""
    data = X.data if sparse.issparse(X) else X
    if not data.size:
        return 0.0
    return max(float(data.max()), -float(data.min()))
