"""Tests for skfsrcnn.models: shapes, the fast inference form, receptive field, SRCNN."""

import numpy as np
import pytest
import torch

from skfsrcnn.models import (
    ARCHITECTURES,
    PRESETS,
    SRCNN,
    BicubicUpsample,
    FastFSRCNN,
    FSRCNN,
    build_model,
    deconv_as_subpixel,
    inference_form,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SCALES = (2, 3, 4)


def _randomise(model, seed=0, std=0.1):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)
    return model


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("size", [(1, 1), (5, 5), (7, 10), (8, 9), (16, 13)])
def test_output_is_scale_times_input(preset, scale, size):
    model = FSRCNN.from_preset(preset, scale).eval()
    x = torch.rand(2, 1, *size)
    with torch.no_grad():
        assert model(x).shape == (2, 1, size[0] * scale, size[1] * scale)
        assert FastFSRCNN(model)(x).shape == (2, 1, size[0] * scale, size[1] * scale)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_have_paper_architecture(preset):
    model = FSRCNN.from_preset(preset, 3)
    d, s, m = (PRESETS[preset][k] for k in "dsm")
    assert model.config == {"scale": 3, "d": d, "s": s, "m": m}
    assert model.feature[0].weight.shape == (d, 1, 5, 5)
    assert model.shrink[0].weight.shape == (s, d, 1, 1)
    assert len(model.mapping) == m
    assert all(layer[0].weight.shape == (s, s, 3, 3) for layer in model.mapping)
    assert model.expand[0].weight.shape == (d, s, 1, 1)
    assert model.deconv.weight.shape == (d, 1, 9, 9)
    assert model.deconv.stride == (3, 3)
    # One PReLU slope per channel after every convolution.
    assert model.feature[1].weight.shape == (d,)


def test_paper_presets():
    assert PRESETS["fsrcnn"] == {"d": 56, "s": 12, "m": 4}
    assert PRESETS["fsrcnn-s"] == {"d": 32, "s": 5, "m": 1}


