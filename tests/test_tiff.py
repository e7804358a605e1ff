"""TIFF, OME-TIFF and ImageJ TIFF metadata kept and corrected on writing (skfsrcnn._tiff, through skfsrcnn.io)."""

import json

import numpy as np
import pytest
import tifffile
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from skfsrcnn import io


def _stack(shape, dtype=np.uint16):
    return np.random.default_rng(0).integers(0, min(4000, np.iinfo(dtype).max), shape, dtype=dtype)


def _enlarged(image, scale):
    """``image`` ``scale`` times larger on its (plane) axes: the last two, or the two before RGB."""
    rows, cols = (-3, -2) if image.shape[-1] == 3 else (-2, -1)
    return np.repeat(np.repeat(image, scale, rows), scale, cols)


def _rewrite(tmp_path, source, scale=2, provenance=None):
    image, metadata = io.read_image(source, metadata=True)
    out = tmp_path / f"out{''.join(source.suffixes)}"
    io.write_image(out, _enlarged(image, scale), metadata=metadata, scale=scale, provenance=provenance)
    return image, out


def test_ome_tiff_pixel_size_divided_channels_and_z_kept(tmp_path):
    source = tmp_path / "in.ome.tif"
    metadata = {
        "axes": "CZYX",
        "PhysicalSizeX": 0.5,
        "PhysicalSizeXUnit": "µm",
        "PhysicalSizeY": 0.4,
        "PhysicalSizeYUnit": "µm",
        "PhysicalSizeZ": 2.0,
        "Channel": {"Name": ["DAPI", "GFP"]},
    }
    tifffile.imwrite(source, _stack((2, 3, 8, 9)), ome=True, metadata=metadata)
    image, out = _rewrite(tmp_path, source, 2, provenance={"model": "fsrcnn"})
    with tifffile.TiffFile(out) as tif:
        assert tif.is_ome and tif.series[0].axes == "CZYX"
        assert_array_equal(tif.asarray(), _enlarged(image, 2))
        ome = tifffile.xml2dict(tif.ome_metadata)["OME"]
    pixels = ome["Image"]["Pixels"]
    assert_allclose([pixels["PhysicalSizeX"], pixels["PhysicalSizeY"], pixels["PhysicalSizeZ"]], [0.25, 0.2, 2.0])
    assert (pixels["SizeX"], pixels["SizeY"], pixels["SizeZ"], pixels["SizeC"]) == (18, 16, 3, 2)
    assert pixels["PhysicalSizeXUnit"] == "µm"
    assert [c["Name"] for c in pixels["Channel"]] == ["DAPI", "GFP"]
    annotation = ome["StructuredAnnotations"]["CommentAnnotation"]
    assert json.loads(annotation["Value"]) == {"model": "fsrcnn"}


def test_imagej_hyperstack_unit_spacing_and_resolution(tmp_path):
    source = tmp_path / "in.tif"
    tifffile.imwrite(
        source,
        _stack((3, 2, 8, 9)),
        imagej=True,
        resolution=(2.0, 4.0),
        metadata={"axes": "ZCYX", "unit": "um", "spacing": 3.0, "Labels": list("abcdef")},
    )
    image, out = _rewrite(tmp_path, source, 3, provenance={"scale": 3})
    with tifffile.TiffFile(out) as tif:
        assert tif.is_imagej and tif.series[0].axes == "ZCYX"
        assert_allclose(tif.pages[0].resolution, (6.0, 12.0))  # pixels per um: pixel size / 3
        ij = tif.imagej_metadata
        assert_array_equal(tif.asarray(), _enlarged(image, 3))
    assert (ij["unit"], ij["spacing"], ij["Labels"]) == ("um", 3.0, list("abcdef"))
    assert json.loads(ij["Properties"]["skfsrcnn"]) == {"scale": 3}


def test_plain_tiff_resolution_and_unit(tmp_path):
    source = tmp_path / "in.tif"
    tifffile.imwrite(
        source, _stack((8, 9, 3), np.uint8), photometric="rgb", resolution=(300, 150), resolutionunit="INCH"
    )
    image, out = _rewrite(tmp_path, source, 4, provenance={"scale": 4})
    with tifffile.TiffFile(out) as tif:
        page = tif.pages[0]
        assert_allclose(page.resolution, (1200, 600))
        assert page.resolutionunit == tifffile.RESUNIT.INCH
        assert page.photometric == tifffile.PHOTOMETRIC.RGB
        assert json.loads(page.description)["skfsrcnn"] == {"scale": 4}
        assert_array_equal(tif.asarray(), _enlarged(image, 4))


def test_several_series_are_refused(tmp_path):
    with tifffile.TiffWriter(tmp_path / "two.tif") as tif:
        tif.write(_stack((8, 9)))
        tif.write(_stack((5, 5)))
    with pytest.raises(ValueError, match=r"holds 2 images \(TIFF series\) .*save each as its own file"):
        io.read_image(tmp_path / "two.tif")


