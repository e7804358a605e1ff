"""The FSRCNN network (Dong, Loy & Tang, ECCV 2016) and its fast inference form.

The network works on one luminance channel in [0, 1]:

====================  ==============================  =====================
stage                 layer                           PyTorch
====================  ==============================  =====================
feature extraction    Conv(5, d, 1) + PReLU           ``Conv2d(1, d, 5)``
shrinking             Conv(1, s, d) + PReLU           ``Conv2d(d, s, 1)``
non-linear mapping    m x (Conv(3, s, s) + PReLU)     ``Conv2d(s, s, 3)``
expanding             Conv(1, d, s) + PReLU           ``Conv2d(s, d, 1)``
deconvolution         DeConv(9, 1, d), stride scale   ``ConvTranspose2d``
====================  ==============================  =====================

Every convolution is zero padded so that the output is exactly ``scale``
times the input. The receptive field of one output pixel spans
``2 * halo + 1`` input pixels: 2 for the 5x5 feature layer, 1 per 3x3
mapping layer and 2 (x2, x3) or 1 (x4) for the deconvolution, so
``halo = 4 + m`` at x2 and x3
(:attr:`FSRCNN.halo`). Tiles overlapping by that many low-resolution
pixels give exactly the untiled result.

:class:`SRCNN` (Dong et al., 2014), the 9-1-5 network FSRCNN accelerates,
is here as a baseline for comparison: it maps the low-resolution image to
the high-resolution one itself, upsampling first with MATLAB's bicubic
(:class:`BicubicUpsample`), so it trains, evaluates and upscales wherever
FSRCNN does.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .resize import BICUBIC_REACH, bicubic_phases

__all__ = [
    "ARCHITECTURES",
    "BicubicUpsample",
    "FSRCNN",
    "PRESETS",
    "SRCNN",
    "FastFSRCNN",
    "build_model",
    "inference_form",
]

#: Architecture presets ``name -> (d, s, m)`` from the paper.
PRESETS = {
    "fsrcnn": {"d": 56, "s": 12, "m": 4},
    "fsrcnn-s": {"d": 32, "s": 5, "m": 1},
}

#: Names of the networks :func:`build_model` builds: the FSRCNN
#: :data:`PRESETS` and the ``'srcnn'`` baseline (``model`` of a training config).
#:
#: Examples
#: --------
#: >>> from skfsrcnn.models import ARCHITECTURES
#: >>> ARCHITECTURES
#: ('fsrcnn', 'fsrcnn-s', 'srcnn')
ARCHITECTURES = (*PRESETS, "srcnn")

_DECONV_KERNEL = 9
_DECONV_PADDING = _DECONV_KERNEL // 2


def _conv_prelu(in_channels, out_channels, kernel_size):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
        nn.PReLU(out_channels),
    )


class FSRCNN(nn.Module):
    """FSRCNN exactly as in the paper.

    Parameters
    ----------
    scale : int
        Upscaling factor; the deconvolution stride.
    d : int, optional
        Number of feature channels (LR feature dimension).
    s : int, optional
        Number of shrunk channels.
    m : int, optional
        Number of 3x3 mapping layers.

    Examples
    --------
    >>> import torch
    >>> from skfsrcnn.models import FSRCNN
    >>> net = FSRCNN(3)
    >>> net(torch.zeros(1, 1, 10, 12)).shape
    torch.Size([1, 1, 30, 36])
    """

    def __init__(self, scale, d=56, s=12, m=4):
        super().__init__()
        self.scale, self.d, self.s, self.m = int(scale), int(d), int(s), int(m)
        self.feature = _conv_prelu(1, d, 5)
        self.shrink = _conv_prelu(d, s, 1)
        self.mapping = nn.Sequential(*[_conv_prelu(s, s, 3) for _ in range(m)])
        self.expand = _conv_prelu(s, d, 1)
        self.deconv = nn.ConvTranspose2d(
            d,
            1,
            _DECONV_KERNEL,
            stride=scale,
            padding=_DECONV_PADDING,
            output_padding=scale - 1,
        )
        self.reset_parameters()

    @classmethod
    def from_preset(cls, name, scale):
        """Build the preset ``name`` (``'fsrcnn'`` or ``'fsrcnn-s'``) for ``scale``.

        Parameters
        ----------
        name : {'fsrcnn', 'fsrcnn-s'}
            Key of :data:`PRESETS`.
        scale : int
            Upscaling factor.

        Returns
        -------
        FSRCNN
            A freshly initialised network.

        Examples
        --------
        >>> from skfsrcnn.models import FSRCNN
        >>> FSRCNN.from_preset("fsrcnn-s", 2).config
        {'scale': 2, 'd': 32, 's': 5, 'm': 1}
        """
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; use one of {', '.join(PRESETS)}.")
        return cls(scale, **PRESETS[name])

    @property
    def config(self):
        """The constructor arguments, enough to rebuild the architecture.

        Examples
        --------
        >>> from skfsrcnn.models import FSRCNN
        >>> FSRCNN(3).config
        {'scale': 3, 'd': 56, 's': 12, 'm': 4}
        """
        return {"scale": self.scale, "d": self.d, "s": self.s, "m": self.m}

    @property
    def halo(self):
        """Low-resolution pixels of context that one output pixel depends on, per side.

        Examples
        --------
        >>> from skfsrcnn.models import FSRCNN
        >>> FSRCNN(3).halo, FSRCNN(4).halo
        (8, 7)
        """
        return halo(self.m, self.scale)

    def reset_parameters(self):
        """He initialisation for the PReLU layers, N(0, 0.001) for the deconvolution.

        Examples
        --------
        >>> from skfsrcnn.models import FSRCNN
        >>> net = FSRCNN(2)
        >>> net.reset_parameters()
        >>> float(net.deconv.bias.detach().abs().max())
        0.0
        """
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, a=0.25, nonlinearity="leaky_relu")
                nn.init.zeros_(module.bias)
        nn.init.normal_(self.deconv.weight, std=0.001)
        nn.init.zeros_(self.deconv.bias)

    def body(self, x):
        """All layers up to (and including) the expanding layer.

        Examples
        --------
        >>> import torch
        >>> from skfsrcnn.models import FSRCNN
        >>> FSRCNN(2).body(torch.zeros(1, 1, 8, 8)).shape
        torch.Size([1, 56, 8, 8])
        """
        return self.expand(self.mapping(self.shrink(self.feature(x))))

    def forward(self, x):
        """Upscale ``x`` of shape (B, 1, M, N) to (B, 1, M * scale, N * scale).

        Examples
        --------
        >>> import torch
        >>> from skfsrcnn.models import FSRCNN
        >>> FSRCNN(4)(torch.zeros(1, 1, 5, 6)).shape
        torch.Size([1, 1, 20, 24])
        """
        return self.deconv(self.body(x))


def halo(m, scale):
    """Receptive-field radius, in LR pixels, of FSRCNN with ``m`` mapping layers."""
    low, high = _subpixel_offsets(scale)
    return 2 + m + max(-low, high)


def _subpixel_offsets(scale):
    """LR tap offsets ``j`` that the strided deconvolution reaches for any output phase."""
    low = -((_DECONV_KERNEL - 1 - _DECONV_PADDING) // scale)
    high = (scale - 1 + _DECONV_PADDING) // scale
    return low, high


def deconv_as_subpixel(x, weight, bias, scale):
    """The strided 9x9 transposed convolution of ``x``, as a convolution on the LR grid.

    Output pixel ``q * scale + r`` of the transposed convolution is
    ``sum_j x[q + j] * w[r + pad - j * scale]``: a small convolution on the
    LR grid with one output channel per phase ``r`` (:func:`_compact_subpixel`,
    each phase's window shifted so that x3 needs 3x3 taps, not 4x4), whose
    phases are then interleaved. An exact identity that avoids the scattered
    writes of the transposed form; differentiable, it is the training form
    of :class:`FastFSRCNN`.

    Parameters
    ----------
    x : (B, d, M, N) Tensor
        Feature map.
    weight : (d, 1, 9, 9) Tensor
        ``ConvTranspose2d`` weight.
    bias : (1,) Tensor
        ``ConvTranspose2d`` bias.
    scale : int
        Stride of the transposed convolution.

    Returns
    -------
    (B, 1, M * scale, N * scale) Tensor

    Examples
    --------
    >>> import torch
    >>> from skfsrcnn.models import deconv_as_subpixel
    >>> deconv = torch.nn.ConvTranspose2d(4, 1, 9, stride=3, padding=4, output_padding=2)
    >>> x = torch.rand(1, 4, 5, 6)
    >>> bool(torch.allclose(deconv_as_subpixel(x, deconv.weight, deconv.bias, 3), deconv(x), atol=1e-6))
    True
    """
    batch, _, rows, cols = x.shape
    width, base, shifts = _phase_windows(scale)
    weight, bias = _compact_subpixel(weight, bias, scale)
    before, after = -base, width - 1 + base + max(shifts)
    weight = weight.contiguous(memory_format=torch.channels_last)
    y = F.conv2d(F.pad(x, (before, after, before, after)), weight, bias)
    if not any(shifts):  # x2, x4: every phase is aligned
        return F.pixel_shuffle(y, scale)
    y = y.view(batch, scale, scale, *y.shape[2:])  # phase (ry, rx) of LR pixel (q, p) at (q + shift)
    y = torch.stack([y[:, r, :, shifts[r] : shifts[r] + rows] for r in range(scale)], dim=1)
    y = torch.stack([y[:, :, r, :, shifts[r] : shifts[r] + cols] for r in range(scale)], dim=2)
    return y.permute(0, 3, 1, 4, 2).reshape(batch, 1, rows * scale, cols * scale)


def _phase_windows(scale):
    """Geometry of the compact sub-pixel kernel along one axis.

    Phase ``r`` of the strided deconvolution reads the LR offsets
    ``lo_r .. hi_r``. Every window fits a common ``width``; phase ``r``'s
    window starts at ``base + shifts[r]``, so one convolution with a
    ``width``-tap kernel computes every phase, phase ``r`` shifted by
    ``shifts[r]`` LR pixels (undone when the phases are interleaved). At x3
    this needs 3x3 taps where one window for every phase needs 4x4.

    Returns
    -------
    width : int
        Taps of the compact kernel.
    base : int
        LR offset of the first tap of an unshifted phase (``<= 0``).
    shifts : tuple of int
        Non-negative shift of each phase's window.
    """
    lo, hi = [], []
    for r in range(scale):
        taps = [
            j
            for j in range(-_DECONV_KERNEL, _DECONV_KERNEL + 1)
            if 0 <= r + _DECONV_PADDING - j * scale < _DECONV_KERNEL
        ]
        lo.append(min(taps))
        hi.append(max(taps))
    width = max(h - l + 1 for l, h in zip(lo, hi))
    base = min(lo)
    starts = [max(h - width + 1, base) for h in hi]
    return width, base, tuple(s - base for s in starts)


def _compact_subpixel(weight, bias, scale, fold=1, channels=None):
    """The deconvolution as one small convolution whose channels are output phases.

    Output channel ``f * scale**2 + ry * scale + rx`` holds phase
    ``(ry, rx)`` of LR column ``fold * o + f`` (``fold`` > 1 trades zero
    output channels for a strided convolution); ``channels`` pads the output
    channels with zeros (oneDNN computes whole blocks of 8 anyway and is
    faster on full ones).

    Returns
    -------
    weight : (channels, d, width, width + fold - 1) Tensor
    bias : (channels,) Tensor
    """
    width, base, shifts = _phase_windows(scale)
    index = torch.full((scale, width), _DECONV_KERNEL, dtype=torch.long)
    for r in range(scale):
        for t in range(width):
            k = r + _DECONV_PADDING - (base + shifts[r] + t) * scale
            if 0 <= k < _DECONV_KERNEL:
                index[r, t] = k
    index = index.to(weight.device)
    padded = F.pad(weight[:, 0], (0, 1, 0, 1))  # row/column _DECONV_KERNEL reads zero
    phases = padded[:, index[:, None, :, None], index[None, :, None, :]]  # (d, S, S, T, T)
    phases = phases.permute(1, 2, 0, 3, 4).reshape(scale * scale, weight.shape[0], width, width)
    channels = channels or fold * scale * scale
    out_weight = weight.new_zeros(channels, weight.shape[0], width, width + fold - 1)
    out_bias = bias.new_zeros(channels)
    for f in range(fold):
        out_weight[f * scale * scale : (f + 1) * scale * scale, :, :, f : f + width] = phases
        out_bias[f * scale * scale : (f + 1) * scale * scale] = bias
    return out_weight, out_bias


#: Column fold of the sub-pixel convolution per scale (x2: 8 output channels, no zero block).
_FOLD = {2: 2}
#: Output channels of the sub-pixel convolution are padded to a multiple of this (oneDNN's block).
_BLOCK = 8
#: LR pixels per band of the streamed CPU inference (cache-sized intermediates).
_BAND_PIXELS = 1 << 15


def _mkldnn_usable(device, dtype):
    return (
        device.type == "cpu"
        and dtype == torch.float32
        and torch.backends.mkldnn.is_available()
        and torch.backends.mkldnn.enabled
        and hasattr(torch.ops.mkldnn, "_convolution_pointwise")
    )


_ALLOCATOR_SETTLED = False


def _settle_allocator():
    """Let glibc's malloc keep band-sized blocks instead of mapping and unmapping them.

    glibc serves large blocks with ``mmap`` and returns them on ``free``: each
    band's fresh intermediates would then be page-faulted in again, which
    costs as much as the convolutions. glibc raises its mmap threshold (and
    its trim threshold to twice that) to the size of any mmapped block freed,
    up to 32 MiB, so one such allocation makes later band-sized blocks reuse
    heap memory. This is the state any process reaches after handling one
    30 MiB array; other allocators are unaffected.
    """
    global _ALLOCATOR_SETTLED
    if not _ALLOCATOR_SETTLED:
        _ALLOCATOR_SETTLED = True
        torch.empty(30 << 20, dtype=torch.uint8)  # allocated and freed at once


class _Conv:
    """One convolution (+ PReLU) of the inference plan; weights prepacked for oneDNN on CPU."""

    def __init__(self, weight, bias, prelu=None, padding=(0, 0), stride=(1, 1), mkldnn=False):
        self.padding, self.stride = list(padding), list(stride)
        self.bias, self.prelu, self.mkldnn = bias.contiguous(), prelu, mkldnn
        weight = weight.contiguous(memory_format=torch.channels_last)
        self.reference = weight
        if mkldnn:
            size = [1, weight.shape[1], 64, 64 + weight.shape[3]]
            self.weight = torch.ops.mkldnn._reorder_convolution_weight(
                weight, self.padding, self.stride, [1, 1], 1, size
            )
        else:
            self.weight = weight

    def __call__(self, x, padding=None):
        padding = self.padding if padding is None else padding
        if self.mkldnn:
            y = torch.ops.mkldnn._convolution_pointwise(
                x, self.weight, self.bias, padding, self.stride, [1, 1], 1, "none", [], ""
            )
        else:
            y = F.conv2d(x, self.weight, self.bias, self.stride, padding)
        return y if self.prelu is None else torch.prelu(y, self.prelu)


class _Unit:
    """Pointwise ``pre`` convs, one conv with a vertical reach, pointwise ``post`` convs.

    Zero padding above and below the image belongs to the input of ``conv``;
    ``top``/``bottom`` zero rows are added there, ``rows`` is the height of
    its kernel. The unit's carried input is the input of ``pre``.
    """

    def __init__(self, conv, pre=(), post=(), top=0, bottom=0):
        self.conv, self.pre, self.post = conv, tuple(pre), tuple(post)
        self.top, self.bottom = top, bottom
        self.rows = conv.reference.shape[2]
        self.channels = (pre[0] if pre else conv).reference.shape[1]

    def __call__(self, x, zero_top, zero_bottom, padding=None):
        for op in self.pre:
            x = op(x)
        if zero_top:
            x[:, :, :zero_top] = 0
        if zero_bottom:
            x[:, :, x.shape[2] - zero_bottom :] = 0
        x = self.conv(x, padding)
        for op in self.post:
            x = op(x)
        return x


class _Plan:
    """Inference form of one model's current weights on one device and dtype."""

    def __init__(self, model, device, dtype):
        scale = model.scale
        self.scale, self.dtype = scale, dtype
        self.fold = _FOLD.get(scale, 1)
        self.width, base, self.shifts = _phase_windows(scale)
        self.delay = max(self.shifts)  # extra LR rows/columns of the shifted phases
        self.left = -base

        def get(tensor):
            return tensor.detach().to(device=device, dtype=dtype)

        def units(mkldnn):
            def conv(block):
                layer, act = block
                return _Conv(get(layer.weight), get(layer.bias), get(act.weight),
                             padding=(0, layer.kernel_size[1] // 2), mkldnn=mkldnn)

            mapping = [conv(block) for block in model.mapping]
            yield _Unit(conv(model.feature), post=[conv(model.shrink)], top=2, bottom=2)
            for layer in mapping:
                yield _Unit(layer, top=1, bottom=1)
            channels = -(-self.fold * scale * scale // _BLOCK) * _BLOCK
            weight, bias = _compact_subpixel(
                get(model.deconv.weight), get(model.deconv.bias), scale, self.fold, channels
            )
            final = _Conv(weight, bias, stride=(1, self.fold), mkldnn=mkldnn)
            yield _Unit(final, pre=[conv(model.expand)], top=self.left,
                        bottom=self.width - 1 - self.left + self.delay)

        self.units = None
        if _mkldnn_usable(device, dtype):
            try:  # oneDNN's prepacked convolutions, checked against F.conv2d once
                self.units = list(units(True))
                if not self._mkldnn_agrees():
                    self.units = None
            except (RuntimeError, AttributeError, TypeError):  # pragma: no cover - torch build
                self.units = None
        if self.units is None:
            self.units = list(units(False))
        self.banded = device.type == "cpu"
        if self.banded:
            _settle_allocator()

    def _mkldnn_agrees(self):
        """oneDNN's prepacked convolution gives F.conv2d's result (else F.conv2d is used)."""
        op = self.units[0].conv
        x = torch.rand(1, 1, 9, 11, dtype=self.dtype)
        expected = torch.prelu(F.conv2d(x, op.reference, op.bias, op.stride, op.padding), op.prelu)
        return bool(torch.allclose(op(x), expected, atol=1e-5))

    def final_padding(self, columns):
        """Symmetric column padding of the sub-pixel conv and the first LR column it yields."""
        kernel = self.width + self.fold - 1
        padding = self.left
        while True:
            first = self.left - padding
            outputs = (columns + 2 * padding - kernel) // self.fold + 1
            if first + self.fold * outputs >= columns + self.delay:
                return padding, first
            padding += 1

    def __call__(self, x):
        """Run ``x`` (N, 1, H, W) band by band; returns (N, 1, H * scale, W * scale)."""
        n, _, rows, cols = x.shape
        scale = self.scale
        out = x.new_empty(n, 1, rows * scale, cols * scale)
        x = x.to(self.dtype).contiguous(memory_format=torch.channels_last)
        padding, first = self.final_padding(cols)
        final_padding = [0, padding]
        band = max(1, _BAND_PIXELS // (n * cols)) if self.banded else rows
        carries = [None] * len(self.units)
        pending = [unit.top for unit in self.units]
        emitted = 0
        for start in range(0, rows, band):
            y = x[:, :, start : start + band]
            last = start + band >= rows
            for u, unit in enumerate(self.units):
                parts = [] if carries[u] is None else [carries[u]]
                if carries[u] is None and unit.top:
                    parts.append(self._zeros(y, unit.channels, unit.top))
                parts.append(y)
                if last and unit.bottom:
                    parts.append(self._zeros(y, unit.channels, unit.bottom))
                window = parts[0] if len(parts) == 1 else torch.cat(parts, dim=2)
                ready = window.shape[2] - unit.rows + 1
                carries[u] = window[:, :, max(ready, 0) :]
                if ready <= 0:
                    y = None
                    break
                zero_top, pending[u] = pending[u], max(0, pending[u] - ready)
                zero_bottom = unit.bottom if last else 0
                padding = final_padding if u == len(self.units) - 1 else None
                y = unit(window, zero_top, zero_bottom, padding)
            if y is not None:
                self._interleave(y, emitted, first, out)
                emitted += y.shape[2]
        return out

    @staticmethod
    def _zeros(like, channels, rows):
        shape = (like.shape[0], channels, rows, like.shape[3])
        return torch.empty(
            shape, dtype=like.dtype, device=like.device, memory_format=torch.channels_last
        ).zero_()

    def _interleave(self, y, start, first, out):
        """Write phase rows ``start ..`` of ``y`` into the output (pixel shuffle with shifts)."""
        n, _, rows, cols = out.shape
        scale, fold = self.scale, self.fold
        rows, cols = rows // scale, cols // scale
        band = y.shape[2]
        phases = y.permute(0, 2, 3, 1)[..., : fold * scale * scale]
        phases = phases.reshape(n, band, y.shape[3] * fold, scale, scale)
        target = out.view(n, rows, scale, cols, scale).permute(0, 1, 3, 2, 4)
        for ay, by, dy in _groups(self.shifts):
            low, high = max(0, start - dy), min(rows, start + band - dy)
            if low >= high:
                continue
            for ax, bx, dx in _groups(self.shifts):
                target[:, low:high, :, ay:by, ax:bx] = phases[
                    :, low + dy - start : high + dy - start, dx - first : dx - first + cols, ay:by, ax:bx
                ]


def _groups(shifts):
    """Runs ``(start, stop, shift)`` of consecutive phases with equal shift."""
    runs, begin = [], 0
    for r in range(1, len(shifts) + 1):
        if r == len(shifts) or shifts[r] != shifts[begin]:
            runs.append((begin, r, shifts[begin]))
            begin = r
    return runs


class FastFSRCNN(nn.Module):
    """Inference form of :class:`FSRCNN`: same function, faster on CPU and GPU.

    With gradients enabled (training) the strided deconvolution becomes a
    convolution on the low-resolution grid whose output channels are the
    output phases, then interleaved (:func:`deconv_as_subpixel`):
    channels-last and differentiable; at x3 its shifted phase windows need
    3x3 taps instead of 4x4, about 1.3x (FSRCNN) to 1.5x (FSRCNN-s) fewer
    multiply-adds for the whole network.

    Without gradients (``torch.no_grad``/``torch.inference_mode``) a cached
    inference plan runs instead, rebuilt whenever a parameter changes
    (optimizer step, ``load_state_dict``, ``to``):

    * the deconvolution is one small convolution whose output channels are
      the output phases, with each phase's window shifted so that x3 needs
      3x3 taps instead of 4x4 (x2 computes two LR columns per output, x3 is
      padded to 16 channels: oneDNN computes blocks of 8 anyway);
    * on CPU, the weights are prepacked for oneDNN and the image streams
      through the network in horizontal bands of about 32 k LR pixels, each
      layer carrying only the rows its kernel still needs, so intermediates
      stay in cache and nothing is recomputed;
    * ``half=True`` computes in float16 on CUDA (the output keeps the input's dtype).

    Outputs equal the reference module's to float rounding.

    Parameters
    ----------
    model : FSRCNN
        The network; its parameters are shared, not copied, so the fast form
        can also be trained and always reflects the model's current weights.
        :func:`inference_form` picks the form to run for any network (the
        :class:`SRCNN` baseline runs as it is).
    half : bool, optional
        On CUDA, run inference in float16 (ignored on other devices).

    Examples
    --------
    >>> import torch
    >>> from skfsrcnn.models import FSRCNN, FastFSRCNN
    >>> net = FSRCNN(2).eval()
    >>> x = torch.rand(1, 1, 16, 16)
    >>> fast = FastFSRCNN(net)
    >>> with torch.no_grad():
    ...     bool(torch.allclose(fast(x), net(x), atol=1e-5))
    True
    """

    def __init__(self, model, *, half=False):
        super().__init__()
        self.model = model.to(memory_format=torch.channels_last)
        self.scale, self.halo = model.scale, model.halo
        self.half = bool(half)
        self._plan = (None, None)

    def plan(self, device, dtype):
        """The inference plan for the current weights (cached; rebuilt when they change).

        The cache is keyed on every parameter's storage and version counter,
        which in-place updates (optimizer steps, ``load_state_dict``,
        ``copy_``) increment, and on the device, dtype and oneDNN switch.

        Examples
        --------
        >>> import torch
        >>> from skfsrcnn.models import FSRCNN, FastFSRCNN
        >>> fast = FastFSRCNN(FSRCNN(2).eval())
        >>> fast.plan(torch.device("cpu"), torch.float32) is fast.plan(torch.device("cpu"), torch.float32)
        True
        """
        parameters = tuple(self.model.parameters())
        key = (
            torch.device(device),
            dtype,
            torch.backends.mkldnn.enabled,
            # Inference tensors have no version counter (and are changed only inside inference mode).
            tuple((p.data_ptr(), None if p.is_inference() else p._version) for p in parameters),
        )
        cached_key, plan = self._plan
        if cached_key != key:
            with torch.no_grad():
                plan = _Plan(self.model, key[0], dtype)
            self._plan = (key, plan)
        return plan

    def forward(self, x):
        """Upscale ``x`` (B, 1, M, N); differentiable when gradients are needed.

        Examples
        --------
        >>> import torch
        >>> from skfsrcnn.models import FSRCNN, FastFSRCNN
        >>> fast = FastFSRCNN(FSRCNN(3).eval())
        >>> with torch.inference_mode():
        ...     fast(torch.zeros(1, 1, 6, 6)).shape
        torch.Size([1, 1, 18, 18])
        """
        parameters = tuple(self.model.parameters())
        if torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in parameters)):
            return self._differentiable(x)
        device, dtype = parameters[0].device, parameters[0].dtype
        if self.half and device.type == "cuda":
            dtype = torch.float16
        return self.plan(device, dtype)(x)

    def __getstate__(self):
        # The plan holds prepacked (unpicklable) oneDNN weights; it is rebuilt on demand.
        state = super().__getstate__().copy()
        state["_plan"] = (None, None)
        return state

    def _differentiable(self, x):
        x = self.model.body(x.contiguous(memory_format=torch.channels_last))
        return deconv_as_subpixel(x, self.model.deconv.weight, self.model.deconv.bias, self.scale)


# --- SRCNN (Dong, Loy, He & Tang, ECCV 2014): the baseline for comparison ---

class BicubicUpsample(nn.Module):
    """MATLAB's bicubic ``imresize`` by an integer factor, as a convolution and a pixel shuffle.

    Output phase ``(ry, rx)`` (HR pixel ``(q * scale + ry, p * scale + rx)``)
    is a fixed 5x5 convolution of the LR image, the outer product of the
    phases' 1-D bicubic weights; edge pixels are replicated beyond the
    border, as ``imresize`` clamps its taps. The result equals
    :func:`skfsrcnn.resize.imresize` ``(image, scale)`` to float rounding,
    and is differentiable. The kernel is a buffer, not a parameter, and is
    left out of the state dict.

    Parameters
    ----------
    scale : int
        Upscaling factor, a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skfsrcnn.models import BicubicUpsample
    >>> from skfsrcnn.resize import imresize
    >>> image = np.random.default_rng(0).random((6, 7)).astype(np.float32)
    >>> up = BicubicUpsample(3)(torch.from_numpy(image)[None, None])
    >>> up.shape
    torch.Size([1, 1, 18, 21])
    >>> bool(np.allclose(up[0, 0].numpy(), imresize(image, 3), atol=1e-6))
    True
    """

    def __init__(self, scale):
        super().__init__()
        if isinstance(scale, bool) or int(scale) != scale or scale < 1:
            raise ValueError(f"`scale` must be a positive integer, got {scale!r}.")
        self.scale = int(scale)
        phases = bicubic_phases(self.scale)
        kernel = phases[:, None, :, None] * phases[None, :, None, :]  # (ry, rx, 5, 5)
        kernel = kernel.reshape(self.scale * self.scale, 1, *kernel.shape[2:])
        self.register_buffer(
            "kernel", torch.tensor(kernel, dtype=torch.get_default_dtype()), persistent=False
        )

    def forward(self, x):
        """Upscale ``x`` of shape (B, 1, M, N) to (B, 1, M * scale, N * scale).

        Examples
        --------
        >>> import torch
        >>> from skfsrcnn.models import BicubicUpsample
        >>> BicubicUpsample(2)(torch.ones(1, 1, 3, 4))
        tensor([[[[1., 1., 1., 1., 1., 1., 1., 1.],
                  [1., 1., 1., 1., 1., 1., 1., 1.],
                  [1., 1., 1., 1., 1., 1., 1., 1.],
                  [1., 1., 1., 1., 1., 1., 1., 1.],
                  [1., 1., 1., 1., 1., 1., 1., 1.],
                  [1., 1., 1., 1., 1., 1., 1., 1.]]]])
        """
        x = F.pad(x, (BICUBIC_REACH,) * 4, mode="replicate")
        return F.pixel_shuffle(F.conv2d(x, self.kernel), self.scale)


class SRCNN(nn.Module):
    """SRCNN (Dong, Loy, He & Tang, ECCV 2014) with its bicubic upsampling inside.

    The paper's network works on the bicubically upscaled image; here the
    upsampling (MATLAB's bicubic, :class:`BicubicUpsample`) is the module's
    first step, so that SRCNN maps a low-resolution image to its
    super-resolution as :class:`FSRCNN` does, and trains, evaluates and
    upscales wherever FSRCNN does:

    ====================  ==============================  =====================
    stage                 layer                           PyTorch
    ====================  ==============================  =====================
    upsampling            MATLAB bicubic, x scale         ``BicubicUpsample``
    patch extraction      Conv(f1, n1, 1) + ReLU          ``Conv2d(1, n1, f1)``
    non-linear mapping    Conv(f2, n2, n1) + ReLU         ``Conv2d(n1, n2, f2)``
    reconstruction        Conv(f3, 1, n2)                 ``Conv2d(n2, 1, f3)``
    ====================  ==============================  =====================

    The defaults are the paper's 9-1-5 network (n1 = 64, n2 = 32). The
    convolutions are zero padded to keep the size (the paper's used none
    and lost the border), so the output is exactly ``scale`` times the input.

    Parameters
    ----------
    scale : int
        Upscaling factor of the bicubic step.
    n1, n2 : int, optional
        Channels of the patch extraction and the non-linear mapping.
    f1, f2, f3 : int, optional
        Kernel sizes (odd) of the three convolutions.

    Notes
    -----
    Every convolution runs at the high resolution: per output pixel, SRCNN
    9-1-5 costs about 3, 6 and 10 times the multiply-adds of FSRCNN 56-12-4
    at x2, x3 and x4, and holds 64 channels of the upscaled size in memory
    (bound it with ``upscale``'s ``tile_size``). It is here as a baseline
    for comparison; no weights are released.

    References
    ----------
    .. [1] C. Dong, C. C. Loy, K. He and X. Tang, "Learning a Deep
       Convolutional Network for Image Super-Resolution", ECCV 2014.

    Examples
    --------
    >>> import torch
    >>> from skfsrcnn.models import SRCNN
    >>> net = SRCNN(3)
    >>> net(torch.zeros(1, 1, 10, 12)).shape
    torch.Size([1, 1, 30, 36])
    >>> net.config
    {'scale': 3, 'n1': 64, 'n2': 32, 'f1': 9, 'f2': 1, 'f3': 5}
    """

    def __init__(self, scale, n1=64, n2=32, f1=9, f2=1, f3=5):
        super().__init__()
        for name, size in (("f1", f1), ("f2", f2), ("f3", f3)):
            if isinstance(size, bool) or int(size) != size or size < 1 or size % 2 == 0:
                raise ValueError(f"`{name}` must be an odd positive kernel size, got {size!r}.")
        self.upsample = BicubicUpsample(scale)
        self.scale = self.upsample.scale
        self.n1, self.n2, self.f1, self.f2, self.f3 = (int(v) for v in (n1, n2, f1, f2, f3))
        self.extraction = nn.Conv2d(1, self.n1, self.f1, padding=self.f1 // 2)
        self.mapping = nn.Conv2d(self.n1, self.n2, self.f2, padding=self.f2 // 2)
        self.reconstruction = nn.Conv2d(self.n2, 1, self.f3, padding=self.f3 // 2)
        self.reset_parameters()

    @property
    def config(self):
        """The constructor arguments, enough to rebuild the architecture.

        Examples
        --------
        >>> from skfsrcnn.models import SRCNN
        >>> SRCNN(2, n1=32, n2=16).config
        {'scale': 2, 'n1': 32, 'n2': 16, 'f1': 9, 'f2': 1, 'f3': 5}
        """
        return {"scale": self.scale, "n1": self.n1, "n2": self.n2,
                "f1": self.f1, "f2": self.f2, "f3": self.f3}

    @property
    def halo(self):
        """Low-resolution pixels of context that one output pixel depends on, per side.

        LR pixel ``q + j`` feeds the upsampled pixels ``q * scale + r`` of
        the phases ``r`` whose bicubic tap ``j`` (-2 to 2) is not zero, and
        the convolutions spread each of those over ``(f1 + f2 + f3 - 3) / 2``
        HR pixels (6 for 9-1-5); the halo is the farthest LR pixel reached.

        Examples
        --------
        >>> from skfsrcnn.models import SRCNN
        >>> SRCNN(2).halo, SRCNN(3).halo, SRCNN(4).halo
        (5, 4, 3)
        """
        reach = self.f1 // 2 + self.f2 // 2 + self.f3 // 2
        phases, taps = np.nonzero(bicubic_phases(self.scale))
        shift = BICUBIC_REACH - taps  # -j: LR pixel c feeds upsampled row c - j through tap j
        before = shift + (phases - reach) // self.scale
        after = shift + (phases + reach) // self.scale
        return int(max(-before.min(), after.max()))

    def reset_parameters(self):
        """He initialisation for the ReLU layers, N(0, 0.001) for the reconstruction.

        The paper draws every layer from N(0, 0.001); He initialisation
        lets the signal through the first two layers from the start.

        Examples
        --------
        >>> from skfsrcnn.models import SRCNN
        >>> net = SRCNN(3)
        >>> net.reset_parameters()
        >>> float(net.reconstruction.bias.detach().abs().max())
        0.0
        """
        for layer in (self.extraction, self.mapping):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
        nn.init.normal_(self.reconstruction.weight, std=0.001)
        nn.init.zeros_(self.reconstruction.bias)

    def forward(self, x):
        """Upscale ``x`` of shape (B, 1, M, N) to (B, 1, M * scale, N * scale).

        Examples
        --------
        >>> import torch
        >>> from skfsrcnn.models import SRCNN
        >>> SRCNN(4)(torch.zeros(1, 1, 5, 6)).shape
        torch.Size([1, 1, 20, 24])
        """
        x = F.relu(self.extraction(self.upsample(x)), inplace=True)
        x = F.relu(self.mapping(x), inplace=True)
        return self.reconstruction(x)


def inference_form(model):
    """The network to run ``model`` with: :class:`FastFSRCNN` of an FSRCNN, other networks as they are.

    Examples
    --------
    >>> from skfsrcnn.models import FSRCNN, SRCNN, inference_form
    >>> type(inference_form(FSRCNN(2))).__name__, type(inference_form(SRCNN(2))).__name__
    ('FastFSRCNN', 'SRCNN')
    """
    return FastFSRCNN(model) if isinstance(model, FSRCNN) else model


def build_model(name, scale):
    """Build a freshly initialised network by name: an FSRCNN preset or SRCNN.

    Parameters
    ----------
    name : {'fsrcnn', 'fsrcnn-s', 'srcnn'}
        One of :data:`ARCHITECTURES`: an FSRCNN preset of :data:`PRESETS`
        or the SRCNN 9-1-5 baseline.
    scale : int
        Upscaling factor.

    Returns
    -------
    FSRCNN or SRCNN
        The network, randomly initialised.

    Raises
    ------
    ValueError
        ``name`` is not one of :data:`ARCHITECTURES`.

    Examples
    --------
    >>> from skfsrcnn.models import build_model
    >>> build_model("fsrcnn-s", 2).config
    {'scale': 2, 'd': 32, 's': 5, 'm': 1}
    >>> type(build_model("srcnn", 3)).__name__
    'SRCNN'
    """
    if name not in ARCHITECTURES:
        raise ValueError(f"`name` must be one of {ARCHITECTURES}, got {name!r}.")
    if name == "srcnn":
        return SRCNN(scale)
    return FSRCNN.from_preset(name, scale)
