"""Permutation matching of neural networks ("model re-basin").

A framework-agnostic numpy/scipy core working on parameters stored as
``dict[str, numpy.ndarray]``: permutation specs and builders, weight /
activation / straight-through matching, interpolation and barriers, merging of
many models, and adapters for scikit-learn MLPs (always available) and PyTorch
models (:mod:`gaga.rebasin.torch`, needs the ``torch`` extra).
"""

from gaga.rebasin._activation import (
    CrossStatistics,
    activation_matching,
    similarity_matrix,
)
from gaga.rebasin._cosine import cosine_matching
from gaga.rebasin._interp import (
    InterpolationCurve,
    barrier_max_minus_endpoint_mean,
    barrier_midpoint_minus_endpoint_mean,
    barrier_sup_linear,
    interpolate,
    interpolate_homogeneous,
    interpolate_many,
    interpolation_curve,
    slerp,
)
from gaga.rebasin._matching import (
    MatchingResult,
    apply_permutation,
    compose_permutations,
    get_permuted_param,
    identity_permutation,
    invert_permutation,
    is_identity_permutation,
    matching_objective,
    random_permutation,
    weight_matching,
)
from gaga.rebasin._merge import MergeResult, merge_many
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
from gaga.rebasin._ste import mlp_loss_and_grad, ste_matching

__all__ = [
    "CrossStatistics",
    "FlatAxis",
    "InterpolationCurve",
    "MatchingResult",
    "MergeResult",
    "PermutationSpec",
    "activation_matching",
    "apply_permutation",
    "barrier_max_minus_endpoint_mean",
    "barrier_midpoint_minus_endpoint_mean",
    "barrier_sup_linear",
    "cnn_spec",
    "compose_permutations",
    "conv_axes",
    "cosine_matching",
    "dense_axes",
    "flatten_dense_axes",
    "get_permuted_param",
    "identity_permutation",
    "interpolate",
    "interpolate_homogeneous",
    "interpolate_many",
    "interpolation_curve",
    "invert_permutation",
    "is_identity_permutation",
    "matching_objective",
    "merge_many",
    "mlp_loss_and_grad",
    "mlp_spec",
    "norm_axes",
    "params_from_sklearn_mlp",
    "random_permutation",
    "residual_block_axes",
    "resnet_spec",
    "similarity_matrix",
    "sklearn_mlp_activations",
    "sklearn_mlp_forward",
    "sklearn_mlp_with_params",
    "slerp",
    "spec_from_axes_to_perm",
    "spec_from_sklearn_mlp",
    "ste_matching",
    "weight_matching",
]

# --- part 2: re-normalization, pruning, TNA-PFN (issue 7) ---
from gaga.rebasin._federated import (  # noqa: E402
    biased_client_split,
    federated_training,
)
from gaga.rebasin._prune import magnitude_prune, renormalize_pruned  # noqa: E402
from gaga.rebasin._repair import repair  # noqa: E402
from gaga.rebasin._tna import (  # noqa: E402
    fit_with_fixed_weights,
    fixed_weight_mask,
    mask_gradients,
    sklearn_mlp_init_params,
    train_torch_with_fixed_weights,
)

__all__ += [
    "biased_client_split",
    "federated_training",
    "fit_with_fixed_weights",
    "fixed_weight_mask",
    "magnitude_prune",
    "mask_gradients",
    "renormalize_pruned",
    "repair",
    "sklearn_mlp_init_params",
    "train_torch_with_fixed_weights",
]
