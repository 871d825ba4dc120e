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

The wheels of numpy and scipy each ship their own OpenBLAS, with a thread pool each. SciPy's
L-BFGS-B makes small BLAS and LAPACK calls into scipy's copy every iteration, and that copy's
threads then spin for a while waiting for more work; numpy's threads, computing the large
products of the objective in between, compete with them for the two cores. Measured on the
``dense-l2`` problem of ``benchmarks/bench_logistic.py`` (100 000 x 100): a product ``X' r``
took 3 ms before the third L-BFGS iteration and 6 to 8 ms after it, slower than on one thread
(4 ms). :func:`scipy_blas_on_one_thread` holds scipy's copy alone to one thread (where scipy
uses numpy's BLAS, as in conda, it does nothing): the products stay at 3 ms.

Long vector products are a third case. OpenBLAS splits a ``ddot`` over its threads from 10 000
elements on (a thin ``gemv`` such as ``ones @ R`` too), and when the other core is busy with
another process the worker waits for a turn on it: on this machine a product of two vectors of
20 000 doubles then took 8 ms, every call, instead of 3 us on a quiet machine, while the same
sum by numpy's own loops (``einsum``) takes 7 us either way. The solvers and the certificates
make a few such products per iteration (the weighted loss, the intercept's balance, conjugate
gradients on 50 000 coefficients), so they use :func:`serial_dot` and
:func:`serial_column_sums`, which never call BLAS.
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np
import scipy
from threadpoolctl import ThreadpoolController, threadpool_limits


@contextlib.contextmanager
def one_blas_thread():
    """Run the block with BLAS on one thread when called from the main thread (see the module)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


_SCIPY_OWN_BLAS = []  # the selection once found: scanning the loaded libraries takes a ms


def _scipy_own_blas():
    """The BLAS libraries loaded from scipy's own install (the wheels' ``scipy.libs``, or inside
    the package), or None; not remembered while None, since scipy may load its BLAS later."""
    if _SCIPY_OWN_BLAS:
        return _SCIPY_OWN_BLAS[0]
    package = os.path.realpath(os.path.dirname(scipy.__file__))
    homes = (package + os.sep, package + ".libs" + os.sep)  # not .../scipy_openblas64/, numpy's
    blas = ThreadpoolController().select(user_api="blas")
    own = [
        c.filepath for c in blas.lib_controllers if os.path.realpath(c.filepath).startswith(homes)
    ]
    if not own:
        return None
    _SCIPY_OWN_BLAS.append(blas.select(filepath=own))
    return _SCIPY_OWN_BLAS[0]


@contextlib.contextmanager
def scipy_blas_on_one_thread():
    """Run the block with scipy's own BLAS on one thread, numpy's untouched (see the module).

    From the main thread only, as :func:`one_blas_thread`.
    """
    own = _scipy_own_blas()
    if own is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    with own.limit(limits=1):
        yield


def serial_dot(a, b) -> float:
    """``sum(a * b)`` over two arrays of the same shape, by numpy's loops, not BLAS (see the
    module: a threaded ``ddot`` waited 8 ms for its worker while another process held the other
    core). Unlike ``@`` it does not raise under ``np.errstate(over="raise")``: an overflow gives
    ``inf`` (the certificate tests its values for it)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:  # einsum would broadcast a single element
        raise ValueError(f"serial_dot of arrays of shapes {a.shape} and {b.shape}")
    return float(np.einsum("i,i->", a.ravel(), b.ravel()))


def serial_column_sums(R):
    """The column sums of a 2-D array, by numpy's loops, not BLAS (``ones @ R`` is a threaded
    ``gemv``; ``R.sum(axis=0)`` on a C-ordered ``R`` is five times slower than this)."""
    return np.einsum("ij->j", R)
