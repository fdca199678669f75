"""Weight / activation / STE matching, interpolation, barriers and merging."""

import itertools

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier, MLPRegressor

from gaga.rebasin import (
    CrossStatistics,
    activation_matching,
    apply_permutation,
    barrier_max_minus_endpoint_mean,
    barrier_midpoint_minus_endpoint_mean,
    barrier_sup_linear,
    identity_permutation,
    interpolate,
    interpolate_homogeneous,
    interpolation_curve,
    invert_permutation,
    is_identity_permutation,
    matching_objective,
    merge_many,
    mlp_loss_and_grad,
    mlp_spec,
    params_from_sklearn_mlp,
    random_permutation,
    resnet_spec,
    sklearn_mlp_activations,
    sklearn_mlp_forward,
    sklearn_mlp_with_params,
    slerp,
    spec_from_sklearn_mlp,
    ste_matching,
    weight_matching,
)
from gaga.rebasin._testing import mlp_forward, random_params

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="module")
def two_mlps(digits):
    X, y = digits
    return [
        MLPClassifier(hidden_layer_sizes=(24, 16), max_iter=60, random_state=s).fit(
            X, y
        )
        for s in (0, 1)
    ]


def _dist(a, b):
    return sum(float(np.sum((a[k] - b[k]) ** 2)) for k in a)


# ------------------------------------------------------------ weight matching


def test_self_matching_is_identity(two_mlps):
    spec = spec_from_sklearn_mlp(two_mlps[0])
    p = params_from_sklearn_mlp(two_mlps[0])
    perm = weight_matching(spec, p, p, random_state=0)
    assert is_identity_permutation(perm)
    assert perm.converged and perm.n_iter == 1


def test_self_matching_is_identity_resnet():
    spec = resnet_spec([4, 6], 2, 3, in_channels=2)
    p = random_params(spec, np.random.default_rng(0))
    perm = weight_matching(spec, p, p, random_state=1)
    assert is_identity_permutation(perm)


@pytest.mark.parametrize("layout", ["out_in", "in_out"])
def test_planted_permutation_one_hidden_layer(layout):
    rng = np.random.default_rng(0)
    spec = mlp_spec([10, 40, 3], layout=layout)
    pa = random_params(spec, rng)
    planted = random_permutation(spec, random_state=1)
    pb = apply_permutation(spec, planted, pa)
    perm = weight_matching(spec, pa, pb, random_state=0)
    # B[p] = A[planted^-1 ...]: matching must undo the planted permutation
    np.testing.assert_array_equal(perm["P0"], invert_permutation(planted)["P0"])
    # one sweep finds it, the second one confirms
    assert perm.n_iter == 2
    assert perm.objective_trace[1] == perm.objective_trace[-1]
    back = apply_permutation(spec, perm, pb)
    for k in pa:
        np.testing.assert_array_equal(back[k], pa[k])


def test_planted_permutation_noisy_deep_mlp():
    rng = np.random.default_rng(1)
    spec = mlp_spec([8, 30, 30, 30, 4], layout="in_out")
    pa = random_params(spec, rng)
    planted = random_permutation(spec, random_state=2)
    pb = apply_permutation(spec, planted, pa)
    pb = {k: v + 1e-3 * rng.normal(size=v.shape) for k, v in pb.items()}
    perm = weight_matching(spec, pa, pb, random_state=0, n_init=3)
    inv = invert_permutation(planted)
    for g in perm:
        np.testing.assert_array_equal(perm[g], inv[g])


@pytest.mark.parametrize("seed", range(4))
def test_objective_never_decreases(seed):
    rng = np.random.default_rng(seed)
    spec = mlp_spec([6, 20, 20, 20, 3], layout="out_in")
    pa, pb = random_params(spec, rng), random_params(spec, rng)
    perm = weight_matching(spec, pa, pb, random_state=seed)
    tr = np.asarray(perm.objective_trace)
    assert len(tr) == perm.n_iter + 1 and perm.n_iter >= 2
    assert np.all(np.diff(tr) >= -1e-9 * np.abs(tr).max())
    assert tr[-1] > tr[0]
    assert perm.converged
    assert np.isclose(tr[-1], matching_objective(spec, perm, pa, pb))
    # the permuted B is closer to A
    assert _dist(pa, apply_permutation(spec, perm, pb)) < _dist(pa, pb)


