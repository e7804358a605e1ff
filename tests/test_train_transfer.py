"""Tests for skfsrcnn.train.trainer's starting points: transfer and fine-tuning, weight averaging, distillation,
SRCNN."""

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from train_helpers import Crash, assert_same_weights, crash_after, tiny_config, weights_state

from skfsrcnn.datasets import augment, degraded_pairs, load_folder
from skfsrcnn.pretrained import load_model, read_tensors
from skfsrcnn.train import TrainConfig, Trainer, load_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------ transfer / fine-tune


def test_finetune_deconv_keeps_body(data_dirs, tmp_path):
    trainer = Trainer(tiny_config(data_dirs, tmp_path, finetune="deconv", iterations=20), progress=False)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.run()
    after = trainer.model.state_dict()
    for key in before:
        if key.startswith("deconv."):
            assert not torch.equal(before[key], after[key]), key
        else:
            assert torch.equal(before[key], after[key]), key
    assert_same_weights(weights_state(trainer.run_dir / "best.safetensors"), {k: v.cpu() for k, v in after.items()})


@pytest.mark.parametrize("finetune", ["deconv", "all"])
def test_init_from_another_scale(data_dirs, tmp_path, random_weights, finetune):
    source_path = random_weights("fsrcnn-s", 3)
    source = weights_state(source_path)
    config = tiny_config(data_dirs, tmp_path, scale=2, init_from=str(source_path), finetune=finetune, iterations=20)
    trainer = Trainer(config, progress=False)
    assert_same_weights({k: v.cpu() for k, v in trainer.model.state_dict().items()}, source)
    assert trainer.model.scale == 2
    trainer.run()
    after = trainer.model.state_dict()
    body_kept = [torch.equal(source[k], after[k]) for k in source if not k.startswith("deconv.")]
    assert all(body_kept) if finetune == "deconv" else not any(body_kept)
    assert not torch.equal(source["deconv.weight"], after["deconv.weight"])
    assert load_model(trainer.run_dir / "best.safetensors", device="cpu").scale == 2


def test_init_from_other_architecture_is_an_error(data_dirs, tmp_path, random_weights):
    config = tiny_config(data_dirs, tmp_path, model="fsrcnn-s", init_from=str(random_weights("fsrcnn", 3)))
    with pytest.raises(ValueError, match="init_from"):
        Trainer(config, progress=False)


def test_init_from_missing_file(data_dirs, tmp_path):
    config = tiny_config(data_dirs, tmp_path, init_from=str(tmp_path / "none.safetensors"))
    with pytest.raises(ValueError, match="none.safetensors"):
        Trainer(config, progress=False)


def test_init_from_a_list_starts_from_the_mean_of_its_weights(data_dirs, tmp_path, random_weights):
    paths = [random_weights("fsrcnn-s", 3, seed) for seed in (1, 2, 3)]
    states = [{key: value.clone() for key, value in weights_state(path).items()} for path in paths]
    trainer = Trainer(tiny_config(data_dirs, tmp_path, init_from=[str(p) for p in paths]), progress=False)
    start = trainer.model.state_dict()
    for key, value in start.items():
        torch.testing.assert_close(value, sum(state[key] for state in states) / 3, msg=key)
    assert not torch.equal(start["deconv.weight"], states[0]["deconv.weight"])
    assert_same_weights(weights_state(paths[0]), states[0])  # the cached source models are left as they were


def test_init_from_a_list_of_different_models_is_an_error(data_dirs, tmp_path, random_weights):
    paths = [str(random_weights("fsrcnn-s", 3)), str(random_weights("fsrcnn-s", 2))]
    message = r"`init_from`: .*x2.* is \{'scale': 2.*only weights of the same model and scale"
    with pytest.raises(ValueError, match=message):
        Trainer(tiny_config(data_dirs, tmp_path, init_from=paths), progress=False)


def test_zero_iterations_score_and_keep_the_starting_weights(data_dirs, tmp_path, random_weights):
    paths = [str(random_weights("fsrcnn-s", 3, seed)) for seed in (1, 2)]
    trainer = Trainer(tiny_config(data_dirs, tmp_path, iterations=0, init_from=paths), progress=False)
    start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    best = trainer.run()
    assert trainer.iteration == 0 and trainer.best_iteration == 0
    assert trainer.best_psnr == pytest.approx(trainer.validate())
    assert read_tensors(best)[1]["val_psnr"] == f"{trainer.best_psnr:.4f}"
    assert_same_weights(weights_state(best), start)


