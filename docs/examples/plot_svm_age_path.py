"""
=======================================
SVM age path with flipped labels
=======================================

Labels flipped near the decision boundary pull a support vector machine towards the
wrong side: every flipped sample is a margin violator, and the hinge loss counts it with
the full weight ``C``. The self-paced SVM gives every sample a weight ``v_i`` in
``[0, 1]`` that depends on its hinge loss and on the *age*; at a small age the samples
with a large hinge loss (many of them flipped) are left out, and as the age grows they
come back, until at a large enough age every weight is 1 and the model is the plain
:class:`sklearn.svm.SVC`.

:func:`gaga.age_path_svm` computes the whole path of partial optima over the age in the
dual, for any kernel. Here we draw the weights of the flipped and the clean samples
along the path, read the test accuracy at every age, certify the path with
:meth:`gaga.AgePath.certify` and choose the age with :class:`gaga.SelfPacedSVMCV`.
"""

# %%
# Data with flipped labels
# ------------------------
# The breast cancer data (30 features), 200 samples for training and the rest for
# testing, standardized on the training part. 20 % of the training labels are flipped,
# drawn among the samples closest to the boundary of a linear SVM
# (:func:`gaga.datasets.flip_labels`): these are the hardest flips to detect, since a
# flipped sample still lies close to the other class. The test labels stay clean.
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from gaga import SelfPacedSVMCV, age_path_svm
from gaga.datasets import flip_labels
from gaga.plotting import AgePathDisplay, CVAgeDisplay

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=200, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
y_noisy, flipped = flip_labels(X_train, y_train, 0.2, random_state=0)
print(f"{flipped.sum()} of {len(y_noisy)} training labels flipped")

# %%
# The whole path in one call
# --------------------------
# The linear self-paced regularizer gives ``v* = max(0, 1 - loss / age)`` with the
# hinge loss ``max(0, 1 - y_i f(x_i))``, so the ages are in hinge-loss units. The
# default range starts where about half of the margin violators of the plain SVC have a
# positive weight and ends where every sample has a weight of at least 0.99.
C = 1.0
path = age_path_svm(X_train, y_noisy, regularizer="linear", kernel="rbf", C=C)
print(f"age range [{path.age_min:.3g}, {path.age_max:.3g}]")
print(f"{path.n_events} events, {len(path.jumps)} jumps, {len(path.knots)} knots")
print("events by kind:", dict(Counter(event.kind for event in path.events)))

# %%
# ``"margin"`` events move a sample between the margin and the outside or the inside of
# the margin; ``"sample"`` events move it between the regions of the regularizer (full
# weight, middle branch, weight 0). The jumps of an SVM path are mostly *folds*: the
# branch of partial optima turns back in the age, and the path lands on another one by
# alternate convex search started from the last point.
for event in path.jumps:
    print(
        f"jump at age {event.age:.4g}: sample {event.index} "
        f"({event.from_set} -> {event.to_set}), reason {event.reason!r}, "
        f"size {event.size:.3g}"
    )

# %%
# Weights and dual coefficients over the age
# ------------------------------------------
# Flipped samples in red, clean ones in grey. Ticks at the bottom of the axes mark the
# events, red triangles at the top the jumps; the curves are broken at the jumps. Most
# flipped samples start with a small or zero weight and come in late, while most clean
# samples have full weight along the whole path. The dual coefficients ``y_i a_i`` of
# the weighted SVM live in the box ``|y_i a_i| <= C v_i``.
fig, axes = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
disp = AgePathDisplay.from_path(path, kind="weights", ax=axes[0], legend=False)
for line, is_flipped in zip(disp.lines_, flipped):
    line.set_color("tab:red" if is_flipped else "0.7")
    line.set_zorder(3 if is_flipped else 2)
disp = AgePathDisplay.from_path(path, kind="coef", ax=axes[1], legend=False)
for line, is_flipped in zip(disp.lines_, flipped):
    line.set_color("tab:red" if is_flipped else "0.7")
    line.set_zorder(3 if is_flipped else 2)
axes[1].set_xlabel("age")
fig.suptitle("Self-paced SVM: weights (top) and dual coefficients (bottom)")
fig.tight_layout()

