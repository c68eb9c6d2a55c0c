"""How many processes compute features by default: one per core, up to 8. Apart from the cache
(which imports numpy) because ``run.py preprocess --help`` shows it."""

import os


def default_workers() -> int:
    return min(os.cpu_count() or 1, 8)
