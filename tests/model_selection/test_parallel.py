"""Parallel runs: the same numbers for any n_jobs or backend, a progress bar, clean Ctrl-C."""

import os
import sys
import textwrap
import time

import joblib
import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from mlbasics.model_selection import bias_variance_decomposition, compare_estimators
from mlbasics.model_selection._parallel import parallel_map

from ._interrupt import interrupt_when_ready


def _randomised_estimators():
    # random_state=None everywhere: the numbers depend on the seeds compare_estimators hands out
    return {
        "sgd": SGDClassifier(loss="log_loss"),
        "tree": DecisionTreeClassifier(max_features=3),
        "nb": GaussianNB(),
    }


def test_n_jobs_2_gives_the_numbers_of_n_jobs_1(breast_cancer):
    X, y = breast_cancer
    one = compare_estimators(_randomised_estimators(), X, y, cv=5, random_state=0, n_jobs=1)
    two = compare_estimators(_randomised_estimators(), X, y, cv=5, random_state=0, n_jobs=2)
    np.testing.assert_array_equal(one.scores, two.scores)
    np.testing.assert_array_equal(one.pvalues, two.pvalues)


def test_threading_backend_gives_the_same_numbers(breast_cancer):
    X, y = breast_cancer
    one = compare_estimators(_randomised_estimators(), X, y, cv=4, random_state=1)
    with joblib.parallel_config(backend="threading", n_jobs=2):
        threads = compare_estimators(_randomised_estimators(), X, y, cv=4, random_state=1)
    np.testing.assert_array_equal(one.scores, threads.scores)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_backend_that_cannot_stream_results_gives_the_same_numbers(breast_cancer, n_jobs):
    # joblib's multiprocessing backend refuses return_as="generator_unordered" (even for
    # n_jobs=1): every loop raised its ValueError (a review); scikit-learn's cross_validate runs.
    X, y = breast_cancer
    one = compare_estimators(_randomised_estimators(), X, y, cv=4, random_state=1)
    seen = []
    with joblib.parallel_config(backend="multiprocessing", n_jobs=n_jobs):
        processes = compare_estimators(_randomised_estimators(), X, y, cv=4, random_state=1)
        rounds = bias_variance_decomposition(
            DecisionTreeClassifier(), X[::2], y[::2], X[1::2], y[1::2], loss="0-1", n_rounds=3,
            random_state=0,
        )  # fmt: skip
        parallel_map(_echo, [(k,) for k in range(5)], on_result=lambda i, v: seen.append((i, v)))
    np.testing.assert_array_equal(one.scores, processes.scores)
    reference = bias_variance_decomposition(
        DecisionTreeClassifier(), X[::2], y[::2], X[1::2], y[1::2], loss="0-1", n_rounds=3,
        random_state=0,
    )  # fmt: skip
    assert rounds.expected_loss == reference.expected_loss
    assert sorted(seen) == [(k, k) for k in range(5)]


def _echo(value):
    return value


def _compare_on_dask(X, y, **cluster_kwargs):
    distributed = pytest.importorskip("distributed")
    ref = compare_estimators(_randomised_estimators(), X, y, cv=4, random_state=2, n_jobs=1)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=None, **cluster_kwargs
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_config(backend="dask"):
            res = compare_estimators(_randomised_estimators(), X, y, cv=4, random_state=2)
        workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    np.testing.assert_array_equal(res.scores, ref.scores)
    np.testing.assert_array_equal(res.pvalues, ref.pvalues)
    return workers


def test_compare_on_an_in_process_dask_cluster_matches_n_jobs_1(breast_cancer):
    X, y = breast_cancer
    workers = _compare_on_dask(X, y, processes=False)
    assert all(address.startswith("inproc://") for address in workers)


@pytest.mark.slow
def test_compare_on_a_loopback_dask_cluster_of_processes_matches_n_jobs_1(breast_cancer):
    X, y = breast_cancer
    workers = _compare_on_dask(X, y, processes=True, host="127.0.0.1")
    assert all(address.startswith("tcp://127.0.0.1:") for address in workers)


def test_verbose_shows_a_progress_bar_over_the_fits(capsys, breast_cancer):
    pytest.importorskip("tqdm")
    X, y = breast_cancer
    compare_estimators({"a": GaussianNB(), "b": GaussianNB()}, X, y, cv=3, verbose=1)
    err = capsys.readouterr().err
    assert "6/6" in err and "100%" in err
    bias_variance_decomposition(
        GaussianNB(), X[:300], y[:300], X[300:], y[300:], loss="0-1", n_rounds=4, verbose=1
    )
    err = capsys.readouterr().err
    assert "rounds" in err and "4/4" in err


def test_verbose_0_prints_nothing(capsys, breast_cancer):
    X, y = breast_cancer
    compare_estimators({"a": GaussianNB(), "b": GaussianNB()}, X, y, cv=3)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


CHILD = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    from sklearn.base import BaseEstimator, ClassifierMixin
    from mlbasics.model_selection import compare_estimators

    class Sleeper(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            with open(sys.argv[1], "a") as f:
                f.write(f"{os.getpid()}\\n")
            time.sleep(120)
            self.classes_ = np.unique(y)
            return self

        def predict(self, X):
            return np.full(len(X), self.classes_[0])

    X = np.random.default_rng(0).standard_normal((40, 2))
    y = np.array([0, 1] * 20)
    try:
        compare_estimators({"a": Sleeper(), "b": Sleeper()}, X, y, cv=4, n_jobs=2)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    """
)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_ctrl_c_stops_the_run_and_leaves_no_worker_processes(tmp_path):
    def pids(journal):
        return {int(p) for p in journal.split()}

    # ready once two worker processes have written their pid
    state, child_pid, returncode, out = interrupt_when_ready(
        tmp_path, CHILD, lambda j: len(pids(j)) == 2
    )
    workers = pids(state)
    assert child_pid not in workers  # the fits run in worker processes
    assert returncode == 130 and "interrupted" in out
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


def test_verbose_without_tqdm_is_a_clear_import_error(monkeypatch, breast_cancer):
    X, y = breast_cancer
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match=r"progress bar with tqdm.*pip install tqdm"):
        compare_estimators({"a": GaussianNB(), "b": GaussianNB()}, X, y, cv=3, verbose=1)
