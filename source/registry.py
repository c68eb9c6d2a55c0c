"""Named emotion models: ``register_model`` / ``get_model`` / ``list_models``.

As with torchvision's weights, an entry brings everything needed to use it: how to build
the network, its weights file, its preprocessing transform and its label list, so nothing
is configured twice. Each model family registers itself when its module is imported.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .errors import StudioError


@dataclass(frozen=True)
class ModelEntry:
    name: str  # what users type: --model NAME
    branch: str  # "face", "audio", "text" or "fusion"
    description: str
    load: Callable  # () -> ready-to-use model carrying its transform and labels
    # CLI work this model supports: "predict", "train", ... -> handler(args) -> exit code
    commands: Mapping[str, Callable] = field(default_factory=dict)


_MODELS: dict[str, ModelEntry] = {}


def register_model(entry: ModelEntry) -> ModelEntry:
    if entry.name in _MODELS:
        raise ValueError(f"model {entry.name!r} is registered twice")
    _MODELS[entry.name] = entry
    return entry


def list_models() -> list[ModelEntry]:
    return sorted(_MODELS.values(), key=lambda e: e.name)


def get_model(name: str) -> ModelEntry:
    if name not in _MODELS:
        known = ", ".join(e.name for e in list_models()) or "none in this version"
        raise StudioError(f"There is no model named {name!r}. Available models: {known}.")
    return _MODELS[name]
