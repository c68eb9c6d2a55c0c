"""Speech-emotion corpora in their original public layouts: each clip, its emotion and speaker.

A file is recognised by its corpus's file-name convention (RAVDESS, CREMA-D, TESS, SAVEE, EmoDB),
else by a folder only that corpus uses (``Actor_01``, ``AudioWAV``, ``OAF_angry``, ``DC``), else
by a parent folder named after an emotion (generic class folders). One root may hold several
corpora. A file that cannot be used is listed with the reason: nothing is guessed or lost quietly.
"""

import os
import random
import re
import textwrap
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import av
import soundfile

from ..errors import DatasetError
from ..labels import EMOTIONS, canonical
from ..media.probe import AUDIO_EXTENSIONS

RAVDESS, CREMA_D, TESS, SAVEE, EMODB = "ravdess", "crema-d", "tess", "savee", "emodb"
TUREV, URDU = "turev", "urdu"  # emotion folders of clips named <speaker>_...
GENERIC = "generic"  # one folder per emotion, speakers unknown
CORPORA = (RAVDESS, CREMA_D, TESS, SAVEE, EMODB, TUREV, URDU, GENERIC)

_LOSSLESS = (".wav", ".flac")  # of two copies of one clip, these are kept over lossy ones
_SOUNDFILE_SUFFIXES = (".wav", ".flac", ".ogg")  # libsndfile reads these headers without noise
_IGNORED_FOLDERS = ("__MACOSX",)  # macOS zip residue: AppleDouble copies of every file


@dataclass(frozen=True)
class SpeechSample:
    path: Path
    emotion: str  # canonical (``source.labels.EMOTIONS``)
    speaker: str  # corpus-prefixed, e.g. "ravdess:01"; generic folders: one group per file
    corpus: str
    label: str  # the corpus's own label before folding, e.g. RAVDESS "calm" (emotion "neutral")


class Skipped(NamedTuple):
    path: Path
    reason: str  # "<kind>: <detail>", e.g. "unknown emotion: RAVDESS emotion code '09' ..."


class _Unusable(Exception):
    """A file that cannot become a sample; the message is its ``Skipped.reason``."""


class _Parsed(NamedTuple):
    label: str  # a name ``canonical`` knows, or the unknown name found
    speaker: str  # without the corpus prefix
    clip: str  # the recording's identity: copies of it in other formats or folders share it


@dataclass(frozen=True)
class _Convention:
    corpus: str
    example: str  # what the layout looks like, for messages
    shape: re.Pattern | None  # a file stem of this form is this corpus's, even with a wrong code
    folder: re.Pattern | None  # a folder name only this corpus uses
    parse: Callable[[Path, Path], _Parsed]  # (file, root) -> parsed, or raises _Unusable


def _require(value: str, allowed: Iterable[str], reason: str) -> None:
    if value not in allowed:
        raise _Unusable(reason)


_TWO = ("01", "02")
_RAVDESS_ACTORS = tuple(f"{n:02d}" for n in range(1, 25))
_RAVDESS_NAME = re.compile(r"(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)")
_RAVDESS_EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry",
                     "06": "fearful", "07": "disgust", "08": "surprised"}


def _parse_ravdess(path: Path, root: Path) -> _Parsed:
    match = _RAVDESS_NAME.fullmatch(path.stem)
    if not match:
        raise _Unusable("name does not match: RAVDESS names are 03-CC-EE-II-SS-RR-AA, "
                        "e.g. 03-01-05-01-01-01-01")
    modality, channel, emotion, intensity, statement, repetition, actor = match.groups()
    _require(modality, ("03",), f"not audio-only: RAVDESS modality {modality} (01 audio-video, "
                                "02 video-only); speech corpora take 03, audio-only")
    _require(channel, _TWO, f"name does not match: RAVDESS vocal channel {channel} "
                            "(01 speech, 02 song)")
    _require(emotion, _RAVDESS_EMOTIONS, f"unknown emotion: RAVDESS emotion code {emotion} "
                                         "(01-08)")
    for name, value in (("intensity", intensity), ("statement", statement),
                        ("repetition", repetition)):
        _require(value, _TWO, f"name does not match: RAVDESS {name} {value} (01 or 02)")
    _require(actor, _RAVDESS_ACTORS, f"name does not match: RAVDESS actor {actor} (01-24)")
    return _Parsed(_RAVDESS_EMOTIONS[emotion], actor, path.stem)


