"""Tests for skfsrcnn.models.build: networks by name and the form each runs in."""

import pytest
import torch

from skfsrcnn.models import (
    ARCHITECTURES,
    FSRCNN,
    PRESETS,
    SRCNN,
    FastFSRCNN,
    build_model,
    inference_form,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_inference_form_runs_srcnn_as_it_is(randomise):
    model = randomise(SRCNN(2, n1=8, n2=4), seed=5).eval()
    fast = inference_form(model)
    assert fast is model and (fast.scale, fast.halo) == (2, model.halo)
    assert isinstance(inference_form(FSRCNN(2)), FastFSRCNN)
    x = torch.rand(1, 1, 9, 7)
    with torch.no_grad():
        expected = model(x)
    with torch.inference_mode():
        torch.testing.assert_close(fast(x), expected, atol=1e-6, rtol=0)
    fast(x).sum().backward()  # with gradients: the model's own autograd
    assert model.reconstruction.weight.grad is not None


def test_build_model():
    assert ARCHITECTURES == ("fsrcnn", "fsrcnn-s", "srcnn")
    assert build_model("fsrcnn", 4).config == {"scale": 4, **PRESETS["fsrcnn"]}
    assert isinstance(build_model("srcnn", 2), SRCNN)
    with pytest.raises(ValueError, match="`name` must be one of .*'srcnn'.*, got 'edsr'"):
        build_model("edsr", 2)
