"""Losses of the margin ``z = y * f(x)`` (``y`` in {-1, +1}) and of the softmax, in one place.

Every loss gives its value; the logistic loss also its derivative with respect to the margin, and the
losses of the dual problems and the duality gaps (logistic, hinge, squared hinge) their convex
conjugates. The multinomial (softmax) loss is not a function of a single margin, so it is written on the
matrix of scores instead.

All functions are numerically stable for any finite input: ``exp`` is only taken of numbers that are
not positive (scipy's ``expit`` and numpy's ``logaddexp`` do the same inside), except in
:func:`exponential`, whose value ``exp(-z)`` is itself larger than the largest float for
``z < -709.78``: it returns ``inf`` there, the correctly rounded result, without a warning. So do
:func:`squared_hinge` and :func:`squared_hinge_conjugate` where their squares exceed the largest
float (``z`` or ``u`` below about ``-1.3e154`` and ``-2.7e154``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, xlogy

__all__ = [
    "exponential",
    "hinge",
    "hinge_conjugate",
    "logistic",
    "logistic_conjugate",
    "logistic_derivative",
    "multinomial",
    "multinomial_probabilities",
    "probability_residuals",
    "probability_variances",
    "sigmoid",
    "softmax_jacobian_product",
    "squared_hinge",
    "squared_hinge_conjugate",
    "zero_one",
]


def sigmoid(t):
    """The logistic function ``1 / (1 + exp(-t))``, stable for large ``|t|``."""
    return expit(t)


def logistic(z):
    """Logistic loss ``log(1 + exp(-z))`` of the margin ``z``.

    It is the negative log-likelihood of the label under ``P(y | x) = sigmoid(y f(x))``;
    computed as ``logaddexp(0, -z)`` so that neither large positive nor large negative margins overflow.
    """
    return np.logaddexp(0.0, -np.asarray(z, dtype=float))


def logistic_derivative(z):
    """``d/dz log(1 + exp(-z)) = -sigmoid(-z)``."""
    return -expit(-np.asarray(z, dtype=float))


def logistic_conjugate(u):
    """Convex conjugate ``l*(u)`` of the logistic loss, finite on ``u`` in [-1, 0].

    ``l*(u) = (-u) log(-u) + (1 + u) log(1 + u)`` (the negative binary entropy of ``-u``), with
    ``0 log 0 = 0``. Outside [-1, 0] it is ``+inf``. The duals of logistic regression and of the
    logistic soft-margin SVM are written with it.
    """
    u = np.asarray(u, dtype=float)
    with np.errstate(invalid="ignore"):
        value = xlogy(-u, -u) + xlogy(1.0 + u, 1.0 + u)
    return np.where((u < -1.0) | (u > 0.0), np.inf, value)


def zero_one(z):
    """The 0/1 loss of the margin: 1 when ``z <= 0`` (wrong side or on the boundary), else 0.

    Not convex and with zero derivative almost everywhere; the other losses here are its convex
    surrogates, each an upper bound of it (the logistic one after division by ``log 2``).
    """
    return (np.asarray(z, dtype=float) <= 0.0).astype(float)


def hinge(z):
    """Hinge loss ``max(0, 1 - z)``: the soft-margin SVM's loss, zero beyond the margin ``z >= 1``."""
    return np.maximum(0.0, 1.0 - np.asarray(z, dtype=float))


def hinge_conjugate(u):
    """Convex conjugate of the hinge loss: ``u`` on [-1, 0], ``+inf`` outside.

    In the dual of the soft-margin SVM, ``-C l*(-alpha / C) = alpha`` with ``0 <= alpha <= C``: the
    box constraint and the linear term ``sum alpha`` both come from here.
    """
    u = np.asarray(u, dtype=float)
    return np.where((u < -1.0) | (u > 0.0), np.inf, u)


def squared_hinge(z):
    """Squared hinge loss ``max(0, 1 - z)^2``: differentiable, but grows quadratically with errors.

    ``inf`` without a warning where the square exceeds the largest float (``z`` below about
    ``-1.34e154``).
    """
    with np.errstate(over="ignore"):
        return np.maximum(0.0, 1.0 - np.asarray(z, dtype=float)) ** 2


