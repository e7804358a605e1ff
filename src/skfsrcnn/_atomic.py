"""Writing a file so that nothing half-written ever carries its name, and two writers never mix.

A file is written under a temporary name unique to this process, in the
same folder, then moved to its own name in one step. Before the move the
output is compared with what it was when the work began
(:func:`snapshot`): if another process created or replaced it meanwhile,
that process won; its file is kept, this one is discarded and
:class:`OutputConflict` says so. A folder (a zarr store) is written the
same way by :func:`atomic_folder`.
"""

import contextlib
import os
import shutil
import uuid
from pathlib import Path


class OutputConflict(ValueError):
    """Another process wrote the output while this one worked; its file was kept."""


def snapshot(path):
    """What ``path`` is now: its identity (device, inode, size, mtime), or None when it does not exist.

    Examples
    --------
    >>> from skfsrcnn._atomic import snapshot
    >>> snapshot("/no/such/file") is None
    True
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def temporary_name(path):
    """A hidden name beside ``path``, unique to this process and call, keeping its suffixes."""
    path = Path(path)
    return path.with_name(f".{path.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial{path.suffix}")


@contextlib.contextmanager
def atomic_path(path, since="now"):
    """Yield a temporary path to write; on success move it to ``path``, else remove it.

    Public as :func:`skfsrcnn.io.atomic_path`: every file skfsrcnn writes
    goes through it, so no reader ever sees a half-written file under
    ``path``, and a failed or interrupted write leaves nothing behind.

    Parameters
    ----------
    path : path-like
        The output's own name.
    since : tuple or None or "now", optional
        :func:`snapshot` of ``path`` when the work began; ``"now"`` (the
        default) takes it on entry.

    Raises
    ------
    ValueError
        ``path`` was created or replaced by someone else since ``since``
        (``OutputConflict``, a ValueError); it is left as they wrote it.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfsrcnn.io import atomic_path
    >>> out = Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(out) as tmp:
    ...     _ = tmp.write_text("done")
    >>> out.read_text(), sorted(p.name for p in out.parent.iterdir())
    ('done', ['a.txt'])
    """
    path = Path(path)
    if since == "now":
        since = snapshot(path)
    tmp = temporary_name(path)
    try:
        yield tmp
        _commit(tmp, path, since)
    finally:
        tmp.unlink(missing_ok=True)


def _commit(tmp, path, since):
    if since is None:
        try:  # a hard link never replaces: of two writers, exactly one gets the name
            os.link(tmp, path)
            return
        except FileExistsError:
            raise _conflict(path, "created") from None
        except OSError:  # no hard links on this file system: check, then move
            if path.exists():
                raise _conflict(path, "created") from None
    elif snapshot(path) != since:
        raise _conflict(path, "replaced")
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_folder(path):
    """Yield a temporary folder path to fill; on success it takes the place of ``path``, else it is removed.

    A folder already at ``path`` is moved aside and removed only once the
    new one is in its place.

    Raises
    ------
    OutputConflict
        ``path`` was created or replaced by someone else meanwhile; it is
        left as they wrote it.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfsrcnn._atomic import atomic_folder
    >>> out = Path(tempfile.mkdtemp()) / "a.zarr"
    >>> with atomic_folder(out) as tmp:
    ...     tmp.mkdir()
    ...     _ = (tmp / "zarr.json").write_text("{}")
    >>> sorted(p.name for p in out.parent.iterdir()), sorted(p.name for p in out.iterdir())
    (['a.zarr'], ['zarr.json'])
    """
    path = Path(path)
    since = snapshot(path)
    tmp = temporary_name(path)
    try:
        yield tmp
        if snapshot(path) != since:
            raise _conflict(path, "created" if since is None else "replaced")
        _swap_in(tmp, path, aside=None if since is None else temporary_name(path))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap_in(tmp, path, aside):
    """Rename the folder ``tmp`` to ``path``; the folder there goes ``aside`` (back if the rename fails), then away."""
    if aside is not None:
        os.rename(path, aside)
    try:
        os.rename(tmp, path)
    except OSError:
        if aside is not None:
            os.rename(aside, path)
        raise
    if aside is not None:
        shutil.rmtree(aside)


def _conflict(path, what):
    return OutputConflict(
        f"OUTPUT {str(path)!r} was {what} by another process while this run worked; "
        "that file was kept and this run's result discarded. Run again (with --overwrite "
        "to replace it), or give each run its own OUTPUT."
    )
