"""Fine-tuning the branch encoders with the fusion (``CombinedRecipe.encoders = "finetune"``).

The frozen combined model reads cached embeddings; fine-tuned, the voice and face networks run on
every batch's MFCC maps and face crops (``RawItems``: the same windows) and learn with the fusion
network, at ``train.backbone_lr_scale`` times its learning rate. Their batch-norm statistics stay
as trained on their own data: a batch of windows holds few faces and voices, many times over.

The tuned encoders then serve the timeline's branch columns too, so each gets its classifier
refitted on its tuned embeddings of the training windows and a temperature on the validation
windows; they are saved as ordinary voice and face model files beside the combined file.
"""

import copy

import torch
from torch import nn
from torch.utils.data import DataLoader

from ..emotion_model import EmotionModel
from ..errors import StudioError
from ..face.model import FaceModel
from ..training.metrics import fit_temperature
from ..voice.model import VoiceModel
from .combined import CombinedNet
from .data import FRAMES, FusionWindows

ENCODER_MODES = ("frozen", "finetune")


class TunedCombinedNet(nn.Module):
    """The combined network over voice and face networks that train with it: reads a window's
    MFCC map (flattened) and its 16 face crops (flattened uint8 values) instead of embeddings."""

    def __init__(self, fusion: CombinedNet, voice: VoiceModel, face: FaceModel):
        super().__init__()
        if face.transform.landmarks:
            raise StudioError("Fine-tuning reads face crops only: the face model uses landmarks, "
                              "which the paired windows do not carry. Use --set encoders=frozen.")
        self.backbone = nn.ModuleDict({"voice": copy.deepcopy(voice.network), "face": copy.deepcopy(face.network)})
        self.fusion = fusion
        self.voice_shape = voice.transform.output_shape
        self.face_size = face.transform.size
        self.register_buffer("mean", torch.tensor(face.transform.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(face.transform.std).view(1, 3, 1, 1))

    def train(self, mode: bool = True) -> "TunedCombinedNet":
        super().train(mode)
        for module in self.backbone.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
        return self

    def embeddings(self, voice: torch.Tensor, faces: torch.Tensor,
                   face_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, voice_dim) voice embeddings and (B, frames, face_dim) face embeddings (zeros where
        a frame has no face: only frames with one are encoded)."""
        batch = voice.shape[0]
        voice_embedded = self.backbone["voice"].embed(voice.view(batch, *self.voice_shape))
        crops = faces.view(batch, FRAMES, self.face_size, self.face_size)[face_mask].float()
        face_embedded = self.backbone["face"].embed((crops[:, None] / 255.0 - self.mean) / self.std)
        rows = face_embedded.new_zeros(batch, FRAMES, face_embedded.shape[1])
        rows[face_mask] = face_embedded
        return voice_embedded, rows

    def forward(self, voice: torch.Tensor, voice_present: torch.Tensor, faces: torch.Tensor,
                face_mask: torch.Tensor, text: torch.Tensor, text_present: torch.Tensor) -> torch.Tensor:
        voice_embedded, face_rows = self.embeddings(voice, faces, face_mask)
        return self.fusion(voice_embedded, voice_present, face_rows, face_mask, text, text_present)


def _branch_embeddings(network: TunedCombinedNet, windows: FusionWindows) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """branch -> (embeddings, targets) of the windows' voices and face frames, with the tuned encoders."""
    rows = {"voice": ([], []), "face": ([], [])}
    network.eval()
    with torch.no_grad():
        for (voice, voice_present, faces, face_mask, _, _), target in DataLoader(windows, batch_size=64):
            voice_embedded, face_rows = network.embeddings(voice, faces, face_mask)
            rows["voice"][0].append(voice_embedded[voice_present])
            rows["voice"][1].append(target[voice_present])
            rows["face"][0].append(face_rows[face_mask])
            rows["face"][1].append(target[:, None].expand_as(face_mask)[face_mask])
    return {branch: (torch.cat(x), torch.cat(y)) for branch, (x, y) in rows.items()}


def _refit_classifier(classifier: nn.Module, train: tuple[torch.Tensor, torch.Tensor], steps: int = 300) -> None:
    """Full-batch AdamW on the cached embeddings, from the classifier's own weights (a layer, or
    an ensemble's head: its log mean probabilities are logits to cross-entropy)."""
    x, y = train
    optimizer = torch.optim.AdamW(classifier.parameters(), lr=1e-2, weight_decay=1e-4)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(classifier(x), y).backward()
        optimizer.step()


def tuned_encoders(network: TunedCombinedNet, voice: VoiceModel, face: FaceModel, train: FusionWindows,
                   validation: FusionWindows, seed: int = 0) -> tuple[VoiceModel, FaceModel]:
    """The tuned voice and face models, each with its classifier refitted on the training windows'
    tuned embeddings and its temperature fitted on the validation windows'."""
    torch.manual_seed(seed)
    fitted = _branch_embeddings(network, train)
    held = _branch_embeddings(network, validation)
    models: dict[str, EmotionModel] = {}
    for name, original in (("voice", voice), ("face", face)):
        tuned = network.backbone[name]
        with torch.enable_grad():
            _refit_classifier(tuned.classifier, fitted[name])
        x, y = held[name]
        with torch.no_grad():
            temperature = fit_temperature(tuned.classifier(x).numpy(), y.numpy()) if len(y) else 1.0
        models[name] = type(original)(copy.deepcopy(tuned).eval(), original.transform, original.label_set,
                                      temperature)
    return models["voice"], models["face"]

