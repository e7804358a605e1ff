"""Training FSRCNN (or the SRCNN baseline): configuration, recipes, trainer, ``fit`` and the perceptual loss."""

from ._runfiles import Progress
from .config import TrainConfig, load_config
from .fit import fit, fit_steps, train
from .losses import VGG16_LAYERS, PerceptualLoss, VGG16Features
from .trainer import Trainer

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
