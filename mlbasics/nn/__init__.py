"""Neural networks in numpy: layers, initialisers, losses, a Sequential network and MLP estimators.

The building blocks are small and transparent: every layer writes its forward and backward pass in
a few lines of numpy, :func:`check_gradients` verifies them by finite differences, and the update
rules come from :mod:`mlbasics.optim`. :class:`MLPClassifier` and :class:`MLPRegressor` wrap them in
the scikit-learn API, so that a network can be cross-validated next to the classical models.

>>> import numpy as np
>>> from mlbasics.nn import Dense, ReLU, Sequential, SoftmaxCrossEntropy, train_epoch
>>> from mlbasics.optim import make_optimizer
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((200, 2))
>>> y = (X[:, 0] * X[:, 1] > 0).astype(int)  # XOR of the signs: not linearly separable
>>> net = Sequential([Dense(2, 16, rng=rng), ReLU(), Dense(16, 2, rng=rng)])
>>> adam = make_optimizer("adam", [net.flat_params], learning_rate=0.01)
>>> for epoch in range(100):
...     _ = train_epoch(net, SoftmaxCrossEntropy(), adam, X, y, batch_size=32, rng=rng)
>>> accuracy = (net.forward(X).argmax(axis=1) == y).mean()
>>> bool(accuracy > 0.95)
True
"""

from . import _init as init
from ._activations import ELU, LeakyReLU, Maxout, ReLU, Sigmoid, Softmax, Tanh
from ._estimators import MLPClassifier, MLPRegressor
from ._gradcheck import GradientCheck, check_gradients
from ._layers import BatchNorm, Dense, Dropout, Layer
from ._losses import (
    BinaryCrossEntropy,
    Huber,
    L1Loss,
    Loss,
    MeanSquaredError,
    SmoothL1,
    SoftmaxCrossEntropy,
)
from ._network import Sequential, TrainingDivergedError, train_epoch

__all__ = [
    "ELU",
    "BatchNorm",
    "BinaryCrossEntropy",
    "Dense",
    "Dropout",
    "GradientCheck",
    "Huber",
    "L1Loss",
    "Layer",
    "LeakyReLU",
    "Loss",
    "MLPClassifier",
    "MLPRegressor",
    "Maxout",
    "MeanSquaredError",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "SmoothL1",
    "Softmax",
    "SoftmaxCrossEntropy",
    "Tanh",
    "TrainingDivergedError",
    "check_gradients",
    "init",
    "train_epoch",
]
