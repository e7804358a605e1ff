"""Tests for skfsrcnn.models.fsrcnn: the paper's network, presets, receptive field, initialisation."""

import pytest
import torch

from skfsrcnn.models import FSRCNN, PRESETS, FastFSRCNN

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SCALES = (2, 3, 4)


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
def test_receptive_field_is_halo(preset, scale, randomise):
    model = randomise(FSRCNN.from_preset(preset, scale), seed=scale).double().eval()
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
