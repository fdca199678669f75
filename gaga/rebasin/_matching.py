"""Applying permutations and weight matching (permutation coordinate descent)."""

import logging
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

from gaga.rebasin._spec import FlatAxis, PermutationSpec

__all__ = [
    "apply_permutation",
    "get_permuted_param",
    "identity_permutation",
    "random_permutation",
    "invert_permutation",
    "compose_permutations",
    "is_identity_permutation",
    "check_params",
    "weight_matching",
    "matching_objective",
    "MatchingResult",
]

logger = logging.getLogger("gaga.rebasin")


def _rng(random_state):
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    return np.random.default_rng(random_state)


def _check_spec(spec):
    if not isinstance(spec, PermutationSpec):
        raise ValueError(f"spec must be a PermutationSpec, got {type(spec).__name__}.")


def check_params(spec, params, name="params", finite=True):
    """Validate parameters against a spec and return float arrays and group sizes.

    Parameters
    ----------
    spec : PermutationSpec
        The spec.
    params : dict of str to array-like
        Parameters.
    name : str, default="params"
        Name used in error messages.
    finite : bool, default=True
        Whether to reject non-finite values.

    Returns
    -------
    arrays : dict of str to ndarray
        The parameters as numpy arrays.
    group_sizes : dict of str to int
        Size of every group.

    Raises
    ------
    ValueError
        If the parameters do not match the spec or contain non-finite values.
    """
    _check_spec(spec)
    if not isinstance(params, dict):
        raise ValueError(
            f"{name} must be a dict of arrays, got {type(params).__name__}."
        )
    arrays = {k: np.asarray(v) for k, v in params.items()}
    sizes = spec.check_params(arrays, name=name)
    if finite:
        for k, v in arrays.items():
            if v.dtype.kind in "fc" and not np.all(np.isfinite(v)):
                raise ValueError(f"{name}: parameter {k!r} has non-finite values.")
    return arrays, sizes


def identity_permutation(spec, params=None):
    """Identity permutation of every group.

    Parameters
    ----------
    spec : PermutationSpec
        The spec; its group sizes are used unless ``params`` is given.
    params : dict of str to ndarray, optional
        Parameters from which group sizes are read.

    Returns
    -------
    perm : dict of str to ndarray
        ``arange(n)`` for every group.
    """
    sizes = _sizes(spec, params)
    return {g: np.arange(n) for g, n in sizes.items()}


def _sizes(spec, params):
    _check_spec(spec)
    if params is not None:
        return spec.check_params({k: np.asarray(v) for k, v in params.items()})
    if any(n is None for n in spec.group_sizes.values()):
        raise ValueError(
            "the spec has no shapes; pass params to read the group sizes from."
        )
    return dict(spec.group_sizes)


def random_permutation(spec, random_state=None, params=None):
    """Uniformly random permutation of every group.

    Parameters
    ----------
    spec : PermutationSpec
        The spec.
    random_state : int, Generator or None, default=None
        Seed or generator.
    params : dict of str to ndarray, optional
        Parameters from which group sizes are read (needed if the spec has no
        shapes).

    Returns
    -------
    perm : dict of str to ndarray
        Index array per group.
    """
    rng = _rng(random_state)
    sizes = _sizes(spec, params)
    return {g: rng.permutation(n) for g, n in sizes.items()}


def invert_permutation(perm):
    """Inverse of a permutation dict.

    Parameters
    ----------
    perm : dict of str to ndarray
        Index array per group.

    Returns
    -------
    inverse : dict of str to ndarray
        ``q`` with ``q[p[i]] = i`` for every group.
    """
    out = {}
    for g, p in perm.items():
        p = np.asarray(p)
        q = np.empty_like(p)
        q[p] = np.arange(p.shape[0])
        out[g] = q
    return out


def compose_permutations(first, second):
    """Permutation equal to applying ``first`` and then ``second``.

    Parameters
    ----------
    first, second : dict of str to ndarray
        Index arrays per group.

    Returns
    -------
    perm : dict of str to ndarray
        ``first[g][second[g]]``: applying ``p`` then ``q`` gives
        ``x[p][q] = x[p[q]]``.
    """
    return {g: np.asarray(first[g])[np.asarray(second[g])] for g in first}


def is_identity_permutation(perm):
    """Whether every group of a permutation is the identity.

    Parameters
    ----------
    perm : dict of str to ndarray
        Index arrays per group.

    Returns
    -------
    bool
        True if ``perm[g] == arange(n)`` for every group.
    """
    return all(np.array_equal(np.asarray(p), np.arange(len(p))) for p in perm.values())


def _take(w, entry, p, axis):
    if isinstance(entry, FlatAxis):
        return np.take(w, entry.expand(p), axis=axis)
    return np.take(w, p, axis=axis)


