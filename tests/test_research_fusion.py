"""The research fusion families: each trains end to end from the command line on a tiny copy of
the paired data (one epoch), writes the evaluate JSON and a card, refuses to predict while it
ships untrained, and predicts a video with the weights it trained."""

import csv
import json

import numpy as np
import pytest
import torch

from helpers import EVALUATE_KEYS, run_py
from source.voice.features import MfccTransform
from source.voice.model import VoiceModel
from source.errors import UntrainedModel
from source.face.model import FaceModel
from source.face.transform import FaceTransform
from source.fusion.encodings import EncodedItems
from source.fusion.research.families import C3D_FUSION, IA_FUSION, IT_FUSION, LATE_FUSION, LT_FUSION, XATTN_FUSION
from source.fusion.research.family import FamilyModel, evaluate_family
from source.fusion.research.raw_items import RawItems
from source.fusion.research.recipes import LtRecipe, XAttnRecipe
from source.fusion.research.late_fusion import WeightedLateNet
from source.fusion.windows import fusion_data
from source.labels import get_label_set
from source.nets import EmotionNet, EnsembleNet, HeadOptions
from source.paths import MODELS_DIR
from source.results.records import window_columns
from test_combined import paired_data


@pytest.fixture(scope="module")
def tiny(shared_data, tmp_path_factory):
    """The tiny paired data and one feature cache for every family of this module."""
    root = tmp_path_factory.mktemp("research")
    return paired_data(shared_data, root / "data"), root / "cache"


def train_and_evaluate(family, tiny, tmp_path, *settings, evaluate_cli: bool = False):
    """Train from the command line; evaluate in process (``evaluate_cli``: from the command line
    too, which one family checks: each run.py costs seconds of imports)."""
    data, cache = tiny
    out = tmp_path / "model" / f"{family.name}.pt"
    result = run_py("train", "--model", family.name, "--data", data, "--out", out, "--run-dir", tmp_path / "run",
                    *[arg for s in settings for arg in ("--set", s)], cache=cache)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out.parent / "metrics.json").read_text())
    # the combined model's split: the same test subjects for every family
    assert set(metrics["split"]["test"]) == {"ravdess:19", "mead:M030"}
    test = metrics["test"]
    assert test["accuracy"] <= test["top5_accuracy"]  # the top emotion is among the top five
    for share in (test["accuracy"], test["top5_accuracy"]):  # shares of the n test windows
        assert share * test["n"] == pytest.approx(round(share * test["n"]))
    if evaluate_cli:
        report_path = tmp_path / "eval.json"
        result = run_py("evaluate", "--model", family.name, "--data", data, "--weights", out, "--json", report_path,
                        cache=cache)
        assert result.returncode == 0, result.stderr
        report = json.loads(report_path.read_text())
    else:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("EMOTION_STUDIO_CACHE", str(cache))
            report = evaluate_family(family, data, out, log=lambda _: None)
    assert EVALUATE_KEYS | {"top5_accuracy"} <= set(report) and report["model"] == family.name
    assert report["n"] == metrics["test"]["n"] and report["accuracy"] == pytest.approx(metrics["test"]["accuracy"])
    return out, metrics


def check_trained_and_card(family, out, metrics):
    """The trained file loads with its parameter count; the shipped card matches what ships."""
    assert "## Metrics on the test windows" in (out.parent / "MODEL_CARD.md").read_text()
    model = FamilyModel.load(family, out)
    assert sum(p.numel() for p in model.network.parameters()) == metrics["parameters"]
    shipped_card = (MODELS_DIR / family.name / "MODEL_CARD.md").read_text()
    if family.shipped_sha256 is not None:
        assert FamilyModel.load(family).sha256 == family.shipped_sha256
        assert family.shipped_sha256 in shipped_card
        return
    # untrained in the studio: its card says so, and loading it names the train command instead of guessing
    assert shipped_card == family.untrained_card()
    assert f"python run.py train --model {family.name} --data" in shipped_card
    with pytest.raises(UntrainedModel, match=f"ships untrained.*train --model {family.name}"):
        FamilyModel.load(family)


