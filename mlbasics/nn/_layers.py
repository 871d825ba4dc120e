"""Layers with parameters or modes: the base class, ``Dense``, ``BatchNorm`` and ``Dropout``.

The contract of a layer (the activations of :mod:`mlbasics.nn._activations` follow it too):

``forward(x, *, training)``
    Output for a batch ``x`` of shape ``(n_samples, n_in)``. ``training`` chooses the mode:
    BatchNorm uses the batch statistics and updates its running ones, Dropout draws a mask; in
    inference mode (``training=False``) both are deterministic. The layer keeps what its backward
    pass needs.
``backward(grad_out)``
    Given the gradient of the loss with respect to the output of the last ``forward``, writes the
    gradients of the parameters into ``grads()`` and returns the gradient with respect to the input.
    It may overwrite ``grad_out`` (the network owns these intermediate arrays).
``params()``, ``grads()``
    Lists of arrays, aligned: ``grads()[i]`` has the shape of ``params()[i]``. The arrays are
    updated in place (by the optimizer and by ``backward``).
``decays()``
    One bool per parameter: ``True`` for the weights that L2 weight decay applies to (the weight
    matrices, never biases nor BatchNorm's scale and shift).
``buffers()``
    Dict of the non-trainable state (BatchNorm's running mean and variance): saved and restored with
    the weights, never touched by an optimizer.

A layer names its parameters in ``param_names``; the gradient of ``W`` is the attribute ``dW``.
:class:`~mlbasics.nn.Sequential` re-points these attributes at slices of one flat vector, so that an
optimizer updates all parameters of a network in a single call.
"""

from __future__ import annotations

from numbers import Real
from typing import ClassVar

import numpy as np

from ._init import get_initializer, zeros

__all__ = ["BatchNorm", "Dense", "Dropout", "Layer"]


def _check_width(name, value):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    return int(value)


