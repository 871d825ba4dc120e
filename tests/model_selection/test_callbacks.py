"""scikit-learn callbacks through the model-selection functions.

Each function reports its own work as a tree of tasks (a run, then estimators or parameter values,
then folds or rounds) and hands the leaf of each fit to the estimator when it supports callbacks.
The expected numbers of events are counted by hand from that tree plus, for estimators that
report iterations, their ``n_iter_``; :class:`Recorder` brings the events of worker processes
back, so the counts hold for ``n_jobs=2`` as for ``n_jobs=1``.
"""

import pickle
import textwrap
import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC as SkSVC
from sklearn.tree import DecisionTreeClassifier

from mlbasics.linear_model import LogisticRegression
from mlbasics.model_selection import (
    bias_variance_curve,
    bias_variance_decomposition,
    compare_estimators,
    kfold_errors,
)
from mlbasics.model_selection._callbacks import CompareEstimators, _ShippedContext

from ._estimators import FailsWithoutRow, Interrupted, PropagatedRecorder, Recorder, Steps
from ._interrupt import interrupt_when_ready

N_JOBS = [pytest.param(1, id="n_jobs=1"), pytest.param(2, id="n_jobs=2")]


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    return X, X[:, 0] + 0.1 * rng.standard_normal(60)


def _iterations(model):
    """Iteration subtasks one fit reports: mlbasics, one per iteration; scikit-learn's lbfgs, one
    more (its L-BFGS bridge opens the task of the next iteration before scipy stops)."""
    n_iter = int(np.ravel(model.n_iter_)[0])
    return n_iter + 1 if isinstance(model, SkLogisticRegression) else n_iter


def _assert_balanced(rec):
    assert rec.count("setup") == rec.count("teardown") == 1
    assert rec.count("begin") == rec.count("end")


# ---- the task tree of each function ----------------------------------------------------------


@pytest.mark.parametrize("n_jobs", N_JOBS)
def test_compare_reports_run_estimators_splits_and_every_iteration_of_every_fit(data, n_jobs):
    X, y = data
    rec = PropagatedRecorder()
    models = {"mlbasics": LogisticRegression(), "sklearn": SkLogisticRegression()}
    res = compare_estimators(
        models, X, y, cv=3, random_state=0, n_jobs=n_jobs, callbacks=rec, return_estimators=True
    )
    _assert_balanced(rec)
    assert rec.count("begin", depth=1, estimator="CompareEstimators") == 1
    assert rec.names("begin", depth=2) == ["mlbasics", "sklearn"]
    assert rec.count("begin", depth=3) == rec.count("end", depth=3) == 2 * 3
    # the fold is the estimator's fit: its events come from the estimator itself
    assert rec.count("begin", depth=3, estimator="LogisticRegression") == 6
    iterations = sum(_iterations(m) for row in res.estimators for m in row)
    assert rec.count("begin", depth=4) == rec.count("end", depth=4) == iterations
    assert rec.count("begin") == 1 + 2 + 6 + iterations


@pytest.mark.parametrize("n_jobs", N_JOBS)
def test_a_callback_that_is_not_propagated_sees_only_the_tasks_of_the_function(data, n_jobs):
    X, y = data
    rec = Recorder()
    models = {"a": LogisticRegression(), "b": SkLogisticRegression()}
    compare_estimators(models, X, y, cv=3, random_state=0, n_jobs=n_jobs, callbacks=[rec])
    _assert_balanced(rec)
    assert rec.count("begin") == 1 + 2 + 6
    assert rec.count("begin", estimator="CompareEstimators") == 9  # no estimator spoke
    assert set(rec.names("end", depth=3)) == {"split"}


def test_estimators_without_callback_support_are_leaf_tasks_and_raise_no_warning(data):
    X, y = data
    rec = PropagatedRecorder()
    models = {"svc": SkSVC(), "knn": KNeighborsClassifier()}
    assert not any(hasattr(m, "set_callbacks") for m in models.values())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare_estimators(models, X, y, cv=3, random_state=0, callbacks=rec)
    _assert_balanced(rec)
    assert rec.count("begin") == 1 + 2 + 6
    assert rec.count("begin", depth=3, estimator="CompareEstimators") == 6


