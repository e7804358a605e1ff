"""The bad-input matrix (issue 8): every case gives a clear error or a correct result.

:data:`CASES` is one table covering :func:`skfsrcnn.upscale`, the commands
``skfsrcnn upscale``, ``skfsrcnn-train`` and ``skfsrcnn-eval``, and the
napari widget. Each case feeds one bad (or merely unusual) input and says
what must come out: an error of a given type whose message matches a
regular expression naming the parameter, the value and a fix, or a result
equal to a reference. A crash with another error, a traceback from a
command, a hang or a wrong result fails the case.

``python docs/make_reliability.py`` runs this module with
``SKFSRCNN_RELIABILITY_TABLE`` set, and the table of actual outcomes is
written to ``docs/results/reliability.rst`` for the documentation's
Reliability page.
"""

import contextlib
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
import yaml

from skfsrcnn import consistency_residual, upscale

REPO = Path(__file__).resolve().parents[1]
TABLE = REPO / "docs" / "results" / "reliability.rst"
TABLE_ENV = "SKFSRCNN_RELIABILITY_TABLE"


# ------------------------------------------------------------------------ the case model


@dataclass(frozen=True)
class Raises:
    """The input must be refused with ``error`` whose message matches ``match``."""

    error: type
    match: str


@dataclass(frozen=True)
class Equals:
    """The input must give ``compute(env)``; ``reference`` says what that is, in words."""

    reference: str
    compute: Callable
    atol: float = 1e-6


@dataclass(frozen=True)
class Case:
    id: str
    target: str  # the entry point: upscale, a command, or the napari widget
    given: str  # the input, in words (reStructuredText)
    run: Callable  # run(env) -> result; raises for a refusal
    expect: object  # Raises or Equals


class CommandFailed(Exception):
    """A command exited with a non-zero status; the message is the error it printed."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def _command(main, *argv):
    """Run a command's ``main`` in-process; raise CommandFailed on a non-zero exit."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main([str(a) for a in argv])
            return
        except SystemExit as stop:
            if not stop.code:
                return
            code = stop.code
    lines = err.getvalue().strip().splitlines()
    first = next((i for i, line in enumerate(lines) if ": error:" in line), 0)
    raise CommandFailed(code, "\n".join(lines[first:]))


class Env:
    """What a case may use: a fresh folder, random weights, and the commands and widget."""

    def __init__(self, tmp_path, weights, request):
        self.tmp_path, self.weights, self.request = tmp_path, weights, request

    def file(self, name, data=None, raw=None):
        """Write ``data`` as an image (TIFF by tifffile, others by imageio) or ``raw`` bytes."""
        path = self.tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if raw is not None:
            path.write_bytes(raw)
        elif path.suffix in (".tif", ".tiff"):
            tifffile.imwrite(path, data)
        else:
            iio.imwrite(path, data)
        return path

    def edited_weights(self, **metadata):
        """A copy of the random weights with ``metadata`` entries written into its header."""
        from safetensors.torch import load_file, save_file

        from skfsrcnn.pretrained import read_tensors

        path = self.tmp_path / "edited.safetensors"
        header = read_tensors(self.weights)[1]
        save_file(load_file(str(self.weights)), str(path), metadata={**header, **metadata})
        return path

    def edited_weights_of_another_network(self):
        """A safetensors file of tensors that are no FSRCNN or SRCNN."""
        import torch
        from safetensors.torch import save_file

        path = self.tmp_path / "other.safetensors"
        save_file({"encoder.weight": torch.zeros(4, 4)}, str(path))
        return path

    def truncated(self, name, data):
        path = self.file(name, data)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        return path

    # -- skfsrcnn upscale

    def skfsrcnn(self, source, output, *options):
        from skfsrcnn import cli

        _command(cli.main, "upscale", source, output, "--weights", self.weights, "--scale", 2, *options)

    def upscale_file(self, data, suffix=".tif"):
        """``skfsrcnn upscale`` of ``data`` saved as a file; the output file's array."""
        self.skfsrcnn(self.file(f"in{suffix}", data), self.tmp_path / f"out{suffix}")
        read = tifffile.imread if suffix == ".tif" else iio.imread
        return read(self.tmp_path / f"out{suffix}")

    def batch(self, *argv):
        """``skfsrcnn upscale INPUT... --output-dir DIR`` with the random weights."""
        from skfsrcnn import cli

        _command(cli.main, "upscale", *argv, "--weights", self.weights, "--scale", 2)

    # -- skfsrcnn-train

    def train(self, config=None, *options, **settings):
        """``skfsrcnn-train`` on a tiny valid setup, changed by ``settings`` and ``options``."""
        from skfsrcnn.cli.train import main

        if config is None:
            values = {
                "name": "run",
                "model": "fsrcnn-s",
                "scale": 2,
                "train_folders": [str(self.good_folder())],
                "val_data": None,
                "downscales": [1.0],
                "rotations": [0],
                "patch_size": 8,
                "batch_size": 4,
                "iterations": 2,
                "device": "cpu",
                "output_dir": str(self.tmp_path / "runs"),
            }
            values.update(settings)
            config = self.tmp_path / "config.yaml"
            config.write_text(yaml.safe_dump(values))
        _command(main, config, "--no-progress", *options)

    def good_folder(self):
        return self.file("good/a.png", _uint8((40, 40, 3))).parent

    # -- skfsrcnn-eval

    def export(self, *argv):
        from skfsrcnn.cli import main

        _command(main, "export", *argv)

    def evaluate(self, *argv):
        from skfsrcnn.cli.eval import main

        _command(main, *argv)

    # -- the napari widget

    def widget(self, data, **options):
        """Run the dock widget on a layer of ``data``: the output layer's data, or the error notified."""
        pytest.importorskip("napari")
        from napari.utils.notifications import notification_manager
        from test_napari_widget import WIDGET, _errors, _run

        qtbot = self.request.getfixturevalue("qtbot")
        viewer = self.request.getfixturevalue("make_napari_viewer")()
        _, widget = viewer.window.add_plugin_dock_widget("skfsrcnn", WIDGET)
        received = []
        notification_manager.notification_ready.connect(received.append)
        try:
            layer = viewer.add_image(data, name="input")
            _run(qtbot, widget, layer, **{"model": "weights-file", "weights": self.weights, **options})
            if "input_fsrcnn_x2" in viewer.layers:
                return viewer.layers["input_fsrcnn_x2"].data
            qtbot.waitUntil(lambda: bool(_errors(received)), timeout=5_000)
            raise _errors(received)[0].exception
        finally:
            notification_manager.notification_ready.disconnect(received.append)

    def widget_reference(self, data):
        """What the widget must give: upscale in original units, rounded back to the input dtype."""
        out = self.upscale(np.asarray(data).astype(data.dtype.newbyteorder("=")), preserve_range=True, tile_size=32)
        return _rounded(out, data.dtype)

    # -- references

    def upscale(self, image, **options):
        return upscale(image, 2, weights=self.weights, **options)

    def network(self, unit_image):
        """The plain (slow-form) FSRCNN on an image in [0, 1]: an independent reference.

        The image is mapped into the intensity range the weights expect, and the output back.
        """
        import torch

        from skfsrcnn.pretrained import input_range, load_model

        low, high = input_range(self.weights)
        with torch.inference_mode():
            x = torch.from_numpy(np.asarray(unit_image, np.float32) * (high - low) + low)[None, None]
            return (load_model(self.weights)(x)[0, 0].numpy() - low) / (high - low)


