"""``Sequential``: a stack of layers, its parameters in one flat vector, and the training epoch.

The forward pass runs the layers in order, the backward pass in reverse, each layer turning the
gradient with respect to its output into the gradient with respect to its input (the chain rule,
one Jacobian-vector product per layer) and storing the gradients of its parameters on the way.

All parameters of a network live in one contiguous vector ``flat_params`` and all gradients in
``flat_grads``: each layer's ``W``, ``b``, ... are views (slices reshaped) into them. An optimizer
of :mod:`mlbasics.optim` built on ``[flat_params]`` therefore updates the whole network with one
call on one array, weight decay is one multiply-add with the mask ``decay_mask``, and gradient
clipping sees the joint norm directly. Running statistics of BatchNorm are *buffers*: they are not
in ``flat_params`` and no optimizer touches them.
"""

from __future__ import annotations

import copy
import math
from numbers import Integral, Real

import numpy as np

from .._validation import as_float
from ..optim import _GradientOverflowError, clip_grad_norm
from ._activations import ELU, LeakyReLU, Maxout, ReLU, Sigmoid, Softmax, Tanh
from ._layers import BatchNorm, Dense, Dropout, _check_dtype
from ._losses import _check_weight

__all__ = ["Sequential", "TrainingDivergedError", "train_epoch"]


class TrainingDivergedError(FloatingPointError):
    """The loss or a gradient became NaN or infinite during training."""


# Layers whose output has the width of their input: the width a network expects is that of the
# first Dense or BatchNorm layer if only these come before it.
_SAME_WIDTH = (ELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, Dropout)


def cast_input(x, dtype, *, name="X", hint=None):
    """``x`` in ``dtype``, or a ValueError if some of its values are too large for ``dtype``.

    Casting float64 values beyond the largest float32 (about 3.4e38) makes them infinite, and the
    infinities would later surface as a "diverged" training run. The cast itself detects the
    overflow (no extra pass over ``x``); ``hint`` is the remedy the message suggests. Complex
    numbers, strings and objects are refused (the cast would drop imaginary parts or parse text).
    """
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got an array of dtype {x.dtype}.")
    if x.dtype == dtype:
        return x
    try:
        with np.errstate(over="raise", under="ignore"):
            return x.astype(dtype)
    except FloatingPointError:
        largest = float(np.nanmax(np.abs(x)))
        if hint is None:
            hint = "use a float64 network (dtype=np.float64) or scale the data"
        raise ValueError(
            f"{name} has values up to {largest:.3g} in absolute value, which do not fit in "
            f"{np.dtype(dtype).name} (largest {float(np.finfo(dtype).max):.3g}): casting them "
            f"would give infinities. Either {hint}."
        ) from None


