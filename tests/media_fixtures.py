"""Real test media for the studio's tests and benchmarks, generated on demand and cached.

Nothing here is synthetic noise pretending to be a face or a voice: the face is scikit-image's
``astronaut`` photo (``skimage.data.astronaut()``, a portrait of Eileen Collins, public domain,
NASA), the face-free scene is ``skimage.data.coffee()`` and the voice is espeak-ng reading
:data:`SPEECH_TEXT`. ffmpeg is always the one from ``source.media.ffmpeg.ffmpeg_binary()`` (a
system ffmpeg, else the one inside the imageio-ffmpeg wheel), driven through ``ffmpeg-python``.

Use it as a script (``python tests/media_fixtures.py [OUTDIR] [--force]``: makes every file and
prints one path a line) or as a library (``media_path("speech.wav")``, ``generate_all()``). Files
are cached in ``tests/.media/`` (git-ignored; ``EMOTION_STUDIO_TEST_MEDIA`` moves it); a file is
made only when missing, and the whole folder is remade when :data:`GENERATOR_VERSION` changes (bump
it whenever an output would change). Each file is written under a temporary name and renamed into
place, under a folder lock, so parallel pytest workers and interrupted runs never see half a file.

Files (``t`` = the speech length, about 6 s; motion is a function of time, so every clip made from
the "talking" camera shows the same frame at the same time):

======================================  ==========================================================
``astronaut.png`` / ``astronaut.jpg``   the 512x512 photo, RGB (PNG lossless = the skimage array;
                                        JPEG quality 90)
``speech.wav``                          espeak-ng (voice ``en-us``, 140 wpm) reading SPEECH_TEXT,
                                        resampled to 16 kHz mono s16 PCM
``speech_44k.mp3``                      MP3 (libmp3lame) 44.1 kHz stereo 128 kb/s
``speech_8k.wav``                       8 kHz mono s16 PCM (an odd rate for the resampler)
``speech.m4a``                          AAC-LC 48 kHz stereo 128 kb/s in MP4
``speech.ogg``                          Vorbis 44.1 kHz mono (q 4) in Ogg
``speech.flac``                         FLAC 16 kHz mono s16: the same samples as speech.wav
``silence.wav``                         5 s of digital silence (all zeros), 16 kHz mono s16
``words_gap.wav``                       16 kHz mono s16: GAP_SENTENCES[0] spoken from 0 s, digital
                                        silence, GAP_SENTENCES[1] from GAP_SECOND_START (8.5 s),
                                        then 1 s of silence (word timing in analysis windows)
``negative_speech.wav``                 espeak-ng reading NEGATIVE_TEXT (clearly negative), as
                                        speech.wav
``astronaut_talking.mp4``               640x480 25 fps H.264 (yuv420p, crf 23, GOP 25, B-frames)
                                        + AAC 48 kHz stereo, length t, faststart: a slow smooth
                                        zoom into the face with a small pan; the head (hair to
                                        chin) is always fully in frame
``astronaut_talking.mov/.mkv/.flv``     the same streams copied into QuickTime, Matroska, FLV
``astronaut_talking.avi``               MPEG-4 Part 2 (XVID tag) + MP3 44.1 kHz in AVI
``astronaut_talking.webm``              VP9 + Opus 48 kHz in WebM
``two_faces.mp4``                       960x480 25 fps, 4 s, H.264 + AAC (first 4 s of speech):
                                        two copies of the astronaut's head on a grey studio
                                        backdrop, left at 100 % (face ~170 px wide), right at
                                        70 % (~120 px), drifting slowly in opposite directions
``no_audio.mp4``                        astronaut_talking.mp4's video stream only (stream copy)
``no_face.mp4``                         640x480 25 fps, 4 s, a slow pan over skimage's coffee
                                        photo (no face), with the first 4 s of speech
``one_frame.mp4``                       a single 640x480 H.264 frame (the talking clip at 0 s)
``short_1s.mp4``                        the first 1.0 s of the talking clip (25 frames + audio),
                                        shorter than the 1.5 s minimum window
``vfr.mp4``                             4 s of the talking camera, no audio: 10 fps for 0-2 s,
                                        30 fps for 2-4 s (``select`` + variable-rate muxing)
``big_8k.png`` / ``big_8k.mp4``         7680x4320: the top 512x288 of the photo (face included)
                                        scaled up 15x; the mp4 is 2 H.264 frames of it
``empty.mp4``                           0 bytes
``corrupt.mp4``                         64 KiB of random bytes (seed 0)
``truncated.mp4``                       the first 40 % of astronaut_talking.mp4's bytes (the moov
                                        index survives, most of the media data does not)
``video_named.jpg``                     astronaut_talking.mp4 with a .jpg name
``image_named.mp4``                     astronaut.png with an .mp4 name
``text_named.wav``                      a short text file with a .wav name
``unicode name – café ü.mp4``           astronaut_talking.mp4 under a name with spaces, an en
                                        dash and non-ASCII letters (NFC)
======================================  ==========================================================

:func:`talking_face_box` and :func:`two_faces_face_boxes` give where the face is in any frame
(ground truth for detector and tracker tests): the talking camera's box holds for the talking
clips, no_audio, short_1s, one_frame and vfr.

:func:`looped_video` builds long videos (60 s, 20 min) from a real clip by looping it with
``-stream_loop`` and stream copy; the benchmarks use it.

When neither espeak-ng nor espeak is installed, everything that carries speech raises
:class:`EspeakMissing` (the pytest fixtures turn it into a skip); the rest still works.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
import wave
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator

import ffmpeg
import numpy as np
from PIL import Image

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
try:
    from source.media.ffmpeg import ffmpeg_binary
except ModuleNotFoundError as exc:  # run as a script from a checkout: put the repo on the path
    if exc.name != "source":
        raise
    sys.path.insert(0, str(REPO_ROOT))
    from source.media.ffmpeg import ffmpeg_binary

GENERATOR_VERSION = 2
"""Bump when any generated file would change; cached folders are then remade."""

MEDIA_DIR = Path(os.environ.get("EMOTION_STUDIO_TEST_MEDIA", TESTS_DIR / ".media"))
"""The cache folder; the environment variable ``EMOTION_STUDIO_TEST_MEDIA`` moves it (CI caches)."""
VERSION_FILE = ".generator_version"

SPEECH_SENTENCES = (
    "I am so happy today.",
    "This is wonderful news.",
    "Thank you all for coming.",
)
SPEECH_TEXT = " ".join(SPEECH_SENTENCES)
NEGATIVE_TEXT = "I am not happy. This is the worst day of my life. I hate this terrible weather."
GAP_SENTENCES = ("My brother likes to play football.", "The children are reading books.")
GAP_SECOND_START = 8.5
"""words_gap.wav: GAP_SENTENCES[0] from 0 s, digital silence, GAP_SENTENCES[1] from this time."""
SPEECH_VOICE = "en-us"
SPEECH_WPM = 140
SPEECH_RATE = 16_000

FPS = 25
TALKING_SIZE = (640, 480)
TWO_FACES_SIZE = (960, 480)
BIG_SIZE = (7680, 4320)
CLIP_SECONDS = 4.0  # two_faces, no_face, vfr
SHORT_SECONDS = 1.0
SILENCE_SECONDS = 5.0

ASTRONAUT_HEAD_BOX = (150, 15, 305, 195)
"""The astronaut's head, hair to chin, in the 512x512 photo (x0, y0, x1, y1)."""
ASTRONAUT_FACE_BOX = (177, 66, 272, 161)
"""Her face as OpenCV's frontal Haar cascade finds it in the photo (x0, y0, x1, y1)."""

