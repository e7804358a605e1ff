"""Tests for skfsrcnn.datasets: folders, augmentation, degradation, patch sampling."""

import imageio.v3 as iio
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skfsrcnn._colour import y_channel_uint8
from skfsrcnn.datasets import (
    PatchSampler,
    augment,
    degrade,
    degraded_pairs,
    load_benchmark,
    load_folder,
    load_paired_folders,
    mod_crop,
)
from skfsrcnn.resize import imresize


def _random_uint8(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _write(folder, name, image):
    folder.mkdir(parents=True, exist_ok=True)
    iio.imwrite(folder / name, image)
    return folder / name


# ------------------------------------------------------------------------ augmentation


def test_augment_paper_counts():
    images = [_random_uint8((30, 20), 0), _random_uint8((25, 41), 1)]
    assert len(augment(images)) == 2 * 5 * 4
    assert len(augment(images, flips=True)) == 2 * 5 * 4 * 2
    assert len(augment(images, downscales=[1.0], rotations=[0])) == 2
    assert len(augment(images, downscales=[1.0, 0.5], rotations=[0, 180], flips=True)) == 2 * 2 * 2 * 2


def test_augment_contents():
    image = _random_uint8((30, 20))
    out = augment([image], downscales=[1.0, 0.9], rotations=[0, 90, 180, 270], flips=True)
    assert all(a.dtype == np.uint8 and a.flags.c_contiguous for a in out)
    # Order: downscale, then rotation, then (optional) mirror.
    assert_array_equal(out[0], image)
    assert_array_equal(out[1], image[:, ::-1])
    assert_array_equal(out[2], np.rot90(image))
    assert_array_equal(out[4], np.rot90(image, 2))
    assert_array_equal(out[6], np.rot90(image, 3))
    scaled = imresize(image, 0.9)
    assert scaled.shape == (27, 18)
    assert_array_equal(out[8], scaled)
    assert out[10].shape == (18, 27)
    assert_array_equal(out[15], np.rot90(scaled, 3)[:, ::-1])


@pytest.mark.parametrize("angle", [45, 360, -90])
def test_augment_rejects_other_rotations(angle):
    with pytest.raises(ValueError, match="rotations"):
        augment([_random_uint8((10, 10))], rotations=[0, angle])


# ------------------------------------------------------------------ crop and degrade


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_mod_crop(scale):
    image = _random_uint8((25, 31))
    cropped = mod_crop(image, scale)
    assert cropped.shape == (25 - 25 % scale, 31 - 31 % scale)
    assert_array_equal(cropped, image[: cropped.shape[0], : cropped.shape[1]])


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_degrade_is_float_matlab_bicubic(scale):
    hr = mod_crop(_random_uint8((24, 36)), scale)
    lr = degrade(hr, scale)
    assert lr.dtype == np.float64
    assert lr.shape == (hr.shape[0] // scale, hr.shape[1] // scale)
    assert_allclose(lr, imresize(hr / 255.0, 1 / scale), atol=0)
    # Not rounded to 8 bits.
    assert not np.allclose(lr * 255, np.round(lr * 255))


# ---------------------------------------------------------------------- patch sampler


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_patch_shapes_and_ranges(scale):
    images = [_random_uint8((60, 50), 0), _random_uint8((41, 70), 1)]
    sampler = PatchSampler(images, scale, patch_size=7, batch_size=5, seed=0)
    lr, hr = sampler.sample()
    assert lr.shape == (5, 1, 7, 7) and hr.shape == (5, 1, 7 * scale, 7 * scale)
    assert lr.dtype == np.float32 and hr.dtype == np.float32
    assert 0 <= hr.min() and hr.max() <= 1
    assert -0.2 < lr.min() and lr.max() < 1.2  # bicubic may overshoot slightly


def _locate(hr_image, hr_patch, scale, p):
    """LR offset (i, j) whose HR region equals ``hr_patch``."""
    n_i = hr_image.shape[0] // scale - p + 1
    n_j = hr_image.shape[1] // scale - p + 1
    hits = [
        (i, j)
        for i in range(n_i)
        for j in range(n_j)
        if np.array_equal(hr_image[i * scale : (i + p) * scale, j * scale : (j + p) * scale], hr_patch)
    ]
    assert len(hits) == 1
    return hits[0]


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_patches_are_aligned(scale):
    p = 8
    hr_image = mod_crop(_random_uint8((62, 55), scale), scale)
    sampler = PatchSampler([hr_image], scale, patch_size=p, batch_size=6, seed=scale)
    lr_image = degrade(hr_image, scale)
    hr_float = hr_image.astype(np.float32) / 255
    lr, hr = sampler.sample()
    for lr_patch, hr_patch in zip(lr[:, 0], hr[:, 0]):
        i, j = _locate(hr_float, hr_patch, scale, p)
        # The LR patch is the same region of the degraded image...
        assert_allclose(lr_patch, lr_image[i : i + p, j : j + p], atol=1e-6)
        # ...and, away from its edges, the degradation of the HR patch itself.
        local = degrade((hr_patch * 255).round().astype(np.uint8), scale)
        assert_allclose(lr_patch[2:-2, 2:-2], local[2:-2, 2:-2], atol=1e-6)


@pytest.mark.parametrize("hr_dtype", [np.uint8, np.float32])
def test_patches_from_pairs(hr_dtype):
    scale, p = 3, 5
    hr_image = _random_uint8((30, 24), 0)
    lr_image = _random_uint8((10, 8), 1)
    hr_float = hr_image.astype(np.float32) / 255
    # A float HR image (e.g. a distillation target) is taken as it is, in [0, 1].
    given = hr_image if hr_dtype == np.uint8 else hr_float
    sampler = PatchSampler(None, scale, p, 4, seed=0, pairs=[(given, lr_image)])
    lr, hr = sampler.sample()
    for lr_patch, hr_patch in zip(lr[:, 0], hr[:, 0]):
        i, j = _locate(hr_float, hr_patch, scale, p)
        assert_allclose(lr_patch, lr_image[i : i + p, j : j + p] / 255, atol=1e-7)


def test_degraded_pairs_mod_crop_then_degrade():
    images = [_random_uint8((31, 26), 0), _random_uint8((24, 24), 1)]
    pairs = degraded_pairs(images, 3)
    for image, (hr, lr) in zip(images, pairs):
        assert_array_equal(hr, mod_crop(image, 3))
        assert_array_equal(lr, degrade(hr, 3))
    assert [lr.shape for _, lr in pairs] == [(10, 8), (8, 8)]


def test_patches_are_seeded():
    images = [_random_uint8((40, 40), k) for k in range(3)]

    def draws(seed):
        sampler = PatchSampler(images, 2, 6, 4, seed=seed)
        return [sampler.sample() for _ in range(3)]

    for (lr_a, hr_a), (lr_b, hr_b) in zip(draws(7), draws(7)):
        assert_array_equal(lr_a, lr_b)
        assert_array_equal(hr_a, hr_b)
    assert not np.array_equal(draws(7)[0][0], draws(8)[0][0])
    # A Generator is used as given (its state is what a checkpoint saves).
    rng = np.random.default_rng(7)
    assert_array_equal(PatchSampler(images, 2, 6, 4, seed=rng).sample()[0], draws(7)[0][0])


def test_patch_sampler_draws_from_every_image():
    images = [np.full((20, 20), 10 * k, np.uint8) for k in range(4)]
    sampler = PatchSampler(images, 2, 4, 64, seed=0)
    _, hr = sampler.sample()
    assert set(np.round(hr[:, 0, 0, 0] * 255).astype(int)) == {0, 10, 20, 30}


def test_patch_sampler_skips_small_images():
    images = [_random_uint8((12, 40), 0), _random_uint8((40, 40), 1)]
    sampler = PatchSampler(images, 2, 8, 3, seed=0)
    assert len(sampler.lr) == 1  # 12 // 2 = 6 < 8
    with pytest.raises(ValueError, match="patch_size"):
        PatchSampler(images[:1], 2, 8, 3, seed=0)


def test_patch_sampler_rejects_mismatched_pairs():
    with pytest.raises(ValueError, match="does not match"):
        PatchSampler(None, 2, 4, 2, pairs=[(_random_uint8((20, 20)), _random_uint8((9, 10)))])


# -------------------------------------------------------------------------- folders


def test_load_folder(tmp_path):
    rgb = _random_uint8((9, 8, 3), 0)
    grey = _random_uint8((7, 6), 1)
    _write(tmp_path, "b.png", rgb)
    _write(tmp_path, "a.png", grey)
    (tmp_path / "notes.txt").write_text("not an image")
    images = load_folder(tmp_path)
    assert len(images) == 2
    assert_array_equal(images[0], grey)  # sorted by name
    assert_array_equal(images[1], y_channel_uint8(rgb))


def test_load_folder_rejects_16_bit(tmp_path):
    _write(tmp_path, "deep.png", np.zeros((8, 8), np.uint16))
    with pytest.raises(ValueError, match="deep.png"):
        load_folder(tmp_path)


def test_load_folder_reads_as_skfsrcnn_io_does(tmp_path):
    from PIL import Image

    from skfsrcnn.io import read_image, write_image

    rgb = _random_uint8((12, 20, 3))
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    Image.fromarray(rgb).save(tmp_path / "a_rotated.png", exif=exif.tobytes())
    write_image(tmp_path / "b_grey.tif", rgb[..., 0])
    images = load_folder(tmp_path)
    assert images[0].shape == (20, 12)  # upright, as skfsrcnn upscale reads it
    assert_array_equal(images[0], y_channel_uint8(read_image(tmp_path / "a_rotated.png")))
    assert_array_equal(images[1], rgb[..., 0])
    write_image(tmp_path / "c_deep.png", np.zeros((8, 8, 3), np.uint16))  # was cut to 8 bits by imageio
    with pytest.raises(ValueError, match=r"'.*c_deep\.png': training images must be 8-bit, got uint16"):
        load_folder(tmp_path)


def test_load_folder_refuses_stacks(tmp_path):
    from skfsrcnn.io import write_image

    write_image(tmp_path / "stack.tif", np.zeros((5, 8, 8), np.uint8))
    with pytest.raises(ValueError, match=r"training images are one 2-D image, got a stack of shape \(5, 8, 8\)"):
        load_folder(tmp_path)


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_folder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("")
    with pytest.raises(ValueError, match="no images"):
        load_folder(tmp_path / "empty")
    with pytest.raises(ValueError, match="does not exist"):
        load_benchmark(tmp_path / "nowhere", 2)
    with pytest.raises(ValueError, match="no images"):
        load_benchmark(tmp_path / "empty", 2)


def test_load_paired_folders(tmp_path):
    hr = [_random_uint8((12, 12, 3), k) for k in range(2)]
    lr = [_random_uint8((6, 6), 10 + k) for k in range(2)]
    for k in range(2):
        _write(tmp_path / "hr", f"img{k}.png", hr[k])
        _write(tmp_path / "lr", f"img{k}x2.png", lr[k])
    pairs = load_paired_folders(tmp_path / "hr", tmp_path / "lr")
    assert len(pairs) == 2
    for (h, low), h_ref, lr_ref in zip(pairs, hr, lr):
        assert_array_equal(h, y_channel_uint8(h_ref))
        assert_array_equal(low, lr_ref)
    _write(tmp_path / "lr", "extra.png", lr[0])
    with pytest.raises(ValueError, match="one to one"):
        load_paired_folders(tmp_path / "hr", tmp_path / "lr")
    with pytest.raises(ValueError, match="does not exist"):
        load_paired_folders(tmp_path / "hr", tmp_path / "missing")


def test_load_benchmark_selfexsr_layout(tmp_path):
    rgb = _random_uint8((12, 9, 3), 0)
    grey = _random_uint8((9, 12), 1)
    for scale in (2, 3):
        folder = tmp_path / f"image_SRF_{scale}"
        _write(folder, f"img_001_SRF_{scale}_HR.png", mod_crop(rgb, scale))
        _write(folder, f"img_001_SRF_{scale}_LR.png", imresize(mod_crop(rgb, scale), 1 / scale))
        _write(folder, f"img_002_SRF_{scale}_HR.png", mod_crop(grey, scale))
        _write(folder, f"img_002_SRF_{scale}_LR.png", imresize(mod_crop(grey, scale), 1 / scale))
    for scale in (2, 3):
        benchmark = load_benchmark(tmp_path, scale)
        assert [name for name, _ in benchmark] == ["img_001", "img_002"]  # LR files left out
        assert_array_equal(benchmark[0][1], y_channel_uint8(mod_crop(rgb, scale)))
        assert_array_equal(benchmark[1][1], mod_crop(grey, scale))
    # No image_SRF_4: the top folder is read as a plain HR folder, which holds none.
    with pytest.raises(ValueError):
        load_benchmark(tmp_path, 4)


def test_load_benchmark_plain_folder_is_mod_cropped(tmp_path):
    rgb = _random_uint8((25, 23, 3), 0)
    _write(tmp_path, "bird.png", rgb)
    _write(tmp_path, "grey.png", _random_uint8((14, 17), 1))
    for scale in (2, 3, 4):
        benchmark = load_benchmark(tmp_path, scale)
        assert [name for name, _ in benchmark] == ["bird", "grey"]
        for _, image in benchmark:
            assert image.dtype == np.uint8 and image.ndim == 2
            assert image.shape[0] % scale == 0 and image.shape[1] % scale == 0
        assert_array_equal(benchmark[0][1], mod_crop(y_channel_uint8(rgb), scale))


def test_load_benchmark_shared_set5(datasets_dir):
    benchmark = load_benchmark(datasets_dir / "Set5", 3)
    assert [name for name, _ in benchmark] == [f"img_00{k}" for k in range(1, 6)]
    for _, image in benchmark:
        assert image.dtype == np.uint8 and image.ndim == 2
        assert image.shape[0] % 3 == 0 and image.shape[1] % 3 == 0
    # The luma of the HR file, already mod-cropped by SelfExSR.
    hr = iio.imread(datasets_dir / "Set5" / "image_SRF_3" / "img_001_SRF_3_HR.png")
    assert_array_equal(benchmark[0][1], y_channel_uint8(hr))
