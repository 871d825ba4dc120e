"""The batched-working-set solver against the pair SMO and libsvm, and its dispatch in solve_dual."""

from __future__ import annotations

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import sparse
from sklearn import svm
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from mlbasics import SVC
from mlbasics.kernels import KernelSpec, resolve_gamma
from mlbasics.optimality import check_kkt
from mlbasics.svm import _batched, _dual, _smo

#: The four kernels and their parameters. The sigmoid kernel is indefinite; with gamma="scale" on
#: breast cancer (smallest eigenvalue about -4 at gamma=0.01) the dual is not convex and the two
#: methods stop at different stationary points (measured: -205 against -150). At gamma=0.002 it is
#: nearly positive semi-definite (smallest eigenvalue -0.09 of 15) and the optimum is shared.
KERNELS = {"linear": {}, "poly": {}, "rbf": {}, "sigmoid": {"gamma": 0.002}}


@pytest.fixture(scope="module")
def binary_1500():
    """Binary, 1500 x 20 (10 informative, 5% flipped labels), standardised."""
    X, y = make_classification(
        1500, 20, n_informative=10, flip_y=0.05, random_state=0
    )  # fmt: skip
    return StandardScaler().fit_transform(X), y


@pytest.fixture
def force_batched(monkeypatch):
    """solve_dual hands every eligible problem to the batched solver, with q = 64 (many rounds)."""
    monkeypatch.setattr(_batched, "BATCHED_MIN", 0)
    monkeypatch.setattr(_batched, "WORKING_SET", 64)


