"""Text-emotion features, the transcript and word-frequency writers, and ``predict --model text``."""

import csv
import json
from argparse import Namespace

import numpy as np
import pytest

from source.errors import AssetMissing, MediaError
from source.labels import EMOTIONS
from source.registry import get_model
from source.text import features
from source.text.features import FEATURE_NAMES, TEXT_COLUMNS, TEXT_FEATURE_COLUMNS, TextAnalyzer, text_columns
from source.cli.text import predict
from source.text.transcribe import Segment, Transcript, TranscribeOptions, Word, load_transcriber
from source.text.writers import write_srt, write_transcript_json, write_txt, write_word_frequencies

import media_fixtures as mf


@pytest.fixture(scope="module")
def analyzer():
    return TextAnalyzer()


@pytest.fixture
def transcript():
    words = (Word(0.0, 0.6, "Hello", 0.9), Word(0.7, 1.5, "there.", 0.8))
    hello = Segment(0.0, 1.5, "Hello there.", words, "en", 0.01, -0.2)
    late = Segment(3661.25, 3662.0, "I am so happy.", (Word(3661.25, 3662.0, "happy.", 0.7),),
                   "en", 0.02, -0.3)
    return Transcript([hello, late], 3663.0, "tiny.en", "faster-whisper")


def test_vector_is_fixed_and_ordered(analyzer):
    assert FEATURE_NAMES == ("polarity", "subjectivity", *(f"lexicon_{e}" for e in EMOTIONS)) and len(FEATURE_NAMES) == 9
    empty = analyzer.analyze("")
    assert empty.vector().tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 1]  # no words: neutral
    assert analyzer.analyze([]).vector().tolist() == empty.vector().tolist()
    vector = analyzer.analyze("I am so happy today.").vector()
    assert vector.dtype == np.float32 and vector.shape == (9,)
    assert np.all(vector[2:] >= -1) and np.all(vector[2:] <= 1) and 0 <= vector[-1] <= 1


@pytest.mark.parametrize("text,sign", [
    ("I love this wonderful, beautiful day. Everything is great!", 1),
    ("Thank you so much, this is excellent news.", 1),
    ("This is a terrible, awful mess and I hate it.", -1),
    ("The food was disgusting and the service was horrible.", -1),
])
def test_polarity_sign(analyzer, text, sign):
    assert np.sign(analyzer.analyze(text).polarity) == sign


@pytest.mark.parametrize("plain,negated,emotion", [
    ("I am happy.", "I am not happy.", "happy"),
    ("I was afraid.", "I was never afraid.", "fear"),
    ("There is joy here.", "There is no joy here.", "happy"),
    ("I feel sad.", "I don't feel sad.", "sad"),
    ("She is angry and sad.", "She is not angry or sad.", "sad"),
    ("I want to be sad.", "I don't want to be sad.", "sad"),
    ("He spoke with fear.", "He spoke without fear.", "fear"),
])
def test_negation_flips_the_lexicon_score(analyzer, plain, negated, emotion):
    assert analyzer.analyze(plain).emotions[emotion] > 0
    assert analyzer.analyze(negated).emotions[emotion] < 0


def test_intensifiers_scale_the_score(analyzer):
    happy = analyzer.analyze("I am happy with the results.").emotions["happy"]
    assert happy == pytest.approx(0.5)  # one emotion word in two content words
    for modifier, score in (("so", 0.75), ("slightly", 0.25)):
        text = f"I am {modifier} happy with the results."
        assert analyzer.analyze(text).emotions["happy"] == pytest.approx(score)
    match = analyzer.analyze("I am not very happy.").matches[0]
    assert match.text == "not very happy" and match.weights == {"happy": -1.5}


def test_lexicon_is_empaths_with_weights_summing_to_one(analyzer):
    assert "MIT" in features.LEXICON_LICENSE
    assert set(analyzer.lexicon["furious"]) <= set(EMOTIONS)
    assert analyzer.lexicon["scared"] == {"fear": 1.0}
    assert all(sum(w.values()) == pytest.approx(1) for w in analyzer.lexicon.values())
    assert not features.GENERIC_WORDS & set(analyzer.lexicon)


