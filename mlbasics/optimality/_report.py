"""The certificate: :class:`KKTReport`, what :func:`~mlbasics.optimality.check_kkt` returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["CONDITIONS", "KKTReport"]

#: The conditions a report can name, in the order they are printed.
CONDITIONS = (
    "stationarity",
    "primal feasibility",
    "dual feasibility",
    "complementary slackness",
    "duality gap",
    "Newton decrement",
)

#: How many of the worst samples are kept per condition.
N_WORST = 5


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class KKTReport:
    """Residuals of the optimality conditions of a fitted model, and its duality gap.

    Attributes
    ----------
    ok : bool
        Every residual is at most its threshold, ``tol`` unless ``thresholds`` says otherwise
        (``bool(report)`` is the same).
    violations : dict of str to float
        Largest residual of each condition that applies to the model (see
        :func:`~mlbasics.optimality.check_kkt` for the definitions and units). ``"duality gap"``
        holds ``|P - D| / sum_i C_i`` (largest over the binary problems of an SVM): the gap per unit
        of the data term's weight, which is at most the largest margin residual when the other
        conditions hold (see :attr:`relative_gap` for ``(P - D) / P``). For a logistic regression it
        is ``|P - D| / min(sum_i c_i, P)`` with a penalty (with a pure L1 penalty, the divisor
        never below what float64 leaves in the gap of an optimal model); see
        :func:`~mlbasics.optimality.check_kkt`. An unpenalised logistic regression
        has no gap; once its stationarity passes, ``"Newton decrement"`` holds ``g' H^+ g / (2 sum_i
        c_i)``. An L2 penalty at a ``C`` where the gap cannot resolve ``tol`` in float64 has, once
        its stationarity passes and its gap fails, ``"Newton decrement"`` (``g' H^+ g / (2 min(sum_i
        c_i, P))``) judged in place of the ``"duality gap"`` (kept, not judged).
    worst : dict of str to ndarray of int
        For each per-sample condition, the indices (rows of ``X``) of up to five samples with the
        largest positive residuals, worst first. For a logistic regression, whose stationarity
        residual is one per coefficient, the columns of ``X`` (``worst_of="features"``), the
        intercept's derivative counting as column ``intercept_index``.
    primal_objective, dual_objective, duality_gap : float
        ``P`` at the fitted model, ``D`` at the dual point read from (or built from) it, and
        ``P - D`` (summed over the binary problems of a one-vs-one SVM). ``D`` is ``-inf`` and the
        gap ``inf`` when the dual point is outside its box (an SVM's ``alpha_i`` out of ``[0,
        C_i]``); an SVM's ``alpha`` in the box with ``sum_i alpha_i y_i != 0`` has ``D``
        evaluated at the feasible point with the class of the excess scaled down (the imbalance
        is the ``"stationarity"`` residual), so that ``P - D`` bounds ``P - P*``; both are NaN
        when the model has no dual
        with a finite objective to evaluate (logistic regression without a penalty), or when no
        feasible dual point could be built (a logistic regression whose intercepts cannot balance
        the classes' residuals: its ``"duality gap"`` violation is then ``inf``, a failure). A value
        beyond the float range (e.g. a logistic regression with ``C=1e300``, whose ``D`` is of
        order ``C^2``) is ``inf`` or ``-inf``: the residuals and the ``"duality gap"`` entry of
        ``violations`` are computed per unit of ``c`` and stay finite as long as they
        themselves are representable (else ``inf``, a failure).
    problem_gaps : ndarray
        ``P - D`` of every binary problem (one-vs-one SVMs), else one entry.
    tol : float
        The tolerance of the verdict.
    thresholds : dict of str to float
        The conditions judged at a threshold other than ``tol``: a logistic regression with an L1
        term has its stationarity residual judged at ``min(tol, 0.1 l1 / sum_i c_i)`` (not below
        float64's resolution; see :func:`~mlbasics.optimality.check_kkt`); an L2 gap that cannot
        resolve ``tol`` (see ``violations``) at ``inf``, not judged (printed so). Empty otherwise.
    model : str
        What was judged, e.g. ``"SVC (hinge, rbf kernel, 3 classes)"``.
    advice : str
        A line for the printed report when the checker knows a likely reason for a failure,
        else empty.
    worst_of : str
        What the indices of ``worst`` count: ``"samples"`` (rows) or ``"features"`` (columns).
    intercept_index : int or None
        With ``worst_of="features"``, the index that stands for the intercept in ``worst``: the
        number of columns of ``X`` (one past the last); printed as ``intercept``. None when the
        model has none.
    caveat : str
        A limit of the certificate itself, printed whatever the verdict; empty when there is
        none. An SVM whose kernel matrix is not positive semidefinite (or was too large to
        check) gets one: its primal is not convex, and ``ok`` then certifies a KKT point, not
        an optimum.
    """

    violations: dict
    worst: dict
    primal_objective: float
    dual_objective: float
    duality_gap: float
    problem_gaps: np.ndarray
    tol: float
    model: str
    advice: str = ""
    worst_of: str = "samples"
    intercept_index: int | None = None
    thresholds: dict = field(default_factory=dict)
    caveat: str = ""
    ok: bool = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "ok", not self.failed)

    @property
    def failed(self) -> list[str]:
        """Names of the conditions whose residual exceeds its threshold (NaN counts as a
        failure)."""
        return [
            name for name, value in self.violations.items() if not value <= self.threshold(name)
        ]

    def threshold(self, name) -> float:
        """The largest residual of condition ``name`` that passes."""
        return self.thresholds.get(name, self.tol)

    @property
    def relative_gap(self) -> float:
        """``(P - D) / |P|`` over the whole model."""
        scale = max(abs(self.primal_objective), np.finfo(float).tiny)
        return self.duality_gap / scale

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = "OK" if self.ok else "FAILED: " + ", ".join(self.failed)
        lines = [f"KKT report for {self.model} at tol={self.tol:g}: {verdict}"]
        for name in CONDITIONS:
            if name not in self.violations:
                continue
            value = self.violations[name]
            passes = value <= self.threshold(name)
            mark = "ok" if passes else "VIOLATED"
            if name in self.thresholds:
                at = self.thresholds[name]
                mark = "not judged" if at == np.inf else f"{mark} (at {at:.3g})"
            worst = self.worst.get(name)
            where = ""
            if worst is not None and len(worst) and not passes:
                names = ("intercept" if i == self.intercept_index else str(int(i)) for i in worst)
                where = f"  worst {self.worst_of}: " + ", ".join(names)
            lines.append(f"  {name:<24s} {value:10.3e}  {mark}{where}")
        lines.append(
            f"  primal {self.primal_objective:.10g}  dual {self.dual_objective:.10g}  "
            f"gap {self.duality_gap:.3e} (relative {self.relative_gap:.3e})"
        )
        if self.advice and not self.ok:
            lines.append(f"  {self.advice}")
        if self.caveat:
            lines.append(f"  {self.caveat}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<KKTReport ok={self.ok} violations={self.violations!r}>"


def model_name(model) -> str:
    """The class name a report gives ``model`` (a wrapper's ``report_name``: the model's own)."""
    return getattr(model, "report_name", type(model).__name__)


def worst_indices(residual: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``index`` of the (at most :data:`N_WORST`) largest positive residuals, worst first."""
    return worst_entries(residual, index)[0]


def worst_entries(residual: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`worst_indices` and the residuals there, worst first."""
    positive = np.flatnonzero(residual > 0)
    if positive.size == 0:
        return np.empty(0, dtype=np.intp), np.empty(0)
    values = residual[positive]
    if values.size > N_WORST:  # keep the N_WORST largest (ties: the first ones) before sorting
        kth = np.partition(values, values.size - N_WORST)[values.size - N_WORST]
        above = values > kth
        tied = values == kth
        keep = above | (tied & (np.cumsum(tied) <= N_WORST - np.count_nonzero(above)))
        positive, values = positive[keep], values[keep]
    order = np.argsort(-values, kind="stable")
    return np.asarray(index[positive[order]], dtype=np.intp), values[order]


def merge_worst(entries) -> np.ndarray:
    """The (at most :data:`N_WORST`) worst indices over several :func:`worst_entries` lists.

    A sample in several lists (an SVM's sample in several one-vs-one problems) counts with its
    largest residual. The global worst are among the lists' own worst: a sample left out of a
    list has :data:`N_WORST` others at least as bad in it.
    """
    largest: dict[int, float] = {}
    for indices, values in entries:
        for i, v in zip(indices.tolist(), values.tolist(), strict=True):
            largest[i] = max(largest.get(i, v), v)
    ranked = sorted(largest, key=lambda i: -largest[i])  # stable: ties keep first-seen order
    return np.asarray(ranked[:N_WORST], dtype=np.intp)
