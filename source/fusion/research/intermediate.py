"""The intermediate-fusion family (``lt_fusion``, ``it_fusion``, ``ia_fusion``): a 2D CNN on each
of 15 face frames followed by 1D temporal convolutions, a 1D CNN over the MFCC frames, joined by

- ``late_transformer``: after both branches, each modality's sequence attends to the other's
  (cross-attention, residual), then each is pooled and the two are concatenated;
- ``intermediate_transformer``: the same cross-attention between the branches' first and second
  stages, so the second stage of each sees the other modality;
- ``intermediate_attention``: between the stages, each modality's attention over the other's
  time steps (queries from the other, mean over queries) re-weights its own steps, without
  mixing features across modalities.

Modality dropout (see ``raw_inputs.modality_dropout``) is applied to the branch outputs.
"""

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ...training.recipes import recipe_from_dict
from ..combined import presence
from .raw_inputs import DROPOUT_MODES, RawShapes, conv_block, face_frames, modality_dropout, voice_map

FUSIONS = ("late_transformer", "intermediate_transformer", "intermediate_attention")


@dataclass(frozen=True)
class IntermediateOptions:
    fusion: str = "late_transformer"
    shapes: RawShapes = RawShapes()
    frames: int = 15
    width: int = 64
    heads: int = 2
    dropout_mode: str = "softhard"
    modality_dropout: float = 0.2
    dropout: float = 0.3

    def __post_init__(self):
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, not {self.fusion!r}")
        if self.dropout_mode not in DROPOUT_MODES:
            raise ValueError(f"dropout_mode must be one of {', '.join(DROPOUT_MODES)}, not {self.dropout_mode!r}")


class CrossAttention(nn.Module):
    """``queries`` attend to ``context`` (both (B, T, width)); returns the residual sum or, with
    ``weights_only``, the queries re-weighted by the attention the context pays them."""

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.attention = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)

    def forward(self, queries: torch.Tensor, context: torch.Tensor, weights_only: bool = False) -> torch.Tensor:
        if weights_only:
            _, weights = self.attention(self.norm(context), self.norm(queries), self.norm(queries))
            emphasis = weights.mean(dim=1) * queries.shape[1]  # (B, T_queries), mean 1
            return queries * (1 + emphasis[..., None])
        attended, _ = self.attention(self.norm(queries), self.norm(context), self.norm(context), need_weights=False)
        return queries + attended


class IntermediateNet(nn.Module):
    def __init__(self, n_classes: int, options: IntermediateOptions = IntermediateOptions()):
        super().__init__()
        self.options = o = options
        w = o.width
        self.frame_cnn = nn.Sequential(conv_block(2, 1, 16, 2), conv_block(2, 16, 32, 2), conv_block(2, 32, w, 2),
                                       conv_block(2, w, w, 0), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.video_stage1 = conv_block(1, w, w, 0)
        self.video_stage2 = conv_block(1, w, w, 0)
        channels = o.shapes.voice_shape[0] * o.shapes.voice_shape[2]
        self.audio_stage1 = nn.Sequential(conv_block(1, channels, w, 2), conv_block(1, w, w, 2))
        self.audio_stage2 = nn.Sequential(conv_block(1, w, w, 2), conv_block(1, w, w, 0))
        self.video_attends = CrossAttention(w, o.heads, o.dropout)
        self.audio_attends = CrossAttention(w, o.heads, o.dropout)
        self.head = nn.Sequential(nn.Dropout(o.dropout), nn.Linear(2 * w, n_classes))

    def _exchange(self, video: torch.Tensor, audio: torch.Tensor, weights_only: bool):
        """(B, T, w) sequences after each looked at the other."""
        return (self.video_attends(video, audio, weights_only), self.audio_attends(audio, video, weights_only))

    def forward(self, voice: torch.Tensor, voice_present: torch.Tensor, faces: torch.Tensor,
                face_mask: torch.Tensor, text: torch.Tensor, text_present: torch.Tensor) -> torch.Tensor:
        o = self.options
        frames = face_frames(faces, face_mask, o.shapes, o.frames)
        batch = frames.shape[0]
        video = self.frame_cnn(frames.flatten(0, 1)[:, None]).view(batch, o.frames, -1).transpose(1, 2)
        mfcc = voice_map(voice, o.shapes)  # (B, channels, frames, n_mfcc) -> channels x coefficients over time
        audio = mfcc.permute(0, 1, 3, 2).flatten(1, 2)
        present = presence(voice_present, face_mask, torch.zeros_like(voice_present))[:, [1, 0]]
        video, audio = modality_dropout([self.video_stage1(video), self.audio_stage1(audio)], present,
                                        o.dropout_mode, o.modality_dropout, self.training)
        if o.fusion != "late_transformer":
            video, audio = (x.transpose(1, 2) for x in
                            self._exchange(video.transpose(1, 2), audio.transpose(1, 2),
                                           o.fusion == "intermediate_attention"))
        video, audio = self.video_stage2(video).transpose(1, 2), self.audio_stage2(audio).transpose(1, 2)
        if o.fusion == "late_transformer":
            video, audio = self._exchange(video, audio, False)
        return self.head(torch.cat([video.mean(dim=1), audio.mean(dim=1)], dim=1))

    def config(self) -> dict:
        return {"n_classes": self.head[-1].out_features, "options": asdict(self.options)}

    @classmethod
    def from_config(cls, config: dict) -> "IntermediateNet":
        return cls(config["n_classes"], recipe_from_dict(IntermediateOptions, config["options"]))
