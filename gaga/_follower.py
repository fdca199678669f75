"""Predictor-corrector age-path follower shared by the Lasso and SVM paths.

The follower (``age-path-spec.md`` sections 6-8, ``age-path-notes.md`` section 4) knows
nothing about the problem: a *system* object supplies the restricted optimality system
of the current partition and its set control. The interface a system implements:

Attributes
    ``n`` (samples), ``gtol`` (Newton tolerance on ``||G||_inf``), ``static`` (G does
    not depend on the age between events: hard regularizer), ``problem``, ``reg``,
    ``part`` (the current partition, set by ``set_partition``), ``incremental`` (the
    symmetric Jacobian may be kept up to date by rank-one terms at moved samples; may
    depend on the partition, e.g. a property false while an exact assembly is cheaper),
    ``acs_chunk`` (ACS iterations between landing attempts after a jump).

Evaluations
    ``set_partition(part)``; ``k()`` (number of unknowns); ``G(theta, age) -> (g, r)``
    (residual and the per-sample state ``r``: residuals or margins; caches the sample
    terms); ``terms(r, age)``; ``jacobian()`` (the *symmetric* matrix ``K`` of the
    system: ``J = diag(1 / prec) K``, Lasso ``K = J``); ``prec(g)`` (maps a right-hand
    side of ``J x = g`` to one of ``K x = prec(g)``); ``jac_vec(x)`` (``K x``);
    ``dG_dage(r)``; ``factorize(K) -> (fac, stable, marginal)``; ``fac_solve(fac,
    rhs)``; for incremental systems ``snapshot_terms()`` and ``rank_one(K, snap,
    moved)``.

Set control
    ``event_values(theta, r, age, dtheta) -> (e, de, target, info)`` (event functions,
    nonnegative while the partition is valid, their age derivatives along ``dtheta``,
    the set each would move to, and data ``apply`` needs); ``event_k(k, theta, r,
    age)``; ``apply(k, target, theta, age, info) -> (theta, PathEvent, changed
    samples)``; ``is_jump(k)`` (event k is a discontinuity of v*); ``is_rank_one(k)``;
    ``identify(theta0, b0, age) -> theta`` (partition of an ACS point, set on the
    system).

Optional (with defaults in ``_SystemBase``)
    ``bordered_step(...)`` (a compiled bordered chord Newton to an event, or
    NotImplemented); ``acs_inner_tol(solver, dv)`` (inexact ACS); ``refine_exact``
    (refine tangents of a fresh exact factor); ``events_set_state`` (``event_values``
    leaves the sample state ``G`` leaves, so it can be reused); ``land_batch`` (a
    landing repair moves every violated index); ``event_one(k, theta, age)`` (an O(k)
    event value of one index: the Python bordered step); ``polish_moved(k, theta,
    age)`` (the point after an event without a G pass); ``descend(theta0, b0, age)``
    (local descent from an ACS point before landing); ``fold_direction(K)`` (the
    fold's kick direction); ``newton_step(g)`` (the step of ``newton_exact``);
    ``acs_mode(K)`` (the unstable mode of ACS: a fold's kick along it, one side);
    ``latent(theta, b, age)`` (latent objective of an ACS point);
    ``event_values_step(theta, r, age, base, k, etol)`` (the event values after a step,
    exact where they can be violated); flags
    ``land_contracting`` (land only once ACS contracts) and ``acs_extrapolate`` (skip
    ACS chunks along a steady mode); ``fast_events(fol, theta, age, seg, pending,
    h_ctrl)`` (compiled regular iterations: the Lasso's event loop).

Coordinates
    ``to_full(theta, age=None)`` (the point in full coordinates: ``(w, b)`` or
    ``(a, b)``; the SVM's primal-reduced system needs the age for the middle set),
    ``dir_full(dtheta)`` (a direction), ``split_acs(full) -> (theta0, b0)`` for ACS,
    ``store(theta)`` / ``store_dir(dtheta)`` (what a knot keeps).
"""

import time
import warnings

import numpy as np
from scipy.linalg import eigh
from sklearn.exceptions import ConvergenceWarning

from gaga import _lasso_kernels as _lk
from gaga._path import PathEvent

_CHECKPOINT_EVERY = 64
ETOL = 1e-10  # event tolerance of the consistency tests (scaled event functions)


class _Partition:
    """Active features with signs (Lasso; empty for the SVM) and sample regions."""

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
        self._checkpoints = []  # (region array, first delta) per checkpoint
        self._segs = []  # (checkpoint id, end of its deltas, active, signs)
        self._delta_i = []  # changed sample, in the order of the segments
        self._delta_g = []  # its new region

    def add(self, part, changed_samples, shared=None):
        """A segment with partition ``part`` after ``changed_samples`` moved; returns
        its id. ``shared``: (active, signs) arrays to keep instead of copies."""
        if (
            not self._segs
            or len(self._segs) % _CHECKPOINT_EVERY == 0
            or len(changed_samples) > _CHECKPOINT_EVERY
        ):
            # (also after a jump: one copy of the regions instead of n deltas)
            self._checkpoints.append((part.region.copy(), len(self._delta_i)))
        else:
            for i in changed_samples:
                self._delta_i.append(int(i))
                self._delta_g.append(int(part.region[i]))
        if shared is None:
            shared = (part.active.copy(), part.signs.copy())
        self._segs.append((len(self._checkpoints) - 1, len(self._delta_i)) + shared)
        return len(self._segs) - 1

    def add_moves(self, part, samples, regions):
        """The segments of a run of single-sample moves from ``part`` (its region is
        updated in place, move by move), sharing one copy of the active set: the same
        store as :meth:`add` move by move, filled a block of moves between two
        checkpoints at a time. Returns the segment ids."""
        shared = (part.active.copy(), part.signs.copy())
        samples = np.asarray(samples, dtype=np.intp)
        regions = np.asarray(regions, dtype=np.int8)
        m = samples.shape[0]
        s0 = len(self._segs)
        region = part.region
        t = 0
        while t < m:
            s = s0 + t
            if s == 0 or s % _CHECKPOINT_EVERY == 0:
                region[samples[t]] = regions[t]
                self.add(part, (), shared)  # a checkpoint
                t += 1
                continue
            # the moves up to the next checkpoint: deltas
            e = min(m, t + _CHECKPOINT_EVERY - s % _CHECKPOINT_EVERY)
            blk, g = samples[t:e], regions[t:e]
            if np.unique(blk).shape[0] == blk.shape[0]:
                region[blk] = g
            else:  # a sample moved twice: in order
                for i, gi in zip(blk.tolist(), g.tolist()):
                    region[i] = gi
            base = len(self._delta_i)
            self._delta_i.extend(blk.tolist())
            self._delta_g.extend(g.tolist())
            cp = len(self._checkpoints) - 1
            self._segs.extend((cp, base + j) + shared for j in range(1, e - t + 1))
            t = e
        return list(range(s0, s0 + m))

    def __getitem__(self, k):
        cp, end, active, signs = self._segs[k]
        base, start = self._checkpoints[cp]
        region = base.copy()
        for t in range(start, end):
            region[self._delta_i[t]] = self._delta_g[t]
        return _Partition(active, signs, region)

    def __len__(self):
        return len(self._segs)


class _FoldKnots:
    """What :meth:`_Follower._turning_point` keeps along a segment: the segment
    ``seg``, its last knots ``(age, |tangent|^-2, fold age estimated there)``, the
    steps to the located fold that failed at the last knot, and ``off``, a segment
    where the estimate was given up."""

    __slots__ = ("seg", "knots", "fails", "off")

    def __init__(self):
        self.seg, self.knots, self.fails, self.off = None, [], 0, None