def _uint8(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _unit(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).random(shape).astype(dtype)


def _rounded(out, dtype):
    if np.dtype(dtype).kind in "ui":
        info = np.iinfo(dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(np.dtype(dtype).newbyteorder("="))
    return out


def _per_plane(env, image, axis, **options):
    """Each plane along ``axis`` upscaled on its own (not clipped), stacked back."""
    planes = [env.upscale(np.take(image, i, axis=axis), clip=False, **options) for i in range(image.shape[axis])]
    return np.stack(planes, axis=axis)


def _clipped(out, image, units=1):
    """``out`` clipped to the range of the whole input ``image`` (in output units)."""
    return np.clip(out, image.min() / units, image.max() / units).astype(out.dtype)


def _pickled_code(env):
    """A ``.pt`` file whose unpickling would create ``pwned``; returns (path, marker)."""
    import torch

    marker = env.tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (exec, (f"open({str(marker)!r}, 'w').close()",))

    path = env.tmp_path / "evil.pt"
    torch.save({"feature.0.weight": Payload()}, path)
    return path, marker


def _refused_and_never_run(run):
    """``run(path)`` must fail on the pickled-code file without running the code."""

    def case(env):
        path, marker = _pickled_code(env)
        try:
            run(env, path)
        finally:
            assert not marker.exists(), "the pickled code ran"

    return case


def _huge():
    return np.broadcast_to(np.uint8(0), (1_000_000, 1_000_000))  # a view: no memory used


def _ragged():
    return [[1, 2, 3, 4, 5]] * 4 + [[1, 2]]


def _float32_extremes():
    return np.where(_unit((12, 10)) > 0.5, 3e38, -3e38).astype(np.float32)


def _nan_in_green():
    image = _unit((12, 10, 3))
    image[4, 5, 1] = np.nan
    return image


def _big_endian_rgb():
    return np.random.default_rng(3).integers(0, 65536, (12, 10, 3)).astype(">u2")


def _int64_wide():
    return np.random.default_rng(4).integers(-(2**62), 2**62, (12, 10), dtype=np.int64)


# ------------------------------------------------------------------------------ CASES

UPSCALE, CLI, TRAIN, EVAL, WIDGET = "upscale", "skfsrcnn upscale", "skfsrcnn-train", "skfsrcnn-eval", "napari widget"
EXPORT = "skfsrcnn export"
IO = "skfsrcnn.io"

CASES = [
    # ---- skfsrcnn.upscale: types
    Case(
        "api-path",
        UPSCALE,
        "a file path, ``Path('photo.png')``",
        lambda env: env.upscale(Path("photo.png")),
        Raises(
            TypeError,
            r"`image` must be a numpy or dask array, got \w*Path 'photo\.png'; "
            r"read the file first, e\.g\. imageio\.v3\.imread\(path\)",
        ),
    ),
    Case(
        "api-ragged-list",
        UPSCALE,
        "nested lists of unequal length",
        lambda env: env.upscale(_ragged()),
        Raises(ValueError, r"`image` is not a rectangular array .*give every row the same length"),
    ),
    Case(
        "api-torch-tensor",
        UPSCALE,
        "a CPU ``torch.Tensor``",
        lambda env: env.upscale(__import__("torch").from_numpy(_unit((12, 10)))),
        Equals("the result for ``tensor.numpy()``", lambda env: env.upscale(_unit((12, 10)))),
    ),
    Case(
        "api-readonly-memmap",
        UPSCALE,
        "a read-only memory map, ``np.load(path, mmap_mode='r')``",
        lambda env: env.upscale(np.load(_saved(env, _uint8((12, 10), 5)), mmap_mode="r")),
        Equals("the result for the array in memory", lambda env: env.upscale(_uint8((12, 10), 5))),
    ),
    # ---- dtypes
    Case(
        "api-bool",
        UPSCALE,
        "a boolean mask, ``image > 0.5``",
        lambda env: env.upscale(_unit((12, 10)) > 0.5),
        Raises(TypeError, r"`image` has dtype bool, which is not an image type; .*image\.astype\(np\.uint8\)"),
    ),
    Case(
        "api-complex",
        UPSCALE,
        "complex data, ``np.fft.fft2(image)``",
        lambda env: env.upscale(np.fft.fft2(_unit((12, 10)))),
        Raises(TypeError, r"`image` has dtype complex(64|128), which is not an image type; .*np\.abs\(image\)"),
    ),
    Case(
        "api-object",
        UPSCALE,
        "an object array holding ``None``",
        lambda env: env.upscale(np.array([[1, None, 3, 4, 5]] * 5, dtype=object)),
        Raises(TypeError, r"`image` has dtype object, which is not an image type; pass integer or float data"),
    ),
    Case(
        "api-float16",
        UPSCALE,
        "``float16``",
        lambda env: env.upscale(_unit((12, 10), dtype=np.float16)),
        Equals(
            "the result for the float32 copy (float16 becomes float32)",
            lambda env: env.upscale(_unit((12, 10), dtype=np.float16).astype(np.float32)),
        ),
    ),
    Case(
        "api-int64-wide",
        UPSCALE,
        "``int64`` spanning ±4.6e18",
        lambda env: env.upscale(_int64_wide()),
        Equals(
            "the result for the float64 copy divided by ``2**63 - 1``",
            lambda env: (env.upscale(_int64_wide().astype(np.float64)) / (2**63 - 1)).astype(np.float32),
        ),
    ),
    Case(
        "api-uint64-constant",
        UPSCALE,
        "a constant ``uint64`` image at ``2**64 - 1``",
        lambda env: env.upscale(np.full((12, 10), 2**64 - 1, np.uint64)),
        Equals("ones (the dtype's maximum maps to 1)", lambda env: np.ones((24, 20), np.float32)),
    ),
    # ---- ndim, channels
    Case(
        "api-1d",
        UPSCALE,
        "a 1-D signal of 100 samples",
        lambda env: env.upscale(_unit(100)),
        Raises(
            ValueError,
            r"`image` of shape \(100,\) needs at least two spatial axes; pass a \(rows, "
            r"columns\) image",
        ),
    ),
    Case(
        "api-6d-stack",
        UPSCALE,
        "a 6-D ``uint8`` stack, shape ``(2, 1, 2, 1, 9, 8)``",
        lambda env: env.upscale(_uint8((2, 1, 2, 1, 9, 8))),
        Equals(
            "every plane upscaled on its own, clipped to the stack's range",
            lambda env: _clipped(_per_plane(env, _uint8((4, 9, 8)), 0), _uint8((4, 9, 8)), 255).reshape(
                2, 1, 2, 1, 18, 16
            ),
        ),
    ),
    Case(
        "api-200-channels",
        UPSCALE,
        "200 spectral channels first, ``channel_axis=0``, ``clip=False``",
        lambda env: env.upscale(_unit((200, 9, 8)), channel_axis=0, clip=False),
        Equals("every channel upscaled on its own", lambda env: _per_plane(env, _unit((200, 9, 8)), 0)),
    ),
    Case(
        "api-channel-axis-tuple",
        UPSCALE,
        "``channel_axis=(0, -1)``",
        lambda env: env.upscale(_uint8((3, 12, 10, 3)), channel_axis=(0, -1)),
        Raises(TypeError, r"`channel_axis` must be an int or None, got \(0, -1\)"),
    ),
    # ---- shapes
    Case(
        "api-empty-stack",
        UPSCALE,
        "an empty stack, shape ``(2, 0, 10, 3)``, ``channel_axis=-1``",
        lambda env: env.upscale(np.zeros((2, 0, 10, 3), np.uint8), channel_axis=-1),
        Raises(ValueError, r"`image` of shape \(2, 0, 10, 3\) is empty; pass an image of at least 5x5 pixels"),
    ),
    Case(
        "api-line-scan",
        UPSCALE,
        "a 1 x 500 line scan",
        lambda env: env.upscale(_uint8((1, 500))),
        Raises(
            ValueError,
            r"`image` is 1x500 pixels in its two spatial axes \(shape \(1, 500\)\); "
            r"at least 5x5 is needed",
        ),
    ),
    Case(
        "api-smallest",
        UPSCALE,
        "the smallest image, 5 x 5 ``uint8``",
        lambda env: env.upscale(_uint8((5, 5), 6)),
        Equals(
            "the plain FSRCNN network's output (in the intensity range of its weights), clipped to the input range",
            lambda env: _clipped(env.network(_uint8((5, 5), 6) / 255), _uint8((5, 5), 6), 255),
            atol=1e-5,
        ),
    ),
    Case(
        "api-huge",
        UPSCALE,
        "a 1,000,000 x 1,000,000 ``uint8`` image (a broadcast view, no memory used)",
        lambda env: env.upscale(_huge()),
        Raises(
            MemoryError,
            r"`image` of shape \(1000000, 1000000\) upscaled x2 is [\d.]+ GiB, more than the "
            r"[\d.]+ GiB of memory available\. Upscale it lazily instead: pass a dask array "
            r".*out\.zarr",
        ),
    ),
    # ---- values
    Case(
        "api-nan-rgb",
        UPSCALE,
        "RGB ``float32`` with one NaN in green",
        lambda env: env.upscale(_nan_in_green(), channel_axis=-1),
        Raises(ValueError, r"`image` contains NaN or infinite values; replace them first, e\.g\. np\.nan_to_num"),
    ),
    Case(
        "api-float32-extremes",
        UPSCALE,
        "±3e38 in ``float32``",
        lambda env: env.upscale(_float32_extremes()),
        Raises(
            ValueError,
            r"`image` values span \[-3e\+38, 3e\+38\], beyond the float32 range the network "
            r"computes in .*rescale the image first",
        ),
    ),
    # ---- memory layout
    Case(
        "api-chw-view",
        UPSCALE,
        "an RGB image viewed channels-first (``np.moveaxis``, not contiguous), ``channel_axis=0``",
        lambda env: env.upscale(np.moveaxis(_uint8((12, 10, 3)), -1, 0), channel_axis=0),
        Equals(
            "the channels-last result, moved",
            lambda env: np.moveaxis(env.upscale(_uint8((12, 10, 3)), channel_axis=-1), -1, 0),
        ),
    ),
    Case(
        "api-big-endian",
        UPSCALE,
        "big-endian ``>u2`` RGB",
        lambda env: env.upscale(_big_endian_rgb(), channel_axis=-1),
        Equals(
            "the native byte order's result",
            lambda env: env.upscale(_big_endian_rgb().astype(np.uint16), channel_axis=-1),
        ),
    ),
    Case(
        "api-big-endian-float64",
        UPSCALE,
        "big-endian ``>f8`` grey",
        lambda env: env.upscale(_unit((12, 10)).astype(">f8")),
        Equals(
            "the native ``float64`` result, as ``float64``", lambda env: env.upscale(_unit((12, 10)).astype(np.float64))
        ),
    ),
    # ---- arguments
    Case(
        "api-rgb-string",
        UPSCALE,
        "``rgb='no'`` (a string, not a flag)",
        lambda env: env.upscale(_uint8((12, 10, 3)), channel_axis=-1, rgb="no"),
        Raises(TypeError, r"`rgb` must be True, False or None \(automatic\), got 'no'"),
    ),
    Case(
        "api-scale-8",
        UPSCALE,
        "``scale=8`` with the released weights",
        lambda env: upscale(_uint8((12, 10)), 8),
        Raises(ValueError, r"`scale`=8 has no weights; use one of 2, 3, 4 \(or train your own with skfsrcnn-train\)"),
    ),
    Case(
        "api-model-list",
        UPSCALE,
        "``model=['fsrcnn']``",
        lambda env: upscale(_uint8((12, 10)), 2, model=["fsrcnn"]),
        Raises(TypeError, r"`model` must be a string, one of fsrcnn, .*fsrcnn-s.*; got \['fsrcnn'\]"),
    ),
    Case(
        "api-weights-folder",
        UPSCALE,
        "``weights=`` a folder",
        lambda env: upscale(_uint8((12, 10)), 2, weights=env.tmp_path),
        Raises(
            ValueError,
            r"`weights`='.*' is neither a registered name \(.*fsrcnn-s-x2, .*\) nor an existing "
            r"file; check the spelling or the path",
        ),
    ),
    Case(
        "api-weights-bad-range",
        UPSCALE,
        "a weights file whose metadata records ``input_range`` ``[1, 0]``",
        lambda env: upscale(_uint8((12, 10)), 2, weights=env.edited_weights(input_range="[1, 0]")),
        Raises(
            ValueError,
            r"The input_range of `weights` file '.*' must be two numbers with 0 <= low < high "
            r"<= 1, got \[1, 0\]; fix or remove that metadata entry",
        ),
    ),
    Case(
        "api-tile-12",
        UPSCALE,
        "``tile_size=12``, smaller than the network's context needs",
        lambda env: env.upscale(_uint8((40, 40)), tile_size=12),
        Raises(
            ValueError,
            r"`tile_size`=12 is too small: the network needs context around each tile; "
            r"use at least 16",
        ),
    ),
    Case(
        "api-device-cuda-7",
        UPSCALE,
        "``device='cuda:7'``",
        lambda env: env.upscale(_uint8((12, 10)), device="cuda:7"),
        Raises(
            ValueError,
            r"`device`='cuda:7' but (no CUDA GPU is available|only \d+ CUDA GPU\(s\) are "
            r"available; use 'cuda:0').*device='cpu'",
        ),
    ),
    # ---- skfsrcnn upscale
    Case(
        "cli-text-as-tiff",
        CLI,
        "a text file named ``in.tif``",
        lambda env: env.skfsrcnn(env.file("in.tif", raw=b"just text\n" * 50), env.tmp_path / "out.tif"),
        Raises(
            CommandFailed,
            r"skfsrcnn: error: INPUT '.*in\.tif' could not be read as an image \(.*\); "
            r"pass a complete PNG, JPEG or TIFF file",
        ),
    ),
    Case(
        "cli-truncated-tiff",
        CLI,
        "a 16-bit TIFF cut in half",
        lambda env: env.skfsrcnn(env.truncated("in.tif", _uint8((60, 60)).astype(np.uint16)), env.tmp_path / "out.tif"),
        Raises(CommandFailed, r"INPUT '.*in\.tif' could not be read as an image .*pass a complete PNG, JPEG or TIFF"),
    ),
    Case(
        "cli-empty-file",
        CLI,
        "an empty file (0 bytes)",
        lambda env: env.skfsrcnn(env.file("in.png", raw=b""), env.tmp_path / "out.png"),
        Raises(CommandFailed, r"INPUT '.*in\.png' is empty \(0 bytes\); was it copied or downloaded completely"),
    ),
    Case(
        "cli-grey-alpha-png",
        CLI,
        "a grey + alpha PNG",
        lambda env: env.upscale_file(_uint8((12, 10, 2)), ".png"),
        Equals(
            "each channel upscaled on its own, rounded to ``uint8``",
            lambda env: _rounded(env.upscale(_uint8((12, 10, 2)), channel_axis=-1, preserve_range=True), np.uint8),
        ),
    ),
    Case(
        "cli-float-to-png",
        CLI,
        "a ``float64`` TIFF to a PNG OUTPUT",
        lambda env: env.skfsrcnn(env.file("in.tif", _unit((12, 10), dtype=np.float64)), env.tmp_path / "out.png"),
        Raises(
            CommandFailed,
            r"OUTPUT '.*out\.png': PNG holds only 8- and 16-bit data, but INPUT is float64; "
            r"use \.tif",
        ),
    ),
    Case(
        "cli-int32-tiff",
        CLI,
        "an ``int32`` TIFF",
        lambda env: env.upscale_file(_int32()),
        Equals(
            "upscale in original units, rounded to ``int32``",
            lambda env: _rounded(env.upscale(_int32(), preserve_range=True), np.int32),
            atol=1,
        ),
    ),
    Case(
        "cli-5d-tiff",
        CLI,
        "a 5-D ``uint8`` TIFF stack, shape ``(2, 2, 2, 9, 8)``",
        lambda env: env.upscale_file(_uint8((2, 2, 2, 9, 8))),
        Equals(
            "every plane upscaled on its own, clipped to the stack's range, rounded",
            lambda env: _rounded(
                _clipped(_per_plane(env, _uint8((8, 9, 8)), 0, preserve_range=True), _uint8((8, 9, 8))).reshape(
                    2, 2, 2, 18, 16
                ),
                np.uint8,
            ),
        ),
    ),
    Case(
        "cli-output-is-folder",
        CLI,
        "OUTPUT an existing folder, with ``--overwrite``",
        lambda env: env.skfsrcnn(env.file("in.png", _uint8((12, 10))), _folder(env, "out.png"), "--overwrite"),
        Raises(CommandFailed, r"OUTPUT '.*out\.png' is a folder; give a file name, e\.g\. '.*out\.png/out\.png'"),
    ),
    Case(
        "cli-output-unwritable",
        CLI,
        "OUTPUT in a folder nobody may write (``/proc``)",
        lambda env: env.skfsrcnn(env.file("in.png", _uint8((12, 10))), "/proc/out.png"),
        Raises(
            CommandFailed,
            r"OUTPUT '/proc/out\.png' (could not be written \(.*\); choose a writable folder"
            r"|is not writable; choose another folder)",
        ),
    ),
    Case(
        "cli-scale-5",
        CLI,
        "``--scale 5``",
        lambda env: env.skfsrcnn(env.file("in.png", _uint8((12, 10))), env.tmp_path / "out.png", "--scale", 5),
        Raises(CommandFailed, r"error: argument --scale: invalid choice: '?5'? \(choose from '?2'?, '?3'?, '?4'?\)"),
    ),
    Case(
        "cli-jpeg-16-bit",
        CLI,
        "a 16-bit PNG to a JPEG OUTPUT",
        lambda env: env.skfsrcnn(
            env.file("in.png", _uint8((12, 10)).astype(np.uint16) * 257), env.tmp_path / "out.jpg"
        ),
        Raises(CommandFailed, r"OUTPUT '.*out\.jpg': JPEG holds only 8-bit data, but INPUT is uint16; use \.tif"),
    ),
    Case(
        "cli-pickled-weights",
        CLI,
        "``--weights`` a ``.pt`` file carrying pickled code",
        _refused_and_never_run(
            lambda env, path: env.skfsrcnn(
                env.file("in.png", _uint8((12, 10))), env.tmp_path / "out.png", "--weights", path
            )
        ),
        Raises(
            CommandFailed,
            r"--weights file '.*evil\.pt' was refused: it is not a plain PyTorch state dict "
            r"\(it may carry pickled code, which is never run\)",
        ),
    ),
    # ---- skfsrcnn-train
    Case(
        "train-text-as-png",
        TRAIN,
        "a text file named ``.png`` among the training images",
        lambda env: env.train(None, train_folders=[str(env.file("bad/a.png", raw=b"not a png").parent)]),
        Raises(
            CommandFailed,
            r"skfsrcnn-train: error: '.*a\.png' could not be read as an image .*; "
            r"replace or remove it",
        ),
    ),
    Case(
        "train-truncated-png",
        TRAIN,
        "a training PNG cut in half",
        lambda env: env.train(None, train_folders=[str(env.truncated("cut/a.png", _uint8((60, 60, 3))).parent)]),
        Raises(CommandFailed, r"'.*a\.png' could not be read as an image .*; replace or remove it"),
    ),
    Case(
        "train-blur-without-sigma",
        TRAIN,
        "``degradation: gaussian`` without ``blur_sigma``",
        lambda env: env.train(None, degradation="gaussian"),
        Raises(CommandFailed, r"The 'gaussian' degradation needs `blur_sigma` > 0 \(in HR pixels\), got 0\.0"),
    ),
    Case(
        "train-noise-without-level",
        TRAIN,
        "``noise: poisson`` without ``noise_level``",
        lambda env: env.train(None, noise="poisson"),
        Raises(CommandFailed, r"`noise_level`=0\.0 does not fit `noise`='poisson': give a level > 0"),
    ),
    Case(
        "train-yaml-syntax",
        TRAIN,
        "a config with a YAML syntax error",
        lambda env: env.train(env.file("bad.yaml", raw=b"scale: [2\n")),
        Raises(CommandFailed, r"The config '.*bad\.yaml' is not valid YAML; fix it: "),
    ),
    Case(
        "train-yaml-list",
        TRAIN,
        "a config that is a YAML list, not a mapping",
        lambda env: env.train(env.file("list.yaml", raw=b"- scale\n- 2\n")),
        Raises(CommandFailed, r"The config '.*list\.yaml' holds a list; it must map setting names to values"),
    ),
    Case(
        "train-config-folder",
        TRAIN,
        "a folder as the config",
        lambda env: env.train(env.tmp_path),
        Raises(CommandFailed, r"The config '.*' is a folder; pass a YAML file"),
    ),
    Case(
        "train-lr-nan",
        TRAIN,
        "``--set lr=nan``",
        lambda env: env.train(None, "--set", "lr=nan"),
        Raises(CommandFailed, r"`lr` must be a finite number, got 'nan'"),
    ),
    Case(
        "train-output-under-file",
        TRAIN,
        "``output_dir`` inside a file",
        lambda env: env.train(None, output_dir=str(env.file("file.txt", raw=b"x") / "runs")),
        Raises(
            CommandFailed,
            r"`output_dir`='.*file\.txt/runs': the run folder '.*' cannot be created \(.*\); "
            r"choose a writable `output_dir`",
        ),
    ),
    # ---- skfsrcnn-eval
    Case(
        "eval-scale-0",
        EVAL,
        "``--scale 0``",
        lambda env: env.evaluate("--bicubic", "--data", env.good_folder(), "--scale", 0),
        Raises(CommandFailed, r"`--scale` 0 is not an upscaling factor; use 2, 3 or 4"),
    ),
    Case(
        "eval-truncated",
        EVAL,
        "a benchmark folder holding a truncated PNG",
        lambda env: env.evaluate(
            "--bicubic", "--data", env.truncated("set/a.png", _uint8((60, 60, 3))).parent, "--scale", 2
        ),
        Raises(CommandFailed, r"'.*a\.png' could not be read as an image .*; replace or remove it"),
    ),
    Case(
        "eval-tiny-image",
        EVAL,
        "a 10 x 10 benchmark image",
        lambda env: env.evaluate("--bicubic", "--data", env.file("set/a.png", _uint8((10, 10))).parent, "--scale", 3),
        Raises(
            CommandFailed,
            r"Benchmark image 'a' is 9x9 pixels; scoring at x3 needs at least 17x17; "
            r"remove it or use larger images",
        ),
    ),
    Case(
        "eval-pipeline-bicubic",
        EVAL,
        "``--pipeline upscale`` with x2 weights and ``--scale 3``",
        lambda env: env.evaluate(
            "--weights", env.weights, "--pipeline", "upscale", "--data", env.good_folder(), "--scale", 3
        ),
        Raises(CommandFailed, r"--weights file '.*' was trained for scale 2, but --scale 3"),
    ),
    Case(
        "eval-area-with-sigma",
        EVAL,
        "``--degradation area --blur-sigma 1``",
        lambda env: env.evaluate(
            "--bicubic", "--data", env.good_folder(), "--scale", 2, "--degradation", "area", "--blur-sigma", 1
        ),
        Raises(CommandFailed, r"--blur-sigma 1\.0 is only used by the 'gaussian' degradation, not 'area'"),
    ),
    Case(
        "export-tflite",
        EXPORT,
        "``--format tflite``",
        lambda env: env.export(env.weights, "--format", "tflite", env.tmp_path / "m.tflite"),
        Raises(CommandFailed, r"argument --format: invalid choice: 'tflite'"),
    ),
    Case(
        "export-existing",
        EXPORT,
        "an OUTPUT that exists, without ``--overwrite``",
        lambda env: env.export(env.weights, "--format", "onnx", env.file("m.onnx", raw=b"mine")),
        Raises(CommandFailed, r"exists; pass overwrite=True \(--overwrite\)"),
    ),
    Case(
        "export-no-folder",
        EXPORT,
        "an OUTPUT in a folder that does not exist",
        lambda env: env.export(env.weights, "--format", "torchscript", env.tmp_path / "nope" / "m.pt"),
        Raises(CommandFailed, r"does not exist; create it first"),
    ),
    Case(
        "export-not-a-network",
        EXPORT,
        "a safetensors file of some other network",
        lambda env: env.export(env.edited_weights_of_another_network(), "--format", "onnx", env.tmp_path / "m.onnx"),
        Raises(CommandFailed, r"does not hold FSRCNN \(or SRCNN\) weights"),
    ),
    Case(
        "eval-wrong-scale",
        EVAL,
        "x2 weights with ``--scale 3``",
        lambda env: env.evaluate("--weights", env.weights, "--data", env.good_folder(), "--scale", 3),
        Raises(
            CommandFailed,
            r"--weights file '.*' was trained for scale 2, but --scale 3; use --scale 2 or "
            r"weights for x3",
        ),
    ),
    # ---- the napari widget
    Case(
        "widget-nan",
        WIDGET,
        "a ``float32`` layer with NaN",
        lambda env: env.widget(np.where(np.eye(20) > 0, np.nan, 0.5).astype(np.float32)),
        Raises(ValueError, r"`image` contains NaN or infinite values; replace them first"),
    ),
    Case(
        "widget-bool",
        WIDGET,
        "a boolean layer",
        lambda env: env.widget(np.eye(20, dtype=bool)),
        Raises(TypeError, r"`image` has dtype bool, which is not an image type; .*image\.astype\(np\.uint8\)"),
    ),
    Case(
        "widget-big-endian",
        WIDGET,
        "a big-endian ``>u2`` layer",
        lambda env: env.widget(_big_endian_rgb()[..., 0]),
        Equals(
            "upscale of the native copy, rounded to ``uint16``",
            lambda env: env.widget_reference(_big_endian_rgb()[..., 0]),
        ),
    ),
    Case(
        "widget-int64",
        WIDGET,
        "an ``int64`` layer spanning ±4.6e18",
        lambda env: env.widget(_int64_wide()),
        Equals(
            "upscale in original units, rounded to ``int64``", lambda env: env.widget_reference(_int64_wide()), atol=0
        ),
    ),
    Case(
        "widget-uint64-constant",
        WIDGET,
        "a constant ``uint64`` layer at ``2**64 - 1``",
        lambda env: env.widget(np.full((12, 10), 2**64 - 1, np.uint64)),
        Equals(
            "the same constant to float32 precision (not wrapped around to 0)",
            lambda env: np.full((24, 20), 2**64 - 1, np.uint64),
            atol=2.0**40,
        ),
    ),
    Case(
        "widget-pickled-weights",
        WIDGET,
        "a weights file carrying pickled code",
        _refused_and_never_run(lambda env, path: env.widget(_uint8((12, 10)), weights=path)),
        Raises(ValueError, r"`weights` file '.*evil\.pt' was refused: .*pickled code, which is never run"),
    ),
    # ---- issues 57 and 58 (files): file modes, metadata, batches, two writers, OME-Zarr
    Case(
        "cli-16-bit-rgb-png",
        CLI,
        "a 16-bit RGB PNG",
        lambda env: _upscaled(env, _png16(env)),
        Equals(
            "upscale in original units, rounded to ``uint16``",
            lambda env: _rounded(env.upscale(_uint16_rgb(), channel_axis=-1, preserve_range=True), np.uint16),
        ),
    ),
    Case(
        "cli-16-bit-rgb-tiff",
        CLI,
        "a 16-bit RGB TIFF",
        lambda env: env.upscale_file(_uint16_rgb(), ".tif"),
        Equals(
            "upscale in original units, rounded to ``uint16``",
            lambda env: _rounded(env.upscale(_uint16_rgb(), channel_axis=-1, preserve_range=True), np.uint16),
        ),
    ),
    Case(
        "cli-cmyk-jpeg",
        CLI,
        "a CMYK JPEG",
        lambda env: env.skfsrcnn(_cmyk_jpeg(env), env.tmp_path / "out.jpg"),
        Raises(CommandFailed, r"INPUT '.*in\.jpg' is a CMYK JPEG; skfsrcnn reads grey, .*convert it to RGB first"),
    ),
    Case(
        "cli-ycck-jpeg",
        CLI,
        "a YCCK JPEG (Adobe transform 2)",
        lambda env: env.skfsrcnn(_cmyk_jpeg(env, adobe_transform=2), env.tmp_path / "out.jpg"),
        Raises(CommandFailed, r"INPUT '.*in\.jpg' is a YCCK JPEG \(CMYK\); .*convert it to RGB first"),
    ),
    Case(
        "cli-palette-png",
        CLI,
        "a palette (colour-mapped) PNG",
        lambda env: _upscaled(env, _palette(env)),
        Equals(
            "the palette's RGB colours upscaled, rounded to ``uint8``",
            lambda env: _rounded(env.upscale(_palette_rgb(), channel_axis=-1, preserve_range=True), np.uint8),
        ),
    ),
    Case(
        "cli-1-bit-png",
        CLI,
        "a 1-bit PNG",
        lambda env: env.upscale_file(_uint8((12, 10)) > 127, ".png"),
        Equals(
            "the 0/255 ``uint8`` image upscaled, rounded",
            lambda env: _rounded(env.upscale((_uint8((12, 10)) > 127) * np.uint8(255), preserve_range=True), np.uint8),
        ),
    ),
    Case(
        "cli-exif-rotated-png",
        CLI,
        "a PNG whose EXIF orientation says it is stored turned (6)",
        lambda env: _upscaled(env, _exif_rotated(env)),
        Equals(
            "the upright image upscaled (EXIF orientation applied), rounded",
            lambda env: _rounded(env.upscale(np.rot90(_uint8((12, 10)), -1), preserve_range=True), np.uint8),
        ),
    ),
    Case(
        "cli-animated-gif",
        CLI,
        "an animated GIF of 3 frames",
        lambda env: env.skfsrcnn(_animation(env, "in.gif"), env.tmp_path / "out.png"),
        Raises(CommandFailed, r"INPUT '.*in\.gif' is an animated GIF with 3 frames; .*extract the frames first"),
    ),
    Case(
        "cli-animated-png",
        CLI,
        "an animated PNG (APNG) of 3 frames",
        lambda env: env.skfsrcnn(_animation(env, "in.png"), env.tmp_path / "out.png"),
        Raises(CommandFailed, r"INPUT '.*in\.png' is an animated PNG with 3 frames; .*extract the frames first"),
    ),
    Case(
        "cli-tiff-two-series",
        CLI,
        "a TIFF holding two images of different shapes",
        lambda env: env.skfsrcnn(_two_series(env), env.tmp_path / "out.tif"),
        Raises(CommandFailed, r"INPUT '.*in\.tif' holds 2 images \(TIFF series\) .*save each as its own file"),
    ),
    Case(
        "cli-palette-tiff",
        CLI,
        "a palette (colour-mapped) TIFF",
        lambda env: env.skfsrcnn(_palette_tiff(env), env.tmp_path / "out.tif"),
        Raises(CommandFailed, r"is a palette \(colour-mapped\) TIFF \(photometric PALETTE\); .*convert it first"),
    ),
    Case(
        "cli-stack-to-png",
        CLI,
        "a TIFF stack of 3 planes to a PNG OUTPUT",
        lambda env: env.skfsrcnn(_grey_stack(env), env.tmp_path / "out.png"),
        Raises(CommandFailed, r"OUTPUT '.*out\.png': PNG holds one 2-D image, but INPUT is a stack .*; use \.tif"),
    ),
    Case(
        "cli-rgba-to-jpeg",
        CLI,
        "an RGBA PNG to a JPEG OUTPUT",
        lambda env: env.skfsrcnn(env.file("in.png", _uint8((12, 10, 4))), env.tmp_path / "out.jpg"),
        Raises(CommandFailed, r"OUTPUT '.*out\.jpg': JPEG holds no alpha channel, but INPUT has one; use \.png"),
    ),
    Case(
        "cli-second-writer",
        CLI,
        "another process writes OUTPUT while the command works",
        lambda env: _second_writer(env),
        Raises(CommandFailed, r"OUTPUT '.*out\.png' was created by another process while this run worked; that file"),
    ),
    Case(
        "cli-batch-broken-file",
        CLI,
        "``--output-dir`` over a folder holding a good PNG and a truncated one",
        lambda env: env.batch(_folder_with_broken_file(env), "--output-dir", env.tmp_path / "out"),
        Raises(CommandFailed, r"skfsrcnn: error: 1 of 2 file\(s\) failed \(listed above\); fix them and run again"),
    ),
    Case(
        "cli-batch-disk-full",
        CLI,
        "``--output-dir`` while the disk is full (writing fails with ENOSPC)",
        lambda env: _disk_full(env),
        Raises(CommandFailed, r"1 of 1 file\(s\) failed"),
    ),
    Case(
        "cli-batch-output-inside-input",
        CLI,
        "``--output-dir`` inside the INPUT folder, run twice",
        lambda env: _output_inside_input(env),
        Equals(
            "the one image upscaled (the outputs are never taken as inputs)",
            lambda env: _rounded(env.upscale(_uint8((12, 10)), preserve_range=True), np.uint8),
        ),
    ),
    Case(
        "cli-batch-output-is-input-folder",
        CLI,
        "``--output-dir`` the INPUT folder itself",
        lambda env: env.batch(env.good_folder(), "--output-dir", env.good_folder()),
        Raises(CommandFailed, r"--output-dir '.*good' is the INPUT folder '.*good'; choose another folder"),
    ),
    Case(
        "cli-batch-name-collision",
        CLI,
        "``--name-template '{stem}.png'`` over ``a.png`` and ``a.jpg``",
        lambda env: env.batch(_same_stems(env), "--output-dir", env.tmp_path / "out", "--name-template", "{stem}.png"),
        Raises(CommandFailed, r"INPUT '.*a\.jpg' and '.*a\.png' would both be written to '.*a\.png'; rename one"),
    ),
    Case(
        "cli-batch-bad-template",
        CLI,
        "``--name-template '{name}.png'`` (no such field)",
        lambda env: env.batch(env.good_folder(), "--output-dir", env.tmp_path / "o", "--name-template", "{name}.png"),
        Raises(CommandFailed, r"--name-template '\{name\}\.png' is not a valid template .*use the fields \{stem\}"),
    ),
    Case(
        "cli-batch-glob-matches-nothing",
        CLI,
        "a glob INPUT that matches no file",
        lambda env: env.batch(str(env.tmp_path / "*.png"), "--output-dir", env.tmp_path / "out"),
        Raises(CommandFailed, r"INPUT '.*\*\.png' matches no file; check the pattern"),
    ),
    Case(
        "cli-batch-symlink-loop",
        CLI,
        "``--output-dir`` over a folder holding a symbolic link to itself",
        lambda env: _symlink_loop(env),
        Equals(
            "the one image upscaled once",
            lambda env: _rounded(env.upscale(_uint8((40, 40, 3)), channel_axis=-1, preserve_range=True), np.uint8),
        ),
    ),
    Case(
        "cli-ome-zarr-six-axes",
        CLI,
        "a 6-D zarr array to a zarr (OME-Zarr) OUTPUT",
        lambda env: env.skfsrcnn(_six_axes_zarr(env), env.tmp_path / "out.zarr"),
        Raises(CommandFailed, r"has 6 axes, shape \(2, 1, 1, 2, 20, 20\); OME-Zarr holds at most 5 .*write a TIFF"),
    ),
    Case(
        "cli-pyramid-too-deep",
        CLI,
        "``--pyramid 40``",
        lambda env: env.skfsrcnn(env.file("in.png", _uint8((20, 20))), env.tmp_path / "out.zarr", "--pyramid", 40),
        Raises(CommandFailed, r"--pyramid 40 must be between 0 and 12"),
    ),
    Case(
        "cli-resume-plain-zarr",
        CLI,
        "``--resume`` of a plain zarr array (an output of an older skfsrcnn)",
        lambda env: env.skfsrcnn(
            _plain_zarr(env, "in.zarr", (20, 20)), _plain_zarr(env, "out.zarr", (40, 40)), "--resume"
        ),
        Raises(CommandFailed, r"OUTPUT '.*out\.zarr' is not an OME-Zarr started by skfsrcnn upscale .*--overwrite"),
    ),
    # ---- issue 57, second pass: skfsrcnn.io.write_image to OME-Zarr; training folders read by skfsrcnn.io
    Case(
        "io-zarr-over-a-folder",
        IO,
        "``write_image`` to ``out.zarr`` naming an existing folder that is no zarr store",
        lambda env: _write_zarr_over(env, env.tmp_path / "out.zarr", np.zeros((8, 8), np.uint8)),
        Raises(
            ValueError, r"OUTPUT '.*out\.zarr' exists and is not a zarr store; it was not replaced\. Choose another"
        ),
    ),
    Case(
        "io-zarr-six-axes",
        IO,
        "``write_image`` of a 6-D image to ``out.zarr``",
        lambda env: _write_zarr_over(env, None, np.zeros((2, 1, 1, 2, 8, 8), np.uint8)),
        Raises(ValueError, r"image for OUTPUT '.*out\.zarr' has 6 axes, .*OME-Zarr holds at most 5 .*write a TIFF"),
    ),
    Case(
        "train-16-bit-colour-png",
        TRAIN,
        "a 16-bit RGB PNG among the training images (imageio read it cut to 8 bits)",
        lambda env: env.train(None, train_folders=[str(_folder_of(env, "deep.png", _uint16_rgb()))]),
        Raises(CommandFailed, r"'.*deep\.png': training images must be 8-bit, got uint16"),
    ),
    # ---- issue 55: self-ensemble, uncertainty, back-projection
    Case(
        "api-ensemble-string",
        UPSCALE,
        "``ensemble='yes'`` (a string, not a flag)",
        lambda env: env.upscale(_uint8((12, 10)), ensemble="yes"),
        Raises(TypeError, r"`ensemble` must be True or False, got 'yes'"),
    ),
    Case(
        "api-uncertainty-without-ensemble",
        UPSCALE,
        "``return_uncertainty=True`` without ``ensemble``",
        lambda env: env.upscale(_uint8((12, 10)), return_uncertainty=True),
        Raises(ValueError, r"`return_uncertainty`=True needs `ensemble`=True: .*pass ensemble=True as well"),
    ),
    Case(
        "api-back-projection-float",
        UPSCALE,
        "``back_projection=2.5``",
        lambda env: env.upscale(_uint8((12, 10)), back_projection=2.5),
        Raises(TypeError, r"`back_projection` must be an int \(iterations, e\.g\. 5; 0 for none\), got 2\.5"),
    ),
    Case(
        "api-back-projection-negative",
        UPSCALE,
        "``back_projection=-1``",
        lambda env: env.upscale(_uint8((12, 10)), back_projection=-1),
        Raises(ValueError, r"`back_projection`=-1 iterations is out of range; use 0 \(none\) to 50"),
    ),
    Case(
        "api-ensemble-tiled",
        UPSCALE,
        "``ensemble=True, return_uncertainty=True`` on an odd-sized RGB image in 16-pixel tiles",
        lambda env: np.concatenate(
            [
                out.reshape(-1)
                for out in env.upscale(
                    _unit((37, 29, 3)), channel_axis=-1, ensemble=True, return_uncertainty=True, tile_size=16
                )
            ]
        ),
        Equals(
            "the untiled ensemble and uncertainty",
            lambda env: np.concatenate(
                [
                    out.reshape(-1)
                    for out in env.upscale(
                        _unit((37, 29, 3)), channel_axis=-1, ensemble=True, return_uncertainty=True, tile_size=None
                    )
                ]
            ),
            atol=1e-5,
        ),
    ),
    Case(
        "api-consistency-shape",
        UPSCALE,
        "``consistency_residual`` of an output upscaled by 2 checked with ``scale=3``",
        lambda env: consistency_residual(_uint8((12, 10)), env.upscale(_uint8((12, 10))), 3),
        Raises(ValueError, r"`upscaled` has shape \(24, 20\), but `image` of shape \(12, 10\) upscaled by 3"),
    ),
    Case(
        "cli-uncertainty-without-ensemble",
        CLI,
        "``--uncertainty u.tif`` without ``--ensemble``",
        lambda env: env.skfsrcnn(
            env.file("in.png", _uint8((12, 10))), env.tmp_path / "out.png", "--uncertainty", "u.tif"
        ),
        Raises(CommandFailed, r"--uncertainty needs --ensemble"),
    ),
    Case(
        "cli-uncertainty-png",
        CLI,
        "``--ensemble --uncertainty u.png`` (float values in a PNG)",
        lambda env: env.skfsrcnn(
            env.file("in.png", _uint8((12, 10))), env.tmp_path / "out.png", "--ensemble", "--uncertainty", "u.png"
        ),
        Raises(CommandFailed, r"--uncertainty 'u\.png' must end in \.tif or \.tiff"),
    ),
    Case(
        "cli-uncertainty-batch",
        CLI,
        "``--ensemble --uncertainty u.tif`` with ``--output-dir`` (one file for many outputs)",
        lambda env: env.batch(
            env.file("in.png", _uint8((12, 10))),
            "--output-dir",
            env.tmp_path / "out",
            "--ensemble",
            "--uncertainty",
            "u.tif",
        ),
        Raises(CommandFailed, r"--output-dir takes INPUT files and folders; leave out .*--uncertainty"),
    ),
    Case(
        "cli-uncertainty-zarr",
        CLI,
        "``--ensemble --uncertainty u.tif`` with a zarr OUTPUT",
        lambda env: env.skfsrcnn(
            env.file("in.tif", _uint8((12, 10))), env.tmp_path / "out.zarr", "--ensemble", "--uncertainty", "u.tif"
        ),
        Raises(CommandFailed, r"--uncertainty works with image files only"),
    ),
    Case(
        "eval-ensemble-bicubic",
        EVAL,
        "``--bicubic --ensemble``",
        lambda env: env.evaluate("--bicubic", "--ensemble", "--data", env.good_folder(), "--scale", 2),
        Raises(CommandFailed, r"--ensemble and --back-projection apply to --weights only"),
    ),
    Case(
        "eval-back-projection-99",
        EVAL,
        "``--back-projection 99``",
        lambda env: env.evaluate(
            "--weights", env.weights, "--back-projection", 99, "--data", env.good_folder(), "--scale", 2
        ),
        Raises(CommandFailed, r"`back_projection`=99 iterations is out of range; use 0 \(none\) to 50"),
    ),
    # ---- issue 57: videos (skfsrcnn upscale in.mp4 out.mp4, skfsrcnn.video)
    Case(
        "video-no-video-stream",
        CLI,
        "an MP4 file holding sound only",
        lambda env: env.skfsrcnn(_clip(env, "sound.mp4", video=False), env.tmp_path / "out.mp4"),
        Raises(CommandFailed, r"'.*sound\.mp4' has no video stream \(it holds audio\); give a video file"),
    ),
    Case(
        "video-unknown-codec",
        CLI,
        "a Matroska file whose video codec FFmpeg does not know",
        lambda env: env.skfsrcnn(_unknown_codec(env), env.tmp_path / "out.mp4"),
        Raises(CommandFailed, r"'.*unknown\.mkv': its video stream is in a codec .* cannot decode; convert it first"),
    ),
    Case(
        "video-truncated-mp4",
        CLI,
        "an MP4 file cut in half (its index, at the end, is lost)",
        lambda env: env.skfsrcnn(_truncated_clip(env, "cut.mp4"), env.tmp_path / "out.mp4"),
        Raises(CommandFailed, r"'.*cut\.mp4' could not be read as a video .*a truncated download"),
    ),
    Case(
        "video-truncated-mkv",
        CLI,
        "a Matroska file cut at 60 % (it plays, then stops early)",
        lambda env: env.skfsrcnn(_truncated_clip(env, "cut.mkv", 0.6), env.tmp_path / "out.mp4"),
        Raises(CommandFailed, r"'.*cut\.mkv' is truncated or damaged: its video stops after \d+ frames"),
    ),
    Case(
        "video-not-a-video",
        CLI,
        "a text file named ``clip.mp4``",
        lambda env: env.skfsrcnn(env.file("clip.mp4", raw=b"not a video\n" * 100), env.tmp_path / "out.mp4"),
        Raises(CommandFailed, r"'.*clip\.mp4' could not be read as a video"),
    ),
    Case(
        "video-output-format",
        CLI,
        "a video OUTPUT ending in ``.avi``",
        lambda env: env.skfsrcnn(_clip(env, "in.mp4"), env.tmp_path / "out.avi"),
        Raises(CommandFailed, r"`output`='.*out\.avi' must end in \.mp4, \.m4v, \.mov, \.mkv"),
    ),
    Case(
        "video-subtitles-unfit",
        CLI,
        "Matroska with SubRip subtitles to an MP4 OUTPUT (MP4 cannot hold them unchanged)",
        lambda env: env.skfsrcnn(_clip(env, "in.mkv", subtitles=True), env.tmp_path / "out.mp4"),
        Raises(CommandFailed, r"cannot hold the subtitle stream 2 \(srt\) .*write to a \.mkv file instead"),
    ),
    Case(
        "video-crf",
        CLI,
        "``--crf 60``",
        lambda env: env.skfsrcnn(_clip(env, "in.mp4"), env.tmp_path / "out.mp4", "--crf", 60),
        Raises(CommandFailed, r"`crf`=60 is outside libx264's range; use 0 \(lossless\) to 51"),
    ),
    Case(
        "video-output-exists",
        CLI,
        "a video OUTPUT that exists, without ``--overwrite``",
        lambda env: env.skfsrcnn(_clip(env, "in.mp4"), env.file("out.mp4", raw=b"mine")),
        Raises(CommandFailed, r"`output`='.*out\.mp4' exists; pass overwrite=True \(--overwrite\)"),
    ),
    Case(
        "video-sample",
        CLI,
        "``--sample`` with a video OUTPUT",
        lambda env: env.skfsrcnn("--sample", env.tmp_path / "out.mp4"),
        Raises(CommandFailed, r"--sample is an image; give a video INPUT and OUTPUT"),
    ),
    Case(
        "video-ensemble",
        CLI,
        "``--ensemble`` with a video",
        lambda env: env.skfsrcnn(_clip(env, "in.mp4"), env.tmp_path / "out.mp4", "--ensemble"),
        Raises(CommandFailed, r"--ensemble: images only; leave it out for a video"),
    ),
    # ---- issue 58 (robustness, round two): inputs that lie, array types, settings that explode,
    # ---- optional parts, crashes. Their helpers follow CASES ("helpers of the issue 58 cases").
    Case(
        "api-weights-absurd-architecture",
        UPSCALE,
        "a 50 KB weights file whose metadata asks for ``d=100000, s=100000, m=1000``",
        lambda env: upscale(_u8(), 2, weights=_lying_weights(env, d=100_000, s=100_000, m=1000)),
        Raises(ValueError, r"records FSRCNN architecture d=100000, outside \[1, 1024\]; the file is damaged"),
    ),
    Case(
        "api-weights-negative-architecture",
        UPSCALE,
        "weights metadata with ``d=-3``",
        lambda env: upscale(_u8(), 2, weights=_lying_weights(env, d=-3)),
        Raises(ValueError, r"records FSRCNN architecture d=-3, outside \[1, 1024\]"),
    ),
    Case(
        "api-weights-architecture-not-json",
        UPSCALE,
        "weights metadata whose ``architecture`` is not JSON",
        lambda env: upscale(_u8(), 2, weights=env.edited_weights(architecture="{{")),
        Raises(ValueError, r"records an architecture that is not JSON \('\{\{'\); the file is damaged"),
    ),
    Case(
        "api-weights-architecture-unknown-key",
        UPSCALE,
        "weights metadata with an extra architecture key ``evil``",
        lambda env: upscale(_u8(), 2, weights=_lying_weights(env, evil=1)),
        Raises(ValueError, r"records architecture keys evil that a FSRCNN does not have \(scale, d, s, m\)"),
    ),
    Case(
        "api-weights-shapes-disagree",
        UPSCALE,
        "FSRCNN-s tensors (``d=32``) whose metadata says ``d=56``",
        lambda env: upscale(_u8(), 2, weights=_lying_weights(env, d=56)),
        Raises(
            ValueError,
            r"does not match the FSRCNN \{'scale': 2, 'd': 56, 's': 5, 'm': 1\} it describes: "
            r"feature\.0\.weight has shape \(32, 1, 5, 5\), not \(56, 1, 5, 5\)",
        ),
    ),
    Case(
        "api-weights-extra-tensor",
        UPSCALE,
        "a weights file with one tensor more than FSRCNN has",
        lambda env: upscale(_u8(), 2, weights=_lying_weights(env, extra_tensor=True)),
        Raises(ValueError, r"it describes: extra is not a FSRCNN tensor\. The file is damaged or its metadata"),
    ),
    Case(
        "api-weights-scale-lie",
        UPSCALE,
        "the released x3 FSRCNN-s weights with metadata claiming ``scale`` 2",
        lambda env: upscale(_u8(), 2, weights=_lying_weights(env, source="fsrcnn-s-x3", scale=2)),
        Raises(ValueError, r"records scale 2, but its weights work at x3 \(on the sample image\); .*use scale=3"),
    ),
    Case(
        "api-weights-nan",
        UPSCALE,
        "a weights file holding NaN (a diverged training)",
        lambda env: upscale(_u8(), 2, weights=_lying_weights(env, nan=True)),
        Raises(ValueError, r"holds NaN or infinite values in feature\.0\.weight: the training diverged"),
    ),
    Case(
        "api-plain-state-dict-wrong-scale",
        UPSCALE,
        "a plain PyTorch state dict of the x3 weights with ``scale=2``",
        lambda env: upscale(_u8(), 2, weights=_plain_state_dict(env, "fsrcnn-s-x3")),
        Raises(ValueError, r"x3\.pt' was trained for scale 3, but `scale`=2; use scale=3 or weights for x2"),
    ),
    Case(
        "api-plain-state-dict-scale",
        UPSCALE,
        "a plain PyTorch state dict of the x3 weights with ``scale=3``",
        lambda env: upscale(_u8(), 3, weights=_plain_state_dict(env, "fsrcnn-s-x3")),
        Equals("the result of the registered ``fsrcnn-s-x3``", lambda env: upscale(_u8(), 3, weights="fsrcnn-s-x3")),
    ),
    Case(
        "cli-weights-empty-pt",
        CLI,
        "``--weights`` an empty ``.pt`` file",
        lambda env: env.skfsrcnn(env.file("in.png", _u8()), env.tmp_path / "o.png", "--weights", _empty_pt(env)),
        Raises(CommandFailed, r"skfsrcnn: error: --weights file '.*empty\.pt' is empty \(0 bytes\); copy or save"),
    ),
    Case(
        "cli-weights-garbage-pt",
        CLI,
        "``--weights`` a ``.pt`` file of text",
        lambda env: env.skfsrcnn(
            env.file("in.png", _u8()), env.tmp_path / "o.png", "--weights", env.file("g.pt", raw=b"hello " * 20)
        ),
        Raises(CommandFailed, r"'.*g\.pt' is not a readable PyTorch file \(\w+Error.*\); it is damaged"),
    ),
    Case(
        "eval-plain-state-dict-wrong-scale",
        EVAL,
        "``--weights`` a plain state dict of the x3 weights with ``--scale 2``",
        lambda env: env.evaluate(
            "--weights", _plain_state_dict(env, "fsrcnn-s-x3"), "--data", env.good_folder(), "--scale", 2
        ),
        Raises(CommandFailed, r"was trained for scale 3, but --scale 2; use --scale 3"),
    ),
    Case(
        "export-absurd-architecture",
        EXPORT,
        "weights metadata asking for ``d=100000``",
        lambda env: env.export(_lying_weights(env, d=100_000), "--format", "onnx", env.tmp_path / "m.onnx"),
        Raises(CommandFailed, r"d=100000, outside \[1, 1024\]"),
    ),
    # -- array types
    Case(
        "api-masked-nan",
        UPSCALE,
        "a ``numpy.ma`` masked array with NaN under its mask",
        lambda env: env.upscale(_masked(np.nan)),
        Raises(ValueError, r"`image` is a masked array with 12 masked pixel\(s\); .*image\.filled\("),
    ),
    Case(
        "api-masked-nothing",
        UPSCALE,
        "a masked array whose mask masks nothing",
        lambda env: env.upscale(np.ma.masked_array(_unit((12, 10)), mask=False)),
        Equals("the result for its data", lambda env: env.upscale(_unit((12, 10)))),
    ),
    Case(
        "api-matrix",
        UPSCALE,
        "a ``numpy.matrix``",
        lambda env: env.upscale(_matrix()),
        Equals("the result for ``np.asarray(matrix)``", lambda env: env.upscale(_unit((12, 10)))),
    ),
    Case(
        "api-ndarray-subclass",
        UPSCALE,
        "an instance of an ``ndarray`` subclass",
        lambda env: env.upscale(_unit((12, 10)).view(_Tagged)),
        Equals("the result for the plain array", lambda env: env.upscale(_unit((12, 10)))),
    ),
    Case(
        "api-float64-large-offset",
        UPSCALE,
        "``float64`` data at ``1e12`` plus values in [0, 1]",
        lambda env: env.upscale(_unit((12, 10), dtype=np.float64) + 1e12) - 1e12,
        Equals(
            "the result for the data at offset 5, less 5 (it collapsed to a constant before)",
            lambda env: env.upscale(_unit((12, 10), dtype=np.float64) + 5) - 5,
            atol=1e-3,
        ),
    ),
    Case(
        "api-float64-tiny-span",
        UPSCALE,
        "``float64`` data spanning ``1e-9`` at 5",
        lambda env: (env.upscale(_unit((12, 10), dtype=np.float64) * 1e-9 + 5) - 5) / 1e-9,
        Equals(
            "the result for the span of 1 (it collapsed to a constant before)",
            lambda env: env.upscale(_unit((12, 10), dtype=np.float64) + 5) - 5,
            atol=1e-3,
        ),
    ),
    Case(
        "api-device-meta",
        UPSCALE,
        "``device='meta'``",
        lambda env: env.upscale(_u8(), device="meta"),
        Raises(ValueError, r"`device`='meta': torch knows 'meta' devices but one holds no data .*device='cpu'"),
    ),
    Case(
        "api-device-xla",
        UPSCALE,
        "``device='xla'`` (not built into this torch)",
        lambda env: env.upscale(_u8(), device="xla"),
        Raises(ValueError, r"`device`='xla': torch knows 'xla' devices but one cannot run skfsrcnn here"),
    ),
    Case(
        "cli-device-meta",
        CLI,
        "``--device meta``",
        lambda env: env.skfsrcnn(env.file("in.png", _u8()), env.tmp_path / "o.png", "--device", "meta"),
        Raises(CommandFailed, r"skfsrcnn: error: --device 'meta': torch knows 'meta' devices .*use --device 'cpu'"),
    ),
    Case(
        "train-device-meta",
        TRAIN,
        "``--set device=meta``",
        lambda env: env.train(None, "--set", "device=meta"),
        Raises(CommandFailed, r"skfsrcnn-train: error: `device`='meta': torch knows 'meta' devices"),
    ),
    Case(
        "eval-device-xla",
        EVAL,
        "``--device xla``",
        lambda env: env.evaluate(
            "--weights", env.weights, "--data", env.good_folder(), "--scale", 2, "--device", "xla"
        ),
        Raises(CommandFailed, r"--device 'xla': torch knows 'xla' devices"),
    ),
    # -- settings that explode
    Case(
        "train-downscales-50",
        TRAIN,
        "``--set downscales=[50.0]`` (grew to gigabytes before)",
        lambda env: env.train(None, "--set", "downscales=[50.0]"),
        Raises(CommandFailed, r"`downscales` must hold factors in \[0\.1, 2\] .*got 50\.0"),
    ),
    Case(
        "train-downscales-tiny",
        TRAIN,
        "``--set downscales=[1e-9]``",
        lambda env: env.train(None, "--set", "downscales=[1e-9]"),
        Raises(CommandFailed, r"`downscales` must hold factors in \[0\.1, 2\] .*got '1e-9'"),
    ),
    Case(
        "train-batch-huge",
        TRAIN,
        "``--set batch_size=1000000000``",
        lambda env: env.train(None, "--set", "batch_size=1000000000"),
        Raises(CommandFailed, r"`batch_size` must be in \[1, 65536\], got 1000000000"),
    ),
    Case(
        "train-batch-beyond-memory",
        TRAIN,
        "a batch of 65536 patches of 512 x 512 at x4 (within the bounds, beyond memory)",
        lambda env: env.train(None, "--set", "batch_size=65536", "patch_size=512", "scale=4"),
        Raises(CommandFailed, r"`batch_size`=65536 of `patch_size`=512 patches needs about [\d.]+ GiB"),
    ),
    Case(
        "train-threads-huge",
        TRAIN,
        "``--set threads=100000`` (crashed the process before)",
        lambda env: env.train(None, "--set", "threads=100000"),
        Raises(CommandFailed, r"`threads` must be in \[1, 256\], got 100000"),
    ),
    Case(
        "train-threads-negative",
        TRAIN,
        "``--set threads=-1``",
        lambda env: env.train(None, "--set", "threads=-1"),
        Raises(CommandFailed, r"`threads` must be in \[1, 256\], got -1"),
    ),
    Case(
        "train-log-every-0",
        TRAIN,
        "``--set log_every=0`` (a division by zero before)",
        lambda env: env.train(None, "--set", "log_every=0"),
        Raises(CommandFailed, r"`log_every` must be in \[1, 1e\+09\], got 0"),
    ),
    Case(
        "train-step-every-0",
        TRAIN,
        "``--set schedule=step step_every=0``",
        lambda env: env.train(None, "--set", "schedule=step", "step_every=0"),
        Raises(CommandFailed, r"`step_every` must be in \[1, 1e\+09\], got 0"),
    ),
    Case(
        "train-seed-negative",
        TRAIN,
        "``--set seed=-1``",
        lambda env: env.train(None, "--set", "seed=-1"),
        Raises(CommandFailed, r"`seed` must be in \[0, 4\.29497e\+09\], got -1"),
    ),
    Case(
        "train-blur-sigma-huge",
        TRAIN,
        "``--set degradation=gaussian blur_sigma=1e9`` (60 GiB kernel before)",
        lambda env: env.train(None, "--set", "degradation=gaussian", "blur_sigma=1e9"),
        Raises(CommandFailed, r"`blur_sigma`=1000000000\.0 HR pixels is beyond 20"),
    ),
    Case(
        "eval-noise-level-huge",
        EVAL,
        "``--noise gaussian --noise-level 1e9``",
        lambda env: env.evaluate(
            "--bicubic", "--data", env.good_folder(), "--scale", 2, "--noise", "gaussian", "--noise-level", 1e9
        ),
        Raises(CommandFailed, r"--noise-level 1000000000\.0 is beyond 1 for 'gaussian' noise"),
    ),
    Case(
        "cli-jobs-huge",
        CLI,
        "``--jobs 100000`` to a zarr OUTPUT",
        lambda env: env.skfsrcnn(env.file("in.png", _u8()), env.tmp_path / "o.zarr", "--jobs", 100_000),
        Raises(CommandFailed, r"--jobs 100000 must be in \[1, 256\]; leave it out for one per CPU core"),
    ),
    Case(
        "cli-chunk-size-huge",
        CLI,
        "``--chunk-size 10000000000``",
        lambda env: env.skfsrcnn(env.file("in.png", _u8()), env.tmp_path / "o.zarr", "--chunk-size", 10**10),
        Raises(CommandFailed, r"--chunk-size 10000000000 must be in \[16, 16384\]"),
    ),
    # -- optional parts
    Case(
        "cli-zarr-without-zarr",
        CLI,
        "a zarr OUTPUT where zarr is not installed (simulated)",
        lambda env: _without(env, "zarr", env.skfsrcnn, env.file("in.png", _u8()), env.tmp_path / "o.zarr"),
        Raises(CommandFailed, r"needs the optional package zarr, which is not installed; .*'skfsrcnn\[dask\]'"),
    ),
    Case(
        "export-onnx-without-onnxscript",
        EXPORT,
        "``--format onnx`` where onnxscript is not installed (simulated)",
        lambda env: _without(env, "onnxscript", env.export, env.weights, "--format", "onnx", env.tmp_path / "m.onnx"),
        Raises(CommandFailed, r"pip install 'skfsrcnn\[export\]'"),
    ),
    # -- crashes
    Case(
        "train-resume-after-kill-mid-log",
        TRAIN,
        "``--resume`` after a kill that left a row past the checkpoint and a partial row in ``log.csv``",
        lambda env: _resumed_log_iterations(env),
        Equals("a header and each iteration's row once: 2, 4", lambda env: np.array([2, 4])),
    ),
]


# -- issues 57 and 58 (files)


def _uint16_rgb():
    return np.random.default_rng(5).integers(0, 65536, (12, 10, 3)).astype(np.uint16)


def _png16(env):
    import imagecodecs

    path = env.tmp_path / "in16.png"
    path.write_bytes(imagecodecs.png_encode(_uint16_rgb()))
    return path


def _upscaled(env, path):
    """``skfsrcnn upscale`` of the PNG ``path``; the output read back with imagecodecs (16-bit colour too)."""
    import imagecodecs

    env.skfsrcnn(path, env.tmp_path / "out.png")
    return imagecodecs.png_decode((env.tmp_path / "out.png").read_bytes())


def _grey_stack(env):
    path = env.tmp_path / "in.tif"
    tifffile.imwrite(path, _uint8((3, 12, 10)), photometric="minisblack")
    return path


def _cmyk_jpeg(env, adobe_transform=None):
    from PIL import Image

    path = env.tmp_path / "in.jpg"
    Image.new("CMYK", (10, 12), (10, 20, 30, 40)).save(path)
    if adobe_transform is not None:  # patch the Adobe APP14 segment's transform byte (its last)
        data = bytearray(path.read_bytes())
        start = data.index(b"Adobe")
        length = int.from_bytes(data[start - 2 : start], "big")
        data[start - 2 + length - 1] = adobe_transform
        path.write_bytes(bytes(data))
    return path


def _palette_image():
    from PIL import Image

    return Image.fromarray(_uint8((12, 10, 3)) // 64 * 64).quantize(colors=16)


def _palette(env):
    path = env.tmp_path / "palette.png"
    _palette_image().save(path)
    return path


def _palette_rgb():
    return np.asarray(_palette_image().convert("RGB"))


def _exif_rotated(env):
    from PIL import Image

    path = env.tmp_path / "turned.png"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(_uint8((12, 10))).save(path, exif=exif.tobytes())
    return path


def _animation(env, name):
    from PIL import Image

    path = env.tmp_path / name
    frames = [Image.fromarray(_uint8((12, 10, 3), seed)) for seed in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    return path


def _two_series(env):
    path = env.tmp_path / "in.tif"
    with tifffile.TiffWriter(path) as tif:
        tif.write(_uint8((12, 10)))
        tif.write(_uint8((6, 5)))
    return path


def _palette_tiff(env):
    path = env.tmp_path / "in.tif"
    tifffile.imwrite(path, _uint8((12, 10)), photometric="palette", colormap=np.zeros((3, 256), np.uint16))
    return path


def _second_writer(env):
    from skfsrcnn.cli import upscale as command

    monkeypatch = env.request.getfixturevalue("monkeypatch")
    work = command._upscale_in_memory

    def meanwhile(image, args, value_range=None):
        (env.tmp_path / "out.png").write_bytes(b"written by another process")
        return work(image, args, value_range)

    monkeypatch.setattr(command, "_upscale_in_memory", meanwhile)
    env.skfsrcnn(env.file("in.png", _uint8((12, 10))), env.tmp_path / "out.png")


def _folder_with_broken_file(env):
    env.file("batch/good.png", _uint8((12, 10)))
    env.truncated("batch/broken.png", _uint8((40, 40)))
    return env.tmp_path / "batch"


def _disk_full(env):
    def full(target, image, metadata, provenance):
        target.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    env.request.getfixturevalue("monkeypatch").setattr("skfsrcnn._photo.write_png", full)
    folder = env.file("batch/a.png", _uint8((12, 10))).parent
    try:
        env.batch(folder, "--output-dir", env.tmp_path / "out")
    finally:
        assert not any((env.tmp_path / "out").rglob("*.png")), "a partial file was left"


def _output_inside_input(env):
    folder = env.file("batch/a.png", _uint8((12, 10))).parent
    for _ in range(2):
        env.batch(folder, "--output-dir", folder / "out")
    outputs = sorted((folder / "out").rglob("*.png"))
    assert [p.name for p in outputs] == ["a_x2.png"], outputs
    return iio.imread(outputs[0])


def _same_stems(env):
    env.file("same/a.png", _uint8((12, 10, 3)))
    env.file("same/a.jpg", _uint8((12, 10, 3)))
    return env.tmp_path / "same"


def _symlink_loop(env):
    folder = env.good_folder()
    os.symlink(folder, folder / "loop")
    env.batch(folder, "--output-dir", env.tmp_path / "out")
    outputs = sorted((env.tmp_path / "out").rglob("*.png"))
    assert [p.name for p in outputs] == ["a_x2.png"], outputs
    return iio.imread(outputs[0])


def _plain_zarr(env, name, shape):
    import zarr

    path = env.tmp_path / name
    zarr.open_array(path, mode="w", shape=shape, dtype="u1")
    return path


def _write_zarr_over(env, folder, image):
    """``skfsrcnn.io.write_image`` to ``out.zarr``, where ``folder`` (when given) is a folder holding a file."""
    from skfsrcnn.io import write_image

    if folder is not None:
        folder.mkdir()
        (folder / "notes.txt").write_text("the user's")
    write_image(env.tmp_path / "out.zarr", image)


def _folder_of(env, name, image):
    """A folder holding ``image`` written by ``skfsrcnn.io`` (which writes 16-bit colour PNG; imageio does not)."""
    from skfsrcnn.io import write_image

    (env.tmp_path / "folder").mkdir()
    write_image(env.tmp_path / "folder" / name, image)
    return env.tmp_path / "folder"


def _six_axes_zarr(env):
    import zarr

    path = env.tmp_path / "in.zarr"
    zarr.open_array(path, mode="w", shape=(2, 1, 1, 2, 20, 20), dtype="u1")
    return path


def _clip(env, name, **options):
    """A short synthetic clip (``video_helpers.make_clip``) in the case's folder."""
    from video_helpers import make_clip

    return make_clip(env.tmp_path / name, **options)


def _unknown_codec(env):
    """A Matroska clip whose video codec ID names no codec (the bytes are kept)."""
    path = _clip(env, "unknown.mkv")
    path.write_bytes(path.read_bytes().replace(b"V_MPEG4/ISO/AVC", b"V_SKFSRCNN/NONE"))
    return path


def _truncated_clip(env, name, fraction=0.5):
    path = _clip(env, name, frames=24)
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * fraction)])
    return path


def _saved(env, array):
    path = env.tmp_path / "image.npy"
    np.save(path, array)
    return path


def _folder(env, name):
    path = env.tmp_path / name
    path.mkdir()
    return path


def _int32():
    return np.random.default_rng(7).integers(-100_000, 100_000, (12, 10), dtype=np.int32)


# ---- helpers of the issue 58 cases


def _u8():
    return _uint8((12, 10), 8)


def _lying_weights(env, source=None, extra_tensor=False, nan=False, **architecture):
    """The random x2 weights (or the registered ``source``) rewritten with lying metadata or tensors."""
    import json

    import torch
    from safetensors.torch import save_file

    from skfsrcnn.pretrained import read_tensors, weights_path

    tensors, header = read_tensors(weights_path(source) if source else env.weights)
    if extra_tensor:
        tensors["extra"] = torch.zeros(1)
    if nan:
        tensors["feature.0.weight"][0, 0, 0, 0] = float("nan")
    header = {**header, "architecture": json.dumps({**json.loads(header["architecture"]), **architecture})}
    path = env.tmp_path / "lying.safetensors"
    save_file(tensors, str(path), metadata=header)
    return path


def _plain_state_dict(env, name):
    """The registered weights ``name`` as a plain PyTorch state dict, which records no scale."""
    import torch

    from skfsrcnn.pretrained import load_model

    path = env.tmp_path / f"{name}.pt"
    torch.save(load_model(name).state_dict(), path)
    return path


def _empty_pt(env):
    return env.file("empty.pt", raw=b"")


def _masked(fill):
    """A masked array with 12 masked pixels holding ``fill``."""
    data, mask = _unit((12, 10)), np.zeros((12, 10), bool)
    mask[3:6, 2:6] = True
    data[mask] = fill
    return np.ma.masked_array(data, mask=mask)


def _matrix():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.matrix(_unit((12, 10)))


class _Tagged(np.ndarray):
    """An ndarray subclass, as libraries derive them."""


def _without(env, module, run, *arguments):
    """``run(*arguments)`` with ``module`` not importable (``None`` in ``sys.modules``)."""
    import sys

    monkeypatch = env.request.getfixturevalue("monkeypatch")
    for name in [name for name in sys.modules if name == module or name.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)
    return run(*arguments)


def _resumed_log_iterations(env):
    """Train to 2, log a row for 4 and half of one for 6 as if killed before checkpoint 4, resume to 4."""
    env.train(None, log_every=2, checkpoint_every=2)
    log = env.tmp_path / "runs" / "run" / "log.csv"
    log.write_text(log.read_text() + "4,0.1,0.001,,1.0,100\n6,0.1")
    env.train(None, "--resume", iterations=4, log_every=2, checkpoint_every=2)
    header, *rows = log.read_text().splitlines()
    assert header.startswith("iteration,"), header
    return np.array([int(row.split(",")[0]) for row in rows])


# ------------------------------------------------------------------------------ running


def _clean(text, env):
    """The message as the table shows it: one line, temporary folders and the repository named briefly."""
    text = text.replace(str(env.tmp_path), "<tmp>").replace(str(Path(env.weights).parent), "<tmp>")
    text = text.replace(str(REPO) + os.sep, "")
    return " ".join(text.split())


def check(case, env):
    """Run ``case``; fail unless it meets its expectation. Returns the outcome as the table shows it."""
    expect = case.expect
    if isinstance(expect, Raises):
        with pytest.raises(Exception) as info:
            case.run(env)
        error = info.value
        assert type(error) is expect.error, f"{type(error).__name__}: {error}"
        message = str(error)
        assert re.search(expect.match, message, re.DOTALL), message
        if isinstance(error, CommandFailed):
            return f"exit {error.code}: {_clean(message, env)}"
        return f"{type(error).__name__}: {_clean(message, env)}"
    actual = np.asarray(case.run(env))
    expected = np.asarray(expect.compute(env))
    assert actual.shape == expected.shape
    assert actual.dtype.name == expected.dtype.name, (actual.dtype, expected.dtype)
    np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64), rtol=0, atol=expect.atol)
    return f"correct result: {actual.dtype.name} {actual.shape}, equal to {expect.reference}"


