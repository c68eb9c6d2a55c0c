"""Late fusion, smoothing over windows and the timeline summary, on hand-made windows."""

import pytest

from source.analysis.timeline import fuse_window, smoothed, summarize
from source.fusion.late import late_fusion, text_distribution
from source.labels import EMOTIONS


def one_hot(emotion: str, weight: float = 1.0) -> dict[str, float]:
    rest = (1 - weight) / (len(EMOTIONS) - 1)
    return {e: weight if e == emotion else rest for e in EMOTIONS}


def window(index: int, face: str | None, voice: str | None, words: str = "") -> dict:
    text = {"transcript": words, **{f"text_{e}": 0.0 for e in EMOTIONS}, "text_neutral": 1.0}
    faces = [] if face is None else [{"face_id": 0, "is_subject": True,
                                      "emotions": {"probabilities": one_hot(face, 0.8)}}]
    return fuse_window({"index": index, "start_s": 4.0 * index, "end_s": 4.0 * index + 4,
                        "faces": faces, "text": text,
                        "voice": {"probabilities": one_hot(voice, 0.6)} if voice else None})


def test_late_fusion_averages_what_is_there():
    fused = late_fusion({"face": one_hot("happy"), "voice": one_hot("sad"), "text": None})
    assert fused["happy"] == fused["sad"] == 0.5
    assert late_fusion({"face": None, "voice": None}) is None
    assert late_fusion({"face": one_hot("happy"), "voice": {"sad_fear": 1.0}}) == one_hot("happy")
    weighted = late_fusion({"face": one_hot("happy"), "voice": one_hot("sad")}, {"face": 3.0})
    assert weighted["happy"] == 0.75


def test_text_scores_become_a_distribution_only_with_words():
    scores = {f"text_{e}": 0.0 for e in EMOTIONS}
    assert text_distribution({"transcript": "", **scores, "text_neutral": 1.0}) is None
    negated = {"transcript": "not happy", **scores, "text_happy": -0.5, "text_sad": 0.25,
               "text_neutral": 0.25}
    assert text_distribution(negated) == {**dict.fromkeys(EMOTIONS, 0.0), "sad": 0.5, "neutral": 0.5}


def test_windows_record_their_sources():
    both = window(0, "happy", "happy", "what a day")
    assert both["sources"] == ["face", "voice", "text"] and both["top_emotion"] == "happy"
    silent = window(1, "angry", None)
    assert silent["sources"] == ["face"] and silent["top_emotion"] == "angry"
    assert silent["faces"][0]["fused"] == silent["probabilities"]["fused"]
    assert silent["faces"][0]["sources"] == ["face"]
    empty = window(2, None, None)
    assert empty["sources"] == [] and empty["top_emotion"] is None


def test_smoothing_is_a_centred_average_and_keeps_the_raw_values():
    tops = ["happy", "happy", "sad", "happy", "happy", "angry", "angry", "angry"]
    raw = [window(i, emotion, None) for i, emotion in enumerate(tops)]
    out = list(smoothed(iter([window(i, emotion, None) for i, emotion in enumerate(tops)]), 3))
    assert [w["index"] for w in out] == list(range(len(tops)))
    assert [w["top_emotion"] for w in out] == ["happy"] * 5 + ["angry"] * 3  # the blip is gone
    middle = out[2]["probabilities"]
    assert middle["fused_unsmoothed"] == raw[2]["probabilities"]["fused"]
    for emotion in EMOTIONS:
        assert middle["fused"][emotion] == pytest.approx(
            sum(raw[i]["probabilities"]["fused"][emotion] for i in (1, 2, 3)) / 3, abs=1e-4)
    assert out[0]["faces"][0]["fused"]["happy"] > out[0]["faces"][0]["fused"]["sad"]
    assert list(smoothed(iter(raw), 1)) == raw


def test_summary_shares_dominant_and_changes():
    windows = [window(i, emotion, None) for i, emotion in enumerate(["sad", "sad", "happy", None])]
    windows[-1]["end_s"] = 14.0  # a 2 s tail window without a face
    summary = summarize(windows)
    assert summary["dominant_emotion"] == "sad"
    assert summary["emotion_share"] == {"sad": pytest.approx(2 / 3, abs=1e-4),
                                        "happy": pytest.approx(1 / 3, abs=1e-4)}
    assert summary["changes"] == [{"time_s": 8.0, "from": "sad", "to": "happy"}]
    assert summarize([])["dominant_emotion"] is None
