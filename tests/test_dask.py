"""Dask front end: lazy, chunked as input x scale, equal to numpy for any chunking, distributed."""

import os

import dask
import dask.array as da
import numpy as np
import pytest
from numpy.testing import assert_allclose

from skfsrcnn import upscale

TILE = 32  # small tiles so that blocks are themselves tiled


def _image(shape, dtype, seed=0, rgb_axis=None):
    """A ramp plus noise: every chunk has its own local range, unlike the global one."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.0, 1.0, shape[-1] if rgb_axis is None else shape[-2])
    if rgb_axis is not None:
        ramp = ramp[:, None]
    data = np.clip(0.7 * ramp + 0.3 * rng.random(shape), 0, 1)
    if np.dtype(dtype).kind == "u":
        return (data * np.iinfo(dtype).max).astype(dtype)
    return (2 * data - 0.5).astype(dtype)  # floats beyond [0, 1]: min/max scaling


def _expected_chunks(chunks, scale, spatial):
    return tuple(tuple(c * scale for c in cs) if axis in spatial else cs for axis, cs in enumerate(chunks))


def _check(image, chunks, scale, weights, spatial, **options):
    expected = upscale(image, scale, weights=weights, tile_size=TILE, **options)
    lazy = da.from_array(image, chunks=chunks)
    result = upscale(lazy, scale, weights=weights, tile_size=TILE, **options)
    assert isinstance(result, da.Array)
    assert result.dtype == expected.dtype
    chunks_in = lazy.chunks
    if options.get("channel_axis") is not None:
        axis = options["channel_axis"] % image.ndim
        chunks_in = tuple((image.shape[axis],) if a == axis else c for a, c in enumerate(chunks_in))
    assert result.chunks == _expected_chunks(chunks_in, scale, spatial)
    computed = result.compute(scheduler="threads")
    assert computed.shape == expected.shape
    assert computed.dtype == expected.dtype
    preserved = options.get("preserve_range") and image.dtype.kind == "u"
    units = np.iinfo(image.dtype).max if preserved else 1  # float32 resolution in original units
    assert_allclose(computed, expected, rtol=0, atol=1e-5 * units)
    assert np.ptp(expected) > 0.05 * units  # the random network does something visible


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("chunks", [7, 13, 50, (13, 7), (61, 5)])
def test_grey_equals_numpy(random_weights, scale, chunks):
    # chunks of 5 and 7 are below the halo (8 at x2 and x3, 7 at x4) and get merged.
    image = _image((61, 53), np.uint16, seed=scale)
    _check(image, chunks, scale, random_weights("fsrcnn", scale), spatial=(0, 1))


@pytest.mark.parametrize("chunks", [(13, 7, 1), (50, 13, 3), (7, 50, 2)])
def test_rgb_equals_numpy(random_weights, chunks):
    image = _image((37, 45, 3), np.float32, rgb_axis=-1).clip(0, 1)
    _check(image, chunks, 3, random_weights("fsrcnn", 3), spatial=(0, 1), channel_axis=-1)


def test_rgba_uint8_equals_numpy(random_weights):
    image = _image((29, 34, 4), np.uint8, rgb_axis=-1)
    _check(image, (13, 7, 4), 2, random_weights("fsrcnn-s", 2), spatial=(0, 1), channel_axis=-1)


def test_independent_channels_first_equals_numpy(random_weights):
    image = _image((2, 33, 40), np.uint16)
    _check(image, (1, 7, 13), 2, random_weights("fsrcnn", 2), spatial=(1, 2), channel_axis=0)


@pytest.mark.parametrize("chunks", [(2, 13, 7), (1, 50, 50), (3, 7, 13)])
def test_zyx_stack_equals_numpy(random_weights, chunks):
    image = _image((3, 41, 39), np.float64)
    _check(image, chunks, 2, random_weights("fsrcnn", 2), spatial=(1, 2))


@pytest.mark.parametrize("chunks", [(3, 7), (6, 50)])
def test_axis_shorter_than_halo(random_weights, chunks):
    image = _image((6, 50), np.uint16)
    _check(image, chunks, 2, random_weights("fsrcnn", 2), spatial=(0, 1))


def test_preserve_range_and_no_clip(random_weights):
    image = _image((30, 31), np.uint16)
    options = dict(preserve_range=True, clip=False)
    _check(image, 13, 2, random_weights("fsrcnn-s", 2), spatial=(0, 1), **options)


def test_global_intensity_scaling(random_weights):
    # The left chunk is dark, the right bright: per-chunk scaling would differ from numpy.
    image = np.zeros((24, 48), np.uint16)
    image[:, :24] = np.random.default_rng(1).integers(0, 1000, (24, 24))
    image[:, 24:] = np.random.default_rng(2).integers(30000, 60000, (24, 24))
    _check(image, (24, 24), 2, random_weights("fsrcnn", 2), spatial=(0, 1))


class _CountingSource:
    """Array-like that counts the reads dask makes of it."""

    def __init__(self, data):
        self.data, self.shape, self.dtype, self.ndim = data, data.shape, data.dtype, data.ndim
        self.reads = 0

    def __getitem__(self, key):
        self.reads += 1
        return self.data[key]


def test_lazy_until_compute(random_weights):
    image = _image((40, 44), np.uint16)
    source = _CountingSource(image)
    lazy = da.from_array(source, chunks=13, meta=np.empty((0, 0), image.dtype))
    result = upscale(lazy, 2, weights=random_weights("fsrcnn-s", 2))
    assert isinstance(result, da.Array)
    assert source.reads == 0
    assert result.shape == (80, 88)
    assert result.chunks == ((26, 26, 26, 2), (26, 26, 26, 10))
    computed = result.compute(scheduler="sync")
    assert source.reads > 0
    assert_allclose(computed, upscale(image, 2, weights=random_weights("fsrcnn-s", 2)), atol=1e-5, rtol=0)


def test_known_value_range_skips_the_reduction(random_weights):
    from skfsrcnn._dask import upscale_dask

    image = _image((30, 30), np.uint16)
    weights = random_weights("fsrcnn-s", 2)
    lazy = da.from_array(image, chunks=10)
    known = upscale_dask(lazy, 2, weights=weights, value_range=(int(image.min()), int(image.max())))
    assert not any(name.startswith(("min-", "max-")) for name in known.__dask_graph__().layers)
    assert_allclose(known.compute(), upscale(image, 2, weights=weights), atol=1e-5, rtol=0)


def test_bad_arguments_raise_before_compute():
    lazy = da.zeros((20, 20), chunks=10, dtype=np.uint8)
    with pytest.raises(ValueError, match="channel_axis"):
        upscale(lazy, 2, channel_axis=2)
    with pytest.raises(ValueError, match="scale"):
        upscale(lazy, 5)
    with pytest.raises(TypeError, match="dtype bool"):
        upscale(da.zeros((20, 20), chunks=10, dtype=bool), 2)
    with pytest.raises(ValueError, match="weights"):
        upscale(lazy, 2, weights="no-such-file.safetensors")


def test_nan_raises_at_compute(random_weights):
    image = np.zeros((20, 20), np.float32)
    image[15, 15] = np.nan
    result = upscale(da.from_array(image, chunks=10), 2, weights=random_weights("fsrcnn-s", 2))
    with pytest.raises(ValueError, match="NaN"):
        result.compute(scheduler="sync")


# --- dask.distributed ---------------------------------------------------------------------


def _model_loads():
    from skfsrcnn import pretrained

    return pretrained._load_cached.cache_info().misses


def test_local_cluster_output_larger_than_worker_memory(tmp_path):
    """Two worker processes with a 700 MB limit upscale into a 750 MB zarr array."""
    import torch
    import zarr
    from distributed import Client, LocalCluster

    from skfsrcnn.models import FSRCNN
    from skfsrcnn.pretrained import save_weights

    # A small network keeps the test fast; the pipeline is the same as for FSRCNN.
    torch.manual_seed(0)
    network = FSRCNN(4, d=8, s=4, m=1)
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.normal_(0, 0.3)
    weights = tmp_path / "small_x4.safetensors"
    save_weights(network, weights)

    size, chunk, limit = 2432, 256, 700e6
    image = np.random.default_rng(0).random((size, size))
    # the global extrema lie inside both windows checked below
    image[0, 0] = image[-1, -1] = 0.0
    image[1, 1] = image[-2, -2] = 1.0
    source = zarr.create_array(tmp_path / "in.zarr", shape=image.shape, chunks=(chunk, chunk), dtype=image.dtype)
    source[:] = image

    # The nanny kills a worker whose memory passes 95 % of the limit, so "no worker was
    # restarted" means every worker stayed below it for the whole computation.
    terminate = {"distributed.worker.memory.terminate": 0.95}
    with (
        dask.config.set(terminate),
        LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            memory_limit=limit,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        # CPU: a CUDA context alone would take most of the 700 MB of host memory
        result = upscale(da.from_zarr(source), 4, weights=weights, tile_size=TILE * 8, device="cpu")
        assert result.nbytes > 1.05 * limit
        # A path, not a zarr.Array: dask rechunks writes into an existing array to its
        # "auto" chunk size (128 MiB), which would exceed the memory limit by design.
        result.to_zarr(str(tmp_path / "out.zarr"), compressors=None)
        assert client.run(os.getpid) == pids, "a worker was restarted"
        assert set(client.run(_model_loads).values()) == {1}, "the model must be loaded once per worker"

    window = 100
    halo = FSRCNN(4, d=8, s=4, m=1).halo
    expected = upscale(image[:window, :window], 4, weights=weights, device="cpu")
    core = (window - halo) * 4
    written = zarr.open_array(tmp_path / "out.zarr", mode="r")
    assert_allclose(written[:core, :core], expected[:core, :core], atol=1e-5, rtol=0)
    assert_allclose(
        written[-8:, -8:], upscale(image[-20:, -20:], 4, weights=weights, device="cpu")[-8:, -8:], atol=1e-5, rtol=0
    )


def test_tasks_carry_the_weights_path_not_the_model(random_weights):
    import pickle

    weights = random_weights("fsrcnn", 2)
    result = upscale(da.zeros((40, 40), chunks=20, dtype=np.uint8), 2, weights=weights)
    graph = dict(result.__dask_graph__())
    size = max(len(pickle.dumps(task)) for key, task in graph.items() if "fsrcnn-upscale" in str(key))
    assert size < 20_000  # the FSRCNN weights alone are ~50 kB
