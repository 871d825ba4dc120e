"""scikit-learn's callback API (sklearn.callback) on every mlbasics estimator.

The tree of tasks each fit reports is counted against the fitted ``n_iter_``; a callback that
asks to stop must end the fit after that many iterations with a model that predicts; the models
handed to callbacks mid-fit must be the ones a shorter fit would have produced.
"""

import itertools
import math
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlbasics import SVC, LogisticRegression
from mlbasics.linear_model._newton import lbfgs, newton_smooth, prox_newton
from mlbasics.linear_model._objective import LogisticObjective, Penalty, target_matrix
from mlbasics.nn import MLPClassifier, MLPRegressor
from mlbasics.svm._dual import CHUNK

pytest.importorskip("rich")  # ProgressBar draws with rich (in the test extra)


class Recorder:
    """Keeps every event it hears; asks to stop at the end of its ``stop_at``-th leaf task."""

    def __init__(self, stop_at=None, leaf_name=None):
        self.events = []
        self.stop_at = stop_at
        self.leaf_name = leaf_name
        self.models = []

    def setup(self, estimator, context):
        self.events.append(("setup", None))

    def teardown(self, estimator, context):
        self.events.append(("teardown", None))

    def on_fit_task_begin(self, estimator, context):
        self.events.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.events.append(("end", context.task_name))
        if context.task_name != self.leaf_name:
            return False
        self.models.append(fitted_estimator)
        return self.stop_at is not None and len(self.models) >= self.stop_at

    def count(self, kind, name=None):
        return sum(1 for k, n in self.events if k == kind and (name is None or n == name))


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


LOGISTIC = [
    ({"solver": "newton-cholesky"}, "newton-cholesky iteration"),
    ({"solver": "newton-cg"}, "newton-cg iteration"),
    ({"solver": "lbfgs"}, "lbfgs iteration"),
    ({"solver": "newton", "penalty": "l1", "C": 0.5}, "prox-newton iteration"),
    ({"solver": "sgd", "random_state": 0}, "sgd epoch"),
    ({"solver": "sgd", "penalty": "l1", "average": True, "random_state": 0}, "sgd epoch"),
]


# -- LogisticRegression -------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("params", "leaf"), LOGISTIC)
def test_logistic_reports_one_subtask_per_iteration(cancer, params, leaf):
    X, y = cancer
    rec = Recorder(leaf_name=leaf)
    model = LogisticRegression(**params).set_callbacks(rec).fit(X, y)
    n_iter = int(model.n_iter_[0])
    assert n_iter > 1
    assert rec.count("setup") == rec.count("teardown") == 1
    assert rec.count("begin", "fit") == rec.count("end", "fit") == 1
    assert rec.count("begin", leaf) == rec.count("end", leaf) == n_iter
    assert rec.events[0] == ("setup", None) and rec.events[-1] == ("teardown", None)
    assert rec.events[1] == ("begin", "fit") and rec.events[-2] == ("end", "fit")


