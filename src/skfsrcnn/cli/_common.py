"""What the subcommands share: the exit statuses, the help epilog, error reporting."""

import argparse
import os
import re
import sys

#: Exit statuses of every command.
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

#: Set (to anything) to print the traceback of an unexpected error, e.g. for a bug report.
TRACEBACK_ENV = "SKFSRCNN_TRACEBACK"

EPILOG = (
    f"exit status: 0 success; 1 failure (an unexpected error, in one line; {TRACEBACK_ENV}=1 "
    "prints its traceback); "
    "2 bad usage (bad arguments, input files, data or settings, with a message "
    "naming the problem and its fix); 130 interrupted (Ctrl-C)."
)


def new_parser(prog, description, parent=None, help=None):
    """A parser with the shared epilog: a subcommand of ``parent`` (a subparsers action) or a program."""
    options = dict(description=description, epilog=EPILOG)
    if parent is None:
        return argparse.ArgumentParser(prog=prog, **options)
    return parent.add_parser(prog, help=help, **options)


def in_flag_words(error, keywords):
    """``error``'s message in a command's words: each API keyword of ``keywords`` named by its flag.

    The library's messages name keyword arguments (``use device='cpu'``);
    a command's user typed flags (``--device 'cpu'``).

    Examples
    --------
    >>> from skfsrcnn.cli._common import in_flag_words
    >>> message = "`scale`=2 has no weights; pass `tile_size`, or use device='cpu'."
    >>> in_flag_words(message, ["scale", "device", "tile_size"])
    "--scale 2 has no weights; pass --tile-size, or use --device 'cpu'."
    """
    text = str(error)
    for keyword in keywords:
        flag = "--" + keyword.replace("_", "-")
        text = re.sub(rf"(?<![\w.]){keyword}=|`{keyword}`=", f"{flag} ", text)
        text = text.replace(f"`{keyword}`", flag)
    return text


def fail(program, error, status=EXIT_USAGE):
    """Print ``<program>: error: <error>`` to stderr and exit with ``status``."""
    sys.stderr.write(f"{program}: error: {error}\n")
    raise SystemExit(status)


def interrupted(program, message):
    """Print ``<program>: interrupted...`` to stderr and exit with 130."""
    sys.stderr.write(f"{program}: {message}\n")
    raise SystemExit(EXIT_INTERRUPTED)


def run_reported(run, args, program):
    """``run(args, program)``, every error reported in one line: no traceback unless :data:`TRACEBACK_ENV` is set.

    A missing optional package is bad usage (status 2, naming the extra to
    install); any other error the command did not report itself is a
    failure (status 1).
    """
    from .._extras import install_hint

    try:
        return run(args, program)
    except ImportError as error:
        hint = install_hint(error, f"{program} {getattr(args, 'command', None) or ''}".strip())
        if hint is None:
            _unexpected(program, error)
        fail(program, hint)
    except Exception as error:  # reported, not swallowed: the status is 1
        _unexpected(program, error)


def _unexpected(program, error):
    if os.environ.get(TRACEBACK_ENV):
        raise error
    sys.stderr.write(
        f"{program}: failed: {type(error).__name__}: {error}\n"
        f"(an unexpected error; set {TRACEBACK_ENV}=1 to see where, and please report it)\n"
    )
    raise SystemExit(EXIT_FAILURE)


def run_with_bar(steps, **bar):
    """Run the ``(done, total)`` generator ``steps`` to its end under a tqdm bar; return its value.

    ``bar`` holds the bar's keyword arguments (``desc``, ``unit``...); the
    bar is hidden where the output is not a terminal.
    """
    from tqdm.auto import tqdm

    from .._progress import run_to_end

    with tqdm(disable=None, **bar) as progress:

        def advance(step):
            done, total = step
            progress.total = total
            progress.update(done - progress.n)

        return run_to_end(steps, on_step=advance)