ESPEAK_MISSING = (
    "espeak-ng is not installed: speech test media cannot be made (apt install espeak-ng)"
)


class MediaFixtureError(RuntimeError):
    """A fixture could not be generated (an ffmpeg run failed, an encoder is missing)."""


class EspeakMissing(MediaFixtureError):
    """No espeak-ng (or espeak) on PATH, so nothing with speech can be made."""

    def __init__(self, message: str = ESPEAK_MISSING):
        super().__init__(message)


# --------------------------------------------------------------------------- tools


def espeak_binary() -> str | None:
    """espeak-ng on PATH, else the older espeak (same command line), else None."""
    return shutil.which("espeak-ng") or shutil.which("espeak")


@lru_cache(maxsize=None)
def _encoders(binary: str) -> frozenset[str]:
    out = subprocess.run(
        [binary, "-hide_banner", "-encoders"], capture_output=True, text=True
    ).stdout
    return frozenset(m.group(1) for m in re.finditer(r"^\s*[VAS][\w.]{5}\s+(\S+)", out, re.M))


def _encoder(*preferred: str) -> str:
    """The first of ``preferred`` that this ffmpeg can encode with."""
    have = _encoders(ffmpeg_binary())
    for name in preferred:
        if name in have:
            return name
    raise MediaFixtureError(f"{ffmpeg_binary()} has none of the encoders {', '.join(preferred)}")


