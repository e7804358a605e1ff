from . import datasets, degradation, evaluate, export, metrics, models, pretrained, resize, train
from ._upscale import upscale, upscale_steps

__all__ = [
    "datasets",
    "degradation",
    "evaluate",
    "export",
    "metrics",
    "models",
    "pretrained",
    "resize",
    "train",
    "upscale",
    "upscale_steps",
]
