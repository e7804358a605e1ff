"""Reading and writing images: PNG, JPEG, TIFF and zarr, and the bundled sample.

This is what the ``skfsrcnn upscale`` command reads and writes with, as
functions: files keep their dtype (16-bit stays 16-bit) and, written
again, their metadata with the pixel size corrected for the scale; writing
is atomic; file modes that would be misread are refused; and zarr arrays
and large TIFF files open lazily as dask arrays, so an image larger than
memory is read chunk by chunk. Error messages call the file INPUT or
OUTPUT, as the command does.

Files: :func:`read_image` reads PNG, JPEG, TIFF and (OME-)Zarr as an
ndarray (and their metadata); :func:`write_image` writes them atomically,
zarr as OME-Zarr; :func:`check_format` says, before any work, whether a
format holds a dtype.

Larger than memory: :func:`read_lazy` opens a zarr array or a TIFF file
(or any image file) as a dask array; :func:`is_zarr` says whether a path
names a zarr array.

Sample data: :func:`sample_path` is the path of the bundled sample image.
"""

import contextlib
from importlib import resources
from pathlib import Path

import numpy as np

from ._atomic import atomic_path
from ._integers import to_integer

__all__ = [
    "atomic_path",
    "check_format",
    "is_zarr",
    "read_image",
    "read_lazy",
    "sample_path",
    "to_integer",
    "write_image",
]

#: Suffixes read and written with tifffile (all others with imageio).
TIFF_SUFFIXES = (".tif", ".tiff")
#: Output suffix -> the dtypes its format holds (TIFF holds any).
FORMAT_DTYPES = {".png": ("uint8", "uint16"), ".jpg": ("uint8",), ".jpeg": ("uint8",)}
#: Default spatial chunk side (input pixels) when the input's own chunks don't suit.
DEFAULT_CHUNK = 1024
_MIN_CHUNK, _MAX_CHUNK = 64, 4096


def sample_path():
    """Path of the bundled sample image.

    Returns
    -------
    path : pathlib.Path
        A 128x128 RGB PNG: a crop of ``skimage.data.astronaut`` reduced x3
        with MATLAB's bicubic. Its folder holds nothing else, so it also
        serves as a one-image training or benchmark folder.

    Examples
    --------
    >>> from skfsrcnn.io import read_image, sample_path
    >>> sample_path().name
    'astronaut_lr.png'
    >>> read_image(sample_path()).shape
    (128, 128, 3)
    """
    return Path(resources.files("skfsrcnn") / "data" / "astronaut_lr.png")


def read_image(path, *, metadata=False):
    """Read a PNG, JPEG, TIFF file (or another Pillow format) or a zarr array, keeping its dtype.

    Parameters
    ----------
    path : str or path-like
        The file. ``.tif`` and ``.tiff`` are read with tifffile (one image
        or stack: the first and only series), a zarr array or OME-Zarr
        image (its full resolution, into memory: use :func:`read_lazy` for
        larger ones) with zarr, everything else with Pillow (16-bit colour
        PNGs with imagecodecs), upright as the EXIF orientation says.
    metadata : bool, optional
        Also return the file's metadata, for :func:`write_image`.

    Returns
    -------
    image : ndarray
        The pixels: (M, N) grey, (M, N, C) grey+alpha or colour, or the
        TIFF's or zarr array's full stack (an OME-Zarr's in its order,
        t, c, z, y, x, except that 2 to 4 channels of a (c, y, x) image
        come last, as a photo's). Palette images are read as RGB (RGBA when
        they have transparency), 1-bit images as 8-bit grey (0 and 255).
    file_metadata : object
        Only with ``metadata=True``: the pixel size, EXIF, ICC profile,
        DPI, text, ImageJ or OME metadata the file carries (an OME-Zarr's
        axes, units and pixel sizes).

    Raises
    ------
    ValueError
        The file does not exist, is empty, is not a readable image, or is
        in a mode skfsrcnn does not read (CMYK or YCCK JPEG, another colour
        space, an animation, several TIFF series); the message names the
        mode and the fix.

    Examples
    --------
    >>> from skfsrcnn.io import read_image, sample_path
    >>> image = read_image(sample_path())
    >>> image.dtype, image.shape
    (dtype('uint8'), (128, 128, 3))
    """
    from . import _omezarr, _photo, _tiff

    path = Path(path)
    if is_zarr(path):
        image, axes = _omezarr.read(_open_zarr(path), path)
        return (image, axes) if metadata else image
    if not path.is_file():
        raise ValueError(f"INPUT {str(path)!r} does not exist or is not a file; check the path.")
    if path.stat().st_size == 0:
        raise ValueError(f"INPUT {str(path)!r} is empty (0 bytes); was it copied or downloaded completely?")
    reader = _tiff.read if path.suffix.lower() in TIFF_SUFFIXES else _photo.read
    try:
        image, file_metadata = reader(path)
    except _photo.UnsupportedMode:
        raise
    except Exception as error:  # tifffile and Pillow raise many types for unreadable files
        raise ValueError(
            f"INPUT {str(path)!r} could not be read as an image ({error}); pass a complete PNG, JPEG or TIFF file."
        ) from error
    return (image, file_metadata) if metadata else image


