"""A research fusion family: its network, its recipe, what it reads (the frozen models'
embeddings, or pixels and MFCCs), and the model file that holds a trained one.

Every family trains and is tested on the combined model's paired windows (``fusion_data``: the
same split, the same test windows), through the one trainer, and writes the same evaluate JSON,
model card and run reports. A family that ships untrained refuses to predict and names the
command that trains it.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ...emotion_model import TrainedModel
from ...errors import DatasetError
from ...face.model import FaceModel
from ...face.transform import FaceTransform
from ...labels import LabelSet, get_label_set
from ...registry import get_model
from ...training.flow import run_training
from ...training.recipes import recipe_from_dict
from ...training.reports import model_card
from ...training.trainer import EpochReport, predict_logits
from ...voice.features import MfccTransform
from ...voice.model import KIND as MFCC_VOICE, VoiceModel
from ...weights import load_weights, save_weights
from ..encodings import EncodedItems
from ..model import frozen_encoders
from ..train import WindowsTraining, windows_report
from ..windows import PAIRING_NOTE, PARTS, FusionData, fusion_data, run_fingerprint
from .families import Family
from .raw_inputs import RawShapes
from .raw_items import RawItems

if TYPE_CHECKING:
    from ...voice.whisper_voice import WhisperVoiceModel


@dataclass
class Inputs:
    """What a family's model reads, saved with it: the encoders' sha256 ("encoded") or the
    transforms that cut the crops and MFCCs ("raw")."""

    voice: "VoiceModel | WhisperVoiceModel | None" = None
    face: FaceModel | None = None
    face_transform: FaceTransform | None = None
    voice_transform: MfccTransform | None = None

    def items(self):
        if self.voice is not None:
            return EncodedItems(self.voice, self.face)
        return RawItems(self.face_transform, self.voice_transform)

    def identity(self) -> list:
        if self.voice is not None:
            return [self.voice.sha256, self.face.sha256]
        return [self.face_transform.to_dict(), self.voice_transform.to_dict()]

    def saved(self) -> dict:
        if self.voice is not None:
            return {"encoders": {"voice": self.voice.sha256, "face": self.face.sha256},
                    "voice_model": self.voice.KIND}
        return {"transforms": {"face": self.face_transform.to_dict(), "voice": self.voice_transform.to_dict()}}

    @classmethod
    def of(cls, family: Family, recipe, voice: "VoiceModel | WhisperVoiceModel", face: FaceModel) -> "Inputs":
        if family.inputs == "encoded":
            return cls(voice=voice, face=face)
        return cls(face_transform=face.transform, voice_transform=recipe.voice_transform or voice.transform)


class FamilyModel(TrainedModel):
    def __init__(self, family: Family, network: torch.nn.Module, inputs: Inputs, label_set: LabelSet,
                 temperature: float = 1.0, metrics: dict | None = None, sha256: str = "",
                 recipe: dict | None = None):
        super().__init__(network, label_set, temperature, metrics, sha256)
        self.family, self.inputs, self.recipe = family, inputs, recipe or {}

    def save(self, path: str | Path, **metadata) -> str:
        return save_weights(path, self.network, kind=self.family.name, label_set=self.label_set.name,
                            temperature=self.temperature, metrics=self.metrics, **self.inputs.saved(), **metadata)

    @classmethod
    def load(cls, family: Family, path: str | Path | None = None, voice: "VoiceModel | WhisperVoiceModel | None" = None,
             face: FaceModel | None = None, expected_sha256: str | None = None) -> "FamilyModel":
        """The model in ``path`` (refused unless its sha256 is ``expected_sha256``, when given), or the
        shipped one; a family that ships untrained raises ``UntrainedModel`` naming its train command."""
        if path is None:
            shipped = get_model(family.name).shipped()
            path, expected_sha256 = shipped.path, shipped.sha256
        saved = load_weights(path, family.name, expected_sha256)
        if "encoders" in saved:
            inputs = Inputs(*frozen_encoders(saved, Path(path), voice, face))
        else:
            inputs = Inputs(face_transform=FaceTransform.from_dict(saved["transforms"]["face"]),
                            voice_transform=MfccTransform.from_dict(saved["transforms"]["voice"]))
        network = family.network.from_config(saved["network"])
        network.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in saved["state_dict"].items()})
        return cls(family, network, inputs, get_label_set(saved["label_set"]), float(saved["temperature"]),
                   saved.get("metrics"), saved["sha256"], saved.get("recipe"))

    def predict_inputs(self, *tensors: torch.Tensor) -> np.ndarray:
        """Calibrated probabilities (B, labels) for a batch of ``WindowBatch`` tensors."""
        with torch.no_grad():
            return torch.softmax(self.network(*tensors) / self.temperature, dim=1).numpy()


def build_network(family: Family, recipe, inputs: Inputs) -> torch.nn.Module:
    """The family's network for ``recipe``, its input sizes taken from what it reads."""
    n_classes = len(get_label_set(recipe.label_set).labels)
    if inputs.voice is not None:
        options = replace(recipe.network, voice_dim=inputs.voice.network.embedding_size,
                          face_dim=inputs.face.network.embedding_size)
    else:
        options = replace(recipe.network, shapes=RawShapes(inputs.face_transform.size,
                                                           inputs.voice_transform.output_shape))
    return family.network(n_classes, options)


