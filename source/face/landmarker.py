"""MediaPipe FaceLandmarker (Tasks API): boxes, 478 landmarks, 52 blendshapes and head pose.

VIDEO mode for streams (landmarks are tracked between frames, and timestamps must rise),
IMAGE mode for stills. The model file is the registered ``face_landmarker`` asset.
"""

import math
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.core.base_options import BaseOptions

from ..assets import asset_path
from ..options import FaceOptions

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


class FaceLandmarker:
    """Find every face in a frame. Use one instance per stream; close it (or use ``with``)."""

    def __init__(self, options: FaceOptions = FaceOptions(), video: bool = True):
        model = asset_path("face_landmarker")
        mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
        self._video = video
        with _native_stderr_silenced():
            self._landmarker = self._create(model, mode, options)
        self._first_call = True
        self._last_timestamp_ms = -1
        self.blendshape_names: list[str] | None = None
        self._expression_indices: dict[str, list[int]] = {}  # set with blendshape_names

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
        height, width = image.shape[:2]
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
        self._landmarker.close()

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
