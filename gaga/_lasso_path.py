"""Exact age path of the self-paced Lasso (GAGA): predictor-corrector, set control.

Conventions: ``age-path-spec.md`` sections 1, 4, 6-9; implementation details:
``age-path-notes.md`` sections 4-5. The problem is

    min_{w, b, v} (1/S) sum_i s_i [v_i l_i(w, b) + f(v_i, age)] + alpha ||w||_1,

with l_i = (y_i - x_i.w - b)^2 / 2. On a segment (fixed partition: active features A
with signs, samples in v = 1 / middle / v = 0) the unknowns theta = (w_A, b) solve G = 0
with

    G = -(1/S) sum_i s_i v_i r_i z_i + alpha (sign_A, 0),
    J = (1/S) sum_i h_i z_i z_i^T,   h_i = s_i (v_i + r_i^2 dv*/dl),
    dG/dage = -(1/S) sum_i s_i (dv*/dage) r_i z_i.
"""

import numpy as np
from scipy.linalg.lapack import dpotrf, dpotrs
from threadpoolctl import threadpool_limits

from gaga import _lasso_descend as _ld
from gaga import _lasso_kernels as _lk
from gaga import _lasso_loop as _ll
from gaga._follower import (
    _AllExcluded,
    _Partition,
    _SystemBase,
    check_path_args,
    follow_path,
    resolve_age_range,
)
from gaga._path import PathEvent
from gaga._spl_kernels import MIXTURE as _MIXTURE
from gaga.problems import ZeroWeightsError
from gaga.regularizers import get_regularizer

_REGION_NAMES = {0: "v=0", 1: "v=1", 2: "middle"}
_J1_REBUILD = 256  # rank-one terms before the v = 1 part of J is summed afresh