@pytest.mark.parametrize("n_jobs", N_JOBS)
def test_kfold_errors_reports_one_task_per_fold_with_the_fit_under_it(data, n_jobs):
    X, y = data
    rec = PropagatedRecorder()
    res = kfold_errors(LogisticRegression(), X, y, cv=4, random_state=0, n_jobs=n_jobs,
                       callbacks=rec)  # fmt: skip
    _assert_balanced(rec)
    # the fits are deterministic: refitting on the same rows gives each fold's iteration count
    iterations = sum(
        _iterations(LogisticRegression().fit(X[train], y[train])) for train in res.train_indices
    )
    assert rec.count("begin", depth=1, estimator="KFoldErrors") == 1
    assert rec.count("begin", depth=2, estimator="LogisticRegression") == 4
    assert rec.count("end", depth=3) == iterations
    assert rec.count("begin") == 1 + 4 + iterations


def test_bias_variance_decomposition_reports_one_task_per_round(regression):
    X, y = regression
    rec = PropagatedRecorder()
    bias_variance_decomposition(Steps(n_steps=3), X[:40], y[:40], X[40:], y[40:], n_rounds=5,
                                random_state=0, callbacks=rec)  # fmt: skip
    _assert_balanced(rec)
    assert rec.count("begin", depth=1, estimator="BiasVarianceDecomposition") == 1
    assert rec.count("begin", depth=2, estimator="Steps") == 5
    assert rec.count("begin", depth=3) == 5 * 3
    assert rec.count("begin") == 1 + 5 + 5 * 3


@pytest.mark.parametrize("n_jobs", N_JOBS)
def test_bias_variance_curve_reports_values_then_rounds_then_the_fits(regression, n_jobs):
    X, y = regression
    rec = PropagatedRecorder()
    bias_variance_curve(Steps(), "n_steps", [1, 4], X[:40], y[:40], X[40:], y[40:], n_rounds=3,
                        random_state=0, n_jobs=n_jobs, callbacks=rec)  # fmt: skip
    _assert_balanced(rec)
    assert rec.count("begin", depth=1, estimator="BiasVarianceSweep") == 1
    assert rec.names("begin", depth=2) == ["n_steps=1", "n_steps=4"]
    assert rec.count("begin", depth=3) == 2 * 3
    assert rec.count("begin", depth=4) == 3 * 1 + 3 * 4
    assert rec.count("begin") == 1 + 2 + 6 + 15


def test_a_group_ends_when_its_last_fit_has_returned_and_the_run_ends_last(data):
    X, y = data
    rec = Recorder()
    compare_estimators({"a": SkSVC(), "b": SkSVC()}, X, y, cv=2, random_state=0, callbacks=rec)
    ends = [path for hook, _, path, _ in rec.events if hook == "end"]
    assert ends[-1] == (0,)  # the run
    for group in (0, 1):
        last_leaf = max(i for i, p in enumerate(ends) if p[:2] == (0, group) and len(p) == 3)
        assert ends.index((0, group)) > last_leaf


# ---- the results do not change ---------------------------------------------------------------


def test_compare_gives_the_same_scores_with_and_without_callbacks(data):
    X, y = data
    models = {"mlbasics": LogisticRegression(), "tree": DecisionTreeClassifier()}
    plain = compare_estimators(models, X, y, cv=4, random_state=3)
    watched = compare_estimators(models, X, y, cv=4, random_state=3, callbacks=Recorder())
    np.testing.assert_array_equal(plain.scores, watched.scores)
    np.testing.assert_array_equal(plain.pvalues, watched.pvalues)
    np.testing.assert_array_equal(plain.statistics, watched.statistics)


def test_mcnemar_gets_the_same_predictions_with_and_without_callbacks(data):
    X, y = data
    models = {"lr": LogisticRegression(), "tree": DecisionTreeClassifier()}
    plain = compare_estimators(models, X, y, test="mcnemar", random_state=1)
    watched = compare_estimators(models, X, y, test="mcnemar", random_state=1,
                                 callbacks=PropagatedRecorder())  # fmt: skip
    np.testing.assert_array_equal(plain.statistics, watched.statistics)
    np.testing.assert_array_equal(plain.raw_pvalues, watched.raw_pvalues)


