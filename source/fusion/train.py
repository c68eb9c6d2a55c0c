"""The combined model's recipe, training (its ``Training`` in the one flow), comparison with each
branch and late fusion, and evaluation: the fusion network over the voice and face models, frozen
encoders (their cached encodings, ``encodings``) or fine-tuned with it (``tuned``), on the paired
windows of ``windows``.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..errors import DatasetError
from ..face.model import FaceModel
from ..labels import EMOTIONS, get_label_set
from ..registry import get_model
from ..training.flow import EpochTraining, run_training
from ..training.metrics import calibrated, calibrated_report, evaluation_report, top_k_accuracy
from ..training.recipes import recipe_from_dict
from ..training.reports import model_card
from ..training.trainer import EpochReport, TrainOptions, predict_logits
from ..voice.model import KIND as MFCC_VOICE, VoiceModel
from ..voice.whisper_voice import WhisperVoiceModel
from .combined import CombinedNet, FusionOptions
from .data import FusionWindows
from .encodings import EncodedItems
from .late import emotion_distribution, late_fusion
from .model import KIND, CombinedModel
from .research.raw_items import RawItems
from .tuned import ENCODER_MODES, TunedCombinedNet, tuned_encoders
from .windows import PAIRING_NOTE, PARTS, FusionData, WindowsRecipe, fusion_data, run_fingerprint


@dataclass(frozen=True)
class CombinedRecipe(WindowsRecipe):
    fusion: FusionOptions = FusionOptions()  # voice_dim and face_dim are taken from the encoders
    # seed 0: the best validation macro-F1 of seeds 0-5 over the 96 px face model (their test
    # accuracy: 0.731-0.806)
    train: TrainOptions = TrainOptions(epochs=60, batch_size=64, learning_rate=1e-3, lr_patience=3,
                                       early_stopping=10, monitor="macro_f1", time_limit_min=30, seed=0)
    # "frozen": the fusion reads the voice and face models' cached embeddings; "finetune": the
    # encoders train with it from MFCCs and face crops, at train.backbone_lr_scale of the rate
    # (see fusion/tuned.py; about a minute per epoch here instead of a second)
    encoders: str = "frozen"

    def __post_init__(self):
        super().__post_init__()
        if self.encoders not in ENCODER_MODES:
            raise ValueError(f"encoders must be one of {', '.join(ENCODER_MODES)}, not {self.encoders!r}")
        if self.encoders == "finetune" and self.voice_model != MFCC_VOICE:
            raise ValueError(f"encoders=finetune trains the MFCC voice model with the fusion: set voice_model={MFCC_VOICE}")


def baselines(windows: FusionWindows, labels: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Per window: each branch alone and late fusion (mean of the branches present), as (n, labels)
    probabilities; a window a branch cannot see gets a uniform row for that branch."""
    branches = windows.branch_probabilities()
    uniform = np.full(len(labels), 1 / len(labels), dtype=np.float32)
    out = {}
    for name, probabilities in branches.items():
        out[name] = np.where(np.isnan(probabilities), uniform, probabilities)
    late, late_text = [], []
    for i, (v, f) in enumerate(windows.pairs):
        present = {n: dict(zip(labels, p[i])) for n, p in branches.items() if not np.isnan(p[i]).any()}
        text = None
        if v >= 0 and windows.text_present[v]:
            text = emotion_distribution(dict(zip(EMOTIONS, windows.text[v][2:])))
        for target, extra in ((late, {}), (late_text, {"text": text})):
            fused = late_fusion({**present, **extra}) if set(labels) == set(EMOTIONS) else None
            target.append([fused[label] for label in labels] if fused else uniform)
    out["late"] = np.array(late, dtype=np.float32)
    out["late_with_text"] = np.array(late_text, dtype=np.float32)
    return out


def _subsets(windows: FusionWindows) -> dict[str, np.ndarray]:
    voice_on = windows.pairs[:, 0] >= 0
    face_on = windows.pairs[:, 1] >= 0
    return {"all": np.ones(len(windows), bool), "voice_and_face": voice_on & face_on,
            "face_only": face_on & ~voice_on}


def compare(logits: np.ndarray, targets: np.ndarray, windows: FusionWindows, labels: tuple[str, ...],
            temperature: float) -> dict:
    """Accuracy, macro-F1 and ECE of the fused model (its ``logits`` on ``windows``), each branch
    alone and late fusion, on each subset of the windows (all, voice and face, face only)."""
    candidates = {"fused": calibrated(logits, temperature), **baselines(windows, labels)}
    out = {}
    for subset, rows in _subsets(windows).items():
        if rows.any():
            out[subset] = {name: {k: report[k] for k in ("n", "accuracy", "macro_f1", "ece")}
                           for name, probabilities in candidates.items()
                           for report in [evaluation_report(name, "", labels, targets[rows], probabilities[rows])]}
    return out


