"""FastFSRCNN: FSRCNN's inference form, hand-scheduled for the CPU.

:class:`~skfsrcnn.models.FastFSRCNN` computes what
:class:`~skfsrcnn.models.FSRCNN` computes, to float rounding. With
gradients it is the reference body followed by
:func:`~skfsrcnn.models.subpixel.deconv_as_subpixel`; without, it runs a
cached ``_Plan`` of the current weights:

* ``_Conv``: one convolution (+ PReLU), its weights prepacked for oneDNN;
* ``_Unit``: the pointwise convolutions around one convolution with a
  vertical reach, the unit of banded streaming;
* ``_Plan``: the units, the image streamed through them in horizontal
  bands, and the phases of the sub-pixel deconvolution interleaved into
  the output.

The CPU-specific tricks, and what each buys:

* the deconvolution is the compact sub-pixel convolution of
  :mod:`skfsrcnn.models.subpixel`: no scattered writes, and each phase's
  window shifted so that x3 needs 9 taps per phase, not 16;
* x2's four phases are computed for two LR columns at once (``_FOLD``:
  8 output channels) and x3's nine are padded to 16 (``_BLOCK``): oneDNN
  computes whole blocks of 8 output channels, and is faster on full ones;
* the weights are prepacked once for oneDNN (``_Conv``) instead of being
  reordered on every call, and checked against ``F.conv2d`` on a small
  input when the plan is built;
* the image streams through the network in bands of about 32 k LR pixels
  (``_BAND_PIXELS``), each layer carrying over only the rows its kernel
  still needs: the intermediates (56 channels for FSRCNN) stay in the CPU
  caches and nothing is computed twice;
* glibc's allocator is kept from unmapping and page-faulting the
  band-sized buffers afresh for every band (``_settle_allocator``).

``python benchmarks/bench_fast.py --repeats 2 --calls 3 --threads N
--cases fsrcnn:2 fsrcnn:3`` leaves one trick out at a time (the network
alone, 1920x1080 output, random weights). Two runs (N = 2, then 1) on the
shared 2-vCPU development machine (AMD EPYC, torch 2.13), while another
training job ran, put the reference :class:`~skfsrcnn.models.FSRCNN` at
1.9-4.2x the time of FastFSRCNN at x2 and 3.3-4.3x at x3, and the
fallback (oneDNN off, below) at 6.6-7.7x and 4.4-10x. Leaving out a single
trick gave from 0.7x to 5x in those runs: within the noise of the loaded
machine, so the share of each is not resolved there.

The fallback: where oneDNN is unavailable or disabled
(``torch.backends.mkldnn``), the dtype is not float32, the device is not
the CPU, or the prepacked convolution disagrees with ``F.conv2d``, the
same plan runs on ``F.conv2d``; bands are used on the CPU only. On CUDA,
``half=True`` computes in float16.
"""

import torch
from torch import nn
from torch.nn import functional as F

from .subpixel import _compact_subpixel, _phase_windows, deconv_as_subpixel

__all__ = ["FastFSRCNN"]


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
                return _Conv(
                    get(layer.weight),
                    get(layer.bias),
                    get(act.weight),
                    padding=(0, layer.kernel_size[1] // 2),
                    mkldnn=mkldnn,
                )

            mapping = [conv(block) for block in model.mapping]
            yield _Unit(conv(model.feature), post=[conv(model.shrink)], top=2, bottom=2)
            for layer in mapping:
                yield _Unit(layer, top=1, bottom=1)
            channels = -(-self.fold * scale * scale // _BLOCK) * _BLOCK
            weight, bias = _compact_subpixel(
                get(model.deconv.weight), get(model.deconv.bias), scale, self.fold, channels
            )
            final = _Conv(weight, bias, stride=(1, self.fold), mkldnn=mkldnn)
            yield _Unit(final, pre=[conv(model.expand)], top=self.left, bottom=self.width - 1 - self.left + self.delay)

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
        return torch.empty(shape, dtype=like.dtype, device=like.device, memory_format=torch.channels_last).zero_()

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
