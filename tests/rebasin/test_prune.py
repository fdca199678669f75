"""Magnitude pruning and the post-pruning re-normalisation plug-in (issue 7)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from gaga.rebasin import (
    magnitude_prune,
    params_from_sklearn_mlp,
    renormalize_pruned,
    sklearn_mlp_activations,
)


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:800] / 16.0, y[:800]


@pytest.fixture(scope="module")
def dense(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier((48, 48), max_iter=80, random_state=0).fit(X, y)


@pytest.mark.parametrize("sparsity", [0.0, 0.5, 0.8, 0.9, 0.37])
def test_global_sparsity_exact(dense, sparsity):
    pruned = magnitude_prune(dense, sparsity)
    w = np.concatenate([c.ravel() for c in pruned.coefs_])
    assert np.sum(w == 0) == round(sparsity * w.size)
    # surviving weights are the largest ones and unchanged
    w0 = np.concatenate([c.ravel() for c in dense.coefs_])
    kept = w != 0
    np.testing.assert_array_equal(w[kept], w0[kept])
    if sparsity:
        assert np.abs(w0[~kept]).max() <= np.abs(w0[kept]).min()
    for b, b0 in zip(pruned.intercepts_, dense.intercepts_):
        np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize("sparsity", [0.5, 0.9])
def test_layer_sparsity_exact(dense, sparsity):
    pruned = magnitude_prune(dense, sparsity, scope="layer")
    for c in pruned.coefs_:
        assert np.sum(c == 0) == round(sparsity * c.size)


def test_prune_params_dict_and_input_untouched(dense):
    params = params_from_sklearn_mlp(dense)
    before = {k: v.copy() for k, v in params.items()}
    out = magnitude_prune(params, 0.5)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
    n = sum(out[k].size for k in out if k.startswith("W"))
    assert sum(np.sum(out[k] == 0) for k in out if k.startswith("W")) == round(n / 2)
    np.testing.assert_array_equal(dense.coefs_[0], before["W0"])


@pytest.mark.parametrize("bad", [1.0, -0.1, 1.5, "0.5", True])
def test_bad_sparsity(dense, bad):
    with pytest.raises(ValueError, match="sparsity"):
        magnitude_prune(dense, bad)


def test_bad_scope(dense):
    with pytest.raises(ValueError, match="scope"):
        magnitude_prune(dense, 0.5, scope="row")


def test_plugin_restores_dense_statistics(data, dense):
    X, _ = data
    pruned = magnitude_prune(dense, 0.8)
    fixed = renormalize_pruned(dense, pruned, X)
    z_dense = sklearn_mlp_activations(dense, X, pre_activation=True)
    z_pruned = sklearn_mlp_activations(pruned, X, pre_activation=True)
    z_fixed = sklearn_mlp_activations(fixed, X, pre_activation=True)
    for zd, zf in zip(z_dense, z_fixed):
        # units left with constant input by pruning cannot be rescaled
        alive = zf.std(0) > 1e-9
        assert alive.mean() > 0.8
        np.testing.assert_allclose(zf.mean(0), zd.mean(0), atol=1e-10)
        np.testing.assert_allclose(zf.std(0)[alive], zd.std(0)[alive], atol=1e-10)
    assert np.abs(z_pruned[1].std(0) - z_dense[1].std(0)).max() > 1e-2
    # the sparsity pattern is kept: folding scales columns, never fills zeros
    for cf, cp in zip(fixed.coefs_, pruned.coefs_):
        np.testing.assert_array_equal(cf == 0, cp == 0)


def test_plugin_reshift_restores_means(data, dense):
    X, _ = data
    pruned = magnitude_prune(dense, 0.8)
    fixed = renormalize_pruned(dense, pruned, X, method="reshift")
    zd = sklearn_mlp_activations(dense, X, pre_activation=True)[0]
    zf = sklearn_mlp_activations(fixed, X, pre_activation=True)[0]
    zp = sklearn_mlp_activations(pruned, X, pre_activation=True)[0]
    np.testing.assert_allclose(zf.mean(0), zd.mean(0), atol=1e-10)
    np.testing.assert_allclose(zf.std(0), zp.std(0), atol=1e-12)


def test_plugin_improves_accuracy_at_high_sparsity(data, dense):
    X, y = data
    pruned = magnitude_prune(dense, 0.9)
    fixed = renormalize_pruned(dense, pruned, X)
    assert fixed.score(X, y) > pruned.score(X, y) + 0.05


def test_plugin_errors(data, dense):
    X, _ = data
    pruned = magnitude_prune(dense, 0.5)
    with pytest.raises(ValueError, match="method"):
        renormalize_pruned(dense, pruned, X, method="repair_closed_form")
    with pytest.raises(ValueError, match="features"):
        renormalize_pruned(dense, pruned, X[:, 1:])
    with pytest.raises(ValueError, match="reset"):
        renormalize_pruned(dense, pruned, X, method="reset")


@pytest.mark.torch
def test_torch_prune_and_plugin(data):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    X, _ = data
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 10)
    ).double()
    pruned = magnitude_prune(net, 0.8)
    w = torch.cat([m.weight.flatten() for m in pruned if isinstance(m, nn.Linear)])
    assert int((w == 0).sum()) == round(0.8 * w.numel())
    assert int((net[0].weight == 0).sum()) == 0
    fixed = renormalize_pruned(net, pruned, X)
    Xt = torch.as_tensor(X)
    with torch.no_grad():
        zd = net[:3](Xt).numpy()
        zf = fixed[:3](Xt).numpy()
    np.testing.assert_allclose(zf.mean(0), zd.mean(0), atol=1e-10)
    np.testing.assert_allclose(zf.std(0), zd.std(0), atol=1e-10)


@pytest.mark.torch
def test_torch_plugin_reset_batchnorm(data):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    X, _ = data
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10)
    ).double()
    net.eval()
    pruned = magnitude_prune(net, 0.7, scope="layer")
    fixed = renormalize_pruned(net, pruned, X, method="reset")
    with torch.no_grad():
        z = pruned[0](torch.as_tensor(X))
    np.testing.assert_allclose(fixed[1].running_mean.numpy(), z.mean(0).numpy())
