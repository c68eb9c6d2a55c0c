"""The studio's weights files: one ``torch.save`` dict holding the network and all it needs.

A file carries the network's config and state, its input transform, its labels, its
calibration temperature and its measured metrics, so a model is never configured twice. Files
are read with ``weights_only=True``: only tensors and plain data, never pickled code.
"""

import json
import zipfile
from pathlib import Path

import numpy as np
import torch

from .errors import StudioError
from .fileio import atomic_path, file_sha256

WEIGHTS_FORMAT = "emotion-studio-weights/1"
# kinds as files written before 2026-12-05 name them: the MFCC voice model was "audio" (the
# registry's alias of the same name serves the CLI; this layer cannot read the registry, which
# imports it, nor can the registry's tables import this one, which imports torch)
FORMER_KINDS = {"audio": "voice_mfcc"}


class WeightsError(StudioError):
    """A weights file that is missing, damaged, of another kind or not what was expected."""


def save_weights(path: str | Path, network: torch.nn.Module, **metadata) -> str:
    """Write ``network`` (with ``config()``) and plain-data ``metadata``; returns the file's sha256."""
    path = Path(path)
    # float16 halves the file; loading casts back to the network's float32
    state = {k: v.half() if v.is_floating_point() else v for k, v in network.state_dict().items()}
    with atomic_path(path) as temporary:
        torch.save({"format": WEIGHTS_FORMAT, "network": network.config(), "state_dict": state,
                    **metadata}, temporary)
    return file_sha256(path)


def unreadable_reason(path: Path, error: Exception) -> str:
    """One line on why torch could not read ``path``, never torch's own advice (which suggests
    loading the file with ``weights_only=False``: running whatever code it holds)."""
    if not zipfile.is_zipfile(path):
        return (f"{path} is not a weights file: it is not a PyTorch archive (a picture, some other "
                "file, or a damaged copy).")
    text = str(error)
    if "weights_only" in text or "Weights only" in text or "npickl" in text:
        return (f"{path} holds objects other than tensors and plain data; the studio does not load "
                "such files (loading them could run code in them).")
    first = text.strip().splitlines()[0][:200] if text.strip() else type(error).__name__
    return f"{path} is a damaged weights file ({first})."


def checked_sha256(path: Path, expected_sha256: str | None, what: str = "weights file") -> str:
    """The sha256 of the model file at ``path``, which must exist and, when ``expected_sha256`` is
    given (a shipped file), match it."""
    if not path.is_file():
        raise WeightsError(f"No {what} at {path}.")
    sha256 = file_sha256(path)
    if expected_sha256 is not None and sha256 != expected_sha256:
        raise WeightsError(f"The {what} {path} does not have the expected sha256 "
                           f"({sha256[:12]}… instead of {expected_sha256[:12]}…): it is damaged or "
                           f"was replaced. Restore it from the repository (git checkout -- {path}).")
    return sha256


def _saved_dict(path: Path, **load_options) -> dict:
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True, **load_options)
    except Exception as error:  # torch raises several types for damaged or foreign files
        raise WeightsError(unreadable_reason(path, error)) from error
    if not isinstance(saved, dict) or saved.get("format") != WEIGHTS_FORMAT:
        raise WeightsError(f"{path} is not an Emotion Studio weights file.")
    saved["kind"] = FORMER_KINDS.get(saved.get("kind"), saved.get("kind"))
    return saved


def read_weights(path: str | Path, expected_sha256: str | None = None) -> dict:
    """The saved dict of an Emotion Studio weights file, plus ``sha256``; its ``kind`` says which
    model it holds ("voice_mfcc", "face", ...)."""
    path = Path(path)
    sha256 = checked_sha256(path, expected_sha256)
    saved = _saved_dict(path)
    saved["sha256"] = sha256
    return saved


def read_field(path: str | Path, name: str):
    """One entry of a weights file's saved dict, read without hashing the file or loading its
    tensors (memory-mapped): its ``kind``, which ``registry.load`` needs to choose the loader that
    then reads the file, or the ``encoders`` a fusion model reads."""
    path = Path(path)
    # mmap needs torch's zip format; older files are read whole
    return _saved_dict(path, mmap=zipfile.is_zipfile(path)).get(name)


def load_weights(path: str | Path, kind: str, expected_sha256: str | None = None) -> dict:
    """The saved dict, plus ``sha256``; ``kind`` ("voice_mfcc", "face", ...) must match the file's."""
    saved = read_weights(path, expected_sha256)
    if saved.get("kind") != kind:
        raise WeightsError(f"{path} holds a {saved.get('kind')!r} model, not a {kind!r} model.")
    return saved


def save_arrays(path: str | Path, meta: dict, arrays: dict[str, np.ndarray]) -> str:
    """Write plain ``arrays`` and the JSON ``meta`` to one compressed ``.npz`` (no pickle), as a
    model of arrays is stored (the text model, the face geometry trees); returns its sha256."""
    path = Path(path)
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        np.savez_compressed(file, meta=np.array(json.dumps(meta)), **arrays)
    return file_sha256(path)


def load_arrays(path: Path, expected_sha256: str | None, what: str) -> tuple[dict, dict[str, np.ndarray], str]:
    """(meta, arrays, sha256) of a file ``save_arrays`` wrote, its sha256 checked as
    ``checked_sha256`` checks it; ``WeightsError`` naming ``what`` when it cannot be read."""
    sha256 = checked_sha256(path, expected_sha256, what)
    try:
        with np.load(path, allow_pickle=False) as saved:
            meta = json.loads(str(saved["meta"]))
            arrays = {name: saved[name] for name in saved.files if name != "meta"}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise WeightsError(f"{path} is not a readable {what} ({error}).") from error
    if not isinstance(meta, dict):
        raise WeightsError(f"{path} is not a readable {what} (its description is not a mapping).")
    return meta, arrays, sha256
