"""The FSRCNN network (Dong, Loy & Tang, ECCV 2016) and the paper's presets.

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

This is the reference module, the one trained and saved; it runs as
:class:`~skfsrcnn.models.FastFSRCNN` (:mod:`skfsrcnn.models.fast`).
"""

from torch import nn

from .. import _standalone
from .subpixel import _subpixel_offsets

__all__ = ["FSRCNN", "PRESETS"]

#: Architecture presets ``name -> (d, s, m)`` from the paper.
PRESETS = {
    "fsrcnn": {"d": 56, "s": 12, "m": 4},
    "fsrcnn-s": {"d": 32, "s": 5, "m": 1},
}


class FSRCNN(_standalone.FSRCNN):
    """FSRCNN exactly as in the paper.

    The layers (and ``body``, ``forward``) are declared once, in the
    PyTorch-only module that :func:`skfsrcnn.export.export` ships to
    bioimage.io; this class adds the presets, :attr:`config`, :attr:`halo`
    and the initialisation.

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
        super().__init__(int(scale), int(d), int(s), int(m))
        self.scale, self.d, self.s, self.m = int(scale), int(d), int(s), int(m)
        self.reset_parameters()

    @classmethod
    def from_preset(cls, name, scale):
        """Build the preset ``name`` (``'fsrcnn'`` or ``'fsrcnn-s'``) for ``scale``.

        Parameters
        ----------
        name : {'fsrcnn', 'fsrcnn-s'}
            Key of :data:`PRESETS`.
        scale : int
            Upscaling factor.

        Returns
        -------
        FSRCNN
            A freshly initialised network.

        Examples
        --------
        >>> from skfsrcnn.models import FSRCNN
        >>> FSRCNN.from_preset("fsrcnn-s", 2).config
        {'scale': 2, 'd': 32, 's': 5, 'm': 1}
        """
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; use one of {', '.join(PRESETS)}.")
        return cls(scale, **PRESETS[name])

    @property
    def config(self):
        """The constructor arguments, enough to rebuild the architecture.

        Examples
        --------
        >>> from skfsrcnn.models import FSRCNN
        >>> FSRCNN(3).config
        {'scale': 3, 'd': 56, 's': 12, 'm': 4}
        """
        return {"scale": self.scale, "d": self.d, "s": self.s, "m": self.m}

    @property
    def halo(self):
        """Low-resolution pixels of context that one output pixel depends on, per side.

        Examples
        --------
        >>> from skfsrcnn.models import FSRCNN
        >>> FSRCNN(3).halo, FSRCNN(4).halo
        (8, 7)
        """
        return halo(self.m, self.scale)

    def reset_parameters(self):
        """He initialisation for the PReLU layers, N(0, 0.001) for the deconvolution.

        Examples
        --------
        >>> from skfsrcnn.models import FSRCNN
        >>> net = FSRCNN(2)
        >>> net.reset_parameters()
        >>> float(net.deconv.bias.detach().abs().max())
        0.0
        """
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, a=0.25, nonlinearity="leaky_relu")
                nn.init.zeros_(module.bias)
        nn.init.normal_(self.deconv.weight, std=0.001)
        nn.init.zeros_(self.deconv.bias)


def halo(m, scale):
    """Receptive-field radius, in LR pixels, of FSRCNN with ``m`` mapping layers."""
    low, high = _subpixel_offsets(scale)
    return 2 + m + max(-low, high)
