"""Cut streams of frames and audio into analysis windows, one window at a time.

Only the frames and samples of the windows still open are held, so memory does not grow with
the length of the input. With a hop shorter than the window, windows overlap and share frames.
"""

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ..options import SAMPLE_RATE, WindowOptions
from .decode import Frame


@dataclass
class Window:
    index: int
    start_s: float
    end_s: float
    frames: list[Frame]  # sampled frames with start <= time < end (empty for audio-only input)
    audio: np.ndarray | None  # 16 kHz mono float32, None when the input has no audio
    words: list = field(default_factory=list)  # transcript words, filled by the words branch

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class _AudioBuffer:
    """Samples from a chunk iterator, addressable by absolute sample index."""

    def __init__(self, chunks: Iterator[np.ndarray]):
        self._chunks = chunks
        self._buffer = np.zeros(0, dtype=np.float32)
        self._offset = 0  # absolute index of _buffer[0]
        self.exhausted = False

    def take(self, start: int, stop: int) -> np.ndarray:
        while not self.exhausted and self._offset + self._buffer.size < stop:
            chunk = next(self._chunks, None)
            if chunk is None:
                self.exhausted = True
            else:
                self._buffer = np.concatenate([self._buffer, chunk])
        return self._buffer[max(0, start - self._offset):max(0, stop - self._offset)].copy()

    def drop_before(self, sample: int) -> None:
        cut = min(self._buffer.size, max(0, sample - self._offset))
        self._buffer = self._buffer[cut:]
        self._offset += cut

    @property
    def end(self) -> int:
        return self._offset + self._buffer.size


def iter_windows(
    frames: Iterator[Frame] | None,
    audio: Iterator[np.ndarray] | None,
    options: WindowOptions,
    duration_s: float | None,
) -> Iterator[Window]:
    """Windows of ``options.window_s`` every ``options.hop`` seconds.

    ``duration_s`` (from the probe) is where windows stop; when the streams end earlier (a
    truncated file) the windows stop with them. A last window shorter than
    ``options.min_duration_s`` is dropped rather than analysed on too little evidence.
    """
    pending: deque[Frame] = deque()
    frames_done = frames is None
    sound = _AudioBuffer(audio) if audio is not None else None
    index = 0
    while True:
        start = round(index * options.hop, 6)
        end = start + options.window_s
        if duration_s is not None:
            end = min(end, duration_s)
        while not frames_done and (not pending or pending[-1].time_s < end):
            frame = next(frames, None)
            if frame is None:
                frames_done = True
            else:
                pending.append(frame)
        window_frames = [f for f in pending if start <= f.time_s < end]
        samples = None
        if sound is not None:
            samples = sound.take(round(start * SAMPLE_RATE), round(end * SAMPLE_RATE))
        data_end = max(
            (pending[-1].time_s + 1.0 / options.fps) if pending else 0.0,
            sound.end / SAMPLE_RATE if sound is not None else 0.0,
        )
        streams_done = frames_done and (sound is None or sound.exhausted)
        if streams_done:
            end = min(end, data_end)
        if end - start < options.min_duration_s - 1e-6:
            return
        yield Window(index, start, round(end, 6), window_frames,
                     samples[: round((end - start) * SAMPLE_RATE)] if samples is not None else None)
        index += 1
        next_start = index * options.hop
        while pending and pending[0].time_s < next_start:
            pending.popleft()
        if sound is not None:
            sound.drop_before(round(next_start * SAMPLE_RATE))
