"""skfsrcnn._atomic: nothing half-written ever carries the output's name, and of two writers the first one wins."""

import errno
import os

import pytest

from skfsrcnn._atomic import OutputConflict, atomic_folder, atomic_path, snapshot, temporary_name


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def _replace_file(path, text):
    """What another process does: write a file of its own beside ``path``, then move it over ``path``."""
    theirs = path.with_name("theirs.tmp")
    theirs.write_text(text)
    os.replace(theirs, path)


def _replace_folder(path, name):
    """Another process puts a new folder (holding the file ``name``) at ``path``: a new inode, not a reused one."""
    theirs = path.with_name("theirs.tmp")
    theirs.mkdir()
    (theirs / name).write_text("theirs")
    if path.exists():
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
    os.rename(theirs, path)


def _fill(folder, name, text="ours"):
    folder.mkdir()
    (folder / name).write_text(text)


# ---------------------------------------------------------------- snapshot and temporary_name


def test_snapshot_tells_a_replaced_file_from_the_same_file(tmp_path):
    path = tmp_path / "out.txt"
    assert snapshot(path) is None
    path.write_text("one")
    before = snapshot(path)
    assert snapshot(path) == before and snapshot(str(path)) == before
    _replace_file(path, "one")  # same size and text: another file all the same
    assert snapshot(path) != before


def test_temporary_name_is_hidden_beside_the_output_unique_and_keeps_the_suffix(tmp_path):
    path = tmp_path / "out.ome.tif"
    names = {temporary_name(path) for _ in range(20)}
    assert len(names) == 20
    for name in names:
        assert name.parent == tmp_path and name.name.startswith(".out.ome.")
        assert name.suffix == ".tif" and str(os.getpid()) in name.name and "partial" in name.name
    assert temporary_name(str(path)).parent == tmp_path


# ---------------------------------------------------------------- atomic_path


def test_atomic_path_writes_under_a_temporary_name_then_moves_it(tmp_path):
    path = tmp_path / "out.txt"
    with atomic_path(path) as tmp:
        assert tmp != path and tmp.parent == tmp_path
        tmp.write_text("done")
        assert not path.exists()  # nothing carries the name until the write is over
    assert path.read_text() == "done"
    assert _names(tmp_path) == ["out.txt"]


def test_atomic_path_error_midway_leaves_no_file(tmp_path):
    path = tmp_path / "out.txt"
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk on fire")
    assert _names(tmp_path) == []


