"""skfsrcnn.degradation: the kernels, the noises, their checks, and their use in training and evaluation."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skfsrcnn.datasets import degrade, degraded_pairs
from skfsrcnn.degradation import Degradation


def _hr(shape=(24, 30), seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_bicubic_is_the_protocols_degradation():
    hr = _hr()
    assert_array_equal(Degradation()(hr, 3), degrade(hr, 3))


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_area_is_the_mean_of_each_block(scale):
    hr = _hr((scale * 5, scale * 7))
    lr = Degradation("area")(hr, scale)
    assert lr.shape == (5, 7)
    assert_allclose(lr[1, 2] * 255, hr[scale : 2 * scale, 2 * scale : 3 * scale].mean())


@pytest.mark.parametrize("scale", [2, 3])
def test_gaussian_samples_the_blur_at_lr_pixel_centres(scale):
    """A constant stays constant; a tiny sigma on an odd scale samples the centre pixel itself."""
    flat = np.full((scale * 6, scale * 6), 100, np.uint8)
    assert_allclose(Degradation("gaussian", sigma=2.0)(flat, scale) * 255, 100)
    hr = _hr((9, 9))
    lr = Degradation("gaussian", sigma=1e-3)(hr, 3)
    assert_allclose(lr * 255, hr[1::3, 1::3], atol=1e-6)


def test_gaussian_noise_is_seeded_per_image():
    hr = _hr()
    noisy = Degradation(noise="gaussian", noise_level=0.05, seed=1)
    assert_array_equal(noisy(hr, 2, 0), noisy(hr, 2, 0))
    assert not np.array_equal(noisy(hr, 2, 0), noisy(hr, 2, 1))
    residual = noisy(hr, 2, 0) - degrade(hr, 2)
    assert abs(residual.std() - 0.05) < 0.01


def test_poisson_noise_shrinks_with_more_photons():
    hr = np.full((60, 60), 128, np.uint8)
    errors = [np.abs(Degradation(noise="poisson", noise_level=level)(hr, 2) - 128 / 255).mean() for level in (10, 1000)]
    assert errors[0] > 5 * errors[1]


@pytest.mark.parametrize(
    "settings, match",
    [
        (dict(kernel="box"), r"`degradation` must be one of"),
        (dict(kernel="gaussian"), r"needs `blur_sigma` > 0"),
        (dict(kernel="area", sigma=1.0), r"`blur_sigma`=1.0 is only used by the 'gaussian'"),
        (dict(noise="speckle"), r"`noise` must be one of"),
        (dict(noise="poisson"), r"`noise_level`=0.0 does not fit `noise`='poisson'"),
        (dict(noise_level=0.1), r"`noise_level`=0.1 does not fit `noise`='none'"),
        (dict(noise="gaussian", noise_level=-1.0), r"`noise_level` must be a finite number >= 0"),
    ],
)
def test_bad_settings_are_clear_errors(settings, match):
    with pytest.raises(ValueError, match=match):
        Degradation(**settings)


def test_area_refuses_sides_that_are_not_multiples():
    with pytest.raises(ValueError, match=r"multiples of `scale`=3, got 10x9; crop it first"):
        Degradation("area")(_hr((10, 9)), 3)


def test_degraded_pairs_use_the_degradation():
    images = [_hr((25, 31), seed) for seed in range(2)]
    pairs = degraded_pairs(images, 3, Degradation("area"))
    assert [hr.shape for hr, _ in pairs] == [(24, 30)] * 2
    assert_array_equal(pairs[1][1], Degradation("area")(images[1][:24, :30], 3))


def test_evaluate_uses_the_degradation():
    from skfsrcnn.evaluate import bicubic_upscaler, evaluate

    rows, cols = np.mgrid[:48, :48]
    bench = [("smooth", (127 + 100 * np.sin(rows / 7) * np.cos(cols / 5)).astype(np.uint8))]
    plain = evaluate(bicubic_upscaler(2), bench, 2)[0][1]
    noisy = evaluate(bicubic_upscaler(2), bench, 2, degradation=Degradation(noise="gaussian", noise_level=0.1))[0][1]
    assert noisy < plain - 1
