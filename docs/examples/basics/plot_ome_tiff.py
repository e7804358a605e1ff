"""
=============================================
Upscale an OME-TIFF and keep its pixel size
=============================================

A microscope's file knows how large a pixel is, and every measurement made
on the image afterwards (areas, distances, densities) depends on it. When
an image is upscaled x2, each new pixel covers half the distance, so the
pixel size must be halved, and the channel names, Z spacing and the rest of
the OME metadata must stay as they were.

This example writes a two-channel OME-TIFF with a pixel size of 0.65 µm,
upscales it with the ``skfsrcnn upscale`` command (called here from
Python, as :func:`skfsrcnn.cli.main`), and reads the pixel size, the
channel names and the record of how the file was made back with
``tifffile``. The image is scikit-image's immunohistochemistry section,
separated into two stains and stored as ``uint16``.
"""

import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import tifffile
from skimage import data
from skimage.color import rgb2hed
from skimage.exposure import rescale_intensity

from skfsrcnn import cli
from skfsrcnn.resize import imresize

hed = rgb2hed(data.immunohistochemistry())
stains = np.stack([rescale_intensity(hed[..., c], out_range=(0, 60000)) for c in (0, 2)])
low = np.clip(np.rint(imresize(stains, 1 / 2, axes=(1, 2))), 0, 65535).astype(np.uint16)

folder = Path(tempfile.mkdtemp())
source, output = folder / "section.ome.tif", folder / "section_x2.ome.tif"
tifffile.imwrite(
    source,
    low,
    ome=True,
    metadata={
        "axes": "CYX",
        "PhysicalSizeX": 0.65,
        "PhysicalSizeXUnit": "µm",
        "PhysicalSizeY": 0.65,
        "PhysicalSizeYUnit": "µm",
        "Channel": {"Name": ["haematoxylin", "DAB"]},
    },
)

######################################################################
# Upscale the file
# ================
#
# The command reads the OME-TIFF, upscales both channels (each on its own,
# in the intensity range its model was trained on) and writes a new
# OME-TIFF whose OME-XML is the input's with the pixel size divided by 2.

cli.main(["upscale", str(source), str(output), "--scale", "2", "--model", "fsrcnn-fluo"])

######################################################################
# The metadata, before and after
# ==============================


def describe(path):
    with tifffile.TiffFile(path) as tif:
        pixels = tifffile.xml2dict(tif.ome_metadata)["OME"]["Image"]["Pixels"]
        image = tif.asarray()
    channels = [channel["Name"] for channel in pixels["Channel"]]
    size = f"{pixels['PhysicalSizeX']:g} x {pixels['PhysicalSizeY']:g} {pixels['PhysicalSizeXUnit']}"
    print(f"{path.name}: {image.shape} {image.dtype}, pixel {size}, channels {channels}")
    return image, pixels["PhysicalSizeX"]


before, size_before = describe(source)
after, size_after = describe(output)
with tifffile.TiffFile(output) as tif:
    made = tifffile.xml2dict(tif.ome_metadata)["OME"]["StructuredAnnotations"]["CommentAnnotation"]["Value"]
print("made by:", json.loads(made))

######################################################################
# The same field of view
# ======================
#
# Shown in micrometres (``extent`` from the pixel size), the two images
# cover the same area: the upscaled one has twice the pixels, each half the
# size.

fig, axes = plt.subplots(1, 2, figsize=(8, 4), sharex=True, sharey=True)
for ax, image, size, title in zip(axes, (before, after), (size_before, size_after), ("input", "upscaled x2")):
    rows, cols = image.shape[1:]
    ax.imshow(image[0], cmap="magma", extent=(0, cols * size, rows * size, 0))
    ax.set_title(f"{title}: {cols} x {rows} px of {size:g} µm")
    ax.set_xlabel("µm")
axes[0].set_ylabel("µm")
for ax in axes:
    ax.set_xlim(100, 160)
    ax.set_ylim(160, 100)
fig.tight_layout()
plt.show()