@pytest.mark.parametrize(("params", "leaf"), LOGISTIC)
def test_logistic_stops_after_k_iterations_with_a_model_that_predicts(cancer, params, leaf):
    X, y = cancer
    k = 3
    rec = Recorder(stop_at=k, leaf_name=leaf)
    model = LogisticRegression(**params, tol=1e-12, max_iter=100).set_callbacks(rec)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a requested stop is not a failure
        model.fit(X, y)
    assert model.n_iter_[0] == k
    assert rec.count("end", leaf) == k
    assert not model.converged_
    assert model.score(X, y) > 0.9
    assert np.isfinite(model.duality_gap_) and model.duality_gap_ >= -1e-8


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("params", "leaf"), LOGISTIC)
def test_models_seen_mid_fit_are_those_of_shorter_fits(cancer, params, leaf):
    """The model a callback gets after iteration k is the fit with max_iter=k (same path)."""
    X, y = cancer
    rec = Recorder(leaf_name=leaf)
    LogisticRegression(**params, tol=1e-12, max_iter=4).set_callbacks(rec).fit(X, y)
    assert len(rec.models) == 4
    for k in (1, 2, 4):
        short = LogisticRegression(**params, tol=1e-12, max_iter=k).fit(X, y)
        seen = rec.models[k - 1]
        np.testing.assert_allclose(seen.coef_, short.coef_, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(seen.intercept_, short.intercept_, rtol=1e-10, atol=1e-12)
        assert seen.n_iter_[0] == k and not seen.converged_ and np.isnan(seen.duality_gap_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_logistic_fit_is_the_same_with_and_without_callbacks(cancer):
    X, y = cancer
    for params, leaf in LOGISTIC:
        plain = LogisticRegression(**params).fit(X, y)
        watched = LogisticRegression(**params).set_callbacks(Recorder(leaf_name=leaf)).fit(X, y)
        np.testing.assert_array_equal(plain.coef_, watched.coef_)
        np.testing.assert_array_equal(plain.n_iter_, watched.n_iter_)


def test_scoring_monitor_scores_each_iteration_and_the_last_is_the_final_model(cancer):
    X, y = cancer
    monitor = ScoringMonitor(scoring="neg_log_loss")
    model = LogisticRegression(solver="newton-cg").set_callbacks(monitor).fit(X, y)
    log = monitor.get_logs().data
    iterations = [row for row in log if row["task_name"] == "newton-cg iteration"]
    assert len(iterations) == model.n_iter_[0]
    losses = [-row["neg_log_loss"] for row in iterations]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(losses))  # Newton's path descends
    final = -np.mean(np.log(model.predict_proba(X)[np.arange(len(y)), y]))
    assert losses[-1] == pytest.approx(final, rel=1e-10)


def test_verbose_still_prints_with_callbacks(cancer, capsys):
    X, y = cancer
    model = LogisticRegression(verbose=1).set_callbacks(Recorder()).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == model.n_iter_[0] + 1  # the start and every iteration


# -- the solvers' hook ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("solver", "penalty"),
    [
        (newton_smooth, Penalty(0.0, 1.0)),
        (lbfgs, Penalty(0.0, 1.0)),
        (prox_newton, Penalty(1.0, 0.0)),
    ],
)
def test_a_hook_returning_true_stops_the_solver_there(cancer, solver, penalty):
    X, y = cancer
    obj = LogisticObjective.from_data(
        X, target_matrix(y, 2), np.ones(len(y)), penalty, fit_intercept=True
    )
    calls = []

    def hook(iteration, objective, optimality, coef):
        calls.append((iteration, objective, coef.copy()))
        return iteration == 2

    result = solver(obj, np.zeros(obj.shape), tol=1e-14, max_iter=50, hook=hook)
    assert result.stopped and not result.converged
    assert result.n_iter == 2 and [c[0] for c in calls] == [0, 1, 2]
    np.testing.assert_array_equal(result.coef, calls[-1][2])
    assert result.objective == pytest.approx(obj.value(result.coef, obj.scores(result.coef)))


# -- SVC -----------------------------------------------------------------------------------------
def _chunks(n_iter):
    return max(1, math.ceil(n_iter / CHUNK))


def test_binary_svc_reports_its_smo_chunks():
    X, y = make_classification(3000, 20, n_informative=10, flip_y=0.1, random_state=0)
    X = StandardScaler().fit_transform(X)
    rec = Recorder(leaf_name="smo chunk")
    model = SVC(C=10).set_callbacks(rec).fit(X, y)
    assert model.n_iter_[0] > 2 * CHUNK
    assert rec.count("begin", "smo chunk") == rec.count("end", "smo chunk")
    assert rec.count("end", "smo chunk") == _chunks(model.n_iter_[0])
    assert rec.count("end") == 1 + _chunks(model.n_iter_[0])
    assert all(m is not None for m in rec.models)


