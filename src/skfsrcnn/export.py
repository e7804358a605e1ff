"""Export weights to ONNX, TorchScript or a bioimage.io model package, for use outside Python.

Every exported file holds the network alone, on one channel: a
``(batch, 1, height, width)`` float32 tensor in, ``(batch, 1, height *
scale, width * scale)`` out, any batch and size. The intensity mapping
that :func:`skfsrcnn.upscale` wraps around the network is **not** baked in;
it is recorded in the files and must be applied around them:

* before: ``x = image * (high - low) + low`` for an image in [0, 1],
* after: ``out = (y - low) / (high - low)``,

with ``(low, high)`` the weights' :func:`~skfsrcnn.pretrained.input_range`
(16/255 and 235/255 for the photo weights, 0 and 1 for the fluorescence
ones). It stays outside the graph because the same network also runs
without it: ``upscale`` feeds the luma of a colour photograph, which is
already in the photo range, to the network as it is; and a bioimage.io
package expresses the mapping in its own pre- and post-processing
(``scale_linear``), which the programs that read packages apply.

Formats (:data:`FORMATS`):

``'onnx'``
    One self-contained ``.onnx`` file, opset :data:`ONNX_OPSET`, written by
    PyTorch's ``torch.export``-based exporter (needs ``onnx`` and
    ``onnxscript``: ``pip install skfsrcnn[export]``). Dynamic batch,
    height and width. ``metadata_props`` record ``name``, ``network``,
    ``architecture``, ``scale``, ``input_range`` (JSON ``[low, high]``),
    ``sha256`` (of the source weights file), ``source`` (the registry name
    or file name), ``training_data`` and ``skfsrcnn_version``.
    Runs in ONNX Runtime and OpenCV's ``cv2.dnn.readNetFromONNX``.
``'torchscript'``
    A traced TorchScript file for ``torch.jit.load``, with no need for
    skfsrcnn; the same metadata are in its extra file ``skfsrcnn.json``.
``'bioimageio'``
    A bioimage.io model package (``.zip``, model spec 0.5, see
    :data:`BIOIMAGEIO_FORMAT_VERSION`): ``rdf.yaml``; the weights as a
    PyTorch state dict (with a stand-alone architecture file), TorchScript
    and ONNX; pre-processing that maps the image's minimum and maximum to
    the weights' input range (``scale_range`` then ``scale_linear``) and
    post-processing that maps the result back to [0, 1]
    (``scale_linear``); test tensors, a cover image, a README and the
    citations. Needs ``onnx`` and ``onnxscript`` (for its ONNX weights).

See :doc:`/user_guide/export` for running the files in ONNX Runtime,
OpenCV, Fiji/deepImageJ and QuPath. On the command line: ``skfsrcnn export``
(:func:`add_export_arguments`, :func:`run_export_command`).
"""

import copy
import hashlib
import io
import json
import logging
import os
import tempfile
import time
import warnings
import zipfile
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

__all__ = [
    "BIOIMAGEIO_FORMAT_VERSION",
    "FORMATS",
    "ONNX_OPSET",
    "add_export_arguments",
    "export",
    "run_export_command",
]

#: The export formats: ``format`` of :func:`export`.
FORMATS = ("onnx", "torchscript", "bioimageio")

#: ONNX opset of the exported graphs: 18 is the oldest that PyTorch's
#: ``torch.export``-based exporter writes natively, and ONNX Runtime (1.14 and
#: later) and OpenCV (4.8 and later) read it.
ONNX_OPSET = 18

#: The bioimage.io model spec version that ``rdf.yaml`` follows.
BIOIMAGEIO_FORMAT_VERSION = "0.5.4"

_SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt", "bioimageio": ".zip"}
_EXAMPLE_SIZE = (17, 13)  # traced and exported with this input; any size works afterwards
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


