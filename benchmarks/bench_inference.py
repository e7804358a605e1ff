"""Inference speed and memory: skfsrcnn vs OpenCV dnn_superres vs bicubic, in one run.

Every peer gets the same input frames, and the peers are interleaved: each
round runs every peer once (one untimed call, then the timed calls), and the
numbers are medians over the rounds, so a change of machine load affects all
peers alike. Each library runs in a worker process of its own, started
fresh, as its users run it (:data:`PROCESSES`); only one worker computes at
a time. OpenCV is also timed inside skfsrcnn's process, because sharing a
process changes its speed: on its own it maps and page-faults its buffers
afresh on every call (about 70-100 k minor faults per FSRCNN x3 frame on
our 2-vCPU virtual machine), inside skfsrcnn's process far fewer, and it ran
up to 1.6x faster there. Minor page faults per call are printed. Peers:

* ``skfsrcnn FSRCNN``, ``skfsrcnn FSRCNN-s``: ``skfsrcnn.upscale(rgb_uint8,
  scale, channel_axis=-1, model=...)``, the whole colour pipeline (BT.601
  YCbCr, network on Y with default tiling, MATLAB-bicubic chroma, float RGB out);
* ``... ensemble``: the same with ``ensemble=True`` (the network on the 8
  flips and rotations of every tile, averaged: FSRCNN+);
* ``... network``: the network alone (``FastFSRCNN``, inference mode) on the
  frame's luma as a (1, 1, H, W) float32 tensor;
* ``OpenCV FSRCNN``, ``OpenCV FSRCNN-small``: ``cv2.dnn_superres``
  ``upsample(bgr_uint8)`` with the models in ``--peers`` (the whole colour
  pipeline too: YCrCb, network on Y, bicubic chroma, uint8 BGR out);
* ``bicubic skimage``: ``skimage.transform.rescale(rgb, scale, order=3,
  channel_axis=-1)``; ``bicubic OpenCV``: ``cv2.resize(..., INTER_CUBIC)``.

Sections: frames per second to 1920x1080 at x2, x3, x4 (LR 960x540, 640x360,
480x270), the ensemble's beside the single pass; output megapixels per
second (single pass only) over square RGB inputs from 128^2 to
4096^2 (``--quick``: to 1024^2; OpenCV's super-resolution, which does not
tile, to 2048^2); peak resident memory (``VmHWM`` of a fresh
subprocess per peer, baseline after imports and input creation shown apart)
for an 8000x8000 greyscale uint8 image at x2 with default tiling; the ratios
to OpenCV and the issue's targets, with the ensemble's cost (single-pass fps over
ensemble fps); last, the slowdown of a 640x360 x3 frame beside one and two
busy processes, skfsrcnn before and after issue 58 against OpenCV in the
same run (``bench_load.py``'s report, ``--load-repeats`` rounds, default 9;
``--skip-load`` leaves it out).

Usage: python benchmarks/bench_inference.py [--quick] [--repeats 5] [--threads N]
           [--output docs/results/bench_inference.txt] [--peers DIR] [--skip-memory]
           [--skip-load] [--load-repeats 9]
"""

import argparse
import gc
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from _report import Report, cpu_name

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT.parent / "shared" / "peers" / "opencv-fsrcnn"
FPS_SIZES = {2: (540, 960), 3: (360, 640), 4: (270, 480)}  # LR (rows, columns) -> 1080x1920
MPS_SIDES = (128, 256, 512, 1024, 2048, 4096)
MPS_SCALE = 2
MEMORY_SIDE = 8000
OPENCV_FILES = {"fsrcnn": "FSRCNN_x{scale}.pb", "fsrcnn-s": "FSRCNN-small_x{scale}.pb"}


def frame(rows, cols):
    """A natural RGB uint8 frame of the given size (skimage's astronaut, resized)."""
    import cv2
    from skimage import data

    image = data.astronaut()
    interpolation = cv2.INTER_AREA if rows < image.shape[0] else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(image, (cols, rows), interpolation=interpolation))


