"""Activations and gradients layer by layer: four initialisations, with and without BatchNorm.

A stack of ``depth`` hidden layers (Dense, then ReLU; with BatchNorm between the two in the right
column) of width ``width`` (``SIZES``: 20 layers of 256 units, 8 of 64 with ``--quick``) is initialised four ways and fed one batch of standardised digits
(scikit-learn's 8x8 images):

* ``N(0, 1)``: unit-variance weights, the "plain" initialisation. Each layer multiplies the mean
  square of the activations by about ``n Var(W) / 2 = width / 2``: they explode;
* ``N(0, 0.01^2)``: small weights. The factor is ``width * 1e-4 / 2``: they vanish;
* Xavier (``Var(W) = 2 / (n_in + n_out)``), right for tanh: with ReLU, which zeroes half of its
  input, the factor is 1/2: the mean square halves at every layer (the root mean square
  drawn falls by 1/sqrt(2));
* He (``Var(W) = 2 / n_in``): the factor is 1, the scale is kept.

The top row shows the root mean square of the activations after each ReLU; the bottom row the norm
of the gradient of the softmax cross-entropy with respect to each layer's weight matrix. That
gradient is the product of the layer's input (scaled by the factors of the layers below) and of
the back-propagated gradient (scaled by the factors of the layers above), so without BatchNorm
every layer carries the factor of the whole stack: about 1e21 for ``N(0, 1)``, 1e-20 for the small
initialisation, the same at every depth. An optimizer step of a sensible size is then impossible.

With BatchNorm in training mode every pre-activation is renormalised by its batch statistics, the
scale of the weights cancels, and the activation curves of the four initialisations coincide:
BatchNorm removes the dependence on the initialisation (the notes' point). The gradients too are
of order one for every initialisation, though they still grow towards the first layers (a known
effect of BatchNorm at initialisation in deep plain stacks). The network runs in float64 so that
the exploding case (about 1e41 in mean square after 20 layers) does not overflow.

Run: ``python examples/plot_init_and_batchnorm.py [--output FILE] [--quick]``.
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from mlbasics.nn import BatchNorm, Dense, ReLU, Sequential, SoftmaxCrossEntropy, init

SIZES = {"full": dict(depth=20, width=256, batch=256), "quick": dict(depth=8, width=64, batch=64)}


def unit_normal(shape, rng, *, dtype):
    return init.normal(shape, rng, dtype=dtype, std=1.0)


def small_normal(shape, rng, *, dtype):
    return init.normal(shape, rng, dtype=dtype, std=0.01)


INITS = {
    "N(0, 1)": unit_normal,
    "N(0, 0.01²)": small_normal,
    "Xavier": "xavier_normal",
    "He": "he_normal",
}


def build(initialiser, n_in, n_classes, depth, width, batch_norm, seed=0):
    rng = np.random.default_rng(seed)
    layers, size = [], n_in
    for _ in range(depth):
        layers.append(
            Dense(size, width, init=initialiser, bias=not batch_norm, rng=rng, dtype=np.float64)
        )
        if batch_norm:
            layers.append(BatchNorm(width, dtype=np.float64))
        layers.append(ReLU())
        size = width
    layers.append(Dense(size, n_classes, init=initialiser, rng=rng, dtype=np.float64))
    return Sequential(layers)


def layer_statistics(network, X, y):
    """RMS of each ReLU output and norm of each hidden weight gradient, one training-mode pass."""
    outputs = network.activations(X, training=True)
    rms = [
        float(np.sqrt(np.mean(out**2)))
        for layer, out in zip(network.layers, outputs, strict=True)
        if isinstance(layer, ReLU)
    ]
    loss = SoftmaxCrossEntropy()
    loss.forward(outputs[-1], y)
    network.backward(loss.backward())
    grads = [
        float(np.linalg.norm(layer.dW)) for layer in network.layers[:-1] if isinstance(layer, Dense)
    ]
    return np.array(rms), np.array(grads)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="init_and_batchnorm.png")
    parser.add_argument("--quick", action="store_true", help="a shallow, narrow stack (for CI)")
    args = parser.parse_args(argv)
    size = SIZES["quick" if args.quick else "full"]
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)[: size["batch"]]
    y = y[: size["batch"]]
    input_rms = float(np.sqrt(np.mean(X**2)))

    fig, axes = plt.subplots(
        2, 2, figsize=(12, 8), sharex=True, sharey="row", constrained_layout=True
    )
    layers = np.arange(1, size["depth"] + 1)
    for column, batch_norm in enumerate((False, True)):
        for label, initialiser in INITS.items():
            network = build(initialiser, X.shape[1], 10, size["depth"], size["width"], batch_norm)
            rms, grads = layer_statistics(network, X, y)
            axes[0, column].semilogy(layers, rms, marker="o", ms=3, label=label)
            axes[1, column].semilogy(layers, grads, marker="o", ms=3, label=label)
            print(
                f"batch_norm={batch_norm!s:5}  {label:12s} RMS of activations: layer 1 "
                f"{rms[0]:.3g}, layer {size['depth']} {rms[-1]:.3g};  gradient norm: layer 1 "
                f"{grads[0]:.3g}, layer {size['depth']} {grads[-1]:.3g}"
            )
        title = "with BatchNorm (training mode)" if batch_norm else "without BatchNorm"
        axes[0, column].axhline(input_rms, color="gray", ls=":", lw=1, label="input")
        axes[0, column].set(title=f"RMS of the ReLU outputs, {title}", ylabel="RMS")
        axes[1, column].set(
            title=f"gradient norm of each weight matrix, {title}",
            xlabel="hidden layer",
            ylabel=r"$\|\partial L/\partial W_l\|$",
        )
    for ax in axes.ravel():
        ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].legend()
    fig.suptitle(
        f"{size['depth']} ReLU layers of width {size['width']}, one batch of {size['batch']} "
        "standardised digits"
    )
    fig.savefig(args.output, dpi=110)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