def export(weights, path, format, *, overwrite=False):
    """Write the network of ``weights`` to ``path`` in ``format``, for use outside skfsrcnn.

    The file is written under a temporary name in ``path``'s folder and
    renamed when complete, so a failure never leaves a partial file.

    Parameters
    ----------
    weights : str or path-like
        A registry name (:func:`skfsrcnn.pretrained.available_weights`) or a
        weights file of an FSRCNN or SRCNN (from ``skfsrcnn-train`` or
        :func:`skfsrcnn.pretrained.save_weights`).
    path : str or path-like
        Output file, in an existing, writable folder; conventionally ending
        in ``.onnx``, ``.pt`` (TorchScript) or ``.zip`` (bioimage.io, required).
    format : {'onnx', 'torchscript', 'bioimageio'}
        Output format (see the module description).
    overwrite : bool, optional
        Replace ``path`` if it exists; by default an existing file is refused.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        An unknown ``format``; ``path`` exists (without ``overwrite``), is a
        folder, lies in a missing or read-only folder, or (bioimage.io) does
        not end in ``.zip``; ``weights`` is unknown or not FSRCNN/SRCNN weights.
    TypeError
        ``weights`` or ``path`` is neither a string nor a path.
    ImportError
        ONNX export without ``onnx`` and ``onnxscript`` installed.

    See Also
    --------
    skfsrcnn.pretrained.input_range : The intensities to map the input to, and back.

    Notes
    -----
    The input of the exported network must be mapped to the weights'
    intensity range and its output back (see the module description); the
    bioimage.io package does this itself. Exports agree with
    :func:`skfsrcnn.upscale` (``clip=False``) to about 1e-5.

    Examples
    --------
    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> from skfsrcnn.export import export
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = export("fsrcnn-s-x2", Path(folder.name) / "fsrcnn-s-x2.pt", "torchscript")
    >>> network = torch.jit.load(path)
    >>> network(torch.zeros(1, 1, 5, 7)).shape
    torch.Size([1, 1, 10, 14])
    >>> folder.cleanup()
    """
    _check_format(format)
    target = _check_path(path, format, overwrite)
    model, info, source = _load(weights)
    if format == "bioimageio":
        _atomic_write(target, lambda tmp: _write_bioimageio(model, info, source, tmp))
    else:
        writer = _write_onnx if format == "onnx" else _write_torchscript
        _atomic_write(target, lambda tmp: writer(model, info, tmp))
    return target


def _check_format(format):
    if format not in FORMATS:
        raise ValueError(f"`format`={format!r} is not an export format; use one of {', '.join(FORMATS)}.")


def _check_path(path, format, overwrite):
    """``path`` as a Path, checked to be writable without replacing a file unasked."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a file path, got {type(path).__name__}.")
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(f"`path`={str(path)!r} is a folder; give a file name, e.g. "
                         f"{str(path / ('model' + _SUFFIXES[format]))!r}.")
    if path.exists() and not overwrite:
        raise ValueError(f"`path`={str(path)!r} exists; pass overwrite=True (--overwrite) to replace it.")
    folder = path.parent
    if not folder.is_dir():
        raise ValueError(f"The folder of `path`={str(path)!r} does not exist; create it first.")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"The folder of `path`={str(path)!r} is not writable; choose another folder.")
    if format == "bioimageio" and path.suffix.lower() != ".zip":
        raise ValueError(f"`path`={str(path)!r}: a bioimage.io package must end in .zip, "
                         f"e.g. {str(path.with_suffix('.zip'))!r}.")
    return path


def _atomic_write(path, write):
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``."""
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _load(weights):
    """``(model, info, source)``: a copy of the network, the metadata to record, and ``upscale``'s ``weights``.

    ``source`` is the registry name, or the weights file's resolved path.
    """
    from . import __version__
    from .pretrained import REGISTRY, input_range, load_model, weights_path

    model = copy.deepcopy(load_model(weights)).cpu().eval()
    name = os.fspath(weights)
    registered = name in REGISTRY
    file = weights_path(name) if registered else Path(name).expanduser().resolve()
    info = {
        "name": name if registered else file.stem,
        "network": type(model).__name__,
        "architecture": model.config,
        "scale": model.scale,
        "input_range": list(input_range(weights)),
        "sha256": _sha256(file),
        "skfsrcnn_version": __version__,
        "source": name if registered else file.name,
        "training_data": REGISTRY[name]["training_data"] if registered else "unknown (a user-trained file)",
    }
    return model, info, name if registered else str(file)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _example_input():
    import torch

    return torch.rand(1, 1, *_EXAMPLE_SIZE, generator=torch.Generator().manual_seed(0))


