"""Decode pictures and sound as streams, in-process with PyAV.

PyAV gives each decoded frame its exact presentation time, so variable-frame-rate video is
sampled at true times, and nothing is ever held beyond the frame being converted. Both
iterators measure time from the container's start (the first packet of any stream is 0 s),
so pictures and sound line up even when one stream starts late.
"""

import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps

from ..errors import MediaError
from ..options import SAMPLE_RATE


@dataclass
class Frame:
    """One sampled picture: the time it was sampled for and the frame shown at that time."""

    index: int  # running number of the sampled frame
    time_s: float  # sampling time (k / fps)
    source_time_s: float  # presentation time of the decoded frame shown then
    image: np.ndarray  # H x W x 3 RGB uint8, scaled to the analysis size
    scale: float = 1.0  # analysis size / original size
    faces: list = field(default_factory=list)  # filled by the face stage


@dataclass
class DecodeReport:
    """What went wrong while streaming, for a documented partial result instead of a crash."""

    warnings: list[str] = field(default_factory=list)
    video_end_s: float = 0.0
    audio_end_s: float = 0.0


def _analysis_size(width: int, height: int, max_side: int) -> tuple[int, int, float]:
    scale = min(1.0, max_side / max(width, height))
    # even sizes keep swscale on its fast paths
    return max(2, round(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2), scale


def _container_start(container) -> float:
    return container.start_time / av.time_base if container.start_time is not None else 0.0


def read_image(path, max_side: int) -> Frame:
    """A still photo as a single frame at time 0 (EXIF rotation applied). A picture over the
    studio's pixel limit is refused from its header; a large JPEG is decoded straight at a
    fraction of its size (Pillow's draft mode) before it is scaled to ``max_side``."""
    from .probe import MAX_PIXELS, check_pixels

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                original = image.size
                check_pixels(Path(path).name, *original)
                _, _, scale = _analysis_size(*original, max_side)
                if scale < 1.0:  # JPEG only; other formats decode whole
                    image.draft("RGB", (math.ceil(original[0] * scale), math.ceil(original[1] * scale)))
                drafted = image.size
                image = ImageOps.exif_transpose(image).convert("RGB")
                turned = image.size != drafted  # EXIF rotated it by 90 degrees
                width, height, scale = _analysis_size(*(original[::-1] if turned else original), max_side)
                if image.size != (width, height):
                    image = image.resize((width, height), Image.Resampling.BILINEAR)
                pixels = np.asarray(image)
    except Image.DecompressionBombError as error:
        raise MediaError(f"{Path(path).name} is larger than {MAX_PIXELS / 1e6:.0f} Mpx, the largest "
                         "picture the studio analyses. Scale it down first.") from error
    except OSError as error:
        raise MediaError(f"{path} could not be decoded as an image ({error}).") from error
    return Frame(index=0, time_s=0.0, source_time_s=0.0, image=pixels, scale=scale)


def iter_frames(path, fps: float, max_side: int, report: DecodeReport) -> Iterator[Frame]:
    """Frames sampled at ``fps``: for each time k/fps, the frame on screen at that time.

    Only sampled frames are converted to RGB (and scaled so the longer side is at most
    ``max_side``), so decoding an 8K or a 2-hour file keeps memory flat.
    """
    with av.open(str(path)) as container:
        stream = next(s for s in container.streams.video
                      if not s.disposition & av.stream.Disposition.attached_pic)
        stream.thread_type = "AUTO"
        origin = _container_start(container)
        width, height, scale = _analysis_size(
            stream.codec_context.width, stream.codec_context.height, max_side)
        step = 1.0 / fps
        sample_index = 0
        shown = None  # (time, av.VideoFrame) of the frame currently on screen

        def emit(until: float) -> Iterator[Frame]:
            nonlocal sample_index
            shown_time, shown_frame = shown
            image = None
            while sample_index * step < until - 1e-6:
                if image is None:  # convert once even if shown at several sampling times
                    image = shown_frame.to_ndarray(format="rgb24", width=width, height=height)
                yield Frame(sample_index, round(sample_index * step, 6), round(shown_time, 6),
                            image, scale)
                sample_index += 1

        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                time = frame.time - origin
                if shown is not None and time > shown[0]:
                    yield from emit(until=time)
                if shown is None or time >= shown[0]:
                    shown = (time, frame)
                    report.video_end_s = max(report.video_end_s, time + _frame_duration(frame, stream))
        except av.error.FFmpegError as error:
            report.warnings.append(
                f"video decoding stopped at {report.video_end_s:.1f} s: the file is damaged "
                f"or truncated ({error}); the result covers the part before it."
            )
        if shown is not None:
            yield from emit(until=report.video_end_s)


def _frame_duration(frame, stream) -> float:
    if frame.duration and frame.time_base:
        return float(frame.duration * frame.time_base)
    rate = stream.average_rate or stream.guessed_rate
    return 1.0 / float(rate) if rate else 0.04


def iter_audio(path, report: DecodeReport) -> Iterator[np.ndarray]:
    """The first audio stream as 16 kHz mono float32 chunks, starting at container time 0.

    Silence is inserted where the audio stream starts late, and audio before time 0 is
    dropped, so sample ``n`` is always at ``n / 16000`` seconds.
    """
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        origin = _container_start(container)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        produced = 0  # samples yielded so far
        skip = 0  # samples still to drop because the stream starts before time 0
        started = False

        def convert(frames) -> Iterator[np.ndarray]:
            nonlocal produced, skip
            for out in frames:
                samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                if skip:
                    cut = min(skip, samples.size)
                    samples, skip = samples[cut:], skip - cut
                if samples.size:
                    produced += samples.size
                    yield samples

        try:
            for frame in container.decode(stream):
                if not started:
                    started = True
                    offset = round(((frame.time or 0.0) - origin) * SAMPLE_RATE)
                    if offset > 0:
                        produced += offset
                        yield np.zeros(offset, dtype=np.float32)
                    skip = max(0, -offset)
                yield from convert(resampler.resample(frame))
                report.audio_end_s = produced / SAMPLE_RATE
            yield from convert(resampler.resample(None))
        except av.error.FFmpegError as error:
            report.warnings.append(
                f"audio decoding stopped at {produced / SAMPLE_RATE:.1f} s: the file is damaged "
                f"or truncated ({error}); the result covers the part before it."
            )
        report.audio_end_s = produced / SAMPLE_RATE


def read_audio(path, max_seconds: float | None = None) -> np.ndarray:
    """A whole (short) audio track as 16 kHz mono float32, for dataset clips.

    Raises ``MediaError`` when the file has no decodable audio. ``max_seconds`` stops reading
    early, so a mislabelled hour-long file cannot fill memory.
    """
    report = DecodeReport()
    chunks, total = [], 0
    limit = None if max_seconds is None else round(max_seconds * SAMPLE_RATE)
    try:
        for chunk in iter_audio(path, report):
            chunks.append(chunk)
            total += chunk.size
            if limit is not None and total >= limit:
                break
    except (av.error.FFmpegError, IndexError) as error:  # IndexError: no audio stream
        raise MediaError(f"{path}: no audio could be decoded ({error or 'no audio track'}).") from error
    if not total:
        raise MediaError(f"{path}: the audio track is empty.")
    audio = np.concatenate(chunks)
    return audio if limit is None else audio[:limit]


def audio_between(path, start_s: float, end_s: float) -> np.ndarray:
    """The audio from ``start_s`` to ``end_s`` as 16 kHz mono float32, decoding no further."""
    first, last = round(start_s * SAMPLE_RATE), round(end_s * SAMPLE_RATE)
    kept, position = [], 0
    for chunk in iter_audio(path, DecodeReport()):
        if position + chunk.size > first:
            kept.append(chunk[max(0, first - position):max(0, last - position)])
        position += chunk.size
        if position >= last:
            break
    return np.concatenate(kept) if kept else np.zeros(0, dtype=np.float32)


def audio_envelope(path, duration_s: float, points: int = 4000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, lows, highs): the lowest and highest sample of each of about ``points`` equal spans
    of the track, streamed so that an hour-long file keeps memory flat."""
    span = max(1, round(duration_s * SAMPLE_RATE / points))
    lows, highs, carry = [], [], np.zeros(0, dtype=np.float32)
    for chunk in iter_audio(path, DecodeReport()):
        carry = np.concatenate([carry, chunk])
        whole = carry.size // span * span
        if whole:
            blocks = carry[:whole].reshape(-1, span)
            lows.append(blocks.min(axis=1))
            highs.append(blocks.max(axis=1))
            carry = carry[whole:]
    if carry.size:
        lows.append(carry.min(keepdims=True))
        highs.append(carry.max(keepdims=True))
    if not lows:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    low, high = np.concatenate(lows), np.concatenate(highs)
    return np.arange(low.size) * span / SAMPLE_RATE, low, high
