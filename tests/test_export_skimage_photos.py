"""Tests for scripts/export_skimage_photos.py: the extra training photographs of the release recipes."""

import runpy
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import skimage.data

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "export_skimage_photos.py"


def _export(folder):
    return subprocess.run([sys.executable, str(SCRIPT), str(folder)], capture_output=True, text=True)


def _photos():
    return runpy.run_path(str(SCRIPT))["PHOTOS"]


def test_export_writes_each_photo_once_and_keeps_equal_files(tmp_path):
    first = _export(tmp_path)
    assert first.returncode == 0, first.stderr
    for name in _photos():
        assert np.array_equal(iio.imread(tmp_path / f"{name}.png"), getattr(skimage.data, name)())
    stamps = {path: path.stat().st_mtime_ns for path in tmp_path.iterdir()}
    again = _export(tmp_path)
    assert again.returncode == 0, again.stderr
    assert {path: path.stat().st_mtime_ns for path in tmp_path.iterdir()} == stamps


def test_export_never_overwrites_a_different_file(tmp_path):
    mine = np.zeros((8, 8), np.uint8)
    iio.imwrite(tmp_path / "coffee.png", mine)
    result = _export(tmp_path)
    assert result.returncode != 0
    assert "coffee.png exists and differs" in result.stderr
    assert np.array_equal(iio.imread(tmp_path / "coffee.png"), mine)


def test_training_guide_gives_each_photo_its_licence():
    guide = (ROOT / "docs" / "user_guide" / "training.rst").read_text()
    section = guide.split("\nExtra training data\n", 1)[1].split("\n-----", 1)[0]
    for name in _photos():
        assert f"``{name}``" in section, name
