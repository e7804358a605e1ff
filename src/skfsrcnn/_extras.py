"""Optional parts: which extra installs a missing module, said in one message instead of a traceback.

The core of skfsrcnn needs numpy, torch and a few readers; zarr output
needs ``skfsrcnn[dask]``, the napari plugin ``skfsrcnn[napari]``,
ONNX/bioimage.io export ``skfsrcnn[export]`` and videos (PyAV)
``skfsrcnn[video]``. :func:`needed` turns the
``ModuleNotFoundError`` of a missing optional module into an ImportError
that names the feature and the ``pip install`` that brings it.
"""

import contextlib

#: The extra of ``pip install skfsrcnn[extra]`` that installs each optional top-level module.
EXTRAS = {
    "dask": "dask",
    "distributed": "dask",
    "zarr": "dask",
    "napari": "napari",
    "magicgui": "napari",
    "qtpy": "napari",
    "onnx": "export",
    "onnxscript": "export",
    "onnxruntime": "export",
    "bioimageio": "export",
    "av": "video",
}


def install_hint(error, feature):
    """The message for ``error`` (an ImportError) when it misses an optional module, else None.

    Examples
    --------
    >>> from skfsrcnn._extras import install_hint
    >>> error = ModuleNotFoundError("No module named 'zarr'", name="zarr")
    >>> install_hint(error, "zarr output").split("; ")[1]
    "install it with: pip install 'skfsrcnn[dask]'."
    """
    module = (getattr(error, "name", None) or "").split(".")[0]
    if module not in EXTRAS:
        return None
    return (
        f"{feature} needs the optional package {module}, which is not installed; "
        f"install it with: pip install 'skfsrcnn[{EXTRAS[module]}]'."
    )


@contextlib.contextmanager
def needed(feature):
    """Within the block, a missing optional module raises an ImportError naming its extra.

    Examples
    --------
    >>> from skfsrcnn._extras import needed
    >>> with needed("zarr output"):
    ...     import zarr
    """
    try:
        yield
    except ImportError as error:
        hint = install_hint(error, feature)
        if hint is None:
            raise
        raise ImportError(hint, name=error.name) from error
