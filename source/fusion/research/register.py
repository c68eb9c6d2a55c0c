"""The research fusion families in the model registry."""

from functools import partial

from ...cli.research import family_commands, image_vit_commands
from ...registry import ModelEntry, register_model
from .families import WINDOW_FAMILIES
from .family import FamilyModel
from .image_vit import ImageVitModel
from .recipes import SEARCH_SPACES

for family in WINDOW_FAMILIES:
    register_model(ModelEntry(name=family.name, branch="fusion", description=family.description,
                              load=partial(FamilyModel.load, family),
                              commands=family_commands(family, SEARCH_SPACES.get(family.name))))

register_model(ModelEntry(name="image_vit", branch="face",
                          description="face: ResNet-50 feature maps + transformer encoder (ResNet+ViT hybrid)",
                          load=ImageVitModel.load, commands=image_vit_commands()))