_CREMA_NAME = re.compile(r"(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})", re.IGNORECASE)
_CREMA_EMOTIONS = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happy",
                   "NEU": "neutral", "SAD": "sad"}
_CREMA_LEVELS = ("LO", "MD", "HI", "XX")
_CREMA_SPEAKERS = tuple(str(n) for n in range(1001, 1092))


# what the actors say: the words of a clip, for the text branch of the combined model
_RAVDESS_STATEMENTS = {"01": "Kids are talking by the door.", "02": "Dogs are sitting by the door."}
_CREMA_SENTENCE_TEXTS = {
    "IEO": "It's eleven o'clock.", "TIE": "That is exactly what happened.",
    "IOM": "I'm on my way to the meeting.", "IWW": "I wonder what this is about.",
    "TAI": "The airplane is almost full.", "MTI": "Maybe tomorrow it will be cold.",
    "IWL": "I would like a new alarm clock.", "ITH": "I think I have a doctor's appointment.",
    "DFA": "Don't forget a jacket.", "ITS": "I think I've seen this before.",
    "TSI": "The surface is slick.", "WSI": "We'll stop in a couple of minutes.",
}


def spoken_sentence(path: Path) -> str | None:
    """The sentence said in a RAVDESS or CREMA-D clip (audio or video), from its name; else None."""
    ravdess = _RAVDESS_NAME.fullmatch(path.stem.rpartition("_")[2])
    if ravdess:
        return _RAVDESS_STATEMENTS.get(ravdess[5])
    crema = _CREMA_NAME.fullmatch(path.stem)
    return _CREMA_SENTENCE_TEXTS.get(crema[2].upper()) if crema else None


def _parse_crema_d(path: Path, root: Path) -> _Parsed:
    match = _CREMA_NAME.fullmatch(path.stem)
    if not match:
        raise _Unusable("name does not match: CREMA-D names are SPEAKER_SENTENCE_EMOTION_LEVEL, "
                        "e.g. 1001_DFA_ANG_XX")
    speaker, sentence, emotion, level = (part.upper() for part in match.groups())
    _require(speaker, _CREMA_SPEAKERS, f"name does not match: CREMA-D speaker {speaker} "
                                       "(1001-1091)")
    _require(sentence, _CREMA_SENTENCE_TEXTS, f"name does not match: CREMA-D sentence {sentence}")
    _require(emotion, _CREMA_EMOTIONS, f"unknown emotion: CREMA-D emotion code {emotion} "
                                       f"({', '.join(_CREMA_EMOTIONS)})")
    _require(level, _CREMA_LEVELS, f"name does not match: CREMA-D level {level} "
                                   f"({', '.join(_CREMA_LEVELS)})")
    return _Parsed(_CREMA_EMOTIONS[emotion], speaker, path.stem.upper())


_TESS_NAME = re.compile(r"(OAF|YAF)_([a-z]+)_([a-z_]+)", re.IGNORECASE)
_TESS_FOLDER = re.compile(r"(OAF|YAF)_([a-z_]+)", re.IGNORECASE)
_TESS_SPELLINGS = {"pleasant_surprised": "pleasant_surprise"}  # a Kaggle folder spelling


def _tess_label(name: str) -> str:
    name = name.lower()
    return _TESS_SPELLINGS.get(name, name)


