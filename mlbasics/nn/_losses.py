"""Losses of a network's output: each averages a per-sample loss over the batch.

A loss object has ``forward(z, target, sample_weight=None) -> float``, the mean over the ``n``
rows of ``z`` of the per-sample loss, and ``backward() -> ndarray``, the gradient of that mean with
respect to ``z`` (hence the factor ``1/n`` in every gradient below). With ``sample_weight`` the
mean is of the weighted losses, :math:`\\frac1n\\sum_i w_i \\ell_i`, and row ``i`` of the gradient
is multiplied by :math:`w_i`. It is divided by ``n``, not by :math:`\\sum_i w_i`: with weights of
mean 1 over the training set (what the estimators pass), a mini-batch's weighted loss and its
gradient are then unbiased estimates of the whole weighted objective
:math:`\\sum_i w_i \\ell_i / \\sum_i w_i`, where the ratio of two batch sums would not be (and
would be 0/0 on a batch of zero weights). The classification losses take *logits*
(unnormalised scores) and fuse the link function into the loss, which is both cheaper and stable:
no probability is ever computed only to have its logarithm taken.

=============================  ======================================  ===========================
loss                           per-sample value                        gradient in ``z`` (×n)
=============================  ======================================  ===========================
``SoftmaxCrossEntropy``        :math:`\\log\\sum_k e^{z_k} - z_y`        :math:`\\mathrm{softmax}(z) - e_y`
``BinaryCrossEntropy``         :math:`\\log(1+e^{z}) - y z`             :math:`\\sigma(z) - y`
``MeanSquaredError``           :math:`\\frac12\\lVert z - y\\rVert^2`    :math:`z - y`
``L1Loss``                     :math:`\\lVert z - y\\rVert_1`            :math:`\\mathrm{sign}(z - y)`
``Huber(delta)``               :math:`h_\\delta(r)`, see below           :math:`\\mathrm{clip}(r, \\pm\\delta)`
``SmoothL1(beta)``             :math:`h_\\beta(r)/\\beta`                :math:`\\mathrm{clip}(r, \\pm\\beta)/\\beta`
=============================  ======================================  ===========================

with :math:`r = z - y` and :math:`h_\\delta(r) = \\frac12 r^2` for :math:`|r| \\le \\delta`,
:math:`\\delta(|r| - \\frac12\\delta)` beyond, summed over the outputs.

Errors: a NaN or infinite ``z`` raises a ``FloatingPointError`` (a diverged network's output), NaN or
infinity in ``target`` a ``ValueError``, a loss that overflows float64 a ``FloatingPointError`` that
says so, and ``backward()`` before any ``forward`` a ``RuntimeError``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit

from ._layers import _check_real

__all__ = [
    "BinaryCrossEntropy",
    "Huber",
    "L1Loss",
    "Loss",
    "MeanSquaredError",
    "SmoothL1",
    "SoftmaxCrossEntropy",
]


def _check_batch(z):
    """``z`` as a floating array (integers and booleans become float64): non-empty, 2-D, finite.

    The losses compute in ``z``'s floating type, and their gradients have it: an integer ``z``
    would truncate them (and the targets cast to it). A NaN or infinite output is what a diverging network produces, so it raises a
    FloatingPointError, which :func:`~mlbasics.nn.train_epoch` reports as a divergence.
    """
    z = np.asarray(z)
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"z must be a non-empty 2-D array of shape (n, k), got shape {z.shape}.")
    if z.dtype.kind not in "biuf":
        raise ValueError(f"z must hold real numbers, got an array of dtype {z.dtype}.")
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    if not np.all(np.isfinite(z)):
        raise FloatingPointError(
            "z contains NaN or infinity: the outputs are not finite (a network that produces them "
            "has diverged)."
        )
    return z


def _check_finite_target(target):
    """Raise a ValueError unless ``target`` holds real, finite numbers."""
    if target.dtype.kind not in "biuf":
        raise ValueError(f"target must hold real numbers, got an array of dtype {target.dtype}.")
    if not np.all(np.isfinite(target)):
        raise ValueError("target contains NaN or infinity; remove or impute those values.")


def _check_class_indices(target, k):
    """Raise a ValueError unless ``target`` holds integers in ``0..k-1`` (the columns of z)."""
    if not np.issubdtype(target.dtype, np.integer):
        raise ValueError(
            f"target must be integer class indices in 0..{k - 1} (or an (n, {k}) matrix of "
            f"probabilities), got an array of dtype {target.dtype}."
        )
    low, high = target.min(), target.max()
    if low < 0 or high >= k:
        bad = low if low < 0 else high
        raise ValueError(
            f"target contains the class index {bad}, outside 0..{k - 1}: z has {k} columns, one "
            "per class."
        )


def _shifted_logits(z):
    """``z - max_k z_k`` per row, in float64 when ``z``'s own type cannot hold the differences.

    Only a row whose logits span more than the type's range overflows; its entries that become
    ``-inf`` have probability exactly 0 in that type, which ``exp(-inf) = 0`` gives.
    """
    with np.errstate(over="ignore"):
        shifted = z - z.max(axis=1, keepdims=True)
    if z.dtype != np.float64 and not np.all(np.isfinite(shifted)):
        with np.errstate(over="ignore"):
            shifted = z.astype(np.float64) - z.max(axis=1, keepdims=True)
    return shifted


def _check_weight(sample_weight, n):
    """``sample_weight`` as a float64 vector of ``n`` finite numbers >= 0, or None."""
    if sample_weight is None:
        return None
    weight = np.asarray(sample_weight)
    if weight.ndim != 1 or weight.shape[0] != n:
        raise ValueError(
            f"sample_weight must be a vector of one weight per sample ({n}), got shape "
            f"{weight.shape}."
        )
    if weight.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must hold real numbers, got dtype {weight.dtype}.")
    weight = weight.astype(np.float64, copy=False)
    if not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise ValueError("sample_weight must hold finite numbers >= 0.")
    return weight


def _weigh_rows(values, weight):
    """``values`` (one row per sample, 1-D or 2-D) with row ``i`` multiplied by ``weight[i]``, in
    float64; ``values`` itself if ``weight`` is None."""
    if weight is None:
        return values
    shape = (-1,) + (1,) * (np.ndim(values) - 1)
    return np.asarray(values, dtype=np.float64) * weight.reshape(shape)


def _weigh_grad(grad, weight):
    """The gradient rows multiplied by the weights, in the gradient's own dtype."""
    if weight is None:
        return grad
    return grad * weight.astype(grad.dtype, copy=False).reshape(-1, 1)


