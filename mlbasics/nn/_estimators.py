"""``MLPClassifier`` and ``MLPRegressor``: multi-layer perceptrons with the scikit-learn API.

The estimators validate the input, build a :class:`~mlbasics.nn.Sequential` network
(``Dense [-> BatchNorm] -> activation [-> Dropout]`` per hidden layer, then a ``Dense`` output),
train it epoch by epoch with :func:`~mlbasics.nn.train_epoch` and an update rule of
:mod:`mlbasics.optim`, and decide when to stop.
"""

from __future__ import annotations

import copy
import inspect
from numbers import Integral, Real

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.callback import with_callbacks
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._callbacks import CallbackSupport
from .._validation import check_partial_fit_classes, refuse_huge_integers, warn_at_caller
from ..optim import Optimizer, make_optimizer
from ._activations import ELU, LeakyReLU, Maxout, ReLU, Sigmoid, Tanh
from ._init import ALIASES, INITIALIZERS
from ._layers import BatchNorm, Dense, Dropout
from ._losses import BinaryCrossEntropy, Huber, L1Loss, MeanSquaredError, SoftmaxCrossEntropy
from ._network import Sequential, TrainingDivergedError, cast_input, train_epoch

__all__ = ["MLPClassifier", "MLPRegressor"]

ACTIVATIONS = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "maxout": Maxout,
}
# A maxout unit is the maximum of MAXOUT_PIECES affine functions: its Dense layer is that much wider.
MAXOUT_PIECES = 2
# Rows per forward pass at prediction time (bounds the memory of the activations).
PREDICT_CHUNK = 8192
# The parameters that shape the network (or seed it): partial_fit cannot change them once it is
# built. The others (learning_rate, optimizer, alpha, batch_size, clip_norm, loss, ...) only act
# on training and take effect at the next call.
NETWORK_PARAMS = (
    "hidden_layer_sizes",
    "activation",
    "batch_norm",
    "dropout",
    "init",
    "dtype",
    "random_state",
)