def _parse_tess(path: Path, root: Path) -> _Parsed:
    match = _TESS_NAME.fullmatch(path.stem)
    if not match:
        raise _Unusable("name does not match: TESS names are SPEAKER_WORD_EMOTION, "
                        "e.g. OAF_back_angry")
    speaker, label = match.group(1).upper(), _tess_label(match.group(3))
    folder = _TESS_FOLDER.fullmatch(path.parent.name)
    if folder:  # a misfiled clip: the name and its folder disagree, so neither can be trusted
        folder_label = _tess_label(folder.group(2))
        if _known(label) and _known(folder_label) and canonical(label) != canonical(folder_label):
            raise _Unusable(f"label conflict: the name says {label}, the folder "
                            f"{path.parent.name} says {folder_label}")
    return _Parsed(label, speaker, path.stem.lower())


_SAVEE_SPEAKERS = ("DC", "JE", "JK", "KL")
_SAVEE_NAME = re.compile(r"(?:(DC|JE|JK|KL)_)?([a-z]{1,2})(\d\d)", re.IGNORECASE)
_SAVEE_EMOTIONS = {"a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "n": "neutral",
                   "sa": "sadness", "su": "surprise"}


def _parse_savee(path: Path, root: Path) -> _Parsed:
    # Kaggle's copy names files DC_a01.wav; the original zip has AudioData/DC/a01.wav
    match = _SAVEE_NAME.fullmatch(path.stem)
    speaker = ((match and match.group(1)) or path.parent.name).upper()
    if match is None or speaker not in _SAVEE_SPEAKERS:
        raise _Unusable("name does not match: SAVEE names are DC_a01 (or a01 in a folder DC, "
                        "JE, JK or KL)")
    code, number = match.group(2).lower(), match.group(3)
    _require(code, _SAVEE_EMOTIONS, f"unknown emotion: SAVEE emotion code {code} "
                                    f"({', '.join(_SAVEE_EMOTIONS)})")
    return _Parsed(_SAVEE_EMOTIONS[code], speaker, f"{speaker}_{code}{number}")


_EMODB_NAME = re.compile(r"(\d\d)([ab]\d\d)([A-Z])([a-z])")
_EMODB_SPEAKERS = ("03", "08", "09", "10", "11", "12", "13", "14", "15", "16")
_EMODB_TEXTS = ("a01", "a02", "a04", "a05", "a07", "b01", "b02", "b03", "b09", "b10")
_EMODB_EMOTIONS = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness",
                   "T": "sadness", "N": "neutral"}  # German initials: Wut, Langeweile, Ekel, ...


def _parse_emodb(path: Path, root: Path) -> _Parsed:
    match = _EMODB_NAME.fullmatch(path.stem)
    if not match:
        raise _Unusable("name does not match: EmoDB names are SPEAKER TEXT EMOTION VERSION, "
                        "e.g. 03a01Fa")
    speaker, text, emotion, _version = match.groups()
    _require(speaker, _EMODB_SPEAKERS, f"name does not match: EmoDB speaker {speaker} "
                                       f"({', '.join(_EMODB_SPEAKERS)})")
    _require(text, _EMODB_TEXTS, f"name does not match: EmoDB text {text}")
    _require(emotion, _EMODB_EMOTIONS, f"unknown emotion: EmoDB emotion letter {emotion} "
                                       f"({', '.join(_EMODB_EMOTIONS)})")
    return _Parsed(_EMODB_EMOTIONS[emotion], speaker, path.stem)


def _parse_speaker_named(path: Path, root: Path) -> _Parsed:
    # TurEV-DB (Sound Source/Angry/1157_kz_acik.wav), URDU (Angry/SM1_F10_A010.wav): the folder
    # names the emotion, the file name's part before the first "_" the speaker
    return _Parsed(path.parent.name, path.stem.partition("_")[0], path.stem)


def _parse_generic(path: Path, root: Path) -> _Parsed:
    # no speaker is known: each file is its own group, named by where it lies
    clip = path.relative_to(root).with_suffix("").as_posix()
    return _Parsed(path.parent.name, clip, clip)


