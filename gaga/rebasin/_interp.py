"""Interpolation between models and loss / accuracy barriers."""

from dataclasses import dataclass

import numpy as np

__all__ = [
    "interpolate",
    "interpolate_many",
    "slerp",
    "interpolate_homogeneous",
    "interpolation_curve",
    "InterpolationCurve",
    "barrier_sup_linear",
    "barrier_max_minus_endpoint_mean",
    "barrier_midpoint_minus_endpoint_mean",
]


def _check_pair(params_a, params_b):
    if not isinstance(params_a, dict) or not isinstance(params_b, dict):
        raise ValueError("params_a and params_b must be dicts of arrays.")
    if set(params_a) != set(params_b):
        raise ValueError(
            "models have different parameters: only in A "
            f"{sorted(set(params_a) - set(params_b))}, only in B "
            f"{sorted(set(params_b) - set(params_a))}."
        )
    out_a, out_b = {}, {}
    for k in params_a:
        a, b = np.asarray(params_a[k]), np.asarray(params_b[k])
        if a.shape != b.shape:
            raise ValueError(
                f"models differ in architecture: parameter {k!r} has shapes "
                f"{a.shape} and {b.shape}."
            )
        for nm, v in (("params_a", a), ("params_b", b)):
            if v.dtype.kind in "fc" and not np.all(np.isfinite(v)):
                raise ValueError(f"{nm}: parameter {k!r} has non-finite values.")
        out_a[k], out_b[k] = a, b
    return out_a, out_b


def _is_float(a):
    return a.dtype.kind in "fc"


def interpolate(params_a, params_b, lam):
    """Linear interpolation ``(1 - lam) theta_A + lam theta_B``.

    Parameters
    ----------
    params_a, params_b : dict of str to array-like
        Parameters with the same names and shapes.
    lam : float
        Interpolation coefficient (0 gives A, 1 gives B).

    Returns
    -------
    params : dict of str to ndarray
        Non-floating parameters (e.g. ``num_batches_tracked``) are taken from
        A for ``lam < 0.5`` and from B otherwise.

    Raises
    ------
    ValueError
        If names or shapes differ, or values are not finite.
    """
    a, b = _check_pair(params_a, params_b)
    lam = float(lam)
    out = {}
    for k in a:
        if _is_float(a[k]) and _is_float(b[k]):
            out[k] = (1.0 - lam) * a[k] + lam * b[k]
        else:
            out[k] = np.array(a[k] if lam < 0.5 else b[k], copy=True)
    return out


def interpolate_many(params_list, weights=None):
    """Weighted average of several parameter dicts.

    Parameters
    ----------
    params_list : sequence of dict
        Parameter dicts of identical structure.
    weights : array-like, optional
        Non-negative weights (normalised to sum 1); uniform by default.

    Returns
    -------
    params : dict of str to ndarray
        Non-floating parameters are taken from the first model.
    """
    params_list = list(params_list)
    if not params_list:
        raise ValueError("params_list is empty.")
    for p in params_list[1:]:
        _check_pair(params_list[0], p)
    k = len(params_list)
    w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (k,) or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError(f"weights must be {k} non-negative finite numbers.")
    w = w / w.sum()
    out = {}
    for name, v0 in params_list[0].items():
        v0 = np.asarray(v0)
        if _is_float(v0):
            out[name] = sum(wi * np.asarray(p[name]) for wi, p in zip(w, params_list))
        else:
            out[name] = np.array(v0, copy=True)
    return out


def slerp(params_a, params_b, lam, eps=1e-12):
    """Spherical interpolation of the whole (floating) parameter vector.

    Parameters
    ----------
    params_a, params_b : dict of str to array-like
        Parameters.
    lam : float
        Interpolation coefficient.
    eps : float, default=1e-12
        Below this angle, linear interpolation is used.

    Returns
    -------
    params : dict of str to ndarray
        The resulting parameters.
    """
    a, b = _check_pair(params_a, params_b)
    keys = [k for k in a if _is_float(a[k])]
    va = np.concatenate([a[k].ravel() for k in keys]).astype(np.float64)
    vb = np.concatenate([b[k].ravel() for k in keys]).astype(np.float64)
    na, nb = np.linalg.norm(va), np.linalg.norm(vb)
    if na == 0 or nb == 0:
        return interpolate(a, b, lam)
    cos = np.clip(va @ vb / (na * nb), -1.0, 1.0)
    omega = np.arccos(cos)
    if omega < eps:
        return interpolate(a, b, lam)
    s = np.sin(omega)
    v = (np.sin((1 - lam) * omega) * va + np.sin(lam * omega) * vb) / s
    out = interpolate(a, b, lam)
    i = 0
    for k in keys:
        m = a[k].size
        out[k] = v[i : i + m].reshape(a[k].shape).astype(a[k].dtype)
        i += m
    return out


