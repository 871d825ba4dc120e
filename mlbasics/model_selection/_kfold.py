"""Training and validation error of one estimator, fold by fold."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, StrOptions

from ._callbacks import (
    KFoldErrors,
    check_callbacks,
    map_with_callbacks,
)
from ._folds import (
    check_data,
    check_fit_params,
    check_scoring_once,
    default_scoring,
    error_form,
    finite_mean,
    fit_and_score,
    make_splitter,
    materialise_splits,
    report_failures,
)
from ._parallel import seeds_for
from ._params import validate_params


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class KFoldResult:
    """Per-fold training and validation scores of one estimator (see :func:`kfold_errors`).

    Attributes
    ----------
    scoring : str or None
        The scorer's name (None: the estimator's own ``score`` method).
    train_scores, test_scores : ndarray of shape (n_splits,)
        Score on the training part and on the held-out part of each split, as
        :func:`sklearn.model_selection.cross_validate` reports them (greater is better). A fold
        whose fit failed holds ``error_score`` (NaN by default).
    fit_times, score_times : ndarray of shape (n_splits,)
        Seconds spent fitting and scoring on each split.
    train_indices, test_indices : tuple of ndarray
        The rows of each split.
    error_from_score : {"1 - score", "-score"} or None
        How :attr:`train_errors` and :attr:`test_errors` are read off the scores: the
        misclassification rate is ``1 - accuracy``, a ``"neg_..."`` scorer is minus an error. None
        when the scorer has no error form (R², ROC AUC, a callable): use the scores.
    """

    scoring: str | None
    train_scores: np.ndarray
    test_scores: np.ndarray
    fit_times: np.ndarray
    score_times: np.ndarray
    train_indices: tuple
    test_indices: tuple
    error_from_score: str | None

    @property
    def n_splits(self) -> int:
        return len(self.test_scores)

    def _errors(self, scores):
        if self.error_from_score == "1 - score":
            return 1.0 - scores
        if self.error_from_score == "-score":
            return -scores
        raise ValueError(
            f"scoring={self.scoring!r} has no error form (errors exist for accuracy-type and "
            "'neg_...' scorers); use train_scores and test_scores"
        )

    @property
    def train_errors(self) -> np.ndarray:
        """Training error of each fold: how well the model fits the data it saw."""
        return self._errors(self.train_scores)

    @property
    def test_errors(self) -> np.ndarray:
        """Validation error of each fold: an estimate of the generalisation error."""
        return self._errors(self.test_scores)

    def summary(self) -> dict:
        """Means and standard deviations (ddof=1) of scores and times, NaN scores left out (a
        failed fold's with the default ``error_score``; a numeric one is averaged in)."""
        out = {
            "mean_train_score": finite_mean(self.train_scores),
            "std_train_score": _std(self.train_scores),
            "mean_test_score": finite_mean(self.test_scores),
            "std_test_score": _std(self.test_scores),
            "mean_fit_time": finite_mean(self.fit_times),
        }
        if self.error_from_score is not None:
            out["mean_train_error"] = finite_mean(self.train_errors)
            out["std_train_error"] = _std(self.train_errors)
            out["mean_test_error"] = finite_mean(self.test_errors)
            out["std_test_error"] = _std(self.test_errors)
        return out

    def __str__(self) -> str:
        use_errors = self.error_from_score is not None
        train, test = (
            (self.train_errors, self.test_errors)
            if use_errors
            else (self.train_scores, self.test_scores)
        )
        what = "error" if use_errors else "score"
        lines = [
            f"{what}s over {self.n_splits} train/validation splits "
            f"(scoring: {self.scoring or 'estimator.score'})",
            f"{'fold':>6}{'train ' + what:>14}{'validation ' + what:>20}{'fit time (s)':>14}",
        ]
        for k in range(self.n_splits):
            lines.append(f"{k + 1:>6}{train[k]:>14.4f}{test[k]:>20.4f}{self.fit_times[k]:>14.4f}")
        lines.append(
            f"{'mean':>6}{finite_mean(train):>14.4f}{finite_mean(test):>20.4f}"
            f"{finite_mean(self.fit_times):>14.4f}"
        )
        lines.append(f"{'std':>6}{_std(train):>14.4f}{_std(test):>20.4f}")
        return "\n".join(lines)


def _std(values) -> float:
    finite = np.asarray(values)[~np.isnan(values)]
    return float(np.std(finite, ddof=1)) if finite.size > 1 else float("nan")


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "groups": ["array-like", None],
        "cv": ["cv_object"],  # (an int >= 2, a splitter, an iterable of splits or None)
        "scoring": [str, callable, None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "error_score": [StrOptions({"raise"}), Real],
        "verbose": ["verbose"],
        "callbacks": "no_validation",  # checked by check_callbacks: a clearer TypeError
        "params": [dict, None],
    }
)
def kfold_errors(
    estimator,
    X,
    y,
    *,
    groups=None,
    cv=5,
    scoring=None,
    n_jobs=None,
    random_state=None,
    error_score=np.nan,
    verbose=0,
    callbacks=None,
    params=None,
):
    """Training and validation errors (or scores) of an estimator on each fold of K-fold CV.

    For every split the estimator is cloned, fitted on the training part, and scored on both
    parts: the training error says how well the model fits what it saw, the validation error
    estimates the generalisation error (see :ref:`theory-model-selection`). The numbers are those
    of :func:`sklearn.model_selection.cross_validate` with ``return_train_score=True`` on the same
    splitter, except for an estimator that transforms its input in place: the training score is
    computed on a fresh copy of the training rows.

    Parameters
    ----------
    estimator : estimator object
        Anything with ``fit`` (a classifier, a regressor, a pipeline).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    groups : array-like of shape (n_samples,), default=None
        Group labels for a group-aware splitter (:class:`~sklearn.model_selection.GroupKFold`).
        The splitter an int ``cv`` builds ignores them (scikit-learn warns that it does): to keep
        each group in one fold, pass a group-aware splitter as ``cv``.
    cv : int, cross-validation splitter or None, default=5
        An int ``K`` is a shuffled K-fold seeded by ``random_state``, stratified for classifiers;
        a splitter (or an iterable of ``(train, test)`` index pairs) is used as given; None is the
        default, 5.
    scoring : str, callable or None, default=None
        A scikit-learn scorer. None: ``"accuracy"`` for a classifier (errors are misclassification
        rates), ``"neg_mean_squared_error"`` for a regressor (errors are mean squared errors),
        otherwise the estimator's ``score`` method.
    n_jobs : int or None, default=None
        Folds fitted in parallel through joblib (None: 1 unless a ``joblib.parallel_config``
        context says otherwise).
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling when ``cv`` is an int, and the estimator's ``random_state``
        parameters left at None (seeds per fold, a different one for each such parameter,
        nested ones included).
    error_score : "raise" or float, default=np.nan
        Score of a fold whose fit raises, with a :class:`~sklearn.exceptions.FitFailedWarning`
        naming the fold and the error; ``"raise"`` re-raises. If every fold fails, a
        ``ValueError`` is raised.
    verbose : int, default=0
        A progress bar over the folds when positive (needs tqdm).
    callbacks : callback or list of callbacks, default=None
        scikit-learn callbacks (:mod:`sklearn.callback`, such as
        :class:`~sklearn.callback.ProgressBar`). The run is one task (``KFoldErrors``) with one
        subtask per fold; auto-propagated callbacks reach the estimator of each fold when it
        supports callbacks (it has ``set_callbacks``), so its own iterations show under the
        fold. An estimator without callback support is fitted as it is, the fold being a leaf
        task, without a warning. Independent of ``verbose``; the scores do not change. See
        :ref:`theory-model-selection-callbacks`.
    params : dict or None, default=None
        Keyword arguments of the estimator's ``fit``, as ``cross_validate``'s ``params``: one
        with a value per sample (``sample_weight``) is restricted to each fold's training rows,
        others are passed whole. The scores are unweighted.

    Returns
    -------
    KFoldResult
        Per-fold scores, errors, times and indices; ``summary()`` gives means and standard
        deviations.

    See Also
    --------
    compare_estimators : Several estimators on the same folds, with paired tests.
    sklearn.model_selection.cross_validate : The same fold scores, as scores rather than errors.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from mlbasics.model_selection import kfold_errors
    >>> X, y = load_iris(return_X_y=True)
    >>> res = kfold_errors(DecisionTreeClassifier(random_state=0), X, y, cv=5, random_state=0)
    >>> res.train_errors  # a full tree fits its training folds perfectly...
    array([0., 0., 0., 0., 0.])
    >>> bool(res.test_errors.mean() > 0)  # ...but not the held-out ones
    True
    """
    callbacks = check_callbacks(callbacks, [estimator])
    X, y, n_samples = check_data(X, y)
    params = check_fit_params(params, n_samples)
    rng = check_random_state(random_state)
    splitter = make_splitter(
        5 if cv is None else cv,
        y,
        classifier=is_classifier(estimator),
        random_state=rng,
        n_samples=n_samples,
    )
    splits = materialise_splits(splitter, X, y, groups)
    scoring = default_scoring(estimator) if scoring is None else scoring
    check_scoring_once(estimator, scoring)
    seeds = seeds_for(rng, len(splits))
    tasks = [
        (estimator, X, y, train, test, scoring, seed, error_score, params)
        for (train, test), seed in zip(splits, seeds, strict=True)
    ]
    outcomes = map_with_callbacks(
        _fold_task,
        tasks,
        callbacks=callbacks,
        run_class=KFoldErrors,
        task_name=f"{type(estimator).__name__}, {len(splits)} folds",
        leaf_name="fold",
        X=X,
        y=y,
        n_jobs=n_jobs,
        verbose=verbose,
        description="folds",
    )
    report_failures(
        type(estimator).__name__,
        outcomes,
        [f"fold {k + 1} of {len(splits)}" for k in range(len(splits))],
    )
    return KFoldResult(
        scoring=scoring if isinstance(scoring, str) or scoring is None else repr(scoring),
        train_scores=np.array([o.train_score for o in outcomes]),
        test_scores=np.array([o.test_score for o in outcomes]),
        fit_times=np.array([o.fit_time for o in outcomes]),
        score_times=np.array([o.score_time for o in outcomes]),
        train_indices=tuple(train for train, _ in splits),
        test_indices=tuple(test for _, test in splits),
        error_from_score=error_form(scoring),
    )


def _fold_task(estimator, X, y, train, test, scoring, seed, error_score, params, ctx=None,
               run=None):  # fmt: skip
    return fit_and_score(
        estimator,
        X,
        y,
        train,
        test,
        scoring=scoring,
        seed=seed,
        return_train_score=True,
        error_score=error_score,
        fit_params=params,
        callback_ctx=ctx,
        caller=run,
    )
