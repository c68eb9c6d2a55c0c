"""``predict --webcam``: a short recording from the webcam (and microphone) with ffmpeg, kept in
``output_files/`` so the prediction can be looked at again, then predicted like any file."""

import subprocess
import sys
import time
from pathlib import Path

from ..errors import StudioError
from ..media.ffmpeg import ffmpeg_binary
from ..paths import OUTPUT_DIR


def _inputs(camera: str | None, with_audio: bool) -> list[str]:
    """ffmpeg input arguments for this platform's camera (and default microphone)."""
    if sys.platform == "darwin":
        device = camera or "0"
        return ["-f", "avfoundation", "-framerate", "30", "-i", f"{device}:0" if with_audio else device]
    if sys.platform.startswith("linux"):
        device = camera or "/dev/video0"
        if not Path(device).exists():
            raise StudioError(f"No webcam at {device}: connect one, or name it with --camera "
                              "(over SSH the camera of the machine you type on is not reachable).")
        audio = ["-f", "alsa", "-i", "default"] if with_audio else []
        return ["-f", "v4l2", "-i", device, *audio]
    raise StudioError(f"--webcam is not supported on {sys.platform}: record a file and predict it.")


def record_webcam(seconds: float, camera: str | None, with_audio: bool) -> Path:
    """Record ``seconds`` from the webcam to ``output_files/webcam_<time>.mp4``; returns the path."""
    if seconds < 1.5:
        raise StudioError("--seconds must be at least 1.5: shorter recordings are refused.")
    out = OUTPUT_DIR / f"webcam_{time.strftime('%Y%m%d_%H%M%S')}.mp4"
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y",
               *_inputs(camera, with_audio), "-t", str(seconds), "-pix_fmt", "yuv420p", str(out)]
    print(f"recording {seconds:g} s from the webcam{' and microphone' if with_audio else ''}...")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or not out.exists():
        raise StudioError(f"Recording from the webcam failed: {result.stderr.strip() or 'no output'}")
    print(f"recorded {out}")
    return out
