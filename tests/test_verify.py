"""Tests of gaga.verify: certificates accept partial optima and reject perturbations."""

import ast
import pathlib

import numpy as np
import pytest
from _spl_cases import ages_for, cancer_problem, diabetes_problem, v1_solution
from sklearn.linear_model import Lasso

import gaga.verify
from gaga.baselines import acs
from gaga.regularizers import get_regularizer
from gaga.verify import Certificate, certify, certify_many, kkt_residual


@pytest.fixture(scope="module")
def lasso_case():
    p = diabetes_problem(alpha=0.02)
    reg = get_regularizer("linear")
    age = ages_for(p, reg)[1]
    res = acs(p, reg, age)
    return p, reg, age, res


@pytest.fixture(scope="module")
def svm_case():
    p = cancer_problem(C=1.0, kernel="rbf", n_samples=150)
    reg = get_regularizer("linear")
    age = ages_for(p, reg)[1]
    res = acs(p, reg, age)
    return p, reg, age, res


def test_verify_is_independent_of_the_package_solvers():
    src = pathlib.Path(gaga.verify.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    forbidden = {"gaga._cd", "gaga._svm_dual", "gaga.baselines", "gaga.problems"}
    assert not imported & forbidden
    assert not any(m and ("path" in m or "follower" in m) for m in imported)


def test_lasso_kkt_residual_of_sklearn_solution():
    """An independent optimum has a small residual; a perturbed one does not."""
    p = diabetes_problem(alpha=0.05)
    sk = Lasso(alpha=0.05, tol=1e-14, max_iter=100000).fit(p.X, p.y)
    v = np.ones(p.n_samples)
    assert kkt_residual(p, sk.coef_, sk.intercept_, v) <= 1e-10
    assert kkt_residual(p, sk.coef_, sk.intercept_ + 1e-4, v) >= 1e-5
    coef = sk.coef_.copy()
    coef[np.flatnonzero(coef == 0)[0]] = 1e-4  # an inactive feature made active
    assert kkt_residual(p, coef, sk.intercept_, v) >= 1e-6


@pytest.mark.cvxpy
def test_lasso_certificate_accepts_and_rejects(lasso_case):
    p, reg, age, res = lasso_case
    cert = certify(p, reg, age, coef=res.coef, intercept=res.intercept, v=res.v)
    assert isinstance(cert, Certificate)
    assert cert.certified, cert.summary()
    assert cert.cvxpy_status == "optimal" and cert.failed == []
    assert "CERTIFIED" in repr(cert)
    # default v = v*(losses): same verdict
    assert certify(p, reg, age, coef=res.coef, intercept=res.intercept).certified

    j = int(np.flatnonzero(res.coef)[0])
    coef = res.coef.copy()
    coef[j] += 1e-2
    bad = certify(p, reg, age, coef=coef, intercept=res.intercept, v=res.v)
    assert not bad.certified
    assert "kkt" in bad.failed and "gap" in bad.failed, bad.summary()

    bad = certify(p, reg, age, coef=res.coef, intercept=res.intercept + 1e-2, v=res.v)
    assert not bad.certified
    assert "kkt" in bad.failed and "gap" in bad.failed, bad.summary()
    assert "NOT certified" in bad.summary()

    v = res.v.copy()
    i = int(np.flatnonzero((v > 0.2) & (v < 0.8))[0])
    v[i] += 1e-3
    bad = certify(p, reg, age, coef=res.coef, intercept=res.intercept, v=v)
    assert not bad.certified
    assert "v" in bad.failed and bad.v_residual == pytest.approx(1e-3, rel=1e-6)


@pytest.mark.cvxpy
def test_svm_certificate_accepts_and_rejects(svm_case):
    p, reg, age, res = svm_case
    a, b, v = res.dual_coef, res.intercept, res.v
    cert = certify(p, reg, age, dual_coef=a, intercept=b, v=v)
    assert cert.certified, cert.summary()

    box = p.box(v)
    free = np.flatnonzero((a > 1e-6 * box) & (a < (1 - 1e-6) * box))
    assert free.size > 0
    a2 = a.copy()
    a2[free[0]] *= 0.99
    bad = certify(p, reg, age, dual_coef=a2, intercept=b, v=v)
    assert "kkt" in bad.failed and not bad.certified, bad.summary()

    bad = certify(p, reg, age, dual_coef=a, intercept=b + 1e-3, v=v)
    assert "kkt" in bad.failed and not bad.certified, bad.summary()

    v2 = v.copy()
    k = int(np.flatnonzero(v2 == 1.0)[0])
    v2[k] = 0.999
    bad = certify(p, reg, age, dual_coef=a, intercept=b, v=v2)
    assert "v" in bad.failed and not bad.certified, bad.summary()


@pytest.mark.cvxpy
def test_svm_linear_kernel_uses_primal():
    p = cancer_problem(C=0.5, kernel="linear", n_samples=120)
    theta, b = v1_solution(p)
    cert = certify(p, "hard", 100.0, dual_coef=theta, intercept=b)
    assert cert.certified, cert.summary()
    bad = certify(p, "hard", 100.0, dual_coef=1.05 * theta, intercept=b)
    assert not bad.certified and "gap" in bad.failed


@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_svm_one_weighted_class_has_optimum_zero(kernel):
    """With one class among the weighted samples the optimum is 0 exactly (a = 0, b at
    that class's label): its gap is 0 without a solve; a b that leaves hinge loss has
    a positive gap."""
    p = cancer_problem(C=1.0, kernel=kernel, n_samples=60)
    v = (p.y_pm < 0).astype(float)
    a = np.zeros(p.n_samples)
    cert = certify(p, "linear", 10.0, dual_coef=a, intercept=-1.0, v=v)
    assert cert.cvxpy_gap == 0.0 and cert.cvxpy_status == "optimal"
    assert cert.kkt_residual == 0.0
    bad = certify(p, "linear", 10.0, dual_coef=a, intercept=-0.5, v=v)
    assert not bad.certified and bad.cvxpy_gap > 1e-3, bad.summary()


@pytest.mark.cvxpy
def test_cvxpy_failure_is_not_certified(lasso_case):
    p, reg, age, res = lasso_case
    cert = certify(
        p,
        reg,
        age,
        coef=res.coef,
        intercept=res.intercept,
        v=res.v,
        cvxpy_options={"max_iter": 1},
    )
    assert cert.cvxpy_status != "optimal"
    assert not cert.certified and "gap" in cert.failed


def test_without_cvxpy_never_certified(lasso_case):
    p, reg, age, res = lasso_case
    cert = certify(
        p, reg, age, coef=res.coef, intercept=res.intercept, v=res.v, use_cvxpy=False
    )
    assert cert.cvxpy_status == "skipped" and not cert.certified
    assert cert.kkt_residual <= 1e-9 and cert.v_residual <= 1e-9


def test_hard_threshold_ties_are_skipped():
    p = diabetes_problem(alpha=0.02)
    coef, b = v1_solution(p)
    loss = p.losses(coef, b)
    k = int(np.argsort(loss)[len(loss) // 2])
    age = float(loss[k])  # sample k sits exactly at the hard threshold
    v = get_regularizer("hard").v_star(loss, age)
    assert v[k] == 0.0
    v[k] = 1.0  # both values are admissible at the tie
    cert = certify(p, "hard", age, coef=coef, intercept=b, v=v, use_cvxpy=False)
    assert cert.v_residual == 0.0 and cert.n_skipped_ties == 1
    # a continuous regularizer gets no such exemption
    cert = certify(
        p, "linear", age, coef=coef, intercept=b, v=np.ones(len(v)), use_cvxpy=False
    )
    assert cert.v_residual > 0.1


@pytest.mark.cvxpy
def test_certify_many(lasso_case):
    p, reg, _, _ = lasso_case
    from gaga.baselines import acs_path

    ages = ages_for(p, reg)
    res = acs_path(p, reg, ages)
    certs = certify_many(
        p,
        reg,
        res.ages,
        coefs=res.coefs,
        intercepts=res.intercepts,
        weights=res.weights,
    )
    assert len(certs) == len(ages) and all(c.certified for c in certs)


def test_certify_bad_input(lasso_case, svm_case):
    p, reg, age, res = lasso_case
    with pytest.raises(ValueError, match="coef is required"):
        certify(p, reg, age)
    with pytest.raises(ValueError, match="coef has shape"):
        certify(p, reg, age, coef=np.zeros(3))
    with pytest.raises(ValueError, match="v has shape"):
        certify(p, reg, age, coef=res.coef, v=np.ones(3))
    with pytest.raises(ValueError, match="age"):
        certify(p, "log", 2.0, coef=res.coef)
    ps = svm_case[0]
    with pytest.raises(ValueError, match="dual_coef is required"):
        certify(ps, reg, age)
