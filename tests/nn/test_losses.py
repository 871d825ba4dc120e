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
