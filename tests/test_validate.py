"""Bad input to ``upscale`` (issue 2 item 7): each error names the parameter and the fix."""

import numpy as np
import pytest

from skfsrcnn import _validate, upscale


@pytest.fixture(scope="module")
def weights(random_weights):
    return random_weights("fsrcnn-s", 2)


GOOD = np.zeros((10, 12), np.uint8)


@pytest.mark.parametrize(
    "scale, error, match",
    [
        (5, ValueError, r"`scale`=5 has no weights; use one of 2, 3, 4"),
        (1, ValueError, r"`scale`=1"),
        (0, ValueError, r"`scale`=0"),
        (-2, ValueError, r"`scale`=-2"),
        (2.5, TypeError, r"`scale` must be an integer .*got 2\.5"),
        (True, TypeError, r"`scale` must be an integer .*got True"),
        ("2", TypeError, r"`scale` must be an integer"),
        (None, TypeError, r"`scale` must be an integer"),
    ],
)
def test_bad_scale(scale, error, match):
    with pytest.raises(error, match=match):
        upscale(GOOD, scale)


@pytest.mark.parametrize("scale", [2, 2.0, np.int64(3), np.uint8(4)])
def test_integer_like_scales_are_accepted(scale):
    assert _validate.scale(scale) == int(scale)


def test_scale_with_own_weights_must_match_the_file(random_weights):
    with pytest.raises(ValueError, match=r"trained for scale 3, but `scale`=2"):
        upscale(GOOD, 2, weights=random_weights("fsrcnn-s", 3))
    with pytest.raises(ValueError, match=r"`scale`=9"):
        upscale(GOOD, 9, weights=random_weights("fsrcnn-s", 3))


@pytest.mark.parametrize("channels", [1, 2, 5])
def test_rgb_true_needs_three_or_four_channels(weights, channels):
    image = np.zeros((10, 10, channels), np.uint8)
    match = rf"`rgb`=True needs 3 \(RGB\) or 4 \(RGBA\) channels, got {channels}.*rgb=False"
    with pytest.raises(ValueError, match=match):
        upscale(image, 2, channel_axis=-1, weights=weights, rgb=True)


@pytest.mark.parametrize(
    "shape, channel_axis, match",
    [
        ((10,), None, r"`image` of shape \(10,\) needs at least two spatial axes"),
        ((10, 3), -1, r"needs at least two spatial axes \(a 2-D image with channel_axis set"),
        ((), None, r"`image`"),
        ((0, 10), None, r"`image` of shape \(0, 10\) is empty"),
        ((3, 0, 10), None, r"is empty"),
        ((10, 10, 0), -1, r"is empty"),
        ((4, 10), None, r"`image` is 4x10 pixels .*at least 5x5"),
        ((10, 4), None, r"10x4 pixels"),
        ((3, 4, 4), None, r"4x4 pixels"),
        ((4, 4, 3), None, r"If the last axis holds colour channels, pass channel_axis=-1"),
        ((3, 4, 10), 0, r"4x10 pixels"),
    ],
)
def test_bad_shapes(weights, shape, channel_axis, match):
    with pytest.raises(ValueError, match=match):
        upscale(np.zeros(shape, np.float32), 2, channel_axis=channel_axis, weights=weights)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_nan_and_inf(weights, bad, dtype):
    image = np.zeros((10, 10), dtype)
    image[3, 4] = bad
    with pytest.raises(ValueError, match=r"`image` contains NaN or infinite values.*nan_to_num"):
        upscale(image, 2, weights=weights)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((10, 10), bool),
        np.zeros((10, 10), np.complex64),
        np.zeros((10, 10), np.complex128),
        np.zeros((10, 10), object),
        np.zeros((10, 10), "U1"),
        np.zeros((10, 10), "datetime64[s]"),
    ],
    ids=["bool", "complex64", "complex128", "object", "str", "datetime"],
)
def test_non_image_dtypes(weights, image):
    with pytest.raises(TypeError, match=r"`image` has dtype .*, which is not an image type"):
        upscale(image, 2, weights=weights)


@pytest.mark.parametrize("image", ["image.png", b"bytes", 3.0, None, {"a": 1}])
def test_non_array_image(weights, image):
    with pytest.raises(TypeError, match=r"`image` must be a numpy or dask array"):
        upscale(image, 2, weights=weights)


