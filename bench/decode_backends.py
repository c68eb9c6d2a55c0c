"""Decode backends compared on the same file: PyAV in-process vs an ffmpeg subprocess pipe.

Both produce what the pipeline needs: RGB frames sampled at 4 fps (longer side <= 1280) and
the whole audio track as 16 kHz mono float32. Each runs in its own child process so its peak
memory (max RSS) is its own.

    python bench/decode_backends.py [VIDEO] [--seconds 60]

Without VIDEO, a 60-second 720p clip is built by looping a real talking-head sample from
../shared/data (or the project's generated astronaut clip) and scaling it to 1280x720.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from common import run_measured, talking_clip

import ffmpeg
import numpy as np

from source.media.ffmpeg import ffmpeg_binary
from source.options import SAMPLE_RATE

FPS = 4.0
MAX_SIDE = 1280


def decode_pyav(path: str) -> dict:
    from source.media.decode import DecodeReport, iter_audio, iter_frames

    report = DecodeReport()
    frames = sum(1 for _ in iter_frames(path, FPS, MAX_SIDE, report))
    samples = sum(chunk.size for chunk in iter_audio(path, report))
    return {"frames": frames, "audio_s": samples / SAMPLE_RATE}


def decode_ffmpeg(path: str) -> dict:
    from source.media.probe import probe

    info = probe(path)
    scale = min(1.0, MAX_SIDE / max(info.width, info.height))
    width, height = round(info.width * scale) // 2 * 2, round(info.height * scale) // 2 * 2
    video = (
        ffmpeg.input(path).video.filter("fps", fps=FPS).filter("scale", width, height)
        .output("pipe:", format="rawvideo", pix_fmt="rgb24")
        .global_args("-loglevel", "error")
        .run_async(cmd=ffmpeg_binary(), pipe_stdout=True)
    )
    frame_bytes = width * height * 3
    frames = 0
    while len(video.stdout.read(frame_bytes)) == frame_bytes:
        frames += 1
    video.wait()
    audio = (
        ffmpeg.input(path).audio
        .output("pipe:", format="f32le", ac=1, ar=SAMPLE_RATE)
        .global_args("-loglevel", "error")
        .run_async(cmd=ffmpeg_binary(), pipe_stdout=True)
    )
    samples = 0
    while chunk := audio.stdout.read(SAMPLE_RATE * 4):
        samples += np.frombuffer(chunk, dtype=np.float32).size
    audio.wait()
    return {"frames": frames, "audio_s": samples / SAMPLE_RATE}


def measure(backend: str, path: Path) -> dict:
    wall, peak, output = run_measured([sys.executable, __file__, "--child", backend, str(path)])
    return {"backend": backend, "wall_s": round(wall, 2), "peak_rss_mb": peak,
            **json.loads(output)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        decode = {"pyav": decode_pyav, "ffmpeg": decode_ffmpeg}[args.child]
        print(json.dumps(decode(str(args.video))))
        return
    with tempfile.TemporaryDirectory() as folder:
        video = args.video or talking_clip(args.seconds, Path(folder))
        print(f"input: {video.name}  ffmpeg: {ffmpeg_binary()}  cpus: {os.cpu_count()}")
        print(f"{'backend':8} {'wall s':>7} {'peak MB':>8} {'frames':>7} {'audio s':>8}")
        for backend in ("pyav", "ffmpeg"):
            row = measure(backend, video)
            print(f"{row['backend']:8} {row['wall_s']:7.2f} {row['peak_rss_mb']:8d} "
                  f"{row['frames']:7d} {row['audio_s']:8.2f}")


if __name__ == "__main__":
    main()
