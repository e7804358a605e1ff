"""Layer data in, layer data out: the viewer-free core of the napari widget.

Everything here works on plain arrays and layer keyword dictionaries, so
tests and scripts can use it without Qt or a viewer. The super-resolution
itself is :func:`skfsrcnn.upscale_steps` (or, lazily, skfsrcnn's dask front
end); this module only picks the data to upscale and places the result so
that it overlays its input.
"""

from __future__ import annotations

import numpy as np

from skfsrcnn import DEFAULT_TILE_SIZE

__all__ = ["output_geometry", "run_fsrcnn", "run_fsrcnn_steps"]

#: Layer attributes carried over unchanged from the input layer.
_KEPT = ("rotate", "shear", "affine", "units", "axis_labels", "colormap", "gamma", "blending", "opacity")


def _guess_rgb(shape):
    # napari's rule for plain arrays: a last axis of 3 or 4 on data of >= 3 dimensions.
    return len(shape) >= 3 and shape[-1] in (3, 4)


def output_geometry(ndim, factor, *, scale=None, translate=None, rotate=None, shear=None, offset=None):
    """``scale`` and ``translate`` that make an upscaled layer overlay its input.

    napari puts the centre of data pixel ``i`` at ``translate + L @ i`` where
    ``L`` is the layer's linear map (rotate @ shear @ diag(scale)). The last
    two axes are upscaled by ``factor``: output pixel ``j`` covers
    ``1 / factor`` of an input pixel and its centre lies at input index
    ``(j + 0.5) / factor - 0.5``. Hence the output scale is ``scale / factor``
    on those axes and the translate moves by ``-L @ ((1 - 1 / factor) / 2)``,
    i.e. by ``-(1 - 1 / factor) / 2`` input pixels, so the outer pixel edges of
    input and output coincide.

    Parameters
    ----------
    ndim : int
        Dimensions of the layer (without the RGB axis).
    factor : int
        Upscaling factor of the last two axes.
    scale, translate : sequence of float, optional
        The input layer's ``scale`` and ``translate`` (default 1 and 0).
    rotate, shear : optional
        The input layer's ``rotate`` and ``shear`` (napari's forms), if any.
    offset : sequence of float, optional
        Input data index of the output's first element on the leading axes,
        e.g. the plane index when only the current slice was upscaled.

    Returns
    -------
    scale, translate : tuple of float
        For the output layer.

    Examples
    --------
    >>> output_geometry(2, 2, scale=(1.0, 0.5), translate=(0.0, 10.0))
    ((0.5, 0.25), (-0.25, 9.875))
    """
    from napari.utils.transforms import CompositeAffine

    scale = np.ones(ndim) if scale is None else np.asarray(scale, dtype=float)
    translate = np.zeros(ndim) if translate is None else np.asarray(translate, dtype=float)
    linear = CompositeAffine(scale=scale, translate=translate, rotate=rotate, shear=shear, ndim=ndim).linear_matrix
    shift = np.zeros(ndim)
    if offset is not None:
        shift[: ndim - 2] = offset
    shift[-2:] = -(1 - 1 / factor) / 2
    scale_out = scale.copy()
    scale_out[-2:] /= factor
    translate_out = translate + linear @ shift
    return tuple(float(v) for v in scale_out), tuple(float(v) for v in translate_out)


def _to_input_dtype(out, dtype):
    """Integer input gets integer output (rounded, in range); floats stay float."""
    if dtype.kind in "ui":
        from skfsrcnn.io import to_integer

        return to_integer(out, dtype)
    return out


def _rounded_copy(block, dtype):
    """:func:`_to_input_dtype` of a copy: dask blocks must not be changed in place."""
    return _to_input_dtype(block.copy(), dtype)


def _is_dask(data):
    """Whether ``data`` is a dask array (without importing dask)."""
    return type(data).__module__.startswith("dask.")


