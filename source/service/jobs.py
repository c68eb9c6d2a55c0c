"""Analysis jobs: queued, run by a bounded pool of worker threads, watched through ``analyze``'s
progress callback.

A job's files live in ``<work_dir>/jobs/<id>/``: the upload (deleted once analysed) and the same
outputs ``run.py analyze`` writes. Any exception in a job ends that job as failed with a message;
the other jobs and the service go on.
"""

import logging
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis.pipeline import analyze
from ..errors import StudioError
from ..options import AnalysisOptions

log = logging.getLogger("emotion_studio.service")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class QueueFull(StudioError):
    """More jobs are waiting than the service accepts."""


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

    @property
    def progress(self) -> float | None:
        """0-1 of the input analysed; None while unknown (a photo, before the first window)."""
        if self.state == DONE:
            return 1.0
        if self.total_s:
            return round(min(self.done_s / self.total_s, 1.0), 3)
        return None

    def to_dict(self) -> dict:
        return {"id": self.id, "input": self.input_name, "state": self.state, "stage": self.stage,
                "progress": self.progress, "done_s": round(self.done_s, 2), "total_s": self.total_s,
                "error": self.error, "created": self.created, "started": self.started,
                "finished": self.finished}


class JobManager:
    """Runs jobs ``workers`` at a time and keeps every job of this process's life by id."""

    def __init__(self, work_dir: Path, workers: int, max_queued: int):
        self.jobs_dir = Path(work_dir) / "jobs"
        self.max_queued = max_queued
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="analysis")

    def new_folder(self) -> tuple[str, Path]:
        """A fresh job id and its (empty) folder, for the upload to be written into."""
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
            if self.counts()[QUEUED] >= self.max_queued:
                raise QueueFull(f"{self.max_queued} jobs are already waiting; try again later.")
            self._jobs[job_id] = job
        self._pool.submit(self._run, job, path, options, owned_input)
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((QUEUED, RUNNING, DONE, FAILED), 0)
        for job in list(self._jobs.values()):
            counts[job.state] += 1
        return counts

    def shutdown(self) -> None:
        """Drop the queued jobs; running ones finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: Job, path: Path, options: AnalysisOptions, owned_input: bool) -> None:
        job.state, job.stage, job.started = RUNNING, "loading models", time.time()

        def progress(stage: str, done: float, total: float | None) -> None:
            job.stage, job.done_s, job.total_s = stage, done, total

        try:
            result = analyze(path, options, job.folder, progress)
            job.outputs = result.outputs
            job.state = job.stage = DONE
        except StudioError as error:
            job.error, job.state, job.stage = str(error), FAILED, FAILED
        except Exception as error:  # one job's crash must not reach the pool or the server
            log.exception("job %s (%s) crashed", job.id, job.input_name)
            job.error = (f"The analysis of {job.input_name} stopped on an internal error "
                         f"({type(error).__name__}: {error}).")
            job.state = job.stage = FAILED
        finally:
            job.finished = time.time()
            if owned_input:
                shutil.rmtree(path.parent, ignore_errors=True)
