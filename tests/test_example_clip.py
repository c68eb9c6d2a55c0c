"""The example clip shipped in input_files/ (issue 28, item 10): the README's commands name files
that exist, the clip is small and real, the CLI analyses it and the app offers it."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import example_clip
from source.media.probe import probe

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = example_clip.EXAMPLE_PATH


def test_every_input_file_the_readme_names_exists():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"input_files/[\w.\-]+\.\w+", readme))
    assert "input_files/astronaut_interview.mp4" in named
    missing = [name for name in named if not (ROOT / name).is_file()]
    assert not missing, missing


def test_example_clip_is_small_real_and_tracked():
    assert EXAMPLE.is_file() and 100_000 < EXAMPLE.stat().st_size < 3_000_000
    info = probe(EXAMPLE)
    assert info.kind == "video" and info.video_codec == "h264" and info.audio_codec == "aac"
    assert 10 < info.duration_s < 16
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(EXAMPLE.relative_to(ROOT))],
                             cwd=ROOT, capture_output=True)
    assert tracked.returncode == 0, "input_files/astronaut_interview.mp4 is not in git"
    license_text = (ROOT / "input_files" / "README.md").read_text(encoding="utf-8")
    assert EXAMPLE.name in license_text and "public domain" in license_text


def test_example_clip_is_rebuilt_the_same(tmp_path):
    if example_clip.mf.espeak_binary() is None:
        pytest.skip(example_clip.mf.ESPEAK_MISSING)
    rebuilt = example_clip.make_example(tmp_path / EXAMPLE.name)
    shipped, again = probe(EXAMPLE), probe(rebuilt)
    assert again.duration_s == pytest.approx(shipped.duration_s, abs=0.05)
    assert (again.width, again.height) == (shipped.width, shipped.height)


def test_readme_example_command_analyses_the_clip(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "analyze",
                             "input_files/astronaut_interview.mp4", "--out", str(tmp_path), "--fps", "2"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "3 windows, 1 face track(s)" in result.stdout
    assert (tmp_path / "astronaut_interview_windows.csv").is_file()
    assert (tmp_path / "astronaut_interview_transcript.srt").read_text().strip()


def test_app_offers_the_example_in_the_video_tab():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not app.exception, app.exception
    assert EXAMPLE.name in app.selectbox(key="video_pick").options