def prepare_family(family: Family, data: Path, recipe, on_features=None, workers: int | None = None,
                   log: Callable[[str], None] = print, inputs: Inputs | None = None) -> tuple[FusionData, Inputs]:
    """Scan, split and cache the items of ``data`` as the family reads them."""
    if inputs is None:
        voice_model = recipe.voice_model if family.inputs == "encoded" else MFCC_VOICE  # raw: MFCCs
        inputs = Inputs.of(family, recipe, get_model(voice_model).load(), FaceModel.load())
    data_parts = fusion_data(Path(data), recipe, inputs.items(), on_features, workers)
    for line in data_parts.summary:
        log(line)
    log("windows per part: " + ", ".join(f"{p} {len(w)}" for p, w in data_parts.parts.items()))
    return data_parts, inputs


class FamilyFiles:
    """What every family's training makes of its fitted network, however it fits: the family's
    model file, its parameter count in the metrics and its card. A training sets ``family``,
    ``inputs``, ``label_set`` and ``data_parts``."""

    def model(self, network, temperature: float) -> "FamilyModel":
        return FamilyModel(self.family, network, self.inputs, self.label_set, temperature)

    def findings(self, model, scores, metrics) -> dict:
        return {"parameters": sum(p.numel() for p in model.network.parameters())}

    def card(self, out: Path, metrics: dict, command: str) -> str:
        return family_card(self.family, out, metrics, self.data_parts, command)


class FamilyTraining(FamilyFiles, WindowsTraining):
    """One family's network, trained on the paired windows as it reads them (``inputs``)."""

    def __init__(self, family: Family, data_parts: FusionData, recipe, inputs: Inputs):
        self.label_set = get_label_set(recipe.label_set)
        super().__init__(data_parts, recipe.train, self.label_set.labels)
        self.family, self.recipe, self.inputs = family, recipe, inputs
        self.kind = self.title = family.name
        self.fingerprint = run_fingerprint(recipe, inputs.identity(), data_parts)

    def network(self) -> torch.nn.Module:
        torch.manual_seed(self.recipe.train.seed)  # the same initial weights every run
        return build_network(self.family, self.recipe, self.inputs)


def train_family(family: Family, data: Path, recipe, out: Path, run_dir: Path | None = None, fresh: bool = False,
                 command: str = "", on_features: Callable[[str, int, int], None] | None = None,
                 on_epoch: Callable[[EpochReport], None] | None = None, log: Callable[[str], None] = print) -> dict:
    """Train one family on the paired windows of ``data``; write ``out``, its card and reports."""
    data_parts, inputs = prepare_family(family, data, recipe, on_features, log=log)
    return run_training(FamilyTraining(family, data_parts, recipe, inputs), out, command, run_dir, fresh, on_epoch,
                        log)


def family_card(family: Family, out: Path, metrics: dict, data_parts: FusionData, command: str) -> str:
    top5 = ", ".join(f"{part} {metrics[part]['top5_accuracy']:.3f}" for part in ("validation", "test")
                     if part in metrics)
    return model_card(
        family.title,
        [f"File `{out.name}`, {metrics['parameters']:,} parameters; reads {family.reads}.", "", family.about, "",
         f"Top-5 accuracy: {top5}.", "", "How the windows are made (as for the combined model, the same "
         "split and test windows): " + PAIRING_NOTE],
        "\n".join(data_parts.summary),
        [data_parts.people_line()],
        metrics, {"validation": "the validation windows", "test": "the test windows"}, "windows",
        command or family.train_command)


def evaluate_family(family: Family, data: Path, weights: Path | None = None, part: str = "test",
                    log: Callable[[str], None] = print, on_features=None) -> dict:
    """The evaluate JSON (with top-5 accuracy) of the family's model on one part of ``data``,
    split as in the recipe it was trained with."""
    if part not in PARTS:
        raise DatasetError(f"The fusion models' data has the parts {', '.join(PARTS)}, not {part!r}.")
    model = FamilyModel.load(family, weights)
    recipe = recipe_from_dict(family.recipe, model.recipe)
    data_parts, _ = prepare_family(family, data, recipe, on_features, log=log, inputs=model.inputs)
    if part not in data_parts.parts:
        raise DatasetError(f"No {part} windows in {data} with the split the model was trained with.")
    logits, targets = predict_logits(model.network, data_parts.parts[part])
    return windows_report(family.name, model.sha256, model.labels, logits, targets, model.temperature)
