"""Every command error case ends in one line and a documented status, never a traceback (issue 58).

Each case runs a command in-process: it must stop with ``SystemExit`` of
status 2 (bad usage) or 1 (failure), with a message on stderr naming the
problem; any other exception is the traceback a user would have seen.
"""

import contextlib
import io
import re
import sys

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from skfsrcnn.cli import EXIT_FAILURE, EXIT_USAGE, main
from skfsrcnn.cli._common import TRACEBACK_ENV


@pytest.fixture(scope="module")
def files(tmp_path_factory, random_weights):
    """The files the cases name: an image, a training folder and weights good and bad."""
    folder = tmp_path_factory.mktemp("cli-errors")
    good = folder / "good"
    good.mkdir()
    image = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    iio.imwrite(good / "a.png", image)
    (folder / "empty.pt").write_bytes(b"")
    (folder / "garbage.pt").write_bytes(b"hello world" * 10)
    torch.save([1, 2, 3], folder / "list.pt")
    return {"folder": folder, "image": good / "a.png", "good": good, "weights": random_weights("fsrcnn-s", 2)}


def _train(*settings):
    return (
        "train",
        "--no-progress",
        "--set",
        "train_folders=[{good}]",
        "val_data=null",
        "iterations=2",
        "patch_size=8",
        "batch_size=4",
        "output_dir={folder}/runs",
        "rotations=[0]",
        "model=fsrcnn-s",
        "scale=2",
        *settings,
    )


UPSCALE = ("upscale", "{image}", "{folder}/out.png", "--scale", "2")
#: id -> (arguments, status, what stderr must say).
CASES = {
    "upscale-device-meta": ((*UPSCALE, "--weights", "{weights}", "--device", "meta"), 2, "torch knows 'meta'"),
    "upscale-device-xla": ((*UPSCALE, "--weights", "{weights}", "--device", "xla"), 2, "torch knows 'xla'"),
    "upscale-device-banana": ((*UPSCALE, "--weights", "{weights}", "--device", "banana"), 2, "got 'banana'"),
    "upscale-tile-0": ((*UPSCALE, "--weights", "{weights}", "--tile-size", "0"), 2, "too small"),
    "upscale-empty-pt": ((*UPSCALE, "--weights", "{folder}/empty.pt"), 2, r"is empty \(0 bytes\)"),
    "upscale-garbage-pt": ((*UPSCALE, "--weights", "{folder}/garbage.pt"), 2, "not a readable PyTorch file"),
    "upscale-list-pt": ((*UPSCALE, "--weights", "{folder}/list.pt"), 2, "holds a list"),
    "upscale-jobs-huge": (
        ("upscale", "{image}", "{folder}/jobs.zarr", "--jobs", "100000"),
        2,
        r"must be in \[1, 256\]",
    ),
    "upscale-chunk-huge": (("upscale", "{image}", "{folder}/chunk.zarr", "--chunk-size", "10000000000"), 2, "16384"),
    "upscale-scale-5": ((*UPSCALE, "--scale", "5"), 2, "invalid choice"),
    "upscale-no-output": (("upscale", "{image}"), 2, "Give INPUT and OUTPUT"),
    "eval-device-meta": (
        ("eval", "--weights", "{weights}", "--data", "{good}", "--scale", "2", "--device", "meta"),
        2,
        "torch knows 'meta'",
    ),
    "eval-garbage-pt": (
        ("eval", "--weights", "{folder}/garbage.pt", "--data", "{good}", "--scale", "2"),
        2,
        "not a readable",
    ),
    "eval-blur-huge": (
        ("eval", "--bicubic", "--data", "{good}", "--scale", "2", "--degradation", "gaussian", "--blur-sigma", "1e9"),
        2,
        "beyond 20",
    ),
    "export-garbage-pt": (("export", "{folder}/garbage.pt", "--format", "onnx", "{folder}/m.onnx"), 2, "readable"),
    "export-empty-pt": (("export", "{folder}/empty.pt", "--format", "onnx", "{folder}/m.onnx"), 2, "0 bytes"),
    "train-downscales-50": (_train("downscales=[50.0]"), 2, r"`downscales` must hold factors in \[0\.1, 2\]"),
    "train-downscales-tiny": (_train("downscales=[1e-9]"), 2, r"`downscales` must hold factors .*got '1e-9'"),
    "train-batch-huge": (_train("batch_size=1000000000"), 2, r"`batch_size` must be in \[1, 65536\]"),
    "train-threads-negative": (_train("threads=-1"), 2, r"`threads` must be in \[1, 256\]"),
    "train-threads-huge": (_train("threads=100000"), 2, r"`threads` must be in \[1, 256\]"),
    "train-device-meta": (_train("device=meta"), 2, "torch knows 'meta'"),
    "train-device-xla": (_train("device=xla"), 2, "torch knows 'xla'"),
    "train-log-every-0": (_train("log_every=0"), 2, r"`log_every` must be in \[1"),
    "train-step-every-0": (_train("step_every=0", "schedule=step"), 2, r"`step_every` must be in \[1"),
    "train-lr-negative": (_train("lr=-1"), 2, r"`lr` must be in \[0, 1\]"),
    "train-seed-negative": (_train("seed=-1"), 2, r"`seed` must be in \[0"),
    "train-blur-huge": (_train("degradation=gaussian", "blur_sigma=1e9"), 2, "beyond 20"),
    "train-noise-huge": (_train("noise=gaussian", "noise_level=1e9"), 2, "beyond 1 for 'gaussian'"),
}


