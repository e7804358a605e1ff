"""Recipes (recipes/*.yaml, skfsrcnn.train.recipe) and the registry entries they make."""

import dataclasses
import importlib.util
from pathlib import Path

import imageio.v3 as iio
import pytest
import torch
import yaml

from skfsrcnn.cli.train import main
from skfsrcnn.pretrained import REGISTRY, load_model
from skfsrcnn.train import Trainer
from skfsrcnn.train import recipe as recipe_module
from skfsrcnn.train.recipe import expand_stage, load_recipe, plan, stage_status

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[1]


def _recipe(name):
    return ROOT / "recipes" / f"{name}.yaml"


# ------------------------------------------------------------------ the shipped recipes


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registry_entry_names_its_recipe_and_final_stage(name):
    entry = REGISTRY[name]
    assert entry["recipe"] == f"recipes/{name}.yaml"
    stages = load_recipe(ROOT / entry["recipe"])
    final = stages[-1]
    assert final.name == entry["stage"]
    assert (final.model, final.scale) == (entry["architecture"], entry["scale"])
    # Photo weights report Set5/Set14 and were selected on BSD200/val; microscopy weights on DSB2018-fluo/val.
    expected = {"DSB2018-fluo/val"} if "-fluo-" in name else {"Set5", "Set14", "BSD200/val"}
    assert expected <= set(entry["scores"])


def test_recipes_are_the_registry():
    assert sorted(path.stem for path in (ROOT / "recipes").glob("*.yaml")) == sorted(REGISTRY)


def test_stages_of_one_name_are_the_same_run_in_every_recipe():
    """Stages share run folders by name, so a name must mean the same settings everywhere."""
    seen = {}
    for name in REGISTRY:
        for config in load_recipe(_recipe(name)):
            assert seen.setdefault(config.name, config) == config, (name, config.name)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_parent_is_an_earlier_stage(name):
    """A stage starts from, averages and learns from stages trained before it, shipped weights, or nothing."""
    trained = set()
    for config in load_recipe(_recipe(name)):
        for used in (*config.init_weights, *([config.distill_from] if config.distill_from else [])):
            if used in REGISTRY:  # shipped weights, made by their own recipe
                continue
            assert Path(used).parent.name in trained, f"{config.name} uses {used}"
            assert used == str(Path("runs") / Path(used).parent.name / "best.safetensors")
        trained.add(config.name)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_recipes_name_their_data_explicitly(name):
    settings = yaml.safe_load(_recipe(name).read_text())["settings"]
    assert settings["train_folders"] and settings["val_data"]
    for config in load_recipe(_recipe(name)):
        for folder in (*config.train_folders, config.val_data):
            assert folder.startswith(("../shared/datasets/", "data/")), (config.name, folder)


def test_registry_names_the_training_data_of_every_stage_its_weights_descend_from():
    """``training_data`` names the folders of the final stage and of each stage it started from.

    A stage's own folders can understate it: FSRCNN-s x2's last trained stages use T91 alone, earlier ones
    photographs too.
    """
    spec = importlib.util.spec_from_file_location("release_weights", ROOT / "scripts" / "release_weights.py")
    release = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(release)
    for name, entry in REGISTRY.items():
        chain = release.lineage(load_recipe(_recipe(name)))
        assert chain[0].name == entry["stage"]
        folders = {Path(folder).name for config in chain for folder in config.train_folders}
        assert set(entry["training_data"].split(" (augmented")[0].split(", ")) == folders, name
    assert "skimage-photos" in REGISTRY["fsrcnn-s-x2"]["training_data"]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_dry_run_prints_the_full_chain(name, monkeypatch, capsys):
    monkeypatch.setattr(recipe_module, "measure_throughput", lambda config: 100.0)
    assert main([str(_recipe(name)), "--dry-run", "--set", "output_dir=/nonexistent"]) == 0
    out = capsys.readouterr().out.splitlines()
    stages = load_recipe(_recipe(name))
    rows = [line.split()[1] for line in out[2:-2]]
    assert rows == [config.name for config in stages]
    assert f"{len(stages)} stage(s), 0 done" in out[0]
    seconds = sum(config.iterations for config in stages) / 100.0
    assert f"about {recipe_module._duration(seconds)}" in out[0]