def get_permuted_param(spec, perm, name, params, except_axis=None):
    """One parameter of ``params`` with the permutations of ``perm`` applied.

    Parameters
    ----------
    spec : PermutationSpec
        The spec.
    perm : dict of str to ndarray
        Index arrays per group.
    name : str
        Parameter name.
    params : dict of str to ndarray
        Parameters.
    except_axis : int, optional
        Axis to leave unpermuted.

    Returns
    -------
    w : ndarray
        The parameter with the permutations applied.
    """
    w = params[name]
    for axis, entry in enumerate(spec.axes_to_perm[name]):
        if entry is None or axis == except_axis:
            continue
        g = entry.group if isinstance(entry, FlatAxis) else entry
        w = _take(w, entry, perm[g], axis)
    return w


def apply_permutation(spec, perm, params):
    """Permute every parameter according to the spec.

    Parameters
    ----------
    spec : PermutationSpec
        The spec.
    perm : dict of str to ndarray
        Index array per group ("new unit ``i`` is old unit ``p[i]``").
    params : dict of str to array-like
        Parameters; not modified.

    Returns
    -------
    permuted : dict of str to ndarray
        New arrays (the input is not modified).

    Examples
    --------
    >>> import numpy as np
    >>> from gaga.rebasin import mlp_spec, apply_permutation
    >>> spec = mlp_spec([2, 3, 1], layout="in_out")
    >>> params = {"W0": np.arange(6.).reshape(2, 3), "b0": np.arange(3.),
    ...           "W1": np.arange(3.).reshape(3, 1), "b1": np.zeros(1)}
    >>> apply_permutation(spec, {"P0": np.array([2, 0, 1])}, params)["b0"]
    array([2., 0., 1.])
    """
    arrays, sizes = check_params(spec, params, finite=False)
    perm = spec.check_perm(perm, sizes)
    out = {}
    for name in arrays:
        w = get_permuted_param(spec, perm, name, arrays)
        out[name] = np.array(w, copy=True) if w is arrays[name] else w
    return out


def _group_blocks(spec, g, perm, params_a, params_b):
    """(A_k, B_k) pairs of the cost of group g (B permuted except along g)."""
    blocks = []
    for name, axis in spec.perm_to_axes[g]:
        entry = spec.axes_to_perm[name][axis]
        wa = params_a[name]
        wb = get_permuted_param(spec, perm, name, params_b, except_axis=axis)
        wa = np.moveaxis(wa, axis, 0)
        wb = np.moveaxis(wb, axis, 0)
        if isinstance(entry, FlatAxis):
            wa = entry.to_channels_first(wa)
            wb = entry.to_channels_first(wb)
        else:
            wa = wa.reshape(wa.shape[0], -1)
            wb = wb.reshape(wb.shape[0], -1)
        blocks.append((wa, wb))
    return blocks


def _group_cost(spec, g, n, perm, params_a, params_b, dtype):
    C = np.zeros((n, n), dtype=dtype)
    for wa, wb in _group_blocks(spec, g, perm, params_a, params_b):
        C += wa.astype(dtype, copy=False) @ wb.astype(dtype, copy=False).T
    return C


def matching_objective(spec, perm, params_a, params_b):
    """Inner product ``<theta_A, pi(theta_B)>`` summed over permuted parameters.

    Maximising it is equivalent to minimising ``||theta_A - pi(theta_B)||^2``.

    Parameters
    ----------
    spec : PermutationSpec
        The spec.
    perm : dict of str to ndarray
        Permutation of B.
    params_a, params_b : dict of str to ndarray
        Parameters.

    Returns
    -------
    value : float
        Value of the objective.
    """
    total = 0.0
    for name, axes in spec.axes_to_perm.items():
        if all(e is None for e in axes):
            continue
        wb = get_permuted_param(spec, perm, name, params_b)
        total += float(
            np.vdot(
                np.asarray(params_a[name], dtype=np.float64),
                np.asarray(wb, dtype=np.float64),
            )
        )
    return total


class MatchingResult(dict):
    """Permutation per group (a ``dict``) with diagnostics of the matching.

    Attributes
    ----------
    objective_trace : list of float
        :func:`matching_objective` at the start and after every sweep
        (non-decreasing).
    n_iter : int
        Number of sweeps performed.
    converged : bool
        Whether the last sweep made no progress (rather than hitting
        ``max_iter``).
    elapsed : float
        Wall time in seconds.
    """

    objective_trace = ()
    n_iter = 0
    converged = False
    elapsed = 0.0

    @property
    def objective(self):
        """Final objective value."""
        return self.objective_trace[-1] if self.objective_trace else float("nan")