def test_objective_never_decreases_resnet():
    rng = np.random.default_rng(3)
    spec = resnet_spec([4, 6], 2, 3, in_channels=2)
    pa, pb = random_params(spec, rng), random_params(spec, rng)
    perm = weight_matching(spec, pa, pb, random_state=0)
    tr = np.asarray(perm.objective_trace)
    assert np.all(np.diff(tr) >= -1e-9 * np.abs(tr).max())


def test_max_iter_init_perm_and_restarts():
    rng = np.random.default_rng(4)
    spec = mlp_spec([6, 25, 25, 3])
    pa, pb = random_params(spec, rng), random_params(spec, rng)
    one = weight_matching(spec, pa, pb, max_iter=1, random_state=0)
    assert one.n_iter == 1
    full = weight_matching(spec, pa, pb, random_state=0)
    warm = weight_matching(spec, pa, pb, init_perm=full, random_state=5)
    assert warm.n_iter == 1 and all(np.array_equal(warm[g], full[g]) for g in full)
    best = weight_matching(spec, pa, pb, random_state=0, n_init=4)
    assert best.objective >= full.objective - 1e-12
    again = weight_matching(spec, pa, pb, random_state=0)
    assert all(np.array_equal(again[g], full[g]) for g in full)
    f32 = weight_matching(spec, pa, pb, random_state=0, dtype=np.float32)
    assert f32.objective > f32.objective_trace[0]


def test_weight_matching_bad_input():
    spec = mlp_spec([3, 5, 2])
    rng = np.random.default_rng(0)
    pa = random_params(spec, rng)
    other = random_params(mlp_spec([3, 6, 2]), rng)
    with pytest.raises(ValueError, match="'W0'"):
        weight_matching(spec, pa, other)
    bad = dict(pa, b0=np.full(5, np.nan))
    with pytest.raises(ValueError, match=r"params_b: parameter 'b0' has non-finite"):
        weight_matching(spec, pa, bad)
    with pytest.raises(ValueError, match="max_iter"):
        weight_matching(spec, pa, pa, max_iter=-1)
    with pytest.raises(ValueError, match="PermutationSpec"):
        weight_matching({"W0": (None, "P0")}, pa, pa)


def test_matching_reduces_barrier_on_digits(two_mlps, digits):
    X, y = digits
    spec = spec_from_sklearn_mlp(two_mlps[0])
    pa, pb = (params_from_sklearn_mlp(m) for m in two_mlps)
    naive = interpolation_curve(two_mlps[0], two_mlps[1], X, y, n_points=11)
    perm = weight_matching(spec, pa, pb, random_state=0)
    pb2 = apply_permutation(spec, perm, pb)
    matched = interpolation_curve(
        two_mlps[0], sklearn_mlp_with_params(two_mlps[1], pb2), X, y, n_points=11
    )
    # permuting B does not change its function
    np.testing.assert_allclose(matched.loss[-1], naive.loss[-1], rtol=1e-10)
    assert matched.loss_barrier() < 0.7 * naive.loss_barrier()
    assert matched.at(0.5)[1] > naive.at(0.5)[1]


# -------------------------------------------------------- activation matching


@pytest.mark.parametrize("similarity", ["pearson", "covariance", "cross_moment"])
def test_activation_matching_recovers_planted(two_mlps, digits, similarity):
    X, _ = digits
    m = two_mlps[0]
    spec = spec_from_sklearn_mlp(m)
    pa = params_from_sklearn_mlp(m)
    planted = random_permutation(spec, random_state=3)
    mb = sklearn_mlp_with_params(m, apply_permutation(spec, planted, pa))
    acts_a = sklearn_mlp_activations(m, X)
    acts_b = sklearn_mlp_activations(mb, X)
    # drop dead units (constant activations are not distinguishable)
    perm = activation_matching(acts_a, acts_b, similarity=similarity)
    inv = invert_permutation(planted)
    for g in perm:
        alive = acts_a[int(g[1:])].std(axis=0) > 0
        np.testing.assert_array_equal(perm[g][alive], inv[g][alive])


