"""Tests for skfsrcnn.models.fast: FastFSRCNN equals FSRCNN, trains, caches its plan."""

import pytest
import torch

from skfsrcnn.models import FSRCNN, PRESETS, FastFSRCNN

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SCALES = (2, 3, 4)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_fast_form_equals_reference(preset, scale, randomise):
    model = randomise(FSRCNN.from_preset(preset, scale), seed=scale).eval()
    x = torch.rand(2, 1, 17, 14, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model(x)
        got = FastFSRCNN(model)(x)
    assert expected.abs().max() > 0.1  # the comparison is not between near-zero outputs
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("scale", SCALES)
def test_fast_form_equals_reference_float64(scale, randomise):
    model = randomise(FSRCNN(scale, d=8, s=4, m=2), seed=10 + scale).double().eval()
    x = torch.rand(1, 1, 11, 12, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(FastFSRCNN(model)(x), model(x), atol=1e-12, rtol=0)


@pytest.mark.parametrize("scale", SCALES)
def test_gradient_flows_through_fast_form(scale, randomise):
    torch.manual_seed(scale)
    model = randomise(FSRCNN(scale, d=8, s=4, m=1), seed=scale)
    reference = randomise(FSRCNN(scale, d=8, s=4, m=1), seed=scale)
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


def test_fast_form_of_a_model_made_in_inference_mode():
    """Parameters created under ``torch.inference_mode`` have no version counter: still works."""
    with torch.inference_mode():
        net = FSRCNN.from_preset("fsrcnn-s", 2).eval()
        x = torch.rand(1, 1, 12, 10)
        assert torch.allclose(FastFSRCNN(net)(x), net(x), atol=1e-5)


def _inference(fast, x):
    with torch.inference_mode():
        return fast(x)


@pytest.mark.parametrize("scale", (2, 3, 4, 5, 8))
@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("band_pixels", [1, 7, 200, 1 << 15])
def test_inference_plan_equals_reference(preset, scale, band_pixels, monkeypatch, randomise):
    """Every band height (down to one row per band) streams to the untiled result."""
    from skfsrcnn.models import fast as engine

    monkeypatch.setattr(engine, "_BAND_PIXELS", band_pixels)
    model = randomise(FSRCNN.from_preset(preset, scale), seed=scale).eval()
    fast = FastFSRCNN(model)
    generator = torch.Generator().manual_seed(3)
    for shape in [(1, 1, 1, 1), (2, 1, 5, 7), (1, 1, 19, 13), (3, 1, 8, 31)]:
        x = torch.rand(shape, generator=generator)
        with torch.no_grad():
            expected = model(x)
        torch.testing.assert_close(_inference(fast, x), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("scale", SCALES)
def test_inference_plan_float64_without_onednn(scale, randomise):
    """float64 (and any non-oneDNN device or dtype) takes the F.conv2d path, same plan."""
    model = randomise(FSRCNN(scale, d=8, s=4, m=2), seed=20 + scale).double().eval()
    x = torch.rand(2, 1, 23, 17, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(FastFSRCNN(model)(x), model(x), atol=1e-12, rtol=0)


def test_inference_plan_with_onednn_disabled(monkeypatch, randomise):
    model = randomise(FSRCNN.from_preset("fsrcnn-s", 3), seed=4).eval()
    fast = FastFSRCNN(model)
    x = torch.rand(1, 1, 21, 18)
    with torch.no_grad():
        expected = model(x)
        _inference(fast, x)
        monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
        got = fast(x)
    assert not any(op.mkldnn for unit in fast._plan[1].units for op in (*unit.pre, unit.conv))
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_inference_plan_is_cached_and_follows_weight_changes(randomise):
    model = randomise(FSRCNN.from_preset("fsrcnn-s", 2), seed=5).eval()
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

    other = randomise(FSRCNN.from_preset("fsrcnn-s", 2), seed=6)
    model.load_state_dict(other.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(_inference(fast, x), other(x), atol=1e-5, rtol=0)


def test_inference_plan_follows_training_steps(randomise):
    model = randomise(FSRCNN(3, d=8, s=4, m=1), seed=7)
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


def test_inference_without_gradients_even_in_train_mode(randomise):
    """No gradients wanted (no_grad, or frozen parameters): the plan runs; else autograd."""
    model = randomise(FSRCNN(2, d=8, s=4, m=1), seed=8)
    fast = FastFSRCNN(model).train()
    x = torch.rand(1, 1, 6, 7)
    assert fast(x).requires_grad
    with torch.no_grad():
        y = fast(x)
    assert not y.requires_grad
    model.requires_grad_(False)
    assert not fast(x).requires_grad
    torch.testing.assert_close(fast(x), y, atol=0, rtol=0)


def test_half_is_ignored_off_cuda_and_pickling_drops_the_plan(randomise):
    import copy
    import pickle

    model = randomise(FSRCNN.from_preset("fsrcnn-s", 3), seed=9).eval()
    fast = FastFSRCNN(model, half=True)
    x = torch.rand(1, 1, 10, 11)
    y = _inference(fast, x)
    assert y.dtype == torch.float32
    for clone in (copy.deepcopy(fast), pickle.loads(pickle.dumps(fast))):
        assert clone._plan == (None, None)
        torch.testing.assert_close(_inference(clone, x), y, atol=0, rtol=0)


def test_inference_output_is_independent_of_batch_and_band(randomise):
    """Planes in a batch do not interact, and the band height does not change any value."""
    from skfsrcnn.models import fast as engine

    model = randomise(FSRCNN.from_preset("fsrcnn", 3), seed=11).eval()
    fast = FastFSRCNN(model)
    x = torch.rand(3, 1, 40, 24)
    batched = _inference(fast, x)
    for i in range(3):
        torch.testing.assert_close(_inference(fast, x[i : i + 1]), batched[i : i + 1], atol=1e-6, rtol=0)
    saved = engine._BAND_PIXELS
    try:
        engine._BAND_PIXELS = 24 * 3 * 5
        torch.testing.assert_close(_inference(fast, x), batched, atol=1e-6, rtol=0)
    finally:
        engine._BAND_PIXELS = saved


def test_inference_plan_falls_back_when_onednn_disagrees(monkeypatch, randomise):
    from skfsrcnn.models.fast import _Plan

    monkeypatch.setattr(_Plan, "_mkldnn_agrees", lambda self: False)
    model = randomise(FSRCNN.from_preset("fsrcnn", 4), seed=12).eval()
    fast = FastFSRCNN(model)
    x = torch.rand(1, 1, 15, 12)
    got = _inference(fast, x)
    assert not any(op.mkldnn for unit in fast._plan[1].units for op in (*unit.pre, unit.conv, *unit.post))
    with torch.no_grad():
        torch.testing.assert_close(got, model(x), atol=1e-5, rtol=0)
