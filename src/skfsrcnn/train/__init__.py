"""Training FSRCNN: configuration, trainer, checkpoints and ``skfsrcnn-train``."""

from .config import TrainConfig, load_config
from .trainer import Trainer, train

__all__ = ["TrainConfig", "Trainer", "load_config", "train"]
