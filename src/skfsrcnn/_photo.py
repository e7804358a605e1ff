"""PNG, JPEG and other Pillow formats: file modes, EXIF orientation, and metadata kept on writing.

Reading accepts grey, grey+alpha, RGB and RGBA at 8 or 16 bits (16-bit
colour PNGs are decoded by imagecodecs, since Pillow reduces them to 8
bits); palette images become RGB (RGBA with transparency) and 1-bit
images 8-bit grey. The EXIF orientation is applied, so the array is
upright as viewers show it, and the output's EXIF says orientation 1.
Everything else (CMYK and YCCK JPEGs, other colour spaces, animations and
multi-frame files) is refused before any work, naming the mode and a fix.

Writing keeps the EXIF, ICC profile and text of the input, multiplies its
DPI by the scale and records how the file was made: in an iTXt chunk named
``skfsrcnn`` (PNG) or the comment (JPEG).
"""

import dataclasses
import struct
import zlib
from pathlib import Path

import numpy as np

#: EXIF tags: orientation, and the resolution in pixels per unit.
_ORIENTATION, _X_RESOLUTION, _Y_RESOLUTION = 0x0112, 0x011A, 0x011B
#: Pillow modes read as they are, and those converted on reading.
_DIRECT = ("L", "LA", "RGB", "RGBA", "I;16", "I;16L", "I;16B", "I", "F")
_CONVERTED = {"1": "L", "PA": "RGBA", "La": "LA", "RGBa": "RGBA"}
#: Provenance key in every format: PNG text keyword, JSON key, OME annotation namespace, OME-Zarr attribute.
PROVENANCE_KEY = "skfsrcnn"
JPEG_QUALITY = 95


class UnsupportedMode(ValueError):
    """A readable file in a mode skfsrcnn does not read; the message names it and the fix."""


@dataclasses.dataclass(frozen=True)
class PhotoMetadata:
    """EXIF, ICC profile, DPI and PNG text of a Pillow-readable file."""

    exif: bytes = b""
    icc: bytes = b""
    dpi: tuple = ()
    text: dict = dataclasses.field(default_factory=dict)

    def scaled(self, scale):
        """The metadata of the file upscaled ``scale`` times: DPI times ``scale``, orientation 1."""
        return dataclasses.replace(self, exif=_upright_exif(self.exif, scale), dpi=tuple(d * scale for d in self.dpi))


def _upright_exif(exif, scale):
    """``exif`` with orientation 1 and its resolution times ``scale``; dropped when Pillow cannot parse it."""
    if not exif:
        return exif
    from PIL import Image

    try:
        tags = Image.Exif()
        tags.load(exif)
        tags[_ORIENTATION] = 1
        for tag in (_X_RESOLUTION, _Y_RESOLUTION):
            if tag in tags:
                tags[tag] = float(tags[tag]) * scale
        return tags.tobytes()
    except Exception:  # damaged EXIF: Pillow raises many types; the pixels are read upright anyway
        return b""


def read(path):
    """The pixels of ``path``, upright, and its :class:`PhotoMetadata`; refuse modes we cannot read."""
    from PIL import Image

    path = Path(path)
    with Image.open(path) as image:
        _refuse_frames(image, path)
        metadata = _metadata(image)
        pixels = _deep_png(path) if _is_deep_colour_png(path) else _pixels(image, path)
        orientation = image.getexif().get(_ORIENTATION, 1)
    return upright(pixels, orientation), metadata


def _metadata(image):
    info = image.info
    return PhotoMetadata(
        exif=info.get("exif", b"") or b"",
        icc=info.get("icc_profile", b"") or b"",
        dpi=tuple(float(d) for d in info.get("dpi", ())),
        text={k: v for k, v in getattr(image, "text", {}).items() if k != PROVENANCE_KEY},
    )


