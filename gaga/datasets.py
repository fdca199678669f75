"""Data for examples, benchmarks and the command line: bundled sets, CSV files, noise.

Noise follows the self-paced learning experiments: *outliers* in the targets for
regression, and *label flips near the decision boundary* for classification (the hard,
realistic kind of label noise: mislabelled samples are the ambiguous ones).
"""

import numbers
import os

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["BUNDLED", "add_outliers", "flip_labels", "inject_noise", "load_data"]

#: Bundled scikit-learn datasets known to :func:`load_data`, with their task.
BUNDLED = {
    "diabetes": "regression",
    "breast_cancer": "classification",
}


def _check_fraction(noise):
    if (
        isinstance(noise, bool)
        or not isinstance(noise, numbers.Real)
        or not 0.0 <= noise < 1.0
    ):
        raise ValueError(f"noise={noise!r} must be a real number in [0, 1).")
    return float(noise)


def add_outliers(y, noise, *, scale=5.0, random_state=None):
    """Turn a fraction of regression targets into outliers.

    ``round(noise * n_samples)`` samples drawn without replacement get
    ``y_i + s_i * u_i * scale * std(y)`` with a random sign ``s_i`` and ``u_i``
    uniform in ``[1, 2]``, so every outlier lies at least ``scale`` standard deviations
    away.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Targets.
    noise : float in [0, 1)
        Fraction of outliers.
    scale : float, default=5.0
        Minimal size of an outlier in standard deviations of ``y``.
    random_state : int, RandomState instance or None, default=None
        Seed or generator of the random choices.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The noisy targets or labels.
    noisy : ndarray of shape (n_samples,) of bool
        Which samples were changed.
    """
    noise = _check_fraction(noise)
    y = np.asarray(y, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-d; got shape {y.shape}.")
    rng = check_random_state(random_state)
    n = y.shape[0]
    m = int(round(noise * n))
    noisy = np.zeros(n, dtype=bool)
    out = y.copy()
    if m == 0:
        return out, noisy
    idx = rng.choice(n, size=m, replace=False)
    sd = float(np.std(y)) or 1.0
    sign = rng.choice([-1.0, 1.0], size=m)
    out[idx] += sign * rng.uniform(1.0, 2.0, size=m) * scale * sd
    noisy[idx] = True
    return out, noisy


def flip_labels(X, y, noise, *, pool=2.0, random_state=None):
    """Flip a fraction of class labels among the samples closest to the boundary.

    A :class:`sklearn.svm.LinearSVC` is fitted on ``(X, y)``; samples are ranked by
    their margin (``|decision_function|`` for two classes; the gap between the two best
    class scores otherwise). ``m = round(noise * n_samples)`` samples are drawn at
    random among the ``ceil(pool * m)`` samples with the smallest margin, and each gets
    the other class (for more than two classes: its runner-up class).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features (for the linear SVM's margins).
    y : array-like of shape (n_samples,)
        Class labels (at least two classes).
    noise : float in [0, 1)
        Fraction of flipped labels.
    pool : float, default=2.0
        Size of the candidate pool relative to the number of flips (>= 1).
    random_state : int, RandomState instance or None, default=None
        Seed or generator of the random choices.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The noisy targets or labels.
    noisy : ndarray of shape (n_samples,) of bool
        Which labels were flipped.
    """
    from sklearn.svm import LinearSVC

    noise = _check_fraction(noise)
    if not (isinstance(pool, numbers.Real) and pool >= 1.0):
        raise ValueError(f"pool={pool!r} must be a real number >= 1.")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(
            "X must be 2-d and y 1-d with as many samples; got "
            f"{X.shape} and {y.shape}."
        )
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError("y must contain at least two classes to flip labels.")
    rng = check_random_state(random_state)
    n = y.shape[0]
    m = int(round(noise * n))
    noisy = np.zeros(n, dtype=bool)
    out = y.copy()
    if m == 0:
        return out, noisy
    svc = LinearSVC(dual="auto", max_iter=20000, random_state=0).fit(X, y)
    d = svc.decision_function(X)
    if d.ndim == 1:
        margin = np.abs(d)
        other = np.where(y == classes[1], classes[0], classes[1])
    else:
        order = np.argsort(d, axis=1)
        rows = np.arange(n)
        margin = d[rows, order[:, -1]] - d[rows, order[:, -2]]
        top, second = svc.classes_[order[:, -1]], svc.classes_[order[:, -2]]
        other = np.where(y == top, second, top)
    k = min(n, int(np.ceil(pool * m)))
    candidates = np.argsort(margin, kind="stable")[:k]
    idx = rng.choice(candidates, size=m, replace=False)
    out[idx] = other[idx]
    noisy[idx] = True
    return out, noisy


def inject_noise(X, y, noise, *, task, random_state=None):
    """Noise of the self-paced experiments: outliers or label flips.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features.
    y : array-like of shape (n_samples,)
        Targets or labels.
    noise : float in [0, 1)
        Fraction of noisy samples.
    task : {"regression", "classification"}
        ``"regression"``: :func:`add_outliers`; ``"classification"``:
        :func:`flip_labels`.
    random_state : int, RandomState instance or None, default=None
        Seed or generator of the random choices.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The noisy targets or labels.
    noisy : ndarray of shape (n_samples,) of bool
        Which samples were changed.
    """
    if task == "regression":
        return add_outliers(y, noise, random_state=random_state)
    if task == "classification":
        return flip_labels(X, y, noise, random_state=random_state)
    raise ValueError(f"task={task!r} must be 'regression' or 'classification'.")


def load_data(data, *, label=None):
    """Load a bundled scikit-learn dataset or a CSV file with a label column.

    Parameters
    ----------
    data : str
        A name in :data:`BUNDLED` (``"diabetes"``, ``"breast_cancer"``) or the path of a
        CSV file with a header row and numeric feature columns.
    label : str, default=None
        Name of the target column of a CSV file (required for a file; not allowed for a
        bundled dataset).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Features.
    y : ndarray of shape (n_samples,)
        Targets (float) or labels (float or str).
    feature_names : list of str
        Names of the feature columns.
    """
    if data in BUNDLED:
        if label is not None:
            raise ValueError(
                f"--label is only for CSV files, not the bundled {data!r}."
            )
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{data}")()
        return (
            np.asarray(bunch.data, dtype=float),
            np.asarray(bunch.target),
            [str(f) for f in bunch.feature_names],
        )
    if not os.path.isfile(data):
        names = ", ".join(sorted(BUNDLED))
        raise ValueError(
            f"data={data!r} is neither a bundled dataset ({names}) nor an existing "
            "file."
        )
    if label is None:
        raise ValueError("a CSV file needs the name of its label column (--label).")
    import csv

    with open(data, newline="") as fh:
        rows = [r for r in csv.reader(fh) if r]
    if len(rows) < 3:
        raise ValueError(f"{data!r} needs a header row and at least two data rows.")
    header = [h.strip() for h in rows[0]]
    if label not in header:
        raise ValueError(f"label column {label!r} not in the header of {data!r}.")
    j = header.index(label)
    body = rows[1:]
    if any(len(r) != len(header) for r in body):
        raise ValueError(f"{data!r} has rows of different lengths.")
    y = np.array([r[j].strip() for r in body])
    try:
        y = y.astype(float)
    except ValueError:
        pass  # class labels given as strings
    cols = [k for k in range(len(header)) if k != j]
    try:
        X = np.array([[float(r[k]) for k in cols] for r in body])
    except ValueError as exc:
        raise ValueError(f"non-numeric feature value in {data!r}: {exc}") from None
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{data!r} contains missing or infinite feature values.")
    return X, y, [header[k] for k in cols]
