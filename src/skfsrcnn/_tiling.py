"""Tiled inference: a tile plan with halos, batched runs, crop-and-paste stitching.

Tiles overlap by the network's receptive-field radius (the halo), and only
each tile's core is pasted, so the stitched output equals the untiled one.
Tiles that touch the image edge end exactly at the edge, where the network
zero-pads as it does untiled.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tile:
    """One tile: the LR window read (core plus halo) and the core it produces."""

    window: tuple  # (row slice, column slice) read from the LR plane
    core: tuple  # (row slice, column slice) of the LR core, in image coordinates

    @property
    def shape(self):
        return tuple(s.stop - s.start for s in self.window)

    def output_crop(self, scale):
        """Slices of the tile's upscaled output that hold its core."""
        return tuple(
            slice((c.start - w.start) * scale, (c.stop - w.start) * scale)
            for c, w in zip(self.core, self.window)
        )

    def destination(self, scale):
        """Slices of the full upscaled plane that the core fills."""
        return tuple(slice(c.start * scale, c.stop * scale) for c in self.core)


def _spans(length, tile_size, halo):
    for start in range(0, length, tile_size):
        stop = min(start + tile_size, length)
        yield slice(start, stop), slice(max(0, start - halo), min(length, stop + halo))


def plan_tiles(shape, tile_size, halo):
    """Cover an LR plane of ``shape`` (rows, cols) with tiles of core ``tile_size``.

    A plane of at most ``tile_size**2`` pixels (a 640x360 video frame for the
    default 512) is one tile whatever its shape: it fits the same memory,
    and needs no halo and no stitching.

    Examples
    --------
    >>> from skfsrcnn._tiling import plan_tiles
    >>> tiles = plan_tiles((100, 70), 64, 8)
    >>> len(tiles), tiles[0].window
    (4, (slice(0, 72, None), slice(0, 70, None)))
    >>> len(plan_tiles((100, 70), 100, 8))
    1
    """
    if shape[0] * shape[1] <= tile_size * tile_size:
        tile_size = max(shape)
    return [
        Tile(window=(row_window, col_window), core=(row_core, col_core))
        for row_core, row_window in _spans(shape[0], tile_size, halo)
        for col_core, col_window in _spans(shape[1], tile_size, halo)
    ]


def _batches(planes, tiles, max_pixels):
    """Group (tile, plane range) units into batches of equal window shape."""
    per_tile = max(1, max_pixels // max(1, tiles[0].shape[0] * tiles[0].shape[1]))
    for tile in tiles:
        for start in range(0, planes, per_tile):
            yield tile, slice(start, min(start + per_tile, planes))


def upscale_planes(planes, scale, network, tile_size, halo, out=None, max_pixels=1 << 20):
    """Upscale a stack of LR planes tile by tile; a generator reporting progress.

    Parameters
    ----------
    planes : (N, M, P) float32 ndarray
        LR planes in [0, 1].
    scale : int
        Upscaling factor.
    network : callable
        ``(B, M', P') float32 ndarray -> (B, M' * scale, P' * scale) ndarray``.
    tile_size : int
        LR side of a tile's core.
    halo : int
        LR pixels of context added around every core.
    out : (N, M * scale, P * scale) ndarray, optional
        Where to write; allocated as float32 if not given.
    max_pixels : int
        LR pixels per network call (several planes of one tile are batched).

    Yields
    ------
    done, total : int
        Units of work finished so far and in all.

    Returns
    -------
    out : ndarray
        The upscaled planes (via ``StopIteration.value``).
    """
    n, rows, cols = planes.shape
    tiles = plan_tiles((rows, cols), tile_size, halo)
    units = list(_batches(n, tiles, max_pixels))
    if out is None and len(units) == 1:  # one network call: its result is the output
        out = network(planes)
        yield 1, 1
        return out
    if out is None:
        out = np.empty((n, rows * scale, cols * scale), np.float32)
    for done, (tile, which) in enumerate(units, start=1):
        result = network(planes[(which,) + tile.window])
        out[(which,) + tile.destination(scale)] = result[(slice(None),) + tile.output_crop(scale)]
        yield done, len(units)
    return out
