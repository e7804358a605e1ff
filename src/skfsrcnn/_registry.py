"""The registry of pretrained weights: name -> file, sha256, architecture, provenance, scores.

The entries live in ``skfsrcnn/weights/registry.json``, beside the files
they describe, written by ``python scripts/release_weights.py``; do not edit
it by hand. Hashes are sha256 of the files in ``skfsrcnn/weights/``;
``scores`` are (mean PSNR-Y dB, mean SSIM-Y) per benchmark, of the
literature protocol as ``skfsrcnn-eval`` prints them, and
``ensemble_scores`` the same with the 8-pass self-ensemble.
"""

import json
from importlib import resources

#: The file holding the registry, inside the package.
REGISTRY_FILE = "weights/registry.json"

REGISTRY = json.loads(resources.files(__package__).joinpath(REGISTRY_FILE).read_text(encoding="utf-8"))
