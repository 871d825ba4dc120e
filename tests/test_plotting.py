"""The displays draw what the results hold."""

import sys
import warnings

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


def test_values_beyond_the_reach_of_a_log_axis_are_placed_in_order_without_warnings():
    # the ratio 1e300 / 1e-300 overflowed, and matplotlib's log axis overflows on such a range
    kwargs = dict(expected_loss=[1.0, 2.0, 3.0], bias=[1.0, 1.0, 1.0], variance=[0.0, 1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wide = BiasVarianceDisplay(param_name="C", param_range=[1e-300, 1.0, 1e300], **kwargs)
        wide.plot()
        wide.figure_.canvas.draw()
        # far out but within matplotlib's reach: drawn on a log axis, covering the values
        within = []
        for values in ([1e-150, 1.0, 1e150], [1e-250, 1e-100, 1.0], [1e200, 1e201, 1e202],
                       [1e-320, 1e-100, 1e200]):  # fmt: skip
            display = BiasVarianceDisplay(param_name="C", param_range=values, **kwargs).plot()
            display.figure_.canvas.draw()
            within.append((display, values))
    assert wide.ax_.get_xscale() == "linear"
    np.testing.assert_array_equal(wide.lines_["expected loss"].get_xdata(), [0.0, 1.0, 2.0])
    assert [t.get_text() for t in wide.ax_.get_xticklabels()] == ["1e-300", "1.0", "1e+300"]
    for display, values in within:
        assert display.ax_.get_xscale() == "log"
        low, high = display.ax_.get_xlim()
        assert low <= min(values) and high >= max(values)


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


def _bias_variance(param_range, expected_loss, **kwargs):
    n = len(param_range)
    return BiasVarianceDisplay(
        param_name="p", param_range=param_range, expected_loss=expected_loss,
        bias=np.full(n, 0.1), variance=np.full(n, 0.1), **kwargs,
    )  # fmt: skip


def test_total_variance_with_the_squared_error_is_refused():
    # its line took the variance's label, and the variance left lines_ and the legend (a review)
    display = _bias_variance([1, 2], [0.3, 0.2], loss="mse", total_variance=[0.2, 0.1])
    with pytest.raises(ValueError, match="with loss='mse' the variance is the variance itself"):
        display.plot()


def test_a_range_holding_none_is_placed_in_order_and_can_be_the_best():
    # np.asarray([1, 2, None], dtype=float) is [1, 2, nan]: the None point and the line marking
    # the lowest loss were drawn at NaN, invisibly.
    disp = _bias_variance([1, 4, None], [0.3, 0.2, 0.1]).plot()
    np.testing.assert_array_equal(disp.lines_["expected loss"].get_xdata(), [0.0, 1.0, 2.0])
    assert [t.get_text() for t in disp.ax_.get_xticklabels()] == ["1", "4", "None"]
    assert "lowest loss at None" in disp.ax_.get_title()
    marker = disp.ax_.lines[-1]  # the vertical line, drawn last
    np.testing.assert_array_equal(marker.get_xdata(), [2.0, 2.0])


def test_the_lowest_loss_skips_nan_and_an_all_nan_curve_marks_nothing():
    disp = _bias_variance([1, 2, 3], [np.nan, 0.2, 0.1]).plot()
    assert "lowest loss at 3" in disp.ax_.get_title()
    plt.close("all")
    disp = _bias_variance([1, 2], [np.nan, np.nan]).plot()
    assert "no finite loss" in disp.ax_.get_title()
    assert len(disp.ax_.lines) == 3  # the three curves, no marker


def test_bias_variance_display_names_inconsistent_inputs():
    with pytest.raises(ValueError, match="param_range is empty"):
        _bias_variance([], []).plot()
    with pytest.raises(ValueError, match=r"expected_loss must hold one value per entry of "
                       r"param_range \(3\); got shape \(2,\)"):  # fmt: skip
        _bias_variance([1, 2, 3], [0.1, 0.2]).plot()
    with pytest.raises(ValueError, match="loss must be 'mse' or '0-1'"):
        _bias_variance([1, 2], [0.1, 0.2], loss="hinge").plot()
    with pytest.raises(TypeError, match="takes a BiasVarianceCurve"):
        BiasVarianceDisplay.from_result({"bias": [1]})


def test_comparison_display_names_inconsistent_inputs(comparison):
    names, scores, pvalues = comparison.names, comparison.scores, comparison.pvalues
    with pytest.raises(ValueError, match=r"scores must have shape \(n_estimators, n_splits\) "
                       r"with one row per name \(2\)"):  # fmt: skip
        ComparisonDisplay(names=names[:2], scores=scores, pvalues=pvalues[:2, :2]).plot()
    with pytest.raises(ValueError, match=r"pvalues must have shape .* = \(3, 3\)"):
        ComparisonDisplay(names=names, scores=scores, pvalues=pvalues[:2]).plot()
    with pytest.raises(ValueError, match="names is empty"):
        ComparisonDisplay(names=[], scores=np.empty((0, 5)), pvalues=np.empty((0, 0))).plot()
    with pytest.raises(TypeError, match=r"takes a ComparisonResult \(from compare_estimators"):
        ComparisonDisplay.from_result(DummyClassifier())
    _, axes = plt.subplots(1, 2)
    with pytest.raises(TypeError, match="ax must be one matplotlib Axes, got ndarray"):
        ComparisonDisplay.from_result(comparison, ax=axes)


@pytest.mark.parametrize("alpha", ["0.05", -0.1, 1.5, np.nan, True, None])
def test_comparison_display_names_a_bad_alpha(comparison, alpha):
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\]"):
        ComparisonDisplay.from_result(comparison, alpha=alpha)
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\]"):
        ComparisonDisplay.from_estimators(
            [DummyClassifier()], np.ones((4, 1)), [0, 1] * 2, alpha=alpha
        )


