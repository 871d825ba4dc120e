"""Linear models: :class:`LogisticRegression` and the objective and solvers behind it."""

from ._logistic import LogisticRegression

__all__ = ["LogisticRegression"]