def weight_matching(
    spec,
    params_a,
    params_b,
    *,
    max_iter=100,
    init_perm=None,
    random_state=None,
    tol=1e-12,
    n_init=1,
    dtype=np.float64,
    verbose=False,
):
    """Weight matching: permute B's units to maximise ``<theta_A, pi(theta_B)>``.

    Coordinate ascent over the permutation groups: each sweep visits the
    groups in a fresh random order and solves, for each, the linear
    assignment problem with cost ``C_g = sum_k A_k B_k^T`` (all other groups
    fixed) with ``scipy.optimize.linear_sum_assignment(maximize=True)``.  A
    group's permutation is changed only if it improves its cost by more than
    ``tol``, so the objective never decreases; the loop stops after the
    first sweep without improvement or after ``max_iter`` sweeps.

    Parameters
    ----------
    spec : PermutationSpec
        The spec shared by both models.
    params_a, params_b : dict of str to array-like
        Parameters of the reference model A and the model B to permute.
    max_iter : int, default=100
        Maximum number of sweeps.
    init_perm : dict of str to ndarray, optional
        Starting permutation (warm start); identity by default.
    random_state : int, Generator or None, default=None
        Seed for the group order (and the random starts of ``n_init > 1``).
    tol : float, default=1e-12
        Minimal improvement of a group's cost to count as progress.
    n_init : int, default=1
        Number of starts; the first starts from ``init_perm`` (or identity),
        the others from random permutations. The best objective wins.
    dtype : dtype, default=numpy.float64
        Dtype of the cost matrices (``float32`` halves their memory).
    verbose : bool, default=False
        Log the objective after every sweep (logger ``gaga.rebasin``).

    Returns
    -------
    perm : MatchingResult
        ``dict`` group -> index array, with ``objective_trace``, ``n_iter``,
        ``converged`` and ``elapsed``. Apply it with
        :func:`apply_permutation` to ``params_b``.

    Raises
    ------
    ValueError
        If the parameters do not match the spec, differ in shape between A
        and B, or are not finite.

    Notes
    -----
    A local method: exact recovery of planted permutations is guaranteed only
    for one hidden layer; use ``n_init`` for random restarts.

    References
    ----------
    .. [1] Ainsworth, Hayase, Srinivasa. "Git Re-Basin: Merging Models modulo
       Permutation Symmetries", ICLR 2023.
    """
    t0 = time.perf_counter()
    pa, sizes_a = check_params(spec, params_a, "params_a")
    pb, sizes_b = check_params(spec, params_b, "params_b")
    for k in pa:
        if pa[k].shape != pb[k].shape:
            raise ValueError(
                f"params_a and params_b differ in architecture: parameter {k!r} has "
                f"shapes {pa[k].shape} and {pb[k].shape}."
            )
    max_iter = int(max_iter)
    if max_iter < 0:
        raise ValueError(f"max_iter must be >= 0, got {max_iter}.")
    n_init = int(n_init)
    if n_init < 1:
        raise ValueError(f"n_init must be >= 1, got {n_init}.")
    rng = _rng(random_state)
    if init_perm is None:
        start = {g: np.arange(n) for g, n in sizes_a.items()}
    else:
        start = spec.check_perm(init_perm, sizes_a)
    best = None
    for run in range(n_init):
        if run == 0:
            perm = {g: np.array(p) for g, p in start.items()}
        else:
            perm = {g: rng.permutation(n) for g, n in sizes_a.items()}
        res = _wm_single(
            spec, pa, pb, perm, sizes_a, max_iter, rng, tol, dtype, verbose
        )
        if best is None or res.objective > best.objective:
            best = res
    best.elapsed = time.perf_counter() - t0
    return best


def _wm_single(spec, pa, pb, perm, sizes, max_iter, rng, tol, dtype, verbose):
    groups = list(sizes)
    trace = [matching_objective(spec, perm, pa, pb)]
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        progress = False
        for gi in rng.permutation(len(groups)):
            g = groups[gi]
            n = sizes[g]
            C = _group_cost(spec, g, n, perm, pa, pb, dtype)
            _, cols = linear_sum_assignment(C, maximize=True)
            rows = np.arange(n)
            old = float(C[rows, perm[g]].sum())
            new = float(C[rows, cols].sum())
            if new > old + tol:
                perm[g] = cols
                progress = True
        trace.append(matching_objective(spec, perm, pa, pb))
        if verbose:
            logger.info("weight_matching sweep %d: objective %.10g", it, trace[-1])
        if not progress:
            converged = True
            break
    res = MatchingResult(perm)
    res.objective_trace = trace
    res.n_iter = it
    res.converged = converged
    return res
