"""Transcript and word files, one writer per format, each written whole or not at all."""

from pathlib import Path

from ..fileio import CsvStream, atomic_path, write_json
from .features import TextEmotion
from .transcribe import Transcript


def _srt_time(seconds: float) -> str:
    milliseconds = round(seconds * 1000)
    hours, milliseconds = divmod(milliseconds, 3_600_000)
    minutes, milliseconds = divmod(milliseconds, 60_000)
    seconds, milliseconds = divmod(milliseconds, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d},{milliseconds:03d}"


def write_txt(path: Path, transcript: Transcript) -> Path:
    """One segment a line."""
    with atomic_path(path) as temporary:
        temporary.write_text("".join(f"{s.text}\n" for s in transcript.segments), encoding="utf-8")
    return Path(path)


def write_srt(path: Path, transcript: Transcript) -> Path:
    """SubRip subtitles: one numbered cue per segment."""
    cues = [f"{i}\n{_srt_time(s.start)} --> {_srt_time(s.end)}\n{s.text}\n"
            for i, s in enumerate(transcript.segments, start=1)]
    with atomic_path(path) as temporary:
        temporary.write_text("\n".join(cues), encoding="utf-8")
    return Path(path)


def write_transcript_json(path: Path, source: str, transcript: Transcript | None,
                          emotion: TextEmotion) -> Path:
    """The transcript with its segments and words (None for text input) and the text emotion."""
    return write_json(path, {"input": source,
                             "transcript": transcript.to_dict() if transcript else None,
                             "text_emotion": emotion.to_dict()})


def write_word_frequencies(path: Path, rows: list[dict]) -> Path:
    """Rows of ``TextAnalyzer.word_frequencies``: word, count, emotions."""
    table = CsvStream(path, ["word", "count", "emotions"])
    for row in rows:
        table.write(row)
    return table.commit()
