"""mlbasics.optim: update rules on problems with known minima, schedules, clipping, bad input."""

import math
import re
import warnings
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlbasics.optim import (
    SGD,
    AdaDelta,
    AdaGrad,
    Adam,
    Momentum,
    Nesterov,
    Optimizer,
    clip_grad_norm,
    make_optimizer,
    make_schedule,
)

NAMES = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "nadam"]


# -- problems with known minima --------------------------------------------------------------------


@pytest.fixture(scope="module")
def quadratic():
    """``f(x) = x^T A x / 2 - b^T x`` in 6 dimensions, A SPD with eigenvalues 1..100 (kappa = 100).

    The minimiser solves ``A x = b``; numpy.linalg.solve gives it to about kappa * eps = 1e-14.
    """
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    eigenvalues = np.logspace(0, 2, 6)
    A = Q @ np.diag(eigenvalues) @ Q.T
    b = rng.standard_normal(6)
    return A, b, np.linalg.solve(A, b), eigenvalues


def rosenbrock_gradient(p):
    """Gradient of ``(1 - x)^2 + 100 (y - x^2)^2``, whose only minimum is (1, 1)."""
    x, y = p
    return np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])


def run(optimizer, gradient, n_steps, final_factor=1.0):
    """Take n_steps; the learning rate falls geometrically from its initial value to
    ``final_factor`` times it (``final_factor=1``: a constant rate), set between steps as a
    schedule would."""
    eta0 = optimizer.learning_rate
    for k in range(n_steps):
        optimizer.learning_rate = eta0 * final_factor ** (k / n_steps)
        optimizer.step([gradient(optimizer.params[0])])
    return optimizer.params[0]


# Per rule: hyper-parameters, step budget, and the factor by which the rate decays over the run.
# Tolerance on the quadratic: relative error 1e-8, six digits above the rounding floor of the
# reference solution and far below where a stalled or hovering run ends (a relative error of 1e-2
# or more, see test_rmsprop_with_a_constant_rate_hovers_at_a_distance_proportional_to_it).
#
# * SGD with the step 2 / (L + mu) contracts the error by (kappa - 1) / (kappa + 1) = 99 / 101 per
#   step, so ln(1e-8) / ln(99 / 101) = 920 steps suffice: budget 1500.
# * Heavy ball and Nesterov with mu = 0.9 and step 1 / L: on a quadratic every eigen-direction
#   then has complex roots of modulus at most sqrt(mu) = 0.949, about 350 steps for 1e-8 (plus a
#   polynomial factor): budget 1000.
# * AdaGrad: once the gradients decay geometrically its accumulators converge, and it becomes gradient
#   descent with fixed per-coordinate steps; budget 1500.
# * RMSProp, Adam and Nadam divide by the gradient's recent RMS, so near the minimum they move each
#   coordinate by about the learning rate whatever the gradient: with a constant rate they hover at
#   a distance of order eta. The rate must decay. RMSProp stays sign-like to the end and needs its
#   rate to fall to ~1e-10; the moment estimates of Adam and Nadam settle once the rate is small.
# * AdaDelta: when both running averages fall below eps the ratio of roots tends to 1, so near the
#   minimum it is gradient descent with step learning_rate, stable only below 2 / L = 0.02: the
#   rate decays from 1 to 0.01.
QUADRATIC_RUNS = {
    "sgd": ({"learning_rate": 2.0 / 101.0}, 1500, 1.0),
    "momentum": ({"learning_rate": 0.01, "momentum": 0.9}, 1000, 1.0),
    "nesterov": ({"learning_rate": 0.01, "momentum": 0.9}, 1000, 1.0),
    "adagrad": ({"learning_rate": 1.0}, 1500, 1.0),
    "rmsprop": ({"learning_rate": 0.01}, 4000, 1e-8),
    "adadelta": ({"learning_rate": 1.0}, 3000, 1e-2),
    "adam": ({"learning_rate": 0.05}, 2000, 1e-3),
    "nadam": ({"learning_rate": 0.05}, 2000, 1e-3),
}


@pytest.mark.parametrize("name", NAMES)
def test_rule_converges_on_an_ill_conditioned_quadratic(quadratic, name):
    A, b, x_star, _ = quadratic
    params, n_steps, final_factor = QUADRATIC_RUNS[name]
    optimizer = make_optimizer(name, [np.zeros(6)], **params)
    x = run(optimizer, lambda x: A @ x - b, n_steps, final_factor)
    assert np.linalg.norm(x - x_star) <= 1e-8 * np.linalg.norm(x_star)


# Rosenbrock from the classic start (-1.2, 1): a curved valley whose Hessian at the minimum has
# eigenvalues 1002 and 0.4 (condition number ~2500). "Close" is a distance of 1e-3 from (1, 1), three
# orders of magnitude below the distance at the start. Each budget is at least 30% more than the
# steps the rule needed with these rates to get and stay that close (for the decaying rates, the
# decay is spread over the budget); the momentum methods need several times fewer steps than SGD
# and AdaGrad, as they should in an ill-conditioned valley.
ROSENBROCK_RUNS = {
    "sgd": ({"learning_rate": 1.5e-3}, 15000, 1.0),
    "momentum": ({"learning_rate": 1e-3, "momentum": 0.9}, 2500, 1.0),
    "nesterov": ({"learning_rate": 1e-3, "momentum": 0.9}, 2500, 1.0),
    "adagrad": ({"learning_rate": 0.5}, 12000, 1.0),
    "rmsprop": ({"learning_rate": 0.01}, 10000, 1e-3),
    "adadelta": ({"learning_rate": 1.0}, 10000, 1e-3),
    "adam": ({"learning_rate": 0.2}, 5000, 1e-2),
    "nadam": ({"learning_rate": 0.2}, 5000, 1e-3),
}


