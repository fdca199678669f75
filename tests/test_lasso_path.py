"""Tests of the exact Lasso age path (issue 3)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso
from sklearn.preprocessing import StandardScaler

from gaga import age_path_lasso
from gaga.baselines import acs
from gaga.regularizers import (
    CustomRegularizer,
    Hard,
    Linear,
    Logarithmic,
    Mixture,
    Polynomial,
)


def _custom():
    # the polynomial t = 1.5 regularizer from user callables: exercises the Python path
    return CustomRegularizer(
        lambda l, a: (1 - l / a) ** 2,
        lambda l, a: -2 * (1 - l / a) / a,
        lambda l, a: 2 * (1 - l / a) * l / a**2,
        lambda a: 0.0,
        lambda a: a,
        value=lambda v, a: a * (v**1.5 / 1.5 - v),
        name="custom-poly",
    )


REGS = {
    "hard": Hard,
    "linear": Linear,
    "log": Logarithmic,
    "mixture": lambda: Mixture(1.0),
    "polynomial": lambda: Polynomial(1.5),
    "custom": _custom,
}


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    return X, y


def _outliers(n=150, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = np.zeros(d)
    w[: max(1, d // 2)] = rng.standard_normal(max(1, d // 2))
    y = X @ w + 0.3 * rng.standard_normal(n)
    out = rng.random(n) < 0.1
    y[out] += rng.choice([-1, 1], out.sum()) * rng.uniform(2, 4, out.sum())
    y = y / np.abs(y).max()  # losses below 1 (the logarithmic regularizer needs it)
    return X, y


def _path(X, y, name, **kw):
    reg = REGS[name]()
    if name == "log":
        kw.setdefault("age_max", 0.95)
    return age_path_lasso(X, y, regularizer=reg, **kw)


def _check_certificates(path, n_random=50, seed=0, use_cvxpy=True, cvxpy_every=1):
    """KKT and v-consistency at every breakpoint and ``n_random`` random ages; the cvxpy
    gap at every ``cvxpy_every``-th of those ages (all of them in the slow run)."""
    ages = np.random.default_rng(seed).uniform(path.age_min, path.age_max, n_random)
    certs = path.certify(ages=ages, use_cvxpy=False)
    assert len(certs) >= len(set(path.breakpoints))
    kkt = max(c.kkt_residual for c in certs)
    vres = max(c.v_residual for c in certs)
    assert kkt <= 1e-7, kkt
    assert vres <= 1e-7, vres
    if use_cvxpy:
        sub = [c.age for c in certs][::cvxpy_every]
        full = path.certify(ages=sub, include_breakpoints=False)
        gap = max(abs(c.cvxpy_gap) for c in full)
        assert gap <= 1e-6, gap
        assert all(c.certified for c in full), [
            c.summary() for c in full if not c.certified
        ]
    return certs


@pytest.mark.cvxpy
@pytest.mark.parametrize("name", sorted(REGS))
def test_certified_diabetes(diabetes, name):
    X, y = diabetes
    path = _path(X, y, name, alpha=0.01)
    assert path.n_events > 10
    _check_certificates(path, cvxpy_every=5)


@pytest.mark.cvxpy
@pytest.mark.parametrize("name", sorted(REGS))
@pytest.mark.parametrize("fit_intercept,weighted", [(True, True), (False, False)])
def test_certified_outliers(name, fit_intercept, weighted):
    X, y = _outliers()
    sw = None
    if weighted:
        sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    path = _path(X, y, name, alpha=0.02, fit_intercept=fit_intercept, sample_weight=sw)
    if not fit_intercept:
        assert np.all(path.intercept_knots == 0)
    _check_certificates(path, n_random=50, seed=2, cvxpy_every=3)


@pytest.mark.slow
@pytest.mark.cvxpy
@pytest.mark.parametrize("name", sorted(REGS))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
def test_certified_full_matrix(diabetes, name, fit_intercept, weighted):
    X, y = diabetes
    sw = np.random.default_rng(3).uniform(0.2, 3.0, len(y)) if weighted else None
    path = _path(X, y, name, alpha=0.01, fit_intercept=fit_intercept, sample_weight=sw)
    _check_certificates(path)


def test_dense_output_is_exact_not_interpolated(diabetes):
    X, y = diabetes
    path = _path(X, y, "linear", alpha=0.01)
    # between two knots of one segment the path is curved: the corrected point differs
    # from the linear interpolation, and it solves the weighted problem exactly
    k = int(np.argmax(np.diff(path.knots)))
    a0, a1 = path.knots[k], path.knots[k + 1]
    mid = 0.5 * (a0 + a1)
    lin = 0.5 * (path.coef_knots[k] + path.coef_knots[k + 1])
    w = path.coef(mid)
    assert np.max(np.abs(w - lin)) > 1e-8
    cert = path.certify(ages=[mid], use_cvxpy=False)
    assert max(c.kkt_residual for c in cert) <= 1e-9
    # knots are reproduced exactly
    np.testing.assert_array_equal(path.coef(a0), path.coef_knots[k])


def test_agrees_with_acs_from_the_path(diabetes):
    """ACS started at (or near) a path point stays there: the path point is a stable
    partial optimum, and the path's objective is never above ACS's."""
    X, y = diabetes
    reg = Linear()
    path = age_path_lasso(X, y, regularizer=reg, alpha=0.01)
    rng = np.random.default_rng(0)
    ages = rng.uniform(path.age_min, path.age_max, 12)
    differ = 0
    for a in ages:
        w, b = path.coef(a), path.intercept(a)
        res = acs(
            path.problem,
            reg,
            a,
            coef_init=w,
            intercept_init=b,
            tol=1e-12,
            max_iter=5000,
        )
        np.testing.assert_allclose(res.coef, w, atol=1e-8)
        # from a perturbed start in the neighbourhood
        w0 = w + 1e-3 * rng.standard_normal(w.shape)
        res2 = acs(
            path.problem,
            reg,
            a,
            coef_init=w0,
            intercept_init=b,
            tol=1e-12,
            max_iter=20000,
        )
        obj_path = path.objective(a)
        assert obj_path <= res2.latent_objective + 1e-10
        if np.max(np.abs(res2.coef - w)) > 1e-6:
            differ += 1
    assert differ <= 2, differ


def test_acs_grid_same_branch_count(diabetes):
    """Warm-started ACS on a grid (what a user would write) lands on the path's branch
    most ages; the others are partial optima with an objective we count, not hide."""
    from gaga.baselines import acs_path

    X, y = diabetes
    path = age_path_lasso(X, y, regularizer="linear", alpha=0.01)
    ages = np.linspace(path.age_min, path.age_max, 15)
    grid = acs_path(path.problem, "linear", ages, tol=1e-12, max_iter=20000)
    same = [
        np.max(np.abs(grid.coefs[:, i] - path.coef(a))) <= 1e-6
        for i, a in enumerate(ages)
    ]
    assert sum(same) >= 10, sum(same)


def test_duplicated_rows_equal_sample_weight_two(diabetes):
    X, y = diabetes
    X, y = X[:120], y[:120]
    Xd = np.vstack([X, X[:30]])
    yd = np.concatenate([y, y[:30]])
    sw = np.ones(120)
    sw[:30] = 2.0
    kw = dict(regularizer="linear", alpha=0.01, age_min=0.1, age_max=20.0)
    p_dup = age_path_lasso(Xd, yd, **kw)
    p_w = age_path_lasso(X, y, sample_weight=sw, **kw)
    ages = np.linspace(0.1, 20.0, 37)
    np.testing.assert_allclose(p_dup.coef(ages), p_w.coef(ages), atol=1e-9)
    np.testing.assert_allclose(p_dup.intercept(ages), p_w.intercept(ages), atol=1e-9)
    # the duplicated samples cross their thresholds together: simultaneous events,
    # processed deterministically and recorded for each sample
    _check_certificates(p_dup, n_random=5, use_cvxpy=False)


def test_bit_identical_twice(diabetes):
    X, y = diabetes
    p1 = age_path_lasso(X, y, regularizer="mixture", alpha=0.01)
    p2 = age_path_lasso(X, y, regularizer="mixture", alpha=0.01)
    np.testing.assert_array_equal(p1.knots, p2.knots)
    np.testing.assert_array_equal(p1.coef_knots, p2.coef_knots)
    assert p1.events == p2.events


def test_single_feature():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 1))
    y = 2 * X[:, 0] + 0.1 * rng.standard_normal(60)
    y[:5] += 3
    path = age_path_lasso(X, y, regularizer="linear", alpha=0.05)
    _check_certificates(path, n_random=10, use_cvxpy=False)
    assert path.coef(path.age_max).shape == (1,)


@pytest.mark.parametrize("reg", [Hard(), Mixture(3.0)], ids=repr)
def test_all_weights_reach_one_and_equal_sklearn(diabetes, reg):
    """Past every loss the path has v = 1 everywhere and equals sklearn's Lasso.

    The default age_max puts every sample in at the v = 1 fit's losses; the path's own
    branch may still keep a sample out there (another partial optimum), so the range is
    extended here until every loss on the path is below loss_one."""
    from gaga._lasso_path import default_age_range
    from gaga.problems import LassoProblem

    X, y = diabetes
    lo, hi = default_age_range(LassoProblem(X, y, alpha=0.05), reg)
    path = age_path_lasso(X, y, regularizer=reg, alpha=0.05, age_min=lo, age_max=4 * hi)
    a = path.age_max
    np.testing.assert_array_equal(path.weights(a), 1.0)
    sk = Lasso(alpha=0.05, tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(path.coef(a), sk.coef_, atol=1e-6)
    np.testing.assert_allclose(path.intercept(a), sk.intercept_, atol=1e-6)
    if not reg.continuous:
        # the hard path is piecewise constant and every sample event is a jump
        assert all(e.jump for e in path.events)


def test_events_records(diabetes):
    X, y = diabetes
    path = age_path_lasso(X, y, regularizer="linear", alpha=0.01)
    bp = path.breakpoints
    assert np.all(np.diff(bp) >= 0)
    assert bp[0] >= path.age_min and bp[-1] <= path.age_max
    kinds = {e.kind for e in path.events}
    assert "sample" in kinds
    for e in path.events:
        if e.kind == "sample":
            assert 0 <= e.index < X.shape[0]
            assert {e.from_set, e.to_set} <= {"v=0", "v=1", "middle"}
        if e.kind == "feature":
            assert 0 <= e.index < X.shape[1]
        if e.jump:
            assert e.reason
    ages = np.linspace(path.age_min, path.age_max, 7)
    assert path.coef(ages).shape == (7, X.shape[1])
    assert path.intercept(ages).shape == (7,)
    assert path.weights(ages).shape == (7, X.shape[0])
    assert path.objective(ages).shape == (7,)
    assert path.predict(X[:4], ages).shape == (7, 4)
    assert path.predict(X[:4], ages[2]).shape == (4,)
    np.testing.assert_allclose(
        path.predict(X[:4], ages[2]),
        X[:4] @ path.coef(ages[2]) + path.intercept(ages[2]),
    )


def test_max_events_warns(diabetes):
    X, y = diabetes
    with pytest.warns(ConvergenceWarning, match=r"stopped at age=.*max_events=5"):
        path = age_path_lasso(X, y, regularizer="linear", alpha=0.01, max_events=5)
    assert path.n_events <= 6
    assert path.age_max < 100


def test_bad_input(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="age_min=2.0 must be < age_max=1.0"):
        age_path_lasso(X, y, age_min=2.0, age_max=1.0)
    with pytest.raises(ValueError, match="age_max=1.5 is outside"):
        age_path_lasso(X, y, regularizer="log", age_min=0.1, age_max=1.5)
    with pytest.raises(ValueError, match="alpha"):
        age_path_lasso(X, y, alpha=0.0)
    with pytest.raises(ValueError, match="max_events"):
        age_path_lasso(X, y, max_events=0)
    with pytest.raises(ValueError, match="NaN|nan|infinity"):
        age_path_lasso(np.where(X > 2, np.nan, X), y)
    with pytest.raises(ValueError, match="All samples are excluded"):
        age_path_lasso(X, 100 + y, fit_intercept=False, age_min=1e-6, age_max=1.0)
    path = age_path_lasso(X, y, alpha=0.05)
    with pytest.raises(ValueError, match="outside the path's range"):
        path.coef(path.age_max * 2)
    with pytest.raises(ValueError, match="expected"):
        path.predict(X[:, :3], path.age_min)


def test_no_warnings_on_default_run(diabetes):
    X, y = diabetes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        age_path_lasso(X, y, regularizer="polynomial", alpha=0.01)


def test_feature_screening_is_an_upper_bound():
    """The screened correlations of the inactive features: exact where |c_j| may be
    near alpha, elsewhere an upper bound of |c_j| (so the event values are lower
    bounds), and all exact again once most features are unsure."""
    from gaga._follower import _Partition
    from gaga._lasso_path import _LassoSystem
    from gaga.problems import LassoProblem
    from gaga.regularizers import Linear

    rng = np.random.default_rng(3)
    n, d = 400, 30
    X = rng.standard_normal((n, d))
    y = X[:, 0] + 0.5 * rng.standard_normal(n)
    sysm = _LassoSystem(LassoProblem(X, y, alpha=0.05), Linear())
    middle = np.full(n, 2, dtype=np.int8)
    sysm.set_partition(_Partition(np.array([0]), np.array([1.0]), middle))
    u0 = rng.standard_normal(n) / n
    exact = lambda u: X[:, sysm.inactive].T @ u  # noqa: E731
    c, dc = sysm._feature_correlations(u0, q=rng.standard_normal(n))
    np.testing.assert_allclose(c[sysm.inactive], exact(u0), rtol=1e-12, atol=1e-15)
    assert c[0] == 0.0 and dc[0] == 0.0
    n_screened = 0
    for scale in (1e-6, 1e-4, 1e-3, 1e-2):
        u = u0 + scale * rng.standard_normal(n) / n
        c, _ = sysm._feature_correlations(u)
        ce = exact(u)
        got = c[sysm.inactive]
        same = np.isclose(got, ce, rtol=1e-12, atol=1e-15)
        # screened entries bound |c_j| from above and stay below alpha
        assert np.all(got[~same] >= np.abs(ce[~same]))
        assert np.all(got[~same] < 0.999 * sysm.alpha)
        n_screened += int((~same).sum())
        # entries close to alpha are always exact
        assert np.all(same[np.abs(ce) >= 0.999 * sysm.alpha])
    assert n_screened > 0


def test_no_runs_of_jumps_at_one_age():
    """A landing on a point whose event fires at once must not start a run of jumps
    each 1e-9 further (this configuration once gave 24 of them, 6e-11 apart, and
    |v - v*| = 2.5e-7): a jump where the previous one landed starts further past."""
    X, y = _outliers()
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    path = _path(X, y, "mixture", alpha=0.02, sample_weight=sw)
    ages = np.array([e.age for e in path.events if e.jump])
    close = np.diff(ages) <= 1e-6 * ages[1:]
    run = longest = 0
    for c in close:
        run = run + 1 if c else 0
        longest = max(longest, run)
    assert longest <= 2, ages


@pytest.mark.parametrize(
    "name, ages",
    [
        ("linear", (0.3, 1.0, 3.0)),
        ("mixture", (0.3, 1.0, 3.0)),
        ("log", (0.3, 0.7)),
        ("polynomial", (0.3, 1.0, 3.0)),
    ],
)
def test_latent_descent_lands_where_tight_acs_does(name, ages):
    """The landing's local descent on the latent objective, started from an ACS point
    two weighted solves in: it converges, never increases the latent objective, ends
    at a certified partial optimum (KKT, v = v*, cvxpy) and, here, at the point tight
    ACS reaches after 10 to 160 weighted solves."""
    from gaga._lasso_path import _LassoSystem
    from gaga.problems import LassoProblem
    from gaga.regularizers import get_regularizer
    from gaga.verify import certify

    rng = np.random.default_rng(5)
    n, d = 600, 12
    X = rng.standard_normal((n, d))
    y = X[:, :3] @ np.array([2.0, -1.0, 0.5]) + 0.5 * rng.standard_normal(n)
    y[:60] += rng.choice([-1, 1], 60) * rng.uniform(4, 8, 60)
    reg = get_regularizer(name)
    p = LassoProblem(X, y, alpha=0.05)
    sysm = _LassoSystem(p, reg)
    for age in ages:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            r0 = acs(p, reg, age, max_iter=2)
            ref = acs(
                p,
                reg,
                age,
                coef_init=r0.coef,
                intercept_init=r0.intercept,
                tol=1e-12,
                max_iter=5000,
            )
        assert ref.converged
        coef, b, ok = sysm.descend(r0.coef, r0.intercept, age)
        assert ok
        L0 = p.latent_objective(r0.coef, r0.intercept, age, reg)
        L1 = p.latent_objective(coef, b, age, reg)
        assert L1 <= L0
        v = reg.v_star(p.losses(coef, b), age)
        cert = certify(p, reg, age, coef=coef, intercept=b, v=v)
        assert cert.certified, cert
        assert cert.kkt_residual <= 1e-9
        assert abs(L1 - p.latent_objective(ref.coef, ref.intercept, age, reg)) <= 1e-10
        np.testing.assert_allclose(coef, ref.coef, atol=1e-6)
    # a discontinuous v* (hard): no descent, ACS alone
    hard = _LassoSystem(p, get_regularizer("hard"))
    assert hard.descend(r0.coef, r0.intercept, 1.0) is None


@pytest.mark.parametrize("name", ["linear", "mixture", "log", "polynomial"])
def test_latent_descent_converges_below_the_rounding_of_the_objective(name):
    """Near a partial optimum the descent's Newton step predicts a decrease of the
    latent objective far below the rounding error of its value (here about 1e-19
    against 1e-17): the Armijo test cannot judge such a step, and the full Newton step
    is taken (J positive definite), so that |G| reaches the descent's tolerance (1e-10)
    instead of stalling above it for the rest of the iterations."""
    from gaga._follower import _Partition
    from gaga._lasso_path import _LassoSystem
    from gaga.problems import LassoProblem
    from gaga.regularizers import get_regularizer

    X, y = _screened(5000, 8, seed=3)
    p = LassoProblem(X, y, alpha=0.01)
    sysm = _LassoSystem(p, get_regularizer(name))
    age = 0.5 if name == "log" else 2.0
    coef, b, ok = sysm.descend(np.zeros(8), float(np.median(y)), age)
    assert ok
    # the intercept moved so that |G| is 3e-10: the step back is ~1e-10
    active = np.flatnonzero(coef)
    part = _Partition(
        active, np.sign(coef[active]), sysm._regions(p.residuals(coef, b), age)
    )
    sysm.set_partition(part)
    sysm.G(sysm.from_full(np.append(coef, b)), age)
    db = 3e-10 / sysm.jacobian()[-1, -1]
    coef2, b2, ok2 = sysm.descend(coef, b + db, age)
    assert ok2
    sysm.set_partition(part)
    g, _ = sysm.G(sysm.from_full(np.append(coef2, b2)), age)
    assert np.max(np.abs(g)) <= 1e-10
    assert abs(b2 - b) <= 0.1 * abs(db)  # back at the partial optimum


def test_jacobian_kept_v1_part_equals_a_fresh_sum():
    """J with the v = 1 samples' constant part kept across calls (rank-one terms as
    samples enter and leave v = 1, rebuilt on an active-set change) equals the plain
    sum over all samples."""
    from gaga import _lasso_kernels as _lk
    from gaga._follower import _Partition
    from gaga._lasso_path import _LassoSystem
    from gaga.problems import LassoProblem
    from gaga.regularizers import Mixture

    rng = np.random.default_rng(7)
    n, d = 300, 8
    X = rng.standard_normal((n, d))
    y = X[:, 0] + 0.3 * rng.standard_normal(n)
    sw = rng.uniform(0.5, 2.0, n)
    sysm = _LassoSystem(LassoProblem(X, y, alpha=0.05, sample_weight=sw), Mixture())
    region = rng.integers(0, 3, n).astype(np.int8)
    active = np.array([0, 2, 5])
    theta = rng.standard_normal(len(active) + 1)
    for step in range(40):
        if step == 20:
            active = np.array([0, 1, 2, 5])
            theta = rng.standard_normal(len(active) + 1)
        flip = rng.choice(n, 5, replace=False)
        region[flip] = rng.integers(0, 3, 5)
        sysm.set_partition(_Partition(active, np.ones(len(active)), region.copy()))
        sysm.G(theta, 1.3)
        J = sysm.jacobian()
        full = np.empty_like(J)
        _lk.lasso_J(sysm.XA, True, sysm.h, sysm.part.region, False, full)
        np.testing.assert_allclose(J, full / sysm.S, rtol=1e-12, atol=1e-14)
    assert sysm._J1[4] > 0  # rank-one terms were used, not only rebuilds


@pytest.mark.parametrize("name", ["linear", "mixture", "log", "polynomial"])
def test_moved_sample_shortcut_is_a_solution(diabetes, name, monkeypatch):
    """After a sample event located by the compiled step, the point is kept without a
    G pass when |G| before the move plus the moved sample's term is below gtol: check
    with a full G evaluation that every kept point does solve the new system."""
    from gaga._lasso_path import _LassoSystem

    kept = []
    orig = _LassoSystem.polish_moved

    def polish_moved(self, k, theta, age):
        got = orig(self, k, theta, age)
        if got is not None:
            v, h, va = self.v.copy(), self.h.copy(), self.va.copy()
            g, r = self.G(got[0], age)
            kept.append(float(np.max(np.abs(g))) / self.gtol)
            np.testing.assert_array_equal(r, got[1])
            # the terms left for the next Jacobian are those of the new partition
            np.testing.assert_allclose(self.v, v, rtol=1e-13, atol=0)
            np.testing.assert_allclose(self.h, h, rtol=1e-12, atol=0)
            np.testing.assert_allclose(self.va, va, rtol=1e-12, atol=0)
        return got

    monkeypatch.setattr(_LassoSystem, "polish_moved", polish_moved)
    # Python's loop (the compiled one has its own shortcut, tested below)
    monkeypatch.setattr(_LassoSystem, "fast", False)
    X, y = diabetes
    _path(X, y, name, alpha=0.02)
    assert len(kept) > 20
    assert max(kept) <= 1.0


def test_latent_descent_leaves_an_unstable_stationary_point():
    """Two symmetric clusters of targets: the intercept between them is stationary
    (where ACS started there stays) but a local maximum of the latent objective
    (J < 0). The descent leaves it along the negative curvature and ends at a stable,
    certified partial optimum of lower objective."""
    from gaga._lasso_path import _LassoSystem
    from gaga.problems import LassoProblem
    from gaga.regularizers import Linear
    from gaga.verify import certify

    rng = np.random.default_rng(0)
    n = 200
    X = 1e-3 * rng.standard_normal((n, 1))
    y = np.where(np.arange(n) < n // 2, 1.0, -1.0)
    p = LassoProblem(X, y, alpha=0.5)
    reg = Linear()
    sysm = _LassoSystem(p, reg)
    coef0, b0, age = np.zeros(1), 0.0, 1.0
    theta = sysm.identify(coef0, b0, age)
    g, _ = sysm.G(theta, age)
    assert np.max(np.abs(g)) <= 1e-15  # stationary ...
    assert not sysm.factorize(sysm.jacobian())[1]  # ... and unstable
    coef, b, ok = sysm.descend(coef0, b0, age)
    assert ok and abs(b) > 0.1
    assert p.latent_objective(coef, b, age, reg) < p.latent_objective(
        coef0, b0, age, reg
    )
    theta = sysm.identify(coef, b, age)
    sysm.G(theta, age)
    assert sysm.factorize(sysm.jacobian())[1]
    v = reg.v_star(p.losses(coef, b), age)
    cert = certify(p, reg, age, coef=coef, intercept=b, v=v)
    assert cert.certified, cert


def _screened(n=1500, d=8, seed=5):
    """A problem large enough that the compiled loop's screening skips samples."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X[:, :3] @ np.array([1.0, -0.5, 0.25]) + 0.3 * rng.standard_normal(n)
    out = rng.random(n) < 0.1
    y[out] += rng.choice([-1, 1], out.sum()) * rng.uniform(1, 3, out.sum())
    return X, y / np.abs(y).max()


