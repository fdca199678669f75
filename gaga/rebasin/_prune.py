"""Magnitude pruning and the post-pruning re-normalisation plug-in.

Qu & Horváth ("Rethink Model Re-Basin and the Linear Mode Connectivity") treat
a one-shot pruned network as a "merge" of the dense network with the zero
network and repair it towards the dense network's per-unit statistics, without
fine-tuning (``rebasin.md`` A.9).
"""

import copy
from numbers import Real

import numpy as np

from gaga.rebasin._models import (
    check_model,
    check_same_family,
    check_same_sklearn_architecture,
    check_same_torch_architecture,
    is_param_dict,
    is_torch_module,
    n_dense_layers,
    sklearn_params,
    torch_linear_layers,
)
from gaga.rebasin._repair import _reset_batchnorm, repair
from gaga.rebasin._sklearn import sklearn_mlp_with_params

__all__ = ["magnitude_prune", "renormalize_pruned"]


def _check_sparsity(sparsity):
    if (
        isinstance(sparsity, bool)
        or not isinstance(sparsity, Real)
        or not 0.0 <= sparsity < 1.0
    ):
        raise ValueError(f"sparsity must be in [0, 1), got sparsity={sparsity!r}.")


def _prune_arrays(arrays, sparsity, scope):
    """Zero exactly ``round(sparsity * n)`` smallest-magnitude entries.

    ``scope="global"`` ranks all entries of all arrays together,
    ``scope="layer"`` each array separately.  Ties are broken by position
    (stable sort), so the count is exact.
    """
    out = [np.array(a, dtype=np.float64, copy=True) for a in arrays]
    if scope == "layer":
        for a in out:
            k = int(round(sparsity * a.size))
            if k:
                idx = np.argsort(np.abs(a), axis=None, kind="stable")[:k]
                a.reshape(-1)[idx] = 0.0
        return out
    flat = np.concatenate([np.abs(a).ravel() for a in out])
    k = int(round(sparsity * flat.size))
    if k:
        idx = np.argsort(flat, kind="stable")[:k]
        keep = np.ones(flat.size, dtype=bool)
        keep[idx] = False
        start = 0
        for a in out:
            a.reshape(-1)[~keep[start : start + a.size]] = 0.0
            start += a.size
    return out


def magnitude_prune(model, sparsity, scope="global"):
    """One-shot magnitude pruning of all weight matrices (biases kept).

    Parameters
    ----------
    model : MLPClassifier, MLPRegressor, torch.nn.Module or dict
        A fitted scikit-learn MLP (all ``coefs_`` are pruned, output layer
        included), a PyTorch module (the ``weight`` of every Linear/Conv
        layer) or a parameter dict in scikit-learn layout (``"W0", "b0", ...``;
        the ``W`` entries are pruned).  Not modified.
    sparsity : float in [0, 1)
        Fraction of weights set to zero.  Exactly ``round(sparsity * n)``
        entries are zeroed (``n`` counted over all layers for
        ``scope="global"``, per layer for ``scope="layer"``); ties are broken
        by position.
    scope : {"global", "layer"}, default="global"
        Rank magnitudes over all layers together or within each layer.

    Returns
    -------
    pruned : same type as ``model``
        The pruned copy.

    Raises
    ------
    ValueError
        If ``sparsity`` is outside [0, 1) or ``scope`` is unknown.
    """
    _check_sparsity(sparsity)
    if scope not in ("global", "layer"):
        raise ValueError(f"scope must be 'global' or 'layer', got scope={scope!r}.")
    if is_param_dict(model):
        params = {k: np.array(v, dtype=np.float64, copy=True) for k, v in model.items()}
        keys = [f"W{k}" for k in range(n_dense_layers(params))]
        for key, arr in zip(
            keys, _prune_arrays([params[k] for k in keys], sparsity, scope)
        ):
            params[key] = arr
        return params
    check_model(model, "model")
    if is_torch_module(model):
        import torch

        out = copy.deepcopy(model)
        layers = [m for _, m in torch_linear_layers(out)]
        arrays = [m.weight.detach().double().cpu().numpy() for m in layers]
        with torch.no_grad():
            for m, arr in zip(layers, _prune_arrays(arrays, sparsity, scope)):
                m.weight.copy_(torch.as_tensor(arr, dtype=m.weight.dtype))
        return out
    params = sklearn_params(model)
    pruned = magnitude_prune(params, sparsity, scope)
    return sklearn_mlp_with_params(model, pruned)


def renormalize_pruned(dense, pruned, X, method="repair", **kwargs):
    """Restore the dense model's per-unit statistics in a pruned model.

    The plug-in of Qu & Horváth: the goal of every corrected unit is the
    (mean, std) of the same unit of the **dense** model on ``X`` (``lam=0``
    in :func:`repair`, a "merge" of the dense model with the zero model).  No
    fine-tuning.

    Parameters
    ----------
    dense : MLPClassifier, MLPRegressor or torch.nn.Module
        The dense model.
    pruned : same type as ``dense``
        The pruned model (e.g. from :func:`magnitude_prune`).  Not modified.
    X : array-like or torch.Tensor
        Data for the statistics (training data; a few hundred samples suffice).
    method : {"repair", "rescale", "reshift", "reset"}, default="repair"
        Correction, see :func:`repair`.  ``"reset"`` recomputes the pruned
        model's BatchNorm statistics (PyTorch models with BatchNorm).
    **kwargs
        Passed to :func:`repair` (``layers``, ``average``, ``eps``,
        ``batch_size``).

    Returns
    -------
    renormalized : same type as ``pruned``
        Corrected copy of ``pruned``.
    """
    if method not in ("repair", "rescale", "reshift", "reset"):
        raise ValueError(
            "method must be one of ('repair', 'rescale', 'reshift', 'reset'), "
            f"got method={method!r}."
        )
    check_same_family([dense, pruned], ["dense", "pruned"])
    if is_torch_module(pruned):
        check_same_torch_architecture([dense, pruned], ["dense", "pruned"])
        if method == "reset":
            return _reset_batchnorm(pruned, X, batch_size=kwargs.get("batch_size"))
    else:
        check_same_sklearn_architecture([dense, pruned], ["dense", "pruned"])
    return repair(dense, dense, pruned, X, method=method, lam=0.0, **kwargs)
