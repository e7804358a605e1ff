"""Training throughput: LR pixels per second of one training step, ours vs a naive loop.

Both loops train the same FSRCNN on the same T91 patches with Adam and MSE:

* naive: the reference module (strided ``ConvTranspose2d``), NCHW tensors,
  batches of 64 LR patches of 16x16 (the plain recipe of the issue);
* skfsrcnn: the trainer's step, the exact sub-pixel form (``FastFSRCNN``),
  channels-last tensors, batches of 32 patches of 32x32 (configs/*.yaml).

Usage: python benchmarks/bench_train.py [--model fsrcnn fsrcnn-s] [--scale 3] [--steps 30]
           [--repeats 5] [--output docs/results/bench_train.txt]
"""

import argparse
import statistics
import time
from pathlib import Path

import torch
from torch.nn import functional as F

from _report import Report, cpu_name
from skfsrcnn.datasets import PatchSampler, augment, load_folder
from skfsrcnn.models import FSRCNN, FastFSRCNN

T91 = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "T91"


def throughput(network, parameters, sampler, steps, channels_last):
    optimizer = torch.optim.Adam(parameters, lr=1e-4)
    fmt = torch.channels_last if channels_last else torch.contiguous_format

    def step():
        lr, hr = (torch.from_numpy(a) for a in sampler.sample())
        loss = F.mse_loss(network(lr.contiguous(memory_format=fmt)), hr)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return lr.numel()

    for _ in range(3):  # warm-up
        step()
    start, pixels = time.perf_counter(), 0
    for _ in range(steps):
        pixels += step()
    return pixels / (time.perf_counter() - start)


def compare(model, scale, images, steps, repeats):
    """Median LR px/s of the naive loop and of ours, measured interleaved."""
    naive_sampler = PatchSampler(images, scale, 16, 64, seed=0)
    fast_sampler = PatchSampler(images, scale, 32, 32, seed=0)
    naive_model = FSRCNN.from_preset(model, scale)
    fast_model = FastFSRCNN(FSRCNN.from_preset(model, scale))
    naive, fast = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine load
        naive.append(throughput(naive_model, naive_model.parameters(), naive_sampler, steps, False))
        fast.append(throughput(fast_model, fast_model.parameters(), fast_sampler, steps, True))
    return statistics.median(naive), statistics.median(fast)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="+", default=["fsrcnn", "fsrcnn-s"], choices=("fsrcnn", "fsrcnn-s"))
    parser.add_argument("--scale", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=None, help="also write the report to this file")
    args = parser.parse_args()
    images = augment(load_folder(T91)[:20])
    report = Report()
    report(f"Training throughput, x{args.scale}: LR pixels per second of one Adam step "
           f"(median of {args.repeats} interleaved rounds of {args.steps} steps)")
    report(f"{cpu_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    report()
    report(f"{'model':10s}{'naive (ConvTranspose2d, NCHW, 64x16x16)':>42s}"
           f"{'skfsrcnn (sub-pixel, channels-last, 32x32x32)':>49s}{'ratio':>8s}")
    for model in args.model:
        naive, fast = compare(model, args.scale, images, args.steps, args.repeats)
        report(f"{model:10s}{naive / 1e3:>36.0f} k px/s{fast / 1e3:>43.0f} k px/s{fast / naive:>7.2f}x")
    if args.output:
        report.write(args.output)


if __name__ == "__main__":
    main()
