"""Hostile settings, files and requests (issue 27): each gets one clear refusal, nothing hangs,
nothing is left on disk, and nothing outside what the studio allows is read or run."""

import struct
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from source.cli.main import main
from source.media.probe import MAX_PIXELS, probe
from source.errors import MediaError
from source.options import AnalysisOptions, FaceOptions, WindowOptions
from source.service import jobs as jobs_module
from source.service.app import create_app
from source.service.settings import ServiceSettings

LOCAL = "http://127.0.0.1:8000"  # the Host the service accepts without an API key


def big_png(path: Path, side: int) -> Path:
    """A valid black 1-bit PNG of side x side pixels in a few hundred KB (its rows compress to
    almost nothing): small on disk, gigabytes once decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def _wait_for(client, job_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/jobs/{job_id}").json()
        if status["state"] in ("done", "failed", "cancelled"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end in {timeout} s: {status}")


def _leftovers(work: Path) -> list[str]:
    """Every file under the service's jobs folder (uploads, partial outputs)."""
    return sorted(p.relative_to(work).as_posix() for p in (work / "jobs").rglob("*") if p.is_file())


@pytest.fixture
def service(media, tmp_path):
    for name in ("astronaut.jpg", "astronaut.png"):
        media[name]  # made before the service is told the folder
    settings = ServiceSettings(workers=1, allowed_root=media.dir, work_dir=tmp_path / "work")
    with TestClient(create_app(settings), base_url=LOCAL) as client:
        yield client


# ---------------------------------------------------------------- 1: settings out of range

@pytest.mark.parametrize("settings", [
    {"fps": float("inf")}, {"fps": float("nan")}, {"fps": 0.0}, {"fps": 1e9},
    {"window_s": float("nan")}, {"window_s": float("inf")}, {"window_s": -4.0},
    {"window_s": 4.0, "hop_s": float("nan")}, {"hop_s": 1e-6}, {"hop_s": -1.0},
    {"max_frame_side": 0}, {"max_frame_side": 10 ** 9},
])
def test_window_settings_are_bounded(settings):
    with pytest.raises(ValueError, match="must be between"):
        WindowOptions(**settings)


@pytest.mark.parametrize("value", [-1, 0, 10 ** 6])
def test_max_faces_and_smoothing_are_bounded(value):
    with pytest.raises(ValueError, match="must be between"):
        FaceOptions(max_faces=value)
    with pytest.raises(ValueError, match="must be between"):
        AnalysisOptions(smooth_windows=value if value != 0 else 10 ** 6)


@pytest.mark.parametrize("flags, message", [
    (["--window", "nan"], "the window length (s) must be between 0.5 and 600, not nan"),
    (["--fps", "inf"], "fps must be between 0.1 and 240, not inf"),
    (["--hop", "-1"], "the hop (s) must be between 0.25 and 600, not -1"),
    (["--max-faces", "-1"], "the most faces per frame must be between 1 and 20, not -1"),
    (["--smooth", "100000"], "smoothing (windows) must be between 1 and 51, not 100000"),
])
def test_bad_cli_settings_are_one_line(media, tmp_path, capsys, flags, message):
    assert main(["analyze", str(media["astronaut.jpg"]), "--out", str(tmp_path), *flags]) == 1
    err = capsys.readouterr().err
    assert err == f"error: {message}.\n"
    assert not list(tmp_path.iterdir())  # nothing written, no .part file


@pytest.mark.parametrize("field, value", [("fps", "inf"), ("fps", "nan"), ("window", "nan"),
                                          ("hop", "-inf"), ("max_faces", "-1"), ("smooth", "0")])
def test_bad_service_settings_are_422_before_any_job(service, tmp_path, field, value):
    answer = service.post("/analyze", data={"path": "astronaut.jpg", field: value})
    assert answer.status_code == 422, answer.text
    assert "must be between" in str(answer.json()["detail"])
    assert service.get("/health").json()["jobs"]["queued"] == 0
    assert _leftovers(tmp_path / "work") == []


