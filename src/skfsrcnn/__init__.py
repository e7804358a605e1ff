"""skfsrcnn: fast, high-quality FSRCNN image super-resolution.

Upscaling
---------
upscale
    Super-resolve a grey, RGB(A), multichannel or nD image (numpy or dask).
upscale_steps
    The same as a generator that reports progress after every tile.
consistency_residual
    How far the upscaled image, downscaled back, is from the input.
run_to_end
    Drive a progress generator (``upscale_steps``, ``train.fit_steps``) to its result.

Modules (imported on first use)
-------------------------------
io
    Read and write PNG, JPEG, TIFF and zarr images; the bundled sample.
models
    The FSRCNN network and its fast inference form.
pretrained
    Registry of pretrained weights (pooch, sha256) and weight loading.
resize
    MATLAB-compatible bicubic ``imresize``.
metrics
    PSNR and SSIM as the super-resolution literature computes them.
datasets
    Training and benchmark data.
degradation
    How LR images are made: MATLAB bicubic, camera binning, blur, noise.
evaluate
    Benchmark evaluation (``skfsrcnn eval``).
train
    Training (``skfsrcnn train``).
cli
    The ``skfsrcnn`` command: ``skfsrcnn upscale | train | eval``.
export
    Export weights to ONNX, TorchScript or a bioimage.io model package.
video
    Upscale video files frame by frame, sound and subtitles kept.
"""

import lazy_loader as _lazy

from ._threads import wait_passively as _wait_passively

__version__ = "0.1.0"

_wait_passively()  # before torch loads OpenMP: idle threads sleep, not spin (see skfsrcnn._threads)

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
