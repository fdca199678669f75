"""The exact self-paced SVM age path (issue 4): certificates, agreement with ACS, ties,
separable data, bad input."""

import warnings

import numpy as np
import pytest
from _spl_cases import constant_classifier_data
from sklearn.datasets import load_breast_cancer, make_blobs, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from gaga import AgePath, acs, age_path_svm
from gaga.datasets import flip_labels
from gaga.regularizers import (
    CustomRegularizer,
    Hard,
    Linear,
    Logarithmic,
    Mixture,
    Polynomial,
)


def _custom():
    # polynomial t = 1.5 written out by hand, as a user would
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
    "logarithmic": Logarithmic,
    "mixture": Mixture,
    "polynomial": Polynomial,
    "custom": _custom,
}


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(y))[:70]
    return StandardScaler().fit_transform(X[idx]), y[idx]


@pytest.fixture(scope="module")
def flipped():
    """Synthetic data with 20 % of the labels flipped near a linear SVM's boundary
    (the noise model of the paper's experiments)."""
    X, y = make_classification(
        n_samples=70, n_features=5, n_informative=3, random_state=1
    )
    X = StandardScaler().fit_transform(X)
    y_noisy, flipped = flip_labels(X, y, 0.2, random_state=0)
    assert flipped.sum() > 0
    return X, y_noisy


def _check_certificates(path, n_random=50, seed=0, use_cvxpy=True):
    rng = np.random.default_rng(seed)
    ages = rng.uniform(path.age_min, path.age_max, n_random)
    certs = path.certify(ages=ages, use_cvxpy=use_cvxpy)
    assert len(certs) >= len(set(path.breakpoints))
    for c in certs:
        assert c.kkt_residual <= 1e-7, c.summary()
        assert c.v_residual <= 1e-7, c.summary()
        if use_cvxpy:
            assert abs(c.cvxpy_gap) <= 1e-6, c.summary()
    return certs


@pytest.mark.parametrize("name", list(REGS))
def test_certified_rbf_breast_cancer(cancer, name):
    X, y = cancer
    reg = REGS[name]()
    path = age_path_svm(X, y, regularizer=reg, kernel="rbf")
    assert isinstance(path, AgePath)
    assert path.n_events > 0
    assert path.knots[-1] == path.age_max
    _check_certificates(path, n_random=50 if name in ("linear", "mixture") else 15)


@pytest.mark.parametrize("name", ["linear", "mixture", "hard"])
def test_certified_flipped_labels(flipped, name):
    X, y = flipped
    path = age_path_svm(X, y, regularizer=REGS[name](), kernel="rbf", C=2.0)
    assert any(e.kind == "sample" or e.jump for e in path.events)
    _check_certificates(path, n_random=20)


@pytest.mark.parametrize("name", ["linear", "mixture"])
def test_certified_linear_kernel(flipped, name):
    X, y = flipped
    path = age_path_svm(X, y, regularizer=REGS[name](), kernel="linear")
    _check_certificates(path, n_random=20)
    # the primal weights are the dual combination of the samples
    a = path.age_min + 0.37 * (path.age_max - path.age_min)
    np.testing.assert_allclose(
        path.coef(a), path.dual_coef(a) @ X, rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        path.decision_function(X, a),
        X @ path.coef(a) + path.intercept(a),
        atol=1e-10,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hard", "logarithmic", "polynomial", "custom"])
def test_certified_flipped_labels_all_regularizers(flipped, name):
    X, y = flipped
    path = age_path_svm(X, y, regularizer=REGS[name](), kernel="rbf")
    _check_certificates(path, n_random=50)


def test_dense_output_matches_weighted_svm(flipped):
    """Between knots the path is the weighted SVM at its own weights: the dual solved
    independently by our SMO at v(age) gives the same decision values."""
    X, y = flipped
    path = age_path_svm(X, y, regularizer="linear")
    prob = path.problem
    for a in np.linspace(path.age_min, path.age_max, 9):
        v = path.weights(a)
        a_ref, b_ref, info = prob.solve_weighted(v, tol=1e-12)
        assert info["converged"]
        np.testing.assert_allclose(
            path.decision_function(X, a),
            prob.decision_function(X, a_ref, b_ref),
            atol=1e-7,
        )


def test_agrees_with_acs_from_the_path(flipped):
    """ACS started at a path point stays there (a stable partial optimum); from a
    perturbed start it returns to it, or to a point with objective no lower."""
    X, y = flipped
    reg = Linear()
    path = age_path_svm(X, y, regularizer=reg)
    prob = path.problem
    rng = np.random.default_rng(0)
    differ = 0
    for a in rng.uniform(path.age_min, path.age_max, 8):
        dual = np.abs(path.dual_coef(a))
        b = path.intercept(a)
        res = acs(prob, reg, a, coef_init=dual, intercept_init=b, tol=1e-12)
        np.testing.assert_allclose(
            prob.decision_function(X, res.dual_coef, res.intercept),
            path.decision_function(X, a),
            atol=1e-7,
        )
        start = np.clip(dual + 1e-3 * rng.standard_normal(dual.shape), 0, None)
        res2 = acs(prob, reg, a, coef_init=start, intercept_init=b, tol=1e-12)
        f_path = float(path.objective(a))
        f_acs = prob.latent_objective(res2.dual_coef, res2.intercept, a, reg)
        if abs(f_acs - f_path) > 1e-8 * max(1.0, abs(f_path)):
            differ += 1
            assert f_path <= f_acs + 1e-8 * max(1.0, abs(f_path))
    assert differ <= 2


def test_duplicated_rows_terminate_and_certify(cancer):
    """Duplicated samples (twins) share the margin only through one member: no
    singular system, no run of jumps."""
    X, y = cancer
    Xd = np.vstack([X, X[:15]])
    yd = np.concatenate([y, y[:15]])
    path = age_path_svm(Xd, yd, regularizer="linear", max_events=500)
    assert path.n_events < 200
    assert path.age_max == pytest.approx(
        age_path_svm(Xd, yd, regularizer="linear", max_events=500).age_max
    )
    _check_certificates(path, n_random=10)
    # a twin pair has the same decision value and the same weight
    v = path.weights(path.age_min + 0.5 * (path.age_max - path.age_min))
    np.testing.assert_allclose(v[:15], v[70:], atol=1e-9)


def test_iris_twins_on_the_margin():
    """Iris (standardized), class 1 against the rest: rows 101 and 142 are identical and
    both on the margin of the v = 1 fit."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    path = age_path_svm(X, (y == 1).astype(int), max_events=400)
    assert path.n_events < 150
    assert len(path.jumps) < 30


def test_separable_set():
    X, y = make_blobs(
        n_samples=40, centers=[[-4, 0], [4, 0]], cluster_std=0.5, random_state=0
    )
    path = age_path_svm(X, y, kernel="linear", regularizer="linear")
    # nobody violates the margin: v = 1 throughout and no sample event
    assert all(e.kind != "sample" for e in path.events)
    for a in np.linspace(path.age_min, path.age_max, 5):
        np.testing.assert_array_equal(path.weights(a), 1.0)
        assert np.all(path.predict(X, a) == y)
    _check_certificates(path, n_random=5)


def test_labels_of_any_two_values_and_shapes(flipped):
    X, y = flipped
    labels = np.where(y == 1, "spam", "ham")
    path = age_path_svm(X, labels, regularizer="mixture")
    ages = np.linspace(path.age_min, path.age_max, 4)
    assert path.dual_coef(ages).shape == (4, X.shape[0])
    assert path.decision_function(X[:5], ages).shape == (4, 5)
    assert path.weights(ages).shape == (4, X.shape[0])
    assert path.intercept(ages).shape == (4,)
    pred = path.predict(X, ages[-1])
    assert set(np.unique(pred)) <= {"ham", "spam"}
    with pytest.raises(ValueError, match="linear"):
        path.coef(ages[0])


def test_sample_weight_two_equals_duplicated_rows(cancer):
    X, y = cancer
    Xd = np.vstack([X, X[:20]])
    yd = np.concatenate([y, y[:20]])
    sw = np.ones(len(y))
    sw[:20] = 2.0
    kw = dict(regularizer="linear", age_min=0.8, age_max=30.0, gamma=0.05)
    p_dup = age_path_svm(Xd, yd, **kw)
    p_w = age_path_svm(X, y, sample_weight=sw, **kw)
    for a in np.linspace(0.8, 30.0, 13):
        np.testing.assert_allclose(
            p_dup.decision_function(X, a), p_w.decision_function(X, a), atol=1e-7
        )


@pytest.mark.parametrize("reg", ["linear", "mixture"])
def test_precomputed_kernel_equals_linear(flipped, reg):
    """The linear kernel follows the primal-reduced system (d + 1 + |E| unknowns); a
    precomputed Gram matrix follows the dual one (|E| + |M| + 1): same path."""
    from gaga._svm_path import _SVMPrimalSystem, _SVMSystem

    X, y = flipped
    p_lin = age_path_svm(X, y, kernel="linear", regularizer=reg)
    assert type(p_lin._system) is _SVMPrimalSystem
    p_pre = age_path_svm(
        X @ X.T,
        y,
        kernel="precomputed",
        regularizer=reg,
        age_min=p_lin.age_min,
        age_max=p_lin.age_max,
    )
    assert type(p_pre._system) is _SVMSystem
    assert [(e.kind, e.index, e.to_set) for e in p_pre.events] == [
        (e.kind, e.index, e.to_set) for e in p_lin.events
    ]
    np.testing.assert_allclose(p_pre.breakpoints, p_lin.breakpoints, rtol=1e-9)
    ages = np.linspace(p_lin.age_min, p_lin.age_max, 7)
    np.testing.assert_allclose(
        p_pre.decision_function(X @ X.T, ages),
        p_lin.decision_function(X, ages),
        atol=1e-7,
    )


def test_linear_kernel_points_hold_their_dual_margins():
    """The primal-reduced system's Newton stops at ||G|| <= gtol, which bounds the
    dual margins of its point only to ||x_i||_1 gtol (1.7e-10 here). The points the
    path returns are refined: a margin sample's y f(x) is 1 to rounding, and with the
    log regularizer at its default age_max (v* has a slope of -7e4 at loss 0) every
    point's v is v* of its losses (it was 4.9e-7 away at age_max)."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    path = age_path_svm(X, y, regularizer="log", kernel="linear")
    assert path.age_max == pytest.approx(1 - 1e-6)
    ypm = np.where(y == path.problem.classes_[1], 1.0, -1.0)
    rng = np.random.default_rng(0)
    ages = [path.age_min, *path.breakpoints, path.age_max]
    ages += list(rng.uniform(path.age_min, path.age_max, 10))
    for age in ages:
        a = ypm * path.dual_coef(age)
        box = path.weights(age)  # C = 1, unit sample weights
        on = (a > 1e-9) & (a < box - 1e-9)
        assert on.any()
        m = ypm * path.decision_function(X, age)
        assert np.max(np.abs(m[on] - 1.0)) <= 1e-12, age
    certs = path.certify(ages=ages, use_cvxpy=False)
    assert max(c.v_residual for c in certs) <= 1e-9
    assert max(c.kkt_residual for c in certs) <= 1e-10


def test_reproducible(flipped):
    X, y = flipped
    p1 = age_path_svm(X, y, regularizer="mixture")
    p2 = age_path_svm(X, y, regularizer="mixture")
    assert p1.events == p2.events
    np.testing.assert_array_equal(p1.knots, p2.knots)
    np.testing.assert_array_equal(p1.intercept_knots, p2.intercept_knots)


def test_max_events_warns_with_age_reached(flipped):
    X, y = flipped
    with pytest.warns(ConvergenceWarning, match="stopped at age="):
        path = age_path_svm(X, y, regularizer="linear", max_events=3)
    assert path.n_events <= 3
    assert path.age_max < age_path_svm(X, y, regularizer="linear").age_max


def test_bad_input(flipped):
    X, y = flipped
    with pytest.raises(ValueError, match="2 classes"):
        age_path_svm(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="2 classes"):
        age_path_svm(X, np.arange(len(y)) % 3)
    with pytest.raises(ValueError, match="C"):
        age_path_svm(X, y, C=0.0)
    with pytest.raises(ValueError, match="kernel"):
        age_path_svm(X, y, kernel="laplace")
    with pytest.raises(ValueError, match="age_min"):
        age_path_svm(X, y, age_min=2.0, age_max=1.0)
    with pytest.raises(ValueError, match="max_events"):
        age_path_svm(X, y, max_events=0)
    bad = np.ones((len(y), len(y)))
    bad[0, 0] = -5.0
    with pytest.raises(ValueError, match="positive semidefinite"):
        age_path_svm(bad, y, kernel="precomputed")
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        age_path_svm(Xn, y)
    path = age_path_svm(X, y, regularizer="linear")
    with pytest.raises(ValueError, match="outside the path's range"):
        path.dual_coef(path.age_max * 2)
    with pytest.raises(ValueError, match="shape"):
        path.decision_function(X[:, :2], path.age_min)


def test_one_class_left_at_age_min_is_a_clear_error():
    """A small class the v = 1 fit misclassifies entirely (hinge 2) is out at a small
    age with the hard regularizer: the weighted SVM would have one class."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (40, 1))
    y = np.zeros(40, dtype=int)
    y[rng.permutation(40)[:5]] = 1
    with pytest.raises(ValueError, match="both classes.*Choose a larger age_min"):
        age_path_svm(X, y, kernel="linear", regularizer="hard", age_min=0.5)


def test_default_range_that_never_starts_says_so():
    """With C = 0.1 the v = 1 fit leaves every sample of one class with a hinge loss
    above 1.3; the hard regularizer then drops that class at every start age of the
    default range (which ends at the largest loss). The user chose no age: the error
    says that the default range was tried and how to get a path, not 'choose a larger
    age_min' alone (helper-14's sweep of session 7)."""
    rng = np.random.default_rng(5030)
    X = rng.normal(size=(30, 10))
    w = rng.normal(size=10)
    s = X @ w
    s -= np.median(s)
    X += np.outer(np.sign(s), w / np.linalg.norm(w)) * 0.5
    y = np.where(s > 0, 1, -1)
    sw = rng.uniform(0.5, 2.0, 30)
    sw[rng.choice(30, 3, replace=False)] = 0.0
    with pytest.raises(ValueError, match="No start age in the default age range"):
        age_path_svm(X, y, regularizer="hard", C=0.1, sample_weight=sw)
    # what the message advises gives a path
    path = age_path_svm(
        X, y, regularizer="hard", C=0.1, sample_weight=sw, age_min=1.5, age_max=3.0
    )
    assert path.n_events == 0
    assert np.all(path.weights(2.0)[sw > 0] == 1.0)


def test_log_regularizer_on_large_hinge_losses_says_what_to_do():
    """Labels that are noise give most violators a hinge loss of 1 or more, which the
    logarithmic regularizer (ages below 1) never weights: the SVM's error names the
    regularizer's limit, not a rescaling of y (the Lasso's advice)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    y = (rng.random(60) < 0.5).astype(int)
    y[:8] = 1 - (X[:8, 0] > 0)
    with pytest.raises(ValueError, match="log regularizer") as info:
        age_path_svm(X, y, regularizer="log", kernel="linear")
    assert "rescale y" not in str(info.value)
    assert "choose a regularizer whose ages reach the hinge losses" in str(info.value)


