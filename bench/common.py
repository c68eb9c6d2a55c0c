"""Shared by the benchmark scripts: a real long test clip, and a child process measured alone."""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ffmpeg  # noqa: E402

from source.media.ffmpeg import ffmpeg_binary  # noqa: E402

SHARED_CLIP = ROOT.parent / "shared" / "data" / "av_samples" / "talking_heads" / "RD_Radio34_000.mp4"


def talking_clip(seconds: float, folder: Path, size: str = "1280:720") -> Path:
    """A ``seconds``-long talking-head video made by looping a real clip, scaled to ``size``.

    Uses an HDTF clip from ../shared/data when present, else the project's astronaut clip.
    Clips longer than a minute are built by stream-copying the 60-second one, so they are fast
    to make and identical minute by minute.
    """
    minute = folder / f"talking_{size.replace(':', 'x')}_60s.mp4"
    if not minute.exists():
        if SHARED_CLIP.exists():
            source = SHARED_CLIP
        else:
            sys.path.insert(0, str(ROOT / "tests"))
            from media_fixtures import media_path

            source = media_path("astronaut_talking.mp4")
        (
            ffmpeg.input(str(source), stream_loop=-1, t=60)
            .output(str(minute), vf=f"scale={size}", vcodec="libx264", preset="veryfast",
                    acodec="aac", r=25)
            .global_args("-loglevel", "error").overwrite_output()
            .run(cmd=ffmpeg_binary())
        )
    if seconds <= 60:
        return minute
    clip = folder / f"talking_{size.replace(':', 'x')}_{int(seconds)}s.mp4"
    if not clip.exists():
        (
            ffmpeg.input(str(minute), stream_loop=-1, t=seconds)
            .output(str(clip), c="copy")
            .global_args("-loglevel", "error").overwrite_output()
            .run(cmd=ffmpeg_binary())
        )
    return clip


def run_measured(argv: list[str]) -> tuple[float, int, str]:
    """Run ``argv``; return its wall time (s), its own peak RSS (MB) and its stdout."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise RuntimeError(f"{argv} failed with status {status}")
    return time.perf_counter() - start, round(usage.ru_maxrss / 1024), output
