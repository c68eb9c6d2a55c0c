"""The research fusion families' ``run.py`` work: preprocess, tune, train, evaluate, predict
(``--model lt_fusion`` and the others of ``source.fusion.research.families``)."""

from functools import partial

from ..fusion.research.family import Family, FamilyModel, evaluate_family, prepare_family, train_family
from ..fusion.research.late import train_late_fusion
from ..fusion.research.predict import predict_media
from ..paths import MODELS_DIR, OUTPUT_DIR
from ..tuning.search import Tunable, default_tuned, tune_command, tuned_recipe
from .progress import evaluate_with_bars, media_bar, preprocess_with_bars, train_with_bars, write_json_arg


def family_commands(family: Family, search_space: dict | None) -> dict:
    """The CLI handlers of one family; ``tune`` only for a family with a search space."""
    shipped_recipe = MODELS_DIR / family.name / "recipe.json"
    trainer = partial(train_late_fusion if family.name == "late_fusion" else train_family, family)

    def recipe_path(args):
        return args.recipe or (shipped_recipe if shipped_recipe.exists() else None)

    def recipe(args):
        return tuned_recipe(family.recipe, recipe_path(args), args.set, default_tuned(family.name, args))

    def preprocess(args) -> int:
        return preprocess_with_bars(lambda data, r, bars, workers, log: prepare_family(family, data, r, bars, workers, log),
                                    recipe(args), args, "window")

    def train(args) -> int:
        out = args.out or OUTPUT_DIR / "models" / family.name / f"{family.name}.pt"
        return train_with_bars(trainer, recipe(args), out, args, "window")

    def evaluate(args) -> int:
        return evaluate_with_bars(
            lambda bars: evaluate_family(family, args.data, args.weights, args.split or "test", on_features=bars),
            "window", args.json)

    def predict(args) -> int:
        model = FamilyModel.load(family, args.weights)
        with media_bar("windows") as progress:
            result = predict_media(model, args.path, OUTPUT_DIR, progress)
        print(f"{'start':>7}  {'end':>6}  {'faces':>5}  {'speech':>6}  {'top':>9}  "
              + "  ".join(f"{label:>8}" for label in model.labels))
        for row in result["windows"]:
            print(f"{row['start_s']:6.1f}s {row['end_s']:6.1f}s  {row['face_frames']:>5}  {str(row['speech']):>6}  "
                  f"{row['top_emotion']:>9}  " + "  ".join(f"{p:8.3f}" for p in row["probabilities"]["fused"].values()))
        print(f"dominant: {result['summary']['dominant_emotion']}; wrote " + ", ".join(result["files"].values()))
        write_json_arg(args.json, result)
        return 0

    commands = {"preprocess": preprocess, "train": train, "evaluate": evaluate, "predict": predict}
    if search_space:
        def tune(args) -> int:
            return tune_command(Tunable(family.name, family.recipe, search_space, trainer), recipe_path(args), args)

        commands["tune"] = tune
    return commands


def image_vit_commands() -> dict:
    """The ResNet + ViT face model's handlers (face images: FER2013 and the other face datasets)."""
    from ..fusion.research.image_vit import (KIND, ImageVitModel, ImageVitRecipe, evaluate_image_vit,
                                             predict_video_frames, train_image_vit)

    def recipe(args) -> ImageVitRecipe:
        return tuned_recipe(ImageVitRecipe, args.recipe, args.set, default_tuned(KIND, args))

    def train(args) -> int:
        out = args.out or OUTPUT_DIR / "models" / KIND / f"{KIND}.pt"
        return train_with_bars(train_image_vit, recipe(args), out, args, "image")

    def evaluate(args) -> int:
        return evaluate_with_bars(lambda bars: evaluate_image_vit(args.data, args.weights, args.split, on_features=bars),
                                  "image", args.json)

    def predict(args) -> int:
        model = ImageVitModel.load(args.weights)
        with media_bar("frames") as progress:
            result = predict_video_frames(model, args.path, args.every, OUTPUT_DIR, progress)
        for row in result["frames"]:
            for face in row["faces"]:
                print(f"{row['time_s']:7.2f}s  face {face['face_id']}  {face['top_emotion']:>9} "
                      f"({face['confidence']:.0%})")
        print("wrote " + ", ".join(result["files"].values()))
        write_json_arg(args.json, result)
        return 0

    return {"train": train, "evaluate": evaluate, "predict": predict}
