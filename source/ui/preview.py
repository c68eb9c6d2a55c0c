"""A video the browser can play, whatever was analysed: Chromium plays H.264 or VP9 in MP4 or
WebM, not MPEG-4 part 2, FLV or AVI (only an audio bar shows). Such an input gets a small preview
made with the bundled ffmpeg (streams copied into MP4 when they already play, else re-encoded to
H.264 + AAC), kept beside the upload folders and made once per file version. Its timestamps are
the input's, so the timeline still seeks the player to a window's start."""

import hashlib
import subprocess
import tempfile
from pathlib import Path

from ..errors import MediaError
from ..media.ffmpeg import ffmpeg_binary
from ..media.probe import MediaInfo

# what the player is sent as (its MIME type comes from the extension) -> the codecs Chromium plays in it
PLAYABLE = {".mp4": ({"h264", "vp9", "av1"}, {None, "aac", "mp3", "mp3float", "opus", "flac"}),
            ".m4v": ({"h264"}, {None, "aac", "mp3", "mp3float"}),
            ".webm": ({"vp8", "vp9", "av1"}, {None, "opus", "vorbis"})}
COPYABLE = ({"h264"}, {None, "aac", "mp3", "mp3float"})  # into MP4 without re-encoding
PREVIEW_WIDTH = 854  # at most: the preview is for watching beside the timeline, not for analysis
PREVIEW_DIR = Path(tempfile.gettempdir()) / "studio-previews"


def _audio(info: MediaInfo) -> str | None:
    return info.audio_codec if info.has_audio else None


def playable(info: MediaInfo) -> bool:
    """Whether a browser plays the file as it is."""
    video, audio = PLAYABLE.get(Path(info.path).suffix.lower(), (set(), set()))
    return info.video_codec in video and _audio(info) in audio


def preview_command(info: MediaInfo, target: Path) -> list[str]:
    """The ffmpeg command that writes ``target``: a stream copy when the codecs already play in
    MP4, else H.264 (at most PREVIEW_WIDTH wide) + AAC."""
    command = [ffmpeg_binary(), "-v", "error", "-nostdin", "-y", "-i", info.path, "-map", "0:v:0", "-map", "0:a:0?"]
    if info.video_codec in COPYABLE[0] and _audio(info) in COPYABLE[1]:
        command += ["-c", "copy"]
    else:
        command += ["-vf", f"scale='min({PREVIEW_WIDTH},iw)':-2", "-c:v", "libx264", "-preset", "veryfast",
                    "-crf", "26", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k"]
    return command + ["-movflags", "+faststart", "-f", "mp4", str(target)]


def browser_preview(info: MediaInfo) -> Path:
    """The file itself when a browser plays it, else its preview (made once per file version)."""
    path = Path(info.path)
    if playable(info):
        return path
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    target = PREVIEW_DIR / f"{path.stem}-{key}.mp4"
    if not target.exists():
        PREVIEW_DIR.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        done = subprocess.run(preview_command(info, partial), capture_output=True, text=True)
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise MediaError(f"No playable preview of {path.name} could be made "
                             f"({done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'ffmpeg failed'}).")
        partial.replace(target)
    return target
