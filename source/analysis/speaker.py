"""Who is speaking: the tracked face whose mouth moves while the voice activity detector hears speech.

Per window, each face's mouth movement is the mean absolute change of MediaPipe's ``jaw_open``
blendshape between consecutive sampled frames in which it is seen, counted over the frames that
fall inside speech (Silero VAD); a face not seen in at least ``MIN_FRAMES`` of them cannot be
judged. The speaker is the face that moves most, when it moves at least ``MIN_MOVEMENT`` and clearly
more than the next face (``MARGIN`` times); otherwise nobody is named: no speech, a voice-over with
every face still, or faces too alike to tell. When the two leading faces are too close to call, the
previous window's speaker is kept if it is one of them, so the answer is stable across a turn.
"""

from collections.abc import Iterable

import numpy as np

from ..options import SAMPLE_RATE

MIN_SPEECH_RATIO = 0.1  # a window with less speech than this has no speaker
MIN_FRAMES = 3  # sampled frames in speech a face must be seen in to be judged
MIN_MOVEMENT = 0.02  # mean |change of jaw_open| per sampled frame for a face to count as talking
MARGIN = 1.5  # the speaker moves this many times more than the next face


def in_speech(times_s: Iterable[float], start_s: float, segments: list[tuple[int, int]] | None) -> np.ndarray:
    """For each frame time, whether it falls inside the window's speech (``segments`` in samples
    from the window's start)."""
    times = np.asarray(list(times_s), dtype=float) - start_s
    if not segments:
        return np.zeros(len(times), bool)
    samples = times * SAMPLE_RATE
    return np.any([(samples >= a) & (samples < b) for a, b in segments], axis=0)


def mouth_movement(frames: list, start_s: float, segments: list[tuple[int, int]] | None) -> dict[int, float]:
    """Per face id: the mean absolute change of ``jaw_open`` between consecutive sampled frames
    inside speech (both frames seen); faces seen in fewer than ``MIN_FRAMES`` such frames are left out."""
    speaking = in_speech((f.time_s for f in frames), start_s, segments)
    openness: dict[int, list[float | None]] = {}
    for index, frame in enumerate(frames):
        for face in frame.faces:
            openness.setdefault(face.track_id, [None] * len(frames))[index] = face.expressions["jaw_open"]
    movement = {}
    for track_id, values in openness.items():
        changes = [abs(b - a) for i, (a, b) in enumerate(zip(values, values[1:]))
                   if a is not None and b is not None and speaking[i] and speaking[i + 1]]
        if sum(v is not None and s for v, s in zip(values, speaking)) >= MIN_FRAMES and changes:
            movement[track_id] = float(np.mean(changes))
    return movement


def speaker_of(movement: dict[int, float], speech_ratio: float, previous: int | None = None) -> int | None:
    """The face id of the window's speaker, or None (nobody speaks, or it cannot be told)."""
    if speech_ratio < MIN_SPEECH_RATIO or not movement:
        return None
    ranked = sorted(movement.items(), key=lambda item: -item[1])
    top, top_movement = ranked[0]
    if top_movement < MIN_MOVEMENT:
        return None  # every face is still: a voice-over, or the speaker is off screen
    if len(ranked) == 1 or top_movement >= MARGIN * ranked[1][1]:
        return top
    close = {track_id for track_id, value in ranked if value * MARGIN > top_movement}
    return previous if previous in close else None