def _lazy_upscale(data, scale, **options):
    """A lazy dask array of ``data`` upscaled plane by plane; nothing is computed.

    The leading axes are chunked one plane deep, so showing a plane computes
    that plane only (its chunks of ``data`` plus the halo, and the network on
    them). Every plane is scaled and clipped by its own extrema, exactly as
    :func:`skfsrcnn.upscale` of that plane alone: a plane's pixels never
    depend on the other planes. Building the graph loads the model (which
    checks the weights).
    """
    import dask.array as da

    from skfsrcnn import upscale

    ndim = len(data.shape) - bool(options["rgb"])
    leading = dict.fromkeys(range(ndim - 2), 1)
    if _is_dask(data):
        image = data.rechunk(leading)
    else:  # numpy, zarr...: whole planes; name=False spares hashing all the data
        whole = dict.fromkeys(range(ndim - 2, len(data.shape)), -1)
        image = da.from_array(data, chunks={**leading, **whole}, name=False)
    plane = tuple(range(ndim - 2, image.ndim))  # the spatial axes, and the RGB axis
    extrema = (image.min(axis=plane, keepdims=True), image.max(axis=plane, keepdims=True))
    upscaled = upscale(image, scale, value_range=extrema, **options)
    if image.dtype.kind not in "ui":
        return upscaled
    if options.get("return_uncertainty"):
        return upscaled[0].map_blocks(_rounded_copy, image.dtype, dtype=image.dtype), upscaled[1]
    return upscaled.map_blocks(_rounded_copy, image.dtype, dtype=image.dtype)


def _check_not_multiscale(data, layer_kwargs):
    if layer_kwargs.get("multiscale") or isinstance(data, (list, tuple)):
        raise ValueError(
            "Multiscale (pyramid) image layers are not supported; open the full-resolution "
            "level as its own layer (e.g. viewer.add_image(layer.data[0])) and upscale that."
        )


def _slice_offset(current_slice, shape, ndim, lazy):
    """The checked ``current_slice`` as a tuple of ints (None: the whole layer)."""
    if current_slice is None or ndim == 2:
        return None
    if lazy:
        raise ValueError(
            f"`current_slice`={current_slice!r} and `lazy`=True exclude each other: pass current_slice=None "
            "to compute every plane as it is viewed, or lazy=False to upscale this plane now."
        )
    offset = tuple(int(i) for i in current_slice)
    if len(offset) != ndim - 2:
        raise ValueError(
            f"`current_slice` needs {ndim - 2} indices (one per leading axis of shape "
            f"{shape[: ndim - 2]}), got {current_slice!r}."
        )
    for index, length in zip(offset, shape):
        if not 0 <= index < length:
            raise ValueError(f"`current_slice`={current_slice!r} is outside the data of shape {shape}.")
    return offset


def _output_kwargs(layer_kwargs, ndim, scale, rgb, offset, provenance):
    """Keyword arguments of the output layer, except ``contrast_limits``."""
    name = layer_kwargs.get("name") or "image"
    out_scale, out_translate = output_geometry(
        ndim,
        scale,
        scale=layer_kwargs.get("scale"),
        translate=layer_kwargs.get("translate"),
        rotate=layer_kwargs.get("rotate"),
        shear=layer_kwargs.get("shear"),
        offset=offset,
    )
    metadata = dict(layer_kwargs.get("metadata") or {})
    metadata["skfsrcnn"] = {"source": name, "scale": int(scale), **provenance, "current_slice": offset}
    kwargs = {key: layer_kwargs[key] for key in _KEPT if layer_kwargs.get(key) is not None}
    kwargs.update(
        name=f"{name}_fsrcnn_x{scale}",
        scale=out_scale,
        translate=out_translate,
        rgb=bool(rgb),
        metadata=metadata,
    )
    return kwargs


