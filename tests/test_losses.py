"""Tests for skfsrcnn.train.losses: the pixel losses, VGG16 layers, weights files and the perceptual loss."""

import pytest
import torch
from torch.nn import functional as F

from skfsrcnn.train import VGG16_LAYERS, PerceptualLoss, VGG16Features
from skfsrcnn.train.losses import PIXEL_LOSSES, charbonnier_loss

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: torchvision's vgg16().features: the index and weight shape of every convolution.
TORCHVISION_CONVS = {
    0: (64, 3),
    2: (64, 64),
    5: (128, 64),
    7: (128, 128),
    10: (256, 128),
    12: (256, 256),
    14: (256, 256),
    17: (512, 256),
    19: (512, 512),
    21: (512, 512),
    24: (512, 512),
    26: (512, 512),
    28: (512, 512),
}


def test_charbonnier_is_smooth_l1():
    diff = torch.tensor([0.0, 1e-4, 0.01, -0.3])
    values = [float(charbonnier_loss(d, torch.zeros(()))) for d in diff]
    assert values[0] == pytest.approx(1e-3)  # epsilon where output equals target
    assert values[2:] == pytest.approx([0.01, 0.3], rel=1e-2)  # |d| further out
    diff.requires_grad_(True)
    charbonnier_loss(diff, torch.zeros(4)).backward()
    assert torch.isfinite(diff.grad).all() and diff.grad[0] == 0


def test_pixel_losses_are_mse_l1_and_charbonnier():
    assert set(PIXEL_LOSSES) == {"mse", "l1", "charbonnier"}
    assert PIXEL_LOSSES["mse"] is F.mse_loss and PIXEL_LOSSES["l1"] is F.l1_loss


@pytest.fixture(scope="module")
def vgg_state():
    """A random VGG16 ``features`` state dict up to relu3_3, torchvision's key names."""
    torch.manual_seed(0)
    return VGG16Features("relu3_3").state_dict()


@pytest.fixture
def vgg_file(tmp_path, vgg_state):
    path = tmp_path / "vgg16.pth"
    torch.save(vgg_state, path)
    return path


def test_layers_match_torchvision():
    assert VGG16_LAYERS == (
        "relu1_1",
        "relu1_2",
        "relu2_1",
        "relu2_2",
        "relu3_1",
        "relu3_2",
        "relu3_3",
        "relu4_1",
        "relu4_2",
        "relu4_3",
        "relu5_1",
        "relu5_2",
        "relu5_3",
    )
    vgg = VGG16Features("relu5_3")
    shapes = {key: tuple(value.shape) for key, value in vgg.state_dict().items()}
    assert shapes == {
        **{f"features.{i}.weight": (out, cin, 3, 3) for i, (out, cin) in TORCHVISION_CONVS.items()},
        **{f"features.{i}.bias": (out,) for i, (out, _) in TORCHVISION_CONVS.items()},
    }
    pools = [i for i, layer in enumerate(vgg.features) if isinstance(layer, torch.nn.MaxPool2d)]
    assert pools == [4, 9, 16, 23]  # torchvision's last pool (30) follows relu5_3


@pytest.mark.parametrize(
    ("layer", "modules", "shape"),
    [
        ("relu1_1", 2, (64, 16, 16)),
        ("relu2_2", 9, (128, 8, 8)),
        ("relu3_3", 16, (256, 4, 4)),
        ("relu5_3", 30, (512, 1, 1)),
    ],
)
def test_features_stop_at_the_layer(layer, modules, shape):
    vgg = VGG16Features(layer)
    assert len(vgg.features) == modules
    assert isinstance(vgg.features[-1], torch.nn.ReLU)
    assert vgg(torch.rand(2, 3, 16, 16)).shape == (2, *shape)


def _layout(vgg_state, layout):
    if layout == "features-only":
        return {key.removeprefix("features."): value for key, value in vgg_state.items()}
    if layout == "full-model":
        return {**vgg_state, "classifier.0.weight": torch.zeros(4, 8), "classifier.0.bias": torch.zeros(4)}
    return vgg_state


@pytest.mark.parametrize("layout", ["features-only", "full-model", "features-keys"])
@pytest.mark.parametrize("suffix", [".pth", ".pt", ".safetensors"])
def test_from_file_loads_torchvision_state_dicts(tmp_path, vgg_state, layout, suffix):
    from safetensors.torch import save_file

    state = _layout(vgg_state, layout)
    path = tmp_path / f"vgg16{suffix}"
    if suffix == ".safetensors":
        save_file(state, str(path))
    else:
        torch.save(state, path)
    vgg = VGG16Features.from_file(path, "relu2_2")
    assert not vgg.training
    loaded = vgg.state_dict()
    assert len(loaded) == 8
    for key, value in loaded.items():
        assert torch.equal(value, vgg_state[key]), key
        assert not value.requires_grad and value.device.type == "cpu"


