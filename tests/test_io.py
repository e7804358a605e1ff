"""Tests for skfsrcnn.io: reading and writing PNG, JPEG, TIFF and zarr, and the sample image."""

import dask.array as da
import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
import zarr
from numpy.testing import assert_array_equal

from skfsrcnn import io


def _image(shape, dtype=np.uint8, seed=0):
    info = np.iinfo(dtype)
    return np.random.default_rng(seed).integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


# ---------------------------------------------------------------- the sample


def test_sample():
    path = io.sample_path()
    assert path.is_file() and path.suffix == ".png"
    image = io.read_image(path)
    assert image.dtype == np.uint8 and image.shape == (128, 128, 3)
    assert [p.name for p in path.parent.iterdir() if p.suffix == ".png"] == [path.name]


# ---------------------------------------------------------------- files


@pytest.mark.parametrize(
    ("name", "image"),
    [
        ("grey.png", _image((20, 30))),
        ("rgb.png", _image((20, 30, 3))),
        ("rgba.png", _image((20, 30, 4))),
        ("deep.png", _image((20, 30), np.uint16)),
        ("stack.tif", _image((5, 20, 30), np.uint16)),
        ("rgb.tiff", _image((20, 30, 3))),
        ("float.tif", np.random.default_rng(0).random((20, 30)).astype(np.float32)),
        ("signed.tif", _image((20, 30), np.int16)),
        ("stack.zarr", _image((5, 20, 30), np.uint16)),
        ("rgb.zarr", _image((20, 30, 3))),
    ],
)
def test_lossless_round_trip(tmp_path, name, image):
    io.write_image(tmp_path / name, image)
    back = io.read_image(tmp_path / name)
    assert back.dtype == image.dtype
    assert_array_equal(back, image)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_rgb_tiff_is_written_as_rgb(tmp_path):
    io.write_image(tmp_path / "rgb.tif", _image((20, 30, 3)))
    with tifffile.TiffFile(tmp_path / "rgb.tif") as tif:
        assert tif.pages[0].photometric == tifffile.PHOTOMETRIC.RGB


def test_jpeg(tmp_path):
    image = _image((32, 24, 3))
    io.write_image(tmp_path / "photo.jpg", image)
    back = io.read_image(tmp_path / "photo.jpg")
    assert back.dtype == np.uint8 and back.shape == image.shape


