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


def test_arrays_made_together_are_cached_apart_and_a_new_one_keeps_the_stored_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_STUDIO_CACHE", str(tmp_path))
    key = {"test": 2}
    calls = []

    def make(value: int):
        def compute():
            calls.append(value)
            return np.full(2, value, dtype=np.uint8), np.full(3, value, dtype=np.float32)
        return compute

    first = cache.cached_array("crops", key, lambda: make(1)()[0])
    crops, landmarks = cache.cached_arrays(("crops", "landmarks"), key, make(2))
    assert crops.tolist() == first.tolist() == [1, 1]  # stored before: kept, not made again
    assert landmarks.dtype == np.float32 and landmarks.tolist() == [2, 2, 2]
    again = cache.cached_arrays(("crops", "landmarks"), key, make(3))
    assert [a.tolist() for a in again] == [[1, 1], [2, 2, 2]] and calls == [1, 2]
