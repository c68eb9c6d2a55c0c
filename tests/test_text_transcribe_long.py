"""Transcripts of long real speech: looped talking heads from ../shared/data/av_samples.

A clip looped for minutes is the hardest case for Whisper's guards (its text truly repeats, which
is what a hallucination loop looks like): before speech was decoded in VAD-gated packs, a 30-s
window of it came out empty or garbled and sentences were doubled at piece joins.
"""

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from source.media.speech import speech_segments
from source.media.decode import DecodeReport, iter_audio
from source.media.ffmpeg import ffmpeg_binary
from source.options import SAMPLE_RATE
from source.text.transcribe import TranscribeOptions, load_transcriber

HEADS = Path(__file__).resolve().parents[2] / "shared" / "data" / "av_samples" / "talking_heads"
pytestmark = [pytest.mark.slow, pytest.mark.shared_data("av_samples/talking_heads")]
LOOPED, SECONDS, SILENCE_S = "RD_Radio2_000.mp4", 90, 15


@pytest.fixture(scope="module")
def tiny():
    return load_transcriber(TranscribeOptions(chunk_s=40))  # several piece joins in 90 s


@pytest.fixture(scope="module")
def looped(tmp_path_factory):
    """An 8-s talking head looped for 90 s, then 15 s of digital silence, then 15 s more of it."""
    clip = tmp_path_factory.mktemp("long") / "looped.mp4"
    subprocess.run([ffmpeg_binary(), "-loglevel", "error", "-stream_loop", "-1", "-i",
                    str(HEADS / LOOPED), "-t", str(SECONDS), "-vn", "-c:a", "copy", str(clip)], check=True)
    speech = np.concatenate(list(iter_audio(clip, DecodeReport())))
    silence = np.zeros(SILENCE_S * SAMPLE_RATE, dtype=np.float32)
    return np.concatenate([speech, silence, speech[:SILENCE_S * SAMPLE_RATE]]), speech.size


def _windows_with_speech(audio, window_s=4.0):
    spans = speech_segments(audio)
    size = round(window_s * SAMPLE_RATE)
    for start in range(0, audio.size - size + 1, size):
        spoken = sum(max(0, min(e, start + size) - max(s, start)) for s, e in spans)
        if spoken > 0.5 * size:
            yield start / SAMPLE_RATE, (start + size) / SAMPLE_RATE


def test_long_looped_speech_has_words_everywhere_and_none_twice(looped, tiny):
    audio, speech_end = looped
    words = [w for s in tiny.stream(np.array_split(audio, 300)) for w in s.words]
    windows = list(_windows_with_speech(audio))
    assert len(windows) > 20
    empty = [w for w in windows if not any(w[0] <= word.middle < w[1] for word in words)]
    assert not empty, f"spoken windows without words: {empty}"
    # no gap over 5 s inside speech
    spans = [(s / SAMPLE_RATE, e / SAMPLE_RATE) for s, e in speech_segments(audio)]
    for a, b in zip(words, words[1:]):
        if b.start - a.end > 5:
            inside = sum(max(0, min(e, b.start) - max(s, a.end)) for s, e in spans)
            assert inside < 1.0, f"no words from {a.end} to {b.start} s over {inside:.1f} s of speech"
    # nothing transcribed twice: words follow each other in time, and each loop of the clip
    # (one 8-s recording) gets about as many words as the others
    assert all(b.start >= a.end - 0.2 for a, b in zip(words, words[1:]))
    loop_s = 8.0
    counts = [sum(start <= w.middle < start + loop_s for w in words)
              for start in np.arange(0, SECONDS - loop_s + 0.01, loop_s)]
    assert max(counts) - min(counts) <= 0.25 * np.median(counts), counts
    # no text over the silence
    silent = (speech_end / SAMPLE_RATE, speech_end / SAMPLE_RATE + SILENCE_S)
    assert not [w for w in words if silent[0] + 0.5 < w.middle < silent[1] - 0.5]


def test_no_stock_phrase_at_the_end_of_a_real_clip(tiny):
    audio = np.concatenate(list(iter_audio(HEADS / "ravdess_actress_22s.mp4", DecodeReport())))
    text = " ".join(s.text for s in tiny.stream([audio])).lower()
    assert "watching" not in text and "thank" not in text
    sentences = [t for t in re.split(r"[.!?]\s*", text) if t]
    assert len(sentences) == 8 and all(re.fullmatch(r"(dogs are sitting|kids are talking) by the door",
                                                    t) for t in sentences), sentences
