"""skfsrcnn._video_frames: full range, chroma upscaling, one frame upscaled, and frames upscaled on worker threads.

The whole pipeline (decoding, encoding, streams copied) is in ``test_video.py``.
"""

import itertools
from types import SimpleNamespace

import av
import numpy as np
import pytest
import torch
from video_helpers import frames_rgb, make_clip

from skfsrcnn import _threads
from skfsrcnn._options import UpscaleOptions
from skfsrcnn._video_frames import (
    FramePool,
    FrameUpscaler,
    _plane_array,
    _to_uint8,
    _upscale_chroma,
    full_range,
)
from skfsrcnn.pretrained import LUMA_RANGE
from skfsrcnn.resize import imresize


def _upscaler_and_frames(path, scale):
    """A :class:`FrameUpscaler` (fsrcnn-s, bundled weights) for the clip at ``path``, and the clip's frames."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        shape = (video.codec_context.height, video.codec_context.width)
        options, scale = UpscaleOptions(model="fsrcnn-s").validate(shape, scale)
        return FrameUpscaler(video, scale, options), list(container.decode(video=0))


def _upscale_all(pool, frames):
    """Every frame through ``pool`` as the video pipeline does: submit each, then drain."""
    with pool:
        done = [*itertools.chain.from_iterable(pool.submit(frame) for frame in frames), *pool.drain()]
    return done


@pytest.fixture
def torch_threads():
    """Set torch's thread count within a test; restored after it."""
    threads = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(threads)


# ---------------------------------------------------------------- full range


@pytest.mark.parametrize(
    ("color_range", "pix_fmt", "expected"),
    [
        (2, "yuv420p", True),  # tagged JPEG range
        (0, "yuvj420p", True),  # untagged, but a full-range pixel format
        (0, "yuvj444p", True),
        (1, "yuv420p", False),  # MPEG (limited) range
        (0, "yuv420p", False),  # untagged: limited, as players assume
        (0, None, False),
    ],
)
def test_full_range(color_range, pix_fmt, expected):
    assert full_range(SimpleNamespace(color_range=color_range, pix_fmt=pix_fmt)) is expected


def test_full_range_luma_is_mapped_to_photo_luma_and_back(tmp_path):
    """Full-range luma 0..255 goes to the network as photo luma (LUMA_RANGE) and back; limited luma as it is."""
    limited, _ = _upscaler_and_frames(make_clip(tmp_path / "limited.mkv", frames=1, audio=False), 2)
    full, _ = _upscaler_and_frames(make_clip(tmp_path / "full.mkv", frames=1, audio=False, pix_fmt="yuvj420p"), 2)
    assert (limited.planar, full.planar) == ("yuv420p", "yuvj420p")
    ends = np.array([0.0, 1.0], np.float32)
    np.testing.assert_array_equal(_to_uint8(ends.copy(), limited.luma_gain, limited.luma_offset), [0, 255])
    photo = np.array(LUMA_RANGE, np.float32)
    np.testing.assert_array_equal(_to_uint8(photo, full.luma_gain, full.luma_offset), [0, 255])


# ---------------------------------------------------------------- planes and chroma


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_chroma_is_upscaled_as_imresize(scale):
    chroma = np.random.default_rng(scale).integers(0, 256, (2, 9, 14), dtype=np.uint8)
    expected = imresize(chroma.astype(np.float32), scale, axes=(1, 2))
    np.testing.assert_allclose(_upscale_chroma(chroma, scale), expected, rtol=0, atol=1e-4)


def test_plane_array_drops_the_row_padding():
    frame = av.VideoFrame.from_ndarray(frames_rgb(1, 10, 46)[0], format="rgb24").reformat(format="yuv420p")
    assert frame.planes[0].line_size > 46 and frame.planes[1].line_size > 23  # padded rows: the case that matters
    pixels = frame.to_ndarray(format="yuv420p")  # (15, 46): Y, then U and V, each 5 rows of 23, two to a row
    np.testing.assert_array_equal(_plane_array(frame.planes[0]), pixels[:10])
    np.testing.assert_array_equal(_plane_array(frame.planes[1]), pixels[10:].reshape(2, 5, 23)[0])
    np.testing.assert_array_equal(_plane_array(frame.planes[2]), pixels[10:].reshape(2, 5, 23)[1])


