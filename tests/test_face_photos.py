"""Labelled photos in a face dataset (a posed-face set of whole frames) are read as analyze reads a
photo: the largest face cut with the model's transform and its landmarks kept for the geometry
trees, photos without a face left out and named, face crops (FER2013, CK+48, small images) taken
as they are."""

import json
import shutil
from dataclasses import replace

import numpy as np
from PIL import Image
from skimage import data as skdata

from source.datasets.faces import scan_face_dataset
from source.face.landmarker import FaceLandmarker
from source.face.model import FaceModel
from source.face.photos import PHOTO_MIN_SIDE, photo_face_samples
from source.face.train import landmark_array
from source.face.transform import landmark_features
from source.media.decode import read_image

from helpers import run_py


def posed_folder(root, media):
    """<class>/ folders: the astronaut photo twice (once on a larger canvas), a photo with no
    face, and three 48 px face crops."""
    (root / "happy").mkdir(parents=True)
    (root / "neutral").mkdir()
    shutil.copy(media["astronaut.png"], root / "happy" / "astronaut.png")
    canvas = Image.new("RGB", (1024, 768), (90, 110, 130))
    canvas.paste(Image.open(media["astronaut.png"]).convert("RGB").resize((300, 300)), (600, 300))
    canvas.save(root / "happy" / "astronaut_on_a_wall.jpg")
    Image.fromarray(skdata.coffee()).save(root / "neutral" / "coffee.png")
    for i, face in enumerate((skdata.lfw_subset()[:3] * 255).astype(np.uint8)):
        Image.fromarray(face).resize((48, 48)).save(root / "neutral" / f"crop_{i}.png")
    return root


def test_photos_give_their_largest_face_cut_as_analyze_cuts_it(media, tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_STUDIO_CACHE", str(tmp_path / "cache"))
    folder = posed_folder(tmp_path / "posed", media)
    model = FaceModel.load()
    samples = sorted(scan_face_dataset(folder).samples, key=lambda s: s.source)
    progress = []
    read, note = photo_face_samples(samples, model.transform, lambda done, total: progress.append((done, total)))
    by_name = {s.source.split("/")[-1]: s for s in read}
    assert set(by_name) == {"astronaut.png#face", "astronaut_on_a_wall.jpg#face",
                            "crop_0.png", "crop_1.png", "crop_2.png"}
    assert "3 photos" in note and f"{PHOTO_MIN_SIDE} px" in note and "no face found in 1" in note
    assert "coffee.png" in note and progress[-1] == (3, 3)
    for name in ("crop_0.png", "crop_1.png"):  # crops stay whole images, read from their files
        assert by_name[name].pixels is None
    frame = read_image(media["astronaut.png"], 1280)
    with FaceLandmarker(video=False) as landmarker:
        face = max(landmarker.detect(frame.image), key=lambda f: f.area)
    expected = model.transform.crop(frame.image, face.landmarks)
    assert np.array_equal(by_name["astronaut.png#face"].pixels, expected)
    assert by_name["astronaut_on_a_wall.jpg#face"].pixels.shape == expected.shape
    assert model.predict([by_name["astronaut.png#face"].image()])[0].argmax() == model.labels.index("happy")
    # the geometry trees read the landmarks found with the face in the photo, as analyze does
    found_with_it = landmark_features(face.landmarks, face.box, face.blendshapes)
    assert np.array_equal(by_name["astronaut.png#face"].landmarks, found_with_it)
    assert np.array_equal(landmark_array([by_name["astronaut.png#face"]])[0], found_with_it)
    # the same crop without them gets the landmarker's pass over the crop, cached apart
    assert not np.array_equal(landmark_array([replace(by_name["astronaut.png#face"], landmarks=None)])[0],
                              found_with_it)
    assert by_name["crop_0.png"].landmarks is None
    again, _ = photo_face_samples(samples, model.transform, lambda d, t: progress.append("read again"))
    assert "read again" not in progress  # cached
    assert all(np.array_equal(a.image(), b.image()) for a, b in zip(again, read))


def test_evaluate_on_a_folder_of_photos_scores_their_faces(media, tmp_path):
    folder = posed_folder(tmp_path / "posed", media)
    report_path = tmp_path / "posed.json"
    evaluated = run_py("evaluate", "--model", "face", "--data", folder, "--json", report_path,
                       cache=tmp_path / "cache")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "no face found in 1, left out" in evaluated.stdout + evaluated.stderr
    report = json.loads(report_path.read_text())
    assert report["n"] == 5
    happy = FaceModel.load().labels.index("happy")
    assert report["confusion"][happy][happy] == 2  # both astronaut photos, read by their face
