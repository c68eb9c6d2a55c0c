"""Transcription with faster-whisper: words, timestamps, windows, streaming, silence, VAD, errors."""

import re

import numpy as np
import pytest

from source.errors import MediaError, NoAudioTrack, StudioError
from source.media.decode import DecodeReport, iter_audio
from source.options import SAMPLE_RATE
from source.text.transcribe import (
    Segment, TranscribeOptions, Transcriber, Word, WordTimeline, is_silent, iter_pieces,
    load_transcriber, words_of,
)

import media_fixtures as mf


def _plain(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


@pytest.fixture(scope="module")
def tiny():
    return load_transcriber(TranscribeOptions())


@pytest.fixture(scope="module")
def base():
    return load_transcriber(TranscribeOptions(model="base"))


@pytest.fixture(scope="module")
def gap_words(media, tiny):
    return tiny.transcribe(media["words_gap.wav"]).words


def test_transcript_holds_the_spoken_words(media, tiny):
    transcript = tiny.transcribe(media["speech.wav"])
    assert _plain(transcript.text) == _plain(mf.SPEECH_TEXT)
    assert transcript.language == "en" and transcript.backend == "faster-whisper"
    assert transcript.duration_s == pytest.approx(mf.wav_seconds(media["speech.wav"]), abs=0.05)
    words = transcript.words
    assert [_plain(w.text) for w in words] == [[w] for w in _plain(mf.SPEECH_TEXT)]
    starts = [w.start for w in words]
    assert starts == sorted(starts) and all(w.start <= w.end <= transcript.duration_s for w in words)


def test_words_fall_in_their_analysis_windows(gap_words):
    timeline = WordTimeline(gap_words)
    windows = [[w.text for w in timeline.take(start, start + 4.0)] for start in (0.0, 4.0, 8.0)]
    assert _plain(" ".join(windows[0])) == _plain(mf.GAP_SENTENCES[0])
    assert windows[1] == []  # the digital silence between the sentences
    assert _plain(" ".join(windows[2])) == _plain(mf.GAP_SENTENCES[1])
    assert min(w.start for w in gap_words if "children" in w.text) >= mf.GAP_SECOND_START


def test_word_timeline_with_overlapping_windows_pulls_lazily():
    words = [Word(t, t + 0.4, f"w{t:g}", 1.0) for t in (0.5, 2.0, 3.5, 5.0, 6.5)]
    pulled = []

    def stream():
        for word in words:
            pulled.append(word)
            yield word

    timeline = WordTimeline(stream())
    assert [w.text for w in timeline.take(0.0, 4.0)] == ["w0.5", "w2", "w3.5"]
    assert len(pulled) == 4  # one word past the window, to know the window is complete
    assert [w.text for w in timeline.take(2.0, 6.0)] == ["w2", "w3.5", "w5"]  # hop 2 s, window 4 s
    assert [w.text for w in timeline.take(4.0, 8.0)] == ["w5", "w6.5"]
    assert timeline.take(8.0, 12.0) == []


def test_streaming_in_small_pieces_keeps_words_and_times(media, gap_words):
    small = load_transcriber(TranscribeOptions(chunk_s=10))
    words = small.transcribe(media["words_gap.wav"]).words
    assert [w.text for w in words] == [w.text for w in gap_words]
    assert all(abs(a.middle - b.middle) < 0.3 for a, b in zip(words, gap_words))


def test_pieces_cover_the_stream_and_cut_in_pauses(media):
    audio = np.concatenate(list(iter_audio(media["words_gap.wav"], DecodeReport())))
    chunks = np.array_split(audio, 97)  # uneven chunks, as a decoder gives them
    pieces = list(iter_pieces(chunks, piece_s=10, search_s=5))
    assert [offset for offset, _ in pieces] == [0, pieces[0][1].size]
    assert np.array_equal(np.concatenate([piece for _, piece in pieces]), audio)
    cut_s = pieces[1][0] / SAMPLE_RATE
    assert 5.0 <= cut_s <= mf.GAP_SECOND_START  # in the silence, not inside the second sentence


@pytest.mark.parametrize("model", ["tiny", "base"])
def test_silence_gives_an_empty_transcript(media, request, model):
    transcript = request.getfixturevalue(model).transcribe(media["silence.wav"])
    assert transcript.segments == [] and transcript.text == "" and transcript.language is None
    assert transcript.duration_s == pytest.approx(mf.SILENCE_SECONDS)


def test_whisper_you_over_silence_is_dropped(tiny):
    quiet = np.zeros(5 * SAMPLE_RATE, dtype=np.float32)
    you = Segment(0.0, 2.0, "You", (Word(0.0, 2.0, "You", 0.03),), "en", 0.94, -0.94)
    assert tiny._hallucinated(you, quiet, start_s=0.0)
    loud = quiet + 0.1 * np.sin(np.arange(quiet.size) / 5).astype(np.float32)
    # over a loud tone the silence check lets it through, but "You" is a stock phrase and Silero
    # VAD hears no speech in a tone
    assert tiny._hallucinated(you, loud, start_s=0.0)
    unsure = Segment(0.0, 2.0, "Hello there", (), "en", 0.94, -0.94)
    assert not tiny._hallucinated(unsure, loud, start_s=0.0)
    speech = Segment(0.0, 2.0, "Hello", (), "en", 0.05, -0.3)
    assert not tiny._hallucinated(speech, quiet, start_s=0.0)
    assert tiny._hallucinated(Segment(0.0, 2.0, ". . .", (), "en", 0.5, -1.2), loud, start_s=0.0)
    assert is_silent(quiet, -50) and is_silent(quiet[:0], -50) and not is_silent(loud, -50)


def test_nothing_over_trailing_silence(media, base):
    """base used to repeat the last sentence over 40 s of silence after speech (conditioned on it);
    speech is now decoded alone, unconditioned, and silence never reaches the model."""
    speech = np.concatenate(list(iter_audio(media["speech.wav"], DecodeReport())))
    audio = np.concatenate([speech, np.zeros(40 * SAMPLE_RATE, dtype=np.float32)])
    segments = list(base.stream([audio]))
    assert segments and all(s.end <= speech.size / SAMPLE_RATE + 0.5 for s in segments)


def test_vad_skips_silence_and_keeps_times(media, gap_words):
    vad = load_transcriber(TranscribeOptions(vad=True))
    words = vad.transcribe(media["words_gap.wav"]).words
    assert _plain(" ".join(w.text for w in words)) == _plain(" ".join(mf.GAP_SENTENCES))
    children = next(w for w in words if "children" in w.text)
    assert children.start >= mf.GAP_SECOND_START  # mapped back past the removed silence
    assert vad.transcribe(media["silence.wav"]).segments == []


def test_multilingual_model_detects_the_language(media, base):
    assert base.multilingual
    transcript = base.transcribe(media["speech.wav"])
    assert transcript.language == "en" and "wonderful" in transcript.text.lower()


def test_stream_reports_progress(media, tiny):
    seen = []
    chunks = iter_audio(media["speech.wav"], DecodeReport())
    segments = list(tiny.stream(chunks, lambda *a: seen.append(a), total_s=6.0))
    assert [w.text for w in words_of(segments)][:2] == ["I", "am"]
    assert seen and seen[-1][0] == "transcribing" and seen[-1][1] == pytest.approx(5.97, abs=0.05)


def test_bad_inputs_and_options_give_clear_errors(media, tiny):
    with pytest.raises(NoAudioTrack, match="no speech to transcribe"):
        tiny.transcribe(media["astronaut.png"])
    with pytest.raises(NoAudioTrack, match="without an audio track"):
        tiny.transcribe(media["no_audio.mp4"])
    with pytest.raises(MediaError, match="corrupt"):
        tiny.transcribe(media["corrupt.mp4"])
    with pytest.raises(StudioError, match="no model 'small'"):
        load_transcriber(TranscribeOptions(model="small"))
    with pytest.raises(StudioError, match="English-only"):
        load_transcriber(TranscribeOptions(language="de"))
    with pytest.raises(ValueError, match="backend"):
        TranscribeOptions(backend="whisper.cpp")
    with pytest.raises(StudioError, match="Unknown language code 'klingon'"):
        load_transcriber(TranscribeOptions(model="base", language="klingon"))
    assert isinstance(tiny, Transcriber)
