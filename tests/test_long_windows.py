"""Windows longer than the voice models hear at once (issue 28, item 8): heard piece by piece."""

import numpy as np
import pytest

from source.voice.model import VoiceModel
from source.voice.pieces import speech_pieces
from source.media.decode import read_audio
from source.media.speech import speech_segments
from source.options import SAMPLE_RATE

SECOND = SAMPLE_RATE


@pytest.fixture(scope="module")
def mfcc_voice() -> VoiceModel:
    return VoiceModel.load()


def test_a_10s_window_is_heard_whole_by_the_mfcc_voice_model(mfcc_voice, media):
    """The MFCC model was trained on 4-s clips and keeps the first 4 s of a longer one: in a 10-s
    window, 6 s of speech after the first 4 changed nothing. Now they count, by seconds of speech."""
    first = read_audio(media["speech.wav"])[:4 * SECOND]
    other = read_audio(media["negative_speech.wav"])[:6 * SECOND]
    alone = mfcc_voice.encode_window(first)[1]["probabilities"]  # a 4-s window: heard whole, as before
    silent_after = mfcc_voice.encode_window(np.concatenate([first, np.zeros(6 * SECOND, np.float32)]))[1]
    spoken_after = mfcc_voice.encode_window(np.concatenate([first, other]))[1]
    assert silent_after["probabilities"] == alone  # pieces without speech add nothing
    difference = max(abs(spoken_after["probabilities"][k] - alone[k]) for k in alone)
    assert difference > 0.1, (spoken_after, alone)  # 0.22 here; 0.03 when only the first 4 s were heard
    # the mean of its three pieces' own results (0-4, 4-8 and 8-10 s), by seconds of speech
    _assert_speech_weighted(mfcc_voice, np.concatenate([first, other]), 4 * SECOND, spoken_after)


def _assert_speech_weighted(model, window: np.ndarray, size: int, result: dict) -> None:
    pieces = speech_pieces(window, speech_segments(window), size)
    assert len(pieces) > 1
    heard = [model.encode_window(piece.audio)[1]["probabilities"] for piece in pieces]
    seconds = [piece.speech for piece in pieces]
    expected = {k: sum(w * h[k] for w, h in zip(seconds, heard)) / sum(seconds) for k in heard[0]}
    assert result["probabilities"] == pytest.approx(expected, abs=2e-3)


def test_a_window_over_30s_is_heard_whole_by_the_whisper_voice_model(media):
    """Whisper's encoder hears 30 s: the speech after them used to be cut off."""
    from source.voice.whisper_voice import WhisperVoiceModel

    model = WhisperVoiceModel.load()
    first = np.tile(read_audio(media["speech.wav"]), 6)[:30 * SECOND]
    other = read_audio(media["negative_speech.wav"])[:6 * SECOND]
    alone = model.encode_window(first)[1]
    assert model.encode_window(np.concatenate([first, np.zeros(6 * SECOND, np.float32)]))[1] == alone
    spoken_after = model.encode_window(np.concatenate([first, other]))[1]
    _assert_speech_weighted(model, np.concatenate([first, other]), 30 * SECOND, spoken_after)


def test_a_learned_fusion_model_in_10s_windows_is_warned_about(media, tmp_path):
    """The combined model learned from 4-s windows: an analysis in 10-s windows with it says so
    (the CLI prints it as a note); late fusion, which learns no window length, does not."""
    from source.analysis.pipeline import analyze
    from source.options import AnalysisOptions, WindowOptions

    ten = WindowOptions(window_s=10.0)
    result = analyze(media["astronaut_talking.mp4"], AnalysisOptions(windows=ten, fusion="combined", words=False,
                                                                     plots=False), tmp_path)
    assert any("combined fusion model was trained on 4-s windows" in w for w in result.warnings), result.warnings
    late = analyze(media["astronaut_talking.mp4"], AnalysisOptions(windows=ten, words=False, plots=False), tmp_path)
    assert not any("trained on" in w for w in late.warnings), late.warnings


def test_the_trained_window_is_the_fusion_models_frames_at_the_default_rate():
    from source.fusion.data import FRAMES
    from source.options import TRAINED_WINDOW_S, WindowOptions

    assert TRAINED_WINDOW_S == FRAMES / WindowOptions().fps == WindowOptions().window_s


def test_speech_pieces_cut_from_the_start_and_keep_only_speech():
    audio = np.zeros(10 * SECOND, np.float32)
    quarter = SECOND // 4
    segments = [(2 * quarter, 12 * quarter), (28 * quarter, 33 * quarter)]  # 0.5-3 s and 7-8.25 s
    pieces = speech_pieces(audio, segments, 4 * SECOND)  # 0-4, 4-8 and 8-10 s
    assert [p.audio.size for p in pieces] == [4 * SECOND, 4 * SECOND, 2 * SECOND]
    assert [p.segments for p in pieces] == [[(2 * quarter, 12 * quarter)], [(12 * quarter, 16 * quarter)],
                                           [(0, quarter)]]
    assert [p.speech for p in pieces] == [10 * quarter, 4 * quarter, quarter]
    # speech in 62%, 25% and 12% of them: at least 20% keeps the first two
    assert [p.speech for p in speech_pieces(audio, segments, 4 * SECOND, min_ratio=0.2)] == [10 * quarter, 4 * quarter]
    assert speech_pieces(audio[:3 * SECOND], segments, 4 * SECOND)[0].audio.size == 3 * SECOND  # fits: one piece
    assert speech_pieces(audio, [], 4 * SECOND) == []
