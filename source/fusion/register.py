"""The combined model in the model registry (names only: the model and its commands are imported when used)."""

from ..registry import Commands, ModelEntry, register_model

register_model(ModelEntry(
    name="combined",
    branch="fusion",
    description="combined: voice and face embeddings and the words of each window, fused (CNN+LSTM)",
    load="source.fusion.model:CombinedModel.load",
    commands=Commands(("preprocess", "tune", "train", "evaluate"), "source.cli.combined"),
))
