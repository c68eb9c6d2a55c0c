"""Cross-modal attention fusion (``xattn_fusion``): the face-frame sequence, as tokens, attends
to the voice.

Each frame's face embedding (the frozen face model's) is projected to a token with a position;
the voice model's embedding is spread into ``audio_tokens`` tokens. A class token and the frame
tokens attend to the audio tokens (cross-attention), then to each other (a pre-LN transformer
layer); the class token is classified. Without speech the tokens attend to a learned "silence"
token; frames without a face are masked out; a window without any face is read by the class
token alone.
"""

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ...training.recipes import recipe_from_dict
from ..combined import hide_sources, presence


@dataclass(frozen=True)
class XAttnOptions:
    voice_dim: int = 256  # taken from the encoders
    face_dim: int = 256
    frames: int = 16
    width: int = 128
    heads: int = 4
    audio_tokens: int = 4
    layers: int = 1  # self-attention layers over the frames after the cross-attention
    dropout: float = 0.2
    modality_dropout: float = 0.3  # training: each present source hidden with this probability


class XAttnNet(nn.Module):
    def __init__(self, n_classes: int, options: XAttnOptions = XAttnOptions()):
        super().__init__()
        self.options = o = options
        self.face_in = nn.Sequential(nn.LayerNorm(o.face_dim), nn.Linear(o.face_dim, o.width))
        self.voice_in = nn.Sequential(nn.LayerNorm(o.voice_dim), nn.Dropout(o.dropout),
                                      nn.Linear(o.voice_dim, o.audio_tokens * o.width))
        self.class_token = nn.Parameter(torch.zeros(1, 1, o.width))
        self.silence = nn.Parameter(torch.zeros(1, 1, o.width))
        self.position = nn.Parameter(torch.randn(1, o.frames + 1, o.width) * 0.02)
        self.cross_norm = nn.LayerNorm(o.width)
        self.cross = nn.MultiheadAttention(o.width, o.heads, dropout=o.dropout, batch_first=True)
        self.frames = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(o.width, o.heads, 2 * o.width, o.dropout, activation="gelu",
                                       batch_first=True, norm_first=True), o.layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(o.width), nn.Dropout(o.dropout), nn.Linear(o.width, n_classes))

    def forward(self, voice: torch.Tensor, voice_present: torch.Tensor, faces: torch.Tensor,
                face_mask: torch.Tensor, text: torch.Tensor, text_present: torch.Tensor) -> torch.Tensor:
        present = presence(voice_present, face_mask, torch.zeros_like(voice_present))[:, :2]
        if self.training and self.options.modality_dropout > 0:
            present = hide_sources(present, self.options.modality_dropout)
        voice_on, face_on = present.unbind(dim=1)
        batch = voice.shape[0]
        audio = self.voice_in(voice).view(batch, self.options.audio_tokens, self.options.width)
        audio = torch.where(voice_on[:, None, None], audio, self.silence.expand_as(audio))
        tokens = torch.cat([self.class_token.expand(batch, -1, -1), self.face_in(faces)], dim=1) + self.position
        padding = torch.cat([torch.zeros(batch, 1, dtype=torch.bool, device=faces.device),
                             ~(face_mask & face_on[:, None])], dim=1)
        attended, _ = self.cross(self.cross_norm(tokens), audio, audio, need_weights=False)
        tokens = self.frames(tokens + attended, src_key_padding_mask=padding)
        return self.head(tokens[:, 0])

    def config(self) -> dict:
        return {"n_classes": self.head[-1].out_features, "options": asdict(self.options)}

    @classmethod
    def from_config(cls, config: dict) -> "XAttnNet":
        return cls(config["n_classes"], recipe_from_dict(XAttnOptions, config["options"]))
