"""The voice branch reading the words branch's Whisper encoder pass (``voice_whisper_shared``):
frames put back at their times, handed out window by window, equal to the voice model's own
encoding of the same speech, and in ``analyze`` no encoder pass of the voice's own."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from source.analysis.pipeline import AnalysisOptions, analyze
from source.voice.whisper_encoder import TranscriberEncoder, pooled_frames
from source.voice.whisper_voice import LayerWeightedHead, SharedWhisperVoiceModel, WhisperTransform
from source.labels import get_label_set
from source.media.decode import read_audio
from source.text.transcribe import (EncodedSpeech, EncodedSpeechTimeline, TranscribeOptions, encoded_speech,
                                    load_transcriber)

ROOT = Path(__file__).resolve().parent.parent


def test_each_frame_is_put_back_at_its_time_in_the_input():
    # two utterances joined in one pack: 0.2 s from 1 s and 0.4 s from 3 s of a piece starting at 10 s
    spans = [{"start": 16000, "end": 19200}, {"start": 48000, "end": 54400}]
    encoded = encoded_speech(np.arange(30, dtype=np.float32)[:, None].repeat(4, axis=1), spans, 10.0)
    assert encoded.frames.shape == (30, 4)
    assert encoded.times_s[:2] == pytest.approx([11.01, 11.03])
    assert encoded.times_s[9] == pytest.approx(11.19)  # the first utterance's last frame
    assert encoded.times_s[10] == pytest.approx(13.01)  # the second's first: the silence between is skipped
    assert encoded.times_s[-1] == pytest.approx(13.39)


def test_the_timeline_hands_out_a_windows_frames_and_lets_earlier_ones_go():
    timeline = EncodedSpeechTimeline()
    times = np.arange(0.01, 6.0, 0.02)
    timeline.add(EncodedSpeech(times[:150], np.ones((150, 2), np.float32)))  # 0-3 s
    timeline.add(EncodedSpeech(times[150:], 2 * np.ones((len(times) - 150, 2), np.float32)))  # 3-6 s
    first = timeline.take(2.0, 4.0)
    assert len(first) == 100 and first[:50].max() == 1 and first[50:].min() == 2  # across the two packs
    assert timeline.take(6.5, 8.0) is None  # no speech there
    assert len(timeline._packs) == 0  # both packs are over before 6.5 s


def _random_shared_model(path) -> SharedWhisperVoiceModel:
    torch.manual_seed(0)
    model = SharedWhisperVoiceModel(LayerWeightedHead(1, 768, 7), WhisperTransform("tiny.en", "transcriber"),
                                    get_label_set("7class"))
    model.save(path)
    return model


@pytest.mark.needs_espeak
def test_the_transcriber_hands_over_the_encoding_the_voice_model_would_make(media):
    """A clip of one utterance is one pack: the frames the words branch hands over, pooled, are
    what the voice model's own encoder makes of the clip (the features it was trained on)."""
    audio = read_audio(media["speech.wav"])
    transcriber = load_transcriber(TranscribeOptions(model="tiny.en", threads=1))
    packs = []
    segments = list(transcriber.stream([audio], on_encoded=packs.append))
    assert segments and len(packs) == 1
    pack = packs[0]
    assert pack.frames.shape[1] == 384 and len(pack.frames) == len(pack.times_s)
    assert 0 <= pack.times_s[0] < pack.times_s[-1] <= audio.size / 16000
    assert np.all(np.diff(pack.times_s) > 0)
    own = TranscriberEncoder("tiny.en").pooled(audio)
    np.testing.assert_allclose(pooled_frames(pack.frames), own, rtol=1e-3, atol=1e-3)


@pytest.mark.needs_espeak
def test_analyze_runs_no_voice_encoder_when_the_words_branch_has_one(media, tmp_path, monkeypatch):
    weights = tmp_path / "shared.pt"
    _random_shared_model(weights)

    def no_own_pass(*args, **kwargs):
        raise AssertionError("the voice model ran its own encoder")

    monkeypatch.setattr(SharedWhisperVoiceModel, "encode_window", no_own_pass)
    result = analyze(media["astronaut_talking.mp4"],
                     AnalysisOptions(voice_model="voice_whisper_shared", voice_weights=str(weights), plots=False),
                     tmp_path / "out")
    spoken = [w for w in result.windows if w.speech and w.speech["speech_ratio"] > 0.5]
    assert spoken and all(w.voice for w in spoken)
    assert result.models["voice"]["model"] == "voice_whisper_shared"
    assert result.timings["voice"] < 0.5  # a small head per window, no encoder


@pytest.mark.needs_espeak
def test_without_words_the_shared_model_hears_each_window_itself(media, tmp_path):
    weights = tmp_path / "shared.pt"
    model = _random_shared_model(weights)
    options = AnalysisOptions(voice_model="voice_whisper_shared", voice_weights=str(weights), plots=False)
    with_words = analyze(media["astronaut_talking.mp4"], options, tmp_path / "words")
    alone = analyze(media["astronaut_talking.mp4"], AnalysisOptions(**{**options.__dict__, "words": False}),
                    tmp_path / "alone")
    # the same windows are heard either way (the voice model runs its own tiny.en encoder alone)
    assert [bool(w.voice) for w in alone.windows] == [bool(w.voice) for w in with_words.windows]
    assert any(w.voice for w in alone.windows)
    assert model.reads_transcriber("tiny.en") and not model.reads_transcriber("base")


def test_the_shipped_shared_model_was_measured_where_analyze_reads_it(media, tmp_path):
    """Its card gives the held-out figure read from the transcriber's packs (as analyze reads it),
    not only heard alone; the predict CLI takes another trained file."""
    card = (ROOT / "models" / "voice_whisper_shared" / "MODEL_CARD.md").read_text()
    assert "each clip's frames read from the packs" in card and "69.8%" in card
    weights = tmp_path / "shared.pt"
    _random_shared_model(weights)
    out = tmp_path / "voice.json"
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "predict", "--model", "voice_whisper_shared",
                           "--weights", str(weights), str(media["speech.wav"]), "--json", str(out)],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "EMOTION_STUDIO_OUTPUT": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    voice = json.loads(out.read_text())["models"]["voice"]
    assert voice["weights_sha256"] == SharedWhisperVoiceModel.load(weights).sha256
