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


@pytest.mark.parametrize("length", [1, 63, 64, 100, 360, 641, 1921])
@pytest.mark.parametrize("halo, count", [(8, 4), (5, 4), (8, 8), (4, 2)])
def test_sections_tile_the_length_with_halos_within_the_image(length, halo, count):
    parts = _threads.sections(length, halo, count)
    assert 1 <= len(parts) <= count
    assert parts[0][0].start == 0 and parts[-1][0].stop == length
    for (core, _), (following, _) in zip(parts, parts[1:]):
        assert core.stop == following.start
    for core, window in parts:
        assert window.start == max(0, core.start - halo) and window.stop == min(length, core.stop + halo)
        if len(parts) > 1:
            assert core.stop - core.start >= _threads.MIN_SECTION_HALOS * halo - 1


def _network(model, scale):
    from skfsrcnn.models import SRCNN, FastFSRCNN, build_model

    torch.manual_seed(0)
    network = build_model(model, scale).eval()
    return network if isinstance(network, SRCNN) else FastFSRCNN(network)


@pytest.mark.parametrize("model", ["fsrcnn", "fsrcnn-s", "srcnn"])
@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("shape", [(2, 1, 37, 301), (1, 1, 260, 45)])
@pytest.mark.parametrize("cores", [2, 3])
def test_sections_give_the_whole_network_output(monkeypatch, model, scale, shape, cores):
    monkeypatch.setattr(_threads, "inference_threads", lambda limit: cores)
    network = _network(model, scale)
    x = torch.rand(shape)
    assert len(_threads.sections(max(shape[2:]), network.halo, 2 * cores)) > 1
    with torch.inference_mode():
        whole = network(x)
        split = _threads.run_on_cores(network, x)
    assert split.shape == whole.shape
    torch.testing.assert_close(split, whole, atol=1e-6, rtol=0)


class _Recorder(torch.nn.Module):
    """Upscales by repetition and records each call's input width and torch threads."""

    halo, scale = 2, 2

    def __init__(self, fail_at=None):
        super().__init__()
        self.calls, self.fail_at = [], fail_at

    def forward(self, x):
        self.calls.append((x.shape[3], torch.get_num_threads()))
        if x.shape[3] == self.fail_at:
            raise RuntimeError("out of memory")
        return x.repeat_interleave(2, 2).repeat_interleave(2, 3)


@pytest.mark.parametrize("cores, width, threads", [(2, 640, [1] * 4), (4, 64, [1] * 4), (8, 64, [2] * 4)])
def test_each_section_runs_on_a_worker_with_its_share_of_the_cores(monkeypatch, cores, width, threads):
    before = torch.get_num_threads()
    monkeypatch.setattr(_threads, "inference_threads", lambda limit: cores)
    network = _Recorder()
    out = _threads.run_on_cores(network, torch.rand(1, 1, 8, width))
    assert out.shape == (1, 1, 16, 2 * width)
    assert sorted(t for _, t in network.calls) == threads
    assert torch.get_num_threads() == before


def test_one_torch_thread_spinning_threads_or_a_small_image_run_whole(monkeypatch):
    network = _Recorder()
    monkeypatch.setattr(_threads, "inference_threads", lambda limit: 1)
    _threads.run_on_cores(network, torch.rand(1, 1, 8, 640))
    monkeypatch.setattr(_threads, "inference_threads", lambda limit: 2)
    _threads.run_on_cores(network, torch.rand(1, 1, 8, 20))
    monkeypatch.setenv(_threads.WAIT_POLICY_ENV, "active")
    _threads.run_on_cores(network, torch.rand(1, 1, 8, 600))
    monkeypatch.setenv(_threads.WAIT_POLICY_ENV, "PASSIVE")
    _threads.run_on_cores(network, torch.rand(1, 1, 8, 640))
    widths = [width for width, _ in network.calls]
    assert widths[:3] == [640, 20, 600] and sorted(widths[3:]) == [162, 162, 164, 164]


def test_a_failing_section_raises_and_restores_torch_threads(monkeypatch):
    monkeypatch.setattr(_threads, "inference_threads", lambda limit: 2)
    before = torch.get_num_threads()
    network = _Recorder(fail_at=162)  # the first of four sections of 640 columns, halo 2
    with pytest.raises(RuntimeError, match="out of memory"):
        _threads.run_on_cores(network, torch.rand(1, 1, 8, 640))
    assert torch.get_num_threads() == before
