"""Re-normalisation of merged networks: REPAIR, closed-form REPAIR, RESCALE,
RESHIFT and RESET (BatchNorm statistics).

References: Jordan et al., "REPAIR: REnormalizing Permuted Activations for
Interpolation Repair" (ICLR 2023) and Qu & Horváth, "Rethink Model Re-Basin and
the Linear Mode Connectivity".  See ``rebasin.md`` A.7 and A.8.

Every correction is an affine map ``z -> r * z + c`` of the pre-activation
``z`` (output of a Linear/Conv layer, before the non-linearity) of each unit of
a corrected layer.  It is folded into the layer: ``W' = diag(r) W`` and
``b' = r * b + c``, so the result is a plain network of the same architecture.
"""

import copy
from numbers import Integral, Real

import numpy as np

from gaga.rebasin._models import (
    RunningMoments,
    check_model,
    check_same_family,
    check_same_sklearn_architecture,
    check_same_torch_architecture,
    check_sklearn_X,
    is_torch_module,
    n_dense_layers,
    sklearn_params,
    torch_batches,
    torch_batchnorms,
    torch_channels,
    torch_linear_layers,
    torch_X,
)
from gaga.rebasin._sklearn import _activation, sklearn_mlp_with_params

__all__ = ["repair"]

_METHODS = ("repair", "repair_closed_form", "rescale", "reshift", "reset")


# ----------------------------------------------------------------------------
# numpy core
# ----------------------------------------------------------------------------


def _goals(mu_a, sd_a, mu_b, sd_b, lam, average):
    """Target statistics ``mu* = (1-lam) mu_a + lam mu_b`` (same for std)."""
    mu = (1.0 - lam) * mu_a + lam * mu_b
    sd = (1.0 - lam) * sd_a + lam * sd_b
    if average:
        # rethink's ``average`` option: one layer-wide goal
        sd = np.full_like(sd, sd.mean())
        mu = np.mean(np.abs(mu)) * np.sign(mu)
    return mu, sd


def _affine(method, mu_m, sd_m, mu_goal, sd_goal, eps):
    """Coefficients ``(r, c)`` of the per-unit correction ``z -> r z + c``.

    Units whose measured standard deviation is (numerically) zero cannot be
    rescaled; they keep ``r = 1`` (only their mean is moved by REPAIR/RESHIFT).
    """
    den = np.sqrt(sd_m**2 + eps)
    alive = den > 1e-12 * (1.0 + np.abs(mu_m))
    r = np.where(alive, sd_goal / np.where(alive, den, 1.0), 1.0)
    if method in ("repair", "repair_closed_form"):
        c = mu_goal - r * mu_m
    elif method == "rescale":
        c = np.zeros_like(mu_m)
    else:  # reshift
        r = np.ones_like(mu_m)
        c = mu_goal - mu_m
    return r, c


def _closed_form_stats(mu_a, sd_a, mu_b, sd_b, rho, lam):
    """Predicted statistics of the interpolated unit (no pass through it)."""
    mu = (1.0 - lam) * mu_a + lam * mu_b
    var = (
        (1.0 - lam) ** 2 * sd_a**2
        + lam**2 * sd_b**2
        + 2.0 * lam * (1.0 - lam) * rho * sd_a * sd_b
    )
    return mu, np.sqrt(np.maximum(var, 0.0))


def _resolve_layers(layers, n_layers, names=None):
    """Indices of the corrected layers (``n_layers`` counts the output layer)."""
    if isinstance(layers, str):
        if layers == "hidden":
            return list(range(n_layers - 1))
        if layers == "all":
            return list(range(n_layers))
        if names is not None and layers in names:
            return [names.index(layers)]
        raise ValueError(
            f"layers must be 'hidden', 'all' or a list of layer indices"
            f"{' or names' if names is not None else ''}, got layers={layers!r}."
        )
    out = set()
    for item in layers:
        if isinstance(item, str):
            if names is None or item not in names:
                raise ValueError(f"layers contains an unknown layer name {item!r}.")
            out.add(names.index(item))
        elif isinstance(item, Integral):
            k = int(item)
            if not -n_layers <= k < n_layers:
                raise ValueError(
                    f"layers contains index {k}, but the model has {n_layers} "
                    "Linear/Conv layers."
                )
            out.add(k % n_layers)
        else:
            raise ValueError(f"layers contains {item!r}, expected int or str.")
    return sorted(out)


