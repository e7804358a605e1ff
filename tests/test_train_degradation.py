"""Training with other degradations and with intensity augmentation, and the input range the weights record."""

import imageio.v3 as iio
import numpy as np
import pytest

from skfsrcnn.datasets import PatchSampler
from skfsrcnn.pretrained import FULL_RANGE, LUMA_RANGE, input_range
from skfsrcnn.train import Trainer, load_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A folder of one colour photograph (luma within 16..235) and one of a dark-background grey image."""
    from skimage import data

    root = tmp_path_factory.mktemp("data")
    photo, grey = root / "photo", root / "grey"
    photo.mkdir()
    grey.mkdir()
    iio.imwrite(photo / "astronaut.png", data.astronaut()[20:100, 180:260])
    cells = np.zeros((72, 72), np.uint8)
    cells[20:40, 30:50] = 200
    iio.imwrite(grey / "cells.png", cells)
    return photo, grey


def _train(folder, tmp_path, *overrides):
    config = load_config(
        None,
        [
            f"train_folders=[{folder}]",
            f"output_dir={tmp_path}",
            "model=fsrcnn-s",
            "scale=2",
            "patch_size=12",
            "batch_size=4",
            "iterations=3",
            "val_data=null",
            "device=cpu",
            *overrides,
        ],
    )
    return Trainer(config, progress=False).run()


@pytest.mark.parametrize(
    "which, overrides, expected",
    [
        ("photo", (), LUMA_RANGE),
        ("grey", (), FULL_RANGE),
        ("photo", ("intensity_augment=true",), FULL_RANGE),
    ],
)
def test_weights_record_the_range_of_their_training_data(folders, tmp_path, which, overrides, expected):
    folder = folders[0] if which == "photo" else folders[1]
    assert input_range(_train(folder, tmp_path, *overrides)) == expected


def test_training_with_blur_and_noise_runs(folders, tmp_path):
    best = _train(folders[1], tmp_path, "degradation=gaussian", "blur_sigma=1.0", "noise=poisson", "noise_level=50")
    assert best.is_file()


def test_a_degradation_that_does_not_fit_is_refused_before_training(tmp_path):
    with pytest.raises(ValueError, match=r"needs `blur_sigma` > 0"):
        load_config(None, ["degradation=gaussian"])


def test_intensity_augment_maps_lr_and_hr_alike():
    """On a white image, LR and HR patches become the same random level: some kept, some black-based."""
    sampler = PatchSampler([np.full((40, 40), 255, np.uint8)], 2, 8, 64, seed=0, intensity_augment=True)
    lr, hr = sampler.sample()
    levels = lr[:, 0, 4, 4]
    np.testing.assert_allclose(lr.min(axis=(1, 2, 3)), levels, atol=1e-6)
    np.testing.assert_allclose(hr.min(axis=(1, 2, 3)), levels, atol=1e-6)
    np.testing.assert_allclose(hr.max(axis=(1, 2, 3)), levels, atol=1e-6)
    assert 0.15 < np.mean(levels == 1.0) < 0.55  # a third keep their intensities
    assert levels.min() >= 0.2 - 1e-6 and levels.max() <= 1.0  # start + span within [0.2, 1]
    sampler = PatchSampler([np.zeros((40, 40), np.uint8)], 2, 8, 64, seed=0, intensity_augment=True)
    assert 0.5 < np.mean(sampler.sample()[0][:, 0, 4, 4] == 0)  # black stays black in two thirds of them
