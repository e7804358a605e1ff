"""Sphinx configuration of the skfsrcnn documentation.

Build (from the repository root, no network needed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Add ``-D plot_gallery=0`` to skip running the gallery examples.

The API reference lives in ``docs/api/*.rst`` as ``autosummary`` lists; a
check below fails the build (under ``-W``) when a name of a module's
``__all__`` is missing from them. Tables of numbers (results, benchmarks,
reliability) are read from ``docs/results/``, written by ``docs/make_results.py``,
the benchmarks and ``docs/make_reliability.py`` (which runs the reliability
tests); until they exist the pages say how to make them.
"""

import importlib
import os
import re
import sys
from pathlib import Path

from sphinx.util import logging

import skfsrcnn

DOCS = Path(__file__).resolve().parent
RESULTS = DOCS / "results"
GENERATED = DOCS / "_generated"

sys.path.insert(0, str(DOCS))  # gallery_reset.py, named in sphinx_gallery_conf

logger = logging.getLogger("skfsrcnn-docs")

# -- Project -----------------------------------------------------------------

project = "skfsrcnn"
author = "skfsrcnn developers"
copyright = "2025, skfsrcnn developers"
version = release = skfsrcnn.__version__

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_generated",  # snippets included by the guides, not pages of their own
    "results",
    "**/README.md",
    "auto_examples/*.ipynb",
    "auto_examples/**/*.ipynb",
    "auto_examples/**/*.py",
    "auto_examples/**/*.md5",
    "auto_examples/**/*.codeobj.json",
    "auto_examples/**/*.zip",
]
root_doc = "index"
default_role = "py:obj"
nitpicky = False
# No intersphinx: the build must work offline.

# -- autodoc / autosummary / numpydoc ------------------------------------------

autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"inherited-members": False}

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
numpydoc_xref_param_type = False
# ``SKFSRCNN_DOCS_STRICT=1`` also checks every public docstring with numpydoc's
# validator (missing Examples, undocumented parameters, ...); with -W any
# finding fails the build.
if os.environ.get("SKFSRCNN_DOCS_STRICT"):
    numpydoc_validation_checks = {"all", "GL01", "GL02", "SA01", "ES01", "RT02", "SS05", "GL08"}
    numpydoc_validation_exclude = {r"\.forward$", r"\.__init__$"}

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skfsrcnn {release}"
html_static_path = ["_static"]
html_css_files = ["skfsrcnn.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_sidebars = {"index": [], "getting_started": []}
html_show_sourcelink = False

# -- sphinx-gallery ----------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "subsection_order": [
        "examples/basics",
        "examples/large_images",
        "examples/training",
        "examples/evaluation",
    ],
    "within_subsection_order": "FileNameSortKey",
    # Backreferences: every API page lists the examples that use it.
    "doc_module": ("skfsrcnn", "napari_fsrcnn"),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skfsrcnn": None},
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "show_memory": False,
    "min_reported_time": 0,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,  # a failing example fails the build
    "download_all_examples": False,
    "thumbnail_size": (320, 224),
    # Examples run in one process: undo global state an example may change.
    "reset_modules": ("matplotlib", "gallery_reset.reset_torch_threads"),
}


# -- The API pages must name every public function and class -------------------

#: (module, page that documents its ``__all__``); a module that cannot be
#: imported (the napari plugin without napari) drops its page from the build.
API_MODULES = {
    "skfsrcnn": "api/skfsrcnn.rst",
    "skfsrcnn.models": "api/models.rst",
    "skfsrcnn.pretrained": "api/pretrained.rst",
    "skfsrcnn.resize": "api/resize.rst",
    "skfsrcnn.metrics": "api/metrics.rst",
    "skfsrcnn.datasets": "api/datasets.rst",
    "skfsrcnn.degradation": "api/degradation.rst",
    "skfsrcnn.io": "api/io.rst",
    "skfsrcnn.evaluate": "api/evaluate.rst",
    "skfsrcnn.train": "api/train.rst",
    "skfsrcnn.export": "api/export.rst",
    "skfsrcnn.video": "api/video.rst",
    "napari_fsrcnn": "api/napari_fsrcnn.rst",
}

