"""The ``skfsrcnn upscale`` command (skfsrcnn.cli.upscale): image files, refusals, zarr arrays, resume."""

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
import zarr
from file_helpers import assert_rounded_equal, expected_file
from numpy.testing import assert_array_equal

from skfsrcnn import cli, upscale


def _run(*argv):
    """Run the command in-process; return its exit code."""
    try:
        return cli.main([str(a) for a in argv])
    except SystemExit as stop:
        return stop.code


def _rgb(shape=(24, 20, 3), dtype=np.uint8, seed=0):
    return np.random.default_rng(seed).integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)


@pytest.fixture
def w2(random_weights):
    return random_weights("fsrcnn-s", 2)


# --- image files (issue 2) ---------------------------------------------------------------


def test_png_rgb(tmp_path, w2, capsys):
    image = _rgb()
    iio.imwrite(tmp_path / "in.png", image)
    assert _run("upscale", tmp_path / "in.png", tmp_path / "out.png", "--scale", 2, "--weights", w2) == 0
    out = iio.imread(tmp_path / "out.png")
    assert out.dtype == np.uint8 and out.shape == (48, 40, 3)
    assert_array_equal(out, expected_file(image, 2, w2, channel_axis=-1))
    assert "wrote" in capsys.readouterr().out


def test_jpeg(tmp_path, w2):
    iio.imwrite(tmp_path / "in.jpg", _rgb((32, 24, 3)))
    assert _run("upscale", tmp_path / "in.jpg", tmp_path / "out.jpeg", "--scale", 2, "--weights", w2) == 0
    out = iio.imread(tmp_path / "out.jpeg")
    assert out.dtype == np.uint8 and out.shape == (64, 48, 3)


def test_tiff_16bit_stays_16bit(tmp_path, random_weights):
    weights = random_weights("fsrcnn-s", 3)
    image = _rgb((21, 26), np.uint16)
    tifffile.imwrite(tmp_path / "in.tif", image)
    assert _run("upscale", tmp_path / "in.tif", tmp_path / "out.tiff", "--scale", 3, "--weights", weights) == 0
    out = tifffile.imread(tmp_path / "out.tiff")
    assert out.dtype == np.uint16 and out.shape == (63, 78)
    assert_array_equal(out, expected_file(image, 3, weights))
    assert out.max() > 255


def test_png_16bit_stays_16bit(tmp_path, w2):
    image = _rgb((20, 22), np.uint16)
    iio.imwrite(tmp_path / "in.png", image)
    assert iio.imread(tmp_path / "in.png").dtype == np.uint16
    assert _run("upscale", tmp_path / "in.png", tmp_path / "out.png", "--scale", 2, "--weights", w2) == 0
    out = iio.imread(tmp_path / "out.png")
    assert out.dtype == np.uint16 and out.shape == (40, 44)
    assert_array_equal(out, expected_file(image, 2, w2))


def test_sample(tmp_path):
    assert _run("upscale", "--sample", tmp_path / "sample_x2.png", "--scale", 2) == 0
    out = iio.imread(tmp_path / "sample_x2.png")
    assert out.shape == (256, 256, 3) and out.dtype == np.uint8


def test_sample_needs_one_path(tmp_path, capsys):
    assert _run("upscale", "--sample", tmp_path / "a.png", tmp_path / "b.png") == 2
    assert "--sample" in capsys.readouterr().err


def test_model_fsrcnn_s(tmp_path):
    iio.imwrite(tmp_path / "in.png", _rgb((16, 18), np.uint8))
    assert _run("upscale", tmp_path / "in.png", tmp_path / "out.png", "--scale", 4, "--model", "fsrcnn-s") == 0
    assert iio.imread(tmp_path / "out.png").shape == (64, 72)


def test_tile_size_gives_the_untiled_result(tmp_path, w2):
    iio.imwrite(tmp_path / "in.png", _rgb((45, 50), np.uint8))
    assert (
        _run("upscale", tmp_path / "in.png", tmp_path / "tiled.png", "--scale", 2, "--weights", w2, "--tile-size", 16)
        == 0
    )
    assert _run("upscale", tmp_path / "in.png", tmp_path / "whole.png", "--scale", 2, "--weights", w2) == 0
    assert_rounded_equal(iio.imread(tmp_path / "tiled.png"), iio.imread(tmp_path / "whole.png"))


