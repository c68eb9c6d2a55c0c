"""Where the studio keeps things: project folders and the git-ignored caches."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
DATA_DIR = PROJECT_ROOT / "data"
# where analyses write by default; ``EMOTION_STUDIO_OUTPUT`` moves it (a server, the browser tests)
OUTPUT_DIR = Path(os.environ.get("EMOTION_STUDIO_OUTPUT", PROJECT_ROOT / "output_files"))
INPUT_DIR = PROJECT_ROOT / "input_files"


def cache_dir() -> Path:
    """Root of the git-ignored cache (assets, features); ``EMOTION_STUDIO_CACHE`` overrides it."""
    return Path(os.environ.get("EMOTION_STUDIO_CACHE", DATA_DIR / "cache"))
