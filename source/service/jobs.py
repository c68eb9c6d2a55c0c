"""Analysis jobs: queued, run by a bounded pool of worker threads, watched through ``analyze``'s
progress callback.

A job's files live in ``<work_dir>/jobs/<id>/``: the upload (deleted once analysed) and the same
outputs ``run.py analyze`` writes. Any exception in a job ends that job as failed with a message;
the other jobs and the service go on. A job runs for at most ``time_limit_s`` and can be cancelled;
both are checked at each progress report of ``analyze`` (after each window), which then stops and
removes its partial files.
"""

import logging
import os
import shutil
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis.pipeline import analyze
from ..errors import StudioError
from ..options import AnalysisOptions

log = logging.getLogger("emotion_studio.service")

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
ENDED = (DONE, FAILED, CANCELLED)


class QueueFull(StudioError):
    """More jobs are waiting than the service accepts."""


class ServiceStopping(StudioError):
    """The service is shutting down and takes no more jobs."""


class JobStopped(StudioError):
    """A running job was cancelled or ran past the time limit."""


@dataclass
class Job:
    id: str
    input_name: str
    folder: Path
    state: str = QUEUED
    stage: str = QUEUED
    done_s: float = 0.0
    total_s: float | None = None
    error: str | None = None
    outputs: dict[str, Path] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    stop_reason: str | None = None  # set to stop the job at its next progress report
    cancelled: bool = False  # stopped on request (DELETE /jobs/{id} or shutdown), not failed
    future: Future | None = field(default=None, repr=False)

    @property
    def progress(self) -> float | None:
        """0-1 of the input analysed; None while unknown (a photo, before the first window)."""
        if self.state == DONE:
            return 1.0
        if self.state == CANCELLED:
            return None
        if self.total_s:
            return round(min(self.done_s / self.total_s, 1.0), 3)
        return None

    def to_dict(self) -> dict:
        return {"id": self.id, "input": self.input_name, "state": self.state, "stage": self.stage,
                "progress": self.progress, "done_s": round(self.done_s, 2), "total_s": self.total_s,
                "error": self.error, "created": self.created, "started": self.started,
                "finished": self.finished,
                "stopping": self.stop_reason is not None and self.state not in ENDED}


