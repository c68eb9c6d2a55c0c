"""The research models' own ``run.py`` work: predict, for the fusion families (``--model
lt_fusion`` and the others of ``source.fusion.research.families``) and the ResNet + ViT face model
(``--model image_vit``); their dataset commands are ``cli.training``'s."""

import json

from ..fusion.research.family import Family, FamilyModel
from ..fusion.research.predict import predict_media
from ..paths import OUTPUT_DIR
from .progress import media_bar, write_json_arg


def predict(family: Family, args) -> int:
    """The family's windows over the file, printed and written as ``analyze`` writes its own."""
    model = FamilyModel.load(family, args.weights)
    with media_bar("windows") as progress:
        result = predict_media(model, args.path, OUTPUT_DIR, str(args.weights) if args.weights else None,
                               progress=progress)
    print(f"{'start':>7}  {'end':>6}  {'face':>5}  {'speech':>6}  {'top':>9}  "
          + "  ".join(f"{label:>8}" for label in model.labels))
    for window in result.windows:
        face = window.faces[0].face_found_ratio if window.faces else 0.0
        speech = f"{window.speech['speech_ratio']:6.0%}" if window.speech else f"{'-':>6}"
        print(f"{window.start_s:6.1f}s {window.end_s:6.1f}s  {face:5.0%}  {speech}  {window.top_emotion:>9}  "
              + "  ".join(f"{p:8.3f}" for p in window.probabilities["fused"].values()))
    print(f"dominant: {result.summary['dominant_emotion']}; wrote "
          + ", ".join(str(path) for path in result.outputs.values()))
    write_json_arg(args.json, json.loads(result.outputs["analysis_json"].read_text()))  # the analysis JSON itself
    return 0


def predict_image_vit(args) -> int:
    """``--every N``: every Nth frame of a video as a window of its own, each face's probabilities."""
    from ..fusion.research.image_vit import ImageVitModel, predict_video_frames

    model = ImageVitModel.load(args.weights)
    with media_bar("frames") as progress:
        result = predict_video_frames(model, args.path, args.every, OUTPUT_DIR,
                                      str(args.weights) if args.weights else None, progress)
    for window in result.windows:
        for face in window.faces:
            print(f"{window.start_s:7.2f}s  face {face.face_id}  {face.emotions['top_emotion']:>9} "
                  f"({face.emotions['confidence']:.0%})")
    print("wrote " + ", ".join(str(path) for path in result.outputs.values()))
    write_json_arg(args.json, json.loads(result.outputs["analysis_json"].read_text()))  # the analysis JSON itself
    return 0
