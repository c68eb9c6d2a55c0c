"""Model subcommands: ``predict``, ``preprocess``, ``train``, ``tune``, ``evaluate``.

Each takes ``--model NAME`` from the model registry; the model families add their own work
to these commands, so the command line keeps one shape as models arrive.
"""

from pathlib import Path

from ..errors import StudioError
from ..registry import get_model, list_models

_COMMANDS = {
    "predict": "predict emotions for one file with a single model",
    "preprocess": "detect a dataset and cache its features (MFCCs, face crops)",
    "train": "train a model on a dataset",
    "tune": "search hyperparameters with Hyperopt",
    "evaluate": "evaluate a model on a dataset and write the evaluate JSON",
}


def register(subparsers) -> None:
    names = ", ".join(e.name for e in list_models()) or "none in this version"
    for command, summary in _COMMANDS.items():
        parser = subparsers.add_parser(command, help=summary, description=summary + ".")
        parser.add_argument("--model", required=True, help=f"model name ({names})")
        if command == "predict":
            parser.add_argument("path", type=Path, help="photo, audio or video file")
        else:
            parser.add_argument("--data", type=Path, required=True, help="dataset folder")
        parser.set_defaults(func=run, command=command)


def run(args) -> int:
    entry = get_model(args.model)  # raises a clear error for unknown names
    handler = entry.commands.get(args.command)
    if handler is None:
        supported = ", ".join(sorted(entry.commands)) or "nothing from the command line"
        raise StudioError(f"Model {entry.name!r} does not support {args.command!r}; "
                          f"it supports: {supported}.")
    return handler(args)