def run_fsrcnn_steps(
    data,
    scale=2,
    *,
    model="fsrcnn",
    weights=None,
    tile_size=DEFAULT_TILE_SIZE,
    device=None,
    ensemble=False,
    current_slice=None,
    lazy=False,
    uncertainty=False,
    layer_kwargs=None,
):
    """Generator form of :func:`run_fsrcnn`: yields ``(done, total)`` per network pass.

    The layer data tuple is the generator's return value. Closing the
    generator early abandons the work with no result. Nothing is computed
    until the first ``next()``, so a thread worker that drives the generator
    also computes the dask slices, loads the model, and raises any error.

    Parameters
    ----------
    data : (..., M, N[, 3 or 4]) array-like
        The layer's data (numpy, dask or any array).
    scale : {2, 3, 4}
        Upscaling factor of the last two (spatial) axes.
    model, weights, tile_size, device, ensemble : optional
        As for :func:`run_fsrcnn`.
    current_slice, lazy, uncertainty, layer_kwargs : optional
        As for :func:`run_fsrcnn`.

    Returns
    -------
    tuple or list of tuple
        The ``(data, layer_kwargs, "image")`` layer data tuple (the
        ``StopIteration`` value); with ``uncertainty``, a list of two.

    Yields
    ------
    done, total : int
        Network passes over a batch of tiles finished so far, and in all (8
        per batch with ``ensemble``); with ``lazy=True``, one ``(1, 1)`` once
        the lazy array is built (no pixel is computed).

    Examples
    --------
    >>> import numpy as np
    >>> from napari_fsrcnn import run_fsrcnn_steps
    >>> steps = run_fsrcnn_steps(np.zeros((40, 40), np.uint8), 2, tile_size=16)
    >>> next(steps)
    (1, 9)
    """
    from skfsrcnn import upscale_steps

    layer_kwargs = dict(layer_kwargs or {})
    _check_not_multiscale(data, layer_kwargs)
    shape = tuple(data.shape)
    rgb = layer_kwargs.get("rgb")
    if rgb is None:
        rgb = _guess_rgb(shape)
    ndim = len(shape) - bool(rgb)
    if ndim < 2:
        raise ValueError(f"The layer's data of shape {shape} has fewer than two spatial axes.")
    offset = _slice_offset(current_slice, shape, ndim, lazy)
    if uncertainty and not ensemble:
        raise ValueError(
            "`uncertainty`=True needs `ensemble`=True: the uncertainty is the spread of the 8 ensemble members."
        )

    options = dict(
        model=model,
        weights=weights,
        tile_size=tile_size,
        device=device,
        ensemble=ensemble,
        return_uncertainty=uncertainty,
        channel_axis=-1 if rgb else None,
        rgb=True if rgb else None,
        preserve_range=True,
        clip=True,
    )
    if lazy:
        result = _lazy_upscale(data, scale, **options)
        yield 1, 1  # built: napari computes each plane when it shows it
    else:
        if offset is not None:
            # Keep every axis (length 1 on the leading ones) so the result stays on that slice.
            data = data[tuple(slice(i, i + 1) for i in offset)]
        image = np.asarray(data)  # computes dask/zarr data here, in the worker
        result = yield from upscale_steps(image, scale, **options)
    upscaled, spread = result if uncertainty else (result, None)
    if not lazy:
        upscaled = _to_input_dtype(upscaled, image.dtype)

    provenance = {"model": str(weights) if weights is not None else model, "lazy": bool(lazy), "ensemble": ensemble}
    kwargs = _output_kwargs(layer_kwargs, ndim, scale, rgb, offset, provenance)
    limits = layer_kwargs.get("contrast_limits")
    if limits is None and not rgb and not lazy:
        # Min/max rather than the dtype range: a 12-bit camera in uint16 would look black.
        # A lazy layer's are left to napari, which takes them from the first plane it shows.
        low, high = float(upscaled.min()), float(upscaled.max())
        limits = (low, high if high > low else low + 1)
    if limits is not None:
        kwargs["contrast_limits"] = tuple(float(v) for v in limits)
    if not uncertainty:
        return upscaled, kwargs, "image"
    return [(upscaled, kwargs, "image"), _uncertainty_layer(spread, kwargs, lazy)]


def _uncertainty_layer(spread, image_kwargs, lazy):
    """The layer data tuple of the ensemble's spread, placed exactly over the upscaled image."""
    kwargs = {
        key: image_kwargs[key]
        for key in ("scale", "translate", "rotate", "shear", "affine", "units", "axis_labels")
        if key in image_kwargs
    }
    metadata = dict(image_kwargs["metadata"])
    metadata["skfsrcnn"] = {**metadata["skfsrcnn"], "uncertainty": "standard deviation of the 8 ensemble passes"}
    kwargs.update(
        name=f"{image_kwargs['name']}_uncertainty",
        rgb=False,
        colormap="magma",
        blending="additive",
        metadata=metadata,
    )
    if not lazy:
        # Zero to the 99.5th percentile: a few edge pixels would otherwise darken the rest.
        high = float(np.percentile(spread, 99.5))
        kwargs["contrast_limits"] = (0.0, high if high > 0 else 1.0)
    return spread, kwargs, "image"