def test_activation_matching_streaming_equals_full():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(103, 5)) * [1, 2, 3, 4, 5] + 10.0
    b = a[:, ::-1] + 0.1 * rng.normal(size=(103, 5))
    full = CrossStatistics(5, 5).update(a, b)
    batches = [({"g": a[i : i + 10]}) for i in range(0, 103, 10)]
    batches_b = [({"g": b[i : i + 10]}) for i in range(0, 103, 10)]
    res = activation_matching(iter(batches), iter(batches_b))
    np.testing.assert_allclose(res.similarities["g"], full.pearson(), atol=1e-12)
    np.testing.assert_array_equal(res["g"], [4, 3, 2, 1, 0])
    ref = np.corrcoef(a.T, b.T)[:5, 5:]
    np.testing.assert_allclose(full.pearson(eps=0), ref, atol=1e-10)
    np.testing.assert_allclose(
        full.covariance(), np.cov(a.T, b.T, bias=True)[:5, 5:], atol=1e-9
    )


def test_activation_matching_conv_channel_axis():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 6, 3, 3))
    p = np.array([2, 0, 5, 1, 4, 3])
    b = a[:, p]  # B's channel i is A's channel p[i]
    res = activation_matching({"C0": a}, {"C0": b}, channel_axis=1)
    # aligning B with the result gives A back
    np.testing.assert_array_equal(b[:, res["C0"]], a)


def test_activation_matching_bad_input():
    a = np.ones((5, 3))
    with pytest.raises(ValueError, match="similarity"):
        activation_matching({"g": a}, {"g": a}, similarity="cosine")
    with pytest.raises(ValueError, match="different groups"):
        activation_matching({"g": a}, {"h": a})
    with pytest.raises(ValueError, match="'g'.*units"):
        activation_matching({"g": a}, {"g": np.ones((5, 4))})
    with pytest.raises(ValueError, match="non-finite"):
        activation_matching({"g": a}, {"g": a * np.nan})
    dead = activation_matching({"g": a}, {"g": a})  # constant units: no NaN
    assert np.all(np.isfinite(dead.similarities["g"]))


# ---------------------------------------------------------------- STE


