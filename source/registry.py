"""Named emotion models: ``register_model`` / ``get_model`` / ``list_models``.

As with torchvision's weights, an entry brings everything needed to use it: how to build
the network, its weights file, its preprocessing transform and its label list, so nothing
is configured twice. Each model family registers itself in its ``register`` module; those
are imported (all of them, once) the first time the registry is read.
"""

import importlib

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
_FAMILIES = ("source.audio.register", "source.face.register", "source.text.register",
             "source.fusion.register", "source.fusion.research.register")
_loaded = False


def _load_families() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _FAMILIES:
            importlib.import_module(module)


def register_model(entry: ModelEntry) -> ModelEntry:
    if entry.name in _MODELS:
        raise ValueError(f"model {entry.name!r} is registered twice")
    _MODELS[entry.name] = entry
    return entry


def list_models() -> list[ModelEntry]:
    _load_families()
    return sorted(_MODELS.values(), key=lambda e: e.name)


def get_model(name: str) -> ModelEntry:
    _load_families()
    if name not in _MODELS:
        known = ", ".join(e.name for e in list_models()) or "none in this version"
        raise StudioError(f"There is no model named {name!r}. Available models: {known}.")
    return _MODELS[name]
