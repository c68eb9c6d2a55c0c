"""``run.py preprocess``: features cached once, reused by a second run and by training; an
interrupted cache keeps its finished rows."""

import numpy as np
import pytest

from source.cli.main import main
from source.training import cache
from test_tune import TINY, clips  # noqa: F401  (the fixture)


def test_preprocess_then_again_then_train_reuse_the_cache(clips, tmp_path, capsys, monkeypatch):  # noqa: F811
    """In-process, so the three runs share one interpreter start."""
    monkeypatch.setenv("EMOTION_STUDIO_CACHE", str(tmp_path / "unused"))
    common = ["--model", "voice_mfcc", "--data", str(clips), *TINY, "--untuned"]
    assert main(["preprocess", *common, "--out", str(tmp_path / "cache"), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "features (train, augmented): 16 clips, 0 already cached, 16 computed" in out
    stored = sorted((tmp_path / "cache" / "features").iterdir())
    assert main(["preprocess", *common, "--cache", str(tmp_path / "cache")]) == 0
    assert "features (validation): 8 clips, 8 already cached, 0 computed" in capsys.readouterr().out
    assert main(["train", *common, "--cache", str(tmp_path / "cache"), "--out",
                 str(tmp_path / "out" / "voice.pt"), "--run-dir", str(tmp_path / "run")]) == 0
    assert sorted((tmp_path / "cache" / "features").iterdir()) == stored  # nothing recomputed
    for report in ("training_history.png", "confusion_matrix.png", "classification_report.json",
                   "evaluate_validation.json"):
        assert (tmp_path / "run" / report).stat().st_size > 100


class Stop(Exception):
    pass


def square_or_stop(job):
    value, stop = job
    if stop:
        raise Stop
    return np.full(3, value * value)


def test_an_interrupted_cache_computes_only_the_missing_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_STUDIO_CACHE", str(tmp_path))
    key = {"test": 1}
    with pytest.raises(Stop):
        cache.cached_rows("rows", key, [(i, i == 5) for i in range(8)], square_or_stop, (3,), np.int64)
    reports = []
    rows = cache.cached_rows("rows", key, [(i, False) for i in range(8)], square_or_stop, (3,),
                             np.int64, progress=lambda done, total: reports.append(done))
    assert reports[0] == 5  # rows 0-4 were kept from the interrupted run
    assert rows[:, 0].tolist() == [i * i for i in range(8)]
    assert not list(tmp_path.glob("features/*.partial.npy"))
