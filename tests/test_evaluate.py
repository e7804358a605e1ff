"""Tests for skfsrcnn.evaluate: the benchmark protocol and ``skfsrcnn-eval``."""

import math
import re

import imageio.v3 as iio
import numpy as np
import pytest

from skfsrcnn.datasets import degrade, load_benchmark
from skfsrcnn.evaluate import PROTOCOL, bicubic_upscaler, evaluate, main, model_upscaler
from skfsrcnn.metrics import psnr, ssim

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def hr_folder(tmp_path):
    """Three small HR images (RGB and greyscale, sizes not multiples of 3 or 4)."""
    from skimage import data

    folder = tmp_path / "hr"
    folder.mkdir()
    iio.imwrite(folder / "astronaut.png", data.astronaut()[100:147, 150:205])
    iio.imwrite(folder / "camera.png", data.camera()[200:250, 220:263])
    iio.imwrite(folder / "coffee.png", data.coffee()[50:101, 300:349])
    return folder


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


# --------------------------------------------------------------------------- the CLI


def _table_rows(text):
    """``{name: (psnr, ssim)}`` parsed from the printed table."""
    rows = {}
    for line in text.splitlines():
        match = re.fullmatch(r"(\S+)\s+(-?[\d.]+|inf)\s+(-?[\d.]+|nan)", line.strip())
        if match:
            rows[match[1]] = (float(match[2]), float(match[3]))
    return rows


def test_cli_bicubic_set5_x3(datasets_dir, capsys):
    folder = datasets_dir / "Set5"
    assert main(["--bicubic", "--data", str(folder), "--scale", "3"]) == 0
    out = capsys.readouterr().out
    rows = _table_rows(out)
    expected = evaluate(bicubic_upscaler(3), load_benchmark(folder, 3), 3)
    assert set(rows) == {name for name, _, _ in expected} | {"mean"}
    for name, p, s in expected:
        assert rows[name] == (round(p, 2), round(s, 4))
    assert rows["mean"][0] == pytest.approx(30.39, abs=0.01)
    assert rows["mean"][1] == pytest.approx(0.8682, abs=0.0001)
    assert "bicubic" in out.splitlines()[0]
    assert ("protocol: " + PROTOCOL.format(scale=3)) in out
    assert "3 px shaved" in out


def test_cli_weights_file(random_weights, hr_folder, capsys):
    from skfsrcnn.pretrained import load_model

    path = random_weights("fsrcnn-s", 3)
    argv = ["--weights", str(path), "--data", str(hr_folder), "--scale", "3", "--device", "cpu"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    rows = _table_rows(out)
    expected = evaluate(model_upscaler(load_model(path, scale=3)), hr_folder, 3)
    assert set(rows) == {"astronaut", "camera", "coffee", "mean"}
    for name, p, s in expected:
        assert rows[name] == (round(p, 2), round(s, 4))
    assert str(path) in out.splitlines()[0]
    assert out.splitlines()[-1].startswith("protocol: ")


def test_cli_missing_weights_file(tmp_path, hr_folder, capsys):
    missing = tmp_path / "nope.safetensors"
    with pytest.raises(SystemExit) as exit_info:
        main(["--weights", str(missing), "--data", str(hr_folder), "--scale", "2", "--device", "cpu"])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "skfsrcnn-eval: error" in captured.err
    assert "nope.safetensors" in captured.err
    assert captured.out == ""


def test_cli_weights_for_another_scale(random_weights, hr_folder, capsys):
    path = random_weights("fsrcnn-s", 2)
    with pytest.raises(SystemExit) as exit_info:
        main(["--weights", str(path), "--data", str(hr_folder), "--scale", "3", "--device", "cpu"])
    assert exit_info.value.code == 2
    assert "scale 2" in capsys.readouterr().err


def test_cli_missing_data(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--bicubic", "--data", str(tmp_path / "nowhere"), "--scale", "2"])
    assert exit_info.value.code == 2
    assert "nowhere" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--data", "x", "--scale", "2"],  # neither --weights nor --bicubic
        ["--bicubic", "--weights", "w.safetensors", "--data", "x", "--scale", "2"],
        ["--bicubic", "--scale", "2"],  # no --data
        ["--bicubic", "--data", "x", "--scale", "two"],
    ],
)
def test_cli_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage: skfsrcnn-eval" in capsys.readouterr().err
