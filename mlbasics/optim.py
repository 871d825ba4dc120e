"""First-order update rules, learning-rate schedules and gradient clipping.

This module is the optimizer zoo shared by the SGD solvers of ``mlbasics.linear_model`` and by the
neural networks of ``mlbasics.nn``. It imports only numpy, so any part of mlbasics may use it.

Update rules
    An update rule is built from a **list of parameter arrays** (floating-point numpy arrays, which
    it updates *in place*) and keeps its state (velocities, running averages) in lists aligned with
    that list: ``state[name][i]`` has the shape of ``params[i]``. ``step(grads)`` takes the
    gradients, a list of arrays of the same shapes, and moves every parameter once.
    :func:`~mlbasics.optim.make_optimizer` builds one by name: ``"sgd"``, ``"momentum"``,
    ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``, ``"adadelta"``, ``"adam"``, ``"nadam"``.

Learning-rate schedules
    :func:`~mlbasics.optim.make_schedule` returns an object with ``rate(t)``, the learning rate of
    the update made after ``t`` updates (``t`` starts at **0**), and ``end_epoch(objective)``,
    called once per pass over the data, which returns ``False`` when the ``"adaptive"`` schedule has
    given up; ``rates(t_start, count)`` gives the rates of ``count`` consecutive updates at once. A training loop copies the rate into the optimizer's ``learning_rate`` attribute
    before each step.

Gradient clipping
    :func:`~mlbasics.optim.clip_grad_norm` rescales a list of gradients in place so that their joint
    Euclidean norm is at most ``max_norm``, to rounding (a few units in the last place above it).

A training loop with all three (the gradient of ``0.5 * ||w - 1||^2`` is ``w - 1``):

>>> import numpy as np
>>> from mlbasics.optim import clip_grad_norm, make_optimizer, make_schedule
>>> w = np.zeros(3)
>>> optimizer = make_optimizer("momentum", [w], learning_rate=0.1, momentum=0.9)
>>> schedule = make_schedule("invscaling", eta0=0.1, power_t=0.25)
>>> for t in range(300):
...     grad = w - 1.0
...     _ = clip_grad_norm([grad], max_norm=1.0)
...     optimizer.learning_rate = schedule.rate(t)
...     optimizer.step([grad])
>>> bool(np.allclose(w, 1.0))
True

Numerical safety: every denominator carries an ``eps > 0`` or a factor bounded away from zero, so no
division by zero can occur. A non-finite gradient, or an update that overflows (the iterates are
diverging), raises a ``FloatingPointError`` that names the learning rate instead of filling the
parameters with ``inf`` and ``nan`` while printing warnings. A gradient so large that its square
overflows (the rules that average squared gradients: AdaGrad, RMSProp, AdaDelta, Adam, Nadam) raises
one that says so and suggests clipping or rescaling, since a smaller learning rate would not help.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import ClassVar

import numpy as np

from ._validation import as_float

__all__ = [
    "SGD",
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "AdaptiveSchedule",
    "ConstantSchedule",
    "InvScalingSchedule",
    "Momentum",
    "Nadam",
    "Nesterov",
    "OptimalSchedule",
    "Optimizer",
    "RMSProp",
    "Schedule",
    "clip_grad_norm",
    "make_optimizer",
    "make_schedule",
]

# The "adaptive" schedule divides its rate by ADAPTIVE_DIVISOR after a plateau and gives up once the
# rate has fallen below MIN_ADAPTIVE_RATE (the constants of scikit-learn's SGD).
ADAPTIVE_DIVISOR = 5.0
MIN_ADAPTIVE_RATE = 1e-6


# -- validation of hyper-parameters ----------------------------------------------------------------


def _check_number(name, value, *, low, high, low_closed=False, high_closed=False):
    """Return ``value`` as a float if it lies in the interval, else raise a ValueError naming it.

    A value that is not a real number (a string such as ``"0.1"``, a bool, None, an array) raises a
    TypeError naming it instead of being converted.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}.")
    number = as_float(value)  # (an int beyond float64: inf, outside any interval checked here)
    above = number >= low if low_closed else number > low
    below = number <= high if high_closed else number < high
    if not (above and below and np.isfinite(number)):
        left = "[" if low_closed else "("
        right = "]" if high_closed else ")"
        raise ValueError(f"{name} must be in {left}{low:g}, {high:g}{right}, got {value!r}.")
    return number


def _check_plateau(n_iter_no_change) -> int:
    """A plateau length: an integer >= 1 (a TypeError for a value that is not a real number, as
    :func:`_check_number`; a ValueError for one that is not a whole number >= 1)."""
    if isinstance(n_iter_no_change, bool | np.bool_) or not isinstance(n_iter_no_change, Real):
        raise TypeError(
            "n_iter_no_change must be an integer, got "
            f"{type(n_iter_no_change).__name__} {n_iter_no_change!r}."
        )
    if not isinstance(n_iter_no_change, Integral) or n_iter_no_change < 1:
        raise ValueError(f"n_iter_no_change must be an integer >= 1, got {n_iter_no_change!r}.")
    return int(n_iter_no_change)


def _check_tol(tol):
    """An improvement threshold: None (no rule) or a number >= 0."""
    return None if tol is None else _check_number("tol", tol, low=0.0, high=np.inf, low_closed=True)


def _check_positive(name, value):
    """A finite number > 0 (learning rates, eps, alpha, max_norm)."""
    return _check_number(name, value, low=0.0, high=np.inf)


def _check_momentum(name, value):
    """A momentum-type coefficient: 0 <= value < 1 (0 switches the averaging off)."""
    return _check_number(name, value, low=0.0, high=1.0, low_closed=True)


def _check_decay(name, value):
    """A decay rate of a running average of squares: 0 < value < 1."""
    return _check_number(name, value, low=0.0, high=1.0)


class _GradientOverflowError(FloatingPointError):
    """The squares of a gradient overflow: a smaller learning rate would not help (clip instead)."""


class _SquareOverflow(Exception):
    """Raised inside ``step`` when the squares of ``grads[index]`` (or their sum) overflow."""

    def __init__(self, index):
        super().__init__(index)
        self.index = index


def _add_squares(accumulator, grad, weight, i):
    """``accumulator += weight * grad * grad`` in place (``grad * grad`` when ``weight`` is None),
    under ``step``'s ``errstate``: an overflow raises :class:`_SquareOverflow` for ``grads[i]``."""
    try:
        accumulator += grad * grad if weight is None else weight * grad * grad
    except FloatingPointError:
        raise _SquareOverflow(i) from None


# -- update rules ----------------------------------------------------------------------------------


