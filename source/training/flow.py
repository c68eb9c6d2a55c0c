"""One training flow for every model family: fit -> calibrate -> save -> reports -> card.

A family describes one training run as a :class:`Training`: what its data says (split, sizes),
how it fits, each part's scores, the model file a fitted network and a temperature make, and its
card's text. :func:`run_training` runs what every family shares:

1. the fit: the epoch trainer's (:class:`EpochTraining`: a fresh start or a resumed run in its
   run folder), a fit of the family's own (the text model's regression, the Whisper voice head,
   late fusion's weight search), or none (an ensemble of trained members);
2. a temperature fitted on the validation scores (or on what the family calibrates with);
3. the calibrated evaluate report of each part (validation, and test when there is one);
4. the weights, saved atomically with their sha256 (and the metrics, recipe and command), and
   beside them ``metrics.json`` (each report stamped with that sha256), ``recipe.json`` and
   ``confusion_<part>.png``;
5. the run folder's reports, for a run of the epoch trainer (``reports.write_run_reports``);
6. the model card, ``MODEL_CARD.md``.

The metrics hold, in this order: the data's facts, the fit's, the temperature, the reports per
part, the family's findings on the trained model (a comparison, a baseline), the weights' sha256.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn
from torch.utils.data import Dataset

from ..fileio import write_json
from ..paths import DATA_DIR
from .metrics import calibrated_report, fit_temperature
from .recipes import recipe_to_dict
from .reports import plot_confusion, write_run_reports
from .trainer import EpochReport, TrainOptions, fit, predict_logits

PARTS = ("validation", "test")  # the parts a training reports, in this order


@dataclass
class PreparedData:
    """A dataset scanned, split and turned into cached features (crops, MFCCs), as an epoch
    training reads it: ``split`` is the family's account of who or what is in each part."""

    summary: str
    split: object
    train: Dataset
    validation: Dataset
    test: Dataset | None


@dataclass
class Fitted:
    """What a fit leaves: the trained network (the text model: its fitted regression), what the
    metrics say of the fit, and the run folder of an epoch-trained run (its reports go there)."""

    network: object
    facts: dict
    run_dir: Path | None = None


class Training(ABC):
    """One training run of a family, as :func:`run_training` runs it. Besides the methods, a family sets:

    ``kind`` (the evaluate reports' model, the run folder's prefix), ``title`` (the plots'
    caption, e.g. "face model"), ``unit`` (what is counted: "images", "clips", "windows"),
    ``facts`` (what the metrics say of the data first: split, sizes), ``parts`` (the reported
    parts it has: validation, and test when there is one) and ``recipe`` (saved with the weights
    and as ``recipe.json``; None: an ensemble, whose members keep their own)."""

    kind: str
    title: str
    unit: str
    facts: dict
    parts: tuple[str, ...]
    recipe = None
    # each part's metrics are one evaluate report (stamped with the weights' sha256, plotted as a
    # confusion matrix); False: the family's reports are its own shape (per corpus)
    evaluate_reports: bool = True

    @abstractmethod
    def fit(self, run_dir: Path | None, fresh: bool, on_epoch: Callable[[EpochReport], None] | None,
            log: Callable[[str], None]) -> Fitted:
        """Train (or resume, or join) the network; ``run_dir`` and ``fresh`` as ``--run-dir`` and
        ``--fresh`` say, for a fit that keeps a run folder."""

    @abstractmethod
    def scores(self, network, part: str) -> tuple[np.ndarray, np.ndarray]:
        """(logits, targets) of the fitted ``network`` on ``part``."""

    def calibrate(self, network, scores: dict[str, tuple[np.ndarray, np.ndarray]]) -> float:
        """The temperature: fitted on the validation scores."""
        return fit_temperature(*scores["validation"])

    @abstractmethod
    def model(self, network, temperature: float):
        """The model file's object (``save(path, **metadata) -> sha256``) of ``network``."""

    def report(self, model, part: str, logits: np.ndarray, targets: np.ndarray) -> dict:
        """The metrics of ``part``: the evaluate report of its calibrated probabilities."""
        return calibrated_report(self.kind, "", model.labels, logits, targets, model.temperature)

    def findings(self, model, scores: dict[str, tuple[np.ndarray, np.ndarray]], metrics: dict) -> dict:
        """What else the metrics say of the trained model (after the reports); none by default."""
        return {}

    @abstractmethod
    def card(self, out: Path, metrics: dict, command: str) -> str:
        """The model card's Markdown."""

    def caption(self, part: str) -> str:
        """What a confusion plot of ``part`` is of, after the title."""
        return f"{part} {self.unit}"