def test_tile_size_too_small(tmp_path, w2, capsys):
    iio.imwrite(tmp_path / "in.png", _rgb((20, 20), np.uint8))
    assert (
        _run("upscale", tmp_path / "in.png", tmp_path / "out.png", "--weights", w2, "--scale", 2, "--tile-size", 3) == 2
    )
    assert "--tile-size 3 is too small" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_weights_file(tmp_path, random_weights):
    weights = random_weights("fsrcnn", 4, seed=3)
    image = _rgb((15, 17), np.uint8)
    iio.imwrite(tmp_path / "in.png", image)
    assert _run("upscale", tmp_path / "in.png", tmp_path / "out.png", "--scale", 4, "--weights", weights) == 0
    assert_array_equal(iio.imread(tmp_path / "out.png"), expected_file(image, 4, weights))


def test_weights_missing_or_wrong_scale(tmp_path, w2, capsys):
    iio.imwrite(tmp_path / "in.png", _rgb((20, 20), np.uint8))
    assert _run("upscale", tmp_path / "in.png", tmp_path / "out.png", "--weights", tmp_path / "nope.safetensors") == 2
    assert "nope.safetensors" in capsys.readouterr().err
    assert _run("upscale", tmp_path / "in.png", tmp_path / "out.png", "--weights", w2, "--scale", 3) == 2
    assert "scale" in capsys.readouterr().err


def test_refuses_to_overwrite(tmp_path, w2, capsys):
    iio.imwrite(tmp_path / "in.png", _rgb((20, 20), np.uint8))
    (tmp_path / "out.png").write_bytes(b"precious")
    assert _run("upscale", tmp_path / "in.png", tmp_path / "out.png", "--scale", 2, "--weights", w2) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "out.png").read_bytes() == b"precious"
    assert _run("upscale", tmp_path / "in.png", tmp_path / "out.png", "--scale", 2, "--weights", w2, "--overwrite") == 0
    assert iio.imread(tmp_path / "out.png").shape == (40, 40)


def test_same_input_and_output(tmp_path, w2, capsys):
    iio.imwrite(tmp_path / "in.png", _rgb((20, 20), np.uint8))
    before = (tmp_path / "in.png").read_bytes()
    assert _run("upscale", tmp_path / "in.png", tmp_path / "in.png", "--weights", w2, "--scale", 2, "--overwrite") == 2
    assert "same file" in capsys.readouterr().err
    assert (tmp_path / "in.png").read_bytes() == before


def test_missing_input(tmp_path, capsys):
    assert _run("upscale", tmp_path / "missing.png", tmp_path / "out.png") == 2
    assert "missing.png" in capsys.readouterr().err


def test_unreadable_file(tmp_path, capsys):
    (tmp_path / "text.png").write_text("this is not an image\n")
    assert _run("upscale", tmp_path / "text.png", tmp_path / "out.png") == 2
    assert "could not be read" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_truncated_png(tmp_path, capsys):
    iio.imwrite(tmp_path / "full.png", _rgb((64, 64, 3)))
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    assert _run("upscale", tmp_path / "cut.png", tmp_path / "out.png") == 2
    assert "could not be read" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_bad_output_suffix(tmp_path, w2, capsys):
    iio.imwrite(tmp_path / "in.png", _rgb((20, 20), np.uint8))
    assert _run("upscale", tmp_path / "in.png", tmp_path / "out.bmp", "--weights", w2, "--scale", 2) == 2
    assert ".zarr" in capsys.readouterr().err


# --- zarr arrays (issue 7) ---------------------------------------------------------------


def _zarr_input(path, image, chunks):
    array = zarr.create_array(path, shape=image.shape, chunks=chunks, dtype=image.dtype)
    array[:] = image
    return path


def test_zarr_to_zarr(tmp_path, w2):
    image = _rgb((50, 45), np.uint16)
    source = _zarr_input(tmp_path / "in.zarr", image, (16, 16))
    assert _run("upscale", source, tmp_path / "out.zarr", "--scale", 2, "--weights", w2, "--chunk-size", 16) == 0
    out = zarr.open_array(tmp_path / "out.zarr" / "0", mode="r")
    assert out.dtype == np.uint16 and out.shape == (100, 90) and out.chunks == (32, 32)
    assert_rounded_equal(out[:], expected_file(image, 2, w2))
    state = out.attrs["skfsrcnn"]
    assert state["complete"] and state["done"] == [[0, 12]]  # 4 x 3 chunks


def test_zarr_rgb_float_and_chunk_size(tmp_path, random_weights):
    weights = random_weights("fsrcnn-s", 3)
    image = np.random.default_rng(0).random((40, 30, 3)).astype(np.float32)
    source = _zarr_input(tmp_path / "in.zarr", image, (40, 30, 1))
    assert _run("upscale", source, tmp_path / "out.zarr", "--scale", 3, "--weights", weights, "--chunk-size", 20) == 0
    out = zarr.open_array(tmp_path / "out.zarr" / "0", mode="r")
    assert out.dtype == np.float32 and out.chunks == (3, 60, 60)  # OME-Zarr: colour first
    expected = np.moveaxis(expected_file(image, 3, weights, channel_axis=-1), -1, 0)
    np.testing.assert_allclose(out[:], expected, atol=1e-5)


