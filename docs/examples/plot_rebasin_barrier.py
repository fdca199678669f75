"""
===========================================================
Loss barriers between two MLPs before and after re-basin
===========================================================

Two scikit-learn MLPs trained from different random seeds on the digits data
are usually separated by a *loss barrier*: averaging their weights gives a much
worse model. Re-ordering the hidden units of the second network (which does
not change its function) can remove most of the barrier ("Git Re-Basin").

We compare the test loss and accuracy along the straight line
``(1 - lam) theta_A + lam pi(theta_B)`` for

* no permutation (naive interpolation),
* weight matching (:func:`gaga.rebasin.weight_matching`), and
* activation matching (:func:`gaga.rebasin.activation_matching`).
"""

# %%
# Train two networks
# ------------------
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from gaga.rebasin import (
    activation_matching,
    apply_permutation,
    interpolation_curve,
    params_from_sklearn_mlp,
    sklearn_mlp_activations,
    sklearn_mlp_with_params,
    spec_from_sklearn_mlp,
    weight_matching,
)

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, random_state=0, stratify=y
)
models = []
for seed in (0, 1):
    mlp = MLPClassifier(hidden_layer_sizes=(64, 64), max_iter=200, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        models.append(mlp.fit(X_train, y_train))
model_a, model_b = models
print(
    "test accuracy A, B:", model_a.score(X_test, y_test), model_b.score(X_test, y_test)
)

# %%
# Match the hidden units of B to those of A
# -----------------------------------------
# The permutation spec is read from the fitted estimator; parameters are plain
# ``dict``\ s of numpy arrays.
spec = spec_from_sklearn_mlp(model_a)
params_a = params_from_sklearn_mlp(model_a)
params_b = params_from_sklearn_mlp(model_b)

perm_wm = weight_matching(spec, params_a, params_b, random_state=0)
print(
    f"weight matching: {perm_wm.n_iter} sweeps, objective "
    f"{perm_wm.objective_trace[0]:.1f} -> {perm_wm.objective:.1f}"
)

perm_am = activation_matching(
    sklearn_mlp_activations(model_a, X_train),
    sklearn_mlp_activations(model_b, X_train),
    similarity="pearson",
)

candidates = {
    "naive": model_b,
    "weight matching": sklearn_mlp_with_params(
        model_b, apply_permutation(spec, perm_wm, params_b)
    ),
    "activation matching": sklearn_mlp_with_params(
        model_b, apply_permutation(spec, perm_am, params_b)
    ),
}

# %%
# Interpolate and measure the barriers
# ------------------------------------
# ``barrier_sup_linear`` is the paper's definition (largest excess over the
# straight line between the end losses); ``max_minus_mean`` is the definition
# used in most plotting code (largest loss minus the mean of the end losses).
curves = {}
for name, mb in candidates.items():
    curves[name] = interpolation_curve(model_a, mb, X_test, y_test, n_points=21)
    c = curves[name]
    print(
        f"{name:>20}: loss barrier (sup-linear) {c.loss_barrier('sup_linear'):.3f}, "
        f"(max-minus-mean) {c.loss_barrier('max_minus_mean'):.3f}, "
        f"midpoint accuracy {c.at(0.5)[1]:.3f}"
    )

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
for name, c in curves.items():
    ax_loss.plot(c.lambdas, c.loss, marker="o", ms=3, label=name)
    ax_acc.plot(c.lambdas, c.accuracy, marker="o", ms=3, label=name)
ax_loss.set(
    xlabel=r"$\lambda$", ylabel="test cross-entropy", title="Loss along the linear path"
)
ax_acc.set(
    xlabel=r"$\lambda$", ylabel="test accuracy", title="Accuracy along the linear path"
)
ax_loss.legend()
for ax in (ax_loss, ax_acc):
    ax.grid(alpha=0.3)
fig.tight_layout()
