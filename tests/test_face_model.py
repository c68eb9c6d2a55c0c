"""The face model: transform, landmark features, Grad-CAM, smoke train, predict, shipped model."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata

from source.errors import NoFaceFound, NoVideoTrack, StudioError
from source.face.cam import cam_overlay, default_layer, face_cam
from source.face.landmarker import FaceLandmarker
from source.face.model import FaceModel
from source.face.predict import frame_at, frame_cam, photo_faces
from source.face.video import clip_crops, clip_faces, video_face_samples
from source.face.train import ensemble_face, landmark_array
from source.datasets.faces import VideoClip
from source.face.transform import N_BLENDSHAPES, N_LANDMARKS, FaceTransform, landmark_features
from source.labels import EMOTIONS, get_label_set
from source.nets import EmotionNet, EnsembleNet
from source.options import CAM_METHODS, CamOptions
from source.registry import get_model

from helpers import EVALUATE_KEYS, joined_with_another_member, run_py


@pytest.fixture(scope="module")
def shipped() -> FaceModel:
    return get_model("face").load()


@pytest.fixture(scope="module")
def astronaut():
    image = skdata.astronaut()
    with FaceLandmarker(video=False) as landmarker:
        return image, landmarker.detect(image)


def test_transform_shapes_for_gray_rgb_and_any_size():
    transform = FaceTransform(size=48)
    for image in (np.zeros((48, 48), np.uint8), np.zeros((200, 160, 3), np.uint8),
                  np.full((20, 20), 255, np.uint8)):
        out = transform(image)
        assert out.shape == (3, 48, 48) and out.dtype == np.float32
        assert np.allclose(out[0], out[0].flat[0])  # a flat image stays flat
    # grayscale replicated: the channels differ only by their normalisation
    gray = np.arange(48 * 48, dtype=np.uint8).reshape(48, 48)
    out = transform(gray)
    restored = out * np.array(transform.std)[:, None, None] + np.array(transform.mean)[:, None, None]
    assert np.allclose(restored[0], restored[2], atol=1e-5)
    assert FaceTransform.from_dict(transform.to_dict()) == transform
    with pytest.raises(ValueError):
        FaceTransform(size=8)


def test_crop_of_a_real_photo_is_the_face(astronaut):
    image, faces = astronaut
    assert len(faces) == 1
    crop = FaceTransform(size=64).crop(image, faces[0].landmarks)
    assert crop.shape == (64, 64) and crop.dtype == np.uint8
    assert crop.std() > 20  # a face, not a flat patch of wall


def test_detail_cuts_frame_crops_coarser_then_scales_them(astronaut):
    image, faces = astronaut
    sharp = FaceTransform(size=80).crop(image, faces[0].landmarks)
    coarse = FaceTransform(size=80, detail=48).crop(image, faces[0].landmarks)
    assert sharp.shape == coarse.shape == (80, 80)
    # the same face region, with less fine detail: close on average, smoother pixel to pixel
    assert np.abs(sharp.astype(int) - coarse.astype(int)).mean() < 12
    assert np.abs(np.diff(coarse.astype(int), axis=1)).mean() < np.abs(np.diff(sharp.astype(int), axis=1)).mean()
    # dataset images are already face crops: only scaled, whatever the detail
    assert np.array_equal(FaceTransform(size=80, detail=48)(sharp), FaceTransform(size=80)(sharp))
    with pytest.raises(ValueError, match="detail"):
        FaceTransform(size=64, detail=80)


def test_landmark_features_are_normalised_to_the_box_and_concatenated(astronaut):
    image, faces = astronaut
    face = faces[0]
    features = landmark_features(face.landmarks, face.box, face.blendshapes)
    assert features.shape == (N_LANDMARKS * 3 + N_BLENDSHAPES,)
    xy = features[:N_LANDMARKS * 3].reshape(N_LANDMARKS, 3)[:, :2]
    assert xy.min() >= -0.01 and xy.max() <= 1.01  # the box is the landmarks' extent
    transform = FaceTransform(landmarks=True)
    assert transform.extra_features == features.size
    network = EmotionNet("mobilenet_v2", 7, extra_features=transform.extra_features)
    model = FaceModel(network, transform, get_label_set("7class"))
    probabilities = model.predict_detections(image, faces)
    assert probabilities.shape == (1, 7) and np.isclose(probabilities.sum(), 1, atol=1e-5)
    with pytest.raises(ValueError, match="landmark"):
        model.predict([np.zeros((64, 64), np.uint8)])
    # the landmark features reach the logits
    images = torch.from_numpy(transform(model.transform.crop(image, face.landmarks)))[None]
    extra = torch.from_numpy(features)[None]
    with torch.no_grad():
        assert not torch.allclose(network(images, extra), network(images, torch.zeros_like(extra)))


def test_clip_faces_give_each_frame_and_its_face_and_clip_crops_cut_crops_and_features_from_them(
        shipped, media, tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_STUDIO_CACHE", str(tmp_path / "cache"))
    with FaceLandmarker(video=False) as landmarker:
        talking = VideoClip(media["astronaut_talking.mp4"], "happy", "test:astronaut", "test", "happy")
        faces = clip_faces(talking, 6, (0.3, 0.9), landmarker)
        crops, landmarks = clip_crops(talking, shipped.transform, 6, (0.3, 0.9), landmarker)
        no_face = clip_faces(VideoClip(media["no_face.mp4"], "happy", "test:coffee", "test", "happy"),
                             4, (0.0, 1.0), landmarker)
    assert len(faces) == 6 and all(found is not None for found in faces)
    for (image, face), crop, features in zip(faces, crops, landmarks):
        assert image.shape[2] == 3 and face.landmarks.shape == (N_LANDMARKS, 3)
        assert np.array_equal(crop, shipped.transform.crop(image, face.landmarks))
        assert np.array_equal(features, landmark_features(face.landmarks, face.box, face.blendshapes))
    assert no_face == [None] * 4
    samples = video_face_samples([talking], shipped.transform, 6, (0.3, 0.9))
    assert len(samples) == 6 and all(s.source.startswith(f"{talking.path}#t=") for s in samples)
    for sample, (image, face), crop in zip(samples, faces, crops):
        assert np.array_equal(sample.image(), crop)  # the geometry trees read the landmarks found with it
        assert np.array_equal(sample.landmarks, landmark_features(face.landmarks, face.box, face.blendshapes))
        assert np.array_equal(landmark_array([sample])[0], sample.landmarks)


def test_cam_overlay_is_photo_sized_and_differs_across_classes(shipped, astronaut):
    image, faces = astronaut
    crop = shipped.transform.crop(image, faces[0].landmarks)
    happy, explained = face_cam(shipped, crop, options=CamOptions(target="happy"))
    sad, _ = face_cam(shipped, crop, options=CamOptions(target="sad"))
    assert explained == "happy"
    assert happy.shape == sad.shape == (shipped.transform.size,) * 2
    assert np.abs(happy - sad).mean() > 0.02
    assert default_layer(shipped).startswith("backbone.")
    for method in CAM_METHODS:
        overlay, targets = cam_overlay(shipped, image, faces, CamOptions(method=method))
        assert overlay.shape == image.shape and overlay.dtype == np.uint8
        assert targets == [shipped.labels[int(shipped.predict_detections(image, faces).argmax())]]
        changed = np.abs(overlay.astype(int) - image).sum(axis=2) > 0
        x0, y0, x1, y1 = (int(v) for v in faces[0].box)
        assert changed[y0:y1, x0:x1].mean() > 0.5  # the face is painted ...
        assert changed[400:, :100].mean() < 0.01  # ... the rest of the photo is not
    with pytest.raises(ValueError, match="no class"):
        face_cam(shipped, crop, options=CamOptions(target="contempt"))
    with pytest.raises(ValueError, match="no layer"):
        face_cam(shipped, crop, options=CamOptions(layer="backbone.nothing"))


def test_shipped_model_brings_transform_labels_and_calls_the_astronaut_happy(shipped, astronaut):
    assert shipped.labels == EMOTIONS
    assert shipped.transform == FaceTransform(**shipped.transform.to_dict())
    assert 1.0 / 3 < shipped.temperature < 3.0
    image, faces = astronaut
    probabilities = shipped.predict_detections(image, faces)[0]
    assert shipped.labels[int(probabilities.argmax())] == "happy"
    assert probabilities.max() > 0.5
    embedding = shipped.embed([shipped.transform.crop(image, faces[0].landmarks)])
    assert embedding.shape == (1, shipped.network.embedding_size)


def face_predict(path, out_dir: Path, json_path: Path | None = None) -> int:
    """``predict --model face PATH`` (``cli.face.predict``) writing to ``out_dir``."""
    from argparse import Namespace

    from source.cli.face import predict

    return predict(Namespace(path=path, weights=None, json=json_path, cam=False), out_dir)


def test_predict_is_the_analysis_with_the_face_branch_alone(shipped, media, tmp_path, capsys):
    report = tmp_path / "copy.json"
    assert face_predict(media["astronaut.png"], tmp_path, report) == 0
    shown = capsys.readouterr().out
    assert "face 0: happy (" in shown and "mean over 1 window" in shown
    photo = json.loads(report.read_text())
    assert photo == json.loads((tmp_path / "astronaut_analysis.json").read_text())
    assert sorted(photo["models"]) == ["face", "fusion"]  # no voice, no words
    assert photo["models"]["face"]["weights_sha256"] == shipped.sha256
    [window] = photo["windows"]  # a photo is one window
    [face] = window["faces"]
    assert face["face_id"] == 0 and face["emotions"]["top_emotion"] == "happy"
    assert sorted(p.name for p in tmp_path.iterdir()) == [  # the analysis files, no plots
        "astronaut_analysis.json", "astronaut_frames.csv", "astronaut_windows.csv", "copy.json"]
    _, entries = photo_faces(shipped, frame_at(media["astronaut.png"]))  # the app's photo view
    assert [entry["face_id"] for entry in entries] == [0] and entries[0]["top_emotion"] == "happy"
    box = entries[0]["box"]
    assert 150 < box[0] < 220 and 240 < box[2] < 300  # her face in the 512 px photo

    assert face_predict(media["astronaut_talking.mp4"], tmp_path) == 0
    video = json.loads((tmp_path / "astronaut_talking_analysis.json").read_text())
    assert len(video["windows"]) > 1 and all(window["faces"] for window in video["windows"])
    assert video["faces"]["tracks"][0]["frames"] > 10
    shown = capsys.readouterr().out
    assert "face 0: happy (" in shown and f"mean over {len(video['windows'])} windows" in shown

    before = sorted(tmp_path.iterdir())
    with pytest.raises(NoVideoTrack, match="holds no picture"):
        face_predict(media["speech.wav"], tmp_path)
    assert sorted(tmp_path.iterdir()) == before  # refused before any work
    empty = tmp_path / "wall.png"
    Image.fromarray(np.full((240, 320, 3), 180, np.uint8)).save(empty)
    assert face_predict(empty, tmp_path) == 0
    shown = capsys.readouterr().out
    assert "(no face)" in shown and "note: No face was found in any frame" in shown
    assert json.loads((tmp_path / "wall_analysis.json").read_text())["windows"][0]["faces"] == []
    with pytest.raises(NoFaceFound):
        frame_cam(shipped, frame_at(empty))
    frame = frame_at(media["astronaut_talking.mp4"], 2.0)
    assert 2.0 <= frame.time_s < 2.2
    overlay, explained = frame_cam(shipped, frame, CamOptions(method="eigencam"))
    assert overlay.shape == frame.image.shape and len(explained) == 1


def test_predict_cli_writes_cam_overlay_and_json(media, tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_STUDIO_OUTPUT", str(tmp_path))
    overlay, report = tmp_path / "cam.png", tmp_path / "faces.json"
    done = run_py("predict", "--model", "face", media["astronaut.png"], "--cam",
                  "--cam-method", "gradcam++", "--cam-target", "surprise", "--cam-out", overlay,
                  "--json", report, cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    assert "gradcam++ for surprise" in done.stdout
    with Image.open(overlay) as picture:
        assert picture.size == (512, 512)
    result = json.loads(report.read_text())
    assert result["cam"] == {"path": str(overlay), "method": "gradcam++", "time_s": 0.0, "explained": ["surprise"]}
    assert result["windows"][0]["faces"][0]["emotions"]["top_emotion"] == "happy"  # the analysis JSON's copy
    assert "face 0: happy" in done.stdout and f"wrote {tmp_path / 'astronaut_analysis.json'}" in done.stdout
    refused = run_py("predict", "--model", "voice_mfcc", media["speech.wav"], "--cam", cache=tmp_path / "cache")
    assert refused.returncode != 0 and "--cam explains face models" in refused.stderr


def fer_tree(root: Path, train_per_class: int, test_per_class: int) -> Path:
    """A FER2013 Kaggle-layout tree of real faces (scikit-image's LFW subset), labels dealt
    round-robin: for exercising training, not for learning emotions."""
    faces = (skdata.lfw_subset()[:100] * 255).astype(np.uint8)
    index = 0
    for split, prefix, count in (("train", "Training", train_per_class), ("test", "PublicTest", test_per_class)):
        for emotion in ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"):
            folder = root / split / emotion
            folder.mkdir(parents=True)
            for _ in range(count):
                Image.fromarray(faces[index % 100]).resize((48, 48)).save(folder / f"{prefix}_{index}.png")
                index += 1
    return root


@pytest.mark.slow
def test_smoke_train_resume_evaluate_and_ensemble(tmp_path):
    data = fer_tree(tmp_path / "fer", 6, 2)
    weights, run_dir = tmp_path / "out" / "face.pt", tmp_path / "run"
    common = ("train", "--model", "face", "--data", data, "--out", weights, "--run-dir", run_dir,
              "--set", "transform.size=32", "--set", "train.batch_size=8",
              "--set", "train.time_limit_min=null")
    first = run_py(*common, "--set", "train.epochs=1", cache=tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    assert "validation: accuracy" in first.stdout
    metrics = json.loads((weights.parent / "metrics.json").read_text())
    assert metrics["sizes"] == {"train": 42, "validation": 14, "test": 0}
    assert (weights.parent / "confusion_validation.png").stat().st_size > 1000
    card = (weights.parent / "MODEL_CARD.md").read_text()
    assert "mobilenet_v2" in card and metrics["weights_sha256"] in card
    second = run_py(*common, "--set", "train.epochs=2", cache=tmp_path / "cache")
    assert second.returncode == 0, second.stderr
    metrics = json.loads((weights.parent / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]
    refused = run_py(*common, "--set", "train.learning_rate=0.1", cache=tmp_path / "cache")
    assert refused.returncode == 1 and "different training run" in refused.stderr
    model = FaceModel.load(weights)
    assert model.transform.size == 32
    report_path = tmp_path / "evaluate.json"
    evaluated = run_py("evaluate", "--model", "face", "--data", data, "--weights", weights,
                       "--split", "test", "--json", report_path, cache=tmp_path / "cache")
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(report_path.read_text())
    assert EVALUATE_KEYS <= set(report)
    assert report["n"] == 14 and sum(map(sum, report["confusion"])) == 14
    assert report["weights_sha256"] == metrics["weights_sha256"]

    # a second member on the same split (another initialisation), joined into an ensemble
    torch.manual_seed(1)
    face = np.asarray(Image.open(next((data / "test" / "happy").iterdir())))
    ensemble, ensemble_metrics, other_weights = joined_with_another_member(
        model, weights, EmotionNet("mobilenet_v2", 7, flip_average=True), data, tmp_path, face)
    assert ensemble_metrics["validation"]["n"] == 14 and "test" not in ensemble_metrics
    card = (tmp_path / "ensemble" / "MODEL_CARD.md").read_text()
    assert "an ensemble of 2 CNNs on 32px" in card and "Members" in card
    # it writes no recipe.json: the card points to the members' own
    assert "each member's own" in card and "`recipe.json` in this folder" not in card
    assert not (tmp_path / "ensemble" / "recipe.json").exists()
    # Grad-CAM explains every member on its own layer and averages their maps
    heat, _ = face_cam(ensemble, face)
    first_only, _ = face_cam(model, face)
    assert heat.shape == (32, 32) and not np.allclose(heat, first_only, atol=1e-3)
    with pytest.raises(ValueError, match="one per member"):
        face_cam(ensemble, face, options=CamOptions(layer="backbone.features.1, backbone.features.1, "
                                                          "backbone.features.1"))
    # refusals: another crop size, the same file twice, another split, an ensemble as a member
    other_size = tmp_path / "other_48px.pt"
    FaceModel(EmotionNet("mobilenet_v2", 7), FaceTransform(size=48), model.label_set, 2.0, model.metrics).save(other_size)
    with pytest.raises(StudioError, match="another face transform"):
        ensemble_face(data, [weights, other_size], tmp_path / "x.pt", log=lambda line: None)
    with pytest.raises(StudioError, match="given twice"):
        ensemble_face(data, [weights, weights], tmp_path / "x.pt", log=lambda line: None)
    with pytest.raises(StudioError, match="not as the members were trained"):
        ensemble_face(data / "train", [weights, other_weights], tmp_path / "x.pt", log=lambda line: None)
    with pytest.raises(StudioError, match="an ensemble already"):
        ensemble_face(data, [tmp_path / "ensemble" / "ensemble.pt", weights], tmp_path / "x.pt", log=lambda line: None)


@pytest.mark.slow
def test_training_can_start_from_a_trained_face_model_at_another_crop_size(tmp_path):
    from source.face.train import FaceRecipe, build_network, _face_card

    def saved(network, name: str) -> str:
        FaceModel(network, FaceTransform(size=64), get_label_set("7class")).save(tmp_path / name)
        return str(tmp_path / name)

    torch.manual_seed(0)
    start = saved(EmotionNet("mobilenet_v2", 7, flip_average=True), "face_64px.pt")
    recipe = FaceRecipe(start_weights=start, transform=FaceTransform(size=96))
    network, trained = build_network(recipe), FaceModel.load(start)
    assert all(torch.equal(a, b) for a, b in zip(network.state_dict().values(), trained.network.state_dict().values()))
    assert trained.sha256 in _face_card(recipe)[1][0]
    with pytest.raises(StudioError, match="start_weights must match"):
        build_network(FaceRecipe(backbone="resnet18", imagenet=False, start_weights=start))
    ensemble = saved(EnsembleNet([EmotionNet("mobilenet_v2", 7) for _ in range(2)], [1.0, 1.0]), "ensemble.pt")
    with pytest.raises(StudioError, match="is an ensemble"):
        build_network(FaceRecipe(start_weights=ensemble))


@pytest.mark.slow
def test_shipped_model_on_fer2013_public_test(shipped, shared_data):
    """FER2013's PublicTest picked the best epoch, the temperature and the trees' share: a check
    that the shipped files are the ones the cards describe, not an independent test."""
    from source.face.train import evaluate_face

    fer = shared_data / "fer2013"
    if not fer.is_dir():
        pytest.skip("../shared/data/fer2013 is not here")
    report = evaluate_face(fer, split="test", log=lambda line: None)
    assert report["n"] == 3589
    # the face branch as shipped: the geometry trees mixed in, as their card reports it
    assert report["geometry"]["sha256"] == shipped.geometry.sha256
    mixed = shipped.geometry.metrics["mixed"]["validation"]
    assert abs(report["accuracy"] - mixed["mixed_accuracy"]) < 0.005
    assert abs(mixed["face_model_accuracy"] - shipped.metrics["validation"]["accuracy"]) < 0.005
