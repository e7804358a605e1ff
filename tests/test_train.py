"""Tests for skfsrcnn.train: config, trainer, checkpoints, resume and ``skfsrcnn-train``."""

import csv
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch
import yaml
from torch.nn import functional as F

from skfsrcnn.datasets import augment, degraded_pairs, load_folder
from skfsrcnn.pretrained import load_model, read_tensors
from skfsrcnn.train import TrainConfig, Trainer, load_config
from skfsrcnn.train import trainer as trainer_module
from skfsrcnn.cli.train import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data_dirs(tmp_path_factory):
    """A training folder of small crops and a validation folder of HR images."""
    from skimage import data

    root = tmp_path_factory.mktemp("data")
    train, val = root / "train", root / "val"
    train.mkdir()
    val.mkdir()
    iio.imwrite(train / "camera.png", data.camera()[100:180, 200:290])
    iio.imwrite(train / "astronaut.png", data.astronaut()[20:100, 180:260])
    iio.imwrite(train / "coffee.png", data.coffee()[120:210, 250:330])
    iio.imwrite(val / "chelsea.png", data.chelsea()[60:120, 120:185])
    iio.imwrite(val / "moon.png", data.moon()[200:251, 200:260])
    return train, val


def _config(data_dirs, output_dir, **overrides):
    train, val = data_dirs
    values = {
        "name": "tiny",
        "model": "fsrcnn-s",
        "scale": 3,
        "train_folders": [str(train)],
        "val_data": str(val),
        "patch_size": 16,
        "batch_size": 8,
        "iterations": 40,
        "val_every": 20,
        "checkpoint_every": 20,
        "log_every": 10,
        "device": "cpu",
        "output_dir": str(output_dir),
    }
    values.update(overrides)
    return TrainConfig(**values)


def _state(path):
    return load_model(path, device="cpu").state_dict()


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.fixture(scope="module")
def straight_run(data_dirs, tmp_path_factory):
    """A 40-iteration run, uninterrupted."""
    config = _config(data_dirs, tmp_path_factory.mktemp("straight"))
    trainer = Trainer(config, progress=False)
    best = trainer.run()
    return config, trainer, best


# ------------------------------------------------------------------------ a tiny run


def _log_rows(run_dir):
    with open(run_dir / "log.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_run_writes_its_files(straight_run):
    config, trainer, best = straight_run
    run_dir = config.run_dir
    for name in ("checkpoint.pt", "best.safetensors", "log.csv", "config.yaml"):
        assert (run_dir / name).is_file(), name
    assert best == run_dir / "best.safetensors"
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".")]  # no temporary files
    assert trainer.iteration == 40

    rows = _log_rows(run_dir)
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
    _assert_same_weights(state["model"], {k: v.cpu() for k, v in trainer.model.state_dict().items()})


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
    initial = Trainer(_config(data_dirs, tmp_path), progress=False).model.state_dict()
    trained = trainer.model.state_dict()
    for key in initial:
        assert not torch.equal(initial[key], trained[key]), key


# --------------------------------------------------------------------------- resume


class _Crash(Exception):
    pass


def _crash_after(trainer, calls, error):
    sample, count = trainer.sampler.sample, [0]

    def wrapped():
        count[0] += 1
        if count[0] > calls:
            raise error
        return sample()

    trainer.sampler.sample = wrapped


