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
    job_time_limit_s: float = 3600.0  # a job running longer is stopped (checked after each window)
    shutdown_grace_s: float = 30.0  # on shutdown, running jobs get this long before they are stopped
    # Host header names accepted besides the bound address and localhost when no API key is set
    # (a DNS-rebinding page reaches the service under its own name, which is refused)
    allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self):
        if self.workers < 1:
            raise ValueError(f"the service needs at least 1 worker, not {self.workers}")
        if self.max_upload_bytes < 1:
            raise ValueError("the upload size limit must be positive")
        if not 0 < self.job_time_limit_s < float("inf"):
            raise ValueError(f"the job time limit must be a positive number of seconds, not {self.job_time_limit_s}")
        if not 0 <= self.shutdown_grace_s < float("inf"):
            raise ValueError(f"the shutdown grace period must be 0 or more seconds, not {self.shutdown_grace_s}")
