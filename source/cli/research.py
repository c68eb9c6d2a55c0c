"""The research models' own ``run.py`` work: predict, for the fusion families (``--model
lt_fusion`` and the others of ``source.fusion.research.families``) and the ResNet + ViT face model
(``--model image_vit``); their dataset commands are ``cli.training``'s."""

from ..fusion.research.family import Family, FamilyModel
from ..fusion.research.predict import predict_media
from ..paths import OUTPUT_DIR
from .progress import media_bar, write_json_arg


def predict(family: Family, args) -> int:
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


def predict_image_vit(args) -> int:
    """``--every N``: every Nth frame of a video, each face's probabilities."""
    from ..fusion.research.image_vit import ImageVitModel, predict_video_frames

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
