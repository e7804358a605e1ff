"""Training in one call: ``train`` a config, or ``fit`` FSRCNN to your own images in minutes."""

import os
import time
from pathlib import Path

import numpy as np

from .. import _validate
from .._progress import run_to_end
from ..datasets import load_folder
from ..degradation import Degradation
from .config import TrainConfig
from .trainer import Trainer

__all__ = ["STARTS", "fit", "fit_steps", "train"]

#: Where :func:`fit` starts from: the photo weights, the fluorescence weights, or random weights.
STARTS = ("photo", "fluo", "scratch")

#: The smallest LR patch side trained on (the default, 32, shrinks to fit small images).
_MIN_PATCH = 8
#: Validation images must hold the shaved border and the validation window at every scale.
_MIN_VAL_SIDE = 2 * 4 + 11


def fit(images, scale, **options):
    """Fine-tune FSRCNN on your own high-resolution images; return the best weights file.

    The images are held back in part for validation, shrunk by
    ``degradation`` to make the training inputs, and the network trains
    for ``time_budget`` seconds, keeping the weights that score best on the
    held-back part. Pass the result to :func:`skfsrcnn.upscale` as
    ``weights``.

    Parameters
    ----------
    images : str, path-like or sequence of ndarray
        A folder of 8-bit images (see :func:`skfsrcnn.datasets.load_folder`),
        or arrays of any dtype: 2-D images, or stacks whose last two axes
        are spatial (every plane is an example). Each array is mapped to
        8 bits by its own minimum and maximum (uint8 is kept).
    scale : {2, 3, 4}
        Upscaling factor.
    **options
        As for :func:`fit_steps`.

    Returns
    -------
    pathlib.Path
        The best weights (``<output_dir>/<name>/best.safetensors``).

    Raises
    ------
    ValueError, TypeError
        Bad options or images (too few, too small, empty).

    See Also
    --------
    fit_steps : The same as a generator, for progress bars and Cancel.

    Examples
    --------
    >>> import tempfile
    >>> from skimage import data
    >>> from skfsrcnn import upscale
    >>> from skfsrcnn.train import fit
    >>> runs = tempfile.TemporaryDirectory()
    >>> cell = data.cell()  # a phase-contrast micrograph: train on its top, validate on its bottom
    >>> best = fit([cell], 2, model="fsrcnn-s", time_budget=2, output_dir=runs.name, progress=False)
    >>> upscale(cell[:64, :64], 2, weights=best).shape
    (128, 128)
    >>> runs.cleanup()
    """
    return run_to_end(fit_steps(images, scale, **options))


