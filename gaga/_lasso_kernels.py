"""Numba kernels of the Lasso age-path follower (plain arrays, float64, ``cache=True``).

Sample regions are coded ``0`` (v = 0), ``1`` (v = 1) and ``2`` (middle). The built-in
regularizers are dispatched by their integer code (``gaga._spl_kernels``).
"""

import numpy as np
from numba import njit

from gaga._spl_kernels import loss_one, loss_zero, phi, phi_dage, phi_dloss

R0 = 0
R1 = 1
RM = 2


@njit(cache=True, inline="always")
def _terms_i(kind, p, g, ri, si, age):
    """A sample's weight v, curvature h = s (v + r^2 dv/dl) and dv/dage in region g
    (inlined into the loops over samples: a call per sample halves their speed)."""
    if g == R0:
        return 0.0, 0.0, 0.0
    if g == R1:
        return 1.0, si, 0.0
    li = 0.5 * ri * ri
    ph = phi(kind, p, li, age)
    h = si * (ph + ri * ri * phi_dloss(kind, p, li, age))
    return ph, h, phi_dage(kind, p, li, age)


@njit(cache=True)
def regions_at(r, lo, hi, region):
    """Regions of v* at residuals ``r`` (loss ``r^2 / 2``) for the thresholds ``lo =
    loss_one``, ``hi = loss_zero`` of the age: v = 0 from ``hi`` on, v = 1 up to ``lo``
    (where ``lo > 0``; below ``hi`` where ``hi <= lo``: v* jumps there), else middle."""
    has_one = lo > 0.0
    step = not (hi > lo)
    for i in range(r.shape[0]):
        li = 0.5 * r[i] * r[i]
        g = RM
        if li >= hi:
            g = R0
        if has_one and li <= lo:
            g = R1
        if step and li < hi:
            g = R1
        region[i] = g


@njit(cache=True)
def sample_terms(kind, p, region, r, s, age, v, h, va):
    """Per-sample weight v, curvature h = s (v + r^2 dv/dl) and dv/dage, by region."""
    for i in range(r.shape[0]):
        v[i], h[i], va[i] = _terms_i(kind, p, region[i], r[i], s[i], age)


@njit(cache=True, inline="always")
def _event_i(g, li, dli, lo, hi, dlo, dhi, has_one, discontinuous, scale):
    """One sample's event value, its derivative and target (see :func:`sample_events`)
    from its loss ``li`` and the loss's age derivative ``dli``."""
    if g == R0:
        tg = R1 if (discontinuous or not (hi > lo)) else RM
        return (li - hi) / scale, (dli - dhi) / scale, tg
    if g == R1:
        if not has_one:
            return np.inf, 0.0, R1
        tg = R0 if (discontinuous or not (hi > lo)) else RM
        return (lo - li) / scale, (dlo - dli) / scale, tg
    e = (hi - li) / scale
    if has_one:
        e_lo = (li - lo) / scale
        if e_lo < e:
            return e_lo, (dli - dlo) / scale, R1
    return e, (dhi - dli) / scale, R0


@njit(cache=True)
def sample_events(
    region, r, dr, lo, hi, dlo, dhi, has_one, discontinuous, scale, e, de, target
):
    """Event functions of the samples (scaled, >= 0 while the partition is valid).

    Fills ``e`` (value), ``de`` (first-order derivative in the age) and ``target`` (the
    region the sample moves to when its event fires).
    """
    for i in range(r.shape[0]):
        e[i], de[i], target[i] = _event_i(
            region[i],
            0.5 * r[i] * r[i],
            r[i] * dr[i],
            lo,
            hi,
            dlo,
            dhi,
            has_one,
            discontinuous,
            scale,
        )


@njit(cache=True)
def sample_event_one(g, ri, lo, hi, discontinuous, scale):
    """Event value of one sample in region ``g`` with residual ``ri`` (thresholds
    ``lo``, ``hi`` at the age)."""
    li = 0.5 * ri * ri
    return _event_i(g, li, 0.0, lo, hi, 0.0, 0.0, lo > 0.0, discontinuous, scale)[0]


@njit(cache=True)
def first_horizon(e, de):
    """Smallest first-order time to an event among decreasing event functions."""
    best = np.inf
    arg = -1
    for k in range(e.shape[0]):
        if de[k] < 0.0:
            t = max(e[k], 0.0) / (-de[k])
            if t < best:
                best = t
                arg = k
    return best, arg


@njit(cache=True)
def most_violated(e, etol):
    """Index of the most negative event value below -etol, or -1."""
    arg = -1
    worst = -etol
    for k in range(e.shape[0]):
        if e[k] < worst:
            worst = e[k]
            arg = k
    return arg


