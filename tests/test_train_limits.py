"""Training settings that would explode are refused when the config is made (issue 58)."""

import pytest

from skfsrcnn import _memory
from skfsrcnn.degradation import Degradation
from skfsrcnn.train import TrainConfig
from skfsrcnn.train._limits import batch_bytes


@pytest.mark.parametrize(
    "settings, match",
    [
        ({"downscales": [50.0]}, r"`downscales` must hold factors in \[0\.1, 2\] .*got 50\.0"),
        ({"downscales": [1e-9]}, r"`downscales` must hold factors in \[0\.1, 2\] .*got 1e-09"),
        ({"downscales": [1.0] * 17}, r"`downscales` lists 17 factors; use at most 16"),
        ({"threads": 100_000}, r"`threads` must be in \[1, 256\], got 100000"),
        ({"threads": -1}, r"`threads` must be in \[1, 256\], got -1"),
        ({"log_every": 0}, r"`log_every` must be in \[1, 1e\+09\], got 0"),
        ({"step_every": 0}, r"`step_every` must be in \[1, 1e\+09\], got 0"),
        ({"lr": -1}, r"`lr` must be in \[0, 1\], got -1\.0"),
        ({"momentum": 5}, r"`momentum` must be in \[0, 0\.999\], got 5\.0"),
        ({"min_lr_ratio": -5}, r"`min_lr_ratio` must be in \[0, 1\], got -5\.0"),
        ({"step_gamma": 0}, r"`step_gamma` must be in \(0, 1\], got 0\.0"),
        ({"seed": -1}, r"`seed` must be in \[0, 4\.29497e\+09\], got -1"),
        ({"early_stopping": 0}, r"`early_stopping` must be in \[1, 1e\+06\], got 0"),
        ({"patch_size": 100_000}, r"`patch_size` must be in \[1, 1024\], got 100000"),
        ({"batch_size": 10**9}, r"`batch_size` must be in \[1, 65536\], got 1000000000"),
        ({"degradation": "gaussian", "blur_sigma": 1e9}, r"`blur_sigma`=1000000000\.0 HR pixels is beyond 20"),
        ({"noise": "gaussian", "noise_level": 1e9}, r"`noise_level`=1000000000\.0 is beyond 1 for 'gaussian'"),
    ],
)
def test_settings_out_of_bounds_are_refused(settings, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**settings)


def test_a_batch_larger_than_memory_is_refused(monkeypatch):
    config = dict(model="fsrcnn", batch_size=4096, patch_size=256, scale=4)
    needed = batch_bytes(TrainConfig(**{**config, "batch_size": 1}))
    monkeypatch.setattr("skfsrcnn.train._limits.available_bytes", lambda: 1000 * needed)
    with pytest.raises(ValueError, match=r"`batch_size`=4096 of `patch_size`=256 .*use batch_size: 1000 or less"):
        TrainConfig(**config)
    assert TrainConfig(**{**config, "batch_size": 1000}).batch_size == 1000


def test_the_default_batch_fits_a_small_machine():
    assert batch_bytes(TrainConfig()) < 2**30
    assert _memory.available_bytes() is None or batch_bytes(TrainConfig()) < _memory.available_bytes()


def test_degradation_bounds_hold_in_eval_too():
    with pytest.raises(ValueError, match=r"`noise_level`=10000000000000\.0 is beyond 1e\+12 for 'poisson'"):
        Degradation("bicubic", noise="poisson", noise_level=1e13)
