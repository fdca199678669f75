"""The two self-paced learning problems, with the conventions of the specification.

* :class:`LassoProblem`:
  ``(1/S) sum_i s_i [v_i l_i(w, b) + f(v_i, age)] + alpha ||w||_1`` with
  ``l_i = 0.5 (y_i - x_i.w - b)^2`` and ``S = sum_i s_i``; at ``v = 1`` this is
  :class:`sklearn.linear_model.Lasso` with the same ``alpha``.
* :class:`SVMProblem`:
  ``0.5 ||w||^2 + C sum_i s_i [v_i l_i + f(v_i, age)]`` with the hinge loss
  ``l_i = max(0, 1 - y_i f(x_i))``; at ``v = 1`` this is :class:`sklearn.svm.SVC` with
  the same ``C`` and kernel parameters. The SVM is represented in the dual: a candidate
  is ``(a, b)`` with ``f(x) = sum_j a_j y_j K(x_j, x) + b``.

Each problem provides per-sample losses, the biconvex objective, the latent objective
and the solver of the weighted convex subproblem at fixed ``v`` (``solve_weighted``).
"""

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.linalg.lapack import dgetrf, dgetrs

from gaga._cd import (
    sparse_residuals,
    weighted_lasso_cd,
    weighted_lasso_cd_gram,
    weighted_means,
)
from gaga._svm_dual import (
    gather_block,
    rows_matvec,
    smo_core,
    smo_gradient,
    sym_matvec,
)

# weighted Lasso: epochs of CD on the data before switching to CD on the Gram matrix
# (tall data with at most _GRAM_MAX_D features)
_GRAM_AFTER = 10
_GRAM_MAX_D = 512

__all__ = ["LassoProblem", "SVMProblem", "warmup"]


def warmup():
    """Compile (or load from the on-disk cache) the numba kernels on tiny inputs.

    Call before timing anything; the first call in a fresh environment takes a few
    seconds.
    """
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.5]])
    LassoProblem(X, np.array([1.0, -1.0, 0.5, 0.0]), alpha=0.1).solve_weighted(1.0)
    SVMProblem(X, np.array([0, 1, 1, 0]), kernel="linear").solve_weighted(1.0)


# --------------------------------------------------------------------------------------
# validation helpers


class ZeroWeightsError(ValueError):
    """Every effective weight ``sample_weight * v`` is zero: nothing left to fit."""


# tolerance of the PSD test of a precomputed kernel, relative to max |K|: a Gram matrix
# computed in float32 (rounding ~1e-7 relative) passes, a genuinely indefinite one fails
_PSD_RTOL = 1e-6


class OneClassError(ValueError):
    """The samples with positive effective weight contain only one class (SVM)."""


def effective_weights(sample_weight, v):
    """Effective weights ``u = sample_weight * v`` and the mask ``u > 0``.

    Raises
    ------
    ZeroWeightsError
        If every effective weight is zero.
    """
    u = sample_weight * v
    mask = u > 0
    if not np.any(mask):
        raise ZeroWeightsError(
            "All effective weights sample_weight * v are zero; at least one sample "
            "must have v > 0."
        )
    return u, mask


def _writable(a):
    """``a`` C-contiguous and writable: a read-only array (a read-only memmap, a
    broadcast view) is copied. numba types a read-only array apart from a writable
    one and would compile every kernel that sees it a second time."""
    return np.require(a, requirements=["C", "W"])


def _check_X(X, name="X"):
    if sp.issparse(X):
        raise TypeError(
            f"Sparse input for {name} is not supported yet; pass a dense array "
            f"(e.g. {name}.toarray())."
        )
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a numeric array; got {type(X).__name__}."
        ) from exc
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-d array; got an array of shape {X.shape}."
        )
    if not np.all(np.isfinite(X)):
        bad = int(np.sum(~np.isfinite(X)))
        raise ValueError(
            f"{name} contains {bad} NaN or infinite value(s); {name} must be finite."
        )
    return _writable(X)


def _check_sample_weight(sample_weight, n):
    if sample_weight is None:
        return np.ones(n)
    s = np.asarray(sample_weight, dtype=np.float64)
    if s.ndim == 0:
        s = np.full(n, float(s))
    if s.shape != (n,):
        raise ValueError(
            f"sample_weight has shape {s.shape}; expected ({n},) to match the number "
            "of samples."
        )
    if not np.all(np.isfinite(s)):
        raise ValueError(
            "sample_weight contains NaN or infinite values; it must be finite."
        )
    if np.any(s < 0):
        raise ValueError(
            f"sample_weight must be nonnegative; got min(sample_weight)={s.min()!r}."
        )
    if not np.any(s > 0):
        raise ValueError(
            "sample_weight is all zero; at least one weight must be positive."
        )
    return _writable(s)


def _check_positive(value, name):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or value <= 0
    ):
        raise ValueError(
            f"{name} must be a positive finite number; got {name}={value!r}."
        )
    return float(value)


def _check_v(v, n, name="v"):
    v = np.asarray(v, dtype=np.float64)
    if v.ndim == 0:
        v = np.full(n, float(v))
    if v.shape != (n,):
        raise ValueError(f"{name} has shape {v.shape}; expected ({n},).")
    if not np.all(np.isfinite(v)) or np.any(v < 0) or np.any(v > 1):
        raise ValueError(
            f"{name} must lie in [0, 1]; got min={v.min()!r}, max={v.max()!r}."
        )
    return _writable(v)


def _check_lengths(X, y):
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-d array; got an array of shape {y.shape}.")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: X has {X.shape[0]} rows, "
            f"y has {y.shape[0]} entries."
        )
    if X.shape[0] < 2:
        raise ValueError(
            f"At least 2 samples are required; got n_samples={X.shape[0]}."
        )
    if X.shape[1] < 1:
        raise ValueError("X has 0 features; at least one feature is required.")


# --------------------------------------------------------------------------------------
# Lasso


