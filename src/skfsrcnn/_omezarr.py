"""OME-Zarr (NGFF 0.5) output of the chunked path, and the axes and pixel sizes it carries.

``skfsrcnn upscale INPUT out.zarr`` writes an OME-Zarr image: a zarr group
whose array ``0`` holds the full-resolution result (written chunk by chunk
and resumable, :mod:`skfsrcnn._chunked`), arrays ``1``, ``2``... an
optional pyramid (each level half the size of the one before, by 2x2
means), and multiscales metadata written once the image
is complete (``ome-zarr`` and ``napari-ome-zarr`` read it). The axes are in NGFF order (t, c, z, y, x; a photo's colour
axis moves first), and each level's ``coordinateTransformations`` give the
pixel size of the input divided by the scale on y and x, with the
translation that keeps pixel edges aligned (as napari does). Axis names,
units and pixel sizes come from an OME-Zarr input, from the OME or ImageJ
metadata and resolution of a TIFF input, or default to pixels.

:func:`skfsrcnn.io.write_image` writes the same OME-Zarr (:func:`write`,
without a pyramid) and :func:`skfsrcnn.io.read_image` reads it back
(:func:`read`).
"""

import dataclasses
from pathlib import Path

#: NGFF axis order and type of each axis name.
_ORDER = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}
#: tifffile's axis letters -> NGFF names (S: the samples of an RGB pixel).
_TIFF_AXES = {"T": "t", "C": "c", "S": "c", "Z": "z", "Y": "y", "X": "x"}
#: Unit spellings found in TIFF and ImageJ files -> NGFF (UDUNITS-2) names.
_UNITS = {
    "µm": "micrometer",
    "\\u00B5m": "micrometer",
    "um": "micrometer",
    "micron": "micrometer",
    "microns": "micrometer",
    "nm": "nanometer",
    "mm": "millimeter",
    "cm": "centimeter",
    "m": "meter",
    "inch": "inch",
    "s": "second",
    "ms": "millisecond",
    "sec": "second",
}
_DEFAULT_NAMES = {2: "yx", 3: "zyx", 4: "czyx", 5: "tczyx"}
#: The OME-Zarr version written (zarr format 3).
NGFF_VERSION = "0.5"


@dataclasses.dataclass(frozen=True)
class Axes:
    """Names, units, pixel sizes and offsets of an image's axes, in its array order."""

    names: tuple
    units: tuple
    scale: tuple
    translation: tuple

    def upscaled(self, factor):
        """The axes of the image upscaled ``factor`` times on y and x, pixel edges kept in place."""
        scale = tuple(s / factor if n in "yx" else s for n, s in zip(self.names, self.scale, strict=True))
        shift = tuple(t + (new - old) / 2 for t, new, old in zip(self.translation, scale, self.scale, strict=True))
        return dataclasses.replace(self, scale=scale, translation=shift)

    def ngff(self):
        """The ``axes`` list of NGFF metadata."""
        return [
            {"name": n, "type": _ORDER[n], **({"unit": u} if u else {})}
            for n, u in zip(self.names, self.units, strict=True)
        ]


def _pixels(ndim, names):
    return Axes(tuple(names), (None,) * ndim, (1.0,) * ndim, (0.0,) * ndim)


def input_axes(path, shape):
    """The :class:`Axes` of the image at ``path`` (as :func:`skfsrcnn.io.read_lazy` opens it, of ``shape``).

    Raises
    ------
    ValueError
        The image has more than 5 axes, which OME-Zarr cannot hold.
    """
    found = _from_ome_zarr(path) if Path(path).is_dir() else _from_tiff(path)
    return _fitting(found, shape, f"INPUT {str(path)!r}")