@lru_cache(maxsize=None)
def _ffmpeg_version(binary: str) -> tuple[int, int]:
    out = subprocess.run(
        [binary, "-hide_banner", "-version"], capture_output=True, text=True
    ).stdout
    m = re.search(r"version n?(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (99, 0)  # git builds: assume recent


def _vfr_args() -> dict:
    """Keep input timestamps as they are (``-fps_mode`` since ffmpeg 5.1, ``-vsync`` before)."""
    return {"fps_mode": "vfr"} if _ffmpeg_version(ffmpeg_binary()) >= (5, 1) else {"vsync": "vfr"}


def _compile(stream) -> list[str]:
    stream = stream.global_args("-hide_banner", "-loglevel", "error").overwrite_output()
    return stream.compile(cmd=ffmpeg_binary())


def _run(stream, frames: Iterable[np.ndarray] | None = None) -> None:
    """Run an ffmpeg-python graph; ``frames`` (HxWx3 uint8 RGB) are fed to a ``pipe:`` input."""
    cmd = _compile(stream)
    if frames is None:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
        rc, err = proc.returncode, proc.stderr
    else:
        with tempfile.TemporaryFile() as errfile:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errfile
            )
            try:
                for frame in frames:
                    proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
            except BrokenPipeError:
                pass  # ffmpeg stopped early; its exit status and stderr say why
            finally:
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.close()
                rc = proc.wait()
            errfile.seek(0)
            err = errfile.read()
    if rc != 0:
        raise MediaFixtureError(
            f"ffmpeg failed (exit {rc}): {' '.join(cmd)}\n{err.decode(errors='replace')[-3000:]}"
        )


def _raw_video(size: tuple[int, int], fps: float):
    return ffmpeg.input(
        "pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{size[0]}x{size[1]}", framerate=fps
    )


def _h264(gop: int = FPS) -> dict:
    return {
        "c:v": _encoder("libx264"),
        "preset": "veryfast",
        "crf": 23,
        "pix_fmt": "yuv420p",
        "g": gop,
    }


def _aac(rate: int = 48_000, channels: int = 2) -> dict:
    return {"c:a": _encoder("aac"), "b:a": "128k", "ar": rate, "ac": channels}


MP4_FLAGS = {"movflags": "+faststart"}
WAV_FLAGS = {"map_metadata": -1, "fflags": "+bitexact", "flags:a": "+bitexact"}

# --------------------------------------------------------------------------- pictures


@lru_cache(maxsize=1)
def _astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut()).convert("RGB")


@lru_cache(maxsize=1)
def _coffee() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.coffee()).convert("RGB")


def _ease(u: float) -> float:
    """0 -> 1 -> 0 over one period, smooth at both ends (a raised cosine)."""
    return 0.5 - 0.5 * math.cos(2 * math.pi * u)


def talking_crop(t: float) -> tuple[float, float, float, float]:
    """The camera at time ``t``: the box of the photo that fills the 640x480 frame.

    Zooms from 1.08x (nearly the whole width) to 1.38x on the face and back over 8 s, with a
    small sideways drift (5 s period), so every frame differs from the last; the head box is
    always inside.
    """
    photo_w, photo_h = _astronaut().size
    aspect = TALKING_SIZE[0] / TALKING_SIZE[1]
    s = _ease(t / 8.0)
    zoom = 1.08 + 0.3 * s
    cw = photo_w / zoom
    ch = cw / aspect
    cx = 256 + (228 - 256) * s + 10 * math.sin(2 * math.pi * t / 5.0)
    cy = 192 + (105 - 192) * s
    cx = min(max(cx, cw / 2), photo_w - cw / 2)
    cy = min(max(cy, ch / 2), photo_h - ch / 2)
    box = (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)
    hx0, hy0, hx1, hy1 = ASTRONAUT_HEAD_BOX
    assert box[0] <= hx0 and box[1] <= hy0 and box[2] >= hx1 and box[3] >= hy1, (t, box)
    return box


