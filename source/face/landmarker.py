"""MediaPipe FaceLandmarker (Tasks API): boxes, 478 landmarks, 52 blendshapes and head pose.

VIDEO mode for streams (landmarks are tracked between frames, and timestamps must rise),
IMAGE mode for stills. The model file is the registered ``face_landmarker`` asset.

The bundle's face detector is a short-range model: on the whole frame it finds faces from about
13 % of the frame's longer side (166 px in a 1280 px frame). A second pass finds smaller faces,
from ``MIN_FACE_PX`` wide (or ``MIN_FACE_SHARE`` of the longer side in frames larger than
1280 px, so its cost is bounded): the same detector on overlapping tiles of two sizes, then the
landmarker on a region around each new face, mapped back to frame pixels. It runs only when the
first pass finds fewer faces than expected:

- stills: when the first pass finds no face;
- video: the faces seen in the last ``track_max_gap_s`` are expected; one the first pass misses is
  looked for in a region around its last box (one landmarker call); the tiles are scanned when a
  frame has no face (at most every ``SCAN_EMPTY_S`` of video) and every ``SCAN_EVERY_S``.
"""

import math
import os
import sys
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.core.base_options import BaseOptions

from ..assets import asset_path
from ..options import FaceOptions
from .tracker import iou

# Blendshapes summarised per window: the facial actions most tied to the basic emotions.
# Left/right pairs are averaged into one value.
BLENDSHAPES_OF_INTEREST = {
    "smile": ("mouthSmileLeft", "mouthSmileRight"),
    "frown": ("mouthFrownLeft", "mouthFrownRight"),
    "brow_down": ("browDownLeft", "browDownRight"),
    "brow_inner_up": ("browInnerUp",),
    "brow_outer_up": ("browOuterUpLeft", "browOuterUpRight"),
    "eye_wide": ("eyeWideLeft", "eyeWideRight"),
    "eye_squint": ("eyeSquintLeft", "eyeSquintRight"),
    "jaw_open": ("jawOpen",),
    "nose_sneer": ("noseSneerLeft", "noseSneerRight"),
}

MIN_FACE_PX = 40  # the second pass finds faces from this wide...
MIN_FACE_SHARE = 1 / 32  # ...or this share of the longer side, in frames larger than 1280 px
FIRST_PASS_SHARE = 0.13  # measured: the whole-frame pass finds faces from this share of the longer side
TILE_FACE_SHARE = 0.156  # the smallest face is this share of the smallest tile (above 0.13: a margin)
TILE_OVERLAP = 0.35  # share of a tile shared with its neighbour: faces up to 0.35 x tile fit in one
REGION_SCALE = 3.0  # a region to re-find a face in is this many face widths wide
SCAN_EMPTY_S = 1.0  # video: frames without a face are scanned at most this often
SCAN_EVERY_S = 30.0  # video: and every frame this long after the last scan (small faces that join)


@dataclass
class FaceDetection:
    """One face in one frame, in the pixel coordinates of the analysed image."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1 around the landmarks
    landmarks: np.ndarray  # 478 x 3 float32: x, y in pixels, z in pixels (relative depth)
    blendshapes: np.ndarray  # 52 float32 scores, names in FaceLandmarker.blendshape_names
    head_pose: tuple[float, float, float]  # yaw, pitch, roll in degrees
    expressions: dict[str, float]  # BLENDSHAPES_OF_INTEREST, left/right averaged
    track_id: int | None = None
    emotions: dict[str, float] | None = None  # face-model probabilities, filled by the face stage
    embedding: np.ndarray | None = None  # the face model's embedding, when a combined model reads it

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)


@contextmanager
def _native_stderr_silenced():
    """MediaPipe's C++ core prints set-up chatter straight to file descriptor 2; hide it."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def no_face_hint() -> str:
    """The limits of face finding, for a message saying that no face was found."""
    return (f"Faces should be at least about {MIN_FACE_PX} pixels wide (in pictures larger than "
            f"1280 pixels, at least 1/{round(1 / MIN_FACE_SHARE)} of the longer side), turned less "
            "than about 60° from the camera and not covered.")


def _same_face(a, b) -> bool:
    """Two boxes of one face: they overlap well, or one's centre lies in the other."""
    def centre_in(p, q):
        cx, cy = (p[0] + p[2]) / 2, (p[1] + p[3]) / 2
        return q[0] <= cx <= q[2] and q[1] <= cy <= q[3]
    return centre_in(a, b) or centre_in(b, a) or iou(a, b) >= 0.3


