"""How a low-resolution image is made from a high-resolution one, for training and evaluation.

The super-resolution literature shrinks images with MATLAB's bicubic
``imresize`` and nothing else. Microscopes and cameras do otherwise: a
camera bins photons over each pixel's area, optics blur before the sensor
samples, and every measurement carries noise. A network is only as good as
the match between the degradation it was trained on and the one that made
the user's images, so :class:`Degradation` offers each of these, seeded, to
``skfsrcnn-train`` (config keys ``degradation``, ``blur_sigma``, ``noise``,
``noise_level``) and ``skfsrcnn-eval`` (``--degradation`` and friends).
"""

from dataclasses import dataclass

import numpy as np

from .resize import imresize

__all__ = ["KERNELS", "NOISES", "Degradation"]

#: The ways of shrinking: MATLAB bicubic, area averaging (binning), Gaussian blur then sampling.
KERNELS = ("bicubic", "area", "gaussian")
#: The noises added to the LR image.
NOISES = ("none", "gaussian", "poisson")


#: Largest ``blur_sigma`` (HR pixels) of the 'gaussian' degradation.
_MAX_BLUR_SIGMA = 20.0
#: Largest ``noise_level`` by noise: a std of full scale ('gaussian'), photons at full scale ('poisson').
_MAX_NOISE_LEVEL = {"none": 0.0, "gaussian": 1.0, "poisson": 1e12}


