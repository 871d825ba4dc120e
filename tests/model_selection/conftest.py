"""Data for the model-selection tests: column 0 carries the row number (see _estimators.py)."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def rows_dataset():
    """120 x 3, column 0 the row number, two unbalanced classes (80 / 40)."""
    rng = np.random.default_rng(3)
    X = np.column_stack([np.arange(120), rng.standard_normal((120, 2))])
    y = np.array([0] * 80 + [1] * 40)
    return X, y
