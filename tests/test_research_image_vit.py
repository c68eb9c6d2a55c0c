"""The ResNet + ViT hybrid face model: trains from the command line on a tiny FER2013 copy, its
options (focal loss, weighted sampler, differential learning rates) do what they say, predict
classifies every Nth video frame, and the shipped registry refuses to predict untrained."""

import csv
import json
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers import EVALUATE_KEYS, run_py
from source.analysis.pipeline import analyze
from source.errors import UntrainedModel
from source.face.landmarker import BLENDSHAPES_OF_INTEREST, FaceDetection
from source.fusion.research.image_vit import UNTRAINED_CARD, ImageVitModel, ImageVitNet, VitOptions, frame_record
from source.labels import scored
from source.media.decode import Frame
from source.options import AnalysisOptions
from source.paths import MODELS_DIR
from source.results.records import window_columns
from source.training.trainer import FocalLoss, TrainOptions, _parameter_groups, _sampler


def test_focal_loss_is_cross_entropy_at_gamma_zero_and_discounts_easy_samples():
    logits, target = torch.tensor([[4.0, 0.0, 0.0], [0.2, 0.1, 0.0]]), torch.tensor([0, 2])
    weight = torch.tensor([1.0, 2.0, 3.0])
    assert torch.allclose(FocalLoss(0.0, weight)(logits, target), F.cross_entropy(logits, target, weight=weight))
    easy, hard = (FocalLoss(2.0)(logits[i:i + 1], target[i:i + 1]) / F.cross_entropy(logits[i:i + 1], target[i:i + 1])
                  for i in range(2))
    assert easy < 0.01 < hard < 1



def test_a_frame_read_by_predict_is_a_window_whose_largest_face_is_the_result():
    def face(track_id, side, smile):
        return FaceDetection((0.0, 0.0, side, side), np.zeros((478, 3), np.float32), np.zeros(52, np.float32),
                             (1.0, 2.0, 3.0), {k: smile for k in BLENDSHAPES_OF_INTEREST}, track_id)

    small, large = scored({"happy": 0.9, "sad": 0.1}), scored({"happy": 0.2, "sad": 0.8})
    frame = Frame(3, 1.5, 1.5, np.zeros((4, 4, 3), np.uint8))
    window = frame_record(frame, [face(0, 10.0, 0.5), face(1, 40.0, 0.1)], [small, large], 0.5)
    assert (window.index, window.start_s, window.end_s, window.n_frames) == (3, 1.5, 2.0, 1)
    assert [(f.face_id, f.is_subject, f.fused) for f in window.faces] == [
        (0, False, small["probabilities"]), (1, True, large["probabilities"])]
    assert window.probabilities == {"face": large["probabilities"], "fused": large["probabilities"]}
    assert (window.top_emotion, window.sources, window.faces[0].blendshapes["smile"]) == ("sad", ("face",), 0.5)
    rows = window.csv_rows()
    assert [(r["face_id"], r["face_top"], r["top_emotion"]) for r in rows] == [(0, "happy", "happy"), (1, "sad", "sad")]
    empty = frame_record(frame, [], [], 0.5)  # no face: a row that says so, no result
    assert empty.top_emotion is None and empty.csv_rows() == [
        {"window": 3, "start_s": 1.5, "end_s": 2.0, "n_frames": 1, "face_found_ratio": 0.0}]


def test_weighted_sampler_balances_classes_and_backbone_gets_its_own_rate():
    class Data:
        targets = [0] * 90 + [1] * 10

    drawn = torch.tensor([Data.targets[i] for i in _sampler(Data(), torch.Generator().manual_seed(0))])
    assert 0.35 < drawn.float().mean() < 0.65  # about half from the rare class
    net = ImageVitNet(7, VitOptions(width=32, layers=1, heads=2, ffn=32, head_units=16))
    groups = _parameter_groups(net, TrainOptions(learning_rate=1e-3, backbone_lr_scale=0.1))
    assert groups[1]["lr"] == pytest.approx(1e-4)
    assert sum(p.numel() for g in groups for p in g["params"]) == sum(p.numel() for p in net.parameters())


