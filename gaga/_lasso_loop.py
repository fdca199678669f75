"""Compiled event loop of the Lasso age path (built-in continuous regularizers).

:func:`run_events` runs the follower's regular iterations (``_Follower._run``) without
returning to Python: at a point of the branch, the exact Jacobian and the tangent; the
event functions; simultaneous events at one age (a cascade, lowest index first); the
step to the first predicted event (the bordered chord Newton :func:`_bordered`, or
Newton and secant iterations where that fails; for a feature, :func:`_event_k`) or a
plain predictor-corrector step (second-order predictor within a segment, as Python's
loop); the event check at the new point, with the location of a crossing the step
jumped over (Illinois, as ``_Follower.locate``); and the move of a sample to its new
region. A feature event located or at hand stops the loop there (status FEATURE) for
Python to apply, after which the loop is called again; anything else (a fold, a failed
step or Newton, a crossing it cannot locate, the end of the range, the event budget)
returns control to Python at the last point where its loop would start an iteration,
and Python's loop takes that iteration.

Compilation: a constant argument of a call from one kernel to another is written
``bool(False)``, a variable that starts at a constant ``int(-1)``. numba compiles a
callee once for every literal argument value it sees (and once more for the plain type
once the variable is unified), so ``_move`` was compiled four times; the casts leave
one version of each (``benchmarks/compile_time.py``: :func:`run_events`, inclusive,
126 -> 90 s with these casts and :func:`_kth_smallest` together).

Screening (what makes an event cost far less than a pass over all samples): at a
*reference* point ``theta_ref`` at age ``a0`` the residuals of all samples are computed.
The thresholds of a built-in regularizer are nondecreasing in the age, so over ``[a0,
a1]`` a sample can only change region where its |residual| meets one of the two *bands*
``[sqrt(2 lo(a0)), sqrt(2 lo(a1))]`` and ``[sqrt(2 hi(a0)), sqrt(2 hi(a1))]``. Since
``|r_i(theta) - r_i(theta_ref)| <= ||z_i|| ||theta - theta_ref||`` (Cauchy-Schwarz),
a sample whose distance to the bands exceeds ``||z_i|| D`` keeps its region, and has no
event, as long as ``||theta - theta_ref|| <= D`` and the age is at most ``a1``. Only the
*candidates* are evaluated, and the middle samples, which enter G: all of them for the
logarithmic and polynomial regularizers; for the linear one (up to ``_POLY_K``
unknowns) and the mixture the middle samples enter G, J and dG/dage through moments
about ``theta_ref`` (:func:`_mid_G`) and are screened like the others. The samples at
v = 1 enter G through their kept sums ``c1 - J1 theta``. The reference is renewed (one
O(n |A|) pass) when the point leaves the screen. ``D`` is chosen so that about
``2 sqrt(n)`` samples are candidates besides those always evaluated, and ``a1`` so that
about as many samples at v = 0 sit inside the upper band.

The inactive features are screened as in ``_LassoSystem._feature_correlations``:
``|c_j - c_f_j| <= ||x_j|| ||u - u_f||`` with ``u = s v r / S`` and the correlations
``c_f`` exact at a feature reference ``theta_f``, where ``||u - u_f||`` is exact on the
evaluated samples and bounded through ``||theta - theta_f||`` (and the age) on the
others (unchanged at v = 0). A feature whose bound reaches ``0.999 alpha`` is evaluated
exactly (one pass over the samples). The feature reference is renewed with each sample
reference, and when the bound leaves more features unsure than it did at the reference
(plus one).
"""

import math

import numpy as np
from numba import njit

from gaga._lasso_kernels import (
    R0,
    R1,
    RM,
    _cho_solve,
    _event_i,
    _residual_k,
    _sample_event_value,
    _scale_G,
    _terms_i,
    add_outer,
    add_row,
    close,
    correlations_subset,
    lasso_J,
)
from gaga._spl_kernels import (
    LINEAR,
    MIXTURE,
    dloss_one,
    dloss_zero,
    loss_one,
    loss_zero,
    phi,
)

# return codes of run_events: the loop stopped at a point where Python's loop starts an
# iteration (BAIL), or it reached the event budget of the call (BUDGET)
BAIL = 0
BUDGET = 1
FEATURE = 2  # stopped at a feature's event, which Python applies (fire_out)
_CAND_MIN = 32  # at least this many candidates besides the middle samples
# no moments (the middle samples summed): the moments' argument of the kernels
NO_MOMENTS = tuple(np.zeros((0,) * m) for m in (1, 2, 1, 2, 3, 4))
_POLY_K = (
    6  # the linear regularizer's middle samples by moments up to this many unknowns
)


# -- the middle samples of the linear regularizer through moments -------------------
#
# With v = 1 - l / age (l = r^2 / 2) a middle sample's share of the sums is a
# polynomial in its residual: s v r = s (r - r^3 / (2 age)), h = s (1 - 3 r^2 / (2 age))
# and s (dv/dage) r = s r^3 / (2 age^2). With r = rho - z . delta (rho the residual at
# the reference theta_ref, delta = theta - theta_ref) the sums over all middle samples
# are polynomials in delta whose coefficients are the moments (over the middle samples)
#     A1 = sum s rho z,  Q0 = sum s z z^T,  B0 = sum s rho^3 z,  B1 = sum s rho^2 z z^T,
#     B2 = sum s rho z z z,  B3 = sum s z z z z,
# so that G, J and dG/dage cost O(k^4) and no pass over the middle samples: they are
# screened like the others and evaluated only near their threshold. (The sums of G are
# expanded around theta_ref, where the residuals are those of the point: no cancellation
# of large terms.)


@njit(cache=True)
def _mid_clear(Mt):
    Mt[0][:] = 0.0
    Mt[1][:, :] = 0.0
    Mt[2][:] = 0.0
    Mt[3][:, :] = 0.0
    Mt[4][:, :, :] = 0.0
    Mt[5][:, :, :, :] = 0.0


@njit(cache=True)
def _mid_add(XA, fit_intercept, i, w, rho, Mt, kind):
    """Add sample i (weight w: +s_i entering the middle, -s_i leaving) with residual
    ``rho`` at the reference to the moments (mixture: A1, Q0 and ``W = sum s sign(rho)
    z`` in the slot of B0)."""
    A1, Q0, B0, B1, B2, B3 = Mt
    nA = XA.shape[1]
    k = A1.shape[0]
    z = np.empty(k)
    for j in range(nA):
        z[j] = XA[i, j]
    if fit_intercept:
        z[nA] = 1.0
    if kind == MIXTURE:
        sg = 1.0 if rho >= 0.0 else -1.0
        for a in range(k):
            za = w * z[a]
            A1[a] += za * rho
            B0[a] += za * sg
            for b in range(k):
                Q0[a, b] += za * z[b]
        return
    r2 = rho * rho
    for a in range(k):
        za = w * z[a]
        A1[a] += za * rho
        B0[a] += za * r2 * rho
        for b in range(k):
            zab = za * z[b]
            Q0[a, b] += zab
            B1[a, b] += zab * r2
            for c in range(k):
                zabc = zab * z[c]
                B2[a, b, c] += zabc * rho
                for e in range(k):
                    B3[a, b, c, e] += zabc * z[e]


@njit(cache=True)
def _mid_build(XA, s, fit_intercept, region, r_ref, Mt, kind):
    """The moments afresh over the middle samples (residuals at the reference)."""
    _mid_clear(Mt)
    for i in range(XA.shape[0]):
        if region[i] == RM:
            _mid_add(XA, fit_intercept, i, s[i], r_ref[i], Mt, kind)


@njit(cache=True)
def _mid_prep(Mt, delta):
    """``B3[., ., delta, delta]`` and ``B2[., ., delta]`` (shared by P3 and Q2)."""
    B2, B3 = Mt[4], Mt[5]
    k = delta.shape[0]
    T2 = np.empty((k, k))
    U2 = np.empty((k, k))
    for a in range(k):
        for b in range(k):
            acc3 = 0.0
            acc2 = 0.0
            for c in range(k):
                dc = delta[c]
                acc2 += B2[a, b, c] * dc
                inner = 0.0
                for e in range(k):
                    inner += B3[a, b, c, e] * delta[e]
                acc3 += inner * dc
            T2[a, b] = acc3
            U2[a, b] = acc2
    return T2, U2


@njit(cache=True)
def _mid_p3(Mt, delta, T2, U2):
    """P3 = sum s r^3 z = B0 - 3 B1 delta + 3 B2[delta, delta] - B3[delta, delta,
    delta]."""
    B0, B1 = Mt[2], Mt[3]
    k = delta.shape[0]
    P3 = np.empty(k)
    for a in range(k):
        acc = B0[a]
        for b in range(k):
            acc += (-3.0 * B1[a, b] + 3.0 * U2[a, b] - T2[a, b]) * delta[b]
        P3[a] = acc
    return P3


