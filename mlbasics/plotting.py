"""Displays for the results of :mod:`mlbasics.model_selection` (matplotlib, the ``plot`` extra).

Each display follows :class:`sklearn.inspection.DecisionBoundaryDisplay`: a constructor that
takes the numbers, class methods that compute them (``from_estimators`` / ``from_estimator``) or
take a computed result (``from_result``), and ``plot(ax=...)``, which draws on the given axes (or
a new figure) and stores ``ax_``, ``figure_`` and the artists.

matplotlib is imported only when something is drawn, so ``import mlbasics.plotting`` works
without it.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from .model_selection import (
    PAIRED_TESTS,
    BiasVarianceCurve,
    ComparisonResult,
    bias_variance_curve,
    compare_estimators,
    format_param_value,
)


def _pyplot(what: str):
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            f"{what} needs matplotlib, which is not installed: pip install matplotlib "
            "(or mlbasics[plot])"
        ) from None
    return plt


#: ``ComparisonDisplay``'s kinds of drawing and ``BiasVarianceDisplay``'s x scales.
KINDS = ("box", "strip")
XSCALES = ("auto", "log", "linear")


def _check_ax(ax, what):
    """A TypeError unless ``ax`` is None or one matplotlib Axes (matplotlib must be installed)."""
    plt = _pyplot(what)
    if ax is not None and not isinstance(ax, plt.Axes):
        several = isinstance(ax, np.ndarray)
        hint = " (plt.subplots with several panels returns an array: pass one)" if several else ""
        raise TypeError(f"ax must be one matplotlib Axes, got {type(ax).__name__}{hint}")


def _axes(ax, what):
    """``ax``, or the Axes of a new figure if None."""
    _check_ax(ax, what)
    return _pyplot(what).subplots()[1] if ax is None else ax


def _check_choice(name, value, options):
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be {' or '.join(map(repr, options))}, got {value!r}")


def _check_result(result, expected, what):
    if not isinstance(result, expected):
        raise TypeError(
            f"{what} takes a {expected.__name__} (from "
            f"{'compare_estimators' if expected is ComparisonResult else 'bias_variance_curve'}), "
            f"got {type(result).__name__}."
        )


def _horizontal() -> dict:
    """The boxplot keyword for horizontal boxes (``orientation`` since matplotlib 3.10)."""
    import matplotlib

    major, minor = (int(part) for part in matplotlib.__version__.split(".")[:2])
    return {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}


def _format_p(p: float) -> str:
    return f"p = {p:.3f}" if p >= 1e-3 else f"p = {p:.0e}"


def _check_alpha(alpha):
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be a number in [0, 1] (a p-value level), got {alpha!r}.")


class ComparisonDisplay:
    """Per-split scores of several estimators, with the p-values of the paired tests.

    A box plot (or a strip plot of every split) per estimator, one row each, annotated with the
    p-value of its difference from the best estimator (the one with the highest mean score).
    Differences below ``alpha`` are marked with a star.

    Parameters
    ----------
    names : list of str
    scores : ndarray of shape (n_estimators, n_splits)
    pvalues : ndarray of shape (n_estimators, n_estimators)
        Pairwise p-values (adjusted or not), as :attr:`ComparisonResult.pvalues
        <mlbasics.model_selection.ComparisonResult>`.
    scoring : str, default="score"
        Axis label.
    test_name : str or None, default=None
        Shown in the title.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    artists_ : list
        The boxes (``kind="box"``) or point collections (``kind="strip"``).
    texts_ : list of matplotlib Text
        The p-value annotations.

    See Also
    --------
    mlbasics.model_selection.compare_estimators : Computes the scores and p-values.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from mlbasics.plotting import ComparisonDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> disp = ComparisonDisplay.from_estimators(
    ...     {"majority": DummyClassifier(), "naive Bayes": GaussianNB()}, X, y, cv=5,
    ...     random_state=0)
    >>> disp.texts_[1].get_text()  # naive Bayes has the higher mean accuracy
    'best'
    >>> disp.texts_[0].get_text().endswith("*")  # the majority vote is significantly worse
    True
    """

    def __init__(self, *, names, scores, pvalues, scoring="score", test_name=None):
        self.names = list(names)
        self.scores = np.asarray(scores, dtype=float)
        self.pvalues = np.asarray(pvalues, dtype=float)
        self.scoring = scoring
        self.test_name = test_name

    @classmethod
    def from_result(cls, result, *, ax=None, kind="box", alpha=0.05):
        """Draw a :class:`~mlbasics.model_selection.ComparisonResult`."""
        _check_result(result, ComparisonResult, "ComparisonDisplay.from_result")
        adjusted = " (Holm)" if result.correction == "holm" else ""
        display = cls(
            names=result.names,
            scores=result.scores,
            pvalues=result.pvalues,
            scoring=result.scoring,
            test_name=PAIRED_TESTS[result.test] + adjusted,
        )
        return display.plot(ax=ax, kind=kind, alpha=alpha)

    @classmethod
    def from_estimators(cls, estimators, X, y, *, ax=None, kind="box", alpha=0.05, **kwargs):
        """Run :func:`~mlbasics.model_selection.compare_estimators` and draw its result.

        ``kwargs`` go to ``compare_estimators`` (``cv``, ``scoring``, ``test``, ``n_jobs``, ...).
        """
        # the drawing's parameters checked before the comparison runs
        _check_choice("kind", kind, KINDS)
        _check_alpha(alpha)
        _check_ax(ax, "ComparisonDisplay.from_estimators")
        result = compare_estimators(estimators, X, y, **kwargs)
        return cls.from_result(result, ax=ax, kind=kind, alpha=alpha)

    def plot(self, ax=None, *, kind="box", alpha=0.05):
        """Draw on ``ax`` (a new figure if None).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        kind : {"box", "strip"}, default="box"
            Box plot of the splits, or every split as a point (jittered vertically).
        alpha : float, default=0.05
            Level below which a p-value gets a star, in [0, 1].

        Returns
        -------
        self
        """
        _check_choice("kind", kind, KINDS)
        _check_alpha(alpha)
        n = len(self.names)
        if n == 0:
            raise ValueError("names is empty: there is nothing to draw.")
        if self.scores.ndim != 2 or self.scores.shape[0] != n:
            raise ValueError(
                f"scores must have shape (n_estimators, n_splits) with one row per name ({n}); "
                f"got shape {self.scores.shape}."
            )
        if self.pvalues.shape != (n, n):
            raise ValueError(
                f"pvalues must have shape (n_estimators, n_estimators) = ({n}, {n}); got shape "
                f"{self.pvalues.shape}."
            )
        ax = _axes(ax, "ComparisonDisplay.plot")
        positions = np.arange(n)[::-1]  # first estimator on top
        rows = [row[~np.isnan(row)] for row in self.scores]
        if kind == "box":
            artists = ax.boxplot(
                rows,
                positions=positions,
                widths=0.6,
                patch_artist=True,
                showmeans=True,
                **_horizontal(),
            )["boxes"]
            for box in artists:
                box.set_facecolor("#cfe2f3")
        else:
            jitter = np.random.default_rng(0)
            artists = [
                ax.scatter(row, pos + jitter.uniform(-0.2, 0.2, row.size), s=12, alpha=0.6)
                for row, pos in zip(rows, positions, strict=True)
            ]
            means = [row.mean() if row.size else np.nan for row in rows]
            ax.scatter(means, positions, marker="|", s=400, color="black", zorder=3)
        ax.set_yticks(positions, self.names)
        means = np.array([row.mean() if row.size else -np.inf for row in rows])
        best = int(np.argmax(means)) if np.any(np.isfinite(means)) else None  # None: all NaN
        texts = []
        for i, pos in enumerate(positions):
            if i == best:
                label = "best"
            elif best is None or np.isnan(self.pvalues[i, best]):
                label = "p = n/a"
            else:
                p = self.pvalues[i, best]
                label = _format_p(p) + (" *" if p < alpha else "")
            texts.append(
                ax.annotate(
                    label,
                    xy=(1.0, pos),
                    xycoords=("axes fraction", "data"),
                    xytext=(6, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize="small",
                )
            )
        ax.set_xlabel(f"{self.scoring} per split")
        title = "no finite scores" if best is None else f"p-values against {self.names[best]}"
        if self.test_name:
            title = f"{self.test_name}\n{title}"
        ax.set_title(title, fontsize="medium")
        ax.grid(True, axis="x", alpha=0.3)
        self.ax_, self.figure_ = ax, ax.figure
        self.artists_, self.texts_ = list(artists), texts
        return self


#: BiasVarianceDisplay draws a logarithmic axis only while ``log10(max)`` plus LOG_AXIS_MARGIN
#: times the decades spanned stays below LOG_AXIS_TOP: beyond, matplotlib's limits and ticks
#: overflow float64 (a sweep of ranges with matplotlib 3.11 found the failures above about 300).
LOG_AXIS_MARGIN = 0.15
LOG_AXIS_TOP = 295.0


class BiasVarianceDisplay:
    """Bias, variance and expected loss against a complexity parameter: the trade-off plot.

    For ``loss="mse"`` the lines are bias² (with the noise, when the test targets are noisy),
    variance and their sum, the expected loss. For ``loss="0-1"`` they are the bias, the net
    variance (unbiased minus biased) and the expected loss, with the total variance dashed. A
    dotted vertical line marks the value with the smallest expected loss.

    Parameters
    ----------
    param_name : str
    param_range : array-like of shape (n_values,)
    expected_loss, bias, variance : array-like of shape (n_values,)
        ``bias`` is bias² for ``"mse"``; ``variance`` is the net variance for ``"0-1"``.
    total_variance : array-like of shape (n_values,) or None, default=None
        ``"0-1"`` only: the variance before the biased part is subtracted.
    loss : {"mse", "0-1"}, default="mse"

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : dict of str to matplotlib Line2D

    See Also
    --------
    mlbasics.model_selection.bias_variance_curve : Computes the curves.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from mlbasics.plotting import BiasVarianceDisplay
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(200, 1))
    >>> y = np.sin(X[:, 0]) + 0.3 * rng.standard_normal(200)
    >>> disp = BiasVarianceDisplay.from_estimator(
    ...     DecisionTreeRegressor(), "max_depth", [1, 2, 4, 8], X[:100], y[:100], X[100:],
    ...     y[100:], n_rounds=20, random_state=0)
    >>> sorted(disp.lines_)
    ['bias^2', 'expected loss', 'variance']
    """

    def __init__(
        self,
        *,
        param_name,
        param_range,
        expected_loss,
        bias,
        variance,
        total_variance=None,
        loss="mse",
    ):
        self.param_name = param_name
        self.param_range = list(param_range)
        self.expected_loss = np.asarray(expected_loss, dtype=float)
        self.bias = np.asarray(bias, dtype=float)
        self.variance = np.asarray(variance, dtype=float)
        self.total_variance = None if total_variance is None else np.asarray(total_variance)
        self.loss = loss

    @classmethod
    def from_result(cls, curve, *, ax=None, xscale="auto"):
        """Draw a :class:`~mlbasics.model_selection.BiasVarianceCurve`."""
        _check_result(curve, BiasVarianceCurve, "BiasVarianceDisplay.from_result")
        if curve.loss == "mse":
            parts = dict(bias=curve.bias_squared, variance=curve.variance)
        else:
            parts = dict(
                bias=curve.bias, variance=curve.net_variance, total_variance=curve.variance
            )
        display = cls(
            param_name=curve.param_name,
            param_range=curve.param_range,
            expected_loss=curve.expected_loss,
            loss=curve.loss,
            **parts,
        )
        return display.plot(ax=ax, xscale=xscale)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        param_name,
        param_range,
        X_train,
        y_train,
        X_test,
        y_test,
        *,
        ax=None,
        xscale="auto",
        **kwargs,
    ):
        """Run :func:`~mlbasics.model_selection.bias_variance_curve` and draw it.

        ``kwargs`` go to ``bias_variance_curve`` (``loss``, ``n_rounds``, ``random_state``, ...).
        """
        _check_choice("xscale", xscale, XSCALES)  # before the curve is computed
        _check_ax(ax, "BiasVarianceDisplay.from_estimator")
        curve = bias_variance_curve(
            estimator, param_name, param_range, X_train, y_train, X_test, y_test, **kwargs
        )
        return cls.from_result(curve, ax=ax, xscale=xscale)

    def plot(self, ax=None, *, xscale="auto"):
        """Draw on ``ax`` (a new figure if None).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        xscale : {"auto", "log", "linear"}, default="auto"
            ``"auto"`` is logarithmic for positive numeric values spanning two decades or more.
            Other values (tuples of hidden-layer sizes, a range holding ``None``) are placed at
            0, 1, 2, ..., labelled with their values; so are, with ``"auto"``, positive values
            whose logarithmic axis matplotlib cannot draw: its limits and ticks overflow when
            ``log10(max)`` plus 0.15 times the decades spanned exceeds about 295 (1e-160 to
            1e240 fails, 1e-120 to 1e240 and 1e-320 to 1e200 draw; measured with matplotlib
            3.11, the rule keeps a margin). ``"log"`` on values it cannot draw so is a
            ``ValueError``.

        Returns
        -------
        self
        """
        _check_choice("xscale", xscale, XSCALES)
        n = len(self.param_range)
        if n == 0:
            raise ValueError("param_range is empty: there is nothing to draw.")
        for name in ("expected_loss", "bias", "variance", "total_variance"):
            values = getattr(self, name)
            if values is not None and np.shape(values) != (n,):
                raise ValueError(
                    f"{name} must hold one value per entry of param_range ({n}); got shape "
                    f"{np.shape(values)}."
                )
        if self.loss not in ("mse", "0-1"):
            raise ValueError(f"loss must be 'mse' or '0-1', got {self.loss!r}")
        if self.loss == "mse" and self.total_variance is not None:
            # (its line took the label of the variance, which then left lines_ and the legend)
            raise ValueError(
                "total_variance is the 0-1 loss's variance beside its net variance; with "
                "loss='mse' the variance is the variance itself: pass total_variance=None."
            )
        _check_ax(ax, "BiasVarianceDisplay.plot")
        try:
            x = np.asarray(self.param_range, dtype=float)
            # None becomes NaN without an error: such a range is placed at 0, 1, 2, ... too
            numeric = x.ndim == 1 and bool(np.all(np.isfinite(x)))
        except (TypeError, ValueError, OverflowError):  # (integers beyond float64: categories)
            numeric = False
        positive = numeric and x.min() > 0
        # (compared in logarithms: the ratio of 1e300 and 1e-300 overflows)
        decades = np.log10(x.max()) - np.log10(x.min()) if positive else 0.0
        drawable = positive and np.log10(x.max()) + LOG_AXIS_MARGIN * decades <= LOG_AXIS_TOP
        if xscale == "log" and not drawable:
            raise ValueError(
                "xscale='log' needs positive numbers in param_range within the reach of "
                "matplotlib's log axis; got "
                f"{[format_param_value(v) for v in self.param_range]} (xscale='auto' or "
                "'linear' places other values at 0, 1, 2, ...)."
            )
        if xscale == "auto":
            if positive and decades >= 2 and not drawable:
                numeric = False  # matplotlib's log axis would overflow float64: in order
            xscale = "log" if drawable and decades >= 2 else "linear"
        ax = _axes(ax, "BiasVarianceDisplay.plot")
        if not numeric:
            x = np.arange(len(self.param_range), dtype=float)
        bias_label = "bias^2" if self.loss == "mse" else "bias"
        variance_label = "variance" if self.loss == "mse" else "net variance"
        lines = {
            "expected loss": ax.plot(x, self.expected_loss, "o-", color="black", lw=2)[0],
            bias_label: ax.plot(x, self.bias, "s-", color="tab:blue")[0],
            variance_label: ax.plot(x, self.variance, "^-", color="tab:red")[0],
        }
        if self.total_variance is not None:
            lines["variance"] = ax.plot(x, self.total_variance, "^--", color="tab:red", alpha=0.5)[
                0
            ]
        for label, line in lines.items():
            line.set_label(label)
        finite = np.isfinite(self.expected_loss)
        best = (
            int(np.argmin(np.where(finite, self.expected_loss, np.inf))) if finite.any() else None
        )
        if best is not None:
            ax.axvline(x[best], color="gray", ls=":", lw=1)
        ax.set_xscale(xscale)  # resets the ticks: label categorical values after it
        if not numeric:
            ax.set_xticks(x, [str(v) for v in self.param_range])
        ax.set_xlabel(self.param_name)
        ax.set_ylabel("0-1 loss" if self.loss == "0-1" else "squared error")
        lowest = (
            "no finite loss"
            if best is None
            else (f"lowest loss at {format_param_value(self.param_range[best])}")
        )
        ax.set_title(f"bias-variance trade-off ({lowest})")
        ax.legend()
        ax.grid(True, alpha=0.3)
        self.ax_, self.figure_, self.lines_ = ax, ax.figure, lines
        return self
