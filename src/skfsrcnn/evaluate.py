"""Benchmark evaluation with the literature's protocol, and ``skfsrcnn-eval``.

Protocol: the HR image is mod-cropped to the scale and reduced to its BT.601
luma (MATLAB ``rgb2ycbcr``, rounded to uint8); the LR input is MATLAB's
bicubic ``imresize`` of that luma in floating point; the output is rounded
to uint8 and scored by PSNR and SSIM (11x11 Gaussian, sigma 1.5) with
``scale`` pixels shaved from every border.
"""

import argparse
import os
import sys

import numpy as np

from .datasets import degrade, load_benchmark
from .degradation import KERNELS, NOISES, Degradation
from .metrics import psnr, ssim
from .resize import imresize

__all__ = [
    "PROTOCOL",
    "bicubic_upscaler",
    "evaluate",
    "library_upscaler",
    "main",
    "model_upscaler",
    "spline_upscaler",
]

#: One-line summary of the evaluation protocol, printed under every
#: ``skfsrcnn-eval`` table; fill in the shaved border with
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

    Parameters
    ----------
    scale : int
        Upscaling factor.

    Returns
    -------
    callable
        Takes a float (M, N) LR plane, returns the float (M * scale, N * scale)
        plane; pass it to :func:`evaluate`.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn.evaluate import spline_upscaler
    >>> spline_upscaler(2)(np.zeros((10, 8))).shape
    (20, 16)
    """
    from skimage.transform import rescale

    return lambda lr: rescale(lr, scale, order=3)


def library_upscaler(weights, scale, *, device=None):
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

    return lambda lr: upscale(lr, scale, weights=weights, device=device)


def model_upscaler(network, device="cpu"):
    """Return ``f(lr) -> hr`` that runs ``network`` (a torch module) on one luma plane.

    Parameters
    ----------
    network : torch.nn.Module
        Maps a ``(1, 1, M, N)`` float32 tensor to ``(1, 1, M * s, N * s)``,
        e.g. a model from :func:`skfsrcnn.pretrained.load_model`; it is run in
        inference mode, so put it in eval mode first.
    device : str or torch.device, optional
        Where ``network`` lives; the input is moved there.

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
    """
    import torch

    def run(lr):
        x = torch.from_numpy(np.ascontiguousarray(lr, dtype=np.float32))[None, None].to(device)
        with torch.inference_mode():
            return network(x)[0, 0].float().cpu().numpy()

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
    """Format ``evaluate`` rows and their mean as a plain-text table."""
    width = max([len("mean")] + [len(name) for name, _, _ in rows])
    lines = [title, f"{'image':<{width}}  {'PSNR':>7}  {'SSIM':>6}"]
    lines += [f"{name:<{width}}  {p:7.2f}  {s:6.4f}" for name, p, s in rows]
    mean_p = np.mean([p for _, p, _ in rows])
    mean_s = np.mean([s for _, _, s in rows])
    lines.append(f"{'mean':<{width}}  {mean_p:7.2f}  {mean_s:6.4f}")
    return "\n".join(lines)


def main(argv=None):
    """Entry point of ``skfsrcnn-eval``: print a benchmark's PSNR/SSIM table.

    ``skfsrcnn-eval (--weights NAME_OR_FILE | --bicubic | --spline) --data
    FOLDER --scale S [--pipeline network|upscale] [--device DEVICE]`` scores
    registered weights, a weights file, the MATLAB bicubic or the cubic
    spline baseline with :func:`evaluate`, and prints one row per image,
    their mean and the :data:`PROTOCOL`. With ``--pipeline upscale`` the
    weights run as :func:`library_upscaler` (as ``skfsrcnn.upscale`` on a
    grey image) instead of :func:`model_upscaler` (the literature's way).

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments without the program name; ``sys.argv[1:]``
        when None.

    Returns
    -------
    int
        0 on success. Bad arguments, data or weights exit with status 2 and
        a one-line message instead (``SystemExit``).

    Examples
    --------
    Score the bicubic baseline on the bundled sample's folder:

    >>> from skfsrcnn.io import sample_path
    >>> from skfsrcnn.evaluate import main
    >>> main(["--bicubic", "--data", str(sample_path().parent), "--scale", "3"])  # doctest: +ELLIPSIS
    bicubic (MATLAB) on ... x3
    image            PSNR    SSIM
    astronaut_lr    24.01  0.7862
    mean            24.01  0.7862
    protocol: PSNR/SSIM on Y ..., 3 px shaved from each border, SSIM 11x11 Gaussian sigma 1.5
    0

    and released weights on Set5 (``skfsrcnn-eval --weights fsrcnn-x3
    --data ../shared/datasets/Set5 --scale 3`` in a shell):

    >>> main(["--weights", "fsrcnn-x3", "--data", "../shared/datasets/Set5",
    ...       "--scale", "3"])  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(
        prog="skfsrcnn-eval",
        description="Score super-resolution weights (or bicubic) on a benchmark set.",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--weights", help="registry name (e.g. fsrcnn-x3) or a weights file")
    what.add_argument("--bicubic", action="store_true", help="score MATLAB bicubic instead")
    what.add_argument("--spline", action="store_true",
                      help="score cubic splines instead (skimage.transform.rescale, order=3)")
    parser.add_argument("--data", required=True, help="SelfExSR folder (image_SRF_<s>/) or HR folder")
    parser.add_argument("--scale", type=int, required=True, help="upscaling factor")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    parser.add_argument(
        "--pipeline", choices=("network", "upscale"), default="network",
        help="network: the literature's protocol, the network fed the luma as it is (default); "
             "upscale: skfsrcnn.upscale as on a grey image, mapped into the intensity range the "
             "weights were trained on (for greyscale data such as microscopy)",
    )
    _add_degradation_options(parser)
    args = parser.parse_args(argv)

    from . import _validate

    try:
        if args.scale < 2:
            raise ValueError(
                f"`--scale` {args.scale} is not an upscaling factor; use 2, 3 or 4 "
                "(any integer from 2 with --bicubic)."
            )
        if args.bicubic:
            upscaler, label = bicubic_upscaler(args.scale), "bicubic (MATLAB)"
        elif args.spline:
            upscaler, label = spline_upscaler(args.scale), "cubic spline (skimage)"
        elif args.pipeline == "upscale":
            from .pretrained import load_model

            device = _validate.device(args.device)
            load_model(args.weights, scale=args.scale, device=device)  # a clear error before any work
            upscaler, label = library_upscaler(args.weights, args.scale, device=device), f"{args.weights} (upscale)"
        else:
            from .pretrained import load_model

            device = _validate.device(args.device)
            network = load_model(args.weights, scale=args.scale, device=device)
            upscaler, label = model_upscaler(network, device), args.weights
        degradation = Degradation(args.degradation, args.blur_sigma, args.noise, args.noise_level, args.seed)
        rows = evaluate(upscaler, args.data, args.scale, degradation=degradation)
    except (ValueError, TypeError, FileNotFoundError) as error:
        parser.exit(2, f"skfsrcnn-eval: error: {error}\n")
    print(format_table(rows, f"{label} on {args.data} x{args.scale}"))
    print("protocol: " + PROTOCOL.format(scale=args.scale))
    if degradation != Degradation():
        print(f"degradation: {degradation} instead of MATLAB bicubic (seed {args.seed})")
    return 0


def _add_degradation_options(parser):
    """``--degradation``, ``--blur-sigma``, ``--noise``, ``--noise-level`` and ``--seed`` (see :class:`Degradation`)."""
    group = parser.add_argument_group("degradation (how LR images are made; default: MATLAB bicubic)")
    group.add_argument("--degradation", choices=KERNELS, default="bicubic",
                       help="bicubic (MATLAB imresize), area (camera binning), gaussian (blur, then sampling)")
    group.add_argument("--blur-sigma", type=float, default=0.0, help="sigma of the gaussian blur, in HR pixels")
    group.add_argument("--noise", choices=NOISES, default="none", help="noise added to the LR image")
    group.add_argument("--noise-level", type=float, default=0.0,
                       help="gaussian: std as a fraction of full scale; poisson: photons at full scale")
    group.add_argument("--seed", type=int, default=0, help="seed of the noise")


if __name__ == "__main__":
    sys.exit(main())
