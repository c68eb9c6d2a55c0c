"""Window records for tests, made from the few fields a test cares about (the others empty), or
from a window's JSON form as a test writes it by hand."""

from source.results.records import FaceInWindow, WindowRecord
from source.text.transcribe import Word


def face_record(face_id: int, is_subject: bool = False, emotions: dict | None = None, **fields) -> FaceInWindow:
    fields = {"face_found_ratio": 1.0, "blendshapes": {}, "head_pose": {}, **fields}
    if "sources" in fields:
        fields["sources"] = tuple(fields["sources"])
    return FaceInWindow(face_id=face_id, is_subject=is_subject, emotions=emotions, **fields)


def window_record(index: int, start_s: float, end_s: float, faces=(), **fields) -> WindowRecord:
    fields = {"n_frames": 0, "speech": None, "voice": None, "text": None, "voice_note": None,
              "speaker_face_id": None, "mouth_movement": {}, **fields}
    fields["words"] = tuple(Word(**w) if isinstance(w, dict) else w for w in fields.get("words", ()))
    if "sources" in fields:
        fields["sources"] = tuple(fields["sources"])
    return WindowRecord(index=index, start_s=start_s, end_s=end_s, faces=tuple(faces), **fields)


def record_of(window: dict) -> WindowRecord:
    """The record of a window in its JSON form (``WindowRecord.to_dict``); what it lacks is empty."""
    faces = [face_record(**face) for face in window.get("faces") or []]
    return window_record(**{**window, "faces": faces})
