"""Benchmark evaluation with the literature's protocol (the ``skfsrcnn eval`` command runs it).

Protocol: the HR image is mod-cropped to the scale and reduced to its BT.601
luma (MATLAB ``rgb2ycbcr``, rounded to uint8); the LR input is MATLAB's
bicubic ``imresize`` of that luma in floating point; the output is rounded
to uint8 and scored by PSNR and SSIM (11x11 Gaussian, sigma 1.5) with
``scale`` pixels shaved from every border.
"""

import os

import numpy as np

from .datasets import degrade, load_benchmark
from .metrics import psnr, ssim
from .resize import imresize

__all__ = [
    "PROTOCOL",
    "bicubic_upscaler",
    "evaluate",
    "format_table",
    "library_upscaler",
    "model_upscaler",
    "spline_upscaler",
]

#: One-line summary of the evaluation protocol, printed under every
#: ``skfsrcnn eval`` table; fill in the shaved border with
#: ``PROTOCOL.format(scale=3)``.
#:
#: Examples
#: --------
#: >>> from skfsrcnn.evaluate import PROTOCOL
#: >>> PROTOCOL.format(scale=3).startswith("PSNR/SSIM on Y")
#: True
PROTOCOL = (
    "PSNR/SSIM on Y (BT.601, MATLAB rgb2ycbcr), LR = MATLAB bicubic of Y in float, "
    "output rounded to uint8, {scale} px shaved from each border, SSIM 11x11 Gaussian sigma 1.5"
)


def bicubic_upscaler(scale):
    """Return ``f(lr) -> hr`` that upscales with MATLAB bicubic (the baseline).

    Parameters
    ----------
    scale : int
        Upscaling factor.

    Returns
    -------
    callable
        Takes a float (M, N) LR luma plane, returns the float
        (M * scale, N * scale) plane from
        :func:`skfsrcnn.resize.imresize`; pass it to :func:`evaluate`.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.evaluate import bicubic_upscaler
    >>> bicubic_upscaler(3)(np.zeros((10, 8))).shape
    (30, 24)
    """
    return lambda lr: imresize(lr, scale)


def spline_upscaler(scale):
    """Return ``f(lr) -> hr`` that upscales with cubic splines (a baseline stronger than bicubic).

    This is :func:`skimage.transform.rescale` with ``order=3`` (its
    defaults otherwise), the interpolation a scikit-image user reaches for.

    Parameters and return value are those of :func:`bicubic_upscaler`.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.evaluate import spline_upscaler
    >>> spline_upscaler(2)(np.zeros((10, 8))).shape
    (20, 16)
    """
    from skimage.transform import rescale

    return lambda lr: rescale(lr, scale, order=3)


def library_upscaler(weights, scale, *, device=None, ensemble=False, back_projection=0):
    """Return ``f(lr) -> hr`` that runs :func:`skfsrcnn.upscale` as a user calls it on a grey image.

    Unlike :func:`model_upscaler`, which feeds the network the luma as the
    literature does, this maps the plane into the intensity range the
    weights were trained on (:func:`skfsrcnn.pretrained.input_range`) and
    back, and clips to the input's range: what ``upscale`` gives for
    greyscale data such as microscopy.

    Parameters
    ----------
    weights : str or path-like
        Registry name or weights file.
    scale : int
        Upscaling factor; must match the weights.
    device : str or torch.device, optional
        As for :func:`skfsrcnn.upscale`.
    ensemble : bool, optional
        As for :func:`skfsrcnn.upscale`: average the 8 flips and rotations.
    back_projection : int, optional
        As for :func:`skfsrcnn.upscale`: iterations of back-projection.

    Returns
    -------
    callable
        Takes a float (M, N) LR plane, returns the float32 HR plane; pass
        it to :func:`evaluate`.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.evaluate import library_upscaler
    >>> library_upscaler("fsrcnn-s-x2", 2)(np.zeros((10, 8))).shape
    (20, 16)
    """
    from ._front import upscale

    return lambda lr: upscale(
        lr, scale, weights=weights, device=device, ensemble=ensemble, back_projection=back_projection
    )