def test_unknown_preset_is_value_error():
    with pytest.raises(ValueError, match="fsrcnn-s"):
        FSRCNN.from_preset("fsrcnn-xl", 3)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_fast_form_equals_reference(preset, scale):
    model = _randomise(FSRCNN.from_preset(preset, scale), seed=scale).eval()
    x = torch.rand(2, 1, 17, 14, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model(x)
        got = FastFSRCNN(model)(x)
    assert expected.abs().max() > 0.1  # the comparison is not between near-zero outputs
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("scale", SCALES)
def test_fast_form_equals_reference_float64(scale):
    model = _randomise(FSRCNN(scale, d=8, s=4, m=2), seed=10 + scale).double().eval()
    x = torch.rand(1, 1, 11, 12, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(FastFSRCNN(model)(x), model(x), atol=1e-12, rtol=0)


@pytest.mark.parametrize("scale", SCALES)
def test_subpixel_conv_matches_conv_transpose(scale):
    """deconv_as_subpixel alone reproduces ConvTranspose2d on any feature map."""
    d = 6
    deconv = torch.nn.ConvTranspose2d(d, 1, 9, stride=scale, padding=4, output_padding=scale - 1)
    deconv = deconv.double()
    x = torch.randn(2, d, 9, 7, dtype=torch.float64)
    out = deconv_as_subpixel(x, deconv.weight, deconv.bias, scale)
    assert out.shape == (2, 1, 9 * scale, 7 * scale)
    with torch.no_grad():
        torch.testing.assert_close(out, deconv(x), atol=1e-12, rtol=0)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_receptive_field_is_halo(preset, scale):
    model = _randomise(FSRCNN.from_preset(preset, scale), seed=scale).double().eval()
    halo = model.halo
    assert FastFSRCNN(model).halo == halo
    size, centre = 2 * halo + 15, halo + 7
    x = torch.rand(1, 1, size, size, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    y = x.clone()
    y[0, 0, centre, centre] += 0.5
    with torch.no_grad():
        change = (model(y) - model(x))[0, 0].abs()
    rows, cols = torch.nonzero(change > 1e-12, as_tuple=True)
    assert len(rows) > 0
    # Distance, in LR pixels, of each changed output pixel from the perturbed LR pixel.
    distance = torch.maximum((rows // scale - centre).abs(), (cols // scale - centre).abs())
    assert int(distance.max()) <= halo, "an output beyond the halo depends on the pixel"
    assert int(distance.max()) == halo, "the halo is larger than the receptive field"


@pytest.mark.parametrize("scale", SCALES)
def test_halo_formula(scale):
    # 2 (5x5 features) + m (3x3 mapping) + the deconvolution's LR reach.
    reach = {2: 2, 3: 2, 4: 1}[scale]
    for m in (0, 1, 4):
        assert FSRCNN(scale, d=4, s=2, m=m).halo == 2 + m + reach


@pytest.mark.parametrize("scale", SCALES)
def test_gradient_flows_through_fast_form(scale):
    torch.manual_seed(scale)
    model = _randomise(FSRCNN(scale, d=8, s=4, m=1), seed=scale)
    reference = _randomise(FSRCNN(scale, d=8, s=4, m=1), seed=scale)
    fast = FastFSRCNN(model)
    x = torch.rand(3, 1, 8, 9)
    target = torch.rand(3, 1, 8 * scale, 9 * scale)
    torch.nn.functional.mse_loss(fast(x), target).backward()
    torch.nn.functional.mse_loss(reference(x), target).backward()
    grads = dict(reference.named_parameters())
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        torch.testing.assert_close(parameter.grad, grads[name].grad, atol=1e-6, rtol=1e-4)
    assert model.deconv.weight.grad.abs().sum() > 0

    before = model.deconv.weight.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    optimizer.step()
    assert not torch.equal(model.deconv.weight, before)
    # The fast form shares the parameters, so it sees the update.
    with torch.no_grad():
        torch.testing.assert_close(fast(x), model(x), atol=1e-5, rtol=0)


def test_reset_parameters_he_and_small_deconv():
    torch.manual_seed(0)
    model = FSRCNN(3).requires_grad_(False)
    assert float(model.deconv.weight.std()) == pytest.approx(0.001, rel=0.1)
    assert torch.count_nonzero(model.deconv.bias) == 0
    # He (kaiming) std for PReLU(0.25): sqrt(2 / (1 + a^2) / fan_in).
    fan_in = 12 * 3 * 3
    expected = (2 / (1 + 0.25**2) / fan_in) ** 0.5
    weights = torch.cat([layer[0].weight.flatten() for layer in model.mapping])
    assert float(weights.std()) == pytest.approx(expected, rel=0.1)


# --- the cached inference plan (no gradients): compact sub-pixel conv, banded streaming ---


def _inference(fast, x):
    with torch.inference_mode():
        return fast(x)


@pytest.mark.parametrize("scale", (2, 3, 4, 5, 8))
@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("band_pixels", [1, 7, 200, 1 << 15])
def test_inference_plan_equals_reference(preset, scale, band_pixels, monkeypatch):
    """Every band height (down to one row per band) streams to the untiled result."""
    import skfsrcnn.models as models

    monkeypatch.setattr(models, "_BAND_PIXELS", band_pixels)
    model = _randomise(FSRCNN.from_preset(preset, scale), seed=scale).eval()
    fast = FastFSRCNN(model)
    generator = torch.Generator().manual_seed(3)
    for shape in [(1, 1, 1, 1), (2, 1, 5, 7), (1, 1, 19, 13), (3, 1, 8, 31)]:
        x = torch.rand(shape, generator=generator)
        with torch.no_grad():
            expected = model(x)
        torch.testing.assert_close(_inference(fast, x), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("scale", SCALES)
def test_inference_plan_float64_without_onednn(scale):
    """float64 (and any non-oneDNN device or dtype) takes the F.conv2d path, same plan."""
    model = _randomise(FSRCNN(scale, d=8, s=4, m=2), seed=20 + scale).double().eval()
    x = torch.rand(2, 1, 23, 17, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(FastFSRCNN(model)(x), model(x), atol=1e-12, rtol=0)


def test_inference_plan_with_onednn_disabled(monkeypatch):
    model = _randomise(FSRCNN.from_preset("fsrcnn-s", 3), seed=4).eval()
    fast = FastFSRCNN(model)
    x = torch.rand(1, 1, 21, 18)
    with torch.no_grad():
        expected = model(x)
        _inference(fast, x)
        monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
        got = fast(x)
    assert not any(op.mkldnn for unit in fast._plan[1].units for op in (*unit.pre, unit.conv))
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("scale", (2, 3, 4, 5, 6, 7, 8))
@pytest.mark.parametrize("fold", [1, 2, 3])
def test_compact_subpixel_conv_matches_conv_transpose(scale, fold):
    """The shifted-window kernel (x3: 3x3 taps, not 4x4), column-folded, is the deconvolution."""
    from torch.nn import functional as F

    from skfsrcnn.models import _compact_subpixel, _phase_windows

    d, rows, cols = 5, 7, 9
    generator = torch.Generator().manual_seed(scale * 10 + fold)
    deconv = torch.nn.ConvTranspose2d(d, 1, 9, stride=scale, padding=4, output_padding=scale - 1).double()
    with torch.no_grad():
        deconv.weight.copy_(torch.randn(deconv.weight.shape, generator=generator, dtype=torch.float64))
        deconv.bias.fill_(0.25)
    x = torch.randn(1, d, rows, cols, generator=generator, dtype=torch.float64)
    width, base, shifts = _phase_windows(scale)
    assert width <= {2: 5, 3: 3, 4: 3}.get(scale, 9)
    weight, bias = _compact_subpixel(deconv.weight.detach(), deconv.bias.detach(), scale, fold)
    extra = max(shifts)
    padded = F.pad(x, (-base, width - 1 + base + extra + fold, -base, width - 1 + base + extra))
    y = F.conv2d(padded, weight, bias, stride=(1, fold))  # y[.., o, p]: LR column fold * p + f
    expected = deconv(x).detach()
    got = torch.empty_like(expected)
    for ry in range(scale):
        for rx in range(scale):
            for q in range(rows):
                for c in range(cols):
                    column = c + shifts[rx]
                    channel = (column % fold) * scale * scale + ry * scale + rx
                    got[0, 0, q * scale + ry, c * scale + rx] = y[0, channel, q + shifts[ry], column // fold]
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)


def test_inference_plan_is_cached_and_follows_weight_changes():
    model = _randomise(FSRCNN.from_preset("fsrcnn-s", 2), seed=5).eval()
    fast = FastFSRCNN(model)
    x = torch.rand(1, 1, 12, 10)
    first = _inference(fast, x)
    plan = fast._plan[1]
    _inference(fast, x)
    assert fast._plan[1] is plan, "the plan must be reused while the weights are unchanged"

    with torch.no_grad():  # in-place edit of one parameter
        model.mapping[0][0].weight.mul_(-1)
    changed = _inference(fast, x)
    assert fast._plan[1] is not plan
    assert not torch.allclose(changed, first)
    with torch.no_grad():
        torch.testing.assert_close(changed, model(x), atol=1e-5, rtol=0)

    other = _randomise(FSRCNN.from_preset("fsrcnn-s", 2), seed=6)
    model.load_state_dict(other.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(_inference(fast, x), other(x), atol=1e-5, rtol=0)


def test_inference_plan_follows_training_steps():
    model = _randomise(FSRCNN(3, d=8, s=4, m=1), seed=7)
    fast = FastFSRCNN(model)
    x, target = torch.rand(2, 1, 9, 8), torch.rand(2, 1, 27, 24)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        before = _inference(fast, x)
        loss = torch.nn.functional.mse_loss(fast(x), target)  # gradients on: differentiable path
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        after = _inference(fast, x)
        assert not torch.allclose(after, before)
        with torch.no_grad():
            torch.testing.assert_close(after, model(x), atol=1e-5, rtol=0)


def test_inference_without_gradients_even_in_train_mode():
    """No gradients wanted (no_grad, or frozen parameters): the plan runs; else autograd."""
    model = _randomise(FSRCNN(2, d=8, s=4, m=1), seed=8)
    fast = FastFSRCNN(model).train()
    x = torch.rand(1, 1, 6, 7)
    assert fast(x).requires_grad
    with torch.no_grad():
        y = fast(x)
    assert not y.requires_grad
    model.requires_grad_(False)
    assert not fast(x).requires_grad
    torch.testing.assert_close(fast(x), y, atol=0, rtol=0)


def test_half_is_ignored_off_cuda_and_pickling_drops_the_plan():
    import copy
    import pickle

    model = _randomise(FSRCNN.from_preset("fsrcnn-s", 3), seed=9).eval()
    fast = FastFSRCNN(model, half=True)
    x = torch.rand(1, 1, 10, 11)
    y = _inference(fast, x)
    assert y.dtype == torch.float32
    for clone in (copy.deepcopy(fast), pickle.loads(pickle.dumps(fast))):
        assert clone._plan == (None, None)
        torch.testing.assert_close(_inference(clone, x), y, atol=0, rtol=0)


def test_inference_output_is_independent_of_batch_and_band():
    """Planes in a batch do not interact, and the band height does not change any value."""
    import skfsrcnn.models as models

    model = _randomise(FSRCNN.from_preset("fsrcnn", 3), seed=11).eval()
    fast = FastFSRCNN(model)
    x = torch.rand(3, 1, 40, 24)
    batched = _inference(fast, x)
    for i in range(3):
        torch.testing.assert_close(_inference(fast, x[i : i + 1]), batched[i : i + 1], atol=1e-6, rtol=0)
    saved = models._BAND_PIXELS
    try:
        models._BAND_PIXELS = 24 * 3 * 5
        torch.testing.assert_close(_inference(fast, x), batched, atol=1e-6, rtol=0)
    finally:
        models._BAND_PIXELS = saved


def test_inference_plan_falls_back_when_onednn_disagrees(monkeypatch):
    from skfsrcnn.models import _Plan

    monkeypatch.setattr(_Plan, "_mkldnn_agrees", lambda self: False)
    model = _randomise(FSRCNN.from_preset("fsrcnn", 4), seed=12).eval()
    fast = FastFSRCNN(model)
    x = torch.rand(1, 1, 15, 12)
    got = _inference(fast, x)
    assert not any(op.mkldnn for unit in fast._plan[1].units for op in (*unit.pre, unit.conv, *unit.post))
    with torch.no_grad():
        torch.testing.assert_close(got, model(x), atol=1e-5, rtol=0)


# --- SRCNN: the baseline, with MATLAB's bicubic upsampling inside ---


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
    assert sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight")) == 8032  # the paper's count


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("size", [(1, 1), (5, 5), (7, 10), (16, 13)])
def test_srcnn_output_is_scale_times_input(scale, size):
    with torch.no_grad():
        assert SRCNN(scale)(torch.rand(2, 1, *size)).shape == (2, 1, size[0] * scale, size[1] * scale)


def test_srcnn_starts_from_bicubic_features():
    """The first layers see MATLAB's bicubic upsampling of the input, as in the paper."""
    from skfsrcnn.resize import imresize

    model = _randomise(SRCNN(3, n1=4, n2=2), seed=4).double().eval()
    image = np.random.default_rng(4).random((6, 7))
    x = torch.from_numpy(image)[None, None]
    bicubic = torch.from_numpy(imresize(image, 3))[None, None]
    with torch.no_grad():
        expected = model.reconstruction(torch.relu(model.mapping(torch.relu(model.extraction(bicubic)))))
        torch.testing.assert_close(model(x), expected, atol=1e-7, rtol=0)


@pytest.mark.parametrize("scale", SCALES)
def test_srcnn_receptive_field_is_halo(scale):
    model = _randomise(SRCNN(scale), seed=scale).double().eval()
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
    assert all(torch.count_nonzero(layer.bias) == 0
               for layer in (model.extraction, model.mapping, model.reconstruction))


def test_inference_form_runs_srcnn_as_it_is():
    model = _randomise(SRCNN(2, n1=8, n2=4), seed=5).eval()
    fast = inference_form(model)
    assert fast is model and (fast.scale, fast.halo) == (2, model.halo)
    assert isinstance(inference_form(FSRCNN(2)), FastFSRCNN)
    x = torch.rand(1, 1, 9, 7)
    with torch.no_grad():
        expected = model(x)
    torch.testing.assert_close(_inference(fast, x), expected, atol=1e-6, rtol=0)
    fast(x).sum().backward()  # with gradients: the model's own autograd
    assert model.reconstruction.weight.grad is not None


def test_build_model():
    assert ARCHITECTURES == ("fsrcnn", "fsrcnn-s", "srcnn")
    assert build_model("fsrcnn", 4).config == {"scale": 4, **PRESETS["fsrcnn"]}
    assert isinstance(build_model("srcnn", 2), SRCNN)
    with pytest.raises(ValueError, match="`name` must be one of .*'srcnn'.*, got 'edsr'"):
        build_model("edsr", 2)


# --- SRCNN weights files: saved, loaded and used wherever FSRCNN's are ---


@pytest.fixture(scope="module")
def srcnn_file(tmp_path_factory):
    """``make(scale)`` -> a safetensors file of a random SRCNN (small n1, n2) and the model."""
    from skfsrcnn.pretrained import save_weights

    folder = tmp_path_factory.mktemp("srcnn")

    def make(scale):
        model = _randomise(SRCNN(scale, n1=16, n2=8), seed=scale).eval()
        path = folder / f"srcnn_x{scale}.safetensors"
        save_weights(model, path, {"note": "random"})
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
def test_srcnn_plain_state_dict_is_recognised(tmp_path, suffix):
    from skfsrcnn.pretrained import load_model

    model = _randomise(SRCNN(3, n1=16, n2=8, f1=7, f3=3), seed=6)
    path = tmp_path / f"srcnn{suffix}"
    torch.save(model.state_dict(), path)
    loaded = load_model(path, scale=3)
    assert loaded.config == model.config


def test_srcnn_training_checkpoint_loads(tmp_path):
    from skfsrcnn.pretrained import load_model

    model = _randomise(SRCNN(2), seed=7)
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
    from skfsrcnn.cli import sample_path
    from skfsrcnn.evaluate import main

    path, _ = srcnn_file(3)
    assert main(["--weights", str(path), "--data", str(sample_path().parent), "--scale", "3",
                 "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert f"{path} on " in out and "mean" in out


def test_fast_form_of_a_model_made_in_inference_mode():
    """Parameters created under ``torch.inference_mode`` have no version counter: still works."""
    with torch.inference_mode():
        net = FSRCNN.from_preset("fsrcnn-s", 2).eval()
        x = torch.rand(1, 1, 12, 10)
        assert torch.allclose(FastFSRCNN(net)(x), net(x), atol=1e-5)