#: One worker process per library, each peer in its library's process, as its users run it.
#: skfsrcnn's process also times OpenCV's models, to show what sharing a process does to them.
PROCESSES = {
    "skfsrcnn": (
        "skfsrcnn FSRCNN",
        "skfsrcnn FSRCNN-s",
        "skfsrcnn FSRCNN ensemble",
        "skfsrcnn FSRCNN-s ensemble",
        "skfsrcnn FSRCNN network",
        "skfsrcnn FSRCNN-s network",
        "OpenCV FSRCNN, in skfsrcnn's process",
        "OpenCV FSRCNN-small, in skfsrcnn's process",
    ),
    "opencv": ("OpenCV FSRCNN", "OpenCV FSRCNN-small", "bicubic OpenCV"),
    "skimage": ("bicubic skimage",),
}
PEER_NAMES = [name for names in PROCESSES.values() for name in names]


def peers(scale, peers_dir, names, threads=None):
    """``name -> setup(rgb) -> run()`` for the peers ``names`` at ``scale``.

    Only the libraries those peers need are imported, so that OpenCV's and
    skimage's processes never load torch, and models are loaded by
    ``setup``, so only for the peers set up.
    """
    factories = {}
    if any(name.startswith("skfsrcnn") for name in names):
        factories.update(_skfsrcnn_peers(scale, threads))
    if any("OpenCV" in name for name in names):
        factories.update(_opencv_peers(scale, peers_dir, threads))
    if "bicubic skimage" in names:
        from skimage.transform import rescale

        factories["bicubic skimage"] = lambda rgb: lambda: rescale(rgb, scale, order=3, channel_axis=-1)
    return {name: factories[name] for name in names}


def _skfsrcnn_peers(scale, threads):
    import torch

    from skfsrcnn import upscale
    from skfsrcnn._colour import rgb_to_y
    from skfsrcnn.models import FastFSRCNN
    from skfsrcnn.pretrained import load_model

    if threads:
        torch.set_num_threads(threads)

    def ours(model, ensemble=False):
        return lambda rgb: lambda: upscale(rgb, scale, channel_axis=-1, model=model, ensemble=ensemble)

    def network(model):
        def setup(rgb):
            fast = FastFSRCNN(load_model(f"{model}-x{scale}", scale=scale, device="cpu")).eval()
            luma = rgb_to_y(rgb.astype(np.float32) / np.float32(255))
            x = torch.from_numpy(np.ascontiguousarray(luma))[None, None]

            def run():
                with torch.inference_mode():
                    return fast(x)

            return run

        return setup

    return {
        "skfsrcnn FSRCNN": ours("fsrcnn"),
        "skfsrcnn FSRCNN-s": ours("fsrcnn-s"),
        "skfsrcnn FSRCNN ensemble": ours("fsrcnn", ensemble=True),
        "skfsrcnn FSRCNN-s ensemble": ours("fsrcnn-s", ensemble=True),
        "skfsrcnn FSRCNN network": network("fsrcnn"),
        "skfsrcnn FSRCNN-s network": network("fsrcnn-s"),
    }


def _opencv_peers(scale, peers_dir, threads):
    import cv2

    if threads:
        cv2.setNumThreads(threads)

    def opencv(model):
        def setup(rgb):
            sr = cv2.dnn_superres.DnnSuperResImpl_create()
            sr.readModel(str(peers_dir / OPENCV_FILES[model].format(scale=scale)))
            sr.setModel("fsrcnn", scale)
            bgr = np.ascontiguousarray(rgb[..., ::-1])
            return lambda: sr.upsample(bgr)

        return setup

    def opencv_bicubic(rgb):
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        return lambda: cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)

    return {
        "OpenCV FSRCNN": opencv("fsrcnn"),
        "OpenCV FSRCNN-small": opencv("fsrcnn-s"),
        "OpenCV FSRCNN, in skfsrcnn's process": opencv("fsrcnn"),
        "OpenCV FSRCNN-small, in skfsrcnn's process": opencv("fsrcnn-s"),
        "bicubic OpenCV": opencv_bicubic,
    }


