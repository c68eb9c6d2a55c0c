"""Late fusion: a weighted mean of the probabilities of the branches a window has.

The fusion of every analysis the default learned fusion cannot read (``auto`` without a voice, with
another voice or face model, in windows other than 4 s), the guard of every learned fusion, and the
baseline each is measured against. It is built so that it cannot do much harm on footage unlike any
training data:

- a mean of calibrated distributions never invents a confident emotion no branch gave;
- each branch counts by a fixed reliability (``RELIABILITY``: how often it was right on real
  people, face first), never by a weight fitted on the evaluation clips;
- the words count only as far as they carry emotion: their distribution without "neutral", weighted
  by their evidence (1 - P(neutral)), so a neutral sentence said angrily leaves the face and the
  voice to decide instead of pulling the result to neutral;
- a window whose branches disagree and whose fused top emotion is under 60%, or whose fused top
  emotion no branch put first, is marked uncertain (``uncertain``) rather than reported as sure.
"""

from pathlib import Path

from ..errors import StudioError
from ..labels import EMOTIONS

# relative trust per branch, for any voice model: the face model is right on 51-55% of MEAD video
# frames (7 classes); the MFCC voice calls half of calm talking-head windows disgust and the words
# come from Reddit text. (The Whisper voice is right more often than the face on acted speech of
# unseen actors; where it is fused, auto is the late_fusion model, which weighs it 0.6 to 0.4.)
RELIABILITY = {"face": 1.0, "voice": 0.5, "text": 0.5}
# with the branches disagreeing, a fused top probability (calibrated) under 0.4 is no answer of
# theirs: a learned fusion's is replaced by late fusion's; under 0.6 the window is marked uncertain
UNSUPPORTED_BELOW = 0.4
SURE_FROM = 0.6
MIN_TEXT_EVIDENCE = 0.5  # words with less emotional evidence are left out (plain statements score 0.3-0.4)


class LateFusion:
    """Late fusion as the registry serves it (``--fusion late``, and ``auto``): a fixed rule, so
    there is nothing to train and no weights file; ``facts()`` is what the analysis JSON says of it."""

    labels = EMOTIONS
    sha256 = None  # no weights file
    metrics = None  # its real-video figures: docs/results/real_video-*.md

    @classmethod
    def load(cls, path: str | Path | None = None, voice=None, face=None) -> "LateFusion":
        if path is not None:
            raise StudioError(f"Late fusion is a fixed rule with no weights file: {path} cannot be used "
                              "with it. Give the file with the fusion model it belongs to (--fusion NAME).")
        return cls()

    def facts(self) -> dict:
        return {"method": "late (mean of the branches present, weighted by reliability and the words' evidence)",
                "weights": dict(RELIABILITY)}


def text_distribution(text: dict | None) -> dict[str, float] | None:
    """The words' emotional content: the text model's probabilities without neutral, renormalised;
    None when the window has no words or they carry no emotion."""
    said = text_probabilities(text)
    return said and emotion_distribution({**said, "neutral": 0.0})


def text_probabilities(text: dict | None) -> dict[str, float] | None:
    """The text model's own probabilities of the seven emotions, neutral included (what the words
    branch shows); None without words."""
    if not text or not str(text.get("transcript", "")).strip() or text.get("text_top") in (None, ""):
        return None
    return {e: float(text[f"text_{e}"]) for e in EMOTIONS}


def text_evidence(text: dict | None) -> float:
    """How much emotion the window's words carry, 0..1 (0 without words)."""
    value = (text or {}).get("text_evidence")
    return float(value) if value not in (None, "") else 0.0


def emotion_distribution(scores: dict[str, float]) -> dict[str, float] | None:
    """Scores of the seven emotions as probabilities: negatives clipped, the rest normalised;
    None when nothing is left."""
    scores = {e: max(0.0, float(scores[e])) for e in EMOTIONS}
    total = sum(scores.values())
    return {e: round(v / total, 4) for e, v in scores.items()} if total > 0 else None


def late_fusion(branches: dict[str, dict[str, float] | None],
                weights: dict[str, float] | None = None) -> dict[str, float] | None:
    """Weighted mean over the present branches of their probabilities of the seven emotions;
    None when no branch has a prediction. Branches on another label set are left out."""
    weights = weights or {}
    present = {name: p for name, p in branches.items()
               if p and set(p) == set(EMOTIONS) and weights.get(name, 1.0) > 0}
    if not present:
        return None
    total = sum(weights.get(name, 1.0) for name in present)
    return {e: round(sum(weights.get(name, 1.0) * p[e] for name, p in present.items()) / total, 4)
            for e in EMOTIONS}


def branch_weights(text: dict | None) -> dict[str, float]:
    """``RELIABILITY``, with the words scaled by their evidence (0 under ``MIN_TEXT_EVIDENCE``)."""
    evidence = text_evidence(text)
    return {**RELIABILITY, "text": RELIABILITY["text"] * evidence if evidence >= MIN_TEXT_EVIDENCE else 0.0}


def with_words(learned: dict[str, float], branches: dict[str, dict[str, float] | None],
               weights: dict[str, float]) -> dict[str, float]:
    """A learned fusion's probabilities with the words joined as late fusion joins them: their
    emotional distribution (``branches["text"]``) at the share late fusion gives them among the
    branches present, nothing when they carry too little evidence. The learned fusions never learned
    from words (their training sentences are RAVDESS's two neutral statements), so without this a
    smiling face saying "I am so happy" in a flat voice would fuse to the voice's neutral."""
    words = branches.get("text")
    if not words or weights.get("text", 0.0) <= 0:
        return learned
    share = weights["text"] / sum(weights.get(name, 1.0) for name, p in branches.items() if p)
    return {e: round((1 - share) * learned.get(e, 0.0) + share * words[e], 4) for e in EMOTIONS}


def is_unsupported(branches: dict[str, dict[str, float] | None], fused: dict[str, float] | None) -> bool:
    """True when no branch put the fused top emotion first, or when the branches present put
    different emotions first and the fused top emotion is under ``UNSUPPORTED_BELOW``: a learned
    fusion's result is then replaced by late fusion's."""
    return _disputed(branches, fused, UNSUPPORTED_BELOW)


def is_uncertain(branches: dict[str, dict[str, float] | None], fused: dict[str, float] | None) -> bool:
    """True when the result is unsupported, or when the branches present put different emotions
    first and the fused top emotion is under ``SURE_FROM``."""
    return _disputed(branches, fused, SURE_FROM)


def _disputed(branches: dict[str, dict[str, float] | None], fused: dict[str, float] | None, below: float) -> bool:
    if not fused:
        return False
    tops = {max(p, key=p.get) for p in branches.values() if p}
    top = max(fused, key=fused.get)
    return top not in tops or (len(tops) > 1 and fused[top] < below)
