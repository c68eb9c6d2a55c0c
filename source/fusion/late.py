"""Late fusion: the mean of the probabilities of the branches a window has.

The baseline every learned fusion is measured against, and what the timeline uses when no
combined model is loaded. Text scores are lexicon weights (a negation can make one negative),
so they become a distribution first: negatives clipped, the rest normalised.
"""

from ..labels import EMOTIONS


def text_distribution(text: dict | None) -> dict[str, float] | None:
    """The window's text-emotion scores as probabilities; None when it has no words."""
    if not text or not text.get("transcript", "").strip():
        return None
    return emotion_distribution({e: float(text[f"text_{e}"]) for e in EMOTIONS})


def emotion_distribution(scores: dict[str, float]) -> dict[str, float] | None:
    """Lexicon scores of the seven emotions as probabilities: negatives clipped, the rest
    normalised; None when nothing is left."""
    scores = {e: max(0.0, float(scores[e])) for e in EMOTIONS}
    total = sum(scores.values())
    return {e: round(v / total, 4) for e, v in scores.items()} if total > 0 else None


def late_fusion(branches: dict[str, dict[str, float] | None],
                weights: dict[str, float] | None = None) -> dict[str, float] | None:
    """Weighted mean over the present branches of their probabilities of the seven emotions;
    None when no branch has a prediction. Branches on another label set are left out."""
    present = {name: p for name, p in branches.items() if p and set(p) == set(EMOTIONS)}
    if not present:
        return None
    weights = weights or {}
    total = sum(weights.get(name, 1.0) for name in present)
    return {e: round(sum(weights.get(name, 1.0) * p[e] for name, p in present.items()) / total, 4)
            for e in EMOTIONS}
