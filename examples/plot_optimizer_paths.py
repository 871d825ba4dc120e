"""The paths of the first-order update rules of mlbasics.optim on two functions of two variables.

Left: an ill-conditioned quadratic ``f(x) = x^T A x / 2`` whose Hessian has eigenvalues 0.2 and 4
(condition number 20), rotated by 30 degrees so that its axes are not the coordinate axes. Right:
the Rosenbrock function ``(1 - x)^2 + 100 (y - x^2)^2``, whose minimum (1, 1) lies at the end of a
long, curved, flat-bottomed valley. Every rule starts from the same point, receives the exact
gradient (no noise: these are deterministic paths) and runs for the same number of steps.

On the quadratic, gradient descent, the heavy ball and Nesterov are run with the values the theory
gives from the Hessian's extreme eigenvalues ``lo`` and ``hi`` (``kappa = hi / lo``): gradient
descent with its best constant step ``2 / (hi + lo)``; the heavy ball with Polyak's
``eta = 4 / (sqrt(hi) + sqrt(lo))^2`` and ``mu = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2``;
Nesterov with ``eta = 1 / hi`` and ``mu = (sqrt(kappa) - 1) / (sqrt(kappa) + 1)``. The heavy ball
and Nesterov also run with the usual default ``mu = 0.9`` and a hand-picked rate. Every other
learning rate is chosen by hand for each rule and function; other hyper-parameters are the defaults.

What to look for: on the quadratic, gradient descent zig-zags across the steep direction; the tuned
heavy ball and Nesterov end many orders of magnitude closer than gradient descent, but with
``mu = 0.9`` both overshoot, circle back and end *behind* gradient descent: the heavy ball's
error shrinks no faster than ``sqrt(mu) = 0.95`` per step, slower than gradient descent's
``(kappa - 1) / (kappa + 1) = 0.905``. ``mu = 0.9`` suits a condition number near 1400, and on the
Rosenbrock valley (condition number about 2500 at the minimum) the same momentum rolls along the
valley far faster than gradient descent. The adaptive rules (AdaGrad, RMSProp, Adam, Nadam) move
each coordinate by roughly the learning rate at first, whatever the size of its gradient, so their
first steps point diagonally rather than downhill; AdaDelta starts with tiny steps (of order
sqrt(eps)) and accelerates.

Run: ``python examples/plot_optimizer_paths.py [--output FILE] [--quick]``.
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np

from mlbasics.optim import make_optimizer

ANGLE = np.pi / 6
ROTATION = np.array([[np.cos(ANGLE), -np.sin(ANGLE)], [np.sin(ANGLE), np.cos(ANGLE)]])
A = ROTATION @ np.diag([0.2, 4.0]) @ ROTATION.T


def quadratic(x, y):
    return 0.5 * (A[0, 0] * x * x + 2 * A[0, 1] * x * y + A[1, 1] * y * y)


def quadratic_gradient(p):
    return A @ p


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def rosenbrock_gradient(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def tuned_rules(hessian):
    """Gradient descent, heavy ball and Nesterov with the values the theory gives for a quadratic
    of this Hessian, from its extreme eigenvalues (see docs/theory/optimizers.rst)."""
    lo, hi = np.linalg.eigvalsh(hessian)[[0, -1]]
    root = np.sqrt(hi / lo)  # the square root of the condition number
    polyak_rate = 4 / (np.sqrt(hi) + np.sqrt(lo)) ** 2
    polyak_momentum = ((root - 1) / (root + 1)) ** 2
    return [
        ("sgd", dict(learning_rate=2 / (hi + lo))),
        ("momentum", dict(learning_rate=polyak_rate, momentum=polyak_momentum)),
        ("nesterov", dict(learning_rate=1 / hi, momentum=(root - 1) / (root + 1))),
    ]


def with_rates(rates):
    """Rules with a hand-picked learning rate each and default values for the rest."""
    return [(name, dict(learning_rate=rate)) for name, rate in rates.items()]


# Per function: the objective, its gradient, the minimiser, the start, the number of steps (full,
# quick), the plotting window, and the rules to run, each an optimizer name with its
# hyper-parameters (the others: the defaults, momentum 0.9 for the heavy ball and Nesterov).
PROBLEMS = {
    "quadratic": dict(
        f=quadratic,
        grad=quadratic_gradient,
        minimum=(0.0, 0.0),
        start=(-4.0, -1.0),
        steps=(120, 40),
        window=((-4.5, 2.0), (-3.5, 1.5)),
        rules=[
            *tuned_rules(A),
            ("momentum", dict(learning_rate=0.05, momentum=0.9)),
            ("nesterov", dict(learning_rate=0.05, momentum=0.9)),
            *with_rates(
                {"adagrad": 1.0, "rmsprop": 0.1, "adadelta": 1.0, "adam": 0.3, "nadam": 0.3}
            ),
        ],
    ),
    "Rosenbrock": dict(
        f=rosenbrock,
        grad=rosenbrock_gradient,
        minimum=(1.0, 1.0),
        start=(-1.2, 1.0),
        steps=(3000, 600),
        window=((-1.6, 1.6), (-0.4, 1.9)),
        rules=with_rates(
            {
                "sgd": 1.5e-3,
                "momentum": 1e-3,
                "nesterov": 1e-3,
                "adagrad": 0.5,
                "rmsprop": 0.01,
                "adadelta": 1.0,
                "adam": 0.05,
                "nadam": 0.05,
            }
        ),
    ),
}


def describe(name, kwargs):
    """A legend label: the rule and its hyper-parameters, e.g. ``momentum (η=0.668, μ=0.403)``."""
    symbols = {"learning_rate": "η", "momentum": "μ"}
    if name in ("momentum", "nesterov"):
        kwargs = {"momentum": 0.9, **kwargs}  # the default, shown
        kwargs = {key: kwargs[key] for key in symbols}
    values = ", ".join(f"{symbols[key]}={value:.3g}" for key, value in kwargs.items())
    return f"{name} ({values})"


# One colour per rule on both panels; the heavy ball and Nesterov with a momentum other than the
# default 0.9 (the tuned ones) have colours of their own.
TAB10 = plt.get_cmap("tab10").colors
COLORS = dict(zip(["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "nadam",
                   "momentum tuned", "nesterov tuned"], TAB10, strict=True))  # fmt: skip


def color(name, kwargs):
    tuned = name in ("momentum", "nesterov") and kwargs.get("momentum", 0.9) != 0.9
    return COLORS[f"{name} tuned" if tuned else name]


def path(problem, name, kwargs, n_steps):
    """The iterates of one rule: an array of shape (n_steps + 1, 2)."""
    p = np.array(problem["start"], dtype=float)
    optimizer = make_optimizer(name, [p], **kwargs)
    points = [p.copy()]
    for _ in range(n_steps):
        optimizer.step([problem["grad"](p)])
        points.append(p.copy())
    return np.array(points)


def draw(ax, title, problem, n_steps):
    (x0, x1), (y0, y1) = problem["window"]
    X, Y = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    Z = problem["f"](X, Y)
    levels = np.geomspace(max(Z.min(), 1e-3), Z.max(), 18)
    ax.contour(X, Y, Z, levels=levels, colors="0.75", linewidths=0.7)
    for name, kwargs in problem["rules"]:
        points = path(problem, name, kwargs, n_steps)
        distance = np.linalg.norm(points[-1] - problem["minimum"])
        label, c = describe(name, kwargs), color(name, kwargs)
        ax.plot(points[:, 0], points[:, 1], ".-", color=c, lw=1.2, ms=2, alpha=0.9,
                label=f"{label}: {distance:.1e}")  # fmt: skip
        ax.plot(*points[-1], "o", color=c, ms=4)
        print(
            f"{title:>10} {label:>32}: distance to the minimum after {n_steps} steps {distance:.1e}"
        )
    ax.plot(*problem["start"], "ks", ms=6)
    ax.plot(*problem["minimum"], "k*", ms=12)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$x$", ylabel="$y$", aspect="equal")
    ax.set_title(f"{title}: {n_steps} steps (■ start, ★ minimum)")
    ax.legend(title="rule (hyper-parameters): final distance to the minimum", ncol=2, fontsize=9,
              title_fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.12))  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="optimizer_paths.png")
    parser.add_argument("--quick", action="store_true", help="fewer steps (for CI)")
    args = parser.parse_args(argv)
    fig, axes = plt.subplots(1, 2, figsize=(14, 7), constrained_layout=True)
    for ax, (title, problem) in zip(axes, PROBLEMS.items(), strict=True):
        draw(ax, title, problem, problem["steps"][1 if args.quick else 0])
    fig.suptitle("mlbasics.optim: the same start, the exact gradient, hyper-parameters per rule")
    fig.savefig(args.output, dpi=110, bbox_inches="tight")
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