def build_network(recipe: CombinedRecipe, voice: "VoiceModel | WhisperVoiceModel", face: FaceModel) -> CombinedNet:
    options = replace(recipe.fusion, voice_dim=voice.network.embedding_size,
                      face_dim=face.network.embedding_size)
    return CombinedNet(len(get_label_set(recipe.label_set).labels), options)


def prepare_combined(data: Path, recipe: CombinedRecipe,
                     on_features: Callable[[str, int, int], None] | None = None,
                     workers: int | None = None, log: Callable[[str], None] = print,
                     voice: "VoiceModel | WhisperVoiceModel | None" = None, face: FaceModel | None = None) -> FusionData:
    """Scan ``data``, split it and compute (or reuse) every part's encodings, as training reads
    them; ``voice`` (of the recipe's ``voice_model``) and ``face`` default to the shipped models."""
    voice, face = voice or get_model(recipe.voice_model).load(), face or FaceModel.load()
    for name, model in (("voice", voice), ("face", face)):
        if model.labels != get_label_set(recipe.label_set).labels:
            raise DatasetError(f"The {name} model predicts {', '.join(model.labels)}; the combined model's "
                               f"label set {recipe.label_set} needs the same labels in the same order.")
    if recipe.encoders == "finetune":
        items = RawItems(face.transform, voice.transform)
    else:
        items = EncodedItems(voice, face)
    data_parts = fusion_data(Path(data), recipe, items, on_features, workers)
    for line in data_parts.summary:
        log(line)
    log("windows per part: " + ", ".join(f"{p} {len(w)}" for p, w in data_parts.parts.items()))
    return data_parts


class WindowsTraining(EpochTraining):
    """A fusion network trained by the epoch trainer on the paired windows of ``data_parts``,
    each part reported with its top-5 accuracy. A fusion family sets ``kind``, ``title``,
    ``fingerprint`` and the rest of an :class:`EpochTraining`."""

    unit = "windows"

    def __init__(self, data_parts: FusionData, options: TrainOptions, labels: tuple[str, ...]):
        self.data_parts, self.options, self.labels = data_parts, options, labels
        self.n_classes = len(labels)
        self.datasets = data_parts.parts
        self.facts = {"split": data_parts.split, "windows": {p: len(w) for p, w in data_parts.parts.items()}}

    def report(self, model, part, logits, targets) -> dict:
        return windows_report(self.kind, "", self.labels, logits, targets, model.temperature)


def windows_report(kind: str, sha256: str, labels: tuple[str, ...], logits: np.ndarray, targets: np.ndarray,
                   temperature: float) -> dict:
    """The evaluate report of a fusion model on windows, with its top-5 accuracy."""
    report = calibrated_report(kind, sha256, labels, logits, targets, temperature)
    report["top5_accuracy"] = top_k_accuracy(logits, targets, 5)
    return report


class CombinedTraining(WindowsTraining):
    """The fusion network over the voice and face models (frozen, or fine-tuned with it: then
    each tuned encoder's classifier is refitted and it is saved beside the combined file)."""

    kind, title = KIND, "combined model"

    def __init__(self, data: Path, data_parts: FusionData, recipe: CombinedRecipe,
                 voice: "VoiceModel | WhisperVoiceModel", face: FaceModel, log: Callable[[str], None]):
        self.label_set = get_label_set(recipe.label_set)
        super().__init__(data_parts, recipe.train, self.label_set.labels)
        self.data, self.recipe, self.voice, self.face, self.log = data, recipe, voice, face, log
        self.tuning = recipe.encoders == "finetune"
        self.fingerprint = run_fingerprint(recipe, [voice.sha256, face.sha256], data_parts)

    def network(self) -> torch.nn.Module:
        torch.manual_seed(self.recipe.train.seed)  # the same initial weights every run
        network = build_network(self.recipe, self.voice, self.face)
        return TunedCombinedNet(network, self.voice, self.face) if self.tuning else network

    def model(self, network, temperature: float) -> CombinedModel:
        if self.tuning:
            parts = self.data_parts.parts
            self.voice, self.face = tuned_encoders(network, self.voice, self.face, parts["train"], parts["validation"],
                                                   self.recipe.train.seed)
            self.log(f"tuned encoders: classifiers refitted, temperatures voice {self.voice.temperature:.2f}, "
                     f"face {self.face.temperature:.2f}")
            network = network.fusion
        return CombinedModel(network, self.voice, self.face, self.label_set, temperature, tuned_encoders=self.tuning)

    def findings(self, model, scores, metrics) -> dict:
        if self.tuning:  # the branch baselines come from the frozen encoders' cached probabilities
            return {}
        return {"comparison": {part: compare(*scores[part], self.data_parts.parts[part], self.labels,
                                             metrics["temperature"]) for part in scores}}

    def card(self, out: Path, metrics: dict, command: str) -> str:
        recipe, data_parts = self.recipe, self.data_parts
        return model_card(
            "Combined model: voice and face embeddings and the words, fused per 4-second window",
            [f"File `{out.name}`, labels: {', '.join(self.labels)} ({recipe.label_set}).",
             f"Encoders ({'fine-tuned with it, saved beside it' if self.tuning else 'frozen'}, loaded with it and "
             f"checked by sha256): voice {self.voice.sha256[:12]}…, face {self.face.sha256[:12]}….",
             "", ("How the windows are made: " + PAIRING_NOTE
                  if any((self.data / s).is_dir() for s in recipe.speech) else ""),
             "", comparison_table(metrics["comparison"]) if not self.tuning else TUNED_NOTE],
            "\n".join(data_parts.summary),
            [data_parts.people_line()],
            metrics, {"validation": "the validation windows", "test": "the test windows"}, "windows",
            command or "python run.py train --model combined --data DIR")


