"""The files of a run folder: their names, atomic writes, and a log cut back to a checkpoint."""

import csv
import os
from pathlib import Path
from typing import NamedTuple

#: File name, in the run folder, of the checkpoint that ``resume`` continues from.
CHECKPOINT = "checkpoint.pt"
#: File name, in the run folder, of the best-validating weights (safetensors).
BEST_WEIGHTS = "best.safetensors"
#: File name, in the run folder, of the CSV training log.
LOG = "log.csv"
_LOG_FIELDS = ["iteration", "loss", "lr", "val_psnr", "elapsed_s", "lr_pixels_per_s"]


def _atomic_write(path, write):
    """Call ``write(tmp_path)`` then move the result over ``path`` in one step."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _truncate_log(path, iteration):
    """Drop the rows of the CSV log at ``path`` past ``iteration``.

    Training resumes from the checkpoint, so rows logged after it describe
    iterations that are about to be trained again.
    """
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    # A kill mid-write can leave a partial last row: it is past the checkpoint too.
    kept = [row for row in rows if (row["iteration"] or "").isdigit() and int(row["iteration"]) <= iteration]
    if len(kept) < len(rows):

        def write(tmp):
            with open(tmp, "w", newline="") as handle:
                writer = csv.DictWriter(handle, _LOG_FIELDS)
                writer.writeheader()
                writer.writerows(kept)

        _atomic_write(path, write)


class Progress(NamedTuple):
    """Where a training run stands, as :meth:`Trainer.run_steps` yields it."""

    #: Iterations done.
    iteration: int
    #: Iterations planned (``config.iterations``).
    iterations: int
    #: Seconds of training so far, over all resumptions.
    elapsed: float
    #: PSNR of the latest validation (``nan`` before the first).
    val_psnr: float
    #: Best validation PSNR so far (``-inf`` before the first).
    best_psnr: float
