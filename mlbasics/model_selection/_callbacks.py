"""scikit-learn callbacks (:mod:`sklearn.callback`) for the loops of :mod:`mlbasics.model_selection`.

A model-selection function is not an estimator, yet its work is a tree of tasks exactly like a
meta-estimator's: a comparison runs estimators, each on its splits; a bias-variance curve runs
parameter values, each for its rounds. When the caller passes ``callbacks=``, the function makes
a small *run object* (:class:`CompareEstimators`, :class:`KFoldErrors`, ...) that mixes in
:class:`sklearn.callback.CallbackSupportMixin` and owns the root of that tree, and hands the
work to :func:`map_with_callbacks`:

1. In the calling process, the run object opens its root context (which calls ``setup`` on the
   callbacks) and creates *every* sub-context before anything is dispatched: one context per
   group (an estimator, a parameter value) when there are groups, one leaf context per fit.
   Contexts are never created in the workers.
2. Each fit receives its leaf context and runs inside :func:`leaf_task`: if the estimator
   supports callbacks (it has ``set_callbacks``), the leaf context is propagated to it, so
   auto-propagated callbacks such as :class:`~sklearn.callback.ProgressBar` see the estimator's
   own iterations below the fold; otherwise the fold is a leaf task, reported by the run object,
   and nothing is propagated (no warning either).
3. In the calling process again, a group ends when its last fit has returned, and the root ends
   when every fit has. ``teardown`` runs in a ``finally`` (through
   :func:`sklearn.callback.with_callbacks`), so it runs after an error or a Ctrl-C too.

With process-based joblib backends the leaf contexts and the callbacks are pickled to the
workers; scikit-learn's callbacks ship their events back to the calling process themselves
(:mod:`sklearn.callback._transport`). With ``callbacks=None`` none of this exists: the loop is the
plain :func:`~mlbasics.model_selection._parallel.parallel_map` it always was.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from itertools import pairwise

from sklearn.callback import (
    AutoPropagatedCallback,
    CallbackSupportMixin,
    FitCallback,
    ScoringMonitor,
)
from sklearn.callback import with_callbacks as _with_callbacks

from ._parallel import parallel_map


def check_callbacks(callbacks, estimators, names=None) -> list:
    """``callbacks`` (None, one callback, or a list or tuple of them) as a list, checked.

    Raises a ``TypeError`` naming the culprit when an item does not follow scikit-learn's
    ``FitCallback`` protocol (``setup``, ``on_fit_task_begin``, ``on_fit_task_end``,
    ``teardown``), or is a class rather than an instance, or is a
    :class:`~sklearn.callback.ScoringMonitor` (it scores the estimator it is set on, and the
    run has none: it belongs on the estimator); and, when there are callbacks, when one
    of the ``estimators`` (labelled by ``names``) carries auto-propagated callbacks of its own
    (:func:`_check_no_own_auto_callbacks`).
    """
    if callbacks is None:
        return []
    items = list(callbacks) if isinstance(callbacks, list | tuple) else [callbacks]
    for item in items:
        if isinstance(item, type) or not isinstance(item, FitCallback):
            what = f"the class {item.__name__}" if isinstance(item, type) else repr(item)
            raise TypeError(
                "callbacks must be a callback instance or a list of them, following "
                "scikit-learn's FitCallback protocol (methods setup, on_fit_task_begin, "
                f"on_fit_task_end and teardown; sklearn.callback.ProgressBar() is one); got {what}"
            )
        if isinstance(item, ScoringMonitor):
            # its setup builds a scorer for the object it is set on, which must be an estimator
            # (check_scoring failed on the run object, naming KFoldErrors() as the 'estimator')
            raise TypeError(
                "ScoringMonitor scores an estimator during its own fit; a model-selection "
                "function is not one. Set it on the estimator (estimator.set_callbacks("
                "ScoringMonitor(...))): it then logs every fold's fit. The function's own "
                "scores are in its result."
            )
    if items:
        _check_no_own_auto_callbacks(estimators, names)
    return items


def _check_no_own_auto_callbacks(estimators, names=None) -> None:
    """A ``TypeError`` if an estimator carries auto-propagated callbacks of its own.

    scikit-learn refuses to propagate a parent's context into an estimator that already holds
    auto-propagated callbacks (they belong on the outermost caller); saying so here, once,
    beats a failed fit in every fold.
    """
    for k, estimator in enumerate(estimators):
        own = [
            type(cb).__name__
            for cb in getattr(estimator, "_skl_callbacks", [])
            if isinstance(cb, AutoPropagatedCallback)
        ]
        if own:
            label = repr(names[k]) if names is not None else type(estimator).__name__
            raise TypeError(
                f"estimator {label} has auto-propagated callbacks of its own ({', '.join(own)}); "
                "pass them through callbacks= instead and leave the estimator without them"
            )


class _ModelSelectionRun(CallbackSupportMixin):
    """Root of the task tree of one call of a model-selection function (see the module doc).

    Subclasses differ only in their name, which is what progress bars print
    (``CompareEstimators - 3 estimators x 30 splits``).
    """

    def __init__(self, callbacks):
        self.set_callbacks(*callbacks)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __getstate__(self):
        # A run object travels to the workers as the ``estimator`` argument of the hooks. The
        # root context (the whole task tree) and the setup bookkeeping stay in the calling
        # process: a leaf context already carries its path.
        state = self.__dict__.copy()
        state.pop("_callback_fit_ctx", None)
        state.pop("_skl_callbacks_to_teardown", None)
        return state

    @_with_callbacks
    def run(self, function, tasks, *, task_name, leaf_name, groups, X, y, n_jobs, verbose,
            description):  # fmt: skip
        n_top = len(groups) if groups is not None else len(tasks)
        root = self._init_callback_context(
            task_name=task_name, max_subtasks=n_top, sequential_subtasks=False
        )
        root.call_on_fit_task_begin(estimator=self, X=X, y=y)

        # Every context is created here, before dispatch; a group's leaves are consecutive tasks.
        if groups is None:
            leaves = [root.subcontext(task_name=leaf_name, task_id=i) for i in range(len(tasks))]
            owner = [None] * len(tasks)
            group_contexts = []
        else:
            group_contexts, leaves, owner = [], [], []
            for g, (name, size) in enumerate(groups):
                group = root.subcontext(
                    task_name=name, task_id=g, max_subtasks=size, sequential_subtasks=False
                )
                group_contexts.append(group)
                leaves += [group.subcontext(task_name=leaf_name, task_id=j) for j in range(size)]
                owner += [g] * size
            for group in group_contexts:
                group.call_on_fit_task_begin(estimator=self, X=X, y=y)

        remaining = [size for _, size in groups] if groups is not None else []

        def finish(index, _value):
            g = owner[index]
            if g is None:
                return
            remaining[g] -= 1
            if remaining[g] == 0:
                group_contexts[g].call_on_fit_task_end(estimator=self, X=X, y=y)

        shipped = [
            (*task, _ShippedContext(leaf), self) for task, leaf in zip(tasks, leaves, strict=True)
        ]
        results = parallel_map(
            function,
            shipped,
            n_jobs=n_jobs,
            verbose=verbose,
            description=description,
            on_result=finish,
        )
        root.call_on_fit_task_end(estimator=self, X=X, y=y)
        return results


class KFoldErrors(_ModelSelectionRun):
    """Root task of :func:`~mlbasics.model_selection.kfold_errors`: one leaf per fold."""


class CompareEstimators(_ModelSelectionRun):
    """Root task of :func:`~mlbasics.model_selection.compare_estimators`: one task per estimator,
    one leaf per split under it."""


class BiasVarianceDecomposition(_ModelSelectionRun):
    """Root task of :func:`~mlbasics.model_selection.bias_variance_decomposition`: one leaf per
    round."""


class BiasVarianceSweep(_ModelSelectionRun):
    """Root task of :func:`~mlbasics.model_selection.bias_variance_curve`: one task per parameter
    value, one leaf per round under it."""


def map_with_callbacks(function, tasks, *, callbacks, run_class, task_name, leaf_name,
                       groups=None, X=None, y=None, n_jobs=None, verbose=0,
                       description="fits"):  # fmt: skip
    """:func:`parallel_map` of ``function`` over ``tasks``, reported to ``callbacks`` as a task tree.

    Parameters
    ----------
    function : callable
        Called as ``function(*task)`` without callbacks, and as
        ``function(*task, leaf_context, run)`` with them; it runs its fit inside
        :func:`leaf_task`.
    tasks : list of tuple
    callbacks : list
        Checked callbacks (:func:`check_callbacks`); empty means a plain :func:`parallel_map`.
    run_class : type
        The run object's class (its name labels the root task).
    task_name, leaf_name : str
        Names of the root task and of every leaf.
    groups : list of (str, int) or None
        Names and sizes of the middle level (consecutive tasks), or None for leaves directly
        under the root.
    X, y : array-like or None
        The data, passed to the root and group hooks.
    n_jobs, verbose, description
        As in :func:`parallel_map`.
    """
    if not callbacks:
        return parallel_map(
            function, tasks, n_jobs=n_jobs, verbose=verbose, description=description
        )
    tasks = list(tasks)
    if groups is not None and sum(size for _, size in groups) != len(tasks):
        raise ValueError("the group sizes must add up to the number of tasks")
    return run_class(callbacks).run(
        function,
        tasks,
        task_name=task_name,
        leaf_name=leaf_name,
        groups=groups,
        X=X,
        y=y,
        n_jobs=n_jobs,
        verbose=verbose,
        description=description,
    )


class _ShippedContext:
    """A leaf context on its way to a worker: it pickles as its path from the root, not the tree.

    A context holds its parent, and the parent holds all its children, so pickling one leaf
    would carry every context of the run: quadratic in the number of fits. The path (copies of
    the ancestors, each with the next one as its only child) is all a leaf needs: the task ids
    on it address the events, and a propagated estimator attaches its own tree below the leaf.
    Without pickling (``n_jobs=1``, threads) the worker gets the original context.
    """

    def __init__(self, context):
        self.context = context

    def __reduce__(self):
        path = [copy.copy(ctx) for ctx in _path(self.context)]
        for parent, child in pairwise(path):
            parent._children_map = {child.task_id: child}
            child.parent = parent
        path[-1]._children_map = {}
        return (_ShippedContext, (path[-1],))


def _path(context):
    path = [context]
    while path[-1].parent is not None:
        path.append(path[-1].parent)
    return path[::-1]


@contextmanager
def leaf_task(context, caller, model, data=None):
    """Run the body (one fit of ``model``) as the leaf task ``context`` of the run ``caller``.

    With ``context=None`` (no callbacks) it does nothing. Otherwise the leaf task begins, the
    context is propagated to ``model`` if it supports callbacks (``set_callbacks``), and the
    leaf ends in a ``finally``, whether the fit succeeds or raises. ``data`` is ``(X, y)`` of the
    fit (passed to the hooks), or None.
    """
    if context is None:
        yield
        return
    if isinstance(context, _ShippedContext):
        context = context.context
    X, y = (None, None) if data is None else data
    try:
        if hasattr(model, "set_callbacks"):
            with context.propagate_callback_context(model):
                context.call_on_fit_task_begin(estimator=caller, X=X, y=y)
                yield
        else:
            context.call_on_fit_task_begin(estimator=caller, X=X, y=y)
            yield
    finally:
        context.call_on_fit_task_end(estimator=caller, X=X, y=y)
