"""Tests for skfsrcnn._colour: BT.601 RGB <-> YCbCr as MATLAB's rgb2ycbcr."""

from fractions import Fraction

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skfsrcnn._colour import (
    merge_luma,
    rgb_to_y,
    rgb_to_ycbcr,
    y_channel_uint8,
    ycbcr_to_rgb,
)
from skfsrcnn.resize import imresize


def _rgb(shape=(7, 9), dtype=np.float64, seed=0):
    return np.random.default_rng(seed).random(shape + (3,)).astype(dtype)


@pytest.mark.parametrize("shape", [(7, 9), (2, 5, 4), (1,)])
def test_matches_skimage(shape):
    skcolor = pytest.importorskip("skimage.color")
    rgb = _rgb(shape)
    assert_allclose(rgb_to_ycbcr(rgb), skcolor.rgb2ycbcr(rgb) / 255.0, atol=1e-12)
    assert_allclose(rgb_to_y(rgb), skcolor.rgb2ycbcr(rgb)[..., 0] / 255.0, atol=1e-12)
    assert_allclose(ycbcr_to_rgb(rgb_to_ycbcr(rgb)), skcolor.ycbcr2rgb(skcolor.rgb2ycbcr(rgb)), atol=1e-12)


def test_matlab_ranges():
    corners = np.array([[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=np.float64)
    ycbcr = rgb_to_ycbcr(corners) * 255
    assert_allclose(ycbcr[0], [16, 128, 128], atol=1e-9)
    assert_allclose(ycbcr[1], [235, 128, 128], atol=1e-9)
    assert_allclose(ycbcr[2, 2], 240, atol=1e-9)  # Cr of pure red
    assert_allclose(ycbcr[3, 1], 240, atol=1e-9)  # Cb of pure blue
    assert ycbcr.min() >= 16 - 1e-9 and ycbcr.max() <= 240 + 1e-9


@pytest.mark.parametrize(("dtype", "atol"), [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_round_trip(dtype, atol):
    rgb = _rgb(dtype=dtype)
    ycbcr = rgb_to_ycbcr(rgb)
    back = ycbcr_to_rgb(ycbcr)
    assert ycbcr.dtype == dtype and back.dtype == dtype
    assert_allclose(back, rgb, atol=atol)
    assert_allclose(rgb_to_ycbcr(back), ycbcr, atol=atol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_y_is_first_channel(dtype):
    rgb = _rgb(dtype=dtype)
    y = rgb_to_y(rgb)
    assert y.dtype == dtype
    assert_allclose(y, rgb_to_ycbcr(rgb)[..., 0], rtol=1e-6)


def test_grey_rgb_maps_to_zero_chroma():
    grey = np.linspace(0, 1, 11)[:, None].repeat(3, axis=1)
    ycbcr = rgb_to_ycbcr(grey)
    assert_allclose(ycbcr[:, 1:], 128 / 255, atol=1e-12)
    assert_allclose(ycbcr[:, 0], (16 + 219 * np.linspace(0, 1, 11)) / 255, atol=1e-12)


def _exact_y(rgb):
    """MATLAB's Y of uint8 RGB, in exact rational arithmetic, rounded half away from zero."""
    r, g, b = (Fraction(int(v)) for v in rgb)
    y = 16 + (Fraction("65.481") * r + Fraction("128.553") * g + Fraction("24.966") * b) / 255
    return int(y + Fraction(1, 2))  # y > 0: floor(y + 1/2) is half away from zero


def test_y_channel_uint8_matches_exact_formula():
    rgb = np.random.default_rng(0).integers(0, 256, (40, 25, 3), dtype=np.uint8)
    y = y_channel_uint8(rgb)
    assert y.dtype == np.uint8 and y.shape == (40, 25)
    expected = np.array([_exact_y(p) for p in rgb.reshape(-1, 3)]).reshape(40, 25)
    assert_array_equal(y, expected)
    # It is the rounded luma of rgb_to_y.
    assert np.abs(y - rgb_to_y(rgb / 255.0) * 255).max() <= 0.5 + 1e-9


def test_y_channel_uint8_rounds_ties_away_from_zero():
    # 255000 * (Y - 16) = 65481 R + 128553 G + 24966 B; find colours with Y exactly n + 0.5.
    g, b = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    ties = []
    for r in range(0, 256, 3):
        weighted = 65481 * r + 128553 * g + 24966 * b
        hit = weighted % 255000 == 127500
        ties += [(r, gi, bi) for gi, bi in zip(g[hit], b[hit])]
    assert len(ties) > 10
    ties = np.array(ties, dtype=np.uint8)[None]
    y = y_channel_uint8(ties)[0].astype(int)
    expected = [_exact_y(p) for p in ties[0]]
    assert_array_equal(y, expected)
    assert any(value % 2 == 1 for value in expected)  # not round-half-to-even by luck


def test_y_channel_uint8_extremes():
    rgb = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
    # 16 + 65.481, 16 + 128.553 and 16 + 24.966 for pure red, green and blue.
    assert_array_equal(y_channel_uint8(rgb)[0], [16, 235, 81, 145, 41])


def test_y_channel_uint8_greyscale_unchanged():
    grey = np.random.default_rng(1).integers(0, 256, (6, 7), dtype=np.uint8)
    out = y_channel_uint8(grey)
    assert_array_equal(out, grey)
    assert out.dtype == np.uint8
    assert_array_equal(y_channel_uint8(grey[..., None]), grey)  # (M, N, 1)
    grey_alpha = np.stack([grey, np.full_like(grey, 255)], axis=-1)  # grey + alpha PNG
    assert_array_equal(y_channel_uint8(grey_alpha), grey)


def test_y_channel_uint8_ignores_alpha():
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)
    rgba = np.concatenate([rgb, rng.integers(0, 256, (5, 4, 1), dtype=np.uint8)], axis=-1)
    assert_array_equal(y_channel_uint8(rgba), y_channel_uint8(rgb))


@pytest.mark.parametrize("shape", [(5, 7), (300, 400), (2, 260, 270)])
@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_merge_luma_equals_the_ycbcr_route(shape, channels, scale):
    """bicubic(RGB - gY) + g Y_up == YCbCr -> (Y_up, bicubic Cb, Cr) -> RGB, alpha bicubic.

    (300, 400) spans several bands of rows and a last, shorter one.
    """
    pytest.importorskip("torch")
    rng = np.random.default_rng(shape[-1] + channels)
    image = rng.random(shape + (channels,)).astype(np.float32)
    luma = rgb_to_y(image[..., :3])
    luma_up = rng.random(shape[:-2] + tuple(n * scale for n in shape[-2:])).astype(np.float32)  # any upscaled luma
    out = merge_luma(image, luma, luma_up, scale)

    ycbcr = rgb_to_ycbcr(image[..., :3].astype(np.float64))
    chroma = imresize(ycbcr[..., 1:], scale, axes=(-3, -2))
    expected = ycbcr_to_rgb(np.concatenate([luma_up[..., None], chroma], axis=-1))
    if channels == 4:
        expected = np.concatenate([expected, imresize(image[..., 3:], scale, axes=(-3, -2))], axis=-1)
    assert out.shape == expected.shape and out.dtype == np.float32
    assert_allclose(out, expected, rtol=0, atol=2e-6)


def test_merge_luma_keeps_grey_grey():
    """Grey pixels have no chroma: whatever the upscaled luma, R, G and B stay equal."""
    rng = np.random.default_rng(0)
    grey = rng.random((6, 5, 1)).astype(np.float32).repeat(3, axis=-1)
    out = merge_luma(grey, rgb_to_y(grey), rng.random((12, 10)).astype(np.float32), 2)
    assert_allclose(out[..., 1], out[..., 0], atol=1e-6)
    assert_allclose(out[..., 2], out[..., 0], atol=1e-6)


@pytest.mark.parametrize("sections", [2, 3, 8])
def test_merge_luma_on_worker_threads_equals_one_thread(monkeypatch, sections):
    """Row sections merged on worker threads (skfsrcnn._threads.on_workers) give the same bits."""
    import skfsrcnn._colour

    rng = np.random.default_rng(sections)
    image = rng.random((2, 300, 130, 4)).astype(np.float32)
    luma, luma_up = rgb_to_y(image[..., :3]), rng.random((2, 900, 390)).astype(np.float32)
    monkeypatch.setattr(skfsrcnn._colour, "worker_sections", lambda: 1)
    whole = merge_luma(image, luma, luma_up, 3)
    monkeypatch.setattr(skfsrcnn._colour, "worker_sections", lambda: sections)
    assert_array_equal(merge_luma(image, luma, luma_up, 3), whole)
