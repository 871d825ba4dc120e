"""The ``mlbasics`` command: the comparison table, the bias-variance curve, their error messages."""

import dataclasses
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier

from mlbasics import cli
from mlbasics.cli import COMPARE_ENTRIES, CURVE_ENTRIES, main, parse_range


def test_compare_prints_a_row_per_estimator_and_the_p_value_matrix(capsys):
    assert main(["compare", "--dataset", "iris", "--cv", "3", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    names = tuple(e.name for e in COMPARE_ENTRIES)
    rows = [line for line in out.splitlines() if line.startswith(names)]
    assert len(rows) == len(COMPARE_ENTRIES)  # the table; the p-value rows start with [k]
    accuracies = [float(r.split("±")[0].split()[-1]) for r in rows]
    assert min(accuracies) > 0.85
    assert "3 splits (3-fold x 1 repeat, RepeatedStratifiedKFold)" in out
    assert "p-values (Nadeau-Bengio corrected resampled t-test, Holm-adjusted" in out
    p_rows = [line for line in out.splitlines() if line.startswith("[")]
    assert len(p_rows) == len(COMPARE_ENTRIES)  # one row of p-values per estimator
    assert "significant differences" in out


@pytest.fixture
def two_entries(monkeypatch):
    """A deliberately weak model beside a good one, both fast."""
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setattr(
        cli,
        "COMPARE_ENTRIES",
        (
            cli.Entry("majority vote", lambda C: DummyClassifier()),
            cli.Entry("logistic", lambda C: LogisticRegression(C=C)),
        ),
    )


def test_compare_reports_the_significant_differences(two_entries, capsys):
    assert main(["compare", "--cv", "5", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert "significant differences (Holm-adjusted p < 0.05):" in out
    assert "logistic > majority vote" in out


def test_compare_saves_the_comparison_plot(two_entries, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "compare.png"
    assert main(["compare", "--dataset", "iris", "--cv", "3", "--repeats", "1", "--plot",
                 str(path)]) == 0  # fmt: skip
    assert path.stat().st_size > 10_000
    assert f"saved {path}" in capsys.readouterr().out


def test_compare_with_mcnemar_uses_one_hold_out(two_entries, capsys):
    assert main(["compare", "--dataset", "wine", "--test", "mcnemar"]) == 0
    out = capsys.readouterr().out
    assert "1 split (StratifiedShuffleSplit)" in out
    assert "McNemar" in out


def test_compare_on_a_csv_file(two_entries, tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] + 0.5 * rng.standard_normal(60) > 0).astype(int)
    lines = ["a,b,c,name,label"] + [
        f"{a},{b},{c},n{i},{t}" for i, ((a, b, c), t) in enumerate(zip(X, y, strict=True))
    ]
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines))
    assert main(["compare", "--csv", str(path), "--target", "label", "--cv", "3",
                 "--repeats", "1"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "non-numeric columns left out: name" in out
    assert "60 samples, 3 features, 2 classes" in out


def test_entries_with_a_sample_limit_are_left_out_on_larger_data(monkeypatch):
    from sklearn.naive_bayes import GaussianNB

    small_only = cli.Entry("small only", lambda C: GaussianNB(), max_samples=100)
    monkeypatch.setattr(cli, "COMPARE_ENTRIES", (*COMPARE_ENTRIES, small_only))
    kept, left_out = cli.default_entries(500)
    assert small_only in left_out and small_only not in kept
    kept, left_out = cli.default_entries(100)
    assert small_only in kept and not left_out


def test_bias_variance_prints_the_curve_for_svc_over_c(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "bv.png"
    argv = ["bias-variance", "--estimator", "svc", "--param", "C", "--range", "0.01:100:3",
            "--rounds", "5", "--plot", str(path)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "0-1 bias-variance curve over C" in out
    for value in ("0.01", "1", "100"):
        assert any(line.split()[:1] == [value] for line in out.splitlines())
    assert "lowest expected loss" in out
    assert path.stat().st_size > 10_000


def test_bias_variance_of_polynomial_degree_uses_squared_error_on_the_sine_data(capsys):
    assert main(["bias-variance", "--estimator", "poly", "--range", "1:5:3", "--rounds", "5"]) == 0
    out = capsys.readouterr().out
    assert "mse bias-variance curve over degree" in out
    assert "on sine" in out and "tested on sin x" in out and "bias^2" in out
    # against the noise-free targets a cubic's bias^2 is small; against the noisy ones every
    # row carried the noise variance 0.3^2 = 0.09 (0.103 was printed for degree 3)
    row = next(line.split() for line in out.splitlines() if line.split()[:1] == ["3"])
    assert float(row[2]) < 0.02


def test_plot_paths_are_checked_before_the_fits(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    import mlbasics.cli as cli

    def no_fits(*args, **kwargs):
        raise AssertionError("the fits ran before the --plot check")

    monkeypatch.setattr(cli, "run_compare", no_fits)
    for plot, message in [(tmp_path / "x.pnj", "cannot write .pnj files"),
                          (f"{tmp_path}/", "not a directory")]:  # fmt: skip
        with pytest.raises(SystemExit) as exit_info:
            main(["compare", "--plot", str(plot)])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err

    if os.path.isdir("/proc"):  # exists, takes no files: it was found after the fits (a review)
        with pytest.raises(SystemExit) as exit_info:
            main(["compare", "--plot", "/proc/x.png"])
        assert exit_info.value.code == 2 and "cannot write in /proc" in capsys.readouterr().err


def test_a_plot_format_that_fails_to_save_is_found_before_the_fits(tmp_path, capsys, monkeypatch):
    # .pgf is a format matplotlib lists, but it needs LaTeX: without it the fits ran and the
    # command ended in a traceback (a review). A failing save is simulated here for .pgf.
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    save = Figure.savefig

    def savefig(self, fname, *args, format=None, **kwargs):
        if format == "pgf" or str(fname).endswith(".pgf"):
            raise RuntimeError("'xelatex' not found")
        return save(self, fname, *args, format=format, **kwargs)

    def no_fits(*args, **kwargs):
        raise AssertionError("the fits ran before the --plot check")

    monkeypatch.setattr(Figure, "savefig", savefig)
    monkeypatch.setattr(cli, "run_bias_variance", no_fits)
    with pytest.raises(SystemExit) as exit_info:
        main(["bias-variance", "--plot", str(tmp_path / "curve.pgf")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "cannot write .pgf here ('xelatex' not found)" in err


def test_a_polynomial_curve_too_wide_for_the_features_is_refused(tmp_path, capsys):
    # The default degrees 1 to 12 suit the one-feature sine data; on 10 features degree 12 is
    # 646,646 columns, and the run went on for minutes (a review).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 10))
    lines = [",".join([*"abcdefghij", "t"])]
    lines += [",".join(f"{v:.6f}" for v in (*row, row.sum())) for row in X]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(lines))
    argv = ["bias-variance", "--estimator", "poly", "--csv", str(path), "--target", "t",
            "--no-progress"]  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "degree 12 on 10 features makes 646,646 columns" in err and "--range 1:7:7" in err
    # (within the bound: comb(10 + 7, 7) = 19,448 columns)
    assert main([*argv, "--range", "1:2:2", "--rounds", "2"]) == 0
    # one feature: the advice stays within --range's 1000 points (a review)
    with pytest.raises(SystemExit):
        main(["bias-variance", "--estimator", "poly", "--range", "1:30000:5", "--no-progress"])
    assert "use --range 1:19999:1000" in capsys.readouterr().err
    # negative degrees: scikit-learn's message, not math.comb's traceback (a review)
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--range=-5:-1:3", "--rounds", "2"])
    assert (
        exit_info.value.code == 2
        and "must be an int in the range [0, inf)" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "options, axis",
    [(["--range", "0.01:100:5", "--scale", "linear"], "linear"),
     (["--range", "0.01:100:5"], "log"),
     (["--estimator", "lr", "--range", "1:50:3", "--scale", "log"], "log")],
)  # fmt: skip
def test_the_plots_axis_follows_the_spacing_of_the_range(options, axis, monkeypatch, tmp_path):
    # --scale spaced the values, and the plot chose its axis again: linear values on a log
    # axis and the other way round (a review).
    pytest.importorskip("matplotlib")
    drawn = []
    monkeypatch.setattr(cli, "_save_figure", lambda display, path: drawn.append(display))
    argv = ["bias-variance", "--dataset", "iris", "--rounds", "2", "--no-progress",
            "--plot", str(tmp_path / "bv.png"), *options]  # fmt: skip
    assert main(argv) == 0
    assert drawn[0].ax_.get_xscale() == axis


def test_the_default_mlp_curve_is_drawn(monkeypatch, tmp_path):
    # Its values are (units,) tuples, which a log axis cannot take: with the log spacing the
    # plot failed after every fit (a review). They stand at 0, 1, 2, ..., evenly, as the powers
    # of two they are.
    pytest.importorskip("matplotlib")
    from sklearn.neural_network import MLPClassifier

    quick = dataclasses.replace(
        CURVE_ENTRIES["mlp"], make=lambda: cli._scaled(MLPClassifier(max_iter=20))
    )
    monkeypatch.setitem(cli.CURVE_ENTRIES, "mlp", quick)
    path = tmp_path / "mlp.png"
    argv = ["bias-variance", "--estimator", "mlp", "--dataset", "iris", "--rounds", "2",
            "--no-progress", "--plot", str(path)]  # fmt: skip
    assert main(argv) == 0 and path.stat().st_size > 10_000


def test_the_default_range_of_hidden_units_is_powers_of_two():
    # "1:64:7" was spaced linearly (1, 12, 22, ...), skipping 2 to 11 units (a review).
    entry = CURVE_ENTRIES["mlp"]
    values = parse_range(entry.default_range, entry.params["hidden"][1], entry.default_scale)
    assert values == [(1,), (2,), (4,), (8,), (16,), (32,), (64,)]


def test_a_plot_without_an_extension_is_saved_and_reported_as_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    base = tmp_path / "curve"
    argv = ["bias-variance", "--estimator", "poly", "--range", "1:3:2", "--rounds", "2",
            "--plot", str(base)]  # fmt: skip
    assert main(argv) == 0
    assert (tmp_path / "curve.png").stat().st_size > 10_000
    assert f"saved {base}.png" in capsys.readouterr().out


def test_a_memory_error_of_the_library_is_one_line(monkeypatch, capsys):
    import mlbasics.cli as cli

    def too_big(args, parser):
        raise MemoryError("solver='qp' on 60000 samples needs about 241 GiB; use solver='smo'")

    monkeypatch.setattr(cli, "run_kkt", too_big)
    with pytest.raises(SystemExit, match=r"^error: solver='qp' on 60000 samples needs"):
        main(["kkt"])


def test_ranges_are_geometric_over_two_decades_and_integers_for_discrete_parameters():
    np.testing.assert_allclose(parse_range("0.01:100:5", float, "auto"), [0.01, 0.1, 1, 10, 100])
    assert parse_range("1:9:5", float, "auto") == [1.0, 3.0, 5.0, 7.0, 9.0]
    assert parse_range("1:100:3", round, "auto") == [1, 10, 100]
    assert parse_range("1:3:5", round, "linear") == [1, 2, 3]  # duplicates after rounding dropped
    # a huge num was a MemoryError from numpy (1e11) or ran for minutes deduplicating (1e8)
    assert len(parse_range("1:1000:1000", round, "linear")) == 1000
    with pytest.raises(ValueError, match="asks for 100000000000 points; at most 1000"):
        parse_range("0.1:1:100000000000", float, "auto")
    assert parse_range("1:64:4", CURVE_ENTRIES["mlp"].params["hidden"][1], "log") == [
        (1,),
        (4,),
        (16,),
        (64,),
    ]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["compare", "--csv", "missing.csv", "--target", "y"], "cannot read missing.csv"),
        (["compare", "--csv", "data.csv"], "--csv and --target go together"),
        (["compare", "--cv", "1"], "--cv must be at least 2"),
        (["compare", "--dataset", "iris", "--cv", "80"], "exceeds the size of the smallest class"),
        (["compare", "--C", "0"], "--C must be positive"),
        (["compare", "--repeats", "0"], "--repeats must be at least 1"),
        (["compare", "--scoring", "accurasy"], "'accurasy' is not a scikit-learn scorer"),
        (["compare", "--alpha", "5"], "--alpha must be between 0 and 1"),
        (["bias-variance", "--param", "depth"], "'depth' is not a parameter of svc"),
        (["bias-variance", "--range", "1:2"], "--range must be start:stop:num"),
        (["bias-variance", "--range", "5:1:3"], "start < stop"),
        (["bias-variance", "--rounds", "1"], "--rounds must be at least 2"),
        (["bias-variance", "--dataset", "sine"], "regression problem; svc is a classifier"),
    ],
)
def test_bad_arguments_are_rejected_clearly(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err + str(exit_info.value.code)
    assert message in err


def test_csv_with_missing_values_is_rejected(tmp_path):
    path = tmp_path / "holes.csv"
    path.write_text("a,b,label\n1,,0\n2,3,1\n3,4,0\n4,5,1\n")
    with pytest.raises(SystemExit, match="missing or infinite values: b"):
        main(["compare", "--csv", str(path), "--target", "label", "--cv", "2"])


def test_python_dash_m_runs_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "mlbasics", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("mlbasics ")


def test_a_missing_optional_package_ends_the_command_with_a_clear_message(
    monkeypatch, two_entries, capsys
):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    fitted = []
    monkeypatch.setattr(cli, "clone", lambda model: fitted.append(model) or clone(model))
    with pytest.raises(SystemExit, match="error: --verbose 1 draws a progress bar with tqdm"):
        main(["compare", "--cv", "3", "--repeats", "1", "--verbose", "1"])
    # before any fit or output (it came after a warm-up fit of every estimator, as --progress
    # without rich and --plot without matplotlib did not)
    assert not fitted and capsys.readouterr().out == ""


def test_kkt_command_prints_a_passing_report(capsys):
    assert main(["kkt", "--model", "svc", "--dataset", "breast_cancer"]) == 0
    out = capsys.readouterr().out
    assert "KKT report for SVC" in out and "OK" in out and "duality gap" in out


def test_kkt_command_passes_an_optimal_logistic_fit_at_a_huge_C(capsys):
    # iris at C = 1e20: the report said FAILED (exit 1): the fit had stopped on its decrement
    # where a rounding floor thousands of times too large excused the gap; it now goes on until
    # its gap passes
    assert main(["kkt", "--model", "logistic", "--dataset", "iris", "--C", "1e20"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "Newton decrement" not in out


def test_kkt_command_takes_C_inf_for_a_logistic_regression(capsys):
    # C=np.inf is an unpenalised logistic regression (scikit-learn's convention, and the
    # estimators'); the command refused it as not finite
    assert main(["kkt", "--model", "logistic", "--dataset", "breast_cancer", "--C", "inf"]) in (
        0,
        1,
    )
    out = capsys.readouterr().out
    assert "none penalty" in out


def test_kkt_command_reports_the_fits_warnings_as_notes(capsys):
    # shown by the warnings module, a fit's ConvergenceWarning was located at <frozen runpy>
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing escapes as a warning
        # (at C = 1e300 the optimum's margins are near 690, beyond 100 Newton iterations)
        main(["kkt", "--model", "logistic", "--dataset", "breast_cancer", "--C", "1e300"])
    out = capsys.readouterr().out
    assert "note: 1 warning (ConvergenceWarning), the first: LogisticRegression" in out


def test_kkt_command_shows_the_fits_warnings_when_the_check_fails(monkeypatch, capsys):
    # held until the header, the notes were lost when check_kkt raised (a review)
    import mlbasics.optimality

    def broken(*args, **kwargs):
        raise RuntimeError("the check failed")

    monkeypatch.setattr(mlbasics.optimality, "check_kkt", broken)
    with pytest.raises(RuntimeError, match="the check failed"):
        main(["kkt", "--model", "logistic", "--dataset", "breast_cancer", "--C", "1e300"])
    assert "note: 1 warning (ConvergenceWarning)" in capsys.readouterr().out


def test_kkt_command_fails_when_the_solver_stops_early(capsys):
    status = main(["kkt", "--model", "svc", "--solver-tol", "10", "--tol", "1e-6"])
    assert status == 1
    assert "FAIL" in capsys.readouterr().out.upper()


class _Stream:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        return self.tty


def test_progress_flags_parse_for_both_long_commands():
    parser = cli.build_parser()
    for command in ("compare", "bias-variance"):
        assert parser.parse_args([command]).progress is None
        assert parser.parse_args([command, "--progress"]).progress is True
        assert parser.parse_args([command, "--no-progress"]).progress is False


def test_progress_is_on_by_default_only_in_a_terminal_with_rich_installed(monkeypatch):
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    [bar] = cli.progress_callbacks(None, stream=_Stream(tty=True))
    assert isinstance(bar, ProgressBar)
    assert cli.progress_callbacks(None, stream=_Stream(tty=False)) == []
    assert cli.progress_callbacks(False, stream=_Stream(tty=True)) == []
    monkeypatch.setitem(sys.modules, "rich", None)  # as if rich were not installed
    assert cli.progress_callbacks(None, stream=_Stream(tty=True)) == []


def test_compare_with_progress_draws_the_bars_of_the_run_and_of_each_fit(two_entries, capsys):
    pytest.importorskip("rich")
    assert main(["compare", "--cv", "2", "--repeats", "1", "--progress"]) == 0
    out = capsys.readouterr().out
    assert "CompareEstimators - 2 estimators x 2 splits" in out
    assert "majority vote" in out and "logistic" in out
    assert "split | Pipeline - fit" in out  # every entry is a StandardScaler pipeline
    assert "p-values (" in out and "significant differences" in out  # the table after the bars


def test_compare_with_no_progress_draws_no_bar(two_entries, capsys):
    assert main(["compare", "--cv", "2", "--repeats", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "CompareEstimators" not in out and "2 splits (2-fold x 1 repeat," in out


def test_bias_variance_with_and_without_progress(capsys):
    pytest.importorskip("rich")
    argv = ["bias-variance", "--estimator", "tree", "--range", "1:3:2", "--rounds", "2"]
    assert main([*argv, "--progress"]) == 0
    shown = capsys.readouterr().out
    assert "BiasVarianceSweep - DecisionTreeClassifier over max_depth" in shown
    assert main([*argv, "--no-progress"]) == 0
    hidden = capsys.readouterr().out
    assert "BiasVarianceSweep" not in hidden
    table = [line for line in shown.splitlines() if line.split()[:1] in (["1"], ["3"])]
    assert table == [line for line in hidden.splitlines() if line.split()[:1] in (["1"], ["3"])]


def test_progress_without_rich_is_refused_with_the_install_line(monkeypatch, two_entries, capsys):
    monkeypatch.setitem(sys.modules, "rich", None)  # as if rich were not installed
    with pytest.raises(SystemExit, match=r"--progress draws its bars with rich.*pip install rich"):
        main(["compare", "--cv", "2", "--repeats", "1", "--progress"])
    assert capsys.readouterr().out == ""  # refused before any fit
    assert main(["compare", "--cv", "2", "--repeats", "1", "--no-progress"]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["compare", "--C", "nan"], "argument --C: expected a finite number, got 'nan'"),
        (["compare", "--alpha", "nan"], "argument --alpha: expected a finite number"),
        (["kkt", "--C", "inf"], "--C inf (no penalty) is for the logistic models; --model svc"),
        (["kkt", "--C", "nan"], "argument --C: expected a finite number, got 'nan'"),
        (["kkt", "--tol", "nan"], "argument --tol: expected a finite number"),
        (["bias-variance", "--test-size", "nan"], "argument --test-size: expected a finite"),
        (["compare", "--C", "abc"], "argument --C: expected a number, got 'abc'"),
        (["compare", "--random-state", "-1"], "--random-state must be between 0 and 2**32 - 1"),
        (["bias-variance", "--verbose", "-1"], "--verbose must not be negative"),
        (["compare", "--plot", "/no/such/dir/x.png"], "the directory does not exist"),
        (["bias-variance", "--dataset", "iris", "--sampling", "disjoint", "--rounds", "500"],
         "--sampling disjoint cuts the 75 training samples into --rounds 500 parts"),
    ],
)  # fmt: skip
def test_bad_values_are_usage_errors_with_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["compare", "kkt"])
def test_csv_columns_too_large_to_standardise_are_named(command, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    lines = ["a,b,label"] + [f"{a},{b * 1e300},{int(a > 0)}" for a, b in X]
    path = tmp_path / "huge.csv"
    path.write_text("\n".join(lines))
    # no NaN in the file, but a standardised column b would be all NaN (the variance overflows)
    with pytest.raises(SystemExit, match=r"too large or too small to standardise.*: b \("):
        main([command, "--csv", str(path), "--target", "label"])


class _FailsOnFolds(DummyClassifier):
    """Fits the whole iris data (the warm-up) and fails on any part of it (every fold)."""

    def fit(self, X, y, sample_weight=None):
        if len(X) < 150:
            raise ValueError("needs all 150 rows")
        return super().fit(X, y, sample_weight)


def test_an_input_error_raised_by_the_library_is_a_usage_error(monkeypatch, capsys):
    # every fold fails: compare_estimators raises a ValueError
    monkeypatch.setattr(cli, "COMPARE_ENTRIES", (
        cli.Entry("majority vote", lambda C: _FailsOnFolds()),
        cli.Entry("dummy", lambda C: DummyClassifier()),
    ))  # fmt: skip
    argv = ["compare", "--dataset", "iris", "--cv", "2", "--repeats", "1"]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "majority vote: all 2 fits failed" in captured.err
    assert "note: 2 warnings (FitFailedWarning)" in captured.out  # one line for both folds


@pytest.mark.parametrize("scoring", ["roc_auc", "neg_log_loss"])
def test_a_scorer_an_entry_cannot_serve_is_refused_before_the_folds(scoring, monkeypatch, capsys):
    # roc_auc on three classes, or a probability scorer for an SVC without predict_proba,
    # failed in every fold, after all the fits (a review).
    monkeypatch.setattr(cli, "COMPARE_ENTRIES", (
        cli.Entry("majority vote", lambda C: DummyClassifier()),
        cli.Entry("svc", lambda C: cli.SVC(C=C)),
    ))  # fmt: skip
    folds = []
    monkeypatch.setattr(cli, "compare_estimators", lambda *a, **k: folds.append(1))
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--dataset", "iris", "--cv", "2", "--repeats", "1", "--scoring", scoring])
    assert exit_info.value.code == 2 and not folds
    assert f"--scoring {scoring}:" in capsys.readouterr().err


@pytest.mark.parametrize("scoring", ["r2", "neg_mean_squared_error"])
def test_a_regression_scorer_is_refused(scoring, capsys):
    # it scored the class labels as numbers, exit 0 and a full table (a review)
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--dataset", "iris", "--cv", "2", "--repeats", "1", "--scoring", scoring])
    assert exit_info.value.code == 2
    assert "is a regression metric" in capsys.readouterr().err


def test_a_bug_keeps_its_traceback(monkeypatch, two_entries):
    def broken(*args, **kwargs):
        return np.ones(2) + np.ones(3)  # a ValueError that is no message about the input

    monkeypatch.setattr(cli, "compare_estimators", broken)
    with pytest.raises(ValueError, match="could not be broadcast"):
        main(["compare", "--dataset", "iris", "--cv", "2", "--repeats", "1"])


def test_only_columns_whose_variance_overflows_or_underflows_are_refused():
    x = np.random.default_rng(0).standard_normal(40)
    columns = {
        "plain": (x, True),
        "1e150": (x * 1e150, True),
        "1e-150": (x * 1e-150, True),
        "constant": (np.ones(40), True),
        "constant up to rounding": (1.0 + np.r_[2.2e-16, np.zeros(39)], True),
        "1e154": (x * 1e154, False),  # the sum of squares overflows
        "1e300": (x * 1e300, False),
        "1e-300": (x * 1e-300, False),  # the variance underflows to 0
    }
    X = np.column_stack([column for column, _ in columns.values()])
    expected = [ok for _, ok in columns.values()]
    assert cli._standardisable(X).tolist() == expected


@pytest.mark.parametrize(
    "argv, message",
    [
        (["kkt", "--plot", "x.png"], "unrecognized arguments: --plot"),  # kkt draws no figure
        (["kkt", "--n-jobs", "2"], "unrecognized arguments: --n-jobs"),
        (["compare", "--test", "mcnemar", "--cv", "3"], "--test mcnemar draws its own splits"),
        (["bias-variance", "--estimator", "poly", "--dataset", "digits"],
         "--estimator poly is a regression curve"),
        (["bias-variance", "--range", "0.1:inf:3"], "--range needs finite start and stop"),
    ],
)  # fmt: skip
def test_options_a_command_would_ignore_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_errors_after_parsing_show_the_subcommand_usage(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--cv", "1"])
    err = capsys.readouterr().err
    assert "usage: mlbasics compare" in err and "mlbasics compare: error: --cv" in err


@pytest.mark.parametrize("command", ["compare", "kkt", "bias-variance"])
def test_a_continuous_target_is_named_as_such(command, tmp_path, capsys):
    path = tmp_path / "real.csv"
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f},{b:.3f},{a + b:.5f}" for a, b in rng.standard_normal((30, 2))]
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(SystemExit):
        main([command, "--csv", str(path), "--target", "label"])
    assert "the target holds continuous values" in capsys.readouterr().err


def test_a_csv_without_rows_is_named_as_such(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("a,b,label\n")
    with pytest.raises(SystemExit, match="has a header but no data rows"):
        main(["kkt", "--csv", str(path), "--target", "label"])


def test_kkt_svc_qp_uses_the_solver_tol():
    assert cli.KKT_MODELS["svc-qp"](1.0, tol=0.25).tol == 0.25


@pytest.mark.parametrize("model", sorted(cli.KKT_MODELS))
def test_kkt_models_keep_their_own_default_tol(model):
    # --solver-tol defaulted to 1e-3 for every model: scikit-learn's logistic regression
    # (default 1e-4) then failed its report at the command's defaults (a review).
    built = cli.KKT_MODELS[model](1.0)
    assert built.tol == type(built)().tol


def test_kkt_of_scikit_learns_logistic_regression_passes_at_the_defaults(capsys):
    assert main(["kkt", "--model", "sklearn-logistic"]) == 0
    assert "OK" in capsys.readouterr().out


def test_bad_data_exits_with_2_and_a_failed_report_with_1(tmp_path, capsys):
    # Both ended with status 1: a script could not tell a CSV with a hole from a model that
    # violates the KKT conditions (a review).
    path = tmp_path / "holes.csv"
    path.write_text("a,b,label\n1,,0\n2,3,1\n3,4,0\n4,5,1\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["kkt", "--csv", str(path), "--target", "label"])
    assert exit_info.value.code == 2
    assert "missing or infinite values: b" in capsys.readouterr().err
    assert main(["kkt", "--model", "sklearn-logistic", "--solver-tol", "1e-1"]) == 1


def test_compare_on_few_splits_says_the_p_values_rest_on_few_differences(two_entries, capsys):
    assert main(["compare", "--cv", "3", "--repeats", "1", "--no-progress"]) == 0
    assert "the t-test's variance rests on 3 differences" in capsys.readouterr().out
    assert main(["compare", "--cv", "5", "--repeats", "2", "--no-progress"]) == 0
    assert "rests on" not in capsys.readouterr().out


def test_one_hold_out_has_no_spread(two_entries, capsys):
    assert main(["compare", "--dataset", "wine", "--test", "mcnemar", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "± -" in out and "nan" not in out


def test_output_cut_short_by_the_reader_ends_quietly():
    # `mlbasics ... | head -1`: the pipe closes before the table is written.
    command = [sys.executable, "-m", "mlbasics", "bias-variance", "--estimator", "tree",
               "--range", "1:3:2", "--rounds", "2", "--no-progress"]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        process.stdout.readline()
        process.stdout.close()
        err = process.stderr.read().decode()
        process.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err


@pytest.mark.parametrize("command", ["compare", "bias-variance", "kkt"])
def test_a_dataset_beside_a_csv_is_refused(command, tmp_path, capsys):
    # --dataset was ignored beside --csv (and --dataset sine gave a wrong error), where the
    # command refuses the other options it would ignore (a review).
    path = tmp_path / "real.csv"
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f},{int(b > 0)}" for a, b in rng.standard_normal((40, 2))]
    path.write_text("x,t\n" + "\n".join(rows) + "\n")
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--csv", str(path), "--target", "t", "--dataset", "iris"])
    assert exit_info.value.code == 2
    assert "--dataset and --csv name two data sets" in capsys.readouterr().err


def test_a_regression_curve_runs_on_a_csv(tmp_path, capsys):
    path = tmp_path / "real.csv"
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f},{np.sin(a) + 0.1 * b:.5f}" for a, b in rng.standard_normal((40, 2))]
    path.write_text("x,t\n" + "\n".join(rows) + "\n")
    argv = ["bias-variance", "--estimator", "poly", "--csv", str(path), "--target", "t",
            "--range", "1:2:2", "--rounds", "2", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert f"on {path}" in capsys.readouterr().out


def test_a_saved_index_column_is_left_out_and_true_false_columns_kept(tmp_path, capsys):
    # DataFrame.to_csv writes the row numbers first, unnamed: as a feature they separated
    # classes stored in order; a True/False column was dropped as non-numeric (a review).
    rng = np.random.default_rng(0)
    n = 60
    x = rng.standard_normal(n)
    flag = rng.random(n) > 0.5
    label = (x + flag + 0.5 * rng.standard_normal(n) > 0.5).astype(int)
    order = rng.permutation(n)  # (saved from a shuffled frame: the labels are not 0..n-1)
    # (read back with its index and saved again: the old labels follow as "Unnamed: 0.1")
    lines = [",Unnamed: 0,x,flag,label"] + [
        f"{k},{i},{a},{b},{c}"
        for k, (i, a, b, c) in enumerate(zip(order, x, flag, label, strict=True))
    ]
    path = tmp_path / "saved.csv"
    path.write_text("\n".join(lines) + "\n")
    assert main(["kkt", "--model", "logistic", "--csv", str(path), "--target", "label"]) == 0
    out = capsys.readouterr().out
    assert "column 'Unnamed: 0' (distinct integers, unnamed: a saved index) left out" in out
    assert "column 'Unnamed: 0.1' (distinct integers, unnamed: a saved index) left out" in out
    assert "non-numeric" not in out and f"({n} x 2, standardised)" in out
