"""Numba SMO solver of the weighted SVM dual (libsvm-style second-order working sets).

Solves, for a dense ``Q = y y^T * K`` (m x m, positive semidefinite up to rounding) and
nonnegative per-sample boxes ``Cb``,

    min_a  0.5 a^T Q a - sum_i a_i   s.t.  0 <= a_i <= Cb_i,  y^T a = 0,

from a feasible starting point, with the working-set selection of Fan, Chen and Lin
(2005) ("WSS 2", as in libsvm) and libsvm's analytic two-variable update. Samples with a
zero-width box (``Cb_i = 0``, a_i = 0) are never selected and play no role in the
intercept, so the iterates are those of the problem without them, while the gradient
``G = Q a - 1`` is kept for every sample.
The intercept is computed as in libsvm: the average of ``-y_i G_i`` over free support
vectors, or the midpoint of the feasible interval when there is none. Only plain arrays
and scalars enter the compiled signatures (``style.md`` section 6.2).
"""

import numpy as np
from numba import njit

_TAU = 1e-12


@njit(cache=True)
def _select(y, a, Cb, G, Q, QD):
    m = y.shape[0]
    gmax = -np.inf
    i = -1
    for t in range(m):
        if y[t] > 0.0:
            if a[t] < Cb[t]:
                if -G[t] >= gmax:
                    gmax = -G[t]
                    i = t
        else:
            if a[t] > 0.0:
                if G[t] >= gmax:
                    gmax = G[t]
                    i = t
    gmax2 = -np.inf
    j = -1
    obj_min = np.inf
    if i == -1:
        return -1, -1, gmax, gmax2
    yi = y[i]
    for t in range(m):
        if y[t] > 0.0:
            if a[t] > 0.0:
                grad_diff = gmax + G[t]
                if G[t] >= gmax2:
                    gmax2 = G[t]
                if grad_diff > 0.0:
                    quad = QD[i] + QD[t] - 2.0 * yi * Q[i, t]
                    if quad <= 0.0:
                        quad = _TAU
                    obj = -(grad_diff * grad_diff) / quad
                    if obj <= obj_min:
                        j = t
                        obj_min = obj
        else:
            if a[t] < Cb[t]:
                grad_diff = gmax - G[t]
                if -G[t] >= gmax2:
                    gmax2 = -G[t]
                if grad_diff > 0.0:
                    quad = QD[i] + QD[t] + 2.0 * yi * Q[i, t]
                    if quad <= 0.0:
                        quad = _TAU
                    obj = -(grad_diff * grad_diff) / quad
                    if obj <= obj_min:
                        j = t
                        obj_min = obj
    return i, j, gmax, gmax2


@njit(cache=True)
def _intercept(y, a, Cb, G):
    m = y.shape[0]
    ub = np.inf
    lb = -np.inf
    sum_free = 0.0
    n_free = 0
    for t in range(m):
        if Cb[t] <= 0.0:
            continue  # a zero-width box (out of the problem)
        yG = y[t] * G[t]
        if a[t] >= Cb[t]:
            if y[t] < 0.0:
                ub = min(ub, yG)
            else:
                lb = max(lb, yG)
        elif a[t] <= 0.0:
            if y[t] > 0.0:
                ub = min(ub, yG)
            else:
                lb = max(lb, yG)
        else:
            n_free += 1
            sum_free += yG
    if n_free > 0:
        r = sum_free / n_free
    else:
        r = 0.5 * (ub + lb)
    return -r


@njit(cache=True)
def smo(Q, y, Cb, a, tol, max_iter):
    """SMO iterations from the feasible point ``a`` (updated in place).

    Parameters
    ----------
    Q : ndarray of shape (m, m)
        ``y_i y_j K_ij`` over the samples with a positive box.
    y : ndarray of shape (m,)
        Labels in {-1, +1}.
    Cb : ndarray of shape (m,)
        Nonnegative upper bounds ``C s_i v_i`` (0: the sample is out).
    a : ndarray of shape (m,)
        Feasible start (0 <= a <= Cb, y^T a = 0); overwritten by the solution.
    tol : float
        Stop when the maximal violating pair violates by less than ``tol`` (libsvm's
        ``eps``).
    max_iter : int
        Maximum number of pair updates.

    Returns
    -------
    b : float
        Intercept.
    n_iter : int
    violation : float
        Final maximal violation ``m(a) - M(a)``.
    converged : bool
    G : ndarray of shape (m,)
        Gradient ``Q a - 1`` at the solution (updated along the iterations).
    """
    G = smo_gradient(Q, a)
    b, it, violation, converged = smo_core(Q, y, Cb, a, G, tol, max_iter)
    return b, it, violation, converged, G


@njit(cache=True)
def smo_gradient(Q, a):
    """Gradient ``Q a - 1`` of the dual from the rows where ``a`` is nonzero."""
    m = a.shape[0]
    G = -np.ones(m)
    for t in range(m):
        at = a[t]
        if at != 0.0:
            for s in range(m):
                G[s] += Q[t, s] * at
    return G


