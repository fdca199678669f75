"""Private helpers shared by re-normalisation, pruning and TNA-PFN (issue 7).

Two model families are supported:

* fitted scikit-learn MLPs (``coefs_`` / ``intercepts_``), handled through the
  ``{"W0", "b0", ...}`` parameter dicts of :mod:`gaga.rebasin._sklearn`;
* PyTorch ``nn.Module`` objects; torch is imported lazily, only when a module
  is passed.  The "linear-like" layers of a module are its ``nn.Linear`` and
  ``nn.Conv1d/2d/3d`` sub-modules in registration order; the last one is the
  output layer, all others are hidden layers.
"""

import sys

import numpy as np

from gaga.rebasin._sklearn import params_from_sklearn_mlp

__all__ = []


def is_torch_module(obj):
    """True if ``obj`` is a ``torch.nn.Module`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def is_sklearn_mlp(obj):
    """True if ``obj`` looks like a fitted scikit-learn MLP."""
    return hasattr(obj, "coefs_") and hasattr(obj, "intercepts_")


def is_param_dict(obj):
    """True if ``obj`` is a parameter dict in scikit-learn layout (W0, b0, ...)."""
    return isinstance(obj, dict) and "W0" in obj


def n_dense_layers(params):
    """Number of ``W{k}`` entries of a scikit-learn layout parameter dict."""
    k = 0
    while f"W{k}" in params:
        k += 1
    return k


def check_model(model, name):
    """Raise ``ValueError`` unless ``model`` is a fitted sklearn MLP or a module."""
    if is_torch_module(model) or is_sklearn_mlp(model):
        return
    raise ValueError(
        f"{name} must be a fitted scikit-learn MLP (with coefs_ and intercepts_) "
        f"or a torch.nn.Module, got {type(model).__name__}."
    )


def check_same_family(models, names):
    """All models are torch modules or all are scikit-learn MLPs."""
    for model, name in zip(models, names):
        check_model(model, name)
    kinds = {is_torch_module(m) for m in models}
    if len(kinds) > 1:
        raise ValueError(
            f"{', '.join(names)} must all be scikit-learn MLPs or all torch modules."
        )


def check_sklearn_X(mlp, X, name="X"):
    """Validate inputs of a fitted scikit-learn MLP; returns float64 2-D array."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got an array of shape {X.shape}.")
    n_in = mlp.coefs_[0].shape[0]
    if X.shape[1] != n_in:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the model expects {n_in} "
            f"({name}.shape={X.shape})."
        )
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains non-finite values.")
    return X


def check_same_sklearn_architecture(models, names):
    """Same layer shapes and activation for all scikit-learn MLPs."""
    ref = [w.shape for w in models[0].coefs_]
    for model, name in zip(models[1:], names[1:]):
        shapes = [w.shape for w in model.coefs_]
        if shapes != ref:
            raise ValueError(
                f"{name} has layer shapes {shapes}, but {names[0]} has {ref}."
            )
        if getattr(model, "activation", None) != getattr(models[0], "activation", None):
            raise ValueError(
                f"{name} uses activation {model.activation!r}, but {names[0]} uses "
                f"{models[0].activation!r}."
            )


def sklearn_params(mlp):
    """float64 parameter dict of a fitted MLP."""
    return params_from_sklearn_mlp(mlp)


# ----------------------------------------------------------------------------
# torch helpers (torch imported lazily)
# ----------------------------------------------------------------------------


def torch_linear_layers(module):
    """``[(name, layer)]`` of the Linear/Conv layers of a module, in order."""
    import torch.nn as nn

    kinds = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    return [(n, m) for n, m in module.named_modules() if isinstance(m, kinds)]


def torch_batchnorms(module):
    """``[(name, layer)]`` of the BatchNorm layers of a module."""
    from torch.nn.modules.batchnorm import _BatchNorm

    return [(n, m) for n, m in module.named_modules() if isinstance(m, _BatchNorm)]


def check_same_torch_architecture(models, names):
    """Same Linear/Conv layer names and weight shapes."""
    ref = [(n, tuple(m.weight.shape)) for n, m in torch_linear_layers(models[0])]
    if not ref:
        raise ValueError(f"{names[0]} has no nn.Linear or nn.Conv layer.")
    for model, name in zip(models[1:], names[1:]):
        got = [(n, tuple(m.weight.shape)) for n, m in torch_linear_layers(model)]
        if got != ref:
            raise ValueError(
                f"{name} has Linear/Conv layers {got}, but {names[0]} has {ref}."
            )


