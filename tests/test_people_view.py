"""The app with several faces (issue 30, item 4): one timeline row per person with a thumbnail cut
from the analysed video, each row that face's own fused emotion with a strip where it speaks, and
the speaker of the picked window named (with its thumbnail) under the player. Driven through
AppTest with a made-up analysis of a small made-up video (no models run)."""

import csv
import json
import subprocess
from pathlib import Path

import numpy as np
import plotly.io
from streamlit.testing.v1 import AppTest

from source.labels import EMOTIONS
from source.media.ffmpeg import ffmpeg_binary
from source.ui.charts import person_figure, speaking_spans
from source.ui.people import crop_face, frames_at, largest_boxes, people_in_order

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def _probabilities(top: str, confidence: float = 0.7) -> dict:
    rest = (1 - confidence) / (len(EMOTIONS) - 1)
    return {e: confidence if e == top else rest for e in EMOTIONS}


def _windows(speakers: list, tops=("sad", "happy"), absent: dict | None = None) -> list[dict]:
    """Windows of 4 s with faces 0 and 1 (face 0 ``tops[0]``, face 1 ``tops[1]``), ``speakers[i]`` the
    speaker of window i; ``absent`` {window: face id} leaves that face out of that window."""
    windows = []
    for i, speaker in enumerate(speakers):
        faces = [{"face_id": f, "is_subject": f == (speaker or 0), "is_speaker": f == speaker,
                  "fused": _probabilities(tops[f], 0.6), "sources": ["face"]}
                 for f in (0, 1) if (absent or {}).get(i) != f]
        windows.append({"index": i, "start_s": 4.0 * i, "end_s": 4.0 * (i + 1), "faces": faces,
                        "speaker_face_id": speaker, "speech": {"speech_ratio": 0.9 if speaker is not None else 0.0},
                        "probabilities": {"fused": _probabilities(tops[speaker or 0], 0.6)},
                        "top_emotion": tops[speaker or 0], "confidence": 0.6, "sources": ["face"], "words": []})
    return windows


def test_a_persons_row_is_its_own_fused_emotion_with_a_strip_where_it_speaks():
    windows = _windows([0, 0, 1, None, 0], absent={3: 1})
    figure = person_figure(windows, 1, marker_s=8.0, duration_s=21.0)
    traces = {t.name: t for t in figure.data}
    assert set(traces) == set(EMOTIONS)
    happy = traces["happy"]
    assert list(happy.x) == [0.0, 4.0, 8.0, 12.0, 16.0, 20.0]  # point i is window i's start
    assert [round(v, 2) for v in happy.y] == [0.6, 0.6, 0.6, 0.0, 0.6, 0.6]  # window 3: not on screen
    assert [list(row) for row in happy.customdata[:2]] == [[0, 0.0, 4.0], [1, 4.0, 8.0]]
    strips = [(s.x0, s.x1) for s in figure.layout.shapes if s.type == "rect" and s.yref == "paper"]
    assert strips == [(8.0, 12.0)]  # face 1 speaks in window 2 only
    pale = [(s.x0, s.x1) for s in figure.layout.shapes if s.type == "rect" and s.yref != "paper"]
    assert pale == [(12.0, 16.0)]
    assert speaking_spans(windows, 0) == [(0.0, 8.0), (16.0, 20.0)]  # consecutive windows: one strip
    assert tuple(figure.layout.xaxis.range) == (0, 21.0)


def test_people_are_ordered_by_speaking_time():
    people = [{"face_id": 0, "dominant_emotion": "sad", "seen_s": 16.0, "speaking_s": 2.0},
              {"face_id": 1, "dominant_emotion": "happy", "seen_s": 8.0, "speaking_s": 6.0}]
    windows = _windows([1, 0]) + [{"index": 2, "start_s": 8.0, "end_s": 12.0, "faces": [{"face_id": 5}]}]
    assert [p["face_id"] for p in people_in_order(windows, people)] == [1, 0, 5]


def _video(tmp_path: Path) -> Path:
    """4 s, 160x80: the left half green for the first 2 s, then red; the right half blue."""
    video = tmp_path / "two.mp4"
    graph = ("color=c=red:s=80x80:r=25:d=4,drawbox=x=0:y=0:w=80:h=80:color=0x00FF00:t=fill:enable='lt(t,2)'[a];"
             "color=c=blue:s=80x80:r=25:d=4[b];[a][b]hstack,format=yuv420p[v]")
    subprocess.run([ffmpeg_binary(), "-v", "error", "-y", "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264",
                    "-g", "25", str(video)], check=True)
    return video


