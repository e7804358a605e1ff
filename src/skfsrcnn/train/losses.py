"""The pixel losses, and a perceptual loss on VGG16 features from weights the user supplies as a file.

No weights are downloaded: pass the path of a torchvision VGG16 state dict
(``torchvision.models.vgg16(weights=...).state_dict()``, or the state dict of
its ``features``), saved with ``torch.save`` or as safetensors. The layers are
defined here, in torchvision's order, so torchvision is not needed.
"""

import functools
import os
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ..pretrained import read_tensors

#: Charbonnier's epsilon, on [0, 1] intensities (LapSRN's).
CHARBONNIER_EPS = 1e-3


def charbonnier_loss(output, target):
    """Mean of ``sqrt((output - target)**2 + eps**2)``: a smooth L1 loss.

    Examples
    --------
    >>> import torch
    >>> from skfsrcnn.train.losses import charbonnier_loss
    >>> round(float(charbonnier_loss(torch.zeros(4), torch.full((4,), 0.5))), 4)
    0.5
    """
    return torch.sqrt((output - target).square() + CHARBONNIER_EPS**2).mean()


#: Loss between network output and target, by ``pixel_loss`` setting.
PIXEL_LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss, "charbonnier": charbonnier_loss}

#: Convolutions per block of VGG16's ``features`` (output channels), as torchvision.
_VGG16_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))


def _vgg16_modules():
    """``(name, factory)`` of every module of torchvision's ``vgg16().features``, in order."""
    channels = 3
    for block, widths in enumerate(_VGG16_BLOCKS, 1):
        for conv, width in enumerate(widths, 1):
            yield f"conv{block}_{conv}", functools.partial(nn.Conv2d, channels, width, 3, padding=1)
            yield f"relu{block}_{conv}", functools.partial(nn.ReLU, inplace=True)
            channels = width
        yield f"pool{block}", functools.partial(nn.MaxPool2d, 2, 2)


#: Names of the VGG16 activations a perceptual loss can compare: ``relu<block>_<conv>``.
#:
#: Examples
#: --------
#: >>> from skfsrcnn.train import VGG16_LAYERS
#: >>> VGG16_LAYERS[:4]
#: ('relu1_1', 'relu1_2', 'relu2_1', 'relu2_2')
VGG16_LAYERS = tuple(name for name, _ in _vgg16_modules() if name.startswith("relu"))

#: ImageNet statistics of torchvision's VGG16 inputs (RGB in [0, 1]).
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_SUFFIXES = (".pth", ".pt", ".safetensors")


def _check_layer(layer):
    if layer not in VGG16_LAYERS:
        raise ValueError(f"`layer` must be one of {', '.join(VGG16_LAYERS)}; got {layer!r}.")


def _vgg16_layers(last):
    """torchvision's ``vgg16().features`` up to (and including) the module named ``last``."""
    layers = []
    for name, make in _vgg16_modules():
        layers.append(make())
        if name == last:
            return layers


def _read_state(path):
    """The state dict of a torch or safetensors file, refusing pickled code."""
    state, _ = read_tensors(path)
    if not isinstance(state, dict):
        raise ValueError(
            f"`weights` file {str(path)!r} holds a {type(state).__name__}, not a state dict; "
            "save `vgg16(...).state_dict()` with torch.save."
        )
    return state


