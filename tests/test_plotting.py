"""The displays draw what the results hold."""

import sys

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from mlbasics.model_selection import bias_variance_curve, compare_estimators

plt = pytest.importorskip("matplotlib.pyplot")
from mlbasics.plotting import BiasVarianceDisplay, ComparisonDisplay  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def comparison(breast_cancer):
    X, y = breast_cancer
    ests = {"dummy": DummyClassifier(), "nb": GaussianNB(), "tree": DecisionTreeClassifier(
        max_depth=2, random_state=0)}  # fmt: skip
    return compare_estimators(ests, X, y, cv=5, random_state=0)


@pytest.mark.parametrize("kind", ["box", "strip"])
def test_comparison_display_draws_every_split_of_every_estimator(comparison, kind):
    fig, ax = plt.subplots()
    disp = ComparisonDisplay.from_result(comparison, ax=ax, kind=kind)
    assert disp.ax_ is ax and disp.figure_ is fig
    assert len(disp.artists_) == 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["dummy", "nb", "tree"]
    if kind == "strip":  # one point per split, at the scores of the result
        for artist, row in zip(disp.artists_, comparison.scores, strict=True):
            np.testing.assert_array_equal(artist.get_offsets()[:, 0], row)


def test_comparison_display_annotates_the_p_values_against_the_best(comparison):
    disp = ComparisonDisplay.from_result(comparison)
    best = int(np.argmax(comparison.mean_scores))
    texts = [t.get_text() for t in disp.texts_]
    assert texts[best] == "best"
    for i, text in enumerate(texts):
        if i != best:
            p = comparison.pvalues[i, best]
            assert text.startswith("p = ") and text.endswith(" *") == (p < 0.05)
    assert "Holm" in disp.ax_.get_title()


def test_comparison_display_rejects_an_unknown_kind(comparison):
    with pytest.raises(ValueError, match="kind must be 'box' or 'strip'"):
        ComparisonDisplay.from_result(comparison, kind="violin")


def _sine(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    return X, np.sin(X[:, 0]) + 0.3 * rng.standard_normal(n)


def test_bias_variance_display_plots_the_curve_values():
    X, y = _sine(200, 0)
    model = make_pipeline(PolynomialFeatures(), LinearRegression())
    curve = bias_variance_curve(
        model, "polynomialfeatures__degree", [1, 3, 9], X[:100], y[:100], X[100:], y[100:],
        n_rounds=10, random_state=0,
    )  # fmt: skip
    disp = BiasVarianceDisplay.from_result(curve)
    np.testing.assert_array_equal(disp.lines_["bias^2"].get_ydata(), curve.bias_squared)
    np.testing.assert_array_equal(disp.lines_["variance"].get_ydata(), curve.variance)
    np.testing.assert_array_equal(disp.lines_["expected loss"].get_ydata(), curve.expected_loss)
    assert disp.ax_.get_xscale() == "linear"
    assert disp.ax_.get_xlabel() == "polynomialfeatures__degree"


def test_zero_one_display_shows_bias_net_variance_and_a_log_axis_for_c(breast_cancer):
    X, y = breast_cancer
    disp = BiasVarianceDisplay.from_estimator(
        SVC(), "C", [0.01, 1.0, 100.0], X[:300], y[:300], X[300:], y[300:], loss="0-1",
        n_rounds=5, random_state=0,
    )  # fmt: skip
    assert set(disp.lines_) == {"expected loss", "bias", "net variance", "variance"}
    assert disp.ax_.get_xscale() == "log"


def test_non_numeric_parameter_values_are_placed_in_order():
    disp = BiasVarianceDisplay(
        param_name="hidden_layer_sizes",
        param_range=[(4,), (16,), (64,)],
        expected_loss=[0.3, 0.2, 0.25],
        bias=[0.25, 0.1, 0.05],
        variance=[0.05, 0.1, 0.2],
    ).plot()
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == ["(4,)", "(16,)", "(64,)"]
    assert "(16,)" in disp.ax_.get_title()


def test_a_missing_matplotlib_is_a_clear_import_error(monkeypatch, comparison):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"needs matplotlib.*mlbasics\[plot\]"):
        ComparisonDisplay.from_result(comparison)
