"""Count the data passes of the Lasso path follower per event (issue 3).

Wall-clock time on these shared 2-core machines swings by 2-3x with the load; the number
of O(n |A|) passes over the data does not. This script wraps the follower's system
methods, runs one path and prints the counts:

    python benchmarks/count_passes.py [--n 5000] [--d 50] [--regularizer linear]

A Jacobian assembly (O(n |A|^2)) is counted as |A| / 4 passes, a rough BLAS-rate
equivalence; an evaluation of the inactive features' correlations as 2 (an upper bound:
the product and its derivative, of which screening skips most); the compiled bordered
event step as its G passes (iterations + 1).
"""

import argparse
import collections
import time

import numpy as np

import gaga._lasso_path as lp


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--d", type=int, default=50)
    ap.add_argument("--regularizer", default="linear")
    ap.add_argument("--alpha", type=float, default=0.01)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    n, d = args.n, args.d
    X = rng.standard_normal((n, d))
    w = np.zeros(d)
    w[: max(1, d // 5)] = rng.standard_normal(max(1, d // 5))
    y = X @ w + 0.5 * rng.standard_normal(n)
    out = rng.random(n) < 0.1
    y[out] += rng.choice([-1, 1], out.sum()) * rng.uniform(3, 6, out.sum())

    counts = collections.Counter()
    sizes = collections.Counter()
    for name in ["G", "jac_vec", "Z_dot", "Z_T", "_feature_correlations", "jacobian"]:
        orig = getattr(lp._LassoSystem, name)

        def wrapped(self, *a, _orig=orig, _name=name, **k):
            counts[_name] += 1
            if _name == "jacobian":
                sizes["jacobian"] += len(self.part.active) / 4.0
            return _orig(self, *a, **k)

        setattr(lp._LassoSystem, name, wrapped)

    step = lp._lk.bordered_event_step

    def bordered(*a, _step=step):
        out = _step(*a)
        counts["G (compiled step)"] += int(out[3]) + 1
        return out

    lp._lk.bordered_event_step = bordered
    lp.age_path_lasso(X[:100], y[:100], regularizer=args.regularizer, alpha=args.alpha)
    counts.clear()
    sizes.clear()
    t0 = time.perf_counter()
    path = lp.age_path_lasso(X, y, regularizer=args.regularizer, alpha=args.alpha)
    elapsed = time.perf_counter() - t0
    passes = (
        counts["G"]
        + counts["G (compiled step)"]
        + counts["jac_vec"]
        + counts["Z_dot"]
        + counts["Z_T"]
        + 2 * counts["_feature_correlations"]
        + sizes["jacobian"]
    )
    print(
        f"| n | d | regularizer | events | jumps | knots | {' | '.join(counts)} "
        "| passes/event | time s |"
    )
    print("|" + "---|" * (8 + len(counts)))
    print(
        f"| {n} | {d} | {args.regularizer} | {path.n_events} | {len(path.jumps)} | "
        f"{len(path.knots)} | {' | '.join(str(v) for v in counts.values())} | "
        f"{passes / max(1, path.n_events):.1f} | {elapsed:.2f} |"
    )


if __name__ == "__main__":
    main()
