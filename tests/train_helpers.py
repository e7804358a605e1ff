"""Shared by the ``test_train_*`` and ``test_cli_train`` tests: a tiny training setup."""

import csv

import torch

from skfsrcnn.pretrained import load_model
from skfsrcnn.train import TrainConfig, Trainer


def tiny_config(data_dirs, output_dir, **overrides):
    """A 40-iteration FSRCNN-s x3 run on ``data_dirs``, changed by ``overrides``."""
    train, val = data_dirs
    values = {
        "name": "tiny",
        "model": "fsrcnn-s",
        "scale": 3,
        "train_folders": [str(train)],
        "val_data": str(val),
        "patch_size": 16,
        "batch_size": 8,
        "iterations": 40,
        "val_every": 20,
        "checkpoint_every": 20,
        "log_every": 10,
        "device": "cpu",
        "output_dir": str(output_dir),
    }
    values.update(overrides)
    return TrainConfig(**values)


def weights_state(path):
    return load_model(path, device="cpu").state_dict()


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def log_rows(run_dir):
    with open(run_dir / "log.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def straight_run_of(data_dirs, output_dir):
    """A 40-iteration run, uninterrupted: its config, trainer and best weights."""
    config = tiny_config(data_dirs, output_dir)
    trainer = Trainer(config, progress=False)
    best = trainer.run()
    return config, trainer, best


class Crash(Exception):
    """An error injected into a training run."""


def crash_after(trainer, calls, error):
    """Make ``trainer`` raise ``error`` when it samples batch ``calls + 1``."""
    sample, count = trainer.sampler.sample, [0]

    def wrapped():
        count[0] += 1
        if count[0] > calls:
            raise error
        return sample()

    trainer.sampler.sample = wrapped
