"""Cross-validation along the age path: SelfPacedLassoCV, score_path, age_grid."""

import time

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from gaga import SelfPacedLasso, SelfPacedSVM, age_path_lasso
from gaga.cv import SelfPacedLassoCV, SelfPacedSVMCV, age_grid, score_path

ALPHA = 0.05


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    n, p = 45, 4
    X = rng.randn(n, p)
    y = X @ np.array([1.0, -2.0, 0.0, 0.5]) + 0.3 * rng.randn(n)
    y[:5] += 8.0  # outliers: the self-paced model should down-weight them
    return X, y


@pytest.fixture(scope="module")
def full_path(data):
    X, y = data
    return age_path_lasso(X, y, alpha=ALPHA)


def test_age_grid_covers_range_and_breakpoints():
    bp = np.concatenate([np.linspace(1.0, 1.1, 50), [30.0]])
    grid = age_grid(bp, 0.5, 100.0, 40)
    assert grid.shape == (40,)
    assert np.all(np.diff(grid) > 0)
    assert grid[0] == 0.5 and grid[-1] == 100.0
    # dense where the events are dense: half of the grid follows the breakpoints
    assert np.sum((grid >= 1.0) & (grid <= 1.1)) >= 15
    # event-free stretches are still covered (geometric half)
    assert np.sum((grid > 2.0) & (grid < 90.0)) >= 5
    # without breakpoints: a purely geometric grid
    np.testing.assert_allclose(age_grid([], 1.0, 100.0, 3), [1.0, 10.0, 100.0])
    with pytest.raises(ValueError):
        age_grid(bp, 2.0, 1.0, 10)


def test_score_path_matches_metrics(data, full_path):
    X, y = data
    ages = np.linspace(full_path.age_min, full_path.age_max, 7)
    s = score_path(full_path, X, y, ages)
    assert s.shape == (7,)
    pred = full_path.predict(X, ages)
    np.testing.assert_allclose(s, [r2_score(y, p) for p in pred], rtol=0, atol=1e-12)
    mae = score_path(full_path, X, y, ages[2], scoring="neg_mean_absolute_error")
    assert isinstance(mae, float)
    assert mae == pytest.approx(-mean_absolute_error(y, pred[2]), abs=1e-12)
    with pytest.raises(ValueError, match="outside"):
        score_path(full_path, X, y, [full_path.age_max * 2])


def test_cv_shapes_refit_and_default_grid(data):
    X, y = data
    est = SelfPacedLassoCV(alpha=ALPHA, ages=15, cv=3).fit(X, y)
    assert est.ages_.shape == (15,)
    assert est.scores_path_.shape == (15, 3)
    assert np.all(np.isfinite(est.scores_path_))
    lo, hi = est.age_range_
    assert est.ages_[0] == lo and est.ages_[-1] == hi
    assert est.age_ in est.ages_
    i = int(np.flatnonzero(est.ages_ == est.age_)[0])
    assert est.best_score_ == pytest.approx(est.scores_path_.mean(axis=1).max())
    assert est.scores_path_[i].mean() == pytest.approx(est.best_score_)
    # refit on all data at age_, path kept
    assert isinstance(est.best_estimator_, SelfPacedLasso)
    assert est.best_estimator_.age_ == pytest.approx(est.age_)
    assert est.path_ is est.best_estimator_.path_
    assert est.path_.age_min == pytest.approx(
        lo
    ) and est.path_.age_max == pytest.approx(hi)
    np.testing.assert_allclose(est.coef_, est.path_.coef(est.age_))
    np.testing.assert_allclose(est.predict(X), est.best_estimator_.predict(X))
    assert clone(est).get_params()["ages"] == 15


def test_cv_matches_bruteforce_gridsearch(data, full_path):
    X, y = data
    # a fixed, explicit range so that every fold path covers the grid
    lo, hi = full_path.age_min, 20 * full_path.age_min
    ages = np.geomspace(lo * 1.2, hi * 0.9, 7)
    cv = KFold(3, shuffle=True, random_state=0)
    scorings = {"r2": None, "mae": "neg_mean_absolute_error"}
    gs = GridSearchCV(
        SelfPacedLasso(alpha=ALPHA, age_min=lo, age_max=hi),
        {"age": list(ages)},
        cv=cv,
        scoring={"r2": "r2", "mae": "neg_mean_absolute_error"},
        refit="mae",
    ).fit(X, y)
    for name, scoring in scorings.items():
        est = SelfPacedLassoCV(
            alpha=ALPHA, ages=ages, age_min=lo, age_max=hi, cv=cv, scoring=scoring
        ).fit(X, y)
        res = gs.cv_results_
        brute = np.column_stack([res[f"split{k}_test_{name}"] for k in range(3)])
        assert est.scores_path_.shape == brute.shape == (7, 3)
        np.testing.assert_allclose(est.scores_path_, brute, rtol=0, atol=1e-8)
        best = ages[int(np.argmin(res[f"rank_test_{name}"]))]
        assert est.age_ == pytest.approx(best, rel=1e-15)
        np.testing.assert_allclose(
            est.best_score_, res[f"mean_test_{name}"].max(), rtol=0, atol=1e-8
        )
    # the last est used the refit metric of gs
    assert est.age_ == pytest.approx(gs.best_params_["age"], rel=1e-15)
    np.testing.assert_allclose(est.coef_, gs.best_estimator_.coef_, atol=1e-10)


