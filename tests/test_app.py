"""The Streamlit app's logic, tab by tab, through streamlit.testing.v1.AppTest (real media, the
shipped models). The real-browser tests are in test_browser.py."""

import csv
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from source.paths import INPUT_DIR, MODELS_DIR
from source.ui import common

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TABS = ["Video", "Audio", "Image / webcam", "Grad-CAM", "Models"]


def _app(out_dir: Path) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=300).run()
    app.text_input(key="out_dir").set_value(str(out_dir)).run()
    return app


def _upload(widget, path: Path, mime: str):
    return widget.set_value((path.name, path.read_bytes(), mime))


def _ok(app: AppTest) -> None:
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _metric(app: AppTest, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def _table(app: AppTest, *columns: str):
    """The first table with these columns."""
    return next(d.value for d in app.dataframe if set(columns) <= set(d.value.columns))


def _downloads(app: AppTest) -> dict[str, str]:
    """Each download button's label (what the file is, without its arrow) -> its help (the file's name)."""
    buttons = app.get("download_button")
    labels = [b.proto.label.removeprefix("⬇ ") for b in buttons]
    assert len(set(labels)) == len(labels), labels  # no two buttons look the same
    return {label: b.proto.help for label, b in zip(labels, buttons)}


def _plotly_charts(app: AppTest) -> list:
    return app.get("plotly_chart")


def test_app_starts_with_every_tab(tmp_path):
    app = _app(tmp_path)
    _ok(app)
    assert app.title[0].value == "Emotion Studio"
    assert [tab.label for tab in app.tabs] == TABS


def test_video_tab_analyses_an_upload(media, tmp_path):
    app = _app(tmp_path)
    _upload(app.tabs[0].file_uploader[0], media["astronaut_talking.mp4"], "video/mp4").run()
    app.button(key="video_run").click().run()
    _ok(app)
    assert _metric(app, "Windows") == "2"
    assert _metric(app, "Dominant emotion") in {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    rows = _rows(tmp_path / "astronaut_talking_windows.csv")
    assert [row["start_s"] for row in rows] == ["0.0", "4.0"]
    table = _table(app, "top emotion", "words")
    assert list(table["top emotion"]) == [row["top_emotion"] for row in rows]
    assert table["Face"].str.startswith("happy").all()  # the smiling astronaut
    sentences = _table(app, "sentence", "polarity")
    assert list(sentences["sentence"]) == list(media.speech_sentences)
    assert sentences["polarity"].iloc[0] > 0.3
    assert len(_plotly_charts(app)) >= 3  # window detail, timeline, share of time
    downloads = _downloads(app)
    assert {"Per-window CSV": "astronaut_talking_windows.csv", "Per-frame CSV": "astronaut_talking_frames.csv",
            "Full analysis (JSON)": "astronaut_talking_analysis.json",
            "Transcript (SRT)": "astronaut_talking_transcript.srt", "Timeline (PNG)": "astronaut_talking_timeline.png",
            "Share of time (PNG)": "astronaut_talking_distribution.png",
            "Interactive plots (HTML)": "astronaut_talking_plots.html"}.items() <= downloads.items()
    # picking the second window (as a click on the timeline does) shows it; the result stays
    app.select_slider(key="video_window").set_value(1).run()
    _ok(app)
    detail = next(m.value for m in app.markdown if m.value.startswith("**Window 1**"))
    assert "4.0–" in detail and rows[1]["top_emotion"] in detail
    app.run()  # any rerun (tabs switch in the browser, without one) keeps the result
    assert _metric(app, "Windows") == "2"


def test_sidebar_picks_research_fusion_and_face_models(media, tmp_path):
    app = _app(tmp_path)
    picker = app.sidebar.selectbox(key="fusion")
    assert {"auto", "late", "combined", "xattn_fusion"} <= set(picker.options)
    assert "lt_fusion (untrained)" in picker.options
    picker.select("xattn_fusion").run()
    _upload(app.tabs[0].file_uploader[0], media["astronaut_talking.mp4"], "video/mp4").run()
    app.button(key="video_run").click().run()
    _ok(app)
    assert _metric(app, "Fusion") == "xattn_fusion"
    # an untrained fusion model is refused as soon as it is picked, before anything runs, with
    # what to do in the app (no command-line flag, no folder of the command line's)
    (tmp_path / "astronaut_talking_windows.csv").unlink()
    app.sidebar.selectbox(key="fusion").select("lt_fusion").run()
    assert not app.exception
    refusal = app.error[0].value
    assert "lt_fusion ships untrained" in refusal and "python run.py train --model lt_fusion" in refusal
    assert "“Fusion model file”" in refusal and "--fusion-weights" not in refusal and "shared/data" not in refusal
    assert app.button(key="video_run").disabled
    assert not (tmp_path / "astronaut_talking_windows.csv").exists()
    assert not app.sidebar.text_input(key="fusion_weights").disabled
    # the face branch's hybrid model: listed, and untrained it says how to train it
    app.sidebar.selectbox(key="fusion").select("late").run()
    assert app.sidebar.text_input(key="fusion_weights").disabled  # a rule takes no file
    app.sidebar.selectbox(key="fusion").select("auto").run()
    assert not app.error and not app.button(key="video_run").disabled
    assert not app.sidebar.text_input(key="fusion_weights").disabled  # auto: the fusion model a file holds
    face_picker = app.sidebar.selectbox(key="face_model")
    assert face_picker.options == ["face", "image_vit (untrained: give its file)"]
    face_picker.select("image_vit").run()
    assert not app.exception
    assert "image_vit ships untrained" in app.error[0].value and "train --model image_vit" in app.error[0].value
    assert "“Face model file”" in app.error[0].value and app.button(key="video_run").disabled


def test_video_tab_picks_from_input_files(media, tmp_path):
    target = INPUT_DIR / "apptest two faces.mp4"
    shutil.copy(media["two_faces.mp4"], target)
    try:
        app = _app(tmp_path)
        app.selectbox(key="video_pick").select(target.name).run()
        app.button(key="video_run").click().run()
    finally:
        target.unlink()
    _ok(app)
    assert (tmp_path / "apptest two faces_windows.csv").exists()
    # two faces: the timeline opens one row per person, each with its thumbnail
    assert app.radio(key="video_view").value == "One row per person"
    rows = [m.value for m in app.markdown if m.value.startswith("**Face ")]
    thumbnails = [i for element in app.get("image") for i in element.proto.imgs if not i.caption]
    assert len(rows) == 2 and len(thumbnails) == 2


def test_bad_video_gives_a_friendly_error_and_writes_nothing(media, tmp_path):
    app = _app(tmp_path)
    _upload(app.tabs[0].file_uploader[0], media["corrupt.mp4"], "video/mp4").run()
    app.button(key="video_run").click().run()
    assert not app.exception
    assert "could not be read" in app.error[0].value
    assert list(tmp_path.iterdir()) == []


def test_upload_over_the_limit_is_refused_with_the_limit_named(media, tmp_path, monkeypatch):
    monkeypatch.setattr(common, "upload_limit_mb", lambda: 0)
    app = _app(tmp_path)
    _upload(app.tabs[0].file_uploader[0], media["astronaut_talking.mp4"], "video/mp4").run()
    assert not app.exception
    assert "over the 0 MB upload limit" in app.error[0].value
    assert not app.button  # nothing to analyse


def test_audio_tab_analyses_an_upload_and_shows_the_signal(media, tmp_path):
    app = _app(tmp_path)
    _upload(app.tabs[1].file_uploader[0], media["speech.wav"], "audio/wav").run()
    app.button(key="audio_run").click().run()
    _ok(app)
    table = _table(app, "top emotion", "words")
    assert table["Voice"].str.len().gt(0).all() and table["Face"].eq("").all()
    assert "happy" in " ".join(table["words"]).lower()
    charts = {chart.proto.id for chart in _plotly_charts(app)}
    assert len(charts) >= 5  # detail, timeline, share of time, waveform, MFCCs
    # the default voice model hears Whisper's log-mel spectrogram, not MFCCs it never reads
    heard = next(c.value for c in app.caption if "What the voice model hears in window 0" in c.value)
    assert "log-mel" in heard and "MFCC" not in heard
    assert (tmp_path / "speech_transcript.srt").exists()
    downloads = _downloads(app)  # no frames of an audio file: no header-only CSV to download
    assert downloads["Per-window CSV"] == "speech_windows.csv" and "Per-frame CSV" not in downloads


def test_an_untrained_voice_model_is_refused_like_a_face_model(monkeypatch):
    from source.options import AnalysisOptions

    monkeypatch.setattr(common, "_trained", lambda name: name != "voice_mfcc")
    refusal = common.untrained_refusal(AnalysisOptions(voice_model="voice_mfcc"))
    assert "voice_mfcc ships untrained" in refusal and "“Voice model file”" in refusal
    assert common.untrained_refusal(AnalysisOptions(voice_model="voice_mfcc", voice_weights="mine.pt")) is None
    assert common.untrained_refusal(AnalysisOptions(voice_model=None)) is None


def test_audio_tab_uses_the_voice_model_picked_and_shows_what_it_hears(media, tmp_path):
    app = _app(tmp_path)
    picker = app.sidebar.selectbox(key="voice_model")
    assert picker.value == "voice_whisper" and set(picker.options) == {"voice_mfcc", "voice_whisper",
                                                                       "voice_whisper_shared"}
    app.sidebar.selectbox(key="voice_model").set_value("voice_mfcc").run()
    _upload(app.tabs[1].file_uploader[0], media["speech.wav"], "audio/wav").run()
    app.button(key="audio_run").click().run()
    _ok(app)
    analysis = json.loads((tmp_path / "speech_analysis.json").read_text())
    assert analysis["settings"]["voice_model"] == "voice_mfcc" and "voice" in analysis["models"]
    heard = next(c.value for c in app.caption if "What the voice model hears in window 0" in c.value)
    assert "MFCCs" in heard


def test_unticking_the_voice_keeps_the_words(media, tmp_path):
    """The Voice box turns off the voice branch alone; before, it turned off the whole sound track."""
    app = _app(tmp_path)
    app.sidebar.checkbox[1].uncheck().run()
    assert app.sidebar.checkbox[1].label == "Voice"
    _upload(app.tabs[1].file_uploader[0], media["speech.wav"], "audio/wav").run()
    app.button(key="audio_run").click().run()
    _ok(app)
    rows = _rows(tmp_path / "speech_windows.csv")
    assert all(row["voice_top"] == "" for row in rows)
    assert "happy" in " ".join(row["transcript"] for row in rows).lower()


def test_audio_tab_analyses_a_microphone_recording(media, tmp_path):
    app = _app(tmp_path)
    app.radio(key="audio_source").set_value("Record with the microphone").run()
    _upload(app.audio_input(key="audio_record"), media["speech.wav"], "audio/wav").run()
    app.button(key="audio_run").click().run()
    _ok(app)
    recorded = sorted(tmp_path.glob("recording-*_windows.csv"))
    assert len(recorded) == 1 and len(_rows(recorded[0])) >= 2


def test_image_tab_boxes_the_astronaut_as_happy(media, tmp_path):
    app = _app(tmp_path)
    _upload(app.tabs[2].file_uploader[0], media["astronaut.png"], "image/png").run()
    _ok(app)
    assert _metric(app, "Face 0") == "happy"
    assert (tmp_path / "astronaut_faces.png").exists() and (tmp_path / "astronaut_windows.csv").exists()
    boxed = app.image[0]
    assert "1 face(s)" in boxed.captions[0]
    app.toggle(key="photo_landmarks").set_value(True).run()
    _ok(app)
    assert _metric(app, "Face 0") == "happy"
    # another face model file: the files are written again by it, not left from the first
    mine = tmp_path / "my_face.pt"
    shutil.copy(MODELS_DIR / "face" / "face_mobilenet_v2.pt", mine)
    app.sidebar.text_input(key="face_weights").set_value(str(mine)).run()
    _ok(app)
    written = json.loads((tmp_path / "astronaut_analysis.json").read_text())
    assert written["settings"]["face_weights"] == str(mine)


def test_image_tab_takes_a_webcam_snapshot(media, tmp_path):
    snapshot = tmp_path / "snapshot.jpg"
    Image.open(media["astronaut.png"]).convert("RGB").save(snapshot, quality=90)
    app = _app(tmp_path / "out")
    app.radio(key="photo_source").set_value("Webcam snapshot").run()
    _upload(app.camera_input(key="photo_camera"), snapshot, "image/jpeg").run()
    _ok(app)
    assert _metric(app, "Face 0") == "happy"
    assert len(list((tmp_path / "out").glob("snapshot-*_faces.png"))) == 1
    downloads = _downloads(app)  # labelled by what they are, the snapshot's file names as help
    assert {"Per-window CSV", "Per-frame CSV", "Boxed faces (PNG)", "Full analysis (JSON)"} <= set(downloads)
    assert downloads["Boxed faces (PNG)"].startswith("snapshot-") and downloads["Boxed faces (PNG)"].endswith(
        "_faces.png")


def test_image_without_a_face_says_so(tmp_path):
    from skimage import data

    coffee = tmp_path / "coffee.png"
    Image.fromarray(data.coffee()).save(coffee)
    app = _app(tmp_path / "out")
    _upload(app.tabs[2].file_uploader[0], coffee, "image/png").run()
    assert not app.exception and not app.error
    assert "No face was found" in app.warning[0].value


def test_gradcam_explains_the_photo_and_a_video_frame(media, tmp_path):
    app = _app(tmp_path)
    _upload(app.tabs[2].file_uploader[0], media["astronaut.png"], "image/png").run()
    _ok(app)
    cam = app.tabs[3]
    assert cam.radio(key="cam_source").value.startswith("Photo: astronaut.png")
    overlay, crop = cam.image[0], cam.image[1]
    assert overlay.captions[0].endswith("gradcam for happy")
    assert "crop" in crop.captions[0]
    app.selectbox(key="cam_method").select("eigencam").run()
    app.selectbox(key="cam_target").select("sad").run()
    _ok(app)
    assert app.tabs[3].image[0].captions[0].endswith("eigencam for sad")
    # a frame of an analysed video, picked by time
    _upload(app.tabs[0].file_uploader[0], media["astronaut_talking.mp4"], "video/mp4").run()
    app.button(key="video_run").click().run()
    app.radio(key="cam_source").set_value("Video frame: astronaut_talking.mp4").run()
    app.slider(key="cam_time").set_value(2.0).run()
    _ok(app)
    assert "astronaut_talking.mp4 at 2.0 s" in app.tabs[3].image[0].captions[0]


def test_models_tab_shows_metrics_cards_and_assets(tmp_path):
    app = _app(tmp_path)
    _ok(app)
    results = _table(app, "model", "split", "accuracy")
    face = results[results.model == "face"]
    assert face["accuracy"].iloc[0] > 0.6  # the shipped face model's validation figure, as its metrics.json has it
    assert face["accuracy"].iloc[0] == pytest.approx(
        json.loads((MODELS_DIR / "face" / "metrics.json").read_text())["validation"]["accuracy"])
    assert list(results[results.model == "combined"]["split"]) == ["validation", "test"]
    assets = _table(app, "asset", "state")
    assert "face_landmarker" in set(assets["asset"])
    for _, row in assets.iterrows():  # what is missing names the command that fetches it
        assert (row["state"] == "ok") == (row["to do"] == "")
        if row["state"] != "ok":
            assert row["to do"] == f"python run.py assets --fetch {row['asset']}"
    assert any("Model card" in e.label for e in app.expander)


def test_models_tab_shows_the_newest_real_media_reports(tmp_path):
    from source.ui.models import REAL_MEDIA_SETS, newest_report

    app = _app(tmp_path)
    _ok(app)
    table = _table(app, "set", "method", "source", "clips right")
    names = []
    for kind, set_name in REAL_MEDIA_SETS.items():
        path = newest_report(kind)
        assert path is not None and path.name.startswith(f"{kind}-20")
        names.append(path.name)
        for method, result in json.loads(path.read_text())["methods"].items():
            fused = result["scores"]["fused"]
            row = table[(table.set == set_name) & (table.method == method) & (table.source == "fused")]
            assert list(row["clips right"]) == [f"{fused['clips_right']}/{fused['clips']}"]
    assert any(c.value.startswith(", ".join(names)) for c in app.caption)


def test_image_tab_png_survives_bad_bytes(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    app = _app(tmp_path / "out")
    _upload(app.tabs[2].file_uploader[0], broken, "image/png").run()
    assert not app.exception
    assert "could not be decoded" in app.error[0].value


@pytest.fixture(autouse=True)
def _no_stray_inputs():
    yield
    assert not list(INPUT_DIR.glob("apptest*"))


def test_models_tab_names_the_command_for_missing_assets(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_STUDIO_CACHE", str(tmp_path / "empty cache"))
    app = _app(tmp_path)
    _ok(app)
    assets = _table(app, "asset", "state")
    assert set(assets["state"]) == {"missing"}
    assert list(assets["to do"]) == [f"python run.py assets --fetch {name}" for name in assets["asset"]]
    assert any("python run.py assets --fetch" in c.value for c in app.code)


def _label_shown(box, shown_before: str, id_before: str) -> str:
    """The face picker's label in a browser after a rerun: the value the server sets, a new
    widget's default, or else the label the browser showed before (it sends that label back,
    and the server does not resend an unchanged selection)."""
    if box.proto.set_value:
        return box.proto.raw_value
    if box.id != id_before:
        return box.options[box.proto.default]
    return shown_before


def test_gradcam_face_label_follows_a_switch_from_video_to_photo(media, tmp_path):
    app = _app(tmp_path)
    _upload(app.tabs[0].file_uploader[0], media["astronaut_talking.mp4"], "video/mp4").run()
    app.button(key="video_run").click().run()
    _ok(app)
    # a frame whose face label differs from the photo's, or a stale label could not be told apart
    from source.face.model import FaceModel
    from source.face.predict import frame_at, photo_faces

    photo_face = photo_faces(FaceModel.load(), frame_at(media["astronaut.png"]))[1][0]
    photo_expected = f"0: {photo_face['top_emotion']} {photo_face['confidence']:.0%}"
    for time_s in (2.0, 1.5, 1.0, 3.0, 0.5, 2.5):
        app.slider(key="cam_time").set_value(time_s).run()
        _ok(app)
        box = app.selectbox(key="cam_face")
        shown, widget = box.options[box.index], box.id
        if shown != photo_expected:
            break
    else:
        pytest.fail(f"every frame's face label is the photo's ({photo_expected}): a stale label would pass unseen")
    assert shown.startswith("0: ")
    # then a photo: the Grad-CAM tab shows it first, and its face's own label
    _upload(app.tabs[2].file_uploader[0], media["astronaut.png"], "image/png").run()
    _ok(app)
    assert app.radio(key="cam_source").value.startswith("Photo: astronaut.png")
    box = app.selectbox(key="cam_face")
    photo_label = box.options[0]
    assert photo_label == photo_expected and photo_label.startswith(f"0: {_metric(app, 'Face 0')} ")
    assert _label_shown(box, shown, widget) == photo_label
    # back to the video, at that time: that frame's label again
    shown, widget = photo_label, box.id
    app.radio(key="cam_source").set_value("Video frame: astronaut_talking.mp4").run()
    box = app.selectbox(key="cam_face")
    shown, widget = _label_shown(box, shown, widget), box.id
    assert shown == box.options[0]
    app.slider(key="cam_time").set_value(time_s).run()
    _ok(app)
    box = app.selectbox(key="cam_face")
    assert box.options[0] != photo_label
    assert _label_shown(box, shown, widget) == box.options[0]


def test_a_setting_changed_during_an_analysis_does_not_throw_the_run_away(media, tmp_path, monkeypatch):
    """The browser sends a rerun when a slider moves mid-run: the analysis finishes with the
    settings it started with, its result is shown, and the new setting applies to the next run."""
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    app = _app(tmp_path)
    _upload(app.tabs[0].file_uploader[0], media["astronaut_talking.mp4"], "video/mp4").run()
    real_analyze, calls = common.analyze, []

    def analyze_while_the_user_moves_a_slider(path, options, out_dir, progress):
        def progress_and_move(stage, done, total):
            if not calls[-1]:  # once, at the first report: what the browser sends when the slider moves
                calls[-1] = True
                app.button(key="video_run").set_value(False)  # the press that started this run is over
                next(s for s in app.select_slider if s.label == "Smoothing (windows)").set_value(5)
                ctx = get_script_run_ctx()
                ctx.script_requests.request_rerun(RerunData(widget_states=app._tree.get_widget_states(),
                                                            page_script_hash=ctx.page_script_hash))
            progress(stage, done, total)

        calls.append(False)
        return real_analyze(path, options, out_dir, progress_and_move)

    monkeypatch.setattr(common, "analyze", analyze_while_the_user_moves_a_slider)
    app.button(key="video_run").click().run()
    _ok(app)
    assert calls == [True]  # one analysis, not thrown away nor run again
    assert _metric(app, "Windows") == "2"
    assert next(s for s in app.select_slider if s.label == "Smoothing (windows)").value == 5
    assert any("settings changed since this analysis" in i.value for i in app.info)
    rows = _rows(tmp_path / "astronaut_talking_windows.csv")
    assert len(rows) == 2
    assert not any(i.value.startswith("Drop a video") for i in app.info)


def test_the_drop_hint_does_not_come_back_over_a_loaded_file(media, tmp_path):
    app = _app(tmp_path)
    assert any(i.value.startswith("Drop a video") for i in app.tabs[0].info)
    _upload(app.tabs[0].file_uploader[0], media["corrupt.mp4"], "video/mp4").run()
    app.button(key="video_run").click().run()
    assert "could not be read" in app.error[0].value
    assert not any(i.value.startswith("Drop a video") for i in app.tabs[0].info)


def test_an_empty_upload_says_empty_and_no_message_shows_the_upload_folder(media, tmp_path):
    app = _app(tmp_path)
    empty = tmp_path / "empty.png"
    empty.touch()
    _upload(app.tabs[2].file_uploader[0], empty, "image/png").run()
    assert not app.exception
    assert [e.value for e in app.error] == ["empty.png is empty (0 bytes)."]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    _upload(app.tabs[2].file_uploader[0], broken, "image/png").run()
    messages = [e.value for e in app.error]
    assert messages and all("broken.png" in m and common.UPLOAD_PREFIX not in m and "/tmp" not in m
                            for m in messages), messages


def test_models_tab_says_what_was_not_measured_on_held_out_data(tmp_path):
    """The face model ships with a validation result only: its test row says so, rather than
    the table reading as if validation were the held-out result."""
    app = _app(tmp_path)
    _ok(app)
    results = _table(app, "model", "split", "accuracy", "note")
    face = results[results.model == "face"]
    assert list(face["split"]) == ["validation", "test"]
    test_row = face[face.split == "test"].iloc[0]
    assert test_row["note"] == "not measured on held-out data" and test_row["accuracy"] != test_row["accuracy"]
    combined = results[results.model == "combined"]
    shipped = json.loads((MODELS_DIR / "combined" / "metrics.json").read_text())
    assert combined[combined.split == "test"]["accuracy"].iloc[0] == pytest.approx(shipped["test"]["accuracy"])
    assert combined[combined.split == "test"]["note"].iloc[0] == "held out from every choice"
    assert any(c.value.startswith("Measured on validation data only: not measured on held-out data")
               for c in app.caption)
    # the geometry trees alone are not what the studio gives: the face branch's figure with them is there too
    branch = results[results.model == "face + face_geometry"]
    mixed = json.loads((MODELS_DIR / "face_geometry" / "metrics.json").read_text())["mixed"]["validation"]
    assert list(branch["split"]) == ["validation"]
    assert branch["accuracy"].iloc[0] == pytest.approx(mixed["mixed_accuracy"])
    assert f"{mixed['cross_fitted_accuracy']:.3f} with the share chosen on other faces" in branch["note"].iloc[0]


def test_photo_confidence_has_no_change_arrow(media, tmp_path):
    from streamlit.proto.Metric_pb2 import Metric

    app = _app(tmp_path)
    _upload(app.tabs[2].file_uploader[0], media["astronaut.png"], "image/png").run()
    _ok(app)
    metric = next(m for m in app.metric if m.label == "Face 0")
    assert metric.value == "happy" and metric.delta.endswith("% sure")
    assert metric.proto.direction == Metric.MetricDirection.NONE


def test_progress_names_the_stage_and_the_time_left():
    fraction, text = common.progress_text("loading models", 0.0, 190.0, 0.0)
    assert fraction == 0 and "Loading the models" not in text and "first window" in text
    fraction, text = common.progress_text("voice", 76.0, 190.0, 30.0)
    assert fraction == pytest.approx(0.4)
    assert text == "Analysing: voice · 76 of 190 s · about 45 s left"
    assert common.progress_text("decode", 10.0, 190.0, 5.0)[1].startswith("Analysing: decoding · 10 of 190 s")
    assert common.progress_text("analysing", 190.0, 190.0, 80.0) == (1.0, "Analysing · 190 of 190 s")


def test_an_avi_is_previewed_as_a_playable_mp4(media, tmp_path, monkeypatch):
    """MPEG-4 part 2 in AVI shows only an audio bar in Chromium: the player gets an H.264 MP4."""
    from source.media.probe import probe

    monkeypatch.setattr("source.ui.preview.PREVIEW_DIR", tmp_path / "previews")
    app = _app(tmp_path)
    _upload(app.tabs[0].file_uploader[0], media["astronaut_talking.avi"], "video/x-msvideo").run()
    app.button(key="video_run").click().run()
    _ok(app)
    previews = list((tmp_path / "previews").glob("astronaut_talking-*.mp4"))
    assert len(previews) == 1 and probe(previews[0]).video_codec == "h264"
    assert app.get("video")[0].proto.url
    assert any("browser-playable preview of astronaut_talking.avi" in c.value for c in app.caption)
    app.select_slider(key="video_window").set_value(1).run()  # seeking from the timeline still works
    assert app.get("video")[0].proto.start_time == 4


def test_a_window_longer_than_the_models_learned_from_is_explained_or_warned(tmp_path):
    """auto (late fusion in windows other than 4 s): the voice model hears a long window whole
    (tests/test_long_windows.py), so the sidebar says what the length does; a learned fusion model
    trained on 4-s windows: a warning."""
    app = _app(tmp_path)
    assert not app.sidebar.warning  # 4-s windows: what the figures were measured on
    window = next(s for s in app.sidebar.slider if s.label == "Window length (s)")
    window.set_value(10.0).run()
    _ok(app)
    assert not app.sidebar.warning
    assert any("Each 10-s window is heard and seen whole" in c.value for c in app.sidebar.caption)
    app.selectbox(key="fusion").set_value("combined").run()
    note = app.sidebar.warning[0].value
    assert "combined fusion model was trained on 4-s windows" in note and "10-s windows" in note
    app.selectbox(key="fusion").set_value("auto").run()
    next(s for s in app.sidebar.slider if s.label == "Window length (s)").set_value(2.5).run()
    assert not app.sidebar.warning
    assert any("2.5-s windows give each model less to go on" in c.value for c in app.sidebar.caption)
