"""The dock widget: pick an image layer and options, Run (off the GUI thread), Cancel.

The work is :func:`napari_fsrcnn.run_fsrcnn_steps` (which calls
:func:`skfsrcnn.upscale_steps`) driven by a napari ``thread_worker``: every
network pass yields ``(done, total)``, which moves the progress bars and is where a
Cancel takes effect. Errors and warnings raised in the worker reach the user
as napari notifications (relayed by napari's worker, or here where that relay
is inactive); nothing is caught and hidden.

With *Compute as you browse* the worker only loads the model and builds a
lazy dask array (one step); the layer is added at once and napari computes
each plane when it shows it.

Set ``NAPARI_FSRCNN_NOTHREADS=1`` to run in the GUI thread (for debugging).
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    Label,
    ProgressBar,
    PushButton,
    SpinBox,
)

from skfsrcnn import DEFAULT_TILE_SIZE

from ._compute import _is_dask, run_fsrcnn_steps
from ._trained import trained_added, trained_weights

if TYPE_CHECKING:
    import napari

__all__ = ["FSRCNNWidget"]

WEIGHTS_FILE = "weights-file"
_MODELS = [
    ("FSRCNN", "fsrcnn"),
    ("FSRCNN-s (faster)", "fsrcnn-s"),
    ("FSRCNN fluorescence", "fsrcnn-fluo"),
    ("FSRCNN-s fluorescence (faster)", "fsrcnn-s-fluo"),
]
_WEIGHTS_FILE_CHOICE = ("Weights file...", WEIGHTS_FILE)
_NOTHREADS_ENV = "NAPARI_FSRCNN_NOTHREADS"


class WorkerError(Exception):
    """A RuntimeError raised by the upscaling, re-raised under another type.

    napari's generator workers take a RuntimeError for "the worker was
    deleted" and drop it with a console warning instead of a notification;
    this type makes sure the user sees it.
    """


@functools.lru_cache(maxsize=1)
def _devices():
    import torch  # only when the widget is built

    devices = [("auto", "auto"), ("cpu", "cpu")]
    if torch.cuda.is_available():
        devices += [
            (f"cuda:{i} ({torch.cuda.get_device_name(i)})", f"cuda:{i}") for i in range(torch.cuda.device_count())
        ]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append(("mps", "mps"))
    return devices


def _layer_kwargs(layer):
    """The attributes of an image layer that the output inherits or needs."""
    return {
        "name": layer.name,
        "scale": tuple(layer.scale),
        "translate": tuple(layer.translate),
        "rotate": layer.rotate,
        "shear": layer.shear,
        "affine": layer.affine,
        # units and axis_labels exist from napari 0.6
        "units": tuple(str(u) for u in layer.units) if hasattr(layer, "units") else None,
        "axis_labels": tuple(layer.axis_labels) if hasattr(layer, "axis_labels") else None,
        "rgb": layer.rgb,
        "multiscale": layer.multiscale,
        "metadata": dict(layer.metadata),
        "contrast_limits": tuple(layer.contrast_limits),
        "colormap": layer.colormap,
        "gamma": layer.gamma,
        "blending": layer.blending,
        "opacity": layer.opacity,
    }


def _drive(steps):
    """Re-yield the steps; hand RuntimeErrors on as :class:`WorkerError`."""
    try:
        return (yield from steps)
    except RuntimeError as error:
        raise WorkerError(f"{type(error).__name__}: {error}") from error


@functools.lru_cache(maxsize=1)
def _napari_relays_errors():
    """Whether napari's workers send their errors and warnings to notifications.

    They mean to (``_NotifyingMixin``), but with some Qt bindings the mixin's
    ``__init__`` never runs (napari 0.9 with PyQt6), and then errors would only
    be printed and warnings lost. A bare worker tells: its ``errored`` signal
    has a receiver only if the mixin connected one.
    """
    from napari.qt.threading import GeneratorWorker

    def nothing():
        yield

    probe = GeneratorWorker(nothing)
    try:
        return probe.signals.receivers(probe.signals.errored) > 0
    except (AttributeError, TypeError):  # bindings whose receivers() wants a signature string
        return False


def _notify_error(error):
    from napari.utils.notifications import notification_manager

    notification_manager.receive_error(type(error), error, error.__traceback__)


def _notify_warning(showwarning_args):
    from napari.utils.notifications import notification_manager

    notification_manager.receive_warning(*showwarning_args)


def _nothreads():
    """Whether ``NAPARI_FSRCNN_NOTHREADS`` asks to run the work in the GUI thread."""
    return os.environ.get(_NOTHREADS_ENV, "").lower() in ("1", "true", "yes")


def _create_worker(steps):
    """A napari generator worker (not started) over ``steps`` whose errors and warnings reach notifications."""
    from napari.qt.threading import create_worker

    # _ignore_errors: superqt would otherwise re-raise in the GUI thread, which reaches the
    # user only where napari's excepthook is installed (napari.run); notify explicitly instead.
    worker = create_worker(_drive, steps, _start_thread=False, _ignore_errors=True)
    if not _napari_relays_errors():
        worker.errored.connect(_notify_error)
        worker.warned.connect(_notify_warning)
    return worker


def _run_in_gui_thread(steps, on_step, on_returned, on_finished):
    """Drain ``steps`` here, calling what a worker's signals would."""
    from skfsrcnn import run_to_end

    try:
        on_returned(run_to_end(steps, on_step))
    finally:
        on_finished()