_CONVENTIONS = {
    RAVDESS: _Convention(RAVDESS, "Actor_01/03-01-05-01-01-01-01.wav (speech or song; .wav or "
                                  ".flac; audio-only 03- files)",
                         re.compile(r"\d\d(-\d\d){6}"), re.compile(r"Actor_\d\d"), _parse_ravdess),
    CREMA_D: _Convention(CREMA_D, "AudioWAV/1001_DFA_ANG_XX.wav",
                         re.compile(r"\d{4}_[a-z]{3}_[a-z]{3}_[a-z]{2}", re.IGNORECASE),
                         re.compile(r"Audio(WAV|MP3)"), _parse_crema_d),
    TESS: _Convention(TESS, "OAF_angry/OAF_back_angry.wav, YAF_pleasant_surprised/YAF_back_ps.wav",
                      re.compile(r"(OAF|YAF)_[a-z]+_[a-z_]+", re.IGNORECASE), _TESS_FOLDER,
                      _parse_tess),
    SAVEE: _Convention(SAVEE, "DC_a01.wav, or AudioData/DC/a01.wav",
                       re.compile(r"(DC|JE|JK|KL)_[a-z]{1,2}\d\d", re.IGNORECASE),
                       re.compile(r"DC|JE|JK|KL"), _parse_savee),
    EMODB: _Convention(EMODB, "wav/03a01Fa.wav", re.compile(r"\d\d[a-z]\d\d[A-Z][a-z]"), None,
                       _parse_emodb),
    # TurEV-DB's tag is the emotion in Turkish: kizgin, huzunlu, mutlu, sakin
    TUREV: _Convention(TUREV, "Sound Source/Angry/1157_kz_acik.wav (emotion folders; speaker "
                              "before the first _)",
                       re.compile(r"\d{4}_(kz|hl|mt|sk)_[^_]+", re.IGNORECASE), None, _parse_speaker_named),
    URDU: _Convention(URDU, "Angry/SM1_F10_A010.wav (emotion folders; speaker before the first _)",
                      re.compile(r"S[MF]\d+_F\d+_[ANHS]\d+", re.IGNORECASE), None, _parse_speaker_named),
    GENERIC: _Convention(GENERIC, "angry/any_name.wav: one folder per emotion, named "
                                  f"{', '.join(EMOTIONS)} or a common alias (anger, calm, ...)",
                         None, None, _parse_generic),
}
_NAMED = tuple(c for c in _CONVENTIONS.values() if c.corpus != GENERIC)


def _known(label: str) -> bool:
    try:
        canonical(label)
    except KeyError:
        return False
    return True


def _convention_for(path: Path) -> _Convention | None:
    """The file name decides first (it carries the speaker), then a corpus's own folder, then a
    folder named after an emotion."""
    for convention in _NAMED:
        if convention.shape.fullmatch(path.stem):
            return convention
    for convention in _NAMED:
        if convention.folder and convention.folder.fullmatch(path.parent.name):
            return convention
    return _CONVENTIONS[GENERIC] if _known(path.parent.name) else None


def _audio_files(root: Path) -> Iterator[tuple[Path, int]]:
    """Audio files under ``root`` with their sizes, in a stable order; hidden entries skipped.

    Linked folders are followed (a root may gather corpora by symlink), each real folder once.
    """
    visited = set()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in visited:  # a link back up the tree, or a second link to one corpus
            subfolders.clear()
            continue
        visited.add(real)
        subfolders[:] = sorted(d for d in subfolders
                               if not d.startswith(".") and d not in _IGNORED_FOLDERS)
        for name in sorted(files):
            path = Path(folder, name)
            if not name.startswith(".") and path.suffix.lower() in AUDIO_EXTENSIONS:
                yield path, path.stat().st_size