_OUTCOMES = {}


@pytest.fixture(scope="module")
def weights(random_weights):
    return random_weights("fsrcnn-s", 2)


@pytest.fixture(scope="module", autouse=True)
def _write_table():
    """With ``SKFSRCNN_RELIABILITY_TABLE`` set, write the table once every case has passed."""
    yield
    target = os.environ.get(TABLE_ENV)
    if target and len(_OUTCOMES) == len(CASES):
        Path(target).write_text(render_table(_OUTCOMES))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case, tmp_path, weights, request):
    if case.id == "cli-output-unwritable" and not Path("/proc").is_dir():
        pytest.skip("needs /proc (Linux)")
    _OUTCOMES[case.id] = check(case, Env(tmp_path, weights, request))


def test_ids_are_unique_and_the_matrix_is_large():
    ids = [case.id for case in CASES]
    assert len(set(ids)) == len(ids)
    assert len(CASES) >= 40
    assert {case.target for case in CASES} == {UPSCALE, CLI, TRAIN, EVAL, WIDGET, EXPORT, IO}


def test_docs_table_lists_every_case():
    """The documentation's table was generated from the current matrix."""
    assert TABLE.exists(), "run python docs/make_reliability.py"
    listed = re.findall(r"^   \* - ``([\w-]+)``$", TABLE.read_text(), re.MULTILINE)
    assert listed == [case.id for case in CASES], "the matrix changed: run python docs/make_reliability.py"


