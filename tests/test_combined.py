"""The combined model: audio-visual corpus scanning, paired training data, a real 1-epoch train,
evaluation against each branch and late fusion, and analyze with the trained model."""

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import EVALUATE_KEYS, run_py
from source.analysis.pipeline import analyze
from source.voice.model import VoiceModel
from source.face.model import FaceModel
from source.datasets.faces import scan_av_clips
from source.datasets.speech import spoken_sentence
from source.fusion.data import FRAMES, StillMotion
from source.fusion.model import CombinedModel
from source.fusion.train import CombinedRecipe, train_combined
from source.options import AnalysisOptions
from source.weights import WeightsError

FER_PER_CLASS = 3


def test_av_clips_find_their_speech(media, tmp_path):
    """RAVDESS video-only clips take the matching 03- speech file, clips with sound their own
    track, <emotion>/ folders are a generic corpus, silent clips have no speech."""
    (tmp_path / "Actor_12").mkdir()
    shutil.copy(media["no_audio.mp4"], tmp_path / "Actor_12" / "02-01-06-01-02-01-12.mp4")
    shutil.copy(media["speech.wav"], tmp_path / "Actor_12" / "03-01-06-01-02-01-12.wav")
    shutil.copy(media["no_audio.mp4"], tmp_path / "Actor_12" / "02-01-03-01-01-01-12.mp4")  # no speech file
    (tmp_path / "happy").mkdir()
    shutil.copy(media["astronaut_talking.mp4"], tmp_path / "happy" / "clip1.mp4")
    clips, skipped = scan_av_clips(tmp_path)
    by_name = {c.video.path.name: c for c in clips}
    assert by_name["02-01-06-01-02-01-12.mp4"].audio.name == "03-01-06-01-02-01-12.wav"
    assert by_name["02-01-06-01-02-01-12.mp4"].video.emotion == "fear"
    assert by_name["02-01-03-01-01-01-12.mp4"].audio is None
    generic = by_name["clip1.mp4"]
    assert (generic.video.corpus, generic.video.emotion, generic.audio) == ("generic", "happy", generic.video.path)
    assert not skipped
    assert spoken_sentence(Path("02-01-06-01-02-01-12.mp4")) == "Dogs are sitting by the door."


def test_still_motion_is_a_smooth_seeded_path():
    face = (np.random.default_rng(0).random((64, 64)) * 255).astype(np.uint8)
    motion = StillMotion(keyframes=4)
    frames = motion.keyframe_crops(face, seed=7)
    assert frames.shape == (4, 64, 64) and frames.dtype == np.uint8
    assert np.array_equal(frames, motion.keyframe_crops(face, seed=7))
    assert not np.array_equal(frames, motion.keyframe_crops(face, seed=8))
    assert len({f.tobytes() for f in frames}) == 4  # each pose differs
    with pytest.raises(ValueError, match="divide"):
        StillMotion(keyframes=5)


def paired_data(shared_data: Path, root: Path) -> Path:
    """A tiny copy of the paired layout: a RAVDESS actor for each part of the recipe's split, a
    TurEV-DB speaker for training and one for test, a few FER2013 test faces per class (shared
    out to the parts), and one MEAD clip per actor."""
    for speaker in ("1358", "1984"):
        for emotion in ("Angry", "Calm", "Happy"):
            clip = sorted((shared_data / "turev_speech" / emotion).glob(f"{speaker}_*"))[0]
            (root / "turev_speech" / emotion).mkdir(parents=True, exist_ok=True)
            shutil.copy(clip, root / "turev_speech" / emotion / clip.name)
    for actor in ("16", "18", "19"):
        source = shared_data / "ravdess_speech" / f"Actor_{actor}"
        target = root / "ravdess_speech" / f"Actor_{actor}"
        target.mkdir(parents=True)
        for emotion in ("01", "03", "04", "05"):
            clip = sorted(source.glob(f"03-01-{emotion}-*"))[0]
            shutil.copy(clip, target / clip.name)
    for folder in (shared_data / "fer2013" / "test").iterdir():
        target = root / "fer2013" / "test" / folder.name
        target.mkdir(parents=True)
        for image in sorted(folder.iterdir())[:FER_PER_CLASS * 4]:
            shutil.copy(image, target / image.name)
    (root / "av_samples").mkdir()
    for name in ("W009_front_happy_level3_001.mp4", "W011_front_sad_level3_001.mp4",
                 "M030_front_angry_level3_001.mp4"):
        shutil.copy(shared_data / "av_samples" / "mead_video_only" / name, root / "av_samples" / name)
    return root


