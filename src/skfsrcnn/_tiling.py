"""Tiled inference: a tile plan with halos, batched runs, crop-and-paste stitching.

Tiles overlap by the network's receptive-field radius (the halo), and only
each tile's core is pasted, so the stitched output equals the untiled one.
Tiles that touch the image edge end exactly at the edge, where the network
zero-pads as it does untiled.
"""

from dataclasses import dataclass

import numpy as np

from ._ensemble import Members, transformed, transforms


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
            slice((c.start - w.start) * scale, (c.stop - w.start) * scale) for c, w in zip(self.core, self.window)
        )

    def destination(self, scale):
        """Slices of the full upscaled plane that the core fills."""
        return tuple(slice(c.start * scale, c.stop * scale) for c in self.core)


def _spans(length, tile_size, halo, core=None):
    """(core, window) slices of tiles covering ``core`` (default: all of ``length``)."""
    core = core or slice(0, length)
    for start in range(core.start, core.stop, tile_size):
        stop = min(start + tile_size, core.stop)
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


#: LR pixels (planes x window) run at once: a batch of planes shares one tile.
MAX_BATCH_PIXELS = 1 << 20


def _batches(planes, tiles, max_pixels=MAX_BATCH_PIXELS):
    """Group (tile, plane range) units into batches of equal window shape."""
    per_tile = max(1, max_pixels // max(1, tiles[0].shape[0] * tiles[0].shape[1]))
    for tile in tiles:
        for start in range(0, planes, per_tile):
            yield tile, slice(start, min(start + per_tile, planes))


def count_passes(shape, tile_size, halo, ensemble=False, max_pixels=MAX_BATCH_PIXELS):
    """Network passes (progress steps) of :func:`upscale_planes` on planes of ``shape`` (N, M, P)."""
    tiles = plan_tiles(shape[1:], tile_size, halo)
    return len(list(_batches(shape[0], tiles, max_pixels))) * len(transforms(ensemble))


#: Smallest tile core, in LR pixels, that retries after running out of GPU memory go down to.
MIN_RETRY_TILE = 16


class _TileLimit:
    """The largest tile core side to try; halved each time the GPU runs out of memory."""

    def __init__(self, tile_size):
        self.tile_size = tile_size
        self.side = float("inf")

    def lower(self, failed_side, reason):
        """After ``failed_side`` ran out of memory: halve it, or give up at the minimum."""
        if failed_side <= MIN_RETRY_TILE:
            raise MemoryError(
                f"The GPU ran out of memory even on tiles of {failed_side}x{failed_side} input "
                f"pixels (`tile_size`={self.tile_size}, halved down to the minimum {MIN_RETRY_TILE}): "
                f"{reason}. Free GPU memory (other processes, napari layers), or use device='cpu'."
            )
        self.side = min(self.side, max(failed_side // 2, MIN_RETRY_TILE))
        import torch

        torch.cuda.empty_cache()


def _core_side(tile):
    return max(c.stop - c.start for c in tile.core)


def _out_of_memory(error):
    """Whether ``error`` is PyTorch's CUDA out-of-memory error (torch is loaded by then)."""
    import torch

    return isinstance(error, torch.cuda.OutOfMemoryError)


def _call(network, batch, tile, limit):
    """``network(batch)``, or None when the GPU ran out of memory (``limit`` is then lowered)."""
    try:
        return network(batch)
    except Exception as error:  # only out-of-memory errors are handled; the rest propagate
        if not _out_of_memory(error):
            raise
        reason = str(error).splitlines()[0]  # not the error itself: its frames hold GPU memory
    limit.lower(_core_side(tile), reason)
    return None


def _paste(network, planes, which, tile, scale, halo, store, limit):
    """Upscale one tile's core and ``store(region, values)`` it, in smaller tiles if it does not fit the GPU."""
    if _core_side(tile) <= limit.side:
        result = _call(network, planes[(which,) + tile.window], tile, limit)
        if result is not None:
            store((which,) + tile.destination(scale), result[(slice(None),) + tile.output_crop(scale)])
            return
    shape = planes.shape[1:]
    for row_core, row_window in _spans(shape[0], limit.side, halo, tile.core[0]):
        for col_core, col_window in _spans(shape[1], limit.side, halo, tile.core[1]):
            sub = Tile(window=(row_window, col_window), core=(row_core, col_core))
            _paste(network, planes, which, sub, scale, halo, store, limit)


def upscale_planes(
    planes, scale, network, tile_size, halo, out=None, max_pixels=MAX_BATCH_PIXELS, *, ensemble=False, spread=None
):
    """Upscale a stack of LR planes tile by tile; a generator reporting progress.

    With ``ensemble``, every tile, halo included, is run through the 8
    flips and rotations (:mod:`skfsrcnn._ensemble`), each output turned
    back and the 8 averaged. The halo is the same on every side, so a
    transformed tile is the same window of the transformed image and the
    result equals the untiled ensemble.

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
    ensemble : bool
        Average the network's outputs over the 8 dihedral transforms.
    spread : (N, M * scale, P * scale) ndarray, optional
        With ``ensemble``, receives the members' sum of squared deviations
        from their mean (8 times their variance).

    Yields
    ------
    done, total : int
        Network passes finished so far and in all (8 per tile with ``ensemble``).

    Returns
    -------
    out : ndarray
        The upscaled planes (via ``StopIteration.value``).

    Raises
    ------
    MemoryError
        The GPU ran out of memory (``torch.cuda.OutOfMemoryError``) even on
        tiles of :data:`MIN_RETRY_TILE` pixels. Each out-of-memory error
        first halves the tile side, for this tile and the following ones;
        the result is the same, since every tile keeps its halo.
    """
    n, rows, cols = planes.shape
    tiles = plan_tiles((rows, cols), tile_size, halo)
    units = list(_batches(n, tiles, max_pixels))
    limit = _TileLimit(tile_size)
    passes = transforms(ensemble)
    if out is None and len(units) == 1 and len(passes) == 1:  # one network call: its result is the output
        whole = _call(network, planes, tiles[0], limit)
        if whole is not None:
            yield 1, 1
            return whole
    if out is None:
        out = np.empty((n, rows * scale, cols * scale), np.float32)
    members = Members(out, spread)
    total = len(units) * len(passes)
    done = 0
    for tile, which in units:
        for member, transform in enumerate(passes):

            def store(region, values, member=member):
                members.add(region, values, member)

            _paste(transformed(network, transform), planes, which, tile, scale, halo, store, limit)
            done += 1
            yield done, total
    return out