def test_atomic_path_replaces_a_file_only_with_a_complete_one(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("the user's file")
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert path.read_text() == "the user's file"
    assert _names(tmp_path) == ["out.txt"]
    with atomic_path(path) as tmp:
        tmp.write_text("complete")
        assert path.read_text() == "the user's file"
    assert path.read_text() == "complete"
    assert _names(tmp_path) == ["out.txt"]


def test_atomic_path_conflict_when_another_writer_creates_the_file(tmp_path):
    path = tmp_path / "out.txt"
    with pytest.raises(OutputConflict, match=r"OUTPUT '.*out\.txt' was created by another process"):
        with atomic_path(path) as tmp:
            tmp.write_text("ours")
            path.write_text("theirs")
    assert path.read_text() == "theirs"
    assert _names(tmp_path) == ["out.txt"]


def test_atomic_path_conflict_when_another_writer_replaces_the_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(OutputConflict, match="was replaced by another process"), atomic_path(path) as tmp:
        tmp.write_text("ours")
        _replace_file(path, "theirs")
    assert path.read_text() == "theirs"
    assert _names(tmp_path) == ["out.txt"]


def test_of_two_writers_of_a_new_file_the_first_to_finish_wins(tmp_path):
    path = tmp_path / "out.txt"
    with pytest.raises(OutputConflict), atomic_path(path) as slow:
        slow.write_text("slow")
        with atomic_path(path) as fast:
            fast.write_text("fast")
    assert path.read_text() == "fast"
    assert _names(tmp_path) == ["out.txt"]


def test_atomic_path_since_is_the_state_when_the_work_began(tmp_path):
    path = tmp_path / "out.txt"
    since = snapshot(path)  # nothing there when the work began
    path.write_text("theirs")  # created before the write started, after the work did
    with pytest.raises(OutputConflict, match="created"), atomic_path(path, since=since) as tmp:
        tmp.write_text("ours")
    assert path.read_text() == "theirs"

    since = snapshot(path)
    with atomic_path(path, since=since) as tmp:  # unchanged since: replaced
        tmp.write_text("ours")
    assert path.read_text() == "ours"

    since = snapshot(path)
    _replace_file(path, "again theirs")
    with pytest.raises(OutputConflict, match="replaced"), atomic_path(path, since=since) as tmp:
        tmp.write_text("ours")
    assert path.read_text() == "again theirs"
    assert _names(tmp_path) == ["out.txt"]


def test_atomic_path_without_hard_links(tmp_path, monkeypatch):
    """On a file system without hard links the file is moved, and a file created meanwhile is still kept."""

    def no_links(source, target):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "out.txt"
    with atomic_path(path) as tmp:
        tmp.write_text("ours")
    assert path.read_text() == "ours"

    other = tmp_path / "other.txt"
    with pytest.raises(OutputConflict, match="created"), atomic_path(other) as tmp:
        tmp.write_text("ours")
        other.write_text("theirs")
    assert other.read_text() == "theirs"
    assert _names(tmp_path) == ["other.txt", "out.txt"]


def test_output_conflict_is_a_value_error():
    assert issubclass(OutputConflict, ValueError)


# ---------------------------------------------------------------- atomic_folder


def test_atomic_folder_writes_a_new_folder(tmp_path):
    path = tmp_path / "out.zarr"
    with atomic_folder(path) as tmp:
        _fill(tmp, "zarr.json")
        assert not path.exists()
    assert _names(tmp_path) == ["out.zarr"] and _names(path) == ["zarr.json"]


def test_atomic_folder_replaces_the_old_folder_whole(tmp_path):
    path = tmp_path / "out.zarr"
    _fill(path, "old.json", "old")
    with atomic_folder(path) as tmp:
        _fill(tmp, "new.json", "new")
        assert _names(path) == ["old.json"]  # the old one is whole until the new one is complete
    assert _names(path) == ["new.json"] and (path / "new.json").read_text() == "new"
    assert _names(tmp_path) == ["out.zarr"]  # the old folder, moved aside, is gone


def test_atomic_folder_error_midway_keeps_the_old_folder(tmp_path):
    path = tmp_path / "out.zarr"
    _fill(path, "old.json", "old")
    with pytest.raises(OSError, match="No space"), atomic_folder(path) as tmp:
        _fill(tmp, "half.json")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert _names(path) == ["old.json"] and (path / "old.json").read_text() == "old"
    assert _names(tmp_path) == ["out.zarr"]


def test_atomic_folder_error_midway_leaves_no_folder(tmp_path):
    with pytest.raises(RuntimeError), atomic_folder(tmp_path / "out.zarr") as tmp:
        _fill(tmp, "half.json")
        raise RuntimeError
    assert _names(tmp_path) == []


def test_atomic_folder_conflict_when_another_writer_creates_it(tmp_path):
    path = tmp_path / "out.zarr"
    with pytest.raises(OutputConflict, match=r"'.*out\.zarr' was created"), atomic_folder(path) as tmp:
        _fill(tmp, "ours.json")
        _replace_folder(path, "theirs.json")
    assert _names(path) == ["theirs.json"]
    assert _names(tmp_path) == ["out.zarr"]


def test_atomic_folder_conflict_when_another_writer_replaces_it(tmp_path):
    path = tmp_path / "out.zarr"
    _fill(path, "old.json", "old")
    with pytest.raises(OutputConflict, match="was replaced"), atomic_folder(path) as tmp:
        _fill(tmp, "ours.json")
        _replace_folder(path, "theirs.json")
    assert _names(path) == ["theirs.json"]
    assert _names(tmp_path) == ["out.zarr"]


def test_atomic_folder_puts_the_old_folder_back_when_the_new_one_cannot_move_in(tmp_path, monkeypatch):
    path = tmp_path / "out.zarr"
    _fill(path, "old.json", "old")
    rename, moves = os.rename, []

    def failing_move_in(source, target):
        moves.append((source, target))
        if len(moves) == 2:  # the first moves the old folder aside, the second the new one in
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        rename(source, target)

    monkeypatch.setattr(os, "rename", failing_move_in)
    with pytest.raises(OSError, match="cross-device"), atomic_folder(path) as tmp:
        _fill(tmp, "new.json")
    assert moves[0][0] == path and moves[1][1] == path and moves[2] == (moves[0][1], path)
    assert _names(path) == ["old.json"] and (path / "old.json").read_text() == "old"
    assert _names(tmp_path) == ["out.zarr"]
