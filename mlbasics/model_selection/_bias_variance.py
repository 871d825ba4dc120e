"""Bias-variance decompositions of the expected loss, for squared error and for 0-1 loss.

The expectation is over training sets: each round fits a clone of the estimator on a bootstrap
sample of the training set (or on a disjoint part of it) and predicts the same test points. The
predictions of all rounds, a matrix ``F`` of shape (n_rounds, n_test), are all the decomposition
needs; :func:`mse_decomposition` and :func:`zero_one_decomposition` compute it from ``F`` and the
test targets.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.utils import _safe_indexing, check_random_state, get_tags, indexable
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_array, check_consistent_length

from .._validation import check_memory
from ._callbacks import (
    BiasVarianceDecomposition,
    BiasVarianceSweep,
    check_callbacks,
    leaf_task,
    map_with_callbacks,
)
from ._folds import _rows, check_labels
from ._parallel import seeds_for, with_seeded_random_states
from ._params import validate_params

LOSSES = ("mse", "0-1")
SAMPLINGS = ("bootstrap", "disjoint")


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class BiasVarianceResult:
    """A bias-variance decomposition on a test set (see :func:`bias_variance_decomposition`).

    The scalar attributes are means over the test points; ``pointwise`` holds the same quantities
    per test point. Attributes that do not belong to the loss are None.

    Attributes
    ----------
    loss : {"mse", "0-1"}
    expected_loss : float
        Mean over test points and rounds of the loss of a round's prediction.
    variance : float
        Mean loss of a round's prediction against the main prediction: squared deviation from the
        mean prediction (``"mse"``), disagreement with the majority vote (``"0-1"``).
    bias_squared : float or None
        ``"mse"``: mean of ``(mean prediction - y)^2``; ``expected_loss = bias_squared +
        variance`` exactly. It contains the noise of the observed ``y`` (see the Notes of
        :func:`bias_variance_decomposition`).
    bias : float or None
        ``"0-1"``: the fraction of test points whose main prediction (the mode over rounds) is
        wrong.
    variance_unbiased, variance_biased : float or None
        ``"0-1"``: the variance on the points without bias and on those with bias; their sum is
        ``variance``.
    net_variance : float or None
        ``"0-1"``: ``variance_unbiased - variance_biased``. With two classes,
        ``expected_loss = bias + net_variance`` exactly; with more, ``expected_loss >= bias +
        net_variance``.
    pointwise : dict of str to ndarray of shape (n_test,)
        The per-point values of the quantities above, under the same names.
    main_prediction : ndarray of shape (n_test,)
        Mean prediction (``"mse"``) or most frequent label, ties to the first in sorted order
        (``"0-1"``).
    predictions : ndarray of shape (n_rounds, n_test)
        Every round's predictions.
    """

    loss: str
    expected_loss: float
    variance: float
    bias_squared: float | None = None
    bias: float | None = None
    variance_unbiased: float | None = None
    variance_biased: float | None = None
    net_variance: float | None = None
    pointwise: dict = field(default_factory=dict)
    main_prediction: np.ndarray | None = None
    predictions: np.ndarray | None = None

    @property
    def n_rounds(self) -> int:
        return self.predictions.shape[0]

    def __str__(self) -> str:
        if self.loss == "mse":
            parts = [
                ("expected loss", self.expected_loss),
                ("bias^2", self.bias_squared),
                ("variance", self.variance),
            ]
        else:
            parts = [
                ("expected loss", self.expected_loss),
                ("bias", self.bias),
                ("net variance", self.net_variance),
                ("variance", self.variance),
                ("unbiased variance", self.variance_unbiased),
                ("biased variance", self.variance_biased),
            ]
        head = f"{self.loss} bias-variance decomposition over {self.n_rounds} rounds"
        return "\n".join([head] + [f"  {name:<18}{value:.6f}" for name, value in parts])


def _check_predictions(predictions, y_test):
    """``predictions`` of shape (n_rounds, n_test), both at least 1, and ``y_test`` of (n_test,)."""
    P = np.asarray(predictions)
    y = np.asarray(y_test)
    if P.ndim != 2:
        raise ValueError(
            "predictions must be two-dimensional, one row of test predictions per round "
            f"(n_rounds, n_test), got shape {P.shape}"
        )
    if 0 in P.shape:
        raise ValueError(
            f"predictions is empty (shape {P.shape}): the decomposition needs at least one round "
            "and one test point"
        )
    if y.ndim != 1 or y.shape[0] != P.shape[1]:
        raise ValueError(
            f"y_test must hold one target per column of predictions ({P.shape[1]} test points), "
            f"got shape {y.shape}"
        )
    return P, y


def mse_decomposition(predictions, y_test):
    """Squared-error decomposition from the predictions of every round.

    With ``f_r(x)`` the prediction of round ``r`` and ``f_bar(x)`` their mean,

    .. math::

        \\frac1R \\sum_r (f_r(x) - y)^2 = (\\bar f(x) - y)^2 + \\frac1R \\sum_r (f_r(x) -
        \\bar f(x))^2 ,

    an identity (the cross term sums to zero), so it holds to rounding on any sample.

    Parameters
    ----------
    predictions : array-like of shape (n_rounds, n_test)
        Finite numbers; at least one round and one test point.
    y_test : array-like of shape (n_test,)
        Finite numbers.

    Returns
    -------
    BiasVarianceResult

    Raises
    ------
    ValueError
        Also when a per-point loss, bias or variance exceeds the largest float64 (targets and
        predictions beyond about 1e154): rescale the target. Results that fit are computed
        without overflow, however large the values that produce them.
    """
    F, y = _check_predictions(predictions, y_test)
    F = check_array(F, dtype="numeric", input_name="predictions").astype(float, copy=False)
    y = check_array(y, dtype="numeric", ensure_2d=False, input_name="y_test").astype(float)
    # Each test point's values divided by the power of two 2**e just above their largest
    # magnitude, which is exact: the sums and squares of values near 1e154 to 1e308 stay finite.
    # The results are then multiplied back by 2**e (the mean) or 2**(2e) (the squares), if they
    # fit. One power for all points (that of the largest) made the squares of ordinary points
    # underflow beside a point of 1e200: an expected loss of 2.5 came out 0 (a review).
    largest = np.maximum(np.abs(F).max(axis=0), np.abs(y))
    e = np.where(largest > 0, np.frexp(largest)[1], 0)
    F_e, y_e = np.ldexp(F, -e), np.ldexp(y, -e)
    mean = F_e.mean(axis=0)
    scaled = {
        "expected_loss": ((F_e - y_e) ** 2).mean(axis=0),
        "bias_squared": (mean - y_e) ** 2,
        "variance": ((F_e - mean) ** 2).mean(axis=0),
    }
    # a value m * 2**k with 0.5 <= m < 1 times 2**(2e) is finite while k + 2e <= 1024
    for values in scaled.values():
        exponents = np.frexp(values)[1] + 2 * e
        if np.any((values > 0) & (exponents > 1024)):
            raise ValueError(
                "the squared errors overflow float64: predictions and y_test reach "
                f"{largest.max():.3g}, and their mean squared errors exceed the largest float, "
                f"{np.finfo(float).max:.3g}; rescale the target (divide y by its standard "
                "deviation, say) and decompose again"
            )
    pointwise = {name: np.ldexp(values, 2 * e) for name, values in scaled.items()}
    means = {name: _mean_without_overflow(values) for name, values in pointwise.items()}
    return BiasVarianceResult(
        loss="mse",
        expected_loss=means["expected_loss"],
        variance=means["variance"],
        bias_squared=means["bias_squared"],
        pointwise=pointwise,
        main_prediction=np.ldexp(mean, e),
        predictions=F,
    )


def _mean_without_overflow(values) -> float:
    """The mean of nonnegative finite ``values``, summed in units of the power of two above the
    largest (their sum may exceed the float range where the mean does not)."""
    top = float(values.max(initial=0.0))
    if top == 0.0:
        return 0.0
    shift = int(np.frexp(top)[1])
    return float(np.ldexp(np.ldexp(values, -shift).mean(), shift))


def zero_one_decomposition(predictions, y_test, classes=None):
    """Domingos' decomposition of the 0-1 loss from the predictions of every round.

    Per test point ``x`` with label ``y``: the main prediction ``y_m`` is the most frequent
    prediction over the rounds; the bias ``B = [y_m != y]``; the variance
    ``V = P_r(f_r(x) != y_m)``. Where ``B = 0`` the variance adds to the loss (unbiased variance),
    where ``B = 1`` it takes away from it (biased variance: a round that disagrees with a wrong
    main prediction may be right). With two classes and no noise,

    .. math::

        E_r[L(y, f_r(x))] = B(x) + (1 - 2 B(x)) V(x) .

    Parameters
    ----------
    predictions : array-like of shape (n_rounds, n_test)
        Labels of any type (numbers, strings).
    y_test : array-like of shape (n_test,)
    classes : array-like or None
        The possible labels, sorted (the training labels); None: those in ``predictions`` and
        ``y_test``. Ties of the vote go to the first class in this order.

    Returns
    -------
    BiasVarianceResult

    References
    ----------
    .. [1] P. Domingos. A unified bias-variance decomposition for zero-one and squared loss.
       AAAI 2000.
    """
    P, y = _check_predictions(predictions, y_test)
    for name, labels in (("predictions", P), ("y_test", y)):
        if labels.dtype.kind == "f" and not np.isfinite(labels).all():
            raise ValueError(f"{name} contains NaN or infinite labels")
    if classes is None:
        with _orderable("predictions and y_test", P, y):
            classes = np.unique(np.concatenate([P.ravel(), y]))
    classes = np.asarray(classes)
    if classes.ndim != 1 or classes.size == 0:
        raise ValueError(f"classes must be a non-empty list of labels, got shape {classes.shape}")
    with _orderable("classes", classes):
        if classes.size > 1 and not (classes[1:] > classes[:-1]).all():
            raise ValueError("classes must be sorted and without duplicates (as np.unique returns)")
    with _orderable("classes, predictions and y_test", classes, P, y):
        P_codes = _codes(classes, P, "predictions")
        y_codes = _codes(classes, y, "y_test")
    counts = np.stack([(P_codes == k).sum(axis=0) for k in range(len(classes))])
    main_codes = counts.argmax(axis=0)  # the first class among ties
    point_loss = (P_codes != y_codes).mean(axis=0)
    point_bias = (main_codes != y_codes).astype(float)
    point_variance = (P_codes != main_codes).mean(axis=0)
    point_var_unbiased = point_variance * (1.0 - point_bias)
    point_var_biased = point_variance * point_bias
    point_net = point_var_unbiased - point_var_biased
    return BiasVarianceResult(
        loss="0-1",
        expected_loss=float(point_loss.mean()),
        variance=float(point_variance.mean()),
        bias=float(point_bias.mean()),
        variance_unbiased=float(point_var_unbiased.mean()),
        variance_biased=float(point_var_biased.mean()),
        net_variance=float(point_net.mean()),
        pointwise={
            "expected_loss": point_loss,
            "bias": point_bias,
            "variance": point_variance,
            "variance_unbiased": point_var_unbiased,
            "variance_biased": point_var_biased,
            "net_variance": point_net,
        },
        main_prediction=classes[main_codes],
        predictions=P,
    )


@contextmanager
def _orderable(what, *arrays):
    """Turn numpy's "'<' not supported" on labels of several types into an error naming them."""
    try:
        yield
    except TypeError:
        types = sorted({type(label).__name__ for a in arrays for label in a.ravel().tolist()})
        raise TypeError(
            f"{what} mix labels of types that cannot be ordered together ({', '.join(types)}); "
            "the labels must be of one kind, all numbers or all strings"
        ) from None