def _check_real(name, value):
    """``value`` as a float if it is a real number (not a bool, not a string), else a TypeError."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}.")
    return float(value)


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}.")
    return dtype


class Layer:
    """Base class: a layer without parameters that passes its input through.

    Subclasses override ``forward`` and ``backward`` and, if they have parameters, list their names
    in ``param_names`` (and in ``decayed`` those that weight decay applies to), keeping each
    parameter ``P`` in the attribute ``P`` and its gradient in ``dP``.
    """

    param_names: ClassVar[tuple[str, ...]] = ()
    decayed: ClassVar[tuple[str, ...]] = ()
    buffer_names: ClassVar[tuple[str, ...]] = ()
    #: What ``forward`` keeps for ``backward`` (read through :meth:`saved`, dropped by
    #: :meth:`forget`).
    saved_names: ClassVar[tuple[str, ...]] = ()

    def forward(self, x, *, training):
        return x

    def backward(self, grad_out):
        return grad_out

    def params(self):
        """The parameter arrays (updated in place)."""
        return [getattr(self, name) for name in self.param_names]

    def grads(self):
        """The gradient arrays, aligned with :meth:`params`."""
        return [getattr(self, "d" + name) for name in self.param_names]

    def decays(self):
        """Whether L2 weight decay applies to each parameter."""
        return [name in self.decayed for name in self.param_names]

    def buffers(self):
        """Non-trainable state by name (running statistics)."""
        return {name: getattr(self, name) for name in self.buffer_names}

    def bind(self, params, grads):
        """Point the parameters and gradients at the given arrays, copying the current values.

        Used by :class:`~mlbasics.nn.Sequential` to place every parameter in one flat vector.
        """
        for name, new, new_grad in zip(self.param_names, params, grads, strict=True):
            new[...] = getattr(self, name)
            setattr(self, name, new)
            setattr(self, "d" + name, new_grad)
        self._bound = bool(self.param_names)

    def __getstate__(self):
        # A copy (deepcopy, pickle) holds arrays of its own: it is bound to no network until one
        # binds it (Sequential's own copies are rebound by Sequential.__setstate__).
        state = self.__dict__.copy()
        state.pop("_bound", None)
        return state

    def unbind(self):
        """Give the layer its own copies of its parameters and gradients; returns ``self``.

        The layer leaves the flat vectors of the :class:`~mlbasics.nn.Sequential` that bound it
        (whose optimizer no longer updates it).
        """
        for name in (*self.param_names, *("d" + n for n in self.param_names)):
            setattr(self, name, getattr(self, name).copy())
        self._bound = False
        return self

    def astype(self, dtype):
        """Cast parameters, gradients and buffers to ``dtype``; returns ``self``.

        The layer holds new arrays afterwards. A layer bound into a
        :class:`~mlbasics.nn.Sequential` keeps its parameters in the network's flat vector, and a
        cast would take them out of it (the optimizer would go on updating the old arrays): for a
        new ``dtype`` that is refused; cast the network (:meth:`Sequential.astype
        <mlbasics.nn.Sequential.astype>`, a copy) or :meth:`unbind` the layer first. Casting to
        the type the layer already has changes nothing.
        """
        dtype = _check_dtype(dtype)
        names = (*self.param_names, *("d" + n for n in self.param_names), *self.buffer_names)
        if all(getattr(self, name).dtype == dtype for name in names):
            if hasattr(self, "dtype"):
                self.dtype = dtype
            return self
        if getattr(self, "_bound", False):
            raise ValueError(
                f"{type(self).__name__}.astype({dtype.name}): the layer's parameters live in the "
                "flat vector of the Sequential that holds it, which its optimizer updates; cast "
                "the network (Sequential.astype) or call unbind() on the layer first."
            )
        for name in names:
            setattr(self, name, getattr(self, name).astype(dtype))
        if hasattr(self, "dtype"):
            self.dtype = dtype
        return self

    def saved(self, name):
        """What ``forward`` kept for ``backward`` under ``name``; a RuntimeError before any forward
        (the attribute absent, or still the None a constructor set)."""
        value = self.__dict__.get(name)
        if value is None:
            raise RuntimeError(f"{self!r}: backward called before forward (nothing kept to use).")
        return value

    def forget(self):
        """Drop what the last ``forward`` kept for ``backward`` (a batch of inputs or
        activations): a trained network then holds its parameters and buffers only, not a copy of
        the last batch it saw."""
        for name in self.saved_names:
            setattr(self, name, None)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Dense(Layer):
    """Fully connected layer: ``y = x W + b``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    init : str or callable, default="he_normal"
        Initialiser of ``W`` (see :mod:`mlbasics.nn.init <mlbasics.nn._init>`); the bias starts at zero.
    bias : bool, default=True
        Whether to add ``b``. A layer followed by :class:`BatchNorm` does not need one (the mean
        subtraction removes it and BatchNorm's shift ``beta`` replaces it).
    rng : numpy.random.Generator
        Source of the initial weights.
    dtype : {np.float32, np.float64}, default=np.float32
        Floating-point type of the parameters.

    Attributes
    ----------
    W : ndarray of shape (n_in, n_out)
        Weights (weight decay applies to them).
    b : ndarray of shape (n_out,)
        Bias, if ``bias``.
    dW, db : ndarray
        Their gradients after ``backward``.

    Notes
    -----
    With upstream gradient :math:`G = \\partial L / \\partial y` for a batch :math:`X`:
    :math:`\\partial L/\\partial W = X^\\top G`, :math:`\\partial L/\\partial b = \\sum_i G_i`,
    :math:`\\partial L/\\partial X = G W^\\top`.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import Dense
    >>> layer = Dense(3, 2, rng=np.random.default_rng(0), dtype=np.float64)
    >>> x = np.ones((4, 3))
    >>> bool(np.allclose(layer.forward(x, training=True), x @ layer.W + layer.b))
    True
    >>> grad_in = layer.backward(np.ones((4, 2)))
    >>> bool(np.allclose(layer.dW, x.T @ np.ones((4, 2)))), grad_in.shape
    (True, (4, 3))
    """

    decayed = ("W",)
    saved_names = ("_x",)

    def __init__(self, n_in, n_out, *, init="he_normal", bias=True, rng, dtype=np.float32):
        self.n_in = _check_width("n_in", n_in)
        self.n_out = _check_width("n_out", n_out)
        self.dtype = _check_dtype(dtype)
        self.init = init
        self.W = get_initializer(init)((self.n_in, self.n_out), rng, dtype=self.dtype)
        self.dW = np.zeros_like(self.W)
        self.param_names = ("W", "b") if bias else ("W",)
        if bias:
            self.b = zeros((self.n_out,), dtype=self.dtype)
            self.db = np.zeros_like(self.b)
        self._x = None

    def forward(self, x, *, training):
        if np.ndim(x) != 2 or np.shape(x)[1] != self.n_in:
            raise ValueError(
                f"{self!r} takes a 2-D input of shape (n_samples, {self.n_in}), got shape "
                f"{np.shape(x)}."
            )
        self._x = x
        out = np.matmul(x, self.W)
        if "b" in self.param_names:
            out += self.b
        return out

    def backward(self, grad_out):
        self.param_backward(grad_out)  # (raises if forward has not run)
        return np.matmul(grad_out, self.W.T)

    def param_backward(self, grad_out):
        """The parameter gradients only: for a first layer, whose input gradient nobody needs."""
        np.matmul(self.saved("_x").T, grad_out, out=self.dW)
        if "b" in self.param_names:
            np.sum(grad_out, axis=0, out=self.db)

    def __repr__(self):
        bias = "" if "b" in self.param_names else ", bias=False"
        return f"Dense({self.n_in}, {self.n_out}{bias})"


class BatchNorm(Layer):
    """Batch normalisation of each feature, with a learnable scale and shift.

    Parameters
    ----------
    n_features : int
        Width of the input.
    momentum : float, default=0.1
        Weight of the current batch in the running statistics, in (0, 1].
    eps : float, default=1e-5
        Added to the variance before the square root, > 0.
    dtype : {np.float32, np.float64}, default=np.float32
        Floating-point type.

    Attributes
    ----------
    gamma, beta : ndarray of shape (n_features,)
        Scale :math:`\\gamma` (starts at 1) and shift :math:`\\beta` (starts at 0): parameters, not
        subject to weight decay.
    running_mean, running_var : ndarray of shape (n_features,)
        Buffers: exponential averages of the batch means and (unbiased) variances seen in training,
        used at inference. They start at 0 and 1.

    Notes
    -----
    Training, for a batch of :math:`m` rows:
    :math:`\\mu = \\frac1m\\sum_i x_i`, :math:`\\sigma^2 = \\frac1m\\sum_i (x_i-\\mu)^2`,
    :math:`\\hat x_i = (x_i - \\mu)/\\sqrt{\\sigma^2+\\epsilon}`,
    :math:`y_i = \\gamma \\hat x_i + \\beta`; then
    :math:`\\bar\\mu \\leftarrow (1-p)\\bar\\mu + p\\mu` and
    :math:`\\bar\\sigma^2 \\leftarrow (1-p)\\bar\\sigma^2 + p\\frac{m}{m-1}\\sigma^2` with
    :math:`p` = ``momentum``. A training batch whose mean or variance is not finite (NaN or
    infinite inputs) raises a ``FloatingPointError`` before the running statistics are updated,
    which :func:`~mlbasics.nn.train_epoch` reports as non-finite data or a diverged run. Inference: :math:`y = \\gamma (x - \\bar\\mu)/\\sqrt{\\bar\\sigma^2 +
    \\epsilon} + \\beta`, a fixed affine map, so a sample's output does not depend on the rest of
    the batch.

    The backward pass goes through the batch statistics, which depend on every row:

    .. math::

        \\frac{\\partial L}{\\partial x_i} = \\frac{\\gamma}{m\\sqrt{\\sigma^2+\\epsilon}}
        \\Bigl(m\\, g_i - \\sum_j g_j - \\hat x_i \\sum_j g_j \\hat x_j\\Bigr),
        \\qquad g_i = \\frac{\\partial L}{\\partial y_i},

    and :math:`\\partial L/\\partial\\gamma = \\sum_i g_i \\hat x_i`,
    :math:`\\partial L/\\partial\\beta = \\sum_i g_i`. In inference mode the map is affine and the
    input gradient is :math:`g_i\\, \\gamma/\\sqrt{\\bar\\sigma^2+\\epsilon}`.

    References
    ----------
    .. [1] S. Ioffe and C. Szegedy. Batch normalization: accelerating deep network training by
       reducing internal covariate shift. *ICML*, 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import BatchNorm
    >>> bn = BatchNorm(2, dtype=np.float64)
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> bn.forward(x, training=True).round(3)
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> bn.running_mean, bn.running_var
    (array([0.2, 2. ]), array([ 1.1, 20.9]))
    """

    param_names = ("gamma", "beta")
    buffer_names = ("running_mean", "running_var")
    saved_names = ("_cache",)

    def __init__(self, n_features, *, momentum=0.1, eps=1e-5, dtype=np.float32):
        self.n_features = _check_width("n_features", n_features)
        momentum = _check_real("momentum", momentum)
        if not 0.0 < momentum <= 1.0:
            raise ValueError(f"momentum must be in (0, 1], got {momentum!r}.")
        eps = _check_real("eps", eps)
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"eps must be a finite number > 0, got {eps!r}.")
        self.momentum, self.eps = momentum, eps
        self.dtype = _check_dtype(dtype)
        shape = (self.n_features,)
        self.gamma = np.ones(shape, dtype=self.dtype)
        self.beta = np.zeros(shape, dtype=self.dtype)
        self.dgamma = np.zeros_like(self.gamma)
        self.dbeta = np.zeros_like(self.beta)
        self.running_mean = np.zeros(shape, dtype=self.dtype)
        self.running_var = np.ones(shape, dtype=self.dtype)
        self._cache = None

    def forward(self, x, *, training):
        if np.ndim(x) != 2 or np.shape(x)[1] != self.n_features:
            # (a one-column batch would broadcast against every feature's statistics)
            raise ValueError(
                f"{self!r} takes a 2-D input of shape (n_samples, {self.n_features}), got shape "
                f"{np.shape(x)}."
            )
        if not training:
            inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            x_hat = (x - self.running_mean) * inv_std
            self._cache = (False, x_hat, inv_std)
            return x_hat * self.gamma + self.beta
        m = x.shape[0]
        if m < 2:
            raise ValueError(
                "BatchNorm in training mode needs at least 2 samples per batch (the variance of "
                f"one sample is 0); got a batch of {m}."
            )
        mean = x.mean(axis=0)
        centred = x - mean
        var = np.einsum("ij,ij->j", centred, centred) / m
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
            # before the running statistics take them in: one NaN would make every later
            # inference output NaN
            raise FloatingPointError(
                "BatchNorm: the batch mean or variance is NaN or infinite (the batch holds NaN or "
                "infinite values, or values whose squares overflow); the running statistics are "
                "left unchanged."
            )
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = centred
        x_hat *= inv_std
        p = self.momentum
        self.running_mean *= 1.0 - p
        self.running_mean += p * mean
        self.running_var *= 1.0 - p
        self.running_var += (p * m / (m - 1)) * var
        self._cache = (True, x_hat, inv_std)
        return x_hat * self.gamma + self.beta

    def backward(self, grad_out):
        training, x_hat, inv_std = self.saved("_cache")
        np.sum(grad_out, axis=0, out=self.dbeta)
        np.einsum("ij,ij->j", grad_out, x_hat, out=self.dgamma)
        if not training:  # a fixed affine map
            return grad_out * (self.gamma * inv_std)
        m = grad_out.shape[0]
        # (gamma / (m std)) * (m g - sum g - x_hat * sum(g x_hat))
        grad_in = grad_out * m
        grad_in -= self.dbeta
        grad_in -= x_hat * self.dgamma
        grad_in *= (self.gamma * inv_std) / m
        return grad_in

    def __repr__(self):
        return f"BatchNorm({self.n_features}, momentum={self.momentum:g})"


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``p`` and scale the rest.

    Parameters
    ----------
    p : float
        Drop probability, in [0, 1).
    rng : numpy.random.Generator
        Source of the masks.

    Attributes
    ----------
    mask : ndarray or None
        The mask of the last training forward pass: 0 for a dropped unit, :math:`1/(1-p)` for a
        kept one (None before the first, or after :meth:`forget`).

    Notes
    -----
    Training: :math:`y = x \\odot m / (1-p)` with :math:`m_{ij} \\sim \\mathrm{Bernoulli}(1-p)`,
    so :math:`E[y] = x`; the backward pass multiplies by the same mask. Inference: :math:`y = x`.
    Scaling at training time ("inverted" dropout) rather than multiplying by :math:`1-p` at test
    time leaves the inference network untouched: it needs no knowledge of ``p``.

    References
    ----------
    .. [1] N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever and R. Salakhutdinov. Dropout: a
       simple way to prevent neural networks from overfitting. *JMLR* 15:1929–1958, 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import Dropout
    >>> layer = Dropout(0.5, rng=np.random.default_rng(0))
    >>> x = np.ones((2, 4))
    >>> sorted(set(layer.forward(x, training=True).ravel().tolist()))
    [0.0, 2.0]
    >>> bool((layer.forward(x, training=False) == x).all())
    True
    """

    saved_names = ("mask", "_training")

    def __init__(self, p, *, rng):
        p = _check_real("The dropout probability p", p)
        if not 0.0 <= p < 1.0:
            raise ValueError(f"The dropout probability p must be in [0, 1), got {p!r}.")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}.")
        self.p = p
        self.rng = rng
        self.mask = None
        self._training = None  # the mode of the last forward; None before any

    def forward(self, x, *, training):
        self._training = training and self.p > 0.0
        if not self._training:
            return x
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        mask = self.rng.random(x.shape, dtype=dtype)
        np.greater_equal(mask, self.p, out=mask, casting="unsafe")
        mask *= 1.0 / (1.0 - self.p)
        self.mask = mask
        return x * mask

    def backward(self, grad_out):
        if not self.saved("_training"):
            return grad_out
        grad_out *= self.saved("mask")
        return grad_out

    def __repr__(self):
        return f"Dropout(p={self.p:g})"