def test_without_the_spacy_model_words_are_matched_as_written(monkeypatch):
    def missing(name):
        raise AssetMissing(f"The model asset '{name}' is not in the cache.\nFetch it ...")

    monkeypatch.setattr(features, "asset_path", missing)
    blank = TextAnalyzer()
    assert "could not be loaded" in blank.warning
    assert "python run.py assets --fetch spacy-en_core_web_sm" in blank.warning
    assert blank.analyze("I am so happy.").emotions["happy"] > 0
    assert blank.analyze("I am not happy.").emotions["happy"] < 0


def test_window_columns(analyzer):
    words = [Word(0.1, 0.3, "I", 1.0), Word(0.3, 0.5, "am", 1.0), Word(0.5, 0.9, "happy.", 1.0)]
    columns = text_columns(words, analyzer)
    assert list(columns) == TEXT_COLUMNS and columns["transcript"] == "I am happy."
    assert columns["text_lexicon_happy"] > 0 and columns["text_polarity"] > 0
    assert columns["text_top"] == "happy" and columns["text_happy"] > 0.5 and columns["text_evidence"] > 0.5
    assert sum(columns[f"text_{e}"] for e in EMOTIONS) == pytest.approx(1, abs=1e-3)
    empty = text_columns([], analyzer)
    assert empty == {"transcript": "", **dict.fromkeys(TEXT_FEATURE_COLUMNS, 0.0), "text_lexicon_neutral": 1.0,
                     "text_top": "", "text_confidence": "", "text_evidence": 0.0,
                     **{f"text_{e}": "" for e in EMOTIONS}}


def test_word_frequencies(analyzer):
    rows = analyzer.word_frequencies(["Happy cats, happy dogs.", "The cat is sad."])
    assert rows[:2] == [{"word": "cat", "count": 2, "emotions": ""},
                        {"word": "happy", "count": 2, "emotions": "happy"}]
    assert {"word": "sad", "count": 1, "emotions": "sad"} in rows


def test_txt_and_srt_writers(tmp_path, transcript):
    assert write_txt(tmp_path / "t.txt", transcript).read_text() == "Hello there.\nI am so happy.\n"
    assert write_srt(tmp_path / "t.srt", transcript).read_text() == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n"
        "2\n01:01:01,250 --> 01:01:02,000\nI am so happy.\n"
    )
    empty = Transcript([], 5.0, "tiny.en", "faster-whisper")
    assert write_txt(tmp_path / "e.txt", empty).read_text() == ""
    assert write_srt(tmp_path / "e.srt", empty).read_text() == ""


