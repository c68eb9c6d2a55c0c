"""Facial-expression datasets in their original public layouts: each face image, its emotion,
its subject and the split its corpus assigns.

Recognised: FER2013 as Kaggle folders (``train``/``test``/``<class>``, ``Training_123.png``) or
as ``fer2013.csv`` (emotion, pixels, Usage); CK+ (``CK+48/<class>/S005_001_00000011.png``,
contempt dropped); and any ``<class>/`` folders (RAF-DB or AffectNet exported by class name).
Labelled videos (``scan_face_videos``): RAVDESS audio-video and video-only clips
(``01-01-05-01-01-01-01.mp4``), CREMA-D ``VideoFlash/1001_DFA_ANG_XX.flv`` and MEAD
(``M003/video/front/angry/level_1/001.mp4`` or ``M003_front_angry_level3_001.mp4``); their
frames become face samples in ``source.face.video``; ``scan_av_clips`` also finds each clip's
speech (its own track, RAVDESS ``03-...`` audio, CREMA-D ``AudioWAV``) for the combined model.
A file that cannot be used is listed with the reason; nothing is guessed.
"""

import csv
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import DatasetError, StudioError
from ..labels import EMOTIONS, canonical
from ..media.probe import AUDIO_EXTENSIONS, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, probe
from .speech import _CREMA_EMOTIONS, _RAVDESS_EMOTIONS

FER2013, CK_PLUS, GENERIC = "fer2013", "ck+", "generic"

# fer2013.csv emotion codes, and its Usage column -> the split names of the Kaggle folders
_FER_CODES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
_FER_USAGE = {"Training": "train", "PublicTest": "test", "PrivateTest": "private"}
_FER_NAME = re.compile(r"(Training|PublicTest|PrivateTest)_\d+")
_CK_NAME = re.compile(r"(S\d{3})_\d{3}_\d{8}")


@dataclass(frozen=True)
class FaceSample:
    source: str  # the image file, or "<file>#<part>": a fer2013.csv row, a video frame, a photo's face
    emotion: str  # canonical
    subject: str  # corpus-prefixed ("ck+:S005"); unknown subjects: one group per image
    corpus: str
    label: str  # the corpus's own label
    split: str | None  # the corpus's split ("train", "test", "private"), None when it has none
    pixels: np.ndarray | None = field(default=None, compare=False, repr=False)  # not read from source
    # the landmark features found with the face where it was cut from a larger picture (photo, video frame)
    landmarks: np.ndarray | None = field(default=None, compare=False, repr=False)

    def image(self) -> np.ndarray:
        """The face as a grayscale uint8 array."""
        if self.pixels is not None:
            return self.pixels
        with Image.open(self.source) as image:
            return np.asarray(image.convert("L"))


class Skipped(NamedTuple):
    path: str
    reason: str


@dataclass(frozen=True)
class FaceDataset:
    root: Path
    samples: tuple[FaceSample, ...]
    skipped: tuple[Skipped, ...]

    def split(self, name: str) -> list[FaceSample]:
        return [s for s in self.samples if s.split == name]

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(sorted({s.split for s in self.samples if s.split}))

    def summary(self) -> str:
        corpora = Counter(s.corpus for s in self.samples)
        lines = [str(self.root),
                 f"{len(self.samples)} images ({', '.join(f'{c} {n}' for c, n in corpora.items())}); "
                 f"{len(self.skipped)} files skipped", ""]
        splits = self.splits or (None,)
        lines.append("emotion   " + "".join(f"{split or 'images':>9}" for split in splits))
        counts = Counter((s.emotion, s.split) for s in self.samples)
        for emotion in EMOTIONS:
            lines.append(f"{emotion:<10}" + "".join(f"{counts[emotion, split]:>9}" for split in splits))
        reasons = Counter(reason.partition(":")[0] for _, reason in self.skipped)
        if reasons:
            lines += ["", "skipped: " + ", ".join(f"{kind} {n}" for kind, n in reasons.items())]
            lines += [f"  {path}: {reason}" for path, reason in self.skipped[:3]]
        return "\n".join(lines)


def _files(root: Path, extensions: tuple[str, ...]) -> Iterator[Path]:
    """Files with these extensions under ``root``, sorted, hidden files and macOS residue left out."""
    for folder, subfolders, files in os.walk(root, followlinks=True):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "__MACOSX")
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in extensions:
                yield Path(folder, name)