_MISSING_MODULES = {}
for _name in API_MODULES:
    try:
        importlib.import_module(_name)
    except Exception as error:
        _MISSING_MODULES[_name] = f"{type(error).__name__}: {error}"

_NAPARI_PLACEHOLDER = """\
napari_fsrcnn
=============

The napari plugin could not be imported while these pages were built
({reason}), so its reference is missing here. Install the plugin's extra
(``pip install "skfsrcnn[napari]"``) and rebuild.
"""


def _documented_names(page):
    """Fully qualified names listed in the autosummary blocks of ``page``."""
    names, module = set(), None
    in_summary = False
    for line in (DOCS / page).read_text().splitlines():
        current = re.match(r"\.\.\s+(?:current)?module::\s+(\S+)", line.strip())
        if current:
            module = current.group(1)
            in_summary = False
            continue
        if line.strip().startswith(".. autosummary::"):
            in_summary = True
            continue
        if in_summary:
            text = line.strip()
            if not text or text.startswith(":"):
                continue
            if not line.startswith(" "):
                in_summary = False
                continue
            names.add(text if "." in text and text.startswith(module + ".") else f"{module}.{text}")
    return names


def _check_api_coverage(app):
    """Warn (an error under -W) for every public name missing from the API pages."""
    import types

    for name, page in API_MODULES.items():
        if name in _MISSING_MODULES:
            if name != "napari_fsrcnn":
                logger.warning(f"cannot import {name} for the API reference: {_MISSING_MODULES[name]}")
            continue
        module = importlib.import_module(name)
        public = [
            item
            for item in getattr(module, "__all__", [])
            if not isinstance(getattr(module, item, None), types.ModuleType)
        ]
        documented = _documented_names(page)
        for item in public:
            if f"{name}.{item}" not in documented:
                logger.warning(
                    f"{name}.{item} is public (in __all__) but not in the API reference: "
                    f"add the line '   {item}' to the autosummary list of docs/{page}."
                )


def _skip_missing_pages(app, docname, source):
    """Replace the page of a module that cannot be imported by a short note."""
    for name, page in API_MODULES.items():
        if name in _MISSING_MODULES and docname == page[:-4]:
            source[0] = _NAPARI_PLACEHOLDER.format(reason=_MISSING_MODULES[name])


if _MISSING_MODULES:
    # autosummary reads the files itself: keep it away from unimportable pages.
    autosummary_generate = [page for name, page in API_MODULES.items() if name not in _MISSING_MODULES]

# -- Generated snippets: numbers read from docs/results/ ------------------------

_NOT_YET = """\
.. admonition:: Not generated yet
   :class: warning

   {what} is produced by ``{command}`` (run from the repository root), which
   writes ``{target}``; rebuild the docs afterwards.
"""


def _rel(path):
    """Path of ``path`` as seen from ``docs/_generated/`` (for include directives)."""
    return os.path.relpath(path, GENERATED).replace(os.sep, "/")


def _write(name, text):
    GENERATED.mkdir(exist_ok=True)
    target = GENERATED / name
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


def _snippet_include(name, source, what, command):
    if source.exists():
        _write(name, f".. include:: {_rel(source)}\n")
    else:
        _write(name, _NOT_YET.format(what=what, command=command, target=f"docs/results/{source.name}"))


def _snippet_benchmarks():
    files = sorted(RESULTS.glob("bench_*.txt")) + sorted(RESULTS.glob("bench_*.rst"))
    if not files:
        _write(
            "benchmarks.rst",
            _NOT_YET.format(
                what="The benchmark output", command="the benchmarks in benchmarks/", target="docs/results/bench_*.txt"
            ),
        )
        return
    parts = []
    for path in files:
        title = path.stem.removeprefix("bench_").replace("_", " ")
        parts.append(f"{title.capitalize()}\n{'~' * len(title)}\n\n")
        if path.suffix == ".rst":
            parts.append(f".. include:: {_rel(path)}\n\n")
        else:
            parts.append(f"``docs/results/{path.name}``:\n\n.. literalinclude:: {_rel(path)}\n   :language: text\n\n")
    _write("benchmarks.rst", "".join(parts))