class Optimizer:
    """Base class of the update rules: parameters, aligned state, ``step`` and ``reset``.

    A subclass sets the class attributes ``name`` (its key for
    :func:`~mlbasics.optim.make_optimizer`; setting it registers the class) and ``state_names`` (the
    names of its per-parameter state lists), stores its hyper-parameters in ``__init__`` and writes
    ``_update(i, param, grad)``, the rule for one parameter array. Everything else (checking the
    gradients, counting steps, clearing the state, turning an overflow into a readable error) is
    done here once.

    Parameters
    ----------
    params : list of ndarray
        The parameter arrays, of any shapes, with a floating-point dtype. They are updated in place,
        so the caller's arrays (a layer's weights, a model's coefficients) always hold the current
        iterate.
    learning_rate : float
        Step size, > 0. It is an ordinary attribute: a schedule may change it between steps.

    Attributes
    ----------
    params : list of ndarray
        The arrays passed in (the same objects, not copies).
    n_steps : int
        Number of steps taken since construction or the last :meth:`reset`; the ``t`` of the update
        formulas is ``n_steps`` during the step (so the first step has ``t = 1``).
    state : dict of str to list of ndarray
        The state of the rule, one list per name in ``state_names``, each aligned with ``params``.
    registry : dict of str to type
        Class attribute: every update rule by its ``name``.
    """

    name: ClassVar[str | None] = None
    state_names: ClassVar[tuple[str, ...]] = ()
    hyper_parameters: ClassVar[tuple[str, ...]] = ()
    registry: ClassVar[dict[str, type[Optimizer]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ and cls.name is not None:
            Optimizer.registry[cls.name] = cls

    def __init__(self, params, learning_rate):
        if isinstance(params, np.ndarray):
            raise TypeError("params must be a list of arrays; wrap a single array as [array].")
        self.params = list(params)
        if not self.params:
            raise ValueError("params is empty: give at least one parameter array.")
        for i, param in enumerate(self.params):
            if not isinstance(param, np.ndarray) or not np.issubdtype(param.dtype, np.floating):
                raise TypeError(
                    f"params[{i}] must be a numpy array with a floating-point dtype (it is updated "
                    f"in place), got {type(param).__name__} of dtype {getattr(param, 'dtype', '?')}."
                )
            if param.dtype.itemsize < 4:
                raise TypeError(
                    f"params[{i}] has dtype {param.dtype}; use float32 or float64 (in float16 the "
                    "eps of the adaptive rules rounds to 0 and small squared gradients vanish)."
                )
            if not param.flags.writeable:
                raise ValueError(f"params[{i}] is read-only; it must be updated in place.")
            for j in range(i):
                if np.may_share_memory(param, self.params[j]) and np.shares_memory(
                    param, self.params[j]
                ):
                    raise ValueError(
                        f"params[{j}] and params[{i}] share memory; every step would move the "
                        "shared entries twice. Give each array once."
                    )
        self.learning_rate = learning_rate
        self.reset()

    @property
    def learning_rate(self):
        """Step size, > 0; checked whenever it is set (by the user or by a schedule)."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = _check_positive("learning_rate", value)

    @property
    def state(self):
        """The per-parameter state lists, by name (empty for plain SGD)."""
        return {name: getattr(self, name) for name in self.state_names}

    def reset(self):
        """Forget the past: zero every state array and set ``n_steps`` back to 0.

        The parameters themselves are left as they are.
        """
        self.n_steps = 0
        for name in self.state_names:
            setattr(self, name, [np.zeros_like(param) for param in self.params])

    def step(self, grads):
        """Move every parameter once, in place, given the gradients at the current parameters.

        Parameters
        ----------
        grads : list of ndarray
            ``grads[i]`` is the gradient of the objective with respect to ``params[i]`` (same shape).
            The arrays are read, never modified.

        Raises
        ------
        FloatingPointError
            If a gradient is not finite, or the update overflows: the iterates are diverging, and
            the message says so and gives the learning rate. If the square of a gradient overflows
            (the adaptive rules), or a gradient exceeds the largest number of its parameter's
            dtype, the message says that instead and suggests clipping or rescaling the gradients.
            The parameters may then be partly updated.
        """
        grads = [np.asarray(grad) for grad in grads]
        if len(grads) != len(self.params):
            raise ValueError(
                f"Got {len(grads)} gradient arrays for {len(self.params)} parameter arrays."
            )
        for i, (param, grad) in enumerate(zip(self.params, grads, strict=True)):
            if np.shape(grad) != param.shape:
                raise ValueError(
                    f"grads[{i}] has shape {np.shape(grad)}, but params[{i}] has shape "
                    f"{param.shape}."
                )
            if grad.dtype.kind not in "biuf":
                raise TypeError(f"grads[{i}] must hold real numbers, got dtype {grad.dtype}.")
            if grad.dtype.kind != "f" or grad.dtype.itemsize < param.dtype.itemsize:
                # integer squares would wrap around silently, and a narrower float's overflow
                # before the parameter's would be reported as the parameter's
                grads[i] = grad = grad.astype(param.dtype)
            if not np.all(np.isfinite(grad)):
                raise FloatingPointError(
                    f"{type(self).__name__}: grads[{i}] contains NaN or infinity at step "
                    f"{self.n_steps + 1}; the iterates have probably diverged. Try a smaller "
                    f"learning_rate (now {self.learning_rate:g}) or clip the gradients."
                )
            wider = grad.dtype.itemsize > param.dtype.itemsize
            if wider and np.max(np.abs(grad), initial=0.0) > float(np.finfo(param.dtype).max):
                raise _GradientOverflowError(
                    f"{type(self).__name__}: grads[{i}] has values up to "
                    f"{float(np.max(np.abs(grad))):.3g}, beyond the largest {param.dtype} "
                    f"({float(np.finfo(param.dtype).max):.3g}) of params[{i}], so no update in "
                    f"{param.dtype} can use it and a smaller learning_rate does not help. Scale "
                    "the objective or the features, clip the gradients (clip_grad_norm), or use "
                    "float64 parameters."
                )
        self.n_steps += 1
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                for i, (param, grad) in enumerate(zip(self.params, grads, strict=True)):
                    self._update(i, param, grad)
        except _SquareOverflow as error:
            raise _GradientOverflowError(
                self._square_overflow_message(error.index, grads)
            ) from None
        except FloatingPointError as error:
            raise FloatingPointError(
                f"{type(self).__name__}: the update of step {self.n_steps} overflowed ({error}); "
                f"the iterates are diverging. Try a smaller learning_rate (now "
                f"{self.learning_rate:g}) or clip the gradients."
            ) from None

    def _update(self, i, param, grad):
        """Apply the rule to ``param`` (the i-th parameter) in place."""
        raise NotImplementedError

    def step_scale(self, i):
        """The rule's step per unit gradient on ``params[i]``, in its current state.

        A float, or an array of the shape of ``params[i]`` for the rules that scale each
        coordinate: the factor :math:`d` such that a gradient :math:`g` held constant from now on
        moves the parameter by :math:`-d\\,g` per step (once the rule's averages have settled).
        A penalty handled outside the gradient must shrink by the same factor to keep the
        minimiser: this is the metric of the proximal L1 step of
        :class:`mlbasics.LogisticRegression`'s SGD solver.
        """
        raise NotImplementedError

    def _square_overflow_message(self, i, grads):
        """The message for gradients whose squares (or their running sum) overflow."""
        dtype = self.params[i].dtype
        largest = float(np.max(np.abs(grads[i]))) if np.size(grads[i]) else 0.0
        limit = float(np.sqrt(np.finfo(dtype).max))
        message = (
            f"{type(self).__name__}: at step {self.n_steps} the squared gradient overflowed "
            f"{dtype} (largest |grads[{i}]| is {largest:.3g}; squares overflow beyond about "
            f"{limit:.3g}, and a running sum of squares sooner). {type(self).__name__} divides by "
            "the root of the averaged squared gradients, so a smaller learning_rate does not help "
            "here: clip the gradients (clip_grad_norm, or clip_norm in the estimators), or scale "
            "the objective or the features so that the gradients are smaller"
        )
        if self.n_steps > 1:
            message += (
                f"; if they grew over the previous steps, the iterates are diverging and a smaller "
                f"learning_rate (now {self.learning_rate:g}) may help too"
            )
        return message + "."

    def __repr__(self):
        hyper = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in ("learning_rate", *self.hyper_parameters)
        )
        return f"{type(self).__name__}({hyper}, n_params={len(self.params)})"


class SGD(Optimizer):
    """Plain (stochastic) gradient descent: a step against the gradient.

    Parameters
    ----------
    params : list of ndarray
        Parameter arrays with a floating-point dtype, updated in place.
    learning_rate : float, default=0.01
        Step size :math:`\\eta > 0`.

    See Also
    --------
    Momentum, Nesterov : add a velocity to damp zig-zags along steep directions.

    Notes
    -----
    .. math::

        \\theta_t = \\theta_{t-1} - \\eta\\, g_t,

    where :math:`g_t` is the gradient passed to :meth:`~mlbasics.optim.Optimizer.step`: the gradient
    of the full objective (batch gradient descent), of a mini-batch, or of one sample (stochastic
    gradient descent). The rule is the same; only the gradient's noise differs. The rule keeps no
    state.

    References
    ----------
    .. [1] L. Bottou. Stochastic gradient descent tricks. In *Neural Networks: Tricks of the Trade*,
       2nd edition, LNCS 7700, pages 421–436. Springer, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.optim import SGD
    >>> w = np.array([1.0, -2.0])
    >>> SGD([w], learning_rate=0.5).step([np.array([1.0, 1.0])])
    >>> w
    array([ 0.5, -2.5])
    """

    name = "sgd"

    def __init__(self, params, learning_rate=0.01):
        super().__init__(params, learning_rate)

    def _update(self, i, param, grad):
        param -= self.learning_rate * grad

    def step_scale(self, i):
        """:math:`\\eta`."""
        return self.learning_rate


class Momentum(Optimizer):
    """Gradient descent with momentum (Polyak's heavy ball).

    Parameters
    ----------
    params : list of ndarray
        Parameter arrays with a floating-point dtype, updated in place.
    learning_rate : float, default=0.01
        Step size :math:`\\eta > 0`.
    momentum : float, default=0.9
        :math:`\\mu` in [0, 1): the fraction of the previous step kept. 0 gives plain SGD.

    Attributes
    ----------
    velocity : list of ndarray
        :math:`v`, the last step taken, one array per parameter.

    See Also
    --------
    Nesterov : the same velocity with the gradient taken at the look-ahead point.

    Notes
    -----
    With :math:`v_0 = 0`,

    .. math::

        v_t = \\mu\\, v_{t-1} - \\eta\\, g_t, \\qquad \\theta_t = \\theta_{t-1} + v_t .

    The velocity is an exponentially weighted sum of the past gradients,
    :math:`v_t = -\\eta \\sum_{s \\le t} \\mu^{t-s} g_s`: components that keep their sign add up (up
    to a factor :math:`1/(1-\\mu)`, 10 for the default), components that flip sign from step to step
    cancel. The learning rate sits inside the velocity, so when a schedule changes it, past steps keep
    the rate they were taken with.

    References
    ----------
    .. [1] B. T. Polyak. Some methods of speeding up the convergence of iteration methods. *USSR
       Computational Mathematics and Mathematical Physics* 4(5):1–17, 1964.
    .. [2] I. Sutskever, J. Martens, G. Dahl and G. Hinton. On the importance of initialization and
       momentum in deep learning. *ICML*, 2013.
    """

    name = "momentum"
    state_names = ("velocity",)
    hyper_parameters = ("momentum",)

    def __init__(self, params, learning_rate=0.01, momentum=0.9):
        self.momentum = _check_momentum("momentum", momentum)
        super().__init__(params, learning_rate)

    def _update(self, i, param, grad):
        velocity = self.velocity[i]
        velocity *= self.momentum
        velocity -= self.learning_rate * grad
        param += velocity

    def step_scale(self, i):
        """:math:`\\eta / (1 - \\mu)`: the velocity of a constant gradient settles at
        :math:`-\\eta g / (1 - \\mu)` (the same for Nesterov's look-ahead)."""
        return self.learning_rate / (1.0 - self.momentum)


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, in the look-ahead form that needs only the current gradient.

    Parameters
    ----------
    params : list of ndarray
        Parameter arrays with a floating-point dtype, updated in place. They hold the *look-ahead*
        point (see Notes).
    learning_rate : float, default=0.01
        Step size :math:`\\eta > 0`.
    momentum : float, default=0.9
        :math:`\\mu` in [0, 1). 0 gives plain SGD.

    Attributes
    ----------
    velocity : list of ndarray
        :math:`v`, one array per parameter.

    See Also
    --------
    Momentum : the heavy ball, which takes the gradient before the momentum step.

    Notes
    -----
    Sutskever et al. (2013) write Nesterov's method as momentum whose gradient is taken at the point
    the momentum is about to carry us to:

    .. math::

        v_t = \\mu\\, v_{t-1} - \\eta\\, \\nabla f(\\theta_{t-1} + \\mu v_{t-1}),
        \\qquad \\theta_t = \\theta_{t-1} + v_t .

    A training loop only has the gradient at the parameters it holds, so this class stores the
    look-ahead point :math:`\\phi_t = \\theta_t + \\mu v_t` instead of :math:`\\theta_t`
    (Bengio, Boulanger-Lewandowski and Pascanu 2013). Substituting gives

    .. math::

        v_t = \\mu\\, v_{t-1} - \\eta\\, g_t, \\qquad
        \\phi_t = \\phi_{t-1} + \\mu\\, v_t - \\eta\\, g_t, \\qquad g_t = \\nabla f(\\phi_{t-1}),

    which is what :meth:`~mlbasics.optim.Optimizer.step` computes: the gradient is at the current
    parameters. Compared with :class:`~mlbasics.optim.Momentum`, whose step is the new velocity, the
    step is the new velocity once more scaled by :math:`\\mu` plus a fresh gradient step.
    At the end of training :math:`\\phi` and :math:`\\theta` differ by :math:`\\mu v_t`, which
    vanishes as the method converges.

    References
    ----------
    .. [1] Y. Nesterov. A method for solving the convex programming problem with convergence rate
       :math:`O(1/k^2)`. *Soviet Mathematics Doklady* 27:372–376, 1983.
    .. [2] I. Sutskever, J. Martens, G. Dahl and G. Hinton. On the importance of initialization and
       momentum in deep learning. *ICML*, 2013.
    .. [3] Y. Bengio, N. Boulanger-Lewandowski and R. Pascanu. Advances in optimizing recurrent
       networks. *ICASSP*, 2013.
    """

    name = "nesterov"

    def _update(self, i, param, grad):
        velocity = self.velocity[i]
        step = self.learning_rate * grad
        velocity *= self.momentum
        velocity -= step
        param += self.momentum * velocity
        param -= step


class AdaGrad(Optimizer):
    """AdaGrad: a learning rate per coordinate, divided by the root of its summed squared gradients.

    Parameters
    ----------
    params : list of ndarray
        Parameter arrays with a floating-point dtype, updated in place.
    learning_rate : float, default=0.01
        :math:`\\eta > 0`, the step of a coordinate whose gradients have all had the same size.
    eps : float, default=1e-10
        :math:`\\epsilon > 0`, added to the root so that a coordinate with zero gradients so far
        causes no division by zero (the value of PyTorch; it is too small to matter otherwise).

    Attributes
    ----------
    sum_squares : list of ndarray
        :math:`s`, the running sum of squared gradients, one array per parameter.

    Notes
    -----
    With :math:`s_0 = 0` and all operations element by element,

    .. math::

        s_t = s_{t-1} + g_t \\odot g_t, \\qquad
        \\theta_t = \\theta_{t-1} - \\frac{\\eta}{\\sqrt{s_t} + \\epsilon} \\odot g_t .

    Coordinates with large or frequent gradients get small steps, rare ones (a sparse feature) large
    ones. Because :math:`s_t` only grows, the effective rate :math:`\\eta / (\\sqrt{s_t} + \\epsilon)`
    only shrinks; this suits convex problems and hurts long non-convex runs, which is what
    :class:`~mlbasics.optim.RMSProp` fixes.

    References
    ----------
    .. [1] J. Duchi, E. Hazan and Y. Singer. Adaptive subgradient methods for online learning and
       stochastic optimization. *Journal of Machine Learning Research* 12:2121–2159, 2011.
    """

    name = "adagrad"
    state_names = ("sum_squares",)
    hyper_parameters = ("eps",)

    def __init__(self, params, learning_rate=0.01, eps=1e-10):
        self.eps = _check_positive("eps", eps)
        super().__init__(params, learning_rate)

    def _update(self, i, param, grad):
        sum_squares = self.sum_squares[i]
        _add_squares(sum_squares, grad, None, i)
        param -= self.learning_rate * grad / (np.sqrt(sum_squares) + self.eps)

    def step_scale(self, i):
        """:math:`\\eta / (\\sqrt{s_t} + \\epsilon)` per coordinate."""
        return self.learning_rate / (np.sqrt(self.sum_squares[i]) + self.eps)


class RMSProp(Optimizer):
    """RMSProp: AdaGrad with a running *average* of squared gradients, so the rate can recover.

    Parameters
    ----------
    params : list of ndarray
        Parameter arrays with a floating-point dtype, updated in place.
    learning_rate : float, default=0.001
        :math:`\\eta > 0` (Hinton's suggestion).
    decay : float, default=0.9
        :math:`\\rho` in (0, 1), the weight of the past in the running average.
    eps : float, default=1e-8
        :math:`\\epsilon > 0`, added to the root in the denominator.

    Attributes
    ----------
    mean_square : list of ndarray
        :math:`s`, the running average of squared gradients, one array per parameter.

    Notes
    -----
    With :math:`s_0 = 0`,

    .. math::

        s_t = \\rho\\, s_{t-1} + (1 - \\rho)\\, g_t \\odot g_t, \\qquad
        \\theta_t = \\theta_{t-1} - \\frac{\\eta}{\\sqrt{s_t} + \\epsilon} \\odot g_t .

    :math:`s_t` averages over roughly the last :math:`1/(1-\\rho)` steps (10 for the default), so
    :math:`\\sqrt{s_t}` is the recent root-mean-square of the gradient: every coordinate moves by
    about :math:`\\eta` per step whatever the scale of its gradient. The early steps are larger than
    that, since :math:`s_t` starts at 0 (no bias correction, unlike :class:`~mlbasics.optim.Adam`).

    References
    ----------
    .. [1] T. Tieleman and G. Hinton. Lecture 6.5 — RMSProp: divide the gradient by a running average
       of its recent magnitude. *COURSERA: Neural Networks for Machine Learning*, 2012.
    """

    name = "rmsprop"
    state_names = ("mean_square",)
    hyper_parameters = ("decay", "eps")

    def __init__(self, params, learning_rate=0.001, decay=0.9, eps=1e-8):
        self.decay = _check_decay("decay", decay)
        self.eps = _check_positive("eps", eps)
        super().__init__(params, learning_rate)

    def _update(self, i, param, grad):
        mean_square = self.mean_square[i]
        mean_square *= self.decay
        _add_squares(mean_square, grad, 1.0 - self.decay, i)
        param -= self.learning_rate * grad / (np.sqrt(mean_square) + self.eps)

    def step_scale(self, i):
        """:math:`\\eta / (\\sqrt{s_t} + \\epsilon)` per coordinate."""
        return self.learning_rate / (np.sqrt(self.mean_square[i]) + self.eps)


class AdaDelta(Optimizer):
    """AdaDelta: RMSProp whose step size is the running RMS of the past steps (no rate to tune).

    Parameters
    ----------
    params : list of ndarray
        Parameter arrays with a floating-point dtype, updated in place.
    learning_rate : float, default=1.0
        A factor :math:`\\eta > 0` applied to Zeiler's step. The default 1.0 is Zeiler's method
        exactly; other values (or a schedule) scale the step taken, not the running average of
        steps (the convention of PyTorch and Keras).
    rho : float, default=0.95
        :math:`\\rho` in (0, 1), the weight of the past in both running averages (Zeiler).
    eps : float, default=1e-6
        :math:`\\epsilon > 0` inside both roots (Zeiler). It also sets the size of the first steps:
        the first is :math:`\\sqrt{\\epsilon / (1 - \\rho)}` per coordinate once :math:`g^2 \\gg
        \\epsilon` (4.5e-3 at the defaults).

    Attributes
    ----------
    mean_square : list of ndarray
        :math:`s`, running average of squared gradients.
    mean_square_delta : list of ndarray
        :math:`u`, running average of squared steps.

    Notes
    -----
    With :math:`s_0 = u_0 = 0` and :math:`\\operatorname{RMS}[x] = \\sqrt{x + \\epsilon}`,

    .. math::

        s_t = \\rho\\, s_{t-1} + (1-\\rho)\\, g_t \\odot g_t, \\qquad
        \\Delta_t = \\frac{\\sqrt{u_{t-1} + \\epsilon}}{\\sqrt{s_t + \\epsilon}} \\odot g_t, \\qquad
        u_t = \\rho\\, u_{t-1} + (1-\\rho)\\, \\Delta_t \\odot \\Delta_t, \\qquad
        \\theta_t = \\theta_{t-1} - \\eta\\, \\Delta_t .

    The ratio of the two roots has the units of the parameter over the units of the gradient, like
    the inverse of a curvature: Zeiler motivates it as a diagonal approximation of Newton's step.
    The numerator lags one step behind, which keeps the method stable when the gradient jumps.

    References
    ----------
    .. [1] M. D. Zeiler. ADADELTA: an adaptive learning rate method. arXiv:1212.5701, 2012.
    """

    name = "adadelta"
    state_names = ("mean_square", "mean_square_delta")
    hyper_parameters = ("rho", "eps")

    def __init__(self, params, learning_rate=1.0, rho=0.95, eps=1e-6):
        self.rho = _check_decay("rho", rho)
        self.eps = _check_positive("eps", eps)
        super().__init__(params, learning_rate)

    def _update(self, i, param, grad):
        mean_square, mean_square_delta = self.mean_square[i], self.mean_square_delta[i]
        mean_square *= self.rho
        _add_squares(mean_square, grad, 1.0 - self.rho, i)
        delta = np.sqrt(mean_square_delta + self.eps) / np.sqrt(mean_square + self.eps) * grad
        mean_square_delta *= self.rho
        mean_square_delta += (1.0 - self.rho) * delta * delta
        param -= self.learning_rate * delta

    def step_scale(self, i):
        """:math:`\\eta \\sqrt{E[\\Delta^2] + \\epsilon} / \\sqrt{E[g^2] + \\epsilon}` per
        coordinate, with the current :math:`E[\\Delta^2]`: the factor of the next step, which the
        step just taken (made with the previous one) approaches as the averages settle."""
        root_delta = np.sqrt(self.mean_square_delta[i] + self.eps)
        return self.learning_rate * root_delta / np.sqrt(self.mean_square[i] + self.eps)


class Adam(Optimizer):
    """Adam: momentum on the gradient, RMSProp on its square, both corrected for their start at zero.

    Parameters
    ----------
    params : list of ndarray
        Parameter arrays with a floating-point dtype, updated in place.
    learning_rate : float, default=0.001
        :math:`\\eta > 0`, roughly the largest step of a coordinate.
    beta1 : float, default=0.9
        :math:`\\beta_1` in [0, 1), decay of the first moment (0 gives RMSProp with bias correction).
    beta2 : float, default=0.999
        :math:`\\beta_2` in (0, 1), decay of the second moment.
    eps : float, default=1e-8
        :math:`\\epsilon > 0`, added to the root in the denominator.

    Attributes
    ----------
    first_moment : list of ndarray
        :math:`m`, running average of gradients.
    second_moment : list of ndarray
        :math:`v`, running average of squared gradients.

    Notes
    -----
    With :math:`m_0 = v_0 = 0` and :math:`t` = ``n_steps`` (1 at the first step),

    .. math::

        m_t = \\beta_1 m_{t-1} + (1-\\beta_1)\\, g_t, \\qquad
        v_t = \\beta_2 v_{t-1} + (1-\\beta_2)\\, g_t \\odot g_t,

        \\hat m_t = \\frac{m_t}{1 - \\beta_1^t}, \\qquad \\hat v_t = \\frac{v_t}{1 - \\beta_2^t},
        \\qquad
        \\theta_t = \\theta_{t-1} - \\eta\\, \\frac{\\hat m_t}{\\sqrt{\\hat v_t} + \\epsilon} .

    **Bias correction.** Starting at zero, :math:`m_t = (1-\\beta_1)\\sum_{s \\le t}
    \\beta_1^{t-s} g_s` puts total weight :math:`1 - \\beta_1^t` on the gradients, not 1: with
    :math:`\\beta_1 = 0.9`, :math:`m_1 = 0.1\\, g_1`. Dividing by :math:`1 - \\beta_1^t` makes the
    weights sum to one (the correction fades as :math:`t` grows). Without it the first steps would
    be far too large, since :math:`v` starts even smaller (:math:`v_1 = 0.001\\, g_1^2`). With it
    the first step is :math:`\\eta\\, g_1 / (|g_1| + \\epsilon)`: about :math:`\\eta` in every
    coordinate.

    References
    ----------
    .. [1] D. P. Kingma and J. Ba. Adam: a method for stochastic optimization. *ICLR*, 2015.
    """

    name = "adam"
    state_names = ("first_moment", "second_moment")
    hyper_parameters = ("beta1", "beta2", "eps")

    def __init__(self, params, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1 = _check_momentum("beta1", beta1)
        self.beta2 = _check_decay("beta2", beta2)
        self.eps = _check_positive("eps", eps)
        super().__init__(params, learning_rate)

    def _moments(self, i, grad):
        """Update m and v of parameter i in place and return them."""
        m, v = self.first_moment[i], self.second_moment[i]
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        v *= self.beta2
        _add_squares(v, grad, 1.0 - self.beta2, i)
        return m, v

    def _update(self, i, param, grad):
        m, v = self._moments(i, grad)
        t = self.n_steps
        m_hat = m / (1.0 - self.beta1**t)
        param -= self.learning_rate * m_hat / (self._root_v_hat(v, t) + self.eps)

    def step_scale(self, i):
        """:math:`\\eta / (\\sqrt{\\hat v_t} + \\epsilon)` per coordinate (the corrected first
        moment of a constant gradient is that gradient; for Nadam too)."""
        t = max(self.n_steps, 1)
        return self.learning_rate / (self._root_v_hat(self.second_moment[i], t) + self.eps)

    def _root_v_hat(self, v, t):
        """``sqrt(v_hat) = sqrt(v) / sqrt(1 - beta2^t)``: the root first, so that ``v_hat`` itself
        (up to 1000 times ``v`` at ``t = 1``) cannot overflow for a ``v`` that did not."""
        return np.sqrt(v) * (1.0 / math.sqrt(1.0 - self.beta2**t))


class Nadam(Adam):
    """Nadam: Adam with Nesterov's look-ahead on the first moment.

    Parameters
    ----------
    params : list of ndarray
        Parameter arrays with a floating-point dtype, updated in place.
    learning_rate : float, default=0.002
        :math:`\\eta > 0` (Dozat's suggestion).
    beta1 : float, default=0.9
        :math:`\\beta_1` in [0, 1), decay of the first moment.
    beta2 : float, default=0.999
        :math:`\\beta_2` in (0, 1), decay of the second moment.
    eps : float, default=1e-8
        :math:`\\epsilon > 0`.

    Attributes
    ----------
    first_moment, second_moment : list of ndarray
        :math:`m` and :math:`v`, as in :class:`~mlbasics.optim.Adam`.

    Notes
    -----
    The moments are those of :class:`~mlbasics.optim.Adam`. Following the look-ahead form of
    :class:`~mlbasics.optim.Nesterov`, the step uses the first moment *after* one more momentum
    step, which mixes the bias-corrected moment with the fresh gradient (Dozat's algorithm 2 with a
    constant :math:`\\beta_1`):

    .. math::

        \\bar m_t = \\frac{\\beta_1\\, m_t}{1 - \\beta_1^{t+1}}
                 + \\frac{(1-\\beta_1)\\, g_t}{1 - \\beta_1^t}, \\qquad
        \\hat v_t = \\frac{v_t}{1 - \\beta_2^t}, \\qquad
        \\theta_t = \\theta_{t-1} - \\eta\\, \\frac{\\bar m_t}{\\sqrt{\\hat v_t} + \\epsilon} .

    The correction is not exact for the look-ahead term: with a constant gradient,
    :math:`m_t = (1-\\beta_1^t) g` and :math:`\\bar m_1 = (1 + \\beta_1/(1+\\beta_1))\\, g`, so the
    first step is about :math:`1.47\\,\\eta` per coordinate, and the steps tend to :math:`\\eta` as
    :math:`t` grows.

    Keras and PyTorch multiply :math:`\\beta_1` by a warm-up factor
    :math:`1 - \\tfrac12 0.96^{0.004\\, t}` (the "momentum schedule" of the paper); this class keeps
    :math:`\\beta_1` constant.

    References
    ----------
    .. [1] T. Dozat. Incorporating Nesterov momentum into Adam. *ICLR Workshop*, 2016.
    .. [2] D. P. Kingma and J. Ba. Adam: a method for stochastic optimization. *ICLR*, 2015.
    """

    name = "nadam"

    def __init__(self, params, learning_rate=0.002, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, learning_rate, beta1=beta1, beta2=beta2, eps=eps)

    def _update(self, i, param, grad):
        m, v = self._moments(i, grad)
        t = self.n_steps
        m_bar = (self.beta1 / (1.0 - self.beta1 ** (t + 1))) * m + (
            (1.0 - self.beta1) / (1.0 - self.beta1**t)
        ) * grad
        param -= self.learning_rate * m_bar / (self._root_v_hat(v, t) + self.eps)


def make_optimizer(name, params, **kwargs):
    """Build the update rule called ``name`` on ``params``.

    Parameters
    ----------
    name : str
        One of ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``,
        ``"adadelta"``, ``"adam"``, ``"nadam"`` (the keys of ``Optimizer.registry``).
    params : list of ndarray
        Parameter arrays with a floating-point dtype, updated in place.
    **kwargs
        Hyper-parameters of that rule (``learning_rate``, ``momentum``, ``beta1``, ...); the rule's
        defaults otherwise.

    Returns
    -------
    Optimizer

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones) or a hyper-parameter out of range.
    TypeError
        For a hyper-parameter that is not a real number (a string, a bool).

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.optim import make_optimizer
    >>> make_optimizer("adam", [np.zeros((2, 3)), np.zeros(3)], learning_rate=0.01)
    Adam(learning_rate=0.01, beta1=0.9, beta2=0.999, eps=1e-08, n_params=2)
    """
    cls = Optimizer.registry.get(name) if isinstance(name, str) else None
    if cls is None:
        valid = ", ".join(repr(key) for key in Optimizer.registry)
        raise ValueError(f"Unknown optimizer {name!r}; valid names are {valid}.")
    return cls(params, **kwargs)


# -- learning-rate schedules ----------------------------------------------------------------------


def _check_count(t):
    """``t`` as a float if it is a whole number >= 0, else a ValueError naming it.

    ``t`` counts updates, so it is an integer; a float holding one (``3.0``, from a float counter)
    is accepted too, but not ``1.5``: a rate "between two updates" has no meaning, and accepting it
    would hide a caller that computes ``t`` wrongly.
    """
    if isinstance(t, Integral) and not isinstance(t, bool):
        valid = t >= 0
    else:
        valid = (
            isinstance(t, Real)
            and not isinstance(t, bool)
            and math.isfinite(t)
            and t >= 0
            and float(t).is_integer()
        )
    if not valid:
        raise ValueError(
            "t counts the updates already made and must be a finite number >= 0 (an integer), "
            f"got {t!r}."
        )
    return as_float(t)  # (an integer beyond the floats: inf, the rates' limit as t grows)


def _check_span(t_start, count):
    """The update counts ``t_start, ..., t_start + count - 1`` as a float64 array."""
    start = _check_count(t_start)
    if isinstance(count, bool) or not isinstance(count, Integral) or count < 0:
        raise ValueError(f"count must be an integer >= 0, got {count!r}.")
    return start + np.arange(int(count), dtype=np.float64)


class Schedule:
    """Base class of the learning-rate schedules.

    ``rate(t)`` is the learning rate of the update made after ``t`` updates (so the first update
    uses ``rate(0)``); ``end_epoch(objective)`` is called after each pass over the data with the
    objective monitored by the caller and returns ``False`` when the caller should stop. Only the
    adaptive schedule ever returns ``False``; the base implementation ignores the objective.
    """

    name: ClassVar[str | None] = None
    registry: ClassVar[dict[str, type[Schedule]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ and cls.name is not None:
            Schedule.registry[cls.name] = cls

    def rate(self, t):
        """Learning rate of the update made after ``t >= 0`` updates."""
        raise NotImplementedError

    def rates(self, t_start, count):
        """The rates of ``count`` consecutive updates: ``rate(t)`` for ``t`` from ``t_start`` on.

        Returns a float64 array. The schedules with a closed formula evaluate it on the whole
        range at once, with the same values as :meth:`rate` and without overflow warnings (the
        SGD solvers ask for the rates of an epoch in one call); this default calls :meth:`rate`.
        """
        _check_span(t_start, count)
        start = int(t_start)
        return np.array([self.rate(t) for t in range(start, start + count)], dtype=np.float64)

    def end_epoch(self, objective):
        """Record the objective at the end of an epoch; ``True`` means go on."""
        return True


class ConstantSchedule(Schedule):
    """``rate(t) = eta0`` for every ``t``.

    Parameters
    ----------
    eta0 : float
        The learning rate, > 0.
    """

    name = "constant"

    def __init__(self, eta0):
        self.eta0 = _check_positive("eta0", eta0)

    def rate(self, t):
        _check_count(t)
        return self.eta0

    def rates(self, t_start, count):
        return np.full(_check_span(t_start, count).size, self.eta0)


class InvScalingSchedule(Schedule):
    """Inverse scaling: ``rate(t) = eta0 / (t + 1) ** power_t``.

    Parameters
    ----------
    eta0 : float
        The first rate, > 0.
    power_t : float, default=0.5
        The exponent, >= 0 (0 gives a constant rate).

    Notes
    -----
    Counting updates from 1 instead (:math:`t' = t + 1`, scikit-learn's convention) this is
    :math:`\\eta_0 / t'^{\\,p}`, and the sequence of rates is the same as scikit-learn's
    ``learning_rate="invscaling"``. With :math:`p = 1/2` the rates decay like :math:`1/\\sqrt{t}`, the
    classical choice for convex problems that are not strongly convex. When :math:`(t + 1)^p`
    overflows (a huge ``power_t``) the rate is computed in logarithms,
    :math:`\\eta_0 \\exp(-p \\log(t + 1))`, which is 0.0 once it falls below the smallest float.
    """

    name = "invscaling"

    def __init__(self, eta0, power_t=0.5):
        self.eta0 = _check_positive("eta0", eta0)
        self.power_t = _check_number("power_t", power_t, low=0.0, high=np.inf, low_closed=True)

    def rate(self, t):
        t = _check_count(t)
        try:
            return self.eta0 / (t + 1.0) ** self.power_t
        except OverflowError:  # (t + 1) ** power_t beyond the largest float: use logarithms
            return math.exp(math.log(self.eta0) - self.power_t * math.log1p(t))

    def rates(self, t_start, count):
        ts = _check_span(t_start, count)
        with np.errstate(over="ignore"):
            powers = (ts + 1.0) ** self.power_t
        rates = self.eta0 / powers
        huge = np.isinf(powers)
        if huge.any():  # as in rate: in logarithms (exp underflows to 0 for the tiniest rates)
            # (power_t log(t + 1) may overflow to inf itself: exp(-inf) is the 0.0 it stands for)
            with np.errstate(over="ignore", under="ignore"):
                rates[huge] = np.exp(math.log(self.eta0) - self.power_t * np.log1p(ts[huge]))
        return rates


class OptimalSchedule(Schedule):
    """Bottou's schedule for L2-regularised objectives: ``rate(t) = 1 / (alpha * (t0 + t))``.

    Parameters
    ----------
    alpha : float
        Strength :math:`\\alpha > 0` of the L2 penalty in the objective written per sample,
        :math:`\\frac1n\\sum_i \\ell_i(w) + \\frac{\\alpha}{2}\\lVert w\\rVert^2` (scikit-learn's
        ``alpha``; for ``C * sum(loss) + ||w||^2 / 2`` it is ``1 / (C * n)``).

    Attributes
    ----------
    t0 : float
        The offset :math:`t_0 = \\alpha^{-3/4}`.

    Notes
    -----
    The objective is :math:`\\alpha`-strongly convex, and for a :math:`\\mu`-strongly convex objective
    the rate :math:`1/(\\mu t)` gives SGD its optimal :math:`O(1/t)` convergence. The offset
    :math:`t_0` keeps the first steps from being huge. Bottou's heuristic (also scikit-learn's): the
    penalty bounds the solution (:math:`F` the objective),
    :math:`\\frac{\\alpha}{2}\\lVert w^*\\rVert^2 \\le F(w^*) \\le F(0) = \\ell(0) \\approx 1`, so
    :math:`\\lVert w^*\\rVert` is at most of order :math:`1/\\sqrt{\\alpha}`; a typical weight is
    taken as the geometric mean :math:`w_{\\mathrm{typ}} = \\alpha^{-1/4}` of that bound and 1; the
    first rate is
    :math:`\\eta_{\\mathrm{start}} = w_{\\mathrm{typ}} / \\max(1, |\\ell'(-w_{\\mathrm{typ}})|)`, and
    :math:`t_0` is set so that :math:`\\mathrm{rate}(0) = 1/(\\alpha t_0) = \\eta_{\\mathrm{start}}`.
    For the hinge and logistic losses :math:`|\\ell'| \\le 1`, so the maximum is 1 and

    .. math::

        \\eta_{\\mathrm{start}} = \\alpha^{-1/4}, \\qquad
        t_0 = \\frac{1}{\\alpha\\, \\eta_{\\mathrm{start}}} = \\alpha^{-3/4}, \\qquad
        \\mathrm{rate}(t) = \\frac{1}{\\alpha\\,(t_0 + t)} .

    scikit-learn counts updates from 1 and writes :math:`1/(\\alpha(t_0 + t' - 1))`: the same rates.

    References
    ----------
    .. [1] L. Bottou. Stochastic gradient descent tricks. In *Neural Networks: Tricks of the Trade*,
       2nd edition, LNCS 7700, pages 421–436. Springer, 2012.
    """

    name = "optimal"

    def __init__(self, alpha):
        if alpha is None:
            raise ValueError(
                "The 'optimal' schedule needs alpha, the L2 strength per sample (> 0)."
            )
        self.alpha = _check_positive("alpha", alpha)
        eta_start = self.alpha**-0.25  # w_typ / max(1, |l'(-w_typ)|) with |l'| <= 1
        self.t0 = 1.0 / (self.alpha * eta_start)

    def rate(self, t):
        t = _check_count(t)
        return 1.0 / (self.alpha * (self.t0 + t))

    def rates(self, t_start, count):
        ts = _check_span(t_start, count)
        with np.errstate(over="ignore"):  # alpha * (t0 + t) beyond the floats: a rate of 0.0
            return 1.0 / (self.alpha * (self.t0 + ts))


class AdaptiveSchedule(Schedule):
    """Keep ``eta0`` while the objective improves; divide by 5 after a plateau; give up below 1e-6.

    Parameters
    ----------
    eta0 : float
        The first rate, > 0.
    n_iter_no_change : int, default=5
        Number of consecutive epochs without improvement that make a plateau (>= 1).
    tol : float or None, default=1e-3
        An epoch improves if its objective is at least ``tol`` below the best so far. ``None``
        switches the rule off: the rate stays ``eta0`` and :meth:`end_epoch` always returns ``True``.

    Attributes
    ----------
    current_rate : float
        The rate ``rate(t)`` returns now.
    best_objective : float
        The smallest objective seen (``inf`` before the first epoch).
    epochs_without_improvement : int
        Length of the current run of non-improving epochs.

    Notes
    -----
    At the end of each epoch: if ``objective <= best_objective - tol`` the count of non-improving
    epochs is reset, otherwise it grows by one (a NaN objective counts as no improvement). When it
    reaches ``n_iter_no_change`` the rate is divided by 5 and the count restarts. If the new rate is
    below ``1e-6`` the schedule gives up: :meth:`end_epoch` returns ``False`` from then on, and the
    caller should stop. (scikit-learn's ``learning_rate="adaptive"`` uses the same rule on its own
    monitored value, the epoch's running average of loss and penalty, and runs one more plateau at
    the last rate before it stops.)
    """

    name = "adaptive"

    def __init__(self, eta0, n_iter_no_change=5, tol=1e-3):
        self.eta0 = _check_positive("eta0", eta0)
        self.n_iter_no_change = _check_plateau(n_iter_no_change)
        self.tol = _check_tol(tol)
        self.current_rate = self.eta0
        self.best_objective = np.inf
        self.epochs_without_improvement = 0
        self._gave_up = False

    def rate(self, t):
        _check_count(t)
        return self.current_rate

    def rates(self, t_start, count):
        return np.full(_check_span(t_start, count).size, self.current_rate)

    def end_epoch(self, objective):
        """Record the epoch's objective; return ``False`` once the rate has fallen below 1e-6."""
        if isinstance(objective, bool) or not isinstance(objective, Real):
            raise ValueError(f"objective must be a real number, got {objective!r}.")
        if self._gave_up:
            return False
        if self.tol is None:
            self.best_objective = min(self.best_objective, objective)
            return True
        if objective <= self.best_objective - self.tol:
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        if objective < self.best_objective:
            self.best_objective = float(objective)
        if self.epochs_without_improvement >= self.n_iter_no_change:
            self.current_rate /= ADAPTIVE_DIVISOR
            self.epochs_without_improvement = 0
            if self.current_rate < MIN_ADAPTIVE_RATE:
                self._gave_up = True
                return False
        return True


def make_schedule(name, *, eta0, power_t=0.5, alpha=None, n_iter_no_change=5, tol=1e-3):
    """Build the learning-rate schedule called ``name``.

    Parameters
    ----------
    name : {"constant", "invscaling", "optimal", "adaptive"}
        ``"constant"``: ``eta0``. ``"invscaling"``: ``eta0 / (t + 1) ** power_t``. ``"optimal"``:
        ``1 / (alpha * (t0 + t))`` with Bottou's ``t0 = alpha ** -0.75``. ``"adaptive"``: ``eta0``,
        divided by 5 after ``n_iter_no_change`` epochs without an improvement of ``tol``.
    eta0 : float
        The initial rate, > 0. Checked for every schedule, but ``"optimal"`` does not use it (as in
        scikit-learn).
    power_t : float, default=0.5
        Exponent of ``"invscaling"``, >= 0.
    alpha : float, optional
        L2 strength per sample, > 0; required by ``"optimal"``.
    n_iter_no_change : int, default=5
        Plateau length of ``"adaptive"``, >= 1.
    tol : float or None, default=1e-3
        Improvement threshold of ``"adaptive"``, >= 0.

    Returns
    -------
    Schedule
        An object with ``rate(t)`` (``t`` = number of updates already made, from 0) and
        ``end_epoch(objective) -> bool``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones) or a parameter out of range (the
        message names it).
    TypeError
        For a parameter that is not a real number (a string, a bool).

    Notes
    -----
    Every parameter is checked whichever schedule ``name`` is, as scikit-learn checks all of an
    estimator's parameters: one the schedule does not read is still refused when invalid.

    Examples
    --------
    >>> from mlbasics.optim import make_schedule
    >>> schedule = make_schedule("invscaling", eta0=0.1, power_t=0.5)
    >>> [round(schedule.rate(t), 4) for t in range(4)]
    [0.1, 0.0707, 0.0577, 0.05]
    """
    if not isinstance(name, str) or name not in Schedule.registry:
        valid = ", ".join(repr(key) for key in Schedule.registry)
        raise ValueError(f"Unknown learning-rate schedule {name!r}; valid names are {valid}.")
    # every parameter is checked, also those the schedule called does not read (as scikit-learn
    # validates all its parameters): a typo in one of them is not silently ignored
    eta0 = _check_positive("eta0", eta0)
    _check_number("power_t", power_t, low=0.0, high=np.inf, low_closed=True)
    if alpha is not None:
        _check_positive("alpha", alpha)
    _check_plateau(n_iter_no_change)
    _check_tol(tol)
    if name == "constant":
        return ConstantSchedule(eta0)
    if name == "invscaling":
        return InvScalingSchedule(eta0, power_t)
    if name == "optimal":
        return OptimalSchedule(alpha)
    return AdaptiveSchedule(eta0, n_iter_no_change, tol)


# -- gradient clipping -----------------------------------------------------------------------------


def clip_grad_norm(grads, max_norm):
    """Rescale the gradients in place so that their joint Euclidean norm is at most ``max_norm``.

    To rounding: the clipped norm is ``max_norm`` times ``1 + delta`` with ``|delta|`` a few
    units in the last place (above ``max_norm`` by up to 4.4e-16 relative in a fifth of random
    float64 cases, as ``math.hypot`` measures it; a review).

    Parameters
    ----------
    grads : list of ndarray
        Gradient arrays with a floating-point dtype, modified in place. Their norm is that of all
        entries together, as if the arrays were concatenated; arrays sharing memory (two views of
        one buffer) are refused with a ValueError, as they would be scaled twice.
    max_norm : float
        The largest norm allowed, > 0.

    Returns
    -------
    float
        The norm *before* clipping (useful to monitor exploding gradients). A gradient holding NaN
        or infinity gives NaN or inf and leaves the gradients unchanged, for the caller to test.
        Finite gradients whose norm exceeds the largest float (of their dtype: ``longdouble``
        holds norms beyond float64's) are clipped all the same (the returned norm, a Python
        float, is then inf).

    Notes
    -----
    With :math:`\\lVert g \\rVert` the joint norm, every array is multiplied by
    :math:`\\min(1, c / \\lVert g \\rVert)` (Pascanu, Mikolov and Bengio 2013): the direction is kept,
    only the length is capped. The norm is computed as :math:`s \\sqrt{\\sum (g/s)^2}` with
    :math:`s = \\max |g|`, so it does not overflow for gradients whose squares would (the trick of
    the BLAS routine ``nrm2``).

    References
    ----------
    .. [1] R. Pascanu, T. Mikolov and Y. Bengio. On the difficulty of training recurrent neural
       networks. *ICML*, 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from mlbasics.optim import clip_grad_norm
    >>> grads = [np.array([3.0, 0.0]), np.array([[0.0], [4.0]])]
    >>> clip_grad_norm(grads, max_norm=1.0)
    5.0
    >>> grads[0], grads[1].ravel()
    (array([0.6, 0. ]), array([0. , 0.8]))
    """
    max_norm = _check_positive("max_norm", max_norm)
    if isinstance(grads, np.ndarray):
        raise TypeError("grads must be a list of arrays; wrap a single array as [array].")
    grads = list(grads)
    for i, grad in enumerate(grads):
        if not isinstance(grad, np.ndarray) or not np.issubdtype(grad.dtype, np.floating):
            raise TypeError(f"grads[{i}] must be a numpy array with a floating-point dtype.")
        for j in range(i):
            if np.may_share_memory(grad, grads[j]) and np.shares_memory(grad, grads[j]):
                raise ValueError(
                    f"grads[{j}] and grads[{i}] share memory; the shared entries would count "
                    "twice in the norm and be scaled twice. Give each array once."
                )
    sizes = [grad.size for grad in grads if grad.size]
    if not sizes:
        return 0.0
    # Python floats, or numpy longdoubles for gradients beyond float64's range
    real = float
    if any(np.finfo(grad.dtype).max > np.finfo(np.float64).max for grad in grads):
        real = np.longdouble
    scale = real(np.max([np.max(np.abs(grad)) for grad in grads if grad.size]))
    if not np.isfinite(scale):
        return float(scale) if np.isnan(scale) else float(np.inf)
    if scale == 0.0:
        return 0.0
    # Every array divided and squared in the widest of their types, float32 at least (float16's
    # largest value, 65504, is a count of entries): ``g / scale`` in a float32 array's own type
    # overflowed or underflowed when a float64 array set the scale.
    wide = np.result_type(*grads, np.float32)
    squares = sum(np.sum(np.square(np.divide(g, scale, dtype=wide))) for g in grads)
    root = real(np.sqrt(squares))
    norm = scale * root  # inf if the norm of finite gradients exceeds the largest float
    if norm > max_norm:
        factor = (max_norm / scale) / root
        for grad in grads:  # multiplied in the wide type too, each rounded once to its own
            np.multiply(grad, factor, out=grad, dtype=wide, casting="unsafe")
    return float(norm)
