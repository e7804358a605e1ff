"""RGB <-> YCbCr conversion following ITU-R BT.601 as MATLAB's ``rgb2ycbcr``.

All functions work on float arrays in [0, 1] with the channels on the last
axis. Y is returned in [16/255, 235/255] and Cb, Cr in [16/255, 240/255],
matching :func:`skimage.color.rgb2ycbcr` divided by 255.
"""

import sys

import numpy as np

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


def ycbcr_planes_to_rgb(y, cb, cr):
    """Convert separate Y, Cb, Cr planes (BT.601, [0, 1]) to RGB with the channels last.

    Equals ``ycbcr_to_rgb(np.stack([y, cb, cr], axis=-1))`` to float rounding
    without building the stacked copy; large images are converted on torch's
    threads when torch is already loaded (it is never imported here).
    """
    y, cb, cr = np.asarray(y), np.asarray(cb), np.asarray(cr)
    torch = sys.modules.get("torch")
    dtype = np.result_type(y, cb, cr)
    if (
        torch is None
        or y.size < (1 << 16)
        or dtype not in (np.float32, np.float64)
        or any(a.dtype != dtype or not a.flags.writeable or min(a.strides, default=0) < 0
               for a in (y, cb, cr))
    ):
        return ycbcr_to_rgb(np.stack([y, cb, cr], axis=-1))
    out = np.empty(y.shape + (3,), dtype)
    planes = [torch.from_numpy(a) for a in (y, cb, cr)]
    rgb = torch.from_numpy(out)
    matrix = _YCBCR_TO_RGB
    offset = matrix @ _YCBCR_OFFSET  # RGB = matrix @ YCbCr - offset
    sum_ = torch.empty(planes[0].shape, dtype=planes[0].dtype)
    for channel in range(3):
        torch.mul(planes[0], float(matrix[channel, 0]), out=sum_)
        sum_.add_(planes[1], alpha=float(matrix[channel, 1]))
        sum_.add_(planes[2], alpha=float(matrix[channel, 2]))
        sum_.sub_(float(offset[channel]))
        rgb[..., channel] = sum_
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
