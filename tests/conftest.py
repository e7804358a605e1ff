"""Shared fixtures: the datasets beside the repository, and random weights files."""

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _require(path):
    if path.exists():
        return path
    message = f"{path} is missing: the test data live in ../shared beside the repository."
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def datasets_dir():
    """``../shared/datasets`` (T91, Set5, Set14); fails under CI if absent."""
    return _require(SHARED / "datasets")


@pytest.fixture(scope="session")
def opencv_models_dir():
    """``../shared/peers/opencv-fsrcnn``; fails under CI if absent."""
    return _require(SHARED / "peers" / "opencv-fsrcnn")


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory):
    """``make(preset, scale, seed, input_range)`` -> path of a safetensors file with random, non-trivial weights.

    ``input_range`` is recorded in the file when given (None: none, read as photo luma).
    """
    import torch

    from skfsrcnn.models import FSRCNN
    from skfsrcnn.pretrained import save_weights

    folder = tmp_path_factory.mktemp("weights")

    def make(preset="fsrcnn", scale=2, seed=0, input_range=None):
        tag = "" if input_range is None else "_" + "-".join(f"{v:g}" for v in input_range)
        path = folder / f"{preset}_x{scale}_{seed}{tag}.safetensors"
        if not path.exists():
            torch.manual_seed(seed)
            model = FSRCNN.from_preset(preset, scale)
            with torch.no_grad():
                for parameter in model.parameters():
                    parameter.normal_(0, 0.1)
            save_weights(model, path, input_range=input_range)
        return path

    return make


@pytest.fixture
def network_calls(monkeypatch):
    """Shapes of the blocks that the dask front end sends through the network."""
    import skfsrcnn._dask

    calls = []
    real = skfsrcnn._dask.steps

    def counted(block, *args, **kwargs):
        calls.append(block.shape)
        return real(block, *args, **kwargs)

    monkeypatch.setattr(skfsrcnn._dask, "steps", counted)
    return calls


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny tensors: one thread is faster and immune to a busy machine's oversubscription."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def randomise():
    """``randomise(model, seed=0, std=0.1)``: the model with N(0, std) parameters, in place."""
    import torch

    def fill(model, seed=0, std=0.1):
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)
        return model

    return fill


@pytest.fixture(scope="module")
def data_dirs(tmp_path_factory):
    """A training folder of small crops and a validation folder of HR images (``test_train_*``)."""
    import imageio.v3 as iio
    from skimage import data

    root = tmp_path_factory.mktemp("data")
    train, val = root / "train", root / "val"
    train.mkdir()
    val.mkdir()
    iio.imwrite(train / "camera.png", data.camera()[100:180, 200:290])
    iio.imwrite(train / "astronaut.png", data.astronaut()[20:100, 180:260])
    iio.imwrite(train / "coffee.png", data.coffee()[120:210, 250:330])
    iio.imwrite(val / "chelsea.png", data.chelsea()[60:120, 120:185])
    iio.imwrite(val / "moon.png", data.moon()[200:251, 200:260])
    return train, val


@pytest.fixture
def hr_folder(tmp_path):
    """Three small HR images (RGB and greyscale, sizes not multiples of 3 or 4)."""
    import imageio.v3 as iio
    from skimage import data

    folder = tmp_path / "hr"
    folder.mkdir()
    iio.imwrite(folder / "astronaut.png", data.astronaut()[100:147, 150:205])
    iio.imwrite(folder / "camera.png", data.camera()[200:250, 220:263])
    iio.imwrite(folder / "coffee.png", data.coffee()[50:101, 300:349])
    return folder


@pytest.fixture
def notifications():
    """Notifications shown by napari during the test (errors relayed from workers included)."""
    from napari.utils.notifications import notification_manager

    received = []
    notification_manager.notification_ready.connect(received.append)
    yield received
    notification_manager.notification_ready.disconnect(received.append)
