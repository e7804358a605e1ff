"""Tests for skfsrcnn.export (issue 56): every export runs in its runtime and agrees with upscale."""

import json
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from skfsrcnn import upscale
from skfsrcnn.export import export
from skfsrcnn.models import FSRCNN, SRCNN
from skfsrcnn.pretrained import available_weights, input_range, load_model, save_weights

NAMES = available_weights()
#: An odd-sized grey float32 image in [0, 1].
IMAGE = np.random.default_rng(56).random((37, 29)).astype(np.float32)
TOLERANCE = 1e-4  # of the output's range


def _reference(weights):
    """``upscale``'s result, the exports' target."""
    return upscale(IMAGE, load_model(weights).scale, weights=weights, clip=False, tile_size=None)


def _to_network(weights, image):
    """The pre-processing an exported network needs: [0, 1] -> the weights' input range, as (1, 1, M, N)."""
    low, high = input_range(weights)
    return (image * (high - low) + low).astype(np.float32)[None, None]


def _from_network(weights, output):
    low, high = input_range(weights)
    return (output[0, 0] - low) / (high - low)


def _assert_agrees(result, reference):
    assert result.shape == reference.shape
    span = float(reference.max() - reference.min())
    assert np.abs(result - reference).max() <= TOLERANCE * span


@pytest.fixture(scope="module")
def user_files(tmp_path_factory):
    """A user-trained FSRCNN (full-range data) and SRCNN, as ``save_weights`` writes them."""
    folder = tmp_path_factory.mktemp("user")
    torch.manual_seed(0)
    fsrcnn, srcnn = folder / "mine-fsrcnn.safetensors", folder / "mine-srcnn.safetensors"
    network = FSRCNN(2, d=16, s=4, m=1)
    torch.nn.init.normal_(network.deconv.weight, std=0.05)  # an output of some range, unlike a fresh FSRCNN's
    save_weights(network, fsrcnn, input_range=(0.0, 1.0))
    save_weights(SRCNN(3, n1=16, n2=8), srcnn, input_range=(0.0, 1.0))
    return {"fsrcnn": str(fsrcnn), "srcnn": str(srcnn)}


def _weights(request, user_files):
    return user_files.get(request, request)


WEIGHTS = [*NAMES, "fsrcnn", "srcnn"]  # the registry, then the user-trained files


# ---------------------------------------------------------------------------- ONNX


def _run_onnxruntime(path, x):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def _run_opencv(path, x):
    import cv2

    network = cv2.dnn.readNetFromONNX(str(path))
    network.setInput(x)
    return network.forward()


@pytest.mark.parametrize("request_name", WEIGHTS)
def test_onnx_runs_in_onnxruntime_and_opencv(request_name, user_files, tmp_path):
    weights = _weights(request_name, user_files)
    path = export(weights, tmp_path / "model.onnx", "onnx")
    reference = _reference(weights)
    x = _to_network(weights, IMAGE)
    _assert_agrees(_from_network(weights, _run_onnxruntime(path, x)), reference)
    _assert_agrees(_from_network(weights, _run_opencv(path, x)), reference)
    batch = _run_onnxruntime(path, np.concatenate([x, x[..., ::-1, :].copy()]))  # dynamic batch
    _assert_agrees(_from_network(weights, batch[1:])[::-1], _reference_flipped(weights))


def _reference_flipped(weights):
    return upscale(IMAGE[::-1].copy(), load_model(weights).scale, weights=weights, clip=False, tile_size=None)[::-1]


def test_onnx_metadata_record_the_source(tmp_path):
    import onnx

    path = export("fsrcnn-x3", tmp_path / "fsrcnn-x3.onnx", "onnx")
    model = onnx.load(str(path))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["name"] == "fsrcnn-x3" and props["scale"] == "3" and props["network"] == "FSRCNN"
    assert json.loads(props["input_range"]) == pytest.approx([16 / 255, 235 / 255])
    from skfsrcnn.pretrained import REGISTRY

    assert props["sha256"] == REGISTRY["fsrcnn-x3"]["sha256"]
    assert props["skfsrcnn_version"]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [dim.dim_param for dim in dims] == ["batch", "", "height", "width"]
    assert not list(tmp_path.glob("*.data"))  # one self-contained file


# ---------------------------------------------------------------------- TorchScript

_ISOLATED = """
import sys
sys.path.append({site!r})  # torch and numpy; -S: no .pth files, so no editable skfsrcnn
try:
    import skfsrcnn
except ImportError:
    pass
else:
    sys.exit("skfsrcnn is importable: " + skfsrcnn.__file__)
import numpy, torch
network = torch.jit.load({model!r})
with torch.no_grad():
    numpy.save({output!r}, network(torch.from_numpy(numpy.load({input!r}))).numpy())
"""


def _run_isolated_torchscript(path, x, folder):
    """Run the TorchScript file in a Python that cannot import skfsrcnn (-I -S, site-packages appended)."""
    site = str(Path(torch.__file__).resolve().parents[1])
    np.save(folder / "x.npy", x)
    code = _ISOLATED.format(site=site, model=str(path), output=str(folder / "y.npy"), input=str(folder / "x.npy"))
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], cwd=folder, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return np.load(folder / "y.npy")


