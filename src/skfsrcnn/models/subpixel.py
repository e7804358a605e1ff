"""The strided deconvolution of FSRCNN as an exact convolution on the low-resolution grid.

FSRCNN's last layer is a 9x9 transposed convolution with stride ``scale``.
Output pixel ``q * scale + r`` of it reads only a few LR pixels ``q + j``,
with the kernel taps ``r + pad - j * scale``: per output phase ``r``, an
ordinary convolution of the LR feature map. This module builds those
convolutions and interleaves their phases:

* :func:`deconv_as_subpixel`, the differentiable form (training, and the
  reference of the fast inference engine in :mod:`skfsrcnn.models.fast`);
* ``_phase_windows``, the taps each phase reads, its window shifted so
  that x3 needs 3x3 taps (not 4x4);
* ``_compact_subpixel``, the kernel whose output channels are the phases,
  optionally folded over columns and padded to a block of channels.

The identity is exact: the result equals ``ConvTranspose2d`` to float
rounding, without its scattered writes.
"""

import torch
from torch.nn import functional as F

from .._standalone import _DECONV_KERNEL

__all__ = ["deconv_as_subpixel"]

#: Zero padding of FSRCNN's deconvolution (the paper's 9x9 kernel).
_DECONV_PADDING = _DECONV_KERNEL // 2


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
    of :class:`~skfsrcnn.models.FastFSRCNN`.

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
