"""Tests for skfsrcnn._chunked: resumable, chunk-by-chunk zarr output (``skfsrcnn upscale ... out.zarr``)."""

import dask
import dask.array as da
import numpy as np
import pytest
import zarr
from file_helpers import assert_rounded_equal, expected_file

from skfsrcnn import _chunked, upscale
from skfsrcnn._options import UpscaleOptions

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def w2(random_weights):
    return random_weights("fsrcnn-s", 2)


def _image(shape=(48, 40), dtype=np.uint16, seed=0):
    return np.random.default_rng(seed).integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)


def _write(image, output, weights, chunks=16, resume=False, source="in.zarr", scale=2, **options):
    """``upscale_to_zarr`` of ``image`` chunked ``chunks``, one chunk at a time, no progress bar."""
    return _chunked.upscale_to_zarr(
        da.from_array(image, chunks=chunks),
        output,
        scale,
        UpscaleOptions(weights=weights, **options),
        source=source,
        resume=resume,
        jobs=1,
        progress=False,
    )


def _reference(image, weights, channel_axis=None):
    """What the zarr output of the x2 writes holds."""
    return expected_file(image, 2, weights, channel_axis)


def _reference(image, weights, channel_axis=None):
    """What the zarr output holds: upscale in original units, rounded to the input's integer dtype."""
    out = upscale(image, 2, weights=weights, channel_axis=channel_axis, preserve_range=True)
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(image.dtype)
    return out


def _state(output):
    return zarr.open_array(output, mode="r").attrs[_chunked.STATE_KEY]


def test_output_equals_numpy_upscale(tmp_path, w2):
    image = _image()
    assert _write(image, tmp_path / "out.zarr", w2) == 9  # 3 x 3 chunks of 16
    out = zarr.open_array(tmp_path / "out.zarr", mode="r")
    assert out.shape == (96, 80) and out.chunks == (32, 32)
    assert_rounded_equal(out[:], _reference(image, w2))
    state = _state(tmp_path / "out.zarr")
    assert state["complete"] and state["done"] == [[0, 9]]
    assert state["value_range"] == [int(image.min()), int(image.max())]


def test_float_rgb_output_equals_numpy_upscale(tmp_path, w2):
    image = np.random.default_rng(1).random((40, 36, 3), dtype=np.float32)
    _write(image, tmp_path / "out.zarr", w2, chunks=(16, 16, 3), channel_axis=-1)
    out = zarr.open_array(tmp_path / "out.zarr", mode="r")[:]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, _reference(image, w2, channel_axis=-1), atol=1e-5)


def test_preserve_range_is_always_on(tmp_path, w2):
    """The output is in the input's units whatever the options say (the command writes files)."""
    image = _image((32, 32))
    _write(image, tmp_path / "out.zarr", w2, preserve_range=False)
    assert_rounded_equal(zarr.open_array(tmp_path / "out.zarr", mode="r")[:], _reference(image, w2))


def test_an_interrupted_write_resumes_where_it_stopped(tmp_path, w2, monkeypatch):
    image, output = _image(), tmp_path / "out.zarr"
    store, stored = _chunked._store_block, []

    def interrupted_store(block, *, block_info=None, **kwargs):  # dask passes block_info when named
        if len(stored) == 4:
            raise KeyboardInterrupt  # as Ctrl-C would, during the fifth chunk
        stored.append(1)
        return store(block, block_info=block_info, **kwargs)

    monkeypatch.setattr(_chunked, "_store_block", interrupted_store)
    with pytest.raises(KeyboardInterrupt):
        _write(image, output, w2)
    state = _state(output)
    assert not state["complete"]
    assert len(_chunked._from_ranges(state["done"])) == 4  # recorded as they were written

    monkeypatch.setattr(_chunked, "_store_block", store)
    assert _write(image, output, w2, resume=True) == 5  # only the chunks not recorded
    assert _state(output)["complete"]
    assert_rounded_equal(zarr.open_array(output, mode="r")[:], _reference(image, w2))
    assert _write(image, output, w2, resume=True) == 0  # complete: nothing left