def _snippet_reliability():
    files = sorted(RESULTS.glob("reliability*.rst")) + sorted(RESULTS.glob("reliability*.csv"))
    if not files:
        _write(
            "reliability.rst",
            _NOT_YET.format(
                what="The table of bad inputs and their outcomes",
                command="python docs/make_reliability.py",
                target="docs/results/reliability.rst or reliability.csv",
            ),
        )
        return
    parts = []
    for path in files:
        if path.suffix == ".rst":
            parts.append(f".. include:: {_rel(path)}\n\n")
        else:
            parts.append(
                f".. csv-table:: ``docs/results/{path.name}``\n   :file: {_rel(path)}\n"
                "   :header-rows: 1\n   :widths: auto\n\n"
            )
    _write("reliability.rst", "".join(parts))


def _snippet_registry():
    """The weights registry as a table: names, architecture, provenance, scores and self-ensemble scores."""
    from skfsrcnn.pretrained import REGISTRY

    def order(benchmark):
        return ({"Set5": 0, "Set14": 1}.get(benchmark, 2), benchmark)

    columns = [
        (key, benchmark, f"{benchmark} PSNR / SSIM{suffix}")
        for key, suffix in (("scores", ""), ("ensemble_scores", ", 8-pass ensemble"))
        for benchmark in sorted({b for entry in REGISTRY.values() for b in entry.get(key, {})}, key=order)
    ]
    header = ["name", "architecture", "scale", "file"] + [label for _, _, label in columns]
    rows = []
    for name, entry in sorted(REGISTRY.items()):
        scores = [
            "{:.2f} / {:.4f}".format(*entry[key][b]) if b in entry.get(key, {}) else "--" for key, b, _ in columns
        ]
        rows.append([f"``{name}``", entry["architecture"], str(entry["scale"]), f"``{entry['file']}``"] + scores)
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header] + rows:
        lines.append("   * - " + row[0])
        lines.extend(f"     - {cell}" for cell in row[1:])
    lines.append("")
    data = {entry["training_data"] for entry in REGISTRY.values()}
    lines.append("Training data: " + "; ".join(sorted(data)) + ".")
    _write("registry.rst", "\n".join(lines) + "\n")


def _snippet_napari_screenshots():
    shots = [
        (
            "napari_plugin.png",
            "napari_screenshot.rst",
            "python scripts/napari_screenshot.py",
            "napari with the FSRCNN dock widget and an upscaled layer over its input",
        ),
        (
            "napari_ensemble.png",
            "napari_ensemble_screenshot.rst",
            "python scripts/napari_screenshot.py --widget ensemble",
            "napari with the 8-pass ensemble result and its uncertainty layer over the input",
        ),
        (
            "napari_train.png",
            "napari_train_screenshot.rst",
            "python scripts/napari_screenshot.py --widget train",
            "napari with the Train FSRCNN dock widget after a run, above the upscale widget offering the trained model",
        ),
    ]
    for image, snippet, command, alt in shots:
        if (DOCS / "images" / image).exists():
            _write(snippet, f".. image:: /images/{image}\n   :alt: {alt}\n   :width: 100%\n")
        else:
            _write(
                snippet, _NOT_YET.format(what=f"The screenshot {image}", command=command, target=f"docs/images/{image}")
            )


def _write_snippets(app):
    _snippet_include("results.rst", RESULTS / "results.rst", "The results table", "python docs/make_results.py")
    _snippet_include(
        "comparison.rst", RESULTS / "comparison.rst", "The comparison table", "python docs/make_results.py"
    )
    _snippet_include(
        "microscopy.rst", RESULTS / "microscopy.rst", "The microscopy table", "python docs/make_results.py --microscopy"
    )
    _snippet_benchmarks()
    _snippet_reliability()
    _snippet_registry()
    _snippet_napari_screenshots()


def setup(app):
    app.connect("builder-inited", _write_snippets)
    app.connect("builder-inited", _check_api_coverage)
    app.connect("source-read", _skip_missing_pages)
