"""Tests for ``skfsrcnn eval`` / ``skfsrcnn-eval`` (skfsrcnn.cli.eval): the table, errors and usage."""

import re

import pytest

from skfsrcnn.cli.eval import main
from skfsrcnn.datasets import load_benchmark
from skfsrcnn.evaluate import PROTOCOL, bicubic_upscaler, evaluate, model_upscaler

pytestmark = pytest.mark.usefixtures("one_torch_thread")


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


def test_cli_ensemble_and_back_projection(random_weights, hr_folder, capsys):
    from skfsrcnn.pretrained import load_model

    path = random_weights("fsrcnn-s", 2)
    argv = ["--weights", str(path), "--data", str(hr_folder), "--scale", "2", "--device", "cpu"]
    assert main([*argv, "--ensemble", "--back-projection", "2"]) == 0
    out = capsys.readouterr().out
    upscaler = model_upscaler(load_model(path, scale=2), ensemble=True, back_projection=2)
    expected = evaluate(upscaler, hr_folder, 2)
    assert _table_rows(out)["astronaut"] == (round(expected[0][1], 2), round(expected[0][2], 4))
    assert "ensemble back-projection 2" in out.splitlines()[0]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--bicubic", "--ensemble"], "apply to --weights only"),
        (["--bicubic", "--back-projection", "x"], "invalid int"),
    ],
)
def test_cli_ensemble_needs_weights(hr_folder, capsys, extra, message):
    with pytest.raises(SystemExit) as exit_info:
        main([*extra, "--data", str(hr_folder), "--scale", "2"])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
