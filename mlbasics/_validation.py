"""Input checks shared by the classifiers (floor 1): classes and per-sample weights."""

from __future__ import annotations

import numpy as np
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import _check_sample_weight


def classes_and_weights(estimator, X, y, sample_weight):
    """``(classes, y_index, sample_weight, weight)`` for a classifier's ``fit``.

    ``sample_weight`` is the checked, non-negative user weight (ones when None); ``weight`` is it
    times ``estimator.class_weight`` per class. Data with a single class raise a ``ValueError``
    naming the estimator and the class.
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
    if estimator.class_weight is not None:
        per_class = compute_class_weight(
            estimator.class_weight, classes=classes, y=y, sample_weight=sample_weight
        )
        weight = sample_weight * per_class[y_index]
    return classes, y_index, sample_weight, weight