@contextmanager
def _quiet_torch():
    """Silence what PyTorch's exporters say about themselves (deprecations, optional packages).

    TorchScript is deprecated in PyTorch 2.13 but is the format that
    bioimage.io consumers (deepImageJ, via DJL) read; ``torch.onnx`` logs
    that torchvision's operators are unavailable, which these networks
    do not use.
    """
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated")
            warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")
            yield
    finally:
        registration.setLevel(level)


def _metadata(info):
    """The recorded metadata as strings (ONNX ``metadata_props``, TorchScript's extra file)."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in info.items()}


def _write_onnx(model, info, path):
    """ONNX: opset :data:`ONNX_OPSET`, dynamic batch/height/width, one file, metadata_props."""
    try:
        import onnx
        import onnxscript  # noqa: F401  (torch.onnx's exporter needs it)
    except ImportError as error:
        raise ImportError(
            f"ONNX export needs the packages onnx and onnxscript ({error}); "
            "install them with: pip install 'skfsrcnn[export]'."
        ) from error
    import torch

    dims = {0: torch.export.Dim("batch"), 2: torch.export.Dim("height"), 3: torch.export.Dim("width")}
    with _quiet_torch():
        program = torch.onnx.export(
            model, (_example_input(),), dynamo=True, dynamic_shapes=(dims,), opset_version=ONNX_OPSET,
            input_names=["input"], output_names=["output"], verbose=False,
        )
    proto = program.model_proto
    proto.doc_string = (
        f"skfsrcnn {info['name']}: x{info['scale']} super-resolution of one channel. Map the input "
        f"to input_range {info['input_range']} before (x * (high - low) + low for [0, 1] data) "
        "and the output back after ((y - low) / (high - low))."
    )
    onnx.helper.set_model_props(proto, _metadata(info))
    onnx.save_model(proto, os.fspath(path))


def _traced(model):
    import torch

    with _quiet_torch(), torch.no_grad():
        return torch.jit.trace(model, _example_input())


def _write_torchscript(model, info, path):
    """TorchScript, traced (any batch and size), with the metadata in the extra file ``skfsrcnn.json``."""
    import torch

    with _quiet_torch():
        torch.jit.save(_traced(model), os.fspath(path), _extra_files={"skfsrcnn.json": json.dumps(info)})


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


def _package_files(model, info, source):
    """``{file name: bytes}`` of the package's files other than ``rdf.yaml``.

    The expected test output is ``upscale``'s, so the package's own model
    test checks each weights format against it.
    """
    import numpy as np
    import torch

    from ._upscale import upscale

    image = _test_image()
    upscaled = upscale(image, info["scale"], weights=source, clip=False, tile_size=None)
    state = io.BytesIO()
    torch.save(model.state_dict(), state)
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
        space = [{"type": "space", "id": axis, "size": {"min": _MIN_SIZE, "step": 1}, "scale": info["scale"]}
                 for axis in ("y", "x")]
    else:
        space = [{"type": "space", "id": axis, "size": {"tensor_id": "input", "axis_id": axis}, "scale": 1.0}
                 for axis in ("y", "x")]
    return [{"type": "batch"}, channel, *space]


def _tensors(info, files):
    preprocessing, postprocessing = _processing(info)
    low, high = info["input_range"]
    inputs = [{
        "id": "input",
        "description": f"Grey image; its minimum and maximum are mapped to [{low:.4g}, {high:.4g}].",
        "axes": _axes(info, "input"),
        "test_tensor": {"source": "test_input.npy", "sha256": _sha256_bytes(files["test_input.npy"])},
        "data": {"type": "float32"},
        "preprocessing": preprocessing,
    }]
    outputs = [{
        "id": "output",
        "description": f"x{info['scale']} super-resolution; the input's minimum reads 0, its maximum 1.",
        "axes": _axes(info, "output"),
        "test_tensor": {"source": "test_output.npy", "sha256": _sha256_bytes(files["test_output.npy"])},
        "data": {"type": "float32"},
        "postprocessing": postprocessing,
    }]
    return inputs, outputs


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
            "source": "model.torchscript.pt", "sha256": _sha256_bytes(files["model.torchscript.pt"]),
            "pytorch_version": version, "parent": "pytorch_state_dict",
        },
        "onnx": {
            "source": "model.onnx", "sha256": _sha256_bytes(files["model.onnx"]),
            "opset_version": ONNX_OPSET, "parent": "pytorch_state_dict",
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
        return ("The network was trained on full-range intensities: the pre-processing maps the "
                "image's minimum to 0 and its maximum to 1 (`scale_range`).")
    return (f"The network was trained on intensities in [{low:.6g}, {high:.6g}]. The pre-processing "
            f"maps the image's minimum to {low:.6g} and its maximum to {high:.6g} (`scale_range`, then "
            f"`scale_linear` with gain {high - low:.6g} and offset {low:.6g}); the post-processing maps "
            "the result back so that the input's minimum reads 0 and its maximum 1 (`scale_linear`).")


def _readme(info):
    """The package's README.md."""
    low, high = info["input_range"]
    network = info["network"]
    return f"""# skfsrcnn {info['name']}: x{info['scale']} super-resolution

{network} super-resolution of grey (single-channel) 2-D images by a factor of
{info['scale']}, exported by [skfsrcnn]({_SKFSRCNN['url']}) {info['skfsrcnn_version']}
from `{info['source']}` (sha256 `{info['sha256']}`).

- Training data: {info['training_data']}.
- Input: one channel (axes batch, channel, y, x), at least {_MIN_SIZE} pixels a side.
- Output: {info['scale']} times the input's height and width.

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

- {_DONG_2014['text'] if network == 'SRCNN' else _DONG_2016['text']}
- {_SKFSRCNN['text']} {_SKFSRCNN['url']}

## Licence

BSD-3-Clause, as skfsrcnn.
"""


