"""Displays of `gaga.plotting` rendered with the Agg backend."""

import sys

import numpy as np
import pytest

from gaga import SelfPacedLasso, age_path_lasso
from gaga.cv import SelfPacedLassoCV

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gaga.plotting import AgePathDisplay, CVAgeDisplay  # noqa: E402


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.randn(40)
    y[:4] += 8.0
    return X, y


@pytest.fixture(scope="module")
def hard_path(data):
    # the hard regularizer's path jumps at every sample event
    X, y = data
    path = age_path_lasso(X, y, alpha=0.05, regularizer="hard", age_max=60.0)
    assert len(path.jumps) > 0
    return path


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _segments_cross(x, y, age):
    """Whether a line drawn through (x, y) joins both sides of ``age``."""
    ok = np.isfinite(y[:-1]) & np.isfinite(y[1:])
    return bool(np.any(ok & (x[:-1] < age) & (x[1:] >= age)))


def test_from_path_coef_breaks_lines_at_jumps(hard_path, tmp_path):
    rc = dict(mpl.rcParams)
    disp = AgePathDisplay.from_path(hard_path, kind="coef")
    assert dict(mpl.rcParams) == rc  # no global state touched
    assert disp.ax_.figure is disp.figure_
    assert len(disp.lines_) == hard_path.coef_knots.shape[1]
    assert disp.age_line_ is None
    # one marker per event at the breakpoints, one per jump
    np.testing.assert_allclose(disp.events_.get_xdata(), hard_path.breakpoints)
    jump_ages = np.unique([e.age for e in hard_path.jumps])
    np.testing.assert_allclose(np.sort(disp.jumps_.get_xdata()), jump_ages)
    x = np.asarray(disp.lines_[0].get_xdata(), dtype=float)
    Y = np.column_stack([ln.get_ydata() for ln in disp.lines_]).astype(float)
    real_jump = False
    for a in jump_ages[jump_ages > hard_path.age_min]:
        for j in range(Y.shape[1]):
            assert not _segments_cross(x, Y[:, j], a), f"line {j} joined at jump {a}"
        # the left limit and the post-jump value differ: a real jump, drawn as one
        k = int(np.flatnonzero(x == a)[-1])
        assert np.all(np.isnan(Y[k - 1])) and x[k - 1] == a
        real_jump |= bool(np.max(np.abs(Y[k] - Y[k - 2])) > 1e-6)
    assert real_jump
    # exact values: at the knots (not at a jump age) the curves hold coef_knots
    for a, c in zip(hard_path.knots, hard_path.coef_knots):
        if a in jump_ages:
            continue
        k = int(np.flatnonzero(x == a)[-1])
        np.testing.assert_allclose(Y[k], c, atol=1e-10)
    disp.figure_.savefig(tmp_path / "coef.png")
    assert (tmp_path / "coef.png").stat().st_size > 0


def test_continuous_path_has_single_unbroken_lines(data):
    X, y = data
    path = age_path_lasso(X, y, alpha=0.05, regularizer="linear")
    jumps = {e.age for e in path.jumps}
    disp = AgePathDisplay.from_path(path, kind="objective", n_points=50)
    assert len(disp.lines_) == 1
    yv = np.asarray(disp.lines_[0].get_ydata(), dtype=float)
    assert np.sum(np.isnan(yv)) == len(jumps)
    np.testing.assert_allclose(disp.events_.get_xdata(), path.breakpoints)


def test_from_estimator_marks_age_and_weights(data):
    X, y = data
    est = SelfPacedLasso(alpha=0.05, regularizer="hard", age=2.0).fit(X, y)
    _, ax = plt.subplots()
    disp = AgePathDisplay.from_estimator(est, kind="weights", ax=ax, n_points=30)
    assert disp.ax_ is ax
    assert len(disp.lines_) == X.shape[0]
    np.testing.assert_allclose(disp.age_line_.get_xdata(), [est.age_, est.age_])
    with pytest.raises(ValueError, match="kind"):
        AgePathDisplay.from_estimator(est, kind="loss")
    with pytest.raises(ValueError, match="not fitted"):
        AgePathDisplay.from_estimator(SelfPacedLasso())


