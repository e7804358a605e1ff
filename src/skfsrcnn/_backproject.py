"""Back-projection: the upscaled image made consistent with the measured input.

With the package's MATLAB bicubic :func:`~skfsrcnn.resize.imresize`, the
degradation the networks were trained to invert, back-projection (Irani &
Peleg, 1991) repeats ``output += bicubic_up(input -
bicubic_down(output))``. One iteration reads :data:`REACH` LR pixels on
each side (2 for the antialiased downscale, 2 for the upscale), so tiles
with a halo of ``REACH * iterations`` give exactly the untiled result.
"""

import numpy as np

from ._tiling import _batches, plan_tiles
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
    """Batches of tiles (progress steps) that back-projecting planes of LR ``shape`` (N, M, P) takes."""
    return len(list(_batches(shape[0], plan_tiles(shape[1:], tile_size, halo(iterations)))))


def back_project_planes(low, high, scale, iterations, tile_size):
    """:func:`back_project` tile by tile; a generator yielding ``(done, total)`` batches, returning the result.

    ``low`` is a callable giving the LR pixels at an index ``(planes,
    rows, columns)`` of slices, in the units of ``high`` (the network's),
    so that no mapped copy of the whole input is made. A stack of planes
    is done a batch of planes at a time, as the network runs them
    (:func:`skfsrcnn._tiling._batches`), so that memory does not grow with
    the stack.
    """
    tiles = plan_tiles(tuple(n // scale for n in high.shape[1:]), tile_size, halo(iterations))
    batches = list(_batches(high.shape[0], tiles))
    out = np.empty_like(high)
    for done, (tile, which) in enumerate(batches, start=1):
        window = (which,) + tuple(slice(w.start * scale, w.stop * scale) for w in tile.window)
        result = back_project(low((which,) + tile.window), high[window], scale, iterations)
        out[(which,) + tile.destination(scale)] = result[(slice(None),) + tile.output_crop(scale)]
        yield done, len(batches)
    return out
