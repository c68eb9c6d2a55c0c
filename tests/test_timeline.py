"""Late fusion, smoothing over windows and the timeline summary, on hand-made windows."""

from dataclasses import replace

import pytest
from window_records import face_record, window_record

from source.results.records import WindowRecord
from source.analysis.timeline import fuse_window, smoothed
from source.results.summary import summarize
from source.fusion.late import late_fusion, text_distribution
from source.labels import EMOTIONS
from source.text.emotion import TextEmotionModel


def one_hot(emotion: str, weight: float = 1.0) -> dict[str, float]:
    rest = (1 - weight) / (len(EMOTIONS) - 1)
    return {e: weight if e == emotion else rest for e in EMOTIONS}


def text_columns(words: str) -> dict:
    """A window's text columns as the pipeline writes them, from the shipped text-emotion model."""
    scores = TextEmotionModel.load().score(words) if words else None
    if scores is None:
        return {"transcript": words, "text_top": "", "text_evidence": 0.0, **{f"text_{e}": "" for e in EMOTIONS}}
    return {"transcript": words, "text_top": scores["top_emotion"], "text_evidence": scores["evidence"],
            **{f"text_{e}": p for e, p in scores["probabilities"].items()}}


def window(index: int, face: str | None, voice: str | None, words: str = "", face_weight: float = 0.8,
           voice_weight: float = 0.6, combined=None) -> WindowRecord:
    faces = [] if face is None else [face_record(0, is_subject=True,
                                                 emotions={"probabilities": one_hot(face, face_weight)})]
    return fuse_window(window_record(index, 4.0 * index, 4.0 * index + 4, faces, text=text_columns(words),
                                     voice={"probabilities": one_hot(voice, voice_weight)} if voice else None),
                       combined)


def test_late_fusion_averages_what_is_there():
    fused = late_fusion({"face": one_hot("happy"), "voice": one_hot("sad"), "text": None})
    assert fused["happy"] == fused["sad"] == 0.5
    assert late_fusion({"face": None, "voice": None}) is None
    assert late_fusion({"face": one_hot("happy"), "voice": {"sad_fear": 1.0}}) == one_hot("happy")
    weighted = late_fusion({"face": one_hot("happy"), "voice": one_hot("sad")}, {"face": 3.0})
    assert weighted["happy"] == 0.75


def test_words_count_only_for_their_emotional_content():
    assert text_distribution(text_columns("")) is None
    said = text_distribution(text_columns("I am so happy, this is wonderful!"))
    assert said["neutral"] == 0 and max(said, key=said.get) == "happy" and sum(said.values()) == pytest.approx(1, abs=1e-3)


def test_windows_record_their_sources():
    both = window(0, "happy", "happy", "What a wonderful day, I love it!")
    assert both.sources == ("face", "voice", "text") and both.top_emotion == "happy"
    plain = window(0, "happy", "happy", "The meeting is at ten in the conference room.")
    assert plain.sources == ("face", "voice")  # words without emotion are left out
    silent = window(1, "angry", None)
    assert silent.sources == ("face",) and silent.top_emotion == "angry"
    assert silent.faces[0].fused == silent.probabilities["fused"]
    assert silent.faces[0].sources == ("face",)
    empty = window(2, None, None)
    assert empty.sources == () and empty.top_emotion is None


def test_smoothing_is_a_centred_average_and_keeps_the_raw_values():
    tops = ["happy", "happy", "sad", "happy", "happy", "angry", "angry", "angry"]
    raw = [window(i, emotion, None) for i, emotion in enumerate(tops)]
    out = list(smoothed(iter([window(i, emotion, None) for i, emotion in enumerate(tops)]), 3))
    assert [w.index for w in out] == list(range(len(tops)))
    assert [w.top_emotion for w in out] == ["happy"] * 5 + ["angry"] * 3  # the blip is gone
    middle = out[2].probabilities
    assert middle["fused_unsmoothed"] == raw[2].probabilities["fused"]
    for emotion in EMOTIONS:
        assert middle["fused"][emotion] == pytest.approx(
            sum(raw[i].probabilities["fused"][emotion] for i in (1, 2, 3)) / 3, abs=1e-4)
    assert out[0].faces[0].fused["happy"] > out[0].faces[0].fused["sad"]
    assert out[2].faces[0].fused_unsmoothed == raw[2].faces[0].fused  # new records: the raw ones are unchanged
    assert out[2].to_dict()["faces"][0]["fused_unsmoothed"] == raw[2].faces[0].fused
    assert "fused_unsmoothed" not in raw[2].to_dict()["faces"][0]
    assert list(smoothed(iter(raw), 1)) == raw