@pytest.mark.parametrize("layout", [dict(tile=(32, 32)), dict(compression="zlib"), {}])
def test_tiff_to_zarr(tmp_path, w2, layout):
    # tiled and compressed TIFFs are read through tifffile's zarr store, plain ones memory-mapped
    image = _rgb((70, 40), np.uint16)
    tifffile.imwrite(tmp_path / "in.tif", image, **layout)
    assert (
        _run("upscale", tmp_path / "in.tif", tmp_path / "out.zarr", "--scale", 2, "--weights", w2, "--chunk-size", 32)
        == 0
    )
    assert zarr.open_array(tmp_path / "out.zarr" / "0", mode="r").chunks == (64, 64)
    assert_rounded_equal(zarr.open_array(tmp_path / "out.zarr" / "0", mode="r")[:], expected_file(image, 2, w2))


def test_zarr_refusals(tmp_path, w2, capsys):
    image = _rgb((20, 20), np.uint8)
    source = _zarr_input(tmp_path / "in.zarr", image, (10, 10))
    assert _run("upscale", source, tmp_path / "out.png", "--weights", w2, "--scale", 2) == 2
    assert "zarr OUTPUT" in capsys.readouterr().err
    assert _run("upscale", source, source, "--weights", w2, "--scale", 2, "--overwrite") == 2
    assert "same file" in capsys.readouterr().err
    assert _run("upscale", tmp_path / "missing.zarr", tmp_path / "out.zarr") == 2
    assert "missing.zarr" in capsys.readouterr().err
    zarr.open_group(tmp_path / "group.zarr", mode="w").create_array("0", shape=(20, 20), dtype="u1")
    assert _run("upscale", tmp_path / "group.zarr", tmp_path / "out.zarr", "--weights", w2, "--scale", 2) == 2
    assert "group.zarr/0" in capsys.readouterr().err
    (tmp_path / "plain.zarr").mkdir()
    (tmp_path / "plain.zarr" / "keep.txt").write_text("mine")
    assert _run("upscale", source, tmp_path / "plain.zarr", "--weights", w2, "--scale", 2, "--overwrite") == 2
    assert "not a zarr store" in capsys.readouterr().err
    assert (tmp_path / "plain.zarr" / "keep.txt").read_text() == "mine"


def test_zarr_overwrite(tmp_path, w2, capsys):
    source = _zarr_input(tmp_path / "in.zarr", _rgb((20, 20), np.uint8), (10, 10))
    assert _run("upscale", source, tmp_path / "out.zarr", "--weights", w2, "--scale", 2) == 0
    before = zarr.open_array(tmp_path / "out.zarr" / "0", mode="r")[:]
    assert _run("upscale", source, tmp_path / "out.zarr", "--weights", w2, "--scale", 2) == 2
    assert "--resume" in capsys.readouterr().err
    assert_array_equal(zarr.open_array(tmp_path / "out.zarr" / "0", mode="r")[:], before)
    assert _run("upscale", source, tmp_path / "out.zarr", "--weights", w2, "--scale", 2, "--overwrite") == 0
    assert_array_equal(zarr.open_array(tmp_path / "out.zarr" / "0", mode="r")[:], before)


def test_resume_skips_done_chunks(tmp_path, w2, monkeypatch, capsys):
    import threading

    from skfsrcnn import _chunked, _dask

    image = _rgb((48, 40), np.uint16)
    source = _zarr_input(tmp_path / "in.zarr", image, (16, 16))  # 3 x 3 = 9 chunks of 16 (see --chunk-size)
    output = tmp_path / "out.zarr"
    args = ("upscale", source, output, "--scale", 2, "--weights", w2, "--jobs", 1, "--chunk-size", 16)

    store, stored = _chunked._store_block, []

    def interrupted_store(block, *, block_info=None, **kwargs):
        if len(stored) == 4:
            raise KeyboardInterrupt  # as Ctrl-C would, during the fifth chunk
        stored.append(1)
        return store(block, block_info=block_info, **kwargs)

    monkeypatch.setattr(_chunked, "_store_block", interrupted_store)
    assert _run(*args) == 130
    assert "--resume" in capsys.readouterr().err
    done = _chunked._from_ranges(zarr.open_array(output / "0", mode="r").attrs["skfsrcnn"]["done"])
    assert len(done) == 4

    assert _run(*args) == 2  # exists: neither --resume nor --overwrite
    upscale_block, calls, lock = _dask._upscale_block, [], threading.Lock()

    def counting_block(*a, block_id=None, **kw):
        with lock:
            calls.append(block_id)
        return upscale_block(*a, block_id=block_id, **kw)

    monkeypatch.setattr(_chunked, "_store_block", store)
    monkeypatch.setattr(_dask, "_upscale_block", counting_block)
    assert _run(*args, "--resume") == 0
    assert "computed 5 chunk(s)" in capsys.readouterr().out
    assert len(calls) == 5
    out = zarr.open_array(output / "0", mode="r")
    assert out.attrs["skfsrcnn"]["complete"]
    assert_rounded_equal(out[:], expected_file(image, 2, w2))

    calls.clear()
    assert _run(*args, "--resume") == 0  # complete: nothing to do
    assert calls == []


