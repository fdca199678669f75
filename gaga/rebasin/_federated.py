"""Small federated-learning simulations: FedAvg, FedPFN and FedPNU.

FedPFN and FedPNU are the federated variants of TNA-PFN (Li et al., arXiv
2402.01342).  No public code exists; the round rules below are our reading of
the paper (``docs/tna_pfn.md``, ``rebasin.md`` A.10):

* **FedAvg**: every round each client starts from the global weights, trains
  ``local_epochs`` epochs on its own data, and the server averages the client
  weights (weighted by client size).
* **FedPFN**: as FedAvg, but every client trains with the same anchor mask
  (:func:`fixed_weight_mask`, drawn once from ``random_state``); the fixed
  entries stay at the initialisation.  With ``redraw_mask=True`` the server
  draws a new mask every round and the anchors are the current global weights.
* **FedPNU** ("partial neuron update"): every round only a rotating subset of
  ``round((1 - ratio) * n)`` hidden units per layer is updated (their incoming
  weights); the others keep the current global weights.  Output layer and
  biases are always updated.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from gaga.rebasin._models import n_dense_layers, sklearn_params
from gaga.rebasin._sklearn import sklearn_mlp_with_params
from gaga.rebasin._tna import (
    _check_ratio,
    _fit_kwargs,
    _partial_fit,
    _with_int_seed,
    fit_with_fixed_weights,
    fixed_weight_mask,
    sklearn_mlp_init_params,
)

__all__ = ["biased_client_split", "federated_training"]


def biased_client_split(y, n_clients=2, bias=0.8, random_state=None):
    """Split sample indices into clients with label-skewed (non-IID) data.

    The classes are dealt round-robin to clients ("home client" of class
    ``c`` is ``c mod n_clients`` in the order of ``numpy.unique(y)``); every
    sample goes to its class's home client with probability ``bias`` and to a
    uniformly chosen other client otherwise.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    n_clients : int, default=2
        Number of clients (>= 2).
    bias : float in [0, 1], default=0.8
        Probability of the home client; ``1/n_clients`` is an IID split.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    clients : list of ndarray of int
        Sorted sample indices of each client.
    """
    y = np.asarray(y)
    if not isinstance(n_clients, Integral) or n_clients < 2:
        raise ValueError(f"n_clients must be an int >= 2, got n_clients={n_clients!r}.")
    if not isinstance(bias, Real) or not 0 <= bias <= 1:
        raise ValueError(f"bias must be in [0, 1], got bias={bias!r}.")
    rng = check_random_state(random_state)
    classes, codes = np.unique(y, return_inverse=True)
    home = codes % n_clients
    other = (home + rng.randint(1, n_clients, size=y.shape[0])) % n_clients
    assign = np.where(rng.random_sample(y.shape[0]) < bias, home, other)
    return [np.flatnonzero(assign == c) for c in range(n_clients)]


def _pnu_mask(params, perms, ratio, rnd):
    """FedPNU round mask: all hidden units fixed except a rotating window."""
    mask = {k: np.zeros(v.shape, dtype=bool) for k, v in params.items()}
    for k, perm in enumerate(perms):
        n = perm.size
        n_upd = max(1, int(round((1.0 - ratio) * n)))
        free = perm[(rnd * n_upd + np.arange(n_upd)) % n]
        fixed = np.ones(n, dtype=bool)
        fixed[free] = False
        mask[f"W{k}"][:, fixed] = True
    return mask


def federated_training(
    estimator,
    X,
    y,
    clients,
    *,
    method="fedavg",
    ratio=0.4,
    level="neuron",
    n_rounds=10,
    local_epochs=1,
    redraw_mask=False,
    X_test=None,
    y_test=None,
    random_state=None,
):
    """Simulate federated training of a scikit-learn MLP (FedAvg/FedPFN/FedPNU).

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        Unfitted template (``solver="sgd"`` is the classical FedAvg client).
        Its initialisation (from ``random_state``) is the common start and,
        for FedPFN, the anchor values.
    X : array-like of shape (n_samples, n_features)
        Training inputs of all clients.
    y : array-like of shape (n_samples,)
        Targets.
    clients : list of array-like of int
        Sample indices of each client (e.g. :func:`biased_client_split`).
    method : {"fedavg", "fedpfn", "fedpnu"}, default="fedavg"
        Round rule, see the module documentation.
    ratio : float in [0, 1), default=0.4
        FedPFN: fraction of fixed weights / units per hidden layer; FedPNU:
        fraction of hidden units *not* updated in a round.
    level : {"neuron", "weight"}, default="neuron"
        FedPFN mask granularity (:func:`fixed_weight_mask`).
    n_rounds : int, default=10
        Communication rounds.
    local_epochs : int, default=1
        Local epochs per client per round.
    redraw_mask : bool, default=False
        FedPFN: draw a new mask each round (anchors = current global weights).
    X_test, y_test : array-like, default=None
        If given, ``history["test_score"]`` records ``estimator.score`` of the
        global model after every round.
    random_state : int, RandomState instance or None, default=None
        Seed (initialisation, masks, minibatch order).

    Returns
    -------
    global_model : estimator
        The final global model (fitted).
    history : dict
        ``"round"`` (1..n_rounds), ``"test_score"`` (if test data given) and
        ``"client_sizes"``.

    Notes
    -----
    Each client round is :func:`fit_with_fixed_weights` on a copy of a server
    template whose weights are set to the global weights; the client's
    optimiser state is the template's (created by one initialisation step),
    i.e. it restarts every round, as in standard FedAvg.
    """
    if method not in ("fedavg", "fedpfn", "fedpnu"):
        raise ValueError(
            f"method must be 'fedavg', 'fedpfn' or 'fedpnu', got method={method!r}."
        )
    _check_ratio(ratio)
    rng = check_random_state(random_state)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    clients = [np.asarray(c, dtype=int) for c in clients]
    for i, c in enumerate(clients):
        if c.size == 0:
            raise ValueError(f"clients[{i}] is empty.")
        if c.min() < 0 or c.max() >= X.shape[0]:
            raise ValueError(f"clients[{i}] has indices outside [0, {X.shape[0]}).")
    est = _with_int_seed(clone(estimator), rng)
    kwargs = _fit_kwargs(est, y, None)
    init = sklearn_mlp_init_params(est, X, y, kwargs.get("classes"))
    template = clone(est)
    _partial_fit(template, X[:1], y[:1], kwargs)
    global_params = {k: v.copy() for k, v in init.items()}
    sizes = np.array([c.size for c in clients], dtype=np.float64)
    weights = sizes / sizes.sum()
    n_layers = n_dense_layers(init)
    mask_seed = int(rng.randint(np.iinfo(np.int32).max))
    if method == "fedpfn":
        mask = fixed_weight_mask(init, ratio, level, random_state=mask_seed)
        anchors = init
    perms = [rng.permutation(init[f"W{k}"].shape[1]) for k in range(n_layers - 1)]
    history = {"round": [], "client_sizes": sizes.astype(int).tolist()}
    if X_test is not None:
        history["test_score"] = []
    for rnd in range(n_rounds):
        if method == "fedavg":
            mask, anchors = None, None
        elif method == "fedpnu":
            mask = _pnu_mask(global_params, perms, ratio, rnd)
            anchors = global_params
        elif redraw_mask and rnd > 0:
            mask = fixed_weight_mask(init, ratio, level, random_state=mask_seed + rnd)
            anchors = global_params
        # aggregate client updates (deltas): entries no client changed stay
        # bit-for-bit equal to the global weights (anchors remain exact)
        new = {k: v.copy() for k, v in global_params.items()}
        for w, idx in zip(weights, clients):
            client = sklearn_mlp_with_params(template, global_params)
            client = fit_with_fixed_weights(
                client,
                X[idx],
                y[idx],
                mask,
                anchors=anchors,
                n_epochs=local_epochs,
                classes=kwargs.get("classes"),
                random_state=rng,
            )
            for k, v in sklearn_params(client).items():
                new[k] += w * (v - global_params[k])
        global_params = new
        history["round"].append(rnd + 1)
        if X_test is not None:
            model = sklearn_mlp_with_params(template, global_params)
            history["test_score"].append(float(model.score(X_test, y_test)))
    return sklearn_mlp_with_params(template, global_params), history
