"""What the benchmarks print about the machine they ran on."""

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
