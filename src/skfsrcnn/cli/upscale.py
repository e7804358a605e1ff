"""``skfsrcnn upscale INPUT OUTPUT --scale S``: upscale PNG, JPEG, TIFF files and zarr arrays.

Image files are upscaled in memory, tile by tile, one at a time through
:func:`upscale_file`, keeping their metadata (:mod:`skfsrcnn.io`). With
``--output-dir DIR`` every INPUT (files, folders, globs) is upscaled into
DIR, mirroring the folders (:mod:`skfsrcnn.cli._batch`); outputs already
there are skipped, so a rerun finishes an interrupted batch, and a file
that fails is reported without stopping the others. When INPUT or OUTPUT is
a zarr array (``*.zarr``), the image is processed lazily with dask and
written chunk by chunk, so it may be far larger than memory; an interrupted
run is finished with ``--resume`` (see :mod:`skfsrcnn._chunked`).
"""

import contextlib
import os
from pathlib import Path

import numpy as np

from .. import _atomic, _tiff, io
from .._options import DEFAULT_TILE_SIZE, UpscaleOptions
from ..pretrained import available_models
from . import _batch, _video
from ._common import fail, in_flag_words, interrupted, run_with_bar

DESCRIPTION = (
    "Upscale a PNG, JPEG or TIFF file (16-bit stays 16-bit; pixel size, EXIF, ICC and OME "
    "metadata kept), folders of them (--output-dir), a zarr array larger than memory "
    "(INPUT or OUTPUT ending in .zarr: chunk by chunk, resumable), or a video (frame by "
    "frame into H.264, sound and subtitles kept)."
)
_FILE_SUFFIXES = io.TIFF_SUFFIXES + (".jpg", ".jpeg", ".png")
#: The most pyramid levels ``--pyramid`` adds below full size (each halves the size).
MAX_PYRAMID = 12


def _channel_axis(image):
    """Grey+alpha, RGB and RGBA images have 2 to 4 channels last; anything else is grey or planes."""
    return -1 if image.ndim == 3 and image.shape[-1] in (2, 3, 4) else None


def _options(image, args):
    """The :func:`skfsrcnn.upscale` options the command uses for ``image``: original units."""
    return UpscaleOptions(
        channel_axis=_channel_axis(image),
        model=args.model,
        weights=args.weights,
        preserve_range=True,
        tile_size=args.tile_size,
        device=args.device,
        ensemble=args.ensemble,
        return_uncertainty=args.uncertainty is not None,
        back_projection=args.back_projection,
    )


def _to_file_dtype(upscaled, dtype):
    """Convert upscale's output (original units) back to the input's integer dtype."""
    if np.issubdtype(dtype, np.integer):
        from .._integers import to_integer

        return to_integer(upscaled, dtype)
    return upscaled


def _check_output(output, source, overwrite, resume=False):
    output = Path(output)
    if source is not None and output.resolve() == Path(source).resolve():
        raise ValueError("OUTPUT is the same file as INPUT; choose another OUTPUT name.")
    if output.is_dir() and not io.is_zarr(output):
        raise ValueError(f"OUTPUT {str(output)!r} is a folder; give a file name, e.g. {str(output / 'out.png')!r}.")
    if output.exists() and not (overwrite or resume):
        hint = " (or --resume to finish an interrupted run)" if io.is_zarr(output) else ""
        raise ValueError(f"OUTPUT {str(output)!r} exists; pass --overwrite to replace it{hint}.")
    if not output.parent.is_dir():
        raise ValueError(f"The folder of OUTPUT {str(output)!r} does not exist; create it first.")
    if not os.access(output.parent, os.W_OK):
        raise ValueError(f"The folder of OUTPUT {str(output)!r} is not writable; choose another folder.")


def _check_uncertainty(args, source, output):
    """Refuse, before any work, an ``--uncertainty`` file that cannot be written or makes no sense."""
    if args.uncertainty is None:
        return
    if not args.ensemble:
        raise ValueError("--uncertainty needs --ensemble: the uncertainty is the spread of the 8 ensemble members.")
    path = Path(args.uncertainty)
    if path.resolve() in (Path(source).resolve(), Path(output).resolve()):
        raise ValueError(f"--uncertainty {str(path)!r} is INPUT or OUTPUT; choose another file name.")
    if path.suffix.lower() not in io.TIFF_SUFFIXES:
        raise ValueError(f"--uncertainty {str(path)!r} must end in .tif or .tiff (it holds float32 values).")
    _check_output(path, None, args.overwrite)


