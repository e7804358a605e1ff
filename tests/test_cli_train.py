"""Tests for ``skfsrcnn train`` / ``skfsrcnn-train`` (skfsrcnn.cli.train): runs, errors and crash safety."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml
from train_helpers import log_rows

from skfsrcnn.cli.train import main
from skfsrcnn.pretrained import load_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----------------------------------------------------------------------------- the CLI


def test_cli_end_to_end(data_dirs, tmp_path, capsys):
    train, val = data_dirs
    path = tmp_path / "tiny.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "cli",
                "model": "fsrcnn-s",
                "scale": 2,
                "train_folders": [str(train)],
                "val_data": str(val),
                "patch_size": 16,
                "batch_size": 8,
                "iterations": 40,
                "val_every": 10,
                "checkpoint_every": 10,
                "device": "cpu",
                "output_dir": str(tmp_path / "runs"),
            }
        )
    )
    assert main([str(path), "--set", "iterations=20", "lr=2e-3", "--set", "seed=4"]) == 0
    out = capsys.readouterr().out
    run_dir = tmp_path / "runs" / "cli"
    assert f"best weights: {run_dir / 'best.safetensors'}" in out
    assert "validation PSNR" in out
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["iterations"] == 20 and saved["lr"] == 0.002 and saved["seed"] == 4 and saved["scale"] == 2
    assert load_model(run_dir / "best.safetensors", device="cpu").scale == 2

    # Again without --resume: refused, with exit code 2 and a message.
    with pytest.raises(SystemExit) as exit_info:
        main([str(path), "--set", "iterations=20", "--no-progress"])
    assert exit_info.value.code == 2
    assert "--resume" in capsys.readouterr().err

    assert main([str(path), "--set", "iterations=30", "--resume", "--no-progress"]) == 0
    capsys.readouterr()
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["iteration"] == 30


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "colour=y"], "Unknown setting 'colour'"),
        (["--set", "scale"], "key=value"),
        (["--set", "scale=2", "configs/fsrcnn-x2.yaml"], "give the config file before `--set`"),
        (["--set", "scale=7"], "`scale`"),
        (["missing.yaml"], "missing.yaml"),
    ],
)
def test_cli_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "skfsrcnn-train: error" in err and message in err


# ------------------------------------------------------------------ crash safety (SIGKILL)


def _train_command(config_path, *options):
    """``skfsrcnn-train`` in a process of its own, as its console script starts it.

    The installed script may belong to another checkout, so run what it runs.
    """
    script = "import sys; from skfsrcnn.cli.train import main; sys.exit(main())"
    return [sys.executable, "-c", script, str(config_path), "--no-progress", *options]


def _wait_for(condition, process, what, timeout=120, pause=0.0):
    deadline = time.monotonic() + timeout
    while not condition():
        time.sleep(pause)
        if process.poll() is not None:
            raise AssertionError(f"skfsrcnn-train exited ({process.returncode}) before {what}: {process.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")


def _mtime(path):
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return -1


def _kill_while_writing_a_checkpoint(command, run_dir):
    """Start ``command``; once it has written a checkpoint, SIGKILL it as the next one is written.

    Returns whether the kill landed mid-write (the temporary file is left behind).
    """
    checkpoint, partial = run_dir / "checkpoint.pt", run_dir / ".checkpoint.pt.tmp"
    before = _mtime(checkpoint)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: _mtime(checkpoint) > before, process, "a checkpoint", pause=0.01)
        written = _mtime(checkpoint)
        # A tight loop: the write takes about a millisecond.
        _wait_for(lambda: _mtime(partial) >= written, process, "the next checkpoint write", timeout=60)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        process.kill()
        process.wait()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    return partial.exists()


def _last_logged_iteration(run_dir):
    return max(int(row["iteration"]) for row in log_rows(run_dir) if row["iteration"].isdigit())


def _assert_checkpoint_is_whole(run_dir, every):
    """The checkpoint on disk loads completely, and at most one interval of training is lost."""
    state = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert {"model", "optimizer", "scheduler", "torch_rng", "sampler_rng", "config"} <= set(state)
    from skfsrcnn.models import FSRCNN

    FSRCNN.from_preset("fsrcnn-s", 2).load_state_dict(state["model"])
    lost = _last_logged_iteration(run_dir) - state["iteration"]
    assert 0 <= lost <= every, (lost, every)
    return state["iteration"]


@pytest.mark.slow
def test_sigkill_during_checkpoint_write_loses_at_most_one_interval(data_dirs, tmp_path):
    train, _ = data_dirs
    every = 5
    config = tmp_path / "crash.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "crash",
                "model": "fsrcnn-s",
                "scale": 2,
                "train_folders": [str(train)],
                "val_data": None,
                "downscales": [1.0],
                "rotations": [0],
                "patch_size": 8,
                "batch_size": 4,
                "iterations": 10**6,
                "checkpoint_every": every,
                "log_every": 1,
                "threads": 1,
                "device": "cpu",
                "output_dir": str(tmp_path / "runs"),
            }
        )
    )
    run_dir = tmp_path / "runs" / "crash"
    mid_write, iteration = [], 0
    for attempt in range(4):  # each kill is followed by a resume; stop after two kills mid-write
        options = ("--resume",) if attempt else ()
        mid_write.append(_kill_while_writing_a_checkpoint(_train_command(config, *options), run_dir))
        resumed_from, iteration = iteration, _assert_checkpoint_is_whole(run_dir, every)
        assert iteration > resumed_from  # the resumed run made progress and checkpointed it
        if sum(mid_write) == 2:
            break
    assert any(mid_write), "no kill landed while a checkpoint was being written"

    final = iteration + every + 1
    finished = subprocess.run(
        _train_command(config, "--resume", "--set", f"iterations={final}"), capture_output=True, text=True, timeout=300
    )
    assert finished.returncode == 0, finished.stderr
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["iteration"] == final
    assert load_model(run_dir / "best.safetensors", device="cpu").scale == 2
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".")]  # the partial file is gone