def _start(steps, on_step, on_returned, on_errored, on_finished, on_aborted=None):
    """Run ``steps`` with these callbacks: in a started worker, returned, or here and now (``None``).

    Under ``NAPARI_FSRCNN_NOTHREADS`` the steps run in the GUI thread before
    this returns; otherwise the worker runs in the background.
    """
    if _nothreads():
        _run_in_gui_thread(steps, on_step, on_returned, on_finished)
        return None
    worker = _create_worker(steps)
    worker.yielded.connect(on_step)
    worker.returned.connect(on_returned)
    worker.errored.connect(on_errored)
    if on_aborted is not None:
        worker.aborted.connect(on_aborted)
    worker.finished.connect(on_finished)
    worker.start()  # its signals reach the GUI thread's queue: callers store it before any arrives
    return worker


class FSRCNNWidget(Container):
    """FSRCNN super-resolution of an image layer.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer whose image layers are offered and which receives the result.

    Notes
    -----
    The controls can be reached by name for scripting, e.g. ``widget["scale"].value = 3``:
    ``image``, ``scale``, ``model``, ``weights``, ``tile_size``, ``device``,
    ``current_slice``, ``lazy``, ``ensemble``, ``uncertainty``, ``run_button``,
    ``cancel_button``, ``progress``, ``status``.
    Weights trained in this session by the *Train FSRCNN* widget join the
    ``model`` choices as ``Trained: <name>``, whose value is the weights
    file; choosing one sets ``scale`` to the scale it was trained for.
    ``lazy`` (*Compute as you browse*) is offered for stacks (layers with
    leading axes) that are not multiscale, and is ticked by default when
    the layer's data are a dask array.
    ``uncertainty`` (*Add uncertainty layer*) is enabled while ``ensemble``
    (*Ensemble (8 passes)*) is ticked.
    :meth:`run` and :meth:`cancel` do what the buttons do; :attr:`worker`
    is the running thread worker (None when idle).

    Examples
    --------
    >>> import napari
    >>> viewer = napari.Viewer()  # doctest: +SKIP
    >>> viewer.window.add_plugin_dock_widget("skfsrcnn", "FSRCNN super-resolution")  # doctest: +SKIP
    """

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self._viewer = viewer
        self._worker = None
        self._pbar = None
        self._pbar_time = 0.0
        self._in_step = False

        self._image = ComboBox(name="image", label="Image", choices=self._image_layers, nullable=False)
        self._scale = ComboBox(name="scale", label="Scale", choices=[("x2", 2), ("x3", 3), ("x4", 4)], value=2)
        self._model = ComboBox(name="model", label="Model", choices=self._model_choices, value="fsrcnn")
        self._weights = FileEdit(
            name="weights", label="Weights file", mode="r", filter="Weights (*.safetensors *.pt *.pth)", visible=False
        )
        self._tile_size = SpinBox(
            name="tile_size",
            label="Tile size",
            min=16,
            max=8192,
            step=16,
            value=DEFAULT_TILE_SIZE,
            tooltip="Side of the tiles processed at once, in input pixels; lower it if memory runs out.",
        )
        self._device = ComboBox(name="device", label="Device", choices=_devices(), value="auto")
        self._current_slice = CheckBox(
            name="current_slice",
            text="Current slice only",
            value=False,
            tooltip="Upscale only the plane on screen: a quick preview of a big stack.",
        )
        self._lazy = CheckBox(
            name="lazy",
            text="Compute as you browse",
            value=False,
            tooltip="Add the result at once as a lazy dask array: napari upscales a plane when it shows it "
            "(no progress bar or Cancel for that). Off: upscale everything now.",
        )
        self._ensemble = CheckBox(
            name="ensemble",
            text="Ensemble (8 passes)",
            value=False,
            tooltip="Average the network over the 8 flips and rotations of the image: "
            "a little sharper (about +0.1 dB), 8 times slower.",
        )
        self._uncertainty = CheckBox(
            name="uncertainty",
            text="Add uncertainty layer",
            value=False,
            enabled=False,
            tooltip="Also add the per-pixel standard deviation of the 8 passes: bright where the "
            "network's answer depends on the image's orientation, i.e. where it guesses.",
        )
        self._run_button = PushButton(name="run_button", text="Run")
        self._cancel_button = PushButton(name="cancel_button", text="Cancel", enabled=False)
        self._progress = ProgressBar(name="progress", label="Progress", min=0, max=1, value=0)
        self._status = Label(name="status", label="Status", value="")

        self.extend(
            [
                self._image,
                self._scale,
                self._model,
                self._weights,
                self._tile_size,
                self._device,
                self._current_slice,
                self._lazy,
                self._ensemble,
                self._uncertainty,
                self._run_button,
                self._cancel_button,
                self._progress,
                self._status,
            ]
        )
        self._model.changed.connect(self._on_model_changed)
        self._image.changed.connect(self._on_image_changed)
        self._lazy.changed.connect(self._on_lazy_changed)
        self._ensemble.changed.connect(self._on_ensemble_changed)
        self._run_button.clicked.connect(self.run)
        self._cancel_button.clicked.connect(self.cancel)
        self._on_image_changed(self._image.value)
        trained_added.connect(self._on_trained)
        # The Qt widget can go before this object: stop listening with it.
        on_trained = self._on_trained
        self.native.destroyed.connect(lambda *_: trained_added.disconnect(on_trained))

    # -- options --------------------------------------------------------------------------

    def _image_layers(self, _widget=None):
        from napari.layers import Image

        return [(layer.name, layer) for layer in self._viewer.layers if isinstance(layer, Image)]

    def _model_choices(self, _widget=None):
        """The released models, then the weights trained in this session, then "Weights file..."."""
        trained = [(f"Trained: {entry.name}", entry.path) for entry in trained_weights()]
        return [*_MODELS, *trained, _WEIGHTS_FILE_CHOICE]

    def _on_trained(self, _entry):
        self._model.reset_choices()

    def _on_model_changed(self, value):
        self._weights.visible = value == WEIGHTS_FILE
        scales = [entry.scale for entry in trained_weights() if entry.path == value]
        if scales:  # trained weights work at their own scale only
            self._scale.value = scales[-1]

    def _on_image_changed(self, layer):
        stack = layer is not None and layer.ndim > 2
        # Lazy makes sense where napari shows one plane of many; a multiscale layer is refused anyway.
        self._lazy.enabled = stack and not layer.multiscale
        self._lazy.value = self._lazy.enabled and _is_dask(layer.data)
        self._on_lazy_changed(self._lazy.value)

    def _on_lazy_changed(self, lazy):
        layer = self._image.value
        self._current_slice.enabled = layer is not None and layer.ndim > 2 and not lazy

    def _on_ensemble_changed(self, ensemble):
        self._uncertainty.enabled = ensemble
        if not ensemble:
            self._uncertainty.value = False

    def _options(self):
        weights = None
        model = self._model.value
        if model == WEIGHTS_FILE:
            path = Path(self._weights.value)
            if not path.is_file():
                raise ValueError(f"Choose a weights file (.safetensors, .pt or .pth); {str(path)!r} is not a file.")
            weights, model = path, "fsrcnn"
        elif isinstance(model, Path):  # trained in this session
            weights, model = model, "fsrcnn"
        return {
            "scale": self._scale.value,
            "model": model,
            "weights": weights,
            "tile_size": self._tile_size.value,
            "device": None if self._device.value == "auto" else self._device.value,
            "ensemble": self._ensemble.value,
            "uncertainty": self._ensemble.value and self._uncertainty.value,
        }

    def _current_index(self, layer):
        """Data indices of the plane on screen, on the layer's leading axes."""
        import numpy as np

        position = layer.world_to_data(self._viewer.dims.point)
        lead = np.rint(np.asarray(position[: layer.ndim - 2], dtype=float)).astype(int)
        return tuple(int(np.clip(i, 0, n - 1)) for i, n in zip(lead, layer.data.shape))

    # -- running --------------------------------------------------------------------------

    @property
    def worker(self):
        """The running worker, or None.

        Examples
        --------
        >>> widget = viewer.window.add_plugin_dock_widget("skfsrcnn", "FSRCNN super-resolution")[1]  # doctest: +SKIP
        >>> widget.worker is None  # doctest: +SKIP
        """
        return self._worker

    def run(self):
        """Start upscaling the chosen layer (the Run button).

        Examples
        --------
        >>> widget = viewer.window.add_plugin_dock_widget("skfsrcnn", "FSRCNN super-resolution")[1]  # doctest: +SKIP
        >>> widget.run()  # doctest: +SKIP
        """
        if self._worker is not None:
            return
        from napari.utils.notifications import show_error

        layer = self._image.value
        if layer is None:
            show_error("FSRCNN: there is no image layer to upscale; open or add an image first.")
            return
        try:
            options = self._options()
        except ValueError as error:
            show_error(f"FSRCNN: {error}")
            return
        lazy = self._lazy.enabled and self._lazy.value
        current = self._current_index(layer) if self._current_slice.enabled and self._current_slice.value else None
        steps = run_fsrcnn_steps(
            layer.data, current_slice=current, lazy=lazy, layer_kwargs=_layer_kwargs(layer), **options
        )
        self._start(steps, f"FSRCNN x{options['scale']}: {layer.name}")

    def _start(self, steps, description):
        from napari.utils import cancelable_progress

        self._progress.max, self._progress.value = 1, 0
        self._status.value = "Loading the model..."
        self._run_button.enabled = False
        self._cancel_button.enabled = True
        self._pbar = cancelable_progress(total=0, desc=description, cancel_callback=self.cancel)

        self._worker = _start(
            steps, self._on_step, self._on_returned, self._on_errored, self._on_finished, self._on_aborted
        )

    def cancel(self):
        """Stop at the next network pass and add nothing (the Cancel button).

        Examples
        --------
        >>> widget = viewer.window.add_plugin_dock_widget("skfsrcnn", "FSRCNN super-resolution")[1]  # doctest: +SKIP
        >>> widget.cancel()  # doctest: +SKIP
        """
        if self._worker is not None and not self._worker.abort_requested:
            self._status.value = "Cancelling..."
            self._cancel_button.enabled = False
            self._worker.quit()

    def _on_step(self, step):
        done, total = step
        if self._progress.max != total:
            self._progress.max = total
        self._progress.value = done
        self._status.value = f"Pass {done} of {total}"
        pbar = self._pbar
        if pbar is None:
            return
        if pbar.is_canceled:  # the Cancel button of napari's activity panel
            self.cancel()
            return
        # napari's bar processes Qt events when it moves, so queued steps re-enter here:
        # move it only from the outermost call, and at most every 0.1 s.
        now = time.monotonic()
        if self._in_step or (now - self._pbar_time < 0.1 and done < total):
            return
        self._in_step, self._pbar_time = True, now
        try:
            if pbar.total != total:
                pbar.total = total
            if done > pbar.n:
                pbar.update(done - pbar.n)
        finally:
            self._in_step = False

    def _on_returned(self, layer_data):
        from napari.layers import Layer

        layers = [layer_data] if isinstance(layer_data, tuple) else layer_data  # a list with the uncertainty
        for data, kwargs, kind in layers:
            # Created hidden, napari slices the layer once, where the viewer is: a visible new layer
            # would first be sliced at its own origin, which for lazy data computes a plane for nothing.
            layer = Layer.create(data, {**kwargs, "visible": False}, kind)
            self._viewer.add_layer(layer)
            layer.visible = True
        names = " and ".join(kwargs["name"] for _, kwargs, _ in layers)
        lazy = kwargs["metadata"]["skfsrcnn"]["lazy"]
        self._status.value = f"Added {names}" + (" (computed as you browse)" if lazy else "")

    def _on_errored(self, error):
        # The worker itself shows the error as a notification; keep the panel in step.
        self._status.value = f"Failed: {error}"

    def _on_aborted(self):
        self._status.value = "Cancelled: no layer added"

    def _on_finished(self):
        if self._pbar is not None:
            self._pbar.close()
            self._pbar = None
        self._worker = None
        self._run_button.enabled = True
        self._cancel_button.enabled = False