def test_json_and_csv_writers(tmp_path, transcript, analyzer):
    emotion = analyzer.analyze([s.text for s in transcript.segments])
    path = write_transcript_json(tmp_path / "t.json", "in.wav", transcript, emotion)
    data = json.loads(path.read_text())
    assert data["transcript"]["text"] == "Hello there. I am so happy."
    assert data["transcript"]["segments"][1]["words"] == [
        {"start": 3661.25, "end": 3662.0, "text": "happy.", "probability": 0.7}]
    assert data["text_emotion"]["emotions"]["happy"] > 0
    rows = [{"word": "happy", "count": 2, "emotions": "happy"}]
    with open(write_word_frequencies(tmp_path / "w.csv", rows), newline="") as file:
        assert list(csv.DictReader(file)) == [{"word": "happy", "count": "2", "emotions": "happy"}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json", "w.csv"]  # no leftovers


def test_spoken_sentences_keep_their_polarity(media, analyzer):
    tiny = load_transcriber(TranscribeOptions())
    positive = analyzer.analyze(tiny.transcribe(media["speech.wav"]).text)
    negative = analyzer.analyze(tiny.transcribe(media["negative_speech.wav"]).text)
    assert positive.polarity > 0.3 and positive.emotions["happy"] > 0
    assert negative.polarity < -0.3 and negative.emotions["happy"] < 0  # "I am not happy"


def test_predict_speech_and_text(media, tmp_path, capsys):
    assert get_model("text").commands["predict"] is predict
    copy = tmp_path / "copy.json"
    assert predict(Namespace(path=media["negative_speech.wav"], weights=None, json=copy), tmp_path) == 0
    shown = capsys.readouterr().out
    # the analysis with the words branch alone: its sentences, each with its emotion ...
    assert "This is the worst day of my life." in shown and "I hate this terrible weather." in shown
    analysis = json.loads(copy.read_text())
    assert analysis == json.loads((tmp_path / "negative_speech_analysis.json").read_text())
    assert sorted(analysis["models"]) == ["fusion", "words"]  # no face, no voice model
    assert analysis["settings"]["voice_model"] is None and analysis["settings"]["whisper_model"] == "tiny.en"
    sentences = analysis["sentences"]
    assert [s["text"] for s in sentences][1:] == ["This is the worst day of my life.", "I hate this terrible weather."]
    for sentence in sentences:
        assert f"{sentence['emotion']:>9} ({sentence['confidence']:.0%})  {sentence['text']}" in shown
    assert all(window["text"] and window["voice"] is None for window in analysis["windows"])
    # ... then the whole transcript's text emotion, as before
    assert "not happy (happy -1.00)" in shown
    assert "text emotion: " in shown and "text emotion: happy" not in shown
    stem = tmp_path / "negative_speech"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.json", *(f"negative_speech_{name}" for name in (
        "analysis.json", "text.json", "transcript.srt", "transcript.txt", "windows.csv", "words.csv"))]
    for path in tmp_path.iterdir():
        assert f"wrote {path}" in shown
    assert "hate" in (tmp_path / "negative_speech_transcript.txt").read_text()
    assert (tmp_path / "negative_speech_transcript.srt").read_text().startswith("1\n00:00:00,000 --> ")
    data = json.loads(stem.with_name("negative_speech_text.json").read_text())
    assert data["transcript"]["segments"][0]["words"][0]["text"] == "I"
    assert data["text_emotion"]["polarity"] < 0
    assert f"text emotion: {data['text_emotion']['model']['top_emotion']} (" in shown
    assert "hate" in (tmp_path / "negative_speech_words.csv").read_text()
    with open(tmp_path / "negative_speech_windows.csv", newline="") as file:
        assert "worst day" in " ".join(row["transcript"] for row in csv.DictReader(file))
    text = tmp_path / "note.txt"
    text.write_text(mf.SPEECH_TEXT + "\n\nI am not sad.\n", encoding="utf-8")
    extra = tmp_path / "extra.json"
    assert predict(Namespace(path=text, weights=None, json=extra), tmp_path) == 0
    shown = capsys.readouterr().out  # a text file has no time and no media: scored as it is, not analysed
    assert shown.startswith(f"{text}: text, {len(text.read_text().split())} words\ntext emotion: ")
    assert shown.endswith(f"wrote {tmp_path / 'note_text.json'}\nwrote {extra}\nwrote {tmp_path / 'note_words.csv'}\n")
    assert not list(tmp_path.glob("note_*analysis*")) and not list(tmp_path.glob("note_windows*"))
    assert json.loads(extra.read_text())["transcript"] is None
    assert json.loads((tmp_path / "note_text.json").read_text())["text_emotion"]["emotions"]["sad"] < 0
    assert "happy" in (tmp_path / "note_words.csv").read_text()


def test_predict_refuses_what_has_no_words(media, tmp_path):
    with pytest.raises(MediaError, match="is a photo: there is no speech to transcribe"):
        predict(Namespace(path=media["astronaut.jpg"], weights=None, json=None), tmp_path)
    with pytest.raises(MediaError, match="video without an audio track: there is no speech"):
        predict(Namespace(path=media["no_audio.mp4"], weights=None, json=None), tmp_path)
    assert list(tmp_path.iterdir()) == []  # refused before any work
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(MediaError, match="not UTF-8 text"):
        predict(Namespace(path=binary, weights=None, json=None), tmp_path)
    with pytest.raises(MediaError, match="does not exist"):
        predict(Namespace(path=tmp_path / "missing.txt", weights=None, json=None), tmp_path)


def test_the_words_branch_alone_is_an_analysis_setting(media):
    from source.analysis.pipeline import check_input
    from source.media.probe import probe
    from source.options import AnalysisOptions
    from source.text.transcribe import TranscribeOptions, whisper_backend

    words_alone = AnalysisOptions(face=False, voice_model=None, plots=False)  # predict --model text
    assert check_input(probe(media["speech.wav"]), words_alone) == ["The input is audio only: faces are not analysed."]
    with pytest.raises(MediaError, match="Every branch is switched off"):
        check_input(probe(media["speech.wav"]), AnalysisOptions(face=False, voice_model=None, words=False))
    # --weights names the Whisper model; a .pt checkpoint is openai-whisper's, in predict as in analyze
    assert whisper_backend("tiny.en") == whisper_backend("models/ct2") == "faster-whisper"
    assert whisper_backend("whisper/tiny.en.pt") == TranscribeOptions(model="whisper/tiny.en.pt").backend == "openai-whisper"
