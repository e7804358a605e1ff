"""Video frames upscaled in YUV, on worker threads: the engine of :mod:`skfsrcnn.video`.

:class:`FrameUpscaler` upscales one decoded frame the way
:func:`skfsrcnn.upscale` treats an RGB image: the luma plane through the
network, the chroma planes with MATLAB's bicubic kernel. :class:`FramePool`
runs it on several frames at once and returns them in order.
"""

import collections

import numpy as np

from ._progress import run_to_end

#: FFmpeg's value of ``color_range`` for full-range (JPEG) video (libavutil/pixfmt.h).
FULL_RANGE = 2


def full_range(context):
    """Whether a video stream's (decoder ``context``'s) luma spans 0..255 instead of 16..235."""
    return context.color_range == FULL_RANGE or (context.pix_fmt or "").startswith("yuvj")


class FrameUpscaler:
    """``upscaler(frame)``: an upscaled yuv420p :class:`av.VideoFrame` with the frame's timestamp.

    ``size`` is the output (rows, columns), even for the 4:2:0 encoder;
    ``device`` where the network runs.
    """

    def __init__(self, video, scale, options):
        from . import _validate
        from ._upscale import _network, _run_network
        from .pretrained import LUMA_RANGE

        self.device = device = _validate.device(options.device)
        network, _ = _network(options.weights and str(options.weights), options.model, scale, device)
        context = video.codec_context
        # As upscale treats an RGB image, whatever the weights' input_range (so it is not used): its luma,
        # photo luma (LUMA_RANGE), reaches the network as it is. Limited-range luma is photo luma already;
        # full-range luma is mapped into it, as the luma of the frame's RGB would be.
        target = LUMA_RANGE if full_range(context) else (0.0, 1.0)
        self.planar = "yuvj420p" if full_range(context) else "yuv420p"  # other formats are converted, range kept
        self.run = _run_network(network, device, (0.0, 1.0), target)
        self.luma_gain = 255.0 / (target[1] - target[0])
        self.luma_offset = -target[0] * self.luma_gain
        self.scale, self.halo, self.tile_size = scale, network.halo, options.tile_size
        self.size = tuple(side * scale // 2 * 2 for side in (context.height, context.width))

    def __call__(self, frame):
        if frame.format.name not in ("yuv420p", "yuvj420p"):
            frame = frame.reformat(format=self.planar)
        luma, *chroma = (_plane_array(plane) for plane in frame.planes)
        out = self.assemble(self.upscale_luma(luma), np.stack(chroma))
        out.pts, out.time_base = frame.pts, frame.time_base
        return out

    def upscale_luma(self, luma):
        """The network's output for the (M, N) uint8 luma plane: (M * scale, N * scale) float32 in [0, 1]."""
        from ._tiling import upscale_planes

        luma = np.divide(luma[None], np.float32(255), dtype=np.float32)  # one float copy of the frame
        tile = self.tile_size or max(luma.shape[1:])
        return run_to_end(upscale_planes(luma, self.scale, self.run, tile, self.halo))[0]

    def assemble(self, luma_up, chroma):
        """The yuv420p output frame from the upscaled luma and the (2, M, N) uint8 chroma planes."""
        import av

        rows, cols = self.size
        planes = (
            _to_uint8(luma_up[:rows, :cols], self.luma_gain, self.luma_offset),
            *_to_uint8(_upscale_chroma(chroma, self.scale)[:, : rows // 2, : cols // 2], 1.0, 0.0),
        )
        pixels = np.concatenate([plane.reshape(-1) for plane in planes]).reshape(rows * 3 // 2, cols)
        return av.VideoFrame.from_ndarray(pixels, format="yuv420p")


def _plane_array(plane):
    """The pixels of a uint8 frame plane, without the row padding."""
    rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width]


def _upscale_chroma(chroma, scale):
    """MATLAB-bicubic upscaling of the (C, M, N) uint8 chroma planes, as float32, on torch's threads.

    The same kernel, edge handling and result as :func:`skfsrcnn.resize.imresize`
    (to float rounding), with each output phase's taps summed over shifted
    slices: the columns at the low resolution, then the rows.
    """
    import torch

    from ._colour import _phase_taps, _weighted_sum
    from .resize import BICUBIC_REACH

    channels, rows, cols = chroma.shape
    planes = torch.nn.functional.pad(torch.from_numpy(chroma).float(), (BICUBIC_REACH,) * 4, mode="replicate")
    taps = _phase_taps(scale)
    phases = torch.empty(scale, channels, rows + 2 * BICUBIC_REACH, cols)
    for phase, phase_taps in enumerate(taps):
        _weighted_sum(phases[phase], planes, phase_taps, 2, cols)
    across = torch.stack(tuple(phases), dim=-1).view(channels, -1, cols * scale)
    out = torch.empty(channels, rows, scale, cols * scale)
    for phase, phase_taps in enumerate(taps):
        _weighted_sum(out[:, :, phase], across, phase_taps, 1, rows)
    return out.view(channels, rows * scale, cols * scale).numpy()


def _to_uint8(planes, gain, offset):
    """``round(planes * gain + offset)`` clipped to 0..255, as uint8, computed in place."""
    import torch

    values = torch.from_numpy(planes)
    if gain != 1.0:
        values.mul_(gain)
    if offset != 0.0:
        values.add_(offset)
    return values.round_().clamp_(0, 255).to(torch.uint8).numpy()


class FramePool:
    """Upscale frames on worker threads; :meth:`submit` and :meth:`drain` give them back in order.

    On a CPU, ``torch.get_num_threads()`` frames are upscaled at once, but
    no more than the cores this process may use
    (:func:`skfsrcnn._threads.inference_threads`), each on one thread
    (torch's thread count is 1 inside the ``with`` block and restored
    after it): frames in parallel never wait for one another,
    while one frame on several threads waits at every layer for the
    slowest, and libx264's threads, encoding beside it, make it wait often
    (on two cores under load, 7 times slower than one thread). Elsewhere
    one worker runs beside the decoding and encoding. At most twice as many
    frames as workers are in flight, so memory stays bounded.
    """

    def __init__(self, upscaler):
        import torch

        from ._threads import inference_threads

        self.upscaler, self.threads = upscaler, torch.get_num_threads()
        self.on_cpu = upscaler.device.type == "cpu"
        self.workers = inference_threads(self.threads) if self.on_cpu else 1
        self.pending = collections.deque()

    def __enter__(self):
        from concurrent.futures import ThreadPoolExecutor

        import torch

        if self.on_cpu:
            torch.set_num_threads(1)
        self.executor = ThreadPoolExecutor(self.workers, thread_name_prefix="skfsrcnn-video")
        return self

    def __exit__(self, *exc_info):
        import torch

        self.executor.shutdown(wait=True, cancel_futures=True)
        torch.set_num_threads(self.threads)

    def __len__(self):
        return len(self.pending)

    def submit(self, frame):
        """Queue ``frame``; yield the oldest upscaled frames while too many are in flight."""
        self.pending.append(self.executor.submit(self.upscaler, frame))
        while len(self.pending) > 2 * self.workers:
            yield self.pending.popleft().result()

    def drain(self):
        """Yield every frame still in flight, in order."""
        while self.pending:
            yield self.pending.popleft().result()
