"""What every solver returns: a small frozen record, never a positional tuple.

A solver knows nothing of scikit-learn. It returns a :class:`SolverResult`; the estimator turns it into
``coef_``, ``n_iter_``, ``objective_`` and ``convergence_``.

Solvers also accept a *hook*, their only window to the outside while they run. It is called as
``hook(iteration, objective, optimality, coef)`` at the starting point (``iteration == 0``) and after
every iteration (an epoch for SGD, a chunk of pair updates for SMO), where ``coef`` is the current
iterate in the solver's own layout, or None when the solver has none to offer cheaply. A true return
value asks the solver to stop there: it returns its current iterate, with ``stopped=True`` and
``converged=False``, unless that iterate met the solver's own stopping rule too (the rule is read
first: a fit converges at the same iteration whether a hook watches or not). The estimators connect hooks to verbose printing and to scikit-learn's callbacks
(:mod:`mlbasics._callbacks`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class Trace:
    """Per-iteration record of a solver run.

    Attributes
    ----------
    objective : ndarray of shape (n_records,)
        Objective value after each iteration (entry 0 is the starting point).
    optimality : ndarray of shape (n_records,)
        The solver's optimality measure at that point. For :class:`~mlbasics.LogisticRegression`:
        the largest gradient entry for a smooth objective, the largest distance of the negative
        gradient to the subdifferential for an L1-penalised one; every solver but SGD stops when
        it is below ``tol`` times the objective's scale (``C`` times the sum of the sample
        weights), SGD records it but stops on the objective's improvement. For
        :class:`~mlbasics.SVC`: the maximal violating pair's gap ``m(alpha) - M(alpha)``, compared
        with ``tol`` itself (unscaled); ``inf`` at the starting point.
    time : ndarray of shape (n_records,)
        Seconds since the solver started.
    """

    objective: np.ndarray
    optimality: np.ndarray
    time: np.ndarray

    def __len__(self) -> int:
        return len(self.objective)


#: The message of a solver stopped by its hook.
STOPPED_BY_HOOK = "stopped by the hook (a callback asked to stop)"


@dataclass
class TraceRecorder:
    """Collects (objective, optimality) pairs with timestamps, and calls an optional hook.

    :meth:`record` returns True once the hook has asked to stop; ``stopped`` remembers it.
    """

    hook: object = None
    stopped: bool = False
    _objective: list = field(default_factory=list)
    _optimality: list = field(default_factory=list)
    _time: list = field(default_factory=list)
    _start: float = field(default_factory=time.perf_counter)

    def record(self, objective: float, optimality: float, coef=None) -> bool:
        """Append one record and call the hook; True when the solver should stop here."""
        self._objective.append(float(objective))
        self._optimality.append(float(optimality))
        self._time.append(time.perf_counter() - self._start)
        if self.hook is not None:
            iteration = len(self._objective) - 1
            if self.hook(iteration, float(objective), float(optimality), coef):
                self.stopped = True
        return self.stopped

    def freeze(self) -> Trace:
        return Trace(
            objective=np.asarray(self._objective),
            optimality=np.asarray(self._optimality),
            time=np.asarray(self._time),
        )


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class SolverResult:
    """Outcome of one solver run.

    Attributes
    ----------
    coef : ndarray
        The solution, in the layout the objective documents.
    n_iter : int
        Number of outer iterations taken.
    converged : bool
        Whether the stopping rule was met (rather than ``max_iter`` or a failed line search).
    objective : float
        Objective value at ``coef``.
    optimality : float
        Final optimality measure (see :attr:`Trace.optimality`), in the units of ``tol`` times the
        objective's scale.
    trace : Trace
        Per-iteration record.
    message : str
        Why the solver stopped, in words.
    stopped : bool
        Whether the hook asked the solver to stop (``converged`` is then False, unless the same
        iteration met the solver's stopping rule).
    method : str
        The method of the last iterations where the solver changed it during the run (Newton-CG
        to ``"newton-cholesky"``, a failed Newton line search to ``"lbfgs"``), else empty.
    """

    coef: np.ndarray
    n_iter: int
    converged: bool
    objective: float
    optimality: float
    trace: Trace
    message: str
    stopped: bool = False
    method: str = ""
