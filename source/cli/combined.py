"""The combined model's ``run.py`` work: train and evaluate (``--model combined``)."""

from ..fusion.train import CombinedRecipe, evaluate_combined, train_combined
from ..paths import MODELS_DIR, OUTPUT_DIR
from ..training.recipes import load_recipe
from .progress import StageBars, evaluate_with_bars, train_with_bars

SHIPPED_RECIPE = MODELS_DIR / "combined" / "recipe.json"


def _recipe(args) -> CombinedRecipe:
    path = args.recipe or (SHIPPED_RECIPE if SHIPPED_RECIPE.exists() else None)
    return load_recipe(CombinedRecipe, path, args.set)


def train(args) -> int:
    out = args.out or OUTPUT_DIR / "models" / "combined" / "combined.pt"
    return train_with_bars(train_combined, _recipe(args), out, args, "window")


def evaluate(args) -> int:
    return evaluate_with_bars(
        lambda bars: evaluate_combined(args.data, args.weights, args.split or "test", on_features=bars),
        "window", args.json)
