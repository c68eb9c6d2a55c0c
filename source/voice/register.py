"""The voice models in the model registry (names only: the models and their commands are imported
when used), and what ``run.py tune --model voice_mfcc`` searches."""

from ..options import AnalysisOptions
from ..registry import ModelEntry, ShippedWeights, TrainingCommands, register_alias, register_model
from ..tuning.space import cnn_head_space

# --model voice: whichever voice model the analysis uses by default
register_alias("voice", AnalysisOptions.voice_model)
# the MFCC model's name until 2026-12-05 (commands in older cards, fusion files that name it)
register_alias("audio", "voice_mfcc")

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
    name="voice_mfcc",
    branch="voice",
    description="voice: MFCC CNN over 4 s windows, calibrated probabilities of 7 emotions",
    loader="source.voice.model:VoiceModel.load",
    weights=ShippedWeights("voice_mfcc/voice_ensemble.pt",
                           "b21c402fb7140a43171b5a35753dc845d1ea078c8b9469c7926de989f0efbf46"),
    commands=TrainingCommands(
        recipe="source.voice.train:VoiceRecipe", unit="clip", out="voice_{recipe.backbone}.pt",
        train="source.voice.train:train_voice", evaluate="source.voice.train:evaluate_voice", selects="speakers",
        prepare="source.voice.train:prepare_voice", ensemble="source.voice.train:ensemble_voice",
        ensemble_out="voice_ensemble.pt", search_space=SEARCH_SPACE,
    ).commands(predict="source.cli.voice:predict"),
))

register_model(ModelEntry(
    name="voice_whisper",
    branch="voice",
    description="voice: Whisper-base encoder states of every layer, learned layer weights and a small head; "
                "trained on RAVDESS and TurEV-DB, calibrated probabilities of 7 emotions",
    loader="source.voice.whisper_voice:WhisperVoiceModel.load",
    weights=ShippedWeights("voice_whisper/voice_whisper.pt",
                           "00fa9aab99ab5a8c636430932be28b9126093f4840eb59c76cdf21bd0a37bc90"),
    commands={name: f"source.cli.voice_whisper:{name}" for name in ("predict", "train", "evaluate")},
))

register_model(ModelEntry(
    name="voice_whisper_shared",
    branch="voice",
    description="voice: the output of the words branch's Whisper tiny.en encoder (the same pass, in analyze) and a "
                "small head; trained on RAVDESS and TurEV-DB, calibrated probabilities of 7 emotions",
    loader="source.voice.whisper_voice:SharedWhisperVoiceModel.load",
    weights=ShippedWeights("voice_whisper_shared/voice_whisper_shared.pt",
                           "72b589b2a155f063cc53c673d7bdebc00973d0d290474a23c98aeb39334895df"),
    commands={name: f"source.cli.voice_whisper:{name}" for name in ("predict", "train", "evaluate")},
))
