"""
=======================================
Super-resolve a photograph with FSRCNN
=======================================

Bicubic interpolation enlarges an image smoothly but cannot bring back the
detail that was lost when it was made small. FSRCNN learned, from many
pairs of large and small images, what that detail usually looks like.

This example shrinks a photograph three times with MATLAB's bicubic
``imresize`` (:func:`skfsrcnn.resize.imresize`, the degradation FSRCNN was
trained to undo), brings it back to full size with bicubic interpolation and
with :func:`skfsrcnn.upscale`, and compares both with the original: by eye
on close-ups, and by PSNR on the luma, as the super-resolution literature
does (:func:`skfsrcnn.metrics.psnr`).
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from skimage import data
from skimage.util import img_as_ubyte

from skfsrcnn import upscale
from skfsrcnn.metrics import psnr
from skfsrcnn.resize import imresize

scale = 3
original = data.astronaut()
# Crop so that both sides are multiples of the scale.
rows, cols = (n - n % scale for n in original.shape[:2])
original = original[:rows, :cols]

low_res = imresize(original, 1 / scale)
print(f"original {original.shape}, low resolution {low_res.shape}")

######################################################################
# Upscale
# =======
#
# ``channel_axis=-1`` says that the last axis holds the colour channels. The
# image is converted to YCbCr: FSRCNN enlarges the luma Y, where the eye
# sees detail, and the chroma is enlarged bicubically. The result is a
# float image in [0, 1], scikit-image's convention for ``uint8`` input.

fsrcnn = upscale(low_res, scale, channel_axis=-1)
print(f"FSRCNN: {fsrcnn.shape} {fsrcnn.dtype}, range [{fsrcnn.min():.2f}, {fsrcnn.max():.2f}]")

######################################################################
# The baseline is MATLAB's bicubic interpolation, computed in floating point
# and clipped to [0, 1] like FSRCNN's output.

bicubic = np.clip(imresize(low_res / 255.0, scale), 0, 1)

######################################################################
# Scores
# ======
#
# PSNR is computed on the luma (``y_channel=True``), with ``scale`` pixels
# shaved from every border, on images rounded to ``uint8``: the literature's
# protocol (see :doc:`/user_guide/evaluation`). Higher is better; a gain of
# a few tenths of a decibel is already visible on fine structure.


def score(image):
    return psnr(original, img_as_ubyte(image), crop_border=scale, y_channel=True)


scores = {"bicubic": score(bicubic), "FSRCNN": score(fsrcnn)}
for method, value in scores.items():
    print(f"{method:8s} PSNR-Y {value:.2f} dB")
print(f"FSRCNN - bicubic: {scores['FSRCNN'] - scores['bicubic']:+.2f} dB")

######################################################################
# Close-ups
# =========
#
# The low-resolution input is shown with nearest-neighbour pixels, at the
# size of the others.

top, left, size = 315, 105, 128
window = (slice(top, top + size), slice(left, left + size))
nearest = np.repeat(np.repeat(low_res, scale, axis=0), scale, axis=1)

fig, ax = plt.subplots(figsize=(4, 4))
ax.imshow(original)
ax.add_patch(Rectangle((left, top), size, size, fill=False, edgecolor="yellow", linewidth=2))
ax.set_title("original, with the close-up region")
ax.set_axis_off()

panels = [
    (nearest, f"input ({low_res.shape[0]} x {low_res.shape[1]}, shown x{scale})"),
    (bicubic, f"bicubic, {scores['bicubic']:.2f} dB"),
    (fsrcnn, f"FSRCNN, {scores['FSRCNN']:.2f} dB"),
    (original, "original"),
]
fig, axes = plt.subplots(2, 2, figsize=(8, 8), sharex=True, sharey=True)
for ax, (image, title) in zip(axes.ravel(), panels):
    ax.imshow(image[window])
    ax.set_title(title)
    ax.set_axis_off()
fig.tight_layout()

plt.show()

######################################################################
# A photograph that is already small (a thumbnail, a crop) is upscaled the
# same way; there is simply no original to compare with. For speed, pass
# ``model="fsrcnn-s"``
# (:ref:`sphx_glr_auto_examples_evaluation_plot_fsrcnn_vs_fsrcnn_s.py`).
