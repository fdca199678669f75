"""Numba kernels of the SVM path's dual system (``gaga._svm_path``).

The margins ``m = Q a + y b`` of a point of the optimality system are needed on the
unknowns' samples (margin and middle sets, ``th``) at every Newton iteration, and on all
samples only where the events are checked. They are evaluated on ``th`` by
:func:`gaga._svm_dual.rows_matvec` over the partition's block ``Q[th][:, th]`` (kept
per partition and updated from the last block by :func:`remap_block` when a few samples
change set), on one sample from its column of ``Q`` (:func:`col_margin`), and on all
samples with their derivative in one pass (:func:`rows_matvec2`), in the same order of
operations as ``rows_matvec``: the values are the same bits as the entries of the full
product. Only plain arrays and scalars enter the
compiled signatures (``style.md`` section 6.2).
"""

import numpy as np
from numba import njit

# the regions of a sample (its code in a partition; the dual system's module imports
# them from here)
OUT, MARGIN, IN1, INM, IN0, NULL = 0, 1, 2, 3, 4, 5


@njit(cache=True)
def remap_block(Q, th, oldpos, B_old, out):
    """``out = Q[th][:, th]``, copied from ``B_old`` (the block of an older index set)
    where both samples were in it (``oldpos``: their positions there, -1 for a new
    sample) and read from ``Q`` otherwise."""
    k = th.shape[0]
    for p in range(k):
        op = oldpos[p]
        ip = th[p]
        if op < 0:
            for q in range(k):
                out[p, q] = Q[ip, th[q]]
        else:
            for q in range(k):
                oq = oldpos[q]
                if oq < 0:
                    out[p, q] = Q[ip, th[q]]
                else:
                    out[p, q] = B_old[op, oq]


@njit(cache=True)
def col_margin(Q, rows, coef, j):
    """``sum_t coef[t] Q[rows[t], j]`` with zero coefficients skipped: entry ``j`` of
    ``rows_matvec(Q, rows, coef)``, bit for bit, in O(len(rows))."""
    s = 0.0
    for t in range(rows.shape[0]):
        c = coef[t]
        if c != 0.0:
            s += Q[rows[t], j] * c
    return s


@njit(cache=True)
def rows_matvec2(Q, rows, coef1, coef2, out1, out2):
    """``rows_matvec`` of two coefficient vectors over the same rows in one pass over
    them (each output the same bits as its own ``rows_matvec``): runs of rows where
    both coefficients are nonzero go four rows per pass over the outputs, each output
    still taking its products in the order of ``rows``."""
    n = Q.shape[1]
    for s in range(n):
        out1[s] = 0.0
        out2[s] = 0.0
    m = rows.shape[0]
    t = 0
    while t < m:
        if (
            t + 4 <= m
            and coef1[t] != 0.0
            and coef2[t] != 0.0
            and coef1[t + 1] != 0.0
            and coef2[t + 1] != 0.0
            and coef1[t + 2] != 0.0
            and coef2[t + 2] != 0.0
            and coef1[t + 3] != 0.0
            and coef2[t + 3] != 0.0
        ):
            r0, r1, r2, r3 = rows[t], rows[t + 1], rows[t + 2], rows[t + 3]
            a0, a1, a2, a3 = coef1[t], coef1[t + 1], coef1[t + 2], coef1[t + 3]
            b0, b1, b2, b3 = coef2[t], coef2[t + 1], coef2[t + 2], coef2[t + 3]
            for s in range(n):
                q0, q1, q2, q3 = Q[r0, s], Q[r1, s], Q[r2, s], Q[r3, s]
                acc = out1[s] + q0 * a0
                acc = acc + q1 * a1
                acc = acc + q2 * a2
                out1[s] = acc + q3 * a3
                acc = out2[s] + q0 * b0
                acc = acc + q1 * b1
                acc = acc + q2 * b2
                out2[s] = acc + q3 * b3
            t += 4
            continue
        c1 = coef1[t]
        c2 = coef2[t]
        r = rows[t]
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
        t += 1


@njit(cache=True)
def row_absmax(Q, out):
    """``out[i] = max_j |Q[i, j]|`` without an n x n temporary (the bound of a margin
    change by the l1 norm of a coefficient change)."""
    n = Q.shape[0]
    for i in range(n):
        best = 0.0
        for j in range(Q.shape[1]):
            v = abs(Q[i, j])
            if v > best:
                best = v
        out[i] = best


@njit(cache=True)
def sym_rank1(A, n, u, alpha):
    """``A[:n, :n] += alpha u u^T`` in place (both triangles)."""
    for i in range(n):
        ai = alpha * u[i]
        for j in range(n):
            A[i, j] += ai * u[j]


@njit(cache=True)
def neg_schur_upper(SA, size, dM, posM, out):
    """The upper triangle (diagonal included) of ``-S_A[:size, :size]``, with
    ``dM[posM]`` taken from its diagonal after the first entry, in ``out``: the
    triangle that LAPACK's lower Cholesky reads from ``out.T`` (Fortran order), with
    the values of ``S = -S_A; S[t, t] -= dM[posM[t - 1]]`` bit for bit, in one pass
    over half the matrix. The strict lower triangle of ``out`` is left unset."""
    for j in range(size):
        for i in range(j, size):
            out[j, i] = -SA[j, i]
    for t in range(1, size):
        out[t, t] = -SA[t, t] - dM[posM[t - 1]]


