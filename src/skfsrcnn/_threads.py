"""CPU threads of inference: no more than the cores this process may use, and none spinning while it waits.

PyTorch runs a convolution on one OpenMP thread per core and, between two
parallel regions, keeps its threads spinning so that the next region
starts at once. That is the fastest on an idle machine and the slowest on a
busy one: when another process holds a core, the thread that shares it
runs only part of the time while every other thread spins at the next
barrier, waiting for it, and a 640x360 frame took several times longer
beside one busy process on two cores (``benchmarks/bench_load.py``).

:func:`wait_passively` therefore has OpenMP threads sleep instead of
spinning while they wait, unless ``OMP_WAIT_POLICY`` is already set, and
:func:`threads_for_inference` runs each network call on no more threads
than the cores this process may use (``os.sched_getaffinity``, which
containers and ``taskset`` restrict, while torch counts every core of the
machine), within torch's own setting (``torch.set_num_threads``,
``OMP_NUM_THREADS``). Fewer threads than free cores was tried too (from the
running count of ``/proc/loadavg``) and measured slower: with passive
waiting, a thread that shares a core costs little.
"""

import contextlib
import os

#: OpenMP's setting of how idle threads wait; read once, when torch loads its OpenMP runtime.
WAIT_POLICY_ENV = "OMP_WAIT_POLICY"


def wait_passively():
    """Have OpenMP threads sleep while waiting (``OMP_WAIT_POLICY=PASSIVE``), unless the user chose.

    Effective when called before torch is first imported in the process,
    which is why :mod:`skfsrcnn` calls it on import.
    """
    os.environ.setdefault(WAIT_POLICY_ENV, "PASSIVE")


def usable_cores():
    """The CPU cores this process may run on (its affinity), e.g. 2 on a 64-core host limited to two.

    Examples
    --------
    >>> from skfsrcnn._threads import usable_cores
    >>> 1 <= usable_cores() <= (__import__("os").cpu_count() or 1)
    True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def inference_threads(limit):
    """Threads for one network call: the usable cores, at least 1, at most ``limit`` (torch's setting).

    Examples
    --------
    >>> from skfsrcnn._threads import inference_threads
    >>> inference_threads(1)
    1
    """
    return max(1, min(limit, usable_cores()))


@contextlib.contextmanager
def threads_for_inference():
    """Within the block, torch computes on :func:`inference_threads`; its setting is restored after.

    Examples
    --------
    >>> import torch
    >>> from skfsrcnn._threads import threads_for_inference
    >>> before = torch.get_num_threads()
    >>> with threads_for_inference():
    ...     torch.get_num_threads() <= before
    True
    >>> torch.get_num_threads() == before
    True
    """
    import torch

    previous = torch.get_num_threads()
    wanted = inference_threads(previous)
    if wanted != previous:
        torch.set_num_threads(wanted)
    try:
        yield
    finally:
        if wanted != previous:
            torch.set_num_threads(previous)
