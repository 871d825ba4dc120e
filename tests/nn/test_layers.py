"""Layers and activations: forward passes against independent formulas, modes, stability."""

import warnings

import numpy as np
import pytest
from scipy.special import expit, softmax

from mlbasics.nn import (
    ELU,
    BatchNorm,
    Dense,
    Dropout,
    LeakyReLU,
    Maxout,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)

# -- Dense -----------------------------------------------------------------------------------------


def test_dense_forward_and_parameter_gradients_follow_the_matrix_formulas(seed):
    rng = np.random.default_rng(seed)
    layer = Dense(5, 3, rng=rng, dtype=np.float64)
    layer.b[:] = rng.standard_normal(3)
    X, G = rng.standard_normal((8, 5)), rng.standard_normal((8, 3))
    np.testing.assert_allclose(layer.forward(X, training=True), X @ layer.W + layer.b)
    grad_in = layer.backward(G.copy())
    np.testing.assert_allclose(layer.dW, X.T @ G)
    np.testing.assert_allclose(layer.db, G.sum(axis=0))
    np.testing.assert_allclose(grad_in, G @ layer.W.T)


def test_dense_without_bias_has_only_a_weight_subject_to_decay():
    layer = Dense(4, 2, bias=False, rng=np.random.default_rng(0))
    assert len(layer.params()) == 1 and layer.decays() == [True]
    assert Dense(4, 2, rng=np.random.default_rng(0)).decays() == [True, False]


def test_dense_rejects_bad_widths():
    with pytest.raises(ValueError, match="n_out must be an integer >= 1"):
        Dense(3, 0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        Dense(3, 2, rng=np.random.default_rng(0), dtype=np.int64)


# -- BatchNorm -------------------------------------------------------------------------------------


def test_batchnorm_training_output_has_zero_mean_and_unit_variance_per_feature(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=[3.0, -50.0, 0.0], scale=[0.1, 20.0, 1.0], size=(64, 3))
    bn = BatchNorm(3, dtype=np.float64, eps=1e-12)
    out = bn.forward(X, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=1e-9)


def test_batchnorm_applies_gamma_and_beta_after_normalising(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((10, 2))
    bn = BatchNorm(2, dtype=np.float64, eps=1e-5)
    bn.gamma[:] = [2.0, -1.0]
    bn.beta[:] = [0.5, 3.0]
    x_hat = (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + 1e-5)
    np.testing.assert_allclose(bn.forward(X, training=True), x_hat * [2.0, -1.0] + [0.5, 3.0])


def test_batchnorm_running_statistics_are_exponential_averages_with_unbiased_variance(seed):
    rng = np.random.default_rng(seed)
    bn = BatchNorm(3, momentum=0.2, dtype=np.float64)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(5):
        X = rng.normal(2.0, 3.0, size=(16, 3))
        bn.forward(X, training=True)
        mean = 0.8 * mean + 0.2 * X.mean(axis=0)
        var = 0.8 * var + 0.2 * X.var(axis=0, ddof=1)
    np.testing.assert_allclose(bn.running_mean, mean)
    np.testing.assert_allclose(bn.running_var, var)


def test_batchnorm_inference_uses_running_statistics_and_leaves_them_alone(seed):
    rng = np.random.default_rng(seed)
    bn = BatchNorm(2, dtype=np.float64)
    bn.running_mean[:] = [1.0, -2.0]
    bn.running_var[:] = [4.0, 0.25]
    X = rng.standard_normal((6, 2))
    expected = (X - [1.0, -2.0]) / np.sqrt(np.array([4.0, 0.25]) + bn.eps)
    np.testing.assert_allclose(bn.forward(X, training=False), expected)
    np.testing.assert_array_equal(bn.running_mean, [1.0, -2.0])
    # Row by row equals the whole batch: no statistic of the batch is used.
    rows = np.vstack([bn.forward(X[i : i + 1], training=False) for i in range(6)])
    np.testing.assert_allclose(rows, bn.forward(X, training=False), rtol=0, atol=1e-15)


def test_batchnorm_running_statistics_are_buffers_not_parameters():
    bn = BatchNorm(4)
    params = bn.params()
    assert len(params) == 2 and params[0] is bn.gamma and params[1] is bn.beta
    assert set(bn.buffers()) == {"running_mean", "running_var"}
    assert bn.decays() == [False, False]  # gamma and beta are not decayed


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e200])
def test_a_non_finite_batch_never_enters_the_running_statistics(bad):
    # 1e200 is finite, but its square (the variance) is not
    bn = BatchNorm(3, dtype=np.float64)
    X = np.arange(12.0).reshape(4, 3)
    X[0, 1] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(FloatingPointError, match="BatchNorm: the batch mean or variance"):
            bn.forward(X, training=True)
    np.testing.assert_array_equal(bn.running_mean, np.zeros(3))
    np.testing.assert_array_equal(bn.running_var, np.ones(3))
    # inference still uses the initial statistics: (x - 0) / sqrt(1 + eps)
    clean = np.ones((2, 3))
    np.testing.assert_allclose(bn.forward(clean, training=False), clean / np.sqrt(1.0 + bn.eps))


