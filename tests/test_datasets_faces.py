"""Face-expression datasets found by their original layouts, with bad files among them."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from source.datasets.faces import scan_face_dataset, scan_face_videos
from source.errors import DatasetError


@pytest.fixture(scope="module")
def face() -> Image.Image:
    """The astronaut's face, 48x48 grayscale, as in FER2013."""
    return Image.fromarray(data.astronaut()).crop((150, 30, 270, 150)).convert("L").resize((48, 48))


def write_tree(root, files, face):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == "face":
            face.save(path)
        else:
            path.write_bytes(content)
    return root


def test_fer2013_folders_ck_plus_and_class_folders(tmp_path, face):
    root = write_tree(tmp_path, {
        "fer/train/happy/Training_1.png": "face",
        "fer/test/sad/PublicTest_2.png": "face",
        "CK+48/anger/S005_001_00000011.png": "face",
        "CK+48/contempt/S010_002_00000014.png": "face",
        "rafdb/train/surprise/img_0001.jpg": "face",
        "rafdb/train/7/img_0002.jpg": "face",
        "fer/train/fear/Training_3.png": b"not an image",
        "fer/train/fear/Training_4.png": b"",
    }, face)
    dataset = scan_face_dataset(root)
    by_source = {s.source.replace(str(root) + "/", ""): s for s in dataset.samples}
    assert set(by_source) == {"fer/train/happy/Training_1.png", "fer/test/sad/PublicTest_2.png",
                              "CK+48/anger/S005_001_00000011.png", "rafdb/train/surprise/img_0001.jpg"}
    assert by_source["fer/test/sad/PublicTest_2.png"].split == "test"
    ck = by_source["CK+48/anger/S005_001_00000011.png"]
    assert (ck.emotion, ck.subject, ck.corpus) == ("angry", "ck+:S005", "ck+")
    assert by_source["rafdb/train/surprise/img_0001.jpg"].split == "train"
    reasons = {s.path.replace(str(root) + "/", ""): s.reason for s in dataset.skipped}
    assert reasons["CK+48/contempt/S010_002_00000014.png"].startswith("not modelled")
    assert reasons["rafdb/train/7/img_0002.jpg"].startswith("no known layout")
    assert reasons["fer/train/fear/Training_3.png"].startswith("unreadable image")
    assert reasons["fer/train/fear/Training_4.png"].startswith("empty image")
    assert by_source["fer/train/happy/Training_1.png"].image().shape == (48, 48)
    assert "skipped" in dataset.summary()


def test_fer2013_csv_with_usage_and_bad_rows(tmp_path, face):
    pixels = " ".join(map(str, np.asarray(face).reshape(-1)))
    (tmp_path / "fer2013.csv").write_text(
        "emotion,pixels,Usage\n"
        f"3,{pixels},Training\n"
        f"6,{pixels},PublicTest\n"
        f"0,{pixels},PrivateTest\n"
        f"9,{pixels},Training\n"
        "4,1 2 3,Training\n")
    dataset = scan_face_dataset(tmp_path / "fer2013.csv")
    assert [(s.emotion, s.split) for s in dataset.samples] == [
        ("happy", "train"), ("neutral", "test"), ("angry", "private")]
    assert np.array_equal(dataset.samples[0].image(), np.asarray(face))
    assert [r.reason.split(":")[0] for r in dataset.skipped] == ["bad row", "bad row"]


def test_nothing_usable_is_a_clear_error(tmp_path):
    (tmp_path / "photos").mkdir()
    with pytest.raises(DatasetError, match="No usable face images"):
        scan_face_dataset(tmp_path)
    with pytest.raises(DatasetError, match="does not exist"):
        scan_face_dataset(tmp_path / "missing")


def test_shared_fer2013(shared_data):
    dataset = scan_face_dataset(shared_data / "fer2013")
    assert len(dataset.split("train")) == 28709 and len(dataset.split("test")) == 3589
    assert not dataset.skipped


def test_labelled_video_names(tmp_path):
    names = {
        "ravdess/Actor_01/01-01-03-01-01-01-01.mp4": ("happy", "ravdess:01"),  # audio-video
        "ravdess/Actor_02/02-01-02-01-01-01-02.mp4": ("neutral", "ravdess:02"),  # video-only, calm
        "ravdess_01-01-07-02-02-01-01.mp4": ("disgust", "ravdess:01"),
        "VideoFlash/1001_DFA_ANG_XX.flv": ("angry", "crema-d:1001"),
        "M003/video/front/surprised/level_2/001.mp4": ("surprise", "mead:M003"),
        "W011_front_fear_level3_001.mp4": ("fear", "mead:W011"),
        "mead_M030_sad_level3_001.mp4": ("sad", "mead:M030"),
    }
    skipped = ["W011_front_contempt_level3_001.mp4", "ravdess/03-01-03-01-01-01-01.mp4",
               "holiday.mp4", "ravdess/01-01-09-01-01-01-01.mp4"]
    for name in [*names, *skipped]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    clips, left_out = scan_face_videos(tmp_path)
    found = {str(c.path.relative_to(tmp_path)): (c.emotion, c.subject) for c in clips}
    assert found == names
    reasons = {Path(s.path).name: s.reason for s in left_out}
    assert reasons["W011_front_contempt_level3_001.mp4"].startswith("not modelled")
    assert reasons["01-01-09-01-01-01-01.mp4"].startswith("unknown emotion")
    assert reasons["holiday.mp4"].startswith("no known layout")
    assert reasons["03-01-03-01-01-01-01.mp4"].startswith("no known layout")  # audio-only RAVDESS