def test_write_replaces_a_file_only_when_complete(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    io.write_image(path, _image((10, 10)))
    before = path.read_bytes()

    def broken(target, image, metadata, provenance):
        target.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("skfsrcnn._photo.write_png", broken)
    with pytest.raises(
        OSError,
        match=r"OUTPUT '.*out\.png' could not be written \(No space left on device\); "
        "choose a writable folder with free space",
    ):
        io.write_image(path, _image((10, 10), seed=1))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_write_into_a_missing_folder(tmp_path):
    with pytest.raises(OSError, match="could not be written"):
        io.write_image(tmp_path / "missing" / "out.tif", _image((10, 10)))


def test_read_refusals(tmp_path):
    with pytest.raises(ValueError, match=r"INPUT '.*nope\.png' does not exist or is not a file; check the path"):
        io.read_image(tmp_path / "nope.png")
    with pytest.raises(ValueError, match="does not exist or is not a file"):
        io.read_image(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"is empty \(0 bytes\)"):
        io.read_image(tmp_path / "empty.png")
    (tmp_path / "text.tif").write_text("not an image")
    with pytest.raises(ValueError, match="could not be read as an image .*; pass a complete PNG, JPEG or TIFF file"):
        io.read_image(tmp_path / "text.tif")


@pytest.mark.parametrize(
    ("name", "dtype", "message"),
    [
        ("out.png", np.float32, "PNG holds only 8- and 16-bit data, but INPUT is float32; use .tif"),
        ("out.PNG", np.int16, "PNG holds only 8- and 16-bit data"),
        ("out.jpg", np.uint16, "JPEG holds only 8-bit data, but INPUT is uint16; use .tif"),
        ("out.jpeg", np.float64, "JPEG holds only 8-bit data"),
    ],
)
def test_check_format_refuses(name, dtype, message):
    with pytest.raises(ValueError, match=message):
        io.check_format(name, dtype)


@pytest.mark.parametrize(
    ("name", "dtype"),
    [
        ("out.png", np.uint8),
        ("out.png", np.uint16),
        ("out.jpg", np.uint8),
        ("out.tif", np.float64),
        ("out.zarr", np.int32),
    ],
)
def test_check_format_accepts(name, dtype):
    io.check_format(name, dtype)


# ---------------------------------------------------------------- zarr and lazy reading


def test_is_zarr(tmp_path):
    assert io.is_zarr("a.zarr") and io.is_zarr("A.ZARR")
    assert not io.is_zarr(tmp_path / "a.tif")
    store = tmp_path / "store"  # named otherwise, recognised by its metadata
    zarr.open_array(store, mode="w", shape=(4,), dtype="u1")
    assert io.is_zarr(store)
    assert not io.is_zarr(tmp_path)


@pytest.mark.parametrize("lazy", [False, True])
def test_zarr_round_trip(tmp_path, lazy):
    image = _image((40, 30), np.uint16)
    io.write_image(tmp_path / "a.zarr", da.from_array(image, chunks=16) if lazy else image)
    back = io.read_lazy(tmp_path / "a.zarr")
    assert isinstance(back, da.Array) and back.dtype == np.uint16
    assert_array_equal(back.compute(), image)
    assert zarr.open_array(tmp_path / "a.zarr" / "0", mode="r").shape == image.shape  # OME-Zarr: the image in "0"


def test_zarr_written_as_ome_zarr_with_the_tiff_pixel_size(tmp_path):
    tifffile.imwrite(
        tmp_path / "in.tif",
        _image((3, 10, 12)),
        imagej=True,
        resolution=(2.0, 4.0),
        metadata={"axes": "ZYX", "unit": "um", "spacing": 1.5},
    )
    _, metadata = io.read_image(tmp_path / "in.tif", metadata=True)
    io.write_image(tmp_path / "out.zarr", _image((3, 20, 24)), metadata=metadata, scale=2, provenance={"scale": 2})
    back, axes = io.read_image(tmp_path / "out.zarr", metadata=True)
    assert back.shape == (3, 20, 24)
    assert axes.names == ("z", "y", "x") and axes.units == ("micrometer",) * 3
    assert axes.scale == (1.5, 0.125, 0.25)  # Z kept, Y and X pixel size halved
    assert zarr.open_group(tmp_path / "out.zarr", mode="r").attrs["skfsrcnn"] == {"scale": 2}
    io.write_image(tmp_path / "again.zarr", back, metadata=axes, scale=2)  # an OME-Zarr's axes carry over
    assert io.read_image(tmp_path / "again.zarr", metadata=True)[1].scale == (1.5, 0.0625, 0.125)


def test_zarr_replaced_only_when_complete(tmp_path, monkeypatch):
    path = tmp_path / "out.zarr"
    io.write_image(path, _image((10, 10)))

    def broken(output, image, axes, provenance, name):
        output.mkdir()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("skfsrcnn._omezarr.write", broken)
    with pytest.raises(OSError, match=r"OUTPUT '.*out\.zarr' could not be written \(No space left on device\)"):
        io.write_image(path, _image((10, 10), seed=1))
    assert_array_equal(io.read_image(path), _image((10, 10)))
    assert [p.name for p in tmp_path.iterdir()] == ["out.zarr"]


def test_read_lazy_keeps_reasonable_zarr_chunks(tmp_path):
    zarr.open_array(tmp_path / "a.zarr", mode="w", shape=(300, 200), chunks=(100, 100), dtype="u1")
    assert io.read_lazy(tmp_path / "a.zarr").chunks == ((100,) * 3, (100, 100))
    assert io.read_lazy(tmp_path / "a.zarr", chunk_size=64).chunks[0] == (64, 64, 64, 64, 44)


def test_read_lazy_rechunks_tiny_zarr_chunks(tmp_path):
    zarr.open_array(tmp_path / "a.zarr", mode="w", shape=(2000, 100), chunks=(10, 10), dtype="u1")
    assert io.read_lazy(tmp_path / "a.zarr").chunks[0] == (1024, 976)


def test_read_lazy_refusals(tmp_path):
    zarr.open_group(tmp_path / "group.zarr", mode="w")
    with pytest.raises(ValueError, match="is a zarr group, not an array; give the path of an array inside it"):
        io.read_lazy(tmp_path / "group.zarr")
    with pytest.raises(ValueError, match=r"is not a zarr store \(no such folder\)"):
        io.read_lazy(tmp_path / "missing.zarr")
    (tmp_path / "bad.tif").write_text("not a tiff")
    with pytest.raises(ValueError, match="could not be read as a TIFF"):
        io.read_lazy(tmp_path / "bad.tif")


def test_read_lazy_tiff(tmp_path):
    image = _image((5, 50, 40), np.uint16)
    tifffile.imwrite(tmp_path / "plain.tif", image)  # contiguous: memory-mapped
    lazy = io.read_lazy(tmp_path / "plain.tif", chunk_size=32)
    assert lazy.chunks[1:] == ((32, 18), (32, 8))
    assert_array_equal(lazy.compute(), image)
    tifffile.imwrite(tmp_path / "tiled.tif", image, tile=(16, 16), compression="zlib")
    assert_array_equal(io.read_lazy(tmp_path / "tiled.tif").compute(), image)


def test_read_lazy_of_an_image_file(tmp_path):
    image = _image((50, 40, 3))
    iio.imwrite(tmp_path / "rgb.png", image)
    lazy = io.read_lazy(tmp_path / "rgb.png", chunk_size=32)
    assert lazy.chunks == ((32, 18), (32, 8), (3,))  # the colour axis stays whole
    assert_array_equal(lazy.compute(), image)
