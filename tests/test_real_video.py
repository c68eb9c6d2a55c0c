"""The real-video harness: labels from corpus file names, and each branch and fusion scored per clip."""

from pathlib import Path

import pytest

from source.analysis.realvideo import clip_label, clip_subject, evaluate_real_video, real_clips
from source.options import AnalysisOptions

AV_SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "av_samples"


def test_labels_come_from_corpus_file_names(tmp_path):
    assert clip_label(Path("ravdess_01-01-07-02-02-01-01.mp4")) == "disgust"
    assert clip_label(Path("01-01-02-01-01-01-12.mp4")) == "neutral"  # calm
    assert clip_label(Path("mead_M030_sad_level3_001.mp4")) == "sad"
    assert clip_label(Path("W009_front_surprised_level3_001.mp4")) == "surprise"
    assert clip_label(Path("W009_front_contempt_level3_001.mp4")) is None
    assert clip_label(Path("WDA_KatieHill_000.mp4")) is None
    # the person, named as the fusion models' training splits name them
    assert clip_subject(Path("ravdess_01-01-07-02-02-01-01.mp4")) == "ravdess:01"
    assert clip_subject(Path("W009_front_surprised_level3_001.mp4")) == "mead:W009"
    assert clip_subject(Path("mead_M030_sad_level3_001.mp4")) == "mead:M030"
    assert clip_subject(Path("WDA_KatieHill_000.mp4")) is None
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
    # late fusion learns nothing: every clip is held out from it
    assert report["methods"]["auto"]["fusion_trained_on"] == []
    assert report["methods"]["auto"]["held_out"]["fused"] == scores["fused"]