class _LassoSystem(_SystemBase):
    """Optimality system of the self-paced Lasso restricted to a partition."""

    acs_chunk = 20
    land_batch = True
    land_dv = 1e-2  # try to land once an ACS chunk moves v by at most this
    # the start: a descent and a landing after every 5 ACS solves, however far v still
    # moves (from the v = 1 fit ACS wanders for ~35 solves with max |delta v| ~ 0.1 to
    # 0.2 before it contracts; the descent from its 5th or 10th point lands on the
    # point ACS reaches. 5000 x 50 mixture: 41 -> 10 solves, same start and events)
    start_chunk = 5
    start_land_dv = 1.0
    # up to this many unknowns the exact Jacobian (one O(n k^2 / 2) pass) is assembled
    # at every point: cheaper than rank-one updates plus O(n k) refinement passes
    exact_k = 24
    refine_exact = False  # Cholesky of the exact J: backward stable, no refinement
    events_set_state = True  # event_values recomputes v, h, dv/dage from r
    descend_first = True  # a jump tries the latent descent before ACS
    fast = True  # the compiled event loop takes the regular iterations (False: Python)
    # its screening evaluates about cand_mult sqrt(n) candidates (measured: 2 for the
    # linear regularizer; 1 for the mixture, whose middle samples all enter through
    # moments: 5000 x 50 0.19 -> 0.18 s, 20000 x 50 1.43 -> 1.28 s)
    cand_mult = 2.0
    cand_mult_mixture = 1.0

    def __init__(self, problem, reg):
        self.problem = problem
        self.reg = reg
        self.X = problem.X
        self.y = problem.y
        self.s = problem.sample_weight
        self.S = float(problem.S)
        self.alpha = float(problem.alpha)
        self.fit_intercept = bool(problem.fit_intercept)
        self.n, self.d = self.X.shape
        self.kind = int(reg.kind)
        self.param = float(reg.param)
        self.discontinuous = not reg.continuous
        self.static = self.kind == 0
        # Newton tolerance on ||G||_inf (units of alpha), and event tolerance
        self.gtol = 1e-12 * max(1.0, self.alpha)
        yscale = float(np.max(np.abs(self.y - np.average(self.y, weights=self.s))))
        self.loss_scale = max(1.0, 0.5 * yscale**2)
        self.colnorm = np.linalg.norm(self.X, axis=0)
        # (contiguous columns of X, for the inactive features)
        self.XT = problem._X_transposed()
        self._c_ref = None  # (active set, u, c) of the last exact correlations
        self._J1 = None  # [active set, J1, c1, samples in v = 1, rank-one terms]
        self._stepped = None  # (age, theta, r, |G|) of the last compiled event step
        self._mid = None  # (partition, its middle samples)
        self._znorm = None  # (active set, ||z_i||) for the compiled loop's screening
        self.fast_counters = np.zeros(17, dtype=np.int64)
        self.v = np.empty(self.n)
        self.h = np.empty(self.n)
        self.va = np.empty(self.n)

    # -- coordinates
    # ----------------------------------------------------------------------
    def set_partition(self, part):
        self.part = part
        key = part.active.tobytes()
        if getattr(self, "_active_key", None) != key:
            # gathered column blocks, kept while the active set does not change
            self._active_key = key
            self.XA = np.ascontiguousarray(self.X[:, part.active])
            self.inactive = np.setdiff1d(np.arange(self.d), part.active)

    def k(self):
        return len(self.part.active) + int(self.fit_intercept)

    def _middle(self):
        """Indices of the middle samples of the current partition (kept per
        partition: the tangent and the event step both need them)."""
        mid = self._mid
        if mid is None or mid[0] is not self.part:
            mid = self._mid = (self.part, np.flatnonzero(self.part.region == _lk.RM))
        return mid[1]

    def acs_inner_tol(self, solver, dv):
        """Inexact ACS: the weighted Lasso of an ACS step is solved only as far as the
        weights have settled (KKT tolerance 1e-2 max |delta v| of the previous step,
        between 1e-12 and 1e-2; duality gap its square). The point is polished by
        Newton on the identified partition when it lands, and near convergence the
        inner solves are as tight as the default."""
        t = min(1e-2, max(1e-12, 1e-2 * dv))
        solver.tol_kkt = t
        solver.inner_tol = max(1e-12, t * t)

    @property
    def incremental(self):
        return self.k() > self.exact_k

    def to_full(self, theta, part=None, age=None):
        part = self.part if part is None else part
        x = np.zeros(self.d + 1)
        nA = len(part.active)
        x[part.active] = theta[:nA]
        if self.fit_intercept:
            x[self.d] = theta[nA]
        return x

    def from_full(self, x, part=None):
        part = self.part if part is None else part
        th = x[part.active]
        if self.fit_intercept:
            th = np.append(th, x[self.d])
        return np.ascontiguousarray(th, dtype=np.float64)

    def split_full(self, full):
        full = np.atleast_2d(full)
        return full[:, : self.d].copy(), full[:, self.d].copy()

    # -- evaluations
    # ----------------------------------------------------------------------
    def residual(self, theta):
        nA = len(self.part.active)
        r = self.y - self.XA @ theta[:nA] if nA else self.y.copy()
        if self.fit_intercept:
            r -= theta[nA]
        return r

    def terms(self, r, age):
        """v, h, dv/dage for the current regions (fills self.v, self.h, self.va)."""
        if self.kind >= 0:
            _lk.sample_terms(
                self.kind,
                self.param,
                self.part.region,
                r,
                self.s,
                age,
                self.v,
                self.h,
                self.va,
            )
        else:
            self._terms_python(r, age)
        return self.v, self.h, self.va

    def _terms_python(self, r, age):
        reg = self.reg
        g = self.part.region
        v, h, va = self.v, self.h, self.va
        v[:] = 0.0
        h[:] = 0.0
        va[:] = 0.0
        one = g == _lk.R1
        v[one] = 1.0
        h[one] = self.s[one]
        mid = g == _lk.RM
        if mid.any():
            rm = r[mid]
            lm = 0.5 * rm * rm
            ph = reg.middle(lm, age)
            v[mid] = ph
            h[mid] = self.s[mid] * (ph + rm * rm * reg.middle_dloss(lm, age))
            va[mid] = reg.middle_dage(lm, age)

    def G(self, theta, age):
        """Residual of the optimality system and the residuals r (fills v, h, va)."""
        nA = len(self.part.active)
        if self.kind >= 0:
            r = np.empty(self.n)
            g = np.empty(self.k())
            _lk.lasso_G(
                self.XA,
                self.y,
                self.s,
                theta,
                self.fit_intercept,
                self.part.region,
                self.kind,
                self.param,
                age,
                r,
                self.v,
                self.h,
                self.va,
                g,
            )
            g /= -self.S
        else:
            r = self.residual(theta)
            v, h, va = self.terms(r, age)
            g = -self.Z_T(self.s * v * r) / self.S
        if nA:
            g[:nA] += self.alpha * self.part.signs
        return g, r

    def Z_T(self, vec):
        """Z^T vec with Z = [X_A, 1] (the 1 only with an intercept)."""
        nA = len(self.part.active)
        out = np.empty(self.k())
        if nA:
            out[:nA] = self.XA.T @ vec
        if self.fit_intercept:
            out[nA] = vec.sum()
        return out

    def Z_dot(self, theta):
        nA = len(self.part.active)
        out = self.XA @ theta[:nA] if nA else np.zeros(self.n)
        if self.fit_intercept:
            out = out + theta[nA]
        return out

    def jacobian(self):
        """Exact J = (1/S) Z^T diag(h) Z (uses self.h): the samples in region v = 1
        have the constant curvature s_i, their sum is kept (:meth:`_one_part`) and only
        the middle ones are summed at each call."""
        k = self.k()
        J = np.empty((k, k))
        # h is -inf where v* has an infinite slope (polynomial t > 2): the non-finite J
        # is then reported as unstable by the follower
        _lk.lasso_J(self.XA, self.fit_intercept, self.h, self.part.region, True, J)
        J += self._one_part()[0]
        J /= self.S
        return J

    def _one_part(self):
        """The v = 1 samples' constant parts, unscaled: ``J1 = sum s_i z_i z_i^T`` and
        ``c1 = sum s_i y_i z_i`` (their share of G is ``c1 - J1 theta``), kept across
        calls: rebuilt when the active set changes or after ``_J1_REBUILD`` rank-one
        terms, else updated at the samples that entered or left the region."""
        region = self.part.region
        one = region == _lk.R1
        st = self._J1
        if st is None or st[0] != self._active_key or st[4] >= _J1_REBUILD:
            k = self.k()
            J1 = np.empty((k, k))
            w = np.where(one, self.s, 0.0)
            _lk.lasso_J(self.XA, self.fit_intercept, w, region, False, J1)
            c1 = self.Z_T(w * self.y)
            self._J1 = [self._active_key, J1, c1, one, 0]
            return J1, c1
        J1, c1, mask = st[1], st[2], st[3]
        changed = np.flatnonzero(one != mask)
        if changed.size > 16 + self.k():
            # many moved (a landing): one compiled pass beats the rank-one terms
            st[4] = _J1_REBUILD
            return self._one_part()
        for i in changed:
            z = self.z_row(i)
            si = self.s[i] if one[i] else -self.s[i]
            J1 += si * np.outer(z, z)
            c1 += (si * self.y[i]) * z
        st[3] = one
        st[4] += changed.size
        return J1, c1

    def jac_vec(self, vec):
        """Exact J @ vec = (1/S) Z^T (h * (Z vec)), one O(n |A|) pass (uses self.h)."""
        out = np.empty(self.k())
        _lk.jac_vec(self.XA, self.fit_intercept, self.h, vec, out)
        return out / self.S

    def z_row(self, i):
        nA = len(self.part.active)
        z = np.empty(self.k())
        z[:nA] = self.XA[i]
        if self.fit_intercept:
            z[nA] = 1.0
        return z

    def dG_dage(self, r):
        if self.kind < 0:
            return -self.Z_T(self.s * self.va * r) / self.S
        out = np.empty(self.k())
        _lk.dG_dage_rows(
            self.XA,
            self.fit_intercept,
            self._middle(),
            self.s,
            self.va,
            r,
            out,
        )
        return out / -self.S

    def _sample_state_python(
        self, theta, r, age, dtheta, lo, hi, dlo, dhi, has_one, e, de, target
    ):
        """:func:`_lasso_kernels.sample_state` for a user-defined regularizer."""
        n = self.n
        v, h, va = self.terms(r, age)
        dr = np.zeros(n) if dtheta is None else -self.Z_dot(dtheta)
        _lk.sample_events(
            self.part.region,
            r,
            dr,
            lo,
            hi,
            dlo,
            dhi,
            has_one,
            self.discontinuous,
            self.loss_scale,
            e[:n],
            de[:n],
            target[:n],
        )
        u = self.s * v * r / self.S
        q = None
        if dtheta is not None:
            with np.errstate(invalid="ignore"):
                # polynomial t > 2: infinite slopes exactly at a threshold (the
                # stability test then fails and the path jumps); keep them finite
                q = np.nan_to_num(
                    h * dr + self.s * r * va, nan=0.0, posinf=0.0, neginf=0.0
                )
        return u, q

    def _feature_correlations(self, u, q=None):
        """Correlations ``c_j = x_j . u`` of the inactive features with ``u = s v r /
        S`` and, given ``q``, their age derivatives ``dc_j = x_j . q / S`` (0 on A),
        exact only where an event is possible.

        Screening: since the last exact evaluation of all of them (``u_ref``,
        ``c_ref``, same active set), ``|c_j - c_ref_j| <= ||x_j|| ||u - u_ref||``
        (Cauchy-Schwarz). Where that bound keeps ``|c_j|`` below ``0.999 alpha`` the
        feature cannot have an event before the next exact evaluation: its entry is
        the bound itself (an upper bound of ``|c_j|``: its event value is a positive
        lower bound of the true one) with ``dc_j = 0``, and its O(n) products are
        skipped. The step's event check is then still rigorous; only the horizon of
        such a feature is not predicted. All are recomputed (and the reference reset)
        when more than half are unsure.
        """
        d = self.d
        c = np.zeros(d)
        dc = np.zeros(d)
        ina = self.inactive
        if not ina.size:
            return c, dc
        has_q = q is not None
        qs = q / self.S if has_q else u
        ref = self._c_ref
        if ref is not None and ref[0] == self._active_key:
            dn = float(np.linalg.norm(u - ref[1]))
            bound = np.abs(ref[2]) + self.colnorm[ina] * dn
            unsure = np.flatnonzero(bound >= 0.999 * self.alpha)
            if 2 * unsure.size <= ina.size:
                c[ina] = bound
                _lk.correlations_subset(self.XT, ina[unsure], u, qs, has_q, c, dc)
                return c, dc
        _lk.correlations_subset(self.XT, ina, u, qs, has_q, c, dc)
        self._c_ref = (self._active_key, u, c[ina].copy())
        return c, dc

    # -- objects for AgePath
    # -----------------------------------------------------------------
    def check_X(self, X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ValueError(f"X has shape {X.shape}; expected (n_samples, {self.d}).")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinity.")
        return X

    def predict_full(self, X, x):
        return X @ x[: self.d] + x[self.d]

    def losses_full(self, x):
        r = self.y - self.X @ x[: self.d] - x[self.d]
        return 0.5 * r * r

    def weights_full(self, x, age, part):
        """v from the partition's region formulas (not re-derived from v*), so that the
        certificate's v-consistency test checks the partition."""
        l = self.losses_full(x)
        v = np.zeros(self.n)
        g = part.region
        v[g == _lk.R1] = 1.0
        mid = g == _lk.RM
        if mid.any():
            v[mid] = self.reg.middle(l[mid], age)
        return v

    def objective_full(self, x, age):
        l = self.losses_full(x)
        return float(
            np.dot(self.s, self.reg.latent(l, age)) / self.S
            + self.alpha * np.abs(x[: self.d]).sum()
        )

    # -- coordinates of knots (full (w, b): O(d) per knot)
    # ----------------------------------------------------------
    def dir_full(self, dtheta):
        return self.to_full(dtheta)

    store = dir_full
    store_dir = dir_full

    def stored_full(self, x, part, age=None):
        return x.copy()

    def split_acs(self, full):
        return full[: self.d], float(full[self.d])

    def knot_arrays(self, stored, segments, seg_of_knot):
        full = np.array(stored)
        coef, intercept = self.split_full(full)
        return {"coef_knots": coef, "intercept_knots": intercept}

    def check_coef(self):
        pass

    def coef_full(self, x):
        return x[: self.d].copy()

    def intercept_full(self, x):
        return float(x[self.d])

    def certify_kwargs(self, x):
        coef, b = self.split_full(x[None])
        return {"coef": coef[0], "intercept": float(b[0])}

    # -- linear algebra (J is symmetric positive definite on a stable branch)
    # ----------------------------------------------------------
    def snapshot_terms(self):
        return self.h.copy()

    def rank_one(self, J, hJ, moved):
        """Update J in place at the moved samples: (h_i - h_i_old) z_i z_i^T / S."""
        for i in moved:
            z = self.z_row(i)
            J += ((self.h[i] - hJ[i]) / self.S) * np.outer(z, z)
            hJ[i] = self.h[i]

    def factorize(self, J):
        """Cholesky of J: (factor, stable, marginal); stable means positive definite."""
        if not np.all(np.isfinite(J)):
            # an infinite slope of v* at a threshold (polynomial t > 2): not stable
            return None, False, False
        # LAPACK directly (scipy's cho_factor wrapper costs more than the factorization
        # of these small matrices)
        c, info = dpotrf(J, lower=1, clean=0)
        if info != 0:
            return None, False, False
        d = np.abs(np.diag(c))
        if d.min() <= 1e-9 * max(1.0, d.max()):
            return None, False, False
        return (c, True), True, bool(d.min() ** 2 <= 1e-2 * d.max() ** 2)

    def fac_solve(self, fac, rhs):
        # LAPACK directly: scipy's cho_solve wrapper costs more than the solve here
        x, info = dpotrs(fac[0], rhs, lower=1)
        return x

    def is_jump(self, k):
        return self.discontinuous and k < self.n

    def is_rank_one(self, k):
        return k < self.n

    # -- events
    # -----------------------------------------------------------------------------
    def event_values(self, theta, r, age, dtheta=None):
        """Event functions (samples, then features), derivatives and targets."""
        reg = self.reg
        n, d = self.n, self.d
        lo, hi = reg.loss_one(age), reg.loss_zero(age)
        dlo, dhi = reg.dloss_one(age), reg.dloss_zero(age)
        has_one = lo > 0.0
        e = np.empty(n + d)
        de = np.empty(n + d)
        target = np.empty(n + d, dtype=np.int8)
        if self.kind >= 0:
            u = np.empty(n)
            q = np.empty(n)
            _lk.sample_state(
                self.kind,
                self.param,
                self.part.region,
                self.XA,
                self.fit_intercept,
                r,
                self.s,
                age,
                np.zeros(0) if dtheta is None else dtheta,
                dtheta is not None,
                lo,
                hi,
                dlo,
                dhi,
                has_one,
                self.discontinuous,
                self.loss_scale,
                self.S,
                self.v,
                self.h,
                self.va,
                e[:n],
                de[:n],
                target[:n],
                u,
                q,
            )
            if dtheta is None:
                q = None
        else:
            u, q = self._sample_state_python(
                theta, r, age, dtheta, lo, hi, dlo, dhi, has_one, e, de, target
            )
        c, dc = self._feature_correlations(u, q)
        active = self.part.active
        nA = len(active)
        # inactive features: 1 - |c_j| / alpha
        sgn = np.where(c >= 0, 1.0, -1.0)
        e[n:] = 1.0 - sgn * c / self.alpha
        de[n:] = -sgn * dc / self.alpha
        target[n:] = 1
        if nA:
            wscale = max(1.0, float(np.max(np.abs(theta[:nA]))))
            e[n + active] = self.part.signs * theta[:nA] / wscale
            de[n + active] = (
                0.0 if dtheta is None else self.part.signs * dtheta[:nA] / wscale
            )
            target[n + active] = 0
        return e, de, target, c

    def event_k(self, k, theta, r, age):
        """Value of event function k at a corrected point (same scaling as
        :meth:`event_values`); uses the sample terms computed by the last ``G``."""
        n = self.n
        if k < n:
            return self._sample_event(k, float(r[k]), age)
        j = k - n
        pos = np.flatnonzero(self.part.active == j)
        if pos.size:
            nA = len(self.part.active)
            wscale = max(1.0, float(np.max(np.abs(theta[:nA]))))
            return float(self.part.signs[pos[0]] * theta[pos[0]] / wscale)
        cj = float(self.X[:, j] @ (self.s * self.v * r)) / self.S
        return 1.0 - abs(cj) / self.alpha

    def bordered_step(self, k, theta, age, dtheta, h, slope, fac, age_max, ftol):
        """Compiled bordered chord Newton to sample k's event (see
        :meth:`_Follower.step_to_event`; :func:`gaga._lasso_loop._bordered` on the
        middle samples and k, their v = 1 part from the kept sums): (theta, r, age,
        iterations), None when it does not converge, NotImplemented for a feature event
        or a user-defined regularizer."""
        if k >= self.n or self.kind < 0:
            return NotImplemented
        mid = self._middle()
        if self.part.region[k] != _lk.RM:
            mid = np.insert(mid, np.searchsorted(mid, k), k)
        J1, c1 = self._one_part()
        status, th, lam, gn, it = _ll._bordered(
            mid,
            self.part.region,
            self.XA,
            self.y,
            self.s,
            self.fit_intercept,
            self.kind,
            self.param,
            self.S,
            self.alpha,
            np.asarray(self.part.signs, dtype=np.float64),
            fac[0],
            J1,
            c1,
            theta,
            dtheta,
            age,
            h,
            slope,
            k,
            age_max,
            self.gtol,
            ftol,
            self.loss_scale,
            self.discontinuous,
            np.empty(self.n),
            self.v,
            np.empty(self.k()),
            False,
            _ll.NO_MOMENTS,
            theta,
        )
        if status != 1:
            return None
        # the located point checked with one full pass (which leaves its sample state)
        g, r = self.G(th, lam)
        gn = float(np.max(np.abs(g), initial=0.0))
        if gn > self.gtol:
            return None
        self._stepped = (lam, th, r, gn)
        return th, r, lam, it

    def fast_events(self, fol, theta, age, seg, pending, h_ctrl):
        """The follower's regular iterations compiled (:func:`gaga._lasso_loop.
        run_events`) from a point where its loop starts one: the events and knots are
        recorded on ``fol``; returns (theta, age, seg, pending, h_ctrl, again) where
        Python's loop goes on (again: after a feature's event the compiled loop takes
        the next iteration too), or None where the compiled loop does not apply (a
        user-defined or discontinuous regularizer, more unknowns than ``exact_k``)."""
        if (
            not self.fast
            or self.kind < 0
            or self.discontinuous
            or self.k() > self.exact_k
            or not np.isfinite(h_ctrl)
        ):
            return None
        budget = fol.max_events - len(fol.events)
        if budget <= 0:
            return None
        cap = min(budget, 4096)
        k = self.k()
        part = self.part
        nA = len(part.active)
        if self._znorm is None or self._znorm[0] != self._active_key:
            zn = np.einsum("ij,ij->i", self.XA, self.XA)
            if self.fit_intercept:
                zn += 1.0
            self._znorm = (self._active_key, np.sqrt(zn))
        ev_age = np.empty(cap)
        ev_k = np.empty(cap, dtype=np.intp)
        ev_from = np.empty(cap, dtype=np.int8)
        ev_to = np.empty(cap, dtype=np.int8)
        n_kn = 4 * cap + 64
        kn_age = np.empty(n_kn)
        kn_theta = np.empty((n_kn, k))
        kn_dtheta = np.empty((n_kn, k))
        kn_seg = np.empty(n_kn, dtype=np.intp)
        counters = np.zeros(17, dtype=np.int64)
        fire_out = np.zeros(3)
        region = part.region.copy()
        st, th, age_n, h_ctrl, pend, n_ev, n_kn = _ll.run_events(
            self.XA,
            self.XT,
            self.y,
            self.s,
            self.fit_intercept,
            self.kind,
            self.param,
            self.S,
            self.alpha,
            np.asarray(part.signs, dtype=np.float64),
            part.active,
            np.asarray(self.inactive, dtype=np.intp),
            self.colnorm,
            self._znorm[1],
            self.loss_scale,
            region,
            np.ascontiguousarray(theta, dtype=np.float64),
            float(age),
            float(fol.age_max),
            float(h_ctrl),
            float(fol.age_max - fol.age_min),
            self.gtol,
            fol.etol,
            fol.ftol,
            fol.h_min,
            cap,
            -1 if pending is None else int(pending),
            ev_age,
            ev_k,
            ev_from,
            ev_to,
            kn_age,
            kn_theta,
            kn_dtheta,
            kn_seg,
            counters,
            self.cand_mult_mixture if self.kind == _MIXTURE else self.cand_mult,
            fire_out,
        )
        self.fast_counters += counters
        # replay: events with their segments, then the knots in their segments
        fol.on_events(
            [
                PathEvent(a, "sample", i, _REGION_NAMES[g0], _REGION_NAMES[g1])
                for a, i, g0, g1 in zip(
                    ev_age[:n_ev].tolist(),
                    ev_k[:n_ev].tolist(),
                    ev_from[:n_ev].tolist(),
                    ev_to[:n_ev].tolist(),
                )
            ]
        )
        work = _Partition(part.active, part.signs, part.region.copy())
        seg_ids = [seg] + fol.segments.add_moves(work, ev_k[:n_ev], ev_to[:n_ev])
        if n_kn:
            full = np.zeros((n_kn, self.d + 1))
            dfull = np.zeros((n_kn, self.d + 1))
            full[:, part.active] = kn_theta[:n_kn, :nA]
            dfull[:, part.active] = kn_dtheta[:n_kn, :nA]
            if self.fit_intercept:
                full[:, self.d] = kn_theta[:n_kn, nA]
                dfull[:, self.d] = kn_dtheta[:n_kn, nA]
            fol.knots.extend(zip(kn_age[:n_kn].tolist(), full, dfull))
            fol.seg_of_knot.extend(np.asarray(seg_ids)[kn_seg[:n_kn]].tolist())
        fol.n_steps += int(counters[0])
        fol.n_newton += int(counters[2])
        if n_ev:
            # (the kept v = 1 sums follow the moved samples by themselves, and the
            # feature screening's reference stays valid: its bound holds for any u)
            self.set_partition(_Partition(part.active, part.signs, region))
        self._stepped = None
        seg, pend = seg_ids[-1], (None if pend < 0 else int(pend))
        again = False
        if st == _ll.FEATURE:
            # the loop stopped at a feature's event: apply it as Python's loop does;
            # the next iteration starts from the new point, which the compiled loop
            # takes as well (after a jump Python's loop goes on)
            k = int(fire_out[0])
            info = np.zeros(self.d)
            info[k - self.n] = fire_out[2]
            th, age_n, seg, pend = fol.fire(
                k, int(fire_out[1]), th, float(age_n), info, seg
            )
            again = pend is not None
        return th, float(age_n), seg, pend, h_ctrl, again

    def polish_moved(self, k, theta, age):
        """The point after sample k changed region at the event the compiled step just
        located, without a G pass: there ``|G|_inf = gn <= gtol`` in the old
        partition, and the move changes G only by sample k's term ``(1/S) s_k (v_new -
        v_old) r_k z_k`` (about 0 for a continuous v*). When the two together stay
        below gtol the point stands (sample k's terms are updated in place): returns
        (theta, r), else None (the caller runs Newton)."""
        st, self._stepped = self._stepped, None
        if st is None or k >= self.n or self.kind < 0:
            return None
        lam, th, r, gn = st
        if lam != age or not np.array_equal(th, theta):
            return None
        v_old = self.v[k]
        sl = slice(k, k + 1)
        _lk.sample_terms(
            self.kind,
            self.param,
            self.part.region[sl],
            r[sl],
            self.s[sl],
            age,
            self.v[sl],
            self.h[sl],
            self.va[sl],
        )
        zmax = max(
            1.0 if self.fit_intercept else 0.0, np.max(np.abs(self.XA[k]), initial=0.0)
        )
        dg = abs(self.s[k] * (self.v[k] - v_old) * r[k]) * zmax / self.S
        return (theta, r) if gn + dg <= self.gtol else None

    def _sample_event(self, k, rk, age):
        reg = self.reg
        return float(
            _lk.sample_event_one(
                self.part.region[k],
                rk,
                reg.loss_one(age),
                reg.loss_zero(age),
                self.discontinuous,
                self.loss_scale,
            )
        )

    def apply(self, k, target, theta, age, c):
        """Apply event k; returns the new theta (same point in full coordinates)."""
        n = self.n
        full = self.to_full(theta)
        part = self.part.copy()
        if k < n:
            old = int(part.region[k])
            part.region[k] = target
            ev = PathEvent(
                age, "sample", k, _REGION_NAMES[old], _REGION_NAMES[int(target)]
            )
            changed = (k,)
        else:
            j = k - n
            pos = np.flatnonzero(part.active == j)
            if pos.size:
                part.active = np.delete(part.active, pos)
                part.signs = np.delete(part.signs, pos)
                full[j] = 0.0
                ev = PathEvent(age, "feature", j, "active", "inactive")
            else:
                ins = np.searchsorted(part.active, j)
                part.active = np.insert(part.active, ins, j)
                part.signs = np.insert(part.signs, ins, 1.0 if c[j] >= 0 else -1.0)
                full[j] = 0.0
                ev = PathEvent(age, "feature", j, "inactive", "active")
            changed = ()
        self.set_partition(part)
        return self.from_full(full), ev, changed

    def _regions(self, r, age):
        """Sample regions of v* at residuals ``r``."""
        region = np.empty(self.n, dtype=np.int8)
        reg = self.reg
        _lk.regions_at(
            np.asarray(r, dtype=np.float64),
            float(reg.loss_one(age)),
            float(reg.loss_zero(age)),
            region,
        )
        return region

    def identify(self, coef, intercept, age):
        r = self.problem.residuals(coef, intercept if self.fit_intercept else 0.0)
        region = self._regions(r, age)
        wmax = np.max(np.abs(coef), initial=0.0)
        active = np.flatnonzero(np.abs(coef) > 1e-13 * max(1.0, wmax))
        self.set_partition(_Partition(active, np.sign(coef[active]), region))
        return self.from_full(np.append(coef, intercept))

    def _leave_saddle(self, J, coef, b, L, active, signs, age):
        """A point of lower latent objective along the eigenvector of J's smallest
        eigenvalue (either side, steps 1e-4 to 1e-1 of the coefficients' scale, then
        5e-5 to 1e-5, the active signs kept): (coef, intercept), or None. (At a kink
        of J the nearest lower point can be ~2e-5 away and lower by only ~1e-14: 5000 x
        50 mixture.)"""
        w, U = np.linalg.eigh(J)
        u = U[:, 0]
        nA = len(active)
        scale = max(1.0, float(np.max(np.abs(coef), initial=0.0)), abs(b))
        for t in (1e-4, 1e-3, 1e-2, 1e-1, 5e-5, 2e-5, 1e-5):
            for sg in (1.0, -1.0):
                d = (sg * t * scale) * u
                cn = coef.copy()
                cn[active] = coef[active] + d[:nA]
                if np.any(signs * cn[active] < 0):
                    continue
                bn = b + d[nA] if self.fit_intercept else 0.0
                if self.latent(cn, bn, age) < L - 1e-15 * max(1.0, abs(L)):
                    return cn, bn
        return None

    def descend(self, coef, intercept, age, max_iter=30):
        """Local descent on the latent objective from an ACS point (continuous v*).

        ACS is block coordinate descent on (theta, v): near a fold or where few samples
        are in it can creep for hundreds of weighted solves while the partition
        flickers. The latent objective L(theta) = min_v (objective) is C^1 for a
        continuous v*, with gradient G (v = v*) and Hessian J on each region, so a
        Newton step with J (shifted to positive definite when it is not) and an
        Armijo line search on L reaches a local minimum in a few steps; active
        features keep their signs (the step is cut where one reaches 0, which then
        leaves), and the inactive feature with the largest KKT violation enters when
        the gradient on the active set is small. A stationary point whose J is not
        positive definite (ACS stops at those too) is left along J's most negative
        curvature. L never increases. The loop is compiled
        (:func:`gaga._lasso_descend.descend_run`: one pass over the samples per
        iteration); a saddle is left here. Returns (coef, intercept, converged), or
        None (discontinuous or user-defined v*, non-finite J); the system's partition
        is left as it was.
        """
        if self.discontinuous or self.kind < 0:
            return None
        coef = np.array(coef, dtype=np.float64)
        b = float(intercept) if self.fit_intercept else 0.0
        wmax = np.max(np.abs(coef), initial=0.0)
        coef[np.abs(coef) <= 1e-13 * max(1.0, wmax)] = 0.0
        signs = np.sign(coef)
        gscale = max(1.0, self.alpha)
        left = max_iter
        while True:
            # the loop compiled (gaga._lasso_descend); Python only leaves saddles
            out, b, L, used, active, sg, J = _ld.descend_run(
                self.XT,
                self.y,
                self.s,
                self.fit_intercept,
                self.kind,
                self.param,
                self.S,
                self.alpha,
                coef,
                b,
                signs,
                float(age),
                left,
                gscale,
            )
            left -= used
            if out == _ld.DESC_FAILED:
                return None
            if out != _ld.DESC_SADDLE:
                return coef, b, out == _ld.DESC_CONVERGED
            # stationary but not stable (ACS stops at such points too, e.g. at a
            # kink of v*): leave along the most negative curvature of its J
            got = self._leave_saddle(J, coef, b, L, active, sg, age)
            if got is None or left <= 0:
                return coef, b, False
            coef, b = got
            signs = np.zeros(self.d)
            signs[active] = sg


def _weighted_lower_median(values, weights):
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def default_age_range(problem, reg, level=0.99, fit=None):
    """Data-driven default age range from the losses of the v = 1 fit.

    Only samples with positive sample weight count. ``age_max`` is the smallest age at
    which every sample has ``v* >= level`` at the v = 1 solution's losses (``v* = 1``
    exactly for a discontinuous regularizer such as hard). Where ``v*`` of the largest
    loss stays below 1 as the age grows (mixture with ``gamma**2`` below the largest
    loss: ``v*`` tends to ``gamma / sqrt(loss)``), ``level`` is taken relative to that
    limit. ``age_min`` is the age at which the (weighted) median loss gets ``v* = 1/2``
    (just ``v* = 1`` for a discontinuous regularizer), so that about half of the samples
    are in. Both lie inside the regularizer's valid age interval. Note that the path's
    own branch of partial optima may still keep a sample out at ``age_max`` (partial
    optima are not unique): pass a larger ``age_max`` to follow it further.

    ``fit``: the v = 1 solution ``(coef, intercept)`` if already computed.

    Returns
    -------
    age_min, age_max : float
    """
    if fit is None:
        fit = problem.solve_weighted(np.ones(problem.n_samples))[:2]
    coef, b = fit
    keep = problem.sample_weight > 0
    l = problem.losses(coef, b)[keep]
    s = problem.sample_weight[keep]
    return _range_from_losses(l, s, reg, level)


def _range_from_losses(l, s, reg, level=0.99, rescale="rescale y"):
    """:func:`default_age_range` from the losses ``l`` (weights ``s``) of a v = 1
    fit."""
    lmax = float(np.max(l))
    lmed = _weighted_lower_median(l, s)
    low, high = reg.age_bounds
    start = max(low, 0.0)
    cap_hi = high - 1e-6 * (high - start) if np.isfinite(high) else np.inf

    def smallest(pred, a, b):
        # smallest age in (a, b] with pred(age) true, pred monotone and pred(b) true
        for _ in range(200):
            m = 0.5 * (a + b)
            if pred(m):
                b = m
            else:
                a = m
            if b - a <= 1e-12 * b:
                break
        return b

    big = cap_hi if np.isfinite(cap_hi) else 1e12 * max(1.0, lmax)
    v_sup = float(reg.v_star(lmax, big))
    if v_sup <= 0.0:
        # e.g. the logarithmic regularizer: losses >= 1 never enter; go as far as
        # possible
        if reg.loss_zero(big) <= lmed:
            raise ValueError(
                f"The median loss of the v = 1 fit ({lmed:.6g}) never gets a positive "
                f"weight under the {reg.name} regularizer within its age range "
                f"{reg.age_bounds}; {rescale} or pass age_min and age_max."
            )
        return _age_min_for(reg, lmed, start, big), big
    if not reg.continuous:
        target = v_sup
    else:
        target = level * v_sup if v_sup < 1.0 else level
    hi_a = big
    if not np.isfinite(cap_hi):
        hi_a = max(1.0, lmax)
        while reg.v_star(lmax, hi_a) < target and hi_a < big:
            hi_a *= 2.0
    age_max = smallest(lambda a: reg.v_star(lmax, a) >= target, start, hi_a)
    if not reg.continuous:
        age_max = min(age_max * (1 + 1e-9), cap_hi)
    age_min = _age_min_for(reg, lmed, start, age_max)
    return age_min, age_max


def _age_min_for(reg, lmed, start, upper, fraction_weight=0.5):
    """Age at which the median loss gets weight ``fraction_weight`` (discontinuous v*:
    just includes it): a margin that keeps tied losses safely inside."""
    med_sup = float(reg.v_star(lmed, upper))
    if not reg.continuous or med_sup <= 0.0:
        a, b = start, upper
        for _ in range(200):
            m = 0.5 * (a + b)
            if reg.loss_zero(m) > lmed:
                b = m
            else:
                a = m
            if b - a <= 1e-12 * b:
                break
        return min(b * (1 + 1e-6), 0.5 * (b + upper))
    target = min(fraction_weight, 0.5 * med_sup)
    a, b = start, upper
    for _ in range(200):
        m = 0.5 * (a + b)
        if reg.v_star(lmed, m) >= target:
            b = m
        else:
            a = m
        if b - a <= 1e-12 * b:
            break
    return b if b < upper else start + 0.5 * (upper - start)


def _start(fol, problem, reg, coef0, b0, age_min):
    v0 = reg.v_star(problem.losses(coef0, b0), age_min)
    if not np.any(problem.sample_weight * v0 > 0):
        raise _AllExcluded
    try:
        sys = fol.sys
        return fol.acs_land(
            coef0, b0, age_min, chunk=sys.start_chunk, land_dv=sys.start_land_dv
        )
    except ZeroWeightsError:
        raise _AllExcluded from None


# small dense systems and matrix-vector products: BLAS threads only add overhead (and
# stall when the cores are busy)
@threadpool_limits.wrap(limits=1, user_api="blas")
def age_path_lasso(
    X,
    y,
    *,
    regularizer="linear",
    alpha=1.0,
    age_min=None,
    age_max=None,
    fit_intercept=True,
    sample_weight=None,
    tol=1e-8,
    max_events=None,
    verbose=0,
):
    """Exact age path of the self-paced Lasso.

    Follows the curve of partial optima age -> (w, b, v) of

        (1/S) sum_i s_i [v_i (y_i - x_i.w - b)^2 / 2 + f(v_i, age)] + alpha ||w||_1

    from a certified ACS start at ``age_min`` to ``age_max``: ODE predictor and Newton
    corrector on each segment, events located by root finding, jumps (ACS re-solves) at
    folds and discontinuities of v*.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    regularizer : str or Regularizer, default="linear"
    alpha : float, default=1.0
        L1 penalty; v = 1 gives ``sklearn.linear_model.Lasso(alpha)``.
    age_min, age_max : float, default=None
        Age range; data-driven defaults from the v = 1 fit's losses
        (see :func:`default_age_range`).
    fit_intercept : bool, default=True
    sample_weight : array-like of shape (n_samples,), default=None
    tol : float, default=1e-8
        Alternate convex search at the start and at jumps stops at
        ``max |delta v| <= tol / 1000`` unless a landing on the optimality system
        (Newton to machine precision, events and stability checked) succeeds earlier.
    max_events : int, default=None
        Bound on the number of events (None: 50 * (n_samples + n_features)). When
        reached the path stops with a ``ConvergenceWarning`` stating the age reached.
    verbose : int, default=0

    Returns
    -------
    AgePath
    """
    from gaga.problems import LassoProblem

    reg = get_regularizer(regularizer)
    problem = LassoProblem(
        X, y, alpha=alpha, fit_intercept=fit_intercept, sample_weight=sample_weight
    )
    max_events = check_path_args(
        max_events, tol, 50 * (problem.n_samples + problem.n_features)
    )
    coef0, b0, _ = problem.solve_weighted(np.ones(problem.n_samples))
    age_min, age_max, user_min = resolve_age_range(
        reg, age_min, age_max, lambda: default_age_range(problem, reg, fit=(coef0, b0))
    )
    system = _LassoSystem(problem, reg)
    return follow_path(
        system,
        age_min=age_min,
        age_max=age_max,
        user_min=user_min,
        max_events=max_events,
        acs_tol=1e-3 * tol,
        verbose=verbose,
        start=lambda fol, a: _start(fol, problem, reg, coef0, b0, a),
        excluded_message=lambda a: (
            f"All samples are excluded (v = 0) at age_min={a!r}: alternate convex "
            "search from the v = 1 fit ends with every weight at 0."
        ),
        label="Lasso",
    )
