"""Saving an image layer as an OME-TIFF that keeps its pixel size (``File > Save Selected Layers``).

napari's own TIFF writer saves the pixels only (checked with napari 0.9.2:
resolution 1, no unit), so an upscaled layer would lose the pixel size the
plugin computed for it. This writer puts the
layer's ``scale`` and ``units`` on the last three axes into the OME-XML
(PhysicalSizeX, Y and Z), names the axes from the layer's ``axis_labels``
where they are t, c or z, and writes an RGB layer as RGB.
"""

import numpy as np

#: napari (pint) unit names -> OME unit symbols.
_OME_UNITS = {"micrometer": "µm", "nanometer": "nm", "millimeter": "mm", "centimeter": "cm", "meter": "m"}
_PIXEL_UNITS = ("pixel", "", "None")


def _axes(meta, ndim):
    """tifffile OME axes for a layer of ``ndim`` data axes: labels t, c, z kept, the rest T, C, Z by position."""
    leading = ndim - (1 if meta.get("rgb") else 0) - 2
    if leading > 3:
        raise ValueError(f"An OME-TIFF holds at most 5 axes (T, C, Z, Y, X); this layer has {ndim}.")
    labels = [str(label).upper() for label in meta.get("axis_labels", ())][:leading]
    if len(set(labels)) != leading or not set(labels) <= set("TCZ"):
        labels = list("TCZ"[3 - leading :])
    return "".join(labels) + "YX" + ("S" if meta.get("rgb") else "")


def write_ome_tiff(path, data, meta):
    """Write one image layer to ``path`` as an OME-TIFF with its pixel size; return ``[path]``.

    Examples
    --------
    >>> import tempfile, tifffile, numpy as np
    >>> from napari_fsrcnn._writer import write_ome_tiff
    >>> path = tempfile.mkdtemp() + "/up.ome.tif"
    >>> meta = {"scale": (0.25, 0.25), "units": ("micrometer", "micrometer"), "rgb": False}
    >>> write_ome_tiff(path, np.zeros((4, 4), np.uint16), meta) == [path]
    True
    >>> tifffile.TiffFile(path).ome_metadata.count('PhysicalSizeX="0.25"')
    1
    """
    import tifffile

    from skfsrcnn.io import atomic_path

    data = np.asarray(data)
    axes = _axes(meta, data.ndim)
    scale = list(meta.get("scale", (1.0,) * data.ndim))
    units = [str(unit) for unit in meta.get("units", ("pixel",) * len(scale))]
    metadata = {"axes": axes}
    sized = "XYZ" if axes.removesuffix("S").endswith("ZYX") else "XY"  # Z's spacing is known only before Y
    for axis, position in zip(sized, (-1, -2, -3), strict=False):
        if len(scale) >= -position:
            metadata[f"PhysicalSize{axis}"] = float(scale[position])
            if units[position] not in _PIXEL_UNITS:
                metadata[f"PhysicalSize{axis}Unit"] = _OME_UNITS.get(units[position], units[position])
    photometric = "rgb" if meta.get("rgb") else "minisblack"
    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, data, ome=True, photometric=photometric, metadata=metadata)
    return [path]
