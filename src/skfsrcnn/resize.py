"""MATLAB-compatible bicubic ``imresize``.

The degradation used by the super-resolution literature (SRCNN, FSRCNN and
every benchmark since) is MATLAB's ``imresize(image, 1/scale, 'bicubic')``.
This module reproduces it exactly: Keys' cubic kernel with ``a = -0.5``,
stretched by the scale when shrinking (antialiasing), taps beyond the edge
clamped to the edge pixel, one axis at a time (rows first), and for ``uint8``
images the result rounded half away from zero after each axis.
"""

import math
import sys
from fractions import Fraction

import numpy as np

__all__ = ["imresize"]


def _cubic(x):
    """Keys' cubic convolution kernel with a = -0.5."""
    absx = np.abs(x)
    absx2 = absx**2
    absx3 = absx**3
    near = (1.5 * absx3 - 2.5 * absx2 + 1) * (absx <= 1)
    far = (-0.5 * absx3 + 2.5 * absx2 - 4 * absx + 2) * ((absx > 1) & (absx <= 2))
    return near + far


#: LR pixels on each side that MATLAB's bicubic reads when upsampling (Keys' kernel spans 2).
BICUBIC_REACH = 2


def bicubic_phases(scale):
    """(scale, 5) float64 weights of MATLAB's bicubic upsampling by an integer ``scale``.

    HR pixel ``q * scale + r`` lies at LR coordinate ``q + (r + 0.5) / scale - 0.5``
    and reads LR pixels ``q - 2 .. q + 2`` (row ``r``, columns in that order)
    with Keys' cubic weights, normalised to sum to one as ``imresize`` does.

    Examples
    --------
    >>> from skfsrcnn.resize import bicubic_phases
    >>> bicubic_phases(3)[1]  # x3's middle phase sits on an LR pixel
    array([0., 0., 1., 0., 0.])
    """
    offsets = np.arange(-BICUBIC_REACH, BICUBIC_REACH + 1)
    centres = (np.arange(scale) + 0.5) / scale - 0.5
    weights = _cubic(centres[:, None] - offsets[None, :])
    return weights / weights.sum(axis=1, keepdims=True)


def _contributions(in_length, out_length, scale):
    """Return the (out_length, taps) source indices and weights of one axis.

    The indices are 0-based and not yet clamped to the image: ``-1`` means
    one pixel before the first, where MATLAB reads the edge pixel.
    """
    kernel_width = 4.0
    antialias = scale < 1
    if antialias:
        kernel_width /= scale
    out_coords = np.arange(1, out_length + 1, dtype=np.float64)
    # Position in input space of each output pixel centre (1-based, as MATLAB).
    centres = out_coords / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(centres - kernel_width / 2)
    taps = int(math.ceil(kernel_width)) + 2
    indices = left[:, None] + np.arange(taps)[None, :]
    distance = centres[:, None] - indices
    weights = scale * _cubic(distance * scale) if antialias else _cubic(distance)
    weights /= weights.sum(axis=1, keepdims=True)
    used = np.any(weights != 0, axis=0)
    return indices[:, used].astype(np.intp) - 1, weights[:, used]


def _period(indices, scale):
    """``(outputs, inputs)`` if output ``o + outputs`` always reads ``inputs`` pixels further on.

    Integer and 1/integer scales are periodic (x3: three outputs per input
    pixel); each output phase then reads strided slices instead of gathering
    rows. Returns None when the indices are not periodic.
    """
    ratio = Fraction(scale).limit_denominator(64)
    outputs, inputs = ratio.numerator, ratio.denominator
    if outputs > 64 or outputs >= len(indices):
        return None
    if not np.array_equal(indices[outputs:], indices[:-outputs] + inputs):
        return None
    return outputs, inputs


