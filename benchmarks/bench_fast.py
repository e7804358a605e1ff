"""What each CPU trick of ``FastFSRCNN`` buys: the network alone, one trick left out at a time.

Each variant runs in a fresh process (the allocator's state is per process)
on a random luma frame of 1920x1080 output, with random weights, in
``torch.inference_mode``; the number is the median time of the timed calls
after two untimed ones, taken over interleaved rounds. Variants:

* ``FastFSRCNN``: everything on;
* ``reference FSRCNN``: the paper's module (strided ``ConvTranspose2d``);
* ``no banding``: the whole image as one band;
* ``no prepacking``: ``F.conv2d`` instead of oneDNN's prepacked weights;
* ``no allocator settling``: glibc's malloc left to unmap band buffers;
* ``no shifted windows``: one phase window for every phase (x3: 4x4 taps);
* ``no x2 column fold``, ``no channel block``: x2's two columns per output,
  x3's output channels padded to 16, left out;
* ``fallback (oneDNN off)``: ``torch.backends.mkldnn.enabled = False``.

A variant is timed only at the scales where its trick changes the plan.

Usage: python benchmarks/bench_fast.py [--repeats 3] [--calls 5] [--threads N]
           [--cases fsrcnn:2 fsrcnn:3 fsrcnn-s:3]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

#: LR (rows, columns) of a 1920x1080 output per scale.
SIZES = {2: (540, 960), 3: (360, 640), 4: (270, 480)}
CASES = ("fsrcnn:2", "fsrcnn:3", "fsrcnn-s:3")
VARIANTS = (
    "FastFSRCNN",
    "reference FSRCNN",
    "no banding",
    "no prepacking",
    "no allocator settling",
    "no shifted windows",
    "no x2 column fold",
    "no channel block",
    "fallback (oneDNN off)",
)


#: Scales at which a trick changes the plan; the other variants apply at every scale.
APPLIES = {"no shifted windows": {3}, "no x2 column fold": {2}, "no channel block": {3}}


def _unshifted_windows(phase_windows):
    """``_phase_windows`` with one common window for every phase (no shifts)."""

    def windows(scale):
        width, base, shifts = phase_windows(scale)
        return width + max(shifts), base, (0,) * scale

    return windows


def _apply(variant):
    """Leave out the trick ``variant`` names; returns whether to run the reference module."""
    import torch

    from skfsrcnn.models import fast, subpixel

    if variant == "no banding":
        fast._BAND_PIXELS = 1 << 40
    elif variant == "no prepacking":
        fast._mkldnn_usable = lambda device, dtype: False
    elif variant == "no allocator settling":
        fast._settle_allocator = lambda: None
    elif variant == "no shifted windows":
        windows = _unshifted_windows(subpixel._phase_windows)
        fast._phase_windows = subpixel._phase_windows = windows
    elif variant == "no x2 column fold":
        fast._FOLD = {}
    elif variant == "no channel block":
        fast._BLOCK = 1
    elif variant == "fallback (oneDNN off)":
        torch.backends.mkldnn.enabled = False
    return variant == "reference FSRCNN"


def child(variant, preset, scale, calls, threads):
    """Time ``calls`` calls of one variant; prints the seconds per call as JSON."""
    import time

    import torch

    from skfsrcnn.models import FSRCNN, FastFSRCNN

    if threads:
        torch.set_num_threads(threads)
    reference = _apply(variant)
    torch.manual_seed(0)
    model = FSRCNN.from_preset(preset, scale).eval()
    net = model if reference else FastFSRCNN(model)
    x = torch.rand(1, 1, *SIZES[scale])
    times = []
    with torch.inference_mode():
        for i in range(calls + 2):
            start = time.perf_counter()
            net(x)
            if i >= 2:
                times.append(time.perf_counter() - start)
    print(json.dumps(statistics.median(times)))


def _run(variant, preset, scale, args):
    command = [
        sys.executable,
        __file__,
        "--child",
        variant,
        preset,
        str(scale),
        "--calls",
        str(args.calls),
        "--threads",
        str(args.threads),
    ]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--calls", type=int, default=5, help="timed calls per variant and round")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: all)")
    parser.add_argument("--cases", nargs="+", default=CASES, help="preset:scale pairs to time")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        variant, preset, scale = args.child
        child(variant, preset, int(scale), args.calls, args.threads)
        return
    print(f"{os.cpu_count()} CPUs, median ms per 1920x1080 output frame (network alone)")
    for case in args.cases:
        preset, scale = case.split(":")
        scale = int(scale)
        variants = [v for v in VARIANTS if scale in APPLIES.get(v, {scale})]
        times = {variant: [] for variant in variants}
        for _ in range(args.repeats):
            for variant in variants:
                times[variant].append(_run(variant, preset, scale, args))
        fast = statistics.median(times["FastFSRCNN"])
        print(f"\n{preset} x{scale} (LR {SIZES[scale][1]}x{SIZES[scale][0]})", flush=True)
        for variant in variants:
            t = statistics.median(times[variant])
            print(f"  {variant:<24}{1000 * t:9.1f} ms  {t / fast:5.2f}x", flush=True)


if __name__ == "__main__":
    main()
