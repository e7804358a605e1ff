"""Tests for skfsrcnn._tiling: the tile plan, stitching, and tiled == untiled."""

import math

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skfsrcnn import upscale, upscale_steps
from skfsrcnn._tiling import MIN_RETRY_TILE, plan_tiles, upscale_planes
from skfsrcnn.models import FSRCNN, PRESETS, FastFSRCNN

SCALES = (2, 3, 4)


def _local_network(radius, scale, seed=0):
    """A numpy stand-in for the network: a zero-padded (2r+1)^2 filter, then pixel repeat.

    Each output pixel depends on exactly ``radius`` LR pixels of context,
    like FSRCNN with ``halo = radius``.
    """
    kernel = np.random.default_rng(seed).normal(size=(2 * radius + 1, 2 * radius + 1))

    def run(batch):
        batch = np.asarray(batch, np.float64)
        padded = np.pad(batch, ((0, 0), (radius, radius), (radius, radius)))
        rows, cols = batch.shape[-2:]
        out = np.zeros_like(batch)
        for i in range(2 * radius + 1):
            for j in range(2 * radius + 1):
                out += kernel[i, j] * padded[:, i : i + rows, j : j + cols]
        return np.repeat(np.repeat(out, scale, axis=-2), scale, axis=-1)

    return run


def _drain(steps):
    yielded = []
    while True:
        try:
            yielded.append(next(steps))
        except StopIteration as stop:
            return stop.value, yielded


@pytest.mark.parametrize("shape", [(5, 5), (16, 16), (17, 33), (100, 70), (31, 64)])
@pytest.mark.parametrize("tile_size", [5, 16, 17, 64])
@pytest.mark.parametrize("halo", [0, 3, 8])
def test_plan_cores_partition_the_plane(shape, tile_size, halo):
    tiles = plan_tiles(shape, tile_size, halo)
    if shape[0] * shape[1] <= tile_size**2:
        assert len(tiles) == 1
    else:
        assert len(tiles) == math.ceil(shape[0] / tile_size) * math.ceil(shape[1] / tile_size)
    cover = np.zeros(shape, int)
    side = max(shape) if len(tiles) == 1 else tile_size
    for tile in tiles:
        cover[tile.core] += 1
        for core, window, length in zip(tile.core, tile.window, shape):
            assert core.stop - core.start <= side
            assert window.start == max(0, core.start - halo)
            assert window.stop == min(length, core.stop + halo)
    assert_array_equal(cover, 1)


@pytest.mark.parametrize("scale", SCALES)
def test_tile_crops_and_destinations_agree(scale):
    shape = (41, 23)
    for tile in plan_tiles(shape, 16, 5):
        crop = tile.output_crop(scale)
        destination = tile.destination(scale)
        for c, d, w in zip(crop, destination, tile.shape):
            assert c.stop - c.start == d.stop - d.start
            assert 0 <= c.start < c.stop <= w * scale
            assert d.start % scale == 0 and d.stop % scale == 0


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("radius", [1, 4, 8])
@pytest.mark.parametrize("tile_size", [5, 7, 16])
def test_stitching_equals_whole_plane_with_enough_halo(scale, radius, tile_size):
    planes = np.random.default_rng(1).random((2, 29, 23), dtype=np.float32)
    run = _local_network(radius, scale)
    expected = run(planes)
    out, _ = _drain(upscale_planes(planes, scale, run, tile_size, radius))
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-5)
    if radius > 0:
        short, _ = _drain(upscale_planes(planes, scale, run, tile_size, radius - 1))
        assert np.abs(short - expected).max() > 1e-3  # the check above can fail


def test_batching_does_not_change_the_result():
    planes = np.random.default_rng(2).random((5, 30, 30), dtype=np.float32)
    run = _local_network(2, 2)
    single, single_steps = _drain(upscale_planes(planes, 2, run, 16, 2, max_pixels=1))
    batched, batched_steps = _drain(upscale_planes(planes, 2, run, 16, 2, max_pixels=1 << 20))
    assert_array_equal(single, batched)
    assert single_steps == [(i, 20) for i in range(1, 21)]  # 4 tiles x 5 planes
    assert batched_steps == [(i, 4) for i in range(1, 5)]  # 4 tiles, planes batched


def test_out_argument_is_filled_and_returned():
    planes = np.random.default_rng(3).random((1, 20, 12), dtype=np.float32)
    out = np.full((1, 60, 36), np.nan, np.float32)
    result, _ = _drain(upscale_planes(planes, 3, _local_network(1, 3), 8, 1, out=out))
    assert result is out
    assert np.isfinite(out).all()


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_network_halo_is_enough_and_needed(preset, scale):
    """The model's halo gives exact tiles; one pixel less does not."""
    import torch

    torch.manual_seed(0)
    model = FSRCNN.from_preset(preset, scale)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, 0.1)
    network = FastFSRCNN(model.eval())

    def run(batch):
        with torch.inference_mode():
            return network(torch.from_numpy(np.ascontiguousarray(batch))[:, None])[:, 0].numpy()

    planes = np.random.default_rng(4).random((1, 37, 35), dtype=np.float32)
    expected = run(planes)
    out, _ = _drain(upscale_planes(planes, scale, run, 16, network.halo))
    assert np.abs(out - expected).max() <= 1e-5
    short, _ = _drain(upscale_planes(planes, scale, run, 16, network.halo - 1))
    assert np.abs(short - expected).max() > 1e-4


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("shape", [(37, 53), (61, 19)])
def test_tiled_equals_untiled(random_weights, preset, scale, shape):
    weights = random_weights(preset, scale)
    image = np.random.default_rng(5).random(shape, dtype=np.float32)
    whole = upscale(image, scale, weights=weights, tile_size=None, clip=False)
    assert whole.shape == (shape[0] * scale, shape[1] * scale)
    for tile_size in (16, 17, 18, 29, 36, 52):  # cuts at awkward places, tiny last tiles
        tiled = upscale(image, scale, weights=weights, tile_size=tile_size, clip=False)
        assert np.abs(tiled - whole).max() <= 1e-5, tile_size


