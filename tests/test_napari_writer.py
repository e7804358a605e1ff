"""Saving an upscaled layer keeps its pixel size (napari_fsrcnn._writer, the plugin's OME-TIFF writer).

napari's own TIFF writer drops it (checked below), so the plugin needs its writer.
"""

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


def test_napari_builtin_tiff_writer_drops_the_pixel_size(request, tmp_path):
    """Why this writer exists: napari's own TIFF writer (napari 0.9.2) saves the pixels only.

    If this fails, napari keeps the pixel size itself and the plugin's writer may be dropped.
    """
    pytest.importorskip("pytestqt")
    viewer = request.getfixturevalue("make_napari_viewer")()
    viewer.add_image(np.zeros((8, 8), np.uint16), scale=(0.25, 0.25), units=("micrometer",) * 2)
    [path] = viewer.layers.save(str(tmp_path / "builtin.tif"), selected=False, plugin="napari")
    with tifffile.TiffFile(path) as tif:
        assert not tif.is_ome and not tif.is_imagej
        assert tif.pages[0].resolution == (1.0, 1.0) and tif.pages[0].resolutionunit == tifffile.RESUNIT.NONE


def test_widget_output_keeps_units_and_labels_and_saves_its_pixel_size(request, tmp_path):
    pytest.importorskip("pytestqt")
    viewer, qtbot = request.getfixturevalue("make_napari_viewer")(), request.getfixturevalue("qtbot")
    _, widget = viewer.window.add_plugin_dock_widget("skfsrcnn", "FSRCNN super-resolution")
    data = np.random.default_rng(0).integers(200, 3000, (3, 20, 24)).astype(np.uint16)
    layer = viewer.add_image(
        data, name="cells", scale=(2.0, 0.4, 0.4), units=("micrometer",) * 3, axis_labels=("z", "y", "x")
    )
    widget._image.value, widget._scale.value, widget._device.value = layer, 2, "cpu"
    widget._run_button.clicked.emit()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    out = viewer.layers["cells_fsrcnn_x2"]
    assert tuple(str(u) for u in out.units) == ("micrometer",) * 3
    assert tuple(out.axis_labels) == ("z", "y", "x")
    assert_allclose(out.scale, (2.0, 0.2, 0.2))
    viewer.layers.selection = {out}
    [path] = viewer.layers.save(str(tmp_path / "cells_x2.ome.tif"), selected=True, plugin="skfsrcnn")
    axes, pixels = _physical(path)
    assert axes == "ZYX"
    assert_allclose([pixels["PhysicalSizeZ"], pixels["PhysicalSizeY"], pixels["PhysicalSizeX"]], [2.0, 0.2, 0.2])
    assert pixels["PhysicalSizeXUnit"] == "µm"


def test_z_not_before_y_gets_no_spacing_and_six_axes_are_refused(tmp_path):
    meta = {"scale": (1.0, 3.0, 0.5, 0.5), "units": ("pixel",) * 4, "axis_labels": ("z", "c", "y", "x")}
    path = str(tmp_path / "zc.tif")
    write_ome_tiff(path, np.zeros((2, 2, 6, 6), np.uint8), meta)
    axes, pixels = _physical(path)
    assert axes == "ZCYX" and "PhysicalSizeZ" not in pixels
    with pytest.raises(ValueError, match="at most 5 axes"):
        write_ome_tiff(str(tmp_path / "six.tif"), np.zeros((1,) * 4 + (6, 6), np.uint8), {})


def test_a_failed_write_leaves_no_file_and_keeps_an_earlier_one(tmp_path, monkeypatch):
    def fail_halfway(path, *args, **kwargs):
        with open(path, "wb") as file:
            file.write(b"II*\0")
        raise OSError(28, "No space left on device")

    earlier = tmp_path / "earlier.tif"
    earlier.write_bytes(b"kept")
    monkeypatch.setattr(tifffile, "imwrite", fail_halfway)
    for path in (tmp_path / "new.tif", earlier):
        with pytest.raises(OSError, match="No space"):
            write_ome_tiff(str(path), np.zeros((4, 4), np.uint8), {})
    assert [p.name for p in tmp_path.iterdir()] == ["earlier.tif"] and earlier.read_bytes() == b"kept"
