"""Fit time of ``mlbasics.LogisticRegression`` against scikit-learn's fastest solver.

For every case the two libraries are compared at the same accuracy: a run counts only if its final
objective ``C * sum_i loss_i + R(w)`` is within ``RTOL`` (relative) of the best known optimum. The
procedure is

1. *Reference.* Tight-tolerance fits of both libraries; the best known optimum ``F*`` is the smallest
   objective seen in the whole case (reference and tolerance-search runs).
2. *Tolerance search* (untimed, one fit each). For every solver of either library, ``tol`` runs from
   loose to tight over ``TOLS`` and stops at the first (loosest) one whose objective is within
   ``RTOL`` of ``F*``. Solvers that are far slower than the fastest one found so far are abandoned.
3. *Timing.* The mlbasics solvers and the scikit-learn solvers that are close to scikit-learn's
   fastest are re-run at their selected ``tol``, alternating between the libraries, for
   ``--repeats`` rounds, which library goes first reversed every other round; the table reports
   median times. scikit-learn's time is the smallest median among its solvers.

Where scikit-learn's ``lbfgs`` runs, it is also timed with scipy's own OpenBLAS held to one thread
(``lbfgs [scipy BLAS 1 thread]``), as mlbasics runs L-BFGS-B: out of the box, that copy's
threads spin between scipy's small calls and slow numpy's products (``mlbasics/_threads.py``).
That row shows how fast scikit-learn's lbfgs can be on this machine; the targets compare with
scikit-learn as it runs out of the box.

Objectives are evaluated for both libraries by the same code
(:class:`mlbasics.linear_model._objective.LogisticObjective`), so they are comparable digit for digit.

The compile time of the numba kernels (used by proximal Newton, i.e. L1 penalties) is measured
separately, in fresh subprocesses with an empty numba cache, and excluded from the fit times: every
solver has been run at least once in this process before it is timed.

Usage::

    python benchmarks/bench_logistic.py                 # all cases at full size (about 2 min)
    python benchmarks/bench_logistic.py --quick         # tiny sizes, one repeat (CI smoke run)
    python benchmarks/bench_logistic.py --cases dense-l2 sparse-l2 --repeats 3
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy
import sklearn
from scipy import sparse
from scipy.special import expit, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler, normalize
from threadpoolctl import threadpool_info

import mlbasics
from mlbasics._threads import scipy_blas_on_one_thread
from mlbasics.linear_model._objective import LogisticObjective, Penalty

# A run is accurate enough when (F - F*) / |F*| <= RTOL.
RTOL = 1e-6
# Tolerances tried, loosest first; the loosest accurate one is used for timing.
TOLS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10)
# Tolerance of the mlbasics reference run; scikit-learn's reference solver and tolerance are
# given by each case (saga cannot reach 1e-12 in reasonable time).
REFERENCE_TOL = 1e-12
# The tolerance search of a solver is abandoned when one fit takes longer than this many times
# the fastest accurate fit found so far in the case (it cannot be the fastest any more), or when
# the search of that solver has used SEARCH_BUDGET seconds in all.
GIVE_UP_FACTOR = 10.0
GIVE_UP_FLOOR = 1.0  # seconds: fits quicker than this are never a reason to give up
SEARCH_BUDGET = {"full": 300.0, "quick": 10.0}
# scikit-learn solvers whose search-time fit is within this factor of its fastest are timed too,
# so that the choice of "fastest" does not rest on a single noisy measurement.
CONTENDER_FACTOR = 2.0
# liblinear penalises the intercept like any other weight; a large intercept_scaling makes that
# penalty negligible, so that liblinear minimises (nearly) the same objective as the others.
LIBLINEAR_INTERCEPT_SCALING = 1000.0


# -- data ----------------------------------------------------------------------------------------
def _correlated_gaussian(rng, n, d):
    """Standardised features sharing a few latent factors (pairwise correlations around 0.2)."""
    n_factors = max(1, d // 10)
    X = rng.standard_normal((n, n_factors)) @ rng.standard_normal((n_factors, d))
    X = 0.5 * X / np.sqrt(n_factors) + rng.standard_normal((n, d))
    return StandardScaler().fit_transform(X)


def _binary_labels(rng, scores):
    """Labels drawn from the logistic model: y = 1 with probability sigmoid(score)."""
    return (rng.random(scores.shape[0]) < expit(scores)).astype(np.int64)


def _true_weights(rng, X, n_nonzero, score_std):
    """A random weight vector (``n_nonzero`` nonzero entries) giving scores of std ``score_std``."""
    d = X.shape[1]
    w = np.zeros(d)
    support = rng.choice(d, size=n_nonzero, replace=False)
    w[support] = rng.standard_normal(n_nonzero)
    return w * score_std / np.std(X @ w)


def make_dense_binary(n, d, *, n_nonzero=None, seed=0):
    """Dense correlated standardised features; binary labels from a logistic model."""
    rng = np.random.default_rng(seed)
    X = _correlated_gaussian(rng, n, d)
    w = _true_weights(rng, X, n_nonzero or d, score_std=2.0)
    return X, _binary_labels(rng, X @ w + 0.5)


def make_sparse_binary(n, d, density, *, seed=0):
    """Text-like data: nonnegative sparse features, rows of unit norm (as tf-idf); binary labels."""
    rng = np.random.default_rng(seed)
    X = sparse.random_array((n, d), density=density, format="csr", rng=rng,
                            data_sampler=lambda size: np.abs(rng.standard_normal(size)))  # fmt: skip
    X = normalize(X)  # rows of unit L2 norm
    w = 3.0 * rng.standard_normal(d)
    scores = X @ w
    return X, _binary_labels(rng, scores - scores.mean())


def make_dense_multiclass(n, d, n_classes, *, seed=0):
    """Dense correlated standardised features; labels drawn from a softmax model."""
    rng = np.random.default_rng(seed)
    X = _correlated_gaussian(rng, n, d)
    W = rng.standard_normal((n_classes, d)) / np.sqrt(d)
    P = softmax(1.5 * X @ W.T + 0.3 * rng.standard_normal(n_classes), axis=1)
    y = (P.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return X, np.minimum(y, n_classes - 1)


# -- cases ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One benchmark problem: data at full and quick size, the penalty, and the solvers to try."""

    name: str
    title: str
    make: Callable  # make(**sizes) -> (X, y)
    full: dict
    quick: dict
    penalty: str
    C: float
    sklearn_solvers: tuple
    mlbasics_solvers: tuple
    sklearn_reference: tuple  # (solver, tol) of scikit-learn's tight reference run
    target_ratio: float


