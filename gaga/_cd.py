"""Numba kernel of the weighted Lasso: coordinate descent with duality-gap stopping.

The kernel solves, for positive weights ``wt`` (already divided by S) and centered data,

    min_w  0.5 * sum_i wt_i (y_i - x_i.w)^2 + alpha * ||w||_1.

The intercept is eliminated exactly by the caller, who centers X and y with the weighted
means (the minimizing intercept of the uncentered problem is then ``ybar - xbar.w``).
The duality gap of the centered problem equals the gap of the original problem at the
optimal intercept.

Only plain arrays and scalars enter the compiled signatures (``style.md`` section 6.2).
"""

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _cd_update(old, g, nj, alpha):
    """Coordinate minimizer: soft threshold of ``old + g / nj`` at ``alpha / nj``
    (``g`` the coordinate's correlation with the residual, ``nj`` its weighted norm)."""
    z = old + g / nj
    thr = alpha / nj
    if z > thr:
        return z - thr
    if z < -thr:
        return z + thr
    return 0.0


@njit(cache=True, inline="always")
def _kkt_violation(c, wj, alpha):
    """KKT violation of coordinate j with correlation ``c`` at ``w_j``."""
    if wj > 0.0:
        return abs(c - alpha)
    if wj < 0.0:
        return abs(c + alpha)
    return max(abs(c) - alpha, 0.0)


@njit(cache=True, inline="always")
def _gap(wr2, wry, l1, dual_norm, alpha):
    """Duality gap from ``r^T W r``, ``r^T W y``, ``||w||_1`` and ``max_j |c_j|``: the
    dual point is the residual scaled into the feasible set (``kappa``)."""
    kappa = 1.0
    if dual_norm > alpha:
        kappa = alpha / dual_norm
    return 0.5 * wr2 + alpha * l1 - (kappa * wry - 0.5 * kappa * kappa * wr2)


@njit(cache=True)
def _residual(X, y, coef, r):
    m, d = X.shape
    for i in range(m):
        r[i] = y[i]
    for j in range(d):
        cj = coef[j]
        if cj != 0.0:
            for i in range(m):
                r[i] -= X[i, j] * cj


@njit(cache=True)
def _gap_and_kkt(X, y, wt, alpha, coef, r):
    """Duality gap and scaled KKT violation at ``coef`` with residual ``r``."""
    m, d = X.shape
    wr2 = 0.0
    wry = 0.0
    for i in range(m):
        wr2 += wt[i] * r[i] * r[i]
        wry += wt[i] * r[i] * y[i]
    dual_norm = 0.0
    kkt = 0.0
    l1 = 0.0
    for j in range(d):
        c = 0.0
        for i in range(m):
            c += wt[i] * X[i, j] * r[i]
        dual_norm = max(dual_norm, abs(c))
        wj = coef[j]
        l1 += abs(wj)
        kkt = max(kkt, _kkt_violation(c, wj, alpha))
    return _gap(wr2, wry, l1, dual_norm, alpha), kkt


