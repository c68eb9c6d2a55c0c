"""Who is speaking: the tracked face whose lips move while the voice activity detector hears speech.

A face's mouth opening is the gap between its inner lips (MediaPipe landmarks 13 and 14) over the
face's height (forehead 10 to chin 152), so it does not change as the head turns in the picture,
nods or comes closer. Per window, each face's movement is the median change of that opening
between sampled frames a quarter of a second apart (``LAG_S``, the default frame step), both inside
speech (Silero VAD) and both showing the face; a face seen in fewer than ``MIN_FRAMES`` frames of
speech cannot be judged. The median, not the mean: a listener's blink, nod or shift of the jaw
moves the lips in a few frames, a talker's in most. The speaker is the face that moves most, when
it moves at least ``MIN_MOVEMENT`` and clearly more than the next face (``MARGIN`` times);
otherwise nobody is named: no speech, a voice-over with every face still, or faces too alike to
tell. When the two leading faces are too close to call, the previous window's speaker is kept if
it is one of them, so the answer is stable across a turn.

Measured on two-person composites of the talking heads (``bench/speaker.py``, results in
``docs/results/speaker-2026-12-05.md``): talkers move 0.011-0.043, a still, nodding or silent
listener at most 0.007, a listener murmuring along (its own clip at quarter speed) up to 0.021.
A listener that mouths words without sound (a dubbed or muted face) moves like a talker: movement
alone cannot tell the two apart.
"""

from collections.abc import Iterable

import numpy as np

from ..options import SAMPLE_RATE

MIN_SPEECH_RATIO = 0.1  # a window with less speech than this has no speaker
MIN_FRAMES = 3  # sampled frames in speech a face must be seen in to be judged
MIN_MOVEMENT = 0.008  # median |change of the lip gap / face height| over LAG_S for a face to count as talking
MARGIN = 1.5  # the speaker moves this many times more than the next face
LAG_S = 0.25  # the movement is measured between frames this far apart, whatever the frame rate
UPPER_LIP, LOWER_LIP, FOREHEAD, CHIN = 13, 14, 10, 152  # MediaPipe face mesh landmarks


def in_speech(times_s: Iterable[float], start_s: float, segments: list[tuple[int, int]] | None) -> np.ndarray:
    """For each frame time, whether it falls inside the window's speech (``segments`` in samples
    from the window's start)."""
    times = np.asarray(list(times_s), dtype=float) - start_s
    if not segments:
        return np.zeros(len(times), bool)
    samples = times * SAMPLE_RATE
    return np.any([(samples >= a) & (samples < b) for a, b in segments], axis=0)


def mouth_opening(face) -> float:
    """The gap between the inner lips over the face's height (0: lips closed)."""
    points = face.landmarks[:, :2]
    height = float(np.linalg.norm(points[FOREHEAD] - points[CHIN]))
    return float(np.linalg.norm(points[UPPER_LIP] - points[LOWER_LIP])) / height if height > 0 else 0.0


def mouth_movement(frames: list, start_s: float, segments: list[tuple[int, int]] | None) -> dict[int, float]:
    """Per face id: the median absolute change of ``mouth_opening`` between frames ``LAG_S`` apart
    (the nearest sampled frame step), both inside speech and both showing the face; faces seen in
    fewer than ``MIN_FRAMES`` frames inside speech are left out."""
    times = [f.time_s for f in frames]
    speaking = in_speech(times, start_s, segments)
    step = float(np.median(np.diff(times))) if len(times) > 1 else LAG_S
    lag = max(1, round(LAG_S / step)) if step > 0 else 1
    opening: dict[int, list[float | None]] = {}
    for index, frame in enumerate(frames):
        for face in frame.faces:
            opening.setdefault(face.track_id, [None] * len(frames))[index] = mouth_opening(face)
    movement = {}
    for track_id, values in opening.items():
        changes = [abs(values[i + lag] - values[i]) for i in range(len(values) - lag)
                   if values[i] is not None and values[i + lag] is not None and speaking[i] and speaking[i + lag]]
        if sum(v is not None and s for v, s in zip(values, speaking)) >= MIN_FRAMES and changes:
            movement[track_id] = float(np.median(changes))
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