class EpochTraining(Training):
    """A network trained by the epoch trainer (``trainer.fit``) on ``datasets`` ("train",
    "validation" and maybe "test"), its run folder ``data/runs/<kind>-<fingerprint>`` unless one
    is given: the best validation epoch is kept, an unfinished run resumes. A family sets
    ``datasets``, ``options`` (the recipe's ``TrainOptions``), ``fingerprint`` (what the run trains),
    ``n_classes`` and ``network()``; ``batch_transform`` augments training batches."""

    datasets: dict[str, Dataset]
    options: TrainOptions
    fingerprint: str
    n_classes: int
    batch_transform = None

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(part for part in PARTS if self.datasets.get(part) is not None)

    @abstractmethod
    def network(self) -> nn.Module:
        """The network to train, freshly built (a resumed run loads its checkpoint into it)."""

    def fit(self, run_dir, fresh, on_epoch, log) -> Fitted:
        network = self.network()
        run_dir = run_dir or DATA_DIR / "runs" / f"{self.kind}-{self.fingerprint}"
        if fresh:
            for name in ("last.pt", "best.pt"):
                (run_dir / name).unlink(missing_ok=True)
        result = fit(network, self.datasets["train"], self.datasets["validation"], self.options, run_dir,
                     self.fingerprint, self.n_classes, batch_transform=self.batch_transform, progress=on_epoch)
        log(f"best epoch {result.best_epoch} ({self.options.monitor} {result.best_score:.3f}); "
            f"stopped by {result.stopped}")
        return Fitted(network, {
            "best_epoch": result.best_epoch, "epochs_run": len(result.history), "stopped": result.stopped,
            # summed over every invocation of a resumed run; feature extraction not included
            "training_minutes": round(sum(h["seconds"] for h in result.history) / 60, 1),
            "history": result.history, "run_dir": str(run_dir)}, run_dir)

    def scores(self, network, part):
        return predict_logits(network, self.datasets[part])


def run_training(training: Training, out: Path, command: str = "", run_dir: Path | None = None, fresh: bool = False,
          on_epoch: Callable[[EpochReport], None] | None = None, log: Callable[[str], None] = print) -> dict:
    """Fit, calibrate, report and write ``out`` with its metrics, recipe, confusion plots and
    card (and the run reports of an epoch-trained run); returns the metrics."""
    fitted = training.fit(run_dir, fresh, on_epoch, log)
    scores = {part: training.scores(fitted.network, part) for part in training.parts}
    temperature = training.calibrate(fitted.network, scores)
    model = training.model(fitted.network, temperature)
    metrics = {**training.facts, **fitted.facts, "temperature": temperature}
    for part, (logits, targets) in scores.items():
        metrics[part] = training.report(model, part, logits, targets)
    metrics.update(training.findings(model, scores, metrics))
    write_model_files(training, model, out, metrics, command)
    if fitted.run_dir is not None:
        write_run_reports(fitted.run_dir, metrics, training.title, training.unit)
    (out.parent / "MODEL_CARD.md").write_text(training.card(out, metrics, command), encoding="utf-8")
    return metrics


def write_model_files(training: Training, model, out: Path, metrics: dict, command: str) -> str:
    """Save ``model`` (with its metrics: ``metrics`` without the history, its recipe and the
    command that trained it) to ``out``, and write beside it ``metrics.json`` (each evaluate report
    stamped with the weights' sha256), ``recipe.json`` (with a recipe) and ``confusion_<part>.png``;
    returns the sha256."""
    model.metrics = {k: v for k, v in metrics.items() if k != "history"}
    out.parent.mkdir(parents=True, exist_ok=True)
    recipe = None if training.recipe is None else recipe_to_dict(training.recipe)
    sha256 = model.save(out, command=command, **({} if recipe is None else {"recipe": recipe}))
    metrics["weights_sha256"] = sha256
    for part in training.parts if training.evaluate_reports else ():
        report = metrics[part]
        report["weights_sha256"] = sha256
        plot_confusion(report["confusion"], report["labels"], out.parent / f"confusion_{part}.png",
                       f"{training.title}, {training.caption(part)} (accuracy {report['accuracy']:.1%})")
    write_json(out.parent / "metrics.json", metrics)
    if recipe is not None:
        write_json(out.parent / "recipe.json", recipe)
    return sha256