class Sequential:
    """A feed-forward network: layers applied one after the other.

    Parameters
    ----------
    layers : list of Layer
        The layers, first to last, each a distinct object that belongs to no other network. Each
        has ``forward(x, *, training)``, ``backward(grad_out)``, ``params()`` and ``grads()``; a
        layer with parameters also names them in ``param_names`` and takes the network's arrays
        in ``bind`` (subclass :class:`~mlbasics.nn.Layer` for these, ``decays()`` and
        ``buffers()``). A layer keeps what its last ``forward`` needs for ``backward``, so one
        object cannot sit at two places (no tied weights): use ``copy.deepcopy(layer)``. A layer
        already bound into another network is refused too (that network's optimizer would no
        longer update it): pass a copy, or :meth:`~mlbasics.nn.Layer.unbind` it first.
    dtype : {np.float32, np.float64} or None, default=None
        Floating-point type of parameters and computations; ``None`` takes that of the first layer
        with parameters (float32 if none has). Layers of another type are cast.

    Attributes
    ----------
    flat_params : ndarray of shape (n_params,)
        Every parameter, concatenated; the layers' arrays are views into it.
    flat_grads : ndarray of shape (n_params,)
        Every gradient, in the same layout.
    decay_mask : ndarray of shape (n_params,)
        1 for the entries that L2 weight decay applies to (weight matrices), 0 elsewhere
        (biases, BatchNorm's gamma and beta).

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import Dense, ReLU, Sequential, SoftmaxCrossEntropy
    >>> rng = np.random.default_rng(0)
    >>> net = Sequential([Dense(4, 8, rng=rng), ReLU(), Dense(8, 3, rng=rng)])
    >>> net
    Sequential([Dense(4, 8), ReLU(), Dense(8, 3)], dtype=float32, n_params=67)
    >>> X, y = rng.standard_normal((5, 4)), np.array([0, 1, 2, 1, 0])
    >>> loss = SoftmaxCrossEntropy()
    >>> value = loss.forward(net.forward(X, training=True), y)
    >>> grad_input = net.backward(loss.backward())
    >>> grad_input.shape, net.flat_grads.shape
    ((5, 4), (67,))
    >>> bool(np.shares_memory(net.layers[0].W, net.flat_params))
    True
    """

    def __init__(self, layers, *, dtype=None):
        layers = list(layers)
        if not layers:
            raise ValueError("A Sequential network needs at least one layer.")
        for i, layer in enumerate(layers):
            missing = [
                m for m in ("forward", "backward", "params", "grads") if not hasattr(layer, m)
            ]
            if missing:
                raise TypeError(
                    f"layers[{i}] ({type(layer).__name__}) is not a layer: it lacks "
                    f"{', '.join(missing)}."
                )
            names = getattr(layer, "param_names", ())
            if layer.params() and (len(names) != len(layer.params()) or not hasattr(layer, "bind")):
                raise TypeError(
                    f"layers[{i}] ({type(layer).__name__}) has {len(layer.params())} parameters "
                    f"but names {len(names)} in param_names (and needs bind), through which the "
                    "network keeps them in one flat vector: subclass mlbasics.nn.Layer and list "
                    "their names in param_names."
                )
            first = next(j for j, other in enumerate(layers) if other is layer)
            if first < i:
                raise ValueError(
                    f"layers[{i}] is the same {type(layer).__name__} object as layers[{first}]: "
                    "a layer keeps what its last forward pass needs for backward, so each place "
                    "in the network needs its own object (copy.deepcopy(layer)); weights cannot "
                    "be tied."
                )
            if getattr(layer, "_bound", False):
                raise ValueError(
                    f"layers[{i}] ({type(layer).__name__}) belongs to another network, whose "
                    "optimizer would no longer update it once this network binds it: pass a "
                    "copy (copy.deepcopy(layer)), or call layer.unbind() first."
                )
        if dtype is None:
            with_params = [layer.params() for layer in layers if layer.params()]
            dtype = with_params[0][0].dtype if with_params else np.float32
        _check_widths(layers)
        self.dtype = _check_dtype(dtype)
        self.layers = layers
        for layer in layers:
            if any(p.dtype != self.dtype for p in layer.params()):
                layer.astype(self.dtype)
        self._bind()

    # -- parameter layout ------------------------------------------------------------------------
    def _bind(self):
        """Allocate the flat vectors and point every layer's parameters at slices of them."""
        layout, start = [], 0
        for index, layer in enumerate(self.layers):
            for name, param, decays in zip(
                getattr(layer, "param_names", ()), layer.params(), _decays(layer), strict=True
            ):
                layout.append((index, name, start, start + param.size, param.shape, decays))
                start += param.size
        self._layout = layout
        self.flat_params = np.zeros(start, dtype=self.dtype)
        self.flat_grads = np.zeros(start, dtype=self.dtype)
        self.decay_mask = np.zeros(start, dtype=self.dtype)
        for index, layer in enumerate(self.layers):
            entries = [e for e in layout if e[0] == index]
            if entries:
                layer.bind(*self._views(entries))
        for _, _, a, b, _, decays in layout:
            self.decay_mask[a:b] = 1.0 if decays else 0.0

    def _views(self, entries):
        params = [self.flat_params[a:b].reshape(shape) for _, _, a, b, shape, _ in entries]
        grads = [self.flat_grads[a:b].reshape(shape) for _, _, a, b, shape, _ in entries]
        return params, grads

    def __getstate__(self):
        return self.__dict__.copy()

    def __setstate__(self, state):
        # Pickling copies views; point the layers at the (restored) flat vectors again, so that an
        # optimizer pickled with the network keeps updating the layers' weights.
        self.__dict__.update(state)
        for index, layer in enumerate(self.layers):
            entries = [e for e in self._layout if e[0] == index]
            if entries:
                params, grads = self._views(entries)
                for (_, name, *_), param, grad in zip(entries, params, grads, strict=True):
                    setattr(layer, name, param)
                    setattr(layer, "d" + name, grad)
                layer._bound = True

    @property
    def n_params(self):
        """Total number of trainable parameters."""
        return self.flat_params.size

    def params(self):
        """Every parameter array (views into ``flat_params``), layer by layer."""
        return [p for layer in self.layers for p in layer.params()]

    def grads(self):
        """Every gradient array, aligned with :meth:`params`."""
        return [g for layer in self.layers for g in layer.grads()]

    def named_params(self):
        """``(name, array)`` pairs, the name as ``"<index>.<Layer>.<param>"``."""
        return [
            (f"{index}.{type(self.layers[index]).__name__}.{name}", self.layers[index].params()[k])
            for index, layer in enumerate(self.layers)
            for k, name in enumerate(getattr(layer, "param_names", ()))
        ]

    def buffers(self):
        """``(name, array)`` pairs of the non-trainable state (running statistics)."""
        return [
            (f"{index}.{type(layer).__name__}.{name}", array)
            for index, layer in enumerate(self.layers)
            if hasattr(layer, "buffers")
            for name, array in layer.buffers().items()
        ]

    def get_state(self):
        """A copy of the parameters and buffers, for :meth:`set_state` (early stopping)."""
        return self.flat_params.copy(), [array.copy() for _, array in self.buffers()]

    def set_state(self, state):
        """Restore parameters and buffers saved by :meth:`get_state` (in place)."""
        flat, buffers = state
        self.flat_params[...] = flat
        for (_, array), saved in zip(self.buffers(), buffers, strict=True):
            array[...] = saved

    def forget(self):
        """Drop what every layer's last ``forward`` kept for ``backward`` (:meth:`Layer.forget
        <mlbasics.nn.Layer.forget>`); the estimators call it when training ends, so a fitted
        model does not carry (or pickle) a batch of its training or validation data."""
        for layer in self.layers:
            if hasattr(layer, "forget"):
                layer.forget()

    def astype(self, dtype):
        """A deep copy of the network in another floating-point type (e.g. float64 for checks)."""
        dtype = _check_dtype(dtype)
        layers = copy.deepcopy(self.layers)
        for layer in layers:
            if getattr(layer, "_bound", False):  # the copies are no views of the flat vectors
                layer.unbind()
            if hasattr(layer, "astype"):
                layer.astype(dtype)
        return Sequential(layers, dtype=dtype)

    # -- passes ----------------------------------------------------------------------------------
    def _input_width(self):
        """Width of the input the network expects, or None if its first layers do not fix it."""
        for layer in self.layers:
            if isinstance(layer, Dense):
                return layer.n_in
            if isinstance(layer, BatchNorm):
                return layer.n_features
            if not isinstance(layer, _SAME_WIDTH):
                return None
        return None

    def forward(self, x, *, training=False):
        """Output of the network for the batch ``x`` (cast to the network's dtype).

        Raises a ValueError if ``x`` has values too large for the network's dtype. With
        ``training=True`` a :class:`~mlbasics.nn.BatchNorm` layer raises a FloatingPointError
        on a batch holding NaN or infinite values, before its running statistics take them in.
        """
        x = cast_input(np.asarray(x), self.dtype, name="x")
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def activations(self, x, *, training=False):
        """The output of every layer for the batch ``x``: a list, one array per layer.

        For looking inside the network: the spread of the activations layer by layer shows
        whether an initialisation preserves the signal (see ``examples/plot_init_and_batchnorm.py``).
        """
        x = cast_input(np.asarray(x), self.dtype, name="x")
        outputs = []
        for layer in self.layers:
            x = layer.forward(x, training=training)
            outputs.append(x)
        return outputs

    def backward(self, grad_out, *, input_grad=True):
        """Back-propagate ``grad_out`` (gradient w.r.t. the output); returns it w.r.t. the input.

        Fills ``flat_grads`` (the layers' gradient arrays) on the way. ``grad_out`` may be
        overwritten; it is cast to the network's dtype first, as :meth:`forward`'s input (a
        float64 gradient from a loss of the user's, into a float32 network with BatchNorm,
        crashed in numpy: a review). A value beyond that dtype's range raises
        ``FloatingPointError``: a divergence, not bad data, which :func:`train_epoch` reports as a
        :class:`TrainingDivergedError`. With
        ``input_grad=False`` a first layer that can (``Dense``) skips the product that only the
        input gradient needs, and ``None`` is returned: training does not need it.
        """
        grad = np.asarray(grad_out)
        if grad.dtype != self.dtype:
            if grad.dtype.kind not in "biuf":
                raise ValueError(f"grad_out must hold real numbers, got dtype {grad.dtype}.")
            try:
                with np.errstate(over="raise", under="ignore"):  # (tiny values round to 0)
                    grad = grad.astype(self.dtype)
            except FloatingPointError:
                raise FloatingPointError(
                    f"grad_out has values beyond the range of the network's "
                    f"{np.dtype(self.dtype).name} (a diverging run, or a loss on another scale)"
                ) from None
        for layer in self.layers[:0:-1]:
            grad = layer.backward(grad)
        first = self.layers[0]
        if not input_grad and hasattr(first, "param_backward"):
            first.param_backward(grad)
            return None
        return first.backward(grad)

    def penalty(self, alpha):
        """The L2 penalty :math:`\\frac{\\alpha}{2}\\sum \\lVert W\\rVert^2` over the weight matrices."""
        w = self.flat_params * self.decay_mask
        return 0.5 * float(alpha) * float(np.dot(w, w))

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], dtype={self.dtype}, n_params={self.n_params})"


