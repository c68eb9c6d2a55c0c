"""The face model's ``run.py`` work: predict, preprocess, tune, train, ensemble, evaluate
(``--model face``)."""

from PIL import Image

from ..options import CamOptions
from ..face.model import FaceModel
from ..face.predict import frame_at, frame_cam, predict_faces
from ..face.train import TUNABLE, FaceRecipe, ensemble_face, evaluate_face, prepare_faces, train_face
from ..paths import MODELS_DIR, OUTPUT_DIR
from ..tuning.search import default_tuned, tune_command, tuned_recipe
from .progress import (ensemble_with_bars, evaluate_with_bars, media_bar, preprocess_with_bars,
                       train_with_bars, write_json_arg)

SHIPPED_RECIPE = MODELS_DIR / "face" / "recipe.json"


def _recipe_path(args):
    return args.recipe or (SHIPPED_RECIPE if SHIPPED_RECIPE.exists() else None)


def _recipe(args) -> FaceRecipe:
    """The recipe, tuned settings (unless --untuned) and --set, as train and preprocess use it."""
    return tuned_recipe(FaceRecipe, _recipe_path(args), args.set, default_tuned("face", args))


def preprocess(args) -> int:
    return preprocess_with_bars(prepare_faces, _recipe(args), args, "image")


def tune(args) -> int:
    return tune_command(TUNABLE, _recipe_path(args), args)


def train(args) -> int:
    recipe = _recipe(args)
    out = args.out or OUTPUT_DIR / "models" / "face" / f"face_{recipe.backbone}.pt"
    return train_with_bars(train_face, recipe, out, args, "image")


def ensemble(args) -> int:
    out = args.out or OUTPUT_DIR / "models" / "face" / "face_ensemble.pt"
    return ensemble_with_bars(ensemble_face, out, args, "image")


def evaluate(args) -> int:
    return evaluate_with_bars(
        lambda bars: evaluate_face(args.data, args.weights, args.split, on_features=bars),
        "image", args.json)


def predict(args) -> int:
    model = FaceModel.load(args.weights)
    with media_bar("faces") as progress:
        result = predict_faces(model, args.path, progress=progress)
    print(f"{'time':>8}  {'face':>4}  {'box':>25}  {'top':>9}  " + "  ".join(f"{l:>8}" for l in result["labels"]))
    for row in result["frames"]:
        for face in row["faces"]:
            box = ",".join(f"{v:.0f}" for v in face["box"])
            print(f"{row['time_s']:7.2f}s  {face['face_id']:>4}  {box:>25}  {face['top_emotion']:>9}  "
                  + "  ".join(f"{p:8.3f}" for p in face["probabilities"].values()))
    if len(result["frames"]) > 1:
        for face in result["faces"]:
            print(f"face {face['face_id']}: {face['top_emotion']} ({face['confidence']:.0%}) over "
                  f"{face['frames']} frames")
    for warning in result["warnings"]:
        print(f"note: {warning}")
    if args.cam:
        frame = frame_at(args.path, args.cam_time)
        options = CamOptions(args.cam_method, args.cam_target, args.cam_layer)
        overlay, explained = frame_cam(model, frame, options)
        out = args.cam_out or OUTPUT_DIR / f"{args.path.stem}_{args.cam_method}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(overlay).save(out)
        result["cam"] = {"path": str(out), "method": args.cam_method, "time_s": frame.time_s,
                         "explained": explained}
        print(f"wrote {out} ({args.cam_method} for {', '.join(explained)}"
              + (f" at {frame.time_s:.2f} s)" if frame.time_s else ")"))
    write_json_arg(args.json, result)
    return 0
