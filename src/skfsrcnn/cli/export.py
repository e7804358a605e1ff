"""``skfsrcnn export``: weights to ONNX, TorchScript or a bioimage.io model package."""

from ..export import FORMATS, export
from ._common import EXIT_FAILURE, EXIT_OK, fail

DESCRIPTION = (
    "Export weights (a registry name or a weights file) to ONNX, TorchScript or a bioimage.io model "
    "package (.zip) for ONNX Runtime, OpenCV, Fiji/deepImageJ, QuPath or ilastik."
)


def add_arguments(parser):
    """Add the arguments of ``skfsrcnn export`` to ``parser``."""
    parser.add_argument("weights", metavar="NAME|PATH", help="registered weights (e.g. fsrcnn-x3) or a weights file")
    parser.add_argument("--format", required=True, choices=FORMATS, help="output format")
    parser.add_argument("output", metavar="OUTPUT", help="output file (.onnx, .pt or .zip)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")


def run(args, program):
    """Run ``skfsrcnn export`` with parsed ``args``; errors are reported as ``program``'s.

    Returns
    -------
    int
        0 once the file is written; 1 when the export failed (an error of
        the system or of PyTorch, reported on stderr).

    Raises
    ------
    SystemExit
        Status 2 with a one-line message for bad input: unknown weights or
        format, an existing or unwritable OUTPUT, a missing optional
        dependency (``pip install 'skfsrcnn[export]'``).
    """
    import sys

    try:
        path = export(args.weights, args.output, args.format, overwrite=args.overwrite)
    except (ValueError, TypeError, ImportError) as error:
        fail(program, error)
    except (OSError, RuntimeError) as error:
        sys.stderr.write(f"{program}: failed: {error}\n")
        return EXIT_FAILURE
    print(f"wrote {path}")
    return EXIT_OK
