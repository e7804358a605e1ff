"""``skfsrcnn upscale in.mp4 out.mp4``: videos, frame by frame, with :mod:`skfsrcnn.video`.

A video INPUT or OUTPUT (by suffix, :data:`skfsrcnn.video.VIDEO_SUFFIXES`)
sends ``skfsrcnn upscale`` here; the shared options (``--scale``,
``--model``, ``--weights``, ``--tile-size``, ``--device``,
``--overwrite``) apply, and ``--crf`` and ``--preset`` set the encoder.
"""

from ..video import DEFAULT_CRF, DEFAULT_PRESET, PRESETS, is_video


def add_arguments(parser):
    """Add the video encoder's options to the ``skfsrcnn upscale`` parser ``parser``."""
    group = parser.add_argument_group("video (INPUT a video: .mp4, .mkv, .mov, .webm, .avi, ...)")
    group.add_argument(
        "--crf",
        type=int,
        default=DEFAULT_CRF,
        metavar="0-51",
        help=f"H.264 quality: lower is better and larger, 0 lossless (default {DEFAULT_CRF})",
    )
    group.add_argument(
        "--preset",
        default=DEFAULT_PRESET,
        choices=PRESETS,
        metavar="PRESET",
        help=f"H.264 speed: {', '.join(PRESETS)}; slower makes smaller files (default {DEFAULT_PRESET})",
    )


def is_video_job(source, output):
    """Whether ``skfsrcnn upscale SOURCE OUTPUT`` upscales a video."""
    return is_video(source) or is_video(output)


def upscale_video_command(source, output, args):
    """Upscale the video ``source`` into ``output`` with a progress bar in frames; return ``output``."""
    from ..video import upscale_video_steps
    from ._common import run_with_bar

    if args.sample:
        raise ValueError("--sample is an image; give a video INPUT and OUTPUT instead.")
    image_only = [
        flag
        for flag, given in (
            ("--ensemble", args.ensemble),
            ("--uncertainty", args.uncertainty is not None),
            ("--back-projection", args.back_projection),
            ("--pyramid", args.pyramid),
        )
        if given
    ]
    if image_only:
        raise ValueError(f"{', '.join(image_only)}: images only; leave it out for a video.")
    steps = upscale_video_steps(
        source,
        output,
        args.scale,
        model=args.model,
        weights=args.weights,
        crf=args.crf,
        preset=args.preset,
        tile_size=args.tile_size,
        device=args.device,
        overwrite=args.overwrite,
    )
    return run_with_bar(steps, desc="upscaling", unit="frame")
