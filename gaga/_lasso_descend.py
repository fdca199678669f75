"""Compiled local descent on the latent objective of the self-paced Lasso.

:func:`descend_run` is the loop of :meth:`gaga._lasso_path._LassoSystem.descend`
(see there for the method): a Newton step with the exact Jacobian (shifted to
positive definite when it is not), an Armijo backtracking search on the latent
objective, the active signs kept (the step is cut where a coefficient reaches 0, which
then leaves), and the inactive feature with the largest KKT violation entering once
the gradient on the active set is small. Every iteration is one O(n k^2) pass over
the samples (k the unknowns) plus O(n k) per trial of the line search, and O(n d) when
the features are checked; nothing goes back to Python except a stationary point that
is not stable (a saddle, left by the caller along J's most negative curvature).
"""

import numpy as np
from numba import njit

from gaga._cd import sparse_residuals
from gaga._lasso_kernels import (
    R0,
    _cho_solve,
    _scale_G,
    add_row,
    lasso_J,
    regions_at,
    sample_terms,
)
from gaga._lasso_loop import _cholesky
from gaga._spl_kernels import latent, loss_one, loss_zero

# outcomes of descend_run
DESC_STALLED = 0  # no descent step (the point is returned as it is)
DESC_CONVERGED = 1  # stationary and stable (J positive definite)
DESC_SADDLE = 2  # stationary, J not positive definite: the caller leaves the saddle
DESC_FAILED = 3  # J not finite (an infinite slope of v*)
DESC_ITERATIONS = 4  # the iteration budget ran out


@njit(cache=True)
def _gather(XF, act, nA):
    """The active columns as a C-contiguous block (rows z_i without the 1)."""
    n = XF.shape[0]
    XA = np.empty((n, nA))
    for a in range(nA):
        j = act[a]
        for i in range(n):
            XA[i, a] = XF[i, j]
    return XA


@njit(cache=True)
def _latent_value(kind, p, s, S, alpha, r, coef, age):
    """``(1/S) sum_i s_i F(l_i, age) + alpha ||w||_1``."""
    acc = 0.0
    for i in range(r.shape[0]):
        acc += s[i] * latent(kind, p, 0.5 * r[i] * r[i], age)
    l1 = 0.0
    for j in range(coef.shape[0]):
        l1 += abs(coef[j])
    return acc / S + alpha * l1


@njit(cache=True)
def _state(
    XA, s, fit_intercept, kind, p, S, alpha, age, lo, hi, r, sg, region, v, h, va, g
):
    """Regions of v* and the sample terms at the residuals r, and G there (penalty
    included); returns ``|G|_inf``."""
    regions_at(r, lo, hi, region)
    sample_terms(kind, p, region, r, s, age, v, h, va)
    g[:] = 0.0
    for i in range(r.shape[0]):
        if region[i] != R0:
            add_row(g, XA, i, s[i] * v[i] * r[i], fit_intercept)
    return _scale_G(g, S, alpha, sg, XA.shape[1])


@njit(cache=True)
def _jacobian(XA, fit_intercept, h, region, k):
    """Unscaled J = sum_i h_i z_i z_i^T (:func:`lasso_J`); second value: all entries
    finite."""
    J = np.empty((k, k))
    lasso_J(XA, fit_intercept, h, region, bool(False), J)
    return J, np.all(np.isfinite(J))


