"""RGB <-> YCbCr conversion following ITU-R BT.601 as MATLAB's ``rgb2ycbcr``.

All functions work on float arrays in [0, 1] with the channels on the last
axis. Y is returned in [16/255, 235/255] and Cb, Cr in [16/255, 240/255],
matching :func:`skimage.color.rgb2ycbcr` divided by 255.
"""

import functools

import numpy as np

from ._threads import on_workers, sections, worker_sections
from .resize import BICUBIC_REACH, bicubic_phases

_RGB_TO_YCBCR = (
    np.array(
        [
            [65.481, 128.553, 24.966],
            [-37.797, -74.203, 112.0],
            [112.0, -93.786, -18.214],
        ]
    )
    / 255.0
)
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


#: LR rows merged at a time: a band's planar result is still in cache when copied channels-last.
_MERGE_BAND = 64


def merge_luma(rgb, luma, luma_up, scale):
    """Upscaled RGB(A) from the LR image, its luma and the upscaled luma.

    Upscaling the chroma bicubically and converting Y, Cb, Cr back to RGB
    is, because both steps are linear and the bicubic kernel keeps
    constants, the same as ``bicubic(RGB - g Y) + g Y_up`` with ``g`` the
    luma's weight in every RGB channel (:data:`LUMA_GAIN`): the chroma
    residual ``RGB - g Y`` is upscaled with MATLAB's bicubic kernel and the
    upscaled luma added, with no YCbCr image at the high resolution. Alpha
    is upscaled with the same kernel.

    The work runs on planes: the residual's columns are upscaled at the
    low resolution on torch's threads, then, in sections of rows on worker
    threads (:func:`skfsrcnn._threads.on_workers`) and a band of rows at a
    time within each, its
    rows, each output phase starting from ``Y_up`` (the residual's taps
    are divided by ``g``, and the copy of the band, channels-last, into the
    output multiplies by ``g`` while it is still in cache).

    Parameters
    ----------
    rgb : (..., M, N, C) float32 ndarray
        RGB (C = 3) or RGBA (C = 4) in [0, 1].
    luma : (..., M, N) float32 ndarray
        ``rgb_to_y(rgb[..., :3])``.
    luma_up : (..., M * scale, N * scale) float32 ndarray
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
    >>> from skfsrcnn._colour import merge_luma, rgb_to_y
    >>> from skfsrcnn.resize import imresize
    >>> rgb = np.random.default_rng(0).random((8, 8, 3), np.float32)
    >>> luma = rgb_to_y(rgb)
    >>> out = merge_luma(rgb, luma, imresize(luma, 2), 2)
    >>> bool(np.allclose(out, imresize(rgb, 2, axes=(0, 1)), atol=1e-5))
    True
    """
    import torch

    def tensor(array):
        return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))

    rgb, luma, luma_up = tensor(rgb), tensor(luma), tensor(luma_up)
    *lead, rows, cols, channels = rgb.shape
    big = (rows * scale, cols * scale)
    out = torch.empty(*lead, *big, channels)
    column_taps, row_taps = _phase_taps(scale, 1 / LUMA_GAIN), _phase_taps(scale)
    for image in zip(
        rgb.reshape(-1, rows, cols, channels),
        luma.reshape(-1, rows, cols),
        luma_up.reshape(-1, *big),
        out.view(-1, *big, channels),
    ):
        _merge_image(*image, scale, column_taps, row_taps)
    return out.numpy()


def _phase_taps(scale, factor=1.0):
    """Per output phase, ``(offset, factor * weight)`` of the bicubic taps in an edge-padded axis."""
    phases = bicubic_phases(scale)
    return [[(int(t), factor * float(phases[r, t])) for t in np.flatnonzero(phases[r])] for r in range(scale)]


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


def _merge_image(rgb, luma, luma_up, out, scale, column_taps, row_taps):
    """:func:`merge_luma` of one (M, N, C) image into ``out`` (M * scale, N * scale, C).

    ``column_taps`` are the bicubic taps divided by ``g`` (:func:`_phase_taps`).
    """
    import torch

    rows, cols, channels = rgb.shape
    pad = (BICUBIC_REACH,) * 4
    planes = torch.nn.functional.pad(rgb.permute(2, 0, 1), pad, mode="replicate")
    planes[:3].sub_(torch.nn.functional.pad(luma[None], pad, mode="replicate"), alpha=LUMA_GAIN)
    padded_rows = planes.shape[1]
    phases = torch.empty(scale, channels, padded_rows, cols)
    for phase, taps in enumerate(column_taps):
        _weighted_sum(phases[phase], planes, taps, 2, cols)
    across = torch.stack(tuple(phases), dim=-1).view(channels, padded_rows, cols * scale)

    luma_up = luma_up.view(rows, scale, cols * scale)
    band = min(rows, _MERGE_BAND)

    def merge_rows(section):
        block = torch.empty(channels * band * scale * cols * scale)
        for first in range(section.start, section.stop, band):
            count = min(band, section.stop - first)
            part = block[: channels * count * scale * cols * scale].view(channels, count, scale, cols * scale)
            for phase, taps in enumerate(row_taps):
                luma_rows = luma_up[first : first + count, phase]
                _weighted_sum(part[:3, :, phase], across[:3, first:], taps, 1, count, luma_rows)
                if channels > 3:  # alpha
                    _weighted_sum(part[3:, :, phase], across[3:, first:], taps, 1, count)
            rows_out = slice(first * scale, (first + count) * scale)
            planar = part.view(channels, count * scale, cols * scale).permute(1, 2, 0)
            torch.mul(planar, LUMA_GAIN, out=out[rows_out])

    row_sections = [core for core, _ in sections(rows, 0, worker_sections())]
    if len(row_sections) == 1:
        merge_rows(row_sections[0])
    else:  # like the network, on worker threads (skfsrcnn._threads)
        on_workers([functools.partial(merge_rows, section) for section in row_sections])


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
