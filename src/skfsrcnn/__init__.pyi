from . import cli, datasets, degradation, evaluate, export, io, metrics, models, pretrained, resize, train, video
from ._consistency import consistency_residual
from ._front import upscale
from ._options import DEFAULT_TILE_SIZE
from ._progress import run_to_end
from ._upscale import upscale_steps

__all__ = [
    "DEFAULT_TILE_SIZE",
    "cli",
    "consistency_residual",
    "datasets",
    "degradation",
    "evaluate",
    "export",
    "io",
    "metrics",
    "models",
    "pretrained",
    "resize",
    "run_to_end",
    "train",
    "upscale",
    "upscale_steps",
    "video",
]
