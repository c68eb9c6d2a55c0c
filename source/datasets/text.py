"""Labelled text for the text-emotion model: GoEmotions TSV files and ``<emotion>/*.txt`` folders.

GoEmotions (Demszky et al., ACL 2020) rows are ``text<TAB>label ids<TAB>comment id``, the ids
comma-separated indices into ``labels.txt`` beside the file (the Ekman mapping: anger, disgust,
fear, joy, neutral, sadness, surprise). A row may carry several labels. A folder of emotion-named
subfolders holds one text per ``.txt`` file, one label each.
"""

from dataclasses import dataclass
from pathlib import Path

from ..errors import DatasetError
from ..labels import EMOTIONS, canonical


@dataclass(frozen=True)
class TextSample:
    text: str
    emotions: tuple[str, ...]  # canonical; more than one when raters differed
    source: str  # file and row, for messages


def _canonical_labels(names: list[str], where: Path) -> list[str]:
    try:
        found = [canonical(name) for name in names]
    except KeyError as error:
        raise DatasetError(f"{where}: {error.args[0]}; the labels must be emotions the studio knows.") from None
    if None in found or set(found) - set(EMOTIONS):
        raise DatasetError(f"{where}: labels {names} include emotions the studio does not model.")
    return found


def read_goemotions(path: str | Path) -> list[TextSample]:
    """The rows of a GoEmotions TSV file, with ``labels.txt`` read from the same folder."""
    path = Path(path)
    labels_file = path.parent / "labels.txt"
    if not path.is_file():
        raise DatasetError(f"{path} does not exist.")
    if not labels_file.is_file():
        raise DatasetError(f"{path.name} needs labels.txt beside it (the label names, one per line).")
    names = _canonical_labels(labels_file.read_text(encoding="utf-8").split(), labels_file)
    samples = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                raise DatasetError(f"{path.name}, line {number}: expected text<TAB>label ids<TAB>id.")
            try:
                ids = [int(i) for i in parts[1].split(",")]
                emotions = tuple(dict.fromkeys(names[i] for i in ids))
            except (ValueError, IndexError):
                raise DatasetError(f"{path.name}, line {number}: {parts[1]!r} is not a list of label "
                                   f"ids 0-{len(names) - 1}.") from None
            samples.append(TextSample(parts[0], emotions, f"{path.name}:{number}"))
    if not samples:
        raise DatasetError(f"{path} has no rows.")
    return samples


def read_text_folders(root: str | Path) -> list[TextSample]:
    """``<emotion>/*.txt`` under ``root``: each file one text, labelled by its folder."""
    root = Path(root)
    samples = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        emotion = _canonical_labels([folder.name], folder)[0]
        for file in sorted(folder.glob("*.txt")):
            samples.append(TextSample(file.read_text(encoding="utf-8-sig").strip(), (emotion,),
                                      file.relative_to(root).as_posix()))
    if not samples:
        raise DatasetError(f"No <emotion>/*.txt files under {root}.")
    return samples


def read_text_dataset(path: str | Path) -> list[TextSample]:
    """A GoEmotions-style ``.tsv`` file or a folder of ``<emotion>/*.txt``."""
    path = Path(path)
    if path.is_dir():
        return read_text_folders(path)
    if path.suffix.lower() == ".tsv":
        return read_goemotions(path)
    raise DatasetError(f"{path} is neither a .tsv file (text<TAB>label ids<TAB>id, labels.txt beside "
                       "it) nor a folder of <emotion>/*.txt files.")
