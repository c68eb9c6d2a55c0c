"""The combined model in the model registry."""

from ..cli import combined as commands
from ..registry import ModelEntry, register_model
from .model import CombinedModel

register_model(ModelEntry(
    name="combined",
    branch="fusion",
    description="combined: voice and face embeddings and the words of each window, fused (CNN+LSTM)",
    load=CombinedModel.load,
    commands={"preprocess": commands.preprocess, "tune": commands.tune, "train": commands.train,
              "evaluate": commands.evaluate},
))
