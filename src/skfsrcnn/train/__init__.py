"""Training FSRCNN (or the SRCNN baseline): configuration, trainer, checkpoints, the perceptual loss and ``skfsrcnn-train``."""

from .config import TrainConfig, load_config
from .fit import fit, fit_steps
from .losses import VGG16_LAYERS, PerceptualLoss, VGG16Features
from ._runfiles import Progress
from .trainer import Trainer, train

__all__ = [
    "PerceptualLoss",
    "Progress",
    "TrainConfig",
    "Trainer",
    "VGG16Features",
    "VGG16_LAYERS",
    "fit",
    "fit_steps",
    "load_config",
    "train",
]
