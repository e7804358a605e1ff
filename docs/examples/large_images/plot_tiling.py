"""
=========================================
Upscale a large image with bounded memory
=========================================

A convolutional network keeps several feature maps per pixel: FSRCNN holds
56 numbers for every low-resolution pixel in each of its wide layers, so the
memory it needs grows with the image. :func:`skfsrcnn.upscale` therefore
works in tiles of ``tile_size`` x ``tile_size`` input pixels. Each tile is
read with a margin (the *halo*) as wide as the network's receptive field,
and only its centre is kept, so the stitched result is *exactly* the
untiled one: no seams, no blending.

This example checks that equality, shows the tile layout, and measures the
peak memory of upscaling a one-megapixel image with several tile sizes.
"""

import threading

import matplotlib.pyplot as plt
import numpy as np
import psutil
from matplotlib.patches import Rectangle
from skimage import data

from skfsrcnn import upscale
from skfsrcnn.pretrained import load_model

# A 1024 x 1024 mosaic of four of scikit-image's 512 x 512 greyscale images.
image = np.block([[data.camera(), data.moon()], [data.brick(), data.grass()]])
print(f"image: {image.shape} {image.dtype}")

######################################################################
# Tiled equals untiled
# ====================
#
# ``tile_size=None`` runs the network on the whole image at once. Compare it
# with tiles of 256 x 256 input pixels, on one quarter of the mosaic to keep
# the example quick.

scale = 2
part = image[:512, :512]
whole = upscale(part, scale, tile_size=None)
tiled = upscale(part, scale, tile_size=256)
print(f"largest difference, tiled vs untiled: {np.abs(tiled - whole).max():.2g}")

######################################################################
# The tiles
# =========
#
# The halo is the network's receptive-field radius in input pixels; the
# model reports it. Each tile is read with ``halo`` extra pixels on every
# side (fewer at the image border), and only its core is pasted.

halo = load_model(f"fsrcnn-x{scale}").halo
tile_size = 256
print(f"halo of FSRCNN x{scale}: {halo} pixels")

row, col = 256, 512  # one tile: its core (solid) and the window it reads (dashed)
fig, axes = plt.subplots(1, 2, figsize=(8, 4.2))
for ax in axes:
    ax.imshow(image, cmap="gray")
    for start in range(0, image.shape[0], tile_size):
        ax.axhline(start - 0.5, color="yellow", linewidth=1)
        ax.axvline(start - 0.5, color="yellow", linewidth=1)
    ax.add_patch(Rectangle((col - 0.5, row - 0.5), tile_size, tile_size, fill=False, edgecolor="red", linewidth=2))
    ax.add_patch(
        Rectangle(
            (col - halo - 0.5, row - halo - 0.5),
            tile_size + 2 * halo,
            tile_size + 2 * halo,
            fill=False,
            edgecolor="cyan",
            linestyle="--",
            linewidth=2,
        )
    )
    ax.set_axis_off()
axes[0].set_title(f"tiles of {tile_size} x {tile_size} pixels")
axes[1].set_xlim(col - 3 * halo, col + 5 * halo)
axes[1].set_ylim(row + 5 * halo, row - 3 * halo)
axes[1].set_title(f"corner: core (red), window read (cyan, +{halo} px)")
fig.tight_layout()

######################################################################
# Peak memory
# ===========
#
# A small helper samples the resident memory of this process (with
# `psutil <https://psutil.readthedocs.io>`_) every few milliseconds while a
# function runs, and reports how far it rose above where it started.


def peak_memory_mib(function, *args, **kwargs):
    """Run ``function``; return its result and the peak rise of memory, in MiB."""
    process = psutil.Process()
    start = peak = process.memory_info().rss
    done = threading.Event()

    def watch():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            done.wait(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = function(*args, **kwargs)
    finally:
        done.set()
        watcher.join()
    return result, (peak - start) / 2**20


######################################################################
# Upscale the whole mosaic with three tile sizes. The output alone,
# 2048 x 2048 float32 values, takes 16 MiB.

labels, peaks = [], []
for tile in (256, 512, None):
    _, peak = peak_memory_mib(upscale, image, scale, tile_size=tile)
    labels.append("whole image" if tile is None else f"{tile} x {tile}")
    peaks.append(peak)
    print(f"tile_size={str(tile):>5s}: peak memory +{peak:.0f} MiB")

fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(labels, peaks, color="tab:blue")
ax.set_xlabel("peak rise of memory (MiB)")
ax.set_ylabel("tile_size")
ax.set_title("FSRCNN x2 of a 1024 x 1024 image")
fig.tight_layout()

plt.show()

######################################################################
# The working memory of the network follows the tile, not the image: a
# 100-megapixel scan upscaled in 512-pixel tiles needs the same few hundred
# MiB of network memory as this one, plus its output. When even the output
# is too big for memory, pass a dask array instead
# (:ref:`sphx_glr_auto_examples_large_images_plot_dask.py`).
