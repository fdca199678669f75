"""Shared cross-validation engine along exact age paths.

One engine serves every self-paced estimator: a *path model* (see :class:`_PathModel`)
tells it how to compute a path on a training fold, the default age range on the full
data and which estimator to refit.  The engine

1. fixes one age range per hyper-parameter setting (the user's ``age_min`` and
   ``age_max`` or the model's data-driven default on the full data), so that every
   fold's path covers the same ages;
2. computes one path per (setting, fold) through :class:`joblib.Parallel` (no warm start
   across folds, so no leakage between folds);
3. builds a common age grid per setting with :func:`age_grid` from the pooled
   breakpoints of the fold paths (or takes the user's grid);
4. scores every fold path at every grid age exactly, from the path (no refit per age),
   with :func:`score_path`;
5. picks the setting and age with the best mean score over the folds and refits the base
   estimator on all data at that age (its ``path_`` is kept).

The SVM path model (:class:`_SVMPathModel`) returns an :class:`~gaga.AgePath` with
``decision_function(X, age)`` / ``predict(X, age)``; for ``kernel="precomputed"`` the
folds take the kernel blocks ``X[train][:, train]`` and ``X[test][:, train]``.
"""

import numbers
import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    _fit_context,
    clone,
)
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from gaga.lasso import SelfPacedLasso
from gaga.regularizers import Regularizer, get_regularizer
from gaga.svm import SelfPacedSVM, _check_binary_target

__all__ = ["SelfPacedLassoCV", "SelfPacedSVMCV", "age_grid", "score_path"]


# --------------------------------------------------------------------------------------
# Age grid
# --------------------------------------------------------------------------------------
def _spacing(a, b, n):
    """``n`` points from ``a`` to ``b``: geometric when ``a > 0``, linear otherwise."""
    if n <= 0:
        return np.empty(0)
    if n == 1:
        return np.array([a])
    if a > 0:
        return np.geomspace(a, b, n)
    return np.linspace(a, b, n)


def age_grid(breakpoints, age_min, age_max, n_ages=100):
    """Default grid of ages for scoring an age path.

    The grid mixes two halves so that it follows the events where they are dense and
    still covers the stretches without events:

    * ``n_ages - n_ages // 2`` ages spaced geometrically from ``age_min`` to ``age_max``
      (both ends included; linearly when ``age_min <= 0``). Ages of self-paced paths
      span several decades (sample events happen where the age crosses the losses,
      which are heavy tailed), hence the geometric spacing;
    * ``n_ages // 2`` ages at evenly spaced quantiles of the breakpoints inside the
      range, so every region with events gets grid points in proportion to its number
      of events. A grid age placed exactly at a breakpoint reads the path's post-event
      value.

    Duplicates are removed and the largest (logarithmic) gaps bisected until the grid
    has ``n_ages`` distinct ages (fewer only if the range itself is degenerate).

    Parameters
    ----------
    breakpoints : array-like of shape (n_breakpoints,)
        Event ages; for cross-validation the pooled breakpoints of all fold paths.
    age_min, age_max : float
        Range of the grid.
    n_ages : int, default=100
        Number of ages.

    Returns
    -------
    ages : ndarray of shape (n_ages,)
        Increasing ages in ``[age_min, age_max]``.
    """
    age_min, age_max = float(age_min), float(age_max)
    if not (np.isfinite(age_min) and np.isfinite(age_max) and age_min < age_max):
        raise ValueError(
            f"age_min={age_min!r} must be finite and < age_max={age_max!r}."
        )
    if not (isinstance(n_ages, numbers.Integral) and n_ages >= 2):
        raise ValueError(f"n_ages={n_ages!r} must be an integer >= 2.")
    bp = np.asarray(breakpoints, dtype=float).ravel()
    bp = np.sort(bp[np.isfinite(bp) & (bp >= age_min) & (bp <= age_max)])
    n_q = n_ages // 2 if bp.size else 0
    grid = _spacing(age_min, age_max, n_ages - n_q)
    if n_q:
        q = np.quantile(bp, (np.arange(n_q) + 0.5) / n_q, method="inverted_cdf")
        grid = np.concatenate([grid, q])
    grid = np.unique(grid)
    use_log = age_min > 0
    for _ in range(n_ages):
        if grid.size >= n_ages:
            break
        g = np.log(grid) if use_log else grid
        k = int(np.argmax(np.diff(g)))
        mid = 0.5 * (g[k] + g[k + 1])
        mid = float(np.exp(mid)) if use_log else float(mid)
        if not grid[k] < mid < grid[k + 1]:
            break
        grid = np.insert(grid, k + 1, mid)
    return grid


