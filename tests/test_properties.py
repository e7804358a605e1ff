"""Property tests of ``upscale`` (issue 8): random shapes, dtypes, channel axes and tile sizes.

Invariants: the output shape and dtype rules, tiled == untiled, clipping to
the input's range, no change to the input, and channel axes and units that
move with the data. Images are tiny and the weights random (FSRCNN-s), so
each example takes milliseconds.

Hypothesis profiles: ``ci`` (chosen when ``CI=true``) runs 300 examples per
property, 1500 in all (about 15 s on two cores); ``dev`` (the default) runs 25
per property. Choose
one explicitly with ``HYPOTHESIS_PROFILE=ci``.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skfsrcnn import upscale

pytestmark = pytest.mark.usefixtures("one_torch_thread")

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI", "").lower() == "true" else "dev")
)

DTYPES = ("uint8", "uint16", "int16", "float32", "float64")
#: Value ranges of float images: the [0, 1] and [-1, 1] conventions, and other units.
FLOAT_RANGES = ((0.0, 1.0), (-1.0, 1.0), (0.0, 255.0), (-1e3, 1e5), (0.25, 0.25), (7.0, 7.0))


@pytest.fixture(scope="module")
def weights(random_weights):
    """``scale -> weights``: random FSRCNN-s weights for every scale."""
    return {scale: random_weights("fsrcnn-s", scale) for scale in (2, 3, 4)}


@st.composite
def value_ranges(draw, dtype):
    if dtype.kind == "f":
        return draw(st.sampled_from(FLOAT_RANGES))
    info = np.iinfo(dtype)
    bounds = st.integers(int(info.min), int(info.max))
    return tuple(sorted((draw(bounds), draw(bounds))))


@st.composite
def images(draw):
    """``(image, channel_axis)``: 0-2 leading axes, an optional channel axis anywhere, 5-40 px sides."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = (*draw(st.lists(st.integers(1, 3), max_size=2)), draw(st.integers(5, 40)), draw(st.integers(5, 40)))
    channel_axis = None
    channels = draw(st.none() | st.integers(1, 4))
    if channels is not None:
        position = draw(st.integers(0, len(shape)))
        shape = shape[:position] + (channels,) + shape[position:]
        channel_axis = draw(st.sampled_from([position, position - len(shape)]))
    low, high = draw(value_ranges(dtype))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype.kind == "f":
        image = rng.uniform(low, high, shape).astype(dtype)
    else:
        image = rng.integers(low, high, shape, dtype=dtype, endpoint=True)
    return image, channel_axis


scales = st.sampled_from([2, 3, 4])


def _spatial(shape, channel_axis):
    channel = None if channel_axis is None else channel_axis % len(shape)
    return [axis for axis in range(len(shape)) if axis != channel][-2:]


def _units(image, preserve_range):
    if preserve_range or image.dtype.kind == "f":
        return 1.0
    return float(np.iinfo(image.dtype).max)


@given(case=images(), scale=scales, preserve_range=st.booleans(), read_only=st.booleans())
def test_shape_dtype_and_input_untouched(weights, case, scale, preserve_range, read_only):
    """Writeable inputs too: a float32 [0, 1] plane goes to the network without a copy."""
    image, channel_axis = case
    original = image.copy()
    image.setflags(write=not read_only)
    out = upscale(image, scale, channel_axis=channel_axis, weights=weights[scale], preserve_range=preserve_range)
    expected = list(image.shape)
    for axis in _spatial(image.shape, channel_axis):
        expected[axis] *= scale
    assert out.shape == tuple(expected)
    assert out.dtype == (np.float64 if image.dtype == np.float64 else np.float32)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(image, original)


@given(case=images(), scale=scales, tile_size=st.integers(16, 48))
def test_tiled_equals_untiled(weights, case, scale, tile_size):
    image, channel_axis = case
    options = dict(channel_axis=channel_axis, weights=weights[scale])
    tiled = upscale(image, scale, tile_size=tile_size, **options)
    whole = upscale(image, scale, tile_size=None, **options)
    span = max(1.0, (float(image.max()) - float(image.min())) / _units(image, False))
    np.testing.assert_allclose(tiled, whole, rtol=0, atol=1e-5 * span)


