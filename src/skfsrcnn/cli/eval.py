"""``skfsrcnn eval`` (and ``skfsrcnn-eval``): score weights or a baseline on a benchmark and print the table."""

from ..degradation import KERNELS, NOISES, Degradation
from ..evaluate import (
    PROTOCOL,
    bicubic_upscaler,
    evaluate,
    format_table,
    library_upscaler,
    model_upscaler,
    spline_upscaler,
)
from ._common import fail, in_flag_words, new_parser, run_reported

DESCRIPTION = "Score super-resolution weights, or the bicubic or cubic-spline baseline, on a benchmark set."


#: The keywords of the library's messages that this command sets with a flag of the same name.
_KEYWORDS = ("scale", "weights", "device", "degradation", "blur_sigma", "noise", "noise_level")


def add_arguments(parser):
    """Add the arguments of ``skfsrcnn eval`` to ``parser``."""
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--weights", help="registry name (e.g. fsrcnn-x3) or a weights file")
    what.add_argument("--bicubic", action="store_true", help="score MATLAB bicubic instead")
    what.add_argument(
        "--spline", action="store_true", help="score cubic splines instead (skimage.transform.rescale, order=3)"
    )
    parser.add_argument("--data", required=True, help="SelfExSR folder (image_SRF_<s>/) or HR folder")
    parser.add_argument("--scale", type=int, required=True, help="upscaling factor")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    parser.add_argument(
        "--pipeline",
        choices=("network", "upscale"),
        default="network",
        help="network: the literature's protocol, the network fed the luma as it is (default); "
        "upscale: skfsrcnn.upscale as on a grey image, mapped into the intensity range the "
        "weights were trained on (for greyscale data such as microscopy)",
    )
    parser.add_argument(
        "--ensemble",
        action="store_true",
        help="average the outputs of the 8 flips and rotations of the input (self-ensemble, FSRCNN+; 8x slower)",
    )
    parser.add_argument(
        "--back-projection",
        type=int,
        default=0,
        metavar="N",
        help="N iterations of back-projection after the network (MATLAB bicubic both ways; default 0)",
    )
    _add_degradation_options(parser)


def _add_degradation_options(parser):
    """``--degradation``, ``--blur-sigma``, ``--noise``, ``--noise-level`` and ``--seed`` (see :class:`Degradation`)."""
    group = parser.add_argument_group("degradation (how LR images are made; default: MATLAB bicubic)")
    group.add_argument(
        "--degradation",
        choices=KERNELS,
        default="bicubic",
        help="bicubic (MATLAB imresize), area (camera binning), gaussian (blur, then sampling)",
    )
    group.add_argument("--blur-sigma", type=float, default=0.0, help="sigma of the gaussian blur, in HR pixels")
    group.add_argument("--noise", choices=NOISES, default="none", help="noise added to the LR image")
    group.add_argument(
        "--noise-level",
        type=float,
        default=0.0,
        help="gaussian: std as a fraction of full scale; poisson: photons at full scale",
    )
    group.add_argument("--seed", type=int, default=0, help="seed of the noise")


def _check_scale(scale):
    if scale < 2:
        raise ValueError(
            f"`--scale` {scale} is not an upscaling factor; use 2, 3 or 4 (any integer from 2 with --bicubic)."
        )


def _upscaler(args):
    """The upscaler the arguments name, and its label for the table's title."""
    from .. import _validate

    back_projection = _validate.back_projection(args.back_projection)
    if (args.bicubic or args.spline) and (args.ensemble or back_projection):
        raise ValueError("--ensemble and --back-projection apply to --weights only, not to --bicubic or --spline.")
    if args.bicubic:
        return bicubic_upscaler(args.scale), "bicubic (MATLAB)"
    if args.spline:
        return spline_upscaler(args.scale), "cubic spline (skimage)"
    from ..pretrained import load_model

    device = _validate.device(args.device)
    extras = {"ensemble": args.ensemble, "back_projection": back_projection}
    label = args.weights + " ensemble" * args.ensemble + f" back-projection {back_projection}" * bool(back_projection)
    if args.pipeline == "upscale":
        load_model(args.weights, scale=args.scale, device=device)  # a clear error before any work
        return library_upscaler(args.weights, args.scale, device=device, **extras), f"{label} (upscale)"
    network = load_model(args.weights, scale=args.scale, device=device)
    return model_upscaler(network, device, **extras), label


def run(args, program):
    """Run ``skfsrcnn eval`` with parsed ``args``; errors are reported as ``program``'s.

    Returns
    -------
    int
        0 once the table is printed.

    Raises
    ------
    SystemExit
        Status 2 with a one-line message for bad arguments, data or weights.
    """
    try:
        _check_scale(args.scale)
        upscaler, label = _upscaler(args)
        degradation = Degradation(args.degradation, args.blur_sigma, args.noise, args.noise_level, args.seed)
        rows = evaluate(upscaler, args.data, args.scale, degradation=degradation)
    except (ValueError, TypeError, FileNotFoundError) as error:
        fail(program, in_flag_words(error, _KEYWORDS))
    print(format_table(rows, f"{label} on {args.data} x{args.scale}"))
    print("protocol: " + PROTOCOL.format(scale=args.scale))
    if degradation != Degradation():
        print(f"degradation: {degradation} instead of MATLAB bicubic (seed {args.seed})")
    return 0


def main(argv=None):
    """Entry point of ``skfsrcnn-eval`` (the same as ``skfsrcnn eval``): print a benchmark's PSNR/SSIM table.

    ``skfsrcnn-eval (--weights NAME_OR_FILE | --bicubic | --spline) --data
    FOLDER --scale S [--pipeline network|upscale] [--ensemble]
    [--back-projection N] [--device DEVICE]`` scores
    registered weights, a weights file, the MATLAB bicubic or the cubic
    spline baseline with :func:`skfsrcnn.evaluate.evaluate`, and prints one
    row per image, their mean and the :data:`~skfsrcnn.evaluate.PROTOCOL`.
    With ``--pipeline upscale`` the weights run as
    :func:`~skfsrcnn.evaluate.library_upscaler` (as ``skfsrcnn.upscale`` on
    a grey image) instead of :func:`~skfsrcnn.evaluate.model_upscaler` (the
    literature's way). ``--ensemble`` averages the 8 flips and rotations
    (FSRCNN+) and ``--back-projection N`` adds N iterations of
    back-projection, as the options of :func:`skfsrcnn.upscale`.
    ``--degradation``, ``--blur-sigma``, ``--noise``, ``--noise-level`` and
    ``--seed`` make the LR images another way than MATLAB bicubic (:class:`~skfsrcnn.degradation.Degradation`).

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``skfsrcnn-eval`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success. Bad arguments, data or weights exit with status 2 and
        a one-line message instead (``SystemExit``).

    Examples
    --------
    Score the bicubic baseline on the bundled sample's folder:

    >>> from skfsrcnn.io import sample_path
    >>> from skfsrcnn.cli.eval import main
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
    parser = new_parser("skfsrcnn-eval", DESCRIPTION)
    add_arguments(parser)
    return run_reported(run, parser.parse_args(argv), parser.prog)
