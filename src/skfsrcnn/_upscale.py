"""The numpy engine of ``upscale``: validation, intensity scaling, colour, planes, tiles, network, merge.

:func:`upscale_steps` is the public generator; :func:`steps` is the same
computation taking the options as one :class:`~skfsrcnn._options.UpscaleOptions`
(the dask front end runs it on every block). :func:`skfsrcnn.upscale` itself,
which dispatches numpy and dask arrays, lives in :mod:`skfsrcnn._front`.
"""

import functools
import math

import numpy as np

from . import _backproject, _memory, _validate
from ._colour import merge_luma, rgb_to_y
from ._ensemble import DIHEDRAL
from ._options import UpscaleOptions
from ._progress import extend_progress
from ._threads import run_on_cores
from ._tiling import count_passes, upscale_planes


def _network(weights, model, scale, device):
    """The fast inference network for ``weights`` (name or path), cached, and its input range.

    The cache is keyed on the loaded model, which :func:`load_model` caches
    by file and modification time, so a rewritten weights file is reloaded.
    """
    from .pretrained import input_range, load_model

    weights = weights or f"{model}-x{scale}"
    return _fast_network(load_model(weights, scale=scale, device=device)), input_range(weights)


@functools.lru_cache(maxsize=16)
def _fast_network(model):
    from .models import inference_form

    return inference_form(model).eval()


def _run_network(network, device, source=(0.0, 1.0), target=(0.0, 1.0)):
    """``run(batch)``: map a batch of planes from ``source`` to ``target`` intensities and upscale it.

    Mapping tile by tile (with the image's global range) avoids a float
    copy of the whole input.
    """
    import torch

    def run(batch):
        x = torch.from_numpy(_to_network_units(batch, source, target))[:, None].to(device)
        with torch.inference_mode():
            y = run_on_cores(network, x) if x.device.type == "cpu" else network(x)
        return y[:, 0].float().cpu().numpy()

    return run


def _work_dtype(dtype):
    """float64 for data float32 cannot hold exactly (float64, 32/64-bit integers), else float32."""
    wide = dtype.itemsize == 8 or (dtype.kind in "iu" and dtype.itemsize >= 4)
    return np.float64 if wide else np.float32


def _to_network_units(batch, source, target):
    """``batch`` mapped from ``source`` to ``target`` intensities, as writeable contiguous float32.

    float64 data and integers of 32 or 64 bits, which float32 cannot hold
    exactly, are mapped in float64, the minimum subtracted first, so that a
    large offset or a tiny span (``1e12 + noise``, ``5 + 1e-9 * image``)
    keeps its precision; float32 data subtract their minimum exactly in
    float32.
    """
    (low, high), (start, stop) = source, target
    if (source, target) != ((0.0, 1.0), (0.0, 1.0)):
        work = _work_dtype(batch.dtype)
        gain = (stop - start) / (high - low)
        mapped = (np.asarray(batch, work) - work(low)) * work(gain) + work(start)
        return mapped.astype(np.float32, copy=False)
    batch = np.ascontiguousarray(batch, dtype=np.float32)
    if not batch.flags.writeable:  # torch wants writeable memory; the network only reads it
        batch = batch.copy()
    return batch


def intensity_range(image):
    """The global (low, high) mapped to [0, 1] before the network.

    ``uint8`` uses its full range and floats already in [0, 1] stay as they
    are (both as in training); any other data use the image's own minimum
    and maximum, computed once over the whole image, never per tile or plane.
    """
    if image.dtype == np.uint8:
        return 0.0, 255.0
    return _range_from_extrema(image.dtype, image.min(), image.max())


def _range_from_extrema(dtype, minimum, maximum):
    """:func:`intensity_range` of an image of ``dtype`` whose extrema are known."""
    if dtype == np.uint8:
        return 0.0, 255.0
    low, high = float(minimum), float(maximum)
    if dtype.kind == "f" and 0.0 <= low and high <= 1.0:
        return 0.0, 1.0
    # A constant image gets a span of 1 (or more, where 1 is below float precision).
    return low, (high if high > low else low + max(1.0, abs(low) * 2.0**-20))


