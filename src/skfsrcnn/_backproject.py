"""Back-projection: the upscaled image made consistent with the measured input.

With the package's MATLAB bicubic :func:`~skfsrcnn.resize.imresize`, the
degradation the networks were trained to invert, back-projection (Irani &
Peleg, 1991) repeats ``output += bicubic_up(input -
bicubic_down(output))``. One iteration reads :data:`REACH` LR pixels on
each side (2 for the antialiased downscale, 2 for the upscale), so tiles
with a halo of ``REACH * iterations`` give exactly the untiled result.
"""

import numpy as np

from ._tiling import plan_tiles
from .resize import BICUBIC_REACH, imresize

#: LR pixels on each side that one back-projection iteration reads.
REACH = 2 * BICUBIC_REACH


def halo(iterations):
    """LR pixels of context that ``iterations`` of back-projection need around a tile."""
    return REACH * iterations


def back_project(low, high, scale, iterations):
    """``high`` (N, M * scale, P * scale) made consistent with ``low`` (N, M, P) by ``iterations`` steps.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn._backproject import back_project
    >>> from skfsrcnn.resize import imresize
    >>> rng = np.random.default_rng(0)
    >>> low, high = rng.random((1, 8, 8)), rng.random((1, 16, 16))
    >>> def rms(high):
    ...     return np.sqrt(np.mean((low - imresize(high, 0.5, axes=(1, 2))) ** 2))
    >>> bool(rms(back_project(low, high, 2, 10)) < rms(high) / 10)
    True
    """
    for _ in range(iterations):
        residual = low - imresize(high, 1 / scale, axes=(-2, -1))
        high = high + imresize(residual, scale, axes=(-2, -1))
    return high


def count_tiles(shape, tile_size, iterations):
    """Tiles (progress steps) that back-projecting planes of LR ``shape`` (rows, cols) takes."""
    return len(plan_tiles(shape, tile_size, halo(iterations)))


def back_project_planes(low, high, scale, iterations, tile_size):
    """:func:`back_project` tile by tile; a generator yielding ``(done, total)`` tiles, returning the result.

    ``low`` is a callable giving the LR planes of a window, in the units of
    ``high`` (the network's), so that no mapped copy of the whole input is made.
    """
    tiles = plan_tiles(tuple(n // scale for n in high.shape[1:]), tile_size, halo(iterations))
    out = np.empty_like(high)
    for done, tile in enumerate(tiles, start=1):
        window = (slice(None),) + tuple(slice(w.start * scale, w.stop * scale) for w in tile.window)
        result = back_project(low(tile.window), high[window], scale, iterations)
        out[(slice(None),) + tile.destination(scale)] = result[(slice(None),) + tile.output_crop(scale)]
        yield done, len(tiles)
    return out
