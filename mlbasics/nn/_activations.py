"""Activation layers: element-wise nonlinearities, Maxout and Softmax.

Each is a :class:`~mlbasics.nn.Layer` without parameters: ``forward(x, *, training)`` keeps what the
derivative needs (the input or the output) and ``backward(grad_out)`` multiplies by the derivative
(it may overwrite ``grad_out``). Every formula is written so that no intermediate overflows: the
sigmoid is scipy's ``expit``, which never evaluates ``exp`` of a positive number, ELU takes
``expm1`` of the negative part only.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from ._layers import Layer

__all__ = ["ELU", "LeakyReLU", "Maxout", "ReLU", "Sigmoid", "Softmax", "Tanh"]


def _as_batch(layer, x):
    """``x`` as a 2-D float batch for a layer that works on rows (Maxout, Softmax): integers
    failed inside ``np.exp(..., out=)``, a 1-D input at the unpacking of its shape (a review)."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{layer!r} takes a 2-D input (n_samples, width), got shape {x.shape}.")
    return x if x.dtype.kind == "f" else x.astype(np.float64)


class Sigmoid(Layer):
    """:math:`\\sigma(x) = 1/(1+e^{-x})`, derivative :math:`\\sigma(1-\\sigma) \\le 1/4`.

    Saturates on both sides: for :math:`|x| \\gg 1` the derivative vanishes, and even at its best it
    shrinks a gradient by 4 per layer. Its output is not centred at zero.
    """

    saved_names = ("_out",)

    def forward(self, x, *, training):
        self._out = expit(x)
        return self._out

    def backward(self, grad_out):
        out = self.saved("_out")
        grad_out *= out * (1.0 - out)
        return grad_out


class Tanh(Layer):
    """:math:`\\tanh x = 2\\sigma(2x) - 1`, derivative :math:`1 - \\tanh^2 x \\le 1`.

    Centred at zero (faster than the sigmoid with zero-mean inputs) but saturates like it.
    """

    saved_names = ("_out",)

    def forward(self, x, *, training):
        self._out = np.tanh(x)
        return self._out

    def backward(self, grad_out):
        out = self.saved("_out")
        grad_out *= 1.0 - out * out
        return grad_out


class ReLU(Layer):
    """:math:`\\max(0, x)`, derivative 1 for :math:`x > 0` and 0 otherwise.

    Does not saturate for positive inputs (no vanishing gradient there) and is cheap; a unit whose
    input stays negative receives no gradient ("dead ReLU").
    """

    saved_names = ("_out",)

    def forward(self, x, *, training):
        self._out = np.maximum(x, 0)
        return self._out

    def backward(self, grad_out):
        grad_out *= self.saved("_out") > 0
        return grad_out


class LeakyReLU(Layer):
    """:math:`x` for :math:`x > 0`, :math:`a x` otherwise: a ReLU whose dead side keeps a slope.

    Parameters
    ----------
    negative_slope : float, default=0.01
        The slope :math:`a` in [0, 1) of the negative side.
    """

    saved_names = ("_positive",)

    def __init__(self, negative_slope=0.01):
        negative_slope = float(negative_slope)
        if not 0.0 <= negative_slope < 1.0:
            raise ValueError(f"negative_slope must be in [0, 1), got {negative_slope!r}.")
        self.negative_slope = negative_slope

    def forward(self, x, *, training):
        self._positive = x > 0
        return np.where(self._positive, x, self.negative_slope * x)

    def backward(self, grad_out):
        return np.where(self.saved("_positive"), grad_out, self.negative_slope * grad_out)

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope:g})"


