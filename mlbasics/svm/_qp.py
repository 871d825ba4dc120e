"""The SVM duals written in cvxpy: an independent reference for the SMO solver.

One binary problem, with the conventions of :mod:`mlbasics.svm._smo` (labels ``y`` in {-1, +1},
per-sample bounds ``C_i``, ``f(x) = sum_i y_i alpha_i K(x_i, x) - rho``). The three duals, in the
minimised form the SMO reports:

==============  ===============================================================  =============
loss            objective                                                        constraints
==============  ===============================================================  =============
hinge           ``1/2 ||F'(y a)||^2 - sum a``                                    ``0 <= a <= C``
squared_hinge   ``1/2 ||F'(y a)||^2 + sum a^2 / (4 C) - sum a``                  ``a >= 0``
logistic        ``1/2 ||F'(y a)||^2 - sum (entr(a) + entr(C - a))``              (``0 < a < C``)
==============  ===============================================================  =============

and ``y'a = 0`` in every case, where ``K = F F'`` is a factor of the kernel matrix and
``entr(t) = -t log t``. The raw kernel matrix is never handed to cvxpy as ``quad_form(a, K)``:
cvxpy checks that it is PSD with an iterative eigensolver that fails on RBF matrices, and
``psd_wrap`` on a matrix that is not PSD silently solves a different problem. Everything goes
through the factor, PSD by construction, in one of two forms (:func:`_dense_quadratic`):

* factored, ``1/2 ||F'(y a)||^2`` as ``sum_squares``: disciplined convex programming with no
  check to trust, ``rank(K)`` extra variables; for low-rank factors, the logistic and the
  squared-hinge duals;
* dense, ``1/2 a'Pa`` with ``P = G G'``, ``G = diag(y) F``, as ``quad_form(a, psd_wrap(P))``:
  ``psd_wrap`` asserts what holds by construction (``P`` is a Gram matrix of our factor, whose
  negative pivots were clipped), and Clarabel factors the dense block about twice as fast as the
  factored form's larger KKT system; for the hinge dual with a factor of rank above
  :data:`DENSE_RANK_FRACTION` of the variables (the rbf working sets).

The factor (:func:`kernel_factor`):

* linear kernel with fewer features than samples: ``F = X`` itself (dense or CSR), exact, rank
  ``n_features``;
* any other kernel: the kernel matrix by LAPACK's pivoted Cholesky (``dpstrf``), stopped when the
  largest remaining pivot falls below :data:`FACTOR_RTOL` times the largest diagonal entry, so a
  kernel whose spectrum decays gets a low-rank factor;
* kernels that are not PSD by construction (precomputed, callable, sigmoid, polynomial with
  ``coef0 < 0``) are checked first: an eigenvalue below ``-INDEFINITE_RTOL * lambda_max`` is
  refused (see :data:`INDEFINITE_RTOL`); smaller negative eigenvalues are rounding, and the QP
  solves the problem of ``K+``, ``K`` with them clipped to 0. Pivoted Cholesky stops on the
  remainder's *diagonal*, which bounds the remainder only when it is PSD; for these kernels the
  left-out block is checked, and when its entries exceed that bound (a Gram matrix rounded to
  float32: rank 92 of 300, where the remainder's diagonal had turned negative, -4e-6 to -1e-8,
  beside off-diagonal entries of 4e-6: a review) the factor is taken from the eigendecomposition
  instead, ``F F' = K+`` (:func:`_eigen_factor`); the working sets (below) solve on ``K+``.

The solver's ``alpha`` is then put on the bounds it is within rounding of, every snap's mass
given back to the free variables of its label so that ``y'a = 0`` still holds (:func:`_clean`,
:func:`_rebalance`). The offset ``b`` (``rho = -b``) is libsvm's rule from the margins, or the
solver's multiplier of ``y'a = 0`` where that gives the smaller primal (:func:`_intercept`;
hinge and squared hinge), and the root of the logistic balance (:func:`_logistic_offset`).
Hinge and squared-hinge problems of :data:`WORKING_SET_MIN` samples or more are solved as a
sequence of such QPs on working sets (:func:`_working_sets`), checked against the KKT conditions
of every sample, except a linear kernel with fewer features than samples, solved whole through
``F = X``. All products and
factorisations here run on one BLAS thread: they are of a few hundred rows, and with another job
on the second core OpenBLAS's spinning threads made them up to 100 times slower (a 300 x 300
eigendecomposition: 1.5 s instead of 13 ms). Before anything is built,
:func:`memory_estimate` refuses problems whose dense kernel and factorisation would not fit in
memory.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.linalg import eigh, eigvalsh, lapack
from scipy.special import expit

from .._result import Trace
from .._threads import one_blas_thread
from .._validation import MEMORY_FRACTION, check_memory
from ..kernels import KernelSpec, squared_norms
from ._checks import check_symmetric
from ._dual import DualSolution, logistic_entropy, logistic_link, primal_objective
from ._smo import LOSSES
from ._smo_kernels import FREE, LOGISTIC_EPS, LOWER, UPPER, rho_from_gradient

__all__ = [
    "BADLY_SCALED",
    "FACTOR_RTOL",
    "INDEFINITE_RTOL",
    "MEMORY_FRACTION",
    "PrimalSolution",
    "kernel_factor",
    "memory_estimate",
    "primal_linear_qp",
    "solve_dual_qp",
]

#: Pivoted Cholesky stops when the largest remaining pivot (the largest diagonal entry of the
#: Schur complement ``K - F F'``) is below ``FACTOR_RTOL * max_i K_ii``. The left-out part is PSD
#: with trace at most ``n * FACTOR_RTOL * max_i K_ii``, which bounds the change of the quadratic
#: term ``1/2 v'Kv`` by that times ``||v||^2 / 2``: far below the solvers' tolerance.
FACTOR_RTOL = 1e-12

#: For a kernel that is not PSD by construction, the left-out block of the pivoted Cholesky
#: factor is accepted when its entries are at most this times ``FACTOR_RTOL * max_i K_ii`` (a
#: PSD remainder's are at most the last pivot; the slack covers the rounding of ``K - F F'``).
REMAINDER_SLACK = 10.0

#: A kernel matrix that is not PSD by construction is refused when its smallest eigenvalue is
#: below ``-INDEFINITE_RTOL * lambda_max``. Rounding in a kernel computed in float64 leaves
#: eigenvalues of order ``n * 1e-16 * lambda_max``; one computed in float32, at most about
#: ``sqrt(n) * 1e-7 * max |K_ij|`` (the norm of its rounding errors: -4.9e-7, -2.1e-9 lambda_max,
#: on an rbf matrix of 300 samples). Anything more negative than 1e-6 is a matrix that is not a
#: kernel (an indefinite similarity, a sigmoid kernel outside its PSD range), for which the convex
#: QP would answer a different question than the one asked; SMO (``solver="smo"``) handles such
#: matrices as libsvm does.
INDEFINITE_RTOL = 1e-6

#: Hinge and squared-hinge problems with at least this many samples are solved by working sets
#: (see :func:`_working_sets`); smaller ones, the logistic dual (every sample is a support
#: vector) and a linear kernel with fewer features than samples (factor ``X``), in one QP.
WORKING_SET_MIN = 400

#: Size of the first working set (a fixed random sample): this many samples, or a sixth of them
#: when that is more.
FIRST_WORKING_SET = 250

#: After the first working set, samples with ``|m_i - 1| <= MARGIN_BAND`` join it; later,
#: variables at a bound whose margin is more than ``MARGIN_BAND`` on their side of 1 leave it.
MARGIN_BAND = 0.05

#: After the first working set, the other samples whose margin is below this are fixed at
#: ``C_i`` (hinge loss). The first set's model under-fits (its margins are shrunk: at n = 1 000,
#: 62 % of the other samples have ``m_i < 0.95``, against 42 % at ``C_i`` in the solution), so
#: the threshold sits well below ``1 - MARGIN_BAND``.
PLACE_AT_UPPER_BELOW = 0.5

#: The samples so placed may unbalance ``y'a`` by at most this fraction of the working set's
#: total bound ``sum_B C_i`` (the deepest of the larger side are kept): a first model with a
#: biased offset placed 463 samples with ``sum y_i C_i = 107`` against a working set of 230,
#: whose variables were then all driven to a bound to compensate, and the loop took 15 rounds
#: instead of 7 (benchmark data at n = 1 000 with a first set of 200).
PLACE_IMBALANCE = 0.1

#: At most this many violators (the worst first) join the working set in one round, so that each
#: QP stays near the number of free support vectors plus this.
MAX_NEW_VIOLATORS = 250

#: A round that follows one with more than this many violators is solved at the looser
#: :data:`_LOOSE_OPTIONS` (it only moves the working set); the final round is always tight.
LOOSE_ABOVE = 30

#: The sub-problems' quadratic term is handed to cvxpy as a dense matrix ``P = G G'`` (``G`` the
#: rows of our factor times ``y``, PSD by construction) when the factor's rank is above this
#: fraction of the number of variables; below it, in the factored form.
DENSE_RANK_FRACTION = 0.5

#: A fixed variable violates its KKT condition when its margin is on the wrong side of 1 by more
#: than this (margin units; the sub-problems are solved to about 1e-10).
WORKING_SET_TOL = 1e-7

#: Cap on the rounds of the working-set loop.
MAX_WORKING_SET_ROUNDS = 50

#: A variable within ``BOUND_RTOL * C_i`` of a bound of the box is put on it: interior-point
#: solvers stop at ``alpha_i`` of order ``1e-10 C_i`` instead of 0, and the support vectors of the
#: model are the variables that are not 0.
BOUND_RTOL = 1e-7

#: The logistic dual's gap ``m - M`` (:func:`_mvp_gap`) leaves out the variables within
#: ``LOGISTIC_RESOLVED_RTOL * C_i`` of 0 or ``C_i`` (margins beyond about 23 in absolute value):
#: an interior-point solver resolves them to its absolute accuracy only, and their logit, which
#: the gap reads, to a few per cent (breast cancer, linear kernel, ``C = 0.8``: an ``alpha_i`` of
#: ``3.8e-12 C_i`` gave a gap of 0.006 where the others left 2e-5), though they move the decision
#: function by less than ``1e-10 C_i K_ii``. Where the solver did miss the optimum (``C = 1e8``
#: on standardised data) the gap over the rest is still 0.9 to 11.
LOGISTIC_RESOLVED_RTOL = 1e-10

#: Hinge and squared hinge: the variables whose bound ``C_i`` is below ``UNRESOLVED_BOUND_RTOL``
#: times the largest are beyond the interior point's accuracy (about 1e-12 of the largest
#: ``alpha``): after the solve each is set to its optimum given its margin (:func:`_settle_small`).
UNRESOLVED_BOUND_RTOL = 1e-6
#: The same for the logistic loss (:func:`_settle_unresolved`): solved in ``alpha_i / C_i``
#: (:func:`_dual_problem`'s ``per_bound``, the first form tried) the solver's absolute accuracy
#: is a relative one on ``alpha_i``, and bounds of 2e-6 and 1e-5 of the largest (five samples
#: among 80) ended ``converged_`` False with stationarity residuals of 5e-2, at the optimum to
#: 2e-7.
LOGISTIC_UNRESOLVED_BOUND_RTOL = 1e-4
#: ... on problems whose ``max C_i K_ii`` is at most this (:func:`_settle_small`).
SETTLE_SCALE_LIMIT = 1e10

#: The intercept by libsvm's rule leaves out the variables within ``OFFSET_RELIABLE_RTOL`` of a
#: bound (relative to ``min(C_i, max alpha)``) but not on it (:func:`_libsvm_offset`).
OFFSET_RELIABLE_RTOL = 1e-3

#: Hinge and squared hinge: a variable this close to a bound (relative to ``min(C_i, max
#: alpha)``), whose margin (beyond ``1 +- MARGIN_SNAP_RTOL`` times the kernel term's size, at
#: most 1) puts it elsewhere, is set where the margin asks after the solve
#: (:func:`_snap_by_margin`).
MARGIN_SNAP_RTOL = 1e-4

#: An "optimal_inaccurate" answer is kept (its gap ``m - M`` judges it) when its constraints
#: hold to this times ``max(1, largest |variable|)``; the answers so ended in testing held them
#: to 1e-12 (the loose working-set rounds ask for feasibility 1e-8).
INACCURATE_FEASIBILITY = 1e-6

_SOLVER_NAMES = {"clarabel": "CLARABEL", "osqp": "OSQP", "scs": "SCS"}
#: A solver failure on a problem whose ``max_i C_i * max_i K_ii`` exceeds this is put down to its
#: scale (a ``ValueError`` saying so); below it, to the solver (a ``RuntimeError``). Measured on
#: 40 standardised samples (``K_ii`` about 3 for the linear kernel, 1 for rbf): Clarabel ends the
#: hinge dual (bounded by its box) with the status "unbounded" from ``C = 1e8`` (linear) and
#: ``C = 1e10`` (rbf), the logistic dual fails or reads "infeasible" from ``C = 1e8``, and OSQP and
#: SCS fail on the linear kernel from ``C = 1e8`` as well; every solver answered at ``C = 1e6``.
BADLY_SCALED = 1e7


class _SolverFailure(RuntimeError):
    """A cvxpy solver that failed or ended with a status other than "optimal" (:func:`_solve`)."""


#: Solvers that accept the exponential cone of ``entr`` (the logistic dual); OSQP is a QP solver.
_EXP_CONE = {"clarabel", "scs"}
#: Accuracy asked of each solver (the defaults of OSQP and SCS are ~1e-4, too loose for a
#: reference).
#: Clarabel's gap tolerances are tightened from 1e-8 to 1e-12: interior points keep
#: ``alpha_i (m_i - 1) ~ mu``, and at the default tolerance a variable with ``alpha_i ~ 1e-6 C``
#: still has its margin 1e-3 away from 1 (SMO's whole tolerance); at 1e-12 it costs 2 to 4 more
#: iterations.
_SOLVER_OPTIONS = {
    "clarabel": {
        "tol_gap_abs": 1e-12,
        "tol_gap_rel": 1e-12,
        "tol_feas": 1e-12,
        "tol_ktratio": 1e-10,
    },
    "osqp": {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iter": 200_000, "polishing": True},
    "scs": {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000},
}
#: Looser Clarabel settings tried in turn when the tight ones end "almost solved".
_CLARABEL_FALLBACK = [
    {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10},
    {},
]
#: Settings of the working-set rounds that only move the working set (see :data:`LOOSE_ABOVE`):
#: duality gap 1e-4 and feasibility 1e-8 instead of 1e-12, about 4 interior-point iterations
#: fewer (the next round's right-hand side is recomputed from the fixed values, so nothing of
#: the looser equality carries over).
_LOOSE_OPTIONS = {
    "clarabel": {"tol_gap_abs": 1e-4, "tol_gap_rel": 1e-4, "tol_feas": 1e-8, "tol_ktratio": 1e-4},
}
#: In a loose round, variables within this (relative) of a bound are put on it, so that they can
#: leave the working set; less when that would move their margin by more than
#: :data:`LOOSE_SNAP_MARGIN` (``K_ii`` times the step: a kernel scaled by 1 000 and the relative
#: snap alone, the rounds undid each other's snaps and the loop did not end).
LOOSE_BOUND_RTOL = 1e-3
#: Largest change of a margin that a loose round's snap to a bound may cause (see
#: :data:`LOOSE_BOUND_RTOL`).
LOOSE_SNAP_MARGIN = 1e-3
#: Clarabel's settings for the first attempt at a working-set round: one thread, as their KKT
#: systems are a few hundred rows, where a second thread (or a busy second core) costs more than
#: it saves; and no equilibration (7 to 14 % less CPU on the rbf benchmark at n = 2 000, whose
#: kernel entries lie in (0, 1]); and no iterative refinement of the KKT solves (0.35 s to
#: 0.28 s CPU at n = 1 000 for the same objective to ten digits: the sub-problems' KKT systems,
#: a dense PSD block plus the box, are well conditioned enough that refinement only re-does
#: work). A round that does not end "optimal" with them, or makes Clarabel raise, is solved again
#: with Clarabel's defaults (:func:`_solve`). The whole problems (the logistic dual among them)
#: keep the defaults: the summation order changes the rounding, and the rbf logistic dual at
#: n = 1 000 ends "almost solved" on one thread.
_CLARABEL_SMALL = {
    "max_threads": 1,
    "equilibrate_enable": False,
    "iterative_refinement_enable": False,
}
#: Kernels whose matrix is PSD whatever the data (``poly`` only with ``coef0 >= 0``).
_PSD_BY_CONSTRUCTION = {"linear", "rbf"}


def memory_estimate(
    n_samples: int, rank: int | None = None, *, gram_given: bool = False, dense: bool = True
) -> int:
    """Peak bytes of :func:`solve_dual_qp` on ``n_samples`` samples, factor rank at most ``rank``.

    The parts: the dense kernel matrix (8 n^2, unless the caller already holds it) and the copy
    the factorisation works in (8 n^2), both absent when ``dense=False`` (a linear kernel factored
    by the data themselves); the factor and cvxpy's canonical form of the factored term, stored
    about twice as sparse triplets (8 n r + 2 x 16 n r); and the solver's sparse LDL factor of its
    KKT system, whose dense part has order ``n + r`` (8 (n + r)^2 / 2). ``rank=None`` takes the
    worst case ``r = n``: about 72 n^2 bytes, 290 MB at n = 2 000 and 29 GB at n = 20 000.
    """
    n = int(n_samples)
    r = n if rank is None else int(rank)
    matrices = (8 * n * n if gram_given else 16 * n * n) if dense else 0
    return matrices + 40 * n * r + 4 * (n + r) ** 2


def _check_memory(n: int, rank: int | None, *, gram_given: bool, dense: bool, what: str) -> None:
    check_memory(
        memory_estimate(n, rank, gram_given=gram_given, dense=dense),
        f"solver='qp' on {n} samples ({what}; the dense kernel matrix, its factor and the "
        "interior-point KKT system)",
        "use solver='smo', which keeps only a cache of kernel rows, or fit on fewer samples.",
    )


def _require_solver(qp_solver: str, loss: str):
    import cvxpy as cp  # an optional import point: only solver="qp" needs cvxpy

    if qp_solver not in _SOLVER_NAMES:
        raise ValueError(f"qp_solver must be one of {sorted(_SOLVER_NAMES)}; got {qp_solver!r}.")
    name = _SOLVER_NAMES[qp_solver]
    installed = cp.installed_solvers()
    if name not in installed:
        raise ValueError(
            f"qp_solver={qp_solver!r} needs the {name} solver, which is not installed "
            f"(cvxpy sees: {', '.join(installed)}). Install it (pip install {qp_solver}), choose "
            "another qp_solver, or use solver='smo'."
        )
    if loss == "logistic" and qp_solver not in _EXP_CONE:
        raise ValueError(
            f"the logistic dual has an entropy term (an exponential cone), which "
            f"qp_solver={qp_solver!r} cannot handle: use qp_solver='clarabel' or 'scs'."
        )
    return cp, name


def _check_gram(K: np.ndarray) -> np.ndarray:
    """A finite, symmetric square matrix (symmetrised), or a ValueError saying what is wrong.

    SVC checks the shape and the values itself; this guards direct callers of :func:`solve_dual_qp`."""
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"a precomputed kernel must be a square matrix; got shape {K.shape}.")
    if not np.all(np.isfinite(K)):
        raise ValueError("the kernel matrix contains NaN or infinite values.")
    check_symmetric(K)
    return 0.5 * (K + K.T)


def _check_psd(K: np.ndarray, what: str) -> float:
    """Refuse ``K`` when its smallest eigenvalue is below ``-INDEFINITE_RTOL * lambda_max``;
    return that eigenvalue."""
    eigenvalues = eigvalsh(K, check_finite=False)
    lo, hi = float(eigenvalues[0]), float(eigenvalues[-1])
    if lo < -INDEFINITE_RTOL * max(hi, 0.0) or hi <= 0.0 < np.abs(K).max():
        raise ValueError(
            f"the {what} is not positive semidefinite: smallest eigenvalue {lo:.3g}, largest "
            f"{hi:.3g} (the QP accepts negative eigenvalues down to -{INDEFINITE_RTOL:g} x the "
            "largest, as rounding). The dual is then not a convex problem; use solver='smo' "
            "with the hinge or logistic loss, which handles indefinite kernels as libsvm does, "
            "or correct the matrix (e.g. clip its negative eigenvalues)."
        )
    return lo


def kernel_factor(X, spec: KernelSpec):
    """A factor ``F`` (n x r) with ``K = F F'`` up to :data:`FACTOR_RTOL`, and what it is.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), CSR matrix, or ndarray of shape (n, n)
        Training rows, or the kernel matrix when ``spec.kernel == "precomputed"``.
    spec : KernelSpec
        The kernel.

    Returns
    -------
    F : ndarray or CSR matrix of shape (n_samples, rank)
    description : str
        How it was obtained (for ``verbose`` and error messages).
    """
    F, description, _ = _kernel_factor(X, spec)
    return F, description


def _kernel_factor(X, spec: KernelSpec):
    """:func:`kernel_factor`, and the kernel matrix's smallest eigenvalue when it is negative
    (0 otherwise, and for a kernel PSD by construction): see :func:`_gram`."""
    n = X.shape[0]
    if spec.kernel == "linear" and X.shape[1] < n:
        F = sparse.csr_matrix(X, dtype=np.float64) if sparse.issparse(X) else np.asarray(X)
        return F, f"linear kernel: the data themselves, rank {X.shape[1]}", 0.0
    K, smallest = _gram(X, spec)
    return (*_factor(K, exact_psd=_psd_by_construction(spec)), smallest)


def _psd_by_construction(spec: KernelSpec) -> bool:
    """Whether the kernel's matrices are PSD by construction (up to float64 rounding)."""
    return spec.kernel in _PSD_BY_CONSTRUCTION or (spec.kernel == "poly" and spec.coef0 >= 0)


