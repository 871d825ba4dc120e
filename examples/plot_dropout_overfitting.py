"""Training and validation curves of a large MLP on little, noisy data, with and without dropout.

A network with two hidden layers of 256 ReLU units (far more parameters than training samples) is
trained on 300 of scikit-learn's digits, a fifth of whose labels have been replaced by random ones,
and validated on 600 other digits with their true labels. It is trained one epoch at a time
through :meth:`~mlbasics.nn.MLPClassifier.partial_fit`, with dropout probability 0 and 0.5 after
each hidden layer; weight decay is off (``alpha=0``) so that dropout is the only regulariser. After
every epoch the script records the cross-entropy and the accuracy on both parts, the network in
inference mode (no units dropped).

What to look for: without dropout the network memorises the training set, wrong labels included:
its training loss goes towards zero and the validation loss, after an early minimum, climbs for the
rest of the run (overfitting). With dropout the training loss falls more slowly and noisily (every
update trains a random sub-network with half of the units), and the validation loss stays lower
and the validation accuracy higher: the full network at inference acts as an average over the
exponentially many sub-networks, an ensemble that shares its weights, and a noisy label is harder
to memorise for a sub-network that changes at every step. Dropout slows memorisation down rather
than preventing it: late in the run the training accuracy with dropout nears 1 too and its
validation accuracy starts to drift down (early stopping and dropout work well together). On the
clean digits the effect is small: the noise is what gives memorisation something to fit.

Measured here (100 epochs): without dropout, final validation loss 0.77 (minimum 0.59 at epoch
19) and accuracy 0.842; with dropout 0.5, 0.59 (minimum 0.49 at epoch 63) and 0.873.

Run: ``python examples/plot_dropout_overfitting.py [--output FILE] [--quick]``.
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from mlbasics.nn import MLPClassifier

SIZES = {"full": dict(epochs=100, hidden=(256, 256)), "quick": dict(epochs=3, hidden=(64, 64))}
NOISE = 0.2  # fraction of training labels replaced by random classes
DROPOUTS = (0.0, 0.5)


def curves(dropout, X_train, y_train, X_val, y_val, epochs, hidden):
    model = MLPClassifier(
        hidden, dropout=dropout, alpha=0.0, learning_rate=1e-3, batch_size=32, random_state=0
    )
    classes = np.unique(y_train)
    record = {key: [] for key in ("train_loss", "val_loss", "train_acc", "val_acc")}
    for _ in range(epochs):
        model.partial_fit(X_train, y_train, classes=classes)
        for part, X, y in (("train", X_train, y_train), ("val", X_val, y_val)):
            record[f"{part}_loss"].append(log_loss(y, model.predict_proba(X), labels=classes))
            record[f"{part}_acc"].append(model.score(X, y))
    return {key: np.array(values) for key, values in record.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="dropout_overfitting.png")
    parser.add_argument("--quick", action="store_true", help="a small network, 3 epochs (for CI)")
    args = parser.parse_args(argv)
    size = SIZES["quick" if args.quick else "full"]
    epochs = size["epochs"]
    X, y = load_digits(return_X_y=True)
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, train_size=300, test_size=600, stratify=y, random_state=0
    )
    rng = np.random.default_rng(0)
    noisy = rng.random(len(y_train)) < NOISE
    y_train = y_train.copy()
    y_train[noisy] = rng.integers(0, 10, noisy.sum())
    scaler = StandardScaler().fit(X_train)
    X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    epoch = np.arange(1, epochs + 1)
    for dropout, color in zip(DROPOUTS, ("tab:red", "tab:blue"), strict=True):
        run = curves(dropout, X_train, y_train, X_val, y_val, epochs, size["hidden"])
        label = f"dropout {dropout:g}"
        axes[0].semilogy(epoch, run["train_loss"], color=color, ls="--", label=f"{label}, train")
        axes[0].semilogy(epoch, run["val_loss"], color=color, label=f"{label}, validation")
        axes[1].plot(epoch, run["train_acc"], color=color, ls="--", label=f"{label}, train")
        axes[1].plot(epoch, run["val_acc"], color=color, label=f"{label}, validation")
        best = int(np.argmin(run["val_loss"]))
        print(
            f"{label}: final train loss {run['train_loss'][-1]:.4f}, validation loss "
            f"{run['val_loss'][-1]:.4f} (minimum {run['val_loss'][best]:.4f} at epoch "
            f"{best + 1}), validation accuracy {run['val_acc'][-1]:.3f}"
        )
    axes[0].set(xlabel="epoch", ylabel="cross-entropy (log scale)", title="loss")
    axes[1].set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(
        f"MLP {size['hidden']} on 300 digits ({NOISE:.0%} of the training labels random), "
        "validated on 600 clean ones: dropout against overfitting"
    )
    fig.savefig(args.output, dpi=110)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
