"""Greedy cosine-similarity matching of MLPs (cheap baseline)."""

import time

import numpy as np
from scipy.optimize import linear_sum_assignment

from gaga.rebasin._matching import MatchingResult
from gaga.rebasin._spec import _layout

__all__ = ["cosine_matching"]


def cosine_matching(
    params_a,
    params_b,
    *,
    layout="in_out",
    weight_name="W{}",
    group_name="P{}",
    eps=1e-12,
):
    """Greedy front-to-back matching of MLP units by cosine similarity.

    For every hidden layer in turn, one linear assignment on the cosine
    similarity of the *incoming* weight vectors of A's and B's units, with the
    permutation of the previous layer already applied to B; biases are
    ignored (the Git Re-Basin baseline script).

    Parameters
    ----------
    params_a, params_b : dict of str to ndarray
        MLP parameters with weights ``weight_name.format(k)``.
    layout : {"in_out", "out_in"}, default="in_out"
        Weight layout (scikit-learn/flax or PyTorch).
    weight_name : str, default="W{}"
        Format string of the weight of layer ``k``.
    group_name : str, default="P{}"
        Format string of the group of hidden layer ``k`` (as in
        :func:`mlp_spec`).
    eps : float, default=1e-12
        Guards the norms of all-zero weight vectors.

    Returns
    -------
    perm : MatchingResult
        Index array per hidden-layer group.
    """
    t0 = time.perf_counter()
    lay = _layout(layout)
    n_layers = 0
    while weight_name.format(n_layers) in params_a:
        n_layers += 1
    if n_layers < 2:
        raise ValueError("cosine_matching needs an MLP with at least one hidden layer.")
    perm = MatchingResult()
    prev = None
    for k in range(n_layers - 1):
        name = weight_name.format(k)
        if name not in params_b:
            raise ValueError(f"params_b is missing parameter {name!r}.")
        wa = np.asarray(params_a[name], dtype=np.float64)
        wb = np.asarray(params_b[name], dtype=np.float64)
        if wa.shape != wb.shape:
            raise ValueError(
                f"parameter {name!r} has shapes {wa.shape} and {wb.shape}."
            )
        if lay == "in_out":
            wa, wb = wa.T, wb.T  # rows = units, columns = inputs
        if prev is not None:
            wb = wb[:, prev]
        na = wa / (np.linalg.norm(wa, axis=1, keepdims=True) + eps)
        nb = wb / (np.linalg.norm(wb, axis=1, keepdims=True) + eps)
        _, cols = linear_sum_assignment(na @ nb.T, maximize=True)
        perm[group_name.format(k)] = cols
        prev = cols
    perm.n_iter = 1
    perm.converged = True
    perm.elapsed = time.perf_counter() - t0
    return perm