@njit(cache=True)
def gather_border(QB, ye, rows, cols, out):
    """``out = [ye, QB[rows][:, cols]]`` (the intercept's column first) without the two
    intermediate gathers."""
    for p in range(rows.shape[0]):
        out[p, 0] = ye[p]
        r = rows[p]
        for q in range(cols.shape[0]):
            out[p, q + 1] = QB[r, cols[q]]


@njit(cache=True)
def acs_mode_matrix(SA, order, piv, p, out):
    """The symmetric matrix of the ACS mode (``_SVMSystem.acs_mode``) from a kept
    Schur complement ``SA`` (the intercept first, then M in the state's order): with
    ``S = SA[order][:, order]``, ``c = SA[order, 0]`` and ``Sc = S - c (c / piv)^T``
    (the Schur complement of the intercept pivot ``piv``), ``out = (C + C^T) / 2`` for
    ``C = diag(p) Sc diag(p)``, in the order of operations of those numpy expressions
    (the same bits) and without their five O(k^2) temporaries. Returns False when an
    entry is not finite."""
    k = order.shape[0]
    c = np.empty(k)
    cq = np.empty(k)
    for i in range(k):
        c[i] = SA[order[i], 0]
        cq[i] = c[i] / piv
    # C row by row (a row of SA at a time, contiguous writes), then (C + C^T) / 2 in
    # tiles (an entry and its transpose read from the same cached tiles)
    for i in range(k):
        row = SA[order[i]]
        pi, ci = p[i], c[i]
        for j in range(k):
            out[i, j] = (pi * (row[order[j]] - ci * cq[j])) * p[j]
    finite = True
    tile = 32
    for t0 in range(0, k, tile):
        t1 = min(t0 + tile, k)
        for u0 in range(t0, k, tile):
            u1 = min(u0 + tile, k)
            for i in range(t0, t1):
                for j in range(u0 if u0 > i else i, u1):
                    val = 0.5 * (out[i, j] + out[j, i])
                    out[i, j] = val
                    out[j, i] = val
                    if not np.isfinite(val):
                        finite = False
    return finite


@njit(cache=True)
def sym_swap_remove(A, n, p):
    """Remove row and column p of the symmetric ``A[:n, :n]``: the last ones take
    their place (``A[:n - 1, :n - 1]`` is then the matrix without p, reordered)."""
    last = n - 1
    if p != last:
        for j in range(n):
            A[p, j] = A[last, j]
        for j in range(n):
            A[j, p] = A[j, last]
        A[p, p] = A[last, last]


@njit(cache=True)
def sym_append(A, n, c, d):
    """Append a row and column to the symmetric ``A[:n, :n]``: ``A[n, :n] = A[:n, n] =
    c``, ``A[n, n] = d``."""
    for j in range(n):
        A[n, j] = c[j]
        A[j, n] = c[j]
    A[n, n] = d


@njit(cache=True)
def event_values_off_margin(
    region, m, dm, lo, hi, dlo, dhi, has_one, jump_target, e, de, target
):
    """Event values ``e`` (>= 0 while the partition holds), their age derivatives
    ``de`` along the margins' derivative ``dm`` and the region each sample moves to
    (``target``), for every sample not on the margin, from its margin ``m`` and the
    loss thresholds ``lo`` = loss_one, ``hi`` = loss_zero (and their age derivatives
    ``dlo``, ``dhi``): outside, the margin minus 1 (-> margin); inside with v = 1, the
    hinge xi = 1 - m against 0 (-> margin) or ``lo``; middle, xi against ``lo`` (or 0
    when ``lo`` is 0: -> margin) or ``hi`` (-> v = 0); v = 0, xi against ``hi``. A
    margin sample gets inf, 0 and its region (the caller fills them from the
    multipliers), and so does a sample of zero weight. The same operations as the
    vectorized formulas of ``_SVMSystem.event_values``, element by element."""
    for i in range(region.shape[0]):
        g = region[i]
        mi = m[i]
        if g == OUT:
            e[i] = mi - 1.0
            de[i] = dm[i]
            target[i] = MARGIN
        elif g == IN1:
            xi = 1.0 - mi
            e_m = xi
            e_l = lo - xi
            if e_m <= e_l:
                e[i] = e_m
                de[i] = -dm[i]
                target[i] = MARGIN
            else:
                e[i] = e_l
                de[i] = dlo + dm[i]
                target[i] = IN0 if jump_target else INM
        elif g == INM:
            xi = 1.0 - mi
            e_up = hi - xi
            e_lo = xi - lo if has_one else xi
            if e_lo < e_up:
                e[i] = e_lo
                de[i] = -dm[i] - (dlo if has_one else 0.0)
                target[i] = IN1 if has_one else MARGIN
            else:
                e[i] = e_up
                de[i] = dhi + dm[i]
                target[i] = IN0
        elif g == IN0:
            xi = 1.0 - mi
            e[i] = xi - hi
            de[i] = -dm[i] - dhi
            target[i] = IN1 if jump_target else INM
        else:
            e[i] = np.inf
            de[i] = 0.0
            target[i] = g
