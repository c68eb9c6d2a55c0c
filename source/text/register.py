"""The text model in the model registry."""

from ..registry import ModelEntry, register_model

register_model(ModelEntry(
    name="text",
    branch="text",
    description="words: Whisper transcript with word timestamps, a trained text-emotion model "
                "(calibrated probabilities of 7 emotions and the words' emotional evidence), TextBlob "
                "polarity and subjectivity and 7 lexicon emotion scores",
    load="source.text.model:load",
    commands={"predict": "source.cli.text:predict",  # import paths: imported when the command runs
              "train": "source.cli.text:train", "evaluate": "source.cli.text:evaluate"},
))
