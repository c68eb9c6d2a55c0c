"""The research families' recipes: hyperparameters and data, apart from their code.

Every recipe is a ``WindowsRecipe``: the combined model's paired windows, split the same way, so
every family is tested on the same windows. The families over the frozen models' embeddings train
on the same speakers as the combined model (data the encoders never trained on); the families that
learn their own encoders from pixels and MFCCs train on every speaker and subject not held out.
"""

from dataclasses import dataclass

from ...training.trainer import TrainOptions
from ...voice.features import MfccTransform
from ..windows import WindowsRecipe
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
    # from scratch: everyone not held out trains (no encoder to keep apart
    # from), with one partner face sequence per clip and epoch to fit the CPU budget
    train_people: tuple[str, ...] = ()
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
    # from scratch: everyone not held out trains (no encoder to keep apart
    # from), with one partner face sequence per clip and epoch to fit the CPU budget
    train_people: tuple[str, ...] = ()
    train_partners: int | None = 1
    # the reference design's 40 MFCCs x 44 frames: 4 s at a hop of 1456 samples (with deltas as
    # channels, as the voice model's map)
    voice_transform: MfccTransform | None = MfccTransform(n_mfcc=40, hop_length=1456)

