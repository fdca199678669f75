"""Timings of the dense kernels behind the SVM path's factorizations (issue 4).

On an rbf saddle matrix of the path's shape (Q of 8-dimensional Gaussian points,
the intercept row, the last three quarters of the diagonal lowered by 2, as the
middle samples'), prints milliseconds per call (best of ``--repeat`` means of 20
calls) of:

* Bunch-Kaufman ``dsytrf`` (what the path used for every event before session 10),
  with one and two BLAS threads;
* Aasen ``dsytrf_aa`` and rook ``dsytrf_rook``, called from scipy's OpenBLAS through
  ctypes (scipy does not wrap them; "n/a" when the library is not found);
* Cholesky ``dpotrf`` of a positive definite matrix of the same order;
* the block Cholesky from scratch: Cholesky of the first quarter (the margin block
  Q_EE), the triangular solve of the border, its Schur complement and the Cholesky of
  its negative (what session 10 keeps up to date instead of rebuilding);
* one right-hand side with a Cholesky factor: ``dpotrs`` against two ``dtrsv``.

    python benchmarks/lapack_micro.py [--k 300 515 722 1000] [--repeat 3]
"""

import argparse
import ctypes
import time

import numpy as np
from scipy.linalg.blas import dtrsm, dtrsv
from scipy.linalg.lapack import dpotrf, dpotrs, dsytrf
from threadpoolctl import threadpool_info, threadpool_limits


def _scipy_openblas():
    """scipy's OpenBLAS (ctypes) and its symbol prefix, or (None, None)."""
    import scipy.linalg  # noqa: F401  (loads the library)

    for info in threadpool_info():
        path = info.get("filepath", "")
        if "scipy" in path and "openblas" in path and "64_" not in path:
            lib = ctypes.CDLL(path)
            for prefix in ("scipy_", ""):
                if hasattr(lib, prefix + "dsytrf_aa_"):
                    return lib, prefix
    return None, None


def _lapack_sytrf(lib, name, A):
    """Call ``name`` (dsytrf_aa_ or dsytrf_rook_, lower) on a copy of A."""
    n = A.shape[0]
    a = np.asfortranarray(A.copy())
    ipiv = np.zeros(n, dtype=np.int32)
    lw = 64 * n
    work = np.zeros(lw)
    info = ctypes.c_int(0)
    i = ctypes.c_int
    dp = ctypes.POINTER(ctypes.c_double)
    getattr(lib, name)(
        ctypes.c_char_p(b"L"),
        ctypes.byref(i(n)),
        a.ctypes.data_as(dp),
        ctypes.byref(i(n)),
        ipiv.ctypes.data_as(ctypes.POINTER(i)),
        work.ctypes.data_as(dp),
        ctypes.byref(i(lw)),
        ctypes.byref(info),
    )
    return info.value


def _block_cholesky(K, nE):
    """Cholesky of K[:nE, :nE], L^{-1} K[:nE, nE:], the Schur complement S and the
    Cholesky of -S (info of both)."""
    L, info = dpotrf(K[:nE, :nE], lower=1, clean=1)
    Z = dtrsm(1.0, L, K[:nE, nE:], lower=1)
    S = K[nE:, nE:] - Z.T @ Z
    return info, dpotrf(-S, lower=1, clean=1)[1]


def _ms(f, repeat, calls=20):
    f()
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(calls):
            f()
        best = min(best, (time.perf_counter() - t0) / calls * 1e3)
    return best


def saddle(k, rng):
    """An rbf saddle matrix of order k + 1 and a positive definite one of order k."""
    X = rng.standard_normal((k, 8))
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    Q = np.exp(-d2 / 16.0)
    K = np.zeros((k + 1, k + 1))
    K[:k, :k] = Q
    yy = rng.choice([-1.0, 1.0], k)
    K[:k, k] = K[k, :k] = yy
    idx = np.arange(k // 4, k)
    K[idx, idx] -= 2.0
    return K, Q + 1e-3 * np.eye(k)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, nargs="+", default=[300, 515, 722, 1000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    lib, prefix = _scipy_openblas()
    print(
        "| k | dsytrf 1 thread | dsytrf 2 threads | dsytrf_aa | dsytrf_rook | "
        "dpotrf | block Cholesky | dpotrs 1 rhs | 2 x dtrsv |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for k in args.k:
        K, P = saddle(k, rng)
        Kf = np.asfortranarray(K)
        lw = 64 * (k + 1)
        row = []
        for threads in (1, 2):
            with threadpool_limits(threads):
                row.append(_ms(lambda: dsytrf(Kf, lower=1, lwork=lw), args.repeat))
        with threadpool_limits(1):
            for name in ("dsytrf_aa_", "dsytrf_rook_"):
                if lib is None:
                    row.append(None)
                else:
                    row.append(
                        _ms(lambda: _lapack_sytrf(lib, prefix + name, K), args.repeat)
                    )
            row.append(_ms(lambda: dpotrf(P, lower=1, clean=1), args.repeat))
            row.append(_ms(lambda: _block_cholesky(K, k // 4), args.repeat))
            L = dpotrf(P, lower=1, clean=1)[0]
            b = rng.standard_normal(k)
            row.append(_ms(lambda: dpotrs(L, b, lower=1), args.repeat, 200))
            row.append(
                _ms(
                    lambda: dtrsv(L, dtrsv(L, b, lower=1), lower=1, trans=1),
                    args.repeat,
                    200,
                )
            )
        print(
            f"| {k} | "
            + " | ".join("n/a" if v is None else f"{v:.3f}" for v in row)
            + " |"
        )
    print("\n(ms per call; dsytrf_aa, rook, dpotrf and the solves on 1 thread)")


if __name__ == "__main__":
    main()
