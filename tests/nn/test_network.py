"""Sequential: the flat parameter layout, weight decay, clipping, pickling, the training epoch."""

import pickle
import warnings

import numpy as np
import pytest

from mlbasics.nn import (
    BatchNorm,
    Dense,
    Dropout,
    Layer,
    Maxout,
    MeanSquaredError,
    ReLU,
    Sequential,
    SoftmaxCrossEntropy,
    Tanh,
    TrainingDivergedError,
    train_epoch,
)
from mlbasics.nn._network import batch_bounds
from mlbasics.optim import make_optimizer


def small_net(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return Sequential(
        [Dense(3, 5, bias=False, rng=rng), BatchNorm(5), ReLU(), Dense(5, 2, rng=rng)],
        dtype=dtype,
    )


def test_layer_parameters_are_views_into_one_flat_vector():
    net = small_net()
    assert net.n_params == 3 * 5 + 5 + 5 + 5 * 2 + 2
    offset = 0
    for param, grad in zip(net.params(), net.grads(), strict=True):
        assert np.shares_memory(param, net.flat_params)
        assert np.shares_memory(grad, net.flat_grads)
        np.testing.assert_array_equal(param.ravel(), net.flat_params[offset : offset + param.size])
        offset += param.size
    net.flat_params[:] = 7.0
    assert np.all(net.layers[0].W == 7.0) and np.all(net.layers[1].gamma == 7.0)


def test_decay_mask_covers_weight_matrices_only():
    net = small_net()
    mask = np.concatenate(
        [
            np.full(p.size, float(d))
            for layer in net.layers
            for p, d in zip(layer.params(), layer.decays(), strict=True)
        ]
    )
    np.testing.assert_array_equal(net.decay_mask, mask)
    assert net.decay_mask.sum() == 3 * 5 + 5 * 2  # not gamma, beta or the output bias
    W0, W1 = net.layers[0].W, net.layers[3].W
    expected = 0.5 * 0.1 * (np.sum(W0.astype(float) ** 2) + np.sum(W1.astype(float) ** 2))
    assert net.penalty(0.1) == pytest.approx(expected, rel=1e-5)


def test_an_optimizer_on_the_flat_vector_moves_every_layer():
    net = small_net()
    before = [p.copy() for p in net.params()]
    optimizer = make_optimizer("sgd", [net.flat_params], learning_rate=0.5)
    net.flat_grads[:] = 1.0
    optimizer.step([net.flat_grads])
    for old, new in zip(before, net.params(), strict=True):
        np.testing.assert_allclose(new, old - 0.5)


def test_weight_decay_in_an_epoch_shrinks_weights_but_not_biases_or_batchnorm():
    """With a zero data gradient (the loss's target equals the output), only the decay moves."""
    net = small_net(dtype=np.float64)
    net.layers[3].b[:] = 0.3
    before = [p.copy() for p in net.params()]
    X = np.zeros((4, 3))  # BN of a constant batch is beta: the output is b + beta @ W, fixed
    target = net.forward(X, training=True).copy()
    optimizer = make_optimizer("sgd", [net.flat_params], learning_rate=0.1)
    train_epoch(net, MeanSquaredError(), optimizer, X, target, batch_size=4, alpha=0.5)
    W0, gamma, beta, _, b1 = net.params()
    np.testing.assert_allclose(W0, before[0] * (1 - 0.1 * 0.5))
    np.testing.assert_allclose(gamma, before[1])
    np.testing.assert_allclose(beta, before[2])
    np.testing.assert_allclose(b1, before[4])


def test_gradient_clipping_bounds_the_step_of_plain_sgd():
    net = small_net(dtype=np.float64)
    X = np.random.default_rng(0).standard_normal((8, 3)) * 100
    y = np.full((8, 2), 1e3)
    before = net.flat_params.copy()
    optimizer = make_optimizer("sgd", [net.flat_params], learning_rate=1.0)
    train_epoch(net, MeanSquaredError(), optimizer, X, y, batch_size=8, clip_norm=0.01)
    assert np.linalg.norm(net.flat_params - before) == pytest.approx(0.01, rel=1e-9)


def test_pickled_network_and_optimizer_keep_sharing_the_parameters():
    net = small_net()
    optimizer = make_optimizer("adam", [net.flat_params], learning_rate=0.1)
    net2, optimizer2 = pickle.loads(pickle.dumps((net, optimizer)))
    assert optimizer2.params[0] is net2.flat_params
    for param in net2.params():
        assert np.shares_memory(param, net2.flat_params)
    X, y = np.random.default_rng(0).standard_normal((6, 3)), np.array([0, 1, 0, 1, 1, 0])
    for a, opt in ((net, optimizer), (net2, optimizer2)):
        train_epoch(a, SoftmaxCrossEntropy(), opt, X, y, batch_size=3)
    np.testing.assert_array_equal(net.layers[0].W, net2.layers[0].W)


def test_astype_returns_an_independent_copy_in_the_new_dtype():
    net = small_net()
    net64 = net.astype(np.float64)
    assert net64.dtype == np.float64 and net64.flat_params.dtype == np.float64
    assert all(p.dtype == np.float64 for p in net64.params())
    np.testing.assert_allclose(net64.flat_params, net.flat_params)
    net64.flat_params[:] = 0
    assert np.any(net.flat_params != 0)


def test_get_and_set_state_restore_parameters_and_running_statistics():
    net = small_net()
    state = net.get_state()
    X = np.random.default_rng(0).standard_normal((10, 3))
    reference = net.forward(X, training=False).copy()
    net.forward(X * 5 + 2, training=True)  # moves the running statistics
    net.flat_params += 1
    net.set_state(state)
    np.testing.assert_array_equal(net.forward(X, training=False), reference)


def test_activations_lists_the_output_of_every_layer():
    net = small_net()
    X = np.ones((4, 3))
    outputs = net.activations(X)
    assert [o.shape for o in outputs] == [(4, 5), (4, 5), (4, 5), (4, 2)]
    np.testing.assert_array_equal(outputs[-1], net.forward(X))


def test_train_epoch_learns_xor_of_signs(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((400, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    net = Sequential([Dense(2, 32, rng=rng), Tanh(), Dense(32, 2, rng=rng)])
    optimizer = make_optimizer("adam", [net.flat_params], learning_rate=0.02)
    losses = [
        train_epoch(net, SoftmaxCrossEntropy(), optimizer, X, y, batch_size=32, rng=rng)
        for _ in range(60)
    ]
    assert losses[-1] < 0.5 * losses[0]
    assert (net.forward(X).argmax(axis=1) == y).mean() > 0.95


def test_a_diverging_run_raises_a_clear_error_instead_of_nan():
    rng = np.random.default_rng(0)
    net = Sequential([Dense(4, 8, rng=rng), ReLU(), Dense(8, 1, rng=rng)], dtype=np.float32)
    X = rng.standard_normal((64, 4)) * 1e3
    y = rng.standard_normal((64, 1)) * 1e6
    optimizer = make_optimizer("sgd", [net.flat_params], learning_rate=10.0)
    with pytest.raises(TrainingDivergedError, match=r"learning rate.*clip_norm"):
        for _ in range(50):
            train_epoch(net, MeanSquaredError(), optimizer, X, y, batch_size=16)


def test_a_last_batch_of_one_sample_joins_the_previous_one():
    assert batch_bounds(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert batch_bounds(9, 3) == [(0, 3), (3, 6), (6, 9)]
    assert batch_bounds(1, 3) == [(0, 1)]


def test_dropout_draws_a_new_mask_at_every_training_pass_only():
    rng = np.random.default_rng(0)
    net = Sequential([Dense(3, 50, rng=rng), Dropout(0.5, rng=rng)])
    X = np.ones((2, 3))
    assert not np.array_equal(net.forward(X, training=True), net.forward(X, training=True))
    np.testing.assert_array_equal(net.forward(X), net.forward(X))


def test_sequential_rejects_what_is_not_a_layer():
    with pytest.raises(ValueError, match="at least one layer"):
        Sequential([])
    with pytest.raises(TypeError, match="lacks forward"):
        Sequential([np.eye(2)])


def _epoch_args(net):
    return MeanSquaredError(), make_optimizer("sgd", [net.flat_params])


def test_train_epoch_rejects_empty_data_and_a_bad_batch_size():
    net = Sequential([Dense(2, 1, rng=np.random.default_rng(0))], dtype=np.float64)
    with pytest.raises(ValueError, match=r"X must be a non-empty 2-D array.*\(0, 2\)"):
        train_epoch(net, *_epoch_args(net), np.ones((0, 2)), np.ones((0, 1)), batch_size=2)
    for batch_size in (0, -3, 2.5, None):
        with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
            train_epoch(
                net, *_epoch_args(net), np.ones((4, 2)), np.ones((4, 1)), batch_size=batch_size
            )


def test_train_epoch_rejects_inputs_and_targets_of_the_wrong_shape():
    net = Sequential([Dense(2, 1, rng=np.random.default_rng(0))], dtype=np.float64)
    with pytest.raises(ValueError, match="X has 3 features, but the network's first layer takes 2"):
        train_epoch(net, *_epoch_args(net), np.ones((4, 3)), np.ones((4, 1)), batch_size=2)
    with pytest.raises(ValueError, match="target must have one row per sample: X has 4 rows"):
        train_epoch(net, *_epoch_args(net), np.ones((4, 2)), np.ones((3, 1)), batch_size=2)
    # The width is found through layers that keep it (here BatchNorm is first).
    bn_first = Sequential([BatchNorm(3), Dense(3, 1, rng=np.random.default_rng(0))])
    with pytest.raises(ValueError, match="X has 2 features, but the network's first layer takes 3"):
        train_epoch(bn_first, *_epoch_args(bn_first), np.ones((4, 2)), np.ones(4), batch_size=2)


def test_train_epoch_rejects_bad_settings_by_name():
    net = Sequential([Dense(2, 1, rng=np.random.default_rng(0))], dtype=np.float64)
    X, y = np.ones((4, 2)), np.ones((4, 1))
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        train_epoch(net, *_epoch_args(net), X, y, batch_size=2, alpha=-1.0)
    with pytest.raises(ValueError, match="clip_norm must be None or a finite number > 0"):
        train_epoch(net, *_epoch_args(net), X, y, batch_size=2, clip_norm=0.0)
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        train_epoch(net, *_epoch_args(net), X, y, batch_size=2, rng=0)
    # Python ints beyond int64 (numpy's isfinite takes none) and beyond float64
    with pytest.raises(ValueError, match=r"alpha must be a finite number >= 0, got 1000"):
        train_epoch(net, *_epoch_args(net), X, y, batch_size=2, alpha=10**400)
    with pytest.raises(ValueError, match=r"clip_norm must be None or a finite number > 0, got -1"):
        train_epoch(net, *_epoch_args(net), X, y, batch_size=2, clip_norm=-(10**30))
    with pytest.raises(ValueError, match=r"alpha=1e\+300 does not fit in the network's float32"):
        net32 = small_net()
        train_epoch(net32, *_epoch_args(net32), np.ones((4, 3)), y, batch_size=2, alpha=1e300)
    other = make_optimizer("sgd", [np.zeros(net.n_params)])
    with pytest.raises(ValueError, match="optimizer does not update this network"):
        train_epoch(net, MeanSquaredError(), other, X, y, batch_size=2)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_train_epoch_names_non_finite_data_instead_of_blaming_the_learning_rate(bad):
    net = Sequential([Dense(2, 1, rng=np.random.default_rng(0))], dtype=np.float64)
    X = np.ones((4, 2))
    X[1, 0] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="X contains NaN or infinity"):
            train_epoch(net, *_epoch_args(net), X, np.ones((4, 1)), batch_size=2)


def test_huge_integer_alpha_and_clip_norm_are_taken_as_floats():
    # 10**30 does not fit int64: the same epoch as with the float 1e30 (a clip_norm this large
    # clips nothing, so also the same as without)
    X, y = np.random.default_rng(2).standard_normal((8, 3)), np.ones((8, 2))
    results = []
    for settings in ({"alpha": 10**30}, {"alpha": 1e30}, {"clip_norm": 10**30}, {}):
        net = small_net(dtype=np.float64)
        loss = train_epoch(net, *_epoch_args(net), X, y, batch_size=4, **settings)
        results.append((loss, net.flat_params.copy()))
    assert results[0][0] == results[1][0] and results[2][0] == results[3][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    np.testing.assert_array_equal(results[2][1], results[3][1])


def test_a_nan_batch_leaves_a_batchnorm_network_predicting_as_before():
    net = small_net(dtype=np.float64)
    X = np.random.default_rng(1).standard_normal((6, 3))
    before = net.forward(X, training=False)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(FloatingPointError, match="NaN or infinite"):
        net.forward(bad, training=True)
    np.testing.assert_array_equal(net.forward(X, training=False), before)
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        train_epoch(net, *_epoch_args(net), bad, np.ones((6, 2)), batch_size=6)
    np.testing.assert_array_equal(net.forward(X, training=False), before)


@pytest.mark.parametrize("x", [np.array([[1 + 5j, 2.0]]), np.array([["1", "2"]])])
def test_inputs_that_are_not_real_numbers_are_refused(x):
    # complex inputs lost their imaginary part with only a ComplexWarning; strings were parsed
    net = Sequential([Dense(2, 2, rng=np.random.default_rng(0))])
    with pytest.raises(ValueError, match="x must hold real numbers, got an array of dtype"):
        net.forward(x)


def test_values_too_large_for_a_float32_network_are_named_without_a_warning():
    net = small_net(dtype=np.float32)
    X = np.ones((4, 3))
    X[0, 0] = 1e150
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"X has values up to 1e\+150.*do not fit in float32"):
            train_epoch(
                net,
                SoftmaxCrossEntropy(),
                make_optimizer("sgd", [net.flat_params]),
                X,
                np.array([0, 1, 0, 1]),
                batch_size=2,
            )
        with pytest.raises(ValueError, match=r"x has values up to 1e\+150.*float64 network"):
            net.forward(X)


def test_a_gradient_too_large_for_adam_is_not_blamed_on_the_learning_rate():
    rng = np.random.default_rng(0)
    net = Sequential([Dense(3, 2, rng=rng)], dtype=np.float32)
    X = rng.standard_normal((8, 3)) * 1e25  # fits in float32; the squared gradient does not
    y = 1 - net.forward(X).argmax(axis=1)  # every prediction wrong: a large gradient
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDivergedError, match="squared gradient overflowed") as info:
            train_epoch(
                net,
                SoftmaxCrossEntropy(),
                make_optimizer("adam", [net.flat_params]),
                X,
                y,
                batch_size=4,
            )
    assert "Lower the learning rate" not in str(info.value)


def test_an_overflow_at_the_initial_weights_is_not_blamed_on_the_learning_rate():
    rng = np.random.default_rng(0)
    net = Sequential([Dense(3, 1, rng=rng)], dtype=np.float32)
    X = rng.standard_normal((8, 3)) * 1e25  # the gradient X^T (z - y) / n overflows float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDivergedError, match="before the first update") as info:
            train_epoch(
                net,
                MeanSquaredError(),
                make_optimizer("sgd", [net.flat_params]),
                X,
                np.zeros((8, 1)),
                batch_size=4,
            )
    assert "smaller learning rate cannot help" in str(info.value)
    assert "float32 network" in str(info.value)
    assert "use float64 (dtype='float64'" in str(info.value)  # a float32 network can move up


def _dense(n_in, n_out):
    return Dense(n_in, n_out, rng=np.random.default_rng(0))


@pytest.mark.parametrize(
    "layers, message",
    [
        (
            lambda: [_dense(3, 4), _dense(5, 2)],
            r"layers\[1\] Dense\(5, 2\) takes inputs of width 5, but layers\[0\] Dense\(3, 4\) "
            r"before it gives outputs of width 4",
        ),
        (  # through layers that keep the width
            lambda: [
                _dense(3, 4),
                ReLU(),
                Dropout(0.5, rng=np.random.default_rng(0)),
                _dense(3, 2),
            ],
            r"layers\[3\] Dense\(3, 2\) takes inputs of width 3, but layers\[0\] Dense\(3, 4\)",
        ),
        (
            lambda: [_dense(3, 4), BatchNorm(5)],
            r"layers\[1\] BatchNorm\(5.*takes inputs of width 5, but layers\[0\] Dense\(3, 4\)",
        ),
        (  # Maxout halves the width: 8 -> 4
            lambda: [_dense(3, 8), Maxout(2), _dense(8, 2)],
            r"layers\[2\] Dense\(8, 2\) takes inputs of width 8, but layers\[1\] Maxout\(pool_size=2\)"
            r" before it gives outputs of width 4",
        ),
        (
            lambda: [_dense(3, 5), Maxout(2)],
            r"layers\[1\] Maxout\(pool_size=2\) needs an input width divisible by 2, but "
            r"layers\[0\] Dense\(3, 5\)",
        ),
    ],
)
def test_consecutive_layers_of_different_widths_are_rejected_at_construction(layers, message):
    with pytest.raises(ValueError, match=message):
        Sequential(layers())


def test_layers_of_matching_widths_build_a_network():
    net = Sequential([_dense(3, 8), Maxout(2), BatchNorm(4), Tanh(), _dense(4, 2)])
    assert net.forward(np.ones((5, 3))).shape == (5, 2)


def test_train_epoch_rejects_a_loss_name_or_a_missing_optimizer_with_a_type_error():
    net = Sequential([Dense(2, 1, rng=np.random.default_rng(0))], dtype=np.float64)
    X, y = np.ones((4, 2)), np.ones((4, 1))
    optimizer = make_optimizer("sgd", [net.flat_params])
    with pytest.raises(TypeError, match=r"loss must be a loss object.*got str 'mse'"):
        train_epoch(net, "mse", optimizer, X, y, batch_size=2)
    with pytest.raises(TypeError, match="optimizer must be an update rule"):
        train_epoch(net, MeanSquaredError(), None, X, y, batch_size=2)
    with pytest.raises(TypeError, match="network must be a Sequential"):
        train_epoch([net], MeanSquaredError(), optimizer, X, y, batch_size=2)


def test_an_overflow_in_a_float64_network_does_not_suggest_float64():
    net = Sequential([Dense(3, 1, rng=np.random.default_rng(0))], dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDivergedError, match="before the first update") as info:
            train_epoch(
                net,
                MeanSquaredError(),
                make_optimizer("sgd", [net.flat_params]),
                np.ones((8, 3)),
                np.full((8, 1), 1e300),  # the squared error overflows float64
                batch_size=4,
            )
    message = str(info.value)
    assert "float64 network" in message
    assert "scale the targets" in message
    assert "use float64" not in message and "dtype='float64'" not in message


def test_casting_a_bound_layer_to_its_own_type_keeps_it_in_the_flat_vector():
    net = small_net()
    layer = net.layers[0]
    assert layer.astype(np.float32) is layer
    assert np.shares_memory(layer.W, net.flat_params)
    assert np.shares_memory(layer.dW, net.flat_grads)


def test_casting_a_bound_layer_to_another_type_is_refused_not_silently_unbound():
    # The cast replaced W by a copy: the optimizer, built on flat_params, no longer trained it.
    net = small_net()
    with pytest.raises(ValueError, match="cast the network"):
        net.layers[0].astype(np.float64)
    assert net.layers[0].W.dtype == np.float32
    assert np.shares_memory(net.layers[0].W, net.flat_params)
    copy64 = net.astype(np.float64)  # the network's cast: a bound float64 copy
    assert copy64.layers[0].W.dtype == np.float64
    assert np.shares_memory(copy64.layers[0].W, copy64.flat_params)
    np.testing.assert_array_equal(copy64.flat_params, net.flat_params.astype(np.float64))
    freed = net.layers[3].unbind()
    assert not np.shares_memory(freed.W, net.flat_params)
    assert freed.astype(np.float64).W.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_layer_of_another_network_is_refused_unless_copied_or_unbound(dtype):
    # Binding it into the new network took it out of the old one's flat vector: the old
    # network's optimizer went on updating arrays the layer no longer used, without a word.
    import copy

    old = small_net()
    layer = old.layers[0]
    with pytest.raises(ValueError, match=r"layers\[0\] \(Dense\) belongs to another network"):
        Sequential([layer], dtype=dtype)
    assert np.shares_memory(layer.W, old.flat_params)  # the old network is untouched
    new = Sequential([copy.deepcopy(layer)], dtype=dtype)
    np.testing.assert_array_equal(new.flat_params, layer.W.ravel().astype(dtype))
    freed = Sequential([old.layers[3].unbind()], dtype=dtype)
    assert np.shares_memory(freed.layers[0].W, freed.flat_params)
    assert not np.shares_memory(freed.layers[0].W, old.flat_params)


def test_one_layer_object_at_two_places_is_refused():
    # It kept only its second forward's input, so the first place's gradients were wrong (a
    # reused Tanh: relative error 0.25 in check_gradients) or, between layers of different
    # widths, backward failed in numpy's broadcasting.
    rng = np.random.default_rng(0)
    act = Tanh()
    with pytest.raises(ValueError, match=r"layers\[3\] is the same Tanh object as layers\[1\]"):
        Sequential([Dense(3, 4, rng=rng), act, Dense(4, 4, rng=rng), act, Dense(4, 2, rng=rng)])
    dense = Dense(4, 4, rng=rng)
    with pytest.raises(ValueError, match="weights cannot be tied"):
        Sequential([dense, ReLU(), dense])


def test_a_layer_with_parameters_needs_param_names_and_bind():
    class Scale:  # forward, backward, params, grads, decays, buffers: not enough to be bound
        def __init__(self):
            self.w, self.dw = np.ones(3), np.zeros(3)

        def forward(self, x, *, training):
            return x * self.w

        def backward(self, grad_out):
            return grad_out * self.w

        def params(self):
            return [self.w]

        def grads(self):
            return [self.dw]

        def decays(self):
            return [False]

        def buffers(self):
            return {}

    with pytest.raises(TypeError, match=r"layers\[0\] \(Scale\) has 1 parameters but names 0"):
        Sequential([Scale()])

    class Unnamed(Layer):  # a Layer, whose param_names () it inherits, with a parameter
        def params(self):
            return [np.ones(3)]

        def grads(self):
            return [np.zeros(3)]

    with pytest.raises(TypeError, match="has 1 parameters but names 0 in param_names"):
        Sequential([Unnamed()])


def test_a_copied_layer_is_free_and_a_copied_network_keeps_its_layers_bound():
    import copy

    net = small_net()
    for free in (copy.deepcopy(net.layers[0]), pickle.loads(pickle.dumps(net.layers[0]))):
        assert free.astype(np.float64).W.dtype == np.float64  # its own arrays: a cast is fine
    for copied in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert np.shares_memory(copied.layers[0].W, copied.flat_params)
        with pytest.raises(ValueError, match="cast the network"):
            copied.layers[0].astype(np.float64)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_backward_takes_a_float64_gradient_into_a_float32_network(batch_norm):
    # A loss of the user's, written against float64 targets, hands backward a float64
    # gradient: with BatchNorm the float32 network crashed in numpy's einsum (a review).
    # Reference: the float64 copy of the same network, whose gradients agree to float32's
    # rounding.
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    layers = [Dense(3, 4, rng=np.random.default_rng(1))]
    layers += [BatchNorm(4)] if batch_norm else []
    layers += [ReLU(), Dense(4, 1, rng=np.random.default_rng(2))]
    single = Sequential(layers)
    double = Sequential([layer for layer in pickle.loads(pickle.dumps(layers))], dtype=np.float64)
    double.flat_params[:] = single.flat_params
    for net in (single, double):
        out = net.forward(X, training=True)
        net.backward((out - y) / len(X))
    assert single.flat_grads.dtype == np.float32
    np.testing.assert_allclose(single.flat_grads, double.flat_grads, rtol=1e-4, atol=1e-6)


def test_a_float64_loss_of_the_users_that_diverges_is_a_training_divergence():
    # Casting its float64 gradient into a float32 network overflows when the run diverges: a
    # first cast reported it as bad data ("use a float64 network or scale the data") instead of
    # the divergence train_epoch documents (a review). Reference: the same run's exp(z) beyond
    # float32's range, a learning rate too large for a Poisson loss.
    class PoissonLoss:
        def forward(self, z, target, sample_weight=None):
            z = z.astype(np.float64)
            self.target = np.asarray(target, dtype=float).reshape(z.shape)
            self.mean = np.exp(z)
            return float(np.mean(self.mean - self.target * z))

        def backward(self):
            return (self.mean - self.target) / len(self.target)

    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3)).astype(np.float32)
    y = rng.poisson(3.0, (64, 1)).astype(float)
    net = Sequential([Dense(3, 16, rng=np.random.default_rng(1)), ReLU(),
                      Dense(16, 1, rng=np.random.default_rng(2))])  # fmt: skip
    optimizer = make_optimizer("sgd", [net.flat_params], learning_rate=0.3)
    with pytest.raises(TrainingDivergedError, match="Lower the learning rate"):
        for _ in range(100):
            train_epoch(net, PoissonLoss(), optimizer, X, y, batch_size=8)


def test_backward_refuses_a_gradient_beyond_the_networks_dtype():
    # Outside train_epoch the cast turned 1e300 into inf gradients with a warning only (a
    # review); inside, the same error is the run's divergence (the test above).
    net = Sequential([Dense(3, 2, rng=np.random.default_rng(0)), Tanh()])
    out = net.forward(np.ones((4, 3)), training=True)
    with pytest.raises(FloatingPointError, match="beyond the range of the network's float32"):
        net.backward(np.full(out.shape, 1e300))
    assert np.all(np.isfinite(net.backward(np.full(out.shape, 1e30))))
    with np.errstate(all="raise"):  # values below float32's range round to 0: no error
        assert np.all(np.isfinite(net.backward(np.full(out.shape, 1e-50))))
