"""Start-up: ``run.py --help`` and every subcommand's ``--help`` import no heavy library; the
registry is a table of names whose loaders and command handlers are imported only when used."""

import json
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from source.registry import Commands, Lazy, get_model, lazy, list_models

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "torch", "torchvision", "mediapipe", "spacy", "ray", "whisper", "faster_whisper", "ctranslate2",
         "streamlit", "sklearn", "scipy", "hyperopt", "cv2", "librosa", "pandas", "matplotlib", "transformers",
         "textblob", "nltk", "fastapi", "uvicorn")

# run in a fresh interpreter: parse each --help as run.py does, note the heavy packages imported after each
_PROBE = """
import argparse, contextlib, io, json, sys
from source.cli.main import build_parser, main
HEAVY = {heavy!r}
parser = build_parser()
commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
report = []
for argv in [["--help"]] + [[command, "--help"] for command in commands]:
    with contextlib.redirect_stdout(io.StringIO()) as shown:
        code = main(argv)
    heavy = sorted({{name.split(".")[0] for name in sys.modules}} & set(HEAVY))
    report.append({{"argv": argv, "code": code, "usage": shown.getvalue().startswith("usage: run.py"),
                    "heavy": heavy}})
from source.registry import list_models
entries = [(e.name, sorted(e.commands), "train" in e.commands) for e in list_models()]
report.append({{"argv": ["list_models"], "code": 0, "usage": bool(entries),
                "heavy": sorted({{name.split(".")[0] for name in sys.modules}} & set(HEAVY))}})
print(json.dumps(report))
"""


def test_help_imports_nothing_heavy():
    result = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=HEAVY)], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    argvs = [" ".join(step["argv"]) for step in report]
    for command in ("--help", "analyze --help", "train --help", "predict --help", "batch --help",
                    "serve --help", "assets --help", "list_models"):
        assert command in argvs
    for step in report:
        assert step["code"] == 0 and step["usage"], step
        assert step["heavy"] == [], f"{' '.join(step['argv'])} imported {step['heavy']}"


def _target(load):
    """What a registry loader calls, imported now."""
    while isinstance(load, partial):
        load = load.func
    return load.resolve() if isinstance(load, Lazy) else load


def test_every_registered_name_resolves():
    """Each entry's loader and each command it declares exist (a family's handlers are exactly its
    declared commands)."""
    for entry in list_models():
        assert callable(_target(entry.loader)), entry.name
        assert entry.commands or entry.rule, entry.name  # a rule (late fusion) has no command of its own
        for command in entry.commands:
            assert callable(entry.commands[command]), (entry.name, command)


def test_lazy_entries_are_the_family_code():
    import source.cli.face
    import source.face.model

    face = get_model("face")
    assert face.commands["predict"] is source.cli.face.predict
    assert _target(face.loader) == source.face.model.FaceModel.load
    assert "tune" in get_model("lt_fusion").commands and "tune" not in get_model("late_fusion").commands
    assert sorted(get_model("image_vit").commands) == ["evaluate", "predict", "train"]


def test_commands_import_on_lookup_only():
    calls = []

    def handlers():
        calls.append(1)
        return {"train": len, "evaluate": abs}

    commands = Commands(("train", "evaluate"), handlers)
    assert "train" in commands and "predict" not in commands and sorted(commands) == ["evaluate", "train"]
    assert commands.get("predict") is None and calls == []
    assert commands["train"] is len and commands["evaluate"] is abs and calls == [1]
    with pytest.raises(RuntimeError):
        Commands(("train", "predict"), handlers)["train"]  # declares a command it does not have
    by_path = Commands({"dumps": "json:dumps", "length": len})
    assert by_path["dumps"] is json.dumps and by_path["length"] is len
    assert Commands(("dumps",), "json")["dumps"] is json.dumps


def test_lazy_imports_when_called():
    loads = lazy("json:loads")
    assert loads("[1]") == [1] and loads.resolve() is json.loads
    with pytest.raises(ValueError):
        lazy("json.loads")  # no module:name separator
    with pytest.raises(AttributeError):
        lazy("json:no_such_name")()
