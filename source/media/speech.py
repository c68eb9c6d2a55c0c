"""Where a clip holds speech: Silero VAD, and the window's loudness.

Speech is found by Silero VAD (MIT license; its ONNX model ships inside the faster-whisper wheel,
so nothing is downloaded), not by an energy threshold: quiet but clear speech counts as speech, a
loud tone, hum or music does not. The same ``speech_span`` trims clips for training and windows
for prediction, so both see speech framed the same way.
"""

from functools import lru_cache

import numpy as np

from ..options import SAMPLE_RATE

SILENCE_DB = -120.0  # what digital silence reports instead of minus infinity
VAD_THRESHOLD = 0.5  # Silero's speech probability above which a 32 ms frame is speech
MIN_SPEECH_S = 0.25  # shorter bursts (a click, a cough) are not speech
SPAN_PAD_S = 0.1  # kept either side of the speech when a clip is trimmed to it


def _db(power: np.ndarray | float) -> np.ndarray | float:
    return 10.0 * np.log10(np.maximum(power, 10 ** (SILENCE_DB / 10)))


@lru_cache(maxsize=1)
def _vad_options():
    from faster_whisper.vad import VadOptions

    return VadOptions(threshold=VAD_THRESHOLD, min_speech_duration_ms=round(MIN_SPEECH_S * 1000),
                      min_silence_duration_ms=300, speech_pad_ms=30)


def speech_segments(audio: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) sample indices of the speech in 16 kHz mono ``audio``, by Silero VAD."""
    from faster_whisper.vad import get_speech_timestamps

    if audio.size < SAMPLE_RATE * MIN_SPEECH_S:
        return []
    found = get_speech_timestamps(np.ascontiguousarray(audio, dtype=np.float32), _vad_options(),
                                  sampling_rate=SAMPLE_RATE)
    return [(segment["start"], segment["end"]) for segment in found]


def speech_bounds(audio: np.ndarray, segments: list[tuple[int, int]] | None = None) -> tuple[int, int] | None:
    """(start, end) samples from just before the first speech of ``audio`` to just after its last;
    None without speech."""
    segments = speech_segments(audio) if segments is None else segments
    if not segments:
        return None
    pad = round(SPAN_PAD_S * SAMPLE_RATE)
    return max(0, segments[0][0] - pad), min(audio.size, segments[-1][1] + pad)


def speech_span(audio: np.ndarray, segments: list[tuple[int, int]] | None = None) -> np.ndarray | None:
    """``audio`` from just before its first speech to just after its last; None without speech."""
    bounds = speech_bounds(audio, segments)
    return None if bounds is None else audio[bounds[0]:bounds[1]]


def speech_activity(audio: np.ndarray, segments: list[tuple[int, int]] | None = None) -> dict[str, float]:
    """``rms_db``: the window's loudness in dBFS; ``speech_ratio``: the share of it that Silero
    VAD calls speech."""
    if audio.size == 0:
        return {"rms_db": SILENCE_DB, "speech_ratio": 0.0}
    segments = speech_segments(audio) if segments is None else segments
    spoken = sum(end - start for start, end in segments)
    return {
        "rms_db": round(float(_db(np.mean(audio.astype(np.float64) ** 2))), 2),
        "speech_ratio": round(min(1.0, spoken / audio.size), 3),
    }