@pytest.mark.parametrize(
    ("error", "stopped_at"),
    [(_Crash("power cut"), 20), (KeyboardInterrupt(), 29)],
    ids=["crash-resumes-last-checkpoint", "ctrl-c-saves-checkpoint"],
)
def test_resume_is_exact(straight_run, data_dirs, tmp_path, error, stopped_at):
    _, reference, _ = straight_run
    config = _config(data_dirs, tmp_path)
    trainer = Trainer(config, progress=False)
    _crash_after(trainer, 29, error)
    with pytest.raises(type(error)):
        trainer.run()
    state = torch.load(config.run_dir / "checkpoint.pt", weights_only=True)
    assert state["iteration"] == stopped_at

    resumed = Trainer(config, resume=True, progress=False)
    assert resumed.iteration == stopped_at
    resumed.run()
    assert resumed.iteration == 40
    _assert_same_weights(resumed.model.state_dict(), reference.model.state_dict())
    assert resumed.best_psnr == reference.best_psnr
    assert resumed.best_iteration == reference.best_iteration
    assert resumed.stale_validations == reference.stale_validations
    _assert_same_weights(_state(config.run_dir / "best.safetensors"),
                         _state(reference.config.run_dir / "best.safetensors"))
    # The log reads as one run: the rows past the checkpoint were trained
    # again and logged once, and the clock continues across the interruption.
    log = _log_rows(config.run_dir)
    assert [row["iteration"] for row in log] == [row["iteration"] for row in _log_rows(reference.run_dir)]
    elapsed = [float(row["elapsed_s"]) for row in log]
    assert elapsed == sorted(elapsed)
    assert resumed.elapsed == pytest.approx(elapsed[-1], abs=0.1)


def test_refuses_to_overwrite_a_run(data_dirs, tmp_path):
    config = _config(data_dirs, tmp_path, iterations=20)
    Trainer(config, progress=False).run()
    checkpoint = (config.run_dir / "checkpoint.pt").read_bytes()
    with pytest.raises(ValueError, match="resume"):
        Trainer(config, progress=False)
    assert (config.run_dir / "checkpoint.pt").read_bytes() == checkpoint
    # Another name is a fresh run.
    Trainer(_config(data_dirs, tmp_path, name="other", iterations=20), progress=False)


def test_resume_without_checkpoint(data_dirs, tmp_path):
    with pytest.raises(ValueError, match="Cannot resume"):
        Trainer(_config(data_dirs, tmp_path), resume=True, progress=False)


def test_resume_with_more_iterations_continues(data_dirs, tmp_path):
    Trainer(_config(data_dirs, tmp_path, iterations=20), progress=False).run()
    trainer = Trainer(_config(data_dirs, tmp_path, iterations=30), resume=True, progress=False)
    assert trainer.iteration == 20
    trainer.run()
    assert torch.load(trainer.run_dir / "checkpoint.pt", weights_only=True)["iteration"] == 30


# --------------------------------------------------------------------------- config


def test_overrides_are_parsed_as_yaml():
    config = load_config(None, ["scale=4", "iterations=10", "lr=1e-3", "flips=true",
                                "train_folders=[a, b]", "init_from=null", "name=x=y"])
    assert config.scale == 4 and config.iterations == 10
    assert config.lr == 0.001 and isinstance(config.lr, float)  # YAML alone reads 1e-3 as text
    assert config.flips is True
    assert config.train_folders == ["a", "b"]
    assert config.init_from is None
    assert config.name == "x=y"


def test_yaml_file_and_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("name: mine\nscale: 2\nlr: 5.0e-4\npatch_size: 20\n")
    config = load_config(path, ["patch_size=24"])
    assert (config.name, config.scale, config.lr, config.patch_size) == ("mine", 2, 5e-4, 24)
    assert config.batch_size == TrainConfig().batch_size  # untouched defaults


@pytest.mark.parametrize("item", ["colour=y", "learning_rate=0.1"])
def test_unknown_override_is_an_error(item):
    key = item.split("=")[0]
    with pytest.raises(ValueError, match=f"Unknown setting '{key}'"):
        load_config(None, [item])


def test_override_without_value():
    with pytest.raises(ValueError, match="key=value"):
        load_config(None, ["scale"])


