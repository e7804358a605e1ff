"""Out-of-core throughput: a SIZE x SIZE uint16 zarr array upscaled on a local dask cluster.

The input is synthetic (a smooth pattern plus noise, chunks of CHUNK x CHUNK),
written once to WORKDIR and reused. The cluster has WORKERS worker processes
with one thread and MEMORY_LIMIT each (the nanny restarts a worker that passes
95 % of it). Each worker loads the model once before the clock starts; then
``skfsrcnn.upscale`` of the dask array (global intensity range, halo overlap)
is rounded back to uint16 and written with ``to_zarr``, as ``skfsrcnn upscale
in.zarr out.zarr`` does. Printed: wall time, throughput in output megapixels
per second, each worker's peak resident memory (``ru_maxrss``, includes
PyTorch), its CPU time (user and system) and minor page faults during the
run, and whether any worker was restarted.

glibc's allocator: dask's nannies start workers with
``MALLOC_TRIM_THRESHOLD_=65536`` (``distributed.nanny.pre-spawn-environ``),
which also freezes glibc's mmap threshold at 128 KiB, so every chunk- and
band-sized buffer is mapped fresh and page-faulted in (and unmapped on
free). ``--malloc tuned`` (the default) starts the workers with
``MALLOC_MMAP_THRESHOLD_`` = 32 MiB and ``MALLOC_TRIM_THRESHOLD_`` = 64 MiB
instead, so that freed buffers are reused; ``--malloc dask`` keeps dask's
setting, for comparison.

Usage: python benchmarks/bench_dask.py [--size 20000] [--scale 2] [--model fsrcnn]
           [--chunk 1024] [--workers 2] [--device cpu] [--memory-limit 2GB]
           [--malloc tuned] [--workdir DIR] [--keep] [--output docs/results/bench_dask.txt]
"""

import argparse
import os
import resource
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _report import Report, cpu_name

#: Worker environment per ``--malloc`` choice, on top of dask's ``pre-spawn-environ``.
MALLOC_ENV = {
    "tuned": {"MALLOC_MMAP_THRESHOLD_": 32 << 20, "MALLOC_TRIM_THRESHOLD_": 64 << 20},
    "dask": {},
}


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
        array[start : start + rows.shape[0]] = np.clip(noisy * 65535, 0, 65535).astype(np.uint16)
    return array


def _to_uint16(block):
    return np.clip(np.rint(block), 0, 65535).astype(np.uint16)


def _usage():
    """This process's CPU seconds (user, system), minor page faults and peak RSS in MiB."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime, usage.ru_minflt, usage.ru_maxrss / 1024


def _worker_env(choice):
    """``distributed.nanny.pre-spawn-environ`` with the ``--malloc`` choice applied."""
    import dask

    return {**dask.config.get("distributed.nanny.pre-spawn-environ"), **MALLOC_ENV[choice]}


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
    parser.add_argument(
        "--malloc",
        default="tuned",
        choices=tuple(MALLOC_ENV),
        help="glibc allocator settings of the workers (default tuned; see above)",
    )
    parser.add_argument("--workdir", type=Path, help="where in.zarr/out.zarr go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the output (the input is always kept in --workdir)")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    report = Report()
    report(f"$ python benchmarks/bench_dask.py {shlex.join(sys.argv[1:] if argv is None else argv)}")
    report(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")

    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    import skfsrcnn

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_dask_"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    source = make_input(workdir / "in.zarr", args.size, args.chunk)
    report(
        f"input: {args.size}x{args.size} uint16 zarr, chunks {args.chunk}, {source.nbytes / 1e9:.2f} GB "
        f"(ready in {time.perf_counter() - started:.1f} s)"
    )
    output = workdir / "out.zarr"
    shutil.rmtree(output, ignore_errors=True)

    environ = _worker_env(args.malloc)
    with (
        dask.config.set({"distributed.nanny.pre-spawn-environ": environ}),
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            memory_limit=args.memory_limit,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        threads = client.run(_warm_up, args.model, args.scale, args.device)
        pids = client.run(os.getpid)
        before = client.run(_usage)
        image = da.from_zarr(source)
        upscaled = skfsrcnn.upscale(
            image, args.scale, model=args.model, preserve_range=True, tile_size=args.tile_size, device=args.device
        )
        result = upscaled.map_blocks(_to_uint16, dtype=np.uint16)
        started = time.perf_counter()
        # A path (not a zarr.Array): dask would rechunk writes into an existing array to 128 MiB.
        result.to_zarr(str(output))
        wall = time.perf_counter() - started
        after = client.run(_usage)
        restarted = client.run(os.getpid) != pids

    pixels = result.shape[0] * result.shape[1]
    malloc = ", ".join(f"{k}={v}" for k, v in sorted(environ.items()) if k.startswith("MALLOC_"))
    report(
        f"output: {result.shape[0]}x{result.shape[1]} uint16, {result.nbytes / 1e9:.2f} GB, "
        f"chunks {result.chunksize[0]}"
    )
    report(
        f"model {args.model} x{args.scale} on {args.device}, tile {args.tile_size}, "
        f"{args.workers} workers x 1 thread (torch threads per worker: {sorted(set(threads.values()))}), "
        f"memory limit {args.memory_limit} per worker"
    )
    report(f"worker allocator (--malloc {args.malloc}): {malloc}")
    report(f"machine: {cpu_name()}, {os.cpu_count()} CPUs; dask {dask.__version__}, skfsrcnn {skfsrcnn.__version__}")
    report(f"wall time: {wall:.1f} s")
    report(
        f"throughput: {pixels / wall / 1e6:.2f} output Mpx/s ({pixels / args.scale**2 / wall / 1e6:.2f} input Mpx/s)"
    )
    for n, address in enumerate(sorted(after)):
        user, system, faults = (a - b for a, b in zip(after[address][:3], before.get(address, (0, 0, 0))))
        report(
            f"worker {n} ({address}): peak memory {after[address][3]:.0f} MiB, "
            f"CPU {user:.1f} s user + {system:.1f} s system, {faults / 1e6:.2f} M minor page faults"
        )
    report(f"workers restarted: {'yes' if restarted else 'no'}")
    report(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.output:
        report.write(args.output)
    if not args.keep:
        shutil.rmtree(output, ignore_errors=True)
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return wall


if __name__ == "__main__":
    main()
