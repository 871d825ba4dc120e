"""Linear models: :class:`LogisticRegression` and the objective and solvers behind it."""

from ._logistic import LogisticRegression
from ._objective import logistic_objective

__all__ = ["LogisticRegression", "logistic_objective"]