class LassoProblem:
    r"""Self-paced Lasso problem.

    The biconvex objective at age ``age`` with regularizer ``f`` is

    .. math::

        \frac{1}{S}\sum_i s_i\,[v_i \ell_i(w, b) + f(v_i, \mathrm{age})] + \alpha
        \|w\|_1, \qquad \ell_i = \tfrac12 (y_i - x_i^\top w - b)^2,\quad S = \sum_i s_i,

    so that ``v = 1`` gives :class:`sklearn.linear_model.Lasso` (``alpha``) exactly.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training data (dense; sparse input raises ``TypeError``).
    y : array-like of shape (n_samples,)
        Targets.
    alpha : float, default=1.0
        L1 penalty, > 0.
    fit_intercept : bool, default=True
        Whether to fit an unpenalized intercept ``b`` (otherwise ``b = 0``).
    sample_weight : array-like of shape (n_samples,), default=None
        Nonnegative sample weights ``s_i`` (ones when None), not all zero.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        float64, C-contiguous copy of the data.
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,)
    S : float
        Sum of the sample weights.
    n_samples, n_features : int
    alpha : float
    fit_intercept : bool
    """

    kind = "lasso"

    def __init__(self, X, y, *, alpha=1.0, fit_intercept=True, sample_weight=None):
        X = _check_X(X)
        if sp.issparse(y):
            raise TypeError("Sparse y is not supported; pass a dense 1-d array.")
        y = np.asarray(y, dtype=np.float64)
        _check_lengths(X, y)
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinite values; y must be finite.")
        self.X = X
        self.y = _writable(y)
        self.n_samples, self.n_features = X.shape
        self.alpha = _check_positive(alpha, "alpha")
        self.fit_intercept = bool(fit_intercept)
        self.sample_weight = _check_sample_weight(sample_weight, self.n_samples)
        self.S = float(self.sample_weight.sum())

    def _X_transposed(self):
        """X^T, C-ordered: the contiguous columns of X that the compiled kernels take
        (a copy made once; see :func:`gaga._cd.weighted_lasso_cd`)."""
        XT = getattr(self, "_XT", None)
        if XT is None:
            XT = self._XT = np.ascontiguousarray(self.X.T)
        return XT

    # -- candidate helpers
    # ---------------------------------------------------------------------
    def _coef(self, coef):
        coef = np.asarray(coef, dtype=np.float64).ravel()
        if coef.shape != (self.n_features,):
            raise ValueError(
                f"coef has shape {coef.shape}; expected ({self.n_features},)."
            )
        return coef

    def predict(self, X, coef, intercept=0.0):
        """Linear prediction ``X w + b``.

        Parameters
        ----------
        X : array-like of shape (n, n_features)
        coef : array-like of shape (n_features,)
        intercept : float, default=0.0

        Returns
        -------
        ndarray of shape (n,)
        """
        X = _check_X(X)
        return X @ self._coef(coef) + float(intercept)

    def residuals(self, coef, intercept=0.0):
        """Training residuals ``y - X w - b``, shape (n_samples,)."""
        coef = self._coef(coef)
        nz = np.flatnonzero(coef)
        if 2 * nz.shape[0] < coef.shape[0]:
            # (sparse w, as along a path: only its columns)
            return sparse_residuals(
                self._X_transposed(), self.y, coef, nz, float(intercept)
            )
        return self.y - self.X @ coef - float(intercept)

    def losses(self, coef, intercept=0.0):
        """Per-sample losses ``0.5 (y_i - x_i.w - b)^2``, shape (n_samples,)."""
        r = self.residuals(coef, intercept)
        return 0.5 * r * r

    def weighted_objective(self, coef, intercept, v):
        """Weighted convex subproblem value at fixed ``v``.

        ``(1/S) sum s_i v_i l_i + alpha ||w||_1``.
        """
        v = _check_v(v, self.n_samples)
        loss = self.losses(coef, intercept)
        return float(
            np.dot(self.sample_weight * v, loss) / self.S
            + self.alpha * np.abs(self._coef(coef)).sum()
        )

    def objective(self, coef, intercept, v, age, regularizer):
        """Biconvex objective ``(1/S) sum s_i [v_i l_i + f(v_i, age)] + alpha ||w||_1``.

        Parameters
        ----------
        coef : array-like of shape (n_features,)
        intercept : float
        v : array-like of shape (n_samples,)
            Self-paced weights in [0, 1].
        age : float
        regularizer : Regularizer or str

        Returns
        -------
        float
        """
        from gaga.regularizers import get_regularizer

        reg = get_regularizer(regularizer)
        reg.check_age(age)
        v = _check_v(v, self.n_samples)
        f = np.asarray(reg.value(v, age), dtype=np.float64)
        return self.weighted_objective(coef, intercept, v) + float(
            np.dot(self.sample_weight, f) / self.S
        )

    def latent_objective(self, coef, intercept, age, regularizer):
        """Latent objective ``(1/S) sum s_i F(l_i, age) + alpha ||w||_1``.

        ``F(l, age) = min_v v l + f(v, age)``: the biconvex objective minimized over
        ``v``.
        """
        from gaga.regularizers import get_regularizer

        reg = get_regularizer(regularizer)
        reg.check_age(age)
        F = np.asarray(reg.latent(self.losses(coef, intercept), age), dtype=np.float64)
        return float(
            np.dot(self.sample_weight, F) / self.S
            + self.alpha * np.abs(self._coef(coef)).sum()
        )

    def solve_weighted(
        self,
        v,
        coef_init=None,
        intercept_init=None,
        tol=1e-12,
        max_iter=100000,
        tol_kkt=1e-12,
    ):
        """Minimize ``(1/S) sum s_i v_i l_i(w, b) + alpha ||w||_1`` for fixed ``v``.

        Weighted cyclic coordinate descent (numba) on the samples with ``s_i v_i > 0``;
        the intercept is eliminated exactly by centering X and y with the weighted means
        (it equals ``ybar - xbar.w`` at every iterate), so ``intercept_init`` is not
        needed.

        Parameters
        ----------
        v : array-like of shape (n_samples,)
            Self-paced weights in [0, 1]; samples with ``v_i = 0`` are ignored.
        coef_init : array-like of shape (n_features,), default=None
            Warm start (zeros when None).
        intercept_init : float, default=None
            Accepted for symmetry; unused (the intercept is exact at every iterate).
        tol : float, default=1e-12
            Stop when the duality gap is at most ``tol * scale`` where
            ``scale = (1/(2S)) sum_i s_i v_i (y_i - ybar)^2`` (the value at ``w = 0``)
            ...
        max_iter : int, default=100000
            Maximum number of epochs.
        tol_kkt : float, default=1e-12
            ... and the largest KKT violation ``|c_j - alpha sign(w_j)|`` /
            ``(|c_j| - alpha)_+`` (``c_j = (1/S) sum_i s_i v_i r_i x_ij``) is at most
            ``tol_kkt * max(alpha, max_j |c_j(w=0)|)``. The gap alone controls ``w``
            only to about ``sqrt(gap)``; the KKT test makes the stationarity residual
            small too.

        Returns
        -------
        coef : ndarray of shape (n_features,)
        intercept : float
        info : dict
            ``n_iter``, ``gap`` (absolute), ``rel_gap``, ``kkt`` (largest violation),
            ``converged``.
        """
        v = _check_v(v, self.n_samples)
        u, mask = effective_weights(self.sample_weight, v)
        rows = np.flatnonzero(mask)
        wt = u[rows] / self.S
        if self.fit_intercept:
            xbar, ybar = weighted_means(self.X, rows, self.y, wt)
        else:
            xbar, ybar = np.zeros(self.n_features), 0.0
        if coef_init is None:
            coef = np.zeros(self.n_features)
        else:
            coef = self._coef(coef_init).copy()
        m, d = rows.size, self.n_features
        # CD on the data first; when that needs more than a few epochs and the data are
        # tall, CD on the Gram matrix (O(d^2) per epoch instead of O(m d))
        gram = m >= 4 * d and d <= _GRAM_MAX_D and max_iter > _GRAM_AFTER
        n_iter, gap, scale, kkt, converged = weighted_lasso_cd(
            self._X_transposed(),
            rows,
            xbar,
            self.y,
            ybar,
            wt,
            self.alpha,
            coef,
            float(tol),
            float(tol_kkt),
            int(min(max_iter, _GRAM_AFTER) if gram else max_iter),
            10,
        )
        if gram and not converged:
            Xc = self.X[rows] - xbar
            yc = self.y[rows] - ybar
            Xw = Xc * wt[:, None]
            it2, gap, scale, kkt, converged = weighted_lasso_cd_gram(
                Xc.T @ Xw,
                Xw.T @ yc,
                float(yc @ (wt * yc)),
                self.alpha,
                coef,
                float(tol),
                float(tol_kkt),
                int(max_iter - n_iter),
                10,
            )
            n_iter += it2
        intercept = float(ybar - xbar @ coef) if self.fit_intercept else 0.0
        info = {
            "n_iter": int(n_iter),
            "gap": float(gap),
            "rel_gap": float(gap / scale),
            "kkt": float(kkt),
            "converged": bool(converged),
        }
        return coef, intercept, info

    def __repr__(self):
        return (
            f"LassoProblem(n_samples={self.n_samples}, n_features={self.n_features}, "
            f"alpha={self.alpha!r}, fit_intercept={self.fit_intercept})"
        )


