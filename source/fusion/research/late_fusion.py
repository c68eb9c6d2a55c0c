"""Weighted late fusion (``late_fusion``): a weighted mean of the voice and face models' own
calibrated probabilities, the face's weight chosen on the validation windows.

The network holds copies of the two models' classifier layers and temperatures, so it reads the
same embeddings as the other fusions and gives exactly the probabilities each model gives alone
(the face's: the mean over the frames with a face). A window with one branch gets that branch's
probabilities; the equal-weight mean is the studio's default late fusion.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...face.model import FaceModel
from ...labels import get_label_set
from ...nets import EnsembleHead
from ...registry import get_model
from ...training.flow import Fitted, Training, run_training
from ...training.metrics import accuracy_and_macro_f1
from ...training.trainer import EpochReport, predict_logits
from ..train import windows_report
from ..windows import FusionData
from .family import Family, FamilyFiles, Inputs, prepare_family


class WeightedLateNet(nn.Module):
    def __init__(self, voice_dim: int, face_dim: int, n_classes: int, voice_ensemble: dict | None = None,
                 face_ensemble: dict | None = None):
        super().__init__()
        # a branch model that is an ensemble brings its EnsembleHead (its config here), else a layer
        self.voice_head = EnsembleHead(**voice_ensemble) if voice_ensemble else nn.Linear(voice_dim, n_classes)
        self.face_head = EnsembleHead(**face_ensemble) if face_ensemble else nn.Linear(face_dim, n_classes)
        self.register_buffer("temperatures", torch.ones(2))  # voice, face: the models' own
        self.register_buffer("face_weight", torch.tensor(0.5))

    @classmethod
    def over(cls, voice, face: FaceModel) -> "WeightedLateNet":
        """The net over ``voice`` and ``face``: their classifiers and temperatures, equal weights."""
        net = cls(voice.network.embedding_size, face.network.embedding_size, len(voice.labels),
                  *(model.network.classifier.config() if isinstance(model.network.classifier, EnsembleHead)
                    else None for model in (voice, face)))
        net.voice_head.load_state_dict(voice.network.classifier.state_dict())
        net.face_head.load_state_dict(face.network.classifier.state_dict())
        net.temperatures.copy_(torch.tensor([voice.temperature, face.temperature]))
        return net

    def forward(self, voice: torch.Tensor, voice_present: torch.Tensor, faces: torch.Tensor,
                face_mask: torch.Tensor, text: torch.Tensor, text_present: torch.Tensor) -> torch.Tensor:
        """Log of the fused probabilities (uniform for a window with neither branch)."""
        voice_p = torch.softmax(self.voice_head(voice) / self.temperatures[0], dim=1)
        frames = face_mask.to(voice_p.dtype)[..., None]
        face_p = ((torch.softmax(self.face_head(faces) / self.temperatures[1], dim=2) * frames).sum(dim=1)
                  / frames.sum(dim=1).clamp(min=1))
        voice_on, face_on = voice_present.to(voice_p.dtype), face_mask.any(dim=1).to(voice_p.dtype)
        weights = torch.stack([(1 - self.face_weight) * voice_on, self.face_weight * face_on], dim=1)
        unweighted = weights.sum(dim=1, keepdim=True) == 0  # a weight of 0 on the only branch there
        weights = torch.where(unweighted, torch.stack([voice_on, face_on], dim=1), weights)
        total = weights.sum(dim=1, keepdim=True)
        fused = (weights[:, :1] * voice_p + weights[:, 1:] * face_p) / total.clamp(min=1e-8)
        fused = torch.where(total > 0, fused, torch.full_like(fused, 1 / fused.shape[1]))
        return torch.log(fused.clamp(min=1e-8))

    def config(self) -> dict:
        ensembles = {f"{name}_ensemble": head.config() for name, head in
                     (("voice", self.voice_head), ("face", self.face_head)) if isinstance(head, EnsembleHead)}
        return {"voice_dim": self.voice_head.in_features, "face_dim": self.face_head.in_features,
                "n_classes": self.voice_head.out_features, **ensembles}

    @classmethod
    def from_config(cls, config: dict) -> "WeightedLateNet":
        return cls(config["voice_dim"], config["face_dim"], config["n_classes"],
                   config.get("voice_ensemble"), config.get("face_ensemble"))


class LateFusionTraining(FamilyFiles, Training):
    """The face's weight chosen on the validation windows (a grid of ``recipe.grid_steps``
    weights, best ``recipe.monitor``): nothing else is learned."""

    unit = "windows"

    def __init__(self, family: Family, data_parts: FusionData, recipe, inputs: Inputs, out: Path):
        self.family, self.data_parts, self.recipe, self.inputs = family, data_parts, recipe, inputs
        self.kind = self.title = family.name
        self.label_set = get_label_set(recipe.label_set)
        self.parts = tuple(part for part in ("validation", "test") if part in data_parts.parts)
        self.facts = {"split": data_parts.split, "windows": {p: len(w) for p, w in data_parts.parts.items()},
                      "run_dir": str(out.parent)}

    def fit(self, run_dir, fresh, on_epoch, log) -> Fitted:
        recipe = self.recipe
        network = WeightedLateNet.over(self.inputs.voice, self.inputs.face).eval()
        grid = []
        for weight in np.linspace(0, 1, recipe.grid_steps):
            network.face_weight.fill_(float(weight))
            logits, targets = self.scores(network, "validation")
            accuracy, macro_f1 = accuracy_and_macro_f1(targets, logits.argmax(1), len(self.label_set.labels))
            grid.append({"face_weight": round(float(weight), 4), "accuracy": accuracy, "macro_f1": macro_f1})
        best = max(grid, key=lambda g: (g[recipe.monitor], -abs(g["face_weight"] - 0.5)))  # ties: nearer equal
        network.face_weight.fill_(best["face_weight"])
        log(f"face weight {best['face_weight']} (validation {recipe.monitor} {best[recipe.monitor]:.3f}; "
            f"equal weights {grid[len(grid) // 2][recipe.monitor]:.3f})")
        return Fitted(network, {
            "face_weight": best["face_weight"], "grid": grid,
            "training_note": (f"Training: the face's weight chosen from {recipe.grid_steps} weights in [0, 1] "
                              f"by validation {recipe.monitor}: {best['face_weight']} (the voice's: "
                              f"{1 - best['face_weight']:.2f}); nothing else is learned.")})

    def scores(self, network, part):
        return predict_logits(network, self.data_parts.parts[part])

    def report(self, model, part, logits, targets) -> dict:
        return windows_report(self.kind, "", self.label_set.labels, logits, targets, model.temperature)


def train_late_fusion(family: Family, data: Path, recipe, out: Path, run_dir: Path | None = None,
                      fresh: bool = False, command: str = "", on_features=None,
                      on_epoch: Callable[[EpochReport], None] | None = None, log: Callable[[str], None] = print) -> dict:
    """Choose the face's weight on the validation windows, fit the temperature there, report
    validation and test; write ``out`` and its card."""
    voice, face = get_model(recipe.voice_model).load(), FaceModel.load()
    data_parts, inputs = prepare_family(family, data, recipe, on_features, log=log, inputs=Inputs(voice=voice, face=face))
    return run_training(LateFusionTraining(family, data_parts, recipe, inputs, out), out, command, log=log)
