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


def test_voice_ahead_works_each_window_in_its_own_thread_one_window_ahead():
    from source.analysis.pipeline import voice_ahead

    cut, worked_in = [], []

    def windows():
        for i in range(5):
            cut.append(i)
            yield i

    def work(window):
        worked_in.append(threading.current_thread().name)
        return window * 10

    seen = []
    for window, result in voice_ahead(windows(), work):
        # window n is handed on once window n + 1 is cut (its faces found by the caller meanwhile)
        assert cut == list(range(min(window + 2, 5)))
        seen.append((window, result.result()))
    assert seen == [(i, i * 10) for i in range(5)]
    assert all(name.startswith("voice") for name in worked_in)


def test_voice_ahead_raises_the_work_error_and_stops_when_the_caller_does():
    from source.analysis.pipeline import voice_ahead

    def work(window):
        if window == 1:
            raise ValueError("unreadable audio")
        return window

    ahead = voice_ahead(iter(range(4)), work)
    assert next(ahead)[1].result() == 0
    with pytest.raises(ValueError, match="unreadable audio"):
        next(ahead)[1].result()
    ahead.close()  # the caller stops: no window is cut after


def test_analyze_sets_torch_threads_and_puts_them_back():
    torch = pytest.importorskip("torch")
    from source.analysis.pipeline import torch_threads

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(before + 4):  # never more than the caller allowed (a batch worker's one)
        assert torch.get_num_threads() == before
