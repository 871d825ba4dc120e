"""Optimality certificates: KKT residuals and duality gaps of fitted models, ours or scikit-learn's.

:func:`check_kkt` reads a fitted model's attributes (duck typing: it imports no estimator), checks
the Karush-Kuhn-Tucker conditions of the problem the model claims to solve on its training data,
and returns a :class:`KKTReport`; :func:`assert_kkt` turns a failed report into an
``AssertionError`` for tests. See :doc:`/theory/duality`.
"""

from ._kkt import assert_kkt, check_kkt, duality_gaps
from ._report import CONDITIONS, KKTReport

__all__ = ["CONDITIONS", "KKTReport", "assert_kkt", "check_kkt", "duality_gaps"]
