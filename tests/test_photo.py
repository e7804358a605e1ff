"""File modes of PNG, JPEG and other Pillow formats (skfsrcnn._photo, through skfsrcnn.io).

Every mode is either read correctly (and written back unchanged) or refused
before any work with a message naming the mode and the fix; EXIF, ICC, DPI
and text survive a write, with the DPI multiplied by the scale.
"""

import json

import imagecodecs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from PIL import Image, ImageCms, ImageOps

from skfsrcnn import io
from skfsrcnn._photo import upright


def _pixels(shape, dtype=np.uint8, seed=0):
    return np.random.default_rng(seed).integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)


# ---------------------------------------------------------------- modes read correctly


@pytest.mark.parametrize("shape", [(9, 7, 3), (9, 7, 4), (9, 7, 2), (9, 7)])
def test_16_bit_png_stays_16_bit_in_and_out(tmp_path, shape):
    image = _pixels(shape, np.uint16)
    (tmp_path / "in.png").write_bytes(imagecodecs.png_encode(image))
    back = io.read_image(tmp_path / "in.png")
    assert back.dtype == np.uint16
    assert_array_equal(back, image)
    io.write_image(tmp_path / "out.png", back)
    assert_array_equal(imagecodecs.png_decode((tmp_path / "out.png").read_bytes()), image)


def test_palette_png_is_read_as_rgb_or_rgba(tmp_path):
    rgb = _pixels((8, 6, 3)) // 64 * 64
    palette = Image.fromarray(rgb).quantize(colors=16)
    palette.save(tmp_path / "p.png")
    assert_array_equal(io.read_image(tmp_path / "p.png"), np.asarray(palette.convert("RGB")))
    palette.save(tmp_path / "pt.png", transparency=0)
    back = io.read_image(tmp_path / "pt.png")
    assert back.shape == (8, 6, 4) and (back[..., 3] == 0).any()


def test_one_bit_is_read_as_8_bit_grey(tmp_path):
    bits = _pixels((9, 11)) > 127
    Image.fromarray(bits).save(tmp_path / "bits.png")
    back = io.read_image(tmp_path / "bits.png")
    assert back.dtype == np.uint8
    assert_array_equal(back, bits * np.uint8(255))


def test_grey_alpha_png(tmp_path):
    image = _pixels((9, 11, 2))
    Image.fromarray(image, "LA").save(tmp_path / "la.png")
    assert_array_equal(io.read_image(tmp_path / "la.png"), image)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_as_pillow_does(tmp_path, orientation):
    image = Image.fromarray(_pixels((6, 10, 3)))
    exif = Image.Exif()
    exif[0x0112] = orientation
    image.save(tmp_path / "o.png", exif=exif.tobytes())
    back, metadata = io.read_image(tmp_path / "o.png", metadata=True)
    with Image.open(tmp_path / "o.png") as reference:
        assert_array_equal(back, np.asarray(ImageOps.exif_transpose(reference)))
    io.write_image(tmp_path / "out.png", back, metadata=metadata, scale=2)
    with Image.open(tmp_path / "out.png") as out:
        assert out.getexif()[0x0112] == 1  # the pixels are upright now


def test_upright_turns_as_documented():
    a = np.arange(6).reshape(2, 3)
    assert_array_equal(upright(a, 1), a)
    assert_array_equal(upright(a, 3), a[::-1, ::-1])
    assert upright(a, 6).shape == (3, 2)


# ---------------------------------------------------------------- modes refused up front


def test_cmyk_and_ycck_jpeg_are_refused(tmp_path):
    Image.new("CMYK", (8, 8), (10, 20, 30, 40)).save(tmp_path / "cmyk.jpg")
    with pytest.raises(ValueError, match=r"INPUT '.*cmyk\.jpg' is a CMYK JPEG; .*convert it to RGB first"):
        io.read_image(tmp_path / "cmyk.jpg")


def test_ycck_is_named(tmp_path, monkeypatch):
    Image.new("CMYK", (8, 8)).save(tmp_path / "ycck.jpg")
    opened = Image.open

    def as_ycck(path, *args):
        image = opened(path, *args)
        image.info["adobe_transform"] = 2
        return image

    monkeypatch.setattr(Image, "open", as_ycck)
    with pytest.raises(ValueError, match=r"is a YCCK JPEG \(CMYK\)"):
        io.read_image(tmp_path / "ycck.jpg")


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_animations_are_refused(tmp_path, suffix):
    frames = [Image.fromarray(_pixels((8, 8, 3), seed=i)) for i in range(3)]
    frames[0].save(tmp_path / f"anim{suffix}", save_all=True, append_images=frames[1:])
    with pytest.raises(ValueError, match=r"is an animated (GIF|PNG) with 3 frames; .*extract the frames first"):
        io.read_image(tmp_path / f"anim{suffix}")