@pytest.mark.parametrize("request_name", WEIGHTS)
def test_torchscript_runs_without_skfsrcnn(request_name, user_files, tmp_path):
    weights = _weights(request_name, user_files)
    path = export(weights, tmp_path / "model.pt", "torchscript")
    y = _run_isolated_torchscript(path, _to_network(weights, IMAGE), tmp_path)
    _assert_agrees(_from_network(weights, y), _reference(weights))


def test_torchscript_records_the_source(tmp_path):
    path = export("fsrcnn-s-x4", tmp_path / "fsrcnn-s-x4.pt", "torchscript")
    extra = {"skfsrcnn.json": ""}
    torch.jit.load(path, _extra_files=extra)
    info = json.loads(extra["skfsrcnn.json"])
    assert info["name"] == "fsrcnn-s-x4" and info["scale"] == 4 and len(info["sha256"]) == 64


# ------------------------------------------------------------------------ bioimage.io


@pytest.fixture
def offline(monkeypatch):
    """No network: any connection attempt fails."""

    def refuse(*args, **kwargs):
        raise OSError("network access in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.slow
@pytest.mark.parametrize("request_name", WEIGHTS)
def test_bioimageio_package_passes_the_model_test(request_name, user_files, tmp_path, offline):
    from bioimageio.core import test_description
    from bioimageio.spec import ValidationContext, load_description

    weights = _weights(request_name, user_files)
    path = export(weights, tmp_path / "model.zip", "bioimageio")
    with ValidationContext(perform_io_checks=True):
        description = load_description(path, format_version="discover")
    assert description.validation_summary.status != "failed", description.validation_summary.format()
    summary = test_description(path)
    assert summary.status == "passed", summary.format()
    with zipfile.ZipFile(path) as package:
        expected = np.load(package.open("test_output.npy"))[0, 0]
        test_input = np.load(package.open("test_input.npy"))[0, 0]
    reference = upscale(test_input, load_model(weights).scale, weights=weights, clip=False, tile_size=None)
    _assert_agrees(expected, reference)
    _assert_package_runs_like_upscale(path, weights)


def _assert_package_runs_like_upscale(path, weights):
    """Every weights format of the package, with its pre- and post-processing, on :data:`IMAGE`."""
    from bioimageio.core import create_prediction_pipeline, load_description
    from bioimageio.core.sample import Sample
    from bioimageio.core.tensor import Tensor

    image = (IMAGE - IMAGE.min()) / (IMAGE.max() - IMAGE.min())  # spans [0, 1], as upscale leaves it
    reference = upscale(image, load_model(weights).scale, weights=weights, clip=False, tile_size=None)
    description = load_description(path)
    for weight_format in ("pytorch_state_dict", "torchscript", "onnx"):
        pipeline = create_prediction_pipeline(description, weight_format=weight_format)
        tensor = Tensor.from_numpy(image[None, None], dims=("batch", "channel", "y", "x"))
        result = pipeline.predict_sample_without_blocking(Sample(members={"input": tensor}, stat={}, id="image"))
        _assert_agrees(result.members["output"].data.values[0, 0], reference)


def test_bioimageio_package_contents(tmp_path):
    import yaml

    path = export("fsrcnn-x2", tmp_path / "fsrcnn-x2.zip", "bioimageio")
    with zipfile.ZipFile(path) as package:
        names = set(package.namelist())
        rdf = yaml.safe_load(package.read("rdf.yaml"))
    assert {
        "rdf.yaml",
        "weights.pt",
        "skfsrcnn_architecture.py",
        "model.torchscript.pt",
        "model.onnx",
        "test_input.npy",
        "test_output.npy",
        "cover.png",
        "README.md",
    } <= names
    assert [axis["type"] for axis in rdf["inputs"][0]["axes"]] == ["batch", "channel", "space", "space"]
    assert rdf["outputs"][0]["axes"][2]["size"] == {"tensor_id": "input", "axis_id": "y"}
    assert rdf["inputs"][0]["axes"][2]["scale"] == 2 and rdf["outputs"][0]["axes"][2]["scale"] == 1
    assert rdf["license"] == "BSD-3-Clause"
    assert "10.1007/978-3-319-46475-6_25" in [entry.get("doi") for entry in rdf["cite"]]
    assert set(rdf["weights"]) == {"pytorch_state_dict", "torchscript", "onnx"}
    gain = rdf["inputs"][0]["preprocessing"][1]["kwargs"]["gain"]
    assert gain == pytest.approx((235 - 16) / 255)


@pytest.mark.parametrize("network", [FSRCNN(3), SRCNN(2, n1=8, n2=4)])
def test_standalone_architecture_matches_the_models(network):
    from skfsrcnn import _standalone
    from skfsrcnn._bioimageio import package_state

    copy = getattr(_standalone, type(network).__name__)(**network.config)
    copy.load_state_dict(package_state(network))  # strict: the same parameters under the same names
    x = torch.rand(2, 1, 11, 9)
    with torch.no_grad():
        assert torch.allclose(copy(x), network(x), atol=1e-6)


# --------------------------------------------------------------------------- bad input


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"`format`='tflite'.*onnx, torchscript, bioimageio"):
        export("fsrcnn-x2", tmp_path / "m.tflite", "tflite")


