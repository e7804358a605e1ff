"""A bioimage.io model package of the network: rdf.yaml, weights in three formats, test tensors, docs."""

import hashlib
import io
import tempfile
import time
import zipfile
from importlib import resources
from pathlib import Path

from ._export_formats import ONNX_OPSET, _write_onnx, _write_torchscript

#: The bioimage.io model spec version that ``rdf.yaml`` follows.
BIOIMAGEIO_FORMAT_VERSION = "0.5.4"
_TEST_SIZE = 45  # the bioimage.io package's test image: odd, and square for a 2:1 cover
_MIN_SIZE = 16  # the smallest input side a bioimage.io package declares (the network takes any)
_DONG_2016 = {
    "text": "Dong, C., Loy, C. C. and Tang, X. Accelerating the Super-Resolution Convolutional "
    "Neural Network. ECCV 2016, LNCS 9906, 391-407.",
    "doi": "10.1007/978-3-319-46475-6_25",
}
_SKFSRCNN = {
    "text": "skfsrcnn developers. skfsrcnn: fast, high-quality FSRCNN image super-resolution.",
    "url": "https://github.com/skfsrcnn/skfsrcnn",
}
_DONG_2014 = {
    "text": "Dong, C., Loy, C. C., He, K. and Tang, X. Learning a Deep Convolutional Network "
    "for Image Super-Resolution. ECCV 2014, LNCS 8692, 184-199.",
    "doi": "10.1007/978-3-319-10593-2_13",
}


def _write_bioimageio(model, info, source, path):
    """A bioimage.io model package: ``rdf.yaml`` and its files, zipped (``source``: see :func:`_load`)."""
    import yaml

    files = _package_files(model, info, source)
    files["rdf.yaml"] = yaml.safe_dump(_rdf(info, files), sort_keys=False).encode()
    now = time.localtime()[:6]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=now)
            entry.external_attr = 0o644 << 16  # readable by all when unzipped
            package.writestr(entry, data, zipfile.ZIP_DEFLATED)


def package_state(model):
    """The state dict of ``model`` as the package's ``skfsrcnn_architecture.py`` loads it.

    SRCNN's bicubic upsampling kernel is a non-persistent buffer in
    :class:`skfsrcnn.models.SRCNN` (rebuilt from
    :func:`skfsrcnn.resize.bicubic_phases`); the stand-alone copy has no
    skfsrcnn to rebuild it from, so it is stored with the weights.
    """
    state = dict(model.state_dict())
    upsample = getattr(model, "upsample", None)
    if upsample is not None:
        state["kernel"] = upsample.kernel
    return state


def _package_files(model, info, source):
    """``{file name: bytes}`` of the package's files other than ``rdf.yaml``.

    The expected test output is ``upscale``'s, so the package's own model
    test checks each weights format against it.
    """
    import numpy as np
    import torch

    from ._front import upscale

    image = _test_image()
    upscaled = upscale(image, info["scale"], weights=source, clip=False, tile_size=None)
    state = io.BytesIO()
    torch.save(package_state(model), state)
    with tempfile.TemporaryDirectory() as folder:
        onnx_path, script_path = Path(folder) / "model.onnx", Path(folder) / "model.pt"
        _write_onnx(model, info, onnx_path)
        _write_torchscript(model, info, script_path)
        onnx_bytes, script_bytes = onnx_path.read_bytes(), script_path.read_bytes()
    return {
        "weights.pt": state.getvalue(),
        "skfsrcnn_architecture.py": resources.files("skfsrcnn").joinpath("_standalone.py").read_bytes(),
        "model.torchscript.pt": script_bytes,
        "model.onnx": onnx_bytes,
        "test_input.npy": _npy(image[None, None]),
        "test_output.npy": _npy(upscaled[None, None].astype(np.float32)),
        "cover.png": _cover(image, upscaled, info["scale"]),
        "README.md": _readme(info).encode(),
    }


def _test_image():
    """A 45 x 45 grey crop of the bundled sample, stretched to span exactly [0, 1] (float32)."""
    import imageio.v3 as iio
    import numpy as np

    from ._colour import rgb_to_y

    rgb = iio.imread(resources.files("skfsrcnn").joinpath("data", "astronaut_lr.png")) / 255.0
    grey = rgb_to_y(rgb[30 : 30 + _TEST_SIZE, 40 : 40 + _TEST_SIZE])
    return ((grey - grey.min()) / (grey.max() - grey.min())).astype(np.float32)


