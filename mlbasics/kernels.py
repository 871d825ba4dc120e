"""Kernels: from ``kernel=``, ``gamma=``, ``degree=``, ``coef0=`` to kernel matrices and SMO rows.

The four named kernels are those of :mod:`sklearn.metrics.pairwise`, with scikit-learn's meaning of
the parameters:

=========  ==================================
linear     ``<x, z>``
poly       ``(gamma <x, z> + coef0) ** degree``
rbf        ``exp(-gamma ||x - z||^2)``
sigmoid    ``tanh(gamma <x, z> + coef0)``
=========  ==================================

plus ``"precomputed"`` (the user passes the kernel matrix) and a callable ``kernel(X, Z)`` returning
the matrix. :class:`KernelSpec` is the resolved form every solver and estimator works with:
:meth:`KernelSpec.matrix` evaluates it by :func:`sklearn.metrics.pairwise.pairwise_kernels` (a
callable kernel, the QP's Gram matrix), ``SVC``'s ``predict`` computes the named kernels in blocks
of one BLAS product each (:func:`mlbasics.svm._classes.kernel_block`), and the SMO solver computes
its rows itself from the same numbers (:mod:`mlbasics.svm._smo_kernels`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.metrics.pairwise import pairwise_kernels

from ._validation import as_float, canonical_sparse

__all__ = [
    "NAMED_KERNELS",
    "KernelSpec",
    "callable_kernel_input",
    "callable_kernel_rows",
    "resolve_gamma",
    "row_blocks",
    "squared_norms",
]

#: Kernel names and the integer codes the compiled SMO kernels dispatch on.
NAMED_KERNELS = {"linear": 0, "poly": 1, "rbf": 2, "sigmoid": 3}
PRECOMPUTED_CODE = 4

#: Bytes of the kernel blocks formed at prediction time (rows of test points x support vectors).
PREDICT_BLOCK_BYTES = 64 * 2**20


def squared_norms(X) -> np.ndarray:
    """``||x_i||^2`` of every row of a dense array or sparse matrix."""
    if sparse.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", X, X)


def rbf_centre(X) -> np.ndarray:
    """The point the kernel rows are taken relative to: the median of each feature of ``X``.

    The RBF kernel reads differences of rows only, and ``||x||^2 + ||z||^2 - 2 x'z`` keeps them
    when the norms are small: a common offset (features of unit spread around 1e6) cancels their
    digits. The linear kernel's dual does not change either (``SVC.fit``). The median, not the
    mean: one far row (1e9, even of weight 0) moved the mean to 5e6 and every other row 5e6 away
    from it. For a sparse ``X`` the median of a column that stores fewer than half of its entries
    is 0 (its zeros are the majority): only the columns that are mostly filled already have a
    centre that is not 0, so that :func:`subtract_centre` fills in no other column.
    """
    if not sparse.issparse(X):
        return np.median(X, axis=0)
    columns = sparse.csc_array(X)
    n_rows = columns.shape[0]
    centre = np.zeros(columns.shape[1])
    filled = np.flatnonzero(2 * np.diff(columns.indptr) >= n_rows)  # (stored zeros count too)
    step = max(1, int(PREDICT_BLOCK_BYTES // (8 * max(n_rows, 1))))
    for start in range(0, len(filled), step):
        block = filled[start : start + step]
        centre[block] = np.median(columns[:, block].toarray(), axis=0)
    return centre


def subtract_centre(X, centre):
    """``X - centre`` row by row; a sparse ``X`` stays sparse, filled in only in the columns of a
    nonzero ``centre`` (which :func:`rbf_centre` gives only to columns mostly filled already)."""
    if not sparse.issparse(X):
        return X - centre
    X = sparse.csr_array(X)
    moved = np.flatnonzero(centre)
    n_rows = X.shape[0]
    shift = sparse.csr_array(
        (
            np.tile(centre[moved], n_rows),
            np.tile(moved, n_rows),
            np.arange(n_rows + 1) * len(moved),
        ),
        shape=X.shape,
    )
    return sparse.csr_array(X - shift)


def callable_kernel_rows(X):
    """``X`` as rows a callable kernel reads: a list or tuple becomes a 1-D object array of its
    rows, each as given (as scikit-learn's ``SVC`` passes them), where numpy cannot stack them
    (sequences of different lengths) or would change their values' types: rows mixing strings
    with numbers (a record ``("apple", 1.5)`` became two strings: a review). Anything else is
    returned as it is: a list of strings, or of numeric rows (tuples from ``zip`` too), which
    numpy stacks into a table of numbers (integers beside floats become floats, as in a list
    of lists)."""
    if not isinstance(X, (list, tuple)):
        return X
    try:
        stacked = np.asarray(X)
    except ValueError:  # rows of different lengths
        stacked = None
    mixed = (
        stacked is not None
        and stacked.ndim >= 2
        and stacked.dtype.kind in "US"
        and not all(isinstance(v, str) for row in X for v in np.ravel(np.asarray(row, object)))
    )
    if stacked is None or mixed:
        rows = np.empty(len(X), dtype=object)
        for i, row in enumerate(X):
            rows[i] = row
        return rows
    return X


def callable_kernel_input(two_d: bool) -> dict:
    """The options of scikit-learn's ``check_array`` for an ``X`` that a callable kernel reads
    (after :func:`callable_kernel_rows`).

    Only the callable reads it, as in scikit-learn's ``SVC``: any dtype (integer indices into a
    table stay integers, strings for a string kernel stay strings), any number of dimensions (a
    plain list of strings, 3-D time series, ragged sequences), NaN and inf left to the kernel,
    whose matrix is checked instead (:meth:`KernelSpec.matrix`). ``X`` is still indexed by its
    rows and counted against ``y``; ``two_d``: rows of features, whose number ``validate_data``
    records in ``n_features_in_`` (fit) and checks (predict), with scikit-learn's message for
    a 1-D ``X``. (Sequences that all have the same length read as such a table: predict then
    wants that length; an object array of them keeps them free, as ragged ones are.)
    """
    return {"dtype": None, "ensure_2d": two_d, "allow_nd": True, "ensure_all_finite": False}


def is_two_d(X) -> bool:
    """Whether ``X`` (after :func:`callable_kernel_rows`) is a table of rows and columns."""
    return sparse.issparse(X) or np.ndim(X) == 2


def _private_copy(A):
    """A copy of ``A`` (dense or sparse) for a callable kernel: whatever it does to its
    arguments stays away from the caller's data. (Read-only views were tried first, but compiled
    kernels such as scikit-learn's ``chi2_kernel`` refuse read-only buffers even though they
    never write.) The copy costs ``O(n p)`` against the kernel's ``O(n m p)``."""
    # (an array of Python objects, such as ragged sequences, is copied, not its objects: a
    # kernel may look rows up by identity, or hold rows that cannot be copied; a review)
    return A.copy() if sparse.issparse(A) else np.array(A, copy=True)


