"""Tests of gaga.baselines: ACS at one age and on a grid of ages."""

import numpy as np
import pytest
from _spl_cases import (
    REGULARIZERS,
    ages_for,
    cancer_problem,
    diabetes_problem,
    v1_solution,
)
from sklearn.exceptions import ConvergenceWarning

from gaga.baselines import ACSPathResult, ACSResult, acs, acs_path
from gaga.regularizers import get_regularizer
from gaga.verify import certify, kkt_residual


@pytest.fixture(scope="module")
def lasso():
    return diabetes_problem(alpha=0.02)


@pytest.fixture(scope="module")
def svm():
    return cancer_problem(C=1.0, kernel="rbf")


@pytest.mark.parametrize("name", REGULARIZERS)
def test_acs_lasso_partial_optimum_without_cvxpy(lasso, name):
    reg = get_regularizer(name)
    ages = ages_for(lasso, reg)
    res = acs_path(lasso, reg, ages)
    assert isinstance(res, ACSPathResult)
    assert res.converged.all()
    for k, age in enumerate(res.ages):
        v = res.weights[:, k]
        kkt = kkt_residual(lasso, res.coefs[:, k], res.intercepts[k], v)
        assert kkt <= 1e-9
        l = lasso.losses(res.coefs[:, k], res.intercepts[k])
        assert np.abs(v - reg.v_star(l, age)).max() <= 1e-9
        assert 0 < np.count_nonzero(v) < lasso.n_samples  # samples were excluded


@pytest.mark.cvxpy
@pytest.mark.parametrize("name", REGULARIZERS)
def test_acs_lasso_certified(lasso, name):
    reg = get_regularizer(name)
    ages = ages_for(lasso, reg)
    res = acs_path(lasso, reg, ages)
    for k, age in enumerate(res.ages):
        cert = certify(
            lasso,
            reg,
            age,
            coef=res.coefs[:, k],
            intercept=res.intercepts[k],
            v=res.weights[:, k],
        )
        assert cert.certified, cert.summary()


@pytest.mark.cvxpy
@pytest.mark.parametrize("name", REGULARIZERS)
def test_acs_svm_rbf_certified(svm, name):
    reg = get_regularizer(name)
    ages = ages_for(svm, reg, quantiles=(0.5, 0.9))
    res = acs_path(svm, reg, ages)
    assert res.converged.all()
    assert res.coefs is None and res.dual_coefs.shape == (svm.n_samples, len(ages))
    for k, age in enumerate(res.ages):
        cert = certify(
            svm,
            reg,
            age,
            dual_coef=res.dual_coefs[:, k],
            intercept=res.intercepts[k],
            v=res.weights[:, k],
        )
        assert cert.certified, cert.summary()
    assert np.any(res.weights < 1)  # the regularizer did something


def test_acs_path_shapes_and_sorting(lasso):
    reg = get_regularizer("linear")
    ages = ages_for(lasso, reg)[::-1]
    res = acs_path(lasso, reg, ages)
    n, d = lasso.n_samples, lasso.n_features
    assert np.all(np.diff(res.ages) > 0)
    np.testing.assert_allclose(res.ages, np.sort(ages))
    assert res.coefs.shape == (d, 3) and res.dual_coefs is None
    assert res.intercepts.shape == (3,) and res.weights.shape == (n, 3)
    assert res.n_iter.shape == (3,) and res.converged.dtype == bool
    for k, age in enumerate(res.ages):
        c, b, v = res.coefs[:, k], res.intercepts[k], res.weights[:, k]
        assert res.objectives[k] == pytest.approx(lasso.objective(c, b, v, age, reg))
        assert res.latent_objectives[k] == pytest.approx(
            lasso.latent_objective(c, b, age, reg), abs=1e-9
        )


def test_acs_decreases_the_latent_objective(lasso):
    """ACS is majorize-minimize on the latent objective: never worse than its start."""
    theta0, b0 = v1_solution(lasso)
    for name in REGULARIZERS:
        reg = get_regularizer(name)
        age = ages_for(lasso, reg)[0]
        res = acs(lasso, reg, age)
        assert isinstance(res, ACSResult) and res.converged
        assert (
            res.latent_objective <= lasso.latent_objective(theta0, b0, age, reg) + 1e-12
        )


def test_acs_hard_large_age_is_the_v1_solution(lasso, svm):
    for p in (lasso, svm):
        theta0, b0 = v1_solution(p)
        age = 2.0 * p.losses(theta0, b0).max() + 1.0
        res = acs(p, "hard", age)
        assert res.n_iter == 2 and res.converged
        assert np.all(res.v == 1.0)
        theta = res.coef if p.kind == "lasso" else res.dual_coef
        np.testing.assert_allclose(theta, theta0, atol=1e-9)


def test_acs_warm_starts(lasso):
    reg = get_regularizer("linear")
    age = ages_for(lasso, reg)[1]
    res = acs(lasso, reg, age)
    again = acs(lasso, reg, age, coef_init=res.coef, intercept_init=res.intercept)
    assert again.n_iter <= 2
    np.testing.assert_allclose(again.coef, res.coef, atol=1e-9)
    from_v = acs(lasso, reg, age, v_init=res.v)
    np.testing.assert_allclose(from_v.coef, res.coef, atol=1e-9)