CASES = {
    case.name: case
    for case in [
        Case(
            "dense-l2", "dense, L2, binary, C=1",
            make_dense_binary, dict(n=100_000, d=100), dict(n=2_000, d=20),
            "l2", 1.0,
            ("newton-cholesky", "lbfgs", "newton-cg", "liblinear", "sag", "saga"),
            ("newton", "newton-cholesky", "newton-cg", "lbfgs"),
            sklearn_reference=("newton-cholesky", 1e-12), target_ratio=1.0,
        ),
        Case(
            "dense-l1", "dense, L1, binary, C=0.1",
            make_dense_binary, dict(n=20_000, d=500, n_nonzero=50),
            dict(n=1_000, d=50, n_nonzero=10),
            "l1", 0.1,
            ("saga", "liblinear"),
            ("newton",),
            sklearn_reference=("saga", 1e-8), target_ratio=0.5,
        ),
        Case(
            "sparse-l2", "sparse (text-like), L2, binary, C=1",
            make_sparse_binary, dict(n=100_000, d=50_000, density=1e-3),
            dict(n=5_000, d=2_000, density=5e-3),
            "l2", 1.0,
            ("newton-cg", "lbfgs", "liblinear", "sag", "saga"),
            ("newton", "newton-cg", "lbfgs"),
            sklearn_reference=("newton-cg", 1e-12), target_ratio=1.0,
        ),
        Case(
            "multiclass-l2", "dense, L2, multinomial, C=1",
            make_dense_multiclass, dict(n=20_000, d=100, n_classes=10),
            dict(n=2_000, d=20, n_classes=10),
            "l2", 1.0,
            ("newton-cholesky", "lbfgs", "newton-cg", "sag", "saga"),
            ("newton", "newton-cholesky", "newton-cg", "lbfgs"),
            sklearn_reference=("newton-cholesky", 1e-12), target_ratio=1.0,
        ),
    ]
}  # fmt: skip