def _gram(X, spec: KernelSpec) -> tuple[np.ndarray, float]:
    """The kernel matrix, checked: symmetric and finite, and PSD unless so by construction; and
    its smallest eigenvalue when that is negative (the QP solves the problem of the matrix with
    such eigenvalues clipped to 0), 0 otherwise."""
    precomputed = spec.kernel == "precomputed"
    if precomputed:
        K = _check_gram(np.asarray(X, dtype=np.float64))
    else:
        K = spec.matrix(X, X)
        K = 0.5 * (K + K.T)  # pairwise kernels are symmetric up to rounding
    if _psd_by_construction(spec):
        return K, 0.0
    smallest = _check_psd(
        K,
        # (SVC hands a callable kernel's matrix on the training rows over as precomputed)
        "kernel matrix (precomputed, or a callable kernel's on the training rows)"
        if precomputed
        else f"{spec.kernel} kernel matrix",
    )
    return K, min(smallest, 0.0)


def _factor(K: np.ndarray, exact_psd: bool = True):
    """``F`` with ``K = F F'`` by pivoted Cholesky (LAPACK ``dpstrf``), and its description.

    ``exact_psd``: ``K`` is PSD up to float64 rounding (a kernel PSD by construction), so the
    left-out remainder, PSD too, is bounded by the last pivot. Otherwise the remainder is
    checked, and the factor comes from :func:`_eigen_factor` when it is not so bounded.
    """
    n = K.shape[0]
    top = float(np.max(np.diag(K), initial=0.0))
    if top <= 0.0:
        return np.zeros((n, 1)), "zero kernel matrix"
    c, piv, rank, info = lapack.dpstrf(K, tol=FACTOR_RTOL * top, lower=1)
    if info < 0:  # pragma: no cover - LAPACK argument error
        raise RuntimeError(f"LAPACK dpstrf failed with info={info}")
    rank = max(int(rank), 1)
    F = np.zeros((n, rank))
    F[piv[:rank] - 1] = np.tril(c[:rank, :rank])
    F[piv[rank:] - 1] = c[rank:, :rank]
    if not exact_psd and rank < n:
        # The columns of F reproduce K's pivot rows exactly; the left-out part is the block of
        # the other rows, PSD (entries below the last pivot) only when K is.
        rest = piv[rank:] - 1
        left_out = K[np.ix_(rest, rest)] - F[rest] @ F[rest].T
        if np.abs(left_out).max() > REMAINDER_SLACK * FACTOR_RTOL * top:
            return _eigen_factor(K, f"pivoted Cholesky left out {np.abs(left_out).max():.2g}")
    return F, f"pivoted Cholesky, rank {rank} of {n}"


