"""CTranslate2 -> openai-whisper conversion, and the openai-whisper backend on the converted weights."""

import re

import pytest
import torch
import whisper

from source.assets import asset_path
from source.errors import StudioError
from source.text.convert import convert, read_ctranslate2
from source.text.transcribe import (
    TranscribeOptions, load_openai_whisper, load_transcriber, openai_checkpoint,
)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    return convert(asset_path("whisper-tiny.en"), tmp_path_factory.mktemp("convert") / "tiny.en.pt")


def test_reads_the_ctranslate2_model():
    variables = read_ctranslate2(asset_path("whisper-tiny.en") / "model.bin")
    assert variables["encoder/conv1/weight"].shape == (384, 80, 3)
    assert variables["decoder/embeddings/weight"].dtype == torch.float16
    # the output projection is stored once, as an alias of the token embedding
    assert variables["decoder/projection/weight"] is variables["decoder/embeddings/weight"]
    assert int(variables["decoder/num_heads"]) == 6


def test_checkpoint_is_an_openai_whisper_model(tiny_checkpoint):
    checkpoint = torch.load(tiny_checkpoint, map_location="cpu", weights_only=True)
    dims = whisper.model.ModelDimensions(**checkpoint["dims"])
    assert dims == whisper.model.ModelDimensions(80, 1500, 384, 6, 4, 51864, 448, 384, 6, 4)
    network = whisper.model.Whisper(dims)
    network.load_state_dict(checkpoint["model_state_dict"])  # strict: every name and shape
    # the word-timing heads carried over from config.json are openai's own for tiny.en
    network.set_alignment_heads(whisper._ALIGNMENT_HEADS["tiny.en"])
    official = network.alignment_heads.indices().T.tolist()
    assert sorted(map(list, checkpoint["alignment_heads"])) == official
    # whisper's own loader takes it too
    assert whisper.load_model(str(tiny_checkpoint), device="cpu").dims == dims


def test_both_backends_write_the_same_words(media, tiny_checkpoint):
    fast = load_transcriber(TranscribeOptions(beam_size=1)).transcribe(media["speech.wav"])
    reference = load_transcriber(
        TranscribeOptions(model=str(tiny_checkpoint), backend="openai-whisper", beam_size=1)
    ).transcribe(media["speech.wav"])
    assert reference.backend == "openai-whisper" and reference.language == "en"
    plain = [re.sub(r"\W", "", w.text.lower()) for w in reference.words]
    assert plain == [re.sub(r"\W", "", w.text.lower()) for w in fast.words]
    assert "wonderful" in plain
    assert all(abs(a.start - b.start) < 0.15 and abs(a.end - b.end) < 0.15
               for a, b in zip(reference.words, fast.words))


def test_shipped_names_are_converted_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "no-official"))
    monkeypatch.setattr("source.text.transcribe.cache_dir", lambda: tmp_path)
    path = openai_checkpoint("tiny.en")
    assert path.parent == tmp_path / "converted" and path.stat().st_size > 30e6
    monkeypatch.setattr("source.text.transcribe.convert", lambda *a: pytest.fail("converted twice"))
    assert openai_checkpoint("tiny.en") == path


def test_missing_or_bad_checkpoints_are_clear_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(StudioError, match="never downloads"):
        openai_checkpoint("small")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(StudioError, match="not a usable openai-whisper checkpoint"):
        load_openai_whisper(str(broken))
    with pytest.raises(StudioError, match="not a CTranslate2 model folder"):
        convert(tmp_path, tmp_path / "out.pt")