def row_blocks(n_rows: int, n_cols: int, max_bytes: int = PREDICT_BLOCK_BYTES):
    """Slices of ``range(n_rows)`` such that a float64 block of ``n_cols`` columns fits ``max_bytes``."""
    step = max(1, int(max_bytes // (8 * max(n_cols, 1))))
    for start in range(0, n_rows, step):
        yield slice(start, min(n_rows, start + step))


def _entry_variance(X):
    """The variance of all entries of ``X`` (a sparse matrix's zeros counted), computed in float64
    whatever the dtype of ``X``, and the largest ``|x|``; the variance is inf or NaN when the sum
    or the squares overflow."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        if sparse.issparse(X):  # two passes over the stored entries; the zeros in closed form
            size = X.shape[0] * X.shape[1]
            data = X.data
            zeros = size - data.size
            mean = np.float64(data.sum(dtype=np.float64)) / size
            variance = np.sum((data - mean) ** 2) + (zeros * mean**2 if zeros else 0.0)
            return float(variance / size), float(np.abs(data).max(initial=0.0))
        return float(X.var(dtype=np.float64)), float(np.abs(X).max(initial=0.0))


def resolve_gamma(gamma, X) -> float:
    """The numeric ``gamma``: ``"scale"`` is ``1 / (n_features * X.var())``, ``"auto"`` is ``1 / n_features``.

    ``X`` is a 2-D array or sparse matrix of real numbers with at least one column (and one row,
    for ``"scale"``); a number ``gamma`` must be finite and positive. ``X.var()`` is the variance
    of all entries of ``X`` (sparse matrices included, zeros counted), as in scikit-learn. A
    constant ``X`` (variance 0) gives ``gamma = 1``, scikit-learn's choice; so does a variance
    within the rounding of its computation (``X`` full of 0.1, which float64 does not hold
    exactly, has a computed variance of 1.9e-34, and its ``gamma`` of 5e33 made the polynomial
    kernel overflow, in scikit-learn too). The variance is computed in float64 (float32 input
    included), entries whose squares leave float64's normal range scaled by a power of two
    first; a ``gamma`` beyond float64's range (below the smallest float for entries of 1e300,
    above the largest for entries of 1e-160) is a ``ValueError``.
    """
    if not sparse.issparse(X):
        X = np.asarray(X)
    if X.ndim != 2 or X.dtype.kind not in "biuf":
        raise ValueError(
            f"X must be a 2-D array of real numbers, got shape {X.shape} and dtype {X.dtype}."
        )
    n_features = X.shape[1]
    if isinstance(gamma, str):
        if gamma not in ("scale", "auto"):
            raise ValueError(f"gamma must be 'scale', 'auto' or a positive number; got {gamma!r}.")
        if n_features == 0 or (gamma == "scale" and X.shape[0] == 0):
            raise ValueError(f"gamma={gamma!r} needs a non-empty X; got shape {X.shape}.")
        if gamma == "auto":
            return 1.0 / n_features
        if sparse.issparse(X):
            X = canonical_sparse(sparse.csr_array(X))  # duplicates summed, on a copy
        variance, largest = _entry_variance(X)
        if not math.isfinite(largest):
            raise ValueError("X contains NaN or infinity; gamma='scale' needs finite values.")
        exponent = 0
        if not math.isfinite(variance) or (0.0 < largest and variance < np.finfo(np.float64).tiny):
            # sums or squares beyond float64's normal range: again in units of 2**exponent
            # (exactly: np.ldexp scales each entry, subnormal ones included)
            exponent = math.frexp(largest)[1]
            if sparse.issparse(X):
                X = X.copy()
                X.data = np.ldexp(X.data.astype(np.float64), -exponent)
            else:
                X = np.ldexp(X.astype(np.float64), -exponent)
            variance, largest = _entry_variance(X)
        # each deviation from the mean is off by about eps |mean| <= eps max |x| (compared as a
        # standard deviation: the square of 8 eps max |x| overflows for features near 1e300)
        rounding = 8 * np.finfo(np.float64).eps * largest
        if not math.sqrt(variance) > rounding:
            return 1.0
        try:
            gamma = math.ldexp(1.0 / (n_features * variance), -2 * exponent)
        except OverflowError:
            gamma = math.inf
        if gamma == 0.0 or math.isinf(gamma):
            order = math.log10(variance) + 2 * exponent * math.log10(2.0)
            beyond = "underflows to 0" if gamma == 0.0 else "overflows"
            raise ValueError(
                f"gamma='scale' is 1 / (n_features * X.var()) with X.var() about 10**{order:.0f}: "
                f"it {beyond} in float64. Scale the features."
            )
        return gamma
    if isinstance(gamma, bool) or not isinstance(gamma, Real):
        raise ValueError(f"gamma must be 'scale', 'auto' or a positive number; got {gamma!r}.")
    gamma = as_float(gamma)
    if not (gamma > 0 and math.isfinite(gamma)):  # also rejects NaN
        raise ValueError(f"gamma must be a finite positive number; got gamma={gamma!r}.")
    return gamma


def fitted_kernel(model):
    """A kernel SVM's kernel: for mlbasics' SVC the one it was fitted with (its ``KernelSpec``,
    whatever ``set_params`` said since; an rbf model given ``kernel="linear"`` predicted with
    the linear shortcut: a review), else (before a fit, or scikit-learn's SVC) its parameter."""
    spec = getattr(model, "_kernel_spec", None)
    return model.kernel if spec is None else spec.kernel


def _real(value):
    """``value`` as a float when it is a real number (not a bool), else None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        return None
    return as_float(value)


def _summed(X):
    """A sparse ``X`` with its repeated entries summed (a copy then), anything else as it is."""
    if sparse.issparse(X) and not getattr(X, "has_canonical_format", True):
        X = X.copy()
        X.sum_duplicates()
    return X


@dataclass(frozen=True)
class KernelSpec:
    """A resolved kernel: what it is and the numbers it needs.

    Attributes
    ----------
    kernel : str or callable
        "linear", "poly", "rbf", "sigmoid", "precomputed" or a callable ``k(X, Z) -> ndarray``.
    gamma, coef0 : float
        Parameters of the named kernels (``gamma`` already resolved to a number).
    degree : int
        Degree of the polynomial kernel, from 0 to ``2**63 - 1`` (the compiled kernels take it as
        a 64-bit integer).

    Raises
    ------
    ValueError
        For a kernel that is none of the above, or a degree out of that range.
    """

    kernel: object
    gamma: float = 1.0
    coef0: float = 0.0
    degree: int = 3

    def __post_init__(self):
        if not (callable(self.kernel) or self.kernel == "precomputed" or self.is_named):
            raise ValueError(
                f"kernel must be one of {sorted(NAMED_KERNELS)}, 'precomputed' or a callable; "
                f"got {self.kernel!r}."
            )
        if (
            not isinstance(self.degree, Integral)
            or isinstance(self.degree, bool)
            or not 0 <= self.degree <= np.iinfo(np.int64).max
        ):  # (a degree of 2.5 gave NaN in matrix and a degree of 2 in the compiled rows)
            raise ValueError(
                f"degree must be an integer from 0 to 2**63 - 1 (the compiled kernels take it as a "
                f"64-bit integer); got degree={self.degree!r}."
            )
        if self.kernel in ("rbf", "poly", "sigmoid"):
            gamma = _real(self.gamma)  # (None for "scale", "auto" and other non-numbers)
            if gamma is None or not (math.isfinite(gamma) and gamma > 0.0):
                raise ValueError(
                    f"gamma must be a positive finite number for the {self.kernel} kernel "
                    f"(resolve 'scale' or 'auto' first: mlbasics.kernels.resolve_gamma); got "
                    f"gamma={self.gamma!r}."
                )
        if self.kernel in ("poly", "sigmoid"):
            coef0 = _real(self.coef0)
            if coef0 is None or not math.isfinite(coef0):
                raise ValueError(f"coef0 must be a finite number; got coef0={self.coef0!r}.")

    @property
    def code(self) -> int:
        """Integer code of the compiled row routines; precomputed and callable kernels share one."""
        if isinstance(self.kernel, str):
            return NAMED_KERNELS.get(self.kernel, PRECOMPUTED_CODE)
        return PRECOMPUTED_CODE

    @property
    def is_named(self) -> bool:
        return isinstance(self.kernel, str) and self.kernel in NAMED_KERNELS

    def _pairwise_params(self) -> dict:
        return {
            "linear": {},
            "poly": {"gamma": self.gamma, "degree": self.degree, "coef0": self.coef0},
            "rbf": {"gamma": self.gamma},
            "sigmoid": {"gamma": self.gamma, "coef0": self.coef0},
        }[self.kernel]

    def matrix(self, X, Z) -> np.ndarray:
        """The kernel matrix ``K[a, b] = k(X[a], Z[b])``: float64, or float32 for a named kernel
        on float32 rows (scikit-learn's pairwise kernels keep that type; SVC passes float64).

        A callable kernel is checked: it must return a finite real array of shape
        ``(X.shape[0], Z.shape[0])``; anything else is a ``ValueError`` saying what came back. It
        gets copies of ``X`` and ``Z`` (often the caller's own arrays), so a kernel that writes
        into its arguments cannot change them.
        """
        if self.kernel == "precomputed":
            raise ValueError(
                "a precomputed kernel has no matrix to compute; pass the matrix itself"
            )
        if X.shape[0] == 0 or Z.shape[0] == 0:  # e.g. a model without support vectors
            return np.zeros((X.shape[0], Z.shape[0]))
        if self.is_named:
            # (scikit-learn's row norms read a sparse matrix's stored entries as they are: a
            # repeated entry counted once there and twice in the products, rbf 0.94 off: a review)
            X, Z = _summed(X), _summed(Z)
            return pairwise_kernels(X, Z, metric=self.kernel, **self._pairwise_params())
        K = self.kernel(_private_copy(X), _private_copy(Z))
        if sparse.issparse(K):
            K = K.toarray()
        K = np.asarray(K)
        if np.iscomplexobj(K):  # a cast to float64 would drop the imaginary parts (ComplexWarning)
            raise ValueError(
                f"the kernel callable returned complex values (dtype {K.dtype}); a kernel matrix "
                "is real."
            )
        K = np.asarray(K, dtype=np.float64)
        expected = (X.shape[0], Z.shape[0])
        if K.shape != expected:
            raise ValueError(
                f"the kernel callable returned an array of shape {K.shape}; "
                f"expected (n_samples_X, n_samples_Z) = {expected}."
            )
        if not np.all(np.isfinite(K)):
            raise ValueError("the kernel callable returned NaN or infinite values.")
        return K

    def diagonal(self, X) -> np.ndarray:
        """``k(x_i, x_i)`` for every row of ``X`` (named kernels), computed without the full matrix."""
        sq = squared_norms(X)
        if self.kernel == "linear":
            return sq
        if self.kernel == "poly":
            return (self.gamma * sq + self.coef0) ** self.degree
        if self.kernel == "rbf":
            return np.ones(X.shape[0])
        if self.kernel == "sigmoid":
            return np.tanh(self.gamma * sq + self.coef0)
        raise ValueError(f"diagonal() needs a named kernel, not {self.kernel!r}")

    def blocks(self, X, Z, max_bytes: int = PREDICT_BLOCK_BYTES, *, block=None):
        """Yield ``(rows, K[rows])`` for row slices of ``X``, each block under ``max_bytes``.

        Used at prediction time so that ``decision_function`` on a large ``X`` never forms the whole
        ``n_test x n_support`` matrix, and wherever a solver or a certificate needs ``K v``.

        ``block(A, Z)`` computes one block, ``K(A, Z)`` for ``A = X[rows]``; by default
        :meth:`matrix` (scikit-learn's arithmetic). :class:`~mlbasics.SVC` predicts with its own
        for the named kernels (one BLAS product per block, finished by compiled code,
        :func:`mlbasics.svm._classes.kernel_block`), through the same blocks.
        """
        block = self.matrix if block is None else block
        for rows in row_blocks(X.shape[0], Z.shape[0], max_bytes):
            yield rows, block(X[rows], Z)
