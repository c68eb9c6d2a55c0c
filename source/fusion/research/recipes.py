"""The research families' recipes: hyperparameters and data, apart from their code.

Every recipe is a ``WindowsRecipe``: the combined model's paired windows, split the same way, so
every family is tested on the same windows. The families over the frozen models' embeddings train
on the same speakers as the combined model (data the encoders never trained on); the families that
learn their own encoders from pixels and MFCCs train on every speaker and subject not held out.
"""

from dataclasses import dataclass

from ...audio.features import MfccTransform
from ...training.trainer import TrainOptions
from ..train import WindowsRecipe
from .c3d import C3dOptions
from .intermediate import IntermediateOptions
from .xattn import XAttnOptions


@dataclass(frozen=True)
class LateFusionRecipe(WindowsRecipe):
    grid_steps: int = 21  # face weights tried: 0, 0.05, ..., 1
    monitor: str = "macro_f1"  # the validation score that picks the weight


@dataclass(frozen=True)
class XAttnRecipe(WindowsRecipe):
    network: XAttnOptions = XAttnOptions()
    train: TrainOptions = TrainOptions(epochs=60, batch_size=64, learning_rate=5e-4, lr_patience=3,
                                       early_stopping=10, monitor="macro_f1", time_limit_min=30)


@dataclass(frozen=True)
class LtRecipe(WindowsRecipe):
    network: IntermediateOptions = IntermediateOptions(fusion="late_transformer")
    train: TrainOptions = TrainOptions(epochs=25, batch_size=32, learning_rate=1e-3, lr_patience=2,
                                       early_stopping=6, monitor="macro_f1", time_limit_min=40,
                                       mixed_precision=True)
    # from scratch: every speaker and subject not held out trains (no encoder to keep apart
    # from), with one partner face sequence per clip and epoch to fit the CPU budget
    train_speakers: tuple[str, ...] = ()
    train_partners: int | None = 1
    voice_transform: MfccTransform | None = None  # None: the voice model's MFCC map


@dataclass(frozen=True)
class ItRecipe(LtRecipe):
    network: IntermediateOptions = IntermediateOptions(fusion="intermediate_transformer")


@dataclass(frozen=True)
class IaRecipe(LtRecipe):
    network: IntermediateOptions = IntermediateOptions(fusion="intermediate_attention")


@dataclass(frozen=True)
class C3dRecipe(WindowsRecipe):
    network: C3dOptions = C3dOptions()
    train: TrainOptions = TrainOptions(epochs=20, batch_size=16, learning_rate=1e-3, lr_patience=2,
                                       early_stopping=5, monitor="macro_f1", time_limit_min=50,
                                       mixed_precision=True)
    # from scratch: every speaker and subject not held out trains (no encoder to keep apart
    # from), with one partner face sequence per clip and epoch to fit the CPU budget
    train_speakers: tuple[str, ...] = ()
    train_partners: int | None = 1
    # the reference design's 40 MFCCs x 44 frames: 4 s at a hop of 1456 samples (with deltas as
    # channels, as the voice model's map)
    voice_transform: MfccTransform | None = MfccTransform(n_mfcc=40, hop_length=1456)


SEARCH_SPACES = {
    "xattn_fusion": {
        "network.width": ("choice", [64, 128, 256]),
        "network.audio_tokens": ("choice", [1, 4, 8]),
        "network.dropout": ("uniform", 0.1, 0.4),
        "network.modality_dropout": ("uniform", 0.0, 0.5),
        "train.learning_rate": ("loguniform", 1e-4, 2e-3),
    },
    "lt_fusion": {
        "network.width": ("choice", [32, 64, 128]),
        "network.heads": ("choice", [1, 2, 4]),
        "network.dropout_mode": ("choice", ["softhard", "noise", "nodropout"]),
        "network.modality_dropout": ("uniform", 0.0, 0.4),
        "train.learning_rate": ("loguniform", 3e-4, 3e-3),
    },
    "c3d_fusion": {
        "network.dense_units": ("choice", [128, 256, 512]),
        "network.dropout": ("uniform", 0.2, 0.5),
        "train.learning_rate": ("loguniform", 3e-4, 3e-3),
    },
}
SEARCH_SPACES["it_fusion"] = SEARCH_SPACES["ia_fusion"] = SEARCH_SPACES["lt_fusion"]
