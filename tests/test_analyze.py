"""``analyze`` end to end on real media, and every kind of bad input."""

import copy
import csv
import json

import numpy as np
import pytest

from source.analysis.pipeline import analyze
from source.results.records import WINDOW_COLUMNS
from source.text.features import TEXT_COLUMNS
from source.errors import MediaError, StudioError
from source.options import AnalysisOptions, WindowOptions
from source.paths import MODELS_DIR
from source.registry import get_model
from media_fixtures import SPEECH_SENTENCES


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _outputs(folder):
    return sorted(p.name for p in folder.iterdir())


def test_talking_clip_writes_consistent_outputs(media, tmp_path):
    result = analyze(media["astronaut_talking.mp4"], out_dir=tmp_path)
    assert _outputs(tmp_path) == [f"astronaut_talking_{name}" for name in (
        "analysis.json", "distribution.png", "frames.csv", "heatmap.png", "plots.html",
        "timeline.png", "transcript.srt", "windows.csv")]
    windows = _rows(result.outputs["windows_csv"])
    voice_labels = result.models["voice"]["labels"]
    face_labels = result.models["face"]["labels"]
    assert list(windows[0]) == (WINDOW_COLUMNS + [f"face_{label}" for label in face_labels]
                                + [f"voice_{label}" for label in voice_labels] + TEXT_COLUMNS)
    # the words spoken in each window (espeak-ng reads SPEECH_SENTENCES), scored as text
    assert "happy" in windows[0]["transcript"].lower() and "coming" in windows[1]["transcript"]
    assert float(windows[0]["text_polarity"]) > 0.3
    for window in result.windows:
        assert all(window.start_s <= word.middle < window.end_s for word in window.words)
    for window in windows:  # calibrated probabilities: voice with speech, face with a face
        for branch, labels in (("voice", voice_labels), ("face", face_labels)):
            scores = [float(window[f"{branch}_{label}"]) for label in labels]
            assert sum(scores) == pytest.approx(1, abs=1e-3)
            assert window[f"{branch}_top"] == labels[scores.index(max(scores))]
            assert float(window[f"{branch}_confidence"]) == max(scores)
    assert windows[0]["face_top"] == "happy"  # the smiling astronaut
    starts = [float(w["start_s"]) for w in windows]
    assert starts == [0.0, 4.0]  # ~6 s clip: a full window and a 2 s tail
    assert float(windows[0]["end_s"]) == 4.0 and float(windows[1]["end_s"]) > 5.5
    assert all(w["face_id"] == "0" and w["is_subject"] == "1" for w in windows)
    assert float(windows[0]["face_found_ratio"]) == 1.0
    assert float(windows[0]["smile"]) > 0.3
    assert all(float(w["speech_ratio"]) > 0.2 for w in windows)
    frames = _rows(result.outputs["frames_csv"])
    assert len(frames) == sum(int(w["n_frames"]) for w in windows)
    for frame in frames:  # timestamps agree between the files
        window = windows[0] if float(frame["time_s"]) < 4.0 else windows[1]
        assert float(window["start_s"]) <= float(frame["time_s"]) < float(window["end_s"])
        assert float(frame["x1"]) > float(frame["x0"])  # boxes in original pixels
        assert frame["face_top"] in face_labels
    report = json.loads(result.outputs["analysis_json"].read_text())
    assert report["input"]["kind"] == "video" and report["input"]["width"] == 640
    assert report["settings"]["windows"]["window_s"] == 4.0
    assert "mediapipe" in report["versions"]
    assert report["faces"]["subject_face_id"] == 0
    assert [w["start_s"] for w in report["windows"]] == starts
    assert report["warnings"] == []
    # the timeline: each branch, the fused probabilities and the top emotion of every window
    for window, row in zip(report["windows"], windows):
        assert set(window["probabilities"]) == {"face", "voice", "text", "fused"}
        assert window["sources"] == ["face", "voice", "text"]
        assert window["top_emotion"] == row["top_emotion"] == max(
            window["probabilities"]["fused"], key=window["probabilities"]["fused"].get)
        assert sum(window["probabilities"]["fused"].values()) == pytest.approx(1, abs=1e-3)
        assert float(row[f"fused_{window['top_emotion']}"]) == window["probabilities"]["fused"][window["top_emotion"]]
    # the default (auto): the fusion best on real media, with a voice to fuse
    assert report["models"]["fusion"]["method"] == "late_fusion model"
    assert report["models"]["fusion"]["weights_sha256"] == get_model("late_fusion").weights.sha256
    assert all(isinstance(w["uncertain"], bool) for w in report["windows"])
    summary = report["summary"]
    assert summary["dominant_emotion"] in summary["emotion_share"]
    assert sum(summary["emotion_share"].values()) == pytest.approx(1, abs=1e-3)
    tops = [w["top_emotion"] for w in report["windows"]]
    assert len(summary["changes"]) == sum(a != b for a, b in zip(tops, tops[1:]))
    # the transcript: SRT cues, and each sentence with its times and sentiment
    srt = result.outputs["transcript_srt"].read_text()
    assert srt.startswith("1\n00:00:0") and "-->" in srt and "happy" in srt.lower()
    sentences = report["sentences"]
    assert len(sentences) == len(SPEECH_SENTENCES)
    assert all(s["text"].rstrip().endswith((".", "!", "?")) for s in sentences)
    assert [s["start_s"] for s in sentences] == sorted(s["start_s"] for s in sentences)
    assert sentences[0]["polarity"] > 0.3 and sentences[0]["emotion"] == "happy"