@pytest.mark.parametrize("scale", SCALES)
def test_tiled_equals_untiled_colour_stacks(random_weights, scale):
    weights = random_weights("fsrcnn", scale)
    rng = np.random.default_rng(6)
    rgb = rng.integers(0, 256, (2, 33, 41, 3), dtype=np.uint8)
    whole = upscale(rgb, scale, channel_axis=-1, weights=weights, tile_size=None)
    tiled = upscale(rgb, scale, channel_axis=-1, weights=weights, tile_size=17)
    assert np.abs(tiled - whole).max() <= 1e-5


def test_intensity_scaling_is_global_not_per_tile(random_weights):
    """Tiles with very different local ranges still give the untiled result."""
    image = np.full((40, 40), 1000, np.uint16)
    image[:20, :20] = np.random.default_rng(7).integers(1000, 1100, (20, 20))
    image[20:, 20:] = np.random.default_rng(8).integers(30000, 60000, (20, 20))
    weights = random_weights("fsrcnn-s", 2)
    whole = upscale(image, 2, weights=weights, tile_size=None, preserve_range=True)
    tiled = upscale(image, 2, weights=weights, tile_size=16, preserve_range=True)
    assert np.abs(tiled - whole).max() <= 1e-5 * image.max()


def test_upscale_steps_counts_tiles(random_weights):
    image = np.random.default_rng(9).random((40, 33), dtype=np.float32)
    out, steps = _drain(upscale_steps(image, 2, weights=random_weights("fsrcnn-s", 2), tile_size=16))
    assert steps == [(i, 9) for i in range(1, 10)]
    assert out.shape == (80, 66)


# ------------------------------------------------------------------ GPU out of memory


def _fails_above(network, max_pixels, calls):
    """``network`` that raises CUDA's out-of-memory error for batches above ``max_pixels`` LR pixels."""
    import torch

    def run(batch):
        calls.append(batch.shape)
        if math.prod(batch.shape) > max_pixels:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return network(batch).astype(np.float32)  # as the real network returns

    return run


@pytest.mark.parametrize("tile_size, max_pixels", [(64, 40 * 40), (100, 2 * 30 * 30), (64, 1200)])
def test_out_of_memory_retries_with_smaller_tiles(tile_size, max_pixels):
    scale, radius = 3, 4
    planes = np.random.default_rng(3).random((2, 90, 77)).astype(np.float32)
    network, calls = _local_network(radius, scale), []
    expected, _ = _drain(upscale_planes(planes, scale, _fails_above(network, math.inf, []), tile_size, radius))
    out, steps = _drain(upscale_planes(planes, scale, _fails_above(network, max_pixels, calls), tile_size, radius))
    assert_array_equal(out, expected)  # every sub-tile keeps its halo
    assert steps[-1][0] == steps[-1][1] == len(steps)  # progress counts the planned tiles
    failed = [shape for shape in calls if math.prod(shape) > max_pixels]
    assert 1 <= len(failed) <= math.ceil(math.log2(tile_size / MIN_RETRY_TILE))  # once per halving, not per tile


def test_out_of_memory_even_on_the_smallest_tiles_is_a_clear_error():
    network, calls = _local_network(2, 2), []
    planes = np.zeros((1, 70, 70), np.float32)
    match = (
        r"The GPU ran out of memory even on tiles of 16x16 input pixels \(`tile_size`=64, halved "
        r"down to the minimum 16\): CUDA out of memory\. .*use device='cpu'"
    )
    with pytest.raises(MemoryError, match=match):
        _drain(upscale_planes(planes, 2, _fails_above(network, 10, calls), 64, 2))
    assert [max(shape[1:]) for shape in calls] == [66, 34, 18]  # 64, then 32, then 16 (+ halo)


def test_other_errors_are_not_retried():
    calls = []

    def broken(batch):
        calls.append(batch.shape)
        raise RuntimeError("device exploded")

    with pytest.raises(RuntimeError, match="device exploded"):
        _drain(upscale_planes(np.zeros((1, 40, 40), np.float32), 2, broken, 16, 2))
    assert len(calls) == 1


def test_upscale_survives_out_of_memory(random_weights, monkeypatch):
    from skfsrcnn import _upscale

    weights = random_weights("fsrcnn-s", 2)
    image = np.random.default_rng(4).integers(0, 65535, (2, 70, 60, 3), dtype=np.uint16)
    expected = upscale(image, 2, weights=weights, channel_axis=-1, tile_size=None)
    calls, real = [], _upscale._run_network
    monkeypatch.setattr(
        _upscale, "_run_network", lambda *args, **kwargs: _fails_above(real(*args, **kwargs), 2 * 40 * 40, calls)
    )
    out = upscale(image, 2, weights=weights, channel_axis=-1, tile_size=None)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-5)
    assert max(math.prod(shape) for shape in calls) > 2 * 40 * 40  # it did run out, then went on