class _StopPath(Exception):
    """A jump cannot land (e.g. the SVM's weighted samples lose a class): the path
    ends at the age of the jump."""

    def __init__(self, theta, part, age, reason, recorded=False):
        super().__init__(reason)
        self.theta = theta
        self.part = part
        self.age = age
        self.reason = reason
        self.recorded = recorded  # the point is the last knot already


class _Follower:
    """Predictor-corrector path follower with event location and jumps."""

    # smooth folds located by extrapolation (_turning_point); off: the step control
    # alone approaches them (kept for tests that compare the two)
    turning_points = True

    def __init__(self, system, age_min, age_max, *, max_events, verbose, acs_tol=1e-11):
        self.sys = system
        self.reg = system.reg
        self.age_min = age_min
        self.age_max = age_max
        self.max_events = max_events
        self.verbose = verbose
        self.acs_tol = acs_tol
        self.etol = ETOL
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
        self.fac = None
        self.cho_stale = True
        self.moved = []
        self.since_refresh = 0  # 0: the factor is of the exact Jacobian here
        self._landed_stable = True
        self._state = None  # (theta, age, partition, r) of the last G evaluation
        self._last_jump_age = None  # age where the last jump landed
        # the last landing (age, stored theta, stored zero tangent, segment): a jump
        # before any knot at or after its age records it first
        self._unrecorded = None
        self._check_start = False  # run(): the start point is checked as a knot
        self._jump_repeat = 0  # jumps in a row, each where the previous one landed
        # hard regularizer: G does not depend on the age between events
        self.static = system.static

    # -- linear algebra
    # ---------------------------------------------------------------------
    def factor(self, r, age, fresh=False):
        """Assemble the symmetric Jacobian exactly at the current point and factor it
        (the factorization is also the stability test). ``fresh``: the system's sample
        terms are already those of (r, age)."""
        if not fresh:
            self.sys.terms(r, age)
        self.J = self.sys.jacobian()
        if self.sys.incremental:
            self.hJ = self.sys.snapshot_terms()
        self.n_jac += 1
        self.since_refresh = 0
        return self._factorize()

    def _factorize(self):
        self.marginal = False
        if self.J.shape[0] == 0:
            self.fac = None
            return True
        self.fac, stable, self.marginal = self.sys.factorize(self.J)
        if not stable:
            self.fac = None
        return stable

    def update_factor(self, r, age):
        """Bring the stored Jacobian up to date at the moved samples (rank-one terms)
        and refactor; refresh exactly when it drifted or looks marginal."""
        sys = self.sys
        if (
            self.cho_stale
            or not sys.incremental
            or self.J is None
            or self.J.shape[0] != sys.k()
            or self.since_refresh >= 5
        ):
            self.cho_stale = False
            self.moved = []
            # at the loop's top the state is that of the last G (or of the event
            # check that refreshed it) at this point
            return self.factor(r, age, fresh=sys.events_set_state)
        if self.moved:
            sys.rank_one(self.J, self.hJ, self.moved)
            self.moved = []
            ok = self._factorize()
            if not ok or self.marginal:
                return self.factor(r, age)
        self.since_refresh += 1
        return self.fac is not None or self.J.shape[0] == 0

    def tangent(self, rhs):
        """Solve K t = rhs with the stored factor, refined with exact K-vector products.

        For an incremental system each refinement costs O(n |A|); the stored matrix is
        marked for an exact refresh only when the refinement contracts poorly (it
        drifted). A factor of the exact matrix at this point is refined only if the
        system asks for it (``refine_exact``: indefinite LDL^T factors of the SVM).
        """
        t = self.solve(rhs)
        if rhs.shape[0] == 0 or (self.since_refresh == 0 and not self.sys.refine_exact):
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
        return self.sys.fac_solve(self.fac, rhs)

    def newton(self, theta, age, max_iter=12, chord=False):
        """Newton on G(., age) = 0 with the current partition.

        With ``chord=True`` the factorization of the step's starting point is reused
        (chord iterations); it switches to exact Jacobians when the residual does not
        contract by at least 4x per iteration.
        """
        sys = self.sys
        g, r = sys.G(theta, age)
        gn = np.max(np.abs(g), initial=0.0)
        exact = not chord or self.fac is None or self.J.shape[0] != theta.shape[0]
        # chord steps take G from the solve (sys.chord_margins) instead of a pass;
        # the point returned is checked with a pass, and after one check that fails
        # every G is a pass
        moved, use_moved = False, sys.chord_margins is not None
        for it in range(max_iter):
            if gn <= sys.gtol:
                if not moved:
                    return theta, r, True, it
                g, r = sys.G(theta, age)
                gn = np.max(np.abs(g), initial=0.0)
                if gn <= sys.gtol:
                    return theta, r, True, it
                use_moved = False
            # a diverging iterate may overflow (a far chord step): it is rejected below
            m = None
            with np.errstate(over="ignore", invalid="ignore"):
                if exact:
                    J = sys.jacobian()
                    self.n_jac += 1
                    try:
                        step = sys.solve_exact(J, sys.prec(g))
                    except np.linalg.LinAlgError:
                        return theta, r, False, it
                else:
                    rhs = sys.prec(g)
                    step = self.solve(rhs)
                theta = theta - step
                self.n_newton += 1
                if not exact and use_moved:
                    m = sys.chord_margins(theta, r, rhs, step, self.J)
                moved = m is not None
                g, r = sys.G(theta, age) if m is None else sys.G_of(theta, age, m)
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
        if moved:
            g, r = sys.G(theta, age)
            gn = np.max(np.abs(g), initial=0.0)
        return theta, r, gn <= sys.gtol, max_iter

    # -- events
    # -----------------------------------------------------------------------------
    def step_to_event(self, k, theta, age, dtheta, e_k0, h, de_k0=None):
        """Corrected point where event k fires.

        The system's compiled bordered chord Newton in (theta, age) when it has one for
        this event (``bordered_step``; the Lasso's sample events), else the same method
        in Python when the system has an O(k) event value of one index (``event_one``;
        the SVM): each iteration is one G pass, a chord correction of theta with the
        step's factor, and an age update by the secant slope of the corrected event
        function, with the tangent carrying theta along. Otherwise (or when that does
        not converge) :meth:`_step_to_event_secant`.
        """
        if (
            de_k0 is not None
            and de_k0 < 0.0
            and self.fac is not None
            and self.J.shape[0] == theta.shape[0]
        ):
            got = self.sys.bordered_step(
                k, theta, age, dtheta, h, de_k0, self.fac, self.age_max, self.ftol
            )
            if got is NotImplemented and self.sys.event_one is not None:
                got = self._step_to_event_bordered(k, theta, age, dtheta, h, de_k0)
            if got is not NotImplemented and got is not None:
                return got
        return self._step_to_event_secant(k, theta, age, dtheta, e_k0, h)

    def _step_to_event_bordered(self, k, theta, age, dtheta, h, slope):
        """The bordered chord Newton of ``bordered_step`` with the system's G, the
        step's factor and its O(k) event value of one index (``event_one``): (theta,
        r, age, iterations) or None."""
        sys = self.sys
        lam = age + h
        th = theta + h * dtheta
        have_prev, lam_prev, f_prev = False, 0.0, 0.0
        gn_prev, grew = np.inf, 0
        # G from the solve (sys.chord_margins) instead of a pass, as in newton
        m, use_moved = None, sys.chord_margins is not None
        for it in range(16):
            if not (age < lam <= self.age_max):
                return None
            g, r = sys.G(th, lam) if m is None else sys.G_of(th, lam, m)
            gn = float(np.max(np.abs(g), initial=0.0))
            if not np.isfinite(gn):
                return None
            if gn <= sys.gtol and m is not None:
                g, r = sys.G(th, lam)
                gn = float(np.max(np.abs(g), initial=0.0))
                use_moved = gn <= sys.gtol
            if gn <= sys.gtol:
                f = sys.event_k(k, th, r, lam)
                if abs(f) <= self.ftol:
                    pred = theta + (lam - age) * dtheta
                    return (th, r, lam, it) if self._close(th, pred, theta) else None
            grew = grew + 1 if gn > 0.5 * gn_prev else 0
            if grew >= 3:
                return None
            gn_prev = gn
            with np.errstate(over="ignore", invalid="ignore"):
                # a far iterate overflows: it is rejected here, the secant takes over
                rhs = sys.prec(g)
                step = self.solve(rhs)
                th = th - step
                fc = sys.event_one(k, th, lam) if np.all(np.isfinite(th)) else None
            if fc is None or not np.isfinite(fc):
                return None
            if have_prev and lam != lam_prev:
                sec = (fc - f_prev) / (lam - lam_prev)
                if np.isfinite(sec) and sec < 0.0:
                    slope = sec
            have_prev, lam_prev, f_prev = True, lam, fc
            dl = -fc / slope
            th = th + dl * dtheta
            lam = lam + dl
            m = (
                sys.chord_margins(th, r, rhs, step, self.J, dl, dtheta)
                if use_moved
                else None
            )
        return None

    def _step_to_event_secant(self, k, theta, age, dtheta, e_k0, h):
        """Step to the event's first-order horizon, then secant iterations in the age,
        each with a chord Newton correction."""
        sys = self.sys
        lam_a, f_a = age, e_k0
        lam1 = age + h
        pred = theta + h * dtheta
        th1, r1, ok, iters = self.newton(pred, lam1, chord=True)
        if not ok or not self._close(th1, pred, theta):
            return None
        for _ in range(10):
            f1 = sys.event_k(k, th1, r1, lam1)
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

    # -- main loop
    # -------------------------------------------------------------------------
    def record_knot(self, theta, dtheta, age, seg):
        if self._check_start:
            self._check_start = False
            bad = self._uncertified(theta, age, events=False)
            if bad:
                warnings.warn(
                    "The age path starts from a point that no landing certified."
                    f"{bad} The path from it may not consist of partial optima "
                    "either; check it with AgePath.certify, or choose another "
                    "age_min.",
                    ConvergenceWarning,
                    stacklevel=4,
                )
        self.knots.append((age, self.sys.store(theta), self.sys.store_dir(dtheta)))
        self.seg_of_knot.append(seg)

    def start_segment(self, changed):
        return self.segments.add(self.sys.part, changed)

    def fire(self, k, target, theta, age, info, seg):
        """Apply event k at ``age``; jump where v* is discontinuous or polishing fails.

        Returns (theta, age, seg, pending) where pending is the moved index (for the
        consistency test of the next tangent) or None after a jump.
        """
        sys = self.sys
        theta_before = theta
        part_before = sys.part
        theta, ev, changed = sys.apply(k, target, theta, age, info)
        self.on_event(ev)
        if sys.is_jump(k):
            # (a path that cannot land ends on the point before the event, in its
            # partition: the event has already moved sample k)
            theta, age, seg = self.jump(
                theta,
                age,
                "discontinuous",
                seg,
                event=ev,
                end=(theta_before, part_before),
            )
            return theta, age, seg, None
        got = sys.polish_moved(k, theta, age) if changed else None
        if got is not None:
            (theta_p, r_p), ok = got, True
        else:
            theta_p, r_p, ok, _ = self.newton(theta, age, chord=True)
        if not ok:
            sys.set_partition(part_before)
            theta, age, seg = self.jump(
                theta_before, age, "non-smooth fold", seg, event=ev
            )
            return theta, age, seg, None
        seg = self.start_segment(changed)
        # the system's sample state is that of (theta_p, age) in the new partition
        self._state = (theta_p, age, sys.part, r_p)
        if sys.is_rank_one(k):
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

    def _uncertified(self, theta, age, events=True, etol=None):
        """'' when theta (in the system's current partition) solves the partition's
        optimality system and (``events``) violates none of its events beyond
        ``etol`` (default: the follower's), else a sentence that says which and by
        how much (the stop warning's addition for a branch's last point: e.g. the last
        iterate of alternate convex search that no landing polished, at a start from
        which the branch ends at once)."""
        etol = self.etol if etol is None else etol
        sys = self.sys
        g, r = sys.G(theta, age)
        gn = float(np.max(np.abs(g), initial=0.0))
        if gn > 1e2 * sys.gtol:
            what = f"the residual of its optimality system is {gn:.1e}"
        elif not events:
            return ""
        else:
            e = sys.event_values(theta, r, age)[0]
            worst = float(np.min(e, initial=np.inf))
            if not worst < -etol:
                return ""
            what = (
                f"it violates an event of its partition by {-worst:.1e} (event "
                f"functions below -{etol:.0e})"
            )
        return (
            f" The point recorded at age={age:.6e} is not a certified partial "
            f"optimum: {what} (AgePath.certify reports its KKT residual)."
        )

    def run(self, theta, age):
        t0 = time.perf_counter()
        seg = self.start_segment(range(self.sys.n))
        # the start's alternate convex search found no stable point to land on: the
        # point is checked if it becomes the first knot (a violated event fires at
        # the first loop top, an unstable point jumps away)
        self._check_start = not self._landed_stable
        try:
            theta, age = self._run(theta, age, seg)
        except _StopPath as stop:
            # the last point of the branch, in its own segment
            self.sys.set_partition(stop.part)
            self._check_start = False  # the stop warning checks this point
            if not stop.recorded:
                seg = self.start_segment(range(self.sys.n))
                self.record_knot(stop.theta, np.zeros_like(stop.theta), stop.age, seg)
            warnings.warn(
                f"Age path stopped at age={stop.age:.6e}: {stop.reason} "
                f"(the path covers [{self.age_min:.6e}, {stop.age:.6e}] of "
                f"[{self.age_min:.6e}, {self.age_max:.6e}])."
                f"{self._uncertified(stop.theta, stop.age)}",
                ConvergenceWarning,
                stacklevel=3,
            )
            self.age_max = stop.age
            theta, age = stop.theta, stop.age
        if self.knots and self.knots[0][0] > self.age_min:
            self._check_age_min()
        self.elapsed = time.perf_counter() - t0
        return theta, age

    def _check_age_min(self):
        """The start jumped away (no knot at age_min): the path's value at age_min is
        its first knot's point polished there in the knot's partition (AgePath's dense
        output). A warning when that point is not one of its partition: its
        optimality system unsolved, or an event violated by more than 1e-6 (a gross
        failure, e.g. multipliers far outside their box on a margin set larger than
        the kernel's rank; a landing 1e-9 past age_min moves its events by far less).
        """
        sys = self.sys
        _, x0, _ = self.knots[0]
        part = self.segments[self.seg_of_knot[0]]
        saved = sys.save_state()
        try:
            full = sys.polish_stored(x0, self.age_min, part)
            sys.set_partition(part)
            if np.all(np.isfinite(full)):
                bad = self._uncertified(sys.from_full(full), self.age_min, etol=1e-6)
            else:
                # (a nan residual passes every comparison in _uncertified)
                bad = " The point there has coordinates that are not finite."
        finally:
            sys.restore_state(saved)
        if bad:
            warnings.warn(
                f"The age path's start at age_min={self.age_min:.6e} jumped away at "
                f"once; its value there is the first knot's point (age "
                f"{self.knots[0][0]:.6e}) polished back to age_min.{bad}",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _run(self, theta, age, seg):
        sys = self.sys
        span = self.age_max - self.age_min
        h_ctrl = 0.05 * span
        pending = None  # index just moved (for the consistency test)
        prev = None  # (segment, age, tangent) of the previous knot
        folds = _FoldKnots()  # for _turning_point
        ratio = 0.0
        fast = sys.fast_events
        try_fast = fast is not None
        while True:
            if len(self.events) >= self.max_events:
                self.record_knot(theta, np.zeros_like(theta), age, seg)
                self.stop_warning(age)
                break
            if try_fast:
                # the system's compiled loop takes the regular iterations; where it
                # stops, this loop takes (at least) one iteration, unless the
                # compiled loop can go on at once (after an event it handed over)
                try_fast = False
                got = fast(self, theta, age, seg, pending, h_ctrl)
                if got is not None:
                    theta, age, seg, pending, h_ctrl, try_fast = got
                    self._state = None
                    self.cho_stale = True
                    prev = None
                    continue
            else:
                try_fast = fast is not None
            st = self._state
            if st is not None and st[0] is theta and st[1] == age and st[2] is sys.part:
                r = st[3]  # G was last evaluated here (after a step or an event)
            else:
                g, r = sys.G(theta, age)
            self._state = None
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
            dtheta = self.tangent(sys.prec(-sys.dG_dage(r)))
            e, de, target, info = sys.event_values(theta, r, age, dtheta)
            # consistency: event functions at zero that decrease fire now, in cascade,
            # in a deterministic order (samples by index, then features by index)
            # (events within etol but not yet at ftol are left to the precise event
            # step unless their horizon is below the resolvable age step: a loss error
            # delta becomes a v error of sqrt(delta) where v* has an infinite slope);
            # an event already violated beyond etol fires whatever its slope (the
            # point is not one of this partition: a sample that just entered the
            # margin with a multiplier of -5e-8 and a zero derivative, on spam7 with
            # the linear kernel, was otherwise kept and the path went on from it)
            with np.errstate(divide="ignore", invalid="ignore"):
                tiny = np.maximum(e, 0.0) / -de <= self.h_min
            near = np.flatnonzero(
                (e < -self.etol)
                | ((e <= self.etol) & (de < 0) & ((e <= self.ftol) | tiny))
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
                theta, age, seg, pending = self.fire(
                    k, target[k], theta, age, info, seg
                )
                continue
            pending = None
            self.record_knot(theta, dtheta, age, seg)
            last, prev = prev, (seg, age, dtheta)
            if age >= self.age_max:
                break
            hev, kev = _lk.first_horizon(e, de)
            step = min(h_ctrl, self.age_max - age)
            limited = hev < step
            if limited:
                step = hev
            fold = None
            if not self.static:
                fold = self._turning_point(folds, seg, age, dtheta, step, hev)
            if fold is not None and not fold[2]:
                # a fold estimated once only: a plain step to half-way (before the
                # next event: _turning_point returns only folds before it)
                step, limited, fold = fold[1], False, None
            if fold is not None and fold[0] <= 2.0 * self.h_min:
                # the branch ends here, to the age resolution, unless it goes on
                # past the estimate (then the estimate is off this segment)
                past = min(age + 4.0 * max(fold[0], self.h_min), self.age_max)
                pred = theta + (past - age) * dtheta
                got = self.newton(pred, past, chord=True)
                if not (got[2] and self._ratio(got[0], pred, theta) <= 0.5):
                    theta, age, seg = self.jump(theta, age, "fold (turning point)", seg)
                    continue
                folds.off = seg
                fold = None
            if fold is not None:
                step, limited = fold[1], False
            new_age = min(age + step, self.age_max)
            if self.static:
                # hard: the solution is constant between events
                theta_new, r_new, ok, iters = theta, r, True, 0
            elif limited and kev >= 0:
                got = self.step_to_event(kev, theta, age, dtheta, e[kev], step, de[kev])
                ok = got is not None
                if ok:
                    theta_new, r_new, new_age, iters = got
            else:
                hh = new_age - age
                if fold is not None:
                    # theta - theta_fold ~ sqrt(fold age - age): the predictor follows
                    # the square root (the first-order one overshoots near the fold)
                    gap = fold[0]
                    move = 2.0 * gap * (1.0 - np.sqrt(1.0 - step / gap))
                    pred = theta + move * dtheta
                else:
                    pred = theta + hh * dtheta
                    if last is not None and last[0] == seg and last[1] < age:
                        # second-order predictor from the segment's previous tangent
                        pred = pred + (0.5 * hh * hh / (age - last[1])) * (
                            dtheta - last[2]
                        )
                theta_new, r_new, ok, iters = self.newton(pred, new_age, chord=True)
                ratio = self._ratio(theta_new, pred, theta)
                ok = ok and ratio <= 0.5
            self.n_steps += 1
            if not ok and fold is not None:
                # retried with a larger margin to the fold; after three failures
                # the step control alone goes on along this segment
                folds.fails += 1
                if folds.fails >= 3:
                    folds.off = seg
                continue
            if not ok:
                h_ctrl = step / 4.0
                if h_ctrl < self.h_min:
                    theta, age, seg = self.jump(theta, age, "fold (step collapse)", seg)
                continue
            # (the values of the samples not violated may be bounds, see
            # event_values_step; only kev's and the violated ones are read)
            e_new, _, target_new, info_new = sys.event_values_step(
                theta_new,
                r_new,
                new_age,
                (theta, dtheta, age),
                kev if limited else -1,
                self.etol,
            )
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
                theta, age, k, info_c, tgt = found
                theta, age, seg, pending = self.fire(k, tgt, theta, age, info_c, seg)
                continue
            theta, age = theta_new, new_age
            if sys.events_set_state:
                # event_values just refreshed the sample state at (theta, age)
                self._state = (theta, age, sys.part, r_new)
            if limited and kev >= 0 and e_new[kev] <= self.etol:
                theta, age, seg, pending = self.fire(
                    kev, target_new[kev], theta, age, info_new, seg
                )
                continue
            if not limited and not self.static:
                if ratio <= 0.05:
                    h_ctrl = min(2.0 * h_ctrl, span)
                elif ratio >= 0.2:
                    h_ctrl = h_ctrl / 2.0
        return theta, age

    def _turning_point(self, folds, seg, age, dtheta, step, hev):
        """(gap, step, located) when a smooth fold (turning point) of the branch
        seems to come within the planned ``step``, before the next event (horizon
        ``hev``) and the end of the range; else None.

        At a turning point the branch's tangent grows like (fold age - age)^(-1/2),
        so q = |tangent|^-2 falls linearly to 0 at the fold: two knots of this
        segment extrapolate the fold age, at ``gap`` from ``age``. Without it the
        step control approaches the fold by trial steps cut by 4 at each failure
        (``benchmarks/svm_turning_points.py`` counts them). The fold is located
        when the last two estimates agree to half the gap (q falls and the
        asymptotics hold): the step then stops short of it by a margin of 8 times their
        difference (at least a quarter of ``h_min``, at most a tenth of the gap), 16
        times more after each failed step. A gap of at most 2 ``h_min`` ends the
        branch (the caller jumps). An estimate not checked by another one only
        halves the step (``located`` False): a step past the fold would fail."""
        if not self.turning_points:
            return None
        nrm2 = float(dtheta @ dtheta) if dtheta.shape[0] else 0.0
        if folds.seg != seg:
            folds.seg, folds.knots, folds.fails = seg, [], 0
        knots = folds.knots
        if not (np.isfinite(nrm2) and nrm2 > 0.0) or folds.off == seg:
            return None
        q = 1.0 / nrm2
        if knots and knots[-1][0] == age:
            est = knots[-1][2]  # the same knot again (after a failed step)
        else:
            est = None
            if knots and knots[-1][0] < age and knots[-1][1] > q:
                a1, q1 = knots[-1][0], knots[-1][1]
                est = age + q * (age - a1) / (q1 - q)
            knots.append((age, q, est))
            if len(knots) > 3:
                del knots[0]
            folds.fails = 0
        if est is None:
            return None
        gap = est - age
        if not (0.0 < gap <= step and gap < hev and est < self.age_max):
            return None
        prev = knots[-2][2] if len(knots) >= 2 else None
        change = abs(est - prev) if prev is not None else np.inf
        if not change <= 0.5 * gap:
            return gap, 0.5 * gap, False
        margin = min(max(8.0 * change, 0.25 * self.h_min), 0.1 * gap)
        margin = min(margin * 16.0**folds.fails, 0.5 * gap)
        return gap, gap - margin, True

    def on_event(self, ev):
        self.events.append(ev)
        if self.verbose >= 2:
            print(
                f"[gaga] age={ev.age:.8e} {ev.kind} {ev.index}: "
                f"{ev.from_set} -> {ev.to_set}{' (jump)' if ev.jump else ''}"
            )

    def on_events(self, evs):
        """:meth:`on_event` of each event of a list."""
        if self.verbose >= 2:
            for ev in evs:
                self.on_event(ev)
        else:
            self.events.extend(evs)

    def locate(self, theta_a, age_a, e_a, theta_b, age_b, e_b):
        """Locate the earliest event crossing in (age_a, age_b] to tolerance.

        Illinois (regula falsi) on the corrected event function of the index whose
        linearly interpolated crossing comes first; all events are re-checked at the
        root and an earlier crossing is refined in turn. Returns (theta, age, k, info,
        target) or None when the corrector fails inside the bracket.
        """
        sys = self.sys
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
                ex, _, tgx, cx = sys.event_values(tx, rx, x)
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
                ex, _, tgx, cx = sys.event_values(tx, rx, b)
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
    def jump(self, theta, age, reason, seg, event=None, end=None):
        """Leave the branch: warm-started ACS just past ``age``, then land.

        Folds: kick along the eigenvector of the symmetric Jacobian of smallest
        |eigenvalue| towards the descent side (``age-path-notes.md`` 4.8) before ACS.
        ``end``: the point (theta, partition) the path ends on when no landing is
        found (default: the point the jump leaves, in the current partition).
        """
        sys = self.sys
        # (a start that jumps away is not a knot: run() checks the path's value at
        # age_min instead, _check_age_min)
        self._check_start = False
        if age >= self.age_max and (
            self._last_jump_age is not None and self._last_jump_age >= self.age_max
        ):
            # a jump at age_max landed on a point that jumps again: no age is left
            # to jump past it (tied losses of a constant classifier, hard
            # regularizer: it repeated until max_events); that landing is the last knot,
            # recorded by the stop
            raise _StopPath(
                theta,
                sys.part.copy(),
                age,
                "no stable point was found at age_max (a jump there lands on a "
                "point that jumps again)",
            )
        if self._unrecorded is not None:
            # the last jump's landing, when it jumps again at once (no knot since, by
            # the follower or a system's compiled loop): its own knot, so that the
            # path returns it at its age, not the point before it polished there
            age_l, x_l, dx_l, seg_l = self._unrecorded
            self._unrecorded = None
            if not self.knots or self.knots[-1][0] < age_l:
                self.knots.append((age_l, x_l, dx_l))
                self.seg_of_knot.append(seg_l)
        before = sys.to_full(theta, age=age)
        if not np.all(np.isfinite(before)):
            self._stop_at_last_knot(
                "the point to jump from has no finite multipliers (a degenerate "
                "partition: more samples on the margin than the kernel's rank, whose "
                "losses tie)"
            )
        theta_before, part_before = theta, sys.part.copy()
        end_theta, end_part = (theta_before, part_before) if end is None else end
        # ACS may come back to (nearly) the same unstable point just past a degenerate
        # end of the branch: then jump further past it (age offsets 1e-9, 1e-7, 1e-5,
        # 1e-3 relative; the ages in between return the pre-jump point), and end the
        # path when even that does not land on a stable point. A jump right at the age
        # where the previous one landed (its landing point fires an event that ends the
        # branch at once) starts further past: without this a degenerate landing can
        # repeat, each 1e-9 further
        prev = self._last_jump_age
        self._jump_repeat = (
            self._jump_repeat + 1
            if prev is not None and age <= prev * (1 + 1e-8)
            else 0
        )
        offsets = (1e-9, 1e-7, 1e-5, 1e-3)[min(self._jump_repeat, 3) :]
        for offset in offsets:
            sys.set_partition(part_before)
            age_j = min(age * (1.0 + offset) + 1e-15, self.age_max)
            try:
                theta = self._jump_land(theta_before, before, age_j, reason, event)
            except sys.stop_errors as exc:
                raise _StopPath(end_theta, end_part, age, str(exc)) from None
            if self._landed_stable or age_j >= self.age_max:
                break
        else:
            raise _StopPath(
                end_theta,
                end_part,
                age,
                "no stable point was found just past the end of the branch "
                "(alternate convex search returns to an unstable one)",
            )
        after = sys.to_full(theta, age=age_j)
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
        self._last_jump_age = age_j
        self._unrecorded = (
            age_j,
            sys.store(theta),
            sys.store_dir(np.zeros_like(theta)),
            seg,
        )
        return theta, age_j, seg

    def _stop_at_last_knot(self, reason):
        """Raise :class:`_StopPath` at the last knot (the path ends there, the events
        past it dropped), for a point past it that has no finite full coordinates;
        RuntimeError before any knot."""
        if not self.knots:
            raise RuntimeError(
                f"The age path cannot start at age={self.age_min!r}: {reason}."
            )
        age_k, x_k, _ = self.knots[-1]
        part = self.segments[self.seg_of_knot[-1]]
        # the events past the knot (the one that led to this point) are not the path's
        self.events[:] = [e for e in self.events if e.age <= age_k]
        raise _StopPath(self.sys.from_stored(x_k), part, age_k, reason, True)

    def _jump_land(self, theta, before, age_j, reason, event):
        """Kick (folds) and warm-started ACS at ``age_j``; sets ``_landed_stable``."""
        sys = self.sys
        x0 = before.copy()
        u = None
        if reason != "discontinuous":
            g, r = sys.G(theta, age_j)
            J = sys.jacobian()
            if J.shape[0] and np.all(np.isfinite(J)):
                scale = max(1.0, np.max(np.abs(theta)))
                if sys.acs_mode is not None:
                    # the unstable mode of ACS linearized at this point (the
                    # eigenvector of the symmetric matrix below can be orthogonal to
                    # it: ACS then comes back and leaves from ~1e-9 away): one kick
                    # along it, on the side where the latent objective falls
                    du = sys.acs_mode(J)
                    if du is not None:
                        state = sys.save_state()
                        got = self._mode_land(before, du, scale, age_j)
                        if got is not None:
                            return got
                        # no landing: the kicks below, from the fold's partition
                        sys.restore_state(state)
                        g, r = sys.G(theta, age_j)
                u = sys.fold_direction(J)
                sigma = -np.sign(u @ sys.prec(g)) or 1.0
                x0 = before + sys.dir_full(sigma * 1e-2 * scale * u)
        one_side = None
        if u is not None and event is not None and event.index >= 0:
            # a fold at a sample's event: the side where that sample moves on (e.g. an
            # entering sample's weight grows), when the system knows it
            one_side = sys.kick_sign(sys.dir_full(u), event)
        if u is not None and one_side:
            x0 = before + sys.dir_full(one_side * 1e-2 * scale * u)
            a0, b0, v0 = self._acs_from(x0, age_j)
            return self.acs_land(a0, b0, age_j, v_first=v0)
        if u is not None and sys.kick_both_sides:
            return self._kick_land(before, u, sigma, scale, age_j)
        if sys.descend is not None and sys.descend_first:
            # the system's local descent straight from the kicked point: where it
            # reaches a stable point that lands, no ACS is needed
            got = sys.descend(*sys.split_acs(x0), age_j)
            if got is not None and got[2]:
                theta_d, ok = self.try_land(
                    got[0], got[1], age_j, repairs=sys.land_repairs
                )
                if ok:
                    self._landed_stable = True
                    return theta_d
        a0, b0, v0 = self._acs_from(x0, age_j)
        return self.acs_land(a0, b0, age_j, v_first=v0)

    def _mode_land(self, before, du, scale, age):
        """Warm-started ACS from a kick of 1e-2 ``scale`` along the full direction
        ``du`` (the unstable mode of ACS), on the side where the latent objective is
        lower at 1e-4 ``scale`` (its slope), or at 1e-2 ``scale`` when the two values
        at 1e-4 tie to 1e-12 relative (rounding: the objective is flat to the third
        order along ``du``); theta of the landing, or None when ACS does not land
        within ``sys.acs_kick`` weighted solves."""
        sys = self.sys

        def values(eps):
            return [
                sys.latent(*sys.split_acs(before + (sg * eps * scale) * du), age)
                for sg in (1.0, -1.0)
            ]

        f = values(1e-4)
        if abs(f[0] - f[1]) <= 1e-12 * max(1.0, abs(f[0])):
            # a tie at the rounding of the objective: it is flat to the third order
            # along du (a fold's cubic, 10^6 times smaller at 1e-4 than at 1e-2), and
            # the side is a coin flip; that of the kick's own size decides (on the
            # other side ACS returns to the fold and creeps there)
            f = values(1e-2)
        side = 1.0 if f[0] <= f[1] else -1.0
        x0 = before + (side * 1e-2 * scale) * du
        a0, b0, v0 = self._acs_from(x0, age)
        for theta, ok, _ in self._acs_chunks(a0, b0, age, sys.acs_kick, v_first=v0):
            if ok:
                self._landed_stable = True
                return theta
        return None

    def _acs_from(self, x0, age):
        """(theta0, b0, v_first) of alternate convex search from the full point x0
        (a kicked point): its first weighted solve at the weights of x0's losses,
        started from the system's ``acs_start`` when it has one (a start shaped like
        the current partition: the same solution in fewer solver steps than from x0,
        where a kick moved every multiplier), else from x0."""
        sys = self.sys
        a0, b0 = sys.split_acs(x0)
        if sys.acs_start is None:
            return a0, b0, None
        a0, v0 = sys.acs_start(a0, b0, age)
        return a0, b0, v0

    def _kick_land(self, before, u, sigma, scale, age):
        """Kick off a fold to both sides at once (the symmetric matrix of the SVM is a
        saddle matrix: no descent sign from it): warm-started ACS from the two kicked
        points advances in alternating chunks, and the first landing is kept (kick
        1e-2, then 1e-1); plain ACS from the first kick when neither lands."""
        sys = self.sys
        du = sys.dir_full(scale * u)  # in the partition of the fold
        for mag in (1e-2, 1e-1):
            runs = []
            for sg in (sigma, -sigma):
                a0, b0, v0 = self._acs_from(before + (sg * mag) * du, age)
                runs.append(self._acs_chunks(a0, b0, age, sys.acs_kick, v_first=v0))
            while runs:
                for run in list(runs):
                    theta, ok, done = next(run)
                    if ok:
                        self._landed_stable = True
                        return theta
                    if done:
                        runs.remove(run)
        a0, b0, v0 = self._acs_from(before + (sigma * 1e-2) * du, age)
        return self.acs_land(a0, b0, age, v_first=v0)

    def _acs_chunks(
        self, theta0, b0, age, max_total, chunk=None, land_dv=None, v_first=None
    ):
        """ACS in chunks of ``chunk`` weighted solves (default ``sys.acs_chunk``);
        after each chunk yields (theta, landed, done) where a landing was tried once
        the weights settled, ACS moving v by at most ``land_dv`` (default
        ``sys.land_dv``; a partition that failed to land is not tried again until ACS
        converges). ``v_first``: the weights of the first weighted solve (default:
        those of (theta0, b0)'s losses), which starts from theta0."""
        from gaga.baselines import _acs, _Solver

        sys = self.sys
        chunk = sys.acs_chunk if chunk is None else chunk
        land_dv = sys.land_dv if land_dv is None else land_dv
        # (no warning from an inner solve that stops short: the point ACS reaches is
        # polished and certified by the landing, or the path stops with a warning)
        solver = _Solver(sys.problem, "gaga", None, warn=False)
        total = 0
        theta_c, b_c = np.asarray(theta0, dtype=float), float(b0)
        failed = set()
        dv = np.inf
        dv_prev = np.inf if not sys.land_contracting else None
        hist = []  # the last chunks, for _acs_extrapolate
        skip = [8]  # chunks skipped at a constant speed (doubles at each use)
        v_next = v_first  # weights of the next chunk's first solve (an extrapolation)

        def tol_fn(solver, delta_v):
            sys.acs_inner_tol(solver, min(delta_v, dv))

        while True:
            theta_c, b_c, v, it, conv, dv = _acs(
                sys.problem,
                self.reg,
                age,
                solver,
                theta_c,
                b_c,
                v_next,
                self.acs_tol,
                chunk,
                tol_fn,
            )
            total += it
            done = conv or total >= max_total
            theta, ok = None, False
            if (dv <= land_dv or conv) and sys.descend is not None:
                # a few Newton steps on the latent objective instead of ACS creeping
                # towards the minimum (ACS goes on from the better point)
                got = sys.descend(theta_c, b_c, age)
                if got is not None:
                    theta_c, b_c = got[0], got[1]
            # the partition is settled enough to be identified (systems with
            # land_contracting: and ACS contracts, its change of v not larger than in
            # the chunk before; while it grows, ACS leaves an unstable point or crawls
            # through the ghost of a fold, and no stable point is near)
            settled = conv or (dv <= land_dv and dv_prev is not None and dv <= dv_prev)
            if sys.land_contracting:
                dv_prev = dv
            if settled:
                theta, ok = self.try_land(
                    theta_c,
                    b_c,
                    age,
                    repairs=sys.land_repairs,
                    skip=None if done else failed,
                )
            v_next = None
            if sys.acs_extrapolate and not (ok or done):
                v_next, back = self._acs_extrapolate(
                    hist, theta_c, b_c, v, dv, it, age, skip
                )
                if back is not None:
                    theta_c, b_c = back
            self._acs_state = (theta_c, b_c)
            yield theta, ok, done
            if done:
                return

    def _acs_extrapolate(self, hist, theta, b, v, dv, it, age, skip):
        """Skip ACS chunks along a mode that ACS follows at a steady rate.

        ``hist`` holds the last chunks: (theta, b, v, max |delta v| of the last
        iteration, iterations, latent objective, a move followed) (v: the weights
        theta solves). When the last three full chunks move v along one direction
        (parallel displacements) by lengths in a constant ratio g, the next chunks
        are taken at once: v moves along the last displacement D by g + g^2 + ... +
        g^m (clipped to [0, 1]) and ACS goes on with the weighted solve there. Three
        regimes: g > 1, ACS leaves an unstable point along its unstable mode (m such
        that the change of v reaches ``min(1e-4, 1e4 dv)``); g ~ 1, ACS crawls
        through the ghost of a fold at a constant speed (m = ``skip[0]``, doubled at
        each such move); g < 1, ACS converges slowly (Aitken: to the limit of the
        geometric series). The chunk after a move must lower the latent objective
        below the one before the move, else ACS goes back there (and ``hist``
        restarts). Returns (the weights of the next chunk's first solve or None, the
        point (theta, b) ACS goes back to or None)."""
        f = self.sys.latent(theta, b, age)
        if hist and hist[-1][6]:
            # the chunk after a move: kept only if the latent objective fell
            t_, b_, v_, _, _, f_, _ = hist[-1]
            hist.clear()
            if not f < f_:
                return None, (t_, b_)
        hist.append((theta, b, v, dv, it, f, False))
        del hist[:-4]
        if len(hist) < 4:
            return None, None
        v0, v1, v2 = (h[2] for h in hist[:3])
        if not (all(h[4] == it for h in hist) and 0.0 < dv < 1e-2):
            return None, None
        D1, D2 = v2 - v1, v - v2
        n0 = float(np.linalg.norm(v1 - v0))
        n1, n2 = float(np.linalg.norm(D1)), float(np.linalg.norm(D2))
        if not (n0 > 0.0 and n1 > 0.0 and n2 > 0.0) or D1 @ D2 < 0.99 * n1 * n2:
            return None, None
        lg1, lg = np.log(n1 / n0), np.log(n2 / n1)
        if abs(lg1 - lg) > max(0.2 * abs(lg), 0.005):
            return None, None
        g = n2 / n1
        if lg > -0.01 and dv >= 1e-4:
            return None, None
        if lg > 0.01:
            m = int(np.ceil(np.log(min(1e-4, 1e4 * dv) / dv) / lg))
            if m < 2:
                return None, None
            step = g * np.expm1(m * lg) / np.expm1(lg)
        elif lg > -0.01:
            step = float(skip[0])
            skip[0] *= 2
        elif lg > np.log(0.5):
            step = g / (1.0 - g)
        else:
            return None, None
        hist[-1] = hist[-1][:6] + (True,)
        return np.clip(v + step * D2, 0.0, 1.0), None

    def acs_land(self, theta0, b0, age, chunk=None, land_dv=None, v_first=None):
        """ACS in chunks of ``chunk`` weighted solves (default ``sys.acs_chunk``),
        trying to land after each chunk once it moves v by at most ``land_dv``
        (default ``sys.land_dv``); ``v_first``: see :meth:`_acs_chunks`.

        Landing: identify the partition of the ACS point, Newton-polish it, accept when
        the system is solved, every event function is >= -etol and the Jacobian has the
        inertia of a stable point. Returns theta for the landed partition (set on the
        system).
        """
        for theta, ok, done in self._acs_chunks(
            theta0, b0, age, self.sys.acs_max, chunk, land_dv, v_first
        ):
            if ok:
                self._landed_stable = True
                return theta
        theta_c, b_c = self._acs_state
        self._landed_stable = False
        return self.try_land(theta_c, b_c, age, repairs=199, stable=False)[0]

    def try_land(self, theta0, b0, age, repairs=5, stable=True, skip=None):
        """Identify the partition of an ACS point, Newton-polish and repair it.

        With ``stable=True`` the landing is accepted only if Newton converges, no
        event is violated after at most ``repairs`` transitions and the Jacobian is
        stable; with ``stable=False`` (the fallback after ACS converged) it only
        repairs. ``skip``: a set of partitions already tried in vain (not tried again,
        the new one is added when it fails). Returns (theta, accepted).
        """
        sys = self.sys
        theta = sys.identify(theta0, b0, age)
        if skip is not None:
            key = sys.part.region.tobytes() + sys.part.active.tobytes()
            if key in skip:
                return theta, False
            skip.add(key)
        r = sys.identified_state(theta) if stable else None
        if r is not None:
            # the system's identify solved its partition at theta with no violated
            # event and a stable inertia: the checks below, already passed
            return theta, self.factor(r, age)
        seen = set()
        for _ in range(repairs + 1):
            before = theta
            theta, r, ok, _ = self.newton(theta, age)
            if not ok:
                # (the fallback keeps the last point Newton started from: a
                # diverged iterate, |theta| ~ 1e17, is no point of the path)
                return (theta, False) if stable else (before, False)
            e, _, target, info = sys.event_values(theta, r, age)
            k = _lk.most_violated(e, self.etol)
            if k < 0:
                return theta, (self.factor(r, age) if stable else True)
            viol = np.flatnonzero(e < -self.etol)
            key = viol.tobytes()
            if sys.land_batch and viol.size > 1 and key not in seen:
                # every violated index moves at once (a semismooth Newton step on the
                # partition): a far ACS point needs a few of these, not one per sample;
                # a violation set seen before (a cycle) moves only its worst index
                seen.add(key)
                for j in viol:
                    theta, _, _ = sys.apply(int(j), target[j], theta, age, info)
            else:
                theta, _, _ = sys.apply(k, target[k], theta, age, info)
        return theta, False


class _SystemBase:
    """Shared helpers of the restricted optimality systems."""

    incremental = False
    refine_exact = True  # refine tangents solved with a fresh exact factor
    events_set_state = False  # event_values(theta, r, age) leaves the state G leaves
    acs_chunk = 20
    acs_max = 100000
    kick_both_sides = False
    stop_errors = ()  # errors of a jump's ACS that end the path (with a warning)
    land_dv = 1e-4  # try to land once an ACS chunk changes v by at most this
    land_repairs = 5  # transitions applied to an identified partition before giving up
    land_batch = False  # a repair moves every violated index (else the most violated)
    # land only once ACS contracts (a chunk changes v by no more than the one before;
    # never after the first chunk unless ACS converged)
    land_contracting = False
    acs_extrapolate = False  # skip ACS chunks along a steady mode (_acs_extrapolate)
    descend = None  # optional local descent from an ACS point before landing (Lasso)
    descend_first = False  # a jump tries descend from the kicked point before ACS
    # acs_start(theta0, b0, age) -> (start, v): the weights v of the losses of an ACS
    # point and a start for its first weighted solve at them (the SVM's), or None
    acs_start = None
    # chord_margins(theta, r, rhs, step, K, dl=0.0, dtheta=None): the state r of G at
    # theta = theta_prev - step + dl * dtheta from r at theta_prev and the solve of
    # K step = rhs, without G's pass (for G_of(theta, age, r)), or None; the SVM's
    chord_margins = None

    def prec(self, g):
        return g

    def identified_state(self, theta):
        """The state r of G at ``theta`` when the last ``identify`` returned it and
        already checked it as a landing (solved, no violated event, stable), else
        None (the follower's landing checks it)."""
        return None

    def release(self):
        """Drop what only the following needs (caches of blocks and factors) once the
        path is followed; the stored path and its queries do not depend on it."""

    def event_values_step(self, theta, r, age, base, k, etol):
        """``event_values(theta, r, age)`` at the end of a step from ``base = (theta0,
        dtheta0, age0)`` (the last point whose values were taken with a direction).
        For an index other than ``k`` that it proves not violated (value >= -etol), a
        system may return another value >= -etol instead of the exact one, and any
        target: the follower reads only the values of the violated indices and of
        ``k``, and the target of ``k``."""
        return self.event_values(theta, r, age)

    def acs_inner_tol(self, solver, dv):
        """Set the inner solver's tolerance for the next ACS chunk, given the last
        chunk's ``max |delta v|`` (inf before the first); default: leave it."""

    def solve_exact(self, K, rhs):
        return np.linalg.solve(K, rhs)

    def is_rank_one(self, k):
        return False

    def kick_sign(self, du, event):
        """Sign of the kick off a fold at ``event`` along the full direction ``du``,
        or None (no preference)."""
        return None

    def from_stored(self, x):
        return self.from_full(x)

    def bordered_step(self, k, theta, age, dtheta, h, slope, fac, age_max, ftol):
        """Compiled bordered chord Newton to event k (see
        :meth:`_Follower.step_to_event`): (theta, r, age, iterations), None when it
        does not converge, NotImplemented when the system has none for this event."""
        return NotImplemented

    event_one = None  # O(k) event value of one index for the bordered step, or None
    # fast_events(fol, theta, age, seg, pending, h_ctrl): compiled regular iterations
    # from a loop top (recorded on fol), (theta, age, seg, pending, h_ctrl, again)
    # where the loop goes on (again: the compiled loop may take the next iteration
    # too), or None; the Lasso's
    fast_events = None
    # acs_mode(K): full direction of the unstable mode of ACS at the point of the last
    # G (K its symmetric matrix), or None; a jump off a fold kicks along it
    acs_mode = None

    def save_state(self):
        """What :meth:`restore_state` needs to return to the current partition."""
        return self.part.copy()

    def restore_state(self, state):
        self.set_partition(state)

    def latent(self, theta, b, age):
        """Latent objective at an ACS point (theta, b)."""
        return self.problem.latent_objective(theta, b, age, self.reg)

    def fold_direction(self, K):
        """Unit eigenvector of the symmetric K for its eigenvalue of smallest modulus
        (the direction of a fold's kick)."""
        w, U = eigh(K)
        return U[:, int(np.argmin(np.abs(w)))]

    def polish_moved(self, k, theta, age):
        """(theta, r) at ``age`` after index k moved at its located event when the
        system can certify ``|G| <= gtol`` there without a G pass, else None."""
        return None

    def newton_exact(self, theta, age, max_iter=12):
        """Newton with exact Jacobians on G(., age) = 0 in the current partition;
        returns (theta, r, converged)."""
        g, r = self.G(theta, age)
        for _ in range(max_iter):
            gn = np.max(np.abs(g), initial=0.0)
            if gn <= self.gtol:
                return theta, r, True
            if not np.isfinite(gn):
                return theta, r, False
            try:
                step = self.newton_step(g)
            except (np.linalg.LinAlgError, ValueError):
                return theta, r, False
            theta = theta - step
            g, r = self.G(theta, age)
        return theta, r, bool(np.max(np.abs(g), initial=0.0) <= self.gtol)

    def newton_step(self, g):
        """Step of :meth:`newton_exact` at residual ``g`` (the exact Jacobian here)."""
        return self.solve_exact(self.jacobian(), self.prec(g))

    def refine_stored(self, theta, age):
        """A point of the current partition at ``age``, as :meth:`polish_stored`
        returns it to the user, before it is mapped to full coordinates (default:
        unchanged; the SVM's primal-reduced system refines its dual margins)."""
        return theta

    def polish_stored(self, x, age, part, max_iter=8):
        """Newton on G at ``age`` with partition ``part`` from a stored knot value
        (or an interpolant of two; ``max_iter=0``: the stored value itself), then
        :meth:`refine_stored`; returns the point in full coordinates."""
        saved = getattr(self, "part", None)
        self.set_partition(part)
        theta = self.newton_exact(self.from_stored(x), age, max_iter)[0]
        out = self.to_full(self.refine_stored(theta, age), age=age)
        if saved is not None:
            self.set_partition(saved)
        return out


class _AllExcluded(Exception):
    """ACS at the start age leaves nothing to fit (every weight zero; for the SVM, a
    class without weight)."""


def check_path_args(max_events, tol, default_max_events):
    """Validate ``max_events`` (None: ``default_max_events``) and ``tol``."""
    if max_events is None:
        max_events = default_max_events
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
    return max_events


def resolve_age_range(reg, age_min, age_max, default_range):
    """The age range: user values, else ``default_range()`` (called only if needed);
    returns (age_min, age_max, user_min)."""
    user_min = age_min is not None
    if age_min is None or age_max is None:
        dmin, dmax = default_range()
        age_min = dmin if age_min is None else age_min
        age_max = dmax if age_max is None else age_max
    age_min = reg.check_age(age_min, "age_min")
    age_max = reg.check_age(age_max, "age_max")
    if not age_min < age_max:
        raise ValueError(f"age_min={age_min!r} must be < age_max={age_max!r}.")
    return age_min, age_max, user_min


# start ages a default age range tries, each a quarter of the way nearer age_max
_START_TRIES = 60


def follow_path(
    system,
    *,
    age_min,
    age_max,
    user_min,
    max_events,
    acs_tol,
    verbose,
    start,
    excluded_message,
    label,
):
    """Start (``start(follower, age_min)``, an ACS landing that raises _AllExcluded when
    nothing is left to fit), follow the path and wrap it in an AgePath.

    A default start that collapses moves towards ``age_max`` (``_START_TRIES`` tries).
    A user's ``age_min`` that collapses raises a ValueError with
    ``excluded_message(age_min)``; a default one that collapses at every try, a
    ValueError naming the ages tried.
    """
    from gaga._path import AgePath

    first_min = age_min
    for attempt in range(_START_TRIES):
        fol = _Follower(
            system,
            age_min,
            age_max,
            max_events=max_events,
            verbose=verbose,
            acs_tol=acs_tol,
        )
        try:
            theta = start(fol, age_min)
            break
        except _AllExcluded:
            if user_min:
                raise ValueError(
                    f"{excluded_message(age_min)} Choose a larger age_min."
                ) from None
            if attempt == _START_TRIES - 1:
                # (the default range: the user chose no age, so say what was tried)
                reg = system.reg
                hi = reg.age_bounds[1]
                if np.isfinite(hi):
                    # e.g. the logarithmic regularizer: no age gives a loss at or
                    # above its loss_zero(hi) a positive weight
                    advice = (
                        f"the {reg.name} regularizer's ages lie below {hi!r}, where "
                        "losses from "
                        f"{float(reg.loss_zero(np.nextafter(hi, 0.0))):.6g} on "
                        "never get a positive weight: another regularizer may fit "
                        "these losses"
                    )
                else:
                    advice = (
                        "pass age_min and age_max (for example an age_max above "
                        "the largest loss, where every weight is 1)"
                    )
                raise ValueError(
                    f"{excluded_message(age_min)} No start age in the default age "
                    f"range [{first_min!r}, {age_max!r}] works: {_START_TRIES} start "
                    f"ages from {first_min!r} up to {age_min!r} all collapsed. The "
                    f"default range comes from the losses of the v = 1 fit; {advice}."
                ) from None
            # the default start collapsed: move it towards age_max
            age_min = age_min + 0.25 * (age_max - age_min)
    fol.run(theta, age_min)
    if verbose:
        print(
            f"[gaga] {label} age path: {len(fol.events)} events, "
            f"{sum(e.jump for e in fol.events)} jumps, {fol.n_steps} steps, "
            f"{fol.n_jac} Jacobians in {fol.elapsed:.3f} s"
        )
    # the follower's working memory (caches of blocks and factors) is not part of the
    # path: queries rebuild what they need
    system.release()
    path = AgePath(
        system=system,
        problem=system.problem,
        regularizer=system.reg,
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