# ------------------------------------------------------------------------------ memory


def test_available_memory_is_read_from_meminfo(tmp_path):
    from skfsrcnn._memory import available_bytes

    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemFree:  100 kB\nMemAvailable:    8000000 kB\n")
    assert available_bytes(str(meminfo)) == 8_000_000 * 1024
    fallback = available_bytes(str(tmp_path / "missing"))  # sysconf, where there is one
    assert fallback is None or fallback > 0


@pytest.mark.parametrize("dtype, needed", [("uint16", 20 * 24 * 4), ("float64", 20 * 24 * 8)])
def test_memory_check_counts_the_output(weights, monkeypatch, dtype, needed):
    from skfsrcnn import _memory

    image = np.zeros((10, 12), dtype)
    monkeypatch.setattr(_memory, "available_bytes", lambda: needed)
    assert upscale(image, 2, weights=weights).nbytes == needed  # just fits
    monkeypatch.setattr(_memory, "available_bytes", lambda: needed - 1)
    with pytest.raises(MemoryError, match=r"`image` of shape \(10, 12\) upscaled x2 is 0\.0 GiB"):
        upscale(image, 2, weights=weights)
    monkeypatch.setattr(_memory, "available_bytes", lambda: None)  # unknown: no check
    assert upscale(image, 2, weights=weights).shape == (20, 24)


