"""The dask engine of :func:`~skfsrcnn.upscale`: lazy, chunked, exact.

Every block is extended by the network's receptive-field radius (the halo)
on the two spatial axes with :func:`dask.array.overlap.overlap`, upscaled by
the numpy engine (:func:`skfsrcnn._upscale.steps`, with the same
:class:`~skfsrcnn._options.UpscaleOptions`), and cropped by ``halo * scale``
on each side that was extended. Array edges get no padding, exactly as the
numpy path (the network zero-pads there), so the result equals the numpy
result for any chunking. Intensity scaling and clipping use the global
minimum and maximum, computed lazily by a dask reduction that every block
depends on. Tasks carry the weights' name or path, never the model: each
worker process loads it once and keeps it (``pretrained.load_model`` caches
per process).
"""

from operator import itemgetter

import numpy as np

from . import _validate
from ._options import UpscaleOptions
from ._progress import run_to_end
from ._upscale import colour_mode, output_dtype, steps


def is_dask(image):
    """Whether ``image`` is a dask array (without importing dask)."""
    return type(image).__module__.startswith("dask.")


def spatial_axes(ndim, channel):
    """The two spatial axes: the last two that are not ``channel`` (non-negative)."""
    return tuple(axis for axis in range(ndim) if axis != channel)[-2:]


def _network_halo(options, scale):
    """Halo of the network, read on the client (CPU); also checks the weights early."""
    from .pretrained import load_model

    return load_model(options.weights_name(scale), scale=scale, device="cpu").halo


def _upscale_block(block, *extrema, scale, halo, spatial, nblocks, options, luma_only=False, block_id=None):
    """Upscale one overlapped block and crop the halo from its interior sides.

    With ``options.return_uncertainty`` the result is the pair (image,
    uncertainty); if ``luma_only``, the uncertainty's channel axis has length 1.
    """
    value_range = (extrema[0].item(), extrema[1].item()) if extrema else None
    result = run_to_end(steps(block, scale, options, value_range=value_range))
    out = result[0] if options.return_uncertainty else result
    crop = [slice(None)] * out.ndim
    for axis in spatial:
        left = halo * scale if block_id[axis] > 0 else 0
        right = halo * scale if block_id[axis] < nblocks[axis] - 1 else 0
        crop[axis] = slice(left, out.shape[axis] - right)
    if not options.return_uncertainty:
        return out[tuple(crop)]
    uncertainty = np.expand_dims(result[1], options.channel_axis) if luma_only else result[1]
    return out[tuple(crop)], uncertainty[tuple(crop)]


def upscale_dask(image, scale, *, value_range=None, **options):
    """Lazy :func:`~skfsrcnn.upscale` of a dask array.

    Parameters are those of :func:`~skfsrcnn.upscale` (the keyword options
    are gathered into an :class:`~skfsrcnn._options.UpscaleOptions`; see
    :func:`upscale_lazy`), plus:

    value_range : (float, float) or (dask array, dask array), optional
        The image's known global ``(minimum, maximum)``, or lazy extrema
        that broadcast against ``image`` with one value per block (e.g.
        per-plane extrema, reduced over the spatial axes with
        ``keepdims=True``, of an image chunked one plane deep on the
        leading axes). By default the global ones are computed lazily, as
        part of the returned graph.

    Returns
    -------
    upscaled : dask array
        Lazy float image (float32, or float64 for float64 input), chunked as
        ``image`` with the two spatial chunk sizes multiplied by ``scale``.
        Nothing is computed until you ask (``.compute()``, ``to_zarr``...).

    Notes
    -----
    The channel axis is merged into one chunk. Spatial chunks smaller than
    the halo are merged for the computation, and the output is rechunked to
    ``image.chunks`` times ``scale`` afterwards. Each task holds one chunk
    plus its halo and its upscaled result, so the chunk size bounds the
    memory per task (chunks of about 1024 x 1024 pixels work well). Tasks
    carry the weights' name or path, not the model, so ``weights`` given as
    a path must be readable at the same path by every worker; each worker
    process loads the model once. To write the result, pass ``to_zarr`` a
    path: given an existing ``zarr.Array``, dask rechunks to its default
    chunk size (128 MiB) first, which raises the memory per task.

    Examples
    --------
    >>> import dask.array as da
    >>> from skfsrcnn import upscale
    >>> image = da.zeros((300, 200), chunks=100, dtype="uint8")
    >>> big = upscale(image, 2, model="fsrcnn-s")  # dispatches here; lazy
    >>> big.chunks
    ((200, 200, 200), (200, 200))
    """
    return upscale_lazy(image, scale, UpscaleOptions.from_kwargs(options), value_range=value_range)


