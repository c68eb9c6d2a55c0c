"""The files of an analysis (``analyze``'s, and a research model's ``predict``'s), one writer per
format, each written whole or not at all: the windows CSV (``WindowsCsv``, a row per window and
face, written as the windows are made), the frames CSV (``FramesCsv``, a row per sampled frame and
face) and the analysis JSON (``write_analysis_json``). The plots have theirs in ``plots``, the
transcript in ``text.writers``."""

from pathlib import Path

from ..face.landmarker import FaceDetection
from ..fileio import CsvStream, write_json
from ..labels import top_emotion
from ..media.decode import Frame
from .records import BLENDSHAPE_COLUMNS, AnalysisResult, WindowRecord, window_columns

FRAME_COLUMNS = [
    "frame", "time_s", "source_time_s", "n_faces", "face_id", "x0", "y0", "x1", "y1",
    "yaw", "pitch", "roll", *BLENDSHAPE_COLUMNS, "face_top", "face_confidence",
]


class _StreamedCsv:
    """A CSV written row by row as the analysis goes; the file appears on ``commit`` (``abort``
    leaves none)."""

    def __init__(self, path: Path, columns: list[str]):
        self.rows = CsvStream(path, columns)

    def commit(self) -> Path:
        return self.rows.commit()

    def abort(self) -> None:
        self.rows.abort()


class WindowsCsv(_StreamedCsv):
    """``<stem>_windows.csv``: each window's ``csv_rows`` as it is written."""

    def __init__(self, path: Path, face_labels: list[str], voice_labels: list[str], words: bool):
        super().__init__(path, window_columns(face_labels, voice_labels, words))

    def write(self, window: WindowRecord) -> None:
        for row in window.csv_rows():
            self.rows.write(row)


class FramesCsv(_StreamedCsv):
    """``<stem>_frames.csv``: each sampled frame's faces as they are found, a row per face (one
    without a face when it has none)."""

    def __init__(self, path: Path):
        super().__init__(path, FRAME_COLUMNS)

    def write(self, frame: Frame) -> None:
        base = {"frame": frame.index, "time_s": frame.time_s, "source_time_s": frame.source_time_s,
                "n_faces": len(frame.faces)}
        for face in frame.faces or [None]:
            self.rows.write({**base, **_face_columns(face, frame.scale)})


def _face_columns(face: FaceDetection | None, scale: float) -> dict:
    if face is None:
        return {}
    # boxes are reported in the original picture's pixels, not the scaled analysis image
    x0, y0, x1, y1 = (round(v / scale, 1) for v in face.box)
    yaw, pitch, roll = face.head_pose
    columns = {"face_id": face.track_id, "x0": x0, "y0": y0, "x1": x1, "y1": y1,
               "yaw": yaw, "pitch": pitch, "roll": roll,
               **{k: round(v, 4) for k, v in face.expressions.items()}}
    if face.emotions:
        label, confidence = top_emotion(face.emotions)
        columns.update(face_top=label, face_confidence=round(confidence, 4))
    return columns


def write_analysis_json(path: Path, result: AnalysisResult) -> Path:
    """``<stem>_analysis.json``: ``result.to_dict()`` and the files written beside it (``outputs``)."""
    return write_json(path, {**result.to_dict(), "outputs": {k: str(v) for k, v in result.outputs.items()}})

