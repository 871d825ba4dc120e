"""The ``mlbasics`` command (also ``python -m mlbasics``).

``mlbasics compare`` cross-validates the mlbasics estimators beside their scikit-learn
counterparts on the same folds (:func:`mlbasics.model_selection.compare_estimators`), prints mean
score, fit time and rank, the matrix of p-values of the paired tests, and the significant
differences. ``mlbasics bias-variance`` decomposes the expected test loss of one estimator into
bias and variance over a range of a complexity parameter. ``mlbasics kkt`` fits one model and
prints its KKT report (:func:`mlbasics.optimality.check_kkt`); its exit code is 1 when the report
fails, 2 when the command cannot run (bad arguments or data, a missing optional package). ``compare`` and ``bias-variance`` draw scikit-learn's progress bars
(:class:`sklearn.callback.ProgressBar`, needs rich) with ``--progress``, on by default in a
terminal when rich is installed.
"""

from __future__ import annotations

import argparse
import dis
import io
import math
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn import datasets
from sklearn import linear_model as sk_linear_model
from sklearn import neural_network as sk_neural_network
from sklearn import svm as sk_svm
from sklearn import tree as sk_tree
from sklearn.base import clone
from sklearn.metrics import get_scorer, get_scorer_names
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.multiclass import type_of_target

from . import __version__
from .linear_model import LogisticRegression
from .model_selection import (
    PAIRED_TESTS,
    bias_variance_curve,
    compare_estimators,
    format_param_value,
)
from .model_selection._parallel import tqdm_class
from .nn import MLPClassifier
from .svm import SVC

DATASETS = {
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
    "wine": datasets.load_wine,
    "iris": datasets.load_iris,
}


@dataclass(frozen=True)
class Entry:
    """One estimator of ``mlbasics compare``.

    ``make(C)`` builds it (unfitted, without scaling: every entry is put behind a
    ``StandardScaler``) for the inverse regularisation strength ``C`` given by ``--C``. Entries
    with ``max_samples`` (dense QP solvers, say) are left out on larger data sets.
    """

    name: str
    make: Callable[[float], object]
    max_samples: int | None = None


# The estimators of `mlbasics compare`: one line each; add new ones here.
COMPARE_ENTRIES = (
    Entry("mlbasics LR newton", lambda C: LogisticRegression(C=C)),
    Entry("mlbasics LR sgd", lambda C: LogisticRegression(C=C, solver="sgd")),
    Entry("sklearn LR lbfgs", lambda C: sk_linear_model.LogisticRegression(C=C)),
    Entry("mlbasics SVC smo", lambda C: SVC(C=C)),
    # the cvxpy dual: an independent reference, on small data only (it factors the kernel matrix)
    Entry("mlbasics SVC qp", lambda C: SVC(C=C, solver="qp"), max_samples=1000),
    Entry("sklearn SVC rbf", lambda C: sk_svm.SVC(C=C)),
    Entry("mlbasics MLP", lambda C: MLPClassifier(max_epochs=1000)),
    Entry("sklearn MLP", lambda C: sk_neural_network.MLPClassifier(max_iter=1000)),
)


def _is_regression_scorer(name: str) -> bool:
    """Whether scikit-learn's scorer ``name`` computes a regression metric (r2, errors, ...)."""
    function = getattr(get_scorer(name), "_score_func", None)
    return getattr(function, "__module__", "").endswith("._regression")


def default_entries(n_samples: int) -> tuple[list[Entry], list[Entry]]:
    """The entries that run on ``n_samples`` samples, and those left out."""
    kept = [e for e in COMPARE_ENTRIES if e.max_samples is None or n_samples <= e.max_samples]
    return kept, [e for e in COMPARE_ENTRIES if e not in kept]


@dataclass(frozen=True)
class CurveEntry:
    """One estimator of ``mlbasics bias-variance``.

    ``make()`` builds it; ``params`` maps a name of ``--param`` to the ``set_params`` key and a
    conversion of one value of ``--range`` (int for depths and degrees, a one-layer tuple for
    hidden units); the first one is the default. ``default_range`` is ``start:stop:num``, spaced
    as ``default_scale`` says when ``--scale`` is left at ``auto``.
    """

    make: Callable[[], object]
    params: dict = field(default_factory=dict)
    default_range: str = "0.01:100:9"
    regression: bool = False
    default_scale: str = "auto"


def _scaled(estimator):
    return make_pipeline(StandardScaler(), estimator)


def _one_layer(value):
    return (round(value),)


def _int(value):
    return round(value)


