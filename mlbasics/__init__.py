"""mlbasics: classical machine-learning solvers with a scikit-learn API and optimality certificates.

Floors (lower never import upper): ``losses``, ``kernels``, ``optim``, the objectives and
``optimality`` (certificates read from any fitted model, floor 1); the estimators of
``linear_model``, ``svm`` and ``nn``, and ``model_selection`` (floor 2); ``plotting`` and ``cli``
(floor 3).
"""

from ._result import SolverResult, Trace
from .linear_model import LogisticRegression
from .svm import SVC

__version__ = "0.1.0"

__all__ = ["SVC", "LogisticRegression", "SolverResult", "Trace", "__version__"]
