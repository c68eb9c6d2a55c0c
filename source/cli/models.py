"""Model subcommands: ``predict``, ``preprocess``, ``train``, ``tune``, ``ensemble``, ``evaluate``,
``card``.

Each takes ``--model NAME`` from the model registry; the model families add their own work
to these commands, so the command line keeps one shape as models arrive.
"""

import os
from pathlib import Path

from ..errors import StudioError
from ..options import CAM_METHODS
from ..paths import MODELS_DIR
from ..registry import get_model, list_models
from ..training.workers import default_workers
from ..tuning.search import ALGORITHMS, BEST_FILE, ENGINES
from .webcam import record_webcam

_COMMANDS = {
    "predict": "predict emotions for one file (or a webcam recording) with a single model",
    "preprocess": "detect a dataset and cache its features (MFCCs, face crops), resumably",
    "train": "train a model on a dataset",
    "tune": "search hyperparameters with Hyperopt, here or on a Ray cluster",
    "ensemble": "join trained models of one kind into one that averages their probabilities",
    "evaluate": "evaluate a model on a dataset and write the evaluate JSON",
    "card": "show a model's card (what it is, its data, its measured results)",
}
_DATASET_COMMANDS = ("preprocess", "train", "tune", "ensemble", "evaluate")


def _recipe_arguments(parser) -> None:
    parser.add_argument("--recipe", type=Path, help="recipe JSON (default: the model's own recipe)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one recipe setting, e.g. --set train.epochs=5 (repeatable); "
                             "tune leaves a set setting out of the search")


def _tuned_arguments(parser) -> None:
    parser.add_argument("--hyperparameters", type=Path, metavar="FILE",
                        help=f"tuned settings to apply over the recipe (default: "
                             f"models/<model>/{BEST_FILE} when tune has written one)")
    parser.add_argument("--untuned", action="store_true",
                        help="ignore tuned settings: the recipe and --set only")


def _predict_arguments(parser) -> None:
    parser.add_argument("path", type=Path, nargs="?", help="photo, audio or video file")
    parser.add_argument("--webcam", action="store_true",
                        help="record from the webcam (and microphone) first, then predict that "
                             "recording (kept in output_files/)")
    parser.add_argument("--seconds", type=float, default=5.0, help="webcam: seconds to record (default 5)")
    parser.add_argument("--camera", help="webcam: the device (default: /dev/video0 on Linux, "
                                         "the first camera on macOS)")
    parser.add_argument("--cam", action="store_true",
                        help="face model: write the activation map over the photo (or a "
                             "video frame, see --cam-time)")
    parser.add_argument("--cam-time", type=float,
                        help="video: the time of the frame to explain (default: the middle)")
    parser.add_argument("--cam-method", default="gradcam", choices=CAM_METHODS,
                        help="class activation map method (default: gradcam)")
    parser.add_argument("--cam-target", help="the emotion to explain (default: each face's top one)")
    parser.add_argument("--cam-layer", help="the layer to explain, e.g. backbone.features.13 (default: "
                                            "the deepest with at least a 4x4 map); an ensemble's "
                                            "maps are its members' averaged: one name for every "
                                            "member, or one per member, comma-separated")
    parser.add_argument("--cam-out", type=Path, help="overlay image to write "
                                                     "(default: output_files/<name>_<method>.png)")
    parser.add_argument("--every", type=int, default=5, metavar="N",
                        help="image_vit: classify every Nth video frame (default 5)")


