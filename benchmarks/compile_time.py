"""First-run compilation time of the numba kernels (what a fresh machine pays once).

Runs a command of the package (default: the README's main job, ``gaga path``) in a
child process whose ``NUMBA_CACHE_DIR`` is a new empty folder, so every kernel it uses
compiles, then runs it again on the filled cache. A listener on numba's
``numba:compile`` events in the child sums the compilation time of each function
(inclusive: a kernel's time contains that of the kernels it calls and compiles first)
and counts its compiled versions (more than one: another type or a literal argument
value). Prints the wall time of both runs and the ``--top`` functions.

    python benchmarks/compile_time.py [--top 25] [-- path --out out]

The arguments after ``--`` are those of ``gaga`` (default: ``path --out <tmp>``).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import markdown_table  # noqa: E402

_CHILD = r"""
import json, sys, time
from collections import defaultdict
from numba.core import event

totals, counts, started = defaultdict(float), defaultdict(int), {}

class _Listener(event.Listener):
    def on_start(self, ev):
        started[id(ev.data["dispatcher"]), str(ev.data["args"])] = time.perf_counter()

    def on_end(self, ev):
        key = (id(ev.data["dispatcher"]), str(ev.data["args"]))
        name = ev.data["dispatcher"].py_func.__qualname__
        totals[name] += time.perf_counter() - started.pop(key)
        counts[name] += 1

event.register("numba:compile", _Listener())
from gaga._cli import main
import contextlib, io
t0 = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    code = main(json.loads(sys.argv[1]))
wall = time.perf_counter() - t0
print(json.dumps({"code": code, "wall": wall, "totals": totals, "counts": counts}))
"""


def _run(argv, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(argv)],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the child failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("gaga_args", nargs="*")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = args.gaga_args or ["path", "--out", os.path.join(tmp, "out")]
        cache = os.path.join(tmp, "numba_cache")
        os.mkdir(cache)
        t0 = time.perf_counter()
        cold = _run(cmd, cache)
        t_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = _run(cmd, cache)
        t_warm = time.perf_counter() - t0
    print(f"`gaga {' '.join(cmd)}`")
    print()
    both = (("empty cache", cold, t_cold), ("filled cache", warm, t_warm))
    runs = [
        (name, f"{t:.1f}", f"{res['wall']:.1f}", sum(res["counts"].values()))
        for name, res, t in both
    ]
    headers = ("run", "process wall s", "command wall s", "functions compiled")
    print(markdown_table(headers, runs))
    print()
    top = sorted(cold["totals"].items(), key=lambda kv: -kv[1])[: args.top]
    rows = [(f"`{name}`", f"{sec:.2f}", cold["counts"][name]) for name, sec in top]
    print(markdown_table(("function", "compile s (inclusive)", "versions"), rows))


if __name__ == "__main__":
    main()
