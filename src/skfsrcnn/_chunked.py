"""Out-of-core upscaling for the CLI: lazy inputs, chunk-by-chunk resumable zarr output.

The output zarr array's attributes hold, under ``"skfsrcnn"``, the settings
that made it, the input's global value range and the finished chunks (as
ranges of C-order chunk numbers). A chunk is recorded only after its data are
written, so after an interruption ``--resume`` recomputes exactly the chunks
that are not recorded, with the same value range: the result equals an
uninterrupted run.
"""

import os
import shutil
import time
from pathlib import Path

import numpy as np

STATE_KEY = "skfsrcnn"
#: Default spatial chunk side (input pixels) when the input's own chunks don't suit.
DEFAULT_CHUNK = 1024
_MIN_CHUNK, _MAX_CHUNK = 64, 4096


def is_zarr(path):
    """True for a path named ``*.zarr`` or a folder holding zarr metadata."""
    path = Path(path)
    return path.suffix.lower() == ".zarr" or _has_zarr_metadata(path)


def _has_zarr_metadata(path):
    return any((Path(path) / name).is_file() for name in ("zarr.json", ".zarray", ".zgroup"))


def open_lazy(path, chunk_size=None):
    """Open a zarr array or a TIFF file as a dask array without reading its pixels.

    Spatial chunks (the two last axes, or the two before a 3/4-channel last
    axis) are ``chunk_size``; by default a zarr array keeps its chunks unless
    they are smaller than 64 or larger than 4096 pixels.
    """
    import dask.array as da
    import zarr

    path = Path(path)
    if is_zarr(path):
        if not path.is_dir():
            raise ValueError(f"INPUT {str(path)!r} is not a zarr store (no such folder).")
        try:
            node = zarr.open(str(path), mode="r")
        except Exception as error:  # zarr raises several types for non-stores
            raise ValueError(f"INPUT {str(path)!r} could not be opened as zarr: {error}") from error
        if not hasattr(node, "shape"):
            raise ValueError(
                f"INPUT {str(path)!r} is a zarr group, not an array; give the path of an array "
                f"inside it, e.g. {str(path / '0')!r}."
            )
        array = da.from_zarr(node)
    else:
        import tifffile

        try:  # uncompressed, contiguous: a memory map reads only the chunks asked for
            return rechunk_spatial(da.from_array(tifffile.memmap(path, mode="r"), chunks=-1),
                                   chunk_size or DEFAULT_CHUNK)
        except Exception:  # compressed or tiled (or not a TIFF): read through tifffile's zarr store
            pass
        try:
            store = tifffile.imread(path, aszarr=True)
            node = zarr.open(store, mode="r")
        except Exception as error:  # tifffile/zarr raise many types for unreadable files
            raise ValueError(f"INPUT {str(path)!r} could not be read as a TIFF: {error}") from error
        if not hasattr(node, "shape"):  # a pyramid: level 0 is full resolution
            node = node["0"]
        array = da.from_zarr(node)
    return rechunk_spatial(array, chunk_size)


def _spatial(array):
    channel = array.ndim - 1 if array.ndim == 3 and array.shape[-1] in (3, 4) else None
    return tuple(a for a in range(array.ndim) if a != channel)[-2:]


def rechunk_spatial(array, chunk_size=None):
    """Spatial chunks of ``chunk_size``, or the array's own when they are reasonable."""
    spatial = _spatial(array)
    if chunk_size is None:
        if all(_MIN_CHUNK <= array.chunks[a][0] <= _MAX_CHUNK or len(array.chunks[a]) == 1
               and array.shape[a] <= _MAX_CHUNK for a in spatial):
            return array
        chunk_size = DEFAULT_CHUNK
    return array.rechunk({a: chunk_size for a in spatial})


def _to_ranges(numbers):
    ranges = []
    for n in sorted(numbers):
        if ranges and ranges[-1][1] == n:
            ranges[-1][1] = n + 1
        else:
            ranges.append([n, n + 1])
    return ranges


def _from_ranges(ranges):
    return {n for start, stop in ranges for n in range(start, stop)}


def remove_zarr(path):
    """Delete an existing output, refusing folders that are not zarr stores."""
    path = Path(path)
    if path.is_dir():
        if not _has_zarr_metadata(path):
            raise ValueError(
                f"OUTPUT {str(path)!r} is a folder that is not a zarr store; it was not "
                "replaced. Choose another OUTPUT or remove it yourself."
            )
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _store_block(block, *, target, file_dtype, block_info=None):
    """Write one upscaled block into its (chunk-aligned) region of ``target``."""
    region = tuple(slice(start, stop) for start, stop in block_info[0]["array-location"])
    if np.issubdtype(file_dtype, np.integer):
        info = np.iinfo(file_dtype)
        block = np.clip(np.rint(block), info.min, info.max)
    target[region] = block.astype(file_dtype, copy=False)
    return np.ones((1,) * block.ndim, bool)


