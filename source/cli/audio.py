"""The voice model's ``run.py`` work: predict, preprocess, tune, train, ensemble, evaluate
(``--model audio``)."""

from ..audio.model import VoiceModel, predict_file
from ..audio.train import TUNABLE, VoiceRecipe, ensemble_voice, evaluate_voice, prepare_voice, train_voice
from ..paths import MODELS_DIR, OUTPUT_DIR
from ..tuning.search import default_tuned, tune_command, tuned_recipe
from .progress import (ensemble_with_bars, evaluate_with_bars, media_bar, preprocess_with_bars,
                       train_with_bars, write_json_arg)

SHIPPED_RECIPE = MODELS_DIR / "audio" / "recipe.json"


def _recipe(args) -> VoiceRecipe:
    """The recipe, tuned settings (unless --untuned) and --set, as train and preprocess use it."""
    return tuned_recipe(VoiceRecipe, args.recipe or SHIPPED_RECIPE, args.set, default_tuned("audio", args))


def predict(args) -> int:
    return predict_with(VoiceModel.load(args.weights), args)


def predict_with(model, args) -> int:
    """Print and write a voice model's per-window and overall result for ``args.path``."""
    with media_bar("voice") as progress:
        result = predict_file(model, args.path, progress=progress)
    print(f"{'window':>15}  " + "  ".join(f"{label:>8}" for label in result["labels"]))
    for row in result["windows"]:
        span = f"{row['start_s']:6.1f}-{row['end_s']:6.1f} s"
        cells = ("  ".join(f"{p:8.3f}" for p in row["probabilities"].values())
                 if row["probabilities"] else "  (no speech)")
        print(f"{span:>15}  {cells}")
    for warning in result["warnings"]:
        print(f"note: {warning}")
    if result["overall"]:
        top = result["top_emotion"]
        print(f"overall: {top} ({result['overall'][top]:.0%})")
    write_json_arg(args.json, result)
    return 0


def preprocess(args) -> int:
    return preprocess_with_bars(prepare_voice, _recipe(args), args, "clip")


def tune(args) -> int:
    return tune_command(TUNABLE, args.recipe or SHIPPED_RECIPE, args)


def train(args) -> int:
    recipe = _recipe(args)
    out = args.out or OUTPUT_DIR / "models" / "audio" / f"voice_{recipe.backbone}.pt"
    return train_with_bars(train_voice, recipe, out, args, "clip")


def ensemble(args) -> int:
    out = args.out or OUTPUT_DIR / "models" / "audio" / "voice_ensemble.pt"
    return ensemble_with_bars(ensemble_voice, out, args, "clip")


def evaluate(args) -> int:
    return evaluate_with_bars(
        lambda bars: evaluate_voice(args.data, args.weights, tuple(args.speakers),
                                    on_features=lambda d, t: bars("features", d, t)),
        "clip", args.json)
