"""Run the bad-input matrix and write the documentation's table of outcomes.

Usage, from the repository root::

    python docs/make_reliability.py                       # writes docs/results/reliability.rst
    python docs/make_reliability.py --out /tmp/table.rst  # somewhere else

The cases are ``CASES`` in ``tests/test_reliability.py``. This script runs
that module with pytest (the napari widget's cases need pytest-qt and a
display, which pytest-xvfb provides) and with ``SKFSRCNN_RELIABILITY_TABLE``
set, so the tests themselves write the table, with the outcome each case
actually produced. The table is written only when every case passes; the
exit status is pytest's. ``docs/conf.py`` includes the table in the user
guide's Reliability page.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "docs" / "results" / "reliability.rst"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"table to write (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    written = out.stat().st_mtime_ns if out.exists() else None
    env = {**os.environ, "SKFSRCNN_RELIABILITY_TABLE": str(out)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/test_reliability.py",
        "-k",
        "test_bad_input",
    ]
    status = subprocess.run(command, cwd=REPO, env=env).returncode
    if status == 0 and out.exists() and out.stat().st_mtime_ns != written:
        print(f"wrote {out}")
    elif status == 0:
        print(f"make_reliability.py: {out} was not written (were cases skipped?)", file=sys.stderr)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
