"""Permutation specs: which axis of which parameter is permuted by which group.

Parameters are a ``dict`` mapping names to numpy arrays.  A
:class:`PermutationSpec` maps every parameter name to a tuple with one entry
per axis: a group name (str), ``None`` (axis not permuted) or a
:class:`FlatAxis` (a channel group expanded over a flattened
``channels x positions`` axis, for conv -> flatten -> dense).
A permutation is a ``dict`` mapping each group to an index array ``p``:
"new unit ``i`` is old unit ``p[i]``", applied with ``numpy.take(w, p, axis)``.
"""

from collections import namedtuple

import numpy as np

__all__ = [
    "FlatAxis",
    "PermutationSpec",
    "spec_from_axes_to_perm",
    "mlp_spec",
    "dense_axes",
    "conv_axes",
    "norm_axes",
    "flatten_dense_axes",
    "residual_block_axes",
    "cnn_spec",
    "resnet_spec",
]


class FlatAxis(namedtuple("FlatAxis", ["group", "n_positions", "order"])):
    """A channel group spread over a flattened ``(channels, positions)`` axis.

    Parameters
    ----------
    group : str
        The channel group.
    n_positions : int
        Number of spatial positions ``S = H * W`` per channel.
    order : {"NCHW", "NHWC"}
        Flattening order. ``"NCHW"`` (PyTorch, channel-major): flat index of
        channel ``c`` at position ``s`` is ``c * S + s``. ``"NHWC"``
        (flax/TensorFlow, channel-last): flat index is ``s * C + c``.
    """

    __slots__ = ()

    def __new__(cls, group, n_positions, order="NCHW"):
        order = str(order).upper()
        if order not in ("NCHW", "NHWC"):
            raise ValueError(f"order must be 'NCHW' or 'NHWC', got {order!r}.")
        n_positions = int(n_positions)
        if n_positions < 1:
            raise ValueError(f"n_positions must be >= 1, got {n_positions}.")
        return super().__new__(cls, group, n_positions, order)

    def expand(self, p):
        """Index array on the flattened axis for a channel permutation.

        Parameters
        ----------
        p : ndarray of shape (C,)
            Channel permutation.

        Returns
        -------
        index : ndarray of shape (C * n_positions,)
            The permutation of the flattened axis.
        """
        p = np.asarray(p)
        C, S = p.shape[0], self.n_positions
        if self.order == "NCHW":
            return (p[:, None] * S + np.arange(S)[None, :]).ravel()
        return (np.arange(S)[:, None] * C + p[None, :]).ravel()

    def to_channels_first(self, a):
        """Reshape an array to ``(C, -1)`` grouped by channel.

        Parameters
        ----------
        a : ndarray
            Array whose first axis is the flattened ``C * n_positions`` axis.

        Returns
        -------
        rows : ndarray of shape (C, -1)
            Row ``c`` holds every entry belonging to channel ``c``.
        """
        S = self.n_positions
        m = a.shape[0]
        C = m // S
        rest = a.reshape(m, -1)
        if self.order == "NCHW":
            return rest.reshape(C, -1)
        return rest.reshape(S, C, -1).transpose(1, 0, 2).reshape(C, -1)


def _group_of(entry):
    if entry is None:
        return None
    if isinstance(entry, FlatAxis):
        return entry.group
    return entry


def _axis_group_size(entry, length, name, axis):
    if isinstance(entry, FlatAxis):
        if length % entry.n_positions:
            raise ValueError(
                f"parameter {name!r} axis {axis}: length {length} is not a multiple "
                f"of n_positions={entry.n_positions} of group {entry.group!r}."
            )
        return length // entry.n_positions
    return length