# The estimators of `mlbasics bias-variance`: one line each; add new ones here.
CURVE_ENTRIES = {
    "svc": CurveEntry(
        lambda: _scaled(SVC()), {"C": ("svc__C", float), "gamma": ("svc__gamma", float)}
    ),
    "lr": CurveEntry(
        lambda: _scaled(LogisticRegression()),
        {"C": ("logisticregression__C", float)},
        "0.0001:100:10",
    ),
    "tree": CurveEntry(
        lambda: sk_tree.DecisionTreeClassifier(), {"max_depth": ("max_depth", _int)}, "1:12:12"
    ),
    "mlp": CurveEntry(
        lambda: _scaled(sk_neural_network.MLPClassifier(max_iter=500)),
        {"hidden": ("mlpclassifier__hidden_layer_sizes", _one_layer)},
        "1:64:7",  # 1, 2, 4, ..., 64 units (linear steps of 10.5 skipped 2 to 11: a review)
        default_scale="log",
    ),
    "poly": CurveEntry(
        lambda: make_pipeline(PolynomialFeatures(), StandardScaler(), sk_linear_model.Ridge(1e-6)),
        {"degree": ("polynomialfeatures__degree", _int)},
        "1:12:12",
        regression=True,
    ),
}


#: The standard deviation of the sine data's noise.
SINE_NOISE = 0.3


def sine_data(n_samples=400, noise=SINE_NOISE, random_state=0):
    """A regression problem with a known answer: y = sin(x) + N(0, noise^2), x in [-3, 3]."""
    rng = np.random.default_rng(random_state)
    X = rng.uniform(-3, 3, size=(n_samples, 1))
    return X, np.sin(X[:, 0]) + noise * rng.standard_normal(n_samples)


class CommandError(SystemExit):
    """The command cannot run (bad data, an optional package missing, too little memory): its
    message goes to stderr and the exit status is 2, as for a bad argument, so that ``kkt``'s 1
    means only that the report failed. ``str()`` is the message."""

    def __init__(self, message: str):
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


def load_data(args) -> tuple[np.ndarray, np.ndarray, str]:
    if args.csv is not None:
        try:
            import pandas as pd  # optional: only needed for user CSV files
        except ImportError:
            raise CommandError(
                "error: --csv reads the file with pandas: pip install pandas"
            ) from None

        try:
            frame = pd.read_csv(args.csv)
        except (OSError, ValueError) as exc:
            raise CommandError(f"error: cannot read {args.csv}: {exc}") from None
        if args.target not in frame.columns:
            raise CommandError(f"error: --target {args.target!r} is not a column of {args.csv}")
        if len(frame) == 0:
            raise CommandError(f"error: {args.csv} has a header but no data rows")
        y = frame.pop(args.target)
        if y.isna().any():
            raise CommandError(f"error: the target column {args.target!r} has missing values")
        while len(frame.columns) and _saved_index(frame[frame.columns[0]]):
            # the row labels DataFrame.to_csv writes first (of a shuffled or filtered frame, and
            # both sets of a frame saved again): as a feature they told classes stored in order
            # apart (reviews)
            index = frame.columns[0]
            print(f"note: column {index!r} (distinct integers, unnamed: a saved index) left out")
            frame = frame.drop(columns=index)
        numeric = frame.select_dtypes(["number", "bool"])  # (True/False as 1/0)
        dropped = [c for c in frame.columns if c not in numeric.columns]
        if dropped:
            print(f"note: non-numeric columns left out: {', '.join(map(str, dropped))}")
        missing = [c for c in numeric.columns if not np.isfinite(numeric[c].to_numpy(float)).all()]
        if missing:
            raise CommandError(
                f"error: columns with missing or infinite values: {', '.join(map(str, missing))}"
                " (drop or impute them first)"
            )
        if numeric.shape[1] == 0:
            raise CommandError(f"error: {args.csv} has no numeric feature columns")
        X = numeric.to_numpy(dtype=float)
        out_of_range = [
            c for c, ok in zip(numeric.columns, _standardisable(X), strict=True) if not ok
        ]
        if out_of_range:
            raise CommandError(
                "error: columns too large or too small to standardise in double precision: "
                f"{', '.join(map(str, out_of_range))} (largest magnitude "
                f"{np.abs(numeric[out_of_range].to_numpy(float)).max():.3g}; rescale them "
                "first)"
            )
        return X, y.to_numpy(), str(args.csv)
    if args.dataset == "sine":
        X, y = sine_data(random_state=args.random_state)
        return X, y, "sine (y = sin x + noise)"
    X, y = DATASETS[args.dataset](return_X_y=True)
    return X, y, args.dataset