@njit(cache=True)
def descend_run(
    XT, y, s, fit_intercept, kind, p, S, alpha, coef, b, signs, age, max_iter, gscale
):
    """The descent from (coef, b) at ``age`` (``coef``: all features, updated in
    place; its nonzero entries are the active set, with ``signs`` (length d) their
    signs). Returns (outcome, b, latent objective, iterations used, active features,
    their signs, J (scaled) of a saddle, else empty)."""
    XF = XT.T  # X with contiguous columns (XT: C-ordered, see _cd.weighted_lasso_cd)
    n, d = XF.shape
    act = np.empty(d, dtype=np.intp)
    sg = np.empty(d)
    nA = int(0)
    for j in range(d):
        if coef[j] != 0.0:
            act[nA] = j
            sg[nA] = signs[j]
            nA += 1
    if not fit_intercept:
        b = 0.0
    XA = _gather(XF, act, nA)
    region = np.empty(n, dtype=np.int8)
    v = np.empty(n)
    h = np.empty(n)
    va = np.empty(n)
    u = np.empty(n)
    cn = np.empty(d)
    lo = loss_one(kind, p, age)
    hi = loss_zero(kind, p, age)
    r = sparse_residuals(XT, y, coef, act[:nA], b)
    L = _latent_value(kind, p, s, S, alpha, r, coef, age)
    J_saddle = np.empty((0, 0))
    it = 0
    outcome = DESC_ITERATIONS
    while it < max_iter:
        it += 1
        k = nA + (1 if fit_intercept else 0)
        g = np.empty(k)
        gn = _state(
            XA,
            s,
            fit_intercept,
            kind,
            p,
            S,
            alpha,
            age,
            lo,
            hi,
            r,
            sg,
            region,
            v,
            h,
            va,
            g,
        )
        if gn <= 1e-10 * gscale:
            # stationary on the active set: the most violated feature enters with its
            # correlation's sign
            for i in range(n):
                u[i] = s[i] * v[i] * r[i] / S
            c = np.dot(XT, u)
            for a in range(nA):
                c[act[a]] = 0.0
            jb = 0
            cb = -1.0
            for j in range(d):
                if abs(c[j]) > cb:
                    cb = abs(c[j])
                    jb = j
            if cb > alpha * (1.0 + 1e-10):
                pos = 0
                while pos < nA and act[pos] < jb:
                    pos += 1
                for a in range(nA, pos, -1):
                    act[a] = act[a - 1]
                    sg[a] = sg[a - 1]
                act[pos] = jb
                sg[pos] = 1.0 if c[jb] > 0 else -1.0
                nA += 1
                XA = _gather(XF, act, nA)
                continue
            J, finite = _jacobian(XA, fit_intercept, h, region, k)
            if not finite:
                outcome = DESC_FAILED
                break
            # stable as ``_LassoSystem.factorize``: positive definite, not nearly
            # singular (the factor is taken in a copy: a saddle returns J / S)
            if k == 0 or _cholesky(J.copy(), S):
                outcome = DESC_CONVERGED
            else:
                outcome = DESC_SADDLE
                J_saddle = J / S
            break
        J, finite = _jacobian(XA, fit_intercept, h, region, k)
        if not finite:
            outcome = DESC_FAILED
            break
        jmax = 0.0
        for a in range(k):
            for c in range(a + 1):
                jmax = max(jmax, abs(J[a, c]) / S)
        # the Newton step -(J + mu I)^{-1} g, shifted until positive definite
        mu = 0.0
        F = J.copy()
        while not _cholesky(F, S):
            mu = max(4.0 * mu, 1e-10 * max(1.0, jmax))
            F = J.copy()
            for a in range(k):
                F[a, a] += mu * S
        step = _cho_solve(F, -g)
        # the largest step keeping every active sign, and the feature it zeroes
        t_max = 1.0
        leave = -1
        for a in range(nA):
            if sg[a] * step[a] < 0.0:
                t = -coef[act[a]] / step[a]
                if t < t_max:
                    t_max = t
                    leave = a
        slope = 0.0
        for a in range(k):
            slope += g[a] * step[a]
        if not (slope < 0.0) or t_max <= 0.0:
            outcome = DESC_STALLED
            break
        # a full Newton step (J positive definite) whose predicted decrease is below
        # the rounding error of the latent objective cannot be judged by it: taken
        newton = mu == 0.0 and t_max == 1.0 and -slope <= 1e-13 * abs(L)
        t = t_max
        accepted = False
        bn = b
        Ln = L
        rn = r
        for _ in range(40):
            for j in range(d):
                cn[j] = coef[j]
            for a in range(nA):
                cn[act[a]] = coef[act[a]] + t * step[a]
            if t == t_max and leave >= 0:
                cn[act[leave]] = 0.0
            bn = b + t * step[nA] if fit_intercept else 0.0
            rn = sparse_residuals(XT, y, cn, act[:nA], bn)
            Ln = _latent_value(kind, p, s, S, alpha, rn, cn, age)
            if Ln <= L + 1e-4 * t * slope or (newton and t == 1.0):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            outcome = DESC_STALLED
            break
        for j in range(d):
            coef[j] = cn[j]
        b = bn
        L = Ln
        r = rn
        if t == t_max and leave >= 0:
            for a in range(leave, nA - 1):
                act[a] = act[a + 1]
                sg[a] = sg[a + 1]
            nA -= 1
            XA = _gather(XF, act, nA)
    return outcome, b, L, it, act[:nA].copy(), sg[:nA].copy(), J_saddle
