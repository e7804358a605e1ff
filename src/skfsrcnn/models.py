"""The FSRCNN network (Dong, Loy & Tang, ECCV 2016) and its fast inference form.

The network works on one luminance channel in [0, 1]:

====================  ==============================  =====================
stage                 layer                           PyTorch
====================  ==============================  =====================
feature extraction    Conv(5, d, 1) + PReLU           ``Conv2d(1, d, 5)``
shrinking             Conv(1, s, d) + PReLU           ``Conv2d(d, s, 1)``
non-linear mapping    m x (Conv(3, s, s) + PReLU)     ``Conv2d(s, s, 3)``
expanding             Conv(1, d, s) + PReLU           ``Conv2d(s, d, 1)``
deconvolution         DeConv(9, 1, d), stride scale   ``ConvTranspose2d``
====================  ==============================  =====================

Every convolution is zero padded so that the output is exactly ``scale``
times the input. The receptive field of one output pixel spans
``2 * halo + 1`` input pixels: 2 for the 5x5 feature layer, 1 per 3x3
mapping layer and 2 (x2, x3) or 1 (x4) for the deconvolution, so
``halo = 4 + m`` at x2 and x3
(:attr:`FSRCNN.halo`). Tiles overlapping by that many low-resolution
pixels give exactly the untiled result.
"""

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["FSRCNN", "PRESETS", "FastFSRCNN"]

#: Architecture presets ``name -> (d, s, m)`` from the paper.
PRESETS = {
    "fsrcnn": {"d": 56, "s": 12, "m": 4},
    "fsrcnn-s": {"d": 32, "s": 5, "m": 1},
}

_DECONV_KERNEL = 9
_DECONV_PADDING = _DECONV_KERNEL // 2


def _conv_prelu(in_channels, out_channels, kernel_size):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
        nn.PReLU(out_channels),
    )