def squared_hinge_conjugate(u):
    """Convex conjugate of the squared hinge: ``u + u^2 / 4`` for ``u <= 0``, ``+inf`` for ``u > 0``.

    In the dual, ``-C l*(-alpha / C) = alpha - alpha^2 / (4C)``: no upper bound on ``alpha``, and the
    extra ``1 / (2C)`` on the diagonal of the quadratic term. ``inf`` without a warning where
    ``u^2 / 4`` exceeds the largest float (``u`` below about ``-2.68e154``).
    """
    u = np.asarray(u, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):  # (-inf + inf at u = -inf: its limit, inf)
        return np.where((u > 0.0) | (u == -np.inf), np.inf, u + 0.25 * u * u)


def exponential(z):
    """Exponential loss ``exp(-z)`` (AdaBoost's).

    For ``z < -709.78`` the loss exceeds the largest float (about ``1.8e308``) and is returned as
    ``inf``, the correctly rounded value, without numpy's overflow warning: an infinite loss there
    is the right answer, not an error.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.losses import exponential
    >>> exponential(np.array([0.0, -709.0, -710.0]))
    array([1.00000000e+000, 8.21840746e+307,             inf])
    """
    z = np.asarray(z, dtype=float)
    with np.errstate(over="ignore"):
        return np.exp(-z)


# Up to this many columns a row maximum is faster taken column by column (K elementwise maxima over
# contiguous-enough strided columns) than by numpy's reduction along the rows, whose inner loop
# has only K elements: 0.13 against 0.73 ms at 20 000 x 10, 1.2 against 1.0 ms at 20 000 x 50.
ROW_MAX_COLUMN_LOOP = 16


def row_max(S):
    """The maximum of each row of the 2-D array ``S`` (the same values as ``S.max(axis=1)``)."""
    if S.shape[1] > ROW_MAX_COLUMN_LOOP or S.shape[1] == 0:
        return S.max(axis=1)
    top = S[:, 0].copy()
    for k in range(1, S.shape[1]):
        np.maximum(top, S[:, k], out=top)
    return top


def row_sums(S):
    """The sum of each row of the 2-D array ``S``, by ``einsum``'s loops.

    numpy's ``S.sum(axis=1)`` reduces each short row on its own (0.37 ms at 20 000 x 10);
    ``einsum`` takes 0.08 ms. The product with a vector of ones (0.06 ms) is a BLAS call that
    OpenBLAS splits over its threads from about 500 000 entries on, and a thread that must wait
    for a core busy with another process made it 8 ms (:mod:`mlbasics._threads`). Rounding
    differs only in the order of the additions.
    """
    return np.einsum("ij->i", S)


def _check_scores(scores):
    """``scores`` as an array, or a ValueError unless it is 2-D with at least one column."""
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[1] == 0:
        raise ValueError(
            "scores must be a 2-D array of shape (n_samples, n_classes) with n_classes >= 1; got "
            f"shape {scores.shape}."
        )
    return scores


