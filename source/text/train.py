"""Training and evaluating the text-emotion model (``run.py train/evaluate --model text``).

Recipe: hashed TF-IDF blocks (``emotion.BLOCKS``) and a multinomial logistic regression. A row with
several labels counts once per label at weight 1/labels. The temperature is fitted on a seeded
share of the training rows held out from the fit (``calibration_share``), so the development
split is only used to choose settings and to report, never to fit.
"""

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..datasets.text import TextSample, read_goemotions, read_text_dataset
from ..errors import DatasetError
from ..labels import EMOTIONS
from ..training.metrics import calibrated_report, evaluation_report, fit_temperature
from ..training.reports import model_card, plot_confusion, training_machine, write_json
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


def train_text(data: Path, recipe: TextRecipe, out: Path, command: str, log=print) -> dict:
    """Fit on ``data``/train.tsv, calibrate on a held-out share of it, report on ``data``/dev.tsv;
    write the model, ``metrics.json``, the confusion plot and the model card beside ``out``."""
    from sklearn.linear_model import LogisticRegression

    started = time.monotonic()
    train, dev = read_goemotions(Path(data) / "train.tsv"), read_goemotions(Path(data) / "dev.tsv")
    order = np.random.default_rng(recipe.seed).permutation(len(train))
    cut = round(recipe.calibration_share * len(train))
    held, fitted = [train[i] for i in order[:cut]], [train[i] for i in order[cut:]]
    texts = [s.text for s in fitted for _ in s.emotions]
    targets = [EMOTIONS.index(e) for s in fitted for e in s.emotions]
    weights = [1 / len(s.emotions) for s in fitted for _ in s.emotions]
    idf = _idf([s.text for s in fitted])
    log(f"fitting on {len(fitted)} rows ({len(texts)} row-labels), {sum(b.n_features for b in BLOCKS)} hashed features")
    classifier = LogisticRegression(C=recipe.c, max_iter=recipe.max_iter)
    classifier.fit(tfidf(BLOCKS, idf, texts), targets, sample_weight=weights)
    if list(classifier.classes_) != list(range(len(EMOTIONS))):
        raise DatasetError("The training rows do not cover all seven emotions.")
    model = TextEmotionModel(BLOCKS, idf, classifier.coef_, classifier.intercept_)
    held_texts, held_targets = single_label(held)
    model.temperature = fit_temperature(model.logits(held_texts), held_targets)
    dev_texts, dev_targets = single_label(dev)
    report = calibrated_report(KIND, "", EMOTIONS, model.logits(dev_texts), dev_targets, model.temperature)
    metrics = {"temperature": model.temperature, "calibration_rows": len(held_texts),
               "calibration_data": f"{len(held_texts)} single-label training rows held out from the fit",
               "training_minutes": round((time.monotonic() - started) / 60, 1),
               "training_note": (f"Training: one fit of the logistic regression ({recipe.max_iter} "
                                 f"iterations at most), {round((time.monotonic() - started) / 60, 1)} min "
                                 f"on {training_machine()}."),
               "validation": report}
    model.metrics = metrics
    sha256 = model.save(out, recipe=asdict(recipe), command=command)
    metrics["weights_sha256"] = report["weights_sha256"] = sha256
    out.parent.mkdir(parents=True, exist_ok=True)
    plot_confusion(report["confusion"], report["labels"], out.parent / "confusion_validation.png",
                   f"{TITLE}, GoEmotions dev (accuracy {report['accuracy']:.1%})")
    write_json(out.parent / "metrics.json", metrics)
    write_json(out.parent / "recipe.json", asdict(recipe))
    summary = (f"train.tsv: {len(train)} rows ({len(fitted)} fitted, {len(held)} held out for the "
               f"temperature); dev.tsv: {len(dev)} rows, {len(dev_texts)} with one label")
    split = ["GoEmotions' own train/dev split (Reddit comments, Ekman labels); accuracy, macro-F1 and ECE "
             "are on the dev rows with exactly one label. The regularisation strength was chosen on dev, "
             "so dev is a validation figure, not a held-out test; GoEmotions' test split is not here."]
    about = ["Hashed TF-IDF (word 1-2-grams and character 2-5-grams, 2^18 features each) and a "
             "multinomial logistic regression; probabilities calibrated by a temperature. "
             "`evidence` = 1 - P(neutral): how much emotion the words carry."]
    (out.parent / "MODEL_CARD.md").write_text(model_card(
        TITLE, about, summary, split, metrics, {"validation": "GoEmotions dev, single-label rows"},
        "sentences", command, recipe="Recipe: `recipe.json` in this folder."), encoding="utf-8")
    return metrics


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
