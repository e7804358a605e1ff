"""The consistency check: how far the upscaled image, downscaled back, is from the measured one."""

import numpy as np

from . import _validate
from ._dask import spatial_axes
from ._upscale import output_units
from .resize import imresize


def consistency_residual(image, upscaled, scale, *, channel_axis=None, preserve_range=False):
    """How far the upscaled image, downscaled back, is from the measured one.

    The residual is ``image - imresize(upscaled, 1 / scale)`` with MATLAB's
    bicubic (the degradation the networks invert), in the units of
    ``image``. Where it is large, the output disagrees with what was
    measured: structure the network added or removed.

    Parameters
    ----------
    image : (..., M, N[, C]) ndarray
        The image that was upscaled.
    upscaled : (..., M * scale, N * scale[, C]) ndarray
        The upscaled image, as :func:`skfsrcnn.upscale` returned it.
    scale : int
        The upscaling factor.
    channel_axis : int or None, optional
        As given to :func:`~skfsrcnn.upscale`.
    preserve_range : bool, optional
        As given to :func:`~skfsrcnn.upscale`: for integer ``image``,
        whether ``upscaled`` is in the image's units rather than in [0, 1].

    Returns
    -------
    residual : ndarray
        float64, the shape of ``image``, in its units (e.g. grey levels of 255).
    rms : float
        The residual's root mean square.

    Notes
    -----
    For RGB images, ``upscale(..., back_projection=n)`` makes the luma
    consistent; the chroma, upscaled bicubically, keeps the small residual
    of bicubic up- then downscaling.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn import consistency_residual
    >>> from skfsrcnn.resize import imresize
    >>> image = np.linspace(0, 1, 64).reshape(8, 8)
    >>> residual, rms = consistency_residual(image, imresize(image, 2), 2)
    >>> residual.shape, bool(rms < 0.01)
    ((8, 8), True)
    """
    image, upscaled = _validate.as_array(image), np.asarray(upscaled)
    scale = _validate.scale(scale, range(2, 9))
    channel = _validate.channel_axis(channel_axis, image.ndim)
    _validate.flags(preserve_range=preserve_range)
    expected = tuple(
        n * scale if axis in spatial_axes(image.ndim, channel) else n for axis, n in enumerate(image.shape)
    )
    if upscaled.shape != expected:
        raise ValueError(
            f"`upscaled` has shape {upscaled.shape}, but `image` of shape {image.shape} upscaled by "
            f"{scale} has shape {expected}; pass the same `scale` and `channel_axis` as to upscale."
        )
    down = imresize(upscaled.astype(np.float64), 1 / scale, axes=spatial_axes(image.ndim, channel))
    residual = image.astype(np.float64) - down * output_units(image, preserve_range)
    return residual, float(np.sqrt(np.mean(residual**2)))
