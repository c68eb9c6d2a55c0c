"""The face geometry trees' ``run.py`` work (``--model face_geometry``): train and evaluate."""

from ..face.geometry_train import GeometryRecipe, evaluate_geometry, train_geometry
from ..paths import OUTPUT_DIR
from .progress import command_line, promote_if_asked, write_json_arg
from .training import family_recipe


def train(args) -> int:
    recipe = family_recipe(GeometryRecipe, args)
    out = args.out or OUTPUT_DIR / "models" / "face_geometry" / "face_geometry.npz"
    metrics = train_geometry(args.data, recipe, out, command_line())
    v = metrics["mixed"]["validation"]
    print(f"validation: the trees alone {metrics['validation']['accuracy']:.3f} on faces with landmarks; the face "
          f"model {v['face_model_accuracy']:.4f} -> {v['mixed_accuracy']:.4f} with the trees at a share of "
          f"{metrics['share']:.2f} ({v['cross_fitted_accuracy']:.4f} with the share cross-fitted on halves)")
    print(f"wrote {out} (sha256 {metrics['weights_sha256'][:12]}…), metrics.json, model card and confusion plots")
    promote_if_asked(args, out, metrics)
    return 0


def evaluate(args) -> int:
    report = evaluate_geometry(args.data, args.weights, args.split)
    print(f"the trees alone: accuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}, ECE "
          f"{report['ece']:.3f}, {report['n']} faces with landmarks ({report['found']:.0%} of the faces); the "
          "face branch with them: evaluate --model face")
    write_json_arg(args.json, report)
    return 0