def train_combined(data: Path, recipe: CombinedRecipe, out: Path, run_dir: Path | None = None,
                   fresh: bool = False, command: str = "",
                   on_features: Callable[[str, int, int], None] | None = None,
                   on_epoch: Callable[[EpochReport], None] | None = None,
                   log: Callable[[str], None] = print) -> dict:
    """Train the fusion network over the shipped voice and face models (frozen, or fine-tuned
    with it); write ``out`` (and the tuned encoders beside it) and its card."""
    voice, face = get_model(recipe.voice_model).load(), FaceModel.load()
    data_parts = prepare_combined(data, recipe, on_features, log=log, voice=voice, face=face)
    return run_training(CombinedTraining(data, data_parts, recipe, voice, face, log), out, command, run_dir, fresh,
                        on_epoch, log)


TUNED_NOTE = ("The encoders were fine-tuned with the fusion (`encoders=finetune`), so the frozen branches' "
              "cached probabilities are not theirs: training makes no branch comparison (`python run.py "
              "evaluate --model combined --weights FILE` makes one with the tuned branches). Each tuned encoder's "
              "classifier was refitted on its tuned embeddings of the training windows (temperature on "
              "the validation windows); `analyze --fusion combined --fusion-weights FILE` uses them for "
              "the branch columns too.")


def comparison_table(comparison: dict) -> str:
    """Markdown: accuracy / macro-F1 of fused, each branch and late fusion, per part and subset."""
    lines = ["| part | windows | n | fused | voice | face | late (voice+face) | late (+text) |",
             "|---|---|---|---|---|---|---|---|"]
    for part, subsets in comparison.items():
        for subset, scores in subsets.items():
            cells = [f"{scores[name]['accuracy']:.3f} / {scores[name]['macro_f1']:.3f}"
                     for name in ("fused", "voice", "face", "late", "late_with_text")]
            lines.append(f"| {part} | {subset} | {scores['fused']['n']} | " + " | ".join(cells) + " |")
    return "Accuracy / macro-F1 (branches alone on windows they cannot see count as uniform):\n\n" + "\n".join(lines)


def evaluate_combined(data: Path, weights: Path | None = None, part: str = "test",
                      log: Callable[[str], None] = print,
                      on_features: Callable[[str, int, int], None] | None = None) -> dict:
    """The evaluate JSON of the combined model in ``weights`` (default: shipped) on one part of
    ``data``, split as in the recipe it was trained with, plus its comparison with each branch
    and late fusion on the same windows."""
    if part not in PARTS:
        raise DatasetError(f"The combined model's data has the parts {', '.join(PARTS)}, not {part!r}.")
    model = CombinedModel.load(weights)
    recipe = recipe_from_dict(CombinedRecipe, model.recipe)
    data_parts = fusion_data(Path(data), recipe, EncodedItems(model.voice, model.face), on_features)
    for line in data_parts.summary:
        log(line)
    if part not in data_parts.parts:
        raise DatasetError(f"No {part} windows in {data} with the split the model was trained with.")
    windows = data_parts.parts[part]
    logits, targets = predict_logits(model.network, windows)
    report = windows_report(KIND, model.sha256, model.labels, logits, targets, model.temperature)
    report["comparison"] = compare(logits, targets, windows, model.labels, model.temperature)
    log(comparison_table({part: report["comparison"]}))
    return report