@pytest.fixture
def calls(monkeypatch):
    """Counts the calls of the batched solver (through solve_dual's dispatch)."""
    counter = []
    original = _batched.solve_batched

    def counting(*args, **kwargs):
        counter.append(args[0].shape[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(_batched, "solve_batched", counting)
    return counter


def spec_of(kernel, X, gamma="scale"):
    return KernelSpec(kernel, resolve_gamma(gamma, X), 0.0, 3)


def dual_objective(c, gram):
    """``1/2 c'Kc - sum |c|`` from the signed coefficients, by the independent kernel matrix."""
    return 0.5 * c @ gram @ c - np.abs(c).sum()


def binary_objective(model, X):
    """The hinge dual objective of a binary SVC (ours or scikit-learn's), from public attributes
    and scikit-learn's kernel matrix."""
    params = {} if model.kernel == "linear" else {"gamma": resolve_gamma(model.gamma, X)}
    if model.kernel in ("poly", "sigmoid"):
        params["coef0"] = model.coef0
    if model.kernel == "poly":
        params["degree"] = model.degree
    gram = pairwise_kernels(model.support_vectors_, metric=model.kernel, **params)
    return dual_objective(model.dual_coef_.ravel(), gram)


@pytest.mark.parametrize("kernel", KERNELS)
def test_batched_agrees_with_pair_smo(kernel, breast_cancer):
    X, y = breast_cancer
    y_pm = np.where(y == 1, 1.0, -1.0)
    spec = spec_of(kernel, X, **KERNELS[kernel])
    upper = np.full(len(y), 2.0)
    pair = _smo.solve_dual(X, y_pm, upper, spec, tol=1e-3)
    batched = _batched.solve_batched(X, y_pm, upper, spec, tol=1e-3, q=64)
    assert batched.converged and batched.gap < 1e-3
    assert batched.n_iter > 0 and len(batched.trace) >= 2
    np.testing.assert_allclose(batched.objective, pair.objective, rtol=1e-4)
    np.testing.assert_allclose(batched.rho, pair.rho, atol=1e-3)
    # the reported objective is that of the returned alpha (independent kernel matrix)
    c = y_pm * batched.alpha
    gram = spec.matrix(X, X)
    np.testing.assert_allclose(batched.objective, dual_objective(c, gram), rtol=1e-6)
    # feasible: the box and the equality
    assert np.all(batched.alpha >= 0) and np.all(batched.alpha <= upper)
    assert abs(y_pm @ batched.alpha) <= 1e-9 * upper.sum()
    # the primal certificate: weak duality, and a gap of the size tol allows
    assert batched.primal >= -batched.objective - 1e-9
    assert batched.primal + batched.objective <= 1e-2 * abs(batched.objective)


@pytest.mark.parametrize("kernel", KERNELS)
def test_batched_svc_matches_libsvm(kernel, breast_cancer, force_batched, calls):
    X, y = breast_cancer
    ours = SVC(kernel=kernel, C=2.0, **KERNELS[kernel]).fit(X, y)
    ref = svm.SVC(kernel=kernel, C=2.0, **KERNELS[kernel]).fit(X, y)
    assert calls == [len(y)]
    np.testing.assert_allclose(binary_objective(ours, X), binary_objective(ref, X), rtol=1e-4)
    np.testing.assert_allclose(ours.objective_[0], binary_objective(ours, X), rtol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-3)
    assert np.mean(ours.predict(X) == ref.predict(X)) >= 0.995
    np.testing.assert_allclose(ours.n_support_, ref.n_support_, rtol=0.05, atol=2)


def test_indefinite_sigmoid_kernel_still_reaches_a_stationary_point(breast_cancer):
    X, y = breast_cancer
    y_pm = np.where(y == 1, 1.0, -1.0)
    spec = spec_of("sigmoid", X)
    gram = spec.matrix(X, X)
    assert np.linalg.eigvalsh(gram).min() < -1.0  # genuinely indefinite
    upper = np.full(len(y), 2.0)
    solution = _batched.solve_batched(X, y_pm, upper, spec, q=64)
    assert solution.converged and solution.gap < 1e-3
    assert np.all(solution.alpha >= 0) and np.all(solution.alpha <= upper)
    # m - M < tol, checked from scratch: F = K (y alpha) - y, I_up and I_low from alpha
    F = gram @ (y_pm * solution.alpha) - y_pm
    up = np.where(y_pm > 0, solution.alpha < upper, solution.alpha > 0)
    low = np.where(y_pm > 0, solution.alpha > 0, solution.alpha < upper)
    assert np.max(-F[up]) + np.max(F[low]) < 1e-3 + 1e-5  # float32 rows in the solver


def test_batched_svc_matches_libsvm_on_2000_samples(force_batched, calls):
    X, y = make_classification(2000, 20, n_informative=10, flip_y=0.05, random_state=1)
    X = StandardScaler().fit_transform(X)
    X_test = np.random.default_rng(0).standard_normal((1000, 20))
    ours = SVC().fit(X, y)
    ref = svm.SVC().fit(X, y)
    assert calls == [2000]
    np.testing.assert_allclose(binary_objective(ours, X), binary_objective(ref, X), rtol=1e-4)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-3)
    assert np.mean(ours.predict(X_test) == ref.predict(X_test)) >= 0.995


def pair_objectives(model, gram):
    """Dual objective of every one-vs-one problem from ``dual_coef_`` (libsvm's layout: the pair
    (a, b) keeps class a's coefficients in row b - 1 and class b's in row a), ``gram`` the kernel
    matrix of the support vectors."""
    bounds = np.concatenate([[0], np.cumsum(model.n_support_)])
    values = []
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        ga, gb = np.arange(bounds[a], bounds[a + 1]), np.arange(bounds[b], bounds[b + 1])
        idx = np.concatenate([ga, gb])
        c = np.concatenate([model.dual_coef_[b - 1, ga], model.dual_coef_[a, gb]])
        values.append(dual_objective(c, gram[np.ix_(idx, idx)]))
    return np.array(values)


def test_batched_multiclass_with_class_and_sample_weights_matches_libsvm(
    wine, force_batched, calls
):
    X, y = wine
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    params = {"C": 3.0, "class_weight": {0: 1.0, 1: 2.5, 2: 0.7}}
    ours = SVC(**params).fit(X, y, sample_weight=weights)
    ref = svm.SVC(**params).fit(X, y, sample_weight=weights)
    assert len(calls) == 3  # one batched solve per pair of classes
    assert np.mean(ours.predict(X) == ref.predict(X)) >= 0.995
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-3)
    gamma = resolve_gamma("scale", X)
    values = [
        pair_objectives(model, pairwise_kernels(model.support_vectors_, metric="rbf", gamma=gamma))
        for model in (ours, ref)
    ]
    np.testing.assert_allclose(values[0], values[1], rtol=1e-4)
    np.testing.assert_allclose(ours.objective_, values[0], rtol=1e-5)


