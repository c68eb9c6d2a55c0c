"""Where an analysis spends its time: seconds per stage (decode, face, voice, words, fusion, ...).

Stages are timed exclusively: a decoder's time is only what its ``next()`` takes, so the stage
that pulls frames from it is not charged for the decoding.
"""

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class StageTimes:
    def __init__(self):
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    @contextmanager
    def __call__(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - started)

    def timed(self, items: Iterable, stage: str) -> Iterator:
        """``items``, with the time spent producing each charged to ``stage``."""
        iterator = iter(items)
        while True:
            started = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                self.add(stage, time.perf_counter() - started)
            yield item

    def rounded(self) -> dict[str, float]:
        return {stage: round(seconds, 2) for stage, seconds in self.seconds.items()}
