"""Upscale videos frame by frame; sound, subtitles, frame rate and timestamps kept.

:func:`upscale_video` reads a video with PyAV (FFmpeg's libraries: any
format and codec FFmpeg decodes), upscales every frame and encodes the
result as H.264 (libx264) in an MP4, Matroska or QuickTime file. Frames
stream through a few at a time (on a CPU, as many in parallel as torch
has threads and this process has cores, each on one thread), so memory does not grow with the
video's length. :func:`upscale_video_steps` is the same
as a generator that reports progress after every frame.

Each frame is upscaled in YUV, the way :func:`skfsrcnn.upscale` treats an
RGB image: the luma plane (Y) goes through the network, the two chroma
planes (U, V, a quarter of the pixels each in 4:2:0 video) are upscaled
with MATLAB's bicubic kernel (:func:`skfsrcnn.resize.imresize`). The
video's limited-range luma (16..235) is what the photo weights were
trained on and reaches the network as it is; full-range luma (0..255,
``yuvj`` formats) is mapped into 16..235 and back. As for an RGB image,
this holds for any weights, whatever their ``input_range``.

Kept from the input: every frame's timestamp (so the frame rate, constant
or variable, and the duration), the audio and subtitle streams, copied
packet by packet without re-encoding, the streams' language and title
tags, the file's tags and chapters, and the colour description (matrix,
range, primaries, transfer). Not kept: data streams, attachments and
cover pictures.

The output is written under a temporary name beside it and renamed when
complete (:mod:`skfsrcnn._atomic`, as for images), so an interrupted or
failed run (Ctrl-C, an error, a closed generator) never leaves a broken
file under the output's name and never replaces an existing one; if
another process writes the output meanwhile, its file is kept.
"""

import os
from pathlib import Path

from ._atomic import atomic_path, snapshot
from ._extras import needed
from ._options import UpscaleOptions
from ._progress import run_to_end
from ._video_frames import FULL_RANGE, FramePool, FrameUpscaler, full_range

__all__ = [
    "DEFAULT_CRF",
    "DEFAULT_PRESET",
    "NETWORK_OPTIONS",
    "OUTPUT_SUFFIXES",
    "PRESETS",
    "VIDEO_SUFFIXES",
    "is_video",
    "upscale_video",
    "upscale_video_steps",
]

#: File suffixes treated as videos by ``skfsrcnn upscale`` (any file FFmpeg reads works here).
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".mts", ".wmv", ".flv")
#: Output suffixes: containers that hold H.264 and the usual audio and subtitle codecs.
OUTPUT_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")
#: Default constant rate factor of libx264: 0 lossless, 18 visually lossless, 23 libx264's own default, 51 worst.
DEFAULT_CRF = 18
#: libx264's speed presets, fastest first.
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
#: Default preset: the fastest with libx264's main compression tools, about 30 ms of CPU time per 1080p
#: frame (``ultrafast``: 10 ms, but files 3.7 times larger at the same CRF in benchmarks/bench_video.py).
DEFAULT_PRESET = "veryfast"
#: Stream kinds copied unchanged into the output.
_COPIED_KINDS = ("audio", "subtitle")
#: FFmpeg's enum values of the colour description (libavutil/pixfmt.h).
_UNSPECIFIED, _BT601 = 2, 6
#: Container tags FFmpeg writes itself.
_OWN_TAGS = {"duration", "encoder"}


#: The options of :func:`skfsrcnn.upscale` that apply to videos, passed on as they are.
NETWORK_OPTIONS = ("model", "weights", "tile_size", "device")


