"""Batch analysis: every media file under a folder analysed once, here or on a Ray cluster.

Each file's outputs go to ``<out>/<its path under the input folder>/`` (a folder named after the
file, so ``a.mp4`` and ``a.wav`` side by side never share outputs). A file whose
``<stem>_analysis.json`` is there is done: ``analyze`` writes that file last and atomically, so
an interrupted batch run again picks up at the first unfinished file. Failed files are tried
again on the next run. ``<out>/summary.csv`` has one row per file.

Workers are long-lived processes (a local process pool, or Ray actors): each imports the
pipeline and its libraries once and then analyses file after file.
"""

import csv
import json
import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from .analysis.pipeline import analyze
from .fileio import atomic_path
from .errors import StudioError
from .labels import EMOTIONS
from .media.probe import SUPPORTED_EXTENSIONS
from .options import AnalysisOptions
from .ray_cluster import start_ray

SUMMARY_NAME = "summary.csv"
SUMMARY_PEOPLE = 4  # per-person columns for the people who speak longest (the default most faces)
PERSON_FIELDS = ("face_id", "dominant_emotion", "speaking_s", "seen_s")
SUMMARY_COLUMNS = ["file", "duration_s", "dominant_emotion", *(f"share_{e}" for e in EMOTIONS),
                   *(f"person{n}_{field}" for n in range(1, SUMMARY_PEOPLE + 1) for field in PERSON_FIELDS),
                   "status", "error"]
ANALYSED, ALREADY_DONE, FAILED = "analysed", "already done", "failed"
WORKER_STOPPED = ("The worker process analysing this file stopped unexpectedly; run the batch "
                  "again to retry it.")
ENGINES = ("local", "ray")


@dataclass(frozen=True)
class BatchFile:
    path: Path  # the media file
    name: str  # its path under the input folder, as the summary shows it
    folder: Path  # where its outputs go

    @property
    def analysis_json(self) -> Path:
        return self.folder / f"{self.path.stem}_analysis.json"


def media_files(input_dir: Path, out_dir: Path) -> list[BatchFile]:
    """Every file under ``input_dir`` with a media extension, hidden ones and the output folder
    left out, in path order."""
    input_dir, out_dir = Path(input_dir), Path(out_dir)
    if not input_dir.is_dir():
        raise StudioError(f"{input_dir} is not a folder.")
    files = []
    for path in sorted(input_dir.rglob("*")):
        relative = path.relative_to(input_dir)
        if (path.suffix.lower() not in SUPPORTED_EXTENSIONS or not path.is_file()
                or any(part.startswith(".") for part in relative.parts)
                or path.resolve().is_relative_to(out_dir.resolve())):
            continue
        files.append(BatchFile(path, relative.as_posix(), out_dir / relative))
    return files


def person_columns(people: list[dict]) -> dict:
    """``person<n>_<field>`` for the people who speak longest (then are seen longest); empty beyond them."""
    ranked = sorted(people, key=lambda p: (-p["speaking_s"], -p["seen_s"], p["face_id"]))
    return {f"person{n}_{field}": "" if n > len(ranked) or ranked[n - 1][field] is None else ranked[n - 1][field]
            for n in range(1, SUMMARY_PEOPLE + 1) for field in PERSON_FIELDS}


def summary_row(file: BatchFile, status: str, duration_s: float | None = None,
                summary: dict | None = None, error: str = "") -> dict:
    shares = (summary or {}).get("emotion_share", {})
    return {"file": file.name, "duration_s": "" if duration_s is None else round(duration_s, 2),
            "dominant_emotion": (summary or {}).get("dominant_emotion") or "",
            **{f"share_{e}": shares.get(e, 0.0) if summary else "" for e in EMOTIONS},
            **person_columns((summary or {}).get("people", [])),
            "status": status, "error": error}