def test_kfold_gives_the_same_train_and_test_scores_with_and_without_callbacks(data):
    X, y = data
    plain = kfold_errors(SkLogisticRegression(), X, y, cv=5, random_state=2)
    watched = kfold_errors(SkLogisticRegression(), X, y, cv=5, random_state=2,
                           callbacks=PropagatedRecorder())  # fmt: skip
    np.testing.assert_array_equal(plain.train_scores, watched.train_scores)
    np.testing.assert_array_equal(plain.test_scores, watched.test_scores)


def test_a_precomputed_kernel_is_split_as_cross_validate_splits_it(data):
    X, y = data
    K = rbf_kernel(X, gamma=0.2)
    model = SkSVC(kernel="precomputed")
    plain = kfold_errors(model, K, y, cv=3, random_state=0)
    watched = kfold_errors(model, K, y, cv=3, random_state=0, callbacks=Recorder())
    np.testing.assert_array_equal(plain.train_scores, watched.train_scores)
    np.testing.assert_array_equal(plain.test_scores, watched.test_scores)


def test_failed_folds_are_recorded_alike_with_and_without_callbacks(rows_dataset):
    X, y = rows_dataset
    kwargs = dict(cv=4, random_state=0)
    with pytest.warns(FitFailedWarning, match="row 0 is missing"):
        plain = kfold_errors(FailsWithoutRow(row=0), X, y, **kwargs)
    rec = Recorder()
    with pytest.warns(FitFailedWarning, match="row 0 is missing"):
        watched = kfold_errors(FailsWithoutRow(row=0), X, y, callbacks=rec, **kwargs)
    np.testing.assert_array_equal(plain.test_scores, watched.test_scores)
    assert np.isnan(watched.test_scores).sum() == 1  # the fold that holds row 0 out
    _assert_balanced(rec)


def test_bias_variance_gives_the_same_predictions_with_and_without_callbacks(regression):
    X, y = regression
    args = (Steps(), "n_steps", [1, 2], X[:40], y[:40], X[40:], y[40:])
    plain = bias_variance_curve(*args, n_rounds=4, random_state=5)
    watched = bias_variance_curve(*args, n_rounds=4, random_state=5, callbacks=Recorder())
    for a, b in zip(plain.results, watched.results, strict=True):
        np.testing.assert_array_equal(a.predictions, b.predictions)


def test_verbose_and_callbacks_work_side_by_side(capsys, data):
    pytest.importorskip("tqdm")
    X, y = data
    rec = Recorder()
    compare_estimators({"a": SkSVC(), "b": SkSVC()}, X, y, cv=3, verbose=1, callbacks=rec)
    assert "6/6" in capsys.readouterr().err
    assert rec.count("end") == 1 + 2 + 6


# ---- teardown on failures --------------------------------------------------------------------


@pytest.mark.parametrize("n_jobs", N_JOBS)
def test_teardown_runs_when_a_fit_raises(rows_dataset, n_jobs):
    X, y = rows_dataset
    rec = PropagatedRecorder()
    # Both estimators fail on one fold each. With n_jobs=2 the results arrive in order of
    # completion, so either failure may be the one raised (b's first, now and then, on a loaded
    # machine): the test is about the teardown, not about which fold failed first.
    with pytest.raises(RuntimeError, match=r"row [01] is missing"):
        compare_estimators({"a": FailsWithoutRow(row=0), "b": FailsWithoutRow(row=1)}, X, y,
                           cv=4, random_state=0, n_jobs=n_jobs, error_score="raise",
                           callbacks=rec)  # fmt: skip
    assert rec.count("setup") == rec.count("teardown") == 1
    assert rec.count("end", depth=1) == 0  # the run did not end; it was torn down


def test_teardown_runs_when_a_bias_variance_round_fails(rows_dataset):
    X, y = rows_dataset
    rec = Recorder()
    # two disjoint halves of rows 40..119 (both classes): the half without row 45 fails
    with pytest.raises(ValueError, match="row 45 is missing"):
        bias_variance_decomposition(FailsWithoutRow(row=45), X[40:], y[40:], X[:40], y[:40],
                                    loss="0-1", n_rounds=2, sampling="disjoint",
                                    callbacks=rec)  # fmt: skip
    assert rec.count("setup") == rec.count("teardown") == 1


