"""Permutation matching of neural networks ("model re-basin").

A framework-agnostic numpy/scipy core working on parameters stored as
``dict[str, numpy.ndarray]``: permutation specs and builders, weight /
activation / straight-through matching, interpolation and barriers, merging of
many models, and adapters for scikit-learn MLPs (always available) and PyTorch
models (:mod:`gaga.rebasin.torch`, needs the ``torch`` extra).
"""

from gaga.rebasin._sklearn import (
    params_from_sklearn_mlp,
    sklearn_mlp_activations,
    sklearn_mlp_forward,
    sklearn_mlp_with_params,
    spec_from_sklearn_mlp,
)
from gaga.rebasin._spec import (
    FlatAxis,
    PermutationSpec,
    cnn_spec,
    conv_axes,
    dense_axes,
    flatten_dense_axes,
    mlp_spec,
    norm_axes,
    residual_block_axes,
    resnet_spec,
    spec_from_axes_to_perm,
)

__all__ = [
    "FlatAxis",
    "PermutationSpec",
    "cnn_spec",
    "conv_axes",
    "dense_axes",
    "flatten_dense_axes",
    "mlp_spec",
    "norm_axes",
    "params_from_sklearn_mlp",
    "residual_block_axes",
    "resnet_spec",
    "sklearn_mlp_activations",
    "sklearn_mlp_forward",
    "sklearn_mlp_with_params",
    "spec_from_axes_to_perm",
    "spec_from_sklearn_mlp",
]

# --- part 2: re-normalization, pruning, TNA-PFN (issue 7) ---
