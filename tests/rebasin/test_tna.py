"""TNA-PFN masks, fixed-weight training, FedPFN / FedPNU simulations (issue 7)."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier

from gaga.rebasin import (
    biased_client_split,
    federated_training,
    fit_with_fixed_weights,
    fixed_weight_mask,
    params_from_sklearn_mlp,
    sklearn_mlp_init_params,
)


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:500] / 16.0, y[:500]


def _est(seed=0, solver="adam", **kw):
    return MLPClassifier(
        (16, 12), solver=solver, batch_size=32, random_state=seed, **kw
    )


@pytest.fixture(scope="module")
def init(data):
    X, y = data
    return sklearn_mlp_init_params(_est(), X, y)


def test_neuron_mask_fixes_whole_columns(init):
    mask = fixed_weight_mask(init, 0.4, "neuron", random_state=0)
    assert set(mask) == set(init)
    for k, n in ((0, 16), (1, 12)):
        m = mask[f"W{k}"]
        assert m.shape == init[f"W{k}"].shape
        cols = m.all(axis=0)
        assert np.array_equal(cols, m.any(axis=0))  # whole columns
        assert cols.sum() == round(0.4 * n)
    assert not mask["W2"].any()  # output layer never fixed
    assert not any(mask[f"b{k}"].any() for k in range(3))


def test_weight_mask_counts_and_seed(init):
    m1 = fixed_weight_mask(init, 0.3, "weight", random_state=1)
    m2 = fixed_weight_mask(init, 0.3, "weight", random_state=1)
    m3 = fixed_weight_mask(init, 0.3, "weight", random_state=2)
    for k in (0, 1):
        w = m1[f"W{k}"]
        assert w.sum() == round(0.3 * w.size)
        np.testing.assert_array_equal(w, m2[f"W{k}"])
    assert not np.array_equal(m1["W0"], m3["W0"])
    zero = fixed_weight_mask(init, 0.0, "weight", random_state=0)
    assert not any(v.any() for v in zero.values())


def test_mask_from_fitted_model(data):
    X, y = data
    fitted = fit_with_fixed_weights(_est(), X, y, n_epochs=1, random_state=0)
    mask = fixed_weight_mask(fitted, 0.5, random_state=0)
    assert mask["W0"].shape == fitted.coefs_[0].shape


@pytest.mark.parametrize("ratio", [1.0, -0.1, 2, True, "0.3"])
def test_bad_ratio(init, ratio):
    with pytest.raises(ValueError, match="ratio"):
        fixed_weight_mask(init, ratio)


def test_bad_level_and_model(init):
    with pytest.raises(ValueError, match="level"):
        fixed_weight_mask(init, 0.2, level="layer")
    with pytest.raises(ValueError, match="model_or_params"):
        fixed_weight_mask([1, 2, 3], 0.2)


def test_init_params_are_the_estimators_initialisation(data):
    X, y = data
    a = sklearn_mlp_init_params(_est(3), X, y)
    b = sklearn_mlp_init_params(_est(3, solver="sgd"), X, y)
    c = sklearn_mlp_init_params(_est(4), X, y)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["W0"], c["W0"])
    # one real partial_fit step of plain SGD moves away from exactly this point
    est = _est(3, solver="sgd", momentum=0.0, learning_rate_init=1e-3)
    est.partial_fit(X[:32], y[:32], classes=np.unique(y))
    step = est.coefs_[0] - a["W0"]
    assert 0 < np.abs(step).max() < 1e-2


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("level", ["neuron", "weight"])
def test_fixed_weights_stay_exactly_fixed(data, init, solver, level):
    X, y = data
    mask = fixed_weight_mask(init, 0.5, level, random_state=0)
    lr = 0.01 if solver == "adam" else 0.05
    est = _est(solver=solver, momentum=0.9, alpha=1e-2, learning_rate_init=lr)
    out = fit_with_fixed_weights(est, X, y, mask, n_epochs=4, random_state=0)
    params = params_from_sklearn_mlp(out)
    for k in ("W0", "W1"):
        m = mask[k]
        np.testing.assert_array_equal(params[k][m], init[k][m])
        assert np.all(params[k][~m] != init[k][~m])
    assert not np.array_equal(params["W2"], init["W2"])
    assert out.score(X, y) > 0.3  # chance is 0.1; only 64 steps
    # the estimator passed in is untouched
    assert not hasattr(est, "coefs_")


def test_projection_equals_masked_gradient_sgd(data, init):
    # plain SGD: "step then restore" == "step with the masked gradient";
    # compare with a hand-written masked-gradient update using sklearn's own
    # gradients (one partial_fit step on a copy gives theta - lr * grad)
    X, y = data
    mask = fixed_weight_mask(init, 0.5, "weight", random_state=0)
    est = _est(solver="sgd", momentum=0.0, learning_rate_init=0.1)
    xb, yb = X[:32], y[:32]
    ref = _est(solver="sgd", momentum=0.0, learning_rate_init=0.1)
    ref.partial_fit(xb, yb, classes=np.unique(y))  # unmasked step from init
    grad_step = {f"W{k}": ref.coefs_[k] - init[f"W{k}"] for k in range(3)}
    masked = {k: init[k] + np.where(mask[k], 0.0, grad_step[k]) for k in grad_step}
    # a loop whose single minibatch is xb (n = batch_size, no shuffling effect)
    out = fit_with_fixed_weights(
        est, xb, yb, mask, n_epochs=1, random_state=0, classes=np.unique(y)
    )
    for k in masked:
        np.testing.assert_allclose(out.coefs_[int(k[1])], masked[k], atol=1e-12)


def test_shared_anchors_from_another_init(data):
    X, y = data
    anchors = sklearn_mlp_init_params(_est(0), X, y)
    mask = fixed_weight_mask(anchors, 0.4, "neuron", random_state=0)
    out = fit_with_fixed_weights(
        _est(1), X, y, mask, anchors=anchors, n_epochs=2, random_state=0
    )
    for k in range(2):
        m = mask[f"W{k}"]
        np.testing.assert_array_equal(out.coefs_[k][m], anchors[f"W{k}"][m])


def test_continue_training_fitted(data, init):
    X, y = data
    first = fit_with_fixed_weights(_est(), X, y, n_epochs=1, random_state=0)
    mask = fixed_weight_mask(first, 0.5, random_state=0)
    second = fit_with_fixed_weights(first, X, y, mask, n_epochs=1, random_state=1)
    np.testing.assert_array_equal(
        second.coefs_[0][mask["W0"]], first.coefs_[0][mask["W0"]]
    )
    assert not np.array_equal(second.coefs_[2], first.coefs_[2])


def test_bad_masks(data, init):
    X, y = data
    mask = fixed_weight_mask(init, 0.5, random_state=0)
    bad_shape = {**mask, "W0": mask["W0"][:, :3]}
    with pytest.raises(ValueError, match="mask"):
        fit_with_fixed_weights(_est(), X, y, bad_shape, n_epochs=1)
    with pytest.raises(ValueError, match="mask"):
        fit_with_fixed_weights(_est(), X, y, {"W9": mask["W0"]}, n_epochs=1)
    with pytest.raises(ValueError, match="boolean"):
        fit_with_fixed_weights(_est(), X, y, {"W0": mask["W0"].astype(float)})
    with pytest.raises(ValueError, match="anchors"):
        fit_with_fixed_weights(_est(), X, y, mask, anchors={"W0": np.ones(3)})
    fitted = fit_with_fixed_weights(_est(), X, y, n_epochs=1)
    with pytest.raises(ValueError, match="features"):
        fit_with_fixed_weights(fitted, X[:, :5], y, mask)


def test_biased_client_split(data):
    _, y = data
    clients = biased_client_split(y, 3, bias=0.8, random_state=0)
    allidx = np.concatenate(clients)
    assert np.array_equal(np.sort(allidx), np.arange(y.size))
    full = biased_client_split(y, 2, bias=1.0, random_state=0)
    assert set(np.unique(y[full[0]])) == {0, 2, 4, 6, 8}
    assert set(np.unique(y[full[1]])) == {1, 3, 5, 7, 9}
    with pytest.raises(ValueError, match="bias"):
        biased_client_split(y, 2, bias=1.5)
    with pytest.raises(ValueError, match="n_clients"):
        biased_client_split(y, 1)


@pytest.mark.parametrize("method", ["fedavg", "fedpfn", "fedpnu"])
def test_federated_training_runs(data, method):
    X, y = data
    clients = biased_client_split(y, 2, bias=0.8, random_state=0)
    est = _est(solver="sgd", learning_rate_init=0.1, momentum=0.5)
    model, hist = federated_training(
        est,
        X,
        y,
        clients,
        method=method,
        ratio=0.4,
        n_rounds=3,
        local_epochs=3,
        X_test=X,
        y_test=y,
        random_state=0,
    )
    assert hist["round"] == [1, 2, 3]
    assert len(hist["test_score"]) == 3
    assert hist["test_score"][-1] > 0.3  # chance 0.1; 3 short rounds
    if method == "fedpfn":
        # the global model keeps the anchors: every client kept them fixed
        init = sklearn_mlp_init_params(est, X, y)
        changed = model.coefs_[0] != init["W0"]
        fixed_cols = np.flatnonzero(~changed.any(axis=0))
        assert fixed_cols.size == round(0.4 * 16)


def test_federated_errors(data):
    X, y = data
    with pytest.raises(ValueError, match="method"):
        federated_training(_est(), X, y, [np.arange(10)], method="fedprox")
    with pytest.raises(ValueError, match="ratio"):
        federated_training(_est(), X, y, [np.arange(10)], ratio=1.0)
    with pytest.raises(ValueError, match="clients"):
        federated_training(_est(), X, y, [np.arange(10), np.array([], int)])


# ----------------------------------------------------------------------------
# torch
# ----------------------------------------------------------------------------


def _torch_net(torch):
    nn = torch.nn
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 10)
    )


@pytest.mark.torch
def test_torch_mask_layout():
    torch = pytest.importorskip("torch")
    net = _torch_net(torch)
    mask = fixed_weight_mask(net, 0.5, "neuron", random_state=0)
    assert set(mask) == {n for n, _ in net.named_parameters()}
    rows = mask["0.weight"].all(axis=1)
    assert rows.sum() == 8 and np.array_equal(rows, mask["0.weight"].any(axis=1))
    assert not mask["4.weight"].any() and not mask["0.bias"].any()


@pytest.mark.torch
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_torch_fixed_weights_stay_fixed(data, optimizer):
    torch = pytest.importorskip("torch")
    from gaga.rebasin import mask_gradients, train_torch_with_fixed_weights

    torch.set_num_threads(1)
    X, y = data
    net = _torch_net(torch)
    mask = fixed_weight_mask(net, 0.5, "weight", random_state=0)
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    out = train_torch_with_fixed_weights(
        net,
        X,
        y,
        mask,
        n_epochs=2,
        lr=1e-2,
        optimizer=optimizer,
        momentum=0.9,
        weight_decay=1e-2,
        random_state=0,
    )
    after = dict(out.named_parameters())
    for name in ("0.weight", "2.weight"):
        m = torch.as_tensor(mask[name])
        assert torch.equal(after[name][m], before[name][m])
        assert not torch.equal(after[name][~m], before[name][~m])
    # the hook alone zeroes the gradient of fixed entries
    handles = mask_gradients(net, mask)
    net.zero_grad()
    net(torch.as_tensor(X, dtype=torch.float32)).sum().backward()
    g = net[0].weight.grad
    assert torch.all(g[torch.as_tensor(mask["0.weight"])] == 0)
    assert torch.any(g[~torch.as_tensor(mask["0.weight"])] != 0)
    for h in handles:
        h.remove()
    with pytest.raises(ValueError, match="mask"):
        mask_gradients(net, {"0.weight": np.zeros((2, 2), bool)})