# %%
# The path is exact at any age: each value is predicted from the nearest knot and
# corrected by Newton's method on the optimality system of its segment.
ages = np.geomspace(path.age_min, path.age_max, 80)
weights = path.weights(ages)
for age in (1.0, 3.0, 10.0, path.age_max):
    v = path.weights(age)
    print(
        f"age {age:7.3g}: mean weight flipped {v[flipped].mean():.2f}, "
        f"clean {v[~flipped].mean():.2f}; "
        f"{np.sum(v[flipped] == 0):2d} flipped and {np.sum(v[~flipped] == 0):2d} "
        "clean samples left out"
    )

# %%
# Test accuracy along the path
# ----------------------------
# Accuracy on the clean test labels of the model at every age, against the plain
# :class:`~sklearn.svm.SVC` with the same ``C`` and kernel trained on the noisy labels
# (which the path approaches at its end). Vertical ticks mark the events, red lines the
# jumps.
accuracy = (path.predict(X_test, ages) == y_test).mean(axis=1)
svc = SVC(C=C, kernel="rbf").fit(X_train, y_noisy)
accuracy_svc = svc.score(X_test, y_test)
print(f"SVC test accuracy {accuracy_svc:.3f}")
print(
    f"self-paced SVM: best test accuracy {accuracy.max():.3f} at age "
    f"{ages[accuracy.argmax()]:.3g}, {accuracy[-1]:.3f} at age_max"
)

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.semilogx(ages, accuracy, label="self-paced SVM along the path")
ax.axhline(accuracy_svc, color="k", linestyle="--", label="SVC on the noisy labels")
trans = ax.get_xaxis_transform()
ax.plot(
    path.breakpoints,
    np.zeros(path.n_events),
    "|",
    color="0.3",
    markersize=8,
    transform=trans,
    label="events",
)
for k, event in enumerate(path.jumps):
    ax.axvline(
        event.age, color="tab:red", linewidth=0.8, label="jumps" if k == 0 else None
    )
ax.set_xlabel("age")
ax.set_ylabel("test accuracy")
ax.legend(fontsize="small")
fig.tight_layout()

# %%
# Certificates
# ------------
# :meth:`~gaga.AgePath.certify` checks points of the path independently of the path
# follower (:mod:`gaga.verify`): the KKT residual of the weighted SVM at the path's
# weights and the consistency of these weights with ``v*`` at the path's hinge losses.
# Without cvxpy (``use_cvxpy=False``) these two checks are cheap: here at every
# breakpoint and at the 80 ages of the grid. No point is reported certified without
# the third check.
certificates = path.certify(ages=ages, use_cvxpy=False)
print(
    f"{len(certificates)} points: max KKT residual "
    f"{max(c.kkt_residual for c in certificates):.2e}, max |v - v*| "
    f"{max(c.v_residual for c in certificates):.2e}"
)

# %%
# The third check compares the objective of the weighted SVM with an independent
# solve of its dual by cvxpy (solver CLARABEL). One age, to keep the example fast.
age_check = 3.0
certificate = path.certify(ages=[age_check], include_breakpoints=False)[0]
print(certificate.summary())

# %%
# Choosing the age by cross-validation
# ------------------------------------
# :class:`gaga.SelfPacedSVMCV` computes one path per fold and scores each of them on
# its held-out part at every age of a common grid, exactly from the path (no refit per
# age). The held-out labels are the noisy ones: cross-validation cannot see the clean
# labels, so the chosen age only approximates the best one on the clean test set.
cv = StratifiedKFold(5, shuffle=True, random_state=0)
est = SelfPacedSVMCV(C=C, kernel="rbf", ages=40, cv=cv).fit(X_train, y_noisy)
print(f"chosen age {est.age_:.4g}, mean held-out accuracy {est.best_score_:.3f}")
print(
    f"test accuracy: self-paced SVM at the chosen age {est.score(X_test, y_test):.3f}, "
    f"SVC {accuracy_svc:.3f}"
)
v = est.spl_weights_
print(
    f"at the chosen age {np.sum(v[flipped] == 0)} flipped and "
    f"{np.sum(v[~flipped] == 0)} clean training samples have weight 0"
)

disp = CVAgeDisplay.from_estimator(est, show_folds=True)
disp.ax_.set_title("SelfPacedSVMCV: held-out accuracy along the age")