def _both_loops(monkeypatch, X, y, name, **kw):
    from gaga._lasso_path import _LassoSystem

    paths = []
    for fast in (False, True):
        monkeypatch.setattr(_LassoSystem, "fast", fast)
        paths.append(_path(X, y, name, **kw))
    return paths


@pytest.mark.parametrize("name", ["linear", "mixture", "log", "polynomial"])
@pytest.mark.parametrize("case", ["diabetes", "outliers", "screened", "ties"])
def test_compiled_loop_equals_python_loop(diabetes, monkeypatch, name, case):
    """The compiled event loop (``gaga._lasso_loop``) takes the regular iterations of
    the follower: the same events in the same order at the same ages, and the same
    solution at any age, as Python's loop; on the larger problem its screening skips
    samples (fewer evaluated per iteration than there are samples), and with duplicated
    rows it fires the simultaneous events itself."""
    if case == "diabetes":
        X, y = diabetes
        kw = dict(alpha=0.02)
    elif case == "outliers":
        X, y = _outliers(200, 6, seed=0)
        w = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
        kw = dict(alpha=0.01, fit_intercept=False, sample_weight=w)
    elif case == "ties":
        # every row twice: events come in simultaneous pairs (a cascade at one age)
        X, y = _screened(300, 5, seed=2)
        X, y = np.vstack([X, X]), np.concatenate([y, y])
        kw = dict(alpha=0.01)
    else:
        X, y = _screened()
        kw = dict(alpha=0.01)
    slow, fast = _both_loops(monkeypatch, X, y, name, **kw)
    sysf = fast._system
    steps, evaluated = sysf.fast_counters[0], sysf.fast_counters[3]
    assert steps > 0.5 * fast.n_events  # the compiled loop did the work
    if case == "screened" and name in ("mixture", "linear"):
        # (log and polynomial keep most samples in the middle, always evaluated; the
        # linear one's middle samples enter through their moments)
        assert evaluated < 0.5 * len(y) * steps
    if case == "ties":
        # the cascades were fired by the compiled loop, not left to Python's
        assert sysf.fast_counters[7] < 0.1 * fast.n_events
    if case == "screened" and name != "polynomial":
        # crossings found after a step were located by the compiled loop itself
        assert sysf.fast_counters[16] > 0 and sysf.fast_counters[12] == 0
    key = lambda p: [(e.kind, e.index, e.from_set, e.to_set) for e in p.events]  # noqa
    assert key(fast) == key(slow)
    ages_s = np.array([e.age for e in slow.events])
    ages_f = np.array([e.age for e in fast.events])
    np.testing.assert_allclose(ages_f, ages_s, rtol=1e-9, atol=0)
    ages = np.random.default_rng(0).uniform(fast.age_min, fast.age_max, 25)
    for a in ages:
        scale = max(1.0, np.max(np.abs(slow.coef(a))))
        np.testing.assert_allclose(
            fast.coef(a), slow.coef(a), rtol=0, atol=1e-9 * scale
        )
        assert abs(fast.intercept(a) - slow.intercept(a)) <= 1e-9 * scale