# ------------------------------------------------------------------ expansion


def test_expand_stage_resolves_earlier_stages_only():
    settings = {"model": "fsrcnn-s", "train_folders": ["data"], "output_dir": "out"}
    config = expand_stage(
        settings, {"name": "c", "init_from": ["a", "b"], "distill_from": "fsrcnn-x3"}, earlier={"a", "b"}, later=()
    )
    assert config.init_from == [str(Path("out/a/best.safetensors")), str(Path("out/b/best.safetensors"))]
    assert config.distill_from == "fsrcnn-x3"  # not a stage: the registry's weights
    with pytest.raises(ValueError, match="`init_from` names stage 'b', which comes later"):
        expand_stage(settings, {"name": "a", "init_from": "b"}, earlier=(), later={"b"})
    with pytest.raises(ValueError, match="`distill_from` names itself"):
        expand_stage(settings, {"name": "a", "distill_from": "a"}, earlier=(), later=())


def test_overrides_are_literal_and_move_the_runs(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(
        "settings: {model: fsrcnn-s, train_folders: [data]}\nstages:\n  - {name: a}\n  - {name: b, init_from: a}\n"
    )
    first, second = load_recipe(path, ["output_dir=elsewhere", "threads=3"])
    assert second.init_from == str(Path("elsewhere/a/best.safetensors"))
    assert first.threads == second.threads == 3
    assert load_recipe(path, ["init_from=a"])[1].init_from == "a"  # a value of --set is never a stage
    with pytest.raises(ValueError, match="stages of a recipe keep their names"):
        load_recipe(path, ["name=x"])


@pytest.mark.parametrize(
    "text, message",
    [
        ("stages: []\n", "`stages` in .* must be a list of mappings"),
        ("stages:\n  - {iterations: 3}\n", "Stage 1 of .* has no `name`"),
        ("stages:\n  - {name: a}\n  - {name: a}\n", "Two stages of .* are named 'a'"),
        ("stages:\n  - {name: a, lr_rate: 3}\n", "Unknown settings in stage 'a' of .*: lr_rate"),
        ("settings: {name: a}\nstages:\n  - {name: a}\n", "`settings` in .* must map setting names"),
        ("setting: {}\nstages:\n  - {name: a}\n", r"Unknown settings in recipe .* \(top level\): setting"),
    ],
)
def test_bad_recipes_are_refused(tmp_path, text, message):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_recipe(path)


# ------------------------------------------------------------------ running a tiny recipe


@pytest.fixture
def tiny_recipe(tmp_path):
    """A recipe of two short stages and their mean, on small crops, with its runs in ``tmp_path/runs``."""
    from skimage import data

    train = tmp_path / "train"
    train.mkdir()
    iio.imwrite(train / "camera.png", data.camera()[100:180, 200:290])
    iio.imwrite(train / "coffee.png", data.coffee()[120:210, 250:330])
    path = tmp_path / "tiny.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "settings": {
                    "model": "fsrcnn-s",
                    "scale": 2,
                    "train_folders": [str(train)],
                    "val_data": str(train),
                    "downscales": [1.0],
                    "rotations": [0],
                    "patch_size": 8,
                    "batch_size": 4,
                    "iterations": 8,
                    "val_every": 4,
                    "checkpoint_every": 4,
                    "device": "cpu",
                    "output_dir": str(tmp_path / "runs"),
                },
                "stages": [
                    {"name": "a"},
                    {"name": "b", "init_from": "a", "seed": 1},
                    {"name": "mean", "init_from": ["a", "b"], "iterations": 0},
                ],
            },
            sort_keys=False,
        )
    )
    return path


def _statuses(path):
    return [stage_status(config) for config in load_recipe(path)]


