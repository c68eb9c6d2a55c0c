"""Say what an input file holds before anything is decoded: kind, duration, picture and sound.

The kind comes from the content, not the file name: a video named ``.jpg`` is analysed as a
video (and the mismatch is reported), a text file named ``.wav`` is refused.
"""

import errno
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import av
from PIL import Image, UnidentifiedImageError

from ..errors import MediaError

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".flv")
AUDIO_EXTENSIONS = (".wav", ".mp3", ".m4a", ".flac", ".ogg")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
SUPPORTED_EXTENSIONS = VIDEO_EXTENSIONS + AUDIO_EXTENSIONS + IMAGE_EXTENSIONS

# The studio's pixel limit for photos and video frames, checked from the file's header before
# anything is decoded: a small file can declare a picture that fills gigabytes. 8K (33 Mpx) and
# a 108 Mpx phone photo still open. Pillow's own guard is set to the same limit.
MAX_PIXELS = 120_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def check_pixels(name: str, width: int, height: int) -> None:
    """Refuse a picture over the studio's pixel limit, before it is decoded."""
    if width * height > MAX_PIXELS:
        raise MediaError(f"{name} is {width}x{height} pixels ({width * height / 1e6:.0f} Mpx); the "
                         f"studio analyses pictures of at most {MAX_PIXELS / 1e6:.0f} Mpx. Scale it down first.")


@dataclass(frozen=True)
class MediaInfo:
    path: str
    kind: str  # "video", "audio" or "image"
    container: str
    size_bytes: int
    duration_s: float | None  # None for images
    width: int | None = None
    height: int | None = None
    fps: float | None = None  # average frame rate as declared by the container
    video_codec: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    audio_streams: int = 0
    name_mismatch: str | None = None  # set when the extension does not match the content

    @property
    def has_video(self) -> bool:
        return self.kind in ("video", "image")

    @property
    def has_audio(self) -> bool:
        return self.audio_streams > 0

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """One line a person can read: what the file holds."""
        parts = [self.kind]
        if self.duration_s is not None:
            parts.append(f"{self.duration_s:.1f} s")
        if self.width:
            parts.append(f"{self.width}x{self.height}")
        if self.fps:
            parts.append(f"{self.fps:.2f} fps")
        if self.kind == "video":
            parts.append(
                f"audio {self.audio_codec} {self.sample_rate} Hz x{self.channels}"
                if self.has_audio
                else "no audio track"
            )
        elif self.kind == "audio":
            parts.append(f"{self.audio_codec} {self.sample_rate} Hz x{self.channels}")
        return ", ".join(parts)


def probe(path: str | Path) -> MediaInfo:
    """Inspect ``path``; raise :class:`MediaError` with the reason when it cannot be analysed."""
    path = Path(path)
    if not path.exists():
        raise MediaError(f"{path} does not exist.")
    if path.is_dir():
        raise MediaError(f"{path} is a folder, not a media file.")
    size = path.stat().st_size
    if size == 0:
        raise MediaError(f"{path.name} is empty (0 bytes).")
    try:
        with open(path, "rb"):
            pass
    except PermissionError as error:
        raise MediaError(f"{path.name} cannot be read: permission denied.") from error
    except OSError as error:
        raise MediaError(f"{path.name} cannot be read: {os.strerror(error.errno or errno.EIO)}.") from error
    info = _probe_image(path, size) or _probe_av(path, size)
    return _with_name_check(info, path)


def _probe_image(path: Path, size: int) -> MediaInfo | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:  # reads the header only
                width, height = image.size
                check_pixels(path.name, width, height)
                image.verify()  # reads the whole file: a truncated image fails here
                container = (image.format or "image").lower()
    except Image.DecompressionBombError as error:
        raise MediaError(f"{path.name} is larger than {MAX_PIXELS / 1e6:.0f} Mpx, the largest "
                         "picture the studio analyses. Scale it down first.") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return MediaInfo(
        path=str(path), kind="image", container=container, size_bytes=size, duration_s=None,
        width=width, height=height,
    )


def _probe_av(path: Path, size: int) -> MediaInfo:
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as error:
        raise MediaError(
            f"{path.name} could not be read as video, audio or an image: the file is corrupt, "
            f"truncated or in an unsupported format ({_reason(error)})."
        ) from error
    with container:
        video = next(
            (s for s in container.streams.video if not _is_cover_art(s)), None
        )
        audio_streams = list(container.streams.audio)
        audio = audio_streams[0] if audio_streams else None
        if video is None and audio is None:
            raise MediaError(f"{path.name} holds neither a video nor an audio stream.")
        # the longer of picture and sound: one still frame over 8 s of speech lasts 8 s
        durations = [d for d in (_duration(container, s) for s in (video, audio) if s is not None)
                     if d is not None]
        duration = max(durations) if durations else None
        kind = "video" if video is not None else "audio"
        fields = dict(
            path=str(path), kind=kind, container=container.format.name, size_bytes=size,
            duration_s=duration, audio_streams=len(audio_streams),
        )
        if video is not None:
            rate = video.average_rate or video.guessed_rate
            fields.update(
                width=video.codec_context.width, height=video.codec_context.height,
                fps=float(rate) if rate else None, video_codec=video.codec_context.name,
            )
        if audio is not None:
            fields.update(
                audio_codec=audio.codec_context.name, sample_rate=audio.codec_context.sample_rate,
                channels=audio.codec_context.channels,
            )
    if kind == "video" and not fields.get("width"):
        raise MediaError(f"{path.name}: the video stream has no readable picture size.")
    if kind == "video":
        check_pixels(path.name, fields["width"], fields["height"] or 0)
    return MediaInfo(**fields)


def _is_cover_art(stream) -> bool:
    # mp3/m4a files carry album art as a one-picture "video" stream
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error)


def _with_name_check(info: MediaInfo, path: Path) -> MediaInfo:
    suffix = path.suffix.lower()
    expected = {"video": VIDEO_EXTENSIONS, "audio": AUDIO_EXTENSIONS, "image": IMAGE_EXTENSIONS}
    if suffix in SUPPORTED_EXTENSIONS and suffix not in expected[info.kind]:
        note = f"named {suffix} but holds {info.kind}; analysed as {info.kind}"
        return MediaInfo(**{**info.to_dict(), "name_mismatch": note})
    return info