def _image_problem(path: Path) -> str | None:
    if path.stat().st_size == 0:
        return "empty image: the file is 0 bytes"
    try:
        with Image.open(path) as image:
            image.verify()  # reads the headers and checksums, not the pixels
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        return f"unreadable image: {error}"
    return None


def _modelled(label: str, unknown: str) -> str:
    """The canonical emotion of a corpus label; ValueError (``unknown`` or "not modelled") else."""
    try:
        emotion = canonical(label)
    except KeyError:
        raise ValueError(unknown) from None
    if emotion is None:
        raise ValueError(f"not modelled: {label} is not one of the studio's emotions")
    return emotion


def _file_sample(path: Path) -> FaceSample:
    """A sample from the file's name and folders, or ValueError with the reason."""
    label = path.parent.name
    emotion = _modelled(label, f"no known layout: the folder {label!r} does not name an emotion")
    ck = _CK_NAME.fullmatch(path.stem)
    fer = _FER_NAME.fullmatch(path.stem)
    if ck:
        return FaceSample(str(path), emotion, f"{CK_PLUS}:{ck[1]}", CK_PLUS, label, None)
    if fer:
        split = path.parent.parent.name.lower()
        split = split if split in ("train", "test", "private") else _FER_USAGE[fer[1]]
        return FaceSample(str(path), emotion, f"{FER2013}:{path.stem}", FER2013, label, split)
    split = path.parent.parent.name.lower()
    return FaceSample(str(path), emotion, f"{GENERIC}:{path}", GENERIC, label,
                      split if split in ("train", "test", "val", "validation") else None)


def _csv_samples(path: Path, skipped: list[Skipped]) -> list[FaceSample]:
    samples = []
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        if not {"emotion", "pixels"} <= set(reader.fieldnames or ()):
            skipped.append(Skipped(str(path), "no known layout: a CSV without emotion and pixels columns"))
            return []
        for row_number, row in enumerate(reader, start=2):  # line 1 is the header
            where = f"{path}#{row_number}"
            try:
                code = int(row["emotion"])
                emotion = _FER_CODES[code]
                pixels = np.array(row["pixels"].split(), dtype=np.uint8)
                side = int(round(pixels.size ** 0.5))
                if side * side != pixels.size or side < 16:
                    raise ValueError(f"{pixels.size} pixels is not a square face image")
            except (ValueError, IndexError, TypeError) as error:
                skipped.append(Skipped(where, f"bad row: {error}"))
                continue
            usage = _FER_USAGE.get((row.get("Usage") or "").strip())
            samples.append(FaceSample(where, emotion, f"{FER2013}:{row_number}", FER2013, emotion,
                                      usage, pixels.reshape(side, side)))
    return samples


def scan_face_dataset(root: str | Path) -> FaceDataset:
    """Every usable face image under ``root`` (a folder, or a fer2013.csv file)."""
    root = Path(root).expanduser()
    if not root.exists():
        raise DatasetError(f"{root} does not exist.")
    skipped: list[Skipped] = []
    samples: list[FaceSample] = []
    csv_files = [root] if root.is_file() else sorted(root.rglob("*.csv"))
    for path in csv_files:
        samples += _csv_samples(path, skipped)
    if root.is_dir():
        for path in _files(root, IMAGE_EXTENSIONS):
            try:
                sample = _file_sample(path)
                problem = _image_problem(path)
                if problem:
                    raise ValueError(problem)
            except ValueError as error:
                skipped.append(Skipped(str(path), str(error)))
                continue
            samples.append(sample)
    if not samples:
        detail = "\n".join(f"  {p}: {r}" for p, r in skipped[:5])
        raise DatasetError(
            f"No usable face images in {root}. Expected FER2013 (train/<class>/*.png or "
            f"fer2013.csv), CK+ (CK+48/<class>/S005_001_00000011.png) or <class>/ folders."
            + (f"\n{detail}" if detail else ""))
    return FaceDataset(root, tuple(samples), tuple(skipped))


@dataclass(frozen=True)
class VideoClip:
    path: Path
    emotion: str  # canonical
    subject: str  # corpus-prefixed ("mead:M030")
    corpus: str
    label: str  # the corpus's own label


