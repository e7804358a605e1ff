"""Tests for skfsrcnn.train.trainer: a tiny run, checkpoints and resume, optimizers, early stopping, precision,
the perceptual loss."""

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from train_helpers import Crash, assert_same_weights, crash_after, log_rows, straight_run_of, tiny_config, weights_state

from skfsrcnn.pretrained import load_model
from skfsrcnn.train import Trainer, load_config
from skfsrcnn.train import trainer as trainer_module

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def straight_run(data_dirs, tmp_path_factory):
    """A 40-iteration run, uninterrupted."""
    return straight_run_of(data_dirs, tmp_path_factory.mktemp("straight"))


# ------------------------------------------------------------------------ a tiny run


def test_run_writes_its_files(straight_run):
    config, trainer, best = straight_run
    run_dir = config.run_dir
    for name in ("checkpoint.pt", "best.safetensors", "log.csv", "config.yaml"):
        assert (run_dir / name).is_file(), name
    assert best == run_dir / "best.safetensors"
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".")]  # no temporary files
    assert trainer.iteration == 40

    rows = log_rows(run_dir)
    assert [int(r["iteration"]) for r in rows] == [10, 20, 30, 40]
    assert all(float(r["loss"]) > 0 and math.isfinite(float(r["loss"])) for r in rows)
    val = {int(r["iteration"]): float(r["val_psnr"]) for r in rows if r["val_psnr"]}
    assert set(val) == {20, 40}
    assert trainer.best_psnr == pytest.approx(max(val.values()), abs=1e-4)
    assert trainer.best_iteration == max(val, key=val.get)

    # The config on disk reproduces the run's configuration.
    assert load_config(run_dir / "config.yaml") == config

    # The checkpoint holds everything resuming needs.
    state = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert state["iteration"] == 40
    assert {"model", "optimizer", "scheduler", "torch_rng", "sampler_rng", "config"} <= set(state)
    assert_same_weights(state["model"], {k: v.cpu() for k, v in trainer.model.state_dict().items()})


def test_best_weights_load_and_record_validation(straight_run):
    config, trainer, best = straight_run
    model = load_model(best, scale=3, device="cpu")
    assert model.config == {"scale": 3, "d": 32, "s": 5, "m": 1}
    from safetensors import safe_open

    with safe_open(str(best), framework="pt") as handle:
        metadata = handle.metadata()
    assert float(metadata["val_psnr"]) == pytest.approx(trainer.best_psnr, abs=1e-4)
    assert int(metadata["iteration"]) == trainer.best_iteration
    # The stored weights score the recorded PSNR.
    from skfsrcnn.evaluate import evaluate, model_upscaler

    rows = evaluate(model_upscaler(model), config.val_data, 3, with_ssim=False)
    assert np.mean([p for _, p, _ in rows]) == pytest.approx(trainer.best_psnr, abs=1e-3)


def test_cosine_schedule_ends_at_floor(straight_run):
    config, trainer, _ = straight_run
    lr_body, lr_deconv = trainer.scheduler.get_last_lr()
    assert lr_body == pytest.approx(config.lr * config.min_lr_ratio)
    assert lr_deconv == pytest.approx(config.lr * config.deconv_lr_scale * config.min_lr_ratio)


def test_training_changes_every_layer(straight_run, data_dirs, tmp_path):
    config, trainer, _ = straight_run
    # Same seed, no training: the initial weights.
    initial = Trainer(tiny_config(data_dirs, tmp_path), progress=False).model.state_dict()
    trained = trainer.model.state_dict()
    for key in initial:
        assert not torch.equal(initial[key], trained[key]), key


# --------------------------------------------------------------------------- resume


@pytest.mark.parametrize(
    ("error", "stopped_at"),
    [(Crash("power cut"), 20), (KeyboardInterrupt(), 29)],
    ids=["crash-resumes-last-checkpoint", "ctrl-c-saves-checkpoint"],
)
def test_resume_is_exact(straight_run, data_dirs, tmp_path, error, stopped_at):
    _, reference, _ = straight_run
    config = tiny_config(data_dirs, tmp_path)
    trainer = Trainer(config, progress=False)
    crash_after(trainer, 29, error)
    with pytest.raises(type(error)):
        trainer.run()
    state = torch.load(config.run_dir / "checkpoint.pt", weights_only=True)
    assert state["iteration"] == stopped_at

    resumed = Trainer(config, resume=True, progress=False)
    assert resumed.iteration == stopped_at
    resumed.run()
    assert resumed.iteration == 40
    assert_same_weights(resumed.model.state_dict(), reference.model.state_dict())
    assert resumed.best_psnr == reference.best_psnr
    assert resumed.best_iteration == reference.best_iteration
    assert resumed.stale_validations == reference.stale_validations
    assert_same_weights(
        weights_state(config.run_dir / "best.safetensors"), weights_state(reference.config.run_dir / "best.safetensors")
    )
    # The log reads as one run: the rows past the checkpoint were trained
    # again and logged once, and the clock continues across the interruption.
    log = log_rows(config.run_dir)
    assert [row["iteration"] for row in log] == [row["iteration"] for row in log_rows(reference.run_dir)]
    elapsed = [float(row["elapsed_s"]) for row in log]
    assert elapsed == sorted(elapsed)
    assert resumed.elapsed == pytest.approx(elapsed[-1], abs=0.1)