def interpolate_homogeneous(params_a, params_b, lam, is_bias=None):
    """Interpolation respecting positive homogeneity (rethink "bias_norm").

    Parameters are walked in dict order with a counter ``h`` incremented at
    every non-bias (weight) parameter; weights are interpolated linearly and
    a bias uses the coefficients ``(1 - lam)^h`` and ``lam^h``.

    Parameters
    ----------
    params_a, params_b : dict of str to array-like
        Parameters (in forward order).
    lam : float
        Interpolation coefficient.
    is_bias : callable, optional
        ``is_bias(name) -> bool``; default: the name contains ``"bias"`` or
        starts with ``"b"`` followed by a digit.

    Returns
    -------
    params : dict of str to ndarray
        The resulting parameters.
    """
    a, b = _check_pair(params_a, params_b)
    if is_bias is None:

        def is_bias(name):
            last = name.rsplit(".", 1)[-1]
            return "bias" in name or (last[:1] == "b" and last[1:].isdigit())

    out = interpolate(a, b, lam)
    h = 0
    for k in a:
        if not _is_float(a[k]):
            continue
        if is_bias(k):
            out[k] = (1 - lam) ** h * a[k] + lam**h * b[k]
        else:
            h += 1
    return out


def _check_curve(lambdas, values):
    lam = np.asarray(lambdas, dtype=float)
    v = np.asarray(values, dtype=float)
    if lam.ndim != 1 or lam.shape != v.shape or lam.size < 2:
        raise ValueError("lambdas and values must be 1-D of equal length >= 2.")
    if not (np.isclose(lam.min(), 0.0) and np.isclose(lam.max(), 1.0)):
        raise ValueError("the grid of lambdas must include the endpoints 0 and 1.")
    i0, i1 = int(np.argmin(lam)), int(np.argmax(lam))
    return lam, v, v[i0], v[i1]


def barrier_sup_linear(lambdas, values, *, higher_is_better=False):
    """Barrier of the paper: largest excess over the straight line of the endpoints.

    ``sup_lam [L(lam) - ((1 - lam) L(0) + lam L(1))]`` for a loss;
    ``sup_lam [((1 - lam) A(0) + lam A(1)) - A(lam)]`` when
    ``higher_is_better`` (accuracy).

    Parameters
    ----------
    lambdas : array-like of shape (n_points,)
        Grid including 0 and 1.
    values : array-like of shape (n_points,)
        Loss (or accuracy) along the grid.
    higher_is_better : bool, default=False
        Whether ``values`` is a score rather than a loss.

    Returns
    -------
    barrier : float
        Non-negative when the grid contains the endpoints.

    See Also
    --------
    barrier_max_minus_endpoint_mean : The definition used in plots and tables.
    """
    lam, v, v0, v1 = _check_curve(lambdas, values)
    line = (1 - lam) * v0 + lam * v1
    d = line - v if higher_is_better else v - line
    return float(d.max())


def barrier_max_minus_endpoint_mean(lambdas, values, *, higher_is_better=False):
    """Barrier used in code for plots/tables: ``max L - (L(0) + L(1)) / 2``.

    For a score (``higher_is_better``): ``(A(0) + A(1)) / 2 - min A``. Equals
    :func:`barrier_sup_linear` when the endpoint values are equal.

    Parameters
    ----------
    lambdas : array-like of shape (n_points,)
        Grid including 0 and 1.
    values : array-like of shape (n_points,)
        Loss (or accuracy) along the grid.
    higher_is_better : bool, default=False
        Whether ``values`` is a score.

    Returns
    -------
    barrier : float
        The barrier.
    """
    lam, v, v0, v1 = _check_curve(lambdas, values)
    mean = 0.5 * (v0 + v1)
    return float(mean - v.min()) if higher_is_better else float(v.max() - mean)


def barrier_midpoint_minus_endpoint_mean(lambdas, values, *, higher_is_better=False):
    """Midpoint barrier: ``L(1/2) - (L(0) + L(1)) / 2`` (score: sign flipped).

    Parameters
    ----------
    lambdas : array-like of shape (n_points,)
        Grid including 0, 1/2 and 1.
    values : array-like of shape (n_points,)
        Loss (or accuracy) along the grid.
    higher_is_better : bool, default=False
        Whether ``values`` is a score.

    Returns
    -------
    barrier : float
        The barrier.
    """
    lam, v, v0, v1 = _check_curve(lambdas, values)
    mid = np.flatnonzero(np.isclose(lam, 0.5))
    if mid.size == 0:
        raise ValueError("the grid of lambdas must contain 0.5.")
    d = v[mid[0]] - 0.5 * (v0 + v1)
    return float(-d if higher_is_better else d)