@pytest.fixture(scope="module")
def trained(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("combined")
    data = paired_data(shared_data, root / "data")
    out = root / "model" / "combined.pt"
    result = run_py("train", "--model", "combined", "--data", data, "--out", out, "--run-dir", root / "run",
                    "--set", "train.epochs=1", "--set", "partners=2", cache=root / "cache")
    assert result.returncode == 0, result.stderr
    return data, out, result


@pytest.mark.slow
def test_one_epoch_train_writes_a_model_its_card_and_the_comparison(trained):
    data, out, result = trained
    assert "windows per part" in result.stdout + result.stderr
    metrics = json.loads((out.parent / "metrics.json").read_text())
    assert set(metrics["split"]["test"]) == {"ravdess:19", "mead:M030"}
    assert set(metrics["split"]["validation"]) == {"ravdess:18", "turev:1984", "mead:W011"}
    assert set(metrics["split"]["train"]) == {"ravdess:16", "turev:1358", "mead:W009"}
    test = metrics["comparison"]["test"]
    # the test part has paired windows and the silent MEAD clip's face-only window
    assert test["face_only"]["fused"]["n"] == 1
    n = test["all"]["fused"]["n"]
    for name in ("fused", "voice", "face", "late", "late_with_text"):
        whole, parts = test["all"][name], [test[s][name] for s in ("voice_and_face", "face_only") if s in test]
        # every baseline is scored on the same windows, and its accuracy is a count of them
        assert whole["n"] == n and whole["accuracy"] * n == pytest.approx(round(whole["accuracy"] * n))
        if sum(p["n"] for p in parts) == n:  # the subsets split the windows: their right answers add up
            assert round(whole["accuracy"] * n) == sum(round(p["accuracy"] * p["n"]) for p in parts)
    card = (out.parent / "MODEL_CARD.md").read_text()
    assert "late (voice+face)" in card and "mead:M030" in card
    model = CombinedModel.load(out)
    assert model.labels == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert model.recipe["partners"] == 2
    # it reads the Whisper voice model's embeddings, and loads that model even when offered another kind
    assert model.voice.KIND == "voice_whisper" and model.network.options.voice_dim == 256
    assert CombinedModel.load(out, voice=VoiceModel.load()).voice.KIND == "voice_whisper"


@pytest.mark.slow
def test_evaluate_reports_the_test_windows_and_the_baselines(trained, tmp_path):
    data, out, _ = trained
    report_path = tmp_path / "eval.json"
    result = run_py("evaluate", "--model", "combined", "--data", data, "--weights", out, "--json", report_path,
                    cache=out.parent.parent / "cache")
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    assert EVALUATE_KEYS <= set(report)
    assert report["model"] == "combined" and report["n"] == report["comparison"]["all"]["fused"]["n"]


@pytest.mark.slow
def test_predict_window_uses_what_is_there(trained):
    _, out, _ = trained
    model = CombinedModel.load(out)
    voice = np.random.default_rng(0).normal(size=model.network.options.voice_dim).astype(np.float32)
    faces = np.random.default_rng(1).normal(size=(30, model.network.options.face_dim)).astype(np.float32)
    text = np.zeros(9, dtype=np.float32)
    for args in ((voice, None, None), (None, faces, None), (None, None, text), (voice, faces, text)):
        scores = model.predict_window(*args)
        assert abs(sum(scores["probabilities"].values()) - 1) < 1e-3
    assert model.predict_window(None, None, None) is None
    # more frames than a window holds are sampled evenly, not cut at the start
    assert model.predict_window(None, faces, None) != model.predict_window(None, faces[:FRAMES], None)


@pytest.mark.slow
def test_a_combined_model_over_other_encoders_is_refused(trained, tmp_path):
    _, out, _ = trained
    saved = torch.load(out, weights_only=True)
    saved["encoders"]["face"] = "0" * 64
    other = tmp_path / "other.pt"
    torch.save(saved, other)
    with pytest.raises(WeightsError, match="trained on the face model"):
        CombinedModel.load(other)


@pytest.mark.slow
def test_analyze_fuses_with_the_combined_model(trained, media, tmp_path):
    _, out, _ = trained
    options = AnalysisOptions(fusion="combined", fusion_weights=str(out), words=False, plots=False)
    result = analyze(media["astronaut_talking.mp4"], options, tmp_path)
    assert result.models["fusion"]["method"] == "combined model"
    fused = [w for w in result.windows if w.probabilities["fused"]]
    assert fused and all(set(w.sources) <= {"face", "voice"} for w in fused)
    assert any("face" in w.sources for w in fused)
    for window in fused:
        assert abs(sum(window.probabilities["fused"].values()) - 1) < 1e-3
        assert window.top_emotion == max(window.probabilities["fused"], key=window.probabilities["fused"].get)
    late = analyze(media["astronaut_talking.mp4"], AnalysisOptions(fusion="late", words=False, plots=False),
                   tmp_path / "late")
    assert late.models["fusion"]["method"].startswith("late")
    weights = late.models["fusion"]["weights"]
    for window in late.windows:  # late fusion: the mean of the branches present, weighted by reliability
        total = sum(weights[b] for b in window.sources)
        for emotion, p in window.probabilities["fused"].items():
            assert p == pytest.approx(sum(weights[b] * window.probabilities[b][emotion]
                                          for b in window.sources) / total, abs=2e-4)
    assert [w.probabilities["face"] for w in late.windows] == [w.probabilities["face"] for w in result.windows]


@pytest.mark.slow
def test_preprocess_reuses_and_tune_searches_the_fusion_settings(trained, tmp_path):
    data, out, _ = trained
    cache = out.parent.parent / "cache"
    result = run_py("preprocess", "--model", "combined", "--data", data, "--set", "partners=2", cache=cache)
    assert result.returncode == 0, result.stderr
    assert "windows per part" in result.stdout + result.stderr
    best = tmp_path / "best.json"
    result = run_py("tune", "--model", "combined", "--data", data, "--max-evals", 2, "--state", tmp_path / "search",
                    "--out", best, "--set", "train.epochs=1", "--set", "partners=2", cache=cache)
    assert result.returncode == 0, result.stderr
    tuned = json.loads(best.read_text())
    assert tuned["trials"] == 2 and "fusion.lstm_units" in tuned["parameters"]


@pytest.mark.slow
def test_fine_tuned_encoders_train_save_beside_the_model_and_serve_analyze(trained, media, tmp_path, monkeypatch):
    data, out, _ = trained
    monkeypatch.setenv("EMOTION_STUDIO_CACHE", str(out.parent.parent / "cache"))
    with pytest.raises(ValueError, match="encoders=finetune trains the MFCC voice model"):
        CombinedRecipe(encoders="finetune")
    recipe = CombinedRecipe(partners=2, encoders="finetune", voice_model="voice_mfcc",
                            train=replace(CombinedRecipe().train, epochs=1, backbone_lr_scale=0.1))
    tuned_out = tmp_path / "tuned" / "combined.pt"
    metrics = train_combined(data, recipe, tuned_out, tmp_path / "run", log=lambda _: None)
    test = metrics["test"]
    assert test["n"] > 0 and test["accuracy"] * test["n"] == pytest.approx(round(test["accuracy"] * test["n"]))
    assert "comparison" not in metrics
    assert (tmp_path / "tuned" / "combined.voice.pt").is_file() and (tmp_path / "tuned" / "combined.face.pt").is_file()
    model = CombinedModel.load(tuned_out)
    shipped_voice, shipped_face = VoiceModel.load(), FaceModel.load()
    assert model.tuned_encoders and model.voice.sha256 != shipped_voice.sha256
    # the encoders learned (a backbone weight moved) and their batch-norm statistics did not
    face_weights, shipped_weights = model.face.network.state_dict(), shipped_face.network.state_dict()
    moved = [k for k in face_weights if k.endswith("weight") and not torch.allclose(face_weights[k], shipped_weights[k])]
    assert moved
    assert all(torch.allclose(face_weights[k], shipped_weights[k], atol=1e-3)  # float16 on disk
               for k in face_weights if k.endswith("running_mean"))
    assert "fine-tuned with it" in (tmp_path / "tuned" / "MODEL_CARD.md").read_text()
    with pytest.raises(ValueError, match="encoders must be one of"):
        CombinedRecipe(encoders="thawed")
    # analyze with it: the tuned encoders give the branch columns too
    options = AnalysisOptions(fusion="combined", fusion_weights=str(tuned_out), words=False, plots=False)
    result = analyze(media["astronaut_talking.mp4"], options, tmp_path / "analysis")
    assert result.models["face"]["weights_sha256"] == model.face.sha256
    assert result.models["voice"]["weights_sha256"] == model.voice.sha256
    assert any(w.probabilities["fused"] for w in result.windows)