def test_from_file_converts_half_precision(tmp_path, vgg_state):
    path = tmp_path / "vgg16.pth"
    torch.save({key: value.half() for key, value in vgg_state.items()}, path)
    vgg = VGG16Features.from_file(path, "relu1_2")
    assert vgg.features[0].weight.dtype == torch.float32


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"`weights` file .*nowhere\.pth' does not exist.*torchvision"):
        VGG16Features.from_file(tmp_path / "nowhere.pth")


def test_wrong_suffix(tmp_path):
    path = tmp_path / "vgg16.npz"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"must end in \.pth, \.pt, \.safetensors"):
        PerceptualLoss(path)


def test_unknown_layer(vgg_file):
    with pytest.raises(ValueError, match=r"`layer` must be one of relu1_1, .*relu5_3; got 'conv2_2'"):
        PerceptualLoss(vgg_file, "conv2_2")
    with pytest.raises(ValueError, match="`layer`"):
        VGG16Features("relu6_1")


def test_wrong_keys(tmp_path):
    path = tmp_path / "resnet.pth"
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7), "fc.weight": torch.zeros(10, 512)}, path)
    with pytest.raises(
        ValueError,
        match=r"lacks features\.0\.weight, features\.0\.bias, features\.2\.weight, "
        r"\.\.\., needed up to 'relu2_2'; it holds conv1\.weight, fc\.weight",
    ):
        PerceptualLoss(path)


def test_layers_beyond_the_file(vgg_file):
    PerceptualLoss(vgg_file, "relu3_3")
    with pytest.raises(ValueError, match=r"lacks features\.17\.weight, features\.17\.bias, needed up to 'relu4_1'"):
        PerceptualLoss(vgg_file, "relu4_1")


def test_wrong_shapes(tmp_path, vgg_state):
    path = tmp_path / "vgg19ish.pth"
    torch.save({**vgg_state, "features.2.weight": torch.zeros(64, 64, 1, 1)}, path)
    with pytest.raises(ValueError, match=r"features\.2\.weight is \(64, 64, 1, 1\), VGG16 has \(64, 64, 3, 3\)"):
        PerceptualLoss(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (torch.zeros(3), "holds a Tensor, not a state dict"),
        ({"features.0.weight": 1.5, "features.0.bias": torch.zeros(64)}, r"features\.0\.weight is float"),
    ],
)
def test_not_a_state_dict(tmp_path, content, match):
    path = tmp_path / "odd.pth"
    torch.save(content, path)
    with pytest.raises(ValueError, match=match):
        PerceptualLoss(path, "relu1_1")


def test_pickled_code_is_refused(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (exec, (f"open({str(marker)!r}, 'w').close()",))

    path = tmp_path / "evil.pth"
    torch.save({"features.0.weight": Payload()}, path)
    with pytest.raises(ValueError, match="was refused"):
        PerceptualLoss(path)
    assert not marker.exists()


def test_garbage_safetensors(tmp_path):
    path = tmp_path / "vgg16.safetensors"
    path.write_bytes(b"not safetensors" * 10)
    with pytest.raises(ValueError, match="is not valid safetensors"):
        PerceptualLoss(path)


def test_loss_compares_normalised_grey_rgb_features(vgg_file, vgg_state):
    loss = PerceptualLoss(vgg_file, "relu1_2")
    output, target = torch.rand(2, 1, 12, 12), torch.rand(2, 1, 12, 12)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def features(y):
        x = (y.repeat(1, 3, 1, 1) - mean) / std
        x = F.relu(F.conv2d(x, vgg_state["features.0.weight"], vgg_state["features.0.bias"], padding=1))
        return F.relu(F.conv2d(x, vgg_state["features.2.weight"], vgg_state["features.2.bias"], padding=1))

    expected = F.mse_loss(features(output), features(target))
    torch.testing.assert_close(loss(output, target), expected)
    assert float(loss(target, target)) == 0.0


def test_gradients_reach_the_output_only(vgg_file):
    loss = PerceptualLoss(vgg_file, "relu2_2")
    output = torch.rand(1, 1, 16, 16, requires_grad=True)
    value = loss(output, torch.rand(1, 1, 16, 16))
    value.backward()
    assert output.grad is not None and output.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in loss.parameters())
    assert loss.state_dict().keys() == {f"vgg.{key}" for key in VGG16Features("relu2_2").state_dict()}
