"""The text-emotion model's ``run.py`` work: train and evaluate (``--model text``)."""

from ..paths import OUTPUT_DIR
from ..text.train import TextRecipe, evaluate_text, train_text
from .progress import command_line, promote_if_asked, write_json_arg
from .training import family_recipe


def train(args) -> int:
    recipe = family_recipe(TextRecipe, args)
    out = args.out or OUTPUT_DIR / "models" / "text" / "text_emotion.npz"
    metrics = train_text(args.data, recipe, out, command_line())
    m = metrics["validation"]
    print(f"validation (GoEmotions dev, single-label rows): accuracy {m['accuracy']:.3f}, macro-F1 "
          f"{m['macro_f1']:.3f}, ECE {m['ece_uncalibrated']:.3f} -> {m['ece']:.3f} (temperature "
          f"{metrics['temperature']:.2f}), {m['n']} sentences")
    print(f"wrote {out} (sha256 {metrics['weights_sha256'][:12]}…), metrics.json, model card and confusion plot")
    promote_if_asked(args, out, metrics)
    return 0


def evaluate(args) -> int:
    report = evaluate_text(args.data, args.weights)
    print(f"accuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}, ECE {report['ece']:.3f}, "
          f"{report['n']} sentences with one label")
    write_json_arg(args.json, report)
    return 0
