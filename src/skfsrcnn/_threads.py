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

Passive waiting alone still split each layer into one equal part per
thread, so the thread on the shared core set the pace of every layer.
:func:`run_on_cores` therefore splits an image along its longer side into
:data:`WORKERS_PER_CORE` sections per core, each with the network's halo so
that the stitched output equals the whole one, and runs each section on a
worker thread of its own, on one torch thread (on its share of the cores
where sections are fewer than cores). No worker waits for another within
the network, and as the operating system shares a core between threads,
not processes, two workers per core keep more of a core that another
process wants too (one per core measured slower under load, three or four
no faster, ``benchmarks/bench_load.py``). The halos computed twice
cost a few percent, so sections are about
:data:`MIN_SECTION_HALOS` halos wide or more; an image too small to split, and a process
set to one torch thread (video frames run in parallel that way) or to
spinning threads (:func:`spinning`), run whole on
:func:`threads_for_inference`. :func:`on_workers` runs the sections, and
the colour merge of :func:`skfsrcnn._colour.merge_luma` uses it for its row
sections too.
"""

import contextlib
import functools
import os
import threading

#: Sections, each on a worker thread of its own, per usable core (see the module).
WORKERS_PER_CORE = 2
#: The narrowest section, in halos of the network: the halos computed twice stay a small share.
MIN_SECTION_HALOS = 8
#: One sectioned run at a time: it sets torch's thread count, which is global, for its workers.
_SECTIONS_LOCK = threading.Lock()

#: OpenMP's setting of how idle threads wait; read once, when torch loads its OpenMP runtime.
WAIT_POLICY_ENV = "OMP_WAIT_POLICY"


def wait_passively():
    """Have OpenMP threads sleep while waiting (``OMP_WAIT_POLICY=PASSIVE``), unless the user chose.

    Effective when called before torch is first imported in the process,
    which is why :mod:`skfsrcnn` calls it on import.
    """
    os.environ.setdefault(WAIT_POLICY_ENV, "PASSIVE")


def spinning():
    """Whether the user chose spinning OpenMP threads (``OMP_WAIT_POLICY=ACTIVE``).

    Spinning threads would take the cores from the section workers, so
    :func:`run_on_cores` then runs each image whole, as before.
    """
    return os.environ.get(WAIT_POLICY_ENV, "").strip().upper() == "ACTIVE"


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


def sections(length, halo, count):
    """``(core, window)`` slices splitting ``length`` pixels into ``count`` equal sections, or fewer.

    The tiles of :mod:`skfsrcnn._tiling` along one axis. Sections are about
    :data:`MIN_SECTION_HALOS` halos wide or more, so a short ``length``
    gets fewer, down to a single one. Each window adds up to ``halo``
    pixels on either side of its core, within the image.

    Examples
    --------
    >>> from skfsrcnn._threads import sections
    >>> [(core.start, core.stop) for core, window in sections(640, 8, 4)]
    [(0, 160), (160, 320), (320, 480), (480, 640)]
    >>> [(window.start, window.stop) for core, window in sections(640, 8, 4)][:2]
    [(0, 168), (152, 328)]
    >>> len(sections(200, 8, 4)), len(sections(100, 8, 4))
    (3, 1)
    """
    from ._tiling import _spans

    count = max(1, min(count, length // (MIN_SECTION_HALOS * max(halo, 1))))
    return list(_spans(length, -(-length // count), halo))


def worker_sections():
    """Sections to split work into: :data:`WORKERS_PER_CORE` per usable core, or 1 to run it whole.

    1 where torch is set to one thread or to spinning threads (:func:`spinning`).
    """
    import torch

    cores = inference_threads(torch.get_num_threads())
    return 1 if cores == 1 or spinning() else WORKERS_PER_CORE * cores


def on_workers(jobs):
    """Call each of ``jobs`` (callables) at once on a worker thread of its own; their results, in order.

    Each worker computes on one torch thread, or on its share of the usable
    cores where jobs are fewer than cores; torch's setting is restored
    after. Concurrent calls take turns, as torch's thread count is global.
    After an error or Ctrl-C, the jobs not started are dropped.

    Examples
    --------
    >>> from skfsrcnn._threads import on_workers
    >>> on_workers([lambda: 1, lambda: 2])
    [1, 2]
    """
    from concurrent.futures import ThreadPoolExecutor

    import torch

    cores = inference_threads(torch.get_num_threads())
    with _SECTIONS_LOCK:
        previous = torch.get_num_threads()
        torch.set_num_threads(max(1, cores // len(jobs)))  # for the workers, started now
        pool = ThreadPoolExecutor(len(jobs), thread_name_prefix="skfsrcnn-section")
        try:
            return [done.result() for done in [pool.submit(job) for job in jobs]]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            torch.set_num_threads(previous)


def run_on_cores(network, x):
    """``network(x)`` for an (N, 1, M, P) CPU tensor, in sections on worker threads (see the module).

    The sections run in inference mode (:func:`on_workers`), and their cores
    are pasted into the output, so the result equals ``network(x)``'s.

    Examples
    --------
    >>> import torch
    >>> from skfsrcnn.models import FSRCNN, FastFSRCNN
    >>> from skfsrcnn._threads import run_on_cores
    >>> network = FastFSRCNN(FSRCNN(2).eval())
    >>> x = torch.rand(1, 1, 40, 400)
    >>> with torch.inference_mode():
    ...     bool(torch.allclose(run_on_cores(network, x), network(x), atol=1e-6))
    True
    """
    import torch

    axis = 2 if x.shape[2] > x.shape[3] else 3
    parts = sections(x.shape[axis], network.halo, worker_sections())
    if len(parts) == 1:
        with threads_for_inference():
            return network(x)
    scale = network.scale
    shape = list(x.shape)
    shape[2:] = (x.shape[2] * scale, x.shape[3] * scale)
    out = x.new_empty(shape)

    def upscale_section(core, window):
        with torch.inference_mode():
            y = network(x.narrow(axis, window.start, window.stop - window.start))
            length = (core.stop - core.start) * scale
            start = (core.start - window.start) * scale
            out.narrow(axis, core.start * scale, length).copy_(y.narrow(axis, start, length))

    on_workers([functools.partial(upscale_section, *part) for part in parts])
    return out
