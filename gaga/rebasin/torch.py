"""Optional PyTorch adapter for :mod:`gaga.rebasin` (needs the ``torch`` extra).

torch is imported lazily, when a function of this module is called.

* :func:`params_from_torch` / :func:`torch_model_with_params`: ``state_dict``
  <-> ``dict[str, ndarray]`` (BatchNorm buffers included, so
  :func:`~gaga.rebasin.apply_permutation` permutes running statistics too).
* :func:`torch_activations` / :func:`iter_torch_activations`: activations
  recorded with forward hooks, for :func:`~gaga.rebasin.activation_matching`.
* :func:`torch_loss_and_grad`: autograd loss/gradient for
  :func:`~gaga.rebasin.ste_matching`.
* :func:`spec_from_torch_sequential`: spec of an ``nn.Sequential`` of Linear /
  Conv / BatchNorm / LayerNorm / activation / pooling / Flatten layers.
* :func:`reset_batchnorm`: recompute BatchNorm statistics (RESET).
"""

import copy

import numpy as np

__all__ = [
    "params_from_torch",
    "torch_model_with_params",
    "torch_activations",
    "iter_torch_activations",
    "torch_loss_and_grad",
    "spec_from_torch_sequential",
    "reset_batchnorm",
]


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "gaga.rebasin.torch needs PyTorch: pip install 'gaga[torch]' "
            "(torch==2.13.0)."
        ) from exc
    return torch


def params_from_torch(model, dtype=np.float64):
    """Parameters and buffers of a PyTorch model as numpy arrays.

    Parameters
    ----------
    model : torch.nn.Module or dict of str to Tensor
        A module (its ``state_dict()`` is used) or a state dict.
    dtype : dtype, default=numpy.float64
        Dtype of floating tensors; integer buffers (``num_batches_tracked``)
        keep their dtype.

    Returns
    -------
    params : dict of str to ndarray
        Copies, in ``state_dict`` order.
    """
    torch = _torch()
    sd = model.state_dict() if isinstance(model, torch.nn.Module) else model
    out = {}
    for k, v in sd.items():
        a = v.detach().cpu().numpy()
        out[k] = a.astype(dtype) if v.is_floating_point() else a.copy()
    return out


def torch_model_with_params(model, params):
    """Deep copy of ``model`` with its ``state_dict`` replaced by ``params``.

    Parameters
    ----------
    model : torch.nn.Module
        Template; not modified.
    params : dict of str to ndarray
        Values for every ``state_dict`` entry (cast to the entry's dtype).

    Returns
    -------
    new_model : torch.nn.Module
        The new model.

    Raises
    ------
    ValueError
        On missing or extra names, wrong shapes or non-finite values.
    """
    torch = _torch()
    sd = model.state_dict()
    missing = [k for k in sd if k not in params]
    extra = [k for k in params if k not in sd]
    if missing or extra:
        raise ValueError(
            f"params do not match the model: missing {missing}, unexpected {extra}."
        )
    new_sd = {}
    for k, ref in sd.items():
        a = np.asarray(params[k])
        if tuple(a.shape) != tuple(ref.shape):
            raise ValueError(
                f"parameter {k!r} has shape {a.shape}, the model expects "
                f"{tuple(ref.shape)}."
            )
        if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
            raise ValueError(f"parameter {k!r} has non-finite values.")
        new_sd[k] = torch.as_tensor(np.ascontiguousarray(a)).to(dtype=ref.dtype)
    new = copy.deepcopy(model)
    new.load_state_dict(new_sd)
    return new


def _batches(X, batch_size):
    torch = _torch()
    if isinstance(X, (np.ndarray, torch.Tensor)):
        n = X.shape[0]
        bs = n if batch_size is None else int(batch_size)
        for s in range(0, n, bs):
            yield X[s : s + bs]
    else:
        for batch in X:
            yield batch[0] if isinstance(batch, (list, tuple)) else batch


def iter_torch_activations(
    model, X, modules, *, record="output", batch_size=None, dtype=None
):
    """Yield, batch by batch, activations recorded with forward hooks.

    Parameters
    ----------
    model : torch.nn.Module
        Model (evaluated in ``eval`` mode under ``no_grad``; its mode is
        restored afterwards).
    X : ndarray, Tensor or iterable of batches
        Inputs; an iterable may yield tensors or ``(inputs, targets)`` tuples.
    modules : dict of str to str
        Group name -> name of the sub-module (as in ``named_modules``) whose
        output (e.g. a ``nn.ReLU``) gives that group's units.
    record : {"output", "input"}, default="output"
        Record the module's output, or its input (pre-activation when the
        module is the activation function).
    batch_size : int, optional
        Batch size when ``X`` is an array (default: one batch).
    dtype : torch.dtype, optional
        Cast inputs to this dtype (default: the dtype of the first parameter).

    Yields
    ------
    batch : dict of str to ndarray
        Group -> activations ``(n, C, ...)`` (units on axis 1; use
        ``channel_axis=1`` in :func:`~gaga.rebasin.activation_matching`).
    """
    torch = _torch()
    if record not in ("output", "input"):
        raise ValueError(f"record must be 'output' or 'input', got {record!r}.")
    named = dict(model.named_modules())
    unknown = [m for m in modules.values() if m not in named]
    if unknown:
        raise ValueError(f"unknown module name(s) {unknown}.")
    if dtype is None:
        p = next(model.parameters(), None)
        dtype = p.dtype if p is not None else torch.float32
    store = {}
    handles = []
    for g, mname in modules.items():

        def hook(mod, inp, out, g=g):
            t = inp[0] if record == "input" else out
            store[g] = t.detach().cpu().double().numpy()

        handles.append(named[mname].register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        for xb in _batches(X, batch_size):
            store.clear()
            # no_grad only around the forward: a context held across ``yield``
            # would leak into the caller (and interleaved generators would
            # restore each other's grad mode in the wrong order).
            with torch.no_grad():
                model(torch.as_tensor(xb).to(dtype))
            yield dict(store)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)


