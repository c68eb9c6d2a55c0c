"""The text model in the model registry."""

from ..registry import ModelEntry, register_model
from .model import load, predict

register_model(ModelEntry(
    name="text",
    branch="text",
    description="words: Whisper transcript with word timestamps, and text-emotion features "
                "(TextBlob polarity and subjectivity, 7 lexicon emotion scores)",
    load=load,
    commands={"predict": predict},
))
