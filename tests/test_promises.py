"""Promises the README and docs make that no test held to (issue 29, item 7): a shipped weights
file whose bytes changed is refused with a clear error; ``train --promote`` puts the trained
model, its card and reports in ``models/<model>/``; a model file changed on disk is loaded again
by a long-lived process; batch workers run on one core each (``worker_environment``)."""

import dataclasses
import hashlib
import os
import shutil
from argparse import Namespace
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest

from source.cli import progress
from source.cli.main import main
from source.weights import WeightsError, checked_sha256, load_weights

EMOTION_ROWS = {  # GoEmotions label ids: anger, disgust, fear, joy, neutral, sadness, surprise
    0: ["I am furious with you", "this makes me so angry", "how dare they do this", "I hate this rage"],
    1: ["that is disgusting", "gross, it smells rotten", "revolting and vile food", "yuck, so nasty"],
    2: ["I am scared of the dark", "this is terrifying", "I fear the worst", "so afraid and nervous"],
    3: ["I love this so much", "what a happy day", "this is wonderful news", "I am delighted"],
    4: ["the meeting is at noon", "it is a table", "the bus leaves at five", "here is the file"],
    5: ["I miss her so much", "this is so sad", "I feel lonely and down", "we lost, I am heartbroken"],
    6: ["wow, I did not expect that", "what a surprise", "no way, really?", "I am shocked and amazed"],
}


def flipped(source: Path, target: Path) -> Path:
    """A copy of ``source`` with one bit of one byte in its middle changed (same size)."""
    data = bytearray(source.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    return target


def shipping(monkeypatch, name: str, path: Path) -> None:
    """The registry's entry ``name`` ships ``path`` in place of its file, with the same pinned sha256."""
    from source import registry

    entry = registry.get_model(name)
    replaced = dataclasses.replace(entry, weights=registry.ShippedWeights(str(path), entry.weights.sha256))
    monkeypatch.setitem(registry._MODELS, name, replaced)


def test_a_shipped_weights_file_whose_bytes_changed_is_refused(tmp_path, monkeypatch):
    from source.face.model import FaceModel
    from source.registry import get_model

    pinned = get_model("face").weights
    intact = Path(shutil.copy(pinned.path, tmp_path / "intact.pt"))
    assert checked_sha256(intact, pinned.sha256) == pinned.sha256
    tampered = flipped(intact, tmp_path / "face_mobilenet_v2.pt")
    with pytest.raises(WeightsError, match=r"does not have the expected sha256 .* damaged or was replaced"):
        load_weights(tampered, FaceModel.KIND, pinned.sha256)
    shipping(monkeypatch, "face", tampered)
    with pytest.raises(WeightsError, match=f"{tampered}.*git checkout -- {tampered}"):
        FaceModel.load()
    with pytest.raises(WeightsError, match=f"{tampered}.*git checkout"):
        get_model("face").load()  # the registry's way in reads the same pinned file
    # a valid file of the same kind put in the shipped file's place is refused just the same
    shipping(monkeypatch, "face", intact)
    model = FaceModel.load()
    model.temperature = model.temperature * 2
    model.save(tampered)
    assert FaceModel.load(tampered).temperature == model.temperature  # as the user's own file it loads
    shipping(monkeypatch, "face", tampered)
    with pytest.raises(WeightsError, match="expected sha256"):
        FaceModel.load()


def test_a_changed_shipped_text_model_is_refused(tmp_path, monkeypatch):
    from source.registry import get_model
    from source.text import emotion

    tampered = flipped(get_model("text").weights.path, tmp_path / "text_emotion.npz")
    shipping(monkeypatch, "text", tampered)
    with pytest.raises(WeightsError, match="text-emotion model .* does not have the expected sha256"):
        emotion.TextEmotionModel.load()


def goemotions(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "labels.txt").write_text("anger\ndisgust\nfear\njoy\nneutral\nsadness\nsurprise\n")
    rows = [f"{text}\t{label}\tid{label}{i}" for label, texts in EMOTION_ROWS.items() for i, text in enumerate(texts)]
    (folder / "train.tsv").write_text("\n".join(rows * 3) + "\n", encoding="utf-8")
    (folder / "dev.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_train_promote_copies_the_model_and_its_card_into_the_models_folder(tmp_path, monkeypatch, capsys):
    models = tmp_path / "models"
    monkeypatch.setattr(progress, "MODELS_DIR", models)
    out = tmp_path / "trained" / "text_emotion.npz"
    args = ["train", "--model", "text", "--data", str(goemotions(tmp_path / "data")), "--out", str(out)]
    assert main([*args, "--promote"]) == 0
    printed = capsys.readouterr().out
    sha256 = hashlib.sha256(out.read_bytes()).hexdigest()
    assert f"copied to {models / 'text'}" in printed and f"pinning {sha256}" in printed
    promoted = models / "text"
    assert (promoted / out.name).read_bytes() == out.read_bytes()
    for name in ("MODEL_CARD.md", "metrics.json"):
        assert (promoted / name).read_text() == (out.parent / name).read_text()
    from source.text.emotion import TextEmotionModel

    assert TextEmotionModel.load(promoted / out.name).sha256 == sha256
    # without --promote nothing is copied
    shutil.rmtree(models)
    progress.promote_if_asked(Namespace(promote=False, model="text"), out, {"weights_sha256": sha256})
    assert not models.exists()


def test_promote_takes_the_run_reports_when_there_is_a_run_folder(tmp_path):
    out, run = tmp_path / "trained" / "face.pt", tmp_path / "run"
    for path in (out, out.parent / "MODEL_CARD.md", out.parent / "recipe.json", out.parent / "confusion_test.png",
                 run / "training_history.png", run / "classification_report.json", run / "last.pt"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(path.name)
    copied = progress.promote(out, run, tmp_path / "models" / "face")
    assert sorted(p.name for p in copied) == ["MODEL_CARD.md", "classification_report.json", "confusion_test.png",
                                              "face.pt", "recipe.json", "training_history.png"]
    assert all(p.read_text() == p.name for p in copied)  # last.pt (a checkpoint) stays in the run


def test_a_model_file_changed_on_disk_is_loaded_again(tmp_path):
    from source.analysis.pipeline import loaded

    calls = []

    def load(path):
        calls.append(path)
        return Path(path).read_text()

    weights = tmp_path / "model.pt"
    weights.write_text("first")
    assert loaded(load, str(weights)) == "first"
    assert loaded(load, str(weights)) == "first" and len(calls) == 1  # once per process
    weights.write_text("second, longer")
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert loaded(load, str(weights)) == "second, longer" and len(calls) == 2
    assert loaded(load, str(weights)) == "second, longer" and len(calls) == 2
    weights.unlink()  # a missing file goes to load itself, for its own clear error
    with pytest.raises(FileNotFoundError):
        loaded(load, str(weights))


def _worker_threads() -> tuple[str | None, int]:
    import torch

    return os.environ.get("OMP_NUM_THREADS"), torch.get_num_threads()


@pytest.mark.parametrize("before", [None, "3"])
def test_batch_workers_start_with_one_thread_and_the_setting_is_put_back(before, monkeypatch):
    from source.batch import worker_environment

    if before is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", before)
    with worker_environment():
        assert os.environ["OMP_NUM_THREADS"] == "1"
        if before is None:  # one real worker: torch in it uses one thread
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                assert pool.submit(_worker_threads).result(timeout=120) == ("1", 1)
    assert os.environ.get("OMP_NUM_THREADS") == before
