"""Refuse, before any allocation, an upscaled image that cannot fit in memory.

An image whose output exceeds the memory available would otherwise be
killed by the operating system part-way (or fail deep inside numpy); the
check turns that into an immediate error that says what to do instead.
"""

import math
import os


def available_bytes(meminfo="/proc/meminfo"):
    """Memory available to a new allocation, in bytes; None if unknown.

    Linux's ``MemAvailable`` (free memory plus reclaimable caches), else the
    free physical pages that ``os.sysconf`` reports (other POSIX systems).

    Parameters
    ----------
    meminfo : str, optional
        The file read on Linux.

    Returns
    -------
    int or None
        Bytes available, or None where neither source exists (Windows).

    Examples
    --------
    >>> from skfsrcnn._memory import available_bytes
    >>> available = available_bytes()
    >>> available is None or available > 0
    True
    """
    try:
        with open(meminfo) as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _gib(n_bytes):
    return f"{n_bytes / 2**30:.1f} GiB"


def check_output_fits(image, scale, buffers=1):
    """Raise MemoryError if the upscaled ``image`` alone exceeds the available memory.

    Only the output is counted (float32, or float64 for float64 input),
    times ``buffers`` where more arrays of its size are held (an
    uncertainty map, back-projection), a lower bound of what upscaling
    needs, so an image that is refused could never have been upscaled in
    memory.

    Parameters
    ----------
    image : ndarray
        The input image.
    scale : int
        Upscaling factor of the two spatial axes.
    buffers : float, optional
        Output-sized arrays held at once (1: the output alone).

    Raises
    ------
    MemoryError
        The output is larger than :func:`available_bytes`; the message gives
        both sizes and the ways around it (dask arrays, zarr output, fewer
        planes at a time).

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn._memory import check_output_fits
    >>> check_output_fits(np.zeros((64, 64), np.uint8), 4)  # 256 KiB: fine
    >>> huge = np.broadcast_to(np.uint8(0), (100_000, 100_000, 100_000))  # no memory used
    >>> check_output_fits(huge, 2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    MemoryError: `image` of shape (100000, 100000, 100000) upscaled x2 ...
    """
    available = available_bytes()
    if available is None:
        return
    itemsize = 8 if image.dtype == "float64" else 4
    needed = math.prod(image.shape) * scale * scale * itemsize * buffers
    if needed > available:
        raise MemoryError(
            f"`image` of shape {image.shape} upscaled x{scale} "
            f"{'is' if buffers == 1 else 'needs'} {_gib(needed)}, more than the "
            f"{_gib(available)} of memory available. Upscale it lazily instead: pass a dask array "
            "(skfsrcnn.upscale(dask.array.from_array(image, chunks=1024), ...) returns a lazy "
            "result to store with .to_zarr), or write to a zarr array with "
            "`skfsrcnn upscale INPUT out.zarr`, or upscale fewer planes at a time."
        )
