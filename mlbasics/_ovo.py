"""libsvm's one-vs-one layout of a fitted SVM, read in one place (floor 1).

Both :class:`mlbasics.SVC` and the checker in :mod:`mlbasics.optimality` (which judges
scikit-learn's SVC too, and may not import an estimator) unpack ``dual_coef_`` with this function.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np


def pair_coefficients(dual_coef, n_support) -> np.ndarray:
    """``W`` of shape (n_SV, n_pairs) with ``decision = K(X, SV) @ W + intercept_``.

    ``dual_coef`` (dense, shape (n_classes - 1, n_SV)) holds ``y_i alpha_i`` with the support
    vectors grouped by class; the pair (a, b) keeps class a's coefficients in row ``b - 1`` and
    class b's in row ``a``. Column p of ``W`` holds the pair's two classes and zeros elsewhere.
    """
    n_classes = len(n_support)
    if n_classes == 2:
        return np.array(dual_coef[:1].T)
    bounds = np.concatenate([[0], np.cumsum(n_support)])
    pairs = list(combinations(range(n_classes), 2))
    W = np.zeros((dual_coef.shape[1], len(pairs)))
    for p, (a, b) in enumerate(pairs):
        ga, gb = slice(bounds[a], bounds[a + 1]), slice(bounds[b], bounds[b + 1])
        W[ga, p] = dual_coef[b - 1, ga]
        W[gb, p] = dual_coef[a, gb]
    return W
