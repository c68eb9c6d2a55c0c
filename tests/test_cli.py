"""run.py as a person uses it: subcommands, --help, errors without tracebacks, the menu."""

import subprocess
import sys
from pathlib import Path

import pytest

from source.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ["analyze", "predict", "preprocess", "train", "tune", "evaluate", "card", "assets"]


def run_py(*args, stdin=None):
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *map(str, args)], input=stdin,
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_help_lists_every_command():
    result = run_py("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command):
    result = run_py(command, "--help")
    assert result.returncode == 0 and "usage: run.py " + command in result.stdout


def test_analyze_writes_outputs(media, tmp_path):
    result = run_py("analyze", media["astronaut_talking.mp4"], "--out", tmp_path, "--fps", 2)
    assert result.returncode == 0, result.stderr
    assert "2 windows, 1 face track(s)" in result.stdout
    assert (tmp_path / "astronaut_talking_windows.csv").exists()


def test_bad_input_is_one_clear_line(media, tmp_path):
    result = run_py("analyze", media["corrupt.mp4"], "--out", tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: corrupt.mp4 could not be read")


def test_invalid_settings_are_refused(media, tmp_path):
    result = run_py("analyze", media["astronaut.png"], "--window", "1")
    assert result.returncode != 0 and "at least the minimum duration" in result.stderr


def test_no_voice_keeps_the_words_and_refuses_a_voice_file():
    from source.cli.analyze import options_from_args
    from source.cli.main import build_parser
    from source.errors import StudioError

    parser = build_parser()
    options = options_from_args(parser.parse_args(["analyze", "clip.mp4", "--no-voice"]))
    assert options.voice_model is None and options.words and options.audio
    assert options_from_args(parser.parse_args(["analyze", "clip.mp4"])).voice_model == "voice_whisper"
    with pytest.raises(StudioError, match="--no-voice"):
        options_from_args(parser.parse_args(["analyze", "clip.mp4", "--no-voice", "--voice-weights", "v.pt"]))


def test_unknown_model_names_the_available_ones():
    result = run_py("train", "--model", "nonexistent", "--data", ".")
    assert result.returncode == 1 and "no model named 'nonexistent'" in result.stderr


def test_menu_runs_an_analysis_and_prints_the_command(media, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(media["astronaut.png"].read_bytes())
    result = run_py(stdin=f"1\n{photo}\nq\n")
    assert result.returncode == 0, result.stderr
    assert f"$ python run.py analyze {photo}" in result.stdout
    assert "1 windows, 1 face track(s)" in result.stdout


def test_menu_handles_bad_choices_and_end_of_input():
    result = run_py(stdin="99\nabc\n")
    assert result.returncode == 0
    assert result.stdout.count("Please type a number") == 2


@pytest.mark.parametrize("args, message", [
    (["--camera", "/dev/video_missing"], "No webcam at /dev/video_missing"),
    (["--seconds", "1"], "--seconds must be at least 1.5"),
])
def test_webcam_prediction_without_a_camera_is_one_clear_line(args, message, capsys):
    assert main(["predict", "--model", "face", "--webcam", *args]) == 1
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_analyze_help_lists_every_output():
    result = run_py("analyze", "--help")
    text = " ".join(result.stdout.split())
    for output in ("_windows.csv", "_frames.csv", "_analysis.json", "_transcript.srt", "_timeline.png",
                   "_distribution.png", "_heatmap.png", "_plots.html"):
        assert f"<stem>{output}" in text, output


def test_analyze_progress_is_plain_lines_when_piped(media, tmp_path):
    """Not a terminal (a pipe, a log): no carriage-return debris, lines that name the stage."""
    result = run_py("analyze", media["astronaut_talking.mp4"], "--out", tmp_path, "--fps", 2, "--no-words")
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "\x1b" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(("loading models:", "faces:", "done:"))]
    assert lines and lines[-1].startswith("done: 100% (") and " s)" in lines[-1], result.stderr


def test_line_progress_says_a_line_per_stage_and_interval(capsys):
    from source.cli.progress import LineProgress

    bar = LineProgress(total=10, unit="s", interval=3600, desc="decode")
    bar.update(4)  # inside the interval: nothing yet
    assert capsys.readouterr().err == ""
    bar.set_description("faces")  # a new stage: a line at its first update
    bar.update(2)
    bar.update(4)
    bar.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("faces: 60% (6/10 s), ") and "left" in lines[0]
    assert lines[1].startswith("faces: 100% (10/10 s), ") and len(lines) == 2
    every = LineProgress(total=3, unit="file", interval=0)
    for _ in range(3):
        every.update()
    every.close()
    assert [line.split(",")[0] for line in capsys.readouterr().err.splitlines()] == [
        "progress: 33% (1/3 file)", "progress: 67% (2/3 file)", "progress: 100% (3/3 file)"]


def test_a_photo_reports_its_emotion_not_a_share_of_time(media, tmp_path):
    result = run_py("analyze", media["astronaut.png"], "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "dominant emotion" not in result.stdout
    assert "emotion: happy (" in result.stdout and "% sure" in result.stdout


def test_card_for_the_text_model_shows_its_card():
    result = run_py("card", "--model", "text")
    assert result.returncode == 0, result.stderr
    assert "# Text-emotion model" in result.stdout and "no model card" not in result.stdout


def test_assets_fetch_progress_is_plain_lines_when_piped():
    """The cached face landmarker is verified, not downloaded: one plain progress line, no bar."""
    result = run_py("assets", "--fetch", "face_landmarker")
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "\x1b" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("face_landmarker: 100% (1/1 asset)")
    assert result.stdout.startswith("face_landmarker: ok  ")


def test_batch_progress_is_plain_lines_when_piped(media, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("empty.mp4", "corrupt.mp4"):
        (folder / name).write_bytes(media[name].read_bytes())
    result = run_py("batch", folder, "--out", tmp_path / "out")
    assert result.returncode == 1  # both files fail, and the run says so
    assert "\r" not in result.stderr and "\x1b" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("files: 100% (2/2 file)")
    assert "failed: empty.mp4: empty.mp4 is empty (0 bytes)." in result.stdout
