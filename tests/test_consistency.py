"""consistency_residual (issue 55): the residual of the downscaled output, in the input's units."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skfsrcnn import consistency_residual, upscale
from skfsrcnn.resize import imresize


def test_residual_is_input_minus_bicubic_downscale():
    rng = np.random.default_rng(0)
    image = rng.random((12, 10))
    upscaled = rng.random((36, 30))
    residual, rms = consistency_residual(image, upscaled, 3)
    assert_allclose(residual, image - imresize(upscaled, 1 / 3))
    assert rms == pytest.approx(np.sqrt(np.mean(residual**2)))


@pytest.mark.parametrize("preserve_range", [False, True])
def test_residual_is_in_the_units_of_an_integer_input(preserve_range):
    image = np.random.default_rng(1).integers(0, 4000, (2, 16, 14)).astype(np.uint16)
    upscaled = upscale(image, 2, model="fsrcnn-s", preserve_range=preserve_range)
    residual, rms = consistency_residual(image, upscaled, 2, preserve_range=preserve_range)
    assert residual.shape == image.shape and residual.dtype == np.float64
    assert 1 < rms < 400  # grey levels of a 0..4000 image, whatever the output's units


def test_rgb_residual_has_the_channel_axis_where_given():
    image = np.random.default_rng(2).random((3, 16, 20))
    upscaled = upscale(image, 2, model="fsrcnn-s", channel_axis=0)
    residual, _ = consistency_residual(image, upscaled, 2, channel_axis=0)
    assert residual.shape == image.shape


def test_mismatched_shapes_are_a_clear_error():
    with pytest.raises(ValueError, match=r"`upscaled` has shape \(20, 20\).*\(30, 30\)"):
        consistency_residual(np.zeros((10, 10)), np.zeros((20, 20)), 3)
