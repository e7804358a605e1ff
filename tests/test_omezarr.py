"""OME-Zarr output and input (skfsrcnn._omezarr, through ``skfsrcnn upscale ... out.zarr``), read back with ome-zarr."""

import warnings

import numpy as np
import pytest
import tifffile
import zarr
from file_helpers import assert_rounded_equal, expected_file
from numpy.testing import assert_allclose

from skfsrcnn import cli, io


def _run(*argv):
    try:
        return cli.main([str(a) for a in argv])
    except SystemExit as stop:
        return stop.code


def _read_ome_zarr(path):
    """The first image node of an OME-Zarr, as ome-zarr's reader (napari-ome-zarr's) sees it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from ome_zarr.io import parse_url
        from ome_zarr.reader import Reader

    return next(iter(Reader(parse_url(str(path)))()))


@pytest.fixture
def w2(random_weights):
    return random_weights("fsrcnn-s", 2)


def _stack(shape):
    return np.random.default_rng(0).integers(0, 4000, shape, dtype=np.uint16)


def test_ome_tiff_to_ome_zarr_with_pyramid(tmp_path, w2):
    image = _stack((2, 3, 40, 36))
    metadata = {"axes": "CZYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.4, "PhysicalSizeZ": 2.0}
    tifffile.imwrite(tmp_path / "in.ome.tif", image, ome=True, metadata=metadata)
    out = tmp_path / "out.zarr"
    assert _run("upscale", tmp_path / "in.ome.tif", out, "--scale", 2, "--weights", w2, "--pyramid", 2) == 0
    node = _read_ome_zarr(out)
    assert [a["name"] for a in node.metadata["axes"]] == ["c", "z", "y", "x"]
    assert node.metadata["axes"][-1]["unit"] == "micrometer"
    assert [level.shape for level in node.data] == [(2, 3, 80, 72), (2, 3, 40, 36), (2, 3, 20, 18)]
    scales = [t[0]["scale"] for t in node.metadata["coordinateTransformations"]]
    assert_allclose(scales, [[1, 2.0, 0.2, 0.25], [1, 2.0, 0.4, 0.5], [1, 2.0, 0.8, 1.0]])
    translation = node.metadata["coordinateTransformations"][0][1]["translation"]
    assert_allclose(translation, [0, 0, -0.1, -0.125])  # pixel edges stay where the input's were
    assert_rounded_equal(np.asarray(node.data[0]), expected_file(image, 2, w2))
    attrs = zarr.open_group(out, mode="r").attrs
    assert attrs["skfsrcnn"]["scale"] == 2 and attrs["skfsrcnn"]["weights_sha256"]


def test_write_image_writes_the_commands_ome_zarr(tmp_path, w2):
    metadata = {"axes": "CZYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.4, "PhysicalSizeZ": 2.0}
    tifffile.imwrite(tmp_path / "in.ome.tif", _stack((2, 3, 20, 18)), ome=True, metadata=metadata)
    assert _run("upscale", tmp_path / "in.ome.tif", tmp_path / "out.zarr", "--scale", 2, "--weights", w2) == 0
    command = zarr.open_group(tmp_path / "out.zarr", mode="r")
    _, tiff_metadata = io.read_image(tmp_path / "in.ome.tif", metadata=True)
    (tmp_path / "library").mkdir()
    library = tmp_path / "library" / "out.zarr"
    io.write_image(library, command["0"][:], metadata=tiff_metadata, scale=2, provenance=command.attrs["skfsrcnn"])
    assert dict(zarr.open_group(library, mode="r").attrs) == dict(command.attrs)
    node = _read_ome_zarr(library)
    assert_allclose(node.metadata["coordinateTransformations"][0][0]["scale"], [1, 2.0, 0.2, 0.25])
    assert_rounded_equal(np.asarray(node.data[0]), command["0"][:])


def test_ome_zarr_input_keeps_axes_units_and_scales(tmp_path, w2):
    source = tmp_path / "in.zarr"
    group = zarr.open_group(source, mode="w")
    group.create_array("0", data=_stack((3, 30, 30)), chunks=(1, 16, 16))
    axes = [{"name": "t", "type": "time", "unit": "second"}] + [
        {"name": n, "type": "space", "unit": "nanometer"} for n in "yx"
    ]
    transforms = [{"type": "scale", "scale": [5.0, 100.0, 80.0]}]
    group.attrs["ome"] = {
        "version": "0.5",
        "multiscales": [{"axes": axes, "datasets": [{"path": "0", "coordinateTransformations": transforms}]}],
    }
    out = tmp_path / "out.zarr"
    assert _run("upscale", source, out, "--scale", 2, "--weights", w2) == 0
    node = _read_ome_zarr(out)
    assert node.metadata["axes"] == axes
    assert_allclose(node.metadata["coordinateTransformations"][0][0]["scale"], [5.0, 50.0, 40.0])
    assert node.data[0].shape == (3, 60, 60)


def test_photo_colour_axis_moves_first(tmp_path, w2):
    import imageio.v3 as iio

    image = np.random.default_rng(1).integers(0, 255, (24, 20, 3), dtype=np.uint8)
    iio.imwrite(tmp_path / "in.png", image)
    assert _run("upscale", tmp_path / "in.png", tmp_path / "out.zarr", "--scale", 2, "--weights", w2) == 0
    node = _read_ome_zarr(tmp_path / "out.zarr")
    assert [a["name"] for a in node.metadata["axes"]] == ["c", "y", "x"]
    expected = np.moveaxis(expected_file(image, 2, w2, channel_axis=-1), -1, 0)
    assert_rounded_equal(np.asarray(node.data[0]), expected)


def test_six_axes_are_refused(tmp_path, w2, capsys):
    zarr.open_array(tmp_path / "in.zarr", mode="w", shape=(2, 1, 1, 2, 20, 20), dtype="u1")
    assert _run("upscale", tmp_path / "in.zarr", tmp_path / "out.zarr", "--weights", w2, "--scale", 2) == 2
    assert "OME-Zarr holds at most 5 (t, c, z, y, x): write a TIFF OUTPUT instead" in capsys.readouterr().err
    assert not (tmp_path / "out.zarr").exists()


def test_pyramid_is_bounded(tmp_path, w2, capsys):
    zarr.open_array(tmp_path / "in.zarr", mode="w", shape=(20, 20), dtype="u1")
    assert _run("upscale", tmp_path / "in.zarr", tmp_path / "out.zarr", "--weights", w2, "--pyramid", 40) == 2
    assert "--pyramid 40 must be between 0 and 12" in capsys.readouterr().err


def test_resume_of_a_plain_zarr_array_is_refused(tmp_path, w2, capsys):
    zarr.open_array(tmp_path / "in.zarr", mode="w", shape=(20, 20), dtype="u1")
    zarr.open_array(tmp_path / "out.zarr", mode="w", shape=(40, 40), dtype="u1")  # an older, plain output
    assert _run("upscale", tmp_path / "in.zarr", tmp_path / "out.zarr", "--weights", w2, "--scale", 2, "--resume") == 2
    assert "is not an OME-Zarr started by skfsrcnn upscale (it has no array '0')" in capsys.readouterr().err
