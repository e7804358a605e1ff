"""Sample data: low-resolution images made from scikit-image's bundled data (no download).

Each image is shrunk with the MATLAB-compatible bicubic ``imresize`` that
the super-resolution literature (and FSRCNN's training) uses, so upscaling
it by the same factor is the textbook use of the plugin.
"""

__all__ = ["cell", "photo", "tissue"]


def _low_res(image, factor, *, axes=(0, 1)):
    from skfsrcnn.resize import imresize

    return imresize(image, 1 / factor, axes=axes)


def _provenance(source, factor):
    return {"source": f"skimage.data.{source}()", "downscaled_by": factor, "resize": "MATLAB bicubic imresize"}


def cell():
    """Quantitative phase image of a cell (``skimage.data.cell``), shrunk x2."""
    from skimage import data

    image = _low_res(data.cell(), 2)
    return [(image, {"name": "cell (low-res)", "metadata": _provenance("cell", 2)}, "image")]


def tissue():
    """Immunohistochemistry section, RGB (``skimage.data.immunohistochemistry``), shrunk x2."""
    from skimage import data

    image = _low_res(data.immunohistochemistry(), 2)
    return [
        (
            image,
            {"name": "tissue IHC (low-res)", "rgb": True, "metadata": _provenance("immunohistochemistry", 2)},
            "image",
        )
    ]


def photo():
    """A photograph, RGB (``skimage.data.chelsea``, the cat), shrunk x2."""
    from skimage import data

    image = _low_res(data.chelsea(), 2)
    return [(image, {"name": "chelsea (low-res)", "rgb": True, "metadata": _provenance("chelsea", 2)}, "image")]