@given(case=images(), scale=scales, preserve_range=st.booleans())
def test_output_within_the_input_range(weights, case, scale, preserve_range):
    image, channel_axis = case
    out = upscale(image, scale, channel_axis=channel_axis, weights=weights[scale], preserve_range=preserve_range)
    units = _units(image, preserve_range)
    low, high = float(image.min()) / units, float(image.max()) / units
    if image.dtype.kind == "i" and not preserve_range:
        low = max(low, -1.0)  # as skimage: the most negative integer maps to -1
    slack = 1e-6 * max(1.0, abs(low), abs(high))  # float32 rounding of the bounds
    assert out.min() >= low - slack and out.max() <= high + slack


@given(case=images(), scale=scales, where=st.integers(0, 4))
def test_channel_axis_moves_with_the_data(weights, case, scale, where):
    image, channel_axis = case
    if channel_axis is None:
        image, channel_axis = image[..., None], -1
    target = where % image.ndim
    moved = np.moveaxis(image, channel_axis, target)
    options = dict(weights=weights[scale], tile_size=None)
    out = upscale(moved, scale, channel_axis=target, **options)
    reference = np.moveaxis(upscale(image, scale, channel_axis=channel_axis, **options), channel_axis, target)
    np.testing.assert_allclose(out, reference, rtol=0, atol=1e-6 * max(1.0, float(np.abs(reference).max())))


@given(case=images().filter(lambda case: case[0].dtype.kind in "ui"), scale=scales)
def test_preserve_range_only_changes_units(weights, case, scale):
    image, channel_axis = case
    options = dict(channel_axis=channel_axis, weights=weights[scale])
    units = np.iinfo(image.dtype).max
    kept = upscale(image, scale, preserve_range=True, **options)
    mapped = upscale(image, scale, **options)
    if image.dtype.kind == "i":
        kept = np.maximum(kept / units, -1.0)
    else:
        kept = kept / units
    np.testing.assert_allclose(mapped, kept, rtol=0, atol=1e-6)


# ---- issue 58: float64 offsets and spans, masked arrays


@given(
    seed=st.integers(0, 2**32 - 1),
    offset_exponent=st.integers(-15, 15),
    offset_sign=st.sampled_from([-1.0, 1.0]),
    span_exponent=st.integers(-300, 30),
)
def test_float64_offset_and_span_keep_their_precision(weights, seed, offset_exponent, offset_sign, span_exponent):
    """``upscale(x * span + offset) == upscale(x) * span + offset`` wherever float64 holds the data.

    ``x`` lies in [2, 3], so both it and the shifted image are mapped by
    their own extrema; the offset must be within float64's reach of the span.
    """
    offset, span = offset_sign * 10.0**offset_exponent, 10.0**span_exponent
    shifted_low, shifted_high = 2 * span + offset, 3 * span + offset
    if abs(offset) > span * 1e9 or (0 <= shifted_low and shifted_high <= 1):  # beyond float64, or [0, 1] as is
        return
    x = np.random.default_rng(seed).uniform(2, 3, (12, 10))
    reference = upscale(x, 2, weights=weights[2])
    out = upscale(x * span + offset, 2, weights=weights[2])
    assert np.isfinite(out).all()
    np.testing.assert_allclose((out - offset) / span, reference, rtol=0, atol=1e-4)


@given(seed=st.integers(0, 2**32 - 1), masked_share=st.floats(0, 0.5), fill=st.sampled_from([np.nan, np.inf, 1e300]))
def test_masked_arrays_are_refused_or_upscaled_as_their_data(weights, seed, masked_share, fill):
    rng = np.random.default_rng(seed)
    data = rng.random((12, 10))
    mask = rng.random((12, 10)) < masked_share
    image = np.ma.masked_array(np.where(mask, fill, data), mask=mask)
    if mask.any():
        with pytest.raises(ValueError, match=rf"masked array with {mask.sum()} masked pixel"):
            upscale(image, 2, weights=weights[2])
    else:
        np.testing.assert_array_equal(upscale(image, 2, weights=weights[2]), upscale(data, 2, weights=weights[2]))