def talking_frame(t: float, size: tuple[int, int] = TALKING_SIZE) -> np.ndarray:
    box = talking_crop(t)
    return np.asarray(
        _astronaut().transform(size, Image.Transform.EXTENT, box, Image.Resampling.BICUBIC)
    )


def _talking_frames(n: int, fps: float = FPS) -> Iterator[np.ndarray]:
    for i in range(n):
        yield talking_frame(i / fps)


def _backdrop(size: tuple[int, int]) -> Image.Image:
    """A plain grey studio backdrop, lighter at the top."""
    w, h = size
    column = np.linspace(150, 80, h)[:, None, None] * np.array([1.0, 1.02, 1.08])
    return Image.fromarray(
        np.broadcast_to(column, (h, w, 3)).clip(0, 255).astype(np.uint8)
    ).convert("RGBA")


TWO_FACES_TILE_BOX = (120, 0, 330, 240)
"""The astronaut's head and neck ring, the tile pasted twice in two_faces.mp4."""
TWO_FACES_SCALES = (430 / 240, 0.7 * 430 / 240)
"""Big tile 430 px tall (face about 170 px wide), small one 70 % of it (face about 120 px): both
large enough for MediaPipe's short-range face detector in a 960x480 frame."""
TWO_FACES_PATHS = (((45.0, 25.0), (80.0, 40.0)), ((650.0, 150.0), (610.0, 110.0)))
"""(start, end) top-left corners of the big (left) and small (right) tile over CLIP_SECONDS."""


def _two_faces_layout(t: float) -> list[tuple[float, float, float]]:
    """(scale, left, top) of the big and the small tile at time ``t``."""
    u = 0.5 - 0.5 * math.cos(math.pi * min(max(t / CLIP_SECONDS, 0.0), 1.0))  # 0 -> 1, eased
    return [
        (scale, x0 + (x1 - x0) * u, y0 + (y1 - y0) * u)
        for scale, ((x0, y0), (x1, y1)) in zip(TWO_FACES_SCALES, TWO_FACES_PATHS)
    ]


def _two_faces_frames(n: int, fps: float = FPS) -> Iterator[np.ndarray]:
    tile = _astronaut().crop(TWO_FACES_TILE_BOX).convert("RGBA")
    backdrop = _backdrop(TWO_FACES_SIZE)
    for i in range(n):
        frame = backdrop
        for scale, ox, oy in _two_faces_layout(i / fps):
            layer = tile.transform(
                TWO_FACES_SIZE,
                Image.Transform.AFFINE,
                (1 / scale, 0, -ox / scale, 0, 1 / scale, -oy / scale),
                Image.Resampling.BICUBIC,
            )
            frame = Image.alpha_composite(frame, layer)
        yield np.asarray(frame.convert("RGB"))


Box = tuple[float, float, float, float]


def talking_face_box(t: float) -> Box:
    """Where the face (ASTRONAUT_FACE_BOX) is in the 640x480 talking frame at time ``t``."""
    x0, y0, x1, y1 = talking_crop(t)
    sx, sy = TALKING_SIZE[0] / (x1 - x0), TALKING_SIZE[1] / (y1 - y0)
    fx0, fy0, fx1, fy1 = ASTRONAUT_FACE_BOX
    return ((fx0 - x0) * sx, (fy0 - y0) * sy, (fx1 - x0) * sx, (fy1 - y0) * sy)


def two_faces_face_boxes(t: float) -> list[Box]:
    """Where the big (left) and the small (right) face are in two_faces.mp4 at time ``t``."""
    fx0, fy0, fx1, fy1 = ASTRONAUT_FACE_BOX
    tx, ty = TWO_FACES_TILE_BOX[:2]
    return [
        (ox + (fx0 - tx) * k, oy + (fy0 - ty) * k, ox + (fx1 - tx) * k, oy + (fy1 - ty) * k)
        for k, ox, oy in _two_faces_layout(t)
    ]


def _no_face_frames(n: int, fps: float = FPS) -> Iterator[np.ndarray]:
    """A slow pan across the coffee photo (600x400) with a 440x330 window."""
    coffee = _coffee()
    for i in range(n):
        u = 0.5 - 0.5 * math.cos(math.pi * min(i / fps / CLIP_SECONDS, 1.0))
        x, y = 20 + 120 * u, 30 + 20 * u
        box = (x, y, x + 440, y + 330)
        yield np.asarray(
            coffee.transform(TALKING_SIZE, Image.Transform.EXTENT, box, Image.Resampling.BICUBIC)
        )


