"""SRCNN (Dong, Loy, He & Tang, ECCV 2014), the 9-1-5 network FSRCNN accelerates.

It is here as a baseline for comparison: it maps the low-resolution image
to the high-resolution one itself, upsampling first with MATLAB's bicubic
(:class:`~skfsrcnn.models.BicubicUpsample`, the weights of
:func:`skfsrcnn.resize.bicubic_phases`), so it trains, evaluates and
upscales wherever FSRCNN does.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..resize import BICUBIC_REACH, bicubic_phases

__all__ = ["BicubicUpsample", "SRCNN"]


class BicubicUpsample(nn.Module):
    """MATLAB's bicubic ``imresize`` by an integer factor, as a convolution and a pixel shuffle.

    Output phase ``(ry, rx)`` (HR pixel ``(q * scale + ry, p * scale + rx)``)
    is a fixed 5x5 convolution of the LR image, the outer product of the
    phases' 1-D weights of :func:`skfsrcnn.resize.bicubic_phases` (the one
    implementation of MATLAB's kernel, which the colour merge of
    :func:`skfsrcnn.upscale` uses too); edge pixels are replicated beyond the
    border, as ``imresize`` clamps its taps. The result equals
    :func:`skfsrcnn.resize.imresize` ``(image, scale)`` to float rounding,
    and is differentiable. The kernel is a buffer, not a parameter, and is
    left out of the state dict.

    Parameters
    ----------
    scale : int
        Upscaling factor, a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skfsrcnn.models import BicubicUpsample
    >>> from skfsrcnn.resize import imresize
    >>> image = np.random.default_rng(0).random((6, 7)).astype(np.float32)
    >>> up = BicubicUpsample(3)(torch.from_numpy(image)[None, None])
    >>> up.shape
    torch.Size([1, 1, 18, 21])
    >>> bool(np.allclose(up[0, 0].numpy(), imresize(image, 3), atol=1e-6))
    True
    """

    def __init__(self, scale):
        super().__init__()
        if isinstance(scale, bool) or int(scale) != scale or scale < 1:
            raise ValueError(f"`scale` must be a positive integer, got {scale!r}.")
        self.scale = int(scale)
        phases = bicubic_phases(self.scale)
        kernel = phases[:, None, :, None] * phases[None, :, None, :]  # (ry, rx, 5, 5)
        kernel = kernel.reshape(self.scale * self.scale, 1, *kernel.shape[2:])
        self.register_buffer("kernel", torch.tensor(kernel, dtype=torch.get_default_dtype()), persistent=False)

    def forward(self, x):
        """Upscale ``x`` of shape (B, 1, M, N) to (B, 1, M * scale, N * scale).

        Examples
        --------
        >>> import torch
        >>> from skfsrcnn.models import BicubicUpsample
        >>> BicubicUpsample(2)(torch.ones(1, 1, 3, 4))
        tensor([[[[1., 1., 1., 1., 1., 1., 1., 1.],
                  [1., 1., 1., 1., 1., 1., 1., 1.],
                  [1., 1., 1., 1., 1., 1., 1., 1.],
                  [1., 1., 1., 1., 1., 1., 1., 1.],
                  [1., 1., 1., 1., 1., 1., 1., 1.],
                  [1., 1., 1., 1., 1., 1., 1., 1.]]]])
        """
        x = F.pad(x, (BICUBIC_REACH,) * 4, mode="replicate")
        return F.pixel_shuffle(F.conv2d(x, self.kernel), self.scale)


class SRCNN(nn.Module):
    """SRCNN (Dong, Loy, He & Tang, ECCV 2014) with its bicubic upsampling inside.

    The paper's network works on the bicubically upscaled image; here the
    upsampling (MATLAB's bicubic, :class:`BicubicUpsample`) is the module's
    first step, so that SRCNN maps a low-resolution image to its
    super-resolution as :class:`FSRCNN` does, and trains, evaluates and
    upscales wherever FSRCNN does:

    ====================  ==============================  =====================
    stage                 layer                           PyTorch
    ====================  ==============================  =====================
    upsampling            MATLAB bicubic, x scale         ``BicubicUpsample``
    patch extraction      Conv(f1, n1, 1) + ReLU          ``Conv2d(1, n1, f1)``
    non-linear mapping    Conv(f2, n2, n1) + ReLU         ``Conv2d(n1, n2, f2)``
    reconstruction        Conv(f3, 1, n2)                 ``Conv2d(n2, 1, f3)``
    ====================  ==============================  =====================

    The defaults are the paper's 9-1-5 network (n1 = 64, n2 = 32). The
    convolutions are zero padded to keep the size (the paper's used none
    and lost the border), so the output is exactly ``scale`` times the input.

    Parameters
    ----------
    scale : int
        Upscaling factor of the bicubic step.
    n1, n2 : int, optional
        Channels of the patch extraction and the non-linear mapping.
    f1, f2, f3 : int, optional
        Kernel sizes (odd) of the three convolutions.

    Notes
    -----
    Every convolution runs at the high resolution: per output pixel, SRCNN
    9-1-5 costs about 3, 6 and 10 times the multiply-adds of FSRCNN 56-12-4
    at x2, x3 and x4, and holds 64 channels of the upscaled size in memory
    (bound it with ``upscale``'s ``tile_size``). It is here as a baseline
    for comparison; no weights are released.

    References
    ----------
    .. [1] C. Dong, C. C. Loy, K. He and X. Tang, "Learning a Deep
       Convolutional Network for Image Super-Resolution", ECCV 2014.

    Examples
    --------
    >>> import torch
    >>> from skfsrcnn.models import SRCNN
    >>> net = SRCNN(3)
    >>> net(torch.zeros(1, 1, 10, 12)).shape
    torch.Size([1, 1, 30, 36])
    >>> net.config
    {'scale': 3, 'n1': 64, 'n2': 32, 'f1': 9, 'f2': 1, 'f3': 5}
    """

    def __init__(self, scale, n1=64, n2=32, f1=9, f2=1, f3=5):
        super().__init__()
        for name, size in (("f1", f1), ("f2", f2), ("f3", f3)):
            if isinstance(size, bool) or int(size) != size or size < 1 or size % 2 == 0:
                raise ValueError(f"`{name}` must be an odd positive kernel size, got {size!r}.")
        self.upsample = BicubicUpsample(scale)
        self.scale = self.upsample.scale
        self.n1, self.n2, self.f1, self.f2, self.f3 = (int(v) for v in (n1, n2, f1, f2, f3))
        self.extraction = nn.Conv2d(1, self.n1, self.f1, padding=self.f1 // 2)
        self.mapping = nn.Conv2d(self.n1, self.n2, self.f2, padding=self.f2 // 2)
        self.reconstruction = nn.Conv2d(self.n2, 1, self.f3, padding=self.f3 // 2)
        self.reset_parameters()

    @property
    def config(self):
        """The constructor arguments, enough to rebuild the architecture.

        Examples
        --------
        >>> from skfsrcnn.models import SRCNN
        >>> SRCNN(2, n1=32, n2=16).config
        {'scale': 2, 'n1': 32, 'n2': 16, 'f1': 9, 'f2': 1, 'f3': 5}
        """
        return {"scale": self.scale, "n1": self.n1, "n2": self.n2, "f1": self.f1, "f2": self.f2, "f3": self.f3}

    @property
    def halo(self):
        """Low-resolution pixels of context that one output pixel depends on, per side.

        LR pixel ``q + j`` feeds the upsampled pixels ``q * scale + r`` of
        the phases ``r`` whose bicubic tap ``j`` (-2 to 2) is not zero, and
        the convolutions spread each of those over ``(f1 + f2 + f3 - 3) / 2``
        HR pixels (6 for 9-1-5); the halo is the farthest LR pixel reached.

        Examples
        --------
        >>> from skfsrcnn.models import SRCNN
        >>> SRCNN(2).halo, SRCNN(3).halo, SRCNN(4).halo
        (5, 4, 3)
        """
        reach = self.f1 // 2 + self.f2 // 2 + self.f3 // 2
        phases, taps = np.nonzero(bicubic_phases(self.scale))
        shift = BICUBIC_REACH - taps  # -j: LR pixel c feeds upsampled row c - j through tap j
        before = shift + (phases - reach) // self.scale
        after = shift + (phases + reach) // self.scale
        return int(max(-before.min(), after.max()))

    def reset_parameters(self):
        """He initialisation for the ReLU layers, N(0, 0.001) for the reconstruction.

        The paper draws every layer from N(0, 0.001); He initialisation
        lets the signal through the first two layers from the start.

        Examples
        --------
        >>> from skfsrcnn.models import SRCNN
        >>> net = SRCNN(3)
        >>> net.reset_parameters()
        >>> float(net.reconstruction.bias.detach().abs().max())
        0.0
        """
        for layer in (self.extraction, self.mapping):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
        nn.init.normal_(self.reconstruction.weight, std=0.001)
        nn.init.zeros_(self.reconstruction.bias)

    def forward(self, x):
        """Upscale ``x`` of shape (B, 1, M, N) to (B, 1, M * scale, N * scale).

        Examples
        --------
        >>> import torch
        >>> from skfsrcnn.models import SRCNN
        >>> SRCNN(4)(torch.zeros(1, 1, 5, 6)).shape
        torch.Size([1, 1, 20, 24])
        """
        x = F.relu(self.extraction(self.upsample(x)), inplace=True)
        x = F.relu(self.mapping(x), inplace=True)
        return self.reconstruction(x)
