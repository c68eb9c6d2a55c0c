"""Files, written whole or not at all, and their sha256: the generic file helpers every layer
uses (models, training, tuning, text, analysis, front ends), so none imports them from above.

``atomic_path`` / ``write_json`` / ``CsvStream`` write beside the target and rename, so a reader
never sees half a file; ``check_output_folder`` refuses an unusable output folder up front;
``file_sha256`` hashes a file in 1 MB reads.
"""

import csv
import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import StudioError


_UMASK = os.umask(0)
os.umask(_UMASK)  # reading the process's umask means setting it: put it straight back


def check_output_folder(folder: Path) -> Path:
    """Make ``folder`` (and its parents) and check a file can be written in it: one clear line
    when it is a file, cannot be made or is not writable, before any work is done."""
    folder = Path(folder)
    blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise StudioError(f"The output folder {folder} cannot be used: {blocker} is a file.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise StudioError(f"The output folder {folder} is not writable ({reason.lower()}).") from error
    return folder


def _temporary_beside(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual mode
    return Path(temporary)


@contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds."""
    temporary = _temporary_beside(Path(path))
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class CsvStream:
    """Rows appended one at a time (memory stays flat), published atomically by ``commit``."""

    def __init__(self, path: Path, columns: list[str]):
        self.path = Path(path)
        self._temporary = _temporary_beside(self.path)
        self._file = open(self._temporary, "w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._file, fieldnames=columns, extrasaction="raise")
        self._writer.writeheader()

    def write(self, row: dict) -> None:
        self._writer.writerow(row)

    def commit(self) -> Path:
        self._file.close()
        os.replace(self._temporary, self.path)
        return self.path

    def abort(self) -> None:
        self._file.close()
        self._temporary.unlink(missing_ok=True)


def write_json(path: Path, payload: dict) -> Path:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    return Path(path)


def file_sha256(path: Path) -> str:
    """The file's sha256, hex, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
