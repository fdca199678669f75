"""Independent certificates of self-paced partial optima (spec section 10).

Given a problem, an age and a candidate ``(w, b, v)`` (Lasso) or ``(a, b, v)`` (SVM,
dual), :func:`certify` reports

(a) the KKT residual of the weighted convex subproblem at ``v``;
(b) ``max_i |v_i - v*(l_i, age)|``, the distance of ``v`` to the closed-form weights
    at the candidate's losses;
(c) the relative gap between the candidate's value of the weighted subproblem and an
    independent cvxpy solve of it (solver CLARABEL; the status must be OPTIMAL).

The convex solve here is deliberately independent of the package's solvers: this module
does not import ``gaga._cd``, ``gaga._svm_dual``, ``gaga.baselines`` or the path
follower.

Scalings (the numbers compared with the tolerances)
----------------------------------------------------
Lasso KKT: with ``u_i = s_i v_i / S``, residual ``r = y - X w - b`` and correlations
``c_j = sum_i u_i r_i x_ij``, the residual is the largest of ``|c_j - alpha sign(w_j)|``
(``w_j != 0``), ``(|c_j| - alpha)_+`` (``w_j = 0``) and ``|sum_i u_i r_i|`` (intercept),
divided by ``max(1, alpha)``.

SVM KKT: with box ``C_i = C s_i v_i`` and ``g_i = y_i f(x_i) - 1`` at the candidate's
``b``, the largest of the box violation ``max((-a_i)_+, (a_i - C_i)_+) / C``, ``|y^T a|
/ C`` and the complementarity residual ``max(min(a_i / C, (g_i)_+), min((C_i - a_i) / C,
(-g_i)_+))`` (zero exactly when ``a_i = 0`` for ``g_i > 0``, ``a_i = C_i`` for ``g_i <
0``).

Gap: ``(P(candidate) - P*) / max(1, |P*|)`` where ``P`` is the weighted subproblem's
primal value (Lasso: ``(1/S) sum s_i v_i l_i + alpha ||w||_1``; SVM: ``0.5 a^T Q a + C
sum s_i v_i hinge_i``) and ``P*`` the cvxpy optimum (for nonlinear kernels the optimum
of the dual QP with ``cp.psd_wrap(Q)``, equal to the primal optimum by strong duality).
The gap is signed: a small negative value means the candidate is slightly better than
cvxpy's answer. With one class (or none) among the SVM's weighted samples, ``P* = 0``
exactly (``y^T a = 0`` forces ``a = 0`` and ``b`` at that class's label zeroes every
hinge): no solve is run and the status is ``optimal``.
"""

import warnings
from dataclasses import dataclass

import numpy as np

from gaga.regularizers import get_regularizer

__all__ = ["Certificate", "certify", "certify_many", "kkt_residual", "cvxpy_gap"]

_THRESHOLD_RTOL = 1e-9
# v-consistency is measured up to this relative loss perturbation (see _v_residual)
_LOSS_TOL = 1e-11


