"""Tests for skfsrcnn.metrics: PSNR and SSIM, and the literature's bicubic numbers."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skfsrcnn._colour import rgb_to_y
from skfsrcnn.metrics import psnr, ssim


def _pair(shape=(24, 20), seed=0, dtype=np.uint8):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, shape)
    b = np.clip(a + rng.integers(-20, 21, shape), 0, 255)
    return a.astype(dtype), b.astype(dtype)


# ----------------------------------------------------------------------------- PSNR


def test_psnr_hand_computed_uint8():
    a = np.zeros((4, 4), np.uint8)
    b = a.copy()
    b[1, 2] = 8  # MSE = 64 / 16 = 4
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / 4), abs=1e-12)
    assert psnr(b, a) == pytest.approx(psnr(a, b), abs=1e-12)


def test_psnr_hand_computed_float():
    a = np.zeros((2, 5))
    b = np.full((2, 5), 0.1)  # MSE = 0.01
    assert psnr(a, b, data_range=1.0) == pytest.approx(20.0, abs=1e-9)
    assert psnr(a, b, data_range=2.0) == pytest.approx(20.0 + 20 * math.log10(2), abs=1e-9)


@pytest.mark.parametrize(("dtype", "peak"), [(np.uint8, 255), (np.uint16, 65535), (np.int16, 65535)])
def test_psnr_guesses_integer_range(dtype, peak):
    a = np.zeros((3, 3), dtype)
    b = a.copy()
    b[0, 0] = 3  # MSE = 1
    assert psnr(a, b) == pytest.approx(20 * math.log10(peak), abs=1e-9)


def test_psnr_no_integer_overflow():
    a = np.zeros((2, 2), np.uint8)
    b = np.full((2, 2), 255, np.uint8)  # a - b would wrap around in uint8
    assert psnr(a, b) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("metric", [psnr, ssim])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_identical_images(metric, dtype):
    a, _ = _pair(dtype=dtype)
    kwargs = {} if dtype == np.uint8 else {"data_range": 255}
    expected = math.inf if metric is psnr else 1.0
    assert metric(a, a.copy(), **kwargs) == expected


def test_psnr_crop_border():
    a = np.zeros((10, 10), np.uint8)
    b = a.copy()
    b[0, :] = 200  # differences only in the border
    b[5, 5] = 10
    assert psnr(a, b, crop_border=1) == pytest.approx(10 * math.log10(255**2 / (100 / 64)))
    b[5, 5] = 0
    assert psnr(a, b, crop_border=1) == math.inf
    assert psnr(a, b, crop_border=0) < 20


def test_psnr_y_channel():
    rgb_true, rgb_test = _pair((16, 12, 3))
    y_true = rgb_to_y(rgb_true / 255.0) * 255.0
    y_test = rgb_to_y(rgb_test / 255.0) * 255.0
    expected = 10 * np.log10(255**2 / np.mean((y_true - y_test) ** 2))
    assert psnr(rgb_true, rgb_test, y_channel=True) == pytest.approx(expected, abs=1e-9)
    assert psnr(rgb_true, rgb_test, y_channel=True) != pytest.approx(psnr(rgb_true, rgb_test))
    # The same in float, with the range given.
    got = psnr(rgb_true / 255.0, rgb_test / 255.0, y_channel=True, data_range=1.0)
    assert got == pytest.approx(expected, abs=1e-9)


def test_y_channel_is_a_no_op_on_greyscale():
    a, b = _pair()
    assert psnr(a, b, y_channel=True) == psnr(a, b)
    assert ssim(a, b, y_channel=True) == ssim(a, b)


@pytest.mark.parametrize("metric", [psnr, ssim])
def test_float_requires_data_range(metric):
    a, b = _pair(dtype=np.float64)
    with pytest.raises(ValueError, match="data_range"):
        metric(a / 255, b / 255)


@pytest.mark.parametrize("metric", [psnr, ssim])
def test_shape_mismatch(metric):
    a, b = _pair((20, 20))
    with pytest.raises(ValueError, match="same shape"):
        metric(a, b[:-1])
    with pytest.raises(ValueError, match="same shape"):
        metric(np.stack([a] * 3, -1), b)


@pytest.mark.parametrize("metric", [psnr, ssim])
def test_bad_crop_border(metric):
    a, b = _pair((20, 20))
    with pytest.raises(ValueError, match="crop_border"):
        metric(a, b, crop_border=-1)
    with pytest.raises(ValueError, match="crop_border"):
        metric(a, b, crop_border=10)


# ----------------------------------------------------------------------------- SSIM


def _gaussian(size=11, sigma=1.5):
    x = np.arange(size) - size // 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return np.outer(g, g) / np.outer(g, g).sum()


def _ssim_window(x, y, peak):
    """SSIM of one 11x11 window, written out as Wang et al.'s formula."""
    w = _gaussian()
    mx, my = (w * x).sum(), (w * y).sum()
    vx, vy = (w * (x - mx) ** 2).sum(), (w * (y - my) ** 2).sum()
    cxy = (w * (x - mx) * (y - my)).sum()
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    return (2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2))


