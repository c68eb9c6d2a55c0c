"""``run.py batch`` on a folder of real and broken files: on this machine (through the command
line) and on a local 2-worker Ray instance; what a second run skips."""

import csv
import shutil

import pytest

from helpers import run_py
from source.batch import ALREADY_DONE, ANALYSED, FAILED, SUMMARY_COLUMNS, plan_batch, run_batch
from source.options import AnalysisOptions
from source.paths import cache_dir

GOOD = {"astronaut.jpg": "happy", "clips/speech.wav": None}
BROKEN = {"clips/corrupt.mp4": "could not be read", "clips/empty.mp4": "empty (0 bytes)",
          "text_named.wav": "could not be read"}
QUICK = AnalysisOptions(words=False, plots=False)


@pytest.fixture(scope="module")
def input_dir(media, tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch-in")
    (folder / "clips").mkdir()
    for name in (*GOOD, *BROKEN):
        shutil.copyfile(media[name.removeprefix("clips/")], folder / name)
    (folder / "notes.txt").write_text("not media: never listed\n")
    (folder / ".hidden.mp4").write_bytes(b"")  # hidden: never listed
    return folder


def _summary(out_dir) -> dict[str, dict]:
    with open(out_dir / "summary.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == SUMMARY_COLUMNS
        return {row["file"]: row for row in reader}


def _check_first_run(rows: dict[str, dict], out_dir) -> None:
    assert set(rows) == set(GOOD) | set(BROKEN)
    for name, emotion in GOOD.items():
        row = rows[name]
        assert row["status"] == ANALYSED and row["error"] == "", row
        assert sum(float(row[f"share_{e}"]) for e in ("angry", "disgust", "fear", "happy", "sad",
                                                       "surprise", "neutral")) == pytest.approx(1)
        assert row["dominant_emotion"] == (emotion or row["dominant_emotion"])
        stem = name.rsplit("/", 1)[-1].split(".")[0]
        assert (out_dir / name / f"{stem}_analysis.json").is_file()
    assert rows["clips/speech.wav"]["duration_s"] and rows["astronaut.jpg"]["duration_s"] == ""
    photo = rows["astronaut.jpg"]  # per-person columns: the one face, and nobody in the audio file
    assert (photo["person1_face_id"], photo["person1_dominant_emotion"], photo["person2_face_id"]) == ("0", "happy", "")
    assert rows["clips/speech.wav"]["person1_face_id"] == ""
    for name, reason in BROKEN.items():
        assert rows[name]["status"] == FAILED and reason in rows[name]["error"]
        assert not (out_dir / name).exists()


def test_local_batch_lists_failures_and_resumes(input_dir, tmp_path):
    out = tmp_path / "out"
    result = run_py("batch", input_dir, "--out", out, "--no-words", "--no-plots",
                    cache=cache_dir())  # the fetched model files, not a fresh cache
    assert result.returncode == 1, result.stderr  # some files failed; the others were analysed
    assert "5 media file(s)" in result.stdout and "2 analysed, 0 already done, 3 failed" in result.stdout
    for name in BROKEN:
        assert f"failed: {name}:" in result.stdout  # as it happens, above the progress bar
    _check_first_run(_summary(out), out)
    # a second run skips what is done and tries the failures again; --force redoes everything
    plan = plan_batch(input_dir, out)
    assert sorted(f.name for f in plan.todo) == sorted(BROKEN)
    assert {row["file"]: row["status"] for row in plan.done} == dict.fromkeys(GOOD, ALREADY_DONE)
    assert plan.done[0]["dominant_emotion"] == "happy"
    (out / "clips/speech.wav/speech_analysis.json").unlink()  # as if stopped during that file
    assert "clips/speech.wav" in [f.name for f in plan_batch(input_dir, out).todo]
    assert len(plan_batch(input_dir, out, force=True).todo) == 5


def test_ray_batch_on_two_workers(input_dir, tmp_path):
    pytest.importorskip("ray", reason="ray is not installed")
    out = tmp_path / "out"
    seen = []
    rows = run_batch(plan_batch(input_dir, out), out, QUICK, engine="ray", workers=2,
                     report=seen.append)
    assert len(seen) == len(rows) == 5
    _check_first_run(_summary(out), out)
