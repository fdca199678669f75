"""Numba kernels of the built-in self-paced regularizers.

Every kernel takes an integer ``kind`` code and one float parameter ``p`` (gamma for the
mixture, t for the polynomial, unused otherwise), so that the cached machine code never
depends on a Python object (see ``style.md`` section 6.2). Scalar functions are used by
the
path follower's kernels; the ``*_vec`` functions back the public vectorized methods.

The *middle branch* ``phi`` is the analytic formula of v* between the two thresholds. It
is
evaluated unclipped so that Newton iterates may step slightly outside the region.
"""

import math

import numpy as np
from numba import njit

HARD = 0
LINEAR = 1
LOG = 2
MIXTURE = 3
POLY = 4


@njit(cache=True)
def loss_one(kind, p, age):
    """Threshold at or below which v* = 1."""
    if kind == HARD:
        return age
    if kind == MIXTURE:
        a = age * p / (age + p)
        return a * a
    return 0.0


@njit(cache=True)
def loss_zero(kind, p, age):
    """Threshold at or above which v* = 0."""
    if kind == MIXTURE:
        return age * age
    return age


@njit(cache=True)
def dloss_one(kind, p, age):
    """Derivative of :func:`loss_one` in the age."""
    if kind == HARD:
        return 1.0
    if kind == MIXTURE:
        a = age * p / (age + p)
        return 2.0 * a * p * p / ((age + p) * (age + p))
    return 0.0


@njit(cache=True)
def dloss_zero(kind, p, age):
    """Derivative of :func:`loss_zero` in the age."""
    if kind == MIXTURE:
        return 2.0 * age
    return 1.0


@njit(cache=True, error_model="numpy")
def phi(kind, p, l, age):
    """Middle branch of v* (unclipped analytic continuation). It and its derivatives
    follow IEEE arithmetic (``error_model="numpy"``): a loss where the branch has a
    pole (mixture, l = 0: reached only by a diverging Newton iterate, whose residual
    rounds to 0) gives inf, which the callers' finiteness tests reject, instead of
    raising ZeroDivisionError."""
    if kind == LINEAR:
        return 1.0 - l / age
    if kind == LOG:
        z = 1.0 - age
        return math.log(l + z) / math.log(z)
    if kind == MIXTURE:
        return p * (1.0 / math.sqrt(l) - 1.0 / age)
    if kind == POLY:
        q = 1.0 - l / age
        if q <= 0.0:
            return 0.0
        return q ** (1.0 / (p - 1.0))
    return 0.0  # hard: no middle region


@njit(cache=True, error_model="numpy")
def phi_dloss(kind, p, l, age):
    """Partial derivative of the middle branch in the loss."""
    if kind == LINEAR:
        return -1.0 / age
    if kind == LOG:
        z = 1.0 - age
        return 1.0 / ((l + z) * math.log(z))
    if kind == MIXTURE:
        return -0.5 * p / (l * math.sqrt(l))
    if kind == POLY:
        q = 1.0 - l / age
        e = 1.0 / (p - 1.0)
        if q <= 0.0:
            return 0.0 if e > 1.0 else -np.inf
        return -(e / age) * q ** (e - 1.0)
    return 0.0


@njit(cache=True, error_model="numpy")
def phi_dage(kind, p, l, age):
    """Partial derivative of the middle branch in the age."""
    if kind == LINEAR:
        return l / (age * age)
    if kind == LOG:
        z = 1.0 - age
        lz = math.log(z)
        return (math.log(l + z) / z - lz / (l + z)) / (lz * lz)
    if kind == MIXTURE:
        return p / (age * age)
    if kind == POLY:
        q = 1.0 - l / age
        e = 1.0 / (p - 1.0)
        if q <= 0.0:
            return 0.0 if e > 1.0 else np.inf
        return (e * l / (age * age)) * q ** (e - 1.0)
    return 0.0


@njit(cache=True)
def v_star(kind, p, l, age):
    """Closed-form minimizer of v*l + f(v, age) over [0, 1]."""
    if l >= loss_zero(kind, p, age):
        return 0.0
    if l <= loss_one(kind, p, age):
        return 1.0
    v = phi(kind, p, l, age)
    # guard the rounding at the thresholds only; the formula is in (0, 1) inside
    if v > 1.0:
        return 1.0
    if v < 0.0:
        return 0.0
    return v