def _npy(array):
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _cover(image, upscaled, scale):
    """PNG bytes: the input (nearest neighbour) beside its upscaling, 2:1."""
    import imageio.v3 as iio
    import numpy as np

    nearest = np.kron(image, np.ones((scale, scale), np.float32))
    side_by_side = np.concatenate([nearest, np.clip(upscaled, 0, 1)], axis=1)
    return iio.imwrite("<bytes>", (side_by_side * 255 + 0.5).astype(np.uint8), extension=".png")


def _processing(info):
    """bioimage.io pre- and post-processing that reproduce ``upscale`` on one channel.

    The image's minimum and maximum go to 0 and 1 (``scale_range``), then
    to the weights' input range and back around the network
    (``scale_linear``, left out for full-range weights, where it is the identity).
    """
    low, high = info["input_range"]
    to_unit = {"id": "scale_range", "kwargs": {"axes": ["y", "x"], "min_percentile": 0.0, "max_percentile": 100.0}}
    if (low, high) == (0.0, 1.0):
        return [to_unit], []
    to_network = {"id": "scale_linear", "kwargs": {"gain": high - low, "offset": low}}
    from_network = {"id": "scale_linear", "kwargs": {"gain": 1 / (high - low), "offset": -low / (high - low)}}
    return [to_unit, to_network], [from_network]


def _axes(info, tensor):
    """The (batch, channel, y, x) axes of the ``'input'`` or ``'output'`` tensor.

    The output's ``y`` and ``x`` are the input's times the scale (their
    ``scale``, the pixel size, is the input's divided by the upscaling
    factor). No halo is declared: bioimageio.core would then pad the input
    by mirroring, where ``upscale`` (and the network's training) pads with
    zeros, changing the outermost pixels.
    """
    channel = {"type": "channel", "channel_names": ["intensity"]}
    if tensor == "input":
        space = [
            {"type": "space", "id": axis, "size": {"min": _MIN_SIZE, "step": 1}, "scale": info["scale"]}
            for axis in ("y", "x")
        ]
    else:
        space = [
            {"type": "space", "id": axis, "size": {"tensor_id": "input", "axis_id": axis}, "scale": 1.0}
            for axis in ("y", "x")
        ]
    return [{"type": "batch"}, channel, *space]


def _tensors(info, files):
    preprocessing, postprocessing = _processing(info)
    low, high = info["input_range"]
    inputs = [
        _tensor(
            info,
            files,
            "input",
            f"Grey image; its minimum and maximum are mapped to [{low:.4g}, {high:.4g}].",
            preprocessing=preprocessing,
        )
    ]
    outputs = [
        _tensor(
            info,
            files,
            "output",
            f"x{info['scale']} super-resolution; the input's minimum reads 0, its maximum 1.",
            postprocessing=postprocessing,
        )
    ]
    return inputs, outputs


def _tensor(info, files, name, description, **processing):
    """One tensor description: ``name``'s axes, test tensor (``test_{name}.npy``) and processing."""
    test_file = f"test_{name}.npy"
    return {
        "id": name,
        "description": description,
        "axes": _axes(info, name),
        "test_tensor": {"source": test_file, "sha256": _sha256_bytes(files[test_file])},
        "data": {"type": "float32"},
        **processing,
    }


def _sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def _weights(info, files):
    import torch

    version = torch.__version__.split("+")[0]
    architecture = dict(info["architecture"])
    return {
        "pytorch_state_dict": {
            "source": "weights.pt",
            "sha256": _sha256_bytes(files["weights.pt"]),
            "architecture": {
                "source": "skfsrcnn_architecture.py",
                "sha256": _sha256_bytes(files["skfsrcnn_architecture.py"]),
                "callable": info["network"],
                "kwargs": architecture,
            },
            "pytorch_version": version,
        },
        "torchscript": {
            "source": "model.torchscript.pt",
            "sha256": _sha256_bytes(files["model.torchscript.pt"]),
            "pytorch_version": version,
            "parent": "pytorch_state_dict",
        },
        "onnx": {
            "source": "model.onnx",
            "sha256": _sha256_bytes(files["model.onnx"]),
            "opset_version": ONNX_OPSET,
            "parent": "pytorch_state_dict",
        },
    }