# The files' layout as written before windows became records (issue 29): the CSV's columns and the
# JSON's keys, in order, spelled out so that a change to either shows here
WINDOWS_CSV_HEADER = (
    "window,start_s,end_s,n_frames,face_id,is_subject,is_speaker,face_found_ratio,smile,frown,brow_down,"
    "brow_inner_up,brow_outer_up,eye_wide,eye_squint,jaw_open,nose_sneer,yaw,pitch,roll,speech_ratio,rms_db,"
    "face_top,face_confidence,voice_top,voice_confidence,top_emotion,confidence,uncertain,sources,fused_angry,"
    "fused_disgust,fused_fear,fused_happy,fused_sad,fused_surprise,fused_neutral,face_angry,face_disgust,"
    "face_fear,face_happy,face_sad,face_surprise,face_neutral,voice_angry,voice_disgust,voice_fear,voice_happy,"
    "voice_sad,voice_surprise,voice_neutral,transcript,text_polarity,text_subjectivity,text_lexicon_angry,"
    "text_lexicon_disgust,text_lexicon_fear,text_lexicon_happy,text_lexicon_sad,text_lexicon_surprise,"
    "text_lexicon_neutral,text_top,text_confidence,text_evidence,text_angry,text_disgust,text_fear,text_happy,"
    "text_sad,text_surprise,text_neutral")
ANALYSIS_KEYS = ["input", "settings", "versions", "created", "models", "summary", "timings_s", "faces", "warnings",
                 "sentences", "windows", "outputs"]
WINDOW_KEYS = ["index", "start_s", "end_s", "n_frames", "faces", "speech", "voice", "text", "voice_note",
               "speaker_face_id", "mouth_movement", "words", "sources", "uncertain", "probabilities", "top_emotion",
               "confidence"]
FACE_KEYS = ["face_id", "face_found_ratio", "blendshapes", "head_pose", "emotions", "is_subject", "is_speaker",
             "sources", "fused", "uncertain"]


def test_the_files_keep_their_layout_and_hold_the_window_records(media, tmp_path):
    result = analyze(media["astronaut_talking.mp4"], AnalysisOptions(smooth_windows=3, plots=False), tmp_path)
    header = result.outputs["windows_csv"].read_text(encoding="utf-8").splitlines()[0]
    assert header == WINDOWS_CSV_HEADER
    report = json.loads(result.outputs["analysis_json"].read_text())
    assert list(report) == ANALYSIS_KEYS
    for window in report["windows"]:
        assert list(window) == WINDOW_KEYS
        assert list(window["probabilities"]) == ["face", "voice", "text", "fused", "fused_unsmoothed"]
        assert [list(face) for face in window["faces"]] == [FACE_KEYS + ["fused_unsmoothed"]]
    # each record is its window of the file (JSON turns the face ids keying mouth_movement into strings)
    assert report["windows"] == json.loads(json.dumps([window.to_dict() for window in result.windows]))
    rows = _rows(result.outputs["windows_csv"])
    assert [(row["window"], row["face_id"]) for row in rows] == [
        (str(w.index), str(face.face_id)) for w in result.windows for face in w.faces]
    unsmoothed = analyze(media["astronaut_talking.mp4"], AnalysisOptions(words=False, plots=False), tmp_path / "raw")
    face = json.loads(unsmoothed.outputs["analysis_json"].read_text())["windows"][0]["faces"][0]
    assert list(face) == FACE_KEYS