def _check_common(method, lam, eps):
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got method={method!r}.")
    if not isinstance(lam, Real) or not np.isfinite(lam):
        raise ValueError(f"lam must be a finite real number, got lam={lam!r}.")
    if not isinstance(eps, Real) or not eps >= 0:
        raise ValueError(f"eps must be a non-negative real number, got eps={eps!r}.")


def _sklearn_preacts(params, X, act, n_layers):
    out, h = [], X
    for k in range(n_layers):
        z = h @ params[f"W{k}"] + params[f"b{k}"]
        out.append(z)
        if k < n_layers - 1:
            h = act(z)
    return out


def _repair_sklearn(model_a, model_b, merged, X, method, lam, layers, average, eps):
    if method == "reset":
        raise ValueError(
            "method='reset' recomputes BatchNorm statistics and needs a torch "
            "module with BatchNorm layers; scikit-learn MLPs have none (use "
            "'repair' or 'rescale')."
        )
    check_same_sklearn_architecture(
        [merged, model_a, model_b], ["merged", "model_a", "model_b"]
    )
    X = check_sklearn_X(merged, X)
    act = _activation(merged.activation)
    params = sklearn_params(merged)
    n_layers = n_dense_layers(params)
    targets = set(_resolve_layers(layers, n_layers))
    if not targets:
        return sklearn_mlp_with_params(merged, params)
    za = _sklearn_preacts(sklearn_params(model_a), X, act, n_layers)
    zb = _sklearn_preacts(sklearn_params(model_b), X, act, n_layers)
    h = X
    for k in range(n_layers):
        w, b = params[f"W{k}"], params[f"b{k}"]
        if k in targets:
            mu_a, sd_a = za[k].mean(axis=0), za[k].std(axis=0)
            mu_b, sd_b = zb[k].mean(axis=0), zb[k].std(axis=0)
            mu_goal, sd_goal = _goals(mu_a, sd_a, mu_b, sd_b, lam, average)
            if method == "repair_closed_form":
                mom = RunningMoments()
                mom.update(za[k], zb[k])
                mu_m, sd_m = _closed_form_stats(mu_a, sd_a, mu_b, sd_b, mom.corr, lam)
            else:
                z = h @ w + b
                mu_m, sd_m = z.mean(axis=0), z.std(axis=0)
            r, c = _affine(method, mu_m, sd_m, mu_goal, sd_goal, eps)
            w = w * r[None, :]
            b = r * b + c
            params[f"W{k}"], params[f"b{k}"] = w, b
        if k < n_layers - 1:
            h = act(h @ w + b)
    return sklearn_mlp_with_params(merged, params)


# ----------------------------------------------------------------------------
# torch
# ----------------------------------------------------------------------------


class _StopForward(Exception):
    pass


class _eval_mode:
    """Context manager: whole module in eval mode, training flags restored."""

    def __init__(self, module):
        self.module = module

    def __enter__(self):
        self.flags = [(m, m.training) for m in self.module.modules()]
        self.module.eval()
        return self.module

    def __exit__(self, *exc):
        for m, flag in self.flags:
            m.training = flag
        return False


def _torch_layer_moments(model, Xt, layer_names, batch_size, stop_after=None):
    """Per-unit statistics of the outputs of the named layers of ``model``."""
    import torch

    layers = dict(torch_linear_layers(model))
    moments = {name: RunningMoments() for name in layer_names}
    captured = {}
    handles = []

    def make_hook(name):
        def hook(mod, inp, out):
            captured[name] = torch_channels(mod, out).detach().double().cpu().numpy()
            if name == stop_after:
                raise _StopForward

        return hook

    for name in layer_names:
        handles.append(layers[name].register_forward_hook(make_hook(name)))
    try:
        with _eval_mode(model), torch.no_grad():
            for batch in torch_batches(Xt, batch_size):
                captured.clear()
                try:
                    model(batch)
                except _StopForward:
                    pass
                for name in layer_names:
                    moments[name].update(captured[name])
    finally:
        for h in handles:
            h.remove()
    return moments


def _torch_pair_moments(model_a, model_b, Xt, layer_names, batch_size):
    """Joint statistics (means, stds, correlation) of matched units of A and B."""
    import torch

    la, lb = dict(torch_linear_layers(model_a)), dict(torch_linear_layers(model_b))
    moments = {name: RunningMoments() for name in layer_names}
    cap_a, cap_b = {}, {}

    def make_hook(store, name):
        def hook(mod, inp, out):
            store[name] = torch_channels(mod, out).detach().double().cpu().numpy()

        return hook

    handles = [la[n].register_forward_hook(make_hook(cap_a, n)) for n in layer_names]
    handles += [lb[n].register_forward_hook(make_hook(cap_b, n)) for n in layer_names]
    try:
        with _eval_mode(model_a), _eval_mode(model_b), torch.no_grad():
            for batch in torch_batches(Xt, batch_size):
                model_a(batch)
                model_b(batch)
                for name in layer_names:
                    moments[name].update(cap_a[name], cap_b[name])
    finally:
        for h in handles:
            h.remove()
    return moments


