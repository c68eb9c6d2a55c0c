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

TALKING_HEADS = ROOT.parent / "shared" / "data" / "av_samples" / "talking_heads"


def talking_clip(seconds: float, folder: Path, size: str = "1280:720") -> Path:
    """A ``seconds``-long talking-head video of real speech, scaled and padded to ``size``.

    The first minute is the ../shared/data talking-head clips one after another (seven speakers,
    no sentence said twice: Whisper decodes repeated text again and again, which a looped 8-second
    clip would turn into a benchmark of that); without them, the project's astronaut clip looped.
    Longer clips repeat that minute by stream copy, so they are fast to make.
    """
    width, height = size.split(":")
    folder.mkdir(parents=True, exist_ok=True)
    minute = folder / f"talking_{width}x{height}_60s.mp4"
    if not minute.exists():
        sources = sorted(TALKING_HEADS.glob("*.mp4"))
        if sources:
            parts = []
            for source in sources:
                clip = ffmpeg.input(str(source))
                parts += [clip.video.filter("scale", width, height, force_original_aspect_ratio="decrease")
                          .filter("pad", width, height, "(ow-iw)/2", "(oh-ih)/2").filter("setsar", 1)
                          .filter("fps", 25),
                          clip.audio.filter("aresample", 48000)]
            joined = ffmpeg.concat(*parts, v=1, a=1).node
            stream = ffmpeg.output(joined[0], joined[1], str(minute), t=60, vcodec="libx264",
                                   preset="veryfast", acodec="aac")
        else:
            sys.path.insert(0, str(ROOT / "tests"))
            from media_fixtures import media_path

            stream = ffmpeg.input(str(media_path("astronaut_talking.mp4")), stream_loop=-1, t=60).output(
                str(minute), vf=f"scale={size}", vcodec="libx264", preset="veryfast", acodec="aac", r=25)
        stream.global_args("-loglevel", "error").overwrite_output().run(cmd=ffmpeg_binary())
    if seconds <= 60:
        return minute
    clip = folder / f"talking_{width}x{height}_{int(seconds)}s.mp4"
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