# -- the two libraries behind one interface --------------------------------------------------------
@dataclass(frozen=True)
class Solver:
    library: str  # "mlbasics" or "sklearn"
    name: str  # the value of the solver parameter
    label: str  # what the tables show
    # scikit-learn's lbfgs with scipy's own OpenBLAS held to one thread, as mlbasics runs
    # L-BFGS-B (mlbasics/_threads.py): shown beside the targets, never the one they compare with
    scipy_blas_one_thread: bool = False

    def estimator(self, case: Case, tol: float):
        if self.library == "mlbasics":
            return mlbasics.LogisticRegression(
                case.penalty, C=case.C, solver=self.name, tol=tol, max_iter=1000
            )
        l1_ratio = {"l2": 0.0, "l1": 1.0}[case.penalty]
        extra = {}
        if self.name == "liblinear":
            extra["intercept_scaling"] = LIBLINEAR_INTERCEPT_SCALING
        if self.name in ("sag", "saga", "liblinear"):
            extra["random_state"] = 0
        return SkLogisticRegression(
            C=case.C, l1_ratio=l1_ratio, solver=self.name, tol=tol, max_iter=100_000, **extra
        )


def mlbasics_solvers(case: Case, X, y):
    """mlbasics solvers of the case; the label of ``newton`` says which method it picks."""
    probe = mlbasics.LogisticRegression(case.penalty, C=case.C, max_iter=0).fit(X, y)
    auto = probe.solver_  # the method solver="newton" runs on this problem
    solvers = []
    for name in case.mlbasics_solvers:
        if name == auto:
            continue  # the same run as solver="newton"
        label = f"newton [{auto}]" if name == "newton" else name
        solvers.append(Solver("mlbasics", name, label))
    return solvers


def sklearn_solvers(case: Case, X):
    """scikit-learn solvers of the case (newton-cholesky only for dense data)."""
    names = [s for s in case.sklearn_solvers
             if not (s == "newton-cholesky" and sparse.issparse(X))]  # fmt: skip
    solvers = [Solver("sklearn", name, name) for name in names]
    if "lbfgs" in names:
        solvers.append(Solver("sklearn", "lbfgs", "lbfgs [scipy BLAS 1 thread]", True))
    return solvers


class Evaluator:
    """The objective of a fitted estimator of either library, computed by the same code."""

    def __init__(self, case: Case, X, y):
        classes, y_index = np.unique(y, return_inverse=True)
        n = len(y)
        if len(classes) == 2:
            Y = y_index.reshape(-1, 1).astype(float)
        else:
            Y = np.zeros((n, len(classes)))
            Y[np.arange(n), y_index] = 1.0
        X = X if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
        self._objective = LogisticObjective(
            X, Y, case.C * np.ones(n), Penalty.from_params(case.penalty), fit_intercept=True
        )

    def __call__(self, estimator) -> float:
        coef = np.hstack([estimator.coef_, estimator.intercept_[:, None]])
        return self._objective.value(coef)


def timed_fit(estimator, X, y, context=contextlib.nullcontext):
    """Fit once after a garbage collection, convergence warnings silenced; returns seconds."""
    gc.collect()
    with warnings.catch_warnings(), context():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
        return time.perf_counter() - start