def _same(a, b):
    """Whether two parameter values are the same (equal numbers, strings, tuples; same object)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _checked_weight(sample_weight, X):
    """``sample_weight`` as a float64 vector of non-negative weights, not all zero (scikit-learn's
    check, which names the problem), or None."""
    if sample_weight is None:
        return None
    return _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)


def _weighted_samples(weight, X, target, stratify):
    """``(X, target, stratify, weight)``: the samples of positive weight, and their weights divided
    by their mean (None when the weights are all equal, or not given). ``weight`` is checked
    (:func:`_checked_weight`).

    The loss of a batch is the mean of its weighted per-sample losses (:mod:`mlbasics.nn._losses`);
    with weights of mean 1 that is an unbiased estimate of the weighted mean loss
    :math:`\\sum_i w_i\\ell_i / \\sum_i w_i`, and scaling every weight by one factor changes
    nothing (equal weights train exactly as none). A sample of weight 0 is left out: it would add
    nothing to the loss, but it would still count in BatchNorm's batch statistics, take a place in
    the mini-batches and could be drawn for ``early_stopping``'s validation part.
    """
    if weight is None:
        return X, target, stratify, None
    keep = weight > 0
    if not np.all(keep):
        X, target, weight = X[keep], target[keep], weight[keep]
        stratify = None if stratify is None else stratify[keep]
    if np.all(weight == weight[0]):
        return X, target, stratify, None
    return X, target, stratify, _mean_one(weight)


def _mean_one(weight):
    """``weight / mean(weight)``, divided by the largest weight first: the sum of weights near
    the largest float overflows (weights of 1e307 became 0 and trained only the penalty)."""
    weight = weight / weight.max()
    return weight / np.mean(weight)


def _check_hidden_layer_sizes(sizes):
    if isinstance(sizes, Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise ValueError(
            f"hidden_layer_sizes must be a tuple of positive integers, got {sizes!r}."
        ) from None
    if not sizes:
        raise ValueError(
            "hidden_layer_sizes is empty: an MLP needs at least one hidden layer (for a model "
            "without one use mlbasics.LogisticRegression)."
        )
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, Integral) or size < 1:
            raise ValueError(f"hidden_layer_sizes must contain positive integers, got {sizes!r}.")
    return tuple(int(s) for s in sizes)


class _BaseMLP(CallbackSupport, BaseEstimator):
    """Shared parameters, network construction, training loop and stopping rules."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "batch_norm": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "init": [StrOptions(set(INITIALIZERS) - {"zeros"} | set(ALIASES))],
        "optimizer": [StrOptions(set(Optimizer.registry))],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        activation="relu",
        batch_norm=False,
        dropout=0.0,
        init="he",
        optimizer="adam",
        learning_rate=None,
        alpha=1e-4,
        batch_size=200,
        max_epochs=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        clip_norm=None,
        dtype="float32",
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.init = init
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.clip_norm = clip_norm
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # -- hooks of the subclasses ---------------------------------------------------------------
    # Fewest validation samples that the validation score is defined on (see _split).
    _min_validation_samples = 1
    _validation_score_name = "accuracy"

    def _prepare_targets(self, y, *, first, classes=None):
        """Set the target attributes (first call) and return (targets for the loss, stratify)."""
        raise NotImplementedError

    def _validation_score(self, X, target, weight):
        raise NotImplementedError

    def _check_batch_norm_rows(self, n_kept, n_given):
        """BatchNorm normalises by a batch's variance: at least 2 samples of positive weight (the
        zero-weight ones are left out first, and its error spoke of "a batch of 1" when 10
        samples were given: a review)."""
        if self.batch_norm and n_kept < 2 and n_kept < n_given:
            raise ValueError(
                f"batch_norm=True needs at least 2 samples of positive weight (BatchNorm "
                f"normalises by a batch's variance); {n_kept} of the {n_given} samples given "
                "have sample_weight > 0."
            )

    def _checked_validation_score(self, X, target, weight):
        """:meth:`_validation_score` under the overflow check of the training passes: weights the
        epoch's last update left too large for the validation pass are a divergence (unchecked,
        the regressor failed in r2_score with "Input contains NaN" and the classifier scored NaN
        outputs and ended its fit with them: a review)."""
        try:
            with np.errstate(over="raise", invalid="raise", under="ignore"):
                score = self._validation_score(X, target, weight)
                if not np.isfinite(score):
                    raise FloatingPointError(f"the validation score is {score}")
        except FloatingPointError as error:
            raise TrainingDivergedError(
                f"Training diverged: after epoch {self.n_epochs_} the validation pass of "
                f"early_stopping overflowed ({error}). Lower the learning rate (now "
                f"{self._optimizer.learning_rate:g}), set clip_norm, or standardise the inputs "
                "(StandardScaler)."
            ) from None
        return score

    # -- construction --------------------------------------------------------------------------
    def _generator(self):
        """A numpy Generator seeded from ``random_state`` (int, RandomState or None)."""
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        return np.random.default_rng(seed)

    def _build_network(self, n_in, n_out, rng):
        sizes = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        dtype = np.dtype(self.dtype)
        pieces = MAXOUT_PIECES if self.activation == "maxout" else 1
        # the weights and biases of the Dense layers, in Python ints (maxout: each layer has
        # ``pieces`` outputs per unit, the next one takes ``size`` inputs)
        inputs = [n_in, *sizes]
        outputs = [size * pieces for size in sizes] + [n_out]
        n_params = sum((a + 1) * b for a, b in zip(inputs, outputs, strict=True))
        if n_params * dtype.itemsize > np.iinfo(np.intp).max:
            raise ValueError(
                f"hidden_layer_sizes={sizes!r} on {n_in} features gives a network of {n_params:.3g} "
                "parameters, more than numpy can address: choose smaller layers."
            )
        layers, width = [], n_in
        for size in sizes:
            layers.append(
                Dense(
                    width,
                    size * pieces,
                    init=self.init,
                    bias=not self.batch_norm,
                    rng=rng,
                    dtype=dtype,
                )
            )
            if self.batch_norm:
                layers.append(BatchNorm(size * pieces, dtype=dtype))
            activation = ACTIVATIONS[self.activation]
            layers.append(activation(MAXOUT_PIECES) if pieces > 1 else activation())
            if self.dropout > 0:
                child = np.random.default_rng(rng.integers(np.iinfo(np.int64).max))
                layers.append(Dropout(self.dropout, rng=child))
            width = size
        layers.append(Dense(width, n_out, init=self.init, rng=rng, dtype=dtype))
        return Sequential(layers, dtype=dtype)

    def _network_params(self):
        """The values of NETWORK_PARAMS, hidden_layer_sizes as a tuple."""
        values = {name: getattr(self, name) for name in NETWORK_PARAMS}
        values["hidden_layer_sizes"] = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        return values

    def _check_params(self):
        self._validate_params()
        refuse_huge_integers(self)
        _check_hidden_layer_sizes(self.hidden_layer_sizes)
        if self.batch_norm and self.batch_size < 2:
            raise ValueError(
                f"batch_norm=True needs batch_size >= 2, got batch_size={self.batch_size}: "
                "BatchNorm normalises by the variance of each batch, which one sample does not have."
            )

    def __sklearn_is_fitted__(self):
        return hasattr(self, "network_")

    def _discard(self):
        """Forget a network whose training failed: the estimator is then not fitted."""
        trained = ("loss_curve_", "t_", "n_epochs_", "n_iter_", "best_loss_", "validation_scores_")
        for name in ("network_", *trained, "best_validation_score_", "_best"):
            self.__dict__.pop(name, None)

    def _start(self, n_features, rng):
        """A new network, optimizer and training record (nothing left from an earlier fit)."""
        self._discard()
        self._rng = rng
        self._built_with = self._network_params()
        self.network_ = self._build_network(n_features, self._n_network_outputs(), rng)
        self._optimizer = make_optimizer(
            self.optimizer, [self.network_.flat_params], learning_rate=self._rule_learning_rate()
        )
        self.loss_curve_ = []
        self.t_ = 0
        self.n_epochs_ = 0
        self.n_iter_ = 0

    def _continue(self):
        """Before a later partial_fit: reject changed network parameters, apply training ones."""
        current = self._network_params()
        for name, value in getattr(self, "_built_with", {}).items():
            if not _same(current[name], value):
                raise ValueError(
                    f"{name} was changed from {value!r} to {current[name]!r} after the network "
                    "was built; partial_fit can only continue training the same network. Call fit "
                    "(or partial_fit on a clone) to train a new network with it."
                )
        if self._optimizer.name != self.optimizer:  # a new rule, from a fresh state
            self._optimizer = make_optimizer(
                self.optimizer,
                [self.network_.flat_params],
                learning_rate=self._rule_learning_rate(),
            )
        else:
            self._optimizer.learning_rate = self._rule_learning_rate()

    def _rule_learning_rate(self):
        """``learning_rate``, or for None the update rule's own default (Adam's 1e-3, AdaDelta's
        1.0, ...)."""
        if self.learning_rate is not None:
            return self.learning_rate
        rule = Optimizer.registry[self.optimizer]
        return inspect.signature(rule).parameters["learning_rate"].default

    def _epoch(self, X, target, weight=None):
        steps = self._optimizer.n_steps
        loss = train_epoch(
            self.network_,
            self._loss,
            self._optimizer,
            X,
            target,
            batch_size=min(self.batch_size, X.shape[0]),
            rng=self._rng,
            alpha=self.alpha,
            clip_norm=self.clip_norm,
            sample_weight=weight,
        )
        self.loss_curve_.append(loss)
        self.t_ += self._optimizer.n_steps - steps
        self.n_epochs_ += 1
        self.n_iter_ = self.n_epochs_
        return loss

    def _validate_X_y(self, X, y, *, reset):
        return validate_data(
            self,
            X,
            y,
            dtype=[np.float64, np.float32],
            multi_output=self._multi_output_targets,
            y_numeric=self._y_numeric,
            reset=reset,
        )

    # -- fitting -------------------------------------------------------------------------------
    @with_callbacks
    def fit(self, X, y, sample_weight=None):
        """Train a new network on ``(X, y)``.

        Without early stopping, training stops when the training loss has not decreased by at least
        ``tol`` for ``n_iter_no_change`` consecutive epochs; with it, when the validation score has
        not increased by at least ``tol`` for as many epochs, and the weights of the best epoch are
        restored. A ``ConvergenceWarning`` is issued if ``max_epochs`` ran out first. A fit that
        fails leaves the estimator unfitted (an earlier model included); an interrupt
        (``KeyboardInterrupt``) during the epochs keeps the network trained so far (with
        ``early_stopping``, the best epoch's weights) and is raised again.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,), or (n_samples, n_outputs) for the regressor
            Targets: class labels for the classifier (one label per sample: multilabel ``y`` is
            not supported), real values for the regressor.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights ``>= 0`` of the samples (None: all 1). The objective becomes the weighted mean
            loss :math:`\\sum_i w_i\\ell_i / \\sum_i w_i` plus the weight decay: each batch's
            loss is :math:`\\frac1{n_b}\\sum_{i\\in b} w_i \\ell_i` with the weights divided by
            their mean, an unbiased estimate of it (scikit-learn's MLP divides by the batch's
            total weight instead, a biased ratio that is undefined on a batch of zero weights).
            Only relative weights matter; samples of weight 0 are left out. With
            ``early_stopping`` the validation score is weighted too. BatchNorm's batch statistics
            are not weighted (a weight of 2 is not two copies of the sample there).

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            For bad parameters or data, including values too large for ``dtype`` (float32: beyond
            about 3.4e38), which would become infinite.
        TrainingDivergedError
            If the loss becomes NaN or infinite (the message suggests a smaller learning rate or
            ``clip_norm``).
        """
        self._check_params()
        # A fit that fails leaves no model (an earlier one included): not half a new one. The
        # earlier network goes first, so that an interrupt (KeyboardInterrupt, which the
        # cleanup below lets through) before the new one exists does not leave it beside the
        # new classes_ (predict then failed with an IndexError: a review).
        self._discard()
        try:
            X, y = self._validate_X_y(X, y, reset=True)
            target, stratify = self._prepare_targets(y, first=True)
            sample_weight = _checked_weight(sample_weight, X)
            # callbacks see the data and weights fit was given (zero weights included)
            task = self._open_fit_task(X, y, sample_weight, max_subtasks=self.max_epochs)
            n_given = X.shape[0]
            X, target, stratify, weight = _weighted_samples(sample_weight, X, target, stratify)
            self._check_batch_norm_rows(X.shape[0], n_given)
            rng = self._generator()
            X = self._cast_X(X)
            self._start(X.shape[1], rng)
            self._train(X, target, stratify, rng, task, weight, left_out=n_given - X.shape[0])
        except Exception:
            self._discard()
            raise
        except KeyboardInterrupt:  # the network trained so far stays; early_stopping's best
            best = self.__dict__.get("_best")
            if best is not None and hasattr(self, "network_"):  # (set by this fit's _train)
                self.best_validation_score_ = best[0]
                self.network_.set_state(best[1])
            raise
        finally:
            self.__dict__.pop("_best", None)
            if hasattr(self, "network_"):
                self.network_.forget()
        try:  # a callback failing at the end leaves no model, as it does LogisticRegression's
            task.end({})
        except Exception:
            self._discard()
            raise
        return self

    def _train(self, X, target, stratify, rng, task, weight, left_out=0):
        """fit's epochs, on the network that :meth:`_start` built."""
        if self.early_stopping:
            X, X_val, target, target_val, weight, weight_val = self._split(
                X, target, stratify, rng, weight, left_out
            )
            self.validation_scores_ = []
            best_score, best_state = -np.inf, None
            self._best = None  # (an earlier fit's, copied into a callback's model, must not stay)
        else:
            self.validation_scores_ = None
            self.best_loss_ = np.inf
        stalled, converged, stopped = 0, False, False
        best_epoch = improved_epoch = 0  # of the best value, of the last improvement by > tol
        for _ in range(self.max_epochs):
            epoch = task.subtask("epoch") if task.watched else None
            loss = self._epoch(X, target, weight)
            if self.early_stopping:
                score = self._checked_validation_score(X_val, target_val, weight_val)
                self.validation_scores_.append(score)
                improved = score > best_score + self.tol
                if best_state is None or score > best_score:
                    best_score, best_state = score, self.network_.get_state()
                    best_epoch = self.n_epochs_
                    self._best = (best_score, best_state)  # (for an interrupt: see fit)
                message = f", validation score {score:.6f}"
            else:
                improved = loss < self.best_loss_ - self.tol
                if loss < self.best_loss_:
                    self.best_loss_, best_epoch = loss, self.n_epochs_
                message = ""
            stalled = 0 if improved else stalled + 1
            if improved:
                improved_epoch = self.n_epochs_
            if self.verbose:
                print(f"epoch {self.n_epochs_:4d}  loss {loss:.6f}{message}")
            if stalled >= self.n_iter_no_change:
                converged = True
            if epoch is not None and epoch.end(self._snapshot):
                stopped = True
            if converged or stopped:
                break
        if self.early_stopping:
            self.network_.set_state(best_state)
            self.best_validation_score_ = best_score
        if not (converged or stopped):
            if self.early_stopping:
                watched, best, last = "validation score", best_score, score
            else:
                watched, best, last = "training loss", self.best_loss_, loss
            warn_at_caller(
                f"{type(self).__name__} ran max_epochs={self.max_epochs} epochs short of its "
                f"stopping rule (n_iter_no_change={self.n_iter_no_change} epochs in a row without "
                f"the {watched} improving by more than tol={self.tol:g}): the last such "
                f"improvement was at epoch {improved_epoch}; best {watched} {best:.6g} at epoch "
                f"{best_epoch}, last {last:.6g}. Increase max_epochs, or raise tol or lower "
                "n_iter_no_change; a last value far worse than the best suggests a smaller "
                "learning_rate.",
                ConvergenceWarning,
            )

    def _snapshot(self):
        """The fitted attributes that change during training, copied (for callbacks' models)."""
        return {"network_": copy.deepcopy(self.network_), "loss_curve_": list(self.loss_curve_)}

    def _split(self, X, target, stratify, rng, weight, left_out=0):
        """``(X, X_val, target, target_val, weight, weight_val)``: the held-out part of
        ``early_stopping``; the training part's weights again of mean 1 (None if unweighted)."""
        seed = int(rng.integers(np.iinfo(np.int32).max))
        n_val = int(np.ceil(self.validation_fraction * X.shape[0]))
        least = self._min_validation_samples
        if n_val < least or X.shape[0] - n_val < 2:
            why = (
                f" (the validation score, {self._validation_score_name}, is undefined on fewer)"
                if least > 1
                else ""
            )
            raise ValueError(
                f"early_stopping needs at least 2 training samples and {least} validation "
                f"sample{'s' if least > 1 else ''}{why}; with {X.shape[0]} samples"
                + (f" (after leaving out {left_out} of weight 0)" if left_out else "")
                + f" and validation_fraction={self.validation_fraction} the split gives "
                f"{X.shape[0] - n_val} and {n_val}. Use more data, another validation_fraction, "
                "or early_stopping=False."
            )
        arrays = (X, target) if weight is None else (X, target, weight)
        try:
            parts = train_test_split(
                *arrays, test_size=self.validation_fraction, stratify=stratify, random_state=seed
            )
        except ValueError:  # a class too rare to appear in both parts: split at random
            parts = train_test_split(*arrays, test_size=self.validation_fraction, random_state=seed)
        if weight is None:
            return (*parts, None, None)
        X, X_val, target, target_val, weight, weight_val = parts
        return X, X_val, target, target_val, _mean_one(weight), weight_val

    def _cast_X(self, X):
        """``X`` in the network's dtype; a ValueError if its values do not fit in it."""
        return cast_input(
            X,
            np.dtype(self.dtype),
            name="X",
            hint="use dtype='float64' or scale the features (e.g. StandardScaler)",
        )

    def _partial_fit(self, X, y, classes=None, sample_weight=None):
        first = not hasattr(self, "network_")
        self._check_params()  # on every call: set_params may have changed them since
        if not first:
            self._continue()
        X, y = self._validate_X_y(X, y, reset=first)
        target, _ = self._prepare_targets(y, first=first, classes=classes)
        checked = _checked_weight(sample_weight, X)
        n_given = X.shape[0]
        X, target, _, weight = _weighted_samples(checked, X, target, None)
        self._check_batch_norm_rows(X.shape[0], n_given)
        X = self._cast_X(X)
        if first:
            self._start(X.shape[1], self._generator())
        # partial_fit's epochs are not validated: an earlier fit's scores no longer describe
        # the weights
        self.validation_scores_ = None
        self.__dict__.pop("best_validation_score_", None)
        try:
            loss = self._epoch(X, target, weight)
        except Exception:
            if first:  # (a later call's failure keeps the network trained so far)
                self._discard()
            raise
        finally:
            if hasattr(self, "network_"):
                self.network_.forget()
        self.best_loss_ = float(min(self.loss_curve_))  # (no early stopping in partial_fit)
        if self.verbose:
            print(f"epoch {self.n_epochs_:4d}  loss {loss:.6f}")
        return self

    # -- prediction ----------------------------------------------------------------------------
    def _forward(self, X):
        """Network outputs (inference mode), shape (n_samples, n_network_outputs).

        Computed by a float64 copy of the network whatever ``dtype`` trained it: in float32 the
        matrix products round differently for different numbers of rows, and a sample's prediction
        would depend (in its 7th digit) on the batch it is predicted in.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        network = self.network_.astype(np.float64)
        chunks = [
            network.forward(X[start : start + PREDICT_CHUNK], training=False)
            for start in range(0, X.shape[0], PREDICT_CHUNK)
        ]
        return np.vstack(chunks)


_PARAMETERS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; at least one layer.
    activation : {"relu", "leaky_relu", "elu", "tanh", "sigmoid", "maxout"}, default="relu"
        Nonlinearity of the hidden layers. ``"maxout"`` makes each unit the maximum of two affine
        functions (its Dense layer is twice as wide).
    batch_norm : bool, default=False
        Insert :class:`~mlbasics.nn.BatchNorm` between each hidden Dense layer and its activation
        (the Dense layer then has no bias).
    dropout : float in [0, 1), default=0.0
        Drop probability of the (inverted) :class:`~mlbasics.nn.Dropout` after each hidden
        activation; 0 inserts none. Dropout is active in training only.
    init : str, default="he"
        Initialiser of the weight matrices (:mod:`mlbasics.nn.init <mlbasics.nn._init>`): ``"he"`` (He normal, for
        ReLU-like units), ``"he_uniform"``, ``"xavier"`` (uniform), ``"xavier_normal"``,
        ``"orthogonal"``, ``"truncated_normal"``, ``"normal"`` and ``"uniform"`` (unit scale:
        these two are there to show what goes wrong). Biases start at 0.
    optimizer : {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", \
"nadam"}, default="adam"
        Update rule from :mod:`mlbasics.optim`, with its default hyper-parameters.
    learning_rate : float or None, default=None
        Learning rate of the update rule, > 0. None takes the rule's own default: 1e-3 for
        ``"adam"`` and ``"rmsprop"`` (scikit-learn's ``learning_rate_init``), 0.002 for
        ``"nadam"``, 0.01 for ``"sgd"``, ``"momentum"``, ``"nesterov"`` and ``"adagrad"``, and
        1.0 for ``"adadelta"``, whose rate is a factor on Zeiler's step rather than a step size
        (1.0 is his method; 1e-3 would make it a thousand times slower).
    alpha : float, default=1e-4
        L2 weight decay on the weight matrices (not on biases, nor on BatchNorm's scale and shift):
        each batch's objective is its mean loss plus ``alpha / 2 * sum ||W||^2``. scikit-learn's
        ``MLPClassifier`` divides its ``alpha`` by the rows of each batch (with
        ``sample_weight``, by the batch's total weight); ``alpha=a`` there is ``alpha=a / m``
        here, ``m = min(batch_size, n_samples)``, when every batch has ``m`` rows (a smaller
        last batch is penalised more there) and the weights average 1 in every batch.
    batch_size : int, default=200
        Samples per update (capped at the number of samples). A last batch of one sample joins
        the one before (BatchNorm cannot normalise a single sample), so ``n_samples=201`` makes
        one update per epoch where scikit-learn's MLP makes two. ``batch_norm=True`` needs at
        least 2.
    max_epochs : int, default=200
        Maximum number of passes over the training data.
    tol : float, default=1e-4
        Improvement that resets the patience counter (see ``fit``).
    n_iter_no_change : int, default=10
        Patience: epochs without an improvement of ``tol`` before training stops (scikit-learn's
        MLP waits one epoch more, so its ``n_iter_`` is one larger on the same run).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for classification),
        watch the validation score (accuracy or R²) and restore the weights of its best epoch.
    validation_fraction : float in (0, 1), default=0.1
        Size of the held-out part.
    clip_norm : float or None, default=None
        If given, clip the joint norm of all gradients to it before each update.
    dtype : {"float32", "float64"}, default="float32"
        Floating-point type of the network. float32 halves the memory traffic and is about twice as
        fast; float64 is there for gradient checks and ill-conditioned problems.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling, the dropout masks and the validation split.
    verbose : int, default=0
        Print the loss (and validation score) after every epoch when positive.
"""

