"""The text-emotion model: what the words of a sentence say, over the seven emotions, and how much.

A linear model over hashed TF-IDF features (word unigrams and bigrams, and character 2-5-grams
inside words, which keep "sooo happy" and misspellings close to their words), trained on
GoEmotions with Ekman labels (``train.py``), calibrated by a temperature. Hashing keeps the file
free of a vocabulary; the whole model is plain arrays in one ``.npz`` file (no pickle), whose
sha256 is checked for the shipped model.

``evidence`` is how much emotion the words carry: 1 - P(neutral). A sentence without emotional
content ("the meeting is at ten") has evidence near 0, and fusion then lets the face and voice
decide instead of reading that as "neutral".
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..labels import EMOTIONS, scored
from ..registry import get_model
from ..weights import WeightsError, load_arrays, save_arrays

KIND = "text_emotion"
FORMAT = "emotion-studio-text-emotion/1"
NEUTRAL = EMOTIONS.index("neutral")


@dataclass(frozen=True)
class HashedTfidf:
    """Settings of one hashed TF-IDF block (scikit-learn's ``HashingVectorizer`` arguments)."""

    analyzer: str  # "word" or "char_wb"
    ngram_range: tuple[int, int]
    n_features: int

    def vectorizer(self):
        from sklearn.feature_extraction.text import HashingVectorizer

        return HashingVectorizer(analyzer=self.analyzer, ngram_range=tuple(self.ngram_range),
                                 n_features=self.n_features, alternate_sign=False, norm=None,
                                 lowercase=True)


BLOCKS = (HashedTfidf("word", (1, 2), 2 ** 18), HashedTfidf("char_wb", (2, 5), 2 ** 18))


def tfidf(blocks: tuple[HashedTfidf, ...], idf: list[np.ndarray], texts: list[str]):
    """(texts, features) sparse: per block, sublinear term frequency times idf, l2-normalised."""
    from scipy.sparse import hstack
    from sklearn.preprocessing import normalize

    parts = []
    for block, weights in zip(blocks, idf):
        counts = block.vectorizer().transform(texts).astype(np.float32)
        counts.data = 1 + np.log(counts.data)
        parts.append(normalize(counts.multiply(weights).tocsr()))
    return hstack(parts).tocsr()


class TextEmotionModel:
    """Calibrated probabilities of the seven emotions for any text, and its emotional evidence."""

    labels = EMOTIONS

    def __init__(self, blocks: tuple[HashedTfidf, ...], idf: list[np.ndarray], coef: np.ndarray,
                 intercept: np.ndarray, temperature: float = 1.0, metrics: dict | None = None,
                 sha256: str = ""):
        self.blocks, self.idf = blocks, idf
        self.coef, self.intercept = coef.astype(np.float32), intercept.astype(np.float32)
        self.temperature = temperature
        self.metrics = metrics or {}
        self.sha256 = sha256

    def logits(self, texts: list[str]) -> np.ndarray:
        return np.asarray(tfidf(self.blocks, self.idf, texts) @ self.coef.T) + self.intercept

    def predict(self, texts: list[str]) -> np.ndarray:
        """(texts, 7) calibrated probabilities in ``EMOTIONS`` order."""
        logits = self.logits(list(texts)) / self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def score(self, text: str) -> dict | None:
        """``{"probabilities", "top_emotion", "confidence", "evidence"}``; None for text without words."""
        if not text or not text.strip():
            return None
        probabilities = self.predict([text])[0]
        return {**scored({e: round(float(p), 4) for e, p in zip(EMOTIONS, probabilities)}),
                "evidence": round(float(1 - probabilities[NEUTRAL]), 4)}

    def save(self, path: str | Path, **metadata) -> str:
        meta = {"format": FORMAT, "kind": KIND, "labels": list(EMOTIONS), "temperature": self.temperature,
                "blocks": [vars(b) | {"ngram_range": list(b.ngram_range)} for b in self.blocks],
                "metrics": self.metrics, **metadata}
        arrays = {f"idf_{i}": w.astype(np.float32) for i, w in enumerate(self.idf)}
        return save_arrays(path, meta, {"coef": self.coef.astype(np.float16), "intercept": self.intercept, **arrays})

    @classmethod
    def load(cls, path: str | Path | None = None, expected_sha256: str | None = None) -> "TextEmotionModel":
        """The model in ``path`` (refused unless its sha256 is ``expected_sha256``, when given), or the
        shipped one: the file the registry's ``text`` entry ships."""
        if path is None:
            shipped = get_model("text").shipped()
            path, expected_sha256 = shipped.path, shipped.sha256
        meta, arrays, sha256 = load_arrays(Path(path), expected_sha256, "text-emotion model")
        if meta.get("format") != FORMAT or meta.get("labels") != list(EMOTIONS):
            raise WeightsError(f"{path} is not an Emotion Studio text-emotion model.")
        blocks = tuple(HashedTfidf(b["analyzer"], tuple(b["ngram_range"]), b["n_features"]) for b in meta["blocks"])
        idf = [arrays[f"idf_{i}"] for i in range(len(blocks))]
        if arrays["coef"].shape != (len(EMOTIONS), sum(b.n_features for b in blocks)):
            raise WeightsError(f"{path}: the weights' shape does not match its feature settings.")
        return cls(blocks, idf, arrays["coef"], arrays["intercept"], float(meta["temperature"]),
                   meta.get("metrics"), sha256)
