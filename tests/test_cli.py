"""The `gaga` command line end to end, in a temporary directory."""

import csv
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import gaga
from gaga.__main__ import main

pytest.importorskip("matplotlib")


@pytest.fixture
def small_csv(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(48, 3)
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.randn(48)
    f = tmp_path / "small.csv"
    with open(f, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["x1", "x2", "x3", "target"])
        w.writerows(np.column_stack([X, y]).tolist())
    return f


def _one_line_error(err):
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert re.match(r"gaga( path)?: error: ", lines[0]), lines[0]
    return lines[0]


def test_path_end_to_end_on_csv(tmp_path, small_csv, capsys):
    out = tmp_path / "out"
    argv = [
        "path",
        "--data",
        str(small_csv),
        "--label",
        "target",
        "--noise",
        "0.2",
        "--alpha",
        "0.05",
        "--cv",
        "3",
        "--n-ages",
        "10",
        "--out",
        str(out),
        "--random-state",
        "1",
        "-v",
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # no progress bar when stderr is not a terminal
    for key in ("events", "jumps", "chosen age", "test R^2", "path time", "ACS"):
        assert key in captured.out
    assert sorted(os.listdir(out)) == [
        "age_path.png",
        "breakpoints.csv",
        "summary.json",
    ]
    assert (out / "age_path.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_noisy_train"] == round(0.2 * summary["n_train"])
    assert summary["n_train"] + summary["n_test"] == 48
    assert summary["age_min"] <= summary["chosen_age"] <= summary["age_max"]
    with open(out / "breakpoints.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == summary["n_events"]
    assert sum(int(r["jump"]) for r in rows) == summary["n_jumps"]
    ages = [float(r["age"]) for r in rows]
    assert ages == sorted(ages)
    assert "[gaga]" in captured.out  # -v prints the stages


def test_no_arguments_runs_the_default_on_diabetes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "diabetes" in out
    files = sorted(os.listdir(tmp_path / "gaga-output"))
    assert files == ["age_path.png", "breakpoints.csv", "summary.json"]


@pytest.mark.parametrize(
    "argv, code, match",
    [
        (["path", "--alpha", "-1"], 2, "--alpha"),
        (["path", "--alpha", "abc"], 2, "--alpha"),
        (["path", "--model", "tree"], 2, "--model"),
        (["path", "--noise", "1.5"], 2, "--noise"),
        (["path", "--cv", "1"], 2, "--cv"),
        (["path", "--scoring", "best"], 2, "--scoring"),
        (["frobnicate"], 2, "invalid choice"),
        (["--noise", "0.2", "--bogus"], 2, "unrecognized"),
        (["path", "--data", "no-such-file.csv", "--label", "y"], 1, "neither"),
        (["path", "--data", "diabetes", "--label", "y"], 1, "--label"),
        (["path", "--label", "y"], 1, "--label"),
    ],
)
def test_bad_arguments_one_line_error(tmp_path, capsys, argv, code, match):
    assert (
        main([*argv, "--out", str(tmp_path / "o")] if argv[0] == "path" else argv)
        == code
    )
    line = _one_line_error(capsys.readouterr().err)
    assert match in line


def test_csv_errors(tmp_path, small_csv, capsys):
    argv = ["path", "--data", str(small_csv), "--out", str(tmp_path / "o")]
    assert main([*argv, "--label", "nope"]) == 1
    assert "not in the header" in _one_line_error(capsys.readouterr().err)
    assert main([*argv, "--label", "target", "--model", "svm"]) == 1
    _one_line_error(capsys.readouterr().err)


@pytest.mark.skipif(hasattr(gaga, "age_path_svm"), reason="the SVM path exists")
def test_svm_not_available_yet(tmp_path, capsys):
    assert main(["path", "--model", "svm", "--out", str(tmp_path / "o")]) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "SVM age path is not available yet" in line
    assert not (tmp_path / "o").exists()


def test_help_and_version(capsys):
    assert main(["path", "--help"]) == 0
    assert "--noise" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("gaga ")


def test_python_dash_m_bad_argument(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(gaga.__file__))}
    bad = subprocess.run(
        [sys.executable, "-m", "gaga", "path", "--alpha", "nope"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "--alpha" in _one_line_error(bad.stderr)


@pytest.mark.parametrize("has_tqdm", [True, False])
def test_progress_bar_only_when_asked(monkeypatch, capsys, has_tqdm):
    from gaga._cli import _Progress

    if not has_tqdm:
        monkeypatch.setitem(sys.modules, "tqdm", None)
    bar = _Progress(["a", "b"], verbose=0, bar=True)
    bar.stage("first")
    bar.stage("second")
    bar.close()
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err != ""
    quiet = _Progress(["a"], verbose=1, bar=False)
    quiet.stage("only")
    quiet.close()
    captured = capsys.readouterr()
    assert captured.err == "" and "[gaga]" in captured.out and "only" in captured.out
