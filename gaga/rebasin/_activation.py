"""Activation matching with exact streaming statistics in float64."""

import time

import numpy as np
from scipy.optimize import linear_sum_assignment

from gaga.rebasin._matching import MatchingResult

__all__ = ["CrossStatistics", "activation_matching", "similarity_matrix"]

_SIMILARITIES = ("pearson", "covariance", "cross_moment")


def _as_units(a, channel_axis):
    a = np.asarray(a)
    if a.ndim < 2:
        raise ValueError(
            f"activations must have >= 2 dims (samples, units, ...), got "
            f"shape {a.shape}."
        )
    a = np.moveaxis(a, channel_axis, -1)
    return a.reshape(-1, a.shape[-1])


class CrossStatistics:
    """Exact streaming first and second moments of two sets of units.

    Accumulates, in float64, ``sum a``, ``sum b``, ``sum a^2``, ``sum b^2`` and
    ``sum a b^T`` over batches.

    Parameters
    ----------
    n_a, n_b : int
        Number of units of each model.

    Attributes
    ----------
    count : int
        Number of samples seen.
    """

    def __init__(self, n_a, n_b):
        self.n_a, self.n_b = int(n_a), int(n_b)
        self.count = 0
        self.sum_a = np.zeros(self.n_a)
        self.sum_b = np.zeros(self.n_b)
        self.sum_aa = np.zeros(self.n_a)
        self.sum_bb = np.zeros(self.n_b)
        self.sum_ab = np.zeros((self.n_a, self.n_b))

    def update(self, a, b):
        """Add a batch.

        Parameters
        ----------
        a : array-like of shape (n, n_a)
            Units of A.
        b : array-like of shape (n, n_b)
            Units of B on the same samples.

        Returns
        -------
        self : CrossStatistics
            The updated statistics.
        """
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
            raise ValueError(
                f"batches must be 2-D with equal numbers of samples, got {a.shape} "
                f"and {b.shape}."
            )
        if a.shape[1] != self.n_a or b.shape[1] != self.n_b:
            raise ValueError(
                f"expected {self.n_a} and {self.n_b} units, got {a.shape[1]} and "
                f"{b.shape[1]}."
            )
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            raise ValueError("activations contain non-finite values.")
        self.count += a.shape[0]
        self.sum_a += a.sum(0)
        self.sum_b += b.sum(0)
        self.sum_aa += np.einsum("ij,ij->j", a, a)
        self.sum_bb += np.einsum("ij,ij->j", b, b)
        self.sum_ab += a.T @ b
        return self

    @property
    def mean_a(self):
        """Mean of the units of A."""
        return self.sum_a / self.count

    @property
    def mean_b(self):
        """Mean of the units of B."""
        return self.sum_b / self.count

    @property
    def std_a(self):
        """Population standard deviation of the units of A."""
        return np.sqrt(np.maximum(self.sum_aa / self.count - self.mean_a**2, 0.0))

    @property
    def std_b(self):
        """Population standard deviation of the units of B."""
        return np.sqrt(np.maximum(self.sum_bb / self.count - self.mean_b**2, 0.0))

    def cross_moment(self):
        """Uncentred cross-moment.

        Returns
        -------
        ndarray of shape (n_a, n_b)
            ``E[a b^T]``.
        """
        return self.sum_ab / self.count

    def covariance(self):
        """Population covariance.

        Returns
        -------
        ndarray of shape (n_a, n_b)
            ``E[a b^T] - mu_a mu_b^T``.
        """
        return self.cross_moment() - np.outer(self.mean_a, self.mean_b)

    def pearson(self, eps=1e-8):
        """Pearson correlation.

        Parameters
        ----------
        eps : float, default=1e-8
            Added to ``sigma_a sigma_b``.

        Returns
        -------
        ndarray of shape (n_a, n_b)
            ``cov / (sigma_a sigma_b + eps)``, NaN (dead units) set to 0.
        """
        c = self.covariance() / (np.outer(self.std_a, self.std_b) + eps)
        return np.nan_to_num(c, nan=0.0, posinf=0.0, neginf=0.0)