def test_binary_svc_stopped_after_k_chunks():
    X, y = make_classification(3000, 20, n_informative=10, flip_y=0.1, random_state=0)
    X = StandardScaler().fit_transform(X)
    rec = Recorder(stop_at=1, leaf_name="smo chunk")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SVC(C=10, tol=1e-6).set_callbacks(rec).fit(X, y)
    assert model.n_iter_[0] == CHUNK
    assert not model.converged_ and model.fit_status_ == 1
    assert model.score(X, y) > 0.8
    assert model.duality_gap_[0] > 0  # a certificate of a non-optimal, feasible point
    # ... which bounds how far its dual objective (minimised form) is from the converged one's:
    # P(w) >= P* = -D*_min, so P(w) - D(alpha) = P(w) + D_min(alpha) >= D_min(alpha) - D*_min > 0
    full = SVC(C=10, tol=1e-6).fit(X, y)
    assert full.converged_
    assert 0 < model.objective_[0] - full.objective_[0] <= model.duality_gap_[0]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_binary_svc_models_seen_mid_fit_are_those_of_shorter_fits():
    """Without shrinking every variable is active, so the bias mid-fit is the final rule's too."""
    X, y = make_classification(3000, 20, n_informative=10, flip_y=0.1, random_state=0)
    X = StandardScaler().fit_transform(X)
    rec = Recorder(leaf_name="smo chunk")
    SVC(C=10, shrinking=False).set_callbacks(rec).fit(X, y)
    for k in (1, 2):
        seen = rec.models[k - 1]
        short = SVC(C=10, shrinking=False, max_iter=k * CHUNK).fit(X, y)
        assert seen.n_iter_[0] == short.n_iter_[0] == k * CHUNK
        np.testing.assert_array_equal(seen.support_, short.support_)
        np.testing.assert_array_equal(seen.dual_coef_, short.dual_coef_)
        np.testing.assert_allclose(seen.intercept_, short.intercept_, rtol=1e-12)
        np.testing.assert_array_equal(seen.decision_function(X), short.decision_function(X))
        np.testing.assert_array_equal(
            seen.convergence_[0].optimality, short.convergence_[0].optimality
        )


def test_scoring_monitor_on_a_binary_svc_ends_with_the_final_score():
    X, y = make_classification(3000, 20, n_informative=10, flip_y=0.1, random_state=0)
    X = StandardScaler().fit_transform(X)
    monitor = ScoringMonitor(scoring="accuracy")
    model = SVC(C=10).set_callbacks(monitor).fit(X, y)
    chunks = [r for r in monitor.get_logs().data if r["task_name"] == "smo chunk"]
    assert len(chunks) == _chunks(model.n_iter_[0])
    assert chunks[-1]["accuracy"] == pytest.approx(model.score(X, y), abs=1 / len(y))


def test_multiclass_svc_has_one_task_per_pair_and_stops_each_pair(iris):
    X, y = iris
    rec = Recorder(leaf_name="smo chunk")
    model = SVC(tol=1e-6).set_callbacks(rec).fit(X, y)
    pairs = ["0 vs 1", "0 vs 2", "1 vs 2"]
    for pair in pairs:
        assert rec.count("begin", pair) == rec.count("end", pair) == 1
    # One leaf per record of each pair's trace after its start: the chunks, and at tol=1e-6 also
    # the check of the float64 gradient and the chunks SMO resumes from it (svm._smo).
    assert rec.count("end", "smo chunk") == sum(len(t) - 1 for t in model.convergence_)
    assert all(
        len(t) - 1 > _chunks(n) for t, n in zip(model.convergence_, model.n_iter_, strict=True)
    )

    stopper = Recorder(stop_at=0, leaf_name="smo chunk")  # every chunk asks to stop
    model = SVC(tol=1e-6).set_callbacks(stopper).fit(X, y)
    assert stopper.count("end", "smo chunk") == 3
    assert np.all(model.n_iter_ <= CHUNK) and model.score(X, y) > 0.9


