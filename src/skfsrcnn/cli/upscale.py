"""``skfsrcnn upscale INPUT OUTPUT --scale S``: upscale PNG, JPEG, TIFF files and zarr arrays.

Image files are upscaled in memory, tile by tile. When INPUT or OUTPUT is a
zarr array (``*.zarr``), the image is processed lazily with dask and written
chunk by chunk, so it may be far larger than memory; an interrupted run is
finished with ``--resume`` (see :mod:`skfsrcnn._chunked`). Files are read
and written with :mod:`skfsrcnn.io`.
"""

import os
from pathlib import Path

import numpy as np

from .. import io
from .._options import DEFAULT_TILE_SIZE, UpscaleOptions
from ..pretrained import available_models
from ._common import fail, in_flag_words, interrupted

DESCRIPTION = (
    "Upscale a PNG, JPEG or TIFF file (16-bit stays 16-bit), or a zarr array "
    "larger than memory (INPUT or OUTPUT ending in .zarr: chunk by chunk, resumable)."
)
_FILE_SUFFIXES = io.TIFF_SUFFIXES + (".jpg", ".jpeg", ".png")


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


def _upscale_in_memory(image, args):
    """:func:`skfsrcnn.upscale` of ``image`` with a progress bar over its tiles."""
    from tqdm.auto import tqdm

    from .._progress import run_to_end
    from .._upscale import steps

    with tqdm(desc="upscaling", unit="tile", disable=None, leave=False) as bar:

        def advance(step):
            done, total = step
            bar.total = total
            bar.update(done - bar.n)

        return run_to_end(steps(image, args.scale, _options(image, args)), on_step=advance)


def _paths(args):
    """INPUT and OUTPUT from the positional arguments (and ``--sample``)."""
    if args.sample:
        if len(args.paths) != 1:
            raise ValueError("With --sample give only OUTPUT: skfsrcnn upscale --sample OUTPUT.")
        return io.sample_path(), args.paths[0]
    if len(args.paths) != 2:
        raise ValueError("Give INPUT and OUTPUT: skfsrcnn upscale INPUT OUTPUT --scale 3.")
    return tuple(args.paths)


def upscale_command(args):
    """Run ``skfsrcnn upscale``; return the output path."""
    source, output = _paths(args)
    if args.resume and args.overwrite:
        raise ValueError("Pass either --resume or --overwrite, not both.")
    if io.is_zarr(source) or io.is_zarr(output):
        return _upscale_chunked(source, output, args)
    if args.resume:
        raise ValueError("--resume works only with a zarr OUTPUT (e.g. out.zarr).")
    _check_output(output, source, args.overwrite)
    image = io.read_image(source)
    if Path(output).suffix.lower() not in _FILE_SUFFIXES:
        raise ValueError(f"OUTPUT {output!r} must end in .png, .jpg, .jpeg, .tif, .tiff or .zarr.")
    io.check_format(output, image.dtype)
    io.write_image(output, _to_file_dtype(_upscale_in_memory(image, args), image.dtype))
    return output


def _upscale_chunked(source, output, args):
    """zarr OUTPUT (from zarr, TIFF or any image INPUT): lazy, chunk by chunk, resumable."""
    from .. import _chunked

    if not io.is_zarr(output):
        raise ValueError(f"OUTPUT {str(output)!r}: a zarr INPUT is written to a zarr OUTPUT; name it e.g. 'out.zarr'.")
    if not Path(source).exists():
        raise ValueError(f"INPUT {str(source)!r} does not exist.")
    _check_output(output, source, args.overwrite, args.resume)
    if args.chunk_size is not None and not 16 <= args.chunk_size <= 16384:
        raise ValueError(f"--chunk-size {args.chunk_size} must be in [16, 16384] (1024 is a good default).")
    _chunked.check_jobs(args.jobs)
    image = io.read_lazy(source, args.chunk_size)
    if args.overwrite and Path(output).exists():
        _chunked.remove_zarr(output)
    computed = _chunked.upscale_to_zarr(
        image,
        output,
        args.scale,
        _options(image, args),
        source=source,
        resume=args.resume,
        jobs=args.jobs,
    )
    if args.resume:
        print(f"computed {computed} chunk(s); the others were already written")
    return output


def add_arguments(parser):
    """Add the arguments of ``skfsrcnn upscale`` to ``parser``."""
    parser.add_argument("paths", nargs="+", metavar="INPUT OUTPUT", help="input and output files (or .zarr arrays)")
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
    parser.add_argument("--sample", action="store_true", help="upscale the bundled sample image")
    parser.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    chunked = parser.add_argument_group("zarr output (images larger than memory)")
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
        "--jobs", type=int, metavar="N", help="chunks computed at once (default: CPU cores, 1 on a GPU)"
    )


def run(args, program):
    """Run ``skfsrcnn upscale`` with parsed ``args``; errors are reported as ``program``'s.

    Returns
    -------
    int
        0 once OUTPUT is written.

    Raises
    ------
    SystemExit
        Status 2 with a one-line message for bad arguments, input or
        output; 130 when interrupted.
    """
    try:
        output = upscale_command(args)
    except (ValueError, TypeError, OSError, MemoryError) as error:
        fail(program, in_flag_words(error, ("scale", "weights", "model", "device", "tile_size")))
    except KeyboardInterrupt:
        hint = " rerun with --resume to finish it" if args.paths and io.is_zarr(args.paths[-1]) else ""
        interrupted(program, f"interrupted;{hint or ' nothing was written'}")
    print(f"wrote {output}")
    return 0
