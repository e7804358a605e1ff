"""Tests for skfsrcnn.upscale / upscale_steps: shapes, dtypes, colour, planes, device, cache."""

import os
import shutil

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from skimage.color import rgb2ycbcr

from skfsrcnn import _upscale, _validate, run_to_end, upscale, upscale_steps
from skfsrcnn.resize import imresize

DTYPES = ("uint8", "uint16", "int16", "int32", "float16", "float32", "float64")


@pytest.fixture(scope="module")
def weights(random_weights):
    """Random FSRCNN-s x2 weights: fast, and far from an identity."""
    return random_weights("fsrcnn-s", 2)


def _image(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return rng.integers(0, 256, shape).astype(dtype)
    if dtype == np.uint16:
        return rng.integers(100, 60000, shape).astype(dtype)
    if dtype == np.int16:
        return rng.integers(-30000, 30000, shape).astype(dtype)
    if dtype == np.int32:
        return rng.integers(-(10**6), 10**6, shape).astype(dtype)
    return rng.random(shape).astype(dtype)


def _drain(steps):
    yielded = []
    while True:
        try:
            yielded.append(next(steps))
        except StopIteration as stop:
            return stop.value, yielded


# ---------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    "shape, channel_axis, expected",
    [
        ((13, 17), None, (26, 34)),
        ((13, 17, 3), -1, (26, 34, 3)),
        ((13, 17, 4), -1, (26, 34, 4)),
        ((13, 17, 2), -1, (26, 34, 2)),
        ((13, 17, 1), -1, (26, 34, 1)),
        ((3, 13, 17), None, (3, 26, 34)),
        ((2, 3, 13, 17), 0, (2, 3, 26, 34)),
        ((3, 2, 13, 17), 0, (3, 2, 26, 34)),
        ((2, 2, 13, 17, 3), -1, (2, 2, 26, 34, 3)),
    ],
)
def test_output_shape(weights, shape, channel_axis, expected):
    image = _image("uint16", shape)
    out = upscale(image, 2, channel_axis=channel_axis, weights=weights)
    assert out.shape == expected
    assert out.dtype == np.float32


@pytest.mark.parametrize("channel_axis", [0, 1, 2, -1])
def test_rgb_channel_axis_anywhere(weights, channel_axis):
    rgb = _image("uint8", (11, 14, 3), seed=1)
    reference = upscale(rgb, 2, channel_axis=-1, weights=weights)
    moved = np.moveaxis(rgb, -1, channel_axis)
    out = upscale(moved, 2, channel_axis=channel_axis, weights=weights)
    assert_allclose(np.moveaxis(out, channel_axis, -1), reference, rtol=0, atol=1e-6)


def test_scales_and_presets_use_registry_weights():
    """Default weights come from the registry; only shapes are checked (quality is not)."""
    image = _image("uint8", (9, 10))
    for model in ("fsrcnn", "fsrcnn-s"):
        for scale in (2, 3, 4):
            out = upscale(image, scale, model=model)
            assert out.shape == (9 * scale, 10 * scale)
            assert 0 <= out.min() and out.max() <= 1


# ---------------------------------------------------------------- dtypes and ranges


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("preserve_range", [False, True])
def test_dtype_and_range_rules(weights, dtype, preserve_range):
    image = _image(dtype, (13, 17))
    original = image.copy()
    out = upscale(image, 2, weights=weights, preserve_range=preserve_range)
    assert_array_equal(image, original)  # never mutated
    assert out.dtype == (np.float64 if dtype == "float64" else np.float32)
    low, high = float(image.min()), float(image.max())
    if image.dtype.kind in "iu" and not preserve_range:
        divisor = np.iinfo(image.dtype).max
        low, high = low / divisor, high / divisor
        assert -1 <= out.min() and out.max() <= 1
        if image.dtype.kind == "u":
            assert 0 <= out.min()
    assert low - 1e-6 * abs(low) <= out.min() and out.max() <= high + 1e-6 * abs(high)
    # units: integer input divided by its dtype's range, float input untouched
    units = upscale(image, 2, weights=weights, preserve_range=True)
    if image.dtype.kind in "iu":
        expected = units if preserve_range else units / np.iinfo(image.dtype).max
    else:
        expected = units
    assert_allclose(out, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "int32", "int64"])
