"""The HTTP service: a real uvicorn on localhost (a real clip uploaded, followed and fetched; every
4xx; 20 requests at once) and the FastAPI test client (docs, models, a crashing job, limits)."""

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from helpers import ROOT
from source.results.records import WINDOW_COLUMNS
from source.labels import EMOTIONS
from source.paths import MODELS_DIR
from source.service.app import create_app
from source.service.settings import ServiceSettings
from source.service import jobs as jobs_module

API_KEY = "test-key"
KEYED = {"X-API-Key": API_KEY}
UPLOAD_LIMIT_MB = 1
QUICK = {"words": "false"}  # the words branch has its own tests; these are about the service
LOCAL = "http://127.0.0.1:8000"  # without an API key the service answers only to its own address


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(client, job_id: str, timeout: float = 180) -> tuple[dict, list[dict]]:
    """Poll a job until it ends; its final status and every status seen."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/jobs/{job_id}").json()
        seen.append(status)
        if status["state"] in ("done", "failed"):
            return status, seen
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {seen[-1]}")


@pytest.fixture(scope="module")
def server(media, tmp_path_factory):
    """``run.py serve`` on a free port: uploads up to 1 MiB, paths under the test media, a key."""
    port = _free_port()
    work = tmp_path_factory.mktemp("service")
    for name in ("astronaut.jpg", "empty.mp4"):
        media[name]  # made before the server is told the folder
    env = {**os.environ, "EMOTION_STUDIO_API_KEY": API_KEY}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "serve", "--port", str(port), "--workers", "2",
         "--allowed-root", str(media.dir), "--work-dir", str(work),
         "--max-upload-mb", str(UPLOAD_LIMIT_MB)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=KEYED, timeout=60)
    deadline = time.monotonic() + 240
    try:
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.5)
        yield client
    finally:
        client.close()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def clip_job(server, media):
    """The talking clip, uploaded once; (final status, statuses seen)."""
    with open(media["astronaut_talking.mp4"], "rb") as clip:
        answer = server.post("/analyze", files={"file": ("talk.mp4", clip, "video/mp4")},
                             data=QUICK)
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["state"] in ("queued", "running")
    early = server.get(f"/jobs/{job['id']}/result")  # seconds before the analysis can end
    assert early.status_code == 409 and "poll GET /jobs/" in early.json()["detail"]
    return _wait_for(server, job["id"])


def test_uploaded_clip_is_followed_and_its_result_fetched(server, clip_job):
    status, seen = clip_job
    assert status["state"] == "done" and status["progress"] == 1.0 and status["error"] is None
    assert status["input"] == "talk.mp4"
    assert any(s["state"] == "running" for s in seen)  # polled every 0.2 s over seconds of work
    progress = [s["progress"] for s in seen if s["progress"] is not None]
    assert progress == sorted(progress) and progress[-1] == 1.0
    report = server.get(f"/jobs/{status['id']}/result").json()
    # the CLI's analysis JSON: same keys, the clip's two windows, the settings sent
    assert {"input", "settings", "versions", "models", "summary", "faces", "warnings",
            "windows", "outputs"} <= set(report)
    assert report["input"]["kind"] == "video" and report["input"]["width"] == 640
    assert [w["start_s"] for w in report["windows"]] == [0.0, 4.0]
    assert report["settings"]["words"] is False and report["settings"]["plots"] is False
    assert report["summary"]["dominant_emotion"] in EMOTIONS
    assert report["faces"]["subject_face_id"] == 0
    answer = server.get(f"/jobs/{status['id']}/csv")
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 2 and list(rows[0])[:len(WINDOW_COLUMNS)] == WINDOW_COLUMNS
    assert [row["top_emotion"] for row in rows] == [w["top_emotion"] for w in report["windows"]]
    frames = list(csv.DictReader(io.StringIO(
        server.get(f"/jobs/{status['id']}/csv", params={"table": "frames"}).text)))
    assert len(frames) == sum(w["n_frames"] for w in report["windows"])


def test_every_client_error_over_http(server, media):
    def detail(answer, code: int) -> str:
        assert answer.status_code == code, answer.text
        return answer.json()["detail"]

    assert "no job 'f00'" in detail(server.get("/jobs/f00"), 404)
    assert "no job" in detail(server.get("/jobs/f00/result"), 404)
    assert "outside the folder" in detail(server.post("/analyze", data={"path": "../../setup.py"}), 403)
    assert "outside the folder" in detail(server.post("/analyze", data={"path": "/etc/hostname"}), 403)
    with open(media["corrupt.mp4"], "rb") as corrupt:
        answer = server.post("/analyze", files={"file": ("corrupt.mp4", corrupt)})
    assert "corrupt.mp4 could not be read" in detail(answer, 422)
    assert "empty (0 bytes)" in detail(server.post("/analyze", data={"path": "empty.mp4"}), 422)
    too_big = b"\0" * (UPLOAD_LIMIT_MB * 1024 ** 2 + 1)
    answer = server.post("/analyze", files={"file": ("big.mp4", too_big)})
    assert "larger than the service's limit of 1 MiB" in detail(answer, 413)
    assert "neither" in detail(server.post("/analyze", data=QUICK), 422)
    assert "needs an API key" in detail(httpx.get(f"{server.base_url}/models"), 401)
    assert "not valid" in detail(httpx.get(f"{server.base_url}/models",
                                           headers={"X-API-Key": "wrong"}), 401)


def test_twenty_requests_at_once(server, media):
    """Half uploads, half server-side paths, all accepted at once and all analysed."""
    photo = media["astronaut.jpg"].read_bytes()

    def submit(number: int) -> httpx.Response:
        if number % 2:
            return server.post("/analyze", files={"file": (f"photo{number}.jpg", photo)})
        return server.post("/analyze", data={"path": "astronaut.jpg"})

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(submit, range(20)))
    assert [answer.status_code for answer in answers] == [202] * 20
    ids = {answer.json()["id"] for answer in answers}
    assert len(ids) == 20
    for job_id in ids:
        status, _ = _wait_for(server, job_id)
        assert status["state"] == "done", status
        assert server.get(f"/jobs/{job_id}/result").json()["summary"]["dominant_emotion"] == "happy"
    assert server.get("/health").json()["jobs"]["failed"] == 0


@pytest.fixture
def app_client(media, tmp_path):
    for name in ("astronaut.jpg", "astronaut.png"):
        media[name]  # made before the service is told the folder
    settings = ServiceSettings(workers=1, allowed_root=media.dir, work_dir=tmp_path,
                               max_upload_bytes=64 * 1024)
    with TestClient(create_app(settings), base_url=LOCAL) as client:
        yield client


def test_docs_health_and_models(app_client):
    spec = app_client.get("/openapi.json").json()
    assert {"/health", "/models", "/analyze", "/jobs/{job_id}", "/jobs/{job_id}/result",
            "/jobs/{job_id}/csv"} <= set(spec["paths"])
    assert app_client.get("/docs").status_code == 200
    assert app_client.get("/health").json()["status"] == "ok"
    models = {entry["name"]: entry for entry in app_client.get("/models").json()}
    for name in ("face", "voice_mfcc"):
        assert models[name]["available"] and models[name]["labels"] == list(EMOTIONS)
        # the shipped file's sha256 and measured results, as written beside it when it was trained
        shipped = json.loads((MODELS_DIR / name / "metrics.json").read_text())
        assert models[name]["weights_sha256"] == shipped["weights_sha256"]
        assert models[name]["metrics"]["validation"]["accuracy"] == pytest.approx(shipped["validation"]["accuracy"])


def test_a_crashing_job_leaves_the_service_running(app_client, monkeypatch):
    real_analyze = jobs_module.analyze

    def analyze_or_crash(path, *args, **kwargs):
        if path.name == "astronaut.png":
            raise RuntimeError("simulated crash")
        return real_analyze(path, *args, **kwargs)

    monkeypatch.setattr(jobs_module, "analyze", analyze_or_crash)
    crashed = app_client.post("/analyze", data={"path": "astronaut.png"}).json()
    status, _ = _wait_for(app_client, crashed["id"])
    assert status["state"] == "failed"
    assert "internal error (RuntimeError: simulated crash)" in status["error"]
    answer = app_client.get(f"/jobs/{crashed['id']}/result")
    assert answer.status_code == 409 and "simulated crash" in answer.json()["detail"]
    fine = app_client.post("/analyze", data={"path": "astronaut.jpg"}).json()
    assert _wait_for(app_client, fine["id"])[0]["state"] == "done"
    assert app_client.get("/health").json()["jobs"] == {"queued": 0, "running": 0, "done": 1,
                                                        "failed": 1, "cancelled": 0}


def test_upload_limit_holds_without_a_content_length(app_client):
    """A chunked upload is cut off once it passes the limit (64 KiB here)."""
    boundary = "studio-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.mp4\"\r\n\r\n").encode()

    def body():
        yield head
        for _ in range(10):
            yield b"\0" * 16 * 1024
        yield f"\r\n--{boundary}--\r\n".encode()

    answer = app_client.post("/analyze", content=body(),
                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert answer.status_code == 413 and "0.0625 MiB" in answer.json()["detail"]


def test_bad_settings_a_full_queue_and_paths_switched_off(app_client, media, tmp_path):
    answer = app_client.post("/analyze", data={"path": "astronaut.jpg", "window": "-1"})
    assert answer.status_code == 422 and "Bad settings" in answer.json()["detail"]
    answer = app_client.post("/analyze", data={"path": "astronaut.jpg", "face": "false",
                                               "audio": "false"})
    assert answer.status_code == 422 and "Every branch is switched off" in answer.json()["detail"]
    with TestClient(create_app(ServiceSettings(work_dir=tmp_path, max_queued=0,
                                               allowed_root=media.dir)), base_url=LOCAL) as full:
        answer = full.post("/analyze", data={"path": "astronaut.jpg"})
        assert answer.status_code == 503 and "try again later" in answer.json()["detail"]
    with TestClient(create_app(ServiceSettings(work_dir=tmp_path)), base_url=LOCAL) as uploads_only:
        answer = uploads_only.post("/analyze", data={"path": "astronaut.jpg"})
        assert answer.status_code == 403 and "--allowed-root" in answer.json()["detail"]
    with TestClient(create_app(ServiceSettings(work_dir=tmp_path, api_key=API_KEY))) as keyed:
        assert keyed.get("/health").status_code == 200
        assert keyed.get("/jobs/f00").status_code == 401
        assert keyed.get("/jobs/f00", headers=KEYED).status_code == 404
