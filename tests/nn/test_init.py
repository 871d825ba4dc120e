"""Initialisers: the variances of their formulas, and the 20-layer ReLU experiment of the notes."""

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from mlbasics.nn import Dense, ReLU, Sequential, init
from mlbasics.nn._init import get_initializer

FAN_IN, FAN_OUT = 400, 300

# name: (expected variance, distribution family for a Kolmogorov-Smirnov test)
EXPECTED = {
    "xavier_normal": (2.0 / (FAN_IN + FAN_OUT), "norm"),
    "xavier_uniform": (2.0 / (FAN_IN + FAN_OUT), "uniform"),
    "he_normal": (2.0 / FAN_IN, "norm"),
    "he_uniform": (2.0 / FAN_IN, "uniform"),
}


@pytest.mark.parametrize("name", EXPECTED)
def test_initialiser_has_the_variance_and_distribution_of_its_formula(name, seed):
    variance, family = EXPECTED[name]
    W = init.INITIALIZERS[name]((FAN_IN, FAN_OUT), np.random.default_rng(seed), dtype=np.float64)
    assert W.shape == (FAN_IN, FAN_OUT)
    # 120k draws: the sample variance is within 2 % of the true one with overwhelming probability.
    assert W.var() == pytest.approx(variance, rel=0.02)
    assert abs(W.mean()) < 5 * math.sqrt(variance / W.size)
    std = math.sqrt(variance)
    if family == "norm":
        reference = stats.norm(scale=std)
    else:  # U(-a, a) with a^2 / 3 = variance
        a = math.sqrt(3 * variance)
        reference = stats.uniform(loc=-a, scale=2 * a)
    assert stats.kstest(W.ravel()[:5000], reference.cdf).pvalue > 1e-4


def test_normal_and_uniform_take_their_scale_from_the_argument(seed):
    rng = np.random.default_rng(seed)
    assert init.normal((300, 300), rng, std=0.1).std() == pytest.approx(0.1, rel=0.02)
    U = init.uniform((300, 300), rng, limit=0.5, dtype=np.float64)
    assert U.min() >= -0.5 and U.max() <= 0.5
    assert U.var() == pytest.approx(0.25 / 3, rel=0.02)


def test_truncated_normal_stays_within_two_standard_deviations(seed):
    W = init.truncated_normal((300, 300), np.random.default_rng(seed), std=0.5, dtype=np.float64)
    assert np.abs(W).max() <= 1.0
    # Variance of N(0, 1) truncated to [-2, 2], from scipy.
    expected = stats.truncnorm(-2, 2, scale=0.5).var()
    assert W.var() == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5)])
def test_orthogonal_has_orthonormal_rows_or_columns(shape, seed):
    Q = init.orthogonal(shape, np.random.default_rng(seed), dtype=np.float64, gain=2.0)
    small = min(shape)
    gram = Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-12)


def test_orthogonal_refuses_a_one_dimensional_shape():
    # (a numpy reshape error before)
    with pytest.raises(ValueError, match="orthogonal needs a shape of at least 2 dimensions"):
        init.orthogonal((3,), np.random.default_rng(0))


def test_zeros_and_dtypes():
    assert not init.zeros((3, 2)).any()
    assert init.he_normal((3, 2), np.random.default_rng(0)).dtype == np.float32
    assert init.he_normal((3, 2), np.random.default_rng(0), dtype=np.float64).dtype == np.float64


