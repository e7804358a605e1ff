"""Weights files that lie: bounded architectures, tensors that disagree, the scale of plain state dicts."""

import json

import pytest
import torch
from safetensors.torch import save_file

from skfsrcnn._weights_checks import checked_architecture, scale_of_weights
from skfsrcnn.models import FSRCNN
from skfsrcnn.pretrained import load_model


def _trained(name="fsrcnn-s-x3"):
    return load_model(name)


def _saved(tmp_path, state, architecture, name="w.safetensors"):
    path = tmp_path / name
    metadata = {"format": "skfsrcnn", "network": "FSRCNN", "architecture": json.dumps(architecture)}
    save_file({k: v.contiguous() for k, v in state.items()}, str(path), metadata=metadata)
    return path


@pytest.mark.parametrize(
    "architecture, match",
    [
        ({"scale": 2, "d": 100_000, "s": 5, "m": 1}, r"d=100000, outside \[1, 1024\]"),
        ({"scale": 2, "d": -3, "s": 5, "m": 1}, r"d=-3, outside"),
        ({"scale": 2.5, "d": 32, "s": 5, "m": 1}, r"scale=2\.5, outside"),
        ({"scale": 2, "d": True, "s": 5, "m": 1}, r"d=True, outside"),
        ({"scale": 2, "d": 32, "s": 5, "m": 1, "evil": 1}, r"architecture keys evil"),
        ([1, 2], r"not a mapping of scale, d, s, m"),
    ],
)
def test_absurd_architectures_are_refused_before_allocating(architecture, match):
    with pytest.raises(ValueError, match=match):
        checked_architecture("FSRCNN", architecture, "w.safetensors")


def test_a_huge_architecture_in_a_small_file_allocates_nothing(tmp_path, monkeypatch):
    path = _saved(tmp_path, FSRCNN(2, 32, 5, 1).state_dict(), {"scale": 2, "d": 1024, "s": 1024, "m": 64})
    built = []
    monkeypatch.setattr(FSRCNN, "reset_parameters", lambda self: built.append(self))
    with pytest.raises(
        ValueError, match=r"does not match the FSRCNN .* it describes: mapping\.1\.0\.weight is missing"
    ):
        load_model(path)
    assert all(p.is_meta for model in built for p in model.parameters())


@pytest.mark.parametrize("name, scale", [("fsrcnn-s-x2", 2), ("fsrcnn-x3", 3), ("fsrcnn-s-fluo-x4", 4)])
def test_the_scale_of_trained_weights_is_found(name, scale):
    model = _trained(name)
    architecture = {k: v for k, v in model.config.items() if k != "scale"}
    assert scale_of_weights(FSRCNN, architecture, model.state_dict()) == scale


def test_untrained_weights_have_no_scale():
    torch.manual_seed(0)
    assert scale_of_weights(FSRCNN, {"d": 32, "s": 5, "m": 1}, FSRCNN(2, 32, 5, 1).state_dict()) is None


def test_a_plain_state_dict_gets_its_scale_from_its_weights(tmp_path):
    path = tmp_path / "x3.pt"
    torch.save(_trained().state_dict(), path)
    assert load_model(path).scale == 3
    with pytest.raises(ValueError, match=r"x3\.pt' was trained for scale 3, but `scale`=2; use scale=3"):
        load_model(path, scale=2)


def test_metadata_that_lies_about_the_scale_is_refused(tmp_path):
    path = _saved(tmp_path, _trained().state_dict(), {"scale": 2, "d": 32, "s": 5, "m": 1})
    with pytest.raises(ValueError, match=r"records scale 2, but its weights work at x3 .*use scale=3"):
        load_model(path)


@pytest.mark.parametrize(
    "raw, match",
    [(b"", r"is empty \(0 bytes\)"), (b"hello world" * 10, r"is not a readable PyTorch file \(\w+Error")],
)
def test_empty_and_garbage_torch_files_say_what_they_are(tmp_path, raw, match):
    path = tmp_path / "w.pt"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=match):
        load_model(path, scale=2)