def _mean_loss(loss, per_sample, z, weight=None):
    """The mean of the (weighted) per-sample losses, summed in float64; the module's
    FloatingPointError when it overflows float64. (A sum that overflows while the mean does not is
    summed again, divided first.)"""
    n = z.shape[0]
    with np.errstate(over="ignore"):
        per_sample = _weigh_rows(per_sample, weight)
        value = float(np.sum(per_sample, dtype=np.float64)) / n
        if math.isinf(value) and np.all(np.isfinite(per_sample)):
            value = float(np.sum(np.asarray(per_sample, dtype=np.float64) / n))
    if not math.isfinite(value):
        raise FloatingPointError(
            f"{type(loss).__name__}: the loss overflows float64 (the largest |z| is "
            f"{float(np.max(np.abs(z))):.3g}): logits this large must be scaled down."
        )
    return value


def _describe(target):
    if target.dtype.kind not in "biuf":
        return f"an array of dtype {target.dtype}"
    return f"values from {target.min()} to {target.max()}"


class Loss:
    """Base class: ``forward(z, target, sample_weight=None)`` returns the mean loss (of the
    weighted per-sample losses, divided by the number of rows, when weights are given),
    ``backward()`` its gradient in z."""

    _grad = None

    def forward(self, z, target, sample_weight=None):
        raise NotImplementedError

    def backward(self):
        """The gradient of the mean loss of the last :meth:`forward` with respect to ``z``.

        A new array on every call: :meth:`Sequential.backward <mlbasics.nn.Sequential.backward>`
        may overwrite the one it is given.
        """
        if self._grad is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward called before forward: there is no loss to "
                "differentiate yet."
            )
        return self._grad.copy()

    def __call__(self, z, target, sample_weight=None):
        return self.forward(z, target, sample_weight)

    def __repr__(self):
        return f"{type(self).__name__}()"


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by the cross-entropy, fused: the multinomial negative log-likelihood.

    ``target`` is either a vector of integer class indices in ``0..k-1`` or an ``(n, k)`` matrix of
    target probabilities (one-hot rows for hard labels; rows of non-negative weights that do not
    sum to 1 scale their sample's loss by their sum). An index outside ``0..k-1`` (or a vector
    that is not of integers) or a negative target raises a ValueError.

    Notes
    -----
    With :math:`m = \\max_k z_k`, the log-partition :math:`m + \\log\\sum_k e^{z_k - m}` only
    exponentiates non-positive numbers, so it neither overflows nor loses the largest term. The
    gradient of the mean loss is :math:`(\\mathrm{softmax}(z) - Y)/n`.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import SoftmaxCrossEntropy
    >>> loss = SoftmaxCrossEntropy()
    >>> z = np.array([[1000.0, 0.0], [0.0, 0.0]])
    >>> round(loss.forward(z, np.array([1, 0])), 4)  # (1000 + log 2) / 2
    500.3466
    >>> loss.backward()
    array([[ 0.5 , -0.5 ],
           [-0.25,  0.25]])
    """

    def forward(self, z, target, sample_weight=None):
        z = _check_batch(z)
        n = z.shape[0]
        weight = _check_weight(sample_weight, n)
        target = np.asarray(target)
        shifted = _shifted_logits(z)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        log_partition = np.log(total)
        exp /= total
        if target.ndim == 1:
            if target.shape[0] != n:
                raise ValueError(f"target has {target.shape[0]} labels for {n} rows of z.")
            _check_class_indices(target, z.shape[1])
            rows = np.arange(n)
            picked = shifted[rows, target]
            exp[rows, target] -= 1.0
            per_sample = log_partition[:, 0] - picked
        else:
            if target.shape != z.shape:
                raise ValueError(f"target has shape {target.shape}, z has shape {z.shape}.")
            _check_finite_target(target)
            if target.min() < 0:  # the loss is unbounded below in z then
                raise ValueError(
                    f"target probabilities must be >= 0; the smallest is {target.min():g}."
                )
            mass = target.sum(axis=1, keepdims=True)
            # a zero target weighs nothing, even at a logit whose shift overflowed to -inf
            with np.errstate(invalid="ignore"):
                weighted = np.where(target != 0, target * shifted, 0.0)
            per_sample = log_partition[:, 0] * mass[:, 0] - weighted.sum(axis=1)
            exp *= mass
            exp -= target
        exp *= 1.0 / n
        self._grad = _weigh_grad(exp.astype(z.dtype, copy=False), weight)
        return _mean_loss(self, per_sample, z, weight)


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy with logits: ``z`` of shape ``(n, 1)``, targets in [0, 1].

    A target outside [0, 1] (or NaN) raises a ValueError.

    Notes
    -----
    :math:`-y\\log\\sigma(z) - (1-y)\\log(1-\\sigma(z)) = \\log(1 + e^z) - y z`, computed as
    :math:`\\max(z, 0) - y z + \\log(1 + e^{-|z|})`: no overflow and no :math:`\\log 0`. The gradient
    of the mean is :math:`(\\sigma(z) - y)/n`.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import BinaryCrossEntropy
    >>> loss = BinaryCrossEntropy()
    >>> loss.forward(np.array([[-800.0], [800.0]]), np.array([1.0, 0.0]))
    800.0
    """

    def forward(self, z, target, sample_weight=None):
        z = _check_batch(z)
        weight = _check_weight(sample_weight, z.shape[0])
        target = np.asarray(target)
        # the shape of z, or one label per row for one column of logits: a transposed (L, n)
        # target of n * L entries was reshaped into a different labelling (a review)
        one_label_a_row = z.shape[1] == 1 and target.shape == (z.shape[0],)
        if target.shape != z.shape and not one_label_a_row:
            raise ValueError(f"target has shape {target.shape}, z has shape {z.shape}.")
        if target.dtype.kind not in "biuf" or not (target.min() >= 0 and target.max() <= 1):
            raise ValueError(  # (the comparisons are also false for NaN)
                "target must hold numbers in [0, 1] (0/1 labels or probabilities of the positive "
                f"class), got {_describe(target)}."
            )
        target = target.astype(z.dtype, copy=False).reshape(z.shape)
        with np.errstate(over="ignore"):  # |z| near the largest float: refused by _mean_loss
            per_entry = np.maximum(z, 0) - target * z + np.log1p(np.exp(-np.abs(z)))
        self._grad = _weigh_grad((expit(z) - target) * (1.0 / z.shape[0]), weight)
        return _mean_loss(self, per_entry, z, weight)


