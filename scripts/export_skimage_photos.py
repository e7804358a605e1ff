"""Write scikit-image's freely licensed photographs into a folder of PNG files, as extra training data.

Usage::

    python scripts/export_skimage_photos.py [FOLDER]    # default: data/skimage-photos

The photographs ship inside the scikit-image package (no download); their
sources and licences are listed in the training guide, "Extra training
data". A file already in FOLDER is kept when it holds the same image; a
different one stops the script with an error (FileExistsError from
``export``) and is never overwritten.
"""
import sys
from pathlib import Path

import numpy as np
import skimage.data
import skimage.io

PHOTOS = ("camera", "coffee", "chelsea", "coins", "brick", "grass", "gravel")


def export(folder):
    """Write each of PHOTOS to ``folder/NAME.png``; return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in PHOTOS:
        image, path = getattr(skimage.data, name)(), folder / f"{name}.png"
        if path.exists():
            if not np.array_equal(skimage.io.imread(path), image):
                raise FileExistsError(f"{path} exists and differs from skimage.data.{name}(): "
                                      "move it away or choose another folder")
        else:
            skimage.io.imsave(path, image, check_contrast=False)
        paths.append(path)
    return paths


if __name__ == "__main__":
    try:
        paths = export(sys.argv[1] if len(sys.argv) > 1 else "data/skimage-photos")
    except FileExistsError as error:
        sys.exit(f"export_skimage_photos.py: {error}")
    print(*paths, sep="\n")
