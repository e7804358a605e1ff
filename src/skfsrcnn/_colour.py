"""RGB <-> YCbCr conversion following ITU-R BT.601 as MATLAB's ``rgb2ycbcr``.

All functions work on float arrays in [0, 1] with the channels on the last
axis. Y is returned in [16/255, 235/255] and Cb, Cr in [16/255, 240/255],
matching :func:`skimage.color.rgb2ycbcr` divided by 255.
"""

import numpy as np

from .resize import BICUBIC_REACH, bicubic_phases

_RGB_TO_YCBCR = np.array(
    [
        [65.481, 128.553, 24.966],
        [-37.797, -74.203, 112.0],
        [112.0, -93.786, -18.214],
    ]
) / 255.0
_YCBCR_OFFSET = np.array([16.0, 128.0, 128.0]) / 255.0
_YCBCR_TO_RGB = np.linalg.inv(_RGB_TO_YCBCR)


def rgb_to_ycbcr(rgb):
    """Convert RGB in [0, 1] (channels last) to YCbCr in [0, 1] (BT.601)."""
    rgb = np.asarray(rgb)
    matrix = _RGB_TO_YCBCR.astype(rgb.dtype, copy=False)
    return rgb @ matrix.T + _YCBCR_OFFSET.astype(rgb.dtype, copy=False)


def ycbcr_to_rgb(ycbcr):
    """Convert YCbCr in [0, 1] (channels last, BT.601) back to RGB in [0, 1]."""
    ycbcr = np.asarray(ycbcr)
    matrix = _YCBCR_TO_RGB.astype(ycbcr.dtype, copy=False)
    return (ycbcr - _YCBCR_OFFSET.astype(ycbcr.dtype, copy=False)) @ matrix.T


#: Weight of Y in every RGB channel of the inverse BT.601 conversion (255/219).
LUMA_GAIN = float(_YCBCR_TO_RGB[0, 0])


def chroma_residual(rgb, luma):
    """Subtract ``LUMA_GAIN * luma`` from the colour channels of ``rgb``, in place.

    What is left of RGB(A) once the luma is taken out depends on Cb and Cr
    only (and alpha is untouched): the part that :func:`merge_luma`
    upscales with the bicubic kernel.

    Parameters
    ----------
    rgb : (..., M, N, 3 or 4) float ndarray
        RGB or RGBA in [0, 1]; overwritten.
    luma : (..., M, N) float ndarray
        ``rgb_to_y(rgb[..., :3])``.

    Returns
    -------
    ndarray
        ``rgb``, now holding the residual.
    """
    rgb[..., :3] -= rgb.dtype.type(LUMA_GAIN) * luma[..., None]
    return rgb


#: LR rows merged at a time: a band's planar result is still in cache when copied channels-last.
_MERGE_BAND = 64


def merge_luma(residual, luma, scale):
    """Upscaled RGB(A) from the LR chroma residual and an upscaled luma.

    Upscaling the chroma bicubically and converting Y, Cb, Cr back to RGB
    is, because both steps are linear and the bicubic kernel keeps
    constants, the same as ``bicubic(RGB - g Y) + g Y_up`` with ``g`` the
    luma's weight in every RGB channel (:data:`LUMA_GAIN`): the residual is
    upscaled with MATLAB's bicubic kernel and the luma added, with no
    YCbCr image at the high resolution. Alpha is upscaled with the same
    kernel.

    The work runs on torch's threads, on planes: the residual's columns
    are upscaled at the low resolution, then, a band of rows at a time, its
    rows, each output phase starting from ``g Y_up``, and the band is
    copied channels-last into the output while it is still in cache.

    Parameters
    ----------
    residual : (..., M, N, C) float32 ndarray
        :func:`chroma_residual` of the LR image.
    luma : (..., M * scale, N * scale) float32 ndarray
        The upscaled luma (e.g. the network's output).
    scale : int
        Upscaling factor.

    Returns
    -------
    (..., M * scale, N * scale, C) float32 ndarray
        RGB(A), not clipped.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn._colour import chroma_residual, merge_luma, rgb_to_y
    >>> from skfsrcnn.resize import imresize
    >>> rgb = np.random.default_rng(0).random((8, 8, 3), np.float32)
    >>> luma = rgb_to_y(rgb)
    >>> out = merge_luma(chroma_residual(rgb.copy(), luma), imresize(luma, 2), 2)
    >>> bool(np.allclose(out, imresize(rgb, 2, axes=(0, 1)), atol=1e-5))
    True
    """
    import torch

    residual = torch.from_numpy(np.ascontiguousarray(residual))
    *lead, rows, cols, channels = residual.shape
    big = (rows * scale, cols * scale)
    luma = torch.from_numpy(np.ascontiguousarray(luma, dtype=residual.numpy().dtype))
    out = torch.empty(*lead, *big, channels, dtype=residual.dtype)
    taps = _phase_taps(scale)
    for image, image_luma, image_out in zip(
        residual.reshape(-1, rows, cols, channels), luma.reshape(-1, *big), out.view(-1, *big, channels)
    ):
        _merge_image(image, image_luma, image_out, scale, taps)
    return out.numpy()


