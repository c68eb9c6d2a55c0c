"""The voice model in the model registry."""

from ..options import AnalysisOptions
from ..registry import ModelEntry, register_alias, register_model

# --model voice: whichever voice model the analysis uses by default
register_alias("voice", AnalysisOptions.voice_model)

register_model(ModelEntry(
    name="audio",
    branch="audio",
    description="voice: MFCC CNN over 4 s windows, calibrated probabilities of 7 emotions",
    load="source.audio.model:VoiceModel.load",
    commands={name: f"source.cli.audio:{name}"  # import paths: imported when the command runs
              for name in ("predict", "preprocess", "tune", "train", "ensemble", "evaluate")},
))

register_model(ModelEntry(
    name="voice_whisper",
    branch="audio",
    description="voice: Whisper-base encoder states of every layer, learned layer weights and a small head; "
                "trained on RAVDESS and TurEV-DB, calibrated probabilities of 7 emotions",
    load="source.audio.whisper_voice:WhisperVoiceModel.load",
    commands={name: f"source.cli.voice_whisper:{name}" for name in ("predict", "train", "evaluate")},
))

register_model(ModelEntry(
    name="voice_whisper_shared",
    branch="audio",
    description="voice: the output of the words branch's Whisper tiny.en encoder (the same pass, in analyze) and a "
                "small head; trained on RAVDESS and TurEV-DB, calibrated probabilities of 7 emotions",
    load="source.audio.whisper_voice:SharedWhisperVoiceModel.load",
    commands={name: f"source.cli.voice_whisper:{name}" for name in ("predict", "train", "evaluate")},
))
