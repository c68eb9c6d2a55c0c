"""The model lists every front end offers come from the registry (issue 29, item 2): a branch's
models, which ship untrained, and the ``voice`` alias are read from the registered entries, so
registering a model is the one edit."""

import pytest

from source.options import AnalysisOptions
from source.paths import MODELS_DIR
from source.registry import ModelEntry, branch_models, get_model, list_models


def test_a_branch_offers_its_registered_models():
    assert branch_models("face") == ("face", "image_vit")
    assert {"audio", "voice_whisper"} <= set(branch_models("audio"))
    assert {"combined", "late_fusion", "xattn_fusion", "lt_fusion"} <= set(branch_models("fusion"))
    assert branch_models("text") == ("text",)
    assert all(get_model(name).branch == "audio" for name in branch_models("audio"))


def test_analysis_options_take_a_branch_model_and_name_the_others():
    assert AnalysisOptions(face_model="image_vit").face_model == "image_vit"
    for name in branch_models("audio"):
        assert AnalysisOptions(voice_model=name).voice_model == name
    with pytest.raises(ValueError, match="face_model must be one of face, image_vit, not 'audio'"):
        AnalysisOptions(face_model="audio")
    with pytest.raises(ValueError, match="voice_model must be one of audio, voice_whisper.*not 'face'"):
        AnalysisOptions(voice_model="face")


def test_ships_untrained_is_said_once_by_the_entry():
    untrained = {entry.name for entry in list_models() if not entry.ships_trained}
    assert untrained == {"image_vit", "lt_fusion", "it_fusion", "ia_fusion", "c3d_fusion"}
    for name in untrained:  # nothing trained of theirs is in the studio
        assert not (MODELS_DIR / name / "metrics.json").exists() and not (MODELS_DIR / name / f"{name}.pt").exists()
    assert ModelEntry("x", "face", "x", load="source.face.model:FaceModel.load").ships_trained


def test_voice_stands_for_the_default_voice_model():
    assert get_model("voice") is get_model(AnalysisOptions.voice_model)
