"""Small estimators (and a recording callback) that expose what the model-selection tools do.

The data of these tests carry the row number in column 0, so an estimator can see exactly which
rows it was fitted on and which it was asked to predict.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.callback import CallbackSupportMixin, with_callbacks
from sklearn.callback._transport import open_listener, send


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


class Steps(CallbackSupportMixin, RegressorMixin, BaseEstimator):
    """Predicts the mean of y after ``n_steps`` iterations, each reported as one callback subtask.

    The task tree of one fit is known by hand: the fit, and ``n_steps`` leaves under it.
    """

    def __init__(self, n_steps=3):
        self.n_steps = n_steps

    @with_callbacks
    def fit(self, X, y):
        context = self._init_callback_context(max_subtasks=self.n_steps)
        context.call_on_fit_task_begin(estimator=self, X=X, y=y)
        for _ in range(self.n_steps):
            step = context.subcontext(task_name="step")
            step.call_on_fit_task_begin(estimator=self, X=X, y=y)
            step.call_on_fit_task_end(estimator=self, X=X, y=y)
        self.mean_ = float(np.mean(y))
        self.n_iter_ = self.n_steps
        context.call_on_fit_task_end(estimator=self, X=X, y=y)
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


class Interrupted(ClassifierMixin, BaseEstimator):
    """Raises KeyboardInterrupt in fit, as Ctrl-C would."""

    def fit(self, X, y):
        raise KeyboardInterrupt

    def predict(self, X):
        raise AssertionError("never fitted")  # pragma: no cover


class Recorder:
    """A callback that records (hook, estimator class, task path, task name) of every event.

    Events from worker processes come back through scikit-learn's transport, as scikit-learn's
    own test callbacks do, so the record in the calling process is complete for any ``n_jobs``.
    ``propagate=True`` makes it auto-propagated (like ProgressBar): it then follows the fits
    into the estimators that support callbacks.
    """

    def __init__(self):
        self.events = []
        self._handle = open_listener(self.events.append, owner=self)

    def __getstate__(self):
        return {**self.__dict__, "events": []}  # the record stays in the calling process

    def _send(self, hook, estimator, context):
        path = []
        node = context
        while node is not None:
            path.append(node.task_id)
            node = node.parent
        send(self._handle, (hook, type(estimator).__name__, tuple(path[::-1]), context.task_name))

    def setup(self, estimator, context):
        self._send("setup", estimator, context)

    def teardown(self, estimator, context):
        self._send("teardown", estimator, context)

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None):
        self._send("begin", estimator, context)

    def on_fit_task_end(self, estimator, context, *, X=None, y=None):
        self._send("end", estimator, context)

    def count(self, hook, depth=None, estimator=None):
        """Events of ``hook`` at ``depth`` (1: the root) from an ``estimator`` class name."""
        return sum(
            1
            for h, name, path, _ in self.events
            if h == hook
            and (depth is None or len(path) == depth)
            and (estimator is None or name == estimator)
        )

    def names(self, hook, depth):
        return [task for h, _, path, task in self.events if h == hook and len(path) == depth]


class PropagatedRecorder(Recorder):
    """The auto-propagated version: it goes down into every fit that supports callbacks."""

    max_propagation_depth = None