def _codes(classes, labels, name):
    """Position of every label in the sorted ``classes``; a label not in it is an error."""
    codes = np.searchsorted(classes, labels)
    found = codes < len(classes)
    found[found] = classes[codes[found]] == labels[found]
    if not found.all():
        missing = np.unique(labels[~found])
        raise ValueError(
            f"{name} has labels that are not in classes: {missing.tolist()[:5]}; classes is "
            f"{classes.tolist()[:10]}"
        )
    return codes


def _check_sets(X_train, y_train, X_test, y_test, loss):
    X_train, y_train = indexable(X_train, y_train)
    X_test, y_test = indexable(X_test, y_test)
    check_consistent_length(X_train, y_train)
    check_consistent_length(X_test, y_test)
    y_train = np.asarray(y_train)
    y_test = np.asarray(y_test)
    if y_train.ndim != 1 or y_test.ndim != 1:
        raise ValueError("y_train and y_test must be one-dimensional")
    if len(y_train) < 2 or len(y_test) < 1:
        raise ValueError(
            f"need at least 2 training and 1 test samples, got {len(y_train)} and {len(y_test)}"
        )
    for name, values in (("y_train", y_train), ("y_test", y_test)):
        if loss == "mse" and values.dtype.kind not in "biuf":
            raise ValueError(f"loss='mse' needs numeric targets; {name} has {values.dtype}")
        check_labels(values, name)
    if loss != "mse":
        classes = np.unique(y_train)
        if len(classes) < 2:
            raise ValueError(f"y_train has a single class ({classes[0]!r}): nothing to classify")
        unseen = np.setdiff1d(np.unique(y_test), classes)
        if unseen.size:
            raise ValueError(
                f"y_test has labels that y_train does not: {unseen.tolist()}; a classifier "
                "trained on y_train can never predict them"
            )
    return X_train, y_train, X_test, y_test


