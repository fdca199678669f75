"""
=======================================================
The age path of a self-paced Lasso with outliers
=======================================================

A few gross outliers in the targets pull an ordinary Lasso away from the bulk of the
data. Self-paced learning (SPL) gives every sample a weight ``v_i`` in ``[0, 1]`` that
depends on its loss and on the *age*: at a small age only the easy samples (small loss)
are trained on, and as the age grows harder samples come in, until at a large enough
age every sample has weight 1 and the model is the plain Lasso.

:func:`gaga.age_path_lasso` computes the solution for *every* age in a range at once:
the path is smooth between *events* (a sample changes region, a feature enters or
leaves the model) and may *jump* where the branch of solutions it follows ends (a fold).
Here we draw the path with :class:`gaga.plotting.AgePathDisplay`, look at its jumps and
certify its breakpoints and ends independently with :meth:`gaga.AgePath.certify`.
"""

# %%
# Data with outliers
# ------------------
# The diabetes data (442 patients, 10 features), standardized, with 10% of the
# targets turned into outliers at least 5 standard deviations away
# (:func:`gaga.datasets.add_outliers`).
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso
from sklearn.preprocessing import StandardScaler

from gaga import age_path_lasso
from gaga.datasets import add_outliers
from gaga.plotting import AgePathDisplay

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
y = (y - y.mean()) / y.std()
y_noisy, is_outlier = add_outliers(y, 0.1, random_state=0)
print(f"{is_outlier.sum()} outliers among {len(y)} samples")

# %%
# The whole path in one call
# --------------------------
# The linear self-paced regularizer gives ``v* = max(0, 1 - loss / age)``. The default
# age range starts where about half of the samples have a positive weight and ends
# where every sample has weight 1 (the plain Lasso).
alpha = 0.02
path = age_path_lasso(X, y_noisy, regularizer="linear", alpha=alpha)
print(f"age range [{path.age_min:.3g}, {path.age_max:.3g}]")
print(f"{path.n_events} events, {len(path.jumps)} jumps, {len(path.knots)} knots")
print("events by kind:", dict(Counter(event.kind for event in path.events)))

# %%
# The path is exact at any age, not only at the knots: each value is predicted from
# the nearest knot and corrected by Newton's method on the optimality system.
for age in (1.0, 10.0, path.age_max):
    v = path.weights(age)
    print(
        f"age {age:8.3g}: {np.sum(v > 0):3d} samples in, "
        f"{np.sum(v[is_outlier] > 0):2d} outliers in, "
        f"coef[2] = {path.coef(age)[2]:+.3f}"
    )

# %%
# Coefficients and weights over the age
# -------------------------------------
# Ticks at the bottom mark the events, red triangles at the top the jumps; the curves
# are broken at the jumps instead of being joined by a line.
fig, axes = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
AgePathDisplay.from_path(path, kind="coef", ax=axes[0], legend=False)
disp = AgePathDisplay.from_path(path, kind="weights", ax=axes[1], legend=False)
for line, outlier in zip(disp.lines_, is_outlier):
    line.set_color("tab:red" if outlier else "0.7")
    line.set_zorder(3 if outlier else 2)
fig.suptitle("Self-paced Lasso: coefficients (top), weights (bottom, outliers red)")
fig.tight_layout()

# %%
# The jumps
# ---------
# Each jump records its age, why it happened and how far the coefficients moved.
for event in path.jumps:
    print(
        f"jump at age {event.age:.4g}: reason {event.reason!r}, size {event.size:.3g}"
    )

# %%
# Younger models ignore the outliers
# ----------------------------------
# Error on the clean targets of the model at each age, against the plain Lasso fitted
# on the noisy targets (the end of the path).
ages = np.geomspace(path.age_min, path.age_max, 60)
clean = ~is_outlier
mse = [np.mean((path.predict(X[clean], a) - y[clean]) ** 2) for a in ages]
lasso = Lasso(alpha=alpha).fit(X, y_noisy)
mse_lasso = np.mean((lasso.predict(X[clean]) - y[clean]) ** 2)

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.semilogx(ages, mse, label="self-paced Lasso along the path")
ax.axhline(mse_lasso, color="k", linestyle="--", label="Lasso on all samples")
ax.set_xlabel("age")
ax.set_ylabel("MSE on the clean samples")
ax.legend()
fig.tight_layout()

# %%
# Certificates
# ------------
# :meth:`~gaga.AgePath.certify` checks every breakpoint with :mod:`gaga.verify`,
# independently of the path follower: the KKT residual of the weighted Lasso at the
# path's weights, the consistency of the weights with ``v*`` at the path's losses,
# and the gap to an independent cvxpy solve.
certificates = path.certify()
n_ok = sum(c.certified for c in certificates)
print(f"{n_ok} of {len(certificates)} points certified (breakpoints and both ends)")
print("worst KKT residual:", max(c.kkt_residual for c in certificates))
print(certificates[len(certificates) // 2].summary())
