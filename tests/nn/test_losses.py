"""Losses against scikit-learn's metrics and scipy's special functions; stability at extremes."""

import warnings

import numpy as np
import pytest
from scipy.special import expit, huber, softmax
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error

from mlbasics.nn import (
    BinaryCrossEntropy,
    Huber,
    L1Loss,
    MeanSquaredError,
    SmoothL1,
    Softmax,
    SoftmaxCrossEntropy,
)


def test_softmax_cross_entropy_equals_sklearn_log_loss(seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((50, 4)) * 3
    y = rng.integers(0, 4, 50)
    value = SoftmaxCrossEntropy().forward(z, y)
    assert value == pytest.approx(log_loss(y, softmax(z, axis=1), labels=range(4)), rel=1e-12)


def test_softmax_cross_entropy_gradient_is_probabilities_minus_one_hot_over_n(seed):
    rng = np.random.default_rng(seed)
    z, y = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    loss = SoftmaxCrossEntropy()
    loss.forward(z, y)
    np.testing.assert_allclose(loss.backward(), (softmax(z, axis=1) - np.eye(3)[y]) / 6)


def test_softmax_cross_entropy_with_one_hot_targets_equals_integer_labels(seed):
    rng = np.random.default_rng(seed)
    z, y = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    a, b = SoftmaxCrossEntropy(), SoftmaxCrossEntropy()
    assert a.forward(z, y) == pytest.approx(b.forward(z, np.eye(3)[y]), rel=1e-14)
    np.testing.assert_allclose(a.backward(), b.backward(), atol=1e-16)


def test_binary_cross_entropy_with_logits_equals_sklearn_log_loss(seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((40, 1)) * 3
    y = rng.integers(0, 2, 40)
    value = BinaryCrossEntropy().forward(z, y)
    assert value == pytest.approx(log_loss(y, expit(z[:, 0])), rel=1e-12)


def test_squared_absolute_and_huber_losses_equal_their_references(seed):
    rng = np.random.default_rng(seed)
    z, y = rng.standard_normal((30, 2)) * 2, rng.standard_normal((30, 2))
    # Sum over outputs, mean over samples: sklearn's means are over all entries (x 2 outputs).
    assert MeanSquaredError().forward(z, y) == pytest.approx(mean_squared_error(y, z), rel=1e-12)
    assert L1Loss().forward(z, y) == pytest.approx(2 * mean_absolute_error(y, z), rel=1e-12)
    expected_huber = huber(0.7, z - y).sum() / 30
    assert Huber(0.7).forward(z, y) == pytest.approx(expected_huber, rel=1e-12)
    assert SmoothL1(0.7).forward(z, y) == pytest.approx(expected_huber / 0.7, rel=1e-12)


def test_huber_gradient_is_bounded_by_delta_and_smooth_l1_by_one():
    z = np.array([[-100.0], [-0.1], [0.0], [0.2], [100.0]])
    y = np.zeros(5)
    huber_loss, smooth = Huber(2.0), SmoothL1(0.5)
    huber_loss.forward(z, y)
    smooth.forward(z, y)
    np.testing.assert_allclose(huber_loss.backward()[:, 0] * 5, [-2.0, -0.1, 0.0, 0.2, 2.0])
    np.testing.assert_allclose(smooth.backward()[:, 0] * 5, [-1.0, -0.2, 0.0, 0.4, 1.0])


def test_l1_loss_uses_the_sign_as_gradient():
    loss = L1Loss()
    loss.forward(np.array([[2.0], [-3.0], [0.0]]), np.zeros(3))
    np.testing.assert_allclose(loss.backward()[:, 0] * 3, [1.0, -1.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_classification_losses_are_finite_for_huge_logits_without_warnings(dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype)
        loss = SoftmaxCrossEntropy()
        assert loss.forward(z, np.array([1, 1])) == pytest.approx(1e4, rel=1e-6)
        assert np.all(np.isfinite(loss.backward()))
        bce = BinaryCrossEntropy()
        value = bce.forward(np.array([[1e4], [-1e4]], dtype=dtype), np.array([0.0, 1.0]))
        assert value == pytest.approx(1e4, rel=1e-6)
        np.testing.assert_allclose(bce.backward()[:, 0], [0.5, -0.5])


def test_losses_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="shape"):
        MeanSquaredError().forward(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="labels for 3 rows"):
        SoftmaxCrossEntropy().forward(np.zeros((3, 2)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="non-empty 2-D"):
        BinaryCrossEntropy().forward(np.zeros(3), np.zeros(3))
    # as many entries but another shape: a transposed multi-label target, or a flat one, was
    # reshaped into a different labelling (loss 1.73 where the intended one is 3.98)
    z = np.arange(8.0).reshape(2, 4) - 3.0
    for target in (np.eye(4, 2), np.zeros(8)):
        with pytest.raises(ValueError, match=r"target has shape .*, z has shape \(2, 4\)"):
            BinaryCrossEntropy().forward(z, target)
    with pytest.raises(ValueError, match="delta"):
        Huber(0.0)


@pytest.mark.parametrize("label", [-1, 2, 5])
def test_softmax_cross_entropy_rejects_class_indices_outside_the_columns(label):
    z = np.array([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match=rf"class index {label}, outside 0\.\.1"):
        SoftmaxCrossEntropy().forward(z, np.array([0, label]))


def test_softmax_cross_entropy_rejects_labels_that_are_not_integers():
    with pytest.raises(ValueError, match=r"integer class indices.*dtype float64"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 2)), np.array([0.0, 0.5]))


@pytest.mark.parametrize("target", [[0.0, 2.0], [-1.0, 1.0], [np.nan, 1.0], ["a", "b"]])
def test_binary_cross_entropy_rejects_targets_outside_zero_one(target):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"target must hold numbers in \[0, 1\]"):
            BinaryCrossEntropy().forward(np.zeros((2, 1), dtype=np.float32), np.array(target))


ALL_LOSSES = [SoftmaxCrossEntropy, BinaryCrossEntropy, MeanSquaredError, L1Loss, Huber, SmoothL1]


def _targets_for(loss_class, n, k):
    if loss_class is SoftmaxCrossEntropy:
        return np.arange(n) % k
    if loss_class is BinaryCrossEntropy:
        return np.arange(n) % 2
    return np.ones((n, k))


@pytest.mark.parametrize("loss_class", ALL_LOSSES)
def test_backward_before_forward_says_so(loss_class):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        loss_class().backward()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("loss_class", ALL_LOSSES)
def test_non_finite_outputs_raise_a_floating_point_error_not_a_nan_loss(loss_class, bad):
    k = 1 if loss_class is BinaryCrossEntropy else 3
    z = np.zeros((4, k))
    z[1, 0] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match="z contains NaN or infinity"):
            loss_class().forward(z, _targets_for(loss_class, 4, k))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("loss_class", [MeanSquaredError, L1Loss, Huber, SmoothL1])
def test_regression_losses_reject_non_finite_targets(loss_class, bad):
    target = np.ones((4, 2))
    target[2, 1] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="target contains NaN or infinity"):
            loss_class().forward(np.zeros((4, 2)), target)


