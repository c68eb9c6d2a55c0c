"""The face model in the model registry (names only: the model and its commands are imported when used)."""

from ..registry import Commands, ModelEntry, register_model

register_model(ModelEntry(
    name="face",
    branch="face",
    description="face: CNN on aligned grayscale face crops, calibrated probabilities of 7 emotions",
    load="source.face.model:FaceModel.load",
    commands=Commands(("predict", "preprocess", "tune", "train", "ensemble", "evaluate"), "source.cli.face"),
))