@njit(cache=True, inline="always")
def add_row(out, XA, i, u, fit_intercept):
    """``out += u z_i``, z_i = (x_iA, 1) (the 1 only with an intercept)."""
    nA = XA.shape[1]
    for j in range(nA):
        out[j] += u * XA[i, j]
    if fit_intercept:
        out[nA] += u


@njit(cache=True)
def lasso_G(XA, y, s, theta, fit_intercept, region, kind, p, age, r, v, h, va, g):
    """Fused evaluation of the restricted optimality system G at (theta, age).

    One pass over the samples: residuals r, sample terms (v, h, dv/dage) and the
    unscaled sums g = sum_i s_i v_i r_i z_i with z_i = (x_iA, 1). The caller divides by
    S
    and adds the penalty term.
    """
    n, nA = XA.shape
    for j in range(g.shape[0]):
        g[j] = 0.0
    b = theta[nA] if fit_intercept else 0.0
    for i in range(n):
        acc = y[i] - b
        for j in range(nA):
            acc -= XA[i, j] * theta[j]
        r[i] = acc
        gr = region[i]
        v[i], h[i], va[i] = _terms_i(kind, p, gr, acc, s[i], age)
        if gr == R0:
            continue
        add_row(g, XA, i, s[i] * v[i] * acc, fit_intercept)


@njit(cache=True)
def dG_dage_rows(XA, fit_intercept, mid, s, va, r, out):
    """Unscaled ``sum_i s_i (dv_i/dage) r_i z_i`` over the middle samples ``mid`` (the
    only ones whose v depends on the age)."""
    for j in range(out.shape[0]):
        out[j] = 0.0
    for t in range(mid.shape[0]):
        i = mid[t]
        add_row(out, XA, i, s[i] * va[i] * r[i], fit_intercept)


@njit(cache=True)
def jac_vec(XA, fit_intercept, h, vec, out):
    """Unscaled J @ vec = sum_i h_i (z_i . vec) z_i in one pass (samples with h_i = 0,
    the excluded ones, are skipped)."""
    n, nA = XA.shape
    for j in range(out.shape[0]):
        out[j] = 0.0
    b = vec[nA] if fit_intercept else 0.0
    for i in range(n):
        hi = h[i]
        if hi == 0.0:
            continue
        t = b
        for j in range(nA):
            t += XA[i, j] * vec[j]
        t *= hi
        for j in range(nA):
            out[j] += t * XA[i, j]
        if fit_intercept:
            out[nA] += t


@njit(cache=True, inline="always")
def add_outer(J, XA, i, w, fit_intercept):
    """``J += w z_i z_i^T`` on the lower triangle, z_i = (x_iA, 1)."""
    nA = XA.shape[1]
    for a in range(nA):
        t = w * XA[i, a]
        for b in range(a + 1):
            J[a, b] += t * XA[i, b]
    if fit_intercept:
        for b in range(nA):
            J[nA, b] += w * XA[i, b]
        J[nA, nA] += w


@njit(cache=True)
def lasso_J(XA, fit_intercept, h, region, skip_one, J):
    """Unscaled exact J = sum_i h_i z_i z_i^T with z_i = (x_iA, 1), in one pass over
    the samples (lower triangle, then mirrored; samples with h_i = 0 are skipped, and
    with ``skip_one`` those in region v = 1, whose constant part the caller keeps)."""
    n, nA = XA.shape
    k = J.shape[0]
    for a in range(k):
        for b in range(k):
            J[a, b] = 0.0
    for i in range(n):
        hi = h[i]
        if hi == 0.0 or (skip_one and region[i] == R1):
            continue
        add_outer(J, XA, i, hi, fit_intercept)
    for a in range(k):
        for b in range(a):
            J[b, a] = J[a, b]


