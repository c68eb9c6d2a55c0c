"""The dataset commands every family that trains shares: preprocess, tune, train, ensemble and
evaluate, built from its :class:`~source.registry.TrainingCommands` (``handlers``), with the
recipe they read (``family_recipe``)."""

from functools import partial

from ..paths import MODELS_DIR, OUTPUT_DIR
from ..registry import TrainingCommands, resolve
from ..tuning.search import Tunable, default_tuned, tune_command, tuned_recipe
from .progress import ensemble_with_bars, evaluate_with_bars, preprocess_with_bars, train_with_bars


def recipe_path(args):
    """``--recipe``, else the model's shipped recipe (``models/<model>/recipe.json``) when there is one."""
    shipped = MODELS_DIR / args.model / "recipe.json"
    return args.recipe or (shipped if shipped.exists() else None)


def family_recipe(recipe_class: type, args):
    """The recipe train and preprocess use: the recipe, then tuned settings (unless --untuned),
    then --set."""
    return tuned_recipe(recipe_class, recipe_path(args), args.set, default_tuned(args.model, args))


def _selection(selects: str, args):
    """What narrows evaluate, from --split or --speakers (see ``TrainingCommands.selects``)."""
    if selects == "speakers":
        return tuple(args.speakers)
    return args.split or "test" if selects == "part" else args.split


def handlers(spec: TrainingCommands, own: dict[str, str]) -> dict:
    """The handlers of ``spec``'s commands, and of the family's ``own`` (import paths; they too
    take the ``bound`` arguments first)."""

    def function(target: str):
        found = resolve(target)
        return partial(found, *spec.bound) if spec.bound else found

    def preprocess(args) -> int:
        return preprocess_with_bars(function(spec.prepare), family_recipe(resolve(spec.recipe), args), args, spec.unit)

    def tune(args) -> int:
        tunable = Tunable(args.model, resolve(spec.recipe), spec.search_space, function(spec.train))
        return tune_command(tunable, recipe_path(args), args)

    def train(args) -> int:
        recipe = family_recipe(resolve(spec.recipe), args)
        out = args.out or OUTPUT_DIR / "models" / args.model / spec.out.format(recipe=recipe)
        return train_with_bars(function(spec.train), recipe, out, args, spec.unit)

    def ensemble(args) -> int:
        out = args.out or OUTPUT_DIR / "models" / args.model / spec.ensemble_out
        return ensemble_with_bars(function(spec.ensemble), out, args, spec.unit)

    def evaluate(args) -> int:
        evaluate_on = function(spec.evaluate)
        return evaluate_with_bars(
            lambda bars: evaluate_on(args.data, args.weights, _selection(spec.selects, args), on_features=bars),
            spec.unit, args.json)

    shared = {"preprocess": preprocess, "tune": tune, "train": train, "ensemble": ensemble, "evaluate": evaluate}
    return {**{name: function(handler) for name, handler in own.items()},
            **{name: shared[name] for name in spec.names()}}
