"""Training and benchmark data: HR folders, augmentation, LR degradation, patches.

Everything works on the luma channel (Y of BT.601 as MATLAB), the channel
FSRCNN is trained and scored on; greyscale images are used as they are.
"""

import os
from pathlib import Path

import numpy as np

from ._colour import y_channel_uint8
from .resize import imresize

__all__ = [
    "IMAGE_SUFFIXES",
    "PatchSampler",
    "augment",
    "degrade",
    "degraded_pairs",
    "load_benchmark",
    "load_folder",
    "load_paired_folders",
    "mod_crop",
]

#: File suffixes read as images (case-insensitive) by :func:`load_folder` and friends.
#:
#: Examples
#: --------
#: >>> from skfsrcnn.datasets import IMAGE_SUFFIXES
#: >>> ".png" in IMAGE_SUFFIXES
#: True
IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff")

#: The paper's augmentation: downscaling factors and rotations in degrees.
PAPER_DOWNSCALES = (1.0, 0.9, 0.8, 0.7, 0.6)
PAPER_ROTATIONS = (0, 90, 180, 270)


def _image_files(folder):
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"Image folder {str(folder)!r} does not exist or is not a folder.")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"Image folder {str(folder)!r} holds no images ({', '.join(IMAGE_SUFFIXES)}).")
    return files


def _read_y(path):
    """The luma of the image at ``path``, read as :func:`skfsrcnn.io.read_image` reads it (upright, dtype kept)."""
    from ._photo import UnsupportedMode
    from .io import _is_one_image, read_image

    try:
        image = read_image(path)
    except UnsupportedMode:  # its message names the mode and the conversion
        raise
    except ValueError as error:  # empty, truncated, not an image
        cause = error.__cause__ or error
        raise ValueError(
            f"{os.fspath(path)!r} could not be read as an image ({type(cause).__name__}: {cause}); "
            "replace or remove it."
        ) from error
    if image.dtype != np.uint8:
        raise ValueError(f"{os.fspath(path)!r}: training images must be 8-bit, got {image.dtype}.")
    if not _is_one_image(image.shape):
        raise ValueError(
            f"{os.fspath(path)!r}: training images are one 2-D image, got a stack of shape {image.shape}; "
            "save its planes as separate files."
        )
    return y_channel_uint8(image)


def load_folder(folder):
    """Read every image of ``folder`` as its uint8 luma, sorted by file name.

    Colour images are reduced to their BT.601 luma (MATLAB ``rgb2ycbcr``);
    greyscale images are kept as they are. Files are read as
    :func:`skfsrcnn.io.read_image` reads them (and ``skfsrcnn upscale``):
    upright as their EXIF orientation says, 16-bit ones refused rather than
    cut to 8 bits, modes that would be misread (CMYK...) refused.

    .. versionchanged:: 0.2
       Read through :mod:`skfsrcnn.io` instead of imageio.

    Parameters
    ----------
    folder : str or path-like
        Folder of 8-bit images with a suffix of :data:`IMAGE_SUFFIXES`;
        other files are ignored, subfolders are not searched.

    Returns
    -------
    list of (M, N) uint8 ndarray
        The luma of every image, in sorted file-name order.

    Raises
    ------
    ValueError
        ``folder`` does not exist, holds no image, or holds an image that is
        not 8-bit or cannot be read (truncated, not an image).

    See Also
    --------
    load_paired_folders : HR and LR images paired by name.
    load_benchmark : A test set, mod-cropped to the scale.

    Examples
    --------
    >>> from skfsrcnn.io import sample_path
    >>> from skfsrcnn.datasets import load_folder
    >>> images = load_folder(sample_path().parent)  # the bundled sample's folder
    >>> len(images), images[0].shape, images[0].dtype
    (1, (128, 128), dtype('uint8'))
    >>> t91 = load_folder("../shared/datasets/T91")  # doctest: +SKIP
    """
    return [_read_y(path) for path in _image_files(folder)]