def is_video(path):
    """Whether ``path`` names a video file by its suffix (:data:`VIDEO_SUFFIXES`).

    Examples
    --------
    >>> from skfsrcnn.video import is_video
    >>> is_video("holiday.MP4"), is_video("photo.png")
    (True, False)
    """
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def upscale_video(source, output, scale, *, crf=DEFAULT_CRF, preset=DEFAULT_PRESET, overwrite=False, **options):
    """Upscale every frame of a video file and write the result, sound and subtitles kept.

    Parameters
    ----------
    source : str or path-like
        The video: any file FFmpeg reads (MP4, Matroska, QuickTime, WebM,
        AVI, MPEG-TS, ...) with at least one video stream; the first is
        upscaled.
    output : str or path-like
        The upscaled video, ending in ``.mp4``, ``.m4v``, ``.mov`` or
        ``.mkv`` (:data:`OUTPUT_SUFFIXES`); H.264, 8-bit 4:2:0.
    scale : {2, 3, 4}
        Upscaling factor of the frames' width and height.
    crf : int, optional
        libx264's constant rate factor, 0 (lossless) to 51: lower is
        better and larger; 18 looks like the upscaled frames themselves.
    preset : str, optional
        libx264's speed preset (:data:`PRESETS`): slower presets make
        smaller files of the same quality.
    overwrite : bool, optional
        Replace ``output`` if it exists.
    **options
        The network's options, as for :func:`skfsrcnn.upscale`: ``model``
        (``'fsrcnn-s'`` is the real-time one), ``weights``, ``tile_size``
        (bounds the network's memory on large frames) and ``device``;
        another name raises TypeError.

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    ValueError, TypeError
        A bad argument; ``source`` missing, unreadable (truncated, not a
        video), without a video stream or in a codec FFmpeg cannot decode;
        an audio or subtitle codec that ``output``'s container cannot hold.
        Everything except a decoding error midway is found before any
        frame is processed; nothing is left under ``output``'s name.
    ImportError
        PyAV is not installed (``pip install skfsrcnn[video]``).

    Notes
    -----
    The timestamps of the frames are copied, so the frame rate, constant
    or variable, and the duration stay those of ``source``. Sizes the
    4:2:0 encoder cannot take (an odd width or height, from x3 on an odd
    input size) lose their last row or column.

    Examples
    --------
    >>> from skfsrcnn.video import upscale_video
    >>> upscale_video("clip.mp4", "clip_x3.mp4", 3, model="fsrcnn-s")  # doctest: +SKIP
    PosixPath('clip_x3.mp4')
    """
    return run_to_end(
        upscale_video_steps(source, output, scale, crf=crf, preset=preset, overwrite=overwrite, **options)
    )


def upscale_video_steps(source, output, scale, *, crf=DEFAULT_CRF, preset=DEFAULT_PRESET, overwrite=False, **options):
    """Generator form of :func:`upscale_video`: yields ``(done, total)`` after every frame.

    ``total`` is the number of frames the file declares, or an estimate
    from its duration and frame rate, or None. Closing the generator early
    (a Cancel button) stops the work and removes the partial output.

    Parameters
    ----------
    source, output, scale, crf, preset, overwrite, **options
        As for :func:`upscale_video`.

    Returns
    -------
    pathlib.Path
        ``output`` (the ``StopIteration`` value).

    Yields
    ------
    done : int
        Frames written so far.
    total : int or None
        Frames in all.

    Examples
    --------
    >>> from skfsrcnn import run_to_end
    >>> from skfsrcnn.video import upscale_video_steps
    >>> steps = upscale_video_steps("clip.mp4", "clip_x2.mp4", 2)
    >>> run_to_end(steps, on_step=print)  # doctest: +SKIP
    (1, 240)
    ...
    """
    unknown = sorted(set(options) - set(NETWORK_OPTIONS))
    if unknown:
        raise TypeError(
            f"Unknown option {', '.join(unknown)} for a video; the network's options are {', '.join(NETWORK_OPTIONS)}."
        )
    source, output = _checked_paths(source, output, overwrite)
    since = snapshot(output)  # what output was when the work began: a file written meanwhile is kept
    options = UpscaleOptions(**options)
    _check_encoder_settings(crf, preset)
    with needed("Upscaling videos"):
        import av
    with _open_source(av, source) as container:
        video = _video_stream(container, source)
        options, scale = options.validate((video.codec_context.height, video.codec_context.width), scale)
        copied = _copied_streams(av, container, output)
        upscaler = FrameUpscaler(video, scale, options)
        with atomic_path(output, since) as partial, av.open(str(partial), "w") as target:
            encoder = _add_encoder(target, video, upscaler.size, crf, preset)
            outputs = _add_copies(target, container, copied)
            yield from _transcode(container, source, video, upscaler, encoder, outputs, target)
    return output


