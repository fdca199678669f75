"""Self-paced regularizers.

A self-paced regularizer f(v, age) defines, for every sample loss l, the optimal weight

    v*(l, age) = argmin over v in [0, 1] of  v * l + f(v, age),

which is 1 for ``l <= loss_one(age)``, 0 for ``l >= loss_zero(age)`` and given by a
smooth *middle branch* in between. The envelope ``latent(l, age) = min_v v*l + f(v,
age)`` satisfies d latent / d l = v*. Conventions and formulas: ``age-path-spec.md``
section 2.

All methods are vectorized over the loss (or v) and take a scalar age. Losses are in the
units of the problem's loss (half squared residual for the Lasso, hinge for the SVM).
"""

from numbers import Real

import numpy as np

from gaga import _spl_kernels as _k

__all__ = [
    "Regularizer",
    "Hard",
    "Linear",
    "Logarithmic",
    "Mixture",
    "Polynomial",
    "CustomRegularizer",
    "get_regularizer",
]


def _as_loss_array(loss, name="loss"):
    arr = np.asarray(loss, dtype=np.float64)
    scalar = arr.ndim == 0
    flat = np.ascontiguousarray(arr.reshape(-1))
    return flat, arr.shape, scalar


def _restore(out, shape, scalar):
    if scalar:
        return float(out[0])
    return out.reshape(shape)


class Regularizer:
    """Base class of self-paced regularizers.

    Subclasses provide the closed-form minimizer and its derivatives. The public
    interface, shared by every regularizer and used by the path followers, ACS and
    ``gaga.verify``:

    ``value(v, age)``, ``v_star(loss, age)``, ``dv_dloss(loss, age)``, ``dv_dage(loss,
    age)``, ``loss_one(age)``, ``loss_zero(age)``, ``dloss_one(age)``,
    ``dloss_zero(age)``, ``latent(loss, age)``, ``continuous``, ``age_bounds``; plus the
    unclipped middle branch ``middle(loss, age)``, ``middle_dloss`` and ``middle_dage``
    used inside the path follower.

    Attributes
    ----------
    name : str
        Short name.
    continuous : bool
        Whether v* is continuous in the loss (a discontinuous v* makes the path jump).
    age_bounds : tuple of float
        The open interval of valid ages ``(low, high)``.
    """

    name = "regularizer"
    continuous = True
    age_bounds = (0.0, np.inf)
    #: integer code of the numba kernels, or -1 for regularizers evaluated in Python
    kind = -1
    param = 0.0

    # -- validation --------------------------------------------------------------------
    def check_age(self, age, name="age"):
        """Validate a scalar age and return it as a float.

        Raises
        ------
        ValueError
            If the age is not finite or outside the open interval ``age_bounds``.
        """
        try:
            a = float(age)
        except (TypeError, ValueError):
            raise ValueError(f"{name}={age!r} must be a real number.") from None
        low, high = self.age_bounds
        if not np.isfinite(a) or not (low < a < high):
            raise ValueError(
                f"{name}={age!r} is outside the valid age range ({low}, {high}) of the "
                f"{self.name} regularizer (open interval)."
            )
        return a

    # -- thresholds (override) --------------------------------------------------------
    def loss_one(self, age):
        """Loss at or below which v* = 1."""
        return float(_k.loss_one(self.kind, self.param, float(age)))

    def loss_zero(self, age):
        """Loss at or above which v* = 0."""
        return float(_k.loss_zero(self.kind, self.param, float(age)))

    def dloss_one(self, age):
        """Derivative of :meth:`loss_one` with respect to the age."""
        return float(_k.dloss_one(self.kind, self.param, float(age)))

    def dloss_zero(self, age):
        """Derivative of :meth:`loss_zero` with respect to the age."""
        return float(_k.dloss_zero(self.kind, self.param, float(age)))

    # -- vectorized values (built-ins use the numba kernels)
    # ----------------------------
    def _vectorized(self, kernel, x, age):
        """Apply a numba kernel ``kernel(kind, param, array, age)`` elementwise."""
        flat, shape, scalar = _as_loss_array(x)
        return _restore(kernel(self.kind, self.param, flat, float(age)), shape, scalar)

    def v_star(self, loss, age):
        """Closed-form optimal weight v*(loss, age) in [0, 1]."""
        return self._vectorized(_k.v_star_vec, loss, age)

    def dv_dloss(self, loss, age):
        """Partial derivative of v* in the loss on the open middle region, else 0."""
        return self._vectorized(_k.dv_dloss_vec, loss, age)

    def dv_dage(self, loss, age):
        """Partial derivative of v* in the age on the open middle region, else 0."""
        return self._vectorized(_k.dv_dage_vec, loss, age)

    def value(self, v, age):
        """The regularizer f(v, age), vectorized over v."""
        return self._vectorized(_k.value_vec, v, age)

    def latent(self, loss, age):
        """Envelope F(loss, age) = min over v in [0, 1] of v * loss + f(v, age)."""
        return self._vectorized(_k.latent_vec, loss, age)

    def middle(self, loss, age):
        """Middle branch of v* evaluated without clipping (analytic continuation)."""
        return self._vectorized(_k.phi_vec, loss, age)

    def middle_dloss(self, loss, age):
        """Derivative of the unclipped middle branch in the loss."""
        return self._vectorized(_k.phi_dloss_vec, loss, age)

    def middle_dage(self, loss, age):
        """Derivative of the unclipped middle branch in the age."""
        return self._vectorized(_k.phi_dage_vec, loss, age)

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __eq__(self, other):
        return type(self) is type(other) and repr(self) == repr(other)

    def __hash__(self):
        return hash(repr(self))


