"""
======================================
Train a tiny model on your own images
======================================

The released weights were trained on photographs. For images of another
kind, weights trained on images like yours can do better, and
:mod:`skfsrcnn.train` makes them from nothing but a folder of
high-resolution images: it makes the low-resolution inputs itself, with
the same MATLAB-exact bicubic that the benchmarks use.

This example writes crops of a few of scikit-image's photographs to a
temporary folder, trains an FSRCNN-s for x2 on them for a few hundred
iterations (well under a minute on two CPU cores), follows the validation
PSNR while it trains, and then uses the weights with
``upscale(..., weights=...)``. Real training runs are longer (thousands of
iterations, see :doc:`/user_guide/training`); the mechanics are the same.
"""

import csv
import tempfile
from pathlib import Path

import imageio.v3 as iio
import matplotlib.pyplot as plt
import numpy as np
from skimage import data

from skfsrcnn import upscale
from skfsrcnn.datasets import load_benchmark
from skfsrcnn.evaluate import bicubic_upscaler, evaluate
from skfsrcnn.metrics import psnr
from skfsrcnn.resize import imresize
from skfsrcnn.train import TrainConfig, train

######################################################################
# A folder of images
# ==================
#
# Any folder of 8-bit PNG, JPEG or TIFF files will do; colour images are
# reduced to their luma. Here: 192 x 192 crops of four photographs for
# training, and a fifth photograph kept apart for validation.

workdir = Path(tempfile.mkdtemp(prefix="skfsrcnn-train-"))
train_dir, val_dir = workdir / "train", workdir / "val"
train_dir.mkdir()
val_dir.mkdir()

for name in ("astronaut", "coffee", "rocket", "hubble_deep_field"):
    image = getattr(data, name)()
    for i in range(2):
        for j in range(2):
            crop = image[i * 192 : (i + 1) * 192, j * 192 : (j + 1) * 192]
            iio.imwrite(train_dir / f"{name}_{i}{j}.png", crop)
iio.imwrite(val_dir / "chelsea.png", data.chelsea()[:240, :300])
print(f"{len(list(train_dir.iterdir()))} training images in {train_dir}")

######################################################################
# Configure and train
# ===================
#
# :class:`~skfsrcnn.train.TrainConfig` holds every setting; its defaults are
# a full-length x3 FSRCNN recipe, shortened here. The same settings can live
# in a YAML file for the ``skfsrcnn-train`` command. (To fine-tune the
# released weights on your images instead of starting from scratch, add
# ``init_from="fsrcnn-s-x2"``.)

config = TrainConfig(
    name="tiny",
    model="fsrcnn-s",
    scale=2,
    train_folders=[str(train_dir)],
    downscales=[1.0, 0.8],  # the paper's augmentation, shortened
    rotations=[0, 90],
    patch_size=24,  # low-resolution patch side
    batch_size=16,
    iterations=400,
    lr=3e-3,
    val_data=str(val_dir),
    val_every=40,
    log_every=20,
    checkpoint_every=200,
    output_dir=str(workdir / "runs"),
    seed=0,
    threads=1,  # tiny batches gain nothing from more threads
)
best = train(config, progress=False)
print(f"best weights: {best}")

######################################################################
# What the run wrote
# ==================
#
# ``runs/tiny/`` holds ``best.safetensors`` (the weights with the best
# validation PSNR), ``checkpoint.pt`` (to resume with ``--resume``),
# ``config.yaml`` and ``log.csv``. Plot the log, with the PSNR of bicubic
# interpolation on the same validation image for reference. A network
# trained from scratch needs thousands of iterations to overtake bicubic
# interpolation clearly: the curve is still rising when this short run
# stops. The released weights were trained far longer (``recipes/``), and
# fine-tuning them (``init_from``) starts from their quality.

print(sorted(path.name for path in best.parent.iterdir()))
with open(best.parent / "log.csv") as handle:
    log = list(csv.DictReader(handle))
loss = [(int(r["iteration"]), float(r["loss"])) for r in log if r["loss"]]
val = [(int(r["iteration"]), float(r["val_psnr"])) for r in log if r["val_psnr"]]
bicubic_psnr = np.mean([p for _, p, _ in evaluate(bicubic_upscaler(2), load_benchmark(val_dir, 2), 2)])

fig, (ax_loss, ax_psnr) = plt.subplots(1, 2, figsize=(8, 3.2))
ax_loss.plot(*zip(*loss))
ax_loss.set_yscale("log")
ax_loss.set_xlabel("iteration")
ax_loss.set_ylabel("training loss (MSE)")
ax_psnr.plot(*zip(*val), marker="o", label="FSRCNN-s, training")
ax_psnr.axhline(bicubic_psnr, color="gray", linestyle="--", label="bicubic")
ax_psnr.set_xlabel("iteration")
ax_psnr.set_ylabel("validation PSNR-Y (dB)")
ax_psnr.legend()
fig.tight_layout()

######################################################################
# Use the weights
# ===============
#
# ``weights=`` takes the file; it records its architecture and scale.

original = data.chelsea()[:240, :300]
low_res = imresize(original, 1 / 2)
mine = upscale(low_res, 2, channel_axis=-1, weights=best)
score = psnr(original, np.rint(mine * 255).astype(np.uint8), crop_border=2, y_channel=True)
print(f"upscaled with the new weights: {mine.shape}, PSNR-Y {score:.2f} dB")

fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
axes[0].imshow(np.clip(imresize(low_res / 255.0, 2), 0, 1))
axes[0].set_title("bicubic")
axes[1].imshow(mine)
axes[1].set_title(f"FSRCNN-s, {config.iterations} iterations of training")
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

plt.show()
