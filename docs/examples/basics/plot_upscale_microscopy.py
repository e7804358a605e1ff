"""
=================================================
Upscale a 16-bit multichannel microscopy image
=================================================

Microscopy images are rarely 8-bit RGB photographs: they come as ``uint16``
with one channel per stain or fluorophore, often as stacks of planes, and
their intensities are measurements worth keeping. This example shows how
:func:`skfsrcnn.upscale` handles such data:

* ``channel_axis`` names the channel axis; ``rgb=False`` has every channel
  upscaled by the network on its own (three channels would otherwise be
  taken for RGB);
* ``preserve_range=True`` returns the result in the original units;
* leading axes (planes, time) are processed plane by plane.

The image is scikit-image's immunohistochemistry section, separated into
its three stains (haematoxylin, eosin, DAB) with
:func:`skimage.color.rgb2hed` and stored as a ``(channel, row, column)``
``uint16`` array, as a multichannel camera would save it. It is shrunk two
times, upscaled back, and compared with the original along a line profile.
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage import data
from skimage.color import rgb2hed
from skimage.exposure import rescale_intensity

from skfsrcnn import upscale
from skfsrcnn.metrics import psnr
from skfsrcnn.resize import imresize

hed = rgb2hed(data.immunohistochemistry())
stains = ("haematoxylin (nuclei)", "eosin", "DAB")
# One uint16 channel per stain, each using most of the 16-bit range.
original = np.stack([rescale_intensity(hed[..., c], out_range=(0, 60000)) for c in range(3)]).astype(np.uint16)
print(f"original: {original.shape} {original.dtype}")

######################################################################
# A low-resolution acquisition
# ============================
#
# Shrink the two spatial axes (1 and 2) with MATLAB's bicubic, then store the
# result as ``uint16`` again.

scale = 2
low = imresize(original.astype(np.float64), 1 / scale, axes=(1, 2))
low = np.clip(np.rint(low), 0, 65535).astype(np.uint16)
print(f"low resolution: {low.shape} {low.dtype}")

######################################################################
# Upscale
# =======
#
# Intensities are mapped to [0, 1] for the network with one minimum and
# maximum for the whole image (never per channel, plane or tile), and mapped
# back: with ``preserve_range=True`` the result is in the original units.

fsrcnn = upscale(low, scale, channel_axis=0, rgb=False, preserve_range=True)
bicubic = np.clip(imresize(low.astype(np.float64), scale, axes=(1, 2)), 0, 65535)
print(f"FSRCNN: {fsrcnn.shape} {fsrcnn.dtype}, max {fsrcnn.max():.0f}")

for c, stain in enumerate(stains):
    p_bicubic = psnr(original[c], bicubic[c], crop_border=scale, data_range=65535)
    p_fsrcnn = psnr(original[c], fsrcnn[c], crop_border=scale, data_range=65535)
    print(f"{stain:22s} PSNR bicubic {p_bicubic:.2f} dB, FSRCNN {p_fsrcnn:.2f} dB")

######################################################################
# Planes of a stack are treated the same way: without a channel axis, the
# same array is a stack of three planes, each upscaled on its own, so the
# result is the same.

as_planes = upscale(low, scale, preserve_range=True)
print(f"stack of planes: {as_planes.shape}, same result: {np.allclose(as_planes, fsrcnn)}")

######################################################################
# Line profile
# ============
#
# A row through several nuclei, in the haematoxylin channel.

channel, row = 0, 2 * 115
columns = slice(2 * 40, 2 * 145)

fig, axes = plt.subplots(1, 3, figsize=(8, 3), sharex=True, sharey=True)
panels = [
    (np.kron(low[channel], np.ones((scale, scale))), "input (shown x2)"),
    (fsrcnn[channel], "FSRCNN x2"),
    (original[channel], "original"),
]
limits = np.percentile(original[channel], [1, 99.8])
for ax, (image, title) in zip(axes, panels):
    ax.imshow(image, cmap="magma", vmin=limits[0], vmax=limits[1])
    ax.plot([columns.start, columns.stop], [row, row], color="cyan", linewidth=1)
    ax.set_title(title)
    ax.set_axis_off()
axes[0].set_xlim(0, 300)
axes[0].set_ylim(300, 0)
fig.tight_layout()

x = np.arange(columns.start, columns.stop)
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(x, original[channel, row, columns], color="black", linewidth=2, label="original")
ax.plot(x, bicubic[channel, row, columns], color="tab:blue", label="bicubic")
ax.plot(x, fsrcnn[channel, row, columns], color="tab:orange", label="FSRCNN")
ax.set_xlabel("column (pixels of the original)")
ax.set_ylabel("haematoxylin (uint16 units)")
ax.legend()
fig.tight_layout()

plt.show()

######################################################################
# To get integers back (for instance to save a 16-bit TIFF), round and clip:
# ``np.clip(np.rint(fsrcnn), 0, 65535).astype(np.uint16)``; the
# ``skfsrcnn upscale`` command does this for 16-bit files.
