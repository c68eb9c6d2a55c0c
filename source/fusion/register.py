"""The combined model in the model registry (names only: the model and its commands are imported
when used), and what ``run.py tune --model combined`` searches."""

from ..registry import ModelEntry, TrainingCommands, register_model

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
    name="combined",
    branch="fusion",
    description="combined: voice and face embeddings and the words of each window, fused (CNN+LSTM)",
    load="source.fusion.model:CombinedModel.load",
    commands=TrainingCommands(
        recipe="source.fusion.train:CombinedRecipe", unit="window", out="combined.pt",
        train="source.fusion.train:train_combined", evaluate="source.fusion.train:evaluate_combined",
        selects="part", prepare="source.fusion.train:prepare_combined", search_space=SEARCH_SPACE,
    ).commands(),
))