def load_paired_folders(hr_folder, lr_folder):
    """Read HR and LR luma images paired by sorted file name.

    For training on your own degradation (camera pairs, other kernels)
    instead of the bicubic one of :func:`degrade`: the k-th image of
    ``hr_folder`` (in sorted order) is paired with the k-th of ``lr_folder``.

    Parameters
    ----------
    hr_folder : str or path-like
        Folder of the 8-bit high-resolution images.
    lr_folder : str or path-like
        Folder of the matching 8-bit low-resolution images, as many as in
        ``hr_folder``.

    Returns
    -------
    list of (hr, lr) tuple of (M, N) uint8 ndarray
        The luma of each HR image with the luma of its LR partner, ready for
        the ``pairs`` argument of :class:`PatchSampler`.

    Raises
    ------
    ValueError
        A folder does not exist or holds no image, an image is not 8-bit or
        cannot be read, or the folders hold different numbers of images.

    See Also
    --------
    load_folder : HR images alone, degraded on the fly.

    Examples
    --------
    >>> from skfsrcnn.io import sample_path
    >>> from skfsrcnn.datasets import load_paired_folders
    >>> folder = sample_path().parent
    >>> [(hr.shape, lr.shape) for hr, lr in load_paired_folders(folder, folder)]
    [((128, 128), (128, 128))]
    """
    hr_files, lr_files = _image_files(hr_folder), _image_files(lr_folder)
    if len(hr_files) != len(lr_files):
        raise ValueError(
            f"`hr_folder` has {len(hr_files)} images but `lr_folder` has {len(lr_files)}; "
            "pair them one to one by sorted name."
        )
    return [(_read_y(h), _read_y(lr)) for h, lr in zip(hr_files, lr_files)]


def mod_crop(image, scale):
    """Crop the bottom/right so that both sides are multiples of ``scale``.

    Parameters
    ----------
    image : (M, N[, ...]) ndarray
        Image whose first two axes are rows and columns.
    scale : int
        Upscaling factor.

    Returns
    -------
    ndarray
        A view of ``image`` with ``M - M % scale`` rows and ``N - N % scale``
        columns, so that its LR version is exactly ``scale`` times smaller.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.datasets import mod_crop
    >>> mod_crop(np.zeros((100, 65, 3)), 3).shape
    (99, 63, 3)
    """
    rows, cols = (n - n % scale for n in image.shape[:2])
    return image[:rows, :cols]


def degrade(hr, scale):
    """Return the float LR image of a uint8 HR luma: MATLAB bicubic in floating point.

    This is the degradation of the literature's protocol (used for training
    and evaluation alike): the HR image is scaled to [0, 1] and shrunk by
    MATLAB's antialiased bicubic ``imresize``, without rounding to uint8.

    Parameters
    ----------
    hr : (M, N) uint8 ndarray
        HR luma, best mod-cropped first (see :func:`mod_crop`).
    scale : int
        Downscaling factor.

    Returns
    -------
    (ceil(M / scale), ceil(N / scale)) float64 ndarray
        LR luma in [0, 1] (bicubic overshoot may step slightly outside).

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.datasets import degrade
    >>> degrade(np.zeros((30, 24), np.uint8), 3).shape
    (10, 8)
    """
    return imresize(hr.astype(np.float64) / 255.0, 1 / scale)


def degraded_pairs(images, scale, degradation=None):
    """Pair each HR luma image, mod-cropped, with its LR version by :func:`degrade`.

    Parameters
    ----------
    images : list of (M, N) uint8 ndarray
        HR luma images.
    scale : int
        Downscaling factor.
    degradation : skfsrcnn.degradation.Degradation, optional
        How to make the LR images (image ``k`` gets noise ``k``); None is
        :func:`degrade`, MATLAB bicubic.

    Returns
    -------
    list of (hr, lr) tuples
        ``hr`` the mod-cropped uint8 image (a view), ``lr`` its float LR
        image in [0, 1], ``scale`` times smaller.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.datasets import degraded_pairs
    >>> [(hr, lr)] = degraded_pairs([np.zeros((31, 25), np.uint8)], 3)
    >>> hr.shape, lr.shape
    ((30, 24), (10, 8))
    """
    cropped = [mod_crop(hr, scale) for hr in images]
    if degradation is None:
        return [(hr, degrade(hr, scale)) for hr in cropped]
    return [(hr, degradation(hr, scale, index)) for index, hr in enumerate(cropped)]


def _unit_float32(image):
    """``image`` as float32 in [0, 1]: uint8 divided by 255, floats as they are."""
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    return np.asarray(image, dtype=np.float32)


