"""
=============================
Upscale a dask array, lazily
=============================

`dask <https://docs.dask.org>`_ arrays stand for data that are computed
chunk by chunk when needed, for example a whole-slide scan or a time-lapse
stored as Zarr, larger than memory. :func:`skfsrcnn.upscale` accepts them
and returns a lazy dask array: nothing is computed until you ask for it
(``.compute()``, ``.to_zarr(...)``, or indexing followed by ``.compute()``),
and then only the chunks you need.

Each output chunk is computed from its input chunk plus a margin as wide
as the network's receptive field, and intensities are scaled with the
minimum and maximum of the *whole* array, so the result is the same as
with the numpy array, whatever the chunking.
"""

import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from skimage import data

from skfsrcnn import upscale

######################################################################
# A chunked stack
# ===============
#
# Three 512 x 512 uint8 planes, split into chunks of one plane and
# 256 x 256 pixels. Here the chunks come from memory; from a Zarr store,
# ``da.from_zarr("scan.zarr")`` would read each chunk only when needed.

planes = np.stack([data.camera(), data.moon(), data.brick()])
stack = da.from_array(planes, chunks=(1, 256, 256))
print(stack)

######################################################################
# Upscale, lazily
# ===============
#
# The call returns at once: ``big`` is a description of the work. Its
# chunks are the input's chunks times ``scale`` on the two spatial axes.

scale = 2
big = upscale(stack, scale, model="fsrcnn-s")
print(big)
print("chunks of one plane:", big.chunks[1:])

######################################################################
# Compute only what you need
# ==========================
#
# Indexing a dask array is lazy too: ``big[1]`` computes only the chunks of
# the second plane (and the global minimum and maximum, from the input).

moon_x2 = big[1].compute()
print(f"second plane: {moon_x2.shape} {moon_x2.dtype}")

######################################################################
# The same as numpy
# =================
#
# Computing everything gives the numpy result, whatever the chunks.

everything = big.compute()
reference = upscale(planes, scale, model="fsrcnn-s")
print(f"largest difference, dask vs numpy: {np.abs(everything - reference).max():.2g}")

fig, axes = plt.subplots(1, 2, figsize=(8, 4.2))
axes[0].imshow(planes[1], cmap="gray")
for edge in np.cumsum(stack.chunks[1])[:-1]:
    axes[0].axhline(edge - 0.5, color="yellow")
for edge in np.cumsum(stack.chunks[2])[:-1]:
    axes[0].axvline(edge - 0.5, color="yellow")
axes[0].set_title(f"input plane, chunks of {stack.chunksize[1]} px")
axes[1].imshow(moon_x2, cmap="gray")
for edge in np.cumsum(big.chunks[1])[:-1]:
    axes[1].axhline(edge - 0.5, color="yellow")
for edge in np.cumsum(big.chunks[2])[:-1]:
    axes[1].axvline(edge - 0.5, color="yellow")
axes[1].set_title(f"FSRCNN-s x{scale}, chunks of {big.chunksize[1]} px")
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

plt.show()

######################################################################
# For data larger than memory, write the result chunk by chunk instead of
# computing it whole, e.g. ``big.to_zarr("scan_x2.zarr")``. Each chunk is
# upscaled in tiles as well (``tile_size``), so a worker's memory is bounded
# by the chunk size; see :doc:`/user_guide/tiling`.
