"""How an mlbasics estimator reports its fit to scikit-learn's callbacks (:mod:`sklearn.callback`).

scikit-learn describes a fit as a tree of *tasks*: the fit itself is the root, and each iteration a
subtask. A callback set with ``set_callbacks`` hears ``on_fit_task_begin`` and ``on_fit_task_end``
for every task (a progress bar moves, a monitor scores the model), and an ``on_fit_task_end`` that
returns True stops the loop it belongs to.

The solvers stay free of scikit-learn: each takes a plain hook (:mod:`mlbasics._result`). The
estimator opens its fit task with :meth:`CallbackSupport._open_fit_task` and turns that task into a
hook with :meth:`FitTask.hook`; every call of the hook after the starting point becomes one subtask.

Timing of the events: a solver calls its hook when an iteration has *finished*, so the subtask of an
iteration is begun and ended in that one call (the begin event carries no model). The tree, the
counts, the models at the end events and stopping are exact; only the begin timestamps of
solver-level iterations are late. Loops that the estimator runs itself (the epochs of
``mlbasics.nn``) send each begin event before the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

from sklearn.callback import CallbackSupportMixin

from ._result import TraceRecorder

__all__ = ["CallbackSupport", "FitTask"]


class CallbackSupport(CallbackSupportMixin):
    """``set_callbacks`` (scikit-learn's) and the opening of the fit task, for every estimator."""

    def _open_fit_task(self, X, y, sample_weight=None, *, max_subtasks=None) -> FitTask:
        """Create the root context of this fit, set the callbacks up and begin the fit task.

        Call it once per fit, inside a method decorated with :func:`sklearn.callback.with_callbacks`
        (which tears the callbacks down however the fit ends). ``max_subtasks`` is the most
        iterations the fit can report (None: not known in advance).
        """
        context = self._init_callback_context(max_subtasks=max_subtasks)
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        task = FitTask(self, context, X, y, metadata)
        context.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
        return task


@dataclass
class FitTask:
    """One task of a fit (the fit itself, a one-vs-one problem, an epoch) and its training data."""

    estimator: object
    context: object
    X: object = None
    y: object = None
    metadata: dict | None = None

    @property
    def watched(self) -> bool:
        """Whether any callback listens (otherwise no subtask is ever created)."""
        return bool(getattr(self.estimator, "_skl_callbacks", None))

    def _events(self):
        return {"estimator": self.estimator, "X": self.X, "y": self.y, "metadata": self.metadata}

    def subtask(self, name, *, max_subtasks=0) -> FitTask:
        """Begin a child task (``max_subtasks=0``: a leaf; None: count not known in advance)."""
        child = self.context.subcontext(task_name=name, max_subtasks=max_subtasks)
        child.call_on_fit_task_begin(**self._events())
        return FitTask(self.estimator, child, self.X, self.y, self.metadata)

    def end(self, reconstruction_attributes=None) -> bool:
        """End this task; True when a callback asks to stop the loop this task belongs to.

        ``reconstruction_attributes`` (a dict, or a function returning one, called only if a
        callback wants a model) are the fitted attributes that make a copy of the estimator
        predict as the fit stood at the end of the task.
        """
        return bool(
            self.context.call_on_fit_task_end(
                **self._events(), reconstruction_attributes=reconstruction_attributes
            )
        )

    def hook(self, name, *, reconstruct=None, echo=None):
        """A solver hook that reports every iteration as a subtask of this task.

        Parameters
        ----------
        name : str
            Name of the iteration subtasks (``"newton iteration"``, ``"sgd epoch"``...).
        reconstruct : callable, optional
            ``(coef, trace) -> dict`` of fitted attributes, from the iterate the solver hands
            its hook and the :class:`~mlbasics._result.Trace` of the run so far (objective and
            optimality at the start and after every iteration); without it callbacks get no
            model mid-fit.
        echo : callable, optional
            Another hook (the ``verbose`` printer), called first with the same arguments.

        Returns
        -------
        callable or None
            ``echo`` itself when no callback listens: with no callbacks a fit pays nothing.
        """
        if not self.watched:
            return echo
        so_far = TraceRecorder()

        def hook(iteration, objective, optimality, coef=None):
            if echo is not None:
                echo(iteration, objective, optimality, coef)
            so_far.record(objective, optimality)
            if iteration == 0:  # the starting point, not an iteration
                return False
            attributes = None
            if reconstruct is not None and coef is not None:
                attributes = lambda: reconstruct(coef, so_far.freeze())  # noqa: E731 (on demand)
            return self.subtask(name).end(attributes)

        return hook
