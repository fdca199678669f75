"""REPAIR / closed-form REPAIR / RESCALE / RESHIFT / RESET (issue 7)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from gaga.rebasin import (
    apply_permutation,
    interpolate,
    params_from_sklearn_mlp,
    repair,
    sklearn_mlp_activations,
    sklearn_mlp_forward,
    sklearn_mlp_with_params,
    spec_from_sklearn_mlp,
    weight_matching,
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


def _fit(X, y, seed, hidden=(16, 16)):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(hidden, max_iter=60, random_state=seed).fit(X, y)


@pytest.fixture(scope="module")
def triple(digits):
    """(A, pi(B), midpoint) with B weight-matched to A."""
    X, y = digits
    a, b = _fit(X, y, 0), _fit(X, y, 1)
    spec = spec_from_sklearn_mlp(a)
    pa, pb = params_from_sklearn_mlp(a), params_from_sklearn_mlp(b)
    perm = weight_matching(spec, pa, pb, random_state=0)
    pb = apply_permutation(spec, perm, pb)
    b = sklearn_mlp_with_params(b, pb)
    mid = sklearn_mlp_with_params(a, interpolate(pa, pb, 0.5))
    return a, b, mid


def _preacts(model, X, with_output=False):
    z = sklearn_mlp_activations(model, X, pre_activation=True)
    if with_output:
        z.append(sklearn_mlp_forward(params_from_sklearn_mlp(model), X))
    return z


def _goal(a, b, X, lam, with_output=False):
    za, zb = _preacts(a, X, with_output), _preacts(b, X, with_output)
    return [
        (
            (1 - lam) * u.mean(0) + lam * v.mean(0),
            (1 - lam) * u.std(0) + lam * v.std(0),
        )
        for u, v in zip(za, zb)
    ]


@pytest.mark.parametrize("lam", [0.5, 0.3])
def test_repair_gives_exact_goal_statistics(digits, triple, lam):
    X, _ = digits
    a, b, _ = triple
    merged = sklearn_mlp_with_params(
        a, interpolate(params_from_sklearn_mlp(a), params_from_sklearn_mlp(b), lam)
    )
    out = repair(a, b, merged, X, method="repair", lam=lam)
    for z, (mu, sd) in zip(_preacts(out, X), _goal(a, b, X, lam)):
        alive = z.std(0) > 0
        np.testing.assert_allclose(z.mean(0), mu, rtol=0, atol=1e-10)
        np.testing.assert_allclose(z.std(0)[alive], sd[alive], rtol=0, atol=1e-10)
    # the unrepaired midpoint is far from the goal (the test can fail)
    z0 = _preacts(merged, X)[1]
    assert np.abs(z0.std(0) - _goal(a, b, X, lam)[1][1]).max() > 1e-2


def test_repair_all_layers_includes_output(digits, triple):
    X, _ = digits
    a, b, mid = triple
    out = repair(a, b, mid, X, layers="all")
    z = _preacts(out, X, with_output=True)[-1]
    mu, sd = _goal(a, b, X, 0.5, with_output=True)[-1]
    np.testing.assert_allclose(z.mean(0), mu, atol=1e-10)
    np.testing.assert_allclose(z.std(0), sd, atol=1e-10)
    # default: output layer untouched
    hidden_only = repair(a, b, mid, X)
    np.testing.assert_array_equal(hidden_only.coefs_[-1], mid.coefs_[-1])


def test_repair_selected_layers(digits, triple):
    X, _ = digits
    a, b, mid = triple
    out = repair(a, b, mid, X, layers=[1])
    np.testing.assert_array_equal(out.coefs_[0], mid.coefs_[0])
    np.testing.assert_array_equal(out.intercepts_[0], mid.intercepts_[0])
    assert not np.allclose(out.coefs_[1], mid.coefs_[1])
    z = _preacts(out, X)[1]
    mu, sd = _goal(a, b, X, 0.5)[1]
    np.testing.assert_allclose(z.mean(0), mu, atol=1e-10)


def test_repair_average_goals(digits, triple):
    X, _ = digits
    a, b, mid = triple
    out = repair(a, b, mid, X, average=True)
    for z, (mu, sd) in zip(_preacts(out, X), _goal(a, b, X, 0.5)):
        np.testing.assert_allclose(z.std(0), np.full_like(sd, sd.mean()), atol=1e-10)
        np.testing.assert_allclose(
            z.mean(0), np.mean(np.abs(mu)) * np.sign(mu), atol=1e-10
        )


def test_reshift_changes_only_means(digits, triple):
    X, _ = digits
    a, b, mid = triple
    for k in (0, 1):
        out = repair(a, b, mid, X, method="reshift", layers=[k])
        for j in range(len(mid.coefs_)):
            np.testing.assert_array_equal(out.coefs_[j], mid.coefs_[j])
        z_new, z_old = _preacts(out, X)[k], _preacts(mid, X)[k]
        mu, _ = _goal(a, b, X, 0.5)[k]
        np.testing.assert_allclose(z_new.mean(0), mu, atol=1e-10)
        np.testing.assert_allclose(z_new.std(0), z_old.std(0), atol=1e-12)


def test_rescale_changes_only_stds(digits, triple):
    X, _ = digits
    a, b, mid = triple
    for k in (0, 1):
        out = repair(a, b, mid, X, method="rescale", layers=[k])
        z_new, z_old = _preacts(out, X)[k], _preacts(mid, X)[k]
        _, sd = _goal(a, b, X, 0.5)[k]
        alive = z_old.std(0) > 0
        np.testing.assert_allclose(z_new.std(0)[alive], sd[alive], atol=1e-10)
        # pure scaling: z_new = r * z_old, the mean is scaled by the same r
        r = z_new.std(0)[alive] / z_old.std(0)[alive]
        np.testing.assert_allclose(z_new[:, alive], z_old[:, alive] * r, atol=1e-10)
        assert not np.allclose(z_new.mean(0), _goal(a, b, X, 0.5)[k][0])


def test_closed_form_exact_on_first_layer(digits, triple):
    # the first hidden pre-activation of the midpoint is exactly the average of
    # the end points' pre-activations, so the closed-form prediction is exact
    X, _ = digits
    a, b, mid = triple
    out = repair(a, b, mid, X, method="repair_closed_form")
    z = _preacts(out, X)[0]
    mu, sd = _goal(a, b, X, 0.5)[0]
    np.testing.assert_allclose(z.mean(0), mu, atol=1e-10)
    np.testing.assert_allclose(z.std(0), sd, atol=1e-10)
    # deeper layers: only approximate, and different from exact REPAIR
    exact = repair(a, b, mid, X, method="repair")
    assert not np.allclose(out.coefs_[1], exact.coefs_[1])


def test_repair_of_identical_models_is_identity(digits, triple):
    X, _ = digits
    a = triple[0]
    for method in ("repair", "repair_closed_form", "rescale", "reshift"):
        out = repair(a, a, a, X, method=method)
        np.testing.assert_allclose(
            out.predict_proba(X), a.predict_proba(X), rtol=0, atol=1e-10
        )


def test_repair_helps_midpoint(digits, triple):
    X, y = digits
    a, b, mid = triple
    out = repair(a, b, mid, X)
    assert out.score(X, y) > mid.score(X, y)


def test_dead_units_are_not_rescaled(digits, triple):
    X, _ = digits
    a, b, mid = triple
    p = params_from_sklearn_mlp(mid)
    p["W0"][:, 3] = 0.0  # unit 3 of layer 0 is constant on the data
    dead = sklearn_mlp_with_params(mid, p)
    out = repair(a, b, dead, X)
    assert all(np.all(np.isfinite(w)) for w in out.coefs_)
    np.testing.assert_array_equal(out.coefs_[0][:, 3], 0.0)
    z = _preacts(out, X)[0]
    np.testing.assert_allclose(z[:, 3].mean(), _goal(a, b, X, 0.5)[0][0][3])


def test_inputs_not_modified(digits, triple):
    X, _ = digits
    a, b, mid = triple
    before = [w.copy() for w in mid.coefs_]
    repair(a, b, mid, X)
    for w, w0 in zip(mid.coefs_, before):
        np.testing.assert_array_equal(w, w0)


def test_repair_errors(digits, triple):
    X, _ = digits
    a, b, mid = triple
    with pytest.raises(ValueError, match="features"):
        repair(a, b, mid, X[:, :10])
    with pytest.raises(ValueError, match="method"):
        repair(a, b, mid, X, method="bogus")
    with pytest.raises(ValueError, match="lam"):
        repair(a, b, mid, X, lam=float("nan"))
    with pytest.raises(ValueError, match="reset"):
        repair(a, b, mid, X, method="reset")
    with pytest.raises(ValueError, match="layers"):
        repair(a, b, mid, X, layers=[7])
    with pytest.raises(ValueError, match="layers"):
        repair(a, b, mid, X, layers="first")
    other = _fit(X, digits[1], 0, hidden=(8, 16))
    with pytest.raises(ValueError, match="layer shapes"):
        repair(a, other, mid, X)
    with pytest.raises(ValueError, match="model_a"):
        repair("not a model", b, mid, X)


# ----------------------------------------------------------------------------
# torch
# ----------------------------------------------------------------------------


def _torch_pair(torch, conv=False, bn=False):
    nn = torch.nn
    torch.manual_seed(0)

    def make():
        if conv:
            layers = [nn.Conv2d(1, 6, 3, padding=1)]
            if bn:
                layers.append(nn.BatchNorm2d(6))
            layers += [nn.ReLU(), nn.Conv2d(6, 5, 3), nn.ReLU(), nn.Flatten()]
            layers += [nn.Linear(5 * 6 * 6, 10)]
        else:
            layers = [nn.Linear(64, 24)]
            if bn:
                layers.append(nn.BatchNorm1d(24))
            layers += [nn.ReLU(), nn.Linear(24, 24), nn.ReLU(), nn.Linear(24, 10)]
        return nn.Sequential(*layers).double()

    a, b = make(), make()
    mid = make()
    with torch.no_grad():
        for pm, pa, pb in zip(mid.parameters(), a.parameters(), b.parameters()):
            pm.copy_(0.5 * (pa + pb))
    return a, b, mid


def _torch_stats(torch, model, X, name):
    layer = dict(model.named_modules())[name]
    out = {}
    h = layer.register_forward_hook(lambda m, i, o: out.__setitem__("z", o))
    with torch.no_grad():
        model.eval()(X)
    h.remove()
    z = out["z"]
    z = z.transpose(0, 1).reshape(z.shape[1], -1).T if z.ndim > 2 else z
    z = z.numpy()
    return z.mean(0), z.std(0)


@pytest.mark.torch
@pytest.mark.parametrize("conv", [False, True])
def test_torch_repair_exact_statistics(conv):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    a, b, mid = _torch_pair(torch, conv=conv)
    X = torch.rand(200, 1, 8, 8, dtype=torch.float64) if conv else torch.rand(200, 64)
    X = X.double()
    out = repair(a, b, mid, X, batch_size=64)
    names = ["0", "2"]
    for name in names:
        mu_a, sd_a = _torch_stats(torch, a, X, name)
        mu_b, sd_b = _torch_stats(torch, b, X, name)
        mu, sd = _torch_stats(torch, out, X, name)
        np.testing.assert_allclose(mu, (mu_a + mu_b) / 2, atol=1e-10)
        np.testing.assert_allclose(sd, (sd_a + sd_b) / 2, atol=1e-10)
    # input untouched, output layer untouched
    assert torch.equal(out[-1].weight, mid[-1].weight)
    assert not torch.equal(out[0].weight, mid[0].weight)


@pytest.mark.torch
def test_torch_matches_sklearn_path(digits, triple):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    X, _ = digits
    nn = torch.nn

    def to_torch(mlp):
        lin = [nn.Linear(w.shape[0], w.shape[1]) for w in mlp.coefs_]
        net = nn.Sequential(lin[0], nn.ReLU(), lin[1], nn.ReLU(), lin[2]).double()
        with torch.no_grad():
            for layer, w, c in zip(lin, mlp.coefs_, mlp.intercepts_):
                layer.weight.copy_(torch.as_tensor(w.T))
                layer.bias.copy_(torch.as_tensor(c))
        return net

    a, b, mid = triple
    for method in ("repair", "repair_closed_form", "rescale", "reshift"):
        sk = repair(a, b, mid, X, method=method)
        th = repair(to_torch(a), to_torch(b), to_torch(mid), X, method=method)
        np.testing.assert_allclose(
            th[0].weight.detach().numpy().T, sk.coefs_[0], atol=1e-9
        )
        np.testing.assert_allclose(th[2].bias.detach().numpy(), sk.intercepts_[1])


@pytest.mark.torch
def test_torch_reset_batchnorm():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    a, b, mid = _torch_pair(torch, bn=True)
    X = torch.rand(100, 64, dtype=torch.float64)
    out = repair(None, None, mid, X, method="reset")
    with torch.no_grad():
        z = mid[0](X)
    np.testing.assert_allclose(out[1].running_mean.numpy(), z.mean(0).numpy())
    np.testing.assert_allclose(
        out[1].running_var.numpy(), z.var(0, unbiased=True).numpy()
    )
    assert not out.training
    assert torch.equal(mid[1].running_mean, torch.zeros(24, dtype=torch.float64))
    _, _, plain = _torch_pair(torch)
    with pytest.raises(ValueError, match="BatchNorm"):
        repair(None, None, plain, X, method="reset")


@pytest.mark.torch
def test_torch_errors():
    torch = pytest.importorskip("torch")
    a, b, mid = _torch_pair(torch)
    with pytest.raises(ValueError, match="features"):
        repair(a, b, mid, torch.rand(10, 63, dtype=torch.float64))
    _, _, conv = _torch_pair(torch, conv=True)
    with pytest.raises(ValueError, match="Linear/Conv layers"):
        repair(a, b, conv, torch.rand(10, 64, dtype=torch.float64))


@pytest.mark.torch
def test_torch_layer_selection_by_name():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    a, b, mid = _torch_pair(torch)
    X = torch.rand(50, 64, dtype=torch.float64)
    out = repair(a, b, mid, X, layers=["2"])
    assert torch.equal(out[0].weight, mid[0].weight)
    assert not torch.equal(out[2].weight, mid[2].weight)
    with pytest.raises(ValueError, match="unknown layer name"):
        repair(a, b, mid, X, layers=["7"])


@pytest.mark.slow
def test_repair_helps_deep_narrow_mlps_most():
    # REPAIR paper / rethink claim on a small scale: the gain of REPAIR over the
    # weight-matched midpoint is larger for a deep narrow MLP than for a wide one
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    gains = {}
    for hidden in ((16,) * 5, (128, 128)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            a, b = (
                MLPClassifier(hidden, max_iter=150, random_state=s).fit(X, y)
                for s in (0, 1)
            )
        spec = spec_from_sklearn_mlp(a)
        pa, pb = params_from_sklearn_mlp(a), params_from_sklearn_mlp(b)
        pb = apply_permutation(spec, weight_matching(spec, pa, pb, random_state=0), pb)
        b = sklearn_mlp_with_params(b, pb)
        mid = sklearn_mlp_with_params(a, interpolate(pa, pb, 0.5))
        gains[hidden] = repair(a, b, mid, X).score(X, y) - mid.score(X, y)
    assert gains[(16,) * 5] > 0.1
    assert gains[(16,) * 5] > gains[(128, 128)]
