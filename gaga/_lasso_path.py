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

import time
import warnings

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, eigh
from scipy.linalg.lapack import dpotrs
from sklearn.exceptions import ConvergenceWarning

from gaga import _lasso_kernels as _lk
from gaga._path import AgePath, PathEvent
from gaga.problems import ZeroWeightsError
from gaga.regularizers import get_regularizer

_REGION_NAMES = {0: "v=0", 1: "v=1", 2: "middle"}
_CHECKPOINT_EVERY = 64


class _Partition:
    """Active features with signs and sample regions."""

    __slots__ = ("active", "signs", "region")

    def __init__(self, active, signs, region):
        self.active = np.asarray(active, dtype=np.intp)
        self.signs = np.asarray(signs, dtype=np.float64)
        self.region = np.asarray(region, dtype=np.int8)

    def copy(self):
        return _Partition(self.active.copy(), self.signs.copy(), self.region.copy())


class _SegmentStore:
    """Partitions of all segments, stored as checkpoints plus sample deltas (O(n) memory
    per ``_CHECKPOINT_EVERY`` segments instead of per segment)."""

    def __init__(self):
        self._checkpoints = []  # region arrays
        self._segs = []  # (checkpoint id, deltas tuple, active, signs)
        self._pending = {}

    def add(self, part, changed_samples):
        if not self._segs or len(self._segs) % _CHECKPOINT_EVERY == 0:
            self._checkpoints.append(part.region.copy())
            self._pending = {}
        else:
            for i in changed_samples:
                self._pending[int(i)] = int(part.region[i])
        deltas = tuple(self._pending.items())
        self._segs.append(
            (len(self._checkpoints) - 1, deltas, part.active.copy(), part.signs.copy())
        )
        return len(self._segs) - 1

    def __getitem__(self, k):
        cp, deltas, active, signs = self._segs[k]
        region = self._checkpoints[cp].copy()
        for i, g in deltas:
            region[i] = g
        return _Partition(active, signs, region)

    def __len__(self):
        return len(self._segs)


class _LassoSystem:
    """Optimality system of the self-paced Lasso restricted to a partition."""

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
        # Newton tolerance on ||G||_inf (units of alpha), and event tolerance
        self.gtol = 1e-12 * max(1.0, self.alpha)
        yscale = float(np.max(np.abs(self.y - np.average(self.y, weights=self.s))))
        self.loss_scale = max(1.0, 0.5 * yscale**2)
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
            self.XI = np.ascontiguousarray(self.X[:, self.inactive])

    def k(self):
        return len(self.part.active) + int(self.fit_intercept)

    def to_full(self, theta, part=None):
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

    def jacobian(self, h):
        """Exact J = (1/S) Z^T diag(h) Z (uses self.h)."""
        nA = len(self.part.active)
        k = self.k()
        J = np.empty((k, k))
        # h is -inf where v* has an infinite slope (polynomial t > 2): the non-finite J
        # is then reported as unstable by the follower
        with np.errstate(invalid="ignore", over="ignore"):
            if nA:
                XAh = self.XA * h[:, None]
                J[:nA, :nA] = self.XA.T @ XAh
                if self.fit_intercept:
                    col = XAh.sum(axis=0)
                    J[:nA, nA] = col
                    J[nA, :nA] = col
            if self.fit_intercept:
                J[nA, nA] = h.sum()
        return J / self.S

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

    def dG_dage(self, r, va):
        return -self.Z_T(self.s * va * r) / self.S

    def correlations(self, r, v):
        """c_j = (1/S) sum_i s_i v_i r_i x_ij for the inactive features (0 on A)."""
        c = np.zeros(self.d)
        c[self.inactive] = self.XI.T @ (self.s * v * r) / self.S
        return c

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

    def polish_full(self, x, age, part):
        """Newton on G at ``age`` with partition ``part`` from full coordinates."""
        saved = getattr(self, "part", None)
        self.set_partition(part)
        theta = self.from_full(x)
        for _ in range(8):
            g, r = self.G(theta, age)
            if np.max(np.abs(g), initial=0.0) <= self.gtol:
                break
            J = self.jacobian(self.h)
            try:
                theta = theta - np.linalg.solve(J, g)
            except np.linalg.LinAlgError:
                break
        out = self.to_full(theta)
        if saved is not None:
            self.set_partition(saved)
        return out


