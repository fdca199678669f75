"""`SelfPacedLasso`: a scikit-learn regressor fitted by the exact age path."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from gaga._lasso_path import age_path_lasso
from gaga.regularizers import Regularizer

__all__ = ["SelfPacedLasso"]

_REG_NAMES = {"hard", "linear", "log", "mixture", "polynomial"}


def _age_at(path, age, name="age"):
    """The estimator's age: the path's end when None, validated otherwise."""
    if age is None:
        return path.age_max
    tol = 1e-12 * max(1.0, abs(path.age_max))
    if not (path.age_min - tol <= age <= path.age_max + tol):
        raise ValueError(
            f"{name}={age!r} is outside the fitted path's range [{path.age_min:.6g}, "
            f"{path.age_max:.6g}]; set age_min/age_max to include it."
        )
    return float(np.clip(age, path.age_min, path.age_max))


class SelfPacedLasso(RegressorMixin, BaseEstimator):
    """Self-paced Lasso fitted along its exact age path (GAGA).

    Minimizes over (w, b, v)

        (1/S) sum_i s_i [v_i (y_i - x_i.w - b)^2 / 2 + f(v_i, age)] + alpha ||w||_1,

    where ``s`` are the sample weights (``S`` their sum) and ``f`` the self-paced
    regularizer, by following the whole path of partial optima over the age and reading
    it at ``age``. With every v_i = 1 this is :class:`sklearn.linear_model.Lasso`.

    Parameters
    ----------
    alpha : float, default=1.0
        L1 penalty (same scale as ``sklearn.linear_model.Lasso``).
    regularizer : {"hard", "linear", "log", "mixture", "polynomial"} or Regularizer, \
            default="linear"
        Self-paced regularizer.
    age : float, default=None
        Age at which the model is read; None means the end of the path (``age_max``).
    age_min, age_max : float, default=None
        Range of the path; data-driven defaults (see
        :func:`gaga._lasso_path.default_age_range`).
    fit_intercept : bool, default=True
    tol : float, default=1e-8
        Tolerance of the alternate convex search at the start and at jumps (see
        :func:`gaga.age_path_lasso`).
    max_events : int, default=None
        Bound on the number of events of the path.
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    age_ : float
        Age at which the model was read.
    spl_weights_ : ndarray of shape (n_samples,)
        Self-paced weights v at ``age_``.
    path_ : AgePath
        The full age path.
    n_events_ : int
        Number of events of the path.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when X has feature names that are all strings.

    See Also
    --------
    gaga.age_path_lasso : the path function.
    sklearn.linear_model.Lasso : the v = 1 problem.
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0.0, None, closed="neither")],
        "regularizer": [StrOptions(_REG_NAMES), Regularizer],
        "age": [None, Interval(Real, 0.0, None, closed="neither")],
        "age_min": [None, Interval(Real, 0.0, None, closed="neither")],
        "age_max": [None, Interval(Real, 0.0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0.0, None, closed="neither")],
        "max_events": [None, Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        regularizer="linear",
        age=None,
        age_min=None,
        age_max=None,
        fit_intercept=True,
        tol=1e-8,
        max_events=None,
        verbose=0,
    ):
        self.alpha = alpha
        self.regularizer = regularizer
        self.age = age
        self.age_min = age_min
        self.age_max = age_max
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_events = max_events
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Compute the age path and read the model at ``age``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : SelfPacedLasso
        """
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        path = age_path_lasso(
            X,
            y,
            regularizer=self.regularizer,
            alpha=self.alpha,
            age_min=self.age_min,
            age_max=self.age_max,
            fit_intercept=self.fit_intercept,
            sample_weight=sample_weight,
            tol=self.tol,
            max_events=self.max_events,
            verbose=self.verbose,
        )
        age = _age_at(path, self.age)
        self.path_ = path
        self.age_ = age
        self.coef_ = path.coef(age)
        self.intercept_ = float(path.intercept(age))
        self.spl_weights_ = path.weights(age)
        self.n_events_ = path.n_events
        if not (np.all(np.isfinite(self.coef_)) and np.isfinite(self.intercept_)):
            raise ValueError("The age path resulted in non-finite coefficients.")
        return self

    def predict(self, X):
        """Predict with the model at ``age_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_ + self.intercept_
