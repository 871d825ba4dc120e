"""One BLAS thread around a solve, without side effects on concurrent fits.

The batched SMO (:mod:`mlbasics.svm._batched`) and the cvxpy working sets
(:mod:`mlbasics.svm._qp`) do their matrix products and factorisations on blocks of a few hundred
rows, where OpenBLAS's threads cost more than they save; with another job on the second core they
spin against it (a 300 x 300 eigendecomposition took 1.5 s instead of 13 ms). So those solves run
with BLAS held to one thread.

OpenBLAS's thread count (its pthreads build, the one of the numpy and scipy wheels) belongs to
the whole process, and threadpoolctl saves it and puts it back around a block. Two fits that
overlap in threads (joblib's threading backend, a user's thread pool) would each save and restore
it, and when the first to start ended first, the other put back the *limited* value it had seen:
the process stayed on one BLAS thread for good (threadpoolctl 3.8 lets one "controlling" thread
at a time change OpenBLAS, which does not prevent it). So only the main thread limits BLAS, where
its blocks nest in order; a fit in another thread runs with the process's setting as it is.
"""

from __future__ import annotations

import contextlib
import threading

from threadpoolctl import threadpool_limits


@contextlib.contextmanager
def one_blas_thread():
    """Run the block with BLAS on one thread when called from the main thread (see the module)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