def _spans(length: int, tile: int) -> list[int]:
    """Start offsets of tiles ``tile`` long covering ``length``, overlapping by ``TILE_OVERLAP``."""
    if tile >= length:
        return [0]
    count = math.ceil((length - tile) / (tile * (1 - TILE_OVERLAP))) + 1
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def scan_tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The second pass's tiles (x0, y0, x1, y1), smallest first: square tiles from the size where
    a ``MIN_FACE_PX`` face is ``TILE_FACE_SHARE`` of the tile, doubling until a face too big to
    fit in one tile is found by the whole-frame pass. None for frames where the first pass
    already sees ``MIN_FACE_PX`` faces."""
    longer = max(width, height)
    if longer * FIRST_PASS_SHARE <= MIN_FACE_PX:
        return []
    tile = math.ceil(max(MIN_FACE_PX, MIN_FACE_SHARE * longer) / TILE_FACE_SHARE)
    tiles = []
    while True:
        tiles += [(x, y, min(x + tile, width), min(y + tile, height))
                  for y in _spans(height, tile) for x in _spans(width, tile)]
        if tile * TILE_OVERLAP >= FIRST_PASS_SHARE * longer or tile >= longer:
            return tiles
        tile *= 2


class FaceLandmarker:
    """Find every face in a frame. Use one instance per stream; close it (or use ``with``).

    ``small_faces=False`` turns the second pass (see the module's text) off."""

    def __init__(self, options: FaceOptions = FaceOptions(), video: bool = True, small_faces: bool = True):
        self._model = asset_path("face_landmarker")
        self._options = options
        mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
        self._video = video
        with _native_stderr_silenced():
            self._landmarker = self._create(self._model, mode, options)
        self._first_call = True
        self._last_timestamp_ms = -1
        self.blendshape_names: list[str] | None = None
        self._expression_indices: dict[str, list[int]] = {}  # set with blendshape_names
        self.small_faces = small_faces
        self._still = None if video else self._landmarker  # IMAGE mode, for regions (made on first use)
        self._detector = None  # the bundle's face detector, for tiles (made on first use)
        self._recent: list[tuple[tuple, float]] = []  # video: (box, time) of the faces seen lately
        self._last_scan_s = -math.inf
        self.scans = 0  # how many frames were scanned in tiles, and how many regions were searched
        self.regions = 0

    @staticmethod
    def _create(model, mode, options: FaceOptions):
        return vision.FaceLandmarker.create_from_options(
            vision.FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(model)),
                running_mode=mode,
                num_faces=options.max_faces,
                min_face_detection_confidence=options.min_detection_confidence,
                min_face_presence_confidence=options.min_detection_confidence,
                output_face_blendshapes=True,
                output_facial_transformation_matrixes=True,
            )
        )

    def detect(self, image: np.ndarray, time_s: float = 0.0) -> list[FaceDetection]:
        """Faces in an RGB uint8 image; ``time_s`` is the frame's time in VIDEO mode."""
        if self._first_call:  # the first inference prints more set-up chatter
            self._first_call = False
            with _native_stderr_silenced():
                return self.detect(image, time_s)
        picture = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        if self._video:
            # MediaPipe requires strictly increasing timestamps
            timestamp = max(round(time_s * 1000), self._last_timestamp_ms + 1)
            self._last_timestamp_ms = timestamp
            result = self._landmarker.detect_for_video(picture, timestamp)
        else:
            result = self._landmarker.detect(picture)
        faces = self._faces(result, *image.shape[:2])
        if self.small_faces:
            faces = self._second_pass(image, time_s, faces)
        return faces

    def _second_pass(self, image: np.ndarray, time_s: float, faces: list[FaceDetection]) -> list[FaceDetection]:
        height, width = image.shape[:2]
        if not scan_tiles(width, height):
            return faces
        faces = list(faces)
        if self._video:
            self._recent = [(box, t) for box, t in self._recent
                            if 0 <= time_s - t <= self._options.track_max_gap_s]
            for box, _ in self._recent:  # an expected face the first pass missed: look around it
                if len(faces) < self._options.max_faces and not any(_same_face(box, f.box) for f in faces):
                    self._add_new(faces, self._region(image, box))
            waited = time_s - self._last_scan_s
            scan = waited >= SCAN_EVERY_S or (not faces and waited >= SCAN_EMPTY_S) or waited < 0
        else:
            scan = not faces
        if scan and len(faces) < self._options.max_faces:
            self._last_scan_s = time_s
            self._scan(image, faces)
        if self._video:
            self._recent = [(f.box, time_s) for f in faces] + [
                (box, t) for box, t in self._recent if not any(_same_face(box, f.box) for f in faces)]
        return faces

    def _add_new(self, faces: list[FaceDetection], found: list[FaceDetection]) -> None:
        for face in found:
            if len(faces) < self._options.max_faces and not any(_same_face(face.box, f.box) for f in faces):
                faces.append(face)

    def _scan(self, image: np.ndarray, faces: list[FaceDetection]) -> None:
        """Add to ``faces`` those the face detector finds on tiles (landmarked in a region each)."""
        self.scans += 1
        if self._detector is None:
            bundle = zipfile.ZipFile(self._model).read("face_detector.tflite")
            with _native_stderr_silenced():
                self._detector = vision.FaceDetector.create_from_options(vision.FaceDetectorOptions(
                    base_options=BaseOptions(model_asset_buffer=bundle),
                    running_mode=vision.RunningMode.IMAGE,
                    min_detection_confidence=self._options.min_detection_confidence))
        height, width = image.shape[:2]
        proposals = []
        for x0, y0, x1, y1 in scan_tiles(width, height):
            tile = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image[y0:y1, x0:x1]))
            for found in self._detector.detect(tile).detections:
                b = found.bounding_box
                proposals.append((found.categories[0].score, (x0 + b.origin_x, y0 + b.origin_y,
                                                              x0 + b.origin_x + b.width, y0 + b.origin_y + b.height)))
        kept: list[tuple] = []
        for _, box in sorted(proposals, key=lambda p: -p[0]):
            if not any(_same_face(box, other) for other in kept + [f.box for f in faces]):
                kept.append(box)
        for box in kept[:2 * self._options.max_faces]:  # false proposals cost a region each: bounded
            if len(faces) >= self._options.max_faces:
                break
            if not any(_same_face(box, f.box) for f in faces):
                self._add_new(faces, self._region(image, box))

    def _region(self, image: np.ndarray, box) -> list[FaceDetection]:
        """The faces in a square region ``REGION_SCALE`` times as wide as ``box`` around it, in the
        frame's pixels: there the face fills a third of the picture the detector sees."""
        self.regions += 1
        if self._still is None:
            with _native_stderr_silenced():
                self._still = self._create(self._model, vision.RunningMode.IMAGE, self._options)
        height, width = image.shape[:2]
        side = REGION_SCALE * max(box[2] - box[0], box[3] - box[1], MIN_FACE_PX)
        x0 = round(min(max(0.0, (box[0] + box[2] - side) / 2), max(0.0, width - side)))
        y0 = round(min(max(0.0, (box[1] + box[3] - side) / 2), max(0.0, height - side)))
        x1, y1 = min(width, round(x0 + side)), min(height, round(y0 + side))
        region = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image[y0:y1, x0:x1]))
        faces = self._faces(self._still.detect(region), y1 - y0, x1 - x0)
        for face in faces:
            face.landmarks[:, 0] += x0
            face.landmarks[:, 1] += y0
            bx0, by0, bx1, by1 = face.box
            face.box = (bx0 + x0, by0 + y0, bx1 + x0, by1 + y0)
        return faces

    def _faces(self, result, height: int, width: int) -> list[FaceDetection]:
        faces = []
        for index, points in enumerate(result.face_landmarks):
            landmarks = np.array([(p.x * width, p.y * height, p.z * width) for p in points],
                                 dtype=np.float32)
            categories = result.face_blendshapes[index]
            if self.blendshape_names is None:
                self.blendshape_names = [c.category_name for c in categories]
                self._expression_indices = {
                    key: [self.blendshape_names.index(n) for n in names]
                    for key, names in BLENDSHAPES_OF_INTEREST.items()}
            scores = np.array([c.score for c in categories], dtype=np.float32)
            x0, y0 = landmarks[:, :2].min(axis=0)
            x1, y1 = landmarks[:, :2].max(axis=0)
            faces.append(FaceDetection(
                box=(float(max(0, x0)), float(max(0, y0)), float(min(width, x1)), float(min(height, y1))),
                landmarks=landmarks,
                blendshapes=scores,
                head_pose=head_pose(np.asarray(result.facial_transformation_matrixes[index])),
                expressions=self._expressions(scores),
            ))
        return faces

    def _expressions(self, scores: np.ndarray) -> dict[str, float]:
        return {key: float(scores[indices].mean())
                for key, indices in self._expression_indices.items()}

    def close(self) -> None:
        with _native_stderr_silenced():  # "INFO: ... DestroyAccelerator" would land in the middle of a progress bar
            self._landmarker.close()
            if self._still is not None and self._still is not self._landmarker:
                self._still.close()
            if self._detector is not None:
                self._detector.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def head_pose(matrix: np.ndarray) -> tuple[float, float, float]:
    """Yaw, pitch, roll (degrees) from MediaPipe's 4x4 face transformation matrix."""
    rotation = matrix[:3, :3]
    pitch = math.degrees(math.atan2(rotation[2, 1], rotation[2, 2]))
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, -rotation[2, 0]))))
    roll = math.degrees(math.atan2(rotation[1, 0], rotation[0, 0]))
    return round(yaw, 2), round(pitch, 2), round(roll, 2)