@pytest.mark.parametrize("name", NAMES)
def test_rule_reaches_the_rosenbrock_minimum(name):
    params, n_steps, final_factor = ROSENBROCK_RUNS[name]
    optimizer = make_optimizer(name, [np.array([-1.2, 1.0])], **params)
    p = run(optimizer, rosenbrock_gradient, n_steps, final_factor)
    assert np.linalg.norm(p - 1.0) <= 1e-3


def test_rmsprop_with_a_constant_rate_hovers_at_a_distance_proportional_to_it(quadratic):
    """Near the minimum RMSProp's step g / RMS(g) does not depend on the size of the error, so the
    run settles into an oscillation whose size scales with the rate: a tenfold smaller rate, a
    tenfold smaller distance, and never convergence."""
    A, b, x_star, _ = quadratic
    distances = []
    for rate in (1e-2, 1e-3):
        optimizer = make_optimizer("rmsprop", [np.zeros(6)], learning_rate=rate)
        x = run(optimizer, lambda x: A @ x - b, 5000)
        tail = []
        for _ in range(500):
            optimizer.step([A @ x - b])
            tail.append(np.max(np.abs(x - x_star)))
        distances.append(max(tail))
        assert 0.1 * rate < distances[-1] < 10 * rate
    assert 5 < distances[0] / distances[1] < 20


# -- properties of single rules --------------------------------------------------------------------