class _Follower:
    """Predictor-corrector path follower with event location and jumps."""

    def __init__(self, system, age_min, age_max, *, max_events, verbose, acs_tol=1e-11):
        self.sys = system
        self.reg = system.reg
        self.age_min = age_min
        self.age_max = age_max
        self.max_events = max_events
        self.verbose = verbose
        self.acs_tol = acs_tol
        self.etol = 1e-10  # event tolerance of the consistency tests (scaled events)
        self.ftol = 1e-14  # the located event itself is converged to this
        self.h_min = 1e-13 * max(1.0, age_max)
        self.events = []
        self.knots = []
        self.seg_of_knot = []
        self.segments = _SegmentStore()
        self.n_steps = 0
        self.n_newton = 0
        self.n_jac = 0
        self.J = None
        self.cho = None
        self.cho_stale = True
        self.moved = []
        self.since_refresh = 0
        # hard regularizer: G does not depend on the age between events
        self.static = system.kind == 0

    # -- linear algebra
    # ---------------------------------------------------------------------
    def factor(self, r, age):
        """Assemble J exactly at the current point and Cholesky-factor it."""
        self.sys.terms(r, age)
        self.J = self.sys.jacobian(self.sys.h)
        self.hJ = self.sys.h.copy()
        self.n_jac += 1
        self.since_refresh = 0
        return self._cholesky()

    def _cholesky(self):
        J = self.J
        self.marginal = False
        if J.shape[0] == 0:
            self.cho = None
            return True
        if not np.all(np.isfinite(J)):
            # an infinite slope of v* at a threshold (polynomial t > 2): not stable
            self.cho = None
            return False
        try:
            self.cho = cho_factor(J, lower=True, check_finite=False)
        except LinAlgError:
            self.cho = None
            return False
        d = np.abs(np.diag(self.cho[0]))
        if d.min() <= 1e-9 * max(1.0, d.max()):
            self.cho = None
            return False
        self.marginal = d.min() ** 2 <= 1e-2 * d.max() ** 2
        return True

    def update_factor(self, r, age):
        """Bring the stored J up to date at the moved samples (rank-one terms) and
        refactor; refresh exactly when it drifted or looks marginal."""
        sys = self.sys
        if (
            self.cho_stale
            or self.J is None
            or self.J.shape[0] != sys.k()
            or self.since_refresh >= 5
        ):
            self.cho_stale = False
            self.moved = []
            return self.factor(r, age)
        if self.moved:
            for i in self.moved:
                z = sys.z_row(i)
                self.J += ((sys.h[i] - self.hJ[i]) / sys.S) * np.outer(z, z)
                self.hJ[i] = sys.h[i]
            self.moved = []
            ok = self._cholesky()
            if not ok or self.marginal:
                return self.factor(r, age)
        self.since_refresh += 1
        return self.cho is not None or self.J.shape[0] == 0

    def tangent(self, rhs):
        """Solve J t = rhs with the stored factor, refined with exact J-vector products.

        Each refinement costs O(n |A|); the stored J is marked for an exact refresh only
        when the refinement contracts poorly (J drifted).
        """
        t = self.solve(rhs)
        if rhs.shape[0] == 0:
            return t
        scale = max(np.max(np.abs(rhs)), 1e-300)
        prev = np.inf
        for _ in range(12):
            res = rhs - self.sys.jac_vec(t)
            rn = np.max(np.abs(res))
            if rn <= 1e-13 * scale:
                break
            if rn > 0.3 * prev:
                self.cho_stale = True
                if rn >= prev:
                    break
            prev = rn
            t = t + self.solve(res)
        return t

    def solve(self, rhs):
        if rhs.shape[0] == 0:
            return rhs.copy()
        # LAPACK directly: scipy's cho_solve wrapper costs more than the solve here
        x, info = dpotrs(self.cho[0], rhs, lower=1)
        return x

    def newton(self, theta, age, max_iter=12, chord=False):
        """Newton on G(., age) = 0 with the current partition.

        With ``chord=True`` the factorization of the step's starting point is reused
        (chord iterations, O(n |A|) each); it switches to exact Jacobians when the
        residual does not contract by at least 4x per iteration.
        """
        sys = self.sys
        g, r = sys.G(theta, age)
        gn = np.max(np.abs(g), initial=0.0)
        exact = not chord or self.cho is None or self.cho[0].shape[0] != theta.shape[0]
        for it in range(max_iter):
            if gn <= sys.gtol:
                return theta, r, True, it
            if exact:
                J = sys.jacobian(sys.h)
                self.n_jac += 1
                try:
                    step = np.linalg.solve(J, g)
                except np.linalg.LinAlgError:
                    return theta, r, False, it
            else:
                step = self.solve(g)
            theta = theta - step
            self.n_newton += 1
            g, r = sys.G(theta, age)
            gn_new = np.max(np.abs(g), initial=0.0)
            if not np.isfinite(gn_new):
                return theta, r, False, it + 1
            if gn_new > 0.25 * gn and gn_new > sys.gtol:
                if not exact:
                    exact = True
                    self.cho_stale = True
                elif it >= 2 and gn_new > 0.5 * gn:
                    return theta, r, False, it + 1
            gn = gn_new
        return theta, r, gn <= sys.gtol, max_iter

    # -- events
    # -----------------------------------------------------------------------------
    def event_values(self, theta, r, age, dtheta=None):
        """Event functions (samples, then features), derivatives and targets."""
        sys = self.sys
        reg = self.reg
        n, d = sys.n, sys.d
        lo, hi = reg.loss_one(age), reg.loss_zero(age)
        dlo, dhi = reg.dloss_one(age), reg.dloss_zero(age)
        has_one = lo > 0.0
        v, h, va = sys.terms(r, age)
        if dtheta is None:
            dr = np.zeros(n)
        else:
            dr = -sys.Z_dot(dtheta)
        e = np.empty(n + d)
        de = np.empty(n + d)
        target = np.empty(n + d, dtype=np.int8)
        _lk.sample_events(
            sys.part.region,
            r,
            dr,
            lo,
            hi,
            dlo,
            dhi,
            has_one,
            sys.discontinuous,
            sys.loss_scale,
            e[:n],
            de[:n],
            target[:n],
        )
        c = sys.correlations(r, v)
        if dtheta is None:
            dc = np.zeros(d)
        else:
            with np.errstate(invalid="ignore"):
                # polynomial t > 2: infinite slopes exactly at a threshold (the
                # stability test then fails and the path jumps); keep them finite
                q = np.nan_to_num(
                    h * dr + sys.s * r * va, nan=0.0, posinf=0.0, neginf=0.0
                )
            dc = np.zeros(d)
            dc[sys.inactive] = sys.XI.T @ q / sys.S
        active = sys.part.active
        nA = len(active)
        # inactive features: 1 - |c_j| / alpha
        sgn = np.where(c >= 0, 1.0, -1.0)
        e[n:] = 1.0 - sgn * c / sys.alpha
        de[n:] = -sgn * dc / sys.alpha
        target[n:] = 1
        if nA:
            wscale = max(1.0, float(np.max(np.abs(theta[:nA]))))
            e[n + active] = sys.part.signs * theta[:nA] / wscale
            de[n + active] = (
                0.0 if dtheta is None else sys.part.signs * dtheta[:nA] / wscale
            )
            target[n + active] = 0
        return e, de, target, c

    def event_k(self, k, theta, r, age):
        """Value of event function k at a corrected point (same scaling as
        :meth:`event_values`); uses the sample terms computed by the last ``G``."""
        sys = self.sys
        n = sys.n
        if k < n:
            reg = self.reg
            lo, hi = reg.loss_one(age), reg.loss_zero(age)
            e = np.empty(1)
            de = np.empty(1)
            tg = np.empty(1, dtype=np.int8)
            _lk.sample_events(
                sys.part.region[k : k + 1],
                r[k : k + 1],
                np.zeros(1),
                lo,
                hi,
                0.0,
                0.0,
                lo > 0.0,
                sys.discontinuous,
                sys.loss_scale,
                e,
                de,
                tg,
            )
            return float(e[0])
        j = k - n
        pos = np.flatnonzero(sys.part.active == j)
        if pos.size:
            nA = len(sys.part.active)
            wscale = max(1.0, float(np.max(np.abs(theta[:nA]))))
            return float(sys.part.signs[pos[0]] * theta[pos[0]] / wscale)
        cj = float(sys.X[:, j] @ (sys.s * sys.v * r)) / sys.S
        return 1.0 - abs(cj) / sys.alpha

    def step_to_event(self, k, theta, age, dtheta, e_k0, h):
        """Corrected point where event k fires: step to its first-order horizon, then
        secant iterations in the age, each with a chord Newton correction."""
        lam_a, f_a = age, e_k0
        lam1 = age + h
        pred = theta + h * dtheta
        th1, r1, ok, iters = self.newton(pred, lam1, chord=True)
        if not ok or not self._close(th1, pred, theta):
            return None
        for _ in range(10):
            f1 = self.event_k(k, th1, r1, lam1)
            if abs(f1) <= self.ftol:
                break
            denom = f1 - f_a
            if denom == 0.0:
                break
            lam2 = lam1 - f1 * (lam1 - lam_a) / denom
            if not (age < lam2 <= self.age_max):
                break
            pred = th1 + (lam2 - lam1) * dtheta
            th2, r2, ok, _ = self.newton(pred, lam2, chord=True)
            if not ok or not self._close(th2, pred, th1):
                break
            lam_a, f_a = lam1, f1
            lam1, th1, r1 = lam2, th2, r2
        return th1, r1, lam1, iters

    def _ratio(self, corrected, pred, base):
        """Size of the Newton correction relative to the predictor's move."""
        if corrected.shape[0] == 0:
            return 0.0
        corr = np.max(np.abs(corrected - pred))
        move = np.max(np.abs(pred - base))
        return corr / (move + 1e-9 * max(1.0, np.max(np.abs(base))))

    def _close(self, corrected, pred, base):
        """Continuation safeguard: the corrector stays close to the predictor (a large
        correction means Newton found another branch, e.g. past a fold)."""
        if corrected.shape[0] == 0:
            return True
        corr = np.max(np.abs(corrected - pred))
        move = np.max(np.abs(pred - base))
        return corr <= 0.3 * move + 1e-9 * max(1.0, np.max(np.abs(base)))

    # -- transitions
    # ------------------------------------------------------------------------
    def apply(self, k, target, theta, age, c):
        """Apply event k; returns the new theta (same point in full coordinates)."""
        sys = self.sys
        n = sys.n
        full = sys.to_full(theta)
        part = sys.part.copy()
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
        sys.set_partition(part)
        return sys.from_full(full), ev, changed

    # -- main loop
    # -------------------------------------------------------------------------
    def record_knot(self, theta, dtheta, age, seg):
        self.knots.append((age, self.sys.to_full(theta), self.sys.to_full(dtheta)))
        self.seg_of_knot.append(seg)

    def start_segment(self, changed):
        return self.segments.add(self.sys.part, changed)

    def fire(self, k, target, theta, age, c, seg):
        """Apply event k at ``age``; jump where v* is discontinuous or polishing fails.

        Returns (theta, age, seg, pending) where pending is the moved index (for the
        consistency test of the next tangent) or None after a jump.
        """
        sys = self.sys
        theta_before = theta
        part_before = sys.part
        theta, ev, changed = self.apply(k, target, theta, age, c)
        self.on_event(ev)
        if sys.discontinuous and k < sys.n:
            theta, age, seg = self.jump(theta, age, "discontinuous", seg, event=ev)
            return theta, age, seg, None
        theta_p, _, ok, _ = self.newton(theta, age, chord=True)
        if not ok:
            sys.set_partition(part_before)
            theta, age, seg = self.jump(
                theta_before, age, "non-smooth fold", seg, event=ev
            )
            return theta, age, seg, None
        seg = self.start_segment(changed)
        if k < sys.n:
            self.moved.append(k)
        else:
            self.cho_stale = True
        return theta_p, age, seg, k

    def _just_fired(self, pending, age):
        """The last event, if it fired at ``age`` for the index ``pending``."""
        if pending is None or not self.events:
            return None
        ev = self.events[-1]
        if ev.age == age and not ev.jump:
            return ev
        return None

    def stop_warning(self, age):
        warnings.warn(
            f"Age path stopped at age={age:.6e} after {len(self.events)} events "
            f"(max_events={self.max_events}); the path covers [{self.age_min:.6e}, "
            f"{age:.6e}] of [{self.age_min:.6e}, {self.age_max:.6e}]. "
            "Increase max_events.",
            ConvergenceWarning,
            stacklevel=4,
        )
        self.age_max = age

    def run(self, theta, age):
        sys = self.sys
        t0 = time.perf_counter()
        seg = self.start_segment(range(sys.n))
        span = self.age_max - self.age_min
        h_ctrl = 0.05 * span
        pending = None  # index just moved (for the consistency test)
        prev = None  # (segment, age, tangent) of the previous knot
        ratio = 0.0
        while True:
            if len(self.events) >= self.max_events:
                self.record_knot(theta, np.zeros_like(theta), age, seg)
                self.stop_warning(age)
                break
            g, r = sys.G(theta, age)
            if not self.update_factor(r, age):
                # an event that makes the branch unstable at once is itself the jump
                theta, age, seg = self.jump(
                    theta,
                    age,
                    "fold (unstable Jacobian)",
                    seg,
                    event=self._just_fired(pending, age),
                )
                pending = None
                continue
            dtheta = self.tangent(-sys.dG_dage(r, sys.va))
            e, de, target, c = self.event_values(theta, r, age, dtheta)
            # consistency: event functions at zero that decrease fire now, in cascade,
            # in a deterministic order (samples by index, then features by index)
            # (events within etol but not yet at ftol are left to the precise event
            # step unless their horizon is below the resolvable age step: a loss error
            # delta becomes a v error of sqrt(delta) where v* has an infinite slope)
            with np.errstate(divide="ignore", invalid="ignore"):
                tiny = np.maximum(e, 0.0) / -de <= self.h_min
            near = np.flatnonzero(
                (e <= self.etol) & (de < 0) & ((e <= self.ftol) | tiny)
            )
            if near.size:
                if pending is not None and pending in near:
                    theta, age, seg = self.jump(
                        theta,
                        age,
                        "non-smooth fold",
                        seg,
                        event=self._just_fired(pending, age),
                    )
                    pending = None
                    continue
                k = int(near[0])
                theta, age, seg, pending = self.fire(k, target[k], theta, age, c, seg)
                continue
            pending = None
            self.record_knot(theta, dtheta, age, seg)
            prev = (seg, age, dtheta)
            if age >= self.age_max:
                break
            hev, kev = _lk.first_horizon(e, de)
            step = min(h_ctrl, self.age_max - age)
            limited = hev < step
            if limited:
                step = hev
            new_age = min(age + step, self.age_max)
            if self.static:
                # hard: the solution is constant between events
                theta_new, r_new, ok, iters = theta, r, True, 0
            elif limited and kev >= 0:
                got = self.step_to_event(kev, theta, age, dtheta, e[kev], step)
                ok = got is not None
                if ok:
                    theta_new, r_new, new_age, iters = got
            else:
                hh = new_age - age
                pred = theta + hh * dtheta
                if prev is not None and prev[0] == seg and prev[1] < age:
                    # second-order predictor from the previous tangent of this segment
                    pred = pred + (0.5 * hh * hh / (age - prev[1])) * (dtheta - prev[2])
                theta_new, r_new, ok, iters = self.newton(pred, new_age, chord=True)
                ratio = self._ratio(theta_new, pred, theta)
                ok = ok and ratio <= 0.5
            self.n_steps += 1
            if not ok:
                h_ctrl = step / 4.0
                if h_ctrl < self.h_min:
                    theta, age, seg = self.jump(theta, age, "fold (step collapse)", seg)
                continue
            e_new, _, target_new, c_new = self.event_values(theta_new, r_new, new_age)
            if _lk.most_violated(e_new, self.etol) >= 0:
                found = self.locate(theta, age, e, theta_new, new_age, e_new)
                if found is None:
                    h_ctrl = step / 4.0
                    if h_ctrl < self.h_min:
                        theta, age, seg = self.jump(
                            theta, age, "fold (step collapse)", seg
                        )
                    continue
                if isinstance(found[0], str):
                    _, theta, age = found
                    theta, age, seg = self.jump(theta, age, "fold (branch ends)", seg)
                    pending = None
                    continue
                theta, age, k, c_c, tgt = found
                theta, age, seg, pending = self.fire(k, tgt, theta, age, c_c, seg)
                continue
            theta, age = theta_new, new_age
            if limited and kev >= 0 and e_new[kev] <= self.etol:
                theta, age, seg, pending = self.fire(
                    kev, target_new[kev], theta, age, c_new, seg
                )
                continue
            if not limited and not self.static:
                if ratio <= 0.05:
                    h_ctrl = min(2.0 * h_ctrl, span)
                elif ratio >= 0.2:
                    h_ctrl = h_ctrl / 2.0
        self.elapsed = time.perf_counter() - t0
        return theta, age

    def on_event(self, ev):
        self.events.append(ev)
        if self.verbose >= 2:
            print(
                f"[gaga] age={ev.age:.8e} {ev.kind} {ev.index}: "
                f"{ev.from_set} -> {ev.to_set}{' (jump)' if ev.jump else ''}"
            )

    def locate(self, theta_a, age_a, e_a, theta_b, age_b, e_b):
        """Locate the earliest event crossing in (age_a, age_b] to tolerance.

        Illinois (regula falsi) on the corrected event function of the index whose
        linearly interpolated crossing comes first; all events are re-checked at the
        root and an earlier crossing is refined in turn. Returns (theta, age, k, c,
        target) or None when the corrector fails inside the bracket.
        """
        lo_age, lo_theta, lo_e = age_a, theta_a, e_a
        hi_age, hi_theta, hi_e = age_b, theta_b, e_b
        for _outer in range(60):
            viol = np.flatnonzero(hi_e < -self.etol)
            denom = lo_e[viol] - hi_e[viol]
            t = np.maximum(lo_e[viol], 0.0) / np.where(denom > 0, denom, np.inf)
            k = int(viol[np.argmin(t)])
            a, b = lo_age, hi_age
            ta, tb = lo_theta, hi_theta
            fa, fb = max(lo_e[k], 0.0), hi_e[k]
            side = 0
            found = None
            for _ in range(100):
                x = a + (b - a) * fa / (fa - fb) if fa - fb > 0 else 0.5 * (a + b)
                if not (a < x < b):
                    x = 0.5 * (a + b)
                w = (x - a) / (b - a)
                tx, rx, ok, _ = self.newton((1 - w) * ta + w * tb, x, chord=True)
                if not ok:
                    return None
                ex, _, tgx, cx = self.event_values(tx, rx, x)
                fx = ex[k]
                if abs(fx) <= self.ftol or (
                    abs(fx) <= self.etol and b - a <= 1e-13 * x
                ):
                    found = (x, tx, ex, tgx, cx)
                    break
                if (b - a) <= 1e-14 * max(1.0, abs(x)):
                    # the bracket collapsed onto a discontinuity of the corrected event
                    # function: the branch ends (fold) at a
                    return ("fold", ta, a)
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
            if found is None:
                tx, rx, ok, _ = self.newton(tb, b)
                if not ok:
                    return None
                ex, _, tgx, cx = self.event_values(tx, rx, b)
                found = (b, tx, ex, tgx, cx)
            x, tx, ex, tgx, cx = found
            others = np.flatnonzero(ex < -self.etol)
            others = others[others != k]
            if others.size == 0:
                return tx, x, k, cx, tgx[k]
            hi_age, hi_theta, hi_e = x, tx, ex
        return tx, x, k, cx, tgx[k]

    # -- jumps
    # -----------------------------------------------------------------------------
    def jump(self, theta, age, reason, seg, event=None):
        """Leave the branch: warm-started ACS just past ``age``, then land.

        Folds: kick along the Jacobian's eigenvector of smallest |eigenvalue| towards
        the descent side of the latent objective (``age-path-notes.md`` 4.8) before ACS.
        """
        sys = self.sys
        before = sys.to_full(theta)
        age_j = min(age * (1.0 + 1e-9) + 1e-15, self.age_max)
        x0 = before.copy()
        if reason != "discontinuous":
            g, r = sys.G(theta, age_j)
            J = sys.jacobian(sys.h)
            if J.shape[0]:
                w, U = eigh(J)
                u = U[:, np.argmin(np.abs(w))]
                sigma = -np.sign(u @ g) or 1.0
                x0 = before + sys.to_full(
                    sigma * 1e-2 * max(1.0, np.max(np.abs(theta))) * u
                )
        theta = self.acs_land(x0[: sys.d], float(x0[sys.d]), age_j)
        after = sys.to_full(theta)
        size = float(np.max(np.abs(after - before)))
        ev = PathEvent(
            age_j,
            "jump",
            -1 if event is None else event.index,
            "branch" if event is None else event.from_set,
            "branch" if event is None else event.to_set,
            jump=True,
            reason=reason,
            size=size,
        )
        if event is not None and self.events and self.events[-1] is event:
            self.events[-1] = ev
        else:
            self.on_event(ev)
        seg = self.start_segment(range(sys.n))
        self.cho_stale = True
        return theta, age_j, seg

    def acs_land(self, coef, intercept, age, chunk=20, max_total=100000):
        """ACS in chunks of ``chunk`` weighted solves, trying to land after each chunk.

        Landing: identify the partition of the ACS point, Newton-polish it, accept when
        the system is solved, every event function is >= -etol and the Jacobian is
        positive definite. Returns theta for the landed partition (set on the system).
        """
        from gaga.baselines import _acs, _Solver

        sys = self.sys
        solver = _Solver(sys.problem, "gaga", None)
        total = 0
        theta_c, b_c = np.asarray(coef, dtype=float), float(intercept)
        while True:
            theta_c, b_c, v, it, conv, dv = _acs(
                sys.problem,
                self.reg,
                age,
                solver,
                theta_c,
                b_c,
                None,
                self.acs_tol,
                chunk,
            )
            total += it
            if dv <= 1e-4 or conv:
                # the partition is settled enough to be identified
                theta, ok = self.try_land(theta_c, b_c, age)
                if ok:
                    return theta
            if conv or total >= max_total:
                break
        return self.try_land(theta_c, b_c, age, repairs=199, stable=False)[0]

    def identify(self, coef, intercept, age):
        sys = self.sys
        reg = self.reg
        r = sys.y - sys.X @ coef - (intercept if sys.fit_intercept else 0.0)
        l = 0.5 * r * r
        lo, hi = reg.loss_one(age), reg.loss_zero(age)
        region = np.full(sys.n, _lk.RM, dtype=np.int8)
        region[l >= hi] = _lk.R0
        if lo > 0:
            region[l <= lo] = _lk.R1
        if not (hi > lo):
            region[l < hi] = _lk.R1
        wmax = np.max(np.abs(coef), initial=0.0)
        active = np.flatnonzero(np.abs(coef) > 1e-13 * max(1.0, wmax))
        sys.set_partition(_Partition(active, np.sign(coef[active]), region))
        return sys.from_full(np.append(coef, intercept))

    def try_land(self, coef, intercept, age, repairs=5, stable=True):
        """Identify the partition of an ACS point, Newton-polish and repair it.

        With ``stable=True`` the landing is accepted only if Newton converges, no
        event is violated after at most ``repairs`` transitions and the Jacobian is
        positive definite; with ``stable=False`` (the fallback after ACS converged)
        it only repairs. Returns (theta, accepted).
        """
        theta = self.identify(coef, intercept, age)
        for _ in range(repairs + 1):
            theta, r, ok, _ = self.newton(theta, age)
            if stable and not ok:
                return theta, False
            e, _, target, c = self.event_values(theta, r, age)
            k = _lk.most_violated(e, self.etol)
            if k < 0:
                return theta, (self.factor(r, age) if stable else True)
            theta, _, _ = self.apply(k, target[k], theta, age, c)
        return theta, False


