"""The voice models in the model registry (names only: the models and their commands are imported
when used), and what ``run.py tune --model audio`` searches."""

from ..options import AnalysisOptions
from ..registry import ModelEntry, TrainingCommands, register_alias, register_model
from ..tuning.space import cnn_head_space

# --model voice: whichever voice model the analysis uses by default
register_alias("voice", AnalysisOptions.voice_model)

# what tune searches for the MFCC model (see ``tuning.space`` for the range kinds); only
# mobilenet_v2 has offline ImageNet weights, so the others start from scratch
SEARCH_SPACE = {
    "backbone": ("choice", [{"backbone": "resnet18", "imagenet": False},
                            {"backbone": "mobilenet_v2", "imagenet": True},
                            {"backbone": "shufflenet_v2_x1_0", "imagenet": False},
                            {"backbone": "squeezenet1_1", "imagenet": False}]),
    **cnn_head_space([16, 32, 64]),
    "transform.n_fft": ("choice", [512, 1024, 2048]),
    "transform.hop_length": ("choice", [256, 512]),
    "transform.n_mfcc": ("choice", [13, 20, 40]),
}

register_model(ModelEntry(
    name="audio",
    branch="audio",
    description="voice: MFCC CNN over 4 s windows, calibrated probabilities of 7 emotions",
    load="source.audio.model:VoiceModel.load",
    commands=TrainingCommands(
        recipe="source.audio.train:VoiceRecipe", unit="clip", out="voice_{recipe.backbone}.pt",
        train="source.audio.train:train_voice", evaluate="source.audio.train:evaluate_voice", selects="speakers",
        prepare="source.audio.train:prepare_voice", ensemble="source.audio.train:ensemble_voice",
        ensemble_out="voice_ensemble.pt", search_space=SEARCH_SPACE,
    ).commands(predict="source.cli.audio:predict"),
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
