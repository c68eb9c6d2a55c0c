"""The Whisper voice model's ``run.py`` work: predict, train, evaluate (``--model voice_whisper``)."""

from ..audio.whisper_train import WhisperVoiceRecipe, evaluate_whisper_voice, train_whisper_voice
from ..audio.whisper_voice import WhisperVoiceModel
from ..paths import MODELS_DIR, OUTPUT_DIR
from ..training.recipes import load_recipe
from .audio import predict_with
from .progress import command_line, evaluate_with_bars, promote_if_asked

SHIPPED_RECIPE = MODELS_DIR / "voice_whisper" / "recipe.json"


def predict(args) -> int:
    return predict_with(WhisperVoiceModel.load(args.weights), args)


def train(args) -> int:
    recipe = load_recipe(WhisperVoiceRecipe, args.recipe or (SHIPPED_RECIPE if SHIPPED_RECIPE.exists() else None),
                         args.set)
    out = args.out or OUTPUT_DIR / "models" / "voice_whisper" / "voice_whisper.pt"
    metrics = train_whisper_voice([args.data], recipe, out, command_line())
    for part in ("validation", "test"):
        for corpus, m in metrics[part].items():
            print(f"{part} {corpus}: accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}, ECE {m['ece']:.3f}, "
                  f"{m['n']} clips over {len(m['labels'])} emotions")
    print(f"wrote {out} (sha256 {metrics['weights_sha256'][:12]}…), metrics.json, recipe.json and the model card")
    promote_if_asked(args, out, metrics)
    return 0


def evaluate(args) -> int:
    return evaluate_with_bars(
        lambda bars: evaluate_whisper_voice(args.data, args.weights, tuple(args.speakers),
                                            progress=lambda d, t: bars("features", d, t)),
        "clip", args.json)
