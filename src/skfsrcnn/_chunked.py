"""Out-of-core upscaling for the CLI: chunk-by-chunk resumable zarr output.

Inputs are opened lazily by :func:`skfsrcnn.io.read_lazy`.

The output zarr array's attributes hold, under ``"skfsrcnn"``, the settings
that made it, the input's global value range and the finished chunks (as
ranges of C-order chunk numbers). A chunk is recorded only after its data are
written, so after an interruption ``--resume`` recomputes exactly the chunks
that are not recorded, with the same value range: the result equals an
uninterrupted run.
"""

import shutil
import time
from pathlib import Path

import numpy as np

from ._extras import needed
from ._threads import usable_cores
from .io import _refuse_non_zarr

STATE_KEY = "skfsrcnn"


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
    """Delete an existing zarr output, refusing anything that is not a zarr store, as `write_image` does."""
    path = Path(path)
    _refuse_non_zarr(path)
    if path.exists():
        shutil.rmtree(path)


def _store_block(block, *, target, file_dtype, block_info=None):
    """Write one upscaled block into its (chunk-aligned) region of ``target``."""
    region = tuple(slice(start, stop) for start, stop in block_info[0]["array-location"])
    if np.issubdtype(file_dtype, np.integer):
        info = np.iinfo(file_dtype)
        block = np.clip(np.rint(block), info.min, info.max)
    target[region] = block.astype(file_dtype, copy=False)
    return np.ones((1,) * block.ndim, bool)


#: Most chunks computed at once (``--jobs``): each is a thread holding a chunk and its output.
MAX_JOBS = 256


def check_jobs(jobs):
    """Refuse a ``--jobs`` count outside [1, :data:`MAX_JOBS`] (None: the default)."""
    if jobs is not None and not 1 <= jobs <= MAX_JOBS:
        raise ValueError(
            f"--jobs {jobs} must be in [1, {MAX_JOBS}]; leave it out for one per CPU core ({usable_cores()} here)."
        )


def _jobs(device, jobs):
    """Dask threads, and torch threads for each: parallel chunks on CPU, one at a time on GPU.

    ``jobs`` was checked by :func:`check_jobs` (the CLI does, before any work).
    """
    from . import _validate

    cpu = _validate.device(device).type == "cpu"
    if jobs is None:
        jobs = usable_cores() if cpu else 1
    return jobs, max(1, usable_cores() // jobs) if cpu else None


def upscale_to_zarr(image, output, scale, options, *, source, resume=False, jobs=None, progress=None):
    """Upscale the dask array ``image`` into the zarr array ``output``, chunk by chunk.

    The output has ``image``'s dtype for integer input (original units,
    rounded) and upscale's float dtype otherwise, and chunks of the input's
    spatial chunks times ``scale``. With ``resume``, an existing output made
    with the same settings is completed: recorded chunks are not recomputed.

    Parameters
    ----------
    image : dask array
        The input, e.g. from :func:`skfsrcnn.io.read_lazy`.
    output : path-like
        The zarr array to write (or, with ``resume``, to complete).
    scale : int
        Upscaling factor.
    options : skfsrcnn._options.UpscaleOptions
        The options of :func:`skfsrcnn.upscale`; the output is computed in
        original units (``preserve_range=True``), whatever they say.
    source : path-like
        The input's path, recorded so that a resume with another input is refused.
    resume : bool
        Complete an existing ``output`` instead of creating it.
    jobs : int, optional
        Chunks computed at once (default: CPU cores, 1 on a GPU); the
        caller checks it with :func:`check_jobs`, as the CLI does.
    progress : bool, optional
        Show a progress bar (default: when writing to a terminal).

    Returns
    -------
    computed : int
        Chunks computed by this call.
    """
    import torch
    from tqdm.auto import tqdm

    with needed("Writing a zarr array"):
        import dask
        import dask.array as da
        import zarr
        from dask.callbacks import Callback

    from ._dask import upscale_lazy
    from ._upscale import output_dtype

    options = options.replace(preserve_range=True)
    jobs, torch_threads = _jobs(options.device, jobs)
    file_dtype = image.dtype if np.issubdtype(image.dtype, np.integer) else output_dtype(image.dtype)
    settings = {
        "source": str(Path(source).resolve()),
        "shape": list(image.shape),
        "dtype": str(image.dtype),
        "chunks": [c[0] for c in image.chunks],
        "scale": scale,
        "model": None if options.weights else options.model,
        "weights": None if options.weights is None else str(Path(options.weights).resolve()),
        "channel_axis": options.channel_axis,
    }
    # Recorded only when used, so that outputs started before these options existed still resume.
    settings.update(
        {name: getattr(options, name) for name in ("ensemble", "back_projection") if getattr(options, name)}
    )
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

    upscaled = upscale_lazy(image, scale, options, value_range=value_range)
    if target is None:
        target = zarr.open_array(
            str(output),
            mode="w-",
            shape=upscaled.shape,
            chunks=tuple(c[0] for c in upscaled.chunks),
            dtype=file_dtype,
            fill_value=0,
        )
        target.attrs[STATE_KEY] = {"settings": settings, "value_range": value_range, "done": [], "complete": False}

    stored = da.map_blocks(
        _store_block,
        upscaled,
        target=target,
        file_dtype=file_dtype,
        chunks=(1,) * upscaled.ndim,
        dtype=bool,
        meta=np.empty((0,) * upscaled.ndim, bool),
        token="skfsrcnn-store",
    )
    grid = stored.numblocks
    total = int(np.prod(grid))
    todo = [idx for n, idx in enumerate(np.ndindex(*grid)) if n not in done]
    keys = [(stored.name,) + idx for idx in todo]

    last_flush = [time.monotonic()]

    def flush(complete=False):
        target.attrs[STATE_KEY] = {
            "settings": settings,
            "value_range": value_range,
            "done": _to_ranges(done),
            "complete": complete,
        }
        last_flush[0] = time.monotonic()

    bar = tqdm(
        total=total,
        initial=total - len(todo),
        desc="upscaling",
        unit="chunk",
        disable=(None if progress is None else not progress),
        leave=False,
    )

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
