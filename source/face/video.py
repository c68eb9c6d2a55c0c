"""Face samples from frames of labelled videos (RAVDESS, CREMA-D, MEAD; see ``scan_face_videos``).

Each clip gives ``frames`` evenly spaced frames from the part of the clip where acted expressions
are held (``span``, as shares of its duration); each frame's largest face is cut with the
model's transform and the landmark features found with it are kept. Both are cached, so a dataset
of clips is decoded once per setting.
"""

from collections.abc import Callable

import numpy as np

from ..datasets.faces import FaceSample, VideoClip
from ..errors import MediaError
from ..media.decode import DecodeReport, iter_frames
from ..media.probe import probe
from ..training.cache import cached_arrays, file_identity
from .landmarker import FaceDetection, FaceLandmarker
from .transform import N_LANDMARK_FEATURES, FaceTransform, landmark_features

MAX_SIDE = 640  # frames are scaled down to this before face detection


def _frame_times(duration: float, frames: int, span: tuple[float, float]) -> np.ndarray:
    start, end = span[0] * duration, span[1] * duration
    return start + (np.arange(frames) + 0.5) * (end - start) / frames


def clip_faces(clip: VideoClip, frames: int, span: tuple[float, float],
               landmarker: FaceLandmarker) -> list[tuple[np.ndarray, FaceDetection] | None]:
    """Per frame taken, the RGB frame and its largest face, or None where no face was found; fewer
    than ``frames`` entries (none for an unreadable clip) where the clip ends early."""
    taken: list[tuple[np.ndarray, FaceDetection] | None] = []
    try:
        duration = probe(clip.path).duration_s or 0.0
        if duration <= 0:
            return taken
        wanted = _frame_times(duration, frames, span)
        fps = frames / max(duration * (span[1] - span[0]), 1e-3)
        for frame in iter_frames(clip.path, fps, MAX_SIDE, DecodeReport()):
            if len(taken) == frames:
                break
            if frame.time_s + 0.5 / fps < wanted[len(taken)]:
                continue
            faces = landmarker.detect(frame.image)
            taken.append((frame.image, max(faces, key=lambda f: f.area)) if faces else None)
    except MediaError:
        pass  # an unreadable clip gives no samples; the caller reports how many were found
    return taken


def clip_crops(clip: VideoClip, transform: FaceTransform, frames: int, span: tuple[float, float],
               landmarker: FaceLandmarker) -> tuple[np.ndarray, np.ndarray]:
    """(frames, size, size) uint8 crops and (frames, N_LANDMARK_FEATURES) float32 landmark features
    of each frame's largest face; all zeros where no face was found or the clip is unreadable."""
    crops = np.zeros((frames, transform.size, transform.size), dtype=np.uint8)
    landmarks = np.zeros((frames, N_LANDMARK_FEATURES), dtype=np.float32)
    for i, found in enumerate(clip_faces(clip, frames, span, landmarker)):
        if found is not None:
            image, face = found
            crops[i] = transform.crop(image, face.landmarks)
            landmarks[i] = landmark_features(face.landmarks, face.box, face.blendshapes)
    return crops, landmarks


def video_face_samples(clips: list[VideoClip], transform: FaceTransform, frames: int = 8,
                       span: tuple[float, float] = (0.3, 0.9),
                       progress: Callable[[int, int], None] | None = None) -> list[FaceSample]:
    """One sample per frame with a face: its crop in ``pixels``, the landmark features found with
    it in ``landmarks`` (the geometry trees read those, as in ``analyze``); split None (by subject)."""
    if not clips:
        return []
    key = {"size": transform.size, "margin": transform.crop_margin, "frames": frames,
           "span": list(span), "files": [file_identity(c.path) for c in clips]}
    if transform.detail is not None:  # crops cut at another detail differ (without it: the older keys)
        key["detail"] = transform.detail

    def decode() -> tuple[np.ndarray, np.ndarray]:  # the crops and the landmark features found with them
        crops = np.zeros((len(clips), frames, transform.size, transform.size), dtype=np.uint8)
        landmarks = np.zeros((len(clips), frames, N_LANDMARK_FEATURES), dtype=np.float32)
        if progress:
            progress(0, len(clips))  # nothing was cached: every clip is decoded
        with FaceLandmarker(video=False) as landmarker:
            for i, clip in enumerate(clips):
                crops[i], landmarks[i] = clip_crops(clip, transform, frames, span, landmarker)
                if progress:
                    progress(i + 1, len(clips))
        return crops, landmarks

    # two caches: the crops' cache predates the landmarks', and is kept
    crops, landmarks = cached_arrays(("video-faces", "video-face-landmarks"), key, decode)
    samples = []
    for clip, crops_of_clip, landmarks_of_clip in zip(clips, crops, landmarks):
        duration = None
        for index, crop in enumerate(crops_of_clip):
            if not crop.any():
                continue
            duration = duration or probe(clip.path).duration_s
            time_s = float(_frame_times(duration, frames, span)[index])
            samples.append(FaceSample(f"{clip.path}#t={time_s:.2f}", clip.emotion, clip.subject, clip.corpus,
                                      clip.label, None, np.array(crop), np.array(landmarks_of_clip[index])))
    return samples