def _jobs(device, jobs):
    """Dask threads, and torch threads for each: parallel chunks on CPU, one at a time on GPU."""
    from . import _validate

    cpu = _validate.device(device).type == "cpu"
    if jobs is None:
        jobs = (os.cpu_count() or 1) if cpu else 1
    if jobs < 1:
        raise ValueError(f"--jobs {jobs} must be at least 1.")
    return jobs, max(1, (os.cpu_count() or 1) // jobs) if cpu else None


def upscale_to_zarr(image, output, *, scale, source, model="fsrcnn", weights=None, channel_axis=None,
                    tile_size=None, device=None, resume=False, jobs=None, progress=None):
    """Upscale the dask array ``image`` into the zarr array ``output``, chunk by chunk.

    The output has ``image``'s dtype for integer input (original units,
    rounded) and upscale's float dtype otherwise, and chunks of the input's
    spatial chunks times ``scale``. With ``resume``, an existing output made
    with the same settings is completed: recorded chunks are not recomputed.

    Returns
    -------
    computed : int
        Chunks computed by this call.
    """
    import dask
    import dask.array as da
    import zarr
    from dask.callbacks import Callback
    from tqdm.auto import tqdm

    from ._dask import upscale_lazy
    from ._options import UpscaleOptions
    from ._upscale import output_dtype

    import torch

    jobs, torch_threads = _jobs(device, jobs)
    file_dtype = image.dtype if np.issubdtype(image.dtype, np.integer) else output_dtype(image.dtype)
    settings = {
        "source": str(Path(source).resolve()), "shape": list(image.shape), "dtype": str(image.dtype),
        "chunks": [c[0] for c in image.chunks], "scale": scale,
        "model": None if weights else model, "weights": None if weights is None else str(Path(weights).resolve()),
        "channel_axis": channel_axis,
    }
    output = Path(output)
    if resume and output.exists():
        try:
            target = zarr.open_array(str(output), mode="r+")
        except Exception as error:  # not a zarr array
            raise ValueError(f"OUTPUT {str(output)!r} cannot be resumed: it is not a zarr array ({error}).") from error
        state = target.attrs.get(STATE_KEY)
        if not state or state.get("settings") != settings:
            raise ValueError(
                f"OUTPUT {str(output)!r} was not started by this command with the same INPUT and "
                "options, so it cannot be resumed; pass --overwrite to start again."
            )
        value_range = state["value_range"]
        done = _from_ranges(state["done"])
    else:
        minimum, maximum = dask.compute(image.min(), image.max(), scheduler="threads", num_workers=jobs)
        value_range = [minimum.item(), maximum.item()]
        done = set()
        target = None

    options = UpscaleOptions(channel_axis=channel_axis, model=model, weights=weights, preserve_range=True,
                             tile_size=tile_size, device=device)
    upscaled = upscale_lazy(image, scale, options, value_range=value_range)
    if target is None:
        target = zarr.open_array(
            str(output), mode="w-", shape=upscaled.shape, chunks=tuple(c[0] for c in upscaled.chunks),
            dtype=file_dtype, fill_value=0,
        )
        target.attrs[STATE_KEY] = {"settings": settings, "value_range": value_range, "done": [], "complete": False}

    stored = da.map_blocks(_store_block, upscaled, target=target, file_dtype=file_dtype,
                           chunks=(1,) * upscaled.ndim, dtype=bool, meta=np.empty((0,) * upscaled.ndim, bool),
                           token="skfsrcnn-store")
    grid = stored.numblocks
    total = int(np.prod(grid))
    todo = [idx for n, idx in enumerate(np.ndindex(*grid)) if n not in done]
    keys = [(stored.name,) + idx for idx in todo]

    last_flush = [time.monotonic()]

    def flush(complete=False):
        target.attrs[STATE_KEY] = {"settings": settings, "value_range": value_range,
                                   "done": _to_ranges(done), "complete": complete}
        last_flush[0] = time.monotonic()

    bar = tqdm(total=total, initial=total - len(todo), desc="upscaling", unit="chunk",
               disable=(None if progress is None else not progress), leave=False)

    def posttask(key, result, dsk, state, worker_id):
        if isinstance(key, tuple) and key[0] == stored.name:
            done.add(int(np.ravel_multi_index(key[1:], grid)))
            bar.update(1)
            if time.monotonic() - last_flush[0] > 1.0:
                flush()

    previous_threads = torch.get_num_threads()
    try:
        if keys:
            if torch_threads:
                torch.set_num_threads(torch_threads)
            graph = dict(stored.__dask_graph__().cull(set(keys)))
            with Callback(posttask=posttask):
                dask.threaded.get(graph, keys, num_workers=jobs)
    finally:
        torch.set_num_threads(previous_threads)
        bar.close()
        flush(complete=len(done) == total)
    return len(todo)
