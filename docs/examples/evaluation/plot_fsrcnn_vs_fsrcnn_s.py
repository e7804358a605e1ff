"""
======================================
FSRCNN and FSRCNN-s: speed and quality
======================================

skfsrcnn ships two networks for every scale: the paper's FSRCNN (56-12-4:
56 feature channels, shrunk to 12, four mapping layers) and the paper's
small, real-time FSRCNN-s (32-5-1). This example measures what the smaller
one costs in quality and gains in speed on this machine:

* quality with the literature's protocol (:func:`skfsrcnn.evaluate.evaluate`:
  PSNR on the luma of images shrunk with MATLAB's bicubic, borders shaved),
  as the gain over bicubic interpolation, on four of scikit-image's images;
* speed as output megapixels per second of :func:`skfsrcnn.upscale`.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from skimage import data
from skimage.color import rgb2ycbcr

from skfsrcnn import upscale
from skfsrcnn.datasets import mod_crop
from skfsrcnn.evaluate import bicubic_upscaler, evaluate, model_upscaler
from skfsrcnn.models import PRESETS
from skfsrcnn.pretrained import load_model
from skfsrcnn.resize import imresize

models = {"FSRCNN": "fsrcnn", "FSRCNN-s": "fsrcnn-s"}
scales = (2, 3, 4)

######################################################################
# Cost per pixel
# ==============
#
# The arithmetic per low-resolution pixel follows from the architecture:
# a 5x5 feature layer, 1x1 shrinking, ``m`` 3x3 mapping layers, 1x1
# expanding, and a 9x9 deconvolution.

for label, preset in models.items():
    d, s, m = (PRESETS[preset][k] for k in "dsm")
    macs = 25 * d + d * s + 9 * m * s * s + s * d + 81 * d
    print(f"{label:8s} (d={d}, s={s}, m={m}): {macs} multiply-adds per low-resolution pixel")

######################################################################
# Quality
# =======
#
# The luma of each image (BT.601 as MATLAB's ``rgb2ycbcr``, which
# :func:`skimage.color.rgb2ycbcr` follows) is the high-resolution
# reference; :func:`~skfsrcnn.evaluate.evaluate` shrinks it, upscales it
# with the method given and scores the result.


def luma(image):
    if image.ndim == 2:
        return image
    return np.round(rgb2ycbcr(image)[..., 0]).astype(np.uint8)


images = {name: luma(getattr(data, name)()) for name in ("camera", "astronaut", "coffee", "chelsea")}


def mean_psnr(upscaler, scale):
    benchmark = [(name, mod_crop(y, scale)) for name, y in images.items()]
    return np.mean([p for _, p, _ in evaluate(upscaler, benchmark, scale, with_ssim=False)])


gain = {label: [] for label in models}
for scale in scales:
    bicubic = mean_psnr(bicubic_upscaler(scale), scale)
    line = f"x{scale}: bicubic {bicubic:.2f} dB"
    for label, preset in models.items():
        network = load_model(f"{preset}-x{scale}")
        value = mean_psnr(model_upscaler(network), scale)
        gain[label].append(value - bicubic)
        line += f", {label} {value:.2f} dB"
    print(line)

######################################################################
# Speed
# =====
#
# The median of five runs of :func:`~skfsrcnn.upscale` on a greyscale frame
# whose output is 960 x 540 pixels (a quarter of full HD), after one
# warm-up run that loads the network. Timings depend on the machine and on
# what else it is doing; the ratio between the two networks is the robust
# part.

speed = {label: [] for label in models}
for scale in scales:
    frame = data.camera()[: 540 // scale, : 960 // scale]
    for label, preset in models.items():
        upscale(frame, scale, model=preset)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            upscale(frame, scale, model=preset)
            times.append(time.perf_counter() - start)
        megapixels = frame.size * scale**2 / 1e6
        speed[label].append(megapixels / np.median(times))
    print(
        f"x{scale}: "
        + ", ".join(f"{label} {speed[label][-1]:.1f} MP/s" for label in models)
        + f" (FSRCNN-s {speed['FSRCNN-s'][-1] / speed['FSRCNN'][-1]:.1f}x faster)"
    )

######################################################################
# Side by side
# ============

x = np.arange(len(scales))
width = 0.38
fig, (ax_quality, ax_speed) = plt.subplots(1, 2, figsize=(8, 3.4))
for k, label in enumerate(models):
    ax_quality.bar(x + (k - 0.5) * width, gain[label], width, label=label)
    ax_speed.bar(x + (k - 0.5) * width, speed[label], width, label=label)
ax_quality.axhline(0, color="black", linewidth=0.8)
ax_quality.set_ylabel("PSNR-Y gain over bicubic (dB)")
ax_speed.set_ylabel("output megapixels per second")
for ax in (ax_quality, ax_speed):
    ax.set_xticks(x, [f"x{s}" for s in scales])
    ax.legend()
fig.tight_layout()

######################################################################
# Close-ups at x3
# ===============

scale = 3
original = mod_crop(data.camera(), scale)
low_res = imresize(original, 1 / scale)
window = (slice(60, 220), slice(190, 350))
panels = [("bicubic", np.clip(imresize(low_res / 255.0, scale), 0, 1))]
panels += [(label, upscale(low_res, scale, model=preset)) for label, preset in models.items()]
panels.append(("original", original))

fig, axes = plt.subplots(1, 4, figsize=(8, 2.4))
for ax, (title, image) in zip(axes, panels):
    ax.imshow(image[window], cmap="gray")
    ax.set_title(title)
    ax.set_axis_off()
fig.tight_layout()

plt.show()

######################################################################
# FSRCNN-s does about a third of FSRCNN's arithmetic, and its measured
# speed-up is printed above; the quality it gives up is the difference of
# the bars on the left. For interactive use or video, FSRCNN-s; for the best
# result, FSRCNN. :doc:`/user_guide/performance` compares both with
# OpenCV's implementation on the same frames.
