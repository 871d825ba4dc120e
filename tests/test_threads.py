"""BLAS thread limits around solves (mlbasics/_threads.py)."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import scipy
import scipy.optimize
from threadpoolctl import threadpool_info, threadpool_limits

from mlbasics import LogisticRegression
from mlbasics._threads import _scipy_own_blas

SCIPY_ROOT = os.path.realpath(os.path.dirname(scipy.__file__))


def _threads_by_owner():
    """``{"scipy": [...], "other": [...]}``: thread counts of the BLAS libraries loaded."""
    counts = {"scipy": [], "other": []}
    for info in threadpool_info():
        if info["user_api"] == "blas":
            owner = (
                "scipy" if os.path.realpath(info["filepath"]).startswith(SCIPY_ROOT) else "other"
            )
            counts[owner].append(info["num_threads"])
    return counts


needs_own_copy = pytest.mark.skipif(
    _scipy_own_blas() is None, reason="scipy uses numpy's BLAS here (no copy of its own to limit)"
)


@pytest.fixture
def threads_seen_by_minimize(monkeypatch):
    """The thread counts at every call of scipy.optimize.minimize during the test."""
    seen = []
    original = scipy.optimize.minimize

    def spying(*args, **kwargs):
        seen.append(_threads_by_owner())
        return original(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", spying)
    return seen


@needs_own_copy
def test_lbfgs_holds_scipys_blas_to_one_thread_and_leaves_numpys(
    small_binary, threads_seen_by_minimize
):
    # scipy's L-BFGS-B calls its own OpenBLAS; left on two threads they spin against numpy's
    # threads, which compute the objective's products (module docstring of _threads).
    X, y = small_binary
    seen = threads_seen_by_minimize
    with threadpool_limits(limits=2, user_api="blas"):  # a baseline the limit must change
        baseline = _threads_by_owner()
        assert baseline["scipy"] and max(baseline["scipy"]) == 2
        LogisticRegression(solver="lbfgs").fit(X, y)
        assert seen == [{"scipy": [1] * len(baseline["scipy"]), "other": baseline["other"]}]
        assert _threads_by_owner() == baseline


@needs_own_copy
def test_lbfgs_in_a_worker_thread_changes_no_setting(small_binary, threads_seen_by_minimize):
    # The thread counts are process-wide: only the main thread changes them (as one_blas_thread).
    X, y = small_binary
    seen = threads_seen_by_minimize
    with threadpool_limits(limits=2, user_api="blas"):
        baseline = _threads_by_owner()
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(LogisticRegression(solver="lbfgs").fit, X, y).result(timeout=60)
        assert seen == [baseline]


def test_scipys_own_blas_is_every_blas_but_numpys():
    # numpy's BLAS, as a fresh interpreter that imports numpy alone finds it
    probe = (
        "import json, numpy, threadpoolctl; print(json.dumps([i['filepath'] for i in "
        "threadpoolctl.threadpool_info() if i['user_api'] == 'blas']))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    numpys = {os.path.realpath(p) for p in json.loads(out.stdout)}
    assert numpys
    loaded = {os.path.realpath(i["filepath"]) for i in threadpool_info() if i["user_api"] == "blas"}
    own = _scipy_own_blas()
    selected = set() if own is None else {os.path.realpath(i["filepath"]) for i in own.info()}
    # SCS (through cvxpy) may bring a BLAS of its own: neither numpy's nor scipy's
    others = {p for p in loaded - numpys if "scipy" not in os.path.basename(os.path.dirname(p))}
    assert selected == loaded - numpys - others
