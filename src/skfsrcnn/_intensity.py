"""The intensity ranges weights are trained on, as their files record them (see ``pretrained.input_range``)."""

import functools
import json
import os
from pathlib import Path

#: Intensity range, as a fraction of full scale, of the luma of photographs:
#: BT.601 (MATLAB ``rgb2ycbcr``) keeps Y within 16..235 of 255. Weights
#: trained on the luma of colour photographs expect their input in it.
LUMA_RANGE = (16 / 255, 235 / 255)

#: Intensity range of weights trained on full-range data: greyscale images
#: that reach black and white, or training with intensity augmentation.
FULL_RANGE = (0.0, 1.0)


def _checked_range(value, what, fix):
    """``value`` as a ``(low, high)`` pair of floats with ``0 <= low < high <= 1``, or a ValueError."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        low = high = float("nan")
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(f"{what} must be two numbers with 0 <= low < high <= 1, got {value!r}; {fix}.")
    return low, high


def _range_from_metadata(metadata, source):
    """The ``input_range`` a weights file's metadata records, or :data:`LUMA_RANGE` when it records none."""
    text = metadata.get("input_range")
    if text is None:
        return LUMA_RANGE
    what, fix = f"The input_range of `weights` file {source!r}", "fix or remove that metadata entry"
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    return _checked_range(value, what, fix)


@functools.lru_cache(maxsize=64)
def _file_input_range(path, mtime):
    """:func:`input_range` of a weights file, cached by path and modification time."""
    if Path(path).suffix != ".safetensors":
        return LUMA_RANGE  # PyTorch files carry no metadata
    return _range_from_metadata(safetensors_metadata(path), path)


def safetensors_metadata(path):
    """The metadata of the safetensors file at ``path`` (``{}`` when it has none), its header alone read.

    Raises
    ------
    ValueError
        The file is not valid safetensors.
    """
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(os.fspath(path), framework="pt") as handle:
            return handle.metadata() or {}
    except (SafetensorError, OSError) as error:
        raise ValueError(f"`weights` file {str(path)!r} is not valid safetensors: {error}") from error
