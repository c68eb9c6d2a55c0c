"""Features computed once per dataset and setting, kept on disk as ``.npy`` files.

The key is everything the features depend on (the transform's settings, the augmentation, and
each source file's path, size and modification time), so an edited file or a changed setting
makes a new entry instead of silently reusing stale features.

``cached_rows`` builds an array one row per file, in parallel, and survives interruption: rows
go straight into a memory-mapped ``.partial.npy`` beside a ``.done.npy`` mask, so a stopped run
computes only the missing rows when started again.
"""

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from ..fileio import atomic_path
from ..paths import cache_dir
from .workers import default_workers  # noqa: F401 (here too: the trainers' import)


def file_identity(path: Path) -> list:
    stat = path.stat()
    return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]


def cache_path(name: str, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    return cache_dir() / "features" / f"{name}-{digest[:16]}.npy"


def cached_array(name: str, key: dict, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """The array stored under (name, key), computing and storing it on first use (memory-mapped)."""
    return cached_arrays((name,), key, lambda: (compute(),))[0]


def cached_arrays(names: Sequence[str], key: dict,
                  compute: Callable[[], Sequence[np.ndarray]]) -> list[np.ndarray]:
    """The arrays stored under (name, key) for each of ``names``, made together by one call of
    ``compute`` (one array per name) when any is missing (memory-mapped). Each name is a cache of
    its own, so adding a name to an existing call keeps the arrays stored before."""
    paths = [cache_path(name, key) for name in names]
    if not all(path.exists() for path in paths):
        arrays = compute()
        for path, array in zip(paths, arrays, strict=True):
            if not path.exists():
                with atomic_path(path) as temporary, open(temporary, "wb") as file:
                    np.save(file, array)  # a file object: np.save adds no ".npy" to the temporary name
    return [np.load(path, mmap_mode="r") for path in paths]


# a process pool pays off only past a few dozen files: each worker imports torch and librosa
POOL_MIN_ROWS = 64


def _stored(path: Path, shape: tuple) -> np.ndarray | None:
    """The finished array at ``path`` if it is readable and has ``shape``; else None."""
    try:
        array = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return None
    return array if array.shape == shape else None


def cached_rows(name: str, key: dict, jobs: Sequence, row: Callable, shape: tuple, dtype,
                workers: int = 1, progress: Callable[[int, int], None] | None = None,
                save_every_s: float = 2.0) -> np.ndarray:
    """(len(jobs), *shape) array whose row i is ``row(jobs[i])``, stored under (name, key).

    ``row`` must be a module-level function: with ``workers`` > 1 and enough rows to compute,
    rows are computed in a process pool. ``progress(done, total)`` is first called with the rows already stored, then after
    each new row. A stored file that cannot be read or has another shape is computed again.
    """
    path = cache_path(name, key)
    shape = (len(jobs), *shape)
    stored = _stored(path, shape) if path.exists() else None
    if stored is not None:
        if progress:
            progress(len(jobs), len(jobs))
        return stored
    partial, done_path = path.with_suffix(".partial.npy"), path.with_suffix(".done.npy")
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = _stored(partial, shape) if partial.exists() and done_path.exists() else None
    if rows is not None:
        rows = np.load(partial, mmap_mode="r+")
        done = np.load(done_path)
    else:
        rows = np.lib.format.open_memmap(partial, mode="w+", dtype=dtype, shape=shape)
        done = np.zeros(len(jobs), dtype=bool)
    todo = np.flatnonzero(~done)
    count = len(jobs) - len(todo)
    if progress:
        progress(count, len(jobs))

    def save_mask() -> None:
        rows.flush()  # rows first: the mask never marks a row that is not on disk
        with atomic_path(done_path) as temporary, open(temporary, "wb") as file:
            np.save(file, done)

    saved_at = time.monotonic()
    pool = ProcessPoolExecutor(workers) if workers > 1 and len(todo) >= POOL_MIN_ROWS else None
    try:
        results = (pool.map(row, [jobs[i] for i in todo], chunksize=4) if pool
                   else map(row, (jobs[i] for i in todo)))
        for index, values in zip(todo, results):
            rows[index] = values
            done[index] = True
            count += 1
            if progress:
                progress(count, len(jobs))
            if time.monotonic() - saved_at > save_every_s:
                save_mask()
                saved_at = time.monotonic()
    finally:
        save_mask()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    del rows
    os.replace(partial, path)
    done_path.unlink()
    return np.load(path, mmap_mode="r")
