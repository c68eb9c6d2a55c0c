"""The research fusion families, as the registry and the command line see them: what each is
called, reads and does, with its recipe and network named by import path, so that reading this
table (``run.py --help``, the menu) imports no torch."""

from dataclasses import dataclass

from ...options import WindowOptions
from ...registry import resolve


@dataclass(frozen=True)
class Family:
    name: str  # --model NAME, and the kind of its weights files
    title: str  # the model card's title
    description: str  # one line, for model lists
    about: str  # the card's paragraph on the design
    # "module:Class" in this package, imported when used (the registry reads families without torch):
    recipe_class: str  # a WindowsRecipe with ``network`` (the network's options) and ``train``
    network_class: str  # nn.Module: (n_classes, options), ``config()``, ``from_config(config)``
    inputs: str  # "encoded": the frozen voice and face models' embeddings; "raw": crops and MFCCs
    windows: WindowOptions = WindowOptions()  # how ``predict`` cuts long media
    shipped_sha256: str | None = None  # of models/<name>/<name>.pt; None: ships untrained
    tried: str = ""  # for one that ships untrained: what training it here measured, and why it is not shipped
    # "module:function" in this package: how it trains (``family:train_family``: the epoch trainer)
    trainer: str = "family:train_family"

    @property
    def recipe(self) -> type:
        return resolve(f"{__package__}.{self.recipe_class}")

    @property
    def network(self) -> type:
        return resolve(f"{__package__}.{self.network_class}")

    @property
    def train_command(self) -> str:
        return f"python run.py train --model {self.name} --data ../shared/data"

    @property
    def reads(self) -> str:
        return ("the frozen voice and face models' embeddings (checked by sha256 on load)" if self.inputs == "encoded"
                else "face crops and MFCCs, through encoders it learns itself")

    def untrained_card(self) -> str:
        """``models/<name>/MODEL_CARD.md`` of a family that ships untrained."""
        return "\n".join([
            f"# {self.title}", "", f"**Ships untrained**: the studio holds no weights for `{self.name}`, and "
            "`predict` refuses to run it rather than guess. Train it (and pass the file it writes with "
            "`--weights`):", "", "```", self.train_command, "```", "",
            f"It reads {self.reads}.", "", self.about, "", *([self.tried, ""] if self.tried else []),
            "It trains and is tested on the combined model's paired windows (the same split and test windows; "
            "see models/combined/MODEL_CARD.md); `train` writes this card again with the data, split, "
            "metrics and confusion matrix of the run.", ""])


# 3.6 s windows every second, as the reference design slides them over long media
SLIDING = WindowOptions(window_s=3.6, hop_s=1.0)
_INTERMEDIATE = ("A 2D CNN reads each of 15 face frames (the face model's 64x64 grayscale crops), 1D "
                 "temporal convolutions run over the frame features; a 1D CNN reads the MFCC frames (MFCCs "
                 "and deltas as 39 channels). {how} Modality dropout mode: softhard (a window loses one "
                 "modality, or gets ordinary dropout), noise or nodropout (`--set network.dropout_mode=`). "
                 "predict slides a 3.6 s window by 1 s.")



def _tried(run: str, validation: str, test: str) -> str:
    """The card's account of a family trained here and not shipped."""
    return (f"**Trained here, not shipped** (2026-11-22, 2 CPU cores): {run}. Accuracy / macro-F1: "
            f"validation {validation}, test {test} on the combined model's 520 test windows: below the face "
            "model alone (0.644 / 0.646) and the voice model alone (0.517 / 0.486) on the same windows. It "
            "learns its encoders from about 1,000 training windows per epoch (17 RAVDESS speakers, one drawn "
            "face sequence per clip), where the frozen models learned from all of FER2013 and 14 speakers.")


LATE_FUSION = Family(
    "late_fusion", "Weighted late fusion of the voice and face models",
    "late fusion: the voice and face models' probabilities, weighted (weights tuned on validation)",
    "A weighted mean of the voice and face models' calibrated probabilities (the face's: the mean "
    "over the frames with a face); the face's weight is chosen on the validation windows, then a "
    "temperature is fitted there. A window with one branch gets that branch's probabilities.",
    "recipes:LateFusionRecipe", "late_fusion:WeightedLateNet", "encoded",
    trainer="late_fusion:train_late_fusion",
    shipped_sha256="8547f8e0abcf0fc70e7267fb0c466347b1ebd257d3c727ecc8823721e2544154")
