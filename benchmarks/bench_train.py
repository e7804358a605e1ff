"""Training throughput: LR pixels per second of one training step, ours vs a naive loop.

The loops train the same FSRCNN on the same T91 patches with Adam and MSE:

* naive: the reference module (strided ``ConvTranspose2d``), NCHW tensors,
  batches of 64 LR patches of 16x16 (the plain recipe of the issue);
* skfsrcnn: the trainer's step, the exact sub-pixel form (``FastFSRCNN``),
  channels-last tensors, batches of 32 patches of 32x32 and of 48x48 (the
  patch sizes of recipes/*.yaml), eager and, as with ``compile: true``,
  through ``torch.compile`` (its compile time, paid once per run, is left
  out and printed apart), in float32 and, as with ``precision: bfloat16``,
  in bfloat16 mixed precision (where the CPU has AVX-512 BF16 or AMX).

Usage: python benchmarks/bench_train.py [--model fsrcnn fsrcnn-s] [--patches 32 48] [--scale 3]
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
from skfsrcnn.train.trainer import bfloat16_is_native

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


def adam_step(network, compiled=False, bfloat16=False):
    """``step(lr, hr)``: one Adam step on the MSE of ``network`` (compiled, in bfloat16 if asked)."""
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-4)

    def loss_of(lr, hr):
        with torch.autocast("cpu", torch.bfloat16, enabled=bfloat16):
            out = network(lr)
        return F.mse_loss(out.float(), hr)

    loss_fn = torch.compile(loss_of) if compiled else loss_of

    def step(lr, hr):
        loss = loss_fn(lr, hr)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


#: The trainer's variants: (compiled, bfloat16) for each label.
VARIANTS = {
    "float32 eager": (False, False),
    "float32 compiled": (True, False),
    "bfloat16 eager": (False, True),
    "bfloat16 compiled": (True, True),
}


def compare(model, scale, images, steps, repeats, patch, variants):
    """Median LR px/s of the naive loop and of our ``variants``, measured interleaved.

    Also returns the seconds each compiled variant took to compile.
    """
    naive_sampler = PatchSampler(images, scale, 16, 64, seed=0)
    fast_sampler = PatchSampler(images, scale, patch, 32, seed=0)
    steps_of = {"naive": (adam_step(FSRCNN.from_preset(model, scale)), naive_sampler, False)}
    compile_seconds = {}
    for label in variants:
        compiled, bfloat16 = VARIANTS[label]
        step = adam_step(FastFSRCNN(FSRCNN.from_preset(model, scale)), compiled, bfloat16)
        start = time.perf_counter()
        throughput(step, fast_sampler, 1, True)
        if compiled:
            compile_seconds[label] = time.perf_counter() - start
        steps_of[label] = (step, fast_sampler, True)
    rates = {label: [] for label in steps_of}
    for _ in range(repeats):  # interleaved, so all see the same machine load
        for label, (step, sampler, channels_last) in steps_of.items():
            rates[label].append(throughput(step, sampler, steps, channels_last))
    return {label: statistics.median(values) for label, values in rates.items()}, compile_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="+", default=["fsrcnn", "fsrcnn-s"], choices=("fsrcnn", "fsrcnn-s"))
    parser.add_argument("--patches", nargs="+", type=int, default=[32, 48], help="our LR patch sides")
    parser.add_argument("--scale", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=None, help="also write the report to this file")
    args = parser.parse_args()
    native = bfloat16_is_native(torch.device("cpu"))
    variants = [label for label, (_, bf16) in VARIANTS.items() if not bf16 or native]
    images = augment(load_folder(T91)[:20])
    report = Report()
    report(
        f"Training throughput, x{args.scale}: LR pixels per second of one Adam step "
        f"(median of {args.repeats} interleaved rounds of {args.steps} steps)"
    )
    report(
        f"{cpu_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"native bfloat16: {'yes' if native else 'no (bfloat16 rows left out)'}"
    )
    report()
    report(f"{'model':10s}{'batch':>10s}  {'step':20s}{'LR px/s':>12s}{'/ naive':>10s}{'compile time':>15s}")
    for model in args.model:
        for patch in args.patches:
            rates, compile_seconds = compare(model, args.scale, images, args.steps, args.repeats, patch, variants)
            naive = rates["naive"]
            for label, rate in rates.items():
                batch = "64x16x16" if label == "naive" else f"32x{patch}x{patch}"
                seconds = f"{compile_seconds[label]:.1f} s" if label in compile_seconds else ""
                report(f"{model:10s}{batch:>10s}  {label:20s}{rate / 1e3:>8.0f} k{rate / naive:>10.2f}x{seconds:>15s}")
            report()
    report(
        "naive: ConvTranspose2d, NCHW, float32, 64 patches of 16x16 (the issue's plain recipe); skfsrcnn: "
        "compact sub-pixel form, channels-last, 32 patches of the size shown, eager or torch.compile "
        "(configs' compile: true), float32 or bfloat16 mixed precision (configs' precision: bfloat16)"
    )
    if args.output:
        report.write(args.output)


if __name__ == "__main__":
    main()