def _clipped(K: np.ndarray) -> np.ndarray:
    """``K+``: ``K`` with its negative eigenvalues set to 0 (symmetric to rounding)."""
    eigenvalues, vectors = eigh(K, check_finite=False)
    K_plus = (vectors * np.maximum(eigenvalues, 0.0)) @ vectors.T
    return 0.5 * (K_plus + K_plus.T)


def _eigen_factor(K: np.ndarray, why: str):
    """``F = V sqrt(lambda)`` over the eigenvalues above ``FACTOR_RTOL * lambda_max``: ``F F'``
    is ``K+`` (the negative eigenvalues clipped to 0, which :func:`_check_psd` bounds by
    ``INDEFINITE_RTOL * lambda_max``) to ``FACTOR_RTOL * lambda_max``."""
    eigenvalues, vectors = eigh(K, check_finite=False)
    keep = eigenvalues > FACTOR_RTOL * max(float(eigenvalues[-1]), 0.0)
    if not keep.any():
        return np.zeros((K.shape[0], 1)), "zero kernel matrix (after clipping)"
    F = vectors[:, keep] * np.sqrt(eigenvalues[keep])
    return F, (
        f"eigendecomposition, rank {int(keep.sum())} of {K.shape[0]}, negative eigenvalues "
        f"clipped ({why})"
    )


@functools.cache
def _clarabel_small() -> dict:
    """:data:`_CLARABEL_SMALL` less the settings the installed Clarabel lacks (``max_threads``)."""
    import clarabel

    settings = clarabel.DefaultSettings()
    return {key: value for key, value in _CLARABEL_SMALL.items() if hasattr(settings, key)}


def _solve(problem, cp, solver_name, qp_solver, verbose, what, *, loose=False, small=False):
    """Solve; return the status, "optimal" or "optimal_inaccurate", or raise a
    :class:`_SolverFailure` naming the solver and its status.

    ``verbose`` (a bool) turns on the solver's own log, which cvxpy and the solver write themselves.

    Clarabel first runs at the tight tolerances of :data:`_SOLVER_OPTIONS` (or, with ``loose``,
    those of :data:`_LOOSE_OPTIONS`); when it ends "almost solved" there (the entropy's
    exponential cone can stall below 1e-10), it is re-run at :data:`_CLARABEL_FALLBACK`
    tolerances; so is an attempt at which the solver raises (Clarabel's "insufficient
    progress"). ``small`` first tries the same tolerances with :data:`_CLARABEL_SMALL` (one
    thread, no equilibration or refinement); if that attempt ends anything but "optimal", or
    the solver raises, the sequence above runs with Clarabel's defaults.

    A last attempt that ends "optimal_inaccurate" (Clarabel's "almost solved", OSQP's "solved
    inaccurate") is kept when every variable's value is finite and every constraint holds to
    :data:`INACCURATE_FEASIBILITY` (relative): its gap ``m - M``, computed by the caller,
    decides whether it counts as converged (the logistic dual of 100 standardised samples
    ended so at every tolerance, with a gap of 4.4e-4 and the model of SMO to 5e-6). Any other
    status (infeasible, unbounded, an iteration limit) leaves no answer to judge and raises.
    """
    first = _SOLVER_OPTIONS[qp_solver]
    if loose:
        first = _LOOSE_OPTIONS.get(qp_solver, first)
    attempts = [first]
    if qp_solver == "clarabel":
        attempts += _CLARABEL_FALLBACK
        if small:
            attempts.insert(0, {**first, **_clarabel_small()})
    failure = None
    for k, options in enumerate(attempts):
        trial = small and qp_solver == "clarabel" and k == 0  # failures fall back to the defaults
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                # warm_start=False: a retry gets a new solver with exactly these settings (cvxpy
                # would otherwise update the previous one, whose settings persist)
                problem.solve(
                    solver=solver_name, verbose=bool(verbose), warm_start=False, **options
                )
        except cp.error.SolverError as exc:
            # Clarabel raises on "insufficient progress": at tol_feas = 1e-12 it stopped on the
            # squared-hinge dual of a rank-10 poly kernel on 20 samples (its primal residual
            # rose to 2.6e-10 at the last steps), which the next, looser attempt solves; the
            # solution's gap m - M judges the result either way (``converged_``)
            failure = exc
            continue
        failure = None
        if problem.status == cp.OPTIMAL:
            return problem.status
        if not trial and problem.status != cp.OPTIMAL_INACCURATE:
            break
    if failure is not None:
        raise _SolverFailure(
            f"the {solver_name} solver failed on the {what}: {failure}"
        ) from failure
    if problem.status == cp.OPTIMAL_INACCURATE:
        violation = _infeasibility(problem)
        if violation <= INACCURATE_FEASIBILITY:
            return problem.status
        raise _SolverFailure(
            f"the {solver_name} solver stopped with status {problem.status!r} on the {what}, "
            f"with an answer that is not finite or violates its constraints (by {violation:.3g} "
            "relative to its largest value): the solution cannot be trusted"
        )
    raise _SolverFailure(
        f"the {solver_name} solver stopped with status {problem.status!r} on the {what}, not "
        "'optimal': the solution cannot be trusted"
    )