def test_multiclass_svc_models_mid_fit_hold_the_problems_solved_so_far(iris):
    X, y = iris
    rec = Recorder(leaf_name="smo chunk")
    final = SVC(tol=1e-6, shrinking=False).set_callbacks(rec).fit(X, y)
    first, last = rec.models[0], rec.models[-1]
    assert np.all(first.n_iter_[1:] == 0) and np.all(np.isnan(first.objective_[1:]))
    assert len(first.convergence_) == 1 and len(last.convergence_) == 3
    # after the last chunk of the last problem, every alpha is final (no shrinking: same bias)
    np.testing.assert_array_equal(last.support_, final.support_)
    np.testing.assert_array_equal(last.dual_coef_, final.dual_coef_)
    np.testing.assert_allclose(last.intercept_, final.intercept_, rtol=1e-12)
    np.testing.assert_array_equal(last.n_iter_, final.n_iter_)
    np.testing.assert_array_equal(last.predict(X), final.predict(X))
    assert not last.converged_ and np.all(np.isnan(last.duality_gap_))


def test_qp_svc_reports_one_leaf_per_pair(iris):
    pytest.importorskip("cvxpy")
    X, y = iris
    rec = Recorder()
    SVC(solver="qp").set_callbacks(rec).fit(X, y)
    assert rec.count("begin") == rec.count("end") == 1 + 3


