"""The paths of the first-order update rules of mlbasics.optim on two functions of two variables.

Left: an ill-conditioned quadratic ``f(x) = x^T A x / 2`` whose Hessian has eigenvalues 0.2 and 4
(condition number 20), rotated by 30 degrees so that its axes are not the coordinate axes. Right:
the Rosenbrock function ``(1 - x)^2 + 100 (y - x^2)^2``, whose minimum (1, 1) lies at the end of a
long, curved, flat-bottomed valley. Every rule starts from the same point, receives the exact
gradient (no noise: these are deterministic paths) and runs for the same number of steps, with a
learning rate chosen by hand for each rule and function.

What to look for: plain gradient descent zig-zags across the steep direction of the quadratic and
crawls along the Rosenbrock valley; momentum and Nesterov overshoot and then roll along the valley
much faster (Nesterov's look-ahead damps the overshoot); the adaptive rules (AdaGrad, RMSProp, Adam,
Nadam) move each coordinate by roughly the learning rate at first, whatever the size of its
gradient, so their first steps point diagonally rather than downhill; AdaDelta starts with tiny steps
(of order sqrt(eps)) and accelerates.

Run: ``python examples/plot_optimizer_paths.py [--output FILE] [--quick]``.
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np

from mlbasics.optim import make_optimizer

NAMES = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "nadam"]

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


# Per function: the objective, its gradient, the minimiser, the start, the number of steps (full,
# quick), the plotting window, and a learning rate per rule (other hyper-parameters: the defaults).
PROBLEMS = {
    "quadratic": dict(
        f=quadratic,
        grad=quadratic_gradient,
        minimum=(0.0, 0.0),
        start=(-4.0, -1.0),
        steps=(120, 40),
        window=((-4.5, 2.0), (-3.0, 1.5)),
        rates={
            "sgd": 0.42,
            "momentum": 0.05,
            "nesterov": 0.05,
            "adagrad": 1.0,
            "rmsprop": 0.1,
            "adadelta": 1.0,
            "adam": 0.3,
            "nadam": 0.3,
        },
    ),
    "Rosenbrock": dict(
        f=rosenbrock,
        grad=rosenbrock_gradient,
        minimum=(1.0, 1.0),
        start=(-1.2, 1.0),
        steps=(3000, 600),
        window=((-1.6, 1.6), (-0.4, 1.9)),
        rates={
            "sgd": 1.5e-3,
            "momentum": 1e-3,
            "nesterov": 1e-3,
            "adagrad": 0.5,
            "rmsprop": 0.01,
            "adadelta": 1.0,
            "adam": 0.05,
            "nadam": 0.05,
        },
    ),
}


def path(name, problem, n_steps):
    """The iterates of one rule: an array of shape (n_steps + 1, 2)."""
    p = np.array(problem["start"], dtype=float)
    optimizer = make_optimizer(name, [p], learning_rate=problem["rates"][name])
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
    colors = plt.get_cmap("tab10").colors
    for name, color in zip(NAMES, colors, strict=False):
        points = path(name, problem, n_steps)
        distance = np.linalg.norm(points[-1] - problem["minimum"])
        label = f"{name} (η={problem['rates'][name]:g}): {distance:.1e}"
        ax.plot(points[:, 0], points[:, 1], ".-", color=color, lw=1.2, ms=2, alpha=0.9, label=label)
        ax.plot(*points[-1], "o", color=color, ms=4)
        print(
            f"{title:>10} {name:>9}: distance to the minimum after {n_steps} steps {distance:.2e}"
        )
    ax.plot(*problem["start"], "ks", ms=6)
    ax.plot(*problem["minimum"], "k*", ms=12)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$x$", ylabel="$y$", aspect="equal")
    ax.set_title(f"{title}: {n_steps} steps (■ start, ★ minimum)")
    ax.legend(title="rule (learning rate): final distance to the minimum", ncol=2, fontsize=9,
              title_fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.12))  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="optimizer_paths.png")
    parser.add_argument("--quick", action="store_true", help="fewer steps (for CI)")
    args = parser.parse_args(argv)
    fig, axes = plt.subplots(1, 2, figsize=(14, 7), constrained_layout=True)
    for ax, (title, problem) in zip(axes, PROBLEMS.items(), strict=True):
        draw(ax, title, problem, problem["steps"][1 if args.quick else 0])
    fig.suptitle("mlbasics.optim: the same start, the exact gradient, one learning rate per rule")
    fig.savefig(args.output, dpi=110, bbox_inches="tight")
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