def _training_sets(n_train, n_rounds, sampling, rng):
    """Row indices of every round, drawn in the calling process (independent of n_jobs)."""
    if sampling == "bootstrap":
        return [rng.choice(n_train, size=n_train, replace=True) for _ in range(n_rounds)]
    size = n_train // n_rounds
    if size < 2:
        raise ValueError(
            f"sampling='disjoint' cuts the {n_train} training samples into {n_rounds} parts of "
            f"{size}; use fewer rounds (at most {n_train // 2}) or sampling='bootstrap'"
        )
    order = rng.permutation(n_train)
    return [order[r * size : (r + 1) * size] for r in range(n_rounds)]


def _check_memory(n_rounds, n_train, n_test, n_params, sampling):
    """Refuse a run whose training-set indices (drawn before the first fit, so that they do not
    depend on n_jobs) and predictions would not fit in memory: ``--rounds 10**23`` in the CLI
    grew without bound (a review)."""
    rows = n_train if sampling == "bootstrap" else n_train // max(n_rounds, 1)
    check_memory(
        8 * n_rounds * (rows + n_params * n_test),
        f"n_rounds={n_rounds} (the rounds' training sets and predictions, {n_train} training "
        f"and {n_test} test samples)",
        "use fewer rounds.",
    )


def _round_task(estimator, params, X_train, y_train, rows, X_test, seed, ctx=None, run=None):
    model = clone(estimator)
    if params:  # a value may be an estimator (a pipeline's step): each round fits its own copy
        model.set_params(**clone(params, safe=False))
    with_seeded_random_states(model, seed)
    step = "fitting on"
    try:
        # a pairwise estimator (a precomputed kernel) trains on the block of the round's rows and
        # predicts from the test rows' columns of those rows: cut by rows alone, a bootstrap
        # block was square and accepted, with columns of the wrong samples (expected loss 0.78
        # instead of 0.09, or libsvm never ending on the non-symmetric "kernel": a review)
        X_round, y_round = _rows(model, X_train, y_train, rows)
        with leaf_task(ctx, run, model, (X_round, y_round)):
            model.fit(X_round, y_round)
        step = "predicting X_test after fitting on"
        # a copy for every round: with n_jobs=1 the rounds share the caller's array, which a
        # model that transforms in place (StandardScaler(copy=False) in a pipeline) changed for
        # the next round and for the caller (expected loss 40.2 instead of 0.87: a review)
        if get_tags(model).input_tags.pairwise:
            X_round_test = _safe_indexing(X_test, rows, axis=1)
        else:
            X_round_test = _safe_indexing(X_test, np.arange(_num_samples(X_test)))
        return np.asarray(model.predict(X_round_test)), None
    except Exception as exc:
        return None, (step, f"{type(exc).__name__}: {exc}")