def _saved_index(column) -> bool:
    """Whether a leading CSV column is a saved index: no name in the header (pandas reads it as
    ``Unnamed: 0``, ``Unnamed: 1``, ...; a frame read back and saved again writes ``Unnamed: 0``
    as the header of its older labels, which pandas then renames ``Unnamed: 0.1``) and distinct
    integers."""
    unnamed = re.fullmatch(r"Unnamed: \d+(\.\d+)?", str(column.name)) is not None
    return unnamed and column.dtype.kind in "iu" and column.is_unique


def _standardisable(X) -> np.ndarray:
    """Per column: can :class:`StandardScaler` compute its variance in double precision?

    Every command standardises the features (``kkt`` and most entries of ``compare`` and
    ``bias-variance``). Beyond about 1e154 the sum of squares overflows (the variance is inf or
    NaN: the scaler leaves the column unscaled or makes it NaN, and the models then fail on NaN
    that the data do not contain); below about 1e-160 it underflows to 0 (a column that varies
    is taken for a constant). Constant columns, and those the scaler itself takes for constant
    (a spread at the rounding level of their mean), are fine.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        scaler = StandardScaler().fit(X)
        transformed = np.isfinite(scaler.transform(X)).all(axis=0)
    underflow = (scaler.var_ == 0) & (np.ptp(X, axis=0) > 0)
    return np.isfinite(scaler.var_) & ~underflow & transformed


def _check_classes(parser, y, n_folds=None):
    kind = type_of_target(y)
    if kind not in ("binary", "multiclass"):
        parser.error(
            f"the target holds {kind} values ({y[:3].tolist()}, ...): this command needs class "
            "labels (for a regression curve: bias-variance --estimator poly)"
        )
    _, counts = np.unique(y, return_counts=True)
    if len(counts) < 2:
        parser.error("the target has a single class; nothing to classify")
    if n_folds is not None and n_folds > counts.min():
        parser.error(
            f"--cv {n_folds} exceeds the size of the smallest class "
            f"({_count(int(counts.min()), 'sample')})"
        )


def _rich_installed() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def progress_callbacks(choice, stream=None) -> list:
    """The ``callbacks`` of ``--progress`` / ``--no-progress``: ``[ProgressBar()]`` or ``[]``.

    ``choice`` None (neither flag) means on when rich is installed and ``stream`` (stdout) is a
    terminal; ``--progress`` without rich ends the command with the line to install it.
    """
    if choice is None:
        stream = sys.stdout if stream is None else stream
        isatty = getattr(stream, "isatty", None)
        choice = _rich_installed() and isatty is not None and isatty()
    if not choice:
        return []
    if not _rich_installed():
        raise CommandError(
            "error: --progress draws its bars with rich, which is not installed: "
            "pip install rich (or pass --no-progress)"
        )
    from sklearn.callback import ProgressBar

    return [ProgressBar()]


def _save_figure(display, path):
    path = _plot_file(path)
    try:
        display.figure_.savefig(path, dpi=110, bbox_inches="tight")
    except OSError as exc:
        raise CommandError(f"error: cannot write --plot {path}: {exc.strerror or exc}") from None
    print(f"saved {path}")


def _plot_file(path: str) -> str:
    """The file ``--plot`` writes: ``path``, with ``.png`` added when it has no extension."""
    return path if os.path.splitext(path)[1] else path + ".png"


def _check_plot_path(path: str, parser) -> None:
    """Before the fits: ``--plot`` names a file in an existing directory, in a format that
    matplotlib writes (a typo found after minutes of fits loses them)."""
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        parser.error(f"--plot {path}: name a file (such as curve.png), not a directory")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        parser.error(f"--plot {path}: the directory does not exist")
    try:  # (a directory that exists but takes no files, as /proc: found after the fits)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        parser.error(f"--plot {path}: cannot write in {directory} ({exc.strerror or exc})")
    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    extension = os.path.splitext(_plot_file(path))[1][1:].lower()
    if extension not in formats:
        parser.error(
            f"--plot {path}: matplotlib cannot write .{extension} files; use one of "
            f"{', '.join('.' + name for name in sorted(formats))}"
        )
    try:  # a figure with a text in that format: .pgf needs LaTeX (found missing after the fits)
        trial = Figure()
        trial.text(0.5, 0.5, "x")
        trial.savefig(io.BytesIO(), format=extension)
    except Exception as exc:  # (matplotlib raises RuntimeError, OSError, ... by backend)
        parser.error(f"--plot {path}: matplotlib cannot write .{extension} here ({exc})")


def _plotting():
    """mlbasics.plotting with a non-interactive backend, or a clear exit without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        raise CommandError(
            "error: --plot needs matplotlib: pip install matplotlib (or mlbasics[plot])"
        ) from None
    matplotlib.use("Agg")  # the command only saves files
    from . import plotting

    return plotting


