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
(:mod:`skfsrcnn.cli.export`).
"""

import copy
import os
from pathlib import Path

from ._atomic import atomic_path
from ._bioimageio import BIOIMAGEIO_FORMAT_VERSION, _write_bioimageio
from ._export_formats import ONNX_OPSET, _write_onnx, _write_torchscript
from ._registry import file_sha256

__all__ = [
    "BIOIMAGEIO_FORMAT_VERSION",
    "FORMATS",
    "ONNX_OPSET",
    "export",
]

#: The export formats: ``format`` of :func:`export`.
FORMATS = ("onnx", "torchscript", "bioimageio")

_SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt", "bioimageio": ".zip"}


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
    with atomic_path(target) as tmp:
        if format == "bioimageio":
            _write_bioimageio(model, info, source, tmp)
        else:
            (_write_onnx if format == "onnx" else _write_torchscript)(model, info, tmp)
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
        raise ValueError(
            f"`path`={str(path)!r} is a folder; give a file name, e.g. {str(path / ('model' + _SUFFIXES[format]))!r}."
        )
    if path.exists() and not overwrite:
        raise ValueError(f"`path`={str(path)!r} exists; pass overwrite=True (--overwrite) to replace it.")
    folder = path.parent
    if not folder.is_dir():
        raise ValueError(f"The folder of `path`={str(path)!r} does not exist; create it first.")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"The folder of `path`={str(path)!r} is not writable; choose another folder.")
    if format == "bioimageio" and path.suffix.lower() != ".zip":
        raise ValueError(
            f"`path`={str(path)!r}: a bioimage.io package must end in .zip, e.g. {str(path.with_suffix('.zip'))!r}."
        )
    return path


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
        "sha256": file_sha256(file),
        "skfsrcnn_version": __version__,
        "source": name if registered else file.name,
        "training_data": REGISTRY[name]["training_data"] if registered else "unknown (a user-trained file)",
    }
    return model, info, name if registered else str(file)
