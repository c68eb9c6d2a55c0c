"""The voice model's ``run.py`` work: predict, preprocess, train, evaluate (``--model audio``)."""

import shlex
import sys
from pathlib import Path

from tqdm import tqdm

from ..analysis.writers import write_json
from ..audio.model import VoiceModel, predict_file
from ..audio.train import VoiceRecipe, clip_features, evaluate_voice, split_samples, train_voice
from ..datasets.speech import scan_speech_dataset
from ..paths import MODELS_DIR, OUTPUT_DIR
from ..training.recipes import load_recipe

SHIPPED_RECIPE = MODELS_DIR / "audio" / "recipe.json"


def _recipe(args) -> VoiceRecipe:
    return load_recipe(VoiceRecipe, args.recipe or SHIPPED_RECIPE, args.set)


class _Bars:
    """One tqdm bar per named stage, reused while the stage lasts."""

    def __init__(self):
        self.bar, self.name = None, None

    def __call__(self, name: str, done: int, total: int) -> None:
        if name != self.name:
            self.close()
            self.bar, self.name = tqdm(total=total, desc=name, unit="clip"), name
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar, self.name = None, None


def _write_json(path: Path | None, payload: dict) -> None:
    if path is not None:
        print(f"wrote {write_json(path, payload)}")


def predict(args) -> int:
    model = VoiceModel.load(args.weights)
    with tqdm(unit="s", desc="voice") as bar:
        def progress(done: float, total: float | None) -> None:
            if total and bar.total is None:
                bar.total = round(total, 1)
            bar.update(round(done, 1) - bar.n)

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
    _write_json(args.json, result)
    return 0


def preprocess(args) -> int:
    recipe = _recipe(args)
    dataset = scan_speech_dataset(args.data, recipe.corpus)
    print(dataset.summary())
    split = split_samples(list(dataset.samples), recipe)
    bars = _Bars()
    try:
        clip_features(split.train, recipe.transform, recipe.augment, recipe.augmented_copies,
                      lambda d, t: bars("features (train, augmented)", d, t))
        clip_features(split.validation + split.test, recipe.transform,
                      progress=lambda d, t: bars("features (clean)", d, t))
    finally:
        bars.close()
    print("features cached; training will reuse them")
    return 0


def train(args) -> int:
    recipe = _recipe(args)
    out = args.out or OUTPUT_DIR / "models" / "audio" / f"voice_{recipe.backbone}.pt"
    bars = _Bars()
    epochs = None

    def on_epoch(report) -> None:
        nonlocal epochs
        bars.close()
        if epochs is None:
            epochs = tqdm(total=report.epochs, initial=report.epoch - 1, desc="epochs", unit="epoch")
        epochs.update(1)
        epochs.set_postfix(loss=f"{report.train_loss:.3f}", val_acc=f"{report.val_accuracy:.3f}",
                           lr=f"{report.learning_rate:.1e}", best="*" if report.best else "")

    command = "python run.py " + shlex.join(sys.argv[1:]) if sys.argv[1:] else ""
    try:
        metrics = train_voice(args.data, recipe, out, args.run_dir, args.fresh, command,
                              on_features=bars, on_epoch=on_epoch, log=tqdm.write)
    finally:
        bars.close()
        if epochs is not None:
            epochs.close()
    for part in ("validation", "test"):
        if part in metrics:
            m = metrics[part]
            print(f"{part}: accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}, "
                  f"ECE {m['ece_uncalibrated']:.3f} -> {m['ece']:.3f} (temperature "
                  f"{metrics['temperature']:.2f}), {m['n']} clips")
    print(f"wrote {out} (sha256 {metrics['weights_sha256'][:12]}…), metrics.json and confusion plots")
    return 0


def evaluate(args) -> int:
    bars = _Bars()
    try:
        report = evaluate_voice(args.data, args.weights, tuple(args.speakers),
                                on_features=lambda d, t: bars("features", d, t))
    finally:
        bars.close()
    print(f"accuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}, "
          f"ECE {report['ece']:.3f}, {report['n']} clips")
    _write_json(args.json, report)
    return 0
