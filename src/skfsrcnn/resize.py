"""MATLAB-compatible bicubic ``imresize``.

The degradation used by the super-resolution literature (SRCNN, FSRCNN and
every benchmark since) is MATLAB's ``imresize(image, 1/scale, 'bicubic')``.
This module reproduces it exactly: Keys' cubic kernel with ``a = -0.5``,
stretched by the scale when shrinking (antialiasing), taps beyond the edge
clamped to the edge pixel, one axis at a time (rows first), and for ``uint8``
images the result rounded half away from zero after each axis.
"""

import math

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


def _contributions(in_length, out_length, scale):
    """Return the (out_length, taps) source indices and weights of one axis."""
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
    indices = np.clip(indices, 1, in_length).astype(np.intp) - 1
    used = np.any(weights != 0, axis=0)
    return indices[:, used], weights[:, used]


def _resize_axis(array, axis, out_length, scale, round_uint8):
    """Resize ``array`` along ``axis`` to ``out_length`` samples."""
    indices, weights = _contributions(array.shape[axis], out_length, scale)
    work_dtype = np.float32 if array.dtype == np.float32 else np.float64
    moved = np.moveaxis(array, axis, 0)
    weights = weights.astype(work_dtype)
    out = np.zeros((out_length,) + moved.shape[1:], dtype=work_dtype)
    expand = (slice(None),) + (None,) * (moved.ndim - 1)
    for tap in range(indices.shape[1]):
        out += weights[:, tap][expand] * moved[indices[:, tap]]
    if round_uint8:
        out = np.floor(np.clip(out, 0, 255) + 0.5).astype(np.uint8)
    return np.moveaxis(out, 0, axis)


def _output_shape(shape, scale, output_shape):
    if output_shape is not None:
        if scale is not None:
            raise ValueError("Pass either `scale` or `output_shape`, not both.")
        output_shape = tuple(int(n) for n in output_shape)
        if len(output_shape) != 2 or min(output_shape) < 1:
            raise ValueError(
                f"`output_shape` must be two positive integers (rows, columns), got {output_shape!r}."
            )
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
    for axis, length, factor in zip(axes, out_shape, scales):
        image = _resize_axis(image, axis, length, factor, round_uint8)
    return image
