"""SelfPacedSVM: scikit-learn conventions, and v = 1 equals SVC."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from gaga import SelfPacedSVM

# Checks of scikit-learn that SelfPacedSVM is expected to fail, with the reason.
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "As for SVC: gamma='scale' is 1 / (n_features * X.var()) over the rows of X, "
        "unweighted, so repeating rows changes the kernel."
    ),
}


@parametrize_with_checks(
    [SelfPacedSVM(max_events=400)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def cancer():
    """120 rows of breast_cancer (both classes), 8 standardized features."""
    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.RandomState(0)
    idx = np.sort(rng.choice(X.shape[0], 120, replace=False))
    X = StandardScaler().fit_transform(X[idx][:, :8])
    return X, y[idx]


@pytest.fixture(scope="module")
def small():
    """60 samples, 4 features, 10 % flipped labels, string classes."""
    X, y = make_classification(
        n_samples=60,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        flip_y=0.1,
        random_state=1,
    )
    return X, np.array(["neg", "pos"])[y]


@pytest.fixture(scope="module")
def fitted(small):
    X, y = small
    return SelfPacedSVM(C=1.0, kernel="rbf").fit(X, y)


@pytest.mark.parametrize(
    "kernel, params",
    [("linear", {}), ("rbf", {}), ("poly", {"degree": 2, "coef0": 1.0})],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_v_one_equals_svc(cancer, kernel, params, weighted):
    X, y = cancer
    sw = None
    if weighted:
        sw = np.random.RandomState(3).uniform(0.5, 2.0, X.shape[0])
    # the hard regularizer with every hinge loss below the ages: v = 1 everywhere
    est = SelfPacedSVM(
        C=0.5,
        kernel=kernel,
        regularizer="hard",
        age_min=50.0,
        age_max=100.0,
        **params,
    ).fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(est.spl_weights_, 1.0)
    sk = SVC(C=0.5, kernel=kernel, tol=1e-12, **params).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(
        est.decision_function(X), sk.decision_function(X), rtol=0, atol=1e-6
    )
    np.testing.assert_array_equal(est.predict(X), sk.predict(X))
    np.testing.assert_allclose(est.intercept_, sk.intercept_, atol=1e-6)
    # same support and dual coefficients (SVC's layout: grouped by class)
    np.testing.assert_array_equal(est.n_support_, sk.n_support_)
    np.testing.assert_array_equal(est.support_, sk.support_)
    np.testing.assert_allclose(est.dual_coef_, sk.dual_coef_, atol=1e-6)
    np.testing.assert_allclose(est.support_vectors_, sk.support_vectors_)
    if kernel == "linear":
        np.testing.assert_allclose(est.coef_, sk.coef_, atol=1e-6)


@pytest.mark.parametrize("regularizer", ["linear", "hard"])
def test_partial_optimum_is_a_weighted_svc(cancer, regularizer):
    """At any age the classifier is SVC fitted with sample_weight = v (v > 0)."""
    X, y = cancer
    path = SelfPacedSVM(C=1.0, kernel="rbf", regularizer=regularizer).fit(X, y).path_
    lo, hi = path.age_min, path.age_max
    for age in np.geomspace(lo, hi, 5)[1:]:
        est = SelfPacedSVM(regularizer=regularizer, age=age, age_min=lo, age_max=hi)
        est.fit(X, y)
        v = est.spl_weights_
        keep = v > 0
        assert np.unique(y[keep]).size == 2
        # the numeric gamma of the full data ("scale" on X[keep] would differ)
        gamma = est.path_.problem.gamma_
        sk = SVC(C=1.0, kernel="rbf", gamma=gamma, tol=1e-12).fit(
            X[keep], y[keep], sample_weight=v[keep]
        )
        np.testing.assert_allclose(
            est.decision_function(X), sk.decision_function(X), rtol=0, atol=1e-6
        )


def test_fitted_attributes_are_the_path_at_age(fitted, small):
    X, y = small
    est, path = fitted, fitted.path_
    assert est.age_ == path.age_max
    np.testing.assert_array_equal(est.classes_, ["neg", "pos"])
    np.testing.assert_array_equal(path.problem.classes_, est.classes_)
    dual = path.dual_coef(est.age_)
    assert dual.shape == (X.shape[0],)
    # support_: every sample with a_i > 0, grouped by class as in SVC
    np.testing.assert_array_equal(np.sort(est.support_), np.flatnonzero(dual != 0))
    y_sv = y[est.support_]
    k = est.n_support_[0]
    assert np.all(y_sv[:k] == "neg") and np.all(y_sv[k:] == "pos")
    assert np.all(np.diff(est.support_[:k]) > 0) and np.all(
        np.diff(est.support_[k:]) > 0
    )
    assert est.n_support_.sum() == est.support_.size
    assert est.dual_coef_.shape == (1, est.support_.size)
    np.testing.assert_array_equal(est.dual_coef_[0], dual[est.support_])
    # sign convention: y_i a_i with y_i = +1 for classes_[1]
    np.testing.assert_array_equal(
        np.sign(est.dual_coef_[0]), np.where(y_sv == "pos", 1, -1)
    )
    np.testing.assert_array_equal(est.support_vectors_, X[est.support_])
    assert est.intercept_.shape == (1,)
    assert est.intercept_[0] == path.intercept(est.age_)
    np.testing.assert_array_equal(est.spl_weights_, path.weights(est.age_))
    assert est.n_events_ == path.n_events
    assert est.n_features_in_ == X.shape[1]
    # predictions are the path's at age_
    np.testing.assert_allclose(
        est.decision_function(X), path.decision_function(X, est.age_), atol=1e-10
    )
    np.testing.assert_array_equal(est.predict(X), path.predict(X, est.age_))
    assert est.score(X, y) == np.mean(est.predict(X) == y)
    # no primal coefficients for a non-linear kernel (as SVC)
    assert not hasattr(est, "coef_")
    with pytest.raises(AttributeError, match="linear kernel"):
        est.coef_


def test_fit_at_an_inner_age(fitted, small):
    X, y = small
    path = fitted.path_
    mid = float(np.sqrt(path.age_min * path.age_max))
    est = SelfPacedSVM(age=mid, age_min=path.age_min, age_max=path.age_max).fit(X, y)
    assert est.age_ == mid
    np.testing.assert_allclose(est.spl_weights_, path.weights(mid), atol=1e-10)
    np.testing.assert_allclose(
        est.decision_function(X), path.decision_function(X, mid), atol=1e-8
    )


def test_linear_coef(cancer):
    X, y = cancer
    est = SelfPacedSVM(C=0.5, kernel="linear").fit(X, y)
    assert est.coef_.shape == (1, X.shape[1])
    np.testing.assert_allclose(
        est.coef_, est.dual_coef_ @ est.support_vectors_, rtol=0, atol=1e-10
    )
    np.testing.assert_allclose(est.coef_[0], est.path_.coef(est.age_), atol=1e-12)
    np.testing.assert_allclose(
        est.decision_function(X), X @ est.coef_[0] + est.intercept_[0], atol=1e-10
    )
    with pytest.raises(ValueError, match="linear"):
        SelfPacedSVM(kernel="rbf").fit(X, y).path_.coef(est.age_)


def test_precomputed_kernel_equals_linear(cancer):
    X, y = cancer
    lin = SelfPacedSVM(C=0.5, kernel="linear").fit(X, y)
    lo, hi = lin.path_.age_min, lin.path_.age_max
    K = X @ X.T
    pre = SelfPacedSVM(C=0.5, kernel="precomputed", age_min=lo, age_max=hi).fit(K, y)
    assert pre.support_vectors_.shape == (0, 0)  # as SVC
    assert pre.n_features_in_ == X.shape[0]
    assert pre.__sklearn_tags__().input_tags.pairwise
    np.testing.assert_allclose(pre.spl_weights_, lin.spl_weights_, atol=1e-8)
    np.testing.assert_allclose(
        pre.decision_function(K), lin.decision_function(X), atol=1e-8
    )
    X_new = X[:7] + 0.1
    np.testing.assert_allclose(
        pre.decision_function(X_new @ X.T), lin.decision_function(X_new), atol=1e-8
    )
    with pytest.raises(ValueError, match="features"):
        pre.decision_function(X_new)
    with pytest.raises(AttributeError):
        pre.coef_


def test_multiclass_raises_and_one_vs_rest_works():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.raises(ValueError, match=r"sklearn\.multiclass\.OneVsRestClassifier"):
        SelfPacedSVM().fit(X, y)
    # ages beyond every hinge loss (hard regularizer): each binary problem is SVC's
    base = SelfPacedSVM(kernel="linear", regularizer="hard", age_min=50.0, age_max=99.0)
    ovr = OneVsRestClassifier(base).fit(X, y)
    assert len(ovr.estimators_) == 3
    np.testing.assert_array_equal(ovr.classes_, [0, 1, 2])
    for est in ovr.estimators_:
        np.testing.assert_array_equal(est.spl_weights_, 1.0)
    sk = OneVsRestClassifier(SVC(kernel="linear", tol=1e-12)).fit(X, y)
    # libsvm keeps its kernel cache in single precision: on iris SVC(tol=1e-12) is
    # 1.2e-6 away from the certified optimum (KKT 2e-15, our SMO at tol 1e-14)
    np.testing.assert_allclose(
        ovr.decision_function(X), sk.decision_function(X), rtol=0, atol=1e-5
    )
    np.testing.assert_array_equal(ovr.predict(X), sk.predict(X))
    assert ovr.score(X, y) > 0.8


@pytest.mark.parametrize(
    "params, match",
    [
        ({"C": 0.0}, "'C' parameter"),
        ({"C": -1.0}, "'C' parameter"),
        ({"kernel": "cubic"}, "'kernel' parameter"),
        ({"regularizer": "quadratic"}, "'regularizer' parameter"),
        ({"gamma": -1.0}, "'gamma' parameter"),
        ({"degree": -1}, "'degree' parameter"),
        ({"age": -1.0}, "'age' parameter"),
        ({"age_min": 0.0}, "'age_min' parameter"),
        ({"max_events": 0}, "'max_events' parameter"),
        ({"tol": 0.0}, "'tol' parameter"),
    ],
)
def test_bad_parameters(small, params, match):
    X, y = small
    with pytest.raises(ValueError, match=match):
        SelfPacedSVM(**params).fit(X, y)


def test_bad_data(small, fitted):
    X, y = small
    with pytest.raises(ValueError, match="one class"):
        SelfPacedSVM().fit(X, np.full(X.shape[0], "pos"))
    with pytest.raises(ValueError, match="class"):
        SelfPacedSVM().fit(X, y, sample_weight=(y == "pos").astype(float))
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SelfPacedSVM().fit(X_nan, y)
    with pytest.raises(ValueError, match="Unknown label type"):
        SelfPacedSVM().fit(X, np.linspace(0.0, 1.0, X.shape[0]))
    with pytest.raises(ValueError, match="sample_weight"):
        SelfPacedSVM().fit(X, y, sample_weight=-np.ones(X.shape[0]))
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :2])
    with pytest.raises(TypeError, match="[Ss]parse"):
        SelfPacedSVM().fit(sparse.csr_matrix(X), y)


def test_age_outside_range(small, fitted):
    X, y = small
    path = fitted.path_
    with pytest.raises(ValueError, match=r"age=.* is outside"):
        SelfPacedSVM(
            age=10 * path.age_max, age_min=path.age_min, age_max=path.age_max
        ).fit(X, y)
    with pytest.raises(ValueError, match=r"age=.* is outside"):
        SelfPacedSVM(
            age=0.5 * path.age_min, age_min=path.age_min, age_max=path.age_max
        ).fit(X, y)


def test_reproducible_and_clone(small):
    X, y = small
    est = SelfPacedSVM(C=2.0, regularizer="linear", gamma=0.3)
    a = clone(est).fit(X, y)
    b = clone(est).fit(X, y)
    assert a.age_ == b.age_ and a.n_events_ == b.n_events_
    np.testing.assert_array_equal(a.path_.breakpoints, b.path_.breakpoints)
    np.testing.assert_array_equal(a.dual_coef_, b.dual_coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    np.testing.assert_array_equal(a.spl_weights_, b.spl_weights_)
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))
    assert est.get_params()["gamma"] == 0.3


def test_feature_names(small):
    pd = pytest.importorskip("pandas")
    X, y = small
    df = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    est = SelfPacedSVM(kernel="linear").fit(df, y)
    np.testing.assert_array_equal(est.feature_names_in_, df.columns)
    np.testing.assert_allclose(
        est.decision_function(df), est.path_.decision_function(X, est.age_), atol=1e-10
    )


def test_weighted_solve_margins_from_the_solver_gradient():
    """After a weighted solve, margins() of the solution come from the SMO gradient
    (and the support rows for the samples left out): they equal Q a + y b."""
    from sklearn.datasets import make_classification

    from gaga.problems import SVMProblem

    X, y = make_classification(n_samples=80, n_features=4, random_state=0)
    p = SVMProblem(X, y, C=1.0, kernel="rbf")
    v = np.random.default_rng(0).uniform(0, 1, 80)
    v[:10] = 0.0
    a, b, info = p.solve_weighted(v)
    assert info["converged"]
    expect = p.Q @ a + p.y_pm * b
    np.testing.assert_allclose(p.margins(a, b), expect, rtol=0, atol=1e-12)
    a2 = a.copy()
    a2[np.flatnonzero(a)[0]] *= 0.5  # another point: not the cached one
    np.testing.assert_allclose(
        p.margins(a2, b), p.Q @ a2 + p.y_pm * b, rtol=0, atol=1e-12
    )