@pytest.mark.cvxpy
@pytest.mark.parametrize("seed", [4, 5])
def test_compiled_loop_certified_where_the_loops_part(monkeypatch, seed):
    """Near a degenerate event (an entering sample whose event function is tangent to
    zero, decided at the event tolerance) the two loops may take different branches:
    on these two problems they did when the compiled loop was written (the mixture
    regularizer, whose folds are jumps); the compiled loop's path is certified."""
    from gaga._lasso_path import _LassoSystem

    X, y = _outliers(200, 6, seed=seed)
    w = np.random.default_rng(seed).uniform(0.5, 2.0, len(y))
    kw = dict(alpha=0.01, fit_intercept=False, sample_weight=w)
    monkeypatch.setattr(_LassoSystem, "fast", True)
    fast = _path(X, y, "mixture", **kw)
    assert fast._system.fast_counters[0] > 0.5 * fast.n_events
    _check_certificates(fast, n_random=30, seed=seed, cvxpy_every=6)


@pytest.mark.parametrize("name", ["linear", "mixture"])
def test_compiled_loop_knots_solve_their_systems(monkeypatch, name):
    """Every point the compiled loop stores (the knots, and so the point right after
    each sample event it applies without a Newton pass) solves the optimality system of
    its segment to the Newton tolerance, with a full evaluation of G over all samples,
    and no event function of its partition is violated."""
    X, y = _screened(800, 6, seed=7)
    path = _path(X, y, name, alpha=0.01)
    sysm = path._system
    assert sysm.fast_counters[0] > 0.5 * path.n_events
    worst_g, worst_e = 0.0, np.inf
    for t in range(len(path.knots)):
        sysm.set_partition(path._segments[int(path._segment_of_knot[t])])
        theta = sysm.from_full(path._store[t])
        g, r = sysm.G(theta, path.knots[t])
        worst_g = max(worst_g, float(np.max(np.abs(g), initial=0.0)) / sysm.gtol)
        e = sysm.event_values(theta, r, path.knots[t])[0]
        worst_e = min(worst_e, float(e.min()))
    assert worst_g <= 1.0
    assert worst_e >= -1e-10


