"""The files of a run folder: their names, atomic writes, and a log cut back to a checkpoint."""

import csv
import io
import os
from pathlib import Path
from typing import NamedTuple

from .._intensity import safetensors_metadata

#: File name, in the run folder, of the checkpoint that ``resume`` continues from.
CHECKPOINT = "checkpoint.pt"
#: File name, in the run folder, of the best-validating weights (safetensors).
BEST_WEIGHTS = "best.safetensors"
#: File name, in the run folder, of the CSV training log.
LOG = "log.csv"
_LOG_FIELDS = ["iteration", "loss", "lr", "val_psnr", "elapsed_s", "lr_pixels_per_s"]


def _atomic_write(path, write):
    """Call ``write(tmp_path)``, flush it to disk, then move it over ``path`` in one step.

    The temporary name is fixed (``.NAME.tmp``), not unique as
    :func:`skfsrcnn._atomic.atomic_path` makes it: a run folder has one
    writer, so a write cut short by a kill is replaced by the next one
    instead of piling up beside it; a write that fails is removed.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def log_writer(handle):
    """The CSV writer of the log's rows (one line each, ending in a newline)."""
    return csv.DictWriter(handle, _LOG_FIELDS, lineterminator="\n")


def prepare_log(path, iteration):
    """Make the CSV log at ``path`` a header and whole, distinct rows up to ``iteration``, for appending.

    Training resumes from the checkpoint, so rows logged after it describe
    iterations that are about to be trained again. A kill at any point may
    also leave a log that is empty, has a partial header or a partial last
    row; all of these are repaired here, the file replaced in one step.
    """
    path = Path(path)
    text = path.read_text() if path.exists() else ""
    lines = text.splitlines(keepends=True)
    body = lines[1:] if lines and lines[0].startswith("iteration,") else lines  # the header may be cut short
    rows = csv.DictReader((line for line in body if line.endswith("\n")), fieldnames=_LOG_FIELDS)
    kept = {}
    for row in rows:
        number = row["iteration"] or ""
        if number.isdigit() and int(number) <= iteration and None not in row.values():
            kept[int(number)] = row  # a row written twice (by an older version) counts once
    wanted = io.StringIO()
    writer = log_writer(wanted)
    writer.writeheader()
    writer.writerows(kept[number] for number in sorted(kept))
    if wanted.getvalue() != text:
        _atomic_write(path, lambda tmp: tmp.write_text(wanted.getvalue()))


def best_on_disk(run_dir):
    """``(val_psnr, iteration)`` that the run's best weights record, or None (no file, or no score).

    A kill between writing the best weights and the next checkpoint leaves
    the file ahead of the checkpoint; resuming keeps its score, so that a
    worse validation never replaces it.
    """
    path = Path(run_dir) / BEST_WEIGHTS
    if not path.exists():
        return None
    metadata = safetensors_metadata(path)
    try:
        psnr, iteration = float(metadata["val_psnr"]), int(metadata["iteration"])
    except (KeyError, ValueError):
        return None
    return (psnr, iteration) if psnr == psnr else None  # NaN: saved without validation


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
