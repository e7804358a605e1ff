"""Tests for the skfsrcnn.models package: its names; importing skfsrcnn does not load torch."""

import subprocess
import sys

import pytest

import skfsrcnn.models
from skfsrcnn.models import build, fast, fsrcnn, srcnn, subpixel

#: Every name ``skfsrcnn.models`` had as one module, and the module of the package that defines it.
HOMES = {
    "FSRCNN": fsrcnn,
    "PRESETS": fsrcnn,
    "halo": fsrcnn,
    "deconv_as_subpixel": subpixel,
    "FastFSRCNN": fast,
    "SRCNN": srcnn,
    "BicubicUpsample": srcnn,
    "ARCHITECTURES": build,
    "build_model": build,
    "inference_form": build,
}


@pytest.mark.parametrize("name", sorted(HOMES))
def test_names_are_importable_from_the_package(name):
    assert getattr(skfsrcnn.models, name) is getattr(HOMES[name], name)


def test_all_is_unchanged():
    assert sorted(skfsrcnn.models.__all__) == sorted(
        [
            "ARCHITECTURES",
            "BicubicUpsample",
            "FSRCNN",
            "PRESETS",
            "SRCNN",
            "FastFSRCNN",
            "build_model",
            "inference_form",
        ]
    )


def test_import_skfsrcnn_does_not_load_torch():
    code = "import sys, skfsrcnn, skfsrcnn.resize; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