def model_upscaler(network, device="cpu", *, ensemble=False, back_projection=0):
    """Return ``f(lr) -> hr`` that runs ``network`` (a torch module) on one luma plane.

    Parameters
    ----------
    network : torch.nn.Module
        Maps a ``(1, 1, M, N)`` float32 tensor to ``(1, 1, M * s, N * s)``,
        e.g. a model from :func:`skfsrcnn.pretrained.load_model`; it is run in
        inference mode, so put it in eval mode first.
    device : str or torch.device, optional
        Where ``network`` lives; the input is moved there.
    ensemble : bool, optional
        Average the outputs of the 8 flips and rotations of the input
        (the self-ensemble of :func:`skfsrcnn.upscale`, "FSRCNN+").
    back_projection : int, optional
        Iterations of back-projection after the network, with MATLAB's
        bicubic both ways (as :func:`skfsrcnn.upscale`).

    Returns
    -------
    callable
        Takes a float (M, N) LR luma plane in [0, 1], returns the float32
        ndarray HR plane; pass it to :func:`evaluate`.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.evaluate import model_upscaler
    >>> from skfsrcnn.pretrained import load_model
    >>> upscale = model_upscaler(load_model("fsrcnn-s-x2"))
    >>> upscale(np.zeros((10, 8))).shape
    (20, 16)
    >>> model_upscaler(load_model("fsrcnn-s-x2"), ensemble=True)(np.zeros((10, 8))).shape
    (20, 16)
    """
    import torch

    from ._backproject import back_project
    from ._ensemble import transformed, transforms

    def once(batch):
        x = torch.from_numpy(batch)[:, None].to(device)
        with torch.inference_mode():
            return network(x)[:, 0].float().cpu().numpy()

    def run(lr):
        batch = np.ascontiguousarray(lr, dtype=np.float32)[None]
        hr = np.mean([transformed(once, transform)(batch) for transform in transforms(ensemble)], axis=0)
        if back_projection:
            hr = back_project(batch, hr, hr.shape[-1] // batch.shape[-1], back_projection)
        return hr[0]

    return run


def _to_uint8(image):
    return np.floor(np.clip(image * 255.0, 0, 255) + 0.5).astype(np.uint8)


def evaluate(upscaler, benchmark, scale, *, with_ssim=True, degradation=None):
    """Score ``upscaler`` on ``benchmark``; return ``[(name, psnr, ssim), ...]``.

    Parameters
    ----------
    upscaler : callable
        Takes a float LR luma plane in [0, 1], returns the HR plane.
    benchmark : list of (name, uint8 luma) or path-like
        Output of :func:`skfsrcnn.datasets.load_benchmark`, or its folder.
    scale : int
        Upscaling factor; also the border shaved before scoring.
    with_ssim : bool
        Compute SSIM too (``nan`` otherwise).
    degradation : skfsrcnn.degradation.Degradation, optional
        How the LR images are made from the HR ones (image ``k`` of the set
        gets noise ``k``); None is the protocol's MATLAB bicubic.

    Returns
    -------
    list of (str, float, float)
        Per image: its name, PSNR-Y in dB and SSIM-Y, in the order of
        ``benchmark``; average them for the usual table.

    Raises
    ------
    ValueError
        ``benchmark`` is a folder that does not exist or holds no HR image,
        or an image is too small to score after shaving the border.

    See Also
    --------
    skfsrcnn.metrics.psnr : Peak signal-to-noise ratio.
    skfsrcnn.metrics.ssim : Structural similarity.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.evaluate import evaluate, bicubic_upscaler
    >>> image = np.random.default_rng(0).integers(0, 256, (60, 60), dtype=np.uint8)
    >>> [(name, round(p, 1)) for name, p, _ in evaluate(bicubic_upscaler(2), [("noise", image)], 2)]
    [('noise', 11.6)]
    """
    if isinstance(benchmark, (str, os.PathLike)):
        benchmark = load_benchmark(benchmark, scale)
    rows = []
    need = 2 * scale + (11 if with_ssim else 1)  # the shaved border, then SSIM's window
    for index, (name, hr) in enumerate(benchmark):
        if min(hr.shape[:2]) < need:
            raise ValueError(
                f"Benchmark image {name!r} is {hr.shape[0]}x{hr.shape[1]} pixels; scoring at x{scale} "
                f"needs at least {need}x{need}; remove it or use larger images."
            )
        lr = degrade(hr, scale) if degradation is None else degradation(hr, scale, index)
        sr = _to_uint8(upscaler(lr))
        p = psnr(hr, sr, crop_border=scale)
        s = ssim(hr, sr, crop_border=scale) if with_ssim else float("nan")
        rows.append((name, p, s))
    return rows


def format_table(rows, title):
    """Format :func:`evaluate` rows and their mean as a plain-text table.

    Parameters
    ----------
    rows : list of (str, float, float)
        Per image: its name, PSNR in dB and SSIM, as :func:`evaluate` returns them.
    title : str
        The table's first line.

    Returns
    -------
    str
        The title, a header, one line per image and the mean, as
        ``skfsrcnn eval`` prints them.

    Examples
    --------
    >>> from skfsrcnn.evaluate import format_table
    >>> print(format_table([("a", 30.0, 0.9), ("b", 32.0, 0.8)], "bicubic on Set2 x2"))
    bicubic on Set2 x2
    image     PSNR    SSIM
    a       30.00  0.9000
    b       32.00  0.8000
    mean    31.00  0.8500
    """
    width = max([len("mean")] + [len(name) for name, _, _ in rows])
    lines = [title, f"{'image':<{width}}  {'PSNR':>7}  {'SSIM':>6}"]
    lines += [f"{name:<{width}}  {p:7.2f}  {s:6.4f}" for name, p, s in rows]
    mean_p = np.mean([p for _, p, _ in rows])
    mean_s = np.mean([s for _, _, s in rows])
    lines.append(f"{'mean':<{width}}  {mean_p:7.2f}  {mean_s:6.4f}")
    return "\n".join(lines)
