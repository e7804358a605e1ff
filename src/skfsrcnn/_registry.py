"""The registry of pretrained weights: name -> file, sha256, architecture, provenance, scores.

The entries live in ``skfsrcnn/weights/registry.json``, beside the files
they describe, written by ``python scripts/release_weights.py``; do not edit
it by hand. Hashes are sha256 of the files in ``skfsrcnn/weights/``;
``scores`` are (mean PSNR-Y dB, mean SSIM-Y) per benchmark, of the
literature protocol as ``skfsrcnn-eval`` prints them, and
``ensemble_scores`` the same with the 8-pass self-ensemble.
"""

import hashlib
import json
import os
from importlib import resources
from pathlib import Path

#: The file holding the registry, inside the package.
REGISTRY_FILE = "weights/registry.json"

REGISTRY = json.loads(resources.files(__package__).joinpath(REGISTRY_FILE).read_text(encoding="utf-8"))


def file_sha256(path):
    """The sha256 hex digest of the file at ``path``, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_sha256(weights):
    """sha256 of weights given as a registry name (the registry's) or a file (its own); None for neither.

    Examples
    --------
    >>> from skfsrcnn._registry import REGISTRY, weights_sha256
    >>> weights_sha256("fsrcnn-x3") == REGISTRY["fsrcnn-x3"]["sha256"]
    True
    >>> weights_sha256("no-such-file.pt") is None
    True
    """
    name = os.fspath(weights)
    if name in REGISTRY:
        return REGISTRY[name]["sha256"]
    path = Path(name).expanduser()
    return file_sha256(path) if path.is_file() else None