def add_export_arguments(parser):
    """Add the arguments of ``skfsrcnn export`` to the ``argparse`` ``parser``.

    ``NAME|PATH`` (a registry name or a weights file), ``--format``
    (:data:`FORMATS`), ``OUTPUT`` and ``--overwrite``; also sets the
    parser's description. Run the parsed arguments with
    :func:`run_export_command`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser (or subcommand parser) to extend.

    Returns
    -------
    argparse.ArgumentParser
        ``parser``.

    Examples
    --------
    >>> import argparse
    >>> from skfsrcnn.export import add_export_arguments
    >>> parser = add_export_arguments(argparse.ArgumentParser(prog="skfsrcnn export"))
    >>> args = parser.parse_args(["fsrcnn-x3", "--format", "onnx", "fsrcnn-x3.onnx"])
    >>> args.weights, args.format, args.output, args.overwrite
    ('fsrcnn-x3', 'onnx', 'fsrcnn-x3.onnx', False)
    """
    parser.description = (
        "Export weights (a registry name or a weights file) to ONNX, TorchScript or a "
        "bioimage.io model package (.zip) for ONNX Runtime, OpenCV, Fiji/deepImageJ, QuPath or ilastik."
    )
    parser.add_argument("weights", metavar="NAME|PATH", help="registered weights (e.g. fsrcnn-x3) or a weights file")
    parser.add_argument("--format", required=True, choices=FORMATS, help="output format")
    parser.add_argument("output", metavar="OUTPUT", help="output file (.onnx, .pt or .zip)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    return parser


def run_export_command(args):
    """Run ``skfsrcnn export`` with the arguments parsed by :func:`add_export_arguments`.

    Prints the written file (stdout) or the error (stderr, one line).

    Parameters
    ----------
    args : argparse.Namespace
        With ``weights``, ``format``, ``output`` and ``overwrite``.

    Returns
    -------
    int
        The exit status: 0 written, 1 the export failed (an error of the
        system or of PyTorch), 2 bad input (unknown weights or format, an
        existing or unwritable OUTPUT, a missing optional dependency).

    Examples
    --------
    >>> import argparse
    >>> from skfsrcnn.export import add_export_arguments, run_export_command
    >>> parser = add_export_arguments(argparse.ArgumentParser(prog="skfsrcnn export"))
    >>> run_export_command(parser.parse_args(["nope", "--format", "onnx", "out.onnx"]))
    2
    """
    import sys

    try:
        path = export(args.weights, args.output, args.format, overwrite=args.overwrite)
    except (ValueError, TypeError, ImportError) as error:
        print(f"skfsrcnn export: error: {error}", file=sys.stderr)
        return 2
    except (OSError, RuntimeError) as error:
        print(f"skfsrcnn export: failed: {error}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0
