"""Back-projection (issue 55): convergence, and tiled == untiled == dask through upscale."""

import dask.array as da
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skfsrcnn import consistency_residual, run_to_end, upscale, upscale_steps
from skfsrcnn._backproject import REACH, back_project, back_project_planes
from skfsrcnn.resize import imresize

ATOL = 1e-5


def _image(shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_back_projection_shrinks_the_residual_each_iteration(scale):
    low = _image((1, 24, 20), seed=scale)
    high = _image((1, 24 * scale, 20 * scale), seed=scale + 10)
    rms = []
    for iterations in range(4):
        result = back_project(low, high, scale, iterations)
        rms.append(np.sqrt(np.mean((low - imresize(result, 1 / scale, axes=(1, 2))) ** 2)))
    assert all(later < earlier * 0.8 for earlier, later in zip(rms, rms[1:]))


def _tiled_and_untiled(scale, iterations):
    low = _image((2, 45, 38), seed=1)
    high = _image((2, 45 * scale, 38 * scale), seed=2)

    def window(index):
        return low[index]

    return run_to_end(back_project_planes(window, high, scale, iterations, 16)), back_project(
        low, high, scale, iterations
    )


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("iterations", [1, 3])
def test_tiles_with_the_halo_give_the_untiled_result(scale, iterations):
    assert_allclose(*_tiled_and_untiled(scale, iterations), atol=ATOL)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_a_halo_one_pixel_short_per_iteration_is_not_exact(scale, monkeypatch):
    monkeypatch.setattr("skfsrcnn._backproject.REACH", REACH - 1)
    tiled, untiled = _tiled_and_untiled(scale, 1)
    assert np.abs(tiled - untiled).max() > 1e-4


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_upscale_back_projection_tiled_equals_untiled_and_dask(random_weights, scale):
    weights = random_weights("fsrcnn-s", scale, seed=3)
    image = _image((2, 41, 35, 3), seed=scale)
    options = dict(weights=weights, back_projection=3, channel_axis=-1, ensemble=True)
    whole = upscale(image, scale, tile_size=None, **options)
    tiled = upscale(image, scale, tile_size=16, **options)
    lazy = upscale(da.from_array(image, chunks=(1, 20, 18, 3)), scale, tile_size=16, **options).compute()
    assert_allclose(tiled, whole, atol=ATOL)
    assert_allclose(lazy, whole, atol=ATOL)


def test_upscale_back_projection_makes_the_output_consistent(random_weights):
    weights = random_weights("fsrcnn-s", 3, seed=4)
    image = (_image((30, 36), seed=5) * 200 + 20).astype(np.uint8)
    rms = [
        consistency_residual(image, upscale(image, 3, weights=weights, back_projection=n, clip=False), 3)[1]
        for n in (0, 2, 10)
    ]
    assert rms[0] > 10 * rms[1] > 0  # random weights are far from consistent
    assert rms[2] < 0.5  # grey levels of 255


def test_back_projection_steps_follow_the_network_passes(random_weights):
    weights = random_weights("fsrcnn-s", 2, seed=6)
    image = _image((40, 40), seed=7)
    yielded = []
    out = run_to_end(upscale_steps(image, 2, weights=weights, tile_size=16, back_projection=2), yielded.append)
    total = 9 + 9  # 9 tiles through the network, then 9 back-projected
    assert yielded == [(i, total) for i in range(1, total + 1)]
    assert_array_equal(out, upscale(image, 2, weights=weights, tile_size=16, back_projection=2))