def _checked_paths(source, output, overwrite):
    """``source`` and ``output`` as Paths, checked before any work."""
    for name, value in (("source", source), ("output", output)):
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"`{name}` must be a file path, got {type(value).__name__}.")
    source, output = Path(source).expanduser(), Path(output).expanduser()
    if not source.is_file():
        raise ValueError(f"`source`={str(source)!r} does not exist or is not a file; give a video file.")
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(
            f"`output`={str(output)!r} must end in {', '.join(OUTPUT_SUFFIXES)} (H.264 video), "
            f"e.g. {str(output.with_suffix('.mp4'))!r}."
        )
    if output.exists() and output.resolve() == source.resolve():
        raise ValueError(f"`output`={str(output)!r} is the same file as `source`; choose another name.")
    if output.is_dir():
        raise ValueError(f"`output`={str(output)!r} is a folder; give a file name, e.g. {str(output / 'out.mp4')!r}.")
    if output.exists() and not overwrite:
        raise ValueError(f"`output`={str(output)!r} exists; pass overwrite=True (--overwrite) to replace it.")
    if not output.parent.is_dir():
        raise ValueError(f"The folder of `output`={str(output)!r} does not exist; create it first.")
    if not os.access(output.parent, os.W_OK):
        raise ValueError(f"The folder of `output`={str(output)!r} is not writable; choose another folder.")
    return source, output


def _check_encoder_settings(crf, preset):
    if isinstance(crf, bool) or not hasattr(crf, "__index__"):
        raise TypeError(f"`crf` must be an integer from 0 to 51, got {crf!r}.")
    if not 0 <= crf <= 51:
        raise ValueError(f"`crf`={crf} is outside libx264's range; use 0 (lossless) to 51 (worst), e.g. {DEFAULT_CRF}.")
    if preset not in PRESETS:
        raise ValueError(f"`preset`={preset!r} is not a libx264 preset; use one of {', '.join(PRESETS)}.")


def _open_source(av, source):
    """``av.open(source)``, with FFmpeg's refusal turned into a ValueError that says what to do."""
    try:
        return av.open(str(source))
    except av.error.FFmpegError as error:
        raise ValueError(
            f"`source`={str(source)!r} could not be read as a video ({error.strerror or error}); "
            "check that it is a complete video file: a truncated download or copy cannot be read."
        ) from None


def _video_stream(container, source):
    """The first video stream, with threaded decoding; refused if absent or undecodable."""
    streams = container.streams.video
    if not streams:
        kinds = sorted({stream.type for stream in container.streams}) or ["no streams"]
        raise ValueError(
            f"`source`={str(source)!r} has no video stream (it holds {', '.join(kinds)}); "
            "give a video file, or upscale images with skfsrcnn.upscale."
        )
    video = streams[0]
    if video.codec_context is None:
        raise ValueError(
            f"`source`={str(source)!r}: its video stream is in a codec this FFmpeg build cannot decode; "
            "convert it first, e.g. ffmpeg -i INPUT -c:v libx264 -c:a copy converted.mp4."
        )
    video.thread_type = "AUTO"
    return video


def _copied_streams(av, container, output):
    """The audio and subtitle streams of ``container``, checked to fit ``output``'s container."""
    import io

    with av.open(io.BytesIO(), "w", format=_format_name(output)) as probe:
        supported = probe.supported_codecs
    copied = [stream for stream in container.streams if stream.type in _COPIED_KINDS]
    for stream in copied:
        codec = stream.codec_context.name if stream.codec_context is not None else "an unknown codec"
        if codec not in supported:
            raise ValueError(
                f"`output`={str(output)!r} cannot hold the {stream.type} stream {stream.index} ({codec}) "
                f"of the source unchanged; write to a .mkv file instead, which holds almost any codec."
            )
    return copied


def _format_name(output):
    """FFmpeg's muxer for the suffix of ``output``."""
    return {".mkv": "matroska", ".mov": "mov"}.get(output.suffix.lower(), "mp4")


