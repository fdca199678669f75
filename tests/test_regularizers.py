import numpy as np
import pytest
from numba.core.registry import CPUDispatcher

from gaga import _spl_kernels
from gaga.regularizers import (
    CustomRegularizer,
    Hard,
    Linear,
    Logarithmic,
    Mixture,
    Polynomial,
    get_regularizer,
)

BUILTINS = [
    Hard(),
    Linear(),
    Logarithmic(),
    Mixture(0.7),
    Mixture(2.0),
    Polynomial(1.5),
    Polynomial(3.0),
]


def _ages(reg):
    return [0.2, 0.5, 0.8] if reg.name == "log" else [0.3, 1.0, 2.5]


def _losses(reg, age):
    hi = reg.loss_zero(age)
    return np.linspace(1e-3, 1.5 * hi, 41)


@pytest.mark.parametrize("reg", BUILTINS, ids=repr)
def test_v_star_is_brute_force_minimizer(reg):
    grid = np.linspace(0.0, 1.0, 200001)
    for age in _ages(reg):
        fv = reg.value(grid, age)
        for loss in _losses(reg, age):
            obj = grid * loss + fv
            v_brute = grid[np.argmin(obj)]
            v = reg.v_star(loss, age)
            # compare objective values (flat minima) and the argmin
            assert v * loss + reg.value(v, age) <= obj.min() + 1e-12
            if reg.continuous:
                assert abs(v - v_brute) < 2e-4, (loss, age, v, v_brute)


@pytest.mark.parametrize("reg", BUILTINS, ids=repr)
def test_derivatives_match_central_differences(reg):
    for age in _ages(reg):
        lo, hi = reg.loss_one(age), reg.loss_zero(age)
        if hi <= lo:
            continue
        ls = lo + (hi - lo) * np.linspace(0.05, 0.95, 19)
        h = 1e-6
        fd_l = (reg.v_star(ls + h, age) - reg.v_star(ls - h, age)) / (2 * h)
        fd_a = (reg.v_star(ls, age + h) - reg.v_star(ls, age - h)) / (2 * h)
        np.testing.assert_allclose(reg.dv_dloss(ls, age), fd_l, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(reg.dv_dage(ls, age), fd_a, rtol=1e-5, atol=1e-7)
        # the unclipped middle branch agrees inside the region
        np.testing.assert_allclose(reg.middle(ls, age), reg.v_star(ls, age), rtol=1e-14)
        np.testing.assert_allclose(reg.middle_dloss(ls, age), reg.dv_dloss(ls, age))
        np.testing.assert_allclose(reg.middle_dage(ls, age), reg.dv_dage(ls, age))
        # threshold derivatives
        fd1 = (reg.loss_one(age + h) - reg.loss_one(age - h)) / (2 * h)
        fd0 = (reg.loss_zero(age + h) - reg.loss_zero(age - h)) / (2 * h)
        assert abs(reg.dloss_one(age) - fd1) < 1e-6 * max(1, abs(fd1))
        assert abs(reg.dloss_zero(age) - fd0) < 1e-6 * max(1, abs(fd0))


@pytest.mark.parametrize("reg", BUILTINS, ids=repr)
def test_thresholds(reg):
    for age in _ages(reg):
        lo, hi = reg.loss_one(age), reg.loss_zero(age)
        assert 0 <= lo <= hi
        eps = 1e-9 * max(1.0, hi)
        if lo > 0:
            assert reg.v_star(lo - eps, age) == 1.0
            assert reg.v_star(lo * 0.5, age) == 1.0
        assert reg.v_star(hi, age) == 0.0
        assert reg.v_star(hi * 1.5, age) == 0.0
        assert reg.v_star(0.0, age) == 1.0
        if reg.continuous and hi > lo:
            # strictly inside (0, 1) in the middle and continuous at both ends
            mid = reg.v_star(0.5 * (lo + hi), age)
            assert 0 < mid < 1
            assert abs(reg.v_star(hi - eps, age)) < 1e-3
            assert abs(reg.v_star(lo + eps, age) - 1.0) < 1e-3
            # v* leaves 1 at lo: just above lo it is < 1
            assert reg.v_star(lo + 1e-3 * (hi - lo), age) < 1.0
        else:
            assert reg.v_star(hi - eps, age) == 1.0


@pytest.mark.parametrize("reg", BUILTINS, ids=repr)
def test_envelope_slope_is_v_star(reg):
    for age in _ages(reg):
        ls = _losses(reg, age)
        h = 1e-7
        slope = (reg.latent(ls + h, age) - reg.latent(ls - h, age)) / (2 * h)
        ok = np.abs(ls - reg.loss_zero(age)) > 1e-5  # hard: kink at the threshold
        np.testing.assert_allclose(slope[ok], reg.v_star(ls[ok], age), atol=1e-6)
        # latent equals v* l + f(v*) (it is the minimum)
        v = reg.v_star(ls, age)
        np.testing.assert_allclose(
            reg.latent(ls, age), v * ls + reg.value(v, age), atol=1e-12
        )


def test_monotone_in_loss_and_age():
    for reg in BUILTINS:
        a1, a2 = _ages(reg)[:2]
        ls = _losses(reg, a1)
        v1 = reg.v_star(ls, a1)
        assert np.all(np.diff(v1) <= 0)
        assert np.all(reg.v_star(ls, a2) >= v1 - 1e-15)


def test_scalar_and_shape():
    reg = Linear()
    assert isinstance(reg.v_star(0.5, 1.0), float)
    out = reg.v_star(np.ones((3, 2)), 2.0)
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out, 0.5)


def test_kernels_are_compiled():
    for name in ["v_star_vec", "dv_dloss_vec", "dv_dage_vec", "latent_vec", "phi"]:
        assert isinstance(getattr(_spl_kernels, name), CPUDispatcher)