def run_fsrcnn(data, scale=2, **options):
    """Upscale an image layer's data; return a napari ``LayerDataTuple``.

    Parameters
    ----------
    data : (..., M, N[, 3 or 4]) array-like
        The layer's data: numpy, dask or any array; dask data are computed
        (only the needed slice with ``current_slice``) unless ``lazy``.
    scale : {2, 3, 4}
        Upscaling factor of the last two (spatial) axes.
    model : str, optional
        Pretrained network, one of :func:`skfsrcnn.pretrained.available_models`.
    weights : str or path-like, optional
        A weights file (e.g. from ``skfsrcnn-train``) instead of ``model``.
    tile_size : int or None, optional
        Tile side in input pixels (bounds memory); ``None`` for whole planes.
    device : str, optional
        ``'cpu'``, ``'cuda'``, ``'mps'``; default: the fastest available.
    current_slice : sequence of int, optional
        Indices on the leading (non-spatial) axes: upscale only that plane.
        The output keeps the layer's dimensions (length 1 on leading axes)
        and is placed on that slice.
    lazy : bool, optional
        Return a lazy dask array instead of computing: chunked one plane
        deep on the leading axes, so that napari computes a plane (only
        that one) when it shows it. Each plane is then scaled by its own
        extrema, exactly as ``current_slice`` upscales it (the eager
        whole-layer result uses the whole layer's). Excludes ``current_slice``.
    ensemble : bool, optional
        Average the network over the 8 flips and rotations of the input
        (:func:`skfsrcnn.upscale`'s ``ensemble``): a little sharper, 8 times slower.
    uncertainty : bool, optional
        With ``ensemble``, also return a layer of the per-pixel standard
        deviation of the 8 passes (in the image's units; of the luma for
        RGB), named ``<name>_fsrcnn_x<scale>_uncertainty``, placed exactly
        over the upscaled layer, in the ``magma`` colormap with additive
        blending and contrast limits from 0 to its 99.5th percentile.
    layer_kwargs : dict, optional
        The input layer's attributes: ``name``, ``scale``, ``translate``,
        ``rotate``, ``shear``, ``affine``, ``units``, ``axis_labels``, ``rgb``,
        ``metadata``, ``contrast_limits``, ``colormap``, ``gamma``,
        ``blending``, ``opacity``, ``multiscale``. Missing ones take napari's
        defaults; ``rgb`` is guessed from the shape as napari does.

    Returns
    -------
    layer_data : tuple or list of tuple
        ``(upscaled, kwargs, "image")``, and with ``uncertainty`` a list of
        that and the uncertainty layer's tuple. ``upscaled`` has the input's dtype
        (integers rounded) and is ``scale`` times larger on the two spatial
        axes. ``kwargs`` name the layer ``<name>_fsrcnn_x<scale>`` and set
        ``scale`` and ``translate`` so that it overlays the input exactly;
        ``rgb`` and ``metadata`` are kept (with a ``"skfsrcnn"`` entry added)
        and contrast limits are the input's or the output's min and max
        (with ``lazy``: the input's, or napari's from the first plane shown).

    Examples
    --------
    >>> import numpy as np
    >>> data, kwargs, kind = run_fsrcnn(np.zeros((3, 20, 30), np.uint16), 2,
    ...                                 layer_kwargs={"name": "stack"})  # doctest: +SKIP
    >>> data.shape, data.dtype, kwargs["name"], kwargs["scale"]  # doctest: +SKIP
    ((3, 40, 60), dtype('uint16'), 'stack_fsrcnn_x2', (1.0, 0.5, 0.5))
    >>> lazy, kwargs, kind = run_fsrcnn(np.zeros((3, 20, 30), np.uint16), 2, lazy=True)
    >>> type(lazy).__name__, lazy.chunksize  # a dask array; nothing computed yet
    ('Array', (1, 40, 60))
    """
    from skfsrcnn import run_to_end

    return run_to_end(run_fsrcnn_steps(data, scale, **options))
