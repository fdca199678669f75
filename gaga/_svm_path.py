"""Exact age path of the self-paced binary SVM (GAGA), in the dual with the bias.

Conventions: ``age-path-spec.md`` sections 1, 5-9; details: ``age-path-notes.md``
section 6 (with the package's convention that the loss passed to the regularizer is the
hinge itself, so the notes' ``C`` inside v* and in the ``C^2`` factors is 1, while the
box is ``C s_i v_i``). The problem is

    min_{w, b, v} 0.5 ||w||^2 + C sum_i s_i [v_i max(0, 1 - y_i f(x_i)) + f(v_i, age)].

Partition of the samples (one code per sample): ``outside`` the margin (a_i = 0),
on the ``margin`` (0 < a_i < C s_i, an unknown), and inside the margin or
misclassified, split by the regularizer's regions into ``v=1`` (a_i = C s_i), ``middle``
(a_i = C s_i v*(hinge_i, age), an unknown) and ``v=0`` (a_i = 0: out of the training
set at this age). Samples with zero sample weight have a zero-width box and never move.

Unknowns theta = (a_E, a_M, b) (margin set E, middle set M). With m = Q a + y b,
xi = 1 - m and u_i = dv*/dl(xi_i, age) <= 0 on M:

    G_E = m_E - 1,   G_M = a_M - C s_M v*(xi_M, age),   G_y = y^T a.

Its Jacobian is ``J = diag(1, C s u, 1) K`` with the symmetric matrix

    K = [[Q_EE, Q_EM, y_E], [Q_ME, Q_MM + diag(1 / (C s u)), y_M], [y_E^T, y_M^T, 0]],

which the follower factors: a stable partial optimum is one where K has exactly |E|
positive and |M| + 1 negative eigenvalues (notes 6.3), and the count comes from the
factorization. By Haynsworth's inertia additivity that holds iff Q_EE and -S are
positive definite, S = D - B^T Q_EE^{-1} B the Schur complement of the margin block (B
= [y_E, Q_EM], D the intercept's and middle samples' block). S without the middle
diagonal does not depend on the age or the point, and one sample changing set changes
it by one row or a rank-one term: it is kept per partition (:class:`_SchurState`), and
a factorization is a Cholesky of order |M| + 1 (:class:`_SchurFactor`). Where Q_EE or
-S is not numerically positive definite, a Bunch-Kaufman LDL^T of K decides (the signs
of its D blocks' eigenvalues are the inertia). The kernel matrix is computed once
(``SVMProblem.K`` and ``Q``: 2 n^2 float64 values).
"""

import warnings

import numpy as np
from scipy.linalg import eigh
from scipy.linalg.blas import dtrsv
from scipy.linalg.lapack import dpotrf, dpotrs, dsytrf, dsytrs, dtrtrs
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, eigsh
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from gaga._follower import (
    ETOL,
    _AllExcluded,
    _Partition,
    _SystemBase,
    check_path_args,
    follow_path,
    resolve_age_range,
)
from gaga._lasso_path import _range_from_losses, _weighted_lower_median
from gaga._path import PathEvent
from gaga._spl_kernels import middle_terms
from gaga._svm_dual import gather_block, rows_matvec
from gaga._svm_kernels import (
    IN0,
    IN1,
    INM,
    MARGIN,
    NULL,
    OUT,
    acs_mode_matrix,
    col_margin,
    event_values_off_margin,
    gather_border,
    neg_schur_upper,
    remap_block,
    row_absmax,
    rows_matvec2,
    sym_append,
    sym_rank1,
    sym_swap_remove,
)
from gaga.problems import OneClassError, SVMProblem, ZeroWeightsError
from gaga.regularizers import get_regularizer


def _ldl(K):
    """Bunch-Kaufman LDL^T of a finite symmetric K (explicit workspace: scipy's default
    is unblocked) with the eigenvalues of its D blocks, or None."""
    got = _ldl_info(K)
    return None if got is None else got[:3]


def _ldl_info(K):
    """:func:`_ldl` and LAPACK's ``info`` (> 0: a D block is exactly singular)."""
    K = np.asarray(K)
    if not np.all(np.isfinite(K)):
        return None
    ldu, ipiv, info = dsytrf(K, lower=1, lwork=64 * max(1, K.shape[0]))
    if info < 0:
        return None
    return ldu, ipiv, _block_eigenvalues(ldu, ipiv), info


def _block_eigenvalues(ldu, ipiv):
    """Eigenvalues of the block-diagonal D of a lower Bunch-Kaufman factorization
    (LAPACK ``dsytrf``: ``ipiv[i] < 0`` marks a 2 x 2 block at rows i, i + 1); by
    Sylvester's law of inertia their signs are those of the factored matrix."""
    k = ldu.shape[0]
    diag = np.diag(ldu).copy()
    two = np.flatnonzero((ipiv[:-1] < 0) & (ipiv[:-1] == ipiv[1:]))
    # a 2 x 2 block starts where ipiv is negative and the next entry repeats it; keep
    # only block starts (an index cannot start two blocks in a row)
    starts = []
    last = -2
    for i in two:
        if i > last + 1:
            starts.append(i)
            last = i
    ev = diag
    for i in starts:
        a, b, c = ldu[i, i], ldu[i + 1, i], ldu[i + 1, i + 1]
        tr, det = a + c, a * c - b * b
        disc = np.sqrt(max(0.25 * tr * tr - det, 0.0))
        ev[i], ev[i + 1] = 0.5 * tr + disc, 0.5 * tr - disc
    return ev[:k]


class _Bordered:
    """Solves with the symmetric matrix of any partition from one LDL^T factor of a
    *base* partition's matrix (a bordered system, as in a capacitance-matrix method).

    The matrix of a partition is ``K_T = Kfull[T, T] + diag(d_T)`` over its unknowns T
    (margin and middle samples, then the intercept row) with ``Kfull = [[Q, y], [y^T,
    0]]`` and ``d`` the middle samples' 1 / (C s u). Against the base (B, d_B), the
    samples of T with the same diagonal are *kept*; the others are *added* (A) and the
    base samples not kept are *removed* (R, their unknown fixed at 0 by a multiplier).
    Then

        [[K_B, W], [W^T, C]] (x_B, z) = (r_B, r_A, 0),   W = [Kfull[B, A], e_R],
        C = [[K_AA, 0], [0, 0]],

    is ``K_T x = r`` (x_A = z_A, x_R = 0), solved with the Schur complement
    ``S = C - W^T K_B^{-1} W`` of size |A| + |R| (the columns ``K_B^{-1} W`` are kept
    per sample). A solve costs O(k^2 (1 + new columns) + k p^2 + p^3) instead of the
    O(k^3) factorization. Newton's residual, computed from scratch, is what certifies
    a point, so the solves only have to be accurate enough for Newton to converge."""

    def __init__(self, Q, y, th, diag, key, solve):
        self.Q, self.y = Q, y
        self.th = th.copy()
        self.diag = diag.copy()
        # the base factor (its identity) and x = K_B^{-1} r for r of shape (kB,) or
        # (kB, m)
        self.key, self._solve = key, solve
        self.kB = th.shape[0] + 1
        self.pos = np.full(y.shape[0], -1, dtype=np.intp)
        self.pos[th] = np.arange(th.shape[0])
        self.cols = {}  # key (sample j >= 0, removed base position q: -1 - q) -> (w, z)

    def _columns(self, keys):
        missing = [c for c in keys if c not in self.cols]
        if missing:
            if len(self.cols) + len(missing) > 512:
                self.cols = {}
                missing = list(dict.fromkeys(keys))
            W = np.zeros((self.kB, len(missing)))
            for t, c in enumerate(missing):
                if c >= 0:
                    W[:-1, t] = self.Q[self.th, c]
                    W[-1, t] = self.y[c]
                else:
                    W[-1 - c, t] = 1.0
            Z = self._solve(W)
            for t, c in enumerate(missing):
                self.cols[c] = (W[:, t], Z[:, t])
        W = np.column_stack([self.cols[c][0] for c in keys])
        Z = np.column_stack([self.cols[c][1] for c in keys])
        return W, Z

    def solve(self, th, diag, rhs, pmax):
        """x with K_T x = rhs for the partition (th, diag), or None when it differs
        from the base in more than ``pmax`` rows or the bordered system is
        singular."""
        pos = self.pos[th]
        kept = pos >= 0
        kept[kept] = self.diag[pos[kept]] == diag[kept]
        added = np.flatnonzero(~kept)
        keep_pos = pos[kept]
        in_base = np.zeros(self.kB - 1, dtype=bool)
        in_base[keep_pos] = True
        removed = np.flatnonzero(~in_base)
        na = added.shape[0]
        p = na + removed.shape[0]
        if p > pmax:
            return None
        rB = np.zeros(self.kB)
        rB[keep_pos] = rhs[:-1][kept]
        rB[-1] = rhs[-1]
        y0 = self._solve(rB)
        x = np.empty(th.shape[0] + 1)
        if p == 0:
            x[:-1] = y0[pos]
            x[-1] = y0[-1]
            return x
        sa = th[added]
        W, Z = self._columns([int(j) for j in sa] + [int(-1 - q) for q in removed])
        S = -(W.T @ Z)
        S[:na, :na] += self.Q[np.ix_(sa, sa)]
        S[np.arange(na), np.arange(na)] += diag[added]
        rs = -(W.T @ y0)
        rs[:na] += rhs[:-1][added]
        try:
            z = np.linalg.solve(S, rs)
        except np.linalg.LinAlgError:
            return None
        xB = y0 - Z @ z
        x[:-1][kept] = xB[keep_pos]
        x[:-1][added] = z[:na]
        x[-1] = xB[-1]
        return x


def _ldl_solver(ldu, ipiv):
    """x = K^{-1} r from the Bunch-Kaufman factor of K."""

    def solve(rhs):
        return dsytrs(ldu, ipiv, rhs, lower=1)[0]

    return solve


def _cho_solve(L, b):
    """x = (L L^T)^{-1} b for a lower Cholesky factor L (two BLAS triangular solves
    for one right-hand side: LAPACK's dpotrs is 2 to 3x slower there)."""
    if b.ndim == 1:
        return dtrsv(L, dtrsv(L, b, lower=1), lower=1, trans=1)
    return dpotrs(L, b, lower=1)[0]


# updates of a _SchurState before it is rebuilt (rounding of the rank-one terms)
_SCHUR_UPDATES = 32


def _nearly_singular(aev):
    """The factorization's D values (absolute) have one below 1e-13 of the largest
    finite one (the middle diagonal's -_BIG placeholders left out): K is treated as
    singular, not stable."""
    finite = aev[aev < _BIG / 10]
    dmax = float(finite.max()) if finite.size else 0.0
    return aev.min() <= 1e-13 * max(1.0, dmax)


def _gather_sym(Q, idx):
    """``Q[np.ix_(idx, idx)]`` (a new C-ordered array) from a compiled gather."""
    out = np.empty((idx.shape[0], idx.shape[0]))
    gather_block(Q, idx, out)
    return out


def _chol(A):
    """Lower Cholesky factor of A, or None when A is not numerically positive
    definite (a pivot below 1e-12 of the largest diagonal entry)."""
    if A.shape[0] == 0:
        return None
    L, info = dpotrf(A, lower=1, clean=1)
    if info != 0:
        return None
    d = np.diag(L)
    if not (np.all(np.isfinite(d)) and d.min() ** 2 > 1e-12 * np.max(np.diag(A))):
        return None
    return L


