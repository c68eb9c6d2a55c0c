"""Face landmarks, aligned crops and tracking on the real astronaut photo and videos."""

import cv2
import numpy as np
import pytest
from PIL import Image

from source.face.align import aligned_crop
from source.face.landmarker import BLENDSHAPES_OF_INTEREST, FaceLandmarker, head_pose
from source.face.tracker import FaceTracker, iou
from source.media.decode import DecodeReport, iter_frames


@pytest.fixture(scope="module")
def astronaut(media):
    return np.asarray(Image.open(media["astronaut.png"]).convert("RGB"))


@pytest.fixture(scope="module")
def still_landmarker():
    with FaceLandmarker(video=False) as landmarker:
        yield landmarker


def _eye_angle(landmarks):
    a = landmarks[[33, 133], :2].mean(axis=0)
    b = landmarks[[362, 263], :2].mean(axis=0)
    left, right = sorted([a, b], key=lambda p: p[0])
    return np.degrees(np.arctan2(right[1] - left[1], right[0] - left[0]))


def test_astronaut_face_landmarks_and_blendshapes(astronaut, still_landmarker):
    faces = still_landmarker.detect(astronaut)
    assert len(faces) == 1
    face = faces[0]
    assert face.landmarks.shape == (478, 3)
    assert face.blendshapes.shape == (52,)
    assert len(still_landmarker.blendshape_names) == 52
    x0, y0, x1, y1 = face.box  # her face is in the upper middle of the photo
    assert 150 < x0 < 200 and 260 < x1 < 300 and 40 < y0 < 100 and 150 < y1 < 200
    shapes = face.expressions
    assert set(shapes) == set(BLENDSHAPES_OF_INTEREST)
    assert shapes["smile"] > 0.5  # she is smiling broadly
    assert all(abs(angle) < 30 for angle in face.head_pose)


def test_aligned_crop_levels_the_eyes(astronaut, still_landmarker):
    height, width = astronaut.shape[:2]
    tilted = cv2.warpAffine(astronaut, cv2.getRotationMatrix2D((width / 2, height / 2), 20, 1.0),
                            (width, height), borderMode=cv2.BORDER_REPLICATE)
    face = still_landmarker.detect(tilted)[0]
    assert abs(_eye_angle(face.landmarks)) > 12
    crop = aligned_crop(tilted, face.landmarks, size=256)
    assert crop.shape == (256, 256, 3) and crop.dtype == np.uint8
    refound = still_landmarker.detect(crop)
    assert len(refound) == 1
    assert abs(_eye_angle(refound[0].landmarks)) < 4
    x0, y0, x1, y1 = refound[0].box  # the face fills the middle of the crop
    assert x0 > 0 and y0 > 0 and x1 < 256 and y1 < 256 and (x1 - x0) > 150


def test_default_crop_size(astronaut, still_landmarker):
    face = still_landmarker.detect(astronaut)[0]
    assert aligned_crop(astronaut, face.landmarks).shape == (64, 64, 3)


def test_head_pose_of_identity_is_zero():
    assert head_pose(np.eye(4)) == (0.0, 0.0, 0.0)


def test_tracker_keeps_ids_and_expires_tracks():
    tracker = FaceTracker(min_iou=0.3, max_gap_s=1.0)
    left, right = (0, 0, 100, 100), (300, 0, 380, 80)
    assert tracker.update(0.0, [right, left]) == [1, 0]  # new ids left to right
    assert tracker.update(0.25, [(5, 0, 105, 100), (305, 0, 385, 80)]) == [0, 1]
    assert tracker.update(0.5, [(310, 0, 390, 80)]) == [1]  # left face missing for a while
    assert tracker.update(2.0, [(5, 0, 105, 100)]) == [2]  # gap too long: a new track
    assert tracker.subject_id() == 0
    assert iou(left, left) == 1.0 and iou(left, right) == 0.0


def test_face_found_in_every_frame_of_the_talking_clip(media):
    frames = list(iter_frames(media["astronaut_talking.mp4"], 4.0, 1280, DecodeReport()))
    with FaceLandmarker() as landmarker:
        counts = [len(landmarker.detect(f.image, f.time_s)) for f in frames]
    assert counts == [1] * len(frames)


def test_no_face_in_the_coffee_clip(media):
    frames = list(iter_frames(media["no_face.mp4"], 4.0, 1280, DecodeReport()))
    with FaceLandmarker() as landmarker:
        assert all(not landmarker.detect(f.image, f.time_s) for f in frames)