def _run_rounds(estimator, param_sets, X_train, y_train, X_test, *, n_rounds, sampling, rng,
                n_jobs, verbose, callbacks, run_class, task_name, groups=None):  # fmt: skip
    """Predictions of shape (n_rounds, n_test) for each parameter set (same samples for all)."""
    _check_memory(n_rounds, len(y_train), _num_samples(X_test), len(param_sets), sampling)
    rows = _training_sets(len(y_train), n_rounds, sampling, rng)
    seeds = seeds_for(rng, n_rounds)
    tasks = [
        (estimator, params, X_train, y_train, rows[r], X_test, seeds[r])
        for params in param_sets
        for r in range(n_rounds)
    ]
    outputs = map_with_callbacks(
        _round_task,
        tasks,
        callbacks=callbacks,
        run_class=run_class,
        task_name=task_name,
        leaf_name="round",
        groups=groups,
        X=X_train,
        y=y_train,
        n_jobs=n_jobs,
        verbose=verbose,
        description="rounds",
    )
    predictions = []
    for p, params in enumerate(param_sets):
        block = outputs[p * n_rounds : (p + 1) * n_rounds]
        for r, (_, failure) in enumerate(block):
            if failure is not None:
                step, error = failure
                where = f" with {params}" if params else ""
                raise ValueError(
                    f"round {r + 1} of {n_rounds}{where}: {step} its {sampling} sample "
                    f"failed: {error}"
                )
        predictions.append(np.stack([pred for pred, _ in block]))
    return predictions


