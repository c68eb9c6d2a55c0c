"""3D CNN fusion (``c3d_fusion``): 20 face frames at 112x112 through a 3D CNN and the window's
MFCC map through a 2D CNN, their pooled features concatenated into dense layers.

The face crops are the face model's grayscale squares (its transform's size), scaled to ``size``; the window's 16
frames give 20 evenly spaced ones (some repeated). The MFCC map is the reference design's 40
coefficients x 44 frames (the recipe's ``voice_transform``), with their deltas as 3 channels.
"""

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ...training.recipes import recipe_from_dict
from ..combined import presence
from .raw_inputs import RawShapes, conv_block, face_frames, modality_dropout, voice_map


@dataclass(frozen=True)
class C3dOptions:
    shapes: RawShapes = RawShapes()
    frames: int = 20
    size: int = 112  # crops are scaled to size x size
    channels: tuple[int, ...] = (16, 32, 64, 128)  # per 3D convolution block
    dense_units: int = 256
    dropout: float = 0.4
    modality_dropout: float = 0.2  # training: one modality zeroed in this share of windows


class C3dNet(nn.Module):
    def __init__(self, n_classes: int, options: C3dOptions = C3dOptions()):
        super().__init__()
        self.options = o = options
        blocks, previous = [], 1
        for i, channels in enumerate(o.channels):
            blocks.append(conv_block(3, previous, channels, (1, 2, 2) if i == 0 else 2))
            previous = channels
        self.video = nn.Sequential(*blocks, nn.AdaptiveAvgPool3d(1), nn.Flatten())
        self.audio = nn.Sequential(conv_block(2, o.shapes.voice_shape[0], 32, 2), conv_block(2, 32, 64, 2),
                                   conv_block(2, 64, 64, 0), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dense = nn.Sequential(nn.Linear(previous + 64, o.dense_units), nn.ReLU(inplace=True),
                                   nn.Dropout(o.dropout), nn.Linear(o.dense_units, n_classes))

    def forward(self, voice: torch.Tensor, voice_present: torch.Tensor, faces: torch.Tensor,
                face_mask: torch.Tensor, text: torch.Tensor, text_present: torch.Tensor) -> torch.Tensor:
        o = self.options
        frames = face_frames(faces, face_mask, o.shapes, o.frames)
        if o.size != o.shapes.face_size:
            frames = F.interpolate(frames, size=(o.size, o.size), mode="bilinear", align_corners=False)
        present = presence(voice_present, face_mask, torch.zeros_like(voice_present))[:, [1, 0]]
        video, audio = modality_dropout([self.video(frames[:, None]), self.audio(voice_map(voice, o.shapes))],
                                        present, "softhard", o.modality_dropout, self.training)
        return self.dense(torch.cat([video, audio], dim=1))

    def config(self) -> dict:
        return {"n_classes": self.dense[-1].out_features, "options": asdict(self.options)}

    @classmethod
    def from_config(cls, config: dict) -> "C3dNet":
        return cls(config["n_classes"], recipe_from_dict(C3dOptions, config["options"]))
