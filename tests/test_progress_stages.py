"""Progress names the stage that is running (issue 28, item 2): decode, faces, words, voice and
fusion each report when they begin, with the media seconds done, in the pipeline, the CLI and the app."""

import subprocess
import sys
from pathlib import Path

import pytest

from source.analysis.pipeline import analyze
from source.options import AnalysisOptions

ROOT = Path(__file__).resolve().parent.parent


def _preceding_report(log: list, index: int) -> str:
    return next(entry[0] for entry in reversed(log[:index]) if len(entry) == 3)


def test_each_slow_stage_reports_as_it_begins(media, tmp_path, monkeypatch):
    """The face work (landmarks, tracks, the face CNN) used to run with the bar still saying the
    stage before it: now the bar says "faces" while faces are found and "voice" while the analysis
    waits for the voice model (which listens in its own thread, beside the next window's faces),
    and the seconds done never go back."""
    from source.voice.whisper_voice import WhisperVoiceModel
    from source.face.landmarker import FaceLandmarker

    log = []  # progress reports (stage, done, total), and ("detect",) / ("listen",) as the work runs
    detect, listen = FaceLandmarker.detect, WhisperVoiceModel.encode_window
    monkeypatch.setattr(FaceLandmarker, "detect", lambda *a, **k: (log.append(("detect",)), detect(*a, **k))[1])
    monkeypatch.setattr(WhisperVoiceModel, "encode_window",
                        lambda *a, **k: (log.append(("listen",)), listen(*a, **k))[1])
    result = analyze(media["astronaut_talking.mp4"], AnalysisOptions(), tmp_path,
                     progress=lambda *report: log.append(report))
    reports = [entry for entry in log if len(entry) == 3]
    stages = [stage for stage, _, _ in reports]
    assert stages[0] == "loading models" and stages[-1] == "plots"
    assert {"decode", "faces", "words", "voice", "fusion"} <= set(stages)
    # the first window's frames are decoded and their faces found before its voice is heard
    assert stages.index("decode") < stages.index("faces") < stages.index("voice")
    for index, entry in enumerate(log):
        if entry == ("detect",):
            assert _preceding_report(log, index) == "faces"
        elif entry == ("listen",):  # in its own thread, beside the next window's faces
            assert "faces" in [entry[0] for entry in log[:index] if len(entry) == 3]
    for stage in ("words", "voice", "fusion"):  # once per window, and words once more for the tail
        assert stages.count(stage) == len(result.windows) + (stage == "words")
    total = result.info.duration_s
    done = [d for _, d, _ in reports]
    assert done == sorted(done) and all(t == total for *_, t in reports)
    assert 0 < done[-1] <= total and done[-1] == pytest.approx(result.windows[-1].end_s)


def test_stage_report_never_goes_back_or_past_the_total():
    from source.analysis.pipeline import StageReport

    seen = []
    report = StageReport(lambda *r: seen.append(r), total=10.0)
    report("faces", 4.0)
    report("voice", 0.0)  # the window 0-4 s, after the faces of 0-4 s
    report("plots", 10.04)  # the last window ends past the probe's duration
    assert seen == [("faces", 4.0, 10.0), ("voice", 4.0, 10.0), ("plots", 10.0, 10.0)]
    StageReport(None, 10.0)("faces", 1.0)  # no progress asked for: nothing to call


def test_the_app_bar_names_each_stage_with_the_seconds_done(media, tmp_path, monkeypatch):
    """The Video tab's bar during a real analysis: "Analysing: faces · 0 of 6 s" while faces are
    found, then voice, words and fusion, with the time left once a rate is known."""
    from source.ui import common
    from test_app import _app, _ok, _upload

    shown = []
    real = common.progress_text
    monkeypatch.setattr(common, "progress_text", lambda *a: shown.append(real(*a)) or shown[-1])
    app = _app(tmp_path)
    _upload(app.tabs[0].file_uploader[0], media["astronaut_talking.mp4"], "video/mp4").run()
    app.button(key="video_run").click().run()
    _ok(app)
    texts = [text for _, text in shown]
    for stage in ("decoding", "faces", "words", "voice", "fusion", "drawing the plots"):
        assert any(text.startswith(f"Analysing: {stage} · ") and " of 6 s" in text for text in texts), texts
    assert texts.index(next(t for t in texts if t.startswith("Analysing: faces"))) < texts.index(
        next(t for t in texts if t.startswith("Analysing: voice")))
    fractions = [fraction for fraction, _ in shown]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0, abs=0.01)


def test_piped_analyze_names_each_stage_once_then_says_done(media, tmp_path):
    """Not a terminal: a line when each stage first begins (not one per window and stage), and a
    last line "done: 100%"."""
    result = subprocess.run([sys.executable, "run.py", "analyze", media["astronaut_talking.mp4"], "--out", tmp_path,
                             "--no-words"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    assert "DestroyAccelerator" not in result.stderr  # MediaPipe's closing chatter, once amid the lines
    lines = [line for line in result.stderr.splitlines() if ": " in line and "% (" in line]
    stages = [line.split(":")[0] for line in lines]
    assert stages[:5] == ["loading models", "decode", "faces", "voice", "fusion"], result.stderr
    assert stages.count("faces") == 1 and stages.count("voice") == 1, result.stderr
    assert lines[-1].startswith("done: 100% ("), result.stderr
