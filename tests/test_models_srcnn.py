"""Tests for skfsrcnn.models.srcnn: the SRCNN baseline, its bicubic upsampling, weights files."""

import numpy as np
import pytest
import torch

from skfsrcnn.models import SRCNN, BicubicUpsample

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SCALES = (2, 3, 4)


@pytest.mark.parametrize("scale", (2, 3, 4, 5, 8))
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (7, 5), (16, 13)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bicubic_upsample_equals_imresize(scale, shape, dtype):
    from skfsrcnn.resize import imresize

    image = np.random.default_rng(scale).random(shape).astype(dtype)
    upsample = BicubicUpsample(scale).to(torch.float64 if dtype == np.float64 else torch.float32)
    got = upsample(torch.from_numpy(image)[None, None])[0, 0].numpy()
    expected = imresize(image, scale)
    assert got.shape == expected.shape == (shape[0] * scale, shape[1] * scale)
    np.testing.assert_allclose(got, expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("scale", (2, 3, 4))
def test_bicubic_upsample_kernel_is_resize_phases(scale):
    """One bicubic kernel: the upsampling's 5x5 phases are outer products of ``bicubic_phases``."""
    from skfsrcnn.resize import bicubic_phases

    phases = torch.from_numpy(bicubic_phases(scale))
    expected = (phases[:, None, :, None] * phases[None, :, None, :]).float()
    kernel = BicubicUpsample(scale).kernel.reshape(scale, scale, 5, 5)
    torch.testing.assert_close(kernel, expected, atol=0, rtol=0)


def test_bicubic_upsample_is_differentiable_and_not_a_parameter():
    upsample = BicubicUpsample(3)
    assert list(upsample.parameters()) == [] and upsample.state_dict() == {}
    x = torch.rand(2, 1, 5, 6, requires_grad=True)
    upsample(x).sum().backward()
    # Bicubic weights of each output phase sum to one, so every input pixel gets scale**2 in total.
    torch.testing.assert_close(x.grad.sum(), torch.tensor(2 * 5 * 6 * 9.0))


@pytest.mark.parametrize("scale", [0, -2, 2.5, True])
def test_bicubic_upsample_needs_a_positive_integer(scale):
    with pytest.raises(ValueError, match=f"`scale` must be a positive integer, got {scale!r}"):
        BicubicUpsample(scale)


def test_srcnn_has_paper_architecture():
    model = SRCNN(3)
    assert model.config == {"scale": 3, "n1": 64, "n2": 32, "f1": 9, "f2": 1, "f3": 5}
    assert model.extraction.weight.shape == (64, 1, 9, 9)
    assert model.mapping.weight.shape == (32, 64, 1, 1)
    assert model.reconstruction.weight.shape == (1, 32, 5, 5)
    assert sorted(model.state_dict()) == [
        f"{layer}.{kind}" for layer in ("extraction", "mapping", "reconstruction") for kind in ("bias", "weight")
    ]
    assert (
        sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight")) == 8032
    )  # the paper's count


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("size", [(1, 1), (5, 5), (7, 10), (16, 13)])
def test_srcnn_output_is_scale_times_input(scale, size):
    with torch.no_grad():
        assert SRCNN(scale)(torch.rand(2, 1, *size)).shape == (2, 1, size[0] * scale, size[1] * scale)


def test_srcnn_starts_from_bicubic_features(randomise):
    """The first layers see MATLAB's bicubic upsampling of the input, as in the paper."""
    from skfsrcnn.resize import imresize

    model = randomise(SRCNN(3, n1=4, n2=2), seed=4).double().eval()
    image = np.random.default_rng(4).random((6, 7))
    x = torch.from_numpy(image)[None, None]
    bicubic = torch.from_numpy(imresize(image, 3))[None, None]
    with torch.no_grad():
        expected = model.reconstruction(torch.relu(model.mapping(torch.relu(model.extraction(bicubic)))))
        torch.testing.assert_close(model(x), expected, atol=1e-7, rtol=0)


@pytest.mark.parametrize("scale", SCALES)
def test_srcnn_receptive_field_is_halo(scale, randomise):
    model = randomise(SRCNN(scale), seed=scale).double().eval()
    halo = model.halo
    assert halo == {2: 5, 3: 4, 4: 3}[scale]
    size, centre = 2 * halo + 15, halo + 7
    x = torch.rand(1, 1, size, size, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    y = x.clone()
    y[0, 0, centre, centre] += 0.5
    with torch.no_grad():
        change = (model(y) - model(x))[0, 0].abs()
    rows, cols = torch.nonzero(change > 1e-12, as_tuple=True)
    distance = torch.maximum((rows // scale - centre).abs(), (cols // scale - centre).abs())
    assert int(distance.max()) == halo


@pytest.mark.parametrize(("key", "value"), [("f1", 8), ("f2", 0), ("f3", 2.5)])
def test_srcnn_kernels_must_be_odd(key, value):
    with pytest.raises(ValueError, match=f"`{key}` must be an odd positive kernel size, got {value!r}"):
        SRCNN(3, **{key: value})


def test_srcnn_initialisation():
    torch.manual_seed(0)
    model = SRCNN(3).requires_grad_(False)
    assert float(model.reconstruction.weight.std()) == pytest.approx(0.001, rel=0.2)
    fan_in = 64  # He (ReLU) std of the 1x1 mapping: sqrt(2 / fan_in)
    assert float(model.mapping.weight.std()) == pytest.approx((2 / fan_in) ** 0.5, rel=0.1)
    assert all(
        torch.count_nonzero(layer.bias) == 0 for layer in (model.extraction, model.mapping, model.reconstruction)
    )


@pytest.fixture(scope="module")
def srcnn_file(tmp_path_factory, randomise):
    """``make(scale)`` -> a safetensors file of a random SRCNN (small n1, n2) and the model.

    The file records the full intensity range, so grey images reach the network as they are.
    """
    from skfsrcnn.pretrained import save_weights

    folder = tmp_path_factory.mktemp("srcnn")

    def make(scale):
        model = randomise(SRCNN(scale, n1=16, n2=8), seed=scale).eval()
        path = folder / f"srcnn_x{scale}.safetensors"
        save_weights(model, path, {"note": "random"}, input_range=(0.0, 1.0))
        return path, model

    return make


@pytest.mark.parametrize("scale", SCALES)
def test_srcnn_weights_round_trip(srcnn_file, scale):
    from skfsrcnn.pretrained import load_model

    path, model = srcnn_file(scale)
    loaded = load_model(path)
    assert isinstance(loaded, SRCNN) and loaded.config == model.config
    x = torch.rand(1, 1, 8, 9)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    with pytest.raises(ValueError, match=rf"trained for scale {scale}"):
        load_model(path, scale=scale % 4 + 2)


@pytest.mark.parametrize("suffix", [".pt", ".pth"])
def test_srcnn_plain_state_dict_is_recognised(tmp_path, suffix, randomise):
    from skfsrcnn.pretrained import load_model

    model = randomise(SRCNN(3, n1=16, n2=8, f1=7, f3=3), seed=6)
    path = tmp_path / f"srcnn{suffix}"
    torch.save(model.state_dict(), path)
    loaded = load_model(path, scale=3)
    assert loaded.config == model.config


def test_srcnn_training_checkpoint_loads(tmp_path, randomise):
    from skfsrcnn.pretrained import load_model

    model = randomise(SRCNN(2), seed=7)
    path = tmp_path / "checkpoint.pt"
    torch.save({"model": model.state_dict(), "config": {"model": "srcnn", "scale": 2}}, path)
    assert load_model(path).config == model.config


def test_weights_file_of_an_unknown_network(tmp_path):
    from safetensors.torch import save_file

    from skfsrcnn.pretrained import load_model

    path = tmp_path / "edsr.safetensors"
    save_file({"w": torch.zeros(1)}, str(path), metadata={"network": "EDSR", "architecture": "{}"})
    with pytest.raises(ValueError, match=r"holds a 'EDSR' network.*upgrade skfsrcnn"):
        load_model(path, scale=2)


@pytest.mark.parametrize("scale", SCALES)
def test_upscale_with_srcnn_weights_tiles_exactly(srcnn_file, scale):
    from skfsrcnn import upscale

    path, model = srcnn_file(scale)
    image = np.random.default_rng(scale).random((45, 37)).astype(np.float32)
    whole = upscale(image, scale, weights=path, tile_size=None, clip=False)
    with torch.no_grad():
        expected = model(torch.from_numpy(image)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(whole, expected, atol=1e-6)
    tiled = upscale(image, scale, weights=path, tile_size=16, clip=False)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)


def test_evaluate_srcnn_weights(srcnn_file, capsys):
    from skfsrcnn.cli.eval import main
    from skfsrcnn.io import sample_path

    path, _ = srcnn_file(3)
    assert main(["--weights", str(path), "--data", str(sample_path().parent), "--scale", "3", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert f"{path} on " in out and "mean" in out