def test_dtype_extremes_map_into_the_unit_range(weights, dtype):
    """The full integer range maps into [0, 1] (unsigned) or [-1, 1] (signed), as skimage."""
    info = np.iinfo(dtype)
    image = _image("uint8", (12, 13), seed=23).astype(np.float64) / 255
    image = np.round(info.min + image * (float(info.max) - float(info.min))).astype(dtype)
    image[0, :2] = info.min, info.max
    out = upscale(image, 2, weights=weights)
    assert out.min() >= (0 if info.min == 0 else -1) and out.max() <= 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_is_to_the_input_range(weights, dtype):
    image = _image(dtype, (13, 17), seed=2)
    free = upscale(image, 2, weights=weights, clip=False, preserve_range=True)
    clipped = upscale(image, 2, weights=weights, clip=True, preserve_range=True)
    low, high = float(image.min()), float(image.max())
    assert_allclose(clipped, np.clip(free, low, high), rtol=1e-6)
    # random weights overshoot, so the clip above is not vacuous
    assert free.min() < low or free.max() > high


def test_float_input_keeps_its_units(weights):
    """Floats outside [0, 1] are mapped by their global min/max and mapped back."""
    image = _image("float64", (13, 17), seed=3) * 500 - 100
    low, high = image.min(), image.max()
    out = upscale(image, 2, weights=weights, clip=False)
    unit = upscale((image - low) / (high - low), 2, weights=weights, clip=False)
    assert_allclose(out, unit * (high - low) + low, rtol=1e-5, atol=1e-4)


def test_uint8_is_mapped_like_float_in_unit_range(weights):
    image = _image("uint8", (13, 17), seed=4)
    assert_allclose(
        upscale(image, 2, weights=weights),
        upscale(image.astype(np.float32) / 255, 2, weights=weights),
        rtol=0,
        atol=1e-6,
    )


def test_int_data_use_the_global_range(weights):
    image = _image("uint16", (13, 17), seed=5)
    low, high = float(image.min()), float(image.max())
    out = upscale(image, 2, weights=weights, preserve_range=True, clip=False)
    unit = upscale((image - low) / (high - low), 2, weights=weights, clip=False)
    assert_allclose(out, unit * (high - low) + low, rtol=1e-5)


def test_constant_image(weights):
    for image in (np.full((9, 9), 7, np.uint16), np.full((9, 9), 0.25), np.zeros((9, 9), np.uint8)):
        out = upscale(image, 2, weights=weights)
        assert np.isfinite(out).all()
        assert_allclose(out, upscale(image, 2, weights=weights, tile_size=None))


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[::2, 1::2],
        lambda a: a[::-1, :],
        lambda a: a.T,
        np.asfortranarray,
        lambda a: a.astype(a.dtype.newbyteorder(">")),
    ],
    ids=["strided", "reversed", "transposed", "fortran", "big-endian"],
)
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_non_contiguous_readonly_and_big_endian_inputs(weights, view, dtype):
    image = view(_image(dtype, (26, 22), seed=6))
    image.setflags(write=False)
    out = upscale(image, 2, weights=weights)
    expected = upscale(np.ascontiguousarray(image).astype(image.dtype.newbyteorder("=")), 2, weights=weights)
    assert_array_equal(out, expected)


def test_readonly_colour_stack_not_mutated(weights):
    image = _image("uint16", (2, 12, 10, 4), seed=7)
    original = image.copy()
    image.setflags(write=False)
    upscale(image, 2, channel_axis=-1, weights=weights)
    upscale(image, 2, channel_axis=-1, weights=weights, rgb=False)
    assert_array_equal(image, original)


def test_list_input(weights):
    image = _image("uint8", (8, 9), seed=8)
    assert_array_equal(upscale(image.tolist(), 2, weights=weights), upscale(image.astype(np.int64), 2, weights=weights))