def _audio_problem(path: Path, size: int) -> str | None:
    """Why the file is not usable audio, or None. Cheap: headers only, or one decoded packet."""
    if size == 0:
        return "empty audio: the file is 0 bytes"
    if path.suffix.lower() in _SOUNDFILE_SUFFIXES:
        try:
            frames = soundfile.info(str(path)).frames
        except soundfile.LibsndfileError:
            pass  # maybe a codec libsndfile lacks: FFmpeg decides
        else:
            return None if frames > 0 else "empty audio: no samples"
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return "unreadable audio: no audio stream"
            if next(container.decode(audio=0), None) is None:
                return "empty audio: nothing decodes"
    except av.FFmpegError as error:
        detail = getattr(error, "strerror", None) or error
        return f"unreadable audio: neither libsndfile nor FFmpeg can read it ({detail})"
    return None


def _sample(path: Path, root: Path, convention: _Convention) -> tuple[SpeechSample, str]:
    label, speaker, clip = convention.parse(path, root)
    try:
        emotion = canonical(label)
    except KeyError:
        raise _Unusable(f"unknown emotion: {label!r} is not an emotion label the studio "
                        "knows") from None
    if emotion is None:
        raise _Unusable(f"not modelled: {label} is not one of the studio's emotions")
    return SpeechSample(path, emotion, f"{convention.corpus}:{speaker}", convention.corpus,
                        label), clip


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _folder(root: str | Path) -> Path:
    root = Path(root).expanduser()
    if not root.exists():
        raise DatasetError(f"{root} does not exist.")
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder: give the folder that holds the corpus.")
    return root.resolve()


def _forced_convention(corpus: str | None) -> _Convention | None:
    if corpus is None:
        return None
    if corpus not in _CONVENTIONS:
        raise DatasetError(f"Unknown speech corpus {corpus!r}; choose from {', '.join(CORPORA)}.")
    return _CONVENTIONS[corpus]


def _nothing_found(root: Path) -> DatasetError:
    audio = [path for path, _ in _audio_files(root)]
    if audio:
        examples = ", ".join(_relative(path, root) for path in audio[:3])
        count = f"{len(audio)} audio file" + ("s" if len(audio) > 1 else "")
        found = f"{count}, none named or filed like these (e.g. {examples})"
    else:
        entries = sorted(p.name for p in root.iterdir() if not p.name.startswith("."))
        found = (f"no audio files ({', '.join(AUDIO_EXTENSIONS)}); the folder holds "
                 + (", ".join(entries[:8]) + (", ..." if len(entries) > 8 else "")
                    if entries else "nothing"))
    layouts = "\n".join(f"  {c.corpus:8} {c.example}" for c in _CONVENTIONS.values())
    return DatasetError(f"No speech-emotion corpus found in {root}.\n"
                        f"Recognised layouts (the corpora's original public ones):\n{layouts}\n"
                        f"Found: {found}.")


def detect_speech_corpora(root: str | Path) -> tuple[str, ...]:
    """The corpora whose files lie under ``root`` (names from :data:`CORPORA`), by layout alone.

    Raises :class:`DatasetError` saying what layouts are recognised and what was found instead.
    """
    root = _folder(root)
    found = {convention.corpus for path, _ in _audio_files(root)
             if (convention := _convention_for(path))}
    if not found:
        raise _nothing_found(root)
    return tuple(corpus for corpus in CORPORA if corpus in found)


@dataclass(frozen=True)
class SpeechDataset:
    root: Path
    samples: tuple[SpeechSample, ...]
    skipped: tuple[Skipped, ...]

    @property
    def corpora(self) -> tuple[str, ...]:
        present = {s.corpus for s in self.samples}
        return tuple(corpus for corpus in CORPORA if corpus in present)

    @property
    def speakers(self) -> tuple[str, ...]:
        """The groups a speaker split keeps apart (in emotion folders: single files)."""
        return tuple(sorted({s.speaker for s in self.samples}))

    def summary(self) -> str:
        """Counts per emotion (and corpus), per speaker, and why files were skipped."""
        corpora = ", ".join(f"{c} {sum(s.corpus == c for s in self.samples)}"
                            for c in self.corpora)
        known = len({s.speaker for s in self.samples if s.corpus != GENERIC})
        unknown = sum(s.corpus == GENERIC for s in self.samples)
        speakers = ", ".join(([f"from {known} speakers"] if known else [])
                             + ([f"{unknown} of unknown speakers"] if unknown else []))
        lines = [f"{self.root}",
                 f"{len(self.samples)} clips ({corpora}) {speakers}; "
                 f"{len(self.skipped)} files skipped", ""]
        lines += _emotion_table(self.samples, self.corpora)
        lines += _folded_labels(self.samples)
        lines += ["", *_speaker_lines(self.samples)]
        if self.skipped:
            lines += ["", *_skipped_lines(self.skipped, self.root)]
        return "\n".join(lines)