# --------------------------------------------------------------------------------------
# SVM

_KERNELS = ("linear", "rbf", "poly", "sigmoid", "precomputed")


_FREE_STEP_MAX = 600  # largest free set solved directly (O(k^3) against SMO's O(k n))
_POLISH_EVERY = 50  # SMO pair updates between two Newton steps on the free set
# Newton steps on free sets of up to _POLISH_FREE samples between SMO chunks; a
# larger free set (the start after a kick) is first shrunk by SMO, until SMO has spent
# in this solve about what the step costs: an LU of a free set of f samples, O(f^3),
# takes about as long as _POLISH_PAIRS (f / _POLISH_FREE)^3 (2000 / n) SMO pair
# updates, O(n) each (at n = 2000: an LU of order 200, 0.3 ms, against 5 us per pair
# update). So a solve never spends much more than twice the cheaper of the two (ski
# rental). A fixed limit of 400 instead of 200 made credit_data 2000 linear 8 %
# faster and spam7 linear 7 % slower; this rule takes 0.83 to 1.02 of the time of the
# limit 200 and 0.91 to 1.03 of that of 400 (benchmarks/README, session 11).
_POLISH_FREE = 200
_POLISH_PAIRS = 60


def _polish_limit(n_iter, n):
    """Largest free set of the Newton step after ``n_iter`` SMO pair updates of one
    solve on ``n`` samples."""
    spent = n_iter * n / (_POLISH_PAIRS * 2000.0)
    f = int(_POLISH_FREE * spent ** (1.0 / 3.0))
    return min(max(_POLISH_FREE, f), _FREE_STEP_MAX)


_WARM_HISTORY = 48  # solutions of solve_weighted kept to recognise warm starts
# gradients of warm starts updated from the last cached Q a in a row before one is
# computed from scratch again (bounds the accumulated rounding)
_QA_CHAIN = 32


def _free_saddle(Q, y, F):
    """The saddle matrix [[Q_FF, y_F], [y_F^T, 0]] of the dual on a free set F."""
    k = F.shape[0]
    A = np.empty((k + 1, k + 1))
    gather_block(Q, F, A)
    A[:k, k] = A[k, :k] = y[F]
    A[k, k] = 0.0
    return A


def _lu_nonsingular(A, overwrite=False):
    """LAPACK's LU factors (lu, piv) of a square A, or None when it is numerically
    singular (a pivot below 1e-13 of the largest, or an exact zero)."""
    lu, piv, info = dgetrf(A, overwrite_a=overwrite)
    d = np.abs(np.diag(lu))
    if info != 0 or not d.min() > 1e-13 * max(1.0, d.max()):
        return None
    return lu, piv


# null steps on a singular free set take an SVD of its saddle matrix (about ten times
# an LU of its order), for free sets up to _NULL_FREE_MAX samples whose saddle matrix
# has a null space of at most _NULL_DIM_MAX dimensions: free sets a little above the
# kernel's rank (credit_data, linear kernel: 23 samples at rank 22; cells: rank 57).
# SMO's iterates on a degenerate optimal face can have far more (100 to 180 free
# samples at rank 20 on mlc_churn, linear kernel): null steps there cycled near the
# optimum (benchmarks/README, session 14), SMO alone shrinks such sets. At most
# _NULL_ROUNDS SVDs per call
_NULL_FREE_MAX = 200
_NULL_DIM_MAX = 8
_NULL_ROUNDS = 3