#: A number in a warning's text (an iteration count, a gap): messages that differ only in their
#: numbers are one kind of warning for :func:`_summarise_warnings`.
NUMBER = re.compile(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?")


def _summarise_warnings(caught):
    """One line per kind of warning the fits raised (how many, and the first one's text),
    instead of one per fold. Fits run by ``--n-jobs`` workers warn in their own processes, on
    stderr as they come. (The features are standardised already, whatever a message says.)"""
    kinds = {}
    for w in caught:
        key = (w.category.__name__, NUMBER.sub("#", str(w.message)))
        kinds.setdefault(key, [0, str(w.message)])[0] += 1
    for (category, _), (count, message) in kinds.items():
        print(f"note: {_count(count, 'warning')} ({category}), the first: {message}")


def _count(n, noun):
    """``"1 feature"``, ``"2 features"``, ``"3 classes"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}{'es' if noun.endswith('s') else 's'}"


def run_compare(args, parser) -> None:
    X, y, name = load_data(args)
    _check_classes(parser, y, n_folds=args.cv if args.test == "corrected_t" else None)
    entries, left_out = default_entries(X.shape[0])
    estimators = {e.name: _scaled(e.make(args.C)) for e in entries}
    if args.test == "corrected_t":
        cv = RepeatedStratifiedKFold(
            n_splits=args.cv, n_repeats=args.repeats, random_state=args.random_state
        )
        plan = f"{args.cv}-fold x {_count(args.repeats, 'repeat')}"
    else:  # the test fixes its own resampling (5 x 2-fold, or one hold-out)
        cv, plan = None, "the resampling of the test"
    print(f"mlbasics {__version__}: {PAIRED_TESTS[args.test]} on {name} "
          f"({_count(X.shape[0], 'sample')}, {_count(X.shape[1], 'feature')}, "
          f"{_count(len(np.unique(y)), 'class')}), {plan}")  # fmt: skip
    for entry in left_out:
        print(f"note: {entry.name} left out (more than {entry.max_samples} samples)")
    start = time.perf_counter()
    # One untimed fit of each first, so that the fit times exclude one-off costs (loading
    # compiled kernels, first touch of memory) for every library alike.
    scorer = None if args.scoring is None else get_scorer(args.scoring)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for entry, estimator in estimators.items():
            fitted = clone(estimator).fit(X, y)
            if scorer is None:
                continue
            try:  # a scorer no entry can serve failed only after every fold (a review)
                scorer(fitted, X, y)
            except (AttributeError, ValueError, TypeError) as exc:
                parser.error(
                    f"--scoring {args.scoring}: {entry} cannot be scored with it ({exc}); "
                    "choose another scorer (accuracy and balanced_accuracy read predict alone)"
                )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = compare_estimators(
                estimators,
                X,
                y,
                cv=cv,
                scoring=args.scoring,
                test=args.test,
                n_jobs=args.n_jobs,
                random_state=args.random_state,
                verbose=args.verbose,
                callbacks=args.callbacks,
            )
        except ValueError:
            _summarise_warnings(caught)  # the fits' warnings often say why the run failed
            raise
    print()
    print(result.table(alpha=args.alpha))
    _summarise_warnings(caught)
    if args.test == "corrected_t" and result.n_splits < 10:
        print(
            f"note: the t-test's variance rests on {result.n_splits} differences; with so few, "
            "nearly equal differences (one sample more right in every fold) give small p-values. "
            "Bouckaert and Frank recommend 10 x 10 (--cv 10 --repeats 10)."
        )
    print()
    found = result.significant_differences(alpha=args.alpha)
    adjusted = "Holm-adjusted " if result.correction == "holm" else ""
    if found:
        print(f"significant differences ({adjusted}p < {args.alpha:g}):")
        for better, worse, p in found:
            print(f"  {better} > {worse}  (p = {p:.2g})")
    else:
        print(f"no significant differences ({adjusted}p < {args.alpha:g}): the estimators tie")
    if args.plot:
        display = _plotting().ComparisonDisplay.from_result(result, alpha=args.alpha)
        _save_figure(display, args.plot)
    print(f"total {time.perf_counter() - start:.1f} s")


#: The most points ``--range`` may ask for.
MAX_RANGE_POINTS = 1000
#: The most columns ``bias-variance --estimator poly`` may expand the features into (a degree of
#: 12 on 10 features is 646,646 columns: seconds per fit, 50 fits per degree).
MAX_POLY_COLUMNS = 20_000


def _check_poly_columns(parser, degrees, n_features) -> None:
    """The polynomial expansion stays within :data:`MAX_POLY_COLUMNS` at every degree asked."""
    largest = max(degrees)
    if largest < 0:  # (scikit-learn's own message names the valid degrees)
        return
    columns = math.comb(n_features + largest, largest)  # monomials of degree <= largest
    if columns > MAX_POLY_COLUMNS:
        fits = 0  # the largest degree within the bound
        while math.comb(n_features + fits + 1, fits + 1) <= MAX_POLY_COLUMNS:
            fits += 1
        points = min(fits, MAX_RANGE_POINTS)
        advice = f"--range 1:{fits}:{points}" if fits else "fewer features"
        parser.error(
            f"--estimator poly at degree {largest} on {n_features} features makes {columns:,} "
            f"columns (at most {MAX_POLY_COLUMNS:,}); use {advice}"
        )


def range_scale(text, scale) -> str:
    """The spacing of ``--range``: ``scale``, or for ``"auto"`` log when ``start > 0`` and
    ``stop / start >= 100``, linear otherwise (``text`` already checked by :func:`parse_range`)."""
    if scale != "auto":
        return scale
    start, stop, _ = (float(part) for part in text.split(":"))
    return "log" if start > 0 and stop / start >= 100 else "linear"


def parse_range(text, convert, scale):
    """``"start:stop:num"`` to a list of values (geometric or linear as :func:`range_scale`
    says, converted, unique, both ends included)."""
    try:
        start, stop, num = text.split(":")
        start, stop, num = float(start), float(stop), int(num)
    except ValueError:
        raise ValueError(f"--range must be start:stop:num, like 0.01:100:9, got {text!r}") from None
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise ValueError(f"--range needs finite start and stop, got {text!r}")
    if num < 2 or not start < stop:
        raise ValueError(f"--range needs start < stop and num >= 2, got {text!r}")
    if num > MAX_RANGE_POINTS:  # each point is a bias-variance decomposition: rounds of fits
        raise ValueError(
            f"--range asks for {num} points; at most {MAX_RANGE_POINTS} (each one is a "
            f"decomposition of --rounds fits), got {text!r}"
        )
    scale = range_scale(text, scale)
    if scale == "log" and start <= 0:
        raise ValueError("--scale log needs a positive start")
    grid = np.geomspace(start, stop, num) if scale == "log" else np.linspace(start, stop, num)
    return list(dict.fromkeys(convert(float(v)) for v in grid))  # unique, in order


def run_bias_variance(args, parser) -> None:
    entry = CURVE_ENTRIES[args.estimator]
    param = args.param or next(iter(entry.params))
    if param not in entry.params:
        parser.error(
            f"--param {param!r} is not a parameter of {args.estimator}; "
            f"choose from {', '.join(entry.params)}"
        )
    key, convert = entry.params[param]
    text = args.range or entry.default_range
    scale = entry.default_scale if args.range is None and args.scale == "auto" else args.scale
    try:
        values = parse_range(text, convert, scale)
    except ValueError as exc:
        parser.error(str(exc))
    scale = range_scale(text, scale)  # (the plot's axis too: it chose again, a review)
    if entry.regression and args.csv is None:
        args.dataset = "sine"
    elif args.dataset is None:
        args.dataset = "breast_cancer"
    if args.dataset == "sine" and not entry.regression:
        parser.error(f"the sine data are a regression problem; {args.estimator} is a classifier")
    X, y, name = load_data(args)
    if not entry.regression:
        _check_classes(parser, y)
    if args.estimator == "poly":
        _check_poly_columns(parser, values, X.shape[1])
    X_train, X_test, y_train, y_test = train_test_split(
        X,
        y,
        test_size=args.test_size,
        random_state=args.random_state,
        stratify=None if entry.regression else y,
    )
    if args.csv is None and args.dataset == "sine":
        # Tested on the noise-free sin x: against the noisy targets every bias^2 would carry
        # the noise variance (0.09), 25 times the bias of a cubic fit.
        y_test = np.sin(X_test[:, 0])
        name = f"sine (trained on sin x + N(0, {SINE_NOISE}^2), tested on sin x)"
    if args.sampling == "disjoint" and args.rounds > len(y_train) // 2:
        parser.error(
            f"--sampling disjoint cuts the {len(y_train)} training samples into --rounds "
            f"{args.rounds} parts of fewer than 2; use --rounds {len(y_train) // 2} or fewer, "
            "or --sampling bootstrap"
        )
    loss = "mse" if entry.regression else "0-1"
    print(f"mlbasics {__version__}: {loss} bias-variance of {args.estimator} over {param} on "
          f"{name} ({len(y_train)} training, {len(y_test)} test samples), {args.rounds} "
          f"{args.sampling} rounds per value")  # fmt: skip
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small bootstrap samples make some fits stop early
        curve = bias_variance_curve(
            entry.make(),
            key,
            values,
            X_train,
            y_train,
            X_test,
            y_test,
            loss=loss,
            n_rounds=args.rounds,
            sampling=args.sampling,
            random_state=args.random_state,
            n_jobs=args.n_jobs,
            verbose=args.verbose,
            callbacks=args.callbacks,
        )
    print()
    print(curve.table(label=param))
    best = curve.best_index
    print(
        f"\nlowest expected loss {curve.expected_loss[best]:.4f} at {param} = "
        f"{format_param_value(values[best])}"
    )
    if args.plot:
        # (values that are not numbers, the mlp's (units,) tuples, stand at 0, 1, 2, ...: their
        # log spacing is then the axis's, and a log axis could not take them: a review)
        numbers = all(isinstance(v, (int, float)) for v in values)
        display = _plotting().BiasVarianceDisplay.from_result(
            curve, xscale=scale if numbers else "auto"
        )
        display.ax_.set_xlabel(f"{param} ({args.estimator})")
        _save_figure(display, args.plot)
    print(f"total {time.perf_counter() - start:.1f} s")


def _C_value(text: str) -> float:
    """An argparse type for ``kkt --C``: a finite number, or ``inf``, a logistic regression
    without a penalty (scikit-learn's convention; :func:`main` refuses it for an SVC)."""
    try:
        if float(text) == math.inf:
            return math.inf
    except ValueError:
        pass  # (_finite_float names the problem)
    return _finite_float(text)


def _finite_float(text: str) -> float:
    """An argparse type: a finite number.

    ``nan`` and ``inf`` parse as floats, but mean nothing as a tolerance, a fraction or an SVC's
    C, pass the range checks of :func:`main` (``nan <= 0`` is False) and would fail deep inside
    a fit. (``kkt --C`` takes ``inf`` too: :func:`_C_value`.)
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _add_data_options(sub, *, datasets_=tuple(DATASETS), default="breast_cancer"):
    # (the default is filled in by main: --dataset given beside --csv is refused, not ignored)
    sub.add_argument(
        "--dataset",
        choices=sorted(datasets_),
        default=None,
        help=f"(default {default or 'breast_cancer, or sine for a regression curve'})",
    )
    sub.add_argument("--csv", help="a CSV file of your own (numeric or True/False feature columns)")
    sub.add_argument("--target", help="the label column of --csv")


def _add_run_options(sub):
    sub.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the resampling and of the estimators' own randomness",
    )
    sub.add_argument("--n-jobs", type=int, default=None, help="parallel fits (joblib)")
    sub.add_argument("--verbose", type=int, default=0, help="1: a progress bar (needs tqdm)")
    sub.add_argument("--plot", metavar="FILE.png", help="save the figure (needs matplotlib)")


def _add_progress_option(sub):
    sub.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars of the run and of every fit (needs rich; default: on in a "
        "terminal when rich is installed)",
    )


# The models of `mlbasics kkt`: one line each. ``tol`` is ``{"tol": value}`` from --solver-tol,
# or empty: each model's own default (1e-3 for the SVCs, 1e-4 for the logistic regressions; a
# common 1e-3 made scikit-learn's logistic regression fail its report by default: a review).
KKT_MODELS = {
    "svc": lambda C, **tol: SVC(C=C, **tol),
    "svc-qp": lambda C, **tol: SVC(C=C, solver="qp", **tol),
    "logistic": lambda C, **tol: LogisticRegression(C=C, **tol),
    "logistic-l1": lambda C, **tol: LogisticRegression(penalty="l1", C=C, **tol),
    "sklearn-svc": lambda C, **tol: sk_svm.SVC(C=C, **tol),
    "sklearn-logistic": lambda C, **tol: sk_linear_model.LogisticRegression(C=C, **tol),
}


def run_kkt(args, parser) -> int:
    """``mlbasics kkt``: fit one model on standardised data and print its KKT report."""
    from .optimality import check_kkt

    X, y, name = load_data(args)
    _check_classes(parser, y)
    X = StandardScaler().fit_transform(X)
    tol = {} if args.solver_tol is None else {"tol": args.solver_tol}
    model = KKT_MODELS[args.model](args.C, **tol)
    start = time.perf_counter()
    # the fit's warnings as notes (shown by warnings, they were located at <frozen runpy>), also
    # when the fit or the check fails
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X, y)
        except BaseException:
            _summarise_warnings(caught)
            raise
    fit_seconds = time.perf_counter() - start
    try:
        report = check_kkt(model, X, y, tol=args.tol)
    except BaseException:
        _summarise_warnings(caught)
        raise
    print(
        f"{args.model} on {name} ({X.shape[0]} x {X.shape[1]}, standardised), C={args.C}, "
        f"fitted in {fit_seconds:.2f} s"
    )
    _summarise_warnings(caught)
    print(report)
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlbasics", description=__doc__.splitlines()[0].replace("``", "")
    )
    parser.add_argument("--version", action="version", version=f"mlbasics {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    cmp = sub.add_parser(
        "compare",
        help="paired comparison of mlbasics estimators with scikit-learn's on the same folds",
    )
    _add_data_options(cmp)
    _add_run_options(cmp)
    cmp.add_argument(
        "--cv", type=int, default=None, help="folds per repeat (default 10; corrected_t only)"
    )
    cmp.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="repeats of the K-fold (default 3; corrected_t only)",
    )
    cmp.add_argument(
        "--C",
        type=_finite_float,
        default=1.0,
        help="inverse regularisation strength of the logistic regressions and SVCs (the MLPs "
        "keep their defaults)",
    )
    cmp.add_argument("--scoring", default=None, help="a scikit-learn scorer (default accuracy)")
    cmp.add_argument(
        "--test", choices=list(PAIRED_TESTS), default="corrected_t", help="paired test"
    )
    cmp.add_argument("--alpha", type=_finite_float, default=0.05, help="significance level")
    _add_progress_option(cmp)
    cmp.set_defaults(command_parser=cmp)

    bv = sub.add_parser(
        "bias-variance", help="bias, variance and expected loss over a complexity parameter"
    )
    _add_data_options(bv, datasets_=(*DATASETS, "sine"), default=None)
    _add_run_options(bv)
    bv.add_argument("--estimator", choices=sorted(CURVE_ENTRIES), default="svc")
    bv.add_argument("--param", help="the complexity parameter (default: the estimator's first)")
    bv.add_argument(
        "--range",
        help="start:stop:num, e.g. 0.01:100:9: num values from start to stop, both included "
        "(integer parameters rounded, repeats dropped); a negative start needs the = form, "
        "--range=-2:2:5",
    )
    bv.add_argument(
        "--scale",
        choices=["auto", "log", "linear"],
        default="auto",
        help="spacing of --range and the plot's axis (auto: log when start > 0 and stop / "
        "start >= 100, or the estimator's default range's own)",
    )
    bv.add_argument("--rounds", type=int, default=50, help="training sets per value")
    bv.add_argument("--sampling", choices=["bootstrap", "disjoint"], default="bootstrap")
    bv.add_argument("--test-size", type=_finite_float, default=0.5, help="held-out fraction")
    _add_progress_option(bv)
    bv.set_defaults(command_parser=bv)

    kkt = sub.add_parser("kkt", help="fit a model and print its KKT conditions and duality gap")
    _add_data_options(kkt)
    kkt.add_argument("--model", choices=sorted(KKT_MODELS), default="svc")
    kkt.add_argument(
        "--C",
        type=_C_value,
        default=1.0,
        help="inverse regularisation strength (inf: a logistic regression without a penalty)",
    )
    kkt.add_argument("--tol", type=_finite_float, default=1e-3, help="tolerance of the KKT verdict")
    kkt.add_argument(
        "--solver-tol",
        type=_finite_float,
        default=None,
        help="the solver's own tol (default: the model's own default)",
    )
    kkt.set_defaults(command_parser=kkt)
    return parser


#: Modules whose ``raise`` statements are messages about the user's input: the checks of the
#: mlbasics functions and estimators, and scikit-learn's input validation.
INPUT_CHECKING_MODULES = (
    "mlbasics",
    "sklearn.utils.validation",
    "sklearn.utils.multiclass",
    "sklearn.model_selection._split",
)


def _raised_by_input_checks(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a ``raise`` statement of :data:`INPUT_CHECKING_MODULES`.

    Such an error ("cuts the 75 training samples into 500 parts", "Input X contains NaN") is
    shown as a usage error, without a traceback. One raised anywhere else, or by an operation
    rather than a ``raise`` in those modules (numpy's "operands could not be broadcast"), is a
    bug and keeps its traceback.
    """
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:  # the frame where it was raised
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "")
    if not any(module == m or module.startswith(m + ".") for m in INPUT_CHECKING_MODULES):
        return False
    instruction = next(
        (i for i in dis.get_instructions(tb.tb_frame.f_code) if i.offset == tb.tb_lasti), None
    )
    return instruction is not None and instruction.opname == "RAISE_VARARGS"


def main(argv=None) -> int:
    """Run the command of ``argv`` (default ``sys.argv``); returns its exit status (0, or 1 when
    ``kkt``'s report fails). Bad arguments or data end it with status 2 and a message."""
    try:
        return _run(argv)
    except CommandError as exc:
        print(exc, file=sys.stderr)
        raise


def _run(argv) -> int:
    args = build_parser().parse_args(argv)
    parser = args.command_parser  # errors after parsing show the subcommand's usage
    if (args.csv is None) != (args.target is None):
        parser.error("--csv and --target go together")
    if args.csv is not None and args.dataset is not None:
        parser.error("--dataset and --csv name two data sets: give one")
    if args.command != "bias-variance" and args.csv is None and args.dataset is None:
        args.dataset = "breast_cancer"
    if args.command != "kkt":  # the options of a run of many fits
        if args.n_jobs is not None and args.n_jobs == 0:
            parser.error("--n-jobs must not be 0")
        if not 0 <= args.random_state < 2**32:
            parser.error("--random-state must be between 0 and 2**32 - 1")
        if args.verbose < 0:
            parser.error("--verbose must not be negative")
    if args.command == "compare":
        if args.test != "corrected_t" and (args.cv is not None or args.repeats is not None):
            parser.error(
                f"--cv and --repeats set the K-fold of --test corrected_t; --test {args.test} "
                "draws its own splits"
            )
        args.cv = 10 if args.cv is None else args.cv
        args.repeats = 3 if args.repeats is None else args.repeats
        if args.cv < 2:
            parser.error("--cv must be at least 2")
        if args.repeats < 1:
            parser.error("--repeats must be at least 1")
        if args.C <= 0:
            parser.error("--C must be positive")
        if not 0 < args.alpha < 1:
            parser.error("--alpha must be between 0 and 1")
        if args.scoring is not None and args.scoring not in get_scorer_names():
            parser.error(f"--scoring {args.scoring!r} is not a scikit-learn scorer name")
        if args.scoring is not None and _is_regression_scorer(args.scoring):
            # (it scored the class labels as numbers and printed a table: a review)
            parser.error(
                f"--scoring {args.scoring!r} is a regression metric; compare's estimators are "
                "classifiers: use a classification scorer (accuracy, balanced_accuracy, f1, "
                "roc_auc, neg_log_loss, ...)"
            )
        command = run_compare
    elif args.command == "kkt":
        if args.C <= 0:
            parser.error("--C must be positive")
        if math.isinf(args.C) and args.model.startswith(("svc", "sklearn-svc")):
            parser.error(
                f"--C inf (no penalty) is for the logistic models; --model {args.model} needs a "
                "finite C"
            )
        if args.tol <= 0 or (args.solver_tol is not None and args.solver_tol <= 0):
            parser.error("--tol and --solver-tol must be positive")
        command = run_kkt
    else:
        if args.rounds < 2:
            parser.error("--rounds must be at least 2")
        regression = CURVE_ENTRIES[args.estimator].regression
        if regression and args.csv is None and args.dataset not in (None, "sine"):
            parser.error(
                f"--estimator {args.estimator} is a regression curve: it runs on the sine data "
                f"(or --csv), not on --dataset {args.dataset}"
            )
        if not 0 < args.test_size < 1:
            parser.error("--test-size must be between 0 and 1")
        command = run_bias_variance
    if getattr(args, "plot", None):
        args.plot = os.path.expanduser(args.plot)  # (--plot=~/x.png: the shell leaves the ~)
        _plotting()  # fail before the fits, not after them, when matplotlib is missing
        _check_plot_path(args.plot, parser)
    if args.command in ("compare", "bias-variance"):
        args.callbacks = progress_callbacks(args.progress)  # rich missing: fail before the fits
    if args.command != "kkt" and args.verbose > 0:
        try:  # tqdm missing: fail before the fits (it failed after a warm-up fit of each model)
            tqdm_class()
        except ImportError:
            raise CommandError(
                f"error: --verbose {args.verbose} draws a progress bar with tqdm, which is not "
                "installed: pip install tqdm (or mlbasics[progress]), or pass --verbose 0"
            ) from None
    try:
        status = command(args, parser)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader (head, less) closed the pipe: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except ImportError as exc:  # an optional package (tqdm for --verbose, pandas for --csv)
        raise CommandError(f"error: {exc}") from None
    except MemoryError as exc:  # SVC(solver='qp') says how much it would need and what to use
        raise CommandError(f"error: {exc}") from None
    except InvalidParameterError as exc:  # a parameter check: always about the input
        parser.error(str(exc))
    except ValueError as exc:
        if not _raised_by_input_checks(exc):
            raise  # a bug, with its traceback
        parser.error(str(exc))
    return status or 0