def _infeasibility(problem) -> float:
    """The largest constraint violation of a solved problem's answer over
    ``max(1, largest |variable|)`` (inf when a value or the objective is missing or not finite)."""
    values = [v.value for v in problem.variables()]
    if any(v is None or not np.all(np.isfinite(v)) for v in values):
        return np.inf
    if problem.value is None or not np.isfinite(problem.value):
        return np.inf
    scale = max([1.0] + [float(np.max(np.abs(v), initial=0.0)) for v in values])
    violation = max((float(np.max(c.violation())) for c in problem.constraints), default=0.0)
    return violation / scale


def _failure_error(
    exc: _SolverFailure, qp_solver: str, upper, kernel_top: float, loss: str
) -> Exception:
    """The error :func:`solve_dual_qp` raises for a solver failure: a ``ValueError`` when the
    problem is badly scaled (``max C_i * max K_ii`` above :data:`BADLY_SCALED`), with advice
    about C, else a ``RuntimeError`` suggesting another solver."""
    top = float(upper.max())
    scale = top * kernel_top
    exc = str(exc).rstrip(".")  # cvxpy's messages end in a period of their own
    usable = _EXP_CONE if loss == "logistic" else set(_SOLVER_NAMES)
    others = sorted(usable - {qp_solver})
    if scale > BADLY_SCALED:
        features = (
            "standardise the features (StandardScaler) or " if kernel_top > np.sqrt(scale) else ""
        )
        return ValueError(
            f"{exc}. The problem is badly scaled for the QP solvers: C_i up to {top:.3g} against "
            f"kernel values K_ii up to {kernel_top:.3g} (product {scale:.3g}, above "
            f"{BADLY_SCALED:g}), so the dual variables range over many orders of magnitude: "
            f"{features}use a smaller C (or smaller sample and class weights), or solver='smo'."
        )
    choices = f"another qp_solver ({' or '.join(repr(o) for o in others)}), or " if others else ""
    return RuntimeError(f"{exc}. Try {choices}solver='smo'.")


def _mvp_gap(alpha, y, Kv, upper, loss) -> float:
    """``m(alpha) - M(alpha)``, the maximal violating pair's gap of SMO, at the given point.

    For the logistic loss, over the variables at least :data:`LOGISTIC_RESOLVED_RTOL` (relative)
    inside the box ``(0, C_i)``.
    """
    G = y * Kv
    if loss == "hinge":
        G = G - 1.0
        can_up = np.where(y > 0, alpha < upper, alpha > 0)
        can_down = np.where(y > 0, alpha > 0, alpha < upper)
    elif loss == "squared_hinge":
        G = G + alpha / (2.0 * upper) - 1.0
        can_up = (y > 0) | (alpha > 0)
        can_down = (y < 0) | (alpha > 0)
    else:
        lo, hi = LOGISTIC_RESOLVED_RTOL * upper, (1.0 - LOGISTIC_RESOLVED_RTOL) * upper
        G = G + logistic_link(alpha, upper)
        can_up = can_down = (alpha > lo) & (alpha < hi)
    score = -y * G
    if not can_up.any() or not can_down.any():
        return 0.0
    return float(score[can_up].max() - score[can_down].min())


def _finish_margins(alpha, y, Kv, upper, loss, b_solver, kernel_times, kernel_top):
    """Hinge and squared hinge, after the solve: the variables of tiny bound settled
    (:func:`_settle_small`), those just off a bound snapped (:func:`_snap_by_margin`), and the
    intercept chosen (:func:`_intercept`); returns ``(alpha, K (y alpha), b)``.
    ``kernel_times(v)`` is ``K v``, ``kernel_top`` is ``max K_ii``."""
    alpha, Kv = _settle_small(alpha, y, Kv, upper, loss, kernel_times, kernel_top)
    alpha, Kv = _snap_by_margin(alpha, y, Kv, upper, loss, b_solver, kernel_times, kernel_top)
    return alpha, Kv, _intercept(alpha, y, Kv, upper, loss, b_solver)


def _snap_by_margin(alpha, y, Kv, upper, loss, b_solver, kernel_times, kernel_top):
    """Hinge and squared hinge: the variables within :data:`MARGIN_SNAP_RTOL` of 0 (hinge: or of
    ``C_i``) set to what their margin asks; returns ``(alpha, Kv)``.

    :func:`_clean` snaps within ``BOUND_RTOL`` only, and the interior point's complementarity
    ``alpha_i (m_i - 1)`` is relative to the objective: on 600 samples (objective 3e3) a variable
    came back at ``1.5e-7 C_i`` with margin 1.0015, an optimal model otherwise, whose gap
    ``m - M`` of 1.5e-3 failed ``tol=1e-3``. With ``r = 1e-4 min(C_i, max alpha)``:

    * hinge: ``alpha_i <= r`` with ``m_i > 1 + band`` goes to 0, and ``alpha_i >= C_i - r``
      with ``m_i < 1 - band`` to ``C_i``;
    * squared hinge (no upper bound: ``r = 1e-4 max alpha``): ``alpha_i <= r`` takes a Newton
      step on its own coordinate towards ``alpha_i = 2 C_i (1 - m_i)_+``, with the curvature
      ``1 / (2 C_i) + max_j K_jj`` (at least its own), kept at ``alpha_i >= 0`` and made only
      when it moves ``alpha_i`` by at most ``r`` and its gradient
      ``m_i - 1 + alpha_i / (2 C_i)`` exceeds ``band``. The solver's absolute error on ``alpha``
      enters that gradient divided by ``2 C_i``: with weights over six decades, a variable of
      ``C_i = 1.5e-5`` came back at 4.1e-7 for an optimum of 2.8e-7 (gradient 4.4e-3), and
      nine of ``C_i`` near 1e-5 at 1e-11 to 1e-8 with margins 1.03 to 1.7 (optimum 0): the gap
      ``m - M`` was 1.1 for SMO's model.

    ``band`` is ``1e-4`` times the size of the kernel term, ``max_i |(K (y alpha))_i|``, when
    that is below 1: at a tiny ``C`` every margin is within about ``C K_ii`` of 1 (``C = 1e-6``,
    rbf, 60 samples: kernel terms up to 2.8e-6, seven variables left at 1e-7 to 8e-5 ``C_i``
    with margins 5e-9 to 1.5e-7 above 1, where SMO, libsvm and a tighter solve have them at 0).
    The margins are those at the intercept :func:`_intercept` picks (libsvm's rule or the
    solver's multiplier ``b_solver``): at a tiny ``C`` the variables to snap can be the only
    ones at 0, which libsvm's rule leaves out as unsure, and its interval then spans -1 to 1.
    The mass so moved goes back to the free variables of the same label (:func:`_rebalance`),
    so ``y'alpha`` keeps its value. Each change moves the decision values by at most ``r K_ii``.
    """
    if loss not in ("hinge", "squared_hinge"):
        return alpha, Kv
    margins = y * (Kv + _intercept(alpha, y, Kv, upper, loss, b_solver))
    # "close" relative to C_i or to the largest alpha, whichever is smaller (as in _clean: at a
    # C far above the solution's scale every alpha is a tiny fraction of C), and the margin
    # clearly on the bound's side (a free variable's is 1 up to the solver's accuracy)
    top = alpha.max(initial=0.0)
    reach = MARGIN_SNAP_RTOL * (np.minimum(upper, top) if loss == "hinge" else top)
    band = MARGIN_SNAP_RTOL * min(1.0, float(np.abs(Kv).max(initial=0.0)))
    moved = alpha.copy()
    if loss == "hinge":
        low = (alpha > 0.0) & (alpha <= reach) & (margins > 1.0 + band)
        high = (alpha < upper) & (alpha >= upper - reach) & (margins < 1.0 - band)
        moved[low], moved[high] = 0.0, upper[high]
    else:
        gradient = margins - 1.0 + alpha / (2.0 * upper)
        step = np.maximum(alpha - gradient / (kernel_top + 0.5 / upper), 0.0)
        settle = (alpha <= reach) & (np.abs(step - alpha) <= reach) & (np.abs(gradient) > band)
        moved[settle] = step[settle]
    changed = moved != alpha
    if not changed.any():
        return alpha, Kv
    alpha = _rebalance(moved, alpha, y, upper, loss, changed)
    return alpha, kernel_times(y * alpha)


def _box(upper, loss):
    """The bounds each variable is kept in: ``[0, C_i]`` (hinge), ``[0, inf)`` (squared hinge),
    ``[EPS C_i, (1 - EPS) C_i]`` (logistic, where float64 still resolves the margin, as in SMO)."""
    if loss == "logistic":
        return LOGISTIC_EPS * upper, (1.0 - LOGISTIC_EPS) * upper
    return np.zeros_like(upper), (upper if loss == "hinge" else np.full_like(upper, np.inf))