_ATTRIBUTES_DOC = """
    network_ : mlbasics.nn.Sequential
        The trained network.
    loss_curve_ : list of float
        Mean training objective (loss plus weight-decay penalty) of each epoch. For several
        regression outputs the loss is summed over them (scikit-learn's ``loss_curve_`` averages
        them; the gradients are the same).
    validation_scores_ : list of float or None
        Validation score after each epoch of ``fit`` with ``early_stopping``, else None (and
        None after a ``partial_fit``, whose epochs are not validated).
    best_validation_score_ : float
        The best of them; its weights are the ones kept. Only after a ``fit`` with
        ``early_stopping`` (a ``partial_fit`` removes it).
    best_loss_ : float
        Smallest training objective seen: by ``fit`` without ``early_stopping``, and the
        smallest entry of ``loss_curve_`` after a ``partial_fit``.
    n_epochs_ : int
        Number of epochs run (by ``fit``, plus one per ``partial_fit``).
    n_iter_ : int
        Same as ``n_epochs_`` (scikit-learn's name).
    t_ : int
        Number of parameter updates made (scikit-learn's ``MLPClassifier.t_`` counts the
        samples seen instead).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features, when ``X`` has string column names."""


class MLPClassifier(ClassifierMixin, _BaseMLP):
    __doc__ = (
        """Multi-layer perceptron classifier trained by mini-batch gradient methods, in numpy.

    Two classes: one output unit and the binary cross-entropy with logits. More classes: one output
    per class and the softmax cross-entropy. Both losses are fused with their link function (see
    :mod:`mlbasics.nn._losses`).
"""
        + _PARAMETERS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels."""
        + _ATTRIBUTES_DOC
        + """

    See Also
    --------
    MLPRegressor : The same network with a regression loss.
    sklearn.neural_network.MLPClassifier : scikit-learn's MLP (no BatchNorm or dropout).

    Notes
    -----
    The theory page "Neural networks" explains initialisation, BatchNorm, dropout and weight
    decay, each tied to the code that computes it.

    Callbacks (``set_callbacks``, :mod:`sklearn.callback`): each epoch of ``fit`` is one subtask;
    a monitor can score the network at the end of every epoch, and a callback returning True ends
    training there (``n_iter_`` epochs, no ConvergenceWarning; with ``early_stopping`` the best
    epoch's weights are still restored). ``partial_fit`` reports nothing.

    There is no ``warm_start`` (scikit-learn's MLP has one): ``fit`` always trains a new network,
    and ``partial_fit`` continues the fitted one, one epoch a call, without the stopping rule.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from mlbasics.nn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = MLPClassifier((32,), learning_rate=0.01, batch_size=32, tol=1e-3, random_state=0)
    >>> clf = clf.fit(X, y)
    >>> bool(clf.score(X, y) > 0.95), clf.predict_proba(X[:1]).shape
    (True, (1, 3))
    >>> clf.network_
    Sequential([Dense(4, 32), ReLU(), Dense(32, 3)], dtype=float32, n_params=259)
    """
    )

    _multi_output_targets = False
    _y_numeric = False

    def _n_network_outputs(self):
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    def _prepare_targets(self, y, *, first, classes=None):
        check_classification_targets(y)
        if classes is not None:
            classes = check_partial_fit_classes(classes)
        if first:
            labels = np.unique(y) if classes is None else np.unique(classes)
            if classes is not None:
                unknown = np.setdiff1d(y, labels)
                if unknown.size:
                    raise ValueError(f"y contains labels {unknown!r} not in classes {labels!r}.")
            if len(labels) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes, but the data "
                    f"contain only one class: {str(labels[0])!r}."
                )
            self.classes_ = labels
            self._loss = BinaryCrossEntropy() if len(labels) == 2 else SoftmaxCrossEntropy()
        else:
            if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(
                    f"classes={np.unique(classes)!r} differs from the classes of the first call "
                    f"to partial_fit ({self.classes_!r})."
                )
            unknown = np.setdiff1d(y, self.classes_)
            if unknown.size:
                raise ValueError(
                    f"y contains labels {unknown!r} not in classes_ {self.classes_!r}."
                )
        index = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return index.astype(self.dtype).reshape(-1, 1), index
        return index, index

    def _validation_score(self, X, target, weight):
        index = target.ravel().astype(np.intp)
        return float(np.average(self._predict_index(X) == index, weights=weight))

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)`` from the current weights (the first call builds the network).

        The parameters are checked on every call. Those that only act on training
        (``learning_rate``, ``optimizer``, ``alpha``, ``batch_size``, ``clip_norm``, ``verbose``,
        and the regressor's ``loss``) may be changed with ``set_params`` between calls and are used
        from the next call on; a new ``optimizer`` starts from a fresh state (no momentum, no
        running averages). Changing one that shapes the network (``hidden_layer_sizes``,
        ``activation``, ``batch_norm``, ``dropout``, ``init``, ``dtype``, ``random_state``) raises
        a ValueError: ``fit`` trains a new network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream: required on the first call, and if given later it must be
            the same.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights ``>= 0`` of this call's samples, divided by their mean over the call (as in
            ``fit``): only relative weights within a call matter.

        Returns
        -------
        self : MLPClassifier
        """
        if not hasattr(self, "network_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._partial_fit(X, y, classes=classes, sample_weight=sample_weight)

    def _predict_index(self, X_validated):
        outputs = self.network_.forward(X_validated, training=False)
        if outputs.shape[1] == 1:
            return (outputs[:, 0] > 0).astype(np.intp)
        return outputs.argmax(axis=1)

    def decision_function(self, X):
        """Logits: shape (n_samples,) for two classes (the log-odds of ``classes_[1]``), else
        (n_samples, n_classes)."""
        scores = self._forward(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Most probable class of each sample."""
        scores = self.decision_function(X)
        index = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        The softmax of the logits; for two classes ``sigmoid(-s)`` and ``sigmoid(s)`` of the one
        logit ``s``, so that a small probability keeps its relative accuracy (``1 - sigmoid(s)``
        would round to 0 from ``s = 37`` on).
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([expit(-scores), expit(scores)])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed without ``log(0)``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return log_softmax(scores, axis=1)


REGRESSION_LOSSES = {
    "squared_error": MeanSquaredError,
    "absolute_error": L1Loss,
    "huber": Huber,
}


class MLPRegressor(RegressorMixin, _BaseMLP):
    __doc__ = (
        """Multi-layer perceptron regressor trained by mini-batch gradient methods, in numpy.

    One linear output unit per target. The loss is half the squared error by default; the absolute
    error and the Huber loss (``delta=1``) are less sensitive to outliers.
"""
        + _PARAMETERS_DOC
        + """    loss : {"squared_error", "absolute_error", "huber"}, default="squared_error"
        The regression loss (:class:`~mlbasics.nn.MeanSquaredError`,
        :class:`~mlbasics.nn.L1Loss`, :class:`~mlbasics.nn.Huber`).

    Attributes
    ----------
    n_outputs_ : int
        Number of targets."""
        + _ATTRIBUTES_DOC
        + """

    See Also
    --------
    MLPClassifier : The same network with a classification loss.
    sklearn.neural_network.MLPRegressor : scikit-learn's MLP regressor.

    Notes
    -----
    The validation score of ``early_stopping`` is the coefficient of determination R².

    Callbacks (``set_callbacks``, :mod:`sklearn.callback`): each epoch of ``fit`` is one subtask;
    a monitor can score the network at the end of every epoch, and a callback returning True ends
    training there (``n_iter_`` epochs, no ConvergenceWarning; with ``early_stopping`` the best
    epoch's weights are still restored). ``partial_fit`` reports nothing.

    There is no ``warm_start`` (scikit-learn's MLP has one): ``fit`` always trains a new network,
    and ``partial_fit`` continues the fitted one, one epoch a call, without the stopping rule.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import MLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(500, 1))
    >>> y = np.sin(2 * X[:, 0])
    >>> reg = MLPRegressor((32, 32), learning_rate=0.01, batch_size=50, random_state=0)
    >>> bool(reg.fit(X, y).score(X, y) > 0.95)
    True
    """
    )

    _multi_output_targets = True
    _y_numeric = True
    # R^2 compares the errors with the spread of the targets, which one sample does not have.
    _min_validation_samples = 2
    _validation_score_name = "R²"

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        activation="relu",
        batch_norm=False,
        dropout=0.0,
        init="he",
        optimizer="adam",
        learning_rate=None,
        alpha=1e-4,
        batch_size=200,
        max_epochs=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        clip_norm=None,
        dtype="float32",
        random_state=None,
        verbose=0,
        loss="squared_error",
    ):
        super().__init__(
            hidden_layer_sizes,
            activation=activation,
            batch_norm=batch_norm,
            dropout=dropout,
            init=init,
            optimizer=optimizer,
            learning_rate=learning_rate,
            alpha=alpha,
            batch_size=batch_size,
            max_epochs=max_epochs,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            clip_norm=clip_norm,
            dtype=dtype,
            random_state=random_state,
            verbose=verbose,
        )
        self.loss = loss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _n_network_outputs(self):
        return self.n_outputs_

    def _prepare_targets(self, y, *, first, classes=None):
        y = np.asarray(y, dtype=np.float64)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if first:
            self.n_outputs_ = Y.shape[1]
            self._y_1d = y.ndim == 1
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} targets, but the network was built for {self.n_outputs_}."
            )
        self._loss = REGRESSION_LOSSES[self.loss]()  # (partial_fit: the loss may have changed)
        target = cast_input(
            Y,
            np.dtype(self.dtype),
            name="y",
            hint="use dtype='float64' or scale the targets (e.g. TransformedTargetRegressor with "
            "a StandardScaler)",
        )
        return (target.copy() if target is Y else target), None

    def _validation_score(self, X, target, weight):
        prediction = self.network_.forward(X, training=False).astype(np.float64)
        # R^2 does not depend on the targets' unit: in units of a power of two near their
        # largest, so that its squares do not overflow (targets of 5e153 in float64 train, and
        # their R^2 overflowed: a false divergence, a review)
        # (per output: one power for all put 1e-100 beside 1e100, whose squares underflowed)
        target = np.asarray(target, dtype=np.float64)
        largest = np.max(np.abs(target), axis=0, initial=0.0)
        exponent = np.frexp(np.where(np.isfinite(largest), largest, 0.0))[1]
        target, prediction = np.ldexp(target, -exponent), np.ldexp(prediction, -exponent)
        return float(r2_score(target, prediction, sample_weight=weight))

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)`` from the current weights (the first call builds the network).

        The parameters are checked on every call; which of them may change between calls is
        said in :meth:`MLPClassifier.partial_fit <mlbasics.nn.MLPClassifier.partial_fit>` (the
        same rules, with ``loss`` among those that may).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights ``>= 0`` of this call's samples, divided by their mean over the call (as in
            ``fit``): only relative weights within a call matter.

        Returns
        -------
        self : MLPRegressor
        """
        return self._partial_fit(X, y, sample_weight=sample_weight)

    def predict(self, X):
        """Predicted targets: shape (n_samples,) if ``y`` was 1-D in fit, else (n_samples, n_outputs)."""
        outputs = self._forward(X)
        return outputs[:, 0] if self._y_1d else outputs