def _check_widths(layers):
    """Raise a ValueError if a layer takes another width than the layers before it give it.

    The width is followed through the layers that fix it (Dense, BatchNorm), keep it (activations,
    Dropout) or divide it (Maxout); after any other layer it is unknown and not checked.
    """
    width, source = None, None  # the width flowing out of layers[source]
    for index, layer in enumerate(layers):
        takes = (
            layer.n_in
            if isinstance(layer, Dense)
            else layer.n_features
            if isinstance(layer, BatchNorm)
            else None
        )
        if takes is not None and width is not None and takes != width:
            raise ValueError(
                f"layers[{index}] {layer!r} takes inputs of width {takes}, but layers[{source}] "
                f"{layers[source]!r} before it gives outputs of width {width}."
            )
        if isinstance(layer, Maxout) and width is not None:
            if width % layer.pool_size:
                raise ValueError(
                    f"layers[{index}] {layer!r} needs an input width divisible by "
                    f"{layer.pool_size}, but layers[{source}] {layers[source]!r} before it gives "
                    f"outputs of width {width}."
                )
            width, source = width // layer.pool_size, index
        elif isinstance(layer, Dense):
            width, source = layer.n_out, index
        elif isinstance(layer, BatchNorm):
            width, source = layer.n_features, index
        elif not isinstance(layer, _SAME_WIDTH):
            width, source = None, None


