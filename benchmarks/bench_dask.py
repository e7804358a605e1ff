"""Out-of-core throughput: a SIZE x SIZE uint16 zarr array upscaled on a local dask cluster.

The input is synthetic (a smooth pattern plus noise, chunks of CHUNK x CHUNK),
written once to WORKDIR and reused. The cluster has WORKERS worker processes
with one thread and MEMORY_LIMIT each (the nanny restarts a worker that passes
95 % of it). Each worker loads the model once before the clock starts; then
``skfsrcnn.upscale`` of the dask array (global intensity range, halo overlap)
is rounded back to uint16 and written with ``to_zarr``, as ``skfsrcnn upscale
in.zarr out.zarr`` does. Printed: wall time, throughput in output megapixels
per second, each worker's peak resident memory (``ru_maxrss``, includes
PyTorch) and whether any worker was restarted.

Usage: python benchmarks/bench_dask.py [--size 20000] [--scale 2] [--model fsrcnn]
           [--chunk 1024] [--workers 2] [--device cpu] [--memory-limit 2GB] [--workdir DIR] [--keep]
"""

import argparse
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def make_input(path, size, chunk, seed=0):
    """Write (once) a synthetic uint16 image of ``size`` x ``size`` to the zarr ``path``."""
    import zarr

    if path.exists():
        existing = zarr.open_array(path, mode="r")
        if existing.shape == (size, size) and existing.chunks == (chunk, chunk) and existing.dtype == np.uint16:
            return existing
        shutil.rmtree(path)
    array = zarr.create_array(path, shape=(size, size), chunks=(chunk, chunk), dtype=np.uint16)
    rng = np.random.default_rng(seed)
    cols = np.arange(size, dtype=np.float32)
    for start in range(0, size, chunk):
        rows = np.arange(start, min(start + chunk, size), dtype=np.float32)[:, None]
        smooth = 0.5 + 0.25 * np.sin(rows / 37.0) * np.cos(cols / 53.0) + 0.15 * np.sin((rows + cols) / 400.0)
        noisy = smooth + 0.03 * rng.standard_normal(smooth.shape, dtype=np.float32)
        array[start:start + rows.shape[0]] = np.clip(noisy * 65535, 0, 65535).astype(np.uint16)
    return array


def _to_uint16(block):
    return np.clip(np.rint(block), 0, 65535).astype(np.uint16)


def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _warm_up(model, scale, device):
    """Import torch and load the model in a worker (outside the timed run)."""
    import torch

    from skfsrcnn import _validate
    from skfsrcnn._upscale import _network

    _network(None, model, scale, _validate.device(device))
    return torch.get_num_threads()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20000, help="side of the square input (default 20000)")
    parser.add_argument("--scale", type=int, default=2, choices=(2, 3, 4))
    parser.add_argument("--model", default="fsrcnn", choices=("fsrcnn", "fsrcnn-s"))
    parser.add_argument("--chunk", type=int, default=1024, help="input chunk side (default 1024)")
    parser.add_argument("--tile-size", type=int, default=512, help="tile side inside a chunk (default 512)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--memory-limit", default="2GB", help="per worker (default 2GB)")
    parser.add_argument("--workdir", type=Path, help="where in.zarr/out.zarr go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the output (the input is always kept in --workdir)")
    args = parser.parse_args(argv)

    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    import skfsrcnn

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_dask_"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    source = make_input(workdir / "in.zarr", args.size, args.chunk)
    print(f"input: {args.size}x{args.size} uint16 zarr, chunks {args.chunk}, {source.nbytes / 1e9:.2f} GB "
          f"(ready in {time.perf_counter() - started:.1f} s)")
    output = workdir / "out.zarr"
    shutil.rmtree(output, ignore_errors=True)

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      memory_limit=args.memory_limit, dashboard_address=None) as cluster, Client(cluster) as client:
        threads = client.run(_warm_up, args.model, args.scale, args.device)
        pids = client.run(os.getpid)
        image = da.from_zarr(source)
        upscaled = skfsrcnn.upscale(image, args.scale, model=args.model, preserve_range=True,
                                    tile_size=args.tile_size, device=args.device)
        result = upscaled.map_blocks(_to_uint16, dtype=np.uint16)
        started = time.perf_counter()
        # A path (not a zarr.Array): dask would rechunk writes into an existing array to 128 MiB.
        result.to_zarr(str(output))
        wall = time.perf_counter() - started
        peaks = client.run(_peak_rss_mib)
        restarted = client.run(os.getpid) != pids

    pixels = result.shape[0] * result.shape[1]
    print(f"output: {result.shape[0]}x{result.shape[1]} uint16, {result.nbytes / 1e9:.2f} GB, "
          f"chunks {result.chunksize[0]}")
    print(f"model {args.model} x{args.scale} on {args.device}, tile {args.tile_size}, "
          f"{args.workers} workers x 1 thread (torch threads per worker: {sorted(set(threads.values()))}), "
          f"memory limit {args.memory_limit} per worker")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; dask {dask.__version__}")
    print(f"wall time: {wall:.1f} s")
    print(f"throughput: {pixels / wall / 1e6:.2f} output Mpx/s ({pixels / args.scale**2 / wall / 1e6:.2f} input Mpx/s)")
    for n, (address, peak) in enumerate(sorted(peaks.items())):
        print(f"peak memory, worker {n} ({address}): {peak:.0f} MiB")
    print(f"workers restarted: {'yes' if restarted else 'no'}")
    if not args.keep:
        shutil.rmtree(output, ignore_errors=True)
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return wall


if __name__ == "__main__":
    main()