RAVDESS, CREMA_D, MEAD = "ravdess", "crema-d", "mead"
# RAVDESS modality 01 (audio-video) or 02 (video-only); a prefix such as "ravdess_" is allowed
_RAVDESS_VIDEO = re.compile(r"(?:.*_)?0[12]-0[12]-(\d\d)-0[12]-0[12]-0[12]-(\d\d)")
_CREMA_VIDEO = re.compile(r"(\d{4})_[A-Z]{3}_([A-Z]{3})_[A-Z]{2}", re.IGNORECASE)
_MEAD_NAME = re.compile(r"(?:mead_)?([MW]\d{3})_(?:[a-z]+_)?([a-z]+)_level_?\d_\d{3}", re.IGNORECASE)
_MEAD_PATH = re.compile(r"([MW]\d{3})/video/[a-z_]+/([a-z]+)/level_\d/\d{3}", re.IGNORECASE)


def _video_clip(path: Path) -> VideoClip:
    """The clip's label from its name (or MEAD folders), or ValueError with the reason."""
    stem, where = path.stem, "/".join(path.with_suffix("").parts[-6:])
    for pattern, corpus, emotions in ((_RAVDESS_VIDEO, RAVDESS, _RAVDESS_EMOTIONS),
                                      (_CREMA_VIDEO, CREMA_D, _CREMA_EMOTIONS)):
        match = pattern.fullmatch(stem)
        if match:
            code, subject = (match[1], match[2]) if corpus == RAVDESS else (match[2].upper(), match[1])
            label = emotions.get(code)
            break
    else:
        match = _MEAD_NAME.fullmatch(stem) or _MEAD_PATH.search(where)
        if match:
            corpus, subject, label = MEAD, match[1].upper(), match[2].lower()
        else:  # a generic <class>/ folder of clips; its speakers are unknown: one group per clip
            label = path.parent.name
            _modelled(label, "no known layout: not a RAVDESS, CREMA-D or MEAD video name, "
                             f"and its folder {label!r} does not name an emotion")
            corpus, subject = GENERIC, stem
    if label is None:
        raise ValueError(f"unknown emotion: {corpus} code in {path.name}")
    emotion = _modelled(label, f"unknown emotion: {label!r} in {path.name}")
    return VideoClip(path, emotion, f"{corpus}:{subject}", corpus, label)


def scan_face_videos(root: str | Path) -> tuple[list[VideoClip], list[Skipped]]:
    """Every labelled video under ``root`` (a folder or one file), and the videos skipped."""
    root = Path(root).expanduser()
    if root.is_file():
        files = [root] if root.suffix.lower() in VIDEO_EXTENSIONS else []
    else:
        files = list(_files(root, VIDEO_EXTENSIONS))
    clips, skipped = [], []
    for path in files:
        try:
            clips.append(_video_clip(path))
        except ValueError as error:
            skipped.append(Skipped(str(path), str(error)))
    return clips, skipped


@dataclass(frozen=True)
class AvClip:
    """A labelled video and where its speech is: its own track, a matching audio file, or none."""

    video: VideoClip
    audio: Path | None


def _speech_file_stems(video: VideoClip) -> tuple[str, ...]:
    """Names the clip's speech has as an audio file: RAVDESS 03-01-... (or song 03-02-...) for
    video 01-/02-..., and CREMA-D AudioWAV's same name as VideoFlash."""
    stem = video.path.stem
    if video.corpus == RAVDESS:
        ids = stem.rpartition("_")[2]
        return (f"03-{ids[3:]}",)
    return (stem,) if video.corpus == CREMA_D else ()


def scan_av_clips(root: str | Path) -> tuple[list[AvClip], list[Skipped]]:
    """Every labelled video under ``root`` with its speech (see ``AvClip``), and those skipped."""
    clips, skipped = scan_face_videos(root)
    root = Path(root).expanduser()
    audio_files = {} if root.is_file() else {p.stem.upper(): p for p in _files(root, AUDIO_EXTENSIONS)}
    found = []
    for clip in clips:
        try:
            own_track = probe(clip.path).has_audio
        except StudioError as error:
            skipped.append(Skipped(str(clip.path), f"unreadable video: {error}"))
            continue
        audio = clip.path if own_track else next(
            (audio_files[s.upper()] for s in _speech_file_stems(clip) if s.upper() in audio_files), None)
        found.append(AvClip(clip, audio))
    return found, skipped
