"""The dataset commands every family shares (``source.cli.training``), built from a family's
``TrainingCommands``: which commands it declares, the recipe and default file train uses, the
arguments each function gets (the family's ``bound`` ones first), what narrows evaluate; and the
registry finding every family's ``register`` module by itself."""

from argparse import Namespace
from dataclasses import dataclass
from pathlib import Path

import pytest

from source.cli import training
from source.registry import TrainingCommands, get_model, register_modules

CALLS = []


@dataclass(frozen=True)
class Recipe:
    backbone: str = "small"
    epochs: int = 3


def fake_train(family, data, recipe, out, run_dir, fresh, command, on_features=None, on_epoch=None, log=print):
    CALLS.append(("train", family, data, recipe, out, run_dir, fresh))
    report = {"accuracy": 0.5, "macro_f1": 0.4, "ece_uncalibrated": 0.2, "ece": 0.1, "n": 8}
    return {"validation": report, "temperature": 1.5, "weights_sha256": "ab" * 32, "run_dir": str(run_dir)}


def fake_evaluate(family, data, weights, selection, on_features=None):
    CALLS.append(("evaluate", family, data, weights, selection))
    return {"accuracy": 0.5, "macro_f1": 0.4, "ece": 0.1, "n": 8}


def fake_predict(family, args):
    CALLS.append(("predict", family, args.path))
    return 0


def spec(**changes) -> TrainingCommands:
    values = {"recipe": f"{__name__}:Recipe", "unit": "window", "out": "fake_{recipe.backbone}.pt",
              "train": f"{__name__}:fake_train", "evaluate": f"{__name__}:fake_evaluate", "bound": ("family A",)}
    return TrainingCommands(**{**values, **changes})


def arguments(**values) -> Namespace:
    defaults = {"model": "no_such_model", "data": Path("data"), "recipe": None, "set": [], "untuned": False,
                "hyperparameters": None, "out": None, "run_dir": None, "fresh": False, "promote": False,
                "split": None, "speakers": [], "weights": None, "json": None, "path": Path("clip.mp4")}
    return Namespace(**{**defaults, **values})


def test_a_family_declares_the_commands_its_description_supports():
    assert spec().names() == ("train", "evaluate")
    full = spec(prepare=f"{__name__}:fake_train", ensemble=f"{__name__}:fake_train", search_space={"epochs": ()})
    assert full.names() == ("preprocess", "tune", "train", "ensemble", "evaluate")
    assert list(spec().commands(predict=f"{__name__}:fake_predict")) == ["predict", "train", "evaluate"]
    with pytest.raises(ValueError):
        spec(selects="corpus")


def test_train_reads_the_recipe_with_set_and_writes_the_default_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(training, "OUTPUT_DIR", tmp_path)
    CALLS.clear()
    handlers = training.handlers(spec(), {})
    assert handlers["train"](arguments(set=["backbone=large"], fresh=True)) == 0
    _, family, data, recipe, out, _, fresh = CALLS[0]
    assert (family, data, recipe, fresh) == ("family A", Path("data"), Recipe(backbone="large"), True)
    assert out == tmp_path / "models" / "no_such_model" / "fake_large.pt"
    printed = capsys.readouterr().out
    assert "validation: accuracy 0.500, macro-F1 0.400, ECE 0.200 -> 0.100 (temperature 1.50), 8 windows" in printed
    assert f"wrote {out} (sha256 abababababab…)" in printed


@pytest.mark.parametrize("selects, values, selection", [
    ("split", {}, None), ("split", {"split": "private"}, "private"),
    ("part", {}, "test"), ("part", {"split": "validation"}, "validation"),
    ("speakers", {"speakers": ["03", "04"]}, ("03", "04"))])
def test_evaluate_is_narrowed_as_the_family_says(selects, values, selection, capsys):
    CALLS.clear()
    handlers = training.handlers(spec(selects=selects), {})
    assert handlers["evaluate"](arguments(**values)) == 0
    assert CALLS == [("evaluate", "family A", Path("data"), None, selection)]
    assert "accuracy 0.500, macro-F1 0.400, ECE 0.100, 8 windows" in capsys.readouterr().out


def test_a_family_s_own_handlers_take_its_bound_arguments_too():
    CALLS.clear()
    commands = spec().commands(predict=f"{__name__}:fake_predict")
    assert commands["predict"](arguments()) == 0
    assert CALLS == [("predict", "family A", Path("clip.mp4"))]


def test_every_register_module_is_found_without_a_list():
    found = register_modules()
    assert found == sorted(found) and {"source.voice.register", "source.face.register", "source.fusion.register",
                                       "source.fusion.research.register", "source.text.register"} <= set(found)
    assert get_model("late_fusion").commands and get_model("combined").commands


def test_each_research_family_names_a_train_function_and_its_windows():
    from source.fusion.research.families import WINDOW_FAMILIES
    from source.options import WindowOptions
    from source.registry import resolve

    for family in WINDOW_FAMILIES:
        assert callable(resolve(f"source.fusion.research.{family.trainer}")), family.name
        assert isinstance(family.windows, WindowOptions), family.name
    assert {f.name: f.trainer for f in WINDOW_FAMILIES}["late_fusion"] == "late_fusion:train_late_fusion"