def test_mlp_loss_and_grad_matches_finite_differences():
    rng = np.random.default_rng(0)
    spec = mlp_spec([4, 6, 5, 3], layout="in_out")
    p = random_params(spec, rng)
    X = rng.normal(size=(7, 4))
    y = rng.integers(0, 3, size=7)
    val, grads = mlp_loss_and_grad(p, X, y)
    logits = mlp_forward(p, X, 3, "in_out")
    np.testing.assert_allclose(sklearn_mlp_forward(p, X), logits, atol=1e-12)
    for k in p:
        flat = p[k].ravel()
        for i in range(0, flat.size, max(1, flat.size // 4)):
            q = {kk: vv.copy() for kk, vv in p.items()}
            h = 1e-6
            q[k].ravel()[i] += h
            up = mlp_loss_and_grad(q, X, y)[0]
            q[k].ravel()[i] -= 2 * h
            down = mlp_loss_and_grad(q, X, y)[0]
            np.testing.assert_allclose(
                grads[k].ravel()[i], (up - down) / (2 * h), atol=1e-7
            )
    yr = rng.normal(size=(7, 3))
    val, grads = mlp_loss_and_grad(p, X, yr, loss="squared_error")
    assert val > 0 and grads["W0"].shape == (4, 6)


def test_ste_matching_not_worse_than_weight_matching(two_mlps, digits):
    X, y = digits
    spec = spec_from_sklearn_mlp(two_mlps[0])
    pa, pb = (params_from_sklearn_mlp(m) for m in two_mlps)
    res = ste_matching(spec, pa, pb, X, y, n_epochs=3, batch_size=500, random_state=0)
    wm = weight_matching(spec, pa, pb, random_state=0)

    def mid_loss(perm):
        hat = apply_permutation(spec, perm, pb)
        return mlp_loss_and_grad({k: 0.5 * (pa[k] + hat[k]) for k in pa}, X, y)[0]

    assert np.isclose(mid_loss(res), res.best_loss)
    assert res.best_loss <= mid_loss(wm) + 1e-12
    assert len(res.loss_trace) == res.n_iter == 3 * 4
    assert len(res.selection_losses) == 4
    res_b = ste_matching(
        spec,
        pa,
        pb,
        X,
        y,
        n_epochs=1,
        batch_size=500,
        selection="batch",
        random_state=0,
    )
    assert res_b.best_loss == min(res_b.loss_trace)


# --------------------------------------------------- interpolation, barriers


def test_barrier_of_model_with_itself_is_zero(two_mlps, digits):
    X, y = digits
    curve = interpolation_curve(two_mlps[0], two_mlps[0], X, y, n_points=5)
    for d in ("sup_linear", "max_minus_mean", "midpoint"):
        assert abs(curve.loss_barrier(d)) < 1e-12
        assert abs(curve.accuracy_barrier(d)) < 1e-12


def test_barrier_definitions():
    lam = np.linspace(0, 1, 5)
    loss = np.array([1.0, 2.0, 3.0, 2.5, 1.0])  # equal endpoints
    assert barrier_sup_linear(lam, loss) == barrier_max_minus_endpoint_mean(lam, loss)
    assert barrier_sup_linear(lam, loss) == 2.0
    assert barrier_midpoint_minus_endpoint_mean(lam, loss) == 2.0
    # unequal endpoints: the definitions differ
    loss = np.array([1.0, 1.2, 1.6, 2.4, 3.0])
    assert np.isclose(barrier_sup_linear(lam, loss), 0.0)
    assert np.isclose(barrier_max_minus_endpoint_mean(lam, loss), 1.0)
    assert np.isclose(barrier_midpoint_minus_endpoint_mean(lam, loss), -0.4)
    acc = np.array([0.9, 0.5, 0.3, 0.6, 0.9])
    assert np.isclose(barrier_sup_linear(lam, acc, higher_is_better=True), 0.6)
    assert np.isclose(
        barrier_max_minus_endpoint_mean(lam, acc, higher_is_better=True), 0.6
    )
    with pytest.raises(ValueError, match="endpoints"):
        barrier_sup_linear([0.1, 0.5], [1, 2])
    with pytest.raises(ValueError, match="0.5"):
        barrier_midpoint_minus_endpoint_mean([0, 0.3, 1], [1, 2, 1])


def test_interpolate_variants():
    rng = np.random.default_rng(0)
    spec = mlp_spec([3, 4, 2])
    a, b = random_params(spec, rng), random_params(spec, rng)
    for fn in (interpolate, slerp, interpolate_homogeneous):
        for k in a:
            np.testing.assert_allclose(fn(a, b, 0.0)[k], a[k], atol=1e-12)
            np.testing.assert_allclose(fn(a, b, 1.0)[k], b[k], atol=1e-12)
    mid = interpolate(a, b, 0.5)
    np.testing.assert_allclose(mid["W0"], 0.5 * (a["W0"] + b["W0"]))
    hom = interpolate_homogeneous(a, b, 0.5)
    np.testing.assert_allclose(hom["b0"], 0.5 * (a["b0"] + b["b0"]))
    np.testing.assert_allclose(hom["b1"], 0.25 * (a["b1"] + b["b1"]))
    s = slerp(a, b, 0.5)
    na = np.sqrt(sum(np.sum(v**2) for v in a.values()))
    nb = np.sqrt(sum(np.sum(v**2) for v in b.values()))
    ns = np.sqrt(sum(np.sum(v**2) for v in s.values()))
    assert ns > np.sqrt(sum(np.sum(v**2) for v in mid.values()))
    assert min(na, nb) - 1e-9 <= ns <= max(na, nb) + 1e-9


def test_interpolation_bad_input(two_mlps):
    a = params_from_sklearn_mlp(two_mlps[0])
    b = dict(a, W0=a["W0"][:, :3])
    with pytest.raises(ValueError, match="'W0'"):
        interpolate(a, b, 0.5)
    with pytest.raises(ValueError, match="non-finite"):
        interpolate(a, dict(a, b1=a["b1"] * np.inf), 0.5)
    with pytest.raises(ValueError, match="only in A"):
        interpolate(a, {k: v for k, v in a.items() if k != "b2"}, 0.5)
    with pytest.raises(ValueError, match="evaluate"):
        interpolation_curve(a, a, np.zeros((2, 64)), [0, 1])


# ------------------------------------------------------------------ merging


def test_merge_many_fixed_point(two_mlps, digits):
    X, y = digits
    models = [
        MLPClassifier(hidden_layer_sizes=(16,), max_iter=40, random_state=s).fit(X, y)
        for s in range(3)
    ]
    spec = spec_from_sklearn_mlp(models[0])
    params = [params_from_sklearn_mlp(m) for m in models]
    res = merge_many(spec, params, random_state=0)
    assert res.converged
    for k in range(3):
        others = [res.permuted[j] for j in range(3) if j != k]
        target = {n: np.mean([o[n] for o in others], axis=0) for n in others[0]}
        again = weight_matching(spec, target, res.permuted[k], random_state=k)
        assert is_identity_permutation(again)
    naive = {n: np.mean([p[n] for p in params], axis=0) for n in params[0]}
    acc_merged = sklearn_mlp_with_params(models[0], res.params).score(X, y)
    acc_naive = sklearn_mlp_with_params(models[0], naive).score(X, y)
    assert acc_merged > acc_naive


@pytest.mark.parametrize("method", ["iterative", "reference", "sequential"])
def test_merge_many_recovers_planted_copies(method):
    rng = np.random.default_rng(0)
    spec = mlp_spec([5, 12, 3])
    base = random_params(spec, rng)
    copies = [
        apply_permutation(spec, random_permutation(spec, random_state=s), base)
        for s in range(4)
    ]
    copies[0] = base
    res = merge_many(spec, copies, method=method, random_state=0)
    # the merged model computes the same function as the base model
    x = rng.normal(size=(10, 5))
    np.testing.assert_allclose(
        mlp_forward(res.params, x, 2, "out_in"),
        mlp_forward(base, x, 2, "out_in"),
        atol=1e-10,
    )
    with pytest.raises(ValueError, match="method"):
        merge_many(spec, copies, method="zipit")
    with pytest.raises(ValueError, match="at least two"):
        merge_many(spec, copies[:1])


# ----------------------------------------------------------- counterexample


def _prelu_net(p, X):
    h = np.maximum(X @ p["W0"].T + p["b0"], 0.0)
    return (h @ p["W1"].T + p["b1"])[:, 0]


def test_counterexample_barrier_under_every_permutation():
    """Two hand-built 2-2-1 ReLU nets solving one task (label = [x0 <= 0 and
    x1 >= 0] on [-1, 1]^2) whose linear path has a barrier for every
    permutation of the hidden units: LMC modulo permutation is a property of
    SGD solutions, not of the architecture."""
    g = np.linspace(-1, 1, 41)
    X = np.array(list(itertools.product(g, g)))
    y = ((X[:, 0] <= 0) & (X[:, 1] >= 0)).astype(float)
    # A: logit = 0.5 - 20 relu(x0) - 20 relu(-x1)
    A = {
        "W0": np.array([[1.0, 0.0], [0.0, -1.0]]),
        "b0": np.zeros(2),
        "W1": np.array([[-20.0, -20.0]]),
        "b1": np.array([0.5]),
    }
    # B: logit = -20 max(x0, -x1) = -20 (relu(x0 + x1) + relu(2 - x1) - 2)
    B = {
        "W0": np.array([[1.0, 1.0], [0.0, -1.0]]),
        "b0": np.array([0.0, 2.0]),
        "W1": np.array([[-20.0, -20.0]]),
        "b1": np.array([40.0]),
    }
    spec = mlp_spec([2, 2, 1])

    def loss(p):
        z = _prelu_net(p, X)
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    def acc(p):
        return float(np.mean((_prelu_net(p, X) > 0) == (y > 0)))

    assert acc(A) > 0.95 and acc(B) > 0.95
    lams = np.linspace(0, 1, 21)
    barriers = []
    for perm in itertools.permutations(range(2)):
        pb = apply_permutation(spec, {"P0": np.array(perm)}, B)
        curve = [loss(interpolate(A, pb, lam)) for lam in lams]
        barriers.append(barrier_sup_linear(lams, curve))
    assert len(barriers) == 2
    assert min(barriers) > 0.1
    wm = weight_matching(spec, A, B, random_state=0)
    pb = apply_permutation(spec, wm, B)
    assert barrier_sup_linear(
        lams, [loss(interpolate(A, pb, lam)) for lam in lams]
    ) >= min(barriers)


# --------------------------------------------------------- sklearn adapters


def test_sklearn_adapters(two_mlps, digits):
    X, _ = digits
    m = two_mlps[0]
    p = params_from_sklearn_mlp(m)
    assert list(p) == ["W0", "b0", "W1", "b1", "W2", "b2"]
    assert p["W0"].shape == (64, 24) and p["W0"].dtype == np.float64
    p["W0"][0, 0] += 1.0  # copies: the estimator is untouched
    assert m.coefs_[0][0, 0] != p["W0"][0, 0]
    before = [c.copy() for c in m.coefs_]
    new = sklearn_mlp_with_params(m, p)
    assert new is not m and new.coefs_[0][0, 0] == p["W0"][0, 0]
    for c0, c1 in zip(before, m.coefs_):
        np.testing.assert_array_equal(c0, c1)
    acts = sklearn_mlp_activations(m, X[:10])
    pre = sklearn_mlp_activations(m, X[:10], pre_activation=True)
    assert [a.shape for a in acts] == [(10, 24), (10, 16)]
    np.testing.assert_allclose(acts[0], np.maximum(pre[0], 0))
    spec = spec_from_sklearn_mlp(m)
    assert spec.group_sizes == {"P0": 24, "P1": 16}
    with pytest.raises(ValueError, match="'W1' has shape"):
        sklearn_mlp_with_params(m, dict(p, W1=np.zeros((3, 3))))
    with pytest.raises(ValueError, match="missing"):
        sklearn_mlp_with_params(m, {"W0": p["W0"]})
    with pytest.raises(ValueError, match="not a fitted"):
        params_from_sklearn_mlp(MLPClassifier())


def test_sklearn_regressor_tanh(digits):
    X, y = digits
    reg = MLPRegressor(
        hidden_layer_sizes=(8,), activation="tanh", max_iter=30, random_state=0
    )
    reg.fit(X[:200], y[:200].astype(float))
    p = params_from_sklearn_mlp(reg)
    spec = spec_from_sklearn_mlp(reg)
    perm = random_permutation(spec, random_state=0)
    reg2 = sklearn_mlp_with_params(reg, apply_permutation(spec, perm, p))
    np.testing.assert_allclose(reg2.predict(X[:50]), reg.predict(X[:50]), atol=1e-10)
    acts = sklearn_mlp_activations(reg, X[:5])
    np.testing.assert_allclose(acts[0], np.tanh(X[:5] @ p["W0"] + p["b0"]))
    curve = interpolation_curve(reg, reg2, X[:50], y[:50].astype(float), n_points=3)
    assert curve.loss.shape == (3,)
    ident = identity_permutation(spec)
    assert is_identity_permutation(ident)


@pytest.mark.slow
def test_matched_barrier_falls_with_width(digits):
    """rebasin.md C.2: the WM test-loss barrier shrinks with width (digits)."""
    from sklearn.model_selection import train_test_split

    X, y = digits
    Xtr, Xte, ytr, yte = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    barriers = {}
    for h in (8, 128):
        ma, mb = (
            MLPClassifier(
                hidden_layer_sizes=(h, h),
                max_iter=100,
                tol=1e-6,
                n_iter_no_change=100,
                random_state=s,
            ).fit(Xtr, ytr)
            for s in (0, 1)
        )
        spec = spec_from_sklearn_mlp(ma)
        pa, pb = params_from_sklearn_mlp(ma), params_from_sklearn_mlp(mb)
        perm = weight_matching(spec, pa, pb, random_state=0)
        mb2 = sklearn_mlp_with_params(mb, apply_permutation(spec, perm, pb))
        naive = interpolation_curve(ma, mb, Xte, yte, n_points=11).loss_barrier()
        barriers[h] = interpolation_curve(ma, mb2, Xte, yte, n_points=11).loss_barrier()
        assert barriers[h] < naive
    assert barriers[128] < 0.5 * barriers[8]
    assert barriers[128] < 0.2


@pytest.mark.parametrize("layout", ["in_out", "out_in"])
def test_cosine_matching_baseline(layout):
    from gaga.rebasin import cosine_matching

    rng = np.random.default_rng(0)
    spec = mlp_spec([6, 15, 12, 3], layout=layout)
    pa = random_params(spec, rng)
    assert is_identity_permutation(cosine_matching(pa, pa, layout=layout))
    planted = random_permutation(spec, random_state=1)
    pb = apply_permutation(spec, planted, pa)
    # scale B's units: cosine similarity is scale-invariant
    pb = {k: v * 1.7 for k, v in pb.items()}
    perm = cosine_matching(pa, pb, layout=layout)
    inv = invert_permutation(planted)
    for g in perm:
        np.testing.assert_array_equal(perm[g], inv[g])
    with pytest.raises(ValueError, match="hidden layer"):
        cosine_matching({"W0": pa["W0"]}, pb, layout=layout)