def upscale_lazy(image, scale, options, *, value_range=None):
    """:func:`upscale_dask` with the keyword options as one :class:`~skfsrcnn._options.UpscaleOptions`."""
    import dask.array as da
    from dask.array.overlap import ensure_minimum_chunksize, overlap

    _validate.image_dtype(image.dtype)
    options, scale = options.validate(image.shape, scale)
    options = options.portable()  # workers may run elsewhere: an absolute path, or a registry name
    halo = options.halo(_network_halo(options, scale))
    channel = options.channel_axis

    spatial = spatial_axes(image.ndim, channel)
    wanted = tuple(
        tuple(c * scale for c in chunks) if axis in spatial else chunks for axis, chunks in enumerate(image.chunks)
    )
    if channel is not None and len(image.chunks[channel]) > 1:
        image = image.rechunk({channel: -1})
        wanted = tuple(image.chunks[channel] if axis == channel else c for axis, c in enumerate(wanted))
    work = image.rechunk(
        {axis: ensure_minimum_chunksize(min(halo, image.shape[axis]), image.chunks[axis]) for axis in spatial}
    )

    extrema = ()
    if value_range is not None:
        extrema = tuple(v if isinstance(v, da.Array) else np.asarray(v, dtype=image.dtype) for v in value_range)
    elif options.clip or image.dtype != np.uint8:
        # A clone reads the input again for the extrema: sharing its chunks with
        # the upscaling would keep every chunk in memory until both are done.
        from dask.graph_manipulation import clone

        source = clone(image)
        extrema = (source.min(), source.max())

    out_dtype = output_dtype(image.dtype)
    out_chunks = tuple(
        tuple(c * scale for c in chunks) if axis in spatial else chunks for axis, chunks in enumerate(work.chunks)
    )
    # No overlap along an axis held in one chunk (which may be shorter than the halo).
    depth = {axis: halo if len(work.chunks[axis]) > 1 else 0 for axis in spatial}
    extended = overlap(work, depth=depth, boundary="none")
    luma_only = channel is not None and colour_mode(image.shape[channel], options.rgb) == "rgb"
    result = da.map_blocks(
        _upscale_block,
        extended,
        *extrema,
        scale=scale,
        halo=halo,
        spatial=spatial,
        nblocks=work.numblocks,
        options=options,
        luma_only=luma_only,
        chunks=out_chunks,
        dtype=out_dtype,
        meta=np.empty((0,) * image.ndim, out_dtype),
        token="fsrcnn-upscale",
    )
    if options.return_uncertainty:
        return _split_pairs(result, wanted, channel if luma_only else None)
    if result.chunks != wanted:
        result = result.rechunk(wanted)
    return result


def _split_pairs(pairs, wanted, dropped_axis):
    """The image and the uncertainty from blocks of (image, uncertainty) pairs, chunked as ``wanted``.

    ``pairs`` is declared with the image's chunks, but its blocks hold
    pairs; only these two arrays read them, so each block is computed once
    when both are computed together (``dask.compute(image, uncertainty)``).
    """
    import dask.array as da

    meta = np.empty((0,) * pairs.ndim, pairs.dtype)
    image = da.map_blocks(itemgetter(0), pairs, chunks=pairs.chunks, dtype=pairs.dtype, meta=meta)
    chunks = tuple(((1,) if axis == dropped_axis else c) for axis, c in enumerate(pairs.chunks))
    uncertainty = da.map_blocks(itemgetter(1), pairs, chunks=chunks, dtype=pairs.dtype, meta=meta)
    uncertainty_wanted = wanted
    if dropped_axis is not None:  # the luma's spread: one value for all the channels
        uncertainty = uncertainty[(slice(None),) * dropped_axis + (0,)]
        uncertainty_wanted = tuple(c for axis, c in enumerate(wanted) if axis != dropped_axis)
    if image.chunks != wanted:
        image = image.rechunk(wanted)
    if uncertainty.chunks != uncertainty_wanted:
        uncertainty = uncertainty.rechunk(uncertainty_wanted)
    return image, uncertainty