def check_format(path, dtype, shape=None):
    """Refuse, before any work, an output format that cannot hold ``dtype`` (or an image of ``shape``).

    PNG holds uint8 and uint16, JPEG only uint8, each one 2-D image (JPEG
    without alpha); TIFF holds any dtype and shape, OME-Zarr any dtype and
    up to 5 axes.

    Raises
    ------
    ValueError
        The suffix of ``path`` names a format that cannot hold the image.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.io import check_format
    >>> check_format("out.tif", np.float32)
    >>> check_format("out.jpg", np.uint16)
    Traceback (most recent call last):
    ...
    ValueError: OUTPUT 'out.jpg': JPEG holds only 8-bit data, but INPUT is uint16; use .tif.
    """
    suffix = Path(path).suffix.lower()
    allowed = FORMAT_DTYPES.get(suffix)
    if allowed is not None and np.dtype(dtype).name not in allowed:
        kind = "JPEG holds only 8-bit data" if suffix in (".jpg", ".jpeg") else "PNG holds only 8- and 16-bit data"
        raise ValueError(f"OUTPUT {str(path)!r}: {kind}, but INPUT is {np.dtype(dtype)}; use .tif.")
    if suffix in FORMAT_DTYPES and shape is not None and not _is_one_image(shape):
        kind = "JPEG" if suffix in (".jpg", ".jpeg") else "PNG"
        raise ValueError(
            f"OUTPUT {str(path)!r}: {kind} holds one 2-D image, but INPUT is a stack of shape {tuple(shape)}; "
            "use .tif or .zarr."
        )
    if suffix == ".zarr" and shape is not None and len(shape) > 5:
        raise ValueError(
            f"OUTPUT {str(path)!r}: OME-Zarr holds at most 5 axes (t, c, z, y, x), but INPUT has "
            f"{len(shape)}, shape {tuple(shape)}; use .tif."
        )
    if suffix in (".jpg", ".jpeg") and shape is not None and len(shape) == 3 and shape[-1] in (2, 4):
        raise ValueError(f"OUTPUT {str(path)!r}: JPEG holds no alpha channel, but INPUT has one; use .png or .tif.")


def _is_one_image(shape):
    """Whether ``shape`` is one 2-D image, (rows, columns) with up to 4 channels last, as PNG and JPEG hold."""
    return len(shape) == 2 or len(shape) == 3 and shape[-1] <= 4