def test_resume_keeps_the_recorded_value_range(tmp_path, w2, monkeypatch):
    """Chunks computed after a resume are scaled like the first ones, by the range recorded at the start."""
    image, output = _image(), tmp_path / "out.zarr"
    _write(image, output, w2)
    attrs = zarr.open_array(output, mode="r+").attrs
    state = dict(attrs[_chunked.STATE_KEY])
    attrs[_chunked.STATE_KEY] = {**state, "done": [[0, 8]], "complete": False}
    computed = []
    monkeypatch.setattr(dask, "compute", lambda *a, **k: computed.append(1))
    assert _write(image, output, w2, resume=True) == 1
    assert computed == []  # the extrema were not computed again
    assert_rounded_equal(zarr.open_array(output, mode="r")[:], _reference(image, w2))


@pytest.mark.parametrize(
    "change",
    [
        {"scale": 3},
        {"source": "other.zarr"},
        {"chunks": 8},
        {"channel_axis": 0},
        {"model": "fsrcnn", "weights": None},
    ],
)
def test_resume_refuses_other_settings(tmp_path, w2, change):
    image, output = _image((32, 32)), tmp_path / "out.zarr"
    _write(image, output, w2)
    settings = {"weights": w2, **change}
    with pytest.raises(ValueError, match="cannot be resumed; pass --overwrite to start again"):
        _write(image, output, resume=True, **settings)


def test_resume_refuses_other_weights(tmp_path, w2, random_weights):
    image, output = _image((32, 32)), tmp_path / "out.zarr"
    _write(image, output, w2)
    with pytest.raises(ValueError, match="was not started by this command with the same INPUT and options"):
        _write(image, output, random_weights("fsrcnn-s", 2, seed=5), resume=True)


def test_resume_refuses_what_is_not_a_zarr_array(tmp_path, w2):
    output = tmp_path / "out.zarr"
    output.write_text("not zarr")
    with pytest.raises(ValueError, match="cannot be resumed: it is not a zarr array"):
        _write(_image((32, 32)), output, w2, resume=True)


def test_a_new_output_refuses_an_existing_one(tmp_path, w2):
    image, output = _image((32, 32)), tmp_path / "out.zarr"
    _write(image, output, w2)
    with pytest.raises(FileExistsError):  # zarr's own error: the CLI checks and names --overwrite first
        _write(image, output, w2)


def test_jobs_must_be_positive():
    with pytest.raises(ValueError, match=r"--jobs 0 must be in \[1, 256\]"):
        _chunked.check_jobs(0)
    assert _chunked._jobs("cpu", 2)[0] == 2


@pytest.mark.parametrize("numbers", [set(), {0}, {0, 1, 2, 5, 7, 8}, set(range(100)) - {50}])
def test_done_chunks_round_trip_as_ranges(numbers):
    assert _chunked._from_ranges(_chunked._to_ranges(numbers)) == numbers


def test_to_ranges_is_compact():
    assert _chunked._to_ranges({3, 0, 1, 2, 7, 8}) == [[0, 4], [7, 9]]


def test_remove_zarr(tmp_path):
    store = tmp_path / "a.zarr"
    zarr.open_array(store, mode="w", shape=(4,), dtype="u1")
    _chunked.remove_zarr(store)
    assert not store.exists()
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(ValueError, match="exists and is not a zarr store; it was not replaced"):
        _chunked.remove_zarr(plain)
    assert plain.exists()
    single = tmp_path / "b.zarr"  # a file of the user's, named like a store: refused too, as write_image does
    single.write_text("x")
    with pytest.raises(ValueError, match="exists and is not a zarr store; it was not replaced"):
        _chunked.remove_zarr(single)
    assert single.read_text() == "x"
    _chunked.remove_zarr(tmp_path / "missing.zarr")
