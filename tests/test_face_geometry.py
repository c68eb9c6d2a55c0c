"""The face geometry trees: read as scikit-learn wrote them, stored without pickle, refused when
damaged, mixed into the face model they were trained beside and no other, trained by run.py."""

import json

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata
from sklearn.ensemble import HistGradientBoostingClassifier

from source.analysis.pipeline import analyze
from source.face.geometry import FaceGeometry, shipped_geometry_for
from source.face.landmarker import FaceLandmarker
from source.face.model import FaceModel
from source.face.transform import N_LANDMARK_FEATURES, landmark_features
from source.options import AnalysisOptions
from source.registry import get_model
from source.weights import WeightsError

from helpers import run_py
from test_face_model import fer_tree


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(700, N_LANDMARK_FEATURES)).astype(np.float32)
    targets = np.arange(700) % 7
    features[:, 3] += targets
    features[:, 100] -= targets
    features[::50, 3] = np.nan  # a missing value takes each node's learned side
    return HistGradientBoostingClassifier(max_iter=15, random_state=0).fit(features, targets), features


def test_trees_give_scikit_learns_probabilities_and_survive_a_round_trip(fitted, tmp_path):
    classifier, features = fitted
    trees = FaceGeometry.from_classifier(classifier)
    assert np.abs(trees.predict(features) - classifier.predict_proba(features)).max() < 1e-6
    trees.temperature, trees.share, trees.face_sha256 = 1.5, 0.3, "ab" * 32
    sha256 = trees.save(tmp_path / "trees.npz")
    again = FaceGeometry.load(tmp_path / "trees.npz", expected_sha256=sha256)
    assert (again.share, again.face_sha256, again.sha256) == (0.3, "ab" * 32, sha256)
    assert np.allclose(again.predict(features), trees.predict(features))
    with np.load(tmp_path / "trees.npz", allow_pickle=False) as saved:  # plain arrays, no pickle
        assert all(saved[name].dtype != object for name in saved.files)


def test_mixing_averages_found_faces_only(fitted):
    classifier, features = fitted
    trees = FaceGeometry.from_classifier(classifier)
    trees.share = 0.25
    cnn = np.full((3, 7), 1 / 7, dtype=np.float32)
    rows = np.stack([features[1], np.full(N_LANDMARK_FEATURES, np.nan, np.float32), features[2]])
    mixed = trees.mixed(cnn, rows)
    assert np.allclose(mixed[1], cnn[1])
    assert np.allclose(mixed[[0, 2]], 0.75 * cnn[[0, 2]] + 0.25 * classifier.predict_proba(features[[1, 2]]))
    assert np.allclose(mixed.sum(axis=1), 1)


def test_damaged_or_looping_files_are_refused_without_hanging(fitted, tmp_path):
    trees = FaceGeometry.from_classifier(fitted[0])
    path = tmp_path / "trees.npz"
    trees.save(path)
    with pytest.raises(WeightsError, match="sha256|checksum"):
        FaceGeometry.load(path, expected_sha256="0" * 64)
    (tmp_path / "cut.npz").write_bytes(path.read_bytes()[:400])
    with pytest.raises(WeightsError, match="not a readable face geometry model"):
        FaceGeometry.load(tmp_path / "cut.npz")
    looped = {name: trees.nodes[name].copy() for name in trees.nodes}
    inner = np.flatnonzero(~looped["leaf"])[0]
    looped["left"][inner] = looped["right"][inner] = inner  # a node that is its own child
    broken = FaceGeometry.__new__(FaceGeometry)
    broken.nodes, broken.roots, broken.baseline = looped, trees.roots, trees.baseline
    broken.temperature, broken.share, broken.face_sha256, broken.metrics = 1.0, 0.3, "", {}
    broken.save(tmp_path / "loop.npz")
    with pytest.raises(WeightsError, match="do not fit together"):
        FaceGeometry.load(tmp_path / "loop.npz")
    broken.nodes = {name: trees.nodes[name].copy() for name in trees.nodes}
    broken.nodes["left"][inner] = -1  # would index from the end
    broken.save(tmp_path / "negative.npz")
    with pytest.raises(WeightsError, match="do not fit together"):
        FaceGeometry.load(tmp_path / "negative.npz")


