"""``skfsrcnn-train CONFIG.yaml [--set key=value ...] [--resume]``."""

import argparse
import signal
import sys

from .config import load_config


def _interrupt(signum, frame):
    """Turn SIGTERM into KeyboardInterrupt, on which the trainer saves a checkpoint."""
    raise KeyboardInterrupt


def main(argv=None):
    """Entry point of ``skfsrcnn-train``: train FSRCNN (or SRCNN) from a YAML config.

    ``skfsrcnn-train [CONFIG.yaml] [--set KEY=VALUE ...] [--resume]
    [--no-progress]`` reads the settings with
    :func:`~skfsrcnn.train.load_config` (see
    :class:`~skfsrcnn.train.TrainConfig` for every key), trains with
    :class:`~skfsrcnn.train.Trainer` and prints the path and validation
    PSNR of the best weights. Ctrl-C or SIGTERM saves a checkpoint and
    exits with status 130; ``--resume`` continues from it.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments without the program name; ``sys.argv[1:]``
        when None.

    Returns
    -------
    int
        0 when training finished.

    Raises
    ------
    SystemExit
        Status 2 with a one-line message for a bad config, setting or
        folder (or an existing run without ``--resume``); 130 when
        interrupted.

    Examples
    --------
    >>> from skfsrcnn.train.cli import main
    >>> main(["--set", "scale=5"])  # prints the reason to stderr
    Traceback (most recent call last):
    ...
    SystemExit: 2

    The release recipe for x3, as ``skfsrcnn-train configs/fsrcnn-x3.yaml``
    does in a shell:

    >>> main(["configs/fsrcnn-x3.yaml", "--set", "device=cuda"])  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(
        prog="skfsrcnn-train",
        description="Train FSRCNN (or the SRCNN baseline) from a YAML config (see configs/ for the recipes).",
    )
    parser.add_argument("config", nargs="?", help="YAML file of settings (defaults if omitted)")
    parser.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[],
                        metavar="KEY=VALUE", help="override settings (one or more; repeatable)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the run's checkpoint.pt")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, args.overrides)
        from .trainer import Trainer

        trainer = Trainer(config, resume=args.resume, progress=not args.no_progress)
    except (ValueError, TypeError, FileNotFoundError) as error:
        parser.exit(2, f"skfsrcnn-train: error: {error}\n")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        best = trainer.run()
    except KeyboardInterrupt:
        parser.exit(130, f"skfsrcnn-train: interrupted at iteration {trainer.iteration}; "
                         "checkpoint saved, continue with --resume\n")
    print(f"best weights: {best} (validation PSNR {trainer.best_psnr:.2f} dB "
          f"at iteration {trainer.best_iteration})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