# --------------------------------------------------------------------------------------
# Scoring a path exactly at given ages
# --------------------------------------------------------------------------------------
def _is_classification_path(path):
    return getattr(getattr(path, "problem", None), "kind", None) == "svm"


class _PathRegressorAtAge(RegressorMixin, BaseEstimator):
    """Read-only regressor: a path frozen at one age, for scikit-learn scorers."""

    def __init__(self, path=None, age=None):
        self.path = path
        self.age = age

    def fit(self, X, y=None):  # pragma: no cover - never fitted, scorers only predict
        raise NotImplementedError("This wrapper is only used for scoring.")

    def predict(self, X):
        return self.path.predict(X, self.age)


class _PathClassifierAtAge(ClassifierMixin, BaseEstimator):
    """Read-only binary classifier: a path frozen at one age, for scorers."""

    def __init__(self, path=None, age=None):
        self.path = path
        self.age = age
        self.classes_ = getattr(getattr(path, "problem", None), "classes_", None)

    def fit(self, X, y=None):  # pragma: no cover
        raise NotImplementedError("This wrapper is only used for scoring.")

    def decision_function(self, X):
        return self.path.decision_function(X, self.age)

    def predict(self, X):
        return self.path.predict(X, self.age)


def _wrapper_for(path):
    if _is_classification_path(path):
        return _PathClassifierAtAge(path)
    return _PathRegressorAtAge(path)


def score_path(path, X, y, ages, scoring=None):
    """Score an age path on a (held-out) set at each of ``ages``, exactly from the path.

    The model at each age is read from the path (``path.predict(X, age)`` or
    ``path.decision_function(X, age)``); nothing is refitted.

    Parameters
    ----------
    path : AgePath
        A path returned by :func:`gaga.age_path_lasso` (or an SVM age path).
    X : array-like of shape (n_samples, n_features)
        Held-out samples.
    y : array-like of shape (n_samples,)
        Held-out targets or labels.
    ages : float or array-like of shape (n_ages,)
        Ages inside ``[path.age_min, path.age_max]``.
    scoring : str, callable or None, default=None
        A scikit-learn scorer name or callable ``scorer(estimator, X, y)`` (greater is
        better). None uses the estimator's default: R^2 for regression, accuracy for
        classification.

    Returns
    -------
    scores : float or ndarray of shape (n_ages,)
        A float for a scalar ``ages``.
    """
    wrapper = _wrapper_for(path)
    scorer = check_scoring(wrapper, scoring=scoring)
    a = np.asarray(ages, dtype=float)
    if hasattr(path, "_check_ages"):
        path._check_ages(a)
    out = np.empty(a.size)
    for k, age in enumerate(a.ravel()):
        wrapper.age = float(age)
        out[k] = scorer(wrapper, X, y)
    if a.ndim == 0:
        return float(out[0])
    return out


def _score_on_grid(path, X, y, ages, scorer, wrapper):
    """Scores at ``ages`` (NaN beyond an early-stopped path's ``age_max``)."""
    out = np.full(len(ages), np.nan)
    hi = path.age_max + 1e-12 * max(1.0, abs(path.age_max))
    lo = path.age_min - 1e-12 * max(1.0, abs(path.age_min))
    for k, age in enumerate(ages):
        if lo <= age <= hi:
            wrapper.path = path
            wrapper.age = float(np.clip(age, path.age_min, path.age_max))
            out[k] = scorer(wrapper, X, y)
    return out