class FSRCNN(nn.Module):
    """FSRCNN exactly as in the paper.

    Parameters
    ----------
    scale : int
        Upscaling factor; the deconvolution stride.
    d : int, optional
        Number of feature channels (LR feature dimension).
    s : int, optional
        Number of shrunk channels.
    m : int, optional
        Number of 3x3 mapping layers.

    Examples
    --------
    >>> import torch
    >>> from skfsrcnn.models import FSRCNN
    >>> net = FSRCNN(3)
    >>> net(torch.zeros(1, 1, 10, 12)).shape
    torch.Size([1, 1, 30, 36])
    """

    def __init__(self, scale, d=56, s=12, m=4):
        super().__init__()
        self.scale, self.d, self.s, self.m = int(scale), int(d), int(s), int(m)
        self.feature = _conv_prelu(1, d, 5)
        self.shrink = _conv_prelu(d, s, 1)
        self.mapping = nn.Sequential(*[_conv_prelu(s, s, 3) for _ in range(m)])
        self.expand = _conv_prelu(s, d, 1)
        self.deconv = nn.ConvTranspose2d(
            d,
            1,
            _DECONV_KERNEL,
            stride=scale,
            padding=_DECONV_PADDING,
            output_padding=scale - 1,
        )
        self.reset_parameters()

    @classmethod
    def from_preset(cls, name, scale):
        """Build the preset ``name`` (``'fsrcnn'`` or ``'fsrcnn-s'``) for ``scale``."""
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; use one of {', '.join(PRESETS)}.")
        return cls(scale, **PRESETS[name])

    @property
    def config(self):
        """The constructor arguments, enough to rebuild the architecture."""
        return {"scale": self.scale, "d": self.d, "s": self.s, "m": self.m}

    @property
    def halo(self):
        """Low-resolution pixels of context that one output pixel depends on, per side."""
        return halo(self.m, self.scale)

    def reset_parameters(self):
        """He initialisation for the PReLU layers, N(0, 0.001) for the deconvolution."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, a=0.25, nonlinearity="leaky_relu")
                nn.init.zeros_(module.bias)
        nn.init.normal_(self.deconv.weight, std=0.001)
        nn.init.zeros_(self.deconv.bias)

    def body(self, x):
        """All layers up to (and including) the expanding layer."""
        return self.expand(self.mapping(self.shrink(self.feature(x))))

    def forward(self, x):
        return self.deconv(self.body(x))


def halo(m, scale):
    """Receptive-field radius, in LR pixels, of FSRCNN with ``m`` mapping layers."""
    low, high = _subpixel_offsets(scale)
    return 2 + m + max(-low, high)


def _subpixel_offsets(scale):
    """LR tap offsets ``j`` that the strided deconvolution reaches for any output phase."""
    low = -((_DECONV_KERNEL - 1 - _DECONV_PADDING) // scale)
    high = (scale - 1 + _DECONV_PADDING) // scale
    return low, high


def _subpixel_index(scale):
    """Flat 9x9 kernel index (or -1) feeding each (phase, tap_y, tap_x) of the sub-pixel conv."""
    low, high = _subpixel_offsets(scale)
    offsets = torch.arange(low, high + 1)
    phases = torch.arange(scale)
    # k[r, j] = r + pad - j * scale: the deconvolution tap that phase r reads at LR offset j.
    k = phases[:, None] + _DECONV_PADDING - offsets[None, :] * scale
    valid = (k >= 0) & (k < _DECONV_KERNEL)
    ky = k[:, None, :, None]
    kx = k[None, :, None, :]
    index = ky * _DECONV_KERNEL + kx
    mask = valid[:, None, :, None] & valid[None, :, None, :]
    taps = len(offsets)
    index = torch.where(mask, index, -1).reshape(scale * scale, taps, taps)
    return index, (-low, high, -low, high)


def deconv_as_subpixel_conv(weight, bias, scale):
    """Rewrite a strided 9x9 transposed convolution as a conv plus pixel shuffle.

    Output pixel ``q * scale + r`` of the transposed convolution is
    ``sum_j x[q + j] * w[r + pad - j * scale]``: a small convolution on the
    LR grid with one output channel per phase ``r``. This is an exact
    identity that avoids the scattered writes of the transposed form, and it
    is differentiable, so it can also be used for training.

    Parameters
    ----------
    weight : (d, 1, 9, 9) Tensor
        ``ConvTranspose2d`` weight.
    bias : (1,) Tensor
        ``ConvTranspose2d`` bias.
    scale : int
        Stride of the transposed convolution.

    Returns
    -------
    conv_weight : (scale**2, d, T, T) Tensor
        Weight of the equivalent convolution.
    conv_bias : (scale**2,) Tensor
        Its bias.
    padding : tuple of int
        ``(left, right, top, bottom)`` zero padding for :func:`torch.nn.functional.pad`.

    Examples
    --------
    >>> import torch
    >>> from skfsrcnn.models import deconv_as_subpixel_conv
    >>> w, b, pad = deconv_as_subpixel_conv(torch.rand(56, 1, 9, 9), torch.zeros(1), 3)
    >>> tuple(w.shape), pad
    ((9, 56, 4, 4), (1, 2, 1, 2))
    """
    index, padding = _subpixel_index(scale)
    index = index.to(weight.device)
    flat = weight[:, 0].reshape(weight.shape[0], -1)
    flat = torch.cat([flat, flat.new_zeros(flat.shape[0], 1)], dim=1)  # index -1 reads 0
    conv_weight = flat[:, index].permute(1, 0, 2, 3)
    return conv_weight, bias.expand(scale * scale), padding


class FastFSRCNN(nn.Module):
    """Inference form of :class:`FSRCNN`: same function, faster on CPU and GPU.

    The strided deconvolution becomes a convolution on the low-resolution grid
    followed by a pixel shuffle (:func:`deconv_as_subpixel_conv`), and tensors
    use the channels-last memory layout.

    Parameters
    ----------
    model : FSRCNN
        The network; its parameters are shared, not copied, so the fast form
        can also be trained and always reflects the model's current weights.

    Examples
    --------
    >>> import torch
    >>> from skfsrcnn.models import FSRCNN, FastFSRCNN
    >>> net = FSRCNN(2).eval()
    >>> x = torch.rand(1, 1, 16, 16)
    >>> fast = FastFSRCNN(net)
    >>> bool(torch.allclose(fast(x), net(x), atol=1e-5))
    True
    """

    def __init__(self, model):
        super().__init__()
        self.model = model.to(memory_format=torch.channels_last)
        self.scale, self.halo = model.scale, model.halo

    def forward(self, x):
        x = x.contiguous(memory_format=torch.channels_last)
        x = self.model.body(x)
        deconv = self.model.deconv
        weight, bias, padding = deconv_as_subpixel_conv(deconv.weight, deconv.bias, self.scale)
        x = F.conv2d(F.pad(x, padding), weight.contiguous(memory_format=torch.channels_last), bias)
        return F.pixel_shuffle(x, self.scale)
