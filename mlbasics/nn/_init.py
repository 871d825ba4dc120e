"""Weight initialisers: each draws an array of a given shape from an explicit numpy Generator.

An initialiser is a function ``init(shape, rng, *, dtype, **options)``. For a weight matrix of a
dense layer, ``shape = (fan_in, fan_out)``: rows index the inputs, columns the units. For other
shapes the first axis is the fan-in and the product of the others the fan-out.

The variance rules, with :math:`n_\\mathrm{in}` = fan-in and :math:`n_\\mathrm{out}` = fan-out:

======================  ============================================================
``"normal"``            :math:`N(0, \\sigma^2)`, :math:`\\sigma` given (default 1)
``"uniform"``           :math:`U(-a, a)`, :math:`a` given (default 1)
``"xavier_normal"``     :math:`\\mathrm{Var} = 2 / (n_\\mathrm{in} + n_\\mathrm{out})`
``"xavier_uniform"``    :math:`U(-a, a)`, :math:`a = \\sqrt{6 / (n_\\mathrm{in} + n_\\mathrm{out})}`
``"he_normal"``         :math:`\\mathrm{Var} = 2 / n_\\mathrm{in}`
``"he_uniform"``        :math:`U(-a, a)`, :math:`a = \\sqrt{6 / n_\\mathrm{in}}`
``"orthogonal"``        a (semi-)orthogonal matrix times ``gain``
``"truncated_normal"``  :math:`N(0, \\sigma^2)` redrawn outside :math:`\\pm 2\\sigma`
``"zeros"``             zeros (biases)
======================  ============================================================

``"xavier"`` and ``"glorot"`` mean ``"xavier_uniform"``, ``"he"`` and ``"kaiming"`` mean
``"he_normal"``. See the theory page "Neural networks" for why these variances keep the signal's
scale through many layers.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "INITIALIZERS",
    "get_initializer",
    "he_normal",
    "he_uniform",
    "normal",
    "orthogonal",
    "truncated_normal",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

# The gain of He initialisation for ReLU.
SQRT2 = math.sqrt(2.0)
# Truncated normal: draws beyond TRUNCATION standard deviations are redrawn.
TRUNCATION = 2.0


def _fans(shape):
    shape = tuple(int(s) for s in shape)
    if not shape or any(s < 1 for s in shape):
        raise ValueError(f"shape must be a non-empty tuple of positive integers, got {shape!r}.")
    fan_in = shape[0]
    fan_out = math.prod(shape[1:]) if len(shape) > 1 else shape[0]
    return shape, fan_in, fan_out


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got "
            f"{type(rng).__name__}."
        )


def _check_scale(name, value):
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return value


def _scaled(values, scale, dtype, name, value):
    """``values * scale`` in ``dtype``; a ValueError naming ``name=value`` if that overflows.

    A huge scale (``std=1e300``, or a float32 result beyond 3.4e38) would otherwise give infinite
    weights with no more than a RuntimeWarning.
    """
    try:
        with np.errstate(over="raise"):
            return (values * scale).astype(dtype, copy=False)
    except FloatingPointError:
        raise ValueError(_too_large(name, value, dtype)) from None


def _too_large(name, value, dtype):
    return (
        f"{name}={value:.3g} makes the initial weights overflow {np.dtype(dtype).name} (they would "
        f"be infinite); use a far smaller {name}: weights of order 1/sqrt(fan_in) keep the "
        "activations' scale."
    )


def normal(shape, rng, *, dtype=np.float32, std=1.0):
    """Entries drawn from :math:`N(0, \\mathrm{std}^2)`.

    Parameters
    ----------
    shape : tuple of int
        Shape of the array, ``(fan_in, fan_out)`` for a dense layer.
    rng : numpy.random.Generator
        The only source of randomness.
    dtype : dtype, default=np.float32
        Floating-point type of the result.
    std : float, default=1.0
        Standard deviation. ``std=1`` is the plain ``N(0, 1)`` initialisation whose activations
        grow like :math:`(\\sqrt{n_\\mathrm{in}/2})^L` through :math:`L` ReLU layers.

    Returns
    -------
    ndarray of shape ``shape``

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import init
    >>> W = init.normal((500, 400), np.random.default_rng(0), std=0.1)
    >>> W.dtype, round(float(W.std()), 2)
    (dtype('float32'), 0.1)
    """
    shape, _, _ = _fans(shape)
    _check_rng(rng)
    std = _check_scale("std", std)
    return _scaled(rng.standard_normal(shape), std, dtype, "std", std)


def uniform(shape, rng, *, dtype=np.float32, limit=1.0):
    """Entries drawn from :math:`U(-\\mathrm{limit}, \\mathrm{limit})` (variance limit² / 3).

    Parameters
    ----------
    shape : tuple of int
        Shape of the array.
    rng : numpy.random.Generator
        The only source of randomness.
    dtype : dtype, default=np.float32
        Floating-point type of the result.
    limit : float, default=1.0
        Half-width of the interval, > 0.

    Returns
    -------
    ndarray of shape ``shape``
    """
    shape, _, _ = _fans(shape)
    _check_rng(rng)
    limit = _check_scale("limit", limit)
    try:
        values = rng.uniform(-limit, limit, size=shape)
    except OverflowError:  # the width 2 * limit overflows float64
        raise ValueError(_too_large("limit", limit, np.float64)) from None
    return _scaled(values, 1.0, dtype, "limit", limit)


def xavier_normal(shape, rng, *, dtype=np.float32, gain=1.0):
    """Glorot and Bengio's rule, normal: :math:`\\mathrm{std} = g\\sqrt{2/(n_\\mathrm{in}+n_\\mathrm{out})}`.

    Parameters
    ----------
    shape : tuple of int
        Shape of the array, ``(fan_in, fan_out)``.
    rng : numpy.random.Generator
        The only source of randomness.
    dtype : dtype, default=np.float32
        Floating-point type of the result.
    gain : float, default=1.0
        Factor :math:`g` on the standard deviation (1 for tanh and linear units).

    Returns
    -------
    ndarray of shape ``shape``

    Notes
    -----
    Keeping the variance of the activations constant in the forward pass needs
    :math:`n_\\mathrm{in} \\mathrm{Var}(W) = 1`; keeping that of the gradients constant in the
    backward pass needs :math:`n_\\mathrm{out} \\mathrm{Var}(W) = 1`. The harmonic compromise is
    :math:`\\mathrm{Var}(W) = 2/(n_\\mathrm{in} + n_\\mathrm{out})`.

    References
    ----------
    .. [1] X. Glorot and Y. Bengio. Understanding the difficulty of training deep feedforward
       neural networks. *AISTATS*, 2010.
    """
    shape, fan_in, fan_out = _fans(shape)
    gain = _check_scale("gain", gain)
    return normal(shape, rng, dtype=dtype, std=gain * math.sqrt(2.0 / (fan_in + fan_out)))


def xavier_uniform(shape, rng, *, dtype=np.float32, gain=1.0):
    """Glorot and Bengio's rule, uniform: :math:`a = g\\sqrt{6/(n_\\mathrm{in}+n_\\mathrm{out})}`.

    The variance :math:`a^2/3` equals that of :func:`xavier_normal`.

    Parameters
    ----------
    shape : tuple of int
        Shape of the array, ``(fan_in, fan_out)``.
    rng : numpy.random.Generator
        The only source of randomness.
    dtype : dtype, default=np.float32
        Floating-point type of the result.
    gain : float, default=1.0
        Factor on the half-width.

    Returns
    -------
    ndarray of shape ``shape``
    """
    shape, fan_in, fan_out = _fans(shape)
    gain = _check_scale("gain", gain)
    return uniform(shape, rng, dtype=dtype, limit=gain * math.sqrt(6.0 / (fan_in + fan_out)))


def he_normal(shape, rng, *, dtype=np.float32, gain=SQRT2):
    """He et al.'s rule, normal: :math:`\\mathrm{std} = g / \\sqrt{n_\\mathrm{in}}`, :math:`g = \\sqrt2`.

    Parameters
    ----------
    shape : tuple of int
        Shape of the array, ``(fan_in, fan_out)``.
    rng : numpy.random.Generator
        The only source of randomness.
    dtype : dtype, default=np.float32
        Floating-point type of the result.
    gain : float, default=sqrt(2)
        :math:`\\sqrt{2}` for ReLU; :math:`\\sqrt{2/(1+a^2)}` for a leaky ReLU of slope :math:`a`.

    Returns
    -------
    ndarray of shape ``shape``

    Notes
    -----
    A ReLU zeroes half of a symmetric input, so :math:`E[\\mathrm{relu}(z)^2] = \\mathrm{Var}(z)/2`.
    With :math:`z = W^\\top x`, :math:`\\mathrm{Var}(z_j) = n_\\mathrm{in} \\mathrm{Var}(W)\\,
    E[x_i^2]`, so :math:`\\mathrm{Var}(W) = 2/n_\\mathrm{in}` makes the second moment of the
    activations the same in every layer.

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren and J. Sun. Delving deep into rectifiers: surpassing human-level
       performance on ImageNet classification. *ICCV*, 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import init
    >>> W = init.he_normal((800, 600), np.random.default_rng(0))
    >>> round(float(W.var() * 800), 1)
    2.0
    """
    shape, fan_in, _ = _fans(shape)
    gain = _check_scale("gain", gain)
    return normal(shape, rng, dtype=dtype, std=gain / math.sqrt(fan_in))


def he_uniform(shape, rng, *, dtype=np.float32, gain=SQRT2):
    """He et al.'s rule, uniform: :math:`a = g\\sqrt{3/n_\\mathrm{in}}` (variance :math:`g^2/n_\\mathrm{in}`).

    Parameters
    ----------
    shape : tuple of int
        Shape of the array, ``(fan_in, fan_out)``.
    rng : numpy.random.Generator
        The only source of randomness.
    dtype : dtype, default=np.float32
        Floating-point type of the result.
    gain : float, default=sqrt(2)
        As in :func:`he_normal`.

    Returns
    -------
    ndarray of shape ``shape``
    """
    shape, fan_in, _ = _fans(shape)
    gain = _check_scale("gain", gain)
    return uniform(shape, rng, dtype=dtype, limit=gain * math.sqrt(3.0 / fan_in))


def orthogonal(shape, rng, *, dtype=np.float32, gain=1.0):
    """A random (semi-)orthogonal matrix times ``gain`` (Saxe, McClelland and Ganguli).

    The rows (if ``fan_in <= fan_out``) or the columns are orthonormal. The matrix is the Q factor
    of a Gaussian matrix, its columns' signs fixed by the diagonal of R so that it is uniformly
    distributed (Haar measure).

    Parameters
    ----------
    shape : tuple of int
        Shape, ``(fan_in, fan_out)``; further axes are flattened into the fan-out.
    rng : numpy.random.Generator
        The only source of randomness.
    dtype : dtype, default=np.float32
        Floating-point type of the result.
    gain : float, default=1.0
        Scale; use :math:`\\sqrt 2` before ReLU units.

    Returns
    -------
    ndarray of shape ``shape``

    References
    ----------
    .. [1] A. M. Saxe, J. L. McClelland and S. Ganguli. Exact solutions to the nonlinear dynamics of
       learning in deep linear neural networks. *ICLR*, 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import init
    >>> Q = init.orthogonal((5, 3), np.random.default_rng(0), dtype=np.float64)
    >>> bool(np.allclose(Q.T @ Q, np.eye(3)))
    True
    """
    shape, fan_in, fan_out = _fans(shape)
    if len(shape) < 2:
        raise ValueError(
            f"orthogonal needs a shape of at least 2 dimensions (fan_in, fan_out), got {shape!r}."
        )
    _check_rng(rng)
    gain = _check_scale("gain", gain)
    rows, cols = max(fan_in, fan_out), min(fan_in, fan_out)
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)
    if fan_in < fan_out:
        q = q.T
    return _scaled(q, gain, dtype, "gain", gain).reshape(shape)


def truncated_normal(shape, rng, *, dtype=np.float32, std=1.0):
    """:math:`N(0, \\mathrm{std}^2)` restricted to :math:`[-2\\,\\mathrm{std}, 2\\,\\mathrm{std}]`.

    Draws outside the interval are redrawn until none is left, so no weight is an outlier. The
    standard deviation of the result is about ``0.88 * std``.

    Parameters
    ----------
    shape : tuple of int
        Shape of the array.
    rng : numpy.random.Generator
        The only source of randomness.
    dtype : dtype, default=np.float32
        Floating-point type of the result.
    std : float, default=1.0
        Standard deviation of the normal distribution before truncation.

    Returns
    -------
    ndarray of shape ``shape``

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.nn import init
    >>> W = init.truncated_normal((100, 100), np.random.default_rng(0), std=0.5)
    >>> bool(np.abs(W).max() <= 1.0)
    True
    """
    shape, _, _ = _fans(shape)
    _check_rng(rng)
    std = _check_scale("std", std)
    values = rng.standard_normal(shape)
    outside = np.abs(values) > TRUNCATION
    while outside.any():  # each round keeps 95 % of what it redraws
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > TRUNCATION
    return _scaled(values, std, dtype, "std", std)


def zeros(shape, rng=None, *, dtype=np.float32):
    """An array of zeros (the initial biases); ``rng`` is accepted and ignored.

    Parameters
    ----------
    shape : tuple of int
        Shape of the array.
    rng : numpy.random.Generator or None, default=None
        Ignored.
    dtype : dtype, default=np.float32
        Floating-point type of the result.

    Returns
    -------
    ndarray of shape ``shape``
    """
    shape, _, _ = _fans(shape)
    return np.zeros(shape, dtype=dtype)


INITIALIZERS = {
    "normal": normal,
    "uniform": uniform,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "orthogonal": orthogonal,
    "truncated_normal": truncated_normal,
    "zeros": zeros,
}
"""Every initialiser by name."""

ALIASES = {
    "xavier": "xavier_uniform",
    "glorot": "xavier_uniform",
    "glorot_uniform": "xavier_uniform",
    "glorot_normal": "xavier_normal",
    "he": "he_normal",
    "kaiming": "he_normal",
    "kaiming_normal": "he_normal",
    "kaiming_uniform": "he_uniform",
}


def get_initializer(init):
    """The initialiser called ``init`` (a name or alias), or ``init`` itself if it is callable.

    Parameters
    ----------
    init : str or callable
        A key of :data:`INITIALIZERS`, an alias (``"he"``, ``"kaiming"``, ``"xavier"``,
        ``"glorot"``, ...) or a function ``init(shape, rng, *, dtype)``.

    Returns
    -------
    callable

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid ones.
    """
    if callable(init):
        return init
    if isinstance(init, str):
        key = ALIASES.get(init, init)
        if key in INITIALIZERS:
            return INITIALIZERS[key]
    valid = ", ".join(repr(name) for name in [*INITIALIZERS, *ALIASES])
    raise ValueError(f"Unknown initialiser {init!r}; valid names are {valid}.")