# ------------------------------------------------------------------ weight average


def test_weight_average_follows_the_trained_weights_and_is_what_is_kept(data_dirs, tmp_path):
    decay = 0.75
    trainer = Trainer(tiny_config(data_dirs, tmp_path, ema_decay=decay, val_data=None, iterations=3), progress=False)
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
    assert_same_weights(weights_state(best), average)  # the saved weights are the average


def test_weight_average_resumes_exactly(data_dirs, tmp_path):
    reference = Trainer(tiny_config(data_dirs, tmp_path / "straight", ema_decay=0.9), progress=False)
    reference.run()
    config = tiny_config(data_dirs, tmp_path / "resumed", ema_decay=0.9)
    trainer = Trainer(config, progress=False)
    crash_after(trainer, 29, Crash("power cut"))
    with pytest.raises(Crash):
        trainer.run()
    resumed = Trainer(config, resume=True, progress=False)
    resumed.run()
    assert_same_weights(resumed.kept_model.state_dict(), reference.kept_model.state_dict())
    assert resumed.best_psnr == reference.best_psnr
    assert_same_weights(
        weights_state(config.run_dir / "best.safetensors"), weights_state(reference.run_dir / "best.safetensors")
    )
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
    config = tiny_config(data_dirs, tmp_path, patch_size=8, distill_from="fsrcnn-x3", distill_share=share)
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
    config = tiny_config(
        data_dirs, tmp_path, patch_size=8, distill_from="fsrcnn-x3", distill_share=1.0, distill_ensemble=True
    )
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
    config = tiny_config(data_dirs, tmp_path, distill_from=teacher)  # scale 3
    with pytest.raises(ValueError, match=f"`distill_from`='{teacher}'"):
        Trainer(config, progress=False)


def test_two_step_fine_tuning_on_extra_data(data_dirs, tmp_path):
    """The paper's recipe: train on one set, then fine-tune on it plus extra data at a lower lr."""
    from skimage import data

    train, val = data_dirs
    extra = tmp_path / "extra"
    extra.mkdir()
    iio.imwrite(extra / "rocket.png", data.rocket()[150:240, 200:300])
    first = Trainer(tiny_config(data_dirs, tmp_path, name="step1", iterations=20), progress=False)
    best = first.run()

    config = tiny_config(
        data_dirs,
        tmp_path,
        name="step2",
        init_from=str(best),
        iterations=20,
        train_folders=[str(train), str(extra)],
        lr=1e-4,
        deconv_lr_scale=0.1,
    )
    second = Trainer(config, progress=False)
    assert_same_weights({k: v.cpu() for k, v in second.model.state_dict().items()}, weights_state(best))
    assert len(second.sampler.lr) == len(first.sampler.lr) // 3 * 4  # 3 images, then 4, augmented alike
    assert [group["lr"] for group in second.optimizer.param_groups] == [1e-4, 1e-5]
    second.run()
    for key, value in second.model.state_dict().items():
        assert not torch.equal(value.cpu(), weights_state(best)[key]), key
    assert load_config(config.run_dir / "config.yaml").init_from == str(best)


# --------------------------------------------------------------------------- SRCNN


def test_srcnn_trains_evaluates_and_upscales(data_dirs, tmp_path, capsys):
    from skfsrcnn import upscale
    from skfsrcnn.cli.eval import main as evaluate_main
    from skfsrcnn.models import SRCNN

    config = tiny_config(
        data_dirs,
        tmp_path,
        model="srcnn",
        patch_size=8,
        batch_size=4,
        iterations=4,
        val_every=2,
        checkpoint_every=2,
        lr=1e-3,
    )
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
    assert evaluate_main(["--weights", str(best), "--data", config.val_data, "--scale", "3", "--device", "cpu"]) == 0
    assert "mean" in capsys.readouterr().out
    image = np.random.default_rng(0).random((20, 17))
    assert upscale(image, 3, weights=best).shape == (60, 51)


def test_srcnn_finetune_last_layer_only(data_dirs, tmp_path):
    config = tiny_config(
        data_dirs, tmp_path, model="srcnn", patch_size=8, batch_size=4, iterations=2, val_data=None, finetune="deconv"
    )
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
        Trainer(tiny_config(data_dirs, tmp_path, init_from=str(path)), progress=False)