@njit(cache=True)
def _mid_G(Mt, delta, age, g, kind, p):
    """Add the middle samples' unscaled G sums ``P1 - P3 / (2 age)`` at theta_ref +
    delta to g (P1 = sum s r z = A1 - Q0 delta); mixture (v = gamma (1 / sqrt(l) - 1 /
    age), s v r = s gamma (sqrt(2) sign(r) - r / age), the sign constant in the
    middle): ``gamma (sqrt(2) W - P1 / age)``."""
    A1, Q0 = Mt[0], Mt[1]
    k = delta.shape[0]
    if kind == MIXTURE:
        W = Mt[2]
        for a in range(k):
            p1 = A1[a]
            for b in range(k):
                p1 -= Q0[a, b] * delta[b]
            g[a] += p * (math.sqrt(2.0) * W[a] - p1 / age)
        return
    T2, U2 = _mid_prep(Mt, delta)
    P3 = _mid_p3(Mt, delta, T2, U2)
    for a in range(k):
        p1 = A1[a]
        for b in range(k):
            p1 -= Q0[a, b] * delta[b]
        g[a] += p1 - P3[a] / (2.0 * age)


@njit(cache=True)
def _mid_J(Mt, delta, age, L, rhs, with_rhs, kind, p):
    """Add the middle samples' unscaled J sum ``Q0 - 3 Q2 / (2 age)`` at theta_ref +
    delta to the lower triangle of L (Q2 = sum s r^2 z z^T = B1 - 2 B2[delta] +
    B3[delta, delta]) and, ``with_rhs``, their ``sum s (dv/dage) r z = P3 / (2
    age^2)`` to rhs; mixture (h = -s gamma / age, dv/dage = gamma / age^2): ``-gamma
    Q0 / age`` and ``gamma P1 / age^2``."""
    Q0, B1 = Mt[1], Mt[3]
    k = delta.shape[0]
    if kind == MIXTURE:
        A1 = Mt[0]
        for a in range(k):
            for b in range(a + 1):
                L[a, b] -= p * Q0[a, b] / age
        if with_rhs:
            for a in range(k):
                p1 = A1[a]
                for b in range(k):
                    p1 -= Q0[a, b] * delta[b]
                rhs[a] += p * p1 / (age * age)
        return
    T2, U2 = _mid_prep(Mt, delta)
    f = 3.0 / (2.0 * age)
    for a in range(k):
        for b in range(a + 1):
            L[a, b] += Q0[a, b] - f * (B1[a, b] - 2.0 * U2[a, b] + T2[a, b])
    if with_rhs:
        P3 = _mid_p3(Mt, delta, T2, U2)
        for a in range(k):
            rhs[a] += P3[a] / (2.0 * age * age)


@njit(cache=True)
def _eval_ex(
    ex,
    region,
    XA,
    y,
    s,
    theta,
    fit_intercept,
    kind,
    p,
    age,
    J1,
    c1,
    S,
    alpha,
    signs,
    r,
    v,
    g,
    poly,
    Mt,
    theta_ref,
    rows=True,
):
    """G at (theta, age) from the kept v = 1 sums and the middle samples (with
    ``poly``: from their moments, :func:`_mid_G`), with the
    residuals and weights of the evaluated samples ``ex`` (which hold every middle
    sample; their curvatures are left to :func:`_top`); g is G scaled (``-sums / S``
    plus the penalty). Returns ``||G||_inf``. With ``poly`` G needs no pass over the
    samples: ``rows=False`` then skips it (the residuals and weights of ``ex`` are
    left as they were; :func:`_rows_ex` brings them to a point)."""
    nA = XA.shape[1]
    kk = g.shape[0]
    for a in range(kk):
        acc = c1[a]
        for b in range(kk):
            acc -= J1[a, b] * theta[b]
        g[a] = acc
    if poly:
        _mid_G(Mt, theta - theta_ref, age, g, kind, p)
        if rows:
            _rows_ex(ex, region, XA, y, theta, fit_intercept, kind, p, age, r, v)
        return _scale_G(g, S, alpha, signs, nA)
    b0 = theta[nA] if fit_intercept else 0.0
    for t in range(ex.shape[0]):
        i = ex[t]
        ri = y[i] - b0
        for j in range(nA):
            ri -= XA[i, j] * theta[j]
        r[i] = ri
        gi = region[i]
        if gi == RM:
            vi = phi(kind, p, 0.5 * ri * ri, age)
            v[i] = vi
            add_row(g, XA, i, s[i] * vi * ri, fit_intercept)
        else:
            v[i] = 1.0 if gi == R1 else 0.0
    return _scale_G(g, S, alpha, signs, nA)


@njit(cache=True)
def _rows_ex(ex, region, XA, y, theta, fit_intercept, kind, p, age, r, v):
    """The residuals and weights of the evaluated samples at (theta, age): with
    ``poly`` the only per-sample work of :func:`_eval_ex` (whose pass without moments
    computes them the same way, the same bits)."""
    nA = XA.shape[1]
    b0 = theta[nA] if fit_intercept else 0.0
    for t in range(ex.shape[0]):
        i = ex[t]
        ri = y[i] - b0
        for j in range(nA):
            ri -= XA[i, j] * theta[j]
        r[i] = ri
        gi = region[i]
        if gi == RM:
            v[i] = phi(kind, p, 0.5 * ri * ri, age)
        else:
            v[i] = 1.0 if gi == R1 else 0.0


@njit(cache=True)
def _terms_ex(ex, region, kind, p, s, r, age, v, h, va):
    """The terms v, h, dv/dage of the evaluated samples from their residuals."""
    for t in range(ex.shape[0]):
        i = ex[t]
        v[i], h[i], va[i] = _terms_i(kind, p, region[i], r[i], s[i], age)


@njit(cache=True)
def _factor(
    ex, region, XA, fit_intercept, h, J1, S, L, poly, Mt, theta, theta_ref, age, kind, p
):
    """Cholesky factor (lower, in ``L``) of the exact J = (J1 + sum over the middle
    samples of h_i z_i z_i^T) / S; False when J is not positive definite or nearly
    singular (the tests of ``_LassoSystem.factorize``)."""
    k = L.shape[0]
    for a in range(k):
        for b in range(a + 1):
            L[a, b] = J1[a, b]
    if poly:
        _mid_J(Mt, theta - theta_ref, age, L, L[0], bool(False), kind, p)
        return _cholesky(L, S)
    for t in range(ex.shape[0]):
        i = ex[t]
        if region[i] != RM:
            continue
        if not np.isfinite(h[i]):
            return False
        add_outer(L, XA, i, h[i], fit_intercept)
    return _cholesky(L, S)


@njit(cache=True)
def _cholesky(L, S):
    """In place: the lower triangle of L (J times S) becomes the Cholesky factor of J;
    False when J is not positive definite or nearly singular."""
    k = L.shape[0]
    for a in range(k):
        for b in range(a + 1):
            L[a, b] /= S
    dmin = np.inf
    dmax = 0.0
    for j in range(k):
        acc = L[j, j]
        for m in range(j):
            acc -= L[j, m] * L[j, m]
        if not (acc > 0.0):
            return False
        djj = math.sqrt(acc)
        L[j, j] = djj
        dmin = min(dmin, djj)
        dmax = max(dmax, djj)
        for i in range(j + 1, k):
            acc = L[i, j]
            for m in range(j):
                acc -= L[i, m] * L[j, m]
            L[i, j] = acc / djj
    if k and dmin <= 1e-9 * max(1.0, dmax):
        return False
    return True


@njit(cache=True)
def _top(
    ex,
    region,
    XA,
    y,
    s,
    theta,
    fresh,
    fit_intercept,
    kind,
    p,
    age,
    J1,
    S,
    r,
    v,
    h,
    va,
    L,
    dtheta,
    poly,
    Mt,
    theta_ref,
):
    """At a point of the branch, one pass over the evaluated samples: their residuals
    (unless ``fresh``: kept from the last evaluation here) and terms, the exact J and
    dG/dage; then the Cholesky factor (in ``L``) and the tangent ``dtheta = -J^{-1}
    dG/dage``. False when J is not stable."""
    nA = XA.shape[1]
    k = L.shape[0]
    rhs = np.zeros(k)
    for a in range(k):
        for b in range(a + 1):
            L[a, b] = J1[a, b]
    if poly:
        _mid_J(Mt, theta - theta_ref, age, L, rhs, bool(True), kind, p)
    b0 = theta[nA] if fit_intercept else 0.0
    for t in range(ex.shape[0]):
        i = ex[t]
        gi = region[i]
        if fresh:
            ri = r[i]
        else:
            ri = y[i] - b0
            for j in range(nA):
                ri -= XA[i, j] * theta[j]
            r[i] = ri
        v[i], h[i], va[i] = _terms_i(kind, p, gi, ri, s[i], age)
        if gi != RM or poly:
            continue
        if not np.isfinite(h[i]):
            return False
        add_outer(L, XA, i, h[i], fit_intercept)
        add_row(rhs, XA, i, s[i] * va[i] * r[i], fit_intercept)
    if not _cholesky(L, S):
        return False
    for j in range(k):
        rhs[j] /= S
    x = _cho_solve(L, rhs)
    for j in range(k):
        dtheta[j] = x[j]
    return True


@njit(cache=True)
def _norm_diff(a, b):
    acc = 0.0
    for j in range(a.shape[0]):
        d = a[j] - b[j]
        acc += d * d
    return math.sqrt(acc)