# ---------------------------------------------------------------- colour


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_grey_replicated_to_rgb_matches_grey_path(random_weights, scale):
    weights = random_weights("fsrcnn", scale, input_range=(0.0, 1.0))  # grey planes reach the network as they are
    grey = _image("float32", (15, 12), seed=9)
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    out = upscale(rgb, scale, channel_axis=-1, weights=weights, clip=False)
    y = rgb2ycbcr(rgb)[..., 0] / 255  # independent BT.601 reference
    y_up = upscale(y.astype(np.float32), scale, weights=weights, clip=False)
    expected = (y_up - 16 / 255) * 255 / 219  # R = G = B when Cb = Cr = 128
    for channel in range(3):
        assert_allclose(out[..., channel], expected, rtol=0, atol=2e-5)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_grey_reaches_the_network_in_the_range_of_its_weights(random_weights, dtype):
    """Photo-luma weights see a grey image mapped into 16..235 of 255, and the result is mapped back."""
    a, b = 16 / 255, 235 / 255
    luma, full = random_weights("fsrcnn", 3, input_range=(a, b)), random_weights("fsrcnn", 3, input_range=(0.0, 1.0))
    image = _image(dtype, (13, 11), seed=12)
    unit = upscale(image, 3, weights=full, clip=False)  # [0, 1] units, as the network sees them
    low, high = _upscale.intensity_range(image)
    mapped = ((image - low) / (high - low) * (b - a) + a).astype(np.float32)
    expected = (upscale(mapped, 3, weights=full, clip=False) - a) / (b - a)
    expected = expected * (high - low) / (1.0 if dtype == "float32" else np.iinfo(dtype).max) + low / (
        1.0 if dtype == "float32" else np.iinfo(dtype).max
    )
    got = upscale(image, 3, weights=luma, clip=False)
    assert_allclose(got, expected, rtol=0, atol=5e-5)
    assert np.abs(got - unit).max() > 1e-3  # the mapping changes what the network sees


def test_rgb_ignores_the_input_range_of_its_weights(random_weights):
    """The luma of RGB is already photo luma: RGB keeps its exact behaviour whatever the weights record."""
    rgb = _image("uint8", (12, 10, 3), seed=13)
    luma = upscale(rgb, 2, channel_axis=-1, weights=random_weights("fsrcnn", 2))
    full = upscale(rgb, 2, channel_axis=-1, weights=random_weights("fsrcnn", 2, input_range=(0.0, 1.0)))
    assert_array_equal(luma, full)


def test_black_background_gains_from_the_range_of_the_weights():
    """Bright blobs on black, as fluorescence: the photo weights beat cubic splines, and the network fed raw."""
    from skimage.filters import gaussian

    from skfsrcnn.evaluate import evaluate, library_upscaler, model_upscaler, spline_upscaler
    from skfsrcnn.pretrained import load_model

    rng = np.random.default_rng(14)
    hr = np.zeros((96, 96))
    rows, cols = np.mgrid[:96, :96]
    for r, c, radius, level in zip(*rng.uniform((8, 8, 3, 0.3), (88, 88, 9, 1.0), (12, 4)).T):
        hr[(rows - r) ** 2 + (cols - c) ** 2 < radius**2] = level
    blobs = [("blobs", np.round(gaussian(hr, 1.0) * 255).astype(np.uint8))]

    def score(upscaler):
        return evaluate(upscaler, blobs, 3, with_ssim=False)[0][1]

    ours = score(library_upscaler("fsrcnn-x3", 3))  # upscale as users call it
    assert ours > score(spline_upscaler(3)) + 0.5
    assert ours > score(model_upscaler(load_model("fsrcnn-x3"))) + 0.5  # the network fed raw intensities


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_rgb_is_network_on_luma_plus_bicubic_chroma(random_weights, scale):
    weights = random_weights("fsrcnn", scale, input_range=(0.0, 1.0))  # grey planes reach the network as they are
    rgb = _image("float64", (14, 11, 3), seed=10)
    out = upscale(rgb, scale, channel_axis=-1, weights=weights, clip=False)
    ycbcr = rgb2ycbcr(rgb) / 255
    out_ycbcr = rgb2ycbcr(out) / 255
    y_up = upscale(ycbcr[..., 0], scale, weights=weights, clip=False)
    assert_allclose(out_ycbcr[..., 0], y_up, rtol=0, atol=2e-5)
    assert_allclose(out_ycbcr[..., 1:], imresize(ycbcr[..., 1:], scale), rtol=0, atol=2e-5)


