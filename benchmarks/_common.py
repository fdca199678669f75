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
    call first. POSIX only (SIGALRM).
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
