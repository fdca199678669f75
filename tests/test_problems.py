"""Tests of gaga.problems: conventions, sklearn at v = 1, weighted solvers."""

import numpy as np
import pytest
import scipy.sparse as sp
from _spl_cases import constant_classifier_data
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import Lasso
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from gaga.problems import LassoProblem, SVMProblem
from gaga.regularizers import get_regularizer


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _random_v(n, seed, zero_frac=0.2):
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.05, 1.0, n)
    v[rng.random(n) < zero_frac] = 0.0
    return v


# --------------------------------------------------------------------------- Lasso


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_lasso_v1_equals_sklearn(diabetes, fit_intercept, weighted):
    X, y = diabetes
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y)) if weighted else None
    p = LassoProblem(X, y, alpha=1.0, fit_intercept=fit_intercept, sample_weight=sw)
    coef, b, info = p.solve_weighted(np.ones(len(y)))
    assert info["converged"]
    sk = Lasso(alpha=1.0, fit_intercept=fit_intercept, tol=1e-14, max_iter=100000)
    sk.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(coef, sk.coef_, rtol=0, atol=1e-6)
    assert abs(b - sk.intercept_) <= 1e-6
    assert np.count_nonzero(coef) < X.shape[1]  # the penalty is active
    # the objective convention: at v = 1 it is sklearn's objective
    r = y - X @ coef - b
    s = np.ones(len(y)) if sw is None else sw
    expected = 0.5 * np.dot(s, r * r) / s.sum() + np.abs(coef).sum()
    assert p.weighted_objective(coef, b, np.ones(len(y))) == pytest.approx(expected)


def test_lasso_weighted_equals_sklearn_rescaled(diabetes):
    X, y = diabetes
    s = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    v = _random_v(len(y), 2)
    p = LassoProblem(X, y, alpha=0.5, sample_weight=s)
    coef, b, info = p.solve_weighted(v)
    u = s * v
    m = u > 0
    sk = Lasso(alpha=0.5 * p.S / u.sum(), tol=1e-14, max_iter=100000)
    sk.fit(X[m], y[m], sample_weight=u[m])
    np.testing.assert_allclose(coef, sk.coef_, rtol=0, atol=1e-8)
    assert abs(b - sk.intercept_) <= 1e-8
    assert info["rel_gap"] <= 1e-12


def test_lasso_warm_start_and_tight_gap(diabetes):
    X, y = diabetes
    p = LassoProblem(X, y, alpha=0.3)
    v = _random_v(len(y), 3)
    coef, b, info = p.solve_weighted(v)
    coef2, b2, info2 = p.solve_weighted(v, coef_init=coef, intercept_init=b)
    assert info2["n_iter"] <= 10 < info["n_iter"]
    np.testing.assert_allclose(coef2, coef, atol=1e-10)
    # perturbed warm start converges to the same point
    coef3, b3, _ = p.solve_weighted(v, coef_init=coef + 5.0)
    np.testing.assert_allclose(coef3, coef, atol=1e-9)
    assert abs(b3 - b) <= 1e-9


def test_lasso_zero_weight_samples_are_ignored(diabetes):
    X, y = diabetes
    v = _random_v(len(y), 4)
    p = LassoProblem(X, y, alpha=0.3)
    coef, b, _ = p.solve_weighted(v)
    y2 = y.copy()
    y2[v == 0] = 1e6  # garbage on the excluded samples changes nothing
    coef2, b2, _ = LassoProblem(X, y2, alpha=0.3).solve_weighted(v)
    np.testing.assert_allclose(coef2, coef, atol=1e-9)
    assert abs(b2 - b) <= 1e-9


def test_lasso_objective_and_latent(diabetes):
    X, y = diabetes
    p = LassoProblem(X, y / y.std(), alpha=0.05)
    coef, b, _ = p.solve_weighted(np.ones(len(y)))
    for name in ["hard", "linear", "log", "mixture", "polynomial"]:
        reg = get_regularizer(name)
        age = 0.4
        v = reg.v_star(p.losses(coef, b), age)
        obj = p.objective(coef, b, v, age, reg)
        lat = p.latent_objective(coef, b, age, reg)
        assert obj == pytest.approx(lat, rel=1e-12, abs=1e-12)
        # any other v gives a larger biconvex objective
        assert p.objective(coef, b, np.clip(v + 0.1, 0, 1), age, reg) >= lat - 1e-12


