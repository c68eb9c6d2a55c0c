"""Scoring the studio on real, labelled video: each branch alone and each fusion method, per clip
and per window (``bench/real_video.py``, ``run.py evaluate --model fusion --data DIR``).

A clip's label comes from its file name, in the corpora's own naming: RAVDESS
(``01-01-07-02-02-01-01``: the third field is the emotion) and MEAD (``M030_front_angry_level3_001``
or ``mead_M030_sad_level3_001``). Emotions the studio does not model (MEAD's contempt) are left out;
files without a label are scored only for how often each emotion is called (``calls``), which
shows a branch that calls calm speech "disgust".

``pair_real_media`` builds a second, larger set from real media alone: each face-only MEAD video
with the speech of RAVDESS actors acting the same emotion (``M030_front_angry_level3_001+03-01-05-
02-01-01-19.mp4``). Face and voice are both real recordings of people the studio's models never
heard or saw; only their pairing is made, so this set says how the fusion weighs two real branches
when they agree and when they do not, which the few labelled clips with speech cannot.

A clip's answer from a branch or a fusion is the emotion with the highest mean probability over
the windows where it had one; a window's answer is its top emotion.
"""

import re
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..fusion.late import text_probabilities
from ..errors import StudioError
from ..labels import EMOTIONS, canonical
from ..media.ffmpeg import ffmpeg_binary
from ..media.probe import VIDEO_EXTENSIONS
from ..options import AnalysisOptions
from ..registry import canonical_name
from .pipeline import analyze, load_fusion
from ..results.records import WindowRecord

BRANCHES = ("face", "voice", "text")
# RAVDESS modality 01/02: video; 03: speech alone (the voice of a pair, after a "+")
_RAVDESS = re.compile(r"(?:^|_|\+)0[123]-0[12]-(\d\d)-\d\d-\d\d-\d\d-(\d\d)$")
_RAVDESS_EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry",
                     "06": "fearful", "07": "disgust", "08": "surprised"}
_MEAD = re.compile(r"(?:^|_)([MW]\d{3})_(?:front_)?([a-z]+)_level\d")


def clip_label(path: Path) -> str | None:
    """The canonical emotion named by a RAVDESS or MEAD file name; None when it names none the
    studio models, or no emotion at all."""
    for pattern, names in ((_RAVDESS, _RAVDESS_EMOTIONS), (_MEAD, None)):
        match = pattern.search(path.stem)
        if match:
            name = names[match.group(1)] if names else match.group(2)
            try:
                return canonical(name)
            except KeyError:
                return None
    return None


def clip_people(path: Path) -> tuple[str, ...]:
    """The people seen or heard in a clip, as the training splits name them ("ravdess:01",
    "mead:M030"): one for a recording, two for a pair, none when the file name does not say."""
    mead, ravdess = _MEAD.search(path.stem), _RAVDESS.search(path.stem)
    return tuple(([f"mead:{mead.group(1)}"] if mead else []) + ([f"ravdess:{ravdess.group(2)}"] if ravdess else []))


@dataclass(frozen=True)
class RealClip:
    path: Path
    label: str | None  # None: unlabelled (only the calls are counted)

    @property
    def people(self) -> tuple[str, ...]:
        return clip_people(self.path)


def real_clips(root: str | Path) -> list[RealClip]:
    """Every video under ``root``, with its label when its name gives one the studio models;
    clips of an emotion the studio does not model (contempt) are left out."""
    clips = []
    for path in sorted(Path(root).rglob("*")):
        if path.suffix.lower() not in VIDEO_EXTENSIONS or path.name.startswith("."):
            continue
        label = clip_label(path)
        named = bool(_RAVDESS.search(path.stem) or _MEAD.search(path.stem))
        if named and label is None:
            continue  # an emotion the studio does not model
        clips.append(RealClip(path, label))
    return clips


