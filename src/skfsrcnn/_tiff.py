"""TIFF, OME-TIFF and ImageJ TIFF: reading one image or stack, and writing with its metadata corrected.

Kept from the input: the resolution tags and their unit, the ImageJ
metadata (unit, Z spacing, frame interval, labels, ranges, LUTs...) and the
whole OME-XML (channel names, Z and time sizes, instrument...). The X and Y
pixel size is divided by the scale (the resolution, in pixels per unit,
multiplied), Z and time are left as they are. How the file was made is
recorded in the OME-XML as a comment annotation, in the ImageJ properties,
or in tifffile's JSON description of a plain TIFF.
"""

import contextlib
import dataclasses
import json
import math
import xml.etree.ElementTree as ET

import numpy as np

from ._photo import PROVENANCE_KEY, UnsupportedMode

#: ImageJ metadata entries carried over; the rest describe the shape, which tifffile writes itself.
_IMAGEJ_KEPT = (
    "unit",
    "spacing",
    "finterval",
    "fps",
    "tunit",
    "Labels",
    "Ranges",
    "LUTs",
    "Info",
    "min",
    "max",
    "mode",
    "loop",
)
#: TIFF colour modes whose samples are not grey or RGB intensities -> their name in messages.
_REFUSED_PHOTOMETRIC = {
    "PALETTE": "palette (colour-mapped)",
    "SEPARATED": "CMYK (separated)",
    "CIELAB": "CIE L*a*b*",
    "ICCLAB": "ICC L*a*b*",
    "ITULAB": "ITU L*a*b*",
    "LOGL": "LogL",
    "LOGLUV": "LogLuv",
}


@dataclasses.dataclass(frozen=True)
class TiffMetadata:
    """Resolution, ImageJ metadata, OME-XML and axes of a TIFF file's first series."""

    resolution: tuple = ()
    resolution_unit: int = 1
    imagej: dict = None
    ome: str = None
    axes: str = ""

    def scaled(self, scale):
        """The metadata of the file upscaled ``scale`` times: X and Y pixel size divided by ``scale``."""
        ome = self.ome
        if ome is not None:
            try:
                ome = _scale_ome(ome, scale)
            except (ET.ParseError, AttributeError, TypeError, ValueError):  # malformed OME-XML: not carried over
                ome = None
        return dataclasses.replace(self, resolution=tuple(r * scale for r in self.resolution), ome=ome)


@dataclasses.dataclass(frozen=True)
class Stream:
    """An image given plane by plane: ``planes()`` iterates over its pages, in order, to make ``shape``."""

    shape: tuple
    dtype: object
    planes: object
    ndim = property(lambda self: len(self.shape))


def _one_series(tif, path):
    """The file's one series; refuse several, and colour modes read as numbers that are not intensities."""
    photometric = tif.pages[0].photometric
    if photometric.name in _REFUSED_PHOTOMETRIC:
        raise UnsupportedMode(
            f"INPUT {str(path)!r} is a {_REFUSED_PHOTOMETRIC[photometric.name]} TIFF (photometric "
            f"{photometric.name}); skfsrcnn reads grey, grey+alpha, RGB and RGBA images: convert it first, "
            "e.g. magick INPUT -colorspace sRGB -type TrueColor OUTPUT.tif, then upscale that."
        )
    if len(tif.series) > 1:
        raise UnsupportedMode(
            f"INPUT {str(path)!r} holds {len(tif.series)} images (TIFF series) of shapes "
            f"{', '.join(str(s.shape) for s in tif.series[:4])}; skfsrcnn reads one image or stack: "
            "save each as its own file."
        )
    return tif.series[0]


def file_metadata(tif, series):
    """The :class:`TiffMetadata` of the open TIFF ``tif``'s ``series``, its axes as stored."""
    page = tif.pages[0]
    imagej = tif.imagej_metadata if tif.is_imagej else None
    return TiffMetadata(
        resolution=page.resolution if "XResolution" in page.tags else (),
        resolution_unit=int(page.resolutionunit),
        imagej=None if imagej is None else {k: v for k, v in imagej.items() if k in _IMAGEJ_KEPT},
        ome=tif.ome_metadata if tif.is_ome else None,
        axes=series.axes,
    )


