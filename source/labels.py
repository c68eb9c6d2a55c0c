"""The studio's canonical emotions, the views models can be trained on, and corpus label names.

Every model outputs probabilities over one label set; a dataset's own names are mapped to the
canonical seven first (``canonical``), then to the chosen view (``LabelSet.map``).
"""

from dataclasses import dataclass

import numpy as np

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

# corpus spellings -> canonical name; None: a class the studio does not model (dropped)
_ALIASES = {
    "anger": "angry", "ang": "angry", "mad": "angry",
    "disgusted": "disgust", "dis": "disgust",
    "fearful": "fear", "fea": "fear", "afraid": "fear",
    "happiness": "happy", "hap": "happy", "joy": "happy",
    "sadness": "sad",
    "surprised": "surprise", "ps": "surprise", "pleasant_surprise": "surprise",
    "pleasant_surprised": "surprise", "sur": "surprise",
    "calm": "neutral", "neu": "neutral",
    "boredom": None, "contempt": None,
}


def canonical(name: str) -> str | None:
    """The canonical emotion for a corpus label, None for a label the studio drops.

    Raises ``KeyError`` for a label it does not know, so a mislabelled file is never guessed.
    """
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    if key in EMOTIONS:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    raise KeyError(f"unknown emotion label {name!r}")


@dataclass(frozen=True)
class LabelSet:
    """A view of the seven emotions: its class names and where each emotion goes (None: dropped)."""

    name: str
    labels: tuple[str, ...]
    groups: dict  # canonical emotion -> label in this set, or None

    def map(self, emotion: str) -> str | None:
        return self.groups[emotion]

    def index(self, emotion: str) -> int | None:
        label = self.map(emotion)
        return None if label is None else self.labels.index(label)

    def keep(self, samples: list) -> tuple[list, np.ndarray]:
        """The samples (anything with ``.emotion``) this set models, and their class indices."""
        kept = [s for s in samples if self.map(s.emotion) is not None]
        return kept, np.array([self.index(s.emotion) for s in kept], dtype=np.int64)


LABEL_SETS = {
    "7class": LabelSet("7class", EMOTIONS, {e: e for e in EMOTIONS}),
    # the reference design's five groups
    "5group": LabelSet(
        "5group", ("sad_fear", "neutral", "happy", "angry", "surprise_disgust"),
        {"sad": "sad_fear", "fear": "sad_fear", "neutral": "neutral", "happy": "happy",
         "angry": "angry", "surprise": "surprise_disgust", "disgust": "surprise_disgust"},
    ),
    # for corpora without surprise (e.g. CREMA-D)
    "6class": LabelSet("6class", tuple(e for e in EMOTIONS if e != "surprise"),
                       {e: (None if e == "surprise" else e) for e in EMOTIONS}),
}


def top_emotion(probabilities: dict[str, float] | None) -> tuple[str, float] | tuple[None, None]:
    """The most probable label and its probability; (None, None) without probabilities."""
    if not probabilities:
        return None, None
    label = max(probabilities, key=probabilities.get)
    return label, probabilities[label]


def scored(probabilities: dict[str, float]) -> dict:
    """``{"probabilities", "top_emotion", "confidence"}``: how every model reports a prediction."""
    label, confidence = top_emotion(probabilities)
    return {"probabilities": probabilities, "top_emotion": label, "confidence": confidence}


def mean_probabilities(scores: list[dict[str, float] | None]) -> dict[str, float] | None:
    """The mean of several predictions by label (rounded to 4 places); Nones are skipped."""
    scores = [s for s in scores if s]
    if not scores:
        return None
    return {label: round(float(np.mean([s[label] for s in scores])), 4) for label in scores[0]}


def get_label_set(name: str) -> LabelSet:
    if name not in LABEL_SETS:
        raise KeyError(f"unknown label set {name!r}; choose from {', '.join(LABEL_SETS)}")
    return LABEL_SETS[name]
