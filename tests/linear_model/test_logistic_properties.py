"""Property-based tests: on any small problem the fitted coefficients satisfy the optimality
conditions, checked with an objective and gradient written here from the formulas."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import log_softmax

from mlbasics import LogisticRegression


def independent_objective_and_gradient(X, y, coef, intercept, C, l1, l2):
    """``C * sum loss + l1 |W|_1 + l2/2 |W|^2`` and the gradient of its smooth part."""
    classes = np.unique(y)
    A = np.hstack([X, np.ones((len(X), 1))])
    W = np.hstack([coef, intercept[:, None]])
    S = A @ W.T
    if len(classes) == 2:
        t = (y == classes[1]).astype(float)
        loss = np.sum(np.logaddexp(0, S[:, 0]) - t * S[:, 0])
        R = (1 / (1 + np.exp(-S[:, 0])) - t)[:, None]
    else:
        T = (y[:, None] == classes[None, :]).astype(float)
        logp = log_softmax(S, axis=1)
        loss = -np.sum(T * logp)
        R = np.exp(logp) - T
    G = C * R.T @ A
    G[:, :-1] += l2 * coef
    value = C * loss + l1 * np.abs(coef).sum() + 0.5 * l2 * (coef**2).sum()
    return value, G


problems = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**32 - 1),
        "n": st.integers(12, 60),
        "d": st.integers(1, 6),
        "k": st.integers(2, 4),
        "C": st.floats(0.01, 100.0),
        "shift": st.floats(-50.0, 50.0),
        "penalty": st.sampled_from(["l2", "l1", "elasticnet"]),
    }
)


@settings(max_examples=40, deadline=None)
@given(problems)
def test_fitted_coefficients_satisfy_the_optimality_conditions(p):
    rng = np.random.default_rng(p["seed"])
    X = rng.standard_normal((p["n"], p["d"])) + p["shift"]  # uncentred features too
    y = np.arange(p["n"]) % p["k"]  # every class present
    rng.shuffle(y)
    l1_ratio = 0.5 if p["penalty"] == "elasticnet" else None
    model = LogisticRegression(p["penalty"], C=p["C"], l1_ratio=l1_ratio, tol=1e-10, max_iter=500)
    model.fit(X, y)
    l1 = {"l2": 0.0, "l1": 1.0, "elasticnet": 0.5}[p["penalty"]]
    value, G = independent_objective_and_gradient(
        X, y, model.coef_, model.intercept_, p["C"], l1, 1.0 - l1
    )
    scale = p["C"] * p["n"]
    assert abs(value - model.objective_) <= 1e-9 * max(1.0, abs(value))
    # intercepts: zero gradient; weights: -G in the subdifferential of l1 |w|
    assert np.all(np.abs(G[:, -1]) <= 1e-6 * scale)
    Gw, W = G[:, :-1], model.coef_
    violation = np.where(W != 0, np.abs(Gw + l1 * np.sign(W)), np.maximum(np.abs(Gw) - l1, 0))
    assert violation.max() <= 1e-6 * scale, violation.max() / scale
    # and no nearby point is better
    for _ in range(5):
        step = rng.standard_normal(model.coef_.shape) * 1e-3
        worse, _ = independent_objective_and_gradient(
            X, y, model.coef_ + step, model.intercept_, p["C"], l1, 1.0 - l1
        )
        assert worse >= value - 1e-9 * abs(value)
