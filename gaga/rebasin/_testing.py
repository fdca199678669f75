"""Small numpy reference forwards (float64) used by the re-basin tests and examples."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def relu(x):
    return np.maximum(x, 0.0)


def conv_nchw(x, w, b=None, pad=0):
    """x (N, C, H, W), w (O, C, kh, kw) -> (N, O, H', W')."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kh, kw = w.shape[2:]
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))
    out = np.einsum("nchwij,ocij->nohw", win, w)
    if b is not None:
        out = out + b[None, :, None, None]
    return out


def conv_nhwc(x, w, b=None, pad=0):
    """x (N, H, W, C), w (kh, kw, C, O) -> (N, H', W', O)."""
    if pad:
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    kh, kw = w.shape[:2]
    win = sliding_window_view(x, (kh, kw), axis=(1, 2))
    out = np.einsum("nhwcij,ijco->nhwo", win, w)
    if b is not None:
        out = out + b
    return out


def batchnorm(x, p, prefix, axis, eps=1e-5):
    shape = [1] * x.ndim
    shape[axis] = -1
    rm = p[f"{prefix}.running_mean"].reshape(shape)
    rv = p[f"{prefix}.running_var"].reshape(shape)
    g = p[f"{prefix}.weight"].reshape(shape)
    b = p[f"{prefix}.bias"].reshape(shape)
    return (x - rm) / np.sqrt(rv + eps) * g + b


def layernorm(x, p, prefix, axis, eps=1e-5):
    shape = [1] * x.ndim
    shape[axis] = -1
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True)
    g = p[f"{prefix}.weight"].reshape(shape)
    b = p[f"{prefix}.bias"].reshape(shape)
    return (x - mu) / np.sqrt(var + eps) * g + b


def dense(x, w, b, layout):
    return (x @ w.T if layout == "out_in" else x @ w) + b


def mlp_forward(p, x, n_layers, layout):
    for k in range(n_layers):
        x = dense(x, p[f"W{k}"], p[f"b{k}"], layout)
        if k < n_layers - 1:
            x = relu(x)
    return x


def cnn_forward(p, x, n_conv, n_dense, layout, order, norm):
    """Conv (valid, 3x3) -> norm -> relu ..., flatten, dense ... ."""
    torch_like = layout == "out_in"
    ch_axis = 1 if order == "NCHW" else -1
    for k in range(n_conv):
        w, b = p[f"conv{k}.weight"], p.get(f"conv{k}.bias")
        if order == "NCHW":
            wk = w if torch_like else w.transpose(3, 2, 0, 1)
            x = conv_nchw(x, wk, b)
        else:
            wk = w.transpose(2, 3, 1, 0) if torch_like else w
            x = conv_nhwc(x, wk, b)
        if norm == "batchnorm":
            x = batchnorm(x, p, f"norm{k}", ch_axis)
        elif norm == "layernorm":
            x = layernorm(x, p, f"norm{k}", ch_axis)
        x = relu(x)
    x = x.reshape(x.shape[0], -1)
    for j in range(n_dense):
        x = dense(x, p[f"fc{j}.weight"], p[f"fc{j}.bias"], layout)
        if j < n_dense - 1:
            x = relu(x)
    return x


def resnet_forward(p, x, n_stages, n_blocks, norm="batchnorm"):
    """ResNet of gaga.rebasin.resnet_spec (torch layout, NCHW, no strides)."""

    def nrm(z, prefix):
        if norm == "batchnorm":
            return batchnorm(z, p, prefix, 1)
        if norm == "layernorm":
            return layernorm(z, p, prefix, 1)
        return z

    x = relu(nrm(conv_nchw(x, p["conv1.weight"], pad=1), "bn1"))
    for s in range(n_stages):
        for b in range(n_blocks):
            pre = f"layer{s}.{b}"
            h = relu(nrm(conv_nchw(x, p[f"{pre}.conv1.weight"], pad=1), f"{pre}.bn1"))
            h = nrm(conv_nchw(h, p[f"{pre}.conv2.weight"], pad=1), f"{pre}.bn2")
            if f"{pre}.shortcut.0.weight" in p:
                sc = nrm(
                    conv_nchw(x, p[f"{pre}.shortcut.0.weight"]), f"{pre}.shortcut.1"
                )
            else:
                sc = x
            x = relu(h + sc)
    x = x.mean(axis=(2, 3))
    return x @ p["fc.weight"].T + p["fc.bias"]


def random_params(spec, rng, positive=("running_var",)):
    """Random float64 parameters for a spec with shapes."""
    out = {}
    for k, shp in spec.shapes.items():
        if k.endswith("num_batches_tracked"):
            out[k] = np.array(7, dtype=np.int64)
        elif k.endswith(positive):
            out[k] = rng.uniform(0.5, 2.0, size=shp)
        else:
            out[k] = rng.normal(size=shp) / np.sqrt(max(1, np.prod(shp[1:])))
    return out