def test_a_recipe_runs_its_stages_in_order_then_skips_them(tiny_recipe, capsys):
    assert main([str(tiny_recipe), "--no-progress"]) == 0
    assert _statuses(tiny_recipe) == ["done"] * 3
    runs = tiny_recipe.parent / "runs"
    a, b = (load_model(runs / name / "best.safetensors", device="cpu").state_dict() for name in "ab")
    mean = load_model(runs / "mean" / "best.safetensors", device="cpu").state_dict()
    for key in mean:
        assert torch.allclose(mean[key], (a[key] + b[key]) / 2), key
    capsys.readouterr()
    assert main([str(tiny_recipe), "--no-progress"]) == 0
    assert capsys.readouterr().out.count("skipped") == 3


def test_a_recipe_resumes_an_interrupted_stage(tiny_recipe, capsys):
    configs = load_recipe(tiny_recipe)
    Trainer(configs[0], progress=False).run()
    Trainer(dataclasses.replace(configs[1], iterations=4), progress=False).run()  # stopped half way
    assert _statuses(tiny_recipe) == ["done", "partial", "new"]
    assert [row["iterations"] for row in plan(configs, measure=lambda config: 1.0)] == [0, 4, 0]
    assert main([str(tiny_recipe), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "a: done" in out and "b: resuming" in out and "mean: starting" in out
    assert torch.load(configs[1].run_dir / "checkpoint.pt", weights_only=True)["iteration"] == 8


def test_stage_runs_one_stage_once_its_parents_exist(tiny_recipe, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tiny_recipe), "--stage", "b", "--no-progress"])
    assert exit_info.value.code == 2
    assert "train stage 'a' first (--stage a)" in capsys.readouterr().err
    assert main([str(tiny_recipe), "--stage", "a", "--no-progress"]) == 0
    assert _statuses(tiny_recipe) == ["done", "new", "new"]
    with pytest.raises(SystemExit):
        main([str(tiny_recipe), "--stage", "c"])
    assert "its stages are a, b, mean" in capsys.readouterr().err


def test_dry_run_times_real_iterations_and_trains_nothing(tiny_recipe, capsys):
    assert main([str(tiny_recipe), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "3 stage(s), 0 done; 16 iterations left" in out and "mean of a, b" in out
    assert not (tiny_recipe.parent / "runs").exists()


def test_single_run_configs_still_train_and_plan(tiny_recipe, tmp_path, capsys):
    settings = yaml.safe_load(tiny_recipe.read_text())["settings"]
    config = tmp_path / "one.yaml"
    config.write_text(yaml.safe_dump({**settings, "name": "one"}))
    assert main([str(config), "--dry-run"]) == 0
    assert "1 stage(s), 0 done; 8 iterations left" in capsys.readouterr().out
    assert main([str(config), "--no-progress"]) == 0
    assert "best weights:" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([str(config), "--stage", "one"])
    assert "`--stage one` needs a recipe" in capsys.readouterr().err


def test_training_without_train_folders_says_what_to_set(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--set", f"output_dir={tmp_path}", "--no-progress"])
    assert exit_info.value.code == 2
    assert "`train_folders` is empty" in capsys.readouterr().err


def test_measure_throughput_times_a_stage():
    from skfsrcnn.train import TrainConfig

    rate = recipe_module.measure_throughput(
        TrainConfig(model="fsrcnn-s", scale=2, patch_size=8, batch_size=2, device="cpu"), steps=1
    )
    assert rate > 0


# ------------------------------------------------------------------ the starter configs


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.stem)
def test_starter_configs_load_and_say_what_they_reach(path):
    from skfsrcnn.train import load_config

    config = load_config(path)
    assert config.name == path.stem
    for folder in (*config.train_folders, config.val_data):
        assert folder.startswith("../shared/datasets/"), folder
    assert "Set5" not in config.val_data and "Set14" not in config.val_data  # test sets: report only
    lines = path.read_text().rstrip().splitlines()
    settings = max(i for i, line in enumerate(lines) if not line.startswith("#"))
    tail = lines[settings + 1 :]  # the closing comment
    assert tail[0].startswith("# Reaches:") and tail[-1].startswith("# Time:")


def test_configs_and_recipes_stay_few():
    assert len([*(ROOT / "configs").iterdir(), *(ROOT / "recipes").iterdir()]) <= 25