def fit_steps(
    images,
    scale,
    *,
    model="fsrcnn",
    start="photo",
    degradation=None,
    time_budget=300.0,
    val_fraction=0.1,
    name=None,
    output_dir="runs",
    seed=0,
    device=None,
    threads=None,
    progress=True,
):
    """Generator form of :func:`fit`: yields a :class:`~skfsrcnn.train.Progress` per iteration.

    The best weights file is the generator's return value. Closing the
    generator early (a Cancel button) stops training and keeps the best
    weights so far, in the same file.

    Parameters
    ----------
    images : str, path-like or sequence of ndarray
        As for :func:`fit`.
    scale : {2, 3, 4}
        Upscaling factor.
    model : {'fsrcnn', 'fsrcnn-s'}, optional
        The network: FSRCNN (best quality) or FSRCNN-s (three times faster,
        to train and to run).
    start : {'photo', 'fluo', 'scratch'}, optional
        Start from the released photo weights of ``model`` at ``scale``, the
        fluorescence weights, or random weights (which need far more than
        minutes).
    degradation : skfsrcnn.degradation.Degradation, optional
        How the low-resolution inputs are made; None is MATLAB bicubic.
        Match it to your acquisition (binning, blur, noise).
    time_budget : float, optional
        Seconds of training. On 2 CPU cores, 300 s fine-tune FSRCNN from
        the photo weights into a model that beats them on its own domain.
    val_fraction : float, optional
        Share of the images held back for validation, in (0, 0.5]; at least
        one. A single image gives up its bottom quarter instead.
    name : str, optional
        Run name (the folder under ``output_dir``); by default
        ``fit-<model>-x<scale>-<date and time>``.
    output_dir : str or path-like, optional
        Folder of the runs.
    seed : int, optional
        Seed of the initialisation, sampling and noise.
    device, threads : optional
        As for :class:`~skfsrcnn.train.TrainConfig`.
    progress : bool, optional
        Show a progress bar in the terminal.

    Yields
    ------
    Progress
        Iteration, seconds spent, latest and best validation PSNR.

    Examples
    --------
    >>> import tempfile
    >>> from skimage import data
    >>> from skfsrcnn.train import fit_steps
    >>> runs = tempfile.TemporaryDirectory()
    >>> steps = fit_steps([data.cell()], 2, model="fsrcnn-s", output_dir=runs.name, progress=False)
    >>> first = next(steps)
    >>> first.iteration
    1
    >>> steps.close()  # Cancel: the weights so far are kept
    >>> runs.cleanup()
    """
    scale = _validate.scale(scale)
    if start not in STARTS:
        raise ValueError(f"`start` must be one of {STARTS}, got {start!r}.")
    if not 0 < val_fraction <= 0.5:
        raise ValueError(f"`val_fraction` must be in (0, 0.5], e.g. 0.1, got {val_fraction!r}.")
    degradation = Degradation() if degradation is None else degradation
    if not isinstance(degradation, Degradation):
        raise TypeError(f"`degradation` must be a skfsrcnn.degradation.Degradation, got {type(degradation).__name__}.")
    name = name or f"fit-{model}-x{scale}-{time.strftime('%Y%m%d-%H%M%S')}"
    config = TrainConfig(
        name=name,
        model=model,
        scale=scale,
        train_folders=[],
        val_data=None,
        time_budget=time_budget,
        init_from=None if start == "scratch" else f"{model}{'-fluo' if start == 'fluo' else ''}-x{scale}",
        lr=1e-3 if start == "scratch" else 5e-4,
        schedule="constant",
        iterations=10**9,  # the budget ends it
        downscales=[1.0],
        flips=True,
        val_every=100,
        checkpoint_every=1000,
        log_every=50,
        degradation=degradation.kernel,
        blur_sigma=degradation.sigma,
        noise=degradation.noise,
        noise_level=degradation.noise_level,
        seed=seed,
        device=device,
        threads=threads,
        output_dir=os.fspath(output_dir),
    )
    if config.run_dir.exists():
        raise ValueError(f"The run folder {str(config.run_dir)!r} exists; choose another `name` (or leave it None).")
    train, val = _split(_planes(images), val_fraction)
    config.patch_size = min(config.patch_size, min(min(plane.shape) for plane in train) // scale)
    if config.patch_size < _MIN_PATCH:
        raise ValueError(
            f"The training images are too small for x{scale}: the smallest side should be at least "
            f"{_MIN_PATCH * scale} pixels; give larger images."
        )
    data = config.run_dir / "data"
    config.train_folders = [str(_write_pngs(train, data / "train"))]
    config.val_data = str(_write_pngs(val, data / "val"))
    return (yield from Trainer(config, progress=progress).run_steps())


def _planes(images):
    """The 2-D uint8 examples of ``images``: a folder's luma images, or every plane of every array."""
    if isinstance(images, (str, os.PathLike)):
        return load_folder(images)
    if isinstance(images, np.ndarray) or not hasattr(images, "__iter__"):
        raise TypeError("`images` must be a folder or a sequence of arrays (a list, even of one image).")
    planes = []
    for image in images:
        image = np.asarray(image)
        if image.ndim < 2 or image.size == 0:
            raise ValueError(f"`images` holds an array of shape {image.shape}; give 2-D images or stacks of them.")
        if image.dtype != np.uint8:
            low, high = float(np.nanmin(image)), float(np.nanmax(image))
            image = np.round((image - low) / ((high - low) or 1.0) * 255).astype(np.uint8)
        planes.extend(image.reshape(-1, *image.shape[-2:]))
    return planes


def _split(planes, val_fraction):
    """``(train, val)``: every k-th plane held back, or the bottom quarter of a single one."""
    if not planes:
        raise ValueError("`images` is empty; give at least one image.")
    if len(planes) == 1:
        image = planes[0]
        cut = image.shape[0] * 3 // 4
        if min(image.shape[0] - cut, image.shape[1]) < _MIN_VAL_SIDE:
            raise ValueError(
                f"One image of {image.shape[0]}x{image.shape[1]} pixels is too small to hold back a quarter "
                f"of it for validation (at least {4 * _MIN_VAL_SIDE} rows); give more or larger images."
            )
        return [image[:cut]], [image[cut:]]
    count = max(1, round(len(planes) * val_fraction))
    held = {int((k + 1) * len(planes) / count) - 1 for k in range(count)}  # spread evenly, the last included
    return ([p for k, p in enumerate(planes) if k not in held], [p for k, p in enumerate(planes) if k in held])


def _write_pngs(planes, folder):
    """Write ``planes`` as numbered PNGs into ``folder`` (created); return it."""
    import imageio.v3 as iio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for k, plane in enumerate(planes):
        iio.imwrite(folder / f"{k:05d}.png", np.ascontiguousarray(plane))
    return folder


def train(config, resume=False, progress=True):
    """Train a model described by ``config``; return the path of its best weights.

    Shorthand for ``Trainer(config, resume, progress).run()``.

    Parameters
    ----------
    config : TrainConfig
        The run's settings (see :func:`load_config`).
    resume : bool
        Continue the run from its checkpoint, e.g. after an interruption or
        with a larger ``iterations``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    pathlib.Path
        The run's ``best.safetensors``.

    Raises
    ------
    TypeError, ValueError
        As :class:`Trainer`.

    Examples
    --------
    >>> import dataclasses, tempfile
    >>> from skfsrcnn.io import sample_path
    >>> from skfsrcnn.train import load_config, train
    >>> runs = tempfile.TemporaryDirectory()
    >>> config = load_config(None, [
    ...     "name=tiny", "model=fsrcnn-s", f"train_folders=[{sample_path().parent}]",
    ...     "downscales=[1.0]", "rotations=[0]", "patch_size=8", "batch_size=4",
    ...     "iterations=2", "val_data=null", f"output_dir={runs.name}"])
    >>> train(config, progress=False).name
    'best.safetensors'

    Continue the same run for two more iterations:

    >>> more = dataclasses.replace(config, iterations=4)
    >>> train(more, resume=True, progress=False).name
    'best.safetensors'
    >>> runs.cleanup()
    """
    return Trainer(config, resume=resume, progress=progress).run()
