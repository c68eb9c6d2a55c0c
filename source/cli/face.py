"""The face model's own ``run.py`` work: predict, with class activation maps (``--model face``;
its dataset commands are ``cli.training``'s)."""

from PIL import Image

from ..options import CamOptions
from ..face.model import FaceModel
from ..face.predict import frame_at, frame_cam, predict_faces
from ..paths import OUTPUT_DIR
from .progress import media_bar, write_json_arg


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