@njit(cache=True)
def sample_state(
    kind,
    p,
    region,
    XA,
    fit_intercept,
    r,
    s,
    age,
    dtheta,
    has_dtheta,
    lo,
    hi,
    dlo,
    dhi,
    has_one,
    discontinuous,
    scale,
    S,
    v,
    h,
    va,
    e,
    de,
    target,
    u,
    q,
):
    """The samples' part of the event functions in one pass (built-in regularizers).

    Per sample: the terms v, h, dv/dage (as :func:`sample_terms`), the residual's age
    derivative ``dr_i = -z_i . dtheta`` (0 without a tangent), the event value,
    derivative and target (as :func:`sample_events`), ``u_i = s_i v_i r_i / S`` and
    ``q_i = h_i dr_i + s_i r_i dv_i/dage`` (non-finite terms set to 0: infinite slopes
    of v* at a threshold) for the correlations of the inactive features.
    """
    n, nA = XA.shape
    for i in range(n):
        ri = r[i]
        gi = region[i]
        vi, hi_, vai = _terms_i(kind, p, gi, ri, s[i], age)
        v[i] = vi
        h[i] = hi_
        va[i] = vai
        dri = 0.0
        if has_dtheta:
            acc = dtheta[nA] if fit_intercept else 0.0
            for j in range(nA):
                acc += XA[i, j] * dtheta[j]
            dri = -acc
        u[i] = s[i] * vi * ri / S
        qi = hi_ * dri + s[i] * ri * vai
        q[i] = qi if np.isfinite(qi) else 0.0
        e[i], de[i], target[i] = _event_i(
            gi, 0.5 * ri * ri, ri * dri, lo, hi, dlo, dhi, has_one, discontinuous, scale
        )


@njit(cache=True)
def correlations_subset(XT, idx, u, q, has_q, c, dc):
    """``c[j] = X[:, j] . u`` (and ``dc[j] = X[:, j] . q`` with ``has_q``) for the
    columns ``idx`` of X, from its C-ordered transpose ``XT`` (contiguous columns of
    X; see :func:`gaga._cd.weighted_lasso_cd`)."""
    XF = XT.T
    n = XF.shape[0]
    m = n - n % 4
    for t in range(idx.shape[0]):
        j = idx[t]
        # four partial sums: a single running sum is bound by the latency of its adds
        a0 = a1 = a2 = a3 = 0.0
        b0 = b1 = b2 = b3 = 0.0
        for i in range(0, m, 4):
            x0 = XF[i, j]
            x1 = XF[i + 1, j]
            x2 = XF[i + 2, j]
            x3 = XF[i + 3, j]
            a0 += x0 * u[i]
            a1 += x1 * u[i + 1]
            a2 += x2 * u[i + 2]
            a3 += x3 * u[i + 3]
            if has_q:
                b0 += x0 * q[i]
                b1 += x1 * q[i + 1]
                b2 += x2 * q[i + 2]
                b3 += x3 * q[i + 3]
        for i in range(m, n):
            x = XF[i, j]
            a0 += x * u[i]
            if has_q:
                b0 += x * q[i]
        c[j] = (a0 + a1) + (a2 + a3)
        if has_q:
            dc[j] = (b0 + b1) + (b2 + b3)


@njit(cache=True)
def _sample_event_value(kind, p, g, ri, age, discontinuous, scale):
    """Event value of one sample in region ``g`` with residual ``ri`` at ``age``."""
    lo = loss_one(kind, p, age)
    hi = loss_zero(kind, p, age)
    return sample_event_one(g, ri, lo, hi, discontinuous, scale)


@njit(cache=True)
def _cho_solve(c, b):
    """Solve (L L^T) x = b with L the lower triangle of ``c`` (a dpotrf factor)."""
    k = b.shape[0]
    x = b.copy()
    for i in range(k):
        acc = x[i]
        for j in range(i):
            acc -= c[i, j] * x[j]
        x[i] = acc / c[i, i]
    for i in range(k - 1, -1, -1):
        acc = x[i]
        for j in range(i + 1, k):
            acc -= c[j, i] * x[j]
        x[i] = acc / c[i, i]
    return x


@njit(cache=True, inline="always")
def _scale_G(g, S, alpha, signs, nA):
    """The unscaled sums to G in place (``-g / S`` plus the penalty on the active
    features); returns ``|G|_inf``."""
    gn = 0.0
    for j in range(g.shape[0]):
        g[j] = -g[j] / S
        if j < nA:
            g[j] += alpha * signs[j]
        gn = max(gn, abs(g[j]))
    return gn


@njit(cache=True, inline="always")
def _residual_k(XA, y, theta, fit_intercept, k):
    """Residual of sample k at theta."""
    nA = XA.shape[1]
    rk = y[k] - (theta[nA] if fit_intercept else 0.0)
    for j in range(nA):
        rk -= XA[k, j] * theta[j]
    return rk


@njit(cache=True)
def close(corrected, pred, base):
    """``_Follower._close``: the corrector stays close to the predictor (a large
    correction means Newton found another branch)."""
    corr = 0.0
    move = 0.0
    bmax = 1.0
    for j in range(corrected.shape[0]):
        corr = max(corr, abs(corrected[j] - pred[j]))
        move = max(move, abs(pred[j] - base[j]))
        bmax = max(bmax, abs(base[j]))
    return corr <= 0.3 * move + 1e-9 * bmax
