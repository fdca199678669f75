"""Shared problem instances and age grids for the problems/baselines/verify tests.

Data: diabetes with standardized X and standardized y (so that the half squared
residuals are O(0.1-1) and the logarithmic regularizer's ages, which must lie in
(0, 1), are meaningful), and breast_cancer with standardized X (hinge losses). Ages are
chosen so that ``loss_zero(age)`` equals given quantiles of the positive losses of the
``v = 1`` solution, i.e. so that roughly 50 %, 25 % and 10 % of the samples with a
positive loss are excluded at the start of ACS.
"""

import numpy as np
from scipy.optimize import brentq
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler

from gaga.problems import LassoProblem, SVMProblem

REGULARIZERS = ["hard", "linear", "log", "mixture", "polynomial"]


def diabetes_problem(alpha=0.02):
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    return LassoProblem(X, y, alpha=alpha)


def cancer_problem(C=1.0, kernel="rbf", n_samples=None):
    X, y = load_breast_cancer(return_X_y=True)
    if n_samples is not None:
        idx = np.random.default_rng(0).choice(len(y), n_samples, replace=False)
        X, y = X[idx], y[idx]
    X = StandardScaler().fit_transform(X)
    return SVMProblem(X, y, C=C, kernel=kernel)


def v1_solution(problem):
    v = np.ones(problem.n_samples)
    theta, b, _ = problem.solve_weighted(v)
    return theta, b


def ages_for(problem, reg, quantiles=(0.5, 0.75, 0.9)):
    """Ages where loss_zero(age) hits the quantiles of the positive v = 1 losses."""
    theta, b = v1_solution(problem)
    loss = problem.losses(theta, b)
    loss = loss[loss > 1e-8]
    low, high = reg.age_bounds
    hi = min(high, 1e6)
    lo = max(low, 0.0) + 1e-12
    ages = []
    for q in np.quantile(loss, quantiles):
        f = lambda age: float(reg.loss_zero(age)) - q
        top = hi * (1 - 1e-9) if np.isfinite(high) else hi
        if f(top) <= 0:
            ages.append(low + 0.95 * (high - low))
        else:
            ages.append(brentq(f, lo, top, xtol=1e-14))
    return np.array(ages)


def constant_classifier_data(n=200, d=3, seed=0):
    """Imbalanced data whose linear SVM is the constant classifier w = 0, b = -1: the
    few positives (one in seven) lie near the center of the many negatives."""
    rng = np.random.default_rng(seed)
    npos = n // 7
    X = np.vstack(
        [rng.standard_normal((n - npos, d)), 0.3 * rng.standard_normal((npos, d))]
    )
    y = np.r_[np.zeros(n - npos), np.ones(npos)]
    return X, y
