"""Self-ensemble (issue 55): the 8 transforms, the running statistics, and upscale's ensemble and uncertainty."""

import dask
import dask.array as da
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skfsrcnn import run_to_end, upscale, upscale_steps
from skfsrcnn._ensemble import DIHEDRAL, Members, transformed, transforms

#: float32 tolerance of tiled against untiled (the issue's bound).
ATOL = 1e-5


@pytest.fixture(scope="module", params=[2, 3, 4])
def scale(request):
    return request.param


@pytest.fixture(scope="module")
def weights(random_weights, scale):
    """Random FSRCNN-s weights: far from any symmetry, so the 8 members differ."""
    return random_weights("fsrcnn-s", scale, seed=scale)


def _image(shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def _members(image, scale, weights):
    """The 8 members computed one by one: the network on each transformed image, turned back."""
    out = []
    for transform in DIHEDRAL:
        turned = np.ascontiguousarray(transform.apply(image))
        out.append(transform.undo(upscale(turned, scale, weights=weights, tile_size=None, clip=False)))
    return np.stack(out)


# ---------------------------------------------------------------- transforms and statistics


def test_the_eight_transforms_are_distinct_and_undo_themselves():
    batch = np.arange(2 * 3 * 5).reshape(2, 3, 5)
    images = {transform.apply(batch).tobytes() + bytes(transform.apply(batch).shape) for transform in DIHEDRAL}
    assert len(DIHEDRAL) == len(images) == 8
    for transform in DIHEDRAL:
        assert_array_equal(transform.undo(transform.apply(batch)), batch)
    assert transforms(False) == DIHEDRAL[:1]


def test_transformed_network_sees_the_transformed_non_square_input():
    seen = []

    def network(batch):
        seen.append(batch.shape)
        return np.repeat(np.repeat(batch, 2, axis=-2), 2, axis=-1) + np.arange(batch.shape[-1] * 2)

    batch = np.random.default_rng(0).random((1, 3, 5))
    for transform in DIHEDRAL:
        result = transformed(network, transform)(batch)
        assert result.shape == (1, 6, 10)
    assert sorted(set(seen)) == [(1, 3, 5), (1, 5, 3)]


def test_members_give_the_mean_and_the_spread_of_the_values():
    values = np.random.default_rng(1).normal(3.0, 2.0, (8, 4, 5))
    mean, spread = np.empty((4, 5)), np.empty((4, 5))
    members = Members(mean, spread)
    for member, value in enumerate(values):
        members.add(np.s_[:], value, member)
    assert_allclose(mean, values.mean(axis=0))
    assert_allclose(np.sqrt(spread / 8), values.std(axis=0))


# ---------------------------------------------------------------- upscale(ensemble=True)


def test_ensemble_is_the_mean_of_the_eight_members(scale, weights):
    image = _image((21, 26), seed=scale)
    members = _members(image, scale, weights)
    out, uncertainty = upscale(
        image, scale, weights=weights, ensemble=True, return_uncertainty=True, tile_size=None, clip=False
    )
    assert_allclose(out, members.mean(axis=0), atol=ATOL)
    assert_allclose(uncertainty, members.std(axis=0), atol=ATOL)
    assert uncertainty.min() >= 0 and uncertainty.mean() > 1e-3  # random weights are no symmetric function
    single = upscale(image, scale, weights=weights, tile_size=None, clip=False)
    assert np.abs(out - single).max() > 1e-3


@pytest.mark.parametrize(
    "shape, channel_axis",
    [((37, 45), None), ((45, 37), None), ((2, 33, 41), None), ((33, 41, 3), -1), ((3, 33, 41), 0), ((33, 41, 2), -1)],
)
def test_tiled_ensemble_and_uncertainty_equal_untiled(scale, weights, shape, channel_axis):
    image = _image(shape, seed=len(shape))
    options = dict(weights=weights, ensemble=True, return_uncertainty=True, channel_axis=channel_axis)
    whole, whole_spread = upscale(image, scale, tile_size=None, **options)
    tiled, tiled_spread = upscale(image, scale, tile_size=16, **options)
    assert_allclose(tiled, whole, atol=ATOL)
    assert_allclose(tiled_spread, whole_spread, atol=ATOL)
    rgb = channel_axis is not None and shape[channel_axis] == 3
    expected = tuple(n for axis, n in enumerate(whole.shape) if not (rgb and axis == channel_axis % len(shape)))
    assert whole_spread.shape == expected  # RGB: the spread of the luma, without a channel axis


def test_dask_ensemble_and_uncertainty_equal_numpy(scale, weights):
    image = _image((2, 47, 39, 3), seed=7)
    options = dict(weights=weights, ensemble=True, return_uncertainty=True, channel_axis=-1, tile_size=16)
    expected, expected_spread = upscale(image, scale, **options)
    lazy, lazy_spread = upscale(da.from_array(image, chunks=(1, 20, 17, 3)), scale, **options)
    assert isinstance(lazy, da.Array) and isinstance(lazy_spread, da.Array)
    assert lazy_spread.chunks == tuple(c for c in lazy.chunks[:-1])
    computed, computed_spread = dask.compute(lazy, lazy_spread)
    assert_allclose(computed, expected, atol=ATOL)
    assert_allclose(computed_spread, expected_spread, atol=ATOL)


def test_uncertainty_is_in_the_output_units(random_weights):
    weights = random_weights("fsrcnn-s", 2, seed=5)
    image = (_image((24, 30), seed=3) * 1000 + 200).astype(np.uint16)
    options = dict(weights=weights, ensemble=True, return_uncertainty=True)
    _, kept = upscale(image, 2, preserve_range=True, **options)
    _, unit = upscale(image, 2, **options)
    assert kept.dtype == unit.dtype == np.float32
    assert_allclose(kept, unit * 65535, rtol=1e-4, atol=1e-3)


def test_ensemble_steps_count_eight_passes_per_tile_and_cancel_between_them(random_weights):
    weights = random_weights("fsrcnn-s", 2, seed=2)
    image = _image((40, 40), seed=4)
    steps = upscale_steps(image, 2, weights=weights, tile_size=16, ensemble=True)
    assert next(steps) == (1, 9 * 8)
    assert next(steps) == (2, 9 * 8)
    steps.close()  # mid-ensemble of the first tile: nothing returned, nothing left behind
    with pytest.raises(StopIteration):
        next(steps)
    yielded = []
    out = run_to_end(upscale_steps(image, 2, weights=weights, tile_size=16, ensemble=True), yielded.append)
    assert yielded == [(i, 72) for i in range(1, 73)]
    assert_array_equal(out, upscale(image, 2, weights=weights, tile_size=16, ensemble=True))
