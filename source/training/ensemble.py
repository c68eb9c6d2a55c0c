"""Joining trained models of one kind into an ensemble (``run.py ensemble``): the checks every
kind shares, the ensemble as a training of the one flow (:class:`EnsembleTraining`: no fit of its
own, a temperature), the members' record in its metrics and their lines in its card. Each kind
scores the members' own validation and test data its own way (voice: speakers; face: the
dataset's splits)."""

from pathlib import Path

from ..emotion_model import EmotionModel
from ..errors import StudioError
from ..nets import EnsembleNet
from ..weights import load_weights
from .flow import Fitted, Training


def load_members(paths: list[Path], model_class: type[EmotionModel], input_name: str,
                 split_name: str) -> tuple[list[dict], list[EmotionModel]]:
    """The members' saved files and models, refused unless they are two or more different single
    networks with the same transform (``input_name`` in errors), labels and split."""
    if len(paths) < 2:
        raise StudioError("An ensemble needs two or more member weights files.")
    saved = [load_weights(path, model_class.KIND) for path in paths]
    if len({s["sha256"] for s in saved}) < len(saved):
        raise StudioError("The same weights file is given twice: an ensemble's members must differ.")
    models = [model_class.from_saved(s) for s in saved]
    for path, model in zip(paths, models):
        if isinstance(model.network, EnsembleNet):
            raise StudioError(f"{path} is an ensemble already: give its members' files instead.")
    first = models[0]
    for path, model in zip(paths[1:], models[1:]):
        for what, mine, theirs in ((input_name, model.transform, first.transform),
                                   ("label set", model.label_set.name, first.label_set.name),
                                   (split_name, model.metrics.get("split"), first.metrics.get("split"))):
            if mine != theirs:
                raise StudioError(f"{path} has another {what} than {paths[0]} ({mine} against "
                                  f"{theirs}): members must be trained on the same inputs, labels and split.")
    return saved, models


def ensemble_network(models: list[EmotionModel]) -> EnsembleNet:
    """The members' networks as one, each calibrated by its own temperature."""
    return EnsembleNet([m.network for m in models], [m.temperature for m in models])


def member_records(paths: list[Path], saved: list[dict], models: list[EmotionModel]) -> list[dict]:
    """What the ensemble's metrics say of each member: file, checksum, network, temperature, the
    command that trained it and its own accuracy on validation and test."""
    return [{"file": str(path), "sha256": s["sha256"], "network": m.network.backbone_name,
             "temperature": m.temperature, "command": s.get("command", ""),
             **{f"{part}_accuracy": m.metrics[part]["accuracy"]
                for part in ("validation", "test") if part in m.metrics}}
            for path, s, m in zip(paths, saved, models)]


# ``run.py ensemble`` fits only a temperature: the recipes are the members'
MEMBER_RECIPES = ("Recipes (hyperparameters and split): each member's own, stored in its weights file "
                  "and written beside it as `recipe.json`; the ensemble has none of its own.")


def training_note(n_members: int, what: str) -> str:
    return (f"Training: none of its own; it averages the calibrated probabilities of {n_members} "
            f"{what} trained apart on the same split (listed above).")


def member_lines(metrics: dict) -> list[str]:
    """The card's lines on the members (from ``member_records``)."""
    return ["Members (their probabilities, each calibrated by its own temperature, are averaged; "
            "the embedding for the combined model is theirs side by side):",
            *(f"- `{m['file']}` ({m['network']}, sha256 `{m['sha256'][:12]}…`, temperature "
              f"{m['temperature']:.3f}; alone: "
              + ", ".join(f"{part} {m[f'{part}_accuracy']:.3f}" for part in ("validation", "test")
                          if f"{part}_accuracy" in m)
              + f"), trained with `{m['command']}`"
              for m in metrics["members"])]


class EnsembleTraining(Training):
    """An ensemble as the training flow runs it: its "fit" joins the members (``load_members``)
    into one network, recorded in its metrics with the note that it trained nothing itself
    (``what``: the members, in that note), and its model is of the members' kind. A kind sets the
    rest of a :class:`Training`: its data's facts and scores, and its card."""

    def __init__(self, paths: list[Path], saved: list[dict], models: list[EmotionModel], what: str):
        self.paths, self.saved, self.models, self.what = paths, saved, models, what

    def fit(self, run_dir, fresh, on_epoch, log) -> Fitted:
        return Fitted(ensemble_network(self.models), {
            "members": member_records(self.paths, self.saved, self.models),
            "training_note": training_note(len(self.models), self.what)})

    def model(self, network, temperature: float) -> EmotionModel:
        """A model of the members' kind, transform and labels over the joined network."""
        first = self.models[0]
        return type(first)(network, first.transform, first.label_set, temperature)

    def about(self, out: Path, metrics: dict, input_name: str) -> list[str]:
        """The card's lines on the file, its input (``input_name``: the members' transform) and members."""
        first = self.models[0]
        return [f"File `{out.name}`, labels: {', '.join(first.labels)} ({first.label_set.name}).",
                f"Input: the {input_name} stored in the file: {first.transform.to_dict()}.", *member_lines(metrics)]