def _add_encoder(target, video, size, crf, preset):
    """The H.264 stream of ``target``: the source's time base, frame rate and colour description."""
    source = video.codec_context
    encoder = target.add_stream("libx264", rate=_frame_rate(video), options={"crf": str(crf), "preset": preset})
    encoder.width, encoder.height = size[1], size[0]
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = video.time_base
    encoder.codec_context.time_base = video.time_base
    context = encoder.codec_context
    context.color_range = FULL_RANGE if full_range(source) else source.color_range
    context.color_primaries, context.color_trc = source.color_primaries, source.color_trc
    context.colorspace = source.colorspace
    if source.colorspace == _UNSPECIFIED and source.height < 720:
        # Players take untagged video below 720 lines for BT.601 and above for BT.709: tag the guess.
        context.colorspace = _BT601
    _copy_tags(video, encoder)
    return encoder


def _copy_tags(source, target):
    target.metadata.update({key: value for key, value in source.metadata.items() if key.lower() not in _OWN_TAGS})


def _add_copies(target, container, copied):
    """Output streams for the copied ones (``source stream -> output stream``), tags and chapters."""
    outputs = {}
    for stream in copied:
        outputs[stream] = target.add_stream_from_template(stream)
        _copy_tags(stream, outputs[stream])
    _copy_tags(container, target)
    chapters = container.chapters()
    if chapters:
        target.set_chapters(chapters)
    return outputs


def _frame_rate(video):
    """The video stream's average frame rate, else FFmpeg's guess of it, else None."""
    return video.average_rate or video.guessed_rate


def _declared_seconds(container, video):
    """How long the video stream says it lasts, in seconds, or None.

    From the stream's duration, else Matroska's ``DURATION`` statistics
    tag, else the file's duration if the video is its only stream.
    """
    if video.duration:
        return float(video.duration * video.time_base)
    tag = next((value for key, value in video.metadata.items() if key.upper() == "DURATION"), "")
    try:
        hours, minutes, seconds = tag.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        pass
    if container.duration and len(container.streams) == 1:
        return container.duration / 1_000_000
    return None


def _frame_total(video, rate, declared):
    """Frames in the video: as declared, else estimated from its ``declared`` seconds and ``rate``, else None."""
    if video.frames:
        return video.frames
    return round(declared * rate) if rate and declared else None


def _check_complete(source, declared, frames, end):
    """Refuse a video whose ``frames`` stop at ``end`` seconds, well before the ``declared`` ones: a truncated file."""
    if frames == 0:
        problem = "not one frame of its video could be decoded"
    elif declared is not None and declared - end > max(0.5, 0.02 * declared):
        problem = f"its video stops after {frames} frames, at {end:.2f} s of the {declared:.2f} s it declares"
    else:
        return
    raise ValueError(
        f"`source`={str(source)!r} is truncated or damaged: {problem}; re-download or re-export it "
        "(nothing was written)."
    )


def _transcode(container, source, video, upscaler, encoder, outputs, target):
    """Demux ``container``: upscale and encode the video, copy the other streams' packets."""
    rate, declared = _frame_rate(video), _declared_seconds(container, video)
    total, done, end = _frame_total(video, rate, declared), 0, 0.0

    def encoded(upscaled_frames):
        nonlocal done
        for upscaled in upscaled_frames:
            target.mux(encoder.encode(upscaled))
            done += 1
            yield done, None if total is None else max(total, done)

    with FramePool(upscaler) as pool:
        for packet in container.demux(video, *outputs):
            if packet.stream is not video:
                if packet.pts is not None or packet.dts is not None:  # not the demuxer's closing empty packet
                    packet.stream = outputs[packet.stream]
                    target.mux(packet)
                continue
            for frame in _decoded(packet, source, done + len(pool)):
                if frame.time is not None and rate:
                    end = max(end, frame.time + 1 / rate)
                yield from encoded(pool.submit(frame))
        _check_complete(source, declared, done + len(pool), end)
        yield from encoded(pool.drain())
    target.mux(encoder.encode(None))


def _decoded(packet, source, before):
    """The frames of a video ``packet``; FFmpeg's refusal as a ValueError naming the frame."""
    import av

    try:
        return packet.decode()
    except av.error.FFmpegError as error:
        raise ValueError(
            f"`source`={str(source)!r}: frame {before + 1} could not be decoded ({error.strerror or error}); "
            "the file is damaged: re-download or re-export it."
        ) from None
