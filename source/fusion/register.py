"""Late fusion (and ``auto``, the fusion best on real video) and the combined model in the model
registry (names only: the rule, the model and its commands are imported when used), and what
``run.py tune --model combined`` searches."""

from ..registry import ModelEntry, ShippedWeights, TrainingCommands, register_alias, register_model

SEARCH_SPACE = {
    "fusion.lstm_units": ("choice", [64, 128, 256]),
    "fusion.dense_units": ("choice", [64, 128, 256]),
    "fusion.dense_layers": ("choice", [1, 2, 3]),
    "fusion.dropout": ("uniform", 0.1, 0.5),
    "fusion.modality_dropout": ("uniform", 0.0, 0.5),
    "frame_dropout": ("uniform", 0.0, 0.3),
    "partners": ("choice", [2, 4, 8]),
    "train.learning_rate": ("loguniform", 1e-4, 3e-3),
    "train.batch_size": ("choice", [32, 64, 128]),
}

register_model(ModelEntry(
    name="late",
    branch="fusion",
    description="late: the mean of the branches present, weighted by their reliability and the words' "
                "emotional evidence; windows whose branches disagree weakly are marked uncertain (a fixed rule)",
    loader="source.fusion.late:LateFusion.load",
    rule=True,
))
# auto: the fusion that did best on real media (docs/results/real_media_pairs-2026-12-05.md: face
# videos with the voices of unseen actors; real_video-2026-12-05.md), where it reads what it learned
# from (analysis.pipeline.auto_uses_its_model); late fusion elsewhere
register_alias("auto", "late_fusion")

register_model(ModelEntry(
    name="combined",
    branch="fusion",
    description="combined: voice and face embeddings and the words of each window, fused (CNN+LSTM)",
    loader="source.fusion.model:CombinedModel.load",
    weights=ShippedWeights("combined/combined.pt", "450eb43b9798948efda80c95ce3e4275deaa3303872da40b2ee9cc8d6743f243"),
    commands=TrainingCommands(
        recipe="source.fusion.train:CombinedRecipe", unit="window", out="combined.pt",
        train="source.fusion.train:train_combined", evaluate="source.fusion.train:evaluate_combined",
        selects="part", prepare="source.fusion.train:prepare_combined", search_space=SEARCH_SPACE,
    ).commands(),
))