# --------------------------------------------------------------------------------------
# Path models: what the engine needs to know about one estimator family
# --------------------------------------------------------------------------------------
class _PathModel:
    """Interface between the CV engine and one estimator family.

    Attributes
    ----------
    grid_params : tuple of str
        Parameters of the base estimator over which a grid may be given (lists).
    """

    grid_params = ()
    is_classifier = False
    cheap_default_range = False

    def common_range(self, X, y, sample_weight, params, folds):
        """End of the age range shared by every fold path, and the user's start.

        An explicit ``age_max`` is used as given; otherwise the largest default
        ``age_max`` of the full data and (when ``cheap_default_range``) of every
        training fold. The start is the user's ``age_min`` or None: each fold path then
        starts at its own (robust) default and the common range starts at the largest
        of them.

        Returns
        -------
        age_min : float or None
        age_max : float
        """
        a0, a1 = params.get("age_min"), params.get("age_max")
        if a1 is not None:
            return (None if a0 is None else float(a0)), float(a1)
        ranges = [self.default_range(X, y, sample_weight, params)]
        if self.cheap_default_range:
            for train, _ in folds:
                sw = None if sample_weight is None else sample_weight[train]
                Xt = self.rows(X, params, train, train)
                ranges.append(self.default_range(Xt, y[train], sw, params))
        hi = max(r[1] for r in ranges)
        return (None if a0 is None else float(a0)), float(hi)

    def rows(self, X, params, rows, train):
        """Samples ``rows`` of ``X`` for a path fitted on the samples ``train``.

        ``X[rows]``, or ``X[rows][:, train]`` for a precomputed kernel (the kernel
        between the selected samples and the training samples).
        """
        if params.get("kernel") == "precomputed":
            return X[np.ix_(rows, train)]
        return X[rows]

    def estimator(self, params):
        """Unfitted base estimator for ``params``."""
        raise NotImplementedError

    def default_range(self, X, y, sample_weight, params):
        """Default ``(age_min, age_max)`` on the full data (fallback: a full path)."""
        a0, a1 = params.get("age_min"), params.get("age_max")
        if a0 is not None and a1 is not None:
            return a0, a1
        path = self.fit_path(X, y, sample_weight, params, a0, a1)
        return path.age_min, path.age_max

    def fit_path(self, X, y, sample_weight, params, age_min, age_max):
        """Age path of the training data."""
        raise NotImplementedError


class _LassoPathModel(_PathModel):
    """Self-paced Lasso (:func:`gaga.age_path_lasso`)."""

    grid_params = ("alpha", "regularizer")
    cheap_default_range = True

    def estimator(self, params):
        return SelfPacedLasso(**params)

    def default_range(self, X, y, sample_weight, params):
        from gaga._lasso_path import default_age_range
        from gaga.problems import LassoProblem

        problem = LassoProblem(
            X,
            y,
            alpha=params["alpha"],
            fit_intercept=params["fit_intercept"],
            sample_weight=sample_weight,
        )
        lo, hi = default_age_range(problem, get_regularizer(params["regularizer"]))
        a0 = params.get("age_min")
        a1 = params.get("age_max")
        return (lo if a0 is None else a0), (hi if a1 is None else a1)

    def fit_path(self, X, y, sample_weight, params, age_min, age_max):
        from gaga._lasso_path import age_path_lasso

        return age_path_lasso(
            X,
            y,
            regularizer=params["regularizer"],
            alpha=params["alpha"],
            age_min=age_min,
            age_max=age_max,
            fit_intercept=params["fit_intercept"],
            sample_weight=sample_weight,
            tol=params["tol"],
            max_events=params["max_events"],
            verbose=max(0, int(params.get("verbose", 0)) - 1),
        )


class _SVMPathModel(_PathModel):
    """Self-paced binary SVM (:func:`gaga.age_path_svm`).

    The default range comes from the hinge losses of one v = 1 fit (the path's own
    default, ``gaga._svm_path._default_range``), cheap enough to compute on the full
    data and on every training fold.
    """

    grid_params = ("C", "regularizer")
    is_classifier = True
    cheap_default_range = True

    def default_range(self, X, y, sample_weight, params):
        from gaga._svm_path import _default_range
        from gaga.problems import SVMProblem

        a0, a1 = params.get("age_min"), params.get("age_max")
        if a0 is not None and a1 is not None:
            return a0, a1
        problem = SVMProblem(
            X,
            y,
            C=params["C"],
            kernel=params["kernel"],
            gamma=params["gamma"],
            degree=params["degree"],
            coef0=params["coef0"],
            sample_weight=sample_weight,
        )
        lo, hi = _default_range(problem, get_regularizer(params["regularizer"]))
        return (lo if a0 is None else a0), (hi if a1 is None else a1)

    def estimator(self, params):
        return SelfPacedSVM(**params)

    def fit_path(self, X, y, sample_weight, params, age_min, age_max):
        from gaga._svm_path import age_path_svm

        return age_path_svm(
            X,
            y,
            regularizer=params["regularizer"],
            C=params["C"],
            kernel=params["kernel"],
            gamma=params["gamma"],
            degree=params["degree"],
            coef0=params["coef0"],
            age_min=age_min,
            age_max=age_max,
            sample_weight=sample_weight,
            tol=params["tol"],
            max_events=params["max_events"],
            verbose=max(0, int(params.get("verbose", 0)) - 1),
        )


def _fold_path(model, X, y, sample_weight, params, age_min, age_max, train):
    sw = None if sample_weight is None else sample_weight[train]
    t0 = time.perf_counter()
    Xt = model.rows(X, params, train, train)
    path = model.fit_path(Xt, y[train], sw, params, age_min, age_max)
    return path, time.perf_counter() - t0


