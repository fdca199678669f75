"""Straight-through estimator (STE) matching and a numpy MLP forward/backward."""

import time

import numpy as np

from gaga.rebasin._matching import (
    MatchingResult,
    _rng,
    apply_permutation,
    check_params,
    weight_matching,
)

__all__ = ["mlp_loss_and_grad", "ste_matching"]


def _n_layers(params):
    n = 0
    while f"W{n}" in params:
        n += 1
    if n == 0:
        raise ValueError("params has no parameter 'W0' (keys W0, b0, W1, ...).")
    return n


def mlp_loss_and_grad(params, X, y, *, activation="relu", loss="cross_entropy"):
    """Loss and gradient of an MLP in scikit-learn layout (numpy backprop).

    Parameters
    ----------
    params : dict of str to ndarray
        ``"W{k}"`` of shape ``(n_in, n_out)`` and ``"b{k}"``.
    X : ndarray of shape (n_samples, n_features)
        Inputs.
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Integer class labels for ``"cross_entropy"``; targets for
        ``"squared_error"``.
    activation : {"relu", "tanh", "identity"}, default="relu"
        Hidden non-linearity.
    loss : {"cross_entropy", "squared_error"}, default="cross_entropy"
        Mean softmax cross-entropy, or half mean squared error (summed over
        outputs) as in scikit-learn's ``MLPRegressor``.

    Returns
    -------
    value : float
        Mean loss.
    grads : dict of str to ndarray
        Gradient with respect to every parameter.
    """
    L = _n_layers(params)
    X = np.asarray(X, dtype=np.float64)
    hs = [X]
    zs = []
    h = X
    for k in range(L):
        z = h @ params[f"W{k}"] + params[f"b{k}"]
        zs.append(z)
        if k < L - 1:
            if activation == "relu":
                h = np.maximum(z, 0.0)
            elif activation == "tanh":
                h = np.tanh(z)
            elif activation == "identity":
                h = z
            else:
                raise ValueError(f"unsupported activation {activation!r}.")
            hs.append(h)
    out = zs[-1]
    n = X.shape[0]
    if loss == "cross_entropy":
        y = np.asarray(y).astype(np.intp).ravel()
        m = out.max(axis=1, keepdims=True)
        logz = np.log(np.exp(out - m).sum(axis=1, keepdims=True)) + m
        value = float(np.mean(logz[:, 0] - out[np.arange(n), y]))
        delta = np.exp(out - logz)
        delta[np.arange(n), y] -= 1.0
        delta /= n
    elif loss == "squared_error":
        y = np.asarray(y, dtype=np.float64).reshape(out.shape)
        r = out - y
        value = float(0.5 * np.mean(np.sum(r * r, axis=1)))
        delta = r / n
    else:
        raise ValueError(f"loss must be cross_entropy or squared_error, not {loss!r}.")
    grads = {}
    for k in range(L - 1, -1, -1):
        grads[f"W{k}"] = hs[k].T @ delta
        grads[f"b{k}"] = delta.sum(axis=0)
        if k > 0:
            delta = delta @ params[f"W{k}"].T
            if activation == "relu":
                delta = delta * (zs[k - 1] > 0)
            elif activation == "tanh":
                delta = delta * (1.0 - hs[k] ** 2)
    return value, grads


