"""The face model's ``predict`` (``--model face``; its dataset commands are ``cli.training``'s): a
view over ``analyze`` with the face branch alone, and ``--cam``, a class activation map of one
frame (an explanation picture, drawn by ``face.predict.frame_cam``, not a second prediction)."""

from pathlib import Path

from ..errors import NoVideoTrack
from ..paths import OUTPUT_DIR
from ..registry import get_model
from .predict import analyze_with_bar, print_warnings, report_outputs


def predict(args, out_dir: Path = OUTPUT_DIR) -> int:
    """``predict --model face PATH``: ``analyze`` of ``PATH`` (a photo or a video) with the face
    branch alone (no voice, no words, no plots; ``--weights``: the face model's file). Printed: per
    window (a photo is one window) each face's id, top emotion and probabilities, then per face id
    the mean of its probabilities over the windows it is in. The analysis files are written to
    ``out_dir`` as ``analyze`` writes them (windows and frames CSV, analysis JSON); ``--json`` gets
    a copy of the analysis JSON, with a ``cam`` key when ``--cam`` drew one."""
    from ..labels import mean_probabilities, top_emotion
    from ..media.probe import probe
    from ..options import AnalysisOptions

    info = probe(args.path)
    if not info.has_video:
        raise NoVideoTrack(f"{Path(args.path).name} holds no picture: the face model needs a photo or a video.")
    weights = None if args.weights is None else str(args.weights)
    options = AnalysisOptions(face=True, audio=False, words=False, plots=False, face_weights=weights)
    result = analyze_with_bar(args.path, options, out_dir, "faces")
    labels = result.models["face"]["labels"]
    print(f"{'window':>15}  {'face':>4}  {'top':>9}  " + "  ".join(f"{label:>8}" for label in labels))
    by_id: dict[int, list[dict]] = {}
    for window in result.windows:
        span = "photo" if info.kind == "image" else f"{window.start_s:6.1f}-{window.end_s:6.1f} s"
        if not window.faces:
            print(f"{span:>15}  (no face)")
        for face in window.faces:
            if face.emotions is None:
                print(f"{span:>15}  {face.face_id:>4}  (not scored)")
                continue
            by_id.setdefault(face.face_id, []).append(face.emotions["probabilities"])
            print(f"{span:>15}  {face.face_id:>4}  {face.emotions['top_emotion']:>9}  "
                  + "  ".join(f"{face.emotions['probabilities'][label]:8.3f}" for label in labels))
    print_warnings(result)
    for face_id, scores in sorted(by_id.items()):
        top, share = top_emotion(mean_probabilities(scores))
        print(f"face {face_id}: {top} ({share:.0%}, the mean over {len(scores)} "
              f"window{'s' if len(scores) > 1 else ''})")
    cam = draw_cam(args, out_dir) if args.cam else None
    report_outputs(result, args.json, {"cam": cam} if cam else None)
    return 0


def draw_cam(args, out_dir: Path) -> dict:
    """``--cam``: the faces of the frame at ``--cam-time`` (a photo: the photo) with their class
    activation map, written to ``--cam-out``; what the JSON's ``cam`` key says of it."""
    from PIL import Image

    from ..analysis.pipeline import loaded
    from ..face.predict import frame_at, frame_cam
    from ..options import CamOptions

    model = loaded(get_model("face").load, None if args.weights is None else str(args.weights))
    frame = frame_at(args.path, args.cam_time)
    overlay, explained = frame_cam(model, frame, CamOptions(args.cam_method, args.cam_target, args.cam_layer))
    out = args.cam_out or out_dir / f"{Path(args.path).stem}_{args.cam_method}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(overlay).save(out)
    print(f"wrote {out} ({args.cam_method} for {', '.join(explained)}"
          + (f" at {frame.time_s:.2f} s)" if frame.time_s else ")"))
    return {"path": str(out), "method": args.cam_method, "time_s": frame.time_s, "explained": explained}
