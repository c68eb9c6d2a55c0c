"""The voice model: augmentation, a smoke train on real clips, evaluate JSON, predict, analyze."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from source.voice.augment import SpecAugment, WaveAugment
from source.voice.model import VoiceModel
from source.voice.train import ensemble_voice, evaluate_voice
from source.cli.voice import predict_voice
from source.errors import MediaError, NoAudioTrack, StudioError
from source.media.decode import read_audio
from source.nets import EmotionNet
from source.registry import get_model

from helpers import EVALUATE_KEYS, joined_with_another_member, run_py


@pytest.fixture(scope="module")
def shipped() -> VoiceModel:
    return get_model("voice_mfcc").load()


def test_wave_augment_is_seeded_and_changes_the_clip(media):
    clip = read_audio(media["speech.wav"])
    augment = WaveAugment(p=1.0)
    first, again, other = (augment.variant(clip, seed) for seed in (1, 1, 2))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert np.abs(first).max() <= 1.0
    assert 0.8 < first.size / clip.size < 1.25  # tempo change within (0.85, 1.15)


def test_spec_augment_masks_bands_and_keeps_shape():
    batch = torch.ones(8, 3, 126, 13)
    masked = SpecAugment(time_masks=2, time_width=12, freq_masks=1, freq_width=2)(
        batch, torch.Generator().manual_seed(0))
    assert masked.shape == batch.shape
    assert 0 < (masked == 0).float().mean() < 0.5
    assert batch.min() == 1  # the input is not changed in place
    # masks cover whole bands: a zeroed cell's row is zero in every channel
    zero_cells = masked == 0
    assert torch.equal(zero_cells[:, 0], zero_cells[:, 2])


def test_read_audio_refuses_files_without_sound(media):
    with pytest.raises(MediaError):
        read_audio(media["corrupt.mp4"])
    with pytest.raises(MediaError):
        read_audio(media["no_audio.mp4"])


def test_shipped_model_brings_its_transform_and_labels(shipped):
    assert shipped.labels == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert shipped.transform.output_shape == (3, 126, 13)
    assert 0.2 < shipped.temperature < 5
    assert shipped.metrics["test"]["accuracy"] > 0.5
    embedding = shipped.embed([np.zeros(16000, dtype=np.float32)] * 2)
    assert embedding.shape == (2, shipped.network.embedding_size)


def predicted(path: Path, out_dir: Path, capsys) -> tuple[dict, str]:
    """``predict --model audio PATH``: the analysis JSON it copies to ``--json``, and what it printed."""
    from argparse import Namespace

    copy = out_dir / "copy.json"
    assert predict_voice(Namespace(path=path, weights=None, json=copy), "voice_mfcc", out_dir) == 0
    return json.loads(copy.read_text()), capsys.readouterr().out


def test_predict_is_the_analysis_with_the_voice_alone(shipped, media, tmp_path, capsys):
    result, printed = predicted(media["speech.wav"], tmp_path, capsys)
    assert result["models"]["voice"]["weights_sha256"] == shipped.sha256
    assert set(result["models"]) == {"voice", "fusion"}  # no face, no words
    windows = result["windows"]
    assert windows and all(w["voice"] for w in windows) and not any(w["faces"] for w in windows)
    for window in windows:
        assert sum(window["voice"]["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    mean = {label: np.mean([w["voice"]["probabilities"][label] for w in windows]) for label in shipped.labels}
    assert f"overall: {max(mean, key=mean.get)} (" in printed  # the mean over the windows with speech
    assert (tmp_path / "speech_windows.csv").exists() and (tmp_path / "speech_analysis.json").exists()
    video, _ = predicted(media["astronaut_talking.mp4"], tmp_path, capsys)
    assert any(w["voice"] for w in video["windows"]) and not any(w["faces"] for w in video["windows"])


def test_predict_silence_and_no_audio(media, tmp_path, capsys):
    silent, printed = predicted(media["silence.wav"], tmp_path, capsys)
    assert not any(w["voice"] for w in silent["windows"])
    assert "no speech was found" in printed
    from argparse import Namespace

    with pytest.raises(NoAudioTrack):
        predict_voice(Namespace(path=media["no_audio.mp4"], weights=None, json=None), "voice_mfcc", tmp_path)


def test_predict_cli_writes_json(media, tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_STUDIO_OUTPUT", str(tmp_path))  # the analysis files it writes
    out = tmp_path / "voice.json"
    result = run_py("predict", "--model", "voice_mfcc", media["speech.wav"], "--json", out, cache=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "overall:" in result.stdout
    assert json.loads(out.read_text())["models"]["voice"]["labels"][0] == "angry"


RAVDESS_EMOTIONS = ("01", "02", "03", "04", "05", "06", "07", "08")


def ravdess_subset(shared_data: Path, folder: Path, actors, per_emotion: int) -> Path:
    """Links to real RAVDESS clips: ``per_emotion`` clips of each emotion for each actor."""
    for actor in actors:
        source = shared_data / "ravdess_speech" / f"Actor_{actor}"
        (folder / f"Actor_{actor}").mkdir(parents=True)
        for code in RAVDESS_EMOTIONS:
            for clip in sorted(source.glob(f"03-01-{code}-*"))[:per_emotion]:
                (folder / f"Actor_{actor}" / clip.name).symlink_to(clip)
    return folder


@pytest.mark.slow
def test_smoke_train_resume_and_evaluate_on_real_clips(shared_data, tmp_path):
    data = ravdess_subset(shared_data, tmp_path / "ravdess", ("01", "02", "03"), 1)
    weights, run_dir = tmp_path / "out" / "voice.pt", tmp_path / "run"
    common = ("train", "--model", "voice_mfcc", "--data", data, "--out", weights, "--run-dir", run_dir,
              "--set", "validation_speakers=[\"03\"]", "--set", "test_speakers=[]",
              "--set", "augmented_copies=1", "--set", "backbone=mobilenet_v2",
              "--set", "train.batch_size=8")
    first = run_py(*common, "--set", "train.epochs=1", cache=tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    assert "validation: accuracy" in first.stdout
    metrics = json.loads((weights.parent / "metrics.json").read_text())
    assert metrics["split"] == {"train": ["ravdess:01", "ravdess:02"], "validation": ["ravdess:03"],
                                "test": []}
    assert (weights.parent / "confusion_validation.png").stat().st_size > 1000
    # another epoch in the same run folder continues the run instead of starting over
    second = run_py(*common, "--set", "train.epochs=2", cache=tmp_path / "cache")
    assert second.returncode == 0, second.stderr
    metrics = json.loads((weights.parent / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]
    refused = run_py(*common, "--set", "train.learning_rate=0.1", cache=tmp_path / "cache")
    assert refused.returncode == 1 and "different training run" in refused.stderr
    report_path = tmp_path / "evaluate.json"
    evaluated = run_py("evaluate", "--model", "voice_mfcc", "--data", data, "--weights", weights,
                       "--speakers", "03", "--json", report_path, cache=tmp_path / "cache")
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(report_path.read_text())
    assert EVALUATE_KEYS <= set(report)
    assert report["n"] == 8 and len(report["confusion"]) == 7
    assert sum(map(sum, report["confusion"])) == 8
    assert report["weights_sha256"] == metrics["weights_sha256"]
    assert f"accuracy {report['accuracy']:.3f}" in evaluated.stdout

    # a second member on the same split (another initialisation), joined into an ensemble
    trained = VoiceModel.load(weights)
    torch.manual_seed(1)
    ensemble, ensemble_metrics, other_weights = joined_with_another_member(
        trained, weights, EmotionNet("mobilenet_v2", 7), data, tmp_path, read_audio(next(data.glob("Actor_03/*"))))
    assert ensemble_metrics["validation"]["n"] == 8 and "test" not in ensemble_metrics
    assert "an ensemble of 2 CNNs" in (tmp_path / "ensemble" / "MODEL_CARD.md").read_text()
    with pytest.raises(StudioError, match="given twice"):
        ensemble_voice(data, [weights, weights], tmp_path / "x.pt", log=lambda line: None)
    other = VoiceModel.load(other_weights)
    other.metrics = {**trained.metrics, "split": {**trained.metrics["split"], "validation": ["ravdess:02"]}}
    other.save(other_weights)
    with pytest.raises(StudioError, match="another speaker split"):
        ensemble_voice(data, [weights, other_weights], tmp_path / "x.pt", log=lambda line: None)
    with pytest.raises(StudioError, match="an ensemble already"):
        ensemble_voice(data, [tmp_path / "ensemble" / "ensemble.pt", weights], tmp_path / "nested.pt",
                       log=lambda line: None)


def test_shipped_model_beats_chance_on_unseen_actors(shipped, shared_data, tmp_path):
    """Actors 18-20 are the shipped model's test speakers: never trained or selected on."""
    data = ravdess_subset(shared_data, tmp_path, ("18", "19", "20"), 3)
    report = evaluate_voice(data, log=lambda line: None)
    assert report["n"] == 72
    assert report["accuracy"] > 0.4  # chance is 1/7; the majority class is 25% here