@njit(cache=True)
def weighted_lasso_cd(X, y, wt, alpha, coef, tol, tol_kkt, max_iter, check_every):
    """Cyclic coordinate descent for the weighted Lasso (no intercept, centered data).

    Parameters
    ----------
    X : ndarray of shape (m, d)
        Design (rows with positive weight only, centered by the caller). Fortran order
        is best.
    y : ndarray of shape (m,)
        Targets, centered by the caller.
    wt : ndarray of shape (m,)
        Positive weights ``s_i v_i / S``.
    alpha : float
        L1 penalty.
    coef : ndarray of shape (d,)
        Initial coefficients; updated in place.
    tol : float
        Stop when the duality gap is at most ``tol * scale`` with ``scale = 0.5 sum wt
        y^2``.
    tol_kkt : float
        ... and the largest KKT violation is at most ``tol_kkt * max(alpha, c0)``, where
        ``c0 = max_j |sum_i wt_i x_ij y_i|`` is the largest correlation at ``w = 0``
        (the scale of the correlations, so the test does not depend on the units of y).
    max_iter : int
        Maximum number of epochs.
    check_every : int
        Number of epochs between two gap evaluations.

    Returns
    -------
    n_iter : int
        Epochs run.
    gap : float
        Last duality gap (absolute).
    scale : float
        The objective scale used in the relative gap.
    kkt : float
        Last largest KKT violation (absolute, units of alpha).
    converged : bool
    """
    m, d = X.shape
    norms = np.zeros(d)
    for j in range(d):
        s = 0.0
        for i in range(m):
            s += wt[i] * X[i, j] * X[i, j]
        norms[j] = s
    scale = 0.0
    for i in range(m):
        scale += 0.5 * wt[i] * y[i] * y[i]
    if scale <= 0.0:
        scale = 1.0
    kkt_scale = alpha
    for j in range(d):
        c0 = 0.0
        for i in range(m):
            c0 += wt[i] * X[i, j] * y[i]
        if abs(c0) > kkt_scale:
            kkt_scale = abs(c0)
    r = np.empty(m)
    _residual(X, y, coef, r)
    gap = np.inf
    kkt = np.inf
    for it in range(max_iter):
        for j in range(d):
            nj = norms[j]
            old = coef[j]
            if nj <= 0.0:
                if old != 0.0:
                    coef[j] = 0.0
                    for i in range(m):
                        r[i] += X[i, j] * old
                continue
            g = 0.0
            for i in range(m):
                g += wt[i] * X[i, j] * r[i]
            new = _cd_update(old, g, nj, alpha)
            if new != old:
                delta = new - old
                coef[j] = new
                for i in range(m):
                    r[i] -= X[i, j] * delta
        if (it + 1) % check_every == 0 or it == max_iter - 1 or it == 0:
            # fresh residual: no drift from the incremental updates
            _residual(X, y, coef, r)
            gap, kkt = _gap_and_kkt(X, y, wt, alpha, coef, r)
            if gap <= tol * scale and kkt <= tol_kkt * kkt_scale:
                return it + 1, gap, scale, kkt, True
    return max_iter, gap, scale, kkt, False


@njit(cache=True)
def weighted_lasso_cd_gram(Q, q, yy, alpha, coef, tol, tol_kkt, max_iter, check_every):
    """Coordinate descent for the same weighted Lasso on its Gram matrix.

    ``Q = X^T diag(wt) X`` (d, d), ``q = X^T diag(wt) y`` and ``yy = sum_i wt_i y_i^2``
    of the centered data: an epoch costs O(d^2) (O(d) per changed coordinate) instead
    of O(m d), which pays when m >> d and many epochs are needed (correlated features).
    Same stopping rule and returns as :func:`weighted_lasso_cd`; the duality gap and
    the KKT violations are evaluated from ``Q`` (``r^T W r = yy - 2 q.w + w^T Q w``).
    """
    d = Q.shape[0]
    scale = 0.5 * yy
    if scale <= 0.0:
        scale = 1.0
    kkt_scale = alpha
    for j in range(d):
        if abs(q[j]) > kkt_scale:
            kkt_scale = abs(q[j])
    qw = Q @ coef
    gap = np.inf
    kkt = np.inf
    for it in range(max_iter):
        for j in range(d):
            nj = Q[j, j]
            old = coef[j]
            if nj <= 0.0:
                if old != 0.0:
                    coef[j] = 0.0
                    for k in range(d):
                        qw[k] -= Q[k, j] * old
                continue
            new = _cd_update(old, q[j] - qw[j], nj, alpha)
            if new != old:
                delta = new - old
                coef[j] = new
                for k in range(d):
                    qw[k] += Q[k, j] * delta
        if (it + 1) % check_every == 0 or it == max_iter - 1 or it == 0:
            # fresh Q w: no drift from the incremental updates
            qw = Q @ coef
            wq = 0.0
            wQw = 0.0
            l1 = 0.0
            dual_norm = 0.0
            kkt = 0.0
            for j in range(d):
                wj = coef[j]
                wq += wj * q[j]
                wQw += wj * qw[j]
                l1 += abs(wj)
                c = q[j] - qw[j]
                dual_norm = max(dual_norm, abs(c))
                kkt = max(kkt, _kkt_violation(c, wj, alpha))
            gap = _gap(max(yy - 2.0 * wq + wQw, 0.0), yy - wq, l1, dual_norm, alpha)
            if gap <= tol * scale and kkt <= tol_kkt * kkt_scale:
                return it + 1, gap, scale, kkt, True
    return max_iter, gap, scale, kkt, False
