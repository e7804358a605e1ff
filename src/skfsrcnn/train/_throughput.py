"""Timing a few training iterations, for the time estimates of ``skfsrcnn train --dry-run``."""

import time

import torch

#: Iterations timed per kind of stage by :func:`measure_throughput`, after one untimed.
TIMED_STEPS = 3


def _kind(config):
    """What the time of one iteration depends on."""
    return (
        config.model,
        config.scale,
        config.patch_size,
        config.batch_size,
        config.precision,
        config.threads,
        config.device,
    )


def measure_throughput(config, steps=TIMED_STEPS):
    """Time a few training iterations of ``config``'s kind of stage on this machine.

    Builds the stage's model on random patches and times ``steps`` Adam
    steps after one untimed, in ``precision`` with ``threads`` threads,
    uncompiled; data loading, validation and a teacher's one-off pass are
    left out.

    Parameters
    ----------
    config : TrainConfig
        The stage; ``model``, ``scale``, ``patch_size``, ``batch_size``,
        ``precision``, ``threads`` and ``device`` matter.
    steps : int
        Iterations timed, 1 or more.

    Returns
    -------
    float
        Iterations per second.

    Raises
    ------
    ValueError
        ``steps`` is less than 1.

    Examples
    --------
    >>> from skfsrcnn.train import TrainConfig
    >>> from skfsrcnn.train.recipe import measure_throughput
    >>> config = TrainConfig(model="fsrcnn-s", scale=2, patch_size=8, batch_size=2, device="cpu")
    >>> measure_throughput(config, steps=1) > 0
    True
    """
    from .. import _validate
    from ..models import build_model, inference_form

    if steps < 1:
        raise ValueError(f"`steps` must be 1 or more, got {steps!r}.")
    device = _validate.device(config.device)
    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    try:
        model = build_model(config.model, config.scale).to(device)
        network = inference_form(model)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        side = config.patch_size
        lr = torch.rand(config.batch_size, 1, side, side, device=device)
        hr = torch.rand(config.batch_size, 1, side * config.scale, side * config.scale, device=device)
        bfloat16 = config.precision == "bfloat16"
        for step in range(steps + 1):
            if step == 1:
                start = time.perf_counter()
            with torch.autocast(device.type, torch.bfloat16, enabled=bfloat16):
                out = network(lr)
            loss = torch.nn.functional.mse_loss(out.float(), hr)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return steps / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
