"""PyTorch adapter (skipped without torch)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gaga.rebasin import (  # noqa: E402
    activation_matching,
    apply_permutation,
    cnn_spec,
    invert_permutation,
    is_identity_permutation,
    mlp_spec,
    random_permutation,
    resnet_spec,
    ste_matching,
    weight_matching,
)
from gaga.rebasin.torch import (  # noqa: E402
    iter_torch_activations,
    params_from_torch,
    reset_batchnorm,
    spec_from_torch_sequential,
    torch_activations,
    torch_loss_and_grad,
    torch_model_with_params,
)

pytestmark = pytest.mark.torch
nn = torch.nn


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # tiny models: OpenMP threads spinning on a loaded 2-core machine make every
    # op ~100x slower (measured: Linear backward 28 ms with 2 threads, 0.3 ms
    # with 1)
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _trained_bn(model, x):
    """Give BatchNorm layers non-trivial running statistics."""
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(x + torch.randn_like(x))
    return model.eval()


def _out(model, x):
    with torch.no_grad():
        return model.eval()(x).numpy()


def test_state_dict_round_trip_mlp():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 7), nn.ReLU(), nn.Linear(7, 3)
    ).double()
    params = params_from_torch(model)
    assert params["0.weight"].shape == (8, 5) and params["0.weight"].dtype == np.float64
    spec = mlp_spec(
        [5, 8, 7, 3],
        layout="out_in",
        weight_name=["0.weight", "2.weight", "4.weight"],
        bias_name=["0.bias", "2.bias", "4.bias"],
    )
    auto = spec_from_torch_sequential(model, (5,))
    assert auto.axes_to_perm == spec.axes_to_perm
    perm = random_permutation(spec, random_state=0)
    new = torch_model_with_params(model, apply_permutation(spec, perm, params))
    x = torch.randn(11, 5, dtype=torch.float64)
    np.testing.assert_allclose(_out(new, x), _out(model, x), atol=1e-10, rtol=0)
    assert not torch.equal(new[0].weight, model[0].weight)
    with pytest.raises(ValueError, match="missing"):
        torch_model_with_params(model, {"0.weight": params["0.weight"]})
    with pytest.raises(ValueError, match="'2.bias' has shape"):
        torch_model_with_params(model, dict(params, **{"2.bias": np.zeros(3)}))


def _conv_bn_net():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 5, 3),
        nn.BatchNorm2d(5),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(5 * 3 * 3, 6),
        nn.BatchNorm1d(6),
        nn.ReLU(),
        nn.Linear(6, 3),
    ).double()


def test_conv_batchnorm_flatten_sequential_round_trip():
    torch.manual_seed(1)
    x = torch.randn(8, 2, 7, 7, dtype=torch.float64)
    model = _trained_bn(_conv_bn_net(), x)
    spec = spec_from_torch_sequential(model, (2, 7, 7))
    assert spec.axes_to_perm["1.running_var"] == ("P0",)
    assert spec.axes_to_perm["1.num_batches_tracked"] == ()
    assert spec.axes_to_perm["7.weight"][1].n_positions == 9
    params = params_from_torch(model)
    perm = random_permutation(spec, random_state=2)
    permuted = apply_permutation(spec, perm, params)
    new = torch_model_with_params(model, permuted)
    np.testing.assert_allclose(_out(new, x), _out(model, x), atol=1e-10, rtol=0)
    # without permuting the BN buffers the function changes
    broken = dict(permuted)
    broken["1.running_mean"] = params["1.running_mean"]
    assert (
        np.abs(_out(torch_model_with_params(model, broken), x) - _out(model, x)).max()
        > 1e-4
    )
    # the spec of the builder agrees with the automatic one for conv/bn/flatten
    built = cnn_spec([4, 5], [6, 3], n_positions=9, norm="batchnorm", in_channels=2)
    assert built.group_sizes["C0"] == spec.group_sizes["P0"]


class _Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


class _ResNet(nn.Module):
    def __init__(self, widths=(4, 6), blocks=2, n_classes=3, cin=2):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        prev = widths[0]
        for s, w in enumerate(widths):
            layer = nn.ModuleList()
            for _ in range(blocks):
                layer.append(_Block(prev, w))
                prev = w
            setattr(self, f"layer{s}", layer)
        self.n_stages = len(widths)
        self.fc = nn.Linear(prev, n_classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        for s in range(self.n_stages):
            for blk in getattr(self, f"layer{s}"):
                x = blk(x)
        return self.fc(x.mean(dim=(2, 3)))


def test_resnet_round_trip_with_batchnorm():
    torch.manual_seed(2)
    x = torch.randn(4, 2, 5, 5, dtype=torch.float64)
    model = _trained_bn(_ResNet().double(), x)
    spec = resnet_spec([4, 6], 2, 3, in_channels=2)
    params = params_from_torch(model)
    spec.check_params(params)
    perm = random_permutation(spec, random_state=0)
    new = torch_model_with_params(model, apply_permutation(spec, perm, params))
    np.testing.assert_allclose(_out(new, x), _out(model, x), atol=1e-10, rtol=0)
    assert is_identity_permutation(
        weight_matching(spec, params, params, random_state=0)
    )


def test_torch_activation_matching_and_planted_weight_matching():
    torch.manual_seed(3)
    x = torch.randn(64, 2, 7, 7, dtype=torch.float64)
    model = _trained_bn(_conv_bn_net(), x)
    spec = spec_from_torch_sequential(model, (2, 7, 7))
    params = params_from_torch(model)
    planted = random_permutation(spec, random_state=4)
    model_b = torch_model_with_params(model, apply_permutation(spec, planted, params))
    modules = {"P0": "2", "P1": "5", "P2": "9"}
    acts_a = iter_torch_activations(model, x, modules, batch_size=16)
    acts_b = iter_torch_activations(model_b, x, modules, batch_size=16)
    perm = activation_matching(acts_a, acts_b, channel_axis=1)
    inv = invert_permutation(planted)
    full = torch_activations(model, x, modules)
    for g in perm:
        alive = full[g].std(axis=tuple(i for i in range(full[g].ndim) if i != 1)) > 0
        np.testing.assert_array_equal(perm[g][alive], inv[g][alive])
    wm = weight_matching(spec, params, params_from_torch(model_b), random_state=0)
    # conv stacks are not guaranteed; the first group must be right for a copy
    assert wm.objective >= wm.objective_trace[0]
    pre = torch_activations(model, x[:3], {"P0": "2"}, record="input")
    post = torch_activations(model, x[:3], {"P0": "2"})
    np.testing.assert_allclose(post["P0"], np.maximum(pre["P0"], 0))


def test_torch_ste_and_reset_batchnorm():
    torch.manual_seed(5)
    X = np.random.default_rng(0).normal(size=(120, 6))
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0)
    models = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        m = nn.Sequential(nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 3)).double()
        for _ in range(100):  # plain gradient descent (torch.optim is slow to import)
            m.zero_grad()
            loss = nn.functional.cross_entropy(
                m(torch.as_tensor(X)), torch.as_tensor(y)
            )
            loss.backward()
            with torch.no_grad():
                for prm in m.parameters():
                    prm -= 0.5 * prm.grad
        models.append(m)
    spec = spec_from_torch_sequential(models[0], (6,))
    pa, pb = params_from_torch(models[0]), params_from_torch(models[1])
    lg = torch_loss_and_grad(models[0])
    val, grads = lg(pa, X, y)
    assert set(grads) == set(pa) and np.isfinite(val)
    res = ste_matching(
        spec, pa, pb, X, y, loss_and_grad=lg, n_epochs=2, batch_size=60, random_state=0
    )
    assert res.best_loss <= res.selection_losses[0] + 1e-12
    bn = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4)).double()
    new = reset_batchnorm(bn, X, batch_size=40)  # equal batches: exact mean
    np.testing.assert_allclose(
        new[1].running_mean.numpy(), _out(bn[0], torch.as_tensor(X)).mean(0), atol=1e-10
    )
    assert not new.training