class JobManager:
    """Runs jobs ``workers`` at a time and keeps every job of this process's life by id."""

    def __init__(self, work_dir: Path, workers: int, max_queued: int,
                 time_limit_s: float | None = None):
        self.jobs_dir = Path(work_dir) / "jobs"
        self.max_queued = max_queued
        self.time_limit_s = time_limit_s
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._stopping = False
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="analysis")
        self.remove_leftovers()

    def remove_leftovers(self) -> None:
        """Uploads and partial output files an earlier run of the service left behind (it was
        killed): their jobs are forgotten, so nothing could ever remove them."""
        if not self.jobs_dir.is_dir():
            return
        for folder in self.jobs_dir.iterdir():
            if folder.name in self._jobs or not folder.is_dir():
                continue
            shutil.rmtree(folder / "upload", ignore_errors=True)
            for partial in folder.glob(".*.part"):
                partial.unlink(missing_ok=True)

    def new_folder(self) -> tuple[str, Path]:
        """A fresh job id and its (empty) folder, for the upload to be written into."""
        if self._stopping:
            raise ServiceStopping("The service is shutting down; try again when it is back.")
        job_id = uuid.uuid4().hex
        folder = self.jobs_dir / job_id
        folder.mkdir(parents=True)
        return job_id, folder

    def submit(self, job_id: str, folder: Path, path: Path, options: AnalysisOptions,
               owned_input: bool) -> Job:
        """Queue ``path`` for analysis; ``owned_input``: the file is the job's upload, deleted
        once analysed."""
        job = Job(job_id, path.name, folder)
        with self._lock:
            if self._stopping:
                raise ServiceStopping("The service is shutting down; try again when it is back.")
            if self.counts()[QUEUED] >= self.max_queued:
                raise QueueFull(f"{self.max_queued} jobs are already waiting; try again later.")
            self._jobs[job_id] = job
            job.future = self._pool.submit(self._run, job, path, options, owned_input)
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((QUEUED, RUNNING, DONE, FAILED, CANCELLED), 0)
        for job in list(self._jobs.values()):
            counts[job.state] += 1
        return counts

    def cancel(self, job: Job, reason: str = "it was cancelled") -> None:
        """Stop ``job``: a queued one at once (its upload is removed), a running one at its next
        progress report. A job that has ended is left as it is."""
        with self._lock:
            if job.state in ENDED:
                return
            job.stop_reason = reason
            if job.future is not None and job.future.cancel():  # it had not started
                self._end_cancelled(job)
                shutil.rmtree(job.folder, ignore_errors=True)

    def delete(self, job: Job) -> None:
        """Forget an ended job and remove its folder (outputs included)."""
        with self._lock:
            if job.state not in ENDED:
                raise StudioError(f"Job {job.id} is {job.state}; cancel it first.")
            self._jobs.pop(job.id, None)
        shutil.rmtree(job.folder, ignore_errors=True)

    def shutdown(self, grace_s: float = 0.0) -> None:
        """Take no more jobs, drop the queued ones (and their uploads), give the running ones
        ``grace_s`` seconds to finish, then stop them (they remove their partial files and
        uploads) and wait until they have."""
        with self._lock:
            self._stopping = True
        for job in list(self._jobs.values()):
            if job.state == QUEUED:
                self.cancel(job, "the service stopped before it started")
        running = [job.future for job in list(self._jobs.values())
                   if job.future is not None and not job.future.done()]
        if running and grace_s > 0:
            running = list(wait(running, timeout=grace_s).not_done)
        for job in list(self._jobs.values()):
            if job.state == RUNNING:
                job.stop_reason = "the service stopped while it ran"
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _end_cancelled(self, job: Job) -> None:
        job.cancelled = True
        job.state = job.stage = CANCELLED
        job.error = f"The analysis of {job.input_name} was stopped: {job.stop_reason}."
        job.finished = time.time()

    def _run(self, job: Job, path: Path, options: AnalysisOptions, owned_input: bool) -> None:
        job.state, job.stage, job.started = RUNNING, "loading models", time.time()

        def progress(stage: str, done: float, total: float | None) -> None:
            job.stage, job.done_s, job.total_s = stage, done, total
            if (job.stop_reason is None and self.time_limit_s is not None
                    and time.time() - job.started > self.time_limit_s):
                job.stop_reason = f"it ran past the service's time limit of {self.time_limit_s:g} s per job"
            if job.stop_reason is not None:
                raise JobStopped(job.stop_reason)

        try:
            progress("loading models", 0.0, None)  # cancelled or stopping as it was taken
            result = analyze(path, options, job.folder, progress)
            job.outputs = result.outputs
            job.state = job.stage = DONE
        except JobStopped:
            if job.stop_reason.startswith("it ran past"):
                job.error = f"The analysis of {job.input_name} was stopped: {job.stop_reason}."
                job.state = job.stage = FAILED
            else:
                self._end_cancelled(job)
        except StudioError as error:
            job.error, job.state, job.stage = self._private(str(error), job), FAILED, FAILED
        except Exception as error:  # one job's crash must not reach the pool or the server
            log.exception("job %s (%s) crashed", job.id, job.input_name)
            job.error = self._private(f"The analysis of {job.input_name} stopped on an internal "
                                      f"error ({type(error).__name__}: {error}).", job)
            job.state = job.stage = FAILED
        finally:
            job.finished = time.time()
            if owned_input:
                shutil.rmtree(path.parent, ignore_errors=True)

    @staticmethod
    def _private(message: str, job: Job) -> str:
        """``message`` without the server's folders: paths in the job's folder become relative."""
        return message.replace(f"{job.folder.resolve()}{os.sep}", "").replace(f"{job.folder}{os.sep}", "")