def test_comparison_display_with_no_finite_score_names_no_best(comparison):
    n = len(comparison.names)
    disp = ComparisonDisplay(
        names=comparison.names, scores=np.full((n, 4), np.nan), pvalues=np.full((n, n), np.nan)
    ).plot()
    assert [t.get_text() for t in disp.texts_] == ["p = n/a"] * n
    assert disp.ax_.get_title() == "no finite scores"


@pytest.mark.parametrize(
    "param_range",
    [[(4,), (16,), (64,)], [1, 4, None], [0.0, 1.0, 10.0], [1e-160, 1.0, 1e240]],
)
def test_an_explicit_log_axis_needs_positive_numbers_it_can_draw(param_range):
    # categorical values were placed at 0, 1, 2 on a log axis: the first at its left edge, the
    # other two on one pixel at the right; 1e-160 to 1e240 failed in savefig (the limits
    # overflow); a refused call left an empty figure open
    n_figures = len(plt.get_fignums())
    with pytest.raises(ValueError, match="xscale='log' needs positive numbers in param_range"):
        _bias_variance(param_range, [0.3, 0.2, 0.1]).plot(xscale="log")
    assert len(plt.get_fignums()) == n_figures
    disp = _bias_variance(param_range, [0.3, 0.2, 0.1]).plot(xscale="linear")
    assert disp.ax_.get_xscale() == "linear"
    disp.figure_.canvas.draw()


def test_integers_beyond_float64_are_placed_in_order():
    # np.asarray([10**400, ...], dtype=float) raises OverflowError, which escaped
    disp = _bias_variance([1, 10**400, 10**500], [0.3, 0.2, 0.1]).plot()
    np.testing.assert_array_equal(disp.lines_["expected loss"].get_xdata(), [0.0, 1.0, 2.0])
    assert disp.ax_.get_xscale() == "linear"


def test_drawing_parameters_are_checked_before_the_work_runs(monkeypatch):
    # a typo in kind, xscale or ax was reported only after the whole comparison or curve ran
    import mlbasics.plotting as plotting

    def must_not_run(*args, **kwargs):
        raise AssertionError("the comparison or curve ran before the parameters were checked")

    monkeypatch.setattr(plotting, "compare_estimators", must_not_run)
    monkeypatch.setattr(plotting, "bias_variance_curve", must_not_run)
    X, y = np.ones((4, 1)), np.array([0, 1] * 2)
    with pytest.raises(ValueError, match="kind must be 'box' or 'strip'"):
        ComparisonDisplay.from_estimators([DummyClassifier()], X, y, kind="violin")
    with pytest.raises(TypeError, match="ax must be one matplotlib Axes"):
        ComparisonDisplay.from_estimators([DummyClassifier()], X, y, ax="left")
    with pytest.raises(ValueError, match="xscale must be 'auto' or 'log' or 'linear'"):
        BiasVarianceDisplay.from_estimator(
            DummyClassifier(), "strategy", ["prior"], X, y, X, y, xscale="symlog"
        )
    with pytest.raises(TypeError, match="ax must be one matplotlib Axes"):
        BiasVarianceDisplay.from_estimator(
            DummyClassifier(), "strategy", ["prior"], X, y, X, y, ax=1
        )