@pytest.mark.parametrize("kernel", ["rbf", "poly"])
def test_batched_squared_hinge_agrees_with_pair_smo(kernel, binary_1500):
    X, y = binary_1500
    y_pm = np.where(y == 1, 1.0, -1.0)
    spec = spec_of(kernel, X)
    upper = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    pair = _smo.solve_dual(X, y_pm, upper, spec, loss="squared_hinge")
    batched = _batched.solve_batched(X, y_pm, upper, spec, loss="squared_hinge", q=128)
    assert batched.converged
    np.testing.assert_allclose(batched.objective, pair.objective, rtol=1e-4)
    np.testing.assert_allclose(batched.rho, pair.rho, atol=1e-3)
    # the squared-hinge dual has no upper bound; its objective includes diag(1 / (2 C))
    assert np.all(batched.alpha >= 0) and np.any(batched.alpha > upper)
    c = y_pm * batched.alpha
    expected = dual_objective(c, spec.matrix(X, X)) + 0.5 * np.sum(batched.alpha**2 / (2 * upper))
    np.testing.assert_allclose(batched.objective, expected, rtol=1e-6)


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_svc_fitted_by_the_batched_solver_passes_kkt(loss, breast_cancer, force_batched, calls):
    X, y = breast_cancer
    model = SVC(loss=loss, C=1.5).fit(X, y)
    assert calls == [len(y)]
    report = check_kkt(model, X, y, tol=1e-3)
    assert report.ok, str(report)


@pytest.mark.parametrize("kernel", ["linear", "poly", "rbf"])
def test_tight_batched_fit_leaves_kkt_residuals_below_1e_5(kernel, breast_cancer, force_batched):
    # the linear kernel's rows from float32 products left 2.6e-5 (the pair SMO: 8e-6)
    X, y = breast_cancer
    model = SVC(kernel=kernel, tol=1e-6).fit(X, y)
    report = check_kkt(model, X, y, tol=1e-5)
    assert report.ok, str(report)


def test_dispatch_picks_batched_from_batched_min_and_pair_smo_otherwise(
    binary_1500, monkeypatch, calls
):
    X, y = binary_1500
    monkeypatch.setattr(_batched, "BATCHED_MIN", 1000)
    SVC().fit(X[:999], y[:999])
    assert calls == []
    SVC().fit(X[:1000], y[:1000])
    assert calls == [1000]
    # never for sparse input, a precomputed or callable kernel, or the logistic loss
    SVC().fit(sparse.csr_matrix(X), y)
    SVC(kernel="precomputed").fit(pairwise_kernels(X, metric="rbf", gamma=0.05), y)
    SVC(kernel=lambda A, B: A @ B.T).fit(X, y)
    SVC(loss="logistic").fit(X, y)
    assert calls == [1000]
    # nor when q rows do not fit the cache: 256 rows of 1500 float32 entries are 1.46 MB
    SVC(cache_size=1.4).fit(X, y)
    assert calls == [1000]
    SVC(cache_size=1.5).fit(X, y)
    assert calls == [1000, 1500]


def test_batched_applies_reads_its_constants(binary_1500, monkeypatch):
    X, _ = binary_1500
    spec = KernelSpec("rbf", 0.05)
    assert not _batched.batched_applies(X, spec, "hinge", 200.0)  # 1500 < BATCHED_MIN
    monkeypatch.setattr(_batched, "BATCHED_MIN", 1500)
    assert _batched.batched_applies(X, spec, "hinge", 200.0)
    assert _batched.batched_applies(X, spec, "squared_hinge", 200.0)
    assert not _batched.batched_applies(X, spec, "logistic", 200.0)
    assert not _batched.batched_applies(sparse.csr_matrix(X), spec, "hinge", 200.0)
    assert not _batched.batched_applies(X, KernelSpec("precomputed"), "hinge", 200.0)