def write_image(path, image, *, metadata=None, scale=1, provenance=None):
    """Write ``image`` as PNG, JPEG, TIFF or OME-Zarr (by the suffix of ``path``).

    Files are written atomically: to a temporary file (or folder) in the
    same folder, then renamed, so a failure leaves nothing half-written and
    an existing file is replaced only by a complete one. If another process
    creates or replaces ``path`` meanwhile, its file is kept and this call
    raises.

    Parameters
    ----------
    path : str or path-like
        The output. ``.tif``/``.tiff`` are written with tifffile, ``.png``
        with imagecodecs (16-bit colour stays 16-bit), ``.jpg``/``.jpeg``
        with Pillow at quality 95, ``.zarr`` as an OME-Zarr image (NGFF
        0.5, the pixels in its array ``0``, a dask ``image`` chunk by
        chunk), as ``skfsrcnn upscale`` writes it.
    image : ndarray or dask array
        The pixels, written with their dtype (see :func:`check_format`).
    metadata : object, optional
        The metadata of the input, from ``read_image(..., metadata=True)``.
        A TIFF keeps a TIFF's resolution, ImageJ metadata and OME-XML; a
        PNG or JPEG keeps a PNG's or JPEG's EXIF, ICC profile and text; an
        OME-Zarr keeps the axes, units and pixel sizes of an OME-Zarr or a
        TIFF (others get pixels; the axes go in NGFF order, so a colour
        image is stored (c, y, x)).
    scale : int, optional
        How many times larger ``image`` is than that input: the X and Y
        pixel size is divided by it (resolution and DPI multiplied, an
        OME-Zarr's translation moved to keep the pixel edges in place), and
        the EXIF orientation becomes 1, since the pixels were read upright.
    provenance : dict, optional
        How the image was made (software, model, options), recorded as JSON
        in the OME-XML, the ImageJ properties, the TIFF description, a PNG
        text chunk named ``skfsrcnn``, the JPEG comment or the OME-Zarr's
        ``skfsrcnn`` attribute.

    Raises
    ------
    OSError
        The file could not be written (no such folder, no space, no rights).
    ValueError
        Another process created or replaced ``path`` while this one wrote;
        ``path`` is a ``.zarr`` that exists but is no zarr store, or the
        image has more than the 5 axes OME-Zarr holds.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from skfsrcnn.io import read_image, write_image
    >>> path = tempfile.mkdtemp() + "/ramp.tif"
    >>> write_image(path, np.arange(30, dtype=np.uint16).reshape(5, 6))
    >>> read_image(path)[1]
    array([ 6,  7,  8,  9, 10, 11], dtype=uint16)
    """
    path = Path(path)
    if is_zarr(path):
        return _write_zarr(path, image, metadata, scale, provenance)
    _write_file(path, image, metadata, scale, provenance, since="now")


def _write_file(path, image, metadata, scale, provenance, since):
    """:func:`write_image` to a file; ``since`` is the output's :func:`~skfsrcnn._atomic.snapshot` when work began."""
    import json

    from . import _atomic, _photo, _tiff

    suffix = path.suffix.lower()
    family = _tiff.TiffMetadata if suffix in TIFF_SUFFIXES else _photo.PhotoMetadata
    if not isinstance(metadata, family):
        metadata = family()
    if scale != 1:
        metadata = metadata.scaled(scale)
    text = None if provenance is None else json.dumps(provenance, sort_keys=True)
    writers = {".png": _photo.write_png, ".jpg": _photo.write_jpeg, ".jpeg": _photo.write_jpeg}
    writers.update(dict.fromkeys(TIFF_SUFFIXES, _tiff.write))
    writer = writers.get(suffix, _write_other)
    with _writing(path), _atomic.atomic_path(path, since) as tmp:
        writer(tmp, image if isinstance(image, _tiff.Stream) else np.asarray(image), metadata, text)


@contextlib.contextmanager
def _writing(path):
    """Raise an OSError while writing ``path`` again as one that names OUTPUT and the fix."""
    try:
        yield
    except OSError as error:
        raise OSError(
            f"OUTPUT {str(path)!r} could not be written ({error.strerror or error}); "
            "choose a writable folder with free space."
        ) from error


def _write_other(path, image, metadata, provenance):
    """Formats without kept metadata (BMP, WebP...), through imageio."""
    import imageio.v3 as iio

    iio.imwrite(path, image, extension=path.suffix)


def _write_zarr(path, image, metadata, scale, provenance):
    """Write ``image`` (numpy or dask) as a new OME-Zarr at ``path``, replacing a zarr store there."""
    from . import _atomic, _omezarr
    from ._dask import is_dask

    _refuse_non_zarr(path)
    if not is_dask(image):
        image = np.asarray(image)
    order, axes = _omezarr.ngff_order(_omezarr.image_axes(metadata, image.shape, path))
    with _writing(path), _atomic.atomic_folder(path) as tmp:
        _omezarr.write(tmp, image.transpose(order), axes.upscaled(scale), provenance, name=path.stem)


def _refuse_non_zarr(path):
    """Refuse to replace ``path`` when it exists but is no zarr store (a folder or file of the user's).

    Raises
    ------
    ValueError
        ``path`` exists and holds no zarr metadata; it is left as it is.
    """
    if Path(path).exists() and not _has_zarr_metadata(path):
        raise ValueError(
            f"OUTPUT {str(path)!r} exists and is not a zarr store; it was not replaced. "
            "Choose another OUTPUT or remove it yourself."
        )


def is_zarr(path):
    """Whether ``path`` names a zarr array: a name ending in ``.zarr``, or a folder with zarr metadata.

    Examples
    --------
    >>> from skfsrcnn.io import is_zarr
    >>> is_zarr("big.zarr"), is_zarr("big.tif")
    (True, False)
    """
    path = Path(path)
    return path.suffix.lower() == ".zarr" or _has_zarr_metadata(path)