def register(subparsers) -> None:
    names = ", ".join(e.name for e in list_models()) or "none in this version"
    for command, summary in _COMMANDS.items():
        parser = subparsers.add_parser(command, help=summary, description=summary + ".")
        parser.add_argument("--model", required=True,
                            help=f"model name ({names}; voice: the default voice model)")
        if command == "predict":
            _predict_arguments(parser)
        if command in _DATASET_COMMANDS:
            parser.add_argument("--data", type=Path, required=True, help="dataset folder")
            parser.add_argument(*(("--out", "--cache") if command == "preprocess" else ("--cache",)),
                                dest="cache", type=Path, metavar="DIR",
                                help="feature cache folder (default: $EMOTION_STUDIO_CACHE or "
                                     "data/cache); give train and tune the same one")
        if command in ("predict", "evaluate"):
            parser.add_argument("--weights", type=Path,
                                help="weights file (default: the shipped model)")
            parser.add_argument("--json", type=Path, help="also write the result to this JSON file")
        if command == "evaluate":
            parser.add_argument("--speakers", nargs="+", default=(),
                                help="a voice model: evaluate only these speakers (default: all)")
            parser.add_argument("--split", help="evaluate only this split of the dataset, e.g. "
                                                "test or private for FER2013 (default: all)")
        if command in ("preprocess", "train", "tune"):
            _recipe_arguments(parser)
        if command in ("preprocess", "train"):
            _tuned_arguments(parser)
        if command == "preprocess":
            parser.add_argument("--workers", type=int, default=default_workers(),
                                help="processes computing features in parallel (default: one "
                                     f"per core up to 8, {default_workers()} here)")
        if command == "train":
            parser.add_argument("--out", type=Path,
                                help="weights file to write (default: output_files/models/<model>/)")
            parser.add_argument("--run-dir", type=Path,
                                help="checkpoint and report folder; an unfinished run there is "
                                     "resumed (default: data/runs/<model>-<run id>)")
            parser.add_argument("--fresh", action="store_true",
                                help="start over instead of resuming the run's checkpoint")
            parser.add_argument("--promote", action="store_true",
                                help="copy the trained model, its card and reports into "
                                     "models/<model>/")
        if command == "ensemble":
            parser.add_argument("--members", type=Path, nargs="+", required=True, metavar="WEIGHTS",
                                help="two or more weights files trained on the same inputs, labels "
                                     "and split (calibrated on its validation part, reported on its test part)")
            parser.add_argument("--out", type=Path,
                                help="weights file to write (default: output_files/models/<model>/)")
        if command == "tune":
            parser.add_argument("--max-evals", type=int, default=20,
                                help="trials in all, counting those of a resumed search (default 20)")
            parser.add_argument("--algo", choices=ALGORITHMS, default="tpe",
                                help="tpe (Tree-structured Parzen Estimator, default) or random")
            parser.add_argument("--engine", choices=ENGINES, default="local",
                                help="local (Hyperopt here, one trial at a time) or ray (Ray Tune)")
            parser.add_argument("--workers", type=int, default=2,
                                help="ray: trials at once, one CPU each (default 2)")
            parser.add_argument("--address", help="ray: the cluster to join, e.g. ray://head:10001 "
                                                   "(default: start a local Ray instance)")
            parser.add_argument("--seed", type=int, default=0, help="search seed (default 0)")
            parser.add_argument("--state", type=Path, metavar="DIR",
                                help="search folder: trials, their runs; running the same search "
                                     "again resumes it (default: data/tuning/<model>-<search id>)")
            parser.add_argument("--out", type=Path,
                                help=f"best parameters file (default: models/<model>/{BEST_FILE}, "
                                     "which train uses)")
        parser.set_defaults(func=run, command=command)


def show_card(entry) -> int:
    card = MODELS_DIR / entry.name / "MODEL_CARD.md"
    print(f"{entry.name} ({entry.branch}): {entry.description}")
    print(f"supports: {', '.join(sorted(entry.commands))}" if entry.commands else
          f"supports: no command of its own (a fixed rule: analyze --{entry.branch} {entry.name})")
    print(card.read_text() if card.exists() else f"(no model card: {card} is absent)")
    return 0


def run(args) -> int:
    entry = get_model(args.model)  # raises a clear error for unknown names
    args.model = entry.name  # an alias ("voice") reaches the handler as the model it stands for
    if args.command == "card":
        return show_card(entry)
    if getattr(args, "cam", False) and entry.branch != "face":
        raise StudioError(f"--cam explains face models; {entry.name!r} is a {entry.branch} model.")
    handler = entry.commands.get(args.command)
    if handler is None:
        supported = ", ".join(sorted(entry.commands)) or "nothing from the command line"
        raise StudioError(f"Model {entry.name!r} does not support {args.command!r}; "
                          f"it supports: {supported}.")
    if getattr(args, "cache", None) is not None:
        os.environ["EMOTION_STUDIO_CACHE"] = str(args.cache)  # process pools and Ray inherit it
    if args.command == "predict":
        if args.webcam == (args.path is not None):
            raise StudioError("predict takes a file or --webcam (one of the two).")
        if args.webcam:
            args.path = record_webcam(args.seconds, args.camera, with_audio=entry.branch != "face")
    return handler(args)