def test_hook_stops_the_batched_solver_with_a_feasible_iterate(binary_1500):
    X, y = binary_1500
    y_pm = np.where(y == 1, 1.0, -1.0)
    upper = np.ones(len(y))
    seen = []

    def hook(record, objective, gap, iterate):
        seen.append((record, objective, gap, iterate))
        return record == 1

    solution = _batched.solve_batched(
        X, y_pm, upper, spec_of("rbf", X), tol=1e-6, q=32, hook=hook
    )  # fmt: skip
    assert solution.stopped and not solution.converged
    assert [s[0] for s in seen] == [0, 1]
    assert seen[0][3] is None and np.isinf(seen[0][2])  # the start: no iterate yet
    alpha, rho, n_iter = seen[1][3]
    np.testing.assert_array_equal(alpha, solution.alpha)
    assert n_iter == solution.n_iter == _dual.CHUNK  # the records fall where the pair SMO's do
    assert np.isfinite(rho)
    assert np.all(alpha >= 0) and np.all(alpha <= upper) and abs(y_pm @ alpha) < 1e-9
    assert len(solution.trace) == 2
    # the iterate seen by the hook is that of a run capped at the same number of pair updates
    capped = _batched.solve_batched(
        X, y_pm, upper, spec_of("rbf", X), tol=1e-6, q=32, max_iter=_dual.CHUNK
    )  # fmt: skip
    np.testing.assert_array_equal(capped.alpha, alpha)
    assert capped.rho == pytest.approx(rho, rel=1e-12)


def test_small_max_iter_stops_unconverged_and_svc_warns(breast_cancer, force_batched, calls):
    X, y = breast_cancer
    y_pm = np.where(y == 1, 1.0, -1.0)
    solution = _batched.solve_batched(
        X, y_pm, np.ones(len(y)), spec_of("rbf", X), max_iter=50, q=64
    )  # fmt: skip
    assert not solution.converged and not solution.stopped
    assert solution.n_iter == 50 and solution.gap > 1e-3
    with pytest.warns(ConvergenceWarning, match="max_iter=7"):
        model = SVC(max_iter=7).fit(X, y)
    assert model.n_iter_[0] == 7 and not model.converged_
    assert model.predict(X).shape == y.shape


def test_log_gets_the_gap_of_every_round_and_nothing_is_printed(breast_cancer, capsys):
    X, y = breast_cancer
    y_pm = np.where(y == 1, 1.0, -1.0)
    logged = []
    solution = _batched.solve_batched(
        X, y_pm, np.ones(len(y)), spec_of("rbf", X), q=32, log=logged.append
    )  # fmt: skip
    assert capsys.readouterr().out == ""  # the solver reports through log only
    lines = [line for line in logged if " round " in line]
    gaps = [float(line.split("gap")[1].split()[0]) for line in lines]
    assert len(lines) >= 2 and gaps[-1] < 1e-3 <= gaps[0]
    assert gaps[-1] == pytest.approx(solution.gap, rel=1e-3)


def test_trace_falls_and_ends_at_the_solution(binary_1500):
    X, y = binary_1500
    y_pm = np.where(y == 1, 1.0, -1.0)
    solution = _batched.solve_batched(X, y_pm, np.ones(len(y)), spec_of("rbf", X), q=32)
    trace = solution.trace
    assert trace.objective[0] == 0.0 and len(trace) >= 3
    assert np.all(np.diff(trace.objective) <= 1e-9)
    np.testing.assert_allclose(trace.objective[-1], solution.objective, rtol=1e-6)
    assert trace.optimality[-1] == solution.gap < 1e-3


@pytest.mark.parametrize("q", [4, 5, 5000])
def test_extreme_working_set_sizes_reach_the_same_optimum(q, breast_cancer):
    X, y = breast_cancer
    y_pm = np.where(y == 1, 1.0, -1.0)
    spec = spec_of("rbf", X)
    upper = np.ones(len(y))
    pair = _smo.solve_dual(X, y_pm, upper, spec)
    batched = _batched.solve_batched(X, y_pm, upper, spec, q=q)
    assert batched.converged
    np.testing.assert_allclose(batched.objective, pair.objective, rtol=1e-4)


def test_inputs_are_not_modified(breast_cancer):
    X, y = breast_cancer
    X = X.copy()
    y_pm = np.where(y == 1, 1.0, -1.0)
    upper = np.full(len(y), 0.7)
    copies = (X.copy(), y_pm.copy(), upper.copy())
    _batched.solve_batched(X, y_pm, upper, spec_of("rbf", X), loss="squared_hinge", q=32)
    for before, after in zip(copies, (X, y_pm, upper), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"loss": "logistic"}, "losses"),
        ({"q": 3}, "q must be at least 4"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, match, breast_cancer):
    X, y = breast_cancer
    y_pm = np.where(y == 1, 1.0, -1.0)
    with pytest.raises(ValueError, match=match):
        _batched.solve_batched(X, y_pm, np.ones(len(y)), spec_of("rbf", X), **kwargs)