class PermutationSpec:
    """Mapping of parameter axes to permutation groups.

    Parameters
    ----------
    axes_to_perm : dict of str to tuple
        For every parameter, one entry per axis: a group name, ``None`` or a
        :class:`FlatAxis`.  Scalars use ``()``.
    shapes : dict of str to tuple of int, optional
        Parameter shapes. When given, shapes are checked against the axes and
        group sizes are derived and checked for consistency.
    groups : iterable of str, optional
        Groups that must be reachable (appear on at least one axis).

    Attributes
    ----------
    axes_to_perm : dict of str to tuple
        Copy of the input.
    perm_to_axes : dict of str to list of (str, int)
        Inverse map: for every group, the ``(parameter, axis)`` pairs it acts on.
    group_sizes : dict of str to int or None
        Size of every group (``None`` if ``shapes`` was not given).

    Raises
    ------
    ValueError
        If a group appears twice in one tensor, sizes are inconsistent, a
        shape has the wrong number of axes, or a required group is unreachable.
    """

    def __init__(self, axes_to_perm, shapes=None, groups=None):
        if not isinstance(axes_to_perm, dict) or not axes_to_perm:
            raise ValueError("axes_to_perm must be a non-empty dict.")
        a2p = {}
        p2a = {}
        for name, axes in axes_to_perm.items():
            if not isinstance(name, str):
                raise ValueError(f"parameter names must be str, got {name!r}.")
            axes = tuple(axes)
            seen = set()
            for ax, entry in enumerate(axes):
                if entry is not None and not isinstance(entry, (str, FlatAxis)):
                    raise ValueError(
                        f"parameter {name!r} axis {ax}: entry must be a group name, "
                        f"None or FlatAxis, got {entry!r}."
                    )
                g = _group_of(entry)
                if g is None:
                    continue
                if g in seen:
                    raise ValueError(
                        f"parameter {name!r}: group {g!r} appears on more than one "
                        f"axis (axis {ax}); a group may permute a tensor only once."
                    )
                seen.add(g)
                p2a.setdefault(g, []).append((name, ax))
            a2p[name] = axes
        self.axes_to_perm = a2p
        self.perm_to_axes = p2a
        if groups is not None:
            missing = [g for g in groups if g not in p2a]
            if missing:
                raise ValueError(f"group(s) {missing} are not used by any parameter.")
        self.group_sizes = {g: None for g in p2a}
        self.shapes = None
        if shapes is not None:
            self.group_sizes = self._sizes_from_shapes(
                {k: tuple(v) for k, v in shapes.items()}, what="shapes"
            )
            self.shapes = {k: tuple(shapes[k]) for k in a2p}

    @property
    def groups(self):
        """List of group names, in order of first appearance."""
        return list(self.perm_to_axes)

    def __repr__(self):
        return (
            f"PermutationSpec({len(self.axes_to_perm)} parameters, "
            f"groups={self.group_sizes})"
        )

    def _sizes_from_shapes(self, shapes, what="params"):
        missing = [k for k in self.axes_to_perm if k not in shapes]
        if missing:
            raise ValueError(f"{what} is missing parameter(s) {missing} of the spec.")
        extra = [k for k in shapes if k not in self.axes_to_perm]
        if extra:
            raise ValueError(f"{what} has parameter(s) {extra} not in the spec.")
        sizes = {}
        where = {}
        for name, axes in self.axes_to_perm.items():
            shape = shapes[name]
            if len(shape) != len(axes):
                raise ValueError(
                    f"parameter {name!r} has {len(shape)} axes (shape {shape}) but "
                    f"the spec gives {len(axes)} entries {axes}."
                )
            for ax, entry in enumerate(axes):
                g = _group_of(entry)
                if g is None:
                    continue
                n = _axis_group_size(entry, shape[ax], name, ax)
                if g in sizes and sizes[g] != n:
                    p0, a0 = where[g]
                    raise ValueError(
                        f"parameter {name!r} axis {ax} gives size {n} to group {g!r}, "
                        f"but parameter {p0!r} axis {a0} gives {sizes[g]}."
                    )
                sizes[g] = n
                where[g] = (name, ax)
        return sizes

    def check_params(self, params, name="params"):
        """Validate parameters against the spec and return the group sizes.

        Parameters
        ----------
        params : dict of str to ndarray
            Parameters.
        name : str, default="params"
            Name used in error messages.

        Returns
        -------
        group_sizes : dict of str to int
            Size of every group.

        Raises
        ------
        ValueError
            On missing or extra names, wrong number of axes, inconsistent
            group sizes, or sizes different from the spec's shapes.
        """
        if not isinstance(params, dict):
            raise ValueError(f"{name} must be a dict of arrays, got {type(params)}.")
        shapes = {k: np.shape(v) for k, v in params.items()}
        sizes = self._sizes_from_shapes(shapes, what=name)
        if self.shapes is not None:
            for k, s in self.shapes.items():
                if shapes[k] != s:
                    raise ValueError(
                        f"{name}: parameter {k!r} has shape {shapes[k]}, the spec "
                        f"expects {s}."
                    )
        return sizes

    def check_perm(self, perm, sizes=None):
        """Validate a permutation dict (index arrays) against group sizes.

        Parameters
        ----------
        perm : dict of str to array-like
            Index array per group.
        sizes : dict of str to int, optional
            Group sizes (default: the spec's).

        Returns
        -------
        perm : dict of str to ndarray
            Integer index arrays for the spec's groups.

        Raises
        ------
        ValueError
            If a group is missing, has the wrong length or is not a permutation.
        """
        sizes = self.group_sizes if sizes is None else sizes
        missing = [g for g in self.perm_to_axes if g not in perm]
        if missing:
            raise ValueError(f"permutation is missing group(s) {missing}.")
        out = {}
        for g in self.perm_to_axes:
            p = np.asarray(perm[g])
            n = sizes.get(g)
            if p.ndim != 1 or (n is not None and p.shape[0] != n):
                raise ValueError(
                    f"permutation of group {g!r} has shape {p.shape}, expected ({n},)."
                )
            if not np.array_equal(np.sort(p), np.arange(p.shape[0])):
                raise ValueError(f"permutation of group {g!r} is not a permutation.")
            out[g] = p.astype(np.intp)
        return out


