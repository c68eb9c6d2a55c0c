"""The voice model's own ``run.py`` work: predict (``--model audio``; its dataset commands are
``cli.training``'s)."""

from ..audio.model import VoiceModel, predict_file
from .progress import media_bar, write_json_arg


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