def _has_zarr_metadata(path):
    return any((Path(path) / name).is_file() for name in ("zarr.json", ".zarray", ".zgroup"))


def read_lazy(path, chunk_size=None):
    """Open an image as a dask array; zarr arrays and TIFF files without reading their pixels.

    Parameters
    ----------
    path : str or path-like
        A zarr array, an OME-Zarr image (its full-resolution level), a
        TIFF file (a plain one is memory-mapped; a tiled or compressed one,
        or a pyramid's full-resolution level, is read through tifffile's
        zarr store) or any file :func:`read_image` reads (read into
        memory, then wrapped).
    chunk_size : int, optional
        Side, in pixels, of the chunks on the two spatial axes (the last
        two, or the two before a 3/4-channel last axis). By default a zarr
        array (or a tiled TIFF) keeps its chunks unless they are smaller
        than 64 or larger than 4096 pixels (then 1024), a plain TIFF gets
        1024 and another image file is one chunk when it is at most 4096
        pixels a side.

    Returns
    -------
    image : dask array
        The lazy image, with the file's dtype.

    Raises
    ------
    ValueError
        The path is not a zarr array (e.g. a group) or readable image.

    Examples
    --------
    >>> from skfsrcnn.io import read_lazy, sample_path
    >>> read_lazy(sample_path(), chunk_size=64).chunks
    ((64, 64), (64, 64), (3,))
    """
    import dask.array as da

    path = Path(path)
    if is_zarr(path):
        return _rechunk_spatial(da.from_zarr(_open_zarr(path)), chunk_size)
    if path.suffix.lower() in TIFF_SUFFIXES:
        return _read_lazy_tiff(path, chunk_size)
    image = read_image(path)
    return _rechunk_spatial(da.from_array(image, chunks=image.shape), chunk_size)


def _open_zarr(path):
    """The zarr array at ``path``, opened read-only."""
    import zarr

    if not path.is_dir():
        raise ValueError(f"INPUT {str(path)!r} is not a zarr store (no such folder).")
    try:
        node = zarr.open(str(path), mode="r")
    except Exception as error:  # zarr raises several types for non-stores
        raise ValueError(f"INPUT {str(path)!r} could not be opened as zarr: {error}") from error
    if not hasattr(node, "shape"):
        from ._omezarr import multiscales

        image = multiscales(node)
        if image is not None:  # OME-Zarr: its full-resolution level
            return node[image["datasets"][0]["path"]]
        raise ValueError(
            f"INPUT {str(path)!r} is a zarr group, not an array; give the path of an array "
            f"inside it, e.g. {str(path / '0')!r}."
        )
    return node


def _read_lazy_tiff(path, chunk_size):
    import dask.array as da
    import tifffile
    import zarr

    try:  # uncompressed, contiguous: a memory map reads only the chunks asked for
        return _rechunk_spatial(da.from_array(tifffile.memmap(path, mode="r"), chunks=-1), chunk_size or DEFAULT_CHUNK)
    except Exception:  # compressed or tiled (or not a TIFF): read through tifffile's zarr store
        pass
    try:
        store = tifffile.imread(path, aszarr=True)
        node = zarr.open(store, mode="r")
    except Exception as error:  # tifffile/zarr raise many types for unreadable files
        raise ValueError(f"INPUT {str(path)!r} could not be read as a TIFF: {error}") from error
    if not hasattr(node, "shape"):  # a pyramid: level 0 is full resolution
        node = node["0"]
    return _rechunk_spatial(da.from_zarr(node), chunk_size)


def _spatial(array):
    channel = array.ndim - 1 if array.ndim == 3 and array.shape[-1] in (3, 4) else None
    return tuple(a for a in range(array.ndim) if a != channel)[-2:]


def _rechunk_spatial(array, chunk_size=None):
    """Spatial chunks of ``chunk_size``, or the array's own when they are reasonable."""
    spatial = _spatial(array)
    if chunk_size is None:
        if all(
            _MIN_CHUNK <= array.chunks[a][0] <= _MAX_CHUNK or len(array.chunks[a]) == 1 and array.shape[a] <= _MAX_CHUNK
            for a in spatial
        ):
            return array
        chunk_size = DEFAULT_CHUNK
    return array.rechunk(dict.fromkeys(spatial, chunk_size))