def spec_from_axes_to_perm(axes_to_perm, shapes=None, groups=None):
    """Build a :class:`PermutationSpec` (inverse map derived automatically).

    Parameters
    ----------
    axes_to_perm : dict of str to tuple
        See :class:`PermutationSpec`.
    shapes : dict of str to tuple of int, optional
        Parameter shapes, for validation.
    groups : iterable of str, optional
        Groups that must be reachable.

    Returns
    -------
    spec : PermutationSpec
        The validated spec.
    """
    return PermutationSpec(axes_to_perm, shapes=shapes, groups=groups)


_LAYOUTS = {
    "out_in": "out_in",
    "torch": "out_in",
    "pytorch": "out_in",
    "in_out": "in_out",
    "flax": "in_out",
    "sklearn": "in_out",
    "jax": "in_out",
}


def _layout(layout):
    try:
        return _LAYOUTS[str(layout).lower()]
    except KeyError:
        raise ValueError(
            f"layout must be 'out_in' (PyTorch) or 'in_out' (flax, scikit-learn), "
            f"got {layout!r}."
        ) from None


def dense_axes(
    name,
    p_in,
    p_out,
    *,
    layout="out_in",
    bias=True,
    weight="weight",
    bias_name="bias",
    sep=".",
):
    """Axes of a dense layer ``name`` mapping group ``p_in`` to ``p_out``.

    Parameters
    ----------
    name : str
        Layer prefix; keys are ``name + sep + weight`` and ``name + sep + bias_name``.
    p_in, p_out : str, FlatAxis or None
        Input and output groups (``None`` for unpermuted input/output units).
    layout : {"out_in", "in_out"}, default="out_in"
        Weight layout: PyTorch ``(out, in)`` or flax/scikit-learn ``(in, out)``.
    bias : bool, default=True
        Whether the layer has a bias.
    weight, bias_name, sep : str
        Key components.

    Returns
    -------
    axes : dict of str to tuple
        Parameter name -> tuple of axis entries, to merge into ``axes_to_perm``.
    """
    lay = _layout(layout)
    w = (p_out, p_in) if lay == "out_in" else (p_in, p_out)
    out = {f"{name}{sep}{weight}": w}
    if bias:
        out[f"{name}{sep}{bias_name}"] = (p_out,)
    return out


def conv_axes(
    name,
    p_in,
    p_out,
    *,
    layout="out_in",
    bias=True,
    ndim=2,
    weight="weight",
    bias_name="bias",
    sep=".",
):
    """Axes of a convolution: PyTorch ``(out, in, *k)`` or flax ``(*k, in, out)``.

    Parameters
    ----------
    name : str
        Layer prefix.
    p_in, p_out : str or None
        Input and output channel groups.
    layout : {"out_in", "in_out"}, default="out_in"
        ``"out_in"`` for PyTorch kernels, ``"in_out"`` for flax kernels.
    bias : bool, default=True
        Whether the layer has a bias.
    ndim : int, default=2
        Number of spatial axes.
    weight, bias_name, sep : str
        Key components.

    Returns
    -------
    axes : dict of str to tuple
        Parameter name -> tuple of axis entries, to merge into ``axes_to_perm``.
    """
    lay = _layout(layout)
    k = (None,) * ndim
    w = (p_out, p_in) + k if lay == "out_in" else k + (p_in, p_out)
    out = {f"{name}{sep}{weight}": w}
    if bias:
        out[f"{name}{sep}{bias_name}"] = (p_out,)
    return out