def test_softmax_cross_entropy_rejects_a_probability_target_with_nan():
    target = np.full((2, 3), 1.0 / 3.0)
    target[0, 0] = np.nan
    with pytest.raises(ValueError, match="target contains NaN or infinity"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3)), target)


@pytest.mark.parametrize("loss_class", [Huber, SmoothL1])
def test_huber_losses_of_huge_residuals_are_finite_and_exact_without_warnings(loss_class):
    # Only the linear part applies to |r| = 1e300; its square, never used, must not overflow.
    z, y = np.full((4, 3), 1e300), np.zeros((4, 3))
    loss = loss_class(2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = loss.forward(z, y)
    per_entry = 2.0 * (1e300 - 1.0) / (2.0 if loss_class is SmoothL1 else 1.0)
    assert value == pytest.approx(3 * per_entry, rel=1e-12)
    expected_grad = 2.0 / 4 / (2.0 if loss_class is SmoothL1 else 1.0)
    np.testing.assert_allclose(loss.backward(), expected_grad)


def test_squared_error_of_float32_residuals_is_summed_without_overflowing_float32():
    # 1e20 squared is beyond float32 (3.4e38), but the loss is a Python float (float64 sums).
    z = np.full((2, 1), 1e20, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = MeanSquaredError().forward(z, np.zeros((2, 1), dtype=np.float32))
    assert value == pytest.approx(0.5 * float(np.float32(1e20)) ** 2, rel=1e-12)


@pytest.mark.parametrize(
    "loss_class, z, target",
    [
        (MeanSquaredError, 1e300, 0.0),  # the square overflows
        (L1Loss, 1e308, -1e308),  # the residual itself overflows
        (Huber, 1e308, -1e308),
    ],
)
def test_a_regression_loss_that_overflows_raises_a_clear_error(loss_class, z, target):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match=r"overflow.*largest \|z\| is 1e\+3"):
            loss_class().forward(np.full((3, 1), z), np.full(3, target))


@pytest.mark.parametrize("loss_class", [MeanSquaredError, L1Loss, Huber, SmoothL1])
def test_regression_gradients_keep_the_outputs_type_whatever_the_targets(loss_class):
    # float64 targets (numpy's default) made float64 gradients for a float32 network, which
    # BatchNorm's backward could not write into its float32 parameters (a TypeError from einsum)
    z = np.array([[0.5], [-1.5], [2.0]], dtype=np.float32)
    target = np.array([0.1, 0.2, 0.3])
    loss = loss_class()
    value = loss.forward(z, target)
    assert loss.backward().dtype == np.float32
    reference = loss_class().forward(z.astype(np.float64), target.astype(np.float32))
    assert value == pytest.approx(reference, rel=1e-6)
    # a target beyond float32's range is the overflow error, not an inf residual or a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match="overflow"):
            loss_class().forward(z, np.full(3, 1e39))


@pytest.mark.parametrize(
    "loss_class, z, target",
    [
        (SoftmaxCrossEntropy, [[1e308, -1e308, 0.0]], [1]),  # the loss is 2e308
        (SoftmaxCrossEntropy, [[1e308, -1e308, 0.0]], [[0.5, 0.5, 0.0]]),
    ],
)
def test_a_classification_loss_that_overflows_raises_a_clear_error(loss_class, z, target):
    # The module's contract; the shift z - max z used to overflow with a warning and return inf.
    # (The binary loss cannot overflow: each sample's is at most |z|, and its mean is taken even
    # when the sum overflows, below.)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(
            FloatingPointError, match=r"overflows float64.*largest \|z\| is 1e\+308"
        ):
            loss_class().forward(np.array(z), np.array(target))