def test_refuses_to_overwrite_a_run(data_dirs, tmp_path):
    config = tiny_config(data_dirs, tmp_path, iterations=20)
    Trainer(config, progress=False).run()
    checkpoint = (config.run_dir / "checkpoint.pt").read_bytes()
    with pytest.raises(ValueError, match="resume"):
        Trainer(config, progress=False)
    assert (config.run_dir / "checkpoint.pt").read_bytes() == checkpoint
    # Another name is a fresh run.
    Trainer(tiny_config(data_dirs, tmp_path, name="other", iterations=20), progress=False)


def test_resume_without_checkpoint(data_dirs, tmp_path):
    with pytest.raises(ValueError, match="Cannot resume"):
        Trainer(tiny_config(data_dirs, tmp_path), resume=True, progress=False)


def test_resume_with_more_iterations_continues(data_dirs, tmp_path):
    Trainer(tiny_config(data_dirs, tmp_path, iterations=20), progress=False).run()
    trainer = Trainer(tiny_config(data_dirs, tmp_path, iterations=30), resume=True, progress=False)
    assert trainer.iteration == 20
    trainer.run()
    assert torch.load(trainer.run_dir / "checkpoint.pt", weights_only=True)["iteration"] == 30


def test_trainer_needs_a_config():
    with pytest.raises(TypeError, match="TrainConfig"):
        Trainer({"scale": 3})


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_optimizer_groups(data_dirs, tmp_path, optimizer):
    config = tiny_config(data_dirs, tmp_path, optimizer=optimizer, lr=0.01, deconv_lr_scale=0.1)
    trainer = Trainer(config, progress=False)
    assert type(trainer.optimizer).__name__ == {"adam": "Adam", "sgd": "SGD"}[optimizer]
    groups = trainer.optimizer.param_groups
    deconv = {id(p) for p in trainer.model.deconv.parameters()}
    by_lr = {group["lr"]: {id(p) for p in group["params"]} for group in groups}
    assert by_lr[0.01 * 0.1] == deconv
    body = {id(p) for name, p in trainer.model.named_parameters() if not name.startswith("deconv")}
    assert by_lr[0.01] == body
    if optimizer == "sgd":
        assert all(group["momentum"] == config.momentum for group in groups)


def test_early_stopping(data_dirs, tmp_path):
    # With a zero learning rate the validation PSNR never improves after the first check.
    config = tiny_config(data_dirs, tmp_path, lr=0.0, val_every=10, early_stopping=2)
    trainer = Trainer(config, progress=False)
    trainer.run()
    assert trainer.iteration == 30
    assert trainer.best_iteration == 10
    assert torch.load(trainer.run_dir / "checkpoint.pt", weights_only=True)["iteration"] == 30


def test_without_validation_keeps_last_weights(data_dirs, tmp_path):
    trainer = Trainer(tiny_config(data_dirs, tmp_path, val_data=None, iterations=10), progress=False)
    best = trainer.run()
    assert_same_weights(weights_state(best), {k: v.cpu() for k, v in trainer.model.state_dict().items()})


def test_compiled_step_trains_like_the_eager_one(data_dirs, tmp_path):
    """``compile: true`` runs the same loss through ``torch.compile``: same weights to float rounding."""
    runs = {}
    for compiled in (False, True):
        config = tiny_config(data_dirs, tmp_path / str(compiled), val_data=None, iterations=5, compile=compiled)
        trainer = Trainer(config, progress=False)
        initial = {k: v.clone() for k, v in trainer.model.state_dict().items()}
        trainer.run()
        runs[compiled] = trainer.model.state_dict()
        assert all(not torch.equal(runs[compiled][k], initial[k]) for k in initial if k.endswith("weight"))
    for key, value in runs[False].items():
        torch.testing.assert_close(runs[True][key], value, rtol=1e-4, atol=1e-5, msg=key)


@pytest.mark.filterwarnings("ignore:.*this CPU has no native bfloat16")
def test_bfloat16_step_trains_like_the_float32_one(data_dirs, tmp_path):
    """``precision: bfloat16`` (autocast) takes the same steps as float32, to bfloat16 rounding
    (emulated, with the warning tested below, on a CPU without native bfloat16)."""
    runs = {}
    for precision in ("float32", "bfloat16"):
        config = tiny_config(data_dirs, tmp_path / precision, val_data=None, iterations=5, precision=precision)
        trainer = Trainer(config, progress=False)
        initial = {k: v.clone() for k, v in trainer.model.state_dict().items()}
        trainer.run()
        runs[precision] = {k: v - initial[k] for k, v in trainer.model.state_dict().items()}
        assert all(v.dtype == torch.float32 for v in trainer.model.state_dict().values())
    for key, step in runs["float32"].items():
        if key.endswith("weight"):
            assert step.norm() > 0, key
            assert (runs["bfloat16"][key] - step).norm() < 0.25 * step.norm(), key


