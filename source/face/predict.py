"""The face model on a photo or a video: every face found, its box, probabilities and top emotion.

Videos are streamed frame by frame at the sampling rate of ``WindowOptions.fps``, with faces
tracked across frames; each face id also gets its mean probabilities over the video.
"""

from collections.abc import Callable
from pathlib import Path

from ..errors import MediaError, NoFaceFound, NoVideoTrack
from ..labels import mean_probabilities, scored
from ..media.decode import DecodeReport, Frame, iter_frames, read_image
from ..media.probe import probe
from ..options import CamOptions, FaceOptions, WindowOptions
from .cam import cam_overlay
from .landmarker import FaceDetection, FaceLandmarker
from .model import KIND, FaceModel
from .tracker import FaceTracker


def face_entries(model: FaceModel, frame: Frame, faces: list[FaceDetection]) -> list[dict]:
    """One dict per face: id, box in the original picture's pixels, probabilities, top emotion."""
    entries = []
    for face, probabilities in zip(faces, model.predict_detections(frame.image, faces)):
        entries.append({"face_id": face.track_id,
                        "box": [round(v / frame.scale, 1) for v in face.box],
                        **model.scored(probabilities)})
    return entries


def predict_faces(model: FaceModel, path: str | Path, windows: WindowOptions = WindowOptions(),
                  faces: FaceOptions = FaceOptions(),
                  progress: Callable[[float, float | None], None] | None = None) -> dict:
    """Per sampled frame, every face and its emotions; per face id, the mean over the frames."""
    info = probe(path)
    if not info.has_video:
        raise NoVideoTrack(f"{Path(path).name} holds no picture: the face model needs a photo or a video.")
    report = DecodeReport()
    still = info.kind == "image"
    frames = ([read_image(path, windows.max_frame_side)] if still
              else iter_frames(path, windows.fps, windows.max_frame_side, report))
    tracker = FaceTracker(faces.track_iou, faces.track_max_gap_s)
    rows, by_id = [], {}
    with FaceLandmarker(faces, video=not still) as landmarker:
        for frame in frames:
            found = landmarker.detect(frame.image, frame.time_s)
            tracker.assign(frame.time_s, found)
            entries = face_entries(model, frame, found)
            for entry in entries:
                by_id.setdefault(entry["face_id"], []).append(entry["probabilities"])
            rows.append({"time_s": frame.time_s, "faces": entries})
            if progress:
                progress(frame.time_s, info.duration_s)
    summary = []
    for face_id, scores in sorted(by_id.items()):
        summary.append({"face_id": face_id, "frames": len(scores), **scored(mean_probabilities(scores))})
    warnings = report.warnings + ([] if by_id else ["No face was found."])
    return {"path": str(path), "model": KIND, "weights_sha256": model.sha256,
            "labels": list(model.labels), "frames": rows, "faces": summary, "warnings": warnings}


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
    """Every face of one picture (numbered as ``predict_faces`` numbers them) and its entry."""
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
