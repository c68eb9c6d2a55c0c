"""Features computed once per dataset and setting, kept on disk as ``.npy`` files.

The key is everything the features depend on (the transform's settings, the augmentation, and
each source file's path, size and modification time), so an edited file or a changed setting
makes a new entry instead of silently reusing stale features.
"""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..analysis.writers import atomic_path
from ..paths import cache_dir


def file_identity(path: Path) -> list:
    stat = path.stat()
    return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]


def cache_path(name: str, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    return cache_dir() / "features" / f"{name}-{digest[:16]}.npy"


def cached_array(name: str, key: dict, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """The array stored under (name, key), computing and storing it on first use (memory-mapped)."""
    path = cache_path(name, key)
    if not path.exists():
        array = compute()
        with atomic_path(path) as temporary, open(temporary, "wb") as file:
            np.save(file, array)  # a file object: np.save adds no ".npy" to the temporary name
    return np.load(path, mmap_mode="r")
