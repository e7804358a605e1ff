"""The network in ONNX and TorchScript files, with its metadata: what :mod:`skfsrcnn.export` writes."""

import json
import logging
import os
import warnings
from contextlib import contextmanager

#: ONNX opset of the exported graphs: 18 is the oldest that PyTorch's
#: ``torch.export``-based exporter writes natively, and ONNX Runtime (1.14 and
#: later) and OpenCV (4.8 and later) read it.
ONNX_OPSET = 18
_EXAMPLE_SIZE = (17, 13)  # traced and exported with this input; any size works afterwards


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
            model,
            (_example_input(),),
            dynamo=True,
            dynamic_shapes=(dims,),
            opset_version=ONNX_OPSET,
            input_names=["input"],
            output_names=["output"],
            verbose=False,
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
