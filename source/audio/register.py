"""The voice model in the model registry."""

from ..cli import audio as commands
from ..registry import ModelEntry, register_model
from .model import VoiceModel

register_model(ModelEntry(
    name="audio",
    branch="audio",
    description="voice: MFCC CNN over 4 s windows, calibrated probabilities of 7 emotions",
    load=VoiceModel.load,
    commands={"predict": commands.predict, "preprocess": commands.preprocess, "tune": commands.tune,
              "train": commands.train, "ensemble": commands.ensemble, "evaluate": commands.evaluate},
))
