"""Adapters between fitted scikit-learn MLPs and ``dict[str, ndarray]`` parameters.

The scikit-learn layout is ``coefs_[k]`` of shape ``(n_in, n_out)`` and
``intercepts_[k]`` of shape ``(n_out,)``.  Parameters are exposed as
``{"W0": coefs_[0], "b0": intercepts_[0], "W1": ..., ...}`` (float64 copies).
"""

import copy

import numpy as np

__all__ = [
    "params_from_sklearn_mlp",
    "sklearn_mlp_with_params",
    "sklearn_mlp_activations",
    "sklearn_mlp_forward",
    "spec_from_sklearn_mlp",
]


def _check_fitted_mlp(mlp):
    if not (hasattr(mlp, "coefs_") and hasattr(mlp, "intercepts_")):
        raise ValueError(
            f"{type(mlp).__name__} is not a fitted scikit-learn MLP (no coefs_ / "
            "intercepts_); call fit first."
        )
    if len(mlp.coefs_) != len(mlp.intercepts_):
        raise ValueError("coefs_ and intercepts_ have different lengths.")


def params_from_sklearn_mlp(mlp):
    """Extract the parameters of a fitted scikit-learn MLP.

    Parameters
    ----------
    mlp : MLPClassifier or MLPRegressor
        A fitted estimator.

    Returns
    -------
    params : dict of str to ndarray
        ``"W{k}"`` is a float64 copy of ``mlp.coefs_[k]`` with shape
        ``(n_in, n_out)``; ``"b{k}"`` a float64 copy of ``mlp.intercepts_[k]``.
    """
    _check_fitted_mlp(mlp)
    params = {}
    for k, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        params[f"W{k}"] = np.array(w, dtype=np.float64, copy=True)
        params[f"b{k}"] = np.array(b, dtype=np.float64, copy=True)
    return params


def sklearn_mlp_with_params(mlp, params):
    """Return a deep copy of a fitted MLP with its weights replaced.

    Parameters
    ----------
    mlp : MLPClassifier or MLPRegressor
        A fitted estimator; it is not modified.
    params : dict of str to ndarray
        Parameters as returned by :func:`params_from_sklearn_mlp`.

    Returns
    -------
    new_mlp : estimator
        A fitted copy of ``mlp`` whose ``coefs_`` / ``intercepts_`` are copies
        of ``params`` (cast to the dtype of the original arrays).

    Raises
    ------
    ValueError
        If a key is missing or unexpected, a shape differs, or a value is not
        finite.
    """
    _check_fitted_mlp(mlp)
    n_layers = len(mlp.coefs_)
    expected = {f"W{k}" for k in range(n_layers)} | {f"b{k}" for k in range(n_layers)}
    missing = sorted(expected - set(params))
    extra = sorted(set(params) - expected)
    if missing:
        raise ValueError(f"params is missing parameter(s) {missing} for this MLP.")
    if extra:
        raise ValueError(f"params has unexpected parameter(s) {extra} for this MLP.")
    coefs, intercepts = [], []
    for k in range(n_layers):
        for name, ref, out in (
            (f"W{k}", mlp.coefs_[k], coefs),
            (f"b{k}", mlp.intercepts_[k], intercepts),
        ):
            arr = np.asarray(params[name])
            if arr.shape != ref.shape:
                raise ValueError(
                    f"parameter {name!r} has shape {arr.shape}, expected {ref.shape}."
                )
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"parameter {name!r} has non-finite values.")
            out.append(np.array(arr, dtype=ref.dtype, copy=True))
    new = copy.deepcopy(mlp)
    new.coefs_ = coefs
    new.intercepts_ = intercepts
    return new


_ACTIVATIONS = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "logistic": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
}


def _activation(name):
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unsupported activation {name!r}; expected one of {sorted(_ACTIVATIONS)}."
        ) from None


def sklearn_mlp_activations(mlp, X, *, pre_activation=False):
    """Hidden-layer activations of a fitted scikit-learn MLP.

    Parameters
    ----------
    mlp : MLPClassifier or MLPRegressor
        A fitted estimator.
    X : array-like of shape (n_samples, n_features)
        Inputs.
    pre_activation : bool, default=False
        If True return ``X W + b`` of each hidden layer (before the
        non-linearity); otherwise the post-activation values, using
        ``mlp.activation``.

    Returns
    -------
    activations : list of ndarray
        One float64 array of shape ``(n_samples, width)`` per hidden layer.
    """
    _check_fitted_mlp(mlp)
    act = _activation(mlp.activation)
    h = np.asarray(X, dtype=np.float64)
    if h.ndim != 2 or h.shape[1] != mlp.coefs_[0].shape[0]:
        raise ValueError(
            f"X has shape {h.shape}, expected (n_samples, {mlp.coefs_[0].shape[0]})."
        )
    out = []
    for w, b in zip(mlp.coefs_[:-1], mlp.intercepts_[:-1]):
        z = h @ np.asarray(w, dtype=np.float64) + np.asarray(b, dtype=np.float64)
        h = act(z)
        out.append(z if pre_activation else h)
    return out


def sklearn_mlp_forward(params, X, activation="relu"):
    """Output-layer pre-activations (logits) of an MLP in scikit-learn layout.

    Parameters
    ----------
    params : dict of str to ndarray
        ``"W0", "b0", ...`` as returned by :func:`params_from_sklearn_mlp`.
    X : array-like of shape (n_samples, n_features)
        Inputs.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden-layer non-linearity.

    Returns
    -------
    logits : ndarray of shape (n_samples, n_outputs)
        Output of the last linear layer (no output activation).
    """
    act = _activation(activation)
    n_layers = 0
    while f"W{n_layers}" in params:
        n_layers += 1
    if n_layers == 0:
        raise ValueError("params has no parameter 'W0'.")
    h = np.asarray(X, dtype=np.float64)
    for k in range(n_layers):
        h = h @ params[f"W{k}"] + params[f"b{k}"]
        if k < n_layers - 1:
            h = act(h)
    return h


def spec_from_sklearn_mlp(mlp):
    """Permutation spec of a fitted scikit-learn MLP.

    Parameters
    ----------
    mlp : MLPClassifier or MLPRegressor
        A fitted estimator.

    Returns
    -------
    spec : PermutationSpec
        Groups ``"P0", "P1", ...`` (one per hidden layer) over the parameters
        of :func:`params_from_sklearn_mlp` (layout ``"in_out"``).
    """
    from gaga.rebasin._spec import mlp_spec

    _check_fitted_mlp(mlp)
    sizes = [mlp.coefs_[0].shape[0]] + [w.shape[1] for w in mlp.coefs_]
    return mlp_spec(sizes, layout="in_out", weight_name="W{}", bias_name="b{}")
