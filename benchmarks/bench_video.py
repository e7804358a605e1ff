"""Video upscaling end to end: skfsrcnn.video vs an OpenCV dnn_superres loop, in one run.

A 640x360 H.264 clip with AAC sound (a window panning across skimage's
astronaut, ``--frames`` frames at 24 fps) is upscaled x3 to 1920x1080 with
FSRCNN-s, decoded, upscaled and encoded (libx264, the same ``--crf``, and
each of ``--presets``: skfsrcnn's default ``veryfast`` and the fastest,
``ultrafast``) by two pipelines:

* ``skfsrcnn``: :func:`skfsrcnn.video.upscale_video` as users call it (YUV:
  the network on the luma plane, MATLAB-bicubic chroma, sound copied);
* ``OpenCV``: PyAV decodes the same file to BGR frames, ``cv2.dnn_superres``
  ``upsample`` (FSRCNN-small x3 from ``--peers``) upscales them, PyAV
  converts them back to yuv420p and encodes them with the same settings
  (sound copied too). OpenCV runs in this process, beside skfsrcnn, which
  ``bench_inference.py`` found favours OpenCV (up to 1.6x faster than in a
  process of its own).

The two alternate, round by round, and the frame rates are medians over
the rounds, so a change of machine load hits both alike. Where the time
goes is measured apart, stage by stage over the same frames held in memory
(decode; the network; colour: chroma upscaling and the frame's assembly,
or OpenCV's BGR conversions; encode) in CPU time, one thread each, which a
busy machine distorts less than wall time; their sum bounds the frame rate
that the machine's cores can reach. The peak memory of a fresh process
upscaling the clip, and a clip twice as long, shows that memory does not
grow with the video's length.

Usage: python benchmarks/bench_video.py [--frames 96] [--repeats 3] [--crf 18]
           [--presets veryfast ultrafast] [--output docs/results/bench_video.txt] [--peers DIR]
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _report import Report, cpu_name

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT.parent / "shared" / "peers" / "opencv-fsrcnn"
SCALE, LR_SIZE, RATE = 3, (360, 640), 24
OPENCV_MODEL = "FSRCNN-small_x3.pb"


def make_clip(path, frames):
    """A 640x360 24 fps H.264 clip (CRF 12) with a 440 Hz AAC tone: a window panning across the astronaut."""
    import av
    import cv2
    from skimage import data

    rows, cols = LR_SIZE
    scene = cv2.resize(data.astronaut(), (cols * 2, rows * 2), interpolation=cv2.INTER_AREA)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=RATE, options={"crf": "12", "preset": "fast"})
        video.height, video.width, video.pix_fmt = rows, cols, "yuv420p"
        sound = out.add_stream("aac", rate=48000, layout="mono")
        for i in range(frames):
            top, left = (i * 2) % rows, (i * 3) % cols
            frame = av.VideoFrame.from_ndarray(scene[top : top + rows, left : left + cols], format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        samples = 1024
        for start in range(0, frames * 48000 // RATE, samples):
            tone = 0.2 * np.sin(2 * np.pi * 440 * np.arange(start, start + samples) / 48000)
            frame = av.AudioFrame.from_ndarray(tone.astype(np.float32)[None], format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48000, start
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
    return path


def _encoder(out, source, crf, preset):
    """A libx264 stream in ``out`` with ``source``'s time base and frame rate, 3x its size."""
    stream = out.add_stream("libx264", rate=source.average_rate, options={"crf": str(crf), "preset": preset})
    stream.height, stream.width = source.height * SCALE, source.width * SCALE
    stream.pix_fmt = "yuv420p"
    stream.codec_context.time_base = source.time_base
    return stream


def opencv_pipeline(source, output, sr, crf, preset):
    """Decode with PyAV, ``sr.upsample`` each BGR frame, encode with PyAV (sound copied); frames done."""
    import av

    done = 0
    with av.open(str(source)) as container, av.open(str(output), "w") as out:
        video = container.streams.video[0]
        video.thread_type = "AUTO"
        sound = container.streams.audio[0]
        encoder, copy = _encoder(out, video, crf, preset), out.add_stream_from_template(sound)
        for packet in container.demux(video, sound):
            if packet.stream is sound:
                if packet.pts is not None:
                    packet.stream = copy
                    out.mux(packet)
                continue
            for frame in packet.decode():
                big = av.VideoFrame.from_ndarray(sr.upsample(frame.to_ndarray(format="bgr24")), format="bgr24")
                big = big.reformat(format="yuv420p")
                big.pts, big.time_base = frame.pts, frame.time_base
                out.mux(encoder.encode(big))
                done += 1
        out.mux(encoder.encode(None))
    return done


def opencv_model(peers):
    import cv2

    sr = cv2.dnn_superres.DnnSuperResImpl_create()
    sr.readModel(str(peers / OPENCV_MODEL))
    sr.setModel("fsrcnn", SCALE)
    return sr