def _tolerance(test_output):
    """bioimage.io's reproducibility tolerance: 1e-4 of the test output's range."""
    import numpy as np

    output = np.load(io.BytesIO(test_output))
    span = float(output.max() - output.min())
    return {"absolute_tolerance": 1e-4 * span, "relative_tolerance": 1e-4}


def _rdf(info, files):
    """The ``rdf.yaml`` content (bioimage.io model spec :data:`BIOIMAGEIO_FORMAT_VERSION`) as a dict."""
    inputs, outputs = _tensors(info, files)
    network = "SRCNN" if info["network"] == "SRCNN" else "FSRCNN"
    return {
        "format_version": BIOIMAGEIO_FORMAT_VERSION,
        "type": "model",
        "name": f"skfsrcnn {info['name']} super-resolution",
        "description": f"{network} single-image super-resolution (x{info['scale']}) of grey images, "
        f"exported by skfsrcnn {info['skfsrcnn_version']} from {info['source']}.",
        "authors": [{"name": "skfsrcnn developers"}],
        "cite": [_DONG_2014, _SKFSRCNN] if network == "SRCNN" else [_DONG_2016, _SKFSRCNN],
        "license": "BSD-3-Clause",
        "documentation": "README.md",
        "covers": ["cover.png"],
        "tags": ["super-resolution", "upsampling", network.lower(), "2d", "pytorch", "onnx"],
        "git_repo": _SKFSRCNN["url"],
        "inputs": inputs,
        "outputs": outputs,
        "weights": _weights(info, files),
        "config": {
            "bioimageio": {"reproducibility_tolerance": [_tolerance(files["test_output.npy"])]},
            "skfsrcnn": {key: info[key] for key in ("source", "scale", "input_range", "sha256", "skfsrcnn_version")},
        },
    }


def _intensity_text(low, high):
    """How the package's pre- and post-processing handle intensities, for its README."""
    if (low, high) == (0.0, 1.0):
        return (
            "The network was trained on full-range intensities: the pre-processing maps the "
            "image's minimum to 0 and its maximum to 1 (`scale_range`)."
        )
    return (
        f"The network was trained on intensities in [{low:.6g}, {high:.6g}]. The pre-processing "
        f"maps the image's minimum to {low:.6g} and its maximum to {high:.6g} (`scale_range`, then "
        f"`scale_linear` with gain {high - low:.6g} and offset {low:.6g}); the post-processing maps "
        "the result back so that the input's minimum reads 0 and its maximum 1 (`scale_linear`)."
    )


def _readme(info):
    """The package's README.md."""
    low, high = info["input_range"]
    network = info["network"]
    return f"""# skfsrcnn {info["name"]}: x{info["scale"]} super-resolution

{network} super-resolution of grey (single-channel) 2-D images by a factor of
{info["scale"]}, exported by [skfsrcnn]({_SKFSRCNN["url"]}) {info["skfsrcnn_version"]}
from `{info["source"]}` (sha256 `{info["sha256"]}`).

- Training data: {info["training_data"]}.
- Input: one channel (axes batch, channel, y, x), at least {_MIN_SIZE} pixels a side.
- Output: {info["scale"]} times the input's height and width.

## Intensities

{_intensity_text(low, high)} The output is not clipped: edges may overshoot
slightly. This is what `skfsrcnn.upscale` does for a float image in [0, 1]
with `clip=False`.

Colour photographs: upscale the luma (Y of YCbCr) and resize the chroma
bicubically, as `skfsrcnn.upscale` does; this package handles one channel.

## Validation

The test tensors are a grey crop of a photograph and its upscaling by
`skfsrcnn.upscale`; every weights format reproduces it within 1e-4
(bioimageio.core's model test).

## Weights

PyTorch state dict (with `skfsrcnn_architecture.py`), TorchScript and ONNX
(opset {ONNX_OPSET}); all three compute the same network.

## Citation

- {_DONG_2014["text"] if network == "SRCNN" else _DONG_2016["text"]}
- {_SKFSRCNN["text"]} {_SKFSRCNN["url"]}

## Licence

BSD-3-Clause, as skfsrcnn.
"""