def test_to_uint8_rounds_and_clips():
    values = np.array([-0.5, 0.0, 0.2, 0.6, 1.0, 1.4], np.float32)
    np.testing.assert_array_equal(_to_uint8(values.copy(), 1.0, 0.0), [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(_to_uint8(values.copy(), 255.0, 0.0), [0, 0, 51, 153, 255, 255])
    np.testing.assert_array_equal(_to_uint8(values.copy(), 100.0, 10.0), [0, 10, 30, 70, 110, 150])
    assert _to_uint8(values.copy(), 1.0, 0.0).dtype == np.uint8


# ---------------------------------------------------------------- one frame


def test_frame_upscaled_keeps_its_time_and_is_the_planes_upscaled(tmp_path):
    """Odd size at x3, 4:4:4 input: a yuv420p frame of even size, the luma from the network, the chroma bicubic."""
    source = make_clip(tmp_path / "odd.mkv", frames=2, size=(35, 47), audio=False, pix_fmt="yuv444p")
    upscaler, frames = _upscaler_and_frames(source, 3)
    assert upscaler.size == (104, 140)
    frame = frames[1]
    out = upscaler(frame)
    assert out.format.name == "yuv420p" and (out.height, out.width) == (104, 140)
    assert (out.pts, out.time_base) == (frame.pts, frame.time_base)
    planar = frame.reformat(format="yuv420p")
    luma, *chroma = (_plane_array(plane) for plane in planar.planes)
    pixels = out.to_ndarray(format="yuv420p")
    expected_luma = _to_uint8(upscaler.upscale_luma(luma)[:104, :140], 255.0, 0.0)
    np.testing.assert_array_equal(pixels[:104], expected_luma)
    expected_chroma = _to_uint8(_upscale_chroma(np.stack(chroma), 3)[:, :52, :70], 1.0, 0.0)
    np.testing.assert_array_equal(pixels[104:].reshape(2, 52, 70), expected_chroma)
    # The network made a difference: the luma is not the bicubic one.
    bicubic = _to_uint8(imresize(luma.astype(np.float32), 3)[:104, :140], 1.0, 0.0)
    assert np.abs(expected_luma.astype(int) - bicubic).mean() > 1


# ---------------------------------------------------------------- frames on worker threads


class _Numbers:
    """An upscaler of numbers, on the CPU, that fails on ``fail_on``."""

    device = torch.device("cpu")

    def __init__(self, fail_on=None):
        self.fail_on = fail_on

    def __call__(self, number):
        if number == self.fail_on:
            raise RuntimeError(f"frame {number} failed")
        return -number


@pytest.mark.parametrize("threads", [1, 3])
def test_pool_gives_frames_back_in_order_with_at_most_twice_the_workers_in_flight(threads, torch_threads, monkeypatch):
    monkeypatch.setattr(_threads, "usable_cores", lambda: 8)
    torch_threads(threads)
    pool = FramePool(_Numbers())
    assert pool.workers == threads
    done = []
    with pool:
        assert torch.get_num_threads() == 1  # one thread per frame on the CPU
        for number in range(20):
            done += pool.submit(number)
            assert len(pool) == min(number + 1, 2 * threads)
            assert len(done) + len(pool) == number + 1
        done += pool.drain()
        assert len(pool) == 0
    assert torch.get_num_threads() == threads  # restored
    assert done == [-n for n in range(20)]


def test_pool_workers_are_no_more_than_the_usable_cores(torch_threads, monkeypatch):
    """torch counts every core of the machine; a process limited to two (affinity) gets two workers."""
    monkeypatch.setattr(_threads, "usable_cores", lambda: 2)
    torch_threads(6)
    assert FramePool(_Numbers()).workers == 2
    assert _upscale_all(FramePool(_Numbers()), range(7)) == [-n for n in range(7)]
    assert torch.get_num_threads() == 6


def test_pool_raises_a_frame_error_in_order(torch_threads):
    torch_threads(2)
    done = []
    with pytest.raises(RuntimeError, match="frame 5 failed"), FramePool(_Numbers(fail_on=5)) as pool:
        for number in range(10):
            done += pool.submit(number)
        done += pool.drain()
    assert done == [0, -1, -2, -3, -4]  # the frames before it came back
    assert torch.get_num_threads() == 2


def test_pool_off_the_cpu_runs_one_worker_and_keeps_torch_threads(torch_threads):
    torch_threads(3)
    upscaler = _Numbers()
    upscaler.device = SimpleNamespace(type="cuda")
    pool = FramePool(upscaler)
    assert pool.workers == 1
    with pool:
        assert torch.get_num_threads() == 3
    assert _upscale_all(FramePool(upscaler), range(5)) == [0, -1, -2, -3, -4]


def test_frames_upscaled_in_parallel_are_the_frames_upscaled_one_by_one(tmp_path, torch_threads):
    """One and three workers (torch threads) give the same frames, in order, with their times."""
    source = make_clip(tmp_path / "in.mkv", frames=9, audio=False)
    upscaler, frames = _upscaler_and_frames(source, 2)
    results = {}
    for count in (1, 3):
        torch_threads(count)
        results[count] = _upscale_all(FramePool(upscaler), frames)
        assert torch.get_num_threads() == count
    for one, three, frame in zip(results[1], results[3], frames, strict=True):
        assert one.pts == three.pts == frame.pts
        np.testing.assert_array_equal(one.to_ndarray(format="yuv420p"), three.to_ndarray(format="yuv420p"))