def test_classification_losses_of_logits_spanning_more_than_the_dtype_are_exact():
    # Differences beyond the type's range: the smaller logits have probability exactly 0, and the
    # loss is taken in float64 where float32 cannot hold the span.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = SoftmaxCrossEntropy()
        assert loss.forward(np.array([[1e308, -1e308, 0.0]]), np.array([0])) == 0.0
        np.testing.assert_array_equal(loss.backward(), [[0.0, 0.0, 0.0]])
        soft = loss.forward(np.array([[1e308, -1e308, 0.0]]), np.array([[0.5, 0.0, 0.5]]))
        assert soft == pytest.approx(0.5e308, rel=1e-15)
        z32 = np.array([[3e38, -3e38]], dtype=np.float32)
        assert loss.forward(z32, np.array([1])) == pytest.approx(2 * float(z32[0, 0]), rel=1e-15)
        assert loss.backward().dtype == np.float32
        np.testing.assert_array_equal(loss.backward(), [[1.0, -1.0]])
        # the sum of the per-sample losses overflows, their mean does not
        mean = BinaryCrossEntropy().forward(np.array([[1e308], [-1e308], [0.0]]), [0.0, 1.0, 0.0])
        assert mean == pytest.approx(1e308 / 3 * 2, rel=1e-12)
        np.testing.assert_array_equal(Softmax().forward(np.array([[1e308, -1e308]]), training=False),
                                      [[1.0, 0.0]])  # fmt: skip


@pytest.mark.parametrize("width", ["1.0", True, None])
@pytest.mark.parametrize("loss_class, name", [(Huber, "delta"), (SmoothL1, "beta")])
def test_huber_widths_must_be_real_numbers_named_as_the_parameter(loss_class, name, width):
    with pytest.raises(TypeError, match=f"{name} must be a real number"):
        loss_class(width)


@pytest.mark.parametrize("width", [0.0, -1.0, np.inf, np.nan])
@pytest.mark.parametrize("loss_class, name", [(Huber, "delta"), (SmoothL1, "beta")])
def test_huber_widths_must_be_positive_and_finite(loss_class, name, width):
    with pytest.raises(ValueError, match=f"{name} must be a finite number > 0"):
        loss_class(width)


# -- sample weights --------------------------------------------------------------------------------


WEIGHTED_CASES = [
    (SoftmaxCrossEntropy, lambda rng, n: rng.integers(0, 3, n), 3),
    (SoftmaxCrossEntropy, lambda rng, n: softmax(rng.standard_normal((n, 3)), axis=1), 3),
    (BinaryCrossEntropy, lambda rng, n: rng.integers(0, 2, n).astype(float), 1),
    (MeanSquaredError, lambda rng, n: rng.standard_normal((n, 2)), 2),
    (L1Loss, lambda rng, n: rng.standard_normal(n), 1),
    (Huber, lambda rng, n: 3 * rng.standard_normal((n, 2)), 2),
    (SmoothL1, lambda rng, n: 3 * rng.standard_normal(n), 1),
]


