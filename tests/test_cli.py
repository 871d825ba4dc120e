"""The ``mlbasics`` command: the comparison table and its error messages."""

import subprocess
import sys

import numpy as np
import pytest

from mlbasics.cli import main


def test_compare_prints_a_row_per_estimator_with_matching_objectives(capsys):
    assert main(["compare", "--dataset", "iris", "--cv", "3"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("mlbasics ", "sklearn "))]
    rows = [r for r in rows if "LR" in r]
    assert len(rows) == 4
    objectives = [float(r.split()[-1]) for r in rows]
    # the same objective solved by both libraries: the values agree closely (L2 pair, L1 pair)
    assert objectives[0] == pytest.approx(objectives[1], rel=1e-3)
    assert objectives[2] == pytest.approx(objectives[3], rel=1e-2)
    accuracies = [float(r.split()[-5]) for r in rows]
    assert min(accuracies) > 0.85


def test_compare_on_a_csv_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] + 0.5 * rng.standard_normal(60) > 0).astype(int)
    lines = ["a,b,c,name,label"] + [
        f"{a},{b},{c},n{i},{t}" for i, ((a, b, c), t) in enumerate(zip(X, y, strict=True))
    ]
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines))
    assert main(["compare", "--csv", str(path), "--target", "label", "--cv", "3"]) == 0
    out = capsys.readouterr().out
    assert "non-numeric columns left out: name" in out
    assert "60 samples, 3 features, 2 classes" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["compare", "--csv", "missing.csv", "--target", "y"], "cannot read missing.csv"),
        (["compare", "--csv", "data.csv"], "--csv and --target go together"),
        (["compare", "--cv", "1"], "--cv must be at least 2"),
        (["compare", "--dataset", "iris", "--cv", "80"], "exceeds the size of the smallest class"),
        (["compare", "--C", "0"], "--C must be positive"),
    ],
)
def test_compare_rejects_bad_arguments_clearly(argv, message, capsys):
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
