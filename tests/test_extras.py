"""Optional parts (issue 58): a missing optional package names the extra that installs it."""

import sys

import numpy as np
import pytest

from skfsrcnn import _extras


@pytest.mark.parametrize(
    "module, extra", [("zarr", "dask"), ("napari", "napari"), ("onnx.helper", "export"), ("av", "video")]
)
def test_install_hint_names_the_extra(module, extra):
    error = ModuleNotFoundError(f"No module named {module!r}", name=module)
    hint = _extras.install_hint(error, "This feature")
    assert hint.startswith(f"This feature needs the optional package {module.split('.')[0]}, which is not installed")
    assert hint.endswith(f"pip install 'skfsrcnn[{extra}]'.")


def test_a_module_of_no_extra_is_left_alone():
    assert _extras.install_hint(ModuleNotFoundError("No module named 'numpy'", name="numpy"), "x") is None
    with pytest.raises(ModuleNotFoundError, match="numpy"), _extras.needed("x"):
        raise ModuleNotFoundError("No module named 'numpy'", name="numpy")


def test_writing_zarr_without_zarr_names_the_dask_extra(monkeypatch, tmp_path, random_weights):
    """Simulated: ``None`` in ``sys.modules`` makes ``import zarr`` fail as if it were not installed."""
    import dask.array as da

    from skfsrcnn import _chunked
    from skfsrcnn._options import UpscaleOptions

    monkeypatch.setitem(sys.modules, "zarr", None)
    image = da.zeros((16, 16), dtype=np.uint8, chunks=8)
    options = UpscaleOptions(weights=random_weights("fsrcnn-s", 2))
    with pytest.raises(ImportError, match=r"Writing a zarr array needs .* pip install 'skfsrcnn\[dask\]'"):
        _chunked.upscale_to_zarr(image, tmp_path / "out.zarr", 2, options, source=None)
    assert not (tmp_path / "out.zarr").exists()