def _as_list(value, kind):
    """A grid parameter as a list of settings (scalars and strings are one setting)."""
    if isinstance(value, (str, Regularizer)) or np.ndim(value) == 0:
        return [value]
    out = list(value)
    if not out:
        raise ValueError(f"{kind} must not be an empty list.")
    return out


def cv_age_path(
    model,
    X,
    y,
    params,
    *,
    ages=100,
    cv=None,
    scoring=None,
    n_jobs=None,
    sample_weight=None,
    groups=None,
    verbose=0,
):
    """Cross-validate the age (and a grid of ``model.grid_params``) along exact paths.

    Parameters
    ----------
    model : _PathModel
        The estimator family (path function, default range, refit estimator).
    X : ndarray of shape (n_samples, n_features)
        Training data.
    y : ndarray of shape (n_samples,)
        Targets or labels.
    params : dict
        Parameters of the base estimator; entries named in ``model.grid_params`` may be
        lists (a grid, run in the same :class:`joblib.Parallel` call as the folds).
    ages : int or array-like, default=100
        Grid size for :func:`age_grid`, or explicit ages (used for every setting).
    cv : int, cross-validation generator or iterable, default=None
        As in :func:`sklearn.model_selection.check_cv` (5-fold by default).
    scoring : str, callable or None, default=None
        See :func:`score_path`.
    n_jobs : int, default=None
        Jobs of the :class:`joblib.Parallel` call over (setting, fold); honours an
        active :func:`joblib.parallel_config` backend (e.g. ``"dask"``).
    sample_weight : ndarray of shape (n_samples,), default=None
        Used by the fits (not by the scorer, as in ``GridSearchCV`` without routing).
    groups : array-like, default=None
        Group labels for the splitter.
    verbose : int, default=0
        0 silent, 1 one line per setting, 2 also joblib's and the paths' output.

    Returns
    -------
    dict
        ``best_params`` (chosen setting), ``age``, ``ages``, ``scores_path``,
        ``age_range``, ``results`` (one dict per setting), ``fold_time``.
    """
    grids = {name: _as_list(params[name], name) for name in model.grid_params}
    settings = [dict(params)]
    for name in model.grid_params:
        settings = [{**s, name: v} for s in settings for v in grids[name]]
    cv = check_cv(cv, y, classifier=model.is_classifier)
    folds = list(cv.split(X, y, groups))
    ranges = [model.common_range(X, y, sample_weight, s, folds) for s in settings]
    if verbose:
        print(
            f"[gaga] CV: {len(settings)} setting(s) x {len(folds)} folds = "
            f"{len(settings) * len(folds)} paths"
        )
    jobs = (
        delayed(_fold_path)(model, X, y, sample_weight, s, r[0], r[1], train)
        for s, r in zip(settings, ranges)
        for train, _ in folds
    )
    out = Parallel(n_jobs=n_jobs, verbose=max(0, verbose - 1))(jobs)
    explicit = not isinstance(ages, numbers.Integral)
    results = []
    for si, (s, (lo, hi)) in enumerate(zip(settings, ranges)):
        paths = [p for p, _ in out[si * len(folds) : (si + 1) * len(folds)]]
        if lo is None:  # each fold started at its own default: take the latest start
            lo = max(p.age_min for p in paths)
        if not lo < hi:
            raise ValueError(
                f"The common age range of the fold paths is empty ([{lo:.6g}, "
                f"{hi:.6g}]); pass age_min and age_max."
            )
        if explicit:
            grid = np.sort(np.asarray(ages, dtype=float).ravel())
            tol = 1e-12 * max(1.0, abs(hi))
            if grid[0] < lo - tol or grid[-1] > hi + tol:
                raise ValueError(
                    f"ages must lie in the common age range [{lo:.6g}, {hi:.6g}] of "
                    "the fold paths; set age_min/age_max to cover them."
                )
        else:
            pooled = np.concatenate([p.breakpoints for p in paths])
            grid = age_grid(pooled, lo, hi, ages)
        wrapper = _wrapper_for(paths[0])
        scorer = check_scoring(wrapper, scoring=scoring)
        scores = np.column_stack(
            [
                _score_on_grid(
                    p, model.rows(X, s, test, train), y[test], grid, scorer, wrapper
                )
                for p, (train, test) in zip(paths, folds)
            ]
        )
        mean = scores.mean(axis=1)
        finite = np.isfinite(mean)
        if finite.any():
            best = int(np.flatnonzero(finite)[np.argmax(mean[finite])])
            best_score = float(mean[best])
        else:
            best, best_score = None, -np.inf
        results.append(
            {
                "params": {k: s[k] for k in model.grid_params},
                "age_range": (float(lo), float(hi)),
                "ages": grid,
                "scores_path": scores,
                "best_index": best,
                "best_score": best_score,
                "n_events": [p.n_events for p in paths],
            }
        )
        if verbose:
            shown = ", ".join(f"{k}={v!r}" for k, v in results[-1]["params"].items())
            age = "none" if best is None else f"{grid[best]:.6g}"
            print(f"[gaga] CV {shown}: best mean score {best_score:.6g} at age {age}")
    chosen = max(range(len(results)), key=lambda i: results[i]["best_score"])
    res = results[chosen]
    if res["best_index"] is None:
        raise ValueError(
            "No age of the grid is covered by every fold path (paths stopped early?); "
            "increase max_events or set age_min/age_max."
        )
    return {
        "best_params": {**params, **res["params"]},
        "age": float(res["ages"][res["best_index"]]),
        "ages": res["ages"],
        "scores_path": res["scores_path"],
        "age_range": res["age_range"],
        "best_score": res["best_score"],
        "results": results,
        "fold_time": float(sum(t for _, t in out)),
    }