class Hard(Regularizer):
    """Hard self-paced regularizer (Kumar et al., 2010): f(v, age) = -age * v.

    v* = 1 if loss < age else 0; discontinuous, so every threshold crossing is a jump.
    """

    name = "hard"
    continuous = False
    kind = _k.HARD


class Linear(Regularizer):
    """Linear soft weighting (Jiang et al., 2014): f(v, age) = age * (v^2 / 2 - v).

    v* = max(0, 1 - loss / age).
    """

    name = "linear"
    kind = _k.LINEAR


class Logarithmic(Regularizer):
    """Logarithmic soft weighting (Jiang et al., 2014); valid for 0 < age < 1.

    With zeta = 1 - age: f(v, age) = zeta * v - zeta^v / log(zeta) and v* = log(loss +
    zeta) / log(zeta) for loss < age, 0 beyond. Losses should be scaled so that the
    interesting ones lie below 1.
    """

    name = "log"
    kind = _k.LOG
    age_bounds = (0.0, 1.0)


class Mixture(Regularizer):
    """Mixture weighting (Zhao et al., 2015, the form of the GAGA reference code).

    f(v, age) = gamma^2 / (v + gamma / age); v* = 1 below (age gamma / (age + gamma))^2,
    0 above age^2 and gamma * (loss^(-1/2) - 1/age) in between.

    Parameters
    ----------
    gamma : float, default=1.0
        Positive shape parameter.
    """

    name = "mixture"
    kind = _k.MIXTURE

    def __init__(self, gamma=1.0):
        if (
            isinstance(gamma, bool)
            or not isinstance(gamma, Real)
            or not np.isfinite(gamma)
            or gamma <= 0
        ):
            raise ValueError(f"gamma={gamma!r} must be a finite real number > 0.")
        self.gamma = float(gamma)
        self.param = self.gamma

    def __repr__(self):
        return f"Mixture(gamma={self.gamma!r})"


class Polynomial(Regularizer):
    """Polynomial soft weighting (Gong et al., 2018): f(v, age) = age * (v^t / t - v).

    v* = (1 - loss / age)^(1 / (t - 1)) for loss < age; t = 2 is the linear regularizer.
    For t > 2 the slope of v* is infinite at loss = age, so every sample entering the
    training set makes the path jump.

    Parameters
    ----------
    t : float, default=1.5
        Exponent, t > 1.
    """

    name = "polynomial"
    kind = _k.POLY

    def __init__(self, t=1.5):
        if (
            isinstance(t, bool)
            or not isinstance(t, Real)
            or not np.isfinite(t)
            or t <= 1
        ):
            raise ValueError(f"t={t!r} must be a finite real number > 1.")
        self.t = float(t)
        self.param = self.t

    def __repr__(self):
        return f"Polynomial(t={self.t!r})"


def _central_diff(fun, x, h):
    return (fun(x + h) - fun(x - h)) / (2.0 * h)