def image_axes(metadata, shape, output):
    """The :class:`Axes` of an image of ``shape`` and the ``metadata`` :func:`skfsrcnn.io.read_image` gave.

    An OME-Zarr's axes and a TIFF's axes, units and pixel sizes are kept;
    anything else (a photo's metadata, None) gives pixels.

    Raises
    ------
    ValueError
        The image has more than 5 axes, which OME-Zarr cannot hold.
    """
    from ._tiff import TiffMetadata

    found = _tiff_axes(metadata) if isinstance(metadata, TiffMetadata) else metadata
    return _fitting(found if isinstance(found, Axes) else None, shape, f"The image for OUTPUT {str(output)!r}")


def _fitting(found, shape, who):
    """``found`` if it names each axis of ``shape`` once, else default axes: y, x (c for a photo), z, c, t."""
    ndim = len(shape)
    if found is not None and len(found.names) == ndim and len(set(found.names)) == ndim:
        return found
    if ndim == 3 and shape[-1] in (2, 3, 4):
        return _pixels(3, "yxc")
    if ndim not in _DEFAULT_NAMES:
        raise ValueError(
            f"{who} has {ndim} axes, shape {tuple(shape)}; OME-Zarr holds at most 5 "
            "(t, c, z, y, x): write a TIFF OUTPUT instead."
        )
    return _pixels(ndim, _DEFAULT_NAMES[ndim])


def ngff_order(axes):
    """The permutation putting ``axes`` in NGFF order (t, c, z, y, x), and the permuted :class:`Axes`."""
    order = sorted(range(len(axes.names)), key=lambda i: list(_ORDER).index(axes.names[i]))

    def pick(values):
        return tuple(values[i] for i in order)

    return order, Axes(pick(axes.names), pick(axes.units), pick(axes.scale), pick(axes.translation))


def _from_ome_zarr(path):
    import zarr

    try:
        group = zarr.open_group(str(path), mode="r")
    except Exception:  # an array, or not zarr: no OME metadata
        return None
    image = multiscales(group)
    if image is None:
        return None
    names = tuple(a["name"] for a in image["axes"])
    if not set(names) <= set(_ORDER):
        return None
    transforms = {t["type"]: t for t in image["datasets"][0].get("coordinateTransformations", [])}
    ndim = len(names)
    return Axes(
        names,
        tuple(a.get("unit") for a in image["axes"]),
        tuple(transforms.get("scale", {}).get("scale", (1.0,) * ndim)),
        tuple(transforms.get("translation", {}).get("translation", (0.0,) * ndim)),
    )


def multiscales(group):
    """The first NGFF multiscales image of a zarr ``group`` (0.4 or 0.5 metadata), or None."""
    attrs = dict(group.attrs)
    found = attrs.get("ome", attrs).get("multiscales")
    return found[0] if found else None


def _from_tiff(path):
    import tifffile

    from ._tiff import file_metadata

    try:
        with tifffile.TiffFile(path) as tif:
            metadata = file_metadata(tif, tif.series[0])
    except Exception:  # not a TIFF: no metadata
        return None
    return _tiff_axes(metadata)


def _tiff_axes(metadata):
    """The :class:`Axes` of a :class:`~skfsrcnn._tiff.TiffMetadata`, or None when its axes have no NGFF name."""
    names = tuple(_TIFF_AXES.get(letter, "?") for letter in metadata.axes)
    if "?" in names:
        return None
    try:
        sizes = _ome_sizes(metadata.ome) if metadata.ome else _resolution_sizes(metadata)
    except Exception:  # malformed OME-XML or resolution: no sizes
        return None
    units = tuple(sizes.get(n, (1.0, None))[1] for n in names)
    return Axes(names, units, tuple(sizes.get(n, (1.0, None))[0] for n in names), (0.0,) * len(names))


def _ome_sizes(ome):
    from ._tiff import ome_pixels

    pixels = ome_pixels(ome)[2].attrib
    sizes = {}
    for axis in "xyz":
        if f"PhysicalSize{axis.upper()}" in pixels:
            unit = pixels.get(f"PhysicalSize{axis.upper()}Unit", "µm")
            sizes[axis] = (float(pixels[f"PhysicalSize{axis.upper()}"]), _UNITS.get(unit))
    return sizes


