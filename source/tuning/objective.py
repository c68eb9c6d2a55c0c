"""One trial of a search, shared by the engines (``local``, ``ray_engine``) and ``search``,
which drives them: what a family searches (:class:`Tunable`), the objective a trial runs, and
the line printed per trial. Kept apart from ``search`` so the engines never import it back."""

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..training.recipes import load_recipe, recipe_to_dict
from .space import flat_parameters, recipe_settings


@dataclass(frozen=True)
class Tunable:
    """What a model family searches: its recipe class, the ranges (see ``space``), and its
    train function ``train(data, recipe, out, run_dir, ...) -> metrics``."""

    model: str
    recipe: type
    space: Mapping[str, tuple]
    train: Callable


@dataclass(frozen=True)
class Objective:
    """One trial: parameters -> validation macro-F1. Plain data, so Ray can ship it to workers."""

    tunable: Tunable
    data: Path
    recipe_path: Path | None
    fixed: tuple[str, ...]  # the user's --set settings, applied last
    folder: Path  # the search folder

    def settings(self, parameters: Mapping) -> list[str]:
        base = recipe_to_dict(load_recipe(self.tunable.recipe, self.recipe_path, list(self.fixed)))
        return recipe_settings(parameters, base) + list(self.fixed)

    def __call__(self, sampled: Mapping) -> dict:
        parameters = flat_parameters(sampled)
        recipe = load_recipe(self.tunable.recipe, self.recipe_path, self.settings(parameters))
        digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:12]
        trial = self.folder / "trials" / digest
        started = time.monotonic()
        metrics = self.tunable.train(self.data, recipe, trial / "weights.pt", trial / "run",
                                     log=lambda line: None)
        return {"macro_f1": metrics["validation"]["macro_f1"],
                "accuracy": metrics["validation"]["accuracy"], "parameters": parameters,
                "trial": str(trial), "seconds": round(time.monotonic() - started, 1)}


def print_trial(number: int, total: int, result: dict) -> None:
    print(f"trial {number}/{total}: macro-F1 {result['macro_f1']:.3f} ({result['seconds']} s) "
          + ", ".join(f"{k}={v}" for k, v in sorted(result["parameters"].items())), flush=True)