def norm_axes(name, p, *, kind="batchnorm", sep=".", names=None):
    """Axes of a normalisation layer tied to channel group ``p``.

    Parameters
    ----------
    name : str
        Layer prefix.
    p : str
        Channel group.
    kind : {"batchnorm", "layernorm"}, default="batchnorm"
        BatchNorm has ``weight, bias, running_mean, running_var`` (all tied to
        ``p``) and ``num_batches_tracked`` (scalar); LayerNorm has ``weight,
        bias``.
    sep : str, default="."
        Separator.
    names : sequence of str, optional
        Override the per-channel parameter names (e.g. ``("scale", "bias")``
        for flax).

    Returns
    -------
    axes : dict of str to tuple
        Parameter name -> tuple of axis entries, to merge into ``axes_to_perm``.
    """
    kind = str(kind).lower()
    if kind not in ("batchnorm", "layernorm"):
        raise ValueError(f"kind must be 'batchnorm' or 'layernorm', got {kind!r}.")
    if names is None:
        names = ("weight", "bias")
        if kind == "batchnorm":
            names = names + ("running_mean", "running_var")
    out = {f"{name}{sep}{n}": (p,) for n in names}
    if kind == "batchnorm" and names is not None and "running_var" in names:
        out[f"{name}{sep}num_batches_tracked"] = ()
    return out


def flatten_dense_axes(
    name,
    p_channels,
    n_positions,
    p_out,
    *,
    order="NCHW",
    layout="out_in",
    bias=True,
    sep=".",
):
    """Axes of a dense layer reading a flattened ``(C, H, W)`` feature map.

    Parameters
    ----------
    name : str
        Layer prefix.
    p_channels : str
        Channel group of the last conv layer.
    n_positions : int
        ``H * W`` of the flattened map.
    p_out : str or None
        Output group of the dense layer.
    order : {"NCHW", "NHWC"}, default="NCHW"
        Flattening order (PyTorch channel-major or flax channel-last).
    layout : {"out_in", "in_out"}, default="out_in"
        Dense weight layout.
    bias : bool, default=True
        Whether the layer has a bias.
    sep : str, default="."
        Separator.

    Returns
    -------
    axes : dict of str to tuple
        Parameter name -> tuple of axis entries, to merge into ``axes_to_perm``.
    """
    return dense_axes(
        name,
        FlatAxis(p_channels, n_positions, order),
        p_out,
        layout=layout,
        bias=bias,
        sep=sep,
    )


def mlp_spec(
    layer_sizes,
    *,
    layout="out_in",
    weight_name=None,
    bias_name=None,
    bias=True,
    group_name="P{}",
):
    """Permutation spec of a fully connected network.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_in, h_1, ..., h_{L-1}, n_out]``; one group per hidden layer.
    layout : {"out_in", "in_out"}, default="out_in"
        ``"out_in"`` for PyTorch ``(out, in)`` weights, ``"in_out"`` for
        flax / scikit-learn ``(in, out)`` weights.
    weight_name, bias_name : str or sequence of str, optional
        Key of the weight / bias of layer ``k``: a format string with one
        ``{}`` (default ``"W{}"`` / ``"b{}"``) or a list of names.
    bias : bool, default=True
        Whether the layers have biases.
    group_name : str, default="P{}"
        Format string of the group of hidden layer ``k`` (0-based).

    Returns
    -------
    spec : PermutationSpec
        With shapes, so group sizes are known.

    Examples
    --------
    >>> spec = mlp_spec([4, 8, 3], layout="in_out")
    >>> spec.axes_to_perm["W0"], spec.axes_to_perm["W1"]
    ((None, 'P0'), ('P0', None))
    """
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ValueError(f"layer_sizes must have >= 2 positive entries, got {sizes}.")
    n_layers = len(sizes) - 1
    lay = _layout(layout)

    def _names(spec_, default):
        spec_ = default if spec_ is None else spec_
        if isinstance(spec_, str):
            return [spec_.format(k) for k in range(n_layers)]
        spec_ = list(spec_)
        if len(spec_) != n_layers:
            raise ValueError(f"expected {n_layers} names, got {len(spec_)}.")
        return spec_

    wn = _names(weight_name, "W{}")
    bn = _names(bias_name, "b{}")
    a2p, shapes = {}, {}
    for k in range(n_layers):
        p_in = group_name.format(k - 1) if k > 0 else None
        p_out = group_name.format(k) if k < n_layers - 1 else None
        n_in, n_out = sizes[k], sizes[k + 1]
        if lay == "out_in":
            a2p[wn[k]], shapes[wn[k]] = (p_out, p_in), (n_out, n_in)
        else:
            a2p[wn[k]], shapes[wn[k]] = (p_in, p_out), (n_in, n_out)
        if bias:
            a2p[bn[k]], shapes[bn[k]] = (p_out,), (n_out,)
    return PermutationSpec(a2p, shapes=shapes)


