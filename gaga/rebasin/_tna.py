"""Training-time neuron alignment with fixed anchors (TNA-PFN).

Li et al., "Training-time Neuron Alignment for Improving Linear Mode
Connectivity and Model Fusion" (arXiv 2402.01342): a fraction of the weights is
kept at a shared initialisation during training; these "anchors" break the
permutation symmetry, so models trained from (partly) shared initialisations
end up in the same basin.  No public code exists; the granularity
(``level="neuron"`` / ``"weight"``), the choice of frozen layers (hidden layers
only, biases never frozen) and the training loops are our reading of the
paper, see ``docs/tna_pfn.md`` and ``rebasin.md`` A.10.
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils import check_random_state

from gaga.rebasin._models import (
    check_sklearn_X,
    is_param_dict,
    is_sklearn_mlp,
    is_torch_module,
    n_dense_layers,
    sklearn_params,
    torch_linear_layers,
)

__all__ = [
    "fixed_weight_mask",
    "sklearn_mlp_init_params",
    "fit_with_fixed_weights",
    "mask_gradients",
    "train_torch_with_fixed_weights",
]


def _check_ratio(ratio):
    if isinstance(ratio, bool) or not isinstance(ratio, Real) or not 0 <= ratio < 1:
        raise ValueError(f"ratio must be in [0, 1), got ratio={ratio!r}.")


def _draw(rng, n, ratio):
    k = int(round(ratio * n))
    chosen = np.zeros(n, dtype=bool)
    if k:
        chosen[rng.choice(n, size=k, replace=False)] = True
    return chosen


def _shapes_and_hidden(model_or_params):
    """``(shapes, hidden)``: all parameter shapes and the hidden weights.

    ``hidden`` maps a parameter name to the axis of its output units.
    """
    if is_param_dict(model_or_params) or is_sklearn_mlp(model_or_params):
        params = (
            model_or_params
            if is_param_dict(model_or_params)
            else sklearn_params(model_or_params)
        )
        shapes = {k: np.shape(v) for k, v in params.items()}
        n_layers = n_dense_layers(params)
        hidden = {f"W{k}": 1 for k in range(n_layers - 1)}
        return shapes, hidden
    if is_torch_module(model_or_params):
        shapes = {n: tuple(p.shape) for n, p in model_or_params.named_parameters()}
        layers = torch_linear_layers(model_or_params)
        hidden = {
            (f"{name}.weight" if name else "weight"): 0 for name, _ in layers[:-1]
        }
        return shapes, hidden
    raise ValueError(
        "model_or_params must be a fitted scikit-learn MLP, a parameter dict in "
        "scikit-learn layout ('W0', 'b0', ...) or a torch.nn.Module, got "
        f"{type(model_or_params).__name__}."
    )


def fixed_weight_mask(model_or_params, ratio, level="neuron", random_state=None):
    """Mask of the weights kept fixed at their initial values (TNA-PFN anchors).

    Parameters
    ----------
    model_or_params : MLPClassifier, MLPRegressor, dict or torch.nn.Module
        The model (or its parameter dict in scikit-learn layout, ``"W0"``,
        ``"b0"``, ...) whose parameters the mask covers.  Only the shapes are
        used.
    ratio : float in [0, 1)
        Fraction fixed in every hidden layer: exactly
        ``round(ratio * n_units)`` units per layer (``level="neuron"``) or
        ``round(ratio * n_weights)`` entries per layer (``level="weight"``).
    level : {"neuron", "weight"}, default="neuron"
        ``"neuron"`` fixes all incoming weights of the chosen hidden units
        (columns of ``coefs_[k]`` in scikit-learn, rows / output channels of
        a PyTorch weight), ``"weight"`` individual weights.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw.  All models that should share anchors must use the
        same mask, i.e. the same seed.

    Returns
    -------
    mask : dict of str to ndarray of bool
        One boolean array per parameter (``True`` = fixed), same keys and
        shapes as the parameters (``params_from_sklearn_mlp`` names, or
        ``named_parameters`` names for torch).  Biases and the output layer
        are never fixed.

    Raises
    ------
    ValueError
        If ``ratio`` is outside [0, 1) or ``level`` is unknown.
    """
    _check_ratio(ratio)
    if level not in ("neuron", "weight"):
        raise ValueError(f"level must be 'neuron' or 'weight', got level={level!r}.")
    rng = check_random_state(random_state)
    shapes, hidden = _shapes_and_hidden(model_or_params)
    mask = {name: np.zeros(shape, dtype=bool) for name, shape in shapes.items()}
    for name, axis in hidden.items():
        shape = shapes[name]
        if level == "weight":
            mask[name] = _draw(rng, int(np.prod(shape)), ratio).reshape(shape)
        else:
            units = _draw(rng, shape[axis], ratio)
            idx = [None] * len(shape)
            idx[axis] = slice(None)
            mask[name] = np.broadcast_to(units[tuple(idx)], shape).copy()
    return mask


def _check_mask(mask, shapes, name="mask"):
    """Validate a mask (or anchors) dict against parameter shapes."""
    if not isinstance(mask, dict):
        raise ValueError(f"{name} must be a dict of arrays, got {type(mask).__name__}.")
    out = {}
    for key, value in mask.items():
        if key not in shapes:
            raise ValueError(
                f"{name} has key {key!r}, which is not a parameter of the model "
                f"(parameters: {sorted(shapes)})."
            )
        arr = np.asarray(value)
        if arr.shape != tuple(shapes[key]):
            raise ValueError(
                f"{name}[{key!r}] has shape {arr.shape}, but the parameter has shape "
                f"{tuple(shapes[key])}."
            )
        out[key] = arr
    return out


def _check_bool_mask(mask, shapes):
    mask = _check_mask(mask, shapes)
    for key, arr in mask.items():
        if arr.dtype != bool:
            raise ValueError(f"mask[{key!r}] must be boolean, got dtype {arr.dtype}.")
    return mask


# ----------------------------------------------------------------------------
# scikit-learn
# ----------------------------------------------------------------------------


def _with_int_seed(est, rng):
    if est.random_state is None or not isinstance(est.random_state, Integral):
        est.set_params(random_state=int(rng.randint(np.iinfo(np.int32).max)))
    return est


def _fit_kwargs(est, y, classes):
    if is_classifier(est):
        return {"classes": np.unique(y) if classes is None else classes}
    return {}


def _partial_fit(est, X, y, kwargs):
    # one optimiser step on one minibatch; a minibatch smaller than
    # ``batch_size`` (the last of an epoch) triggers a harmless clipping warning
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Got `batch_size`")
        est.partial_fit(X, y, **kwargs)


def sklearn_mlp_init_params(mlp, X, y, classes=None):
    """The initial parameters a fresh scikit-learn MLP would start from.

    scikit-learn draws the initialisation inside the first ``partial_fit`` or
    ``fit`` call from ``random_state``.  This function initialises a clone
    with a plain-SGD step of learning rate ``1e-300`` (which leaves every
    weight unchanged in float64) and returns its parameters.

    Parameters
    ----------
    mlp : MLPClassifier or MLPRegressor
        Estimator (fitted or not) with an integer ``random_state``.
    X : array-like of shape (n_samples, n_features)
        Training inputs (only the number of features and one row are used).
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets (classifiers: used for the classes).
    classes : array-like, default=None
        All classes, for classifiers; default ``numpy.unique(y)``.

    Returns
    -------
    params : dict of str to ndarray
        ``{"W0", "b0", ...}`` of the initialisation.
    """
    if not isinstance(mlp.random_state, Integral):
        raise ValueError(
            "mlp.random_state must be an int to reproduce the initialisation, got "
            f"random_state={mlp.random_state!r}."
        )
    X = np.asarray(X, dtype=np.float64)
    probe = clone(mlp).set_params(
        solver="sgd", learning_rate_init=1e-300, momentum=0.0, alpha=0.0
    )
    _partial_fit(probe, X[:1], np.asarray(y)[:1], _fit_kwargs(probe, y, classes))
    return sklearn_params(probe)


def _restore(est, mask, anchors):
    for key, m in mask.items():
        if not m.any():
            continue
        kind, k = key[0], int(key[1:])
        arr = est.coefs_[k] if kind == "W" else est.intercepts_[k]
        arr[m] = anchors[key][m]


def fit_with_fixed_weights(
    mlp,
    X,
    y,
    mask=None,
    *,
    anchors=None,
    n_epochs=10,
    classes=None,
    random_state=None,
):
    """Train a scikit-learn MLP while keeping masked weights fixed (TNA-PFN).

    A loop over ``partial_fit``: each call gets one minibatch (one optimiser
    step), after which the fixed entries are written back to their anchor
    values in place.

    Parameters
    ----------
    mlp : MLPClassifier or MLPRegressor
        A fresh estimator (then its own initialisation, from ``random_state``,
        is the starting point) or a fitted one (training continues from its
        current weights and optimiser state).  Not modified.  Use
        ``solver="sgd"`` or ``"adam"``; ``batch_size`` sets the minibatch size
        (``"auto"``: ``min(200, n_samples)``).
    X : array-like of shape (n_samples, n_features)
        Training inputs.
    y : array-like of shape (n_samples,)
        Targets.
    mask : dict of str to ndarray of bool, default=None
        ``True`` = fixed, as returned by :func:`fixed_weight_mask` (keys
        ``"W0", "b0", ...``; missing keys are free).  None trains normally.
    anchors : dict of str to ndarray, default=None
        Values of the fixed entries.  Default: the starting weights
        (initialisation of a fresh estimator, current weights of a fitted
        one).  Pass another model's initialisation (see
        :func:`sklearn_mlp_init_params`) to share anchors between models
        with different initialisations.
    n_epochs : int, default=10
        Passes over ``X``.
    classes : array-like, default=None
        All classes (classifiers); default ``numpy.unique(y)``.
    random_state : int, RandomState instance or None, default=None
        Minibatch order (and the estimator's seed if it has none).

    Returns
    -------
    est : estimator
        The trained estimator; ``est.coefs_[k][mask["W{k}"]]`` equals the
        anchors exactly.

    Notes
    -----
    *Relation to masked-gradient SGD.*  TNA-PFN updates
    ``theta <- theta - eta (m * grad L)`` with ``m = 1 - mask``.  The
    projection used here (take a normal step, then reset the fixed entries)
    gives identical iterates for every element-wise optimiser whose state
    for a free entry depends only on that entry's own gradients: plain SGD,
    SGD with (Nesterov) momentum and Adam, as implemented by scikit-learn.
    The gradient of a free entry is evaluated at the same point in both
    schemes, its momentum / second-moment buffers never see the fixed
    entries, and the L2 penalty ``alpha`` only adds ``alpha * theta`` to each
    entry's own gradient.  The fixed entries' own optimiser buffers are
    filled but never used.  The schemes differ only where an optimiser
    couples entries or acts outside the gradient: decoupled weight decay
    (AdamW) or a stale momentum when a mask changes between steps (then
    masked-gradient Adam/momentum keeps moving formerly free entries, the
    projection does not); see :func:`train_torch_with_fixed_weights`.

    For a fresh estimator with ``anchors`` different from its own
    initialisation, scikit-learn offers no public way to set the weights
    before its first step: the first step's gradient is evaluated at the
    estimator's own initialisation and the anchors are imposed from then on.
    """
    rng = check_random_state(random_state)
    if not isinstance(n_epochs, Integral) or n_epochs < 0:
        raise ValueError(f"n_epochs must be a non-negative int, got {n_epochs!r}.")
    fitted = is_sklearn_mlp(mlp)
    if fitted:
        est = copy.deepcopy(mlp)
        X = check_sklearn_X(est, X)
        start = sklearn_params(est)
    else:
        est = _with_int_seed(clone(mlp), rng)
        X = np.asarray(X, dtype=np.float64)
        start = sklearn_mlp_init_params(est, X, y, classes)
    y = np.asarray(y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and y have different numbers of samples: {X.shape[0]} and {y.shape[0]}."
        )
    shapes = {k: v.shape for k, v in start.items()}
    mask = {} if mask is None else _check_bool_mask(mask, shapes)
    anchors = (
        start
        if anchors is None
        else {**start, **_check_mask(anchors, shapes, "anchors")}
    )
    kwargs = _fit_kwargs(est, y, classes)
    n = X.shape[0]
    bs = min(200, n) if est.batch_size == "auto" else int(np.clip(est.batch_size, 1, n))
    if fitted:
        _restore(est, mask, anchors)
    for _ in range(n_epochs):
        order = rng.permutation(n)
        for s in range(0, n, bs):
            idx = order[s : s + bs]
            _partial_fit(est, X[idx], y[idx], kwargs)
            _restore(est, mask, anchors)
    return est


# ----------------------------------------------------------------------------
# torch
# ----------------------------------------------------------------------------


def mask_gradients(module, mask):
    """Register gradient hooks that zero the gradient of fixed entries.

    Parameters
    ----------
    module : torch.nn.Module
        The model.
    mask : dict of str to ndarray of bool
        ``True`` = fixed, keyed by ``named_parameters`` names (see
        :func:`fixed_weight_mask`).

    Returns
    -------
    handles : list
        Hook handles; call ``h.remove()`` on each to undo.

    Notes
    -----
    A zero gradient alone does not keep a weight fixed with ``weight_decay``
    (SGD adds ``wd * theta`` inside the optimiser, AdamW decays directly) or
    with a momentum buffer filled before the mask was applied;
    :func:`train_torch_with_fixed_weights` therefore also writes the anchors
    back after each step.
    """
    import torch

    params = dict(module.named_parameters())
    mask = _check_bool_mask(mask, {k: tuple(p.shape) for k, p in params.items()})
    handles = []
    for key, m in mask.items():
        if not m.any():
            continue
        p = params[key]
        free = torch.as_tensor(~m, dtype=p.dtype, device=p.device)
        handles.append(p.register_hook(lambda g, free=free: g * free))
    return handles


def train_torch_with_fixed_weights(
    module,
    X,
    y,
    mask=None,
    *,
    anchors=None,
    n_epochs=10,
    batch_size=64,
    lr=1e-3,
    optimizer="adam",
    momentum=0.0,
    weight_decay=0.0,
    loss="cross_entropy",
    random_state=None,
):
    """Train a PyTorch model with a gradient mask on the fixed weights.

    Parameters
    ----------
    module : torch.nn.Module
        Model; not modified (a deep copy is trained).
    X : array-like or torch.Tensor
        Inputs.
    y : array-like or torch.Tensor
        Class labels (``loss="cross_entropy"``) or targets (``"mse"``).
    mask : dict of str to ndarray of bool, default=None
        ``True`` = fixed, keyed by ``named_parameters`` names.
    anchors : dict of str to array, default=None
        Values of the fixed entries; default the module's current values.
        They are written into the copy before training.
    n_epochs, batch_size : int, default=10, 64
        Training length and minibatch size.
    lr, momentum, weight_decay : float
        Optimiser settings.
    optimizer : {"adam", "sgd"}, default="adam"
        ``torch.optim.Adam`` or ``torch.optim.SGD``.
    loss : {"cross_entropy", "mse"}, default="cross_entropy"
        Training loss.
    random_state : int or None, default=None
        Seed of the minibatch order.

    Returns
    -------
    trained : torch.nn.Module
        The trained copy, in eval mode.  Fixed entries equal the anchors
        exactly: gradients are masked with :func:`mask_gradients` and, to
        cover weight decay and stale optimiser state, the anchors are also
        written back after every step.
    """
    import torch

    if optimizer not in ("adam", "sgd"):
        raise ValueError(
            f"optimizer must be 'adam' or 'sgd', got optimizer={optimizer!r}."
        )
    if loss not in ("cross_entropy", "mse"):
        raise ValueError(f"loss must be 'cross_entropy' or 'mse', got loss={loss!r}.")
    from gaga.rebasin._models import torch_X

    model = copy.deepcopy(module)
    params = dict(model.named_parameters())
    shapes = {k: tuple(p.shape) for k, p in params.items()}
    mask = {} if mask is None else _check_bool_mask(mask, shapes)
    anchor_vals = {}
    for key, m in mask.items():
        src = (
            params[key].detach().clone()
            if anchors is None or key not in anchors
            else None
        )
        if src is None:
            val = _check_mask({key: anchors[key]}, shapes, "anchors")[key]
            src = torch.as_tensor(np.asarray(val), dtype=params[key].dtype)
        anchor_vals[key] = (torch.as_tensor(m, device=params[key].device), src)
    Xt = torch_X(model, X)
    yt = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    if loss == "cross_entropy":
        yt = yt.long()
        loss_fn = torch.nn.functional.cross_entropy
    else:
        yt = yt.to(Xt.dtype)
        loss_fn = torch.nn.functional.mse_loss

    def restore():
        with torch.no_grad():
            for key, (m, val) in anchor_vals.items():
                params[key][m] = val[m]

    restore()
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(
            model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay
        )
    handles = mask_gradients(model, mask) if mask else []
    gen = torch.Generator().manual_seed(
        int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    )
    model.train()
    try:
        n = Xt.shape[0]
        for _ in range(n_epochs):
            order = torch.randperm(n, generator=gen)
            for s in range(0, n, batch_size):
                idx = order[s : s + batch_size]
                opt.zero_grad()
                loss_fn(model(Xt[idx]), yt[idx]).backward()
                opt.step()
                restore()
    finally:
        for h in handles:
            h.remove()
    model.eval()
    return model
