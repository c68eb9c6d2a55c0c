"""The Whisper voice model and voice activity: quiet speech is scored, tones and silence are not,
calm speech is not called disgust, and the model's file, evaluate and predict."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from source.analysis.pipeline import analyze
from source.media.speech import speech_activity, speech_segments, speech_span
from source.voice.augment import WaveAugment
from source.voice.whisper_encoder import normalised_loudness
from source.voice.whisper_voice import WhisperVoiceModel
from source.labels import EMOTIONS
from source.media.decode import read_audio
from source.options import AnalysisOptions, SAMPLE_RATE
from source.registry import get_model

ROOT = Path(__file__).resolve().parent.parent
TALKING_HEADS = ROOT.parent / "shared" / "data" / "av_samples" / "talking_heads"


WHISPER_VOICE_MODELS = ("voice_whisper", "voice_whisper_shared")


@pytest.fixture(scope="module", params=WHISPER_VOICE_MODELS)
def model(request) -> WhisperVoiceModel:
    return get_model(request.param).load()


def tone(seconds: float = 4.0, db: float = -10.0) -> np.ndarray:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (10 ** (db / 20) * np.sqrt(2) * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_tones_and_silence_are_not_speech(model):
    for audio in (tone(), np.zeros(4 * SAMPLE_RATE, np.float32),
                  np.random.default_rng(0).normal(0, 0.05, 4 * SAMPLE_RATE).astype(np.float32)):
        assert speech_activity(audio)["speech_ratio"] == 0.0
        assert model.encode_window(audio) == (None, None)
        assert speech_span(audio) is None


def test_quiet_speech_is_scored_like_loud_speech(media):
    # the default only: voice_whisper_shared hears the words branch's unnormalised audio, and
    # Whisper's log-mel moves with the level (its card gives the figures)
    model = get_model("voice_whisper").load()
    speech = read_audio(media["speech.wav"])[: 4 * SAMPLE_RATE]
    quiet = speech / np.abs(speech).max() * 10 ** (-32 / 20)  # peaks at -32 dBFS
    assert speech_activity(quiet)["speech_ratio"] > 0.3
    loud, soft = model.predict_window(speech), model.predict_window(quiet)
    assert loud and soft
    assert np.allclose(list(loud["probabilities"].values()), list(soft["probabilities"].values()), atol=0.05)
    rms = np.sqrt(np.mean(normalised_loudness(quiet) ** 2))
    assert 20 * np.log10(rms) == pytest.approx(-23, abs=0.5)


def test_calm_synthetic_speech_is_not_disgust(model, media):
    result = model.predict_window(read_audio(media["speech.wav"])[: 4 * SAMPLE_RATE])
    assert result["top_emotion"] != "disgust" and result["probabilities"]["disgust"] < 0.3


def test_reverberation_is_seeded_and_keeps_the_level(media):
    speech = read_audio(media["speech.wav"])[: 2 * SAMPLE_RATE]
    assert np.array_equal(WaveAugment(p=0.0, reverb_rt60_s=(0.5, 0.5)).variant(speech, 1), speech.astype(np.float32))
    room = WaveAugment(noise_snr_db=(40, 40), gain_db=(0, 0), pitch_semitones=(0, 0), tempo=(1, 1), p=1.0,
                       reverb_rt60_s=(0.5, 0.5))
    wet = room.variant(speech, 1)
    assert np.array_equal(wet, room.variant(speech, 1)) and not np.allclose(wet, speech, atol=1e-3)
    assert wet.size == speech.size


def test_the_shipped_file_carries_its_transform_labels_and_card(model):
    assert model.labels == EMOTIONS
    assert (model.transform.whisper_model, model.transform.encoder) == {
        "voice_whisper": ("base", "layers"), "voice_whisper_shared": ("tiny.en", "transcriber")}[model.KIND]
    assert model.metrics["test"]["ravdess"]["accuracy"] >= 0.72  # held-out actors 18-20, 7 classes
    card = (ROOT / "models" / model.KIND / "MODEL_CARD.md").read_text()
    assert model.sha256 in card and "turev" in card and "Cross-corpus" in card
    assert "| voice_mfcc (MFCC) | ravdess | test |" in card  # the MFCC model in the same table
    metrics = json.loads((ROOT / "models" / model.KIND / "metrics.json").read_text())
    assert metrics["baseline"]["corpora"]["ravdess"]["n"] == metrics["test"]["ravdess"]["n"]  # the same clips


def test_analyze_gives_every_spoken_window_a_voice_and_says_why_not(tmp_path, media):
    result = analyze(media["speech.wav"], AnalysisOptions(words=False, plots=False, fusion="late"), tmp_path)
    assert result.models["voice"]["model"] == "voice_whisper"
    spoken = [w for w in result.windows if w.speech["speech_ratio"] > 0.2]
    assert spoken and all(w.voice for w in spoken)
    silent = tmp_path / "tone.wav"
    soundfile.write(silent, tone(5.0), SAMPLE_RATE)
    result = analyze(silent, AnalysisOptions(words=False, plots=False, fusion="late"), tmp_path)
    assert all(w.voice is None and w.voice_note.startswith("no speech") for w in result.windows)


@pytest.mark.shared_data("av_samples/talking_heads")
def test_quiet_actress_gets_voice_results_and_newscasters_are_not_disgust(model):
    actress = read_audio(TALKING_HEADS / "ravdess_actress_22s.mp4")
    for start in range(4, 16, 4):  # the quiet middle, once left without a voice result
        window = actress[start * SAMPLE_RATE:(start + 4) * SAMPLE_RATE]
        assert speech_segments(window) and model.predict_window(window) is not None
    calls = []
    for clip in sorted(TALKING_HEADS.glob("[RW]*.mp4")):
        audio = read_audio(clip)
        calls += [model.predict_window(audio[s:s + 4 * SAMPLE_RATE])
                  for s in range(0, audio.size - 2 * SAMPLE_RATE, 4 * SAMPLE_RATE)]
    tops = [c["top_emotion"] for c in calls if c]
    # the MFCC ensemble called 8 of these 12 windows disgust; the Whisper model alone still calls 3
    assert len(tops) >= 10 and tops.count("disgust") / len(tops) < 0.3


@pytest.mark.parametrize("name", WHISPER_VOICE_MODELS)
def test_predict_cli(media, tmp_path, name, monkeypatch):
    monkeypatch.setenv("EMOTION_STUDIO_OUTPUT", str(tmp_path))  # the analysis files it writes
    out = tmp_path / "voice.json"
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "predict", "--model", name,
                           str(media["speech.wav"]), "--json", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    voice = result["models"]["voice"]
    assert voice["model"] == name and voice["labels"] == list(EMOTIONS)
    assert any(window["voice"] for window in result["windows"]) and "overall:" in done.stdout


def test_voice_names_the_default_voice_model():
    from source.options import AnalysisOptions

    assert get_model("voice") is get_model(AnalysisOptions.voice_model) is get_model("voice_whisper")
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "card", "--model", "voice"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.startswith("voice_whisper (voice)")
    assert "Voice model on Whisper-base encoder states" in done.stdout


@pytest.mark.shared_data("turev_speech")
def test_evaluate_reports_each_corpus_beside_the_mfcc_model_on_the_same_clips(tmp_path):
    import shutil

    from source.voice.whisper_train import evaluate_whisper_voice

    turev = ROOT.parent / "shared" / "data" / "turev_speech"
    for emotion in ("Angry", "Calm", "Happy", "Sad"):
        (tmp_path / emotion).mkdir()
        for clip in sorted((turev / emotion).glob("1984_*"))[:2]:
            shutil.copy(clip, tmp_path / emotion / clip.name)
    report = evaluate_whisper_voice(tmp_path)
    assert report["n"] + report["no_speech_clips"] == 8 and report["n"] >= 6 and set(report["corpora"]) == {"turev"}
    baseline = report["baseline"]
    assert baseline["model"] == "voice_mfcc" and set(baseline["corpora"]) == {"turev"}
    for reports in (report["corpora"], baseline["corpora"]):  # the same clips, over TurEV's own four emotions
        assert reports["turev"]["n"] == report["n"]
        assert set(reports["turev"]["labels"]) == {"angry", "happy", "sad", "neutral"}
    assert baseline["weights_sha256"] != report["weights_sha256"]


def test_the_whisper_voice_models_say_what_they_hear(media):
    """What the app dims and leaves lit: the layers encoder hears from the first speech to the
    last, pauses included; the transcriber's encoder its own VAD spans; silence nothing."""
    from source.voice.whisper_voice import WhisperTransform

    audio = read_audio(media["speech.wav"])
    segments = speech_segments(audio)
    (start, end), = WhisperTransform("base", "layers").heard_spans(audio)
    assert start <= segments[0][0] and end >= segments[-1][1]
    assert np.array_equal(audio[start:end], speech_span(audio))
    spans = WhisperTransform("tiny.en", "transcriber").heard_spans(audio)
    assert spans and all(0 <= a < b <= audio.size for a, b in spans)
    assert all(b <= c for (_, b), (c, _) in zip(spans, spans[1:]))
    assert WhisperTransform("base").heard_spans(np.zeros(2 * SAMPLE_RATE, np.float32)) == []
