"""Merging many models: MergeMany, reference and sequential matching."""

from dataclasses import dataclass, field

import numpy as np

from gaga.rebasin._interp import interpolate_many
from gaga.rebasin._matching import (
    _rng,
    apply_permutation,
    check_params,
    weight_matching,
)

__all__ = ["MergeResult", "merge_many"]


@dataclass
class MergeResult:
    """Result of :func:`merge_many`.

    Parameters
    ----------
    params : dict of str to ndarray
        The merged (weighted average of the permuted) parameters.
    permutations : list of dict
        Permutation applied to every input model.
    permuted : list of dict
        The permuted models.
    n_rounds : int
        Rounds performed (1 for reference/sequential).
    converged : bool
        Whether the iterative method reached a fixed point.
    history : list of float
        Weighted squared distance of the permuted models to their mean after
        every round (iterative method).
    """

    params: dict
    permutations: list
    permuted: list
    n_rounds: int = 1
    converged: bool = True
    history: list = field(default_factory=list)


def merge_many(
    spec,
    models,
    *,
    method="iterative",
    weights=None,
    max_iter=100,
    random_state=None,
    wm_max_iter=100,
):
    """Align many models to each other by weight matching and average them.

    Parameters
    ----------
    spec : PermutationSpec
        Spec shared by all models.
    models : sequence of dict
        Parameter dicts (at least two).
    method : {"iterative", "reference", "sequential"}, default="iterative"
        ``"iterative"`` (MergeMany): repeatedly, for every model in a random
        order, weight-match it to the weighted mean of the other (permuted)
        models, until a whole round changes no permutation.
        ``"reference"``: match every model to model 0. ``"sequential"``: match
        model ``i`` to the matched model ``i - 1``.
    weights : array-like, optional
        Averaging weights (uniform by default).
    max_iter : int, default=100
        Maximum rounds of the iterative method.
    random_state : int, Generator or None, default=None
        Seed of the visiting order and of the matchings.
    wm_max_iter : int, default=100
        ``max_iter`` of every weight matching.

    Returns
    -------
    result : MergeResult
        Merged parameters, permutations and diagnostics.
    """
    models = list(models)
    if len(models) < 2:
        raise ValueError("merge_many needs at least two models.")
    arrays = []
    for i, m in enumerate(models):
        a, _ = check_params(spec, m, f"models[{i}]")
        arrays.append(
            {
                k: np.asarray(v, dtype=np.float64) if v.dtype.kind in "fc" else v
                for k, v in a.items()
            }
        )
    for i, a in enumerate(arrays[1:], 1):
        for k in a:
            if a[k].shape != arrays[0][k].shape:
                raise ValueError(
                    f"models differ in architecture: parameter {k!r} has shape "
                    f"{arrays[0][k].shape} in models[0] and {a[k].shape} in "
                    f"models[{i}]."
                )
    K = len(arrays)
    w = np.full(K, 1.0 / K) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (K,) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"weights must be {K} non-negative numbers.")
    w = w / w.sum()
    rng = _rng(random_state)
    ident = {g: np.arange(n) for g, n in spec.check_params(arrays[0]).items()}
    perms = [dict(ident) for _ in range(K)]
    permuted = [dict(a) for a in arrays]
    n_rounds, converged, history = 1, True, []
    if method == "reference":
        for k in range(1, K):
            perms[k] = dict(
                weight_matching(
                    spec, arrays[0], arrays[k], max_iter=wm_max_iter, random_state=rng
                )
            )
            permuted[k] = apply_permutation(spec, perms[k], arrays[k])
    elif method == "sequential":
        for k in range(1, K):
            perms[k] = dict(
                weight_matching(
                    spec,
                    permuted[k - 1],
                    arrays[k],
                    max_iter=wm_max_iter,
                    random_state=rng,
                )
            )
            permuted[k] = apply_permutation(spec, perms[k], arrays[k])
    elif method == "iterative":
        converged = False
        n_rounds = 0
        for n_rounds in range(1, int(max_iter) + 1):
            changed = False
            for k in rng.permutation(K):
                others = [j for j in range(K) if j != k]
                target = interpolate_many([permuted[j] for j in others], w[others])
                new = weight_matching(
                    spec,
                    target,
                    arrays[k],
                    max_iter=wm_max_iter,
                    init_perm=perms[k],
                    random_state=rng,
                )
                new = {g: np.asarray(p) for g, p in new.items()}
                if any(not np.array_equal(new[g], perms[k][g]) for g in new):
                    changed = True
                    perms[k] = new
                    permuted[k] = apply_permutation(spec, new, arrays[k])
            mean = interpolate_many(permuted, w)
            history.append(
                float(
                    sum(
                        wk
                        * sum(
                            np.sum((p[n] - mean[n]) ** 2)
                            for n in mean
                            if mean[n].dtype.kind in "fc"
                        )
                        for wk, p in zip(w, permuted)
                    )
                )
            )
            if not changed:
                converged = True
                break
    else:
        raise ValueError(
            f"method must be 'iterative', 'reference' or 'sequential', got {method!r}."
        )
    merged = interpolate_many(permuted, w)
    return MergeResult(merged, perms, permuted, n_rounds, converged, history)
