"""The analysis's own files, one writer per format, each written whole or not at all: the windows
CSV (``WindowsCsv``, a row per window and face, written as the windows are made) and the analysis
JSON (``write_analysis_json``). The plots have theirs in ``plots``, the transcript in
``text.writers``."""

from pathlib import Path

from ..fileio import CsvStream, atomic_path, write_json  # noqa: F401  (atomic_path: see below)
from .records import AnalysisResult, WindowRecord, window_columns


class WindowsCsv:
    """``<stem>_windows.csv``: each window's ``csv_rows`` as it is written; the file appears on
    ``commit`` (``abort`` leaves none)."""

    def __init__(self, path: Path, face_labels: list[str], voice_labels: list[str], words: bool):
        self.rows = CsvStream(path, window_columns(face_labels, voice_labels, words))

    def write(self, window: WindowRecord) -> None:
        for row in window.csv_rows():
            self.rows.write(row)

    def commit(self) -> Path:
        return self.rows.commit()

    def abort(self) -> None:
        self.rows.abort()


def write_analysis_json(path: Path, result: AnalysisResult) -> Path:
    """``<stem>_analysis.json``: ``result.to_dict()`` and the files written beside it (``outputs``)."""
    return write_json(path, {**result.to_dict(), "outputs": {k: str(v) for k, v in result.outputs.items()}})


# fusion.research.image_vit still imports these two from here; their home is source.fileio
__all__ = ["WindowsCsv", "write_analysis_json", "atomic_path", "write_json"]