def test_cv_grid_over_alpha_and_regularizer(data):
    X, y = data
    est = SelfPacedLassoCV(
        alpha=[ALPHA, 0.3], regularizer=["linear", "hard"], ages=10, cv=3
    ).fit(X, y)
    assert len(est.cv_results_) == 4
    best = max(est.cv_results_, key=lambda r: r["best_score"])
    assert est.alpha_ == best["params"]["alpha"]
    assert est.regularizer_ == best["params"]["regularizer"]
    assert est.best_score_ == best["best_score"]
    np.testing.assert_array_equal(est.scores_path_, best["scores_path"])
    assert est.best_estimator_.alpha == est.alpha_
    assert est.best_estimator_.regularizer == est.regularizer_


def test_cv_bad_arguments(data, full_path):
    X, y = data
    with pytest.raises(ValueError, match="age range"):
        SelfPacedLassoCV(
            alpha=ALPHA,
            ages=[full_path.age_max * 10],
            age_min=full_path.age_min,
            age_max=full_path.age_max,
            cv=3,
        ).fit(X, y)
    with pytest.raises(ValueError):
        SelfPacedLassoCV(alpha=-1.0, cv=3).fit(X, y)
    with pytest.raises(ValueError):
        SelfPacedLassoCV(alpha=ALPHA, ages=1, cv=3).fit(X, y)
    with pytest.raises(ValueError):
        SelfPacedLassoCV(alpha=ALPHA, scoring="not-a-scorer", cv=3).fit(X, y)


def test_cv_on_dask_cluster_matches_serial(data):
    pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_config

    X, y = data
    kwargs = dict(alpha=[ALPHA, 0.3], ages=12, cv=3)
    t0 = time.perf_counter()
    serial = SelfPacedLassoCV(**kwargs).fit(X, y)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        with parallel_config(backend="dask"):
            par = SelfPacedLassoCV(**kwargs, n_jobs=-1).fit(X, y)
    assert time.perf_counter() - t0 < 60
    assert par.age_ == serial.age_
    assert par.alpha_ == serial.alpha_
    np.testing.assert_array_equal(par.ages_, serial.ages_)
    np.testing.assert_array_equal(par.scores_path_, serial.scores_path_)
    np.testing.assert_array_equal(par.coef_, serial.coef_)


@pytest.mark.slow
@parametrize_with_checks([SelfPacedLassoCV(alpha=0.1, ages=4, cv=2, max_events=200)])
def test_sklearn_common_checks(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------------------
# SelfPacedSVMCV
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def svm_data():
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=60,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        flip_y=0.1,
        random_state=2,
    )
    return X, y


@pytest.fixture(scope="module")
def svm_path(svm_data):
    from gaga import age_path_svm

    X, y = svm_data
    return age_path_svm(X, y, C=1.0, kernel="rbf")


def test_svm_cv_shapes_refit_and_delegation(svm_data):

    X, y = svm_data
    est = SelfPacedSVMCV(C=1.0, ages=12, cv=3).fit(X, y)
    assert est.ages_.shape == (12,)
    assert est.scores_path_.shape == (12, 3)
    assert np.all(np.isfinite(est.scores_path_))
    lo, hi = est.age_range_
    assert est.ages_[0] == lo and est.ages_[-1] == hi
    assert est.age_ in est.ages_
    assert est.best_score_ == pytest.approx(est.scores_path_.mean(axis=1).max())
    np.testing.assert_array_equal(est.classes_, [0, 1])
    assert isinstance(est.best_estimator_, SelfPacedSVM)
    assert est.best_estimator_.age_ == pytest.approx(est.age_)
    assert est.path_ is est.best_estimator_.path_
    np.testing.assert_array_equal(est.dual_coef_, est.best_estimator_.dual_coef_)
    np.testing.assert_array_equal(est.support_, est.best_estimator_.support_)
    np.testing.assert_array_equal(
        est.decision_function(X), est.best_estimator_.decision_function(X)
    )
    np.testing.assert_array_equal(est.predict(X), est.best_estimator_.predict(X))
    assert est.score(X, y) == est.best_estimator_.score(X, y)
    assert est.C_ == 1.0 and est.regularizer_ == "linear"
    assert not hasattr(est, "coef_")  # rbf kernel


def test_svm_cv_folds_are_stratified(svm_data):

    X, y = svm_data
    order = np.argsort(y, kind="stable")
    Xs, ys = X[order], y[order]
    # with sorted labels, unstratified 2-fold splits would train on one class only
    est = SelfPacedSVMCV(ages=6, cv=2).fit(Xs, ys)
    assert est.scores_path_.shape == (6, 2)
    assert np.all(np.isfinite(est.scores_path_))


