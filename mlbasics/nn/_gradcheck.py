"""Finite-difference gradient check of a network, a loss and (optionally) weight decay."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils import assert_all_finite, check_array

from ._losses import MeanSquaredError, SoftmaxCrossEntropy
from ._network import _check_number, check_batch

__all__ = ["GradientCheck", "check_gradients"]


@dataclass(frozen=True)
class GradientCheck:
    """The result of :func:`check_gradients`.

    Attributes
    ----------
    errors : dict of str to float
        Relative error of each parameter array (named ``"<index>.<Layer>.<param>"``) and, if it was
        checked, of the gradient with respect to the input (``"input"``).
    max_error : float
        The largest of them.
    """

    errors: dict
    max_error: float

    def passed(self, tol=1e-6):
        """Whether every relative error is below ``tol``."""
        return self.max_error < tol


# A centred difference of f in float64 is exact to about ROUNDING * max(1, |f|) / eps per entry
# when f(x + eps e_k) and f(x - eps e_k) are each rounded to about eps |f|: gradients below that
# are zero as far as finite differences can tell. Rounding happens at the size of the
# intermediate values, though (pre-BatchNorm activations of 100 less their batch mean, outputs
# of 1e4 less targets of 1e4), where it can be many times eps |f|: the differences' own noise
# is therefore also measured, from the differences at twice the step (below).
ROUNDING = 2 * np.finfo(np.float64).eps
#: How many times the measured noise ``|d(eps) - d(2 eps)|`` is discounted (it estimates the
#: noise of ``d(eps)`` with a factor near 1.1 for independent roundings, 3 for truncation).
NOISE_FACTOR = 2.0


def _differences(evaluate, values, step):
    """Centred differences of ``evaluate()`` with respect to every entry of ``values`` (moved in
    place and put back), at ``step`` and at ``2 step``: ``(d, |d - d2|)``.

    Rounding noise in a centred difference goes as ``1 / step``, truncation as ``step^2``; the
    two estimates differ by about both, which measures the error of ``d`` whatever the size of
    the intermediate values that rounding happened at.
    """
    flat = values.reshape(-1)  # a view (values is contiguous: a network's flat_params or X)
    d, d2 = np.empty(flat.size), np.empty(flat.size)
    for k in range(flat.size):
        saved = flat[k]
        f = []
        for shift in (step, -step, 2.0 * step, -2.0 * step):
            flat[k] = saved + shift
            f.append(evaluate())
        flat[k] = saved
        d[k] = (f[0] - f[1]) / (2.0 * step)
        d2[k] = (f[2] - f[3]) / (4.0 * step)
    return d.reshape(values.shape), np.abs(d - d2).reshape(values.shape)


def _relative_error(analytic, numeric, resolution, noise):
    """``max(0, |a - n| - r) / (|a| + |n|)``, with ``r`` what the differences' rounding can put
    into ``|a - n|``: the larger of ``resolution sqrt(size)`` and :data:`NOISE_FACTOR` times the
    measured ``noise`` (:func:`_differences`).

    Without the ``- r`` a correct gradient a few decades above the resolution was judged by its
    noise: the first layer of a width-3 sigmoid network eight layers deep (gradient 8e-7, backprop
    exact to 1e-15 against complex steps) showed 1e-4 and failed, a 1% error in a derivative
    showed 5e-3 (a review). With a fixed ``r`` alone, 10 eps |f| / step per entry hid 10% errors
    in small gradients beside |f| = 2e4, and 2 eps failed correct networks whose rounding was at
    larger intermediate values (a bias before BatchNorm on inputs of 100: reviews). A
    discrepancy below ``r`` cannot be seen by the differences at all.
    """
    floor = max(resolution * np.sqrt(analytic.size), NOISE_FACTOR * float(np.linalg.norm(noise)))
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    if scale <= floor:
        return 0.0  # both zero to within the resolution of the finite differences
    return max(0.0, float(np.linalg.norm(analytic - numeric)) - floor) / float(scale)


def check_gradients(
    network, X, y, loss=None, *, training=True, alpha=0.0, eps=1e-6, check_input=True
):
    """Compare back-propagated gradients with centred finite differences, in float64.

    The objective is ``loss.forward(network.forward(X, training=training), y)`` plus
    :math:`\\frac{\\alpha}{2}\\sum\\lVert W\\rVert^2` over the weight matrices. Every parameter
    entry :math:`\\theta_k` is moved by :math:`\\pm\\epsilon` and the derivative estimated as
    :math:`(f(\\theta + \\epsilon e_k) - f(\\theta - \\epsilon e_k)) / (2\\epsilon)`, whose error is
    :math:`O(\\epsilon^2)` (against :math:`O(\\epsilon)` for a one-sided difference).

    The check runs on a float64 copy of the network (:meth:`~mlbasics.nn.Sequential.astype`), so the
    network passed in is not modified, whatever its dtype. Layers that draw random numbers in
    training (Dropout) get their generator's state reset before every forward pass: every evaluation
    uses the same mask, and the function being differentiated is well defined.

    Parameters
    ----------
    network : Sequential
        The network to check.
    X : array-like of shape (n_samples, n_features)
        A batch of inputs.
    y : array-like
        Targets in the form ``loss`` expects.
    loss : Loss, default=None
        The loss; ``None`` means :class:`~mlbasics.nn.SoftmaxCrossEntropy` for a 1-D integer ``y``
        and :class:`~mlbasics.nn.MeanSquaredError` otherwise.
    training : bool, default=True
        Mode of the forward passes (BatchNorm's batch statistics, Dropout's mask).
    alpha : float, default=0.0
        Weight-decay strength included in the objective.
    eps : float, default=1e-6
        The finite-difference step, a finite number > 0.
    check_input : bool, default=True
        Also check the gradient with respect to ``X``.

    Returns
    -------
    GradientCheck
        The relative error :math:`\\max(0, \\lVert g - \\hat g\\rVert - r) / (\\lVert g\\rVert +
        \\lVert \\hat g\\rVert)` of each parameter array and the largest one, where :math:`r`
        is what the rounding of the differences can contribute: at least :math:`4 \\cdot
        10^{-16} \\max(1, |f|)/\\epsilon` per entry, and twice their measured noise, the
        difference between the estimates at :math:`\\epsilon` and :math:`2\\epsilon` (four
        evaluations of :math:`f` per entry): a correct gradient shows 0 or close to it however
        small it is (a deep sigmoid network's first layer), a wrong one its error beyond that
        noise. A parameter whose two gradients are both below :math:`r` counts as exact: a bias
        followed by BatchNorm has a gradient of exactly zero, which the differences only see as
        rounding noise.

    Raises
    ------
    ValueError
        If ``X`` is not a non-empty 2-D array of finite numbers of the width the network takes,
        ``y`` has another number of rows or contains NaN or infinity, ``eps`` is not a finite
        number > 0 or ``alpha`` not a finite number >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import BatchNorm, Dense, Sequential, Tanh, check_gradients
    >>> rng = np.random.default_rng(0)
    >>> net = Sequential([Dense(3, 4, rng=rng), BatchNorm(4), Tanh(), Dense(4, 2, rng=rng)])
    >>> result = check_gradients(net, rng.standard_normal((6, 3)), np.array([0, 1, 1, 0, 1, 0]))
    >>> result.passed(1e-6)
    True
    """
    eps = _check_number(eps, "eps, the finite-difference step,", positive=True)
    alpha = _check_number(alpha, "alpha", positive=False)
    # A float64 copy: the input check moves its entries, and the caller's X must not change.
    X = check_array(X, dtype=np.float64, copy=True, input_name="X")
    X, y = check_batch(network, X, y, target_name="y")
    X = np.ascontiguousarray(X)  # (moved entry by entry through a flat view)
    if np.issubdtype(y.dtype, np.inexact):
        assert_all_finite(y, input_name="y")
    net = network.astype(np.float64)
    if loss is None:
        integer = y.ndim == 1 and np.issubdtype(y.dtype, np.integer)
        loss = SoftmaxCrossEntropy() if integer else MeanSquaredError()
    generators = [
        (layer, layer.rng.bit_generator.state)
        for layer in net.layers
        if isinstance(getattr(layer, "rng", None), np.random.Generator)
    ]
    buffers = net.get_state()[1]

    def objective(inputs):
        for layer, state in generators:
            layer.rng.bit_generator.state = state
        value = loss.forward(net.forward(inputs, training=training), y)
        return value + net.penalty(alpha)

    resolution = ROUNDING * max(1.0, abs(objective(X))) / eps
    grad_input = net.backward(loss.backward())
    analytic = net.flat_grads + alpha * net.decay_mask * net.flat_params

    def at_X():
        return objective(X)

    numeric, noise = _differences(at_X, net.flat_params, eps)
    errors = {}
    offset = 0
    for name, param in net.named_params():
        part = slice(offset, offset + param.size)
        errors[name] = _relative_error(analytic[part], numeric[part], resolution, noise[part])
        offset = part.stop
    if check_input:
        numeric_input, noise_input = _differences(at_X, X, eps)
        errors["input"] = _relative_error(grad_input, numeric_input, resolution, noise_input)
    for (_, array), saved in zip(net.buffers(), buffers, strict=True):
        array[...] = saved
    return GradientCheck(errors=errors, max_error=max(errors.values(), default=0.0))