@pytest.mark.parametrize(
    "shape, options, needed",
    [
        ((10, 12), dict(back_projection=1), 2 * 1920),
        ((10, 12, 3), dict(ensemble=True, return_uncertainty=True, channel_axis=-1), 5760 + 1920),
    ],
)
def test_memory_check_counts_the_uncertainty_and_back_projection(weights, monkeypatch, shape, options, needed):
    from skfsrcnn import _memory

    image = np.zeros(shape, np.float32)
    monkeypatch.setattr(_memory, "available_bytes", lambda: needed - 1)
    with pytest.raises(MemoryError, match=r"upscaled x2 needs"):
        upscale(image, 2, weights=weights, **options)
    monkeypatch.setattr(_memory, "available_bytes", lambda: needed)  # just fits
    upscale(image, 2, weights=weights, **options)


def test_memory_check_in_the_command(tmp_path, weights, monkeypatch):
    from skfsrcnn import _memory

    monkeypatch.setattr(_memory, "available_bytes", lambda: 1000)
    env = Env(tmp_path, weights, None)
    with pytest.raises(CommandFailed, match=r"skfsrcnn: error: `image` of shape \(30, 30\) upscaled x2 .*out\.zarr"):
        env.skfsrcnn(env.file("in.png", _uint8((30, 30))), tmp_path / "out.png")
    assert not (tmp_path / "out.png").exists()


# ------------------------------------------------------------------------------ the table


def _literal(text):
    return "``" + text.replace("``", "` `") + "``"


def render_table(outcomes):
    """The reStructuredText table of every case and its outcome."""
    lines = [
        ".. Generated by docs/make_reliability.py from tests/test_reliability.py; do not edit.",
        "",
        f"{len(CASES)} cases, each run by the test suite (``tests/test_reliability.py``); the outcome "
        "column is what the case produced when this table was made: the error type and message "
        "(for a command, its exit status and the message it printed), or the result and the "
        "reference it equals.",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 14 12 28 46",
        "",
        "   * - Case",
        "     - Entry point",
        "     - Input",
        "     - Outcome",
    ]
    for case in CASES:
        outcome = outcomes[case.id]
        shown = outcome if outcome.startswith("correct result") else _literal(outcome)
        lines += [f"   * - ``{case.id}``", f"     - ``{case.target}``", f"     - {case.given}", f"     - {shown}"]
    return "\n".join(lines) + "\n"
