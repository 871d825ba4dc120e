"""Stochastic gradient solvers for the logistic objective of ``_objective.py``.

The objective is Newton's, :math:`F(W) = \\sum_i c_i \\ell_i(W) + R(W)` with ``c_i = C s_i``. Dividing it
by ``C n`` (``n`` samples) gives the per-sample form that stochastic gradients estimate without bias,

.. math::

    \\frac{F(W)}{C n} = \\frac1n \\sum_i s_i \\ell_i(W)
        + \\alpha_1 \\lVert W\\rVert_1 + \\frac{\\alpha_2}{2} \\lVert W\\rVert^2,
    \\qquad \\alpha_1 = \\frac{\\lambda_1}{C n},\\ \\alpha_2 = \\frac{\\lambda_2}{C n}:

the gradient on one sample drawn uniformly, ``s_i grad l_i + alpha_2 W``, has the gradient of
``F / (C n)`` as its mean. This is scikit-learn's ``SGDClassifier(loss="log_loss", alpha=1 / (C n))``
for unit weights, so on dense data with the L2 penalty the two libraries take the same steps with
the same learning rates (see the theory page for where they part). The
``"optimal"`` schedule uses ``alpha = alpha_1 + alpha_2 = 1 / (C n)`` (as scikit-learn uses its
``alpha`` whatever the penalty).

Two loops, one interface (a *run* holds the iterate and every piece of state that a later epoch,
a warm start or ``partial_fit`` continues from):

* :class:`CompiledRun` -- plain SGD with one sample per update: the compiled loops of
  ``_sgd_kernels.py`` (L2 by a scalar scale, L1 by Tsuruoka's cumulative penalty, lazy averaging),
  ``O(nnz(x_i))`` per update on CSR input.
* :class:`MiniBatchRun` -- any update rule of :mod:`mlbasics.optim` (``"sgd"``, ``"momentum"``,
  ..., ``"nadam"``) on mini-batches (or single samples) in Python, the batch gradient by BLAS
  (a sparse product on CSR input). L2 enters the gradient; L1 shrinks after the rule's step by
  ``alpha_1`` times the rule's own step per unit gradient
  (:meth:`~mlbasics.optim.Optimizer.step_scale`), so that every rule has the penalised minimiser
  as its fixed point: for SGD, momentum and Nesterov by the cumulative penalty of the compiled loop
  (on the features present in the batch, and on all at the end of an epoch), for the adaptive rules
  by the proximal step in their per-coordinate metric. Both give exact zeros. (For plain SGD a
  proximal step, soft-thresholding by ``eta alpha_1`` after each update, was tried first: its
  thresholds are too small against the gradient noise and it left most coefficients nonzero.)
  Averaging, when asked, is the running mean of the iterates.

:func:`sgd` runs epochs of a run and applies the stopping rule; it follows the template of the Newton
solvers (``setup -> (epoch -> record -> stopping rule)* -> result``) and returns a
:class:`~mlbasics._result.SolverResult` whose trace holds the full objective ``F`` (not divided by
``C n``) and the optimality measure of the Newton solvers, once per epoch.

That *certificate* costs a pass over the data, a third to a half of an epoch of plain SGD. It is
computed by compiled passes (``_certificate_kernels.py``: scores, losses and gradient together,
no temporary arrays) and, on large data, by a second thread: when nothing reads it before the
next epoch (``tol=None``, no hook, no validation score) while the next epoch runs, otherwise by
sharing the rows with the calling thread. The loops release the GIL; the values are the same
whichever thread computes them.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .._result import STOPPED_BY_HOOK, SolverResult, Trace, TraceRecorder
from ..losses import probability_residuals
from ..optim import (
    MIN_ADAPTIVE_RATE,
    Optimizer,
    Schedule,
    _GradientOverflowError,
    make_optimizer,
    make_schedule,
)
from ._certificate_kernels import (
    certificate_rows_csr,
    certificate_rows_dense,
    finish_certificate,
)
from ._objective import LogisticObjective
from ._sgd_kernels import (
    N_AVG,
    SSUM,
    WSCALE,
    T,
    diverged_at,
    l1_catch_up,
    sgd_epoch_csr,
    sgd_epoch_dense,
)

OPTIMIZERS = tuple(Optimizer.registry)
SCHEDULES = tuple(Schedule.registry)
# The rules whose step is one number times the gradient for every coordinate (their step_scale is
# a float): L1 by the cumulative penalty. The adaptive rules take a proximal step instead.
UNIFORM_STEP_RULES = ("sgd", "momentum", "nesterov")
#: The factor on the intercept's step on sparse input with ``intercept_rate="auto"``:
#: scikit-learn's ``SPARSE_INTERCEPT_DECAY``.
SPARSE_INTERCEPT_RATE = 0.01


def intercept_rate(X, fit_intercept: bool, setting="auto", optimizer="sgd") -> float:
    """The factor on the intercept's step: ``setting`` if a number, else (``"auto"``) 0.01 on
    sparse input and 1 on dense input, as scikit-learn's ``SGDClassifier``, for the rules whose
    step is the gradient times a rate (:data:`UNIFORM_STEP_RULES`), and 1 for the adaptive
    rules, whose step per coordinate is already normalised by that coordinate's own gradients;
    0 without an intercept.

    The intercept is a feature present in every sample, so every update moves it, while a feature
    of sparse data moves only in the rare samples that contain it: at the full step the intercept
    takes the noisiest steps of all, and its noise sets the objective SGD reaches. On CSR data of
    density 2.5e-3 (20 000 x 20 000), 10 epochs ended 30 to 300 above the optimum with the full
    step, 1.4 to 2.1 damped by 0.01, scikit-learn's 1.4 to 1.5. A rule of the data's density
    instead of its format (tried: ``max(density, 0.01)``, which kept dense and CSR forms alike) was
    measured and dropped: on dense data with 98% zeros and an intercept far from 0 it damped the
    one coefficient that mattered, 12 epochs ended 2.0 above the optimum against 0.02 at the full
    step, and the stopping rule called that converged. A constant factor rescales the intercept's
    steps, not the objective: the optimum is the same.
    """
    if not fit_intercept:
        return 0.0
    if setting != "auto":
        return float(setting)
    damped = sparse.issparse(X) and optimizer in UNIFORM_STEP_RULES
    return SPARSE_INTERCEPT_RATE if damped else 1.0


def _fix_intercept_rate(run, problem) -> None:
    """Set ``run.intercept_rate`` from the data of its first epoch; a run keeps it (later
    ``partial_fit`` calls too, whatever the format of their chunks)."""
    if run.intercept_rate is None:
        run.intercept_rate = intercept_rate(
            problem.X, problem.fit_intercept, run.settings.intercept_rate, run.settings.optimizer
        )


@dataclass(frozen=True)
class SGDSettings:
    """The hyper-parameters of a run (the estimator's parameters of the same names)."""

    optimizer: str = "sgd"
    learning_rate: str = "optimal"
    eta0: float = 0.01
    power_t: float = 0.5
    batch_size: int = 1
    average: bool | int = False
    shuffle: bool = True
    intercept_rate: str | float = "auto"

    @property
    def compiled(self) -> bool:
        """Plain SGD on single samples runs in the compiled loop."""
        return self.optimizer == "sgd" and self.batch_size == 1

    @property
    def average_start(self) -> int:
        """Update count (from 0) of the first averaged iterate; -1 for no averaging.

        ``average=True`` (or 1) averages from the first update; an integer ``k > 1`` from the
        ``k``-th, as scikit-learn's ``average`` (which counts samples: the same for
        ``batch_size=1``; one update per mini-batch otherwise). A start beyond the int64 range
        of the compiled loop's counter, which no run reaches, is clamped to its largest value:
        the run is never averaged, as in scikit-learn.
        """
        if self.average is False or self.average is None:
            return -1
        if self.average is True:
            return 0
        start = int(self.average) - 1 if int(self.average) >= 1 else -1
        return min(start, np.iinfo(np.int64).max)


class SGDDivergedError(ValueError):
    """The iterates of SGD stopped being finite."""


@dataclass
class Problem:
    """The arrays the loops read, derived once per call from a :class:`.LogisticObjective`.

    ``X`` is C-ordered dense or CSR (a CSC input is converted), ``sw = c / data_weight`` are the
    per-sample gradient weights ``s_i`` and ``alpha1``, ``alpha2`` the per-sample penalty strengths;
    ``c``, ``l1`` and ``l2`` are the objective's weights and penalty strengths, for
    :meth:`certificate`.
    """

    X: object
    Y: np.ndarray
    sw: np.ndarray
    alpha1: float
    alpha2: float
    fit_intercept: bool
    c: np.ndarray
    l1: float
    l2: float

    @classmethod
    def from_objective(cls, objective: LogisticObjective, data_weight: float) -> Problem:
        if objective.mu is not None:
            raise ValueError(
                "SGD works on uncentred columns: build the objective with center=False."
            )
        X = objective.X
        if sparse.issparse(X):
            X = sparse.csr_array(X)
            X.sum_duplicates()
        else:
            X = np.ascontiguousarray(X, dtype=np.float64)
        n = objective.n_samples
        per_sample = data_weight * n
        with np.errstate(over="ignore", divide="ignore"):
            strengths = (objective.penalty.l1 / per_sample, objective.penalty.l2 / per_sample)
        if not all(np.isfinite(strengths)):  # (the optimizer named "alpha", not C: a review)
            raise ValueError(
                f"C={data_weight:.3g} is too small for solver='sgd': its penalty strength per "
                f"sample, 1 / (C n) with n={n}, overflows float64. Use a larger C, or a Newton "
                "solver (solver='newton')."
            )
        c = np.ascontiguousarray(objective.weights, dtype=np.float64)
        return cls(
            X=X,
            Y=np.ascontiguousarray(objective.Y, dtype=np.float64),
            sw=c / data_weight,
            alpha1=objective.penalty.l1 / per_sample,
            alpha2=objective.penalty.l2 / per_sample,
            fit_intercept=objective.fit_intercept,
            c=c,
            l1=float(objective.penalty.l1),
            l2=float(objective.penalty.l2),
        )

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def size(self) -> int:
        """Number of stored entries of ``X`` (``nnz`` when sparse): the cost of one pass."""
        return self.X.nnz if sparse.issparse(self.X) else self.X.size

    def certificate(self, coef, worker=None) -> tuple[float, float]:
        """``(F(coef), optimality)`` as the Newton solvers record them; ``(inf, inf)`` when a
        score is not finite.

        The values of :meth:`.LogisticObjective.value` and :meth:`.LogisticObjective.optimality`
        (of :meth:`.LogisticObjective.smooth_gradient`), computed by compiled passes over the two
        halves of the rows (``_certificate_kernels.py``): the second half on ``worker`` (an
        executor) when one is given, at the same time as the first. The values do not depend on
        ``worker``.
        """
        coef = np.ascontiguousarray(coef, dtype=np.float64)
        n = self.n_samples
        G = np.empty((2, *coef.shape))
        halves = [(0, n // 2, G[0]), (n // 2, n, G[1])]
        if worker is None:
            losses = [self._certificate_rows(coef, *half) for half in halves]
        else:
            second = worker.submit(self._certificate_rows, coef, *halves[1])
            losses = [self._certificate_rows(coef, *halves[0]), second.result()]
        if np.isinf(losses[0]) or np.isinf(losses[1]):
            return np.inf, np.inf
        G[0] += G[1]
        loss = losses[0] + losses[1]
        F, optimality = finish_certificate(coef, G[0], self.fit_intercept, loss, self.l1, self.l2)
        return float(F), float(optimality)

    def _certificate_rows(self, coef, start, stop, G):
        args = (self.Y, self.c, coef, self.fit_intercept, start, stop, G)
        if sparse.issparse(self.X):
            X = self.X
            return certificate_rows_csr(X.data, X.indices, X.indptr, *args)
        return certificate_rows_dense(self.X, *args)


def epoch_rates(schedule, t_start: int, count: int) -> np.ndarray:
    """``[schedule.rate(t) for t in range(t_start, t_start + count)]``, from
    :meth:`mlbasics.optim.Schedule.rates` (one vectorised call, without overflow warnings)."""
    return schedule.rates(t_start, count)


def _diverged(settings: SGDSettings, rate: float, where: str) -> SGDDivergedError:
    return SGDDivergedError(
        f"SGD diverged: {where} became infinite or NaN with optimizer={settings.optimizer!r}, "
        f"{_rate_advice(settings, rate)}."
    )


def _gradient_overflowed(settings: SGDSettings, rate, problem, G, first) -> SGDDivergedError:
    """An adaptive rule's squared gradient overflowed (``optim._GradientOverflowError``): at the
    run's first update (a ``partial_fit`` stream is one run) the problem's scale (the data
    term's gradient grows with the sample weights ``s_i``, times the class weights; the L2
    term's with its per-sample strength ``1 / (C n)``, from the second update of a start at 0),
    not the rate, which has not acted yet; later, either."""
    what = (
        f"optimizer={settings.optimizer!r} divides by the root of its accumulated squared "
        f"gradients, and a square overflowed float64 (largest |gradient| "
        f"{float(np.max(np.abs(G))):.3g})"
    )
    scale = (
        "the data term's gradient grows with the sample weights (sample_weight times "
        f"class_weight, here up to {problem.sw.max():.3g})"
    )
    remedy = "bring them nearer 1 (smaller sample or class weights"
    if problem.alpha2 > 0.0:
        scale += (
            " and the L2 term's with its per-sample strength 1 / (C n_samples) (here "
            f"{problem.alpha2:.3g})"
        )
        remedy += ", or a larger C"
    remedy += "), or standardise X"
    if first:
        return SGDDivergedError(
            f"SGD stopped at its first update: {what}. At the starting point that is the "
            f"problem's scale, not the rate: {scale}; {remedy}."
        )
    return SGDDivergedError(
        f"SGD stopped: {what}. Either the iterates diverged: {_rate_advice(settings, rate)}. "
        f"Or the problem's scale is extreme: {scale}; {remedy}."
    )


def _rate_advice(settings: SGDSettings, rate: float) -> str:
    """The learning rate of the update that failed, and what to change."""
    if settings.learning_rate == "optimal":
        return (
            f"learning_rate='optimal' (rate {rate:.3g} at this update). Try "
            "learning_rate='invscaling' or 'constant' with a small eta0, or standardise X"
        )
    return (
        f"learning_rate={settings.learning_rate!r} and eta0={settings.eta0:g} (rate "
        f"{rate:.3g} at this update). Try a smaller eta0, or standardise X"
    )


class CompiledRun:
    """Plain SGD, one sample per update, in the compiled loops (see ``_sgd_kernels.py``).

    The state is the scaled weights ``V`` (``W = wscale V``), the intercepts, the scalars
    ``[wscale, u, ssum, n_avg, t]``, the L1 penalties received ``q`` and the averaging sums.
    """

    def __init__(self, coef0, settings: SGDSettings, fit_intercept: bool):
        K, n_dof = coef0.shape
        p = n_dof - int(fit_intercept)
        self.settings = settings
        self.intercept_rate = None  # set by the first epoch's data (see intercept_rate)
        self.fit_intercept = fit_intercept
        self.V = np.array(coef0[:, :p], dtype=np.float64, order="C")
        self.b = np.array(coef0[:, p], dtype=np.float64) if fit_intercept else np.zeros(K)
        self.scal = np.array([1.0, 0.0, 0.0, 0.0, 0.0])
        self.q = np.zeros((K, p))
        self.acorr = np.zeros((K, p))
        self.bsum = np.zeros(K)
        self.l1_pending = False  # an epoch left its L1 catch-up to coef (settle_l1=False)

    @property
    def shape(self) -> tuple[int, int]:
        """``(outputs, features + intercept)``, the shape of the coefficients it holds."""
        return self.V.shape[0], self.V.shape[1] + int(self.fit_intercept)

    @property
    def t(self) -> int:
        """Number of updates made so far."""
        return int(self.scal[T])

    @property
    def averaging(self) -> bool:
        start = self.settings.average_start
        return start >= 0 and self.t > start

    def updates_per_epoch(self, n_samples):
        return n_samples

    def epoch(self, problem: Problem, order, schedule, rates=None, settle_l1=True):
        """One pass over the samples in ``order``; ``rates`` (one per update, from
        :func:`epoch_rates`) when they were computed ahead, on the second thread.

        With an L1 term, ``settle_l1`` gives every coefficient its pending cumulative penalty at
        the end (:func:`l1_catch_up`); ``partial_fit`` leaves it pending, so that the next chunk
        continues as the same epoch would (:meth:`coef` applies it to a copy)."""
        rates = epoch_rates(schedule, self.t, len(order)) if rates is None else rates
        _fix_intercept_rate(self, problem)
        if getattr(self, "l1_pending", False) and problem.alpha1 == 0.0:
            # a call without an L1 term after one that left its penalty pending (the penalty
            # changed between calls of partial_fit): hand it out first, or it is lost (a review)
            l1_catch_up(self.V, self.q, self.scal, self.acorr, self.averaging)
            self.l1_pending = False
        args = (problem.Y, problem.sw, order, rates, problem.alpha2, problem.alpha1,
                self.intercept_rate, self.settings.average_start, self.V, self.b, self.scal,
                self.q, self.acorr, self.bsum)  # fmt: skip
        if sparse.issparse(problem.X):
            X = problem.X
            status = sgd_epoch_csr(X.data, X.indices, X.indptr, *args)
        else:
            status = sgd_epoch_dense(problem.X, *args)
        failed = diverged_at(status)
        if failed is not None:
            raise _diverged(self.settings, float(rates[failed]), "the scores")
        self.l1_pending = problem.alpha1 > 0.0 and not settle_l1
        if problem.alpha1 > 0.0 and settle_l1:
            l1_catch_up(self.V, self.q, self.scal, self.acorr, self.averaging)
        if not (np.all(np.isfinite(self.V)) and np.isfinite(self.scal[WSCALE])):
            raise _diverged(self.settings, float(rates[-1]), "the coefficients")

    def coef(self, *, averaged: bool) -> np.ndarray:
        """The current iterate, or the average of the iterates since ``average_start``."""
        if averaged and self.averaging:
            n_avg = self.scal[N_AVG]
            W = (self.acorr + self.scal[SSUM] * self.V) / n_avg
            b = self.bsum / n_avg
        else:
            V = self.V
            if getattr(self, "l1_pending", False):  # (not in a run pickled before it; the
                # average does not depend on it: see _clip_l1)
                V, q = V.copy(), self.q.copy()
                l1_catch_up(V, q, self.scal, self.acorr, False)
            W = self.scal[WSCALE] * V
            b = self.b
        return np.hstack([W, b[:, None]]) if self.fit_intercept else W.copy()


class MiniBatchRun:
    """Any rule of :mod:`mlbasics.optim` on mini-batches; L1 in the rule's own step size.

    One update on the batch ``B`` (rows of ``A = [X, 1]``, 0/1 targets ``Y``):

    ``G = (1/|B|) sum_{i in B} s_i a_i (p(z_i) - y_i)^T + alpha_2 W_pen``, then the rule's step
    with the scheduled rate ``eta`` (``optimizer.step([G])``), then the L1 term, shrinking by
    ``alpha_1 d`` where ``d`` is the rule's step per unit gradient (``step_scale``: ``eta`` for
    SGD, ``eta / (1 - mu)`` for momentum and Nesterov, ``eta / (sqrt(v) + eps)`` per coordinate
    for Adam, ...). Shrinking by ``eta alpha_1`` whatever the rule would move the fixed point:
    momentum's steps are ``1 / (1 - mu)`` = 10 times longer, so L1 acted 10 times too weakly, and
    AdaGrad's shrink to 0 while the penalty did not, so every weight went to 0.

    * SGD, momentum, Nesterov (one ``d`` for every coordinate): Tsuruoka's cumulative penalty,
      ``u += alpha_1 d`` and, for the features ``j`` present in the batch,
      ``w <- max(0, w - (u + q_j))`` if ``w > 0``, ``w <- min(0, w + (u - q_j))`` if ``w < 0``,
      with ``q_j`` the penalty received so far. With ``optimizer="sgd"`` and one sample per batch
      this is the update of the compiled loop, step for step.
    * The adaptive rules (``d`` per coordinate): the proximal step in their metric,
      ``w_j <- sign(w_j) max(|w_j| - alpha_1 d_j, 0)``, on every coefficient. (A cumulative
      penalty in units of ``d_j`` would bank the huge ``d_j`` of a coordinate whose first
      gradients are tiny and hold it at zero long after.)
    """

    def __init__(self, coef0, settings: SGDSettings, fit_intercept: bool):
        self.settings = settings
        self.fit_intercept = fit_intercept
        self.intercept_rate = None  # set by the first epoch's data (see intercept_rate)
        self.W = np.array(coef0, dtype=np.float64)
        self.shape = self.W.shape
        # The rate is set by the schedule before every step; this one only builds the rule.
        self.optimizer = make_optimizer(settings.optimizer, [self.W], learning_rate=1.0)
        self.t = 0
        self.avg = np.zeros_like(self.W)
        self.n_avg = 0
        self.u = 0.0  # cumulative L1 penalty per coefficient so far
        self.q = np.zeros_like(self.W)  # L1 penalty received by each coefficient
        self.l1_pending = False  # as CompiledRun's

    def _clip_l1(self, cols, W=None, q=None):
        """Tsuruoka's step on the columns ``cols``: collect the pending penalty, stop at zero
        (on the run's ``W`` and ``q``, or on the copies given)."""
        W = self.W if W is None else W
        q = self.q if q is None else q
        old, received = W[:, cols], q[:, cols]
        u = self.u
        new = np.where(
            old > 0.0, np.maximum(0.0, old - (u + received)), np.minimum(0.0, old + (u - received))
        )
        new[old == 0.0] = 0.0
        q[:, cols] += new - old
        W[:, cols] = new

    @property
    def averaging(self) -> bool:
        start = self.settings.average_start
        return start >= 0 and self.t > start

    def updates_per_epoch(self, n_samples):
        return math.ceil(n_samples / self.settings.batch_size)

    def epoch(self, problem: Problem, order, schedule, rates=None, settle_l1=True):
        """As :meth:`CompiledRun.epoch`, on mini-batches."""
        bs = self.settings.batch_size
        X, Y, sw = problem.X, problem.Y, problem.sw
        p = X.shape[1]
        n_updates = self.updates_per_epoch(len(order))
        rates = epoch_rates(schedule, self.t, n_updates) if rates is None else rates
        _fix_intercept_rate(self, problem)
        penalized = slice(0, p)
        start = self.settings.average_start
        if getattr(self, "l1_pending", False) and problem.alpha1 == 0.0:  # as CompiledRun's
            self._clip_l1(penalized)
            self.l1_pending = False
        for u in range(n_updates):
            idx = order[u * bs : (u + 1) * bs]
            W = self.W
            Xb = X[idx]
            with np.errstate(over="ignore", invalid="ignore"):
                Z = np.asarray(Xb @ W[:, :p].T)
                if self.fit_intercept:
                    Z += W[:, p]
            if not np.all(np.isfinite(Z)):
                raise _diverged(self.settings, float(rates[u]), "the scores")
            R = (sw[idx] / len(idx))[:, None] * probability_residuals(Z, Y[idx])
            G = np.empty_like(W)
            G[:, :p] = np.asarray(Xb.T @ R).T
            if self.fit_intercept:
                G[:, p] = R.sum(axis=0)
            eta = float(rates[u])
            if eta > 0.0:  # (a rate that underflowed to 0, invscaling's late ones, moves nothing)
                if problem.alpha2 > 0.0:
                    with np.errstate(over="ignore"):  # (a diverging W: the step names the rate)
                        G[:, penalized] += self.decay(problem.alpha2, eta) * W[:, penalized]
                self.optimizer.learning_rate = eta
                # the factor on the intercept's step, not on its gradient: the adaptive rules'
                # steps do not scale with the gradient
                damped = self.fit_intercept and self.intercept_rate != 1.0
                b_before = W[:, p].copy() if damped else None
                try:
                    self.optimizer.step([G])
                except _GradientOverflowError:  # the scale, or the rate after the first update
                    first = self.t == 0
                    raise _gradient_overflowed(self.settings, eta, problem, G, first) from None
                except FloatingPointError:
                    raise _diverged(self.settings, eta, "the update") from None
                if damped:
                    W[:, p] = b_before + self.intercept_rate * (W[:, p] - b_before)
                if problem.alpha1 > 0.0:
                    self._penalize_l1(problem.alpha1, Xb, p)
            if start >= 0 and self.t >= start:
                if self.t == start:
                    self.avg[:] = 0.0
                    self.n_avg = 0
                self.n_avg += 1
                self.avg += (W - self.avg) / self.n_avg
            self.t += 1
        cumulative = problem.alpha1 > 0.0 and self.cumulative_l1
        self.l1_pending = cumulative and not settle_l1
        if cumulative and settle_l1:
            self._clip_l1(penalized)

    @property
    def cumulative_l1(self) -> bool:
        """Whether L1 is Tsuruoka's cumulative penalty (a rule whose step scales every coordinate
        alike) rather than a proximal step in the rule's per-coordinate metric."""
        return self.settings.optimizer in UNIFORM_STEP_RULES

    def _penalize_l1(self, alpha1, Xb, p):
        """The L1 term after a step of the rule, shrinking by ``alpha_1`` times the rule's step per
        unit gradient (:meth:`~mlbasics.optim.Optimizer.step_scale`), so that the fixed point is
        the minimiser of the penalised objective whatever the rule."""
        with np.errstate(over="ignore"):  # (an infinite scale at a huge eta0: the divergence
            scale = self.optimizer.step_scale(0)  # check names the rate after the next step)
        if self.cumulative_l1:
            self.u += alpha1 * scale
            if sparse.issparse(Xb):
                present = np.unique(Xb.indices)
            else:
                present = np.flatnonzero(np.any(Xb != 0.0, axis=0))
            self._clip_l1(present)
            return
        W = self.W[:, :p]
        shrunk = np.abs(W)
        shrunk -= alpha1 * np.asarray(scale)[:, :p]
        np.maximum(shrunk, 0.0, out=shrunk)
        np.copysign(shrunk, W, out=W)
        W += 0.0  # (-0.0 + 0.0 is +0.0: the exact zeros print as 0, not -0)

    def decay(self, alpha2, eta):
        """The weight decay in ``G``: ``alpha_2``, except that plain SGD never shrinks ``W`` past
        zero: at ``eta alpha_2 > 1`` the factor ``1 - eta alpha_2`` of its step is taken as 0 (as in
        the compiled loop, and in scikit-learn), i.e. a decay of ``1 / eta``. The other rules
        rescale the gradient themselves and keep ``alpha_2``."""
        if self.settings.optimizer == "sgd":  # called only with eta > 0
            return min(alpha2, 1.0 / eta)
        return alpha2

    def coef(self, *, averaged: bool) -> np.ndarray:
        if averaged and self.averaging:
            return self.avg.copy()
        W = self.W.copy()
        if getattr(self, "l1_pending", False):  # (not in a run pickled before it)
            p = W.shape[1] - int(self.fit_intercept)
            self._clip_l1(slice(0, p), W, self.q.copy())
        return W


def make_run(coef0, settings: SGDSettings, *, fit_intercept: bool):
    """The state of a new run from ``coef0`` (coefficient layout of ``_objective.py``)."""
    cls = CompiledRun if settings.compiled else MiniBatchRun
    return cls(coef0, settings, fit_intercept)


def build_schedule(settings: SGDSettings, problem: Problem, *, n_iter_no_change, tol):
    """The learning-rate schedule; ``"optimal"`` with ``alpha = alpha_1 + alpha_2``."""
    alpha = problem.alpha1 + problem.alpha2
    if settings.learning_rate == "optimal" and alpha <= 0.0:
        raise ValueError(
            "learning_rate='optimal' sets its rates 1 / (alpha (t0 + t)) from the penalty "
            "strength alpha = 1 / (C n), which is 0 without a penalty (penalty=None or C=inf): use "
            "learning_rate='invscaling', 'constant' or 'adaptive' (with eta0)."
        )
    return make_schedule(
        settings.learning_rate,
        eta0=settings.eta0,
        power_t=settings.power_t,
        alpha=alpha if alpha > 0.0 else None,
        n_iter_no_change=n_iter_no_change,
        tol=tol,
    )


#: Below this many stored entries of ``X`` (about a millisecond of work per pass) the certificate
#: is computed on the calling thread alone: handing work to a second one costs more than it saves.
OVERLAP_MIN_SIZE = 200_000


def _second_thread_allowed() -> bool:
    """Whether this process may keep two cores busy.

    The first entry of ``OMP_NUM_THREADS`` when set (joblib's process workers set it to their
    share of the cores, 1 for ``n_jobs=2`` on two cores), else the number of CPUs.
    """
    setting = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    threads = int(setting) if setting.isdigit() else (os.cpu_count() or 1)
    return threads >= 2


def sgd(objective: LogisticObjective, run, *, data_weight, max_iter, tol, n_iter_no_change=5,
        rng=None, validation_score=None, hook=None, overlap=None,
        settle_l1=True) -> SolverResult:  # fmt: skip
    """Run up to ``max_iter`` epochs of ``run`` on ``objective``.

    Parameters
    ----------
    objective : LogisticObjective
        Built with ``center=False`` (the coefficients are those of the original features).
    run : CompiledRun or MiniBatchRun
        From :func:`make_run`; updated in place (a later call continues from it).
    data_weight : float
        The factor ``C`` of ``c_i = C s_i``: the epochs minimise ``F / (C n)`` (see the module).
    max_iter : int
        Maximum number of epochs (passes over the data).
    tol : float or None
        Stopping tolerance; ``None`` runs exactly ``max_iter`` epochs.
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping (or, for ``learning_rate="adaptive"``, before
        the rate is divided by 5).
    rng : numpy.random.Generator, default=None
        Draws the order of the samples in every epoch when ``run.settings.shuffle``.
    validation_score : callable, default=None
        ``coef -> float``, higher is better (early stopping on held-out data); the training
        objective ``F / (C sum_i s_i)`` is monitored otherwise.
    hook : callable, default=None
        ``hook(epoch, objective, optimality, coef)`` after every epoch (and once at the start);
        a true return value stops the run after that epoch (see :mod:`mlbasics._result`).
    overlap : bool, default=None
        Compute the certificate of each epoch on a second thread while the next epoch runs.
        Only possible when nothing needs it before the next epoch (``tol=None``, no
        ``validation_score``, no ``hook``, a schedule other than ``"adaptive"``); ``None`` uses
        it then if ``X`` has at least ``OVERLAP_MIN_SIZE`` stored entries and the process may use
        two cores (``OMP_NUM_THREADS``, which joblib's workers set to their share of the cores).
        Otherwise, under the same conditions, each certificate is shared between two threads. The iterates and the trace's
        values are the same either way.
    settle_l1 : bool, default=True
        With an L1 term, give every coefficient its pending cumulative penalty at the end of
        each epoch (``run.epoch``). ``partial_fit`` passes False: the penalty stays pending in the
        run, as within one epoch, so that chunks continue as their concatenation would (the
        coefficients returned and recorded have it applied).

    Returns
    -------
    SolverResult
        ``coef`` is the averaged iterate when averaging has started, the last one otherwise;
        ``trace`` holds ``F`` and the optimality measure at the start and after every epoch.

    Notes
    -----
    Stopping rule (scikit-learn's): after each epoch the monitored value ``m`` (the validation
    score, or ``-F / (C sum_i s_i)``) *improves* when ``m >= best + tol``; after
    ``n_iter_no_change`` consecutive epochs without improvement the run stops and counts as
    converged. With ``learning_rate="adaptive"`` the schedule applies that rule itself: it divides
    the rate by 5 instead, and the run stops once the rate falls below 1e-6.

    The certificate ``(F, optimality)`` of an epoch costs a third to a half of an epoch of plain
    SGD. When the run goes on regardless of its value (above), it is computed on a second thread
    while the next epoch runs (both loops are compiled and release the GIL), and the trace's times
    are those at which the epochs ended; otherwise they include the certificates, each computed
    by two threads on large data.

    Raises
    ------
    ValueError
        When the iterates diverge; the message names the learning rate; the same error with or
        without ``overlap``.
    """
    if run.shape != objective.shape:  # (the compiled loops index the run's arrays unchecked)
        raise ValueError(
            f"the SGD run holds coefficients of shape {run.shape}, the problem needs "
            f"{objective.shape}: a run continues only on data of its classes and features."
        )
    settings = run.settings
    problem = Problem.from_objective(objective, data_weight)
    schedule = build_schedule(settings, problem, n_iter_no_change=n_iter_no_change, tol=tol)
    rng = np.random.default_rng() if rng is None else rng
    free = (
        tol is None
        and validation_score is None
        and hook is None
        and settings.learning_rate != "adaptive"
    )
    two_threads = problem.size >= OVERLAP_MIN_SIZE and _second_thread_allowed()
    if overlap is None:
        overlap = free and two_threads
    elif overlap and not free:
        raise ValueError(
            "overlap=True needs tol=None, no validation_score, no hook and a learning_rate "
            "other than 'adaptive': the stopping rule and the hook read each epoch's objective."
        )
    if overlap:
        return _sgd_overlapped(problem, run, schedule, rng, max_iter=max_iter, settle_l1=settle_l1)
    helper = _certificate_thread() if two_threads else contextlib.nullcontext()
    with helper as worker:  # worker None: every certificate on this thread
        return _sgd_loop(problem, run, schedule, rng, worker, max_iter=max_iter, tol=tol,
                         n_iter_no_change=n_iter_no_change, validation_score=validation_score,
                         hook=hook, scale=objective.scale, settle_l1=settle_l1)  # fmt: skip


def _certificate_thread() -> ThreadPoolExecutor:
    """The second thread that computes certificates (and draws orders) beside the epochs."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="sgd-certificate")


def _sgd_loop(problem: Problem, run, schedule, rng, worker, *, max_iter, tol, n_iter_no_change,
              validation_score, hook, scale, settle_l1=True) -> SolverResult:  # fmt: skip
    """:func:`sgd` one epoch after the other, each certificate read before the next epoch
    (shared with ``worker`` when one is given)."""
    settings = run.settings
    recorder = TraceRecorder(hook=hook)
    coef = run.coef(averaged=True)
    F, optimality = problem.certificate(coef, worker)
    recorder.record(F, optimality, coef)
    n = problem.n_samples
    best, stale, converged, epochs, message = -np.inf, 0, False, 0, "max_iter epochs reached"
    for epoch in range(1, max_iter + 1):
        order = rng.permutation(n) if settings.shuffle else np.arange(n)
        run.epoch(problem, order, schedule, settle_l1=settle_l1)
        epochs = epoch
        coef = run.coef(averaged=True)
        F, optimality = problem.certificate(coef, worker)
        if not np.isfinite(F):
            raise _diverged_objective(settings, schedule, run.t)
        hook_stops = recorder.record(F, optimality, coef)
        # the stopping rule is read before a stop the hook asked for, as in the other solvers:
        # an epoch that meets it is converged whoever watches
        monitored = validation_score(coef) if validation_score else -F / scale
        if settings.learning_rate == "adaptive":
            if not schedule.end_epoch(-monitored):
                converged = True
                message = f"the adaptive learning rate fell below {MIN_ADAPTIVE_RATE:g}"
                break
        elif tol is not None:
            stale = stale + 1 if monitored < best + tol else 0  # a gain of tol counts, as sklearn
            best = max(best, monitored)
            if stale >= n_iter_no_change:
                what = "validation score" if validation_score else "objective"
                converged = True
                message = f"the {what} did not improve by tol for {n_iter_no_change} epochs"
                break
        if hook_stops:
            message = STOPPED_BY_HOOK
            break
    return SolverResult(
        coef=coef,
        n_iter=epochs,
        converged=converged,
        objective=float(F),
        optimality=float(optimality),
        trace=recorder.freeze(),
        message=message,
        stopped=recorder.stopped,
    )


def _diverged_objective(settings, schedule, t) -> SGDDivergedError:
    """The error for an objective that is not finite after ``t`` updates."""
    return _diverged(settings, float(epoch_rates(schedule, max(t - 1, 0), 1)[0]), "the objective")


def _sgd_overlapped(problem: Problem, run, schedule, rng, *, max_iter,
                    settle_l1=True) -> SolverResult:  # fmt: skip
    """:func:`sgd` for ``tol=None`` with no hook nor validation: ``max_iter`` epochs, each one's
    certificate computed on a second thread while the next epoch runs.

    The second thread also draws the order of the samples of the epoch after next (so that the
    generator makes the same draws in the same order as :func:`sgd` on one thread) and computes
    its learning rates (a few arrays of ``n`` entries, off the critical path). The checks
    are those of :func:`sgd`, in the same order: when the objective of epoch ``k`` is not finite,
    that error is raised even if epoch ``k + 1`` (already under way) failed too. The last
    certificate has no epoch to hide behind: the two threads share it.
    """
    settings = run.settings
    n = problem.n_samples
    objectives, optimalities, times = [], [], []
    t_first, per_epoch = run.t, run.updates_per_epoch(n)

    def draw(epoch):
        """The order of the samples in ``epoch`` (1-based) and the rates of its updates."""
        order = rng.permutation(n) if settings.shuffle else np.arange(n)
        return order, epoch_rates(schedule, t_first + (epoch - 1) * per_epoch, per_epoch)

    def certify(coef, epoch):
        """The certificate of ``coef``, and the draw of epoch ``epoch + 2`` when there is one."""
        return problem.certificate(coef), (draw(epoch + 2) if epoch + 2 <= max_iter else None)

    def record(certificate, epoch, t):
        """Append the certificate of ``epoch`` (made after ``t`` updates) to the trace."""
        F, optimality = certificate
        if epoch >= 1 and not np.isfinite(F):
            raise _diverged_objective(settings, schedule, t)
        objectives.append(F)
        optimalities.append(optimality)

    start = time.perf_counter()
    with _certificate_thread() as worker:
        order, rates = draw(1) if max_iter >= 1 else (None, None)
        coef = run.coef(averaged=True)
        times.append(time.perf_counter() - start)
        for epoch in range(1, max_iter + 1):
            pending, pending_t = worker.submit(certify, coef, epoch - 1), run.t
            try:
                run.epoch(problem, order, schedule, rates=rates, settle_l1=settle_l1)
            except SGDDivergedError:
                record(pending.result()[0], epoch - 1, pending_t)  # raises if that one diverged
                raise
            times.append(time.perf_counter() - start)
            certificate, following = pending.result()  # the draw of epoch + 1
            order, rates = following or (None, None)
            record(certificate, epoch - 1, pending_t)
            coef = run.coef(averaged=True)
        record(problem.certificate(coef, worker), max_iter, run.t)
    trace = Trace(
        objective=np.asarray(objectives),
        optimality=np.asarray(optimalities),
        time=np.asarray(times),
    )
    return SolverResult(
        coef=coef,
        n_iter=max_iter,
        converged=False,
        objective=objectives[-1],
        optimality=optimalities[-1],
        trace=trace,
        message="max_iter epochs reached",
    )
