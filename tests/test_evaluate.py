"""Tests for skfsrcnn.evaluate: the benchmark protocol (the command: test_cli_eval.py)."""

import math

import numpy as np
import pytest

from skfsrcnn.datasets import degrade, load_benchmark
from skfsrcnn.evaluate import bicubic_upscaler, evaluate, model_upscaler
from skfsrcnn.metrics import psnr, ssim

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _oracle(benchmark, scale):
    """An upscaler that returns the HR image of whichever LR image it gets."""
    lookup = {degrade(hr, scale).tobytes(): hr for _, hr in benchmark}
    return lambda lr: lookup[np.asarray(lr).tobytes()] / 255.0


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_perfect_upscaler(hr_folder, scale):
    benchmark = load_benchmark(hr_folder, scale)
    rows = evaluate(_oracle(benchmark, scale), benchmark, scale)
    assert [name for name, _, _ in rows] == ["astronaut", "camera", "coffee"]
    assert all(p == math.inf and s == 1.0 for _, p, s in rows)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_border_of_scale_pixels_is_ignored(hr_folder, scale):
    benchmark = load_benchmark(hr_folder, scale)
    oracle = _oracle(benchmark, scale)

    def damaged(lr):
        out = oracle(lr).copy()
        out[:scale] = 0
        out[:, -scale:] = 1
        return out

    assert all(p == math.inf and s == 1.0 for _, p, s in evaluate(damaged, benchmark, scale))

    def damaged_inside(lr):
        out = damaged(lr)
        out[scale, scale] = 0.5 if out[scale, scale] < 0.4 else 0
        return out

    assert all(p < math.inf and s < 1 for _, p, s in evaluate(damaged_inside, benchmark, scale))


@pytest.mark.parametrize("scale", [2, 3])
def test_evaluate_rounds_output_and_scores_luma(hr_folder, scale):
    benchmark = load_benchmark(hr_folder, scale)
    rows = evaluate(bicubic_upscaler(scale), benchmark, scale)
    for (name, hr), (row_name, p, s) in zip(benchmark, rows):
        sr = np.floor(np.clip(bicubic_upscaler(scale)(degrade(hr, scale)) * 255, 0, 255) + 0.5)
        sr = sr.astype(np.uint8)
        assert row_name == name
        assert p == pytest.approx(psnr(hr, sr, crop_border=scale), abs=1e-12)
        assert s == pytest.approx(ssim(hr, sr, crop_border=scale), abs=1e-12)
        assert 15 < p < 60 and 0 < s < 1


def test_evaluate_accepts_a_folder(hr_folder):
    rows = evaluate(bicubic_upscaler(2), load_benchmark(hr_folder, 2), 2)
    assert evaluate(bicubic_upscaler(2), str(hr_folder), 2) == rows
    assert evaluate(bicubic_upscaler(2), hr_folder, 2) == rows


def test_evaluate_without_ssim(hr_folder):
    rows = evaluate(bicubic_upscaler(2), hr_folder, 2, with_ssim=False)
    assert all(math.isnan(s) and p > 0 for _, p, s in rows)


def test_wrong_output_size_is_an_error(hr_folder):
    with pytest.raises(ValueError, match="same shape"):
        evaluate(lambda lr: np.zeros((5, 5)), hr_folder, 2)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_model_upscaler(random_weights, scale):
    from skfsrcnn.pretrained import load_model

    network = load_model(random_weights("fsrcnn-s", scale), scale=scale)
    lr = np.random.default_rng(0).random((9, 11))
    out = model_upscaler(network, "cpu")(lr)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert out.shape == (9 * scale, 11 * scale)
    import torch

    with torch.no_grad():
        expected = network(torch.from_numpy(lr).float()[None, None])[0, 0].numpy()
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_model_upscaler_ensemble_and_back_projection(random_weights):
    from skfsrcnn import upscale
    from skfsrcnn.pretrained import load_model

    path = random_weights("fsrcnn-s", 3, input_range=(0.0, 1.0))
    lr = np.random.default_rng(1).random((12, 10)).astype(np.float32)
    network = load_model(path, scale=3)
    ensemble = model_upscaler(network, ensemble=True, back_projection=2)(lr)
    # The literature's pipeline feeds the luma as it is: upscale does the same for floats in [0, 1]
    # with weights trained on [0, 1], unclipped.
    expected = upscale(lr, 3, weights=path, ensemble=True, back_projection=2, clip=False, tile_size=None)
    np.testing.assert_allclose(ensemble, expected, atol=1e-5)
    assert np.abs(ensemble - model_upscaler(network)(lr)).max() > 1e-3