@dataclass
class Certificate:
    """Certificate of a candidate partial optimum at one age.

    Attributes
    ----------
    age : float
    kkt_residual : float
        Scaled KKT residual of the weighted convex subproblem at ``v`` (module
        docstring).
    v_residual : float
        ``max_i |v_i - v*(l_i, age)|``, measured up to a relative loss perturbation of
        1e-11 (which matters only where v* is not Lipschitz), threshold ties of a
        discontinuous regularizer
        skipped).
    cvxpy_gap : float
        Signed relative gap of the candidate's subproblem value to the cvxpy optimum
        (``nan`` when cvxpy was not run or failed).
    cvxpy_status : str
        cvxpy's status ("optimal" required), or "skipped" / an error description.
    certified : bool
        All three checks below their tolerances and cvxpy status OPTIMAL.
    tol_kkt, tol_v, tol_gap : float
        The tolerances used.
    objective : float
        Candidate's value of the weighted subproblem at ``v``.
    cvxpy_objective : float
        cvxpy's optimum.
    n_skipped_ties : int
        Samples skipped in ``v_residual`` because they sit at a threshold of a
        discontinuous regularizer.
    """

    age: float
    kkt_residual: float
    v_residual: float
    cvxpy_gap: float
    cvxpy_status: str
    certified: bool
    tol_kkt: float = 1e-7
    tol_v: float = 1e-7
    tol_gap: float = 1e-6
    objective: float = np.nan
    cvxpy_objective: float = np.nan
    n_skipped_ties: int = 0

    @property
    def failed(self):
        """Names of the failed checks (empty when certified)."""
        out = []
        if not self.kkt_residual <= self.tol_kkt:
            out.append("kkt")
        if not self.v_residual <= self.tol_v:
            out.append("v")
        if self.cvxpy_status != "optimal" or not self.cvxpy_gap <= self.tol_gap:
            out.append("gap")
        return out

    def summary(self):
        """One readable line."""
        flag = (
            "CERTIFIED"
            if self.certified
            else "NOT certified (" + ", ".join(self.failed) + ")"
        )
        return (
            f"age={self.age:.6g}: kkt={self.kkt_residual:.2e} (tol "
            f"{self.tol_kkt:.0e}), "
            f"|v-v*|={self.v_residual:.2e} (tol {self.tol_v:.0e}), "
            f"gap={self.cvxpy_gap:.2e} (tol {self.tol_gap:.0e}, cvxpy "
            f"{self.cvxpy_status}) "
            f"-> {flag}"
        )

    def __repr__(self):
        return f"Certificate({self.summary()})"


def _kind(problem):
    kind = getattr(problem, "kind", None)
    if kind not in ("lasso", "svm"):
        raise TypeError(
            "problem must be a LassoProblem or an SVMProblem; got "
            f"{type(problem).__name__}."
        )
    return kind


def _theta(problem, kind, coef, dual_coef):
    if kind == "lasso":
        if coef is None:
            raise ValueError("coef is required for a Lasso problem; got coef=None.")
        coef = np.asarray(coef, dtype=np.float64).ravel()
        if coef.shape != (problem.n_features,):
            raise ValueError(
                f"coef has shape {coef.shape}; expected ({problem.n_features},)."
            )
        return coef
    if dual_coef is None:
        raise ValueError(
            "dual_coef is required for an SVM problem; got dual_coef=None."
        )
    a = np.asarray(dual_coef, dtype=np.float64).ravel()
    if a.shape != (problem.n_samples,):
        raise ValueError(
            f"dual_coef has shape {a.shape}; expected ({problem.n_samples},)."
        )
    return a


def _losses(problem, kind, theta, b):
    if kind == "lasso":
        r = problem.y - problem.X @ theta - b
        return 0.5 * r * r
    m = problem.Q @ theta + problem.y_pm * b
    return np.maximum(0.0, 1.0 - m)


def _subproblem_value(problem, kind, theta, b, v):
    u = problem.sample_weight * v
    if kind == "lasso":
        r = problem.y - problem.X @ theta - b
        return float(
            0.5 * np.dot(u, r * r) / problem.S + problem.alpha * np.abs(theta).sum()
        )
    m = problem.Q @ theta + problem.y_pm * b
    return float(
        0.5 * theta @ (problem.Q @ theta) + problem.C * np.dot(u, np.maximum(0, 1 - m))
    )


