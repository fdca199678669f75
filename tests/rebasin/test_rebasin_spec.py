"""Permutation specs, builders and functional equivalence of permuted models."""

import numpy as np
import pytest

from gaga.rebasin import (
    FlatAxis,
    PermutationSpec,
    apply_permutation,
    cnn_spec,
    compose_permutations,
    identity_permutation,
    invert_permutation,
    mlp_spec,
    random_permutation,
    resnet_spec,
    spec_from_axes_to_perm,
)
from gaga.rebasin._testing import (
    cnn_forward,
    mlp_forward,
    random_params,
    resnet_forward,
)

ATOL = 1e-10


def _rng(seed=0):
    return np.random.default_rng(seed)


def _assert_really_permuted(spec, perm, params, permuted):
    """Guard against vacuous tests: permuted weights differ from the originals."""
    assert any(not np.array_equal(np.arange(len(p)), p) for p in perm.values())
    changed = [
        k
        for k in params
        if params[k].size > 1 and not np.array_equal(params[k], permuted[k])
    ]
    assert changed


def test_inverse_map_built_automatically():
    spec = spec_from_axes_to_perm(
        {
            "W0": (None, "P0"),
            "b0": ("P0",),
            "W1": ("P0", "P1"),
            "b1": ("P1",),
            "W2": ("P1", None),
            "b2": (None,),
        }
    )
    assert spec.perm_to_axes == {
        "P0": [("W0", 1), ("b0", 0), ("W1", 0)],
        "P1": [("W1", 1), ("b1", 0), ("W2", 0)],
    }
    assert spec.groups == ["P0", "P1"]


@pytest.mark.parametrize("layout", ["out_in", "in_out"])
@pytest.mark.parametrize("sizes", [[5, 7, 3], [6, 8, 9, 4], [3, 4, 5, 6, 2]])
def test_mlp_permutation_preserves_function(layout, sizes):
    rng = _rng(1)
    spec = mlp_spec(sizes, layout=layout)
    params = random_params(spec, rng)
    x = rng.normal(size=(20, sizes[0]))
    perm = random_permutation(spec, random_state=3)
    permuted = apply_permutation(spec, perm, params)
    _assert_really_permuted(spec, perm, params, permuted)
    y0 = mlp_forward(params, x, len(sizes) - 1, layout)
    y1 = mlp_forward(permuted, x, len(sizes) - 1, layout)
    np.testing.assert_allclose(y1, y0, atol=ATOL, rtol=0)
    # the hidden activations do change (the test is not vacuous)
    h0 = mlp_forward(params, x, 1, layout)
    h1 = mlp_forward(permuted, x, 1, layout)
    assert not np.allclose(h0, h1)
    # undoing the permutation gives the original parameters back
    back = apply_permutation(spec, invert_permutation(perm), permuted)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])


def test_mlp_layouts_have_transposed_axes():
    a = mlp_spec([4, 8, 3], layout="out_in")
    b = mlp_spec([4, 8, 3], layout="in_out")
    assert a.axes_to_perm["W0"] == ("P0", None)
    assert b.axes_to_perm["W0"] == (None, "P0")
    assert a.shapes["W0"] == (8, 4) and b.shapes["W0"] == (4, 8)


@pytest.mark.parametrize("norm", [None, "batchnorm", "layernorm"])
@pytest.mark.parametrize(
    "layout,order",
    [("out_in", "NCHW"), ("in_out", "NHWC"), ("out_in", "NHWC"), ("in_out", "NCHW")],
)
def test_cnn_flatten_dense_permutation_preserves_function(norm, layout, order):
    rng = _rng(2)
    H = W = 7  # two valid 3x3 convs -> 3x3 = 9 positions
    spec = cnn_spec(
        [4, 5],
        [6, 3],
        n_positions=9,
        order=order,
        layout=layout,
        norm=norm,
        in_channels=2,
    )
    params = random_params(spec, rng)
    x = rng.normal(size=(6, 2, H, W) if order == "NCHW" else (6, H, W, 2))
    perm = random_permutation(spec, random_state=5)
    permuted = apply_permutation(spec, perm, params)
    _assert_really_permuted(spec, perm, params, permuted)
    y0 = cnn_forward(params, x, 2, 2, layout, order, norm)
    y1 = cnn_forward(permuted, x, 2, 2, layout, order, norm)
    np.testing.assert_allclose(y1, y0, atol=ATOL, rtol=0)


