"""Batches: ``skfsrcnn upscale INPUT... --output-dir DIR`` (skfsrcnn.cli._batch), and two writers of one output."""

import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from file_helpers import expected_file
from numpy.testing import assert_array_equal

from skfsrcnn import cli

REPO = Path(__file__).resolve().parents[1]


def _run(*argv):
    try:
        return cli.main([str(a) for a in argv])
    except SystemExit as stop:
        return stop.code


def _image(shape, dtype=np.uint8, seed=0):
    return np.random.default_rng(seed).integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)


@pytest.fixture
def w2(random_weights):
    return random_weights("fsrcnn-s", 2)


@pytest.fixture
def tree(tmp_path):
    """A nested folder of mixed PNG, JPEG and TIFF files, one of them broken, and a text file."""
    root = tmp_path / "photos"
    (root / "trip" / "day1").mkdir(parents=True)
    iio.imwrite(root / "a.png", _image((12, 10, 3)))
    iio.imwrite(root / "trip" / "b.jpg", _image((16, 12, 3), seed=1))
    tifffile.imwrite(root / "trip" / "day1" / "c.tif", _image((11, 13), np.uint16, seed=2))
    (root / "trip" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    (root / "notes.txt").write_text("not an image")
    return root


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_batch_mirrors_the_tree_skips_on_rerun_and_reports_the_broken_file(tree, tmp_path, w2, capsys):
    out = tmp_path / "out"
    assert _run("upscale", tree, "--output-dir", out, "--scale", 2, "--weights", w2) == 2
    printed = capsys.readouterr()
    assert _files(out) == ["a_x2.png", "trip/b_x2.jpg", "trip/day1/c_x2.tif"]  # no partial file
    assert "3 done, 0 skipped (already there), 1 failed" in printed.out
    assert f"failed: {tree / 'trip' / 'broken.png'}: INPUT" in printed.out
    assert "1 of 4 file(s) failed (listed above)" in printed.err
    assert_array_equal(iio.imread(out / "a_x2.png"), expected_file(iio.imread(tree / "a.png"), 2, w2, channel_axis=-1))
    assert tifffile.imread(out / "trip/day1/c_x2.tif").dtype == np.uint16
    before = (out / "a_x2.png").stat().st_mtime_ns
    assert _run("upscale", tree, "--output-dir", out, "--scale", 2, "--weights", w2) == 2
    assert "0 done, 3 skipped (already there), 1 failed" in capsys.readouterr().out
    assert (out / "a_x2.png").stat().st_mtime_ns == before


def test_files_globs_pattern_and_template(tree, tmp_path, w2, capsys):
    out = tmp_path / "out"
    argv = ["upscale", tree / "a.png", str(tree / "trip" / "*.jpg"), "--output-dir", out, "--weights", w2]
    assert _run(*argv, "--scale", 2, "--name-template", "{stem}-{model}-{scale}x.png") == 0
    assert _files(out) == ["a-fsrcnn-2x.png", "b-fsrcnn-2x.png"]
    assert (
        _run("upscale", tree, "--output-dir", tmp_path / "tifs", "--pattern", "*.TIF", "--weights", w2, "--scale", 2)
        == 0
    )
    assert _files(tmp_path / "tifs") == ["trip/day1/c_x2.tif"]


def test_output_dir_inside_the_input_tree_is_not_searched(tree, w2, capsys):
    tree.joinpath("trip", "broken.png").unlink()
    assert _run("upscale", tree, "--output-dir", tree / "big", "--scale", 2, "--weights", w2) == 0
    assert _run("upscale", tree, "--output-dir", tree / "big", "--scale", 2, "--weights", w2) == 0
    assert "0 done, 3 skipped" in capsys.readouterr().out  # its own outputs were not taken as inputs
    assert _files(tree / "big") == ["a_x2.png", "trip/b_x2.jpg", "trip/day1/c_x2.tif"]


def test_symlink_loops_end(tree, tmp_path, w2, capsys):
    tree.joinpath("trip", "broken.png").unlink()
    os.symlink(tree, tree / "trip" / "back")
    assert _run("upscale", tree, "--output-dir", tmp_path / "out", "--scale", 2, "--weights", w2) == 0
    printed = capsys.readouterr().out
    assert "a symbolic link loop" in printed
    assert "3 done" in printed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--name-template", "{stem}{suffix}"], r"OUTPUT '.*a\.png' is also an INPUT"),
        (
            ["--name-template", "{stem}.png"],
            r"INPUT '.*a\.jpg' and '.*a\.png' would both be written to '.*a\.png'; rename",
        ),
        (["--name-template", "{name}.png"], r"--name-template '\{name\}\.png' is not a valid template"),
        (["--name-template", "{stem}.bmp"], r"names 'a\.bmp' for INPUT .*; an output must end in"),
    ],
)
def test_refused_before_any_work(tree, w2, capsys, argv, message):
    import re

    tree.joinpath("trip", "broken.png").unlink()
    iio.imwrite(tree / "a.jpg", _image((12, 10, 3)))
    before = _files(tree)
    source, target = (tree / "a.png", tree) if "{suffix}" in argv[1] else (tree, tree.parent / "out")
    assert _run("upscale", source, "--output-dir", target, "--weights", w2, "--scale", 2, *argv) == 2
    assert re.search(message, capsys.readouterr().err)
    assert _files(tree) == before and not (tree.parent / "out").exists()


