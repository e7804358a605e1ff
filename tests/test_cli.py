"""The ``skfsrcnn`` program (skfsrcnn.cli): subcommands, the old entry points, help and exit statuses.

The subcommands themselves are tested in test_cli_upscale.py,
test_cli_train.py and test_cli_eval.py.
"""

import re
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import imageio.v3 as iio
import pytest
import yaml

from skfsrcnn import cli
from skfsrcnn.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from skfsrcnn.io import sample_path

REPO = Path(__file__).resolve().parents[1]


def _exit_code(main, *argv):
    """Run ``main`` in-process; its exit status."""
    try:
        return main([str(a) for a in argv])
    except SystemExit as stop:
        return stop.code


def _entry_point(name):
    """The function a console script of pyproject.toml calls."""
    text = (REPO / "pyproject.toml").read_text()  # tomllib needs Python 3.11
    section = text.split("[project.scripts]")[1].split("\n[")[0]
    module, function = re.search(rf'^{re.escape(name)} = "([\w.]+):(\w+)"$', section, re.M).groups()
    return getattr(import_module(module), function)


@pytest.fixture
def tiny_config(tmp_path):
    """A valid two-iteration config on the bundled sample's folder."""
    path = tmp_path / "tiny.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "tiny",
                "model": "fsrcnn-s",
                "scale": 2,
                "train_folders": [str(sample_path().parent)],
                "val_data": None,
                "patch_size": 8,
                "batch_size": 4,
                "iterations": 2,
                "device": "cpu",
                "output_dir": str(tmp_path / "runs"),
            }
        )
    )
    return path


def test_exit_statuses_are_the_documented_ones():
    assert (EXIT_OK, EXIT_FAILURE, EXIT_USAGE) == (0, 1, 2)


def test_the_entry_points_are_the_cli_functions():
    assert _entry_point("skfsrcnn") is cli.main
    assert _entry_point("skfsrcnn-train") is cli.train_command.main
    assert _entry_point("skfsrcnn-eval") is cli.eval_command.main