def test_teardown_runs_when_the_run_is_interrupted(rows_dataset):
    X, y = rows_dataset
    rec = PropagatedRecorder()
    with pytest.raises(KeyboardInterrupt):
        kfold_errors(Interrupted(), X, y, cv=3, callbacks=rec)
    assert rec.count("setup") == rec.count("teardown") == 1
    assert rec.count("end", depth=2) == 1  # the interrupted fold still ended


# ---- ProgressBar -----------------------------------------------------------------------------


def test_progress_bar_over_a_comparison_in_two_processes(data, capsys):
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    X, y = data
    models = {
        "mlbasics": LogisticRegression(),
        "pipeline": make_pipeline(StandardScaler(), SkLogisticRegression()),
        "svc": SkSVC(),
    }
    plain = compare_estimators(models, X, y, cv=3, random_state=0, n_jobs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shown = compare_estimators(models, X, y, cv=3, random_state=0, n_jobs=2,
                                   callbacks=ProgressBar())  # fmt: skip
    np.testing.assert_array_equal(plain.scores, shown.scores)
    out = capsys.readouterr().out
    assert "CompareEstimators - 3 estimators x 3 splits" in out
    assert "split | LogisticRegression - fit" in out and "split | Pipeline - fit" in out


def test_progress_bar_over_a_bias_variance_curve(regression, capsys):
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    X, y = regression
    bias_variance_curve(Steps(), "n_steps", [1, 2], X[:40], y[:40], X[40:], y[40:], n_rounds=3,
                        callbacks=ProgressBar())  # fmt: skip
    out = capsys.readouterr().out
    assert "BiasVarianceSweep - Steps over n_steps" in out and "n_steps=2" in out


# ---- bad input -------------------------------------------------------------------------------


class _HalfCallback:
    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass


@pytest.mark.parametrize(
    "bad, shown",
    [
        ("progress", "'progress'"),
        (Recorder, "the class Recorder"),
        (_HalfCallback(), "_HalfCallback"),
        ([Recorder(), 3], "got 3"),
    ],
    ids=["a string", "a class", "missing hooks", "a number in the list"],
)
def test_a_callback_that_is_not_a_fit_callback_is_a_type_error(data, regression, bad, shown):
    X, y = data
    Xr, yr = regression
    calls = [
        lambda: kfold_errors(SkSVC(), X, y, callbacks=bad),
        lambda: compare_estimators({"a": SkSVC(), "b": SkSVC()}, X, y, callbacks=bad),
        lambda: bias_variance_decomposition(Steps(), Xr, yr, Xr, yr, callbacks=bad),
        lambda: bias_variance_curve(Steps(), "n_steps", [1], Xr, yr, Xr, yr, callbacks=bad),
    ]
    for call in calls:
        with pytest.raises(TypeError, match="FitCallback protocol") as info:
            call()
        assert shown in str(info.value)


def test_a_scoring_monitor_is_sent_to_the_estimator(data, regression):
    # ScoringMonitor.setup builds a scorer for the object it is set on: on the run object it
    # failed inside scikit-learn ("The 'estimator' parameter of check_scoring ... KFoldErrors()")
    from sklearn.callback import ScoringMonitor

    X, y = data
    Xr, yr = regression
    calls = [
        lambda m: kfold_errors(SkSVC(), X, y, callbacks=m),
        lambda m: compare_estimators({"a": SkSVC(), "b": SkSVC()}, X, y, callbacks=[m]),
        lambda m: bias_variance_decomposition(Steps(), Xr, yr, Xr, yr, callbacks=m),
        lambda m: bias_variance_curve(Steps(), "n_steps", [1], Xr, yr, Xr, yr, callbacks=m),
    ]
    for call in calls:
        with pytest.raises(TypeError, match=r"Set it on the estimator \(estimator.set_callbacks"):
            call(ScoringMonitor(scoring="accuracy"))
    # where it belongs, it logs every fold's fit
    monitor = ScoringMonitor(scoring="accuracy")
    kfold_errors(LogisticRegression().set_callbacks(monitor), X, y, cv=3)
    assert len(monitor.get_logs(select="all")) == 3


def test_an_estimator_with_its_own_propagated_callback_is_refused_before_any_fit(data):
    X, y = data
    noisy = LogisticRegression().set_callbacks(PropagatedRecorder())
    with pytest.raises(TypeError, match="estimator 'noisy' has auto-propagated callbacks"):
        compare_estimators({"noisy": noisy, "quiet": SkSVC()}, X, y, callbacks=Recorder())


# ---- shipping a leaf to a worker -------------------------------------------------------------


def _leaf_of_a_tree(n_leaves):
    """Leaf 3 of group 1 in a run of 2 groups of ``n_leaves`` leaves, and the run's root."""
    run = CompareEstimators([Recorder()])
    root = run._init_callback_context(max_subtasks=2, sequential_subtasks=False)
    groups = [
        root.subcontext(task_name="g", task_id=g, max_subtasks=n_leaves, sequential_subtasks=False)
        for g in range(2)
    ]
    leaves = [[group.subcontext(task_name="split", task_id=j) for j in range(n_leaves)]
              for group in groups]  # fmt: skip
    return leaves[1][3], root


def test_a_leaf_pickles_with_its_path_only_not_the_whole_tree():
    leaf, root = _leaf_of_a_tree(100)
    copy = pickle.loads(pickle.dumps(_ShippedContext(leaf))).context
    assert (copy.task_id, copy.parent.task_id, copy.parent.parent.task_id) == (3, 1, 0)
    assert copy.parent.parent.parent is None and copy.root_uuid == root.root_uuid
    assert copy.task_name == "split" and copy.estimator_name == "CompareEstimators"
    assert len(copy.parent.parent._children_map) == len(copy.parent._children_map) == 1
    assert len(root._children_map) == 2 and len(leaf.parent._children_map) == 100  # untouched
    # the size of a shipped leaf does not grow with the number of fits; a bare leaf's does
    sizes = {n: len(pickle.dumps(_ShippedContext(_leaf_of_a_tree(n)[0]))) for n in (5, 100)}
    assert abs(sizes[100] - sizes[5]) < 50
    assert len(pickle.dumps(_leaf_of_a_tree(100)[0])) > 10 * sizes[100]


def test_threads_share_the_tree_and_give_the_same_counts(data):
    X, y = data
    rec = PropagatedRecorder()
    models = {"a": LogisticRegression(), "b": LogisticRegression(C=0.1)}
    with joblib.parallel_config(backend="threading", n_jobs=2):
        res = compare_estimators(models, X, y, cv=3, random_state=0, callbacks=rec,
                                 return_estimators=True)  # fmt: skip
    _assert_balanced(rec)
    iterations = sum(_iterations(m) for row in res.estimators for m in row)
    assert rec.count("begin") == 1 + 2 + 6 + iterations


# ---- Ctrl-C with worker processes ------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    from sklearn.base import BaseEstimator, ClassifierMixin
    from mlbasics.model_selection import compare_estimators

    class Sleeper(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            with open(sys.argv[1], "a") as f:
                f.write("fit\\n")
            time.sleep(120)
            return self

    class Journal:
        # setup and teardown run in this process; the fold events in the workers are ignored
        def setup(self, estimator, context):
            with open(sys.argv[1], "a") as f:
                f.write("setup\\n")

        def teardown(self, estimator, context):
            with open(sys.argv[1], "a") as f:
                f.write("teardown\\n")

        def on_fit_task_begin(self, estimator, context):
            pass

        def on_fit_task_end(self, estimator, context):
            pass

    callbacks = [Journal()]
    try:
        from sklearn.callback import ProgressBar
        callbacks.append(ProgressBar())  # its teardown stops a thread: it must not hang
    except ImportError:
        pass
    X = np.random.default_rng(0).standard_normal((40, 2))
    y = np.array([0, 1] * 20)
    try:
        compare_estimators({"a": Sleeper(), "b": Sleeper()}, X, y, cv=4, n_jobs=2,
                           callbacks=callbacks)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    """
)


@pytest.mark.slow
def test_ctrl_c_in_a_parallel_run_still_tears_the_callbacks_down(tmp_path):
    # ready once the two workers have started fitting
    _, _, returncode, out = interrupt_when_ready(tmp_path, CHILD, lambda j: j.count("fit") == 2)
    assert returncode == 130 and "interrupted" in out
    lines = (tmp_path / "journal").read_text().split()
    assert lines[0] == "setup" and lines[-1] == "teardown" and lines.count("teardown") == 1