def end_to_end_section(report, args, clip, folder):
    from skfsrcnn.video import upscale_video

    sr = opencv_model(args.peers)
    runs = {}
    for preset in args.presets:
        runs[("skfsrcnn upscale_video (FSRCNN-s)", preset)] = lambda out, preset=preset: upscale_video(
            clip, out, SCALE, model="fsrcnn-s", crf=args.crf, preset=preset, overwrite=True
        )
        runs[("OpenCV dnn_superres loop (FSRCNN-small)", preset)] = lambda out, preset=preset: opencv_pipeline(
            clip, out, sr, args.crf, preset
        )
    seconds, cpu = {key: [] for key in runs}, {key: [] for key in runs}
    sizes = {}
    for round_ in range(args.repeats + 1):  # round 0 warms up (model loading, oneDNN primitives)
        for index, (key, run) in enumerate(runs.items()):
            out = folder / f"out{index}.mp4"
            out.unlink(missing_ok=True)
            start, start_cpu = time.perf_counter(), time.process_time()
            run(out)
            if round_:
                seconds[key].append(time.perf_counter() - start)
                cpu[key].append(time.process_time() - start_cpu)
            sizes[key] = out.stat().st_size
    report(f"## End to end: {LR_SIZE[1]}x{LR_SIZE[0]} -> 1920x1080 x3, {args.frames} frames (median of rounds)")
    report()
    report(f"{'pipeline':42s}{'preset':>10s}{'fps':>8s}{'wall/frame':>13s}{'CPU/frame':>12s}{'file':>11s}")
    fps = {}
    for (name, preset), values in seconds.items():
        median, median_cpu = statistics.median(values), statistics.median(cpu[name, preset])
        fps[name, preset] = args.frames / median
        wall_ms, cpu_ms = median / args.frames * 1000, median_cpu / args.frames * 1000
        report(
            f"{name:42s}{preset:>10s}{fps[name, preset]:8.2f}{wall_ms:10.1f} ms{cpu_ms:9.1f} ms"
            f"{sizes[name, preset] / 2**20:7.2f} MiB"
        )
    report("(CPU: this process's, all threads; on a busy machine threads that wait for each other spin and add to it)")
    report()
    for preset in args.presets:
        ours, theirs = (value for (_, p), value in fps.items() if p == preset)
        report(
            f"{preset}: skfsrcnn / OpenCV {ours / theirs:.2f}x; real time (>= 24 fps) "
            f"{'met' if ours >= 24 else 'NOT met'}"
        )
    report()


def _cpu_ms(calls):
    """CPU milliseconds of this process (all its threads) per call of each of ``calls``, run in turn."""
    start = time.process_time()
    for call in calls:
        call()
    return (time.process_time() - start) / len(calls) * 1000


def stages_section(report, args, clip):
    """CPU milliseconds per frame of each stage, one after another over frames held in memory, one thread each."""
    import av
    import cv2
    import torch

    from skfsrcnn._options import UpscaleOptions
    from skfsrcnn._video_frames import FrameUpscaler, _plane_array

    threads, cv_threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    frames = min(args.frames, 48)
    with av.open(str(clip)) as container:
        video = container.streams.video[0]
        start = time.process_time()
        decoded = [frame for _, frame in zip(range(frames), container.decode(video))]
        decode = (time.process_time() - start) / frames * 1000
        upscaler = FrameUpscaler(video, SCALE, UpscaleOptions(model="fsrcnn-s"))
        upscaler(decoded[0])  # warm up
        planes = [[_plane_array(plane) for plane in frame.planes] for frame in decoded]
        network = _cpu_ms([lambda p=p: upscaler.upscale_luma(p[0]) for p in planes])
        lumas = [upscaler.upscale_luma(p[0]) for p in planes]
        colour = _cpu_ms([lambda y=y, p=p: upscaler.assemble(y, np.stack(p[1:])) for y, p in zip(lumas, planes)])
        big = [upscaler(frame) for frame in decoded]
        sr = opencv_model(args.peers)
        bgr = [frame.to_ndarray(format="bgr24") for frame in decoded]
        sr.upsample(bgr[0])
        opencv_network = _cpu_ms([lambda b=b: sr.upsample(b) for b in bgr])
        upsampled = [sr.upsample(b) for b in bgr]
        opencv_colour = _cpu_ms([lambda f=f: f.to_ndarray(format="bgr24") for f in decoded]) + _cpu_ms(
            [lambda u=u: av.VideoFrame.from_ndarray(u, format="bgr24").reformat(format="yuv420p") for u in upsampled]
        )
        encode = {preset: _encode_cpu_ms(video, big, args.crf, preset) for preset in args.presets}
    torch.set_num_threads(threads)
    cv2.setNumThreads(cv_threads)
    report(f"## Where the time goes: CPU ms per frame, stage by stage over {frames} frames in memory")
    report()
    report(f"{'stage (one thread each; libx264 and the decoder: their own)':62s}{'skfsrcnn':>10s}{'OpenCV':>10s}")
    rows = [
        ("decode (PyAV, H.264 640x360)", decode, decode),
        ("network (skfsrcnn: luma plane; OpenCV: upsample on BGR)", network, opencv_network),
        ("colour (skfsrcnn: chroma x3, frame; OpenCV: BGR<->YUV)", colour, opencv_colour),
    ]
    for label, ours, theirs in rows:
        report(f"{label:62s}{ours:10.1f}{theirs:10.1f}")
    cores = os.cpu_count()
    for preset, ms in encode.items():
        ours, theirs = sum(r[1] for r in rows) + ms, sum(r[2] for r in rows) + ms
        report(f"{f'encode (libx264 1920x1080, crf {args.crf}, {preset})':62s}{ms:10.1f}{ms:10.1f}")
        report(f"{f'  sum with {preset}':62s}{ours:10.1f}{theirs:10.1f}")
        label = f"  frames per second if {cores} cores did nothing else"
        report(f"{label:62s}{1000 * cores / ours:10.1f}{1000 * cores / theirs:10.1f}")
    report("(OpenCV's upsample includes its own YCrCb conversion and bicubic chroma)")
    report()


