"""RGB <-> YCbCr conversion following ITU-R BT.601 as MATLAB's ``rgb2ycbcr``.

All functions work on float arrays in [0, 1] with the channels on the last
axis. Y is returned in [16/255, 235/255] and Cb, Cr in [16/255, 240/255],
matching :func:`skimage.color.rgb2ycbcr` divided by 255.
"""

import sys

import numpy as np

from .resize import imresize

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


def merge_luma(residual, luma, scale):
    """Upscaled RGB(A) from the LR chroma residual and an upscaled luma.

    Upscaling the chroma bicubically and converting Y, Cb, Cr back to RGB
    is, because both steps are linear and the bicubic kernel keeps
    constants, the same as ``bicubic(RGB - g Y) + g Y_up`` with ``g`` the
    luma's weight in every RGB channel (:data:`LUMA_GAIN`): three channels
    are resized and one plane is added, with no YCbCr image at the high
    resolution. Alpha is resized with the same kernel.

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
    out = imresize(residual, scale, axes=(-3, -2))
    torch = sys.modules.get("torch")
    gain = out.dtype.type(LUMA_GAIN)
    if torch is None or out.size < (1 << 16):
        out[..., :3] += gain * luma[..., None]
    else:  # torch's threads, and no temporary for gain * luma
        torch.from_numpy(out)[..., :3].add_(torch.from_numpy(np.asarray(luma))[..., None], alpha=float(gain))
    return out


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
