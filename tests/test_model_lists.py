"""The model lists every front end offers come from the registry (issue 29, item 2): a branch's
models, which ship untrained, and the ``voice`` alias are read from the registered entries, so
registering a model is the one edit."""

import pytest

from source.options import AnalysisOptions
from source.paths import MODELS_DIR
from source.registry import ModelEntry, branch_models, get_model, list_models
from source.weights import checked_sha256


def test_a_branch_offers_its_registered_models():
    assert branch_models("face") == ("face", "image_vit")
    assert {"voice_mfcc", "voice_whisper"} <= set(branch_models("voice"))
    assert {"combined", "late_fusion", "xattn_fusion", "lt_fusion"} <= set(branch_models("fusion"))
    assert branch_models("text") == ("text",)
    assert all(get_model(name).branch == "voice" for name in branch_models("voice"))


def test_analysis_options_take_a_branch_model_and_name_the_others():
    assert AnalysisOptions(face_model="image_vit").face_model == "image_vit"
    for name in branch_models("voice"):
        assert AnalysisOptions(voice_model=name).voice_model == name
    with pytest.raises(ValueError, match="face_model must be one of face, image_vit, not 'voice_mfcc'"):
        AnalysisOptions(face_model="voice_mfcc")
    with pytest.raises(ValueError, match="voice_model must be one of voice_mfcc, voice_whisper.*not 'face'"):
        AnalysisOptions(voice_model="face")


def test_ships_untrained_is_said_once_by_the_entry():
    untrained = {entry.name for entry in list_models() if not entry.ships_trained}
    assert untrained == {"image_vit", "lt_fusion", "it_fusion", "ia_fusion", "c3d_fusion"}
    for name in untrained:  # nothing trained of theirs is in the studio
        assert not (MODELS_DIR / name / "metrics.json").exists() and not (MODELS_DIR / name / f"{name}.pt").exists()
    # an entry ships trained when it names a file (or is a rule): the file and its sha256 are named once,
    # in the entry, and every shipped file exists with that sha256
    assert not ModelEntry("x", "face", "x", loader="source.face.model:FaceModel.load").ships_trained
    for entry in list_models():
        if entry.weights is not None:
            assert entry.weights.path.is_file() and checked_sha256(entry.weights.path, entry.weights.sha256)
            assert entry.weights.path.parent == MODELS_DIR / entry.name  # models/<name>/


def test_voice_stands_for_the_default_voice_model():
    assert get_model("voice") is get_model(AnalysisOptions.voice_model)


def test_the_mfcc_voice_model_answers_to_its_former_name():
    """``audio`` was the MFCC voice model's name until 2026-12-05: older cards' commands and
    fusion files that name it still find it."""
    assert get_model("audio") is get_model("voice_mfcc")


def test_one_load_takes_a_name_or_a_weights_file(tmp_path):
    from source.voice.whisper_voice import WhisperVoiceModel
    from source.errors import StudioError
    from source.face.model import FaceModel
    from source.fusion.research.family import FamilyModel
    from source.registry import load
    from source.weights import WeightsError

    face = load("face")
    assert isinstance(face, FaceModel) and face.sha256 == get_model("face").weights.sha256
    voice = load("voice")  # the alias of the default voice model
    assert voice.sha256 == get_model("voice").load().sha256
    # a file is loaded by the model whose kind it holds, whatever its name or folder
    copied = tmp_path / "renamed.pt"
    copied.write_bytes((MODELS_DIR / "voice_whisper" / "voice_whisper.pt").read_bytes())
    from_file = load(copied)
    assert isinstance(from_file, WhisperVoiceModel) and from_file.sha256 == get_model("voice_whisper").weights.sha256
    family_file = load(str(MODELS_DIR / "late_fusion" / "late_fusion.pt"))
    assert isinstance(family_file, FamilyModel) and family_file.family.name == "late_fusion"
    with pytest.raises(StudioError, match="neither a model name"):
        load("no_such_model")
    not_weights = tmp_path / "notes.pt"
    not_weights.write_text("not a weights file")
    with pytest.raises(WeightsError):
        load(not_weights)


def test_late_fusion_is_a_rule_of_the_fusion_branch_and_auto_stands_for_it():
    """The fusions the front ends offer come from the registry too: late fusion is an entry marked
    ``rule`` (nothing trained, no file), listed first; ``auto`` is the alias of the best on real
    media, late_fusion (which the analysis uses where it reads what it learned from)."""
    from source.fusion.late import RELIABILITY, LateFusion
    from source.registry import load

    assert branch_models("fusion")[0] == "late" and get_model("late").rule
    assert get_model("auto") is get_model("late_fusion") and AnalysisOptions().fusion == "auto"
    assert not any(get_model(name).rule for name in branch_models("fusion")[1:])
    late = load("late")
    assert isinstance(late, LateFusion) and late.facts()["weights"] == RELIABILITY



def test_the_card_of_a_rule_says_how_it_is_used(capsys):
    from source.cli.models import show_card

    assert show_card(get_model("late")) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("late (fusion)") and "a fixed rule: analyze --fusion late" in shown
    assert "# Late fusion" in shown  # models/late/MODEL_CARD.md
