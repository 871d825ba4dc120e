"""mlbasics: classical machine-learning solvers with a scikit-learn API and optimality certificates.

Floors (lower never import upper): ``losses``, ``kernels``, ``optim`` and the objectives (floor 1);
``linear_model`` and ``svm`` (floor 2); ``cli`` (floor 3).
"""

from ._result import SolverResult, Trace
from .linear_model import LogisticRegression
from .svm import SVC

__version__ = "0.1.0"

__all__ = ["SVC", "LogisticRegression", "SolverResult", "Trace", "__version__"]
