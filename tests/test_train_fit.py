"""skfsrcnn.train.fit: fine-tuning on the user's own images, with a time budget and Cancel."""

import numpy as np
import pytest

from skfsrcnn.pretrained import FULL_RANGE, input_range
from skfsrcnn.train import fit, fit_steps
from skfsrcnn.train.fit import _split

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _stack(count=4, dtype=np.uint16, seed=0):
    """Bright blobs on a dark background, as fluorescence, in ``dtype``."""
    from skimage.filters import gaussian

    rng = np.random.default_rng(seed)
    planes = np.zeros((count, 64, 64))
    for plane in planes:
        plane[tuple(rng.integers(0, 64, (2, 30)))] = 1
    planes = gaussian(planes, (0, 2, 2)) * 4000
    return planes.astype(dtype)


def test_fit_trains_within_its_budget_and_records_full_range(tmp_path):
    best = fit([_stack()], 2, model="fsrcnn-s", time_budget=1.5, name="mine", output_dir=tmp_path, progress=False)
    assert best == tmp_path / "mine" / "best.safetensors"
    assert input_range(best) == FULL_RANGE  # dark background: full-range data
    assert len(list((tmp_path / "mine" / "data" / "val").glob("*.png"))) == 1  # one plane of four held back
    assert len(list((tmp_path / "mine" / "data" / "train").glob("*.png"))) == 3


def test_cancel_keeps_the_weights_so_far(tmp_path):
    steps = fit_steps([_stack(2, np.uint8)], 3, model="fsrcnn-s", name="cancelled", output_dir=tmp_path, progress=False)
    progress = [next(steps) for _ in range(3)]
    steps.close()
    assert [p.iteration for p in progress] == [1, 2, 3]
    assert (tmp_path / "cancelled" / "best.safetensors").is_file()


def test_a_single_image_gives_up_its_bottom_quarter():
    image = np.zeros((100, 80), np.uint8)
    (train,), (val,) = _split([image], 0.1)
    assert train.shape == (75, 80) and val.shape == (25, 80)


@pytest.mark.parametrize("count, held", [(2, [1]), (10, [9]), (54, [9, 20, 31, 42, 53])])
def test_held_back_images_are_spread_and_never_trained_on(count, held):
    planes = [np.full((20, 20), k, np.uint8) for k in range(count)]
    train, val = _split(planes, 0.1)
    assert [int(v[0, 0]) for v in val] == held
    assert len(train) + len(val) == count and not {int(t[0, 0]) for t in train} & set(held)


@pytest.mark.parametrize(
    "images, options, error, match",
    [
        ([np.zeros((64, 64))], dict(start="imagenet"), ValueError, r"`start` must be one of"),
        ([np.zeros((64, 64))], dict(val_fraction=0.9), ValueError, r"`val_fraction` must be in \(0, 0.5\]"),
        (np.zeros((64, 64)), {}, TypeError, r"a sequence of arrays \(a list, even of one image\)"),
        ([], {}, ValueError, r"`images` is empty"),
        ([np.zeros(5)], {}, ValueError, r"array of shape \(5,\); give 2-D images"),
        ([np.zeros((30, 30))], {}, ValueError, r"too small to hold back a quarter"),
        ([np.zeros((64, 64))], dict(degradation="area"), TypeError, r"`degradation` must be a skfsrcnn"),
    ],
)
def test_bad_arguments_are_clear_errors(tmp_path, images, options, error, match):
    with pytest.raises(error, match=match):
        fit(images, 2, output_dir=tmp_path, progress=False, **options)
    assert not any(tmp_path.iterdir())  # nothing written


def test_an_existing_run_is_never_overwritten(tmp_path):
    (tmp_path / "mine").mkdir()
    with pytest.raises(ValueError, match=r"run folder .* exists; choose another `name`"):
        fit([_stack()], 2, name="mine", output_dir=tmp_path, progress=False)


def test_patches_shrink_to_fit_small_images_and_refuse_tiny_ones(tmp_path):
    steps = fit_steps([_stack(2, np.uint8)], 3, model="fsrcnn-s", name="small", output_dir=tmp_path, progress=False)
    next(steps)
    steps.close()
    import yaml

    assert yaml.safe_load((tmp_path / "small" / "config.yaml").read_text())["patch_size"] == 64 // 3
    with pytest.raises(ValueError, match=r"too small for x4: the smallest side should be at least 32 pixels"):
        fit([np.zeros((24, 24)), np.zeros((80, 80))], 4, output_dir=tmp_path, progress=False)
