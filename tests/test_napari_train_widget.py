"""The *Train FSRCNN* dock widget in a real (headless) viewer: train, cancel, hand the model to the upscale widget."""

import numpy as np
import pytest

pytest.importorskip("napari")
pytest.importorskip("pytestqt")

TRAIN = "Train FSRCNN"
UPSCALE = "FSRCNN super-resolution"
TIMEOUT_MS = 120_000


@pytest.fixture
def viewer_and_widgets(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    _, upscale = viewer.window.add_plugin_dock_widget("skfsrcnn", UPSCALE)
    _, train = viewer.window.add_plugin_dock_widget("skfsrcnn", TRAIN)
    yield viewer, train, upscale
    for widget in (train, upscale):  # never leave a thread running into the next test
        if widget.worker is not None:
            widget.cancel()
            qtbot.waitUntil(lambda w=widget: w.worker is None, timeout=TIMEOUT_MS)


@pytest.fixture
def cell(viewer_and_widgets):
    """A 128 x 128 crop of skimage's phase-contrast cell as an image layer."""
    from skimage import data

    viewer = viewer_and_widgets[0]
    return viewer.add_image(data.cell()[:128, :128], name="cell")


def _errors(notifications):
    from napari.utils.notifications import NotificationSeverity

    return [n for n in notifications if n.severity == NotificationSeverity.ERROR]


def _configure(widget, layers, output_dir, *, time_budget=2, model="fsrcnn-s", scale=2):
    widget._images.reset_choices()
    widget._images.value = layers
    widget._scale.value = scale
    widget._model.value = model
    widget._time_budget.value = time_budget
    widget._output_dir.value = output_dir


def test_widget_is_a_plugin_contribution(viewer_and_widgets):
    viewer, train, _ = viewer_and_widgets
    from napari_fsrcnn import TrainWidget
    from napari_fsrcnn._train_widget import DEFAULT_OUTPUT_DIR

    assert isinstance(train, TrainWidget)
    assert train["time_budget"].value == 300 and train["model"].choices == ("fsrcnn", "fsrcnn-s")
    assert train["start"].choices == ("photo", "fluo", "scratch") and train["scale"].choices == (2, 3, 4)
    assert train["output_dir"].value == DEFAULT_OUTPUT_DIR
    layer = viewer.add_image(np.zeros((8, 8)), name="new")
    assert layer in train["images"].choices  # choices follow the layer list


def _shown(widget):
    return not widget.native.isHidden()


def test_options_show_what_applies(viewer_and_widgets):
    train = viewer_and_widgets[1]
    assert _shown(train["images"]) and not _shown(train["folder"])
    train["source"].value = "folder"
    assert _shown(train["folder"]) and not _shown(train["images"])
    assert not _shown(train["sigma"]) and not _shown(train["noise_level"])
    train["degradation"].value = "gaussian"
    assert _shown(train["sigma"])
    train["noise"].value = "poisson"
    assert _shown(train["noise_level"]) and train["noise_level"].value == 100
    degradation = train._degradation_value()
    assert (degradation.kernel, degradation.sigma, degradation.noise, degradation.noise_level) == (
        "gaussian",
        1.0,
        "poisson",
        100.0,
    )


def test_train_hands_the_weights_to_the_upscale_widget(viewer_and_widgets, cell, qtbot, notifications, tmp_path):
    viewer, train, upscale = viewer_and_widgets
    _configure(train, [cell], tmp_path, scale=3)
    train["train_button"].clicked.emit()
    assert train.worker is not None and not train["train_button"].enabled
    qtbot.waitUntil(lambda: train.worker is None, timeout=TIMEOUT_MS)

    assert not _errors(notifications), [n.message for n in notifications]
    path = train.weights
    assert path is not None and path.is_file() and path.parent.parent == tmp_path
    assert path.parent.name.startswith("fsrcnn-s-x3-")
    assert train["progress"].value == train["progress"].max == 2
    assert "best" in train["psnr"].value and "Done" in train["status"].value
    assert train["train_button"].enabled and not train["cancel_button"].enabled

    # The upscale widget lists it by its run name; choosing it sets the scale it was trained for.
    assert upscale["model"].get_choice(f"Trained: {path.parent.name}") == path
    upscale["image"].value = cell
    upscale["model"].value = path
    assert upscale["scale"].value == 3 and not _shown(upscale["weights"])
    upscale["device"].value = "cpu"
    upscale.run()
    qtbot.waitUntil(lambda: upscale.worker is None, timeout=TIMEOUT_MS)
    assert not _errors(notifications), [n.message for n in notifications]
    out = viewer.layers["cell_fsrcnn_x3"]
    assert out.data.shape == (384, 384) and out.metadata["skfsrcnn"]["model"] == str(path)


def test_second_run_never_overwrites(viewer_and_widgets, cell, qtbot, notifications, tmp_path):
    _, train, _ = viewer_and_widgets
    paths = []
    for _ in range(2):
        _configure(train, [cell], tmp_path, time_budget=1)
        train.train()
        qtbot.waitUntil(lambda: train.worker is None, timeout=TIMEOUT_MS)
        paths.append(train.weights)
    assert not _errors(notifications), [n.message for n in notifications]
    assert paths[0] != paths[1] and all(p.is_file() for p in paths)


def test_cancel_keeps_the_best_weights_so_far(viewer_and_widgets, cell, qtbot, notifications, tmp_path):
    _, train, upscale = viewer_and_widgets
    _configure(train, [cell], tmp_path, time_budget=600)
    train.train()
    worker = train.worker
    qtbot.waitUntil(lambda: "iteration" in train["status"].value, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT_MS):
        train["cancel_button"].clicked.emit()

    assert not _errors(notifications), [n.message for n in notifications]
    assert train.worker is None and train["train_button"].enabled and not train["cancel_button"].enabled
    assert train.weights is not None and train.weights.is_file()
    assert "Cancelled" in train["status"].value
    assert train["progress"].value < train["progress"].max == 600
    assert train.weights in upscale["model"].choices


@pytest.mark.parametrize("case", ["no-layer", "rgb", "tiny", "no-folder"])
def test_bad_input_becomes_a_notification(viewer_and_widgets, qtbot, notifications, tmp_path, case):
    viewer, train, _ = viewer_and_widgets
    layers, expected = [], "choose at least one image layer"
    if case == "rgb":
        layers, expected = [viewer.add_image(np.zeros((64, 64, 3), np.uint8), name="photo", rgb=True)], "RGB"
    elif case == "tiny":
        layers, expected = [viewer.add_image(np.zeros((20, 20), np.uint8), name="tiny")], "too small"
    _configure(train, layers, tmp_path / "runs")
    if case == "no-folder":
        train["source"].value = "folder"
        train["folder"].value = tmp_path / "missing"
        expected = "is not a folder"
    train.train()
    qtbot.waitUntil(lambda: train.worker is None, timeout=TIMEOUT_MS)

    qtbot.waitUntil(lambda: bool(_errors(notifications)), timeout=5_000)
    assert any(expected in str(n.message) for n in _errors(notifications)), [n.message for n in notifications]
    assert train.weights is None and train["train_button"].enabled and not train["cancel_button"].enabled
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.safetensors"))


def test_trains_on_a_folder(viewer_and_widgets, qtbot, notifications, tmp_path):
    import imageio.v3 as iio
    from skimage import data

    _, train, _ = viewer_and_widgets
    folder = tmp_path / "examples"
    folder.mkdir()
    for k, (row, col) in enumerate([(0, 0), (0, 128), (128, 0)]):
        iio.imwrite(folder / f"{k}.png", data.cell()[row : row + 96, col : col + 96])
    _configure(train, [], tmp_path / "runs", time_budget=1)
    train["source"].value = "folder"
    train["folder"].value = folder
    train.train()
    qtbot.waitUntil(lambda: train.worker is None, timeout=TIMEOUT_MS)
    assert not _errors(notifications), [n.message for n in notifications]
    assert train.weights is not None and train.weights.is_file()


def test_upscale_widgets_stop_listening_when_closed(make_napari_viewer, qtbot, tmp_path):
    from qtpy.QtCore import QCoreApplication, QEvent

    from napari_fsrcnn._trained import add_trained, trained_added

    listeners = len(trained_added)
    viewer = make_napari_viewer()
    viewer.window.add_plugin_dock_widget("skfsrcnn", UPSCALE)
    assert len(trained_added) == listeners + 1
    viewer.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert len(trained_added) == listeners  # though the Python object lives on
    add_trained("after-close", tmp_path / "best.safetensors", 2)  # reaches no deleted widget


def test_nothreads_trains_in_the_gui_thread(viewer_and_widgets, cell, monkeypatch, notifications, tmp_path):
    _, train, upscale = viewer_and_widgets
    monkeypatch.setenv("NAPARI_FSRCNN_NOTHREADS", "1")
    _configure(train, [cell], tmp_path, time_budget=1)
    train.train()  # returns only when done
    assert not _errors(notifications), [n.message for n in notifications]
    assert train.worker is None and train.weights.is_file() and train.weights in upscale["model"].choices
