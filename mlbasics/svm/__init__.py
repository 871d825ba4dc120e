"""Kernel support vector machines: :class:`SVC`, solved in the dual by SMO.

``_smo_kernels`` holds the compiled iterations, ``_smo`` the plain-Python driver that returns a
:class:`~mlbasics.svm._dual.DualSolution` (``_batched`` solves the large problems, ``_dual`` holds
what the solvers share), ``_classes`` the estimator (one-vs-one for multiclass).
"""

from ._classes import SVC

__all__ = ["SVC"]