def augment(images, downscales=PAPER_DOWNSCALES, rotations=PAPER_ROTATIONS, flips=False):
    """The paper's augmentation: each image downscaled and rotated (optionally flipped).

    Parameters
    ----------
    images : list of (M, N) uint8 ndarray
        HR luma images.
    downscales : sequence of float
        Bicubic downscaling factors (1 keeps the original).
    rotations : sequence of {0, 90, 180, 270}
        Rotations in degrees.
    flips : bool
        Also add the left-right mirror of every variant.

    Returns
    -------
    list of uint8 ndarray
        ``len(images) * len(downscales) * len(rotations)`` images (twice as
        many with ``flips``): for each image, each downscale, each rotation
        (then its mirror).

    Raises
    ------
    ValueError
        A rotation is not one of 0, 90, 180 or 270.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.datasets import augment
    >>> image = np.zeros((40, 30), np.uint8)
    >>> [a.shape for a in augment([image], downscales=(1.0, 0.5), rotations=(0, 90))]
    [(40, 30), (30, 40), (20, 15), (15, 20)]
    >>> len(augment([image]))  # the paper's 5 downscales x 4 rotations
    20
    """
    for angle in rotations:
        if angle not in PAPER_ROTATIONS:
            raise ValueError(f"`rotations` must hold multiples of 90 in 0..270, got {angle!r}.")
    out = []
    for image in images:
        for factor in downscales:
            scaled = image if factor == 1 else imresize(image, factor)
            for angle in rotations:
                rotated = np.ascontiguousarray(np.rot90(scaled, angle // 90))
                out.append(rotated)
                if flips:
                    out.append(np.ascontiguousarray(rotated[:, ::-1]))
    return out


def _selfexsr_files(folder, scale):
    sub = Path(folder) / f"image_SRF_{scale}"
    if sub.is_dir():
        return sorted(sub.glob("*_HR.*"))
    return None


def load_benchmark(folder, scale):
    """Load a benchmark set for ``scale`` as ``[(name, hr_luma_uint8), ...]``.

    ``folder`` is either in the SelfExSR layout (``image_SRF_<scale>/*_HR.png``)
    or a plain folder of HR images, which are mod-cropped to the scale.

    Parameters
    ----------
    folder : str or path-like
        Benchmark folder, e.g. ``Set5`` or ``Set14``: with an
        ``image_SRF_<scale>`` subfolder (its ``*_HR`` images are used) or
        holding the HR images themselves.
    scale : int
        Upscaling factor: picks the SelfExSR subfolder and the mod-crop.

    Returns
    -------
    list of (str, (M, N) uint8 ndarray)
        Image name (file stem without ``_SRF_<scale>_HR``) and its
        mod-cropped HR luma, sorted by file name.

    Raises
    ------
    ValueError
        ``folder`` does not exist or holds no HR image for ``scale``, or an
        image is not 8-bit or cannot be read.

    See Also
    --------
    skfsrcnn.evaluate.evaluate : Score an upscaler on the loaded set.

    Examples
    --------
    >>> from skfsrcnn.io import sample_path
    >>> from skfsrcnn.datasets import load_benchmark
    >>> [(name, hr.shape) for name, hr in load_benchmark(sample_path().parent, 3)]
    [('astronaut_lr', (126, 126))]
    >>> set5 = load_benchmark("../shared/datasets/Set5", 3)  # doctest: +SKIP
    """
    files = _selfexsr_files(folder, scale)
    if files is None:
        files = _image_files(folder)
    if not files:
        raise ValueError(f"No HR images for scale {scale} found in {str(folder)!r}.")
    return [(path.stem.replace(f"_SRF_{scale}_HR", ""), mod_crop(_read_y(path), scale)) for path in files]


class PatchSampler:
    """Random aligned LR/HR patches, drawn on the fly from degraded images.

    Parameters
    ----------
    images : list of (M, N) uint8 ndarray
        HR luma images (already augmented if wanted).
    scale : int
        Upscaling factor.
    patch_size : int
        LR patch side; HR patches are ``patch_size * scale``.
    batch_size : int
        Patches per batch.
    seed : int or numpy.random.Generator
        Seed of the sampling; the generator state is part of a checkpoint.
    pairs : list of (hr, lr) tuples, optional
        Ready-made pairs instead of degrading ``images``: each image uint8,
        or float in [0, 1] (e.g. the LR images of :func:`degraded_pairs`).
    intensity_augment : bool, optional
        Map each patch pair by a random affine intensity change within
        [0, 1] (see :meth:`sample`), so that the network learns every
        intensity range instead of the one of its training images.

    Attributes
    ----------
    hr, lr : list of float32 ndarray
        The HR targets and LR inputs patches are drawn from, in [0, 1]: the
        pairs at least ``patch_size`` LR pixels on each side. Replacing an
        HR target (e.g. by a distillation target of the same shape) changes
        what :meth:`sample` returns for it.
    rng : numpy.random.Generator
        The generator of the sampling.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.datasets import PatchSampler
    >>> images = [np.random.default_rng(0).integers(0, 255, (60, 60), dtype=np.uint8)]
    >>> lr, hr = PatchSampler(images, 3, 8, 4, seed=0).sample()
    >>> lr.shape, hr.shape
    ((4, 1, 8, 8), (4, 1, 24, 24))
    """

    def __init__(self, images, scale, patch_size, batch_size, seed=0, pairs=None, intensity_augment=False):
        self.scale, self.patch_size, self.batch_size = scale, patch_size, batch_size
        self.intensity_augment = intensity_augment
        if pairs is None:
            pairs = degraded_pairs(images, scale)
        self.hr, self.lr = [], []
        for hr, lr in pairs:
            if lr.shape[0] * scale != hr.shape[0] or lr.shape[1] * scale != hr.shape[1]:
                raise ValueError(f"LR image {lr.shape} times scale {scale} does not match HR {hr.shape}.")
            if min(lr.shape) < patch_size:
                continue
            self.hr.append(_unit_float32(hr))
            self.lr.append(_unit_float32(lr))
        if not self.lr:
            raise ValueError(f"No training image is at least {patch_size} LR pixels on each side; lower `patch_size`.")
        areas = np.array([(a.shape[0] - patch_size + 1) * (a.shape[1] - patch_size + 1) for a in self.lr])
        self.weights = areas / areas.sum()
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def sample(self):
        """Draw one batch of aligned patches.

        Images are chosen in proportion to their number of patch positions,
        then a position uniformly within the image. With
        ``intensity_augment``, each pair ``(lr, hr)`` becomes
        ``(start + span * lr, start + span * hr)``: a third of the pairs
        keep their intensities, the others get a span drawn in [0.2, 1]
        and, half of them, a black level (``start = 0``, a dark
        background), the rest a start drawn in [0, 1 - span].

        Returns
        -------
        lr : (B, 1, p, p) float32 ndarray
            LR patches in [0, 1], with ``B = batch_size`` and ``p = patch_size``.
        hr : (B, 1, p * s, p * s) float32 ndarray
            The HR patches they cover, with ``s = scale``.

        Examples
        --------
        >>> import numpy as np
        >>> from skfsrcnn.datasets import PatchSampler
        >>> images = [np.full((30, 30), 255, np.uint8)]
        >>> lr, hr = PatchSampler(images, 2, 5, 3).sample()
        >>> lr.shape, hr.shape, float(hr.max())
        ((3, 1, 5, 5), (3, 1, 10, 10), 1.0)
        """
        p, s = self.patch_size, self.scale
        lr_batch = np.empty((self.batch_size, 1, p, p), np.float32)
        hr_batch = np.empty((self.batch_size, 1, p * s, p * s), np.float32)
        choice = self.rng.choice(len(self.lr), size=self.batch_size, p=self.weights)
        for k, index in enumerate(choice):
            lr, hr = self.lr[index], self.hr[index]
            i = self.rng.integers(0, lr.shape[0] - p + 1)
            j = self.rng.integers(0, lr.shape[1] - p + 1)
            lr_batch[k, 0] = lr[i : i + p, j : j + p]
            hr_batch[k, 0] = hr[i * s : (i + p) * s, j * s : (j + p) * s]
            if self.intensity_augment:
                start, span = self._intensity_change()
                lr_batch[k] = start + span * lr_batch[k]
                hr_batch[k] = start + span * hr_batch[k]
        return lr_batch, hr_batch

    def _intensity_change(self):
        """A random ``(start, span)`` of :meth:`sample`'s intensity augmentation."""
        if self.rng.random() < 1 / 3:
            return np.float32(0.0), np.float32(1.0)
        span = self.rng.uniform(0.2, 1.0)
        start = 0.0 if self.rng.random() < 0.5 else self.rng.uniform(0.0, 1.0 - span)
        return np.float32(start), np.float32(span)
