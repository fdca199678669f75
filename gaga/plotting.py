"""Plots of age paths and of the cross-validated age (scikit-learn's Display pattern).

matplotlib is an optional dependency (``pip install gaga[plot]``); it is imported only
when a display is plotted. Displays draw on their own axes and never change global
matplotlib state.
"""

import numpy as np

__all__ = ["AgePathDisplay", "CVAgeDisplay"]

_KINDS = ("coef", "weights", "objective")


def _check_matplotlib(caller):
    """Import :mod:`matplotlib.pyplot` or raise an ImportError naming the extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib. Install it with `pip install gaga[plot]` "
            "(or `pip install matplotlib`)."
        ) from exc
    return plt


def _is_svm(path):
    return getattr(getattr(path, "problem", None), "kind", None) == "svm"


def _evaluate(path, kind, ages):
    if kind == "coef":
        # an SVM path's coefficients are its dual coefficients y_i a_i (any kernel)
        values = path.dual_coef(ages) if _is_svm(path) else path.coef(ages)
        return np.asarray(values, dtype=float).reshape(len(ages), -1)
    if kind == "weights":
        return np.asarray(path.weights(ages), dtype=float).reshape(len(ages), -1)
    return np.asarray(path.objective(ages), dtype=float).reshape(len(ages), 1)


def _dense_curves(path, kind, n_points):
    """Exact values on a grid made of the knots, the events and ``n_points`` ages.

    At each jump the left limit is added just before the jump age, followed by a row of
    NaN, so that a line is broken there instead of joining both sides.
    """
    lo, hi = path.age_min, path.age_max
    base = np.geomspace(lo, hi, n_points) if lo > 0 else np.linspace(lo, hi, n_points)
    grid = np.concatenate([base, np.asarray(path.knots, float), path.breakpoints])
    grid = np.unique(np.clip(grid, lo, hi))
    values = _evaluate(path, kind, grid)
    jump_ages = np.unique([e.age for e in path.jumps])
    jump_ages = jump_ages[(jump_ages > lo) & (jump_ages <= hi)]
    if jump_ages.size == 0:
        return grid, values, jump_ages
    # left limits: a hair before each jump, inside the segment that ends there
    below = np.searchsorted(grid, jump_ages, side="left") - 1
    prev = grid[np.maximum(below, 0)]
    eps = 1e-9 * np.maximum(1.0, np.abs(jump_ages))
    left = np.maximum(jump_ages - eps, 0.5 * (prev + jump_ages))
    left_vals = _evaluate(path, kind, left)
    ages_out, vals_out = [], []
    start = 0
    for a, la, lv in zip(jump_ages, left, left_vals):
        stop = int(np.searchsorted(grid, a, side="left"))
        ages_out += [grid[start:stop], [la, a]]
        vals_out += [
            values[start:stop],
            lv[None],
            np.full((1, values.shape[1]), np.nan),
        ]
        start = stop
    ages_out.append(grid[start:])
    vals_out.append(values[start:])
    # the NaN row sits at the jump age itself, between the left limit and the post value
    return np.concatenate(ages_out), np.concatenate(vals_out), jump_ages


class AgePathDisplay:
    """Curves of an age path over the age, with events and jumps.

    Create it with :meth:`from_path` or :meth:`from_estimator`; the constructor only
    stores precomputed data.

    Parameters
    ----------
    ages : ndarray of shape (n_points,)
        Increasing ages (a jump age appears twice: once with NaN values, once with the
        post-jump values).
    values : ndarray of shape (n_points, n_curves)
        Exact path values at ``ages``; NaN rows break the curves at jumps.
    kind : {"coef", "weights", "objective", "dual_coef"}
        What ``values`` are (``"dual_coef"``: the dual coefficients of an SVM path).
    event_ages : ndarray of shape (n_events,)
        Ages of the events (the path's breakpoints).
    jump_ages : ndarray of shape (n_jumps,)
        Ages at which the path jumps.
    age : float, default=None
        Chosen age (marked by a vertical line), e.g. an estimator's ``age_``.
    labels : list of str, default=None
        One label per curve.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D
        One line per curve.
    events_ : matplotlib Line2D or None
        Markers (ticks along the bottom of the axes) at the event ages.
    jumps_ : matplotlib Line2D or None
        Markers (triangles along the top of the axes) at the jump ages.
    age_line_ : matplotlib Line2D or None
        Vertical line at ``age``.
    """

    def __init__(
        self, ages, values, *, kind, event_ages, jump_ages, age=None, labels=None
    ):
        self.ages = ages
        self.values = values
        self.kind = kind
        self.event_ages = event_ages
        self.jump_ages = jump_ages
        self.age = age
        self.labels = labels

    @classmethod
    def from_path(cls, path, *, kind="coef", age=None, n_points=400, ax=None, **kwargs):
        """Plot an :class:`~gaga.AgePath`.

        The values are exact: they are read from the path (``coef(age)``,
        ``weights(age)`` or ``objective(age)``) on a grid made of the knots, the events
        and ``n_points`` geometrically spaced ages. Curves are broken at the jumps
        (never joined across one) and the events are marked along the bottom of the
        axes, the jumps along the top.

        For an SVM path (:func:`gaga.age_path_svm`) ``kind="coef"`` draws the dual
        coefficients ``y_i a_i`` of every training sample (``path.dual_coef(age)``, one
        curve per sample, for every kernel): ``a_i`` is 0 outside the margin, ``C s_i
        v_i`` inside it, and moves with the age on the margin. The primal weights of a
        linear SVM are ``dual_coef @ X``.

        Parameters
        ----------
        path : AgePath
            The path to draw.
        kind : {"coef", "weights", "objective"}, default="coef"
            Coefficients (one curve per feature; for an SVM path the dual coefficients
            ``y_i a_i``, one curve per sample), self-paced weights (one curve per
            sample) or the objective value.
        age : float, default=None
            Age to mark with a vertical line.
        n_points : int, default=400
            Number of evenly (geometrically) spaced ages added to the knots.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : AgePathDisplay
        """
        _check_matplotlib(f"{cls.__name__}.from_path")
        if kind not in _KINDS:
            raise ValueError(f"kind={kind!r} must be one of {_KINDS}.")
        ages, values, jump_ages = _dense_curves(path, kind, int(n_points))
        if kind == "coef" and _is_svm(path):
            kind = "dual_coef"
            labels = [f"y[{i}] a[{i}]" for i in range(values.shape[1])]
        elif kind == "coef":
            names = getattr(getattr(path, "problem", None), "feature_names", None)
            labels = [
                f"w[{j}]" if names is None else str(names[j])
                for j in range(values.shape[1])
            ]
        elif kind == "weights":
            labels = [f"v[{i}]" for i in range(values.shape[1])]
        else:
            labels = ["objective"]
        disp = cls(
            ages,
            values,
            kind=kind,
            event_ages=np.asarray(path.breakpoints, dtype=float),
            jump_ages=jump_ages,
            age=age,
            labels=labels,
        )
        return disp.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, *, kind="coef", n_points=400, ax=None, **kwargs):
        """Plot the path of a fitted self-paced estimator and mark its chosen age.

        Parameters
        ----------
        estimator : estimator
            A fitted SelfPacedLasso, SelfPacedSVM, one of their CV versions, or any
            estimator with ``path_`` and ``age_``.
        kind : {"coef", "weights", "objective"}, default="coef"
            What to draw, see :meth:`from_path` (``"coef"`` draws the dual
            coefficients of an SVM).
        n_points : int, default=400
            Number of geometrically spaced ages added to the knots.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : AgePathDisplay
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        if not hasattr(estimator, "path_"):
            raise ValueError(
                f"{type(estimator).__name__} is not fitted or has no age path (path_)."
            )
        return cls.from_path(
            estimator.path_,
            kind=kind,
            age=getattr(estimator, "age_", None),
            n_points=n_points,
            ax=ax,
            **kwargs,
        )

    def plot(self, ax=None, *, xscale="auto", legend="auto", line_kw=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.
        xscale : {"auto", "linear", "log"}, default="auto"
            ``"auto"`` uses a log scale when the ages are positive and span more than
            two decades.
        legend : "auto" or bool, default="auto"
            ``"auto"`` draws a legend when there are at most 12 curves.
        line_kw : dict, default=None
            Keyword arguments of the curves' ``ax.plot``.

        Returns
        -------
        display : AgePathDisplay
            The display, with ``ax_``, ``figure_`` and ``lines_`` set.
        """
        plt = _check_matplotlib(f"{type(self).__name__}.plot")
        if ax is None:
            _, ax = plt.subplots()
        ages = np.asarray(self.ages, dtype=float)
        values = np.asarray(self.values, dtype=float)
        n_curves = values.shape[1]
        kw = {"linewidth": 1.0 if n_curves <= 12 else 0.5}
        kw.update(line_kw or {})
        labels = self.labels or [None] * n_curves
        self.lines_ = []
        for j in range(n_curves):
            (line,) = ax.plot(ages, values[:, j], label=labels[j], **kw)
            self.lines_.append(line)
        trans = ax.get_xaxis_transform()  # x in data, y in axes fraction
        ev = np.asarray(self.event_ages, dtype=float)
        self.events_ = None
        if ev.size:
            (self.events_,) = ax.plot(
                ev,
                np.zeros_like(ev),
                linestyle="none",
                marker="|",
                markersize=8,
                color="0.3",
                transform=trans,
                clip_on=False,
                label=f"events ({ev.size})",
            )
        jp = np.asarray(self.jump_ages, dtype=float)
        self.jumps_ = None
        if jp.size:
            (self.jumps_,) = ax.plot(
                jp,
                np.ones_like(jp),
                linestyle="none",
                marker="v",
                markersize=6,
                color="tab:red",
                transform=trans,
                clip_on=False,
                label=f"jumps ({jp.size})",
            )
        self.age_line_ = None
        if self.age is not None:
            self.age_line_ = ax.axvline(
                float(self.age),
                color="k",
                linestyle="--",
                linewidth=1.0,
                label=f"chosen age {float(self.age):.4g}",
            )
        if xscale == "auto":
            finite = ages[np.isfinite(ages)]
            xscale = (
                "log"
                if finite.size
                and finite.min() > 0
                and finite.max() > 100 * finite.min()
                else "linear"
            )
        ax.set_xscale(xscale)
        ax.set_xlabel("age")
        ax.set_ylabel(
            {
                "coef": "coefficients",
                "dual_coef": "dual coefficients y_i a_i",
                "weights": "self-paced weights v",
                "objective": "objective",
            }.get(self.kind, self.kind)
        )
        if legend == "auto":
            legend = n_curves <= 12
        if legend:
            ax.legend(fontsize="small", loc="best")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


class CVAgeDisplay:
    """Cross-validated score along the age: mean over folds and its spread.

    Parameters
    ----------
    ages : ndarray of shape (n_ages,)
        Ages of the scores.
    scores : ndarray of shape (n_ages, n_folds)
        Held-out scores (e.g. ``SelfPacedLassoCV.scores_path_``).
    age : float, default=None
        Chosen age (marked by a vertical line).
    score_name : str, default="score"
        Label of the y axis.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D
        The mean score, then one thin line per fold when ``show_folds``.
    fill_between_ : matplotlib PolyCollection
        Mean +- one standard deviation over the folds.
    age_line_ : matplotlib Line2D or None
    """

    def __init__(self, ages, scores, *, age=None, score_name="score"):
        self.ages = ages
        self.scores = scores
        self.age = age
        self.score_name = score_name

    @classmethod
    def from_estimator(cls, estimator, *, score_name=None, ax=None, **kwargs):
        """Plot ``scores_path_`` of a fitted CV estimator (e.g. SelfPacedLassoCV).

        Parameters
        ----------
        estimator : estimator
            A fitted CV estimator with ``ages_``, ``scores_path_`` and ``age_``.
        score_name : str, default=None
            Y label; defaults to the estimator's ``scoring`` or "score".
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : CVAgeDisplay
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        if not hasattr(estimator, "scores_path_"):
            raise ValueError(
                f"{type(estimator).__name__} is not a fitted CV estimator "
                "(no scores_path_)."
            )
        if score_name is None:
            scoring = getattr(estimator, "scoring", None)
            score_name = scoring if isinstance(scoring, str) else "score"
        disp = cls(
            estimator.ages_,
            estimator.scores_path_,
            age=getattr(estimator, "age_", None),
            score_name=score_name,
        )
        return disp.plot(ax=ax, **kwargs)

    def plot(self, ax=None, *, show_folds=False, xscale="auto"):
        """Draw the mean score and its spread over folds.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is created when None.
        show_folds : bool, default=False
            Also draw one thin line per fold.
        xscale : {"auto", "linear", "log"}, default="auto"

        Returns
        -------
        display : CVAgeDisplay
            The display, with ``ax_``, ``figure_``, ``lines_`` and ``fill_between_``.
        """
        plt = _check_matplotlib(f"{type(self).__name__}.plot")
        if ax is None:
            _, ax = plt.subplots()
        ages = np.asarray(self.ages, dtype=float)
        scores = np.asarray(self.scores, dtype=float)
        if scores.ndim != 2 or scores.shape[0] != ages.shape[0]:
            raise ValueError(
                f"scores must have shape (n_ages, n_folds) = ({ages.shape[0]}, k); "
                f"got {scores.shape}."
            )
        mean = scores.mean(axis=1)
        std = scores.std(axis=1)
        (mean_line,) = ax.plot(ages, mean, color="tab:blue", label="mean over folds")
        self.lines_ = [mean_line]
        self.fill_between_ = ax.fill_between(
            ages, mean - std, mean + std, color="tab:blue", alpha=0.2, label="+- 1 std"
        )
        if show_folds:
            for k in range(scores.shape[1]):
                (line,) = ax.plot(ages, scores[:, k], color="0.6", linewidth=0.5)
                self.lines_.append(line)
        self.age_line_ = None
        if self.age is not None:
            self.age_line_ = ax.axvline(
                float(self.age),
                color="k",
                linestyle="--",
                linewidth=1.0,
                label=f"chosen age {float(self.age):.4g}",
            )
        if xscale == "auto":
            xscale = (
                "log" if ages.min() > 0 and ages.max() > 100 * ages.min() else "linear"
            )
        ax.set_xscale(xscale)
        ax.set_xlabel("age")
        ax.set_ylabel(self.score_name)
        ax.legend(fontsize="small", loc="best")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
