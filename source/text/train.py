"""Training and evaluating the text-emotion model (``run.py train/evaluate --model text``).

Recipe: hashed TF-IDF blocks (``emotion.BLOCKS``) and a multinomial logistic regression. A row with
several labels counts once per label at weight 1/labels. The temperature is fitted on a seeded
share of the training rows held out from the fit (``calibration_share``), so the development
split is only used to choose settings and to report, never to fit.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datasets.text import TextSample, read_goemotions, read_text_dataset
from ..errors import DatasetError
from ..labels import EMOTIONS
from ..training.flow import Fitted, Training, run_training
from ..training.metrics import evaluation_report, fit_temperature
from ..training.reports import model_card, training_machine
from .emotion import BLOCKS, KIND, TextEmotionModel, tfidf

TITLE = "Text-emotion model (hashed TF-IDF + logistic regression)"


@dataclass(frozen=True)
class TextRecipe:
    c: float = 2.0  # inverse L2 strength, chosen on the GoEmotions dev split among 2, 5 and 10
    calibration_share: float = 0.05
    max_iter: int = 2000
    seed: int = 0


def single_label(samples: list[TextSample]) -> tuple[list[str], np.ndarray]:
    """The texts with exactly one label and their ``EMOTIONS`` indices (how accuracy is scored)."""
    kept = [s for s in samples if len(s.emotions) == 1]
    return [s.text for s in kept], np.array([EMOTIONS.index(s.emotions[0]) for s in kept], dtype=np.int64)


def _idf(texts: list[str]) -> list[np.ndarray]:
    """Smoothed inverse document frequency per block, as scikit-learn's ``TfidfTransformer``."""
    weights = []
    for block in BLOCKS:
        counts = block.vectorizer().transform(texts)
        df = np.bincount(counts.indices, minlength=block.n_features)
        weights.append((np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32))
    return weights


class TextTraining(Training):
    """The logistic regression on hashed TF-IDF, fitted on GoEmotions' train rows less a seeded
    share held out for the temperature, reported on the dev rows with one label."""

    kind, title, unit, parts = KIND, TITLE, "sentences", ("validation",)

    def __init__(self, train: list[TextSample], dev: list[TextSample], recipe: TextRecipe):
        self.recipe, self.dev = recipe, dev
        self.started = time.monotonic()
        order = np.random.default_rng(recipe.seed).permutation(len(train))
        cut = round(recipe.calibration_share * len(train))
        self.held, self.fitted = [train[i] for i in order[:cut]], [train[i] for i in order[cut:]]
        self.held_texts, self.held_targets = single_label(self.held)
        self.summary = (f"train.tsv: {len(train)} rows ({len(self.fitted)} fitted, {len(self.held)} held out for "
                        f"the temperature); dev.tsv: {len(dev)} rows, {len(single_label(dev)[0])} with one label")
        self.facts = {"calibration_rows": len(self.held_texts),
                      "calibration_data": f"{len(self.held_texts)} single-label training rows held out from the fit"}

    def fit(self, run_dir, fresh, on_epoch, log) -> Fitted:
        from sklearn.linear_model import LogisticRegression

        fitted = self.fitted
        texts = [s.text for s in fitted for _ in s.emotions]
        targets = [EMOTIONS.index(e) for s in fitted for e in s.emotions]
        weights = [1 / len(s.emotions) for s in fitted for _ in s.emotions]
        idf = _idf([s.text for s in fitted])
        log(f"fitting on {len(fitted)} rows ({len(texts)} row-labels), {sum(b.n_features for b in BLOCKS)} "
            "hashed features")
        classifier = LogisticRegression(C=self.recipe.c, max_iter=self.recipe.max_iter)
        classifier.fit(tfidf(BLOCKS, idf, texts), targets, sample_weight=weights)
        if list(classifier.classes_) != list(range(len(EMOTIONS))):
            raise DatasetError("The training rows do not cover all seven emotions.")
        minutes = round((time.monotonic() - self.started) / 60, 1)
        return Fitted(TextEmotionModel(BLOCKS, idf, classifier.coef_, classifier.intercept_), {
            "training_minutes": minutes,
            "training_note": (f"Training: one fit of the logistic regression ({self.recipe.max_iter} iterations at "
                              f"most), {minutes} min on {training_machine()}.")})

    def scores(self, network: TextEmotionModel, part: str) -> tuple[np.ndarray, np.ndarray]:
        texts, targets = single_label(self.dev)
        return network.logits(texts), targets

    def calibrate(self, network: TextEmotionModel, scores: dict) -> float:
        """On the training rows held out from the fit: the dev rows only choose and report."""
        return fit_temperature(network.logits(self.held_texts), self.held_targets)

    def model(self, network: TextEmotionModel, temperature: float) -> TextEmotionModel:
        network.temperature = temperature
        return network

    def caption(self, part: str) -> str:
        return "GoEmotions dev"

    def card(self, out: Path, metrics: dict, command: str) -> str:
        split = ["GoEmotions' own train/dev split (Reddit comments, Ekman labels); accuracy, macro-F1 and ECE "
                 "are on the dev rows with exactly one label. The regularisation strength was chosen on dev, "
                 "so dev is a validation figure, not a held-out test; GoEmotions' test split is not here."]
        about = ["Hashed TF-IDF (word 1-2-grams and character 2-5-grams, 2^18 features each) and a "
                 "multinomial logistic regression; probabilities calibrated by a temperature. "
                 "`evidence` = 1 - P(neutral): how much emotion the words carry."]
        return model_card(TITLE, about, self.summary, split, metrics,
                          {"validation": "GoEmotions dev, single-label rows"}, "sentences", command,
                          recipe="Recipe: `recipe.json` in this folder.")


def train_text(data: Path, recipe: TextRecipe, out: Path, command: str, log=print) -> dict:
    """Fit on ``data``/train.tsv, calibrate on a held-out share of it, report on ``data``/dev.tsv;
    write the model, ``metrics.json``, the confusion plot and the model card beside ``out``."""
    training = TextTraining(read_goemotions(Path(data) / "train.tsv"), read_goemotions(Path(data) / "dev.tsv"),
                            recipe)
    return run_training(training, out, command, log=log)


def evaluate_text(data: Path, weights: Path | None = None) -> dict:
    """The evaluate JSON on a GoEmotions TSV file or ``<emotion>/*.txt`` folders: accuracy,
    macro-F1, ECE, per-class scores and confusion on the single-label rows."""
    model = TextEmotionModel.load(weights)
    texts, targets = single_label(read_text_dataset(data))
    if not texts:
        raise DatasetError(f"{data} has no rows with exactly one label to score.")
    probabilities = model.predict(texts)
    report = evaluation_report(KIND, model.sha256, EMOTIONS, targets, probabilities)
    report["evidence_mean"] = float(np.mean(1 - probabilities[:, EMOTIONS.index("neutral")]))
    return report