def _upscale_in_memory(image, args, value_range=None):
    """:func:`skfsrcnn.upscale` of ``image`` with a progress bar over its passes; ``value_range`` as for ``steps``."""
    from .._upscale import steps

    work = steps(image, args.scale, _options(image, args), value_range=value_range)
    return run_with_bar(work, desc="upscaling", unit="pass", leave=False)


def _paths(args):
    """INPUT and OUTPUT from the positional arguments (and ``--sample``)."""
    if args.sample:
        if len(args.paths) != 1:
            raise ValueError("With --sample give only OUTPUT: skfsrcnn upscale --sample OUTPUT.")
        return io.sample_path(), args.paths[0]
    if len(args.paths) != 2:
        raise ValueError(
            "Give INPUT and OUTPUT: skfsrcnn upscale INPUT OUTPUT --scale 3, or several INPUTs with --output-dir DIR."
        )
    return tuple(args.paths)


def _provenance(args):
    """How the outputs are made, recorded in each (see :func:`skfsrcnn.io.write_image`)."""
    from .. import __version__
    from .._registry import weights_sha256

    weights = args.weights or f"{args.model}-x{args.scale}"
    return {
        "software": f"skfsrcnn {__version__}",
        "model": Path(weights).name,
        "weights_sha256": weights_sha256(weights),
        "scale": args.scale,
        "tile_size": args.tile_size,
    }


def upscale_file(source, output, args, provenance, overwrite=False):
    """Upscale the image file ``source`` into ``output``: the work of one file, single or in a batch.

    Everything that can be refused is refused before the upscaling starts;
    the output is written atomically, with the input's metadata corrected
    for the scale. A TIFF stack written to a TIFF is read, upscaled and
    written one plane at a time. If another process writes ``output``
    meanwhile, its file is kept and :class:`skfsrcnn._atomic.OutputConflict`
    is raised.
    """
    since = _atomic.snapshot(output) if overwrite else None
    suffix = Path(output).suffix.lower()
    if suffix not in _FILE_SUFFIXES:
        raise ValueError(f"OUTPUT {str(output)!r} must end in .png, .jpg, .jpeg, .tif, .tiff or .zarr.")
    stacked = (
        Path(source).suffix.lower() in io.TIFF_SUFFIXES and suffix in io.TIFF_SUFFIXES and args.uncertainty is None
    )
    with _tiff.open_stack(source) if stacked else contextlib.nullcontext() as stack:
        if stack is not None:
            stream, metadata = stack
            metadata = metadata.scaled(args.scale)  # before the work: what fails here fails early
            io._write_file(Path(output), _upscale_stack(stream, metadata, args), metadata, 1, provenance, since)
            return
    image, metadata = io.read_image(source, metadata=True)
    io.check_format(output, image.dtype, image.shape)
    metadata = metadata.scaled(args.scale)
    upscaled = _upscale_in_memory(image, args)
    if args.uncertainty is not None:
        upscaled, uncertainty = upscaled
        uncertainty = uncertainty.astype(np.float32, copy=False)
        io._write_file(Path(args.uncertainty), uncertainty, metadata, 1, provenance, None)
    io._write_file(Path(output), _to_file_dtype(upscaled, image.dtype), metadata, 1, provenance, since)


def _upscale_stack(stream, metadata, args):
    """A stream of the planes of ``stream`` upscaled one by one, scaled and clipped by the whole stack's range."""
    from tqdm.auto import tqdm

    from .._upscale import output_dtype

    low, high = np.inf, -np.inf
    for plane in stream.planes():  # first pass: the range of the whole stack, as for an upscale of it all
        low, high = min(low, plane.min()), max(high, plane.max())
    value_range = (float(low), float(high))
    plane_ndim = 3 if stream.shape[-1] in (2, 3, 4) and metadata.axes.endswith("S") else 2
    rows, cols = stream.shape[-plane_ndim:][:2]
    shape = stream.shape[:-plane_ndim] + (rows * args.scale, cols * args.scale) + stream.shape[-plane_ndim:][2:]
    dtype = stream.dtype if np.issubdtype(stream.dtype, np.integer) else output_dtype(stream.dtype)

    def upscaled():
        for plane in tqdm(stream.planes(), total=int(np.prod(stream.shape[:-plane_ndim])), desc="planes", disable=None):
            yield _to_file_dtype(_upscale_in_memory(plane, args, value_range), stream.dtype)

    return _tiff.Stream(shape, dtype, upscaled)


