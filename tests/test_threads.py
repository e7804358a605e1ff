"""Inference threads under load (issue 58 item 4): the usable cores only, and no spinning while waiting."""

import os
import subprocess
import sys

import pytest
import torch

from skfsrcnn import _threads


@pytest.mark.parametrize("cores, limit, threads", [(2, 2, 2), (2, 16, 2), (8, 4, 4), (8, 1, 1)])
def test_threads_are_the_usable_cores_within_torch_setting(monkeypatch, cores, limit, threads):
    monkeypatch.setattr(_threads, "usable_cores", lambda: cores)
    assert _threads.inference_threads(limit) == threads


def test_usable_cores_follow_the_affinity():
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this system")
    assert _threads.usable_cores() == len(os.sched_getaffinity(0))


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
