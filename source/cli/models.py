"""Model subcommands: ``predict``, ``preprocess``, ``train``, ``tune``, ``evaluate``.

Each takes ``--model NAME`` from the model registry; the model families add their own work
to these commands, so the command line keeps one shape as models arrive.
"""

from pathlib import Path

from ..errors import StudioError
from ..face.cam import CAM_METHODS
from ..registry import get_model, list_models

_COMMANDS = {
    "predict": "predict emotions for one file with a single model",
    "preprocess": "detect a dataset and cache its features (MFCCs, face crops)",
    "train": "train a model on a dataset",
    "tune": "search hyperparameters with Hyperopt",
    "evaluate": "evaluate a model on a dataset and write the evaluate JSON",
}


def _recipe_arguments(parser) -> None:
    parser.add_argument("--recipe", type=Path, help="recipe JSON (default: the model's own recipe)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one recipe setting, e.g. --set train.epochs=5 (repeatable)")


def register(subparsers) -> None:
    names = ", ".join(e.name for e in list_models()) or "none in this version"
    for command, summary in _COMMANDS.items():
        parser = subparsers.add_parser(command, help=summary, description=summary + ".")
        parser.add_argument("--model", required=True, help=f"model name ({names})")
        if command == "predict":
            parser.add_argument("path", type=Path, help="photo, audio or video file")
        else:
            parser.add_argument("--data", type=Path, required=True, help="dataset folder")
        if command in ("predict", "evaluate"):
            parser.add_argument("--weights", type=Path,
                                help="weights file (default: the shipped model)")
            parser.add_argument("--json", type=Path, help="also write the result to this JSON file")
        if command == "predict":
            parser.add_argument("--cam", action="store_true",
                                help="face model: write the activation map over the photo (or a "
                                     "video frame, see --cam-time)")
            parser.add_argument("--cam-time", type=float,
                                help="video: the time of the frame to explain (default: the middle)")
            parser.add_argument("--cam-method", default="gradcam", choices=CAM_METHODS,
                                help="class activation map method (default: gradcam)")
            parser.add_argument("--cam-target", help="the emotion to explain (default: each face's top one)")
            parser.add_argument("--cam-layer", help="the layer to explain, e.g. backbone.features.13 "
                                                    "(default: the deepest with at least a 4x4 map)")
            parser.add_argument("--cam-out", type=Path, help="overlay image to write "
                                                             "(default: output_files/<name>_<method>.png)")
        if command == "evaluate":
            parser.add_argument("--speakers", nargs="+", default=(),
                                help="evaluate only these speakers or subjects (default: all)")
            parser.add_argument("--split", help="evaluate only this split of the dataset, e.g. "
                                                "test or private for FER2013 (default: all)")
        if command in ("preprocess", "train", "tune"):
            _recipe_arguments(parser)
        if command == "train":
            parser.add_argument("--out", type=Path,
                                help="weights file to write (default: output_files/models/<model>/)")
            parser.add_argument("--run-dir", type=Path,
                                help="checkpoint folder; an unfinished run there is resumed "
                                     "(default: data/runs/<model>-<run id>)")
            parser.add_argument("--fresh", action="store_true",
                                help="start over instead of resuming the run's checkpoint")
        parser.set_defaults(func=run, command=command)


def run(args) -> int:
    entry = get_model(args.model)  # raises a clear error for unknown names
    if getattr(args, "cam", False) and entry.branch != "face":
        raise StudioError(f"--cam explains face models; {entry.name!r} is a {entry.branch} model.")
    handler = entry.commands.get(args.command)
    if handler is None:
        supported = ", ".join(sorted(entry.commands)) or "nothing from the command line"
        raise StudioError(f"Model {entry.name!r} does not support {args.command!r}; "
                          f"it supports: {supported}.")
    return handler(args)
