"""Tests for skfsrcnn.train.config: YAML files, ``--set`` overrides, base configs and the checks of every setting."""

import pytest

from skfsrcnn.train import TrainConfig, load_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --------------------------------------------------------------------------- config


def test_overrides_are_parsed_as_yaml():
    config = load_config(
        None,
        ["scale=4", "iterations=10", "lr=1e-3", "flips=true", "train_folders=[a, b]", "init_from=null", "name=x=y"],
    )
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
        ("batch_size=0", "batch_size"),
        ("val_every=0", "val_every"),
        ("checkpoint_every=0", "checkpoint_every"),
        ("iterations=-1", "iterations"),
        ("time_budget=0", "time_budget"),
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
