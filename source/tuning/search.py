"""``run.py tune``: one search, run by Hyperopt here or by Ray Tune, resumable, best kept.

Each trial trains the model with the family's own train function (one epoch budget, recipe and
split as ``train`` would use them) into ``<search folder>/trials/<parameters digest>/`` and
scores validation macro-F1 on the recipe's speaker- or subject-independent split. A trial
whose folder already holds a finished run is scored again without retraining.
"""

import json
import time
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path

from ..errors import StudioError
from ..fileio import write_json
from ..paths import DATA_DIR, MODELS_DIR
from ..training.recipes import load_recipe, recipe_to_dict
from .objective import Objective, Tunable, print_trial  # noqa: F401  (Tunable, print_trial: re-exported)
from .space import hyperopt_space, recipe_settings, searched

ALGORITHMS = ("tpe", "random")
ENGINES = ("local", "ray")
BEST_FILE = "best_hyperparameters.json"


def default_folder(model: str, data: Path, recipe_values: dict, space: Mapping, algo: str) -> Path:
    """``data/tuning/<model>-<digest>``: one folder per search (data, recipe, space, algorithm),
    so running the same search again resumes it."""
    identity = {"data": str(data.resolve()), "recipe": recipe_values, "space": space, "algo": algo}
    return DATA_DIR / "tuning" / f"{model}-{zlib.crc32(json.dumps(identity, sort_keys=True, default=str).encode()):08x}"


def best_path(model: str) -> Path:
    return MODELS_DIR / model / BEST_FILE


def write_best(path: Path, model: str, results: list[dict], search: dict) -> dict:
    best = max(results, key=lambda r: r["macro_f1"])
    payload = {"model": model, "parameters": best["parameters"], "macro_f1": best["macro_f1"],
               "accuracy": best["accuracy"], "trials": len(results), "search": search}
    write_json(path, payload)
    return payload


def read_best(path: Path) -> dict:
    try:
        payload = json.loads(Path(path).read_text())
        return dict(payload["parameters"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise StudioError(f"Cannot read tuned hyperparameters from {path}: {error}. "
                          "Run tune again, or train with --untuned.") from error


def tuned_recipe(recipe_cls, recipe_path: Path | None, fixed: list[str], tuned: Path | None,
                 log: Callable[[str], None] = print):
    """The recipe ``train`` uses: the recipe, then the tuned parameters in ``tuned`` (when
    given), then the ``--set`` settings."""
    if tuned is None:
        return load_recipe(recipe_cls, recipe_path, fixed)
    parameters = read_best(tuned)
    log(f"tuned hyperparameters from {tuned}: "
        + ", ".join(f"{k}={v}" for k, v in sorted(parameters.items())))
    base = recipe_to_dict(load_recipe(recipe_cls, recipe_path, fixed))
    return load_recipe(recipe_cls, recipe_path, recipe_settings(parameters, base) + fixed)


def default_tuned(model: str, args) -> Path | None:
    """``--hyperparameters FILE``, else the model's best file when it exists, unless ``--untuned``."""
    if args.untuned:
        return None
    if args.hyperparameters is not None:
        return args.hyperparameters
    path = best_path(model)
    return path if path.exists() else None


def tune_command(tunable: Tunable, recipe_path: Path | None, args) -> int:
    """``run.py tune``: search, print each trial, write the best parameters."""
    if args.max_evals < 1:
        raise StudioError("--max-evals must be at least 1.")
    fixed = list(args.set)
    space = searched(tunable.space, fixed)
    base = recipe_to_dict(load_recipe(tunable.recipe, recipe_path, fixed))
    folder = args.state or default_folder(tunable.model, args.data, base, space, args.algo)
    folder.mkdir(parents=True, exist_ok=True)
    objective = Objective(tunable, args.data.resolve(), recipe_path, tuple(fixed), folder.resolve())
    print(f"searching {', '.join(space)} for {tunable.model} ({args.algo}, {args.engine}); "
          f"trials in {folder}")
    started = time.monotonic()
    if args.engine == "ray":
        from .ray_engine import ray_search

        results = ray_search(objective, hyperopt_space(space), args.max_evals, args.algo, folder,
                             args.address, args.workers, args.seed)
    else:
        from .local import local_search

        results = local_search(objective, hyperopt_space(space), args.max_evals, args.algo, folder,
                               args.seed)
    if not results:
        raise StudioError(f"No trial of the search in {folder} finished.")
    out = args.out or best_path(tunable.model)
    best = write_best(out, tunable.model, results,
                      {"data": str(args.data), "algo": args.algo, "engine": args.engine,
                       "folder": str(folder), "space": space, "fixed": fixed})
    print(f"{len(results)} trials in {time.monotonic() - started:.1f} s; best validation "
          f"macro-F1 {best['macro_f1']:.3f}: "
          + ", ".join(f"{k}={v}" for k, v in sorted(best["parameters"].items())))
    print(f"wrote {out}; train uses it by default")
    return 0
