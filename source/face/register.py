"""The face model in the model registry."""

from ..cli import face as commands
from ..registry import ModelEntry, register_model
from .model import FaceModel

register_model(ModelEntry(
    name="face",
    branch="face",
    description="face: CNN on aligned grayscale face crops, calibrated probabilities of 7 emotions",
    load=FaceModel.load,
    commands={"predict": commands.predict, "preprocess": commands.preprocess, "tune": commands.tune,
              "train": commands.train, "ensemble": commands.ensemble, "evaluate": commands.evaluate},
))
