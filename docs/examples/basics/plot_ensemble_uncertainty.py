"""
==========================================================
Self-ensemble, uncertainty and the consistency residual
==========================================================

Can the network's output be trusted? :func:`skfsrcnn.upscale` gives two
cheap, honest signals besides the image:

* ``ensemble=True`` runs the network on the 8 flips and rotations of the
  image and averages the 8 results turned back (the self-ensemble,
  "FSRCNN+"): a little more quality for 8 times the work, and with
  ``return_uncertainty=True`` the **standard deviation of the 8** at every
  pixel: where the answer depends on the image's orientation, the network
  guesses;
* :func:`skfsrcnn.consistency_residual` shrinks the result back with
  MATLAB's bicubic, the degradation the network learned to undo, and
  subtracts it from the input: where the **residual** is large, the output
  disagrees with what was measured. ``back_projection=n`` corrects the
  output until it agrees.

We shrink a microscopy image (the nuclear stain of scikit-image's
immunohistochemistry section, as a ``uint16`` grey image) and a photograph
three times, upscale them back, and compare both signals with the true
error, which only a test like this one knows.
"""

import matplotlib.pyplot as plt
import numpy as np
from skimage import data
from skimage.color import rgb2hed
from skimage.exposure import rescale_intensity

from skfsrcnn import consistency_residual, upscale
from skfsrcnn.metrics import psnr
from skfsrcnn.resize import imresize

scale = 3
nuclei = rescale_intensity(rgb2hed(data.immunohistochemistry())[..., 0], out_range=(0, 60000)).astype(np.uint16)
images = {
    "nuclei (microscopy, uint16)": nuclei[150:450, 200:500],
    "astronaut (photo, luma shown)": data.astronaut()[:300, 90:390],
}

######################################################################
# Upscale with the ensemble
# =========================
#
# Each image is shrunk with MATLAB's bicubic, stored in its own dtype as
# a camera would, and upscaled back in its own units
# (``preserve_range=True``), once with a single pass and once with the
# ensemble. The uncertainty is in the output's units (here grey levels);
# for RGB it is the spread of the luma, the channel the network sees, so it
# has no channel axis.

results = {}
for name, original in images.items():
    rgb = original.ndim == 3
    axis = -1 if rgb else None
    low = imresize(original.astype(np.float64), 1 / scale)
    low = np.clip(np.rint(low), 0, np.iinfo(original.dtype).max).astype(original.dtype)
    options = {"channel_axis": axis, "preserve_range": True}
    single = upscale(low, scale, **options)
    plus, uncertainty = upscale(low, scale, ensemble=True, return_uncertainty=True, **options)
    span = float(original.max())
    print(
        f"{name}: PSNR single {psnr(original, single, data_range=span, crop_border=scale):.2f} dB, "
        f"ensemble {psnr(original, plus, data_range=span, crop_border=scale):.2f} dB"
    )
    results[name] = (low, original.astype(np.float64), plus, uncertainty, rgb)

######################################################################
# Read the signals
# ================
#
# Columns: the ensemble's output; its uncertainty (0 to the 99th
# percentile); the true error, ``|original - output|``; and the consistency
# residual, ``input - bicubic_down(output)`` in grey levels of the input
# (red: the output is too dark there once shrunk, blue: too bright).
#
# * The uncertainty is high on edges and fine texture, where the true error
#   is high too; flat regions are dark in both. It ranks pixels by how much
#   to doubt them; it is no calibrated error bar (the true error is a few
#   times larger, and the outermost pixels are bright because the network
#   pads the image with zeros).
# * The residual is small: under one grey level of the photo's 255, and
#   about 0.1 % of the microscopy image's range. FSRCNN was trained to
#   invert this bicubic shrinking, so its output, shrunk, almost gives the
#   input back. A structure that shows up in the residual would be one the
#   network invented or removed.


def luma(image):
    return image @ [0.299, 0.587, 0.114] if image.ndim == 3 else image


fig, axes = plt.subplots(2, 4, figsize=(8, 4.4), constrained_layout=True)
for row, (name, (low, truth, plus, uncertainty, rgb)) in zip(axes, results.items()):
    residual, rms = consistency_residual(low, plus, scale, channel_axis=-1 if rgb else None, preserve_range=True)
    error = np.abs(luma(truth) - luma(plus))
    correlation = np.corrcoef(uncertainty.ravel(), error.ravel())[0, 1]
    limit = np.percentile(np.abs(luma(residual)), 99.5)
    panels = [
        (plus / truth.max(), "output (ensemble)", {"cmap": "gray", "vmin": 0, "vmax": 1}),
        (uncertainty, "uncertainty", {"cmap": "magma", "vmin": 0, "vmax": np.percentile(uncertainty, 99)}),
        (error, f"true error (r = {correlation:.2f})", {"cmap": "magma", "vmin": 0, "vmax": np.percentile(error, 99)}),
        (luma(residual), f"residual, RMS {rms:.2f}", {"cmap": "RdBu", "vmin": -limit, "vmax": limit}),
    ]
    for ax, (image, title, style) in zip(row, panels):
        ax.imshow(image, **style)
        ax.set_title(title, fontsize=8)
        ax.set_axis_off()
    row[0].text(-0.05, 0.5, name, transform=row[0].transAxes, rotation=90, va="center", ha="right", fontsize=8)
plt.show()

######################################################################
# Back-projection
# ===============
#
# ``back_projection=n`` repeats ``output += bicubic_up(input -
# bicubic_down(output))`` n times after the network, tile by tile like the
# rest. Each iteration shrinks the residual (clipping the output to the
# input's range, ``clip=True``, keeps a rest here). It changes
# PSNR little (a few hundredths of a dB up on the benchmarks, see
# :doc:`/user_guide/ensemble`): the network's output was nearly consistent
# already. (On RGB images it corrects the luma; the chroma, upscaled
# bicubically, keeps bicubic's own small residual.)

low, truth, plus, _, _ = results["nuclei (microscopy, uint16)"]
for iterations in (0, 1, 5):
    out = upscale(low, scale, preserve_range=True, ensemble=True, back_projection=iterations)
    _, rms = consistency_residual(low, out, scale, preserve_range=True)
    print(
        f"back_projection={iterations}: residual RMS {rms:.2f} grey levels of 60000, "
        f"PSNR {psnr(truth, out, data_range=60000, crop_border=scale):.2f} dB"
    )