def test_existing_output_is_kept_without_overwrite(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"mine")
    with pytest.raises(ValueError, match=r"exists; pass overwrite=True"):
        export("fsrcnn-s-x2", path, "onnx")
    assert path.read_bytes() == b"mine"
    export("fsrcnn-s-x2", path, "torchscript", overwrite=True)
    assert torch.jit.load(path) is not None


@pytest.mark.parametrize("where", ["missing", "file", "folder"])
def test_output_in_no_folder_is_refused(tmp_path, where):
    (tmp_path / "a-file").write_text("")
    path = {"missing": tmp_path / "nope" / "m.pt", "file": tmp_path / "a-file" / "m.pt", "folder": tmp_path}[where]
    with pytest.raises(ValueError, match=r"`path`=.*(does not exist; create it|is a folder; give a file name)"):
        export("fsrcnn-s-x2", path, "torchscript")


@pytest.mark.skipif(
    sys.platform == "win32" or not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() == 0,
    reason="root may write anywhere",
)
def test_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    with pytest.raises(ValueError, match=r"is not writable; choose another folder"):
        export("fsrcnn-s-x2", folder / "m.pt", "torchscript")


def test_bioimageio_needs_a_zip(tmp_path):
    with pytest.raises(ValueError, match=r"must end in \.zip, e\.g\. .*m\.zip"):
        export("fsrcnn-s-x2", tmp_path / "m.yaml", "bioimageio")


def test_a_failed_export_leaves_nothing(tmp_path, monkeypatch):
    from skfsrcnn import export as module

    def fail(model, info, path):
        Path(path).write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, "_write_torchscript", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        export("fsrcnn-s-x2", tmp_path / "m.pt", "torchscript")
    assert list(tmp_path.iterdir()) == []


def test_onnx_without_its_packages_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # import onnxscript fails
    with pytest.raises(ImportError, match=r"onnx and onnxscript.*pip install 'skfsrcnn\[export\]'"):
        export("fsrcnn-s-x2", tmp_path / "m.onnx", "onnx")
    assert list(tmp_path.iterdir()) == []
    assert _command("fsrcnn-s-x2", "--format", "onnx", str(tmp_path / "m.onnx")) == 2
    assert "pip install 'skfsrcnn[export]'" in capsys.readouterr().err


def test_weights_that_are_not_a_network_are_refused(tmp_path):
    from safetensors.torch import save_file

    other = tmp_path / "other.safetensors"
    save_file({"encoder.weight": torch.zeros(3, 3)}, other)
    with pytest.raises(ValueError, match=r"`weights` file .*does not hold FSRCNN \(or SRCNN\) weights.*save_weights"):
        export(other, tmp_path / "m.onnx", "onnx")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"`weights` file .*must end in \.safetensors"):
        export(text, tmp_path / "m.onnx", "onnx")
    with pytest.raises(ValueError, match=r"`weights`='fsrcnn-x9' is neither a registered name"):
        export("fsrcnn-x9", tmp_path / "m.onnx", "onnx")
    with pytest.raises(TypeError, match=r"`weights` must be a registry name or a file path, got int"):
        export(3, tmp_path / "m.onnx", "onnx")
    with pytest.raises(TypeError, match=r"`path` must be a file path, got int"):
        export("fsrcnn-x2", 3, "onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "other.safetensors"]


# ------------------------------------------------------------------------ the command


def test_importing_the_module_loads_no_torch():
    code = "import sys, skfsrcnn.export; sys.exit('torch' in sys.modules or 'onnx' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def _command(*argv):
    """``skfsrcnn export ARGV``: its exit status (2 for bad usage, raised as SystemExit by the CLI)."""
    from skfsrcnn.cli import main

    try:
        return main(["export", *argv])
    except SystemExit as stop:
        return stop.code


def test_command_writes_and_reports(tmp_path, capsys):
    path = tmp_path / "fsrcnn-s-x3.pt"
    assert _command("fsrcnn-s-x3", "--format", "torchscript", str(path)) == 0
    assert f"wrote {path}" in capsys.readouterr().out
    assert _command("fsrcnn-s-x3", "--format", "torchscript", str(path)) == 2
    assert "exists; pass overwrite=True (--overwrite)" in capsys.readouterr().err
    assert _command("fsrcnn-s-x3", "--format", "torchscript", str(path), "--overwrite") == 0


def test_command_reports_bad_weights_and_format(tmp_path, capsys):
    assert _command("nope", "--format", "onnx", str(tmp_path / "m.onnx")) == 2
    assert "skfsrcnn: error: `weights`='nope'" in capsys.readouterr().err
    assert _command("fsrcnn-x2", "--format", "tflite", str(tmp_path / "m")) == 2
    assert "invalid choice: 'tflite'" in capsys.readouterr().err
