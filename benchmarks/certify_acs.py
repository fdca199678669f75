"""Certificates of ACS solutions for every built-in regularizer (issue 2's figures).

For diabetes (Lasso, standardized X and y, alpha = 0.02) and breast_cancer (SVM, rbf
kernel, gamma='scale', C = 1, standardized X), run ACS on a grid of ages (warm-started
from age to age, as :func:`gaga.acs_path` does) and certify every age with
:func:`gaga.verify.certify`: KKT residual of the weighted subproblem, max |v - v*|, and
the relative gap to an independent cvxpy/CLARABEL solve.

Ages: ``loss_zero(age)`` equals the 30/50/70/80/90 % quantiles of the positive losses of
the ``v = 1`` solution (logarithmic ages capped at 0.95, its valid range being (0, 1)).

Run::

    python benchmarks/certify_acs.py            # table
    python benchmarks/certify_acs.py --json out.json
"""

import argparse
import json
import platform
import time

import numpy as np
from scipy.optimize import brentq
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler

from gaga.baselines import acs_path
from gaga.problems import LassoProblem, SVMProblem
from gaga.regularizers import get_regularizer
from gaga.verify import certify

REGULARIZERS = ["hard", "linear", "log", "mixture", "polynomial"]
QUANTILES = (0.3, 0.5, 0.7, 0.8, 0.9)


def problems():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    yield "diabetes (Lasso, alpha=0.02)", LassoProblem(X, y, alpha=0.02)
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    yield "breast_cancer (SVM rbf, C=1)", SVMProblem(X, y, C=1.0, kernel="rbf")


def ages_for(problem, reg, quantiles=QUANTILES):
    theta, b, _ = problem.solve_weighted(np.ones(problem.n_samples))
    loss = problem.losses(theta, b)
    loss = loss[loss > 1e-8]
    low, high = reg.age_bounds
    out = []
    for q in np.quantile(loss, quantiles):
        f = lambda age: float(reg.loss_zero(age)) - q
        top = min(high * (1 - 1e-9), 1e6)
        out.append(0.95 * high if f(top) <= 0 else brentq(f, low + 1e-12, top))
    return np.array(out)


def run(solver="gaga"):
    rows = []
    for data_name, p in problems():
        # JIT warm-up (compiled kernels are cached on disk after the first run)
        p.solve_weighted(np.ones(p.n_samples))
        for name in REGULARIZERS:
            reg = get_regularizer(name)
            ages = ages_for(p, reg)
            t0 = time.perf_counter()
            res = acs_path(p, reg, ages, solver=solver)
            t_acs = time.perf_counter() - t0
            theta = res.coefs if p.kind == "lasso" else res.dual_coefs
            certs = []
            t0 = time.perf_counter()
            for k, age in enumerate(res.ages):
                kw = (
                    {"coef": theta[:, k]}
                    if p.kind == "lasso"
                    else {"dual_coef": theta[:, k]}
                )
                certs.append(
                    certify(
                        p,
                        reg,
                        age,
                        intercept=res.intercepts[k],
                        v=res.weights[:, k],
                        **kw,
                    )
                )
            t_cert = time.perf_counter() - t0
            rows.append(
                {
                    "data": data_name,
                    "regularizer": repr(reg),
                    "ages": [float(a) for a in res.ages],
                    "n_ages": len(certs),
                    "n_certified": int(sum(c.certified for c in certs)),
                    "max_kkt": max(c.kkt_residual for c in certs),
                    "max_v_residual": max(c.v_residual for c in certs),
                    "max_abs_gap": max(abs(c.cvxpy_gap) for c in certs),
                    "acs_solves": int(res.n_iter.sum()),
                    "excluded_min_max": [
                        int(np.sum(res.weights[:, -1] == 0)),
                        int(np.sum(res.weights[:, 0] == 0)),
                    ],
                    "acs_seconds": t_acs,
                    "certify_seconds": t_cert,
                }
            )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solver", default="gaga", choices=["gaga", "sklearn"])
    parser.add_argument("--json", default=None, help="write the rows and versions here")
    args = parser.parse_args()
    rows = run(args.solver)
    head = (
        f"{'data':30s} {'regularizer':22s} {'cert.':>6s} {'max KKT':>9s} "
        f"{'max|v-v*|':>9s} {'max|gap|':>9s} {'solves':>6s} {'ACS s':>6s}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['data']:30s} {r['regularizer']:22s} "
            f"{r['n_certified']:>2d}/{r['n_ages']:<3d} {r['max_kkt']:9.1e} "
            f"{r['max_v_residual']:9.1e} {r['max_abs_gap']:9.1e} "
            f"{r['acs_solves']:6d} {r['acs_seconds']:6.2f}"
        )
    if args.json:
        import cvxpy
        import numba
        import sklearn

        meta = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "processor": platform.processor(),
            "numpy": np.__version__,
            "sklearn": sklearn.__version__,
            "numba": numba.__version__,
            "cvxpy": cvxpy.__version__,
            "solver": args.solver,
        }
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