def test_ssim_single_window_hand_computed():
    a, b = _pair((11, 11), seed=3)
    expected = _ssim_window(a.astype(float), b.astype(float), 255)
    assert ssim(a, b) == pytest.approx(expected, abs=1e-12)
    assert ssim(a / 255, b / 255, data_range=1.0) == pytest.approx(expected, abs=1e-12)


def test_ssim_is_mean_over_valid_windows():
    a, b = _pair((13, 12), seed=4)
    a, b = a.astype(float), b.astype(float)
    windows = [
        _ssim_window(a[i : i + 11, j : j + 11], b[i : i + 11, j : j + 11], 255) for i in range(3) for j in range(2)
    ]
    assert ssim(a, b, data_range=255) == pytest.approx(np.mean(windows), abs=1e-12)


def test_ssim_constant_images():
    a = np.full((11, 11), 100.0)
    b = np.full((11, 11), 50.0)
    c1 = (0.01 * 255) ** 2
    expected = (2 * 100 * 50 + c1) / (100**2 + 50**2 + c1)
    assert ssim(a, b, data_range=255) == pytest.approx(expected, abs=1e-9)


def test_ssim_matches_skimage_wang_settings():
    metrics = pytest.importorskip("skimage.metrics")
    a, b = _pair((40, 33), seed=5)
    expected = metrics.structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
    )
    assert ssim(a, b) == pytest.approx(expected, abs=1e-9)


def test_ssim_rgb_is_mean_of_channels():
    a, b = _pair((20, 18, 3), seed=6)
    per_channel = [ssim(a[..., c], b[..., c]) for c in range(3)]
    assert ssim(a, b) == pytest.approx(np.mean(per_channel), abs=1e-12)


def test_ssim_y_channel():
    a, b = _pair((20, 18, 3), seed=7)
    y_a = rgb_to_y(a / 255.0) * 255
    y_b = rgb_to_y(b / 255.0) * 255
    assert ssim(a, b, y_channel=True) == pytest.approx(ssim(y_a, y_b, data_range=255), abs=1e-12)


def test_ssim_crop_border():
    a, b = _pair((30, 30), seed=8)
    assert ssim(a, b, crop_border=3) == pytest.approx(ssim(a[3:-3, 3:-3], b[3:-3, 3:-3]), abs=1e-12)
    assert ssim(a, b, crop_border=3) != pytest.approx(ssim(a, b), abs=1e-6)


def test_ssim_lower_for_worse_images():
    rng = np.random.default_rng(9)
    a = rng.integers(0, 256, (32, 32))
    slight = np.clip(a + rng.integers(-5, 6, a.shape), 0, 255)
    heavy = np.clip(a + rng.integers(-60, 61, a.shape), 0, 255)
    assert 1 > ssim(a, slight, data_range=255) > ssim(a, heavy, data_range=255)


def test_ssim_too_small():
    a, b = _pair((10, 20))
    with pytest.raises(ValueError, match="11x11"):
        ssim(a, b)
    a, b = _pair((20, 20))
    with pytest.raises(ValueError, match="11x11"):
        ssim(a, b, crop_border=5)


# ------------------------------------------------------------ literature bicubic numbers

LITERATURE = {
    # set: {scale: (PSNR, SSIM)}, bicubic rows of the SRCNN and FSRCNN papers
    "Set5": {2: (33.66, 0.9299), 3: (30.39, 0.8682), 4: (28.42, 0.8104)},
    "Set14": {2: (30.23, 0.8687), 3: (27.54, 0.7736), 4: (26.00, 0.7019)},
}


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("name", sorted(LITERATURE))
def test_bicubic_reproduces_literature(datasets_dir, name, scale):
    from skfsrcnn.datasets import load_benchmark
    from skfsrcnn.evaluate import bicubic_upscaler, evaluate

    benchmark = load_benchmark(datasets_dir / name, scale)
    assert len(benchmark) == {"Set5": 5, "Set14": 14}[name]
    rows = evaluate(bicubic_upscaler(scale), benchmark, scale)
    mean_psnr = np.mean([p for _, p, _ in rows])
    mean_ssim = np.mean([s for _, _, s in rows])
    expected_psnr, expected_ssim = LITERATURE[name][scale]
    assert_allclose(mean_psnr, expected_psnr, atol=0.01)
    assert_allclose(mean_ssim, expected_ssim, atol=0.0001)