def _emotion_table(samples: tuple[SpeechSample, ...], corpora: tuple[str, ...]) -> list[str]:
    counts = Counter((s.emotion, s.corpus) for s in samples)
    columns = (*corpora, "total") if len(corpora) > 1 else ("clips",)
    rows = [("emotion", *columns)]
    for emotion in EMOTIONS:  # zero rows too: a class a corpus lacks matters for the label set
        cells = [counts[emotion, corpus] for corpus in corpora]
        if len(corpora) > 1:
            cells.append(sum(cells))
        rows.append((emotion, *map(str, cells)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join([row[0].ljust(widths[0])]
                      + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])])
            for row in rows]


def _folded_labels(samples: tuple[SpeechSample, ...]) -> list[str]:
    """Where one corpus's different labels became one emotion (e.g. RAVDESS calm -> neutral)."""
    labels = defaultdict(Counter)
    for s in samples:
        labels[s.corpus, s.emotion][s.label] += 1
    return [f"{corpus}: " + ", ".join(f"{label} {n}" for label, n in sorted(counts.items()))
            + f" are all counted as {emotion}"
            for (corpus, emotion), counts in sorted(labels.items()) if len(counts) > 1]


def _speaker_lines(samples: tuple[SpeechSample, ...]) -> list[str]:
    known = Counter(s.speaker for s in samples if s.corpus != GENERIC)
    lines = []
    if known:
        lines.append(f"clips per speaker ({len(known)} speakers):")
        counts = "   ".join(f"{speaker} {n}" for speaker, n in sorted(known.items()))
        lines += textwrap.wrap(counts, width=96, initial_indent="  ", subsequent_indent="  ",
                               break_on_hyphens=False)
    generic = sum(s.corpus == GENERIC for s in samples)
    if generic:
        lines += textwrap.wrap(f"speakers unknown for the {generic} clips in emotion folders: "
                               "each file is its own group, so a split keeps those clips apart "
                               "but cannot keep speakers apart", width=96)
    return lines


def _skipped_lines(skipped: Iterable[Skipped], root: Path, examples: int = 3) -> list[str]:
    by_kind = defaultdict(list)
    for entry in skipped:
        kind, _, detail = entry.reason.partition(": ")
        by_kind[kind].append((entry.path, detail))
    lines = [f"skipped {sum(map(len, by_kind.values()))} files:"]
    for kind, entries in sorted(by_kind.items(), key=lambda item: -len(item[1])):
        lines.append(f"  {kind}: {len(entries)}")
        lines += [f"    {_relative(path, root)}: {detail}" for path, detail in entries[:examples]]
        if len(entries) > examples:
            lines.append(f"    ... and {len(entries) - examples} more")
    return lines