def _null_steps(Q, y, Cb, a, G, F, A):
    """Shrink the free set F of a feasible ``a`` along the null space of its singular
    saddle matrix ``A`` = [[Q_FF, y_F], [y_F^T, 0]] (in place; ``G`` updated).

    Along a null direction (d_F, d_b) of A (Q_FF d_F + y_F d_b = 0, y_F^T d_F = 0)
    the dual objective changes linearly, by t G_F^T d_F (d_F^T Q_FF d_F = -d_b y_F^T
    d_F = 0), so the point moves the way it does not rise, to the first bound: the
    sample that reaches it leaves F, and the null vectors with a zero there span the
    null space that remains (Gaussian elimination of its row, pivoted). The slopes
    of the other directions do not change along the way (G_F moves by -t d_b y_F,
    orthogonal to them). A low-rank kernel (linear: many more free samples than d +
    1 on a degenerate optimal face) or twin samples make A singular; the Newton step
    on the free set is then undefined and SMO alone creeps (millions of pair updates
    on mlc_churn and credit_data with the linear kernel). Returns True when ``a``
    moved (False also for a free set above ``_NULL_FREE_MAX`` samples or a null
    space above ``_NULL_DIM_MAX`` dimensions)."""
    k = F.shape[0]
    if k > _NULL_FREE_MAX:
        return False
    try:
        _, s, Vt = np.linalg.svd(A)
    except np.linalg.LinAlgError:
        return False
    if not np.all(np.isfinite(s)):
        return False
    null = s <= 1e-12 * max(1.0, s[0])
    if int(null.sum()) > _NULL_DIM_MAX:
        return False
    N = Vt[null].T[:k].copy()  # null directions on a_F
    aF, cF = a[F].copy(), Cb[F]
    g = G[F]
    alive = np.ones(k, dtype=bool)
    moved = False
    while N.shape[1]:
        d = N[:, 0].copy()
        d[~alive] = 0.0
        scale = float(np.max(np.abs(d)))
        if not scale > 1e-12 * max(1.0, float(np.max(np.abs(N)))):
            N = N[:, 1:]
            continue
        d /= scale
        if float(g @ d) > 0.0:
            d = -d
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(d < 0.0, aF / -d, np.where(d > 0.0, (cF - aF) / d, np.inf))
        room[~alive] = np.inf
        j = int(np.argmin(room))
        t = float(room[j])
        if not np.isfinite(t):
            return moved  # unbounded both ways: cannot happen in a box
        aF = np.clip(aF + t * d, 0.0, cF)
        aF[j] = 0.0 if d[j] < 0.0 else cF[j]
        alive[j] = False
        moved = True
        # the null directions that remain: those with no component at j
        p = int(np.argmax(np.abs(N[j])))
        if N[j, p] != 0.0:
            N = N - np.outer(N[:, p], N[j] / N[j, p])
        N = np.delete(N, p, axis=1)
    if moved:
        delta = aF - a[F]
        a[F] = aF
        dG = np.empty(a.shape[0])
        rows_matvec(Q, F, np.ascontiguousarray(delta), dG)
        G += dG
    return moved


def _free_set_polish(Q, y, Cb, a, G, max_free=_FREE_STEP_MAX):
    """One Newton step of the SVM dual on the free set of a feasible ``a`` (in place).

    With the samples at a bound of their box fixed, the equality-constrained QP on the
    free set F (0 < a_i < Cb_i) is solved exactly: [[Q_FF, y_F], [y_F^T, 0]] (d_F, b) =
    (-G_F, 0) with the gradient ``G = Q a - 1`` gives the step d_F. The step towards
    it is cut at the box (ratio test), so the result is feasible (and solves the dual
    when the bounds were right); ``G`` is updated by the moved rows of Q. Where that
    matrix is singular, null steps (:func:`_null_steps`) first shrink the free set
    until it is not. Nothing moves when the system stays singular or the step does not
    lower the dual objective (False) or the free set is empty or larger than
    ``max_free`` (None, nothing tried). Returns True when ``a`` moved.
    """
    moved = False
    for _ in range(_NULL_ROUNDS + 1):
        F = np.flatnonzero((a > 0.0) & (a < Cb))
        k = F.shape[0]
        if k == 0 or k > max_free:
            return True if moved else None
        A = _free_saddle(Q, y, F)
        lu = _lu_nonsingular(A)
        if lu is not None:
            break
        if not _null_steps(Q, y, Cb, a, G, F, A):
            return moved
        moved = True
    else:
        return moved
    rhs = np.zeros(k + 1)
    rhs[:k] = -G[F]
    sol, _ = dgetrs(lu[0], lu[1], rhs)
    if not np.all(np.isfinite(sol)):
        return moved
    d = sol[:k]
    aF, cF = a[F], Cb[F]
    t = 1.0
    neg, pos = d < 0.0, d > 0.0
    if np.any(neg):
        t = min(t, float(np.min(aF[neg] / -d[neg])))
    if np.any(pos):
        t = min(t, float(np.min((cF[pos] - aF[pos]) / d[pos])))
    if not t > 0.0:
        return moved
    new = np.clip(aF + t * d, 0.0, cF)
    delta = new - aF
    # the change of the dual objective 0.5 a^T Q a - sum a along the step
    change = float(G[F] @ delta + 0.5 * delta @ (A[:k, :k] @ delta))
    if not change < 0.0:
        return moved
    a[F] = new
    dG = np.empty(a.shape[0])
    rows_matvec(Q, F, np.ascontiguousarray(delta), dG)
    G += dG
    return True


# pair updates of one weighted solve after which a linear kernel's solve checks once
# whether the constant classifier (w = 0) is its optimum (:func:`_constant_optimum`),
# in units of n: SMO creeps towards w = 0 there (mlc_churn)
_CONSTANT_CHECK_PAIRS = 20


