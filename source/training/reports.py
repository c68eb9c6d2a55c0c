"""What a training writes besides its weights and metrics (``flow``): confusion-matrix plots and
the model card beside the weights, and in a training run's folder the history curves, confusion
matrix, classification report and the evaluate JSON."""

import os
import platform
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..fileio import write_json  # noqa: E402


def _save(figure, path: str | Path) -> Path:
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def plot_confusion(confusion, labels, path: str | Path, title: str) -> Path:
    """Row-normalised confusion matrix (recall per true class) with the counts in each cell."""
    matrix = np.asarray(confusion, dtype=float)
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure, axes = plt.subplots(figsize=(1.0 + 0.8 * len(labels), 0.8 + 0.7 * len(labels)))
    axes.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            axes.text(j, i, f"{int(matrix[i, j])}", ha="center", va="center",
                      color="white" if rates[i, j] > 0.5 else "black", fontsize=8)
    return _save(figure, path)


def markdown_table(report: dict) -> str:
    """Per-class precision/recall/F1/support of an evaluate report, as Markdown."""
    lines = ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label, row in report["per_class"].items():
        lines.append(f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | "
                     f"{row['f1']:.3f} | {row['support']} |")
    return "\n".join(lines)


def confusion_table(report: dict) -> str:
    labels = report["labels"]
    lines = ["| true \\ predicted | " + " | ".join(labels) + " |",
             "|---" * (len(labels) + 1) + "|"]
    for label, row in zip(labels, report["confusion"]):
        lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


RECIPE_BESIDE = "Recipe (hyperparameters and split): `recipe.json` in this folder."


def training_machine() -> str:
    """The machine this process runs on, as a model card states it. Cards are written by the process
    that trained the model, at its end, so this is the machine it was trained on (what else ran there
    at the time is not known, so not said)."""
    cores = os.cpu_count()
    return (f"{cores} CPU cores" if cores else "CPU") + f" ({platform.system()} {platform.machine()})"


def model_card(title: str, about: list[str], data_summary: str, split: list[str], metrics: dict,
               parts: dict[str, str], unit: str, command: str, recipe: str = RECIPE_BESIDE) -> str:
    """The model card written beside trained weights: data, split, training, calibration,
    metrics and confusion per evaluated part (``parts``: part name -> heading), the command and
    where its recipe is."""
    lines = [f"# {title}", "", f"Weights: sha256 `{metrics['weights_sha256']}`.", *about, "",
             "## Data and split", "```", data_summary, "```", *split, "",
             # a model fitted without epochs (a weight search) says how in ``training_note``
             metrics.get("training_note")
             or f"Training: best epoch {metrics['best_epoch']} of {metrics['epochs_run']} run "
                f"(stopped by {metrics['stopped']}), {metrics['training_minutes']} min of training "
                f"epochs on {training_machine()}, after feature extraction.",
             f"Calibration: temperature {metrics['temperature']:.3f}, fitted on "
             f"{metrics.get('calibration_data', 'the validation data')}."]
    for part, heading in parts.items():
        if part not in metrics:
            continue
        m = metrics[part]
        lines += [
            "", f"## Metrics on {heading} ({m['n']} {unit})", "",
            f"accuracy **{m['accuracy']:.3f}**, macro-F1 **{m['macro_f1']:.3f}**, "
            f"ECE {m['ece_uncalibrated']:.3f} before calibration, {m['ece']:.3f} after.", "",
            markdown_table(m), "", "Confusion matrix (rows: true, columns: predicted):", "",
            confusion_table(m), "", f"![confusion matrix](confusion_{part}.png)",
        ]
    lines += ["", "## Reproduce", "", "```", command, "```", "",
              recipe, ""]
    return "\n".join(lines)


def plot_history(history: list[dict], path: str | Path, title: str) -> Path:
    """Loss (train and validation) and validation accuracy and macro-F1 per epoch."""
    epochs = [h["epoch"] for h in history]
    figure, (losses, scores) = plt.subplots(1, 2, figsize=(10, 3.6))
    losses.plot(epochs, [h["train_loss"] for h in history], marker="o", label="train")
    losses.plot(epochs, [h["val_loss"] for h in history], marker="o", label="validation")
    losses.set_title("loss")
    scores.plot(epochs, [h["val_accuracy"] for h in history], marker="o", label="accuracy")
    scores.plot(epochs, [h["val_macro_f1"] for h in history], marker="o", label="macro-F1")
    scores.set_title("validation scores")
    scores.set_ylim(0, 1)
    best = [h["epoch"] for h in history if h["best"]]
    for axes in (losses, scores):
        axes.set_xlabel("epoch")
        axes.legend()
        if best:
            axes.axvline(best[-1], color="grey", linestyle=":")  # the epoch that was kept
    figure.suptitle(title)
    return _save(figure, path)


def classification_report(report: dict) -> dict:
    """scikit-learn's ``classification_report`` layout for an evaluate report."""
    rows = {label: dict(row) for label, row in report["per_class"].items()}
    present = [row for row in rows.values() if row["support"]]
    total = sum(row["support"] for row in present)
    macro = {key: float(np.mean([row[key] for row in present])) for key in ("precision", "recall", "f1")}
    weighted = {key: sum(row[key] * row["support"] for row in present) / max(total, 1)
                for key in ("precision", "recall", "f1")}
    return {**rows, "accuracy": report["accuracy"], "macro avg": {**macro, "support": total},
            "weighted avg": {**weighted, "support": total}}


def write_run_reports(run_dir: str | Path, metrics: dict, title: str, unit: str) -> None:
    """The run folder's reports: ``training_history.png``, ``confusion_matrix.png`` of the
    held-out part (test when there is one, else validation), and per part (validation, test)
    ``classification_report.json`` and ``evaluate_<part>.json`` (the evaluate JSON)."""
    run_dir = Path(run_dir)
    plot_history(metrics["history"], run_dir / "training_history.png", title)
    parts = [part for part in ("validation", "test") if part in metrics]
    held_out = parts[-1]
    report = metrics[held_out]
    plot_confusion(report["confusion"], report["labels"], run_dir / "confusion_matrix.png",
                   f"{title}, {held_out} {unit} (accuracy {report['accuracy']:.1%})")
    write_json(run_dir / "classification_report.json",
               {part: classification_report(metrics[part]) for part in parts})
    for part in parts:
        write_json(run_dir / f"evaluate_{part}.json", metrics[part])
