"""Small faces in large frames: the landmarker's second pass (tiles, then a region per face).

The pictures are built from skimage's astronaut photo, as tests/media_fixtures.py builds the test
media: the 512x512 photo pasted on large canvases, her head pasted twice on a wide backdrop."""

import numpy as np
import pytest
from media_fixtures import ASTRONAUT_FACE_BOX, TWO_FACES_TILE_BOX, _astronaut, _backdrop
from PIL import Image

from source.face.landmarker import (MIN_FACE_PX, SCAN_EMPTY_S, SCAN_EVERY_S, FaceLandmarker,
                                    no_face_hint, scan_tiles)
from source.face.tracker import FaceTracker, iou
from source.media.decode import DecodeReport, iter_frames, read_image

GREY = (110, 110, 110)


@pytest.fixture(scope="module")
def landmarkers():
    """(with the second pass, first pass only), both for stills."""
    with FaceLandmarker(video=False) as both, FaceLandmarker(video=False, small_faces=False) as first:
        yield both, first


def _shifted(box, dx, dy, k=1.0):
    return (box[0] * k + dx, box[1] * k + dy, box[2] * k + dx, box[3] * k + dy)


def _heads_frame(size, heads):
    """A backdrop of ``size`` with the astronaut's head tile pasted at each (scale, left, top);
    returns the frame and where each face is (ASTRONAUT_FACE_BOX moved with its tile)."""
    tile = _astronaut().crop(TWO_FACES_TILE_BOX)
    frame = _backdrop(size).convert("RGB")
    boxes = []
    for scale, left, top in heads:
        frame.paste(tile.resize((round(tile.width * scale), round(tile.height * scale)),
                                Image.Resampling.BICUBIC), (left, top))
        face = _shifted(ASTRONAUT_FACE_BOX, -TWO_FACES_TILE_BOX[0], -TWO_FACES_TILE_BOX[1])
        boxes.append(_shifted(face, left, top, scale))
    return np.asarray(frame), boxes


def _matches(faces, boxes):
    """Each expected face box is overlapped well by exactly one found face."""
    return len(faces) == len(boxes) and all(
        sum(iou(face.box, box) > 0.4 for face in faces) == 1 for box in boxes)


@pytest.mark.parametrize("side", [1024, 1536, 2048])
def test_astronaut_on_a_large_canvas_is_found(side, tmp_path, landmarkers):
    """As the studio reads the picture: scaled to 1280 px, so on 2048 px her 95 px face is 59 px."""
    canvas = Image.new("RGB", (side, side), GREY)
    left, top = side - 512 - side // 8, side // 6  # off the centre, as a photo's subject often is
    canvas.paste(_astronaut(), (left, top))
    path = tmp_path / f"canvas_{side}.png"
    canvas.save(path)
    frame = read_image(path, 1280)
    face_box = _shifted(ASTRONAUT_FACE_BOX, left, top, 1.0)
    expected = _shifted(face_box, 0, 0, frame.scale)
    both, first = landmarkers
    assert first.detect(frame.image) == []  # the whole-frame pass alone misses her
    faces = both.detect(frame.image)
    assert _matches(faces, [expected]), [f.box for f in faces]
    face = faces[0]
    x0, y0, x1, y1 = face.box  # landmarks come back in frame pixels, inside the frame
    assert np.all((face.landmarks[:, 0] >= x0) & (face.landmarks[:, 0] <= x1))
    assert np.all((face.landmarks[:, 1] >= y0) & (face.landmarks[:, 1] <= y1))
    assert face.expressions["smile"] > 0.5 and all(abs(angle) < 30 for angle in face.head_pose)


def test_two_faces_of_90_px_in_a_wide_photo(landmarkers):
    heads = [(200 / 210, 150, 140), (200 / 210, 700, 220)]  # faces about 90 px wide
    frame, boxes = _heads_frame((1024, 512), heads)
    assert all(85 < box[2] - box[0] < 95 for box in boxes)
    both, first = landmarkers
    assert first.detect(frame) == []
    faces = both.detect(frame)
    assert _matches(faces, boxes), [f.box for f in faces]
    assert all(face.expressions["smile"] > 0.5 for face in faces)
    # numbered left to right, as every picture's faces are
    FaceTracker().assign(0.0, faces)
    assert sorted(faces, key=lambda f: f.box[0])[0].track_id == 0


