"""Alternate convex search (ACS): the grid-search baseline of self-paced learning.

At a fixed age, ACS alternates the closed-form weight update ``v = v*(l(theta), age)``
and the weighted convex solve ``theta = argmin (weighted problem at v)`` until ``v``
stops changing. It converges to a *partial optimum* (spec section 3). :func:`acs_path`
runs it on a grid of increasing ages, warm-started from the previous age, as a user
without the path follower would.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from gaga.problems import LassoProblem, SVMProblem, effective_weights
from gaga.regularizers import get_regularizer

__all__ = ["ACSResult", "ACSPathResult", "acs", "acs_path"]


@dataclass
class ACSResult:
    """Result of :func:`acs` at one age.

    Attributes
    ----------
    age : float
    coef : ndarray of shape (n_features,) or None
        Lasso coefficients (``None`` for the SVM).
    dual_coef : ndarray of shape (n_samples,) or None
        SVM dual variables ``a`` (``None`` for the Lasso).
    intercept : float
    v : ndarray of shape (n_samples,)
        The weights at which ``(coef, intercept)`` / ``(dual_coef, intercept)`` was
        solved.
    n_iter : int
        Number of weighted convex solves.
    converged : bool
    delta_v : float
        Last ``max_i |v_new_i - v_i|``.
    objective : float
        Biconvex objective at ``(theta, v)``.
    latent_objective : float
        Latent objective at ``theta``.
    """

    age: float
    coef: np.ndarray | None
    dual_coef: np.ndarray | None
    intercept: float
    v: np.ndarray
    n_iter: int
    converged: bool
    delta_v: float
    objective: float
    latent_objective: float


@dataclass
class ACSPathResult:
    """Result of :func:`acs_path`.

    Attributes
    ----------
    ages : ndarray of shape (n_ages,)
        Increasing ages.
    coefs : ndarray of shape (n_features, n_ages) or None
        Lasso coefficients (``None`` for the SVM).
    dual_coefs : ndarray of shape (n_samples, n_ages) or None
        SVM dual variables (``None`` for the Lasso).
    intercepts : ndarray of shape (n_ages,)
    weights : ndarray of shape (n_samples, n_ages)
        Self-paced weights ``v`` at each age.
    n_iter : ndarray of shape (n_ages,)
        Weighted convex solves per age.
    converged : ndarray of shape (n_ages,) of bool
    delta_v : ndarray of shape (n_ages,)
    objectives : ndarray of shape (n_ages,)
        Biconvex objective at each age.
    latent_objectives : ndarray of shape (n_ages,)
    solver : str
    """

    ages: np.ndarray
    coefs: np.ndarray | None
    dual_coefs: np.ndarray | None
    intercepts: np.ndarray
    weights: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    delta_v: np.ndarray
    objectives: np.ndarray
    latent_objectives: np.ndarray
    solver: str = field(default="gaga")


def _problem_kind(problem):
    if isinstance(problem, LassoProblem):
        return "lasso"
    if isinstance(problem, SVMProblem):
        return "svm"
    raise TypeError(
        "problem must be a LassoProblem or an SVMProblem; got "
        f"{type(problem).__name__}."
    )


class _Solver:
    """Weighted convex solver with warm start: ours (``"gaga"``) or scikit-learn's."""

    def __init__(self, problem, solver, inner_tol, warn=True):
        self.problem = problem
        # warn when an inner solve stops short of its tolerance (off inside the path
        # follower, whose ACS points are polished by Newton and certified, or end the
        # path with a warning of their own: there the warning was noise)
        self.warn = warn
        self.n_unconverged = 0
        self.kind = _problem_kind(problem)
        if solver not in ("gaga", "sklearn"):
            raise ValueError(
                f"solver must be 'gaga' or 'sklearn'; got solver={solver!r}."
            )
        self.solver = solver
        if inner_tol is None:
            inner_tol = 1e-12 if (self.kind == "lasso" and solver == "gaga") else 1e-10
        if not inner_tol > 0:
            raise ValueError(
                f"inner_tol must be positive; got inner_tol={inner_tol!r}."
            )
        self.inner_tol = float(inner_tol)
        self.tol_kkt = None  # our Lasso CD's KKT tolerance (None: its default)
        self._sk = None

    def solve(self, v, theta):
        """Return (theta, b) at weights ``v``, warm-started from ``theta``."""
        p = self.problem
        if self.solver == "gaga":
            if self.kind == "lasso":
                kw = {} if self.tol_kkt is None else {"tol_kkt": self.tol_kkt}
                coef, b, info = p.solve_weighted(
                    v, coef_init=theta, tol=self.inner_tol, **kw
                )
            else:
                coef, b, info = p.solve_weighted(v, a_init=theta, tol=self.inner_tol)
            if not info["converged"]:
                self.n_unconverged += 1
            if not info["converged"] and self.warn:
                warnings.warn(
                    f"Weighted convex solver did not converge: {info}.",
                    ConvergenceWarning,
                    stacklevel=4,
                )
            return coef, b
        return self._solve_sklearn(v, theta)

    def _solve_sklearn(self, v, theta):
        p = self.problem
        u, mask = effective_weights(p.sample_weight, v)
        if self.kind == "lasso":
            from sklearn.linear_model import Lasso

            # sklearn minimizes (1/(2 sum u)) sum u r^2 + alpha_sk ||w||_1; ours is
            # (1/(2 S)) sum u r^2 + alpha ||w||_1 = (sum u / S) * [... with alpha S /
            # sum u].
            alpha_sk = p.alpha * p.S / u[mask].sum()
            if self._sk is None:
                self._sk = Lasso(
                    alpha=alpha_sk,
                    fit_intercept=p.fit_intercept,
                    tol=self.inner_tol,
                    max_iter=100000,
                    warm_start=True,
                )
                if theta is not None:
                    self._sk.coef_ = np.array(theta, dtype=np.float64)
            else:
                self._sk.set_params(alpha=alpha_sk)
            self._sk.fit(p.X[mask], p.y[mask], sample_weight=u[mask])
            return self._sk.coef_.copy(), float(self._sk.intercept_)
        from sklearn.svm import SVC

        ym = p.y_pm[mask]
        if not (np.any(ym > 0) and np.any(ym < 0)):
            raise ValueError(
                "The samples with positive weight sample_weight * v must contain both "
                "classes."
            )
        if p.kernel_name == "precomputed":
            Xm = p.K[np.ix_(mask, mask)]
            gamma = "scale"
        else:
            Xm = p.X[mask]
            gamma = p.gamma_
        svc = SVC(
            C=p.C,
            kernel=p.kernel_name,
            gamma=gamma,
            degree=p.degree,
            coef0=p.coef0,
            tol=self.inner_tol,
            max_iter=-1,
        )
        svc.fit(Xm, ym, sample_weight=u[mask])
        a_m = np.zeros(int(mask.sum()))
        a_m[svc.support_] = np.abs(svc.dual_coef_[0])
        a = np.zeros(p.n_samples)
        a[mask] = a_m
        return a, float(svc.intercept_[0])


