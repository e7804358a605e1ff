"""The networks: FSRCNN, its fast inference form, and the SRCNN baseline.

Every name is imported from here; the modules of the package hold one
concern each:

:mod:`skfsrcnn.models.fsrcnn`
    :class:`FSRCNN` exactly as in the paper, the module that is trained
    and saved, with the paper's :data:`PRESETS` and its receptive field
    (``halo``, the overlap of exact tiles).
:mod:`skfsrcnn.models.subpixel`
    ``deconv_as_subpixel``: the strided deconvolution as an exact
    convolution on the low-resolution grid, one output channel per phase.
:mod:`skfsrcnn.models.fast`
    :class:`FastFSRCNN`, the inference form: that convolution, oneDNN
    prepacked weights and banded streaming on the CPU.
:mod:`skfsrcnn.models.srcnn`
    :class:`SRCNN`, the 9-1-5 baseline, and its :class:`BicubicUpsample`
    (the weights of :func:`skfsrcnn.resize.bicubic_phases`).
:mod:`skfsrcnn.models.build`
    The networks by name (:data:`ARCHITECTURES`, :func:`build_model`) and
    the form to run each in (:func:`inference_form`).
"""

from .build import ARCHITECTURES, build_model, inference_form
from .fast import FastFSRCNN
from .fsrcnn import FSRCNN, PRESETS
from .fsrcnn import halo as halo  # also importable from here, as before the split
from .srcnn import SRCNN, BicubicUpsample
from .subpixel import deconv_as_subpixel as deconv_as_subpixel

__all__ = [
    "ARCHITECTURES",
    "BicubicUpsample",
    "FSRCNN",
    "PRESETS",
    "SRCNN",
    "FastFSRCNN",
    "build_model",
    "inference_form",
]