def test_get_regularizer():
    assert isinstance(get_regularizer("hard"), Hard)
    assert isinstance(get_regularizer("log"), Logarithmic)
    assert isinstance(get_regularizer("mixture"), Mixture)
    assert isinstance(get_regularizer("polynomial"), Polynomial)
    r = Mixture(3.0)
    assert get_regularizer(r) is r
    with pytest.raises(ValueError, match="regularizer='quadratic'"):
        get_regularizer("quadratic")


@pytest.mark.parametrize("bad", [0, -1.0, np.nan, np.inf, "a", True])
def test_bad_parameters(bad):
    with pytest.raises(ValueError, match="gamma="):
        Mixture(bad)


@pytest.mark.parametrize("bad", [1, 0.5, np.nan, "a"])
def test_bad_polynomial(bad):
    with pytest.raises(ValueError, match="t="):
        Polynomial(bad)


def test_check_age():
    with pytest.raises(ValueError, match=r"age=1\.5.*\(0\.0, 1\.0\)"):
        Logarithmic().check_age(1.5)
    with pytest.raises(ValueError, match="age=0"):
        Linear().check_age(0)
    with pytest.raises(ValueError, match="age=nan"):
        Linear().check_age(np.nan)
    assert Linear().check_age(2) == 2.0


def _custom_linear(**kw):
    return CustomRegularizer(
        lambda l, a: 1 - l / a,
        lambda l, a: -np.ones_like(l) / a,
        lambda l, a: l / a**2,
        lambda a: 0.0,
        lambda a: a,
        **kw,
    )


def test_custom_equals_linear():
    cus = _custom_linear(value=lambda v, a: a * (v**2 / 2 - v))
    lin = Linear()
    ls = np.linspace(0, 3, 31)
    for age in [0.5, 2.0]:
        np.testing.assert_allclose(cus.v_star(ls, age), lin.v_star(ls, age))
        np.testing.assert_allclose(cus.dv_dloss(ls, age), lin.dv_dloss(ls, age))
        np.testing.assert_allclose(cus.dv_dage(ls, age), lin.dv_dage(ls, age))
        np.testing.assert_allclose(cus.latent(ls, age), lin.latent(ls, age), atol=1e-12)
    assert cus.continuous


def test_custom_without_value_integrates_envelope():
    cus = _custom_linear()
    with pytest.raises(NotImplementedError, match="value="):
        cus.value(0.5, 1.0)
    lin = Linear()
    ls = np.linspace(0, 3, 7)
    # latent(0) = 0 convention: differs from the linear one by the constant f(1, age)
    np.testing.assert_allclose(
        cus.latent(ls, 2.0), lin.latent(ls, 2.0) - lin.value(1.0, 2.0), atol=1e-12
    )


def test_custom_rejects_wrong_derivative():
    with pytest.raises(ValueError, match="dv_dloss"):
        CustomRegularizer(
            lambda l, a: 1 - l / a,
            lambda l, a: -2 * np.ones_like(l) / a,  # wrong by a factor 2
            lambda l, a: l / a**2,
            lambda a: 0.0,
            lambda a: a,
        )
    with pytest.raises(ValueError, match="dv_dage"):
        CustomRegularizer(
            lambda l, a: 1 - l / a,
            lambda l, a: -np.ones_like(l) / a,
            lambda l, a: -l / a**2,  # wrong sign
            lambda a: 0.0,
            lambda a: a,
        )
    with pytest.raises(ValueError, match="dloss_zero"):
        _custom_linear(dloss_zero=lambda a: 2.0)
    with pytest.raises(ValueError, match="v_star=1"):
        CustomRegularizer(1, 2, 3, 4, 5)


def test_custom_detects_discontinuity():
    cus = CustomRegularizer(
        lambda l, a: 0.5 * np.ones_like(l),
        lambda l, a: np.zeros_like(l),
        lambda l, a: np.zeros_like(l),
        lambda a: 0.5 * a,
        lambda a: a,
    )
    assert not cus.continuous


@pytest.mark.parametrize("reg", [r for r in BUILTINS if r.name != "hard"], ids=repr)
def test_middle_terms_kernel_equals_the_vectorized_branch(reg):
    """The SVM's compiled pass over its middle samples (``middle_terms``) gives the
    middle branch, its two derivatives and the middle diagonal 1 / (C s u) (``-big``
    where that is not finite and negative, and at least ``-big``) bit for bit as the
    regularizer's vectorized methods and the numpy formula; the ends of the middle
    range included (a zero slope decouples the row)."""
    big = 1e30
    rng = np.random.default_rng(0)
    for age in _ages(reg):
        lo, hi = float(reg.loss_one(age)), float(reg.loss_zero(age))
        loss = np.concatenate([[lo, hi], rng.uniform(lo, hi, 60)])
        cs = rng.uniform(0.1, 5.0, loss.shape[0])
        cs[:3] = 1e-40  # below 1 / big: the diagonal clipped at -big
        out = [np.empty(loss.shape[0]) for _ in range(4)]
        _spl_kernels.middle_terms(reg.kind, reg.param, loss, age, cs, big, *out)
        v = np.asarray(reg.middle(loss, age), dtype=np.float64)
        u = np.asarray(reg.middle_dloss(loss, age), dtype=np.float64)
        va = np.asarray(reg.middle_dage(loss, age), dtype=np.float64)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            d = 1.0 / (cs * u)
        d = np.maximum(np.where(np.isfinite(d) & (d < 0.0), d, -big), -big)
        for got, ref in zip(out, (v, u, va, d)):
            assert got.tobytes() == ref.tobytes()