def _check_tol(tol, max_iter):
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a nonnegative finite number; got tol={tol!r}.")
    if isinstance(max_iter, bool) or int(max_iter) != max_iter or max_iter < 1:
        raise ValueError(
            f"max_iter must be a positive integer; got max_iter={max_iter!r}."
        )


def _acs(problem, reg, age, solver, theta, b, v, tol, max_iter, tol_fn=None):
    """Core loop of ACS.

    ``theta`` is coef or dual_coef (or None), ``v`` the starting weights or None.
    ``tol_fn(solver, delta_v)``, if given, is called before each weighted solve with the
    last ``max |delta v|`` (inf before the first) to adapt the inner tolerance.

    Returns theta, b, v, n_iter, converged, delta_v where theta is optimal at v.
    """
    delta_v = np.inf

    def _solve(v, theta):
        if tol_fn is not None:
            tol_fn(solver, delta_v)
        return solver.solve(v, theta)

    n_iter = 0
    if v is None:
        if theta is None:
            v = np.ones(problem.n_samples)
            theta, b = _solve(v, None)
            n_iter += 1
        v = np.asarray(reg.v_star(problem.losses(theta, b), age), dtype=np.float64)
        theta, b = _solve(v, theta)
        n_iter += 1
    else:
        theta, b = _solve(v, theta)
        n_iter += 1
    converged = False
    while True:
        v_new = np.asarray(reg.v_star(problem.losses(theta, b), age), dtype=np.float64)
        delta_v = float(np.max(np.abs(v_new - v)))
        if delta_v <= tol:
            converged = True
            break
        if n_iter >= max_iter:
            break
        v = v_new
        theta, b = _solve(v, theta)
        n_iter += 1
    return theta, b, v, n_iter, converged, delta_v