@pytest.mark.parametrize(
    "layout,order,wrong", [("out_in", "NCHW", "NHWC"), ("in_out", "NHWC", "NCHW")]
)
def test_wrong_flatten_order_breaks_equivalence(layout, order, wrong):
    rng = _rng(3)
    spec_wrong = cnn_spec(
        [4], [3], n_positions=9, order=wrong, layout=layout, in_channels=2
    )
    params = random_params(spec_wrong, rng)
    x = rng.normal(size=(6, 2, 5, 5) if order == "NCHW" else (6, 5, 5, 2))
    perm = {"C0": np.array([1, 2, 3, 0])}
    permuted = apply_permutation(spec_wrong, perm, params)
    y0 = cnn_forward(params, x, 1, 1, layout, order, None)
    y1 = cnn_forward(permuted, x, 1, 1, layout, order, None)
    assert np.max(np.abs(y1 - y0)) > 1e-3


def test_batchnorm_buffers_are_needed():
    rng = _rng(4)
    spec = cnn_spec([4], [3], n_positions=9, norm="batchnorm", in_channels=2)
    params = random_params(spec, rng)
    x = rng.normal(size=(6, 2, 5, 5))
    perm = {"C0": np.array([3, 2, 0, 1])}
    permuted = apply_permutation(spec, perm, params)
    # forgetting to permute the running statistics changes the function
    wrong = dict(permuted)
    wrong["norm0.running_mean"] = params["norm0.running_mean"]
    wrong["norm0.running_var"] = params["norm0.running_var"]
    y0 = cnn_forward(params, x, 1, 1, "out_in", "NCHW", "batchnorm")
    np.testing.assert_allclose(
        cnn_forward(permuted, x, 1, 1, "out_in", "NCHW", "batchnorm"),
        y0,
        atol=ATOL,
        rtol=0,
    )
    assert (
        np.max(np.abs(cnn_forward(wrong, x, 1, 1, "out_in", "NCHW", "batchnorm") - y0))
        > 1e-3
    )
    assert spec.axes_to_perm["norm0.num_batches_tracked"] == ()
    assert permuted["norm0.num_batches_tracked"] == 7


@pytest.mark.parametrize("norm", ["batchnorm", "layernorm", None])
def test_resnet_permutation_preserves_function(norm):
    rng = _rng(5)
    spec = resnet_spec([4, 6], 2, 3, norm=norm, in_channels=2)
    # 2 stream groups + 4 inner groups
    assert sorted(spec.groups) == sorted(
        ["S0", "S1", "S0_B0_inner", "S0_B1_inner", "S1_B0_inner", "S1_B1_inner"]
    )
    assert "layer1.0.shortcut.0.weight" in spec.axes_to_perm
    assert "layer0.0.shortcut.0.weight" not in spec.axes_to_perm
    params = random_params(spec, rng)
    x = rng.normal(size=(3, 2, 5, 5))
    perm = random_permutation(spec, random_state=7)
    permuted = apply_permutation(spec, perm, params)
    _assert_really_permuted(spec, perm, params, permuted)
    y0 = resnet_forward(params, x, 2, 2, norm)
    y1 = resnet_forward(permuted, x, 2, 2, norm)
    np.testing.assert_allclose(y1, y0, atol=ATOL, rtol=0)