def test_batchnorm_refuses_a_training_batch_of_one_sample():
    with pytest.raises(ValueError, match="at least 2 samples"):
        BatchNorm(3).forward(np.ones((1, 3), dtype=np.float32), training=True)


def test_batchnorm_rejects_bad_hyper_parameters():
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(3, momentum=0.0)
    with pytest.raises(ValueError, match="eps"):
        BatchNorm(3, eps=-1)


# -- Dropout ---------------------------------------------------------------------------------------


def test_dropout_drops_a_fraction_p_and_scales_the_rest_by_one_over_one_minus_p(seed):
    layer = Dropout(0.3, rng=np.random.default_rng(seed))
    X = np.ones((400, 250))
    out = layer.forward(X, training=True)
    kept = out != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.01)  # 100k Bernoulli draws
    np.testing.assert_allclose(out[kept], 1.0 / 0.7)
    assert out.mean() == pytest.approx(1.0, abs=0.02)  # inverted: the expectation is kept


def test_dropout_backward_uses_the_forward_mask(seed):
    layer = Dropout(0.5, rng=np.random.default_rng(seed))
    out = layer.forward(np.ones((5, 6)), training=True)
    grad = layer.backward(np.full((5, 6), 3.0))
    np.testing.assert_allclose(grad, 3.0 * out)


def test_dropout_is_the_identity_at_inference(seed):
    layer = Dropout(0.9, rng=np.random.default_rng(seed))
    X = np.random.default_rng(seed).standard_normal((4, 3))
    assert layer.forward(X, training=False) is X
    assert layer.backward(X) is X


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_probability_outside_zero_one_is_rejected(p):
    with pytest.raises(ValueError, match=r"must be in \[0, 1\)"):
        Dropout(p, rng=np.random.default_rng(0))


def test_dropout_needs_a_generator():
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator"):
        Dropout(0.5, rng=0)


# -- activations -----------------------------------------------------------------------------------

EXTREME = np.array([[-1e4, -30.0, -1.0, 0.0, 1.0, 30.0, 1e4]])


