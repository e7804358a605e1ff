"""``python -m skfsrcnn.cli``: the ``skfsrcnn`` command."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