def output_dtype(dtype):
    """The float dtype of the upscaled image: float64 for float64 input (any byte order), else float32.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn._upscale import output_dtype
    >>> output_dtype(np.dtype(">f8")), output_dtype(np.dtype(np.uint16))
    (dtype('float64'), dtype('float32'))
    """
    return np.dtype(np.float64 if dtype.kind == "f" and dtype.itemsize == 8 else np.float32)


def output_units(image, preserve_range):
    """Divisor turning original units into the skimage float convention."""
    if preserve_range or image.dtype.kind == "f":
        return 1.0
    return float(np.iinfo(image.dtype).max)


def _to_output_units(out, gain, offset, bounds):
    """``out = clip(out * gain + offset, *bounds)`` in place, on torch's threads."""
    import torch

    tensor = torch.from_numpy(out)
    if gain != 1.0:
        tensor.mul_(gain)
    if offset != 0.0:
        tensor.add_(offset)
    if bounds is not None:
        tensor.clamp_(*bounds)


def colour_mode(channels, rgb):
    if channels is None:
        return "grey"
    if rgb is None:
        rgb = channels in (3, 4)
    if not rgb:
        return "channels"
    if channels not in (3, 4):
        raise ValueError(
            f"`rgb`=True needs 3 (RGB) or 4 (RGBA) channels, got {channels}; "
            "pass rgb=False to upscale every channel on its own."
        )
    return "rgb"


def upscale_steps(image, scale, *, value_range=None, **options):
    """Generator form of :func:`upscale`: yields ``(done, total)`` after every network pass.

    The upscaled image is the generator's return value. Stopping the
    generator early (e.g. a Cancel button) abandons the work with no result.
    Arguments are checked when the generator starts (at the first ``next``).

    Parameters
    ----------
    image : (..., M, N[, C]) ndarray
        Image to upscale (numpy only; see :func:`upscale`).
    scale : {2, 3, 4}
        Upscaling factor.
    value_range : (float, float), optional
        As for :func:`upscale`, as two numbers.
    **options
        The keyword options of :func:`upscale`: ``channel_axis``,
        ``model``, ``weights``, ``preserve_range``, ``clip``,
        ``tile_size``, ``device``, ``rgb``, ``ensemble``,
        ``return_uncertainty``, ``back_projection``; another name raises
        TypeError.

    Returns
    -------
    ndarray or (ndarray, ndarray)
        The upscaled image (and, with ``return_uncertainty``, the
        uncertainty) as :func:`upscale` returns it (the ``StopIteration`` value).

    Yields
    ------
    done, total : int
        Steps finished so far, and in all: one per network pass over a
        batch of tiles (8 per batch with ``ensemble``), then one per tile
        of back-projection.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn import upscale_steps
    >>> steps = upscale_steps(np.zeros((40, 40), np.uint8), 2, tile_size=16)
    >>> next(steps)
    (1, 9)
    """
    options = UpscaleOptions.from_kwargs(options)
    return (yield from steps(image, scale, options, value_range=checked_value_range(value_range)))