def time_calls(run, calls, warm):
    """Seconds of each of ``calls`` timed calls of ``run``, after one untimed call if ``warm``."""
    if warm:
        run()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def _serve(connection, names, peers_dir, threads):
    """A worker process: sets up its peers on a frame and times them on request."""
    runs = {}
    while (message := connection.recv()) is not None:
        command, payload = message
        try:
            if command == "setup":
                scale, rgb, wanted = payload
                runs = {}
                gc.collect()
                wanted = [name for name in names if name in wanted]
                runs = {name: setup(rgb) for name, setup in peers(scale, peers_dir, wanted, threads).items()}
                connection.send(("ok", None))
            else:  # "time"
                name, calls, warm = payload
                faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                times = time_calls(runs[name], calls, warm)
                faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
                connection.send(("ok", (times, faults)))
        except Exception as error:  # reported by the benchmark's process
            connection.send(("error", f"{type(error).__name__}: {error}"))


class PeerProcesses:
    """The worker processes of :data:`PROCESSES`, started fresh (spawned, nothing inherited).

    ``faults[name]`` collects the minor page faults per timed call of each
    peer since the last :meth:`setup`.
    """

    def __init__(self, peers_dir, threads):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.connections, self.processes, self.owner, self.faults = {}, [], {}, {}
        for library, names in PROCESSES.items():
            mine, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(theirs, names, peers_dir, threads), daemon=True)
            process.start()
            self.connections[library] = mine
            self.processes.append(process)
            self.owner.update(dict.fromkeys(names, library))

    def _ask(self, library, command, payload):
        connection = self.connections[library]
        connection.send((command, payload))
        status, value = connection.recv()
        if status == "error":
            raise RuntimeError(f"{library} process: {value}")
        return value

    def setup(self, scale, rgb, names):
        """Build ``names`` (and drop every other peer) on frame ``rgb`` at ``scale``."""
        self.faults = {}
        for library in PROCESSES:
            self._ask(library, "setup", (scale, rgb, list(names)))

    def time(self, name, calls, warm):
        """Seconds of ``calls`` timed calls of peer ``name``, after one untimed call if ``warm``."""
        times, faults = self._ask(self.owner[name], "time", (name, calls, warm))
        if calls:
            self.faults.setdefault(name, []).append(faults / calls)
        return times

    def close(self):
        for connection in self.connections.values():
            connection.send(None)
        for process in self.processes:
            process.join(timeout=30)


def interleaved(time_peer, names, repeats, calls=1, warm=True, slow=()):
    """Median seconds per call of each peer, over ``repeats`` interleaved rounds.

    ``time_peer(name, calls, warm)`` returns the seconds of ``calls`` timed
    calls. With ``warm``, every peer is called once before the rounds (model
    loading, oneDNN primitives) and once untimed at the start of its turn in
    each round (its data and code back in the caches after the previous
    peer). Peers named in ``slow`` get one timed call per round and no
    untimed one.
    """
    times = {name: [] for name in names}
    if warm:
        for name in names:
            time_peer(name, 0, True)
    for _ in range(repeats):
        for name in names:
            untimed_call = warm and name not in slow
            times[name] += time_peer(name, 1 if name in slow else calls, untimed_call)
    return {name: statistics.median(values) for name, values in times.items()}


def fps_section(report, args, workers):
    report("## Frames per second to 1920x1080 (median of interleaved rounds)")
    report()
    results, faults = {}, {}
    for scale, (rows, cols) in FPS_SIZES.items():
        workers.setup(scale, frame(rows, cols), PEER_NAMES)
        slow = {"bicubic skimage", "skfsrcnn FSRCNN ensemble", "skfsrcnn FSRCNN-s ensemble"}
        seconds = interleaved(workers.time, PEER_NAMES, args.repeats, calls=2, slow=slow)
        results[scale] = {name: 1 / s for name, s in seconds.items()}
        faults[scale] = {name: statistics.median(values) for name, values in workers.faults.items()}
    header = f"{'peer':44s}" + "".join(f"{f'x{s} {c}x{r}':>16s}" for s, (r, c) in FPS_SIZES.items())
    report(header)
    for name in PEER_NAMES:
        report(f"{name:44s}" + "".join(f"{results[s][name]:12.2f} fps" for s in FPS_SIZES))
    report()
    report("Minor page faults per call (memory the kernel maps afresh, a few microseconds each):")
    report()
    for name in PEER_NAMES:
        report(f"{name:44s}" + "".join(f"{faults[s][name]:16.0f}" for s in FPS_SIZES))
    report()
    return results


