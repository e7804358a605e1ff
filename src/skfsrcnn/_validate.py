"""Argument checks shared by the API, the command-line tools and the napari widget.

Each check raises ``ValueError`` or ``TypeError`` naming the parameter, the
value received and how to fix it.
"""

import math

import numpy as np


def device(value):
    """Resolve ``device``: ``None`` picks CUDA, then MPS, then CPU."""
    import torch

    if value is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(value)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"`device` must be None, 'cpu', 'cuda', 'cuda:N' or 'mps', got {value!r}.") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`device`={value!r} but no CUDA GPU is available; use device='cpu'.")
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise ValueError(
            f"`device`={value!r} but only {torch.cuda.device_count()} CUDA GPU(s) are available; "
            "use 'cuda:0' (the first), or device='cpu'."
        )
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"`device`={value!r} but MPS is not available; use device='cpu'.")
    if resolved.type not in ("cpu", "cuda", "mps"):
        what = "holds no data (shapes only)" if resolved.type == "meta" else "cannot run skfsrcnn here"
        raise ValueError(
            f"`device`={value!r}: torch knows {resolved.type!r} devices but one {what}; "
            "use device='cpu', 'cuda' or 'mps', or None for the best available."
        )
    return resolved


#: Smallest spatial side accepted: the 5x5 feature-extraction kernel.
MIN_SIDE = 5
#: Smallest tile core, in LR pixels.
MIN_TILE = 16
#: Most back-projection iterations accepted (each needs 4 more LR pixels of tile halo).
MAX_BACK_PROJECTION = 50
#: Scales with released weights.
SCALES = (2, 3, 4)


def as_array(image):
    """``image`` as an ndarray: arrays, array-likes and nested lists of numbers.

    Files, strings and other objects are refused with a TypeError; nested
    lists that do not form a rectangular array with a ValueError.
    """
    import os

    if isinstance(image, np.ma.MaskedArray):
        return _unmasked(image)
    if type(image) is np.ndarray:
        return image
    if isinstance(image, np.ndarray):  # np.matrix and other subclasses: their plain data
        return np.asarray(image)
    if isinstance(image, (str, bytes, os.PathLike)):
        raise TypeError(
            f"`image` must be a numpy or dask array, got {type(image).__name__} {os.fspath(image)!r}; "
            "read the file first, e.g. imageio.v3.imread(path)."
        )
    if not hasattr(image, "__array__") and not isinstance(image, (list, tuple)):
        raise TypeError(f"`image` must be a numpy or dask array, got {type(image).__name__}.")
    try:
        return np.asarray(image)
    except ValueError as error:
        raise ValueError(f"`image` is not a rectangular array ({error}); give every row the same length.") from error


def _unmasked(image):
    """The data of a masked array that masks nothing; one that masks pixels is refused.

    Upscaling mixes every pixel with its neighbours, so a masked pixel (and
    whatever its data hold, NaN included) would leak into the pixels around
    it: the caller chooses what to put there.
    """
    masked = int(np.count_nonzero(np.ma.getmaskarray(image)))
    if masked:
        raise ValueError(
            f"`image` is a masked array with {masked} masked pixel(s); upscaling mixes each pixel "
            "with its neighbours, so the mask cannot be kept. Fill them first, e.g. "
            "image.filled(np.ma.median(image)), and upscale the mask separately if you need it."
        )
    return np.asarray(image.data)


def image_dtype(dtype):
    """Refuse dtypes that are not images (bool, complex, object, strings)."""
    import numpy as np

    dtype = np.dtype(dtype)
    if dtype.kind not in "uif":
        raise TypeError(
            f"`image` has dtype {dtype}, which is not an image type; pass integer or float "
            "data, e.g. image.astype(np.uint8) for a mask or np.abs(image) for complex data."
        )
    return dtype