def fit_once(solver: Solver, case: Case, tol: float, X, y, evaluate):
    """One fit; returns (seconds, objective, fitted estimator)."""
    estimator = solver.estimator(case, tol)
    context = scipy_blas_on_one_thread if solver.scipy_blas_one_thread else contextlib.nullcontext
    seconds = timed_fit(estimator, X, y, context)
    return seconds, evaluate(estimator), estimator


# -- one case ------------------------------------------------------------------------------------
@dataclass
class SolverRecord:
    solver: Solver
    search: list = field(default_factory=list)  # (tol, seconds, objective), loosest tol first
    gave_up: str = ""
    tol: float | None = None  # loosest accurate tol, once known
    search_seconds: float = np.nan  # the fit time seen during the search at that tol
    times: list = field(default_factory=list)  # timed runs
    objective: float = np.nan

    @property
    def median(self) -> float:
        return float(np.median(self.times)) if self.times else np.nan


def relative_gap(F, best):
    return (F - best) / abs(best)


def run_case(case: Case, *, quick: bool, repeats: int, log=print):
    sizes = case.quick if quick else case.full
    X, y = case.make(**sizes)
    n_classes = len(np.unique(y))
    evaluate = Evaluator(case, X, y)
    log(f"\n== {case.name}: {case.title}" + (" [quick sizes]" if quick else ""))
    log(f"   X {X.shape} {'sparse, nnz=' + str(X.nnz) if sparse.issparse(X) else 'dense'}, "
        f"{n_classes} classes, class frequencies {np.round(np.bincount(y) / len(y), 3).tolist()}")  # fmt: skip

    ours = [SolverRecord(s) for s in mlbasics_solvers(case, X, y)]
    theirs = [SolverRecord(s) for s in sklearn_solvers(case, X)]

    # 1. Reference: the best known optimum.
    sk_name, sk_tol = case.sklearn_reference
    reference = [(Solver("mlbasics", "newton", "newton"), REFERENCE_TOL),
                 (Solver("sklearn", sk_name, sk_name), sk_tol)]  # fmt: skip
    seen = []
    for solver, tol in reference:
        seconds, F, estimator = fit_once(solver, case, tol, X, y, evaluate)
        seen.append(F)
        log(f"   reference {solver.library} {solver.name} tol={tol:g}: objective {F:.12g}, "
            f"{np.count_nonzero(estimator.coef_)} nonzero coefficients ({seconds:.2f} s)")  # fmt: skip

    # 2. Tolerance search, mlbasics first so that there is a time to compare with.
    budget = SEARCH_BUDGET["quick" if quick else "full"]
    fastest = np.inf
    for record in ours + theirs:
        spent = 0.0
        for tol in TOLS:
            seconds, F, _ = fit_once(record.solver, case, tol, X, y, evaluate)
            record.search.append((tol, seconds, F))
            seen.append(F)
            spent += seconds
            if relative_gap(F, min(seen)) <= RTOL:
                fastest = min(fastest, seconds)
                break
            if seconds > max(GIVE_UP_FACTOR * fastest, GIVE_UP_FLOOR):
                record.gave_up = f"{seconds:.1f} s at tol={tol:g}, > {GIVE_UP_FACTOR:g}x fastest"
                break
            if spent > budget:
                record.gave_up = f"search budget of {budget:g} s used"
                break
        else:
            record.gave_up = f"not accurate at tol={TOLS[-1]:g}"
    best = min(seen)
    for record in ours + theirs:
        # Select after the search: the best known optimum may have improved meanwhile.
        for tol, seconds, F in record.search:
            if relative_gap(F, best) <= RTOL:
                record.tol, record.search_seconds = tol, seconds
                break
        log(f"   search {record.solver.library:8s} {record.solver.label:16s} "
            + " ".join(f"{tol:.0e}:{s:.2f}s/{relative_gap(F, best):.1e}"
                       for tol, s, F in record.search)
            + (f"  -> tol={record.tol:g}" if record.tol is not None
               else f"  -> none ({record.gave_up})"))  # fmt: skip

    # 3. Timing, alternating the libraries.
    accurate_theirs = [r for r in theirs if r.tol is not None]
    plain = [r for r in accurate_theirs if not r.solver.scipy_blas_one_thread]
    if plain:
        quickest = min(r.search_seconds for r in plain)
        accurate_theirs = [r for r in accurate_theirs
                           if r.search_seconds <= CONTENDER_FACTOR * quickest]  # fmt: skip
    accurate_ours = [r for r in ours if r.tol is not None]
    for round_ in range(repeats):  # which library goes first alternates from round to round
        groups = (accurate_ours, accurate_theirs)[:: 1 if round_ % 2 == 0 else -1]
        for i in range(max(len(accurate_ours), len(accurate_theirs))):
            for group in groups:
                if i < len(group):
                    record = group[i]
                    seconds, F, _ = fit_once(record.solver, case, record.tol, X, y, evaluate)
                    record.times.append(seconds)
                    record.objective = F
    return dict(case=case, best=best, ours=ours, theirs=theirs)


