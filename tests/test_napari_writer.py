"""Saving an upscaled layer keeps its pixel size (napari_fsrcnn._writer, the plugin's OME-TIFF writer)."""

import numpy as np
import pytest
import tifffile
from numpy.testing import assert_allclose

from napari_fsrcnn._writer import write_ome_tiff

napari = pytest.importorskip("napari")


def _physical(path):
    with tifffile.TiffFile(path) as tif:
        pixels = tifffile.xml2dict(tif.ome_metadata)["OME"]["Image"]["Pixels"]
        return tif.series[0].axes, pixels


def test_upscaled_layer_saved_with_its_pixel_size(tmp_path):
    from napari.layers import Image

    from napari_fsrcnn import output_geometry

    scale, _ = output_geometry(3, 2, scale=(2.0, 0.5, 0.5))
    layer = Image(np.zeros((3, 8, 8), np.uint16), scale=scale, units=("micrometer",) * 3, axis_labels=("z", "y", "x"))
    state = layer._get_state()
    path = str(tmp_path / "up.ome.tif")
    assert write_ome_tiff(path, state["data"], state) == [path]
    axes, pixels = _physical(path)
    assert axes == "ZYX"
    assert_allclose([pixels["PhysicalSizeZ"], pixels["PhysicalSizeY"], pixels["PhysicalSizeX"]], [2.0, 0.25, 0.25])
    assert pixels["PhysicalSizeXUnit"] == "µm"


def test_rgb_layer_and_unknown_labels(tmp_path):
    meta = {"scale": (1.0, 0.5, 0.5), "units": ("pixel",) * 3, "rgb": True, "axis_labels": ("0", "1", "2")}
    path = str(tmp_path / "rgb.tif")
    write_ome_tiff(path, np.zeros((2, 6, 6, 3), np.uint8), meta)
    axes, pixels = _physical(path)
    assert axes == "ZYXS"
    assert_allclose(pixels["PhysicalSizeX"], 0.5)


def test_the_writer_is_offered_for_tiff():
    from npe2 import PluginManifest

    manifest = PluginManifest.from_distribution("skfsrcnn")
    writer = manifest.contributions.writers[0]
    assert writer.layer_types == ["image"] and ".tif" in writer.filename_extensions