def test_jump_lands_by_descent_before_acs(monkeypatch):
    """A jump of the Lasso tries the latent descent from its kicked point before ACS
    (``descend_first``): on this mixture path (9 jumps) it lands every jump on the same
    branch as ACS did, with a fraction of the weighted solves, and the path is the
    same."""
    from gaga._lasso_path import _LassoSystem
    from gaga.problems import LassoProblem

    X, y = _screened(1500, 8, seed=5)
    solves = []
    orig = LassoProblem.solve_weighted

    def counted(self, *a, **k):
        solves[-1] += 1
        return orig(self, *a, **k)

    monkeypatch.setattr(LassoProblem, "solve_weighted", counted)
    paths = []
    for first in (False, True):
        monkeypatch.setattr(_LassoSystem, "descend_first", first)
        solves.append(0)
        paths.append(_path(X, y, "mixture", alpha=0.01))
    acs, desc = paths
    assert len(acs.jumps) >= 5
    key = lambda p: [(e.kind, e.index, e.from_set, e.to_set) for e in p.events]  # noqa
    assert key(desc) == key(acs)
    assert solves[1] < 0.5 * solves[0]
    for a in np.linspace(acs.age_min, acs.age_max, 60):
        np.testing.assert_allclose(desc.coef(a), acs.coef(a), rtol=0, atol=1e-9)