def torch_X(module, X, name="X"):
    """Convert inputs to a tensor of the module's dtype; check the feature count.

    The check uses the first Linear/Conv layer of the module: for ``nn.Linear``
    the last axis of ``X`` must equal ``in_features``; for convolutions axis 1
    must equal ``in_channels``.
    """
    import torch

    param = next(module.parameters(), None)
    dtype = param.dtype if param is not None else torch.float32
    device = param.device if param is not None else None
    if isinstance(X, torch.Tensor):
        Xt = X.detach().to(dtype=dtype, device=device)
    else:
        Xt = torch.as_tensor(np.asarray(X), dtype=dtype, device=device)
    layers = torch_linear_layers(module)
    if layers:
        first = layers[0][1]
        if isinstance(first, torch.nn.Linear):
            if Xt.ndim < 2 or Xt.shape[-1] != first.in_features:
                raise ValueError(
                    f"{name} has shape {tuple(Xt.shape)}, but the first layer "
                    f"{layers[0][0]!r} expects {first.in_features} features."
                )
        elif Xt.ndim < 2 or Xt.shape[1] != first.in_channels:
            raise ValueError(
                f"{name} has shape {tuple(Xt.shape)}, but the first layer "
                f"{layers[0][0]!r} expects {first.in_channels} input channels."
            )
    return Xt


def torch_batches(Xt, batch_size):
    """Yield consecutive slices of ``Xt`` along axis 0."""
    n = Xt.shape[0]
    step = n if batch_size is None else int(batch_size)
    for start in range(0, n, max(step, 1)):
        yield Xt[start : start + step]


def torch_channels(layer, out):
    """Reshape a layer output to ``(n_samples_or_positions, n_channels)``."""
    import torch.nn as nn

    if isinstance(layer, nn.Linear):
        return out.reshape(-1, out.shape[-1])
    c = out.shape[1]
    return out.transpose(0, 1).reshape(c, -1).T


class RunningMoments:
    """Exact streaming per-column mean / variance (and cross-moment) in float64.

    Batches are merged with Chan et al.'s pairwise update, so the result equals
    the two-pass statistics over the concatenated data up to rounding.
    """

    def __init__(self):
        self.n = 0
        self.mean = None
        self.m2 = None
        self.mean_b = None
        self.m2_b = None
        self.c_ab = None

    def update(self, a, b=None):
        a = np.asarray(a, dtype=np.float64)
        nb = a.shape[0]
        if nb == 0:
            return
        ma = a.mean(axis=0)
        da = a - ma
        m2a = np.einsum("ij,ij->j", da, da)
        if b is not None:
            b = np.asarray(b, dtype=np.float64)
            mb = b.mean(axis=0)
            db = b - mb
            m2b = np.einsum("ij,ij->j", db, db)
            cab = np.einsum("ij,ij->j", da, db)
        if self.n == 0:
            self.n, self.mean, self.m2 = nb, ma, m2a
            if b is not None:
                self.mean_b, self.m2_b, self.c_ab = mb, m2b, cab
            return
        n = self.n + nb
        delta_a = ma - self.mean
        self.m2 = self.m2 + m2a + delta_a**2 * self.n * nb / n
        if b is not None:
            delta_b = mb - self.mean_b
            self.m2_b = self.m2_b + m2b + delta_b**2 * self.n * nb / n
            self.c_ab = self.c_ab + cab + delta_a * delta_b * self.n * nb / n
            self.mean_b = self.mean_b + delta_b * nb / n
        self.mean = self.mean + delta_a * nb / n
        self.n = n

    @property
    def std(self):
        return np.sqrt(np.maximum(self.m2 / self.n, 0.0))

    @property
    def std_b(self):
        return np.sqrt(np.maximum(self.m2_b / self.n, 0.0))

    @property
    def corr(self):
        den = np.sqrt(self.m2 * self.m2_b)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(den > 0, self.c_ab / np.where(den > 0, den, 1.0), 0.0)
        return np.clip(rho, -1.0, 1.0)
