"""Recipes: a model's training hyperparameters and data choices as JSON, apart from its code.

A recipe is a frozen dataclass tree. ``--recipe FILE`` loads one, ``--set a.b=VALUE`` overrides
single fields (VALUE is JSON, or a bare string), and the recipe used is saved with the weights.
"""

import dataclasses
import json
import typing
from pathlib import Path

from ..errors import StudioError


def recipe_to_dict(recipe) -> dict:
    return dataclasses.asdict(recipe)


def current_keys(cls, values: dict) -> dict:
    """``values`` with the settings ``cls`` renamed (its ``FORMER_KEYS``: former name -> current one)
    under their current names; former list settings that became one are joined, in order."""
    former = getattr(cls, "FORMER_KEYS", {})
    if not any(key in values for key in former):
        return values
    values = dict(values)
    for old, new in former.items():
        if old in values:
            values[new] = [*values.get(new, ()), *values.pop(old)]
    return values


def recipe_from_dict(cls, values: dict):
    """Build dataclass ``cls`` from ``values``, nested dataclasses included; unknown keys are errors;
    settings saved under a former name are read under the current one (``current_keys``)."""
    values = current_keys(cls, values)
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - names
    if unknown:
        raise StudioError(f"Unknown recipe setting(s) for {cls.__name__}: {', '.join(sorted(unknown))}. "
                          f"Known: {', '.join(sorted(names))}.")
    built = {}
    for name, value in values.items():
        kind = _dataclass_in(hints[name])
        if kind is not None and isinstance(value, dict):
            value = recipe_from_dict(kind, value)
        elif isinstance(value, list):
            value = tuple(value)
        built[name] = value
    try:
        return cls(**built)
    except (TypeError, ValueError) as error:
        raise StudioError(f"Invalid recipe for {cls.__name__}: {error}") from error


def _dataclass_in(hint):
    """The dataclass type in ``hint`` (``X`` or ``X | None``), else None."""
    for candidate in (hint, *typing.get_args(hint)):
        if dataclasses.is_dataclass(candidate):
            return candidate
    return None


def load_recipe(cls, path: str | Path | None = None, overrides: list[str] = ()):
    """The recipe in ``path`` (default: the dataclass defaults) with ``KEY=VALUE`` overrides."""
    values = recipe_to_dict(cls())
    if path is not None:
        try:
            values = _merge(values, current_keys(cls, json.loads(Path(path).read_text())))
        except (OSError, json.JSONDecodeError) as error:
            raise StudioError(f"Cannot read the recipe {path}: {error}") from error
    for override in overrides:
        key, sep, raw = override.partition("=")
        if not sep:
            raise StudioError(f"--set needs KEY=VALUE, got {override!r}.")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw  # a bare word such as mobilenet_v2
        target = values
        *parents, last = key.strip().split(".")
        for part in parents:
            if not isinstance(target.get(part), dict):
                raise StudioError(f"--set {key}: {part!r} is not a group of settings.")
            target = target[part]
        if last not in target:
            raise StudioError(f"--set {key}: no setting {last!r}; known: {', '.join(sorted(target))}.")
        if isinstance(target[last], (list, tuple)) and isinstance(value, str):  # a list setting: comma-separated
            value = [item.strip() for item in value.split(",") if item.strip()]
        target[last] = value
    return recipe_from_dict(cls, values)


def _merge(base: dict, update: dict) -> dict:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value)
        else:
            merged[key] = value
    return merged
