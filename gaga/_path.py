"""The :class:`AgePath` result shared by the Lasso and SVM age paths."""

from bisect import bisect_right
from typing import NamedTuple

import numpy as np

__all__ = ["AgePath", "PathEvent"]


class PathEvent(NamedTuple):
    """One event of an age path (an immutable record: a named tuple, whose
    construction costs about a quarter of a frozen dataclass's; a path records
    thousands of events).

    Attributes
    ----------
    age : float
        Age at which the event happens.
    kind : str
        ``"sample"`` (a sample changes region), ``"feature"`` (a feature enters or
        leaves the active set), ``"margin"`` (SVM margin set change) or ``"jump"``.
    index : int
        Index of the sample or feature (-1 for a jump).
    from_set, to_set : str
        Sets before and after: for samples ``"v=0"``, ``"v=1"``, ``"middle"``; for
        features ``"inactive"``, ``"active"``; for jumps ``"branch"``.
    jump : bool
        Whether the solution jumps at this age.
    reason : str
        Why a jump happened (``"fold"``, ``"discontinuous"``, ``"non-smooth fold"``), or
        "".
    size : float
        Max-norm of the jump of the coefficients (0 for continuous events).
    """

    age: float
    kind: str
    index: int
    from_set: str
    to_set: str
    jump: bool = False
    reason: str = ""
    size: float = 0.0


