"""FSRCNN and SRCNN for bioimage.io's ``pytorch_state_dict`` weights: PyTorch alone, no skfsrcnn.

A bioimage.io model package ships the network's source with its state dict,
and the consumer (bioimageio.core, deepImageJ's engines) imports that one
file on its own. :func:`skfsrcnn.export.export` copies this module into the
package as ``skfsrcnn_architecture.py``; it therefore imports nothing from
skfsrcnn. Its classes hold the same parameters under the same names as
:class:`skfsrcnn.models.FSRCNN` and :class:`skfsrcnn.models.SRCNN` and
compute the same function (checked by ``tests/test_export.py``). SRCNN's
bicubic kernel is not recomputed here: it travels in the state dict
(:func:`skfsrcnn._bioimageio.package_state`), so skfsrcnn's one MATLAB
kernel stays the only one. :class:`skfsrcnn.models.FSRCNN` is a subclass
of this module's FSRCNN, so the layers are declared once.
"""

import torch
from torch import nn
from torch.nn import functional as F

_DECONV_KERNEL = 9
_BICUBIC_REACH = 2


def _conv_prelu(in_channels, out_channels, kernel_size):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
        nn.PReLU(out_channels),
    )


class FSRCNN(nn.Module):
    """FSRCNN (Dong, Loy & Tang, ECCV 2016) on one channel: (B, 1, M, N) -> (B, 1, M * scale, N * scale).

    Parameters
    ----------
    scale : int
        Upscaling factor; the deconvolution stride.
    d, s, m : int, optional
        Feature channels, shrunk channels and 3x3 mapping layers.
    """

    def __init__(self, scale, d=56, s=12, m=4):
        super().__init__()
        self.feature = _conv_prelu(1, d, 5)
        self.shrink = _conv_prelu(d, s, 1)
        self.mapping = nn.Sequential(*[_conv_prelu(s, s, 3) for _ in range(m)])
        self.expand = _conv_prelu(s, d, 1)
        self.deconv = nn.ConvTranspose2d(
            d, 1, _DECONV_KERNEL, stride=scale, padding=_DECONV_KERNEL // 2, output_padding=scale - 1
        )

    def body(self, x):
        """All layers up to (and including) the expanding layer."""
        return self.expand(self.mapping(self.shrink(self.feature(x))))

    def forward(self, x):
        """Upscale ``x`` of shape (B, 1, M, N)."""
        return self.deconv(self.body(x))


class SRCNN(nn.Module):
    """SRCNN (Dong et al., ECCV 2014) after MATLAB-bicubic upsampling: (B, 1, M, N) -> (B, 1, M * scale, N * scale).

    The arguments are those of :class:`skfsrcnn.models.SRCNN`; the bicubic
    phases are the state dict's ``kernel`` instead of a computed buffer.
    """

    def __init__(self, scale, n1=64, n2=32, f1=9, f2=1, f3=5):
        super().__init__()
        self.scale = scale
        # MATLAB's bicubic phases, as skfsrcnn computes them: read from the package's state dict.
        size = 2 * _BICUBIC_REACH + 1
        self.register_buffer("kernel", torch.zeros(scale * scale, 1, size, size))
        self.extraction = nn.Conv2d(1, n1, f1, padding=f1 // 2)
        self.mapping = nn.Conv2d(n1, n2, f2, padding=f2 // 2)
        self.reconstruction = nn.Conv2d(n2, 1, f3, padding=f3 // 2)

    def forward(self, x):
        """Upscale ``x`` of shape (B, 1, M, N)."""
        x = F.pad(x, (_BICUBIC_REACH,) * 4, mode="replicate")
        x = F.pixel_shuffle(F.conv2d(x, self.kernel), self.scale)
        return self.reconstruction(F.relu(self.mapping(F.relu(self.extraction(x)))))
