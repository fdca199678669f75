"""
============================================================
Self-paced regularizers and a custom one
============================================================

A self-paced regularizer ``f(v, age)`` decides the weight of a sample from its loss
``l``: the optimal weight ``v*(l, age) = argmin over v in [0, 1] of v * l + f(v, age)``
is 1 for small losses, 0 for large ones, and follows a *middle branch* in between.
We draw ``v*`` for every built-in regularizer, build a new one with
:class:`gaga.CustomRegularizer` and follow its age path.
"""

# %%
# The built-in regularizers
# -------------------------
# Each is drawn at an age where its weight reaches 0 near ``l = 1`` (the logarithmic
# regularizer needs ``0 < age < 1``; the mixture's weight is 0 beyond ``age**2``).
# The hard regularizer's ``v*`` is a step: the paths it gives jump at every event.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from gaga import (
    CustomRegularizer,
    Hard,
    Linear,
    Logarithmic,
    Mixture,
    Polynomial,
    age_path_lasso,
)
from gaga.datasets import add_outliers
from gaga.plotting import AgePathDisplay

losses = np.linspace(0.0, 1.3, 521)
builtins = [
    (Hard(), 1.0),
    (Linear(), 1.0),
    (Logarithmic(), 0.9),
    (Mixture(gamma=1.0), 1.0),
    (Polynomial(t=1.5), 1.0),
    (Polynomial(t=3.0), 1.0),
]
fig, ax = plt.subplots(figsize=(7, 4))
for reg, age in builtins:
    v = reg.v_star(losses, age)
    if not reg.continuous:
        # break the line at the discontinuity instead of drawing a vertical segment
        v = np.where(np.isclose(losses, reg.loss_zero(age), atol=2e-3), np.nan, v)
    ax.plot(losses, v, label=f"{reg!r}, age={age:g}")
ax.set_xlabel("loss l")
ax.set_ylabel("v*(l, age)")
ax.set_title("Optimal self-paced weight of the built-in regularizers")
ax.legend(fontsize="small")
fig.tight_layout()

# %%
# Thresholds move with the age
# ----------------------------
# Below ``loss_one(age)`` the weight is 1, above ``loss_zero(age)`` it is 0. Growing the
# age lets harder samples in.
fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), sharey=True)
for ax, reg in zip(axes, [Linear(), Mixture(gamma=1.0)]):
    for age in (0.5, 1.0, 1.5):
        ax.plot(losses, reg.v_star(losses, age), label=f"age={age:g}")
    ax.set_title(repr(reg))
    ax.set_xlabel("loss l")
axes[0].set_ylabel("v*(l, age)")
axes[1].legend(fontsize="small")
fig.tight_layout()

# %%
# A custom regularizer
# --------------------
# A "plateau" weighting: full weight up to half the age, then a linear decrease to 0 at
# the age. :class:`~gaga.CustomRegularizer` takes the middle branch of ``v*``, its two
# partial derivatives and the two thresholds (their derivatives in the age are
# optional). The derivatives are checked against finite differences at construction:
# a wrong formula raises a ``ValueError``.


def v_star(loss, age):
    return 2.0 - 2.0 * loss / age


def dv_dloss(loss, age):
    return np.full_like(loss, -2.0 / age)


def dv_dage(loss, age):
    return 2.0 * loss / age**2


plateau = CustomRegularizer(
    v_star,
    dv_dloss,
    dv_dage,
    loss_one=lambda age: 0.5 * age,
    loss_zero=lambda age: age,
    dloss_one=lambda age: 0.5,
    dloss_zero=lambda age: 1.0,
    name="plateau",
)
print(plateau, "continuous:", plateau.continuous)

try:
    CustomRegularizer(
        v_star,
        dv_dloss,
        lambda loss, age: loss / age**2,  # wrong factor
        loss_one=lambda age: 0.5 * age,
        loss_zero=lambda age: age,
    )
except ValueError as exc:
    print("rejected:", str(exc)[:100], "...")

fig, ax = plt.subplots(figsize=(7, 3.5))
for reg in (Linear(), plateau):
    ax.plot(losses, reg.v_star(losses, 1.0), label=f"{reg!r}, age=1")
ax.set_xlabel("loss l")
ax.set_ylabel("v*(l, age)")
ax.legend(fontsize="small")
fig.tight_layout()

# %%
# Its age path
# ------------
# A custom regularizer plugs into the path follower like a built-in one (it is
# evaluated in Python, so it is slower than the compiled built-ins).
X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
y = (y - y.mean()) / y.std()
y_noisy, is_outlier = add_outliers(y[:200], 0.1, random_state=0)
path = age_path_lasso(X[:200], y_noisy, regularizer=plateau, alpha=0.02)
print(f"{path.n_events} events, {len(path.jumps)} jumps")
disp = AgePathDisplay.from_path(path, kind="weights", legend=False)
for line, outlier in zip(disp.lines_, is_outlier):
    line.set_color("tab:red" if outlier else "0.7")
disp.ax_.set_title("Weights along the path of the plateau regularizer (outliers red)")