@njit(cache=True)
def _kth_smallest(a, k):
    """``np.partition(a, k)[k]`` (NaN sorts last) for a 1-d float array: Wirth's
    selection on a copy, median-of-three pivots, expected O(len(a)). (numba's
    np.partition compiled for 11.5 s: ``benchmarks/compile_time.py`` at 5e8da8a.)"""
    n = a.shape[0]
    b = np.empty(n)
    c = 0
    for i in range(n):
        x = a[i]
        if x == x:
            b[c] = x
            c += 1
    if k >= c:
        return np.nan
    lo = 0
    hi = c - 1
    while lo < hi:
        x0 = b[lo]
        x1 = b[(lo + hi) // 2]
        x2 = b[hi]
        # the median of the three (an entry of b[lo:hi + 1]: the scans below stop)
        piv = max(min(x0, x1), min(max(x0, x1), x2))
        i = lo
        j = hi
        while i <= j:
            while b[i] < piv:
                i += 1
            while piv < b[j]:
                j -= 1
            if i <= j:
                t = b[i]
                b[i] = b[j]
                b[j] = t
                i += 1
                j -= 1
        # b[lo:j + 1] <= piv <= b[i:hi + 1], and entries strictly between equal piv
        if j < k:
            lo = i
        if k < i:
            hi = j
    return b[k]


@njit(cache=True)
def _band_dist(x, lo0, lo1, hi0, hi1, use_lo):
    """Distance of |r| = x to the residual bands of the thresholds."""
    dist = np.inf
    if use_lo:
        if x < lo0:
            dist = lo0 - x
        elif x > lo1:
            dist = x - lo1
        else:
            return 0.0
    if x < hi0:
        dist = min(dist, hi0 - x)
    elif x > hi1:
        dist = min(dist, x - hi1)
    else:
        return 0.0
    return dist


@njit(cache=True)
def _refresh(
    XA,
    y,
    s,
    theta,
    fit_intercept,
    kind,
    p,
    age,
    age_max,
    region,
    znorm,
    S,
    n_cand,
    etol,
    scale,
    r_ref,
    theta_ref,
    slack,
    in_ex,
    r,
    v,
    h,
    va,
    poly,
):
    """A new screening reference of the samples at (theta, age): the residuals of all
    samples, the age window and the candidates (``in_ex`` marks them).

    The window ``[age, a1]`` ends where the upper threshold reaches the loss of the
    ``n_cand``-th sample at v = 0; the drift radius ``D`` is the ``n_cand``-th smallest
    positive slack (distance to the bands over ``||z_i||``) of the screened samples
    (all but the middle ones, which are always evaluated unless ``poly``). A sample
    whose event value is at most ``etol`` here (at or past its event) is always a
    candidate. Returns (ex, D, w1, a1): the evaluated samples (sorted), the drift
    radius, the bound weight ``sum s_i^2 ||z_i||^2 / S^2`` of the samples at v = 1
    that are not evaluated, and the end of the window."""
    n, nA = XA.shape
    l_one = loss_one(kind, p, age)
    l_zero = loss_zero(kind, p, age)
    lo0 = math.sqrt(2.0 * l_one)
    hi0 = math.sqrt(2.0 * l_zero)
    b0 = theta[nA] if fit_intercept else 0.0
    for j in range(theta.shape[0]):
        theta_ref[j] = theta[j]
    for i in range(n):
        ri = y[i] - b0
        for j in range(nA):
            ri -= XA[i, j] * theta[j]
        r_ref[i] = ri
        r[i] = ri
        gi = region[i]
        vi, hi_, vai = _terms_i(kind, p, gi, ri, s[i], age)
        v[i] = vi
        h[i] = hi_
        va[i] = vai
        if gi == RM and not poly:
            slack[i] = -1.0  # always evaluated (they enter G)
            continue
        ev = _event_i(
            gi, 0.5 * ri * ri, 0.0, l_one, l_zero, 0.0, 0.0, l_one > 0.0, False, scale
        )[0]
        if ev <= etol:
            slack[i] = 0.0
        else:
            dist = _band_dist(abs(ri), lo0, lo0, hi0, hi0, lo0 > 0.0)
            slack[i] = dist / znorm[i] if znorm[i] > 0.0 else np.inf
    # the age window: until the rising upper threshold reaches the residual of the
    # n_cand-th sample at v = 0 (about n_cand samples inside the bands)
    a_hit = np.empty(n)
    m = 0
    for i in range(n):
        if region[i] == R0 and slack[i] > 0.0:
            a_hit[m] = _age_zero(kind, p, 0.5 * r_ref[i] * r_ref[i])
            m += 1
    a1 = age_max
    if m > n_cand:
        a1 = min(age_max, max(age, _kth_smallest(a_hit[:m], n_cand - 1)))
    lo1 = math.sqrt(2.0 * loss_one(kind, p, a1))
    hi1 = math.sqrt(2.0 * loss_zero(kind, p, a1))
    for i in range(n):
        if slack[i] > 0.0 and np.isfinite(slack[i]):
            slack[i] = (
                _band_dist(abs(r_ref[i]), lo0, lo1, hi0, hi1, lo1 > 0.0) / znorm[i]
            )
    pos = slack[slack > 0.0]
    D = _kth_smallest(pos, n_cand - 1) if pos.shape[0] > n_cand else np.inf
    cnt = 0
    for i in range(n):
        if slack[i] <= D:
            cnt += 1
    ex = np.empty(cnt, dtype=np.intp)
    cnt = 0
    w1 = 0.0
    for i in range(n):
        in_ex[i] = slack[i] <= D
        if in_ex[i]:
            ex[cnt] = i
            cnt += 1
        elif region[i] == R1:
            w1 += (s[i] * znorm[i] / S) ** 2
    # (a non-candidate has slack > D: while ||theta - theta_ref|| <= D its residual
    # stays off the bands)
    if not np.isfinite(D):
        D = 1e300
    return ex, D, w1, a1


@njit(cache=True)
def _age_zero(kind, p, l):
    """The age at which ``loss_zero`` reaches the loss l (its inverse)."""
    if kind == MIXTURE:
        return math.sqrt(l)
    return l


@njit(cache=True)
def _sample_u(
    XA,
    y,
    s,
    theta,
    dtheta,
    has_d,
    fit_intercept,
    kind,
    p,
    age,
    region,
    in_ex,
    r,
    v,
    h,
    va,
    S,
    u,
    q,
    rr,
):
    """``u_i = s_i v_i r_i / S`` of every sample at theta and, with ``has_d``, ``q_i =
    (h_i dr_i + s_i r_i dv_i/dage) / S`` with ``dr_i = -z_i . dtheta`` (non-finite
    terms 0): the evaluated samples from their state, the others from their residuals
    (``rr``: the residuals, 0 for the samples at v = 0 not evaluated)."""
    n, nA = XA.shape
    b0 = theta[nA] if fit_intercept else 0.0
    db = dtheta[nA] if (fit_intercept and has_d) else 0.0
    for i in range(n):
        gi = region[i]
        if in_ex[i]:
            ri, vi, hi_, vai = r[i], v[i], h[i], va[i]
        elif gi == R0:
            u[i] = 0.0
            rr[i] = 0.0
            if has_d:
                q[i] = 0.0
            continue
        else:
            ri = y[i] - b0
            for j in range(nA):
                ri -= XA[i, j] * theta[j]
            vi, hi_, vai = _terms_i(kind, p, gi, ri, s[i], age)
        rr[i] = ri
        u[i] = s[i] * vi * ri / S
        if has_d:
            acc = db
            for j in range(nA):
                acc += XA[i, j] * dtheta[j]
            qi = hi_ * -acc + s[i] * ri * vai
            q[i] = (qi if np.isfinite(qi) else 0.0) / S


@njit(cache=True)
def _features(
    XA,
    XT,
    y,
    s,
    theta,
    dtheta,
    has_d,
    fit_intercept,
    region,
    inactive,
    colnorm,
    alpha,
    S,
    ex,
    in_ex,
    u_ref,
    c_ref,
    theta_f,
    w1,
    du2,
    max_unsure,
    r,
    v,
    h,
    va,
    n,
    e,
    de,
    tg,
    cexact,
    kind,
    p,
    age,
    fstate,
):
    """Event functions of the features (same scaling as ``event_values``): the active
    ones from theta, the inactive ones from the screening bound or, where it reaches
    0.999 alpha, exactly (one pass). Fills e[n:], de[n:], tg[n:] and ``cexact`` (the
    signed correlation of each feature, as ``event_values``' info). Returns the number
    of features evaluated exactly, or -1 (nothing filled) when the bound leaves more
    than ``max_unsure`` unsure."""
    nS, nA = XA.shape
    # ||u - u_ref|| bound: exact on the evaluated samples (du2, their sum of squares);
    # the others at v = 1 (their region is that of the reference) through ||theta -
    # theta_f||
    drift = _norm_diff(theta, theta_f)
    # (the middle samples not evaluated, fstate = [sum s^2 ||z||^2, sum s^2 m(r_f),
    # age_f]: linear, |du_i| <= 2 s_i ||z_i|| drift / S + s_i |r_i|^3 |1 / (2 age) - 1
    # / (2 age_f)| / S as |r_i| stays below sqrt(2 age), m = r^6; mixture, u = s gamma
    # (sqrt(2) sign(r) - r / age) / S: |du_i| <= s_i gamma ||z_i|| drift / (min age S)
    # + s_i gamma |r_i| |1 / age - 1 / age_f| / S, m = r^2)
    if kind == MIXTURE:
        lip = p / min(age, fstate[2])
        dinv = p * (1.0 / age - 1.0 / fstate[2])
    else:
        lip = 2.0
        dinv = 0.5 / age - 0.5 / fstate[2]
    mid2 = 2.0 * ((lip * drift) ** 2 * fstate[0] + dinv * dinv * fstate[1]) / (S * S)
    dn = math.sqrt(du2 + w1 * drift * drift + mid2)
    n_unsure = 0
    for t in range(inactive.shape[0]):
        j = inactive[t]
        bound = abs(c_ref[t]) + colnorm[j] * dn
        if bound >= 0.999 * alpha:
            n_unsure += 1
            cexact[j] = np.nan
        else:
            cexact[j] = bound
            e[n + j] = 1.0 - bound / alpha
            de[n + j] = -0.0
            tg[n + j] = 1
    if n_unsure > max_unsure:
        return -1  # the caller renews the reference of the features first
    if n_unsure:
        # every sample's u (and q with a tangent), then the unsure features exactly
        u = np.empty(nS)
        q = np.empty(nS)
        rr = np.empty(nS)
        _sample_u(
            XA,
            y,
            s,
            theta,
            dtheta,
            has_d,
            fit_intercept,
            kind,
            p,
            age,
            region,
            in_ex,
            r,
            v,
            h,
            va,
            S,
            u,
            q,
            rr,
        )
        idx = np.empty(n_unsure, dtype=np.intp)
        m = 0
        for t in range(inactive.shape[0]):
            if np.isnan(cexact[inactive[t]]):
                idx[m] = inactive[t]
                m += 1
        dc = np.zeros(cexact.shape[0])
        correlations_subset(XT, idx, u, q, has_d, cexact, dc)
        for t in range(m):
            j = idx[t]
            sg = 1.0 if cexact[j] >= 0 else -1.0
            e[n + j] = 1.0 - sg * cexact[j] / alpha
            de[n + j] = -sg * dc[j] / alpha
            tg[n + j] = 1
    return n_unsure


@njit(cache=True)
def _feature_ref(
    XA,
    XT,
    y,
    s,
    theta,
    fit_intercept,
    region,
    in_ex,
    inactive,
    alpha,
    S,
    r,
    v,
    h,
    va,
    u_ref,
    c_ref,
    theta_f,
    kind,
    p,
    age,
    znorm,
    fstate,
):
    """A new reference of the feature bound at theta (the sample state of the
    evaluated samples is that of theta): u of every sample and the exact correlations
    of the inactive features; ``fstate`` gets the bound's sums over the middle samples
    not evaluated and the age (see :func:`_features`). Returns how many features are
    within 0.999 alpha."""
    n = XA.shape[0]
    rr = np.empty(n)
    _sample_u(
        XA,
        y,
        s,
        theta,
        theta,
        bool(False),
        fit_intercept,
        kind,
        p,
        age,
        region,
        in_ex,
        r,
        v,
        h,
        va,
        S,
        u_ref,
        rr,
        rr,
    )
    w2 = 0.0
    w6 = 0.0
    for i in range(n):
        if region[i] == RM and not in_ex[i]:
            ri = rr[i]
            si2 = s[i] * s[i]
            w2 += si2 * znorm[i] * znorm[i]
            if kind == MIXTURE:
                w6 += si2 * ri * ri
            else:
                r3 = ri * ri * ri
                w6 += si2 * r3 * r3
    fstate[0] = w2
    fstate[1] = w6
    fstate[2] = age
    for j in range(theta.shape[0]):
        theta_f[j] = theta[j]
    near = 0
    if inactive.shape[0]:
        # all columns at once (BLAS; a plain loop is bound by the latency of its sum)
        call = np.dot(XT, u_ref)
        for t in range(inactive.shape[0]):
            acc = call[inactive[t]]
            c_ref[t] = acc
            if abs(acc) >= 0.999 * alpha:
                near += 1
    return near


@njit(cache=True)
def _active_events(theta, dtheta, has_d, signs, active, n, e, de, tg):
    nA = active.shape[0]
    if nA == 0:
        return
    wscale = 1.0
    for a in range(nA):
        wscale = max(wscale, abs(theta[a]))
    for a in range(nA):
        k = n + active[a]
        e[k] = signs[a] * theta[a] / wscale
        de[k] = signs[a] * dtheta[a] / wscale if has_d else 0.0
        tg[k] = 0


@njit(cache=True)
def _sample_events(
    ex,
    region,
    XA,
    fit_intercept,
    s,
    S,
    r,
    v,
    u_f,
    dtheta,
    has_d,
    lo,
    hi,
    dlo,
    dhi,
    has_one,
    scale,
    e,
    de,
    tg,
):
    """Event functions of the evaluated samples (``_lasso_kernels.sample_events``);
    returns ``sum (u_i - u_f_i)^2`` over them (u = s v r / S) for the feature bound."""
    nA = XA.shape[1]
    du2 = 0.0
    for t in range(ex.shape[0]):
        i = ex[t]
        dri = 0.0
        if has_d:
            acc = dtheta[nA] if fit_intercept else 0.0
            for j in range(nA):
                acc += XA[i, j] * dtheta[j]
            dri = -acc
        e[i], de[i], tg[i] = _event_i(
            region[i],
            0.5 * r[i] * r[i],
            r[i] * dri,
            lo,
            hi,
            dlo,
            dhi,
            has_one,
            False,
            scale,
        )
        d_ = s[i] * v[i] * r[i] / S - u_f[i]
        du2 += d_ * d_
    return du2


@njit(cache=True)
def _newton(
    ex,
    region,
    XA,
    y,
    s,
    th,
    age,
    fit_intercept,
    kind,
    p,
    J1,
    c1,
    S,
    alpha,
    signs,
    L,
    L2,
    chord,
    gtol,
    r,
    v,
    h,
    va,
    g,
    poly,
    Mt,
    theta_ref,
):
    """Newton on G(., age) = 0 (``_Follower.newton``): chord iterations with the factor
    ``L`` of the step's start, switching to exact Jacobians (factored in ``L2``) when
    the residual contracts by less than 4x. Returns (theta, converged, iterations); the
    sample state (residuals and weights of ``ex``) is that of the returned point (with
    ``poly`` the iterations evaluate no sample, G and J coming from sums and moments:
    one pass at the end)."""
    gn = _eval_ex(
        ex,
        region,
        XA,
        y,
        s,
        th,
        fit_intercept,
        kind,
        p,
        age,
        J1,
        c1,
        S,
        alpha,
        signs,
        r,
        v,
        g,
        poly,
        Mt,
        theta_ref,
        bool(False),
    )
    exact = not chord
    ok = False
    its = -1  # (set where the iterations stop early)
    for it in range(12):
        if gn <= gtol:
            ok, its = True, it
            break
        if exact:
            if not poly:  # (with poly _factor takes J from the moments)
                _terms_ex(ex, region, kind, p, s, r, age, v, h, va)
            if not _factor(
                ex,
                region,
                XA,
                fit_intercept,
                h,
                J1,
                S,
                L2,
                poly,
                Mt,
                th,
                theta_ref,
                age,
                kind,
                p,
            ):
                its = it
                break
            step = _cho_solve(L2, g)
        else:
            step = _cho_solve(L, g)
        th = th - step
        gn_new = _eval_ex(
            ex,
            region,
            XA,
            y,
            s,
            th,
            fit_intercept,
            kind,
            p,
            age,
            J1,
            c1,
            S,
            alpha,
            signs,
            r,
            v,
            g,
            poly,
            Mt,
            theta_ref,
            bool(False),
        )
        if not np.isfinite(gn_new):
            its = it + 1
            break
        if gn_new > 0.25 * gn and gn_new > gtol:
            if not exact:
                exact = True
            elif it >= 2 and gn_new > 0.5 * gn:
                its = it + 1
                break
        gn = gn_new
    if its < 0:  # all 12 iterations
        ok, its = gn <= gtol, 12
    if poly:
        _rows_ex(ex, region, XA, y, th, fit_intercept, kind, p, age, r, v)
    return th, ok, its


@njit(cache=True)
def _bordered(
    ex,
    region,
    XA,
    y,
    s,
    fit_intercept,
    kind,
    p,
    S,
    alpha,
    signs,
    L,
    J1,
    c1,
    theta0,
    dtheta,
    age0,
    hstep,
    slope,
    k,
    age_max,
    gtol,
    ftol,
    scale,
    discontinuous,
    r,
    v,
    g,
    poly,
    Mt,
    theta_ref,
):
    """Bordered chord Newton to the age where sample k's event function vanishes, on
    the evaluated samples ``ex`` (which must hold k; also ``_LassoSystem.bordered_step``
    for Python's loop, with ``ex`` its middle samples and k).

    Each iteration: G (:func:`_eval_ex`), the chord correction with the Cholesky factor
    ``L`` of the step's start, the sample's event function at the corrected point, and
    the age update by the secant slope with ``dtheta`` carrying theta. Returns (status,
    theta, age, |G|, iterations); status 1 when G and the event function are converged
    and the corrector stayed close to the predictor (the residuals and weights of
    ``ex`` are then those of the returned point), else 0."""
    lam = age0 + hstep
    th = theta0 + hstep * dtheta
    th_e = th  # the last point G was evaluated at (its sample state, with poly)
    lam_e = 0.0
    st = 0
    gn_out = np.inf
    its = 16
    have_prev = False
    lam_prev = 0.0
    f_prev = 0.0
    gn_prev = np.inf
    grew = 0
    for it in range(16):
        if not (age0 < lam <= age_max):
            its = it
            break
        gn = _eval_ex(
            ex,
            region,
            XA,
            y,
            s,
            th,
            fit_intercept,
            kind,
            p,
            lam,
            J1,
            c1,
            S,
            alpha,
            signs,
            r,
            v,
            g,
            poly,
            Mt,
            theta_ref,
            bool(False),
        )
        th_e = th
        lam_e = lam
        if not np.isfinite(gn):
            its = it
            break
        if gn <= gtol:
            rk = _residual_k(XA, y, th, fit_intercept, k)  # (r[k], the same bits)
            f = _sample_event_value(kind, p, region[k], rk, lam, discontinuous, scale)
            if abs(f) <= ftol:
                if close(th, theta0 + (lam - age0) * dtheta, theta0):
                    st, gn_out = 1, gn
                its = it
                break
        grew = grew + 1 if gn > 0.5 * gn_prev else 0
        if grew >= 3:
            its = it
            break
        gn_prev = gn
        th = th - _cho_solve(L, g)
        rk = _residual_k(XA, y, th, fit_intercept, k)
        fc = _sample_event_value(kind, p, region[k], rk, lam, discontinuous, scale)
        if not np.isfinite(fc):
            its = it
            break
        if have_prev and lam != lam_prev:
            sec = (fc - f_prev) / (lam - lam_prev)
            if np.isfinite(sec) and sec < 0.0:
                slope = sec
        have_prev = True
        lam_prev = lam
        f_prev = fc
        dl = -fc / slope
        th = th + dl * dtheta
        lam = lam + dl
    if poly and lam_e > 0.0:
        # (the iterations evaluated no sample: the state of the last point G was
        # evaluated at, the returned one on success)
        _rows_ex(ex, region, XA, y, th_e, fit_intercept, kind, p, lam_e, r, v)
    return st, th, lam, gn_out, its


@njit(cache=True)
def _rank_one_one(J1, c1, XA, y, fit_intercept, i, w):
    """J1 += w z_i z_i^T, c1 += w y_i z_i (a sample entering, w = s_i, or leaving,
    w = -s_i, the region v = 1)."""
    nA = XA.shape[1]
    k = c1.shape[0]
    z = np.empty(k)
    for j in range(nA):
        z[j] = XA[i, j]
    if fit_intercept:
        z[nA] = 1.0
    for a in range(k):
        c1[a] += w * y[i] * z[a]
        for b in range(k):
            J1[a, b] += w * z[a] * z[b]


@njit(cache=True)
def _move_sums(XA, y, s, fit_intercept, i, old, tgt, r_ref, J1, c1, poly, Mt, kind):
    """Sample i moves from region ``old`` to ``tgt``: the kept v = 1 sums and (with
    ``poly``) the middle moments follow."""
    if old == R1:
        _rank_one_one(J1, c1, XA, y, fit_intercept, i, -s[i])
    if tgt == R1:
        _rank_one_one(J1, c1, XA, y, fit_intercept, i, s[i])
    if poly:
        if old == RM:
            _mid_add(XA, fit_intercept, i, -s[i], r_ref[i], Mt, kind)
        if tgt == RM:
            _mid_add(XA, fit_intercept, i, s[i], r_ref[i], Mt, kind)


@njit(cache=True)
def _copy_sums(J1, c1, Mt, J1d, c1d, Mtd):
    """Copy the kept sums (and moments) into the ``d`` arrays."""
    J1d[:, :] = J1
    c1d[:] = c1
    Mtd[0][:] = Mt[0]
    Mtd[1][:, :] = Mt[1]
    Mtd[2][:] = Mt[2]
    Mtd[3][:, :] = Mt[3]
    Mtd[4][:, :, :] = Mt[4]
    Mtd[5][:, :, :, :] = Mt[5]


@njit(cache=True)
def _one_sums(XA, y, s, fit_intercept, region, J1, c1):
    """The kept v = 1 sums afresh (``_LassoSystem._one_part``): J1 = sum s_i z_i z_i^T
    (:func:`lasso_J`), c1 = sum s_i y_i z_i."""
    n, nA = XA.shape
    w = np.zeros(n)
    for i in range(n):
        if region[i] == R1:
            w[i] = s[i]
    lasso_J(XA, fit_intercept, w, region, bool(False), J1)
    for a in range(c1.shape[0]):
        c1[a] = 0.0
    for i in range(n):
        if w[i] != 0.0:
            wy = w[i] * y[i]
            for a in range(nA):
                c1[a] += wy * XA[i, a]
            if fit_intercept:
                c1[nA] += wy


@njit(cache=True)
def _event_k(
    k,
    theta,
    age,
    XA,
    XT,
    y,
    s,
    fit_intercept,
    kind,
    p,
    region,
    in_ex,
    r,
    v,
    h,
    va,
    alpha,
    S,
    active,
    signs,
    scale,
):
    """Event value of index k at a corrected point (``_LassoSystem.event_k``; the
    residuals and weights of the evaluated samples are those of theta): a sample's from
    its residual, an active feature's from its coefficient, an inactive feature's from
    its exact correlation (one pass over the samples)."""
    n, nA = XA.shape
    if k < n:
        return _sample_event_value(kind, p, region[k], r[k], age, bool(False), scale)
    j = k - n
    wscale = 1.0
    pos = -1
    for a in range(nA):
        wscale = max(wscale, abs(theta[a]))
        if active[a] == j:
            pos = a
    if pos >= 0:
        return signs[pos] * theta[pos] / wscale
    u = np.empty(n)
    rr = np.empty(n)
    _sample_u(
        XA,
        y,
        s,
        theta,
        theta,
        bool(False),
        fit_intercept,
        kind,
        p,
        age,
        region,
        in_ex,
        r,
        v,
        h,
        va,
        S,
        u,
        rr,
        rr,
    )
    c = np.zeros(XT.shape[0])
    correlations_subset(XT, np.full(1, j, dtype=np.intp), u, u, bool(False), c, c)
    return 1.0 - abs(c[j]) / alpha


@njit(cache=True)
def _move(
    i,
    tgt,
    theta,
    age,
    solved,
    ex,
    region,
    XA,
    y,
    s,
    fit_intercept,
    kind,
    p,
    J1,
    c1,
    S,
    alpha,
    signs,
    L,
    L2,
    gtol,
    r,
    v,
    h,
    va,
    g,
    poly,
    Mt,
    theta_ref,
    r_ref,
    J1s,
    c1s,
    Mts,
):
    """Sample i moves to region ``tgt`` at (theta, age): the kept sums follow, then
    Newton in the new partition unless the caller knows G is ``solved`` there. Returns
    (theta, converged, old region, Newton iterations); when Newton fails the partition
    and the sums are as before."""
    old = region[i]
    _copy_sums(J1, c1, Mt, J1s, c1s, Mts)
    region[i] = tgt
    _move_sums(XA, y, s, fit_intercept, i, old, tgt, r_ref, J1, c1, poly, Mt, kind)
    if solved:
        return theta, True, old, 0
    th_p, ok, its = _newton(
        ex,
        region,
        XA,
        y,
        s,
        theta,
        age,
        fit_intercept,
        kind,
        p,
        J1,
        c1,
        S,
        alpha,
        signs,
        L,
        L2,
        bool(True),
        gtol,
        r,
        v,
        h,
        va,
        g,
        poly,
        Mt,
        theta_ref,
    )
    if not ok:
        region[i] = old
        _copy_sums(J1s, c1s, Mts, J1, c1, Mt)
    return th_p, ok, old, its


@njit(cache=True)
def _feature_event(k, tg, cex, n, fire_out, counters):
    """The loop stops at feature event k for Python to apply: ``fire_out`` gets (k,
    its target set, its signed correlation). Returns the status FEATURE."""
    fire_out[0] = k
    fire_out[1] = tg[k]
    fire_out[2] = cex[k - n]
    counters[9] += 1
    return FEATURE


@njit(cache=True)
def _record(arr_age, arr_k, arr_from, arr_to, m, age, k, old, tgt):
    """Event m of the call."""
    arr_age[m] = age
    arr_k[m] = k
    arr_from[m] = old
    arr_to[m] = tgt


@njit(cache=True)
def _knot(kn_age, kn_theta, kn_dtheta, kn_seg, m, age, theta, dtheta, seg):
    """Knot m of the call (its segment: the number of events before it)."""
    kn_age[m] = age
    kn_theta[m, :] = theta
    kn_dtheta[m, :] = dtheta
    kn_seg[m] = seg


@njit(cache=True)
def _renew(
    XA,
    XT,
    y,
    s,
    theta,
    fit_intercept,
    kind,
    p,
    age,
    age_max,
    region,
    znorm,
    S,
    n_cand,
    etol,
    scale,
    r_ref,
    theta_ref,
    slack,
    in_ex,
    r,
    v,
    h,
    va,
    poly,
    inactive,
    alpha,
    u_f,
    c_f,
    theta_f,
    fstate,
    J1,
    c1,
    Mt,
    e,
    de,
    counters,
):
    """New references at (theta, age): of the samples (:func:`_refresh`; the event
    values of the samples no longer evaluated reset), of the features
    (:func:`_feature_ref`), the kept v = 1 sums and the middle moments afresh. Returns
    (ex, D, w1, a1, max_unsure)."""
    for i in range(XA.shape[0]):
        e[i] = np.inf
        de[i] = 0.0
    ex, D, w1, a1 = _refresh(
        XA,
        y,
        s,
        theta,
        fit_intercept,
        kind,
        p,
        age,
        age_max,
        region,
        znorm,
        S,
        n_cand,
        etol,
        scale,
        r_ref,
        theta_ref,
        slack,
        in_ex,
        r,
        v,
        h,
        va,
        poly,
    )
    max_unsure = 1 + _feature_ref(
        XA,
        XT,
        y,
        s,
        theta,
        fit_intercept,
        region,
        in_ex,
        inactive,
        alpha,
        S,
        r,
        v,
        h,
        va,
        u_f,
        c_f,
        theta_f,
        kind,
        p,
        age,
        znorm,
        fstate,
    )
    _one_sums(XA, y, s, fit_intercept, region, J1, c1)
    if poly:
        _mid_build(XA, s, fit_intercept, region, r_ref, Mt, kind)
    counters[1] += 1
    return ex, D, w1, a1, max_unsure


@njit(cache=True)
def _point_events(
    XA,
    XT,
    y,
    s,
    theta,
    dth,
    has_d,
    fit_intercept,
    kind,
    p,
    age,
    region,
    inactive,
    colnorm,
    alpha,
    signs,
    active,
    S,
    scale,
    ex,
    in_ex,
    w1,
    u_f,
    c_f,
    theta_f,
    max_unsure,
    r,
    v,
    h,
    va,
    e,
    de,
    tg,
    cex,
    counters,
    znorm,
    fstate,
):
    """Event functions at a point whose sample state is fresh (with the tangent when
    ``has_d``): the evaluated samples, the features (the feature reference is renewed
    here when its bound leaves more features unsure than it did at the reference, plus
    one). Returns the new ``max_unsure``."""
    n = XA.shape[0]
    lo = loss_one(kind, p, age)
    hi = loss_zero(kind, p, age)
    dlo = dloss_one(kind, p, age)
    dhi = dloss_zero(kind, p, age)
    du2 = _sample_events(
        ex,
        region,
        XA,
        fit_intercept,
        s,
        S,
        r,
        v,
        u_f,
        dth,
        has_d,
        lo,
        hi,
        dlo,
        dhi,
        lo > 0.0,
        scale,
        e,
        de,
        tg,
    )
    nu = _features(
        XA,
        XT,
        y,
        s,
        theta,
        dth,
        has_d,
        fit_intercept,
        region,
        inactive,
        colnorm,
        alpha,
        S,
        ex,
        in_ex,
        u_f,
        c_f,
        theta_f,
        w1,
        du2,
        max_unsure,
        r,
        v,
        h,
        va,
        n,
        e,
        de,
        tg,
        cex,
        kind,
        p,
        age,
        fstate,
    )
    if nu < 0:
        near = _feature_ref(
            XA,
            XT,
            y,
            s,
            theta,
            fit_intercept,
            region,
            in_ex,
            inactive,
            alpha,
            S,
            r,
            v,
            h,
            va,
            u_f,
            c_f,
            theta_f,
            kind,
            p,
            age,
            znorm,
            fstate,
        )
        max_unsure = near + 1
        counters[15] += 1
        # (u_f is now u on the evaluated samples: their part of the bound is 0)
        nu = _features(
            XA,
            XT,
            y,
            s,
            theta,
            dth,
            has_d,
            fit_intercept,
            region,
            inactive,
            colnorm,
            alpha,
            S,
            ex,
            in_ex,
            u_f,
            c_f,
            theta_f,
            w1,
            0.0,
            max_unsure,
            r,
            v,
            h,
            va,
            n,
            e,
            de,
            tg,
            cex,
            kind,
            p,
            age,
            fstate,
        )
    counters[14] += nu
    _active_events(theta, dth, has_d, signs, active, n, e, de, tg)
    return max_unsure


@njit(cache=True)
def run_events(
    XA,
    XT,
    y,
    s,
    fit_intercept,
    kind,
    p,
    S,
    alpha,
    signs,
    active,
    inactive,
    colnorm,
    znorm,
    scale,
    region,
    theta_in,
    age,
    age_max,
    h_ctrl,
    span,
    gtol,
    etol,
    ftol,
    h_min,
    max_ev,
    pending,
    ev_age,
    ev_k,
    ev_from,
    ev_to,
    kn_age,
    kn_theta,
    kn_dtheta,
    kn_seg,
    counters,
    cand_mult,
    fire_out,
):
    """Regular iterations of the follower from (theta_in, age) with the partition
    (active, signs, region) until one needs Python (see the module docstring).

    ``region`` is updated in place. Events and knots are written to the ``ev_*`` and
    ``kn_*`` arrays (a knot's segment is the number of events before it in this call).
    Returns (status, theta, age, h_ctrl, pending, n_events, n_knots); with status
    FEATURE the loop stopped at the age of a feature's event, which ``fire_out`` holds
    (index n + j, target set, signed correlation). ``counters``
    accumulates: 0 steps, 1 sample references, 2 Newton and event-step iterations, 3
    evaluated samples summed over iterations; why the loop stopped: 4 event budget, 5
    end of the range, 6 unstable Jacobian, 7 event cascade or fold, 8 empty step, 9
    feature event, 10 event step failed, 11 step collapse, 12 event crossed by a step,
    13 Newton after a move failed; 14 features evaluated exactly, 15 feature
    references; 16 crossings located here.
    """
    n, nA = XA.shape
    d = XT.shape[0]
    kk = theta_in.shape[0]
    theta = theta_in.copy()
    r = np.empty(n)
    v = np.empty(n)
    h = np.empty(n)
    va = np.empty(n)
    r_ref = np.empty(n)
    u_f = np.empty(n)
    slack = np.empty(n)
    in_ex = np.zeros(n, dtype=np.bool_)
    c_f = np.empty(inactive.shape[0])
    theta_ref = np.empty(kk)
    theta_f = np.empty(kk)
    max_unsure = 0
    fstate = np.zeros(3)  # the feature bound's middle-sample sums (see _features)
    e = np.full(n + d, np.inf)
    e_top = np.full(n + d, np.inf)
    e_hi = np.full(n + d, np.inf)
    de = np.zeros(n + d)
    tg = np.zeros(n + d, dtype=np.int8)
    cex = np.empty(d)
    L = np.zeros((kk, kk))
    L2 = np.zeros((kk, kk))
    g = np.empty(kk)
    dth = np.empty(kk)
    J1 = np.empty((kk, kk))
    c1 = np.empty(kk)
    J1s = np.empty((kk, kk))
    c1s = np.empty(kk)
    # the linear regularizer's middle samples through their moments (small k)
    poly = (kind == LINEAR and kk <= _POLY_K) or kind == MIXTURE
    km = kk if poly else 0
    Mt = (
        np.zeros(km),
        np.zeros((km, km)),
        np.zeros(km),
        np.zeros((km, km)),
        np.zeros((km, km, km)),
        np.zeros((km, km, km, km)),
    )
    Mts = (
        np.zeros(km),
        np.zeros((km, km)),
        np.zeros(km),
        np.zeros((km, km)),
        np.zeros((km, km, km)),
        np.zeros((km, km, km, km)),
    )
    _one_sums(XA, y, s, fit_intercept, region, J1, c1)
    n_cand = max(_CAND_MIN, int(cand_mult * math.sqrt(n)))
    max_kn = kn_age.shape[0]
    n_ev = int(0)
    n_kn = int(0)
    status = BAIL
    need_ref = True
    fresh = False
    a0 = age
    a1 = age
    ex = np.empty(0, dtype=np.intp)
    D = 0.0
    w1 = 0.0
    # the knots of this segment where steps start (Python's loop: ``prev`` and the one
    # before, for the second-order predictor of a plain step)
    prev_seg, prev_age, prev_dth = -1, 0.0, np.zeros(kk)
    last_seg, last_age, last_dth = -1, 0.0, np.zeros(kk)
    renewing = False  # back at the step after renewing the reference (no new knot)
    while True:
        if n_ev >= max_ev or n_kn >= max_kn:
            status = BUDGET
            counters[4] += 1
            break
        if age >= age_max:
            counters[5] += 1
            break
        drift = _norm_diff(theta, theta_ref) if not need_ref else 0.0
        if need_ref or age > a1 or drift > D:
            a0 = age
            ex, D, w1, a1, max_unsure = _renew(
                XA,
                XT,
                y,
                s,
                theta,
                fit_intercept,
                kind,
                p,
                age,
                age_max,
                region,
                znorm,
                S,
                n_cand,
                etol,
                scale,
                r_ref,
                theta_ref,
                slack,
                in_ex,
                r,
                v,
                h,
                va,
                poly,
                inactive,
                alpha,
                u_f,
                c_f,
                theta_f,
                fstate,
                J1,
                c1,
                Mt,
                e,
                de,
                counters,
            )
            need_ref = False
            fresh = True
            drift = 0.0
        counters[3] += ex.shape[0]
        ok = _top(
            ex,
            region,
            XA,
            y,
            s,
            theta,
            fresh,
            fit_intercept,
            kind,
            p,
            age,
            J1,
            S,
            r,
            v,
            h,
            va,
            L,
            dth,
            poly,
            Mt,
            theta_ref,
        )
        fresh = True
        if not ok:
            counters[6] += 1
            break
        max_unsure = _point_events(
            XA,
            XT,
            y,
            s,
            theta,
            dth,
            bool(True),
            fit_intercept,
            kind,
            p,
            age,
            region,
            inactive,
            colnorm,
            alpha,
            signs,
            active,
            S,
            scale,
            ex,
            in_ex,
            w1,
            u_f,
            c_f,
            theta_f,
            max_unsure,
            r,
            v,
            h,
            va,
            e,
            de,
            tg,
            cex,
            counters,
            znorm,
            fstate,
        )
        e_top[:] = e  # (the values at the step's start, for a location)
        # consistency: event functions at zero that decrease fire now, in cascade, the
        # lowest index first (as Python's loop); the sample just moved among them is a
        # fold, and a feature among them is left to Python
        near = int(-1)
        hev = np.inf
        kev = int(-1)
        for t in range(ex.shape[0] + d):
            kx = ex[t] if t < ex.shape[0] else n + (t - ex.shape[0])
            if de[kx] < 0.0:
                tt = max(e[kx], 0.0) / (-de[kx])
                if e[kx] <= etol and (e[kx] <= ftol or tt <= h_min):
                    near = kx
                    break
                if tt < hev:
                    hev = tt
                    kev = kx
        if near >= 0:
            fold = False
            if pending >= 0 and de[pending] < 0.0 and e[pending] <= etol:
                tt = max(e[pending], 0.0) / (-de[pending])
                fold = e[pending] <= ftol or tt <= h_min
            if fold:
                counters[7] += 1
                break
            if near >= n:
                # a feature's event: Python applies it here (the active set changes)
                status = _feature_event(near, tg, cex, n, fire_out, counters)
                break
            # the sample moves here; Newton in the new partition (no step when G is
            # already solved there)
            tgt = tg[near]
            th_p, ok, old, its = _move(
                near,
                tgt,
                theta,
                age,
                bool(False),
                ex,
                region,
                XA,
                y,
                s,
                fit_intercept,
                kind,
                p,
                J1,
                c1,
                S,
                alpha,
                signs,
                L,
                L2,
                gtol,
                r,
                v,
                h,
                va,
                g,
                poly,
                Mt,
                theta_ref,
                r_ref,
                J1s,
                c1s,
                Mts,
            )
            counters[2] += its
            if not ok:
                fresh = False
                counters[13] += 1
                break
            theta = th_p
            fresh = True
            _record(ev_age, ev_k, ev_from, ev_to, n_ev, age, near, old, tgt)
            n_ev += 1
            pending = near
            continue
        if not renewing:
            last_seg, last_age = prev_seg, prev_age
            last_dth[:] = prev_dth
            prev_seg, prev_age = n_ev, age
            prev_dth[:] = dth
        renewing = False
        # the step: to the first predicted event, else plain, within the screen
        step = min(h_ctrl, age_max - age)
        limited = hev < step
        if limited:
            step = hev
        dn = 0.0
        for j in range(kk):
            dn += dth[j] * dth[j]
        dn = math.sqrt(dn)
        cap = a1 - age
        if dn > 0.0:
            cap = min(cap, (D - drift) / dn)
        capped = False
        if cap < step:
            if drift > 0.0 or age > a0:
                need_ref = True  # renew the reference here first
                renewing = True
                continue
            step = cap
            limited = False
            capped = True
        if not (step > 0.0):
            counters[8] += 1
            break
        new_age = min(age + step, age_max)
        counters[0] += 1
        if limited:
            st = 0
            if kev < n:
                st, th_n, new_age, gn, its = _bordered(
                    ex,
                    region,
                    XA,
                    y,
                    s,
                    fit_intercept,
                    kind,
                    p,
                    S,
                    alpha,
                    signs,
                    L,
                    J1,
                    c1,
                    theta,
                    dth,
                    age,
                    step,
                    de[kev],
                    kev,
                    age_max,
                    gtol,
                    ftol,
                    scale,
                    bool(False),
                    r,
                    v,
                    g,
                    poly,
                    Mt,
                    theta_ref,
                )
                fresh = False
                counters[2] += its + 1
                if st != 1:
                    counters[10] += 1
            if st != 1:
                # Python's ``_step_to_event_secant`` (a feature's event, or where the
                # bordered step failed): Newton at the predicted age, then secant
                # iterations in the age on the corrected event function
                lam1 = age + step
                pred = theta + step * dth
                th_n, ok, its = _newton(
                    ex,
                    region,
                    XA,
                    y,
                    s,
                    pred,
                    lam1,
                    fit_intercept,
                    kind,
                    p,
                    J1,
                    c1,
                    S,
                    alpha,
                    signs,
                    L,
                    L2,
                    bool(True),
                    gtol,
                    r,
                    v,
                    h,
                    va,
                    g,
                    poly,
                    Mt,
                    theta_ref,
                )
                counters[2] += its
                fresh = False
                if not ok or not close(th_n, pred, theta):
                    # the step fails: its control shrinks (as Python's loop)
                    h_ctrl = step / 4.0
                    if h_ctrl < h_min:
                        counters[11] += 1
                        break
                    continue
                lam_a = age
                f_a = e_top[kev]
                for _ in range(10):
                    f1 = _event_k(
                        kev,
                        th_n,
                        lam1,
                        XA,
                        XT,
                        y,
                        s,
                        fit_intercept,
                        kind,
                        p,
                        region,
                        in_ex,
                        r,
                        v,
                        h,
                        va,
                        alpha,
                        S,
                        active,
                        signs,
                        scale,
                    )
                    if abs(f1) <= ftol or f1 == f_a:
                        break
                    lam2 = lam1 - f1 * (lam1 - lam_a) / (f1 - f_a)
                    if not (age < lam2 <= age_max):
                        break
                    pred = th_n + (lam2 - lam1) * dth
                    th2, ok, its = _newton(
                        ex,
                        region,
                        XA,
                        y,
                        s,
                        pred,
                        lam2,
                        fit_intercept,
                        kind,
                        p,
                        J1,
                        c1,
                        S,
                        alpha,
                        signs,
                        L,
                        L2,
                        bool(True),
                        gtol,
                        r,
                        v,
                        h,
                        va,
                        g,
                        poly,
                        Mt,
                        theta_ref,
                    )
                    counters[2] += its
                    if not ok or not close(th2, pred, th_n):
                        # (the state arrays are the failed iterate's: back to the
                        # last good one)
                        _eval_ex(
                            ex,
                            region,
                            XA,
                            y,
                            s,
                            th_n,
                            fit_intercept,
                            kind,
                            p,
                            lam1,
                            J1,
                            c1,
                            S,
                            alpha,
                            signs,
                            r,
                            v,
                            g,
                            poly,
                            Mt,
                            theta_ref,
                            bool(True),
                        )
                        break
                    lam_a, f_a = lam1, f1
                    lam1, th_n = lam2, th2
                new_age = lam1
                gn = 0.0
                for j in range(kk):
                    gn = max(gn, abs(g[j]))
            ratio = 0.0
        else:
            hh = new_age - age
            pred = theta + hh * dth
            if last_seg == n_ev and last_age < age:
                # second-order predictor from the previous tangent of this segment
                f2 = 0.5 * hh * hh / (age - last_age)
                for j in range(kk):
                    pred[j] += f2 * (dth[j] - last_dth[j])
            th_n, ok, its = _newton(
                ex,
                region,
                XA,
                y,
                s,
                pred,
                new_age,
                fit_intercept,
                kind,
                p,
                J1,
                c1,
                S,
                alpha,
                signs,
                L,
                L2,
                bool(True),
                gtol,
                r,
                v,
                h,
                va,
                g,
                poly,
                Mt,
                theta_ref,
            )
            counters[2] += its
            fresh = False
            corr = 0.0
            move = 0.0
            base = 1.0
            for j in range(kk):
                corr = max(corr, abs(th_n[j] - pred[j]))
                move = max(move, abs(pred[j] - theta[j]))
                base = max(base, abs(theta[j]))
            ratio = corr / (move + 1e-9 * base) if kk else 0.0
            if not ok or ratio > 0.5:
                h_ctrl = step / 4.0
                if h_ctrl < h_min:
                    counters[11] += 1
                    break
                continue
            gn = 0.0
            for j in range(kk):
                gn = max(gn, abs(g[j]))
        # the event check at the new point (the sample state there is fresh)
        drift_n = _norm_diff(th_n, theta_ref)
        if new_age > a1 or drift_n > D:
            a0 = new_age
            ex, D, w1, a1, max_unsure = _renew(
                XA,
                XT,
                y,
                s,
                th_n,
                fit_intercept,
                kind,
                p,
                new_age,
                age_max,
                region,
                znorm,
                S,
                n_cand,
                etol,
                scale,
                r_ref,
                theta_ref,
                slack,
                in_ex,
                r,
                v,
                h,
                va,
                poly,
                inactive,
                alpha,
                u_f,
                c_f,
                theta_f,
                fstate,
                J1,
                c1,
                Mt,
                e,
                de,
                counters,
            )
        max_unsure = _point_events(
            XA,
            XT,
            y,
            s,
            th_n,
            dth,
            bool(False),
            fit_intercept,
            kind,
            p,
            new_age,
            region,
            inactive,
            colnorm,
            alpha,
            signs,
            active,
            S,
            scale,
            ex,
            in_ex,
            w1,
            u_f,
            c_f,
            theta_f,
            max_unsure,
            r,
            v,
            h,
            va,
            e,
            de,
            tg,
            cex,
            counters,
            znorm,
            fstate,
        )
        violated = False
        for t in range(ex.shape[0] + d):
            kx = ex[t] if t < ex.shape[0] else n + (t - ex.shape[0])
            if e[kx] < -etol:
                violated = True
                break
        if violated:
            # locate the first crossing in (age, new_age] as Python's loop does
            # (Illinois on the corrected event function of the sample whose linearly
            # interpolated crossing comes first, repeated while another index is
            # violated at the root); a feature among the crossings, a sample not
            # evaluated at the start, a point off the screen, a failed corrector or a
            # bracket collapsing onto a discontinuity leave it to Python
            got_k = int(-1)
            loc_th = theta
            loc_age = age
            hi_age = new_age
            hi_th = th_n
            e_hi[:] = e
            for _outer in range(60):
                kb = -1
                tbest = np.inf
                for t in range(ex.shape[0] + d):
                    kx = ex[t] if t < ex.shape[0] else n + (t - ex.shape[0])
                    if e_hi[kx] < -etol:
                        if kx < n and not np.isfinite(e_top[kx]):
                            # (a candidate of a reference renewed at the new point:
                            # its value at the start, from its residual there)
                            rk = _residual_k(XA, y, theta, fit_intercept, kx)
                            e_top[kx] = _sample_event_value(
                                kind, p, region[kx], rk, age, bool(False), scale
                            )
                        elo = e_top[kx]
                        den = elo - e_hi[kx]
                        tt = max(elo, 0.0) / den if den > 0.0 else np.inf
                        if tt < tbest or kb < 0:
                            tbest = tt
                            kb = kx
                if kb < 0:
                    break
                a = age
                b = hi_age
                ta = theta
                tb = hi_th
                fa = max(e_top[kb], 0.0)
                fb = e_hi[kb]
                side = 0
                found = False
                bad = False
                for _ in range(100):
                    x = a + (b - a) * fa / (fa - fb) if fa - fb > 0 else 0.5 * (a + b)
                    if not (a < x < b):
                        x = 0.5 * (a + b)
                    w = (x - a) / (b - a)
                    tx, okn, its = _newton(
                        ex,
                        region,
                        XA,
                        y,
                        s,
                        (1 - w) * ta + w * tb,
                        x,
                        fit_intercept,
                        kind,
                        p,
                        J1,
                        c1,
                        S,
                        alpha,
                        signs,
                        L,
                        L2,
                        bool(True),
                        gtol,
                        r,
                        v,
                        h,
                        va,
                        g,
                        poly,
                        Mt,
                        theta_ref,
                    )
                    counters[2] += its
                    if not okn or x > a1 or _norm_diff(tx, theta_ref) > D:
                        bad = True
                        break
                    max_unsure = _point_events(
                        XA,
                        XT,
                        y,
                        s,
                        tx,
                        dth,
                        bool(False),
                        fit_intercept,
                        kind,
                        p,
                        x,
                        region,
                        inactive,
                        colnorm,
                        alpha,
                        signs,
                        active,
                        S,
                        scale,
                        ex,
                        in_ex,
                        w1,
                        u_f,
                        c_f,
                        theta_f,
                        max_unsure,
                        r,
                        v,
                        h,
                        va,
                        e,
                        de,
                        tg,
                        cex,
                        counters,
                        znorm,
                        fstate,
                    )
                    fx = e[kb]
                    if abs(fx) <= ftol or (abs(fx) <= etol and b - a <= 1e-13 * x):
                        found = True
                        break
                    if b - a <= 1e-14 * max(1.0, abs(x)):
                        bad = True  # a discontinuity of the corrected function
                        break
                    if fx > 0:
                        a, ta, fa = x, tx, fx
                        if side == -1:
                            fb *= 0.5
                        side = -1
                    else:
                        b, tb, fb = x, tx, fx
                        if side == 1:
                            fa *= 0.5
                        side = 1
                if bad or not found:
                    break
                others = False
                for t in range(ex.shape[0] + d):
                    kx = ex[t] if t < ex.shape[0] else n + (t - ex.shape[0])
                    if kx != kb and e[kx] < -etol:
                        others = True
                        break
                if not others:
                    got_k = kb
                    loc_th = tx
                    loc_age = x
                    break
                hi_age = x
                hi_th = tx
                e_hi[:] = e
            if got_k < 0:
                counters[12] += 1
                break
            # the knot of the step's start, then the sample moves at the root (a
            # feature: Python applies it there)
            _knot(kn_age, kn_theta, kn_dtheta, kn_seg, n_kn, age, theta, dth, n_ev)
            n_kn += 1
            theta = loc_th
            age = loc_age
            if got_k >= n:
                status = _feature_event(got_k, tg, cex, n, fire_out, counters)
                break
            tgt = tg[got_k]
            th_p, ok, old, its = _move(
                got_k,
                tgt,
                theta,
                age,
                bool(False),
                ex,
                region,
                XA,
                y,
                s,
                fit_intercept,
                kind,
                p,
                J1,
                c1,
                S,
                alpha,
                signs,
                L,
                L2,
                gtol,
                r,
                v,
                h,
                va,
                g,
                poly,
                Mt,
                theta_ref,
                r_ref,
                J1s,
                c1s,
                Mts,
            )
            counters[2] += its
            counters[16] += 1
            if not ok:
                fresh = False
                counters[13] += 1
                break
            theta = th_p
            fresh = True
            _record(ev_age, ev_k, ev_from, ev_to, n_ev, age, got_k, old, tgt)
            n_ev += 1
            pending = got_k
            continue
        # accept the step: the knot of its start, then the new point
        _knot(kn_age, kn_theta, kn_dtheta, kn_seg, n_kn, age, theta, dth, n_ev)
        n_kn += 1
        pending = -1
        theta = th_n
        age = new_age
        fresh = True
        if limited and kev >= n and e[kev] <= etol:
            # a feature's event: Python applies it here
            status = _feature_event(kev, tg, cex, n, fire_out, counters)
            break
        if limited and e[kev] <= etol:
            # the sample moves; the point stands when sample kev's change of term
            # keeps |G| within gtol, else Newton in the new partition
            tgt = tg[kev]
            ri = r[kev]
            vn, hn, van = _terms_i(kind, p, tgt, ri, s[kev], new_age)
            zmax = 1.0 if fit_intercept else 0.0
            for j in range(nA):
                zmax = max(zmax, abs(XA[kev, j]))
            dg = abs(s[kev] * (vn - v[kev]) * ri) * zmax / S
            solved = gn + dg <= gtol
            th_p, ok, old, its = _move(
                kev,
                tgt,
                theta,
                age,
                solved,
                ex,
                region,
                XA,
                y,
                s,
                fit_intercept,
                kind,
                p,
                J1,
                c1,
                S,
                alpha,
                signs,
                L,
                L2,
                gtol,
                r,
                v,
                h,
                va,
                g,
                poly,
                Mt,
                theta_ref,
                r_ref,
                J1s,
                c1s,
                Mts,
            )
            counters[2] += its
            if not ok:
                # Python fires it (and jumps) from this point
                fresh = False
                counters[13] += 1
                break
            if solved:
                v[kev] = vn
                h[kev] = hn
                va[kev] = van
            theta = th_p
            _record(ev_age, ev_k, ev_from, ev_to, n_ev, age, kev, old, tgt)
            n_ev += 1
            pending = kev
        elif not limited and not capped:
            if ratio <= 0.05:
                h_ctrl = min(2.0 * h_ctrl, span)
            elif ratio >= 0.2:
                h_ctrl = h_ctrl / 2.0
    return status, theta, age, h_ctrl, pending, n_ev, n_kn