@pytest.mark.parametrize("nnz", [0, 1, 4, 5, 10])
def test_lasso_residuals_from_the_nonzero_columns(diabetes, nnz):
    """Residuals and losses of a sparse w (fewer than half of the features nonzero:
    computed from those columns only) equal ``y - X w - b``; a dense w goes through
    the plain product."""
    X, y = diabetes
    p = LassoProblem(X, y, alpha=0.1)
    rng = np.random.default_rng(nnz)
    coef = np.zeros(X.shape[1])
    coef[rng.choice(X.shape[1], nnz, replace=False)] = rng.standard_normal(nnz)
    np.testing.assert_allclose(
        p.residuals(coef, 0.3), y - X @ coef - 0.3, rtol=1e-13, atol=1e-13
    )
    np.testing.assert_allclose(
        p.losses(coef, -1.0), 0.5 * (y - X @ coef + 1.0) ** 2, rtol=1e-13, atol=1e-13
    )


def test_lasso_all_zero_v_raises(diabetes):
    X, y = diabetes
    p = LassoProblem(X, y)
    with pytest.raises(ValueError, match="effective weights"):
        p.solve_weighted(np.zeros(len(y)))


def test_lasso_numba_kernel_is_compiled(diabetes):
    from gaga._cd import weighted_lasso_cd

    X, y = diabetes
    LassoProblem(X, y).solve_weighted(np.ones(len(y)))
    assert len(weighted_lasso_cd.signatures) >= 1


# --------------------------------------------------------------------------- SVM


def _svc_reference(p, X, y, v, kernel, tol=1e-10):
    m = v > 0
    svc = SVC(C=p.C, kernel=kernel, gamma=p.gamma_, tol=tol, shrinking=False)
    svc.fit(X[m], y[m], sample_weight=(p.sample_weight * v)[m])
    a = np.zeros(len(y))
    a_m = np.zeros(int(m.sum()))
    a_m[svc.support_] = np.abs(svc.dual_coef_[0])  # support_ indexes X[m]
    a[m] = a_m
    return svc, a, float(svc.intercept_[0])


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
@pytest.mark.parametrize("zeros", [False, True])
def test_svm_equals_svc(cancer, kernel, zeros):
    X, y = cancer
    p = SVMProblem(X, y, C=1.0, kernel=kernel)
    v = _random_v(len(y), 5) if zeros else np.ones(len(y))
    a, b, info = p.solve_weighted(v)
    assert info["converged"]
    svc, a_sk, b_sk = _svc_reference(p, X, y, v, kernel)
    f = p.decision_function(X, a, b)
    f_sk = svc.decision_function(X)
    # libsvm caches the kernel in float32 (Qfloat), which limits SVC's own accuracy to
    # about 1e-7 relative: compare relative to the decision-value scale, then check that
    # our solution is at least as good as SVC's on the same (dual) problem.
    scale = max(1.0, np.abs(f_sk).max())
    assert np.abs(f - f_sk).max() <= 1e-6 * scale
    assert np.all(np.sign(f[np.abs(f_sk) > 1e-3]) == np.sign(f_sk[np.abs(f_sk) > 1e-3]))
    assert p.dual_objective(a) >= p.dual_objective(a_sk) - 1e-10
    assert p.primal_objective(a, b, v) <= p.primal_objective(a_sk, b_sk, v) + 1e-9
    # feasibility
    box = p.box(v)
    assert np.all(a >= 0) and np.all(a <= box + 1e-15)
    assert abs(p.y_pm @ a) <= 1e-12 * max(1.0, a.sum())
    assert np.all(a[v == 0] == 0)
    # predicted classes follow sklearn's label convention
    pos = p.classes_[1]
    assert np.all((f > 0) == (svc.predict(X) == pos))