@njit(cache=True)
def value(kind, p, v, age):
    """The regularizer f(v, age)."""
    if kind == HARD:
        return -age * v
    if kind == LINEAR:
        return age * (0.5 * v * v - v)
    if kind == LOG:
        z = 1.0 - age
        return z * v - z**v / math.log(z)
    if kind == MIXTURE:
        return p * p / (v + p / age)
    if kind == POLY:
        return age * (v**p / p - v)
    return np.nan


@njit(cache=True)
def latent(kind, p, l, age):
    """Envelope F(l, age) = min over v in [0, 1] of v*l + f(v, age)."""
    if kind == HARD:
        return min(l, age) - age
    if kind == LINEAR:
        q = 1.0 - l / age
        if q <= 0.0:
            return 0.0
        return -0.5 * age * q * q
    if kind == LOG:
        z = 1.0 - age
        if l >= age:
            return -1.0 / math.log(z)
        return (l + z) * (math.log(l + z) - 1.0) / math.log(z)
    if kind == MIXTURE:
        if l <= loss_one(kind, p, age):
            return l + p * p * age / (age + p)
        if l >= loss_zero(kind, p, age):
            return p * age
        return 2.0 * p * math.sqrt(l) - p * l / age
    if kind == POLY:
        q = 1.0 - l / age
        if q <= 0.0:
            return 0.0
        return -age * ((p - 1.0) / p) * q ** (p / (p - 1.0))
    return np.nan


@njit(cache=True)
def v_star_vec(kind, p, loss, age):
    out = np.empty(loss.shape[0])
    for i in range(loss.shape[0]):
        out[i] = v_star(kind, p, loss[i], age)
    return out


@njit(cache=True)
def dv_dloss_vec(kind, p, loss, age):
    out = np.zeros(loss.shape[0])
    lo = loss_one(kind, p, age)
    hi = loss_zero(kind, p, age)
    for i in range(loss.shape[0]):
        if lo < loss[i] < hi:
            out[i] = phi_dloss(kind, p, loss[i], age)
    return out


@njit(cache=True)
def dv_dage_vec(kind, p, loss, age):
    out = np.zeros(loss.shape[0])
    lo = loss_one(kind, p, age)
    hi = loss_zero(kind, p, age)
    for i in range(loss.shape[0]):
        if lo < loss[i] < hi:
            out[i] = phi_dage(kind, p, loss[i], age)
    return out


@njit(cache=True)
def value_vec(kind, p, v, age):
    out = np.empty(v.shape[0])
    for i in range(v.shape[0]):
        out[i] = value(kind, p, v[i], age)
    return out


@njit(cache=True)
def latent_vec(kind, p, loss, age):
    out = np.empty(loss.shape[0])
    for i in range(loss.shape[0]):
        out[i] = latent(kind, p, loss[i], age)
    return out


@njit(cache=True)
def phi_vec(kind, p, loss, age):
    out = np.empty(loss.shape[0])
    for i in range(loss.shape[0]):
        out[i] = phi(kind, p, loss[i], age)
    return out


@njit(cache=True)
def phi_dloss_vec(kind, p, loss, age):
    out = np.empty(loss.shape[0])
    for i in range(loss.shape[0]):
        out[i] = phi_dloss(kind, p, loss[i], age)
    return out


@njit(cache=True)
def phi_dage_vec(kind, p, loss, age):
    out = np.empty(loss.shape[0])
    for i in range(loss.shape[0]):
        out[i] = phi_dage(kind, p, loss[i], age)
    return out


@njit(cache=True, error_model="numpy")
def middle_terms(kind, p, loss, age, cs, big, v, u, va, d):
    """The middle branch, its two derivatives and ``d = 1 / (cs u)`` at each loss in
    one pass (the SVM's dual system: ``v``, ``u = dv/dl``, ``va = dv/dage`` of its
    middle samples and the entries of its symmetric matrix's middle diagonal, ``cs``
    their ``C s_i``); ``d`` is ``-big`` where it is not finite and negative (a
    vanishing slope decouples the row) and at least ``-big``. The values are those of
    ``phi_vec``, ``phi_dloss_vec``, ``phi_dage_vec`` and that formula in numpy, bit for
    bit."""
    for i in range(loss.shape[0]):
        li = loss[i]
        v[i] = phi(kind, p, li, age)
        ui = phi_dloss(kind, p, li, age)
        u[i] = ui
        va[i] = phi_dage(kind, p, li, age)
        di = 1.0 / (cs[i] * ui)
        if not (math.isfinite(di) and di < 0.0):
            di = -big
        elif di < -big:
            di = -big
        d[i] = di
