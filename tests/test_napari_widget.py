"""The napari dock widget in a real (headless) viewer: pytest-qt + make_napari_viewer under Xvfb."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("napari")
pytest.importorskip("pytestqt")

WIDGET = "FSRCNN super-resolution"
TIMEOUT_MS = 60_000


@pytest.fixture
def viewer_and_widget(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("skfsrcnn", WIDGET)
    yield viewer, widget
    if widget.worker is not None:  # never leave a thread running into the next test
        widget.cancel()
        qtbot.waitUntil(lambda: widget.worker is None, timeout=TIMEOUT_MS)


def _configure(
    widget, layer, *, scale=2, model="fsrcnn-s", tile_size=32, current_slice=False, weights=None, lazy=False
):
    widget._image.reset_choices()
    widget._image.value = layer
    widget._lazy.value = lazy
    widget._scale.value = scale
    widget._model.value = model
    if weights is not None:
        widget._weights.value = weights
    widget._tile_size.value = tile_size
    widget._device.value = "cpu"
    widget._current_slice.value = current_slice


def _run(qtbot, widget, layer, **options):
    _configure(widget, layer, **options)
    widget._run_button.clicked.emit()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=TIMEOUT_MS)


def _errors(notifications):
    from napari.utils.notifications import NotificationSeverity

    return [n for n in notifications if n.severity == NotificationSeverity.ERROR]


def _assert_overlays(out, src):
    """Pixel edges of the two layers coincide in world coordinates on the spatial axes."""
    for corner in [(0, 0), (1, 1)]:
        edge_in = np.array(corner) * src.data.shape[src.ndim - 2 : src.ndim] - 0.5
        edge_out = np.array(corner) * out.data.shape[out.ndim - 2 : out.ndim] - 0.5
        lead = np.zeros(src.ndim - 2)
        assert_allclose(out.data_to_world([*lead, *edge_out])[-2:], src.data_to_world([*lead, *edge_in])[-2:])


def test_widget_is_a_plugin_contribution(viewer_and_widget):
    viewer, widget = viewer_and_widget
    from napari_fsrcnn import FSRCNNWidget

    assert isinstance(widget, FSRCNNWidget)
    assert widget._image.value is None and not widget._current_slice.enabled and not widget._lazy.enabled
    assert widget["scale"] is widget._scale and widget["run_button"] is widget._run_button
    assert widget._scale.choices == (2, 3, 4)
    assert widget._model.choices[:4] == ("fsrcnn", "fsrcnn-s", "fsrcnn-fluo", "fsrcnn-s-fluo")
    assert widget._model.choices[-1] == "weights-file"  # session-trained weights, if any, come between
    layer = viewer.add_image(np.zeros((2, 8, 8)), name="stack")
    assert widget._image.value is layer and widget._current_slice.enabled  # choices follow the layer list


def test_nothreads_runs_in_the_gui_thread(viewer_and_widget, monkeypatch):
    viewer, widget = viewer_and_widget
    monkeypatch.setenv("NAPARI_FSRCNN_NOTHREADS", "1")
    layer = viewer.add_image(np.zeros((10, 10), np.uint8), name="sync")
    _configure(widget, layer)
    widget.run()  # returns only when done
    assert widget.worker is None and "sync_fsrcnn_x2" in viewer.layers


def test_grey_2d(viewer_and_widget, qtbot, notifications):
    viewer, widget = viewer_and_widget
    data = np.random.default_rng(0).integers(0, 256, (30, 40)).astype(np.uint8)
    layer = viewer.add_image(data, name="grey", scale=(0.5, 0.5), translate=(3.0, 4.0), metadata={"um": 0.5})
    _run(qtbot, widget, layer, scale=3, model="fsrcnn")

    assert not _errors(notifications)
    out = viewer.layers["grey_fsrcnn_x3"]
    assert out.data.shape == (90, 120) and out.data.dtype == np.uint8
    assert_allclose(out.scale, (0.5 / 3, 0.5 / 3))
    assert_allclose(out.translate, (3.0 - 0.5 / 3, 4.0 - 0.5 / 3))
    assert out.metadata["um"] == 0.5 and out.metadata["skfsrcnn"]["model"] == "fsrcnn"
    _assert_overlays(out, layer)
    assert widget._progress.value == widget._progress.max
    assert widget._image.value is layer  # the choice survives the new layer


def test_rgb(viewer_and_widget, qtbot, notifications):
    viewer, widget = viewer_and_widget
    data = np.random.default_rng(1).integers(0, 256, (24, 20, 3)).astype(np.uint8)
    layer = viewer.add_image(data, name="photo", rgb=True)
    _run(qtbot, widget, layer, scale=2)

    assert not _errors(notifications)
    out = viewer.layers["photo_fsrcnn_x2"]
    assert out.rgb and out.data.shape == (48, 40, 3) and out.data.dtype == np.uint8
    assert_allclose(out.scale, (0.5, 0.5))
    assert_allclose(out.translate, (-0.25, -0.25))
    _assert_overlays(out, layer)


def test_uint16_stack_3d_and_current_slice(viewer_and_widget, qtbot, notifications):
    viewer, widget = viewer_and_widget
    data = np.random.default_rng(2).integers(200, 3000, (3, 20, 24)).astype(np.uint16)
    layer = viewer.add_image(
        data, name="stack", scale=(2.0, 0.4, 0.4), translate=(1.0, 0.0, 0.0), contrast_limits=(200, 3000)
    )
    _run(qtbot, widget, layer, scale=4)

    out = viewer.layers["stack_fsrcnn_x4"]
    assert out.data.shape == (3, 80, 96) and out.data.dtype == np.uint16
    assert_allclose(out.scale, (2.0, 0.1, 0.1))
    assert_allclose(out.translate, (1.0, -0.15, -0.15))
    assert out.contrast_limits == [200, 3000]
    _assert_overlays(out, layer)

    viewer.layers.remove(out)
    viewer.dims.set_point(0, 1.0 + 2 * 2.0)  # world z of plane 2
    assert widget._current_slice.enabled
    _run(qtbot, widget, layer, scale=2, current_slice=True)
    preview = viewer.layers["stack_fsrcnn_x2"]
    assert preview.data.shape == (1, 40, 48)
    assert_allclose(preview.translate, (5.0, -0.1, -0.1))
    assert preview.metadata["skfsrcnn"]["current_slice"] == (2,)
    assert not _errors(notifications)


def test_dask_4d_current_slice(viewer_and_widget, qtbot, notifications):
    da = pytest.importorskip("dask.array")
    viewer, widget = viewer_and_widget
    data = da.random.randint(0, 1000, (2, 3, 16, 16), chunks=(1, 1, 16, 16)).astype(np.uint16)
    layer = viewer.add_image(data, name="movie")
    viewer.dims.set_point(0, 1)
    viewer.dims.set_point(1, 2)
    _run(qtbot, widget, layer, current_slice=True)

    assert not _errors(notifications)
    out = viewer.layers["movie_fsrcnn_x2"]
    assert isinstance(out.data, np.ndarray) and out.data.shape == (1, 1, 32, 32)
    assert_allclose(out.translate, (1.0, 2.0, -0.25, -0.25))


def test_lazy_is_offered_for_stacks_and_ticked_for_dask(viewer_and_widget):
    da = pytest.importorskip("dask.array")
    viewer, widget = viewer_and_widget
    cases = {
        "dask stack": (da.zeros((3, 16, 16), chunks=(1, 16, 16)), {}, True, True),
        "numpy stack": (np.zeros((3, 16, 16)), {}, True, False),
        "dask 2-D": (da.zeros((16, 16), chunks=8), {}, False, False),
        "dask RGB 2-D": (da.zeros((16, 16, 3), chunks=8), {"rgb": True}, False, False),
        "pyramid": ([da.zeros((3, 32, 32)), da.zeros((3, 16, 16))], {"multiscale": True}, False, False),
    }
    for name, (data, kwargs, offered, ticked) in cases.items():
        layer = viewer.add_image(data, name=name, **kwargs)
        widget._image.value = layer
        assert (widget._lazy.enabled, widget._lazy.value) == (offered, ticked), name
        assert widget._current_slice.enabled == (layer.ndim > 2 and not ticked), name
    widget._image.value = viewer.layers["numpy stack"]
    widget._lazy.value = True  # the user's choice
    assert not widget._current_slice.enabled


def test_dask_stack_is_upscaled_as_you_browse(viewer_and_widget, qtbot, notifications, network_calls):
    da = pytest.importorskip("dask.array")
    from skfsrcnn import upscale

    viewer, widget = viewer_and_widget
    rng = np.random.default_rng(5)
    data = (rng.integers(0, 900, (6, 30, 28)) * np.arange(1, 7)[:, None, None]).astype(np.uint16)
    planes_read = []

    def record(block, block_info=None):
        planes_read.extend(range(*block_info[0]["array-location"][0]))
        return block

    lazy_in = da.from_array(data, chunks=(1, 15, 28)).map_blocks(record, dtype=data.dtype)
    layer = viewer.add_image(
        lazy_in,
        name="zstack",
        scale=(3.0, 0.2, 0.2),
        translate=(0.0, 5.0, 5.0),
        contrast_limits=(0, 5000),
        metadata={"um": 0.2},
    )
    viewer.dims.set_point(0, 3 * 3.0)  # plane 3 on screen
    planes_read.clear()  # napari read the input's plane to show it
    assert widget._lazy.value  # a dask stack: lazy by default
    _run(qtbot, widget, layer, lazy=True, tile_size=16)

    assert not _errors(notifications)
    out = viewer.layers["zstack_fsrcnn_x2"]
    assert isinstance(out.data, da.Array) and out.data.dtype == np.uint16 and out.data.shape == (6, 60, 56)
    assert_allclose(out.scale, (3.0, 0.1, 0.1))
    assert_allclose(out.translate, (0.0, 4.95, 4.95))
    assert list(out.contrast_limits) == [0, 5000]  # the input's: no compute for them
    assert out.metadata["um"] == 0.2 and out.metadata["skfsrcnn"]["lazy"] is True
    assert "computed as you browse" in widget._status.value
    _assert_overlays(out, layer)
    # Adding it computed the plane on screen only: the network on its two blocks, from input chunks
    # of that plane (which napari's dask cache may still hold from showing the input).
    assert set(planes_read) <= {3} and len(network_calls) == 2

    def shown():
        return np.asarray(out._slice.image.raw)

    def expected(z):
        return np.rint(upscale(data[z], 2, preserve_range=True, model="fsrcnn-s", tile_size=16, device="cpu")).astype(
            np.uint16
        )

    assert np.abs(shown().astype(int) - expected(3)).max() <= 1
    viewer.dims.set_point(0, 5 * 3.0)
    assert 5 in planes_read and set(planes_read) <= {3, 5} and len(network_calls) == 4
    assert np.abs(shown().astype(int) - expected(5)).max() <= 1


def test_numpy_stack_lazily_when_chosen(viewer_and_widget, qtbot, notifications, network_calls):
    da = pytest.importorskip("dask.array")
    viewer, widget = viewer_and_widget
    layer = viewer.add_image(np.zeros((4, 2, 12, 12), np.float32), name="tzyx")
    _run(qtbot, widget, layer, lazy=True)
    assert not _errors(notifications)
    out = viewer.layers["tzyx_fsrcnn_x2"]
    assert isinstance(out.data, da.Array) and out.data.chunksize == (1, 1, 24, 24)
    assert out.data.dtype == np.float32 and len(network_calls) == 1  # the plane on screen


@pytest.fixture
def slow_steps(monkeypatch):
    """Make each tile take at least 5 ms, so that a run is still going when the test cancels it."""
    import time

    from napari_fsrcnn import _widget

    real = _widget.run_fsrcnn_steps

    def slow(*args, **kwargs):
        steps = real(*args, **kwargs)
        try:
            while True:
                step = next(steps)
                time.sleep(0.005)
                yield step
        except StopIteration as stop:
            return stop.value

    monkeypatch.setattr(_widget, "run_fsrcnn_steps", slow)


def test_cancel_adds_no_layer_and_viewer_stays_responsive(viewer_and_widget, qtbot, slow_steps):
    from qtpy.QtCore import QTimer

    viewer, widget = viewer_and_widget
    layer = viewer.add_image(np.zeros((1024, 1024), np.uint8), name="big")
    _configure(widget, layer, tile_size=16)  # 4096 tiles
    widget._run_button.clicked.emit()
    worker = widget.worker
    assert worker is not None and not widget._run_button.enabled

    qtbot.waitUntil(lambda: widget._progress.value >= 2, timeout=TIMEOUT_MS)
    # The GUI thread is free while the worker runs: a timer fires and a layer can be added.
    fired = []
    QTimer.singleShot(0, lambda: fired.append(True))
    qtbot.waitUntil(lambda: bool(fired), timeout=5_000)
    viewer.add_points([[1, 1]], name="clicked meanwhile")
    assert worker.is_running

    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT_MS):
        widget._cancel_button.clicked.emit()
    assert widget.worker is None
    assert widget._progress.value < widget._progress.max == 4096
    assert [lyr.name for lyr in viewer.layers] == ["big", "clicked meanwhile"]
    assert "Cancelled" in widget._status.value and widget._run_button.enabled


def test_cancel_from_napari_activity_progress_bar(viewer_and_widget, qtbot, slow_steps):
    viewer, widget = viewer_and_widget
    layer = viewer.add_image(np.zeros((1024, 1024), np.uint8), name="big")
    _configure(widget, layer, tile_size=16)
    widget._run_button.clicked.emit()
    worker = widget.worker
    qtbot.waitUntil(lambda: widget._pbar is not None and widget._pbar.total == 4096, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT_MS):
        widget._pbar.cancel()  # what the Cancel button of napari's activity dock does
    assert [lyr.name for lyr in viewer.layers] == ["big"]


@pytest.mark.parametrize("case", ["too-small", "missing-weights-file", "bad-weights-file", "runtime-error"])
def test_errors_become_notifications(viewer_and_widget, qtbot, notifications, tmp_path, monkeypatch, case):
    viewer, widget = viewer_and_widget
    options = {}
    data = np.zeros((20, 20), np.uint8)
    if case == "too-small":
        data, expected = np.zeros((4, 4), np.uint8), "5x5"
    elif case == "missing-weights-file":
        options = {"model": "weights-file", "weights": tmp_path / "missing.safetensors"}
        expected = "missing.safetensors"
    elif case == "bad-weights-file":
        bad = tmp_path / "bad.safetensors"
        bad.write_bytes(b"not a weights file")
        options, expected = {"model": "weights-file", "weights": bad}, "not valid safetensors"
    else:

        def broken(*args, **kwargs):
            raise RuntimeError("device exploded")
            yield  # a generator, like the real one

        monkeypatch.setattr("napari_fsrcnn._widget.run_fsrcnn_steps", broken)
        expected = "device exploded"
    layer = viewer.add_image(data, name="input")
    _run(qtbot, widget, layer, **options)

    qtbot.waitUntil(lambda: bool(_errors(notifications)), timeout=5_000)
    assert any(expected in str(n.message) for n in _errors(notifications)), [n.message for n in notifications]
    assert [lyr.name for lyr in viewer.layers] == ["input"]
    assert widget._run_button.enabled and not widget._cancel_button.enabled


def test_user_weights_file(viewer_and_widget, qtbot, notifications, random_weights):
    viewer, widget = viewer_and_widget
    path = random_weights("fsrcnn-s", 3)
    layer = viewer.add_image(np.zeros((12, 12), np.float32), name="float")
    _configure(widget, layer, scale=3, model="weights-file", weights=path)
    assert not widget._weights.native.isHidden()
    _run(qtbot, widget, layer, scale=3, model="weights-file", weights=path)

    assert not _errors(notifications)
    out = viewer.layers["float_fsrcnn_x3"]
    assert out.data.shape == (36, 36) and out.data.dtype == np.float32
    assert out.metadata["skfsrcnn"]["model"] == str(path)


@pytest.mark.parametrize("key", ["cell", "tissue", "photo"])
def test_open_sample(make_napari_viewer, key):
    viewer = make_napari_viewer()
    viewer.open_sample("skfsrcnn", key)
    [layer] = viewer.layers
    assert layer.rgb is (key != "cell")


def test_ensemble_adds_an_uncertainty_layer_over_the_result(viewer_and_widget, qtbot, notifications):
    viewer, widget = viewer_and_widget
    assert not widget._uncertainty.enabled  # only with the ensemble
    widget._ensemble.value = True
    assert widget._uncertainty.enabled
    widget._uncertainty.value = True
    data = np.random.default_rng(5).integers(0, 256, (30, 26)).astype(np.uint8)
    layer = viewer.add_image(data, name="grey", scale=(0.5, 0.25), translate=(1.0, 2.0))
    _run(qtbot, widget, layer, scale=2)

    assert not _errors(notifications)
    out, spread = viewer.layers["grey_fsrcnn_x2"], viewer.layers["grey_fsrcnn_x2_uncertainty"]
    assert spread.data.shape == out.data.shape == (60, 52)
    _assert_overlays(spread, layer)
    assert_allclose(spread.scale, out.scale)
    assert spread.colormap.name == "magma"
    assert widget._progress.max == 8 and "uncertainty" in widget._status.value
    widget._ensemble.value = False
    assert not widget._uncertainty.enabled and not widget._uncertainty.value
