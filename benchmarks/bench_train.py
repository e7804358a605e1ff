"""Training throughput: LR pixels per second of one training step, ours vs a naive loop.

The loops train the same FSRCNN on the same T91 patches with Adam and MSE:

* naive: the reference module (strided ``ConvTranspose2d``), NCHW tensors,
  batches of 64 LR patches of 16x16 (the plain recipe of the issue);
* skfsrcnn: the trainer's step, the exact sub-pixel form (``FastFSRCNN``),
  channels-last tensors, batches of 32 patches of 32x32 and of 40x40 (the
  patch sizes of configs/*.yaml), eager and, as with ``compile: true``,
  through ``torch.compile`` (its compile time, paid once per run, is left
  out and printed apart).

Usage: python benchmarks/bench_train.py [--model fsrcnn fsrcnn-s] [--patches 32 40] [--scale 3]
           [--steps 30] [--repeats 5] [--output docs/results/bench_train.txt]
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


def throughput(step_of, sampler, steps, channels_last):
    """LR px/s of ``steps`` calls of ``step_of(lr, hr)`` after 3 warm-up calls."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format

    def step():
        lr, hr = (torch.from_numpy(a) for a in sampler.sample())
        step_of(lr.contiguous(memory_format=fmt), hr)
        return lr.numel()

    for _ in range(3):  # warm-up
        step()
    start, pixels = time.perf_counter(), 0
    for _ in range(steps):
        pixels += step()
    return pixels / (time.perf_counter() - start)


def adam_step(network, compiled=False):
    """``step(lr, hr)``: one Adam step on the MSE of ``network`` (its loss compiled if asked)."""
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-4)

    def loss_of(lr, hr):
        return F.mse_loss(network(lr), hr)

    loss_fn = torch.compile(loss_of) if compiled else loss_of

    def step(lr, hr):
        loss = loss_fn(lr, hr)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def compare(model, scale, images, steps, repeats, patch):
    """Median LR px/s of the naive loop and of ours (eager, compiled), measured interleaved."""
    naive_sampler = PatchSampler(images, scale, 16, 64, seed=0)
    fast_sampler = PatchSampler(images, scale, patch, 32, seed=0)
    naive = adam_step(FSRCNN.from_preset(model, scale))
    eager = adam_step(FastFSRCNN(FSRCNN.from_preset(model, scale)))
    compiled = adam_step(FastFSRCNN(FSRCNN.from_preset(model, scale)), compiled=True)
    start = time.perf_counter()
    throughput(compiled, fast_sampler, 1, True)
    compile_seconds = time.perf_counter() - start
    rates = {"naive": [], "eager": [], "compiled": []}
    for _ in range(repeats):  # interleaved, so all see the same machine load
        rates["naive"].append(throughput(naive, naive_sampler, steps, False))
        rates["eager"].append(throughput(eager, fast_sampler, steps, True))
        rates["compiled"].append(throughput(compiled, fast_sampler, steps, True))
    return {key: statistics.median(values) for key, values in rates.items()}, compile_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="+", default=["fsrcnn", "fsrcnn-s"], choices=("fsrcnn", "fsrcnn-s"))
    parser.add_argument("--patches", nargs="+", type=int, default=[32, 40], help="our LR patch sides")
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
    report(f"{'model':10s}{'ours':>10s}{'naive':>14s}{'skfsrcnn eager':>18s}{'skfsrcnn compiled':>20s}"
           f"{'eager/naive':>14s}{'compiled/naive':>16s}{'compile time':>15s}")
    for model in args.model:
        for patch in args.patches:
            rates, compile_seconds = compare(model, args.scale, images, args.steps, args.repeats, patch)
            naive, eager, compiled = (rates[key] for key in ("naive", "eager", "compiled"))
            report(f"{model:10s}{f'32x{patch}x{patch}':>10s}{naive / 1e3:>8.0f} k px/s{eager / 1e3:>12.0f} k px/s"
                   f"{compiled / 1e3:>14.0f} k px/s{eager / naive:>13.2f}x{compiled / naive:>15.2f}x"
                   f"{compile_seconds:>13.1f} s")
    report()
    report("naive: ConvTranspose2d, NCHW, 64 patches of 16x16 (the issue's plain recipe); skfsrcnn: compact "
           "sub-pixel form, channels-last, 32 patches of the size shown, eager or torch.compile "
           "(configs' compile: true)")
    if args.output:
        report.write(args.output)


if __name__ == "__main__":
    main()