def test_a_112_px_face_in_a_1280_frame(landmarkers):
    frame, boxes = _heads_frame((1280, 1280), [(112 / 95, 820, 560)])
    both, first = landmarkers
    assert first.detect(frame) == []
    assert _matches(both.detect(frame), boxes)


def test_a_40_px_face_is_the_limit(landmarkers):
    """Faces from about MIN_FACE_PX are found; the hint states that limit."""
    both, _ = landmarkers
    frame, boxes = _heads_frame((1280, 720), [(44 / 95, 400, 300)])
    assert MIN_FACE_PX - 2 < boxes[0][2] - boxes[0][0] < MIN_FACE_PX + 6
    assert _matches(both.detect(frame), boxes)
    assert f"{MIN_FACE_PX} pixels" in no_face_hint()


def test_tiles_are_bounded_for_any_frame_size():
    assert scan_tiles(300, 200) == []  # small frames: the whole-frame pass sees 40 px faces
    counts = {side: len(scan_tiles(side, side * 9 // 16)) for side in (640, 1280, 1920, 4096)}
    assert counts[1280] <= 50 and max(counts.values()) <= 50
    for width, height in ((1280, 720), (720, 1280), (1024, 512), (4096, 2304)):
        tiles = scan_tiles(width, height)
        covered = np.zeros((height, width), dtype=bool)
        for x0, y0, x1, y1 in tiles:
            covered[y0:y1, x0:x1] = True
        assert covered.all()


def _two_small_faces_frames(seconds, fps=4):
    """Two heads (faces about 52 and 76 px) drifting across a 1280x720 frame."""
    for i in range(int(seconds * fps)):
        t = i / fps
        frame, boxes = _heads_frame((1280, 720), [(0.55, round(200 + 40 * t), 300),
                                                  (0.8, round(900 - 30 * t), round(150 + 10 * t))])
        yield t, frame, boxes


def test_small_faces_in_video_keep_their_ids_at_bounded_cost():
    tracker = FaceTracker()
    seconds = 4.0
    with FaceLandmarker() as landmarker:
        for t, frame, boxes in _two_small_faces_frames(seconds):
            faces = landmarker.detect(frame, t)
            tracker.assign(t, faces)
            assert _matches(faces, boxes), (t, [f.box for f in faces])
            by_left = sorted(faces, key=lambda f: f.box[0])
            assert [f.track_id for f in by_left] == [0, 1], t
        # found once on tiles, then followed in a region each per frame
        assert landmarker.scans == 1 + int(seconds // SCAN_EVERY_S)
        assert landmarker.regions <= 2 * 4 * seconds + 2 * 2 * landmarker.scans


def test_one_large_face_needs_no_second_pass(media):
    """The common case: after the first frame's scan, every frame is found by the first pass."""
    frames = list(iter_frames(media["astronaut_talking.mp4"], 4.0, 1280, DecodeReport()))
    with FaceLandmarker() as landmarker:
        assert len(landmarker.detect(frames[0].image, frames[0].time_s)) == 1
        assert landmarker.scans == 1  # the first frame is scanned for small faces beside hers
        searched = landmarker.regions  # the detector's false proposals, each rejected in its region
        counts = [len(landmarker.detect(f.image, f.time_s)) for f in frames[1:]]
        assert counts == [1] * (len(frames) - 1)
        assert landmarker.scans == 1 and landmarker.regions == searched


def test_a_video_without_faces_is_scanned_at_most_every_second(media):
    frames = list(iter_frames(media["no_face.mp4"], 4.0, 1280, DecodeReport()))
    with FaceLandmarker() as landmarker:
        assert all(not landmarker.detect(f.image, f.time_s) for f in frames)
        duration = frames[-1].time_s
        assert 1 <= landmarker.scans <= 1 + duration / SCAN_EMPTY_S
