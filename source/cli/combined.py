"""The combined model's ``run.py`` work: preprocess, tune, train, evaluate (``--model combined``)."""

from ..fusion.train import TUNABLE, CombinedRecipe, evaluate_combined, prepare_combined, train_combined
from ..paths import MODELS_DIR, OUTPUT_DIR
from ..tuning.search import default_tuned, tune_command, tuned_recipe
from .progress import evaluate_with_bars, preprocess_with_bars, train_with_bars

SHIPPED_RECIPE = MODELS_DIR / "combined" / "recipe.json"


def _recipe_path(args):
    return args.recipe or (SHIPPED_RECIPE if SHIPPED_RECIPE.exists() else None)


def _recipe(args) -> CombinedRecipe:
    """The recipe, tuned settings (unless --untuned) and --set, as train and preprocess use it."""
    return tuned_recipe(CombinedRecipe, _recipe_path(args), args.set, default_tuned("combined", args))


def preprocess(args) -> int:
    return preprocess_with_bars(prepare_combined, _recipe(args), args, "window")


def tune(args) -> int:
    return tune_command(TUNABLE, _recipe_path(args), args)


def train(args) -> int:
    out = args.out or OUTPUT_DIR / "models" / "combined" / "combined.pt"
    return train_with_bars(train_combined, _recipe(args), out, args, "window")


def evaluate(args) -> int:
    return evaluate_with_bars(
        lambda bars: evaluate_combined(args.data, args.weights, args.split or "test", on_features=bars),
        "window", args.json)