@pytest.mark.parametrize("argv", [["--help"], ["upscale", "--help"], ["train", "--help"], ["eval", "--help"]])
def test_help_lists_the_exit_statuses(argv, capsys):
    assert _exit_code(cli.main, *argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: skfsrcnn")
    assert "exit status: 0 success; 1 failure" in " ".join(out.split())
    if argv == ["--help"]:
        assert all(name in out for name in ("upscale", "train", "eval"))


@pytest.mark.parametrize("name", ["skfsrcnn-train", "skfsrcnn-eval"])
def test_old_entry_points_keep_their_name_and_document_exit_statuses(name, capsys):
    assert _exit_code(_entry_point(name), "--help") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {name} ")
    assert "2 bad usage" in " ".join(out.split())


def test_without_a_subcommand_is_bad_usage(capsys):
    assert _exit_code(cli.main) == 2
    assert "usage: skfsrcnn" in capsys.readouterr().err


def test_unknown_subcommand_is_bad_usage(capsys):
    assert _exit_code(cli.main, "enhance") == 2
    assert "invalid choice: 'enhance'" in capsys.readouterr().err


# ---------------------------------------------------------------- skfsrcnn upscale


def test_upscale(tmp_path, random_weights, capsys):
    output = tmp_path / "sample_x2.png"
    weights = random_weights("fsrcnn-s", 2)
    assert _exit_code(cli.main, "upscale", "--sample", output, "--scale", 2, "--weights", weights) == 0
    assert f"wrote {output}" in capsys.readouterr().out
    assert iio.imread(output).shape == (256, 256, 3)


def test_upscale_bad_usage(tmp_path, capsys):
    assert _exit_code(cli.main, "upscale", tmp_path / "missing.png", tmp_path / "out.png", "--scale", 2) == 2
    assert capsys.readouterr().err.startswith("skfsrcnn: error: INPUT ")
    assert not (tmp_path / "out.png").exists()


# ---------------------------------------------------------------- skfsrcnn train


@pytest.mark.parametrize("main", ["skfsrcnn", "skfsrcnn-train"])
def test_train_dry_run(main, tiny_config, capsys):
    argv = (["train"] if main == "skfsrcnn" else []) + [tiny_config, "--dry-run"]
    assert _exit_code(_entry_point(main), *argv) == 0
    out = capsys.readouterr().out
    assert "tiny" in out
    assert not (tiny_config.parent / "runs").exists()  # a plan only: nothing trained


@pytest.mark.parametrize(("main", "program"), [("skfsrcnn", "skfsrcnn"), ("skfsrcnn-train", "skfsrcnn-train")])
def test_train_bad_setting(main, program, tiny_config, capsys):
    argv = (["train"] if main == "skfsrcnn" else []) + [tiny_config, "--set", "scale=7", "--dry-run"]
    assert _exit_code(_entry_point(main), *argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{program}: error: ") and "`scale`" in err


# ---------------------------------------------------------------- skfsrcnn eval


@pytest.mark.parametrize("main", ["skfsrcnn", "skfsrcnn-eval"])
def test_eval_bicubic(main, capsys):
    argv = (["eval"] if main == "skfsrcnn" else []) + ["--bicubic", "--data", sample_path().parent, "--scale", 3]
    assert _exit_code(_entry_point(main), *argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("bicubic (MATLAB) on ")
    assert lines[-2].split() == ["mean", "24.01", "0.7862"]
    assert lines[-1].startswith("protocol: ")


@pytest.mark.parametrize(("main", "program"), [("skfsrcnn", "skfsrcnn"), ("skfsrcnn-eval", "skfsrcnn-eval")])
def test_eval_bad_data(main, program, tmp_path, capsys):
    argv = (["eval"] if main == "skfsrcnn" else []) + ["--bicubic", "--data", tmp_path / "nowhere", "--scale", 2]
    assert _exit_code(_entry_point(main), *argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{program}: error: ") and "nowhere" in err


@pytest.mark.parametrize("main", ["skfsrcnn", "skfsrcnn-eval"])
def test_eval_usage_error(main, capsys):
    argv = (["eval"] if main == "skfsrcnn" else []) + ["--bicubic", "--scale", 2]  # no --data
    assert _exit_code(_entry_point(main), *argv) == 2
    assert "the following arguments are required: --data" in capsys.readouterr().err


# ---------------------------------------------------------------- separate processes


def _python(*code_and_args):
    return subprocess.run([sys.executable, *code_and_args], capture_output=True, text=True, timeout=300)


def test_python_m_skfsrcnn_cli():
    done = _python("-m", "skfsrcnn.cli", "eval", "--bicubic", "--data", str(sample_path().parent), "--scale", "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("bicubic (MATLAB) on ")
    usage = _python("-m", "skfsrcnn.cli", "eval", "--scale", "3")
    assert usage.returncode == 2
    assert "usage: skfsrcnn eval" in usage.stderr


def test_an_unexpected_error_exits_with_status_1(monkeypatch):
    """A failure that is not bad usage (here, a bug injected into the evaluation) ends with 1, in one line.

    ``SKFSRCNN_TRACEBACK=1`` shows the traceback.
    """
    code = (
        "import sys; import skfsrcnn.cli.eval as command; "
        "command.evaluate = lambda *args, **kwargs: 1 / 0; "
        "from skfsrcnn.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    done = _python("-c", code, "eval", "--bicubic", "--data", str(sample_path().parent), "--scale", "3")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "skfsrcnn: failed: ZeroDivisionError: division by zero" in done.stderr
    monkeypatch.setenv("SKFSRCNN_TRACEBACK", "1")
    done = _python("-c", code, "eval", "--bicubic", "--data", str(sample_path().parent), "--scale", "3")
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "ZeroDivisionError" in done.stderr