def _resolution_sizes(metadata):
    if not metadata.resolution:
        return {}
    imagej = metadata.imagej or {}
    unit = _UNITS.get(imagej.get("unit") or {2: "inch", 3: "cm"}.get(metadata.resolution_unit, ""))
    x, y = metadata.resolution
    sizes = {"x": (1 / x, unit), "y": (1 / y, unit)}
    if "spacing" in imagej:
        sizes["z"] = (float(imagej["spacing"]), unit)
    return sizes


def write_metadata(output, axes, levels, provenance, name=None):
    """Write the multiscales metadata of the OME-Zarr ``output`` with ``levels`` arrays, and ``provenance``.

    ``name`` is the image's name (default: the stem of ``output``); ``provenance`` None records none.
    """
    import zarr

    from ._photo import PROVENANCE_KEY

    group = zarr.open_group(str(output), mode="r+")
    datasets = []
    for level in range(levels):
        level_axes = axes.upscaled(0.5**level)
        transforms = [{"type": "scale", "scale": list(level_axes.scale)}]
        if any(level_axes.translation):
            transforms.append({"type": "translation", "translation": list(level_axes.translation)})
        datasets.append({"path": str(level), "coordinateTransformations": transforms})
    image = {"name": name or Path(output).stem, "axes": axes.ngff(), "datasets": datasets}
    group.attrs.update({"ome": {"version": NGFF_VERSION, "multiscales": [image]}})
    if provenance is not None:
        group.attrs[PROVENANCE_KEY] = provenance


def write(output, image, axes, provenance, name):
    """A new OME-Zarr ``output`` holding ``image`` (numpy or dask, in NGFF order) as array ``0``, of ``axes``."""
    import zarr

    from ._dask import is_dask

    zarr.open_group(str(output), mode="w-")
    if is_dask(image):
        image.to_zarr(str(Path(output) / "0"))
    else:
        zarr.create_array(str(Path(output) / "0"), data=image)
    write_metadata(output, axes, 1, provenance, name)


def read(array, path):
    """The pixels of the zarr ``array`` (at ``path``, or its OME-Zarr's full resolution) and their :class:`Axes`.

    A colour image stored (c, y, x) gets its 2 to 4 channels last, as
    :func:`skfsrcnn.io.read_image` gives photos (and :func:`write` stored
    them); the axes are None when the array has more than 5.
    """
    import numpy as np

    image = np.asarray(array)
    try:
        axes = input_axes(path, image.shape)
    except ValueError:  # more than 5 axes: no OME-Zarr axes
        return image, None
    if axes.names == ("c", "y", "x") and image.shape[0] in (2, 3, 4):
        image = np.moveaxis(image, 0, -1)
        axes = Axes(*(values[1:] + values[:1] for values in dataclasses.astuple(axes)))
    return image, axes


def write_pyramid(output, axes, levels):
    """Arrays ``1`` to ``levels - 1`` of ``output``: each the one before, halved on y and x by 2x2 means."""
    import dask.array as da
    import numpy as np

    halved = {axes.names.index("y"): 2, axes.names.index("x"): 2}
    previous = da.from_zarr(str(Path(output) / "0"))
    for level in range(1, levels):
        even = previous.rechunk({axis: max(2, previous.chunksize[axis] // 2 * 2) for axis in halved})
        mean = da.coarsen(np.mean, even.astype(np.float64), halved, trim_excess=True)
        if np.issubdtype(previous.dtype, np.integer):
            mean = da.round(mean)
        current = mean.astype(previous.dtype)
        current.to_zarr(str(Path(output) / str(level)), overwrite=True)
        previous = da.from_zarr(str(Path(output) / str(level)))
