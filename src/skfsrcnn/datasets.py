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
    "load_benchmark",
    "load_folder",
    "load_paired_folders",
    "mod_crop",
]

#: File suffixes read as images.
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
        raise ValueError(
            f"Image folder {str(folder)!r} holds no images ({', '.join(IMAGE_SUFFIXES)})."
        )
    return files


def _read_y(path):
    import imageio.v3 as iio

    image = iio.imread(path)
    if image.dtype != np.uint8:
        raise ValueError(f"{os.fspath(path)!r}: training images must be 8-bit, got {image.dtype}.")
    return y_channel_uint8(image)


def load_folder(folder):
    """Read every image of ``folder`` as its uint8 luma, sorted by file name.

    Examples
    --------
    >>> from skfsrcnn.datasets import load_folder
    >>> images = load_folder("../shared/datasets/T91")  # doctest: +SKIP
    """
    return [_read_y(path) for path in _image_files(folder)]


def load_paired_folders(hr_folder, lr_folder):
    """Read HR and LR luma images paired by sorted file name.

    Returns
    -------
    list of (hr, lr) tuples of uint8 arrays
    """
    hr_files, lr_files = _image_files(hr_folder), _image_files(lr_folder)
    if len(hr_files) != len(lr_files):
        raise ValueError(
            f"`hr_folder` has {len(hr_files)} images but `lr_folder` has {len(lr_files)}; "
            "pair them one to one by sorted name."
        )
    return [(_read_y(h), _read_y(lr)) for h, lr in zip(hr_files, lr_files)]


def mod_crop(image, scale):
    """Crop the bottom/right so that both sides are multiples of ``scale``."""
    rows, cols = (n - n % scale for n in image.shape[:2])
    return image[:rows, :cols]


def degrade(hr, scale):
    """Return the float LR image of a uint8 HR luma: MATLAB bicubic in floating point.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.datasets import degrade
    >>> degrade(np.zeros((30, 24), np.uint8), 3).shape
    (10, 8)
    """
    return imresize(hr.astype(np.float64) / 255.0, 1 / scale)


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
    list of (M', N') uint8 ndarray
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
        Ready-made pairs (``lr`` uint8 or float) instead of degrading ``images``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.datasets import PatchSampler
    >>> images = [np.random.default_rng(0).integers(0, 255, (60, 60), dtype=np.uint8)]
    >>> lr, hr = PatchSampler(images, 3, 8, 4, seed=0).sample()
    >>> lr.shape, hr.shape
    ((4, 1, 8, 8), (4, 1, 24, 24))
    """

    def __init__(self, images, scale, patch_size, batch_size, seed=0, pairs=None):
        self.scale, self.patch_size, self.batch_size = scale, patch_size, batch_size
        if pairs is None:
            pairs = [(mod_crop(hr, scale), None) for hr in images]
            pairs = [(hr, degrade(hr, scale)) for hr, _ in pairs]
        self.hr, self.lr = [], []
        for hr, lr in pairs:
            if lr.shape[0] * scale != hr.shape[0] or lr.shape[1] * scale != hr.shape[1]:
                raise ValueError(
                    f"LR image {lr.shape} times scale {scale} does not match HR {hr.shape}."
                )
            if min(lr.shape) < patch_size:
                continue
            lr = lr / 255.0 if lr.dtype == np.uint8 else lr
            self.hr.append(hr.astype(np.float32) / 255.0)
            self.lr.append(np.asarray(lr, dtype=np.float32))
        if not self.lr:
            raise ValueError(
                f"No training image is at least {patch_size} LR pixels on each side; "
                "lower `patch_size`."
            )
        areas = np.array([(a.shape[0] - patch_size + 1) * (a.shape[1] - patch_size + 1) for a in self.lr])
        self.weights = areas / areas.sum()
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def sample(self):
        """Return ``(lr, hr)`` float32 arrays of shape ``(B, 1, p, p)`` and ``(B, 1, p*s, p*s)``."""
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
        return lr_batch, hr_batch
