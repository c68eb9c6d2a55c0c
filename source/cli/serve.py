"""``run.py serve``: the HTTP service (FastAPI on uvicorn)."""

import os
from pathlib import Path

from ..service.settings import ServiceSettings

API_KEY_VARIABLE = "EMOTION_STUDIO_API_KEY"  # read from the environment, never the command line
_DEFAULT = ServiceSettings()


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve the studio over HTTP",
        description="Start the HTTP service: POST /analyze, GET /jobs/{id}, GET /models; "
                    "the API docs are at /docs. Set the environment variable "
                    f"{API_KEY_VARIABLE} to require that key in the X-API-Key header.",
    )
    parser.add_argument("--host", default=_DEFAULT.host, help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=_DEFAULT.port, help="port (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=_DEFAULT.workers,
                        help="analyses run at once; more jobs wait in a queue (default: %(default)s)")
    parser.add_argument("--max-upload-mb", type=float, default=_DEFAULT.max_upload_bytes / 1024 ** 2,
                        help="largest upload accepted, MiB (default: %(default)g)")
    parser.add_argument("--allowed-root", type=Path,
                        help="folder whose files may be analysed by server-side path "
                             "(default: none, uploads only)")
    parser.add_argument("--work-dir", type=Path, default=_DEFAULT.work_dir,
                        help="where uploads and job outputs are kept (default: %(default)s)")
    parser.add_argument("--job-time-limit", type=float, default=_DEFAULT.job_time_limit_s, metavar="SECONDS",
                        help="a job running longer is stopped and fails (default: %(default)g)")
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="a Host header name accepted besides the bound address and localhost "
                             "when no API key is set (e.g. the name of a reverse proxy); repeatable")
    parser.set_defaults(func=run)


def run(args) -> int:
    import torch
    import uvicorn

    from ..service.app import create_app

    try:
        settings = ServiceSettings(
            host=args.host, port=args.port, workers=args.workers,
            max_upload_bytes=round(args.max_upload_mb * 1024 ** 2), allowed_root=args.allowed_root,
            api_key=os.environ.get(API_KEY_VARIABLE) or None, work_dir=args.work_dir,
            job_time_limit_s=args.job_time_limit, allowed_hosts=tuple(args.allowed_host))
    except ValueError as error:
        raise SystemExit(f"error: {error}") from error
    # each analysis on one core, --workers of them side by side: PyTorch's thread per core
    # slowed analyses on busy cores many times over (see batch.worker_environment)
    torch.set_num_threads(1)
    print(f"Emotion Studio service on http://{settings.host}:{settings.port} (API docs at /docs), "
          f"{settings.workers} worker(s), API key {'required' if settings.api_key else 'off'}")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)
    return 0