def read(path):
    """The pixels of the TIFF's one image or stack, and its :class:`TiffMetadata`."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        series = _one_series(tif, path)
        pixels, metadata = _as_shown(series.asarray(), tif.pages[0].photometric.name), file_metadata(tif, series)
    if "S" in metadata.axes and not metadata.axes.endswith("S"):  # planar RGB: samples last, as in any RGB
        where = metadata.axes.index("S")
        pixels = np.moveaxis(pixels, where, -1)
        metadata = dataclasses.replace(metadata, axes=metadata.axes.replace("S", "") + "S")
    return pixels, metadata


def _as_shown(pixels, photometric):
    """Grey as viewers show it: min-is-white inverted, 1-bit as 8-bit (0 and 255, as a 1-bit PNG)."""
    if pixels.dtype == bool:
        pixels = pixels.astype(np.uint8) * np.uint8(255)
    if photometric == "MINISWHITE":
        pixels = np.iinfo(pixels.dtype).max - pixels if pixels.dtype.kind == "u" else -pixels
    return pixels


@contextlib.contextmanager
def open_stack(path):
    """Yield ``(stream, metadata)`` of a TIFF stack whose pages are its planes, or None for anything else.

    The stream's planes are read one at a time, so a stack larger than
    memory can be processed plane by plane; a file that is no such stack
    (one page, not a TIFF, damaged) yields None and is left to :func:`read`.
    """
    import tifffile

    try:
        tif = tifffile.TiffFile(path)
    except Exception:  # not a readable TIFF: read() says why
        yield None
        return
    with tif:
        series = _one_series(tif, path)
        pages = series.pages
        plane = pages[0].shape if len(pages) > 1 and pages[0] is not None else None
        if (
            plane is None
            or tuple(series.shape[-len(plane) :]) != plane
            or len(pages) != math.prod(series.shape[: -len(plane)])
        ):
            yield None
            return
        yield Stream(series.shape, series.dtype, lambda: (page.asarray() for page in pages)), file_metadata(tif, series)


def _parsed(xml):
    """The OME-XML's root element and its namespace (registered, so it is written back unprefixed)."""
    namespace = xml.split('xmlns="', 1)[1].split('"', 1)[0] if 'xmlns="' in xml else ""
    ET.register_namespace("", namespace)
    return ET.fromstring(xml), f"{{{namespace}}}"


def ome_pixels(xml):
    """The OME-XML's root element, its namespace (as :func:`_parsed`) and the first image's Pixels element."""
    root, ns = _parsed(xml)
    return root, ns, root.find(f"{ns}Image/{ns}Pixels")


def _scale_ome(xml, scale):
    root, _, pixels = ome_pixels(xml)
    for axis in "XY":
        value = pixels.get(f"PhysicalSize{axis}")
        if value is not None:
            pixels.set(f"PhysicalSize{axis}", repr(float(value) / scale))
    return ET.tostring(root, encoding="unicode")


def _written_ome(xml, plane, provenance):
    """The OME-XML to write: SizeY and SizeX those of the written ``plane``, ``provenance`` annotated."""
    root, ns, pixels = ome_pixels(xml)
    pixels.set("SizeY", str(plane[0]))
    pixels.set("SizeX", str(plane[1]))
    if provenance is not None:
        annotations = root.find(f"{ns}StructuredAnnotations")
        if annotations is None:
            annotations = ET.Element(f"{ns}StructuredAnnotations")
            rois = [i for i, child in enumerate(root) if child.tag == f"{ns}ROI"]
            root.insert(rois[0] if rois else len(root), annotations)
        comment = ET.SubElement(
            annotations, f"{ns}CommentAnnotation", ID=f"Annotation:{PROVENANCE_KEY}", Namespace=PROVENANCE_KEY
        )
        ET.SubElement(comment, f"{ns}Value").text = provenance
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")


def write(path, image, metadata, provenance):
    """Write ``image`` (array or :class:`Stream`) as a TIFF with ``metadata`` (scaled) and ``provenance`` (JSON)."""
    import tifffile

    metadata = metadata or TiffMetadata()
    if metadata.axes:
        rgb = metadata.axes.endswith("S") and image.shape[-1] in (3, 4)
    else:
        rgb = image.ndim == 3 and image.shape[-1] in (3, 4)
    plane = image.shape[-3 if rgb else -2 :]
    if isinstance(image, Stream):
        data = {"data": image.planes(), "shape": image.shape, "dtype": image.dtype}
    else:
        data = {"data": image}
    options = {"photometric": "rgb" if rgb else "minisblack", **data}
    if metadata.resolution:
        options.update(resolution=metadata.resolution, resolutionunit=metadata.resolution_unit)
    if metadata.ome is not None:
        xml = _written_ome(metadata.ome, plane, provenance)
        if "shape" in options:
            options["shape"] = (math.prod(image.shape[: -len(plane)]),) + plane
        else:
            options["data"] = image.reshape((-1,) + plane)
        tifffile.imwrite(path, description=xml.encode(), metadata=None, ome=False, **options)
    elif metadata.imagej is not None:
        extra = {} if provenance is None else {"Properties": {PROVENANCE_KEY: provenance}}
        tifffile.imwrite(path, imagej=True, metadata={**metadata.imagej, **extra, "axes": metadata.axes}, **options)
    else:
        extra = {} if provenance is None else {PROVENANCE_KEY: json.loads(provenance)}
        tifffile.imwrite(path, metadata=extra, ome=False, **options)