def upscale_command(args):
    """Run ``skfsrcnn upscale``; return what to report: the output path, or a batch's summary."""
    if args.resume and args.overwrite:
        raise ValueError("Pass either --resume or --overwrite, not both.")
    if args.output_dir is not None:
        return _upscale_batch(args)
    source, output = _paths(args)
    if io.is_zarr(source) or io.is_zarr(output):
        return f"wrote {_upscale_chunked(source, output, args)}"
    if args.resume:
        raise ValueError("--resume works only with a zarr OUTPUT (e.g. out.zarr).")
    if _video.is_video_job(source, output):
        return f"wrote {_video.upscale_video_command(source, output, args)}"
    _check_output(output, source, args.overwrite)
    _check_uncertainty(args, source, output)
    upscale_file(source, output, args, _provenance(args), args.overwrite)
    return f"wrote {output}"


def _upscale_batch(args):
    """Every INPUT into ``--output-dir``; a summary, or SystemExit 2 when a file failed."""
    from tqdm.auto import tqdm

    if args.sample or args.resume or args.uncertainty is not None:
        raise ValueError("--output-dir takes INPUT files and folders; leave out --sample, --resume and --uncertainty.")
    jobs, loops = _batch.plan(
        args.paths,
        args.output_dir,
        pattern=args.pattern,
        template=args.name_template,
        scale=args.scale,
        model=args.model,
        suffixes=_FILE_SUFFIXES,
    )
    provenance = _provenance(args)
    done, failed = [], []
    todo, skipped = [], []
    for job in jobs:
        (todo if args.overwrite or not job.output.exists() else skipped).append(job)
    sizes = [_batch.pixel_count(job.source) for job in todo]
    bar = tqdm(total=sum(sizes), desc=f"{len(todo)} file(s)", unit="px", unit_scale=True, disable=None)
    try:
        for job, size in zip(todo, sizes, strict=True):
            bar.set_postfix_str(job.source.name)
            try:
                job.output.parent.mkdir(parents=True, exist_ok=True)
                upscale_file(job.source, job.output, args, provenance, args.overwrite)
                done.append(job)
            except Exception as error:  # one file's failure, whatever it is, never stops the batch
                failed.append((job, error))
            bar.update(size)
    finally:
        bar.close()
        print(_batch.summary(done, skipped, failed, loops))
    if failed:
        raise ValueError(f"{len(failed)} of {len(jobs)} file(s) failed (listed above); fix them and run again.")
    return f"wrote {len(done)} file(s) to {args.output_dir}"


def _upscale_chunked(source, output, args):
    """zarr OUTPUT (from zarr, TIFF or any image INPUT): OME-Zarr, lazy, chunk by chunk, resumable."""
    import zarr

    from .. import _chunked, _omezarr

    if not io.is_zarr(output):
        raise ValueError(f"OUTPUT {str(output)!r}: a zarr INPUT is written to a zarr OUTPUT; name it e.g. 'out.zarr'.")
    if args.uncertainty is not None:
        raise ValueError("--uncertainty works with image files only, not with a zarr INPUT or OUTPUT.")
    if not Path(source).exists():
        raise ValueError(f"INPUT {str(source)!r} does not exist.")
    _check_output(output, source, args.overwrite, args.resume)
    if args.chunk_size is not None and not 16 <= args.chunk_size <= 16384:
        raise ValueError(f"--chunk-size {args.chunk_size} must be in [16, 16384] (1024 is a good default).")
    _chunked.check_jobs(args.jobs)
    if not 0 <= args.pyramid <= MAX_PYRAMID:
        raise ValueError(f"--pyramid {args.pyramid} must be between 0 and {MAX_PYRAMID} (levels below full size).")
    image = io.read_lazy(source, args.chunk_size)
    order, axes = _omezarr.ngff_order(_omezarr.input_axes(source, image.shape))
    options = _options(image, args)
    if options.channel_axis is not None:  # a photo's colour axis, first in NGFF order
        options = options.replace(channel_axis=axes.names.index("c"))
    output = Path(output)
    if args.resume and output.exists() and not (output / "0").is_dir():
        raise ValueError(
            f"OUTPUT {str(output)!r} is not an OME-Zarr started by skfsrcnn upscale (it has no array '0'), "
            "so it cannot be resumed; pass --overwrite to start again."
        )
    if args.overwrite and output.exists():
        _chunked.remove_zarr(output)
    if not output.exists():
        zarr.open_group(str(output), mode="w-")
    computed = _chunked.upscale_to_zarr(
        image.transpose(order),
        output / "0",
        args.scale,
        options,
        source=source,
        resume=args.resume,
        jobs=args.jobs,
    )
    _omezarr.write_pyramid(output, axes, 1 + args.pyramid)
    _omezarr.write_metadata(output, axes.upscaled(args.scale), 1 + args.pyramid, _provenance(args))
    if args.resume:
        print(f"computed {computed} chunk(s); the others were already written")
    return output