@pytest.mark.slow
@pytest.mark.parametrize("family, settings", [
    (XATTN_FUSION, ["train.epochs=1", "partners=2"]),
    (IT_FUSION, ["train.epochs=1", "network.dropout_mode=noise"]),
    (IA_FUSION, ["train.epochs=1", "network.dropout_mode=nodropout", "network.heads=1"]),
    (C3D_FUSION, ["train.epochs=1", "network.size=56"]),  # 56 px: a quarter of the 3D convolutions
], ids=lambda value: getattr(value, "name", ""))
def test_family_trains_from_the_command_line(family, settings, tiny, tmp_path):
    out, metrics = train_and_evaluate(family, tiny, tmp_path, *settings, evaluate_cli=family is XATTN_FUSION)
    check_trained_and_card(family, out, metrics)
    if family is C3D_FUSION:  # the reference design's MFCC map: 40 coefficients x 44 frames
        assert FamilyModel.load(family, out).inputs.voice_transform.output_shape == (3, 44, 40)


@pytest.mark.slow
def test_lt_fusion_trains_refuses_untrained_and_slides_windows_over_a_video(tiny, tmp_path, media):
    out, metrics = train_and_evaluate(LT_FUSION, tiny, tmp_path, "train.epochs=1")
    check_trained_and_card(LT_FUSION, out, metrics)
    result = run_py("predict", "--model", "lt_fusion", media["astronaut_talking.mp4"], cache=tiny[1])
    assert result.returncode != 0 and "train --model lt_fusion" in result.stdout + result.stderr
    report = tmp_path / "predict.json"
    result = run_py("predict", "--model", "lt_fusion", media["astronaut_talking.mp4"], "--weights", out,
                    "--json", report, cache=tiny[1])
    assert result.returncode == 0, result.stderr
    analysis = json.loads(report.read_text())  # laid out as analyze's JSON, its windows as WindowRecord's
    windows = analysis["windows"]
    assert [w["start_s"] for w in windows][:3] == [0.0, 1.0, 2.0]  # 3.6 s windows every second
    assert all(w["end_s"] - w["start_s"] <= 3.6 + 1e-6 for w in windows)
    assert any(w["faces"] and w["faces"][0]["face_found_ratio"] > 0 for w in windows)
    # one person, each frame looked at once and tracked across the overlapping windows: one id
    assert len({w["faces"][0]["face_id"] for w in windows if w["faces"]}) == 1
    assert all(w["speech"]["speech_ratio"] >= 0 for w in windows) and analysis["settings"]["fusion"] == "lt_fusion"
    for window in windows:
        assert sum(window["probabilities"]["fused"].values()) == pytest.approx(1, abs=1e-3)
        assert window["top_emotion"] == max(window["probabilities"]["fused"], key=window["probabilities"]["fused"].get)
    with open(analysis["outputs"]["windows_csv"]) as file:  # the windows CSV's columns, no branch scored alone
        assert next(csv.reader(file)) == window_columns([], [], words=False)
    assert {"timeline_png", "plots_html"} <= set(analysis["outputs"])


def test_raw_and_encoded_families_see_the_same_validation_and_test_windows(tiny, monkeypatch):
    data, cache = tiny
    monkeypatch.setenv("EMOTION_STUDIO_CACHE", str(cache))
    voice, face = VoiceModel.load(), FaceModel.load()
    encoded = fusion_data(data, XAttnRecipe(), EncodedItems(voice, face))
    raw = fusion_data(data, LtRecipe(), RawItems(face.transform, voice.transform))
    for part in ("validation", "test"):
        assert np.array_equal(encoded.parts[part].pairs, raw.parts[part].pairs)
        assert np.array_equal(encoded.parts[part].targets, raw.parts[part].targets)
    # raw items are the crops themselves: a window's 16 frames at the face model's crop size
    inputs, _ = raw.parts["test"][0]
    assert inputs[2].shape == (16, face.transform.size ** 2) and inputs[2].max() > 1
    # in training, the raw families pair each clip with one face sequence per epoch, not four
    clips = (raw.parts["train"].pairs[:, 0] >= 0).sum()
    assert clips == len(set(raw.parts["train"].pairs[:, 0][raw.parts["train"].pairs[:, 0] >= 0]))


@pytest.mark.slow
def test_late_fusion_tunes_the_face_weight_on_validation(tiny, tmp_path):
    out, metrics = train_and_evaluate(LATE_FUSION, tiny, tmp_path)
    chosen = max(metrics["grid"], key=lambda g: g["macro_f1"])
    assert metrics["face_weight"] in [g["face_weight"] for g in metrics["grid"] if g["macro_f1"] == chosen["macro_f1"]]
    assert len(metrics["grid"]) == 21
    assert "face's weight chosen" in (out.parent / "MODEL_CARD.md").read_text()