def test_no_file_found(tree, tmp_path, w2, capsys):
    assert _run("upscale", tree, "--output-dir", tmp_path / "out", "--pattern", "*.webp", "--weights", w2) == 2
    assert "holds no file matching --pattern '*.webp'" in capsys.readouterr().err


def test_several_inputs_without_output_dir(tree, w2, capsys):
    assert _run("upscale", tree / "a.png", tree / "trip" / "b.jpg", tree / "c.png", "--weights", w2) == 2
    assert "or several INPUTs with --output-dir DIR" in capsys.readouterr().err


def test_output_dir_is_a_file(tree, w2, capsys):
    assert _run("upscale", tree, "--output-dir", tree / "a.png", "--weights", w2) == 2
    assert "is a file, not a folder; choose a folder" in capsys.readouterr().err


def test_output_dir_is_the_input_folder(tree, w2, capsys):
    assert _run("upscale", tree, "--output-dir", tree, "--weights", w2) == 2
    assert "is the INPUT folder" in capsys.readouterr().err


def test_disk_full_in_a_batch_leaves_nothing_half_written(tree, tmp_path, w2, monkeypatch, capsys):
    def full(target, image, metadata, provenance):
        target.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("skfsrcnn._photo.write_png", full)
    tree.joinpath("trip", "broken.png").unlink()
    assert _run("upscale", tree, "--output-dir", tmp_path / "out", "--scale", 2, "--weights", w2) == 2
    assert "No space left on device" in capsys.readouterr().out
    assert _files(tmp_path / "out") == ["trip/b_x2.jpg", "trip/day1/c_x2.tif"]


def test_two_processes_writing_one_output(tmp_path, w2):
    """One wins and says so; the other reports the conflict (or the file it found); the file is whole."""
    image = _image((64, 64, 3))
    iio.imwrite(tmp_path / "in.png", image)
    command = [
        sys.executable,
        "-m",
        "skfsrcnn.cli",
        "upscale",
        "in.png",
        "out.png",
        "--scale",
        "2",
        "--weights",
        str(w2),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    runs = [
        subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    assert sorted(code for code, _, _ in results) == [0, 2], results
    winner = next(out for code, out, _ in results if code == 0)
    loser = next(err for code, _, err in results if code == 2)
    assert "wrote out.png" in winner
    assert "by another process while this run worked" in loser or "exists; pass --overwrite" in loser
    assert "Traceback" not in loser
    assert_array_equal(iio.imread(tmp_path / "out.png"), expected_file(image, 2, w2, channel_axis=-1))
    assert _files(tmp_path) == ["in.png", "out.png"]


def test_a_writer_that_lost_reports_the_conflict(tmp_path, w2, monkeypatch, capsys):
    """Deterministically: another process writes OUTPUT while this one upscales."""
    from skfsrcnn.cli import upscale as command

    iio.imwrite(tmp_path / "in.png", _image((20, 20)))
    work = command._upscale_in_memory

    def slow_work(image, args):
        (tmp_path / "out.png").write_bytes(b"the other process's file")
        return work(image, args)

    monkeypatch.setattr(command, "_upscale_in_memory", slow_work)
    assert _run("upscale", tmp_path / "in.png", tmp_path / "out.png", "--weights", w2, "--scale", 2) == 2
    assert "was created by another process while this run worked; that file was kept" in capsys.readouterr().err
    assert (tmp_path / "out.png").read_bytes() == b"the other process's file"
    assert _files(tmp_path) == ["in.png", "out.png"]
