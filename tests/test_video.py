"""skfsrcnn.video and ``skfsrcnn upscale`` on videos: timing, sound, subtitles, frames as upscale, no broken files.

The frame engine (full range, chroma, worker threads) is in ``test_video_frames.py``;
bad input (no video stream, undecodable codec, truncated file, ...) is in
the reliability matrix (``test_reliability.py``).
"""

import sys

import av
import numpy as np
import pytest
from video_helpers import make_clip, packets, video_frames

from skfsrcnn import cli, run_to_end, upscale
from skfsrcnn.metrics import psnr
from skfsrcnn.resize import imresize
from skfsrcnn.video import is_video, upscale_video, upscale_video_steps

MODEL = dict(model="fsrcnn-s")  # bundled weights: no download


def _streams(path):
    """``(kind, codec)`` of every stream, the video stream's size, frame rate and the file's duration."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        kinds = [(s.type, s.codec_context.name) for s in container.streams]
        return kinds, (video.height, video.width), video.average_rate, container.duration


def _rgb_frames(path):
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


@pytest.mark.parametrize(("source", "output"), [("in.mp4", "out.mp4"), ("in.mkv", "out.mkv")])
def test_round_trip_keeps_frames_timing_and_sound(tmp_path, source, output):
    source = make_clip(tmp_path / source, frames=12, rate=24)
    assert upscale_video(source, tmp_path / output, 3, **MODEL) == tmp_path / output
    kinds, size, rate, duration = _streams(tmp_path / output)
    source_kinds, source_size, source_rate, source_duration = _streams(source)
    assert kinds == [("video", "h264"), ("audio", "aac")] == source_kinds
    assert size == (source_size[0] * 3, source_size[1] * 3)
    # Matroska stores milliseconds: 24 fps become 0, 42, 83, ... ms, which MOV measures as 24.02 fps.
    assert float(rate) == pytest.approx(float(source_rate), rel=1e-3) and float(source_rate) == 24
    assert duration == pytest.approx(source_duration, abs=1000)  # microseconds
    times, frames = video_frames(tmp_path / output)
    assert times == video_frames(source)[0] and len(times) == 12
    assert packets(tmp_path / output, "audio") == packets(source, "audio")  # copied, not re-encoded
    assert not [p.name for p in tmp_path.iterdir() if "partial" in p.name]


def test_another_container_keeps_frame_times_and_sound(tmp_path):
    """Matroska to QuickTime: the same frame times and audio packets (the containers count AAC's delay apart)."""
    source = make_clip(tmp_path / "in.mkv")
    upscale_video(source, tmp_path / "out.mov", 2, **MODEL)
    assert video_frames(tmp_path / "out.mov")[0] == video_frames(source)[0]
    assert packets(tmp_path / "out.mov", "audio") == packets(source, "audio")


def test_variable_frame_rate_keeps_every_timestamp(tmp_path):
    stamps = [0, 40, 90, 100, 180, 250, 260, 300]
    source = make_clip(tmp_path / "vfr.mkv", pts=stamps)
    upscale_video(source, tmp_path / "out.mp4", 2, **MODEL)
    assert video_frames(tmp_path / "out.mp4")[0] == pytest.approx([s / 1000 for s in stamps], abs=1e-4)


def test_subtitles_are_copied(tmp_path):
    source = make_clip(tmp_path / "in.mkv", subtitles=True)
    upscale_video(source, tmp_path / "out.mkv", 2, **MODEL)
    copied = packets(tmp_path / "out.mkv", "subtitle")
    assert copied == packets(source, "subtitle") == [(0.1, b"Hello"), (0.5, b"World")]


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuvj420p"])  # limited and full range
def test_frames_are_upscale_of_the_rgb_frames(tmp_path, pix_fmt):
    """The YUV pipeline gives what upscale gives on the decoded RGB frames, up to 4:2:0 chroma and rounding."""
    source = make_clip(tmp_path / "in.mkv", frames=3, pix_fmt=pix_fmt)
    upscale_video(source, tmp_path / "out.mkv", 3, crf=0, **MODEL)  # lossless H.264
    for rgb, out in zip(_rgb_frames(source), _rgb_frames(tmp_path / "out.mkv"), strict=True):
        expected = np.clip(np.rint(upscale(rgb, 3, channel_axis=-1, **MODEL) * 255), 0, 255)
        assert psnr(expected, out, data_range=255) > 40
        assert psnr(expected, imresize(rgb, 3), data_range=255) < 32  # the network made a difference


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuvj420p"])
def test_the_weights_input_range_changes_no_frame_as_for_rgb_images(tmp_path, random_weights, pix_fmt):
    """Full-range weights (input_range (0, 1)) see the frames' luma as upscale shows them an RGB image's: photo luma."""
    source = make_clip(tmp_path / "in.mkv", frames=2, audio=False, pix_fmt=pix_fmt)
    photo, full = (random_weights("fsrcnn-s", 2, input_range=span) for span in (None, (0.0, 1.0)))
    for weights in (photo, full):
        upscale_video(source, tmp_path / f"{weights.stem}.mkv", 2, crf=0, weights=weights)
    for a, b in zip(*(_rgb_frames(tmp_path / f"{weights.stem}.mkv") for weights in (photo, full)), strict=True):
        np.testing.assert_array_equal(a, b)
    rgb = _rgb_frames(source)[0]
    np.testing.assert_array_equal(
        upscale(rgb, 2, channel_axis=-1, weights=photo), upscale(rgb, 2, channel_axis=-1, weights=full)
    )


def test_full_range_stays_full_range_and_untagged_sd_is_tagged_bt601(tmp_path):
    make_clip(tmp_path / "full.mkv", pix_fmt="yuvj420p")
    make_clip(tmp_path / "plain.mkv")
    for name in ("full", "plain"):
        upscale_video(tmp_path / f"{name}.mkv", tmp_path / f"{name}_x2.mp4", 2, **MODEL)
    with av.open(str(tmp_path / "full_x2.mp4")) as full, av.open(str(tmp_path / "plain_x2.mp4")) as plain:
        assert full.streams.video[0].codec_context.color_range == 2  # JPEG (full)
        assert plain.streams.video[0].codec_context.colorspace == 6  # SMPTE 170M (BT.601): players guess 709 at HD


def test_odd_size_at_x3_loses_the_last_row_and_column(tmp_path):
    source = make_clip(tmp_path / "odd.mkv", frames=2, size=(35, 47), audio=False, pix_fmt="yuv444p")
    upscale_video(source, tmp_path / "out.mkv", 3, **MODEL)
    assert _streams(tmp_path / "out.mkv")[1] == (104, 140)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])  # frame count declared (MP4) or estimated (Matroska)