def _paused_analysis(monkeypatch, hold: float | threading.Event):
    """The real ``analyze``, its first progress report held (for ``hold`` seconds, or until the
    event is set) so the test can act on a running job deterministically."""
    real = jobs_module.analyze
    started = threading.Event()

    def analyze(path, options, out_dir, progress):
        def held(stage, done, total):
            if not started.is_set():
                started.set()
                hold.wait(30) if isinstance(hold, threading.Event) else time.sleep(hold)
            progress(stage, done, total)
        return real(path, options, out_dir, held)

    monkeypatch.setattr(jobs_module, "analyze", analyze)
    return started


def test_a_running_job_is_cancelled_and_leaves_nothing(service, media, tmp_path, monkeypatch):
    release = threading.Event()
    started = _paused_analysis(monkeypatch, release)
    with open(media["astronaut.jpg"], "rb") as photo:
        job = service.post("/analyze", files={"file": ("photo.jpg", photo)}).json()
    assert started.wait(120)  # models loaded, CSV streams open, first report held
    assert service.get(f"/jobs/{job['id']}").json()["state"] == "running"
    answer = service.delete(f"/jobs/{job['id']}")
    assert answer.status_code == 200 and answer.json()["stopping"] and not answer.json()["deleted"]
    release.set()
    status = _wait_for(service, job["id"])
    assert status["state"] == "cancelled" and "was stopped: it was cancelled" in status["error"]
    assert _leftovers(tmp_path / "work") == []  # upload and the partial CSV files removed
    gone = service.delete(f"/jobs/{job['id']}")  # an ended job is forgotten
    assert gone.status_code == 200 and gone.json()["deleted"]
    assert service.get(f"/jobs/{job['id']}").status_code == 404
    assert not (tmp_path / "work" / "jobs" / job["id"]).exists()


def test_a_queued_job_is_cancelled_at_once(service, media, tmp_path, monkeypatch):
    release = threading.Event()
    started = _paused_analysis(monkeypatch, release)
    first = service.post("/analyze", data={"path": "astronaut.jpg"}).json()
    assert started.wait(120)
    with open(media["astronaut.png"], "rb") as photo:  # waits behind the first (1 worker)
        queued = service.post("/analyze", files={"file": ("queued.png", photo)}).json()
    assert service.get(f"/jobs/{queued['id']}").json()["state"] == "queued"
    answer = service.delete(f"/jobs/{queued['id']}").json()
    assert answer["state"] == "cancelled"
    assert not (tmp_path / "work" / "jobs" / queued["id"]).exists()  # its upload too
    release.set()
    assert _wait_for(service, first["id"])["state"] == "done"


def test_a_job_past_the_time_limit_is_stopped(media, tmp_path, monkeypatch):
    _paused_analysis(monkeypatch, 1.5)
    settings = ServiceSettings(workers=1, allowed_root=media.dir, work_dir=tmp_path / "work",
                               job_time_limit_s=1.0)
    with TestClient(create_app(settings), base_url=LOCAL) as client:
        with open(media["astronaut.jpg"], "rb") as photo:
            job = client.post("/analyze", files={"file": ("photo.jpg", photo)}).json()
        status = _wait_for(client, job["id"])
    assert status["state"] == "failed"
    assert "time limit of 1 s per job" in status["error"]
    assert _leftovers(tmp_path / "work") == []
    with pytest.raises(ValueError, match="time limit"):
        ServiceSettings(job_time_limit_s=float("inf"))


# ---------------------------------------------------------------- 2: pixel limit

