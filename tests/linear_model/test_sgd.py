"""LogisticRegression(solver="sgd"): the same objective as Newton, reached by stochastic gradients."""

import re
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import sparse
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from mlbasics import LogisticRegression
from mlbasics.linear_model import _logistic as logistic_module
from mlbasics.linear_model import _sgd as sgd_module
from mlbasics.linear_model._objective import (
    LogisticObjective,
    Penalty,
    logistic_objective,
    target_matrix,
)
from mlbasics.linear_model._sgd import (
    OPTIMIZERS,
    CompiledRun,
    MiniBatchRun,
    Problem,
    SGDDivergedError,
    SGDSettings,
    build_schedule,
    epoch_rates,
    intercept_rate,
    make_run,
    sgd,
)
from mlbasics.linear_model._sgd_kernels import l1_catch_up, sgd_epoch_csr, sgd_epoch_dense
from mlbasics.optim import make_optimizer, make_schedule

SGD = {"solver": "sgd"}


@pytest.fixture(scope="module")
def newton_l2(breast_cancer):
    X, y = breast_cancer
    return LogisticRegression(tol=1e-10).fit(X, y)


def _relative_gap(model, reference):
    return (model.objective_ - reference.objective_) / reference.objective_


# -- the same objective as Newton, reached in a few epochs ----------------------------------------


def test_sgd_reaches_newton_objective_in_30_epochs(breast_cancer, newton_l2, seed):
    X, y = breast_cancer
    model = LogisticRegression(**SGD, max_iter=30, tol=None, random_state=seed).fit(X, y)
    assert model.n_iter_[0] == 30
    assert 0.0 <= _relative_gap(model, newton_l2) <= 1e-2


def test_averaged_sgd_reaches_newton_objective_in_30_epochs(breast_cancer, newton_l2, seed):
    # Averaging from the first update with the decaying 'optimal' rates keeps the poor early
    # iterates in the mean; a constant rate averaged after a few epochs does much better.
    X, y = breast_cancer
    n = len(y)
    model = LogisticRegression(**SGD, learning_rate="constant", eta0=0.05, average=10 * n,
                               max_iter=30, tol=None, random_state=seed).fit(X, y)  # fmt: skip
    assert 0.0 <= _relative_gap(model, newton_l2) <= 1e-2


# The issue asks for 1e-3; no setting found reaches it for every seed in 30 epochs on this
# ill-conditioned problem. benchmarks/experiment_averaged_sgd.py holds the evidence: for SGD with
# independent draws, Polyak and Juditsky's asymptotic floor of the averaged iterate,
# tr(H^-1 S) / (2T) at T = 30 n, is 2.9e-3 here; only reshuffling goes below it. Worst of 10 seeds
# (2026-12-04): constant rate 0.05 averaged over the last 20 epochs, and AdaGrad (rate 0.3, last
# 10 epochs) and scikit-learn's SGDClassifier, all above 1e-3; a rate decaying linearly to zero
# over the 30 epochs, 1.28e-3 (median 0.88e-3), and no averaging helps it; step decays, 1/k,
# cosine, mini-batches, momentum, Adam, polynomial-decay averaging, Richardson-Romberg
# extrapolation of two constant-rate averages: no better. One construction contrived for this
# problem reaches 7.9e-4 on 20 seeds but misses 1e-3 on 0.9% of 1000 fresh seeds (see the script).
@pytest.mark.xfail(strict=True, reason="averaged SGD stays 2e-3 to 4e-3 above the optimum in 30 "
                   "epochs on this ill-conditioned problem (scikit-learn's SGDClassifier likewise)")  # fmt: skip
def test_averaged_sgd_within_1e_3_in_30_epochs(breast_cancer, newton_l2):
    X, y = breast_cancer
    model = LogisticRegression(**SGD, learning_rate="constant", eta0=0.05, average=10 * len(y),
                               max_iter=30, tol=None, random_state=0).fit(X, y)  # fmt: skip
    assert _relative_gap(model, newton_l2) <= 1e-3


def test_averaged_adagrad_within_1e_3_in_60_epochs(breast_cancer, newton_l2, seed):
    # What the 1e-3 above takes: twice the epochs, with AdaGrad's per-coordinate rates and the
    # average of the last third of the run (benchmarks/experiment_averaged_sgd.py, worst of 10
    # seeds: 6.0e-4 at 60 epochs, 1.04e-3 at 45, 2.6e-3 at 30).
    X, y = breast_cancer
    model = LogisticRegression(**SGD, optimizer="adagrad", learning_rate="constant", eta0=0.3,
                               average=40 * len(y), max_iter=60, tol=None,
                               random_state=seed).fit(X, y)  # fmt: skip
    assert 0.0 <= _relative_gap(model, newton_l2) <= 1e-3


def test_objective_and_trace_are_newtons(breast_cancer):
    X, y = breast_cancer
    model = LogisticRegression(**SGD, max_iter=5, tol=None, random_state=0).fit(X, y)
    F = logistic_objective(X, y, model.coef_, model.intercept_)
    assert model.objective_ == pytest.approx(F, rel=1e-12)
    assert len(model.convergence_) == 6  # the start and five epochs
    assert model.convergence_.objective[-1] == model.objective_
    assert model.convergence_.objective[0] == pytest.approx(len(y) * np.log(2.0))


