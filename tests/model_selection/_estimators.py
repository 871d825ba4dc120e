"""Small estimators that expose what the model-selection tools hand them (used by the tests).

The data of these tests carry the row number in column 0, so an estimator can see exactly which
rows it was fitted on and which it was asked to predict.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin


class RowRecorder(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; records the row ids (column 0) it was fitted on and scored on."""

    def fit(self, X, y):
        X = np.asarray(X)
        self.fitted_rows_ = X[:, 0].astype(int)
        values, counts = np.unique(y, return_counts=True)
        self.classes_ = values
        self.majority_ = values[np.argmax(counts)]
        return self

    def predict(self, X):
        X = np.asarray(X)
        self.predicted_rows_ = X[:, 0].astype(int)
        return np.full(len(X), self.majority_)


class FailsWithoutRow(ClassifierMixin, BaseEstimator):
    """Majority-class classifier that raises when row ``row`` (column 0) is not in its training set."""

    def __init__(self, row=0):
        self.row = row

    def fit(self, X, y):
        X = np.asarray(X)
        if self.row not in X[:, 0]:
            raise RuntimeError(f"row {self.row} is missing")
        values, counts = np.unique(y, return_counts=True)
        self.classes_ = values
        self.majority_ = values[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)


class MembershipRegressor(RegressorMixin, BaseEstimator):
    """Predicts 1.0 for a row id (column 0) that was in its training set, else 0.0."""

    def fit(self, X, y):
        self.rows_ = set(np.asarray(X)[:, 0].astype(int).tolist())
        return self

    def predict(self, X):
        ids = np.asarray(X)[:, 0].astype(int)
        return np.array([1.0 if i in self.rows_ else 0.0 for i in ids])