class _SchurState:
    """The Schur complement ``S_A = D_A - B^T Q_EE^{-1} B`` of the margin block of a
    partition's matrix, the middle diagonal left out, with the Cholesky factor L of
    ``Q_EE``; ``B = [y_E, Q_EM]`` and ``D_A = [[0, y_M^T], [y_M, Q_MM]]`` (the
    intercept first).

    The samples are held in the state's own order (``e``, ``m``); S_A lives in a buffer
    with spare rows. One sample changing set costs O(k^2): leaving M moves the last
    row of S_A into its place; joining M appends the row ``D_A[:, j] - B^T Q_EE^{-1}
    B[:, j]``; leaving E adds ``u u^T / g`` (u = B^T Q_EE^{-1} e_q, g = (Q_EE^{-1})_qq)
    and refactors Q_EE (order |E|); joining E subtracts ``c c^T / sigma`` (c the column
    of j in the Schur complement, sigma its pivot) and appends a row to L."""

    def __init__(self, Q, y, e, m, L, SA):
        self.Q, self.y = Q, y
        n = Q.shape[0]
        self.e, self.m = e, m
        self.L = L
        size = m.shape[0] + 1
        cap = max(16, size + size // 4)
        self.buf = np.zeros((cap, cap))
        self.buf[:size, :size] = SA
        self.n_updates = 0
        self.inE = np.zeros(n, dtype=bool)
        self.inE[e] = True
        self.inM = np.zeros(n, dtype=bool)
        self.inM[m] = True
        self._B = None
        self.key = (np.sort(e).tobytes(), np.sort(m).tobytes())

    @property
    def SA(self):
        size = self.m.shape[0] + 1
        return self.buf[:size, :size]

    @classmethod
    def build(cls, Q, y, E, M):
        """The state of (E, M) from scratch (O(k^3)), or None when Q_EE is not
        numerically positive definite."""
        e, m = E.copy(), M.copy()
        L = _chol(_gather_sym(Q, e))
        if L is None:
            return None
        nM = m.shape[0]
        B = np.empty((e.shape[0], nM + 1))
        gather_border(Q, y[e], e, m, B)
        Z, info = dtrtrs(L, B, lower=1)
        SA = np.empty((nM + 1, nM + 1))
        SA[0, 0] = 0.0
        SA[0, 1:] = SA[1:, 0] = y[m]
        SA[1:, 1:] = _gather_sym(Q, m)
        SA -= Z.T @ Z
        return cls(Q, y, e, m, L, SA)

    def matches(self, E, M):
        return self.key == (E.tobytes(), M.tobytes())

    def _Bt(self, w):
        """B^T w (the rows of Q over e weighted by w, at the columns m)."""
        out = np.empty(self.Q.shape[0])
        rows_matvec(self.Q, self.e, np.ascontiguousarray(w), out)
        return np.concatenate([[self.y[self.e] @ w], out[self.m]])

    def _col(self, j):
        """(L^{-1} Q_Ej, w = Q_EE^{-1} Q_Ej, D_A[:, j] - B^T w)."""
        ell = dtrsv(self.L, self.Q[j, self.e], lower=1)
        w = dtrsv(self.L, ell, lower=1, trans=1)
        c = np.concatenate([[self.y[j]], self.Q[j, self.m]]) - self._Bt(w)
        return ell, w, c

    def update(self, E, M):
        """Move to the partition (E, M) when it differs by at most one sample of E and
        one of M (sorted index arrays); False when it does not (or a pivot is too
        small: the state is then rebuilt)."""
        newE = np.zeros(self.inE.shape[0], dtype=bool)
        newE[E] = True
        newM = np.zeros(self.inM.shape[0], dtype=bool)
        newM[M] = True
        e_in = np.flatnonzero(newE & ~self.inE)
        e_out = np.flatnonzero(self.inE & ~newE)
        m_in = np.flatnonzero(newM & ~self.inM)
        m_out = np.flatnonzero(self.inM & ~newM)
        if e_in.size + e_out.size > 1 or m_in.size + m_out.size > 1:
            return False
        Q = self.Q
        self._B = None
        for j in m_out:
            nM = self.m.shape[0]
            p = int(np.flatnonzero(self.m == j)[0])
            sym_swap_remove(self.buf, nM + 1, p + 1)
            self.m[p] = self.m[nM - 1]
            self.m = self.m[: nM - 1].copy()
        for j in e_out:
            q = int(np.flatnonzero(self.e == j)[0])
            unit = np.zeros(self.e.shape[0])
            unit[q] = 1.0
            g = _cho_solve(self.L, unit)
            sym_rank1(self.buf, self.m.shape[0] + 1, self._Bt(g), 1.0 / g[q])
            self.e = np.delete(self.e, q)
            if self.e.shape[0] == 0:
                return False
            L = _chol(_gather_sym(Q, self.e))
            if L is None:
                return False
            self.L = L
        for j in e_in:
            ell, w, c = self._col(j)
            sigma = float(Q[j, j] - ell @ ell)
            if not sigma > 1e-12 * float(Q[j, j]):
                return False
            sym_rank1(self.buf, self.m.shape[0] + 1, c, -1.0 / sigma)
            nE = self.e.shape[0]
            L = np.zeros((nE + 1, nE + 1))
            L[:nE, :nE] = self.L
            L[nE, :nE] = ell
            L[nE, nE] = np.sqrt(sigma)
            self.L = L
            self.e = np.append(self.e, j)
        for j in m_in:
            _, w, c = self._col(j)
            size = self.m.shape[0] + 1
            if size + 1 > self.buf.shape[0]:
                cap = size + size // 4 + 16
                buf = np.zeros((cap, cap))
                buf[:size, :size] = self.buf[:size, :size]
                self.buf = buf
            sym_append(self.buf, size, c, float(Q[j, j] - Q[j, self.e] @ w))
            self.m = np.append(self.m, j)
        self.inE, self.inM = newE, newM
        self.n_updates += 1
        self.key = (E.tobytes(), M.tobytes())
        return True

    def factor(self, dM, E, M, QB):
        """:class:`_SchurFactor` of the partition's matrix with the middle diagonal
        ``dM`` (in the order of the sorted M): from the Cholesky factor of -S, or,
        when -S is not numerically positive definite (K is not stable), from the
        Bunch-Kaufman LDL^T of S (order |M| + 1 instead of k; computed at the first
        solve, :attr:`_SchurFactor.ldl`); None when a value is not finite. ``QB``:
        the partition's block ``Q[th][:, th]`` (th = E, then M), where B is read (a
        gather from it takes a third of the time of one from Q). Its ``stable``: the
        inertia (|E|+, |M|+1-) with no D value below 1e-13 of the largest (the test of
        the LDL^T of K)."""
        posE = np.searchsorted(E, self.e)
        posM = np.searchsorted(M, self.m)
        nM = self.m.shape[0]
        # -S with the middle diagonal, its upper triangle only: S is symmetric, and
        # the transpose is the Fortran-ordered array whose lower triangle LAPACK
        # factors in place (the strict upper triangle of LS is unset; no solve reads
        # it)
        S = np.empty((nM + 1, nM + 1))
        neg_schur_upper(self.buf, nM + 1, dM, posM, S)
        LS, info = dpotrf(S.T, lower=1, clean=0, overwrite_a=1)
        if info == 0:
            aev = np.concatenate([np.diag(self.L) ** 2, np.diag(LS) ** 2])
            if not np.all(np.isfinite(aev)):
                return None
            stable = not _nearly_singular(aev)
            lazy = None
        else:
            # -S is not numerically positive definite: K is not stable (where -S is
            # positive definite but Cholesky fails, its smallest eigenvalue is at
            # the rounding, which the LDL^T's D values show: nearly singular). The
            # Bunch-Kaufman LDL^T of S is computed only when a solve asks for it (a
            # landing's Newton, a bordered base); at a fold the verdict is all the
            # follower needs
            LS = None
            idx = np.arange(1, nM + 1)
            lazy = self.buf[: nM + 1, : nM + 1].copy()
            lazy[idx, idx] += dM[posM]
            if not (np.all(np.isfinite(np.diag(self.L))) and np.all(np.isfinite(lazy))):
                return None
            stable = False
        if self._B is None:
            B = np.empty((posE.shape[0], nM + 1))
            gather_border(QB, self.y[self.e], posE, posE.shape[0] + posM, B)
            self._B = B
        return _SchurFactor(self.L, LS, lazy, self._B, posE, posM, stable)


class _SchurFactor:
    """Solves with a partition's matrix K (rows: E, M in sorted order, then the
    intercept) from the Cholesky factor of Q_EE and one of S (:class:`_SchurState`,
    the intercept first in S): Cholesky of -S (``LS``) or Bunch-Kaufman of S (``ldl``);
    x_bM = S^{-1} (r_bM - B^T Q_EE^{-1} r_E), x_E = Q_EE^{-1} (r_E - B x_bM).
    ``stable``: K has the inertia of a stable point (Haynsworth)."""

    __slots__ = ("L", "LS", "_S", "_ldl", "B", "posE", "posM", "nE", "stable", "posbM")

    def __init__(self, L, LS, S, B, posE, posM, stable):
        self.L, self.LS, self.B = L, LS, B
        # S when -S has no Cholesky factor: its LDL^T is computed at the first solve
        self._S, self._ldl = S, None
        self.posE, self.posM = posE, posM
        self.nE = nE = posE.shape[0]
        self.stable = stable
        # the rows of K of S's unknowns: the intercept (K's last row), then M
        self.posbM = np.concatenate([[nE + posM.shape[0]], nE + posM])

    @property
    def ldl(self):
        """The Bunch-Kaufman factor (ldu, ipiv) of S when -S has no Cholesky
        factor, else None; LinAlgError when S is singular."""
        if self._ldl is None and self._S is not None:
            got = _ldl_info(self._S)
            if got is None or got[3] != 0:
                raise np.linalg.LinAlgError("singular Schur complement")
            self._ldl, self._S = (got[0], got[1]), None
        return self._ldl

    def solve(self, rhs):
        r = np.asarray(rhs, dtype=np.float64)
        rE = r[self.posE]
        rbM = r[self.posbM]
        w = _cho_solve(self.L, rE)
        if self.LS is not None:
            xbM = -_cho_solve(self.LS, rbM - self.B.T @ w)
        else:
            ldu, ipiv = self.ldl
            xbM = dsytrs(ldu, ipiv, rbM - self.B.T @ w, lower=1)[0]
        xE = _cho_solve(self.L, rE - self.B @ xbM)
        out = np.empty_like(r)
        out[self.posE] = xE
        out[self.posbM] = xbM
        return out


class _DualMatrix:
    """The symmetric matrix ``K = [[Q_thth + diag(0_E, dM), y_th], [y_th^T, c]]`` of
    the dual system of a partition (th = E, then M; ``c`` = 1 when the intercept is
    frozen, else 0), held as the partition's block of Q: products ``K @ x`` cost one
    pass over the block, and the dense array (O(k^2) to assemble, needed only by an
    LDL^T of K or an eigensolver) is built when asked (``np.asarray(K)``, indexing)
    and kept. Read-only."""

    __slots__ = ("blk", "yth", "nE", "dM", "corner", "th", "_dense", "_coupled")

    def __init__(self, blk, yth, nE, dM, corner, th=None):
        self.blk, self.yth, self.nE, self.dM = blk, yth, nE, dM
        self.corner, self.th = corner, th
        self._dense = None
        self._coupled = None

    def coupled(self):
        """Whether no middle row is decoupled (no -_BIG placeholder in dM)."""
        c = self._coupled
        if c is None:
            c = self._coupled = bool(np.all(self.dM > -_BIG / 10))
        return c

    @property
    def shape(self):
        k = self.blk.shape[0] + 1
        return (k, k)

    def dense(self):
        K = self._dense
        if K is None:
            k = self.shape[0]
            K = np.empty((k, k))
            if k > 1:
                K[:-1, :-1] = self.blk
                K[:-1, -1] = self.yth
                K[-1, :-1] = self.yth
                idx = np.arange(self.nE, self.nE + self.dM.shape[0])
                K[idx, idx] += self.dM
            K[-1, -1] = self.corner
            K.flags.writeable = False
            self._dense = K
        return K

    def __array__(self, dtype=None, copy=None):
        K = self.dense()
        if copy:
            return np.array(K, dtype=dtype)
        return K if dtype is None else K.astype(dtype, copy=False)

    def __getitem__(self, key):
        return self.dense()[key]

    def __matmul__(self, x):
        x = np.asarray(x, dtype=np.float64)
        xs, xb = x[:-1], x[-1]
        out = np.empty(x.shape)
        ys = self.yth if x.ndim == 1 else self.yth[:, None]
        out[:-1] = self.blk @ xs + ys * xb
        nE, nM = self.nE, self.dM.shape[0]
        d = self.dM if x.ndim == 1 else self.dM[:, None]
        out[nE : nE + nM] += d * xs[nE : nE + nM]
        out[-1] = self.yth @ xs + self.corner * xb
        return out


class _Margins:
    """Margins ``m = Q a + y b`` of a point of the dual system: on the unknowns' samples
    (``sub``, in the order of ``th``) from the partition's block of Q, on all samples
    (:meth:`full`, O(k n)) only when asked, and on one sample (:meth:`at`, O(k)). The
    values are those of the full product bit for bit (same operations in the same
    order), so the path does not depend on which was computed."""

    __slots__ = ("Q", "y", "th", "coef", "b", "fixed", "sub", "_full")

    def __init__(self, Q, y, th, coef, b, fixed, sub):
        self.Q, self.y, self.th, self.coef = Q, y, th, coef
        self.b, self.fixed, self.sub = b, fixed, sub
        self._full = None

    def full(self):
        out = self._full
        if out is None:
            out = np.empty(self.y.shape[0])
            rows_matvec(self.Q, self.th, self.coef, out)
            self._finish(out)
        return out

    def __array__(self, dtype=None, copy=None):
        out = self.full()
        return out if dtype is None else out.astype(dtype)

    def full_and(self, dcoef, dm):
        """:meth:`full` and ``dm = Q[th]^T dcoef`` (over the same rows) in one pass."""
        if self._full is not None:
            rows_matvec(self.Q, self.th, dcoef, dm)
            return self._full
        out = np.empty(self.y.shape[0])
        rows_matvec2(self.Q, self.th, self.coef, dcoef, out, dm)
        self._finish(out)
        return out

    def _finish(self, out):
        if self.fixed is not None:
            out += self.fixed
        out += self.y * self.b
        self._full = out

    def at(self, j):
        if self._full is not None:
            return float(self._full[j])
        s = col_margin(self.Q, self.th, self.coef, j)
        if self.fixed is not None:
            s = s + float(self.fixed[j])
        return s + float(self.y[j]) * self.b


def _full_margins(m):
    """All margins of a point (an array, or the :class:`_Margins` of the dual G)."""
    return m.full() if isinstance(m, _Margins) else m


_NAMES = {
    OUT: "outside",
    MARGIN: "margin",
    IN1: "v=1",
    INM: "middle",
    IN0: "v=0",
    NULL: "zero weight",
}
_LOSS_REGIONS = (IN1, INM, IN0)
# 1 / (C s u) where u = dv*/dl vanishes (polynomial t < 2 at loss_zero): the a_i row is
# then decoupled; a large finite value keeps K symmetric and the LDL^T well defined
_BIG = 1e150


class _SVMSystem(_SystemBase):
    """Dual optimality system of the self-paced SVM restricted to a partition."""

    incremental = False
    acs_chunk = 5
    acs_max = 2000
    acs_kick = 300
    kick_both_sides = True
    # landing attempts (Newton on the identified partition plus up to land_repairs
    # transitions) once an ACS chunk moves v by at most land_dv; a partition that failed
    # is not tried twice (cells, n = 1000: 16.5 s instead of 24 s with (inf, 50, 3))
    land_dv = 1e-4
    land_repairs = 10
    # no landing while ACS moves away (from the ghost of a fold, or an unstable point):
    # spam7, n = 2000, linear: a failed landing there cost ~40 ms per jump
    land_contracting = True
    acs_extrapolate = True
    # a fold's kick along the mode of ACS whose rho exceeds this (rho ~ 1 at a smooth
    # fold: the kick passes its ghost; spam7 / cells, n = 2000, mixture: 14.3 -> 12.9
    # s, 50.7 -> 37.0 s against 1.0), else the kicks of _Follower._kick_land
    acs_mode_min = 0.9
    stop_errors = (OneClassError, ZeroWeightsError)
    bordered = True  # Newton solves bordered from a base factor (_Bordered)
    bordered_max = 64  # rows a partition may differ from the base by (and k / 4)
    _direct = False
    _bordered_used = False  # the last newton_exact solved from an older factor
    _bf = None
    th = None  # the unknowns' samples of the dual system (set_partition)
    _K = None
    _fac_memo = None
    _ldl_memo = None
    schur = True  # factor through the margin block's Schur complement (_SchurState)
    _schur = None
    _schur_memo = None
    _K_of = None  # (th, diag, free_b) of the dual system's matrix _K
    # event_values_step screens the samples off the unknowns by a bound (else it is
    # event_values); its base (th, theta, dtheta, all margins, their derivative)
    screen_events = True
    _ev_base = None
    _screen = None  # (max_j |Q_ij|, Q_ii, psd kernel, mu): _screen_constants

    def __init__(self, problem, reg):
        self.problem = problem
        self.reg = reg
        self.Q = problem.Q
        self.y = problem.y_pm
        self.s = problem.sample_weight
        self.C = float(problem.C)
        self.Cs = self.C * self.s
        self.n = problem.n_samples
        self.d = problem.n_features
        self.kind = int(reg.kind)
        self.discontinuous = not reg.continuous
        self.static = self.kind == 0
        self.gtol = 1e-11 * max(1.0, self.C * float(np.max(self.s)))
        self.b_ref = 0.0
        self._last_jump = False
        self._refine_cache = {}
        self._mfix_cache = {}
        self._blk_cache = {}  # th bytes -> (th, Q[th][:, th]), the last few
        self._blk_last = None
        # twins: samples with identical rows (of X, or of K if precomputed) and labels.
        # Two twins on the margin make K singular; at most one of a group is kept on the
        # margin, the others sit at a bound of their box (notes 4.10: drop E points).
        rows = problem.K if problem.kernel_name == "precomputed" else problem.X
        keyed = np.column_stack([rows, self.y])
        _, group, counts = np.unique(
            keyed, axis=0, return_inverse=True, return_counts=True
        )
        group = group.ravel()
        group[self.s <= 0] = -1
        multi = counts[group] > 1
        multi[group < 0] = False
        self.has_twins = bool(np.any(multi))
        self.group = group
        self.n_groups = counts.shape[0]
        if self.has_twins:
            self.twin_groups = [
                np.flatnonzero(group == g) for g in np.unique(group[multi])
            ]

    def release(self):
        # the blocks of Q of the last partitions, the Schur state, the factors and
        # their memos (credit_data at n = 2000: four k x k blocks, the |M|^2 buffer and
        # a factor, 45 MB next to the 64 MB of K and Q, benchmarks/svm_memory.py);
        # queries rebuild what they need
        self._blk_cache, self._blk_last = {}, None
        self._mfix_cache, self._refine_cache = {}, {}
        self._schur = self._schur_memo = self._bf = None
        self._K = self._K_of = self._fac_memo = self._ldl_memo = None
        self._ev_base = None
        self.problem._free_lu_last = None

    # -- partition and coordinates
    # ---------------------------------------------------------------------
    def _set_regions(self, part):
        """Set ``part`` and its index sets: margin E, middle M, v = 1 inside I1."""
        self.part = part
        g = part.region
        self.E = np.flatnonzero(g == MARGIN)
        self.M = np.flatnonzero(g == INM)
        self.I1 = np.flatnonzero(g == IN1)
        self.nE, self.nM = self.E.shape[0], self.M.shape[0]
        self.CsM = self.Cs[self.M]

    def set_partition(self, part):
        self._set_regions(part)
        th = self.th = np.concatenate([self.E, self.M])
        # the samples with a_i != 0 (their rows of Q give the margins, rows_matvec)
        self.sup = np.concatenate([th, self.I1])
        self.a_fixed = self.Cs[self.I1]
        self._m_fixed = fixed = self._fixed_margins()
        # per partition, for margins() and jacobian(): the rows of the block, the
        # labels and the fixed samples' margins on th, the block's key
        self._th_rows = np.arange(th.shape[0])
        self._yth = self.y[th]
        self._mfix_th = None if fixed is None else fixed[th]
        self._th_key = th.tobytes()
        # no unknown multiplier: b is not determined by the equations (every support
        # vector at a bound); it is frozen at its value and moves only at events
        self.free_b = self.nE + self.nM == 0

    def _fixed_margins(self):
        """Q a over the v = 1 inside samples (a_i = C s_i, fixed while the set
        holds; the last few sets are kept), or None."""
        I1 = self.I1
        if not I1.shape[0]:
            return None
        key = I1.tobytes()
        cache = self._mfix_cache
        if key in cache:
            return cache[key]
        out = np.empty(self.n)
        rows_matvec(self.Q, I1, np.ascontiguousarray(self.Cs[I1]), out)
        if len(cache) >= 8:
            cache.pop(next(iter(cache)))
        cache[key] = out
        return out

    def k(self):
        return self.nE + self.nM + 1

    def _regions_of(self, part):
        g = part.region
        return (
            np.flatnonzero(g == MARGIN),
            np.flatnonzero(g == INM),
            np.flatnonzero(g == IN1),
        )

    def to_full(self, theta, part=None, age=None):
        if part is None:
            E, M, I1 = self.E, self.M, self.I1
        else:
            E, M, I1 = self._regions_of(part)
        x = np.zeros(self.n + 1)
        x[I1] = self.Cs[I1]
        x[E] = theta[: E.shape[0]]
        x[M] = theta[E.shape[0] : E.shape[0] + M.shape[0]]
        x[self.n] = theta[-1]
        return x

    def dir_full(self, dtheta):
        x = np.zeros(self.n + 1)
        x[self.E] = dtheta[: self.nE]
        x[self.M] = dtheta[self.nE : self.nE + self.nM]
        x[self.n] = dtheta[-1]
        return x

    def from_full(self, x):
        return np.concatenate([x[self.E], x[self.M], x[self.n : self.n + 1]])

    def store(self, theta):
        return theta.copy()

    store_dir = store

    def from_stored(self, x):
        return np.array(x, dtype=np.float64)

    def stored_full(self, x, part, age=None):
        return self.to_full(x, part, age)

    def split_acs(self, full):
        a = np.clip(full[: self.n], 0.0, self.Cs)
        return a, float(full[self.n])

    def knot_arrays(self, stored, segments, seg_of_knot):
        return {
            "coef_knots": None,
            "intercept_knots": np.array([float(x[-1]) for x in stored]),
        }

    # -- evaluations
    # ----------------------------------------------------------------------
    def _a_sup(self, theta):
        return np.concatenate([theta[:-1], self.a_fixed])

    def _block(self):
        """``Q[th][:, th]`` of the current partition: kept for the last few index sets
        and, for a new one, copied from the last block where both samples were in it
        (an event changes one sample: O(k^2) from a contiguous block instead of reading
        k rows of Q)."""
        th = self.th
        key = self._th_key
        cache = self._blk_cache
        hit = cache.get(key)
        if hit is not None:
            self._blk_last = hit
            return hit[1]
        k = th.shape[0]
        B = np.empty((k, k))
        last = self._blk_last
        if last is not None and k:
            pos = np.full(self.n, -1, dtype=np.intp)
            pos[last[0]] = np.arange(last[0].shape[0])
            remap_block(self.Q, th, pos[th], last[1], B)
        else:
            gather_block(self.Q, th, B)
        if len(cache) >= 4:
            cache.pop(next(iter(cache)))
        hit = cache[key] = (th, B)
        self._blk_last = hit
        return B

    def margins(self, theta):
        """:class:`_Margins` of theta in the current partition (on th evaluated)."""
        th = self.th
        coef = np.ascontiguousarray(theta[:-1])
        b = float(theta[-1])
        sub = np.empty(th.shape[0])
        # (the rows of the block in their order: the entries th of the full product)
        rows_matvec(self._block(), self._th_rows, coef, sub)
        fixed = self._m_fixed
        if fixed is not None:
            sub += self._mfix_th
        sub += self._yth * b
        return _Margins(self.Q, self.y, th, coef, b, fixed, sub)

    def _margins_M(self, m):
        """Margins of the middle set from G's margins ``m``."""
        if isinstance(m, _Margins) and (
            m.th is self.th or np.array_equal(m.th, self.th)
        ):
            return m.sub[self.nE : self.nE + self.nM]
        return _full_margins(m)[self.M]

    def terms(self, m, age):
        """v*, dv*/dl and dv*/dage on the middle set (fills self.vM, uM, vaM) and the
        middle diagonal dM = 1 / (C s u) of the symmetric matrix (-_BIG where it is not
        finite and negative)."""
        xi = 1.0 - self._margins_M(m)
        reg = self.reg
        if self.kind >= 0:
            # the built-ins: one compiled pass (the same values as below)
            nM = xi.shape[0]
            self.vM, self.uM = np.empty(nM), np.empty(nM)
            self.vaM, self.dM = np.empty(nM), np.empty(nM)
            middle_terms(
                self.kind, reg.param, xi, float(age), self.CsM, _BIG,
                self.vM, self.uM, self.vaM, self.dM,
            )  # fmt: skip
            return
        self.vM = np.asarray(reg.middle(xi, age), dtype=np.float64)
        self.uM = np.asarray(reg.middle_dloss(xi, age), dtype=np.float64)
        self.vaM = np.asarray(reg.middle_dage(xi, age), dtype=np.float64)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            dM = 1.0 / (self.CsM * self.uM)
        dM = np.where(np.isfinite(dM) & (dM < 0.0), dM, -_BIG)
        self.dM = np.maximum(dM, -_BIG)

    def G(self, theta, age):
        """Residual and the margins (:class:`_Margins`, all samples on demand)."""
        return self.G_of(theta, age, self.margins(theta))

    def G_of(self, theta, age, m):
        """Residual at theta from its margins ``m`` (:meth:`margins` or
        :meth:`chord_margins`), and ``m``."""
        nE, nM = self.nE, self.nM
        self.terms(m, age)
        g = np.empty(nE + nM + 1)
        g[:nE] = m.sub[:nE] - 1.0
        g[nE : nE + nM] = theta[nE : nE + nM] - self.CsM * self.vM
        if self.free_b:
            g[-1] = theta[-1] - self.b_ref
        else:
            g[-1] = self.y[self.sup] @ self._a_sup(theta)
        return g, m

    def chord_margins(self, theta, m, rhs, step, K, dl=0.0, dtheta=None):
        """Margins of ``theta = theta_prev - step + dl * dtheta`` without a pass over
        the block, or None.

        ``m``: the margins of theta_prev (:meth:`G`, this partition); ``step``: the
        solve of ``K step = rhs`` with the factor of ``K``, a :class:`_DualMatrix` of
        this partition. K's margin rows are ``Q_thth a + y_th b`` plus ``dM`` on the
        middle diagonal, so the margins of the step are ``rhs - (0_E, dM step_M)``:
        O(k) instead of O(k^2), equal to the product up to the solve's backward
        error. The margins of ``dtheta`` come from the pass of the last
        :meth:`event_values` along it. None when a piece is missing or K has a
        decoupled row (dM = -_BIG). The caller checks the point it accepts with
        :meth:`G` (a pass)."""
        th = self.th
        if (
            not isinstance(m, _Margins)
            or m.th is not th
            or not isinstance(K, _DualMatrix)
            or K.th is not th
            or (self.nM and not K.coupled())
        ):
            return None
        nE, nM = self.nE, self.nM
        k = nE + nM
        sub = m.sub - rhs[:k]
        sub[nE:] += K.dM * step[nE:k]
        if dl != 0.0:
            base = self._ev_base
            if base is None or base[0] is not th or base[2] is not dtheta:
                return None
            sub += dl * base[4][th]
        coef = np.ascontiguousarray(theta[:-1])
        return _Margins(self.Q, self.y, th, coef, float(theta[-1]), m.fixed, sub)

    def jacobian(self):
        """The symmetric matrix K of the partition at the last G (a
        :class:`_DualMatrix`: products from the partition's block, the dense array
        only when asked)."""
        th = self.th
        # (terms() rebinds dM, never writes into it: K keeps the array of this G)
        K = _DualMatrix(
            self._block() if th.shape[0] else np.empty((0, 0)),
            self._yth,
            self.nE,
            self.dM if self.nM else np.empty(0),
            1.0 if self.free_b else 0.0,
            th,
        )
        self._K = K
        # what K is the matrix of (a factor of K becomes a bordered base, and a
        # factorization of the same matrix is reused)
        self._K_of = (self.th, self._diag(), self.free_b)
        return K

    def _base_from(self, key, solve):
        """The factor ``key`` of the current partition's matrix (its solve
        ``solve``) becomes the bordered base."""
        th, diag, free_b = self._K_of
        if self._bf is not None and self._bf.key is key:
            return  # already the base (a reused factor)
        if self.bordered and not free_b:
            self._bf = _Bordered(self.Q, self.y, th, diag, key, solve)

    def prec(self, g):
        out = g.copy()
        out[self.nE : self.nE + self.nM] *= self.dM
        return out

    def jac_vec(self, x):
        return self._K @ x

    def dG_dage(self, m):
        out = np.zeros(self.k())
        out[self.nE : self.nE + self.nM] = -self.Cs[self.M] * self.vaM
        return out

    def factorize(self, K):
        """(factor, stable, marginal) of K: the Cholesky factors of its margin block's
        Schur complement (:meth:`_schur_of`), else its Bunch-Kaufman LDL^T; stable when
        the inertia is (|E|+, |M|+1-)."""
        key = None
        if K is self._K:
            th, diag, free_b = self._K_of
            key = (th.tobytes(), diag.tobytes(), free_b)
            memo = self._fac_memo
            if memo is not None and memo[0] == key:
                # the same matrix again (a landing's check after the repairs' one)
                return memo[1]
        out = self._factorize(K)
        if key is not None:
            self._fac_memo = (key, out)
        return out

    def _ldl_of(self, K):
        """:func:`_ldl_info` of K; for the current partition's matrix (``K is
        self._K``) the last one is reused while the matrix is the same (a landing's
        Newton step and its stability check, the follower's factor after them: for a
        regularizer whose dv*/dl depends on the age only, K does not depend on the
        point)."""
        if K is not self._K or self._K_of is None:
            return _ldl_info(K)
        th, diag, free_b = self._K_of
        key = (th.tobytes(), diag.tobytes(), free_b)
        memo = self._ldl_memo
        if memo is not None and memo[0] == key:
            return memo[1]
        got = _ldl_info(K)
        self._ldl_memo = (key, got)
        return got

    def _factorize(self, K):
        sf = self._schur_of(K)
        if sf is not None:
            # the inertia of K from those of Q_EE (positive definite) and S
            self._base_from(sf, sf.solve)
            return (sf, True, False) if sf.stable else (None, False, False)
        got = self._ldl_of(K)
        if got is None:
            return None, False, False
        ldu, ipiv, ev, _ = got
        n_pos = int(np.sum(ev > 0))
        n_neg = int(np.sum(ev < 0))
        if self.free_b:
            stable = n_pos == 1 and K.shape[0] == 1
        else:
            stable = n_pos == self.nE and n_neg == self.nM + 1
        if K is self._K:
            # the factor of the current partition's matrix is the next bordered base
            self._base_from(ldu, _ldl_solver(ldu, ipiv))
        if not stable or _nearly_singular(np.abs(ev)):
            return None, False, False
        return (ldu, ipiv), True, False

    def _solve_direct(self, K, rhs):
        sf = self._schur_of(K)
        if sf is not None:
            try:
                x = sf.solve(rhs)
            except np.linalg.LinAlgError:
                pass  # S is singular (its LDL^T, computed now): the LDL^T of K
            else:
                self._base_from(sf, sf.solve)
                return x
        got = self._ldl_of(K)
        if got is None or got[3] != 0:
            raise np.linalg.LinAlgError("singular system")
        ldu, ipiv = got[0], got[1]
        if self.bordered and K is self._K:
            self._base_from(ldu, _ldl_solver(ldu, ipiv))
        x, info = dsytrs(ldu, ipiv, rhs, lower=1)
        return x

    # -- the Schur factorization of K (margin block first): K = [[A, B], [B^T, D]]
    # with A = Q_EE, D the middle samples' and the intercept's block (the middle
    # diagonal included); K is stable iff A and -S, S = D - B^T A^{-1} B, are positive
    # definite (Haynsworth). S without the middle diagonal, S_A, does not depend on the
    # age or the point; it is kept per partition and updated in O(k^2) when one sample
    # changes set (_SchurState), so a factorization costs a Cholesky of order |M| + 1
    # instead of a Bunch-Kaufman LDL^T of order k
    # ---------------------------------------------------------------------------
    def _schur_of(self, K):
        """:class:`_SchurFactor` of the current partition's matrix ``K`` (memoized
        while it is the same matrix), or None: not that matrix, no margin sample, b
        free, Q_EE not numerically positive definite or S singular (the LDL^T of K
        decides)."""
        if not self.schur or K is not self._K or self._K_of is None:
            return None
        th, diag, free_b = self._K_of
        if free_b or self.nE == 0:
            return None
        key = (th.tobytes(), diag.tobytes())
        memo = self._schur_memo
        if memo is not None and memo[0] == key:
            return memo[1]
        st = self._schur_state()
        out = None if st is None else st.factor(self.dM, self.E, self.M, self._block())
        self._schur_memo = (key, out)
        return out

    def _schur_state(self):
        """The :class:`_SchurState` of the current partition (E, M): updated from the
        last one when one sample changed set (at most _SCHUR_UPDATES in a row), else
        rebuilt; None when Q_EE is not numerically positive definite."""
        st = self._schur
        E, M = self.E, self.M
        if st is not None and st.matches(E, M):
            return st
        if st is not None and st.n_updates < _SCHUR_UPDATES and st.update(E, M):
            return st
        st = _SchurState.build(self.Q, self.y, E, M)
        self._schur = st
        return st

    # -- bordered solves (:class:`_Bordered`): Newton on a partition a few samples away
    # from the last factored one costs O(k^2) per step instead of O(k^3)
    # ---------------------------------------------------------------------------
    def _use_bordered(self):
        return self.bordered and not self._direct and not self.free_b

    def _diag(self):
        d = np.zeros(self.nE + self.nM)
        d[self.nE :] = self.dM
        return d

    def _bsolve(self, rhs, K=None):
        """x with K x = rhs for the current partition's matrix K (bordered from the
        base factor; a new base, the factor of K, when the partition is too far from
        it)."""
        bf = self._bf
        if bf is not None:
            kB = bf.kB
            pmax = min(self.bordered_max, max(4, kB // 4))
            diag = self._diag()
            try:
                x = bf.solve(self.th, diag, rhs, pmax)
            except np.linalg.LinAlgError:
                x = None  # the base's S is singular (its LDL^T, computed now)
            if x is not None:
                if K is None:
                    return x
                # the caller has the matrix: check the solve (the follower's Newton
                # has no fallback of its own)
                res = float(np.max(np.abs(K @ x - rhs)))
                scale = float(np.max(np.abs(rhs))) + float(
                    np.max(np.abs(K[:, :-1]), initial=0.0)
                ) * float(np.max(np.abs(x)))
                if res <= 1e-12 * scale:
                    return x
        if K is None:
            K = self.jacobian()
        return self._solve_direct(K, rhs)

    def solve_exact(self, K, rhs):
        if self._use_bordered() and K is self._K:
            return self._bsolve(rhs, K)
        return self._solve_direct(K, rhs)

    def newton_step(self, g):
        """The step of :meth:`newton_exact`, solved from the bordered factor (a solve
        from an older factor, not a fresh one of this matrix, is noted)."""
        if not self._use_bordered():
            return super().newton_step(g)
        bf = self._bf
        step = self._bsolve(self.prec(g))
        self._bordered_used = self._bordered_used or (bf is not None and self._bf is bf)
        return step

    def newton_exact(self, theta, age, max_iter=12):
        """Newton with exact Jacobians on G(., age) = 0 in the current partition,
        each step solved from the bordered factor (:meth:`newton_step`); when that
        does not converge, the plain Newton with a fresh factorization per step
        decides. Returns (theta, r, converged)."""
        self._bordered_used = False
        got = super().newton_exact(theta, age, max_iter)
        if got[2] or not self._bordered_used:
            return got
        self._direct = True
        try:
            return super().newton_exact(theta, age, max_iter)
        finally:
            self._direct = False

    def save_state(self):
        """The partition and the frozen intercept ``b_ref``."""
        return self.part.copy(), self.b_ref

    def restore_state(self, state):
        self.b_ref = state[1]
        self.set_partition(state[0])

    def latent(self, a, b, age):
        """Latent objective 0.5 a^T Q a + C sum s_i F(hinge_i, age) at an ACS point:
        Q a is the problem's, kept for its last weighted solution (O(n))."""
        q = self.problem.margins(a, 0.0)
        hinge = np.maximum(0.0, 1.0 - q - self.y * b)
        F = np.asarray(self.reg.latent(hinge, age), dtype=np.float64)
        return float(0.5 * (a @ q) + self.C * (self.s @ F))

    def acs_start(self, a, b, age):
        """(start, v) for alternate convex search from the dual point (a, b) near a
        point of the current partition (a fold's kick): v = v*(losses of (a, b)),
        and a start with the current partition's shape at the box C s v: the samples
        inside the margin (v = 1 and middle) at their bound, the margin samples at
        their a_i (clipped to the box) and the others at 0. The weighted solver's
        first Newton step on its free set (the margin samples) then solves the
        weighted problem when the partition's bounds still hold, where a start at
        (a, b) itself (every multiplier moved by the kick) costs hundreds of pair
        updates."""
        v = np.asarray(
            self.reg.v_star(self.problem.losses(a, b), age), dtype=np.float64
        )
        cb = self.Cs * v
        start = np.zeros(self.n)
        inside = np.concatenate([self.M, self.I1])
        start[inside] = cb[inside]
        start[self.E] = np.clip(a[self.E], 0.0, cb[self.E])
        return start, v

    def acs_mode(self, K):
        """Full direction (a, b) of the slowest (or unstable) mode of ACS linearized
        at the point of the last G, or None (no margin or middle sample, or its rho
        is not above ``acs_mode_min``); from Q and the partition (``K`` is not used:
        the same mode for the dual and the primal-reduced system).

        One ACS iteration (weighted solve at v, then v from the losses) moves the
        middle weights by dv' = T dv with T = -diag(C s u) S, S = Q_MM - B^T A^{-1} B
        the Schur complement of the margin rows and the intercept (A = [[Q_EE, y_E],
        [y_E^T, 0]], B = [Q_EM; y_M^T]): its eigenvalues rho solve S x = rho D x, D =
        diag(-1 / (C s u)) positive (rho = 1 where K is singular: a fold). The mode
        of the largest rho, with a_M = C s_M x and (a_E, b) = -A^{-1} B a_M.
        """
        nE, nM = self.nE, self.nM
        if nE == 0 or nM == 0 or self.free_b:
            return None
        dM = self.dM
        if not np.all(dM > -_BIG / 10):
            return None
        E, M = self.E, self.M
        th = np.concatenate([E, M])
        if self.th is not None and np.array_equal(self.th, th):
            QB = self._block()  # the dual system's block of its partition
        else:
            QB = self.Q[np.ix_(th, th)]
        A = np.zeros((nE + 1, nE + 1))
        A[:nE, :nE] = QB[:nE, :nE]
        A[:nE, nE] = A[nE, :nE] = self.y[E]
        B = np.vstack([QB[:nE, nE:], self.y[M]])
        p = 1.0 / np.sqrt(-dM)
        got = self._acs_mode_matrix(E, M, p)
        if got is not None:
            Cm, finite = got
        else:
            try:
                X = np.linalg.solve(A, B)
            except np.linalg.LinAlgError:
                return None
            Sc = QB[nE:, nE:] - B.T @ X
            Cm = (p[:, None] * Sc) * p[None, :]
            Cm = 0.5 * (Cm + Cm.T)
            finite = bool(np.all(np.isfinite(Cm)))
        if not finite:
            return None
        if nM <= 64:
            try:
                w, Z = eigh(Cm)
            except np.linalg.LinAlgError:
                return None
            rho, z = w[-1], Z[:, -1]
        else:
            try:
                w, Z = eigsh(Cm, k=1, which="LA", v0=np.ones(nM), tol=1e-10)
            except (ArpackError, ArpackNoConvergence):
                return None
            rho, z = w[0], Z[:, 0]
        if not rho > self.acs_mode_min:
            return None
        aM = self.Cs[M] * (p * z)
        try:
            sol = -np.linalg.solve(A, B @ aM)
        except np.linalg.LinAlgError:
            return None
        du = np.zeros(self.n + 1)
        du[E], du[M], du[self.n] = sol[:nE], aM, sol[nE]
        return du / np.linalg.norm(du)

    def _acs_mode_matrix(self, E, M, p):
        """The matrix ``diag(p) S diag(p)`` (symmetrized) of :meth:`acs_mode`, ``S =
        Q_MM - B^T A^{-1} B`` (M sorted), from the kept :class:`_SchurState` of the
        partition: S is the Schur complement of the intercept in its S_A (quotient
        property), O(|M|^2) in one compiled pass instead of O(|E| |M|^2). Returns
        (the matrix, whether all its entries are finite), or None when the state is
        not this partition's or S_A's intercept pivot vanishes."""
        st = self._schur
        if st is None or not st.matches(E, M):
            return None
        SA = st.SA
        piv = float(SA[0, 0])  # -y_E^T Q_EE^{-1} y_E
        if not piv < 0.0:
            return None
        order = np.argsort(st.m) + 1  # S_A's rows of M in the sorted order of M
        Cm = np.empty((order.shape[0], order.shape[0]))
        # (S_A is the leading block of the state's buffer, passed whole: one compiled
        # signature for C-ordered arrays)
        return Cm, acs_mode_matrix(st.buf, order, piv, p, Cm)

    def fold_direction(self, K, max_iter=20, block=4):
        """Unit eigenvector of the symmetric K for its eigenvalue of smallest modulus
        (the direction of a fold's kick): block inverse iteration with the LDL^T factor
        of K and Rayleigh-Ritz on ``block`` vectors (O(k^3 / 3) instead of a full
        eigendecomposition), from a fixed start, until the eigen-residual is below
        1e-10 max |K|; scipy's ``eigh`` when that does not converge (K singular or
        its smallest eigenvalues clustered)."""
        k = K.shape[0]
        scale = float(np.max(np.abs(K), initial=0.0))
        got = _ldl(K) if k > 2 * block and 0.0 < scale < _BIG / 10 else None
        if got is not None and np.all(got[2] != 0.0):
            ldu, ipiv, _ = got
            V = np.linalg.qr(np.random.default_rng(0).standard_normal((k, block)))[0]
            for _ in range(max_iter):
                X, info = dsytrs(ldu, ipiv, V, lower=1)
                if not np.all(np.isfinite(X)):
                    break
                V = np.linalg.qr(X)[0]
                KV = K @ V
                w, S = np.linalg.eigh(V.T @ KV)
                j = int(np.argmin(np.abs(w)))
                u = V @ S[:, j]
                r = KV @ S[:, j] - w[j] * u
                if np.linalg.norm(r) <= 1e-10 * max(1.0, scale):
                    return u / np.linalg.norm(u)
        w, U = eigh(K)
        return U[:, int(np.argmin(np.abs(w)))]

    def polish_stored(self, x, age, part, max_iter=8):
        # dense output with fresh factorizations: a query's result does not depend
        # on the bordered base left by earlier work
        self._direct = True
        try:
            return super().polish_stored(x, age, part, max_iter)
        finally:
            self._direct = False

    def fac_solve(self, fac, rhs):
        if isinstance(fac, _SchurFactor):
            return fac.solve(rhs)
        x, info = dsytrs(fac[0], fac[1], rhs, lower=1)
        return x

    # -- events
    # -----------------------------------------------------------------------------
    def event_values(self, theta, m, age, dtheta=None):
        """Event functions of the samples (>= 0 while the partition is valid): hinge
        losses against the thresholds (loss units), margins ``m - 1`` and multipliers
        relative to their box ``C s_i``; their age derivatives along ``dtheta``; the
        region each sample moves to."""
        reg = self.reg
        n = self.n
        if dtheta is None:
            m = _full_margins(m)
            dm = np.zeros(n)
        elif isinstance(m, _Margins) and m.th is self.th:
            # the margins and their derivative from one pass over the rows of Q
            nk = self.nE + self.nM
            dm = np.empty(n)
            m = m.full_and(np.ascontiguousarray(dtheta[:nk]), dm)
            dm += self.y * dtheta[-1]
            # the base of event_values_step: a step from (theta, age) along dtheta
            self._ev_base = (self.th, theta, dtheta, m, dm)
        else:
            m = _full_margins(m)
            dm = self._dm(dtheta)
        lo, hi = reg.loss_one(age), reg.loss_zero(age)
        dlo, dhi = reg.dloss_one(age), reg.dloss_zero(age)
        has_one = lo > 0.0
        jump_target = self.discontinuous or not (hi > lo)
        g = self.part.region
        e = np.empty(n)
        de = np.empty(n)
        target = np.empty(n, dtype=g.dtype)
        # the samples off the margin in one compiled pass (the kernel's docstring
        # gives each region's values)
        event_values_off_margin(
            g, np.ascontiguousarray(m, dtype=np.float64),
            np.ascontiguousarray(dm, dtype=np.float64), float(lo), float(hi),
            float(dlo), float(dhi), bool(has_one), bool(jump_target), e, de, target,
        )  # fmt: skip
        # margin: a_i / (C s_i) reaches 0 (-> outside) or 1 (-> v=1 / middle)
        nE = self.nE
        if nE:
            E = self.E
            cs = self.Cs[E]
            frac = self._aE(theta) / cs
            dfrac = np.zeros(nE) if dtheta is None else self._aE(dtheta) / cs
            upper = 1.0 - frac < frac
            e[E] = np.where(upper, 1.0 - frac, frac)
            de[E] = np.where(upper, -dfrac, dfrac)
            target[E] = np.where(upper, IN1 if has_one else INM, OUT)
        if self.has_twins and nE:
            # a twin of a margin sample stays at its bound: its margin equals its
            # twin's, so its event towards the margin is identically zero
            on = np.zeros(self.n_groups, dtype=bool)
            on[self.group[self.E]] = True
            blocked = (target == MARGIN) & (g != MARGIN) & (self.group >= 0)
            blocked &= on[np.maximum(self.group, 0)]
            e[blocked] = np.inf
            de[blocked] = 0.0
        return e, de, target, None

    def event_values_step(self, theta, m, age, base, k, etol):
        """:meth:`event_values` at the end of a step from the last point whose event
        values were taken with a direction, without the O(k n) pass over all samples
        when it cannot change a decision.

        ``base = (theta0, dtheta0, age0)``: the step's start, tangent and age (the
        arguments of that call), in the same partition. The margins of the samples
        off the unknowns are predicted as ``m0 + h dm0`` (h = age - age0). They differ
        from the exact ones by ``(Q[th]^T d)_i + y_i d_b``, ``d`` the step's deviation
        from its tangent, bounded by Cauchy-Schwarz in the kernel's feature space,
        ``sqrt(Q_ii d^T Q[th, th] d)``, for a positive semidefinite kernel (rbf, poly
        with coef0 >= 0; a margin of n 1e-14 max Q_ii for the rounding of Q), else by
        ``max_j |Q_ij| ||d||_1``. Every event value is 1-Lipschitz in its margin, so
        a sample whose predicted value minus the bound stays above ``-etol`` is not
        violated; the others, and sample ``k`` >= 0 (the event the step aimed at), get
        their exact value (:meth:`event_k`). Exact entries are the bits of
        :meth:`event_values`, the others only bound not to be violated, and only the
        target of ``k`` is exact: the follower reads the values of the violated samples
        and of ``k``, and the target of ``k``. Falls back to
        :meth:`event_values` when ``base`` is not the last one."""
        b = self._ev_base
        theta0, dtheta0, age0 = base
        if (
            not self.screen_events
            or b is None
            or b[0] is not self.th
            or b[1] is not theta0
            or b[2] is not dtheta0
            or not isinstance(m, _Margins)
            or m.th is not self.th
        ):
            return self.event_values(theta, m, age)
        m0, dm0 = b[3], b[4]
        h = age - age0
        nk = self.nE + self.nM
        dev = theta - theta0 - h * dtheta0
        da = dev[:nk]
        l1 = float(np.sum(np.abs(da)))
        qmax, qdiag, psd, mu = self._screen_constants()
        if psd and nk:
            q = float(da @ (self._block() @ da))
            radius = max(q, 0.0) + mu * float(da @ da) + 1e-14 * nk * mu * l1 * l1
            bound = np.sqrt((np.maximum(qdiag, 0.0) + mu) * radius)
            bound += 1e-14 * l1 * qmax
        else:
            bound = qmax * l1
        # the rounding of both evaluations of the margins (relative 1e-12 of the sums
        # of magnitudes, far above their k eps)
        mag = (
            float(np.sum(np.abs(theta[:nk])))
            + float(np.sum(np.abs(theta0[:nk])))
            + abs(h) * float(np.sum(np.abs(dtheta0[:nk])))
        )
        bound += 1e-12 * mag * qmax
        bound += abs(float(dev[-1])) + 1e-12 * (
            1.0 + abs(float(theta[-1])) + np.abs(m0) + abs(h) * np.abs(dm0)
        )
        mp = m0 + h * dm0
        th = self.th
        mp[th] = m.sub
        exact = np.zeros(self.n, dtype=bool)
        exact[th] = True
        if 0 <= k < self.n and not exact[k]:
            mp[k] = m.at(k)
            exact[k] = True
        got = self.event_values(theta, mp, age)
        e = got[0]
        flag = np.flatnonzero(~exact & (e - bound <= -etol))
        if 8 * flag.size > self.n:
            return self.event_values(theta, m, age)
        for j in flag:
            # (event_k: the value of event_values, bit for bit, from the exact margin)
            e[j] = self.event_k(int(j), theta, m, age)
        return got

    def _screen_constants(self):
        """(max_j |Q_ij| per row, Q_ii, whether the kernel is positive semidefinite
        (rbf, poly with coef0 >= 0), the margin mu = n 1e-14 max Q_ii for the rounding
        of Q) of :meth:`event_values_step`, computed at its first call (O(n^2))."""
        if self._screen is None:
            qmax = np.empty(self.n)
            row_absmax(self.Q, qmax)
            qdiag = np.ascontiguousarray(np.diag(self.Q))
            p = self.problem
            psd = p.kernel_name == "rbf" or (p.kernel_name == "poly" and p.coef0 >= 0)
            mu = 1e-14 * self.n * max(float(np.max(qdiag)), 0.0)
            self._screen = (qmax, qdiag, psd, mu)
        return self._screen

    def event_one(self, k, theta, age):
        """Event value of sample k at theta (as :meth:`event_values`) in O(k) from its
        column of Q, for the follower's bordered event step; None where
        :meth:`event_values` blocks it (a twin of a margin sample whose nearer side
        is the margin: decided on the whole partition there)."""
        g = self.part.region[k]
        if g == MARGIN:
            frac = theta[int(np.searchsorted(self.E, k))] / self.Cs[k]
            return min(frac, 1.0 - frac)
        nk = self.nE + self.nM
        m = float(theta[:nk] @ self.Q[self.th, k]) + self.y[k] * theta[-1]
        if self._m_fixed is not None:
            m += self._m_fixed[k]
        if g == OUT:
            return None if self._twin_blocked(k) else m - 1.0
        reg = self.reg
        lo, hi = reg.loss_one(age), reg.loss_zero(age)
        xi = 1.0 - m
        if g == IN1:
            if xi <= lo - xi and self._twin_blocked(k):
                return None
            return min(xi, lo - xi)
        if g == INM:
            if lo > 0.0:
                return min(xi - lo, hi - xi)
            if xi < hi - xi and self._twin_blocked(k):
                return None
            return min(xi, hi - xi)
        return xi - hi

    def _twin_blocked(self, k):
        """Sample k (not on the margin) has a twin on the margin."""
        if not (self.has_twins and self.nE) or self.group[k] < 0:
            return False
        return bool(np.any(self.group[self.E] == self.group[k]))

    def _aE(self, theta):
        """Multipliers of the margin set from the unknowns."""
        return theta[: self.nE]

    def _dm(self, dtheta):
        """Derivative of the margins along a direction of the unknowns."""
        nk = self.nE + self.nM
        out = np.empty(self.n)
        rows_matvec(self.Q, self.th, np.ascontiguousarray(dtheta[:nk]), out)
        out += self.y * dtheta[-1]
        return out

    def event_k(self, k, theta, m, age):
        """Entry k of :meth:`event_values` (the same value, bit for bit) in O(k): the
        margin of sample k from its column of Q."""
        mk = m.at(k) if isinstance(m, _Margins) else float(m[k])
        g = self.part.region[k]
        if g == MARGIN:
            frac = self._aE(theta)[int(np.searchsorted(self.E, k))] / self.Cs[k]
            return float(1.0 - frac if 1.0 - frac < frac else frac)
        if g == OUT:
            return np.inf if self._twin_blocked(k) else mk - 1.0
        reg = self.reg
        lo, hi = reg.loss_one(age), reg.loss_zero(age)
        xi = 1.0 - mk
        if g == IN1:
            if xi <= lo - xi:
                return np.inf if self._twin_blocked(k) else xi
            return float(lo - xi)
        if g == INM:
            has_one = lo > 0.0
            e_lo = xi - lo if has_one else xi
            e_up = hi - xi
            if e_lo < e_up:
                return np.inf if not has_one and self._twin_blocked(k) else float(e_lo)
            return float(e_up)
        if g == IN0:
            return float(xi - hi)
        return np.inf

    def apply(self, k, target, theta, age, info):
        full = self.to_full(theta, age=age)
        part = self.part.copy()
        old = int(part.region[k])
        new = int(target)
        part.region[k] = new
        margin_event = old in (OUT, MARGIN) or new in (OUT, MARGIN)
        self._last_jump = (
            self.discontinuous and old in _LOSS_REGIONS and new in _LOSS_REGIONS
        )
        ev = PathEvent(
            age, "margin" if margin_event else "sample", k, _NAMES[old], _NAMES[new]
        )
        if new in (OUT, IN0):
            full[k] = 0.0
        elif new == IN1:
            full[k] = self.Cs[k]
        self.b_ref = float(full[self.n])
        self.set_partition(part)
        return self.from_full(full), ev, (k,)

    def is_jump(self, k):
        return self._last_jump

    def kick_sign(self, du, event):
        """Kick side off a fold found right after ``event`` moved sample k into its new
        set: the side where k moves on through that set (its margin m_k or, on the
        margin, its multiplier a_k keeps going the way the event took it). None when
        the partition is not the post-event one."""
        k = event.index
        if event.kind not in ("sample", "margin") or not 0 <= k < self.n:
            return None
        names = {v: c for c, v in _NAMES.items()}
        old, new = names.get(event.from_set), names.get(event.to_set)
        if new is None or int(self.part.region[k]) != new:
            return None
        dm = float(self.Q[k] @ du[: self.n] + self.y[k] * du[self.n])
        if new == MARGIN:
            # on the margin: a_k grows after entering from outside, falls otherwise
            way = np.sign(du[k]) if old == OUT else -np.sign(du[k])
        elif new == OUT or (new == INM and old == IN0) or (new == IN1 and old == INM):
            way = np.sign(dm)  # margin grows (loss falls)
        else:
            way = -np.sign(dm)  # loss grows
        return float(way) or None

    def identify(self, a, b, age, mtol=1e-8):
        """Partition of a dual point (a, b) (see :meth:`_identify_raw`), repaired by
        :meth:`_refine`. Whatever is returned is checked by the follower's landing
        (Newton, events, inertia)."""
        a = np.asarray(a, dtype=np.float64)
        self._identified = None
        theta = self._identify_raw(a, b, age, mtol)
        if self.refine_repairs <= 0:
            return theta
        return self._refine(theta, age)

    _identified = None  # (theta, margins) of the last identify that checked its point

    def identified_state(self, theta):
        """The margins of ``theta`` when it is the point the last :meth:`identify`
        returned and checked (solved, no violated event, stable inertia: the
        follower's landing tests, passed), else None."""
        got = self._identified
        return got[1] if got is not None and got[0] is theta else None

    def _identify_raw(self, a, b, age, mtol=1e-8):
        """Partition of a dual point (a, b): margins within ``mtol`` of 1 are on the
        margin unless a_i sits at a bound; violators by their hinge loss."""
        reg = self.reg
        a = np.asarray(a, dtype=np.float64)
        m = self.problem.margins(a, b)
        xi = 1.0 - m
        lo, hi = reg.loss_one(age), reg.loss_zero(age)
        has_one = lo > 0.0
        cs = self.Cs
        region = np.full(self.n, INM, dtype=np.int8)
        if has_one:
            region[xi <= lo] = IN1
        if not (hi > lo):
            region[xi < hi] = IN1
        region[xi >= hi] = IN0
        on = np.abs(m - 1.0) <= mtol
        atol = 1e-10 * cs
        region[on] = MARGIN
        region[on & (a <= atol)] = OUT
        region[on & (a >= cs - atol)] = IN1 if has_one else INM
        region[m > 1.0 + mtol] = OUT
        region[self.s <= 0] = NULL
        a = a.copy()
        if self.has_twins:
            for grp in self.twin_groups:
                mem = grp[region[grp] == MARGIN]
                if mem.shape[0] < 2:
                    continue
                # keep their sum: fill the boxes in index order, at most one inside
                total = float(a[mem].sum())
                for j in mem:
                    a[j] = min(total, cs[j])
                    total -= a[j]
                    if a[j] <= atol[j]:
                        region[j] = OUT
                    elif a[j] >= cs[j] - atol[j]:
                        region[j] = IN1 if has_one else INM

        a[region == OUT] = 0.0
        a[region == IN0] = 0.0
        a[region == NULL] = 0.0
        self.b_ref = float(b)
        self.set_partition(_Partition([], [], region))
        return self.from_full(np.append(a, b))

    # repairs of an identified partition inside ``identify`` (0: none); the landing
    # (Newton, events, inertia in the follower) checks the result as before
    refine_repairs = 40  # Newton solves per identified partition
    refine_branch = 8  # samples nearest to an event tried when the repairs get stuck
    refine_chain = 6  # samples moved along the null direction when Newton fails
    refine_depth = 12  # Newton solves per branch

    def _first_unvisited(self, candidates, target, visited):
        """First candidate sample whose move to ``target`` gives a partition not in
        ``visited`` (which it is then added to), or -1."""
        for j in candidates:
            key = self._moved_key(j, target[j])
            if key not in visited:
                visited.add(key)
                return int(j)
        return -1

    def _moved_key(self, j, to):
        """Key of the current regions with sample j moved to region ``to``."""
        region = self.part.region
        old = region[j]
        region[j] = to
        key = region.tobytes()
        region[j] = old
        return key

    def _greedy(self, theta, age, visited, budget):
        """Newton and repairs (most violated event first, never back to a visited
        partition) from the partition set on the system. Returns (theta, status,
        e, m) with status "ok" (solved, no violated event, stable inertia),
        "unstable", "stuck" or "fail"; ``budget`` is a one-element list of
        remaining Newton solves."""
        while budget[0] > 0:
            budget[0] -= 1
            theta, m, ok = self.newton_exact(theta, age)
            if not ok:
                return theta, "fail", None, None
            e, _, target, info = self.event_values(theta, m, age)
            viol = np.flatnonzero(e < -ETOL)
            if viol.shape[0] == 0:
                _, stable, _ = self.factorize(self.jacobian())
                return theta, ("ok" if stable else "unstable"), e, m
            k = self._first_unvisited(viol[np.argsort(e[viol])], target, visited)
            if k < 0:
                return theta, "stuck", e, m
            theta, _, _ = self.apply(k, target[k], theta, age, info)
        return theta, "fail", None, None

    def _chain(self, theta1, age, part0, bref0, visited, budget):
        """Newton found no solution in the partition (a smooth fold: the Jacobian is
        nearly singular at Newton's last point): move, one after the other, the sample
        whose event comes first along the null direction of the Jacobian (both
        signs), with Newton and greedy repairs after each move. Returns theta of a
        point that solves the system with no violated event and a stable inertia (its
        partition set on the system) or None."""
        for sign in (1.0, -1.0):
            self.b_ref = bref0
            self.set_partition(part0.copy())
            th = theta1
            for _ in range(self.refine_chain):
                if budget[0] <= 0 or not np.all(np.isfinite(th)):
                    break
                _, m = self.G(th, age)
                K = self.jacobian()
                if not np.all(np.isfinite(K)):
                    break
                w, U = np.linalg.eigh(K)
                u = sign * U[:, int(np.argmin(np.abs(w)))]
                e, de, target, info = self.event_values(th, m, age, dtheta=u)
                cand = np.isfinite(e) & (de < 0.0) & (target != self.part.region)
                idx = np.flatnonzero(cand)
                if idx.shape[0] == 0:
                    break
                tc = np.maximum(e[idx], 0.0) / -de[idx]
                k = self._first_unvisited(idx[np.argsort(tc)][:4], target, visited)
                if k < 0:
                    break
                th, _, _ = self.apply(k, target[k], th, age, info)
                th, status, _, _ = self._greedy(th, age, visited, budget)
                if status == "ok":
                    return th
                if status != "fail":
                    break
        return None

    def _refine(self, theta, age):
        """Newton and repairs of the identified partition, never returning to a
        partition already visited (the follower's repairs take the most violated
        event, which cycles when a sample's two sides are both violated by ~1e-8: the
        rest of the partition has no solution there). When Newton fails (no solution
        in the partition) the samples whose events come first along the Jacobian's
        null direction are moved (:meth:`_chain`). When the greedy repairs get
        stuck, the samples nearest to an event of the first Newton point are moved
        one at a time (``refine_branch`` of them), each followed by greedy repairs.
        Returns the first point found that solves the system with no violated event
        and a stable inertia (its partition set on the system), or the identified one
        unchanged. The landing in the follower checks the result as before."""
        part0, theta0, bref0 = self.part.copy(), theta, self.b_ref
        key0 = part0.region.tobytes()
        cache = self._refine_cache
        if cache.get("age") != age:
            cache.clear()
            cache["age"] = age
        if key0 in cache:
            hit = cache[key0]
            if hit is None:
                return theta0
            self.b_ref = hit[2]
            self.set_partition(_Partition([], [], hit[0].copy()))
            return hit[1].copy()
        visited = {key0}
        budget = [self.refine_repairs]
        theta1, m1, ok = self.newton_exact(theta0, age)
        found = found_m = None
        if ok:
            th, status, _, m_ = self._greedy(theta1, age, visited, budget)
            if status == "ok":
                found, found_m = th, m_
        elif not (
            np.all(np.isfinite(theta1)) and np.all(np.isfinite(_full_margins(m1)))
        ):
            theta1 = theta0
            _, m1 = self.G(theta1, age)
        # Newton failed: no solution in this partition (e.g. just past a smooth fold,
        # where Newton stalls); its last point starts the chain and the branches
        if found is None and not ok and self.refine_chain > 0:
            found = self._chain(theta1, age, part0, bref0, visited, budget)
        if found is None and self.refine_branch > 0:
            self.b_ref = bref0
            self.set_partition(part0.copy())
            e1, _, target1, info1 = self.event_values(theta1, m1, age)
            fin = np.isfinite(e1) & (target1 != self.part.region)
            if ok:
                fin &= e1 >= -ETOL
            cand = np.flatnonzero(fin)
            cand = cand[np.argsort(np.abs(e1[cand]))][: self.refine_branch]
            for j in cand:
                if budget[0] <= 0:
                    break
                self.b_ref = bref0
                self.set_partition(part0.copy())
                key = self._moved_key(j, target1[j])
                if key in visited:
                    continue
                visited.add(key)
                th, _, _ = self.apply(int(j), target1[j], theta1, age, info1)
                # a branch gets at most refine_depth Newton solves
                sub = [min(budget[0], self.refine_depth)]
                spent = sub[0]
                th, status, _, m_ = self._greedy(th, age, visited, sub)
                budget[0] -= spent - sub[0]
                if status == "ok":
                    found, found_m = th, m_
                    break
        if found is not None:
            cache[key0] = (self.part.region.copy(), found.copy(), self.b_ref)
            if found_m is not None:
                self._identified = (found, found_m)
            return found
        cache[key0] = None
        self.b_ref = bref0
        self.set_partition(part0)
        return theta0

    # -- objects for AgePath
    # -----------------------------------------------------------------
    def check_X(self, X):
        return self.kernel_rows(X)

    def kernel_rows(self, X):
        if self.problem.kernel_name != "precomputed":
            X = np.asarray(X, dtype=np.float64)
            if X.ndim != 2 or X.shape[1] != self.d:
                raise ValueError(
                    f"X has shape {X.shape}; expected (n_samples, {self.d})."
                )
        else:
            X = np.asarray(X, dtype=np.float64)
            if X.ndim != 2 or X.shape[1] != self.n:
                raise ValueError(
                    f"X has shape {X.shape}; with kernel='precomputed' pass the kernel "
                    f"against the training samples, shape (n_samples, {self.n})."
                )
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinity.")
        return self.problem.kernel(X)

    def decision_full(self, Kx, x):
        return Kx @ (self.y * x[: self.n]) + x[self.n]

    def predict_full(self, Kx, x):
        cls = self.problem.classes_
        return np.where(self.decision_full(Kx, x) > 0, cls[1], cls[0])

    def dual_coef_full(self, x):
        return self.y * x[: self.n]

    def check_coef(self):
        if self.problem.kernel_name != "linear":
            raise ValueError(
                "coef is only defined for kernel='linear'; got "
                f"kernel={self.problem.kernel_name!r} (use dual_coef)."
            )

    def coef_full(self, x):
        return (self.y * x[: self.n]) @ self.problem.X

    def intercept_full(self, x):
        return float(x[self.n])

    def weights_full(self, x, age, part):
        """v from the partition's region formulas (the certificate then checks them)."""
        reg = self.reg
        g = part.region
        xi = np.maximum(1.0 - (self.Q @ x[: self.n] + self.y * x[self.n]), 0.0)
        v = np.ones(self.n)
        v[g == IN0] = 0.0
        mid = g == INM
        if mid.any():
            v[mid] = reg.middle(xi[mid], age)
        null = g == NULL
        if null.any():
            v[null] = reg.v_star(xi[null], age)
        return v

    def objective_full(self, x, age):
        return self.problem.latent_objective(x[: self.n], x[self.n], age, self.reg)

    def certify_kwargs(self, x):
        return {"dual_coef": x[: self.n].copy(), "intercept": float(x[self.n])}


class _SVMPrimalSystem(_SVMSystem):
    """Primal-reduced system of the linear-kernel SVM (notes 6.2): unknowns
    theta = (w, b, a_E), k = d + 1 + |E| whatever the size of the middle set.

        G_w = w - sum_i a_i y_i x_i,   G_b = -sum_i a_i y_i,   G_E = 1 - m_E,

    with a_i = C s_i v*(xi_i, age) on M (a function of (w, b)), C s_i on v=1, 0 on
    outside / v=0. Its Jacobian is symmetric,

        J = [[H, -B_E^T], [-B_E, 0]],
        H = diag(1, ..., 1, 0) + C sum_M s_i u_i z_i z_i^T,

    z_i = (x_i, 1), B_E the rows y_i z_i^T (i in E); a stable point has exactly |E|
    negative and d + 1 positive eigenvalues (H positive definite on null(B_E)). The
    events, the partition and the full coordinates (a, b) are those of the dual.
    """

    bordered = False
    schur = False
    event_one = None  # margins from (w, b): the events are located by the secant
    chord_margins = None  # its G is not the dual's: every G is a pass

    def __init__(self, problem, reg):
        super().__init__(problem, reg)
        self.X = problem.X

    def set_partition(self, part):
        self._set_regions(part)
        self.sup = np.concatenate([self.E, self.M, self.I1])
        self.a_fixed = self.Cs[self.I1]
        self.free_b = self.nE + self.nM == 0
        self.ZM = np.column_stack([self.X[self.M], np.ones(self.nM)])
        self.BE = self.y[self.E, None] * np.column_stack(
            [self.X[self.E], np.ones(self.nE)]
        )

    def k(self):
        return self.d + 1 + self.nE

    def _aE(self, theta):
        return theta[self.d + 1 :]

    def _dm(self, dtheta):
        d = self.d
        return self.y * (self.X @ dtheta[:d] + dtheta[d])

    def margins(self, theta):
        d = self.d
        return self.y * (self.X @ theta[:d] + theta[d])

    def _a_sup(self, theta):
        aM = self.Cs[self.M] * self.vM
        return np.concatenate([self._aE(theta), aM, self.a_fixed])

    def G(self, theta, age):
        d = self.d
        m = self.margins(theta)
        self.terms(m, age)
        ay = self._a_sup(theta) * self.y[self.sup]
        g = np.empty(self.k())
        g[:d] = theta[:d] - ay @ self.X[self.sup]
        g[d] = theta[d] - self.b_ref if self.free_b else -ay.sum()
        g[d + 1 :] = 1.0 - m[self.E]
        return g, m

    def jacobian(self):
        d, nE = self.d, self.nE
        K = np.zeros((d + 1 + nE, d + 1 + nE))
        cu = self.Cs[self.M] * self.uM
        with np.errstate(invalid="ignore", over="ignore"):
            K[: d + 1, : d + 1] = self.ZM.T @ (cu[:, None] * self.ZM)
        K[np.arange(d), np.arange(d)] += 1.0
        if self.free_b:
            K[d, d] = 1.0
        K[: d + 1, d + 1 :] = -self.BE.T
        K[d + 1 :, : d + 1] = -self.BE
        self._K = K
        return K

    def prec(self, g):
        return g

    def dG_dage(self, m):
        out = np.zeros(self.k())
        w = self.Cs[self.M] * self.vaM * self.y[self.M]
        out[: self.d + 1] = -(w @ self.ZM)
        return out

    def factorize(self, K):
        """LDL^T of J; stable when it has exactly |E| negative eigenvalues and no zero
        one (notes 6.3, primal-reduced)."""
        got = _ldl(K)
        if got is None:
            return None, False, False
        ldu, ipiv, ev = got
        aev = np.abs(ev)
        stable = int(np.sum(ev < 0)) == self.nE and int(np.sum(ev > 0)) == self.d + 1
        if not stable or aev.min() <= 1e-13 * max(1.0, float(aev.max())):
            return None, False, False
        return (ldu, ipiv), True, False

    def to_full(self, theta, part=None, age=None):
        if part is not None and part is not self.part:
            saved = self.part
            self.set_partition(part)
            try:
                return self.to_full(theta, age=age)
            finally:
                self.set_partition(saved)
        x = np.zeros(self.n + 1)
        x[self.I1] = self.Cs[self.I1]
        x[self.E] = self._aE(theta)
        if self.nM:
            if age is None:
                raise ValueError("the primal-reduced system needs the age")
            xi = 1.0 - self.margins(theta)[self.M]
            x[self.M] = self.Cs[self.M] * np.asarray(
                self.reg.middle(xi, age), dtype=np.float64
            )
        x[self.n] = theta[self.d]
        return x

    # -- the dual point of a primal-reduced one
    # The follower's Newton stops at ||G||_inf <= gtol. For the dual system that bounds
    # the margins; here the dual margins of the full point (Q a + y b, what the
    # certificate and the user see) differ from the primal ones by x_i . G_w, up to
    # ||x_i||_1 gtol (1.7e-10 on breast_cancer: with the log regularizer at its
    # default age_max v* has a slope of 7e4 at loss 0, and such a margin sample's
    # v = 1 was 4.9e-7 from v*(loss)). A converged point returned to the user is
    # therefore refined past gtol, while Newton contracts with steps at the rounding
    # level, before it is mapped to (a, b); a point that did not converge (the end of
    # a stopped branch) or a nearly singular system's large step is left as it is.
    def refine_stored(self, theta, age, max_iter=3):
        g, _ = self.G(theta, age)
        gn = np.max(np.abs(g), initial=0.0)
        if not gn <= self.gtol:
            return theta
        for _ in range(max_iter):
            if gn == 0.0:
                break
            try:
                step = self.newton_step(g)
            except (np.linalg.LinAlgError, ValueError):
                break
            if not np.max(np.abs(step)) <= 1e-8 * max(1.0, np.max(np.abs(theta))):
                break
            t2 = theta - step
            g2, _ = self.G(t2, age)
            gn2 = np.max(np.abs(g2), initial=0.0)
            if not gn2 <= 0.5 * gn:
                break
            theta, g, gn = t2, g2, gn2
        return theta

    def stored_full(self, x, part, age=None):
        return self.polish_stored(x, age, part, max_iter=0)

    def dir_full(self, dtheta):
        """A direction of the unknowns in full coordinates (a, b), to first order at
        the point of the last ``G`` (a_M moves with its loss)."""
        x = np.zeros(self.n + 1)
        x[self.E] = self._aE(dtheta)
        if self.nM:
            x[self.M] = -(self.Cs[self.M] * self.uM) * self._dm(dtheta)[self.M]
        x[self.n] = dtheta[self.d]
        return x

    def from_full(self, x):
        a = x[: self.n]
        w = (a * self.y) @ self.X
        return np.concatenate([w, x[self.n : self.n + 1], a[self.E]])

    def knot_arrays(self, stored, segments, seg_of_knot):
        d = self.d
        return {
            "coef_knots": np.array([x[:d] for x in stored]),
            "intercept_knots": np.array([float(x[d]) for x in stored]),
        }


def _default_range(problem, reg, fit=None):
    """Default age range of the SVM path from the hinge losses of the v = 1 fit.

    Samples on the right side of the margin have loss 0 and weight 1 at every age, so
    the range is set by the violators (positive losses): ``age_max`` is the smallest
    age at which every sample has ``v* >= 0.99`` (relative to the supremum of v* where
    it stays below 1, see :func:`gaga._lasso_path.default_age_range`); ``age_min`` is
    the age at which the (weighted lower) median positive loss just gets a positive
    weight (``loss_zero(age_min)`` slightly above it): about half of the violators are
    in at the start. A separable problem
    (no violator) gets the range [1e-3, 1] of ages (no sample event can occur).
    ``fit``: the v = 1 fit (a, b) when already computed.
    """
    a, b = _v1_fit(problem) if fit is None else fit
    keep = problem.sample_weight > 0
    l = problem.losses(a, b)[keep]
    s = problem.sample_weight[keep]
    pos = l > 1e-9
    if not np.any(pos):
        lo, hi = reg.age_bounds
        top = min(1.0, 0.5 * (max(lo, 0.0) + hi)) if np.isfinite(hi) else 1.0
        return 1e-3 * top, top
    # (the hinge losses are in margin units, whatever the scale of X or C)
    hint = "choose a regularizer whose ages reach the hinge losses"
    _, age_max = _range_from_losses(l[pos], s[pos], reg, rescale=hint)
    lmed = _weighted_lower_median(l[pos], s[pos])
    low = max(reg.age_bounds[0], 0.0)
    a, b = low, age_max
    if not reg.loss_zero(b) > lmed:
        return _range_from_losses(l[pos], s[pos], reg, rescale=hint)
    for _ in range(200):
        mid = 0.5 * (a + b)
        if reg.loss_zero(mid) > lmed:
            b = mid
        else:
            a = mid
        if b - a <= 1e-12 * b:
            break
    return min(b * (1 + 1e-6), 0.5 * (b + age_max)), age_max


def _v1_fit(problem):
    """The plain SVC of the problem (every v_i = 1), solved by the SMO solver: (a, b).
    Warns (ConvergenceWarning) when the solver stops at its iteration limit."""
    a, b, info = problem.solve_weighted(np.ones(problem.n_samples))
    if not info["converged"]:
        warnings.warn(
            f"The SVM solver stopped at {info['n_iter']} pair updates with a maximal "
            f"violation of {info['violation']:.1e} (tolerance 1e-10) on the plain "
            "SVC (every v = 1) that starts the age path; the path starts from that "
            "point and its landings polish it. A degenerate problem (for example the "
            "linear kernel on many tied or collinear rows) converges slowly.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return a, b


# small dense systems and matrix-vector products: BLAS threads only add overhead (and
# stall when the cores are busy)
@threadpool_limits.wrap(limits=1, user_api="blas")
def age_path_svm(
    X,
    y,
    *,
    regularizer="linear",
    C=1.0,
    kernel="rbf",
    gamma="scale",
    degree=3,
    coef0=0.0,
    age_min=None,
    age_max=None,
    sample_weight=None,
    tol=1e-8,
    max_events=None,
    verbose=0,
):
    """Exact age path of the self-paced binary SVM (hinge loss, intercept, any kernel).

    Follows the curve of partial optima age -> (a, b, v) of

        0.5 ||w||^2 + C sum_i s_i [v_i max(0, 1 - y_i f(x_i)) + f(v_i, age)]

    in the dual (``a``: multipliers, ``f(x) = sum_j a_j y_j K(x_j, x) + b``) from a
    certified ACS start at ``age_min`` to ``age_max``: ODE predictor and Newton
    corrector on each segment of fixed partition (margin sets times regularizer
    regions), events located by root finding, jumps (warm-started ACS with our own SMO
    solver) at folds and discontinuities of v*. The loss compared with the age is the
    hinge ``max(0, 1 - y_i f(x_i))``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
        Training data (the kernel matrix for ``kernel="precomputed"``, which must be
        symmetric positive semidefinite).
    y : array-like of shape (n_samples,)
        Labels with exactly two values; the second in sorted order is +1.
    regularizer : str or Regularizer, default="linear"
    C : float, default=1.0
    kernel : {"linear", "rbf", "poly", "sigmoid", "precomputed"}, default="rbf"
    gamma : {"scale", "auto"} or float, default="scale"
    degree : int, default=3
    coef0 : float, default=0.0
        Kernel parameters with :class:`sklearn.svm.SVC`'s meaning.
    age_min, age_max : float, default=None
        Age range; data-driven defaults from the hinge losses of the v = 1 fit (see
        :func:`_default_range`).
    sample_weight : array-like of shape (n_samples,), default=None
        Nonnegative; multiplies C per sample as in ``SVC``.
    tol : float, default=1e-8
        Alternate convex search at the start and at jumps stops at
        ``max |delta v| <= tol / 1000`` unless a landing on the optimality system
        (Newton to machine precision, events and inertia checked) succeeds earlier.
    max_events : int, default=None
        Bound on the number of events (None: 50 * n_samples); when reached the path
        stops with a ``ConvergenceWarning`` that states the age reached.
    verbose : int, default=0

    Returns
    -------
    AgePath
        With ``dual_coef``, ``decision_function``, ``predict`` (labels) and, for the
        linear kernel, ``coef``.

    Notes
    -----
    Memory: the kernel matrix and ``Q = y y^T * K`` are stored, 2 n_samples**2 float64
    values (64 MB at n = 2000). The follower adds dense matrices of the order ``k`` of
    its system (the margin and middle samples, plus one): a few blocks of Q kept for
    reuse and the system's matrix (assembled from its block only for a jump or an
    LDL^T), up to about ``6 k**2`` float64 values, and the Schur complement of the
    margin block with its factor, up to about ``2.6 (m + 1)**2`` with ``m`` the number
    of middle samples. The jumps' weighted solver keeps the LU factors of one free set
    (at most 601**2 values). These are dropped when the path is followed: the returned
    path keeps K and Q (and its knots).
    Samples with v = 0 at an age are out of the training set at that age; the samples
    with v > 0 must contain both classes at ``age_min``.
    """
    reg = get_regularizer(regularizer)
    problem = SVMProblem(
        X,
        y,
        C=C,
        kernel=kernel,
        gamma=gamma,
        degree=degree,
        coef0=coef0,
        sample_weight=sample_weight,
    )
    max_events = check_path_args(max_events, tol, 50 * problem.n_samples)
    fit = []  # the v = 1 fit, solved once (the default range and the start read it)

    def v1_fit():
        if not fit:
            fit.append(_v1_fit(problem))
        return fit[0]

    age_min, age_max, user_min = resolve_age_range(
        reg, age_min, age_max, lambda: _default_range(problem, reg, v1_fit())
    )
    # the linear kernel follows the smaller primal-reduced system (d + 1 + |E| unknowns
    # instead of |E| + |M| + 1) unless there are more features than samples
    if problem.kernel_name == "linear" and problem.n_features < problem.n_samples:
        system = _SVMPrimalSystem(problem, reg)
    else:
        system = _SVMSystem(problem, reg)
    a0, b0 = v1_fit()
    return follow_path(
        system,
        age_min=age_min,
        age_max=age_max,
        user_min=user_min,
        max_events=max_events,
        acs_tol=max(1e-3 * tol, 1e-12),
        verbose=verbose,
        start=lambda fol, a: _start(fol, problem, reg, a0, b0, a),
        excluded_message=lambda a: (
            f"At age_min={a!r} the samples with v > 0 do not contain both classes "
            "(alternate convex search from the v = 1 fit)."
        ),
        label="SVM",
    )


def _start(fol, problem, reg, a0, b0, age_min):
    v0 = reg.v_star(problem.losses(a0, b0), age_min)
    u = problem.sample_weight * v0
    if not (np.any(u[problem.y_pm > 0] > 0) and np.any(u[problem.y_pm < 0] > 0)):
        raise _AllExcluded
    try:
        return fol.acs_land(a0, b0, age_min)
    except (ZeroWeightsError, OneClassError):
        raise _AllExcluded from None