def _constant_optimum(X, y, Cb):
    """Dual point (a, b) of the weighted linear SVM (boxes ``Cb``, labels ``y`` in
    {-1, +1}) when its optimum is the constant classifier w = 0, else None.

    With w = 0 and b = the label of the class with the larger total weight (strictly
    larger), the other class has margin -1 (hinge loss 2, a_i = Cb_i) and the larger
    class margin 1 (on the margin, 0 <= a_i <= Cb_i). That point is optimal iff some
    such a has ``y^T a = 0`` and ``sum a_i y_i x_i = 0`` (then the dual value
    ``sum a - 0`` equals the primal value ``2 sum_other Cb``): a feasibility linear
    program with d + 1 equations, whose vertex (HiGHS dual simplex) has at most d + 1
    multipliers strictly inside their box, so that the weighted solver's Newton step on
    its free set finishes it. On imbalanced data the linear SVM can be this classifier
    for every C (the condition scales with C): its multipliers then form a polytope of
    high dimension with every sample of the larger class on the margin, where SMO (ours
    and libsvm's) creeps towards w = 0 for minutes."""
    from scipy.optimize import linprog

    tot_p = float(Cb[y > 0].sum())
    tot_n = float(Cb[y < 0].sum())
    if tot_p == tot_n:
        return None  # b is not unique there; SMO decides
    big = 1.0 if tot_p > tot_n else -1.0
    on = np.flatnonzero((y == big) & (Cb > 0.0))
    other = np.flatnonzero((y != big) & (Cb > 0.0))
    A_eq = np.vstack([X[on].T, np.ones(on.shape[0])])
    b_eq = np.append(Cb[other] @ X[other], Cb[other].sum())
    res = linprog(
        np.zeros(on.shape[0]),
        A_eq=A_eq,
        b_eq=b_eq,
        bounds=np.column_stack([np.zeros(on.shape[0]), Cb[on]]),
        method="highs-ds",
    )
    if res.status != 0:
        return None
    a = np.zeros(y.shape[0])
    a[other] = Cb[other]
    a[on] = np.clip(res.x, 0.0, Cb[on])
    return a, big