def _encode_cpu_ms(video, frames, crf, preset):
    """CPU milliseconds per frame that libx264 (all its threads) takes to encode ``frames``."""
    import av

    with tempfile.TemporaryDirectory() as folder, av.open(os.path.join(folder, "x.mp4"), "w") as out:
        encoder = _encoder(out, video, crf, preset)
        start = time.process_time()
        for frame in frames:
            out.mux(encoder.encode(frame))
        out.mux(encoder.encode(None))
        return (time.process_time() - start) / len(frames) * 1000


def memory_child(clip):
    """In a fresh process: upscale ``clip``; print the peak resident memory in KiB (``VmHWM``)."""
    from skfsrcnn.video import upscale_video

    with tempfile.TemporaryDirectory() as folder:
        upscale_video(clip, Path(folder) / "out.mp4", SCALE, model="fsrcnn-s")
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            print(int(line.split()[1]))


def memory_section(report, args, folder):
    report("## Peak memory of a fresh process (VmHWM), by clip length")
    report()
    for frames in (args.frames, 2 * args.frames):
        clip = make_clip(folder / f"memory{frames}.mp4", frames)
        done = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(clip)], capture_output=True, text=True, check=True
        )
        report(f"{frames:5d} frames: {int(done.stdout.split()[-1]) / 1024:7.0f} MiB")
    report()


def environment(report, args):
    import av
    import cv2
    import torch

    import skfsrcnn

    load = os.getloadavg()
    report("# skfsrcnn video benchmark")
    report()
    report(
        f"date {time.strftime('%Y-%m-%d %H:%M')}, {cpu_name()}, {os.cpu_count()} logical CPUs, "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    report(
        f"python {platform.python_version()}, skfsrcnn {skfsrcnn.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), opencv {cv2.__version__} ({cv2.getNumThreads()} threads), "
        f"PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info})"
    )
    report(f"command: python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:])}")
    report(
        f"clip: {LR_SIZE[1]}x{LR_SIZE[0]} H.264 {RATE} fps + AAC, {args.frames} frames; output libx264 "
        f"crf {args.crf}, presets {', '.join(args.presets)}, yuv420p; {args.repeats} rounds after a warm-up round"
    )
    report()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=96, help="frames in the clip (default 96: 4 s)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--crf", type=int, default=18, help="libx264 CRF of both pipelines (default 18)")
    parser.add_argument(
        "--presets",
        nargs="+",
        default=["veryfast", "ultrafast"],
        help="libx264 presets, each run by both pipelines (default: veryfast, skfsrcnn's default, and ultrafast)",
    )
    parser.add_argument("--output", type=Path, default=None, help="also write the report to this file")
    parser.add_argument("--peers", type=Path, default=PEERS, help="folder with OpenCV's FSRCNN-small_x3.pb")
    parser.add_argument("--skip-memory", action="store_true", help="leave out the peak-memory section")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(args.memory_child)
    if not (args.peers / OPENCV_MODEL).is_file():
        parser.error(f"{OPENCV_MODEL} not found in {args.peers}; pass --peers DIR")
    report = Report()
    environment(report, args)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        clip = make_clip(folder / "clip.mp4", args.frames)
        end_to_end_section(report, args, clip, folder)
        stages_section(report, args, clip)
        if not args.skip_memory:
            memory_section(report, args, folder)
    load = os.getloadavg()
    report(f"load average at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.output:
        report.write(args.output)


if __name__ == "__main__":
    main()
