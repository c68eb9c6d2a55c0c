"""The HTTP service: ``create_app(settings)`` gives the FastAPI app ``run.py serve`` runs.

``POST /analyze`` answers at once with a job id; the analysis runs in the job manager's pool and
``GET /jobs/{id}`` follows it. The result is the same JSON and CSV files ``run.py analyze`` writes
(without plots: the service serves data, and Matplotlib's pyplot is not safe across threads).
"""

import ipaddress
import json
import secrets
import shutil
import socket
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Literal

from fastapi import Depends, FastAPI, File, Form, HTTPException, Security, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import APIKeyHeader
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..analysis.pipeline import check_input
from ..errors import MediaError, StudioError
from ..media.probe import probe
from ..options import AnalysisOptions, FaceOptions, WindowOptions
from ..registry import list_models
from ..text.transcribe import MODELS as WHISPER_MODELS
from .jobs import DONE, ENDED, FAILED, Job, JobManager, QueueFull, ServiceStopping
from .settings import ServiceSettings

_DEFAULT = AnalysisOptions()
_CSV_TABLES = {"windows": "windows_csv", "frames": "frames_csv"}
_COPY_CHUNK = 1024 * 1024
MAX_NAME_BYTES = 200  # an upload's file name, so that "<stem>_transcript.srt" fits the file system
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


class HostCheck:
    """Refuses (400) a request whose Host header names neither this service's address nor
    localhost nor an IP address: a page that rebinds its own DNS name to this machine would
    otherwise read the service from a browser."""

    def __init__(self, app: ASGIApp, names: set[str]):
        self.app, self.names = app, {name.lower() for name in names}

    def allowed(self, host: str) -> bool:
        host = host.strip().lower()
        if host.startswith("["):  # [v6]:port
            name = host[1:host.find("]")] if "]" in host else host
        else:
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        if name in self.names:
            return True
        try:
            ipaddress.ip_address(name)  # DNS rebinding needs a name: an address is safe
        except ValueError:
            return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            if not self.allowed(host):
                refusal = JSONResponse({"detail": f"The Host header {host[:100]!r} is not this "
                                                  "service's address; use its address or "
                                                  "localhost (or start it with --allowed-host)."},
                                       status_code=400)
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


