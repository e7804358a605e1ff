"""What every benchmark needs to report: the machine, and lines kept for ``--output``."""

import platform
from pathlib import Path


def cpu_name():
    """The CPU's model name from /proc/cpuinfo, else the platform's processor or machine."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


class Report:
    """Print lines and keep them for ``--output``."""

    def __init__(self):
        self.lines = []

    def __call__(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    def write(self, path):
        """Write the kept lines to ``path`` (its folder created if needed)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(self.lines) + "\n")