def multinomial(scores, y_onehot):
    """Softmax cross-entropy ``logsumexp(scores_i) - scores_i[y_i]`` per sample.

    Computed as ``(z_t - z_y) + log1p(sum_{k != t} exp(z_k - z_t))`` with ``t`` the row's arg max:
    two non-negative terms, so the loss keeps its relative accuracy when it is tiny (a sample
    classified with a large margin). The textbook ``log(sum_k exp(z_k - z_t)) + z_t - z_y`` takes
    the logarithm of ``1 + tiny`` and cancels: on wine at ``C = 1e18`` it put a fit's objective at
    7259 where it is 21322.

    Parameters
    ----------
    scores : ndarray of shape (n_samples, n_classes)
    y_onehot : ndarray of shape (n_samples, n_classes)
        One-hot encoding of the labels.

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    scores = _check_scores(scores)
    y_onehot = np.asarray(y_onehot)
    if y_onehot.shape != scores.shape:
        raise ValueError(
            f"y_onehot must have the shape of scores {scores.shape}; got {y_onehot.shape}."
        )
    rows = np.arange(scores.shape[0])
    t = scores.argmax(axis=1)
    top = scores[rows, t]
    # (scores more than the largest float below their row's top give -inf, whose exp is 0, and
    # a loss beyond the largest float is inf: the correctly rounded values, without a warning)
    with np.errstate(over="ignore", invalid="ignore"):
        E = np.exp(scores - top[:, None])
        E[rows, t] = 0.0
        picked = np.einsum("ij,ij->i", scores, y_onehot)
        return (top - picked) + np.log1p(row_sums(E))


def probability_residuals(scores, targets, probabilities=None):
    """``P - Y`` without cancellation: ``P`` the sigmoid of a single column of ``scores`` or the
    softmax of its rows, ``Y`` the 0/1 ``targets`` (one-hot for the softmax).

    Where a sample is classified with a large margin ``P`` rounds to ``Y`` (``sigmoid(37) ==
    1.0``), and ``P - Y`` came out exactly 0 where its value is ``exp(-37)``: at a large ``C``
    those residuals, times ``C``, are the whole gradient, and a fit stopped with every margin
    near 37 (about 1e6 times the optimal objective, whose margins were near 54) as converged.
    Here the residual of the label is never formed by a subtraction: ``-sigmoid(-z)`` for a
    positive sample of one column (``sigmoid(z)`` for a negative one), and minus the sum of the
    other classes' probabilities for the softmax (each of them is accurate to its last digits).
    ``probabilities``: the softmax of ``scores``, when the caller has it. The targets must be 0
    or 1 (the formulas use the label's sign); soft targets raise a ValueError.
    """
    scores = _check_scores(scores)
    targets = np.asarray(targets, dtype=float)
    if targets.shape != scores.shape:
        raise ValueError(
            f"targets must have the shape of scores {scores.shape}; got {targets.shape}."
        )
    if not np.all((targets == 0.0) | (targets == 1.0)):
        raise ValueError("targets must be 0 or 1 (one-hot rows for the softmax); got others.")
    if scores.shape[1] == 1:
        sign = 2.0 * targets - 1.0
        return -sign * expit(-sign * scores)
    P = multinomial_probabilities(scores) if probabilities is None else probabilities
    R = P * (1.0 - targets)
    R -= targets * row_sums(R)[:, None]
    return R


def multinomial_probabilities(scores):
    """Softmax of each row of ``scores`` (stable: the row maximum is subtracted first)."""
    scores = _check_scores(scores)
    with np.errstate(over="ignore"):  # (-inf below the row's top by more than the largest float)
        E = np.exp(scores - row_max(scores)[:, None])
    E /= row_sums(E)[:, None]
    return E


def probability_variances(scores, probabilities=None):
    """``P (1 - P)`` entry by entry, ``P`` the sigmoid of a single column of ``scores`` or the
    softmax of its rows: the curvatures of the logistic and multinomial losses (the diagonal of
    the softmax's Jacobian), never rounded to 0 while they are positive.

    ``sigmoid(z) sigmoid(-z)`` for one column; for the softmax, ``1 - P`` of a row's largest
    probability is the sum of the others, not a subtraction (which is exactly 0 past a margin of
    about 37). ``probabilities``: the softmax of ``scores``, when the caller has it.
    """
    scores = _check_scores(scores)
    if scores.shape[1] == 1:
        return expit(scores) * expit(-scores)
    P = multinomial_probabilities(scores) if probabilities is None else probabilities
    rows = np.arange(P.shape[0])
    top = P.argmax(axis=1)
    complement = 1.0 - P
    rest = P.copy()
    rest[rows, top] = 0.0
    complement[rows, top] = row_sums(rest)
    return P * complement


def softmax_jacobian_product(P, V, top=None):
    """``P * (V - <P, V>)`` row by row: the softmax's Jacobian at probabilities ``P`` applied to
    the score directions ``V`` (the multinomial Hessian's products are made of it).

    Written relative to each row's most probable class ``t``, ``(V_k - V_t) - sum_{l != t} P_l
    (V_l - V_t)``, so that ``t``'s own entry is a sum of small terms; the direct ``V_t - <P, V>``
    cancels when ``P_t`` rounds to 1, and its rounding, about ``eps |V|``, swamped the true
    curvature of a sample classified with a large margin. ``top``: ``P.argmax(axis=1)``, when
    the caller has it (one per point, for many products).
    """
    P = np.asarray(P, dtype=float)
    V = np.asarray(V, dtype=float)
    rows = np.arange(P.shape[0])
    if top is None:
        top = P.argmax(axis=1)
    D = V - V[rows, top][:, None]
    return P * (D - np.einsum("ij,ij->i", P, D)[:, None])
