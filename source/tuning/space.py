"""Search spaces as plain data, and sampled parameters as recipe settings.

A space maps a recipe setting ("head.units", "train.learning_rate") to a range:
``("choice", [values])``, ``("uniform", low, high)``, ``("loguniform", low, high)`` or
``("quniform", low, high, step)``. A choice among dicts sets several settings together (a
backbone and whether ImageNet weights exist for it). :data:`AUGMENT_STRENGTH` is the one name
that is no recipe setting: it scales every augmentation probability of the recipe's ``augment``
group (0: no augmentation, 1: the recipe's own).
"""

import json
import math
from collections.abc import Mapping

from ..errors import StudioError

AUGMENT_STRENGTH = "augment_strength"


def cnn_head_space(batch_sizes: list[int]) -> dict[str, tuple]:
    """What tune searches for a CNN family's head and training (the face and MFCC voice models):
    the head's shape, the learning rate, the batch size among ``batch_sizes`` and the augmentation."""
    return {
        "head.units": ("choice", [64, 128, 256, 512]),
        "head.layers": ("choice", [1, 2]),
        "head.dropout": ("uniform", 0.1, 0.5),
        "head.batch_norm": ("choice", [True, False]),
        "train.learning_rate": ("loguniform", 1e-4, 3e-3),
        "train.batch_size": ("choice", batch_sizes),
        AUGMENT_STRENGTH: ("uniform", 0.0, 1.5),
    }


def hyperopt_space(space: Mapping[str, tuple]) -> dict:
    """The Hyperopt expressions for ``space``, labelled by setting name."""
    from hyperopt import hp  # here, not at the top: the CLI's --help reads this package's names

    built = {}
    for name, (kind, *bounds) in space.items():
        if kind == "choice":
            built[name] = hp.choice(name, bounds[0])
        elif kind == "uniform":
            built[name] = hp.uniform(name, *bounds)
        elif kind == "loguniform":
            built[name] = hp.loguniform(name, math.log(bounds[0]), math.log(bounds[1]))
        elif kind == "quniform":
            built[name] = hp.quniform(name, *bounds)
        else:
            raise ValueError(f"unknown range kind {kind!r} for {name}")
    return built


def flat_parameters(sampled: Mapping) -> dict:
    """Sampled values as {setting: value}: a chosen dict contributes its own settings."""
    flat = {}
    for name, value in sampled.items():
        if isinstance(value, Mapping):
            flat.update(value)
        else:
            flat[name] = value.item() if hasattr(value, "item") else value  # numpy scalars
    return flat


def _is_probability(name: str) -> bool:
    return name == "p" or name.endswith("_p")


def recipe_settings(parameters: Mapping, base: Mapping) -> list[str]:
    """``parameters`` as ``KEY=JSON`` settings for ``load_recipe``; ``base`` is the recipe (as a
    dict) that :data:`AUGMENT_STRENGTH` scales."""
    settings = []
    for name, value in parameters.items():
        if name != AUGMENT_STRENGTH:
            settings.append(f"{name}={json.dumps(value)}")
            continue
        augment = base.get("augment")
        if augment is None:  # the recipe trains without augmentation: nothing to scale
            continue
        settings += [f"augment.{key}={json.dumps(round(min(1.0, own * value), 4))}"
                     for key, own in augment.items() if _is_probability(key)]
    return settings


def searched(space: Mapping[str, tuple], fixed: list[str]) -> dict:
    """``space`` without the settings fixed by ``--set KEY=VALUE``."""
    keys = {setting.partition("=")[0].strip() for setting in fixed}
    remaining = {name: values for name, values in space.items() if name not in keys}
    if not remaining:
        raise StudioError("Every searched setting is fixed by --set: nothing is left to tune.")
    return remaining
