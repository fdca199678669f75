"""Property-based test of the SVM age path on random small problems (issue 4)."""

import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from gaga import age_path_svm  # noqa: E402
from gaga.regularizers import (  # noqa: E402
    Hard,
    Linear,
    Logarithmic,
    Mixture,
    Polynomial,
)

REGS = [Hard(), Linear(), Logarithmic(), Mixture(0.5), Mixture(2.0), Polynomial(1.5)]


@st.composite
def problems(draw):
    n = draw(st.integers(10, 30))
    d = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n) > 0, 1, -1)
    y[:2] = [1, -1]  # both classes
    if draw(st.booleans()):  # outliers: flipped labels
        k = max(1, n // 8)
        y[2 : 2 + k] *= -1
    if draw(st.booleans()):  # ties: duplicated rows
        k = draw(st.integers(1, max(1, n // 3)))
        X = np.vstack([X, X[:k]])
        y = np.concatenate([y, y[:k]])
    sw = rng.uniform(0.2, 3.0, len(y)) if draw(st.booleans()) else None
    reg = draw(st.sampled_from(REGS))
    kernel = draw(st.sampled_from(["rbf", "linear"]))
    C = draw(st.sampled_from([0.5, 1.0, 4.0]))
    return X, y, sw, reg, kernel, C


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(problems())
def test_random_paths_certified_bounded_reproducible(prob):
    X, y, sw, reg, kernel, C = prob
    max_events = 50 * X.shape[0]
    kw = dict(
        regularizer=reg, kernel=kernel, C=C, sample_weight=sw, max_events=max_events
    )
    with warnings.catch_warnings():
        # a path that loses a class in a jump stops there with a ConvergenceWarning
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            p1 = age_path_svm(X, y, **kw)
        except ValueError as exc:  # a documented, clear refusal is acceptable
            assert "age_min" in str(exc)
            return
    # the path ends within its bound of events
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        p2 = age_path_svm(X, y, **kw)
    np.testing.assert_array_equal(p1.knots, p2.knots)
    np.testing.assert_array_equal(p1.intercept_knots, p2.intercept_knots)
    assert p1.events == p2.events
