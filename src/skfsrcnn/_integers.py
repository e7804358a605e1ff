"""Float results back to an integer dtype: rounded, clipped, and never wrapped around."""

import numpy as np


def _inside(limit, float_dtype):
    """The float of ``float_dtype`` nearest the integer ``limit`` that is not beyond it."""
    value = float_dtype.type(limit)
    if abs(int(value)) > abs(limit):
        value = np.nextafter(value, float_dtype.type(0))
    return value


def to_integer(out, dtype):
    """Round the float array ``out`` (in place) into the range of ``dtype`` and cast it.

    Clipping to ``np.iinfo(dtype).max`` alone is not enough for 64-bit
    integers: ``float32(2**63 - 1)`` is ``2**63``, which the cast wraps to
    ``-2**63``. The bounds used are the floats nearest the limits, inside them.

    Parameters
    ----------
    out : ndarray
        Float values in the integer dtype's units; rounded and clipped in place.
    dtype : numpy.dtype
        The integer dtype to return.

    Returns
    -------
    ndarray
        ``out`` rounded to the nearest integer, within the range of ``dtype``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn._integers import to_integer
    >>> to_integer(np.array([-1.4, 2.6, 300.0], np.float32), np.dtype(np.uint8))
    array([  0,   3, 255], dtype=uint8)
    >>> to_integer(np.array([2.0**64], np.float32), np.dtype(np.uint64))  # not 0
    array([18446742974197923840], dtype=uint64)
    """
    info = np.iinfo(dtype)
    np.rint(out, out=out)
    np.clip(out, _inside(info.min, out.dtype), _inside(info.max, out.dtype), out=out)
    return out.astype(dtype)