def scan_speech_dataset(root: str | Path, corpus: str | None = None) -> SpeechDataset:
    """Every usable clip under ``root``, recognised by layout, and every unusable file with why.

    ``corpus`` (a name from :data:`CORPORA`) reads every audio file by that corpus's convention
    instead, e.g. ``"generic"`` for emotion folders whose files carry another corpus's names.
    Copies of one recording (the same clip as .wav and .mp3, or unpacked twice) count once: a
    lossless copy is kept. Raises :class:`DatasetError` when no file is usable.
    """
    root = _folder(root)
    forced = _forced_convention(corpus)
    copies: dict[tuple[str, str], list[SpeechSample]] = defaultdict(list)
    skipped: list[Skipped] = []
    recognised = 0
    for path, size in _audio_files(root):
        convention = forced or _convention_for(path)
        if convention is None:
            skipped.append(Skipped(path, f"no known layout: neither the name nor the folder "
                                         f"{path.parent.name!r} follows a known corpus or names "
                                         "an emotion"))
            continue
        recognised += 1
        try:
            sample, clip = _sample(path, root, convention)
            problem = _audio_problem(path, size)
            if problem:
                raise _Unusable(problem)
        except _Unusable as unusable:
            skipped.append(Skipped(path, str(unusable)))
            continue
        copies[sample.corpus, clip].append(sample)
    if not recognised:
        raise _nothing_found(root)
    samples = []
    for versions in copies.values():
        kept, *others = sorted(versions, key=lambda s: (s.path.suffix.lower() not in _LOSSLESS,
                                                        len(s.path.parts), s.path))
        samples.append(kept)
        skipped += [Skipped(o.path, f"duplicate: the same recording as "
                                    f"{_relative(kept.path, root)}") for o in others]
    if not samples:
        raise DatasetError(f"No usable clips in {root}.\n"
                           + "\n".join(_skipped_lines(skipped, root)))
    return SpeechDataset(root, tuple(sorted(samples, key=lambda s: s.path)),
                         tuple(sorted(skipped)))


def _resolve_speaker(name: str, speakers: list[str]) -> str:
    """A full id ("ravdess:01"), or a bare one ("01") when only one corpus has it."""
    if name in speakers:
        return name
    matches = [s for s in speakers if s.partition(":")[2] == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise DatasetError(f"Speaker {name!r} is ambiguous: say which of {', '.join(matches)}.")
    shown = ", ".join(speakers[:12]) + (", ..." if len(speakers) > 12 else "")
    raise DatasetError(f"No speaker {name!r} in this dataset; its speakers are {shown}.")


def _held_out_speakers(samples: list[SpeechSample], fraction: float, seed: int) -> set[str]:
    """``fraction`` of each corpus's speakers (at least one, never all): every corpus with two
    or more speakers is in both parts. Seeded per corpus, so adding a corpus moves no other's."""
    if not 0 < fraction < 1:
        raise DatasetError(f"The validation fraction must be between 0 and 1, not {fraction}.")
    by_corpus = defaultdict(set)
    for s in samples:
        by_corpus[s.corpus].add(s.speaker)
    held = set()
    for corpus, speakers in sorted(by_corpus.items()):
        if len(speakers) < 2:
            continue  # a lone speaker trains
        count = min(max(round(fraction * len(speakers)), 1), len(speakers) - 1)
        held.update(random.Random(f"{seed}:{corpus}").sample(sorted(speakers), count))
    return held


def speaker_split(samples: Iterable[SpeechSample],
                  validation_speakers: Iterable[str] | None = None, fraction: float = 0.2,
                  seed: int = 0) -> tuple[list[SpeechSample], list[SpeechSample]]:
    """(train, validation), split by speaker, never by clip: no speaker is in both.

    ``validation_speakers`` names them (full or bare ids); otherwise ``fraction`` of each
    corpus's speakers are drawn with ``seed``, the same ones every time. Order is kept.
    """
    samples = list(samples)
    speakers = sorted({s.speaker for s in samples})
    if validation_speakers is None:
        held = _held_out_speakers(samples, fraction, seed)
    else:
        held = {_resolve_speaker(name, speakers) for name in validation_speakers}
    train = [s for s in samples if s.speaker not in held]
    validation = [s for s in samples if s.speaker in held]
    if not train or not validation:
        raise DatasetError(f"A speaker split needs speakers on both sides: {len(speakers)} "
                           f"speakers, {len(held)} held out for validation.")
    return train, validation
