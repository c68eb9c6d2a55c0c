"""The research fusion families in the model registry (names only: the models and their commands
are imported when used)."""

from functools import partial

from ...registry import ModelEntry, ShippedWeights, TrainingCommands, lazy, register_model
from .families import SEARCH_SPACES, WINDOW_FAMILIES

for family in WINDOW_FAMILIES:
    training = TrainingCommands(
        recipe=f"{__package__}.{family.recipe_class}", unit="window", out=f"{family.name}.pt",
        train=f"{__package__}.{family.trainer}", evaluate=f"{__package__}.family:evaluate_family", selects="part",
        prepare=f"{__package__}.family:prepare_family", search_space=SEARCH_SPACES.get(family.name), bound=(family,))
    register_model(ModelEntry(
        name=family.name, branch="fusion", description=family.description,
        weights=(ShippedWeights(f"{family.name}/{family.name}.pt", family.shipped_sha256)
                 if family.shipped_sha256 else None),
        loader=partial(lazy("source.fusion.research.family:FamilyModel.load"), family),
        commands=training.commands(predict="source.cli.research:predict")))

register_model(ModelEntry(
    name="image_vit", branch="face",
    description="face: ResNet-50 feature maps + transformer encoder (ResNet+ViT hybrid)",
    loader="source.fusion.research.image_vit:ImageVitModel.load",  # ships untrained
    commands=TrainingCommands(
        recipe="source.fusion.research.image_vit:ImageVitRecipe", unit="image", out="image_vit.pt",
        train="source.fusion.research.image_vit:train_image_vit",
        evaluate="source.fusion.research.image_vit:evaluate_image_vit",
    ).commands(predict="source.cli.research:predict_image_vit")))
