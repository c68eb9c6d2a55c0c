"""The real-video harness: labels from corpus file names, and each branch and fusion scored per clip."""

from pathlib import Path

import shutil

import pytest

from source.analysis.realvideo import (
    RealClip, agreement, clip_label, clip_people, evaluate_real_video, pair_real_media, real_clips)
from source.errors import StudioError
from source.media.probe import probe
from source.options import AnalysisOptions

AV_SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "av_samples"


def test_labels_come_from_corpus_file_names(tmp_path):
    assert clip_label(Path("ravdess_01-01-07-02-02-01-01.mp4")) == "disgust"
    assert clip_label(Path("01-01-02-01-01-01-12.mp4")) == "neutral"  # calm
    assert clip_label(Path("mead_M030_sad_level3_001.mp4")) == "sad"
    assert clip_label(Path("W009_front_surprised_level3_001.mp4")) == "surprise"
    assert clip_label(Path("W009_front_contempt_level3_001.mp4")) is None
    assert clip_label(Path("WDA_KatieHill_000.mp4")) is None
    # the people, named as the fusion models' training splits name them
    assert clip_people(Path("ravdess_01-01-07-02-02-01-01.mp4")) == ("ravdess:01",)
    assert clip_people(Path("W009_front_surprised_level3_001.mp4")) == ("mead:W009",)
    assert clip_people(Path("mead_M030_sad_level3_001.mp4")) == ("mead:M030",)
    assert clip_people(Path("WDA_KatieHill_000.mp4")) == ()
    pair = Path("M030_front_angry_level3_001+03-01-05-02-01-01-19.mp4")
    assert clip_label(pair) == "angry" and clip_people(pair) == ("mead:M030", "ravdess:19")
    assert clip_label(Path("03-01-05-02-01-01-19.mp4")) == "angry"  # RAVDESS speech alone
    for name in ("W009_front_contempt_level3_001.mp4", "M030_front_fear_level3_001.mp4", "talk.mp4", "notes.txt"):
        (tmp_path / name).touch()
    assert [(c.path.name, c.label) for c in real_clips(tmp_path)] == [
        ("M030_front_fear_level3_001.mp4", "fear"), ("talk.mp4", None)]  # contempt is not modelled


@pytest.mark.slow
@pytest.mark.shared_data("av_samples")
def test_default_fusion_is_right_where_the_face_is_and_calls_no_newscaster_disgust():
    clips = [c for c in real_clips(AV_SAMPLES) if c.path.name in (
        "mead_M030_sad_level3_001.mp4", "M030_front_happy_level3_001.mp4", "WDA_BobMenendez_000.mp4",
        "RD_Radio2_000.mp4")]
    assert len(clips) == 4
    report = evaluate_real_video(clips, {"auto": AnalysisOptions()})
    scores = report["methods"]["auto"]["scores"]
    assert scores["fused"]["clips"] == 2 and scores["fused"]["clips_right"] >= scores["face"]["clips_right"]
    assert scores["voice"]["clips"] == 1 and scores["face"]["clips"] == 2
    assert scores["fused"]["unlabelled_calls"] and "disgust" not in scores["fused"]["unlabelled_calls"]
    # auto's model (late_fusion) never trained or validated on M030, nor on the talking heads
    assert "mead:W009" in report["methods"]["auto"]["fusion_trained_on"]
    assert report["methods"]["auto"]["held_out"]["fused"] == scores["fused"]


def test_real_media_pairs_join_a_face_video_with_speech_of_the_same_emotion(media, tmp_path):
    faces, voices = tmp_path / "faces", tmp_path / "ravdess" / "Actor_19"
    faces.mkdir()
    voices.mkdir(parents=True)
    shutil.copy(media["no_audio.mp4"], faces / "M030_front_angry_level3_001.mp4")
    shutil.copy(media["no_audio.mp4"], faces / "M030_front_contempt_level3_001.mp4")  # not modelled: no pair
    for sentence in ("01", "02"):
        shutil.copy(media["speech.wav"], voices / f"03-01-05-02-{sentence}-01-19.wav")
    pairs = pair_real_media(faces, tmp_path / "ravdess", ["19"], tmp_path / "pairs")
    assert [(c.path.name, c.label, c.people) for c in pairs] == [
        (f"M030_front_angry_level3_001+03-01-05-02-{s}-01-19.mp4", "angry", ("mead:M030", "ravdess:19"))
        for s in ("01", "02")]
    face_video, paired = probe(faces / "M030_front_angry_level3_001.mp4"), probe(pairs[0].path)
    assert paired.has_audio and not face_video.has_audio
    assert paired.duration_s == pytest.approx(face_video.duration_s, abs=0.1)  # the speech cut to the video
    assert not list((tmp_path / "pairs").glob(".*"))  # no partial file left
    with pytest.raises(StudioError, match="03-01-05-02-01-01-20"):
        pair_real_media(faces, tmp_path / "ravdess", ["20"], tmp_path / "pairs")


def test_agreement_counts_where_face_and_voice_agree_and_where_they_do_not():
    def answers(face, voice, fused, uncertain=0):
        return {"face": {"clip": face}, "voice": {"clip": voice}, "fused": {"clip": fused, "uncertain_windows": uncertain}}

    clips = [RealClip(Path(f"{i}.mp4"), label) for i, label in enumerate(["happy", "happy", "sad", "sad", "fear", None])]
    per_clip = [answers("happy", "happy", "happy"), answers("sad", "sad", "happy"),
                answers("sad", "angry", "angry", uncertain=1), {"face": {"clip": "sad"}, "fused": {"clip": "sad"}},
                answers("fear", "sad", "fear", uncertain=2),
                answers("sad", "sad", "sad")]  # a clip without a voice, an unlabelled clip: not counted
    assert agreement(clips, per_clip) == {
        "agree": {"clips": 2, "face_right": 1, "voice_right": 1, "fused_right": 2, "uncertain": 0, "uncertain_right": 0},
        "disagree": {"clips": 2, "face_right": 2, "voice_right": 0, "fused_right": 1, "uncertain": 2,
                     "uncertain_right": 1}}
