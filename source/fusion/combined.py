"""The combined network: one window's voice embedding, face-frame sequence and text vector, fused.

voice embedding -> dropout + batch norm; face embedding of each frame -> batch norm -> LSTM
(last valid step); the text-emotion vector; three presence flags -> dense layers -> logits.
A missing source (no speech, no face in any frame, no words) enters as zeros with its flag off,
missing frames are left out of the LSTM, and modality dropout in training teaches the network to
predict from whatever is there.
"""

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

SOURCES = ("voice", "face", "text")


@dataclass(frozen=True)
class FusionOptions:
    voice_dim: int = 256  # the voice model's embedding size
    face_dim: int = 256  # the face model's embedding size
    text_dim: int = 9  # polarity, subjectivity and the seven text emotions
    lstm_units: int = 128
    lstm_layers: int = 1
    dense_units: int = 128
    dense_layers: int = 2
    dropout: float = 0.3
    # training only: each present source is hidden with this probability (one always stays)
    modality_dropout: float = 0.3


@dataclass
class WindowBatch:
    """A batch of windows; ``*_present`` and ``face_mask`` say what each window has."""

    voice: torch.Tensor  # (B, voice_dim)
    voice_present: torch.Tensor  # (B,) bool
    faces: torch.Tensor  # (B, frames, face_dim)
    face_mask: torch.Tensor  # (B, frames) bool: a face was found in that frame
    text: torch.Tensor  # (B, text_dim)
    text_present: torch.Tensor  # (B,) bool

    def tensors(self) -> tuple[torch.Tensor, ...]:
        """The network's inputs, in order: ``net(*batch.tensors())``."""
        return (self.voice, self.voice_present, self.faces, self.face_mask, self.text, self.text_present)


def presence(voice_present: torch.Tensor, face_mask: torch.Tensor, text_present: torch.Tensor) -> torch.Tensor:
    """(B, 3) bool: which of SOURCES each window has."""
    return torch.stack([voice_present, face_mask.any(dim=1), text_present], dim=1)


def hide_sources(presence: torch.Tensor, probability: float,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Modality dropout: hide present sources (columns of ``presence``) at random with
    ``probability``, never all of a window's."""
    hide = torch.rand(presence.shape, generator=generator) < probability
    kept = presence & ~hide
    nothing_left = ~kept.any(dim=1)
    kept[nothing_left] = presence[nothing_left]
    return kept


def _normalize_present(norm: nn.BatchNorm1d, x: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """Batch-norm only the present rows (absent ones stay zero and do not skew the statistics)."""
    out = torch.zeros_like(x)
    if present.any() and (not norm.training or int(present.sum()) > 1):
        out[present] = norm(x[present])
    return out


class CombinedNet(nn.Module):
    def __init__(self, n_classes: int, options: FusionOptions = FusionOptions()):
        super().__init__()
        self.options = options
        self.voice_dropout = nn.Dropout(options.dropout)
        self.voice_norm = nn.BatchNorm1d(options.voice_dim)
        self.face_norm = nn.BatchNorm1d(options.face_dim)
        self.lstm = nn.LSTM(options.face_dim, options.lstm_units, options.lstm_layers, batch_first=True)
        width = options.voice_dim + options.lstm_units + options.text_dim + len(SOURCES)
        layers: list[nn.Module] = []
        for _ in range(options.dense_layers):
            layers += [nn.Linear(width, options.dense_units), nn.ReLU(inplace=True), nn.Dropout(options.dropout)]
            width = options.dense_units
        self.dense = nn.Sequential(*layers)
        self.classifier = nn.Linear(width, n_classes)

    def hide_sources(self, presence: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return hide_sources(presence, self.options.modality_dropout, generator)

    def face_sequence(self, faces: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, lstm_units): the LSTM's state after the last frame with a face; zeros without one."""
        normalized = _normalize_present(self.face_norm, faces.flatten(0, 1), mask.flatten()).view_as(faces)
        # frames with a face moved to the front, in order, so each sequence is a packed prefix
        order = torch.argsort((~mask).to(torch.int8), dim=1, stable=True)
        ordered = torch.gather(normalized, 1, order[..., None].expand_as(normalized))
        lengths = mask.sum(dim=1)
        packed = pack_padded_sequence(ordered, lengths.clamp(min=1).cpu(), batch_first=True,
                                      enforce_sorted=False)
        _, (hidden, _) = self.lstm(packed)
        return hidden[-1] * (lengths > 0).unsqueeze(1).to(hidden.dtype)

    def forward(self, voice: torch.Tensor, voice_present: torch.Tensor, faces: torch.Tensor,
                face_mask: torch.Tensor, text: torch.Tensor, text_present: torch.Tensor) -> torch.Tensor:
        """Logits (B, n_classes) for the tensors of a ``WindowBatch``."""
        present = presence(voice_present, face_mask, text_present)
        if self.training and self.options.modality_dropout > 0:
            present = self.hide_sources(present)
        voice_on, face_on, text_on = present.unbind(dim=1)
        voice = _normalize_present(self.voice_norm, self.voice_dropout(voice), voice_on)
        faces = self.face_sequence(faces, face_mask & face_on.unsqueeze(1))
        text = text * text_on.unsqueeze(1).to(text.dtype)
        fused = torch.cat([voice, faces, text, present.to(voice.dtype)], dim=1)
        return self.classifier(self.dense(fused))

    def config(self) -> dict:
        return {"n_classes": self.classifier.out_features, "options": asdict(self.options)}

    @classmethod
    def from_config(cls, config: dict) -> "CombinedNet":
        return cls(config["n_classes"], FusionOptions(**config["options"]))
