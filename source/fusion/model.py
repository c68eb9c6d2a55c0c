"""The combined model: the fusion network and the frozen voice and face models it was trained on.

A combined weights file holds the fusion network, its labels and temperature, and the sha256 of
the voice and face models whose embeddings it reads. ``CombinedModel.load()`` loads those
encoders too (the ones in use, or, for a model trained with fine-tuned encoders, the files
saved beside it) and refuses a file whose encoders do not match, so embeddings are never fed to
a network trained on other ones.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..emotion_model import TrainedModel
from ..face.model import FaceModel
from ..labels import LabelSet, get_label_set
from ..registry import get_model
from ..voice.model import KIND as MFCC_VOICE, VoiceModel
from ..weights import WeightsError, load_weights, save_weights
from .combined import CombinedNet
from .data import FRAMES

if TYPE_CHECKING:
    from ..voice.whisper_voice import WhisperVoiceModel

KIND = "combined"


def check_encoders(saved: dict, voice: VoiceModel, face: FaceModel, path: Path) -> None:
    """Refuse a fusion model file whose encoders are not the voice and face models loaded."""
    for name, model in (("voice", voice), ("face", face)):
        if saved["encoders"][name] != model.sha256:
            raise WeightsError(
                f"The {saved['kind']} model {path} was trained on the {name} model "
                f"{saved['encoders'][name][:12]}…, not on the one loaded ({model.sha256[:12]}…): "
                f"use the {name} model it was trained on, or train it again on this one.")


def frozen_encoders(saved: dict, path: Path, voice: "VoiceModel | WhisperVoiceModel | None",
                    face: FaceModel | None) -> "tuple[VoiceModel | WhisperVoiceModel, FaceModel]":
    """The voice and face models a fusion model file reads the embeddings of: ``voice`` and
    ``face`` when they are of the kind it names (files without ``voice_model`` read the MFCC
    voice model), else the shipped ones; refused when their sha256 differ from the saved ones."""
    voice_entry = get_model(saved.get("voice_model", MFCC_VOICE))  # files of before 2026-12-05 say "audio"
    if voice is None or voice.KIND != voice_entry.name:
        voice = voice_entry.load()
    face = face or FaceModel.load()
    check_encoders(saved, voice, face, path)
    return voice, face


def encoder_paths(path: Path) -> dict[str, Path]:
    """Where a combined model with fine-tuned encoders keeps them: beside its own file."""
    return {name: path.with_name(f"{path.stem}.{name}.pt") for name in ("voice", "face")}


class CombinedModel(TrainedModel):
    def __init__(self, network: CombinedNet, voice: VoiceModel, face: FaceModel, label_set: LabelSet,
                 temperature: float = 1.0, metrics: dict | None = None, sha256: str = "",
                 recipe: dict | None = None, tuned_encoders: bool = False):
        super().__init__(network, label_set, temperature, metrics, sha256)
        self.recipe = recipe or {}  # the training recipe, as saved: its split and data folders
        self.voice, self.face = voice, face
        # fine-tuned with the fusion: saved with it, and the timeline's branches use them too
        self.tuned_encoders = tuned_encoders

    def save(self, path: str | Path, **metadata) -> str:
        if self.tuned_encoders:
            for name, encoder_path in encoder_paths(Path(path)).items():
                encoder = getattr(self, name)
                encoder.sha256 = encoder.save(encoder_path, tuned_with=Path(path).name)
            metadata["encoder_files"] = {name: p.name for name, p in encoder_paths(Path(path)).items()}
        return save_weights(path, self.network, kind=KIND, label_set=self.label_set.name,
                            temperature=self.temperature, metrics=self.metrics,
                            encoders={"voice": self.voice.sha256, "face": self.face.sha256},
                            voice_model=self.voice.KIND, **metadata)

    @classmethod
    def load(cls, path: str | Path | None = None, voice: "VoiceModel | WhisperVoiceModel | None" = None,
             face: FaceModel | None = None, expected_sha256: str | None = None) -> "CombinedModel":
        """The model in ``path`` (refused unless its sha256 is ``expected_sha256``, when given; default:
        the shipped one) over ``voice`` and ``face`` (default: shipped); a model trained with
        fine-tuned encoders brings its own, from beside its file."""
        if path is None:
            shipped = get_model(KIND).shipped()
            path, expected_sha256 = shipped.path, shipped.sha256
        saved = load_weights(path, KIND, expected_sha256)
        tuned = "encoder_files" in saved
        if tuned:
            beside = Path(path).parent
            voice = VoiceModel.load(beside / saved["encoder_files"]["voice"])
            face = FaceModel.load(beside / saved["encoder_files"]["face"])
        voice, face = frozen_encoders(saved, Path(path), voice, face)
        network = CombinedNet.from_config(saved["network"])
        network.load_state_dict({k: v.float() if v.is_floating_point() else v
                                 for k, v in saved["state_dict"].items()})
        return cls(network, voice, face, get_label_set(saved["label_set"]), float(saved["temperature"]),
                   saved.get("metrics"), saved["sha256"], saved.get("recipe"), tuned)

    def predict_window(self, voice: np.ndarray | None, faces: np.ndarray | None,
                       text: np.ndarray | None) -> dict | None:
        """One window's fused probabilities by label, top emotion and confidence, from what it has:
        ``voice`` (the voice model's embedding), ``faces`` (frames, dim) embeddings of one face's
        frames with a face, in time order, ``text`` (the 9 text features); None if nothing."""
        has_faces = faces is not None and len(faces) > 0
        if voice is None and not has_faces and text is None:
            return None
        options = self.network.options
        face_rows = np.zeros((FRAMES, options.face_dim), dtype=np.float32)
        mask = np.zeros(FRAMES, dtype=bool)
        if has_faces:
            faces = np.asarray(faces, dtype=np.float32)
            if len(faces) > FRAMES:  # more frames than it was trained on: evenly spaced ones
                faces = faces[np.linspace(0, len(faces) - 1, FRAMES).round().astype(int)]
            face_rows[:len(faces)], mask[:len(faces)] = faces, True
        inputs = (
            torch.from_numpy(np.zeros(options.voice_dim, np.float32) if voice is None
                             else np.asarray(voice, np.float32))[None],
            torch.tensor([voice is not None]),
            torch.from_numpy(face_rows)[None], torch.from_numpy(mask)[None],
            torch.from_numpy(np.zeros(options.text_dim, np.float32) if text is None
                             else np.asarray(text, np.float32))[None],
            torch.tensor([text is not None]),
        )
        with torch.no_grad():
            probabilities = torch.softmax(self.network(*inputs) / self.temperature, dim=1)[0]
        return self.scored(probabilities)