def test_acs_path_sklearn_solver_agrees(lasso):
    reg = get_regularizer("linear")
    ages = ages_for(lasso, reg)
    ours = acs_path(lasso, reg, ages)
    theirs = acs_path(lasso, reg, ages, solver="sklearn")
    assert theirs.solver == "sklearn"
    np.testing.assert_allclose(theirs.coefs, ours.coefs, atol=1e-6)
    np.testing.assert_allclose(theirs.intercepts, ours.intercepts, atol=1e-6)
    np.testing.assert_allclose(theirs.weights, ours.weights, atol=1e-6)


def test_acs_path_sklearn_solver_agrees_svm():
    p = cancer_problem(C=1.0, kernel="rbf", n_samples=200)
    reg = get_regularizer("hard")
    ages = ages_for(p, reg, quantiles=(0.5, 0.9))
    ours = acs_path(p, reg, ages)
    theirs = acs_path(p, reg, ages, solver="sklearn")
    np.testing.assert_array_equal(theirs.weights, ours.weights)
    for k in range(len(ages)):
        f1 = p.decision_function_train(ours.dual_coefs[:, k], ours.intercepts[k])
        f2 = p.decision_function_train(theirs.dual_coefs[:, k], theirs.intercepts[k])
        assert np.abs(f1 - f2).max() <= 1e-5


def test_acs_convergence_warning(lasso):
    reg = get_regularizer("linear")
    age = ages_for(lasso, reg)[0]
    with pytest.warns(
        ConvergenceWarning, match=r"max \|delta v\| = .* > tol = 1\.0+e-10"
    ):
        res = acs(lasso, reg, age, max_iter=2)
    assert not res.converged and res.delta_v > 1e-10
    with pytest.warns(ConvergenceWarning):
        path = acs_path(lasso, reg, [age], max_iter=2)
    assert not path.converged[0]


def test_acs_path_bad_input(lasso):
    with pytest.raises(ValueError, match=r"ages must lie in the open interval.*1\.2"):
        acs_path(lasso, "log", [0.5, 1.2])
    with pytest.raises(ValueError, match=r"ages.*-0\.1"):
        acs_path(lasso, "linear", [-0.1, 0.5])
    with pytest.raises(ValueError, match="ages must contain"):
        acs_path(lasso, "linear", [])
    with pytest.raises(ValueError, match="solver='cvx'"):
        acs_path(lasso, "linear", [0.5], solver="cvx")
    with pytest.raises(ValueError, match="max_iter=0"):
        acs(lasso, "linear", 0.5, max_iter=0)
    with pytest.raises(ValueError, match="age"):
        acs(lasso, "log", 1.5)
    with pytest.raises(TypeError, match="LassoProblem or an SVMProblem"):
        acs("lasso", "linear", 0.5)


def test_acs_too_small_age_is_a_clear_error(lasso, svm):
    with pytest.raises(ValueError, match=r"ACS failed at age=1e-12.*too small"):
        acs(lasso, "hard", 1e-12)
    # SVM: only the samples outside the margin (hinge 0, one class here) stay in
    with pytest.raises(ValueError, match="both classes"):
        acs(svm, "hard", 1e-12, v_init=(svm.y_pm > 0).astype(float))


def test_acs_coef_init_without_intercept(lasso):
    reg = get_regularizer("linear")
    age = ages_for(lasso, reg)[1]
    ref = acs(lasso, reg, age)
    res = acs(lasso, reg, age, coef_init=ref.coef)  # intercept: mean residual
    assert res.converged
    np.testing.assert_allclose(res.coef, ref.coef, atol=1e-7)
    assert abs(res.intercept - ref.intercept) <= 1e-7
    # with the intercept given, ACS is already at its fixed point
    res = acs(lasso, reg, age, coef_init=ref.coef, intercept_init=ref.intercept)
    assert res.n_iter <= 2


def test_solver_warns_on_a_short_solve_unless_told_not_to(monkeypatch):
    """``_Solver`` warns (ConvergenceWarning) when an inner solve stops short of its
    tolerance, and counts it; with ``warn=False`` (the path follower's ACS, whose
    points are polished by Newton and certified) it only counts."""
    import warnings

    from gaga.baselines import _Solver
    from gaga.problems import LassoProblem

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    y = X @ np.array([1.0, -2.0, 0.0, 0.5, 0.0]) + 0.1 * rng.standard_normal(40)
    p = LassoProblem(X, y, alpha=0.01)
    v = np.ones(40)
    orig = LassoProblem.solve_weighted

    def short(self, *args, **kwargs):  # a solve that stops at its epoch limit
        coef, b, info = orig(self, *args, **kwargs)
        return coef, b, dict(info, converged=False)

    monkeypatch.setattr(LassoProblem, "solve_weighted", short)
    loud = _Solver(p, "gaga", None)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        loud.solve(v, np.zeros(5))
    assert loud.n_unconverged == 1
    quiet = _Solver(p, "gaga", None, warn=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coef, b = quiet.solve(v, np.zeros(5))
        quiet.solve(v, coef)
    assert quiet.n_unconverged == 2 and np.all(np.isfinite(coef))