class UploadLimit:
    """Refuses a request body larger than ``limit`` bytes with 413, by its Content-Length up
    front or, without one, as soon as the bytes received pass the limit."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self.app(scope, self._refuse, send)
            return
        received = 0

        async def counted() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                await self._refuse()
            return message

        await self.app(scope, counted, send)

    async def _refuse(self) -> dict:
        raise HTTPException(413, f"The upload is larger than the service's limit of "
                                 f"{self.limit / 1024 ** 2:g} MiB.")


@cache
def model_catalogue() -> list[dict]:
    """Every registered model with its labels and, for trained ones, weights sha256 and metrics
    (read from the weights files once). A model that cannot be loaded is listed with the reason."""
    catalogue = []
    for entry in list_models():
        described = {"name": entry.name, "branch": entry.branch, "description": entry.description}
        try:
            model = entry.load()
        except StudioError as error:
            catalogue.append({**described, "available": False, "error": str(error)})
            continue
        catalogue.append({**described, "available": True, "labels": list(model.labels),
                          # the text model is a lexicon and TextBlob: no weights, nothing measured
                          "weights_sha256": getattr(model, "sha256", None),
                          "metrics": getattr(model, "metrics", None)})
    return catalogue


def analysis_options(window: float, hop: float | None, fps: float, max_faces: int, face: bool,
                     audio: bool, words: bool, whisper_model: str, smooth: int) -> AnalysisOptions:
    try:
        return AnalysisOptions(windows=WindowOptions(window_s=window, hop_s=hop, fps=fps),
                               faces=FaceOptions(max_faces=max_faces), face=face, audio=audio,
                               words=words, whisper_model=whisper_model, smooth_windows=smooth,
                               plots=False)
    except ValueError as error:
        raise HTTPException(422, f"Bad settings: {error}.") from error


def create_app(settings: ServiceSettings = ServiceSettings()) -> FastAPI:
    jobs = JobManager(settings.work_dir, settings.workers, settings.max_queued,
                      settings.job_time_limit_s)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        jobs.shutdown(settings.shutdown_grace_s)

    app = FastAPI(title="Emotion Studio", version=__version__, lifespan=lifespan,
                  description="Emotions over time from faces, voice and words: upload a video, "
                              "audio file or photo, follow the job, fetch the timeline.")
    app.state.jobs = jobs
    app.add_middleware(UploadLimit, limit=settings.max_upload_bytes)
    if not settings.api_key:  # with a key, a rebinding page cannot send it
        names = {settings.host, "localhost", *settings.allowed_hosts}
        if settings.host in _WILDCARD_HOSTS:
            names.add(socket.gethostname())
        app.add_middleware(HostCheck, names=names)
    key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="needed when the service was started with an API key")

    def require_key(key: str | None = Security(key_header)) -> None:
        if settings.api_key and not (key and secrets.compare_digest(key, settings.api_key)):
            raise HTTPException(401, "This service needs an API key: send it in the X-API-Key "
                                     "header." if not key else "The API key is not valid.")

    keyed = [Depends(require_key)]

    def find_job(job_id: str) -> Job:
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"There is no job {job_id!r} (job ids are forgotten when "
                                     "the service restarts).")
        return job

    def finished_output(job: Job, name: str) -> Path:
        if job.state == FAILED:
            raise HTTPException(409, f"Job {job.id} failed: {job.error}")
        if job.state != DONE:
            raise HTTPException(409, f"Job {job.id} is {job.state}; poll GET /jobs/{job.id} "
                                     "until its state is done.")
        if name not in job.outputs:  # e.g. the frames table of an audio file, which has no faces
            raise HTTPException(404, f"Job {job.id} wrote no {name.removesuffix('_csv')} table: its input "
                                     "had no picture to find faces in.")
        return job.outputs[name]

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "version": __version__, "workers": settings.workers,
                "jobs": jobs.counts()}

    @app.get("/models", dependencies=keyed)
    def models() -> list[dict]:
        return model_catalogue()

    @app.post("/analyze", status_code=202, dependencies=keyed)
    def submit(
        file: UploadFile | None = File(None, description="the video, audio file or photo"),
        path: str | None = Form(None, description="instead of an upload: a file on the server, "
                                                  "under the service's allowed folder"),
        window: float = Form(_DEFAULT.windows.window_s, description="window length, seconds"),
        hop: float | None = Form(None, description="seconds between windows (default: window)"),
        fps: float = Form(_DEFAULT.windows.fps, description="video frames sampled per second"),
        max_faces: int = Form(_DEFAULT.faces.max_faces),
        face: bool = Form(_DEFAULT.face, description="analyse faces"),
        audio: bool = Form(_DEFAULT.audio, description="analyse voice (and words)"),
        words: bool = Form(_DEFAULT.words, description="transcribe and score the words"),
        whisper_model: str = Form(_DEFAULT.whisper_model),
        smooth: int = Form(_DEFAULT.smooth_windows, description="windows averaged per window"),
    ) -> dict:
        options = analysis_options(window, hop, fps, max_faces, face, audio, words,
                                   whisper_setting(whisper_model), smooth)
        if (file is None) == (path is None):
            raise HTTPException(422, "Send either a file upload or a server-side path, not "
                                     f"{'both' if file else 'neither'}.")
        name = upload_name(file.filename) if file is not None else None
        source = server_path(path) if path is not None else None
        try:
            job_id, folder = jobs.new_folder()
        except ServiceStopping as error:
            raise HTTPException(503, str(error)) from error
        try:
            if source is None:
                source = folder / "upload" / name
                source.parent.mkdir()
                with open(source, "wb") as out:
                    shutil.copyfileobj(file.file, out, _COPY_CHUNK)
            check_input(probe(source), options)  # a bad file is refused now, not as a job
            job = jobs.submit(job_id, folder, source, options, owned_input=file is not None)
        except BaseException as error:  # nothing of a refused request stays on disk
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(error, (QueueFull, ServiceStopping)):
                raise HTTPException(503, str(error)) from error
            if isinstance(error, StudioError):
                raise HTTPException(422, str(error).replace(f"{folder}/upload/", "")) from error
            raise
        return job.to_dict()

    def server_path(path: str, setting: str = "path") -> Path:
        if settings.allowed_root is None:
            raise HTTPException(403, "This service takes uploads only: it was started without "
                                     "an allowed folder for server-side paths (--allowed-root).")
        if "\0" in path or len(path.encode("utf-8", "replace")) > 4096:
            raise HTTPException(422, f"The {setting} holds a NUL byte or is too long.")
        root = Path(settings.allowed_root).resolve()
        resolved = (root / path).resolve()  # an absolute path stays itself
        if not resolved.is_relative_to(root):
            raise HTTPException(403, f"The {setting} {path} is outside the folder this service "
                                     "may read.")
        return resolved

    def whisper_setting(model: str) -> str:
        """A registered Whisper model's name, or a folder under the allowed root: no other path
        on the server is ever looked at (nor is its existence told)."""
        if model in WHISPER_MODELS:
            return model
        if settings.allowed_root is None:
            raise HTTPException(422, f"Bad settings: whisper_model must be one of "
                                     f"{', '.join(WHISPER_MODELS)}.")
        return str(server_path(model, "whisper_model"))

    def public_report(job: Job, report: dict) -> dict:
        """The analysis JSON with paths relative to the job (or to the allowed root), never the
        server's own folders."""
        folder = job.folder.resolve()
        report["outputs"] = {key: _relative(value, folder) for key, value in report.get("outputs", {}).items()}
        if isinstance(report.get("input"), dict):
            report["input"]["path"] = job.input_name
        whisper = (report.get("settings") or {}).get("whisper_model")
        if whisper and settings.allowed_root is not None and Path(whisper).is_absolute():
            report["settings"]["whisper_model"] = _relative(whisper, Path(settings.allowed_root).resolve())
        return report

    @app.get("/jobs/{job_id}", dependencies=keyed)
    def job_status(job_id: str) -> dict:
        return find_job(job_id).to_dict()

    @app.delete("/jobs/{job_id}", dependencies=keyed)
    def cancel_job(job_id: str) -> dict:
        """Cancel a queued or running job (a running one stops after its current window and
        reports state ``cancelled``); a job that has ended is forgotten and its files removed."""
        job = find_job(job_id)
        if job.state in ENDED:
            jobs.delete(job)
            return {**job.to_dict(), "deleted": True}
        jobs.cancel(job, "it was cancelled (DELETE /jobs/{id})")
        return {**job.to_dict(), "deleted": False}

    @app.get("/jobs/{job_id}/result", dependencies=keyed)
    def job_result(job_id: str) -> dict:
        """The ``<stem>_analysis.json`` file as ``run.py analyze`` writes it, with its paths
        relative to the job."""
        job = find_job(job_id)
        path = finished_output(job, "analysis_json")
        return public_report(job, json.loads(path.read_text(encoding="utf-8")))

    @app.get("/jobs/{job_id}/csv", dependencies=keyed)
    def job_csv(job_id: str, table: Literal["windows", "frames"] = "windows") -> FileResponse:
        """One row per window and face (``windows``) or per sampled frame (``frames``)."""
        path = finished_output(find_job(job_id), _CSV_TABLES[table])
        return FileResponse(path, media_type="text/csv", filename=path.name)

    return app


def upload_name(filename: str | None) -> str:
    """The upload's own file name (never a path), so outputs are named after it; a name with a
    NUL or other control character, or longer than the file system takes, is refused (422)."""
    if filename and any(ord(c) < 32 or ord(c) == 127 for c in filename):
        raise HTTPException(422, "The upload's file name holds a NUL or control character; "
                                 "rename the file.")
    name = Path(filename or "").name
    if len(name.encode("utf-8", "replace")) > MAX_NAME_BYTES:
        raise HTTPException(422, f"The upload's file name is longer than {MAX_NAME_BYTES} bytes; "
                                 "rename the file.")
    return name if name not in ("", ".", "..") else "upload"


def _relative(path: str, folder: Path) -> str:
    resolved = Path(path).resolve()
    return resolved.relative_to(folder).as_posix() if resolved.is_relative_to(folder) else Path(path).name