def test_untied_residual_stream_breaks_equivalence():
    # giving the second block of a stage its own stream group is a spec bug
    rng = _rng(6)
    spec = resnet_spec([4], 2, 3, norm=None, in_channels=2)
    a2p = dict(spec.axes_to_perm)
    a2p["layer0.1.conv2.weight"] = ("S0_bug", "S0_B1_inner", None, None)
    bad = PermutationSpec(a2p, shapes=spec.shapes)
    params = random_params(spec, rng)
    x = rng.normal(size=(3, 2, 5, 5))
    perm = random_permutation(bad, random_state=1)
    y0 = resnet_forward(params, x, 1, 2, None)
    y1 = resnet_forward(apply_permutation(bad, perm, params), x, 1, 2, None)
    assert np.max(np.abs(y1 - y0)) > 1e-6


def test_identity_and_random_permutation():
    spec = mlp_spec([3, 5, 4, 2])
    ident = identity_permutation(spec)
    assert set(ident) == {"P0", "P1"}
    np.testing.assert_array_equal(ident["P0"], np.arange(5))
    p1 = random_permutation(spec, random_state=0)
    p2 = random_permutation(spec, random_state=0)
    for g in p1:
        np.testing.assert_array_equal(p1[g], p2[g])
        np.testing.assert_array_equal(np.sort(p1[g]), np.arange(len(p1[g])))
    inv = invert_permutation(p1)
    comp = compose_permutations(p1, inv)
    for g in comp:
        np.testing.assert_array_equal(comp[g], np.arange(len(comp[g])))


def test_flat_axis_expansion():
    p = np.array([1, 0])
    np.testing.assert_array_equal(
        FlatAxis("C", 3, "NCHW").expand(p), [3, 4, 5, 0, 1, 2]
    )
    np.testing.assert_array_equal(
        FlatAxis("C", 3, "NHWC").expand(p), [1, 0, 3, 2, 5, 4]
    )
    with pytest.raises(ValueError, match="order"):
        FlatAxis("C", 3, "CHWN")


# ---------------------------------------------------------------- bad input


def test_group_twice_in_one_tensor():
    with pytest.raises(ValueError, match=r"'W1'.*group 'P0'.*more than one axis"):
        PermutationSpec({"W1": ("P0", "P0")})


def test_inconsistent_group_sizes():
    with pytest.raises(ValueError, match=r"'b0' axis 0 gives size 4 to group 'P0'"):
        PermutationSpec(
            {"W0": (None, "P0"), "b0": ("P0",)}, shapes={"W0": (3, 5), "b0": (4,)}
        )


def test_unreachable_group():
    with pytest.raises(ValueError, match="not used"):
        PermutationSpec({"W0": (None, "P0")}, groups=["P0", "P1"])


def test_wrong_number_of_axes():
    with pytest.raises(ValueError, match=r"'W0' has 3 axes"):
        PermutationSpec({"W0": (None, "P0")}, shapes={"W0": (3, 5, 1)})


def test_params_not_matching_spec():
    spec = mlp_spec([3, 5, 2], layout="in_out")
    rng = _rng(0)
    params = random_params(spec, rng)
    perm = identity_permutation(spec)
    missing = {k: v for k, v in params.items() if k != "b0"}
    with pytest.raises(ValueError, match=r"missing parameter\(s\) \['b0'\]"):
        apply_permutation(spec, perm, missing)
    extra = dict(params, extra=np.zeros(2))
    with pytest.raises(ValueError, match="extra"):
        apply_permutation(spec, perm, extra)
    wrong = dict(params, b0=np.zeros(4))
    with pytest.raises(ValueError, match=r"'b0' axis 0"):
        apply_permutation(spec, perm, wrong)
    with pytest.raises(ValueError, match="'P0'"):
        apply_permutation(spec, {"P0": np.array([0, 0, 1, 2, 3])}, params)
    with pytest.raises(ValueError, match="missing group"):
        apply_permutation(spec, {}, params)
    with pytest.raises(ValueError, match="layout"):
        mlp_spec([3, 5, 2], layout="nchw")


def test_flat_axis_not_dividing():
    with pytest.raises(ValueError, match=r"'fc0.weight' axis 1.*multiple"):
        PermutationSpec(
            {"fc0.weight": (None, FlatAxis("C0", 4))}, shapes={"fc0.weight": (3, 10)}
        )