def steps(image, scale, options, *, value_range=None):
    """:func:`upscale_steps` with the keyword options as one :class:`~skfsrcnn._options.UpscaleOptions`.

    ``value_range``, the extrema of a larger image that ``image`` is a
    block of, replaces the block's own for intensity scaling and clipping
    (the dask front end scales every block alike with it).
    """
    image = _validate.as_array(image)
    _validate.image_dtype(image.dtype)
    options, scale = options.validate(image.shape, scale)
    _validate.finite(image)
    channel = options.channel_axis
    mode = colour_mode(image.shape[channel] if channel is not None else None, options.rgb)
    # The uncertainty and back-projection each hold one more array of the network's planes.
    planes_share = 1 / image.shape[channel] if mode == "rgb" else 1
    buffers = 1 + planes_share * (options.return_uncertainty + bool(options.back_projection))
    _memory.check_output_fits(image, scale, buffers)
    device = _validate.device(options.device)
    network, (net_low, net_high) = _network(options.weights and str(options.weights), options.model, scale, device)
    preserve_range, clip = options.preserve_range, options.clip
    if value_range is None:
        low, high = intensity_range(image)
    else:
        low, high = _range_from_extrema(image.dtype, *value_range)
    work = np.moveaxis(image, channel, -1) if channel is not None else image

    if mode == "rgb":
        precise = _work_dtype(image.dtype)
        colour = ((work.astype(precise) - precise(low)) / precise(high - low)).astype(np.float32, copy=False)
        luma = rgb_to_y(colour[..., :3])
        rows, cols = luma.shape[-2:]
        planes = luma.reshape(-1, rows, cols)
        source = target = (0.0, 1.0)  # the luma is already in the photo range the network knows
    else:
        if mode == "channels":
            planes = np.moveaxis(work, -1, -3)
        else:
            planes = work
        rows, cols = planes.shape[-2:]
        planes = planes.reshape(-1, rows, cols)
        # [low, high] -> [net_low, net_high], the intensities the weights were trained on.
        source, target = (low, high), (net_low, net_high)
    span, start = target[1] - target[0], target[0]
    upscaled, spread = yield from _network_stages(planes, scale, network, device, (source, target), options)
    lead = work.shape[:-3] if mode != "grey" else work.shape[:-2]
    big = (rows * scale, cols * scale)

    if mode == "rgb":
        out = merge_luma(colour, luma, upscaled.reshape(lead + big), scale)
    else:
        out = _unplanes(upscaled, lead, big, work.shape[-1] if mode == "channels" else None)

    units = output_units(image, preserve_range)
    bounds = None
    if clip:
        low_bound, high_bound = (float(v) / units for v in (value_range or (image.min(), image.max())))
        if image.dtype.kind == "i" and not preserve_range:
            low_bound = max(low_bound, -1.0)  # as skimage: the most negative integer maps to -1
        bounds = (low_bound, high_bound)
    gain = (high - low) / (units * span)  # network units -> output units
    out = out.astype(output_dtype(image.dtype), copy=False)  # float64 keeps a large offset's precision
    _to_output_units(out, gain, low / units - start * gain, bounds)
    if channel is not None:
        out = np.moveaxis(out, -1, channel)
    if spread is None:
        return out
    # The members' standard deviation, from network to output units (not clipped).
    spread *= np.float32(gain * gain / len(DIHEDRAL))
    uncertainty = _unplanes(np.sqrt(spread, out=spread), lead, big, work.shape[-1] if mode == "channels" else None)
    if mode == "channels":
        uncertainty = np.moveaxis(uncertainty, -1, channel)
    return out, uncertainty.astype(output_dtype(image.dtype), copy=False)


def _unplanes(planes, lead, big, channels):
    """(N, M', P') upscaled planes back into the image's layout, channels last if ``channels``."""
    if channels is None:
        return planes.reshape(lead + big)
    return np.moveaxis(planes.reshape(lead + (channels,) + big), -3, -1)


def _network_stages(planes, scale, network, device, units, options):
    """Network (single pass or ensemble), then back-projection; yields progress, returns (upscaled, spread).

    ``units`` is ``(source, target)``: the planes' intensities and the
    network's. ``spread`` is the ensemble members' sum of squared
    deviations when ``options.return_uncertainty``, else None.
    """
    rows, cols = planes.shape[-2:]
    tile = options.tile_size or max(rows, cols)
    passes = count_passes(planes.shape, tile, network.halo, options.ensemble)
    extra = _backproject.count_tiles(planes.shape, tile, options.back_projection) if options.back_projection else 0
    spread = np.empty((planes.shape[0], rows * scale, cols * scale), np.float32) if options.return_uncertainty else None
    run = _run_network(network, device, *units)
    network_steps = upscale_planes(planes, scale, run, tile, network.halo, ensemble=options.ensemble, spread=spread)
    upscaled = yield from extend_progress(network_steps, 0, extra)
    if options.back_projection:

        def low(index):
            return _to_network_units(planes[index], *units)

        stage = _backproject.back_project_planes(low, upscaled, scale, options.back_projection, tile)
        upscaled = yield from extend_progress(stage, passes, 0)
    return upscaled, spread


def checked_value_range(value_range):
    """``value_range`` as two finite floats, minimum first, or None."""
    if value_range is None:
        return None
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        low = high = float("nan")
    if not low <= high or not all(map(math.isfinite, (low, high))):
        raise ValueError(
            f"`value_range` must be (minimum, maximum), two finite numbers with minimum <= maximum, "
            f"got {value_range!r}; or None to use the image's own."
        )
    return low, high
