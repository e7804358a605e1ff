"""skfsrcnn: fast, high-quality FSRCNN image super-resolution.

Upscaling
---------
upscale
    Super-resolve a grey, RGB(A), multichannel or nD image (numpy or dask).

Modules (imported on first use)
-------------------------------
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
    Benchmark evaluation (``skfsrcnn-eval``).
train
    Training (``skfsrcnn-train``).
export
    Export weights to ONNX, TorchScript or a bioimage.io model package.
"""

import lazy_loader as _lazy

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