@pytest.mark.parametrize("kind", ["imagej", "ome"])
def test_command_upscales_a_stack_plane_by_plane_keeping_metadata(tmp_path, random_weights, monkeypatch, kind):
    from file_helpers import expected_file

    from skfsrcnn import cli

    weights = random_weights("fsrcnn-s", 2)
    image = _stack((3, 2, 20, 18))
    if kind == "imagej":
        tifffile.imwrite(tmp_path / "in.tif", image, imagej=True, resolution=(2.0, 2.0), metadata={"axes": "ZCYX"})
    else:
        tifffile.imwrite(tmp_path / "in.tif", image, ome=True, metadata={"axes": "ZCYX", "PhysicalSizeX": 0.5})

    def whole_stack_read(*args, **kwargs):
        raise AssertionError("the stack was read whole")

    monkeypatch.setattr(io, "read_image", whole_stack_read)
    argv = ["upscale", tmp_path / "in.tif", tmp_path / "out.tif", "--scale", 2, "--weights", weights]
    assert cli.main([str(a) for a in argv]) == 0
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        assert tif.series[0].axes == "ZCYX" and len(tif.pages) == 6
        out = tif.asarray()
        if kind == "imagej":
            assert_allclose(tif.pages[0].resolution, (4.0, 4.0))
        else:
            assert tifffile.xml2dict(tif.ome_metadata)["OME"]["Image"]["Pixels"]["PhysicalSizeX"] == 0.25
    np.testing.assert_allclose(out.astype(int), expected_file(image, 2, weights).astype(int), atol=1, rtol=0)


@pytest.mark.parametrize(
    ("photometric", "data", "name"),
    [
        ("palette", np.zeros((8, 8), np.uint8), "palette"),
        ("separated", np.zeros((8, 8, 4), np.uint8), "CMYK"),
        ("cielab", np.zeros((8, 8, 3), np.uint8), "CIE L"),
    ],
)
def test_tiff_colour_modes_that_are_not_intensities_are_refused(tmp_path, photometric, data, name):
    extra = {"colormap": np.zeros((3, 256), np.uint16)} if photometric == "palette" else {}
    tifffile.imwrite(tmp_path / "in.tif", data, photometric=photometric, **extra)
    with pytest.raises(
        ValueError, match=rf"is a {name}.* TIFF \(photometric {photometric.upper()}\); .*convert it first"
    ):
        io.read_image(tmp_path / "in.tif")


def test_one_bit_and_min_is_white_tiffs_are_read_as_shown(tmp_path):
    bits = np.random.default_rng(0).random((9, 16)) > 0.5
    tifffile.imwrite(tmp_path / "bits.tif", bits)  # tifffile writes bool as min-is-white: 1 is black
    back = io.read_image(tmp_path / "bits.tif")
    assert back.dtype == np.uint8
    assert_array_equal(back, ~bits * np.uint8(255))
    grey = _stack((6, 7))
    tifffile.imwrite(tmp_path / "inverted.tif", grey, photometric="miniswhite")
    assert_array_equal(io.read_image(tmp_path / "inverted.tif"), 65535 - grey)


def test_16_bit_rgb_tiff_stays_16_bit(tmp_path):
    image = _stack((8, 9, 3))
    tifffile.imwrite(tmp_path / "in.tif", image, photometric="rgb")
    back, metadata = io.read_image(tmp_path / "in.tif", metadata=True)
    io.write_image(tmp_path / "out.tif", back, metadata=metadata)
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        assert tif.pages[0].photometric == tifffile.PHOTOMETRIC.RGB
        assert_array_equal(tif.asarray(), image)


def test_planar_rgb_is_read_with_colour_last(tmp_path):
    image = _stack((8, 9, 3), np.uint8)
    tifffile.imwrite(tmp_path / "planar.tif", np.moveaxis(image, -1, 0), photometric="rgb", planarconfig="separate")
    back, metadata = io.read_image(tmp_path / "planar.tif", metadata=True)
    assert_array_equal(back, image)
    assert metadata.axes == "YXS"


@settings(max_examples=30, deadline=None)
@given(
    dtype=st.sampled_from([np.uint8, np.uint16, np.int16, np.float32]),
    shape=st.sampled_from([(7, 5), (7, 5, 3), (2, 7, 5), (2, 3, 7, 5)]),
    resolution=st.tuples(st.floats(0.5, 1000), st.floats(0.5, 1000)),
    scale=st.sampled_from([1, 2, 3, 4]),
    kind=st.sampled_from(["plain", "imagej", "ome"]),
)
def test_tiff_modes_written_and_read_back(tmp_path_factory, dtype, shape, resolution, scale, kind):
    """Any dtype, stack and flavour: the pixels come back equal and the resolution times ``scale``."""
    folder = tmp_path_factory.mktemp("tiff")
    image = (np.random.default_rng(0).random(shape) * 100).astype(dtype)
    rgb = shape[-1] == 3
    axes = {2: "YX", 3: "YXS" if rgb else "ZYX", 4: "ZCYX"}[len(shape)]
    if kind == "imagej" and (dtype == np.int16 or rgb and dtype != np.uint8):
        kind = "plain"  # ImageJ holds no int16, and RGB only as 8-bit
    options = {"imagej": kind == "imagej", "ome": kind == "ome", "metadata": {"axes": axes}}
    tifffile.imwrite(
        folder / "in.tif", image, resolution=resolution, photometric="rgb" if rgb else "minisblack", **options
    )
    back, metadata = io.read_image(folder / "in.tif", metadata=True)
    assert_array_equal(back, image)
    io.write_image(folder / "out.tif", _enlarged(back, scale), metadata=metadata, scale=scale)
    with tifffile.TiffFile(folder / "out.tif") as tif:
        assert_array_equal(tif.asarray(), _enlarged(image, scale))
        assert_allclose(tif.pages[0].resolution, np.float32(resolution) * scale, rtol=1e-5)
        assert (tif.is_ome, tif.is_imagej) == (kind == "ome", kind == "imagej")
