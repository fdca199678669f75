"""Numba kernel of the weighted Lasso: coordinate descent with duality-gap stopping.

The kernels solve, for positive weights ``wt`` (already divided by S) and centered data,

    min_w  0.5 * sum_i wt_i (y_i - x_i.w)^2 + alpha * ||w||_1.

The intercept is eliminated exactly by centering X and y with the weighted means (the
minimizing intercept of the uncentered problem is then ``ybar - xbar.w``); the data
kernel centers on the fly, on the rows with positive weight, without copying the data.
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
def _residual(X, rows, xbar, y, ybar, coef, r):
    """Centered residual ``r_k = (y_i - ybar) - (x_i - xbar).w`` for ``i = rows[k]``."""
    m = rows.shape[0]
    d = X.shape[1]
    for k in range(m):
        r[k] = y[rows[k]] - ybar
    for j in range(d):
        cj = coef[j]
        if cj != 0.0:
            xb = xbar[j]
            for k in range(m):
                r[k] -= (X[rows[k], j] - xb) * cj


@njit(cache=True)
def sparse_residuals(XT, y, coef, nz, b):
    """``y - X w - b`` from the columns ``nz`` where w is nonzero (``XT``: the
    transpose of X with contiguous columns, C-ordered, see :func:`weighted_lasso_cd`),
    in O(n len(nz))."""
    XF = XT.T
    n = y.shape[0]
    r = np.empty(n)
    for i in range(n):
        r[i] = y[i] - b
    for t in range(nz.shape[0]):
        j = nz[t]
        cj = coef[j]
        for i in range(n):
            r[i] -= XF[i, j] * cj
    return r


@njit(cache=True)
def _gap_and_kkt(X, rows, xbar, y, ybar, wt, alpha, coef, r):
    """Duality gap and scaled KKT violation at ``coef`` with residual ``r``."""
    m = rows.shape[0]
    d = X.shape[1]
    wr2 = 0.0
    wry = 0.0
    for k in range(m):
        wr2 += wt[k] * r[k] * r[k]
        wry += wt[k] * r[k] * (y[rows[k]] - ybar)
    dual_norm = 0.0
    kkt = 0.0
    l1 = 0.0
    for j in range(d):
        c = 0.0
        xb = xbar[j]
        for k in range(m):
            c += wt[k] * (X[rows[k], j] - xb) * r[k]
        dual_norm = max(dual_norm, abs(c))
        wj = coef[j]
        l1 += abs(wj)
        kkt = max(kkt, _kkt_violation(c, wj, alpha))
    return _gap(wr2, wry, l1, dual_norm, alpha), kkt


@njit(cache=True)
def weighted_means(X, rows, y, wt):
    """Weighted means of the columns of X and of y over ``rows`` (weights ``wt``,
    aligned with ``rows``): ``(xbar, ybar)``. X in C order is best (one pass over the
    rows)."""
    m = rows.shape[0]
    d = X.shape[1]
    wsum = 0.0
    ybar = 0.0
    xbar = np.zeros(d)
    for k in range(m):
        i = rows[k]
        w = wt[k]
        wsum += w
        ybar += w * y[i]
        for j in range(d):
            xbar[j] += w * X[i, j]
    for j in range(d):
        xbar[j] /= wsum
    return xbar, ybar / wsum


@njit(cache=True)
def weighted_lasso_cd(
    XT, rows, xbar, y, ybar, wt, alpha, coef, tol, tol_kkt, max_iter, check_every
):
    """Cyclic coordinate descent for the weighted Lasso on the rows ``rows`` of
    ``(X, y)``, centered on the fly (no copy of the data).

    Parameters
    ----------
    XT : ndarray of shape (d, n), C-ordered
        The transpose of the whole design X (contiguous columns of X). The kernels
        that read X by columns take it transposed: numba types an array of shape (n,
        1), or (1, n), as C-ordered whatever its order, so an X with one column passed
        in Fortran order would compile every kernel a second time (a minute for the
        path's loop); its C-ordered transpose has one type for every d.
    rows : ndarray of int64, shape (m,)
        The rows with positive weight, increasing.
    xbar : ndarray of shape (d,)
        Column centers (the weighted means with an intercept, zeros without): the
        kernel works on ``X[rows] - xbar`` without forming it.
    y : ndarray of shape (n,)
        Targets, centered at ``ybar`` on the fly.
    ybar : float
    wt : ndarray of shape (m,)
        Positive weights ``s_i v_i / S`` of the rows, aligned with ``rows``.
    alpha : float
        L1 penalty.
    coef : ndarray of shape (d,)
        Initial coefficients; updated in place.
    tol : float
        Stop when the duality gap is at most ``tol * scale`` with ``scale = 0.5 sum wt
        y^2`` (centered y).
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
    X = XT.T
    m = rows.shape[0]
    d = X.shape[1]
    norms = np.zeros(d)
    kkt_scale = alpha
    for j in range(d):
        s = 0.0
        c0 = 0.0
        xb = xbar[j]
        for k in range(m):
            i = rows[k]
            xc = X[i, j] - xb
            s += wt[k] * xc * xc
            c0 += wt[k] * xc * (y[i] - ybar)
        norms[j] = s
        if abs(c0) > kkt_scale:
            kkt_scale = abs(c0)
    scale = 0.0
    for k in range(m):
        yc = y[rows[k]] - ybar
        scale += 0.5 * wt[k] * yc * yc
    if scale <= 0.0:
        scale = 1.0
    r = np.empty(m)
    _residual(X, rows, xbar, y, ybar, coef, r)
    gap = np.inf
    kkt = np.inf
    for it in range(max_iter):
        for j in range(d):
            nj = norms[j]
            old = coef[j]
            xb = xbar[j]
            if nj <= 0.0:
                if old != 0.0:
                    coef[j] = 0.0
                    for k in range(m):
                        r[k] += (X[rows[k], j] - xb) * old
                continue
            g = 0.0
            for k in range(m):
                g += wt[k] * (X[rows[k], j] - xb) * r[k]
            new = _cd_update(old, g, nj, alpha)
            if new != old:
                delta = new - old
                coef[j] = new
                for k in range(m):
                    r[k] -= (X[rows[k], j] - xb) * delta
        if (it + 1) % check_every == 0 or it == max_iter - 1 or it == 0:
            # fresh residual: no drift from the incremental updates
            _residual(X, rows, xbar, y, ybar, coef, r)
            gap, kkt = _gap_and_kkt(X, rows, xbar, y, ybar, wt, alpha, coef, r)
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