def test_cv_age_display(data):
    X, y = data
    est = SelfPacedLassoCV(alpha=0.05, ages=12, cv=3).fit(X, y)
    disp = CVAgeDisplay.from_estimator(est)
    assert len(disp.lines_) == 1
    np.testing.assert_allclose(disp.lines_[0].get_xdata(), est.ages_)
    np.testing.assert_allclose(disp.lines_[0].get_ydata(), est.scores_path_.mean(1))
    assert disp.fill_between_ is not None
    np.testing.assert_allclose(disp.age_line_.get_xdata(), [est.age_, est.age_])
    folds = CVAgeDisplay(est.ages_, est.scores_path_).plot(show_folds=True)
    assert len(folds.lines_) == 1 + 3 and folds.age_line_ is None
    with pytest.raises(ValueError, match="n_ages"):
        CVAgeDisplay(est.ages_, est.scores_path_[:-1]).plot()


def test_missing_matplotlib_mentions_the_extra(monkeypatch, hard_path):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"gaga\[plot\]"):
        AgePathDisplay.from_path(hard_path)


# --------------------------------------------------------------------------------------
# SVM paths
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def svm_data():
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=40,
        n_features=3,
        n_informative=3,
        n_redundant=0,
        flip_y=0.15,
        random_state=0,
    )
    return X, y


@pytest.fixture(scope="module")
def svm_hard_path(svm_data):
    from gaga import age_path_svm

    X, y = svm_data
    path = age_path_svm(X, y, C=1.0, kernel="rbf", regularizer="hard")
    assert len(path.jumps) > 0
    return path


def test_svm_coef_plots_dual_coef_with_jumps(svm_hard_path, svm_data):
    X, _ = svm_data
    path = svm_hard_path
    disp = AgePathDisplay.from_path(path, kind="coef", n_points=60)
    assert disp.kind == "dual_coef"
    assert len(disp.lines_) == X.shape[0]  # one curve per training sample
    assert disp.ax_.get_ylabel().startswith("dual coefficients")
    np.testing.assert_allclose(disp.events_.get_xdata(), path.breakpoints)
    jump_ages = np.unique([e.age for e in path.jumps])
    np.testing.assert_allclose(np.sort(disp.jumps_.get_xdata()), jump_ages)
    x = np.asarray(disp.lines_[0].get_xdata(), dtype=float)
    Y = np.column_stack([ln.get_ydata() for ln in disp.lines_]).astype(float)
    for a in jump_ages[jump_ages > path.age_min]:
        for j in range(Y.shape[1]):
            assert not _segments_cross(x, Y[:, j], a), f"line {j} joined at jump {a}"
    # exact values: the curves hold path.dual_coef where they are finite
    ok = np.all(np.isfinite(Y), axis=1)
    k = np.flatnonzero(ok)[:: max(1, ok.sum() // 8)]
    np.testing.assert_allclose(Y[k], path.dual_coef(x[k]), atol=1e-10)


@pytest.mark.parametrize("kind", ["weights", "objective"])
def test_svm_weights_and_objective(svm_hard_path, svm_data, kind):
    X, _ = svm_data
    disp = AgePathDisplay.from_path(svm_hard_path, kind=kind, n_points=40)
    assert len(disp.lines_) == (X.shape[0] if kind == "weights" else 1)
    x = np.asarray(disp.lines_[0].get_xdata(), dtype=float)
    y0 = np.asarray(disp.lines_[0].get_ydata(), dtype=float)
    ok = np.isfinite(y0)
    ref = (
        svm_hard_path.weights(x[ok])[:, 0]
        if kind == "weights"
        else svm_hard_path.objective(x[ok])
    )
    np.testing.assert_allclose(y0[ok], ref, atol=1e-10)
    # the hard regularizer's path jumps: one NaN break per jump inside the range
    jumps = np.unique([e.age for e in svm_hard_path.jumps])
    assert np.sum(~ok) == np.sum(jumps > svm_hard_path.age_min)


def test_svm_from_estimator(svm_data):
    from gaga import SelfPacedSVM

    X, y = svm_data
    est = SelfPacedSVM(kernel="linear").fit(X, y)
    disp = AgePathDisplay.from_estimator(est, kind="coef", n_points=30)
    assert len(disp.lines_) == X.shape[0]
    np.testing.assert_allclose(disp.age_line_.get_xdata(), [est.age_, est.age_])


def test_svm_cv_age_display(svm_data):
    from gaga.cv import SelfPacedSVMCV

    X, y = svm_data
    est = SelfPacedSVMCV(ages=8, cv=3, scoring="roc_auc").fit(X, y)
    disp = CVAgeDisplay.from_estimator(est)
    np.testing.assert_allclose(disp.lines_[0].get_ydata(), est.scores_path_.mean(1))
    assert disp.ax_.get_ylabel() == "roc_auc"