def _phase_taps(scale):
    """Per output phase, ``(offset, weight)`` of the bicubic taps in an edge-padded axis."""
    phases = bicubic_phases(scale)
    return [[(int(t), float(phases[r, t])) for t in np.flatnonzero(phases[r])] for r in range(scale)]


def _weighted_sum(out, source, taps, dim, length, start=None):
    """``out = start + sum(weight * source.narrow(dim, offset, length))`` over ``taps``."""
    import torch

    (offset, weight), rest = taps[0], taps[1:]
    if start is None:
        torch.mul(source.narrow(dim, offset, length), weight, out=out)
    else:
        torch.add(start, source.narrow(dim, offset, length), alpha=weight, out=out)
    for offset, weight in rest:
        out.add_(source.narrow(dim, offset, length), alpha=weight)


def _merge_image(residual, luma, out, scale, taps):
    """:func:`merge_luma` of one (M, N, C) residual into ``out`` (M * scale, N * scale, C)."""
    import torch

    rows, cols, channels = residual.shape
    reach = BICUBIC_REACH
    planes = torch.nn.functional.pad(residual.permute(2, 0, 1), (reach,) * 4, mode="replicate")
    phases = torch.empty(scale, channels, rows + 2 * reach, cols, dtype=residual.dtype)
    for phase, phase_taps in enumerate(taps):
        _weighted_sum(phases[phase], planes, phase_taps, 2, cols)
    across = torch.stack(tuple(phases), dim=-1).view(channels, rows + 2 * reach, cols * scale)

    luma = luma.view(rows, scale, cols * scale)
    band = min(rows, _MERGE_BAND)
    block = torch.empty(channels * band * scale * cols * scale, dtype=residual.dtype)
    scaled_luma = torch.empty(band, cols * scale, dtype=residual.dtype)
    for first in range(0, rows, band):
        count = min(band, rows - first)
        part = block[: channels * count * scale * cols * scale].view(channels, count, scale, cols * scale)
        for phase, phase_taps in enumerate(taps):
            gain_luma = torch.mul(luma[first : first + count, phase], LUMA_GAIN, out=scaled_luma[:count])
            _weighted_sum(part[:3, :, phase], across[:3, first:], phase_taps, 1, count, gain_luma)
            if channels > 3:  # alpha
                _weighted_sum(part[3:, :, phase], across[3:, first:], phase_taps, 1, count)
        rows_out = slice(first * scale, (first + count) * scale)
        out[rows_out].copy_(part.view(channels, count * scale, cols * scale).permute(1, 2, 0))


def rgb_to_y(rgb):
    """Return the BT.601 luma of RGB in [0, 1] (channels last), in [16/255, 235/255]."""
    rgb = np.asarray(rgb)
    weights = _RGB_TO_YCBCR[0].astype(rgb.dtype, copy=False)
    return rgb @ weights + rgb.dtype.type(_YCBCR_OFFSET[0])


def y_channel_uint8(image):
    """Return MATLAB's ``rgb2ycbcr`` luma of a uint8 image as uint8.

    Greyscale input (2-D, one channel, or grey + alpha) is returned unchanged:
    the literature scores greyscale images on their intensity. Y is computed
    in exact integer arithmetic and rounded half away from zero, as MATLAB's
    conversion to uint8.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        return image
    if image.shape[-1] in (1, 2):
        return image[..., 0]
    # 255000 * (Y - 16) = 65481 R + 128553 G + 24966 B, with R, G, B in 0..255.
    weighted = image[..., :3].astype(np.int64) @ np.array([65481, 128553, 24966], np.int64)
    return (16 + (weighted + 127500) // 255000).astype(np.uint8)