def test_v1_fit_solved_once_and_its_stop_warns(cancer, monkeypatch):
    """The plain SVC that gives the default range and the start is solved once; when
    its solver stops at the iteration limit the path says so (ConvergenceWarning)."""
    from gaga.problems import SVMProblem

    X, y = cancer
    calls = []
    solve = SVMProblem.solve_weighted

    def counted(self, v, a_init=None, tol=1e-10, max_iter=None):
        out = solve(self, v, a_init, tol, max_iter)
        if a_init is None and np.all(np.asarray(v) == 1.0):
            calls.append(out[2])
            if len(calls) == 1 and stop[0]:
                out = (out[0], out[1], {**out[2], "converged": False})
        return out

    monkeypatch.setattr(SVMProblem, "solve_weighted", counted)
    stop = [False]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        age_path_svm(X, y, regularizer="linear")
    assert len(calls) == 1
    stop[0] = True
    calls.clear()
    with pytest.warns(ConvergenceWarning, match="plain SVC"):
        age_path_svm(X, y, regularizer="linear")


def test_degenerate_fold_does_not_loop():
    """A margin sample leaves at a_i = 0 into an unstable partition and ACS returns to
    (nearly) the same point just past the fold: the jump goes further past it instead
    of recording tiny jumps until max_events (a fold of a CV split of breast_cancer
    with flipped labels, found while writing the SVM gallery example)."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X, _, y, _ = train_test_split(X, y, train_size=200, stratify=y, random_state=0)
    X = StandardScaler().fit_transform(X)
    y, _ = flip_labels(X, y, 0.2, random_state=0)
    tr, _ = list(StratifiedKFold(4, shuffle=True, random_state=0).split(X, y))[2]
    path = age_path_svm(
        X[tr], y[tr], regularizer="linear", age_min=0.8802074104601151, age_max=210.8
    )
    assert path.age_max == 210.8
    assert len(path.jumps) <= 3
    _check_certificates(path, n_random=10, use_cvxpy=False)


def _bordered_system(X, y, reg="linear"):
    """The dual system of a path's problem with a partition that has margin and
    middle samples (the first knot after age_min of a path)."""
    from gaga._follower import _Partition
    from gaga._svm_path import INM, MARGIN, OUT, _SVMSystem

    path = age_path_svm(X, y, regularizer=reg, kernel="rbf")
    sys_ = _SVMSystem(path.problem, path.regularizer)
    rng = np.random.default_rng(0)
    region = rng.choice([OUT, MARGIN, INM], size=len(y), p=[0.4, 0.3, 0.3])
    sys_.set_partition(_Partition([], [], region.astype(np.int8)))
    age = 0.5 * (path.age_min + path.age_max)
    theta = rng.uniform(0.1, 0.9, sys_.k())
    sys_.G(theta, age)
    return sys_, age, theta


def test_bordered_solve_equals_fresh_factorization(cancer):
    """A solve bordered from the factor of another partition's matrix (samples added,
    removed, moved between the margin and the middle set, a middle diagonal changed)
    equals a solve with a fresh factorization of the partition's own matrix."""
    from gaga._follower import _Partition
    from gaga._svm_path import INM, MARGIN, OUT

    X, y = cancer
    sys_, age, theta = _bordered_system(X, y, "mixture")
    K0 = sys_.jacobian()
    sys_.factorize(K0)  # the factor of this partition becomes the base
    base = sys_._bf
    assert base is not None
    d_old = dict(zip(sys_.M.tolist(), sys_.dM.tolist()))
    region = sys_.part.region.copy()
    rng = np.random.default_rng(1)
    moves = {OUT: MARGIN, MARGIN: INM, INM: OUT}
    for j in rng.permutation(len(y))[:6]:
        region[j] = moves[int(region[j])]
    sys_.set_partition(_Partition([], [], region))
    # the middle diagonal of the samples that stay in the middle set is kept, but one
    dM = np.array([d_old.get(j, -1.0 - rng.uniform()) for j in sys_.M.tolist()])
    dM[0] *= 1.5
    sys_.dM = dM
    rhs = rng.standard_normal(sys_.k())
    x = sys_._bsolve(rhs)
    assert sys_._bf is base  # bordered, not refactored
    K = sys_.jacobian()
    np.testing.assert_allclose(K @ x, rhs, rtol=0, atol=1e-12 * np.abs(rhs).max())
    np.testing.assert_allclose(
        x, np.linalg.solve(K, rhs), rtol=0, atol=1e-10 * np.abs(x).max()
    )


