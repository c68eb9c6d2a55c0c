"""The research fusion families in the model registry (names only: the models and their commands
are imported when used)."""

from functools import partial

from ...registry import Commands, ModelEntry, lazy, register_model
from .families import SEARCH_SPACES, WINDOW_FAMILIES

for family in WINDOW_FAMILIES:
    search_space = SEARCH_SPACES.get(family.name)
    register_model(ModelEntry(
        name=family.name, branch="fusion", description=family.description,
        ships_trained=family.shipped_sha256 is not None,
        load=partial(lazy("source.fusion.research.family:FamilyModel.load"), family),
        commands=Commands(("preprocess", "train", "evaluate", "predict", *(("tune",) if search_space else ())),
                          partial(lazy("source.cli.research:family_commands"), family, search_space))))

register_model(ModelEntry(name="image_vit", branch="face",
                          description="face: ResNet-50 feature maps + transformer encoder (ResNet+ViT hybrid)",
                          load="source.fusion.research.image_vit:ImageVitModel.load", ships_trained=False,
                          commands=Commands(("train", "evaluate", "predict"),
                                            lazy("source.cli.research:image_vit_commands"))))
