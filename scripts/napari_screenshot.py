"""Screenshots of the napari plugin for the docs: the upscale widget, or the training widget.

``--widget upscale`` (the default) opens napari with the plugin's
low-resolution cell sample, runs the FSRCNN dock widget on it (x2) as a user
would, and writes one PNG: the napari window (dock widget, layer list, and
the upscaled layer overlaying its input), with a strip below comparing the
input and the FSRCNN result on the same zoomed region, each shown alone.

``--widget ensemble`` does the same with *Ensemble (8 passes)* and *Add
uncertainty layer* ticked: the window shows the uncertainty layer over the
result, and the strip compares the input, the FSRCNN+ result and the
uncertainty, each alone.

``--widget train`` opens scikit-image's full-resolution cell image, trains
FSRCNN-s on it with the *Train FSRCNN* widget for ``--budget`` seconds (into
a temporary folder), and writes the napari window with the training widget
(progress, validation PSNR, saved weights) above the upscale widget, whose
model is the one just trained.

Usage::

    python scripts/napari_screenshot.py [--widget upscale|ensemble|train] [--output PNG]
                                        [--sample cell|tissue|photo] [--scale 2] [--budget 30]

The default output is ``docs/images/napari_plugin.png`` (upscale),
``docs/images/napari_ensemble.png`` (ensemble) or
``docs/images/napari_train.png`` (train).

It needs a display. Without one (``DISPLAY`` unset on Linux) it starts a
virtual X server itself through pyvirtualdisplay (installed with
pytest-xvfb; Debian package ``xvfb``), or run it under ``xvfb-run -a``.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOW = (1500, 860)
#: The training screenshot stacks two dock widgets: a taller window.
TRAIN_WINDOW = (1500, 1180)


def _ensure_display():
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        from pyvirtualdisplay import Display

        display = Display(visible=False, size=(TRAIN_WINDOW[0] + 200, TRAIN_WINDOW[1] + 200), color_depth=24)
        display.start()
        return display
    return None


def _wait(app, condition, timeout):
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"waited more than {timeout} s")
        app.processEvents()
        time.sleep(0.02)


def _settle(app, seconds=1.0):
    """Let Qt and vispy draw."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def _look_at(app, viewer, camera, centre, shape, zoom):
    """Zoom on ``centre`` (row, col), keeping the view inside the image where it fits."""
    _settle(app, 0.2)
    canvas = viewer.screenshot(canvas_only=True, flash=False).shape  # (height, width, 4) pixels
    half = [n / 2 / zoom for n in canvas[:2]]
    clamped = [min(max(c, h - 0.5), n - 0.5 - h) if 2 * h < n else (n - 1) / 2 for c, h, n in zip(centre, half, shape)]
    camera.center = tuple(clamped)
    camera.zoom = zoom