# --------------------------------------------------------------------------------------
# SelfPacedLassoCV
# --------------------------------------------------------------------------------------
def _scoring_constraint():
    return [StrOptions(set(get_scorer_names())), callable, None]


class _SelfPacedCVMixin:
    """Shared ``fit`` logic of the ``SelfPaced*CV`` estimators.

    A subclass sets ``_model`` (a :class:`_PathModel`), implements ``_base_params()``
    (the base estimator's parameters, grid parameters possibly as lists) and lists in
    ``_fitted_attrs`` the attributes copied from the refitted ``best_estimator_``. It
    validates the data in ``fit`` and then calls ``_fit_cv``. A ``SelfPacedSVMCV`` is
    ``_SelfPacedCVMixin, ClassifierMixin, BaseEstimator`` with ``_model =
    _SVMPathModel()``, ``classes_`` set before ``_fit_cv`` and ``decision_function``
    delegated to ``best_estimator_``.
    """

    _fitted_attrs = ("path_", "coef_", "intercept_", "spl_weights_", "n_events_")

    def _fit_cv(self, X, y, sample_weight, groups):
        res = cv_age_path(
            self._model,
            X,
            y,
            self._base_params(),
            ages=self.ages,
            cv=self.cv,
            scoring=self.scoring,
            n_jobs=self.n_jobs,
            sample_weight=sample_weight,
            groups=groups,
            verbose=self.verbose,
        )
        best = res["best_params"]
        lo, hi = res["age_range"]
        self.age_ = res["age"]
        self.ages_ = res["ages"]
        self.scores_path_ = res["scores_path"]
        for name in self._model.grid_params:
            setattr(self, f"{name}_", best[name])
        self.age_range_ = (lo, hi)
        self.cv_results_ = res["results"]
        self.best_score_ = res["best_score"]
        refit = {**best, "age": self.age_, "age_min": lo, "age_max": hi}
        if self.verbose:
            print(f"[gaga] refit on all data at age={self.age_:.6g}")
        try:
            est = clone(self._model.estimator(refit)).fit(
                X, y, sample_weight=sample_weight
            )
        except ValueError:
            if self.age_min is not None:
                raise
            # The full data's start collapsed at the folds' common start (degenerate
            # data): let the path choose its own robust start and choose the age
            # again among the grid ages that this path covers.
            probe = clone(
                self._model.estimator({**refit, "age_min": None, "age": None})
            ).fit(X, y, sample_weight=sample_weight)
            start = probe.path_.age_min
            mean = self.scores_path_.mean(axis=1)
            ok = np.isfinite(mean) & (self.ages_ >= start)
            if not ok.any():
                raise ValueError(
                    f"The refit's age path starts at {start:.6g}, after every age of "
                    "the grid; pass age_min and age_max."
                ) from None
            k = int(np.flatnonzero(ok)[np.argmax(mean[ok])])
            self.age_, self.best_score_ = float(self.ages_[k]), float(mean[k])
            est = probe.set_params(age=self.age_).fit(X, y, sample_weight=sample_weight)
        self.best_estimator_ = est
        for name in self._fitted_attrs:
            setattr(self, name, getattr(est, name))
        return self


