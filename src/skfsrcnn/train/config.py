"""The training configuration: a YAML file, overridable by ``key=value`` pairs."""

import dataclasses
import os
import types
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..datasets import PAPER_DOWNSCALES, PAPER_ROTATIONS
from ..models import PRESETS

_CHOICES = {
    "model": tuple(PRESETS),
    "optimizer": ("adam", "sgd"),
    "schedule": ("cosine", "step", "constant"),
    "finetune": ("all", "deconv"),
}


@dataclass
class TrainConfig:
    """Every setting of a training run; the defaults are a sound x3 FSRCNN recipe.

    Examples
    --------
    >>> from skfsrcnn.train import TrainConfig
    >>> TrainConfig(name="demo", scale=2).patch_size
    32
    """

    name: str = "fsrcnn-x3"
    model: str = "fsrcnn"
    scale: int = 3
    train_folders: list = field(default_factory=lambda: ["../shared/datasets/T91"])
    downscales: list = field(default_factory=lambda: list(PAPER_DOWNSCALES))
    rotations: list = field(default_factory=lambda: list(PAPER_ROTATIONS))
    flips: bool = False
    patch_size: int = 32
    batch_size: int = 32
    loss_border: int = 0
    iterations: int = 20000
    optimizer: str = "adam"
    lr: float = 1e-3
    deconv_lr_scale: float = 0.1
    momentum: float = 0.9
    schedule: str = "cosine"
    min_lr_ratio: float = 0.01
    step_every: int = 10000
    step_gamma: float = 0.5
    init_from: str | None = None
    finetune: str = "all"
    val_data: str | None = "../shared/datasets/Set5"
    val_every: int = 500
    early_stopping: int | None = None
    checkpoint_every: int = 500
    log_every: int = 50
    seed: int = 0
    threads: int | None = None
    device: str | None = None
    output_dir: str = "runs"

    def __post_init__(self):
        self._check_types()
        for key, choices in _CHOICES.items():
            value = getattr(self, key)
            if value not in choices:
                raise ValueError(f"`{key}` must be one of {choices}, got {value!r}.")
        if self.scale not in (2, 3, 4):
            raise ValueError(f"`scale` must be 2, 3 or 4, got {self.scale!r}.")
        for key in ("patch_size", "batch_size", "iterations", "val_every", "checkpoint_every"):
            if int(getattr(self, key)) < 1:
                raise ValueError(f"`{key}` must be a positive integer, got {getattr(self, key)!r}.")
        if not 0 <= self.loss_border < self.patch_size // 2:
            raise ValueError(
                f"`loss_border` must be in [0, patch_size/2), got {self.loss_border!r}."
            )

    def _check_types(self):
        """Coerce numbers (YAML reads ``1e-3`` as a string) and reject wrong types."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            allowed = f.type.__args__ if isinstance(f.type, types.UnionType) else (f.type,)
            if value is None and type(None) in allowed:
                continue
            if str in allowed and isinstance(value, os.PathLike):
                value = os.fspath(value)
                setattr(self, f.name, value)
            if list in allowed and isinstance(value, tuple):
                value = list(value)
                setattr(self, f.name, value)
            if float in allowed and not isinstance(value, bool):
                try:
                    setattr(self, f.name, float(value))
                    continue
                except (TypeError, ValueError):
                    pass
            elif int in allowed and isinstance(value, int) and not isinstance(value, bool):
                continue
            elif bool in allowed and isinstance(value, bool):
                continue
            elif any(t in allowed for t in (str, list)) and isinstance(value, tuple(allowed)):
                continue
            names = " or ".join("None" if t is type(None) else t.__name__ for t in allowed)
            raise ValueError(f"`{f.name}` must be {names}, got {value!r}.")

    @property
    def run_dir(self):
        """Folder of this run's checkpoints, logs and weights."""
        return Path(self.output_dir) / self.name

    def to_dict(self):
        """The configuration as plain YAML-friendly values."""
        return dataclasses.asdict(self)


def _parse_override(item, fields):
    if "=" not in item:
        raise ValueError(f"`--set` expects key=value, got {item!r}.")
    key, text = item.split("=", 1)
    if key not in fields:
        raise ValueError(f"Unknown setting {key!r} in `--set`; known: {', '.join(sorted(fields))}.")
    return key, yaml.safe_load(text)


def load_config(path=None, overrides=()):
    """Read a YAML config and apply ``key=value`` overrides (values parsed as YAML).

    Examples
    --------
    >>> from skfsrcnn.train import load_config
    >>> load_config(None, ["scale=4", "iterations=10"]).iterations
    10
    """
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {}
    if path is not None:
        with open(path) as handle:
            values = yaml.safe_load(handle) or {}
        unknown = set(values) - fields
        if unknown:
            raise ValueError(f"Unknown settings in {str(path)!r}: {', '.join(sorted(unknown))}.")
    values.update(_parse_override(item, fields) for item in overrides)
    return TrainConfig(**values)