def _rebalance(alpha, before, y, upper, loss, moved) -> np.ndarray:
    """``alpha`` with the mass its ``moved`` variables gained or lost since ``before`` given back
    to (or taken from) the other free variables of the same label, in proportion to their room,
    so that ``sum_i y_i alpha_i`` is what it was. Moving mass from a snapped variable to a free
    one of its label is a step of SMO that lowers the objective (to first order, by the moved
    mass times the snapped variable's ``|m_i - 1|``). A label whose free variables lack the
    room keeps the imbalance (at most the moved mass). The logistic loss shares it in
    proportion to ``a (C - a) / C`` instead where every share fits its variable's room (in
    proportion to the room otherwise), the inverse of the entropy's curvature, so that
    every logit ``log(a / (C - a))`` moves by about the same amount: in proportion to the room,
    most of it went to variables near a bound, whose logits it moved by 0.02 (a gap ``m - M``
    of 0.024 where the solver's was 4e-7, with weights from 0.1 to 10).

    Every snap onto a bound goes through here: a broken ``y'alpha = 0`` is not only an
    infeasible dual point (a logistic ``duality_gap_`` of -5.7e-6), it also moves a centred
    linear fit's public decision values by ``y'alpha c'(x - c)`` (0.26 at an offset of 1e4,
    after the snaps had left ``y'alpha`` at 8.6e-6)."""
    alpha = alpha.copy()
    lo, hi = _box(upper, loss)
    free = ~moved & (alpha > lo) & (alpha < hi)
    for label in (-1.0, 1.0):
        net = float(np.sum((before - alpha)[moved & (y == label)]))
        others = free & (y == label)
        if net == 0.0 or not others.any():
            continue
        if net > 0.0 and loss != "squared_hinge":
            room = hi[others] - alpha[others]
        else:  # taking mass, or giving it to squared-hinge variables (no upper bound)
            room = alpha[others] - lo[others]
        if loss == "logistic":
            a = alpha[others]
            weight = a * ((upper[others] - a) / upper[others])  # the entropy's inverse curvature
            step = net * (weight / weight.sum())
            if np.all(np.abs(step) <= room):
                alpha[others] += step
                continue  # (else in proportion to the room, below, where that is enough)
        unbounded = net > 0.0 and loss == "squared_hinge"
        top = float(room.max())  # (rooms of C near the largest float would overflow their sum)
        share = room / top
        if unbounded or abs(net) / top <= share.sum():
            alpha[others] += net * (share / share.sum())
    return np.clip(alpha, lo, hi)


def _logistic_offset(y, Kv, upper, b0) -> float:
    """Logistic loss: the intercept that balances ``sum_i y_i C_i sigmoid(-y_i (Kv_i + b)) = 0``.

    At the optimum ``alpha_i = C_i sigmoid(-m_i)`` and ``y'alpha = 0``, so given ``K (y alpha)``
    the intercept is the root of this decreasing function of ``b``. The solver's multiplier of
    ``y'alpha = 0`` is accurate to about 1e-7 absolutely: at ``C = 1e-30``, beside kernel terms
    of 1e-30, it made every decision value 1e-6 (one class predicted for every sample). Newton's
    method from the multiplier, kept inside a bracket that halves when a step leaves it.

    The terms of margin ``|m_i| <= 1`` are summed as ``1/2 y_i C_i (1 - tanh(m_i / 2))``
    (``sigmoid(-m) = (1 - tanh(m / 2)) / 2``): ``expit(-m)`` is exactly 1/2 for ``|m|`` below
    1e-16, where a tiny ``C`` puts every margin, and the balance was then a step function of
    ``b`` (at ``C = 1e-20`` the intercept came out 1.7e-16, a hundred times the decision values,
    half the signs wrong); ``tanh`` keeps its relative accuracy there. The others keep
    ``expit(-m)``, whose tail ``1 - tanh`` would cancel. The sum is exact (``math.fsum``):
    in float64 the halves ``1/2 y_i C_i`` of 30 + 30 samples of ``C = 1e-20`` summed to -3e-36
    instead of 0, which moved the root by -2e-17, still a hundred times the decision values.
    """

    def balance(b):
        m = y * (Kv + b)
        s = expit(-m)
        near = np.abs(m) <= 1.0
        c = y * upper
        terms = (0.5 * c[near], -0.5 * c[near] * np.tanh(0.5 * m[near]), c[~near] * s[~near])
        return math.fsum(np.concatenate(terms)), float(np.sum(upper * s * (1.0 - s)))

    lo, hi = b0 - 1.0, b0 + 1.0
    while balance(lo)[0] < 0.0 and lo > -1e300:  # the root lies above lo ...
        lo = b0 - 2.0 * (b0 - lo)
    while balance(hi)[0] > 0.0 and hi < 1e300:  # ... and below hi
        hi = b0 + 2.0 * (hi - b0)
    b = b0
    for _ in range(100):  # Newton in a halving bracket: ~60 halvings exhaust float64's digits
        value, slope = balance(b)
        if value > 0.0:
            lo = b
        else:
            hi = b
        step = b + value / slope if slope > 0.0 else 0.5 * (lo + hi)
        b_next = step if lo < step < hi else 0.5 * (lo + hi)
        if b_next == b or hi - lo <= 4.0 * np.finfo(float).eps * max(abs(b), 1e-300):
            return b_next
        b = b_next
    return b


def _settle_small(alpha, y, Kv, upper, loss, kernel_times, kernel_top):
    """Hinge and squared hinge: the variables of bound below :data:`UNRESOLVED_BOUND_RTOL` times
    the largest, set to their optimum given their margin; returns ``(alpha, Kv)``.

    The interior point resolves them to its absolute accuracy only: five samples of weight 1e-9
    beside C = 3 came back at ``alpha_i / C_i`` of a few 1e-5 each way, and the gap ``m - M``
    was 1.3. Their optimum, given the margin ``m_i`` the others make: ``0`` for ``m_i > 1`` and
    ``C_i`` below (hinge), ``2 C_i max(0, 1 - m_i)`` (squared hinge). Each moves the margins by
    less than ``C_i K_ii``. Not where ``max C_i K_ii`` exceeds :data:`SETTLE_SCALE_LIMIT`:
    beside bounds of 1e12 a bound of 1e4 is "small" but moves margins by 1e4, and with the others
    unresolved too the margins that would settle it are not known (weights over 12 decades at
    C = 1e6: the settled model's decision values were off by 6.7e3). The margins use the
    intercept of the other variables.
    """
    # tiny beside the largest bound, on a problem whose other variables the solver resolves
    if float(upper.max()) * float(kernel_top) > SETTLE_SCALE_LIMIT:  # (inf, silently, at C=1e308)
        return alpha, Kv
    small = upper < UNRESOLVED_BOUND_RTOL * upper.max()
    if not small.any():
        return alpha, Kv
    rest = ~small
    b = _libsvm_offset(alpha[rest], y[rest], Kv[rest], upper[rest], loss)
    margins = y[small] * (Kv[small] + b)
    settled = alpha.copy()
    if loss == "hinge":
        settled[small] = np.where(
            margins > 1.0, 0.0, np.where(margins < 1.0, upper[small], alpha[small])
        )
    else:
        settled[small] = 2.0 * upper[small] * np.maximum(0.0, 1.0 - margins)
    alpha = _rebalance(settled, alpha, y, upper, loss, settled != alpha)
    return alpha, kernel_times(y * alpha)


def _intercept(alpha, y, Kv, upper, loss, b_solver) -> float:
    """Hinge and squared hinge: libsvm's intercept (:func:`_libsvm_offset`), unless the
    solver's multiplier ``b_solver`` gives a smaller primal objective.

    Given ``K (y alpha)`` the best intercept minimises the primal, a convex function of ``b``.
    Where every variable is at a bound the primal is flat over an interval and both candidates
    tie: libsvm's midpoint is kept. Where the free variables' ``F_i`` carry the solver's
    inaccuracy (``C_i`` up to 1e12 with weights over 12 decades) the multiplier can be the
    better one (the rule gave -1786 where the multiplier gave -0.21, primal 1e7 times larger).
    """
    b_rule = _libsvm_offset(alpha, y, Kv, upper, loss)
    if not np.isfinite(b_solver) or not np.isfinite(b_rule):
        return b_rule if np.isfinite(b_rule) else b_solver
    p_rule = primal_objective(loss, alpha, y, upper, Kv, -b_rule)
    p_solver = primal_objective(loss, alpha, y, upper, Kv, -b_solver)
    noise = 64 * np.finfo(float).eps * max(abs(p_rule), abs(p_solver))
    return b_solver if p_solver < p_rule - noise else b_rule


def _libsvm_offset(alpha, y, Kv, upper, loss) -> float:
    """The intercept ``b`` of a hinge or squared-hinge solution by libsvm's rule, as the SMO sets it.

    With ``F_i = y_i G_i`` (``G`` the dual gradient), ``b = -mean(F_i)`` over the free variables,
    and with none free ``-`` the midpoint of the interval the bounded ones allow
    (:func:`~mlbasics.svm._smo_kernels.rho_from_gradient`). The multiplier of ``y'alpha = 0`` that
    the interior-point solver returns is an optimal ``b`` too, but where every variable is at a
    bound (small ``C``) every ``b`` of that interval is optimal and the solver's is an arbitrary
    one: on 60 samples with ``C = 1e-5`` it returned ``b = -1.8e-3``, beside kernel terms of about
    1e-5, and the model predicted one class for every sample (the midpoint: 98% right).

    The variables strictly inside the box but within :data:`OFFSET_RELIABLE_RTOL` of a bound
    (relative to ``min(C_i, max alpha)``) are left out: the solver leaves them there within its
    accuracy, and their ``F_i`` are not those of free variables. With sample weights over 12
    decades, five such variables (``C_i`` near 1e-8, ``alpha_i`` at 0.998 ``C_i``) and two free
    ones gave a mean of -0.68 where the free ones (and SMO) say -0.956, and the model failed
    primal feasibility by 0.27.
    """
    G = y * Kv - 1.0
    reach = OFFSET_RELIABLE_RTOL * np.minimum(upper, alpha.max(initial=0.0))
    if loss == "hinge":
        status = np.where(alpha <= 0.0, LOWER, np.where(alpha >= upper, UPPER, FREE))
        unsure = (alpha > 0.0) & (alpha < upper) & ((alpha < reach) | (alpha > upper - reach))
    else:  # squared hinge: no upper bound, and alpha_i / (2 C_i) in the gradient
        G = G + alpha / (2.0 * upper)
        status = np.where(alpha <= 0.0, LOWER, FREE)
        unsure = (alpha > 0.0) & (alpha < reach)
    keep = ~unsure if (~unsure).any() else np.ones(len(y), dtype=bool)
    F, status8, labels = (y * G)[keep], status[keep].astype(np.int8), y[keep].astype(np.float64)
    rho = float(rho_from_gradient(F, status8, labels))
    if not np.isfinite(rho):
        # the sure variables bound b on one side only (three points, two of them duplicates of
        # opposite labels: alpha 5.5e-7 off its bounds left out, and b came out -inf): the
        # unsure ones are taken as they are
        rho = float(rho_from_gradient(y * G, status.astype(np.int8), y.astype(np.float64)))
    return -rho