class AgePath:
    """Exact solution path of a self-paced learning problem over the age.

    Returned by :func:`gaga.age_path_lasso` and :func:`gaga.age_path_svm`. Between
    knots the path is smooth; values at any age in ``[age_min, age_max]`` come from a
    quadratic Hermite predictor from the nearest knot corrected by Newton's method on
    the optimality system of that segment (never a linear interpolation). At a jump
    age the path takes the post-jump value.

    Attributes
    ----------
    age_min, age_max : float
        The age range of the path.
    knots : ndarray of shape (n_knots,)
        Ages at which the follower stored a point (sorted, non-decreasing).
    coef_knots : ndarray of shape (n_knots, n_features)
        Coefficients at the knots (Lasso; for the SVM: the primal weights, linear
        kernel only, else None).
    intercept_knots : ndarray of shape (n_knots,)
        Intercepts at the knots.
    events : list of PathEvent
        Every event in order of age.
    breakpoints : ndarray of shape (n_events,)
        Sorted event ages.
    regularizer : Regularizer
        The self-paced regularizer.
    problem : object
        The problem (data, penalty) the path solves.
    """

    def __init__(
        self,
        *,
        system,
        problem,
        regularizer,
        age_min,
        age_max,
        knots,
        events,
        segment_of_knot,
        segments,
        n_steps,
    ):
        self._system = system
        self.problem = problem
        self.regularizer = regularizer
        self.age_min = float(age_min)
        self.age_max = float(age_max)
        self._knots = knots  # list of (age, theta_full, dtheta_full)
        self.events = list(events)
        self._segment_of_knot = np.asarray(segment_of_knot, dtype=np.intp)
        self._segments = segments  # list of partition snapshots
        self.n_steps = int(n_steps)
        self.knots = np.array([k[0] for k in knots])
        # knot values in the system's stored coordinates (Lasso: full (w, b); SVM: the
        # segment's unknowns), with the tangents
        self._store = [k[1] for k in knots]
        self._dstore = [k[2] for k in knots]
        self._knot_arrays = None  # coef_knots, intercept_knots: built when first read

    def _arrays_at_knots(self):
        if self._knot_arrays is None:
            self._knot_arrays = self._system.knot_arrays(
                self._store, self._segments, self._segment_of_knot
            )
        return self._knot_arrays

    @property
    def coef_knots(self):
        """Coefficients at the knots, shape (n_knots, n_features) (built when first
        read; the SVM's: primal weights for the linear kernel, else None)."""
        return self._arrays_at_knots()["coef_knots"]

    @property
    def intercept_knots(self):
        """Intercepts at the knots, shape (n_knots,) (built when first read)."""
        return self._arrays_at_knots()["intercept_knots"]

    # -- basic information
    # ----------------------------------------------------------------
    @property
    def breakpoints(self):
        """Sorted ages of the events, shape (n_events,)."""
        return np.array(sorted(e.age for e in self.events), dtype=float)

    @property
    def n_events(self):
        """Number of events."""
        return len(self.events)

    @property
    def jumps(self):
        """The jump events."""
        return [e for e in self.events if e.jump]

    def __repr__(self):
        return (
            f"AgePath(age_min={self.age_min:.6g}, age_max={self.age_max:.6g}, "
            f"n_events={self.n_events}, n_jumps={len(self.jumps)}, "
            f"n_knots={len(self.knots)})"
        )

    # -- evaluation
    # -----------------------------------------------------------------------
    def _check_ages(self, age):
        ages = np.asarray(age, dtype=float)
        if not np.all(np.isfinite(ages)):
            raise ValueError(f"age={age!r} must be finite.")
        tol = 1e-12 * max(1.0, abs(self.age_max))
        if np.any(ages < self.age_min - tol) or np.any(ages > self.age_max + tol):
            raise ValueError(
                f"age={age!r} is outside the path's range [{self.age_min}, "
                f"{self.age_max}]; recompute the path with a wider age_min/age_max."
            )
        return ages

    def _full_at(self, age):
        """Full coordinates at one age: predictor from the knot, then Newton."""
        j = bisect_right(self.knots, age) - 1
        j = min(max(j, 0), len(self.knots) - 1)
        a0 = self.knots[j]
        x0 = self._store[j]
        seg = self._segment_of_knot[j]
        if age == a0:
            return self._system.stored_full(x0, self._segments[seg], age), seg
        t = age - a0
        d0 = self._dstore[j]
        x = x0 + t * d0
        if j + 1 < len(self.knots) and self._segment_of_knot[j + 1] == seg:
            H = self.knots[j + 1] - a0
            if H > 0:
                x = x + (self._store[j + 1] - x0 - d0 * H) * (t / H) ** 2
        x = self._system.polish_stored(x, age, self._segments[seg])
        return x, seg

    def _map(self, age, fun):
        ages = self._check_ages(age)
        scalar = ages.ndim == 0
        flat = np.atleast_1d(ages).ravel()
        outs = []
        for a in flat:
            x, seg = self._full_at(float(a))
            outs.append(fun(x, seg, float(a)))
        if scalar:
            return outs[0]
        return np.stack(outs)

    def coef(self, age):
        """Coefficients: shape (n_features,), or (n_ages, n_features) for an array.

        For an SVM path these are the primal weights ``w = sum_i y_i a_i x_i``, defined
        for the linear kernel only (``ValueError`` otherwise; see :meth:`dual_coef`).
        """
        self._system.check_coef()
        return self._map(age, lambda x, seg, a: self._system.coef_full(x))

    def intercept(self, age):
        """Intercept at ``age`` (float, or array of shape (n_ages,))."""
        return self._map(age, lambda x, seg, a: self._system.intercept_full(x))

    def dual_coef(self, age):
        """SVM only: ``y_i a_i`` over all training samples, shape (n_samples,) or
        (n_ages, n_samples) (zero outside the support)."""
        self._require_svm("dual_coef")
        return self._map(age, lambda x, seg, a: self._system.dual_coef_full(x))

    def decision_function(self, X, age):
        """SVM only: decision values ``sum_j y_j a_j K(x_j, x) + b`` for ``X``.

        For ``kernel="precomputed"``, ``X`` is the kernel between the new and the
        training samples, shape (n, n_train). Returns shape (n,) for a scalar age,
        (n_ages, n) for an array.
        """
        self._require_svm("decision_function")
        Kx = self._system.kernel_rows(X)
        return self._map(age, lambda x, seg, a: self._system.decision_full(Kx, x))

    def _require_svm(self, name):
        if getattr(self.problem, "kind", None) != "svm":
            raise AttributeError(f"{name} is only defined for an SVM age path.")

    def weights(self, age):
        """Self-paced weights v: shape (n_samples,) or (n_ages, n_samples)."""
        return self._map(
            age, lambda x, seg, a: self._system.weights_full(x, a, self._segments[seg])
        )

    def objective(self, age):
        """Value of the self-paced objective (at v = v*) at ``age``."""
        return self._map(age, lambda x, seg, a: self._system.objective_full(x, a))

    def predict(self, X, age):
        """Predictions for ``X`` at ``age``: values (Lasso) or labels (SVM, from
        ``problem.classes_``).

        Returns
        -------
        ndarray of shape (n_samples,) for a scalar age, (n_ages, n_samples) for an
        array.
        """
        X = self._system.check_X(X)
        return self._map(age, lambda x, seg, a: self._system.predict_full(X, x))

    def score_path(self, X, y, ages, scoring=None):
        """Score on a held-out set at each of ``ages``, exactly from the path.

        See :func:`gaga.cv.score_path`.
        """
        from gaga._cv import score_path

        return score_path(self, X, y, ages, scoring=scoring)

    def certify(self, ages=None, include_breakpoints=True, **kwargs):
        """Independent certificates (``gaga.verify``) at the breakpoints, the path's
        ends and given ages.

        Parameters
        ----------
        ages : array-like, default=None
            Extra ages. For a jump, the certificate is taken at the post-jump age.
        include_breakpoints : bool, default=True
            Whether to certify every breakpoint and both ends of the path
            (``age_min`` and ``age_max``; a path without events is checked there) in
            addition to ``ages``.
        **kwargs
            Tolerances passed to :func:`gaga.verify.certify`.

        Returns
        -------
        list of Certificate
        """
        from gaga.verify import certify

        marked = [self.age_min, *self.breakpoints, self.age_max]
        pts = marked if include_breakpoints else []
        if ages is not None:
            pts += list(np.atleast_1d(self._check_ages(ages)))
        pts = sorted(set(float(np.clip(a, self.age_min, self.age_max)) for a in pts))
        out = []
        for a in pts:
            x, seg = self._full_at(a)
            v = self._system.weights_full(x, a, self._segments[seg])
            out.append(
                certify(
                    self.problem,
                    self.regularizer,
                    a,
                    v=v,
                    **self._system.certify_kwargs(x),
                    **kwargs,
                )
            )
        return out
