"""What the families that learn from pixels and MFCCs read: a window's face crops and its voice
features, flattened into the rows of ``FusionWindows`` and shaped back here."""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class RawShapes:
    face_size: int = 64  # the face model's grayscale crops: its transform's size, set from it when a model is built
    voice_shape: tuple[int, int, int] = (3, 126, 13)  # the voice transform's (channels, frames, n_mfcc)


def frame_indices(available: int, wanted: int) -> torch.Tensor:
    """``wanted`` evenly spaced frame indices out of ``available`` (repeats when more are wanted)."""
    return torch.from_numpy(np.linspace(0, available - 1, wanted).round().astype(np.int64))


def face_frames(faces: torch.Tensor, face_mask: torch.Tensor, shapes: RawShapes, frames: int) -> torch.Tensor:
    """(B, frames, size, size) normalised crops; frames without a face are zeros."""
    batch, available = faces.shape[:2]
    crops = faces.view(batch, available, shapes.face_size, shapes.face_size) / 127.5 - 1.0
    crops = crops * face_mask[..., None, None].to(crops.dtype)
    return crops[:, frame_indices(available, frames)]


def voice_map(voice: torch.Tensor, shapes: RawShapes) -> torch.Tensor:
    """(B, channels, frames, n_mfcc): the voice features as the transform made them."""
    return voice.view(voice.shape[0], *shapes.voice_shape)


def conv_block(dims: int, channels_in: int, channels_out: int, pool) -> nn.Sequential:
    """Convolution (kernel 3), batch norm, ReLU and max pooling, in 1, 2 or 3 dimensions."""
    conv, norm, pool_layer = {1: (nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d),
                              2: (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d),
                              3: (nn.Conv3d, nn.BatchNorm3d, nn.MaxPool3d)}[dims]
    layers = [conv(channels_in, channels_out, 3, padding=1, bias=False), norm(channels_out), nn.ReLU(inplace=True)]
    if pool:
        layers.append(pool_layer(pool))
    return nn.Sequential(*layers)


def modality_dropout(features: list[torch.Tensor], present: torch.Tensor, mode: str, probability: float,
                     training: bool) -> list[torch.Tensor]:
    """Zero each absent modality's features; in training, ``mode`` also removes one:
    ``softhard``: with ``probability`` a window loses one modality at random (zeroed, hard), and
    the other windows' features get ordinary dropout at ``probability`` (soft);
    ``noise``: with ``probability`` one modality is replaced by Gaussian noise of its own scale;
    ``nodropout``: nothing. ``features``: one (B, ...) tensor per column of ``present``."""
    out = [f * present[:, i].view(-1, *[1] * (f.dim() - 1)).to(f.dtype) for i, f in enumerate(features)]
    if not training or mode == "nodropout" or probability <= 0:
        return out
    batch = present.shape[0]
    hit = torch.rand(batch) < probability
    which = torch.randint(len(features), (batch,))
    for i, f in enumerate(out):
        chosen = (hit & (which == i)).view(-1, *[1] * (f.dim() - 1))
        if mode == "softhard":
            kept = nn.functional.dropout(f, probability, training=True)
            out[i] = torch.where(chosen, torch.zeros_like(f), torch.where(hit.view_as(chosen), f, kept))
        else:  # noise
            out[i] = torch.where(chosen, torch.randn_like(f) * f.detach().std(), f)
    return out


DROPOUT_MODES = ("softhard", "noise", "nodropout")
