"""Property-based test of the Lasso age path on random small problems (issue 3)."""

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from gaga import age_path_lasso  # noqa: E402
from gaga.regularizers import (  # noqa: E402
    Hard,
    Linear,
    Logarithmic,
    Mixture,
    Polynomial,
)

# Polynomial with t > 2 (infinite slope of v* at loss_zero) has its own test below
REGS = [
    Hard(),
    Linear(),
    Logarithmic(),
    Mixture(0.5),
    Mixture(2.0),
    Polynomial(1.5),
    Polynomial(1.8),
]


@st.composite
def problems(draw):
    n = draw(st.integers(8, 30))
    d = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n)
    if draw(st.booleans()):  # outliers
        k = max(1, n // 10)
        y[:k] += rng.choice([-1, 1], k) * rng.uniform(2, 4, k)
    if draw(st.booleans()):  # ties: duplicated rows
        k = draw(st.integers(1, max(1, n // 3)))
        X = np.vstack([X, X[:k]])
        y = np.concatenate([y, y[:k]])
    y = y / (1.5 * np.abs(y).max())  # losses below 1 for the logarithmic regularizer
    sw = None
    if draw(st.booleans()):
        sw = rng.uniform(0.2, 3.0, len(y))
    reg = draw(st.sampled_from(REGS))
    alpha = draw(st.sampled_from([0.005, 0.02, 0.1]))
    fit_intercept = draw(st.booleans())
    return X, y, sw, reg, alpha, fit_intercept


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(problems())
def test_random_paths_certified_bounded_reproducible(prob):
    X, y, sw, reg, alpha, fit_intercept = prob
    max_events = 50 * (X.shape[0] + X.shape[1])
    kw = dict(
        regularizer=reg,
        alpha=alpha,
        sample_weight=sw,
        fit_intercept=fit_intercept,
        max_events=max_events,
    )
    try:
        p1 = age_path_lasso(X, y, **kw)
    except ValueError as exc:  # a documented, clear refusal is acceptable
        assert "age_min" in str(exc)
        return
    assert p1.n_events <= max_events
    assert p1.knots[-1] == p1.age_max
    certs = p1.certify(use_cvxpy=True)
    # every breakpoint and both ends of the path
    ends = {p1.age_min, p1.age_max}
    assert [c.age for c in certs] == sorted(set(p1.breakpoints) | ends)
    for c in certs:
        assert c.kkt_residual <= 1e-7, c.summary()
        assert c.v_residual <= 1e-7, c.summary()
        assert abs(c.cvxpy_gap) <= 1e-6, c.summary()
    p2 = age_path_lasso(X, y, **kw)
    np.testing.assert_array_equal(p1.knots, p2.knots)
    np.testing.assert_array_equal(p1.coef_knots, p2.coef_knots)
    np.testing.assert_array_equal(p1.intercept_knots, p2.intercept_knots)
    assert p1.events == p2.events


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(problems())
def test_polynomial_above_two_certified_up_to_threshold_conditioning(prob):
    """t > 2: every entry of a sample is a non-smooth fold; ACS may land with a sample
    a rounding error below loss_zero, where v* = q^(1/(t-1)) has an infinite slope:
    there
    |v - v*| is only determined to about sqrt(loss accuracy). Everything else is
    certified
    at 1e-7, and any larger v residual belongs to a sample within 1e-9 of loss_zero."""
    X, y, sw, _, alpha, fit_intercept = prob
    reg = Polynomial(3.0)
    try:
        path = age_path_lasso(
            X,
            y,
            regularizer=reg,
            alpha=alpha,
            sample_weight=sw,
            fit_intercept=fit_intercept,
        )
    except ValueError as exc:
        assert "age_min" in str(exc)
        return
    for c in path.certify(use_cvxpy=True):
        assert c.kkt_residual <= 1e-7, c.summary()
        assert abs(c.cvxpy_gap) <= 1e-6, c.summary()
        if c.v_residual > 1e-7:
            a = c.age
            loss = path.problem.losses(path.coef(a), path.intercept(a))
            v = path.weights(a)
            bad = np.abs(v - reg.v_star(loss, a)) > 1e-7
            near = np.abs(loss[bad] - reg.loss_zero(a)) <= 1e-9 * max(1.0, a)
            assert np.all(near), c.summary()