@dataclass
class InterpolationCurve:
    """Loss and score along the linear path between two models.

    Parameters
    ----------
    lambdas : ndarray
        Grid in [0, 1].
    loss : ndarray
        Loss at every point.
    accuracy : ndarray
        Accuracy (classifiers) or other score at every point.
    """

    lambdas: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray

    def loss_barrier(self, definition="sup_linear"):
        """Loss barrier.

        Parameters
        ----------
        definition : {"sup_linear", "max_minus_mean", "midpoint"}
            :func:`barrier_sup_linear` (paper),
            :func:`barrier_max_minus_endpoint_mean` (plots/tables) or
            :func:`barrier_midpoint_minus_endpoint_mean`.

        Returns
        -------
        float
            The barrier.
        """
        return _BARRIERS[definition](self.lambdas, self.loss)

    def accuracy_barrier(self, definition="sup_linear"):
        """Accuracy barrier.

        Parameters
        ----------
        definition : {"sup_linear", "max_minus_mean", "midpoint"}
            As in :meth:`loss_barrier`, with the score's sign flipped.

        Returns
        -------
        float
            The barrier.
        """
        return _BARRIERS[definition](self.lambdas, self.accuracy, higher_is_better=True)

    def at(self, lam):
        """Values at the grid point closest to ``lam``.

        Parameters
        ----------
        lam : float
            Interpolation coefficient.

        Returns
        -------
        tuple of float
            ``(loss, accuracy)``.
        """
        i = int(np.argmin(np.abs(self.lambdas - lam)))
        return float(self.loss[i]), float(self.accuracy[i])


_BARRIERS = {
    "sup_linear": barrier_sup_linear,
    "max_minus_mean": barrier_max_minus_endpoint_mean,
    "midpoint": barrier_midpoint_minus_endpoint_mean,
}


def _sklearn_evaluator(model):
    from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score

    from gaga.rebasin._sklearn import sklearn_mlp_with_params

    is_clf = hasattr(model, "classes_")

    def evaluate(params, X, y):
        m = sklearn_mlp_with_params(model, params)
        if is_clf:
            proba = m.predict_proba(X)
            return (
                log_loss(y, proba, labels=m.classes_),
                accuracy_score(y, m.classes_[np.argmax(proba, axis=1)]),
            )
        pred = m.predict(X)
        return mean_squared_error(y, pred), r2_score(y, pred)

    return evaluate


def _as_params(model):
    if isinstance(model, dict):
        return model
    if hasattr(model, "coefs_"):
        from gaga.rebasin._sklearn import params_from_sklearn_mlp

        return params_from_sklearn_mlp(model)
    raise ValueError(
        f"models must be parameter dicts or fitted scikit-learn MLPs, got "
        f"{type(model).__name__}."
    )


def interpolation_curve(
    model_a, model_b, X, y, n_points=25, *, evaluate=None, lambdas=None, method="linear"
):
    """Loss and accuracy along the path between two models.

    Parameters
    ----------
    model_a, model_b : fitted MLPClassifier / MLPRegressor or dict of ndarray
        Endpoints. For scikit-learn MLPs the loss is the log-loss (classifier)
        or mean squared error (regressor) and the score is accuracy or R^2.
        For parameter dicts ``evaluate`` is required.
    X, y : array-like
        Evaluation data.
    n_points : int, default=25
        Number of evenly spaced points in [0, 1] (ignored if ``lambdas``).
    evaluate : callable, optional
        ``evaluate(params, X, y) -> (loss, score)``.
    lambdas : array-like, optional
        Custom grid (must include 0 and 1 for barriers).
    method : {"linear", "slerp", "homogeneous"}, default="linear"
        Interpolation: :func:`interpolate`, :func:`slerp` or
        :func:`interpolate_homogeneous`.

    Returns
    -------
    curve : InterpolationCurve
        Grid, losses and scores along the path.
    """
    pa, pb = _as_params(model_a), _as_params(model_b)
    if evaluate is None:
        if isinstance(model_a, dict):
            raise ValueError("evaluate is required for parameter-dict models.")
        evaluate = _sklearn_evaluator(model_a)
    if lambdas is None:
        n_points = int(n_points)
        if n_points < 2:
            raise ValueError(f"n_points must be >= 2, got {n_points}.")
        lambdas = np.linspace(0.0, 1.0, n_points)
    lambdas = np.asarray(lambdas, dtype=float)
    interp = {
        "linear": interpolate,
        "slerp": slerp,
        "homogeneous": interpolate_homogeneous,
    }.get(method)
    if interp is None:
        raise ValueError(f"unknown method {method!r} (linear, slerp, homogeneous).")
    _check_pair(pa, pb)
    losses, scores = [], []
    for lam in lambdas:
        lo, sc = evaluate(interp(pa, pb, lam), X, y)
        losses.append(float(lo))
        scores.append(float(sc))
    return InterpolationCurve(lambdas, np.array(losses), np.array(scores))
