"""The typed records of an analysis: each analysed window (``WindowRecord``), each face within it
(``FaceInWindow``) and the whole run (``AnalysisResult``), and how a window is laid out in the CSV.

Whoever analyses builds a window's record once (``analysis.pipeline``, a research family's
``predict``); fusion and smoothing (``analysis.timeline``) make new records from it, never change
one; the writers (``writers``) write them. A record maps to the analysis
JSON one to one: ``to_dict()`` of a window is an item of the file's ``"windows"`` list, each field
a key of the same name, in field order (tuples become lists, words their dicts), except that a
face's ``smoothed`` is no key: it says whether ``fused_unsmoothed`` is one. ``csv_rows()`` is the
same window in the windows CSV: one row per face, or one without a face, in the columns of
``window_columns``.

Whatever shows a finished analysis (the plots, the app's charts, the summary) reads that JSON
form, so a saved file, the service's and batch runs' reports and a research family's
predictions are shown by the same code.
"""

import platform
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from .. import __version__
from ..face.landmarker import BLENDSHAPES_OF_INTEREST
from ..face.tracker import FaceTracker
from ..labels import EMOTIONS, top_emotion
from ..media.probe import MediaInfo
from ..options import AnalysisOptions
from ..text.features import TEXT_COLUMNS
from ..text.transcribe import Transcript, Word

BLENDSHAPE_COLUMNS = list(BLENDSHAPES_OF_INTEREST)
WINDOW_COLUMNS = [
    "window", "start_s", "end_s", "n_frames", "face_id", "is_subject", "is_speaker", "face_found_ratio",
    *BLENDSHAPE_COLUMNS, "yaw", "pitch", "roll", "speech_ratio", "rms_db",
    "face_top", "face_confidence", "voice_top", "voice_confidence",
    "top_emotion", "confidence", "uncertain", "sources", *(f"fused_{e}" for e in EMOTIONS),
]  # then face_<label> and voice_<label> for the models' labels, then TEXT_COLUMNS with words
_PACKAGES = ("numpy", "av", "mediapipe", "opencv-python-headless", "opencv-contrib-python")


def window_columns(face_labels: list[str], voice_labels: list[str], words: bool) -> list[str]:
    """The windows CSV's columns for the models that ran (no labels: that branch did not run)."""
    return (WINDOW_COLUMNS + [f"face_{label}" for label in face_labels]
            + [f"voice_{label}" for label in voice_labels] + (TEXT_COLUMNS if words else []))


@dataclass(frozen=True)
class FaceInWindow:
    """One tracked face in one window: what it showed and, after fusion, its own fused result."""

    face_id: int
    face_found_ratio: float  # share of the window's frames it is in
    blendshapes: dict[str, float]  # mean of each of BLENDSHAPE_COLUMNS
    head_pose: dict[str, float]  # mean yaw, pitch, roll
    emotions: dict | None  # the face model's scores (probabilities, top_emotion, confidence); None: unscored
    is_subject: bool  # the window's subject: the speaker, or else the largest face
    is_speaker: bool = False
    sources: tuple[str, ...] = ()  # the branches its fused result is made of
    fused: dict[str, float] | None = None
    uncertain: bool = False  # fusion was unsure of ``fused``
    smoothed: bool = False  # ``fused`` is averaged over neighbouring windows; the face's own is below
    fused_unsmoothed: dict[str, float] | None = None

    def to_dict(self) -> dict:
        face = {"face_id": self.face_id, "face_found_ratio": self.face_found_ratio,
                "blendshapes": self.blendshapes, "head_pose": self.head_pose, "emotions": self.emotions,
                "is_subject": self.is_subject, "is_speaker": self.is_speaker, "sources": list(self.sources),
                "fused": self.fused, "uncertain": self.uncertain}
        if self.smoothed:
            face["fused_unsmoothed"] = self.fused_unsmoothed
        return face