def _weighted_lower_median(values, weights):
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def default_age_range(problem, reg, level=0.99):
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

    Returns
    -------
    age_min, age_max : float
    """
    coef, b, _ = problem.solve_weighted(np.ones(problem.n_samples))
    keep = problem.sample_weight > 0
    l = problem.losses(coef, b)[keep]
    s = problem.sample_weight[keep]
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
                f"{reg.age_bounds}; rescale y or pass age_min and age_max."
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


class _AllExcluded(Exception):
    """ACS at the start age ends with every weight at zero."""


def _start(fol, problem, reg, coef0, b0, age_min):
    v0 = reg.v_star(problem.losses(coef0, b0), age_min)
    if not np.any(problem.sample_weight * v0 > 0):
        raise _AllExcluded
    try:
        return fol.acs_land(coef0, b0, age_min)
    except ZeroWeightsError:
        raise _AllExcluded from None


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
    if max_events is None:
        max_events = 50 * (problem.n_samples + problem.n_features)
    elif (
        isinstance(max_events, bool)
        or not isinstance(max_events, (int, np.integer))
        or max_events < 1
    ):
        raise ValueError(
            f"max_events={max_events!r} must be a positive integer or None."
        )
    if not (isinstance(tol, (int, float)) and np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol={tol!r} must be a positive real number.")
    user_min = age_min is not None
    if age_min is None or age_max is None:
        dmin, dmax = default_age_range(problem, reg)
        age_min = dmin if age_min is None else age_min
        age_max = dmax if age_max is None else age_max
    age_min = reg.check_age(age_min, "age_min")
    age_max = reg.check_age(age_max, "age_max")
    if not age_min < age_max:
        raise ValueError(f"age_min={age_min!r} must be < age_max={age_max!r}.")
    system = _LassoSystem(problem, reg)
    coef0, b0, _ = problem.solve_weighted(np.ones(problem.n_samples))
    for attempt in range(60):
        fol = _Follower(
            system,
            age_min,
            age_max,
            max_events=max_events,
            verbose=verbose,
            acs_tol=1e-3 * tol,
        )
        try:
            theta = _start(fol, problem, reg, coef0, b0, age_min)
            break
        except _AllExcluded:
            if user_min or attempt == 59:
                raise ValueError(
                    f"All samples are excluded (v = 0) at age_min={age_min!r}: "
                    "alternate "
                    "convex search from the v = 1 fit ends with every weight at 0. "
                    "Choose a larger age_min."
                ) from None
            # the default start collapsed: move it towards age_max
            age_min = age_min + 0.25 * (age_max - age_min)
    fol.run(theta, age_min)
    if verbose:
        print(
            f"[gaga] Lasso age path: {len(fol.events)} events, "
            f"{sum(e.jump for e in fol.events)} jumps, {fol.n_steps} steps, "
            f"{fol.n_jac} Jacobians in {fol.elapsed:.3f} s"
        )
    path = AgePath(
        system=system,
        problem=problem,
        regularizer=reg,
        age_min=age_min,
        age_max=fol.age_max,
        knots=fol.knots,
        events=fol.events,
        segment_of_knot=fol.seg_of_knot,
        segments=fol.segments,
        n_steps=fol.n_steps,
    )
    path.stats_ = {
        "n_newton": fol.n_newton,
        "n_jacobians": fol.n_jac,
        "time": fol.elapsed,
    }
    return path
