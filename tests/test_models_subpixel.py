"""Tests for skfsrcnn.models.subpixel: the strided deconvolution as a sub-pixel convolution."""

import pytest
import torch

from skfsrcnn.models import deconv_as_subpixel

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SCALES = (2, 3, 4)


@pytest.mark.parametrize("scale", SCALES)
def test_subpixel_conv_matches_conv_transpose(scale):
    """deconv_as_subpixel alone reproduces ConvTranspose2d on any feature map."""
    d = 6
    deconv = torch.nn.ConvTranspose2d(d, 1, 9, stride=scale, padding=4, output_padding=scale - 1)
    deconv = deconv.double()
    x = torch.randn(2, d, 9, 7, dtype=torch.float64)
    out = deconv_as_subpixel(x, deconv.weight, deconv.bias, scale)
    assert out.shape == (2, 1, 9 * scale, 7 * scale)
    with torch.no_grad():
        torch.testing.assert_close(out, deconv(x), atol=1e-12, rtol=0)


@pytest.mark.parametrize("scale", (2, 3, 4, 5, 6, 7, 8))
@pytest.mark.parametrize("fold", [1, 2, 3])
def test_compact_subpixel_conv_matches_conv_transpose(scale, fold):
    """The shifted-window kernel (x3: 3x3 taps, not 4x4), column-folded, is the deconvolution."""
    from torch.nn import functional as F

    from skfsrcnn.models.subpixel import _compact_subpixel, _phase_windows

    d, rows, cols = 5, 7, 9
    generator = torch.Generator().manual_seed(scale * 10 + fold)
    deconv = torch.nn.ConvTranspose2d(d, 1, 9, stride=scale, padding=4, output_padding=scale - 1).double()
    with torch.no_grad():
        deconv.weight.copy_(torch.randn(deconv.weight.shape, generator=generator, dtype=torch.float64))
        deconv.bias.fill_(0.25)
    x = torch.randn(1, d, rows, cols, generator=generator, dtype=torch.float64)
    width, base, shifts = _phase_windows(scale)
    assert width <= {2: 5, 3: 3, 4: 3}.get(scale, 9)
    weight, bias = _compact_subpixel(deconv.weight.detach(), deconv.bias.detach(), scale, fold)
    extra = max(shifts)
    padded = F.pad(x, (-base, width - 1 + base + extra + fold, -base, width - 1 + base + extra))
    y = F.conv2d(padded, weight, bias, stride=(1, fold))  # y[.., o, p]: LR column fold * p + f
    expected = deconv(x).detach()
    got = torch.empty_like(expected)
    for ry in range(scale):
        for rx in range(scale):
            for q in range(rows):
                for c in range(cols):
                    column = c + shifts[rx]
                    channel = (column % fold) * scale * scale + ry * scale + rx
                    got[0, 0, q * scale + ry, c * scale + rx] = y[0, channel, q + shifts[ry], column // fold]
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)