def kkt_residual(problem, theta, b, v):
    """Scaled KKT residual of the weighted convex subproblem at ``v``.

    The scalings are described in the module docstring.

    Parameters
    ----------
    problem : LassoProblem or SVMProblem
    theta : ndarray
        Lasso coefficients (n_features,) or SVM dual variables (n_samples,).
    b : float
        Intercept.
    v : ndarray of shape (n_samples,)

    Returns
    -------
    float
    """
    kind = _kind(problem)
    v = np.asarray(v, dtype=np.float64)
    u = problem.sample_weight * v
    if kind == "lasso":
        alpha = problem.alpha
        r = problem.y - problem.X @ theta - b
        ur = u * r / problem.S
        c = problem.X.T @ ur
        res = np.where(
            theta > 0,
            np.abs(c - alpha),
            np.where(theta < 0, np.abs(c + alpha), np.maximum(np.abs(c) - alpha, 0.0)),
        )
        out = float(res.max()) if res.size else 0.0
        if problem.fit_intercept:
            out = max(out, abs(float(ur.sum())))
        elif b != 0.0:
            out = max(out, np.inf)
        return out / max(1.0, alpha)
    C = problem.C
    box = C * u
    a = theta
    box_viol = (
        float(np.max(np.maximum(np.maximum(-a, 0.0), np.maximum(a - box, 0.0)))) / C
    )
    eq_viol = abs(float(problem.y_pm @ a)) / C
    g = problem.Q @ a + problem.y_pm * b - 1.0
    comp = np.maximum(
        np.minimum(a / C, np.maximum(g, 0.0)),
        np.minimum((box - a) / C, np.maximum(-g, 0.0)),
    )
    return max(box_viol, eq_viol, float(comp.max()))


def _v_residual(reg, losses, v, age):
    """max_i of the distance of v_i to v* over a loss perturbation of l_i.

    v_i is consistent when it equals ``v*(l', age)`` for some ``l'`` with ``|l' - l_i|
    <= _LOSS_TOL * max(1, l_i)``: since v* is monotone in the loss, that is the distance
    of v_i to the interval ``[v*(l_i + tau), v*(l_i - tau)]``. Where v* is Lipschitz
    this differs from ``|v_i - v*(l_i)|`` by at most slope * tau; where it is not (the
    threshold of a discontinuous regularizer, the infinite slope of the polynomial t > 2
    at loss_zero) the value of v* is not determined by a loss known to rounding
    accuracy, and the interval makes the test well posed. Samples at a threshold of a
    discontinuous regularizer (within ``_THRESHOLD_RTOL``) are counted as skipped.
    """
    tau = _LOSS_TOL * np.maximum(1.0, np.abs(losses))
    lo = np.asarray(reg.v_star(losses + tau, age), dtype=np.float64)
    hi = np.asarray(reg.v_star(np.maximum(losses - tau, 0.0), age), dtype=np.float64)
    diff = np.maximum(np.maximum(lo - v, v - hi), 0.0)
    n_skipped = 0
    if not reg.continuous:
        thresholds = [float(reg.loss_one(age)), float(reg.loss_zero(age))]
        tie = np.zeros(losses.shape, dtype=bool)
        for t in thresholds:
            tie |= np.abs(losses - t) <= _THRESHOLD_RTOL * max(abs(t), 1e-300)
        n_skipped = int(tie.sum())
        diff = np.where(tie, 0.0, diff)
    return (float(diff.max()) if diff.size else 0.0), n_skipped


def _solve(prob, cp, opts):
    # an inaccurate solve is reported through the status (not certified), not a warning
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Solution may be inaccurate")
        prob.solve(solver=cp.CLARABEL, **opts)