@njit(cache=True)
def smo_core(Q, y, Cb, a, G, tol, max_iter):
    """The iterations of :func:`smo` from a feasible ``a`` and its gradient ``G = Q a -
    1`` (both updated in place). Returns (b, n_iter, violation, converged)."""
    m = y.shape[0]
    QD = np.empty(m)
    for t in range(m):
        QD[t] = Q[t, t]
    violation = np.inf
    converged = False
    it = 0
    while it < max_iter:
        i, j, gmax, gmax2 = _select(y, a, Cb, G, Q, QD)
        violation = gmax + gmax2
        if i == -1 or j == -1 or violation < tol:
            converged = True
            break
        it += 1
        Ci = Cb[i]
        Cj = Cb[j]
        old_ai = a[i]
        old_aj = a[j]
        ai = old_ai
        aj = old_aj
        if y[i] != y[j]:
            quad = QD[i] + QD[j] + 2.0 * Q[i, j]
            if quad <= 0.0:
                quad = _TAU
            delta = (-G[i] - G[j]) / quad
            diff = ai - aj
            ai += delta
            aj += delta
            if diff > 0.0:
                if aj < 0.0:
                    aj = 0.0
                    ai = diff
            else:
                if ai < 0.0:
                    ai = 0.0
                    aj = -diff
            if diff > Ci - Cj:
                if ai > Ci:
                    ai = Ci
                    aj = Ci - diff
            else:
                if aj > Cj:
                    aj = Cj
                    ai = Cj + diff
        else:
            quad = QD[i] + QD[j] - 2.0 * Q[i, j]
            if quad <= 0.0:
                quad = _TAU
            delta = (G[i] - G[j]) / quad
            total = ai + aj
            ai -= delta
            aj += delta
            if total > Ci:
                if ai > Ci:
                    ai = Ci
                    aj = total - Ci
            else:
                if aj < 0.0:
                    aj = 0.0
                    ai = total
            if total > Cj:
                if aj > Cj:
                    aj = Cj
                    ai = total - Cj
            else:
                if ai < 0.0:
                    ai = 0.0
                    aj = total
        a[i] = ai
        a[j] = aj
        dai = ai - old_ai
        daj = aj - old_aj
        for t in range(m):
            G[t] += Q[i, t] * dai + Q[j, t] * daj
    b = _intercept(y, a, Cb, G)
    return b, it, violation, converged


@njit(cache=True)
def _acc_rows(Q, rr, cc, nz, out):
    """``out += sum_t cc[t] Q[rr[t], :]`` over the first ``nz`` entries, four rows per
    pass over ``out``: each ``out[s]`` takes the products in the order of ``t``, one
    rounding per addition, the same bits as one row per pass (a quarter of the
    loads and stores of ``out``)."""
    n = Q.shape[1]
    t = 0
    while t + 4 <= nz:
        r0, r1, r2, r3 = rr[t], rr[t + 1], rr[t + 2], rr[t + 3]
        c0, c1, c2, c3 = cc[t], cc[t + 1], cc[t + 2], cc[t + 3]
        for s in range(n):
            acc = out[s] + Q[r0, s] * c0
            acc = acc + Q[r1, s] * c1
            acc = acc + Q[r2, s] * c2
            out[s] = acc + Q[r3, s] * c3
        t += 4
    while t < nz:
        r0, c0 = rr[t], cc[t]
        for s in range(n):
            out[s] += Q[r0, s] * c0
        t += 1


@njit(cache=True)
def sym_matvec(Q, a, out):
    """``out = Q a`` for a symmetric ``Q`` from the rows where ``a`` is nonzero
    (O(nnz(a) n) instead of O(n^2): a dual point is sparse): :func:`rows_matvec` over
    all rows."""
    rows_matvec(Q, np.arange(Q.shape[0]), a, out)


@njit(cache=True)
def gather_block(Q, idx, out):
    """``out[:k, :k] = Q[idx][:, idx]`` (k = len(idx)) without temporaries."""
    k = idx.shape[0]
    for p in range(k):
        ip = idx[p]
        for q in range(k):
            out[p, q] = Q[ip, idx[q]]


@njit(cache=True)
def rows_matvec(Q, rows, coef, out):
    """``out = sum_t coef[t] Q[rows[t], :]`` (the margins of a dual point from the rows
    of its support, without copying the rows); zero coefficients are skipped, the
    others added in the order of ``rows`` (:func:`_acc_rows`)."""
    n = Q.shape[1]
    for s in range(n):
        out[s] = 0.0
    m = rows.shape[0]
    rr = np.empty(m, dtype=np.int64)
    cc = np.empty(m)
    nz = int(0)
    for t in range(m):
        if coef[t] != 0.0:
            rr[nz] = rows[t]
            cc[nz] = coef[t]
            nz += 1
    _acc_rows(Q, rr, cc, nz, out)