def _decompose(predictions, y_train, y_test, loss):
    if loss == "mse":
        return mse_decomposition(predictions, y_test)
    classes = np.unique(y_train)
    strays = np.setdiff1d(np.unique(predictions), classes)
    if strays.size:
        raise ValueError(f"the estimator predicted labels not in y_train: {strays.tolist()}")
    return zero_one_decomposition(predictions, y_test, classes=classes)


_COMMON_CONSTRAINTS = {
    "estimator": [HasMethods(["fit", "predict"])],
    "X_train": ["array-like", "sparse matrix"],
    "y_train": ["array-like"],
    "X_test": ["array-like", "sparse matrix"],
    "y_test": ["array-like"],
    "loss": [StrOptions(set(LOSSES))],
    "n_rounds": [Interval(Integral, 2, None, closed="left")],
    "sampling": [StrOptions(set(SAMPLINGS))],
    "random_state": ["random_state"],
    "n_jobs": [Integral, None],
    "verbose": ["verbose"],
    "callbacks": "no_validation",  # checked by check_callbacks: a clearer TypeError
}


@validate_params(_COMMON_CONSTRAINTS)
def bias_variance_decomposition(
    estimator,
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    loss="mse",
    n_rounds=200,
    sampling="bootstrap",
    random_state=None,
    n_jobs=None,
    verbose=0,
    callbacks=None,
):
    """Decompose the expected test loss of an estimator into bias and variance.

    The expected loss at a test point is an average over training sets. Each of ``n_rounds``
    rounds draws a training set from ``(X_train, y_train)``, fits a clone of the estimator on it
    and predicts ``X_test``; the decomposition is computed from those predictions.

    Parameters
    ----------
    estimator : estimator object
        Anything with ``fit`` and ``predict``.
    X_train : {array-like, sparse matrix} of shape (n_train, n_features)
    y_train : array-like of shape (n_train,)
    X_test : {array-like, sparse matrix} of shape (n_test, n_features)
    y_test : array-like of shape (n_test,)
    loss : {"mse", "0-1"}, default="mse"
        Squared error (regression: ``expected_loss = bias_squared + variance``) or the 0-1 loss
        (classification, Domingos' decomposition; labels of any type).
    n_rounds : int >= 2, default=200
        Number of training sets.
    sampling : {"bootstrap", "disjoint"}, default="bootstrap"
        ``"bootstrap"``: each round draws ``n_train`` rows with replacement. ``"disjoint"``: the
        rows are shuffled and cut into ``n_rounds`` parts of ``n_train // n_rounds`` rows, one per
        round, so the training sets are independent samples of the population (as the theory
        assumes) at the price of being smaller.
    random_state : int, RandomState instance or None, default=None
        Seeds the training sets and the estimator's ``random_state`` parameters left at None
        (seeds per round, a different one for each such parameter, nested ones included: the
        learner's own randomness counts in the variance). With a fixed value the result does not
        depend on ``n_jobs``.
    n_jobs : int or None, default=None
        Rounds fitted in parallel through joblib.
    verbose : int, default=0
        A progress bar over the rounds when positive (needs tqdm).
    callbacks : callback or list of callbacks, default=None
        scikit-learn callbacks (:mod:`sklearn.callback`, such as
        :class:`~sklearn.callback.ProgressBar`). The run is one task
        (``BiasVarianceDecomposition``) with one subtask per round; auto-propagated callbacks
        reach the estimator of each round when it supports callbacks (it has
        ``set_callbacks``). An estimator without callback support is fitted as it is, the round
        being a leaf task, without a warning. Independent of ``verbose``; the result does not
        change. See :ref:`theory-model-selection-callbacks`.

    Returns
    -------
    BiasVarianceResult

    See Also
    --------
    bias_variance_curve : The same over a range of a complexity parameter.

    Notes
    -----
    For squared error the target is the observed ``y``, so ``bias_squared`` is the squared bias
    plus the noise (in expectation over the noise: ``E[(f_bar - y)^2] = (f_bar - f)^2 +
    sigma^2`` for ``y = f(x) + noise``). With the noise variance known, subtract it (the bias
    alone in expectation), or pass the noise-free ``f(X_test)`` as ``y_test`` to get the bias
    alone. See
    :ref:`theory-model-selection-bias-variance`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from mlbasics.model_selection import bias_variance_decomposition
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(120, 1))
    >>> y = X[:, 0] ** 2 + 0.1 * rng.standard_normal(120)
    >>> res = bias_variance_decomposition(
    ...     LinearRegression(), X[:80], y[:80], X[80:], y[80:], n_rounds=50, random_state=0)
    >>> bool(abs(res.expected_loss - (res.bias_squared + res.variance)) < 1e-12)
    True
    >>> bool(res.bias_squared > 5 * res.variance)  # a line fitted to a parabola: biased
    True
    """
    callbacks = check_callbacks(callbacks, [estimator])
    X_train, y_train, X_test, y_test = _check_sets(X_train, y_train, X_test, y_test, loss)
    rng = check_random_state(random_state)
    [predictions] = _run_rounds(
        estimator, [{}], X_train, y_train, X_test,
        n_rounds=n_rounds, sampling=sampling, rng=rng, n_jobs=n_jobs, verbose=verbose,
        callbacks=callbacks, run_class=BiasVarianceDecomposition,
        task_name=f"{type(estimator).__name__}, {n_rounds} rounds",
    )  # fmt: skip
    return _decompose(predictions, y_train, y_test, loss)


