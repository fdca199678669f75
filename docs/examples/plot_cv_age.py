"""
=====================================================
Choosing the age by cross-validation along the path
=====================================================

Where to stop the age is the open question of self-paced learning: too young and
useful samples are left out, too old and the outliers are back in.
:class:`gaga.cv.SelfPacedLassoCV` answers it with one age path per fold: each fold's
path is scored on its held-out part at every age of a common grid, exactly from the path
(nothing is refitted per age), and the age with the best mean score is kept.
:class:`gaga.plotting.CVAgeDisplay` draws the scores over the age.
"""

# %%
# Data: diabetes with outliers in the training targets
# -----------------------------------------------------
# The outliers are added to the training part only, so that the test score measures
# how well each model predicts clean targets.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso
from sklearn.model_selection import KFold, train_test_split
from sklearn.preprocessing import StandardScaler

from gaga.cv import SelfPacedLassoCV
from gaga.datasets import add_outliers
from gaga.plotting import AgePathDisplay, CVAgeDisplay

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
y = (y - y.mean()) / y.std()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
y_train_noisy, _ = add_outliers(y_train, 0.15, random_state=0)

# %%
# Cross-validation along the path
# -------------------------------
# Scoring with the median absolute error keeps the held-out outliers from dominating
# the choice. ``ages=60`` asks for a grid of 60 ages: half spaced geometrically over
# the common range of the fold paths, half at quantiles of their pooled breakpoints.
alpha = 0.02
cv = KFold(5, shuffle=True, random_state=0)
est = SelfPacedLassoCV(
    alpha=alpha, ages=60, cv=cv, scoring="neg_median_absolute_error"
).fit(X_train, y_train_noisy)
print(
    f"chosen age {est.age_:.4g} in [{est.age_range_[0]:.3g}, {est.age_range_[1]:.3g}]"
)
print("scores_path_ shape (n_ages, n_folds):", est.scores_path_.shape)

# %%
# Mean held-out score over the folds, with one standard deviation around it and the
# chosen age.
disp = CVAgeDisplay.from_estimator(est, show_folds=True)
disp.ax_.set_title("SelfPacedLassoCV: held-out score along the age")

# %%
# The refitted model
# ------------------
# The estimator is refitted on all training data at the chosen age; its whole path is
# kept in ``path_``, so the chosen age can be shown on the path itself.
AgePathDisplay.from_estimator(est, kind="coef", legend=False)
plt.gca().set_title("Coefficients of the refit, chosen age dashed")

# %%
# Test scores on clean targets: the self-paced Lasso at the chosen age against the
# plain Lasso with the same penalty trained on the noisy targets.
lasso = Lasso(alpha=alpha).fit(X_train, y_train_noisy)
mse_spl = np.mean((est.predict(X_test) - y_test) ** 2)
mse_lasso = np.mean((lasso.predict(X_test) - y_test) ** 2)
print(f"test MSE: self-paced Lasso {mse_spl:.3f}, Lasso {mse_lasso:.3f}")
