"""An iterator computed ahead in a background thread, so two stages run on two cores at once.

The libraries doing the work (CTranslate2 for Whisper, MediaPipe, PyTorch) release the GIL while
they compute, so a thread is enough. The queue is bounded: the producer runs at most ``ahead``
items in front of the consumer, so memory stays flat however long the media is. An exception in
the producer is raised in the consumer; a consumer that stops early (``close``, an error) stops
the producer at its next item.
"""

import queue
import threading
from collections.abc import Iterable, Iterator

_DONE = object()


class Prefetched(Iterator):
    def __init__(self, items: Iterable, ahead: int = 2, name: str = "prefetch"):
        self._queue: queue.Queue = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._produce, args=(iter(items),), name=name, daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, items: Iterator) -> None:
        try:
            for item in items:
                if not self._put((True, item)):
                    return
            self._put((True, _DONE))
        except BaseException as error:  # handed to the consumer, raised there
            self._put((False, error))

    def __next__(self):
        if self._finished:
            raise StopIteration
        ok, item = self._queue.get()
        if ok and item is _DONE:
            self._finished = True
            raise StopIteration
        if not ok:
            self._finished = True
            raise item
        return item

    def close(self) -> None:
        """Stop the producer (at its next item) and wait for it."""
        self._stop.set()
        self._finished = True
        self._thread.join(timeout=30)