def _decays(layer):
    if hasattr(layer, "decays"):
        return layer.decays()
    return [False] * len(layer.params())


def batch_bounds(n_samples, batch_size):
    """``(start, stop)`` of the mini-batches; a last batch of one sample joins the one before.

    A batch of one sample has no variance, which BatchNorm cannot normalise by.
    """
    starts = list(range(0, n_samples, batch_size))
    bounds = [(s, min(s + batch_size, n_samples)) for s in starts]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2] = (bounds[-2][0], n_samples)
        bounds.pop()
    return bounds


def _check_number(value, name, *, positive, allow_none=False):
    """``value`` as a float if it is a finite real number (not a bool), > 0 if ``positive`` else
    >= 0 (or None if ``allow_none``); else a ValueError naming ``name``."""
    if value is None and allow_none:
        return None
    number = None
    if isinstance(value, Real) and not isinstance(value, bool):
        number = as_float(value)  # (numpy's isfinite takes no Python int beyond int64)
    if number is None or not (math.isfinite(number) and (number > 0 if positive else number >= 0)):
        allowed = f"{'None or ' if allow_none else ''}a finite number {'>' if positive else '>='} 0"
        raise ValueError(f"{name} must be {allowed}, got {value!r}.")
    return number


def check_batch(network, X, target, *, target_name):
    """``X`` and ``target`` as arrays, after checking their shapes against each other and the network.

    ``X`` must be a non-empty 2-D array of real numbers whose width is the network's input width
    (when its first layers fix it), ``target`` must have one row per row of ``X``. Neither is
    copied nor scanned for NaN (the callers do that where it is cheap or needed).
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"X must be a non-empty 2-D array of shape (n_samples, n_features), got shape "
            f"{X.shape}."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must contain real numbers, got an array of dtype {X.dtype}.")
    width = network._input_width()
    if width is not None and X.shape[1] != width:
        raise ValueError(
            f"X has {X.shape[1]} features, but the network's first layer takes {width}."
        )
    target = np.asarray(target)
    if target.ndim == 0 or target.shape[0] != X.shape[0]:
        got = "a scalar" if target.ndim == 0 else f"{target.shape[0]} rows"
        raise ValueError(
            f"{target_name} must have one row per sample: X has {X.shape[0]} rows, "
            f"{target_name} has {got}."
        )
    return X, target


def train_epoch(
    network,
    loss,
    optimizer,
    X,
    target,
    *,
    batch_size,
    rng=None,
    alpha=0.0,
    clip_norm=None,
    sample_weight=None,
):
    """One pass over the data in mini-batches: forward, loss, backward, decay, clip, step.

    Parameters
    ----------
    network : Sequential
        Trained in place.
    loss : Loss
        The data loss of the output (mean over a batch).
    optimizer : mlbasics.optim.Optimizer
        Built on ``[network.flat_params]``.
    X : ndarray of shape (n_samples, n_features)
        Inputs, ideally already in ``network.dtype``.
    target : ndarray
        Targets in the form ``loss`` expects, one row per sample.
    batch_size : int
        Samples per update (the last batch may be smaller; one of a single sample joins the one
        before it).
    rng : numpy.random.Generator or None, default=None
        Shuffles the samples first when given; otherwise they are visited in order.
    alpha : float, default=0.0
        L2 weight decay: the objective of a batch is its mean loss plus
        :math:`\\frac{\\alpha}{2}\\sum\\lVert W\\rVert^2` over the weight matrices only, whose
        gradient :math:`\\alpha W` is added before clipping.
    clip_norm : float or None, default=None
        If given, the joint norm of all gradients is clipped to it
        (:func:`mlbasics.optim.clip_grad_norm`).
    sample_weight : ndarray of shape (n_samples,) or None, default=None
        Weights ``>= 0`` of the samples, passed batch by batch to ``loss.forward``: a batch's loss
        is then :math:`\\frac1{n_b}\\sum_{i\\in b} w_i\\ell_i` (see :mod:`mlbasics.nn._losses`).
        Give them a mean of 1 over ``X`` (the estimators do) for the epoch's loss to be the
        weighted mean :math:`\\sum_i w_i\\ell_i / \\sum_i w_i`. BatchNorm's batch statistics stay
        unweighted.

    Returns
    -------
    float
        The mean over the samples of the batch objectives (each at the parameters before its
        update), as scikit-learn's ``loss_curve_``.

    Raises
    ------
    TypeError
        If ``network`` is not a Sequential, ``loss`` not a loss object (a name such as ``"mse"``
        is not accepted) or ``optimizer`` not an update rule.
    ValueError
        For arguments that cannot work: an empty or non-2-D ``X``, a number of features the
        network does not take, a target with another number of rows, values of ``X`` too large for
        the network's dtype, ``batch_size < 1``, a negative ``alpha``, ``clip_norm <= 0``, an
        optimizer that is not built on the network's parameters, or (found when training fails)
        NaN or infinity in ``X`` or ``target``.
    TrainingDivergedError
        If the loss or a gradient becomes NaN or infinite; the message says what to change.
    """
    if not isinstance(network, Sequential):
        raise TypeError(f"network must be a Sequential, got {type(network).__name__}.")
    if not (callable(getattr(loss, "forward", None)) and callable(getattr(loss, "backward", None))):
        raise TypeError(
            "loss must be a loss object with forward(z, target) and backward(), such as "
            f"MeanSquaredError() or SoftmaxCrossEntropy(), got {type(loss).__name__} {loss!r}."
        )
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(
            "optimizer must be an update rule of mlbasics.optim built on [network.flat_params] "
            f"(make_optimizer(name, [network.flat_params])), got {type(optimizer).__name__}."
        )
    X, target = check_batch(network, X, target, target_name="target")
    weight = _check_weight(sample_weight, X.shape[0])
    if isinstance(batch_size, bool) or not isinstance(batch_size, Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}.")
    alpha = _check_number(alpha, "alpha", positive=False)
    if alpha > float(np.finfo(network.dtype).max):
        raise ValueError(
            f"alpha={alpha:g} does not fit in the network's {network.dtype} (largest "
            f"{float(np.finfo(network.dtype).max):.3g}); use a far smaller alpha."
        )
    clip_norm = _check_number(clip_norm, "clip_norm", positive=True, allow_none=True)
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}.")
    params = getattr(optimizer, "params", None)
    if isinstance(params, list) and not any(
        isinstance(p, np.ndarray) and np.may_share_memory(p, network.flat_params) for p in params
    ):
        raise ValueError(
            "optimizer does not update this network: build it on [network.flat_params]."
        )
    X = cast_input(
        X,
        network.dtype,
        name="X",
        hint="scale the features or use a float64 network (Sequential(..., dtype=np.float64))",
    )
    n = X.shape[0]
    if rng is not None:
        order = rng.permutation(n)
        X, target = X[order], target[order]
        weight = None if weight is None else weight[order]
    flat, flat_grads = network.flat_params, network.flat_grads
    decay = network.decay_mask * network.dtype.type(alpha) if alpha > 0 else None
    scratch = np.empty_like(flat)
    total = 0.0
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            for start, stop in batch_bounds(n, batch_size):
                output = network.forward(X[start:stop], training=True)
                if weight is None:  # (a loss of the user's own may not take weights)
                    value = loss.forward(output, target[start:stop])
                else:
                    value = loss.forward(output, target[start:stop], weight[start:stop])
                network.backward(loss.backward(), input_grad=False)
                if decay is not None:
                    np.multiply(decay, flat, out=scratch)
                    value += 0.5 * float(np.dot(scratch, flat))
                    flat_grads += scratch
                if not np.isfinite(value):
                    raise FloatingPointError(f"the loss is {value}")
                if clip_norm is not None:
                    clip_grad_norm([flat_grads], clip_norm)
                optimizer.step([flat_grads])
                total += value * (stop - start)
    except FloatingPointError as error:
        for name, array in (("X", X), ("target", target)):
            if np.issubdtype(array.dtype, np.inexact) and not np.all(np.isfinite(array)):
                raise ValueError(
                    f"{name} contains NaN or infinity; remove or impute those values."
                ) from None
        if isinstance(error, _GradientOverflowError):
            raise TrainingDivergedError(f"Training failed: {error}") from None
        if optimizer.n_steps == 0:  # not a divergence: the loss overflows at the start
            remedies = "standardise the inputs (StandardScaler) or scale the targets"
            if network.dtype != np.float64:  # (a float64 network has no wider type to move to)
                remedies = (
                    "standardise the inputs (StandardScaler), scale the targets, or use float64 "
                    "(dtype='float64' in the estimators)"
                )
            raise TrainingDivergedError(
                f"Training failed before the first update: at the starting weights the loss or a "
                f"gradient is already NaN or infinite ({error}), so a smaller learning rate "
                f"cannot help. The data are too large for a {network.dtype} network"
                + (f" (or alpha={alpha:g} is too large)" if alpha > 0 else "")
                + f": {remedies}."
            ) from None
        raise TrainingDivergedError(
            f"Training diverged: the loss or a gradient became NaN or infinite ({error}). Lower "
            f"the learning rate (now {optimizer.learning_rate:g}), set clip_norm, or standardise "
            "the inputs (StandardScaler)."
        ) from None
    return total / n