def _features_state(state):
    """Keys of ``features`` without their prefix: a full model's state dict or a features-only one."""
    prefix = "features."
    if any(key.startswith(prefix) for key in state):
        return {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
    return state


class VGG16Features(nn.Module):
    """VGG16's convolutional layers up to one activation, in torchvision's layout.

    Parameter names are those of torchvision's ``vgg16()``
    (``features.0.weight``, ...), so its state dicts load as they are. A new
    instance is randomly initialised; :meth:`from_file` loads trained
    weights and freezes them.

    Parameters
    ----------
    layer : str, optional
        The last activation computed, one of :data:`VGG16_LAYERS`:
        ``relu<block>_<conv>``, e.g. ``'relu2_2'`` (after 4 convolutions and
        one pooling, half the input's resolution).

    Raises
    ------
    ValueError
        ``layer`` is not one of :data:`VGG16_LAYERS`.

    Examples
    --------
    >>> import torch
    >>> from skfsrcnn.train import VGG16Features
    >>> vgg = VGG16Features("relu2_2")
    >>> vgg(torch.zeros(1, 3, 32, 32)).shape
    torch.Size([1, 128, 16, 16])
    >>> list(vgg.state_dict())[:2]
    ['features.0.weight', 'features.0.bias']
    """

    def __init__(self, layer="relu2_2"):
        super().__init__()
        _check_layer(layer)
        self.layer = layer
        self.features = nn.Sequential(*_vgg16_layers(layer))

    @classmethod
    def from_file(cls, weights, layer="relu2_2"):
        """Load trained VGG16 weights from a file, frozen and in eval mode.

        Parameters
        ----------
        weights : str or path-like
            A ``.pth``/``.pt`` file (read with ``torch.load(weights_only=True)``:
            no pickled code runs) or a ``.safetensors`` file, holding
            torchvision's ``vgg16().state_dict()`` (classifier keys are
            ignored) or ``vgg16().features.state_dict()``. Layers beyond
            ``layer`` may be absent.
        layer : str, optional
            The last activation computed, one of :data:`VGG16_LAYERS`.

        Returns
        -------
        VGG16Features
            The layers with the file's weights, which need no gradient.

        Raises
        ------
        FileNotFoundError
            ``weights`` does not exist.
        ValueError
            ``weights`` is not a state dict (or carries pickled code), lacks
            a layer up to ``layer``, or has a tensor of the wrong shape; or
            ``layer`` is unknown.

        Examples
        --------
        >>> import os, tempfile, torch
        >>> from skfsrcnn.train import VGG16Features
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = os.path.join(folder.name, "vgg16.pth")
        >>> torch.save(VGG16Features("relu5_3").state_dict(), path)  # stands for trained weights
        >>> vgg = VGG16Features.from_file(path, "relu1_2")
        >>> len(vgg.features), vgg.features[0].weight.requires_grad
        (4, False)
        >>> folder.cleanup()
        """
        _check_layer(layer)
        path = Path(os.fspath(weights)).expanduser()
        if path.suffix not in _SUFFIXES:
            raise ValueError(f"`weights` file {str(path)!r} must end in {', '.join(_SUFFIXES)}.")
        if not path.is_file():
            raise FileNotFoundError(
                f"`weights` file {str(path)!r} does not exist; pass the path of torchvision "
                "VGG16 weights saved with torch.save or as safetensors (nothing is downloaded)."
            )
        with torch.device("meta"):  # no random initialisation: every weight comes from the file
            vgg = cls(layer)
        vgg.features.load_state_dict(_checked(_features_state(_read_state(path)), vgg, path), assign=True)
        return vgg.requires_grad_(False).eval()

    def forward(self, x):
        """Activations of ``layer`` for ``x`` of shape (B, 3, H, W), ImageNet-normalised RGB.

        Examples
        --------
        >>> import torch
        >>> from skfsrcnn.train import VGG16Features
        >>> VGG16Features("relu1_1")(torch.zeros(2, 3, 8, 8)).shape
        torch.Size([2, 64, 8, 8])
        """
        return self.features(x)


def _checked(state, vgg, path):
    """``state`` restricted to ``vgg``'s keys, as float tensors; errors name what is wrong."""
    expected = vgg.features.state_dict()
    missing = [f"features.{key}" for key in expected if key not in state]
    if missing:
        raise ValueError(
            f"`weights` file {str(path)!r} lacks {_some(missing)}, needed up to {vgg.layer!r}; "
            f"it holds {_some(sorted(state)) or 'nothing'}. Save torchvision's "
            "`vgg16(...).state_dict()` or `vgg16(...).features.state_dict()`."
        )
    checked = {}
    for key, like in expected.items():
        value = state[key]
        if not isinstance(value, torch.Tensor) or value.shape != like.shape:
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(
                f"`weights` file {str(path)!r}: features.{key} is {shape}, VGG16 has "
                f"{tuple(like.shape)}; these are not VGG16 weights."
            )
        checked[key] = value.to(torch.get_default_dtype()).contiguous()
    return checked


def _some(names, shown=3):
    """The first ``shown`` names, then ``...`` when there are more."""
    return ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")


class PerceptualLoss(nn.Module):
    """Mean squared difference of VGG16 activations of two luma images.

    Each (B, 1, H, W) luma image in [0, 1] is replicated to three channels
    (grey RGB), normalised with ImageNet's mean and standard deviation, and
    run through VGG16 up to ``layer``; the loss is the mean squared
    difference of the two activations. The VGG weights are frozen: gradients
    flow to ``output`` only. Training adds it to the pixel MSE with a weight
    (``perceptual_scale`` in :class:`TrainConfig`).

    Parameters
    ----------
    weights : str or path-like
        torchvision VGG16 weights, as :meth:`VGG16Features.from_file` reads them.
    layer : str, optional
        The activation compared, one of :data:`VGG16_LAYERS`.

    Raises
    ------
    FileNotFoundError, ValueError
        As :meth:`VGG16Features.from_file`.

    References
    ----------
    .. [1] J. Johnson, A. Alahi and L. Fei-Fei, "Perceptual Losses for
       Real-Time Style Transfer and Super-Resolution", ECCV 2016.

    Examples
    --------
    >>> import os, tempfile, torch
    >>> from skfsrcnn.train import PerceptualLoss, VGG16Features
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "vgg16.pth")
    >>> torch.save(VGG16Features("relu2_2").state_dict(), path)  # stands for trained weights
    >>> loss = PerceptualLoss(path, "relu2_2")
    >>> x = torch.rand(2, 1, 24, 24)
    >>> float(loss(x, x))
    0.0
    >>> folder.cleanup()
    """

    def __init__(self, weights, layer="relu2_2"):
        super().__init__()
        self.vgg = VGG16Features.from_file(weights, layer)
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def _features(self, luma):
        """VGG16 activations of a (B, 1, H, W) luma batch in [0, 1]: grey RGB, ImageNet-normalised."""
        return self.vgg((luma.expand(-1, 3, -1, -1) - self.mean) / self.std)

    def forward(self, output, target):
        """The loss of ``output`` against ``target``, both (B, 1, H, W) in [0, 1].

        Examples
        --------
        >>> loss = PerceptualLoss("vgg16.pth")  # doctest: +SKIP
        >>> float(loss(torch.zeros(1, 1, 8, 8), torch.ones(1, 1, 8, 8))) > 0  # doctest: +SKIP
        True
        """
        with torch.no_grad():
            target_features = self._features(target)
        return F.mse_loss(self._features(output), target_features)