def random_problem(seed, n_steps):
    """A matrix and a vector parameter, and a sequence of random gradients for them."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(n_steps)]
    return params, grads


@pytest.mark.parametrize("cls", [Momentum, Nesterov])
def test_momentum_zero_is_exactly_plain_sgd(cls):
    params, grads = random_problem(1, 5)
    plain = [p.copy() for p in params]
    with_momentum = [p.copy() for p in params]
    sgd = SGD(plain, learning_rate=0.1)
    other = cls(with_momentum, learning_rate=0.1, momentum=0.0)
    for g in grads:
        sgd.step(g)
        other.step(g)
    for a, b in zip(plain, with_momentum, strict=True):
        np.testing.assert_array_equal(a, b)


def test_nesterov_matches_the_formulation_of_sutskever_et_al(quadratic):
    """The stored point is the look-ahead phi = theta + mu v of
    v <- mu v - eta grad f(theta + mu v), theta <- theta + v."""
    A, b, _, _ = quadratic
    eta, mu = 0.01, 0.9
    theta, v = np.zeros(6), np.zeros(6)
    phi = np.zeros(6)
    optimizer = Nesterov([phi], learning_rate=eta, momentum=mu)
    for _ in range(50):
        v = mu * v - eta * (A @ (theta + mu * v) - b)
        theta = theta + v
        optimizer.step([A @ phi - b])
        np.testing.assert_allclose(phi, theta + mu * v, rtol=1e-12, atol=1e-14)


def test_adam_first_step_has_length_learning_rate_in_every_coordinate():
    """Bias correction: m_hat = g and v_hat = g^2 at t = 1, so the step is eta g / (|g| + eps)."""
    rng = np.random.default_rng(2)
    grad = rng.choice([-1.0, 1.0], size=20) * np.logspace(-3, 3, 20)  # six orders of magnitude
    w = np.zeros(20)
    Adam([w], learning_rate=0.01).step([grad])
    # eps / |g| <= 1e-8 / 1e-3 = 1e-5: the step is 0.01 to five digits.
    np.testing.assert_allclose(np.abs(w), 0.01, rtol=1e-5)
    np.testing.assert_array_equal(np.sign(w), -np.sign(grad))


def test_adam_with_a_constant_gradient_always_steps_by_learning_rate():
    """With g constant, the bias-corrected moments are exactly g and g^2 at every step (the weights
    of the running averages sum to one after correction), so every step is eta * sign(g)."""
    grad = np.array([3.0, -0.5, 1e-2])
    w = np.zeros(3)
    optimizer = Adam([w], learning_rate=0.1)
    for t in range(1, 30):
        optimizer.step([grad])
        np.testing.assert_allclose(w, -0.1 * t * np.sign(grad), rtol=1e-6)


def test_nadam_with_a_constant_gradient_looks_ahead_then_steps_by_learning_rate():
    """Dozat's step mixes beta1 * m_t / (1 - beta1^(t+1)) with (1 - beta1) g / (1 - beta1^t). For a
    constant g, m_t = (1 - beta1^t) g, so the first step is eta (1 + beta1 / (1 + beta1)) and the
    later ones tend to eta."""
    beta1 = 0.9
    grad = np.array([3.0, -0.5, 1e-2])
    w = np.zeros(3)
    optimizer = make_optimizer("nadam", [w], learning_rate=0.1, beta1=beta1)
    optimizer.step([grad])
    np.testing.assert_allclose(w, -0.1 * (1 + beta1 / (1 + beta1)) * np.sign(grad), rtol=1e-6)
    for _ in range(300):
        before = w.copy()
        optimizer.step([grad])
    np.testing.assert_allclose(w - before, -0.1 * np.sign(grad), rtol=1e-6)


def test_adagrad_effective_step_shrinks_like_one_over_sqrt_t():
    """With a constant gradient g, s_t = t g^2 and the t-th step is eta g / (sqrt(t) |g| + eps)."""
    grad = np.array([2.0, -0.1])
    w = np.zeros(2)
    optimizer = AdaGrad([w], learning_rate=0.5)
    steps = []
    for t in range(1, 11):
        before = w.copy()
        optimizer.step([grad])
        steps.append(np.abs(w - before))
        np.testing.assert_allclose(steps[-1], 0.5 / np.sqrt(t), rtol=1e-8)
    assert np.all(np.diff(np.array(steps), axis=0) < 0)


def test_adadelta_scales_its_step_by_learning_rate_but_not_its_state():
    params, grads = random_problem(3, 4)
    full = [np.zeros_like(p) for p in params]
    half = [np.zeros_like(p) for p in params]
    a, b = AdaDelta(full), AdaDelta(half, learning_rate=0.5)
    for g in grads:
        a.step(g)
        b.step(g)
    for x, y in zip(full, half, strict=True):
        np.testing.assert_allclose(y, 0.5 * x, rtol=1e-15)
    for key in a.state:
        for x, y in zip(a.state[key], b.state[key], strict=True):
            np.testing.assert_array_equal(x, y)


# -- state, in-place updates, reset ----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_state_is_aligned_with_parameters_of_different_shapes(name):
    params, grads = random_problem(4, 3)
    originals = [p.copy() for p in params]
    optimizer = make_optimizer(name, params)
    for g in grads:
        optimizer.step(g)
    # In place: the caller's arrays are the optimizer's, and they moved.
    assert all(a is b for a, b in zip(optimizer.params, params, strict=True))
    assert all(not np.array_equal(p, o) for p, o in zip(params, originals, strict=True))
    assert optimizer.n_steps == len(grads)
    for states in optimizer.state.values():
        assert [s.shape for s in states] == [p.shape for p in params]
        assert all(np.any(s != 0) for s in states)


@pytest.mark.parametrize("name", NAMES)
def test_a_list_of_parameters_is_updated_like_their_concatenation(name):
    """The rules act element by element: a matrix and a vector move exactly as the one flat vector
    made of both would, so no state leaks between the arrays of the list."""
    params, grads = random_problem(5, 4)
    flat = [np.concatenate([p.ravel() for p in params])]
    split = make_optimizer(name, params, learning_rate=0.05)
    joined = make_optimizer(name, flat, learning_rate=0.05)
    for g in grads:
        split.step(g)
        joined.step([np.concatenate([x.ravel() for x in g])])
    np.testing.assert_array_equal(np.concatenate([p.ravel() for p in params]), flat[0])


@pytest.mark.parametrize("name", NAMES)
def test_reset_clears_the_state(name):
    params, grads = random_problem(6, 3)
    optimizer = make_optimizer(name, params, learning_rate=0.05)
    for g in grads:
        optimizer.step(g)
    optimizer.reset()
    assert optimizer.n_steps == 0
    for states in optimizer.state.values():
        assert all(not np.any(s) for s in states)
    # After a reset the next step is that of a fresh optimizer at the same point.
    fresh_params = [p.copy() for p in params]
    fresh = make_optimizer(name, fresh_params, learning_rate=0.05)
    optimizer.step(grads[0])
    fresh.step(grads[0])
    for a, b in zip(params, fresh_params, strict=True):
        np.testing.assert_array_equal(a, b)


def test_registry_has_every_rule_and_make_optimizer_builds_them():
    assert set(Optimizer.registry) == set(NAMES)
    for name in NAMES:
        optimizer = make_optimizer(name, [np.zeros(2)])
        assert isinstance(optimizer, Optimizer) and optimizer.name == name


def test_paper_defaults():
    w = [np.zeros(1)]
    assert make_optimizer("momentum", w).momentum == 0.9
    assert make_optimizer("nesterov", w).momentum == 0.9
    assert make_optimizer("rmsprop", w).decay == 0.9
    adam = make_optimizer("adam", w)
    assert (adam.beta1, adam.beta2, adam.eps) == (0.9, 0.999, 1e-8)
    adadelta = make_optimizer("adadelta", w)
    assert (adadelta.rho, adadelta.eps, adadelta.learning_rate) == (0.95, 1e-6, 1.0)
    assert make_optimizer("adagrad", w).eps == 1e-10


# -- bad input and divergence ----------------------------------------------------------------------


def test_unknown_optimizer_lists_the_valid_names():
    with pytest.raises(ValueError, match="Unknown optimizer 'adamw'") as info:
        make_optimizer("adamw", [np.zeros(2)])
    assert all(repr(name) in str(info.value) for name in NAMES)


@pytest.mark.parametrize(
    "name, params, parameter",
    [
        ("sgd", {"learning_rate": 0.0}, "learning_rate"),
        ("adam", {"learning_rate": -1e-3}, "learning_rate"),
        ("sgd", {"learning_rate": np.nan}, "learning_rate"),
        ("sgd", {"learning_rate": np.inf}, "learning_rate"),
        ("momentum", {"momentum": 1.0}, "momentum"),
        ("nesterov", {"momentum": -0.1}, "momentum"),
        ("adam", {"beta1": 1.0}, "beta1"),
        ("adam", {"beta2": 0.0}, "beta2"),
        ("nadam", {"beta2": 1.5}, "beta2"),
        ("adam", {"eps": 0.0}, "eps"),
        ("adagrad", {"eps": -1e-10}, "eps"),
        ("rmsprop", {"decay": 1.0}, "decay"),
        ("adadelta", {"rho": 0.0}, "rho"),
    ],
)
def test_bad_hyper_parameters_are_rejected_by_name(name, params, parameter):
    with pytest.raises(ValueError, match=f"^{parameter} must"):
        make_optimizer(name, [np.zeros(2)], **params)


@pytest.mark.parametrize("value", ["0.1", "fast", True, np.True_, None, np.array(0.1)])
def test_a_hyper_parameter_that_is_not_a_real_number_is_a_type_error_naming_it(value):
    with pytest.raises(TypeError, match=r"^learning_rate must be a real number, got"):
        make_optimizer("sgd", [np.zeros(2)], learning_rate=value)
    with pytest.raises(TypeError, match=r"^momentum must be a real number"):
        make_optimizer("momentum", [np.zeros(2)], momentum=value)
    with pytest.raises(TypeError, match=r"^eta0 must be a real number"):
        make_schedule("constant", eta0=value)
    with pytest.raises(TypeError, match=r"^max_norm must be a real number"):
        clip_grad_norm([np.ones(2)], max_norm=value)
    if value is not None:  # (tol=None and alpha=None are valid: no rule, no L2 strength)
        with pytest.raises(TypeError, match=r"^n_iter_no_change must be an integer, got"):
            make_schedule("adaptive", eta0=0.1, n_iter_no_change=value)
        with pytest.raises(TypeError, match=r"^tol must be a real number"):
            make_schedule("adaptive", eta0=0.1, tol=value)


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({"power_t": "junk"}, "power_t"),
        ({"power_t": -1.0}, "power_t"),
        ({"n_iter_no_change": 0}, "n_iter_no_change"),
        ({"n_iter_no_change": "5"}, "n_iter_no_change"),
        ({"tol": -1e-3}, "tol"),
        ({"alpha": 0.0}, "alpha"),
    ],
)
def test_make_schedule_checks_the_parameters_its_schedule_does_not_read(params, parameter):
    # as scikit-learn validates every parameter of an estimator: a typo in one that the chosen
    # schedule ignores ("constant" reads only eta0) is refused, not silently dropped (a review)
    with pytest.raises((TypeError, ValueError), match=f"^{parameter} must"):
        make_schedule("constant", eta0=0.1, **params)


def test_a_learning_rate_set_between_steps_is_checked():
    optimizer = SGD([np.zeros(2)])
    with pytest.raises(ValueError, match="learning_rate"):
        optimizer.learning_rate = 0.0


def test_bad_parameters_and_gradients_are_rejected():
    with pytest.raises(TypeError, match="list of arrays"):
        SGD(np.zeros(3))
    with pytest.raises(TypeError, match="floating-point"):
        SGD([np.zeros(3, dtype=int)])
    with pytest.raises(ValueError, match="empty"):
        SGD([])
    optimizer = Adam([np.zeros((2, 3)), np.zeros(3)])
    with pytest.raises(ValueError, match="1 gradient arrays for 2 parameter arrays"):
        optimizer.step([np.zeros((2, 3))])
    with pytest.raises(ValueError, match=re.escape("grads[1] has shape (2,)")):
        optimizer.step([np.zeros((2, 3)), np.zeros(2)])


@pytest.mark.parametrize("name", NAMES)
def test_float16_parameters_are_refused_by_name(name):
    """In float16 Adam's eps = 1e-8 rounds to 0: a zero gradient would give 0 / 0 and a message
    blaming the learning rate."""
    with pytest.raises(TypeError, match=r"params\[0\] has dtype float16; use float32 or float64"):
        make_optimizer(name, [np.ones(2, dtype=np.float16)])


def test_parameters_that_share_memory_are_refused():
    w = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"params\[0\] and params\[1\] share memory"):
        SGD([w, w])
    with pytest.raises(ValueError, match=r"params\[1\] and params\[2\] share memory"):
        Adam([np.zeros(2), w[:2], w[1:]])  # overlapping views
    SGD([w[:, ::2], w[:, 1::2]])  # interleaved views without a common entry are two parameters


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_integer_gradients_step_as_their_float_values(name, dtype):
    """AdaGrad squared integer gradients in integer arithmetic: 2**32 squared wrapped to 0 in
    int64 and the step divided by eps alone (w = -4.3e17)."""
    big = 1 if dtype == np.bool_ else 70_000 if dtype == np.int32 else 2**32
    grad = np.array([big, 1, 0], dtype=dtype)
    w_int, w_float = np.zeros(3), np.zeros(3)
    make_optimizer(name, [w_int]).step([grad])
    make_optimizer(name, [w_float]).step([grad.astype(np.float64)])
    np.testing.assert_array_equal(w_int, w_float)
    assert grad[0] == big  # the caller's gradient is untouched


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_gradient_raises_and_names_the_learning_rate(bad):
    w = np.ones(3)
    optimizer = Momentum([w], learning_rate=0.3)
    with pytest.raises(FloatingPointError, match=r"learning_rate \(now 0.3\)"):
        optimizer.step([np.array([0.0, bad, 0.0])])
    np.testing.assert_array_equal(w, 1.0)  # checked before anything moved


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov"])
def test_divergence_raises_an_error_not_warnings(quadratic, name):
    """A rate far above 2 / L makes the iterates grow geometrically until they overflow: a
    FloatingPointError naming the learning rate, and no RuntimeWarning on the way. (The adaptive
    rules move each coordinate by at most about the learning rate per step, so they cannot blow up
    this way.)"""
    A, b, _, _ = quadratic
    x = np.ones(6)
    optimizer = make_optimizer(name, [x], learning_rate=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match=r"learning_rate \(now 1\)"):
            for _ in range(10_000):
                with np.errstate(over="ignore", invalid="ignore"):  # the caller's gradient code
                    grad = A @ x - b
                optimizer.step([grad])


ADAPTIVE = ["adagrad", "rmsprop", "adadelta", "adam", "nadam"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ADAPTIVE)
def test_a_gradient_whose_square_overflows_says_so_not_lower_the_rate(name, dtype):
    """The rules that average g * g cannot take a gradient beyond sqrt(max float): the message
    names the overflowing square and says to clip or rescale; a smaller rate would not help."""
    huge = 1e160 if dtype == np.float64 else 1e25
    optimizer = make_optimizer(name, [np.zeros(3, dtype=dtype)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match="squared gradient overflowed") as info:
            optimizer.step([np.full(3, huge, dtype=dtype)])
    message = str(info.value)
    assert np.dtype(dtype).name in message
    assert "clip" in message and "does not help" in message
    assert "diverging" not in message  # at step 1 nothing has diverged


@pytest.mark.parametrize("name", NAMES)
def test_a_float64_gradient_beyond_float32_parameters_is_named(name):
    w = np.zeros(3, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(
            FloatingPointError,
            match=r"grads\[0\] has values up to 1e\+300, beyond "
            r"the largest float32",
        ) as info:
            make_optimizer(name, [w]).step([np.full(3, 1e300)])
    assert "does not help" in str(info.value)
    np.testing.assert_array_equal(w, 0.0)  # checked before anything moved


def test_step_takes_array_likes_and_rejects_gradients_that_are_not_numbers():
    w = np.zeros(3)
    optimizer = SGD([w], learning_rate=0.5)
    optimizer.step([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(w, [-0.5, -1.0, -1.5])
    with pytest.raises(TypeError, match=r"grads\[0\] must hold real numbers"):
        optimizer.step([np.array(["a", "b", "c"])])


def test_adaptive_schedule_rejects_an_objective_that_is_not_a_number():
    schedule = make_schedule("adaptive", eta0=0.1)
    with pytest.raises(ValueError, match="objective must be a real number"):
        schedule.end_epoch("a")
    assert schedule.end_epoch(np.nan) is True  # NaN is a number: no improvement


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["adam", "nadam"])
def test_adam_steps_with_a_gradient_whose_bias_corrected_square_would_overflow(name, dtype):
    """(1 - beta2) g^2 fits, but v / (1 - beta2) at t = 1 would not: the root of v is taken
    first, and the step is the usual one (it was an error blaming the learning rate)."""
    g = 1e155 if dtype == np.float64 else 1e20
    w = np.zeros(2, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_optimizer(name, [w], learning_rate=0.1).step([np.array([g, -g], dtype=dtype)])
    first_step = 1.0 if name == "adam" else 1.0 + 0.9 / 1.9  # see Nadam's notes
    np.testing.assert_allclose(w, [-0.1 * first_step, 0.1 * first_step], rtol=1e-6)


@pytest.mark.parametrize("name", ADAPTIVE)
def test_gradients_just_below_the_square_overflow_still_work(name):
    w = np.zeros(3)
    make_optimizer(name, [w]).step([np.full(3, 1e150)])
    assert np.all(np.isfinite(w)) and np.all(w < 0)


# -- learning-rate schedules -----------------------------------------------------------------------


def test_constant_schedule():
    schedule = make_schedule("constant", eta0=0.02)
    assert [schedule.rate(t) for t in (0, 1, 10**6)] == [0.02, 0.02, 0.02]
    assert schedule.end_epoch(1.0) is True


@pytest.mark.parametrize("power_t", [0.0, 0.25, 0.5, 1.0])
def test_invscaling_schedule_is_eta0_over_t_to_the_power(power_t):
    """t counts updates already made: the k-th update (k = t + 1, scikit-learn's count) gets
    eta0 / k ** power_t."""
    schedule = make_schedule("invscaling", eta0=0.3, power_t=power_t)
    for k in (1, 2, 3, 10, 1000):
        assert schedule.rate(k - 1) == pytest.approx(0.3 / k**power_t, rel=1e-15)
    assert schedule.end_epoch(np.inf) is True


@pytest.mark.parametrize("alpha", [1e-4, 1e-2, 1.0])
def test_optimal_schedule_follows_bottou(alpha):
    """rate(t) = 1 / (alpha (t0 + t)) with t0 set so that the first rate is Bottou's
    alpha^(-1/4) (typical weight over a loss slope of at most 1)."""
    schedule = make_schedule("optimal", eta0=0.01, alpha=alpha)
    assert schedule.rate(0) == pytest.approx(alpha**-0.25, rel=1e-12)
    t0 = 1.0 / (alpha * alpha**-0.25)
    for t in (1, 7, 10**5):
        assert schedule.rate(t) == pytest.approx(1.0 / (alpha * (t0 + t)), rel=1e-12)
    # Asymptotically 1 / (alpha t), the rate that gives SGD O(1/t) on an alpha-strongly convex goal.
    assert schedule.rate(10**12) * alpha * 10**12 == pytest.approx(1.0, rel=1e-3)
    assert schedule.end_epoch(0.0) is True


def test_adaptive_schedule_divides_by_five_after_n_iter_no_change_epochs():
    schedule = make_schedule("adaptive", eta0=0.1, n_iter_no_change=3, tol=1e-3)
    for objective in (5.0, 4.0, 3.0):  # improving: the rate stays
        assert schedule.end_epoch(objective) is True
        assert schedule.rate(0) == 0.1
    # Improvements smaller than tol do not count; two such epochs are not yet a plateau.
    for objective in (2.9995, 2.9991):
        assert schedule.end_epoch(objective) is True
        assert schedule.rate(100) == 0.1
    assert schedule.end_epoch(3.5) is True  # third epoch without an improvement of tol
    assert schedule.rate(200) == pytest.approx(0.02)
    # The count restarts after a division and after a real improvement.
    assert schedule.end_epoch(2.9991) and schedule.end_epoch(2.9991)
    assert schedule.end_epoch(2.0)
    assert schedule.end_epoch(2.0) and schedule.end_epoch(2.0)
    assert schedule.rate(300) == pytest.approx(0.02)
    assert schedule.end_epoch(2.0)
    assert schedule.rate(300) == pytest.approx(0.004)


def test_adaptive_schedule_gives_up_below_1e_6():
    schedule = make_schedule("adaptive", eta0=2e-5, n_iter_no_change=2, tol=1e-3)
    schedule.end_epoch(1.0)
    assert schedule.end_epoch(1.0) is True and schedule.end_epoch(1.0) is True
    assert schedule.rate(0) == pytest.approx(4e-6)  # divided once, still above 1e-6
    assert schedule.end_epoch(1.0) is True
    assert schedule.end_epoch(1.0) is False  # 8e-7 < 1e-6: the caller should stop
    assert schedule.rate(0) == pytest.approx(8e-7)
    assert schedule.end_epoch(0.0) is False  # and it stays given up


def test_adaptive_schedule_counts_nan_as_no_improvement_and_tol_none_switches_it_off():
    schedule = make_schedule("adaptive", eta0=1.0, n_iter_no_change=1)
    schedule.end_epoch(1.0)
    schedule.end_epoch(np.nan)
    assert schedule.rate(0) == pytest.approx(0.2)
    off = make_schedule("adaptive", eta0=1.0, n_iter_no_change=1, tol=None)
    assert all(off.end_epoch(1.0) for _ in range(20))
    assert off.rate(0) == 1.0


def test_unknown_schedule_lists_the_valid_names():
    with pytest.raises(ValueError, match="Unknown learning-rate schedule 'cosine'") as info:
        make_schedule("cosine", eta0=0.1)
    for name in ("constant", "invscaling", "optimal", "adaptive"):
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("name", ["constant", "invscaling", "optimal", "adaptive"])
@pytest.mark.parametrize("eta0", [0.0, -0.1, np.nan])
def test_schedule_rejects_eta0_not_positive(name, eta0):
    with pytest.raises(ValueError, match=r"^eta0 must"):
        make_schedule(name, eta0=eta0, alpha=1e-3)


@pytest.mark.parametrize(
    "name, params, parameter",
    [
        ("optimal", {"alpha": None}, "alpha"),
        ("optimal", {"alpha": 0.0}, "alpha"),
        ("invscaling", {"power_t": -0.5}, "power_t"),
        ("adaptive", {"n_iter_no_change": 0}, "n_iter_no_change"),
        ("adaptive", {"n_iter_no_change": 2.5}, "n_iter_no_change"),
        ("adaptive", {"tol": -1.0}, "tol"),
    ],
)
def test_schedule_rejects_bad_parameters_by_name(name, params, parameter):
    with pytest.raises(ValueError, match=parameter):
        make_schedule(name, eta0=0.1, **params)


def test_schedule_rejects_a_negative_update_count():
    with pytest.raises(ValueError, match="t counts the updates"):
        make_schedule("constant", eta0=0.1).rate(-1)


@pytest.mark.parametrize("name", ["constant", "invscaling", "optimal", "adaptive"])
@pytest.mark.parametrize("t", [np.nan, np.inf, -0.5, "a", None, True])
def test_schedule_rejects_an_update_count_that_is_not_a_finite_number(name, t):
    schedule = make_schedule(name, eta0=0.1, alpha=0.01)
    with pytest.raises(ValueError, match=r"t counts the updates.*finite number >= 0"):
        schedule.rate(t)


@pytest.mark.parametrize("name", ["constant", "invscaling", "optimal", "adaptive"])
def test_schedule_rejects_an_update_count_between_two_integers(name):
    schedule = make_schedule(name, eta0=0.1, alpha=0.01)
    with pytest.raises(ValueError, match=r"t counts the updates.*\(an integer\), got 1\.5"):
        schedule.rate(1.5)
    assert schedule.rate(3.0) == schedule.rate(3)  # a float counter holding an integer is fine


@pytest.mark.parametrize("name", ["constant", "invscaling", "optimal", "adaptive"])
@pytest.mark.parametrize("power_t", [0.7, 150.0, 1e6])
def test_schedule_rates_are_the_rates_of_consecutive_updates_without_warnings(name, power_t):
    schedule = make_schedule(name, eta0=1e10, power_t=power_t, alpha=1e-3)
    for start in (0, 190, 10**9):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (t + 1) ** 150 overflows from t = 113 on
            rates = schedule.rates(start, 20)
        expected = [schedule.rate(t) for t in range(start, start + 20)]
        np.testing.assert_allclose(rates, expected, rtol=1e-14, atol=0)
    assert schedule.rates(5, 0).shape == (0,)
    with pytest.raises(ValueError, match="count must be an integer >= 0"):
        schedule.rates(0, -1)


def test_invscaling_rate_beyond_the_overflow_of_the_power_is_computed_in_logarithms():
    schedule = make_schedule("invscaling", eta0=1e10, power_t=140.0)
    # 201 ** 140 = e^742.6 overflows, but 1e10 / 201 ** 140 = e^-719.6 is a (subnormal) float.
    expected = float(Decimal(10) ** 10 / Decimal(201) ** 140)  # exact to 28 digits
    assert expected > 0.0
    assert schedule.rate(200) == pytest.approx(expected, rel=1e-9)
    assert schedule.rates(200, 1)[0] == pytest.approx(expected, rel=1e-9)


def test_invscaling_with_a_huge_power_underflows_to_zero_instead_of_overflowing():
    schedule = make_schedule("invscaling", eta0=0.1, power_t=1e6)
    assert schedule.rate(0) == 0.1
    assert schedule.rate(5) == 0.0
    assert schedule.rate(np.int64(10**9)) == 0.0


def test_invscaling_rates_with_a_power_whose_logarithm_overflows_give_no_warning():
    # power_t log(t + 1) = 1e308 * log(11) overflows: the rate eta0 / 11 ** 1e308 is 0.0
    schedule = make_schedule("invscaling", eta0=0.1, power_t=1e308)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(schedule.rates(0, 3), [0.1, 0.0, 0.0])
        np.testing.assert_array_equal(schedule.rates(10, 3), [0.0, 0.0, 0.0])


def test_a_hyper_parameter_beyond_the_floats_is_named_not_an_overflow_error():
    with pytest.raises(ValueError, match=r"^learning_rate must be in \(0, inf\), got 1000"):
        make_optimizer("sgd", [np.zeros(2)], learning_rate=10**400)
    with pytest.raises(ValueError, match=r"^momentum must be in \[0, 1\), got -1000"):
        make_optimizer("momentum", [np.zeros(2)], momentum=-(10**400))


def test_schedules_take_an_update_count_beyond_the_floats():
    huge = 10**400  # a Python int that no float holds: the rates take their limit
    assert make_schedule("invscaling", eta0=0.1).rate(huge) == 0.0
    assert make_schedule("invscaling", eta0=0.1, power_t=0.0).rate(huge) == 0.1
    assert make_schedule("optimal", eta0=0.1, alpha=0.01).rate(huge) == 0.0
    assert make_schedule("constant", eta0=0.1).rate(huge) == 0.1


# -- gradient clipping -----------------------------------------------------------------------------


def test_clip_grad_norm_caps_the_joint_norm():
    rng = np.random.default_rng(7)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    direction = np.concatenate([g.ravel() for g in grads])
    norm = np.linalg.norm(direction)
    returned = clip_grad_norm(grads, max_norm=0.5 * norm)
    assert returned == pytest.approx(norm, rel=1e-14)
    clipped = np.concatenate([g.ravel() for g in grads])
    assert np.linalg.norm(clipped) == pytest.approx(0.5 * norm, rel=1e-14)
    np.testing.assert_allclose(clipped, 0.5 * direction, rtol=1e-14)  # same direction


def test_clip_grad_norm_leaves_small_gradients_untouched():
    rng = np.random.default_rng(8)
    grads = [rng.standard_normal((2, 2)), rng.standard_normal(3)]
    copies = [g.copy() for g in grads]
    norm = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
    assert clip_grad_norm(grads, max_norm=norm * 1.01) == pytest.approx(norm, rel=1e-14)
    for g, c in zip(grads, copies, strict=True):
        np.testing.assert_array_equal(g, c)


def test_clip_grad_norm_is_safe_for_huge_zero_and_non_finite_gradients():
    huge = [np.array([3e200, -4e200]), np.array([0.0])]  # the squares overflow
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clip_grad_norm(huge, max_norm=1.0) == pytest.approx(5e200, rel=1e-14)
    np.testing.assert_allclose(huge[0], [0.6, -0.8], rtol=1e-14)
    assert clip_grad_norm([np.zeros(3)], max_norm=1.0) == 0.0
    beyond = [np.array([1.5e308, 1.5e308])]  # finite, but the joint norm is not
    assert clip_grad_norm(beyond, max_norm=1.0) == np.inf
    np.testing.assert_allclose(beyond[0], [0.5**0.5, 0.5**0.5], rtol=1e-14)  # not zeroed
    broken = [np.array([1.0, np.inf])]
    assert clip_grad_norm(broken, max_norm=1.0) == np.inf
    np.testing.assert_array_equal(broken[0], [1.0, np.inf])  # left for the caller to handle


@pytest.mark.skipif(
    np.finfo(np.longdouble).max <= np.finfo(np.float64).max, reason="longdouble is float64 here"
)
def test_clip_grad_norm_clips_longdouble_gradients_whose_norm_exceeds_float64():
    grads = [np.full(4, np.longdouble("1e400"))]  # joint norm 2e400: finite in longdouble
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clip_grad_norm(grads, max_norm=1.0) == np.inf  # as a Python float
    # (1e400, ..., 1e400) scaled to norm 1 is (1/2, 1/2, 1/2, 1/2)
    np.testing.assert_allclose(grads[0].astype(np.float64), np.full(4, 0.5), rtol=1e-15)


def test_clip_grad_norm_of_float16_gradients_with_more_entries_than_float16_counts():
    # 70 000 squares of 1 sum past float16's largest value, 65504: they are summed in float32
    grads = [np.ones(70_000, dtype=np.float16)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norm = clip_grad_norm(grads, max_norm=1.0)
    assert norm == pytest.approx(np.sqrt(70_000), rel=1e-6)
    assert grads[0].dtype == np.float16
    assert np.linalg.norm(grads[0].astype(np.float64)) == pytest.approx(1.0, rel=1e-3)


@pytest.mark.parametrize("big, small", [(1e39, 3e38), (2e-50, 0.0)])
def test_clip_grad_norm_of_mixed_float32_and_float64_gradients(big, small):
    # A float64 array sets the scale; dividing the float32 one by it in float32 overflowed (the
    # norm 1e39 for 1.17e39, the clipped norm 1.17) or gave 0 / 0 (NaN for finite gradients).
    g32, g64 = np.full(4, small, dtype=np.float32), np.array([big, big / 2])
    true = math.hypot(*g32.astype(np.float64), *g64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norm = clip_grad_norm([g32, g64], max_norm=1.0)
    assert norm == pytest.approx(true, rel=1e-6)
    after = math.hypot(*g32.astype(np.float64), *g64)
    assert after == pytest.approx(min(true, 1.0), rel=1e-6)
    # each entry scaled in float64 and rounded once to float32 (a factor rounded to float32
    # first took 1e-20 to 0 and put 6.5e-7 of error on these)
    np.testing.assert_array_equal(g32, np.float32(small / true))


@pytest.mark.parametrize("dtype, value, big", [(np.float32, 1.0, 1e20), (np.float16, 600.0, 1e6)])
def test_clip_grad_norm_scales_each_array_by_the_unrounded_factor(dtype, value, big):
    # the factor (1e-20; 1e-6) rounded to the array's type first: 0 for float32, and float16's
    # subnormal 1e-6 times 600 gave 5.96e-4 for 6.0e-4
    g64, small = np.array([big]), np.array([value], dtype=dtype)
    true = math.hypot(value, big)
    clip_grad_norm([small, g64], max_norm=1.0)
    assert small[0] == dtype(value / true) != 0.0
    assert g64[0] == pytest.approx(big / true)


def test_clip_grad_norm_refuses_gradients_that_share_memory():
    buffer = np.full(4, 5.0)
    grads = [buffer[:3], buffer[1:]]  # two views overlapping in buffer[1:3]
    with pytest.raises(ValueError, match=r"grads\[0\] and grads\[1\] share memory"):
        clip_grad_norm(grads, max_norm=1.0)
    np.testing.assert_array_equal(buffer, np.full(4, 5.0))
    halves = [buffer[:2], buffer[2:]]  # views of one buffer that do not overlap are fine
    assert clip_grad_norm(halves, max_norm=1.0) == pytest.approx(10.0, rel=1e-15)
    np.testing.assert_allclose(buffer, np.full(4, 0.5), rtol=1e-15)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    exponent=st.integers(-300, 300),
    ratio=st.floats(0.01, 100.0),
)
def test_clip_grad_norm_on_any_scale_matches_math_hypot(seed, exponent, ratio):
    """At any scale (squares that underflow or overflow included) the returned norm is the joint
    norm, computed independently by math.hypot, and afterwards the norm is min(norm, max_norm)."""
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal((2, 3)) * 10.0**exponent, rng.standard_normal(4) * 10.0**exponent]
    before = np.concatenate([g.ravel() for g in grads])
    norm = math.hypot(*before)
    max_norm = ratio * norm
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        returned = clip_grad_norm(grads, max_norm=max_norm)
    assert returned == pytest.approx(norm, rel=1e-13)
    after = np.concatenate([g.ravel() for g in grads])
    assert math.hypot(*after) == pytest.approx(min(norm, max_norm), rel=1e-13)
    np.testing.assert_allclose(after, before * min(1.0, max_norm / norm), rtol=1e-13)


@pytest.mark.parametrize("max_norm", [0.0, -1.0, np.nan])
def test_clip_grad_norm_rejects_bad_max_norm(max_norm):
    with pytest.raises(ValueError, match=r"^max_norm must"):
        clip_grad_norm([np.ones(2)], max_norm=max_norm)


@pytest.mark.parametrize("name", ADAPTIVE)
@pytest.mark.parametrize(("param_dtype", "grad_dtype", "g"),
                         [(np.float32, np.float16, 300.0), (np.float64, np.float32, 1e20)])  # fmt: skip
def test_a_narrower_float_gradient_is_squared_in_the_parameters_dtype(
    name, param_dtype, grad_dtype, g
):
    """A float32 gradient of 1e20 squared in float32 overflowed and was reported as an overflow
    of the float64 parameter's squares (which hold 1e40 easily); the step now equals the one
    taken from the same gradient given in the parameter's dtype."""
    grad = np.array([g, 1.0], dtype=grad_dtype)
    w_narrow, w_wide = np.zeros(2, param_dtype), np.zeros(2, param_dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_optimizer(name, [w_narrow]).step([grad])
    make_optimizer(name, [w_wide]).step([grad.astype(param_dtype)])
    np.testing.assert_array_equal(w_narrow, w_wide)


@pytest.mark.parametrize("name", sorted(Optimizer.registry))
def test_step_scale_is_the_settled_step_per_unit_gradient(name):
    # A constant gradient, coordinates of very different sizes: after the rule's averages have
    # settled, one step moves each coordinate by -step_scale * g.
    g = np.array([3.0, -0.5, 1e-3, 20.0])
    w = np.zeros(4)
    rule = make_optimizer(name, [w], learning_rate=0.01)
    for _ in range(400):
        before = w.copy()
        rule.step([g])
    moved = w - before
    # AdaDelta's E[dx^2] grows with every step, so its step keeps growing (by 6e-4 relative over
    # the last 400 steps' scale, 2e-5 after 20,000): it settles only slowly.
    rtol = 1e-3 if name == "adadelta" else 1e-6
    np.testing.assert_allclose(moved, -rule.step_scale(0) * g, rtol=rtol)
