"""Score every method on Set5 and Set14 and write the documentation's results tables.

Usage, from the repository root::

    python docs/make_results.py                      # everything (about a minute on 2 CPU cores)
    python docs/make_results.py --only bicubic --datasets Set5 --scales 3 --out /tmp/check
    python docs/make_results.py --only weights       # re-score the registered weights, keep the rest
    python docs/make_results.py --tables-only        # re-render the .rst tables from results.csv
    python docs/make_results.py --microscopy         # fluorescence nuclei: DSB2018-fluo/val

Methods, all scored with the same protocol (:data:`skfsrcnn.evaluate.PROTOCOL`:
Y of BT.601 as MATLAB, LR = MATLAB bicubic of Y in floating point, output
rounded to uint8, ``scale`` pixels shaved, SSIM 11x11 Gaussian sigma 1.5):

``bicubic``
    MATLAB's bicubic ``imresize`` (:func:`skfsrcnn.evaluate.bicubic_upscaler`).
``skimage``
    ``skimage.transform.rescale(lr, scale, order=3)`` with its defaults: what
    scikit-image users have at hand.
``opencv``
    OpenCV ``dnn_superres`` with its FSRCNN and FSRCNN-small models
    (``../shared/peers/opencv-fsrcnn``). It gets the protocol's LR luma as a
    one-channel float image (in 0..255, OpenCV's convention), so its network
    works on exactly the same input as ours; it returns uint8. (On colour
    input OpenCV would use its own full-range YCrCb and bilinear chroma,
    which is not what the protocol scores.)
``weights``
    every registered weights name (:func:`skfsrcnn.pretrained.available_weights`)
    at its own scale, as ``skfsrcnn-eval --weights NAME`` scores it.
``ensemble``
    the same weights with the 8-pass geometric self-ensemble (FSRCNN+,
    FSRCNN-s+), as ``skfsrcnn-eval --weights NAME --ensemble`` scores them.

With ``--microscopy`` the set is ``DSB2018-fluo/val`` (fluorescence nuclei)
and the methods are those a microscopist compares: bicubic, cubic splines,
each pretrained model through :func:`skfsrcnn.upscale` as users call it
(``skfsrcnn-eval --pipeline upscale``: the intensity range mapped for the
weights), and the photo FSRCNN fed the raw intensities, as before that
mapping existed.

Outputs (in ``--out``, default ``docs/results``): ``results.csv`` (one row
per method, dataset and scale; rows computed now replace earlier ones with
the same key, others are kept), ``results.rst`` (the full table),
``comparison.rst`` (PSNR and gain over MATLAB bicubic) and
``microscopy.rst`` (PSNR and gain over splines on DSB2018-fluo/val), all
included by the documentation.
"""

import argparse
import csv
import re
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATASETS = ("Set5", "Set14")
MICROSCOPY = "DSB2018-fluo/val"
SCALES = (2, 3, 4)
METHODS = ("bicubic", "skimage", "opencv", "weights", "ensemble")
FIELDS = ["method", "label", "kind", "weights", "dataset", "scale", "psnr", "ssim", "images", "seconds"]

#: Published FSRCNN results (Dong et al., ECCV 2016, Table 5; 91 images + General-100), PSNR only.
PAPER = {
    ("Set5", 2): 37.00,
    ("Set5", 3): 33.16,
    ("Set5", 4): 30.71,
    ("Set14", 2): 32.63,
    ("Set14", 3): 29.43,
    ("Set14", 4): 27.59,
}

_OPENCV = {"FSRCNN": "fsrcnn-opencv", "FSRCNN-small": "fsrcnn-small-opencv"}


def _bicubic(scale):
    from skfsrcnn.evaluate import bicubic_upscaler

    return bicubic_upscaler(scale)


def _skimage(scale):
    from skfsrcnn.evaluate import spline_upscaler

    return spline_upscaler(scale)


