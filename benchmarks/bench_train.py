"""Training throughput: LR pixels per second of one training step, ours vs a naive loop.

Both loops train the same FSRCNN on the same T91 patches with Adam and MSE:

* naive: the reference module (strided ``ConvTranspose2d``), NCHW tensors,
  batches of 64 LR patches of 16x16 (the plain recipe of the issue);
* skfsrcnn: the trainer's step, the exact sub-pixel form (``FastFSRCNN``),
  channels-last tensors, batches of 32 patches of 32x32 (configs/*.yaml).

Usage: python benchmarks/bench_train.py [--model fsrcnn] [--scale 3] [--steps 30] [--repeats 5]
"""

import argparse
import statistics
import time
from pathlib import Path

import torch
from torch.nn import functional as F

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fsrcnn", choices=("fsrcnn", "fsrcnn-s"))
    parser.add_argument("--scale", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    images = augment(load_folder(T91)[:20])
    naive_sampler = PatchSampler(images, args.scale, 16, 64, seed=0)
    fast_sampler = PatchSampler(images, args.scale, 32, 32, seed=0)
    naive_model = FSRCNN.from_preset(args.model, args.scale)
    fast_model = FastFSRCNN(FSRCNN.from_preset(args.model, args.scale))
    naive, fast = [], []
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        naive.append(throughput(naive_model, naive_model.parameters(), naive_sampler, args.steps, False))
        fast.append(throughput(fast_model, fast_model.parameters(), fast_sampler, args.steps, True))
    naive_px, fast_px = statistics.median(naive), statistics.median(fast)
    print(f"training throughput, {args.model} x{args.scale}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, median of {args.repeats} x {args.steps} steps")
    print(f"naive loop (ConvTranspose2d, NCHW, 64x16x16): {naive_px / 1e3:8.0f} k LR px/s")
    print(f"skfsrcnn   (sub-pixel, channels-last, 32x32x32): {fast_px / 1e3:8.0f} k LR px/s")
    print(f"ratio skfsrcnn / naive: {fast_px / naive_px:.2f}x")


if __name__ == "__main__":
    main()