def similarity_matrix(stats, similarity="pearson", eps=1e-8):
    """Similarity matrix of a :class:`CrossStatistics`.

    Parameters
    ----------
    stats : CrossStatistics
        Accumulated statistics.
    similarity : {"pearson", "covariance", "cross_moment"}, default="pearson"
        Pearson correlation (rethink, REPAIR), covariance, or uncentred
        cross-moment ``E[a b^T]`` (Git Re-Basin MLP, least-squares form).
    eps : float, default=1e-8
        Added to ``sigma_a sigma_b`` for the Pearson correlation.

    Returns
    -------
    S : ndarray of shape (n_a, n_b)
        Similarity of unit ``i`` of A and unit ``j`` of B.
    """
    if similarity == "pearson":
        return stats.pearson(eps)
    if similarity == "covariance":
        return stats.covariance()
    if similarity == "cross_moment":
        return stats.cross_moment()
    raise ValueError(f"similarity must be one of {_SIMILARITIES}, got {similarity!r}.")


def _iter_batches(acts):
    if isinstance(acts, dict):
        yield acts
        return
    if isinstance(acts, (list, tuple)) and acts and not isinstance(acts[0], dict):
        yield {f"P{i}": a for i, a in enumerate(acts)}
        return
    for batch in acts:
        if isinstance(batch, dict):
            yield batch
        else:
            yield {f"P{i}": a for i, a in enumerate(batch)}


def activation_matching(
    activations_a, activations_b, *, similarity="pearson", eps=1e-8, channel_axis=-1
):
    """Activation matching: one linear assignment per group on unit similarities.

    Parameters
    ----------
    activations_a, activations_b : dict, list or iterable
        Activations of models A and B on the same inputs: a ``dict`` mapping
        each group to an array ``(n_samples, n_units)`` (or ``(n_samples, C,
        H, W)``-like with the units on ``channel_axis``); a ``list`` of arrays
        (keys ``"P0", "P1", ...`` as in :func:`mlp_spec` and
        :func:`sklearn_mlp_activations`); or an iterable of such dicts/lists,
        one per batch (both iterables must yield matching batches).
        Statistics are accumulated exactly in float64 over batches.
    similarity : {"pearson", "covariance", "cross_moment"}, default="pearson"
        Similarity maximised by the assignment.
    eps : float, default=1e-8
        Regulariser of the Pearson denominator.
    channel_axis : int, default=-1
        Axis of the units in every activation array (1 for PyTorch conv
        activations ``(N, C, H, W)``); all other non-sample axes are samples.

    Returns
    -------
    perm : MatchingResult
        Index array per group: unit ``i`` of A is matched to unit ``p[i]`` of
        B, so :func:`apply_permutation` of B with it aligns B to A. The
        attribute ``similarities`` holds the similarity matrix per group.

    Raises
    ------
    ValueError
        On an unknown similarity, mismatched groups or sample counts, or
        non-finite activations.
    """
    if similarity not in _SIMILARITIES:
        raise ValueError(
            f"similarity must be one of {_SIMILARITIES}, got {similarity!r}."
        )
    t0 = time.perf_counter()
    stats = {}
    it_b = iter(_iter_batches(activations_b))
    n_batches = 0
    for batch_a in _iter_batches(activations_a):
        try:
            batch_b = next(it_b)
        except StopIteration:
            raise ValueError("activations_b has fewer batches than activations_a.")
        if set(batch_a) != set(batch_b):
            raise ValueError(
                f"activations of A and B have different groups: {sorted(batch_a)} vs "
                f"{sorted(batch_b)}."
            )
        for g in batch_a:
            a = _as_units(batch_a[g], channel_axis)
            b = _as_units(batch_b[g], channel_axis)
            if a.shape[1] != b.shape[1]:
                raise ValueError(
                    f"group {g!r}: A has {a.shape[1]} units and B has {b.shape[1]}."
                )
            if g not in stats:
                stats[g] = CrossStatistics(a.shape[1], b.shape[1])
            try:
                stats[g].update(a, b)
            except ValueError as exc:
                raise ValueError(f"group {g!r}: {exc}") from None
        n_batches += 1
    if next(it_b, None) is not None:
        raise ValueError("activations_b has more batches than activations_a.")
    if n_batches == 0:
        raise ValueError("no activations were given.")
    perm = MatchingResult()
    sims = {}
    for g, st in stats.items():
        S = similarity_matrix(st, similarity, eps)
        _, cols = linear_sum_assignment(S, maximize=True)
        perm[g] = cols
        sims[g] = S
    perm.similarities = sims
    perm.statistics = stats
    perm.n_iter = 1
    perm.converged = True
    perm.elapsed = time.perf_counter() - t0
    return perm
