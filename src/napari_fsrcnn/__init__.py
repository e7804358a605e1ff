"""napari plugin for skfsrcnn: FSRCNN super-resolution of image layers.

Open it from ``Plugins > FSRCNN super-resolution`` (or ``Layers > Transform``)
in napari; ``File > Open Sample > FSRCNN super-resolution`` has images to try.
``Plugins > FSRCNN super-resolution > Train FSRCNN`` fine-tunes the network on
your own images; the result joins the upscale widget's models.

run_fsrcnn
    Layer data and options in, a ``LayerDataTuple`` out; no viewer needed.
run_fsrcnn_steps
    The same as a generator that yields ``(done, total)`` per tile.
output_geometry
    ``scale`` and ``translate`` that overlay an upscaled layer on its input.
FSRCNNWidget
    The upscale dock widget (magicgui ``Container``).
TrainWidget
    The *Train FSRCNN* dock widget: fine-tune on image layers or a folder.

Nothing heavy (torch, Qt) is imported until it is used.
"""

__all__ = ["FSRCNNWidget", "TrainWidget", "output_geometry", "run_fsrcnn", "run_fsrcnn_steps"]

_LAZY = {
    "FSRCNNWidget": "._widget",
    "TrainWidget": "._train_widget",
    "output_geometry": "._compute",
    "run_fsrcnn": "._compute",
    "run_fsrcnn_steps": "._compute",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