@pytest.mark.parametrize(
    ("layer", "reference"),
    [
        (Sigmoid(), expit),
        (Tanh(), np.tanh),
        (ReLU(), lambda x: np.where(x > 0, x, 0.0)),
        (LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
        (ELU(1.5), lambda x: np.where(x > 0, x, 1.5 * (np.exp(np.minimum(x, 0)) - 1))),
        (Softmax(), lambda x: softmax(x, axis=1)),
    ],
    ids=["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softmax"],
)
def test_activation_matches_reference_without_warnings_at_extreme_inputs(layer, reference):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in (np.float64, np.float32):
            x = EXTREME.astype(dtype)
            out = layer.forward(x, training=False)
            assert np.all(np.isfinite(out))
            np.testing.assert_allclose(out, reference(EXTREME), rtol=1e-6, atol=1e-30)
            assert np.all(np.isfinite(layer.backward(np.ones_like(x))))


def test_maxout_takes_the_maximum_of_each_group_and_routes_the_gradient_to_it():
    x = np.array([[1.0, 5.0, -3.0, 2.0, 0.0, -1.0], [7.0, 0.0, 1.0, -4.0, 9.0, 8.0]])
    layer = Maxout(3)
    np.testing.assert_array_equal(layer.forward(x, training=True), [[5.0, 2.0], [7.0, 9.0]])
    grad = layer.backward(np.array([[10.0, 20.0], [30.0, 40.0]]))
    expected = np.zeros_like(x)
    expected[0, 1], expected[0, 3], expected[1, 0], expected[1, 4] = 10, 20, 30, 40
    np.testing.assert_array_equal(grad, expected)


def test_maxout_rejects_widths_not_divisible_by_its_pool_size():
    with pytest.raises(ValueError, match="divisible"):
        Maxout(2).forward(np.ones((2, 5)), training=False)
    with pytest.raises(ValueError, match="pool_size"):
        Maxout(1)


def test_sigmoid_derivative_is_at_most_a_quarter_the_vanishing_gradient():
    x = np.linspace(-10, 10, 2001)[None, :]
    layer = Sigmoid()
    layer.forward(x, training=True)
    derivative = layer.backward(np.ones_like(x))
    assert derivative.max() == pytest.approx(0.25)
    assert derivative[0, 0] < 1e-4  # saturated


# -- misuse: wrong inputs, wrong order of calls ----------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (4, 2), (4, 3, 1)])
def test_dense_rejects_an_input_that_is_not_a_batch_of_its_width(shape):
    layer = Dense(3, 2, rng=np.random.default_rng(0))
    with pytest.raises(
        ValueError, match=r"Dense\(3, 2\) takes a 2-D input of shape \(n_samples, 3\)"
    ):
        layer.forward(np.ones(shape), training=False)


@pytest.mark.parametrize("shape", [(5, 1), (5, 3), (5,), (5, 4, 1)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_rejects_an_input_that_is_not_a_batch_of_its_width(shape, training):
    # a one-column batch broadcast against the four features' statistics, silently: its mean
    # went into every entry of running_mean
    layer = BatchNorm(4, dtype=np.float64)
    with pytest.raises(ValueError, match=r"BatchNorm\(4.*\) takes a 2-D input of shape"):
        layer.forward(np.arange(np.prod(shape), dtype=float).reshape(shape), training=training)
    np.testing.assert_array_equal(layer.running_mean, np.zeros(4))


@pytest.mark.parametrize(
    "layer",
    [
        Dense(3, 2, rng=np.random.default_rng(0)),
        BatchNorm(2),
        Sigmoid(),
        Tanh(),
        ReLU(),
        LeakyReLU(),
        ELU(),
        Maxout(2),
        Softmax(),
        Dropout(0.5, rng=np.random.default_rng(0)),
    ],
    ids=repr,
)
def test_backward_before_forward_says_so(layer):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.ones((4, 2)))


@pytest.mark.parametrize("p", ["0.5", True, None])
def test_dropout_probability_must_be_a_real_number(p):
    with pytest.raises(TypeError, match="dropout probability p must be a real number"):
        Dropout(p, rng=np.random.default_rng(0))


@pytest.mark.parametrize("name, value", [("momentum", "0.1"), ("eps", True)])
def test_batchnorm_hyper_parameters_must_be_real_numbers(name, value):
    with pytest.raises(TypeError, match=f"{name} must be a real number"):
        BatchNorm(3, **{name: value})


@pytest.mark.parametrize("layer", [Maxout(2), Softmax()], ids=repr)
def test_row_wise_activations_take_a_2d_batch_of_any_numbers(layer):
    # alone (outside a Sequential, which casts), integers failed inside np.exp(out=) and a 1-D
    # input at the unpacking of its shape
    with pytest.raises(
        ValueError, match=r"takes a 2-D input \(n_samples, width\), got shape \(4,\)"
    ):
        layer.forward(np.arange(4), training=False)
    integers = np.array([[1, 2, 3, 4], [0, 0, 5, -1]])
    np.testing.assert_array_equal(
        layer.forward(integers, training=False),
        layer.forward(integers.astype(float), training=False),
    )