def _opencv(model_file, scale):
    try:
        import cv2
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise SystemExit(
            "make_results.py: OpenCV is needed for --only opencv: "
            'pip install "opencv-contrib-python-headless<5" (not together with opencv-python).'
        ) from error
    sr = cv2.dnn_superres.DnnSuperResImpl_create()
    sr.readModel(str(model_file))
    sr.setModel("fsrcnn", scale)

    def run(lr):
        out = sr.upsample(np.ascontiguousarray(lr * 255.0, dtype=np.float32))
        return out.astype(np.float64) / 255.0

    return run


def _weights(name, scale, device, ensemble=False):
    from skfsrcnn.evaluate import model_upscaler
    from skfsrcnn.pretrained import load_model

    return model_upscaler(load_model(name, scale=scale, device=device), device, ensemble=ensemble)


def _photo_weights(scale):
    """Yield ``(name, family, label)`` of the registered photo weights at ``scale``."""
    from skfsrcnn.pretrained import REGISTRY, available_weights

    for name in available_weights():
        if REGISTRY[name]["scale"] != scale or "-fluo-" in name:  # microscopy weights: see _microscopy_jobs
            continue
        family = re.sub(r"-x\d+$", "", name)
        yield (
            name,
            family,
            {"fsrcnn": "skfsrcnn FSRCNN", "fsrcnn-s": "skfsrcnn FSRCNN-s"}.get(family, f"skfsrcnn {family}"),
        )


def _jobs(methods, scales, opencv_dir, device):
    """Yield ``(method, label, kind, weights, scale, make_upscaler)``."""
    for scale in scales:
        if "bicubic" in methods:
            yield "bicubic", "bicubic (MATLAB imresize)", "baseline", "", scale, lambda s=scale: _bicubic(s)
        if "skimage" in methods:
            yield ("skimage-rescale", "skimage rescale(order=3)", "baseline", "", scale, lambda s=scale: _skimage(s))
        if "opencv" in methods:
            for prefix, method in _OPENCV.items():
                path = Path(opencv_dir) / f"{prefix}_x{scale}.pb"
                if not path.exists():
                    raise SystemExit(f"make_results.py: {path} is missing (see --opencv-dir).")
                yield (
                    method,
                    f"OpenCV dnn_superres {prefix}",
                    "opencv",
                    path.name,
                    scale,
                    lambda p=path, s=scale: _opencv(p, s),
                )
        for name, family, label in _photo_weights(scale):
            if "weights" in methods:
                yield (family, label, "skfsrcnn", name, scale, lambda n=name, s=scale: _weights(n, s, device))
            if "ensemble" in methods:
                yield (
                    f"{family}+",
                    f"{label}+ (8-pass self-ensemble)",
                    "skfsrcnn",
                    name,
                    scale,
                    lambda n=name, s=scale: _weights(n, s, device, ensemble=True),
                )


def _microscopy_jobs(scales, device):
    """Yield :func:`_jobs`'s tuples for ``--microscopy``: splines and every model as ``upscale`` runs it."""
    from skfsrcnn.evaluate import library_upscaler
    from skfsrcnn.pretrained import available_models

    for scale in scales:
        yield from _jobs(("bicubic", "skimage"), [scale], None, device)
        yield (
            "fsrcnn-raw",
            "FSRCNN fed raw intensities (before the range mapping)",
            "skfsrcnn",
            f"fsrcnn-x{scale}",
            scale,
            lambda s=scale: _weights(f"fsrcnn-x{s}", s, device),
        )
        for model in available_models():
            yield (
                f"{model}-upscale",
                f"skfsrcnn.upscale, model='{model}'",
                "skfsrcnn",
                f"{model}-x{scale}",
                scale,
                lambda m=model, s=scale: library_upscaler(f"{m}-x{s}", s, device=device),
            )


def _read_csv(path):
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _key(row):
    return (row["method"], row["dataset"], str(row["scale"]))