def test_the_grid_follows_the_input_size():
    net = ImageVitNet(7, VitOptions(input_size=96, width=32, layers=1, heads=2, ffn=32, head_units=16)).eval()
    assert net.position.shape[1] == 3 * 3 + 1
    assert net(torch.zeros(2, 3, 96, 96)).shape == (2, 7)


@pytest.mark.slow
def test_image_vit_trains_evaluates_and_predicts_video_frames(shared_data, tmp_path, media):
    data = tmp_path / "fer"
    for split, count in (("train", 3), ("test", 2)):
        for folder in (shared_data / "fer2013" / split).iterdir():
            (data / split / folder.name).mkdir(parents=True)
            for image in sorted(folder.iterdir())[:count]:
                shutil.copy(image, data / split / folder.name / image.name)
    out = tmp_path / "model" / "image_vit.pt"
    small = ["network.layers=1", "network.width=64", "network.ffn=128", "network.heads=2", "train.batch_size=8",
             "transform.size=32"]
    result = run_py("train", "--model", "image_vit", "--data", data, "--out", out, "--run-dir", tmp_path / "run",
                    "--set", "train.epochs=1", *[a for s in small for a in ("--set", s)], cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out.parent / "metrics.json").read_text())
    assert metrics["validation"]["n"] == 14
    report_path = tmp_path / "eval.json"
    result = run_py("evaluate", "--model", "image_vit", "--data", data, "--weights", out, "--split", "test",
                    "--json", report_path, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    assert EVALUATE_KEYS <= set(report) and report["model"] == "image_vit"
    assert report["accuracy"] == pytest.approx(metrics["validation"]["accuracy"])
    predicted = tmp_path / "predict.json"
    result = run_py("predict", "--model", "image_vit", media["astronaut_talking.mp4"], "--weights", out,
                    "--every", 25, "--json", predicted, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    frames = json.loads(predicted.read_text())  # analyze's JSON layout: each frame read is a window
    times = [window["start_s"] for window in frames["windows"]]
    assert len(times) > 1 and all(b - a == pytest.approx(1.0, abs=0.05) for a, b in zip(times, times[1:]))
    assert all(window["n_frames"] == 1 for window in frames["windows"])
    assert frames["settings"]["face_model"] == "image_vit" and frames["models"]["face"]["model"] == "image_vit"
    with open(frames["outputs"]["windows_csv"]) as file:
        rows = list(csv.DictReader(file))
    assert rows and set(rows[0]) == set(window_columns(frames["models"]["face"]["labels"], [], words=False))
    face_rows = [row for row in rows if row["face_id"]]
    assert face_rows and all(row["face_top"] == row["top_emotion"] for row in face_rows)  # the face is the fused
    assert "timeline_png" in frames["outputs"]
    with pytest.raises(UntrainedModel, match="train --model image_vit"):  # what predict reports, shipped weights absent
        ImageVitModel.load()
    # the face branch of analyze: untrained it refuses; with the trained file it reads every face,
    # fused by late fusion ("auto")
    with pytest.raises(UntrainedModel, match="train --model image_vit"):
        analyze(media["astronaut.jpg"], AnalysisOptions(face_model="image_vit"), tmp_path / "refused")
    result = analyze(media["astronaut.jpg"], AnalysisOptions(face_model="image_vit", face_weights=str(out)),
                     tmp_path / "analysis")
    assert result.models["face"]["model"] == "image_vit"
    assert result.models["fusion"]["method"].startswith("late")
    assert any("face" in window.probabilities for window in result.windows)
    assert (MODELS_DIR / "image_vit" / "MODEL_CARD.md").read_text() == UNTRAINED_CARD