def torch_activations(model, X, modules, *, record="output", batch_size=None):
    """Activations of ``modules`` on all of ``X`` (concatenated batches).

    Parameters
    ----------
    model : torch.nn.Module
        Model.
    X : ndarray, Tensor or iterable of batches
        Inputs.
    modules : dict of str to str
        Group name -> sub-module name.
    record : {"output", "input"}, default="output"
        Record outputs or inputs of the modules.
    batch_size : int, optional
        Batch size for array inputs.

    Returns
    -------
    activations : dict of str to ndarray
        Group -> activations, concatenated over batches.
    """
    parts = {}
    for b in iter_torch_activations(
        model, X, modules, record=record, batch_size=batch_size
    ):
        for g, a in b.items():
            parts.setdefault(g, []).append(a)
    return {g: np.concatenate(v) for g, v in parts.items()}


def torch_loss_and_grad(model, loss_fn=None, dtype=None):
    """Autograd ``loss_and_grad(params, X, y)`` for :func:`~gaga.rebasin.ste_matching`.

    Parameters
    ----------
    model : torch.nn.Module
        Architecture template (a private copy is evaluated in eval mode, so
        BatchNorm uses the running statistics in ``params``).
    loss_fn : callable, optional
        ``loss_fn(output, target) -> scalar``; default cross-entropy.
    dtype : torch.dtype, optional
        Computation dtype (default float64).

    Returns
    -------
    loss_and_grad : callable
        ``(params: dict of ndarray, X, y) -> (float, dict of ndarray)``; the
        gradient is given for every ``nn.Parameter`` (not for buffers).
    """
    torch = _torch()
    dtype = torch.float64 if dtype is None else dtype
    template = copy.deepcopy(model).to(dtype).eval()
    if loss_fn is None:
        loss_fn = torch.nn.functional.cross_entropy
    named = dict(template.named_parameters())
    sd_keys = list(template.state_dict())

    def loss_and_grad(params, X, y):
        missing = [k for k in sd_keys if k not in params]
        if missing:
            raise ValueError(f"params is missing parameter(s) {missing}.")
        with torch.no_grad():
            template.load_state_dict(
                {k: torch.as_tensor(np.asarray(params[k])) for k in sd_keys}
            )
        template.zero_grad(set_to_none=True)
        out = template(torch.as_tensor(np.asarray(X)).to(dtype))
        yt = torch.as_tensor(np.asarray(y))
        if yt.is_floating_point():
            yt = yt.to(dtype)
        loss = loss_fn(out, yt)
        loss.backward()
        grads = {
            k: (
                p.grad.detach().numpy().copy()
                if p.grad is not None
                else np.zeros(tuple(p.shape))
            )
            for k, p in named.items()
        }
        return float(loss.detach()), grads

    return loss_and_grad