def channel_axis(value, ndim):
    """Normalise ``channel_axis`` to a non-negative axis, or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int,)) and not hasattr(value, "__index__"):
        raise TypeError(f"`channel_axis` must be an int or None, got {value!r}.")
    value = int(value)
    if not -ndim <= value < ndim:
        raise ValueError(
            f"`channel_axis`={value} is out of range for an image with {ndim} dimensions; "
            f"use a value in [{-ndim}, {ndim - 1}] or None for greyscale."
        )
    return value % ndim


def spatial_shape(shape, channel):
    """Check that the image has two spatial axes of at least ``MIN_SIDE`` pixels."""
    spatial_ndim = len(shape) - (channel is not None)
    if spatial_ndim < 2:
        hint = " (a 2-D image with channel_axis set has only one spatial axis)" if channel is not None else ""
        raise ValueError(
            f"`image` of shape {shape} needs at least two spatial axes{hint}; pass a "
            "(rows, columns) image, optionally with leading plane axes and a channel axis."
        )
    if 0 in shape:
        raise ValueError(f"`image` of shape {shape} is empty; pass an image of at least {MIN_SIDE}x{MIN_SIDE} pixels.")
    rest = [n for axis, n in enumerate(shape) if axis != channel]
    rows, cols = rest[-2:]
    if min(rows, cols) < MIN_SIDE:
        hint = ""
        if channel is None and shape[-1] in (3, 4):
            hint = " If the last axis holds colour channels, pass channel_axis=-1."
        raise ValueError(
            f"`image` is {rows}x{cols} pixels in its two spatial axes (shape {shape}); "
            f"at least {MIN_SIDE}x{MIN_SIDE} is needed.{hint}"
        )


def scale(value, allowed=SCALES):
    """Check the upscaling factor."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise TypeError(f"`scale` must be an integer ({', '.join(map(str, allowed))}), got {value!r}.")
    value = int(value)
    if value not in allowed:
        raise ValueError(
            f"`scale`={value} has no weights; use one of {', '.join(map(str, allowed))} "
            "(or train your own with skfsrcnn-train)."
        )
    return value


def tile_size(value):
    """Check ``tile_size``: None (no tiling) or an int >= ``MIN_TILE``."""
    if value is None:
        return None
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"`tile_size` must be an int or None, got {value!r}.")
    if int(value) < MIN_TILE:
        raise ValueError(
            f"`tile_size`={value} is too small: the network needs context around each tile; "
            f"use at least {MIN_TILE} (512 is a good default), or None for no tiling."
        )
    return int(value)


#: Largest value span of a float image: the network computes in float32 and
#: overshoots its input's range a little, so leave room below float32's maximum.
MAX_FLOAT_SPAN = 2.0**124


def finite(image):
    """Refuse NaN and infinity in float images, and values too large for float32.

    The extrema are reduced without a temporary copy of the image (NaN
    propagates through ``min`` and ``max``).
    """
    if image.dtype.kind != "f":
        return
    low, high = float(image.min()), float(image.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(
            "`image` contains NaN or infinite values; replace them first, "
            "e.g. np.nan_to_num(image, nan=0.0, posinf=1.0, neginf=0.0)."
        )
    if max(high - low, abs(low), abs(high)) > MAX_FLOAT_SPAN:
        raise ValueError(
            f"`image` values span [{low:.3g}, {high:.3g}], beyond the float32 range the network "
            f"computes in (up to {MAX_FLOAT_SPAN:.3g}); rescale the image first, e.g. "
            "image / np.abs(image).max()."
        )


def model_name(value):
    """Check the name of a pretrained model (a family of registered weights, one per scale)."""
    from .pretrained import available_models

    models = available_models()
    if not isinstance(value, str):
        raise TypeError(f"`model` must be a string, one of {', '.join(models)}; got {value!r}.")
    if value not in models:
        raise ValueError(f"`model`={value!r} is unknown; use one of {', '.join(models)}.")
    return value


def flags(**values):
    """Check on/off options: ``True`` or ``False`` (``rgb`` may also be ``None``, automatic)."""
    for name, value in values.items():
        if value is None and name == "rgb":
            continue
        if not isinstance(value, (bool, np.bool_)):
            allowed = "True, False or None (automatic)" if name == "rgb" else "True or False"
            raise TypeError(f"`{name}` must be {allowed}, got {value!r}.")


def back_projection(value):
    """Check ``back_projection``: a number of iterations from 0 to :data:`MAX_BACK_PROJECTION`."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"`back_projection` must be an int (iterations, e.g. 5; 0 for none), got {value!r}.")
    if not 0 <= int(value) <= MAX_BACK_PROJECTION:
        raise ValueError(
            f"`back_projection`={value} iterations is out of range; use 0 (none) to {MAX_BACK_PROJECTION}."
        )
    return int(value)