@dataclass(frozen=True, eq=False)  # holds arrays: compare fields explicitly
class BiasVarianceCurve:
    """Bias-variance decompositions along a complexity parameter (see
    :func:`bias_variance_curve`).

    Attributes
    ----------
    param_name : str
    param_range : list
        The parameter values, in the order given.
    results : list of BiasVarianceResult
        One decomposition per value.
    loss : {"mse", "0-1"}
    """

    param_name: str
    param_range: list
    results: list
    loss: str

    def _collect(self, name):
        return np.array([getattr(r, name) for r in self.results], dtype=float)

    @property
    def expected_loss(self) -> np.ndarray:
        return self._collect("expected_loss")

    @property
    def variance(self) -> np.ndarray:
        return self._collect("variance")

    @property
    def bias_squared(self) -> np.ndarray:
        """``"mse"`` only."""
        return self._collect("bias_squared")

    @property
    def bias(self) -> np.ndarray:
        """``"0-1"`` only."""
        return self._collect("bias")

    @property
    def net_variance(self) -> np.ndarray:
        """``"0-1"`` only."""
        return self._collect("net_variance")

    @property
    def best_index(self) -> int:
        """Position of the value with the smallest expected loss."""
        return int(np.argmin(self.expected_loss))

    def table(self, label=None) -> str:
        """The curve as text, one row per value; ``label`` names the parameter column."""
        label = label or self.param_name
        bias_name = "bias^2" if self.loss == "mse" else "bias"
        bias = self.bias_squared if self.loss == "mse" else self.bias
        variance = self.variance if self.loss == "mse" else self.net_variance
        variance_name = "variance" if self.loss == "mse" else "net variance"
        width = max(12, len(label) + 2)
        lines = [
            f"{self.loss} bias-variance curve over {label}",
            f"{label:>{width}}{'expected loss':>16}{bias_name:>12}{variance_name:>14}",
        ]
        for k, value in enumerate(self.param_range):
            mark = "  <- smallest loss" if k == self.best_index else ""
            lines.append(
                f"{format_param_value(value):>{width}}{self.expected_loss[k]:>16.5f}{bias[k]:>12.5f}"
                f"{variance[k]:>14.5f}{mark}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def format_param_value(value) -> str:
    """A parameter value as tables and titles print it: floats to 4 significant digits.

    :class:`BiasVarianceCurve`, :class:`mlbasics.plotting.BiasVarianceDisplay` and
    ``mlbasics bias-variance`` print the values of ``param_range`` with it.

    Examples
    --------
    >>> from mlbasics.model_selection import format_param_value
    >>> format_param_value(0.1234567), format_param_value(1e-5), format_param_value(3)
    ('0.1235', '1e-05', '3')
    """
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@validate_params({**_COMMON_CONSTRAINTS, "param_name": [str], "param_range": ["array-like"]})
def bias_variance_curve(
    estimator,
    param_name,
    param_range,
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    loss="mse",
    n_rounds=200,
    sampling="bootstrap",
    random_state=None,
    n_jobs=None,
    verbose=0,
    callbacks=None,
):
    """Bias-variance decomposition for every value of a complexity parameter.

    The classic trade-off: as the parameter makes the model more flexible (larger ``C``, larger
    ``gamma``, higher polynomial degree, more hidden units, deeper trees), the bias falls and the
    variance grows; the expected loss is smallest in between. Every value sees the same training
    sets (common random numbers), so the differences along the curve come from the parameter,
    not from the draws.

    Parameters
    ----------
    estimator : estimator object
        Anything with ``fit``, ``predict`` and ``set_params``.
    param_name : str
        Parameter to vary, as ``set_params`` names it (``"C"``, ``"svc__gamma"``,
        ``"polynomialfeatures__degree"``).
    param_range : array-like of shape (n_values,)
        Its values.
    X_train, y_train, X_test, y_test, loss, n_rounds, sampling, random_state, n_jobs, verbose
        As in :func:`bias_variance_decomposition`; the ``n_values x n_rounds`` fits run in one
        joblib call.
    callbacks : callback or list of callbacks, default=None
        As in :func:`bias_variance_decomposition`, with one more level: the run
        (``BiasVarianceSweep``) has one task per parameter value, with its rounds under it.

    Returns
    -------
    BiasVarianceCurve

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from mlbasics.model_selection import bias_variance_curve
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(200, 1))
    >>> y = np.sin(X[:, 0]) + 0.3 * rng.standard_normal(200)
    >>> curve = bias_variance_curve(
    ...     DecisionTreeRegressor(), "max_depth", [1, 3, 10], X[:100], y[:100], X[100:], y[100:],
    ...     n_rounds=30, random_state=0)
    >>> bool(curve.bias_squared[0] > curve.bias_squared[-1])  # deeper: less bias...
    True
    >>> bool(curve.variance[0] < curve.variance[-1])  # ...more variance
    True
    """
    callbacks = check_callbacks(callbacks, [estimator])
    X_train, y_train, X_test, y_test = _check_sets(X_train, y_train, X_test, y_test, loss)
    values = list(param_range)
    if not values:
        raise ValueError("param_range is empty")
    if param_name not in estimator.get_params(deep=True):
        raise ValueError(
            f"{type(estimator).__name__} has no parameter {param_name!r}; see get_params()"
        )
    rng = check_random_state(random_state)
    all_predictions = _run_rounds(
        estimator, [{param_name: v} for v in values], X_train, y_train, X_test,
        n_rounds=n_rounds, sampling=sampling, rng=rng, n_jobs=n_jobs, verbose=verbose,
        callbacks=callbacks, run_class=BiasVarianceSweep,
        task_name=f"{type(estimator).__name__} over {param_name}",
        groups=[(f"{param_name}={format_param_value(v)}", n_rounds) for v in values],
    )  # fmt: skip
    results = [_decompose(P, y_train, y_test, loss) for P in all_predictions]
    return BiasVarianceCurve(param_name=param_name, param_range=values, results=results, loss=loss)