def test_sparse_or_precomputed_input_is_rejected(breast_cancer):
    X, y = breast_cancer
    y_pm = np.where(y == 1, 1.0, -1.0)
    with pytest.raises(ValueError, match="dense X and a named kernel"):
        _batched.solve_batched(sparse.csr_matrix(X), y_pm, np.ones(len(y)), spec_of("rbf", X))
    with pytest.raises(ValueError, match="dense X and a named kernel"):
        _batched.solve_batched(X @ X.T, y_pm, np.ones(len(y)), KernelSpec("precomputed"))


def _blas_threads():
    """The thread count of each BLAS library loaded (SCS brings a single-threaded OpenBLAS)."""
    found = [info for info in threadpool_info() if info["user_api"] == "blas"]
    return tuple(info["num_threads"] for info in sorted(found, key=lambda info: info["filepath"]))


def test_blas_runs_on_one_thread_during_the_solve_and_is_restored(breast_cancer, monkeypatch):
    X, y = breast_cancer
    y_pm = np.where(y == 1, 1.0, -1.0)
    seen = []
    original = _batched._solve

    def spying(*args):
        seen.append(_blas_threads())
        return original(*args)

    monkeypatch.setattr(_batched, "_solve", spying)
    with threadpool_limits(limits=2, user_api="blas"):  # a baseline the limit must change
        baseline = _blas_threads()
        assert max(baseline) == 2
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _batched.solve_batched(X, y_pm, np.ones(len(y)), spec_of("rbf", X), q=64)
        assert seen == [(1,) * len(baseline)]
        assert _blas_threads() == baseline


def test_overlapping_solves_in_threads_leave_the_blas_setting_alone(breast_cancer, monkeypatch):
    """OpenBLAS's thread count is process-wide: two solves in worker threads, the first to start
    ending last, left the process on one thread for good when each saved and restored it. Only
    the main thread limits it now; worker threads leave it as it is."""
    X, y = breast_cancer
    y_pm = np.where(y == 1, 1.0, -1.0)
    first_inside, second_done = threading.Event(), threading.Event()
    original = _batched._solve
    seen = {}

    def solve_in_order(*args):
        if not first_inside.is_set():  # the first solve waits for the second to end
            first_inside.set()
            assert second_done.wait(timeout=60)
        seen[threading.current_thread().name] = _blas_threads()
        return original(*args)

    monkeypatch.setattr(_batched, "_solve", solve_in_order)
    args = (X, y_pm, np.ones(len(y)), spec_of("rbf", X))
    with threadpool_limits(limits=2, user_api="blas"):
        baseline = _blas_threads()
        assert max(baseline) == 2
        with ThreadPoolExecutor(max_workers=2) as pool:
            slow = pool.submit(_batched.solve_batched, *args, q=64)
            assert first_inside.wait(timeout=60)
            fast = pool.submit(_batched.solve_batched, *args, q=64)
            fast.result()
            second_done.set()
            slow.result()
        assert list(seen.values()) == [baseline, baseline]
        assert _blas_threads() == baseline
        # the main thread's solve limits it, and a worker's solve meanwhile changes nothing
        main_inside, worker_done = threading.Event(), threading.Event()
        first_inside.set()

        def main_solve(*args):
            seen["main"] = _blas_threads()
            main_inside.set()
            assert worker_done.wait(timeout=60)
            return original(*args)

        monkeypatch.setattr(_batched, "_solve", main_solve)
        with ThreadPoolExecutor(max_workers=1) as pool:

            def worker():
                assert main_inside.wait(timeout=60)
                monkeypatch.setattr(_batched, "_solve", original)
                result = _batched.solve_batched(*args, q=64)
                worker_done.set()
                return result

            other = pool.submit(worker)
            mine = _batched.solve_batched(*args, q=64)
            other.result()
        assert seen["main"] == (1,) * len(baseline)
        assert _blas_threads() == baseline
    assert fast.result().objective == pytest.approx(slow.result().objective, rel=1e-12)
    assert mine.objective == pytest.approx(other.result().objective, rel=1e-12)