@pytest.mark.parametrize(("loss_class", "make_target", "k"), WEIGHTED_CASES)
def test_weighted_loss_is_the_mean_of_weighted_per_row_losses(loss_class, make_target, k):
    # Reference: each row's loss and gradient on its own (a batch of one), weighted by hand.
    rng = np.random.default_rng(0)
    n = 7
    z, target = 2 * rng.standard_normal((n, k)), make_target(rng, n)
    weight = np.array([0.0, 1.0, 2.5, 0.3, 4.0, 1.0, 0.7])
    rows = [loss_class().forward(z[i : i + 1], target[i : i + 1]) for i in range(n)]
    row_grads = []
    for i in range(n):
        one = loss_class()
        one.forward(z[i : i + 1], target[i : i + 1])
        row_grads.append(one.backward()[0])
    loss = loss_class()
    value = loss.forward(z, target, sample_weight=weight)
    np.testing.assert_allclose(value, np.dot(weight, rows) / n, rtol=1e-12)
    np.testing.assert_allclose(
        loss.backward(), weight[:, None] * np.array(row_grads) / n, rtol=1e-12
    )


@pytest.mark.parametrize(("loss_class", "make_target", "k"), WEIGHTED_CASES)
def test_integer_weights_are_repeated_rows_and_unit_weights_are_none(loss_class, make_target, k):
    rng = np.random.default_rng(1)
    n = 6
    z, target = rng.standard_normal((n, k)), make_target(rng, n)
    counts = np.array([2, 0, 1, 3, 1, 1])
    repeated = loss_class().forward(np.repeat(z, counts, axis=0), np.repeat(target, counts, axis=0))
    weighted = loss_class().forward(z, target, sample_weight=counts)
    np.testing.assert_allclose(weighted * n / counts.sum(), repeated, rtol=1e-12)
    assert loss_class().forward(z, target, sample_weight=np.ones(n)) == loss_class().forward(
        z, target
    )


@pytest.mark.parametrize(
    ("weight", "match"),
    [
        (np.ones(3), "one weight per sample"),
        (np.array([1.0, -1.0, 1.0, 1.0]), "finite numbers >= 0"),
        (np.array([1.0, np.nan, 1.0, 1.0]), "finite numbers >= 0"),
        (np.array(["a", "b", "c", "d"]), "real numbers"),
    ],
)
def test_losses_reject_bad_sample_weights(weight, match):
    z, target = np.zeros((4, 1)), np.zeros(4)
    for loss in (MeanSquaredError(), BinaryCrossEntropy()):
        with pytest.raises(ValueError, match=match):
            loss.forward(z, target, sample_weight=weight)


def test_integer_logits_give_the_float_loss_and_gradient():
    # The gradient (softmax) and the targets (binary) were cast to z's integer type: truncated.
    z = np.array([[2, 0, -1], [0, 1, 0]])
    y = np.array([0, 2])
    loss = SoftmaxCrossEntropy()
    expected = log_loss(y, softmax(z, axis=1), labels=range(3))
    assert loss.forward(z, y) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(loss.backward(), (softmax(z, axis=1) - np.eye(3)[y]) / 2, rtol=1e-12)
    zb, soft = np.array([[2], [-1]]), np.array([0.5, 0.25])
    binary = BinaryCrossEntropy()
    expected = np.mean(np.logaddexp(0, zb[:, 0]) - soft * zb[:, 0])
    assert binary.forward(zb, soft) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(binary.backward()[:, 0], (expit(zb[:, 0]) - soft) / 2, rtol=1e-12)


def test_backward_returns_an_array_the_caller_may_overwrite():
    loss = SoftmaxCrossEntropy()
    loss.forward(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([0, 0]))
    first = loss.backward()
    expected = first.copy()
    first[...] = 0.0  # what Sequential.backward may do to its grad_out
    np.testing.assert_array_equal(loss.backward(), expected)


def test_softmax_cross_entropy_rejects_negative_target_probabilities():
    with pytest.raises(ValueError, match="target probabilities must be >= 0"):
        SoftmaxCrossEntropy().forward(np.zeros((1, 2)), np.array([[2.0, -1.0]]))