def test_rgba_alpha_is_bicubic(weights):
    rgba = _image("float32", (12, 13, 4), seed=11)
    out = upscale(rgba, 2, channel_axis=-1, weights=weights, clip=False)
    assert_allclose(out[..., 3], imresize(rgba[..., 3], 2), rtol=0, atol=1e-6)
    rgb_only = upscale(rgba[..., :3], 2, channel_axis=-1, weights=weights, clip=False)
    assert_allclose(out[..., :3], rgb_only, rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("channels", [2, 3, 4, 5])
def test_independent_channels(weights, dtype, channels):
    image = _image(dtype, (12, 10, channels), seed=12)
    rgb = False if channels in (3, 4) else None
    out = upscale(image, 2, channel_axis=-1, weights=weights, rgb=rgb, clip=False)
    for c in range(channels):  # (the clip range is global, so compare unclipped)
        expected = upscale(image[..., c], 2, weights=weights, clip=False)
        assert_allclose(out[..., c], expected, rtol=0, atol=1e-6)


def test_rgb_false_differs_from_rgb(weights):
    image = _image("uint8", (12, 10, 3), seed=13)
    rgb = upscale(image, 2, channel_axis=-1, weights=weights)
    channels = upscale(image, 2, channel_axis=-1, weights=weights, rgb=False)
    assert np.abs(rgb - channels).max() > 1e-3


def _with_global_extremes(image, low, high):
    """Put ``low`` and ``high`` in every plane, so per-plane and global ranges agree."""
    image = image.copy()
    image[..., 0, 0] = low
    image[..., 0, 1] = high
    return image


def test_planes_are_independent(weights):
    stack = _with_global_extremes(_image("uint16", (4, 11, 12), seed=14), 50, 61000)
    out = upscale(stack, 2, weights=weights)
    for z in range(len(stack)):
        assert_allclose(out[z], upscale(stack[z], 2, weights=weights), rtol=0, atol=1e-6)


def test_channels_and_planes_with_channel_axis_0(weights):
    image = _with_global_extremes(_image("uint16", (2, 3, 11, 12), seed=15), 50, 61000)
    out = upscale(image, 2, channel_axis=0, weights=weights)
    assert out.shape == (2, 3, 22, 24)
    for c in range(2):
        for z in range(3):
            assert_allclose(out[c, z], upscale(image[c, z], 2, weights=weights), rtol=0, atol=1e-6)


def test_plane_scaling_is_global(weights):
    """A dim plane in a stack is mapped with the stack's range, not its own."""
    stack = np.stack([_image("uint16", (11, 12), seed=16) // 100, _image("uint16", (11, 12), seed=17)])
    out = upscale(stack, 2, weights=weights, preserve_range=True, clip=False)
    low, high = float(stack.min()), float(stack.max())
    for z in range(2):
        unit = upscale((stack[z] - low) / (high - low), 2, weights=weights, clip=False)
        assert_allclose(out[z], unit * (high - low) + low, rtol=1e-5, atol=1e-2)
    alone = upscale(stack[0], 2, weights=weights, preserve_range=True, clip=False)
    assert np.abs(alone - out[0]).max() > 1  # per-plane scaling would differ


# ---------------------------------------------------------------- upscale_steps


def test_upscale_steps_returns_the_upscale_result(weights):
    image = _image("uint16", (3, 40, 35), seed=18)
    out, steps = _drain(upscale_steps(image, 2, weights=weights, tile_size=16))
    total = steps[-1][1]
    assert total >= 9
    assert steps == [(i, total) for i in range(1, total + 1)]
    assert_array_equal(out, upscale(image, 2, weights=weights, tile_size=16))


def test_closing_upscale_steps_early_has_no_side_effects(weights):
    image = _image("float32", (40, 40), seed=19)
    original = image.copy()
    reference = upscale(image, 2, weights=weights, tile_size=16)
    steps = upscale_steps(image, 2, weights=weights, tile_size=16)
    assert next(steps) == (1, 9)
    steps.close()
    with pytest.raises(StopIteration):
        next(steps)
    assert_array_equal(image, original)
    assert_array_equal(upscale(image, 2, weights=weights, tile_size=16), reference)


def test_upscale_steps_reports_errors_by_the_first_step():
    with pytest.raises(ValueError, match="`scale`"):
        next(upscale_steps(np.zeros((10, 10)), 7))


# ---------------------------------------------------------------- device and cache


def test_device_none_resolves_to_the_best_available(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert _validate.device(None) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert _validate.device(None) == torch.device("cuda")


def test_device_none_is_cpu_here():
    import torch

    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("an accelerator is available")
    assert _validate.device(None) == torch.device("cpu")


@pytest.mark.parametrize("device", ["cpu", None])
def test_explicit_and_default_device_agree(weights, device):
    import torch

    image = _image("uint8", (12, 12), seed=20)
    if device is None and (torch.cuda.is_available() or torch.backends.mps.is_available()):
        pytest.skip("default device is an accelerator")
    assert_array_equal(
        upscale(image, 2, weights=weights, device=device),
        upscale(image, 2, weights=weights, device=torch.device("cpu")),
    )


@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_without_cuda_is_a_clear_error(weights, monkeypatch, device):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"`device`.*no CUDA GPU.*device='cpu'"):
        upscale(np.zeros((10, 10)), 2, weights=weights, device=device)


def test_models_are_cached_between_calls(random_weights, tmp_path, monkeypatch):
    import torch

    from skfsrcnn import pretrained

    path = tmp_path / "mine.safetensors"
    shutil.copy(random_weights("fsrcnn-s", 3), path)
    reads = []
    real = pretrained._read_weights
    monkeypatch.setattr(pretrained, "_read_weights", lambda p: reads.append(p) or real(p))
    image = _image("uint8", (10, 10), seed=21)
    first = upscale(image, 3, weights=path)
    second = upscale(image, 3, weights=str(path))
    assert len(reads) == 1
    assert_array_equal(first, second)
    cpu = torch.device("cpu")
    assert _upscale._network(str(path), "fsrcnn", 3, cpu)[0] is _upscale._network(str(path), "fsrcnn", 3, cpu)[0]
    assert _upscale._network(None, "fsrcnn-s", 2, cpu)[0] is _upscale._network(None, "fsrcnn-s", 2, cpu)[0]


def test_rewritten_weights_file_is_reloaded(random_weights, tmp_path):
    path = tmp_path / "run.safetensors"
    image = _image("uint8", (10, 10), seed=22)
    shutil.copy(random_weights("fsrcnn-s", 2, seed=0), path)
    before = upscale(image, 2, weights=path)
    shutil.copy(random_weights("fsrcnn-s", 2, seed=1), path)
    os.utime(path, ns=(0, os.stat(path).st_mtime_ns + 10**9))  # a new mtime even on coarse clocks
    after = upscale(image, 2, weights=path)
    assert_array_equal(after, upscale(image, 2, weights=random_weights("fsrcnn-s", 2, seed=1)))
    assert np.abs(after - before).max() > 1e-3


def test_value_range_scales_a_plane_like_the_whole(weights):
    """A plane upscaled with the whole image's extrema equals that plane of the whole."""
    stack = _image("uint16", (2, 14, 12), seed=30)
    whole = upscale(stack, 2, weights=weights, preserve_range=True)
    plane = upscale(stack[1], 2, weights=weights, preserve_range=True, value_range=(stack.min(), stack.max()))
    assert_allclose(plane, whole[1], rtol=0, atol=1e-3)


@pytest.mark.parametrize("bad", [(1.0, 0.0), (0.0, np.nan), "ab", (0.0,)])
def test_bad_value_range_is_a_clear_error(weights, bad):
    with pytest.raises(ValueError, match=r"`value_range` must be \(minimum, maximum\)"):
        upscale(np.zeros((10, 10)), 2, weights=weights, value_range=bad)


def test_upscale_steps_takes_value_range_and_checks_it_at_the_first_step(weights):
    stack = _image("uint16", (2, 14, 12), seed=31)
    whole = upscale(stack, 2, weights=weights, preserve_range=True)
    steps = upscale_steps(stack[0], 2, weights=weights, preserve_range=True, value_range=(stack.min(), stack.max()))
    assert_allclose(run_to_end(steps), whole[0], rtol=0, atol=1e-3)
    bad = upscale_steps(stack[0], 2, weights=weights, value_range=(1.0, 0.0))  # nothing checked yet
    with pytest.raises(ValueError, match=r"`value_range` must be \(minimum, maximum\)"):
        next(bad)