def test_two_faces_get_stable_ids(media, tmp_path):
    result = analyze(media["two_faces.mp4"], out_dir=tmp_path)
    frames = _rows(result.outputs["frames_csv"])
    by_frame = {}
    for row in frames:
        by_frame.setdefault(row["frame"], []).append(row)
    assert all(len(rows) == 2 for rows in by_frame.values())
    for rows in by_frame.values():  # id 0 stays the big face on the left, id 1 the small one
        left = min(rows, key=lambda r: float(r["x0"]))
        assert left["face_id"] == "0"
    assert result.faces["subject_face_id"] == 0
    windows = _rows(result.outputs["windows_csv"])
    assert {(w["face_id"], w["is_subject"]) for w in windows} == {("0", "1"), ("1", "0")}


def test_overlapping_windows(media, tmp_path):
    options = AnalysisOptions(windows=WindowOptions(window_s=2.0, hop_s=1.0))
    result = analyze(media["astronaut_talking.mp4"], options, tmp_path)
    starts = [w.start_s for w in result.windows]
    assert starts[:3] == [0.0, 1.0, 2.0] and all(w.n_frames == 8 for w in result.windows[:-1])


def test_audio_only(media, tmp_path):
    result = analyze(media["speech_44k.mp3"], out_dir=tmp_path)
    assert "frames_csv" not in result.outputs and not list(tmp_path.glob("*_frames.csv"))  # no empty table
    windows = _rows(result.outputs["windows_csv"])
    assert len(windows) == 2 and all(w["face_id"] == "" and w["n_frames"] == "0" for w in windows)
    assert all(w["face_top"] == "" for w in windows) and "face" not in result.models
    assert float(windows[0]["speech_ratio"]) > 0.2
    assert all(w["voice_top"] for w in windows)
    assert any("audio only" in w for w in result.warnings)


def test_photo(media, tmp_path):
    result = analyze(media["astronaut.jpg"], out_dir=tmp_path)
    windows = _rows(result.outputs["windows_csv"])
    assert len(windows) == 1 and windows[0]["face_id"] == "0"
    assert windows[0]["speech_ratio"] == ""
    assert float(windows[0]["smile"]) > 0.5
    assert windows[0]["face_top"] == "happy" and float(windows[0]["face_happy"]) > 0.5


def test_8k_photo_is_scaled_and_boxes_are_in_original_pixels(media, tmp_path):
    result = analyze(media["big_8k.png"], out_dir=tmp_path)
    frame = _rows(result.outputs["frames_csv"])[0]
    assert frame["n_faces"] == "1"
    assert float(frame["x1"]) - float(frame["x0"]) > 1000  # the face is ~1500 px wide at 8K


def test_video_without_audio(media, tmp_path):
    result = analyze(media["no_audio.mp4"], out_dir=tmp_path)
    assert any("no audio track" in w for w in result.warnings)
    windows = _rows(result.outputs["windows_csv"])
    assert windows[0]["speech_ratio"] == "" and windows[0]["face_id"] == "0"
    assert windows[0]["voice_top"] == "" and "voice" not in result.models
    assert windows[0]["face_top"] and "face" in result.models


def test_video_without_a_face(media, tmp_path):
    result = analyze(media["no_face.mp4"], out_dir=tmp_path)
    windows = _rows(result.outputs["windows_csv"])
    assert windows[0]["face_id"] == "" and windows[0]["face_found_ratio"] == "0.0"
    frames = _rows(result.outputs["frames_csv"])
    assert frames and all(f["n_faces"] == "0" for f in frames)  # marked, not dropped
    assert any("No face was found" in w for w in result.warnings)


def test_silence(media, tmp_path):
    result = analyze(media["silence.wav"], out_dir=tmp_path)
    assert any("silent" in w for w in result.warnings)
    assert all(w.speech["speech_ratio"] == 0 for w in result.windows)
    assert all(w.voice is None for w in result.windows)  # no guess on silence
    assert all(w.words == () and w.text["transcript"] == "" for w in result.windows)
    assert all(row["voice_top"] == "" for row in _rows(result.outputs["windows_csv"]))


def test_variable_frame_rate_video(media, tmp_path):
    result = analyze(media["vfr.mp4"], out_dir=tmp_path)
    frames = _rows(result.outputs["frames_csv"])
    assert [float(f["time_s"]) for f in frames[:3]] == [0.0, 0.25, 0.5]


def test_misnamed_video_is_analysed_as_video(media, tmp_path):
    result = analyze(media["video_named.jpg"], out_dir=tmp_path)
    assert result.info.kind == "video" and len(result.windows) == 2
    assert any("named .jpg but holds video" in w for w in result.warnings)