def _resize_axis(array, axis, out_length, scale, round_uint8):
    """Resize ``array`` along ``axis`` to ``out_length`` samples."""
    indices, weights = _contributions(array.shape[axis], out_length, scale)
    work_dtype = np.float32 if array.dtype == np.float32 else np.float64
    weights = weights.astype(work_dtype)
    period = _period(indices, scale)
    if period is None:
        out = _gather_axis(array, axis, out_length, indices, weights, work_dtype)
    else:
        out = _strided_axis(array, axis, out_length, indices, weights, work_dtype, *period)
    if round_uint8:
        out = np.floor(np.clip(out, 0, 255) + 0.5).astype(np.uint8)
    return out


def _gather_axis(array, axis, out_length, indices, weights, work_dtype):
    """Any scale: gather every output sample's taps."""
    indices = np.clip(indices, 0, array.shape[axis] - 1)
    moved = np.moveaxis(array, axis, 0)
    out = np.zeros((out_length,) + moved.shape[1:], dtype=work_dtype)
    expand = (slice(None),) + (None,) * (moved.ndim - 1)
    for tap in range(indices.shape[1]):
        out += weights[:, tap][expand] * moved[indices[:, tap]]
    return np.moveaxis(out, 0, axis)


def _strided_axis(array, axis, out_length, indices, weights, work_dtype, outputs, inputs):
    """Periodic scales: each output phase reads strided slices of the edge-padded input.

    The arithmetic is that of :func:`_gather_axis` sample by sample and tap
    by tap (a product in ``work_dtype`` added to a sum that starts at zero),
    so the results are the same bit for bit. A tap whose weight is zero for a
    whole phase adds only zeros and is skipped when the input is finite, and
    a phase that copies one input sample (x3's middle one) is a copy.
    Large float arrays run the same elementwise steps on torch's threads
    when torch is already loaded (it never is imported here).
    """
    before = max(0, -int(indices.min()))
    after = max(0, int(indices.max()) - (array.shape[axis] - 1))
    if before or after:
        pad = [(0, 0)] * array.ndim
        pad[axis] = (before, after)
        array = np.pad(array, pad, mode="edge")
    skip_zeros = array.dtype.kind in "iub" or bool(np.isfinite(array).all())
    shape = list(array.shape)
    shape[axis] = out_length
    out = np.empty(shape, dtype=work_dtype)
    ops = _torch_ops(array, out)
    shape[axis] = -(-out_length // outputs)
    # Along the last axis, sum each phase in a contiguous buffer and interleave once.
    last = axis == array.ndim - 1 and outputs > 1
    sums = ops.wrap(np.empty(shape, dtype=work_dtype)) if last else None
    product = ops.wrap(np.empty(shape, dtype=work_dtype))
    source_all, out_all = ops.wrap(array), ops.wrap(out)
    lead = (slice(None),) * axis
    trail = (1,) * (array.ndim - axis - 1)
    for phase in range(outputs):
        count = len(range(phase, out_length, outputs))
        target = out_all[lead + (slice(phase, None, outputs),)]
        taps = [tap for tap in range(indices.shape[1]) if not skip_zeros or weights[phase::outputs, tap].any()]

        def source(tap, phase=phase, count=count):  # called within this iteration only
            start = indices[phase, tap] + before
            return source_all[lead + (slice(start, start + inputs * (count - 1) + 1, inputs),)]

        # The reference sums from +0: 0 + w0 x0 + w1 x1 + ... . Starting from
        # w0 x0 instead gives the same bits except that a sum of -0 products
        # stays -0; adding +0 at the end (as the interleaving copy) fixes that.
        if len(taps) == 1 and np.all(weights[phase::outputs, taps[0]] == 1):
            ops.add(source(taps[0]), 0.0, out=target)  # x3's middle phase: 0 + 1 * x
            continue
        total = sums[lead + (slice(0, count),)] if last else target
        scratch = product[lead + (slice(0, count),)]
        for i, tap in enumerate(taps):
            weight = ops.wrap(weights[phase::outputs, tap].reshape((count,) + trail))
            ops.multiply(weight, source(tap), out=scratch if i else total)
            if i:
                ops.add(total, scratch, out=total)
        ops.add(total, 0.0, out=target)
    return out


class _NumpyOps:
    wrap = staticmethod(np.asarray)
    multiply = staticmethod(np.multiply)
    add = staticmethod(np.add)


class _TorchOps:
    def __init__(self, torch):
        self.torch = torch

    def wrap(self, array):
        return self.torch.from_numpy(np.ascontiguousarray(array) if array.ndim == 1 else array)

    def multiply(self, a, b, out):
        self.torch.mul(a, b, out=out)

    def add(self, a, b, out):
        self.torch.add(a, b, out=out)


def _torch_ops(array, out):
    """Elementwise operations for one axis: torch's (multi-threaded) for large float work."""
    torch = sys.modules.get("torch")
    if (
        torch is None
        or out.size < (1 << 18)
        or array.dtype != out.dtype
        or not array.flags.writeable
        or min(array.strides) < 0
    ):
        return _NumpyOps
    return _TorchOps(torch)


def _output_shape(shape, scale, output_shape):
    if output_shape is not None:
        if scale is not None:
            raise ValueError("Pass either `scale` or `output_shape`, not both.")
        output_shape = tuple(int(n) for n in output_shape)
        if len(output_shape) != 2 or min(output_shape) < 1:
            raise ValueError(f"`output_shape` must be two positive integers (rows, columns), got {output_shape!r}.")
        scales = tuple(o / i for o, i in zip(output_shape, shape))
        return output_shape, scales
    if scale is None:
        raise ValueError("Pass `scale` (e.g. 0.5) or `output_shape` (rows, columns).")
    scales = tuple(np.broadcast_to(np.asarray(scale, dtype=np.float64), (2,)))
    if min(scales) <= 0:
        raise ValueError(f"`scale` must be positive, got {scale!r}.")
    # Round first so that 255 * (1/3) = 85.00000000000001 gives 85, as intended.
    return tuple(int(math.ceil(round(n * s, 8))) for n, s in zip(shape, scales)), scales


def imresize(image, scale=None, *, output_shape=None, axes=(0, 1)):
    """Resize an image with MATLAB's bicubic ``imresize``, bit for bit.

    Parameters
    ----------
    image : (M, N[, ...]) ndarray
        Input image. ``uint8`` images are rounded to ``uint8`` after each axis,
        as MATLAB does; float images stay float (float32 stays float32, other
        dtypes become float64) and are not clipped.
    scale : float or pair of floats, optional
        Factor by which the spatial size changes (``1/3`` shrinks by three).
        The output size is ``ceil(size * scale)``.
    output_shape : pair of int, optional
        Output (rows, columns) instead of ``scale``.
    axes : pair of int, optional
        The two spatial axes; other axes (channels, planes) are carried along.

    Returns
    -------
    resized : ndarray
        The resized image.

    Notes
    -----
    Shrinking widens the kernel by ``1/scale`` (antialiasing), as MATLAB's
    default. Rows are resized first, then columns.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.resize import imresize
    >>> image = np.arange(36, dtype=np.uint8).reshape(6, 6)
    >>> imresize(image, 1 / 3).shape
    (2, 2)
    """
    image = np.asarray(image)
    if image.ndim < 2:
        raise ValueError(f"`image` must have at least 2 dimensions, got shape {image.shape}.")
    axes = tuple(a % image.ndim for a in axes)
    shape = tuple(image.shape[a] for a in axes)
    out_shape, scales = _output_shape(shape, scale, output_shape)
    round_uint8 = image.dtype == np.uint8
    if not round_uint8 and not np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float64)
    if axes[0] == axes[1]:
        for axis, length, factor in zip(axes, out_shape, scales):
            image = _resize_axis(image, axis, length, factor, round_uint8)
        return image
    # Work with the spatial axes last, so that the inner loops run along rows.
    work = np.moveaxis(image, axes, (-2, -1))
    for axis, length, factor in zip((image.ndim - 2, image.ndim - 1), out_shape, scales):
        work = _resize_axis(work, axis, length, factor, round_uint8)
    return np.moveaxis(work, (-2, -1), axes)
