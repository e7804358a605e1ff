"""The *Train FSRCNN* dock widget: fine-tune FSRCNN on image layers or a folder, within a time budget.

The work is :func:`skfsrcnn.train.fit_steps` driven by a napari
``thread_worker``: every training iteration yields a progress record, which
moves the progress bar (over the time budget) and the validation PSNR
label, and is where a Cancel takes effect. Cancel closes the training
generator, which keeps the best weights so far. The weights file, finished
or cancelled, is registered with :func:`napari_fsrcnn._trained.add_trained`,
so that the upscale widget lists it as ``Trained: <name>``.

Errors reach the user as napari notifications, as in the upscale widget.
``NAPARI_FSRCNN_NOTHREADS=1`` runs the training in the GUI thread.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from magicgui.widgets import (
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    Label,
    ProgressBar,
    PushButton,
    Select,
    SpinBox,
)

from ._trained import add_trained
from ._widget import _start

if TYPE_CHECKING:
    import napari

__all__ = ["DEFAULT_OUTPUT_DIR", "TrainWidget"]

#: Where runs go unless the user chooses another folder: one sub-folder per run.
DEFAULT_OUTPUT_DIR = Path.home() / "skfsrcnn-runs"

_SOURCES = [("Image layers", "layers"), ("Folder", "folder")]
_MODELS = [("FSRCNN", "fsrcnn"), ("FSRCNN-s (faster)", "fsrcnn-s")]
_KERNELS = [("Bicubic (MATLAB)", "bicubic"), ("Area (binning)", "area"), ("Gaussian blur", "gaussian")]
_NOISES = [("None", "none"), ("Gaussian (read-out)", "gaussian"), ("Poisson (shot)", "poisson")]
#: A starting noise level per noise: a std as a fraction of full scale, or photons at full scale.
_NOISE_LEVELS = {"gaussian": 0.02, "poisson": 100.0}
_STARTS = [("Photo weights", "photo"), ("Fluorescence weights", "fluo"), ("Scratch (random)", "scratch")]


def _until_stopped(steps, stop, best):
    """Re-yield the progress of ``steps`` until ``stop`` is set.

    Parameters
    ----------
    steps : generator
        :func:`skfsrcnn.train.fit_steps`.
    stop : threading.Event
        Set by Cancel; checked after each iteration.
    best : pathlib.Path
        The weights file that ``steps`` writes.

    Returns
    -------
    pathlib.Path or None
        ``best``, or None where training stopped before writing it.
    """
    try:
        for progress in steps:
            yield progress
            if stop.is_set():
                break
    finally:
        steps.close()  # on Cancel, fit_steps keeps the best weights so far
    return best if best.is_file() else None


def _run_name(output_dir, model, scale):
    """A run name not yet taken in ``output_dir``: ``<model>-x<scale>-<date and time>[-<n>]``."""
    base = f"{model}-x{scale}-{time.strftime('%Y%m%d-%H%M%S')}"
    name, n = base, 1
    while (Path(output_dir) / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _psnr_text(progress):
    """``latest ... dB, best ... dB`` from a training progress record."""
    if math.isnan(progress.val_psnr):
        return "not measured yet"
    return f"latest {progress.val_psnr:.2f} dB, best {progress.best_psnr:.2f} dB"


#: Tooltips of the number boxes that only some degradations use.
_NUMBER_TIPS = {
    "sigma": "Gaussian PSF standard deviation in high-resolution pixels.",
    "noise_level": "Gaussian: standard deviation as a fraction of full scale. Poisson: photons at full scale.",
}


def _hidden_number(name, label, limits, value):
    """A float box for an option shown only with the choice that uses it; ``limits`` is (min, max, step)."""
    low, high, step = limits
    return FloatSpinBox(
        name=name, label=label, min=low, max=high, step=step, value=value, visible=False, tooltip=_NUMBER_TIPS[name]
    )


class TrainWidget(Container):
    """Fine-tune FSRCNN on high-resolution examples; the result joins the upscale widget's models.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer whose image layers are offered as examples.

    Notes
    -----
    The controls can be reached by name for scripting, e.g. ``widget["time_budget"].value = 60``:
    ``source`` (``'layers'`` or ``'folder'``), ``images`` (the chosen image
    layers), ``folder``, ``scale``, ``model``, ``degradation``, ``sigma``,
    ``noise``, ``noise_level``, ``start``, ``time_budget`` (seconds),
    ``output_dir``, ``train_button``, ``cancel_button``, ``progress``,
    ``psnr``, ``status``.

    Each run writes ``<output_dir>/<model>-x<scale>-<date and time>/``
    (the examples as PNGs, the log, a checkpoint and ``best.safetensors``);
    an existing run folder is never overwritten. ``output_dir`` defaults to
    ``~/skfsrcnn-runs`` (in your home folder).
    :meth:`train` and :meth:`cancel` do what the buttons do; :attr:`worker`
    is the running thread worker (None when idle) and :attr:`weights` the
    last weights file saved.

    Examples
    --------
    >>> import napari
    >>> viewer = napari.Viewer()  # doctest: +SKIP
    >>> viewer.window.add_plugin_dock_widget("skfsrcnn", "Train FSRCNN")  # doctest: +SKIP
    """

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__(labels=True)
        self._viewer = viewer
        self._worker = None
        self._stop = threading.Event()
        self._run = None  # (name, scale, output folder) of the run in progress
        self._weights = None

        self._source = ComboBox(name="source", label="Examples from", choices=_SOURCES, value="layers")
        self._images = Select(
            name="images",
            label="Image layers",
            choices=self._image_layers,
            tooltip="High-resolution examples: grey 2-D images or stacks (every plane counts).",
        )
        self._folder = FileEdit(name="folder", label="Folder", mode="d", visible=False)
        self._scale = ComboBox(name="scale", label="Scale", choices=[("x2", 2), ("x3", 3), ("x4", 4)], value=2)
        self._model = ComboBox(name="model", label="Model", choices=_MODELS, value="fsrcnn")
        self._degradation = ComboBox(
            name="degradation",
            label="Degradation",
            choices=_KERNELS,
            value="bicubic",
            tooltip="How the low-resolution inputs are made from the examples: match your acquisition.",
        )
        self._sigma = _hidden_number("sigma", "Blur sigma (px)", (0.1, 20.0, 0.1), 1.0)
        self._noise = ComboBox(name="noise", label="Noise", choices=_NOISES, value="none")
        self._noise_level = _hidden_number("noise_level", "Noise level", (0.0001, 1e6, 0.01), 0.02)
        self._start_from = ComboBox(name="start", label="Start from", choices=_STARTS, value="photo")
        self._time_budget = SpinBox(name="time_budget", label="Time budget (s)", min=1, max=86400, value=300)
        self._output_dir = FileEdit(
            name="output_dir",
            label="Output folder",
            mode="d",
            value=DEFAULT_OUTPUT_DIR,
            tooltip="Each run gets its own new sub-folder here.",
        )
        self._train_button = PushButton(name="train_button", text="Train")
        self._cancel_button = PushButton(
            name="cancel_button", text="Cancel", enabled=False, tooltip="Stop now and keep the best weights so far."
        )
        self._progress = ProgressBar(name="progress", label="Time", min=0, max=300, value=0)
        self._psnr = Label(name="psnr", label="Validation PSNR", value="")
        self._status = Label(name="status", label="Status", value="")

        self.extend(
            [
                self._source,
                self._images,
                self._folder,
                self._scale,
                self._model,
                self._degradation,
                self._sigma,
                self._noise,
                self._noise_level,
                self._start_from,
                self._time_budget,
                self._output_dir,
                self._train_button,
                self._cancel_button,
                self._progress,
                self._psnr,
                self._status,
            ]
        )
        for label in (self._psnr, self._status):  # long texts wrap instead of widening the dock
            label.native.setWordWrap(True)
        self._source.changed.connect(self._on_source_changed)
        self._degradation.changed.connect(self._on_degradation_changed)
        self._noise.changed.connect(self._on_noise_changed)
        self._train_button.clicked.connect(self.train)
        self._cancel_button.clicked.connect(self.cancel)

    # -- options --------------------------------------------------------------------------

    def _image_layers(self, _widget=None):
        from napari.layers import Image

        return [(layer.name, layer) for layer in self._viewer.layers if isinstance(layer, Image)]

    def _on_source_changed(self, source):
        self._images.visible = source == "layers"
        self._folder.visible = source == "folder"

    def _on_degradation_changed(self, kernel):
        self._sigma.visible = kernel == "gaussian"

    def _on_noise_changed(self, noise):
        self._noise_level.visible = noise != "none"
        if noise != "none":
            self._noise_level.value = _NOISE_LEVELS[noise]

    def _examples(self):
        """The folder, or the chosen layers' data; ValueError with advice where unusable."""
        if self._source.value == "folder":
            folder = Path(self._folder.value)
            if str(self._folder.value) in ("", ".") or not folder.is_dir():
                raise ValueError(f"choose a folder of high-resolution images; {str(folder)!r} is not a folder.")
            return folder
        layers = list(self._images.value)
        if not layers:
            raise ValueError("choose at least one image layer as high-resolution examples (Image layers).")
        for layer in layers:
            if layer.rgb:
                raise ValueError(
                    f"layer {layer.name!r} is RGB; training uses grey images. Convert it to grey "
                    "(or split its channels: right-click > Split RGB) and choose that."
                )
            if layer.multiscale:
                raise ValueError(f"layer {layer.name!r} is multiscale; open its full-resolution level as a layer.")
        return [layer.data for layer in layers]  # read in the worker: dask data are computed there

    def _degradation_value(self):
        from skfsrcnn.degradation import Degradation

        kernel, noise = self._degradation.value, self._noise.value
        return Degradation(
            kernel,
            sigma=self._sigma.value if kernel == "gaussian" else 0.0,
            noise=noise,
            noise_level=self._noise_level.value if noise != "none" else 0.0,
        )

    # -- running --------------------------------------------------------------------------

    @property
    def worker(self):
        """The running worker, or None.

        Examples
        --------
        >>> widget = viewer.window.add_plugin_dock_widget("skfsrcnn", "Train FSRCNN")[1]  # doctest: +SKIP
        >>> widget.worker is None  # doctest: +SKIP
        True
        """
        return self._worker

    @property
    def weights(self):
        """The weights file of the last run that saved one, or None.

        Examples
        --------
        >>> widget.weights  # doctest: +SKIP
        PosixPath('/home/me/skfsrcnn-runs/fsrcnn-x2-20260101-120000/best.safetensors')
        """
        return self._weights

    def train(self):
        """Start training with the chosen examples and options (the Train button).

        Examples
        --------
        >>> widget = viewer.window.add_plugin_dock_widget("skfsrcnn", "Train FSRCNN")[1]  # doctest: +SKIP
        >>> widget.train()  # doctest: +SKIP
        """
        if self._worker is not None:
            return
        from napari.utils.notifications import show_error

        from skfsrcnn.train import fit_steps
        from skfsrcnn.train.trainer import BEST_WEIGHTS

        try:
            examples = self._examples()
            degradation = self._degradation_value()
        except ValueError as error:
            show_error(f"Train FSRCNN: {error}")
            return
        scale, model, output_dir = self._scale.value, self._model.value, Path(self._output_dir.value)
        name = _run_name(output_dir, model, scale)
        steps = fit_steps(
            examples,
            scale,
            model=model,
            start=self._start_from.value,
            degradation=degradation,
            time_budget=self._time_budget.value,
            name=name,
            output_dir=output_dir,
            progress=False,
        )
        self._run = (name, scale, output_dir / name)
        self._start(_until_stopped(steps, self._stop, output_dir / name / BEST_WEIGHTS))

    def _start(self, steps):
        self._stop.clear()
        self._progress.max, self._progress.value = self._time_budget.value, 0
        self._psnr.value = ""
        self._status.value = "Preparing the examples and the model..."
        self._train_button.enabled = False
        self._cancel_button.enabled = True
        self._worker = _start(steps, self._on_step, self._on_returned, self._on_errored, self._on_finished)

    def cancel(self):
        """Stop after the current iteration, keeping the best weights so far (the Cancel button).

        Examples
        --------
        >>> widget.cancel()  # doctest: +SKIP
        """
        if self._worker is not None and not self._stop.is_set():
            self._stop.set()
            self._status.value = "Cancelling: keeping the best weights so far..."
            self._cancel_button.enabled = False

    def _on_step(self, progress):
        self._progress.value = min(int(progress.elapsed), self._progress.max)
        self._psnr.value = _psnr_text(progress)
        if not self._stop.is_set():
            self._status.value = (
                f"Training: iteration {progress.iteration}, {progress.elapsed:.0f} s of {self._progress.max} s"
            )

    def _on_returned(self, path):
        from napari.utils.notifications import show_info

        name, scale, run_dir = self._run
        if path is None:
            self._status.value = f"Cancelled before training began: no weights saved (see {run_dir})"
            return
        self._weights = path
        add_trained(name, path, scale)
        saved = f"saved {name} (hover for the path)"
        if self._stop.is_set():
            self._status.value = f"Cancelled; kept the best weights so far: {saved}"
        else:
            self._status.value = f"Done: {saved}"
            self._progress.value = self._progress.max
        self._status.tooltip = str(path)
        show_info(
            f"Train FSRCNN: saved {path}; upscale with it by choosing 'Trained: {name}' as the model "
            "of the FSRCNN super-resolution widget."
        )

    def _on_errored(self, error):
        # The worker shows the error as a notification; keep the panel in step.
        self._status.value = f"Failed: {error}"

    def _on_finished(self):
        self._worker = None
        self._train_button.enabled = True
        self._cancel_button.enabled = False