class SelfPacedLassoCV(_SelfPacedCVMixin, RegressorMixin, BaseEstimator):
    """Self-paced Lasso with the age chosen by cross-validation along exact age paths.

    For each fold one age path is computed on the training part (no warm start across
    folds) and scored on the held-out part at every age of a common grid, exactly from
    the path (no refit per age). The age with the best mean score is chosen and a
    :class:`~gaga.SelfPacedLasso` is refitted on all data at that age; its full path is
    kept in ``path_``. Grids over ``alpha`` and ``regularizer`` (lists) are evaluated in
    the same :class:`joblib.Parallel` call as the folds.

    Parameters
    ----------
    alpha : float or array-like of float, default=1.0
        L1 penalty, or a grid of penalties.
    regularizer : str, Regularizer or list of them, default="linear"
        Self-paced regularizer, or a grid of regularizers.
    ages : int or array-like, default=100
        Explicit ages, or the size of the default grid. The default grid (see
        :func:`gaga.cv.age_grid`) uses the pooled breakpoints of the fold paths over the
        common range: half of the ages geometrically spaced over ``[age_min, age_max]``
        (both ends included), half at quantiles of the breakpoints, so each region with
        events gets ages in proportion to its events and event-free stretches are still
        covered.
    age_min, age_max : float, default=None
        Common range of every fold path and of the refit. ``age_max=None`` takes the
        largest data-driven default (:func:`gaga._lasso_path.default_age_range`) of
        the full data and of the training folds; ``age_min=None`` lets each fold path
        start at its own default and takes the latest of these starts. Explicit
        ``ages`` must lie inside the range.
    fit_intercept : bool, default=True
        Whether to fit an intercept.
    tol : float, default=1e-8
        Tolerance of the paths' start points and jump landings.
    max_events : int, default=None
        Bound on the number of events of each path.
    cv : int, cross-validation generator or iterable, default=None
        Splitter as in :func:`sklearn.model_selection.check_cv` (None: 5-fold).
    scoring : str, callable or None, default=None
        A scikit-learn scorer (greater is better); None is R^2.
    n_jobs : int, default=None
        Number of jobs over (setting, fold) paths, run through :mod:`joblib` (an active
        ``joblib.parallel_config(backend="dask")`` runs them on a dask cluster).
    verbose : int, default=0
        0 silent, 1 one line per stage and setting, 2 the paths' own output.

    Attributes
    ----------
    age_ : float
        Chosen age.
    ages_ : ndarray of shape (n_ages,)
        Ages at which the folds were scored (for the chosen setting).
    scores_path_ : ndarray of shape (n_ages, n_folds)
        Held-out score of each fold path at each age of ``ages_``.
    alpha_ : float
        Chosen ``alpha``.
    regularizer_ : str or Regularizer
        Chosen regularizer.
    age_range_ : tuple of float
        Common ``(age_min, age_max)`` of the fold paths and the refit.
    cv_results_ : list of dict
        One entry per setting: ``params``, ``age_range``, ``ages``, ``scores_path``,
        ``best_index``, ``best_score``, ``n_events``.
    best_estimator_ : SelfPacedLasso
        Refitted on all data at ``age_``.
    best_score_ : float
        Mean held-out score at ``age_``.
    path_ : AgePath
        Path of the refit on all data.
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    spl_weights_ : ndarray of shape (n_samples,)
    n_events_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when X has feature names that are all strings.

    See Also
    --------
    gaga.SelfPacedLasso : The estimator at a fixed age.
    gaga.cv.score_path : Score one path on a held-out set.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from gaga.cv import SelfPacedLassoCV
    >>> X, y = make_regression(n_samples=60, n_features=4, noise=1.0, random_state=0)
    >>> est = SelfPacedLassoCV(alpha=1.0, ages=20, cv=3).fit(X, y)
    >>> est.scores_path_.shape
    (20, 3)
    """

    _parameter_constraints = {
        **{
            k: v
            for k, v in SelfPacedLasso._parameter_constraints.items()
            if k not in ("age", "alpha", "regularizer")
        },
        "alpha": [Interval(numbers.Real, 0.0, None, closed="neither"), "array-like"],
        "regularizer": [str, Regularizer, list, tuple],
        "ages": [Interval(numbers.Integral, 2, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "scoring": _scoring_constraint(),
        "n_jobs": [numbers.Integral, None],
    }

    _model = _LassoPathModel()

    def __init__(
        self,
        alpha=1.0,
        *,
        regularizer="linear",
        ages=100,
        age_min=None,
        age_max=None,
        fit_intercept=True,
        tol=1e-8,
        max_events=None,
        cv=None,
        scoring=None,
        n_jobs=None,
        verbose=0,
    ):
        self.alpha = alpha
        self.regularizer = regularizer
        self.ages = ages
        self.age_min = age_min
        self.age_max = age_max
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_events = max_events
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _base_params(self):
        return {
            "alpha": self.alpha,
            "regularizer": self.regularizer,
            "age_min": self.age_min,
            "age_max": self.age_max,
            "fit_intercept": self.fit_intercept,
            "tol": self.tol,
            "max_events": self.max_events,
            "verbose": self.verbose,
        }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Choose the age by cross-validation, then refit on all data at that age.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the fits (the scorer is unweighted).
        groups : array-like of shape (n_samples,), default=None
            Group labels for group splitters.

        Returns
        -------
        self : SelfPacedLassoCV
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        for a in np.ravel(self.alpha):
            if not (np.isfinite(a) and a > 0):
                raise ValueError(f"alpha must contain positive reals; got {a!r}.")
        if not isinstance(self.ages, numbers.Integral):
            grid = np.asarray(self.ages, dtype=float).ravel()
            if grid.size == 0 or not np.all(np.isfinite(grid)):
                raise ValueError("ages must be a non-empty array of finite ages.")
        return self._fit_cv(X, y, sample_weight, groups)

    def predict(self, X):
        """Predict with the refitted model at ``age_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predictions.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_ + self.intercept_


# --------------------------------------------------------------------------------------
# SelfPacedSVMCV
# --------------------------------------------------------------------------------------
class SelfPacedSVMCV(_SelfPacedCVMixin, ClassifierMixin, BaseEstimator):
    """Self-paced binary SVM with the age chosen by cross-validation along exact paths.

    For each fold one SVM age path (:func:`gaga.age_path_svm`) is computed on the
    training part (no warm start across folds) and scored on the held-out part at
    every age of a common grid, exactly from the path (no refit per age). The age with
    the best mean score is chosen and a :class:`~gaga.SelfPacedSVM` is refitted on all
    data at that age; its full path is kept in ``path_``. Grids over ``C`` and
    ``regularizer`` (lists) are evaluated in the same :class:`joblib.Parallel` call as
    the folds. Folds are stratified by default (``check_cv(cv, y, classifier=True)``).

    Parameters
    ----------
    C : float or array-like of float, default=1.0
        Regularization parameter, or a grid of them.
    kernel : {"linear", "poly", "rbf", "sigmoid", "precomputed"}, default="rbf"
        Kernel (see :class:`~gaga.SelfPacedSVM`). With ``"precomputed"`` the folds use
        the kernel blocks ``X[train][:, train]`` and ``X[test][:, train]``.
    gamma : {"scale", "auto"} or float, default="scale"
        Kernel coefficient (``"scale"`` is computed on each training fold, as
        ``SVC`` inside ``GridSearchCV`` does).
    degree : int, default=3
        Degree of the ``"poly"`` kernel.
    coef0 : float, default=0.0
        Independent term of the ``"poly"`` and ``"sigmoid"`` kernels.
    regularizer : str, Regularizer or list of them, default="linear"
        Self-paced regularizer, or a grid of regularizers.
    ages : int or array-like, default=100
        Explicit ages, or the size of the default grid (:func:`gaga.cv.age_grid` on
        the pooled breakpoints of the fold paths over the common range).
    age_min, age_max : float, default=None
        Common range of every fold path and of the refit. ``age_max=None`` takes the
        default ``age_max`` of a path on the full data; ``age_min=None`` lets each fold
        path start at its own default and takes the latest of these starts. Explicit
        ``ages`` must lie inside the range.
    tol : float, default=1e-8
        Tolerance of the paths' start points and jump landings.
    max_events : int, default=None
        Bound on the number of events of each path.
    cv : int, cross-validation generator or iterable, default=None
        Splitter as in :func:`sklearn.model_selection.check_cv` (None: stratified
        5-fold).
    scoring : str, callable or None, default=None
        A scikit-learn scorer (greater is better); None is the accuracy.
    n_jobs : int, default=None
        Number of jobs over (setting, fold) paths, run through :mod:`joblib`.
    verbose : int, default=0
        0 silent, 1 one line per stage and setting, 2 the paths' own output.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels.
    age_ : float
        Chosen age.
    ages_ : ndarray of shape (n_ages,)
        Ages at which the folds were scored (for the chosen setting).
    scores_path_ : ndarray of shape (n_ages, n_folds)
        Held-out score of each fold path at each age of ``ages_``.
    C_ : float
        Chosen ``C``.
    regularizer_ : str or Regularizer
        Chosen regularizer.
    age_range_ : tuple of float
        Common ``(age_min, age_max)`` of the fold paths and the refit.
    cv_results_ : list of dict
        One entry per setting: ``params``, ``age_range``, ``ages``, ``scores_path``,
        ``best_index``, ``best_score``, ``n_events``.
    best_estimator_ : SelfPacedSVM
        Refitted on all data at ``age_``.
    best_score_ : float
        Mean held-out score at ``age_``.
    path_ : AgePath
        Path of the refit on all data.
    support_ : ndarray of shape (n_SV,)
        Support vectors' indices of the refit.
    support_vectors_ : ndarray of shape (n_SV, n_features)
        Support vectors of the refit.
    n_support_ : ndarray of shape (2,)
        Number of support vectors per class.
    dual_coef_ : ndarray of shape (1, n_SV)
        ``y_i a_i`` of the support vectors.
    intercept_ : ndarray of shape (1,)
        Intercept.
    coef_ : ndarray of shape (1, n_features)
        Primal weights (``kernel="linear"`` only).
    spl_weights_ : ndarray of shape (n_samples,)
        Self-paced weights at ``age_``.
    n_events_ : int
        Number of events of the refit's path.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when X has feature names that are all strings.

    See Also
    --------
    gaga.SelfPacedSVM : The estimator at a fixed age.
    gaga.cv.score_path : Score one path on a held-out set.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from gaga.cv import SelfPacedSVMCV
    >>> X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    >>> est = SelfPacedSVMCV(ages=10, cv=3).fit(X, y)
    >>> est.scores_path_.shape
    (10, 3)
    """

    _parameter_constraints = {
        **{
            k: v
            for k, v in SelfPacedSVM._parameter_constraints.items()
            if k not in ("age", "C", "regularizer")
        },
        "C": [Interval(numbers.Real, 0.0, None, closed="neither"), "array-like"],
        "regularizer": [str, Regularizer, list, tuple],
        "ages": [Interval(numbers.Integral, 2, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "scoring": _scoring_constraint(),
        "n_jobs": [numbers.Integral, None],
    }

    _model = _SVMPathModel()
    _fitted_attrs = (
        "path_",
        "support_",
        "support_vectors_",
        "n_support_",
        "dual_coef_",
        "intercept_",
        "spl_weights_",
        "n_events_",
    )

    def __init__(
        self,
        C=1.0,
        *,
        kernel="rbf",
        gamma="scale",
        degree=3,
        coef0=0.0,
        regularizer="linear",
        ages=100,
        age_min=None,
        age_max=None,
        tol=1e-8,
        max_events=None,
        cv=None,
        scoring=None,
        n_jobs=None,
        verbose=0,
    ):
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.regularizer = regularizer
        self.ages = ages
        self.age_min = age_min
        self.age_max = age_max
        self.tol = tol
        self.max_events = max_events
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags

    def _base_params(self):
        return {
            "C": self.C,
            "kernel": self.kernel,
            "gamma": self.gamma,
            "degree": self.degree,
            "coef0": self.coef0,
            "regularizer": self.regularizer,
            "age_min": self.age_min,
            "age_max": self.age_max,
            "tol": self.tol,
            "max_events": self.max_events,
            "verbose": self.verbose,
        }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Choose the age by cross-validation, then refit on all data at that age.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
            Training data, or the training kernel for ``kernel="precomputed"``.
        y : array-like of shape (n_samples,)
            Labels of exactly two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the fits (the scorer is unweighted).
        groups : array-like of shape (n_samples,), default=None
            Group labels for group splitters.

        Returns
        -------
        self : SelfPacedSVMCV
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        self.classes_ = _check_binary_target(y, sample_weight, type(self).__name__)
        for c in np.ravel(self.C):
            if not (np.isfinite(c) and c > 0):
                raise ValueError(f"C must contain positive reals; got {c!r}.")
        if not isinstance(self.ages, numbers.Integral):
            grid = np.asarray(self.ages, dtype=float).ravel()
            if grid.size == 0 or not np.all(np.isfinite(grid)):
                raise ValueError("ages must be a non-empty array of finite ages.")
        return self._fit_cv(X, y, sample_weight, groups)

    @property
    def coef_(self):
        """Primal weights of the refit, shape (1, n_features); linear kernel only."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.coef_

    def decision_function(self, X):
        """Decision function of the refitted classifier at ``age_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_train)
            Samples (kernel against the training samples if precomputed).

        Returns
        -------
        ndarray of shape (n_samples,)
            Positive values predict ``classes_[1]``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.best_estimator_.decision_function(X)

    def predict(self, X):
        """Predict class labels with the refitted classifier at ``age_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_train)
            Samples (kernel against the training samples if precomputed).

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.best_estimator_.predict(X)
