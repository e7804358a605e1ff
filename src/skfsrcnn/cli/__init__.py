"""The ``skfsrcnn`` command: ``skfsrcnn upscale | train | eval | export``.

Each subcommand lives in its own module, which adds its arguments
(``add_arguments``) and runs them (``run``):

- :mod:`skfsrcnn.cli.upscale`: upscale image files, zarr arrays and videos;
- :mod:`skfsrcnn.cli.train`: train from a config or a recipe (also the
  ``skfsrcnn-train`` program, :func:`skfsrcnn.cli.train.main`);
- :mod:`skfsrcnn.cli.eval`: score weights on a benchmark (also the
  ``skfsrcnn-eval`` program, :func:`skfsrcnn.cli.eval.main`);
- :mod:`skfsrcnn.cli.export`: export weights to ONNX, TorchScript or a
  bioimage.io model package.

Exit status, for every command: 0 success; 1 failure (an unexpected error,
reported in one line; ``SKFSRCNN_TRACEBACK=1`` prints its traceback); 2 bad
usage (bad arguments, input files, data or settings, or a missing optional
package, with a one-line message naming the problem and its fix); 130
interrupted.
"""

from . import eval as eval_command
from . import export as export_command
from . import train as train_command
from . import upscale as upscale_command
from ._common import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, new_parser, run_reported

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

#: name -> (module, one-line help) of every subcommand.
_COMMANDS = {
    "upscale": (upscale_command, "upscale an image file, a zarr array or a video"),
    "train": (train_command, "train weights from a config or a recipe (also: skfsrcnn-train)"),
    "eval": (eval_command, "score weights or a baseline on a benchmark (also: skfsrcnn-eval)"),
    "export": (export_command, "export weights to ONNX, TorchScript or a bioimage.io package"),
}


def build_parser():
    """The argument parser of the ``skfsrcnn`` command, with one subparser per subcommand."""
    parser = new_parser("skfsrcnn", "FSRCNN super-resolution.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{upscale,train,eval,export}")
    for name, (module, summary) in _COMMANDS.items():
        sub = new_parser(name, module.DESCRIPTION, parent=commands, help=summary)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv=None):
    """Entry point of the ``skfsrcnn`` command.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments without the program name, starting with the
        subcommand; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    SystemExit
        Status 2 for bad usage (with a one-line message), 130 when
        interrupted.

    Examples
    --------
    >>> from skfsrcnn.cli import main
    >>> main(["upscale", "--sample", "astronaut_x2.png", "--scale", "5"])  # prints the reason to stderr
    Traceback (most recent call last):
    ...
    SystemExit: 2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_reported(args.run, args, parser.prog)
