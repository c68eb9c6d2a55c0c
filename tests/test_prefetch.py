"""The background-thread prefetch that lets Whisper run beside the face stage."""

import threading
import time

import pytest

from source.analysis.prefetch import Prefetched


def test_items_arrive_in_order_and_errors_reach_the_consumer():
    assert list(Prefetched(range(100), ahead=3)) == list(range(100))

    def failing():
        yield 1
        raise ValueError("broken media")

    stream = Prefetched(failing())
    assert next(stream) == 1
    with pytest.raises(ValueError, match="broken media"):
        next(stream)
    with pytest.raises(StopIteration):
        next(stream)


def test_the_producer_stays_a_bounded_distance_ahead_and_stops_on_close():
    made = []

    def counting():
        for i in range(10_000):
            made.append(i)
            yield i

    stream = Prefetched(counting(), ahead=4)
    assert next(stream) == 0
    time.sleep(0.3)
    assert len(made) <= 1 + 4 + 1  # the one taken, the queue, the one waiting to be put
    stream.close()
    count = len(made)
    time.sleep(0.3)
    assert len(made) == count and not any(t.name == "prefetch" and t.is_alive() for t in threading.enumerate())