# -- numba compile time --------------------------------------------------------------------------
# Run by a fresh interpreter: import time, then the first and a second L1 fit (proximal Newton, the
# only user of the numba kernels) on tiny dense and sparse data; prints the timings as JSON.
COMPILE_PROBE = """
import json, time
start = time.perf_counter()
import numpy as np
from scipy import sparse
import mlbasics
result = {"import": time.perf_counter() - start}
rng = np.random.default_rng(0)
X = rng.standard_normal((200, 10))
y = (X[:, 0] + rng.standard_normal(200) > 0).astype(int)
for kind, data in [("dense", X), ("sparse", sparse.csr_array(X))]:
    for call in ("first", "warm"):
        start = time.perf_counter()
        mlbasics.LogisticRegression("l1", C=1.0).fit(data, y)
        result[kind + "_" + call] = time.perf_counter() - start
print(json.dumps(result))
"""


def measure_compile_time():
    """Fresh processes with an empty numba cache (cold compile), then with that cache filled."""
    runs = {}
    with tempfile.TemporaryDirectory() as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
        for name in ("empty cache", "filled cache"):
            out = subprocess.run([sys.executable, "-c", COMPILE_PROBE], env=env,
                                 capture_output=True, text=True, check=True)  # fmt: skip
            runs[name] = json.loads(out.stdout.strip().splitlines()[-1])
    return runs