class _RegressionLoss(Loss):
    """Shared shape handling: ``target`` of shape (n,) is matched to ``z`` of shape (n, 1).

    A target with NaN or infinity raises a ValueError. The loss is summed in float64; if the
    residuals ``z - target`` or the loss overflow all the same, a FloatingPointError says so (no
    ``inf`` is returned and no warning printed).
    """

    def forward(self, z, target, sample_weight=None):
        z = _check_batch(z)
        weight = _check_weight(sample_weight, z.shape[0])
        target = np.asarray(target)
        if target.ndim == 1:
            target = target.reshape(-1, 1)
        if target.shape != z.shape:
            raise ValueError(f"target has shape {target.shape}, z has shape {z.shape}.")
        _check_finite_target(target)
        try:
            with np.errstate(over="raise", invalid="raise"):
                # in z's type, as the gradient must be (float64 targets of a float32 network
                # made float64 gradients, which BatchNorm's backward could not write to float32)
                residual = z - target.astype(z.dtype, copy=False)
                per_entry, grad = self._value_and_grad(residual)
                value = float(np.sum(_weigh_rows(per_entry, weight), dtype=np.float64))
            if not math.isfinite(value):
                raise FloatingPointError
        except FloatingPointError:
            raise FloatingPointError(
                f"{type(self).__name__}: the residuals z - target or the loss overflow (the largest "
                f"|z| is {float(np.max(np.abs(z))):.3g}, the largest |target| "
                f"{float(np.max(np.abs(target))):.3g}): values this large must be scaled down."
            ) from None
        self._grad = _weigh_grad(grad / z.shape[0], weight)
        return value / z.shape[0]