def acs(
    problem,
    regularizer,
    age,
    *,
    coef_init=None,
    intercept_init=None,
    v_init=None,
    tol=1e-10,
    max_iter=1000,
    solver="gaga",
    inner_tol=None,
):
    """Alternate convex search at one age.

    Alternates ``theta = argmin weighted problem at v`` and ``v = v*(l(theta), age)``
    until ``max_i |delta v_i| <= tol``. The returned ``theta`` is the minimizer at the
    returned ``v`` (the weights it was solved for), so the KKT residual of the result is
    the inner solver's and ``max |v - v*(l(theta), age)|`` is the last ``delta_v``.

    Parameters
    ----------
    problem : LassoProblem or SVMProblem
    regularizer : Regularizer or str
    age : float
        Inside ``regularizer.age_bounds``.
    coef_init : array-like, default=None
        Warm start: Lasso coefficients (n_features,) or SVM dual variables ``a``
        (n_samples,). With neither ``coef_init`` nor ``v_init``, ACS starts from the ``v
        = 1`` solution.
    intercept_init : float, default=None
        Intercept of the warm start (used to compute the first losses). When None: for
        the Lasso with an intercept, the weighted mean residual of ``coef_init``; else
        0.
    v_init : array-like of shape (n_samples,), default=None
        Starting weights; when given, the first step is the convex solve at ``v_init``.
    tol : float, default=1e-10
        Tolerance on ``max |delta v|``.
    max_iter : int, default=1000
        Maximum number of weighted convex solves.
    solver : {"gaga", "sklearn"}, default="gaga"
        Inner weighted solver: ours (numba CD / SMO) or scikit-learn's ``Lasso`` /
        ``SVC``.
    inner_tol : float, default=None
        Inner solver tolerance (1e-12 for our Lasso CD, 1e-10 otherwise).

    Returns
    -------
    ACSResult

    Warns
    -----
    ConvergenceWarning
        If ``max |delta v| > tol`` after ``max_iter`` solves.
    """
    kind = _problem_kind(problem)
    reg = get_regularizer(regularizer)
    reg.check_age(age)
    _check_tol(tol, max_iter)
    age = float(age)
    s = _Solver(problem, solver, inner_tol)
    theta = None
    b = 0.0 if intercept_init is None else float(intercept_init)
    if coef_init is not None:
        theta = np.asarray(coef_init, dtype=np.float64).copy()
        if intercept_init is None and kind == "lasso" and problem.fit_intercept:
            resid = problem.y - problem.X @ theta
            b = float(np.dot(problem.sample_weight, resid) / problem.S)
    v = None
    if v_init is not None:
        v = np.asarray(v_init, dtype=np.float64)
        if v.shape != (problem.n_samples,) or np.any(v < 0) or np.any(v > 1):
            raise ValueError(
                f"v_init must have shape ({problem.n_samples},) with entries in [0, 1]."
            )
    return _result(problem, kind, reg, age, s, theta, b, v, tol, max_iter)


def _result(problem, kind, reg, age, s, theta, b, v, tol, max_iter):
    try:
        theta, b, v, n_iter, converged, delta_v = _acs(
            problem, reg, age, s, theta, b, v, tol, max_iter
        )
    except ValueError as exc:
        raise ValueError(
            f"ACS failed at age={age!r} with {reg!r}: {exc} The age is probably too "
            "small (v* = 0 for too many samples)."
        ) from exc
    if not converged:
        warnings.warn(
            f"ACS did not converge at age={age!r} after {n_iter} weighted solves: "
            f"max |delta v| = {delta_v:e} > tol = {tol:e}. Increase max_iter or tol.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return ACSResult(
        age=age,
        coef=theta if kind == "lasso" else None,
        dual_coef=theta if kind == "svm" else None,
        intercept=float(b),
        v=v,
        n_iter=int(n_iter),
        converged=bool(converged),
        delta_v=float(delta_v),
        objective=problem.objective(theta, b, v, age, reg),
        latent_objective=problem.latent_objective(theta, b, age, reg),
    )