def test_unicode_file_name(media, tmp_path):
    result = analyze(media["unicode name – café ü.mp4"], out_dir=tmp_path)
    assert result.outputs["windows_csv"].name == "unicode name – café ü_windows.csv"
    assert result.outputs["windows_csv"].exists()


def test_truncated_file_gives_the_windows_before_the_break_and_a_warning(media, tmp_path):
    """The first 40% of a 6-s clip with its index intact: the part before the break is analysed
    (one 2-s window), the rest is named in a warning, and the outputs are written."""
    result = analyze(media["truncated.mp4"], out_dir=tmp_path)
    assert result.info.duration_s == pytest.approx(6.0, abs=0.1)
    assert [(w.start_s, w.end_s) for w in result.windows] == [(0.0, 2.0)]
    assert any(w.startswith("Windows cover 0-2.0 s of 6.0 s") for w in result.warnings), result.warnings
    rows = list(csv.DictReader(open(tmp_path / "truncated_windows.csv", newline="", encoding="utf-8")))
    assert [row["end_s"] for row in rows] == ["2.0"]


@pytest.mark.parametrize("name,message", [
    ("empty.mp4", "empty"),
    ("corrupt.mp4", "corrupt"),
    ("text_named.wav", "corrupt"),
    ("short_1s.mp4", "shortest input"),
    ("one_frame.mp4", "shortest input"),
])
def test_bad_inputs_fail_clearly_and_write_nothing(media, tmp_path, name, message):
    with pytest.raises(MediaError, match=message):
        analyze(media[name], out_dir=tmp_path)
    assert _outputs(tmp_path) == []