def _refuse_frames(image, path):
    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        kind = "an animated" if image.format in ("GIF", "PNG", "WEBP") else "a multi-frame"
        raise UnsupportedMode(
            f"INPUT {str(path)!r} is {kind} {image.format} with {frames} frames; skfsrcnn reads one still "
            "image: extract the frames first (e.g. ffmpeg -i INPUT frame_%04d.png) and upscale that folder, "
            "or save the frames as a multi-page TIFF."
        )


def _pixels(image, path):
    mode = image.mode
    if mode == "P":
        mode = "RGBA" if "transparency" in image.info else "RGB"
        return np.asarray(image.convert(mode))
    if mode in _CONVERTED:
        return np.asarray(image.convert(_CONVERTED[mode]))
    if mode in _DIRECT:
        return np.asarray(image)
    raise UnsupportedMode(
        f"INPUT {str(path)!r} is {_describe(image)}; skfsrcnn reads grey, grey+alpha, RGB and RGBA "
        "images: convert it to RGB first, e.g. magick INPUT -colorspace sRGB OUTPUT.png (keeping its "
        "ICC profile), then upscale that."
    )


def _describe(image):
    if image.mode == "CMYK" and image.format == "JPEG":
        return "a YCCK JPEG (CMYK)" if image.info.get("adobe_transform") == 2 else "a CMYK JPEG"
    return f"a {image.format} image in colour mode {image.mode}"


def _is_deep_colour_png(path):
    """A 16-bit PNG with colour or alpha (IHDR bit depth 16, colour type 2, 4 or 6)."""
    with open(path, "rb") as file:
        head = file.read(26)
    return head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) == 26 and head[24] == 16 and head[25] in (2, 4, 6)


def _deep_png(path):
    import imagecodecs

    return imagecodecs.png_decode(Path(path).read_bytes())


def upright(pixels, orientation):
    """``pixels`` turned as EXIF ``orientation`` (1 to 8) says viewers show them.

    Examples
    --------
    >>> import numpy as np
    >>> from skfsrcnn._photo import upright
    >>> upright(np.array([[1, 2], [3, 4]]), 6)  # stored turned left: turn right
    array([[3, 1],
           [4, 2]])
    """
    turns = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
        8: lambda a: np.rot90(a, 1),
    }
    turn = turns.get(orientation)
    return pixels if turn is None else np.ascontiguousarray(turn(pixels))


# ---------------------------------------------------------------------------- writing


def write_png(path, image, metadata, provenance):
    """Write ``image`` (uint8 or uint16, 1 to 4 channels) as a PNG with ``metadata`` and ``provenance``."""
    import imagecodecs

    data = imagecodecs.png_encode(np.ascontiguousarray(image))
    chunks = []
    if metadata.icc:
        chunks.append(_chunk(b"iCCP", b"icc\0\0" + zlib.compress(metadata.icc)))
    if metadata.dpi:
        per_metre = [round(d / 0.0254) for d in metadata.dpi]
        chunks.append(_chunk(b"pHYs", struct.pack(">IIB", *per_metre, 1)))
    if metadata.exif:
        exif = metadata.exif[6:] if metadata.exif.startswith(b"Exif\0\0") else metadata.exif
        chunks.append(_chunk(b"eXIf", exif))
    text = dict(metadata.text)
    if provenance is not None:
        text[PROVENANCE_KEY] = provenance
    chunks += [
        _chunk(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + str(value).encode()) for key, value in text.items()
    ]
    header_end = 8 + 25  # signature, then IHDR (length, type, 13 bytes, crc)
    Path(path).write_bytes(data[:header_end] + b"".join(chunks) + data[header_end:])


def _chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def write_jpeg(path, image, metadata, provenance):
    """Write ``image`` (uint8 grey or RGB) as a JPEG of quality 95 with ``metadata`` and ``provenance``."""
    from PIL import Image

    options = {"quality": JPEG_QUALITY, "exif": metadata.exif, "icc_profile": metadata.icc or None}
    if metadata.dpi:
        options["dpi"] = tuple(round(d) for d in metadata.dpi)
    if provenance is not None:
        options["comment"] = provenance
    Image.fromarray(image).save(path, format="JPEG", **options)
