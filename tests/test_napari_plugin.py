"""The napari plugin without a viewer: manifest, sample data, the pure function, geometry."""

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("napari")
npe2 = pytest.importorskip("npe2")

from napari_fsrcnn import output_geometry, run_fsrcnn, run_fsrcnn_steps  # noqa: E402

# Settings are tiny so that the tests stay fast on a CPU; output quality is not tested.
FAST = {"model": "fsrcnn-s", "tile_size": 16, "device": "cpu"}


def test_manifest_is_discovered_and_valid():
    manifest = npe2.PluginManifest.from_distribution("skfsrcnn")
    assert manifest.name == "skfsrcnn"
    assert [w.display_name for w in manifest.contributions.widgets] == ["FSRCNN super-resolution", "Train FSRCNN"]
    assert {s.key for s in manifest.contributions.sample_data} == {"cell", "tissue", "photo"}
    manifest.validate_imports()


def test_npe2_validate_cli():
    result = subprocess.run(
        [sys.executable, "-m", "npe2", "validate", "skfsrcnn", "--imports"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout


def test_import_is_light():
    code = (
        "import sys, napari_fsrcnn, napari_fsrcnn._compute, napari_fsrcnn._sample_data, napari_fsrcnn._trained; "
        "print(sorted(m for m in ('torch', 'qtpy', 'PyQt6', 'PyQt5', 'PySide6') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("name", "shape", "rgb"),
    [("cell", (330, 275), False), ("tissue", (256, 256, 3), True), ("photo", (150, 226, 3), True)],
)
def test_sample_data(name, shape, rgb):
    from napari_fsrcnn import _sample_data

    [(data, kwargs, kind)] = getattr(_sample_data, name)()
    assert kind == "image"
    assert data.shape == shape and data.dtype == np.uint8
    assert kwargs.get("rgb", False) is rgb
    assert kwargs["metadata"]["downscaled_by"] == 2


def test_output_geometry_plain():
    scale, translate = output_geometry(3, 2, scale=(2.0, 1.0, 0.5), translate=(1.0, 0.0, 10.0))
    assert scale == (2.0, 0.5, 0.25)
    assert translate == (1.0, -0.25, 10.0 - 0.125)
    assert output_geometry(2, 4) == ((0.25, 0.25), (-0.375, -0.375))


@pytest.mark.parametrize("factor", [2, 3, 4])
@pytest.mark.parametrize("rotate", [None, 30.0])
def test_output_overlays_input_exactly(factor, rotate):
    """The outer pixel edges of input and output coincide in world coordinates."""
    from napari.layers import Image

    rows, cols = 7, 5
    layer_kwargs = {"scale": (0.3, 0.7), "translate": (4.0, -2.0), "rotate": rotate}
    src = Image(np.zeros((rows, cols)), **{k: v for k, v in layer_kwargs.items() if v is not None})
    scale, translate = output_geometry(2, factor, **layer_kwargs)
    out = Image(np.zeros((rows * factor, cols * factor)), scale=scale, translate=translate, rotate=rotate)
    for corner in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        edge_in = np.array(corner) * (rows, cols) - 0.5
        edge_out = np.array(corner) * (rows * factor, cols * factor) - 0.5
        assert_allclose(out.data_to_world(edge_out), src.data_to_world(edge_in), atol=1e-9)


def test_run_fsrcnn_grey_uint16_keeps_layer_attributes():
    rng = np.random.default_rng(0)
    data = rng.integers(100, 4000, (3, 20, 24)).astype(np.uint16)
    layer_kwargs = {
        "name": "stack",
        "scale": (2.0, 0.5, 0.5),
        "translate": (0.0, 1.0, 2.0),
        "metadata": {"pixel_size_um": 0.5},
        "contrast_limits": (100.0, 4000.0),
        "colormap": "magma",
        "units": ("um", "um", "um"),
        "axis_labels": ("z", "y", "x"),
    }
    out, kwargs, kind = run_fsrcnn(data, 3, layer_kwargs=layer_kwargs, **FAST)
    assert kind == "image"
    assert out.shape == (3, 60, 72) and out.dtype == np.uint16
    assert kwargs["name"] == "stack_fsrcnn_x3"
    assert_allclose(kwargs["scale"], (2.0, 0.5 / 3, 0.5 / 3))
    assert_allclose(kwargs["translate"], (0.0, 1.0 - 0.5 / 3, 2.0 - 0.5 / 3))
    assert kwargs["metadata"]["pixel_size_um"] == 0.5
    assert kwargs["metadata"]["skfsrcnn"] == {
        "source": "stack",
        "scale": 3,
        "model": "fsrcnn-s",
        "lazy": False,
        "ensemble": False,
        "current_slice": None,
    }
    assert kwargs["contrast_limits"] == (100.0, 4000.0)
    assert kwargs["colormap"] == "magma" and kwargs["rgb"] is False
    assert kwargs["units"] == ("um", "um", "um") and kwargs["axis_labels"] == ("z", "y", "x")
    assert layer_kwargs["metadata"] == {"pixel_size_um": 0.5}  # the input's dict is not modified


def test_run_fsrcnn_uint16_contrast_from_data_without_layer():
    data = np.full((12, 12), 1000, np.uint16)
    data[4:8, 4:8] = 3000
    out, kwargs, _ = run_fsrcnn(data, 2, **FAST)
    low, high = kwargs["contrast_limits"]
    assert (low, high) == (float(out.min()), float(out.max()))
    assert high < 4096  # not the uint16 range, which would show a black image


def test_run_fsrcnn_rgb_stays_rgb():
    data = np.random.default_rng(1).integers(0, 256, (18, 22, 3)).astype(np.uint8)
    out, kwargs, _ = run_fsrcnn(data, 2, layer_kwargs={"name": "photo", "rgb": True}, **FAST)
    assert out.shape == (36, 44, 3) and out.dtype == np.uint8
    assert kwargs["rgb"] is True and kwargs["scale"] == (0.5, 0.5)
    assert "contrast_limits" not in kwargs


def test_run_fsrcnn_float_and_current_slice_of_4d_dask():
    da = pytest.importorskip("dask.array")
    data = da.random.random((2, 3, 16, 20), chunks=(1, 1, 16, 20)).astype(np.float32)
    out, kwargs, _ = run_fsrcnn(
        data, 2, current_slice=(1, 2), layer_kwargs={"scale": (1.0, 3.0, 1.0, 1.0), "translate": (0, 0, 5, 5)}, **FAST
    )
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert out.shape == (1, 1, 32, 40)
    assert_allclose(kwargs["translate"], (1.0, 6.0, 4.75, 4.75))
    assert kwargs["metadata"]["skfsrcnn"]["current_slice"] == (1, 2)


def test_run_fsrcnn_whole_4d_dask():
    da = pytest.importorskip("dask.array")
    data = da.from_array(np.random.default_rng(2).random((2, 2, 10, 12)), chunks=(1, 1, 10, 12))
    out, kwargs, _ = run_fsrcnn(data, 2, **FAST)
    assert out.shape == (2, 2, 20, 24) and out.dtype == np.float64
    assert kwargs["scale"] == (1.0, 1.0, 0.5, 0.5)


def test_run_fsrcnn_steps_reports_progress_and_is_lazy():
    data = np.zeros((40, 40), np.uint8)
    steps = run_fsrcnn_steps(data, 2, **FAST)
    assert next(steps) == (1, 9)  # nothing runs before the first next()
    progress = list(steps)
    assert progress[-1] == (9, 9)


@pytest.mark.parametrize(
    ("data", "options", "error", "match"),
    [
        (np.zeros((4, 4), np.uint8), {}, ValueError, "5x5"),
        (np.zeros((3, 20, 20)), {"current_slice": (3,)}, ValueError, "outside"),
        (np.zeros((3, 20, 20)), {"current_slice": (0, 0)}, ValueError, "1 indices"),
        ([np.zeros((20, 20))], {}, ValueError, "Multiscale"),
        ([np.zeros((20, 20))], {"lazy": True}, ValueError, "Multiscale"),
        (np.zeros((3, 20, 20)), {"lazy": True, "current_slice": (1,)}, ValueError, "exclude each other"),
        (np.zeros((20, 20)), {"scale": 5}, ValueError, "scale"),
        (np.zeros((20, 20)), {"uncertainty": True}, ValueError, "`uncertainty`=True needs `ensemble`=True"),
    ],
)
def test_run_fsrcnn_errors(data, options, error, match):
    options = {**FAST, "scale": 2, **options}
    with pytest.raises(error, match=match):
        run_fsrcnn(data, **options)


def _recorded(data, chunks, reads):
    """``data`` as a dask array that appends the leading indices of every chunk it computes to ``reads``."""
    da = pytest.importorskip("dask.array")
    leading = data.ndim - 2

    def record(block, block_info=None):
        reads.append(tuple(start for start, _ in block_info[0]["array-location"][:leading]))
        return block

    return da.from_array(data, chunks=chunks).map_blocks(record, dtype=data.dtype)


def _stack_uint16(shape, seed=3):
    """Planes with ranges of their own, so that per-plane and global scaling differ."""
    rng = np.random.default_rng(seed)
    planes = rng.integers(0, 1000, shape)
    offsets = rng.integers(0, 30000, shape[:-2])[..., None, None]
    return (planes * rng.integers(1, 30, shape[:-2])[..., None, None] + offsets).astype(np.uint16)


def test_run_fsrcnn_lazy_builds_without_computing_and_shows_planes_as_upscale_does(network_calls):
    from skfsrcnn import upscale

    data = _stack_uint16((2, 3, 37, 29))
    reads = []
    lazy_in = _recorded(data, (2, 2, 13, 11), reads)  # chunks across planes and through each plane
    layer_kwargs = {
        "name": "movie",
        "scale": (1.0, 2.0, 0.5, 0.5),
        "translate": (0, 0, 1, 1),
        "contrast_limits": (0.0, 30000.0),
        "metadata": {"um": 0.5},
    }
    out, kwargs, _ = run_fsrcnn(lazy_in, 2, lazy=True, layer_kwargs=layer_kwargs, **FAST)

    assert type(out).__module__.startswith("dask") and out.dtype == np.uint16
    assert out.shape == (2, 3, 74, 58) and out.chunks[:2] == ((1, 1), (1, 1, 1))
    assert reads == [] and network_calls == []  # nothing computed
    eager = run_fsrcnn(data, 2, layer_kwargs=layer_kwargs, **FAST)[1]
    assert kwargs["contrast_limits"] == (0.0, 30000.0)  # the input's, not computed
    assert {k: v for k, v in kwargs.items() if k != "metadata"} == {k: v for k, v in eager.items() if k != "metadata"}
    assert kwargs["metadata"]["um"] == 0.5 and kwargs["metadata"]["skfsrcnn"]["lazy"] is True

    plane = np.asarray(out[1, 2])  # what napari asks for when it shows plane (1, 2)
    assert set(reads) == {(0, 2)} and len(reads) == 3 * 3  # the input chunks holding that plane, once
    assert len(network_calls) == 3 * 3 and all(shape[:-2] == (1, 1) for shape in network_calls)
    expected = np.rint(upscale(data[1, 2], 2, preserve_range=True, **FAST)).astype(np.uint16)
    assert np.abs(plane.astype(int) - expected).max() <= 1  # float rounding of the tiling, at .5
    assert np.mean(plane == expected) > 0.999


@pytest.mark.parametrize("numpy_input", [False, True])
def test_run_fsrcnn_lazy_rgb_stack(numpy_input, network_calls):
    from skfsrcnn import upscale

    da = pytest.importorskip("dask.array")
    data = np.random.default_rng(4).integers(0, 256, (3, 18, 22, 3)).astype(np.uint8)
    layer_data = data if numpy_input else da.from_array(data, chunks=(2, 9, 11, 3))
    out, kwargs, _ = run_fsrcnn(layer_data, 3, lazy=True, layer_kwargs={"rgb": True}, **FAST)
    assert isinstance(out, da.Array) and out.chunksize[0] == 1 and network_calls == []
    assert kwargs["rgb"] is True and "contrast_limits" not in kwargs  # napari's: the first plane it shows
    plane = out[1].compute()
    expected = np.rint(255 * upscale(data[1], 3, channel_axis=-1, **FAST)).astype(np.uint8)
    assert np.abs(plane.astype(int) - expected).max() <= 1


def test_run_fsrcnn_user_weights(random_weights):
    path = random_weights("fsrcnn-s", 3)
    out, kwargs, _ = run_fsrcnn(np.zeros((10, 10), np.uint8), 3, weights=path, tile_size=16, device="cpu")
    assert out.shape == (30, 30)
    assert kwargs["metadata"]["skfsrcnn"]["model"] == str(path)


def test_the_plugin_uses_only_public_skfsrcnn():
    """napari_fsrcnn imports no private module of skfsrcnn (issue 54): the library's API is enough."""
    import re
    from pathlib import Path

    import napari_fsrcnn

    sources = {path.name: path.read_text() for path in Path(napari_fsrcnn.__file__).parent.glob("*.py")}
    private = {name: re.findall(r"(?:from|import) skfsrcnn(?:\.\w+)*\._\w+", text) for name, text in sources.items()}
    assert not any(private.values()), private


# ---------------------------------------------------------------- ensemble and uncertainty (issue 55)


@pytest.mark.parametrize("lazy", [False, True])
def test_run_fsrcnn_uncertainty_layer_overlays_the_result(lazy):
    from skfsrcnn import upscale

    data = np.random.default_rng(4).integers(0, 256, (2, 18, 22, 3)).astype(np.uint8)
    layer_kwargs = {"name": "photos", "rgb": True, "scale": (3.0, 1.0, 2.0), "translate": (0.0, 5.0, 1.0)}
    layers = run_fsrcnn(data, 2, ensemble=True, uncertainty=True, lazy=lazy, layer_kwargs=layer_kwargs, **FAST)
    (out, kwargs, _), (spread, spread_kwargs, kind) = layers
    expected, expected_spread = upscale(
        data, 2, model="fsrcnn-s", channel_axis=-1, preserve_range=True, ensemble=True, return_uncertainty=True
    )
    if lazy:  # each plane scaled by its own extrema
        expected, expected_spread = upscale(
            data[1], 2, model="fsrcnn-s", channel_axis=-1, preserve_range=True, ensemble=True, return_uncertainty=True
        )
        out, spread = np.asarray(out[1]), np.asarray(spread[1])
    assert kind == "image" and spread.shape == out.shape[:-1] and spread.dtype == np.float32
    assert_allclose(spread, expected_spread, atol=1e-3)
    assert np.abs(out.astype(float) - expected).max() <= 0.5 + 1e-3  # rounded to uint8
    assert spread_kwargs["name"] == "photos_fsrcnn_x2_uncertainty" and spread_kwargs["rgb"] is False
    assert spread_kwargs["scale"] == kwargs["scale"] and spread_kwargs["translate"] == kwargs["translate"]
    assert spread_kwargs["colormap"] == "magma" and spread_kwargs["blending"] == "additive"
    assert kwargs["metadata"]["skfsrcnn"]["ensemble"] is True
    if not lazy:
        assert spread_kwargs["contrast_limits"] == (0.0, pytest.approx(float(np.percentile(spread, 99.5))))