# -- output --------------------------------------------------------------------------------------
def format_table(header, rows):
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    line = "  ".join("-" * w for w in widths)
    text = [line, "  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)), line]
    text += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join([*text, line])


def result_rows(result):
    """One row per mlbasics solver against scikit-learn's fastest accurate solver.

    The target applies to the default ``solver="newton"``; the other rows are for information,
    among them the default against scikit-learn's lbfgs with scipy's BLAS on one thread.
    """
    case = result["case"]
    timed = [r for r in result["theirs"] if r.times]
    timed_theirs = [r for r in timed if not r.solver.scipy_blas_one_thread]
    sk = min(timed_theirs, key=lambda r: r.median) if timed_theirs else None
    if sk is None:
        sk_cells = ["none accurate", "-", "-"]
    else:
        sk_cells = [
            f"{sk.solver.label} (tol={sk.tol:g})",
            f"{sk.median:.3f}",
            f"{sk.objective:.10g}",
        ]
    rows = []
    for record in result["ours"]:
        if record.times:
            ours_cells = [f"{record.solver.label} (tol={record.tol:g})", f"{record.median:.3f}",
                          f"{record.objective:.10g}"]  # fmt: skip
            ratio = record.median / sk.median if sk is not None else np.nan
        else:
            ours_cells = [f"{record.solver.label} (not accurate)", "-", "-"]
            ratio = np.inf
        default = record.solver.name == "newton"
        target = f"<= {case.target_ratio:g}" if default else ""
        if not default:
            status = "(variant)"
        elif sk is None:
            status = "-"
        else:
            status = "met" if ratio <= case.target_ratio else "MISSED"
        rows.append([case.name, *sk_cells, *ours_cells, f"{ratio:.2f}", target, status])
        for variant in (r for r in timed if r.solver.scipy_blas_one_thread and default):
            rows.append([case.name, f"{variant.solver.label} (tol={variant.tol:g})",
                         f"{variant.median:.3f}", f"{variant.objective:.10g}", *ours_cells,
                         f"{record.median / variant.median:.2f}", "", "(no target)"])  # fmt: skip
    return rows, f"{case.name}: best known objective {result['best']:.12g}"


def all_solver_rows(result):
    rows = []
    for record in result["ours"] + result["theirs"]:
        times = " ".join(f"{t:.3f}" for t in record.times) or "-"
        rows.append([result["case"].name, record.solver.library, record.solver.label,
                     f"{record.tol:g}" if record.tol is not None else "-",
                     f"{record.median:.3f}" if record.times
                     else "-" if record.tol is None else f"({record.search_seconds:.3f})",
                     times, record.gave_up or ""])  # fmt: skip
    return rows


def describe_environment():
    """Two lines: the versions measured (with the package's commit) and the machine."""
    blas = ", ".join(f"{i['internal_api']} ({i['num_threads']} threads)" for i in threadpool_info())
    return (
        f"mlbasics {mlbasics.__version__} ({package_revision()}), scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}, Python {platform.python_version()}\n"
        f"{platform.machine()}, {os.cpu_count()} logical CPUs, {blas}"
    )


def package_revision():
    """The git commit of the mlbasics checkout ('+dirty' if mlbasics/ has local changes), if any."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(mlbasics.__file__)))

    def git(*args):
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
        return out.stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "mlbasics")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and one repeat (a smoke run for CI)"
    )
    parser.add_argument(
        "--cases",
        nargs="+",
        choices=list(CASES),
        default=list(CASES),
        help="cases to run (default: all)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed rounds per case (default: 5, or 1 with --quick)",
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 5)

    print(describe_environment())
    print(f"{repeats} timed round(s), accuracy {RTOL:g} relative to the best known optimum")

    results = [run_case(CASES[name], quick=args.quick, repeats=repeats) for name in args.cases]

    print("\nAll solvers (median of the timed runs; in parentheses: the single search-time fit of "
          "solvers not timed)")  # fmt: skip
    print(format_table(
        ["case", "library", "solver", "tol", "median s", "runs (s)", "note"],
        [row for result in results for row in all_solver_rows(result)],
    ))  # fmt: skip

    print("\nmlbasics against scikit-learn's fastest accurate solver (median seconds)")
    if args.quick:
        print("(quick sizes: a smoke test; these times say nothing about the targets)")
    rows, notes = [], []
    for result in results:
        case_rows, note = result_rows(result)
        rows += case_rows
        notes.append(note)
    print(format_table(
        ["case", "sklearn solver", "sklearn s", "sklearn objective", "mlbasics solver",
         "mlbasics s", "mlbasics objective", "ratio", "target", "status"],
        rows,
    ))  # fmt: skip
    print("\n".join(notes))

    compile_runs = measure_compile_time()
    print(
        "\nnumba compile time: first L1 fit (proximal Newton) in a fresh process vs a warm fit, "
        "tiny data"
    )
    for name, run in compile_runs.items():
        print(f"  {name}: import mlbasics {run['import']:.2f} s; "
              f"dense first {run['dense_first']:.2f} s, warm {run['dense_warm']:.4f} s; "
              f"sparse first {run['sparse_first']:.2f} s, warm {run['sparse_warm']:.4f} s")  # fmt: skip


if __name__ == "__main__":
    main()
