"""The text model in the model registry."""

from ..registry import ModelEntry, ShippedWeights, register_model

register_model(ModelEntry(
    name="text",
    branch="text",
    description="words: Whisper transcript with word timestamps, a trained text-emotion model "
                "(calibrated probabilities of 7 emotions and the words' emotional evidence), TextBlob "
                "polarity and subjectivity and 7 lexicon emotion scores",
    loader="source.text.model:load",
    # the text-emotion model's arrays; spaCy, the lexicon and TextBlob come from packages and assets
    weights=ShippedWeights("text/text_emotion.npz", "01279bf16b57101f2c218a4f084c860dd2c2e0ab796492d9a2ccfd66fb0c36c6"),
    commands={"predict": "source.cli.text:predict",  # import paths: imported when the command runs
              "train": "source.cli.text:train", "evaluate": "source.cli.text:evaluate"},
))