@pytest.mark.parametrize("side", [19000, 21000])
def test_huge_pictures_in_small_files_are_refused_from_the_header(tmp_path, capsys, side):
    bomb = big_png(tmp_path / "bomb.png", side)
    assert bomb.stat().st_size < 1024 ** 2
    with pytest.raises(MediaError, match=f"{MAX_PIXELS / 1e6:.0f} Mpx"):
        probe(bomb)
    assert main(["analyze", str(bomb), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: bomb.png is ") and "Scale it down first." in err
    assert err.count("\n") == 1


def test_huge_picture_upload_is_422_and_removed(service, tmp_path):
    bomb = big_png(tmp_path / "bomb.png", 21000)
    with open(bomb, "rb") as file:
        answer = service.post("/analyze", files={"file": ("bomb.png", file)})
    assert answer.status_code == 422 and "Mpx" in answer.json()["detail"]
    assert _leftovers(tmp_path / "work") == []


# ---------------------------------------------------------------- 3: nothing left on failure

@pytest.mark.parametrize("name, message", [("a\0b.jpg", "NUL or control character"),
                                           ("x" * 300 + ".jpg", "longer than 200 bytes")])
def test_bad_upload_names_are_422_and_nothing_stays(service, media, tmp_path, name, message):
    # written by hand: httpx would escape the NUL byte of the file name
    boundary = "studio-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + media["astronaut.jpg"].read_bytes() \
        + f"\r\n--{boundary}--\r\n".encode()
    answer = service.post("/analyze", content=body,
                          headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert answer.status_code == 422 and message in answer.json()["detail"]
    assert _leftovers(tmp_path / "work") == []
    assert service.post("/analyze", data={"path": "a\0b.jpg"}).status_code == 422


def test_an_unexpected_failure_while_submitting_removes_the_upload(service, media, tmp_path,
                                                                   monkeypatch):
    import source.service.app as app_module

    def broken_probe(path):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(app_module, "probe", broken_probe)
    client = TestClient(service.app, base_url=LOCAL, raise_server_exceptions=False)
    with open(media["astronaut.jpg"], "rb") as photo:
        assert client.post("/analyze", files={"file": ("photo.jpg", photo)}).status_code == 500
    assert list((tmp_path / "work" / "jobs").iterdir()) == []


# ---------------------------------------------------------------- 7: no path outside the root

def test_whisper_model_accepts_only_registered_names_or_the_allowed_root(media, tmp_path):
    secret = tmp_path / "secret_model"
    secret.mkdir()
    (secret / "model.bin").write_bytes(b"not a model")
    with TestClient(create_app(ServiceSettings(work_dir=tmp_path / "a")), base_url=LOCAL) as uploads:
        with open(media["astronaut.jpg"], "rb") as photo:
            answer = uploads.post("/analyze", files={"file": ("p.jpg", photo)},
                                  data={"whisper_model": str(secret)})
        assert answer.status_code == 422 and "must be one of tiny.en, base" in answer.json()["detail"]
    with TestClient(create_app(ServiceSettings(work_dir=tmp_path / "b", allowed_root=media.dir)),
                    base_url=LOCAL) as rooted:
        details = set()
        for folder in (secret, tmp_path / "no_such_folder", "../" * 10 + str(secret)):
            answer = rooted.post("/analyze", data={"path": "astronaut.jpg",
                                                   "whisper_model": str(folder)})
            assert answer.status_code == 403, answer.text
            details.add(answer.json()["detail"].replace(str(folder), "FOLDER"))
        assert len(details) == 1  # the same words whether the folder exists or not
        assert str(media.dir) not in details.pop()
    assert _leftovers(tmp_path / "a") == [] and _leftovers(tmp_path / "b") == []


# ---------------------------------------------------------------- 8: Host header, server paths

def test_without_a_key_only_the_services_own_host_is_answered(media, tmp_path):
    app = create_app(ServiceSettings(work_dir=tmp_path, allowed_root=media.dir))
    for host in ("127.0.0.1:8000", "localhost", "LOCALHOST:8000", "[::1]:8000", "10.0.0.7"):
        with TestClient(app, base_url=f"http://{host}") as client:
            assert client.get("/health").status_code == 200, host
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example", "testserver"):
        with TestClient(app, base_url=f"http://{host}") as client:
            answer = client.get("/models")
            assert answer.status_code == 400 and "not this service's address" in answer.json()["detail"]
    proxied = create_app(ServiceSettings(work_dir=tmp_path, allowed_hosts=("studio.lan",)))
    with TestClient(proxied, base_url="http://studio.lan") as client:
        assert client.get("/health").status_code == 200
    keyed = create_app(ServiceSettings(work_dir=tmp_path, api_key="k"))  # the key protects it
    with TestClient(keyed, base_url="http://studio.example") as client:
        assert client.get("/health").status_code == 200


def test_results_hold_no_server_paths(service, media, tmp_path):
    job = service.post("/analyze", data={"path": "astronaut.jpg"}).json()
    assert _wait_for(service, job["id"])["state"] == "done"
    answer = service.get(f"/jobs/{job['id']}/result")
    assert answer.status_code == 200
    for secret in (str(tmp_path), str(media.dir)):
        assert secret not in answer.text
    report = answer.json()
    assert report["input"]["path"] == "astronaut.jpg"
    assert report["outputs"]["windows_csv"] == "astronaut_windows.csv"
    assert report["outputs"]["frames_csv"] == "astronaut_frames.csv"


# ---------------------------------------------------------------- 6: no pickle in tune

class _Payload:
    """Unpickling this creates ``marker``: proof that a file ran code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_tune_never_unpickles_a_search_state(tmp_path, capsys):
    import pickle

    state = tmp_path / "search"
    state.mkdir()
    marker = tmp_path / "code_ran"
    (state / "hyperopt_trials.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    code = main(["tune", "--model", "voice_mfcc", "--data", str(tmp_path), "--state", str(state),
                 "--out", str(tmp_path / "best.json"), "--max-evals", "1"])
    assert not marker.exists()
    assert code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pickled search state, which the studio no longer reads" in err


def _fake_objective(calls: list):
    def objective(sampled: dict) -> dict:
        calls.append(sampled)
        score = 1.0 - abs(sampled["x"] - 0.3)
        return {"macro_f1": np.float64(score), "accuracy": np.float32(score),
                "parameters": {"x": sampled["x"]}, "trial": "t", "seconds": 0.0}
    return objective


def test_the_search_state_is_json_and_resumes(tmp_path):
    import json

    from hyperopt import hp

    from source.tuning.local import TRIALS_FILE, local_search

    calls = []
    space = {"x": hp.uniform("x", 0, 1)}
    first = local_search(_fake_objective(calls), space, 2, "tpe", tmp_path, seed=0)
    saved = json.loads((tmp_path / TRIALS_FILE).read_text())
    assert len(first) == 2 and len(saved["trials"]) == 2
    again = local_search(_fake_objective(calls), space, 3, "tpe", tmp_path, seed=0)
    assert len(calls) == 3  # the two saved trials were not run again
    assert [r["parameters"] for r in again[:2]] == [r["parameters"] for r in first]
    assert len(json.loads((tmp_path / TRIALS_FILE).read_text())["trials"]) == 3


@pytest.mark.parametrize("content", ["not json", '{"format": "other", "trials": []}',
                                     '{"format": "emotion-studio hyperopt trials 1", "trials": '
                                     '[{"tid": 0, "vals": {"x": ["__import__"]}, "idxs": {"x": [0]}, '
                                     '"result": {"loss": 0, "status": "ok"}}]}'])
def test_a_foreign_search_state_is_one_clear_error(tmp_path, content):
    from hyperopt import hp

    from source.errors import StudioError
    from source.tuning.local import TRIALS_FILE, local_search

    (tmp_path / TRIALS_FILE).write_text(content)
    with pytest.raises(StudioError, match="cannot be read .*delete the file"):
        local_search(_fake_objective([]), {"x": hp.uniform("x", 0, 1)}, 1, "tpe", tmp_path, 0)


# ---------------------------------------------------------------- 4: shutdown

def test_shutdown_drops_queued_jobs_stops_running_ones_and_removes_uploads(media, tmp_path, monkeypatch):
    from source.service.jobs import ServiceStopping

    release = threading.Event()
    started = _paused_analysis(monkeypatch, release)
    work = tmp_path / "work"
    leftover = work / "jobs" / "0ld"  # what a killed service left: an upload, a partial CSV
    (leftover / "upload").mkdir(parents=True)
    (leftover / "upload" / "clip.mp4").write_bytes(b"x")
    (leftover / ".clip_windows.csv.abc.part").write_text("window\n")
    (leftover / "clip_analysis.json").write_text("{}")  # a finished output stays
    settings = ServiceSettings(workers=1, allowed_root=media.dir, work_dir=work, shutdown_grace_s=0.2)
    app = create_app(settings)
    assert _leftovers(work) == ["jobs/0ld/clip_analysis.json"]
    with TestClient(app, base_url=LOCAL) as client:
        with open(media["astronaut.jpg"], "rb") as photo:
            running = client.post("/analyze", files={"file": ("a.jpg", photo)}).json()
        assert started.wait(120)
        with open(media["astronaut.png"], "rb") as photo:
            queued = client.post("/analyze", files={"file": ("b.png", photo)}).json()
        threading.Timer(1.0, release.set).start()  # the held report goes on after the grace period
    jobs = app.state.jobs  # the lifespan has ended: the service has shut down
    assert jobs.get(queued["id"]).state == "cancelled"
    ran = jobs.get(running["id"])
    assert ran.state == "cancelled" and "the service stopped while it ran" in ran.error
    assert _leftovers(work) == ["jobs/0ld/clip_analysis.json"]
    with pytest.raises(ServiceStopping):
        jobs.new_folder()


# ---------------------------------------------------------------- 10: one line, never a traceback

def test_an_output_folder_that_cannot_be_used_is_one_line(media, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    for out in (blocker, blocker / "below"):
        assert main(["analyze", str(media["astronaut.jpg"]), "--out", str(out)]) == 1
        assert capsys.readouterr().err == f"error: The output folder {out} cannot be used: {blocker} is a file.\n"
    assert main(["batch", str(media.dir), "--out", str(blocker)]) == 1
    assert "cannot be used" in capsys.readouterr().err


def test_an_output_folder_that_is_not_writable_is_one_line(media, tmp_path, capsys, monkeypatch):
    import tempfile

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refused)  # as chmod 555 does (not for root)
    assert main(["analyze", str(media["astronaut.jpg"]), "--out", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == f"error: The output folder {tmp_path / 'out'} is not writable (permission denied).\n"


class _NotPlainData:
    pass


def test_foreign_or_edited_weights_are_one_line_without_torchs_advice(media, tmp_path, capsys):
    import torch

    from source.face.model import FaceModel
    from source.registry import get_model
    from source.weights import WeightsError

    saved = torch.load(get_model("face").weights.path, map_location="cpu", weights_only=True)
    edits = {"classes.pt": {**saved, "network": {**saved["network"], "n_classes": 5}},
             "units.pt": {**saved, "network": {**saved["network"], "head": {**saved["network"]["head"], "units": 64}}},
             "no_transform.pt": {k: v for k, v in saved.items() if k != "transform"}}
    for name, edited in edits.items():
        torch.save(edited, tmp_path / name)
        with pytest.raises(WeightsError, match="does not fit its weights or settings"):
            FaceModel.load(tmp_path / name)
    torch.save({**saved, "extra": _NotPlainData()}, tmp_path / "code.pt")
    with pytest.raises(WeightsError, match="objects other than tensors and plain data") as refused:
        FaceModel.load(tmp_path / "code.pt")
    assert "weights_only" not in str(refused.value)
    for weights in (media["astronaut.png"], tmp_path / "classes.pt", tmp_path / "code.pt"):
        assert main(["analyze", str(media["astronaut.jpg"]), "--out", str(tmp_path / "out"),
                     "--face-weights", str(weights)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert "weights_only" not in err and "Traceback" not in err


@pytest.mark.parametrize("after_s", [0.3, 0.7, 1.2])
def test_ctrl_c_while_starting_is_one_line(media, tmp_path, after_s):
    import signal
    import subprocess
    import sys

    from helpers import ROOT

    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "analyze",
                                str(media["astronaut.jpg"]), "--out", str(tmp_path)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(after_s)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert "Traceback" not in err, err
    outputs = sorted(path.name for path in tmp_path.iterdir())
    if process.returncode == 0:
        # a library that swallows every exception while it imports (a bare ``except:``) can eat
        # the interrupt; then the run must be whole (seen once in a loaded suite at 0.3 s; raising
        # Ctrl-C again until it lands aborted inside a pybind11 callback instead)
        assert "astronaut_analysis.json" in outputs and not any(name.endswith(".part") for name in outputs)
        return
    # otherwise the run stops: 130 and one line (killed by the signal itself only if it beat
    # Python's own handler), and leaves nothing half-written
    assert (process.returncode, err.strip()) in ((130, "interrupted"), (-signal.SIGINT, "")), (process.returncode, err)
    assert not any(name.endswith(".part") for name in outputs), outputs


# ---------------------------------------------------------------- 11: honest messages

def test_one_video_frame_over_8_s_of_sound_is_analysed(media, tmp_path):
    import subprocess

    import media_fixtures
    from source.analysis.pipeline import analyze

    ffmpeg = media_fixtures.ffmpeg_binary()

    def make(*args):
        subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *map(str, args)], check=True)

    make("-i", media["astronaut.png"], "-frames:v", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", tmp_path / "v.mp4")
    make("-f", "lavfi", "-i", "sine=frequency=220:duration=8", "-c:a", "aac", tmp_path / "a.m4a")
    make("-i", tmp_path / "v.mp4", "-i", tmp_path / "a.m4a", "-map", "0:v", "-map", "1:a", "-c", "copy",
         tmp_path / "still.mp4")
    info = probe(tmp_path / "still.mp4")
    assert info.kind == "video" and info.duration_s == pytest.approx(8.0, abs=0.1)
    result = analyze(tmp_path / "still.mp4", AnalysisOptions(words=False, plots=False), tmp_path / "out")
    assert [(w.start_s, w.n_frames) for w in result.windows] == [(0.0, 1), (4.0, 0)]
    assert result.windows[0].faces and all(w.speech is not None for w in result.windows)


def test_an_unreadable_file_is_permission_denied_not_corrupt(media, tmp_path, monkeypatch):
    import os

    import source.media.probe as probe_module

    locked = tmp_path / "locked.mp4"
    locked.write_bytes(media["astronaut.jpg"].read_bytes())
    if os.geteuid() != 0:  # root reads a chmod-000 file: there the refusal is simulated
        locked.chmod(0)
    else:
        real_open = open

        def no_permission(path, *args, **kwargs):
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(probe_module, "open", no_permission, raising=False)
        monkeypatch.setattr(probe_module.Image, "open", lambda p, *a, **k: no_permission(p, "rb"))
        monkeypatch.setattr(probe_module.av, "open", lambda p, *a, **k: no_permission(p, "rb"))
    with pytest.raises(MediaError) as refused:
        probe(locked)
    assert str(refused.value) == "locked.mp4 cannot be read: permission denied."


def test_progress_bars_never_pass_100_percent(recwarn):
    from source.cli.progress import media_bar

    with media_bar("voice") as progress:
        progress(4.0, 8.04)  # the total is shown rounded (8.0); the last window ends at 8.04
        progress(8.04, 8.04)
    assert not [w for w in recwarn if "clamping frac" in str(w.message)]


def test_the_analyze_bar_never_passes_100_percent(media, tmp_path, monkeypatch, recwarn):
    import source.analysis.pipeline as pipeline
    from source.cli import progress as progress_module

    shown = []
    real_bar = progress_module.progress_bar

    def recording_bar(**kwargs):
        bar = real_bar(**kwargs)
        shown.append(bar)
        return bar

    def fake_analyze(path, options, out, progress):
        progress("analysing", 4.0, 8.04)
        progress("analysing", 8.04, 8.04)
        raise MediaError("stop here")

    monkeypatch.setattr(progress_module, "progress_bar", recording_bar)
    monkeypatch.setattr(pipeline, "analyze", fake_analyze)
    assert main(["analyze", str(media["astronaut.jpg"]), "--out", str(tmp_path)]) == 1
    assert shown and shown[0].n <= shown[0].total
    assert not [w for w in recwarn if "clamping frac" in str(w.message)]


# ---------------------------------------------------------------- 9: asset checks that cannot be fooled

def test_a_flipped_byte_with_its_old_mtime_is_found(tmp_path, monkeypatch, capsys):
    import hashlib
    import os

    from source import assets
    from source.assets import Asset, asset_path, asset_status, fetch_asset
    from source.errors import AssetChecksumMismatch

    monkeypatch.setenv("EMOTION_STUDIO_CACHE", str(tmp_path / "cache"))
    data = bytes(range(256)) * 64
    toy = Asset(name="toy", version="1", description="toy file asset", license="MIT",
                upstream_url="https://example.org/toy.bin", wheels=(),
                files={"toy.bin": hashlib.sha256(data).hexdigest()})
    monkeypatch.setattr(assets, "_ASSETS", (toy,))
    mine = tmp_path / "toy.bin"
    mine.write_bytes(data)
    cached = fetch_asset("toy", source=mine)
    assert asset_status("toy").state == "ok" and main(["assets"]) == 0
    before = cached.stat()
    flipped = bytearray(cached.read_bytes())
    flipped[100] ^= 1
    cached.write_bytes(bytes(flipped))
    os.utime(cached, ns=(before.st_atime_ns, before.st_mtime_ns))  # the old size and mtime
    assert cached.stat().st_size == before.st_size and cached.stat().st_mtime_ns == before.st_mtime_ns
    assert asset_status("toy").state == "corrupt"
    with pytest.raises(AssetChecksumMismatch, match="damaged or was changed"):
        asset_path("toy")
    capsys.readouterr()
    assert main(["assets"]) == 1 and main(["assets", "--verify"]) == 1
    assert "toy: The cached file" in capsys.readouterr().out
    cached.unlink()
    assert main(["assets"]) == 1  # missing


def test_assets_verify_hashes_every_file(tmp_path, monkeypatch):
    import hashlib

    from source import assets
    from source.assets import Asset, asset_status, fetch_asset

    monkeypatch.setenv("EMOTION_STUDIO_CACHE", str(tmp_path / "cache"))
    data = b"model bytes" * 100
    toy = Asset(name="toy", version="1", description="toy", license="MIT",
                upstream_url="https://example.org/toy.bin", wheels=(),
                files={"toy.bin": hashlib.sha256(data).hexdigest()})
    monkeypatch.setattr(assets, "_ASSETS", (toy,))
    (tmp_path / "toy.bin").write_bytes(data)
    fetch_asset("toy", source=tmp_path / "toy.bin")
    hashed = []
    real_sha256 = assets.file_sha256
    monkeypatch.setattr(assets, "file_sha256", lambda path: hashed.append(path) or real_sha256(path))
    assert asset_status("toy").state == "ok" and hashed == []  # the stamp holds: no hashing
    assert main(["assets", "--verify"]) == 0 and len(hashed) == 1


# ---------------------------------------------------------------- 5: no .part file left behind

def test_a_landmarker_that_fails_to_open_leaves_no_partial_files(media, tmp_path, monkeypatch):
    import source.analysis.pipeline as pipeline
    from source.errors import StudioError

    def broken(*args, **kwargs):
        raise StudioError("the face landmarker asset is damaged")

    monkeypatch.setattr(pipeline, "FaceLandmarker", broken)
    with pytest.raises(StudioError, match="damaged"):
        pipeline.analyze(media["astronaut.jpg"], AnalysisOptions(plots=False), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_batch_rerun_removes_a_killed_runs_partial_files(media, tmp_path, monkeypatch):
    import source.batch as batch

    folder = tmp_path / "out" / "photo.jpg"
    folder.mkdir(parents=True)
    stale = [folder / ".photo_windows.csv.k1ll3d.part", folder / ".photo_frames.csv.k1ll3d.part"]
    for path in stale:
        path.write_text("window\n")
    (folder / ".other_windows.csv.x.part").write_text("")  # another file's: not this one's to remove

    def failing(path, options, out):
        raise MediaError("stop")

    monkeypatch.setattr(batch, "analyze", failing)
    row = batch.analyze_file(batch.BatchFile(tmp_path / "photo.jpg", "photo.jpg", folder), AnalysisOptions())
    assert row["status"] == batch.FAILED
    assert not any(path.exists() for path in stale)
    assert (folder / ".other_windows.csv.x.part").exists()


def test_sigterm_during_analyze_removes_the_partial_files(media, tmp_path):
    import signal
    import subprocess
    import sys

    from helpers import ROOT

    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "analyze",
                                str(media["astronaut_talking.mp4"]), "--out", str(out), "--no-words",
                                "--no-plots", "--fps", "30"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.glob(".*.part")) and process.poll() is None:
        assert time.monotonic() < deadline, "the analysis never opened its CSV files"
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip("the analysis ended before the signal arrived")
    assert process.returncode == 143 and err.strip().endswith("terminated"), err
    assert "Traceback" not in err
    assert list(out.glob(".*.part")) == []
