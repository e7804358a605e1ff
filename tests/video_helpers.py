"""Synthetic video files for ``test_video`` and the reliability matrix, made with PyAV."""

import contextlib
from fractions import Fraction

import numpy as np

#: Subtitles (SubRip) muxed into the clips that have some.
SUBRIP = "1\n00:00:00,100 --> 00:00:00,400\nHello\n\n2\n00:00:00,500 --> 00:00:00,700\nWorld\n"


def frames_rgb(count, rows=36, cols=48):
    """``count`` RGB uint8 frames: a window panning across skimage's astronaut, at a quarter of its size."""
    from skimage import data

    image = data.astronaut()[::4, ::4]
    return [np.ascontiguousarray(image[20 : 20 + rows, 30 + 2 * i : 30 + 2 * i + cols]) for i in range(count)]


def make_clip(
    path,
    *,
    frames=12,
    size=(36, 48),
    rate=24,
    audio=True,
    video=True,
    subtitles=False,
    pts=None,
    pix_fmt="yuv420p",
):
    """Write a short clip to ``path`` (the suffix picks the container) and return ``path``.

    The video is H.264 in ``pix_fmt``; ``pts`` gives the frames' timestamps
    in units of 1/1000 s (variable frame rate), by default ``0, 1, 2, ...``
    in units of ``1 / rate``. The audio is half a second of a 440 Hz AAC
    tone; ``subtitles`` adds :data:`SUBRIP` (Matroska only).
    """
    import av

    with av.open(str(path), "w") as out, _subrip(av, path) if subtitles else contextlib.nullcontext() as subrip:
        # Every stream is added before the first packet is written.
        if video:
            picture = out.add_stream("libx264", rate=rate)
            picture.height, picture.width = size
            picture.pix_fmt = pix_fmt
            picture.codec_context.time_base = Fraction(1, 1000 if pts is not None else rate)
        if audio:
            sound = out.add_stream("aac", rate=48000, layout="mono")
        if subtitles:
            text = out.add_stream_from_template(subrip.streams.subtitles[0])
        if video:
            _write_frames(av, out, picture, pts if pts is not None else range(frames), size, pix_fmt)
        if audio:
            _write_tone(av, out, sound)
        if subtitles:
            for packet in subrip.demux():
                if packet.pts is not None:
                    packet.stream = text
                    out.mux(packet)
    return path


def _subrip(av, path):
    """:data:`SUBRIP` opened with PyAV, from a file beside ``path``."""
    srt = path.with_name(path.stem + "_subtitles.srt")
    srt.write_text(SUBRIP)
    return av.open(str(srt))


def _write_frames(av, out, stream, stamps, size, pix_fmt):
    for stamp, rgb in zip(stamps, frames_rgb(len(stamps), *size)):
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pix_fmt)
        frame.pts, frame.time_base = stamp, stream.codec_context.time_base
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def _write_tone(av, out, stream, seconds=0.5, block=1024):
    rate = stream.rate
    for start in range(0, int(rate * seconds), block):
        t = np.arange(start, start + block) / rate
        frame = av.AudioFrame.from_ndarray((0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None], "fltp", "mono")
        frame.sample_rate, frame.pts = rate, start
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def packets(path, kind):
    """``(time in seconds, bytes)`` of every packet of the first ``kind`` stream ('audio', 'subtitle')."""
    import av

    with av.open(str(path)) as container:
        stream = next(s for s in container.streams if s.type == kind)
        return [(round(float(p.pts * p.time_base), 4), bytes(p)) for p in container.demux(stream) if p.pts is not None]


def video_frames(path):
    """``(times in seconds, frames as yuv420p ndarrays)`` of the first video stream."""
    import av

    with av.open(str(path)) as container:
        decoded = [(frame.time, frame.to_ndarray(format="yuv420p")) for frame in container.decode(video=0)]
    return [t for t, _ in decoded], [f for _, f in decoded]