def pair_real_media(faces: str | Path, voices: str | Path, actors: list[str], out: str | Path) -> list[RealClip]:
    """Each labelled video under ``faces`` (its picture only) with the speech of each RAVDESS actor
    of ``actors`` ("19") acting the same emotion, under ``voices`` (RAVDESS's own layout): both
    sentences, strong intensity (normal for neutral, which has no other), first repetition. The
    speech is padded with silence or cut to the video's length. Files already in ``out`` are kept."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    codes = {canonical(name): code for code, name in _RAVDESS_EMOTIONS.items() if name != "calm"}
    pairs = []
    for face in (c for c in real_clips(faces) if c.label is not None):
        for actor in actors:
            intensity = "01" if face.label == "neutral" else "02"
            for sentence in ("01", "02"):
                stem = f"03-01-{codes[face.label]}-{intensity}-{sentence}-01-{actor}"
                found = sorted(p for p in Path(voices).rglob(f"{stem}.*") if p.suffix.lower() in (".wav", ".flac"))
                if not found:
                    raise StudioError(f"No RAVDESS clip {stem}.wav or .flac under {voices}.")
                target = out / f"{face.path.stem}+{stem}.mp4"
                if not target.exists():
                    _mux(face.path, found[0], target)
                pairs.append(RealClip(target, face.label))
    return pairs


def _mux(video: Path, speech: Path, target: Path) -> None:
    partial = target.with_name(f".{target.name}")
    command = [ffmpeg_binary(), "-v", "error", "-y", "-i", str(video), "-i", str(speech), "-map", "0:v:0",
               "-map", "1:a:0", "-c:v", "copy", "-af", "apad", "-c:a", "aac", "-shortest", "-f", "mp4", str(partial)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise StudioError(f"Could not join {video.name} and {speech.name}: {done.stderr.strip()[-300:]}")
    partial.replace(target)


def _branch_probabilities(window: WindowRecord, source: str) -> np.ndarray | None:
    """One window's probabilities from one branch alone (the words as the text model scored them,
    neutral included, even when too plain to join the fusion), or fused."""
    scores = text_probabilities(window.text) if source == "text" else window.probabilities.get(source)
    return None if not scores else np.array([scores.get(e, 0.0) for e in EMOTIONS])


def clip_answers(windows: list[WindowRecord]) -> dict[str, dict]:
    """Per branch and for the fused result: the clip's answer and each window's top emotion."""
    answers = {}
    for source in (*BRANCHES, "fused"):
        rows = [(_branch_probabilities(w, source), source == "fused" and w.uncertain) for w in windows]
        present = [(p, uncertain) for p, uncertain in rows if p is not None]
        if not present:
            continue
        answers[source] = {"clip": EMOTIONS[int(np.mean([p for p, _ in present], axis=0).argmax())],
                           "windows": [EMOTIONS[int(p.argmax())] for p, _ in present],
                           "uncertain_windows": sum(u for _, u in present)}
    return answers


def fitted_people(options: AnalysisOptions) -> list[str]:
    """The people whose clips the fusion model of ``options`` was trained or validated on (``auto``:
    its model's, which it uses where there is a voice; late fusion learns nothing: none)."""
    named = options if options.fusion_weights else replace(options, fusion=canonical_name(options.fusion))
    fusion, _ = load_fusion(named, None, None)
    split = (fusion.metrics or {}).get("split", {}) if fusion is not None else {}
    return sorted({*split.get("train", []), *split.get("validation", [])})


def evaluate_real_video(clips: list[RealClip], methods: dict[str, AnalysisOptions],
                        progress=None) -> dict:
    """Per method (a name -> analysis options): per clip the answers of each branch and of the fusion,
    and per source the clips and windows right, over the labelled clips, and over those of people
    the method's fusion model never saw in training or validation (``held_out``)."""
    report = {"clips": [str(c.path) for c in clips], "labels": [c.label for c in clips], "methods": {}}
    with tempfile.TemporaryDirectory(prefix="real-video-") as out:
        for name, options in methods.items():
            per_clip = []
            for index, clip in enumerate(clips):
                result = analyze(clip.path, replace(options, plots=False), out)
                per_clip.append(clip_answers(result.windows))
                if progress:
                    progress(name, index + 1, len(clips))
            seen = fitted_people(options)
            held_out = [i for i, clip in enumerate(clips) if not set(clip.people) & set(seen)]
            report["methods"][name] = {
                "per_clip": per_clip, "scores": scores(clips, per_clip), "agreement": agreement(clips, per_clip),
                "fusion_trained_on": seen,
                "held_out": scores([clips[i] for i in held_out], [per_clip[i] for i in held_out])}
    return report


def scores(clips: list[RealClip], per_clip: list[dict]) -> dict:
    """Per source: clips right of the labelled clips it answered, windows right, and over the
    unlabelled clips how often each emotion was called (share of windows)."""
    out = {}
    for source in (*BRANCHES, "fused"):
        right = total = window_right = window_total = uncertain = 0
        calls = Counter()
        for clip, answers in zip(clips, per_clip):
            answer = answers.get(source)
            if answer is None:
                continue
            if clip.label is None:
                calls.update(answer["windows"])
                continue
            total += 1
            right += answer["clip"] == clip.label
            window_total += len(answer["windows"])
            window_right += sum(w == clip.label for w in answer["windows"])
            uncertain += answer["uncertain_windows"]
        n_calls = sum(calls.values())
        out[source] = {"clips_right": right, "clips": total, "windows_right": window_right, "windows": window_total,
                       "uncertain_windows": uncertain,
                       "unlabelled_calls": {e: round(n / n_calls, 3) for e, n in calls.most_common()} if n_calls else {}}
    return out


def agreement(clips: list[RealClip], per_clip: list[dict]) -> dict:
    """Over the labelled clips that both the face and the voice answered, split by whether the two
    agree: how many clips, how many each of face, voice and fusion got right, and how many the
    fusion marked uncertain (a window or more) and of those how many it got right. Fusion should
    gain where they agree, pick the right one where they do not, and be unsure where it is wrong."""
    counts = ("clips", "face_right", "voice_right", "fused_right", "uncertain", "uncertain_right")
    out = {part: dict.fromkeys(counts, 0) for part in ("agree", "disagree")}
    for clip, answers in zip(clips, per_clip):
        if clip.label is None or not {"face", "voice", "fused"} <= answers.keys():
            continue
        part = out["agree" if answers["face"]["clip"] == answers["voice"]["clip"] else "disagree"]
        part["clips"] += 1
        for source in ("face", "voice", "fused"):
            part[f"{source}_right"] += answers[source]["clip"] == clip.label
        if answers["fused"].get("uncertain_windows"):
            part["uncertain"] += 1
            part["uncertain_right"] += answers["fused"]["clip"] == clip.label
    return out