def add_arguments(parser):
    """Add the arguments of ``skfsrcnn upscale`` to ``parser``."""
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="INPUT OUTPUT",
        help="input and output files (or .zarr arrays); with --output-dir, only INPUTs: files, folders, globs",
    )
    parser.add_argument("--scale", type=int, default=3, choices=(2, 3, 4), help="upscaling factor")
    parser.add_argument(
        "--model",
        default="fsrcnn",
        choices=available_models(),
        help="pretrained network (the -fluo models: fluorescence microscopy)",
    )
    parser.add_argument("--weights", help="weights file (from skfsrcnn train) instead of --model")
    parser.add_argument(
        "--tile-size",
        type=int,
        default=DEFAULT_TILE_SIZE,
        help=f"tile side in input pixels (default {DEFAULT_TILE_SIZE})",
    )
    parser.add_argument("--device", help="cpu, cuda or mps (default: best available)")
    parser.add_argument(
        "--ensemble",
        action="store_true",
        help="average the network over the 8 flips and rotations (self-ensemble: about +0.1 dB, 8x the time)",
    )
    parser.add_argument(
        "--uncertainty",
        metavar="OUT",
        help="with --ensemble, also write the per-pixel standard deviation of the 8 passes to OUT (.tif, float32)",
    )
    parser.add_argument(
        "--back-projection",
        type=int,
        default=0,
        metavar="N",
        help="N iterations of back-projection: the output, downscaled, matches INPUT (default 0)",
    )
    parser.add_argument("--sample", action="store_true", help="upscale the bundled sample image")
    parser.add_argument("--overwrite", action="store_true", help="replace OUTPUT (or a batch's outputs) if it exists")
    batch = parser.add_argument_group("batches (several files, folders)")
    batch.add_argument(
        "--output-dir",
        metavar="DIR",
        help="upscale every INPUT into DIR, mirroring folders; existing outputs are skipped",
    )
    batch.add_argument(
        "--pattern",
        default=_batch.DEFAULT_PATTERN,
        help=f"file names to take from INPUT folders, '|' between alternatives (default {_batch.DEFAULT_PATTERN!r})",
    )
    batch.add_argument(
        "--name-template",
        default=_batch.DEFAULT_TEMPLATE,
        help="output file name from {stem}, {suffix}, {scale}, {model} (default %(default)r)",
    )
    _video.add_arguments(parser)
    chunked = parser.add_argument_group("OME-Zarr output (images larger than memory)")
    chunked.add_argument(
        "--resume", action="store_true", help="finish an interrupted zarr OUTPUT; chunks already written are kept"
    )
    chunked.add_argument(
        "--chunk-size",
        type=int,
        metavar="N",
        help="spatial chunk side in input pixels (default: the input's zarr chunks, else 1024)",
    )
    chunked.add_argument(
        "--pyramid",
        type=int,
        default=0,
        metavar="N",
        help="add N pyramid levels to the OME-Zarr OUTPUT, each half the size of the one before (default 0)",
    )
    chunked.add_argument(
        "--jobs", type=int, metavar="N", help="chunks computed at once (default: CPU cores, 1 on a GPU)"
    )


def run(args, program):
    """Run ``skfsrcnn upscale`` with parsed ``args``; errors are reported as ``program``'s.

    Returns
    -------
    int
        0 once OUTPUT (or every file of a batch) is written.

    Raises
    ------
    SystemExit
        Status 2 with a one-line message for bad arguments, input or
        output, or when any file of a batch failed; 130 when interrupted.
    """
    try:
        report = upscale_command(args)
    except (ValueError, TypeError, OSError, MemoryError) as error:
        fail(program, in_flag_words(error, ("scale", "weights", "model", "device", "tile_size")))
    except KeyboardInterrupt:
        interrupted(program, f"interrupted; {_interrupted_hint(args)}")
    print(report)
    return 0


def _interrupted_hint(args):
    if args.output_dir is not None:
        return "files written are complete: run the same command again to do the rest"
    if args.paths and io.is_zarr(args.paths[-1]):
        return "rerun with --resume to finish it"
    return "nothing was written"