def _frames_csv(tmp_path: Path) -> Path:
    """Face 0 on the left (small at 0.5 s, largest at 3.0 s), face 1 on the right."""
    path = tmp_path / "two_frames.csv"
    rows = [(0, 0.5, 0, 30, 30, 50, 50), (1, 3.0, 0, 10, 10, 70, 70), (1, 3.0, 1, 90, 10, 150, 70),
            (0, 0.5, 1, 100, 20, 140, 60)]
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["frame", "time_s", "source_time_s", "n_faces", "face_id", "x0", "y0", "x1", "y1"])
        for frame, time_s, face, *box in rows:
            writer.writerow([frame, time_s, time_s, 2, face, *box])
    return path


def _colour(image: np.ndarray) -> tuple:
    return tuple(int(round(v / 255)) * 255 for v in image.reshape(-1, 3).mean(axis=0))


def test_thumbnails_are_cut_where_each_face_is_largest(tmp_path):
    boxes = largest_boxes(_frames_csv(tmp_path))
    assert boxes == {0: (3.0, (10.0, 10.0, 70.0, 70.0)), 1: (3.0, (90.0, 10.0, 150.0, 70.0))}
    frames = frames_at(_video(tmp_path), [0.5, 3.0])
    assert _colour(frames[0.5][:, :80]) == GREEN and _colour(frames[3.0][:, :80]) == RED  # the seek lands right
    left, right = crop_face(frames[3.0], boxes[0][1], size=48), crop_face(frames[3.0], boxes[1][1], size=48)
    assert left.shape[:2] == right.shape[:2] == (48, 48)
    assert _colour(left[:, :30]) == RED and _colour(right[:, 18:]) == BLUE


SCRIPT = """
import json
from pathlib import Path
from source.results.records import AnalysisResult
from window_records import record_of
from source.media.probe import probe
from source.options import AnalysisOptions
from source.results.summary import summarize
from source.ui.results import show_analysis

spec = json.loads(Path({spec!r}).read_text())
windows = spec["windows"]
result = AnalysisResult(probe(spec["video"]), AnalysisOptions(), [record_of(w) for w in windows], {{"tracks": [], "subject_face_id": None}},
                        [], {{}}, summarize(windows),
                        outputs={{"windows_csv": spec["csv"], "frames_csv": spec["frames"]}})
show_analysis(result, "test")
"""


def _show(tmp_path: Path, windows: list[dict]) -> AppTest:
    csv_path = tmp_path / "two_windows.csv"
    csv_path.write_text("window\n")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"windows": windows, "video": str(_video(tmp_path)), "csv": str(csv_path),
                                "frames": str(_frames_csv(tmp_path))}))
    return AppTest.from_string(SCRIPT.format(spec=str(spec)), default_timeout=60).run()


def _images(app: AppTest) -> list[str]:
    """The captions of the pictures on the page, in order ("" for none)."""
    return [image.caption for element in app.get("image") for image in element.proto.imgs]


def _people_rows(app: AppTest) -> list:
    charts = [(c.proto.id, plotly.io.from_json(c.proto.spec)) for c in app.get("plotly_chart")]
    return [figure for _, figure in charts if figure.data and str(figure.data[0].hovertemplate).startswith("Face ")]