@dataclass(frozen=True)
class WindowRecord:
    """One analysed window: its faces, speech, voice and words, and (after fusion) the fused result.

    ``probabilities`` holds each branch's probabilities that took part, the words' as the text
    model scored them, ``fused`` and, when smoothed, ``fused_unsmoothed``."""

    index: int
    start_s: float
    end_s: float
    n_frames: int
    faces: tuple[FaceInWindow, ...]
    speech: dict[str, float] | None  # speech_ratio and rms_db; None: no sound
    voice: dict | None  # the voice model's scores; None: no voice result
    text: dict | None  # the words' TEXT_COLUMNS; None: no words branch
    voice_note: str | None  # why a window with sound has no voice result
    speaker_face_id: int | None  # the face speaking; None: nobody could be named
    mouth_movement: dict[int, float]  # per face id, how much its lips moved in speech
    words: tuple[Word, ...]
    sources: tuple[str, ...] = ()
    uncertain: bool = False
    probabilities: dict[str, dict[str, float] | None] = field(default_factory=dict)
    top_emotion: str | None = None
    confidence: float | None = None

    def to_dict(self) -> dict:
        return {"index": self.index, "start_s": self.start_s, "end_s": self.end_s, "n_frames": self.n_frames,
                "faces": [face.to_dict() for face in self.faces], "speech": self.speech, "voice": self.voice,
                "text": self.text, "voice_note": self.voice_note, "speaker_face_id": self.speaker_face_id,
                "mouth_movement": self.mouth_movement, "words": [asdict(word) for word in self.words],
                "sources": list(self.sources), "uncertain": self.uncertain, "probabilities": self.probabilities,
                "top_emotion": self.top_emotion, "confidence": self.confidence}

    def csv_rows(self) -> list[dict]:
        """The window's rows of the windows CSV: one per face, or one without a face."""
        base = {"window": self.index, "start_s": self.start_s, "end_s": self.end_s, "n_frames": self.n_frames,
                **(self.speech or {}), **_emotion_columns("voice", self.voice), **(self.text or {})}
        if not self.faces:
            ratio = 0.0 if self.n_frames else ""
            return [{**base, "face_found_ratio": ratio,
                     **_fused_columns(self.probabilities["fused"], self.sources, self.uncertain)}]
        return [{**base, "face_id": face.face_id, "is_subject": int(face.is_subject),
                 "is_speaker": int(face.is_speaker), "face_found_ratio": face.face_found_ratio,
                 **face.blendshapes, **face.head_pose, **_emotion_columns("face", face.emotions),
                 **_fused_columns(face.fused, face.sources, face.uncertain)}
                for face in self.faces]


def _emotion_columns(branch: str, scores: dict | None) -> dict:
    if scores is None:
        return {}
    return {f"{branch}_top": scores["top_emotion"], f"{branch}_confidence": scores["confidence"],
            **{f"{branch}_{label}": p for label, p in scores["probabilities"].items()}}


def _fused_columns(fused: dict | None, sources: tuple[str, ...], uncertain: bool) -> dict:
    label, confidence = top_emotion(fused)
    if label is None:
        return {}
    return {"top_emotion": label, "confidence": confidence, "uncertain": int(uncertain),
            "sources": "+".join(sorted(sources)), **{f"fused_{e}": p for e, p in fused.items()}}


@dataclass
class AnalysisResult:
    """One analysis: the records of its windows and what is said about the whole input.
    ``to_dict()`` is the analysis JSON (less its ``outputs``, which ``writers.write_analysis_json``
    adds)."""

    info: MediaInfo
    options: AnalysisOptions
    windows: list[WindowRecord]
    faces: dict
    warnings: list[str]
    models: dict = field(default_factory=dict)  # branch -> weights sha256 and labels used
    summary: dict = field(default_factory=dict)  # dominant emotion, share of time, changes
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    outputs: dict[str, Path] = field(default_factory=dict)
    sentences: list[dict] = field(default_factory=list)  # the transcript, with each sentence's sentiment
    transcript: Transcript | None = None  # Whisper's segments and words (no key of the JSON); None: no words

    def to_dict(self) -> dict:
        return {
            "input": self.info.to_dict(),
            "settings": asdict(self.options),
            "versions": versions(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "models": self.models,
            "summary": self.summary,
            "timings_s": self.timings,
            "faces": self.faces,
            "warnings": self.warnings,
            "sentences": self.sentences,
            "windows": [window.to_dict() for window in self.windows],
        }


def model_facts(model) -> dict:
    """What the analysis JSON's ``models`` says of a trained model used (a branch's or a fusion
    model): its weights' sha256, its labels and its calibration temperature."""
    return {"weights_sha256": model.sha256, "labels": list(model.labels), "temperature": model.temperature}


def faces_seen(tracker: FaceTracker) -> dict:
    """The analysis JSON's ``faces``: the subject's face id and every track (first and last seen,
    frames)."""
    return {"subject_face_id": tracker.subject_id(),
            "tracks": [{"face_id": t.track_id, "first_s": t.first_seen_s, "last_s": t.last_seen_s,
                        "frames": t.frames} for t in tracker.tracks.values()]}


def versions() -> dict[str, str]:
    found = {"emotion-studio": __version__, "python": platform.python_version()}
    for package in _PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found