@dataclass(frozen=True)
class Degradation:
    """A seeded HR -> LR degradation: a shrinking ``kernel``, then optional ``noise``.

    Parameters
    ----------
    kernel : {'bicubic', 'area', 'gaussian'}
        ``'bicubic'``: MATLAB's antialiased bicubic ``imresize``, the
        literature's (and the released weights') degradation.
        ``'area'``: the mean of each ``scale`` x ``scale`` block, as a
        camera that bins pixels (or whose pixels are ``scale`` times larger)
        integrates the light over their area.
        ``'gaussian'``: a Gaussian blur of ``sigma`` HR pixels (a point
        spread function), then one sample at the centre of each LR pixel,
        as an ideal point-sampling detector behind blurring optics.
    sigma : float
        Standard deviation of the ``'gaussian'`` kernel in HR pixels (> 0);
        must be 0 for the other kernels. About ``0.21 * wavelength / NA``
        divided by the HR pixel size models a widefield microscope's PSF.
    noise : {'none', 'gaussian', 'poisson'}
        ``'gaussian'``: additive read-out noise of standard deviation
        ``noise_level`` (a fraction of full scale). ``'poisson'``: shot
        noise of a photon count, with ``noise_level`` photons at full scale
        (fewer photons, more noise).
    noise_level : float
        See ``noise``; must be > 0 with noise and 0 without.
    seed : int
        Seed of the noise; image ``index`` of a set draws from
        ``numpy.random.default_rng([seed, index])``, so every image gets
        its own noise and a rerun the same.

    Raises
    ------
    ValueError
        An unknown kernel or noise, or a ``sigma`` or ``noise_level`` that
        does not fit them.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.degradation import Degradation
    >>> hr = np.arange(16, dtype=np.uint8).reshape(4, 4)
    >>> Degradation("area")(hr, 2) * 255
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    >>> Degradation("gaussian", sigma=1.0, noise="poisson", noise_level=100)(hr, 2).shape
    (2, 2)
    """

    kernel: str = "bicubic"
    sigma: float = 0.0
    noise: str = "none"
    noise_level: float = 0.0
    seed: int = 0

    def __post_init__(self):
        if self.kernel not in KERNELS:
            raise ValueError(f"`degradation` must be one of {KERNELS}, got {self.kernel!r}.")
        if self.noise not in NOISES:
            raise ValueError(f"`noise` must be one of {NOISES}, got {self.noise!r}.")
        if self.kernel == "gaussian" and not self.sigma > 0:
            raise ValueError(f"The 'gaussian' degradation needs `blur_sigma` > 0 (in HR pixels), got {self.sigma!r}.")
        if self.kernel != "gaussian" and self.sigma != 0:
            raise ValueError(
                f"`blur_sigma`={self.sigma!r} is only used by the 'gaussian' degradation, not "
                f"{self.kernel!r}; set blur_sigma to 0 or the degradation to 'gaussian'."
            )
        if (self.noise == "none") != (self.noise_level == 0):
            raise ValueError(
                f"`noise_level`={self.noise_level!r} does not fit `noise`={self.noise!r}: give a level > 0 "
                "with 'gaussian' (std as a fraction of full scale) or 'poisson' (photons at full "
                "scale), and 0 with 'none'."
            )
        if self.noise_level < 0 or not np.isfinite(self.noise_level):
            raise ValueError(f"`noise_level` must be a finite number >= 0, got {self.noise_level!r}.")
        if self.sigma > _MAX_BLUR_SIGMA:
            raise ValueError(
                f"`blur_sigma`={self.sigma!r} HR pixels is beyond {_MAX_BLUR_SIGMA} (its kernel would be "
                "larger than most images); a microscope's blur is a few pixels, e.g. blur_sigma 1.5."
            )
        if self.noise_level > _MAX_NOISE_LEVEL[self.noise]:
            raise ValueError(
                f"`noise_level`={self.noise_level!r} is beyond {_MAX_NOISE_LEVEL[self.noise]:g} for "
                f"{self.noise!r} noise; e.g. 0.01 (a std of 1% of full scale) for 'gaussian', 100 "
                "(photons at full scale) for 'poisson'."
            )

    def __str__(self):
        """A one-line description, e.g. ``'gaussian blur sigma 1.5, poisson noise 100'``."""
        text = {"bicubic": "MATLAB bicubic", "area": "area (binning)"}.get(
            self.kernel, f"gaussian blur sigma {self.sigma:g}"
        )
        return text if self.noise == "none" else f"{text}, {self.noise} noise {self.noise_level:g}"

    def __call__(self, hr, scale, index=0):
        """The float64 LR image of ``hr`` (uint8, or float in [0, 1]) shrunk ``scale`` times.

        For ``'area'`` and ``'gaussian'`` the HR sides must be multiples of
        ``scale`` (see :func:`skfsrcnn.datasets.mod_crop`); ``index`` picks
        the image's noise (see ``seed``).
        """
        hr = hr.astype(np.float64) / 255.0 if hr.dtype == np.uint8 else np.asarray(hr, np.float64)
        if self.kernel == "bicubic":
            lr = imresize(hr, 1 / scale)
        else:
            lr = _shrink(hr, scale, self.kernel, self.sigma)
        return self._add_noise(lr, index)

    def _add_noise(self, lr, index):
        if self.noise == "none":
            return lr
        rng = np.random.default_rng([self.seed, index])
        if self.noise == "gaussian":
            return lr + rng.normal(0.0, self.noise_level, lr.shape)
        return rng.poisson(np.clip(lr, 0.0, None) * self.noise_level) / self.noise_level


def _shrink(hr, scale, kernel, sigma):
    """Area averaging, or a Gaussian blur sampled at the LR pixels' centres."""
    rows, cols = hr.shape
    if rows % scale or cols % scale:
        raise ValueError(
            f"The {kernel!r} degradation needs HR sides that are multiples of `scale`={scale}, got "
            f"{rows}x{cols}; crop it first with skfsrcnn.datasets.mod_crop."
        )
    if kernel == "area":
        return hr.reshape(rows // scale, scale, cols // scale, scale).mean(axis=(1, 3))
    from scipy.ndimage import gaussian_filter

    blurred = gaussian_filter(hr, sigma, mode="nearest")
    # An LR pixel's centre lies at HR coordinate k * scale + (scale - 1) / 2: between two pixels for even scales.
    first, second = (scale - 1) // 2, scale // 2
    return sum(blurred[a::scale, b::scale] for a in (first, second) for b in (first, second)) / 4