def test_app_shows_a_row_per_person_and_names_the_speaker_under_the_player(tmp_path):
    windows = _windows([1, 0, None])  # face 1 speaks, then face 0, then nobody (no speech)
    windows[1]["end_s"] = 8.0
    app = _show(tmp_path, windows)
    assert not app.exception, app.exception
    view = app.radio(key="test_view")
    assert view.value == "One row per person" and view.options[0] == "One row per person"
    rows = _people_rows(app)
    assert len(rows) == 2
    # face 1 spoke first: a strip over window 0 in its row; face 0's over window 1
    strips = [[(s.x0, s.x1) for s in row.layout.shapes if s.type == "rect" and s.yref == "paper"] for row in rows]
    assert sorted(strips) == [[(0.0, 4.0)], [(4.0, 8.0)]]
    labels = [m.value for m in app.markdown if m.value.startswith("**Face ")]
    assert len(labels) == 2 and all("speaks 3.6 s" in label for label in labels)
    # the speaker's thumbnail and the marked frame beside the player, then the two rows' thumbnails
    assert _images(app) == ["Face 1", "2.0 s: Face 1 speaking", "", ""]
    assert [m.value for m in app.markdown if m.value.startswith("Speaking")] == [
        "Speaking (window 0, 0.0–4.0 s): **Face 1**"]
    app.select_slider(key="test_window").set_value(1).run()
    assert [m.value for m in app.markdown if m.value.startswith("Speaking")] == [
        "Speaking (window 1, 4.0–8.0 s): **Face 0**"]
    app.select_slider(key="test_window").set_value(2).run()
    assert any(m.value == "Nobody speaks (window 2, 8.0–12.0 s)." for m in app.markdown)
    assert _images(app) == ["10.0 s: nobody named as the speaker", "", ""]  # no speaker: no thumbnail
    app.radio(key="test_view").set_value("Lines per branch").run()
    assert not app.exception and not _people_rows(app)


def test_one_face_gets_no_people_view(tmp_path):
    windows = _windows([0, 0], absent={0: 1, 1: 1})
    app = _show(tmp_path, windows)
    assert not app.exception, app.exception
    assert "One row per person" not in app.radio(key="test_view").options
    assert not any(m.value.startswith("Speaking") for m in app.markdown)


def test_at_most_six_rows_and_the_rest_named(tmp_path):
    windows = _windows([1, 0])
    for window in windows:  # six more faces, each seen in one window and silent
        window["faces"] += [{"face_id": f, "is_subject": False, "is_speaker": False, "fused": _probabilities("fear"),
                             "sources": ["face"]} for f in range(2, 8) if f % 2 == window["index"]]
    app = _show(tmp_path, windows)
    assert not app.exception, app.exception
    assert len(_people_rows(app)) == 6
    assert [c.value for c in app.caption if c.value.startswith("Not shown")] == [
        "Not shown: Face 6 (seen 4.0 s), Face 7 (seen 4.0 s)"]
    assert _images(app) == ["Face 1", "2.0 s: Face 1 speaking", "", ""]  # thumbnails only for faces in the CSV


def test_a_video_gone_since_the_analysis_leaves_rows_without_pictures(tmp_path):
    from types import SimpleNamespace

    from source.ui.people import thumbnails_of

    video = _video(tmp_path)
    result = SimpleNamespace(info=SimpleNamespace(kind="video", path=str(video)),
                             outputs={"frames_csv": _frames_csv(tmp_path)})
    assert sorted(thumbnails_of(result, [0, 1])) == [0, 1]
    result.info.path = str(tmp_path / "moved.mp4")
    assert thumbnails_of(result, [0, 1]) == {}


def test_the_window_frame_marks_each_face_and_the_speaker(tmp_path):
    from source.ui.people import OTHER_COLOUR, SPEAKER_COLOUR, boxes_near, mark_faces

    frames_csv = _frames_csv(tmp_path)
    assert boxes_near(frames_csv, 2.0) == (3.0, {0: (10.0, 10.0, 70.0, 70.0), 1: (90.0, 10.0, 150.0, 70.0)})
    assert boxes_near(frames_csv, 1.0) == (0.5, {0: (30.0, 30.0, 50.0, 50.0), 1: (100.0, 20.0, 140.0, 60.0)})
    image = np.zeros((80, 160, 3), np.uint8)
    marked = mark_faces(image, {0: (10, 10, 70, 70), 1: (90, 10, 150, 70)}, speaker=1)
    assert tuple(marked[40, 90]) == SPEAKER_COLOUR and tuple(marked[40, 150]) == SPEAKER_COLOUR  # the speaker's sides
    assert tuple(marked[40, 10]) == OTHER_COLOUR and tuple(marked[40, 70]) == OTHER_COLOUR
    assert tuple(marked[40, 40]) == (0, 0, 0) and tuple(marked[40, 120]) == (0, 0, 0)  # inside: the picture
    nobody = mark_faces(image, {0: (10, 10, 70, 70), 1: (90, 10, 150, 70)}, speaker=None)
    assert tuple(nobody[40, 90]) == OTHER_COLOUR