def test_bordered_newton_equals_plain_newton(cancer):
    """Newton with bordered solves reaches the point of Newton with a fresh
    factorization per step (same partition, to rounding)."""
    from gaga._follower import _SystemBase

    X, y = cancer
    path = age_path_svm(X, y, regularizer="linear", kernel="rbf")
    sys_ = path._system
    age = path.breakpoints[len(path.breakpoints) // 2]
    x, seg = path._full_at(age)
    sys_.set_partition(path._segments[seg])
    theta0 = sys_.from_full(x)
    theta0 = theta0 + 1e-3 * np.random.default_rng(0).standard_normal(theta0.shape)
    t1, r1, ok1 = sys_.newton_exact(theta0, age)
    sys_._direct = True
    try:
        t2, r2, ok2 = _SystemBase.newton_exact(sys_, theta0, age)
    finally:
        sys_._direct = False
    assert ok1 and ok2
    np.testing.assert_allclose(t1, t2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r1, r2, rtol=0, atol=1e-12)


def test_dense_output_does_not_depend_on_earlier_queries(cancer):
    """Queries polish with fresh factorizations: the same age gives the same bits
    whatever was computed before (the landings' bordered solves keep a state)."""
    X, y = cancer
    path = age_path_svm(X, y, regularizer="linear", kernel="rbf")
    ages = np.linspace(path.age_min, path.age_max, 7)
    first = path.dual_coef(ages)
    path.dual_coef(ages[::-1] * 0.999 + 0.001 * path.age_min)
    path._system._direct = False
    np.testing.assert_array_equal(path.dual_coef(ages), first)


@pytest.mark.parametrize("reg", ["linear", "mixture"])
def test_fold_direction_is_the_smallest_eigenvector(cancer, reg):
    """The fold kick's direction from inverse iteration with the LDL^T factor is the
    eigenvector of the smallest |eigenvalue| (that of a full eigendecomposition, up to
    the sign)."""
    import scipy.linalg

    X, y = cancer
    sys_, age, theta = _bordered_system(X, y, reg)
    K = np.array(sys_.jacobian())
    w, U = scipy.linalg.eigh(K)
    j = np.argsort(np.abs(w))
    assert abs(w[j[0]]) < 0.9 * abs(w[j[1]])
    u = sys_.fold_direction(K)
    assert abs(np.linalg.norm(u) - 1.0) <= 1e-12
    assert abs(abs(u @ U[:, j[0]]) - 1.0) <= 1e-10
    # a singular matrix: eigh's vector
    K[:, 0] = K[:, 1]
    K[0, :] = K[1, :]
    w, U = scipy.linalg.eigh(K)
    u = sys_.fold_direction(K)
    assert abs(abs(u @ U[:, np.argmin(np.abs(w))]) - 1.0) <= 1e-10


@pytest.mark.parametrize("reg", ["linear", "mixture"])
def test_event_one_equals_event_values(cancer, reg):
    """The O(k) event value of one sample (the bordered event step's) equals its entry
    of the full event functions, in every region."""
    from gaga._follower import _Partition
    from gaga._svm_path import IN0, IN1, INM, MARGIN, OUT

    X, y = cancer
    sys_, age, _ = _bordered_system(X, y, reg)
    assert not sys_.has_twins
    rng = np.random.default_rng(2)
    region = rng.choice([OUT, MARGIN, IN1, INM, IN0], size=len(y)).astype(np.int8)
    sys_.set_partition(_Partition([], [], region))
    theta = rng.uniform(0.1, 0.9, sys_.k())
    for a in (0.3 * age, age):
        g, m = sys_.G(theta, a)
        e = sys_.event_values(theta, m, a)[0]
        one = np.array([sys_.event_one(k, theta, a) for k in range(len(y))])
        np.testing.assert_allclose(one, e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reg", ["linear", "mixture"])
def test_event_one_with_twins(cancer, reg):
    """With twins (duplicated rows), the O(k) event value of one sample equals its
    entry of the full event functions, and is None exactly where those block it (a
    twin of a margin sample whose nearer side is the margin: value inf)."""
    from gaga._follower import _Partition
    from gaga._svm_path import IN0, IN1, INM, MARGIN, OUT, _SVMSystem

    X, y = cancer
    X2, y2 = np.vstack([X, X[:20]]), np.concatenate([y, y[:20]])
    path = age_path_svm(X2[:40], y2[:40], regularizer=reg, kernel="rbf")
    from gaga.problems import SVMProblem

    sys_ = _SVMSystem(SVMProblem(X2, y2, kernel="rbf"), path.regularizer)
    assert sys_.has_twins
    age = 0.5 * (path.age_min + path.age_max)
    rng = np.random.default_rng(3)
    n_blocked = 0
    for trial in range(4):
        region = rng.choice([OUT, MARGIN, IN1, INM, IN0], size=len(y2))
        sys_.set_partition(_Partition([], [], region.astype(np.int8)))
        theta = rng.uniform(0.1, 0.9, sys_.k())
        for a in (0.3 * age, age):
            g, m = sys_.G(theta, a)
            e = sys_.event_values(theta, m, a)[0]
            one = [sys_.event_one(k, theta, a) for k in range(len(y2))]
            blocked = np.array([v is None for v in one])
            n_blocked += int(blocked.sum())
            assert np.all(np.isinf(e[blocked]))
            vals = np.array([v for v in one if v is not None])
            np.testing.assert_allclose(vals, e[~blocked], rtol=1e-12, atol=1e-12)
    assert n_blocked > 0


def _count_solves(monkeypatch):
    from gaga.problems import SVMProblem

    count = [0]
    solve = SVMProblem.solve_weighted

    def counted(self, *args, **kwargs):
        count[0] += 1
        return solve(self, *args, **kwargs)

    monkeypatch.setattr(SVMProblem, "solve_weighted", counted)
    return count


def _assert_same_path(p0, p1):
    """Two paths with jumps, the same events (ages to 1e-9) and dual coefficients."""
    assert len(p1.jumps) >= 3
    assert [(e.kind, e.index, e.to_set) for e in p1.events] == [
        (e.kind, e.index, e.to_set) for e in p0.events
    ]
    np.testing.assert_allclose(p1.breakpoints, p0.breakpoints, rtol=1e-9)
    ages = np.linspace(p0.age_min, p0.age_max, 9)
    np.testing.assert_allclose(p1.dual_coef(ages), p0.dual_coef(ages), atol=1e-9)


def test_acs_extrapolation_same_path_fewer_solves(cancer, monkeypatch):
    """Jumps whose ACS moves along one mode at a steady rate skip ACS chunks
    (_Follower._acs_extrapolate): the same events and solutions as plain ACS, with
    fewer weighted solves."""
    from gaga._svm_path import _SVMSystem

    X, y = cancer
    count = _count_solves(monkeypatch)
    paths, solves = {}, {}
    for on in (False, True):
        monkeypatch.setattr(_SVMSystem, "acs_extrapolate", on)
        count[0] = 0
        paths[on] = age_path_svm(X, y, regularizer="mixture", kernel="rbf")
        solves[on] = count[0]
    _assert_same_path(paths[False], paths[True])
    assert solves[True] < 0.9 * solves[False]


def test_acs_mode_is_the_unstable_mode_of_acs(cancer, monkeypatch):
    """The kick direction of a jump off a fold (_SVMSystem.acs_mode) is the unstable
    mode of ACS at the fold's point: on the side the jump takes (where the latent
    objective falls), one weighted solve at the weights of a point moved by eps
    along it moves the point by rho * eps along it, rho > 1. (On the other side the
    sample just moved by the event is degenerate and ACS is another linear map.)"""
    from gaga._follower import _Follower

    X, y = cancer
    seen = []
    land = _Follower._mode_land

    def record(self, before, du, scale, age):
        seen.append((before.copy(), du.copy(), age))
        return land(self, before, du, scale, age)

    monkeypatch.setattr(_Follower, "_mode_land", record)
    path = age_path_svm(X, y, regularizer="linear", kernel="rbf")
    assert len(seen) >= 3
    problem, reg, n = path.problem, path.regularizer, len(y)

    def latent(x, age):
        return problem.latent_objective(x[:n], x[n], age, reg)

    for before, du, age in seen:
        assert abs(np.linalg.norm(du) - 1.0) <= 1e-12
        lower = latent(before + 1e-4 * du, age) <= latent(before - 1e-4 * du, age)
        side = 1.0 if lower else -1.0
        eps = 1e-6
        x = before + side * eps * du
        v = reg.v_star(problem.losses(x[:n], x[n]), age)
        a1, b1, _ = problem.solve_weighted(v, a_init=before[:n], tol=1e-13)
        step = side * (np.append(a1, b1) - before)
        rho = (step @ du) / eps
        assert rho > 1.0
        # along the mode (to first order: the offset of the jump age, ~1e-9)
        assert np.linalg.norm(step - (step @ du) * du) <= 1e-2 * rho * eps


def test_acs_mode_from_the_kept_schur_state(cancer):
    """The Schur complement of acs_mode read from the partition's kept Schur state
    (its S_A, in the state's own order after updates) equals the one computed from
    Q, and so does the mode."""
    from gaga._follower import _Partition
    from gaga._svm_path import INM, MARGIN, OUT, _SchurState, _SVMSystem
    from gaga.problems import SVMProblem
    from gaga.regularizers import get_regularizer

    X, y = cancer
    sys_ = _SVMSystem(SVMProblem(X, y, kernel="rbf"), get_regularizer("linear"))
    rng = np.random.default_rng(3)
    region = rng.choice([OUT, MARGIN, INM], size=len(y), p=[0.6, 0.1, 0.3])
    sys_.set_partition(_Partition([], [], region.astype(np.int8)))
    st = _SchurState.build(sys_.Q, sys_.y, sys_.E, sys_.M)
    # a few single moves: the state's order of M is no longer the sorted one
    for j in (sys_.M[0], sys_.M[5], sys_.E[2]):
        region = sys_.part.region.copy()
        region[j] = OUT if region[j] == INM else INM
        sys_.set_partition(_Partition([], [], region))
        assert st.update(sys_.E, sys_.M)
    assert not np.array_equal(st.m, sys_.M)
    E, M = sys_.E, sys_.M
    nE = E.shape[0]
    th = np.concatenate([E, M])
    QB = sys_.Q[np.ix_(th, th)]
    A = np.zeros((nE + 1, nE + 1))
    A[:nE, :nE] = QB[:nE, :nE]
    A[:nE, nE] = A[nE, :nE] = sys_.y[E]
    B = np.vstack([QB[:nE, nE:], sys_.y[M]])
    ref = QB[nE:, nE:] - B.T @ np.linalg.solve(A, B)
    p = rng.uniform(0.5, 2.0, M.shape[0])
    ref_C = (p[:, None] * ref) * p[None, :]
    ref_C = 0.5 * (ref_C + ref_C.T)
    sys_._schur = None
    assert sys_._acs_mode_matrix(E, M, p) is None
    sys_._schur = st
    got, finite = sys_._acs_mode_matrix(E, M, p)
    assert finite
    np.testing.assert_allclose(got, ref_C, rtol=0, atol=1e-12 * np.abs(ref_C).max())
    assert np.array_equal(got, got.T)
    # the mode, near a fold of this partition: the age where rho = 1 (dM = -age/C)
    theta = np.zeros(sys_.k())
    modes = []
    for state in (st, None):
        sys_._schur = state
        sys_.G(theta, 1.0)
        w = np.linalg.eigvalsh(ref)
        sys_.dM = np.full(M.shape[0], -w[-1] / 1.01)  # rho = 1.01
        modes.append(sys_.acs_mode(None))
    assert modes[0] is not None and modes[1] is not None
    assert abs(abs(modes[0] @ modes[1]) - 1.0) <= 1e-9


def test_schur_factor_kernels_are_the_numpy_expressions():
    """The compiled copies of the Schur factorization equal the numpy expressions
    they replace bit for bit: the upper triangle of ``-S_A`` with the middle diagonal
    taken off (what the lower Cholesky of its transpose reads; the factor is then the
    same), and the border ``[y_E, QB[posE][:, nE + posM]]``."""
    from scipy.linalg.lapack import dpotrf

    from gaga._svm_kernels import gather_border, neg_schur_upper

    rng = np.random.default_rng(5)
    size, cap = 30, 41
    R = rng.standard_normal((size, size))
    buf = np.zeros((cap, cap))
    buf[:size, :size] = -(R @ R.T + size * np.eye(size))  # -S_A: positive definite
    buf[:size, :size] += 1e-3 * rng.standard_normal((size, size))  # not symmetric
    dM = -rng.uniform(0.5, 2.0, size - 1)
    posM = rng.permutation(size - 1)
    ref = -buf[:size, :size]
    idx = np.arange(1, size)
    ref[idx, idx] -= dM[posM]
    out = np.full((size, size), np.nan)
    neg_schur_upper(buf, size, dM, posM, out)
    upper = np.triu_indices(size)
    assert np.array_equal(out[upper], ref[upper])
    assert np.all(np.isnan(out[np.tril_indices(size, -1)]))  # left unset
    L_ref, info_ref = dpotrf(ref.T, lower=1, clean=0)
    L_got, info_got = dpotrf(out.T, lower=1, clean=0)
    assert info_ref == info_got == 0
    lower = np.tril_indices(size)
    assert np.array_equal(L_got[lower], L_ref[lower])

    QB = rng.standard_normal((50, 50))
    posE = rng.permutation(12)
    cols = 12 + rng.permutation(38)[:25]
    ye = rng.choice([-1.0, 1.0], 12)
    B = np.empty((12, 26))
    gather_border(QB, ye, posE, cols, B)
    ref_B = np.empty((12, 26))
    ref_B[:, 0] = ye
    ref_B[:, 1:] = QB.take(posE, axis=0).take(cols, axis=1)
    assert np.array_equal(B, ref_B)


def test_acs_mode_matrix_kernel_is_the_numpy_expressions():
    """The compiled matrix of the ACS mode equals, bit for bit, the numpy expressions
    it replaces (gather, intercept Schur complement, scaling, symmetrization), also
    for an S_A that is not exactly symmetric (the order of operations shows), and
    reports a non-finite entry."""
    from gaga._svm_kernels import acs_mode_matrix

    rng = np.random.default_rng(11)
    size = 40
    SA = rng.standard_normal((size, size))
    SA[0, 0] = -abs(SA[0, 0]) - 0.5
    order = rng.permutation(size - 1) + 1
    piv = float(SA[0, 0])
    p = rng.uniform(0.1, 3.0, size - 1)
    S = SA[np.ix_(order, order)]
    c = SA[order, 0]
    Sc = S - np.outer(c, c / piv)
    ref = (p[:, None] * Sc) * p[None, :]
    ref = 0.5 * (ref + ref.T)
    out = np.empty((size - 1, size - 1))
    assert acs_mode_matrix(SA, order, piv, p, out)
    assert np.array_equal(out, ref)
    SA[order[3], order[5]] = np.inf
    assert not acs_mode_matrix(SA, order, piv, p, out)


@pytest.mark.parametrize("cubic", [0.17, -0.17])
def test_mode_kick_side_at_a_rounding_tie(monkeypatch, cubic):
    """The side of a kick along ACS's unstable mode: where the latent objective is
    lower at 1e-4; when the two values there tie to rounding (the objective is flat to
    the third order along the mode, as at a fold) the values at the kick's size
    decide, whatever the rounding noise at 1e-4."""
    from gaga._follower import _Follower

    class Sys:
        acs_kick = 5
        acs_start = None

        def split_acs(self, x):
            return x[:-1], float(x[-1])

        def latent(self, a, b, age):
            t = float(a[0])  # the offset along du = e_0
            noise = 2e-13 * ((-1) ** int(abs(t) * 1e8))  # rounding at f ~ 2e3
            return 2158.4 + cubic * t**3 + (noise if abs(t) < 1e-3 else 0.0)

    kicks = []

    def chunks(
        self, theta0, b0, age, max_total, chunk=None, land_dv=None, v_first=None
    ):
        kicks.append(float(theta0[0]))
        yield None, False, True

    monkeypatch.setattr(_Follower, "_acs_chunks", chunks)
    fol = _Follower.__new__(_Follower)
    fol.sys = Sys()
    before, du = np.zeros(4), np.eye(4)[0]
    assert fol._mode_land(before, du, 1.0, 1.0) is None
    assert kicks == [pytest.approx(-np.sign(cubic) * 1e-2)]
    # a slope above the rounding decides at 1e-4, as before (the cubic would take the
    # other side at 1e-2)
    fol.sys.latent = lambda a, b, age: 2158.4 + 1e-4 * a[0] - 5.0 * a[0] ** 3
    kicks.clear()
    fol._mode_land(before, du, 1.0, 1.0)
    assert kicks == [pytest.approx(-1e-2)]


def test_acs_start_solves_the_kicked_weights_in_fewer_steps(cancer, monkeypatch):
    """A kick's first weighted solve starts from the fold's partition at the kicked
    point's weights (``_SVMSystem.acs_start``): the same weighted solution as the
    solve from the kicked point itself, in fewer SMO pair updates."""
    from gaga._svm_path import _SVMSystem

    X, y = cancer
    seen = []
    start = _SVMSystem.acs_start

    def recorded(self, a, b, age):
        out = start(self, a, b, age)
        seen.append((self.problem, a.copy(), out[0].copy(), out[1].copy()))
        return out

    monkeypatch.setattr(_SVMSystem, "acs_start", recorded)
    path = age_path_svm(X, y, regularizer="linear", kernel="rbf")
    assert path.jumps and seen
    iters = {"kicked": 0, "shaped": 0}
    for problem, a, shaped, v in seen:
        cb = problem.box(v)
        # the start has the partition's shape inside the box
        assert np.all((shaped >= 0.0) & (shaped <= cb))
        sol = {}
        for name, a0 in (("kicked", a), ("shaped", shaped)):
            problem._last_solves = []  # no warm-start history: only a0 counts
            sol[name], b, info = problem.solve_weighted(v, a_init=a0, tol=1e-12)
            assert info["converged"]
            iters[name] += info["n_iter"]
            sol[name] = problem.decision_function_train(sol[name], b)
        np.testing.assert_allclose(sol["shaped"], sol["kicked"], rtol=0, atol=1e-8)
    assert iters["shaped"] < iters["kicked"]


@pytest.mark.parametrize("has_one", [False, True])
@pytest.mark.parametrize("jump_target", [False, True])
def test_event_values_kernel_equals_the_formulas(has_one, jump_target):
    """The compiled event values of the samples off the margin are those of the
    region-by-region formulas (numpy, here), bit for bit, with and without a
    direction, for both kinds of thresholds (loss_one 0 or not) and of targets."""
    from gaga._svm_kernels import (
        IN0,
        IN1,
        INM,
        MARGIN,
        NULL,
        OUT,
        event_values_off_margin,
    )

    rng = np.random.default_rng(3)
    n = 400
    g = rng.choice([OUT, MARGIN, IN1, INM, IN0, NULL], size=n).astype(np.int8)
    m = rng.uniform(-2.0, 3.0, n)
    m[::7] = 1.0  # ties at the thresholds
    lo = 0.3 if has_one else 0.0
    hi, dlo, dhi = 1.7, 0.2 if has_one else 0.0, 0.9
    for dm in (np.zeros(n), rng.standard_normal(n)):
        e, de = np.full(n, -7.0), np.full(n, -7.0)
        target = np.full(n, -1, dtype=np.int8)
        event_values_off_margin(
            g, m, dm, lo, hi, dlo, dhi, has_one, jump_target, e, de, target
        )
        xi = 1.0 - m
        ref_e, ref_de, ref_t = np.full(n, np.inf), np.zeros(n), g.copy()
        sel = g == OUT
        ref_e[sel], ref_de[sel], ref_t[sel] = m[sel] - 1.0, dm[sel], MARGIN
        sel = g == IN1
        low = xi[sel] <= lo - xi[sel]
        ref_e[sel] = np.where(low, xi[sel], lo - xi[sel])
        ref_de[sel] = np.where(low, -dm[sel], dlo + dm[sel])
        ref_t[sel] = np.where(low, MARGIN, IN0 if jump_target else INM)
        sel = g == INM
        e_up = hi - xi[sel]
        e_lo = xi[sel] - lo if has_one else xi[sel]
        low = e_lo < e_up
        ref_e[sel] = np.where(low, e_lo, e_up)
        ref_de[sel] = np.where(low, -dm[sel] - (dlo if has_one else 0.0), dhi + dm[sel])
        ref_t[sel] = np.where(low, IN1 if has_one else MARGIN, IN0)
        sel = g == IN0
        ref_e[sel], ref_de[sel] = xi[sel] - hi, -dm[sel] - dhi
        ref_t[sel] = IN1 if jump_target else INM
        # bit for bit, signed zeros included
        assert e.tobytes() == ref_e.tobytes()
        assert de.tobytes() == ref_de.tobytes()
        np.testing.assert_array_equal(target, ref_t)


@pytest.mark.parametrize("reg, seed", [("linear", 4), ("mixture", 1)])
def test_landing_skips_the_checks_identify_passed(monkeypatch, reg, seed):
    """A landing whose point the system's identify already solved and checked is
    accepted without the follower's Newton and event pass again. What identify
    vouches for (``identified_state``) passes those checks: the system solved to
    gtol, no violated event, stable inertia; and the path is the same, bit for bit,
    as with the checks redone (data with tied rows and flipped labels, whose
    landings need repairs)."""
    from gaga._follower import ETOL
    from gaga._svm_path import _SVMSystem

    X, y = make_classification(
        n_samples=120, n_features=4, n_informative=3, n_redundant=0, random_state=seed
    )
    X = np.round(StandardScaler().fit_transform(X), 1)
    y, _ = flip_labels(X, y, 0.2, random_state=0)
    vouched = [0]
    identify = _SVMSystem.identify

    def checked(self, a, b, age, mtol=1e-8):
        theta = identify(self, a, b, age, mtol)
        r = self.identified_state(theta)
        if r is not None:
            vouched[0] += 1
            g, m = self.G(theta, age)
            assert np.max(np.abs(g)) <= self.gtol
            assert np.min(self.event_values(theta, m, age)[0]) >= -ETOL
            assert self.factorize(self.jacobian())[1]
        return theta

    monkeypatch.setattr(_SVMSystem, "identify", checked)
    fast = age_path_svm(X, y, regularizer=reg, kernel="rbf")
    assert vouched[0] > 0 and fast.jumps
    monkeypatch.setattr(_SVMSystem, "identified_state", lambda self, theta: None)
    slow = age_path_svm(X, y, regularizer=reg, kernel="rbf")
    assert [(e.age, e.kind, e.index, e.from_set, e.to_set) for e in fast.events] == [
        (e.age, e.kind, e.index, e.from_set, e.to_set) for e in slow.events
    ]
    for age in np.geomspace(fast.age_min, fast.age_max, 7):
        np.testing.assert_array_equal(fast.dual_coef(age), slow.dual_coef(age))


def test_no_knot_of_a_linear_kernel_path_violates_an_event(monkeypatch):
    """Every point the follower records at the top of its loop is one of its
    partition: no event function below -etol. Tied rows and a linear kernel gave a
    point whose violated event had a zero derivative (a margin multiplier of -3e-10
    at age 132), which the consistency test, made for decreasing events, let
    through; a violated event now fires whatever its slope."""
    import inspect

    from gaga._follower import ETOL, _Follower

    X, y = make_classification(
        n_samples=120, n_features=4, n_informative=3, n_redundant=0, random_state=2
    )
    X = np.round(StandardScaler().fit_transform(X), 2)
    y, _ = flip_labels(X, y, 0.2, random_state=0)
    worst = [np.inf]
    record = _Follower.record_knot

    def checked(self, theta, dtheta, age, seg):
        if inspect.stack()[1].function == "_run":
            _, m = self.sys.G(theta, age)
            worst[0] = min(
                worst[0], float(np.min(self.sys.event_values(theta, m, age)[0]))
            )
        return record(self, theta, dtheta, age, seg)

    monkeypatch.setattr(_Follower, "record_knot", checked)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        age_path_svm(X, y, regularizer="linear", kernel="linear")
    assert np.isfinite(worst[0]) and worst[0] >= -ETOL


def test_tied_rows_linear_kernel_points_are_certified_or_flagged():
    """Integer-valued features (many tied and conflicting rows) with the linear
    kernel: jumps land on points that jump again at once. Each landing is a knot of
    the path, so the path returns it at its age (not the point before it, polished
    there): every breakpoint is certified but the last point of a branch that stops,
    and the stop warning says that point is not a certified partial optimum."""
    X, y = make_classification(
        n_samples=150, n_features=5, n_informative=3, n_redundant=1, random_state=1
    )
    X = np.round(StandardScaler().fit_transform(X), 0)
    y, _ = flip_labels(X, y, 0.2, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = age_path_svm(X, y, regularizer="linear", kernel="linear")
    stops = [w for w in caught if "Age path stopped" in str(w.message)]
    assert len(path.jumps) > 100 and len(stops) == 1
    certs = path.certify(use_cvxpy=False)
    bad = [c for c in certs if not (c.kkt_residual <= 1e-7 and c.v_residual <= 1e-7)]
    assert len(certs) > 200
    assert all(c.age == path.age_max for c in bad)
    if bad:
        assert "is not a certified partial optimum" in str(stops[0].message)


def test_land_only_once_acs_contracts(cancer, monkeypatch):
    """A jump's ACS tries to land only once a chunk changes v by no more than the one
    before (land_contracting): while ACS leaves the unstable end of the branch no
    landing is tried (they fail there). Same path, fewer failed landings."""
    from gaga._follower import _Follower
    from gaga._svm_path import _SVMSystem

    X, y = cancer
    failed = [0]
    land = _Follower.try_land

    def counted(self, *args, **kwargs):
        out = land(self, *args, **kwargs)
        failed[0] += not out[1]
        return out

    monkeypatch.setattr(_Follower, "try_land", counted)
    paths, fails = {}, {}
    for on in (False, True):
        monkeypatch.setattr(_SVMSystem, "land_contracting", on)
        failed[0] = 0
        paths[on] = age_path_svm(X, y, regularizer="linear", kernel="rbf")
        fails[on] = failed[0]
    _assert_same_path(paths[False], paths[True])
    assert fails[True] < fails[False]


def _twin_system(cancer, reg):
    """A dual system with twins (20 duplicated rows) and a random partition over all
    regions (margin twins included)."""
    from gaga._follower import _Partition
    from gaga._svm_path import IN0, IN1, INM, MARGIN, OUT, _SVMSystem
    from gaga.problems import SVMProblem
    from gaga.regularizers import get_regularizer

    X, y = cancer
    X2, y2 = np.vstack([X, X[:20]]), np.concatenate([y, y[:20]])
    sys_ = _SVMSystem(SVMProblem(X2, y2, kernel="rbf"), get_regularizer(reg))
    rng = np.random.default_rng(4)
    region = rng.choice([OUT, MARGIN, IN1, INM, IN0], size=len(y2)).astype(np.int8)
    sys_.set_partition(_Partition([], [], region))
    theta = rng.uniform(0.1, 0.9, sys_.k())
    theta[rng.random(theta.shape[0]) < 0.1] = 0.0  # zero unknowns are skipped
    return sys_, theta, rng


def test_svm_kernels_equal_rows_matvec_bit_for_bit():
    """The partition's block of Q copied from an older block, the margins of the
    unknowns' samples from it, one sample's margin from its column, and two products
    over the same rows in one pass: the same bits as Q[th][:, th] and rows_matvec."""
    from gaga._svm_dual import gather_block, rows_matvec
    from gaga._svm_kernels import col_margin, remap_block, rows_matvec2

    rng = np.random.default_rng(0)
    n = 60
    Z = rng.standard_normal((n, 4))
    Q = np.ascontiguousarray(np.exp(-0.3 * ((Z[:, None] - Z[None]) ** 2).sum(-1)))
    Q *= np.outer(np.sign(rng.standard_normal(n)), np.ones(n))  # not symmetric
    old = np.sort(rng.choice(n, 25, replace=False))
    B_old = np.empty((25, 25))
    gather_block(Q, old, B_old)
    # a new index set: some of the old samples kept, some removed, some added
    fresh = rng.choice(np.setdiff1d(np.arange(n), old), 5, replace=False)
    new = np.sort(np.concatenate([old[::2], fresh]))
    pos = np.full(n, -1, dtype=np.intp)
    pos[old] = np.arange(old.shape[0])
    B = np.empty((new.shape[0], new.shape[0]))
    remap_block(Q, new, pos[new], B_old, B)
    np.testing.assert_array_equal(B, Q[np.ix_(new, new)])
    coef = rng.standard_normal(new.shape[0])
    coef[::4] = 0.0
    coef2 = rng.standard_normal(new.shape[0])
    coef2[1::3] = 0.0
    full = np.empty(n)
    rows_matvec(Q, new, coef, full)
    sub = np.empty(new.shape[0])
    rows_matvec(B, np.arange(new.shape[0]), coef, sub)  # the margins on th
    np.testing.assert_array_equal(sub, full[new])
    for j in range(n):
        assert col_margin(Q, new, coef, j) == full[j]
    full2 = np.empty(n)
    rows_matvec(Q, new, coef2, full2)
    o1, o2 = np.empty(n), np.empty(n)
    rows_matvec2(Q, new, coef, coef2, o1, o2)
    np.testing.assert_array_equal(o1, full)
    np.testing.assert_array_equal(o2, full2)


@pytest.mark.parametrize("reg", ["linear", "mixture"])
def test_lazy_margins_and_event_k_equal_full_evaluation(cancer, reg):
    """G's margins (evaluated on the unknowns' samples from the partition's block of
    Q, on all samples only when asked) are those of the full product bit for bit;
    event_k (O(k)) is the entry of event_values, bit for bit, in every region, with
    twins (inf where event_values blocks a twin of a margin sample); the margins with
    their derivative from one pass equal the two separate products."""
    from gaga._svm_dual import rows_matvec
    from gaga._svm_path import _full_margins

    sys_, theta, rng = _twin_system(cancer, reg)
    assert sys_.has_twins and sys_.nE > 0
    n = sys_.n
    full = np.empty(n)
    rows_matvec(sys_.Q, sys_.th, np.ascontiguousarray(theta[:-1]), full)
    full += sys_._m_fixed
    full += sys_.y * theta[-1]
    n_inf = 0
    for age in (0.5, 2.0, 8.0):
        g, m = sys_.G(theta, age)
        np.testing.assert_array_equal(m.sub, full[sys_.th])
        ks = [m.at(k) for k in range(n)]  # before the full product is cached
        np.testing.assert_array_equal(ks, full)
        e = sys_.event_values(theta, m, age)[0]
        np.testing.assert_array_equal(_full_margins(m), full)
        one = np.array([sys_.event_k(k, theta, m, age) for k in range(n)])
        np.testing.assert_array_equal(one, e)
        n_inf += int(np.sum(np.isinf(e) & (sys_.part.region != 5)))
        # fused margins and derivative (a fresh G: nothing cached yet)
        d = rng.standard_normal(theta.shape[0])
        g, m2 = sys_.G(theta, age)
        e2, de2, _, _ = sys_.event_values(theta, m2, age, dtheta=d)
        np.testing.assert_array_equal(e2, e)
        np.testing.assert_array_equal(de2, sys_.event_values(theta, full, age, d)[1])
    assert n_inf > 0


def test_block_cache_follows_partition_changes(cancer):
    """The partition's block of Q (copied from the last block when a few samples change
    set, cached for the last index sets) is Q[th][:, th] after every move, and the
    Jacobian built from it equals the one gathered from Q (dense, and in its products
    from the block)."""
    from gaga._svm_path import INM, MARGIN, OUT

    sys_, theta, rng = _twin_system(cancer, "mixture")
    moves = {OUT: MARGIN, MARGIN: INM, INM: OUT}
    for step in range(12):
        region = sys_.part.region.copy()
        for j in rng.choice(sys_.n, 1 + step % 3, replace=False):
            region[j] = moves.get(int(region[j]), int(region[j]))
        sys_.set_partition(type(sys_.part)([], [], region))
        th = sys_.th
        np.testing.assert_array_equal(sys_._block(), sys_.Q[np.ix_(th, th)])
        theta = rng.uniform(0.1, 0.9, sys_.k())
        sys_.G(theta, 2.0)
        K = sys_.jacobian()
        K_ref = np.zeros_like(K)
        K_ref[:-1, :-1] = sys_.Q[np.ix_(th, th)]
        K_ref[:-1, -1] = K_ref[-1, :-1] = sys_.y[th]
        idx = np.arange(sys_.nE, sys_.nE + sys_.nM)
        K_ref[idx, idx] += sys_.dM
        K_ref[-1, -1] = 1.0 if sys_.free_b else 0.0
        np.testing.assert_array_equal(K, K_ref)
        # its products come from the block, not from the dense array
        K = sys_.jacobian()
        for x in (
            rng.standard_normal(K.shape[0]),
            rng.standard_normal((K.shape[0], 3)),
        ):
            got = K @ x
            assert K._dense is None
            scale = np.abs(K_ref).max() * np.abs(x).max() * K.shape[0]
            np.testing.assert_allclose(got, K_ref @ x, rtol=0, atol=1e-15 * scale)
        np.testing.assert_array_equal(sys_.jac_vec(x[:, 0]), K @ x[:, 0])


def test_chord_margins_equal_the_product(cancer):
    """The margins of a chord step taken from its solve (K step = rhs, and the margins
    of the tangent from the last event values along it) equal those of a pass over
    the block; None where a piece belongs to another partition or direction, or K
    has a decoupled middle row."""
    X, y = cancer
    sys_, age, theta = _bordered_system(X, y, "mixture")
    g, r = sys_.G(theta, age)
    K = sys_.jacobian()
    assert np.any(sys_.dM < -1e100)  # decoupled rows (a middle loss off its range)
    step = np.linalg.solve(np.asarray(K), sys_.prec(g))
    assert sys_.chord_margins(theta - step, r, sys_.prec(g), step, K) is None
    sys_, age, theta = _bordered_system(X, y, "linear")
    rng = np.random.default_rng(7)
    g, r = sys_.G(theta, age)
    K = sys_.jacobian()
    assert sys_.nE and sys_.nM and np.all(sys_.dM > -1e3)
    rhs = sys_.prec(g)
    step = np.linalg.solve(np.asarray(K), rhs)
    dtheta = rng.standard_normal(theta.shape[0])
    sys_.event_values(theta, r, age, dtheta)  # the pass along dtheta
    for dl in (0.0, 0.3):
        new = theta - step + dl * dtheta
        m = sys_.chord_margins(new, r, rhs, step, K, dl, dtheta)
        ref = sys_.margins(new)
        scale = np.abs(np.asarray(K)).max() * (
            np.abs(step).max() + np.abs(dtheta).max()
        )
        np.testing.assert_allclose(m.sub, ref.sub, rtol=0, atol=1e-13 * scale)
        np.testing.assert_array_equal(m.coef, ref.coef)
        assert m.b == ref.b
        # its residual is G's up to the same error
        g_m, _ = sys_.G_of(new, age, m)
        g_ref, _ = sys_.G(new, age)
        np.testing.assert_allclose(g_m, g_ref, rtol=0, atol=1e-12 * scale)
    # another direction than the last event values', or K of another partition
    assert sys_.chord_margins(new, r, rhs, step, K, 0.3, dtheta.copy()) is None
    sys_.G(theta, age)
    other = sys_.jacobian()
    assert sys_.chord_margins(theta - step, r, rhs, step, other) is not None
    region = sys_.part.region.copy()
    region[sys_.M[0]] = region[sys_.E[0]]
    sys_.set_partition(type(sys_.part)([], [], region))
    assert sys_.chord_margins(theta - step, r, rhs, step, K) is None


def test_path_releases_the_followers_caches(cancer, monkeypatch):
    """The returned path keeps K and Q, not the follower's blocks of Q, Schur state
    and factors; its queries are those of a path that kept them."""
    from gaga._svm_path import _SVMSystem

    X, y = cancer
    path = age_path_svm(X, y, regularizer="linear")
    sys_ = path._system
    assert sys_._blk_cache == {} and sys_._blk_last is None
    assert sys_._schur is None and sys_._K is None and sys_._bf is None
    assert getattr(path.problem, "_free_lu_last", None) is None
    monkeypatch.setattr(_SVMSystem, "release", lambda self: None)
    kept = age_path_svm(X, y, regularizer="linear")
    assert kept._system._blk_cache
    ages = np.geomspace(path.age_min, path.age_max, 9)
    for age in ages:
        np.testing.assert_allclose(
            path.dual_coef(age), kept.dual_coef(age), rtol=0, atol=1e-10
        )
        assert abs(path.intercept(age) - kept.intercept(age)) <= 1e-10
    # queries rebuild the caches as they need them, and give the same again
    np.testing.assert_array_equal(path.dual_coef(ages[3]), path.dual_coef(ages[3]))


def test_path_without_chord_margins_is_the_same(cancer, monkeypatch):
    """The path's chord steps with G from their solves land on the events of the path
    with a pass for every G."""
    from gaga._svm_path import _SVMSystem

    X, y = cancer
    path = age_path_svm(X, y, regularizer="mixture")
    monkeypatch.setattr(_SVMSystem, "chord_margins", None)
    ref = age_path_svm(X, y, regularizer="mixture")
    assert [(e.kind, e.index) for e in path.events] == [
        (e.kind, e.index) for e in ref.events
    ]
    ages = np.array([e.age for e in path.events])
    np.testing.assert_allclose(ages, [e.age for e in ref.events], rtol=1e-9)
    for age in np.geomspace(path.age_min, path.age_max, 7):
        np.testing.assert_allclose(
            path.decision_function(X, age),
            ref.decision_function(X, age),
            rtol=0,
            atol=1e-9,
        )


@pytest.mark.parametrize("schur", [False, True])
def test_reused_factor_equals_fresh(cancer, monkeypatch, schur):
    """The factor of the current partition's matrix (LDL^T, or the Cholesky factors of
    its margin block's Schur complement) is reused while the matrix is the same (a
    Newton solve and the stability check): the factor is the one the solve used, and
    it equals a fresh factorization."""
    from gaga._svm_path import _ldl, _SchurState, _SVMSystem

    monkeypatch.setattr(_SVMSystem, "schur", schur)
    X, y = cancer
    sys_, age, theta = _bordered_system(X, y, "linear")
    K = sys_.jacobian()
    rhs = np.random.default_rng(5).standard_normal(K.shape[0])
    x = sys_._solve_direct(K, rhs)
    fac, stable, _ = sys_.factorize(sys_.jacobian())  # the same matrix, rebuilt
    ldu, ipiv, ev = _ldl(K)
    assert stable
    if schur:
        assert fac is sys_._schur_memo[1]
        E, M = sys_.E, sys_.M
        fresh = _SchurState.build(sys_.Q, sys_.y, E, M).factor(
            sys_.dM, E, M, sys_._block()
        )
        np.testing.assert_array_equal(fresh.LS, fac.LS)
        np.testing.assert_array_equal(fresh.solve(rhs), x)
    else:
        assert fac[0] is sys_._ldl_memo[1][0]
        np.testing.assert_array_equal(fac[0], ldu)
    np.testing.assert_allclose(K @ x, rhs, atol=1e-10 * np.abs(rhs).max())
    assert stable == (
        int(np.sum(ev > 0)) == sys_.nE and int(np.sum(ev < 0)) == sys_.nM + 1
    )


def test_weighted_solve_with_free_set_steps_is_optimal(cancer):
    """solve_weighted alternates SMO chunks and Newton steps on the free set: from cold
    and warm starts (a kicked point: many free samples; new boxes) the result is
    feasible, solves the dual to the tolerance (the maximal violating pair) and
    matches plain SMO; the gradient kept along the steps is Q a - 1."""
    from gaga._svm_dual import smo
    from gaga.problems import SVMProblem, _free_set_polish

    X, y = cancer
    p = SVMProblem(X, y, kernel="rbf", C=2.0)
    rng = np.random.default_rng(6)
    n = len(y)
    v1 = rng.uniform(0.2, 1.0, n)
    a1, b1, info1 = p.solve_weighted(v1)
    starts = [None, a1, np.clip(a1 + 0.05 * rng.standard_normal(n), 0.0, None)]
    for v in (v1, np.clip(v1 + 0.1 * rng.standard_normal(n), 0.0, 1.0)):
        Cb = p.box(v)
        a_ref = np.zeros(n)  # plain SMO from zero
        b_ref, _, _, conv, _ = smo(p.Q, p.y_pm, Cb, a_ref, 1e-12, 10**7)
        assert conv
        for a0 in starts:
            a, b, info = p.solve_weighted(v, a_init=a0, tol=1e-12)
            assert info["converged"]
            assert np.all(a >= 0.0) and np.all(a <= Cb + 1e-15)
            assert abs(a @ p.y_pm) <= 1e-12 * max(1.0, a.sum())
            np.testing.assert_allclose(a, a_ref, atol=1e-7)
            assert abs(b - b_ref) <= 1e-7
            # the cached Q a (gradient kept along SMO and the steps) is Q a
            np.testing.assert_allclose(p.margins(a, 0.0), p.Q @ a, atol=1e-11)
    # one step: the gradient is updated by the moved rows of Q, the objective falls
    a = np.clip(a1 + 0.02 * rng.standard_normal(n), 0.0, p.box(v1))
    a -= p.y_pm * (a @ p.y_pm) / n
    a = np.clip(a, 0.0, p.box(v1))
    G = p.Q @ a - 1.0
    f0 = 0.5 * a @ p.Q @ a - a.sum()
    moved = _free_set_polish(p.Q, p.y_pm, p.box(v1), a, G)
    assert moved is True
    np.testing.assert_allclose(G, p.Q @ a - 1.0, atol=1e-12)
    assert 0.5 * a @ p.Q @ a - a.sum() < f0
    assert np.all(a >= 0.0) and np.all(a <= p.box(v1))


def test_incremental_gradient_equals_direct_product(cancer):
    """A warm start's gradient Q a - 1 is updated from the last cached Q a by the rows
    where a changed (and from scratch after a chain of such updates): it equals the
    direct product, along a chain of alternate convex search solves."""
    from gaga.problems import _QA_CHAIN, SVMProblem
    from gaga.regularizers import Mixture

    X, y = cancer
    p = SVMProblem(X, y, kernel="rbf")
    reg = Mixture()
    a, b, _ = p.solve_weighted(np.ones(len(y)))
    incremental = 0
    for it in range(_QA_CHAIN + 8):
        v = reg.v_star(p.losses(a, b), 1.5 + 0.01 * it)
        start = p._a(a).copy()
        # the start solve_weighted builds, then its gradient
        Cb = p.box(v)
        mask = Cb > 0
        a0 = np.zeros(len(y))
        a0[mask] = p._warm_start(start, Cb, mask, p.y_pm[mask])
        G, chain = p._gradient(a0, True)
        incremental += chain > 0
        np.testing.assert_allclose(G, p.Q @ a0 - 1.0, rtol=0, atol=1e-12)
        a, b, _ = p.solve_weighted(v, a_init=a)
    assert incremental > 0


@pytest.mark.parametrize(
    "kernel, reg",
    [
        ("rbf", "linear"),
        ("rbf", "mixture"),
        ("poly", "linear"),
        ("precomputed", "mixture"),
    ],
)
def test_screened_event_values_after_a_step(cancer, monkeypatch, kernel, reg):
    """At the end of every step of a path, and at points moved off it by 1e-6 to 1e-2
    (violated samples), event_values_step (the margins off the unknowns predicted from
    the step's start, with a bound: Cauchy-Schwarz for rbf and poly, the l1 bound for a
    precomputed kernel) agrees with the full event_values on what the follower reads:
    the violated samples and the aimed-at one have their exact values (the target too
    for the latter), no other sample is violated. The path is the same, bit for bit,
    as with the full evaluation, which the screen skips at most steps."""
    from gaga._svm_path import _full_margins, _SVMSystem

    X, y = cancer
    if kernel == "precomputed":
        gamma = 1.0 / (X.shape[1] * X.var())
        sq = np.sum(X * X, axis=1)
        X = np.exp(-gamma * np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0))
    step = _SVMSystem.event_values_step
    seen = {"steps": 0, "screened": 0, "violated": 0}
    rng = np.random.default_rng(0)

    def check(sys_, theta, m, age, base, k, etol):
        got = step(sys_, theta, m, age, base, k, etol)
        e, target = got[0], got[2]
        screened = m._full is None
        e_full, _, target_full, _ = sys_.event_values(theta, _full_margins(m), age)
        viol = e_full < -etol
        np.testing.assert_array_equal(e[viol], e_full[viol])
        assert np.all(e[~viol] >= -etol)
        if k >= 0:
            assert e[k] == e_full[k] and target[k] == target_full[k]
        return got, screened, bool(viol.any())

    def checked(self, theta, m, age, base, k, etol):
        got, screened, _ = check(self, theta, m, age, base, k, etol)
        seen["steps"] += 1
        seen["screened"] += screened
        nk = self.nE + self.nM
        for scale in (1e-6, 1e-4, 1e-2):
            moved = theta.copy()
            moved[:nk] += scale * rng.standard_normal(nk) * (theta[:nk] != 0)
            seen["violated"] += check(
                self, moved, self.G(moved, age)[1], age, base, k, etol
            )[2]
        self.G(theta, age)  # the state of the step's end again
        return got

    monkeypatch.setattr(_SVMSystem, "event_values_step", checked)
    path = age_path_svm(X, y, regularizer=reg, kernel=kernel)
    assert seen["screened"] >= 0.5 * seen["steps"] > 0
    assert seen["violated"] > 0
    monkeypatch.setattr(_SVMSystem, "event_values_step", step)
    monkeypatch.setattr(_SVMSystem, "screen_events", False)
    full = age_path_svm(X, y, regularizer=reg, kernel=kernel)
    assert [(e.age, e.kind, e.index, e.to_set) for e in path.events] == [
        (e.age, e.kind, e.index, e.to_set) for e in full.events
    ]
    ages = np.linspace(full.age_min, full.age_max, 13)
    np.testing.assert_array_equal(path.dual_coef(ages), full.dual_coef(ages))
    np.testing.assert_array_equal(path.intercept(ages), full.intercept(ages))


def _schur_ref(Q, y, e, m):
    """S_A = D_A - B^T Q_EE^{-1} B in the order (intercept, m), dense."""
    B = np.column_stack([y[e], Q[np.ix_(e, m)]])
    D = np.zeros((len(m) + 1, len(m) + 1))
    D[1:, 1:] = Q[np.ix_(m, m)]
    D[1:, 0] = D[0, 1:] = y[m]
    return D - B.T @ np.linalg.solve(Q[np.ix_(e, e)], B)


def test_schur_state_updates_equal_a_rebuild(cancer):
    """The margin block's Schur complement kept through 60 single-sample moves (into
    and out of E and M, between them) equals the dense one of each partition, and its
    factor of Q_EE is a Cholesky factor of it; a partition two samples away is
    refused (rebuilt by the system)."""
    from gaga._svm_path import _SchurState
    from gaga.problems import SVMProblem

    X, y = cancer
    p = SVMProblem(X, y, kernel="rbf")
    Q, ypm = p.Q, p.y_pm
    rng = np.random.default_rng(3)
    region = rng.choice(3, size=len(y), p=[0.4, 0.2, 0.4])  # 0 off, 1 E, 2 M
    sets = lambda: (np.flatnonzero(region == 1), np.flatnonzero(region == 2))  # noqa
    st = _SchurState.build(Q, ypm, *sets())
    kinds = set()
    for _ in range(60):
        j = int(rng.integers(len(y)))
        old = int(region[j])
        region[j] = rng.choice(
            [r for r in (0, 1, 2) if r != old and (r, old) != (0, 0)]
        )
        if np.sum(region == 1) == 0:
            region[j] = old
            continue
        kinds.add((old, int(region[j])))
        E, M = sets()
        assert st.update(E, M)
        assert st.matches(E, M)
        np.testing.assert_allclose(
            st.SA, _schur_ref(Q, ypm, st.e, st.m), rtol=0, atol=1e-9
        )
        np.testing.assert_allclose(st.L @ st.L.T, Q[np.ix_(st.e, st.e)], atol=1e-12)
        assert sorted(st.e) == E.tolist() and sorted(st.m) == M.tolist()
    assert len(kinds) == 6
    i, j = np.flatnonzero(region == 0)[:2]
    region[[i, j]] = 2
    assert not st.update(*sets())


@pytest.mark.parametrize("reg", ["linear", "mixture"])
def test_schur_factor_solves_and_agrees_with_the_inertia(cancer, reg):
    """On random partitions and middle diagonals, the Schur factorization (Cholesky of
    -S, else LDL^T of S) says stable exactly when the LDL^T of the whole matrix K does
    (inertia (|E|+, |M|+1-), no D value below 1e-13 of the largest), the follower's
    factorization is that factor when stable, and it solves K x = r for one and
    several right-hand sides, stable or not."""
    from gaga._follower import _Partition
    from gaga._svm_path import INM, MARGIN, OUT, _ldl, _SchurFactor, _SVMSystem
    from gaga.problems import SVMProblem
    from gaga.regularizers import get_regularizer

    X, y = cancer
    sys_ = _SVMSystem(SVMProblem(X, y, kernel="rbf"), get_regularizer(reg))
    rng = np.random.default_rng(7)
    n_stable = n_schur = n_ldl = 0
    for t in range(40):
        region = rng.choice([OUT, MARGIN, INM], size=len(y), p=[0.5, 0.25, 0.25])
        sys_.set_partition(_Partition([], [], region.astype(np.int8)))
        scale = 10.0 ** rng.uniform(-1, 2)
        sys_.dM = -scale * rng.uniform(0.5, 2.0, sys_.nM)
        K = sys_.jacobian()
        fac, stable, _ = sys_.factorize(K)
        ev = _ldl(K)[2]
        inertia = int(np.sum(ev > 0)) == sys_.nE and int(np.sum(ev < 0)) == sys_.nM + 1
        aev = np.abs(ev)
        ldl_stable = inertia and aev.min() > 1e-13 * max(1.0, aev.max())
        n_stable += inertia
        sf = sys_._schur_of(K)
        assert sf is not None and sf.stable == ldl_stable == stable
        assert (sf.LS is None) == (sf.ldl is not None)
        n_ldl += sf.ldl is not None
        if isinstance(fac, _SchurFactor):
            n_schur += 1
            assert fac is sf and stable
        for f in (sf, fac) if stable else (sf,):
            R = rng.standard_normal((K.shape[0], 3))
            X1 = sys_.fac_solve(f, R)
            np.testing.assert_allclose(K @ X1, R, atol=1e-9 * np.abs(X1).max())
            x = sys_.fac_solve(f, R[:, 0])
            np.testing.assert_allclose(
                x, X1[:, 0], rtol=0, atol=1e-12 * np.abs(x).max()
            )
    assert n_schur >= 0.8 * n_stable > 5
    assert n_ldl > 5


@pytest.mark.parametrize("reg", ["linear", "mixture"])
def test_schur_verdicts_along_a_path_equal_the_ldl_of_k(flipped, monkeypatch, reg):
    """At every factorization of a path that goes through the Schur complement, the
    stability verdict is the one of the Bunch-Kaufman LDL^T of the whole matrix (its
    inertia (|E|+, |M|+1-), no D value below 1e-13 of the largest)."""
    from gaga._svm_path import _ldl_info, _SchurFactor, _SVMSystem

    factorize = _SVMSystem._factorize
    seen = {"schur": 0, "unstable": 0}

    def checked(self, K):
        out = factorize(self, K)
        memo = self._schur_memo
        key = (self._K_of[0].tobytes(), self._K_of[1].tobytes())
        if (
            K is self._K
            and memo is not None
            and memo[0] == key
            and isinstance(memo[1], _SchurFactor)
        ):
            ev = _ldl_info(K)[2]
            aev = np.abs(ev)
            dmax = float(aev[aev < 1e149].max(initial=0.0))
            stable = (
                int(np.sum(ev > 0)) == self.nE
                and int(np.sum(ev < 0)) == self.nM + 1
                and aev.min() > 1e-13 * max(1.0, dmax)
            )
            assert out[1] == stable
            seen["schur"] += 1
            seen["unstable"] += not stable
        return out

    monkeypatch.setattr(_SVMSystem, "_factorize", checked)
    X, y = flipped
    path = age_path_svm(X, y, regularizer=reg, kernel="rbf")
    assert seen["schur"] >= len(path.events) > 0
    assert seen["unstable"] >= 1  # (jumps off non-smooth folds: 3 and 1)


def test_turning_point_estimate_on_a_square_root_branch():
    """On a branch theta = theta* + sqrt(fold - age) w, |theta'|^-2 = 4 (fold - age) /
    |w|^2 is linear in the age: from the third knot on, the follower's estimate is
    the fold age itself, and the step stops a quarter of h_min short of it."""
    from gaga._follower import _FoldKnots, _Follower

    fol = _Follower.__new__(_Follower)
    fol.h_min, fol.age_max = 1e-13, 10.0
    fold, w = 2.0, np.array([3.0, -1.0, 0.5])
    folds = _FoldKnots()

    def tangent(age):
        return -w / (2.0 * np.sqrt(fold - age))

    got = [
        fol._turning_point(folds, 0, a, tangent(a), 1.0, np.inf)
        for a in (1.0, 1.5, 1.9)
    ]
    # no estimate at the first knot; at the second one, nothing to check it by: the
    # step is halved, the fold not located
    assert got[0] is None
    assert got[1][0] == pytest.approx(0.5, rel=1e-12)
    assert got[1][1:] == (pytest.approx(0.25, rel=1e-12), False)
    gap, step, located = got[2]
    assert located
    assert gap == pytest.approx(0.1, rel=1e-12)
    assert gap - step == pytest.approx(0.25e-13, rel=1e-6)
    # the same knot again after a failed step: 16 times the margin
    folds.fails = 1
    gap1, step1, _ = fol._turning_point(folds, 0, 1.9, tangent(1.9), 1.0, np.inf)
    assert gap1 == gap and gap1 - step1 == pytest.approx(16 * (gap - step), rel=1e-6)
    folds.fails = 0
    # a planned step that stops before the fold, an event before it, or the end of
    # the range before it: the step control goes on
    assert fol._turning_point(folds, 0, 1.9, tangent(1.9), 0.05, np.inf) is None
    assert fol._turning_point(folds, 0, 1.9, tangent(1.9), 1.0, 0.05) is None
    fol.age_max = 2.0
    assert fol._turning_point(folds, 0, 1.9, tangent(1.9), 1.0, np.inf) is None
    fol.age_max = 10.0
    # a new segment starts over; a tangent that shrinks is no fold
    assert fol._turning_point(folds, 1, 1.95, tangent(1.95), 1.0, np.inf) is None
    folds2 = _FoldKnots()
    for a in (1.0, 1.5, 1.9):
        out = fol._turning_point(folds2, 0, a, 1.0 / tangent(a), 1.0, np.inf)
    assert out is None
    # estimates that disagree by more than half the gap: the step is only halved
    folds3 = _FoldKnots()
    for a, t in ((1.0, tangent(1.0)), (1.5, 0.8 * tangent(1.5)), (1.9, tangent(1.9))):
        out = fol._turning_point(folds3, 0, a, t, 1.0, np.inf)
    assert out is not None and not out[2] and out[1] == 0.5 * out[0]


def test_turning_points_where_the_step_control_finds_them(cancer, monkeypatch):
    """The smooth folds located by extrapolation are those the step control reaches
    by trial steps (cut by 4 at each failure down to h_min): the same events, the
    jumps' ages to 1e-9, the same path."""
    from gaga._follower import _Follower

    X, y = cancer
    p1 = age_path_svm(X, y, regularizer="mixture")
    monkeypatch.setattr(_Follower, "turning_points", False)
    p0 = age_path_svm(X, y, regularizer="mixture")
    turning = [j for j in p1.jumps if j.reason == "fold (turning point)"]
    assert len(turning) >= 3
    assert not any(j.reason == "fold (turning point)" for j in p0.jumps)
    assert [j.reason for j in p0.jumps].count("fold (step collapse)") >= len(turning)
    _assert_same_path(p0, p1)
    np.testing.assert_allclose(
        [j.age for j in p1.jumps], [j.age for j in p0.jumps], rtol=1e-9
    )


def test_jump_from_a_point_without_finite_multipliers_ends_at_the_last_knot(
    cancer, monkeypatch
):
    """A jump from a point whose full coordinates are not finite (a degenerate
    partition: mlc_churn's linear kernel, whose SVM is the constant classifier) ends
    the path at its last knot with a ConvergenceWarning, not with an error from a
    weighted solve at v = nan; what the path returns is finite and the events before
    are those of the whole path. Fault injection: the full point at the second jump
    is made nan."""
    from gaga import _follower
    from gaga._svm_path import _SVMSystem

    X, y = cancer
    pre = []
    jump = _follower._Follower.jump

    def recorded(self, theta, age, *args, **kwargs):
        pre.append(age)
        return jump(self, theta, age, *args, **kwargs)

    monkeypatch.setattr(_follower._Follower, "jump", recorded)
    full = age_path_svm(X, y, regularizer="linear", kernel="rbf")
    assert len(pre) >= 2
    target = pre[1]
    inside = [False]

    def flagged(self, theta, age, *args, **kwargs):
        inside[0] = True
        try:
            return jump(self, theta, age, *args, **kwargs)
        finally:
            inside[0] = False

    to_full = _SVMSystem.to_full

    def broken(self, theta, part=None, age=None):
        x = to_full(self, theta, part, age)
        if inside[0] and age == target:
            x = np.full_like(x, np.nan)
        return x

    monkeypatch.setattr(_follower._Follower, "jump", flagged)
    monkeypatch.setattr(_SVMSystem, "to_full", broken)
    with pytest.warns(ConvergenceWarning, match="no finite multipliers"):
        path = age_path_svm(X, y, regularizer="linear", kernel="rbf")
    assert pre[0] < path.age_max <= target
    assert path.age_max in path.breakpoints
    n = len(path.events)
    assert [(e.kind, e.index, e.to_set) for e in path.events] == [
        (e.kind, e.index, e.to_set) for e in full.events[:n]
    ]
    for age in (path.age_min, 0.5 * (path.age_min + path.age_max), path.age_max):
        assert np.all(np.isfinite(path.dual_coef(age)))
        assert np.isfinite(path.intercept(age))
        np.testing.assert_allclose(
            path.decision_function(X, age), full.decision_function(X, age), atol=1e-9
        )


def test_constant_classifier_hard_path_ends_at_age_max_without_repeating():
    """Imbalanced data whose linear SVM is the constant classifier (every positive at
    hinge loss 2 exactly, tied): the hard regularizer's default range collapses to
    ages just above 2, and a jump at age_max landed on a point that jumped again,
    until max_events (20000 here: minutes). Now the second jump at age_max ends
    the path there with a warning, which flags the point when its certificate fails
    (it does on these data: the margin set is far larger than the kernel's rank)."""
    X, y = constant_classifier_data(n=400, d=5, seed=0)
    with pytest.warns(ConvergenceWarning) as rec:
        path = age_path_svm(X, y, kernel="linear", regularizer="hard")
    msgs = [str(w.message) for w in rec]
    stop = [m for m in msgs if "no stable point was found at age_max" in m]
    assert len(stop) == 1
    assert len(path.events) <= 3
    (last,) = path.certify(
        ages=[path.age_max], include_breakpoints=False, use_cvxpy=False
    )
    certified = last.kkt_residual <= 1e-7 and last.v_residual <= 1e-7
    assert certified != ("not a certified partial optimum" in stop[0])
    # the start jumped away at once (to age_max): the path's value at age_min, its
    # only knot polished back there, has multipliers far outside their box; it was
    # returned without a word, and now a warning says so, as its certificate does
    assert path.breakpoints[0] > path.age_min
    start = [m for m in msgs if "start at age_min" in m]
    assert len(start) == 1 and "violates an event" in start[0]
    (first,) = path.certify(
        ages=[path.age_min], include_breakpoints=False, use_cvxpy=False
    )
    assert first.kkt_residual > 1.0


def _start_jumps(monkeypatch):
    """Fault injection: the first factorization of a path (no knot, no event yet)
    reports a fold, so its start jumps away at once."""
    from gaga import _follower

    update = _follower._Follower.update_factor

    def first_unstable(self, r, age):
        if not self.knots and not self.events:
            return False
        return update(self, r, age)

    monkeypatch.setattr(_follower._Follower, "update_factor", first_unstable)


def test_start_that_jumps_away_is_checked_at_age_min_without_a_false_alarm(
    cancer, monkeypatch
):
    """When the start jumps away at once, the path's value at age_min is its first
    knot's point polished back there; the follower checks that point. Fault
    injection: the first factorization reports a fold, so the start of a regular
    path jumps (kick, ACS, landing 1e-9 later). The point at age_min is then a
    certified partial optimum and no warning is given (the suite turns
    ConvergenceWarning into an error); the constant-classifier test above shows the
    warning where that point is garbage."""
    from gaga import _follower

    X, y = cancer
    checked = []
    check = _follower._Follower._check_age_min

    def recorded(self):
        checked.append(self.age_min)
        return check(self)

    _start_jumps(monkeypatch)
    monkeypatch.setattr(_follower._Follower, "_check_age_min", recorded)
    path = age_path_svm(X, y, regularizer="linear", kernel="rbf")
    assert checked == [path.age_min]
    assert path.events[0].jump and path.events[0].age > path.age_min
    (cert,) = path.certify(
        ages=[path.age_min], include_breakpoints=False, use_cvxpy=False
    )
    assert cert.kkt_residual <= 1e-7 and cert.v_residual <= 1e-7


def test_start_check_flags_a_point_that_is_not_finite(cancer, monkeypatch):
    """The age_min check warns when the polished point there is not finite (a nan
    residual would pass every comparison of the certificate test). Fault injection:
    the start is made to jump, and the polish of the check returns nan."""
    from gaga import _follower
    from gaga._svm_path import _SVMSystem

    X, y = cancer
    check = _follower._Follower._check_age_min
    polish = _SVMSystem.polish_stored
    inside = [False]

    def flagged(self):
        inside[0] = True
        try:
            return check(self)
        finally:
            inside[0] = False

    def broken(self, x, age, part, max_iter=8):
        out = polish(self, x, age, part, max_iter)
        return np.full_like(out, np.nan) if inside[0] else out

    _start_jumps(monkeypatch)
    monkeypatch.setattr(_follower._Follower, "_check_age_min", flagged)
    monkeypatch.setattr(_SVMSystem, "polish_stored", broken)
    with pytest.warns(ConvergenceWarning, match="not finite"):
        age_path_svm(X, y, regularizer="linear", kernel="rbf")
