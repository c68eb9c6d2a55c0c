"""The studio over HTTP: ``create_app(ServiceSettings(...))`` (FastAPI), run by ``run.py serve``."""

from .app import create_app
from .settings import ServiceSettings

__all__ = ["ServiceSettings", "create_app"]