def test_same_generator_state_gives_the_same_weights():
    a = init.xavier_uniform((5, 3), np.random.default_rng(7))
    b = init.xavier_uniform((5, 3), np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_aliases_resolve_to_the_documented_rules():
    assert get_initializer("he") is init.he_normal
    assert get_initializer("kaiming_uniform") is init.he_uniform
    assert get_initializer("xavier") is init.xavier_uniform
    assert get_initializer("glorot_normal") is init.xavier_normal


def test_bad_arguments_are_rejected_with_clear_messages():
    with pytest.raises(ValueError, match=r"Unknown initialiser 'lecun'.*he_normal"):
        get_initializer("lecun")
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator"):
        init.he_normal((3, 2), np.random.RandomState(0))
    with pytest.raises(ValueError, match="positive integers"):
        init.he_normal((0, 2), np.random.default_rng(0))
    with pytest.raises(ValueError, match="std must be"):
        init.normal((3, 2), np.random.default_rng(0), std=-1.0)


# -- the experiment: activations through 20 ReLU layers ------------------------------------------

DEPTH = 20


def relu_stack_second_moments(initialiser, seed, *, width=256, n_networks=8, n_samples=128):
    """Mean square of the output of each of DEPTH Dense+ReLU layers, relative to the input's.

    He et al. track the second moment :math:`E[a^2]` over random weights and inputs: for zero-mean
    weights ``Var(z_l) = n Var(W) E[a_{l-1}^2]`` and ``E[relu(z)^2] = Var(z) / 2``, so
    ``Var(W) = 2 / n`` keeps ``E[a_l^2]`` equal to the input's ``E[x^2]`` in every layer. The
    expectation is over the weights too: the activations of ``n_networks`` independently
    initialised stacks are pooled (one finite-width stack drifts randomly by a factor that shrinks
    like 1/sqrt(width); see the slow test for single networks). Float64, so that the exploding case
    can grow to 1e40 without overflowing.
    """
    rng = np.random.default_rng(seed)
    sums, input_sum = np.zeros(DEPTH), 0.0
    for _ in range(n_networks):
        layers = []
        for _ in range(DEPTH):
            layers += [Dense(width, width, init=initialiser, rng=rng, dtype=np.float64), ReLU()]
        X = rng.standard_normal((n_samples, width))
        outputs = Sequential(layers).activations(X)[1::2]  # after each ReLU
        sums += [np.mean(a * a) for a in outputs]
        input_sum += np.mean(X * X)
    return sums / input_sum


def _std_normal(shape, rng, *, dtype):
    return init.normal(shape, rng, dtype=dtype, std=1.0)


def _small_normal(shape, rng, *, dtype):
    return init.normal(shape, rng, dtype=dtype, std=0.01)


@pytest.mark.parametrize("name", ["he_normal", "he_uniform"])
def test_he_keeps_the_activation_scale_through_20_relu_layers(name, seed):
    ratios = relu_stack_second_moments(name, seed)
    assert ratios.shape == (DEPTH,)
    assert np.all((ratios > 0.5) & (ratios < 2.0)), ratios


@pytest.mark.slow
@pytest.mark.parametrize("name", ["he_normal", "he_uniform"])
def test_he_keeps_the_activation_scale_for_ten_seeds_at_width_1024(name):
    """At width 1024 the random fluctuation of the per-layer gain is small enough for any seed."""
    for seed in range(10):
        ratios = relu_stack_second_moments(name, seed, width=1024, n_networks=1)
        assert np.all((ratios > 0.5) & (ratios < 2.0)), (seed, ratios)


def test_unit_normal_init_explodes_through_20_relu_layers(seed):
    ratios = relu_stack_second_moments(_std_normal, seed, n_networks=1)
    # Each layer multiplies E[a^2] by about n Var(W) / 2 = 128.
    assert np.all(np.diff(np.log(ratios)) > np.log(50))
    assert ratios[-1] > 1e35


def test_small_normal_init_vanishes_through_20_relu_layers(seed):
    ratios = relu_stack_second_moments(_small_normal, seed, n_networks=1)
    # Each layer multiplies E[a^2] by about n Var(W) / 2 = 0.0128.
    assert np.all(np.diff(np.log(ratios)) < np.log(0.03))
    assert ratios[-1] < 1e-30


def test_xavier_halves_the_scale_of_relu_activations_at_every_layer(seed):
    """Xavier's variance 2 / (n + n) = 1 / n ignores that ReLU drops half: E[a^2] halves per
    layer, 2**-20 after 20 layers (the notes: Xavier suits tanh, not ReLU)."""
    ratios = relu_stack_second_moments("xavier_normal", seed, n_networks=4)
    halving = ratios * 2.0 ** np.arange(1, DEPTH + 1)  # 1 if each layer exactly halves
    assert np.all((halving > 0.5) & (halving < 2.0)), halving
    assert ratios[-1] < 1e-5


@pytest.mark.parametrize(
    "initializer, options, dtype, name",
    [
        (init.normal, {"std": 1e300}, np.float32, "std"),  # fits float64, not float32
        (init.normal, {"std": 1e308}, np.float64, "std"),
        (init.uniform, {"limit": 1e300}, np.float32, "limit"),
        (init.uniform, {"limit": 1e308}, np.float64, "limit"),
        (init.truncated_normal, {"std": 1e300}, np.float32, "std"),
        (init.orthogonal, {"gain": 1e300}, np.float32, "gain"),
    ],
)
def test_a_scale_that_overflows_the_dtype_is_named_instead_of_giving_infinite_weights(
    initializer, options, dtype, name
):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(
            ValueError, match=rf"^{name}=1e\+30\d makes the initial weights overflow"
        ):
            initializer((20, 30), np.random.default_rng(0), dtype=dtype, **options)
