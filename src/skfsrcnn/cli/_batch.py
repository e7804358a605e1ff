"""``skfsrcnn upscale INPUT... --output-dir DIR``: which files a batch reads, and where each goes.

INPUTs are files, folders (searched recursively for files matching
``--pattern``) or glob patterns. A file found in a folder keeps its place
below that folder in the output tree; a file named directly (or by a glob)
goes to the top of DIR. Its name is ``--name-template`` filled in with
``{stem}``, ``{suffix}``, ``{scale}`` and ``{model}``. Everything is
checked before the first file is upscaled: a template that names no
writable format, two inputs that would share an output, an output that is
an input, and DIR being an input folder are refused. Symbolic links are
followed, each folder once, so a link loop ends the search of that branch.
"""

import dataclasses
import fnmatch
import glob
import math
import os
from pathlib import Path

#: The default output name: ``photo.png`` upscaled x3 is ``photo_x3.png``.
DEFAULT_TEMPLATE = "{stem}_x{scale}{suffix}"
#: The default ``--pattern``: every image file the command reads.
DEFAULT_PATTERN = "*.png|*.jpg|*.jpeg|*.tif|*.tiff"
_GLOB_CHARS = frozenset("*?[")


@dataclasses.dataclass(frozen=True)
class Job:
    """One file of a batch: where it is read from and written to."""

    source: Path
    output: Path


def _matches(name, pattern):
    return any(fnmatch.fnmatchcase(name.lower(), part.strip().lower()) for part in pattern.split("|"))


def _walk(folder, pattern, skip, loops):
    """Files under ``folder`` matching ``pattern``, relative to it; ``skip`` folders are not entered."""
    seen = set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        info = os.stat(root)
        if (info.st_dev, info.st_ino) in seen:
            loops.append(root)
            dirs[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        dirs[:] = sorted(d for d in dirs if os.path.realpath(os.path.join(root, d)) not in skip)
        for name in sorted(files):
            if _matches(name, pattern) and not name.startswith("."):
                path = Path(root) / name
                yield path, path.relative_to(folder)


def _expand(argument):
    """The paths an INPUT names: itself, or the matches of a glob pattern."""
    if Path(argument).exists() or not _GLOB_CHARS & set(argument):
        return [Path(argument)]
    matches = sorted(Path(p) for p in glob.glob(argument, recursive=True))
    if not matches:
        raise ValueError(f"INPUT {argument!r} matches no file; check the pattern (quote it so the shell leaves it).")
    return matches


def output_name(source, template, scale, model):
    """The output file name of ``source`` by ``template``.

    Examples
    --------
    >>> from pathlib import Path
    >>> from skfsrcnn.cli._batch import output_name
    >>> output_name(Path("a/photo.png"), "{stem}_x{scale}{suffix}", 3, "fsrcnn")
    'photo_x3.png'
    """
    try:
        return template.format(stem=source.stem, suffix=source.suffix, scale=scale, model=model)
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(
            f"--name-template {template!r} is not a valid template ({error!r}); use the fields "
            "{stem}, {suffix}, {scale} and {model}, e.g. '{stem}_x{scale}{suffix}'."
        ) from None


def plan(inputs, output_dir, *, pattern, template, scale, model, suffixes):
    """The jobs of a batch, in order, and the folders found to loop back on themselves.

    Raises
    ------
    ValueError
        An INPUT that does not exist or matches nothing, no file found, a template giving
        an unwritable suffix, two inputs sharing an output, an output that
        is an input, or ``output_dir`` an input folder.
    """
    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise ValueError(f"--output-dir {str(output_dir)!r} is a file, not a folder; choose a folder.")
    skip = {os.path.realpath(output_dir)}
    loops, jobs = [], []
    for argument in inputs:
        for path in _expand(str(argument)):
            if path.is_dir():
                if os.path.realpath(path) in skip:
                    raise ValueError(
                        f"--output-dir {str(output_dir)!r} is the INPUT folder {str(path)!r}; choose another "
                        "folder (one inside INPUT is fine: it is not searched)."
                    )
                jobs += [Job(found, output_dir / relative) for found, relative in _walk(path, pattern, skip, loops)]
            elif path.exists():
                jobs.append(Job(path, output_dir / path.name))
            else:
                raise ValueError(f"INPUT {str(path)!r} does not exist; check the path.")
    if not jobs:
        raise ValueError(
            f"INPUT {' '.join(map(str, inputs))} holds no file matching --pattern {pattern!r}; "
            "check the folders or the pattern."
        )
    jobs = [Job(job.source, job.output.with_name(output_name(job.source, template, scale, model))) for job in jobs]
    _check_outputs(jobs, suffixes, template)
    return jobs, loops


def _check_outputs(jobs, suffixes, template):
    by_output, sources = {}, {os.path.realpath(job.source) for job in jobs}
    for job in jobs:
        if job.output.suffix.lower() not in suffixes:
            raise ValueError(
                f"--name-template {template!r} names {job.output.name!r} for INPUT {str(job.source)!r}; "
                f"an output must end in {', '.join(suffixes)}."
            )
        other = by_output.setdefault(job.output, job.source)
        if other != job.source:
            raise ValueError(
                f"INPUT {str(other)!r} and {str(job.source)!r} would both be written to {str(job.output)!r}; "
                "rename one, or add {suffix} to --name-template."
            )
        if os.path.realpath(job.output) in sources:
            raise ValueError(
                f"OUTPUT {str(job.output)!r} is also an INPUT; choose another --output-dir or --name-template."
            )


def pixel_count(path):
    """Pixels in the image file ``path`` from its header, for the progress bar; 0 when unreadable."""
    try:
        if path.suffix.lower() in (".tif", ".tiff"):
            import tifffile

            with tifffile.TiffFile(path) as tif:
                return math.prod(tif.series[0].shape)
        from PIL import Image

        with Image.open(path) as image:
            return image.width * image.height
    except Exception:  # unreadable: the upscale reports why
        return 0


def summary(done, skipped, failed, loops):
    """The report printed at the end of a batch: counts, then one line per failed file with its reason.

    Examples
    --------
    >>> from pathlib import Path
    >>> from skfsrcnn.cli._batch import Job, summary
    >>> print(summary([Job(Path("a.png"), Path("o/a_x2.png"))], [], [], []))
    1 done, 0 skipped (already there), 0 failed
    """
    lines = [f"{len(done)} done, {len(skipped)} skipped (already there), {len(failed)} failed"]
    lines += [f"failed: {job.source}: {error}" for job, error in failed]
    lines += [f"not searched twice: {folder} (a symbolic link loop)" for folder in loops]
    return "\n".join(lines)