def test_resume_refuses_other_settings(tmp_path, w2, random_weights, capsys):
    source = _zarr_input(tmp_path / "in.zarr", _rgb((20, 20), np.uint8), (10, 10))
    assert _run("upscale", source, tmp_path / "out.zarr", "--weights", w2, "--scale", 2) == 0
    other = random_weights("fsrcnn-s", 2, seed=5)
    assert _run("upscale", source, tmp_path / "out.zarr", "--weights", other, "--scale", 2, "--resume") == 2
    assert "cannot be resumed" in capsys.readouterr().err
    assert _run("upscale", source, tmp_path / "out.zarr", "--resume", "--overwrite") == 2


# --- self-ensemble, uncertainty, back-projection (issue 55) -------------------------------


def test_ensemble_uncertainty_and_back_projection(tmp_path, w2):
    image = _rgb((30, 26, 3))
    iio.imwrite(tmp_path / "in.png", image)
    argv = ["upscale", tmp_path / "in.png", tmp_path / "out.png", "--scale", 2, "--weights", w2, "--ensemble"]
    assert _run(*argv, "--uncertainty", tmp_path / "u.tif", "--back-projection", 2) == 0
    expected, uncertainty = upscale(
        image,
        2,
        weights=w2,
        channel_axis=-1,
        preserve_range=True,
        ensemble=True,
        return_uncertainty=True,
        back_projection=2,
    )
    assert_rounded_equal(iio.imread(tmp_path / "out.png"), np.clip(np.rint(expected), 0, 255).astype(np.uint8))
    written = tifffile.imread(tmp_path / "u.tif")
    assert written.dtype == np.float32 and written.shape == (60, 52)
    np.testing.assert_allclose(written, uncertainty, atol=1e-4)  # grey levels of 255


def test_ensemble_on_zarr_equals_in_memory(tmp_path, w2):
    image = _rgb((40, 36, 3))
    _zarr_input(tmp_path / "in.zarr", image, (20, 20, 3))
    assert (
        _run("upscale", tmp_path / "in.zarr", tmp_path / "out.zarr", "--scale", 2, "--weights", w2, "--ensemble") == 0
    )
    expected = upscale(image, 2, weights=w2, channel_axis=-1, preserve_range=True, ensemble=True)
    written = zarr.open_array(tmp_path / "out.zarr" / "0", mode="r")[:]  # OME-Zarr: colour first
    assert_rounded_equal(np.moveaxis(written, 0, -1), np.clip(np.rint(expected), 0, 255).astype(np.uint8))


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--uncertainty", "u.tif"], "--uncertainty needs --ensemble"),
        (["--ensemble", "--uncertainty", "u.png"], "must end in .tif"),
        (["--ensemble", "--uncertainty", "out.png"], "is INPUT or OUTPUT"),
        (["--back-projection", "-1"], "`back_projection`=-1"),
    ],
)
def test_ensemble_options_refused_before_any_work(tmp_path, w2, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    iio.imwrite("in.png", _rgb())
    assert _run("upscale", "in.png", "out.png", "--scale", 2, "--weights", w2, *extra) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


@pytest.mark.parametrize(
    "weights, model, expected", [("fsrcnn-s-x2", "fsrcnn", "fsrcnn-s-x2"), (None, "fsrcnn-s", "fsrcnn-s-x2")]
)
def test_provenance_records_the_registry_hash_by_weights_name_or_model(weights, model, expected):
    import argparse

    from skfsrcnn._registry import REGISTRY
    from skfsrcnn.cli.upscale import _provenance

    made = _provenance(argparse.Namespace(weights=weights, model=model, scale=2, tile_size=None))
    assert made["model"] == expected and made["weights_sha256"] == REGISTRY[expected]["sha256"]