class CustomRegularizer(Regularizer):
    """A self-paced regularizer built from user callables.

    The user supplies the middle branch of v* with its two partial derivatives and the
    two thresholds; v* is 1 at or below ``loss_one(age)``, 0 at or above
    ``loss_zero(age)`` and ``v_star(loss, age)`` in between. Inside the path follower
    the middle branch may be evaluated slightly outside its region (Newton iterates), so
    it should be a smooth formula there. The derivatives are checked once against
    central finite differences at construction; an inconsistent regularizer raises a
    ``ValueError``.

    Parameters
    ----------
    v_star : callable
        ``v_star(loss, age) -> array``: the middle branch of the minimizer, vectorized
        over a float array of losses and a scalar age.
    dv_dloss, dv_dage : callable
        Its partial derivatives, same signature.
    loss_one, loss_zero : callable
        ``loss_one(age) -> float`` and ``loss_zero(age) -> float``, 0 <= loss_one <=
        loss_zero.
    dloss_one, dloss_zero : callable, default=None
        Their derivatives in the age; central differences when omitted.
    value : callable, default=None
        ``value(v, age)``: f itself, used for objective values. When omitted, the
        envelope is integrated from v* with the convention ``latent(0, age) = 0`` and
        ``value`` is unavailable.
    continuous : bool, default=None
        Whether v* is continuous; detected from the middle branch at the thresholds when
        None.
    age_bounds : tuple of float, default=(0, inf)
        Open interval of valid ages.
    name : str, default="custom"
    check_ages : array-like, default=None
        Ages at which to check the derivatives; three interior ages of ``age_bounds``
        when None.
    rtol : float, default=1e-4
        Relative tolerance of the finite-difference checks.
    """

    def __init__(
        self,
        v_star,
        dv_dloss,
        dv_dage,
        loss_one,
        loss_zero,
        *,
        dloss_one=None,
        dloss_zero=None,
        value=None,
        continuous=None,
        age_bounds=(0.0, np.inf),
        name="custom",
        check_ages=None,
        rtol=1e-4,
    ):
        for pname, fun in [
            ("v_star", v_star),
            ("dv_dloss", dv_dloss),
            ("dv_dage", dv_dage),
            ("loss_one", loss_one),
            ("loss_zero", loss_zero),
        ]:
            if not callable(fun):
                raise ValueError(f"{pname}={fun!r} must be callable.")
        for pname, fun in [
            ("dloss_one", dloss_one),
            ("dloss_zero", dloss_zero),
            ("value", value),
        ]:
            if fun is not None and not callable(fun):
                raise ValueError(f"{pname}={fun!r} must be callable or None.")
        low, high = age_bounds
        if not (low < high):
            raise ValueError(f"age_bounds={age_bounds!r} must satisfy low < high.")
        self._phi = v_star
        self._phi_l = dv_dloss
        self._phi_a = dv_dage
        self._l1 = loss_one
        self._l0 = loss_zero
        self._dl1 = dloss_one
        self._dl0 = dloss_zero
        self._value = value
        self.age_bounds = (float(low), float(high))
        self.name = str(name)
        self._check(check_ages, rtol, continuous)

    # evaluation
    # -------------------------------------------------------------------------
    def _call(self, fun, loss, age):
        flat, shape, scalar = _as_loss_array(loss)
        out = np.asarray(fun(flat, float(age)), dtype=np.float64)
        out = np.broadcast_to(out, flat.shape).astype(np.float64)
        return out, shape, scalar

    def loss_one(self, age):
        return float(self._l1(float(age)))

    def loss_zero(self, age):
        return float(self._l0(float(age)))

    def dloss_one(self, age):
        if self._dl1 is not None:
            return float(self._dl1(float(age)))
        h = 1e-6 * max(1.0, abs(age))
        return float(_central_diff(self._l1, float(age), h))

    def dloss_zero(self, age):
        if self._dl0 is not None:
            return float(self._dl0(float(age)))
        h = 1e-6 * max(1.0, abs(age))
        return float(_central_diff(self._l0, float(age), h))

    def _regions(self, flat, age):
        lo, hi = self.loss_one(age), self.loss_zero(age)
        mid = (flat > lo) & (flat < hi)
        return lo, hi, mid

    def v_star(self, loss, age):
        flat, shape, scalar = _as_loss_array(loss)
        lo, hi, mid = self._regions(flat, age)
        out = np.where(flat <= lo, 1.0, 0.0)
        if mid.any():
            out[mid] = np.clip(np.asarray(self._phi(flat[mid], float(age))), 0.0, 1.0)
        out[flat >= hi] = 0.0
        return _restore(out, shape, scalar)

    def dv_dloss(self, loss, age):
        flat, shape, scalar = _as_loss_array(loss)
        _, _, mid = self._regions(flat, age)
        out = np.zeros_like(flat)
        if mid.any():
            out[mid] = self._phi_l(flat[mid], float(age))
        return _restore(out, shape, scalar)

    def dv_dage(self, loss, age):
        flat, shape, scalar = _as_loss_array(loss)
        _, _, mid = self._regions(flat, age)
        out = np.zeros_like(flat)
        if mid.any():
            out[mid] = self._phi_a(flat[mid], float(age))
        return _restore(out, shape, scalar)

    def middle(self, loss, age):
        out, shape, scalar = self._call(self._phi, loss, age)
        return _restore(out, shape, scalar)

    def middle_dloss(self, loss, age):
        out, shape, scalar = self._call(self._phi_l, loss, age)
        return _restore(out, shape, scalar)

    def middle_dage(self, loss, age):
        out, shape, scalar = self._call(self._phi_a, loss, age)
        return _restore(out, shape, scalar)

    def value(self, v, age):
        if self._value is None:
            raise NotImplementedError(
                f"The {self.name} regularizer was built without value=; pass "
                "value=f(v, age) to CustomRegularizer to compute objective values."
            )
        out, shape, scalar = self._call(self._value, v, age)
        return _restore(out, shape, scalar)

    def latent(self, loss, age):
        """Envelope min_v v*loss + f(v, age), by Gauss-Legendre integration of v*.

        F(l) = F(0) + integral of v* from 0 to l, with F(0) = f(1, age) when ``value``
        is given, else 0.
        """
        flat, shape, scalar = _as_loss_array(loss)
        age = float(age)
        lo, hi = self.loss_one(age), self.loss_zero(age)
        base = float(self.value(1.0, age)) if self._value is not None else 0.0
        nodes, weights = np.polynomial.legendre.leggauss(64)
        out = np.empty_like(flat)
        for i, l in enumerate(flat):
            a = min(l, lo)
            total = a  # v* = 1 on [0, min(l, lo)]
            b = min(l, hi)
            if b > lo:
                x = 0.5 * (b - lo) * nodes + 0.5 * (b + lo)
                total += (
                    0.5
                    * (b - lo)
                    * float(np.dot(weights, np.clip(self._phi(x, age), 0.0, 1.0)))
                )
            out[i] = base + total
        return _restore(out, shape, scalar)

    # construction check
    # -----------------------------------------------------------------
    def _check(self, check_ages, rtol, continuous):
        low, high = self.age_bounds
        if check_ages is None:
            if np.isfinite(high):
                check_ages = low + (high - low) * np.array([0.25, 0.5, 0.75])
            else:
                base = max(low, 0.0)
                check_ages = base + np.array([0.5, 1.0, 2.0])
        detected_continuous = True
        for age in np.atleast_1d(np.asarray(check_ages, dtype=float)):
            lo, hi = self.loss_one(age), self.loss_zero(age)
            if not (0.0 <= lo <= hi):
                raise ValueError(
                    f"Inconsistent thresholds of {self.name} at age={age}: need "
                    f"0 <= loss_one ({lo}) <= loss_zero ({hi})."
                )
            for tname, th, dth in [
                ("loss_one", self._l1, self._dl1),
                ("loss_zero", self._l0, self._dl0),
            ]:
                if dth is None:
                    continue
                h = 1e-5 * max(1.0, abs(age))
                fd = _central_diff(th, age, h)
                an = float(dth(age))
                if abs(fd - an) > rtol * max(1.0, abs(fd)) + 1e-6:
                    raise ValueError(
                        f"d{tname}={an} disagrees with the central difference {fd} at "
                        f"age={age} for the {self.name} regularizer."
                    )
            if not np.isfinite(hi):
                hi_eff = lo + 10.0 * max(1.0, lo)
            else:
                hi_eff = hi
            if hi_eff <= lo:
                continue  # no middle region (hard-like)
            ls = lo + (hi_eff - lo) * np.linspace(0.1, 0.9, 9)
            v = np.asarray(self._phi(ls, age), dtype=float)
            if np.any(v < -1e-12) or np.any(v > 1 + 1e-12):
                raise ValueError(
                    f"v_star of {self.name} leaves [0, 1] on the middle region "
                    f"at age={age}."
                )
            if np.any(np.diff(v) > 1e-12):
                raise ValueError(
                    f"v_star of {self.name} is not non-increasing in the loss "
                    f"at age={age}."
                )
            hl = 1e-6 * max(1.0, np.max(np.abs(ls)))
            ha = 1e-6 * max(1.0, abs(age))
            fd_l = (np.asarray(self._phi(ls + hl, age)) - self._phi(ls - hl, age)) / (
                2 * hl
            )
            fd_a = (np.asarray(self._phi(ls, age + ha)) - self._phi(ls, age - ha)) / (
                2 * ha
            )
            an_l = np.asarray(self._phi_l(ls, age), dtype=float)
            an_a = np.asarray(self._phi_a(ls, age), dtype=float)
            for dname, an, fd in [("dv_dloss", an_l, fd_l), ("dv_dage", an_a, fd_a)]:
                err = np.abs(an - fd)
                scale = np.maximum(1.0, np.abs(fd))
                if np.any(~np.isfinite(an)) or np.any(err > rtol * scale):
                    k = int(np.nanargmax(err / scale))
                    raise ValueError(
                        f"{dname} of the {self.name} regularizer disagrees with "
                        "central "
                        f"finite differences at loss={ls[k]:.6g}, age={age}: analytic "
                        f"{an[k]:.6g} vs numerical {fd[k]:.6g}."
                    )
            at_lo = float(
                np.asarray(self._phi(np.array([lo + 1e-9 * max(1, lo)]), age))[0]
            )
            jump = abs(at_lo - 1.0) > 1e-5
            if np.isfinite(hi):
                at_hi = float(
                    np.asarray(self._phi(np.array([hi - 1e-9 * max(1, hi)]), age))[0]
                )
                jump = jump or abs(at_hi) > 1e-5
            if jump:
                detected_continuous = False
            if self._value is not None:
                # F' = v*: check the envelope slope at a middle loss
                lm = float(ls[4])
                hF = 1e-5 * max(1.0, lm)
                slope = (self.latent(lm + hF, age) - self.latent(lm - hF, age)) / (
                    2 * hF
                )
                if abs(slope - self.v_star(lm, age)) > 1e-4:
                    raise ValueError(
                        f"value= is inconsistent with v_star for {self.name}: "
                        "the envelope "
                        f"slope {slope:.6g} != v* {self.v_star(lm, age):.6g} "
                        f"at age={age}."
                    )
                vv = float(self.v_star(lm, age))
                grid = np.linspace(0.0, 1.0, 2001)
                brute = np.min(grid * lm + np.asarray(self.value(grid, age)))
                if vv * lm + float(self.value(vv, age)) > brute + 1e-6 * max(
                    1, abs(brute)
                ):
                    raise ValueError(
                        f"v_star of {self.name} is not the minimizer of "
                        "v*loss + value(v, "
                        f"age) at loss={lm:.6g}, age={age}."
                    )
        self.continuous = (
            detected_continuous if continuous is None else bool(continuous)
        )

    def __repr__(self):
        return f"CustomRegularizer(name={self.name!r})"

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)


_NAMES = {
    "hard": Hard,
    "linear": Linear,
    "log": Logarithmic,
    "logarithmic": Logarithmic,
    "mixture": Mixture,
    "polynomial": Polynomial,
}


def get_regularizer(regularizer):
    """Resolve a regularizer given by name or instance.

    Parameters
    ----------
    regularizer : str or Regularizer
        One of 'hard', 'linear', 'log', 'mixture', 'polynomial' (built-ins with their
        default parameters), or a :class:`Regularizer` instance, returned unchanged.

    Returns
    -------
    Regularizer
    """
    if isinstance(regularizer, Regularizer):
        return regularizer
    if isinstance(regularizer, str) and regularizer in _NAMES:
        return _NAMES[regularizer]()
    raise ValueError(
        f"regularizer={regularizer!r} is not a Regularizer instance nor one of "
        f"{sorted(set(_NAMES) - {'logarithmic'})}."
    )