class ELU(Layer):
    """Exponential linear unit: :math:`x` for :math:`x > 0`, :math:`\\alpha(e^x - 1)` otherwise.

    Smooth at 0 for :math:`\\alpha = 1`, saturates softly at :math:`-\\alpha` for negative inputs,
    which pushes the mean activation towards zero. Derivative: 1, or :math:`\\alpha e^x` =
    output + :math:`\\alpha`.

    Parameters
    ----------
    alpha : float, default=1.0
        The saturation level :math:`\\alpha > 0`.

    References
    ----------
    .. [1] D.-A. Clevert, T. Unterthiner and S. Hochreiter. Fast and accurate deep network learning
       by exponential linear units (ELUs). *ICLR*, 2016.
    """

    saved_names = ("_positive", "_out")

    def __init__(self, alpha=1.0):
        alpha = float(alpha)
        if not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}.")
        self.alpha = alpha

    def forward(self, x, *, training):
        self._positive = x > 0
        negative = self.alpha * np.expm1(np.minimum(x, 0))  # exp of a non-positive number only
        self._out = np.where(self._positive, x, negative)
        return self._out

    def backward(self, grad_out):
        positive, out = self.saved("_positive"), self.saved("_out")
        return np.where(positive, grad_out, grad_out * (out + self.alpha))

    def __repr__(self):
        return f"ELU(alpha={self.alpha:g})"


class Maxout(Layer):
    """Maxout: the maximum over groups of ``pool_size`` consecutive inputs.

    An input of width :math:`k m` gives an output of width :math:`m`:
    :math:`y_j = \\max_{0 \\le r < k} x_{j k + r}`. Placed after a :class:`~mlbasics.nn.Dense` layer of
    width :math:`k m`, each unit is the maximum of :math:`k` affine functions of the layer's input:
    a learned piecewise-linear convex activation (ReLU is the case :math:`k = 2` with one piece
    fixed at zero). The gradient flows to the arg-max of each group only.

    Parameters
    ----------
    pool_size : int, default=2
        Number :math:`k \\ge 2` of pieces per unit.

    References
    ----------
    .. [1] I. Goodfellow, D. Warde-Farley, M. Mirza, A. Courville and Y. Bengio. Maxout networks.
       *ICML*, 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import Maxout
    >>> Maxout(2).forward(np.array([[1.0, 3.0, -2.0, -5.0]]), training=False)
    array([[ 3., -2.]])
    """

    saved_names = ("_argmax", "_shape")

    def __init__(self, pool_size=2):
        if isinstance(pool_size, bool) or not isinstance(pool_size, int | np.integer):
            raise ValueError(f"pool_size must be an integer >= 2, got {pool_size!r}.")
        if pool_size < 2:
            raise ValueError(f"pool_size must be an integer >= 2, got {pool_size!r}.")
        self.pool_size = int(pool_size)

    def forward(self, x, *, training):
        x = _as_batch(self, x)
        n, width = x.shape
        if width % self.pool_size:
            raise ValueError(
                f"Maxout with pool_size={self.pool_size} needs an input width divisible by it; "
                f"got {width}."
            )
        grouped = x.reshape(n, width // self.pool_size, self.pool_size)
        self._argmax = grouped.argmax(axis=2)
        self._shape = x.shape
        return np.take_along_axis(grouped, self._argmax[..., None], axis=2)[..., 0]

    def backward(self, grad_out):
        n, width = self.saved("_shape")
        grad_in = np.zeros((n, width // self.pool_size, self.pool_size), dtype=grad_out.dtype)
        np.put_along_axis(grad_in, self.saved("_argmax")[..., None], grad_out[..., None], axis=2)
        return grad_in.reshape(n, width)

    def __repr__(self):
        return f"Maxout(pool_size={self.pool_size})"


class Softmax(Layer):
    """Row-wise softmax :math:`s_j = e^{x_j} / \\sum_k e^{x_k}`, computed after subtracting the max.

    Its Jacobian is :math:`\\partial s_j/\\partial x_k = s_j(\\delta_{jk} - s_k)`, so the backward
    pass is :math:`s \\odot (g - \\langle g, s\\rangle)`. For classification use
    :class:`~mlbasics.nn.SoftmaxCrossEntropy` on the logits instead: the fused gradient
    :math:`s - y` is cheaper and never divides by a probability that underflowed.
    """

    saved_names = ("_out",)

    def forward(self, x, *, training):
        x = _as_batch(self, x)
        with np.errstate(over="ignore"):  # a span beyond the type's range: -inf, probability 0
            shifted = x - x.max(axis=1, keepdims=True)
        np.exp(shifted, out=shifted)
        shifted /= shifted.sum(axis=1, keepdims=True)
        self._out = shifted
        return shifted

    def backward(self, grad_out):
        s = self.saved("_out")
        inner = np.einsum("ij,ij->i", grad_out, s)[:, None]
        return s * (grad_out - inner)