# --------------------------------------------------------------------------- generators
# Each writes exactly ``dst`` (a temporary name with the final suffix); inputs come as paths.


def make_astronaut_png(dst: Path) -> None:
    _astronaut().save(dst, format="PNG")


def make_astronaut_jpg(dst: Path) -> None:
    _astronaut().save(dst, format="JPEG", quality=90)


def speak(text: str, dst: Path) -> None:
    """espeak-ng (voice ``en-us``, 140 wpm) reading ``text``, as a 16 kHz mono s16 WAV ``dst``."""
    espeak = espeak_binary()
    if espeak is None:
        raise EspeakMissing()
    raw = dst.with_name(dst.stem + ".espeak.wav")
    try:
        subprocess.run(
            [espeak, "-v", SPEECH_VOICE, "-s", str(SPEECH_WPM), "-w", str(raw), text],
            check=True,
            capture_output=True,
        )
        _run(
            ffmpeg.input(str(raw)).output(
                str(dst), **{"c:a": "pcm_s16le", "ar": SPEECH_RATE, "ac": 1}, **WAV_FLAGS
            )
        )
    finally:
        raw.unlink(missing_ok=True)


def make_speech_wav(dst: Path) -> None:
    speak(SPEECH_TEXT, dst)


def _wav_samples(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def make_words_gap_wav(dst: Path) -> None:
    first_part, second_part = (dst.with_name(f"{dst.stem}.part{i}.wav") for i in (1, 2))
    try:
        speak(GAP_SENTENCES[0], first_part)
        speak(GAP_SENTENCES[1], second_part)
        first, second = _wav_samples(first_part), _wav_samples(second_part)
    finally:
        first_part.unlink(missing_ok=True)
        second_part.unlink(missing_ok=True)
    start = round(GAP_SECOND_START * SPEECH_RATE)
    assert first.size < start, "the first sentence must end before the second starts"
    samples = np.zeros(start + second.size + SPEECH_RATE, dtype="<i2")  # 1 s of silence after
    samples[: first.size] = first
    samples[start : start + second.size] = second
    with wave.open(str(dst), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SPEECH_RATE)
        out.writeframes(samples.tobytes())


def make_negative_speech_wav(dst: Path) -> None:
    speak(NEGATIVE_TEXT, dst)


def make_speech_44k_mp3(dst: Path, speech: Path) -> None:
    _run(
        ffmpeg.input(str(speech)).output(
            str(dst), **{"c:a": _encoder("libmp3lame"), "b:a": "128k", "ar": 44_100, "ac": 2}
        )
    )


def make_speech_8k_wav(dst: Path, speech: Path) -> None:
    _run(
        ffmpeg.input(str(speech)).output(
            str(dst), **{"c:a": "pcm_s16le", "ar": 8_000, "ac": 1}, **WAV_FLAGS
        )
    )


def make_speech_m4a(dst: Path, speech: Path) -> None:
    _run(ffmpeg.input(str(speech)).output(str(dst), **_aac(), **MP4_FLAGS))


def make_speech_ogg(dst: Path, speech: Path) -> None:
    codec = _encoder("libvorbis", "vorbis")
    extra = {"strict": "experimental"} if codec == "vorbis" else {}
    _run(
        ffmpeg.input(str(speech)).output(
            str(dst), **{"c:a": codec, "q:a": 4, "ar": 44_100, "ac": 1}, **extra
        )
    )


def make_speech_flac(dst: Path, speech: Path) -> None:
    _run(ffmpeg.input(str(speech)).output(str(dst), **{"c:a": "flac", "sample_fmt": "s16"}))


def make_silence_wav(dst: Path) -> None:
    with wave.open(str(dst), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SPEECH_RATE)
        out.writeframes(bytes(2 * int(SILENCE_SECONDS * SPEECH_RATE)))


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def make_astronaut_talking_mp4(dst: Path, speech: Path) -> None:
    n = round(wav_seconds(speech) * FPS)
    video = _raw_video(TALKING_SIZE, FPS)
    audio = ffmpeg.input(str(speech))
    _run(
        ffmpeg.output(video, audio, str(dst), **_h264(), **_aac(), **MP4_FLAGS), _talking_frames(n)
    )


def _copy_streams(dst: Path, src: Path, **extra) -> None:
    _run(ffmpeg.input(str(src)).output(str(dst), c="copy", **extra))


def make_astronaut_talking_mov(dst: Path, talking: Path) -> None:
    _copy_streams(dst, talking, **MP4_FLAGS)


def make_astronaut_talking_mkv(dst: Path, talking: Path) -> None:
    _copy_streams(dst, talking)


def make_astronaut_talking_flv(dst: Path, talking: Path) -> None:
    _copy_streams(dst, talking)


def make_astronaut_talking_avi(dst: Path, talking: Path) -> None:
    codecs = {
        "c:v": "mpeg4",
        "vtag": "XVID",
        "q:v": 4,
        "c:a": _encoder("libmp3lame"),
        "b:a": "128k",
        "ar": 44_100,
    }
    # without this the muxer shifts everything by the MP3 encoder delay and frame 1 loses its slot
    codecs["avoid_negative_ts"] = "disabled"
    _run(ffmpeg.input(str(talking)).output(str(dst), **codecs))


def make_astronaut_talking_webm(dst: Path, talking: Path) -> None:
    vp9 = {
        "c:v": _encoder("libvpx-vp9"),
        "crf": 34,
        "b:v": 0,
        "deadline": "realtime",
        "cpu-used": 8,
        "row-mt": 1,
    }
    _run(
        ffmpeg.input(str(talking)).output(
            str(dst), **vp9, **{"c:a": _encoder("libopus"), "b:a": "64k"}
        )
    )


def make_two_faces_mp4(dst: Path, speech: Path) -> None:
    n = round(CLIP_SECONDS * FPS)
    video = _raw_video(TWO_FACES_SIZE, FPS)
    audio = ffmpeg.input(str(speech), t=CLIP_SECONDS)
    _run(
        ffmpeg.output(video, audio, str(dst), **_h264(), **_aac(), **MP4_FLAGS),
        _two_faces_frames(n),
    )


def make_no_audio_mp4(dst: Path, talking: Path) -> None:
    _run(ffmpeg.input(str(talking)).output(str(dst), an=None, **{"c:v": "copy"}, **MP4_FLAGS))


def make_no_face_mp4(dst: Path, speech: Path) -> None:
    n = round(CLIP_SECONDS * FPS)
    video = _raw_video(TALKING_SIZE, FPS)
    audio = ffmpeg.input(str(speech), t=CLIP_SECONDS)
    _run(
        ffmpeg.output(video, audio, str(dst), **_h264(), **_aac(), **MP4_FLAGS), _no_face_frames(n)
    )


def make_one_frame_mp4(dst: Path) -> None:
    _run(
        _raw_video(TALKING_SIZE, FPS).output(str(dst), vframes=1, **_h264(), **MP4_FLAGS),
        _talking_frames(1),
    )


def make_short_1s_mp4(dst: Path, speech: Path) -> None:
    n = round(SHORT_SECONDS * FPS)
    video = _raw_video(TALKING_SIZE, FPS)
    audio = ffmpeg.input(str(speech), t=SHORT_SECONDS)
    _run(
        ffmpeg.output(video, audio, str(dst), **_h264(), **_aac(), **MP4_FLAGS), _talking_frames(n)
    )


VFR_SPLIT = 2.0
"""vfr.mp4 runs at 10 fps before this time and 30 fps after it."""


def make_vfr_mp4(dst: Path) -> None:
    fps = 30
    n = round(CLIP_SECONDS * fps)
    video = _raw_video(TALKING_SIZE, fps).filter("select", f"gte(t,{VFR_SPLIT})+not(mod(n,3))")
    _run(
        video.output(str(dst), **_h264(gop=fps), **_vfr_args(), **MP4_FLAGS),
        _talking_frames(n, fps),
    )


def make_big_8k_png(dst: Path) -> None:
    photo = _astronaut()
    top = (0, 0, photo.width, photo.width * BIG_SIZE[1] / BIG_SIZE[0])
    photo.transform(BIG_SIZE, Image.Transform.EXTENT, top, Image.Resampling.BICUBIC).save(
        dst, format="PNG", compress_level=1
    )


def make_big_8k_mp4(dst: Path, big_png: Path) -> None:
    still = ffmpeg.input(str(big_png), loop=1, framerate=FPS)
    _run(still.output(str(dst), vframes=2, **_h264(), **MP4_FLAGS))


def make_empty_mp4(dst: Path) -> None:
    dst.write_bytes(b"")


def make_corrupt_mp4(dst: Path) -> None:
    dst.write_bytes(random.Random(0).randbytes(64 * 1024))


def make_truncated_mp4(dst: Path, talking: Path) -> None:
    data = talking.read_bytes()
    dst.write_bytes(data[: int(len(data) * 0.4)])


def _copy(dst: Path, src: Path) -> None:
    shutil.copyfile(src, dst)


def make_text_named_wav(dst: Path) -> None:
    dst.write_text(
        "This is a plain text file, not a WAV recording.\nIt has a .wav name on purpose.\n"
    )


UNICODE_NAME = unicodedata.normalize("NFC", "unicode name – café ü.mp4")

# name -> (generator, names of the inputs it is given, in order)
GENERATORS: dict[str, tuple[Callable[..., None], tuple[str, ...]]] = {
    "astronaut.png": (make_astronaut_png, ()),
    "astronaut.jpg": (make_astronaut_jpg, ()),
    "speech.wav": (make_speech_wav, ()),
    "speech_44k.mp3": (make_speech_44k_mp3, ("speech.wav",)),
    "speech_8k.wav": (make_speech_8k_wav, ("speech.wav",)),
    "speech.m4a": (make_speech_m4a, ("speech.wav",)),
    "speech.ogg": (make_speech_ogg, ("speech.wav",)),
    "speech.flac": (make_speech_flac, ("speech.wav",)),
    "silence.wav": (make_silence_wav, ()),
    "words_gap.wav": (make_words_gap_wav, ()),
    "negative_speech.wav": (make_negative_speech_wav, ()),
    "astronaut_talking.mp4": (make_astronaut_talking_mp4, ("speech.wav",)),
    "astronaut_talking.mov": (make_astronaut_talking_mov, ("astronaut_talking.mp4",)),
    "astronaut_talking.mkv": (make_astronaut_talking_mkv, ("astronaut_talking.mp4",)),
    "astronaut_talking.avi": (make_astronaut_talking_avi, ("astronaut_talking.mp4",)),
    "astronaut_talking.webm": (make_astronaut_talking_webm, ("astronaut_talking.mp4",)),
    "astronaut_talking.flv": (make_astronaut_talking_flv, ("astronaut_talking.mp4",)),
    "two_faces.mp4": (make_two_faces_mp4, ("speech.wav",)),
    "no_audio.mp4": (make_no_audio_mp4, ("astronaut_talking.mp4",)),
    "no_face.mp4": (make_no_face_mp4, ("speech.wav",)),
    "one_frame.mp4": (make_one_frame_mp4, ()),
    "short_1s.mp4": (make_short_1s_mp4, ("speech.wav",)),
    "vfr.mp4": (make_vfr_mp4, ()),
    "big_8k.png": (make_big_8k_png, ()),
    "big_8k.mp4": (make_big_8k_mp4, ("big_8k.png",)),
    "empty.mp4": (make_empty_mp4, ()),
    "corrupt.mp4": (make_corrupt_mp4, ()),
    "truncated.mp4": (make_truncated_mp4, ("astronaut_talking.mp4",)),
    "video_named.jpg": (_copy, ("astronaut_talking.mp4",)),
    "image_named.mp4": (_copy, ("astronaut.png",)),
    "text_named.wav": (make_text_named_wav, ()),
    UNICODE_NAME: (_copy, ("astronaut_talking.mp4",)),
}
MEDIA_NAMES = tuple(GENERATORS)
SPOKEN = ("speech.wav", "words_gap.wav", "negative_speech.wav")
"""The files espeak-ng speaks; everything else with speech is made from one of them."""


def needs_speech(name: str) -> bool:
    """Whether making ``name`` needs espeak (it is spoken, or made from a spoken file)."""
    _, inputs = GENERATORS[name]
    return name in SPOKEN or any(needs_speech(i) for i in inputs)


# --------------------------------------------------------------------------- cache

_lock_depth: dict[Path, int] = {}
_checked_dirs: set[Path] = set()


@contextlib.contextmanager
def _folder_lock(outdir: Path) -> Iterator[None]:
    """An exclusive, re-entrant (within this process) lock on ``outdir`` (POSIX; none elsewhere)."""
    key = outdir.resolve()
    if _lock_depth.get(key):
        _lock_depth[key] += 1
        try:
            yield
        finally:
            _lock_depth[key] -= 1
        return
    try:
        import fcntl
    except ImportError:  # Windows: no cross-process lock, the atomic renames still hold
        fcntl = None
    with open(outdir / ".lock", "a") as handle:
        if fcntl:
            fcntl.flock(handle, fcntl.LOCK_EX)
        _lock_depth[key] = 1
        try:
            yield
        finally:
            _lock_depth[key] = 0
            if fcntl:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _check_version(outdir: Path) -> None:
    """Empty ``outdir`` of generated files if they came from another GENERATOR_VERSION."""
    stamp = outdir / VERSION_FILE
    current = stamp.read_text().strip() if stamp.exists() else None
    if current != str(GENERATOR_VERSION):
        for name in MEDIA_NAMES:
            (outdir / name).unlink(missing_ok=True)
        for leftover in outdir.glob(".*.tmp*"):
            leftover.unlink(missing_ok=True)
        stamp.write_text(f"{GENERATOR_VERSION}\n")
    _checked_dirs.add(outdir.resolve())


def media_path(name: str, outdir: Path | str | None = None, *, force: bool = False) -> Path:
    """The path of fixture ``name`` in ``outdir`` (default tests/.media), made first if missing.

    Raises :class:`EspeakMissing` for files with speech when espeak-ng is absent, and
    :class:`MediaFixtureError` when ffmpeg fails.
    """
    if name not in GENERATORS:
        raise KeyError(f"unknown test media {name!r}; known: {', '.join(MEDIA_NAMES)}")
    outdir = Path(outdir) if outdir is not None else MEDIA_DIR
    dst = outdir / name
    if not force and outdir.resolve() in _checked_dirs and dst.exists():
        return dst  # fast path: no lock once this process has checked the folder
    outdir.mkdir(parents=True, exist_ok=True)
    with _folder_lock(outdir):
        if outdir.resolve() not in _checked_dirs:
            _check_version(outdir)
        if dst.exists() and not force:
            return dst
        make, inputs = GENERATORS[name]
        input_paths = [media_path(i, outdir) for i in inputs]
        tmp = outdir / f".{Path(name).stem}.{os.getpid()}.tmp{Path(name).suffix}"
        try:
            make(tmp, *input_paths)
            os.replace(tmp, dst)
        finally:
            tmp.unlink(missing_ok=True)
    return dst


def generate_all(outdir: Path | str | None = None, *, force: bool = False) -> dict[str, Path]:
    """Make every fixture (skipping those with speech when espeak is absent); name -> path."""
    made: dict[str, Path] = {}
    for name in MEDIA_NAMES:  # inputs come before what is made from them, so force remakes in order
        if needs_speech(name) and espeak_binary() is None:
            continue
        made[name] = media_path(name, outdir, force=force)
    return made


def looped_video(src: Path, seconds: float, dst: Path) -> Path:
    """A ``seconds``-long video made by looping ``src`` (stream copy: fast, no re-encoding).

    ``dst`` is kept when it is already there, newer than ``src`` and about as long as asked.
    """
    src, dst = Path(src), Path(dst)
    if dst.exists() and dst.stat().st_mtime >= src.stat().st_mtime and dst.stat().st_size:
        import av

        with contextlib.suppress(av.FFmpegError), av.open(str(dst)) as container:
            if container.duration and abs(container.duration / 1e6 - seconds) < 0.5:
                return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.stem}.{os.getpid()}.tmp{dst.suffix}")
    extra = MP4_FLAGS if dst.suffix.lower() in {".mp4", ".mov", ".m4v"} else {}
    try:
        _run(
            ffmpeg.input(str(src), stream_loop=-1).output(
                str(tmp), t=seconds, c="copy", map=0, **extra
            )
        )
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "outdir", nargs="?", default=str(MEDIA_DIR), help="where to write (default tests/.media)"
    )
    parser.add_argument("--force", action="store_true", help="remake every file even if cached")
    args = parser.parse_args(argv)
    if espeak_binary() is None:
        print(f"warning: {ESPEAK_MISSING}; files with speech are skipped", file=sys.stderr)
    start = time.perf_counter()
    made = generate_all(args.outdir, force=args.force)
    for path in made.values():
        print(path)
    total = sum(p.stat().st_size for p in made.values())
    seconds = time.perf_counter() - start
    print(
        f"{len(made)} files, {total / 1e6:.1f} MB in {args.outdir} ({seconds:.1f} s, "
        f"ffmpeg: {ffmpeg_binary()})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