def _fold_torch(layer, r, c):
    import torch

    with torch.no_grad():
        w = layer.weight
        r_t = torch.as_tensor(r, dtype=w.dtype, device=w.device)
        w.mul_(r_t.view(-1, *([1] * (w.ndim - 1))))
        if layer.bias is None:
            layer.bias = torch.nn.Parameter(torch.zeros_like(r_t))
        b = layer.bias.detach().double().cpu().numpy()
        layer.bias.copy_(torch.as_tensor(r * b + c, dtype=w.dtype))


def _reset_batchnorm(model, X, *, batch_size=None):
    """Recompute the BatchNorm running statistics of a PyTorch model (RESET).

    The running buffers are reset and re-estimated with a cumulative average
    (``momentum=None``) over one pass over ``X``, with the BatchNorm layers in
    training mode and every other layer (dropout ...) in eval mode.

    Parameters
    ----------
    model : torch.nn.Module
        Model with at least one BatchNorm layer; it is not modified.
    X : array-like or torch.Tensor
        Data (typically the training set).
    batch_size : int, default=None
        Batch size of the pass; ``None`` uses all of ``X`` as one batch, which
        gives the exact population mean (and the unbiased variance).

    Returns
    -------
    model : torch.nn.Module
        A deep copy with re-estimated statistics, in eval mode.
    """
    import torch

    if not is_torch_module(model):
        raise ValueError(
            f"model must be a torch.nn.Module, got {type(model).__name__}."
        )
    out = copy.deepcopy(model)
    bns = torch_batchnorms(out)
    if not bns:
        raise ValueError(
            "method='reset' needs BatchNorm layers; the model has none (use "
            "'repair' or 'rescale')."
        )
    Xt = torch_X(out, X)
    momenta = {}
    out.eval()
    for name, bn in bns:
        momenta[name] = bn.momentum
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    with torch.no_grad():
        for batch in torch_batches(Xt, batch_size):
            out(batch)
    for name, bn in bns:
        bn.momentum = momenta[name]
    out.eval()
    return out


def _repair_torch(model_a, model_b, merged, X, method, lam, layers, average, eps, bs):
    if method == "reset":
        return _reset_batchnorm(merged, X, batch_size=bs)
    check_same_torch_architecture(
        [merged, model_a, model_b], ["merged", "model_a", "model_b"]
    )
    out = copy.deepcopy(merged)
    Xt = torch_X(out, X)
    all_names = [n for n, _ in torch_linear_layers(out)]
    targets = [all_names[k] for k in _resolve_layers(layers, len(all_names), all_names)]
    if not targets:
        return out
    pair = _torch_pair_moments(model_a, model_b, Xt, targets, bs)
    layer_of = dict(torch_linear_layers(out))
    for name in targets:
        mom = pair[name]
        mu_a, sd_a, mu_b, sd_b = mom.mean, mom.std, mom.mean_b, mom.std_b
        mu_goal, sd_goal = _goals(mu_a, sd_a, mu_b, sd_b, lam, average)
        if method == "repair_closed_form":
            mu_m, sd_m = _closed_form_stats(mu_a, sd_a, mu_b, sd_b, mom.corr, lam)
        else:
            # sequential: layers before ``name`` are already corrected
            cur = _torch_layer_moments(out, Xt, [name], bs, stop_after=name)[name]
            mu_m, sd_m = cur.mean, cur.std
        r, c = _affine(method, mu_m, sd_m, mu_goal, sd_goal, eps)
        _fold_torch(layer_of[name], r, c)
    return out


# ----------------------------------------------------------------------------
# public
# ----------------------------------------------------------------------------