class SVMProblem:
    r"""Self-paced binary SVM problem (hinge loss, intercept, any SVC kernel).

    The biconvex objective at age ``age`` with regularizer ``f`` is

    .. math::

        \tfrac12\|w\|^2 + C\sum_i s_i\,[v_i \ell_i + f(v_i, \mathrm{age})],\qquad
        \ell_i = \max(0, 1 - y_i f(x_i)),

    so that ``v = 1`` gives ``SVC(C=C, kernel=kernel, ...)`` exactly. Candidates are
    given in the dual: ``a`` of shape (n_samples,) with ``0 <= a_i <= C s_i v_i``, ``y^T
    a = 0`` and ``f(x) = sum_j a_j y_j K(x_j, x) + b`` (``0.5 ||w||^2 = 0.5 a^T Q a``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
        Training data, or the training kernel matrix when ``kernel="precomputed"`` (must
        be symmetric positive semidefinite).
    y : array-like of shape (n_samples,)
        Labels taking exactly two distinct values; the second in sorted order is the
        positive class (as in scikit-learn).
    C : float, default=1.0
        > 0.
    kernel : {"linear", "rbf", "poly", "sigmoid", "precomputed"}, default="rbf"
    gamma : {"scale", "auto"} or float, default="scale"
        ``"scale"`` is ``1 / (n_features * X.var())`` (1 if the variance is zero),
        ``"auto"`` is ``1 / n_features``.
    degree : int, default=3
    coef0 : float, default=0.0
    sample_weight : array-like of shape (n_samples,), default=None
        Nonnegative sample weights ``s_i``, not all zero.

    Attributes
    ----------
    X : ndarray
    classes_ : ndarray of shape (2,)
    y_pm : ndarray of shape (n_samples,)
        Labels in {-1, +1}.
    K : ndarray of shape (n_samples, n_samples)
        Training kernel matrix, computed once (memory: n_samples**2 float64 values).
    Q : ndarray of shape (n_samples, n_samples)
        ``y_pm y_pm^T * K`` (another n_samples**2 values).
    gamma_ : float
        Numeric gamma used by the kernel.
    C : float
    sample_weight : ndarray of shape (n_samples,)
    n_samples, n_features : int

    Notes
    -----
    The sigmoid kernel is not positive semidefinite in general; the SMO solver handles
    it as libsvm does, but the cvxpy verification of :mod:`gaga.verify` assumes a PSD
    kernel.
    """

    kind = "svm"

    def __init__(
        self,
        X,
        y,
        *,
        C=1.0,
        kernel="rbf",
        gamma="scale",
        degree=3,
        coef0=0.0,
        sample_weight=None,
    ):
        X = _check_X(X)
        if sp.issparse(y):
            raise TypeError("Sparse y is not supported; pass a dense 1-d array.")
        y = np.asarray(y)
        _check_lengths(X, y)
        if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinite values; y must be finite.")
        classes = np.unique(y)
        if classes.shape[0] != 2:
            raise ValueError(
                "y must contain exactly 2 classes for the binary SVM; got "
                f"{classes.shape[0]} "
                f"class(es): {classes[:10].tolist()!r}."
            )
        self.classes_ = classes
        self.y_pm = np.where(y == classes[1], 1.0, -1.0)
        self.y = self.y_pm
        self.C = _check_positive(C, "C")
        if kernel not in _KERNELS:
            raise ValueError(
                f"kernel must be one of {_KERNELS}; got kernel={kernel!r}."
            )
        self.kernel_name = kernel
        if (
            isinstance(degree, bool)
            or not isinstance(degree, numbers.Integral)
            or degree < 0
        ):
            raise ValueError(
                f"degree must be a nonnegative integer; got degree={degree!r}."
            )
        self.degree = int(degree)
        if (
            isinstance(coef0, bool)
            or not isinstance(coef0, numbers.Real)
            or not np.isfinite(coef0)
        ):
            raise ValueError(f"coef0 must be a finite number; got coef0={coef0!r}.")
        self.coef0 = float(coef0)
        self.gamma = gamma
        self.X = X
        self.n_samples = X.shape[0]
        self.sample_weight = _check_sample_weight(sample_weight, self.n_samples)
        if kernel == "precomputed":
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    "X must be a square kernel matrix for kernel='precomputed'; got "
                    "shape "
                    f"{X.shape}."
                )
            if not np.allclose(X, X.T, rtol=1e-10, atol=1e-12 * np.abs(X).max()):
                raise ValueError("X must be symmetric for kernel='precomputed'.")
            scale = np.abs(X).max()
            lam_min = float(np.linalg.eigvalsh(0.5 * (X + X.T))[0])
            if lam_min < -_PSD_RTOL * scale:
                raise ValueError(
                    "X must be positive semidefinite for kernel='precomputed'; its "
                    "smallest "
                    f"eigenvalue is {lam_min:.3e} < -{_PSD_RTOL:g} * max|K| = "
                    f"{-_PSD_RTOL * scale:.3e}."
                )
            self.n_features = X.shape[1]
            self.gamma_ = np.nan
        else:
            self.n_features = X.shape[1]
            if isinstance(gamma, str):
                if gamma == "scale":
                    var = X.var()
                    self.gamma_ = 1.0 / (self.n_features * var) if var != 0 else 1.0
                elif gamma == "auto":
                    self.gamma_ = 1.0 / self.n_features
                else:
                    raise ValueError(
                        "gamma must be 'scale', 'auto' or a positive float; got "
                        f"gamma={gamma!r}."
                    )
            else:
                self.gamma_ = _check_positive(gamma, "gamma")
        self.K = np.ascontiguousarray(
            self.kernel(X) if kernel != "precomputed" else X.copy()
        )
        self.Q = np.ascontiguousarray(self.y_pm[:, None] * self.y_pm[None, :] * self.K)

    # -- kernel
    # ------------------------------------------------------------------------------
    def kernel(self, A, B=None):
        """Kernel matrix between the rows of ``A`` and the training data (or ``B``).

        Parameters
        ----------
        A : array-like of shape (n_a, n_features)
            New data. For ``kernel="precomputed"``, ``A`` must already be the kernel
            between the new data and the training data, shape (n_a, n_samples), and is
            returned.
        B : array-like of shape (n_b, n_features), default=None
            Training data when None.

        Returns
        -------
        ndarray of shape (n_a, n_b)
        """
        A = _check_X(A, "A")
        if self.kernel_name == "precomputed":
            if B is not None or A.shape[1] != self.n_samples:
                raise ValueError(
                    "With kernel='precomputed', pass the kernel against the training "
                    "data, "
                    f"shape (n, {self.n_samples}); got shape {A.shape}."
                )
            return A
        B = self.X if B is None else _check_X(B, "B")
        if A.shape[1] != B.shape[1]:
            raise ValueError(f"A has {A.shape[1]} features; expected {B.shape[1]}.")
        G = A @ B.T
        if self.kernel_name == "linear":
            return G
        if self.kernel_name == "rbf":
            sqa = np.einsum("ij,ij->i", A, A)
            sqb = np.einsum("ij,ij->i", B, B)
            D = sqa[:, None] + sqb[None, :] - 2.0 * G
            np.maximum(D, 0.0, out=D)
            return np.exp(-self.gamma_ * D)
        if self.kernel_name == "poly":
            return (self.gamma_ * G + self.coef0) ** self.degree
        return np.tanh(self.gamma_ * G + self.coef0)

    # -- candidate helpers
    # ---------------------------------------------------------------------
    def _a(self, a, name="a"):
        a = np.asarray(a, dtype=np.float64).ravel()
        if a.shape != (self.n_samples,):
            raise ValueError(
                f"{name} has shape {a.shape}; expected ({self.n_samples},)."
            )
        return a

    def decision_function(self, X, a, b):
        """Decision values ``sum_j a_j y_j K(x_j, x) + b`` for new data, shape (n,)."""
        return self.kernel(X) @ (self._a(a) * self.y_pm) + float(b)

    def predict(self, X, a, b):
        """Predicted labels (``classes_[1]`` where the decision value is > 0)."""
        return np.where(self.decision_function(X, a, b) > 0, *self.classes_[::-1])

    def decision_function_train(self, a, b):
        """Decision values on the training data, shape (n_samples,)."""
        return self.K @ (self._a(a) * self.y_pm) + float(b)

    def coef(self, a):
        """Primal weights ``w = sum_i a_i y_i x_i`` (linear kernel only).

        Returns an array of shape (n_features,).
        """
        if self.kernel_name != "linear":
            raise ValueError(
                "coef is only defined for kernel='linear'; got "
                f"kernel={self.kernel_name!r}."
            )
        return (self._a(a) * self.y_pm) @ self.X

    def margins(self, a, b):
        """Margins ``y_i f(x_i) = (Q a)_i + y_i b``, shape (n_samples,)."""
        a = self._a(a)
        cached = getattr(self, "_Qa_cache", None)
        if cached is not None and np.array_equal(cached[0], a):
            # Q a of the last weighted solution (from the solver's gradient) or of the
            # last call (alternate convex search asks for the same point again)
            return cached[1] + self.y_pm * float(b)
        sym = getattr(self, "_Q_symmetric", None)
        if sym is None:
            # computed kernels are exactly symmetric; a precomputed one up to 1e-10
            sym = self._Q_symmetric = bool(np.array_equal(self.Q, self.Q.T))
        if sym and np.count_nonzero(a) < 0.6 * a.shape[0]:
            out = np.empty(a.shape[0])
            sym_matvec(self.Q, np.ascontiguousarray(a), out)
        else:
            out = self.Q @ a
        self._Qa_cache = (a.copy(), out, 0)
        return out + self.y_pm * float(b)

    def losses(self, a, b):
        """Hinge losses ``max(0, 1 - y_i f(x_i))``, shape (n_samples,)."""
        return np.maximum(0.0, 1.0 - self.margins(a, b))

    def primal_objective(self, a, b, v):
        """Weighted SVM primal value at fixed ``v``.

        ``0.5 a^T Q a + C sum s_i v_i hinge_i``.
        """
        a = self._a(a)
        v = _check_v(v, self.n_samples)
        return float(
            0.5 * a @ (self.Q @ a)
            + self.C * np.dot(self.sample_weight * v, self.losses(a, b))
        )

    def dual_objective(self, a):
        """Dual value ``sum a_i - 0.5 a^T Q a``.

        A lower bound of the primal optimum when ``a`` is feasible.
        """
        a = self._a(a)
        return float(a.sum() - 0.5 * a @ (self.Q @ a))

    weighted_objective = primal_objective

    def objective(self, a, b, v, age, regularizer):
        """Biconvex objective ``0.5 ||w||^2 + C sum s_i [v_i l_i + f(v_i, age)]``."""
        from gaga.regularizers import get_regularizer

        reg = get_regularizer(regularizer)
        reg.check_age(age)
        v = _check_v(v, self.n_samples)
        f = np.asarray(reg.value(v, age), dtype=np.float64)
        return self.primal_objective(a, b, v) + self.C * float(
            np.dot(self.sample_weight, f)
        )

    def latent_objective(self, a, b, age, regularizer):
        """Latent objective ``0.5 a^T Q a + C sum s_i F(l_i, age)``."""
        from gaga.regularizers import get_regularizer

        reg = get_regularizer(regularizer)
        reg.check_age(age)
        a = self._a(a)
        F = np.asarray(reg.latent(self.losses(a, b), age), dtype=np.float64)
        return float(0.5 * a @ (self.Q @ a) + self.C * np.dot(self.sample_weight, F))

    def box(self, v):
        """Upper bounds ``C s_i v_i`` of the dual variables, shape (n_samples,)."""
        return self.C * self.sample_weight * _check_v(v, self.n_samples)

    def _warm_start(self, a_init, Cb_full, mask, ym):
        """Feasible start on the samples in ``mask`` from ``a_init`` (full length).

        When ``a_init`` is one of the last solutions of :meth:`solve_weighted`
        (alternate convex search), its samples at their upper bound follow the new bound
        (a middle sample's a_i = C s_i v_i moves with v_i). The start is clipped to the
        box and ``y^T a = 0`` restored on the samples strictly inside their box,
        proportionally to their room (all samples when they have too little), so the
        other multipliers are kept: SMO then repairs only what the new box changed.
        """
        a_full = np.array(a_init, dtype=np.float64)
        for last in getattr(self, "_last_solves", ()):
            if np.array_equal(last[0], a_full):
                old_cb = last[1]
                up = (a_full >= old_cb) & (old_cb > 0.0)
                a_full[up] = Cb_full[up]
                break
        Cb = Cb_full[mask]
        a = np.clip(a_full[mask], 0.0, Cb)
        pos = ym > 0
        r = float(a[pos].sum() - a[~pos].sum())
        if r != 0.0:
            # r > 0: lower positive or raise negative multipliers (r < 0: the reverse)
            down = pos if r > 0 else ~pos
            room = np.where(down, a, Cb - a)
            free = (a > 0.0) & (a < Cb)
            for sel in (free, np.ones_like(free)):
                total = float(room[sel].sum())
                if total >= abs(r) * (1.0 + 1e-12):
                    step = np.where(sel, room, 0.0) * (abs(r) / total)
                    a = np.where(down, a - step, a + step)
                    a = np.clip(a, 0.0, Cb)
                    break
            r2 = float(a[pos].sum() - a[~pos].sum())
            if abs(r2) > 1e-13 * max(1.0, float(a.sum())):
                # fall back to scaling the class with the larger sum
                psum, nsum = float(a[pos].sum()), float(a[~pos].sum())
                if psum > nsum:
                    a[pos] *= nsum / psum
                elif nsum > psum:
                    a[~pos] *= psum / nsum
        return np.ascontiguousarray(a)

    def _gradient(self, a, warm):
        """Gradient ``Q a - 1`` of the dual at a start ``a``: for a warm start from the
        last cached point (alternate convex search: a_i changes only where the box
        did, or v = 1 samples stay at C s_i) by the rows of Q where ``a`` differs from
        it, else (or after ``_QA_CHAIN`` such updates in a row) from all nonzero
        ``a_i``. Returns (G, updates in a row that led to it)."""
        cached = getattr(self, "_Qa_cache", None)
        if warm and cached is not None and cached[2] < _QA_CHAIN:
            d = a - cached[0]
            nz = np.flatnonzero(d)
            if nz.shape[0] < 0.75 * np.count_nonzero(a):
                G = np.empty(a.shape[0])
                rows_matvec(self.Q, nz, np.ascontiguousarray(d[nz]), G)
                G += cached[1]
                G -= 1.0
                return G, cached[2] + 1
        return smo_gradient(self.Q, a), 0

    def _acs_step(self, a_init, Cb):
        """Start of a weighted solve from the last solution ``a_init`` (alternate
        convex search: only the box moved), or None when it does not apply.

        The samples at their upper bound follow the new box, those at 0 stay there and
        the free set F of the last solution is solved exactly with them: [[Q_FF, y_F],
        [y_F^T, 0]] (da_F, db) = (-Q_FU da_U, -y_U^T da_U), the matrix factored once
        per free set (kept while ACS keeps it). The gradient follows from the last
        solution's ``Q a`` by the moved rows: O(n (|U| + |F|)) in all, against the warm
        start's gradient from scratch and its Newton step on the free set. None when
        ``a_init`` is not the last solution, its ``Q a`` was updated
        ``_QA_CHAIN`` times in a row, a free sample's box closes, or the step leaves
        the box: the warm start decides then. SMO checks the result (usually no pair
        update). Returns (a, G = Q a - 1, updates in a row that led to G)."""
        last = getattr(self, "_last_solves", None)
        cached = getattr(self, "_Qa_cache", None)
        if not last or cached is None or cached[2] >= _QA_CHAIN:
            return None
        a_p, Cb_p = last[0]
        a_init = np.asarray(a_init, dtype=np.float64)
        if not (np.array_equal(a_init, a_p) and np.array_equal(cached[0], a_p)):
            return None
        F = np.flatnonzero((a_p > 0.0) & (a_p < Cb_p))
        k = F.shape[0]
        if k == 0 or k > _FREE_STEP_MAX or not np.all(Cb[F] > 0.0):
            return None
        U = np.flatnonzero((a_p >= Cb_p) & (Cb_p > 0.0))
        dU = Cb[U] - a_p[U]
        moved = dU != 0.0
        Um, dUm = U[moved], np.ascontiguousarray(dU[moved])
        Q, y = self.Q, self.y_pm
        z = np.empty(a_p.shape[0])
        rows_matvec(Q, Um, dUm, z)
        lu = self._free_lu(F)
        if lu is None:
            return None
        rhs = np.empty(k + 1)
        rhs[:k] = -z[F]
        rhs[k] = -float(y[Um] @ dUm)
        sol, _ = dgetrs(lu[0], lu[1], rhs)
        aF = a_p[F] + sol[:k]
        if not (np.all(aF > 0.0) and np.all(aF < Cb[F])):
            return None
        a = a_p.copy()
        a[U] = Cb[U]
        a[F] = aF
        w = np.empty(a_p.shape[0])
        rows_matvec(Q, F, np.ascontiguousarray(sol[:k]), w)
        G = cached[1] + z
        G += w
        G -= 1.0
        return a, G, cached[2] + 1

    def _free_lu(self, F):
        """LU factors of the saddle matrix [[Q_FF, y_F], [y_F^T, 0]] of a free set
        (the last one kept), or None when it is numerically singular."""
        key = F.tobytes()
        hit = getattr(self, "_free_lu_last", None)
        if hit is not None and hit[0] == key:
            return hit[1]
        A = _free_saddle(self.Q, self.y_pm, F)
        # (LAPACK directly: scipy's lu_factor warns on an exactly singular matrix,
        # which twin samples give)
        lu = _lu_nonsingular(A, overwrite=True)
        self._free_lu_last = (key, lu)
        return lu

    def solve_weighted(self, v, a_init=None, tol=1e-10, max_iter=None):
        """Solve the weighted SVM at fixed ``v`` in the dual with our SMO solver.

        Minimizes ``0.5 a^T Q a - sum a`` over ``0 <= a_i <= C s_i v_i``, ``y^T a = 0``
        (libsvm's algorithm: second-order working-set selection, stopping when the
        maximal violating pair violates by less than ``tol``). Samples with ``v_i = 0``
        have a zero-width box: they are fixed at ``a_i = 0`` and left out, as ``SVC``
        drops zero-weight rows. The result equals
        ``SVC(C, kernel, ..., tol=tol).fit(X[v > 0], y[v > 0], sample_weight=(s * v)[v >
        0])``.

        Parameters
        ----------
        v : array-like of shape (n_samples,)
            Self-paced weights in [0, 1].
        a_init : array-like of shape (n_samples,), default=None
            Warm start; clipped to the new box and then made to satisfy ``y^T a = 0`` by
            scaling down the class with the larger sum (which keeps it in the box).
        tol : float, default=1e-10
        max_iter : int, default=None
            Maximum number of pair updates; ``max(10_000_000, 100 * n)`` when None.

        Returns
        -------
        a : ndarray of shape (n_samples,)
        b : float
        info : dict
            ``n_iter``, ``violation`` (final maximal violation), ``converged``.

        Raises
        ------
        ValueError
            If the samples with positive effective weight do not contain both classes.
        """
        v = _check_v(v, self.n_samples)
        Cb_full = self.C * self.sample_weight * v
        mask = Cb_full > 0
        ym = self.y_pm[mask]
        if not (np.any(ym > 0) and np.any(ym < 0)):
            raise OneClassError(
                "The samples with positive weight sample_weight * v must contain both "
                "classes; "
                f"got {int(np.sum(ym > 0))} positive and {int(np.sum(ym < 0))} "
                "negative."
            )
        # SMO runs on all samples: a zero-width box (v_i = 0) is never selected and
        # plays no role in the intercept, so the iterates are those on the samples in
        # (no copy of their block of Q), and the gradient gives every margin
        Cb = np.ascontiguousarray(Cb_full)
        if max_iter is None:
            max_iter = max(10_000_000, 100 * self.n_samples)
        Q, y = self.Q, self.y_pm
        got = None if a_init is None else self._acs_step(a_init, Cb)
        if got is not None:
            a, G, chain = got
        else:
            a = np.zeros(self.n_samples)
            if a_init is not None:
                a_init = self._a(a_init, "a_init")
                a[mask] = self._warm_start(a_init, Cb_full, mask, ym)
            G, chain = self._gradient(a, a_init is not None)
            if a_init is not None:
                # a warm start: one Newton step on the free set before SMO
                _free_set_polish(Q, y, Cb, a, G)
        # SMO in chunks, each followed by a Newton step on its free set: SMO finds the
        # bounds, the step converges on the coupled free set at once (where SMO alone
        # creeps, hundreds of pair updates after a kick or a change of the bounds)
        n_iter = 0
        chunk = _POLISH_EVERY
        check_at = (
            _CONSTANT_CHECK_PAIRS * self.n_samples
            if self.kernel_name == "linear"
            else max_iter
        )
        while True:
            b, it, violation, converged = smo_core(
                Q, y, Cb, a, G, float(tol), int(min(chunk, max_iter - n_iter))
            )
            n_iter += it
            if converged or n_iter >= max_iter:
                break
            if n_iter >= check_at:
                check_at = max_iter
                got = None
                # the iterate's primal value below the constant classifier's (2 C s v
                # summed over the lighter class) rules that classifier out: no LP
                qa = G + 1.0
                hinge = np.maximum(0.0, 1.0 - qa - y * b)
                light = min(float(Cb[y > 0].sum()), float(Cb[y < 0].sum()))
                if 0.5 * float(a @ qa) + float(Cb @ hinge) >= 2.0 * light:
                    got = _constant_optimum(self.X, y, Cb)
                if got is not None:
                    # SMO goes on from that vertex (it checks the KKT conditions)
                    a[:] = got[0]
                    G, chain = smo_gradient(Q, a), 0
                    _free_set_polish(Q, y, Cb, a, G)
                    continue
            # a large free set (the start after a kick) is first shrunk by SMO
            limit = _polish_limit(n_iter, self.n_samples)
            if _free_set_polish(Q, y, Cb, a, G, limit) is False:
                chunk *= 2
        a_full = a
        # Q a at the solution for margins() and the next warm start's gradient
        Qa = G + 1.0
        self._Qa_cache = (a_full.copy(), Qa, chain)
        # the last solutions with their boxes: the warm starts of alternate convex
        # search, also of two runs advancing in alternating chunks (see _warm_start)
        self._last_solves = [(a_full.copy(), Cb_full)] + getattr(
            self, "_last_solves", []
        )[: _WARM_HISTORY - 1]
        info = {
            "n_iter": int(n_iter),
            "violation": float(violation),
            "converged": bool(converged),
        }
        return a_full, float(b), info

    def __repr__(self):
        return (
            f"SVMProblem(n_samples={self.n_samples}, C={self.C!r}, "
            f"kernel={self.kernel_name!r}, gamma={self.gamma!r})"
        )