def test_bfloat16_without_native_support_warns(data_dirs, tmp_path, monkeypatch):
    monkeypatch.setattr(trainer_module, "bfloat16_is_native", lambda device: False)
    with pytest.warns(UserWarning, match="no native bfloat16"):
        Trainer(tiny_config(data_dirs, tmp_path, precision="bfloat16"), progress=False)


# ------------------------------------------------------------------- perceptual loss


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    """Random VGG16 weights up to relu2_2, as a torchvision full-model state dict."""
    from skfsrcnn.train import VGG16Features

    torch.manual_seed(0)
    state = VGG16Features("relu2_2").state_dict()
    state["classifier.0.weight"] = torch.zeros(2, 2)
    path = tmp_path_factory.mktemp("vgg") / "vgg16.pth"
    torch.save(state, path)
    return path


def _perceptual_config(data_dirs, tmp_path, vgg_file, **overrides):
    values = {
        "patch_size": 8,
        "batch_size": 4,
        "iterations": 4,
        "val_every": 2,
        "checkpoint_every": 2,
        "log_every": 1,
        "perceptual_weights": str(vgg_file),
        "perceptual_layer": "relu2_2",
        "perceptual_scale": 0.1,
    }
    return tiny_config(data_dirs, tmp_path, **{**values, **overrides})


def test_perceptual_loss_trains_and_stays_frozen(data_dirs, tmp_path, vgg_file):
    config = _perceptual_config(data_dirs, tmp_path, vgg_file, iterations=3)
    trainer = Trainer(config, progress=False)
    vgg = {k: v.clone() for k, v in trainer.perceptual.state_dict().items()}
    file_state = torch.load(vgg_file, weights_only=True)
    for key, value in vgg.items():
        assert torch.equal(value, file_state[key.removeprefix("vgg.")]), key
    in_optimizer = {id(p) for group in trainer.optimizer.param_groups for p in group["params"]}
    assert not in_optimizer & {id(p) for p in trainer.perceptual.parameters()}

    trainer.run()
    losses = [float(row["loss"]) for row in log_rows(config.run_dir)]
    assert len(losses) == 3 and all(math.isfinite(v) and v > 0 for v in losses)
    for key, value in trainer.perceptual.state_dict().items():
        assert torch.equal(value, vgg[key]), key
    assert set(torch.load(config.run_dir / "checkpoint.pt", weights_only=True)["model"]) == set(
        trainer.model.state_dict()
    )  # the VGG weights stay in their file


def test_perceptual_loss_is_added_to_the_mse(data_dirs, tmp_path, vgg_file):
    trainer = Trainer(_perceptual_config(data_dirs, tmp_path, vgg_file), progress=False)
    lr, hr = (torch.from_numpy(a) for a in trainer.sampler.sample())
    with torch.no_grad():
        out = trainer.network(lr)
        expected = F.mse_loss(out, hr) + 0.1 * trainer.perceptual(out, hr)
    assert trainer._step(lr, hr) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize(
    ("name", "loss"),
    [
        ("l1", F.l1_loss),
        ("charbonnier", lambda out, hr: torch.sqrt((out - hr) ** 2 + 1e-6).mean()),
    ],
)
def test_pixel_loss_is_the_one_configured(data_dirs, tmp_path, name, loss):
    config = tiny_config(data_dirs, tmp_path, patch_size=8, batch_size=4, iterations=2, pixel_loss=name)
    trainer = Trainer(config, progress=False)
    lr, hr = (torch.from_numpy(a) for a in trainer.sampler.sample())
    with torch.no_grad():
        out = trainer.network(lr)
        expected, mse = loss(out, hr), F.mse_loss(out, hr)
    assert float(expected) != pytest.approx(float(mse), rel=1e-2)
    assert trainer._step(lr, hr) == pytest.approx(float(expected), rel=1e-5)


def test_perceptual_loss_resumes_exactly(data_dirs, tmp_path, vgg_file):
    reference = Trainer(_perceptual_config(data_dirs, tmp_path / "straight", vgg_file), progress=False)
    reference.run()
    config = _perceptual_config(data_dirs, tmp_path / "resumed", vgg_file)
    trainer = Trainer(config, progress=False)
    crash_after(trainer, 3, Crash("power cut"))
    with pytest.raises(Crash):
        trainer.run()
    resumed = Trainer(config, resume=True, progress=False)
    assert resumed.iteration == 2
    resumed.run()
    assert_same_weights(resumed.model.state_dict(), reference.model.state_dict())
    assert resumed.best_psnr == reference.best_psnr


def test_perceptual_weights_missing(data_dirs, tmp_path):
    config = tiny_config(data_dirs, tmp_path, perceptual_weights=str(tmp_path / "vgg16.pth"))
    with pytest.raises(FileNotFoundError, match=r"vgg16\.pth' does not exist"):
        Trainer(config, progress=False)
