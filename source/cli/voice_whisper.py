"""The Whisper voice models' ``run.py`` work: predict, train, evaluate (``--model voice_whisper`` or
``voice_whisper_shared``, the model over the words branch's encoder pass)."""

from ..errors import StudioError
from ..paths import OUTPUT_DIR
from ..registry import get_model
from ..training.workers import default_workers
from ..voice.whisper_train import WhisperVoiceRecipe, evaluate_whisper_voice, model_class, train_whisper_voice
from .progress import command_line, evaluate_with_bars, promote_if_asked
from .training import family_recipe
from .voice import predict_voice


def predict(args) -> int:
    return predict_voice(args, args.model)


def train(args) -> int:
    recipe = family_recipe(WhisperVoiceRecipe, args)
    if model_class(recipe).KIND != args.model:
        raise StudioError(f"a recipe with encoder {recipe.encoder!r} trains {model_class(recipe).KIND}, "
                          f"not --model {args.model}")
    out = args.out or OUTPUT_DIR / "models" / args.model / f"{args.model}.pt"
    metrics = train_whisper_voice([args.data], recipe, out, command_line(), workers=default_workers())
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
                                            progress=lambda d, t: bars("features", d, t),
                                            load=get_model(args.model).load),
        "clip", args.json)