def test_weighted_late_net_is_the_weighted_mean_of_the_branches():
    torch.manual_seed(0)
    net = WeightedLateNet(8, 6, 7).eval()
    net.temperatures.copy_(torch.tensor([1.5, 0.8]))
    voice, faces = torch.randn(3, 8), torch.randn(3, 4, 6)
    mask = torch.tensor([[True, True, False, False], [True, True, True, True], [False] * 4])
    voice_present = torch.tensor([True, False, True])
    with torch.no_grad():
        voice_p = torch.softmax(net.voice_head(voice) / 1.5, dim=1)
        face_p = torch.stack([torch.softmax(net.face_head(faces[i][mask[i]]) / 0.8, dim=1).mean(0) if mask[i].any()
                              else torch.zeros(7) for i in range(3)])
    for weight in (0.5, 0.8, 1.0):
        net.face_weight.fill_(weight)
        with torch.no_grad():
            fused = net(voice, voice_present, faces, mask, torch.zeros(3, 9), torch.zeros(3, dtype=torch.bool)).exp()
        # both branches: the weighted mean; one branch: that branch, whatever its weight
        expected = (1 - weight) * voice_p[0] + weight * face_p[0] if weight < 1 else face_p[0]
        assert np.allclose(fused[0], expected, atol=1e-5)
        assert np.allclose(fused[1], face_p[1], atol=1e-5)
        assert np.allclose(fused[2], voice_p[2], atol=1e-5)


def test_weighted_late_net_over_an_ensemble_voice_model_gives_its_probabilities():
    torch.manual_seed(0)
    members = [EmotionNet("mobilenet_v2", 7, HeadOptions(units=16)), EmotionNet("mobilenet_v2", 7, HeadOptions(units=8))]
    voice = VoiceModel(EnsembleNet(members, [1.2, 0.9]), MfccTransform(), get_label_set("7class"), 0.8)
    face = FaceModel(EmotionNet("mobilenet_v2", 7, HeadOptions(units=6)), FaceTransform(), get_label_set("7class"))
    net = WeightedLateNet.over(voice, face).eval()
    rebuilt = WeightedLateNet.from_config(net.config())
    rebuilt.load_state_dict(net.state_dict())
    features = torch.randn(2, 3, 126, 13)
    with torch.no_grad():
        embedded, expected = voice.encode(features)
        fused = rebuilt.eval()(embedded, torch.ones(2, dtype=torch.bool), torch.zeros(2, 4, 6),
                               torch.zeros(2, 4, dtype=torch.bool), torch.zeros(2, 9), torch.zeros(2, dtype=torch.bool))
    assert net.config()["voice_ensemble"]["sizes"] == [16, 8] and "face_ensemble" not in net.config()
    assert np.allclose(fused.exp(), expected, atol=1e-5)


def test_a_family_reads_the_face_branchs_embeddings_with_the_answers_of_its_own_pass(media, tmp_path, monkeypatch):
    """In ``analyze`` a family over the analysis's face model reads the embeddings the face branch
    kept instead of encoding the same crops again; its answers are those of encoding them."""
    from source.analysis.pipeline import analyze
    from source.fusion.research import predict
    from source.options import AnalysisOptions

    own_pass = predict.kept_face_embeddings
    kept_found = []

    def spy(picked, model):
        kept = own_pass(picked, model)
        kept_found.append(kept is not None)
        return kept

    options = AnalysisOptions(fusion="late_fusion")
    monkeypatch.setattr(predict, "kept_face_embeddings", spy)
    kept = analyze(media["astronaut_talking.mp4"], options, tmp_path / "kept")
    assert kept_found and all(kept_found)
    monkeypatch.setattr(predict, "kept_face_embeddings", lambda picked, model: None)  # encode the crops
    encoded = analyze(media["astronaut_talking.mp4"], options, tmp_path / "encoded")
    assert len(kept.windows) == len(encoded.windows) > 1
    for ours, theirs in zip(kept.windows, encoded.windows):
        assert ours.probabilities["fused"] == pytest.approx(theirs.probabilities["fused"], abs=1e-3)