def test_interrupted_analysis_leaves_no_partial_files(media, tmp_path):
    def interrupt(stage, done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        analyze(media["astronaut_talking.mp4"], out_dir=tmp_path, progress=interrupt)
    assert _outputs(tmp_path) == []


@pytest.mark.slow
def test_shared_labelled_clips(shared_data, tmp_path):
    for clip in sorted((shared_data / "av_samples" / "labelled").glob("*.mp4")):
        result = analyze(clip, out_dir=tmp_path)
        assert result.windows and all(w.faces for w in result.windows)
        assert result.windows[0].speech["speech_ratio"] > 0.1


def test_shared_video_only_clip(shared_data, tmp_path):
    clip = shared_data / "av_samples" / "mead_video_only" / "M030_front_happy_level3_001.mp4"
    result = analyze(clip, out_dir=tmp_path)
    assert any("no audio track" in w for w in result.warnings)
    assert result.windows[0].faces[0].face_found_ratio == 1.0


@pytest.mark.parametrize("family", ["xattn_fusion", "late_fusion"])
def test_a_research_fusion_model_fuses_the_timeline(media, tmp_path, family):
    options = AnalysisOptions(fusion=family, words=False, plots=False)
    result = analyze(media["astronaut_talking.mp4"], options, tmp_path)
    assert result.models["fusion"]["method"] == f"{family} model"
    for window in result.windows:
        fused = window.probabilities["fused"]
        assert sum(fused.values()) == pytest.approx(1, abs=1e-3)
        assert window.top_emotion == max(fused, key=fused.get)


@pytest.mark.parametrize("fusion", ["combined", "xattn_fusion"])
def test_no_voice_model_means_no_voice_branch_under_a_learned_fusion(media, tmp_path, fusion):
    """A learned fusion brings its own voice encoder; it must not bring the voice branch back when
    none was asked for (the app's Voice box unticked, the words kept)."""
    options = AnalysisOptions(voice_model=None, fusion=fusion, plots=False)
    result = analyze(media["astronaut_talking.mp4"], options, tmp_path)
    assert "voice" not in result.models
    for window in result.windows:
        assert window.voice is None and window.probabilities.get("voice") is None
        assert window.probabilities["fused"] and window.probabilities["text"]
    assert "happy" in " ".join(word.text for word in result.windows[0].words).lower()


@pytest.mark.parametrize("family", ["xattn_fusion", "late_fusion"])
def test_a_research_fusion_family_hears_each_window_once(media, tmp_path, monkeypatch, family):
    """As for the combined model, the family's own voice model serves the voice branch and the family
    reads the branch's embedding: the voice is encoded once per window (it was twice: the family
    heard each window again), and every fused result is the one the family gets hearing it itself."""
    from source.analysis import pipeline

    heard, checked, own = [], [], {}
    load_fusion, family_for_window = pipeline.load_fusion, pipeline.family_for_window

    def fusion_loaded(*args):
        fusion, warning = load_fusion(*args)
        own["voice"], own["encode"] = fusion.inputs.voice, fusion.inputs.voice.encode_window
        monkeypatch.setattr(own["voice"], "encode_window", lambda *a: heard.append(a[0]) or own["encode"](*a))
        return fusion, warning

    def family_compared(model, window, embedding):
        fused = family_for_window(model, window, embedding)
        heard_again = own["encode"](window.audio)[0]  # how the family heard the window itself before

        def compared(face_id):
            assert (embedding is None and heard_again is None) or np.array_equal(embedding, heard_again)
            now = fused(face_id)
            assert now == family_for_window(model, window, heard_again)(face_id)
            checked.append(now)
            return now
        return compared

    monkeypatch.setattr(pipeline, "load_fusion", fusion_loaded)
    monkeypatch.setattr(pipeline, "family_for_window", family_compared)
    result = analyze(media["astronaut_talking.mp4"], AnalysisOptions(fusion=family, words=False, plots=False),
                     tmp_path)
    assert len(heard) == len(result.windows) > 1  # once per window, by the voice branch
    assert result.models["voice"]["weights_sha256"] == own["voice"].sha256
    assert any(window.voice for window in result.windows)
    assert any(fused is not None for fused in checked)


def test_untrained_or_wrong_fusion_models_are_refused_by_name(media, tmp_path):
    with pytest.raises(StudioError, match=r"lt_fusion ships untrained.*python run.py train --model lt_fusion"):
        analyze(media["astronaut_talking.mp4"], AnalysisOptions(fusion="lt_fusion"), tmp_path)
    with pytest.raises(StudioError, match="face is a face model, not a fusion method; choose one of auto, late"):
        analyze(media["astronaut_talking.mp4"], AnalysisOptions(fusion="face"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_auto_is_late_fusion_where_its_model_would_read_what_it_never_learned_from():
    """``auto`` is the late_fusion model where it reads what it learned from: a voice to fuse, the
    voice and face models it was trained over, 4-s windows; late fusion elsewhere, without a note
    (the analysis's model facts say which was used)."""
    from source.analysis.pipeline import load_fusion, loaded
    from source.fusion.late import LateFusion

    face = loaded(get_model("face").load, None)
    voice, mfcc = (loaded(get_model(name).load, None) for name in ("voice_whisper", "voice_mfcc"))
    fusion, warning = load_fusion(AnalysisOptions(), voice, face)
    assert fusion.family.name == "late_fusion" and warning is None
    assert fusion.inputs.voice is voice  # the analysis's voice model serves the voice branch, as before
    for options, voice_model in ((AnalysisOptions(), None),  # no voice: the answer would be the face's
                                 (AnalysisOptions(voice_model="voice_mfcc"), mfcc),
                                 (AnalysisOptions(windows=WindowOptions(window_s=6.0)), voice),
                                 (AnalysisOptions(windows=WindowOptions(window_s=3.0)), voice)):
        fusion, warning = load_fusion(options, voice_model, face)
        assert isinstance(fusion, LateFusion) and warning is None
    other_face = copy.copy(face)  # a face model of another training: another sha256
    other_face.sha256 = "0" * 64
    assert isinstance(load_fusion(AnalysisOptions(), voice, other_face)[0], LateFusion)


def test_auto_with_a_fusion_file_uses_the_model_the_file_holds(tmp_path):
    """Given a fusion model's file ``auto`` is that model, whatever its kind, and late fusion with a
    note when the file cannot be used. ``late`` is a rule and takes no file."""
    from source.analysis.pipeline import load_fusion
    from source.fusion.late import LateFusion
    from source.fusion.research.family import FamilyModel

    shipped = MODELS_DIR / "late_fusion" / "late_fusion.pt"
    fusion, warning = load_fusion(AnalysisOptions(fusion_weights=str(shipped)), None, None)
    assert isinstance(fusion, FamilyModel) and fusion.family.name == "late_fusion" and warning is None
    foreign = tmp_path / "notes.pt"
    foreign.write_bytes(b"not weights")
    fusion, warning = load_fusion(AnalysisOptions(fusion_weights=str(foreign)), None, None)
    assert isinstance(fusion, LateFusion)
    assert warning.startswith("Late fusion is used instead of the fusion model file:") and "notes.pt" in warning
    with pytest.raises(StudioError, match="Late fusion is a fixed rule with no weights file"):
        load_fusion(AnalysisOptions(fusion="late", fusion_weights=str(shipped)), None, None)