def _cvxpy_optimum(problem, kind, v, cvxpy_options):
    """Independent solve of the weighted subproblem; returns (optimum, status)."""
    u = problem.sample_weight * v
    mask = u > 0
    if kind != "lasso":
        y = problem.y_pm[mask]
        if not (np.any(y > 0) and np.any(y < 0)):
            # one class (or none) among the weighted samples: y^T a = 0 with a >= 0
            # forces a = 0, and b = that class's label puts every hinge at 0, so the
            # optimum is 0 exactly; there is nothing for a solver to find
            return 0.0, "optimal"
    import cvxpy as cp

    opts = dict(
        tol_gap_abs=1e-10,
        tol_gap_rel=1e-10,
        tol_feas=1e-10,
        tol_ktratio=1e-8,
        max_iter=500,
    )
    if cvxpy_options:
        opts.update(cvxpy_options)
    if kind == "lasso":
        X = problem.X[mask]
        y = problem.y[mask]
        sw = np.sqrt(u[mask] / problem.S)
        w = cp.Variable(problem.n_features)
        if problem.fit_intercept:
            b = cp.Variable()
            resid = y - X @ w - b
        else:
            resid = y - X @ w
        obj = 0.5 * cp.sum_squares(cp.multiply(sw, resid)) + problem.alpha * cp.norm1(w)
        prob = cp.Problem(cp.Minimize(obj))
        _solve(prob, cp, opts)
        return float(prob.value) if prob.value is not None else np.nan, prob.status
    C = problem.C
    box = C * u[mask]
    if problem.kernel_name == "linear":
        X = problem.X[mask]
        w = cp.Variable(problem.n_features)
        b = cp.Variable()
        obj = 0.5 * cp.sum_squares(w) + cp.sum(
            cp.multiply(box, cp.pos(1 - cp.multiply(y, X @ w + b)))
        )
        prob = cp.Problem(cp.Minimize(obj))
        _solve(prob, cp, opts)
        return float(prob.value) if prob.value is not None else np.nan, prob.status
    Qm = problem.Q[np.ix_(mask, mask)]
    Qm = 0.5 * (Qm + Qm.T)
    if problem.kernel_name == "sigmoid":
        # psd_wrap would silently accept an indefinite kernel (the sigmoid one can be)
        lam_min = float(np.linalg.eigvalsh(Qm)[0])
        if lam_min < -1e-8 * np.abs(Qm).max():
            return np.nan, f"kernel matrix not PSD (min eigenvalue {lam_min:.2e})"
    a = cp.Variable(int(mask.sum()))
    obj = 0.5 * cp.quad_form(a, cp.psd_wrap(Qm)) - cp.sum(a)
    prob = cp.Problem(cp.Minimize(obj), [a >= 0, a <= box, y @ a == 0])
    _solve(prob, cp, opts)
    return (-float(prob.value) if prob.value is not None else np.nan), prob.status


def cvxpy_gap(problem, theta, b, v, cvxpy_options=None):
    """Signed relative gap of a candidate to an independent cvxpy (CLARABEL) solve.

    Parameters
    ----------
    problem : LassoProblem or SVMProblem
    theta : ndarray
        Lasso coefficients or SVM dual variables.
    b : float
    v : ndarray of shape (n_samples,)
    cvxpy_options : dict, default=None
        Extra CLARABEL settings (defaults: gap and feasibility tolerances 1e-10).

    Returns
    -------
    gap : float
        ``(P(candidate) - P*) / max(1, |P*|)``; nan if cvxpy did not return OPTIMAL.
    status : str
    value : float
        The candidate's value ``P(candidate)``.
    optimum : float
        ``P*``.
    """
    import cvxpy as cp

    kind = _kind(problem)
    v = np.asarray(v, dtype=np.float64)
    value = _subproblem_value(problem, kind, theta, b, v)
    try:
        optimum, status = _cvxpy_optimum(problem, kind, v, cvxpy_options)
    except cp.error.SolverError as exc:
        return np.nan, f"SolverError: {exc}", value, np.nan
    if status != cp.OPTIMAL:
        return np.nan, str(status), value, optimum
    gap = (value - optimum) / max(1.0, abs(optimum))
    return float(gap), str(status), value, optimum


