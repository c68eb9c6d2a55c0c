"""What a running service is allowed to do: one frozen set of settings, made by ``run.py serve``."""

from dataclasses import dataclass
from pathlib import Path

from ..paths import DATA_DIR


@dataclass(frozen=True)
class ServiceSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2  # analyses that run at once; later jobs wait in the queue
    max_queued: int = 100  # jobs waiting beyond this are refused (503) instead of piling up
    max_upload_bytes: int = 1024 ** 3
    allowed_root: Path | None = None  # server-side paths must lie under it; None: uploads only
    api_key: str | None = None  # when set, every request but /health needs it in X-API-Key
    work_dir: Path = DATA_DIR / "service"  # uploads and each job's output files

    def __post_init__(self):
        if self.workers < 1:
            raise ValueError(f"the service needs at least 1 worker, not {self.workers}")
        if self.max_upload_bytes < 1:
            raise ValueError("the upload size limit must be positive")