def test_svm_cv_matches_bruteforce_gridsearch(svm_data, svm_path):

    X, y = svm_data
    lo, hi = svm_path.age_min, svm_path.age_max
    ages = np.geomspace(lo * 1.1, hi * 0.95, 6)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    gs = GridSearchCV(
        SelfPacedSVM(C=1.0, age_min=lo, age_max=hi),
        {"age": list(ages)},
        cv=cv,
        scoring={"acc": "accuracy", "auc": "roc_auc"},
        refit="auc",
    ).fit(X, y)
    res = gs.cv_results_
    for name, scoring in {"acc": None, "auc": "roc_auc"}.items():
        est = SelfPacedSVMCV(
            C=1.0, ages=ages, age_min=lo, age_max=hi, cv=cv, scoring=scoring
        ).fit(X, y)
        brute = np.column_stack([res[f"split{k}_test_{name}"] for k in range(3)])
        assert est.scores_path_.shape == brute.shape == (6, 3)
        np.testing.assert_allclose(est.scores_path_, brute, rtol=0, atol=1e-8)
        best = ages[int(np.argmin(res[f"rank_test_{name}"]))]
        assert est.age_ == pytest.approx(best, rel=1e-15)
        np.testing.assert_allclose(
            est.best_score_, res[f"mean_test_{name}"].max(), rtol=0, atol=1e-8
        )
    assert est.age_ == pytest.approx(gs.best_params_["age"], rel=1e-15)
    np.testing.assert_allclose(
        est.decision_function(X), gs.best_estimator_.decision_function(X), atol=1e-10
    )


def test_svm_cv_precomputed_kernel_equals_linear(svm_data):
    from gaga import age_path_svm

    X, y = svm_data
    path = age_path_svm(X, y, C=0.5, kernel="linear")
    kw = dict(
        C=0.5,
        ages=np.geomspace(path.age_min * 1.5, path.age_max, 5),
        age_min=path.age_min,
        age_max=path.age_max,
        cv=StratifiedKFold(3, shuffle=True, random_state=1),
        scoring="roc_auc",
    )
    lin = SelfPacedSVMCV(kernel="linear", **kw).fit(X, y)
    pre = SelfPacedSVMCV(kernel="precomputed", **kw).fit(X @ X.T, y)
    np.testing.assert_allclose(pre.scores_path_, lin.scores_path_, atol=1e-8)
    assert pre.age_ == lin.age_
    np.testing.assert_allclose(
        pre.decision_function(X[:5] @ X.T), lin.decision_function(X[:5]), atol=1e-8
    )
    np.testing.assert_allclose(lin.coef_, lin.best_estimator_.coef_)


def test_svm_cv_grid_over_C(svm_data):

    X, y = svm_data
    est = SelfPacedSVMCV(C=[0.3, 3.0], ages=6, cv=3).fit(X, y)
    assert len(est.cv_results_) == 2
    best = max(est.cv_results_, key=lambda r: r["best_score"])
    assert est.C_ == best["params"]["C"]
    assert est.best_estimator_.C == est.C_
    np.testing.assert_array_equal(est.scores_path_, best["scores_path"])


def test_svm_cv_bad_arguments(svm_data):

    X, y = svm_data
    with pytest.raises(ValueError, match="C"):
        SelfPacedSVMCV(C=-1.0, cv=3).fit(X, y)
    with pytest.raises(ValueError, match="C must contain positive"):
        SelfPacedSVMCV(C=[1.0, -1.0], cv=3).fit(X, y)
    with pytest.raises(ValueError, match="OneVsRestClassifier"):
        SelfPacedSVMCV(cv=3).fit(X, np.arange(X.shape[0]) % 3)
    with pytest.raises(ValueError, match="kernel"):
        SelfPacedSVMCV(kernel="cubic", cv=3).fit(X, y)


def test_svm_cv_on_dask_cluster_matches_serial(svm_data):
    pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_config

    X, y = svm_data
    kwargs = dict(C=[0.5, 2.0], ages=8, cv=3)
    serial = SelfPacedSVMCV(**kwargs).fit(X, y)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        with parallel_config(backend="dask"):
            par = SelfPacedSVMCV(**kwargs, n_jobs=-1).fit(X, y)
    assert par.age_ == serial.age_ and par.C_ == serial.C_
    np.testing.assert_array_equal(par.scores_path_, serial.scores_path_)
    np.testing.assert_array_equal(par.dual_coef_, serial.dual_coef_)


SVM_CV_EXPECTED_FAILED_CHECKS = {
    "check_estimators_dtypes": (
        "On this check's data (20 x 5 integers in {0, 1, 2}, labels alternating, no "
        "structure) a fold's path loses a whole class in a jump and stops early with "
        "a ConvergenceWarning; no age is then covered by every fold and the CV raises "
        "a clear ValueError instead of scoring a partial grid."
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "As for SVC, gamma='scale' uses the unweighted variance of X, so repeated rows "
        "change the kernel."
    ),
}


@pytest.mark.slow
@parametrize_with_checks(
    [SelfPacedSVMCV(ages=4, cv=2)],
    expected_failed_checks=lambda est: SVM_CV_EXPECTED_FAILED_CHECKS,
)
def test_svm_cv_sklearn_common_checks(estimator, check):
    check(estimator)