XATTN_FUSION = Family(
    "xattn_fusion", "Cross-modal attention fusion: face-frame tokens attend to the voice",
    "cross-modal attention: face-frame tokens attend to the voice embedding (transformer)",
    "The face model's embedding of each of the 16 frames becomes a token (with a position), the "
    "voice model's embedding becomes audio tokens; a class token and the frame tokens attend to "
    "the audio tokens, then to each other (pre-LN transformer layer); the class token is "
    "classified. Both encoders are frozen.", "recipes:XAttnRecipe", "xattn:XAttnNet", "encoded",
    shipped_sha256="bd2cac708d4047fbac56f6e8fa88f10e49d3ce9d2a787a84497b4619ecafb96a")
LT_FUSION = Family(
    "lt_fusion", "Late transformer fusion of a face-frame CNN and an MFCC CNN",
    "late transformer fusion: 2D+1D CNN on 15 face frames, 1D CNN on MFCCs, cross-attention after both",
    _INTERMEDIATE.format(how="After both branches, each modality's sequence attends to the other's "
                         "(cross-attention), then both are pooled and concatenated."),
    "recipes:LtRecipe", "intermediate:IntermediateNet", "raw", SLIDING,
    tried=_tried("14 minutes, 12 epochs (`--set train.time_limit_min=14`, before mixed precision)",
                 "0.404 / 0.373", "0.469 / 0.459"))
IT_FUSION = Family(
    "it_fusion", "Intermediate transformer fusion of a face-frame CNN and an MFCC CNN",
    "intermediate transformer fusion: cross-attention between the branches' two stages",
    _INTERMEDIATE.format(how="Between the first and second stage of each branch, each modality's "
                         "sequence attends to the other's (cross-attention), so the second stages "
                         "see both."), "recipes:ItRecipe", "intermediate:IntermediateNet", "raw", SLIDING,
    tried=_tried("13 minutes, 20 epochs (early stopping, best 14; `--set train.time_limit_min=15`)",
                 "0.469 / 0.439", "0.462 / 0.455"))
IA_FUSION = Family(
    "ia_fusion", "Intermediate attention fusion of a face-frame CNN and an MFCC CNN",
    "intermediate attention fusion: each modality re-weights the other's time steps",
    _INTERMEDIATE.format(how="Between the stages, the attention each modality pays to the other's "
                         "time steps re-weights those steps; features are not mixed across "
                         "modalities."), "recipes:IaRecipe", "intermediate:IntermediateNet", "raw", SLIDING,
    tried=_tried("14 minutes, 18 epochs (early stopping, best 12; `--set train.time_limit_min=15`)",
                 "0.444 / 0.432", "0.477 / 0.485"))
C3D_FUSION = Family(
    "c3d_fusion", "3D CNN fusion: a 3D CNN over face frames and a 2D CNN over the MFCC map",
    "3D CNN fusion: 20 face frames at 112x112 (3D CNN) and a 40x44 MFCC map (2D CNN), concatenated",
    "20 face frames (from the window's 16, evenly spaced) scaled to 112x112 go through four 3D "
    "convolution blocks, the MFCC map (40 coefficients x 44 frames over the 4 s window, with deltas "
    "as 3 channels) through three 2D blocks; "
    "the pooled features are concatenated into two dense layers.", "recipes:C3dRecipe", "c3d:C3dNet", "raw",
    tried=_tried("20 minutes, 9 epochs (early stopping, best 4; `--set train.time_limit_min=25`); its "
                 "validation accuracy swung between 0.19 and 0.46 from epoch to epoch",
                 "0.458 / 0.376", "0.360 / 0.286"))

WINDOW_FAMILIES = (LATE_FUSION, XATTN_FUSION, LT_FUSION, IT_FUSION, IA_FUSION, C3D_FUSION)

# what ``tune --model NAME`` searches; a family without a space has no tune command
SEARCH_SPACES = {
    "xattn_fusion": {
        "network.width": ("choice", [64, 128, 256]),
        "network.audio_tokens": ("choice", [1, 4, 8]),
        "network.dropout": ("uniform", 0.1, 0.4),
        "network.modality_dropout": ("uniform", 0.0, 0.5),
        "train.learning_rate": ("loguniform", 1e-4, 2e-3),
    },
    "lt_fusion": {
        "network.width": ("choice", [32, 64, 128]),
        "network.heads": ("choice", [1, 2, 4]),
        "network.dropout_mode": ("choice", ["softhard", "noise", "nodropout"]),
        "network.modality_dropout": ("uniform", 0.0, 0.4),
        "train.learning_rate": ("loguniform", 3e-4, 3e-3),
    },
    "c3d_fusion": {
        "network.dense_units": ("choice", [128, 256, 512]),
        "network.dropout": ("uniform", 0.2, 0.5),
        "train.learning_rate": ("loguniform", 3e-4, 3e-3),
    },
}
SEARCH_SPACES["it_fusion"] = SEARCH_SPACES["ia_fusion"] = SEARCH_SPACES["lt_fusion"]
