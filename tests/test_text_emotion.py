"""The trained text-emotion model: obvious sentences, evidence, the file format, train/evaluate on GoEmotions."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from source.datasets.text import read_goemotions, read_text_dataset
from source.errors import DatasetError
from source.labels import EMOTIONS
from source.registry import get_model
from source.text.emotion import TextEmotionModel

SHIPPED_WEIGHTS = get_model("text").weights.path
from source.text.train import evaluate_text
from source.weights import WeightsError

ROOT = Path(__file__).resolve().parent.parent
GOEMOTIONS = ROOT.parent / "shared" / "data" / "goemotions_ekman"


@pytest.fixture(scope="module")
def model():
    return TextEmotionModel.load()


@pytest.mark.parametrize("text,emotion", [
    ("This is wonderful news. I love it. Everything is great and I feel fantastic.", "happy"),
    ("This is wonderful news.", "happy"),
    ("I am so angry at you, this is unacceptable!", "angry"),
    ("I'm scared, I don't know what will happen.", "fear"),
    ("That is disgusting, gross.", "disgust"),
    ("My dog died yesterday and I miss him so much.", "sad"),
    ("Wow, I did not expect that at all!", "surprise"),
])
def test_obvious_sentences(model, text, emotion):
    scores = model.score(text)
    assert scores["top_emotion"] == emotion and scores["evidence"] > 0.7


def test_plain_statements_carry_little_evidence(model):
    for text in ("The meeting is at ten in the conference room.", "Kids are talking by the door."):
        scores = model.score(text)
        assert scores["evidence"] < 0.5, (text, scores)
    assert model.score("  ") is None
    probabilities = model.predict(["I love it", "I hate it"])
    assert probabilities.shape == (2, 7) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_shipped_file_is_checked_and_holds_no_pickle(tmp_path):
    with np.load(SHIPPED_WEIGHTS, allow_pickle=False) as saved:  # plain arrays and JSON only
        assert json.loads(str(saved["meta"]))["labels"] == list(EMOTIONS)
    damaged = tmp_path / "text_emotion.npz"
    damaged.write_bytes(SHIPPED_WEIGHTS.read_bytes()[:-100])
    with pytest.raises(WeightsError, match="not a readable text-emotion model"):
        TextEmotionModel.load(damaged)
    copy = tmp_path / "copy.npz"
    model = TextEmotionModel.load()
    model.temperature = 2.0
    model.save(copy)
    again = TextEmotionModel.load(copy)
    assert again.temperature == 2.0 and again.score("I love it")["top_emotion"] == "happy"


def test_text_folders_and_tsv_layouts(tmp_path):
    for emotion, text in (("joy", "What a lovely surprise party, I am delighted!"), ("anger", "I am furious with them.")):
        (tmp_path / "folders" / emotion).mkdir(parents=True)
        (tmp_path / "folders" / emotion / "a.txt").write_text(text, encoding="utf-8")
    samples = read_text_dataset(tmp_path / "folders")
    assert sorted(s.emotions for s in samples) == [("angry",), ("happy",)]
    report = evaluate_text(tmp_path / "folders")
    assert report["n"] == 2 and report["accuracy"] == 1.0 and report["labels"] == list(EMOTIONS)
    (tmp_path / "tsv").mkdir()
    (tmp_path / "tsv" / "labels.txt").write_text("anger\ndisgust\nfear\njoy\nneutral\nsadness\nsurprise\n")
    (tmp_path / "tsv" / "dev.tsv").write_text("I am so happy\t3\ta\nugh\t0,1\tb\n", encoding="utf-8")
    rows = read_goemotions(tmp_path / "tsv" / "dev.tsv")
    assert [r.emotions for r in rows] == [("happy",), ("angry", "disgust")]
    (tmp_path / "tsv" / "bad.tsv").write_text("text\t9\tc\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="not a list of label ids 0-6"):
        read_goemotions(tmp_path / "tsv" / "bad.tsv")


@pytest.mark.shared_data("goemotions_ekman")
def test_evaluate_on_goemotions_dev(tmp_path):
    out = tmp_path / "dev.json"
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "evaluate", "--model", "text", "--data",
                           str(GOEMOTIONS / "dev.tsv"), "--json", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["accuracy"] >= 0.60 and report["n"] > 4000
    assert set(report) >= {"accuracy", "macro_f1", "ece", "per_class", "confusion", "n"}
    # every emotion is recalled, not just neutral (the lexicon's failure)
    assert all(report["per_class"][e]["recall"] > 0.2 for e in EMOTIONS)