def test_svm_rbf_decision_function_1e6(cancer):
    X, y = cancer
    p = SVMProblem(X, y, C=1.0, kernel="rbf")
    a, b, _ = p.solve_weighted(np.ones(len(y)))
    svc = SVC(C=1.0, kernel="rbf", tol=1e-10).fit(X, y)
    assert np.abs(p.decision_function(X, a, b) - svc.decision_function(X)).max() <= 1e-6


def test_svm_linear_coef(cancer):
    X, y = cancer
    p = SVMProblem(X, y, C=0.5, kernel="linear")
    a, b, _ = p.solve_weighted(np.ones(len(y)))
    w = p.coef(a)
    np.testing.assert_allclose(X @ w + b, p.decision_function(X, a, b), atol=1e-10)
    assert 0.5 * w @ w == pytest.approx(0.5 * a @ p.Q @ a, rel=1e-10)
    with pytest.raises(ValueError, match="kernel='linear'"):
        SVMProblem(X, y, kernel="rbf").coef(a)


@pytest.mark.parametrize("kernel", ["linear", "rbf", "poly"])
def test_svm_warm_start_same_answer(cancer, kernel):
    X, y = cancer
    p = SVMProblem(X, y, C=2.0, kernel=kernel, degree=2)
    v1 = _random_v(len(y), 6)
    v2 = _random_v(len(y), 7)
    a1, b1, _ = p.solve_weighted(v1)
    a_cold, b_cold, _ = p.solve_weighted(v2)
    a_warm, b_warm, _ = p.solve_weighted(v2, a_init=a1)
    f_cold = p.decision_function_train(a_cold, b_cold)
    f_warm = p.decision_function_train(a_warm, b_warm)
    assert np.abs(f_cold - f_warm).max() <= 1e-7
    assert p.dual_objective(a_warm) == pytest.approx(p.dual_objective(a_cold), abs=1e-9)
    assert np.all(a_warm[v2 == 0] == 0)


@pytest.mark.parametrize("reg", ["linear", "mixture"])
def test_svm_acs_step_equals_cold_solves(cancer, monkeypatch, reg):
    """Alternate convex search warm-starts each weighted solve from the last solution:
    the free set's exact step with the moved bounds (``_acs_step``, its gradient
    updated from the last ``Q a``) reaches the solution of a cold solve and of the
    warm start it replaces."""
    X, y = cancer
    p = SVMProblem(X, y, C=1.0, kernel="rbf")
    r = get_regularizer(reg)
    age = 1.5
    calls = []
    step = SVMProblem._acs_step

    def spy(self, a_init, Cb):
        got = step(self, a_init, Cb)
        calls.append(got is not None)
        return got

    monkeypatch.setattr(SVMProblem, "_acs_step", spy)
    a, b, _ = p.solve_weighted(np.ones(len(y)))
    plain = SVMProblem(X, y, C=1.0, kernel="rbf")
    plain._acs_step = lambda a_init, Cb: None
    for _ in range(10):
        v = np.asarray(r.v_star(p.losses(a, b), age), dtype=float)
        a, b, info = p.solve_weighted(v, a_init=a)
        assert info["converged"]
        a_cold, b_cold, _ = SVMProblem(X, y, C=1.0, kernel="rbf").solve_weighted(v)
        f, f_cold = (
            p.decision_function_train(a, b),
            p.decision_function_train(a_cold, b_cold),
        )
        assert np.abs(f - f_cold).max() <= 1e-7
        assert p.dual_objective(a) == pytest.approx(p.dual_objective(a_cold), abs=1e-9)
        assert abs(float(p.y_pm @ a)) <= 1e-12 * a.sum()
        assert np.all((a >= 0) & (a <= p.box(v)))
        # the warm start without the step, from the same point
        plain._last_solves, plain._Qa_cache = p._last_solves[1:], None
        a_w, b_w, _ = plain.solve_weighted(v, a_init=p._last_solves[1][0])
        assert np.abs(a_w - a).max() <= 1e-9
        # the gradient the step carried over is Q a - 1 of its result
        np.testing.assert_allclose(p._Qa_cache[1], p.Q @ a, rtol=0, atol=1e-10)
    # (the first ACS steps move the box too far: the warm start takes them)
    assert sum(calls) >= 5, calls