@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_rows_in_several_matrix_products_give_the_same_solution(kernel, binary_1500, monkeypatch):
    """PRODUCT_BYTES splits the rows of a round into pieces only above n = 32 000 (float32);
    here it is made small enough to split every round into 3-row products."""
    X, y = binary_1500
    y_pm = np.where(y == 1, 1.0, -1.0)
    args = (X, y_pm, np.ones(len(y)), spec_of(kernel, X))
    whole = _batched.solve_batched(*args, q=64)
    itemsize = 4 if kernel == "rbf" else 8
    monkeypatch.setattr(_batched, "PRODUCT_BYTES", 3 * len(y) * itemsize)
    pieces = _batched.solve_batched(*args, q=64)
    assert whole.converged and pieces.converged
    # float32 rbf rows: a 3-row product rounds differently from a 64-row one (sgemm blocking)
    np.testing.assert_allclose(pieces.objective, whole.objective, rtol=1e-5)
    np.testing.assert_allclose(pieces.rho, whole.rho, atol=1e-3)


def test_default_working_set_agrees_with_pair_smo_and_libsvm(binary_1500, force_batched, calls,
                                                             monkeypatch):  # fmt: skip
    monkeypatch.setattr(_batched, "WORKING_SET", 256)  # the default, undoing force_batched's 64
    X, y = binary_1500
    ours = SVC().fit(X, y)
    assert calls == [len(y)]
    ref = svm.SVC().fit(X, y)
    np.testing.assert_allclose(binary_objective(ours, X), binary_objective(ref, X), rtol=1e-4)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-3)
    assert np.mean(ours.predict(X) == ref.predict(X)) >= 0.995


def test_a_stop_asked_at_the_start_takes_effect_after_the_first_chunk_as_in_the_pair_smo(
    binary_1500,
):
    X, y = binary_1500
    y_pm = np.where(y == 1, 1.0, -1.0)
    args = (X, y_pm, np.ones(len(y)), spec_of("rbf", X))
    pair = _smo.solve_dual(*args, tol=1e-6, shrinking=False, hook=lambda *a: True)
    monkeypatch_free = _batched.solve_batched(*args, tol=1e-6, q=32, hook=lambda *a: True)
    for solution in (pair, monkeypatch_free):
        assert solution.stopped and not solution.converged
        assert solution.n_iter == _dual.CHUNK and len(solution.trace) == 2
        assert solution.objective < 0.0  # it moved: not the alpha = 0 of the start


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_negative_pair_curvature_is_confirmed_in_float64(force_batched, calls, seed):
    # poly of degree 1 with coef0 = 1e8: K + diag(1 / (2 C)) is positive definite, but the
    # float32 block K_BB (values 1e8 + O(1), stored 8 apart) rounded a pair's curvature to <= 0
    # and the batched SMO said the kernel was not positive semidefinite; the pair SMO confirms
    # such a curvature from float64 values. SMO may still fail on this kernel (the cache cannot
    # resolve it), but not with that diagnosis.
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((300, 3))
    y = (X[:, 0] + 0.3 * rng.standard_normal(300) > 0).astype(int)
    model = SVC(kernel="poly", degree=1, gamma=1.0, coef0=1e8, loss="squared_hinge")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
    except ValueError as exc:
        assert "positive semidefinite" not in str(exc)
    assert calls  # the batched solver ran


def test_the_batched_default_cap_is_ten_times_the_pair_smos(
    binary_1500, force_batched, monkeypatch
):
    # The local SMOs make 4 to 7 times the pair SMO's updates; held to its cap, a problem the
    # pair SMO and libsvm solved stopped short (6 200 samples, rbf, C = 1e4: a review). Here the
    # pair SMO's default cap is made 500 updates: the batched run may take 5 000.
    monkeypatch.setattr(_batched, "default_max_iter", lambda n: 500)
    with pytest.warns(ConvergenceWarning, match="max_iter=5000"):
        model = SVC(C=1e4).fit(*binary_1500)
    assert model.n_iter_[0] == 5000
