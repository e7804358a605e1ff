"""Bounds of the numeric training settings, checked when a :class:`TrainConfig` is made.

Every number a config holds is bounded, so that a typo (``downscales:
[50.0]``, ``batch_size: 1000000000``, ``threads: 100000``) is refused with
a message before any data are read, rather than running for minutes while
memory grows, or crashing the process. The batch is also checked against
the memory available: its patches and the network's activations, with
their gradients, must fit.
"""

import math

from .._memory import _gib, available_bytes
from ..models.fsrcnn import PRESETS

#: setting -> (low, high, low is excluded): the range each number must lie in.
LIMITS = {
    "patch_size": (1, 1024, False),
    "batch_size": (1, 65536, False),
    "iterations": (0, 10**9, False),
    "lr": (0.0, 1.0, False),
    "deconv_lr_scale": (0.0, 100.0, False),
    "momentum": (0.0, 0.999, False),
    "min_lr_ratio": (0.0, 1.0, False),
    "step_every": (1, 10**9, False),
    "step_gamma": (0.0, 1.0, True),
    "perceptual_scale": (0.0, 1000.0, True),
    "val_every": (1, 10**9, False),
    "checkpoint_every": (1, 10**9, False),
    "log_every": (1, 10**9, False),
    "early_stopping": (1, 10**6, False),
    "seed": (0, 2**32 - 1, False),
    "time_budget": (0.0, 1e8, True),
    "threads": (1, 256, False),
}
#: Range of each augmentation downscaling factor, and the most factors a config may list.
DOWNSCALE_RANGE, MAX_DOWNSCALES = (0.1, 2.0), 16
#: Activations (with their gradients and PReLU outputs) per LR pixel of a patch, per network, beyond the HR output:
#: feature extraction (d channels), shrinking and the m mapping layers (s each), expanding (d).
_FLOATS_PER_LR_PIXEL = {name: 4 * (2 * p["d"] + p["s"] * (1 + p["m"])) for name, p in PRESETS.items()}
#: SRCNN works at HR size: floats per HR pixel.
_FLOATS_PER_HR_PIXEL = {"srcnn": 4 * (64 + 32 + 2)}


def _range_text(low, high, open_low):
    return f"{'(' if open_low else '['}{low:g}, {high:g}]"


def check_limits(config):
    """Refuse a ``config`` whose numbers lie outside :data:`LIMITS`, or whose batch cannot fit in memory.

    ``config.downscales`` is set to its factors as floats.
    """
    for key, (low, high, open_low) in LIMITS.items():
        value = getattr(config, key)
        if value is None:
            continue
        if not (low < value if open_low else low <= value) or value > high:
            raise ValueError(f"`{key}` must be in {_range_text(low, high, open_low)}, got {value!r}.")
    config.downscales = _checked_downscales(config.downscales)
    _check_batch_fits(config)


def _checked_downscales(downscales):
    """``downscales`` as floats (YAML reads ``1e-9`` as a string), each within :data:`DOWNSCALE_RANGE`."""
    low, high = DOWNSCALE_RANGE
    if len(downscales) > MAX_DOWNSCALES:
        raise ValueError(
            f"`downscales` lists {len(downscales)} factors; use at most {MAX_DOWNSCALES}, e.g. the "
            "paper's [1.0, 0.9, 0.8, 0.7, 0.6]."
        )
    factors = []
    for factor in downscales:
        try:
            number = math.nan if isinstance(factor, bool) else float(factor)
        except (TypeError, ValueError):
            number = math.nan
        if not low <= number <= high:
            raise ValueError(
                f"`downscales` must hold factors in [{low:g}, {high:g}] (1 keeps an image, 0.5 halves it), "
                f"got {factor!r}; e.g. the paper's [1.0, 0.9, 0.8, 0.7, 0.6]."
            )
        factors.append(number)
    return factors


def batch_bytes(config):
    """Rough peak memory of one training step: the patches, and the activations with their gradients.

    Examples
    --------
    >>> from skfsrcnn.train import TrainConfig
    >>> from skfsrcnn.train._limits import batch_bytes
    >>> batch_bytes(TrainConfig(model="fsrcnn-s", batch_size=32, patch_size=32, scale=3)) < 2**30
    True
    """
    lr_pixels = config.patch_size**2
    hr_pixels = lr_pixels * config.scale**2
    floats = lr_pixels * _FLOATS_PER_LR_PIXEL.get(config.model, 0)
    floats += hr_pixels * (_FLOATS_PER_HR_PIXEL.get(config.model, 0) + 4)  # output, target, their gradients
    return 4 * config.batch_size * (floats + lr_pixels)


def _check_batch_fits(config):
    needed, available = batch_bytes(config), available_bytes()
    if available is not None and needed > available:
        fitting = max(1, math.floor(config.batch_size * available / needed))
        raise ValueError(
            f"`batch_size`={config.batch_size} of `patch_size`={config.patch_size} patches needs about "
            f"{_gib(needed)} per training step, more than the {_gib(available)} of memory available; "
            f"use batch_size: {fitting} or less, or smaller patches."
        )
