"""Tests for skfsrcnn.resize: MATLAB-compatible bicubic imresize."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skfsrcnn.resize import bicubic_phases, imresize


def _keys_cubic(x):
    x = abs(x)
    if x <= 1:
        return 1.5 * x**3 - 2.5 * x**2 + 1
    if x <= 2:
        return -0.5 * x**3 + 2.5 * x**2 - 4 * x + 2
    return 0.0


def _reference_1d(signal, out_length):
    """Plain-loop MATLAB imresize of a 1-D float signal (independent of the module)."""
    return _reference_1d_scale(signal, out_length, out_length / len(signal))


def _reference_1d_scale(signal, out_length, scale):
    n = len(signal)
    width = 4 / scale if scale < 1 else 4
    out = []
    for i in range(1, out_length + 1):
        centre = i / scale + 0.5 * (1 - 1 / scale)
        total = weight_sum = 0.0
        for k in range(math.floor(centre - width / 2), math.ceil(centre + width / 2) + 1):
            distance = centre - k
            w = scale * _keys_cubic(distance * scale) if scale < 1 else _keys_cubic(distance)
            total += w * signal[min(max(k, 1), n) - 1]
            weight_sum += w
        out.append(total / weight_sum)
    return np.array(out)


@pytest.mark.parametrize("scale", [2, 3, 4, 5, 8])
def test_bicubic_phases_are_imresize_weights(scale):
    """The phase weights (used by SRCNN's upsampling and the colour merge) are imresize's taps."""
    length, q = 12, 5
    phases = bicubic_phases(scale)
    for c in range(q - 2, q + 3):
        impulse = np.zeros(length)
        impulse[c] = 1.0
        response = _reference_1d(impulse, length * scale)  # weight of LR pixel c in every output
        assert_allclose(phases[:, c - q + 2], response[q * scale : (q + 1) * scale], atol=1e-12, rtol=0)


def _pairs(datasets_dir):
    pairs = []
    for name in ("Set5", "Set14"):
        for scale in (2, 3, 4):
            hr_files = sorted((datasets_dir / name / f"image_SRF_{scale}").glob("*_HR.png"))
            assert hr_files, f"no HR files in {name} x{scale}"
            pairs += [(scale, path, path.with_name(path.name.replace("_HR", "_LR"))) for path in hr_files]
    return pairs


def test_reproduces_benchmark_lr_files_bit_exactly(datasets_dir):
    import imageio.v3 as iio

    pairs = _pairs(datasets_dir)
    assert len(pairs) == 3 * (5 + 14)
    greyscale = 0
    for scale, hr_path, lr_path in pairs:
        hr, lr = iio.imread(hr_path), iio.imread(lr_path)
        greyscale += hr.ndim == 2
        out = imresize(hr, 1 / scale)
        assert out.dtype == np.uint8
        assert out.shape == lr.shape, lr_path.name
        assert_array_equal(out, lr, err_msg=lr_path.name)
    assert greyscale > 0  # Set14 greyscale PNGs are part of the check


@pytest.mark.parametrize(("length", "out_length"), [(12, 4), (12, 6), (13, 5), (9, 18), (7, 21), (10, 7)])
def test_float_matches_plain_loop_reference(length, out_length):
    signal = np.random.default_rng(length).random(length)
    image = np.repeat(signal[:, None], 3, axis=1)  # constant along columns
    out = imresize(image, output_shape=(out_length, 3))
    assert out.dtype == np.float64
    for column in range(3):
        assert_allclose(out[:, column], _reference_1d(signal, out_length), atol=1e-12)
    # Columns then rows: the transposed image gives the transposed result.
    assert_allclose(imresize(image.T, output_shape=(3, out_length)), out.T, atol=1e-12)


def test_edges_are_clamped_not_mirrored():
    image = np.zeros((12, 12))
    image[0] = 1.0  # a bright first row; a mirrored border would also see it at row -1, -2
    out = imresize(image, 1 / 3)
    reference = _reference_1d(image[:, 0], 4)
    assert_allclose(out[:, 0], reference, atol=1e-12)


def test_uint8_rounds_half_away_from_zero():
    # Upscaling x2, output row 1 reads rows with weights (-3, 29, 111, -9) / 128:
    # a single 64 gives 29 * 64 / 128 = 14.5 exactly; MATLAB rounds it to 15 (not to even 14).
    image = np.zeros((8, 3), np.uint8)
    image[3] = 64
    exact = imresize(image.astype(np.float64), 2)
    assert np.any(exact == 14.5)
    out = imresize(image, 2)
    assert out.dtype == np.uint8
    assert_array_equal(out, np.floor(np.clip(exact, 0, 255) + 0.5).astype(np.uint8))
    assert_array_equal(out[exact == 14.5], 15)


def test_uint8_rounds_after_each_axis():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (20, 18), dtype=np.uint8)
    out = imresize(image, 1 / 2)
    rows = imresize(image.astype(np.float64), output_shape=(10, 18))
    rows = np.floor(np.clip(rows, 0, 255) + 0.5)
    both = imresize(rows, output_shape=(10, 9))
    # Rounding once at the end would differ somewhere.
    assert not np.array_equal(out, np.floor(np.clip(imresize(image.astype(float), 0.5), 0, 255) + 0.5))
    assert_array_equal(out, np.floor(np.clip(both, 0, 255) + 0.5).astype(np.uint8))


def test_uint8_clips_overshoot():
    image = np.zeros((16, 16), np.uint8)
    image[:, 8:] = 255  # a step: bicubic overshoots both ways
    exact = imresize(image.astype(np.float64), 2)
    assert exact.max() > 255 and exact.min() < 0
    out = imresize(image, 2)
    assert out.min() == 0 and out.max() == 255


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtype_is_kept(dtype):
    image = np.random.default_rng(0).random((15, 12)).astype(dtype)
    out = imresize(image, 1 / 3)
    assert out.dtype == dtype
    assert out.shape == (5, 4)
    assert_allclose(out, imresize(image.astype(np.float64), 1 / 3), atol=1e-5 if dtype == np.float32 else 0)


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, bool])
def test_other_dtypes_become_float64(dtype):
    image = (np.arange(36).reshape(6, 6) % 2).astype(dtype)
    out = imresize(image, 0.5)
    assert out.dtype == np.float64
    assert_allclose(out, imresize(image.astype(np.float64), 0.5))


def test_float_is_not_clipped():
    image = np.zeros((16, 16))
    image[:, 8:] = 1.0
    out = imresize(image, 3)
    assert out.max() > 1.0 and out.min() < 0.0


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_constant_image_is_preserved(scale):
    image = np.full((6 * scale, 5 * scale), 0.3)
    assert_allclose(imresize(image, 1 / scale), 0.3, atol=1e-12)
    assert_allclose(imresize(image, scale), 0.3, atol=1e-12)


@pytest.mark.parametrize(
    ("shape", "scale", "expected"),
    [
        ((255, 255), 1 / 3, (85, 85)),  # 255 * (1/3) = 85.00000000000001 must not give 86
        ((10, 7), 0.5, (5, 4)),  # ceil(3.5) = 4
        ((10, 7), 3, (30, 21)),
        ((12, 12), (0.5, 0.25), (6, 3)),
        ((9, 9), 0.9, (9, 9)),  # ceil(8.1) = 9
        ((100, 50), 0.6, (60, 30)),
    ],
)
def test_output_size_from_scale(shape, scale, expected):
    assert imresize(np.zeros(shape), scale).shape == expected


def test_odd_size_keeps_scale_not_size_ratio():
    # MATLAB uses the given scale (0.5) for a 17-pixel axis, not 9 / 17.
    image = np.random.default_rng(2).random((4, 17))
    assert_allclose(imresize(image, (1, 0.5))[0], _reference_1d_scale(image[0], 9, 0.5), atol=1e-12)


def test_output_shape_instead_of_scale():
    image = np.random.default_rng(0).random((12, 9))
    out = imresize(image, output_shape=(4, 3))
    assert out.shape == (4, 3)
    assert_allclose(out, imresize(image, 1 / 3))
    assert imresize(image, output_shape=(5, 20)).shape == (5, 20)


@pytest.mark.parametrize("axes", [(0, 1), (1, 2), (-2, -1)])
def test_extra_axes_are_carried(axes):
    rng = np.random.default_rng(1)
    planes = rng.integers(0, 256, (3, 12, 9), dtype=np.uint8)
    stack = np.moveaxis(planes, 0, 2) if axes == (0, 1) else planes
    out = imresize(stack, 1 / 3, axes=axes)
    out_planes = np.moveaxis(out, 2, 0) if axes == (0, 1) else out
    assert out_planes.shape == (3, 4, 3)
    for plane, result in zip(planes, out_planes):
        assert_array_equal(result, imresize(plane, 1 / 3))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "scale"),
        ({"scale": 0.5, "output_shape": (4, 4)}, "not both"),
        ({"scale": 0}, "positive"),
        ({"scale": -2}, "positive"),
        ({"scale": (0.5, -1)}, "positive"),
        ({"output_shape": (4, 0)}, "output_shape"),
        ({"output_shape": (4,)}, "output_shape"),
        ({"output_shape": (4, 4, 4)}, "output_shape"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        imresize(np.zeros((8, 8)), **kwargs)


@pytest.mark.parametrize("shape", [(8,), ()])
def test_too_few_dimensions(shape):
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        imresize(np.zeros(shape), 0.5)


def _gathered(image, scale, axes=(0, 1)):
    """imresize through the general gather path only (the reference for the strided one)."""
    from skfsrcnn import resize

    original = resize._period
    resize._period = lambda indices, scale: None
    try:
        return imresize(image, scale, axes=axes)
    finally:
        resize._period = original


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64, np.float16, np.int16])
@pytest.mark.parametrize("scale", [2, 3, 4, 1 / 2, 1 / 3, 1 / 4, (3, 1 / 2)])
@pytest.mark.parametrize(("shape", "axes"), [((13, 17), (0, 1)), ((9, 7, 3), (0, 1)), ((2, 9, 7), (-1, -2))])
def test_integer_scales_are_bit_exact_with_the_gather_path(dtype, scale, shape, axes):
    """Integer and 1/integer scales read strided slices; the arithmetic is unchanged."""
    rng = np.random.default_rng(7)
    if dtype in (np.uint8, np.int16):
        image = rng.integers(0 if dtype == np.uint8 else -300, 256, shape).astype(dtype)
    else:
        image = (rng.random(shape) * 2 - 0.5).astype(dtype)
    out, expected = imresize(image, scale, axes=axes), _gathered(image, scale, axes=axes)
    assert out.dtype == expected.dtype and out.shape == expected.shape
    assert_array_equal(out, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [2, 3, 4, 1 / 3])
def test_large_float_arrays_on_torch_threads_are_bit_exact(dtype, scale, monkeypatch):
    """Big float work runs on torch's threads (when torch is loaded): same bits, NaN kept."""
    pytest.importorskip("torch")
    from skfsrcnn import resize

    calls = []
    multiply = resize._TorchOps.multiply

    def counted(self, *args, **kwargs):
        calls.append(1)
        return multiply(self, *args, **kwargs)

    monkeypatch.setattr(resize._TorchOps, "multiply", counted)
    rng = np.random.default_rng(int(scale * 10))
    side = 300 if scale > 1 else 1200
    image = (rng.random((2, side, side + 7)) * 2 - 0.5).astype(dtype)
    image[1, 17, 33] = np.nan  # zero-weight taps are then not skipped: NaN spreads as in MATLAB
    out = imresize(image, scale, axes=(1, 2))
    assert calls, "the torch path was not taken"
    expected = _gathered(image, scale, axes=(1, 2))
    assert_array_equal(out, expected)
    assert np.isnan(out).any()


@pytest.mark.parametrize("scale", [2, 3, 4, 1 / 3])
def test_signed_zeros_and_tiny_values_are_bit_exact(scale):
    """The strided path starts its sums from the first product, not from +0: same bytes anyway."""
    image = np.zeros((2, 300, 460), np.float32)
    image[..., ::2] = -0.0
    image[..., 5:9] = -1e-30
    image[0, 100:103] = np.float32(1e-40)  # subnormal
    expected = _gathered(image, scale, axes=(1, 2))
    assert imresize(image, scale, axes=(1, 2)).tobytes() == expected.tobytes()
    small = image[0, :20, :30]
    assert imresize(small, scale).tobytes() == _gathered(small, scale).tobytes()
