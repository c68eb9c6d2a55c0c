"""``run.py tune`` on a few real RAVDESS clips: Hyperopt here, resumed, and through Ray Tune."""

import json
from pathlib import Path

import pytest

from helpers import run_py
from source.voice.train import VoiceRecipe
from source.cli.main import main
from source.tuning.search import tuned_recipe

TINY = ("--set", 'validation_speakers=["03"]', "--set", "test_speakers=[]",
        "--set", "augmented_copies=0", "--set", "train.epochs=1", "--set", "backbone=squeezenet1_1")


@pytest.fixture
def clips(shared_data, tmp_path) -> Path:
    """One clip per emotion code of actors 01-03 (24 clips), linked from the shared data."""
    source = shared_data / "ravdess_speech"
    if not source.is_dir():
        pytest.skip("../shared/data/ravdess_speech is not here")
    for actor in ("01", "02", "03"):
        folder = tmp_path / "ravdess" / f"Actor_{actor}"
        folder.mkdir(parents=True)
        for code in ("01", "02", "03", "04", "05", "06", "07", "08"):
            clip = sorted((source / f"Actor_{actor}").glob(f"03-01-{code}-*"))[0]
            (folder / clip.name).symlink_to(clip)
    return tmp_path / "ravdess"


def tune(clips: Path, tmp_path: Path, *extra):
    return run_py("tune", "--model", "voice_mfcc", "--data", clips, "--state", tmp_path / "search",
                  "--out", tmp_path / "best.json", *TINY, *extra, cache=tmp_path / "cache")


@pytest.mark.slow
def test_a_stopped_search_resumes_and_train_applies_the_best(clips, tmp_path, capsys, monkeypatch):
    """In-process (no interpreter start per run): a 1-trial search, then the same search to 2."""
    monkeypatch.setenv("EMOTION_STUDIO_CACHE", str(tmp_path / "cache"))
    common = ["tune", "--model", "voice_mfcc", "--data", str(clips), "--state", str(tmp_path / "search"),
              "--out", str(tmp_path / "best.json"), *TINY]
    assert main([*common, "--max-evals", "1"]) == 0
    assert "trial 1/1: macro-F1" in capsys.readouterr().out
    assert main([*common, "--max-evals", "2"]) == 0
    out = capsys.readouterr().out
    assert "resuming: 1 trial(s) done before" in out and "trial 2/2" in out
    best = json.loads((tmp_path / "best.json").read_text())
    # the best of the two trials the search saved is the one kept
    saved = json.loads((tmp_path / "search" / "hyperopt_trials.json").read_text())
    results = [trial["result"]["result"] for trial in saved["trials"]]
    winner = max(results, key=lambda r: r["macro_f1"])
    assert best["trials"] == 2 == len(results)
    assert best["macro_f1"] == winner["macro_f1"] and best["parameters"] == winner["parameters"]
    assert best["macro_f1"] == -min(trial["result"]["loss"] for trial in saved["trials"])
    parameters = best["parameters"]
    # --set backbone fixed it: it is no longer searched; the audio-only settings are
    assert "backbone" not in parameters and {"transform.n_mfcc", "augment_strength"} <= set(parameters)
    assert len(list((tmp_path / "search" / "trials").iterdir())) == 2
    recipe = tuned_recipe(VoiceRecipe, None, [], tmp_path / "best.json", log=lambda line: None)
    assert recipe.transform.n_mfcc == parameters["transform.n_mfcc"]
    assert recipe.head.units == parameters["head.units"]
    assert recipe.augment.p == pytest.approx(min(1.0, 0.5 * parameters["augment_strength"]), abs=1e-4)


@pytest.mark.slow
def test_the_same_search_through_ray_tune(clips, tmp_path):
    pytest.importorskip("ray.tune", reason="Ray Tune is not installed (pip install 'ray[tune]')")
    result = tune(clips, tmp_path, "--max-evals", 2, "--engine", "ray", "--workers", 2)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("macro-F1") == 3  # two trials and the best
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["trials"] == 2 and best["search"]["engine"] == "ray"
    assert (tmp_path / "search" / "ray").is_dir()


def test_bad_tune_settings_are_one_clear_line(tmp_path, capsys):
    assert main(["tune", "--model", "voice_mfcc", "--data", str(tmp_path), "--max-evals", "0"]) == 1
    assert capsys.readouterr().err.strip() == "error: --max-evals must be at least 1."
    assert main(["tune", "--model", "text", "--data", str(tmp_path)]) == 1
    assert "does not support 'tune'" in capsys.readouterr().err