def residual_block_axes(
    name,
    p_in,
    p_out,
    inner,
    *,
    layout="out_in",
    norm="batchnorm",
    shortcut=None,
    kernel_ndim=2,
    bias=False,
):
    """Axes of a two-conv residual block (``conv1 -> norm1 -> conv2 -> norm2``).

    The block's output is written into the residual stream ``p_out``.  If
    ``shortcut`` is true (or ``p_in != p_out`` and ``shortcut`` is None) a
    projection ``shortcut.0`` (conv ``p_in -> p_out``) and its norm
    ``shortcut.1`` are added; otherwise ``p_in`` must equal ``p_out``.

    Parameters
    ----------
    name : str
        Block prefix (e.g. ``"layer1.0"``).
    p_in, p_out : str
        Residual-stream groups before and after the block.
    inner : str
        Block-internal channel group.
    layout : {"out_in", "in_out"}, default="out_in"
        Kernel layout.
    norm : {"batchnorm", "layernorm", None}, default="batchnorm"
        Normalisation after each conv.
    shortcut : bool, optional
        Force or forbid the projection shortcut.
    kernel_ndim : int, default=2
        Number of spatial kernel axes.
    bias : bool, default=False
        Whether the convs have biases.

    Returns
    -------
    axes : dict of str to tuple
        Parameter name -> tuple of axis entries, to merge into ``axes_to_perm``.
    """
    if shortcut is None:
        shortcut = p_in != p_out
    if not shortcut and p_in != p_out:
        raise ValueError(
            f"block {name!r}: identity shortcut needs p_in == p_out "
            f"({p_in!r} != {p_out!r})."
        )
    out = {}
    out.update(
        conv_axes(
            f"{name}.conv1", p_in, inner, layout=layout, bias=bias, ndim=kernel_ndim
        )
    )
    if norm:
        out.update(norm_axes(f"{name}.bn1", inner, kind=norm))
    out.update(
        conv_axes(
            f"{name}.conv2", inner, p_out, layout=layout, bias=bias, ndim=kernel_ndim
        )
    )
    if norm:
        out.update(norm_axes(f"{name}.bn2", p_out, kind=norm))
    if shortcut:
        out.update(
            conv_axes(
                f"{name}.shortcut.0",
                p_in,
                p_out,
                layout=layout,
                bias=bias,
                ndim=kernel_ndim,
            )
        )
        if norm:
            out.update(norm_axes(f"{name}.shortcut.1", p_out, kind=norm))
    return out


def cnn_spec(
    channels,
    dense_sizes,
    *,
    n_positions=1,
    order="NCHW",
    layout="out_in",
    norm=None,
    in_channels=None,
    kernel_size=3,
    conv_bias=True,
):
    """Spec of a plain conv net: convs (+ norm), flatten, dense layers.

    Keys: ``conv{k}.weight/bias``, ``norm{k}.*``, ``fc{j}.weight/bias``.

    Parameters
    ----------
    channels : sequence of int
        Output channels of each conv layer; group ``C{k}`` per conv.
    dense_sizes : sequence of int
        Output sizes of the dense layers after flattening (the last one is the
        output layer); group ``F{j}`` per hidden dense layer.
    n_positions : int, default=1
        Spatial positions ``H * W`` of the last feature map when flattened.
    order : {"NCHW", "NHWC"}, default="NCHW"
        Flattening order.
    layout : {"out_in", "in_out"}, default="out_in"
        Weight layout (PyTorch or flax).
    norm : {None, "batchnorm", "layernorm"}, default=None
        Normalisation after each conv.
    in_channels : int, optional
        Input channels; if given (with ``kernel_size``) shapes are attached.
    kernel_size : int, default=3
        Square kernel size (only for the shapes).
    conv_bias : bool, default=True
        Whether convs have biases.

    Returns
    -------
    spec : PermutationSpec
        The validated spec.
    """
    channels = [int(c) for c in channels]
    dense_sizes = [int(d) for d in dense_sizes]
    if not channels or not dense_sizes:
        raise ValueError("channels and dense_sizes must be non-empty.")
    lay = _layout(layout)
    a2p = {}
    shapes = {} if in_channels is not None else None
    prev, c_prev = None, in_channels
    ks = (kernel_size, kernel_size)
    for k, c in enumerate(channels):
        g = f"C{k}"
        a2p.update(conv_axes(f"conv{k}", prev, g, layout=lay, bias=conv_bias))
        if shapes is not None:
            shapes[f"conv{k}.weight"] = (
                (c, c_prev) + ks if lay == "out_in" else ks + (c_prev, c)
            )
            if conv_bias:
                shapes[f"conv{k}.bias"] = (c,)
        if norm:
            na = norm_axes(f"norm{k}", g, kind=norm)
            a2p.update(na)
            if shapes is not None:
                for key, ax in na.items():
                    shapes[key] = (c,) if ax else ()
        prev, c_prev = g, c
    n_in = channels[-1] * int(n_positions)
    p_in = FlatAxis(prev, n_positions, order)
    for j, d in enumerate(dense_sizes):
        p_out = f"F{j}" if j < len(dense_sizes) - 1 else None
        a2p.update(dense_axes(f"fc{j}", p_in, p_out, layout=lay))
        if shapes is not None:
            shapes[f"fc{j}.weight"] = (d, n_in) if lay == "out_in" else (n_in, d)
            shapes[f"fc{j}.bias"] = (d,)
        p_in, n_in = p_out, d
    return PermutationSpec(a2p, shapes=shapes)