def certify(
    problem,
    regularizer,
    age,
    *,
    coef=None,
    intercept=0.0,
    dual_coef=None,
    v=None,
    tol_kkt=1e-7,
    tol_v=1e-7,
    tol_gap=1e-6,
    use_cvxpy=True,
    cvxpy_options=None,
):
    """Certify a candidate partial optimum at one age.

    Parameters
    ----------
    problem : LassoProblem or SVMProblem
    regularizer : Regularizer or str
    age : float
    coef : array-like of shape (n_features,), default=None
        Lasso coefficients (required for the Lasso).
    intercept : float, default=0.0
    dual_coef : array-like of shape (n_samples,), default=None
        SVM dual variables ``a`` (required for the SVM).
    v : array-like of shape (n_samples,), default=None
        Candidate weights; ``v*(l(candidate), age)`` when None (then check (b) is
        trivially 0 and (a) tests the candidate against its own weights).
    tol_kkt, tol_v, tol_gap : float, default=1e-7, 1e-7, 1e-6
        Tolerances of the three checks (scalings in the module docstring).
    use_cvxpy : bool, default=True
        Run check (c). Without it the certificate is never ``certified``.
    cvxpy_options : dict, default=None
        Extra CLARABEL settings.

    Returns
    -------
    Certificate
    """
    kind = _kind(problem)
    reg = get_regularizer(regularizer)
    reg.check_age(age)
    age = float(age)
    theta = _theta(problem, kind, coef, dual_coef)
    b = float(intercept)
    losses = _losses(problem, kind, theta, b)
    if v is None:
        v = np.asarray(reg.v_star(losses, age), dtype=np.float64)
    else:
        v = np.asarray(v, dtype=np.float64).ravel()
        if v.shape != (problem.n_samples,):
            raise ValueError(f"v has shape {v.shape}; expected ({problem.n_samples},).")
    kkt = kkt_residual(problem, theta, b, v)
    v_res, n_skipped = _v_residual(reg, losses, v, age)
    if use_cvxpy:
        gap, status, value, optimum = cvxpy_gap(problem, theta, b, v, cvxpy_options)
    else:
        gap, status = np.nan, "skipped"
        value, optimum = _subproblem_value(problem, kind, theta, b, v), np.nan
    certified = bool(
        kkt <= tol_kkt and v_res <= tol_v and status == "optimal" and gap <= tol_gap
    )
    return Certificate(
        age=age,
        kkt_residual=float(kkt),
        v_residual=float(v_res),
        cvxpy_gap=float(gap),
        cvxpy_status=status,
        certified=certified,
        tol_kkt=tol_kkt,
        tol_v=tol_v,
        tol_gap=tol_gap,
        objective=float(value),
        cvxpy_objective=float(optimum),
        n_skipped_ties=n_skipped,
    )


def certify_many(
    problem,
    regularizer,
    ages,
    *,
    coefs=None,
    intercepts=None,
    dual_coefs=None,
    weights=None,
    **kwargs,
):
    """Certify several candidates, e.g. the columns of a path.

    Parameters
    ----------
    problem : LassoProblem or SVMProblem
    regularizer : Regularizer or str
    ages : array-like of shape (n_ages,)
    coefs : array-like of shape (n_features, n_ages), default=None
        Lasso coefficients, one column per age.
    intercepts : array-like of shape (n_ages,), default=None
        Zeros when None.
    dual_coefs : array-like of shape (n_samples, n_ages), default=None
        SVM dual variables, one column per age.
    weights : array-like of shape (n_samples, n_ages), default=None
        Candidate weights (``v*`` at each candidate when None).
    **kwargs
        Passed to :func:`certify`.

    Returns
    -------
    list of Certificate
    """
    ages = np.asarray(ages, dtype=np.float64).ravel()
    intercepts = np.zeros(ages.size) if intercepts is None else np.asarray(intercepts)
    out = []
    for k, age in enumerate(ages):
        out.append(
            certify(
                problem,
                regularizer,
                age,
                coef=None if coefs is None else np.asarray(coefs)[:, k],
                dual_coef=None if dual_coefs is None else np.asarray(dual_coefs)[:, k],
                intercept=float(intercepts[k]),
                v=None if weights is None else np.asarray(weights)[:, k],
                **kwargs,
            )
        )
    return out
