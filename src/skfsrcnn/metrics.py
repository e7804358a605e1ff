"""Image quality metrics as the super-resolution literature computes them.

PSNR and SSIM on the luma (Y of ITU-R BT.601, as MATLAB's ``rgb2ycbcr``)
with ``crop_border`` pixels shaved from every side, SSIM with Wang et al.'s
11x11 Gaussian window (sigma 1.5), evaluated on the valid region only.
"""

import numpy as np
from scipy import ndimage

from ._colour import rgb_to_y

__all__ = ["psnr", "ssim"]


def _prepare(reference, test, crop_border, y_channel, data_range):
    reference = np.asarray(reference)
    test = np.asarray(test)
    if reference.shape != test.shape:
        raise ValueError(
            f"`reference` and `test` must have the same shape, got {reference.shape} and "
            f"{test.shape}; crop the reference to the output size first."
        )
    if data_range is None:
        if reference.dtype.kind != "u" and reference.dtype.kind != "i":
            raise ValueError("`data_range` must be given for float images (e.g. data_range=1.0 for images in [0, 1]).")
        info = np.iinfo(reference.dtype)
        data_range = float(info.max - info.min)
    crop_border = int(crop_border)
    if crop_border < 0:
        raise ValueError(f"`crop_border` must be >= 0, got {crop_border}.")
    reference = reference.astype(np.float64)
    test = test.astype(np.float64)
    if y_channel and reference.ndim == 3 and reference.shape[-1] >= 3:
        reference = rgb_to_y(reference[..., :3] / data_range) * data_range
        test = rgb_to_y(test[..., :3] / data_range) * data_range
    if crop_border:
        window = (slice(crop_border, -crop_border),) * 2
        reference, test = reference[window], test[window]
        if reference.size == 0:
            raise ValueError(f"`crop_border`={crop_border} leaves no pixels of the image.")
    return reference, test, data_range


def psnr(reference, test, *, crop_border=0, y_channel=False, data_range=None):
    """Peak signal-to-noise ratio in dB.

    Parameters
    ----------
    reference, test : (M, N[, C]) ndarray
        Ground truth and image to score, same shape.
    crop_border : int, optional
        Pixels removed from each side before scoring (the literature uses the scale).
    y_channel : bool, optional
        Score the BT.601 luma of RGB images (channels last) instead of all channels.
    data_range : float, optional
        Peak-to-peak range; guessed from an integer dtype, required for floats.

    Returns
    -------
    float
        PSNR in dB; ``inf`` for identical images.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.metrics import psnr
    >>> a = np.full((8, 8), 100, dtype=np.uint8)
    >>> round(psnr(a, a + 1), 2)
    48.13
    """
    reference, test, data_range = _prepare(reference, test, crop_border, y_channel, data_range)
    mse = np.mean((reference - test) ** 2)
    if mse == 0:
        return float("inf")
    return float(10 * np.log10(data_range**2 / mse))


def _gaussian_window(size=11, sigma=1.5):
    x = np.arange(size) - size // 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    window = np.outer(g, g)
    return window / window.sum()


def _ssim_plane(x, y, data_range):
    window = _gaussian_window()
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    half = window.shape[0] // 2
    valid = (slice(half, -half),) * 2

    def filt(a):
        return ndimage.correlate(a, window, mode="constant")[valid]

    mu_x, mu_y = filt(x), filt(y)
    sigma_x = filt(x * x) - mu_x**2
    sigma_y = filt(y * y) - mu_y**2
    sigma_xy = filt(x * y) - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)
    denominator = (mu_x**2 + mu_y**2 + c1) * (sigma_x + sigma_y + c2)
    return float(np.mean(numerator / denominator))


def ssim(reference, test, *, crop_border=0, y_channel=False, data_range=None):
    """Structural similarity as Wang et al. (2004) and MATLAB's ``ssim_index``.

    An 11x11 Gaussian window with sigma 1.5, ``K1 = 0.01``, ``K2 = 0.03``,
    averaged over the valid region (no padding) and over channels.

    Parameters
    ----------
    reference, test : (M, N[, C]) ndarray
        Ground truth and image to score, same shape.
    crop_border : int, optional
        Pixels removed from each side before scoring.
    y_channel : bool, optional
        Score the BT.601 luma of RGB images (channels last).
    data_range : float, optional
        Peak-to-peak range; guessed from an integer dtype, required for floats.

    Returns
    -------
    float
        SSIM in [-1, 1]; 1 for identical images.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.metrics import ssim
    >>> a = np.random.default_rng(0).integers(0, 255, (32, 32), dtype=np.uint8)
    >>> ssim(a, a)
    1.0
    """
    reference, test, data_range = _prepare(reference, test, crop_border, y_channel, data_range)
    if min(reference.shape[:2]) < 11:
        raise ValueError(f"SSIM needs at least 11x11 pixels after cropping, got {reference.shape[:2]}.")
    if reference.ndim == 2:
        return _ssim_plane(reference, test, data_range)
    channels = [_ssim_plane(reference[..., c], test[..., c], data_range) for c in range(reference.shape[-1])]
    return float(np.mean(channels))