def repair(
    model_a,
    model_b,
    merged,
    X,
    method="repair",
    lam=0.5,
    *,
    layers="hidden",
    average=False,
    eps=0.0,
    batch_size=None,
):
    """Re-normalise the hidden units of a merged network (REPAIR and variants).

    For every unit of every corrected layer the pre-activation ``z`` (output of
    the Linear/Conv layer, before the non-linearity) gets the goal statistics
    ``mu* = (1 - lam) mu_A + lam mu_B`` and ``sigma* = (1 - lam) sigma_A +
    lam sigma_B`` (standard deviations are interpolated, not variances),
    measured on ``X`` for ``model_a`` and ``model_b``.  The correction
    ``z -> r z + c`` is folded into the layer's weights and bias, so the
    result is a plain network with the architecture of ``merged``.

    Parameters
    ----------
    model_a, model_b : MLPClassifier, MLPRegressor or torch.nn.Module
        End points of the interpolation; ``model_b`` must already be permuted
        (matched) to ``model_a``.  Ignored by ``method="reset"`` (may be None).
    merged : same type as ``model_a``
        The network to correct, usually ``(1 - lam) A + lam pi(B)``.  Not
        modified.
    X : array-like of shape (n_samples, n_features) or torch.Tensor
        Data for the statistics (typically the training set).
    method : {"repair", "repair_closed_form", "rescale", "reshift", "reset"}, \
default="repair"
        * ``"repair"``: measure ``mu, sigma`` of the merged net's units in one
          pass per corrected layer, layers in order, each measured after the
          previous ones were corrected; ``r = sigma* / sqrt(sigma^2 + eps)``,
          ``c = mu* - r mu``.  After folding the corrected units have exactly
          the goal statistics on ``X`` (for ``eps=0``).
        * ``"repair_closed_form"``: no pass through the merged net; its
          statistics are predicted as ``mu = mu*`` and
          ``sigma^2 = (1-lam)^2 sigma_A^2 + lam^2 sigma_B^2 +
          2 lam (1-lam) rho sigma_A sigma_B`` with ``rho`` the correlation of
          the matched pair of units.
        * ``"rescale"``: scale only, ``c = 0`` (the mean is scaled too).
        * ``"reshift"``: shift only, ``r = 1``, ``c = mu* - mu``.
        * ``"reset"``: recompute the BatchNorm running statistics of
          ``merged`` (PyTorch models only): buffers reset, cumulative average
          (``momentum=None``) over one pass over ``X`` with only the BatchNorm
          layers in train mode; ``model_a`` and ``model_b`` are ignored.
    lam : float, default=0.5
        Interpolation weight of ``model_b`` in the goal statistics.  ``lam=0``
        uses ``model_a``'s statistics only (used by
        :func:`renormalize_pruned`).
    layers : {"hidden", "all"} or list of int or str, default="hidden"
        Which Linear/Conv layers are corrected: all hidden layers, all layers
        including the output layer, or the given positions in the list of
        Linear/Conv layers (torch: also module names).
    average : bool, default=False
        Layer-averaged goals (rethink's ``average`` option):
        ``sigma*`` is replaced by its mean over the layer and ``mu*`` by
        ``mean(|mu*|) * sign(mu*)``.
    eps : float, default=0.0
        Added to the measured variance before dividing (REPAIR's BatchNorm
        uses ``1e-5``).  Units with zero measured variance are never rescaled.
    batch_size : int, default=None
        Batch size of the passes over ``X`` for PyTorch models (None: one
        batch).  Statistics are accumulated exactly in float64.

    Returns
    -------
    repaired : same type as ``merged``
        A corrected copy (a new fitted estimator, or a deep-copied module).

    Raises
    ------
    ValueError
        On an unknown ``method``, mismatched architectures, ``X`` with the
        wrong number of features, ``method="reset"`` without BatchNorm layers,
        or invalid ``layers``.

    Notes
    -----
    For BatchNorm networks REPAIR reduces to RESET.  With PyTorch the passes
    run in eval mode with float64 accumulation; the correction of each layer
    is measured after the previous layers were folded (the "sequential"
    variant, which for one full batch gives the same result as the one-pass
    variant with train-mode normalisers).
    """
    _check_common(method, lam, eps)
    if batch_size is not None and (
        not isinstance(batch_size, Integral) or batch_size < 1
    ):
        raise ValueError(
            f"batch_size must be a positive integer or None, got {batch_size!r}."
        )
    if method == "reset":
        check_model(merged, "merged")
        if is_torch_module(merged):
            return _reset_batchnorm(merged, X, batch_size=batch_size)
        return _repair_sklearn(None, None, merged, X, method, lam, layers, average, eps)
    check_same_family([model_a, model_b, merged], ["model_a", "model_b", "merged"])
    if is_torch_module(merged):
        return _repair_torch(
            model_a, model_b, merged, X, method, lam, layers, average, eps, batch_size
        )
    return _repair_sklearn(
        model_a, model_b, merged, X, method, lam, layers, average, eps
    )