def _run(argv):
    """Run ``skfsrcnn ARGV`` in-process: ``(status, stderr)``; any other exception propagates."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        with pytest.raises(SystemExit) as stop:
            main([str(a) for a in argv])
    return stop.value.code, err.getvalue()


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_command_errors_are_one_line_with_their_status(case, files, monkeypatch):
    monkeypatch.delenv(TRACEBACK_ENV, raising=False)
    arguments, status, said = CASES[case]
    status_seen, stderr = _run([a.format(**files) for a in arguments])
    assert status_seen == status, stderr
    assert "Traceback" not in stderr
    assert re.search(said, stderr), stderr
    for output in ("out.png", "jobs.zarr", "chunk.zarr", "m.onnx", "runs"):  # refused before any work
        assert not (files["folder"] / output).exists(), output


@pytest.mark.parametrize("module", ["zarr", "dask"])
def test_zarr_output_without_its_extra_names_the_install(files, monkeypatch, module):
    """A missing optional package (simulated: None in sys.modules) is bad usage naming the extra."""
    monkeypatch.delenv(TRACEBACK_ENV, raising=False)
    for name in [name for name in sys.modules if name == module or name.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)
    argv = ["upscale", files["image"], files["folder"] / f"no-{module}.zarr", "--weights", files["weights"]]
    status, stderr = _run([*argv, "--scale", "2"])
    assert status == EXIT_USAGE
    assert f"needs the optional package {module}, which is not installed" in stderr
    assert "pip install 'skfsrcnn[dask]'" in stderr and "Traceback" not in stderr


def test_onnx_export_without_its_extra_names_the_install(files, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    status, stderr = _run(["export", files["weights"], "--format", "onnx", files["folder"] / "m.onnx"])
    assert status == EXIT_USAGE and "pip install 'skfsrcnn[export]'" in stderr


def test_an_unexpected_error_is_one_line_unless_asked(files, monkeypatch):
    import skfsrcnn.cli.upscale as command

    monkeypatch.delenv(TRACEBACK_ENV, raising=False)
    monkeypatch.setattr(command, "upscale_command", lambda args: [][1])
    status, stderr = _run(["upscale", files["image"], files["folder"] / "x.png"])
    assert status == EXIT_FAILURE
    assert stderr.startswith("skfsrcnn: failed: IndexError: list index out of range\n")
    monkeypatch.setenv(TRACEBACK_ENV, "1")
    with pytest.raises(IndexError):
        main(["upscale", str(files["image"]), str(files["folder"] / "x.png")])
