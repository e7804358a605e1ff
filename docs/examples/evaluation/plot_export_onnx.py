"""
=========================================
Export to ONNX and run it without PyTorch
=========================================

:func:`skfsrcnn.export.export` writes the network of any weights as one
ONNX file that ONNX Runtime, OpenCV's ``dnn`` module, browsers and C++
programs run without Python or PyTorch. This example exports
``fsrcnn-x3``, runs it with ONNX Runtime, and checks it against
:func:`skfsrcnn.upscale`.
"""

import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import onnx
import onnxruntime
from skimage import data

from skfsrcnn import upscale
from skfsrcnn.export import export

######################################################################
# Export
# ======
#
# On the command line: ``skfsrcnn export fsrcnn-x3 --format onnx fsrcnn-x3.onnx``.

folder = tempfile.TemporaryDirectory()
path = export("fsrcnn-x3", Path(folder.name) / "fsrcnn-x3.onnx", "onnx")
print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB")

######################################################################
# The file records where it came from and the intensity range the
# weights were trained on.

metadata = {prop.key: prop.value for prop in onnx.load(str(path)).metadata_props}
print({key: metadata[key] for key in ("name", "scale", "input_range", "skfsrcnn_version")})
low, high = json.loads(metadata["input_range"])

######################################################################
# Run
# ===
#
# The graph holds the network only: map a [0, 1] image into the weights'
# input range before it, and back after it, as ``upscale`` does for grey
# images.

image = data.camera()[160:260, 180:300].astype(np.float32) / 255
session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
x = (image * (high - low) + low)[None, None]  # (batch, channel, rows, columns)
(y,) = session.run(None, {"input": x})
onnx_result = (y[0, 0] - low) / (high - low)

######################################################################
# The same as ``upscale``
# =======================

reference = upscale(image, 3, weights="fsrcnn-x3", clip=False)
print(f"largest difference from upscale: {np.abs(onnx_result - reference).max():.1e}")

fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
axes[0].imshow(image, cmap="gray", vmin=0, vmax=1)
axes[0].set_title(f"input {image.shape[1]} x {image.shape[0]}")
axes[1].imshow(np.clip(onnx_result, 0, 1), cmap="gray", vmin=0, vmax=1)
axes[1].set_title(f"ONNX Runtime, x3: {onnx_result.shape[1]} x {onnx_result.shape[0]}")
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()
plt.show()

folder.cleanup()