def mps_section(report, args, workers):
    sides = [s for s in MPS_SIDES if not args.quick or s <= 1024]
    report(f"## Output megapixels per second, square RGB uint8 input, x{MPS_SCALE}")
    report()
    table = {}
    for side in sides:
        names = [name for name in PEER_NAMES if "process" not in name and "ensemble" not in name]
        if side > 1024:  # about 0.7 MP/s: minutes per call
            names.remove("bicubic skimage")
        if side > 2048:  # no tiling: about 1.1 KiB per input pixel, 18 GiB at 4096^2
            names = [name for name in names if not name.startswith("OpenCV")]
        workers.setup(MPS_SCALE, frame(side, side), names)
        big = side >= 2048  # seconds per call: one timed call, no warm-up
        repeats = 1 if big else args.repeats if side <= 512 else max(2, args.repeats // 2)
        seconds = interleaved(workers.time, names, repeats, warm=not big, slow={"bicubic skimage"})
        out_mp = (side * MPS_SCALE) ** 2 / 1e6
        table[side] = {name: out_mp / s for name, s in seconds.items()}
    workers.setup(MPS_SCALE, frame(8, 8), [])  # let the workers free the big frames
    names = list(table[sides[0]])
    report(f"{'peer':28s}" + "".join(f"{f'{s}^2':>10s}" for s in sides))
    for name in names:
        cells = (f"{table[s][name]:10.1f}" if name in table[s] else f"{'-':>10s}" for s in sides)
        report(f"{name:28s}" + "".join(cells))
    report(
        f"(repeats: {args.repeats} rounds up to 512^2, fewer at 1024^2, one call from 2048^2; skimage "
        "only up to 1024^2 (0.7 MP/s); OpenCV dnn_superres only up to 2048^2: it does not tile and "
        "needs about 1.1 KiB per input pixel, 18 GiB at 4096^2)"
    )
    report()
    return table


MEMORY_PEERS = {  # name -> code defining run() on ``image``, executed in a fresh process
    "skfsrcnn FSRCNN": "from skfsrcnn import upscale\nrun = lambda: upscale(image, 2, model='fsrcnn')",
    "skfsrcnn FSRCNN-s": "from skfsrcnn import upscale\nrun = lambda: upscale(image, 2, model='fsrcnn-s')",
    "bicubic skimage": "from skimage.transform import rescale\nrun = lambda: rescale(image, 2, order=3)",
    "bicubic OpenCV": "import cv2\nrun = lambda: cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)",
}


def _peak_rss_kib():
    """This process's peak resident memory in KiB (``VmHWM`` of /proc/self/status)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status: the memory section needs Linux")


def memory_child(name):
    """Run in a fresh process: one upscale of the big image; print baseline and peak RSS (KiB).

    The peak is the process's ``VmHWM``: Linux carries ``ru_maxrss`` over
    ``exec`` from the forking parent, so a big parent would inflate it.
    """
    import torch  # noqa: F401  (imported first by every peer, so the baseline is comparable)

    namespace = {}
    exec(MEMORY_PEERS[name], namespace)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (MEMORY_SIDE, MEMORY_SIDE), dtype=np.uint8)
    namespace["image"] = image
    if name.startswith("skfsrcnn"):  # load the weights before the baseline
        namespace["upscale"](image[:64, :64], 2, model=name.split()[1].lower())
    baseline = _peak_rss_kib()
    start = time.perf_counter()
    out = namespace["run"]()
    seconds = time.perf_counter() - start
    peak = _peak_rss_kib()
    print(f"{baseline} {peak} {seconds} {out.nbytes}")


def gpu_section(report, args):
    """On a CUDA GPU: frames per second to 3840x2160 at x3, float32 and float16, network and upscale."""
    import torch

    from skfsrcnn import upscale
    from skfsrcnn.models import FastFSRCNN
    from skfsrcnn.pretrained import load_model

    if not torch.cuda.is_available():
        report("(no CUDA GPU here: the 4K section runs where torch.cuda.is_available())")
        report()
        return
    report(f"## CUDA: frames per second to 3840x2160 at x3 ({torch.cuda.get_device_name()})")
    report()
    rgb = frame(720, 1280)
    runs = {}
    for model in ("fsrcnn", "fsrcnn-s"):
        name = "FSRCNN" if model == "fsrcnn" else "FSRCNN-s"
        runs[f"skfsrcnn {name} upscale"] = lambda model=model: upscale(
            rgb, 3, channel_axis=-1, model=model, device="cuda"
        )
        for half in (False, True):
            fast = FastFSRCNN(load_model(f"{model}-x3", scale=3, device="cuda"), half=half).eval()
            x = torch.rand(1, 1, 720, 1280, device="cuda")

            def network(fast=fast, x=x):
                with torch.inference_mode():
                    fast(x)
                torch.cuda.synchronize()

            runs[f"skfsrcnn {name} network {'float16' if half else 'float32'}"] = network

    def time_run(name, calls, warm):
        return time_calls(runs[name], calls, warm)

    seconds = interleaved(time_run, list(runs), args.repeats, calls=5)
    for name, value in seconds.items():
        report(f"{name:42s}{1 / value:9.1f} fps")
    report()


def memory_section(report, args):
    report(
        f"## Peak memory, {MEMORY_SIDE}x{MEMORY_SIDE} greyscale uint8, x2, default tiling (fresh subprocess per peer)"
    )
    report()
    report(f"{'peer':28s}{'peak RSS':>12s}{'baseline':>12s}{'peak - base':>13s}{'output':>10s}{'time':>9s}")
    for name in MEMORY_PEERS:
        env = dict(os.environ)
        if args.threads:
            env["OMP_NUM_THREADS"] = str(args.threads)
        done = subprocess.run(
            [sys.executable, __file__, "--memory-child", name],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            report(f"{name:28s} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        baseline, peak, seconds, nbytes = done.stdout.split()[-4:]
        baseline, peak = int(baseline) / 2**20, int(peak) / 2**20  # KiB
        report(
            f"{name:28s}{peak:9.2f} GiB{baseline:9.2f} GiB{peak - baseline:10.2f} GiB"
            f"{int(nbytes) / 2**30:7.2f} GiB{float(seconds):8.1f} s"
        )
    report(
        "OpenCV dnn_superres is not run here: it does not tile; its first layer's 56 feature maps of "
        f"{MEMORY_SIDE}^2 float32 alone take {56 * MEMORY_SIDE**2 * 4 / 2**30:.0f} GiB."
    )
    report()


def ratios_section(report, fps):
    report("## Ratios to OpenCV dnn_superres (frames per second, same frames, same run)")
    report()
    pairs = [
        ("skfsrcnn FSRCNN", "OpenCV FSRCNN"),
        ("skfsrcnn FSRCNN network", "OpenCV FSRCNN"),
        ("skfsrcnn FSRCNN-s", "OpenCV FSRCNN-small"),
        ("skfsrcnn FSRCNN-s network", "OpenCV FSRCNN-small"),
    ]
    report(f"{'ratio':78s}" + "".join(f"{f'x{s}':>8s}" for s in FPS_SIZES))
    for suffix in ("", ", in skfsrcnn's process"):
        for ours, theirs in pairs:
            label = f"{ours} / {theirs}{suffix}"
            report(f"{label:78s}" + "".join(f"{fps[s][ours] / fps[s][theirs + suffix]:7.2f}x" for s in FPS_SIZES))
    report()
    report("Issue 6 targets, x3 to 1080p (OpenCV in its own process, as its users run it):")
    checks = [
        ("FSRCNN >= 2x OpenCV FSRCNN (upscale)", fps[3]["skfsrcnn FSRCNN"] / fps[3]["OpenCV FSRCNN"], 2),
        ("FSRCNN >= 2x OpenCV FSRCNN (network)", fps[3]["skfsrcnn FSRCNN network"] / fps[3]["OpenCV FSRCNN"], 2),
        (
            "FSRCNN-s >= 2x OpenCV FSRCNN-small (upscale)",
            fps[3]["skfsrcnn FSRCNN-s"] / fps[3]["OpenCV FSRCNN-small"],
            2,
        ),
        (
            "FSRCNN-s >= 2x OpenCV FSRCNN-small (network)",
            fps[3]["skfsrcnn FSRCNN-s network"] / fps[3]["OpenCV FSRCNN-small"],
            2,
        ),
        ("FSRCNN-s >= 24 fps (upscale)", fps[3]["skfsrcnn FSRCNN-s"], 24),
        ("FSRCNN-s >= 24 fps (network)", fps[3]["skfsrcnn FSRCNN-s network"], 24),
    ]
    for label, value, goal in checks:
        report(f"  {label:50s} {value:7.2f}  {'met' if value >= goal else 'NOT met'}")
    report()
    report("Issue 55, the self-ensemble's cost (single-pass fps / ensemble fps; 8 network passes):")
    for model in ("FSRCNN", "FSRCNN-s"):
        single, ensemble = f"skfsrcnn {model}", f"skfsrcnn {model} ensemble"
        label = f"{single} / {ensemble}"
        report(f"  {label:76s}" + "".join(f"{fps[s][single] / fps[s][ensemble]:7.2f}x" for s in FPS_SIZES))


def load_section(report, args):
    """Issue 58: slowdown beside busy processes, before and after, vs OpenCV (``bench_load.py``'s report)."""
    import bench_load

    report(f"## Under load: 640x360 RGB x3 beside busy processes ({args.load_repeats} rounds of bench_load.py)")
    report()
    for line in bench_load.run(args.peers, args.load_repeats).splitlines():
        report(line)
    report()


def environment(report, args):
    import cv2
    import skimage
    import torch

    import skfsrcnn

    cpu = cpu_name()
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    report("# skfsrcnn inference benchmark")
    report()
    report(
        f"date {time.strftime('%Y-%m-%d %H:%M')}, {cpu}, {os.cpu_count()} logical CPUs, "
        f"load average at start {load[0]:.2f}"
    )
    report(
        f"python {platform.python_version()}, skfsrcnn {skfsrcnn.__version__}, torch {torch.__version__} "
        f"({args.threads or torch.get_num_threads()} threads), opencv {cv2.__version__} "
        f"({args.threads or cv2.getNumThreads()} threads), "
        f"skimage {skimage.__version__}, numpy {np.__version__}"
    )
    report(f"command: python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:])}")
    report(f"repeats: {args.repeats} interleaved rounds (fps: 2 timed calls per round)")
    report()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="megapixel sweep up to 1024^2 only")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds per measurement")
    parser.add_argument("--threads", type=int, default=None, help="torch and OpenCV threads (default: all)")
    parser.add_argument("--output", type=Path, default=None, help="also write the report to this file")
    parser.add_argument("--peers", type=Path, default=PEERS, help="folder with OpenCV's FSRCNN .pb files")
    parser.add_argument("--skip-memory", action="store_true", help="leave out the 8000^2 memory section")
    parser.add_argument("--skip-load", action="store_true", help="leave out the section under load (bench_load.py)")
    parser.add_argument("--load-repeats", type=int, default=9, help="interleaved rounds under load (default 9)")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(args.memory_child)

    files = {f.format(scale=s) for f in OPENCV_FILES.values() for s in FPS_SIZES}
    missing = sorted(f for f in files if not (args.peers / f).is_file())
    if missing:
        parser.error(f"OpenCV models not found in {args.peers}: {', '.join(missing)}; pass --peers DIR")
    report = Report()
    environment(report, args)
    workers = PeerProcesses(args.peers, args.threads)
    try:
        fps = fps_section(report, args, workers)
        mps_section(report, args, workers)
    finally:
        workers.close()
    if not args.skip_memory:
        memory_section(report, args)
    gpu_section(report, args)
    ratios_section(report, fps)
    if not args.skip_load:
        report()
        load_section(report, args)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    report()
    report(f"load average at end {load:.2f}")
    if args.output:
        report.write(args.output)


if __name__ == "__main__":
    main()