def _dual_objective(alpha, upper, quadratic, loss) -> float:
    """The minimised dual objective of the module table, given ``quadratic = 1/2 v'Kv``."""
    if loss == "hinge":
        return float(quadratic - alpha.sum())
    if loss == "squared_hinge":
        return float(quadratic + (alpha**2 / (4.0 * upper)).sum() - alpha.sum())
    return float(quadratic) + logistic_entropy(alpha, upper)


def _kernel_times(X, spec, F, v) -> np.ndarray:
    """``K v`` from the kernel itself when it is cheap to form by blocks, else from the factor."""
    if spec.kernel == "precomputed":
        return np.asarray(X) @ v
    if spec.is_named:
        out = np.empty(X.shape[0])
        for rows, block in spec.blocks(X, X):
            out[rows] = block @ v
        return out
    return np.asarray(F @ (F.T @ v)).ravel()


def solve_dual_qp(
    X,
    y,
    upper,
    spec: KernelSpec,
    *,
    loss: str = "hinge",
    qp_solver: str = "clarabel",
    tol: float = 1e-3,
    log=None,
    solver_verbose: int = 0,
) -> DualSolution:
    """Solve one binary SVM dual with cvxpy (see the module docstring for the formulation).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), CSR matrix, or ndarray of shape (n, n)
        Training rows, or the kernel matrix when ``spec.kernel == "precomputed"``.
    y : ndarray of shape (n_samples,)
        Labels in {-1, +1}.
    upper : ndarray of shape (n_samples,)
        ``C_i``, all positive.
    spec : KernelSpec
        The kernel.
    loss : {"hinge", "squared_hinge", "logistic"}
        Which dual.
    qp_solver : {"clarabel", "osqp", "scs"}
        The cvxpy solver. OSQP solves the two quadratic programs only.
    tol : float
        The solution counts as converged when SMO's gap ``m(alpha) - M(alpha)``, recomputed at
        it, is at most ``tol`` (SMO's stopping rule, checked after the fact).
    log : callable, optional
        Called with each line of progress (``log(line)``, a str without newline): the factor
        and solver of a problem solved whole, or the size, objective and violators of every
        working set. None (the default) is silent; :class:`~mlbasics.SVC` passes ``print`` when
        ``verbose``.
    solver_verbose : int
        The log of the cvxpy solver itself, which cvxpy and the solver write themselves (not
        through ``log``): 1 for a problem solved whole, 2 also for every working set's
        sub-problem; 0 (the default) none. :class:`~mlbasics.SVC` passes its ``verbose``.

    Returns
    -------
    DualSolution
        As :func:`~mlbasics.svm._smo.solve_dual` returns it: ``alpha`` (variables within
        :data:`BOUND_RTOL` of a bound put on it), ``rho``, ``objective`` (minimised form; for the
        logistic loss without the constant ``sum_i C_i log C_i``), ``gap`` (SMO's maximal
        violating pair gap, recomputed at the solution), ``n_iter`` (solver iterations),
        ``converged`` (``gap <= tol``, also for an answer the solver ended "optimal_inaccurate";
        a solver failure raises), a two-point ``trace`` and ``message`` (the solver's final
        status, which :class:`~mlbasics.SVC` quotes when ``gap > tol``). A
        solver can end "optimal" by its own tolerances far from the optimum of a badly scaled
        problem: on 40 standardised samples (kernel values of order 1) Clarabel's logistic dual
        at ``C = 1e8`` ends with gaps of 0.9 to 11, its squared-hinge dual on a linear kernel at
        ``C = 1e10`` with 1.6; ``converged`` is then False.

    Raises
    ------
    ValueError
        Unknown loss or solver, a solver that is not installed or cannot handle the loss, labels
        not in {-1, +1}, non-positive bounds, a kernel matrix that is not symmetric, finite and
        PSD (within :data:`INDEFINITE_RTOL`).
    MemoryError
        When :func:`memory_estimate` exceeds :data:`~mlbasics._validation.MEMORY_FRACTION` of the
        available memory.
    ValueError
        Also when the solver fails on a badly scaled problem (``max C_i * max K_ii`` above
        :data:`BADLY_SCALED`, e.g. ``C = 1e10`` on standardised data): the message says so.
    RuntimeError
        When the solver fails or stops with a status that leaves no usable answer (infeasible,
        unbounded, an iteration limit; "optimal_inaccurate" with values that are not finite or
        violate the constraints, see :func:`_solve`) on a problem of ordinary scale: the message
        names the solver and the status.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}.")
    cp, solver_name = _require_solver(qp_solver, loss)
    y = np.asarray(y, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    n = y.shape[0]
    if n == 0:
        raise ValueError("the problem has no samples.")
    if X.shape[0] != n or upper.shape != (n,):
        raise ValueError(
            f"X has {X.shape[0]} rows, y {n} entries and upper {upper.shape}: they must agree."
        )
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("labels must be -1 or +1.")
    if not (np.all(np.isfinite(upper)) and np.all(upper > 0)):
        raise ValueError("every bound C_i must be positive and finite.")
    if not (np.any(y > 0) and np.any(y < 0)):
        raise ValueError("the problem needs samples of both labels, -1 and +1.")

    precomputed = spec.kernel == "precomputed"
    low_rank_linear = spec.kernel == "linear" and X.shape[1] < n
    if low_rank_linear:
        _check_memory(
            n, X.shape[1], gram_given=False, dense=False, what=f"linear, {X.shape[1]} features"
        )
    else:
        _check_memory(n, None, gram_given=precomputed, dense=True, what=f"{spec.kernel} kernel")

    start = time.perf_counter()
    what = f"{loss} dual ({n} samples)"
    # The solvers resolve alpha to an absolute accuracy (about 1e-12): bounds far below 1 (a
    # small C) would leave every variable neither at a bound nor free. The problem is solved in
    # alpha / unit, unit = max C_i when below 1: the kernel times unit, the bounds divided by it,
    # the objective divided by it (the same margins and intercept; see _dual_problem's table).
    unit = min(float(upper.max()), 1.0)
    # one BLAS thread: the products and factorisations here are of a few hundred rows, where
    # OpenBLAS's threads cost more than they save (and spin against any other busy core)
    with one_blas_thread():
        if low_rank_linear or loss == "logistic" or n < WORKING_SET_MIN:
            F, description, smallest = _kernel_factor(X, spec)
            if log is not None:
                log(f"[QP] {what}, factor: {description}; solver {solver_name}")
            kernel_top = float(squared_norms(F).max(initial=0.0))  # max K_ii = max ||F_i||^2

            def attempt(per_bound):
                problem, a, balance = _dual_problem(
                    cp, F * np.sqrt(unit), y, upper / unit, loss, per_bound=per_bound
                )
                status = _solve(problem, cp, solver_name, qp_solver, solver_verbose, what)
                alpha = unit * _clean(a.value, y, upper / unit, loss)
                b = float(balance.dual_value)
                n_iter = int(problem.solver_stats.num_iters or 0)
                Kv = _kernel_times(X, spec, F, y * alpha)
                if loss == "logistic":
                    b = _logistic_offset(y, Kv, upper, b)
                    alpha = _settle_unresolved(alpha, y, y * (Kv + b), upper, kernel_top)
                    Kv = _kernel_times(X, spec, F, y * alpha)
                else:
                    alpha, Kv, b = _finish_margins(
                        alpha, y, Kv, upper, loss, b, lambda v: _kernel_times(X, spec, F, v),
                        kernel_top,
                    )  # fmt: skip
                return alpha, b, n_iter, Kv, status

            # the logistic dual in alpha_i / C_i first, in alpha itself when that fails or
            # misses tol (see _dual_problem's per_bound), the better of the two kept
            forms = (True, False) if loss == "logistic" else (False,)
            best, failures = None, []
            for per_bound in forms:
                try:
                    found = attempt(per_bound)
                except _SolverFailure as exc:
                    form = "alpha / C_i" if per_bound else "alpha"
                    label = f"in {form}: " if loss == "logistic" else ""
                    failures.append(label + f"{exc}".rstrip("."))
                    last_failure = exc
                    continue
                gap = _mvp_gap(found[0], y, found[3], upper, loss)
                if best is None or gap < best[0]:
                    best = (gap, found)
                if gap <= tol:
                    break
            if best is None:
                failure = _SolverFailure("; ".join(failures))
                raise _failure_error(failure, qp_solver, upper, kernel_top, loss) from last_failure
            alpha, b, n_iter, Kv, status = best[1]
            records = []
        else:
            K, smallest = _gram(X, spec)
            # The rounds solve, couple and pick violators on K+ (see _gram): with K itself
            # beside the blocks' clipped factors, a float32 Gram matrix of 600 samples ended
            # its rounds with a gap of 4e-4 on both matrices at tol=1e-4 (a review). K judges
            # the result.
            solved = _clipped(K) if smallest < -FACTOR_RTOL * float(np.diag(K).max()) else K
            try:
                alpha, b, n_iter, records, status = _working_sets(
                    solved * unit, y, upper / unit, loss, cp, solver_name, qp_solver, what, log,
                    solver_verbose, _psd_by_construction(spec),
                )  # fmt: skip
            except _SolverFailure as exc:
                raise _failure_error(exc, qp_solver, upper, float(np.diag(K).max()), loss) from exc
            alpha = unit * alpha
            records = [(unit * value, gap, seconds) for value, gap, seconds in records]
            Kv = K @ (y * alpha)
            alpha, Kv, b = _finish_margins(  # (this branch is hinge or squared hinge)
                alpha, y, Kv, upper, loss, b, lambda v: K @ v, float(np.diag(K).max())
            )
    objective = _dual_objective(alpha, upper, 0.5 * float((y * alpha) @ Kv), loss)
    gap = _mvp_gap(alpha, y, Kv, upper, loss)
    elapsed = time.perf_counter() - start
    start_objective = float((upper * np.log(upper)).sum()) if loss == "logistic" else 0.0
    records = [(start_objective, np.inf, 0.0), *records, (objective, gap, elapsed)]
    trace = Trace(
        objective=np.array([r[0] for r in records]),
        optimality=np.array([r[1] for r in records]),
        time=np.array([r[2] for r in records]),
    )
    return DualSolution(
        alpha=alpha,
        rho=-b,
        objective=objective,
        gap=gap,
        n_iter=n_iter,
        converged=bool(gap <= tol),
        trace=trace,
        primal=primal_objective(loss, alpha, y, upper, Kv, -b),
        # |(K - K+) y alpha|_i <= |lambda_min| ||y alpha||: the QP solved K+ (see _gram)
        clipped_margin=-smallest * float(np.linalg.norm(alpha)),
        message=(
            f"the {qp_solver} solver ended 'optimal' by its own tolerances"
            if status == cp.OPTIMAL
            else f"the {qp_solver} solver ended {status!r}, short of its own tolerances"
        ),
    )


def _dense_quadratic(F, loss) -> bool:
    """Whether the quadratic term goes to cvxpy as ``quad_form(a, psd_wrap(G G'))``.

    Only for the hinge loss and a dense factor of rank above :data:`DENSE_RANK_FRACTION` of the
    variables: there Clarabel's KKT system with the dense ``n x n`` block of ``P`` is factored
    about twice as fast as the factored form's (which adds ``rank`` variables and a dense
    ``rank x n`` block of constraints). Clarabel's solve time, dense against factored, on random
    subsets of the benchmark's rbf problem: 0.06 s against 0.10 s at 250 variables, 0.12 s
    against 0.26 s at 400, 0.40 s against 1.2 s at 700 (one thread). A low-rank factor (a
    linear kernel with few features, a kernel whose spectrum decays) keeps the factored form,
    which is then the smaller problem; so do the logistic dual (its entropy cones) and the
    squared hinge, whose variables have no upper bound: on a nearly singular kernel (300 sparse
    rows of 300 features) Clarabel stops with "insufficient progress" on the dense form and
    solves the factored one.
    """
    if loss != "hinge" or sparse.issparse(F):
        return False
    return F.shape[1] > DENSE_RANK_FRACTION * F.shape[0]


def _dual_problem(cp, F, y, upper, loss, linear=None, balance_rhs=0.0, per_bound=False):
    """The cvxpy problem of the module table for factor ``F``; optional extra linear term.

    ``linear`` adds ``linear' a`` to the objective and ``balance_rhs`` makes the equality
    ``y'a = balance_rhs``: the sub-problem of a working set with the other variables fixed.
    ``per_bound`` (logistic loss): the variables are ``u = a / C_i``, every entropy term on
    ``[0, 1]``, ``sum entr(a) + entr(C - a) = sum C_i (entr(u) + entr(1 - u)) - C_i log C_i``.
    In ``a`` itself, one sample of weight 100 among 99 of weight 1 (``C_i K_ii`` about 1e3) made
    Clarabel fail on 3 seeds in 8, which ``u`` solves, and on 72 rbf problems ``u`` was the
    more accurate on 53 (median distance to SMO's decision values 1.2e-10 against 2.2e-9);
    ``a`` was on 7 (a random rbf problem at ``C = 100``: 6e-10 against 1.2e-4), so
    :func:`solve_dual_qp` tries ``u`` first and ``a`` when ``u`` fails or misses ``tol``.
    Returns ``(problem, a, balance)``; ``balance.dual_value``, the multiplier of the equality, is
    one candidate for the intercept (:func:`_intercept`, :func:`_logistic_offset`).
    """
    n = len(y)
    if per_bound:
        u = cp.Variable(n)
        a = cp.multiply(upper, u)
    else:
        a = cp.Variable(n)
    if _dense_quadratic(F, loss):
        G = F * y[:, None]
        # P = G G' is PSD by construction (G is our factor, its negative pivots clipped), which
        # is what psd_wrap asserts; cvxpy's own check would fail on a full-rank RBF block. In CSC
        # form cvxpy canonicalises it a third faster than as a dense array.
        objective = 0.5 * cp.quad_form(a, cp.psd_wrap(sparse.csc_matrix(G @ G.T)))
    else:
        M = (sparse.diags(y) @ F).T.tocsr() if sparse.issparse(F) else (F * y[:, None]).T
        objective = 0.5 * cp.sum_squares(M @ a)
    if linear is not None:
        objective = objective + linear @ a
    balance = y @ a == balance_rhs
    if loss == "hinge":
        problem = cp.Problem(cp.Minimize(objective - cp.sum(a)), [a >= 0, a <= upper, balance])
    elif loss == "squared_hinge":
        objective = objective + cp.sum_squares(cp.multiply(0.5 / np.sqrt(upper), a)) - cp.sum(a)
        problem = cp.Problem(cp.Minimize(objective), [a >= 0, balance])
    else:
        if per_bound:
            entropy = upper @ (cp.entr(u) + cp.entr(1.0 - u))  # up to the constant above
        else:
            entropy = cp.sum(cp.entr(a) + cp.entr(upper - a))
        problem = cp.Problem(cp.Minimize(objective - entropy), [balance])
    return problem, a, balance


def _clean(value, y, upper, loss, rtol=BOUND_RTOL) -> np.ndarray:
    """The solver's ``alpha`` with the variables within ``rtol`` (relative) of a bound on it, the
    mass they moved given to the free variables of their label (:func:`_rebalance`).

    The lower bound 0 has no scale of its own: "within ``rtol``" is relative to ``C_i`` or to the
    largest ``alpha``, whichever is smaller. A ``C`` far above the solution's scale (the
    hard-margin limit) would otherwise snap every variable to 0: at ``C = 1e8`` the threshold
    ``1e-7 C`` was above every ``alpha`` of a solution whose largest was 6.8. The logistic
    loss's variables are put inside :func:`_box` (``[EPS C, (1 - EPS) C]``).
    """
    before = np.asarray(value, dtype=np.float64)
    alpha = before.copy()
    if loss != "logistic":
        alpha[alpha <= rtol * np.minimum(upper, alpha.max(initial=0.0))] = 0.0
    if loss == "hinge":
        top = alpha >= (1.0 - rtol) * upper
        alpha[top] = upper[top]
    alpha = np.clip(alpha, *_box(upper, loss))
    moved = alpha != before
    return _rebalance(alpha, before, y, upper, loss, moved) if moved.any() else alpha


def _settle_unresolved(alpha, y, margins, upper, kernel_top) -> np.ndarray:
    """Logistic loss: the variables within :data:`LOGISTIC_RESOLVED_RTOL` ``C_i`` of a bound,
    set to ``C_i sigmoid(-m_i)`` (their optimum given their margin) kept in that band; those of
    bound below :data:`LOGISTIC_UNRESOLVED_BOUND_RTOL` times the largest, set to it wherever it
    is.

    The interior-point solver resolves them to its absolute accuracy only: a sample of margin
    89 (optimal ``alpha_i / C_i`` about 1e-39) came back at ``1.5e-11 C_i``, an interior value
    for :func:`~mlbasics.optimality.check_kkt`, whose logit (24.9) is not the margin: the fit
    was ``converged_`` with a stationarity residual of 64. The SMO puts such a variable at
    ``LOGISTIC_EPS C_i``, read as saturated. Each moves by less than ``1e-10 C_i``, as does the
    decision function per unit of ``K_ii``. A variable of tiny bound is beyond the solver's
    accuracy anywhere in its box (one sample of weight 1e-10 among weights of 1 came back at
    ``C_i`` for an optimum of ``0.85 C_i``, was kept in the band and left out of the gap:
    ``converged_`` with a stationarity residual of 21); it moves the decision function by at
    most ``C_i K_ii``, so it is set as :func:`_settle_small` sets the hinge losses' (and not where
    ``max C_i K_ii`` exceeds :data:`SETTLE_SCALE_LIMIT`).
    """
    u = alpha / upper
    low, high = u < LOGISTIC_RESOLVED_RTOL, u > 1.0 - LOGISTIC_RESOLVED_RTOL
    small = upper < LOGISTIC_UNRESOLVED_BOUND_RTOL * upper.max()
    if float(upper.max()) * kernel_top > SETTLE_SCALE_LIMIT:
        small[:] = False
    if not (low.any() or high.any() or small.any()):
        return alpha
    settled = upper * expit(-margins)
    new = alpha.copy()
    band = LOGISTIC_EPS * upper, LOGISTIC_RESOLVED_RTOL * upper
    new[low] = np.clip(settled, *band)[low]
    new[high] = np.clip(settled, upper - band[1], upper - band[0])[high]
    new[small] = np.clip(settled, band[0], upper - band[0])[small]
    return _rebalance(new, alpha, y, upper, "logistic", new != alpha)


def _working_sets(K, y, upper, loss, cp, solver_name, qp_solver, what, log, solver_verbose,
                  exact_psd=True):  # fmt: skip
    """Solve the hinge or squared-hinge dual by a sequence of exact QPs on working sets.

    The decomposition of Osuna, Freund and Girosi (1997), with cvxpy for the sub-problems: the
    variables outside the working set ``B`` are fixed (at 0, or at ``C_i`` for the hinge loss),
    the QP over ``B`` is solved, the KKT conditions of *every* variable are checked with the full
    kernel matrix, and the worst :data:`MAX_NEW_VIOLATORS` violators join ``B``; it stops when no
    variable violates its condition by more than :data:`WORKING_SET_TOL` after a round solved at
    the tight tolerances. Nothing comes from another solver (SMO, libsvm): the first ``B`` is a
    fixed random sample of :data:`FIRST_WORKING_SET` samples (or a sixth of them), the others at
    0; its solution places every other sample once: in ``B`` when its margin is within
    :data:`MARGIN_BAND` of 1, fixed at ``C_i`` when below :data:`PLACE_AT_UPPER_BELOW` (hinge
    loss; see :func:`_place_at_upper`). Each later round adds violators and drops the
    variables at a bound whose margin is more than :data:`MARGIN_BAND` on their side of 1, so a
    QP holds about the free support vectors plus the newest violators (hinge loss on the
    benchmark data at n = 1 000: 250, 287, 304, 333, 287, 267, 268 variables, 236 free support
    vectors at the end; at n = 2 000: 333, 428, 325, 352, 418, 394, 366, 365 for 321). Rounds
    that follow one with more than :data:`LOOSE_ABOVE` violators only move ``B``: they are
    solved at :data:`_LOOSE_OPTIONS` and their variables within :data:`LOOSE_BOUND_RTOL` of a
    bound are put on it (so that they can leave ``B``). The last round is always tight; a loose
    round without violators is repeated tightly. Returns ``(alpha, b, n_iter, records,
    status)``, ``status`` that of the last round (:func:`_solve`).

    Every sub-problem is feasible: outside the first working set everything is at 0
    (``y_B' a_B = 0``), samples are fixed at ``C_i`` only when the box of ``B`` can still balance
    them (otherwise they stay at 0), and a later round keeps the current point feasible. After the
    placement each round starts from the current point, feasible for its sub-problem, so the
    objective decreases (up to the loose rounds' tolerance) and :data:`MAX_WORKING_SET_ROUNDS`
    bounds the loop.
    """
    n = len(y)
    rng = np.random.default_rng(0)
    first = rng.choice(n, size=min(n, max(FIRST_WORKING_SET, n // 6)), replace=False)
    in_set = np.zeros(n, dtype=bool)
    in_set[first] = True
    alpha = np.zeros(n)
    n_iter, records, placed, loose = 0, [], False, True
    # a loose round's snap moves alpha_i by at most rtol_i C_i, its own margin by K_ii times that
    snap = np.minimum(LOOSE_BOUND_RTOL, LOOSE_SNAP_MARGIN / np.maximum(np.diag(K) * upper, 1e-300))
    start = time.perf_counter()
    for _ in range(MAX_WORKING_SET_ROUNDS):
        B = np.flatnonzero(in_set)
        N = np.flatnonzero(~in_set & (alpha != 0.0))  # the fixed variables that are not 0
        v_fixed = y[N] * alpha[N]
        linear = y[B] * (K[np.ix_(B, N)] @ v_fixed) if N.size else None
        F, _ = _factor(K[np.ix_(B, B)], exact_psd)
        problem, a, balance = _dual_problem(
            cp, F, y[B], upper[B], loss, linear=linear, balance_rhs=-float(y[N] @ alpha[N])
        )
        sub = f"{what}, working set of {B.size}"
        status = _solve(
            problem, cp, solver_name, qp_solver, solver_verbose > 1, sub, loose=loose, small=True
        )
        n_iter += int(problem.solver_stats.num_iters or 0)
        alpha[B] = _clean(a.value, y[B], upper[B], loss, snap[B] if loose else BOUND_RTOL)
        b = float(balance.dual_value)
        Kv = K @ (y * alpha)
        margins = y * (Kv + b)
        records.append(
            (
                _dual_objective(alpha, upper, 0.5 * float((y * alpha) @ Kv), loss),
                _mvp_gap(alpha, y, Kv, upper, loss),
                time.perf_counter() - start,
            )
        )
        outside = ~in_set
        if not placed:  # the other samples near the margin join, once
            placed = True
            in_set |= outside & (np.abs(margins - 1.0) <= MARGIN_BAND)
            if loss == "hinge":
                _place_at_upper(alpha, in_set, margins, y, upper)
            if log is not None:
                log(f"[QP] working set {B.size} -> {int(in_set.sum())} after placing by margin")
            continue
        low = outside & (alpha == 0.0) & (margins < 1.0 - WORKING_SET_TOL)
        high = outside & (alpha == upper) & (margins > 1.0 + WORKING_SET_TOL)
        violators = low if loss == "squared_hinge" else low | high
        count = int(violators.sum())
        if log is not None:
            log(
                f"[QP] working set {B.size}{' (loose)' if loose else ''}: objective "
                f"{records[-1][0]:.10g}, {count} violators outside"
            )
        if not count:
            if not loose:
                return alpha, b, n_iter, records, status
            loose = False  # the same working set once more, at the tight tolerances
            continue
        loose = count > LOOSE_ABOVE
        # variables at a bound, with their margins clearly on their side, leave the working set
        at_zero = in_set & (alpha == 0.0) & (margins > 1.0 + MARGIN_BAND)
        at_upper = in_set & (alpha == upper) & (margins < 1.0 - MARGIN_BAND) & (loss == "hinge")
        in_set &= ~(at_zero | at_upper)
        worst = np.flatnonzero(violators)
        if worst.size > MAX_NEW_VIOLATORS:
            excess = np.abs(margins[worst] - 1.0)
            worst = worst[np.argsort(-excess, kind="stable")[:MAX_NEW_VIOLATORS]]
        in_set[worst] = True
    raise RuntimeError(
        f"the working-set loop on the {what} did not end within {MAX_WORKING_SET_ROUNDS} "
        "rounds; use solver='smo'."
    )


def _place_at_upper(alpha, in_set, margins, y, upper) -> np.ndarray:
    """Fix at ``C_i`` the samples outside the working set with margins below a threshold.

    The samples at 0 with margins below :data:`PLACE_AT_UPPER_BELOW`; when they would unbalance
    ``y'a`` by more than :data:`PLACE_IMBALANCE` times the working set's total bound, only the
    deepest of the larger side, up to that limit; and only when the working set's box can
    still balance them. Modifies ``alpha`` in place; returns the mask of the samples so placed
    (empty when the balance ``y'a = 0`` would become unreachable).
    """
    deep = ~in_set & (alpha == 0.0) & (margins < PLACE_AT_UPPER_BELOW)
    excess = float(y[deep] @ upper[deep])
    limit = PLACE_IMBALANCE * float(upper[in_set].sum())
    if abs(excess) > limit:  # keep the deepest of the larger side, up to the limit
        side = np.flatnonzero(deep & (y == np.sign(excess)))
        side = side[np.argsort(-margins[side], kind="stable")]  # least deep first
        drop = np.searchsorted(np.cumsum(upper[side]), abs(excess) - limit)
        deep[side[: drop + 1]] = False
    rhs = -float(y[~in_set] @ alpha[~in_set]) - float(y[deep] @ upper[deep])
    box = upper[in_set]
    if not (-box[y[in_set] < 0].sum() <= rhs <= box[y[in_set] > 0].sum()):
        return np.zeros_like(deep)
    alpha[deep] = upper[deep]
    return deep


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class PrimalSolution:
    """The primal soft-margin solution of a linear SVM.

    Attributes
    ----------
    w : ndarray of shape (n_features,)
        Weights.
    b : float
        Offset: ``f(x) = x'w + b``.
    slack : ndarray of shape (n_samples,)
        ``xi_i = max(0, 1 - y_i f(x_i))`` as the solver returned it (hinge and squared hinge; the
        margins' loss arguments for the logistic loss).
    objective : float
        The primal optimum ``1/2 ||w||^2 + sum_i C_i loss_i``.
    """

    w: np.ndarray
    b: float
    slack: np.ndarray
    objective: float


def primal_linear_qp(X, y, upper, *, loss="hinge", qp_solver="clarabel") -> PrimalSolution:
    """The linear soft-margin SVM solved in the primal, as a second reference for the duals.

    Minimises over ``(w, b, xi)``

    * hinge: ``1/2 ||w||^2 + sum_i C_i xi_i`` with ``y_i (x_i'w + b) >= 1 - xi_i``, ``xi >= 0``;
    * squared hinge: ``1/2 ||w||^2 + sum_i C_i xi_i^2`` with ``y_i (x_i'w + b) >= 1 - xi_i``;
    * logistic: ``1/2 ||w||^2 + sum_i C_i log(1 + exp(-y_i (x_i'w + b)))`` (``cp.logistic``).

    Slater's condition holds (``w = 0, b = 0, xi = 2`` is strictly feasible), so the optimum equals
    the dual optimum: ``objective == -DualSolution.objective`` (plus ``sum_i C_i log C_i`` for the
    logistic loss).

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Labels in {-1, +1}.
    upper : ndarray of shape (n_samples,)
        ``C_i``.
    loss : {"hinge", "squared_hinge", "logistic"}
    qp_solver : {"clarabel", "osqp", "scs"}

    Returns
    -------
    PrimalSolution
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}.")
    cp, solver_name = _require_solver(qp_solver, loss)
    y = np.asarray(y, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    n, d = X.shape
    w, b = cp.Variable(d), cp.Variable()
    margins = cp.multiply(y, X @ w + b)
    if loss == "logistic":
        xi = margins
        objective = 0.5 * cp.sum_squares(w) + cp.sum(cp.multiply(upper, cp.logistic(-margins)))
        constraints = []
    else:
        xi = cp.Variable(n)
        constraints = [margins >= 1 - xi]
        if loss == "hinge":
            constraints.append(xi >= 0)
            objective = 0.5 * cp.sum_squares(w) + upper @ xi
        else:
            objective = 0.5 * cp.sum_squares(w) + cp.sum(cp.multiply(upper, cp.square(xi)))
    problem = cp.Problem(cp.Minimize(objective), constraints)
    try:
        status = _solve(problem, cp, solver_name, qp_solver, 0, f"{loss} primal ({n} samples)")
        if status != cp.OPTIMAL:  # a reference with no gap m - M to judge an inexact answer
            raise _SolverFailure(
                f"the {solver_name} solver stopped with status {status!r} on the {loss} primal "
                f"({n} samples), not 'optimal'"
            )
    except _SolverFailure as exc:
        top = float(squared_norms(X).max(initial=0.0))  # the linear kernel's largest K_ii
        raise _failure_error(exc, qp_solver, upper, top, loss) from exc
    return PrimalSolution(
        w=np.asarray(w.value, dtype=np.float64),
        b=float(b.value),
        slack=np.asarray(xi.value, dtype=np.float64),
        objective=float(problem.value),
    )