# -- MLP -----------------------------------------------------------------------------------------
def test_mlp_reports_epochs_and_stops(iris):
    X, y = iris
    rec = Recorder(leaf_name="epoch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier(max_epochs=12, random_state=0).set_callbacks(rec).fit(X, y)
    assert rec.count("begin", "epoch") == rec.count("end", "epoch") == model.n_iter_ == 12

    rec = Recorder(stop_at=5, leaf_name="epoch")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = MLPRegressor(max_epochs=50, random_state=0).set_callbacks(rec).fit(X, y * 1.0)
    assert model.n_iter_ == 5 and np.all(np.isfinite(model.predict(X)))
    assert len(model.loss_curve_) == 5


def test_mlp_models_seen_mid_fit_are_snapshots(iris):
    X, y = iris
    rec = Recorder(leaf_name="epoch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(max_epochs=6, random_state=0).set_callbacks(rec).fit(X, y)
        short = MLPClassifier(max_epochs=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(rec.models[2].predict_proba(X), short.predict_proba(X))


# -- composition, clone, pickle ------------------------------------------------------------------
ESTIMATORS = [
    LogisticRegression(),
    LogisticRegression(solver="sgd", random_state=0),
    SVC(),
    MLPClassifier(max_epochs=100, random_state=0),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: repr(e))
def test_progress_bar_runs_on_each_estimator(iris, estimator):
    X, y = iris
    model = clone(estimator).set_callbacks(ProgressBar()).fit(X, y)
    assert model.score(X, y) > 0.5


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("estimator", ESTIMATORS[:3], ids=lambda e: repr(e))
def test_grid_search_over_a_pipeline_with_a_progress_bar(iris, estimator, n_jobs):
    X, y = iris
    search = GridSearchCV(
        make_pipeline(StandardScaler(), clone(estimator)),
        {f"{type(estimator).__name__.lower()}__C": [0.1, 1.0]},
        cv=3,
        n_jobs=n_jobs,
    ).set_callbacks(ProgressBar(max_propagation_depth=None))
    search.fit(X, y)
    assert search.best_score_ > 0.8


def test_callbacks_survive_clone_and_pickle(iris):
    X, y = iris
    rec = Recorder(leaf_name="lbfgs iteration")
    model = LogisticRegression(solver="lbfgs").set_callbacks(rec)
    assert clone(model)._skl_callbacks[0] is rec  # scikit-learn's clone shares them
    restored = pickle.loads(pickle.dumps(model.fit(X, y)))
    assert len(restored._skl_callbacks) == 1
    copy = restored._skl_callbacks[0]
    before = copy.count("end", "lbfgs iteration")
    restored.fit(X, y)
    assert copy.count("end", "lbfgs iteration") - before == restored.n_iter_[0]
    np.testing.assert_array_equal(restored.coef_, model.coef_)


# -- the data and weights handed to callbacks --------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [LogisticRegression(), LogisticRegression(solver="sgd", random_state=0), SVC()],
    ids=["newton", "sgd", "svc"],
)
def test_a_fit_without_weights_hands_callbacks_no_weights(estimator):
    # LogisticRegression handed its internal ones: a scorer that takes no sample_weight failed,
    # and with metadata routing on so did ScoringMonitor("accuracy") (weights nobody requested).
    import sklearn

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    monitor = ScoringMonitor(scoring=lambda model, X, y: {"acc": model.score(X, y)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clone(estimator).set_callbacks(monitor).fit(X, y)
        with sklearn.config_context(enable_metadata_routing=True):
            clone(estimator).set_callbacks(ScoringMonitor(scoring="accuracy")).fit(X, y)
    assert len(monitor.get_logs().data) > 0


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_mlp_callbacks_see_the_data_and_weights_fit_was_given(estimator_class):
    # The MLP leaves zero-weight samples out of training; callbacks used to get the shortened X
    # with the full y (a ValueError on the first score, e.g. in BaggingClassifier's bootstrap).
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    weight = np.ones(len(y))
    weight[::3] = 0.0

    class SeesTheData:
        seen = None

        def setup(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None):
            if context.parent is None:
                self.seen = (X.shape, np.shape(y), metadata)

        def on_fit_task_end(self, estimator, context):
            pass

        def teardown(self, estimator, context):
            pass

    callback = SeesTheData()
    model = estimator_class((8,), max_epochs=3, random_state=0).set_callbacks(callback)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y, sample_weight=weight)
        scoring = "accuracy" if estimator_class is MLPClassifier else "r2"
        clone(model).set_callbacks(ScoringMonitor(scoring=scoring)).fit(X, y, sample_weight=weight)
    X_shape, y_shape, metadata = callback.seen
    assert (X_shape, y_shape) == (X.shape, y.shape)
    np.testing.assert_array_equal(metadata["sample_weight"], weight)


class Interrupts:
    """Raises KeyboardInterrupt at the end of the first task (Ctrl-C, or a callback's bug)."""

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        raise KeyboardInterrupt

    def teardown(self, estimator, context):
        pass


@pytest.mark.parametrize(
    "estimator",
    [
        LogisticRegression(),
        LogisticRegression(solver="sgd", random_state=0),
        SVC(),
        SVC(solver="qp"),
    ],
    ids=["newton", "sgd", "smo", "qp"],
)
def test_an_interrupted_refit_leaves_no_model(iris, estimator):
    # A 3-class model refitted on 2 classes and interrupted by a callback kept the new classes_
    # with the old coefficients: the SVC then predicted the new labels from the 3-class model,
    # LogisticRegression failed inside numpy. A fit that fails leaves no model, as the MLPs do.
    X, y = iris
    model = clone(estimator).fit(X, y)
    model.set_callbacks(Interrupts())
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, np.where(y == 2, "virginica", "other"))
    assert not [name for name in vars(model) if name.endswith("_") and not name.startswith("__")]
    with pytest.raises(NotFittedError):
        model.predict(X)


class RaisesAt:
    """Raises ``error`` in ``setup``, at the start of the first subtask, at the end of the
    ``at``-th subtask, or at the end of the root."""

    def __init__(self, where, error=KeyboardInterrupt, at=1):
        self.where, self.error, self.at, self.ended = where, error, at, 0

    def setup(self, estimator, context):
        if self.where == "setup":
            raise self.error("setup")

    def on_fit_task_begin(self, estimator, context):
        if self.where == "begin" and context.parent is not None:
            raise self.error("begin")

    def on_fit_task_end(self, estimator, context):
        if context.parent is None:
            if self.where == "root":
                raise self.error("root")
            return False
        self.ended += 1
        if self.where == "subtask" and self.ended == self.at:
            raise self.error("subtask")
        return False

    def teardown(self, estimator, context):
        pass


def test_an_mlp_refit_interrupted_before_its_network_exists_leaves_no_model(iris):
    # the new classes_ were set and the old 3-class network kept: predict failed with an
    # IndexError (a review). The MLP is unfitted, as LogisticRegression and SVC are.
    X, y = iris
    model = MLPClassifier((8,), max_epochs=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    model.set_callbacks(RaisesAt("setup"))
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, np.where(y == 2, "virginica", "other"))
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_an_mlp_interrupted_with_early_stopping_keeps_its_best_epoch(iris):
    # the current weights stayed, not the best epoch's (a review); the reference is the fit
    # that ends at that epoch by itself (max_epochs), which restores the best one
    X, y = iris
    params = dict(hidden_layer_sizes=(8,), early_stopping=True, n_iter_no_change=50,
                  learning_rate=0.2, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = MLPClassifier(max_epochs=12, **params).fit(X, y)
    assert reference.validation_scores_[-1] < reference.best_validation_score_  # a real test
    model = MLPClassifier(max_epochs=100, **params).set_callbacks(RaisesAt("subtask", at=12))
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert model.n_iter_ == 12
    assert model.best_validation_score_ == reference.best_validation_score_
    np.testing.assert_array_equal(model.predict_proba(X), reference.predict_proba(X))


def test_an_interrupt_restores_no_best_epoch_of_an_earlier_fit(iris):
    # the best state was kept on the estimator, so copies of a mid-fit model carried it, and a
    # refit of such a copy interrupted before its first validation took the earlier fit's best
    # weights (a review). Here the earlier state is planted as such a copy would hold it.
    X, y = iris
    params = dict(hidden_layer_sizes=(8,), early_stopping=True, random_state=0)
    earlier = MLPClassifier(max_epochs=2, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        earlier.fit(X, y)
    model = MLPClassifier(max_epochs=5, **params)
    model._best = (0.123, earlier.network_.get_state())
    model.set_callbacks(RaisesAt("begin"))
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert "_best" not in vars(model) and not hasattr(model, "best_validation_score_")
    assert model.n_iter_ == 0


def test_an_mlp_whose_callback_fails_at_the_end_is_left_unfitted(iris):
    # LogisticRegression and SVC were left unfitted, the MLP fitted (a review)
    X, y = iris
    model = MLPClassifier((8,), max_epochs=3, random_state=0).set_callbacks(
        RaisesAt("root", error=RuntimeError)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(RuntimeError, match="root"):
            model.fit(X, y)
    with pytest.raises(NotFittedError):
        model.predict(X)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_precomputed_kernel_svc_can_be_scored_mid_fit(iris, n_classes):
    # the model seen mid-fit lacked shape_fit_, which predict reads for a precomputed kernel
    # (AttributeError; on a refit, the previous fit's shape and a wrong ValueError)
    X, y = iris
    keep = y < n_classes
    K = X[keep] @ X[keep].T
    y = y[keep]
    plain = SVC(kernel="precomputed").fit(K, y)
    recorder = Recorder(leaf_name="smo chunk")
    other = np.arange(0, len(y), 3)  # fitted on other samples first
    watched = SVC(kernel="precomputed").fit(K[np.ix_(other, other)], y[other])
    watched.set_callbacks(recorder).fit(K, y)
    assert recorder.models
    for mid in recorder.models:
        assert mid.shape_fit_ == K.shape
        assert mid.predict(K).shape == y.shape
    scored = clone(watched).set_callbacks(ScoringMonitor(scoring="accuracy")).fit(K, y)
    np.testing.assert_array_equal(scored.predict(K), plain.predict(K))


@pytest.mark.parametrize(("params", "leaf"), LOGISTIC)
def test_a_stop_at_the_converging_iteration_is_converged_for_every_solver(cancer, params, leaf):
    # SGD honoured the stop before reading its own rule: converged_ False for the model an
    # unwatched fit calls converged; the other solvers read the rule first
    X, y = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        full = LogisticRegression(**params).fit(X, y)
    if not full.converged_:
        pytest.skip("this configuration does not converge within max_iter")
    k = int(full.n_iter_[0])
    watched = LogisticRegression(**params).set_callbacks(Recorder(stop_at=k, leaf_name=leaf))
    watched.fit(X, y)
    assert watched.converged_ and watched.n_iter_[0] == k
    np.testing.assert_array_equal(watched.coef_, full.coef_)
