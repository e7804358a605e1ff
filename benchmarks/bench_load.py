"""Inference under load: how much slower ``upscale`` gets beside other CPU-bound processes, vs OpenCV.

A 640x360 RGB frame is upscaled x3 (to 1920x1080) alone, then with one and
with two busy-loop processes (``while True: pass``) competing for the CPU,
by every peer in the same run. Each peer runs in a worker process of its
own, started once (as a user's long-running program), and the peers are
interleaved: every round runs each peer once untimed and once timed, and
the figures are medians over the rounds. What matters is each peer's
slowdown (time under load / time alone) and ours relative to OpenCV's.

Peers:

* ``skfsrcnn FSRCNN``, ``skfsrcnn FSRCNN-s``: ``upscale(rgb, 3,
  channel_axis=-1, model=...)`` as shipped: the image is split into two
  sections per usable core, each computed on a one-thread worker of its
  own, and idle OpenMP threads sleep (``OMP_WAIT_POLICY=PASSIVE``;
  :mod:`skfsrcnn._threads`);
* ``... before``: the same with torch's defaults, as before issue 58
  (torch imported first, so its OpenMP threads spin while they wait, and
  each network call on all of torch's threads, one per core of the
  machine whatever the process's affinity, each layer split evenly);
* ``OpenCV FSRCNN``, ``OpenCV FSRCNN-small``: ``cv2.dnn_superres``
  ``upsample(bgr)`` with the models in ``--peers``.

The machine's own background load is not controlled: run it on a quiet
machine (``uptime``), and compare ratios, not seconds.

Usage: python benchmarks/bench_load.py [--repeats 5] [--output FILE] [--peers DIR]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT.parent / "shared" / "peers" / "opencv-fsrcnn"
SCALE, ROWS, COLS = 3, 360, 640
LOADS = (0, 1, 2)
#: name -> (library, model, as shipped (else torch's defaults, as before issue 58))
VARIANTS = {
    "skfsrcnn FSRCNN": ("skfsrcnn", "fsrcnn", True),
    "skfsrcnn FSRCNN, before": ("skfsrcnn", "fsrcnn", False),
    "skfsrcnn FSRCNN-s": ("skfsrcnn", "fsrcnn-s", True),
    "skfsrcnn FSRCNN-s, before": ("skfsrcnn", "fsrcnn-s", False),
    "OpenCV FSRCNN": ("opencv", "FSRCNN", None),
    "OpenCV FSRCNN-small": ("opencv", "FSRCNN-small", None),
}
#: Each of ours is compared with this OpenCV peer.
OPENCV_OF = {"fsrcnn": "OpenCV FSRCNN", "fsrcnn-s": "OpenCV FSRCNN-small"}


def frame():
    """A natural RGB uint8 640x360 frame (skimage's astronaut, resized)."""
    import cv2
    from skimage import data

    return np.ascontiguousarray(cv2.resize(data.astronaut(), (COLS, ROWS), interpolation=cv2.INTER_AREA))


def _skfsrcnn_call(model, shipped):
    if not shipped:
        import torch  # noqa: F401  (OpenMP loads, spinning, before skfsrcnn can ask it to sleep)
    import skfsrcnn._upscale
    from skfsrcnn import upscale

    if not shipped:
        skfsrcnn._upscale.run_on_cores = lambda network, x: network(x)
    rgb = frame()
    return lambda: upscale(rgb, SCALE, channel_axis=-1, model=model)


def _opencv_call(model, peers_dir):
    import cv2

    sr = cv2.dnn_superres.DnnSuperResImpl_create()
    sr.readModel(str(Path(peers_dir) / f"{model}_x{SCALE}.pb"))
    sr.setModel(model.split("-")[0].lower(), SCALE)
    bgr = np.ascontiguousarray(frame()[..., ::-1])
    return lambda: sr.upsample(bgr)


def worker(name, peers_dir):
    """Serve timings: each line read from stdin runs the call once and writes its seconds."""
    library, model, shipped = VARIANTS[name]
    call = _skfsrcnn_call(model, shipped) if library == "skfsrcnn" else _opencv_call(model, peers_dir)
    call()
    print("ready", flush=True)
    for _ in sys.stdin:
        start = time.perf_counter()
        call()
        print(time.perf_counter() - start, flush=True)


class Worker:
    def __init__(self, name, peers_dir):
        env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
        command = [sys.executable, __file__, "--worker", name, "--peers", str(peers_dir)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout.readline().strip() == "ready", name

    def time_one(self):
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def _busy(count):
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def measure(workers, repeats):
    """``{load: {name: median seconds}}``, the peers interleaved in every round."""
    results = {}
    for load in LOADS:
        busy = _busy(load)
        time.sleep(0.5)
        try:
            times = {name: [] for name in workers}
            for _ in range(repeats):
                for name, peer in workers.items():
                    peer.time_one()  # untimed: back into the caches after the previous peer
                    times[name].append(peer.time_one())
        finally:
            for process in busy:
                process.kill()
                process.wait()
        results[load] = {name: statistics.median(values) for name, values in times.items()}
    return results


def report(results, load_before):
    lines = [
        f"640x360 RGB -> 1920x1080 (x{SCALE}); median seconds per frame alone and beside N busy-loop "
        f"processes, on {os.cpu_count()} cores (load average before the run: {load_before:.2f})",
        "",
        f"{'peer':36s}"
        + "".join(f"{f'{n} busy':>10s}" for n in LOADS)
        + "".join(f"{f'x{n} busy':>10s}" for n in LOADS[1:]),
    ]
    for name in VARIANTS:
        alone = results[0][name]
        row = f"{name:36s}" + "".join(f"{results[n][name]:10.3f}" for n in LOADS)
        lines.append(row + "".join(f"{results[n][name] / alone:9.2f}x" for n in LOADS[1:]))
    ours = [(name, model) for name, (library, model, _) in VARIANTS.items() if library == "skfsrcnn"]
    lines += ["", "slowdown of ours / slowdown of OpenCV's same network (1.00: degrades as OpenCV does)"]
    for name, model in ours:
        peer = OPENCV_OF[model]
        ratios = [(results[n][name] / results[0][name]) / (results[n][peer] / results[0][peer]) for n in LOADS[1:]]
        lines.append(f"{name:36s}" + "".join(f"{r:10.2f}" for r in ratios) + f"   (vs {peer})")
    lines += ["", "time of ours / time of OpenCV's same network, at each load (below 1: faster)"]
    for name, model in ours:
        peer = OPENCV_OF[model]
        lines.append(f"{name:36s}" + "".join(f"{results[n][name] / results[n][peer]:10.2f}" for n in LOADS))
    return "\n".join(lines)


def run(peers_dir, repeats):
    """The report of every peer at every load, each peer in a worker process of its own."""
    load_before = os.getloadavg()[0]
    workers = {name: Worker(name, peers_dir) for name in VARIANTS}
    try:
        return report(measure(workers, repeats), load_before)
    finally:
        for peer in workers.values():
            peer.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per load (default 5)")
    parser.add_argument("--output", help="also write the report to this file")
    parser.add_argument("--peers", default=str(PEERS), help="folder of OpenCV's FSRCNN*.pb models")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.peers)
    text = run(args.peers, args.repeats)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