def done_row(file: BatchFile) -> dict | None:
    """The summary row of a file analysed by an earlier run, or None when it is not done."""
    try:
        report = json.loads(file.analysis_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    # an analysis JSON is written whole and last, so a readable one has these keys
    return summary_row(file, ALREADY_DONE, report["input"]["duration_s"], report["summary"])


def analyze_file(file: BatchFile, options: AnalysisOptions) -> dict:
    """Analyse one file (in a worker); every failure becomes the row's error, never a raise."""
    # partial outputs of an earlier run of this file that was killed (each file has its own folder)
    for partial in file.folder.glob(f".{file.path.stem}_*.part"):
        partial.unlink(missing_ok=True)
    try:
        result = analyze(file.path, options, file.folder)
    except StudioError as error:
        return summary_row(file, FAILED, error=str(error))
    except Exception as error:  # one file's crash must not stop the batch
        return summary_row(file, FAILED, error=f"internal error ({type(error).__name__}: {error})")
    return summary_row(file, ANALYSED, result.info.duration_s, result.summary)


@contextmanager
def worker_environment():
    """Worker processes started inside this block use one core each, as Ray's 1-CPU actors do
    (``OMP_NUM_THREADS=1``, read by the libraries' OpenMP as they load): with their default
    of a thread per core, 2 workers on 2 busy cores ran 3.5x slower than this, and the face
    stage of one file 50x slower. More cores are used through more workers."""
    saved = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        if saved is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = saved


def run_local(files: Iterable[BatchFile], options: AnalysisOptions, workers: int,
              report: Callable[[dict], None]) -> None:
    """``workers`` processes, one file each at a time; a process that dies fails only the files
    in flight, and a fresh pool takes the rest."""
    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=get_context("spawn"))

    queue, in_flight = deque(files), {}  # future -> (file, the pool running it)
    with worker_environment():  # the pool starts its processes as files are submitted
        pool = new_pool()
        try:
            while queue or in_flight:
                while queue and len(in_flight) < workers:
                    file = queue.popleft()
                    in_flight[pool.submit(analyze_file, file, options)] = (file, pool)
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    file, its_pool = in_flight.pop(future)
                    try:
                        report(future.result())
                    except BrokenProcessPool:
                        report(summary_row(file, FAILED, error=WORKER_STOPPED))
                        if its_pool is pool:  # replace it once, not once per file it took down
                            pool.shutdown(cancel_futures=True)
                            pool = new_pool()
        finally:
            pool.shutdown(cancel_futures=True)


class AnalysisActor:
    """A Ray actor: one worker process that analyses file after file."""

    def analyze(self, file: BatchFile, options: AnalysisOptions) -> dict:
        return analyze_file(file, options)


def run_ray(files: Iterable[BatchFile], options: AnalysisOptions, workers: int,
            address: str | None, report: Callable[[dict], None]) -> None:
    """``workers`` actors of one CPU each on the cluster at ``address`` (or a local Ray instance
    with ``workers`` CPUs). Every node must see the input and output folders and this checkout
    at the same paths. An actor that dies fails its file and is replaced."""
    import ray

    start_ray(address, workers)
    actor_class = ray.remote(num_cpus=1)(AnalysisActor)
    try:
        idle = [actor_class.remote() for _ in range(workers)]
        queue, in_flight = deque(files), {}
        while queue or in_flight:
            while queue and idle:
                actor, file = idle.pop(), queue.popleft()
                in_flight[actor.analyze.remote(file, options)] = (actor, file)
            finished, _ = ray.wait(list(in_flight), num_returns=1)
            for reference in finished:
                actor, file = in_flight.pop(reference)
                try:
                    report(ray.get(reference))
                    idle.append(actor)
                except ray.exceptions.RayActorError:
                    report(summary_row(file, FAILED, error=WORKER_STOPPED))
                    ray.kill(actor)
                    idle.append(actor_class.remote())
    finally:
        ray.shutdown()


def write_summary(path: Path, rows: Iterable[dict]) -> Path:
    with atomic_path(path) as temporary:
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=SUMMARY_COLUMNS)
            writer.writeheader()
            writer.writerows(sorted(rows, key=lambda row: row["file"]))
    return path


@dataclass(frozen=True)
class BatchPlan:
    todo: list[BatchFile]  # files to analyse in this run
    done: list[dict]  # summary rows of the files an earlier run analysed

    @property
    def total(self) -> int:
        return len(self.todo) + len(self.done)


def plan_batch(input_dir: Path, out_dir: Path, force: bool = False) -> BatchPlan:
    """Every media file under ``input_dir``: done ones (unless ``force``) and those to analyse."""
    todo, done = [], []
    for file in media_files(input_dir, out_dir):
        row = None if force else done_row(file)
        if row is None:
            todo.append(file)
        else:
            done.append(row)
    return BatchPlan(todo, done)


def run_batch(plan: BatchPlan, out_dir: Path, options: AnalysisOptions, engine: str = "local",
              workers: int = 1, address: str | None = None,
              report: Callable[[dict], None] | None = None) -> list[dict]:
    """Analyse ``plan.todo``; ``report(row)`` after each file. ``<out_dir>/summary.csv`` is
    written at the end, and also when the run is interrupted (with the files finished so far).
    Returns every file's summary row."""
    if engine not in ENGINES:
        raise StudioError(f"There is no batch engine {engine!r}: use one of {', '.join(ENGINES)}.")
    if workers < 1:
        raise StudioError(f"A batch needs at least 1 worker, not {workers}.")
    rows = list(plan.done)

    def finished(row: dict) -> None:
        rows.append(row)
        if report is not None:
            report(row)

    try:
        if plan.todo and engine == "ray":
            run_ray(plan.todo, options, workers, address, finished)
        elif plan.todo:
            run_local(plan.todo, options, workers, finished)
    finally:
        write_summary(Path(out_dir) / SUMMARY_NAME, rows)
    return rows
