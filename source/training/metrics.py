"""Classification metrics, calibration (temperature scaling, ECE) and the evaluate JSON.

Every model's ``evaluate`` writes the same JSON: model, weights_sha256, n, accuracy, macro_f1,
labels, per_class {label: precision, recall, f1, support}, confusion (rows: true, columns:
predicted) and ece (expected calibration error of the reported probabilities).
"""

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax


def confusion_matrix(targets: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(targets), np.asarray(predicted)), 1)
    return matrix


def _per_class(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    true_positive = np.diag(matrix).astype(np.float64)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    precision = np.divide(true_positive, predicted, out=np.zeros_like(true_positive), where=predicted > 0)
    recall = np.divide(true_positive, support, out=np.zeros_like(true_positive), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(both), where=both > 0)
    return precision, recall, f1, support


def accuracy_and_macro_f1(targets: np.ndarray, predicted: np.ndarray, n_classes: int) -> tuple[float, float]:
    """Accuracy, and F1 averaged over the classes present in ``targets``."""
    matrix = confusion_matrix(targets, predicted, n_classes)
    _, _, f1, support = _per_class(matrix)
    accuracy = float(np.trace(matrix) / max(matrix.sum(), 1))
    present = support > 0
    return accuracy, float(f1[present].mean()) if present.any() else 0.0


def expected_calibration_error(probabilities: np.ndarray, targets: np.ndarray, bins: int = 15) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == targets
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(error)


def fit_temperature(logits: np.ndarray, targets: np.ndarray, groups: np.ndarray | None = None) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(logits / T); with
    ``groups`` (a label per row, e.g. the corpus), the mean of each group's own mean, so the
    largest group does not set the calibration of the others."""
    masks = [np.ones(len(targets), bool)] if groups is None else [groups == g for g in np.unique(groups)]

    def nll(log_t: float) -> float:
        scaled = log_softmax(logits / np.exp(log_t), axis=1)[np.arange(len(targets)), targets]
        return float(np.mean([-scaled[mask].mean() for mask in masks]))

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def calibrated(logits: np.ndarray, temperature: float) -> np.ndarray:
    return softmax(logits / temperature, axis=1)


def top_k_accuracy(scores: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Share of samples whose target is among the ``k`` highest scores (logits or probabilities)."""
    top = np.argsort(-scores, axis=1)[:, :k]
    return float((top == np.asarray(targets)[:, None]).any(axis=1).mean())


def evaluation_report(model: str, weights_sha256: str, labels, targets: np.ndarray,
                      probabilities: np.ndarray) -> dict:
    """The evaluate JSON for predictions ``probabilities`` (n, classes) against ``targets``."""
    labels = list(labels)
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(targets, predicted, len(labels))
    precision, recall, f1, support = _per_class(matrix)
    accuracy, macro_f1 = accuracy_and_macro_f1(targets, predicted, len(labels))
    return {
        "model": model,
        "weights_sha256": weights_sha256,
        "n": int(len(targets)),
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "labels": labels,
        "per_class": {label: {"precision": float(precision[i]), "recall": float(recall[i]),
                              "f1": float(f1[i]), "support": int(support[i])}
                      for i, label in enumerate(labels)},
        "confusion": matrix.tolist(),
        "ece": expected_calibration_error(probabilities, targets),
    }


def calibrated_report(model: str, weights_sha256: str, labels, logits: np.ndarray,
                      targets: np.ndarray, temperature: float) -> dict:
    """The evaluate report on temperature-scaled probabilities, plus the ECE before scaling."""
    report = evaluation_report(model, weights_sha256, labels, targets, calibrated(logits, temperature))
    report["ece_uncalibrated"] = expected_calibration_error(calibrated(logits, 1.0), targets)
    return report