def test_progress_counts_frames(tmp_path, suffix):
    source = make_clip(tmp_path / f"in{suffix}", frames=5, audio=False)
    steps = []
    run_to_end(upscale_video_steps(source, tmp_path / "out.mp4", 2, **MODEL), on_step=steps.append)
    assert steps == [(i, 5) for i in range(1, 6)]


def test_closed_generator_leaves_no_file_and_keeps_the_old_one(tmp_path):
    source = make_clip(tmp_path / "in.mp4", frames=8)
    old = tmp_path / "out.mp4"
    old.write_bytes(b"the user's file")
    steps = upscale_video_steps(source, old, 2, overwrite=True, **MODEL)
    assert next(steps) == (1, 8)
    steps.close()  # a Cancel button
    assert old.read_bytes() == b"the user's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.mp4"]


def test_error_midway_leaves_no_file(tmp_path, monkeypatch):
    import skfsrcnn._video_frames

    source = make_clip(tmp_path / "in.mkv", frames=8)
    real, calls = skfsrcnn._video_frames.FrameUpscaler.__call__, []

    def failing(self, frame):
        calls.append(frame)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real(self, frame)

    monkeypatch.setattr(skfsrcnn._video_frames.FrameUpscaler, "__call__", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        upscale_video(source, tmp_path / "out.mp4", 2, **MODEL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mkv"]


def test_is_video():
    assert is_video("a/b/Clip.MKV") and is_video("x.webm") and not is_video("x.png") and not is_video("x.zarr")


# --- skfsrcnn upscale in.mp4 out.mp4 ---------------------------------------------------------------


def _run(*argv):
    try:
        return cli.main([str(a) for a in argv])
    except SystemExit as stop:
        return stop.code


def test_command_upscales_a_video(tmp_path, capsys):
    source = make_clip(tmp_path / "in.mkv")
    assert _run("upscale", source, tmp_path / "out.mp4", "--scale", 2, "--model", "fsrcnn-s") == 0
    assert "wrote" in capsys.readouterr().out
    assert _streams(tmp_path / "out.mp4")[1] == (72, 96)
    assert packets(tmp_path / "out.mp4", "audio") == packets(source, "audio")


def test_command_crf_sets_the_quality(tmp_path):
    source = make_clip(tmp_path / "in.mkv", audio=False)
    sizes = {}
    for crf in (0, 40):
        output = tmp_path / f"crf{crf}.mkv"
        assert _run("upscale", source, output, "--model", "fsrcnn-s", "--scale", 2, "--crf", crf) == 0
        sizes[crf] = output.stat().st_size
    assert sizes[0] > 4 * sizes[40]


def test_command_without_pyav_names_the_video_extra(tmp_path, monkeypatch, capsys):
    """Simulated: ``None`` in ``sys.modules`` makes ``import av`` fail as if PyAV were not installed."""
    source = make_clip(tmp_path / "in.mp4", audio=False)
    monkeypatch.setitem(sys.modules, "av", None)
    assert _run("upscale", source, tmp_path / "out.mp4", "--model", "fsrcnn-s") == 2
    err = capsys.readouterr().err
    assert "needs the optional package av, which is not installed" in err
    assert "pip install 'skfsrcnn[video]'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_command_interrupted_leaves_nothing(tmp_path, monkeypatch, capsys):
    import skfsrcnn._video_frames

    def interrupt(self, frame):
        raise KeyboardInterrupt

    monkeypatch.setattr(skfsrcnn._video_frames.FrameUpscaler, "__call__", interrupt)
    source = make_clip(tmp_path / "in.mp4", audio=False)
    assert _run("upscale", source, tmp_path / "out.mp4", "--model", "fsrcnn-s") == 130
    assert "nothing was written" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]