@pytest.mark.parametrize("average", [False, True, 30])
@pytest.mark.parametrize("learning_rate", ["optimal", "invscaling", "constant"])
def test_plain_sgd_makes_scikit_learns_steps(breast_cancer, learning_rate, average):
    # Dense, L2, samples in order: the same problem (alpha = 1 / (C n)) and the same schedule
    # give the same iterates, to rounding, with sample and class weights too.
    X, y = breast_cancer
    X, y = X[:200], y[:200]
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    C = 0.5
    common = dict(learning_rate=learning_rate, eta0=0.01, power_t=0.5, average=average,
                  shuffle=False, max_iter=3, tol=None, class_weight={0: 2.0, 1: 1.0})  # fmt: skip
    ours = LogisticRegression(**SGD, C=C, **common).fit(X, y, sample_weight=weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = SGDClassifier(loss="log_loss", alpha=1.0 / (C * len(y)), **common)
        ref.fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("batch_size", [1, 8])
def test_an_average_start_no_run_reaches_returns_the_last_iterate(breast_cancer, batch_size):
    # average=k starts averaging at the k-th update; a k beyond int64 (which the compiled loop's
    # counter is) is never reached: the last iterate, as scikit-learn's with a k beyond its run
    X, y = breast_cancer
    X, y = X[:200], y[:200]
    common = dict(learning_rate="constant", eta0=0.01, shuffle=False, max_iter=3, tol=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = LogisticRegression(**SGD, batch_size=batch_size, average=10**30, **common).fit(X, y)
        last = LogisticRegression(**SGD, batch_size=batch_size, average=False, **common).fit(X, y)
        ref = SGDClassifier(loss="log_loss", alpha=1.0 / len(y), average=10**9, **common).fit(X, y)
    np.testing.assert_array_equal(ours.coef_, last.coef_)
    np.testing.assert_array_equal(ours.intercept_, last.intercept_)
    if batch_size == 1:
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-10, atol=1e-13)


@pytest.fixture(scope="module")
def very_sparse():
    """CSR, 600 x 2000, density 0.5% (10 entries a row), labels from a logistic model."""
    rng = np.random.default_rng(3)
    rows = np.repeat(np.arange(600), 10)
    cols = rng.integers(0, 2000, 6000)
    X = sparse.csr_matrix((rng.standard_normal(6000), (rows, cols)), shape=(600, 2000))
    X.sum_duplicates()
    w = 2.0 * rng.standard_normal(2000)
    y = (rng.random(600) < 1.0 / (1.0 + np.exp(-(X @ w - 1.0)))).astype(int)
    return X, y


@pytest.mark.parametrize("average", [False, True])
def test_intercept_rate_auto_makes_scikit_learns_steps_on_sparse_and_dense_input(
    very_sparse, average
):
    # "auto" damps the intercept's step by 0.01 on sparse input, scikit-learn's
    # SPARSE_INTERCEPT_DECAY (the full step left 10 epochs 30 to 300 above the optimum on CSR data
    # where scikit-learn's ended 1.5 above), and keeps the full step on dense input (a rule of the
    # density damped it there too, and a dense X of 98% zeros ended 100 times further off).
    X, y = very_sparse
    common = dict(learning_rate="constant", eta0=0.05, average=average, shuffle=False, max_iter=3,
                  tol=None)  # fmt: skip
    ours = LogisticRegression(**SGD, C=1.0, **common).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = SGDClassifier(loss="log_loss", alpha=1.0 / len(y), **common).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-9, atol=1e-12)
    # on dense input "auto" takes the full step, as scikit-learn does there
    dense = LogisticRegression(**SGD, C=1.0, **common).fit(X.toarray(), y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense_ref = SGDClassifier(loss="log_loss", alpha=1.0 / len(y), **common)
        dense_ref.fit(X.toarray(), y)
    np.testing.assert_allclose(dense.intercept_, dense_ref.intercept_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dense.coef_, dense_ref.coef_, rtol=1e-9, atol=1e-12)
    fixed = LogisticRegression(**SGD, C=1.0, **common, intercept_rate=0.01).fit(X.toarray(), y)
    np.testing.assert_allclose(fixed.intercept_, ours.intercept_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_intercept_rate_multiplies_the_intercepts_step_for_every_rule(small_binary, optimizer):
    # One full-batch update from zero: each rule's state is the same whatever the factor, so the
    # intercept moves by exactly intercept_rate times its full step. It used to multiply the
    # gradient, which AdaGrad, RMSProp, AdaDelta, Adam and Nadam divide by its own root mean
    # square: 0.01 and 1 gave the same intercept.
    X, y = small_binary
    params = dict(**SGD, optimizer=optimizer, learning_rate="constant", eta0=0.1,
                  batch_size=len(y), max_iter=1, tol=None, shuffle=False)  # fmt: skip
    full = LogisticRegression(**params, intercept_rate=1.0).fit(X, y)
    damped = LogisticRegression(**params, intercept_rate=0.01).fit(X, y)
    assert full.intercept_[0] != 0.0
    np.testing.assert_allclose(damped.intercept_, 0.01 * full.intercept_, rtol=1e-12)
    np.testing.assert_array_equal(damped.coef_, full.coef_)


@pytest.mark.parametrize("optimizer", ["adagrad", "adam"])
def test_intercept_rate_auto_keeps_the_full_step_for_adaptive_rules(very_sparse, optimizer):
    # the adaptive rules size each coordinate's step by its own gradients: "auto" damps plain
    # SGD's intercept only (the behaviour these rules had in effect, when the factor multiplied a
    # gradient they normalise), so CSR and dense input give the same iterates
    X, y = very_sparse
    params = dict(**SGD, optimizer=optimizer, learning_rate="constant", eta0=0.01, max_iter=2,
                  tol=None, shuffle=False, batch_size=16)  # fmt: skip
    csr = LogisticRegression(**params).fit(X, y)
    dense = LogisticRegression(**params, intercept_rate=1.0).fit(X.toarray(), y)
    np.testing.assert_allclose(csr.intercept_, dense.intercept_, rtol=1e-9)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("penalty, optimizer, batch_size", [("l2", "sgd", 1), ("l1", "sgd", 1),
                                                          ("l1", "momentum", 5)])  # fmt: skip
def test_partial_fit_over_very_sparse_chunks_is_one_epoch(very_sparse, penalty, optimizer,
                                                          batch_size):  # fmt: skip
    # With L1 a call ended by giving every coefficient its pending cumulative penalty, in the
    # run's state, where the epoch goes on lazily: on rows with zeros the stream ended 6.4e-4
    # (compiled loop) and 1.6e-4 (momentum, batches of 5) from the one-epoch fit (a review).
    # The pending penalty now stays pending between calls, and only the coefficients read have it.
    X, y = very_sparse
    params = dict(**SGD, C=1.0, shuffle=False, learning_rate="constant",
                  eta0=0.05 if optimizer == "sgd" else 0.01, random_state=0, penalty=penalty,
                  optimizer=optimizer, batch_size=batch_size)  # fmt: skip
    one_epoch = LogisticRegression(**params, max_iter=1, tol=None).fit(X, y)
    streamed = LogisticRegression(**params)
    for start in range(0, 600, 150):  # C n / m keeps the penalty of the whole data on chunks
        streamed.set_params(C=600 / 150).partial_fit(X[start : start + 150], y[start : start + 150],
                                                     classes=[0, 1])  # fmt: skip
    np.testing.assert_allclose(streamed.coef_, one_epoch.coef_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(streamed.intercept_, one_epoch.intercept_, rtol=1e-12, atol=1e-15)
    if penalty == "l1":  # the exact zeros are the same ones
        np.testing.assert_array_equal(streamed.coef_ == 0.0, one_epoch.coef_ == 0.0)
        assert np.any(one_epoch.coef_ == 0.0)


def test_sgd_matches_sklearn_sgdclassifier_statistically(breast_cancer, newton_l2):
    # Same per-sample problem (alpha = 1 / (C n)) and schedule: the last iterates are noisy, so
    # compare the median gap over a few seeds.
    X, y = breast_cancer
    gaps_ours, gaps_sklearn = [], []
    for seed in range(5):
        ours = LogisticRegression(**SGD, max_iter=30, tol=None, random_state=seed).fit(X, y)
        gaps_ours.append(_relative_gap(ours, newton_l2))
        ref = SGDClassifier(loss="log_loss", alpha=1.0 / len(y), max_iter=30, tol=None,
                            random_state=seed).fit(X, y)  # fmt: skip
        F = logistic_objective(X, y, ref.coef_, ref.intercept_)
        gaps_sklearn.append((F - newton_l2.objective_) / newton_l2.objective_)
    assert np.median(gaps_ours) <= 3.0 * np.median(gaps_sklearn)


@pytest.mark.parametrize(
    "optimizer, eta0",
    [("sgd", 0.01), ("momentum", 0.01), ("nesterov", 0.01), ("adagrad", 0.1), ("rmsprop", 0.01),
     ("adadelta", 1.0), ("adam", 0.01), ("nadam", 0.01)],
)  # fmt: skip
def test_every_optimizer_generalises(breast_cancer, optimizer, eta0):
    X, y = breast_cancer
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    model = LogisticRegression(**SGD, optimizer=optimizer, learning_rate="constant", eta0=eta0,
                               batch_size=16, max_iter=50, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(Xtr, ytr)
    assert model.score(Xte, yte) >= 0.95


def _full_batch_steps(X, y, rule_name, C, eta, n_steps):
    """``n_steps`` of mlbasics.optim's rule from zero on the gradient of ``F / (C n)``, written
    here from the formula (binary, L2, the intercept last and unpenalised)."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    theta = np.zeros((1, d + 1))
    rule = make_optimizer(rule_name, [theta], learning_rate=eta)
    for _ in range(n_steps):
        p = 1.0 / (1.0 + np.exp(-(A @ theta[0])))
        grad = A.T @ (p - y) / n + np.r_[theta[0, :d], 0.0] / (C * n)
        rule.step([grad[None, :]])
    return theta


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_estimator_steps_by_the_named_rule(breast_cancer, optimizer):
    # Full batch, in order, two updates (so that momentum and moment estimates carry over): the
    # estimator must make the steps of the rule it names, and not those of any other rule.
    X, y = breast_cancer
    n = len(y)
    C, eta = 0.5, 0.05
    model = LogisticRegression(**SGD, C=C, optimizer=optimizer, learning_rate="constant",
                               eta0=eta, batch_size=n, max_iter=2, tol=None, shuffle=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    fitted = np.hstack([model.coef_, model.intercept_[:, None]])
    for name in OPTIMIZERS:
        reference = _full_batch_steps(X, y, name, C, eta, n_steps=2)
        if name == optimizer:
            np.testing.assert_allclose(fitted, reference, rtol=1e-9, atol=1e-12)
        else:
            assert np.abs(fitted - reference).max() > 1e-6, name


def test_all_optimizers_are_tested():
    assert set(OPTIMIZERS) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta",
                               "adam", "nadam"}  # fmt: skip


def test_multinomial_sgd_approaches_newton(wine):
    X, y = wine
    newton = LogisticRegression(C=0.5, tol=1e-10).fit(X, y)
    model = LogisticRegression(**SGD, C=0.5, max_iter=50, tol=None, random_state=0).fit(X, y)
    assert model.coef_.shape == (3, X.shape[1])
    assert 0.0 <= _relative_gap(model, newton) <= 2e-2
    assert model.score(X, y) >= 0.97


# -- L1: exact zeros on the Newton support ----------------------------------------------------------


@pytest.fixture(scope="module")
def sparse_truth():
    """Binary, 500 x 20, independent Gaussian features, 5 nonzero true weights."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 20))
    w = np.zeros(20)
    w[:5] = [2.0, -2.0, 1.5, -1.0, 1.0]
    y = (rng.random(500) < 1.0 / (1.0 + np.exp(-(X @ w)))).astype(int)
    return X, y


@pytest.mark.parametrize("average", [False, 25 * 500], ids=["last", "averaged"])
@pytest.mark.parametrize("batch_size", [1, 16])
@pytest.mark.parametrize("C", [0.05, 0.3])
def test_l1_gives_exact_zeros_on_newtons_support(sparse_truth, batch_size, C, average):
    # Averaged over the last 25 epochs too: a weight at zero in all of them averages to 0.0.
    X, y = sparse_truth
    newton = LogisticRegression("l1", C=C, tol=1e-10).fit(X, y)
    model = LogisticRegression("l1", **SGD, C=C, batch_size=batch_size, average=average,
                               max_iter=50, tol=None, random_state=0).fit(X, y)  # fmt: skip
    zeros = model.coef_ == 0.0
    assert 0 < zeros.sum() < zeros.size
    ours, theirs = set(np.flatnonzero(~zeros)), set(np.flatnonzero(newton.coef_))
    assert len(ours & theirs) / len(ours | theirs) >= 0.8
    assert 0.0 <= _relative_gap(model, newton) <= 1e-2


def test_l1_on_breast_cancer_is_close_in_objective(breast_cancer):
    # Its features are nearly collinear (radius, perimeter, area, ...): the L1 optimum is flat
    # along swaps between them, so SGD's support differs from Newton's more than its objective.
    X, y = breast_cancer
    newton = LogisticRegression("l1", C=0.1, tol=1e-10).fit(X, y)
    model = LogisticRegression("l1", **SGD, C=0.1, max_iter=100, tol=None,
                               random_state=0).fit(X, y)  # fmt: skip
    assert np.any(model.coef_ == 0.0)
    assert 0.0 <= _relative_gap(model, newton) <= 1e-2


def test_l1_on_breast_cancer_overlaps_newtons_support(breast_cancer, seed):
    # The case (C = 1). The decaying 'optimal' rates shrink the steps before the
    # cumulative penalty has sorted the collinear features out; a constant rate keeps moving:
    # Jaccard 0.89 to 0.94 over ten seeds at 100 epochs (0.67 at 30 epochs).
    X, y = breast_cancer
    newton = LogisticRegression("l1", C=1.0, tol=1e-10).fit(X, y)
    model = LogisticRegression("l1", **SGD, C=1.0, learning_rate="constant", eta0=0.05,
                               max_iter=100, tol=None, random_state=seed).fit(X, y)  # fmt: skip
    zeros = model.coef_[0] == 0.0
    assert 0 < zeros.sum() < zeros.size
    ours, theirs = set(np.flatnonzero(~zeros)), set(np.flatnonzero(newton.coef_[0]))
    assert len(ours & theirs) / len(ours | theirs) >= 0.8


def test_elasticnet_on_sparse_input(sparse_binary):
    X, y = sparse_binary
    newton = LogisticRegression("elasticnet", l1_ratio=0.5, tol=1e-10).fit(X, y)
    model = LogisticRegression("elasticnet", **SGD, l1_ratio=0.5, max_iter=60, tol=None,
                               random_state=0).fit(X, y)  # fmt: skip
    assert np.any(model.coef_ == 0.0)
    assert 0.0 <= _relative_gap(model, newton) <= 5e-2


# -- the compiled loop against the Python loop, dense against sparse ------------------------------


def _problem(X, y, penalty, C=1.0):
    obj = LogisticObjective(X, y[:, None].astype(float), np.full(len(y), C), penalty,
                            fit_intercept=True)  # fmt: skip
    return obj, Problem.from_objective(obj, C)


@pytest.mark.parametrize("penalty", [Penalty(0.0, 1.0), Penalty(1.0, 0.0), Penalty(0.5, 0.5)])
@pytest.mark.parametrize("average", [False, 7])
@pytest.mark.parametrize("eta0", [0.5, 5.0])
def test_compiled_loop_equals_python_loop(small_binary, average, penalty, eta0):
    # With one sample per update and plain SGD the two loops make the same updates; a small C
    # and a large rate make the scalar scale fall below its threshold and be folded (renormalised).
    # At eta0 = 5 an L2 step has eta alpha_2 = 2.5 > 1, where both loops stop the decay at zero
    # (the Python loop used to take the factor 1 - eta alpha_2 = -1.5 and grow |W| to 1e76).
    X, y = small_binary
    X = np.where(np.abs(X) < 0.5, 0.0, X)  # zeros: the lazy L1 steps skip them
    obj, problem = _problem(X, y, penalty, C=0.01)
    settings = SGDSettings(learning_rate="constant", eta0=eta0, average=average)
    schedule = build_schedule(settings, problem, n_iter_no_change=5, tol=None)
    assert settings.eta0 * (problem.alpha1 + problem.alpha2) > 0.1  # strong penalty
    order = np.random.default_rng(0).permutation(len(y))
    runs = [CompiledRun(np.zeros(obj.shape), settings, True),
            MiniBatchRun(np.zeros(obj.shape), settings, True)]  # fmt: skip
    for run in runs:
        for _ in range(3):
            run.epoch(problem, order, schedule)
    np.testing.assert_allclose(runs[0].coef(averaged=True), runs[1].coef(averaged=True),
                               rtol=1e-7, atol=1e-12)  # fmt: skip


def _iterates_one_call_per_sample(problem, shape, settings, schedule, orders):
    """Run the compiled kernel one sample per call, the lazy L1 penalties caught up at the end
    of each epoch only (as ``CompiledRun.epoch`` does): the run, the exact mean (long double)
    of the iterates made from update ``average_start`` on, and the number of folds of the scale
    into ``V`` among those updates (the scale, which only decreases otherwise, went up)."""
    run = CompiledRun(np.zeros(shape), settings, True)
    X, iterates, folds = problem.X, [], 0
    for order in orders:
        for i in order:
            scale = run.scal[0]
            args = (problem.Y, problem.sw, np.array([i]), epoch_rates(schedule, run.t, 1),
                    problem.alpha2, problem.alpha1, intercept_rate(problem.X, True),
                    settings.average_start, run.V, run.b, run.scal, run.q, run.acorr, run.bsum)  # fmt: skip
            if sparse.issparse(X):
                sgd_epoch_csr(X.data, X.indices, X.indptr, *args)
            else:
                sgd_epoch_dense(X, *args)
            if run.t - 1 >= settings.average_start:  # the update just made is averaged
                iterates.append(run.coef(averaged=False).astype(np.longdouble))
                folds += int(run.scal[0] > scale)
        if problem.alpha1 > 0.0:
            l1_catch_up(run.V, run.q, run.scal, run.acorr, run.averaging)
    return run, np.mean(iterates, axis=0), folds


@pytest.mark.parametrize("penalty", [Penalty(0.0, 1.0), Penalty(1.0, 0.0), Penalty(0.5, 0.5)],
                         ids=["l2", "l1", "elasticnet"])  # fmt: skip
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("form", ["dense", "csr"])
@pytest.mark.parametrize("C", [0.2, 0.001])
def test_lazy_average_equals_the_mean_of_iterates(penalty, n_classes, form, C):
    # C = 0.001 makes the scale fall below its threshold while averaging (the sum moves into the
    # correction term, which must not lose digits); C = 0.2 keeps L1 coefficients alive, some of
    # them at exactly zero throughout: their average must be an exact zero too.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 10))
    X[rng.random(X.shape) < 0.4] = 0.0  # untouched features: the lazy terms must catch up
    X[:5, :] = rng.standard_normal((5, 10))  # a few full rows (the dense kernel's other step)
    scores = X[:, :3] @ rng.standard_normal((3, n_classes)) * 3.0  # three informative features
    y = np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)
    X = sparse.csr_matrix(X) if form == "csr" else X
    obj = LogisticObjective(X, target_matrix(y, n_classes), np.full(120, C), penalty,
                            fit_intercept=True)  # fmt: skip
    problem = Problem.from_objective(obj, C)
    settings = SGDSettings(learning_rate="invscaling", eta0=0.3, average=150)
    schedule = build_schedule(settings, problem, n_iter_no_change=5, tol=None)
    orders = [rng.permutation(120) for _ in range(3)]
    reference, mean, folds = _iterates_one_call_per_sample(
        problem, obj.shape, settings, schedule, orders
    )
    if C == 0.001 and penalty.l2 > 0.0:
        assert folds >= 2  # (what the case is for; with L1 alone the scale stays 1)
    run = CompiledRun(np.zeros(obj.shape), settings, True)
    for order in orders:
        run.epoch(problem, order, schedule)
    np.testing.assert_array_equal(run.V, reference.V)  # the same iterates
    averaged = run.coef(averaged=True)
    np.testing.assert_allclose(averaged, mean.astype(float), rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(averaged[mean == 0.0], 0.0)
    if penalty.l1 > 0.0 and C == 0.2:
        assert np.any(mean[:, :-1] == 0.0) and np.any(mean[:, :-1] != 0.0)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_mini_batch_average_counts_updates(small_binary, optimizer):
    # With batch_size = 4, ``average = 10`` starts the mean at the 10th update (mini-batch), not
    # at the 10th sample: the reference steps one batch per call and averages by hand.
    X, y = small_binary
    obj, problem = _problem(X, y, Penalty(0.0, 1.0))
    settings = SGDSettings(optimizer=optimizer, learning_rate="invscaling", eta0=0.1,
                           batch_size=4, average=10)  # fmt: skip
    schedule = build_schedule(settings, problem, n_iter_no_change=5, tol=None)
    order = np.random.default_rng(1).permutation(len(y))
    run, stepped = MiniBatchRun(np.zeros(obj.shape), settings, True), []
    for _ in range(2):
        run.epoch(problem, order, schedule)
    reference = MiniBatchRun(np.zeros(obj.shape), settings, True)
    for _ in range(2):
        for u in range(run.updates_per_epoch(len(y))):
            reference.epoch(problem, order[4 * u : 4 * u + 4], schedule)
            stepped.append(reference.coef(averaged=False))
    np.testing.assert_array_equal(run.coef(averaged=False), stepped[-1])
    np.testing.assert_allclose(run.coef(averaged=True), np.mean(stepped[9:], axis=0),
                               rtol=1e-12, atol=1e-15)  # fmt: skip


@pytest.mark.parametrize("penalty", ["l2", "l1"])
@pytest.mark.parametrize("average", [False, True])
def test_dense_and_csr_give_the_same_result(sparse_binary, penalty, average):
    # (with one intercept_rate for both: "auto" damps the intercept on sparse input only)
    X, y = sparse_binary
    params = dict(**SGD, penalty=penalty, average=average, max_iter=5, tol=None, random_state=3,
                  intercept_rate=0.3)  # fmt: skip
    dense = LogisticRegression(**params).fit(X.toarray(), y)
    csr = LogisticRegression(**params).fit(X, y)
    csc = LogisticRegression(**params).fit(X.tocsc(), y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(csr.intercept_, dense.intercept_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(csc.coef_, dense.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
@pytest.mark.parametrize("average", [False, True])
def test_dense_and_csr_rows_without_zeros_give_identical_iterates(penalty, average):
    # A row with no zero took the dense kernel's vectorised step (its sums reassociated) but the
    # CSR kernel's gathering one: 1e-16 apart per product, which the long early 'optimal' steps
    # grew to 0.7 in a coefficient after two epochs (a review). Both take the full-row step now.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 8))
    X[::3, 2] = 0.0  # every third row has a zero: the two steps in one epoch
    y = (X[:, 0] - X[:, 1] + 0.3 * rng.standard_normal(300) > 0).astype(int)
    params = dict(**SGD, penalty=penalty, average=average, max_iter=2, tol=None, random_state=3,
                  intercept_rate=1.0, l1_ratio=0.5 if penalty == "elasticnet" else None)  # fmt: skip
    dense = LogisticRegression(**params).fit(X, y)
    csr = LogisticRegression(**params).fit(sparse.csr_matrix(X), y)
    np.testing.assert_array_equal(csr.coef_, dense.coef_)
    np.testing.assert_array_equal(csr.intercept_, dense.intercept_)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"average": True},
        # (at the 'optimal' rates Adam ends far above the zero model, where rounding grows to 7e-7)
        {"optimizer": "adam", "batch_size": 8, "learning_rate": "constant", "eta0": 0.01},
    ],
)
def test_dense_and_csr_multinomial_give_the_same_result(sparse_multiclass, params):
    X, y = sparse_multiclass
    params = dict(**SGD, **params, C=0.1, max_iter=3, tol=None, random_state=1, intercept_rate=0.3)
    dense = LogisticRegression(**params).fit(X.toarray(), y)
    csr = LogisticRegression(**params).fit(X, y)
    assert dense.coef_.shape == (4, X.shape[1])
    # BLAS and the sparse product sum in different orders: agreement to rounding, not bits.
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(csr.intercept_, dense.intercept_, rtol=1e-8, atol=1e-10)


def test_verbose_prints_one_line_per_epoch(small_binary, capsys):
    X, y = small_binary
    LogisticRegression(**SGD, max_iter=3, tol=None, verbose=1, random_state=0).fit(X, y)
    assert capsys.readouterr().out.count("[sgd] iter") == 4
    LogisticRegression(**SGD, verbose=1, random_state=0).partial_fit(X, y, classes=[0, 1])
    assert capsys.readouterr().out.count("[sgd] iter") == 2


@pytest.mark.parametrize("params", [{}, {"optimizer": "adam", "batch_size": 8}])
def test_random_state_makes_runs_repeatable(small_binary, params):
    X, y = small_binary
    fit = [LogisticRegression(**SGD, **params, max_iter=3, tol=None, random_state=s).fit(X, y)
           for s in (5, 5, 6)]  # fmt: skip
    np.testing.assert_array_equal(fit[0].coef_, fit[1].coef_)
    assert not np.array_equal(fit[0].coef_, fit[2].coef_)


def test_epoch_rates_are_the_schedules():
    for name in ["constant", "invscaling", "optimal", "adaptive"]:
        schedule = make_schedule(name, eta0=0.3, power_t=0.7, alpha=1e-3)
        expected = [schedule.rate(t) for t in range(40, 60)]
        np.testing.assert_allclose(epoch_rates(schedule, 40, 20), expected, rtol=1e-14)


# -- weights ----------------------------------------------------------------------------------------


def test_sample_weight_two_equals_repeated_rows_in_full_batch(small_binary):
    # batch_size = n is gradient descent on F / (C n): weight 2 on a row is that row twice (the
    # same F), once the rate accounts for the different n (the gradient is a mean over the batch).
    X, y = small_binary
    w = np.ones(len(y))
    w[:50] = 2.0
    X2, y2 = np.vstack([X, X[:50]]), np.concatenate([y, y[:50]])
    n, n2 = len(y), len(y2)
    params = dict(**SGD, learning_rate="constant", max_iter=40, tol=None, shuffle=False)
    weighted = LogisticRegression(**params, C=1.0, eta0=0.5, batch_size=n).fit(
        X, y, sample_weight=w
    )
    repeated = LogisticRegression(**params, C=1.0, eta0=0.5 * n2 / n, batch_size=n2).fit(X2, y2)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-10)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-10)


def test_sample_weight_two_is_close_to_repeated_rows_stochastically(small_binary):
    X, y = small_binary
    w = np.where(np.arange(len(y)) % 2 == 0, 2.0, 1.0)
    repeat = np.repeat(np.arange(len(y)), w.astype(int))
    params = dict(**SGD, max_iter=40, tol=None, random_state=0)
    weighted = LogisticRegression(**params).fit(X, y, sample_weight=w)
    newton = LogisticRegression(tol=1e-10).fit(X[repeat], y[repeat])
    assert abs(weighted.objective_ - newton.objective_) <= 1e-2 * newton.objective_


def test_class_weight_balanced_is_used(small_binary):
    X, y = small_binary
    params = dict(**SGD, max_iter=30, tol=None, random_state=0)
    plain = LogisticRegression(**params).fit(X, y)
    balanced = LogisticRegression(**params, class_weight="balanced").fit(X, y)
    newton = LogisticRegression(class_weight="balanced", tol=1e-10).fit(X, y)
    assert not np.allclose(plain.coef_, balanced.coef_)
    assert 0.0 <= (balanced.objective_ - newton.objective_) / newton.objective_ <= 1e-2


# -- partial_fit and warm_start -------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 5])
def test_a_pending_l1_penalty_is_kept_when_the_next_call_has_none(batch_size):
    # partial_fit leaves the L1 penalty pending between calls; a call without an L1 term dropped
    # it, and the coefficients of features absent from that call (gradient 0, no decay) moved
    # back by up to 3e-3 from where the first call had stored them (a review)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((240, 12))
    X[rng.random(X.shape) < 0.6] = 0.0
    y = (X[:, 0] - X[:, 1] + X[:, 2] + 0.3 * rng.standard_normal(240) > 0).astype(int)
    later = X[80:160].copy()
    later[:, :6] = 0.0
    model = LogisticRegression(**SGD, shuffle=False, random_state=0, learning_rate="constant",
                               eta0=0.05, penalty="l1", batch_size=batch_size)  # fmt: skip
    model.partial_fit(X[:80], y[:80], classes=[0, 1])
    stored = model.coef_[0, :6].copy()
    model.set_params(penalty=None).partial_fit(later, y[80:160])
    np.testing.assert_array_equal(model.coef_[0, :6], stored)
    assert np.any(model.coef_[0, 6:] != 0.0)


@pytest.mark.parametrize("penalty", ["l2", "l1"])
@pytest.mark.parametrize("average", [False, True])
def test_partial_fit_over_chunks_is_one_epoch(breast_cancer, penalty, average):
    # Each call sees the objective of its own data (penalty 1 / (C n_call) per sample): chunks of
    # n / k samples with k C make the same per-sample problem as the whole data with C.
    X, y = breast_cancer
    X, y = X[:560], y[:560]
    k = 4
    params = dict(**SGD, penalty=penalty, average=average, shuffle=False, random_state=0)
    whole = LogisticRegression(**params, C=0.5, max_iter=1, tol=None).fit(X, y)
    stream = LogisticRegression(**params, C=0.5 * k)
    for chunk in np.array_split(np.arange(len(y)), k):
        stream.partial_fit(X[chunk], y[chunk], classes=[0, 1])
    np.testing.assert_allclose(stream.coef_, whole.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(stream.intercept_, whole.intercept_, rtol=1e-9, atol=1e-12)


def test_partial_fit_needs_classes_and_sgd(small_binary):
    X, y = small_binary
    with pytest.raises(ValueError, match="classes must be passed"):
        LogisticRegression(**SGD).partial_fit(X, y)
    model = LogisticRegression(**SGD).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="not the fitted model's classes_"):
        model.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not in classes"):
        model.partial_fit(X, y + 5)
    assert not hasattr(LogisticRegression(), "partial_fit")
    assert hasattr(LogisticRegression(**SGD), "partial_fit")


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_partial_fit_after_a_newton_fit_goes_on_from_its_coefficients(wine, fit_intercept):
    # "one epoch of SGD from the current coefficients": after fit with a Newton solver the first
    # partial_fit asked for classes and started from zeros, as if nothing had been fitted
    X, y = wine
    newton = LogisticRegression(C=0.1, fit_intercept=fit_intercept).fit(X, y)
    params = dict(solver="sgd", learning_rate="constant", eta0=0.01, shuffle=False)
    model = newton.set_params(**params)
    model.partial_fit(X, y)  # classes are the fitted model's
    # the same epoch, run by fit from the Newton model (warm_start)
    warm = LogisticRegression(C=0.1, fit_intercept=fit_intercept, warm_start=True)
    warm.fit(X, y).set_params(**params, max_iter=1, tol=None).fit(X, y)
    np.testing.assert_allclose(model.coef_, warm.coef_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(model.intercept_, warm.intercept_, rtol=1e-12, atol=1e-15)
    scratch = LogisticRegression(C=0.1, fit_intercept=fit_intercept, **params)
    scratch.partial_fit(X, y, classes=np.unique(y))
    optimum = LogisticRegression(C=0.1, fit_intercept=fit_intercept, tol=1e-10).fit(X, y)
    assert model.objective_ - optimum.objective_ < 0.1 * (scratch.objective_ - optimum.objective_)
    fitted = LogisticRegression(C=0.1).fit(X, y).set_params(**params)
    with pytest.raises(ValueError, match="X has 3 features"):
        fitted.partial_fit(X[:, :3], y)
    assert fitted.coef_.shape == (3, X.shape[1])  # a refused call keeps the fitted model


def test_a_failed_partial_fit_keeps_the_model_fitted_by_another_solver(wine):
    X, y = wine
    model = LogisticRegression(C=0.1).fit(X, y)
    fitted = {name: value for name, value in vars(model).items() if name.endswith("_")}
    model.set_params(solver="sgd", learning_rate="constant", eta0=1e300)
    with pytest.raises(SGDDivergedError):
        model.partial_fit(X * 1e10, y)
    after = {name: value for name, value in vars(model).items() if name.endswith("_")}
    assert after.keys() == fitted.keys() and model.solver_ == fitted["solver_"]
    np.testing.assert_array_equal(model.coef_, fitted["coef_"])
    # and the next call starts from it: one epoch from the Newton coefficients
    model.set_params(eta0=0.01).partial_fit(X, y)
    assert np.isnan(model.duality_gap_)  # not computed by partial_fit; the fit's would mislead
    assert np.abs(model.coef_ - fitted["coef_"]).max() < 0.5


def test_a_model_seen_mid_fit_holds_no_run_of_an_earlier_fit():
    # a callback kept the models of a 6-feature refit: they shared the 3-feature run of the
    # first fit, and partial_fit on one wrote past its arrays (segmentation fault)
    rng = np.random.default_rng(0)
    X3, X6 = rng.normal(size=(80, 3)), rng.normal(size=(80, 6))
    y = (X6[:, 0] > 0).astype(int)
    kept = []

    class Keep:
        def setup(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context):
            pass

        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            if fitted_estimator is not None:
                kept.append(fitted_estimator)

        def teardown(self, estimator, context):
            pass

    model = LogisticRegression(**SGD, max_iter=3, tol=None, random_state=0).fit(X3, y)
    model.set_callbacks(Keep()).fit(X6, y)
    mid = kept[1]
    assert not hasattr(mid, "_sgd_run")
    start = mid.coef_.copy()
    mid.partial_fit(X6, y)  # one epoch from the coefficients it holds
    assert mid.coef_.shape == (1, 6) and np.all(np.isfinite(mid.coef_))
    assert not np.array_equal(mid.coef_, start)


def test_a_run_only_continues_on_problems_of_its_shape(small_binary):
    X, y = small_binary
    objective = LogisticObjective.from_data(
        X, target_matrix(y, 2), np.ones(len(y)), Penalty(l2=1.0), fit_intercept=True, center=False
    )
    run = make_run(np.zeros((1, 3)), SGDSettings(), fit_intercept=True)
    with pytest.raises(ValueError, match=r"run holds coefficients of shape \(1, 3\)"):
        sgd(objective, run, data_weight=1.0, max_iter=1, tol=None)


def test_partial_fit_rejects_bad_classes_and_class_weights(small_binary):
    X, y = small_binary
    with pytest.raises(ValueError, match="classes must not contain NaN"):
        LogisticRegression(**SGD).partial_fit(X, y, classes=[0.0, 1.0, np.nan])
    with pytest.raises(ValueError, match="class_weight must be finite and non-negative"):
        LogisticRegression(**SGD, class_weight={0: -1.0, 1: 1.0}).partial_fit(X, y, classes=[0, 1])


def test_partial_fit_refuses_one_class_balanced_weights_and_a_changed_intercept(small_binary):
    X, y = small_binary
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogisticRegression(**SGD).partial_fit(X, y, classes=[0])
    with pytest.raises(ValueError, match=r"'balanced' .* not supported by partial_fit"):
        LogisticRegression(**SGD, class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    model = LogisticRegression(**SGD, random_state=0).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="fit_intercept changed since the run began"):
        model.set_params(fit_intercept=False).partial_fit(X, y)


def test_early_stopping_needs_a_tol(small_binary):
    X, y = small_binary
    with pytest.raises(ValueError, match="early_stopping=True needs a tol"):
        LogisticRegression(**SGD, early_stopping=True, tol=None).fit(X, y)


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_dense_and_csr_give_the_same_l1_model_with_the_python_loop(sparse_binary, optimizer):
    # Rules other than plain SGD run the mini-batch loop in Python; its lazy L1 penalty on sparse
    # rows visits only the features present in the batch.
    X, y = sparse_binary
    params = dict(**SGD, penalty="l1", optimizer=optimizer, learning_rate="constant", eta0=0.01,
                  batch_size=4, max_iter=3, tol=None, random_state=2, intercept_rate=0.3)  # fmt: skip
    dense = LogisticRegression(**params).fit(X.toarray(), y)
    csr = LogisticRegression(**params).fit(X, y)
    assert np.count_nonzero(dense.coef_ == 0.0) > 0
    np.testing.assert_array_equal(csr.coef_ == 0.0, dense.coef_ == 0.0)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(csr.intercept_, dense.intercept_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("classes", [[0, "a", 1], np.array([0, "a", 1], dtype=object)])
def test_partial_fit_rejects_classes_mixing_strings_and_numbers(small_binary, classes):
    # np.asarray turns [0, "a", 1] into strings: the error used to say y's 0 and 1 were unknown.
    X, y = small_binary
    with pytest.raises(ValueError, match=r"(?i)mix.*label.*types"):
        LogisticRegression(**SGD).partial_fit(X, y, classes=classes)


@pytest.mark.parametrize("params", [{"penalty": "l1"}, {"penalty": "l1", "average": True},
                                    {"penalty": "elasticnet", "l1_ratio": 0.5}])  # fmt: skip
def test_stored_zeros_of_a_sparse_X_do_not_change_the_model(sparse_binary, params):
    # The lazy L1 penalty visits the stored entries of a row: a stored zero used to clip its
    # coefficient, which a dense row (or the same matrix without it) does not.
    X, y = sparse_binary
    stored = sparse.csr_matrix(X, copy=True)
    stored.data[::3] = 0.0
    clean = stored.copy()
    clean.eliminate_zeros()
    params = dict(**SGD, **params, max_iter=5, tol=None, random_state=0)
    with_zeros = LogisticRegression(**params).fit(stored, y)
    np.testing.assert_array_equal(
        with_zeros.coef_, LogisticRegression(**params).fit(clean, y).coef_
    )
    streamed = LogisticRegression(**params).partial_fit(stored, y, classes=[0, 1])
    reference = LogisticRegression(**params).partial_fit(clean, y, classes=[0, 1])
    np.testing.assert_array_equal(streamed.coef_, reference.coef_)
    assert np.count_nonzero(stored.data == 0) > 0  # the input keeps its stored zeros


def test_partial_fit_validates_parameters_set_between_calls(small_binary):
    X, y = small_binary
    model = LogisticRegression(**SGD, learning_rate="constant", eta0=0.1, random_state=0)
    model.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="'C' parameter"):
        model.set_params(C=-5.0).partial_fit(X, y)
    with pytest.raises(ValueError, match="batch_size changed since the run began"):
        model.set_params(C=1.0, batch_size=4).partial_fit(X, y)
    # a new rate takes effect in the next call, as in scikit-learn's SGDClassifier
    slow = clone(model).set_params(batch_size=1).partial_fit(X, y, classes=[0, 1])
    fast = clone(model).set_params(batch_size=1).partial_fit(X, y, classes=[0, 1])
    slow.set_params(eta0=1e-6).partial_fit(X, y)
    fast.partial_fit(X, y)
    first = clone(model).set_params(batch_size=1).partial_fit(X, y, classes=[0, 1])
    assert np.abs(slow.coef_ - first.coef_).max() < 1e-3 < np.abs(fast.coef_ - first.coef_).max()


def test_partial_fit_continues_to_the_optimum(breast_cancer, newton_l2):
    X, y = breast_cancer
    model = LogisticRegression(**SGD, random_state=0)
    for _ in range(30):
        model.partial_fit(X, y, classes=np.unique(y))
    assert 0.0 <= _relative_gap(model, newton_l2) <= 1e-2


def test_warm_start_starts_from_the_previous_solution(breast_cancer, newton_l2):
    X, y = breast_cancer
    cold = LogisticRegression(**SGD, learning_rate="constant", eta0=1e-3, max_iter=1, tol=None,
                              random_state=0).fit(X, y)  # fmt: skip
    warm = LogisticRegression(**SGD, learning_rate="constant", eta0=1e-3, max_iter=1, tol=None,
                              random_state=0, warm_start=True)  # fmt: skip
    warm.coef_, warm.intercept_ = newton_l2.coef_.copy(), newton_l2.intercept_.copy()
    warm.fit(X, y)
    assert warm.convergence_.objective[0] == pytest.approx(newton_l2.objective_)
    assert warm.objective_ < cold.objective_


# -- stopping ---------------------------------------------------------------------------------------


def test_tol_stops_early_and_tol_none_runs_max_iter(breast_cancer):
    X, y = breast_cancer
    stopped = LogisticRegression(**SGD, tol=1e-3, max_iter=200, random_state=0).fit(X, y)
    assert stopped.converged_ and stopped.n_iter_[0] < 200
    full = LogisticRegression(**SGD, tol=None, max_iter=7, random_state=0).fit(X, y)
    assert full.n_iter_[0] == 7 and len(full.convergence_) == 8


def test_max_iter_reached_warns(breast_cancer):
    X, y = breast_cancer
    with pytest.warns(ConvergenceWarning, match="max_iter=2 epochs"):
        model = LogisticRegression(**SGD, tol=1e-12, max_iter=2, random_state=0).fit(X, y)
    assert not model.converged_
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        LogisticRegression(**SGD, tol=None, max_iter=2, random_state=0).fit(X, y)


def test_max_iter_warning_names_the_adaptive_schedules_rule(breast_cancer):
    # A plateau of the adaptive schedule divides the rate, and only a rate below 1e-6 stops the
    # run: the warning said "no improvement above tol for n_iter_no_change epochs" (a review).
    X, y = breast_cancer
    with pytest.warns(ConvergenceWarning, match="rate, divided by 5 after every") as caught:
        LogisticRegression(**SGD, learning_rate="adaptive", max_iter=3, random_state=0).fit(X, y)
    assert not any("no improvement above tol=" in str(w.message) for w in caught)
    with pytest.warns(ConvergenceWarning, match="no improvement above tol=1e-12 for"):
        LogisticRegression(**SGD, tol=1e-12, max_iter=2, random_state=0).fit(X, y)


def test_early_stopping_uses_a_validation_split(breast_cancer):
    X, y = breast_cancer
    model = LogisticRegression(**SGD, early_stopping=True, n_iter_no_change=3, tol=1e-4,
                               max_iter=100, random_state=0).fit(X, y)  # fmt: skip
    assert model.converged_ and model.n_iter_[0] < 100
    assert model.score(X, y) > 0.95


def _held_out_rows(X, y, **params):
    """The validation rows the estimator holds out with ``params`` (recorded from its split)."""
    split = []

    def recording_split(*args, **kwargs):
        split.append(train_test_split(*args, **kwargs))
        return split[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logistic_module, "train_test_split", recording_split)
        LogisticRegression(**SGD, early_stopping=True, max_iter=1, **params).fit(X, y)
    return np.sort(split[0][1])


def test_early_stopping_scores_by_sample_weight_not_class_weight(breast_cancer, monkeypatch):
    # scikit-learn's SGDClassifier weights its validation score by sample_weight only; the
    # class weights (10 to 1) entered it, and 0.9715 was monitored where the accuracy was 0.8772
    # (a review). Reference: sklearn.metrics.accuracy_score on the held-out rows.
    from sklearn.metrics import accuracy_score

    X, y = breast_cancer
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    params = dict(class_weight={0: 10.0, 1: 1.0}, random_state=0, tol=1e-3)
    val = _held_out_rows(X, y, **params)
    monitored, accuracy = [], logistic_module._weighted_accuracy

    def recording_accuracy(coef, X_val, y_val, w_val, fit_intercept):
        monitored.append((coef.copy(), accuracy(coef, X_val, y_val, w_val, fit_intercept)))
        return monitored[-1][1]

    monkeypatch.setattr(logistic_module, "_weighted_accuracy", recording_accuracy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        LogisticRegression(**SGD, early_stopping=True, max_iter=3, **params).fit(
            X, y, sample_weight=weights
        )
    assert len(monitored) == 3
    for coef, score in monitored:
        predicted = (X[val] @ coef[0, :-1] + coef[0, -1] > 0).astype(int)
        expected = accuracy_score(y[val], predicted, sample_weight=weights[val])
        assert score == pytest.approx(expected, rel=1e-12)


def test_early_stopping_refuses_held_out_samples_that_all_weigh_zero(breast_cancer):
    # their accuracy was taken as 0 every epoch: the run stopped after n_iter_no_change + 1
    # epochs, converged_, silently (a review; scikit-learn raises too)
    X, y = breast_cancer
    val = _held_out_rows(X, y, random_state=0)
    weights = np.ones(len(y))
    weights[val] = 0.0
    with pytest.raises(
        ValueError, match=r"held out for early stopping .* all have sample_weight 0"
    ):
        LogisticRegression(**SGD, early_stopping=True, random_state=0).fit(
            X, y, sample_weight=weights
        )


def test_a_c_too_small_for_the_penalty_per_sample_is_named():
    # 1 / (C n) overflowed and the optimizer's "alpha must be in (0, inf), got inf" named an
    # internal quantity (a review)
    X, y = np.random.default_rng(0).normal(size=(20, 3)), np.arange(20) % 2
    with pytest.raises(ValueError, match=r"C=4.94e-324 is too small for solver='sgd'"):
        LogisticRegression(**SGD, C=5e-324).fit(X, y)


def test_early_stopping_on_a_class_too_rare_to_stratify_splits_at_random():
    # 20 samples, 3 classes, validation_fraction 0.1: a hold-out of 2 cannot hold every class,
    # and train_test_split's bare error named neither early_stopping nor validation_fraction
    # (scikit-learn's SGDClassifier raises it). Split at random, as the MLP estimators do.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), np.repeat([0, 1, 2], [8, 8, 4])
    model = LogisticRegression(**SGD, early_stopping=True, random_state=0).fit(X, y)
    assert model.coef_.shape == (3, 3) and np.isfinite(model.coef_).all()
    with pytest.raises(ValueError, match=r"holds out 10 of the 10 samples .* none to train on"):
        LogisticRegression(**SGD, early_stopping=True, validation_fraction=0.99).fit(
            X[:10], y[:10] % 2
        )


def test_early_stopping_without_shuffle_visits_the_training_rows_in_their_order(
    breast_cancer, monkeypatch
):
    # shuffle=False means "in their order" with early stopping too (scikit-learn's SGD skips the
    # validation rows in place); the rows were visited in train_test_split's shuffled order
    X, y = breast_cancer
    split = []

    def recording_split(*args, **kwargs):
        split.append(train_test_split(*args, **kwargs))
        return split[-1]

    monkeypatch.setattr(logistic_module, "train_test_split", recording_split)
    params = dict(**SGD, shuffle=False, max_iter=1, learning_rate="constant", eta0=0.1)
    stopped = LogisticRegression(**params, early_stopping=True, tol=1e-4).fit(X, y)
    train = np.sort(split[0][0])
    assert not np.array_equal(train, split[0][0])  # the split itself comes shuffled
    in_order = LogisticRegression(**params, tol=None).fit(X[train], y[train])
    np.testing.assert_allclose(stopped.coef_, in_order.coef_, rtol=1e-12)
    np.testing.assert_allclose(stopped.intercept_, in_order.intercept_, rtol=1e-12)


def test_adaptive_schedule_stops_when_the_rate_vanishes(small_binary):
    X, y = small_binary
    model = LogisticRegression(**SGD, learning_rate="adaptive", eta0=0.1, tol=1e-2,
                               n_iter_no_change=1, max_iter=500, random_state=0).fit(X, y)  # fmt: skip
    assert model.converged_ and model.n_iter_[0] < 500


# -- bad parameters and divergence ----------------------------------------------------------------


@pytest.mark.parametrize(
    "params, name",
    [({"eta0": 0.0}, "eta0"), ({"eta0": -1.0}, "eta0"), ({"optimizer": "lion"}, "optimizer"),
     ({"learning_rate": "cosine"}, "learning_rate"), ({"batch_size": 0}, "batch_size"),
     ({"power_t": -1.0}, "power_t"), ({"average": -1}, "average"),
     ({"validation_fraction": 1.0}, "validation_fraction"),
     ({"n_iter_no_change": 0}, "n_iter_no_change")],
)  # fmt: skip
def test_bad_sgd_parameters_are_rejected(small_binary, params, name):
    X, y = small_binary
    with pytest.raises(ValueError, match=re.escape(f"'{name}' parameter")):
        LogisticRegression(**SGD, **params).fit(X, y)


def test_optimal_schedule_needs_a_penalty(small_binary):
    X, y = small_binary
    with pytest.raises(ValueError, match=r"learning_rate='optimal'.*penalty=None"):
        LogisticRegression(None, **SGD).fit(X, y)
    with pytest.raises(ValueError, match=r"learning_rate='optimal'.*C=inf"):
        LogisticRegression(C=np.inf, **SGD).fit(X, y)  # (the message named penalty=None only)
    model = LogisticRegression(None, **SGD, learning_rate="invscaling", eta0=0.1, max_iter=5,
                               tol=None, random_state=0).fit(X, y)  # fmt: skip
    assert np.all(np.isfinite(model.coef_))


def test_tol_none_is_for_sgd_only(small_binary):
    X, y = small_binary
    with pytest.raises(ValueError, match="tol=None"):
        LogisticRegression(tol=None).fit(X, y)


@pytest.mark.parametrize("params", [{}, {"optimizer": "momentum", "batch_size": 4}])
def test_divergence_names_the_learning_rate(small_binary, params):
    X, y = small_binary
    X = X * 1e150
    model = LogisticRegression(None, **SGD, **params, learning_rate="constant", eta0=1e150,
                               random_state=0)  # fmt: skip
    with pytest.raises(ValueError, match=r"diverged.*eta0=1e\+150.*smaller eta0"):
        model.fit(X, y)


@pytest.mark.parametrize("params", [{}, {"optimizer": "momentum", "batch_size": 1}])
@pytest.mark.parametrize("to_sparse", [np.asarray, sparse.csr_matrix])
def test_divergence_names_the_rate_of_the_update_that_failed(small_binary, params, to_sparse):
    # Rates 1e6 / (t + 1), in order. The last two rows are 1e152 * (1, ..., 1), and the label of
    # the first of them disagrees with its score: update 198 moves every coefficient by about
    # 5e3 * 1e152 the same way, so the score of update 199 (1e152 * 8 * 5e155) overflows. The
    # compiled loop used to name the epoch's first rate, 1e6.
    X, y = small_binary
    X, y = X.copy(), y.copy()
    params = dict(**SGD, **params, learning_rate="invscaling", eta0=1e6, power_t=1.0,
                  shuffle=False, max_iter=1, tol=None)  # fmt: skip
    with warnings.catch_warnings():  # (these rates end far above the all-zero model)
        warnings.simplefilter("ignore", ConvergenceWarning)
        before = LogisticRegression(None, **params).fit(X[:198], y[:198])  # its first 198 updates
    X[198:] = 1e152
    y[198] = 0 if 1e152 * before.coef_.sum() + before.intercept_[0] > 0 else 1
    with pytest.raises(SGDDivergedError, match=r"scores") as error:
        LogisticRegression(None, **params).fit(to_sparse(X), y)
    rate = float(re.search(r"rate ([0-9.e+-]+) at this update", str(error.value)).group(1))
    assert rate == pytest.approx(1e6 / 200, rel=1e-3)


@pytest.mark.parametrize("batch_size", [1, 2])
def test_a_rate_that_underflows_to_zero_moves_nothing_in_either_loop(small_binary, batch_size):
    # 1 / (t + 1)^400 is 0 from the second update on: those updates move nothing, as a rate of 0
    # says (and as in scikit-learn); the mini-batch loop used to fail inside the update rule
    # ("learning_rate must be in (0, inf), got 0.0") while the compiled loop went on.
    X, y = small_binary
    fits = []
    for epochs in (2, 5):
        model = LogisticRegression(**SGD, batch_size=batch_size, learning_rate="invscaling",
                                   power_t=400.0, max_iter=epochs, tol=None,
                                   random_state=0)  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(model.fit(X, y))
    assert np.all(np.isfinite(fits[0].coef_))
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    np.testing.assert_array_equal(fits[0].intercept_, fits[1].intercept_)


def test_stopping_counts_a_tie_as_an_improvement_as_the_adaptive_rate_does(small_binary):
    # With tol = 0 and rates too small to move W, every epoch ties the first: scikit-learn's rule
    # (and the adaptive schedule's) counts a tie as an improvement, so neither stops early; the
    # stopping rule used to count ties as stale and stop after n_iter_no_change epochs.
    X, y = small_binary
    runs = {}
    for rate in ("constant", "adaptive"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            runs[rate] = LogisticRegression(**SGD, learning_rate=rate, eta0=1e-300, tol=0.0,
                                            n_iter_no_change=2, max_iter=8).fit(X, y)  # fmt: skip
        assert len(set(runs[rate].convergence_.objective[1:])) == 1  # the epochs tie
    assert runs["constant"].n_iter_[0] == runs["adaptive"].n_iter_[0] == 8
    reference = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=1e-300, tol=0.0,
                              n_iter_no_change=2, max_iter=8)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert reference.fit(X, y).n_iter_ == 8


@pytest.mark.parametrize(
    "params, advice",
    [({}, "learning_rate='constant'"),
     ({"learning_rate": "constant", "eta0": 0.01}, "smaller eta0"),
     ({"optimizer": "adam", "learning_rate": "constant", "eta0": 0.01}, "smaller eta0")],
)  # fmt: skip
def test_sgd_ending_above_the_zero_model_is_not_converged(breast_cancer, params, advice):
    # Features x100: every run stops on its stopping rule (or max_iter) at a finite objective
    # far above F(0) = n log 2, the value of fitting nothing.
    X, y = breast_cancer
    zero_model = len(y) * np.log(2.0)
    with pytest.warns(ConvergenceWarning, match=rf"above {zero_model:.4g}, the objective of "
                      rf"all-zero.*Standardise the features.*{re.escape(advice)}"):  # fmt: skip
        model = LogisticRegression(**SGD, **params, random_state=0).fit(100.0 * X, y)
    assert model.objective_ > zero_model
    assert not model.converged_
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        standardised = LogisticRegression(**SGD, **params, random_state=0).fit(X, y)
    assert standardised.converged_ and standardised.objective_ < 0.2 * zero_model


def test_a_tiny_c_is_named_as_the_cause_of_steps_too_short(breast_cancer):
    # C = 1e-8 on standardised data: alpha = 1 / (C n) makes the 'optimal' rates so short that
    # the intercept (optimum 0.52, from the Newton solver) moves by about 0.02 in all; with this
    # seed it ends on the wrong side of 0, above the zero model, so the warning fires (with 6 of
    # seeds 0-7 it ends at +0.02, below the zero model, and no warning fires: see the SGD docs).
    # The advice must be a larger C, not shorter steps.
    X, y = breast_cancer
    alpha = 1.0 / (1e-8 * len(y))
    with pytest.warns(
        ConvergenceWarning, match=re.escape(f"tiny with alpha = 1 / (C n) = {alpha:.3g}")
    ):
        model = LogisticRegression(**SGD, C=1e-8, random_state=2).fit(X, y)
    assert not model.converged_
    assert abs(model.intercept_[0]) < 0.1 < LogisticRegression(C=1e-8).fit(X, y).intercept_[0]


def test_sparse_input_is_not_densified_nor_modified(sparse_binary):
    X, y = sparse_binary
    copy = X.copy()
    LogisticRegression(**SGD, max_iter=2, tol=None, random_state=0).fit(X, y)
    assert sparse.issparse(X) and (X != copy).nnz == 0


# -- the per-epoch certificate: one compiled pass, and overlapped with the next epoch -------------


def _objective_for(X, y_index, n_classes, penalty, fit_intercept, rng):
    """An uncentred objective with random positive weights ``c_i`` (sample weights times C)."""
    Y = target_matrix(y_index, n_classes)
    c = rng.uniform(0.1, 3.0, size=len(y_index))
    return LogisticObjective(X, Y, c, penalty, fit_intercept=fit_intercept)


def _newton_certificate(objective, coef):
    """``(F, optimality)`` from the objective's own methods (numpy and scipy products)."""
    Z = objective.scores(coef)
    return objective.value(coef), objective.optimality(coef, objective.smooth_gradient(coef, Z))


@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize(
    "penalty",
    [Penalty(0.0, 1.0), Penalty(1.0, 0.0), Penalty(0.3, 0.7), Penalty(0.0, 0.0)],
    ids=["l2", "l1", "elasticnet", "none"],
)
def test_fused_certificate_equals_the_objective_methods(fmt, n_classes, fit_intercept, penalty):
    rng = np.random.default_rng(n_classes + 10 * fit_intercept)
    X = rng.standard_normal((150, 12)) * 2.0
    X[rng.random(X.shape) < 0.6] = 0.0
    X = {"dense": X, "csr": sparse.csr_array(X), "csc": sparse.csc_array(X)}[fmt]
    objective = _objective_for(X, rng.integers(0, n_classes, 150), n_classes, penalty,
                               fit_intercept, rng)  # fmt: skip
    coef = rng.standard_normal(objective.shape)
    coef[:, :4] = 0.0  # exact zeros: the L1 optimality takes the minimum-norm subgradient there
    F, optimality = Problem.from_objective(objective, data_weight=2.0).certificate(coef)
    F_ref, optimality_ref = _newton_certificate(objective, coef)
    assert F == pytest.approx(F_ref, rel=1e-12)
    assert optimality == pytest.approx(optimality_ref, rel=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_fused_certificate_keeps_the_residuals_of_saturated_samples(n_classes):
    # Every sample classified with a margin of 40 to 60: p rounds to its label, and the fused
    # pass's loss (softmax: the log of 1 + tiny) and residuals (p - y) were exactly 0, so an SGD
    # run there recorded an objective of 0 (multinomial) and an optimality of 0. Against
    # 400-digit decimals. X is the identity, so each sample's scores are one column of coef and
    # the gradient entry (k, i) is c_i (p_ik - y_ik).
    from decimal import Decimal, localcontext

    rng = np.random.default_rng(3)
    n = 30
    y_index = rng.integers(0, n_classes, n)
    objective = _objective_for(np.eye(n), y_index, n_classes, Penalty(0.0, 0.0), False, rng)
    margins = rng.uniform(40.0, 60.0, n)
    if n_classes == 2:  # one score per sample: +margin for class 1, -margin for class 0
        classes_scores = np.c_[np.zeros(n), np.where(y_index == 1, margins, -margins)]
        coef = classes_scores[:, 1:].T.copy()
    else:
        classes_scores = np.zeros((n, n_classes))
        classes_scores[np.arange(n), y_index] = margins
        coef = classes_scores.T.copy()
    F, optimality = Problem.from_objective(objective, 1.0).certificate(coef)
    total, worst = Decimal(0), Decimal(0)
    with localcontext() as context:
        context.prec = 400
        for i in range(n):
            exps = [Decimal(float(z)).exp() for z in classes_scores[i]]
            c_i, label = Decimal(float(objective.weights[i])), int(y_index[i])
            total += c_i * (sum(exps).ln() - exps[label].ln())
            for k in range(1 if n_classes == 2 else 0, n_classes):  # (binary: class 1's column)
                residual = exps[k] / sum(exps) - (1 if k == label else 0)
                worst = max(worst, abs(c_i * residual))
    assert F == pytest.approx(float(total), rel=1e-13, abs=0.0)
    assert optimality == pytest.approx(float(worst), rel=1e-13, abs=0.0)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_fused_certificate_is_stable_for_huge_scores(n_classes):
    # Scores of +-1e4: exp would overflow in a naive loss; no warning (they are errors here), and
    # the losses are scipy's log-sum-exp (numpy's logaddexp for one output) minus the true score.
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(40, 3))
    y_index = rng.integers(0, n_classes, 40)
    objective = _objective_for(X, y_index, n_classes, Penalty(0.0, 0.0), False, rng)
    coef = 1e4 * rng.choice([-1.0, 1.0], size=objective.shape)
    F, optimality = Problem.from_objective(objective, 1.0).certificate(coef)
    Z = X @ coef.T
    if n_classes == 2:
        per_sample = np.logaddexp(0.0, Z[:, 0]) - y_index * Z[:, 0]
    else:
        per_sample = logsumexp(Z, axis=1) - Z[np.arange(40), y_index]
    assert np.isfinite(F) and np.isfinite(optimality)
    assert F == pytest.approx(objective.weights @ per_sample, rel=1e-12)
    assert (F, optimality) == pytest.approx(_newton_certificate(objective, coef), rel=1e-12)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_certificate_shared_by_two_threads_is_the_same(sparse_multiclass, fmt):
    X, y = sparse_multiclass
    X = X.toarray() if fmt == "dense" else X
    rng = np.random.default_rng(0)
    objective = _objective_for(X, y, 4, Penalty(0.5, 0.5), True, rng)
    problem = Problem.from_objective(objective, 1.0)
    coef = rng.standard_normal(objective.shape)
    with ThreadPoolExecutor(max_workers=1) as worker:
        assert problem.certificate(coef, worker) == problem.certificate(coef)


def test_fused_certificate_reports_overflowing_scores_as_infinite(small_binary):
    X, y = small_binary
    objective = _objective_for(X * 1e10, y, 2, Penalty(0.0, 1.0), True, np.random.default_rng(0))
    coef = np.full(objective.shape, 1e300)  # scores ~1e310 overflow
    assert Problem.from_objective(objective, 1.0).certificate(coef) == (np.inf, np.inf)


def _run_twice(objective, settings, *, overlap, max_iter, seed=0):
    """Two calls of :func:`sgd` on one run (the second continues the first, as partial_fit)."""
    run = make_run(np.zeros(objective.shape), settings, fit_intercept=objective.fit_intercept)
    rng = np.random.default_rng(seed)
    first = sgd(objective, run, data_weight=1.0, max_iter=max_iter, tol=None, rng=rng,
                overlap=overlap)  # fmt: skip
    second = sgd(objective, run, data_weight=1.0, max_iter=1, tol=None, rng=rng, overlap=overlap)
    return first, second


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize(
    "settings, penalty, n_classes",
    [
        (SGDSettings(), Penalty(0.0, 1.0), 2),
        (SGDSettings(average=True), Penalty(1.0, 0.0), 2),
        (SGDSettings(average=50), Penalty(0.5, 0.5), 4),
        (SGDSettings(shuffle=False, learning_rate="invscaling", eta0=0.1), Penalty(0.0, 1.0), 2),
        (SGDSettings(optimizer="adam", batch_size=8, learning_rate="constant"),
         Penalty(0.0, 1.0), 3),
    ],
    ids=["plain", "averaged-l1", "multinomial-elasticnet", "no-shuffle", "adam-minibatch"],
)  # fmt: skip
def test_overlapped_certificates_leave_iterates_and_trace_unchanged(fmt, settings, penalty,
                                                                    n_classes):  # fmt: skip
    rng = np.random.default_rng(n_classes)
    X = rng.standard_normal((120, 10))
    X[rng.random(X.shape) < 0.5] = 0.0
    X = sparse.csr_array(X) if fmt == "csr" else X
    objective = _objective_for(X, rng.integers(0, n_classes, 120), n_classes, penalty, True, rng)
    runs = {overlap: _run_twice(objective, settings, overlap=overlap, max_iter=4)
            for overlap in (False, True)}  # fmt: skip
    for sequential, overlapped in zip(runs[False], runs[True], strict=True):
        # Bit for bit: the same updates, the same draws of the generator (the second call
        # continues from the generator's state), the same certificate kernel.
        np.testing.assert_array_equal(overlapped.coef, sequential.coef)
        np.testing.assert_array_equal(overlapped.trace.objective, sequential.trace.objective)
        np.testing.assert_array_equal(overlapped.trace.optimality, sequential.trace.optimality)
        assert overlapped.n_iter == sequential.n_iter
        assert overlapped.objective == sequential.objective
        assert (overlapped.converged, overlapped.message) == (sequential.converged,
                                                              sequential.message)  # fmt: skip
        assert len(overlapped.trace.time) == len(sequential.trace) == sequential.n_iter + 1
        assert np.all(np.diff(overlapped.trace.time) >= 0.0)


@pytest.mark.parametrize("tol", [None, 1e-2])
def test_estimator_fits_the_same_with_and_without_a_second_thread(sparse_binary, monkeypatch,
                                                                  tol):  # fmt: skip
    # Large inputs overlap the certificates with the next epoch (tol=None) or share each one
    # between two threads (a stopping rule): forcing either on a small input must not show.
    # The second thread is forced even where the machine has one core or OMP_NUM_THREADS=1 (else
    # both fits would take the same path), and the spies check that it ran.
    X, y = sparse_binary
    monkeypatch.setattr(sgd_module, "_second_thread_allowed", lambda: True)
    calls = {"overlapped": 0, "thread": 0}
    for name, key in (("_sgd_overlapped", "overlapped"), ("_certificate_thread", "thread")):
        original = getattr(sgd_module, name)

        def spy(*args, _original=original, _key=key, **kwargs):
            calls[_key] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(sgd_module, name, spy)
    fits = {}
    for threshold in (np.inf, 0):
        monkeypatch.setattr(sgd_module, "OVERLAP_MIN_SIZE", threshold)
        model = LogisticRegression(**SGD, average=True, max_iter=8, tol=tol, n_iter_no_change=2,
                                   random_state=0)  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y).partial_fit(X[:100], y[:100])
        fits[threshold] = model
        if threshold == np.inf:
            assert calls == {"overlapped": 0, "thread": 0}
    # fit overlaps epochs and certificates (tol=None) or shares the certificates with a thread
    # (tol); partial_fit (one epoch, tol=None) overlaps; every overlapped run opens its thread
    assert calls["overlapped"] == (2 if tol is None else 1)
    assert calls["thread"] == 2
    before, after = fits[np.inf], fits[0]
    np.testing.assert_array_equal(after.coef_, before.coef_)
    np.testing.assert_array_equal(after.intercept_, before.intercept_)
    np.testing.assert_array_equal(after.convergence_.objective, before.convergence_.objective)
    assert after.n_iter_ == before.n_iter_


def test_overlap_is_refused_when_the_run_reads_the_objective(small_binary):
    X, y = small_binary
    objective = _objective_for(X, y, 2, Penalty(0.0, 1.0), True, np.random.default_rng(0))
    for kwargs in [{"tol": 1e-3}, {"tol": None, "hook": lambda *args: False},
                   {"tol": None, "validation_score": lambda coef: 0.0}]:  # fmt: skip
        run = make_run(np.zeros(objective.shape), SGDSettings(), fit_intercept=True)
        with pytest.raises(ValueError, match="overlap=True needs tol=None"):
            sgd(objective, run, data_weight=1.0, max_iter=2, overlap=True, **kwargs)


@pytest.mark.parametrize("overlap", [False, True])
def test_divergence_seen_by_the_objective_is_reported_with_or_without_overlap(overlap):
    # One sample per epoch: the first update leaves finite coefficients (5e159) whose score on
    # the sample overflows. The certificate of epoch 1 sees it; with overlap, epoch 2 (already
    # under way) fails on its scores too, and the first failure is the one reported.
    X = np.array([[1e160, -1e160]])
    objective = LogisticObjective(X, np.ones((1, 1)), np.ones(1), Penalty(0.0, 0.0),
                                  fit_intercept=True)  # fmt: skip
    settings = SGDSettings(learning_rate="constant", eta0=1.0)
    run = make_run(np.zeros(objective.shape), settings, fit_intercept=True)
    with pytest.raises(ValueError, match=r"diverged: the objective became infinite.*eta0=1"):
        sgd(objective, run, data_weight=1.0, max_iter=3, tol=None,
            rng=np.random.default_rng(0), overlap=overlap)  # fmt: skip


@pytest.fixture(scope="module")
def three_of_five():
    """200 x 5; the L1 optimum at C = 0.1 keeps the first three features and zeroes the others."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(200, 5))
    X[:, 3:] *= 0.1
    y = (X[:, :3] @ [2.0, -1.0, 0.5] + rng.normal(size=200) > 0).astype(int)
    return X, y


FULL_BATCH_RATES = {"sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.1,
                    "rmsprop": 0.01, "adadelta": 1.0, "adam": 0.01, "nadam": 0.01}  # fmt: skip


@pytest.mark.parametrize(("penalty", "optimizer"),
                         [("l1", name) for name in FULL_BATCH_RATES]
                         + [("elasticnet", "momentum"), ("elasticnet", "adam")])  # fmt: skip
def test_every_rule_has_the_l1_optimum_as_its_fixed_point(three_of_five, penalty, optimizer):
    # Full batches: no gradient noise, so the iterates settle at the rule's fixed point. Shrinking
    # by eta * alpha_1 whatever the rule made momentum's 10 times weaker (32% above the optimum)
    # and AdaGrad's zero every weight (+56%); the shrinkage now follows the rule's own step.
    X, y = three_of_five
    extra = {"l1_ratio": 0.7} if penalty == "elasticnet" else {}
    newton = LogisticRegression(penalty, C=0.1, tol=1e-12, max_iter=500, **extra).fit(X, y)
    model = LogisticRegression(penalty, C=0.1, **SGD, optimizer=optimizer, learning_rate="constant",
                               eta0=FULL_BATCH_RATES[optimizer], batch_size=len(y),
                               max_iter=1500, tol=None, random_state=0, **extra)  # fmt: skip
    model.fit(X, y)
    assert (model.objective_ - newton.objective_) / newton.objective_ < 1e-4
    np.testing.assert_array_equal(model.coef_ != 0, newton.coef_ != 0)


@pytest.mark.parametrize("optimizer", ["adagrad", "rmsprop", "adam"])
def test_adaptive_rules_find_a_feature_that_appears_late_in_sparse_data(optimizer):
    # The adaptive rules shrink by a proximal step in their per-coordinate metric, not by a
    # cumulative penalty in it: a feature absent from the first half of the rows has no squared
    # gradients yet, a step scale of eta / eps, and a cumulative penalty would bank 1e10 times
    # the usual amount and hold its coefficient at 0 for good (measured: 0.0 where Newton has 14).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    X[:200, 3] = 0.0
    y = (X[:, 0] + 3.0 * X[:, 3] + 0.3 * rng.normal(size=400) > 0).astype(int)
    newton = LogisticRegression("l1", C=1.0, tol=1e-12, max_iter=500).fit(X, y)
    model = LogisticRegression("l1", C=1.0, **SGD, optimizer=optimizer, batch_size=10,
                               shuffle=False, max_iter=30, tol=None, random_state=0)  # fmt: skip
    model.fit(sparse.csr_matrix(X), y)
    assert newton.coef_[0, 3] > 10
    assert model.coef_[0, 3] > 0.8 * newton.coef_[0, 3]
    assert (model.objective_ - newton.objective_) / newton.objective_ < 0.1


@pytest.mark.parametrize("batch_size", [1, 5])
def test_a_diverged_partial_fit_keeps_the_run_of_the_last_good_call(batch_size):
    # The epoch updates the run in place; a diverged one used to leave inf/NaN there, and every
    # later call failed too, blaming its own sane eta0.
    rng = np.random.default_rng(12)
    X = rng.normal(size=(50, 3))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression(**SGD, learning_rate="constant", eta0=0.01, batch_size=batch_size,
                               random_state=0)  # fmt: skip
    model.partial_fit(X, y, classes=[0, 1])
    good = model.coef_.copy()
    model.set_params(eta0=1e300)
    with pytest.raises(SGDDivergedError, match="eta0"):
        model.partial_fit(X, y)
    model.set_params(eta0=0.01)
    model.partial_fit(X, y)
    twice = LogisticRegression(**SGD, learning_rate="constant", eta0=0.01, batch_size=batch_size,
                               random_state=0)  # fmt: skip
    twice.partial_fit(X, y, classes=[0, 1]).partial_fit(X, y)
    assert np.all(np.isfinite(model.coef_)) and not np.array_equal(model.coef_, good)
    np.testing.assert_array_equal(model.coef_, twice.coef_)  # as if the failed call never ran


@pytest.mark.parametrize(
    "params",
    [
        # the L1 step's scale eta / (sqrt(s) + eps) overflowed, outside the rule's own error state
        {"optimizer": "rmsprop", "batch_size": 1},
        {"optimizer": "adagrad", "batch_size": 32},
        {"optimizer": "adam", "batch_size": 32},
        # the L2 decay alpha_2 W of a diverging W overflowed outside any error state
        {"penalty": "elasticnet", "l1_ratio": 0.5, "C": 1e-6, "optimizer": "momentum",
         "eta0": 1e3},
    ],
)  # fmt: skip
def test_a_diverging_run_raises_without_overflow_warnings(params):
    # a RuntimeWarning came before the divergence error that names the rate
    X, y = load_breast_cancer(return_X_y=True)  # raw: features up to 4254
    params = {"penalty": "l1", "eta0": 1e305, **params}
    model = LogisticRegression(**SGD, **params, learning_rate="constant", max_iter=3, tol=None,
                               random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(SGDDivergedError, match=re.escape(f"eta0={params['eta0']:g}")):
            model.fit(X, y)


def test_the_certificate_of_a_saturated_multinomial_run_warns_of_nothing_but_convergence():
    # unscaled wine, Nesterov: the softmax saturates and the dual point's intercept shift met
    # curvatures of 1e-318, where lstsq's step was [-inf, inf, 0] and its centring inf - inf
    X, y = load_wine(return_X_y=True)
    model = LogisticRegression("elasticnet", **SGD, l1_ratio=0.5, optimizer="nesterov",
                               batch_size=32, max_iter=3, tol=None, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)  # the steps do not suit the data
        model.fit(X, y)
    assert np.isfinite(model.objective_)
    assert np.isnan(model.duality_gap_)  # documented: no dual point for a saturated run


def test_a_failed_fit_leaves_no_model_for_partial_fit_to_continue():
    # fit on 3 features, then a fit on 6 that diverges: partial_fit continued the 3-column run
    # with 6-column rows (the compiled loop wrote past its arrays: heap corruption, a crash)
    rng = np.random.default_rng(0)
    X3, X6 = rng.normal(size=(60, 3)), rng.normal(size=(60, 6))
    y = (X6[:, 0] > 0).astype(int)
    model = LogisticRegression(**SGD, random_state=0).fit(X3, y)
    model.set_params(learning_rate="constant", eta0=1e300, batch_size=5)
    with pytest.raises(SGDDivergedError):
        model.fit(X6 * 1e10, y)
    assert not hasattr(model, "coef_") and not hasattr(model, "n_features_in_")
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        model.set_params(eta0=0.01).partial_fit(X6, y)
    model.partial_fit(X6, y, classes=[0, 1])
    assert model.coef_.shape == (1, 6)


def test_a_diverged_first_partial_fit_leaves_nothing_to_continue():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(50, 3))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression(**SGD, learning_rate="constant", eta0=1e300, batch_size=5,
                               random_state=0)  # fmt: skip
    with pytest.raises(SGDDivergedError):
        model.partial_fit(X, y, classes=[0, 1])
    model.set_params(eta0=0.01).partial_fit(X, y, classes=[0, 1])
    assert np.all(np.isfinite(model.coef_))


@pytest.mark.parametrize("C", [1e-4, 1e-3, 1e-2])
def test_an_exact_zero_model_is_not_reported_above_the_zero_model(iris, C):
    # strong L1 without an intercept: the optimum (Newton's) is W = 0, which SGD reaches exactly;
    # objective_ sums its n losses log 3 one by one, 1.6479184330021655 against C n log 3 =
    # 1.6479184330021646, and that rounding was called "above the all-zero model", converged_
    # False, with advice to standardise the (standardised) features
    X, y = iris
    newton = LogisticRegression("l1", C=C, fit_intercept=False).fit(X, y)
    assert np.all(newton.coef_ == 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = LogisticRegression("l1", **SGD, C=C, fit_intercept=False, random_state=0).fit(X, y)
    assert np.all(model.coef_ == 0.0) and model.converged_
    np.testing.assert_allclose(model.objective_, C * len(y) * np.log(3), rtol=1e-14)


@pytest.mark.parametrize("seed", range(5))
def test_sgd_noise_at_a_zero_model_optimum_is_not_called_a_scale_problem(seed):
    # constant features, balanced classes: the optimum is W = 0, b = 0; SGD ends its noise away
    # (13.8668 against F(0) = 13.8629 on seed 2), which was reported as "steps that do not suit
    # features of this scale (largest squared sample norm 0)", converged_ False
    X, y = np.zeros((20, 1)), np.repeat([0, 1], 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = LogisticRegression(**SGD, random_state=seed).fit(X, y)
    assert model.converged_
    assert model.objective_ == pytest.approx(20 * np.log(2.0), rel=1e-3)


def test_partial_fit_warns_when_it_ends_above_the_all_zero_model():
    # fit warned, five partial_fit calls reaching the same objective (470 times F(0)) did not
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4)) * 100
    y = (X[:, 0] + 30 * rng.normal(size=100) > 0).astype(int)
    model = LogisticRegression(**SGD, random_state=0)
    # (partial_fit warns above 10 times F(0), and says so)
    with pytest.warns(ConvergenceWarning, match=r"above 10 times 69.31, the objective of all-zero"):
        model.partial_fit(X, y, classes=[0, 1])
    assert model.converged_ is False


def test_the_documented_streaming_recipe_does_not_warn(breast_cancer):
    # sgd.rst's recipe (C n / m on chunks of m, shuffle=False) makes fit's updates exactly, but
    # the first two calls end their chunks at 1.8 and 1.3 times the zero model's objective (the
    # start of a run): they warned "its steps do not suit features of this scale"
    X, y = breast_cancer
    n = len(y)
    stream = LogisticRegression(**SGD, shuffle=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for chunk in np.array_split(np.arange(n), 4):
            stream.set_params(C=n / len(chunk)).partial_fit(X[chunk], y[chunk], classes=[0, 1])
        whole = LogisticRegression(**SGD, shuffle=False, max_iter=1, tol=None, random_state=0)
        whole.fit(X, y)
    np.testing.assert_array_equal(stream.coef_, whole.coef_)


def test_a_dense_x_of_mostly_zeros_keeps_the_full_intercept_step():
    # A review's case: 98% zeros, an intercept optimum of 5.6. Damping by the density (0.02)
    # stopped at b = 4.9, 2.0 above the optimum, with converged_ True; the full step gets there.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 20))
    X[rng.random(X.shape) < 0.98] = 0.0
    y = (X @ rng.standard_normal(20) + 3.0 + rng.standard_normal(2000) > 0).astype(int)
    newton = LogisticRegression(C=1.0, tol=1e-10).fit(X, y)
    model = LogisticRegression(**SGD, C=1.0, random_state=0).fit(X, y)
    assert model.objective_ - newton.objective_ < 0.1
    assert model.intercept_[0] == pytest.approx(newton.intercept_[0], abs=0.1)


def test_intercept_rate_cannot_change_in_the_middle_of_a_stream(small_binary):
    X, y = small_binary
    model = LogisticRegression(**SGD, learning_rate="constant", random_state=0)
    model.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="intercept_rate changed since the run began"):
        model.set_params(intercept_rate=0.5).partial_fit(X, y)


@pytest.mark.parametrize("case", ["weights", "small C"])
def test_an_overflowing_squared_gradient_names_its_scale_not_the_rate(case):
    # Adam's squared gradient overflows at sample weights of 1e160 (step 1) or C = 1e-300 (the
    # penalty's 1 / (C sum s) at step 2) whatever eta0 is; the error said "Try a smaller eta0"
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    C, weights = (1.0, np.full(len(y), 1e160)) if case == "weights" else (1e-300, None)
    for eta0 in (1e-2, 1e-6):
        model = LogisticRegression(**SGD, C=C, optimizer="adam", learning_rate="constant",
                                   eta0=eta0, batch_size=8, max_iter=3, tol=None,
                                   random_state=0)  # fmt: skip
        with pytest.raises(SGDDivergedError, match="a square overflowed float64") as error:
            model.fit(X, y, sample_weight=weights)
        message = str(error.value)
        # at the first update (large weights) the scale alone; later (the L2 term's 1 / (C n) at
        # the second) the scale or the rate
        assert message.startswith("SGD stopped at its first update") == (case == "weights")
        assert ("Either the iterates diverged" in message) == (case == "small C")
        expected = "up to 1e+160" if case == "weights" else "1 / (C n_samples) (here 1.76e+297)"
        assert expected in message and "bring them nearer 1" in message


def test_an_overflow_the_rate_causes_names_the_rate():
    # eta0 = 1e160 makes Adam's squared gradient overflow at its second update: the rate's advice
    # comes first (the first version put "no eta0 makes up for it" there)
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = LogisticRegression(**SGD, optimizer="adam", learning_rate="constant", eta0=1e160,
                               batch_size=8, max_iter=3, tol=None, random_state=0)  # fmt: skip
    with pytest.raises(SGDDivergedError, match=r"Either the iterates diverged: .*eta0=1e\+160"):
        model.fit(X, y)