def test_svm_polish_limit_grows_with_the_smo_work():
    """The free set of the Newton step between SMO chunks: up to 200 samples at
    first, then as large as the SMO work already spent pays for (an LU costs f^3, a
    pair update n), never above the direct solve's limit."""
    from gaga.problems import _FREE_STEP_MAX, _polish_limit

    limits = [_polish_limit(i, 2000) for i in range(0, 20001, 50)]
    assert limits[0] == 200 and limits[1] == 200
    assert all(b >= a for a, b in zip(limits, limits[1:]))
    assert limits[-1] == _FREE_STEP_MAX
    # the same work buys a cube-root larger step: 8 times the pairs, twice the set
    assert _polish_limit(60, 2000) == 200
    assert 399 <= _polish_limit(480, 2000) <= 400
    # pair updates are O(n): on fewer samples the same count buys a smaller step
    assert _polish_limit(480, 250) == 200


def _low_rank_problem(seed, n=200, C=10.0):
    """A linear kernel on features with an affine dependence (x_5 = 1 - x_0 - x_1 -
    x_2: the rows (x_i, 1) have rank 5), and weights v below 1 for one class: free
    sets of rank + 1 samples make the free-set saddle matrix singular."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 6))
    X[:, 5] = 1.0 - X[:, 0] - X[:, 1] - X[:, 2]
    y = np.where(X @ rng.standard_normal(6) + rng.standard_normal(n) > 0, 1, 0)
    v = np.clip(1 - rng.uniform(0, 1.5, n) * (1 - 0.5 * y), 0, 1)
    return SVMProblem(X, y, kernel="linear", C=C), X, y, v


def test_svm_null_step_keeps_the_dual_feasible_and_shrinks_the_free_set():
    """Where the free set's saddle matrix [[Q_FF, y_F], [y_F^T, 0]] is singular (7
    free samples, rank 6, the constant in the features' span), a null step moves the
    free multipliers along its null direction to a bound: the point stays feasible
    (box, y^T a), the dual objective does not rise, the free set loses a sample and
    the gradient stays Q a - 1."""
    from gaga.problems import _free_saddle, _lu_nonsingular, _null_steps

    for seed in range(6):
        p, X, y, v = _low_rank_problem(seed)
        cb = np.full(len(y), p.C)
        rng = np.random.default_rng(seed)
        neg = rng.choice(np.flatnonzero(y == 0), size=3, replace=False)
        pos = rng.choice(np.flatnonzero(y == 1), size=4, replace=False)
        F = np.sort(np.concatenate([neg, pos]))
        a = np.zeros(len(y))
        a[F] = rng.uniform(0.3, 0.7, F.size) * p.C
        yF = p.y_pm[F]
        a[F] -= yF * (yF @ a[F]) / F.size  # y^T a = 0, inside the box
        assert np.all((a[F] > 0) & (a[F] < cb[F]))
        A = _free_saddle(p.Q, p.y_pm, F)
        assert _lu_nonsingular(A) is None
        G = p.Q @ a - 1.0
        before = p.dual_objective(a)
        assert _null_steps(p.Q, p.y_pm, cb, a, G, F, A)
        assert np.all((a >= 0) & (a <= cb))
        assert abs(p.y_pm @ a) <= 1e-12 * max(1.0, a.sum())
        assert p.dual_objective(a) >= before - 1e-12 * max(1.0, abs(before))
        assert np.flatnonzero((a > 0) & (a < cb)).size == F.size - 1
        np.testing.assert_allclose(G, p.Q @ a - 1.0, rtol=0, atol=1e-12)


def test_svm_low_rank_kernel_solves_with_null_steps(monkeypatch):
    """On a low-rank kernel (linear, affinely dependent features) the weighted solve
    with null steps gives the same decision function as without them, or as SVC, and
    needs fewer SMO pair updates than SMO with the Newton step alone (which stalls on
    singular free sets: credit_data, linear kernel, hundreds of thousands)."""
    import gaga.problems as gp

    iters = {True: 0, False: 0}
    for seed in range(8):
        p, X, y, v = _low_rank_problem(seed)
        if not (np.any(v[y == 1] > 0) and np.any(v[y == 0] > 0)):
            continue
        a0, _, _ = p.solve_weighted(np.ones(len(y)))
        f = {}
        for on in (True, False):
            monkeypatch.setattr(gp, "_NULL_FREE_MAX", 200 if on else 0)
            p._last_solves = []
            a, b, info = p.solve_weighted(v, a_init=a0)
            assert info["converged"]
            iters[on] += info["n_iter"]
            f[on] = p.decision_function(X, a, b)
        np.testing.assert_allclose(f[True], f[False], rtol=0, atol=1e-8)
        # at least as good as SVC's solution of the same dual (whose float32 kernel
        # cache limits it to ~1e-6 here)
        _, a_sk, _ = _svc_reference(p, X, y, v, "linear")
        assert p.dual_objective(a) >= p.dual_objective(a_sk) - 1e-10
    assert iters[True] < iters[False]


@pytest.mark.parametrize("C", [0.1, 1.0, 10.0])
def test_svm_constant_optimum_is_a_certified_vertex(C):
    """The constant classifier's dual point (a feasibility LP) is optimal: y^T a = 0,
    sum a_i y_i x_i = 0, in the box, dual value = primal value 2 C n_pos at (w, b) =
    (0, -1), every negative on the margin, at most d + 1 multipliers inside their box
    (a vertex); for every C (the condition scales with C). None where the constant
    classifier is not optimal (separated classes) or the class totals tie."""
    from gaga.problems import _constant_optimum

    X, y = constant_classifier_data()
    p = SVMProblem(X, y, C=C, kernel="linear")
    cb = p.C * p.sample_weight
    a, b = _constant_optimum(p.X, p.y_pm, cb)
    assert b == -1.0
    assert np.all(a >= 0.0) and np.all(a <= cb)
    assert abs(p.y_pm @ a) <= 1e-9 * C * len(y)
    assert np.max(np.abs((a * p.y_pm) @ X)) <= 1e-9 * C * len(y)
    npos = int(np.sum(y == 1))
    np.testing.assert_array_equal(a[y == 1], cb[y == 1])
    assert p.dual_objective(a) == pytest.approx(2.0 * C * npos, rel=1e-9)
    inside = np.sum((a > 1e-12 * C) & (a < cb - 1e-12 * C))
    assert inside <= X.shape[1] + 1
    # a plain solve reaches the same optimum value
    a2, b2, info = p.solve_weighted(np.ones(len(y)))
    assert info["converged"]
    assert p.dual_objective(a2) == pytest.approx(2.0 * C * npos, rel=1e-9)
    assert b2 == pytest.approx(-1.0, abs=1e-9)
    # separated classes: the constant classifier is not optimal
    Xs = X + 3.0 * (y[:, None] - 0.5)
    ps = SVMProblem(Xs, y, C=C, kernel="linear")
    assert _constant_optimum(ps.X, ps.y_pm, ps.C * ps.sample_weight) is None
    # equal class totals: b is not unique there, no answer
    w = np.where(y == 1, (len(y) - npos) / npos, 1.0)
    assert _constant_optimum(p.X, p.y_pm, C * w) is None


def test_svm_linear_solve_finishes_from_the_constant_optimum(monkeypatch):
    """The weighted solve of a linear kernel checks the constant classifier once its
    SMO has run _CONSTANT_CHECK_PAIRS * n pair updates (mlc_churn: 10^7 updates
    without reaching it); forced at once, the solve goes on from the LP's vertex and
    returns the same optimum as SMO alone, converged, with fewer pair updates."""
    import gaga.problems as gp

    X, y = constant_classifier_data(n=400, d=5, seed=1)
    v = np.ones(len(y))
    v[y == 1] = np.linspace(0.3, 1.0, int(np.sum(y == 1)))
    got = {}
    real = gp._constant_optimum
    for pairs in (0, 10**9):
        monkeypatch.setattr(gp, "_CONSTANT_CHECK_PAIRS", pairs)
        p = SVMProblem(X, y, kernel="linear")
        calls = []
        monkeypatch.setattr(
            gp, "_constant_optimum", lambda *a: calls.append(1) or real(*a)
        )
        a, b, info = p.solve_weighted(v)
        assert info["converged"]
        got[pairs] = (p.dual_objective(a), b, info["n_iter"], len(calls))
    (f0, b0, it0, c0), (f1, b1, it1, c1) = got[0], got[10**9]
    assert (c0, c1) == (1, 0)
    # shifted classes: the constant classifier is not optimal, and the iterate's
    # primal value is below its value when the forced check comes (after the first
    # SMO chunk, _POLISH_EVERY pair updates), so no LP runs
    monkeypatch.setattr(gp, "_CONSTANT_CHECK_PAIRS", 0)
    calls.clear()
    ps = SVMProblem(X + 1.0 * (y[:, None] - 0.5), y, kernel="linear")
    assert real(ps.X, ps.y_pm, ps.box(v)) is None
    info = ps.solve_weighted(v)[2]
    assert info["converged"] and info["n_iter"] > gp._POLISH_EVERY
    assert calls == []
    assert f0 == pytest.approx(f1, rel=1e-12)
    assert b0 == pytest.approx(-1.0, abs=1e-10) and b1 == pytest.approx(-1.0, abs=1e-9)
    assert it0 < it1


def test_svm_margins_losses_objective(cancer):
    X, y = cancer
    p = SVMProblem(X, y, C=1.0)
    a, b, _ = p.solve_weighted(np.ones(len(y)))
    f = p.decision_function_train(a, b)
    np.testing.assert_allclose(p.margins(a, b), p.y_pm * f, atol=1e-10)
    hinge = np.maximum(0, 1 - p.y_pm * f)
    np.testing.assert_allclose(p.losses(a, b), hinge, atol=1e-10)
    reg = get_regularizer("linear")
    age = 0.5
    v = reg.v_star(p.losses(a, b), age)
    assert p.objective(a, b, v, age, reg) == pytest.approx(
        p.latent_objective(a, b, age, reg), rel=1e-12
    )
    # strong duality at the optimum of the weighted problem
    assert p.primal_objective(a, b, np.ones(len(y))) == pytest.approx(
        p.dual_objective(a), rel=1e-8
    )


def test_svm_labels_and_classes():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = np.where(X[:, 0] + 0.3 * rng.standard_normal(40) > 0, "yes", "no")
    p = SVMProblem(X, y, kernel="linear")
    assert list(p.classes_) == ["no", "yes"]
    np.testing.assert_array_equal(p.y_pm, np.where(y == "yes", 1.0, -1.0))
    a, b, _ = p.solve_weighted(np.ones(40))
    svc = SVC(kernel="linear", tol=1e-10).fit(X, y)
    f_sk = svc.decision_function(X)
    assert np.abs(p.decision_function(X, a, b) - f_sk).max() <= 1e-6 * max(
        1, np.abs(f_sk).max()
    )


def test_svm_gamma_and_precomputed(cancer):
    X, y = cancer
    X = X[:120]
    y = y[:120]
    p = SVMProblem(X, y, kernel="rbf", gamma="scale")
    assert p.gamma_ == pytest.approx(1.0 / (X.shape[1] * X.var()))
    assert SVMProblem(X, y, kernel="rbf", gamma="auto").gamma_ == 1.0 / X.shape[1]
    p_lin = SVMProblem(X, y, kernel="linear")
    p_pre = SVMProblem(X @ X.T, y, kernel="precomputed")
    a1, b1, _ = p_lin.solve_weighted(np.ones(120))
    a2, b2, _ = p_pre.solve_weighted(np.ones(120))
    f1 = p_lin.decision_function(X[:10], a1, b1)
    f2 = p_pre.decision_function(X[:10] @ X.T, a2, b2)
    np.testing.assert_allclose(f1, f2, atol=1e-8)
    with pytest.raises(ValueError, match="square"):
        SVMProblem(X[:, :5], y, kernel="precomputed")
    K_bad = np.eye(120)
    K_bad[0, 1] = K_bad[1, 0] = 5.0
    with pytest.raises(ValueError, match="positive semidefinite"):
        SVMProblem(K_bad, y, kernel="precomputed")


def test_svm_one_class_among_positive_v_raises(cancer):
    X, y = cancer
    p = SVMProblem(X, y)
    v = (p.y_pm > 0).astype(float)
    with pytest.raises(ValueError, match="both classes"):
        p.solve_weighted(v)


# --------------------------------------------------------------------------- bad input


def _small():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 3))
    y = rng.standard_normal(10)
    return X, y, (y > 0).astype(int)


@pytest.mark.parametrize("cls", [LassoProblem, SVMProblem])
def test_bad_input_names_parameter(cls):
    X, yr, yc = _small()
    y = yr if cls is LassoProblem else yc
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        cls(Xn, y)
    Xi = X.copy()
    Xi[2, 1] = np.inf
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite"):
        cls(Xi, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        cls(X, y[:-1])
    with pytest.raises(ValueError, match="n_samples=1"):
        cls(X[:1], y[:1])
    sw = np.ones(10)
    sw[3] = -1.0
    with pytest.raises(ValueError, match=r"sample_weight must be nonnegative.*-1\.0"):
        cls(X, y, sample_weight=sw)
    with pytest.raises(ValueError, match="sample_weight is all zero"):
        cls(X, y, sample_weight=np.zeros(10))
    with pytest.raises(ValueError, match="sample_weight has shape"):
        cls(X, y, sample_weight=np.ones(9))
    with pytest.raises(TypeError, match="not supported yet"):
        cls(sp.csr_matrix(X), y)


def test_bad_input_lasso_alpha_and_y():
    X, y, _ = _small()
    for alpha in [0.0, -1.0, np.nan]:
        with pytest.raises(ValueError, match=f"alpha={alpha!r}"):
            LassoProblem(X, y, alpha=alpha)
    y2 = y.copy()
    y2[0] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        LassoProblem(X, y2)


def test_bad_input_svm():
    X, _, y = _small()
    for C in [0.0, -2.0]:
        with pytest.raises(ValueError, match=f"C={C!r}"):
            SVMProblem(X, y, C=C)
    with pytest.raises(ValueError, match="exactly 2 classes.*got 1"):
        SVMProblem(X, np.ones(10))
    with pytest.raises(ValueError, match="exactly 2 classes.*got 3"):
        SVMProblem(X, np.arange(10) % 3)
    with pytest.raises(ValueError, match="kernel='cubic'"):
        SVMProblem(X, y, kernel="cubic")
    with pytest.raises(ValueError, match="gamma=-1.0"):
        SVMProblem(X, y, gamma=-1.0)
    with pytest.raises(ValueError, match="gamma='big'"):
        SVMProblem(X, y, gamma="big")
    with pytest.raises(ValueError, match="v must lie in"):
        SVMProblem(X, y).solve_weighted(np.full(10, 1.5))


def test_svm_predict_and_sigmoid(cancer):
    X, y = cancer
    p = SVMProblem(X[:100], y[:100], kernel="sigmoid", gamma=0.01)
    a, b, info = p.solve_weighted(np.ones(100))
    assert info["converged"]
    pred = p.predict(X[:100], a, b)
    f = p.decision_function(X[:100], a, b)
    np.testing.assert_array_equal(pred, np.where(f > 0, p.classes_[1], p.classes_[0]))


def test_lasso_stopping_is_scale_invariant(diabetes):
    X, y = diabetes
    iters = []
    for scale in [1e-6, 1.0, 1e6]:
        p = LassoProblem(X, y * scale, alpha=0.1 * scale)
        coef, b, info = p.solve_weighted(np.ones(len(y)))
        assert info["converged"] and info["rel_gap"] <= 1e-12
        iters.append(info["n_iter"])
    assert max(iters) - min(iters) <= 20


def test_svm_sample_weight_times_v_equals_svc(cancer):
    X, y = cancer
    s = np.random.default_rng(8).uniform(0.2, 3.0, len(y))
    v = _random_v(len(y), 9)
    p = SVMProblem(X, y, C=0.7, kernel="rbf", sample_weight=s)
    a, b, _ = p.solve_weighted(v)
    assert np.all(a <= 0.7 * s * v + 1e-15)
    svc, a_sk, b_sk = _svc_reference(p, X, y, v, "rbf")
    f_sk = svc.decision_function(X)
    assert np.abs(p.decision_function(X, a, b) - f_sk).max() <= 1e-6 * max(
        1.0, np.abs(f_sk).max()
    )
    assert p.primal_objective(a, b, v) <= p.primal_objective(a_sk, b_sk, v) + 1e-9


@pytest.mark.cvxpy
@pytest.mark.parametrize("seed", range(4))
def test_weighted_solvers_match_cvxpy_on_random_problems(seed):
    from gaga.verify import cvxpy_gap, kkt_residual

    rng = np.random.default_rng(seed)
    n, d = 60, 5
    X = rng.standard_normal((n, d)) * rng.uniform(0.1, 3.0, d)
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    s = rng.uniform(0.5, 2.0, n)
    v = _random_v(n, seed + 100, zero_frac=0.3)
    p = LassoProblem(X, y, alpha=rng.uniform(0.01, 0.5), sample_weight=s)
    coef, b, _ = p.solve_weighted(v)
    gap, status, _, _ = cvxpy_gap(p, coef, b, v)
    assert status == "optimal" and abs(gap) <= 1e-8
    assert kkt_residual(p, coef, b, v) <= 1e-10
    labels = np.where(y + rng.standard_normal(n) > np.median(y), 1, -1)
    for kernel in ["linear", "rbf", "poly"]:
        q = SVMProblem(X, labels, C=rng.uniform(0.5, 5), kernel=kernel, sample_weight=s)
        a, b, _ = q.solve_weighted(v)
        gap, status, _, _ = cvxpy_gap(q, a, b, v)
        assert status == "optimal" and abs(gap) <= 1e-7, (kernel, gap)
        assert kkt_residual(q, a, b, v) <= 1e-9


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_lasso_gram_cd_equals_data_cd(fit_intercept, monkeypatch):
    """Tall, strongly correlated data need many CD epochs: after _GRAM_AFTER epochs on
    the data the solver switches to CD on the Gram matrix. Same solution (and the same
    stopping rule) as CD on the data all the way, and sklearn's Lasso at v = 1."""
    import gaga.problems as P

    rng = np.random.default_rng(0)
    n, d = 3000, 12
    base = rng.standard_normal((n, 1))
    X = base + 0.05 * rng.standard_normal((n, d))  # pairwise correlation ~0.998
    y = X[:, :3] @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(n)
    v = rng.uniform(0.2, 1.0, n) * (rng.random(n) < 0.8)
    prob = LassoProblem(X, y, alpha=1e-3, fit_intercept=fit_intercept)
    out = {}
    after0 = P._GRAM_AFTER
    for after in (after0, 10**9):
        monkeypatch.setattr(P, "_GRAM_AFTER", after)
        coef, b, info = prob.solve_weighted(v)
        assert info["converged"] and info["rel_gap"] <= 1e-12
        out[after] = (coef, b, info["n_iter"])
    (c1, b1, it1), (c2, b2, it2) = out.values()
    assert it1 == it2 > after0  # the switch happened (same CD iterates after it)
    np.testing.assert_allclose(c1, c2, rtol=0, atol=1e-9)
    assert abs(b1 - b2) <= 1e-9
    monkeypatch.setattr(P, "_GRAM_AFTER", after0)
    coef, b, _ = prob.solve_weighted(np.ones(n))
    sk = Lasso(alpha=1e-3, fit_intercept=fit_intercept, tol=1e-14, max_iter=10**6)
    sk.fit(X, y)
    np.testing.assert_allclose(coef, sk.coef_, rtol=0, atol=1e-7)