def spec_from_torch_sequential(model, input_shape, *, group_name="P{}"):
    """Permutation spec of an ``nn.Sequential`` model.

    Supported layers: ``Linear``, ``Conv1d/2d/3d`` (groups=1),
    ``BatchNorm1d/2d/3d``, ``LayerNorm`` over the last (channel/feature) axis
    of dense activations, element-wise activations, ``Dropout``, pooling
    layers and ``Flatten`` (channel-major, as PyTorch flattens NCHW).

    Parameters
    ----------
    model : torch.nn.Sequential
        The model (not modified).
    input_shape : tuple of int
        Shape of one input *without* the batch axis (used to find the number
        of positions flattened by ``Flatten``).
    group_name : str, default="P{}"
        Format string of the group of the ``k``-th hidden layer.

    Returns
    -------
    spec : PermutationSpec
        The validated spec.

    Raises
    ------
    ValueError
        On unsupported layers.
    """
    torch = _torch()
    from gaga.rebasin._spec import FlatAxis, PermutationSpec

    nn = torch.nn
    if not isinstance(model, nn.Sequential):
        raise ValueError("spec_from_torch_sequential needs an nn.Sequential.")
    layers = list(model.named_children())
    lin_idx = [
        i
        for i, (_, m) in enumerate(layers)
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))
    ]
    if not lin_idx:
        raise ValueError("the model has no Linear or Conv layer.")
    last = lin_idx[-1]
    shapes = {}
    first = next(model.parameters(), None)
    dtype = first.dtype if first is not None else torch.float32
    x = torch.zeros((1,) + tuple(input_shape), dtype=dtype)
    with torch.no_grad():
        m = copy.deepcopy(model).eval()
        for name, layer in m.named_children():
            shapes[name] = tuple(x.shape[1:])
            x = layer(x)
    a2p = {}
    cur = None  # current group entry of the activations (str or FlatAxis)
    k = 0
    elementwise = (
        nn.ReLU,
        nn.LeakyReLU,
        nn.Tanh,
        nn.Sigmoid,
        nn.GELU,
        nn.ELU,
        nn.SiLU,
        nn.Softplus,
        nn.Identity,
        nn.Dropout,
        nn.Dropout1d,
        nn.Dropout2d,
        nn.Hardtanh,
        nn.ReLU6,
        nn.Mish,
    )
    pools = (
        nn.MaxPool1d,
        nn.MaxPool2d,
        nn.MaxPool3d,
        nn.AvgPool1d,
        nn.AvgPool2d,
        nn.AvgPool3d,
        nn.AdaptiveAvgPool1d,
        nn.AdaptiveAvgPool2d,
        nn.AdaptiveAvgPool3d,
        nn.AdaptiveMaxPool1d,
        nn.AdaptiveMaxPool2d,
        nn.AdaptiveMaxPool3d,
    )
    for i, (name, layer) in enumerate(layers):
        if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            if getattr(layer, "groups", 1) != 1:
                raise ValueError(f"layer {name!r}: grouped convolution unsupported.")
            out_g = None if i == last else group_name.format(k)
            nd = layer.weight.ndim - 2
            a2p[f"{name}.weight"] = (out_g, cur) + (None,) * nd
            if layer.bias is not None:
                a2p[f"{name}.bias"] = (out_g,)
            if out_g is not None:
                k += 1
            cur = out_g
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
            # per-feature parameters: after Flatten, the flat axis (FlatAxis)
            for b in ("weight", "bias"):
                if getattr(layer, b, None) is not None:
                    a2p[f"{name}.{b}"] = (cur,)
            if layer.running_mean is not None:
                a2p[f"{name}.running_mean"] = (cur,)
                a2p[f"{name}.running_var"] = (cur,)
                a2p[f"{name}.num_batches_tracked"] = ()
        elif isinstance(layer, nn.LayerNorm):
            if len(layer.normalized_shape) != 1 or len(shapes[name]) != 1:
                # LayerNorm over (C, H, W) or over a non-feature axis
                raise ValueError(
                    f"layer {name!r}: only LayerNorm over the features of dense "
                    "activations is supported."
                )
            for b in ("weight", "bias"):
                if getattr(layer, b, None) is not None:
                    a2p[f"{name}.{b}"] = (cur,)
        elif isinstance(layer, nn.Flatten):
            shp = shapes[name]
            if cur is not None and len(shp) > 1:
                n_pos = int(np.prod(shp[1:]))
                cur = FlatAxis(cur, n_pos, "NCHW") if n_pos > 1 else cur
        elif isinstance(layer, elementwise + pools):
            pass
        else:
            raise ValueError(
                f"layer {name!r} of type {type(layer).__name__} is not supported."
            )
    sd_shapes = {k_: tuple(v.shape) for k_, v in model.state_dict().items()}
    return PermutationSpec(a2p, shapes=sd_shapes)


def reset_batchnorm(model, X, *, batch_size=None):
    """Recompute BatchNorm running statistics on ``X`` (RESET), in a copy.

    Running statistics are reset and re-estimated with a cumulative average
    (``momentum=None``) in train mode; the returned copy is in eval mode.
    PyTorch averages the *per-batch* statistics, so the result equals the
    full-data mean only when all batches have the same size.

    Parameters
    ----------
    model : torch.nn.Module
        Model (not modified).
    X : ndarray, Tensor or iterable of batches
        Training inputs.
    batch_size : int, optional
        Batch size for array inputs.

    Returns
    -------
    new_model : torch.nn.Module
        The new model.
    """
    torch = _torch()
    new = copy.deepcopy(model)
    bn_types = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)
    bns = [m for m in new.modules() if isinstance(m, bn_types)]
    saved = []
    for m in bns:
        saved.append(m.momentum)
        m.reset_running_stats()
        m.momentum = None
    p = next(new.parameters(), None)
    dtype = p.dtype if p is not None else torch.float32
    new.train()
    with torch.no_grad():
        for xb in _batches(X, batch_size):
            new(torch.as_tensor(xb).to(dtype))
    for m, mom in zip(bns, saved):
        m.momentum = mom
    return new.eval()
