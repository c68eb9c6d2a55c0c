"""Text-emotion features: a fixed vector per window and for the whole transcript.

What the words say is scored by the trained text-emotion model (``emotion.py``): calibrated
probabilities of the seven emotions and the words' emotional evidence (1 - P(neutral)); these are
the ``text_<emotion>``, ``text_top``, ``text_confidence`` and ``text_evidence`` columns, and what
fusion uses. The lexicon below stays as an explanation (which words carried which emotion) and,
with TextBlob, as the combined model's input features.

``FEATURE_NAMES``: TextBlob's polarity (-1..1) and subjectivity (0..1), then one score per canonical
emotion (``source.labels.EMOTIONS``). The six emotion scores come from a lexicon matched on spaCy
lemmas: each emotion word adds its weight, times its intensifiers ("so", "very": x1.5; "slightly":
x0.5), with the sign flipped when the dependency parse shows it negated ("not happy", "never
afraid", "no joy"); the sums are divided by the number of content words (alphabetic, neither
stop words nor negations or intensifiers) and clipped to -1..1. ``neutral`` is what the emotion
words leave: 1 - the sum of the six scores' sizes, clipped to 0..1 (1 for text without emotion
words, and for no text at all).

The lexicon is Empath's (Fast, Chen and Bernstein, CHI 2016; ``pip install empath``, MIT license,
copyright 2016 Ethan Fast; its word lists ship inside the package as ``data/categories.tsv``).
Empath's categories are not the studio's emotions, so each emotion is the union of the categories
in ``EMPATH_CATEGORIES``; a word in several of them splits its weight by how many categories of
each emotion hold it, and words naming feeling in general ("emotion", "feel") are left out.

spaCy's English model is the studio asset ``spacy-en_core_web_sm``. Without it, a blank English
pipeline is used and ``TextAnalyzer.warning`` says so: words are then matched as written and a
negation or intensifier counts only when it comes just before the emotion word.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
import spacy
from empath import Empath
from textblob import TextBlob

from ..assets import asset_path, fetch_command
from ..errors import StudioError
from ..labels import EMOTIONS
from .emotion import TextEmotionModel

FEATURE_NAMES = ("polarity", "subjectivity", *(f"lexicon_{e}" for e in EMOTIONS))
LEXICON_LICENSE = "Empath lexicon, MIT license (c) 2016 Ethan Fast"
SPACY_ASSET = "spacy-en_core_web_sm"

# studio emotion -> the Empath categories it is made of (neutral has none: it is what is left)
EMPATH_CATEGORIES = {
    "angry": ("anger", "rage", "hate"),  # Empath's "hate" lists words of anger and of disgust
    "disgust": ("disgust", "hate"),
    "fear": ("fear", "nervousness"),
    "happy": ("joy", "cheerfulness"),
    "sad": ("sadness", "suffering"),
    "surprise": ("surprise",),
}
# words Empath lists under many emotions because they name feeling in general
GENERIC_WORDS = frozenset({"emotion", "feeling", "feel"})
NEGATORS = frozenset({"not", "n't", "no", "never", "without", "nothing", "nobody", "neither", "nor"})
INTENSIFIERS = {
    "so": 1.5, "very": 1.5, "really": 1.5, "truly": 1.5, "too": 1.5, "deeply": 1.5, "totally": 1.5,
    "extremely": 2.0, "incredibly": 2.0, "absolutely": 2.0, "quite": 1.25,
    "slightly": 0.5, "somewhat": 0.5, "bit": 0.5, "little": 0.5, "barely": 0.25,
}
# dependencies through which a negation reaches a word: "I am not [happy]" (acomp of the negated
# verb), "I don't want to be [sad]" (xcomp), "not angry or [sad]" (conj), "without [fear]" (pobj)
_SCOPE = frozenset({"acomp", "attr", "xcomp", "oprd", "conj", "pobj"})
_LEXICON_EMOTIONS = tuple(EMPATH_CATEGORIES)  # scored from the lexicon; neutral is derived


def load_lexicon() -> dict[str, dict[str, float]]:
    """word -> {emotion: weight}; a word's weights add up to 1."""
    categories = Empath().cats
    counts: dict[str, Counter] = {}
    for emotion, names in EMPATH_CATEGORIES.items():
        for name in names:
            for word in set(categories[name]) - GENERIC_WORDS:
                counts.setdefault(word, Counter())[emotion] += 1
    return {word: {e: n / sum(c.values()) for e, n in c.items()} for word, c in counts.items()}