def acs_path(
    problem,
    regularizer,
    ages,
    *,
    tol=1e-10,
    max_iter=1000,
    solver="gaga",
    inner_tol=None,
    warm_start=True,
    verbose=0,
):
    """ACS on a grid of ages: the baseline a user without the path follower would write.

    The ages are sorted increasingly. At the first age ACS starts from the ``v = 1``
    solution; at each next age from the previous age's solution (``warm_start=True``:
    first losses from the previous ``theta``, inner solver warm-started) or again from
    ``v = 1``.

    Parameters
    ----------
    problem : LassoProblem or SVMProblem
    regularizer : Regularizer or str
    ages : array-like of shape (n_ages,)
        Ages inside the open interval ``regularizer.age_bounds``.
    tol : float, default=1e-10
        Tolerance on ``max |delta v|`` at each age.
    max_iter : int, default=1000
        Maximum number of weighted convex solves per age.
    solver : {"gaga", "sklearn"}, default="gaga"
        ``"gaga"``: our numba coordinate descent / SMO. ``"sklearn"``: ``Lasso`` with
        ``alpha * S / sum(s v)``, ``sample_weight = s v`` and ``warm_start=True``, or
        ``SVC`` on the rows with positive weight (``sample_weight = s v``), for
        benchmarking against what a user would write.
    inner_tol : float, default=None
        Inner solver tolerance (1e-12 for our Lasso CD, 1e-10 otherwise).
    warm_start : bool, default=True
    verbose : int, default=0
        1 prints one line per age.

    Returns
    -------
    ACSPathResult

    Warns
    -----
    ConvergenceWarning
        At each age where ACS stops with ``max |delta v| > tol``.
    """
    kind = _problem_kind(problem)
    reg = get_regularizer(regularizer)
    _check_tol(tol, max_iter)
    ages = np.asarray(ages, dtype=np.float64).ravel()
    if ages.size == 0:
        raise ValueError("ages must contain at least one age; got an empty array.")
    low, high = reg.age_bounds
    bad = ~(np.isfinite(ages) & (ages > low) & (ages < high))
    if np.any(bad):
        raise ValueError(
            f"ages must lie in the open interval ({low}, {high}) of {reg!r}; got "
            f"ages={ages[bad][:5].tolist()!r} outside it."
        )
    ages = np.sort(ages)
    s = _Solver(problem, solver, inner_tol)
    n_ages = ages.size
    n = problem.n_samples
    thetas = np.zeros((problem.n_features if kind == "lasso" else n, n_ages))
    intercepts = np.zeros(n_ages)
    weights = np.zeros((n, n_ages))
    n_iter = np.zeros(n_ages, dtype=np.int64)
    converged = np.zeros(n_ages, dtype=bool)
    delta_v = np.zeros(n_ages)
    objectives = np.zeros(n_ages)
    latents = np.zeros(n_ages)
    theta, b = None, 0.0
    for k, age in enumerate(ages):
        if not warm_start:
            theta, b = None, 0.0
        res = _result(problem, kind, reg, float(age), s, theta, b, None, tol, max_iter)
        theta = res.coef if kind == "lasso" else res.dual_coef
        b = res.intercept
        thetas[:, k] = theta
        intercepts[k] = b
        weights[:, k] = res.v
        n_iter[k] = res.n_iter
        converged[k] = res.converged
        delta_v[k] = res.delta_v
        objectives[k] = res.objective
        latents[k] = res.latent_objective
        if verbose:
            print(
                f"[acs_path] age={age:.6g} n_iter={res.n_iter} "
                f"converged={res.converged} "
                f"delta_v={res.delta_v:.2e} objective={res.objective:.10g} "
                f"n_v>0={int(np.sum(res.v > 0))}"
            )
    return ACSPathResult(
        ages=ages,
        coefs=thetas if kind == "lasso" else None,
        dual_coefs=thetas if kind == "svm" else None,
        intercepts=intercepts,
        weights=weights,
        n_iter=n_iter,
        converged=converged,
        delta_v=delta_v,
        objectives=objectives,
        latent_objectives=latents,
        solver=solver,
    )