def resnet_spec(
    stage_widths,
    blocks_per_stage,
    n_classes,
    *,
    layout="out_in",
    norm="batchnorm",
    in_channels=None,
    kernel_size=3,
):
    """Spec of a small ResNet (ResNet20-style) with one group per residual stream.

    Keys follow torchvision-style naming: ``conv1``, ``bn1`` (stem),
    ``layer{s}.{b}.conv1/bn1/conv2/bn2[/shortcut.0/shortcut.1]`` and ``fc``
    (global average pooling before ``fc``). Convs have no bias.

    Parameters
    ----------
    stage_widths : sequence of int
        Channels of every stage; stream group ``S{s}`` per stage.
    blocks_per_stage : int
        Residual blocks per stage; inner groups ``S{s}_B{b}_inner``.
    n_classes : int
        Output size.
    layout : {"out_in", "in_out"}, default="out_in"
        Kernel layout.
    norm : {"batchnorm", "layernorm", None}, default="batchnorm"
        Normalisation layers.
    in_channels : int, optional
        If given, shapes are attached for validation.
    kernel_size : int, default=3
        Kernel size (only for the shapes; shortcuts are 1x1).

    Returns
    -------
    spec : PermutationSpec
        The validated spec.
    """
    widths = [int(w) for w in stage_widths]
    lay = _layout(layout)
    a2p = {}
    a2p.update(conv_axes("conv1", None, "S0", layout=lay, bias=False))
    if norm:
        a2p.update(norm_axes("bn1", "S0", kind=norm))
    for s in range(len(widths)):
        for b in range(int(blocks_per_stage)):
            p_in = f"S{s - 1}" if (b == 0 and s > 0) else f"S{s}"
            a2p.update(
                residual_block_axes(
                    f"layer{s}.{b}",
                    p_in,
                    f"S{s}",
                    f"S{s}_B{b}_inner",
                    layout=lay,
                    norm=norm,
                )
            )
    a2p.update(dense_axes("fc", f"S{len(widths) - 1}", None, layout=lay))
    shapes = None
    if in_channels is not None:
        shapes = {}
        sizes = {f"S{s}": w for s, w in enumerate(widths)}
        for s, w in enumerate(widths):
            for b in range(int(blocks_per_stage)):
                sizes[f"S{s}_B{b}_inner"] = w
        for key, axes in a2p.items():
            shp = []
            conv_like = key.endswith("weight") and len(axes) == 4
            is_short = ".shortcut.0." in key or key.endswith("shortcut.0.weight")
            for i, e in enumerate(axes):
                if e is None:
                    if conv_like and (i in ((2, 3) if lay == "out_in" else (0, 1))):
                        shp.append(1 if is_short else kernel_size)
                    elif key == "fc.weight":
                        shp.append(n_classes)
                    elif key == "fc.bias":
                        shp.append(n_classes)
                    else:
                        shp.append(in_channels)
                else:
                    shp.append(sizes[_group_of(e)])
            shapes[key] = tuple(shp)
    return PermutationSpec(a2p, shapes=shapes)