class MeanSquaredError(_RegressionLoss):
    """Half the squared error, summed over outputs, averaged over samples.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import MeanSquaredError
    >>> MeanSquaredError().forward(np.array([[1.0], [3.0]]), np.array([0.0, 0.0]))
    2.5
    """

    def _value_and_grad(self, r):
        r64 = r.astype(np.float64, copy=False)  # squares of float32 residuals overflow from 2e19
        return 0.5 * (r64 * r64), r


class L1Loss(_RegressionLoss):
    """Absolute error, summed over outputs, averaged over samples (subgradient 0 at a zero residual).

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import L1Loss
    >>> L1Loss().forward(np.array([[1.0], [-3.0]]), np.array([0.0, 0.0]))
    2.0
    """

    def _value_and_grad(self, r):
        return np.abs(r, dtype=np.float64), np.sign(r)


def _positive_width(value, name):
    """``value`` as a float if it is a finite real number > 0 (not a bool); the errors name it."""
    value = _check_real(name, value)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return value


class Huber(_RegressionLoss):
    """Huber loss: quadratic for residuals up to ``delta``, linear beyond.

    Parameters
    ----------
    delta : float, default=1.0
        The threshold :math:`\\delta > 0` between the quadratic and the linear part.

    Notes
    -----
    :math:`h_\\delta(r) = \\frac12 r^2` for :math:`|r| \\le \\delta`, :math:`\\delta|r| -
    \\frac12\\delta^2` beyond; :math:`h_\\delta'(r) = \\mathrm{clip}(r, -\\delta, \\delta)`. The loss
    grows linearly, so one outlier moves the fit by a bounded amount (the gradient never exceeds
    :math:`\\delta`), while small residuals keep the smooth quadratic of least squares.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import Huber
    >>> Huber(delta=1.0).forward(np.array([[0.5], [3.0]]), np.array([0.0, 0.0]))  # (0.125 + 2.5) / 2
    1.3125
    """

    def __init__(self, delta=1.0):
        self.delta = _positive_width(delta, "delta")

    def _value_and_grad(self, r):
        a = np.abs(r, dtype=np.float64)
        d = self.delta
        inner = np.minimum(a, d)  # squares only of |r| <= delta: a large r does not overflow
        value = np.where(a <= d, 0.5 * inner * inner, d * (a - 0.5 * d))
        return value, np.clip(r, -d, d)

    def __repr__(self):
        return f"Huber(delta={self.delta:g})"


class SmoothL1(Huber):
    """Smooth L1 loss (Fast R-CNN): the Huber loss divided by ``beta``.

    Parameters
    ----------
    beta : float, default=1.0
        Width :math:`\\beta > 0` of the quadratic zone around 0.

    Notes
    -----
    :math:`\\frac{r^2}{2\\beta}` for :math:`|r| < \\beta`, :math:`|r| - \\frac\\beta2` beyond: it is
    the L1 loss with its kink at 0 rounded off, so its gradient is continuous (no jump from
    :math:`-1` to :math:`1`) and bounded by 1 (robust to outliers, unlike the squared error).

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import SmoothL1
    >>> SmoothL1(beta=1.0).forward(np.array([[0.5], [3.0]]), np.array([0.0, 0.0]))
    1.3125
    """

    def __init__(self, beta=1.0):
        self.beta = self.delta = _positive_width(beta, "beta")

    def _value_and_grad(self, r):
        value, grad = super()._value_and_grad(r)
        return value / self.beta, grad / self.beta

    def __repr__(self):
        return f"SmoothL1(beta={self.beta:g})"