def test_summary_shares_dominant_and_changes():
    windows = [window(i, emotion, None) for i, emotion in enumerate(["sad", "sad", "happy", None])]
    windows[-1] = replace(windows[-1], end_s=14.0)  # a 2 s tail window without a face
    summary = summarize([w.to_dict() for w in windows])
    assert summary["dominant_emotion"] == "sad"
    assert summary["emotion_share"] == {"sad": pytest.approx(2 / 3, abs=1e-4),
                                        "happy": pytest.approx(1 / 3, abs=1e-4)}
    assert summary["changes"] == [{"time_s": 8.0, "from": "sad", "to": "happy"}]
    assert summarize([])["dominant_emotion"] is None


def test_happy_face_and_happy_words_fuse_to_happy():
    fused = window(0, "happy", None, "This is wonderful news. I love it.")
    assert fused.top_emotion == "happy" and not fused.uncertain


def test_neutral_words_said_angrily_do_not_pull_to_neutral():
    fused = window(0, "angry", "angry", "The meeting is at ten in the conference room.", face_weight=0.6, voice_weight=0.5)
    assert fused.top_emotion == "angry" and fused.confidence > 0.5 and not fused.uncertain


def test_face_alone_is_passed_through():
    alone = window(0, "surprise", None, face_weight=0.55)
    assert alone.top_emotion == "surprise" and alone.confidence == pytest.approx(0.55, abs=1e-3)
    assert not alone.uncertain


def test_strong_disagreement_is_uncertain():
    split = window(0, "happy", "angry", "I am terrified, please help me!", face_weight=0.5, voice_weight=0.5)
    assert split.uncertain and split.faces[0].uncertain
    agree = window(0, "sad", "sad")
    assert not agree.uncertain


def test_a_learned_fusion_cannot_invent_an_emotion():
    # the model says disgust although no branch put disgust first: the late result is used, marked uncertain
    invented = window(0, "happy", "happy", combined=lambda face_id: one_hot("disgust", 0.8))
    assert invented.top_emotion == "happy" and invented.uncertain
    supported = window(0, "happy", "sad", combined=lambda face_id: one_hot("happy", 0.7))
    assert supported.top_emotion == "happy" and supported.confidence == pytest.approx(0.7, abs=1e-3)
    assert not supported.uncertain


def test_a_learned_fusion_unsure_between_disagreeing_branches_keeps_its_answer_marked_uncertain():
    # neither branch is sure and they disagree: the model sides with the voice at 49%, which is its
    # answer (one a branch gave) but not a sure one
    unsure = window(0, "happy", "angry", face_weight=0.5, voice_weight=0.5,
                    combined=lambda face_id: one_hot("angry", 0.49))
    assert unsure.top_emotion == "angry" and unsure.confidence == pytest.approx(0.49, abs=1e-3)
    assert unsure.uncertain and unsure.faces[0].uncertain
    weak = window(0, "happy", "angry", face_weight=0.5, voice_weight=0.5,
                  combined=lambda face_id: one_hot("angry", 0.3))  # too weak to be an answer: late fusion's
    assert weak.top_emotion == "happy" and weak.uncertain


def test_the_words_are_shown_as_the_text_model_scored_them():
    fused = window(0, "happy", None, "What a wonderful day, I love it!")
    shown = fused.probabilities["text"]
    assert "neutral" in shown and sum(shown.values()) == pytest.approx(1, abs=1e-3)
    columns = text_columns("What a wonderful day, I love it!")
    assert shown == {e: columns[f"text_{e}"] for e in EMOTIONS}


def test_the_words_join_a_learned_fusion_as_they_join_late_fusion():
    # a smiling face says happy words in a flat voice; the learned fusion, which never learned the
    # words, sides with the voice: with the words at late fusion's share the window is happy
    sided = {**dict.fromkeys(EMOTIONS, 0.006), "neutral": 0.62, "happy": 0.35}
    flat = window(0, "happy", "neutral", "I am so happy today. This is wonderful news.", face_weight=0.92,
                  voice_weight=0.9, combined=lambda face_id: sided)
    assert flat.top_emotion == "happy" and flat.uncertain  # the branches disagree, fused under 60%
    plain = window(0, "happy", "neutral", "The meeting is at ten in the conference room.", face_weight=0.92,
                   voice_weight=0.9, combined=lambda face_id: one_hot("neutral", 0.62))
    assert plain.top_emotion == "neutral"  # plain words carry no emotion: the model's answer stands