def _busiest_point(data):
    """(row, col) of the largest local standard deviation of a 2-D image (grey or RGB)."""
    import numpy as np
    from scipy import ndimage

    grey = np.asarray(data, dtype=float)
    if grey.ndim == 3:
        grey = grey.mean(axis=-1)
    size = max(31, min(grey.shape) // 4)
    mean = ndimage.uniform_filter(grey, size)
    variance = ndimage.uniform_filter(grey**2, size) - mean**2
    return np.unravel_index(np.argmax(variance), variance.shape)


def _labelled(image, text):
    from PIL import Image, ImageDraw, ImageFont

    tile = Image.fromarray(image[..., :3])
    draw = ImageDraw.Draw(tile)
    try:
        font = ImageFont.load_default(size=18)
    except TypeError:  # Pillow < 10.1: the small bitmap font
        font = ImageFont.load_default()
    left, top, right, bottom = draw.textbbox((8, 6), text, font=font)
    draw.rectangle([0, 0, right + 8, bottom + 6], fill=(0, 0, 0))
    draw.text((8, 6), text, fill=(255, 255, 255), font=font)
    return tile


def _upscale_sheet(app, viewer, args):
    """Run the upscale widget on a sample; the window above an input / result (/ uncertainty) strip."""
    import numpy as np
    from PIL import Image

    ensemble = args.widget == "ensemble"
    [source] = viewer.open_sample("skfsrcnn", args.sample)
    _, widget = viewer.window.add_plugin_dock_widget("skfsrcnn", "FSRCNN super-resolution")
    widget["image"].value = source
    widget["scale"].value = args.scale
    widget["tile_size"].value = 128  # several tiles, so the progress bar has steps
    widget["ensemble"].value = widget["uncertainty"].value = ensemble
    widget.run()
    _wait(app, lambda: widget.worker is None, args.timeout)
    name = f"{source.name}_fsrcnn_x{args.scale}"
    if name not in viewer.layers:
        raise RuntimeError(f"the widget added no layer {name!r}; status: {widget['status'].value!r}")
    result = viewer.layers[name]
    overlays = [viewer.layers[f"{name}_uncertainty"]] if ensemble else []

    # Centre on the most structured region (largest local variance), where the result
    # sits exactly over the input, and zoom in so that pixels can be told apart.
    camera = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera
    rows, cols = source.data.shape[:2]
    centre = _busiest_point(source.data)
    _look_at(app, viewer, camera, centre, (rows, cols), 4.0)
    viewer.layers.selection.active = overlays[0] if overlays else result
    _settle(app)
    window = viewer.window.screenshot(canvas_only=False, flash=False)

    # Each layer alone, closer: the overlay is exact, the detail differs.
    _look_at(app, viewer, camera, centre, (rows, cols), 6.0)
    method = f"FSRCNN+ (8-pass ensemble) x{args.scale}" if ensemble else f"FSRCNN x{args.scale}"
    shown = [
        (source, f"input: {source.name}, {rows} x {cols}"),
        (result, f"{method}: {rows * args.scale} x {cols * args.scale}"),
    ]
    if ensemble:
        shown.append((overlays[0], "uncertainty: std of the 8 passes (magma)"))
    alone = []
    for layer, label in shown:
        for other, _ in shown:
            other.visible = other is layer
        _settle(app)
        alone.append((viewer.screenshot(canvas_only=True, flash=False), label))
    for layer, _ in shown:
        layer.visible = True

    height, width = alone[0][0].shape[:2]
    crop = (slice(height // 5, height - height // 5), slice(width // 10, width - width // 10))
    strip = [_labelled(np.ascontiguousarray(image[crop]), label) for image, label in alone]
    top = Image.fromarray(window[..., :3])
    part = top.width // len(strip)
    strip = [tile.resize((part, round(tile.height * part / tile.width))) for tile in strip]
    sheet = Image.new("RGB", (top.width, top.height + strip[0].height), (38, 41, 48))
    sheet.paste(top, (0, 0))
    for index, tile in enumerate(strip):
        sheet.paste(tile, (index * part, top.height))
    return sheet


def _train_sheet(app, viewer, args, runs):
    """Train on the full-resolution cell image in ``runs``; the window with both widgets."""
    from PIL import Image
    from skimage import data

    examples = viewer.add_image(data.cell(), name="cell (high resolution)")
    _, train = viewer.window.add_plugin_dock_widget("skfsrcnn", "Train FSRCNN")
    train["images"].value = [examples]
    train["scale"].value = args.scale
    train["model"].value = "fsrcnn-s"
    train["time_budget"].value = args.budget
    train["output_dir"].value = runs
    train.train()
    _wait(app, lambda: train.worker is None, args.timeout)
    if train.weights is None:
        raise RuntimeError(f"the training saved no weights; status: {train['status'].value!r}")

    # The hand-off: the upscale widget, below, has the trained model chosen.
    _, upscale = viewer.window.add_plugin_dock_widget("skfsrcnn", "FSRCNN super-resolution")
    upscale["image"].value = examples
    upscale["model"].value = train.weights
    _settle(app)
    viewer.reset_view()  # once the docks have their size
    _settle(app)
    return Image.fromarray(viewer.window.screenshot(canvas_only=False, flash=False)[..., :3])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widget", default="upscale", choices=["upscale", "ensemble", "train"])
    parser.add_argument(
        "--output", type=Path, help="default: docs/images/napari_plugin.png, napari_ensemble.png or napari_train.png"
    )
    parser.add_argument(
        "--sample", default="cell", choices=["cell", "tissue", "photo"], help="the upscale screenshot's sample"
    )
    parser.add_argument("--scale", type=int, default=2, choices=[2, 3, 4])
    parser.add_argument("--budget", type=int, default=30, help="seconds of training for the train screenshot")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the upscaling or training")
    args = parser.parse_args(argv)
    train = args.widget == "train"
    default = {"upscale": "napari_plugin.png", "ensemble": "napari_ensemble.png", "train": "napari_train.png"}
    output = args.output or ROOT / "docs" / "images" / default[args.widget]

    display = _ensure_display()
    try:
        import napari
        from qtpy.QtWidgets import QApplication

        viewer = napari.Viewer(title="napari + skfsrcnn", show=True)
        viewer.window.resize(*(TRAIN_WINDOW if train else WINDOW))
        app = QApplication.instance()
        if train:
            with tempfile.TemporaryDirectory() as runs:
                sheet = _train_sheet(app, viewer, args, Path(runs))
        else:
            sheet = _upscale_sheet(app, viewer, args)
        output.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(output, optimize=True)
        print(f"wrote {output} ({sheet.width}x{sheet.height})")
        viewer.close()
    finally:
        if display is not None:
            display.stop()


if __name__ == "__main__":
    main()
