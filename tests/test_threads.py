"""Inference threads under load (issue 58 item 4): free cores only, and no spinning while waiting."""

import os
import subprocess
import sys

import pytest
import torch

from skfsrcnn import _threads


def _proc(tmp_path, running, states):
    """A fake ``/proc/loadavg`` with ``running`` tasks running, and a task folder of threads in ``states``."""
    loadavg = tmp_path / "loadavg"
    loadavg.write_text(f"1.00 0.90 0.80 {running}/300 12345\n")
    tasks = tmp_path / "task"
    for number, state in enumerate(states, 1):
        (tasks / str(number)).mkdir(parents=True)
        (tasks / str(number) / "stat").write_text(f"{number} (python (odd) name) {state} 1 2 3\n")
    return str(loadavg), str(tasks)


@pytest.mark.parametrize("running, states, busy", [(3, "RSS", 2), (4, "RRS", 2), (1, "R", 0), (2, "SS", 1)])
def test_busy_elsewhere_leaves_out_our_own_threads(tmp_path, running, states, busy):
    assert _threads.busy_elsewhere(*_proc(tmp_path, running, states)) == busy


def test_busy_elsewhere_is_zero_where_unknown(tmp_path):
    assert _threads.busy_elsewhere(str(tmp_path / "missing"), str(tmp_path / "missing")) == 0


@pytest.mark.parametrize(
    "cores, busy, limit, threads", [(2, 0, 2, 2), (2, 1, 2, 1), (2, 5, 2, 1), (8, 2, 4, 4), (8, 0, 1, 1)]
)
def test_threads_are_the_free_usable_cores_within_torch_setting(monkeypatch, cores, busy, limit, threads):
    monkeypatch.setattr(_threads, "usable_cores", lambda: cores)
    monkeypatch.setattr(_threads, "busy_elsewhere", lambda: busy)
    assert _threads.inference_threads(limit) == threads


def test_torch_setting_is_restored_after_each_call(monkeypatch):
    monkeypatch.setattr(_threads, "inference_threads", lambda limit: 1)
    before = torch.get_num_threads()
    with _threads.threads_for_inference():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("chosen, expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_importing_skfsrcnn_makes_idle_threads_sleep_unless_chosen(chosen, expected):
    env = {k: v for k, v in os.environ.items() if k != _threads.WAIT_POLICY_ENV}
    if chosen:
        env[_threads.WAIT_POLICY_ENV] = chosen
    code = "import os, skfsrcnn; print(os.environ['OMP_WAIT_POLICY'])"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == expected