def test_unknown_key_in_yaml(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("scale: 2\nnetwork: {d: 56}\n")
    with pytest.raises(ValueError, match="network"):
        load_config(path)


def test_base_settings_are_overridden_by_the_file_and_the_overrides(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "root.yaml").write_text("scale: 2\nlr: 5.0e-4\npatch_size: 20\nflips: true\n")
    (tmp_path / "common" / "x4.yaml").write_text("base: root.yaml\nscale: 4\n")  # relative to its own folder
    path = tmp_path / "stage.yaml"
    path.write_text("base: common/x4.yaml\nname: stage\nlr: 1.0e-4\n")
    config = load_config(path, ["patch_size=24"])
    assert (config.name, config.scale, config.lr, config.patch_size, config.flips) == ("stage", 4, 1e-4, 24, True)
    assert config.batch_size == TrainConfig().batch_size


def test_base_errors_name_the_file(tmp_path):
    path = tmp_path / "stage.yaml"
    path.write_text("base: missing.yaml\n")
    with pytest.raises(FileNotFoundError, match="missing.yaml.*relative to the folder"):
        load_config(path)
    path.write_text("base: [a.yaml]\n")
    with pytest.raises(ValueError, match="`base` in .*stage.yaml.* must be the path"):
        load_config(path)
    (tmp_path / "a.yaml").write_text("base: stage.yaml\nscale: 2\n")
    path.write_text("base: a.yaml\n")
    with pytest.raises(ValueError, match="in a loop: .*stage.yaml -> .*a.yaml -> .*stage.yaml"):
        load_config(path)
    (tmp_path / "a.yaml").write_text("scale: 2\nnetwork: {d: 56}\n")
    with pytest.raises(ValueError, match="Unknown settings in .*a.yaml.*: network"):
        load_config(path)


@pytest.mark.parametrize(
    ("item", "key"),
    [
        ("scale=5", "scale"),
        ("scale=2.5", "scale"),
        ("model=edsr", "model"),
        ("optimizer=rmsprop", "optimizer"),
        ("schedule=linear", "schedule"),
        ("finetune=body", "finetune"),
        ("patch_size=0", "patch_size"),
        ("iterations=-1", "iterations"),
        ("loss_border=16", "loss_border"),  # half the default patch
        ("pixel_loss=huber", "pixel_loss"),
        ("lr=fast", "lr"),
        ("flips=1", "flips"),
        ("compile=yes please", "compile"),
        ("precision=float16", "precision"),
        ("train_folders=3", "train_folders"),
        ("perceptual_layer=conv2_2", "perceptual_layer"),
        ("perceptual_scale=0", "perceptual_scale"),
        ("perceptual_weights=[a]", "perceptual_weights"),
        ("distill_share=0", "distill_share"),
        ("distill_share=1.5", "distill_share"),
        ("distill_from=[a]", "distill_from"),
        ("init_from=[]", "init_from"),
        ("init_from=[a, 3]", "init_from"),
    ],
)
def test_bad_values_name_the_key(item, key):
    with pytest.raises(ValueError, match=f"`{key}`"):
        load_config(None, [item])


def test_trainer_needs_a_config():
    with pytest.raises(TypeError, match="TrainConfig"):
        Trainer({"scale": 3})


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_optimizer_groups(data_dirs, tmp_path, optimizer):
    config = _config(data_dirs, tmp_path, optimizer=optimizer, lr=0.01, deconv_lr_scale=0.1)
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


# ------------------------------------------------------------------ transfer / fine-tune


def test_finetune_deconv_keeps_body(data_dirs, tmp_path):
    trainer = Trainer(_config(data_dirs, tmp_path, finetune="deconv", iterations=20), progress=False)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.run()
    after = trainer.model.state_dict()
    for key in before:
        if key.startswith("deconv."):
            assert not torch.equal(before[key], after[key]), key
        else:
            assert torch.equal(before[key], after[key]), key
    _assert_same_weights(_state(trainer.run_dir / "best.safetensors"),
                         {k: v.cpu() for k, v in after.items()})


@pytest.mark.parametrize("finetune", ["deconv", "all"])
def test_init_from_another_scale(data_dirs, tmp_path, random_weights, finetune):
    source_path = random_weights("fsrcnn-s", 3)
    source = _state(source_path)
    config = _config(data_dirs, tmp_path, scale=2, init_from=str(source_path),
                     finetune=finetune, iterations=20)
    trainer = Trainer(config, progress=False)
    _assert_same_weights({k: v.cpu() for k, v in trainer.model.state_dict().items()}, source)
    assert trainer.model.scale == 2
    trainer.run()
    after = trainer.model.state_dict()
    body_kept = [torch.equal(source[k], after[k]) for k in source if not k.startswith("deconv.")]
    assert all(body_kept) if finetune == "deconv" else not any(body_kept)
    assert not torch.equal(source["deconv.weight"], after["deconv.weight"])
    assert load_model(trainer.run_dir / "best.safetensors", device="cpu").scale == 2


def test_init_from_other_architecture_is_an_error(data_dirs, tmp_path, random_weights):
    config = _config(data_dirs, tmp_path, model="fsrcnn-s", init_from=str(random_weights("fsrcnn", 3)))
    with pytest.raises(ValueError, match="init_from"):
        Trainer(config, progress=False)


def test_init_from_missing_file(data_dirs, tmp_path):
    config = _config(data_dirs, tmp_path, init_from=str(tmp_path / "none.safetensors"))
    with pytest.raises(ValueError, match="none.safetensors"):
        Trainer(config, progress=False)


def test_init_from_a_list_starts_from_the_mean_of_its_weights(data_dirs, tmp_path, random_weights):
    paths = [random_weights("fsrcnn-s", 3, seed) for seed in (1, 2, 3)]
    states = [{key: value.clone() for key, value in _state(path).items()} for path in paths]
    trainer = Trainer(_config(data_dirs, tmp_path, init_from=[str(p) for p in paths]), progress=False)
    start = trainer.model.state_dict()
    for key, value in start.items():
        torch.testing.assert_close(value, sum(state[key] for state in states) / 3, msg=key)
    assert not torch.equal(start["deconv.weight"], states[0]["deconv.weight"])
    _assert_same_weights(_state(paths[0]), states[0])  # the cached source models are left as they were


def test_init_from_a_list_of_different_models_is_an_error(data_dirs, tmp_path, random_weights):
    paths = [str(random_weights("fsrcnn-s", 3)), str(random_weights("fsrcnn-s", 2))]
    message = r"`init_from`: .*x2.* is \{'scale': 2.*only weights of the same model and scale"
    with pytest.raises(ValueError, match=message):
        Trainer(_config(data_dirs, tmp_path, init_from=paths), progress=False)


def test_zero_iterations_score_and_keep_the_starting_weights(data_dirs, tmp_path, random_weights):
    paths = [str(random_weights("fsrcnn-s", 3, seed)) for seed in (1, 2)]
    trainer = Trainer(_config(data_dirs, tmp_path, iterations=0, init_from=paths), progress=False)
    start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    best = trainer.run()
    assert trainer.iteration == 0 and trainer.best_iteration == 0
    assert trainer.best_psnr == pytest.approx(trainer.validate())
    assert read_tensors(best)[1]["val_psnr"] == f"{trainer.best_psnr:.4f}"
    _assert_same_weights(_state(best), start)


# ------------------------------------------------------------------ weight average


def test_weight_average_follows_the_trained_weights_and_is_what_is_kept(data_dirs, tmp_path):
    decay = 0.75
    trainer = Trainer(_config(data_dirs, tmp_path, ema_decay=decay, val_data=None, iterations=3),
                      progress=False)
    snapshots = []
    step = trainer._step

    def recording_step(lr, hr):
        loss = step(lr, hr)
        snapshots.append({k: v.clone() for k, v in trainer.model.state_dict().items()})
        return loss

    trainer._step = recording_step
    best = trainer.run()
    expected = snapshots[0]  # the first step starts the average
    for weights in snapshots[1:]:
        expected = {k: decay * expected[k] + (1 - decay) * weights[k] for k in expected}
    average = trainer.kept_model.state_dict()
    for key in expected:
        torch.testing.assert_close(average[key], expected[key])
        assert not torch.equal(average[key], snapshots[-1][key]), key
    _assert_same_weights(_state(best), average)  # the saved weights are the average


def test_weight_average_resumes_exactly(data_dirs, tmp_path):
    reference = Trainer(_config(data_dirs, tmp_path / "straight", ema_decay=0.9), progress=False)
    reference.run()
    config = _config(data_dirs, tmp_path / "resumed", ema_decay=0.9)
    trainer = Trainer(config, progress=False)
    _crash_after(trainer, 29, _Crash("power cut"))
    with pytest.raises(_Crash):
        trainer.run()
    resumed = Trainer(config, resume=True, progress=False)
    resumed.run()
    _assert_same_weights(resumed.kept_model.state_dict(), reference.kept_model.state_dict())
    assert resumed.best_psnr == reference.best_psnr
    _assert_same_weights(_state(config.run_dir / "best.safetensors"),
                         _state(reference.run_dir / "best.safetensors"))
    # Validation scored the average: the saved average scores the recorded PSNR.
    from skfsrcnn.evaluate import evaluate, model_upscaler

    saved = load_model(reference.run_dir / "best.safetensors", device="cpu")
    rows = evaluate(model_upscaler(saved), config.val_data, 3, with_ssim=False)
    assert np.mean([p for _, p, _ in rows]) == pytest.approx(reference.best_psnr, abs=1e-3)


@pytest.mark.parametrize("decay", [0, 1, 1.5, -0.1])
def test_weight_average_decay_must_be_in_the_open_unit_interval(decay):
    with pytest.raises(ValueError, match=rf"`ema_decay` must be in \(0, 1\).*got {decay}"):
        TrainConfig(ema_decay=decay)


# ------------------------------------------------------------------- distillation


@pytest.mark.parametrize("share", [0.25, 1.0])
def test_distillation_target_blends_hr_and_the_teachers_output(data_dirs, tmp_path, share):
    config = _config(data_dirs, tmp_path, patch_size=8, distill_from="fsrcnn-x3", distill_share=share)
    sampler = Trainer(config, progress=False).sampler
    images = augment(load_folder(data_dirs[0]), config.downscales, config.rotations, config.flips)
    pairs = degraded_pairs(images, 3)
    assert len(sampler.hr) == len(pairs)  # none smaller than the patch
    teacher = load_model("fsrcnn-x3", device="cpu")
    for (hr, lr), target, sampled_lr in list(zip(pairs, sampler.hr, sampler.lr))[::7]:
        with torch.no_grad():
            taught = teacher(torch.from_numpy(lr).float()[None, None])[0, 0].clamp(0, 1).numpy()
        np.testing.assert_allclose(target, (1 - share) * hr / 255 + share * taught, atol=2e-6)
        np.testing.assert_allclose(sampled_lr, lr, atol=1e-7)
    assert not np.allclose(sampler.hr[0], pairs[0][0] / 255, atol=1e-3)  # the teacher did change it


def test_distillation_ensemble_averages_the_teacher_over_flips_and_rotations(data_dirs, tmp_path):
    config = _config(data_dirs, tmp_path, patch_size=8, distill_from="fsrcnn-x3", distill_share=1.0,
                     distill_ensemble=True)
    sampler = Trainer(config, progress=False).sampler
    teacher = load_model("fsrcnn-x3", device="cpu")

    def taught(lr):
        with torch.no_grad():
            return teacher(torch.from_numpy(np.ascontiguousarray(lr)).float()[None, None])[0, 0].numpy()

    lr, target = sampler.lr[0], sampler.hr[0]
    views = [np.rot90(image, k) for image in (lr, lr[:, ::-1]) for k in range(4)]
    undone = [np.rot90(taught(view), -(k % 4)) for k, view in enumerate(views)]
    undone[4:] = [out[:, ::-1] for out in undone[4:]]
    np.testing.assert_allclose(target, np.clip(np.mean(undone, axis=0), 0, 1), atol=2e-6)
    assert not np.allclose(target, np.clip(taught(lr), 0, 1), atol=1e-3)  # not the single pass


@pytest.mark.parametrize("teacher", ["fsrcnn-x2", "missing.safetensors"])
def test_distillation_teacher_errors_name_the_setting(data_dirs, tmp_path, teacher):
    config = _config(data_dirs, tmp_path, distill_from=teacher)  # scale 3
    with pytest.raises(ValueError, match=f"`distill_from`='{teacher}'"):
        Trainer(config, progress=False)


def test_early_stopping(data_dirs, tmp_path):
    # With a zero learning rate the validation PSNR never improves after the first check.
    config = _config(data_dirs, tmp_path, lr=0.0, val_every=10, early_stopping=2)
    trainer = Trainer(config, progress=False)
    trainer.run()
    assert trainer.iteration == 30
    assert trainer.best_iteration == 10
    assert torch.load(trainer.run_dir / "checkpoint.pt", weights_only=True)["iteration"] == 30


def test_without_validation_keeps_last_weights(data_dirs, tmp_path):
    trainer = Trainer(_config(data_dirs, tmp_path, val_data=None, iterations=10), progress=False)
    best = trainer.run()
    _assert_same_weights(_state(best), {k: v.cpu() for k, v in trainer.model.state_dict().items()})


def test_compiled_step_trains_like_the_eager_one(data_dirs, tmp_path):
    """``compile: true`` runs the same loss through ``torch.compile``: same weights to float rounding."""
    runs = {}
    for compiled in (False, True):
        config = _config(data_dirs, tmp_path / str(compiled), val_data=None, iterations=5, compile=compiled)
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
        config = _config(data_dirs, tmp_path / precision, val_data=None, iterations=5, precision=precision)
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
        Trainer(_config(data_dirs, tmp_path, precision="bfloat16"), progress=False)


def test_two_step_fine_tuning_on_extra_data(data_dirs, tmp_path):
    """The paper's recipe: train on one set, then fine-tune on it plus extra data at a lower lr."""
    from skimage import data

    train, val = data_dirs
    extra = tmp_path / "extra"
    extra.mkdir()
    iio.imwrite(extra / "rocket.png", data.rocket()[150:240, 200:300])
    first = Trainer(_config(data_dirs, tmp_path, name="step1", iterations=20), progress=False)
    best = first.run()

    config = _config(data_dirs, tmp_path, name="step2", init_from=str(best), iterations=20,
                     train_folders=[str(train), str(extra)], lr=1e-4, deconv_lr_scale=0.1)
    second = Trainer(config, progress=False)
    _assert_same_weights({k: v.cpu() for k, v in second.model.state_dict().items()}, _state(best))
    assert len(second.sampler.lr) == len(first.sampler.lr) // 3 * 4  # 3 images, then 4, augmented alike
    assert [group["lr"] for group in second.optimizer.param_groups] == [1e-4, 1e-5]
    second.run()
    for key, value in second.model.state_dict().items():
        assert not torch.equal(value.cpu(), _state(best)[key]), key
    assert load_config(config.run_dir / "config.yaml").init_from == str(best)


# --------------------------------------------------------------------------- SRCNN


def test_srcnn_trains_evaluates_and_upscales(data_dirs, tmp_path, capsys):
    from skfsrcnn import upscale
    from skfsrcnn.cli.eval import main as evaluate_main
    from skfsrcnn.models import SRCNN

    config = _config(data_dirs, tmp_path, model="srcnn", patch_size=8, batch_size=4, iterations=4,
                     val_every=2, checkpoint_every=2, lr=1e-3)
    trainer = Trainer(config, progress=False)
    assert isinstance(trainer.model, SRCNN) and trainer.model.config["scale"] == 3
    last = {id(p) for p in trainer.model.reconstruction.parameters()}
    groups = {group["lr"]: {id(p) for p in group["params"]} for group in trainer.optimizer.param_groups}
    assert groups[1e-3 * config.deconv_lr_scale] == last
    assert groups[1e-3] == {id(p) for p in trainer.model.parameters()} - last
    best = trainer.run()

    model = load_model(best, device="cpu")
    assert isinstance(model, SRCNN)
    assert isinstance(load_model(config.run_dir / "checkpoint.pt"), SRCNN)
    assert evaluate_main(["--weights", str(best), "--data", config.val_data, "--scale", "3",
                          "--device", "cpu"]) == 0
    assert "mean" in capsys.readouterr().out
    image = np.random.default_rng(0).random((20, 17))
    assert upscale(image, 3, weights=best).shape == (60, 51)


def test_srcnn_finetune_last_layer_only(data_dirs, tmp_path):
    config = _config(data_dirs, tmp_path, model="srcnn", patch_size=8, batch_size=4, iterations=2,
                     val_data=None, finetune="deconv")
    trainer = Trainer(config, progress=False)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.run()
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(before[key], value) != key.startswith("reconstruction."), key


def test_init_from_srcnn_into_fsrcnn_is_an_error(data_dirs, tmp_path):
    from skfsrcnn.models import SRCNN
    from skfsrcnn.pretrained import save_weights

    path = tmp_path / "srcnn.safetensors"
    save_weights(SRCNN(3, n1=8, n2=4), path)
    with pytest.raises(ValueError, match=r"`init_from`=.*srcnn\.safetensors.* cannot be transferred"):
        Trainer(_config(data_dirs, tmp_path, init_from=str(path)), progress=False)


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
    values = {"patch_size": 8, "batch_size": 4, "iterations": 4, "val_every": 2, "checkpoint_every": 2,
              "log_every": 1, "perceptual_weights": str(vgg_file), "perceptual_layer": "relu2_2",
              "perceptual_scale": 0.1}
    return _config(data_dirs, tmp_path, **{**values, **overrides})


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
    losses = [float(row["loss"]) for row in _log_rows(config.run_dir)]
    assert len(losses) == 3 and all(math.isfinite(v) and v > 0 for v in losses)
    for key, value in trainer.perceptual.state_dict().items():
        assert torch.equal(value, vgg[key]), key
    assert set(torch.load(config.run_dir / "checkpoint.pt", weights_only=True)["model"]) == set(
        trainer.model.state_dict())  # the VGG weights stay in their file


def test_perceptual_loss_is_added_to_the_mse(data_dirs, tmp_path, vgg_file):
    trainer = Trainer(_perceptual_config(data_dirs, tmp_path, vgg_file), progress=False)
    lr, hr = (torch.from_numpy(a) for a in trainer.sampler.sample())
    with torch.no_grad():
        out = trainer.network(lr)
        expected = F.mse_loss(out, hr) + 0.1 * trainer.perceptual(out, hr)
    assert trainer._step(lr, hr) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize(("name", "loss"), [
    ("l1", F.l1_loss),
    ("charbonnier", lambda out, hr: torch.sqrt((out - hr) ** 2 + 1e-6).mean()),
])
def test_pixel_loss_is_the_one_configured(data_dirs, tmp_path, name, loss):
    config = _config(data_dirs, tmp_path, patch_size=8, batch_size=4, iterations=2, pixel_loss=name)
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
    _crash_after(trainer, 3, _Crash("power cut"))
    with pytest.raises(_Crash):
        trainer.run()
    resumed = Trainer(config, resume=True, progress=False)
    assert resumed.iteration == 2
    resumed.run()
    _assert_same_weights(resumed.model.state_dict(), reference.model.state_dict())
    assert resumed.best_psnr == reference.best_psnr


def test_perceptual_weights_missing(data_dirs, tmp_path):
    config = _config(data_dirs, tmp_path, perceptual_weights=str(tmp_path / "vgg16.pth"))
    with pytest.raises(FileNotFoundError, match=r"vgg16\.pth' does not exist"):
        Trainer(config, progress=False)


# ----------------------------------------------------------------------------- the CLI


def test_cli_end_to_end(data_dirs, tmp_path, capsys):
    train, val = data_dirs
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({
        "name": "cli", "model": "fsrcnn-s", "scale": 2, "train_folders": [str(train)],
        "val_data": str(val), "patch_size": 16, "batch_size": 8, "iterations": 40,
        "val_every": 10, "checkpoint_every": 10, "device": "cpu", "output_dir": str(tmp_path / "runs"),
    }))
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
            raise AssertionError(f"skfsrcnn-train exited ({process.returncode}) before {what}: "
                                 f"{process.stderr.read()}")
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
    return max(int(row["iteration"]) for row in _log_rows(run_dir) if row["iteration"].isdigit())


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
    config.write_text(yaml.safe_dump({
        "name": "crash", "model": "fsrcnn-s", "scale": 2, "train_folders": [str(train)], "val_data": None,
        "downscales": [1.0], "rotations": [0], "patch_size": 8, "batch_size": 4, "iterations": 10**6,
        "checkpoint_every": every, "log_every": 1, "threads": 1, "device": "cpu",
        "output_dir": str(tmp_path / "runs"),
    }))
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
    finished = subprocess.run(_train_command(config, "--resume", "--set", f"iterations={final}"),
                              capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["iteration"] == final
    assert load_model(run_dir / "best.safetensors", device="cpu").scale == 2
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".")]  # the partial file is gone