def test_other_colour_spaces_are_refused(tmp_path):
    Image.new("LAB", (8, 8)).save(tmp_path / "lab.tif", format="TIFF")
    (tmp_path / "lab.webp").write_bytes((tmp_path / "lab.tif").read_bytes())  # a TIFF under another name
    with pytest.raises(ValueError, match=r"in colour mode LAB; .*convert it to RGB first"):
        io.read_image(tmp_path / "lab.webp")


# ---------------------------------------------------------------- metadata kept


def test_exif_icc_dpi_and_text_kept_with_dpi_scaled(tmp_path):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    for suffix in (".png", ".jpg"):
        source = tmp_path / f"in{suffix}"
        Image.fromarray(_pixels((8, 6, 3))).save(source, exif=exif.tobytes(), icc_profile=icc, dpi=(72, 96))
        image, metadata = io.read_image(source, metadata=True)
        out = tmp_path / f"out{suffix}"
        io.write_image(
            out, np.repeat(np.repeat(image, 3, 0), 3, 1), metadata=metadata, scale=3, provenance={"scale": 3}
        )
        with Image.open(out) as written:
            assert written.info["icc_profile"] == icc
            assert written.getexif()[0x010F] == "Camera maker"
            assert [round(d) for d in written.info["dpi"]] == [216, 288]
            recorded = written.text["skfsrcnn"] if suffix == ".png" else written.info["comment"].decode()
            assert json.loads(recorded) == {"scale": 3}


def test_png_text_is_kept(tmp_path):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "me")
    Image.fromarray(_pixels((5, 5))).save(tmp_path / "in.png", pnginfo=info)
    image, metadata = io.read_image(tmp_path / "in.png", metadata=True)
    io.write_image(tmp_path / "out.png", image, metadata=metadata)
    with Image.open(tmp_path / "out.png") as written:
        assert written.text == {"Author": "me"}


def test_jpeg_refuses_alpha_before_work():
    with pytest.raises(ValueError, match=r"JPEG holds no alpha channel, but INPUT has one; use \.png"):
        io.check_format("out.jpg", np.uint8, (4, 4, 4))


# ---------------------------------------------------------------- property: written and read back


@settings(max_examples=40, deadline=None)
@given(
    dtype=st.sampled_from([np.uint8, np.uint16]),
    channels=st.sampled_from([None, 2, 3, 4]),
    rows=st.integers(1, 12),
    cols=st.integers(1, 12),
    seed=st.integers(0, 2**16),
)
def test_png_modes_round_trip(tmp_path_factory, dtype, channels, rows, cols, seed):
    shape = (rows, cols) if channels is None else (rows, cols, channels)
    image = _pixels(shape, dtype, seed)
    path = tmp_path_factory.mktemp("png") / "a.png"
    io.write_image(path, image)
    back = io.read_image(path)
    assert back.dtype == image.dtype
    assert_array_equal(back, image)


def test_command_keeps_photo_metadata_and_records_provenance(tmp_path, random_weights):
    """``skfsrcnn upscale`` of a 16-bit PNG and a JPEG with EXIF, ICC and DPI, read back with Pillow."""
    from skfsrcnn import cli

    weights = random_weights("fsrcnn-s", 2)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x0110] = "Camera model"
    (tmp_path / "deep.png").write_bytes(imagecodecs.png_encode(_pixels((10, 8, 3), np.uint16)))
    Image.fromarray(_pixels((10, 8, 3))).save(
        tmp_path / "photo.jpg", exif=exif.tobytes(), icc_profile=icc, dpi=(300, 300)
    )
    for name in ("deep.png", "photo.jpg"):
        out = tmp_path / f"x2_{name}"
        assert cli.main(["upscale", str(tmp_path / name), str(out), "--scale", "2", "--weights", str(weights)]) == 0
        with Image.open(out) as written:
            assert written.size == (16, 20)
            if name == "photo.jpg":
                assert written.info["icc_profile"] == icc and written.getexif()[0x0110] == "Camera model"
                assert [round(d) for d in written.info["dpi"]] == [600, 600]
                made = json.loads(written.info["comment"])
            else:
                made = json.loads(written.text["skfsrcnn"])
        assert made["scale"] == 2 and made["model"] == weights.name and len(made["weights_sha256"]) == 64
    assert imagecodecs.png_decode((tmp_path / "x2_deep.png").read_bytes()).dtype == np.uint16