@pytest.mark.parametrize(
    "shape, channel_axis, error, match",
    [
        ((10, 10, 3), 3, ValueError, r"`channel_axis`=3 is out of range .*3 dimensions.*\[-3, 2\]"),
        ((10, 10, 3), -4, ValueError, r"`channel_axis`=-4 is out of range"),
        ((10, 10), 5, ValueError, r"`channel_axis`=5"),
        ((10, 10, 3), 1.0, TypeError, r"`channel_axis` must be an int or None, got 1\.0"),
        ((10, 10, 3), True, TypeError, r"`channel_axis` must be an int or None, got True"),
        ((10, 10, 3), "last", TypeError, r"`channel_axis`"),
    ],
)
def test_bad_channel_axis(weights, shape, channel_axis, error, match):
    with pytest.raises(error, match=match):
        upscale(np.zeros(shape, np.uint8), 2, channel_axis=channel_axis, weights=weights)


@pytest.mark.parametrize("channel_axis, expected", [(None, None), (0, 0), (-1, 2), (np.int64(-3), 0)])
def test_channel_axis_normalised(channel_axis, expected):
    assert _validate.channel_axis(channel_axis, 3) == expected


@pytest.mark.parametrize(
    "tile_size, error, match",
    [
        (8, ValueError, r"`tile_size`=8 is too small.*at least 16.*None for no tiling"),
        (15, ValueError, r"`tile_size`=15"),
        (0, ValueError, r"`tile_size`=0"),
        (-64, ValueError, r"`tile_size`=-64"),
        (64.0, TypeError, r"`tile_size` must be an int or None, got 64\.0"),
        (True, TypeError, r"`tile_size` must be an int or None"),
        ("512", TypeError, r"`tile_size`"),
    ],
)
def test_bad_tile_size(weights, tile_size, error, match):
    with pytest.raises(error, match=match):
        upscale(GOOD, 2, weights=weights, tile_size=tile_size)


@pytest.mark.parametrize("tile_size, expected", [(None, None), (16, 16), (np.int32(100), 100)])
def test_good_tile_sizes(tile_size, expected):
    assert _validate.tile_size(tile_size) == expected


def test_missing_weights_file(tmp_path):
    missing = tmp_path / "nope.safetensors"
    match = r"`weights`=.*nope\.safetensors.* is neither a registered name .*nor an existing file"
    with pytest.raises(ValueError, match=match):
        upscale(GOOD, 2, weights=missing)


def test_weights_file_with_wrong_suffix(tmp_path):
    path = tmp_path / "weights.txt"
    path.write_text("not weights")
    with pytest.raises(ValueError, match=r"`weights` file .*weights\.txt.* must end in \.safetensors"):
        upscale(GOOD, 2, weights=path)


@pytest.mark.parametrize("model", ["srcnn", "FSRCNN", "fsrcnn-x2", ""])
def test_unknown_model_name(model):
    with pytest.raises(
        ValueError, match=r"`model`=.* is unknown; use one of fsrcnn, fsrcnn-fluo, fsrcnn-s, fsrcnn-s-fluo\."
    ):
        upscale(GOOD, 2, model=model)


@pytest.mark.parametrize("device", ["banana", "gpu", 3.5])
def test_bad_device(weights, device):
    with pytest.raises(ValueError, match=r"`device` must be None, 'cpu', 'cuda'"):
        upscale(GOOD, 2, weights=weights, device=device)


def test_mps_without_mps(weights, monkeypatch):
    import torch

    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"`device`='mps' but MPS is not available; use device='cpu'"):
        upscale(GOOD, 2, weights=weights, device="mps")


# ---- issue 58: array types and devices torch knows but cannot use here


def test_a_masked_array_that_masks_pixels_is_refused():
    image = np.ma.masked_array(np.full((8, 8), np.nan), mask=np.ones((8, 8), bool))
    with pytest.raises(ValueError, match=r"masked array with 64 masked pixel\(s\); .*image\.filled"):
        _validate.as_array(image)


def test_a_masked_array_that_masks_nothing_is_its_data():
    data = np.arange(64.0).reshape(8, 8)
    for mask in (np.ma.nomask, np.zeros((8, 8), bool)):
        result = _validate.as_array(np.ma.masked_array(data, mask=mask))
        assert type(result) is np.ndarray and np.array_equal(result, data)


def test_matrix_and_subclasses_become_plain_arrays():
    class Tagged(np.ndarray):
        pass

    data = np.arange(64.0).reshape(8, 8)
    with pytest.warns(PendingDeprecationWarning):
        matrix = np.matrix(data)
    for image in (matrix, data.view(Tagged)):
        result = _validate.as_array(image)
        assert type(result) is np.ndarray and np.array_equal(result, data)


@pytest.mark.parametrize("value, what", [("meta", "holds no data"), ("xla", "cannot run skfsrcnn here")])
def test_devices_torch_knows_but_cannot_use_here(value, what):
    with pytest.raises(ValueError, match=rf"`device`='{value}': torch knows '{value}' devices but one {what}"):
        _validate.device(value)