def score(args):
    from skfsrcnn.datasets import load_benchmark
    from skfsrcnn.evaluate import evaluate

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = {_key(r): r for r in _read_csv(out / "results.csv")}
    for dataset in [MICROSCOPY] if args.microscopy else args.datasets:
        for scale in args.scales:
            benchmark = load_benchmark(Path(args.data) / dataset, scale)
            jobs = (
                _microscopy_jobs([scale], args.device)
                if args.microscopy
                else _jobs(args.only, [scale], args.opencv_dir, args.device)
            )
            for method, label, kind, weights, s, make in jobs:
                start = time.perf_counter()
                scores = evaluate(make(), benchmark, s)
                seconds = time.perf_counter() - start
                row = {
                    "method": method,
                    "label": label,
                    "kind": kind,
                    "weights": weights,
                    "dataset": dataset,
                    "scale": str(s),
                    "psnr": f"{np.mean([p for _, p, _ in scores]):.6f}",
                    "ssim": f"{np.mean([q for _, _, q in scores]):.7f}",
                    "images": str(len(scores)),
                    "seconds": f"{seconds:.1f}",
                }
                rows[_key(row)] = row
                print(
                    f"{dataset:6s} x{s}  {label:34s} PSNR {float(row['psnr']):6.2f}  "
                    f"SSIM {float(row['ssim']):.4f}  ({seconds:.1f} s)",
                    flush=True,
                )
    ordered = sorted(
        rows.values(),
        key=lambda r: (
            DATASETS.index(r["dataset"]) if r["dataset"] in DATASETS else 9,
            int(r["scale"]),
            r["kind"],
            r["method"],
        ),
    )
    with open(out / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        writer.writerows(ordered)
    return ordered


# -- rst tables -------------------------------------------------------------------

_ORDER = [
    "bicubic",
    "skimage-rescale",
    "fsrcnn-small-opencv",
    "fsrcnn-opencv",
    "fsrcnn-s",
    "fsrcnn-s+",
    "fsrcnn",
    "fsrcnn+",
]


def _method_order(rows):
    methods = {r["method"]: r["label"] for r in rows}
    known = [m for m in _ORDER if m in methods]
    return [(m, methods[m]) for m in known + sorted(set(methods) - set(known))]


def _list_table(header, body, widths=None):
    lines = [".. list-table::", "   :header-rows: 1", "   :class: results"]
    if widths:
        lines.append("   :widths: " + " ".join(map(str, widths)))
    lines.append("")
    for row in [header] + body:
        lines.append("   * - " + row[0])
        lines.extend(f"     - {cell}" for cell in row[1:])
    return "\n".join(lines) + "\n"


def _columns(rows):
    present = {(r["dataset"], int(r["scale"])) for r in rows}
    return [(d, s) for d in DATASETS for s in SCALES if (d, s) in present]


def render(rows, out):
    from skfsrcnn.evaluate import PROTOCOL

    _render_microscopy([r for r in rows if r["dataset"] == MICROSCOPY], out)
    rows = [r for r in rows if r["dataset"] in DATASETS]
    by = {(r["method"], r["dataset"], int(r["scale"])): r for r in rows}
    columns = _columns(rows)
    header = ["method"] + [f"{d} x{s}" for d, s in columns]
    protocol = PROTOCOL.format(scale="scale")

    body = []
    for method, label in _method_order(rows):
        cells = []
        for d, s in columns:
            r = by.get((method, d, s))
            cells.append(f"{float(r['psnr']):.2f} / {float(r['ssim']):.4f}" if r else "--")
        body.append([label] + cells)
    body.append(["FSRCNN paper (published, PSNR only)"] + [f"{PAPER[c]:.2f}" if c in PAPER else "--" for c in columns])
    weights = sorted({r["weights"] for r in rows if r["kind"] == "skfsrcnn"})
    results = (
        ".. Generated by docs/make_results.py from results.csv; do not edit.\n\n"
        + _list_table(header, body)
        + f"\nMean PSNR (dB) / SSIM over each set. Protocol: {protocol}. "
        + ("skfsrcnn weights: " + ", ".join(f"``{w}``" for w in weights) + ". " if weights else "")
        + "The last row is the paper's own table, not measured here.\n"
    )
    (out / "results.rst").write_text(results)

    body = []
    for method, label in _method_order(rows):
        cells = []
        for d, s in columns:
            r, base = by.get((method, d, s)), by.get(("bicubic", d, s))
            if r is None:
                cells.append("--")
            elif base is None or method == "bicubic":
                cells.append(f"{float(r['psnr']):.2f}")
            else:
                cells.append(f"{float(r['psnr']):.2f} ({float(r['psnr']) - float(base['psnr']):+.2f})")
        body.append([label] + cells)
    comparison = (
        ".. Generated by docs/make_results.py from results.csv; do not edit.\n\n"
        + _list_table(header, body)
        + "\nMean PSNR-Y in dB, and in brackets the gain over MATLAB bicubic, on the same "
        + "low-resolution inputs and with the same protocol as the table in :doc:`evaluation`.\n"
    )
    (out / "comparison.rst").write_text(comparison)


def _render_microscopy(rows, out):
    """``microscopy.rst``: PSNR / SSIM on DSB2018-fluo/val and the gain over splines, per scale."""
    if not rows:
        return
    by = {(r["method"], int(r["scale"])): r for r in rows}
    scales = sorted({int(r["scale"]) for r in rows})
    order = ["bicubic", "skimage-rescale", "fsrcnn-raw", "fsrcnn-upscale", "fsrcnn-s-upscale"]
    methods = {r["method"]: r["label"] for r in rows}
    body = []
    for method in order + sorted(set(methods) - set(order)):
        cells = []
        for s in scales:
            r, spline = by.get((method, s)), by.get(("skimage-rescale", s))
            if r is None:
                cells.append("--")
            else:
                gain = "" if spline is None or r is spline else f" ({float(r['psnr']) - float(spline['psnr']):+.2f})"
                cells.append(f"{float(r['psnr']):.2f} / {float(r['ssim']):.4f}{gain}")
        body.append([methods[method]] + cells)
    text = (
        ".. Generated by docs/make_results.py --microscopy from results.csv; do not edit.\n\n"
        + _list_table(["method"] + [f"x{s}" for s in scales], body)
        + f"\nMean PSNR (dB) / SSIM on {MICROSCOPY} (54 fluorescence nuclei images, 8-bit, LR made by MATLAB "
        + "bicubic, scored as in :doc:`evaluation`), and in brackets the gain in PSNR over cubic splines "
        + "(``skimage.transform.rescale(order=3)``).\n"
    )
    (out / "microscopy.rst").write_text(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(SHARED / "datasets"), help="folder holding Set5/ and Set14/")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--scales", nargs="+", type=int, default=list(SCALES))
    parser.add_argument(
        "--only",
        nargs="+",
        choices=METHODS,
        default=list(METHODS),
        help="methods to score now (the others keep their rows in results.csv)",
    )
    parser.add_argument("--opencv-dir", default=str(SHARED / "peers" / "opencv-fsrcnn"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    parser.add_argument("--tables-only", action="store_true", help="only re-render the .rst from results.csv")
    parser.add_argument("--microscopy", action="store_true", help=f"score {MICROSCOPY} instead of --datasets")
    args = parser.parse_args(argv)

    out = Path(args.out)
    if args.tables_only:
        rows = _read_csv(out / "results.csv")
        if not rows:
            parser.exit(2, f"make_results.py: {out / 'results.csv'} is missing or empty.\n")
    else:
        rows = score(args)
    render(rows, out)
    print(f"wrote {out / 'results.csv'}, {out / 'results.rst'}, {out / 'comparison.rst'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