@pytest.mark.parametrize("kind", ["linear", "mixture"])
def test_middle_moments_equal_direct_sums(kind):
    """The compiled loop's moments of the middle samples (linear: up to 4th order;
    mixture: first order and the signs) give G, J and dG/dage at theta_ref + delta
    equal to the direct sums over the samples, and follow a sample leaving the
    middle."""
    from gaga import _lasso_loop as ll
    from gaga._spl_kernels import LINEAR, MIXTURE

    code = LINEAR if kind == "linear" else MIXTURE
    gamma = 0.8
    rng = np.random.default_rng(0)
    n, nA, age = 60, 3, 0.7
    XA = rng.standard_normal((n, nA))
    s = rng.uniform(0.5, 2.0, n)
    region = np.full(n, 2, dtype=np.int8)
    region[:5] = 0
    k = nA + 1
    Z = np.hstack([XA, np.ones((n, 1))])
    # residuals away from 0 (a mixture middle sample's loss is above a positive
    # threshold)
    r_ref = rng.choice([-1.0, 1.0], n) * rng.uniform(0.5, 1.5, n)
    Mt = tuple(np.zeros((k,) * m) for m in (1, 2, 1, 2, 3, 4))
    ll._mid_build(XA, s, True, region, r_ref, Mt, code)
    ll._mid_add(XA, True, 7, -s[7], r_ref[7], Mt, code)  # sample 7 leaves the middle
    mid = region == 2
    mid[7] = False
    # (mixture: small moves keep every residual's sign, as in the middle region)
    for scale in (0.0, 1e-3, 0.3 if kind == "linear" else 1e-2):
        delta = scale * rng.standard_normal(k)
        r = r_ref - Z @ delta
        sm, zm, rm = s[mid], Z[mid], r[mid]
        if kind == "linear":
            svr = sm * (rm - rm**3 / (2 * age))
            h = sm * (1 - 3 * rm**2 / (2 * age))
            sva_r = sm * rm**3 / (2 * age**2)
        else:
            assert np.all(np.sign(rm) == np.sign(r_ref[mid]))
            lm = 0.5 * rm**2
            v = gamma * (1 / np.sqrt(lm) - 1 / age)
            svr = sm * v * rm
            h = sm * (v + rm**2 * (-gamma / (2 * lm**1.5)))
            sva_r = sm * gamma / age**2 * rm
        g = np.zeros(k)
        ll._mid_G(Mt, delta, age, g, code, gamma)
        np.testing.assert_allclose(g, zm.T @ svr, rtol=1e-12, atol=1e-12)
        L = np.zeros((k, k))
        rhs = np.zeros(k)
        ll._mid_J(Mt, delta, age, L, rhs, True, code, gamma)
        J = (zm * h[:, None]).T @ zm
        np.testing.assert_allclose(np.tril(L), np.tril(J), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(rhs, zm.T @ sva_r, rtol=1e-12, atol=1e-12)


def test_segment_store_batched_moves_equal_single_adds():
    """``_SegmentStore.add_moves`` (a block of moves between two checkpoints at a time)
    stores the same partitions as ``add`` move by move: runs that start at and cross
    checkpoints, samples that move twice within a block, after a jump's checkpoint."""
    from gaga._follower import _CHECKPOINT_EVERY, _Partition, _SegmentStore

    rng = np.random.default_rng(0)
    n = 40
    part0 = _Partition(np.array([1, 3]), np.array([1.0, -1.0]), rng.integers(0, 3, n))
    one, batch = _SegmentStore(), _SegmentStore()
    p1, p2 = part0.copy(), part0.copy()
    one.add(p1, range(n))
    batch.add(p2, range(n))
    for m in (5, _CHECKPOINT_EVERY - 6, 1, 3 * _CHECKPOINT_EVERY + 7, 0, 40):
        samples = rng.integers(0, 8, m)  # few samples: repeats within a block
        regions = rng.integers(0, 3, m).astype(np.int8)
        ids1 = []
        for i, g in zip(samples, regions):
            p1.region[i] = g
            ids1.append(one.add(p1, (int(i),)))
        ids2 = batch.add_moves(p2, samples, regions)
        assert ids1 == ids2
        np.testing.assert_array_equal(p1.region, p2.region)
        if m == 1:  # a jump: every sample may change
            p1.region[:] = p2.region[:] = rng.integers(0, 3, n)
            assert one.add(p1, range(n)) == batch.add(p2, range(n))
    assert len(one) == len(batch) > 4 * _CHECKPOINT_EVERY
    assert len(batch._checkpoints) > 4
    for k in range(len(one)):
        a, b = one[k], batch[k]
        np.testing.assert_array_equal(a.region, b.region)
        np.testing.assert_array_equal(a.active, b.active)
        np.testing.assert_array_equal(a.signs, b.signs)


def _benchmark_problem(n, d):
    """The synthetic problem of benchmarks/bench_lasso_path.py (seed 0: max(3, d //
    10) true features, 10% outliers) and its alpha (5% of alpha_max)."""
    rng = np.random.default_rng([0, n, d])
    X = rng.standard_normal((n, d))
    k = min(d, max(3, d // 10))
    w = np.zeros(d)
    idx = rng.choice(d, k, replace=False)
    w[idx] = rng.choice([-1.0, 1.0], k) * rng.uniform(1.0, 3.0, k)
    y = X @ w + rng.standard_normal(n)
    out = rng.choice(n, n // 10, replace=False)
    y[out] += rng.choice([-1.0, 1.0], out.size) * rng.uniform(5, 10, out.size) * y.std()
    y = (y - y.mean()) / y.std()
    alpha = 0.05 * float(np.max(np.abs((X - X.mean(0)).T @ y)) / n)
    return X, y, alpha


def test_jumps_leave_a_degenerate_stationary_point_by_descent(monkeypatch):
    """On this mixture path (5000 x 50, 10% outliers, the benchmark's) two of the
    ten folds end their descent at a stationary point whose J is slightly negative at
    a kink (the latent objective rises 1e-4 away on both sides): the nearest lower
    point is ~2e-5 away and lower by ~1e-14. The descent leaves it there and lands, so
    no jump needs ACS (before: 20 weighted solves each), and the landings certify."""
    from gaga._follower import _Follower

    X, y, alpha = _benchmark_problem(5000, 50)
    calls = []
    orig = _Follower.acs_land

    def counted(self, *args, **kwargs):
        calls.append(args[2])  # the age
        return orig(self, *args, **kwargs)

    monkeypatch.setattr(_Follower, "acs_land", counted)
    path = age_path_lasso(X, y, regularizer="mixture", alpha=alpha)
    assert len(path.jumps) >= 8
    assert calls == [path.age_min]  # ACS only for the start
    reps = path.certify(
        ages=[e.age for e in path.jumps], include_breakpoints=False, use_cvxpy=False
    )
    assert len(reps) == len(path.jumps)
    assert all(r.kkt_residual <= 1e-7 and r.v_residual <= 1e-7 for r in reps), reps


@pytest.mark.parametrize("n, d", [(1000, 50), (5000, 10), (5000, 50)])
def test_start_descends_early_and_lands_no_higher_than_tight_acs(monkeypatch, n, d):
    """The start: ACS from the v = 1 fit at age_min, with a latent descent and a
    landing after every 5 weighted solves however far v still moves. From the v = 1
    fit ACS wanders (~35 solves with max |delta v| ~ 0.1 on these mixture problems of
    the benchmark) before it contracts; the descent from its 5th point lands at once.
    The start is certified, its objective is never above that of ACS run from the same
    fit to tol 1e-10 (on 1000 x 50 and 5000 x 10 it is lower: a different partial
    optimum; on 5000 x 50 the same), and it takes at most 10 weighted solves (before:
    41 on 5000 x 50)."""
    from gaga._follower import _Follower
    from gaga.problems import LassoProblem
    from gaga.regularizers import get_regularizer

    X, y, alpha = _benchmark_problem(n, d)
    solves = []
    orig_land, orig_solve = _Follower.acs_land, LassoProblem.solve_weighted

    def counted_solve(self, *args, **kwargs):
        if solves:
            solves[-1] += 1
        return orig_solve(self, *args, **kwargs)

    def counted_land(self, *args, **kwargs):
        solves.append(0)
        return orig_land(self, *args, **kwargs)

    monkeypatch.setattr(LassoProblem, "solve_weighted", counted_solve)
    monkeypatch.setattr(_Follower, "acs_land", counted_land)
    path = age_path_lasso(X, y, regularizer="mixture", alpha=alpha)
    monkeypatch.undo()
    assert 1 <= solves[0] <= 10
    a = path.age_min
    (rep,) = path.certify(ages=[a], include_breakpoints=False, use_cvxpy=False)
    assert rep.kkt_residual <= 1e-7 and rep.v_residual <= 1e-7, rep
    problem = LassoProblem(X, y, alpha=alpha)
    ref = acs(problem, "mixture", a, tol=1e-10)
    assert ref.converged
    f_ref = problem.objective(
        ref.coef, ref.intercept, ref.v, a, get_regularizer("mixture")
    )
    assert path.objective(a) <= f_ref + 1e-12 * max(1.0, abs(f_ref))


def test_moment_newton_brings_the_sample_state_to_its_point():
    """With the middle samples in moments (mixture) G needs no pass over the samples:
    Newton's iterations skip it, and one pass at the end (``_rows_ex``) leaves the
    residuals and weights of the evaluated samples those of the returned point, the
    same bits as the pass of ``_eval_ex`` (which the event functions then read)."""
    from gaga import _lasso_loop as ll
    from gaga._spl_kernels import MIXTURE

    gamma, age = 0.8, 0.7
    rng = np.random.default_rng(3)
    n, nA = 60, 3
    k = nA + 1
    XA = rng.standard_normal((n, nA))
    s = rng.uniform(0.5, 2.0, n)
    region = np.full(n, 1, dtype=np.int8)  # v = 1
    region[40:55] = 2  # middle
    region[55:] = 0  # v = 0
    y = rng.choice([-1.0, 1.0], n) * rng.uniform(0.5, 1.5, n)
    theta_ref = np.zeros(k)  # residuals y at the reference
    Mt = tuple(np.zeros((k,) * m) for m in (1, 2, 1, 2, 3, 4))
    ll._mid_build(XA, s, True, region, y, Mt, MIXTURE)
    J1, c1 = np.zeros((k, k)), np.zeros(k)
    ll._one_sums(XA, y, s, True, region, J1, c1)
    ex = np.arange(n)
    signs = np.array([1.0, -1.0, 1.0])
    S, alpha = float(s.sum()), 0.01
    Z = np.hstack([XA, np.ones((n, 1))])
    theta = 1e-2 * rng.standard_normal(k)

    def state(th, rows):
        r, v, g = np.full(n, np.nan), np.full(n, np.nan), np.empty(k)
        gn = ll._eval_ex(
            ex,
            region,
            XA,
            y,
            s,
            th,
            True,
            MIXTURE,
            gamma,
            age,
            J1,
            c1,
            S,
            alpha,
            signs,
            r,
            v,
            g,
            True,
            Mt,
            theta_ref,
            rows,
        )
        return gn, g, r, v

    gn1, g1, r1, v1 = state(theta, True)
    gn2, g2, r2, v2 = state(theta, False)
    assert gn1 == gn2 and np.array_equal(g1, g2)
    assert np.all(np.isnan(r2)) and np.all(np.isnan(v2))  # no pass
    ll._rows_ex(ex, region, XA, y, theta, True, MIXTURE, gamma, age, r2, v2)
    assert np.array_equal(r1, r2) and np.array_equal(v1, v2)
    np.testing.assert_allclose(r1, y - Z @ theta, rtol=0, atol=1e-14)
    for start in (theta, theta + 0.3 * rng.standard_normal(k)):
        r, v, h, va = (np.full(n, np.nan) for _ in range(4))
        L, L2, g = np.zeros((k, k)), np.zeros((k, k)), np.empty(k)
        th, ok, its = ll._newton(
            ex,
            region,
            XA,
            y,
            s,
            start,
            age,
            True,
            MIXTURE,
            gamma,
            J1,
            c1,
            S,
            alpha,
            signs,
            L,
            L2,
            False,
            1e-12,
            r,
            v,
            h,
            va,
            g,
            True,
            Mt,
            theta_ref,
        )
        assert its >= 1
        _, _, r_ref, v_ref = state(th, True)
        assert np.array_equal(r, r_ref) and np.array_equal(v, v_ref)


def test_diverging_landing_newton_does_not_raise():
    """More features than samples (the first 300 rows of the benchmark's 5000 x 200
    problem), mixture: a jump's landing identifies a partition with 141 active
    features whose Newton diverges (|theta| ~ 1e16), and a middle sample's residual
    rounds to exactly 0 there, the pole of the mixture's middle branch. The branch
    gives inf (IEEE arithmetic in the regularizer kernels), Newton rejects the iterate,
    and the path goes on; it raised ZeroDivisionError from the compiled kernel. The
    path is certified at every breakpoint."""
    X, y, alpha = _benchmark_problem(5000, 200)
    X, y = X[:300], y[:300]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning either
        path = age_path_lasso(X, y, regularizer="mixture", alpha=alpha)
    assert path.n_events > 0
    reps = path.certify(use_cvxpy=False)
    assert len(reps) >= path.n_events
    assert all(r.kkt_residual <= 1e-7 and r.v_residual <= 1e-7 for r in reps)


def _sweep_data(rng, n, d):
    """The data of helper-14's robustness sweep (session 7): Gaussian X, 5 true
    features, noise 0.5, intercept 1, 10% outliers; returns (X, y, std of y before
    the outliers), rng moved on."""
    X = rng.normal(size=(n, d))
    w = np.zeros(d)
    idx = rng.choice(d, 5, replace=False)
    w[idx] = rng.choice([-1, 1], 5) * rng.uniform(1, 3, 5)
    y = X @ w + 0.5 * rng.normal(size=n) + 1.0
    std = y.std()
    out = rng.choice(n, n // 10, replace=False)
    y[out] += rng.choice([-1, 1], out.size) * rng.uniform(5, 10, out.size) * std
    return X, y, std


def test_path_stopped_at_a_discontinuity_ends_on_a_certified_point():
    """Hard regularizer, more features than samples, duplicated rows of X with other
    targets, some zero weights, a small alpha: a jump at a discontinuity of v* cannot
    land (ACS returns to an unstable point) and the path stops there with a
    ConvergenceWarning. Its last point must be the point before the event in its own
    partition; it was that point paired with the partition after the event (the
    sample already moved), whose KKT residual was 0.039. Every breakpoint, the end
    included, is certified."""
    rng = np.random.default_rng(1167)
    n, d = 150, 250
    X, y, std = _sweep_data(rng, n, d)
    src = rng.choice(n, n // 5, replace=False)
    dst = rng.choice(np.setdiff1d(np.arange(n), src), n // 5, replace=False)
    X[dst] = X[src]  # the same rows of X, other targets
    sw = rng.uniform(0.5, 2.0, n)
    sw[rng.choice(n, n // 10, replace=False)] = 0.0
    alpha = 0.005 * np.max(np.abs(X.T @ y)) / n
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = age_path_lasso(
            X, y, regularizer="hard", alpha=alpha, fit_intercept=False, sample_weight=sw
        )
    stopped = [w for w in caught if "Age path stopped" in str(w.message)]
    assert len(stopped) == 1 and stopped[0].category is ConvergenceWarning
    # a certified last point: the warning does not say otherwise
    assert "not a certified" not in str(stopped[0].message)
    reps = path.certify(ages=[path.age_max], use_cvxpy=False)
    assert len(reps) >= path.n_events and any(r.age == path.age_max for r in reps)
    assert all(r.kkt_residual <= 1e-7 and r.v_residual <= 1e-7 for r in reps), [
        (r.age, r.kkt_residual) for r in reps if r.kkt_residual > 1e-7
    ]


def test_start_fallback_keeps_the_acs_point_when_newton_diverges():
    """Hard regularizer, 120 samples and 250 features, integer targets: at age_min
    ACS converges to 115 samples and 115 active features (interpolation), where J is
    nearly singular, so no landing is stable, and the start's fallback polish
    diverged: it returned |intercept| ~ 3e17 with every weight 0, and the first jump
    raised ZeroWeightsError. The fallback now keeps the ACS point when Newton fails:
    the path stops at age_min with a ConvergenceWarning, at a point with the weights
    ACS found and finite, moderate values. That point is not certified (its KKT
    residual is ~4e-5): the warning says so, and ``certify()`` checks it (it used to
    check the breakpoints only, and this path has none)."""
    rng = np.random.default_rng(50014)
    n, d = 120, 250
    X, y, std = _sweep_data(rng, n, d)
    y = np.round(y / max(std / 3, 1e-3))
    sw = rng.uniform(0.5, 2.0, n)
    alpha = 0.005 * np.max(np.abs((X - X.mean(0)).T @ (y - y.mean()))) / n
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = age_path_lasso(X, y, regularizer="hard", alpha=alpha, sample_weight=sw)
    (stopped,) = [w for w in caught if "Age path stopped" in str(w.message)]
    assert "is not a certified partial optimum" in str(stopped.message)
    a = path.age_min
    assert np.sum(path.weights(a) > 0) >= 100
    assert abs(path.intercept(a)) < 1e3 and np.max(np.abs(path.coef(a))) < 1e3
    (rep,) = path.certify(use_cvxpy=False)
    assert rep.age == a and rep.kkt_residual > 1e-7


@pytest.mark.slow
def test_path_keeps_inner_solver_shortfalls_to_itself(monkeypatch):
    """d > n, tiny alpha (helper-14's sweep case, ~8 s): a jump's ACS has weighted
    solves that stop at 100000 epochs short of 1e-12. They used to reach the user as
    'Weighted convex solver did not converge' warnings although every breakpoint is
    certified; the follower's solver no longer warns (it counts them)."""
    import gaga.baselines as bl

    made = []
    orig = bl._Solver.__init__

    def init(self, *args, **kwargs):
        orig(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(bl._Solver, "__init__", init)
    rng = np.random.default_rng(20223)
    n, d = 60, 120
    X, y, std = _sweep_data(rng, n, d)
    sw = rng.uniform(0.5, 2.0, n)
    sw[rng.choice(n, n // 10, replace=False)] = 0.0
    alpha = 0.005 * np.max(np.abs((X - X.mean(0)).T @ (y - y.mean()))) / n
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = age_path_lasso(
            X, y, regularizer="mixture", alpha=alpha, sample_weight=sw
        )
    assert sum(s.n_unconverged for s in made) >= 1  # the case still has short solves
    reps = path.certify(use_cvxpy=False)
    assert all(r.kkt_residual <= 1e-7 and r.v_residual <= 1e-7 for r in reps)


def test_certify_checks_the_ends_of_a_path_without_events():
    """``certify()`` checks both ends of the path besides the breakpoints: a path
    over an age range without events is certified at age_min and age_max (it used to
    return no certificate at all)."""
    X, y = _outliers()
    full = age_path_lasso(X, y, regularizer="linear", alpha=0.05)
    bps = full.breakpoints
    gaps = np.diff(bps)
    i = int(np.argmax(gaps))
    lo, hi = bps[i] + 0.25 * gaps[i], bps[i] + 0.5 * gaps[i]
    path = age_path_lasso(
        X, y, regularizer="linear", alpha=0.05, age_min=lo, age_max=hi
    )
    assert path.n_events == 0
    reps = path.certify(use_cvxpy=False)
    assert [r.age for r in reps] == [lo, hi]
    assert all(r.kkt_residual <= 1e-7 and r.v_residual <= 1e-7 for r in reps)
    # the same ends within a path with events, once each
    reps = full.certify(use_cvxpy=False)
    ages = [r.age for r in reps]
    assert ages[0] == full.age_min and ages[-1] == full.age_max
    assert len(ages) == len(set(ages))


def test_one_feature_and_read_only_inputs_reuse_the_compiled_kernels(diabetes):
    """numba types an array of shape (n, 1) as C-ordered whatever its order, and a
    read-only array apart from a writable one: an X with one column in Fortran order,
    or read-only X and y (a read-only memmap), compiled the path's kernels a second
    time (scikit-learn's check_fit2d_1feature and readonly_memmap checks took 55 and
    108 s of a cold test run). The kernels take X transposed (C-ordered for every d)
    and the problem copies read-only arrays: after paths on all three inputs, each
    kernel has one compiled signature."""
    from numba.core.types import unliteral

    from gaga import _cd, _lasso_descend, _lasso_kernels, _lasso_loop
    from gaga.problems import LassoProblem

    X, y = diabetes
    X = X[:120]
    y = y[:120]
    kw = dict(alpha=0.05, regularizer="linear")
    age_path_lasso(X, y, **kw)
    age_path_lasso(X[:, 2:3], y, **kw)
    Xr, yr = X.copy(), y.copy()
    Xr.flags.writeable = False
    yr.flags.writeable = False
    age_path_lasso(Xr, yr, **kw)
    LassoProblem(Xr[:, 2:3], yr).solve_weighted(np.ones(len(yr)))
    kernels = {
        "run_events": _lasso_loop.run_events,
        "weighted_lasso_cd": _cd.weighted_lasso_cd,
        "weighted_means": _cd.weighted_means,
        "correlations_subset": _lasso_kernels.correlations_subset,
        "lasso_G": _lasso_kernels.lasso_G,
    }

    def types(f):
        # (the literal-valued versions numba compiles for calls from other kernels
        # with a constant argument are one type here)
        return {tuple(map(unliteral, sig)) for sig in f.signatures}

    counts = {name: len(types(f)) for name, f in kernels.items()}
    assert counts == dict.fromkeys(kernels, 1), {
        name: types(f) for name, f in kernels.items() if len(types(f)) > 1
    }
    for f in (_cd.sparse_residuals, _lasso_descend.descend_run):
        assert len(types(f)) <= 1


def test_kth_smallest_equals_numpy_partition():
    """The compiled loop's selection (instead of numba's np.partition, whose first
    compilation took 11.5 s) returns np.partition(a, k)[k], ties, infinities and NaN
    (sorted last) included."""
    from gaga._lasso_loop import _kth_smallest

    rng = np.random.default_rng(0)
    for t in range(3000):
        n = int(rng.integers(1, 40))
        a = rng.standard_normal(n)
        if t % 3 == 1:
            a = rng.integers(0, 3, n).astype(float)  # ties
        elif t % 3 == 2:
            a[rng.random(n) < 0.3] = np.inf
            a[rng.random(n) < 0.2] = np.nan
        k = int(rng.integers(0, n))
        want = np.partition(a, k)[k]
        got = _kth_smallest(a, k)
        assert got == want or (np.isnan(got) and np.isnan(want)), (a, k)
    a = np.sort(rng.standard_normal(5000))[::-1].copy()  # descending: no quadratic
    assert _kth_smallest(a, 1234) == np.partition(a, 1234)[1234]