def test_the_shipped_face_model_mixes_its_trees_and_another_face_model_does_not(tmp_path):
    shipped = FaceModel.load()
    assert shipped.geometry is not None and shipped.geometry.face_sha256 == shipped.sha256
    assert shipped.geometry.sha256 == get_model("face_geometry").weights.sha256
    assert 0 < shipped.geometry.share < 1
    image = skdata.astronaut()
    with FaceLandmarker(video=False) as landmarker:
        faces = landmarker.detect(image)
    crops, extras = shipped.detection_inputs(image, faces)
    cnn = shipped.predict(crops)
    features = np.stack([landmark_features(f.landmarks, f.box, f.blendshapes) for f in faces])
    expected = (1 - shipped.geometry.share) * cnn + shipped.geometry.share * shipped.geometry.predict(features)
    assert np.allclose(shipped.predict_detections(image, faces), expected, atol=1e-5)
    embedded, _ = shipped.encode_detections(image, faces)
    assert np.allclose(embedded, shipped.embed(crops), atol=1e-5)  # the fusions read the network alone

    other = tmp_path / "other_face.pt"
    shipped.save(other, note="another file, so another sha256")
    assert FaceModel.load(other).geometry is None
    assert shipped_geometry_for("0" * 64) is None


def test_analyze_gives_the_face_branch_with_the_trees_and_names_them(media, tmp_path):
    result = analyze(media["astronaut.png"], AnalysisOptions(plots=False), tmp_path)
    shipped = FaceModel.load()
    assert result.models["face"]["geometry"] == {"model": "face_geometry", "weights_sha256": shipped.geometry.sha256,
                                                 "share": shipped.geometry.share}
    image = skdata.astronaut()
    with FaceLandmarker(video=False) as landmarker:
        faces = landmarker.detect(image)
    expected = shipped.predict_detections(image, faces)[0]
    face = result.windows[0].faces[0].emotions["probabilities"]
    assert np.allclose([face[label] for label in shipped.labels], expected, atol=2e-3)


@pytest.mark.slow
def test_train_writes_trees_mixed_with_the_shipped_face_model_and_evaluate_reads_them(tmp_path):
    data = fer_tree(tmp_path / "fer", 12, 4)
    out = tmp_path / "out" / "face_geometry.npz"
    trained = run_py("train", "--model", "face_geometry", "--data", data, "--out", out,
                     "--set", "max_iter=5", cache=tmp_path / "cache")
    assert trained.returncode == 0, trained.stderr
    assert "with the trees at a share of" in trained.stdout
    metrics = json.loads((out.parent / "metrics.json").read_text())
    trees = FaceGeometry.load(out, expected_sha256=metrics["weights_sha256"])
    assert trees.face_sha256 == get_model("face").weights.sha256 and trees.share == metrics["share"]
    assert {"face_model_accuracy", "mixed_accuracy", "cross_fitted_accuracy"} <= set(metrics["mixed"]["validation"])
    card = (out.parent / "MODEL_CARD.md").read_text()
    assert metrics["weights_sha256"] in card and "In the face branch" in card
    report = tmp_path / "evaluate.json"
    evaluated = run_py("evaluate", "--model", "face_geometry", "--data", data, "--weights", out,
                       "--split", "test", "--json", report, cache=tmp_path / "cache")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(report.read_text())["n"] <= 28


@pytest.mark.slow
def test_the_private_test_check_scores_the_face_branch_as_shipped_on_a_fer2013_csv(tmp_path):
    """The command the issue's independent check runs (`evaluate --model face --data fer2013.csv
    --split private`), on a csv of real faces: only the PrivateTest rows, the trees mixed in."""
    image = skdata.astronaut()
    with FaceLandmarker(video=False) as landmarker:
        x0, y0, x1, y1 = (int(v) for v in landmarker.detect(image)[0].box)
    gray = (image[y0:y1, x0:x1] @ [0.299, 0.587, 0.114]).astype(np.uint8)
    astronaut = np.asarray(Image.fromarray(gray).resize((48, 48)))
    lfw = (skdata.lfw_subset()[:12] * 255).astype(np.uint8)
    faces = [astronaut, *(np.asarray(Image.fromarray(face).resize((48, 48))) for face in lfw)]
    usages = ["PrivateTest"] * 5 + ["PublicTest"] * 4 + ["Training"] * 4
    rows = ["emotion,pixels,Usage"] + [f"{3 if i == 0 else i % 7},{' '.join(map(str, face.ravel()))},{usage}"
                                       for i, (face, usage) in enumerate(zip(faces, usages))]
    csv_file = tmp_path / "fer2013.csv"
    csv_file.write_text("\n".join(rows) + "\n")
    report_path = tmp_path / "private.json"
    evaluated = run_py("evaluate", "--model", "face", "--data", csv_file, "--split", "private",
                       "--json", report_path, cache=tmp_path / "cache")
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(report_path.read_text())
    shipped = FaceModel.load()
    assert report["n"] == 5 and report["weights_sha256"] == shipped.sha256
    assert report["geometry"]["sha256"] == shipped.geometry.sha256
    assert report["geometry"]["share"] == shipped.geometry.share
    assert report["geometry"]["found"] >= 0.2  # the astronaut's face at least
