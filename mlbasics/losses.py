"""Losses of the margin ``z = y * f(x)`` (``y`` in {-1, +1}) and of the softmax, in one place.

Every loss gives its value and its derivative with respect to the margin; the convex conjugate used by
the dual problems and the duality gaps lives beside it. The multinomial (softmax) loss is not a function
of a single margin, so it is written on the matrix of scores instead.

All functions are numerically stable for any finite input: no ``exp`` of a large positive number is ever
formed.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, xlogy

__all__ = [
    "logistic",
    "logistic_conjugate",
    "logistic_derivative",
    "multinomial",
    "multinomial_probabilities",
    "sigmoid",
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


def multinomial(scores, y_onehot):
    """Softmax cross-entropy ``logsumexp(scores_i) - scores_i[y_i]`` per sample.

    Parameters
    ----------
    scores : ndarray of shape (n_samples, n_classes)
    y_onehot : ndarray of shape (n_samples, n_classes)
        One-hot encoding of the labels.

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    top = scores.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(scores - top).sum(axis=1)) + top[:, 0]
    return log_norm - np.einsum("ij,ij->i", scores, y_onehot)


def multinomial_probabilities(scores):
    """Softmax of each row of ``scores`` (stable: the row maximum is subtracted first)."""
    E = np.exp(scores - scores.max(axis=1, keepdims=True))
    E /= E.sum(axis=1, keepdims=True)
    return E
