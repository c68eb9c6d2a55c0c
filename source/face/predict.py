"""The face model on one picture, for the app and for ``--cam``: every face of a photo with its
box, probabilities and top emotion (``photo_faces``), a video's frame at a time (``frame_at``) and
the faces' class activation maps (``frame_cam``).

Predicting over a photo or a whole video is ``analyze`` with the face branch alone (``run.py
predict --model face``, ``cli.face``): the pipeline's faces, tracks and windows, not a path of
its own.
"""

from pathlib import Path

from ..errors import MediaError, NoFaceFound, NoVideoTrack
from ..media.decode import DecodeReport, Frame, iter_frames, read_image
from ..media.probe import probe
from ..options import CamOptions, FaceOptions, WindowOptions
from .cam import cam_overlay
from .landmarker import FaceDetection, FaceLandmarker
from .model import FaceModel
from .tracker import FaceTracker


def face_entries(model: FaceModel, frame: Frame, faces: list[FaceDetection]) -> list[dict]:
    """One dict per face: id, box in the original picture's pixels, probabilities, top emotion."""
    entries = []
    for face, probabilities in zip(faces, model.predict_detections(frame.image, faces)):
        entries.append({"face_id": face.track_id,
                        "box": [round(v / frame.scale, 1) for v in face.box],
                        **model.scored(probabilities)})
    return entries


def frame_at(path: str | Path, time_s: float | None = None,
             max_side: int = WindowOptions().max_frame_side) -> Frame:
    """A photo, or the frame of a video shown at ``time_s`` (default: the middle of the video)."""
    info = probe(path)
    if info.kind == "image":
        return read_image(path, max_side)
    if not info.has_video:
        raise NoVideoTrack(f"{Path(path).name} holds no picture.")
    wanted = info.duration_s / 2 if time_s is None else time_s
    chosen = None
    for frame in iter_frames(path, 10.0, max_side, DecodeReport()):
        chosen = frame
        if frame.time_s >= wanted:
            break
    if chosen is None:
        raise MediaError(f"No frame of {Path(path).name} could be decoded.")
    return chosen


def photo_faces(model: FaceModel, frame: Frame,
                faces: FaceOptions = FaceOptions()) -> tuple[list[FaceDetection], list[dict]]:
    """Every face of one picture (numbered as the analysis numbers them) and its entry."""
    with FaceLandmarker(faces, video=False) as landmarker:
        found = landmarker.detect(frame.image)
    FaceTracker(faces.track_iou, faces.track_max_gap_s).assign(frame.time_s, found)
    return found, face_entries(model, frame, found)


def frame_cam(model: FaceModel, frame: Frame, options: CamOptions = CamOptions(),
              faces: FaceOptions = FaceOptions()):
    """(the frame with each face's activation map, the emotion explained per face)."""
    with FaceLandmarker(faces, video=False) as landmarker:
        found = landmarker.detect(frame.image)
    if not found:
        raise NoFaceFound(f"No face was found at {frame.time_s:.2f} s: there is nothing to explain.")
    return cam_overlay(model, frame.image, found, options)
