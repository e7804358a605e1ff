"""What the subcommands share: the exit statuses, the help epilog, error reporting."""

import argparse
import sys

#: Exit statuses of every command.
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

EPILOG = (
    "exit status: 0 success; 1 failure (an unexpected error, with a traceback); "
    "2 bad usage (bad arguments, input files, data or settings, with a message "
    "naming the problem and its fix); 130 interrupted (Ctrl-C)."
)


def new_parser(prog, description, parent=None, help=None):
    """A parser with the shared epilog: a subcommand of ``parent`` (a subparsers action) or a program."""
    options = dict(description=description, epilog=EPILOG)
    if parent is None:
        return argparse.ArgumentParser(prog=prog, **options)
    return parent.add_parser(prog, help=help, **options)


def fail(program, error, status=EXIT_USAGE):
    """Print ``<program>: error: <error>`` to stderr and exit with ``status``."""
    sys.stderr.write(f"{program}: error: {error}\n")
    raise SystemExit(status)


def interrupted(program, message):
    """Print ``<program>: interrupted...`` to stderr and exit with 130."""
    sys.stderr.write(f"{program}: {message}\n")
    raise SystemExit(EXIT_INTERRUPTED)
