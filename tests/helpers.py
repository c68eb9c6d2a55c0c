"""Helpers shared by test modules: running ``run.py`` in a subprocess, the evaluate JSON keys."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVALUATE_KEYS = {"model", "weights_sha256", "n", "accuracy", "macro_f1", "labels", "per_class",
                 "confusion", "ece"}


def run_py(*args, cache: Path) -> subprocess.CompletedProcess:
    """``python run.py ARGS`` with its own feature cache folder."""
    env = {**os.environ, "EMOTION_STUDIO_CACHE": str(cache)}
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