@dataclass(frozen=True)
class Match:
    """One emotion word found in the text, and what it added to each emotion."""

    text: str  # the word with its intensifiers and negation, as written
    weights: dict  # emotion -> signed contribution


@dataclass(frozen=True)
class TextEmotion:
    polarity: float
    subjectivity: float
    emotions: dict  # every name in EMOTIONS -> lexicon score
    n_words: int  # content words the scores are divided by
    matches: tuple[Match, ...]
    # the text-emotion model's calibrated probabilities, top emotion, confidence and evidence
    # (1 - P(neutral)); None for text without words
    model: dict | None = None

    def vector(self) -> np.ndarray:
        """The FEATURE_NAMES values, float32."""
        return np.array([self.polarity, self.subjectivity, *(self.emotions[e] for e in EMOTIONS)],
                        dtype=np.float32)

    def to_dict(self) -> dict:
        return asdict(self)


class TextAnalyzer:
    """Loads spaCy, the lexicon and the text-emotion model once; ``analyze`` then scores any text."""

    labels = FEATURE_NAMES

    def __init__(self, emotion_model: TextEmotionModel | None = None):
        self.emotion_model = emotion_model or TextEmotionModel.load()
        self.lexicon = load_lexicon()
        self.warning = None
        try:
            self.nlp = spacy.load(asset_path(SPACY_ASSET), exclude=["ner"])
        except (StudioError, OSError) as error:
            self.nlp = spacy.blank("en")
            reason = str(error).splitlines()[0]
            self.warning = (
                f"spaCy's English model could not be loaded ({reason}); text emotions match words "
                f"as written, without lemmas or the dependency parse, and a negation or "
                f"intensifier counts only just before a word. Fetch the model with: "
                f"{fetch_command(SPACY_ASSET)}"
            )

    def analyze(self, text: str | Iterable[str]) -> TextEmotion:
        """Score ``text``: one string, or its parts (segments, paragraphs) to parse one by one."""
        parts = [text] if isinstance(text, str) else list(text)
        totals = dict.fromkeys(_LEXICON_EMOTIONS, 0.0)
        matches, n_words = [], 0
        for doc in self.nlp.pipe(part for part in parts if part.strip()):
            for token in doc:
                n_words += _is_content(token)
                weights = self.lexicon.get(_lemma(token)) or self.lexicon.get(token.lower_)
                if not weights:
                    continue
                modifiers, negated = self._context(token)
                factor = float(np.prod([INTENSIFIERS[_lemma(m)] for m in modifiers]))
                factor *= -1 if negated else 1
                found = {emotion: round(weight * factor, 4) for emotion, weight in weights.items()}
                for emotion, value in found.items():
                    totals[emotion] += value
                shown = sorted({token, *modifiers, *negated}, key=lambda t: t.i)
                matches.append(Match(" ".join(t.text for t in shown), found))
        scores = {e: float(np.clip(totals[e] / max(n_words, 1), -1, 1)) for e in _LEXICON_EMOTIONS}
        scores["neutral"] = float(np.clip(1 - sum(abs(v) for v in scores.values()), 0, 1))
        joined = " ".join(parts)
        sentiment = TextBlob(joined).sentiment
        return TextEmotion(
            polarity=round(float(sentiment.polarity), 4),
            subjectivity=round(float(sentiment.subjectivity), 4),
            emotions={e: round(scores[e], 4) for e in EMOTIONS},
            n_words=n_words, matches=tuple(matches), model=self.emotion_model.score(joined),
        )

    def _context(self, token) -> tuple[list, list]:
        """The intensifiers of ``token`` and the negations that reach it."""
        if not token.doc.has_annotation("DEP"):  # blank pipeline: look just before the word
            before = token.doc[max(0, token.i - 3):token.i]
            modifiers = [t for t in before[-1:] if _lemma(t) in INTENSIFIERS]
            return modifiers, [t for t in before if t.lower_ in NEGATORS]
        modifiers = [c for c in token.children if c.dep_ in ("advmod", "npadvmod")
                     and _lemma(c) in INTENSIFIERS]
        scope = [token]
        while scope[-1].dep_ in _SCOPE and scope[-1].head != scope[-1]:
            scope.append(scope[-1].head)
        negations = [c for head in scope for c in head.children
                     if c.dep_ == "neg" or c.lower_ in NEGATORS]
        negations += [head for head in scope[1:] if head.lower_ in NEGATORS]  # "without fear"
        return modifiers, negations

    def word_frequencies(self, text: str | Iterable[str]) -> list[dict]:
        """Content words by lemma: rows of word, count and the emotions the lexicon gives it."""
        parts = [text] if isinstance(text, str) else list(text)
        counts = Counter(_lemma(token) for doc in self.nlp.pipe(p for p in parts if p.strip())
                         for token in doc if _is_content(token))
        return [{"word": word, "count": count,
                 "emotions": " ".join(sorted(self.lexicon.get(word, {})))}
                for word, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _lemma(token) -> str:
    return (token.lemma_ or token.text).lower()


def _is_content(token) -> bool:
    """A word that carries meaning: alphabetic, not a stop word, negation or intensifier."""
    return (token.is_alpha and not token.is_stop and token.lower_ not in NEGATORS
            and _lemma(token) not in INTENSIFIERS)


TEXT_FEATURE_COLUMNS = [f"text_{name}" for name in FEATURE_NAMES]  # the combined model's input
TEXT_COLUMNS = ["transcript", *TEXT_FEATURE_COLUMNS, "text_top", "text_confidence", "text_evidence",
                *(f"text_{e}" for e in EMOTIONS)]


SENTENCE_END = (".", "?", "!", "…")


def sentence_rows(words: Iterable, analyzer: TextAnalyzer) -> list[dict]:
    """The transcript's words (``transcribe.Word``) cut into sentences at . ? ! … , each with its
    times, polarity, subjectivity, the text-emotion model's top emotion, its confidence and the
    words' emotional evidence."""
    sentences, current = [], []
    for word in words:
        current.append(word)
        if word.text.rstrip('"\')').endswith(SENTENCE_END):
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    rows = []
    for sentence in sentences:
        text = " ".join(word.text for word in sentence)
        scores = analyzer.analyze(text)
        model = scores.model or {"top_emotion": "neutral", "confidence": 1.0, "evidence": 0.0}
        rows.append({"start_s": round(sentence[0].start, 3), "end_s": round(sentence[-1].end, 3),
                     "text": text, "polarity": scores.polarity, "subjectivity": scores.subjectivity,
                     "emotion": model["top_emotion"], "confidence": model["confidence"],
                     "evidence": model["evidence"]})
    return rows


def text_columns(words: Iterable, analyzer: TextAnalyzer) -> dict:
    """The per-window columns: the window's words (``transcribe.Word``) and their feature vector."""
    text = " ".join(word.text for word in words)
    scores = analyzer.analyze(text)
    model = scores.model or {}
    return {"transcript": text,
            **{column: round(float(v), 4) for column, v in zip(TEXT_FEATURE_COLUMNS, scores.vector())},
            "text_top": model.get("top_emotion", ""), "text_confidence": model.get("confidence", ""),
            "text_evidence": model.get("evidence", 0.0),
            **{f"text_{e}": (model["probabilities"][e] if model else "") for e in EMOTIONS}}