def ste_matching(
    spec,
    params_a,
    params_b,
    X,
    y,
    *,
    loss_and_grad=None,
    n_epochs=10,
    batch_size=256,
    learning_rate=1e-2,
    momentum=0.9,
    max_iter=100,
    selection="epoch",
    random_state=None,
    activation="relu",
    loss="cross_entropy",
):
    """Straight-through estimator matching (Git Re-Basin "STEv2").

    Free parameters ``theta~`` start at ``theta_A``. For every minibatch:
    ``pi <- weight_matching(theta~, theta_B)`` (warm-started from the previous
    ``pi``), ``theta^ = pi(theta_B)``, loss ``L(0.5 (theta_A + theta^))`` with
    its gradient passed straight through ``theta^`` to ``theta~``, and one SGD
    step with momentum on ``theta~``.

    Parameters
    ----------
    spec : PermutationSpec
        Spec of both models.
    params_a, params_b : dict of str to ndarray
        Parameters of A (reference) and B (permuted).
    X, y : ndarray
        Training data for the midpoint loss.
    loss_and_grad : callable, optional
        ``loss_and_grad(params, X_batch, y_batch) -> (float, dict of grads)``.
        Defaults to :func:`mlp_loss_and_grad` (numpy backprop for MLPs in
        scikit-learn layout, keys ``W{k}``/``b{k}``); for PyTorch models use
        :func:`gaga.rebasin.torch.torch_loss_and_grad` (autograd).
    n_epochs : int, default=10
        Passes over the data.
    batch_size : int, default=256
        Minibatch size.
    learning_rate : float, default=1e-2
        SGD learning rate.
    momentum : float, default=0.9
        SGD momentum.
    max_iter : int, default=100
        ``max_iter`` of every inner weight matching.
    selection : {"epoch", "batch"}, default="epoch"
        How the returned permutation is chosen: ``"epoch"`` evaluates the
        midpoint loss on all of ``(X, y)`` for the start (plain weight
        matching) and after every epoch and keeps the best; ``"batch"`` keeps
        the permutation with the lowest minibatch loss (Git Re-Basin).
    random_state : int, Generator or None, default=None
        Seed for the minibatch order and the matching.
    activation, loss : str
        Passed to the default :func:`mlp_loss_and_grad`.

    Returns
    -------
    perm : MatchingResult
        Best permutation of B; ``loss_trace`` holds the minibatch midpoint
        losses, ``selection_losses`` the full-data losses of the candidates
        (``selection="epoch"``), ``n_iter`` the number of SGD steps.
    """
    t0 = time.perf_counter()
    pa, _ = check_params(spec, params_a, "params_a")
    pb, _ = check_params(spec, params_b, "params_b")
    pa = {k: np.asarray(v, dtype=np.float64) for k, v in pa.items()}
    pb = {k: np.asarray(v, dtype=np.float64) for k, v in pb.items()}
    if selection not in ("epoch", "batch"):
        raise ValueError(f"selection must be 'epoch' or 'batch', got {selection!r}.")
    if loss_and_grad is None:

        def loss_and_grad(p, Xb, yb):
            return mlp_loss_and_grad(p, Xb, yb, activation=activation, loss=loss)

    X = np.asarray(X)
    y = np.asarray(y)
    n = X.shape[0]
    if n == 0 or y.shape[0] != n:
        raise ValueError(f"X and y need the same non-zero length, got {n}, {len(y)}.")
    batch_size = int(min(max(1, batch_size), n))
    rng = _rng(random_state)

    def midpoint(perm):
        hat = apply_permutation(spec, perm, pb)
        return {k: 0.5 * (pa[k] + hat[k]) for k in pa}

    tilde = {k: v.copy() for k, v in pa.items()}
    vel = {k: np.zeros_like(v) for k, v in pa.items()}
    perm = weight_matching(spec, tilde, pb, max_iter=max_iter, random_state=rng)
    perm = {g: np.asarray(p) for g, p in perm.items()}
    best_perm, best_loss = dict(perm), np.inf
    sel_losses = []
    if selection == "epoch":
        best_loss = loss_and_grad(midpoint(perm), X, y)[0]
        sel_losses.append(best_loss)
    trace = []
    steps = 0
    for _ in range(int(n_epochs)):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            perm = weight_matching(
                spec, tilde, pb, max_iter=max_iter, init_perm=perm, random_state=rng
            )
            perm = {g: np.asarray(p) for g, p in perm.items()}
            hat = apply_permutation(spec, perm, pb)
            mid = {k: 0.5 * (pa[k] + hat[k]) for k in pa}
            value, grads = loss_and_grad(mid, X[idx], y[idx])
            trace.append(value)
            if selection == "batch" and value < best_loss:
                best_loss, best_perm = value, dict(perm)
            for k in tilde:
                g = grads.get(k)
                if g is None:
                    continue
                vel[k] = momentum * vel[k] + 0.5 * np.asarray(g, dtype=np.float64)
                tilde[k] = tilde[k] - learning_rate * vel[k]
            steps += 1
        if selection == "epoch":
            perm = weight_matching(
                spec, tilde, pb, max_iter=max_iter, init_perm=perm, random_state=rng
            )
            perm = {g: np.asarray(p) for g, p in perm.items()}
            value = loss_and_grad(midpoint(perm), X, y)[0]
            sel_losses.append(value)
            if value < best_loss:
                best_loss, best_perm = value, dict(perm)
    res = MatchingResult(best_perm)
    res.loss_trace = trace
    res.selection_losses = sel_losses
    res.best_loss = best_loss
    res.n_iter = steps
    res.converged = True
    res.elapsed = time.perf_counter() - t0
    return res
